//! Order use cases: one file per operation, all methods of [`Orders`].
//!
//! Every mutating use case follows the same shape: load the aggregate, check
//! the caller's version precondition, call one domain method, save with a
//! compare-and-set on the version. Without a precondition a lost race is
//! retried from a fresh read, so concurrent edits are serialised and none is
//! lost; with one, a lost race is the caller's `VersionMismatch`.

mod add_discount;
mod add_line;
mod cancel;
mod confirm;
mod create;
mod delete;
mod fulfil;
mod get;
mod history;
mod list;
mod process;
mod remove_discount;
mod remove_line;
mod ship;
mod update_line;

use std::sync::Arc;

use chrono::{DateTime, Utc};
use order_domain::{Actor, CustomerId, DiscountId, DomainError, LineId, Order, OrderId};

use crate::idempotency::{ClaimedKey, Receipt};
use crate::ports::{Clock, CustomerDirectory, IdGenerator, OrderNumberAllocator, OrderRepository};
use crate::{AppError, RepositoryError};

pub use add_discount::{AddDiscount, DiscountAmount};
pub use add_line::AddLine;
pub use create::CreateOrder;
pub use history::{HistoryPage, RecordedEvent, StoredHistory};
pub use ship::{ReturnLines, ShipLines};

/// How a write use case is applied: its precondition and idempotency.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Write {
    /// Apply only if the order is still at this version; `None` means "the
    /// current version", with lost races retried.
    pub expected_version: Option<u64>,
    /// Complete this idempotency claim with the written order, in the
    /// write's transaction.
    pub claim: Option<ClaimedKey>,
    /// Who makes the change; recorded on its event (anonymous by default).
    pub actor: Actor,
}

impl Write {
    /// A write that requires the order to be at `version`.
    #[must_use]
    pub fn if_version(version: u64) -> Self {
        Self {
            expected_version: Some(version),
            ..Self::default()
        }
    }
}

/// What a domain change returns, so the stored outcome can name the line it touched.
pub trait ChangeOutcome {
    /// The line the change touched, if it is about one line.
    fn line(&self) -> Option<LineId>;
}

impl ChangeOutcome for () {
    fn line(&self) -> Option<LineId> {
        None
    }
}

impl ChangeOutcome for LineId {
    fn line(&self) -> Option<LineId> {
        Some(*self)
    }
}

// A shipment or return is named by the order's last one (they only grow).
impl ChangeOutcome for order_domain::FulfillmentId {
    fn line(&self) -> Option<LineId> {
        None
    }
}

impl ChangeOutcome for order_domain::ReturnId {
    fn line(&self) -> Option<LineId> {
        None
    }
}

/// A discount change names no line: the answer names the discount, which is
/// always the order's last one after `add_discount`.
impl ChangeOutcome for DiscountId {
    fn line(&self) -> Option<LineId> {
        None
    }
}

/// The ports the order use cases need.
#[derive(Clone)]
pub struct OrderPorts {
    /// Stores orders.
    pub orders: Arc<dyn OrderRepository>,
    /// Allocates order numbers.
    pub numbers: Arc<dyn OrderNumberAllocator>,
    /// Answers whether a customer exists.
    pub customers: Arc<dyn CustomerDirectory>,
    /// The current time.
    pub clock: Arc<dyn Clock>,
    /// Makes ids.
    pub ids: Arc<dyn IdGenerator>,
}

impl std::fmt::Debug for OrderPorts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OrderPorts").finish_non_exhaustive()
    }
}

/// Every use case of the Order context.
///
/// [`Orders::restricted_to`] gives the same use cases for one customer's
/// orders only (a customer-bound key): other orders are not found, lists are
/// filtered by the store, orders can be opened for that customer only.
#[derive(Clone)]
pub struct Orders {
    ports: OrderPorts,
    /// The only customer whose orders these use cases see, if restricted.
    customer: Option<CustomerId>,
}

impl std::fmt::Debug for Orders {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Orders").finish_non_exhaustive()
    }
}

impl Orders {
    /// How often a use case without a version precondition re-reads and
    /// retries after losing a race, before it gives up with `Conflict`.
    pub const MAX_ATTEMPTS: usize = 64;

    /// Wires the use cases to their ports.
    #[must_use]
    pub fn new(ports: OrderPorts) -> Self {
        Self {
            ports,
            customer: None,
        }
    }

    /// The same use cases, seeing only `customer`'s orders (`None`: all).
    ///
    /// Another customer's order answers `NotFound`, exactly like a missing
    /// one, so a restricted caller cannot even learn that it exists.
    #[must_use]
    pub fn restricted_to(&self, customer: Option<CustomerId>) -> Self {
        Self {
            ports: self.ports.clone(),
            customer,
        }
    }

    /// The customer these use cases are restricted to, if any.
    #[must_use]
    pub const fn restriction(&self) -> Option<CustomerId> {
        self.customer
    }

    /// Whether a restricted caller may see `order` (always, unrestricted).
    fn visible(&self, order: &Order) -> bool {
        self.customer.is_none_or(|c| order.customer_id() == c)
    }

    fn load(&self, id: OrderId) -> Result<Order, AppError> {
        self.ports
            .orders
            .find_by_id(id)?
            .filter(|order| self.visible(order))
            .ok_or_else(|| not_found(id))
    }

    /// Load, check the precondition, change, save; retried on a lost race
    /// when the caller gave no precondition.
    fn modify<T: ChangeOutcome>(
        &self,
        id: OrderId,
        write: &Write,
        mut change: impl FnMut(&mut Order, DateTime<Utc>) -> Result<T, DomainError>,
    ) -> Result<(Order, T), AppError> {
        let expected_version = write.expected_version;
        for _ in 0..Self::MAX_ATTEMPTS {
            let mut order = self.load(id)?;
            let loaded = order.version();
            if let Some(expected) = expected_version {
                if expected != loaded {
                    return Err(AppError::VersionMismatch {
                        expected,
                        actual: loaded,
                    });
                }
            }
            let value = change(&mut order, self.ports.clock.now())?;
            if order.version() == loaded {
                // A no-op (e.g. setting the quantity a line already has): nothing to write.
                return Ok((order, value));
            }
            order.attribute_pending_events(&write.actor);
            let receipt = write.claim.clone().map(|claim| Receipt {
                claim,
                line: value.line(),
            });
            match self.ports.orders.update(&order, loaded, receipt.as_ref()) {
                Ok(()) => {
                    // The repository stored the events with the order (outbox).
                    order.take_events();
                    return Ok((order, value));
                }
                Err(RepositoryError::Conflict { .. }) => {
                    if let Some(expected) = expected_version {
                        let actual = self.load(id)?.version();
                        return Err(AppError::VersionMismatch { expected, actual });
                    }
                }
                Err(RepositoryError::NotFound) => return Err(not_found(id)),
                Err(other) => return Err(other.into()),
            }
        }
        Err(AppError::Conflict(crate::ConflictDetail::retryable(
            format!("order {id} is being changed by too many writers at once; retry"),
        )))
    }
}

fn not_found(id: impl ToString) -> AppError {
    AppError::NotFound {
        entity: "order",
        id: id.to_string(),
    }
}

#[cfg(test)]
pub(crate) mod test_support;
#[cfg(test)]
mod transitions_tests;
