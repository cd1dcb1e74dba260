//! Edits after confirmation: begin, stage, preview, commit (see [`crate::OrderEdit`]).

use chrono::{DateTime, Utc};

use super::Priced;
use crate::{
    DomainError, EditChange, EditDiff, EditId, EditPreview, FulfillmentStatus, Order, OrderAction,
    OrderEdit, OrderEventKind, OrderLine, OrderStatus,
};

/// The order's lines and prices as an edit would leave them.
struct Outcome {
    priced: Priced,
    preview: EditPreview,
}

impl Order {
    /// Opens an edit of a `confirmed` or `processing` order against its
    /// current version. Nothing about the order changes.
    ///
    /// # Errors
    /// `InvalidStatusTransition` for any other status; `OrderDeleted`.
    pub fn begin_edit(&self, id: EditId, now: DateTime<Utc>) -> Result<OrderEdit, DomainError> {
        self.ensure_edit_allowed()?;
        Ok(OrderEdit::begin(id, self.id, self.version, now))
    }

    /// Stages one more change on `edit`, after checking that the edit with
    /// it still applies to this order. The order itself does not change.
    ///
    /// # Errors
    /// `EditNotOpen`; `EditStale` when the order moved on since the edit began;
    /// `InvalidStatusTransition` when the order can no longer be edited;
    /// `TooMany` past [`OrderEdit::MAX_CHANGES`]; and whatever applying the
    /// changes would raise (see [`Order::preview_edit`]).
    pub fn stage_edit(
        &self,
        edit: &mut OrderEdit,
        change: EditChange,
        now: DateTime<Utc>,
    ) -> Result<(), DomainError> {
        self.ensure_edit_applies(edit)?;
        if edit.changes().len() >= OrderEdit::MAX_CHANGES {
            return Err(DomainError::TooMany {
                what: "staged changes in one edit",
                max: OrderEdit::MAX_CHANGES,
            });
        }
        let mut changes = edit.changes().to_vec();
        changes.push(change.clone());
        self.outcome(&changes, now)?;
        edit.push(change, now);
        Ok(())
    }

    /// What committing `edit` now would do: per-line diff, totals before and
    /// after, and the difference to pay (positive) or refund (negative).
    ///
    /// # Errors
    /// `EditNotOpen`; `EditStale`; `InvalidStatusTransition`; `LineNotFound`;
    /// `LineAlreadyExists`; `InvalidPrice`; `CurrencyMismatch`; `TooManyLines`;
    /// `QuantityBelowShipped` (a line below what has shipped, or removing a
    /// line that shipped); `OrderEmpty` when no line would be left;
    /// `DiscountExceedsAmount`; `LineBelowRefunded`.
    pub fn preview_edit(
        &self,
        edit: &OrderEdit,
        now: DateTime<Utc>,
    ) -> Result<EditPreview, DomainError> {
        self.ensure_edit_applies(edit)?;
        Ok(self.outcome(edit.changes(), now)?.preview)
    }

    /// Applies every staged change at once: one version bump, one
    /// `OrderEdited` event with the diff. A processing order left with
    /// nothing unshipped (and something shipped) becomes `fulfilled` in the
    /// same change. The edit is marked committed.
    ///
    /// # Errors
    /// Those of [`Order::preview_edit`]; `EditEmpty` when the edit would
    /// change no line. Nothing changes on error.
    pub fn commit_edit(
        &mut self,
        edit: &mut OrderEdit,
        now: DateTime<Utc>,
    ) -> Result<EditPreview, DomainError> {
        self.ensure_edit_applies(edit)?;
        let Outcome { priced, preview } = self.outcome(edit.changes(), now)?;
        if preview.diff.is_empty() {
            return Err(DomainError::EditEmpty);
        }
        self.apply(priced);
        if self.status == OrderStatus::Processing
            && !self.fulfillments.is_empty()
            && self.fulfillment_status() == FulfillmentStatus::Fulfilled
        {
            self.status = OrderStatus::Fulfilled;
            self.fulfilled_at = Some(now);
        }
        self.record(
            now,
            OrderEventKind::Edited {
                edit_id: edit.id(),
                diff: preview.diff.clone(),
                before: preview.before,
                after: preview.after,
                difference: preview.difference,
                status: self.status,
            },
        );
        edit.mark_committed(now);
        Ok(preview)
    }

