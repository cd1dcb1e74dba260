//! The raw baseline: for each scenario, the SQL statements the server's
//! PostgreSQL adapter executes for one operation, sent straight to the same
//! database at the same concurrency, one connection per worker.
//!
//! This is "what PostgreSQL itself can do" for the work of one operation:
//! the same statements, the same transactions, the same rows written and read,
//! with none of the server's costs (HTTP, JSON, the domain, the blocking
//! thread pool, diesel, the connection pool). Every statement is prepared
//! once per connection and then costs one round trip; transaction control is
//! a simple query, as diesel sends it.
//!
//! For the queries that do the fewest statements possible, see
//! [`crate::limit`]. Mirrored from `crates/order-postgres` (repository `insert`, `find_by_id`,
//! `list` with its estimate or `count_bounded`, `update`; `PgOrderNumberAllocator` and its
//! blocks of 32 numbers; `CustomerDirectory::exists`) and checked statement
//! by statement, per scenario, against a `log_statement = 'all'` capture of
//! the server (`scripts/bench-sql-audit.sh`). Deliberately left out: the
//! `SELECT 1` the pool runs on a check-out of a connection idle over 500 ms, and the parse and plan
//! PostgreSQL repeats for the statements diesel does not cache (it sends
//! those unnamed: the number block, the fulfilment's inserts); both are costs
//! of the server's stack, which the ratio to this baseline is there to expose. The one exception is `count_bounded`'s two
//! statements, sent unnamed here too, because their plan depends on the
//! values they are planned with (see `RawConnection::count_bounded`).
//!
//! The harness's own SQL (seed, fixtures, probes) is tagged with
//! `harness_sql!`, so that the audit can tell it from the baseline's.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use chrono::{DateTime, Datelike, Utc};
use serde_json::{json, Value};
use tokio_postgres::types::Type;
use tokio_postgres::{Client, NoTls, Statement};
use uuid::Uuid;

use crate::paging::PageAt;
use crate::scenario::{line_amounts, product_id, LIFECYCLE_LINES};

/// Columns of an order row, in `OrderRow` order.
const ORDER_COLUMNS: &str =
    "\"order_mgmt_orders\".\"id\", \"order_mgmt_orders\".\"order_number\", \
    \"order_mgmt_orders\".\"customer_id\", \"order_mgmt_orders\".\"company_id\", \
    \"order_mgmt_orders\".\"status\", \"order_mgmt_orders\".\"currency\", \
    \"order_mgmt_orders\".\"subtotal\", \"order_mgmt_orders\".\"tax\", \
    \"order_mgmt_orders\".\"discount\", \"order_mgmt_orders\".\"total\", \
    \"order_mgmt_orders\".\"version\", \"order_mgmt_orders\".\"created_at\", \
    \"order_mgmt_orders\".\"updated_at\", \"order_mgmt_orders\".\"deleted_at\", \
    \"order_mgmt_orders\".\"confirmed_at\", \"order_mgmt_orders\".\"processing_started_at\", \
    \"order_mgmt_orders\".\"fulfilled_at\", \"order_mgmt_orders\".\"cancelled_at\", \
    \"order_mgmt_orders\".\"cancellation_reason\", \"order_mgmt_orders\".\"prices_include_tax\", \
    \"order_mgmt_orders\".\"discounts\"";

/// Columns of a line row, in `LineRow` order.
const LINE_COLUMNS: &str =
    "\"order_mgmt_order_lines\".\"id\", \"order_mgmt_order_lines\".\"order_id\", \
    \"order_mgmt_order_lines\".\"product_id\", \"order_mgmt_order_lines\".\"quantity\", \
    \"order_mgmt_order_lines\".\"unit_price\", \"order_mgmt_order_lines\".\"subtotal\", \
    \"order_mgmt_order_lines\".\"description\", \"order_mgmt_order_lines\".\"sku\", \
    \"order_mgmt_order_lines\".\"created_at\", \"order_mgmt_order_lines\".\"updated_at\", \
    \"order_mgmt_order_lines\".\"tax_rate_millionths\", \"order_mgmt_order_lines\".\"tax_category\", \
    \"order_mgmt_order_lines\".\"discount\", \"order_mgmt_order_lines\".\"tax\", \
    \"order_mgmt_order_lines\".\"total\", \"order_mgmt_order_lines\".\"shipped_quantity\"";

/// The read transaction of `read_consistent` (lists only, since an order is
/// read with one statement).
const BEGIN_READ: &str = "BEGIN TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY";

/// Sequence values one round trip reserves: `BLOCK` of
/// `crates/order-postgres/src/numbers.rs`.
const NUMBER_BLOCK: i64 = 32;

/// `FRESH_FOR` of `crates/order-postgres/src/orders/estimates.rs`: how long
/// a list's estimated total is reused.
const ESTIMATE_FRESH_FOR: Duration = Duration::from_secs(1);

/// A list total is counted up to this many rows and estimated beyond:
/// `COUNT_LIMIT` of `crates/order-postgres/src/orders/mod.rs`.
const COUNT_LIMIT: i64 = 10_000;

/// The filter of `count_bounded`; `$1 IS NULL OR ...` folds away because the
/// server plans it with its values (an unnamed statement).
const MATCHING: &str = "FROM order_mgmt_orders WHERE deleted_at IS NULL \
    AND ($1::uuid IS NULL OR customer_id = $1) AND ($2::text IS NULL OR status = $2)";

