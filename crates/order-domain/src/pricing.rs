//! Tax rates, discounts and their allocation to lines: pure functions of the
//! lines, exact to the currency's minor unit.
//!
//! The rules, in the order they apply to an order:
//! 1. A line's **gross** amount is `quantity × unit_price`, as priced.
//! 2. **Discounts apply in the order they were added.** Each one is taken from
//!    what the earlier ones left: a fixed discount must not exceed it
//!    ([`DomainError::DiscountExceedsAmount`]); a percentage discount is that
//!    percentage of it, rounded half-even to the minor unit.
//! 3. Each discount is **allocated to the lines** in proportion to what is left
//!    of each line, by the largest-remainder method: every line gets the floor
//!    of its exact share, and the minor units still missing go one each to the
//!    lines with the largest remainders. **Ties go to the line whose id sorts
//!    first**, so the result never depends on the order lines are listed in.
//!    The shares sum exactly to the discount and no share exceeds its line.
//! 4. **Tax is per line**, on the discounted line amount, rounded half-even to
//!    the minor unit. With prices **exclusive** of tax (the default, B2B and
//!    US) it is `amount × rate` and is added; with prices **inclusive** of tax
//!    (EU retail) it is the part of the amount the price contains,
//!    `amount × rate / (1 + rate)`, and is not added.
//! 5. The order's subtotal, discount, tax and total are the exact sums of its
//!    lines' gross, discount share, tax and total.
//!
//! ```
//! use order_domain::{allocate_largest_remainder, LineId};
//! use uuid::Uuid;
//! // 1.00 off three lines of 1.00 each: 0.34 / 0.33 / 0.33, the first id gets the extra cent.
//! let ids = [1_u128, 2, 3].map(|n| LineId::from_uuid(Uuid::from_u128(n)));
//! let shares = allocate_largest_remainder(100, &[(ids[0], 100), (ids[1], 100), (ids[2], 100)]);
//! assert_eq!(shares, Some(vec![34, 33, 33]));
//! ```

use std::fmt;

use rust_decimal::Decimal;

use crate::{Currency, DomainError, LineId, Money};

/// Millionths in one whole: a percentage with 4 fraction digits is an integer
/// number of millionths (19 % = 190 000, 7.5 % = 75 000).
const MILLION: i128 = 1_000_000;

/// A percentage from 0 to 100 with at most 4 fraction digits, held exactly as
/// an integer number of millionths of the whole (never a float).
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct Percentage(u32);

impl Percentage {
    /// 0 %.
    pub const ZERO: Self = Self(0);
    /// 100 %.
    pub const HUNDRED: Self = Self(1_000_000);
    /// Most fraction digits a percentage may have (`"7.1234"`).
    pub const MAX_FRACTION_DIGITS: u32 = 4;

    /// Reads a decimal percentage such as `"19"`, `"7.5"` or `"0.0001"`.
    ///
    /// # Errors
    /// Why the text is refused: not a plain decimal number, more than
    /// [`Self::MAX_FRACTION_DIGITS`] fraction digits, or outside 0–100.
    pub fn parse(text: &str) -> Result<Self, &'static str> {
        // rust_decimal accepts `_` separators and exponents; a percentage should not.
        if text.is_empty()
            || !text
                .bytes()
                .all(|b| b.is_ascii_digit() || b == b'.' || b == b'-' || b == b'+')
        {
            return Err("must be a decimal number such as \"19\" or \"7.5\"");
        }
        let value = Decimal::from_str_exact(text)
            .map_err(|_| "must be a decimal number such as \"19\" or \"7.5\"")?;
        Self::from_decimal(value)
    }

    /// The percentage `value` (19 for 19 %).
    ///
    /// # Errors
    /// Why the value is refused: more than 4 fraction digits, or outside 0–100.
    pub fn from_decimal(value: Decimal) -> Result<Self, &'static str> {
        let value = value.normalize();
        if value.scale() > Self::MAX_FRACTION_DIGITS {
            return Err("must have at most 4 fraction digits");
        }
        if value.is_sign_negative() && !value.is_zero() || value > Decimal::ONE_HUNDRED {
            return Err("must be between 0 and 100");
        }
        // value × 10^4 is an integer in 0..=1_000_000 now.
        let millionths = value.mantissa() * 10_i128.pow(Self::MAX_FRACTION_DIGITS - value.scale());
        u32::try_from(millionths)
            .map(Self)
            .map_err(|_| "must be between 0 and 100")
    }

    /// Rebuilds a stored percentage from its millionths (`190_000` for 19 %);
    /// `None` above 100 %.
    #[must_use]
    pub const fn from_millionths(millionths: u32) -> Option<Self> {
        if millionths <= 1_000_000 {
            Some(Self(millionths))
        } else {
            None
        }
    }

    /// Millionths of the whole (`190_000` for 19 %): the exact stored form.
    #[must_use]
    pub const fn millionths(self) -> u32 {
        self.0
    }

    /// The percentage as a decimal without trailing zeros (`19`, `7.5`).
    #[must_use]
    pub fn to_decimal(self) -> Decimal {
        Decimal::new(i64::from(self.0), Self::MAX_FRACTION_DIGITS).normalize()
    }

    /// Whether this is 0 %.
    #[must_use]
    pub const fn is_zero(self) -> bool {
        self.0 == 0
    }
}

