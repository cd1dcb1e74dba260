//! Seeds the database with many orders by SQL (`INSERT ... SELECT
//! generate_series`), in a few seconds per 100,000 orders instead of hours
//! through the API, and picks the fixtures the read scenarios use.
//!
//! The rows are what the service itself would store: every CHECK of the
//! schema holds and every order passes `Order::restore` (totals equal the sum
//! of the lines, each status has its transition timestamps, numbers come
//! from the service's own sequence so they never collide with new ones).
//! One order in ten belongs to a single busy customer, so that
//! `/orders/customer/{id}` has a deep page too.
//! Ids are derived from `md5` of a label, so a seed is reproducible.

use std::time::Instant;

use anyhow::Context;
use chrono::{DateTime, Utc};
use serde::Serialize;
use tokio_postgres::Client;
use uuid::Uuid;

use crate::paging::ListCursor;

/// Orders per `INSERT` statement: big enough to be fast, small enough that
/// the two seeding connections share the work evenly.
const CHUNK: u64 = 50_000;

/// What is in the database before the scenarios run.
#[derive(Debug, Clone, Serialize)]
pub struct Seeded {
    /// Orders in the table when the run started.
    pub orders: u64,
    /// Lines in the table when the run started.
    pub lines: u64,
    /// Customers in the table when the run started.
    pub customers: u64,
    /// Seconds spent seeding (0 when the table was already filled).
    pub seconds: f64,
    /// The customer with the most orders (the deep customer list).
    pub busiest_customer: Uuid,
    /// Its orders.
    pub busiest_customer_orders: u64,
}

/// How many customers a seed of `orders` orders spreads them over.
fn customers_for(orders: u64) -> u64 {
    (orders / 1_000).max(20)
}

/// Fills an empty order table with `orders` orders of `lines` lines each,
/// over two connections (one per core), then vacuums and analyses.
/// A table that already holds orders is left as it is.
///
/// # Errors
/// Any SQL failure (schema not migrated, constraint the seed broke...).
pub async fn seed(connections: [&Client; 2], orders: u64, lines: u32) -> anyhow::Result<Seeded> {
    let [first, second] = connections;
    let existing = count(first, "order_mgmt_orders").await?;
    let mut seconds = 0.0;
    if existing == 0 && orders > 0 {
        let started = Instant::now();
        for db in connections {
            // Session settings of the seeding connections only; losing the
            // last seconds of a seed in a crash is fine.
            db.batch_execute(harness_sql!("SET synchronous_commit = off"))
                .await?;
        }
        insert_customers(first, customers_for(orders)).await?;
        let chunks: Vec<(u64, u64)> = (0..orders.div_ceil(CHUNK))
            .map(|i| (i * CHUNK + 1, ((i + 1) * CHUNK).min(orders)))
            .collect();
        let (even, odd): (Vec<_>, Vec<_>) =
            chunks.iter().partition(|(from, _)| (from / CHUNK) % 2 == 0);
        let (a, b) = tokio::join!(
            insert_chunks(first, even, orders, lines),
            insert_chunks(second, odd, orders, lines)
        );
        a?;
        b?;
        let (a, b) = tokio::join!(
            first.batch_execute(harness_sql!("VACUUM (ANALYZE) order_mgmt_orders")),
            second.batch_execute(harness_sql!("VACUUM (ANALYZE) order_mgmt_order_lines")),
        );
        a.context("vacuum orders")?;
        b.context("vacuum lines")?;
        first
            .batch_execute(harness_sql!("VACUUM (ANALYZE) customer_mgmt_customers"))
            .await
            .context("vacuum customers")?;
        seconds = started.elapsed().as_secs_f64();
    }
    let (busiest_customer, busiest_customer_orders) = busiest_customer(first).await?;
    Ok(Seeded {
        orders: count(first, "order_mgmt_orders").await?,
        lines: count(first, "order_mgmt_order_lines").await?,
        customers: count(first, "customer_mgmt_customers").await?,
        seconds,
        busiest_customer,
        busiest_customer_orders,
    })
}

async fn insert_chunks(
    db: &Client,
    chunks: Vec<&(u64, u64)>,
    total: u64,
    lines: u32,
) -> anyhow::Result<()> {
    for &(from, to) in chunks {
        insert_orders(db, from, to, total, lines)
            .await
            .with_context(|| format!("seeding orders {from}..={to}"))?;
    }
    Ok(())
}

