//! The read queries of the order repository, built in one place so that the
//! repository and the `EXPLAIN` test run exactly the same SQL. A list page is
//! one statement of its own, in `list.rs`.
//!
//! Every query carries `deleted_at IS NULL`: soft-deleted orders are
//! invisible, and it is also what lets the planner use the partial indexes.

use uuid::Uuid;

/// Which order to load.
#[derive(Debug, Clone)]
pub(crate) enum OrderKey {
    /// By primary key.
    Id(Uuid),
    /// By `order_number` (unique index).
    Number(String),
}

/// The live order `$matches` selects (a filter on `orders`: by id or by
/// number) with all its lines, as one statement: the row `LEFT JOIN` its
/// lines, lines in the order they were added. One statement is one snapshot,
/// so no transaction is needed to keep the row and its lines consistent, and
/// reading an order is one round trip.
///
/// Not boxed: a query whose type is fully static has a static query id, so
/// diesel prepares it once per connection and reuses the statement (a boxed
/// one is sent unnamed and parsed and planned by PostgreSQL every time).
/// A macro rather than a function because the joined query's type cannot be
/// named: the repository runs it and the `EXPLAIN` test prints it.
macro_rules! order_with_lines {
    ($matches:expr) => {{
        use crate::schema::{order_mgmt_order_lines as lines, order_mgmt_orders as orders};
        orders::table
            .left_join(lines::table)
            .filter(orders::deleted_at.is_null())
            .filter($matches)
            .order((lines::created_at.asc(), lines::id.asc()))
            .select((
                crate::orders::OrderRow::as_select(),
                Option::<crate::orders::LineRow>::as_select(),
            ))
    }};
}
pub(crate) use order_with_lines;
