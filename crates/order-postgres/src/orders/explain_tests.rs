//! `EXPLAIN` of the repository's own read queries (the SQL diesel generates
//! for them, with their parameters bound) on a database large enough for the
//! planner to prefer indexes: each uses the index it was built for.

#![allow(clippy::unwrap_used)]

use diesel::pg::Pg;
use diesel::prelude::*;
use diesel::query_builder::QueryFragment;
use diesel::sql_types::{BigInt, Text};
use order_app::{OrderFilter, PageRequest};
use order_domain::{CustomerId, OrderStatus};
use uuid::Uuid;

use super::queries;
use crate::testing::TestDatabase;

/// 100 customers, 5,000 orders, two lines each. Statuses are skewed the way
/// a live shop's are: most orders are fulfilled, few are in flight; 2% of the
/// orders are soft-deleted.
const SEED: &str = "
INSERT INTO customer_mgmt_customers (id, name, email, created_at)
SELECT gen_random_uuid(), 'Customer ' || g, 'c' || g || '@example.com', now()
FROM generate_series(1, 100) AS g;

WITH c AS (SELECT array_agg(id ORDER BY id) AS ids FROM customer_mgmt_customers)
INSERT INTO order_mgmt_orders (
    id, order_number, customer_id, status, currency, subtotal, tax, discount, total,
    version, created_at, updated_at, deleted_at,
    confirmed_at, processing_started_at, fulfilled_at, cancelled_at)
SELECT gen_random_uuid(), 'ORD-2025-' || lpad(g::text, 6, '0'), c.ids[1 + g % 100],
       CASE WHEN g % 100 < 80 THEN 'fulfilled'
            WHEN g % 100 < 88 THEN 'cancelled'
            WHEN g % 100 < 93 THEN 'confirmed'
            WHEN g % 100 < 97 THEN 'processing'
            ELSE 'pending' END,
       'USD', 2000, 0, 0, 2000, 3,
       now() - g * interval '1 minute', now(),
       CASE WHEN g % 50 = 0 THEN now() END,
       now(), now(), now(), now()
FROM generate_series(1, 5000) AS g, c;

INSERT INTO order_mgmt_order_lines (
    id, order_id, product_id, quantity, unit_price, subtotal, total, created_at, updated_at)
SELECT gen_random_uuid(), o.id, gen_random_uuid(), 1, 1000, 1000, 1000, o.created_at, o.created_at
FROM order_mgmt_orders AS o, generate_series(1, 2);

ANALYZE;
";

#[derive(QueryableByName)]
struct PlanLine {
    #[diesel(sql_type = Text, column_name = "QUERY PLAN")]
    line: String,
}

/// The plan of `query`'s SQL, with `bind` supplying its parameters.
fn plan<Q: QueryFragment<Pg>>(
    conn: &mut PgConnection,
    query: &Q,
    bind: impl FnOnce(
        String,
    ) -> diesel::query_builder::BoxedSqlQuery<
        'static,
        Pg,
        diesel::query_builder::SqlQuery,
    >,
) -> String {
    let debug = diesel::debug_query::<Pg, _>(query).to_string();
    let sql = debug.split(" -- binds:").next().unwrap_or_default();
    bind(format!("EXPLAIN {sql}"))
        .load::<PlanLine>(conn)
        .unwrap()
        .into_iter()
        .map(|l| l.line)
        .collect::<Vec<_>>()
        .join("\n")
}

fn first_id(conn: &mut PgConnection, sql: &str) -> Uuid {
    #[derive(QueryableByName)]
    struct Row {
        #[diesel(sql_type = diesel::sql_types::Uuid)]
        id: Uuid,
    }
    diesel::sql_query(sql).get_result::<Row>(conn).unwrap().id
}

