//! # order-events
//!
//! The published language of the Order context: the one JSON shape in which
//! an order's events leave the service (NATS JetStream, subject
//! `orders.<event>`) and in which its history is read
//! (`GET /api/v1/order-mgmt/orders/{id}/events`).
//!
//! Consumers depend on this crate (without features) to deserialize an
//! [`EventEnvelope`]; [`schema::for_type`] gives the JSON Schema of each type.
//! The `domain` feature adds [`EventEnvelope::from_domain`], the single place
//! where a domain event becomes an envelope: a new event type is a variant of
//! [`EventData`] plus one arm there.
//!
//! ```
//! use order_events::{EventData, EventEnvelope};
//!
//! let json = r#"{
//!   "id": "01937a4e-8f43-7d2a-9a6e-0c1f0e6b1a11", "type": "order.fulfilled",
//!   "data": {"status": {"before": "processing", "after": "fulfilled"}},
//!   "order_id": "01937a4e-8f43-7d2a-9a6e-0c1f0e6b1a12", "order_number": "ORD-2025-000001",
//!   "customer_id": "01937a4e-8f43-7d2a-9a6e-0c1f0e6b1a13", "sequence": 6,
//!   "occurred_at": "2025-12-30T12:00:00Z", "actor": {"id": "anonymous", "name": "anonymous"},
//!   "reason": null
//! }"#;
//! let event: EventEnvelope = serde_json::from_str(json).unwrap();
//! assert_eq!(event.data.event_type(), "order.fulfilled");
//! assert!(matches!(event.data, EventData::Fulfilled(_)));
//! ```

#![deny(missing_docs)]

#[cfg(feature = "domain")]
mod from_domain;
pub mod schema;

use chrono::{DateTime, Utc};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// One event of one order, as published and as kept in its history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct EventEnvelope {
    /// UUID v7 of the event: the consumers' de-duplication key (also the
    /// JetStream `Nats-Msg-Id`).
    pub id: Uuid,
    /// `type` (e.g. `order.confirmed`) and `data` (the facts of the change).
    #[serde(flatten)]
    pub data: EventData,
    /// The order.
    pub order_id: Uuid,
    /// Its number (`ORD-YYYY-NNNNNN`).
    pub order_number: String,
    /// Its customer.
    pub customer_id: Uuid,
    /// Per order, starting at 1 and rising by one without gaps: the order's
    /// version after the change. Consumers order and de-duplicate by it.
    pub sequence: u64,
    /// When the change happened.
    pub occurred_at: DateTime<Utc>,
    /// Who made the change.
    pub actor: Actor,
    /// Why, where the operation takes a reason (cancellation); else `null`.
    pub reason: Option<String>,
}

/// Who made a change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Actor {
    /// Stable identifier; `anonymous` when the caller did not say.
    pub id: String,
    /// Display name.
    pub name: String,
}

/// The event type and the facts of the change, `before`/`after` for every
/// field it changed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "type", content = "data")]
pub enum EventData {
    /// A pending order was opened.
    #[serde(rename = "order.created")]
    Created(OrderCreated),
    /// A product line was added.
    #[serde(rename = "order.line_added")]
    LineAdded(LineAdded),
    /// A line's quantity changed (also when an added product merged into it).
    #[serde(rename = "order.line_updated")]
    LineUpdated(LineUpdated),
    /// A line was removed.
    #[serde(rename = "order.line_removed")]
    LineRemoved(LineRemoved),
    /// A discount was added (and allocated to the lines).
    #[serde(rename = "order.discount_added")]
    DiscountAdded(DiscountAdded),
    /// A discount was removed (the later ones priced again).
    #[serde(rename = "order.discount_removed")]
    DiscountRemoved(DiscountRemoved),
    /// pending → confirmed. Billing invoices, Warehouse reserves stock.
    #[serde(rename = "order.confirmed")]
    Confirmed(Confirmed),
    /// confirmed → processing.
    #[serde(rename = "order.processing_started")]
    ProcessingStarted(StatusChanged),
    /// processing → fulfilled by `POST /orders/{id}/fulfill`, which ships
    /// whatever was left as one more fulfilment (named here).
    #[serde(rename = "order.fulfilled")]
    Fulfilled(Fulfilled),
    /// Cancelled. Billing refunds, Warehouse releases stock.
    #[serde(rename = "order.cancelled")]
    Cancelled(Cancelled),
    /// Soft-deleted (history stays readable).
    #[serde(rename = "order.deleted")]
    Deleted(Deleted),
    /// Units shipped (Warehouse's fact); the shipment that leaves nothing
    /// unshipped also fulfils the order (`status.after` = `fulfilled`).
    #[serde(rename = "order.fulfillment_created")]
    FulfillmentCreated(FulfillmentCreated),
    /// Shipped units came back; Billing refunds `refund_amount`.
    #[serde(rename = "order.return_created")]
    ReturnCreated(ReturnCreated),
    /// A staged edit after confirmation was committed, all of it at once.
    #[serde(rename = "order.edited")]
    Edited(Edited),
}