fn customer_exists_sql() -> String {
    "SELECT EXISTS (SELECT \"customer_mgmt_customers\".\"id\", \"customer_mgmt_customers\".\"name\", \
     \"customer_mgmt_customers\".\"email\", \"customer_mgmt_customers\".\"source\", \
     \"customer_mgmt_customers\".\"created_at\" FROM \"customer_mgmt_customers\" \
     WHERE (\"customer_mgmt_customers\".\"id\" = $1))"
        .to_owned()
}

/// `PgOrderNumberAllocator`: a block of [`NUMBER_BLOCK`] numbers per round trip.
fn reserve_numbers_sql() -> String {
    "SELECT nextval('order_mgmt_order_number_seq') AS n FROM generate_series(1, $1)".to_owned()
}

/// `INSERT_ORDER_WITH_EVENTS` of `crates/order-postgres/src/orders/writes.rs`:
/// the order row and its events (as arrays), one statement.
fn insert_order_with_events_sql() -> String {
    "WITH o AS (\
INSERT INTO order_mgmt_orders (id, order_number, customer_id, company_id, status, currency, \
subtotal, tax, discount, total, version, created_at, updated_at, deleted_at, confirmed_at, \
processing_started_at, fulfilled_at, cancelled_at, cancellation_reason, prices_include_tax, discounts) \
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21) \
RETURNING id) \
INSERT INTO order_mgmt_order_events (event_id, order_id, version, event_type, occurred_at, actor_id, payload) \
SELECT e.event_id, o.id, e.version, e.event_type, e.occurred_at, e.actor_id, e.payload FROM o, \
unnest($22::uuid[], $23::int8[], $24::text[], $25::timestamptz[], $26::text[], $27::jsonb[]) \
AS e(event_id, version, event_type, occurred_at, actor_id, payload)"
        .to_owned()
}

/// `order_with_lines!` by id: the row `LEFT JOIN` its lines, one statement.
pub(crate) fn order_with_lines_sql() -> String {
    format!(
        "SELECT {ORDER_COLUMNS}, {LINE_COLUMNS} FROM (\"order_mgmt_orders\" LEFT OUTER JOIN \
         \"order_mgmt_order_lines\" ON (\"order_mgmt_order_lines\".\"order_id\" = \"order_mgmt_orders\".\"id\")) \
         WHERE ((\"order_mgmt_orders\".\"deleted_at\" IS NULL) AND (\"order_mgmt_orders\".\"id\" = $1)) \
         ORDER BY \"order_mgmt_order_lines\".\"created_at\" ASC, \"order_mgmt_order_lines\".\"id\" ASC"
    )
}

fn lines_of_sql() -> String {
    format!(
        "SELECT {LINE_COLUMNS} FROM \"order_mgmt_order_lines\" WHERE (\"order_mgmt_order_lines\".\"order_id\" \
         = ANY($1)) ORDER BY \"order_mgmt_order_lines\".\"order_id\", \
         \"order_mgmt_order_lines\".\"created_at\", \"order_mgmt_order_lines\".\"id\""
    )
}

/// `queries::page`: live orders, of one customer when `for_customer`, after
/// a cursor when `keyset`; newest first, `LIMIT page_size + 1 OFFSET n`.
/// Parameters in order: customer, cursor (`created_at` twice, id), limit,
/// offset. Diesel puts each further `filter` and the one before it in
/// parentheses joined by `AND`.
fn page_sql(for_customer: bool, keyset: bool) -> String {
    let mut n = 0;
    let mut next = || {
        n += 1;
        format!("${n}")
    };
    let mut filter = "(\"order_mgmt_orders\".\"deleted_at\" IS NULL)".to_owned();
    if for_customer {
        filter = format!(
            "({filter} AND (\"order_mgmt_orders\".\"customer_id\" = {}))",
            next()
        );
    }
    if keyset {
        let (at, id) = (next(), next());
        filter = format!(
            "({filter} AND (\"order_mgmt_orders\".\"created_at\", \"order_mgmt_orders\".\"id\") < ({at}, {id}))"
        );
    }
    let (limit, offset) = (next(), next());
    format!(
        "SELECT {ORDER_COLUMNS} FROM \"order_mgmt_orders\" WHERE {filter} ORDER BY \
         \"order_mgmt_orders\".\"created_at\" DESC, \"order_mgmt_orders\".\"id\" DESC \
         LIMIT {limit} OFFSET {offset}"
    )
}

/// `count_bounded`, first statement: the matching rows, counted up to
/// [`COUNT_LIMIT`] + 1.
fn count_bounded_sql() -> String {
    format!("SELECT count(*) AS n FROM (SELECT 1 {MATCHING} LIMIT $3) AS m")
}

/// `count_bounded`, second statement when the count passed [`COUNT_LIMIT`]:
/// the planner's estimate of the total.
fn estimate_sql() -> String {
    format!("EXPLAIN (FORMAT JSON) SELECT 1 {MATCHING}")
}

