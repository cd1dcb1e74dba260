//! Begin an edit of a confirmed or processing order.

use order_domain::{EditId, OrderEdit, OrderId};

use super::{Orders, Write};
use crate::{AppError, RepositoryError};

impl Orders {
    /// Opens an edit against the order's current version (or, with a
    /// precondition, only if the order is still at that version). The order
    /// does not change; the edit is stored, and the claim (if any) completed
    /// with it.
    ///
    /// # Errors
    /// `NotFound`; `VersionMismatch` when `write.expected_version` is stale;
    /// the domain's `InvalidStatusTransition` (neither confirmed nor
    /// processing), `OrderDeleted`; `Unavailable`.
    pub fn begin_edit(&self, id: OrderId, write: Write) -> Result<OrderEdit, AppError> {
        let order = self.load(id)?;
        if let Some(expected) = write.expected_version {
            if expected != order.version() {
                return Err(AppError::VersionMismatch {
                    expected,
                    actual: order.version(),
                });
            }
        }
        let edit = order.begin_edit(
            EditId::from_uuid(self.ports.ids.new_id()),
            self.ports.clock.now(),
        )?;
        match self.ports.edits.insert(&edit, write.claim.as_ref()) {
            Ok(()) => Ok(edit),
            // Hard-deleted between the read and the insert.
            Err(RepositoryError::NotFound) => Err(super::not_found(id)),
            Err(other) => Err(other.into()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::orders::test_support::*;
    use order_domain::{EditState, OrderStatus};

    #[test]
    fn an_edit_is_begun_against_the_current_version_and_stored() {
        let order = order_in(OrderStatus::Confirmed);
        let (id, version) = (order.id(), order.version());
        let mut ports = Ports::new();
        ports.stored(order);
        ports.orders.expect_update().never();
        ports
            .edits
            .expect_insert()
            .withf(move |e, claim| {
                e.order_id() == id
                    && e.base_version() == version
                    && e.state() == EditState::Open
                    && claim.is_none()
            })
            .times(1)
            .returning(|_, _| Ok(()));
        let edit = ports.build().begin_edit(id, Write::default()).unwrap();
        assert_eq!(edit.base_version(), version);
        assert!(edit.changes().is_empty());
    }

    #[test]
    fn a_pending_order_cannot_be_edited_this_way() {
        let order = order_in(OrderStatus::Pending);
        let id = order.id();
        let mut ports = Ports::new();
        ports.stored(order);
        ports.edits.expect_insert().never();
        let err = ports.build().begin_edit(id, Write::default()).unwrap_err();
        assert_eq!(domain_code(&err), "invalid_order_status");
    }

    #[test]
    fn a_stale_precondition_begins_nothing() {
        let order = order_in(OrderStatus::Processing);
        let (id, version) = (order.id(), order.version());
        let mut ports = Ports::new();
        ports.stored(order);
        ports.edits.expect_insert().never();
        let err = ports
            .build()
            .begin_edit(id, Write::if_version(version - 1))
            .unwrap_err();
        assert_eq!(
            err,
            AppError::VersionMismatch {
                expected: version - 1,
                actual: version
            }
        );
    }
}
