//! Stage changes on an open edit.

use order_domain::{EditChange, EditId, LineId, NewLine, OrderEdit, OrderId, Quantity};

use super::{AddLine, Orders};
use crate::idempotency::ClaimedKey;
use crate::{AppError, RepositoryError};

/// One change to stage (input of [`Orders::stage_edit`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StageChange {
    /// Add a new line (never merged into an existing one).
    AddLine(AddLine),
    /// Set a line's quantity (an existing line, or one added by this edit).
    SetQuantity {
        /// The line.
        line_id: LineId,
        /// Its new quantity; never below what has shipped.
        quantity: Quantity,
    },
    /// Remove a line nothing of which has shipped.
    RemoveLine {
        /// The line.
        line_id: LineId,
    },
}

impl Orders {
    /// Stages `changes`, in order, on an open edit: all of them or none.
    /// Each is checked against the order as the edit would leave it, so a
    /// change that could never be committed is refused now. The order does
    /// not change. A race with another staging of the same edit is retried
    /// from a fresh read.
    ///
    /// # Errors
    /// `NotFound` (order or edit); the domain's `EditNotOpen`, `EditStale`
    /// (the order changed since the edit began), `InvalidStatusTransition`,
    /// `LineNotFound`, `QuantityBelowShipped`, `LineBelowRefunded`,
    /// `OrderEmpty`, `CurrencyMismatch`, `InvalidPrice`, `TooManyLines`,
    /// `TooMany` (past [`OrderEdit::MAX_CHANGES`]), `NoLinesGiven` (no change
    /// given); `Conflict` after endless contention; `Unavailable`.
    pub fn stage_edit(
        &self,
        id: OrderId,
        edit_id: EditId,
        changes: Vec<StageChange>,
        claim: Option<ClaimedKey>,
    ) -> Result<OrderEdit, AppError> {
        if changes.is_empty() {
            return Err(order_domain::DomainError::NoLinesGiven.into());
        }
        // New lines get their ids once, so a retry stages the same lines.
        let changes: Vec<EditChange> = changes
            .into_iter()
            .map(|change| match change {
                StageChange::AddLine(add) => EditChange::AddLine(NewLine {
                    line_id: LineId::from_uuid(self.ports.ids.new_id()),
                    product_id: add.product_id,
                    quantity: add.quantity,
                    unit_price: add.unit_price,
                    snapshot: add.snapshot,
                    tax: add.tax,
                }),
                StageChange::SetQuantity { line_id, quantity } => {
                    EditChange::SetQuantity { line_id, quantity }
                }
                StageChange::RemoveLine { line_id } => EditChange::RemoveLine { line_id },
            })
            .collect();
        self.retrying(|| {
            let (order, mut edit) = self.load_edit(id, edit_id)?;
            let loaded = edit.version();
            let now = self.ports.clock.now();
            for change in &changes {
                order.stage_edit(&mut edit, change.clone(), now)?;
            }
            match self.ports.edits.update(&edit, loaded, claim.as_ref()) {
                Ok(()) => Ok(Some(edit)),
                Err(RepositoryError::Conflict { .. }) => Ok(None),
                Err(RepositoryError::NotFound) => Err(edit_not_found(edit_id)),
                Err(other) => Err(other.into()),
            }
        })
    }
}