async fn count(db: &Client, table: &str) -> anyhow::Result<u64> {
    let row = db
        .query_one(
            &format!(harness_sql!("SELECT count(*) FROM {}"), table),
            &[],
        )
        .await
        .with_context(|| format!("counting {table} (is the schema migrated?)"))?;
    Ok(u64::try_from(row.get::<_, i64>(0)).unwrap_or(0))
}

async fn insert_customers(db: &Client, customers: u64) -> anyhow::Result<()> {
    db.execute(
        harness_sql!(
            "INSERT INTO customer_mgmt_customers (id, name, email, source, created_at)
         SELECT md5('bench-customer-' || g)::uuid,
                'Bench Customer ' || g,
                'bench-customer-' || g || '@bench.example',
                'bench',
                now() - interval '400 days'
           FROM generate_series(1, $1::bigint) AS g"
        ),
        &[&i64::try_from(customers)?],
    )
    .await
    .context("seeding customers")?;
    Ok(())
}

/// Orders `from..=to` of a seed of `total`, and their lines.
///
/// Order `g` is `30 * (total - g)` seconds old (a million orders span a
/// year, the newest seeded last); every tenth belongs to customer 1, the
/// others round-robin over the rest. Statuses: 40 % fulfilled, 20 %
/// processing, 20 % confirmed, 15 % pending, 5 % cancelled. Line `i` of
/// order `g` has quantity `1 + (g + i) % 5` and unit price
/// `1000 + (7g + 13i) % 9000` cents; the order's subtotal and total are their
/// sum (no tax, no discount).
async fn insert_orders(
    db: &Client,
    from: u64,
    to: u64,
    total: u64,
    lines: u32,
) -> anyhow::Result<()> {
    let customers = i64::try_from(customers_for(total))?;
    let (from, to, total, lines) = (
        i64::try_from(from)?,
        i64::try_from(to)?,
        i64::try_from(total)?,
        i64::from(lines),
    );
    // One transaction per chunk: an order row and its lines add up only
    // together. The rows add up by construction (the order's amount is the
    // sum the line statement writes), so the commit-time totals check of
    // migration 2026-12-06-000001, one plpgsql call per row, is skipped here
    // by the replica role, as for a restore; the server's writes always run it.
    db.batch_execute(harness_sql!(
        "BEGIN; SET LOCAL session_replication_role = replica"
    ))
    .await?;
    db.execute(
        harness_sql!(
            "INSERT INTO order_mgmt_orders (
             id, order_number, customer_id, company_id, status, currency,
             subtotal, tax, discount, total, version,
             created_at, updated_at, deleted_at, confirmed_at,
             processing_started_at, fulfilled_at, cancelled_at, cancellation_reason)
         SELECT md5('bench-order-' || g)::uuid,
                'ORD-' || to_char(created, 'YYYY') || '-' || lpad(counter, greatest(6, length(counter)), '0'),
                md5('bench-customer-' || CASE WHEN g % 10 = 0 THEN 1 ELSE 2 + g % ($4::bigint - 1) END)::uuid,
                NULL,
                status,
                'USD',
                amount, 0, 0, amount,
                1 + $5::bigint + CASE status WHEN 'pending' THEN 0 WHEN 'confirmed' THEN 1
                    WHEN 'processing' THEN 2 WHEN 'fulfilled' THEN 3 ELSE 1 END,
                created,
                created + interval '3 hours',
                NULL,
                CASE WHEN status IN ('confirmed', 'processing', 'fulfilled') THEN created + interval '1 hour' END,
                CASE WHEN status IN ('processing', 'fulfilled') THEN created + interval '2 hours' END,
                CASE WHEN status = 'fulfilled' THEN created + interval '3 hours' END,
                CASE WHEN status = 'cancelled' THEN created + interval '3 hours' END,
                CASE WHEN status = 'cancelled' THEN 'customer changed their mind' END
           FROM (
             SELECT g,
                    nextval('order_mgmt_order_number_seq')::text AS counter,
                    now() - make_interval(secs => 30 * ($3::bigint - g)) AS created,
                    CASE WHEN g % 20 < 8 THEN 'fulfilled' WHEN g % 20 < 12 THEN 'processing'
                         WHEN g % 20 < 16 THEN 'confirmed' WHEN g % 20 < 19 THEN 'pending'
                         ELSE 'cancelled' END AS status,
                    (SELECT sum((1 + (g + i) % 5) * (1000 + (7 * g + 13 * i) % 9000))
                       FROM generate_series(1, $5::bigint) AS i)::bigint AS amount
               FROM generate_series($1::bigint, $2::bigint) AS g
           ) AS seed"
        ),
        &[&from, &to, &total, &customers, &lines],
    )
    .await?;
    db.execute(
        harness_sql!(
            "INSERT INTO order_mgmt_order_lines (
             id, order_id, product_id, quantity, unit_price, subtotal, total,
             description, sku, created_at, updated_at)
         SELECT md5('bench-line-' || g || '-' || i)::uuid,
                md5('bench-order-' || g)::uuid,
                md5('bench-product-' || (7 * g + 13 * i) % 9000)::uuid,
                1 + (g + i) % 5,
                1000 + (7 * g + 13 * i) % 9000,
                (1 + (g + i) % 5) * (1000 + (7 * g + 13 * i) % 9000),
                (1 + (g + i) % 5) * (1000 + (7 * g + 13 * i) % 9000),
                'Bench product ' || (7 * g + 13 * i) % 9000,
                'SKU-' || (7 * g + 13 * i) % 9000,
                created + make_interval(secs => i),
                created + make_interval(secs => i)
           FROM (SELECT g, now() - make_interval(secs => 30 * ($3::bigint - g)) AS created
                   FROM generate_series($1::bigint, $2::bigint) AS g) AS o,
                generate_series(1, $4::bigint) AS i"
        ),
        &[&from, &to, &total, &lines],
    )
    .await?;
    db.batch_execute(harness_sql!("COMMIT")).await?;
    Ok(())
}

