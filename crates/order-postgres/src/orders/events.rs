//! Outbox rows: an order's pending domain events as `order_mgmt_order_events`
//! rows, written in the transaction that stores the change that raised them.
//!
//! The payload is a small JSON object per event kind, with money as integer
//! minor units plus currency (the same shape the API uses), so a consumer
//! never has to parse a decimal string to get an exact amount.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use order_app::RepositoryError;
use order_domain::{DiscountValue, Money, OrderEvent, OrderEventKind, OrderTotals};
use serde_json::{json, Value};
use uuid::Uuid;

use super::rows::version_to_column;
use crate::schema::order_mgmt_order_events;

/// One outbox row to insert.
#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = order_mgmt_order_events)]
pub(crate) struct NewEventRow {
    pub order_id: Uuid,
    pub version: i64,
    pub event_type: &'static str,
    pub occurred_at: DateTime<Utc>,
    pub payload: Value,
}

impl NewEventRow {
    /// The rows of `events`, oldest first.
    pub fn from_events(events: &[OrderEvent]) -> Result<Vec<Self>, RepositoryError> {
        events.iter().map(Self::from_event).collect()
    }

    fn from_event(event: &OrderEvent) -> Result<Self, RepositoryError> {
        Ok(Self {
            order_id: event.order_id.as_uuid(),
            version: version_to_column(event.version)?,
            event_type: event.kind.name(),
            occurred_at: event.occurred_at,
            payload: payload(&event.kind),
        })
    }
}

fn money(value: Money) -> Value {
    json!({ "amount": value.amount(), "currency": value.currency().code() })
}

fn totals(totals: &OrderTotals) -> Value {
    json!({
        "subtotal": money(totals.subtotal),
        "discount": money(totals.discount),
        "tax": money(totals.tax),
        "total": money(totals.total),
    })
}

fn payload(kind: &OrderEventKind) -> Value {
    match kind {
        OrderEventKind::Created {
            order_number,
            customer_id,
            currency,
        } => json!({
            "order_number": order_number.to_string(),
            "customer_id": customer_id.as_uuid(),
            "currency": currency.code(),
        }),
        OrderEventKind::LineAdded {
            line_id,
            product_id,
            quantity,
            unit_price,
        } => json!({
            "line_id": line_id.as_uuid(),
            "product_id": product_id.as_uuid(),
            "quantity": quantity.get(),
            "unit_price": money(*unit_price),
        }),
        OrderEventKind::LineUpdated {
            line_id,
            old_quantity,
            new_quantity,
        } => json!({
            "line_id": line_id.as_uuid(),
            "old_quantity": old_quantity.get(),
            "new_quantity": new_quantity.get(),
        }),
        OrderEventKind::LineRemoved { line_id } => json!({ "line_id": line_id.as_uuid() }),
        OrderEventKind::DiscountAdded {
            discount_id,
            value,
            code,
            amount,
            before,
            after,
        } => {
            let (kind, fixed, percent) = match value {
                DiscountValue::Fixed(m) => ("fixed", Some(money(*m)), None),
                DiscountValue::Percentage(p) => ("percentage", None, Some(p.to_string())),
            };
            json!({
                "discount_id": discount_id.as_uuid(),
                "kind": kind,
                "fixed_amount": fixed,
                "percent": percent,
                "code": code,
                "amount": money(*amount),
                "before": totals(before),
                "after": totals(after),
            })
        }
        OrderEventKind::DiscountRemoved {
            discount_id,
            code,
            amount,
            before,
            after,
        } => json!({
            "discount_id": discount_id.as_uuid(),
            "code": code,
            "amount": money(*amount),
            "before": totals(before),
            "after": totals(after),
        }),
        OrderEventKind::Confirmed { total } => json!({ "total": money(*total) }),
        OrderEventKind::Cancelled { reason } => json!({ "reason": reason }),
        OrderEventKind::ProcessingStarted | OrderEventKind::Fulfilled | OrderEventKind::Deleted => {
            json!({})
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use order_domain::{Currency, LineId, OrderId, ProductId, Quantity};

    #[test]
    fn payloads_carry_exact_minor_units_and_ids() {
        let line_id = LineId::from_uuid(Uuid::now_v7());
        let product_id = ProductId::from_uuid(Uuid::now_v7());
        let event = OrderEvent {
            order_id: OrderId::from_uuid(Uuid::now_v7()),
            version: 2,
            occurred_at: Utc::now(),
            kind: OrderEventKind::LineAdded {
                line_id,
                product_id,
                quantity: Quantity::new(3).unwrap(),
                unit_price: Money::new(10_000, Currency::USD),
            },
        };
        let row = NewEventRow::from_event(&event).unwrap();
        assert_eq!(row.event_type, "OrderLineAdded");
        assert_eq!(row.version, 2);
        assert_eq!(
            row.payload,
            json!({
                "line_id": line_id.to_string(),
                "product_id": product_id.to_string(),
                "quantity": 3,
                "unit_price": { "amount": 10_000, "currency": "USD" },
            })
        );
    }

    #[test]
    fn a_cancellation_without_reason_has_a_null_reason() {
        assert_eq!(
            payload(&OrderEventKind::Cancelled { reason: None }),
            json!({ "reason": null })
        );
    }
}
