//! The statements of the write path, constant SQL that diesel prepares once
//! per connection. Two of them carry an order's events with
//! its row, so that creating an order, or changing it without touching its
//! lines (confirm, process, fulfil, cancel, delete), is one statement and one
//! round trip: no `BEGIN`/`COMMIT` around it unless more must be written.
//!
//! They take any number of events (and the upsert any number of lines) as
//! arrays (`unnest`), which keeps their SQL constant and so prepared once per
//! connection (see [`crate::statement`]).

use chrono::{DateTime, Utc};
use diesel::pg::Pg;
use diesel::query_builder::{AstPass, QueryFragment};
use diesel::sql_types::{
    Array, BigInt, Bool, Integer, Jsonb, Nullable, Text, Timestamptz, Uuid as SqlUuid,
};
use diesel::QueryResult;
use serde_json::Value;
use uuid::Uuid;

use super::events::NewEventRow;
use super::rows::{NewLineRow, NewOrderRow};
use crate::statement::{cached_statement, Binds};

/// The pending events of one write, column by column.
pub(super) struct EventColumns {
    event_ids: Vec<Uuid>,
    versions: Vec<i64>,
    event_types: Vec<&'static str>,
    occurred_at: Vec<DateTime<Utc>>,
    actor_ids: Vec<String>,
    payloads: Vec<Value>,
}

impl EventColumns {
    pub(super) fn of(events: Vec<NewEventRow>) -> Self {
        let mut columns = Self {
            event_ids: Vec::with_capacity(events.len()),
            versions: Vec::with_capacity(events.len()),
            event_types: Vec::with_capacity(events.len()),
            occurred_at: Vec::with_capacity(events.len()),
            actor_ids: Vec::with_capacity(events.len()),
            payloads: Vec::with_capacity(events.len()),
        };
        for event in events {
            columns.event_ids.push(event.event_id);
            columns.versions.push(event.version);
            columns.event_types.push(event.event_type);
            columns.occurred_at.push(event.occurred_at);
            columns.actor_ids.push(event.actor_id);
            columns.payloads.push(event.payload);
        }
        columns
    }

    /// How many events (rows the statement inserts when it writes at all).
    pub(super) fn len(&self) -> usize {
        self.event_ids.len()
    }

    fn bind<'b>(&'b self, binds: &mut Binds<'_, 'b>) -> QueryResult<()> {
        binds
            .bind::<Array<SqlUuid>, _>(&self.event_ids)?
            .bind::<Array<BigInt>, _>(&self.versions)?
            .bind::<Array<Text>, _>(&self.event_types)?
            .bind::<Array<Timestamptz>, _>(&self.occurred_at)?
            .bind::<Array<Text>, _>(&self.actor_ids)?
            .bind::<Array<Jsonb>, _>(&self.payloads)?;
        Ok(())
    }
}

/// A new order's row and its events, inserted by one statement. An unknown
/// customer fails it on the foreign key (`fk_order_customer`).
pub(super) struct InsertOrderWithEvents<'a> {
    pub row: &'a NewOrderRow,
    pub events: &'a EventColumns,
}

pub(crate) const INSERT_ORDER_WITH_EVENTS: &str = "WITH o AS (\
INSERT INTO order_mgmt_orders (id, order_number, customer_id, company_id, status, currency, \
subtotal, tax, discount, total, version, created_at, updated_at, deleted_at, confirmed_at, \
processing_started_at, fulfilled_at, cancelled_at, cancellation_reason, prices_include_tax, discounts) \
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21) \
RETURNING id) \
INSERT INTO order_mgmt_order_events (event_id, order_id, version, event_type, occurred_at, actor_id, payload) \
SELECT e.event_id, o.id, e.version, e.event_type, e.occurred_at, e.actor_id, e.payload FROM o, \
unnest($22::uuid[], $23::int8[], $24::text[], $25::timestamptz[], $26::text[], $27::jsonb[]) \
AS e(event_id, version, event_type, occurred_at, actor_id, payload)";

cached_statement!(InsertOrderWithEvents);

