//! How ids and times are written in SQLite's TEXT columns, and read back.
//!
//! Times are UTC with exactly six fraction digits (`2026-01-01T00:00:00.123456Z`):
//! fixed width, so comparing the text compares the times and `ORDER BY
//! created_at` is time order, as on PostgreSQL's `timestamptz`. Ids are
//! hyphenated lower-case UUIDs, whose text order is the byte order
//! PostgreSQL sorts `uuid` by, so ties in a list break the same way.

use chrono::{DateTime, Utc};
use order_app::RepositoryError;
use uuid::Uuid;

use crate::error::unexpected;

/// A time as stored.
pub(crate) fn time(at: DateTime<Utc>) -> String {
    at.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string()
}

/// An optional time as stored.
pub(crate) fn time_opt(at: Option<DateTime<Utc>>) -> Option<String> {
    at.map(time)
}

/// A stored time.
pub(crate) fn parse_time(text: &str) -> Result<DateTime<Utc>, RepositoryError> {
    DateTime::parse_from_rfc3339(text)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| unexpected(format!("stored time {text:?}: {e}")))
}

/// A stored optional time.
pub(crate) fn parse_time_opt(text: Option<&str>) -> Result<Option<DateTime<Utc>>, RepositoryError> {
    text.map(parse_time).transpose()
}

/// An id as stored.
pub(crate) fn id(uuid: Uuid) -> String {
    uuid.hyphenated().to_string()
}

/// A stored id.
pub(crate) fn parse_id(text: &str) -> Result<Uuid, RepositoryError> {
    Uuid::parse_str(text).map_err(|e| unexpected(format!("stored id {text:?}: {e}")))
}

/// Keeps the first `page_size` of `rows` (one more was read to learn whether
/// a next page exists) and returns the cursor after the last one kept.
pub(crate) fn split_next_cursor<R>(
    rows: &mut Vec<R>,
    page_size: usize,
    key: impl Fn(&R) -> (&String, &String),
) -> Result<Option<order_app::ListCursor>, RepositoryError> {
    if rows.len() <= page_size {
        return Ok(None);
    }
    rows.truncate(page_size);
    rows.last()
        .map(|last| {
            let (created_at, id) = key(last);
            Ok(order_app::ListCursor {
                created_at: parse_time(created_at)?,
                id: parse_id(id)?,
            })
        })
        .transpose()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_are_fixed_width_so_text_order_is_time_order() {
        let early = DateTime::from_timestamp_micros(1_767_225_600_000_000).unwrap();
        let late = DateTime::from_timestamp_micros(1_767_225_600_100_000).unwrap();
        assert_eq!(time(early), "2026-01-01T00:00:00.000000Z");
        assert!(time(early) < time(late));
        assert_eq!(parse_time(&time(late)).unwrap(), late);
    }

    #[test]
    fn ids_round_trip_and_garbage_is_unexpected() {
        let uuid = Uuid::now_v7();
        assert_eq!(parse_id(&id(uuid)).unwrap(), uuid);
        assert!(matches!(
            parse_id("not-a-uuid"),
            Err(RepositoryError::Unexpected(_))
        ));
    }
}