/// `NotFound` for an edit.
pub(super) fn edit_not_found(id: EditId) -> AppError {
    AppError::NotFound {
        entity: "edit",
        id: id.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::orders::test_support::*;
    use order_domain::{Currency, LineTax, Money, Order, OrderStatus, ProductSnapshot};

    fn add(quantity: i64) -> StageChange {
        StageChange::AddLine(AddLine {
            product_id: product(),
            quantity: Quantity::new(quantity).unwrap(),
            unit_price: Money::new(1_000, Currency::USD),
            snapshot: ProductSnapshot::default(),
            tax: LineTax::default(),
        })
    }

    fn lower_first_line(order: &Order, to: i64) -> StageChange {
        StageChange::SetQuantity {
            line_id: order.lines()[0].id(),
            quantity: Quantity::new(to).unwrap(),
        }
    }

    #[test]
    fn changes_are_staged_and_saved_against_the_edit_version_read() {
        let order = order_in(OrderStatus::Confirmed);
        let id = order.id();
        let edit = open_edit(&order);
        let edit_id = edit.id();
        let changes = vec![add(2), lower_first_line(&order, 1)];
        let mut ports = Ports::new();
        ports.stored(order);
        ports.edit_stored(edit);
        ports.orders.expect_update().never();
        ports
            .edits
            .expect_update()
            .withf(|e, expected, _| *expected == 1 && e.version() == 3 && e.changes().len() == 2)
            .times(1)
            .returning(|_, _, _| Ok(()));
        let staged = ports
            .build()
            .stage_edit(id, edit_id, changes, None)
            .unwrap();
        assert_eq!(staged.changes().len(), 2);
    }

    #[test]
    fn one_impossible_change_stages_none_of_them() {
        let order = order_in(OrderStatus::Confirmed);
        let id = order.id();
        let edit = open_edit(&order);
        let edit_id = edit.id();
        let gone = StageChange::RemoveLine { line_id: line_id() };
        let mut ports = Ports::new();
        ports.stored(order);
        ports.edit_stored(edit);
        ports.edits.expect_update().never();
        let err = ports
            .build()
            .stage_edit(id, edit_id, vec![add(1), gone], None)
            .unwrap_err();
        assert_eq!(domain_code(&err), "line_not_found");
    }

    #[test]
    fn an_edit_of_another_order_is_not_found() {
        let order = order_in(OrderStatus::Confirmed);
        let other = order_in(OrderStatus::Confirmed);
        let edit = open_edit(&other);
        let edit_id = edit.id();
        let id = order.id();
        let mut ports = Ports::new();
        ports.stored(order);
        ports.edit_stored(edit);
        ports.edits.expect_update().never();
        let err = ports
            .build()
            .stage_edit(id, edit_id, vec![add(1)], None)
            .unwrap_err();
        assert!(matches!(err, AppError::NotFound { entity: "edit", .. }));
    }

    #[test]
    fn staging_after_the_order_moved_on_is_stale() {
        let mut order = order_in(OrderStatus::Confirmed);
        let edit = open_edit(&order);
        order.start_processing(now()).unwrap();
        order.take_events();
        let (id, edit_id) = (order.id(), edit.id());
        let mut ports = Ports::new();
        ports.stored(order);
        ports.edit_stored(edit);
        ports.edits.expect_update().never();
        let err = ports
            .build()
            .stage_edit(id, edit_id, vec![add(1)], None)
            .unwrap_err();
        assert_eq!(domain_code(&err), "edit_stale");
    }

    #[test]
    fn a_lost_race_is_retried_with_the_same_new_line_ids() {
        let order = order_in(OrderStatus::Confirmed);
        let id = order.id();
        let edit = open_edit(&order);
        let edit_id = edit.id();
        let mut ports = Ports::new();
        ports.stored(order);
        ports.edit_stored(edit);
        let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let record = seen.clone();
        ports
            .edits
            .expect_update()
            .times(2)
            .returning(move |e, expected, _| {
                let mut seen = record.lock().unwrap();
                seen.push(e.changes().to_vec());
                if seen.len() == 1 {
                    Err(RepositoryError::Conflict { expected })
                } else {
                    Ok(())
                }
            });
        ports
            .build()
            .stage_edit(id, edit_id, vec![add(1)], None)
            .unwrap();
        let seen = seen.lock().unwrap();
        assert_eq!(seen[0], seen[1]);
    }

    #[test]
    fn no_change_at_all_is_refused() {
        let ports = Ports::new();
        let err = ports
            .build()
            .stage_edit(
                order_id(),
                EditId::from_uuid(uuid::Uuid::now_v7()),
                vec![],
                None,
            )
            .unwrap_err();
        assert_eq!(domain_code(&err), "no_lines_given");
    }
}
