//! The one error type of the domain.
//!
//! Every rule the aggregate enforces fails with exactly one of these variants,
//! and every variant has a stable snake_case [`DomainError::code`] that API
//! clients may match on: renaming a code is a breaking change.

use crate::{Currency, DiscountId, LineId, Money, OrderStatus};

/// Which operation on an order was attempted, used to explain a refused transition.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OrderAction {
    /// `pending -> confirmed`.
    Confirm,
    /// `confirmed -> processing`.
    StartProcessing,
    /// `processing -> fulfilled`.
    MarkFulfilled,
    /// any non-terminal state `-> cancelled`.
    Cancel,
    /// Soft delete.
    Delete,
    /// Ship some units (a fulfilment).
    Ship,
    /// Record a return.
    Return,
    /// Begin or commit an edit after confirmation.
    Edit,
}

impl OrderAction {
    /// The verb as API clients see it (`confirm`, `process`, ...).
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Confirm => "confirm",
            Self::StartProcessing => "process",
            Self::MarkFulfilled => "fulfill",
            Self::Cancel => "cancel",
            Self::Delete => "delete",
            Self::Ship => "ship",
            Self::Return => "return",
            Self::Edit => "edit",
        }
    }
}

impl std::fmt::Display for OrderAction {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A business rule of the Order context was violated.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DomainError {
    /// Quantity must be between 1 and [`crate::Quantity::MAX`].
    #[error("quantity must be between 1 and {max}, got {quantity}")]
    InvalidQuantity {
        /// The rejected value.
        quantity: i64,
        /// The largest accepted quantity.
        max: u32,
    },
    /// A unit price must be between zero and [`crate::OrderLine::MAX_UNIT_PRICE`] minor units.
    #[error(
        "unit price must be between 0 and {} minor units, got {amount}",
        crate::OrderLine::MAX_UNIT_PRICE
    )]
    InvalidPrice {
        /// The rejected amount in minor units.
        amount: i64,
    },
    /// The order has no line with this id.
    #[error("order line {0} not found")]
    LineNotFound(LineId),
    /// The order does not exist (or is soft-deleted).
    #[error("order not found")]
    OrderNotFound,
    /// Confirming needs at least one line.
    #[error("an order needs at least one line to be confirmed")]
    OrderEmpty,
    /// Lines and discounts can only be changed while the order is `pending`.
    #[error("order is {status} and can no longer be edited")]
    OrderNotEditable {
        /// The status that forbids the edit.
        status: OrderStatus,
    },
    /// The order is already cancelled.
    #[error("order is already cancelled")]
    AlreadyCancelled,
    /// A fulfilled order is terminal and cannot be cancelled.
    #[error("a fulfilled order cannot be cancelled")]
    FulfilledCannotBeCancelled,
    /// The order's status does not allow this transition.
    #[error("cannot {action} an order that is {from}")]
    InvalidStatusTransition {
        /// Current status.
        from: OrderStatus,
        /// The attempted operation.
        action: OrderAction,
    },
    /// Only `pending` and `cancelled` orders may be deleted.
    #[error("an order that is {status} cannot be deleted")]
    NotDeletable {
        /// Current status.
        status: OrderStatus,
    },
    /// The order was soft-deleted and accepts no further change.
    #[error("order has been deleted")]
    OrderDeleted,
    /// Two amounts of different currencies were combined.
    #[error("currency mismatch: expected {expected}, got {found}")]
    CurrencyMismatch {
        /// The currency required (usually the order's).
        expected: Currency,
        /// The currency supplied.
        found: Currency,
    },
    /// An amount would leave the `i64` range of minor units.
    #[error("amount overflow: the result does not fit in 64-bit minor units")]
    AmountOverflow,
    /// The order total would fall below zero. No longer raised since discounts
    /// are allocated to lines and never exceed them; the code stays reserved.
    #[error("order total cannot be negative")]
    NegativeTotal,
    /// An order may carry at most [`crate::Order::MAX_LINES`] lines.
    #[error("an order may have at most {max} lines")]
    TooManyLines {
        /// The limit.
        max: usize,
    },
    /// Tax and discount amounts cannot be negative. No longer raised since tax
    /// comes from line rates and discounts are validated as
    /// [`DomainError::InvalidDiscount`]; the code stays reserved.
    #[error("{field} cannot be negative")]
    NegativeAdjustment {
        /// `tax` or `discount`.
        field: &'static str,
    },
    /// Not an ISO 4217 code with a defined minor unit.
    #[error("unknown currency code {0:?}")]
    UnknownCurrency(String),
    /// A decimal amount could not be read for its currency.
    #[error("invalid amount {input:?}: {reason}")]
    InvalidAmount {
        /// The rejected text.
        input: String,
        /// Why it was rejected.
        reason: &'static str,
    },
    /// Not one of `pending`, `confirmed`, `processing`, `fulfilled`, `cancelled`.
    #[error("unknown order status {0:?}")]
    UnknownStatus(String),
    /// Not of the form `ORD-YYYY-NNNNNN`.
    #[error("invalid order number {0:?}")]
    InvalidOrderNumber(String),
    /// A free-text field is too long or otherwise unacceptable.
    #[error("{field} {reason}")]
    InvalidText {
        /// The offending field.
        field: &'static str,
        /// Why it was rejected.
        reason: String,
    },
    /// A tax rate is not a decimal percentage from 0 to 100 with at most 4 fraction digits.
    #[error("invalid tax rate {input:?}: {reason}")]
    InvalidTaxRate {
        /// The rejected text.
        input: String,
        /// Why it was rejected.
        reason: &'static str,
    },
    /// A discount's amount or percentage is not acceptable.
    #[error("invalid discount: {0}")]
    InvalidDiscount(String),
    /// A discount would take more than what it applies to.
    #[error("discount of {discount} exceeds the {available} it applies to")]
    DiscountExceedsAmount {
        /// The discount.
        discount: Money,
        /// What is left to discount.
        available: Money,
    },
    /// The order has no discount with this id.
    #[error("discount {0} not found")]
    DiscountNotFound(DiscountId),
    /// A discount with this code is already on the order.
    #[error("discount code {0:?} is already applied to this order")]
    DiscountCodeAlreadyApplied(String),
    /// An order may carry at most [`crate::Order::MAX_DISCOUNTS`] discounts.
    #[error("an order may have at most {max} discounts")]
    TooManyDiscounts {
        /// The limit.
        max: usize,
    },
    /// A shipment or return must name at least one line.
    #[error("at least one line is required")]
    NoLinesGiven,
    /// A shipment, return or edit names the same line twice.
    #[error("line {0} is given more than once")]
    DuplicateLine(LineId),
    /// More units would ship than are left unshipped on the line.
    #[error("line {line_id}: cannot ship {requested}, only {available} left to ship")]
    QuantityExceedsUnshipped {
        /// The line.
        line_id: LineId,
        /// Units asked for.
        requested: u32,
        /// Units still unshipped.
        available: u32,
    },
    /// More units would come back than shipped and not yet returned.
    #[error(
        "line {line_id}: cannot return {requested}, only {available} shipped and not returned"
    )]
    QuantityExceedsReturnable {
        /// The line.
        line_id: LineId,
        /// Units asked for.
        requested: u32,
        /// Units shipped and not yet returned.
        available: u32,
    },
    /// An order that has shipped anything cannot be cancelled; edit the
    /// unshipped remainder away instead.
    #[error("the order has shipped units and cannot be cancelled; edit the remainder instead")]
    OrderHasShipments,
    /// An edit may not bring a line below what has already shipped.
    #[error("line {line_id} has {shipped} shipped units; its quantity cannot go below that")]
    QuantityBelowShipped {
        /// The line.
        line_id: LineId,
        /// Units shipped.
        shipped: u32,
    },
    /// An edit may not price a line below what was already refunded for it.
    #[error("line {line_id} would cost less than the {refunded} already refunded for it")]
    LineBelowRefunded {
        /// The line.
        line_id: LineId,
        /// Refunded so far.
        refunded: Money,
    },
    /// An edit adds a line with an id the order already has.
    #[error("line {0} already exists")]
    LineAlreadyExists(LineId),
    /// The edit was already committed or discarded.
    #[error("the edit is {} and accepts no further change", state.as_str())]
    EditNotOpen {
        /// Its state.
        state: crate::EditState,
    },
    /// Committing the edit would change nothing (no change staged, or
    /// changes that cancel out): discard it instead. A commit is a new
    /// order version and an `order.edited` event, neither of which a no-op
    /// should cost the order's other writers and Billing.
    #[error("the edit changes nothing; stage a change or discard it")]
    EditEmpty,
    /// The order changed since the edit was begun: begin a new edit.
    #[error("the order is at version {current}, the edit was begun at version {base}")]
    EditStale {
        /// The version the edit was begun against.
        base: u64,
        /// The order's version now.
        current: u64,
    },
    /// A record count limit (shipments, returns, staged changes) was reached.
    #[error("an order may have at most {max} {what}")]
    TooMany {
        /// What was counted.
        what: &'static str,
        /// The limit.
        max: usize,
    },
    /// Stored data does not satisfy the aggregate's invariants.
    #[error("stored order is inconsistent: {0}")]
    CorruptOrder(String),
}