impl QueryFragment<Pg> for InsertOrderWithEvents<'_> {
    fn walk_ast<'b>(&'b self, out: AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        let row = self.row;
        let mut binds = Binds::new(INSERT_ORDER_WITH_EVENTS, out);
        binds
            .bind::<SqlUuid, _>(&row.id)?
            .bind::<Text, _>(&row.order_number)?
            .bind::<SqlUuid, _>(&row.customer_id)?
            .bind::<Nullable<SqlUuid>, _>(&row.company_id)?
            .bind::<Text, _>(row.status)?
            .bind::<Text, _>(row.currency)?;
        bind_amounts_to_discounts(&mut binds, row, true)?;
        self.events.bind(&mut binds)?;
        binds.finish()
    }
}

/// The compare-and-set of an order row (`WHERE id AND version`, live only)
/// and the insert of its events, in one statement: the events are inserted
/// only if the row was, so the rows it reports are the events when the
/// version still matched and none when it did not.
pub(super) struct UpdateOrderWithEvents<'a> {
    pub row: &'a NewOrderRow,
    pub expected_version: i64,
    pub events: &'a EventColumns,
}

pub(crate) const UPDATE_ORDER_WITH_EVENTS: &str = "WITH u AS (\
UPDATE order_mgmt_orders SET status = $1, subtotal = $2, tax = $3, discount = $4, total = $5, \
version = $6, updated_at = $7, deleted_at = $8, confirmed_at = $9, processing_started_at = $10, \
fulfilled_at = $11, cancelled_at = $12, cancellation_reason = $13, discounts = $14 \
WHERE id = $15 AND version = $16 AND deleted_at IS NULL RETURNING id) \
INSERT INTO order_mgmt_order_events (event_id, order_id, version, event_type, occurred_at, actor_id, payload) \
SELECT e.event_id, u.id, e.version, e.event_type, e.occurred_at, e.actor_id, e.payload FROM u, \
unnest($17::uuid[], $18::int8[], $19::text[], $20::timestamptz[], $21::text[], $22::jsonb[]) \
AS e(event_id, version, event_type, occurred_at, actor_id, payload)";

cached_statement!(UpdateOrderWithEvents);

impl QueryFragment<Pg> for UpdateOrderWithEvents<'_> {
    fn walk_ast<'b>(&'b self, out: AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        let row = self.row;
        let mut binds = Binds::new(UPDATE_ORDER_WITH_EVENTS, out);
        binds.bind::<Text, _>(row.status)?;
        bind_amounts_to_discounts(&mut binds, row, false)?;
        binds
            .bind::<SqlUuid, _>(&row.id)?
            .bind::<BigInt, _>(&self.expected_version)?;
        self.events.bind(&mut binds)?;
        binds.finish()
    }
}

/// The row's columns from `subtotal` to `discounts`, in table order: what
/// both an insert and an update write (an update leaves out `created_at` and
/// `prices_include_tax`, which never change).
fn bind_amounts_to_discounts<'b>(
    binds: &mut Binds<'_, 'b>,
    row: &'b NewOrderRow,
    inserting: bool,
) -> QueryResult<()> {
    binds
        .bind::<BigInt, _>(&row.subtotal)?
        .bind::<BigInt, _>(&row.tax)?
        .bind::<BigInt, _>(&row.discount)?
        .bind::<BigInt, _>(&row.total)?
        .bind::<BigInt, _>(&row.version)?;
    if inserting {
        binds.bind::<Timestamptz, _>(&row.created_at)?;
    }
    binds
        .bind::<Timestamptz, _>(&row.updated_at)?
        .bind::<Nullable<Timestamptz>, _>(&row.deleted_at)?
        .bind::<Nullable<Timestamptz>, _>(&row.confirmed_at)?
        .bind::<Nullable<Timestamptz>, _>(&row.processing_started_at)?
        .bind::<Nullable<Timestamptz>, _>(&row.fulfilled_at)?
        .bind::<Nullable<Timestamptz>, _>(&row.cancelled_at)?
        .bind::<Nullable<Text>, _>(&row.cancellation_reason)?;
    if inserting {
        binds.bind::<Bool, _>(&row.prices_include_tax)?;
    }
    binds.bind::<Jsonb, _>(&row.discounts)?;
    Ok(())
}