impl EventData {
    /// Every event type, in lifecycle order.
    pub const TYPES: [&'static str; 14] = [
        "order.created",
        "order.line_added",
        "order.line_updated",
        "order.line_removed",
        "order.discount_added",
        "order.discount_removed",
        "order.confirmed",
        "order.processing_started",
        "order.fulfilled",
        "order.cancelled",
        "order.deleted",
        "order.fulfillment_created",
        "order.return_created",
        "order.edited",
    ];

    /// The `type` of the event, e.g. `order.confirmed`.
    #[must_use]
    pub const fn event_type(&self) -> &'static str {
        match self {
            Self::Created(_) => "order.created",
            Self::LineAdded(_) => "order.line_added",
            Self::LineUpdated(_) => "order.line_updated",
            Self::LineRemoved(_) => "order.line_removed",
            Self::DiscountAdded(_) => "order.discount_added",
            Self::DiscountRemoved(_) => "order.discount_removed",
            Self::Confirmed(_) => "order.confirmed",
            Self::ProcessingStarted(_) => "order.processing_started",
            Self::Fulfilled(_) => "order.fulfilled",
            Self::Cancelled(_) => "order.cancelled",
            Self::Deleted(_) => "order.deleted",
            Self::FulfillmentCreated(_) => "order.fulfillment_created",
            Self::ReturnCreated(_) => "order.return_created",
            Self::Edited(_) => "order.edited",
        }
    }
}

/// The NATS subject token of an event type: `order.line_added` → `line_added`
/// (published as `orders.line_added`).
#[must_use]
pub fn subject_token(event_type: &str) -> &str {
    event_type.strip_prefix("order.").unwrap_or(event_type)
}

/// An amount in the API's money shape.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Money {
    /// Minor units (cents for USD), exact.
    pub amount: i64,
    /// ISO 4217 code.
    pub currency: String,
    /// Exact decimal in major units, e.g. `"450.00"`.
    pub formatted: String,
}

/// The amounts of an order at one moment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Totals {
    /// Sum of the line subtotals (quantity × unit price).
    pub subtotal: Money,
    /// Sum of the discounts.
    pub discount: Money,
    /// Sum of the lines' tax.
    pub tax: Money,
    /// What the customer pays: subtotal − discount + tax when prices exclude
    /// tax, subtotal − discount when they include it.
    pub total: Money,
}

/// Whether the order's prices include tax.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum TaxMode {
    /// Prices exclude tax; tax is added.
    Exclusive,
    /// Prices include tax.
    Inclusive,
}

/// A value before and after the change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Change<T> {
    /// Before.
    pub before: T,
    /// After.
    pub after: T,
}

/// Lifecycle status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// Being edited.
    Pending,
    /// Committed to.
    Confirmed,
    /// Being prepared.
    Processing,
    /// Delivered (terminal).
    Fulfilled,
    /// Cancelled (terminal).
    Cancelled,
}

/// One line of an order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Line {
    /// The line.
    pub line_id: Uuid,
    /// Its product.
    pub product_id: Uuid,
    /// Units.
    pub quantity: u32,
    /// Price of one unit.
    pub unit_price: Money,
    /// quantity × unit price.
    pub subtotal: Money,
}

/// `order.created`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct OrderCreated {
    /// ISO 4217 code every amount of the order is in.
    pub currency: String,
    /// The B2B company ordering, if any.
    pub company_id: Option<Uuid>,
    /// Whether its prices include tax.
    pub tax_mode: TaxMode,
    /// Always `pending`.
    pub status: Status,
    /// All zero.
    pub totals: Totals,
}

/// `order.line_added`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct LineAdded {
    /// The new line.
    pub line: Line,
    /// The order's amounts.
    pub totals: Change<Totals>,
}

/// `order.line_updated`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct LineUpdated {
    /// The line.
    pub line_id: Uuid,
    /// Its product.
    pub product_id: Uuid,
    /// Its unit price (unchanged).
    pub unit_price: Money,
    /// Units.
    pub quantity: Change<u32>,
    /// The line's subtotal.
    pub line_subtotal: Change<Money>,
    /// The order's amounts.
    pub totals: Change<Totals>,
}

/// `order.line_removed`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct LineRemoved {
    /// The line as it was.
    pub line: Line,
    /// The order's amounts.
    pub totals: Change<Totals>,
}