    fn ensure_edit_allowed(&self) -> Result<(), DomainError> {
        self.ensure_not_deleted()?;
        if matches!(
            self.status,
            OrderStatus::Confirmed | OrderStatus::Processing
        ) {
            Ok(())
        } else {
            Err(DomainError::InvalidStatusTransition {
                from: self.status,
                action: OrderAction::Edit,
            })
        }
    }

    fn ensure_edit_applies(&self, edit: &OrderEdit) -> Result<(), DomainError> {
        edit.ensure_open()?;
        if edit.order_id() != self.id {
            return Err(DomainError::CorruptOrder(format!(
                "edit {} belongs to order {}, not {}",
                edit.id(),
                edit.order_id(),
                self.id
            )));
        }
        self.ensure_edit_allowed()?;
        if edit.base_version() != self.version {
            return Err(DomainError::EditStale {
                base: edit.base_version(),
                current: self.version,
            });
        }
        Ok(())
    }

    fn outcome(&self, changes: &[EditChange], now: DateTime<Utc>) -> Result<Outcome, DomainError> {
        let shipped = |line_id| self.progress(line_id).map_or(0, |p| p.shipped);
        let mut lines = self.lines.clone();
        for change in changes {
            match change {
                EditChange::AddLine(new) => {
                    self.ensure_currency(new.unit_price)?;
                    if lines.iter().any(|l| l.id() == new.line_id) {
                        return Err(DomainError::LineAlreadyExists(new.line_id));
                    }
                    if lines.len() >= Self::MAX_LINES {
                        return Err(DomainError::TooManyLines {
                            max: Self::MAX_LINES,
                        });
                    }
                    lines.push(OrderLine::new(new.clone(), now)?);
                }
                EditChange::SetQuantity { line_id, quantity } => {
                    let index = position(&lines, *line_id)?;
                    let shipped = shipped(*line_id);
                    if quantity.get() < shipped {
                        return Err(DomainError::QuantityBelowShipped {
                            line_id: *line_id,
                            shipped,
                        });
                    }
                    if lines[index].quantity() != *quantity {
                        lines[index] = lines[index].with_quantity(*quantity, now)?;
                    }
                }
                EditChange::RemoveLine { line_id } => {
                    let index = position(&lines, *line_id)?;
                    let shipped = shipped(*line_id);
                    if shipped > 0 {
                        return Err(DomainError::QuantityBelowShipped {
                            line_id: *line_id,
                            shipped,
                        });
                    }
                    lines.remove(index);
                }
            }
        }
        if lines.is_empty() {
            return Err(DomainError::OrderEmpty);
        }
        let priced = Priced::compute(self.currency, self.tax_mode, &lines, &self.discounts)?;
        for line in &priced.lines {
            if let Some(progress) = self.progress(line.id()) {
                if progress.refunded.amount() > line.total().amount() {
                    return Err(DomainError::LineBelowRefunded {
                        line_id: line.id(),
                        refunded: progress.refunded,
                    });
                }
            }
        }
        let mut diff = Vec::new();
        for before in &self.lines {
            match priced.lines.iter().find(|l| l.id() == before.id()) {
                None => diff.push(EditDiff::LineRemoved {
                    line_id: before.id(),
                    quantity: before.quantity(),
                }),
                Some(after) if after.quantity() != before.quantity() => {
                    diff.push(EditDiff::QuantityChanged {
                        line_id: before.id(),
                        old_quantity: before.quantity(),
                        new_quantity: after.quantity(),
                    });
                }
                Some(_) => {}
            }
        }
        for after in &priced.lines {
            if self.line(after.id()).is_none() {
                diff.push(EditDiff::LineAdded {
                    line_id: after.id(),
                    product_id: after.product_id(),
                    quantity: after.quantity(),
                    unit_price: after.unit_price(),
                    line_subtotal: after.subtotal(),
                });
            }
        }
        let before = self.totals();
        let after = priced.totals;
        let difference = after.total.checked_sub(before.total)?;
        Ok(Outcome {
            priced,
            preview: EditPreview {
                diff,
                before,
                after,
                difference,
            },
        })
    }
}

fn position(lines: &[OrderLine], line_id: crate::LineId) -> Result<usize, DomainError> {
    lines
        .iter()
        .position(|l| l.id() == line_id)
        .ok_or(DomainError::LineNotFound(line_id))
}
