//! Where a list scenario reads: a numbered page, or the page after a cursor.
//!
//! Since keyset pagination a client reads deep into a list with `after`, the
//! `next_cursor` of the page before; numbered pages may skip at most 10,000
//! items. The deep scenarios therefore start from the cursor of the row at
//! the depth the old numbered deep page skipped to (the middle scenarios:
//! half-way down), computed by SQL from the seeded rows
//! ([`crate::seed::cursor_at_depth`]), and encoded the way the server
//! encodes it (`cursor::encode` in `crates/order-http/src/cursor.rs`).
//! The bench checks its encoding against a cursor the server hands out before
//! it measures anything.

use chrono::{DateTime, Utc};
use uuid::Uuid;

/// The sort key `(created_at, id)` of a list row: lists are newest first, by
/// `created_at DESC, id DESC`, and the page after a cursor holds the rows
/// strictly before it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ListCursor {
    /// Creation time of the row.
    pub created_at: DateTime<Utc>,
    /// Its id.
    pub id: Uuid,
}

impl ListCursor {
    /// The API's text form, `<created_at as unix microseconds>.<id as 32 hex digits>`.
    pub fn encode(&self) -> String {
        format!(
            "{}.{}",
            self.created_at.timestamp_micros(),
            self.id.simple()
        )
    }
}

/// Which page of a list one operation reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PageAt {
    /// `?page=n`, 1-based.
    Number(u64),
    /// `?after=<cursor>`: the page after the row the cursor names, which sits
    /// `depth` rows into the list (so the page starts at row `depth + 1`).
    After {
        /// The last row before the page.
        cursor: ListCursor,
        /// Rows of the list up to and including that row.
        depth: u64,
    },
}

impl PageAt {
    /// The query parameters that select this page (without `page_size`).
    pub fn query(&self) -> String {
        match self {
            Self::Number(page) => format!("page={page}"),
            Self::After { cursor, .. } => format!("after={}", cursor.encode()),
        }
    }

    /// Rows skipped before the page (for a numbered page, at `page_size`).
    pub fn skipped(&self, page_size: u32) -> u64 {
        match self {
            Self::Number(page) => page.saturating_sub(1) * u64::from(page_size),
            Self::After { depth, .. } => *depth,
        }
    }

    /// How the report names it, e.g. `page 1 x 20` or
    /// `after cursor at depth 999,980 x 20`.
    pub fn describe(&self, page_size: u32) -> String {
        match self {
            Self::Number(page) => format!("page {} x {page_size}", thousands(*page)),
            Self::After { depth, .. } => {
                format!("after cursor at depth {} x {page_size}", thousands(*depth))
            }
        }
    }
}

/// Rows a list of `rows` rows holds before its last page of `page_size`:
/// how deep the old numbered deep page (`page = ceil(rows / page_size)`)
/// skipped, and so the depth of the deep scenario's cursor. 0 when the list
/// has a single page.
pub fn last_page_depth(rows: u64, page_size: u32) -> u64 {
    let page_size = u64::from(page_size.max(1));
    rows.div_ceil(page_size).saturating_sub(1) * page_size
}

/// `1234567` as `1,234,567`.
pub fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, digit) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(digit);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_are_encoded_like_the_server_encodes_them() {
        // The example of the cursor round-trip test in order-http.
        let cursor = ListCursor {
            created_at: DateTime::from_timestamp_micros(1_767_225_600_123_456).unwrap(),
            id: Uuid::parse_str("0193b6ec-4774-c70e-09c2-c7ba19630289").unwrap(),
        };
        assert_eq!(
            cursor.encode(),
            "1767225600123456.0193b6ec4774c70e09c2c7ba19630289"
        );
        let at = PageAt::After { cursor, depth: 7 };
        assert_eq!(
            at.query(),
            "after=1767225600123456.0193b6ec4774c70e09c2c7ba19630289"
        );
    }

    #[test]
    fn the_deep_cursor_sits_where_the_last_numbered_page_started() {
        assert_eq!(last_page_depth(1_000_000, 20), 999_980);
        assert_eq!(last_page_depth(100_000, 20), 99_980);
        assert_eq!(last_page_depth(100_001, 20), 100_000);
        assert_eq!(last_page_depth(20, 20), 0);
        assert_eq!(last_page_depth(0, 20), 0);
    }

    #[test]
    fn pages_describe_themselves_for_the_report() {
        assert_eq!(PageAt::Number(1).describe(20), "page 1 x 20");
        assert_eq!(PageAt::Number(3).skipped(20), 40);
        let cursor = ListCursor {
            created_at: DateTime::from_timestamp_micros(0).unwrap(),
            id: Uuid::nil(),
        };
        let deep = PageAt::After {
            cursor,
            depth: 999_980,
        };
        assert_eq!(deep.describe(20), "after cursor at depth 999,980 x 20");
        assert_eq!(deep.skipped(20), 999_980);
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(100), "100");
        assert_eq!(thousands(1_000), "1,000");
        assert_eq!(thousands(99_980), "99,980");
    }
}