/// `UPDATE_ORDER_WITH_EVENTS` of `crates/order-postgres/src/orders/writes.rs`:
/// the compare-and-set of the row and its events, one statement.
fn update_order_with_events_sql() -> String {
    "WITH u AS (\
UPDATE order_mgmt_orders SET status = $1, subtotal = $2, tax = $3, discount = $4, total = $5, \
version = $6, updated_at = $7, deleted_at = $8, confirmed_at = $9, processing_started_at = $10, \
fulfilled_at = $11, cancelled_at = $12, cancellation_reason = $13, discounts = $14 \
WHERE id = $15 AND version = $16 AND deleted_at IS NULL RETURNING id) \
INSERT INTO order_mgmt_order_events (event_id, order_id, version, event_type, occurred_at, actor_id, payload) \
SELECT e.event_id, u.id, e.version, e.event_type, e.occurred_at, e.actor_id, e.payload FROM u, \
unnest($17::uuid[], $18::int8[], $19::text[], $20::timestamptz[], $21::text[], $22::jsonb[]) \
AS e(event_id, version, event_type, occurred_at, actor_id, payload)"
        .to_owned()
}

/// `UPDATE_ORDER_WRITING_LINES` of `crates/order-postgres/src/orders/writes.rs`:
/// the compare-and-set of the row, the upsert of every line of the order (as
/// arrays, any number of them, written only `FROM u`, i.e. when the version
/// matched) and the events, one statement.
fn update_order_writing_lines_sql() -> String {
    "WITH u AS (\
UPDATE order_mgmt_orders SET status = $1, subtotal = $2, tax = $3, discount = $4, total = $5, \
version = $6, updated_at = $7, deleted_at = $8, confirmed_at = $9, processing_started_at = $10, \
fulfilled_at = $11, cancelled_at = $12, cancellation_reason = $13, discounts = $14 \
WHERE id = $15 AND version = $16 AND deleted_at IS NULL RETURNING id), \
w AS (INSERT INTO order_mgmt_order_lines (id, order_id, \
product_id, quantity, unit_price, subtotal, description, sku, created_at, updated_at, \
tax_rate_millionths, tax_category, discount, tax, total) \
SELECT l.id, u.id, l.product_id, l.quantity, l.unit_price, l.subtotal, l.description, l.sku, \
l.created_at, l.updated_at, l.tax_rate_millionths, l.tax_category, l.discount, l.tax, l.total \
FROM u, unnest($17::uuid[], $18::uuid[], $19::int4[], $20::int8[], $21::int8[], $22::text[], \
$23::text[], $24::timestamptz[], $25::timestamptz[], $26::int4[], $27::text[], $28::int8[], \
$29::int8[], $30::int8[]) \
AS l(id, product_id, quantity, unit_price, subtotal, description, sku, created_at, updated_at, \
tax_rate_millionths, tax_category, discount, tax, total) \
ON CONFLICT (id) DO UPDATE SET quantity = excluded.quantity, unit_price = excluded.unit_price, \
subtotal = excluded.subtotal, description = excluded.description, sku = excluded.sku, \
updated_at = excluded.updated_at, tax_rate_millionths = excluded.tax_rate_millionths, \
tax_category = excluded.tax_category, discount = excluded.discount, tax = excluded.tax, \
total = excluded.total \
WHERE order_mgmt_order_lines.order_id = excluded.order_id AND \
(order_mgmt_order_lines.quantity, order_mgmt_order_lines.unit_price, order_mgmt_order_lines.subtotal, \
order_mgmt_order_lines.description, order_mgmt_order_lines.sku, order_mgmt_order_lines.updated_at, \
order_mgmt_order_lines.tax_rate_millionths, order_mgmt_order_lines.tax_category, \
order_mgmt_order_lines.discount, order_mgmt_order_lines.tax, order_mgmt_order_lines.total) \
IS DISTINCT FROM (excluded.quantity, excluded.unit_price, excluded.subtotal, excluded.description, \
excluded.sku, excluded.updated_at, excluded.tax_rate_millionths, excluded.tax_category, \
excluded.discount, excluded.tax, excluded.total)) \
INSERT INTO order_mgmt_order_events (event_id, order_id, version, event_type, occurred_at, actor_id, payload) \
SELECT e.event_id, u.id, e.version, e.event_type, e.occurred_at, e.actor_id, e.payload FROM u, \
unnest($31::uuid[], $32::int8[], $33::text[], $34::timestamptz[], $35::text[], $36::jsonb[]) \
AS e(event_id, version, event_type, occurred_at, actor_id, payload)"
        .to_owned()
}

/// The whole shipment `mark_fulfilled` records (`NewRows::insert`).
const INSERT_FULFILLMENT: &str = "INSERT INTO \"order_mgmt_fulfillments\" (\"order_id\", \"id\", \
    \"position\", \"carrier\", \"tracking_number\", \"created_at\") VALUES ($1, $2, $3, DEFAULT, DEFAULT, $4)";

/// Its lines, one per order line (the lifecycle's three).
fn insert_fulfillment_lines_sql(n: usize) -> String {
    let values: Vec<String> = (0..n)
        .map(|i| {
            let p = |k: usize| format!("${}", i * 5 + k);
            format!("({}, {}, {}, {}, {})", p(1), p(2), p(3), p(4), p(5))
        })
        .collect();
    format!(
        "INSERT INTO \"order_mgmt_fulfillment_lines\" (\"order_id\", \"fulfillment_id\", \"line_id\", \
         \"position\", \"quantity\") VALUES {}",
        values.join(", ")
    )
}

