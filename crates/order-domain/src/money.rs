//! `Currency` and `Money`: amounts in integer minor units, never floats.
//!
//! Every arithmetic operation is checked: mixing currencies or leaving the
//! `i64` range is an error, never a silent wrap. Decimal text ("450.00") is
//! produced and read with `rust_decimal`, exactly, using the currency's ISO 4217
//! minor-unit exponent.

use std::fmt;
use std::str::FromStr;

use rust_decimal::Decimal;

use crate::DomainError;

/// An ISO 4217 currency that has a defined minor unit (USD, EUR, UAH, JPY, KWD, ...).
///
/// Codes without a minor unit (gold `XAU`, SDR `XDR`, ...) are refused: an
/// order amount must be expressible in integer minor units.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Currency {
    iso: iso_currency::Currency,
    exponent: u8,
}

impl Currency {
    /// US dollar (2 decimals).
    pub const USD: Self = Self::known(iso_currency::Currency::USD, 2);
    /// Euro (2 decimals).
    pub const EUR: Self = Self::known(iso_currency::Currency::EUR, 2);
    /// Ukrainian hryvnia (2 decimals).
    pub const UAH: Self = Self::known(iso_currency::Currency::UAH, 2);
    /// Japanese yen (0 decimals).
    pub const JPY: Self = Self::known(iso_currency::Currency::JPY, 0);
    /// Kuwaiti dinar (3 decimals).
    pub const KWD: Self = Self::known(iso_currency::Currency::KWD, 3);

    const fn known(iso: iso_currency::Currency, exponent: u8) -> Self {
        Self { iso, exponent }
    }

    /// Looks up an upper-case three-letter ISO 4217 code.
    ///
    /// # Errors
    /// [`DomainError::UnknownCurrency`] for anything that is not an ISO 4217
    /// code with a minor unit; lower-case codes are refused rather than guessed.
    pub fn from_code(code: &str) -> Result<Self, DomainError> {
        let unknown = || DomainError::UnknownCurrency(code.to_owned());
        if code.len() != 3 || !code.bytes().all(|b| b.is_ascii_uppercase()) {
            return Err(unknown());
        }
        let iso = iso_currency::Currency::from_code(code).ok_or_else(unknown)?;
        let exponent = iso
            .exponent()
            .and_then(|e| u8::try_from(e).ok())
            .ok_or_else(unknown)?;
        Ok(Self { iso, exponent })
    }

    /// The three-letter code, e.g. `"USD"`.
    #[must_use]
    pub fn code(&self) -> &'static str {
        self.iso.code()
    }

    /// Number of decimal digits of the minor unit (2 for USD, 0 for JPY, 3 for KWD).
    #[must_use]
    pub const fn minor_unit_exponent(&self) -> u32 {
        self.exponent as u32
    }
}

impl fmt::Debug for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Currency({})", self.code())
    }
}

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

impl FromStr for Currency {
    type Err = DomainError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::from_code(s)
    }
}

/// An amount of money in integer minor units of one currency.
///
/// ```
/// use order_domain::{Currency, Money};
/// let price = Money::new(7_500, Currency::USD);
/// let line = price.checked_mul(2)?;
/// assert_eq!(line.to_string(), "150.00 USD");
/// assert_eq!(line.to_decimal_string(), "150.00");
/// # Ok::<(), order_domain::DomainError>(())
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Money {
    amount: i64,
    currency: Currency,
}

impl Money {
    /// An amount of `amount` minor units (cents for USD).
    #[must_use]
    pub const fn new(amount: i64, currency: Currency) -> Self {
        Self { amount, currency }
    }

    /// Zero in `currency`.
    #[must_use]
    pub const fn zero(currency: Currency) -> Self {
        Self::new(0, currency)
    }

    /// The amount in minor units.
    #[must_use]
    pub const fn amount(&self) -> i64 {
        self.amount
    }

    /// The currency.
    #[must_use]
    pub const fn currency(&self) -> Currency {
        self.currency
    }

    /// Whether the amount is below zero.
    #[must_use]
    pub const fn is_negative(&self) -> bool {
        self.amount < 0
    }

    /// `self + other`.
    ///
    /// # Errors
    /// [`DomainError::CurrencyMismatch`] or [`DomainError::AmountOverflow`].
    pub fn checked_add(self, other: Self) -> Result<Self, DomainError> {
        self.same_currency(other)?;
        let amount = self
            .amount
            .checked_add(other.amount)
            .ok_or(DomainError::AmountOverflow)?;
        Ok(Self::new(amount, self.currency))
    }

