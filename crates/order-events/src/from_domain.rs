//! Domain event → envelope: the one place an event's `data` is built.
//! A new operation adds a variant to [`EventData`] and one arm to `data`.

use order_domain as domain;
use uuid::Uuid;

use crate::{
    Actor, Cancelled, Change, Confirmed, Deleted, DiscountAdded, DiscountRemoved, DiscountValue,
    Edited, EditedLine, EventData, EventEnvelope, Fulfilled, FulfillmentCreated, FulfillmentStatus,
    Line, LineAdded, LineRemoved, LineUpdated, Money, OrderCreated, ReturnCreated, ReturnStatus,
    ReturnedLine, ShippedLine, Status, StatusChanged, TaxMode, Totals,
};

impl EventEnvelope {
    /// The envelope of `event`, raised by `order` (whose number and customer
    /// never change), published under the id `id`.
    #[must_use]
    pub fn from_domain(order: &domain::Order, event: &domain::OrderEvent, id: Uuid) -> Self {
        let actor = &event.actor;
        let reason = match &event.kind {
            domain::OrderEventKind::Cancelled { reason, .. } => reason.clone(),
            domain::OrderEventKind::ReturnCreated { reason, .. } => Some(reason.clone()),
            _ => None,
        };
        Self {
            id,
            data: data(order, &event.kind),
            order_id: event.order_id.as_uuid(),
            order_number: order.number().to_string(),
            customer_id: order.customer_id().as_uuid(),
            sequence: event.version,
            occurred_at: event.occurred_at,
            actor: Actor {
                id: actor.id().to_owned(),
                name: actor.name().to_owned(),
            },
            reason,
        }
    }
}

fn data(order: &domain::Order, kind: &domain::OrderEventKind) -> EventData {
    use domain::OrderEventKind as K;
    use domain::OrderStatus as S;
    let transition = |before: S, after: S| Change {
        before: status(before),
        after: status(after),
    };
    match kind {
        K::Created {
            company_id,
            currency,
            ..
        } => EventData::Created(OrderCreated {
            currency: currency.code().to_owned(),
            company_id: company_id.map(|c| c.as_uuid()),
            tax_mode: match order.tax_mode() {
                domain::TaxMode::Exclusive => TaxMode::Exclusive,
                domain::TaxMode::Inclusive => TaxMode::Inclusive,
            },
            status: Status::Pending,
            totals: totals(domain::OrderTotals::zero(*currency)),
        }),
        K::LineAdded {
            line_id,
            product_id,
            quantity,
            unit_price,
            line_subtotal,
            before,
            after,
        } => EventData::LineAdded(LineAdded {
            line: Line {
                line_id: line_id.as_uuid(),
                product_id: product_id.as_uuid(),
                quantity: quantity.get(),
                unit_price: money(*unit_price),
                subtotal: money(*line_subtotal),
            },
            totals: change(before, after),
        }),
        K::LineUpdated {
            line_id,
            product_id,
            unit_price,
            old_quantity,
            new_quantity,
            old_subtotal,
            new_subtotal,
            before,
            after,
        } => EventData::LineUpdated(LineUpdated {
            line_id: line_id.as_uuid(),
            product_id: product_id.as_uuid(),
            unit_price: money(*unit_price),
            quantity: Change {
                before: old_quantity.get(),
                after: new_quantity.get(),
            },
            line_subtotal: Change {
                before: money(*old_subtotal),
                after: money(*new_subtotal),
            },
            totals: change(before, after),
        }),
        K::LineRemoved {
            line_id,
            product_id,
            quantity,
            unit_price,
            line_subtotal,
            before,
            after,
        } => EventData::LineRemoved(LineRemoved {
            line: Line {
                line_id: line_id.as_uuid(),
                product_id: product_id.as_uuid(),
                quantity: quantity.get(),
                unit_price: money(*unit_price),
                subtotal: money(*line_subtotal),
            },
            totals: change(before, after),
        }),
        K::DiscountAdded {
            discount_id,
            value,
            code,
            amount,
            before,
            after,
        } => EventData::DiscountAdded(DiscountAdded {
            discount_id: discount_id.as_uuid(),
            value: match value {
                domain::DiscountValue::Fixed(fixed) => DiscountValue::Fixed {
                    amount: money(*fixed),
                },
                domain::DiscountValue::Percentage(p) => DiscountValue::Percentage {
                    percent: p.to_string(),
                },
            },
            code: code.clone(),
            amount: money(*amount),
            totals: change(before, after),
        }),
        K::DiscountRemoved {
            discount_id,
            code,
            amount,
            before,
            after,
        } => EventData::DiscountRemoved(DiscountRemoved {
            discount_id: discount_id.as_uuid(),
            code: code.clone(),
            amount: money(*amount),
            totals: change(before, after),
        }),
        K::Confirmed { .. } => EventData::Confirmed(Confirmed {
            status: transition(S::Pending, S::Confirmed),
            // The domain event carries only the total; a confirmed order's
            // amounts can never change again, so the order's are the ones
            // confirmed.
            totals: totals(order.totals()),
        }),
        K::ProcessingStarted => EventData::ProcessingStarted(StatusChanged {
            status: transition(S::Confirmed, S::Processing),
        }),
        K::Fulfilled {
            fulfillment_id,
            lines,
        } => EventData::Fulfilled(Fulfilled {
            status: transition(S::Processing, S::Fulfilled),
            fulfillment_id: fulfillment_id.map(|id| id.as_uuid()),
            lines: shipped(lines),
        }),
        K::FulfillmentCreated {
            fulfillment_id,
            lines,
            carrier,
            tracking_number,
            fulfillment_status,
            status: after,
        } => EventData::FulfillmentCreated(FulfillmentCreated {
            fulfillment_id: fulfillment_id.as_uuid(),
            lines: shipped(lines),
            carrier: carrier.clone(),
            tracking_number: tracking_number.clone(),
            fulfillment_status: match fulfillment_status {
                domain::FulfillmentStatus::Unfulfilled => FulfillmentStatus::Unfulfilled,
                domain::FulfillmentStatus::PartiallyFulfilled => {
                    FulfillmentStatus::PartiallyFulfilled
                }
                domain::FulfillmentStatus::Fulfilled => FulfillmentStatus::Fulfilled,
            },
            status: transition(S::Processing, *after),
        }),
        K::ReturnCreated {
            return_id,
            lines,
            reason,
            refund_amount,
            return_status,
        } => EventData::ReturnCreated(ReturnCreated {
            return_id: return_id.as_uuid(),
            lines: lines
                .iter()
                .map(|l| ReturnedLine {
                    line_id: l.line_id.as_uuid(),
                    quantity: l.quantity.get(),
                    refund: money(l.refund),
                })
                .collect(),
            reason: reason.clone(),
            refund_amount: money(*refund_amount),
            return_status: match return_status {
                domain::ReturnStatus::None => ReturnStatus::None,
                domain::ReturnStatus::PartiallyReturned => ReturnStatus::PartiallyReturned,
                domain::ReturnStatus::Returned => ReturnStatus::Returned,
            },
        }),
        K::Edited {
            edit_id,
            diff,
            before,
            after,
            difference,
            status: now,
        } => EventData::Edited(Edited {
            edit_id: edit_id.as_uuid(),
            changes: diff.iter().map(edited_line).collect(),
            totals: change(before, after),
            difference: money(*difference),
            // Only a processing order changes status by an edit (to fulfilled).
            status: if *now == S::Fulfilled {
                transition(S::Processing, S::Fulfilled)
            } else {
                transition(*now, *now)
            },
        }),
        K::Cancelled {
            reason,
            previous_status,
        } => EventData::Cancelled(Cancelled {
            status: transition(*previous_status, S::Cancelled),
            reason: reason.clone(),
        }),
        K::Deleted { status: at } => EventData::Deleted(Deleted {
            status: status(*at),
        }),
    }
}