/// One connection and its prepared statements.
#[derive(Debug)]
pub struct RawConnection {
    client: Client,
    /// Order numbers reserved and not used yet, shared by every connection
    /// as the server's allocator shares them between its threads.
    numbers: Arc<Mutex<VecDeque<i64>>>,
    /// When each list's total was last estimated, shared by every
    /// connection as the server's repository shares its estimates.
    estimated: Arc<Mutex<HashMap<Option<Uuid>, Instant>>>,
    customer_exists: Statement,
    reserve_numbers: Statement,
    insert_order_with_events: Statement,
    order_with_lines: Statement,
    lines_of: Statement,
    page_all: Statement,
    page_all_after: Statement,
    page_customer: Statement,
    page_customer_after: Statement,
    update_order_with_events: Statement,
    update_order_writing_lines: Statement,
    insert_fulfillment: Statement,
    insert_fulfillment_lines: Statement,
}

/// One connection per worker, each with every statement prepared.
#[derive(Debug, Clone)]
pub struct RawDb {
    connections: Arc<Vec<RawConnection>>,
}

/// Opens one plain connection (and spawns its driver task).
///
/// # Errors
/// When PostgreSQL cannot be reached.
pub async fn connect(url: &str) -> anyhow::Result<Client> {
    let mut config: tokio_postgres::Config = url
        .parse()
        .with_context(|| "the database URL is not a PostgreSQL connection string".to_owned())?;
    // Tells our sessions from the server's in pg_stat_activity and the logs.
    config.application_name("order-bench");
    let (client, connection) = config
        .connect(NoTls)
        .await
        .with_context(|| "cannot connect to PostgreSQL".to_owned())?;
    tokio::spawn(async move {
        // Ends when the client is dropped; an error then is only a closed socket.
        let _closed = connection.await;
    });
    Ok(client)
}

impl RawDb {
    /// Opens `n` connections and prepares every statement on each.
    ///
    /// # Errors
    /// When a connection or a PREPARE fails (e.g. the schema changed and this
    /// mirror no longer matches it).
    pub async fn connect(url: &str, n: usize) -> anyhow::Result<Self> {
        let numbers = Arc::new(Mutex::new(VecDeque::new()));
        let estimated = Arc::new(Mutex::new(HashMap::new()));
        let mut connections = Vec::with_capacity(n);
        for _ in 0..n {
            let client = connect(url).await?;
            let prepare = |sql: String| {
                let client = &client;
                async move {
                    client
                        .prepare(&sql)
                        .await
                        .with_context(|| format!("preparing the baseline statement {sql}"))
                }
            };
            connections.push(RawConnection {
                numbers: numbers.clone(),
                estimated: estimated.clone(),
                customer_exists: prepare(customer_exists_sql()).await?,
                // `$1` of generate_series would be an int4 untyped; diesel
                // binds it as a BigInt.
                reserve_numbers: client
                    .prepare_typed(&reserve_numbers_sql(), &[Type::INT8])
                    .await
                    .context("preparing the number reservation")?,
                insert_order_with_events: prepare(insert_order_with_events_sql()).await?,
                order_with_lines: prepare(order_with_lines_sql()).await?,
                lines_of: prepare(lines_of_sql()).await?,
                page_all: prepare(page_sql(false, false)).await?,
                page_all_after: prepare(page_sql(false, true)).await?,
                page_customer: prepare(page_sql(true, false)).await?,
                page_customer_after: prepare(page_sql(true, true)).await?,
                update_order_with_events: prepare(update_order_with_events_sql()).await?,
                update_order_writing_lines: prepare(update_order_writing_lines_sql()).await?,
                insert_fulfillment: prepare(INSERT_FULFILLMENT.to_owned()).await?,
                insert_fulfillment_lines: prepare(insert_fulfillment_lines_sql(usize::try_from(
                    LIFECYCLE_LINES,
                )?))
                .await?,
                client,
            });
        }
        Ok(Self {
            connections: Arc::new(connections),
        })
    }
}

/// The state of an order that the lifecycle carries between its steps, as
/// the domain would hold it.
#[derive(Debug, Clone)]
struct OrderState {
    id: Uuid,
    status: &'static str,
    subtotal: i64,
    version: i64,
    updated_at: DateTime<Utc>,
    confirmed_at: Option<DateTime<Utc>>,
    processing_started_at: Option<DateTime<Utc>>,
    fulfilled_at: Option<DateTime<Utc>>,
    /// (id, product, quantity, unit price, created at)
    lines: Vec<(Uuid, Uuid, i32, i64, DateTime<Utc>)>,
    /// The lifecycle's percentage discount, once added.
    discount: Option<(Uuid, DateTime<Utc>)>,
}

/// Tax rate of every lifecycle line, in millionths (`LIFECYCLE_TAX_RATE`).
pub(crate) const TAX_MILLIONTHS: i64 = 190_000;

/// The lifecycle's discount, in millionths (`LIFECYCLE_DISCOUNT_PERCENT`).
pub(crate) const DISCOUNT_MILLIONTHS: i64 = 100_000;

/// `a × b / 1,000,000` rounded half to even (non-negative `a`, `b`).
fn millionths_half_even(a: i64, b: i64) -> i64 {
    let (n, d) = (i128::from(a) * i128::from(b), 1_000_000_i128);
    let (q, r) = (n / d, n % d);
    let q = if 2 * r > d || (2 * r == d && q % 2 == 1) {
        q + 1
    } else {
        q
    };
    i64::try_from(q).unwrap_or(i64::MAX)
}