impl fmt::Debug for Percentage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}%", self.to_decimal())
    }
}

impl fmt::Display for Percentage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.to_decimal(), f)
    }
}

/// A line's tax rate: a [`Percentage`] (0 % when the line is not taxed).
///
/// ```
/// use order_domain::TaxRate;
/// assert_eq!(TaxRate::parse("19")?.to_string(), "19");
/// assert_eq!(TaxRate::parse("7.50")?.to_string(), "7.5");
/// assert!(TaxRate::parse("100.00001").is_err());
/// # Ok::<(), order_domain::DomainError>(())
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct TaxRate(Percentage);

impl TaxRate {
    /// No tax.
    pub const ZERO: Self = Self(Percentage::ZERO);

    /// Reads a rate such as `"19"` or `"7.5"` (0–100, at most 4 fraction digits).
    ///
    /// # Errors
    /// [`DomainError::InvalidTaxRate`].
    pub fn parse(text: &str) -> Result<Self, DomainError> {
        Percentage::parse(text)
            .map(Self)
            .map_err(|reason| DomainError::InvalidTaxRate {
                input: text.to_owned(),
                reason,
            })
    }

    /// The rate as a percentage.
    #[must_use]
    pub const fn new(percentage: Percentage) -> Self {
        Self(percentage)
    }

    /// The rate as a percentage.
    #[must_use]
    pub const fn percentage(self) -> Percentage {
        self.0
    }
}

impl fmt::Debug for TaxRate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "TaxRate({}%)", self.0)
    }
}

impl fmt::Display for TaxRate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

/// Whether an order's prices contain tax. Chosen when the order is created.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum TaxMode {
    /// Prices exclude tax and tax is added: `total = subtotal − discount + tax`
    /// (B2B, US). **The default**, and what every order created before tax
    /// existed is: with no rates and no discounts, `total = subtotal`.
    #[default]
    Exclusive,
    /// Prices include tax: the tax is the part of each discounted line amount
    /// that it contains, and `total = subtotal − discount` (EU retail).
    Inclusive,
}

impl TaxMode {
    /// `Inclusive` when `prices_include_tax`.
    #[must_use]
    pub const fn from_prices_include_tax(prices_include_tax: bool) -> Self {
        if prices_include_tax {
            Self::Inclusive
        } else {
            Self::Exclusive
        }
    }

    /// Whether prices contain their tax.
    #[must_use]
    pub const fn prices_include_tax(self) -> bool {
        matches!(self, Self::Inclusive)
    }
}

/// What a discount takes off an order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DiscountValue {
    /// A fixed amount in the order's currency, more than zero.
    Fixed(Money),
    /// A percentage of what earlier discounts left, more than 0 and at most 100.
    Percentage(Percentage),
}

/// The four amounts an order shows, always the sums of its lines.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct OrderTotals {
    /// Sum of the lines' gross amounts (`quantity × unit_price`).
    pub subtotal: Money,
    /// Sum of the discounts (= sum of the lines' discount shares).
    pub discount: Money,
    /// Sum of the lines' tax.
    pub tax: Money,
    /// Sum of the lines' totals: `subtotal − discount + tax` when prices
    /// exclude tax, `subtotal − discount` when they include it.
    pub total: Money,
}

impl OrderTotals {
    /// All four zero.
    #[must_use]
    pub const fn zero(currency: Currency) -> Self {
        let zero = Money::zero(currency);
        Self {
            subtotal: zero,
            discount: zero,
            tax: zero,
            total: zero,
        }
    }
}

/// What pricing needs of one line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PricingLine {
    /// The line's id: it breaks ties in the allocation.
    pub id: LineId,
    /// `quantity × unit_price`, in minor units, not negative.
    pub gross: i64,
    /// The line's tax rate.
    pub tax_rate: TaxRate,
}

/// The priced amounts of one line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct LinePrice {
    /// The line's share of all discounts.
    pub discount: Money,
    /// Tax on the discounted amount (contained in it when prices include tax).
    pub tax: Money,
    /// What the customer pays for the line.
    pub total: Money,
}