fn shipped(lines: &[domain::LineQuantity]) -> Vec<ShippedLine> {
    lines
        .iter()
        .map(|l| ShippedLine {
            line_id: l.line_id.as_uuid(),
            quantity: l.quantity.get(),
        })
        .collect()
}

fn edited_line(diff: &domain::EditDiff) -> EditedLine {
    match diff {
        domain::EditDiff::LineAdded {
            line_id,
            product_id,
            quantity,
            unit_price,
            line_subtotal,
        } => EditedLine::LineAdded {
            line: Line {
                line_id: line_id.as_uuid(),
                product_id: product_id.as_uuid(),
                quantity: quantity.get(),
                unit_price: money(*unit_price),
                subtotal: money(*line_subtotal),
            },
        },
        domain::EditDiff::QuantityChanged {
            line_id,
            old_quantity,
            new_quantity,
        } => EditedLine::QuantityChanged {
            line_id: line_id.as_uuid(),
            quantity: Change {
                before: old_quantity.get(),
                after: new_quantity.get(),
            },
        },
        domain::EditDiff::LineRemoved { line_id, quantity } => EditedLine::LineRemoved {
            line_id: line_id.as_uuid(),
            quantity: quantity.get(),
        },
    }
}

fn money(value: domain::Money) -> Money {
    Money {
        amount: value.amount(),
        currency: value.currency().code().to_owned(),
        formatted: value.to_decimal_string(),
    }
}

fn totals(value: domain::OrderTotals) -> Totals {
    Totals {
        subtotal: money(value.subtotal),
        discount: money(value.discount),
        tax: money(value.tax),
        total: money(value.total),
    }
}

fn change(before: &domain::OrderTotals, after: &domain::OrderTotals) -> Change<Totals> {
    Change {
        before: totals(*before),
        after: totals(*after),
    }
}

const fn status(value: domain::OrderStatus) -> Status {
    match value {
        domain::OrderStatus::Pending => Status::Pending,
        domain::OrderStatus::Confirmed => Status::Confirmed,
        domain::OrderStatus::Processing => Status::Processing,
        domain::OrderStatus::Fulfilled => Status::Fulfilled,
        domain::OrderStatus::Cancelled => Status::Cancelled,
    }
}
