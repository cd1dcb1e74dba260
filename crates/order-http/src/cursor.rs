//! The text form of a list cursor (`next_cursor`, `?after=`): how a client
//! carries an [`order_app::ListCursor`] between pages. Clients treat it as opaque.

use chrono::DateTime;
use order_app::ListCursor;
use uuid::Uuid;

use crate::error::ApiError;

/// `<microseconds>.<uuid>`.
#[must_use]
pub fn encode(cursor: &ListCursor) -> String {
    format!(
        "{}.{}",
        cursor.created_at.timestamp_micros(),
        cursor.id.simple()
    )
}

/// Reads a cursor made by [`encode`].
///
/// # Errors
/// `invalid_parameter` (400) naming `after`.
pub fn decode(text: &str) -> Result<ListCursor, ApiError> {
    let invalid = || ApiError::bad_parameter("after", "after is not a cursor this API handed out");
    let (micros, id) = text.split_once('.').ok_or_else(invalid)?;
    // Exactly what `encode` makes (and the document's pattern states): a
    // decimal of at most 16 digits, a dot, 32 lower-case hex digits.
    let digits = micros.strip_prefix('-').unwrap_or(micros);
    let well_formed = (1..=16).contains(&digits.len())
        && digits.bytes().all(|b| b.is_ascii_digit())
        && id.len() == 32
        && id.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
    if !well_formed {
        return Err(invalid());
    }
    let created_at = micros
        .parse::<i64>()
        .ok()
        .and_then(DateTime::from_timestamp_micros)
        .ok_or_else(invalid)?;
    let id = Uuid::try_parse(id).map_err(|_| invalid())?;
    Ok(ListCursor { created_at, id })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_garbage_is_refused() {
        let cursor = ListCursor {
            created_at: DateTime::from_timestamp_micros(1_767_225_600_123_456).unwrap(),
            id: Uuid::now_v7(),
        };
        assert_eq!(decode(&encode(&cursor)).unwrap(), cursor);
        let pattern = crate::openapi::CURSOR_PATTERN;
        assert_eq!(pattern, r"^-?[0-9]{1,16}\.[0-9a-f]{32}$", "the rule below");
        assert!(decode("-1.0193b6ec4774c70e09c2c7ba19630289").is_ok());
        assert!(decode("9999999999999999.0193b6ec4774c70e09c2c7ba19630289").is_ok());
        for bad in [
            "",
            "x",
            "1.2",
            "abc.0193b6ec4774c70e09c2c7ba19630289",
            "99999999999999999999.0193b6ec4774c70e09c2c7ba19630289",
            "12345678901234567.0193b6ec4774c70e09c2c7ba19630289",
            "+1.0193b6ec4774c70e09c2c7ba19630289",
            "1.0193B6EC4774C70E09C2C7BA19630289",
            "1.0193b6ec-4774-c70e-09c2-c7ba19630289",
        ] {
            assert!(
                matches!(
                    decode(bad),
                    Err(ApiError::BadRequest { field: Some(ref f), .. }) if f == "after"
                ),
                "{bad}"
            );
        }
    }
}