/// The result of [`price_order`]: per line, per discount, and the totals.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pricing {
    /// One per input line, in input order.
    pub lines: Vec<LinePrice>,
    /// The amount each discount took, one per input discount, in input order.
    pub discounts: Vec<Money>,
    /// Each discount's allocation to the lines (`allocations[d][l]`), in input order.
    pub allocations: Vec<Vec<i64>>,
    /// The order's totals, the sums of the lines.
    pub totals: OrderTotals,
}

/// Prices an order: applies `discounts` in order, allocates each to the lines
/// and computes every line's tax (see the module documentation for the rules).
///
/// # Errors
/// [`DomainError::DiscountExceedsAmount`] when a fixed discount is larger than
/// what the earlier ones left; [`DomainError::CurrencyMismatch`] for a fixed
/// discount in another currency; [`DomainError::AmountOverflow`] when a sum
/// leaves the `i64` range; [`DomainError::InvalidPrice`] for a negative gross.
pub fn price_order(
    currency: Currency,
    mode: TaxMode,
    lines: &[PricingLine],
    discounts: &[DiscountValue],
) -> Result<Pricing, DomainError> {
    if let Some(line) = lines.iter().find(|l| l.gross < 0) {
        return Err(DomainError::InvalidPrice { amount: line.gross });
    }
    let money = |amount: i64| Money::new(amount, currency);
    let mut left: Vec<i64> = lines.iter().map(|l| l.gross).collect();
    let mut shares = vec![0_i64; lines.len()];
    let mut amounts = Vec::with_capacity(discounts.len());
    let mut allocations = Vec::with_capacity(discounts.len());
    for discount in discounts {
        let base = checked_sum(left.iter().copied())?;
        let amount = match *discount {
            DiscountValue::Fixed(fixed) => {
                if fixed.currency() != currency {
                    return Err(DomainError::CurrencyMismatch {
                        expected: currency,
                        found: fixed.currency(),
                    });
                }
                if fixed.amount() > base {
                    return Err(DomainError::DiscountExceedsAmount {
                        discount: fixed,
                        available: money(base),
                    });
                }
                fixed.amount()
            }
            DiscountValue::Percentage(percent) => narrow(div_half_even(
                i128::from(base) * i128::from(percent.0),
                MILLION,
            ))?,
        };
        let weights: Vec<(LineId, i64)> = lines.iter().map(|l| l.id).zip(left.clone()).collect();
        let allocation = allocate_largest_remainder(amount, &weights).ok_or_else(|| {
            DomainError::DiscountExceedsAmount {
                discount: money(amount),
                available: money(base),
            }
        })?;
        for (i, share) in allocation.iter().enumerate() {
            left[i] -= share;
            shares[i] += share;
        }
        amounts.push(money(amount));
        allocations.push(allocation);
    }
    let mut priced = Vec::with_capacity(lines.len());
    for (i, line) in lines.iter().enumerate() {
        let rate = i128::from(line.tax_rate.0 .0);
        let amount = i128::from(left[i]);
        let (tax, total) = match mode {
            TaxMode::Exclusive => {
                let tax = narrow(div_half_even(amount * rate, MILLION))?;
                (
                    tax,
                    left[i]
                        .checked_add(tax)
                        .ok_or(DomainError::AmountOverflow)?,
                )
            }
            TaxMode::Inclusive => (
                narrow(div_half_even(amount * rate, MILLION + rate))?,
                left[i],
            ),
        };
        priced.push(LinePrice {
            discount: money(shares[i]),
            tax: money(tax),
            total: money(total),
        });
    }
    let totals = OrderTotals {
        subtotal: money(checked_sum(lines.iter().map(|l| l.gross))?),
        discount: money(checked_sum(amounts.iter().map(Money::amount))?),
        tax: money(checked_sum(priced.iter().map(|p| p.tax.amount()))?),
        total: money(checked_sum(priced.iter().map(|p| p.total.amount()))?),
    };
    Ok(Pricing {
        lines: priced,
        discounts: amounts,
        allocations,
        totals,
    })
}