/// The lines of an order, column by column, for [`UpsertLines`].
pub(super) struct LineColumns {
    order_id: Uuid,
    ids: Vec<Uuid>,
    product_ids: Vec<Uuid>,
    quantities: Vec<i32>,
    unit_prices: Vec<i64>,
    subtotals: Vec<i64>,
    descriptions: Vec<Option<String>>,
    skus: Vec<Option<String>>,
    created_at: Vec<DateTime<Utc>>,
    updated_at: Vec<DateTime<Utc>>,
    tax_rates: Vec<i32>,
    tax_categories: Vec<Option<String>>,
    discounts: Vec<i64>,
    taxes: Vec<i64>,
    totals: Vec<i64>,
}

impl LineColumns {
    pub(super) fn of(order_id: Uuid, lines: &[NewLineRow]) -> Self {
        Self {
            order_id,
            ids: lines.iter().map(|l| l.id).collect(),
            product_ids: lines.iter().map(|l| l.product_id).collect(),
            quantities: lines.iter().map(|l| l.quantity).collect(),
            unit_prices: lines.iter().map(|l| l.unit_price).collect(),
            subtotals: lines.iter().map(|l| l.subtotal).collect(),
            descriptions: lines.iter().map(|l| l.description.clone()).collect(),
            skus: lines.iter().map(|l| l.sku.clone()).collect(),
            created_at: lines.iter().map(|l| l.created_at).collect(),
            updated_at: lines.iter().map(|l| l.updated_at).collect(),
            tax_rates: lines.iter().map(|l| l.tax_rate_millionths).collect(),
            tax_categories: lines.iter().map(|l| l.tax_category.clone()).collect(),
            discounts: lines.iter().map(|l| l.discount).collect(),
            taxes: lines.iter().map(|l| l.tax).collect(),
            totals: lines.iter().map(|l| l.total).collect(),
        }
    }
}

/// Inserts new lines and rewrites changed ones, whatever their number, in
/// one statement; a line stored exactly as given is left alone (no dead row
/// version), and a line id of another order is never touched.
pub(super) struct UpsertLines<'a> {
    pub lines: &'a LineColumns,
}

pub(crate) const UPSERT_LINES: &str = "INSERT INTO order_mgmt_order_lines (id, order_id, \
product_id, quantity, unit_price, subtotal, description, sku, created_at, updated_at, \
tax_rate_millionths, tax_category, discount, tax, total) \
SELECT l.id, $1, l.product_id, l.quantity, l.unit_price, l.subtotal, l.description, l.sku, \
l.created_at, l.updated_at, l.tax_rate_millionths, l.tax_category, l.discount, l.tax, l.total \
FROM unnest($2::uuid[], $3::uuid[], $4::int4[], $5::int8[], $6::int8[], $7::text[], $8::text[], \
$9::timestamptz[], $10::timestamptz[], $11::int4[], $12::text[], $13::int8[], $14::int8[], $15::int8[]) \
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
excluded.discount, excluded.tax, excluded.total)";

cached_statement!(UpsertLines);

impl QueryFragment<Pg> for UpsertLines<'_> {
    fn walk_ast<'b>(&'b self, out: AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        let l = self.lines;
        let mut binds = Binds::new(UPSERT_LINES, out);
        binds
            .bind::<SqlUuid, _>(&l.order_id)?
            .bind::<Array<SqlUuid>, _>(&l.ids)?
            .bind::<Array<SqlUuid>, _>(&l.product_ids)?
            .bind::<Array<Integer>, _>(&l.quantities)?
            .bind::<Array<BigInt>, _>(&l.unit_prices)?
            .bind::<Array<BigInt>, _>(&l.subtotals)?
            .bind::<Array<Nullable<Text>>, _>(&l.descriptions)?
            .bind::<Array<Nullable<Text>>, _>(&l.skus)?
            .bind::<Array<Timestamptz>, _>(&l.created_at)?
            .bind::<Array<Timestamptz>, _>(&l.updated_at)?
            .bind::<Array<Integer>, _>(&l.tax_rates)?
            .bind::<Array<Nullable<Text>>, _>(&l.tax_categories)?
            .bind::<Array<BigInt>, _>(&l.discounts)?
            .bind::<Array<BigInt>, _>(&l.taxes)?
            .bind::<Array<BigInt>, _>(&l.totals)?;
        binds.finish()
    }
}
