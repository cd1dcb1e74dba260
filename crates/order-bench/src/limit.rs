//! The limit baseline: for each scenario, the fewest statements that do the
//! work of one operation, one statement per request, sent straight to the
//! same database at the same concurrency, one connection per worker.
//!
//! Where [`crate::raw`] mirrors the server's SQL statement by statement (so
//! `http/raw` is what the server's stack costs on top of its own SQL), this
//! side asks what PostgreSQL allows at all for the same rows: `raw/limit` is
//! the quality of the adapter's SQL, `http/limit` everything together. Each
//! request is one prepared statement and one round trip:
//!
//! | request | the one statement |
//! |---|---|
//! | create | the order row (number from the sequence inside the statement) and its event: one CTE |
//! | add a line, add the discount, confirm, process | compare-and-set of the row, the changed lines (upsert) and the event: one CTE; no read before it (the client holds the version) |
//! | fulfil | compare-and-set, the whole shipment (fulfilment and its lines) and the event: one CTE |
//! | get | the row joined with its lines, as the server does |
//! | a list page | the page's rows, each with its lines as a JSON array: no transaction, no count or estimate, the keyset as a row comparison |
//!
//! The rows written are those of the raw side (same prices, same columns),
//! except that the create's event payload is built by the statement. The
//! seeded orders have no shipments, so no statement reads any.

use std::sync::Arc;

use anyhow::{bail, Context};
use chrono::{DateTime, Datelike, Utc};
use serde_json::{json, Value};
use tokio_postgres::{Client, Statement};
use uuid::Uuid;

use crate::paging::PageAt;
use crate::raw::{
    connect, lifecycle_prices, order_with_lines_sql, DISCOUNT_MILLIONTHS, TAX_MILLIONTHS,
};
use crate::scenario::{line_amounts, product_id, LIFECYCLE_LINES};

/// A new order and its event; the number comes from the sequence inside the
/// statement (`lpad` never cuts a counter past six digits).
const CREATE: &str = "WITH n AS (SELECT nextval('order_mgmt_order_number_seq')::text AS v), \
o AS (INSERT INTO order_mgmt_orders (id, order_number, customer_id, status, currency, subtotal, \
tax, discount, total, version, created_at, updated_at, prices_include_tax, discounts) \
SELECT $1, 'ORD-' || $2::text || '-' || lpad(n.v, greatest(6, length(n.v)), '0'), $3, 'pending', \
'USD', 0, 0, 0, 0, 1, $4, $4, false, '[]' FROM n RETURNING id, order_number, customer_id) \
INSERT INTO order_mgmt_order_events (event_id, order_id, version, event_type, occurred_at, actor_id, payload) \
SELECT $5, o.id, 1, 'order.created', $4, 'anonymous', jsonb_build_object('order_number', \
o.order_number, 'customer_id', o.customer_id, 'currency', 'USD') FROM o";

/// Any change of the lifecycle: the compare-and-set of the row, the lines
/// it changed (none for a transition) and its event.
const CHANGE: &str = "WITH u AS (UPDATE order_mgmt_orders SET status = $1, subtotal = $2, \
tax = $3, discount = $4, total = $5, version = $6, updated_at = $7, confirmed_at = $8, \
processing_started_at = $9, fulfilled_at = $10, discounts = $11 \
WHERE id = $12 AND version = $13 AND deleted_at IS NULL RETURNING id), \
l AS (INSERT INTO order_mgmt_order_lines (id, order_id, product_id, quantity, unit_price, subtotal, \
created_at, updated_at, tax_rate_millionths, discount, tax, total) \
SELECT l.id, u.id, l.product_id, l.quantity, l.unit_price, l.subtotal, $7, $7, l.rate, l.discount, \
l.tax, l.total FROM u, unnest($14::uuid[], $15::uuid[], $16::int4[], $17::int8[], $18::int8[], \
$19::int4[], $20::int8[], $21::int8[], $22::int8[]) \
AS l(id, product_id, quantity, unit_price, subtotal, rate, discount, tax, total) \
ON CONFLICT (id) DO UPDATE SET discount = excluded.discount, tax = excluded.tax, \
total = excluded.total, updated_at = excluded.updated_at \
WHERE order_mgmt_order_lines.order_id = excluded.order_id) \
INSERT INTO order_mgmt_order_events (event_id, order_id, version, event_type, occurred_at, actor_id, payload) \
SELECT $23, u.id, $6, $24, $7, 'anonymous', $25 FROM u";

