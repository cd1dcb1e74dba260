//! Returns of shipped units, with refunds exact to the minor unit.

use chrono::{DateTime, Utc};

use crate::{
    cumulative_refund, DomainError, Money, NewReturn, Order, OrderAction, OrderEventKind,
    OrderStatus, Return, ReturnId, ReturnLine,
};

impl Order {
    /// The most returns one order may have.
    pub const MAX_RETURNS: usize = 500;

    /// Records a return of shipped units of a `processing` or `fulfilled`
    /// order and works out its refund per line (see [`crate::cumulative_refund`]):
    /// however a line's units come back, its refunds never add up to more than
    /// its total, and to exactly its total once every unit is back. Records one
    /// `OrderReturnCreated`; the order's status does not change.
    ///
    /// # Errors
    /// `InvalidStatusTransition` unless processing or fulfilled; `OrderDeleted`;
    /// `NoLinesGiven`; `DuplicateLine`; `LineNotFound`; `QuantityExceedsReturnable`
    /// when fewer units were shipped and not yet returned; `InvalidText` for a
    /// blank or too long reason; `TooMany` past [`Order::MAX_RETURNS`].
    pub fn create_return(
        &mut self,
        new: NewReturn,
        now: DateTime<Utc>,
    ) -> Result<ReturnId, DomainError> {
        self.ensure_not_deleted()?;
        if !matches!(
            self.status,
            OrderStatus::Processing | OrderStatus::Fulfilled
        ) {
            return Err(DomainError::InvalidStatusTransition {
                from: self.status,
                action: OrderAction::Return,
            });
        }
        let reason = Return::validate_request(&new)?;
        let mut lines = Vec::with_capacity(new.lines.len());
        for wanted in &new.lines {
            let progress = self
                .progress(wanted.line_id)
                .ok_or(DomainError::LineNotFound(wanted.line_id))?;
            if wanted.quantity.get() > progress.returnable() {
                return Err(DomainError::QuantityExceedsReturnable {
                    line_id: wanted.line_id,
                    requested: wanted.quantity.get(),
                    available: progress.returnable(),
                });
            }
            let refund = cumulative_refund(
                progress.paid,
                progress.ordered.get(),
                progress.returned,
                progress.refunded,
                wanted.quantity.get(),
            )?;
            lines.push(ReturnLine {
                line_id: wanted.line_id,
                quantity: wanted.quantity,
                refund,
            });
        }
        if self.returns.len() >= Self::MAX_RETURNS {
            return Err(DomainError::TooMany {
                what: "returns",
                max: Self::MAX_RETURNS,
            });
        }
        let refund_amount = Money::checked_sum(self.currency, lines.iter().map(|l| l.refund))?;
        let id = new.id;
        self.returns.push(Return::new(
            id,
            lines.clone(),
            reason.clone(),
            refund_amount,
            now,
        ));
        let return_status = self.return_status();
        self.record(
            now,
            OrderEventKind::ReturnCreated {
                return_id: id,
                lines,
                reason,
                refund_amount,
                return_status,
            },
        );
        Ok(id)
    }
}