/// How a discount is expressed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum DiscountValue {
    /// A fixed amount.
    Fixed {
        /// The amount.
        amount: Money,
    },
    /// A percentage of what earlier discounts left.
    Percentage {
        /// Exact decimal percentage, e.g. `"12.5"`.
        percent: String,
    },
}

/// `order.discount_added`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct DiscountAdded {
    /// The discount.
    pub discount_id: Uuid,
    /// Fixed or percentage.
    pub value: DiscountValue,
    /// Its code, if any.
    pub code: Option<String>,
    /// What it took off the order.
    pub amount: Money,
    /// The order's amounts.
    pub totals: Change<Totals>,
}

/// `order.discount_removed`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct DiscountRemoved {
    /// The discount.
    pub discount_id: Uuid,
    /// Its code, if any.
    pub code: Option<String>,
    /// What it took off the order until it was removed.
    pub amount: Money,
    /// The order's amounts.
    pub totals: Change<Totals>,
}

/// `order.confirmed`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Confirmed {
    /// `pending` → `confirmed`.
    pub status: Change<Status>,
    /// The amounts confirmed (what Billing invoices).
    pub totals: Totals,
}

/// `order.processing_started`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct StatusChanged {
    /// The transition.
    pub status: Change<Status>,
}

/// `order.cancelled`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Cancelled {
    /// From `pending`, `confirmed` or `processing` to `cancelled`.
    pub status: Change<Status>,
    /// Why, if the caller said (also the envelope's `reason`).
    pub reason: Option<String>,
}

/// `order.deleted`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Deleted {
    /// The status the order had when deleted (`pending` or `cancelled`).
    pub status: Status,
}

/// `order.fulfilled`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Fulfilled {
    /// `processing` → `fulfilled`.
    pub status: Change<Status>,
    /// The fulfilment that shipped what was left; `null` when nothing was
    /// (and in events older than shipments).
    #[serde(default)]
    pub fulfillment_id: Option<Uuid>,
    /// What it shipped.
    #[serde(default)]
    pub lines: Vec<ShippedLine>,
}

/// Units of one line in a shipment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct ShippedLine {
    /// The order line.
    pub line_id: Uuid,
    /// Units.
    pub quantity: u32,
}

/// How much of an order has shipped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum FulfillmentStatus {
    /// Nothing shipped.
    Unfulfilled,
    /// Some units shipped.
    PartiallyFulfilled,
    /// Everything shipped.
    Fulfilled,
}

/// `order.fulfillment_created`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct FulfillmentCreated {
    /// The shipment.
    pub fulfillment_id: Uuid,
    /// Lines and units shipped.
    pub lines: Vec<ShippedLine>,
    /// Carrier, if given.
    pub carrier: Option<String>,
    /// Tracking number, if given.
    pub tracking_number: Option<String>,
    /// The order's fulfilment status after the shipment.
    pub fulfillment_status: FulfillmentStatus,
    /// `processing` → `processing`, or → `fulfilled` once everything shipped.
    pub status: Change<Status>,
}

/// Units of one line that came back, and their refund.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct ReturnedLine {
    /// The order line.
    pub line_id: Uuid,
    /// Units returned.
    pub quantity: u32,
    /// What is refunded for them (from the line's net amount, tax included).
    pub refund: Money,
}

/// How much of an order came back.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ReturnStatus {
    /// Nothing returned.
    None,
    /// Some units returned.
    PartiallyReturned,
    /// Every ordered unit returned.
    Returned,
}

/// `order.return_created`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct ReturnCreated {
    /// The return.
    pub return_id: Uuid,
    /// Lines, units and refunds.
    pub lines: Vec<ReturnedLine>,
    /// Why (also the envelope's `reason`).
    pub reason: String,
    /// What Billing refunds: the sum of the lines' refunds.
    pub refund_amount: Money,
    /// The order's return status after it.
    pub return_status: ReturnStatus,
}

/// One line's change in a committed edit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "change", rename_all = "snake_case")]
pub enum EditedLine {
    /// A line was added.
    LineAdded {
        /// The new line.
        line: Line,
    },
    /// A line's quantity changed.
    QuantityChanged {
        /// The line.
        line_id: Uuid,
        /// Units before and after.
        quantity: Change<u32>,
    },
    /// A line was removed.
    LineRemoved {
        /// The line.
        line_id: Uuid,
        /// The units it had.
        quantity: u32,
    },
}

/// `order.edited`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Edited {
    /// The committed edit.
    pub edit_id: Uuid,
    /// What changed, per line.
    pub changes: Vec<EditedLine>,
    /// The order's amounts.
    pub totals: Change<Totals>,
    /// `totals.after.total − totals.before.total`: positive, the customer
    /// pays more; negative, Billing refunds it.
    pub difference: Money,
    /// Unchanged, or `processing` → `fulfilled` when the edit left nothing unshipped.
    pub status: Change<Status>,
}
