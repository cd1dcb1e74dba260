//! The rules the API document states for request bodies (lengths, patterns,
//! ranges, item counts), checked on the raw values by each body's conversion,
//! before a handler reads any state.
//!
//! Why here and not only in the domain: the domain checks the same values by
//! its own rules, but only when the operation runs, that is after the order
//! was loaded and `If-Match` compared; and it trims free text first. A body
//! the document calls malformed must be refused as such whatever the order's
//! state (not answered 412 because the order moved on), and a value the
//! document forbids must not be accepted because trimming made it fit. These
//! checks only ever refuse more than the domain, never less, and answer with
//! the domain's own error codes (`invalid_text`, `invalid_price`, ...).

use order_domain::DomainError;

use crate::error::ApiError;

fn refuse(error: DomainError) -> ApiError {
    ApiError::App(error.into())
}

/// Free text as the document describes it: at most `max_chars` characters
/// as sent (`maxLength`), none of them a control character (the pattern
/// `^[^\u0000-\u001F\u007F-\u009F]*$`, which is Unicode's `Cc`).
///
/// # Errors
/// `invalid_text` naming `field`.
pub(crate) fn text(
    field: &'static str,
    value: Option<&str>,
    max_chars: usize,
) -> Result<(), ApiError> {
    let Some(value) = value else { return Ok(()) };
    let invalid = |reason: String| refuse(DomainError::InvalidText { field, reason });
    if value.chars().count() > max_chars {
        return Err(invalid(format!("must be at most {max_chars} characters")));
    }
    if value.chars().any(char::is_control) {
        return Err(invalid("must not contain control characters".to_owned()));
    }
    Ok(())
}

/// A decimal percentage as the document's pattern writes it,
/// `^[0-9]{1,3}(\.[0-9]{1,4})?$`: no sign, exponent, separator or blank,
/// 1 to 3 integer digits and at most 4 fraction digits. Its range is the
/// domain's to check.
///
/// # Errors
/// Why the text does not match.
pub(crate) fn percent_syntax(text: &str) -> Result<(), &'static str> {
    const WHY: &str = "must be a decimal number such as \"19\" or \"7.5\" (at most 3 integer and 4 fraction digits)";
    let (whole, fraction) = match text.split_once('.') {
        Some((whole, fraction)) => (whole, Some(fraction)),
        None => (text, None),
    };
    let digits = |part: &str, max: usize| {
        (1..=max).contains(&part.len()) && part.bytes().all(|b| b.is_ascii_digit())
    };
    if digits(whole, 3) && fraction.is_none_or(|f| digits(f, 4)) {
        Ok(())
    } else {
        Err(WHY)
    }
}

/// A unit price in the document's range, `0..=10^15` minor units.
///
/// # Errors
/// `invalid_price`.
pub(crate) fn unit_price(amount: i64) -> Result<(), ApiError> {
    if (0..=order_domain::OrderLine::MAX_UNIT_PRICE).contains(&amount) {
        Ok(())
    } else {
        Err(refuse(DomainError::InvalidPrice { amount }))
    }
}

/// A list of `what` with 1 to `max` entries (`minItems`, `maxItems`).
///
/// # Errors
/// `no_lines_given` for none, `too_many_records` for more than `max`.
pub(crate) fn items(what: &'static str, count: usize, max: usize) -> Result<(), ApiError> {
    if count == 0 {
        Err(refuse(DomainError::NoLinesGiven))
    } else if count > max {
        Err(refuse(DomainError::TooMany { what, max }))
    } else {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code(result: Result<(), ApiError>) -> &'static str {
        match result {
            Ok(()) => "ok",
            Err(ApiError::App(order_app::AppError::Domain(e))) => e.code(),
            Err(_) => "other",
        }
    }

    #[test]
    fn text_counts_characters_as_sent_and_refuses_control_characters() {
        assert_eq!(code(text("sku", None, 3)), "ok");
        assert_eq!(code(text("sku", Some("äöü"), 3)), "ok");
        assert_eq!(code(text("sku", Some("abcd"), 3)), "invalid_text");
        // Trimming would make it fit; the document counts what was sent.
        assert_eq!(code(text("sku", Some("a   "), 3)), "invalid_text");
        for control in ["a\u{0}", "a\u{1f}", "a\u{7f}", "a\u{85}", "a\u{9f}", "\n"] {
            assert_eq!(
                code(text("sku", Some(control), 10)),
                "invalid_text",
                "{control:?}"
            );
        }
        assert_eq!(
            code(text("sku", Some("a\u{a0}b"), 10)),
            "ok",
            "U+00A0 is not Cc"
        );
    }

    #[test]
    fn percent_syntax_is_exactly_the_documents_pattern() {
        for good in [
            "0", "19", "100", "7.5", "0.0001", "100.0000", "999.9999", "019",
        ] {
            assert_eq!(percent_syntax(good), Ok(()), "{good:?}");
        }
        for bad in [
            "", ".", ".5", "5.", "+19", "-0", "-1", "1e2", "1_0", " 19", "19 ", "1000", "1.23456",
            "19%", "1.2.3", "٣",
        ] {
            assert!(percent_syntax(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn unit_prices_and_item_counts_follow_the_document() {
        assert_eq!(code(unit_price(0)), "ok");
        assert_eq!(code(unit_price(1_000_000_000_000_000)), "ok");
        assert_eq!(code(unit_price(-1)), "invalid_price");
        assert_eq!(code(unit_price(1_000_000_000_000_001)), "invalid_price");
        assert_eq!(code(items("lines", 0, 2)), "no_lines_given");
        assert_eq!(code(items("lines", 2, 2)), "ok");
        assert_eq!(code(items("lines", 3, 2)), "too_many_records");
    }
}
