//! `OrderLine`: one product on an order, with its quantity, price and snapshot.

use chrono::{DateTime, Utc};

use crate::{DomainError, LineId, LinePrice, Money, ProductId, TaxRate};

/// How many units of a product a line holds: 1 to [`Quantity::MAX`].
///
/// The upper bound keeps every line subtotal of a sane price far from the
/// `i64` limit and catches fat-finger input (a quantity of 10^9 is a typo).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Quantity(u32);

impl Quantity {
    /// The largest quantity one line may hold.
    pub const MAX: u32 = 1_000_000;

    /// Validates a requested quantity.
    ///
    /// # Errors
    /// [`DomainError::InvalidQuantity`] unless `1 <= quantity <= Quantity::MAX`.
    pub fn new(quantity: i64) -> Result<Self, DomainError> {
        u32::try_from(quantity)
            .ok()
            .filter(|q| (1..=Self::MAX).contains(q))
            .map(Self)
            .ok_or(DomainError::InvalidQuantity {
                quantity,
                max: Self::MAX,
            })
    }

    /// The number of units.
    #[must_use]
    pub const fn get(self) -> u32 {
        self.0
    }
}

/// What the product looked like when it was ordered, kept so that later
/// catalogue edits do not rewrite history.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ProductSnapshot {
    description: Option<String>,
    sku: Option<String>,
}

impl ProductSnapshot {
    /// Longest accepted description, in characters.
    pub const MAX_DESCRIPTION_CHARS: usize = 500;
    /// Longest accepted SKU, in characters.
    pub const MAX_SKU_CHARS: usize = 64;

    /// Validates a description and SKU; blank values are stored as absent.
    ///
    /// # Errors
    /// [`DomainError::InvalidText`] when a value is too long or holds control characters.
    pub fn new(description: Option<String>, sku: Option<String>) -> Result<Self, DomainError> {
        Ok(Self {
            description: clean_text("description", description, Self::MAX_DESCRIPTION_CHARS)?,
            sku: clean_text("sku", sku, Self::MAX_SKU_CHARS)?,
        })
    }

    /// The product description, if one was given.
    #[must_use]
    pub fn description(&self) -> Option<&str> {
        self.description.as_deref()
    }

    /// The stock-keeping unit, if one was given.
    #[must_use]
    pub fn sku(&self) -> Option<&str> {
        self.sku.as_deref()
    }
}

/// Trims free text, maps blank to `None`, and bounds its length.
pub(crate) fn clean_text(
    field: &'static str,
    value: Option<String>,
    max_chars: usize,
) -> Result<Option<String>, DomainError> {
    let Some(value) = value else { return Ok(None) };
    let trimmed = value.trim();
    if trimmed.is_empty() {
        return Ok(None);
    }
    if trimmed.chars().count() > max_chars {
        return Err(DomainError::InvalidText {
            field,
            reason: format!("must be at most {max_chars} characters"),
        });
    }
    if trimmed.chars().any(char::is_control) {
        return Err(DomainError::InvalidText {
            field,
            reason: "must not contain control characters".to_owned(),
        });
    }
    Ok(Some(trimmed.to_owned()))
}

/// How a line is taxed: its rate and an optional category label
/// (`"standard"`, `"reduced"`, ...). The default is untaxed.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct LineTax {
    rate: TaxRate,
    category: Option<String>,
}

impl LineTax {
    /// Longest accepted category label, in characters.
    pub const MAX_CATEGORY_CHARS: usize = 64;

    /// A rate and a category label; a blank label is stored as absent.
    ///
    /// # Errors
    /// [`DomainError::InvalidText`] when the label is too long or holds control characters.
    pub fn new(rate: TaxRate, category: Option<String>) -> Result<Self, DomainError> {
        Ok(Self {
            rate,
            category: clean_text("tax_category", category, Self::MAX_CATEGORY_CHARS)?,
        })
    }

    /// The tax rate.
    #[must_use]
    pub const fn rate(&self) -> TaxRate {
        self.rate
    }

    /// The category label, if any.
    #[must_use]
    pub fn category(&self) -> Option<&str> {
        self.category.as_deref()
    }
}

/// What a caller supplies to add a line to an order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewLine {
    /// Id for the line if a new one is created (ignored when the product merges into an existing line).
    pub line_id: LineId,
    /// The product ordered.
    pub product_id: ProductId,
    /// Units ordered.
    pub quantity: Quantity,
    /// Price of one unit; must be non-negative and in the order's currency.
    pub unit_price: Money,
    /// Description and SKU at the time of ordering.
    pub snapshot: ProductSnapshot,
    /// Tax rate and category (untaxed by default).
    pub tax: LineTax,
}