/// Fulfilling: the compare-and-set, the whole shipment (a fulfilment and
/// one line per order line) and the event.
const FULFIL: &str = "WITH u AS (UPDATE order_mgmt_orders SET status = 'fulfilled', version = $1, \
updated_at = $2, fulfilled_at = $2 WHERE id = $3 AND version = $4 AND deleted_at IS NULL RETURNING id), \
f AS (INSERT INTO order_mgmt_fulfillments (order_id, id, position, created_at) \
SELECT u.id, $5, 1, $2 FROM u RETURNING order_id, id), \
fl AS (INSERT INTO order_mgmt_fulfillment_lines (order_id, fulfillment_id, line_id, position, quantity) \
SELECT f.order_id, f.id, l.line_id, l.position::int4, l.quantity \
FROM f, unnest($6::uuid[], $7::int4[]) WITH ORDINALITY AS l(line_id, quantity, position)) \
INSERT INTO order_mgmt_order_events (event_id, order_id, version, event_type, occurred_at, actor_id, payload) \
SELECT $8, u.id, $1, 'order.fulfilled', $2, 'anonymous', '{}' FROM u";

/// A list page in one statement: rows, each with its lines.
fn page_sql(for_customer: bool, keyset: bool) -> String {
    let mut n = 0;
    let mut next = || {
        n += 1;
        format!("${n}")
    };
    let mut filter = "o.deleted_at IS NULL".to_owned();
    if for_customer {
        filter = format!("{filter} AND o.customer_id = {}", next());
    }
    if keyset {
        let (at, id) = (next(), next());
        filter = format!("{filter} AND (o.created_at, o.id) < ({at}, {id})");
    }
    format!(
        "SELECT o.*, (SELECT coalesce(json_agg(l ORDER BY l.created_at, l.id), '[]') \
         FROM order_mgmt_order_lines l WHERE l.order_id = o.id) AS lines \
         FROM order_mgmt_orders o WHERE {filter} \
         ORDER BY o.created_at DESC, o.id DESC LIMIT {}",
        next()
    )
}

/// One connection and its prepared statements.
#[derive(Debug)]
pub struct LimitConnection {
    client: Client,
    create: Statement,
    change: Statement,
    fulfil: Statement,
    get: Statement,
    page_all: Statement,
    page_all_after: Statement,
    page_customer: Statement,
    page_customer_after: Statement,
}

/// Connections with every limit statement prepared; workers share them
/// round-robin when there are fewer connections than workers.
#[derive(Debug, Clone)]
pub struct LimitDb {
    connections: Arc<Vec<LimitConnection>>,
}

impl LimitDb {
    /// Opens `n` connections and prepares every statement on each.
    ///
    /// # Errors
    /// When a connection or a PREPARE fails.
    pub async fn connect(url: &str, n: usize) -> anyhow::Result<Self> {
        let mut connections = Vec::with_capacity(n);
        for _ in 0..n.max(1) {
            let client = connect(url).await?;
            let prepare = |sql: String| {
                let client = &client;
                async move {
                    client
                        .prepare(&sql)
                        .await
                        .with_context(|| format!("preparing the limit statement {sql}"))
                }
            };
            connections.push(LimitConnection {
                create: prepare(CREATE.to_owned()).await?,
                change: prepare(CHANGE.to_owned()).await?,
                fulfil: prepare(FULFIL.to_owned()).await?,
                get: prepare(order_with_lines_sql()).await?,
                page_all: prepare(page_sql(false, false)).await?,
                page_all_after: prepare(page_sql(false, true)).await?,
                page_customer: prepare(page_sql(true, false)).await?,
                page_customer_after: prepare(page_sql(true, true)).await?,
                client,
            });
        }
        Ok(Self {
            connections: Arc::new(connections),
        })
    }
}

