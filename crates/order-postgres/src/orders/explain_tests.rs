//! `EXPLAIN` of the repository's own read queries (the SQL diesel generates
//! for them, with their parameters bound) on a database large enough for the
//! planner to prefer indexes: each uses the index it was built for.

#![allow(clippy::unwrap_used)]

use diesel::pg::Pg;
use diesel::prelude::*;
use diesel::query_builder::QueryFragment;
use diesel::sql_types::{Array, BigInt, Text};
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

    let customer_filter = OrderFilter {
        customer_id: Some(CustomerId::from_uuid(customer_id)),
        status: None,
    };
    let by_customer = plan(
        &mut conn,
        &queries::page(&customer_filter, page).unwrap(),
        |sql| {
            diesel::sql_query(sql)
                .into_boxed()
                .bind::<diesel::sql_types::Uuid, _>(customer_id)
                .bind::<BigInt, _>(20_i64)
                .bind::<BigInt, _>(20_i64)
        },
    );
    assert!(by_customer.contains("idx_orders_customer"), "{by_customer}");
    // ~50 rows per customer: fetching them all through the index and sorting
    // is as good as reading in index order; either way the index is used.

    let status_filter = OrderFilter {
        customer_id: None,
        status: Some(OrderStatus::Processing),
    };
    let by_status = plan(
        &mut conn,
        &queries::page(&status_filter, page).unwrap(),
        |sql| {
            diesel::sql_query(sql)
                .into_boxed()
                .bind::<Text, _>("processing")
                .bind::<BigInt, _>(20_i64)
                .bind::<BigInt, _>(20_i64)
        },
    );
    assert!(by_status.contains("idx_orders_status"), "{by_status}");
    assert!(
        !by_status.contains("Sort"),
        "read in index order: {by_status}"
    );

    let newest = plan(
        &mut conn,
        &queries::page(&OrderFilter::default(), page).unwrap(),
        |sql| {
            diesel::sql_query(sql)
                .into_boxed()
                .bind::<BigInt, _>(20_i64)
                .bind::<BigInt, _>(20_i64)
        },
    );
    assert!(newest.contains("idx_orders_created"), "{newest}");
    assert!(!newest.contains("Sort"), "read in index order: {newest}");

    let lines = plan(&mut conn, &queries::lines_of(vec![order_id]), |sql| {
        diesel::sql_query(sql)
            .into_boxed()
            .bind::<Array<diesel::sql_types::Uuid>, _>(vec![order_id])
    });
    assert!(lines.contains("idx_order_lines_order"), "{lines}");
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