#[test]
fn the_read_queries_use_their_indexes() {
    let db = TestDatabase::new();
    let mut conn = db.connection();
    diesel::connection::SimpleConnection::batch_execute(&mut conn, SEED).unwrap();
    let order_id = first_id(
        &mut conn,
        "SELECT id FROM order_mgmt_orders WHERE deleted_at IS NULL LIMIT 1",
    );
    let customer_id = first_id(&mut conn, "SELECT id FROM customer_mgmt_customers LIMIT 1");
    let page = PageRequest::new(2, 20).unwrap();

    // Loading an order is one statement: the row by primary key, its lines by idx_order_lines_order.
    let by_id = plan(
        &mut conn,
        &queries::order_with_lines!(crate::schema::order_mgmt_orders::id.eq(order_id)),
        |sql| {
            diesel::sql_query(sql)
                .into_boxed()
                .bind::<diesel::sql_types::Uuid, _>(order_id)
        },
    );
    assert!(by_id.contains("order_mgmt_orders_pkey"), "{by_id}");
    assert!(by_id.contains("idx_order_lines_order"), "{by_id}");

    let by_number = plan(
        &mut conn,
        &queries::order_with_lines!(
            crate::schema::order_mgmt_orders::order_number.eq("ORD-2025-000042")
        ),
        |sql| {
            diesel::sql_query(sql)
                .into_boxed()
                .bind::<Text, _>("ORD-2025-000042")
        },
    );
    assert!(by_number.contains("uq_order_number"), "{by_number}");

    // A list page is one statement: the page's rows come off the list index
    // of its filter, in that index's order (no sort of the matching rows: the
    // scan stops after the page), and its lines off idx_order_lines_order.
    let customer_filter = OrderFilter {
        customer_id: Some(CustomerId::from_uuid(customer_id)),
        status: None,
    };
    let by_customer = list_plan(&mut conn, &customer_filter, page);
    assert!(
        by_customer.page.contains("idx_orders_customer"),
        "{by_customer:?}"
    );
    // ~50 rows per customer: fetching them all through the index and sorting
    // is as good as reading in index order; either way the index is used.
    assert!(
        by_customer.rest.contains("idx_order_lines_order"),
        "{by_customer:?}"
    );

    let status_filter = OrderFilter {
        customer_id: None,
        status: Some(OrderStatus::Processing),
    };
    let by_status = list_plan(&mut conn, &status_filter, page);
    assert!(
        by_status.page.contains("idx_orders_status"),
        "{by_status:?}"
    );
    assert!(
        !by_status.page.contains("Sort"),
        "read in index order: {by_status:?}"
    );

    let newest = list_plan(&mut conn, &OrderFilter::default(), page);
    assert!(newest.page.contains("idx_orders_created"), "{newest:?}");
    assert!(
        !newest.page.contains("Sort"),
        "read in index order: {newest:?}"
    );
    assert!(newest.rest.contains("idx_order_lines_order"), "{newest:?}");

    // Counting (`include_total=true`) scans the orders once more, bounded,
    // and only once however often the statement uses the count.
    let counting = list_plan(
        &mut conn,
        &OrderFilter::default(),
        PageRequest::new(1, 20).unwrap().counting_total(true),
    );
    let scans = counting
        .rest
        .lines()
        .filter(|l| l.contains(" on order_mgmt_orders"))
        .count();
    assert_eq!(scans, 1, "one bounded count: {counting:?}");

    // A cursor page deep in the list is the same index range.
    let cursor = first_cursor(&mut conn);
    let after = list_plan(
        &mut conn,
        &OrderFilter::default(),
        PageRequest::after(cursor, 20).unwrap(),
    );
    assert!(after.page.contains("idx_orders_created"), "{after:?}");
    assert!(
        !after.page.contains("Sort"),
        "read in index order: {after:?}"
    );
}

/// A list statement's plan, split in two: the part that reads the page's
/// rows (the `page` CTE) and the rest (lines, shipments, total, the sort of
/// the at most 21 rows read).
#[derive(Debug)]
struct ListPlan {
    page: String,
    rest: String,
}