/// What the service's pricing (`order-domain/src/pricing.rs`) makes of the
/// lifecycle's lines, mirrored for the rows the baseline writes: the applied
/// discount, and per line (discount share, tax, total). A percentage
/// allocated by largest remainder, ties to the smaller line id; tax per line
/// on the discounted amount, exclusive, half-even.
pub(crate) fn lifecycle_prices(
    lines: &[(Uuid, Uuid, i32, i64, DateTime<Utc>)],
    discounted: bool,
) -> (i64, Vec<(i64, i64, i64)>) {
    let gross: Vec<i64> = lines.iter().map(|l| i64::from(l.2) * l.3).collect();
    let subtotal: i64 = gross.iter().sum();
    let discount = if discounted {
        millionths_half_even(subtotal, DISCOUNT_MILLIONTHS)
    } else {
        0
    };
    let mut shares: Vec<i64> = gross
        .iter()
        .map(|g| {
            if subtotal == 0 {
                0
            } else {
                discount * g / subtotal
            }
        })
        .collect();
    let mut order: Vec<usize> = (0..lines.len()).collect();
    let remainder = |i: usize| {
        if subtotal == 0 {
            0
        } else {
            discount * gross[i] % subtotal
        }
    };
    order.sort_by(|&a, &b| {
        remainder(b)
            .cmp(&remainder(a))
            .then(lines[a].0.cmp(&lines[b].0))
    });
    let missing = usize::try_from(discount - shares.iter().sum::<i64>()).unwrap_or(0);
    for &i in order.iter().take(missing) {
        shares[i] += 1;
    }
    let priced = gross
        .iter()
        .zip(&shares)
        .map(|(g, s)| {
            let tax = millionths_half_even(g - s, TAX_MILLIONTHS);
            (*s, tax, g - s + tax)
        })
        .collect();
    (discount, priced)
}

impl RawConnection {
    /// `PgOrderNumberAllocator::next_counter`: a reserved number, or a new
    /// block of them (one round trip per [`NUMBER_BLOCK`] creates).
    async fn next_counter(&self) -> anyhow::Result<i64> {
        if let Some(counter) = self.reserved().pop_front() {
            return Ok(counter);
        }
        let block = self
            .client
            .query(&self.reserve_numbers, &[&NUMBER_BLOCK])
            .await?;
        let mut counters: VecDeque<i64> = block.iter().map(|row| row.get(0)).collect();
        let first = counters
            .pop_front()
            .ok_or_else(|| anyhow::anyhow!("the sequence returned no value"))?;
        self.reserved().extend(counters);
        Ok(first)
    }

    fn reserved(&self) -> std::sync::MutexGuard<'_, VecDeque<i64>> {
        self.numbers
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// `Orders::create`: a number, then the insert transaction (the foreign
    /// key checks the customer; there is no separate existence check).
    async fn create(&self, customer: Uuid) -> anyhow::Result<OrderState> {
        let now = Utc::now();
        let counter = self.next_counter().await?;
        let number = format!("ORD-{}-{counter:06}", now.year());
        let id = Uuid::now_v7();
        let no_discounts = json!([]);
        let none_id: Option<Uuid> = None;
        let none_time: Option<DateTime<Utc>> = None;
        let none_text: Option<String> = None;
        let payload = json!({ "order_number": number, "customer_id": customer, "currency": "USD" });
        let events = Events::one(1, "OrderCreated", now, payload);
        self.client
            .execute(
                &self.insert_order_with_events,
                &[
                    &id,
                    &number,
                    &customer,
                    &none_id,
                    &"pending",
                    &"USD",
                    &0_i64,
                    &0_i64,
                    &0_i64,
                    &0_i64,
                    &1_i64,
                    &now,
                    &now,
                    &none_time,
                    &none_time,
                    &none_time,
                    &none_time,
                    &none_time,
                    &none_text,
                    &false,
                    &no_discounts,
                    &events.ids,
                    &events.versions,
                    &events.types,
                    &events.at,
                    &events.actors,
                    &events.payloads,
                ],
            )
            .await?;
        Ok(OrderState {
            id,
            status: "pending",
            subtotal: 0,
            version: 1,
            updated_at: now,
            confirmed_at: None,
            processing_started_at: None,
            fulfilled_at: None,
            lines: Vec::new(),
            discount: None,
        })
    }

    /// `find_by_id`: the row and its lines, one statement (one snapshot).
    async fn get(&self, id: Uuid) -> anyhow::Result<()> {
        let rows = self.client.query(&self.order_with_lines, &[&id]).await?;
        if rows.is_empty() {
            bail!("order {id} not found");
        }
        Ok(())
    }

