//! Order use cases: one file per operation, all methods of [`Orders`].
//!
//! Every mutating use case follows the same shape: load the aggregate, check
//! the caller's version precondition, call one domain method, save with a
//! compare-and-set on the version. Without a precondition a lost race is
//! retried from a fresh read, after a short randomised back-off
//! ([`Backoff`]), a few times ([`Orders::MAX_ATTEMPTS`]), so concurrent edits
//! are serialised and none is lost; with one, a lost race is the caller's
//! `VersionMismatch`.

mod add_discount;
mod add_line;
mod begin_edit;
mod cancel;
mod commit_edit;
mod confirm;
mod create;
mod delete;
mod discard_edit;
mod fulfil;
mod get;
mod get_edit;
mod history;
mod list;
mod process;
mod remove_discount;
mod remove_line;
mod ship;
mod stage_edit;
mod update_line;

use std::hash::BuildHasher;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use order_domain::{Actor, CustomerId, DiscountId, DomainError, LineId, Order, OrderId};

use crate::idempotency::{ClaimedKey, Receipt};
use crate::ports::{
    Clock, ContentionObserver, CustomerDirectory, IdGenerator, OrderEditRepository,
    OrderNumberAllocator, OrderRepository,
};
use crate::{AppError, RepositoryError};

pub use add_discount::{AddDiscount, DiscountAmount};
pub use add_line::AddLine;
pub use create::CreateOrder;
pub use get_edit::EditView;
pub use history::{HistoryPage, RecordedEvent, StoredHistory};
pub use ship::{ReturnLines, ShipLines};
pub use stage_edit::StageChange;

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
    /// Stores edits after confirmation and commits them.
    pub edits: Arc<dyn OrderEditRepository>,
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

/// How long a writer that lost a race waits before its next attempt:
/// exponential, capped, with full jitter (a uniformly random pause between
/// zero and the ceiling), so writers that collided do not collide again in
/// lock-step.
///
/// ```
/// use std::time::Duration;
/// use order_app::Backoff;
/// let backoff = Backoff { first: Duration::from_millis(2), cap: Duration::from_millis(10) };
/// assert_eq!(backoff.ceiling(0), Duration::from_millis(2));
/// assert_eq!(backoff.ceiling(2), Duration::from_millis(8));
/// assert_eq!(backoff.ceiling(9), Duration::from_millis(10));
/// assert!(backoff.pause(1, u64::MAX) <= Duration::from_millis(4));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    /// The ceiling of the first pause.
    pub first: Duration,
    /// No pause is longer than this.
    pub cap: Duration,
}

impl Backoff {
    /// 1 ms doubling up to 25 ms: with [`Orders::MAX_ATTEMPTS`] attempts a
    /// writer waits at most about 1.5 s in all (half that on average) before
    /// it gives up.
    pub const DEFAULT: Self = Self {
        first: Duration::from_millis(1),
        cap: Duration::from_millis(25),
    };

    /// The longest pause before retry number `retry` (0 for the first retry).
    #[must_use]
    pub fn ceiling(&self, retry: u32) -> Duration {
        let factor = 1_u32.checked_shl(retry).unwrap_or(u32::MAX);
        self.first.saturating_mul(factor).min(self.cap)
    }

    /// The pause before retry number `retry`, drawn from `random` (any
    /// value, uniformly distributed): between zero and [`Backoff::ceiling`].
    #[must_use]
    pub fn pause(&self, retry: u32, random: u64) -> Duration {
        let ceiling = u64::try_from(self.ceiling(retry).as_micros()).unwrap_or(u64::MAX);
        Duration::from_micros(random % ceiling.saturating_add(1))
    }
}

impl Default for Backoff {
    fn default() -> Self {
        Self::DEFAULT
    }
}

/// What counts lost races when nobody asked to (tests, tools).
#[derive(Debug)]
struct Unobserved;

impl ContentionObserver for Unobserved {
    fn retried(&self) {}
    fn exhausted(&self) {}
}

/// A random number for the back-off's jitter. `RandomState` is seeded from
/// the OS once per thread and advanced for each new one: plenty for
/// spreading retries, and no dependency for it.
fn jitter() -> u64 {
    std::collections::hash_map::RandomState::new().hash_one(0_u8)
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
    /// Pauses between attempts after a lost race.
    backoff: Backoff,
    /// Told of every lost race (a metric).
    contention: Arc<dyn ContentionObserver>,
}

impl std::fmt::Debug for Orders {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Orders").finish_non_exhaustive()
    }
}

impl Orders {
    /// How often a use case without a version precondition tries its write
    /// (re-reading after each lost race, with a [`Backoff`] pause), before it
    /// gives up with a retryable `Conflict`.
    pub const MAX_ATTEMPTS: usize = 64;

    /// Wires the use cases to their ports, with [`Backoff::DEFAULT`] and no
    /// contention metric.
    #[must_use]
    pub fn new(ports: OrderPorts) -> Self {
        Self {
            ports,
            customer: None,
            backoff: Backoff::DEFAULT,
            contention: Arc::new(Unobserved),
        }
    }