/// One product on an order. Its subtotal (gross amount) is always
/// `quantity × unit_price`; its discount share, tax and total are set by the
/// order whenever anything that prices it changes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderLine {
    id: LineId,
    product_id: ProductId,
    quantity: Quantity,
    unit_price: Money,
    subtotal: Money,
    snapshot: ProductSnapshot,
    tax: LineTax,
    price: LinePrice,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

/// Every stored field of a line, for adapters that rebuild one with [`OrderLine::restore`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineSnapshot {
    /// Identifier.
    pub id: LineId,
    /// The product.
    pub product_id: ProductId,
    /// Units, as stored (validated on restore).
    pub quantity: i64,
    /// Price of one unit.
    pub unit_price: Money,
    /// Sum of the line subtotals (for a line: quantity × unit price).
    pub subtotal: Money,
    /// Description snapshot.
    pub description: Option<String>,
    /// SKU snapshot.
    pub sku: Option<String>,
    /// Tax rate.
    pub tax_rate: TaxRate,
    /// Tax category label.
    pub tax_category: Option<String>,
    /// The line's share of the order's discounts (checked on restore).
    pub discount: Money,
    /// The line's tax (checked on restore).
    pub tax: Money,
    /// What the customer pays for the line (checked on restore).
    pub total: Money,
    /// Creation time.
    pub created_at: DateTime<Utc>,
    /// Time of the last change.
    pub updated_at: DateTime<Utc>,
}

impl OrderLine {
    /// The largest unit price accepted, in minor units (10^15: ten trillion
    /// dollars, a thousand trillion yen). Anything above is a typo or an attack,
    /// and keeping prices here leaves `i64` head-room for quantities and sums.
    pub const MAX_UNIT_PRICE: i64 = 1_000_000_000_000_000;

    /// Whether a unit price is acceptable: non-negative and at most [`Self::MAX_UNIT_PRICE`].
    #[must_use]
    pub const fn is_valid_unit_price(price: Money) -> bool {
        price.amount() >= 0 && price.amount() <= Self::MAX_UNIT_PRICE
    }

    pub(crate) fn new(line: NewLine, now: DateTime<Utc>) -> Result<Self, DomainError> {
        if !Self::is_valid_unit_price(line.unit_price) {
            return Err(DomainError::InvalidPrice {
                amount: line.unit_price.amount(),
            });
        }
        let subtotal = line.unit_price.checked_mul(line.quantity.get())?;
        let zero = Money::zero(subtotal.currency());
        Ok(Self {
            id: line.line_id,
            product_id: line.product_id,
            quantity: line.quantity,
            subtotal,
            unit_price: line.unit_price,
            snapshot: line.snapshot,
            tax: line.tax,
            // Untaxed and undiscounted until the order prices it.
            price: LinePrice {
                discount: zero,
                tax: zero,
                total: subtotal,
            },
            created_at: now,
            updated_at: now,
        })
    }

    /// Rebuilds a stored line, checking every invariant a new line has; its
    /// discount share, tax and total are checked by [`crate::Order::restore`].
    ///
    /// # Errors
    /// [`DomainError::CorruptOrder`] when the stored values break a rule.
    pub fn restore(s: LineSnapshot) -> Result<Self, DomainError> {
        let corrupt = |what: &str| DomainError::CorruptOrder(format!("line {}: {what}", s.id));
        let quantity = Quantity::new(s.quantity).map_err(|e| corrupt(&e.to_string()))?;
        let snapshot = ProductSnapshot::new(s.description.clone(), s.sku.clone())
            .map_err(|e| corrupt(&e.to_string()))?;
        let tax = LineTax::new(s.tax_rate, s.tax_category.clone())
            .map_err(|e| corrupt(&e.to_string()))?;
        let line = Self::new(
            NewLine {
                line_id: s.id,
                product_id: s.product_id,
                quantity,
                unit_price: s.unit_price,
                snapshot,
                tax,
            },
            s.created_at,
        )
        .map_err(|e| corrupt(&e.to_string()))?;
        if line.subtotal != s.subtotal {
            return Err(corrupt("subtotal is not quantity × unit price"));
        }
        Ok(Self {
            updated_at: s.updated_at,
            price: LinePrice {
                discount: s.discount,
                tax: s.tax,
                total: s.total,
            },
            ..line
        })
    }

