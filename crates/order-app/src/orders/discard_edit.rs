//! Discard an open edit.

use order_domain::{EditId, OrderEdit, OrderId};

use super::stage_edit::edit_not_found;
use super::Orders;
use crate::{AppError, RepositoryError};

impl Orders {
    /// Throws an open edit away; the order never changed, so nothing else
    /// does. A race with a staging of the same edit is retried.
    ///
    /// # Errors
    /// `NotFound` (order or edit); the domain's `EditNotOpen`; `Conflict`
    /// after endless contention; `Unavailable`.
    pub fn discard_edit(&self, id: OrderId, edit_id: EditId) -> Result<OrderEdit, AppError> {
        self.retrying(|| {
            let (_, mut edit) = self.load_edit(id, edit_id)?;
            let loaded = edit.version();
            edit.discard(self.ports.clock.now())?;
            match self.ports.edits.update(&edit, loaded, None) {
                Ok(()) => Ok(Some(edit)),
                Err(RepositoryError::Conflict { .. }) => Ok(None),
                Err(RepositoryError::NotFound) => Err(edit_not_found(edit_id)),
                Err(other) => Err(other.into()),
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use crate::orders::test_support::*;
    use order_domain::{EditState, OrderStatus};

    #[test]
    fn an_open_edit_is_discarded_and_the_order_left_alone() {
        let order = order_in(OrderStatus::Confirmed);
        let edit = open_edit(&order);
        let (id, edit_id) = (order.id(), edit.id());
        let mut ports = Ports::new();
        ports.stored(order);
        ports.edit_stored(edit);
        ports.orders.expect_update().never();
        ports
            .edits
            .expect_update()
            .withf(|e, expected, _| *expected == 1 && e.state() == EditState::Discarded)
            .times(1)
            .returning(|_, _, _| Ok(()));
        let edit = ports.build().discard_edit(id, edit_id).unwrap();
        assert_eq!(edit.state(), EditState::Discarded);
    }

    #[test]
    fn a_discarded_edit_cannot_be_discarded_again() {
        let order = order_in(OrderStatus::Confirmed);
        let mut edit = open_edit(&order);
        edit.discard(now()).unwrap();
        let (id, edit_id) = (order.id(), edit.id());
        let mut ports = Ports::new();
        ports.stored(order);
        ports.edit_stored(edit);
        ports.edits.expect_update().never();
        let err = ports.build().discard_edit(id, edit_id).unwrap_err();
        assert_eq!(domain_code(&err), "edit_not_open");
    }
}