    /// `list`: the page (one row more than asked, to know whether another
    /// follows), the lines of its orders, and unless a numbered page ends the
    /// list, the planner's estimate (or with `include_total` the bounded count). For one customer's orders the use case
    /// first checks that the customer exists (outside the read transaction).
    async fn list(
        &self,
        customer: Option<Uuid>,
        at: &PageAt,
        page_size: u32,
        include_total: bool,
    ) -> anyhow::Result<()> {
        if let Some(customer) = customer {
            let exists: bool = self
                .client
                .query_one(&self.customer_exists, &[&customer])
                .await?
                .get(0);
            if !exists {
                bail!("customer {customer} does not exist");
            }
        }
        let limit = i64::from(page_size) + 1;
        let (offset, cursor) = match at {
            PageAt::Number(_) => (i64::try_from(at.skipped(page_size))?, None),
            PageAt::After { cursor, .. } => (0, Some(cursor)),
        };
        self.client.batch_execute(BEGIN_READ).await?;
        let rows = match (customer, cursor) {
            (None, None) => {
                self.client
                    .query(&self.page_all, &[&limit, &offset])
                    .await?
            }
            (Some(c), None) => {
                self.client
                    .query(&self.page_customer, &[&c, &limit, &offset])
                    .await?
            }
            (None, Some(k)) => {
                self.client
                    .query(
                        &self.page_all_after,
                        &[&k.created_at, &k.id, &limit, &offset],
                    )
                    .await?
            }
            (Some(c), Some(k)) => {
                self.client
                    .query(
                        &self.page_customer_after,
                        &[&c, &k.created_at, &k.id, &limit, &offset],
                    )
                    .await?
            }
        };
        let page_size = usize::try_from(page_size)?;
        if !rows.is_empty() {
            let ids: Vec<Uuid> = rows.iter().take(page_size).map(|r| r.get(0)).collect();
            self.client.query(&self.lines_of, &[&ids]).await?;
        }
        let ends_the_list =
            rows.len() <= page_size && cursor.is_none() && (offset == 0 || !rows.is_empty());
        if ends_the_list {
            // The total follows from the page.
        } else if include_total {
            self.count_bounded(customer).await?;
        } else if self.estimate_is_stale(customer) {
            self.estimate(customer).await?;
        }
        self.client.batch_execute("COMMIT").await?;
        Ok(())
    }

    /// `count_bounded`: count up to [`COUNT_LIMIT`] + 1 rows, and ask the
    /// planner beyond. Sent unnamed (`query_typed`, one round trip), as
    /// diesel's `sql_query` sends them: their plan depends on the values
    /// (`$1 IS NULL OR ...`), so a prepared statement could switch to a
    /// generic plan the server never runs.
    async fn count_bounded(&self, customer: Option<Uuid>) -> anyhow::Result<()> {
        let status: Option<&str> = None;
        let counted: i64 = self
            .client
            .query_typed_one(
                &count_bounded_sql(),
                &[
                    (&customer, Type::UUID),
                    (&status, Type::TEXT),
                    (&(COUNT_LIMIT + 1), Type::INT8),
                ],
            )
            .await?
            .get(0);
        if counted > COUNT_LIMIT {
            self.estimate(customer).await?;
        }
        Ok(())
    }

    /// `Estimates::get_or_plan` of `crates/order-postgres/src/orders/estimates.rs`:
    /// a list's estimate is asked for at most once per [`ESTIMATE_FRESH_FOR`];
    /// true (and the time noted) when this page must ask.
    fn estimate_is_stale(&self, customer: Option<Uuid>) -> bool {
        let now = Instant::now();
        let mut estimated = self
            .estimated
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        match estimated.get(&customer) {
            Some(at) if now.saturating_duration_since(*at) < ESTIMATE_FRESH_FOR => false,
            _ => {
                estimated.insert(customer, now);
                true
            }
        }
    }

    /// `estimate`: the planner's row estimate of the list, unnamed like
    /// the count.
    async fn estimate(&self, customer: Option<Uuid>) -> anyhow::Result<()> {
        let status: Option<&str> = None;
        self.client
            .query_typed_one(
                &estimate_sql(),
                &[(&customer, Type::UUID), (&status, Type::TEXT)],
            )
            .await?;
        Ok(())
    }

