//! A list page of orders as one statement: the page's rows, each with its
//! lines and (when it can have any) its shipments and returns as JSON,
//! whether a next page exists, and the list's total when the page does not
//! tell it.
//!
//! One statement is one snapshot, so no transaction is needed to keep an
//! order's row, its lines and its shipments consistent: a writer committing
//! while the page is read is either wholly in it or wholly out of it. Before,
//! the page took 5 round trips (`BEGIN`, the rows, their lines, an `EXPLAIN`
//! for the total, `COMMIT`); see docs/performance.md.
//!
//! The SQL depends only on the filter's shape (customer or not, status or
//! not, cursor or not): every value is a bind parameter, so diesel caches
//! the statement by its SQL text and each shape is prepared once per
//! connection.

use chrono::{DateTime, Utc};
use diesel::pg::Pg;
use diesel::query_builder::{AstPass, Query, QueryFragment, QueryId};
use diesel::sql_types::{BigInt, Bool, Nullable, Text, Timestamptz, Uuid as SqlUuid};
use diesel::QueryResult;
use order_app::{OrderFilter, PageRequest, RepositoryError};
use order_domain::OrderStatus;
use uuid::Uuid;

use super::rows::OrderRow;
use crate::error::unexpected;

/// Counting stops here: beyond it the total is the planner's estimate.
/// Counting 10,000 index entries takes about a millisecond; counting a
/// million took 124 ms of CPU on every page (docs/performance.md).
pub(crate) const COUNT_LIMIT: i64 = 10_000;

/// The columns of an order row, in [`OrderRow`]'s order (rows are decoded by
/// position).
const ORDER_COLUMNS: &str = "id, order_number, customer_id, company_id, status, currency, \
subtotal, tax, discount, total, version, created_at, updated_at, deleted_at, confirmed_at, \
processing_started_at, fulfilled_at, cancelled_at, cancellation_reason, prices_include_tax, \
discounts";

/// One page of the live orders a filter matches, newest first, as one
/// statement (see the module documentation).
#[derive(Debug, Clone, Copy)]
pub(crate) struct ListPage {
    customer: Option<Uuid>,
    status: Option<&'static str>,
    cursor: Option<(DateTime<Utc>, Uuid)>,
    page_size: i64,
    /// Rows read: one more than the page.
    limit: i64,
    offset: i64,
    /// The offset is not zero.
    past_first: bool,
    count_total: bool,
}

/// What the statement returns per row: the order (`None` only in the one
/// row of an empty page, which still carries the total), its lines and
/// shipments as JSON, whether a next page exists, the bounded count (when
/// counting) and the planner's estimate (when the total is not known
/// otherwise).
pub(crate) type ListRow = (
    Option<OrderRow>,
    Option<String>,
    Option<String>,
    bool,
    Option<i64>,
    Option<i64>,
);

impl ListPage {
    /// The statement for `page` of `filter`.
    ///
    /// # Errors
    /// `Unexpected` for an offset beyond `BIGINT` (no valid request has one).
    pub(crate) fn new(filter: &OrderFilter, page: PageRequest) -> Result<Self, RepositoryError> {
        Ok(Self {
            customer: filter.customer_id.map(|c| c.as_uuid()),
            status: filter.status.map(OrderStatus::as_str),
            cursor: page.cursor().map(|c| (c.created_at, c.id)),
            page_size: i64::from(page.page_size()),
            limit: i64::from(page.page_size()) + 1,
            offset: i64::try_from(page.offset()).map_err(unexpected)?,
            past_first: page.offset() > 0,
            count_total: page.counts_total(),
        })
    }

    /// `AND customer_id = $n AND status = $m`, as far as the filter has them.
    fn push_filter<'b>(&'b self, out: &mut AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        if let Some(customer) = &self.customer {
            out.push_sql(" AND customer_id = ");
            out.push_bind_param::<SqlUuid, _>(customer)?;
        }
        if let Some(status) = self.status {
            out.push_sql(" AND status = ");
            out.push_bind_param::<Text, _>(status)?;
        }
        Ok(())
    }
}