    /// The same use cases, telling `observer` of every lost race.
    #[must_use]
    pub fn observed_by(mut self, observer: Arc<dyn ContentionObserver>) -> Self {
        self.contention = observer;
        self
    }

    /// The same use cases, pausing by `backoff` between attempts.
    #[must_use]
    pub fn with_backoff(mut self, backoff: Backoff) -> Self {
        self.backoff = backoff;
        self
    }

    /// The same use cases, seeing only `customer`'s orders (`None`: all).
    ///
    /// Another customer's order answers `NotFound`, exactly like a missing
    /// one, so a restricted caller cannot even learn that it exists.
    #[must_use]
    pub fn restricted_to(&self, customer: Option<CustomerId>) -> Self {
        Self {
            customer,
            ..self.clone()
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
        for attempt in 0..Self::MAX_ATTEMPTS {
            if let Some(retry) = attempt.checked_sub(1) {
                // Lost the previous race: wait a little, randomly, so the
                // writers that collided spread out instead of colliding again.
                self.contention.retried();
                let retry = u32::try_from(retry).unwrap_or(u32::MAX);
                std::thread::sleep(self.backoff.pause(retry, jitter()));
            }
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
        self.contention.exhausted();
        Err(AppError::Conflict(crate::ConflictDetail::retryable(
            format!("order {id} is being changed by too many writers at once; retry"),
        )))
    }

    /// Runs `attempt` until it decides (`Ok(Some)` or an error), after the
    /// same randomised back-off as [`Orders::modify`] whenever it lost a
    /// race (`Ok(None)`): each attempt re-reads, so the rules are checked
    /// again against whatever won.
    fn retrying<T>(
        &self,
        mut attempt: impl FnMut() -> Result<Option<T>, AppError>,
    ) -> Result<T, AppError> {
        for round in 0..Self::MAX_ATTEMPTS {
            if let Some(retry) = round.checked_sub(1) {
                self.contention.retried();
                let retry = u32::try_from(retry).unwrap_or(u32::MAX);
                std::thread::sleep(self.backoff.pause(retry, jitter()));
            }
            if let Some(done) = attempt()? {
                return Ok(done);
            }
        }
        self.contention.exhausted();
        Err(AppError::Conflict(crate::ConflictDetail::retryable(
            "the order or its edit is being changed by too many writers at once; retry",
        )))
    }
}

#[cfg(test)]
mod backoff_tests {
    use super::*;

    #[test]
    fn the_ceiling_doubles_from_the_first_pause_up_to_the_cap() {
        let backoff = Backoff::DEFAULT;
        let ceilings: Vec<u64> = (0..9)
            .map(|retry| backoff.ceiling(retry).as_millis() as u64)
            .collect();
        assert_eq!(ceilings, [1, 2, 4, 8, 16, 25, 25, 25, 25]);
        assert_eq!(backoff.ceiling(u32::MAX), backoff.cap, "no overflow");
    }

    #[test]
    fn a_pause_is_random_between_zero_and_the_ceiling() {
        let backoff = Backoff::DEFAULT;
        assert_eq!(backoff.pause(3, 0), Duration::ZERO);
        assert_eq!(backoff.pause(3, 8_000), backoff.ceiling(3));
        for retry in 0..12 {
            for _ in 0..50 {
                assert!(backoff.pause(retry, jitter()) <= backoff.ceiling(retry));
            }
        }
        let pauses: std::collections::HashSet<_> =
            (0..50).map(|_| backoff.pause(6, jitter())).collect();
        assert!(pauses.len() > 10, "the jitter varies: {pauses:?}");
    }

    #[test]
    fn every_lost_race_is_counted_and_the_give_up_too() {
        use std::sync::atomic::{AtomicUsize, Ordering};
        #[derive(Default)]
        struct Count(AtomicUsize, AtomicUsize);
        impl ContentionObserver for Count {
            fn retried(&self) {
                self.0.fetch_add(1, Ordering::SeqCst);
            }
            fn exhausted(&self) {
                self.1.fetch_add(1, Ordering::SeqCst);
            }
        }
        let order = super::test_support::pending_order_with_line();
        let id = order.id();
        let mut ports = super::test_support::Ports::new();
        ports.stored(order);
        ports
            .orders
            .expect_update()
            .times(Orders::MAX_ATTEMPTS)
            .returning(|_, v, _| Err(RepositoryError::Conflict { expected: v }));
        let count = Arc::new(Count::default());
        let orders = ports.build().observed_by(count.clone());
        match orders.confirm(id, Write::default()) {
            Err(AppError::Conflict(detail)) => assert!(detail.is_retryable()),
            other => panic!("expected a retryable conflict, got {other:?}"),
        }
        assert_eq!(count.0.load(Ordering::SeqCst), Orders::MAX_ATTEMPTS - 1);
        assert_eq!(count.1.load(Ordering::SeqCst), 1);
    }

    #[test]
    fn the_whole_give_up_path_waits_at_most_about_a_second_and_a_half() {
        let total: Duration = (0..Orders::MAX_ATTEMPTS as u32 - 1)
            .map(|retry| Backoff::DEFAULT.ceiling(retry))
            .sum();
        assert!(total < Duration::from_millis(1600), "{total:?}");
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