/// The plan of the list statement the repository sends for `filter` and
/// `page`, as PostgreSQL plans it for these values (`EXPLAIN EXECUTE` of the
/// statement prepared with its parameters' types).
fn list_plan(conn: &mut PgConnection, filter: &OrderFilter, page: PageRequest) -> ListPlan {
    let query = super::list::ListPage::new(filter, page).unwrap();
    let debug = diesel::debug_query::<Pg, _>(&query).to_string();
    let (sql, binds) = debug.split_once(" -- binds: ").unwrap();
    // The binds as diesel prints them (`[Some(..), 21, ...]`), as SQL literals.
    let values: Vec<String> = binds
        .trim_start_matches('[')
        .trim_end_matches(']')
        .split(", ")
        .map(|v| match v {
            "true" | "false" => v.to_owned(),
            v if v.parse::<i64>().is_ok() => v.to_owned(),
            v => format!("'{}'", v.trim_matches('"')),
        })
        .collect();
    let name = format!("list_{}", values.len());
    diesel::connection::SimpleConnection::batch_execute(
        conn,
        &format!("DEALLOCATE ALL; PREPARE {name} AS {sql}"),
    )
    .unwrap();
    let lines = diesel::sql_query(format!("EXPLAIN EXECUTE {name}({})", values.join(", ")))
        .load::<PlanLine>(conn)
        .unwrap();
    let mut split = ListPlan {
        page: String::new(),
        rest: String::new(),
    };
    let mut in_page: Option<usize> = None;
    for line in lines.into_iter().map(|l| l.line) {
        let indent = line.len() - line.trim_start().len();
        if in_page.is_some_and(|at| indent <= at) {
            in_page = None;
        }
        if line.trim_start().starts_with("CTE page") {
            in_page = Some(indent);
        }
        let part = if in_page.is_some() {
            &mut split.page
        } else {
            &mut split.rest
        };
        part.push_str(&line);
        part.push('\n');
    }
    split
}

/// The cursor of the 1,000th live order, newest first.
fn first_cursor(conn: &mut PgConnection) -> order_app::ListCursor {
    #[derive(QueryableByName)]
    struct Row {
        #[diesel(sql_type = diesel::sql_types::Timestamptz)]
        created_at: chrono::DateTime<chrono::Utc>,
        #[diesel(sql_type = diesel::sql_types::Uuid)]
        id: Uuid,
    }
    let row = diesel::sql_query(
        "SELECT created_at, id FROM order_mgmt_orders WHERE deleted_at IS NULL \
         ORDER BY created_at DESC, id DESC OFFSET 999 LIMIT 1",
    )
    .get_result::<Row>(conn)
    .unwrap();
    order_app::ListCursor {
        created_at: row.created_at,
        id: row.id,
    }
}

/// Reading an order is the hottest statement: it must be a prepared
/// statement diesel reuses (parsed and planned once per connection), not an
/// unnamed one PostgreSQL parses and plans on every request.
#[test]
fn reading_an_order_is_a_cached_prepared_statement() {
    #[derive(QueryableByName)]
    struct Count {
        #[diesel(sql_type = BigInt)]
        n: i64,
    }
    let db = TestDatabase::new();
    let mut conn = db.connection();
    let prepared = |conn: &mut PgConnection| {
        diesel::sql_query(
            "SELECT count(*) AS n FROM pg_prepared_statements \
             WHERE statement LIKE '%LEFT OUTER JOIN \"order_mgmt_order_lines\"%'",
        )
        .get_result::<Count>(conn)
        .unwrap()
        .n
    };
    assert_eq!(prepared(&mut conn), 0);
    for _ in 0..3 {
        queries::order_with_lines!(crate::schema::order_mgmt_orders::id.eq(Uuid::now_v7()))
            .load::<(super::OrderRow, Option<super::LineRow>)>(&mut conn)
            .unwrap();
        queries::order_with_lines!(
            crate::schema::order_mgmt_orders::order_number.eq("ORD-2025-000001")
        )
        .load::<(super::OrderRow, Option<super::LineRow>)>(&mut conn)
        .unwrap();
    }
    assert_eq!(
        prepared(&mut conn),
        2,
        "one prepared statement by id and one by number, each reused"
    );
}
