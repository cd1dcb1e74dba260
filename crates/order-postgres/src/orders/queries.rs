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
        query = query.filter(RowBefore {
            created_at: cursor.created_at,
            id: cursor.id,
        });
    }
    // One row more than the page, to know whether a next page exists.
    Ok(query
        .select(OrderRow::as_select())
        .order((orders::created_at.desc(), orders::id.desc()))
        .limit(i64::from(page.page_size()) + 1)
        .offset(offset))
}

/// `(created_at, id) < ($1, $2)`: the rows before a cursor, as a row
/// comparison. PostgreSQL turns it into one index range of
/// `idx_orders_created` (or of `idx_orders_customer` after `customer_id = $n`)
/// in every plan, generic ones included. The same condition written
/// `created_at < $1 OR (created_at = $1 AND id < $2)` cannot be a range: its
/// custom plan is a bitmap of every row before the cursor (500,000 half-way
/// down a million orders) and its generic plan a scan filtering them out
/// (docs/performance.md). diesel has no row comparison, hence this type.
#[derive(Debug, Clone, Copy, diesel::query_builder::QueryId)]
pub(crate) struct RowBefore {
    created_at: chrono::DateTime<chrono::Utc>,
    id: Uuid,
}

impl diesel::expression::Expression for RowBefore {
    type SqlType = diesel::sql_types::Bool;
}

impl diesel::expression::ValidGrouping<()> for RowBefore {
    type IsAggregate = diesel::expression::is_aggregate::No;
}

impl diesel::AppearsOnTable<orders::table> for RowBefore {}

impl diesel::SelectableExpression<orders::table> for RowBefore {}

impl diesel::query_builder::QueryFragment<Pg> for RowBefore {
    fn walk_ast<'b>(
        &'b self,
        mut out: diesel::query_builder::AstPass<'_, 'b, Pg>,
    ) -> QueryResult<()> {
        out.push_sql("(");
        orders::created_at.walk_ast(out.reborrow())?;
        out.push_sql(", ");
        orders::id.walk_ast(out.reborrow())?;
        out.push_sql(") < (");
        out.push_bind_param::<diesel::sql_types::Timestamptz, _>(&self.created_at)?;
        out.push_sql(", ");
        out.push_bind_param::<diesel::sql_types::Uuid, _>(&self.id)?;
        out.push_sql(")");
        Ok(())
    }
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

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use order_app::ListCursor;
    use order_domain::CustomerId;

    use super::*;

    #[test]
    fn a_cursor_page_is_one_row_comparison_on_the_index_columns() {
        let cursor = ListCursor {
            created_at: chrono::DateTime::from_timestamp_micros(1_767_225_600_123_456).unwrap(),
            id: Uuid::now_v7(),
        };
        let filter = OrderFilter {
            customer_id: Some(CustomerId::from_uuid(Uuid::now_v7())),
            status: None,
        };
        let query = page(&filter, PageRequest::after(cursor, 20).unwrap()).unwrap();
        let sql = diesel::debug_query::<Pg, _>(&query).to_string();
        assert!(
            sql.contains(
                "WHERE (((\"order_mgmt_orders\".\"deleted_at\" IS NULL) AND \
                 (\"order_mgmt_orders\".\"customer_id\" = $1)) AND \
                 (\"order_mgmt_orders\".\"created_at\", \"order_mgmt_orders\".\"id\") < ($2, $3)) \
                 ORDER BY"
            ),
            "{sql}"
        );
        assert!(!sql.contains(" OR "), "{sql}");
    }
}