    /// `self - other`.
    ///
    /// # Errors
    /// [`DomainError::CurrencyMismatch`] or [`DomainError::AmountOverflow`].
    pub fn checked_sub(self, other: Self) -> Result<Self, DomainError> {
        self.same_currency(other)?;
        let amount = self
            .amount
            .checked_sub(other.amount)
            .ok_or(DomainError::AmountOverflow)?;
        Ok(Self::new(amount, self.currency))
    }

    /// `self × factor`, e.g. a unit price times a quantity.
    ///
    /// # Errors
    /// [`DomainError::AmountOverflow`].
    pub fn checked_mul(self, factor: u32) -> Result<Self, DomainError> {
        let amount = self
            .amount
            .checked_mul(i64::from(factor))
            .ok_or(DomainError::AmountOverflow)?;
        Ok(Self::new(amount, self.currency))
    }

    /// Sums amounts of one currency; the sum of nothing is zero.
    ///
    /// # Errors
    /// [`DomainError::CurrencyMismatch`] or [`DomainError::AmountOverflow`].
    pub fn checked_sum<I>(currency: Currency, items: I) -> Result<Self, DomainError>
    where
        I: IntoIterator<Item = Self>,
    {
        items
            .into_iter()
            .try_fold(Self::zero(currency), Self::checked_add)
    }

    /// The exact decimal value in major units (10000 USD cents -> 100.00).
    #[must_use]
    pub fn to_decimal(&self) -> Decimal {
        Decimal::new(self.amount, self.currency.minor_unit_exponent())
    }

    /// The exact decimal text, with as many fraction digits as the currency has
    /// ("100.00" for 10000 USD cents, "1000" for 1000 JPY).
    #[must_use]
    pub fn to_decimal_string(&self) -> String {
        self.to_decimal().to_string()
    }

    /// Reads a decimal text in major units ("450.00", "450", "-1.5").
    ///
    /// # Errors
    /// [`DomainError::InvalidAmount`] when the text is not a decimal number or
    /// has more fraction digits than the currency allows (no rounding ever
    /// happens), [`DomainError::AmountOverflow`] when it does not fit in `i64`
    /// minor units.
    pub fn parse_decimal(text: &str, currency: Currency) -> Result<Self, DomainError> {
        let invalid = |reason| DomainError::InvalidAmount {
            input: text.to_owned(),
            reason,
        };
        let trimmed = text.trim();
        // rust_decimal accepts `_` separators and exponents; a money amount should not.
        if trimmed.is_empty()
            || trimmed != text
            || !trimmed
                .bytes()
                .all(|b| b.is_ascii_digit() || b == b'.' || b == b'-' || b == b'+')
        {
            return Err(invalid("not a decimal number"));
        }
        let value =
            Decimal::from_str_exact(trimmed).map_err(|_| invalid("not a decimal number"))?;
        let exponent = currency.minor_unit_exponent();
        if value.scale() > exponent {
            return Err(invalid("more fraction digits than the currency allows"));
        }
        let factor = 10_i128.pow(exponent - value.scale());
        let minor = value
            .mantissa()
            .checked_mul(factor)
            .ok_or(DomainError::AmountOverflow)?;
        let amount = i64::try_from(minor).map_err(|_| DomainError::AmountOverflow)?;
        Ok(Self::new(amount, currency))
    }

    fn same_currency(self, other: Self) -> Result<(), DomainError> {
        if self.currency == other.currency {
            Ok(())
        } else {
            Err(DomainError::CurrencyMismatch {
                expected: self.currency,
                found: other.currency,
            })
        }
    }
}

impl fmt::Debug for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Money({} {})", self.to_decimal(), self.currency)
    }
}

impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.to_decimal(), self.currency)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn currency_knows_its_minor_unit_exponent() {
        for (code, exponent) in [("USD", 2), ("EUR", 2), ("UAH", 2), ("JPY", 0), ("KWD", 3)] {
            let currency = Currency::from_code(code).unwrap();
            assert_eq!(currency.minor_unit_exponent(), exponent, "{code}");
            assert_eq!(currency.code(), code);
        }
        assert_eq!(Currency::from_code("USD").unwrap(), Currency::USD);
        assert_eq!(Currency::from_code("KWD").unwrap(), Currency::KWD);
    }

    #[test]
    fn unknown_or_malformed_currency_codes_are_rejected() {
        for code in ["", "US", "usd", "Usd", "USDX", "ZZZ", "XAU", "12A", " USD"] {
            assert_eq!(
                Currency::from_code(code),
                Err(DomainError::UnknownCurrency(code.to_owned())),
                "{code:?}"
            );
        }
    }

    #[test]
    fn formats_with_the_currency_exponent() {
        assert_eq!(
            Money::new(10_000, Currency::USD).to_decimal_string(),
            "100.00"
        );
        assert_eq!(Money::new(1_000, Currency::JPY).to_decimal_string(), "1000");
        assert_eq!(
            Money::new(1_500, Currency::KWD).to_decimal_string(),
            "1.500"
        );
        assert_eq!(Money::new(-5, Currency::EUR).to_decimal_string(), "-0.05");
        assert_eq!(Money::new(45_000, Currency::USD).to_string(), "450.00 USD");
    }

    #[test]
    fn parses_exact_decimals_and_refuses_extra_fraction_digits() {
        assert_eq!(
            Money::parse_decimal("100.00", Currency::USD),
            Ok(Money::new(10_000, Currency::USD))
        );
        assert_eq!(
            Money::parse_decimal("100.5", Currency::USD),
            Ok(Money::new(10_050, Currency::USD))
        );
        assert_eq!(
            Money::parse_decimal("1000", Currency::JPY),
            Ok(Money::new(1_000, Currency::JPY))
        );
        for (text, currency) in [
            ("1.001", Currency::USD),
            ("1.5", Currency::JPY),
            ("0.0001", Currency::KWD),
        ] {
            assert!(
                matches!(
                    Money::parse_decimal(text, currency),
                    Err(DomainError::InvalidAmount { .. })
                ),
                "{text} {currency}"
            );
        }
        for text in ["", "abc", "1e3", "1_000", " 1", "1,00", "--1"] {
            assert!(
                matches!(
                    Money::parse_decimal(text, Currency::USD),
                    Err(DomainError::InvalidAmount { .. })
                ),
                "{text:?}"
            );
        }
        assert_eq!(
            Money::parse_decimal("92233720368547758.08", Currency::USD),
            Err(DomainError::AmountOverflow)
        );
    }

    #[test]
    fn arithmetic_refuses_mixed_currencies() {
        let usd = Money::new(1, Currency::USD);
        let eur = Money::new(1, Currency::EUR);
        let mismatch = Err(DomainError::CurrencyMismatch {
            expected: Currency::USD,
            found: Currency::EUR,
        });
        assert_eq!(usd.checked_add(eur), mismatch);
        assert_eq!(usd.checked_sub(eur), mismatch);
    }

    #[test]
    fn arithmetic_overflow_is_an_error_not_a_wrap() {
        let max = Money::new(i64::MAX, Currency::USD);
        let min = Money::new(i64::MIN, Currency::USD);
        let one = Money::new(1, Currency::USD);
        assert_eq!(max.checked_add(one), Err(DomainError::AmountOverflow));
        assert_eq!(min.checked_sub(one), Err(DomainError::AmountOverflow));
        assert_eq!(max.checked_mul(2), Err(DomainError::AmountOverflow));
        assert_eq!(
            Money::checked_sum(Currency::USD, [max, one]),
            Err(DomainError::AmountOverflow)
        );
    }

    proptest! {
        #[test]
        fn decimal_text_round_trips(amount in any::<i64>(), pick in 0usize..5) {
            let currency = [Currency::USD, Currency::EUR, Currency::JPY, Currency::KWD, Currency::UAH][pick];
            let money = Money::new(amount, currency);
            prop_assert_eq!(Money::parse_decimal(&money.to_decimal_string(), currency), Ok(money));
        }

        #[test]
        fn checked_ops_agree_with_wide_integer_arithmetic(a in any::<i64>(), b in any::<i64>(), q in any::<u32>()) {
            let (x, y) = (Money::new(a, Currency::USD), Money::new(b, Currency::USD));
            let wide_sum = i128::from(a) + i128::from(b);
            match x.checked_add(y) {
                Ok(sum) => prop_assert_eq!(i128::from(sum.amount()), wide_sum),
                Err(e) => { prop_assert_eq!(e, DomainError::AmountOverflow); prop_assert!(i64::try_from(wide_sum).is_err()); }
            }
            let wide_product = i128::from(a) * i128::from(q);
            match x.checked_mul(q) {
                Ok(p) => prop_assert_eq!(i128::from(p.amount()), wide_product),
                Err(e) => { prop_assert_eq!(e, DomainError::AmountOverflow); prop_assert!(i64::try_from(wide_product).is_err()); }
            }
        }
    }
}
