//! Shipments: a [`Fulfillment`] ships some units of some lines of an order,
//! optionally with a carrier and a tracking number. How much of a line has
//! shipped is always the sum of its fulfilments, so it cannot drift.

use chrono::{DateTime, Utc};

use crate::line::clean_text;
use crate::{DomainError, FulfillmentId, LineId, Quantity};

/// A number of units of one line: what a shipment ships or a return brings back.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct LineQuantity {
    /// The order line.
    pub line_id: LineId,
    /// How many of its units.
    pub quantity: Quantity,
}

/// What a caller supplies to ship part of an order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewFulfillment {
    /// Id for the shipment.
    pub id: FulfillmentId,
    /// Lines and quantities shipped; each line at most once.
    pub lines: Vec<LineQuantity>,
    /// Who carries it, if known (`"DHL"`).
    pub carrier: Option<String>,
    /// The carrier's tracking number, if known.
    pub tracking_number: Option<String>,
}

/// One shipment of an order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fulfillment {
    id: FulfillmentId,
    lines: Vec<LineQuantity>,
    carrier: Option<String>,
    tracking_number: Option<String>,
    created_at: DateTime<Utc>,
}

/// Every stored field of a shipment, for [`crate::Order::restore`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FulfillmentSnapshot {
    /// Identifier.
    pub id: FulfillmentId,
    /// Lines and quantities shipped.
    pub lines: Vec<LineQuantity>,
    /// Carrier, if any.
    pub carrier: Option<String>,
    /// Tracking number, if any.
    pub tracking_number: Option<String>,
    /// When it shipped.
    pub created_at: DateTime<Utc>,
}

/// How much of an order has shipped, derived from its shipments.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FulfillmentStatus {
    /// Nothing has shipped.
    Unfulfilled,
    /// Some units have shipped, not all.
    PartiallyFulfilled,
    /// Every unit of every line has shipped.
    Fulfilled,
}

impl FulfillmentStatus {
    /// The snake_case name used in the API and in events.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Unfulfilled => "unfulfilled",
            Self::PartiallyFulfilled => "partially_fulfilled",
            Self::Fulfilled => "fulfilled",
        }
    }
}

impl std::fmt::Display for FulfillmentStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Fulfillment {
    /// Longest accepted carrier name, in characters.
    pub const MAX_CARRIER_CHARS: usize = 100;
    /// Longest accepted tracking number, in characters.
    pub const MAX_TRACKING_CHARS: usize = 200;

    /// Validates the request's own shape (lines present, each once, texts
    /// bounded); whether the quantities are available is the order's call.
    pub(crate) fn new(new: NewFulfillment, now: DateTime<Utc>) -> Result<Self, DomainError> {
        ensure_distinct_lines(&new.lines)?;
        Ok(Self {
            id: new.id,
            lines: new.lines,
            carrier: clean_text("carrier", new.carrier, Self::MAX_CARRIER_CHARS)?,
            tracking_number: clean_text(
                "tracking_number",
                new.tracking_number,
                Self::MAX_TRACKING_CHARS,
            )?,
            created_at: now,
        })
    }

    /// Rebuilds a stored shipment; the order checks it against its lines.
    pub(crate) fn restore(s: FulfillmentSnapshot) -> Result<Self, DomainError> {
        let id = s.id;
        Self::new(
            NewFulfillment {
                id: s.id,
                lines: s.lines,
                carrier: s.carrier,
                tracking_number: s.tracking_number,
            },
            s.created_at,
        )
        .map_err(|e| DomainError::CorruptOrder(format!("fulfillment {id}: {e}")))
    }

    /// Every stored field.
    #[must_use]
    pub fn snapshot(&self) -> FulfillmentSnapshot {
        FulfillmentSnapshot {
            id: self.id,
            lines: self.lines.clone(),
            carrier: self.carrier.clone(),
            tracking_number: self.tracking_number.clone(),
            created_at: self.created_at,
        }
    }

    /// The shipment's id.
    #[must_use]
    pub const fn id(&self) -> FulfillmentId {
        self.id
    }
    /// Lines and quantities shipped.
    #[must_use]
    pub fn lines(&self) -> &[LineQuantity] {
        &self.lines
    }
    /// The carrier, if given.
    #[must_use]
    pub fn carrier(&self) -> Option<&str> {
        self.carrier.as_deref()
    }
    /// The tracking number, if given.
    #[must_use]
    pub fn tracking_number(&self) -> Option<&str> {
        self.tracking_number.as_deref()
    }
    /// When it shipped.
    #[must_use]
    pub const fn created_at(&self) -> DateTime<Utc> {
        self.created_at
    }
}

/// A shipment or return names each line at most once and at least one line.
pub(crate) fn ensure_distinct_lines(lines: &[LineQuantity]) -> Result<(), DomainError> {
    if lines.is_empty() {
        return Err(DomainError::NoLinesGiven);
    }
    for (i, line) in lines.iter().enumerate() {
        if lines[..i].iter().any(|l| l.line_id == line.line_id) {
            return Err(DomainError::DuplicateLine(line.line_id));
        }
    }
    Ok(())
}
