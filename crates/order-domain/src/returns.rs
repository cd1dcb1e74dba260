//! Returns: units that came back from the customer, and what to refund for them.
//!
//! The refund for a line is taken from what the customer paid for it (its
//! total: gross − discount share, plus tax when prices exclude it), spread
//! over its units **cumulatively**: after `r` of `q` units have come back, the
//! line has refunded `floor(total × r / q)` in all. Each return refunds the
//! growth of that figure, so however the units are split over returns, the
//! refunds add up to the same amount, never more than was paid, and exactly
//! what was paid once every unit is back. Billing moves the money; this
//! service only says how much.

use chrono::{DateTime, Utc};

use crate::fulfillment::ensure_distinct_lines;
use crate::line::clean_text;
use crate::{DomainError, LineId, LineQuantity, Money, Quantity, ReturnId};

/// What a caller supplies to record a return.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewReturn {
    /// Id for the return.
    pub id: ReturnId,
    /// Lines and quantities coming back; each line at most once.
    pub lines: Vec<LineQuantity>,
    /// Why they come back (required).
    pub reason: String,
}

/// One line of a return and the refund it earns.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ReturnLine {
    /// The order line.
    pub line_id: LineId,
    /// Units returned.
    pub quantity: Quantity,
    /// What is refunded for them.
    pub refund: Money,
}

/// A return of shipped units.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Return {
    id: ReturnId,
    lines: Vec<ReturnLine>,
    reason: String,
    refund_amount: Money,
    created_at: DateTime<Utc>,
}

/// Every stored field of a return, for [`crate::Order::restore`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReturnSnapshot {
    /// Identifier.
    pub id: ReturnId,
    /// Lines, quantities and refunds.
    pub lines: Vec<ReturnLine>,
    /// Why.
    pub reason: String,
    /// Sum of the lines' refunds (checked on restore).
    pub refund_amount: Money,
    /// When it was recorded.
    pub created_at: DateTime<Utc>,
}

/// How much of an order came back, derived from its returns.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ReturnStatus {
    /// Nothing has come back.
    None,
    /// Some units came back, not all that were ordered.
    PartiallyReturned,
    /// Every unit of every line came back.
    Returned,
}

impl ReturnStatus {
    /// The snake_case name used in the API and in events.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::None => "none",
            Self::PartiallyReturned => "partially_returned",
            Self::Returned => "returned",
        }
    }
}

impl std::fmt::Display for ReturnStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Return {
    /// Longest accepted reason, in characters.
    pub const MAX_REASON_CHARS: usize = 500;

    /// Checks the reason and the shape of the lines; the refunds are the order's.
    pub(crate) fn validate_request(new: &NewReturn) -> Result<String, DomainError> {
        ensure_distinct_lines(&new.lines)?;
        Self::check_reason(&new.reason)
    }

    /// A return's reason as it is kept: trimmed, not blank, at most
    /// [`Return::MAX_REASON_CHARS`], no control characters. Callers may check
    /// it before anything else about the request (the HTTP adapter does, so
    /// a malformed body is refused whatever state the order is in).
    ///
    /// # Errors
    /// [`DomainError::InvalidText`] naming `reason`.
    pub fn check_reason(reason: &str) -> Result<String, DomainError> {
        clean_text("reason", Some(reason.to_owned()), Self::MAX_REASON_CHARS)?.ok_or(
            DomainError::InvalidText {
                field: "reason",
                reason: "must not be blank".to_owned(),
            },
        )
    }

    pub(crate) fn new(
        id: ReturnId,
        lines: Vec<ReturnLine>,
        reason: String,
        refund_amount: Money,
        now: DateTime<Utc>,
    ) -> Self {
        Self {
            id,
            lines,
            reason,
            refund_amount,
            created_at: now,
        }
    }

    /// Rebuilds a stored return; the order checks it against its lines.
    pub(crate) fn restore(s: ReturnSnapshot) -> Result<Self, DomainError> {
        let corrupt = |what: String| DomainError::CorruptOrder(format!("return {}: {what}", s.id));
        let request = NewReturn {
            id: s.id,
            lines: s
                .lines
                .iter()
                .map(|l| LineQuantity {
                    line_id: l.line_id,
                    quantity: l.quantity,
                })
                .collect(),
            reason: s.reason.clone(),
        };
        let reason = Self::validate_request(&request).map_err(|e| corrupt(e.to_string()))?;
        let currency = s.refund_amount.currency();
        if s.lines.iter().any(|l| l.refund.is_negative()) {
            return Err(corrupt("negative refund".into()));
        }
        let sum = Money::checked_sum(currency, s.lines.iter().map(|l| l.refund))
            .map_err(|e| corrupt(e.to_string()))?;
        if sum != s.refund_amount {
            return Err(corrupt("refund amount is not the sum of its lines".into()));
        }
        Ok(Self::new(
            s.id,
            s.lines,
            reason,
            s.refund_amount,
            s.created_at,
        ))
    }

    /// Every stored field.
    #[must_use]
    pub fn snapshot(&self) -> ReturnSnapshot {
        ReturnSnapshot {
            id: self.id,
            lines: self.lines.clone(),
            reason: self.reason.clone(),
            refund_amount: self.refund_amount,
            created_at: self.created_at,
        }
    }

    /// The return's id.
    #[must_use]
    pub const fn id(&self) -> ReturnId {
        self.id
    }
    /// Lines, quantities and refunds.
    #[must_use]
    pub fn lines(&self) -> &[ReturnLine] {
        &self.lines
    }
    /// Why the units came back.
    #[must_use]
    pub fn reason(&self) -> &str {
        &self.reason
    }
    /// What the return refunds in all.
    #[must_use]
    pub const fn refund_amount(&self) -> Money {
        self.refund_amount
    }
    /// When it was recorded.
    #[must_use]
    pub const fn created_at(&self) -> DateTime<Utc> {
        self.created_at
    }
}

/// The refund for `returning` more units of a line that was paid `paid` for
/// `ordered` units, of which `returned` already came back and earned
/// `refunded`: `floor(paid × (returned + returning) / ordered) − refunded`,
/// never below zero and never past what is left of `paid`.
///
/// # Errors
/// [`DomainError::AmountOverflow`] only for amounts no order can reach.
///
/// ```
/// use order_domain::{cumulative_refund, Currency, Money};
/// let paid = Money::new(1_000, Currency::USD); // 10.00 for 3 units
/// let first = cumulative_refund(paid, 3, 0, Money::zero(Currency::USD), 1)?;
/// let rest = cumulative_refund(paid, 3, 1, first, 2)?;
/// assert_eq!((first.amount(), rest.amount()), (333, 667)); // 3.33 + 6.67 = 10.00
/// # Ok::<(), order_domain::DomainError>(())
/// ```
pub fn cumulative_refund(
    paid: Money,
    ordered: u32,
    returned: u32,
    refunded: Money,
    returning: u32,
) -> Result<Money, DomainError> {
    let zero = Money::zero(paid.currency());
    if ordered == 0 {
        return Ok(zero);
    }
    let units = u64::from(returned) + u64::from(returning);
    let units = i128::from(units.min(u64::from(ordered)));
    let target = i128::from(paid.amount().max(0)) * units / i128::from(ordered);
    let target = i64::try_from(target).map_err(|_| DomainError::AmountOverflow)?;
    let owed = target
        .checked_sub(refunded.amount())
        .ok_or(DomainError::AmountOverflow)?;
    let left = paid
        .amount()
        .checked_sub(refunded.amount())
        .ok_or(DomainError::AmountOverflow)?;
    Ok(Money::new(owed.min(left).max(0), paid.currency()))
}