    /// Every stored field, the inverse of [`OrderLine::restore`].
    #[must_use]
    pub fn snapshot(&self) -> LineSnapshot {
        LineSnapshot {
            id: self.id,
            product_id: self.product_id,
            quantity: i64::from(self.quantity.get()),
            unit_price: self.unit_price,
            subtotal: self.subtotal,
            description: self.snapshot.description.clone(),
            sku: self.snapshot.sku.clone(),
            tax_rate: self.tax.rate,
            tax_category: self.tax.category.clone(),
            discount: self.price.discount,
            tax: self.price.tax,
            total: self.price.total,
            created_at: self.created_at,
            updated_at: self.updated_at,
        }
    }

    /// Same line with another quantity; the subtotal follows.
    pub(crate) fn with_quantity(
        &self,
        quantity: Quantity,
        now: DateTime<Utc>,
    ) -> Result<Self, DomainError> {
        Ok(Self {
            quantity,
            subtotal: self.unit_price.checked_mul(quantity.get())?,
            updated_at: now,
            ..self.clone()
        })
    }

    /// Same line with new priced amounts (pricing never changes `updated_at`:
    /// the line itself did not change, the order around it did).
    pub(crate) fn with_price(&self, price: LinePrice) -> Self {
        Self {
            price,
            ..self.clone()
        }
    }

    /// The line id.
    #[must_use]
    pub const fn id(&self) -> LineId {
        self.id
    }

    /// The product ordered.
    #[must_use]
    pub const fn product_id(&self) -> ProductId {
        self.product_id
    }

    /// Units ordered.
    #[must_use]
    pub const fn quantity(&self) -> Quantity {
        self.quantity
    }

    /// Price of one unit.
    #[must_use]
    pub const fn unit_price(&self) -> Money {
        self.unit_price
    }

    /// `quantity × unit_price`.
    #[must_use]
    pub const fn subtotal(&self) -> Money {
        self.subtotal
    }

    /// The gross amount, `quantity × unit_price` (the same as [`Self::subtotal`]).
    #[must_use]
    pub const fn gross(&self) -> Money {
        self.subtotal
    }

    /// How the line is taxed.
    #[must_use]
    pub const fn line_tax(&self) -> &LineTax {
        &self.tax
    }

    /// The line's tax rate.
    #[must_use]
    pub const fn tax_rate(&self) -> TaxRate {
        self.tax.rate
    }

    /// The line's share of the order's discounts.
    #[must_use]
    pub const fn discount(&self) -> Money {
        self.price.discount
    }

    /// Tax on the discounted amount (contained in it when prices include tax).
    #[must_use]
    pub const fn tax(&self) -> Money {
        self.price.tax
    }

    /// What the customer pays for the line: `gross − discount (+ tax when
    /// prices exclude tax)`.
    #[must_use]
    pub const fn total(&self) -> Money {
        self.price.total
    }

    /// Product description at the time of ordering.
    #[must_use]
    pub fn description(&self) -> Option<&str> {
        self.snapshot.description()
    }

    /// SKU at the time of ordering.
    #[must_use]
    pub fn sku(&self) -> Option<&str> {
        self.snapshot.sku()
    }

    /// When the line was added.
    #[must_use]
    pub const fn created_at(&self) -> DateTime<Utc> {
        self.created_at
    }

    /// When the line last changed.
    #[must_use]
    pub const fn updated_at(&self) -> DateTime<Utc> {
        self.updated_at
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantity_must_be_positive_and_bounded() {
        for bad in [0, -1, i64::from(Quantity::MAX) + 1, i64::MAX, i64::MIN] {
            assert_eq!(
                Quantity::new(bad),
                Err(DomainError::InvalidQuantity {
                    quantity: bad,
                    max: Quantity::MAX
                })
            );
        }
        assert_eq!(Quantity::new(1).map(Quantity::get), Ok(1));
        assert_eq!(Quantity::new(1_000_000).map(Quantity::get), Ok(1_000_000));
    }

    #[test]
    fn snapshot_text_is_trimmed_bounded_and_blank_means_absent() {
        let s = ProductSnapshot::new(Some("  Blue mug ".into()), Some("   ".into())).unwrap();
        assert_eq!(s.description(), Some("Blue mug"));
        assert_eq!(s.sku(), None);
        assert!(matches!(
            ProductSnapshot::new(Some("x".repeat(501)), None),
            Err(DomainError::InvalidText {
                field: "description",
                ..
            })
        ));
        assert!(matches!(
            ProductSnapshot::new(None, Some("s".repeat(65))),
            Err(DomainError::InvalidText { field: "sku", .. })
        ));
        assert!(matches!(
            ProductSnapshot::new(None, Some("a\u{0}b".into())),
            Err(DomainError::InvalidText { field: "sku", .. })
        ));
    }
}