/// What the lifecycle carries between its requests.
#[derive(Debug)]
struct Order {
    id: Uuid,
    version: i64,
    status: &'static str,
    confirmed_at: Option<DateTime<Utc>>,
    processing_started_at: Option<DateTime<Utc>>,
    fulfilled_at: Option<DateTime<Utc>>,
    /// (id, product, quantity, unit price, created at)
    lines: Vec<(Uuid, Uuid, i32, i64, DateTime<Utc>)>,
    discount: Option<(Uuid, DateTime<Utc>)>,
}

/// The lines a change writes, column by column.
#[derive(Debug, Default)]
struct Lines {
    ids: Vec<Uuid>,
    products: Vec<Uuid>,
    quantities: Vec<i32>,
    unit_prices: Vec<i64>,
    subtotals: Vec<i64>,
    rates: Vec<i32>,
    discounts: Vec<i64>,
    taxes: Vec<i64>,
    totals: Vec<i64>,
}

impl LimitConnection {
    async fn create(&self, customer: Uuid) -> anyhow::Result<Order> {
        let now = Utc::now();
        let id = Uuid::now_v7();
        let year = now.year().to_string();
        let written = self
            .client
            .execute(
                &self.create,
                &[&id, &year, &customer, &now, &Uuid::now_v7()],
            )
            .await?;
        if written != 1 {
            bail!("the create wrote {written} events");
        }
        Ok(Order {
            id,
            version: 1,
            status: "pending",
            confirmed_at: None,
            processing_started_at: None,
            fulfilled_at: None,
            lines: Vec::new(),
            discount: None,
        })
    }

    /// One change of the lifecycle, as its one statement. `lines_from`: the
    /// index of the first line the change writes (`None`: no line).
    async fn change(
        &self,
        order: &mut Order,
        kind: &str,
        payload: Value,
        lines_from: Option<usize>,
    ) -> anyhow::Result<()> {
        let now = Utc::now();
        let expected = order.version;
        order.version += 1;
        let (discount, prices) = lifecycle_prices(&order.lines, order.discount.is_some());
        let subtotal: i64 = order.lines.iter().map(|l| i64::from(l.2) * l.3).sum();
        let tax: i64 = prices.iter().map(|p| p.1).sum();
        let total: i64 = prices.iter().map(|p| p.2).sum();
        let discounts = match order.discount {
            Some((id, at)) => json!([{
                "id": id, "kind": "percentage", "percent_millionths": DISCOUNT_MILLIONTHS,
                "code": "BENCH", "description": null, "amount": discount, "created_at": at,
            }]),
            None => json!([]),
        };
        let mut lines = Lines::default();
        if let Some(from) = lines_from {
            let rate = i32::try_from(TAX_MILLIONTHS)?;
            for (line, price) in order.lines.iter().zip(&prices).skip(from) {
                lines.ids.push(line.0);
                lines.products.push(line.1);
                lines.quantities.push(line.2);
                lines.unit_prices.push(line.3);
                lines.subtotals.push(i64::from(line.2) * line.3);
                lines.rates.push(rate);
                lines.discounts.push(price.0);
                lines.taxes.push(price.1);
                lines.totals.push(price.2);
            }
        }
        let written = self
            .client
            .execute(
                &self.change,
                &[
                    &order.status,
                    &subtotal,
                    &tax,
                    &discount,
                    &total,
                    &order.version,
                    &now,
                    &order.confirmed_at,
                    &order.processing_started_at,
                    &order.fulfilled_at,
                    &discounts,
                    &order.id,
                    &expected,
                    &lines.ids,
                    &lines.products,
                    &lines.quantities,
                    &lines.unit_prices,
                    &lines.subtotals,
                    &lines.rates,
                    &lines.discounts,
                    &lines.taxes,
                    &lines.totals,
                    &Uuid::now_v7(),
                    &kind,
                    &payload,
                ],
            )
            .await?;
        if written != 1 {
            bail!("order {} was not at version {expected}", order.id);
        }
        Ok(())
    }

