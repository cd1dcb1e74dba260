//! The read queries of the order repository, built in one place so that the
//! repository and the `EXPLAIN` test run exactly the same SQL.
//!
//! Every query carries `deleted_at IS NULL`: soft-deleted orders are
//! invisible, and it is also what lets the planner use the partial indexes.

use diesel::dsl::{AsSelect, SqlTypeOf};
use diesel::pg::Pg;
use diesel::prelude::*;
use order_app::{OrderFilter, PageRequest, RepositoryError};
use uuid::Uuid;

use super::{LineRow, OrderRow};
use crate::error::unexpected;
use crate::schema::{order_mgmt_order_lines as lines, order_mgmt_orders as orders};

/// A query for order rows.
pub(crate) type OrdersQuery = orders::BoxedQuery<'static, Pg, SqlTypeOf<AsSelect<OrderRow, Pg>>>;

/// A query for line rows.
pub(crate) type LinesQuery = lines::BoxedQuery<'static, Pg, SqlTypeOf<AsSelect<LineRow, Pg>>>;

/// Live orders matching `filter` (no columns chosen yet: for counting).
pub(crate) fn matching(filter: &OrderFilter) -> orders::BoxedQuery<'static, Pg> {
    let mut query = orders::table
        .filter(orders::deleted_at.is_null())
        .into_boxed();
    if let Some(customer_id) = filter.customer_id {
        query = query.filter(orders::customer_id.eq(customer_id.as_uuid()));
    }
    if let Some(status) = filter.status {
        query = query.filter(orders::status.eq(status.as_str()));
    }
    query
}

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

/// One page of live orders matching `filter`, newest first. The sort order
/// is exactly the one `idx_orders_customer`, `idx_orders_status` and
/// `idx_orders_created` are built in, so no sort step is needed.
pub(crate) fn page(
    filter: &OrderFilter,
    page: PageRequest,
) -> Result<OrdersQuery, RepositoryError> {
    let offset = i64::try_from(page.offset()).map_err(unexpected)?;
    let mut query = matching(filter);
    if let Some(cursor) = page.cursor() {
        // Keyset: the rows strictly after the cursor in (created_at DESC, id
        // DESC) order, a range scan of the same indexes whatever the depth.
        query = query.filter(
            orders::created_at
                .lt(cursor.created_at)
                .or(orders::created_at
                    .eq(cursor.created_at)
                    .and(orders::id.lt(cursor.id))),
        );
    }
    // One row more than the page, to know whether a next page exists.
    Ok(query
        .select(OrderRow::as_select())
        .order((orders::created_at.desc(), orders::id.desc()))
        .limit(i64::from(page.page_size()) + 1)
        .offset(offset))
}

/// All lines of these orders, each order's lines in the order they were
/// added (UUID v7 ids rise with time, and break ties in `created_at`).
pub(crate) fn lines_of(order_ids: Vec<Uuid>) -> LinesQuery {
    lines::table
        .filter(lines::order_id.eq_any(order_ids))
        .order((lines::order_id, lines::created_at, lines::id))
        .select(LineRow::as_select())
        .into_boxed()
}