impl QueryId for ListPage {
    type QueryId = ();
    // The SQL varies with the filter's shape: diesel caches it by its text.
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl Query for ListPage {
    type SqlType = (
        // The table's columns in table order, which is `OrderRow`'s (and
        // `ORDER_COLUMNS`'s; a test compares them).
        Nullable<crate::schema::order_mgmt_orders::SqlType>,
        Nullable<Text>,
        Nullable<Text>,
        Bool,
        Nullable<BigInt>,
        Nullable<BigInt>,
    );
}

impl<Conn> diesel::RunQueryDsl<Conn> for ListPage {}

/// The one constant of the statement that is not a bind: the state names of
/// [`super::shipments::may_have_shipments`], taken from the domain so the two
/// cannot disagree.
fn shipped_states() -> [&'static str; 2] {
    [
        OrderStatus::Processing.as_str(),
        OrderStatus::Fulfilled.as_str(),
    ]
}

impl QueryFragment<Pg> for ListPage {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        // The page plus one row, to know whether a next page exists; read in
        // the order of the list indexes, so the scan stops after it.
        out.push_sql("WITH page AS (SELECT ");
        out.push_sql(ORDER_COLUMNS);
        out.push_sql(" FROM order_mgmt_orders WHERE deleted_at IS NULL");
        self.push_filter(&mut out)?;
        if let Some((created_at, id)) = &self.cursor {
            // A row comparison: one index range at any depth, in every plan
            // (the `OR` form is not; docs/performance.md).
            out.push_sql(" AND (created_at, id) < (");
            out.push_bind_param::<Timestamptz, _>(created_at)?;
            out.push_sql(", ");
            out.push_bind_param::<SqlUuid, _>(id)?;
            out.push_sql(")");
        }
        out.push_sql(" ORDER BY created_at DESC, id DESC LIMIT ");
        out.push_bind_param::<BigInt, _>(&self.limit)?;
        out.push_sql(" OFFSET ");
        out.push_bind_param::<BigInt, _>(&self.offset)?;
        // The total, only where the page does not tell it: a numbered page
        // with no next page that is not past the end knows it for free.
        // Then, if asked, a count bounded at COUNT_LIMIT + 1 rows, and the
        // planner's estimate where the count stopped or was not asked for.
        // A CASE branch not taken is not run, so neither costs anything on
        // the last page.
        out.push_sql("), shape AS (SELECT count(*) > ");
        out.push_bind_param::<BigInt, _>(&self.page_size)?;
        out.push_sql(" AS has_more, ");
        if self.cursor.is_some() {
            // A cursor page does not know the rows before it.
            out.push_sql("true");
        } else {
            out.push_sql("count(*) > ");
            out.push_bind_param::<BigInt, _>(&self.page_size)?;
            // An empty page past the first does not know where the list ends.
            out.push_sql(" OR (count(*) = 0 AND ");
            out.push_bind_param::<Bool, _>(&self.past_first)?;
            out.push_sql(")");
        }
        // MATERIALIZED: `n` is used three times below, and an inlined CTE
        // would copy the count into each use, running it up to three times.
        out.push_sql(
            " AS needs_total FROM page), counted AS MATERIALIZED (SELECT has_more, needs_total, \
             CASE WHEN needs_total AND ",
        );
        out.push_bind_param::<Bool, _>(&self.count_total)?;
        out.push_sql(
            " THEN (SELECT count(*) FROM (SELECT 1 FROM order_mgmt_orders WHERE deleted_at IS NULL",
        );
        self.push_filter(&mut out)?;
        out.push_sql(" LIMIT ");
        out.push_bind_param::<BigInt, _>(&(COUNT_LIMIT + 1))?;
        out.push_sql(
            ") AS m) END AS n FROM shape), total AS (SELECT has_more, n, \
             CASE WHEN needs_total AND (n IS NULL OR n > ",
        );
        out.push_bind_param::<BigInt, _>(&COUNT_LIMIT)?;
        out.push_sql(") THEN order_mgmt_list_estimate(");
        match &self.customer {
            Some(customer) => out.push_bind_param::<SqlUuid, _>(customer)?,
            None => out.push_sql("NULL"),
        }
        out.push_sql(", ");
        match self.status {
            Some(status) => out.push_bind_param::<Text, _>(status)?,
            None => out.push_sql("NULL"),
        }
        // The rows of the page without the extra one, each with its lines
        // (and its shipments when its state allows any), joined to the
        // total so that an empty page is still one row that carries it.
        out.push_sql(
            ") END AS estimated FROM counted) \
             SELECT o.*, (SELECT coalesce(json_agg(l ORDER BY l.created_at, l.id), '[]')::text \
             FROM order_mgmt_order_lines AS l WHERE l.order_id = o.id) AS lines, \
             CASE WHEN o.status IN ('",
        );
        let [processing, fulfilled] = shipped_states();
        out.push_sql(processing);
        out.push_sql("', '");
        out.push_sql(fulfilled);
        out.push_sql(
            "') THEN json_build_object(\
             'fulfillments', (SELECT coalesce(json_agg(f ORDER BY f.position), '[]') \
             FROM order_mgmt_fulfillments AS f WHERE f.order_id = o.id), \
             'fulfillment_lines', (SELECT coalesce(json_agg(fl ORDER BY fl.position), '[]') \
             FROM order_mgmt_fulfillment_lines AS fl WHERE fl.order_id = o.id), \
             'returns', (SELECT coalesce(json_agg(r ORDER BY r.position), '[]') \
             FROM order_mgmt_returns AS r WHERE r.order_id = o.id), \
             'return_lines', (SELECT coalesce(json_agg(rl ORDER BY rl.position), '[]') \
             FROM order_mgmt_return_lines AS rl WHERE rl.order_id = o.id))::text END AS shipments, \
             t.has_more, t.n, t.estimated FROM total AS t LEFT JOIN \
             (SELECT * FROM page ORDER BY created_at DESC, id DESC LIMIT ",
        );
        out.push_bind_param::<BigInt, _>(&self.page_size)?;
        out.push_sql(") AS o ON true ORDER BY o.created_at DESC, o.id DESC");
        Ok(())
    }
}