impl DomainError {
    /// Stable, machine-readable snake_case code for API clients.
    #[must_use]
    pub const fn code(&self) -> &'static str {
        match self {
            Self::InvalidQuantity { .. } => "invalid_quantity",
            Self::InvalidPrice { .. } => "invalid_price",
            Self::LineNotFound(_) => "line_not_found",
            Self::OrderNotFound => "order_not_found",
            Self::OrderEmpty => "order_empty",
            Self::OrderNotEditable { .. } => "order_not_editable",
            Self::AlreadyCancelled => "order_already_cancelled",
            Self::FulfilledCannotBeCancelled => "fulfilled_order_not_cancellable",
            Self::InvalidStatusTransition { .. } => "invalid_order_status",
            Self::NotDeletable { .. } => "order_not_deletable",
            Self::OrderDeleted => "order_deleted",
            Self::CurrencyMismatch { .. } => "currency_mismatch",
            Self::AmountOverflow => "amount_overflow",
            Self::NegativeTotal => "negative_total",
            Self::TooManyLines { .. } => "too_many_lines",
            Self::NegativeAdjustment { .. } => "negative_adjustment",
            Self::UnknownCurrency(_) => "unknown_currency",
            Self::InvalidAmount { .. } => "invalid_amount",
            Self::UnknownStatus(_) => "unknown_status",
            Self::InvalidOrderNumber(_) => "invalid_order_number",
            Self::InvalidText { .. } => "invalid_text",
            Self::InvalidTaxRate { .. } => "invalid_tax_rate",
            Self::InvalidDiscount(_) => "invalid_discount",
            Self::DiscountExceedsAmount { .. } => "discount_exceeds_amount",
            Self::DiscountNotFound(_) => "discount_not_found",
            Self::DiscountCodeAlreadyApplied(_) => "discount_code_already_applied",
            Self::TooManyDiscounts { .. } => "too_many_discounts",
            Self::NoLinesGiven => "no_lines_given",
            Self::DuplicateLine(_) => "duplicate_line",
            Self::QuantityExceedsUnshipped { .. } => "quantity_exceeds_unshipped",
            Self::QuantityExceedsReturnable { .. } => "quantity_exceeds_returnable",
            Self::OrderHasShipments => "order_has_shipments",
            Self::QuantityBelowShipped { .. } => "quantity_below_shipped",
            Self::LineBelowRefunded { .. } => "line_below_refunded",
            Self::LineAlreadyExists(_) => "line_already_exists",
            Self::EditNotOpen { .. } => "edit_not_open",
            Self::EditEmpty => "edit_empty",
            Self::EditStale { .. } => "edit_stale",
            Self::TooMany { .. } => "too_many_records",
            Self::CorruptOrder(_) => "corrupt_order",
        }
    }
}
