//! Shipping: fulfilments of a processing order, and `mark_fulfilled`.

use chrono::{DateTime, Utc};

use crate::{
    DomainError, Fulfillment, FulfillmentId, FulfillmentStatus, LineQuantity, NewFulfillment,
    Order, OrderAction, OrderEventKind, OrderStatus, Quantity,
};

impl Order {
    /// The most shipments one order may have.
    pub const MAX_FULFILLMENTS: usize = 500;

    /// Ships some units of some lines of a `processing` order. Once every
    /// unit of every line has shipped the order is `fulfilled`, in the same
    /// change. Records one `OrderFulfillmentCreated`.
    ///
    /// # Errors
    /// `InvalidStatusTransition` unless processing; `OrderDeleted`;
    /// `NoLinesGiven`; `DuplicateLine`; `LineNotFound`;
    /// `QuantityExceedsUnshipped` when a line has fewer units left to ship;
    /// `InvalidText` for a carrier or tracking number that is too long;
    /// `TooMany` past [`Order::MAX_FULFILLMENTS`].
    pub fn create_fulfillment(
        &mut self,
        new: NewFulfillment,
        now: DateTime<Utc>,
    ) -> Result<FulfillmentId, DomainError> {
        self.ensure_status(OrderStatus::Processing, OrderAction::Ship)?;
        let fulfillment = Fulfillment::new(new, now)?;
        for wanted in fulfillment.lines() {
            let progress = self
                .progress(wanted.line_id)
                .ok_or(DomainError::LineNotFound(wanted.line_id))?;
            if wanted.quantity.get() > progress.unshipped() {
                return Err(DomainError::QuantityExceedsUnshipped {
                    line_id: wanted.line_id,
                    requested: wanted.quantity.get(),
                    available: progress.unshipped(),
                });
            }
        }
        self.ensure_room_for_fulfillment()?;
        let id = fulfillment.id();
        let lines = fulfillment.lines().to_vec();
        let carrier = fulfillment.carrier().map(str::to_owned);
        let tracking_number = fulfillment.tracking_number().map(str::to_owned);
        self.fulfillments.push(fulfillment);
        let fulfillment_status = self.fulfillment_status();
        if fulfillment_status == FulfillmentStatus::Fulfilled {
            self.status = OrderStatus::Fulfilled;
            self.fulfilled_at = Some(now);
        }
        self.record(
            now,
            OrderEventKind::FulfillmentCreated {
                fulfillment_id: id,
                lines,
                carrier,
                tracking_number,
                fulfillment_status,
                status: self.status,
            },
        );
        Ok(id)
    }

    /// `processing -> fulfilled`, shipping whatever is left as the fulfilment
    /// `remainder_id` (no fulfilment when nothing is left). Records one
    /// `OrderFulfilled` naming what the remainder shipped.
    ///
    /// # Errors
    /// `InvalidStatusTransition` unless processing; `OrderDeleted`;
    /// `TooMany` past [`Order::MAX_FULFILLMENTS`].
    pub fn mark_fulfilled_as(
        &mut self,
        remainder_id: FulfillmentId,
        now: DateTime<Utc>,
    ) -> Result<(), DomainError> {
        self.ensure_status(OrderStatus::Processing, OrderAction::MarkFulfilled)?;
        let remainder: Vec<LineQuantity> = self
            .line_progress()
            .iter()
            .filter_map(|p| {
                Quantity::new(i64::from(p.unshipped()))
                    .ok()
                    .map(|quantity| LineQuantity {
                        line_id: p.line_id,
                        quantity,
                    })
            })
            .collect();
        let shipped = if remainder.is_empty() {
            None
        } else {
            self.ensure_room_for_fulfillment()?;
            let fulfillment = Fulfillment::new(
                crate::NewFulfillment {
                    id: remainder_id,
                    lines: remainder.clone(),
                    carrier: None,
                    tracking_number: None,
                },
                now,
            )?;
            self.fulfillments.push(fulfillment);
            Some(remainder_id)
        };
        self.status = OrderStatus::Fulfilled;
        self.fulfilled_at = Some(now);
        self.record(
            now,
            OrderEventKind::Fulfilled {
                fulfillment_id: shipped,
                lines: remainder,
            },
        );
        Ok(())
    }

    fn ensure_room_for_fulfillment(&self) -> Result<(), DomainError> {
        if self.fulfillments.len() >= Self::MAX_FULFILLMENTS {
            Err(DomainError::TooMany {
                what: "fulfillments",
                max: Self::MAX_FULFILLMENTS,
            })
        } else {
            Ok(())
        }
    }
}