    /// `Orders::modify` after the change: `find_by_id`, then `update`: the
    /// statement that writes the lines with the row and the event when a
    /// line or the discount was added (no line is removed in a lifecycle, so
    /// never the shapes with the line `DELETE`), the transition statement
    /// otherwise, and for the fulfilment the shipment after it in one
    /// transaction.
    async fn modify(&self, order: &mut OrderState, change: Change) -> anyhow::Result<()> {
        // Nothing of the order is shipped before its fulfilment, so even
        // the read of the processing order is the one statement.
        self.get(order.id).await?;
        let now = Utc::now();
        let expected = order.version;
        order.version += 1;
        order.updated_at = now;
        let (kind, payload) = match change {
            Change::AddLine {
                product,
                quantity,
                unit_price,
            } => {
                let line = Uuid::now_v7();
                order.lines.push((line, product, quantity, unit_price, now));
                order.subtotal += i64::from(quantity) * unit_price;
                (
                    "OrderLineAdded",
                    json!({
                        "line_id": line, "product_id": product, "quantity": quantity,
                        "unit_price": { "amount": unit_price, "currency": "USD" },
                    }),
                )
            }
            Change::Discount => {
                let id = Uuid::now_v7();
                order.discount = Some((id, now));
                (
                    "OrderDiscountAdded",
                    json!({ "discount_id": id, "kind": "percentage", "percent": "10" }),
                )
            }
            Change::Confirm => {
                order.status = "confirmed";
                order.confirmed_at = Some(now);
                (
                    "OrderConfirmed",
                    json!({ "total": { "amount": order.subtotal, "currency": "USD" } }),
                )
            }
            Change::Process => {
                order.status = "processing";
                order.processing_started_at = Some(now);
                ("OrderProcessingStarted", json!({}))
            }
            Change::Fulfill => {
                order.status = "fulfilled";
                order.fulfilled_at = Some(now);
                ("OrderFulfilled", json!({}))
            }
        };
        let none_time: Option<DateTime<Utc>> = None;
        let none_text: Option<String> = None;
        let (discount, prices) = lifecycle_prices(&order.lines, order.discount.is_some());
        let tax: i64 = prices.iter().map(|p| p.1).sum();
        let total: i64 = prices.iter().map(|p| p.2).sum();
        let discounts = match order.discount {
            Some((id, at)) => json!([{
                "id": id, "kind": "percentage", "percent_millionths": DISCOUNT_MILLIONTHS,
                "code": "BENCH", "description": null, "amount": discount, "created_at": at,
            }]),
            None => json!([]),
        };
        let lines_change = matches!(change, Change::AddLine { .. } | Change::Discount);
        // Fulfilling records the whole shipment, in the same transaction.
        let ships = matches!(change, Change::Fulfill);
        let events = Events::one(order.version, kind, now, payload);
        // The compare-and-set's parameters, `$1` to `$16` of both statements.
        let row: [&(dyn tokio_postgres::types::ToSql + Sync); 16] = [
            &order.status,
            &order.subtotal,
            &tax,
            &discount,
            &total,
            &order.version,
            &now,
            &none_time,
            &order.confirmed_at,
            &order.processing_started_at,
            &order.fulfilled_at,
            &none_time,
            &none_text,
            &discounts,
            &order.id,
            &expected,
        ];
        let event_params: [&(dyn tokio_postgres::types::ToSql + Sync); 6] = [
            &events.ids,
            &events.versions,
            &events.types,
            &events.at,
            &events.actors,
            &events.payloads,
        ];
        // A transition or a line change is one statement alone; only the
        // fulfilment adds the shipment in a transaction.
        if ships {
            self.client.batch_execute("BEGIN").await?;
        }
        let inserted = if lines_change {
            let ids: Vec<Uuid> = order.lines.iter().map(|l| l.0).collect();
            let products: Vec<Uuid> = order.lines.iter().map(|l| l.1).collect();
            let quantities: Vec<i32> = order.lines.iter().map(|l| l.2).collect();
            let unit_prices: Vec<i64> = order.lines.iter().map(|l| l.3).collect();
            let subtotals: Vec<i64> = order.lines.iter().map(|l| i64::from(l.2) * l.3).collect();
            let none: Vec<Option<String>> = vec![None; order.lines.len()];
            let created: Vec<DateTime<Utc>> = order.lines.iter().map(|l| l.4).collect();
            let rates = vec![i32::try_from(TAX_MILLIONTHS)?; order.lines.len()];
            let shares: Vec<i64> = prices.iter().map(|p| p.0).collect();
            let taxes: Vec<i64> = prices.iter().map(|p| p.1).collect();
            let totals: Vec<i64> = prices.iter().map(|p| p.2).collect();
            let lines: [&(dyn tokio_postgres::types::ToSql + Sync); 14] = [
                &ids,
                &products,
                &quantities,
                &unit_prices,
                &subtotals,
                &none,
                &none,
                &created,
                &created,
                &rates,
                &none,
                &shares,
                &taxes,
                &totals,
            ];
            let params: Vec<&(dyn tokio_postgres::types::ToSql + Sync)> = row
                .iter()
                .chain(&lines)
                .chain(&event_params)
                .copied()
                .collect();
            self.client
                .execute(&self.update_order_writing_lines, &params)
                .await?
        } else {
            let params: Vec<&(dyn tokio_postgres::types::ToSql + Sync)> =
                row.iter().chain(&event_params).copied().collect();
            self.client
                .execute(&self.update_order_with_events, &params)
                .await?
        };
        if inserted != 1 {
            if ships {
                self.client.batch_execute("ROLLBACK").await?;
            }
            bail!("order {} was not at version {expected}", order.id);
        }
        if ships {
            let fulfillment = Uuid::now_v7();
            self.client
                .execute(
                    &self.insert_fulfillment,
                    &[&order.id, &fulfillment, &1_i32, &now],
                )
                .await?;
            let positions: Vec<i32> = (1..=i32::try_from(order.lines.len())?).collect();
            let mut params: Vec<&(dyn tokio_postgres::types::ToSql + Sync)> = Vec::new();
            for (line, position) in order.lines.iter().zip(&positions) {
                params.extend_from_slice(&[&order.id, &fulfillment, &line.0, position, &line.2]);
            }
            self.client
                .execute(&self.insert_fulfillment_lines, &params)
                .await?;
            self.client.batch_execute("COMMIT").await?;
        }
        Ok(())
    }
}

/// The events of one write as the arrays the write statements take.
#[derive(Debug)]
struct Events {
    ids: Vec<Uuid>,
    versions: Vec<i64>,
    types: Vec<&'static str>,
    at: Vec<DateTime<Utc>>,
    actors: Vec<&'static str>,
    payloads: Vec<Value>,
}

impl Events {
    fn one(version: i64, kind: &'static str, at: DateTime<Utc>, payload: Value) -> Self {
        Self {
            ids: vec![Uuid::now_v7()],
            versions: vec![version],
            types: vec![kind],
            at: vec![at],
            actors: vec!["anonymous"],
            payloads: vec![payload],
        }
    }
}

