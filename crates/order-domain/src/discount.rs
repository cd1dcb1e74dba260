//! `Discount`: an amount or a percentage taken off an order, with an optional
//! code and description. How much it takes and how that is spread over the
//! lines is decided by [`crate::price_order`].

use chrono::{DateTime, Utc};

use crate::line::clean_text;
use crate::{Currency, DiscountId, DiscountValue, DomainError, Money, Percentage};

/// What a caller supplies to add a discount to an order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewDiscount {
    /// Id for the discount.
    pub id: DiscountId,
    /// A fixed amount or a percentage.
    pub value: DiscountValue,
    /// A voucher or promotion code, if any (unique on the order, case-insensitively).
    pub code: Option<String>,
    /// Free text shown with the discount.
    pub description: Option<String>,
}

/// A discount on an order. `amount` is what it takes, given the discounts
/// added before it (see [`crate::price_order`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Discount {
    id: DiscountId,
    value: DiscountValue,
    code: Option<String>,
    description: Option<String>,
    amount: Money,
    created_at: DateTime<Utc>,
}

/// Every stored field of a discount, for adapters that rebuild one with [`crate::Order::restore`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DiscountSnapshot {
    /// Identifier.
    pub id: DiscountId,
    /// A fixed amount or a percentage.
    pub value: DiscountValue,
    /// The code, if any.
    pub code: Option<String>,
    /// The description, if any.
    pub description: Option<String>,
    /// What it takes off the order (checked on restore).
    pub amount: Money,
    /// When it was added (discounts apply in this order).
    pub created_at: DateTime<Utc>,
}

impl Discount {
    /// Longest accepted code, in characters.
    pub const MAX_CODE_CHARS: usize = 64;
    /// Longest accepted description, in characters.
    pub const MAX_DESCRIPTION_CHARS: usize = 500;

    /// The rule on a fixed discount's amount alone, in minor units: more
    /// than zero. Public so that an adapter can refuse a bad amount before
    /// it reads the order (whose currency makes it `Money`).
    ///
    /// # Errors
    /// [`DomainError::InvalidDiscount`] when the amount is zero or negative.
    pub fn check_fixed_amount(minor_units: i64) -> Result<(), DomainError> {
        if minor_units <= 0 {
            return Err(DomainError::InvalidDiscount(
                "a fixed discount must be more than zero".to_owned(),
            ));
        }
        Ok(())
    }

    /// Validates a new discount; its amount is set when the order is priced.
    pub(crate) fn new(
        new: NewDiscount,
        currency: Currency,
        now: DateTime<Utc>,
    ) -> Result<Self, DomainError> {
        match new.value {
            DiscountValue::Fixed(amount) => Self::check_fixed_amount(amount.amount())?,
            DiscountValue::Percentage(p) if p.is_zero() || p > Percentage::HUNDRED => {
                return Err(DomainError::InvalidDiscount(
                    "a percentage discount must be more than 0 and at most 100".to_owned(),
                ));
            }
            DiscountValue::Percentage(_) => {}
        }
        Ok(Self {
            id: new.id,
            code: clean_text("code", new.code, Self::MAX_CODE_CHARS)?,
            description: clean_text("description", new.description, Self::MAX_DESCRIPTION_CHARS)?,
            amount: Money::zero(currency),
            value: new.value,
            created_at: now,
        })
    }

    /// Rebuilds a stored discount; its amount is checked by the order.
    pub(crate) fn restore(s: DiscountSnapshot) -> Result<Self, DomainError> {
        let mut discount = Self::new(
            NewDiscount {
                id: s.id,
                value: s.value,
                code: s.code,
                description: s.description,
            },
            s.amount.currency(),
            s.created_at,
        )?;
        discount.amount = s.amount;
        Ok(discount)
    }

    /// Every stored field.
    #[must_use]
    pub fn snapshot(&self) -> DiscountSnapshot {
        DiscountSnapshot {
            id: self.id,
            value: self.value,
            code: self.code.clone(),
            description: self.description.clone(),
            amount: self.amount,
            created_at: self.created_at,
        }
    }

    pub(crate) fn with_amount(&self, amount: Money) -> Self {
        Self {
            amount,
            ..self.clone()
        }
    }

    /// The discount's id.
    #[must_use]
    pub const fn id(&self) -> DiscountId {
        self.id
    }

    /// A fixed amount or a percentage.
    #[must_use]
    pub const fn value(&self) -> DiscountValue {
        self.value
    }

    /// The code, if any.
    #[must_use]
    pub fn code(&self) -> Option<&str> {
        self.code.as_deref()
    }

    /// The description, if any.
    #[must_use]
    pub fn description(&self) -> Option<&str> {
        self.description.as_deref()
    }

    /// What the discount takes off the order, given those added before it.
    #[must_use]
    pub const fn amount(&self) -> Money {
        self.amount
    }

    /// When it was added.
    #[must_use]
    pub const fn created_at(&self) -> DateTime<Utc> {
        self.created_at
    }
}
