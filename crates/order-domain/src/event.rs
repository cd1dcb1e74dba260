//! Domain events: what happened to an order, recorded by the aggregate on every
//! successful change and handed out with [`crate::Order::take_events`].

use chrono::{DateTime, Utc};

use crate::{
    Actor, CompanyId, Currency, CustomerId, DiscountId, DiscountValue, EditDiff, EditId,
    FulfillmentId, FulfillmentStatus, LineId, LineQuantity, Money, OrderId, OrderNumber,
    OrderStatus, OrderTotals, ProductId, Quantity, ReturnId, ReturnLine, ReturnStatus,
};

/// One fact about one order. `version` is the order's version right after the
/// change, so a consumer can order events and spot gaps.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderEvent {
    /// The order the event belongs to.
    pub order_id: OrderId,
    /// The order's version after the change.
    pub version: u64,
    /// When the change happened (the time the caller passed in).
    pub occurred_at: DateTime<Utc>,
    /// Who made it (see [`crate::Order::attribute_pending_events`]).
    pub actor: Actor,
    /// What happened.
    pub kind: OrderEventKind,
}

/// The kinds of change an order goes through.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OrderEventKind {
    /// `OrderCreated`.
    Created {
        /// The allocated number.
        order_number: OrderNumber,
        /// The ordering customer.
        customer_id: CustomerId,
        /// The B2B company, if any.
        company_id: Option<CompanyId>,
        /// The order's currency.
        currency: Currency,
    },
    /// `OrderLineAdded`.
    LineAdded {
        /// The new line.
        line_id: LineId,
        /// Its product.
        product_id: ProductId,
        /// Units.
        quantity: Quantity,
        /// Unit price.
        unit_price: Money,
        /// quantity × unit price.
        line_subtotal: Money,
        /// The order's totals before.
        before: OrderTotals,
        /// The order's totals after.
        after: OrderTotals,
    },
    /// `OrderLineUpdated`: a line's quantity changed (also when an added product merged into it).
    LineUpdated {
        /// The line.
        line_id: LineId,
        /// Its product.
        product_id: ProductId,
        /// Its unit price (unchanged).
        unit_price: Money,
        /// Quantity before.
        old_quantity: Quantity,
        /// Quantity after.
        new_quantity: Quantity,
        /// The line's subtotal before.
        old_subtotal: Money,
        /// The line's subtotal after.
        new_subtotal: Money,
        /// The order's totals before.
        before: OrderTotals,
        /// The order's totals after.
        after: OrderTotals,
    },
    /// `OrderLineRemoved`.
    LineRemoved {
        /// The removed line.
        line_id: LineId,
        /// Its product.
        product_id: ProductId,
        /// The units it had.
        quantity: Quantity,
        /// Its unit price.
        unit_price: Money,
        /// Its subtotal.
        line_subtotal: Money,
        /// The order's totals before.
        before: OrderTotals,
        /// The order's totals after.
        after: OrderTotals,
    },
    /// `OrderDiscountAdded`.
    DiscountAdded {
        /// The new discount.
        discount_id: DiscountId,
        /// A fixed amount or a percentage.
        value: DiscountValue,
        /// Its code, if any.
        code: Option<String>,
        /// What it took off the order.
        amount: Money,
        /// The order's totals before.
        before: OrderTotals,
        /// The order's totals after.
        after: OrderTotals,
    },
    /// `OrderDiscountRemoved`.
    DiscountRemoved {
        /// The removed discount.
        discount_id: DiscountId,
        /// Its code, if any.
        code: Option<String>,
        /// What it took off the order until it was removed.
        amount: Money,
        /// The order's totals before.
        before: OrderTotals,
        /// The order's totals after.
        after: OrderTotals,
    },
    /// `OrderConfirmed`.
    Confirmed {
        /// The total that was confirmed.
        total: Money,
    },
    /// `OrderProcessingStarted`.
    ProcessingStarted,
    /// `OrderFulfilled`: `mark_fulfilled` shipped whatever was left (as one
    /// more fulfilment, unless nothing was) and the order is fulfilled.
    Fulfilled {
        /// The fulfilment that shipped the remainder, if anything remained.
        fulfillment_id: Option<FulfillmentId>,
        /// What it shipped (empty when nothing remained).
        lines: Vec<LineQuantity>,
    },
    /// `OrderFulfillmentCreated`: units shipped (Warehouse's fact).
    FulfillmentCreated {
        /// The new shipment.
        fulfillment_id: FulfillmentId,
        /// Lines and quantities shipped.
        lines: Vec<LineQuantity>,
        /// Carrier, if given.
        carrier: Option<String>,
        /// Tracking number, if given.
        tracking_number: Option<String>,
        /// The order's fulfilment status after the shipment.
        fulfillment_status: FulfillmentStatus,
        /// The order's status after it (`fulfilled` once everything shipped).
        status: OrderStatus,
    },
    /// `OrderReturnCreated`: units came back; Billing refunds `refund_amount`.
    ReturnCreated {
        /// The new return.
        return_id: ReturnId,
        /// Lines, quantities and per-line refunds.
        lines: Vec<ReturnLine>,
        /// Why.
        reason: String,
        /// What to refund in all.
        refund_amount: Money,
        /// The order's return status after it.
        return_status: ReturnStatus,
    },
    /// `OrderEdited`: a staged edit was committed, all of it at once.
    Edited {
        /// The committed edit.
        edit_id: EditId,
        /// What changed, per line.
        diff: Vec<EditDiff>,
        /// Totals before.
        before: OrderTotals,
        /// Totals after.
        after: OrderTotals,
        /// `after.total − before.total` (negative: a refund is due).
        difference: Money,
        /// The order's status after it (an edit that leaves nothing unshipped fulfils it).
        status: OrderStatus,
    },
    /// `OrderCancelled`.
    Cancelled {
        /// Why, if the caller said.
        reason: Option<String>,
        /// The status it was cancelled from (pending, confirmed or processing).
        previous_status: OrderStatus,
    },
    /// `OrderDeleted` (soft delete).
    Deleted {
        /// The status the order had when it was deleted (pending or cancelled).
        status: OrderStatus,
    },
}

impl OrderEventKind {
    /// The event's name as published (`OrderCreated`, `OrderConfirmed`, ...).
    #[must_use]
    pub const fn name(&self) -> &'static str {
        match self {
            Self::Created { .. } => "OrderCreated",
            Self::LineAdded { .. } => "OrderLineAdded",
            Self::LineUpdated { .. } => "OrderLineUpdated",
            Self::LineRemoved { .. } => "OrderLineRemoved",
            Self::DiscountAdded { .. } => "OrderDiscountAdded",
            Self::DiscountRemoved { .. } => "OrderDiscountRemoved",
            Self::Confirmed { .. } => "OrderConfirmed",
            Self::ProcessingStarted => "OrderProcessingStarted",
            Self::Fulfilled { .. } => "OrderFulfilled",
            Self::FulfillmentCreated { .. } => "OrderFulfillmentCreated",
            Self::ReturnCreated { .. } => "OrderReturnCreated",
            Self::Edited { .. } => "OrderEdited",
            Self::Cancelled { .. } => "OrderCancelled",
            Self::Deleted { .. } => "OrderDeleted",
        }
    }
}