/// How many live orders match a list's filter, as the statement found it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Total {
    Exact(u64),
    Estimated(u64),
}

/// The total from the statement's columns: the bounded count while it stayed
/// within [`COUNT_LIMIT`], else the estimate (never below the rows known to
/// exist: `at_least`, or the count), else, when the statement needed
/// neither, the page's own end (`offset + rows`).
pub(crate) fn total_of(
    counted: Option<i64>,
    estimated: Option<i64>,
    at_least: u64,
    page_end: u64,
) -> Total {
    let counted = counted.map(|n| u64::try_from(n).unwrap_or_default());
    match (counted, estimated) {
        (Some(n), _) if n <= COUNT_LIMIT as u64 => Total::Exact(n),
        (counted, Some(estimate)) => Total::Estimated(
            u64::try_from(estimate)
                .unwrap_or_default()
                .max(counted.unwrap_or(at_least)),
        ),
        // A count past the limit always comes with an estimate; if it ever
        // did not, the count is still a true lower bound.
        (Some(n), None) => Total::Estimated(n),
        (None, None) => Total::Exact(page_end),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use order_app::ListCursor;
    use order_domain::CustomerId;

    use super::*;

    fn sql(filter: &OrderFilter, page: PageRequest) -> String {
        let query = ListPage::new(filter, page).unwrap();
        diesel::debug_query::<Pg, _>(&query).to_string()
    }

    #[test]
    fn the_order_columns_are_order_rows_in_its_order() {
        use diesel::prelude::*;
        let select = crate::schema::order_mgmt_orders::table.select(OrderRow::as_select());
        let sql = diesel::debug_query::<Pg, _>(&select)
            .to_string()
            .replace("\"order_mgmt_orders\".", "")
            .replace('"', "");
        assert!(
            sql.starts_with(&format!("SELECT {ORDER_COLUMNS} FROM")),
            "{sql}"
        );
    }

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
        let sql = sql(&filter, PageRequest::after(cursor, 20).unwrap());
        assert!(
            sql.contains(
                "FROM order_mgmt_orders WHERE deleted_at IS NULL AND customer_id = $1 \
                 AND (created_at, id) < ($2, $3) ORDER BY created_at DESC, id DESC LIMIT $4"
            ),
            "{sql}"
        );
        assert!(!sql.contains(" OR created_at"), "{sql}");
    }

    #[test]
    fn the_sql_depends_on_the_filters_shape_only_so_it_is_prepared_once_per_shape() {
        let customer = |n| OrderFilter {
            customer_id: Some(CustomerId::from_uuid(Uuid::from_u128(n))),
            status: Some(OrderStatus::Confirmed),
        };
        let text = |filter: &OrderFilter, page| {
            let query = ListPage::new(filter, page).unwrap();
            diesel::debug_query::<Pg, _>(&query)
                .to_string()
                .split(" -- binds:")
                .next()
                .unwrap()
                .to_owned()
        };
        let first = text(&customer(1), PageRequest::new(1, 20).unwrap());
        assert_eq!(
            first,
            text(
                &customer(2),
                PageRequest::new(7, 50).unwrap().counting_total(false)
            ),
            "other values, other page, other total mode: the same statement"
        );
        assert_ne!(
            first,
            text(&OrderFilter::default(), PageRequest::new(1, 20).unwrap())
        );
        assert!(ListPage::query_id().is_none(), "cached by its SQL text");
        let page = ListPage::new(&customer(1), PageRequest::new(1, 20).unwrap()).unwrap();
        assert!(
            QueryFragment::<Pg>::is_safe_to_cache_prepared(&page, &Pg).unwrap(),
            "diesel may cache it"
        );
    }

    #[test]
    fn the_total_is_the_count_within_the_limit_then_the_estimate_then_the_pages_end() {
        // Counted within the limit: exact, whatever the estimate.
        assert_eq!(total_of(Some(25), None, 21, 0), Total::Exact(25));
        assert_eq!(total_of(Some(0), None, 0, 0), Total::Exact(0));
        // Counted past the limit: the estimate, never below the count.
        assert_eq!(
            total_of(Some(10_001), Some(50_000), 21, 0),
            Total::Estimated(50_000)
        );
        assert_eq!(
            total_of(Some(10_001), Some(9_000), 21, 0),
            Total::Estimated(10_001)
        );
        // Not counted: the estimate, never below the rows seen.
        assert_eq!(total_of(None, Some(3), 41, 0), Total::Estimated(41));
        assert_eq!(total_of(None, Some(90), 41, 0), Total::Estimated(90));
        // Neither needed: the page ended the list.
        assert_eq!(total_of(None, None, 0, 45), Total::Exact(45));
    }
}
