//! Read an edit with its preview.

use order_domain::{EditId, EditPreview, EditState, Order, OrderEdit, OrderId};

use super::stage_edit::edit_not_found;
use super::Orders;
use crate::AppError;

/// An edit as [`Orders::get_edit`] shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EditView {
    /// The edit.
    pub edit: OrderEdit,
    /// The order's current version: the edit is stale once it differs from
    /// the edit's base version.
    pub order_version: u64,
    /// What committing it now would do; `None` unless the edit is open and
    /// the order still at its base version.
    pub preview: Option<EditPreview>,
}

impl Orders {
    /// The edit, and what committing it now would do (its totals before
    /// and after and the difference to pay or refund).
    ///
    /// # Errors
    /// `NotFound` (order or edit); `Unavailable`.
    pub fn get_edit(&self, id: OrderId, edit_id: EditId) -> Result<EditView, AppError> {
        let (order, edit) = self.load_edit(id, edit_id)?;
        let current = edit.state() == EditState::Open && edit.base_version() == order.version();
        let preview = if current {
            // Every staged change was checked against this very version, so
            // a refusal here means the order's rules changed under the edit:
            // show no preview rather than fail the read.
            order.preview_edit(&edit, self.ports.clock.now()).ok()
        } else {
            None
        };
        Ok(EditView {
            order_version: order.version(),
            edit,
            preview,
        })
    }

    /// The order and its edit `edit_id`; an edit of another order is not found.
    pub(super) fn load_edit(
        &self,
        id: OrderId,
        edit_id: EditId,
    ) -> Result<(Order, OrderEdit), AppError> {
        let order = self.load(id)?;
        let edit = self
            .ports
            .edits
            .find(edit_id)?
            .filter(|edit| edit.order_id() == id)
            .ok_or_else(|| edit_not_found(edit_id))?;
        Ok((order, edit))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::orders::test_support::*;
    use order_domain::{EditChange, OrderStatus, Quantity};

    #[test]
    fn an_open_current_edit_shows_its_preview() {
        let order = order_in(OrderStatus::Confirmed);
        let mut edit = open_edit(&order);
        order
            .stage_edit(
                &mut edit,
                EditChange::SetQuantity {
                    line_id: order.lines()[0].id(),
                    quantity: Quantity::new(1).unwrap(),
                },
                now(),
            )
            .unwrap();
        let (id, edit_id) = (order.id(), edit.id());
        let mut ports = Ports::new();
        ports.stored(order);
        ports.edit_stored(edit);
        let view = ports.build().get_edit(id, edit_id).unwrap();
        let preview = view.preview.unwrap();
        // 2 × 50.00 lowered to 1 × 50.00: 50.00 to refund.
        assert_eq!(preview.before.total.amount(), 10_000);
        assert_eq!(preview.after.total.amount(), 5_000);
        assert_eq!(preview.difference.amount(), -5_000);
    }

    #[test]
    fn a_stale_edit_shows_no_preview() {
        let mut order = order_in(OrderStatus::Confirmed);
        let edit = open_edit(&order);
        order.start_processing(now()).unwrap();
        order.take_events();
        let (id, edit_id, version) = (order.id(), edit.id(), order.version());
        let mut ports = Ports::new();
        ports.stored(order);
        ports.edit_stored(edit);
        let view = ports.build().get_edit(id, edit_id).unwrap();
        assert_eq!(view.preview, None);
        assert_eq!(view.order_version, version);
        assert_ne!(view.edit.base_version(), version);
    }

    #[test]
    fn a_missing_edit_is_not_found() {
        let order = order_in(OrderStatus::Confirmed);
        let id = order.id();
        let mut ports = Ports::new();
        ports.stored(order);
        ports.edits.expect_find().returning(|_| Ok(None));
        let err = ports
            .build()
            .get_edit(id, EditId::from_uuid(uuid::Uuid::now_v7()))
            .unwrap_err();
        assert!(matches!(err, AppError::NotFound { entity: "edit", .. }));
    }
}
