//! `OrderNumber`: the human-facing `ORD-YYYY-NNNNNN` identifier.

use std::fmt;
use std::str::FromStr;

use crate::DomainError;

/// `ORD-YYYY-NNNNNN`: the year the order was created and a counter of at least
/// six digits (more when the counter outgrows them, never truncated).
///
/// The text form is canonical: parsing then formatting gives back the same
/// string, so two different strings never name the same order.
///
/// ```
/// use order_domain::OrderNumber;
/// let number = OrderNumber::new(2025, 89_928)?;
/// assert_eq!(number.to_string(), "ORD-2025-089928");
/// assert_eq!("ORD-2025-089928".parse::<OrderNumber>()?, number);
/// assert_eq!(OrderNumber::new(2025, 1_234_567)?.to_string(), "ORD-2025-1234567");
/// # Ok::<(), order_domain::DomainError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct OrderNumber {
    year: u16,
    counter: u64,
}

impl OrderNumber {
    const PREFIX: &'static str = "ORD-";
    const MIN_COUNTER_DIGITS: usize = 6;

    /// Builds a number from a four-digit year (1000..=9999) and a counter >= 1.
    ///
    /// # Errors
    /// [`DomainError::InvalidOrderNumber`] when either is out of range.
    pub fn new(year: u16, counter: u64) -> Result<Self, DomainError> {
        if !(1000..=9999).contains(&year) || counter == 0 {
            return Err(DomainError::InvalidOrderNumber(format!(
                "year {year}, counter {counter}"
            )));
        }
        Ok(Self { year, counter })
    }

    /// The year part.
    #[must_use]
    pub const fn year(&self) -> u16 {
        self.year
    }

    /// The counter part.
    #[must_use]
    pub const fn counter(&self) -> u64 {
        self.counter
    }
}

impl fmt::Display for OrderNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}{:04}-{:0width$}",
            Self::PREFIX,
            self.year,
            self.counter,
            width = Self::MIN_COUNTER_DIGITS
        )
    }
}

impl FromStr for OrderNumber {
    type Err = DomainError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let invalid = || DomainError::InvalidOrderNumber(s.to_owned());
        let rest = s.strip_prefix(Self::PREFIX).ok_or_else(invalid)?;
        let (year, counter) = rest.split_once('-').ok_or_else(invalid)?;
        let all_digits = |t: &str| !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit());
        if year.len() != 4 || !all_digits(year) || !all_digits(counter) {
            return Err(invalid());
        }
        // Longer than six digits only when needed: "ORD-2025-0000001" is not canonical.
        if counter.len() < Self::MIN_COUNTER_DIGITS
            || (counter.len() > Self::MIN_COUNTER_DIGITS && counter.starts_with('0'))
        {
            return Err(invalid());
        }
        let year = year.parse().map_err(|_| invalid())?;
        let counter = counter.parse().map_err(|_| invalid())?;
        Self::new(year, counter).map_err(|_| invalid())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn formats_counter_with_at_least_six_digits() {
        assert_eq!(
            OrderNumber::new(2025, 1).unwrap().to_string(),
            "ORD-2025-000001"
        );
        assert_eq!(
            OrderNumber::new(2025, 999_999).unwrap().to_string(),
            "ORD-2025-999999"
        );
        assert_eq!(
            OrderNumber::new(2026, 1_000_000).unwrap().to_string(),
            "ORD-2026-1000000"
        );
    }

    #[test]
    fn rejects_malformed_numbers() {
        for text in [
            "",
            "ORD-2025-",
            "ORD-2025-12345",
            "ORD-25-089928",
            "ord-2025-089928",
            "ORD-2025-08992A",
            "ORD-2025-0000001",
            "ORD-2025-000000",
            "ORD-0999-000001",
            "ORD-2025-089928 ",
            "ORD_2025_089928",
            "ORD-2025-+89928",
            "ORD-2025-99999999999999999999999",
        ] {
            assert_eq!(
                text.parse::<OrderNumber>(),
                Err(DomainError::InvalidOrderNumber(text.to_owned())),
                "{text:?}"
            );
        }
    }

    #[test]
    fn rejects_out_of_range_parts() {
        assert!(OrderNumber::new(999, 1).is_err());
        assert!(OrderNumber::new(10_000, 1).is_err());
        assert!(OrderNumber::new(2025, 0).is_err());
    }

    proptest! {
        #[test]
        fn text_form_round_trips(year in 1000u16..=9999, counter in 1u64..) {
            let number = OrderNumber::new(year, counter).unwrap();
            let text = number.to_string();
            prop_assert_eq!(text.parse::<OrderNumber>(), Ok(number));
        }
    }
}