/// One change of the lifecycle.
#[derive(Debug, Clone, Copy)]
enum Change {
    AddLine {
        product: Uuid,
        quantity: i32,
        unit_price: i64,
    },
    Discount,
    Confirm,
    Process,
    Fulfill,
}

impl crate::baseline::Connection for RawConnection {
    /// The server's lifecycle: create, 3 taxed lines, a discount, confirm,
    /// process, fulfil, each as the adapter writes it.
    async fn one_lifecycle(
        &self,
        customer: Uuid,
        worker: usize,
        iteration: u64,
    ) -> anyhow::Result<()> {
        let mut order = self.create(customer).await?;
        for line in 0..LIFECYCLE_LINES {
            let (quantity, unit_price) = line_amounts(line);
            let change = Change::AddLine {
                product: product_id(worker, iteration, line),
                quantity: i32::try_from(quantity)?,
                unit_price,
            };
            self.modify(&mut order, change).await?;
        }
        for change in [
            Change::Discount,
            Change::Confirm,
            Change::Process,
            Change::Fulfill,
        ] {
            self.modify(&mut order, change).await?;
        }
        Ok(())
    }

    async fn one_create(&self, customer: Uuid) -> anyhow::Result<()> {
        self.create(customer).await.map(drop)
    }

    async fn one_get(&self, id: Uuid) -> anyhow::Result<()> {
        self.get(id).await
    }

    async fn one_page(
        &self,
        customer: Option<Uuid>,
        at: &PageAt,
        page_size: u32,
    ) -> anyhow::Result<()> {
        // The HTTP side asks for no `include_total`.
        self.list(customer, at, page_size, false).await
    }
}

impl crate::baseline::Connections for RawDb {
    type Conn = RawConnection;

    fn connection(&self, worker: usize) -> anyhow::Result<&RawConnection> {
        self.connections
            .get(worker)
            .ok_or_else(|| anyhow::anyhow!("no baseline connection for worker {worker}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_mirrored_prices_are_the_services_to_the_cent() {
        let at = Utc::now();
        let lines: Vec<_> = (0..3_i64)
            .map(|i| {
                let (quantity, price) = crate::scenario::line_amounts(i);
                let id = Uuid::from_u128(u128::try_from(i).unwrap() + 1);
                (id, id, i32::try_from(quantity).unwrap(), price, at)
            })
            .collect();
        // 12.50 + 50.00 + 112.50 = 175.00 at 19 %: 2.375 → 2.38 (half-even), 9.50, 21.375 → 21.38.
        assert_eq!(
            lifecycle_prices(&lines, false),
            (
                0,
                vec![(0, 238, 1_488), (0, 950, 5_950), (0, 2_138, 13_388)]
            )
        );
        // 10 % off = 17.50: 1.25 / 5.00 / 11.25; tax on 11.25, 45.00, 101.25.
        assert_eq!(
            lifecycle_prices(&lines, true),
            (
                1_750,
                vec![(125, 214, 1_339), (500, 855, 5_355), (1_125, 1_924, 12_049)]
            )
        );
        // Largest remainder, ties to the smaller id: 1.00 over three 1.00 lines.
        let even: Vec<_> = (1..=3_u128)
            .map(|n| (Uuid::from_u128(n), Uuid::nil(), 1, 1_000, at))
            .collect();
        let (discount, prices) = lifecycle_prices(&even, true);
        assert_eq!(discount, 300);
        assert_eq!(
            prices.iter().map(|p| p.0).collect::<Vec<_>>(),
            vec![100, 100, 100]
        );
    }

    #[test]
    fn pages_bind_customer_then_cursor_then_limit_and_offset() {
        assert!(page_sql(false, false)
            .contains("WHERE (\"order_mgmt_orders\".\"deleted_at\" IS NULL) ORDER BY"));
        assert!(page_sql(false, false).ends_with("LIMIT $1 OFFSET $2"));
        assert!(page_sql(true, false).ends_with("LIMIT $2 OFFSET $3"));
        assert!(page_sql(false, true).ends_with("LIMIT $3 OFFSET $4"));
        // As captured from the server with log_statement = 'all'.
        let after = page_sql(true, true);
        assert!(
            after.contains(
                "WHERE (((\"order_mgmt_orders\".\"deleted_at\" IS NULL) AND \
                 (\"order_mgmt_orders\".\"customer_id\" = $1)) AND \
                 (\"order_mgmt_orders\".\"created_at\", \"order_mgmt_orders\".\"id\") < ($2, $3)) \
                 ORDER BY"
            ),
            "{after}"
        );
        assert!(after.ends_with("LIMIT $4 OFFSET $5"));
        assert!(page_sql(false, true).contains(
            "WHERE ((\"order_mgmt_orders\".\"deleted_at\" IS NULL) AND \
             (\"order_mgmt_orders\".\"created_at\", \"order_mgmt_orders\".\"id\") < ($1, $2))"
        ));
    }

    #[test]
    fn the_bounded_count_and_the_estimate_share_their_filter() {
        assert_eq!(
            count_bounded_sql(),
            "SELECT count(*) AS n FROM (SELECT 1 FROM order_mgmt_orders WHERE deleted_at IS NULL \
             AND ($1::uuid IS NULL OR customer_id = $1) AND ($2::text IS NULL OR status = $2) LIMIT $3) AS m"
        );
        assert!(estimate_sql().starts_with("EXPLAIN (FORMAT JSON) SELECT 1 FROM order_mgmt_orders"));
    }
}