/// Splits `amount` minor units over `weights` in proportion to them by the
/// largest-remainder method; ties in the remainder go to the smaller key.
/// The result is in input order, sums exactly to `amount`, and no share
/// exceeds its weight.
///
/// `None` when `amount` is negative, a weight is negative, or `amount`
/// exceeds the sum of the weights (there is nothing to take it from).
#[must_use]
pub fn allocate_largest_remainder<K: Ord + Copy>(
    amount: i64,
    weights: &[(K, i64)],
) -> Option<Vec<i64>> {
    let total: i128 = weights.iter().map(|(_, w)| i128::from(*w)).sum();
    if amount < 0 || weights.iter().any(|(_, w)| *w < 0) || i128::from(amount) > total {
        return None;
    }
    if amount == 0 {
        return Some(vec![0; weights.len()]);
    }
    // amount ≤ total ≤ 500 × i64::MAX, so amount × weight fits in i128.
    let mut shares = Vec::with_capacity(weights.len());
    let mut remainders = Vec::with_capacity(weights.len());
    for (index, (key, weight)) in weights.iter().enumerate() {
        let exact = i128::from(amount) * i128::from(*weight);
        shares.push(i64::try_from(exact / total).ok()?);
        remainders.push((exact % total, *key, index));
    }
    let missing = amount - shares.iter().sum::<i64>();
    // Largest remainder first; equal remainders: the smaller key first.
    remainders.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    for &(_, _, index) in remainders.iter().take(usize::try_from(missing).ok()?) {
        shares[index] += 1;
    }
    Some(shares)
}

/// `numerator / denominator` rounded half to even, for a non-negative
/// numerator and a positive denominator.
fn div_half_even(numerator: i128, denominator: i128) -> i128 {
    let quotient = numerator / denominator;
    let remainder = numerator % denominator;
    match (2 * remainder).cmp(&denominator) {
        std::cmp::Ordering::Greater => quotient + 1,
        std::cmp::Ordering::Equal if quotient % 2 == 1 => quotient + 1,
        _ => quotient,
    }
}

fn narrow(value: i128) -> Result<i64, DomainError> {
    i64::try_from(value).map_err(|_| DomainError::AmountOverflow)
}

fn checked_sum(mut values: impl Iterator<Item = i64>) -> Result<i64, DomainError> {
    values.try_fold(0_i64, |sum, v| {
        sum.checked_add(v).ok_or(DomainError::AmountOverflow)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use uuid::Uuid;

    fn id(n: u128) -> LineId {
        LineId::from_uuid(Uuid::from_u128(n))
    }

    #[test]
    fn half_even_rounds_ties_to_the_even_neighbour() {
        for (n, d, expected) in [
            (5, 10, 0),
            (15, 10, 2),
            (25, 10, 2),
            (26, 10, 3),
            (24, 10, 2),
            (0, 7, 0),
        ] {
            assert_eq!(div_half_even(n, d), expected, "{n}/{d}");
        }
    }

    #[test]
    fn percentages_parse_exactly_and_refuse_what_is_not_one() {
        assert_eq!(Percentage::parse("19"), Ok(Percentage(190_000)));
        assert_eq!(Percentage::parse("7.5"), Ok(Percentage(75_000)));
        assert_eq!(Percentage::parse("0.0001"), Ok(Percentage(1)));
        assert_eq!(Percentage::parse("100.0000"), Ok(Percentage::HUNDRED));
        assert_eq!(Percentage::parse("0"), Ok(Percentage::ZERO));
        assert_eq!(Percentage::parse("-0"), Ok(Percentage::ZERO));
        for bad in [
            "", "abc", "1e2", "1_0", " 19", "19 ", "19%", "0.00001", "100.0001", "101", "-1", "NaN",
        ] {
            assert!(Percentage::parse(bad).is_err(), "{bad:?}");
        }
        assert_eq!(Percentage(75_000).to_string(), "7.5");
        assert_eq!(Percentage(190_000).to_string(), "19");
    }

    #[test]
    fn allocation_refuses_what_cannot_be_taken() {
        assert_eq!(allocate_largest_remainder(101, &[(id(1), 100)]), None);
        assert_eq!(allocate_largest_remainder(-1, &[(id(1), 100)]), None);
        assert_eq!(
            allocate_largest_remainder(1, &[(id(1), -1), (id(2), 5)]),
            None
        );
        assert_eq!(allocate_largest_remainder::<LineId>(0, &[]), Some(vec![]));
        assert_eq!(allocate_largest_remainder(0, &[(id(1), 0)]), Some(vec![0]));
    }

    #[test]
    fn equal_remainders_go_to_the_smaller_id_wherever_it_is_listed() {
        let shares = allocate_largest_remainder(100, &[(id(3), 100), (id(1), 100), (id(2), 100)]);
        assert_eq!(shares, Some(vec![33, 34, 33]));
        // A larger remainder beats a smaller id.
        let shares = allocate_largest_remainder(2, &[(id(1), 2), (id(2), 1)]);
        assert_eq!(shares, Some(vec![1, 1])); // 1.33 → 1, 0.67 → 1
    }
}