    async fn fulfil(&self, order: &mut Order) -> anyhow::Result<()> {
        let now = Utc::now();
        let expected = order.version;
        order.version += 1;
        let lines: Vec<Uuid> = order.lines.iter().map(|l| l.0).collect();
        let quantities: Vec<i32> = order.lines.iter().map(|l| l.2).collect();
        let written = self
            .client
            .execute(
                &self.fulfil,
                &[
                    &order.version,
                    &now,
                    &order.id,
                    &expected,
                    &Uuid::now_v7(),
                    &lines,
                    &quantities,
                    &Uuid::now_v7(),
                ],
            )
            .await?;
        if written != 1 {
            bail!("order {} was not at version {expected}", order.id);
        }
        Ok(())
    }
}

impl crate::baseline::Connection for LimitConnection {
    async fn one_lifecycle(
        &self,
        customer: Uuid,
        worker: usize,
        iteration: u64,
    ) -> anyhow::Result<()> {
        let mut order = self.create(customer).await?;
        for line in 0..LIFECYCLE_LINES {
            let (quantity, unit_price) = line_amounts(line);
            let id = Uuid::now_v7();
            let product = product_id(worker, iteration, line);
            let quantity = i32::try_from(quantity)?;
            order
                .lines
                .push((id, product, quantity, unit_price, Utc::now()));
            let from = order.lines.len() - 1;
            let payload = json!({ "line_id": id, "product_id": product, "quantity": quantity });
            self.change(&mut order, "order.line_added", payload, Some(from))
                .await?;
        }
        order.discount = Some((Uuid::now_v7(), Utc::now()));
        // The discount re-prices every line.
        self.change(
            &mut order,
            "order.discount_added",
            json!({ "percent": "10" }),
            Some(0),
        )
        .await?;
        order.status = "confirmed";
        order.confirmed_at = Some(Utc::now());
        self.change(&mut order, "order.confirmed", json!({}), None)
            .await?;
        order.status = "processing";
        order.processing_started_at = Some(Utc::now());
        self.change(&mut order, "order.processing_started", json!({}), None)
            .await?;
        self.fulfil(&mut order).await
    }

    async fn one_create(&self, customer: Uuid) -> anyhow::Result<()> {
        self.create(customer).await.map(drop)
    }

    async fn one_get(&self, id: Uuid) -> anyhow::Result<()> {
        if self.client.query(&self.get, &[&id]).await?.is_empty() {
            bail!("order {id} not found");
        }
        Ok(())
    }

    async fn one_page(
        &self,
        customer: Option<Uuid>,
        at: &PageAt,
        page_size: u32,
    ) -> anyhow::Result<()> {
        let limit = i64::from(page_size) + 1;
        let rows = match (customer, at) {
            (None, PageAt::Number(_)) => self.client.query(&self.page_all, &[&limit]).await?,
            (Some(c), PageAt::Number(_)) => {
                self.client
                    .query(&self.page_customer, &[&c, &limit])
                    .await?
            }
            (None, PageAt::After { cursor, .. }) => {
                self.client
                    .query(
                        &self.page_all_after,
                        &[&cursor.created_at, &cursor.id, &limit],
                    )
                    .await?
            }
            (Some(c), PageAt::After { cursor, .. }) => {
                self.client
                    .query(
                        &self.page_customer_after,
                        &[&c, &cursor.created_at, &cursor.id, &limit],
                    )
                    .await?
            }
        };
        if rows.is_empty() {
            bail!("an empty page");
        }
        Ok(())
    }
}

impl crate::baseline::Connections for LimitDb {
    type Conn = LimitConnection;

    fn connection(&self, worker: usize) -> anyhow::Result<&LimitConnection> {
        let len = self.connections.len().max(1);
        self.connections
            .get(worker % len)
            .ok_or_else(|| anyhow::anyhow!("no limit connection for worker {worker}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn list_pages_number_their_parameters_in_order() {
        assert!(page_sql(false, false).ends_with("LIMIT $1"));
        let customer_after = page_sql(true, true);
        assert!(
            customer_after.contains("o.customer_id = $1 AND (o.created_at, o.id) < ($2, $3)"),
            "{customer_after}"
        );
        assert!(customer_after.ends_with("LIMIT $4"));
    }
}
