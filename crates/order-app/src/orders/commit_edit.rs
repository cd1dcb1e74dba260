//! Commit an edit: apply every staged change to the order at once.

use order_domain::{EditId, EditPreview, Order, OrderId};

use super::{not_found, Orders, Write};
use crate::idempotency::Receipt;
use crate::{AppError, RepositoryError};

impl Orders {
    /// Applies the edit's changes to the order in one change (one version
    /// bump, one `OrderEdited` event with the diff) and marks the edit
    /// committed, both in one write that is a compare-and-set on the edit's
    /// base version: an order changed since the edit began is never edited.
    /// Returns the order as written and what the edit did.
    ///
    /// A write lost to a concurrent one is re-read and decided again, so a
    /// shipment that landed first makes the edit stale, and a concurrent
    /// staging of the same edit is committed with it.
    ///
    /// # Errors
    /// `NotFound` (order or edit); `VersionMismatch` when
    /// `write.expected_version` is not the order's version; the domain's
    /// `EditStale` (the order changed since the edit began), `EditNotOpen`,
    /// `InvalidStatusTransition` and those of `Order::preview_edit`;
    /// `Conflict` after endless contention; `Unavailable`.
    pub fn commit_edit(
        &self,
        id: OrderId,
        edit_id: EditId,
        write: Write,
    ) -> Result<(Order, EditPreview), AppError> {
        self.retrying(|| {
            let (mut order, mut edit) = self.load_edit(id, edit_id)?;
            let loaded = order.version();
            if let Some(expected) = write.expected_version {
                if expected != loaded {
                    return Err(AppError::VersionMismatch {
                        expected,
                        actual: loaded,
                    });
                }
            }
            let edit_version = edit.version();
            let preview = order.commit_edit(&mut edit, self.ports.clock.now())?;
            order.attribute_pending_events(&write.actor);
            let receipt = write
                .claim
                .clone()
                .map(|claim| Receipt { claim, line: None });
            match self
                .ports
                .edits
                .commit(&order, loaded, &edit, edit_version, receipt.as_ref())
            {
                Ok(()) => {
                    // Stored with the order (outbox).
                    order.take_events();
                    Ok(Some((order, preview)))
                }
                Err(RepositoryError::Conflict { .. }) => Ok(None),
                Err(RepositoryError::NotFound) => Err(not_found(id)),
                Err(other) => Err(other.into()),
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::orders::test_support::*;
    use order_domain::{
        EditChange, EditState, FulfillmentId, LineQuantity, NewFulfillment, OrderEdit,
        OrderEventKind, OrderStatus, Quantity,
    };

    /// A processing order and an open edit of it lowering its line to 1.
    fn order_and_edit() -> (Order, OrderEdit) {
        let order = order_in(OrderStatus::Processing);
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
        (order, edit)
    }

    #[test]
    fn the_order_and_the_edit_are_written_together_against_both_versions() {
        let (order, edit) = order_and_edit();
        let (id, edit_id, version) = (order.id(), edit.id(), order.version());
        let mut ports = Ports::new();
        ports.stored(order);
        ports.edit_stored(edit);
        ports.orders.expect_update().never();
        ports
            .edits
            .expect_commit()
            .withf(move |o, expected_order, e, expected_edit, _| {
                *expected_order == version
                    && o.version() == version + 1
                    && o.total().amount() == 5_000
                    && matches!(
                        o.pending_events(),
                        [event] if matches!(event.kind, OrderEventKind::Edited { .. })
                    )
                    && *expected_edit == 2
                    && e.state() == EditState::Committed
            })
            .times(1)
            .returning(|_, _, _, _, _| Ok(()));
        let (order, preview) = ports
            .build()
            .commit_edit(id, edit_id, Write::if_version(version))
            .unwrap();
        assert_eq!(preview.difference.amount(), -5_000);
        assert_eq!(order.lines()[0].quantity().get(), 1);
        assert!(order.pending_events().is_empty());
    }

    #[test]
    fn a_shipment_that_won_the_race_makes_the_edit_stale() {
        let (before, edit) = order_and_edit();
        let (id, edit_id) = (before.id(), edit.id());
        let mut after = before.clone();
        after
            .create_fulfillment(
                NewFulfillment {
                    id: FulfillmentId::from_uuid(uuid::Uuid::now_v7()),
                    lines: vec![LineQuantity {
                        line_id: before.lines()[0].id(),
                        // One of two: the order stays processing, so only its version tells.
                        quantity: Quantity::new(1).unwrap(),
                    }],
                    carrier: None,
                    tracking_number: None,
                },
                now(),
            )
            .unwrap();
        after.take_events();
        let mut ports = Ports::new();
        let mut reads = vec![after, before];
        ports
            .orders
            .expect_find_by_id()
            .times(2)
            .returning(move |_| Ok(reads.pop()));
        ports.edit_stored(edit);
        ports
            .edits
            .expect_commit()
            .times(1)
            .returning(|_, expected, _, _, _| Err(RepositoryError::Conflict { expected }));
        let err = ports
            .build()
            .commit_edit(id, edit_id, Write::default())
            .unwrap_err();
        assert_eq!(domain_code(&err), "edit_stale");
    }

    #[test]
    fn a_stale_if_match_commits_nothing() {
        let (order, edit) = order_and_edit();
        let (id, edit_id, version) = (order.id(), edit.id(), order.version());
        let mut ports = Ports::new();
        ports.stored(order);
        ports.edit_stored(edit);
        ports.edits.expect_commit().never();
        let err = ports
            .build()
            .commit_edit(id, edit_id, Write::if_version(version + 1))
            .unwrap_err();
        assert!(matches!(err, AppError::VersionMismatch { .. }));
    }

    #[test]
    fn a_committed_edit_cannot_be_committed_again() {
        let (mut order, mut edit) = order_and_edit();
        order.commit_edit(&mut edit, now()).unwrap();
        order.take_events();
        let (id, edit_id) = (order.id(), edit.id());
        let mut ports = Ports::new();
        ports.stored(order);
        ports.edit_stored(edit);
        ports.edits.expect_commit().never();
        let err = ports
            .build()
            .commit_edit(id, edit_id, Write::default())
            .unwrap_err();
        assert_eq!(domain_code(&err), "edit_not_open");
    }
}