async fn busiest_customer(db: &Client) -> anyhow::Result<(Uuid, u64)> {
    let row = db
        .query_opt(
            harness_sql!(
                "SELECT customer_id, count(*) FROM order_mgmt_orders
              WHERE deleted_at IS NULL
              GROUP BY customer_id ORDER BY count(*) DESC LIMIT 1"
            ),
            &[],
        )
        .await
        .context("finding the busiest customer")?;
    Ok(row.map_or((Uuid::nil(), 0), |row| {
        (row.get(0), u64::try_from(row.get::<_, i64>(1)).unwrap_or(0))
    }))
}

/// A sample of `n` live order ids for the GET scenario, spread over the
/// whole table (a random sample: reads hit cold and hot pages alike).
///
/// # Errors
/// On SQL failure.
pub async fn sample_order_ids(db: &Client, n: u32) -> anyhow::Result<Vec<Uuid>> {
    let rows = db
        .query(
            harness_sql!(
                "SELECT id FROM order_mgmt_orders WHERE deleted_at IS NULL ORDER BY random() LIMIT $1"
            ),
            &[&i64::from(n)],
        )
        .await
        .context("sampling order ids")?;
    Ok(rows.iter().map(|row| row.get(0)).collect())
}

/// Registers one customer by SQL (when the HTTP side is not run); returns its id.
///
/// # Errors
/// On SQL failure.
pub async fn insert_customer(db: &Client, name: &str, email: &str) -> anyhow::Result<Uuid> {
    let id = Uuid::now_v7();
    db.execute(
        harness_sql!(
            "INSERT INTO customer_mgmt_customers (id, name, email, source, created_at)
         VALUES ($1, $2, $3, 'bench', now())"
        ),
        &[&id, &name, &email],
    )
    .await?;
    Ok(id)
}

/// The cursor of the row `depth` rows into a list (1-based: depth 1 is its
/// first row), in the list's own order (`created_at DESC, id DESC`): all
/// live orders, or one customer's. `None` when the list is shorter. Reads
/// every row up to that depth once, before anything is measured.
///
/// # Errors
/// On SQL failure.
pub async fn cursor_at_depth(
    db: &Client,
    customer: Option<Uuid>,
    depth: u64,
) -> anyhow::Result<Option<ListCursor>> {
    let Some(offset) = depth.checked_sub(1) else {
        return Ok(None);
    };
    let offset = i64::try_from(offset)?;
    let row = match customer {
        Some(customer) => {
            db.query_opt(
                harness_sql!(
                    "SELECT created_at, id FROM order_mgmt_orders
                      WHERE deleted_at IS NULL AND customer_id = $1
                      ORDER BY created_at DESC, id DESC OFFSET $2 LIMIT 1"
                ),
                &[&customer, &offset],
            )
            .await
        }
        None => {
            db.query_opt(
                harness_sql!(
                    "SELECT created_at, id FROM order_mgmt_orders
                      WHERE deleted_at IS NULL
                      ORDER BY created_at DESC, id DESC OFFSET $1 LIMIT 1"
                ),
                &[&offset],
            )
            .await
        }
    }
    .context("finding the cursor of the deep page")?;
    Ok(row.map(|row| ListCursor {
        created_at: row.get::<_, DateTime<Utc>>(0),
        id: row.get(1),
    }))
}
