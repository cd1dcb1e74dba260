//! Outbox rows: an order's pending domain events as `order_mgmt_order_events`
//! rows, written in the transaction that stores the change that raised them.
//!
//! `payload` is the whole envelope (crate `order-events`) exactly as the relay
//! publishes it and the history API returns it, so both read one column and
//! never rebuild an event.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use order_app::RepositoryError;
use order_domain::Order;
use order_events::EventEnvelope;
use serde_json::Value;
use uuid::Uuid;

use super::rows::version_to_column;
use crate::schema::order_mgmt_order_events;

/// One outbox row to insert.
#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = order_mgmt_order_events)]
pub(crate) struct NewEventRow {
    pub event_id: Uuid,
    pub order_id: Uuid,
    pub version: i64,
    pub event_type: &'static str,
    pub occurred_at: DateTime<Utc>,
    pub actor_id: String,
    pub payload: Value,
}

impl NewEventRow {
    /// The rows of the order's pending events, oldest first.
    pub fn from_order(order: &Order) -> Result<Vec<Self>, RepositoryError> {
        order
            .pending_events()
            .iter()
            .map(|event| {
                // UUID v7: time-ordered like the events, unique across servers.
                let envelope = EventEnvelope::from_domain(order, event, Uuid::now_v7());
                let payload = serde_json::to_value(&envelope).map_err(|e| {
                    RepositoryError::Unexpected(format!("event {} as JSON: {e}", envelope.id))
                })?;
                Ok(Self {
                    event_id: envelope.id,
                    order_id: envelope.order_id,
                    version: version_to_column(envelope.sequence)?,
                    event_type: envelope.data.event_type(),
                    occurred_at: envelope.occurred_at,
                    actor_id: envelope.actor.id,
                    payload,
                })
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use order_domain::{
        Currency, CustomerId, LineId, LineTax, Money, NewLine, NewOrder, OrderId, OrderNumber,
        ProductId, ProductSnapshot, Quantity, TaxMode,
    };

    #[test]
    fn rows_hold_the_envelope_under_its_id_type_sequence_and_actor() {
        let now = Utc.with_ymd_and_hms(2025, 12, 30, 12, 0, 0).unwrap();
        let mut order = Order::create(
            NewOrder {
                id: OrderId::from_uuid(Uuid::now_v7()),
                number: OrderNumber::new(2025, 7).unwrap(),
                customer_id: CustomerId::from_uuid(Uuid::now_v7()),
                company_id: None,
                currency: Currency::USD,
                tax_mode: TaxMode::Exclusive,
            },
            now,
        );
        order
            .add_line(
                NewLine {
                    line_id: LineId::from_uuid(Uuid::now_v7()),
                    product_id: ProductId::from_uuid(Uuid::now_v7()),
                    quantity: Quantity::new(3).unwrap(),
                    unit_price: Money::new(10_000, Currency::USD),
                    snapshot: ProductSnapshot::default(),
                    tax: LineTax::default(),
                },
                now,
            )
            .unwrap();
        order.attribute_pending_events(&order_domain::Actor::new("clerk-7", Some("Ada")).unwrap());
        let rows = NewEventRow::from_order(&order).unwrap();
        assert_eq!(rows.len(), 2);
        let added = &rows[1];
        assert_eq!(added.event_type, "order.line_added");
        assert_eq!(added.version, 2);
        assert_eq!(added.actor_id, "clerk-7");
        assert_eq!(added.payload["id"], added.event_id.to_string());
        assert_eq!(added.payload["sequence"], 2);
        assert_eq!(added.payload["order_number"], "ORD-2025-000007");
        assert_eq!(added.payload["actor"]["name"], "Ada");
        assert_eq!(
            added.payload["data"]["line"]["unit_price"],
            serde_json::json!({ "amount": 10_000, "currency": "USD", "formatted": "100.00" })
        );
        assert_ne!(rows[0].event_id, rows[1].event_id);
    }
}
