//! The statements of the write path, constant SQL that diesel prepares once
//! per connection. They carry an order's events with its row, and an
//! update's line changes with them, so that creating an order, changing it
//! without touching its lines (confirm, process, fulfil, cancel, delete) or
//! adding, changing or removing a line or a discount is one statement and
//! one round trip: no `BEGIN`/`COMMIT` around it unless more must be written
//! (a shipment, an idempotency receipt, an edit).
//!
//! An update is one of four shapes, each its own constant SQL (and so its
//! own prepared statement): the compare-and-set and the events alone, or
//! with the upsert of the lines, the delete of the removed ones, or both.
//! The line parts are CTEs gated on the compare-and-set's `u`: a
//! data-modifying CTE runs whether or not the statement reads it, so only
//! reading `u` keeps a stale version from writing lines.
//!
//! They take any number of events and lines as arrays (`unnest`), which keeps
//! their SQL constant whatever the numbers (see [`crate::statement`]).

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

/// The compare-and-set of the order row that opens every update statement:
/// `u` holds the order's id when the version still matched, and nothing when
/// it did not, so whatever else the statement writes selects `FROM u` (or
/// matches `(SELECT id FROM u)`) and is written exactly when the row is.
/// Placeholders `$1` to `$16` ([`bind_compare_and_set`]).
macro_rules! compare_and_set {
    () => {
        "WITH u AS (\
UPDATE order_mgmt_orders SET status = $1, subtotal = $2, tax = $3, discount = $4, total = $5, \
version = $6, updated_at = $7, deleted_at = $8, confirmed_at = $9, processing_started_at = $10, \
fulfilled_at = $11, cancelled_at = $12, cancellation_reason = $13, discounts = $14 \
WHERE id = $15 AND version = $16 AND deleted_at IS NULL RETURNING id)"
    };
}

/// The insert of the events, the main statement of every update: the rows
/// it reports are the statement's result, one per event when the version
/// matched and none when it did not. Takes the numbers of its six
/// placeholders ([`EventColumns::bind`]).
macro_rules! insert_events_of_updated_row {
    ($id:literal, $version:literal, $type:literal, $at:literal, $actor:literal, $payload:literal) => {
        concat!(
            " INSERT INTO order_mgmt_order_events (event_id, order_id, version, event_type, \
occurred_at, actor_id, payload) \
SELECT e.event_id, u.id, e.version, e.event_type, e.occurred_at, e.actor_id, e.payload FROM u, \
unnest($",
            $id,
            "::uuid[], $",
            $version,
            "::int8[], $",
            $type,
            "::text[], $",
            $at,
            "::timestamptz[], $",
            $actor,
            "::text[], $",
            $payload,
            "::jsonb[]) \
AS e(event_id, version, event_type, occurred_at, actor_id, payload)"
        )
    };
}

/// The columns of a line row the upserts insert, in table order.
macro_rules! line_columns {
    () => {
        "(id, order_id, product_id, quantity, unit_price, subtotal, description, sku, created_at, \
updated_at, tax_rate_millionths, tax_category, discount, tax, total)"
    };
}

/// The lines as arrays (`unnest`), any number of them, aliased `l`; takes
/// the numbers of its fourteen placeholders ([`LineColumns::bind`]).
macro_rules! unnest_lines {
    ($a:literal, $b:literal, $c:literal, $d:literal, $e:literal, $f:literal, $g:literal,
     $h:literal, $i:literal, $j:literal, $k:literal, $l:literal, $m:literal, $n:literal) => {
        concat!(
            "unnest($",
            $a,
            "::uuid[], $",
            $b,
            "::uuid[], $",
            $c,
            "::int4[], $",
            $d,
            "::int8[], $",
            $e,
            "::int8[], $",
            $f,
            "::text[], $",
            $g,
            "::text[], $",
            $h,
            "::timestamptz[], $",
            $i,
            "::timestamptz[], $",
            $j,
            "::int4[], $",
            $k,
            "::text[], $",
            $l,
            "::int8[], $",
            $m,
            "::int8[], $",
            $n,
            "::int8[]) \
AS l(id, product_id, quantity, unit_price, subtotal, description, sku, created_at, updated_at, \
tax_rate_millionths, tax_category, discount, tax, total)"
        )
    };
}

/// How an upsert treats a line that is already stored: it rewrites it only
/// if something changed (no dead row version otherwise), and never a line
/// of another order.
macro_rules! on_line_conflict {
    () => {
        " ON CONFLICT (id) DO UPDATE SET quantity = excluded.quantity, unit_price = excluded.unit_price, \
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
excluded.discount, excluded.tax, excluded.total)"
    };
}

/// The upsert of the lines as a CTE of an update: `FROM u`, so it inserts
/// or rewrites nothing when the compare-and-set matched no row (a
/// data-modifying CTE runs whether or not the statement reads it).
macro_rules! upsert_lines_of_updated_row {
    ($($n:literal),+) => {
        concat!(
            ", w AS (INSERT INTO order_mgmt_order_lines ",
            line_columns!(),
            " SELECT l.id, u.id, l.product_id, l.quantity, l.unit_price, l.subtotal, l.description, \
l.sku, l.created_at, l.updated_at, l.tax_rate_millionths, l.tax_category, l.discount, l.tax, \
l.total FROM u, ",
            unnest_lines!($($n),+),
            on_line_conflict!(),
            ")"
        )
    };
}

/// The delete of the lines no longer on the order as a CTE of an update:
/// `(SELECT id FROM u)` is NULL when the compare-and-set matched no row, and
/// then no line matches. Takes the number of its placeholder, the ids of the
/// lines the order keeps.
macro_rules! delete_lines_of_updated_row {
    ($kept:literal) => {
        concat!(
            ", d AS (DELETE FROM order_mgmt_order_lines WHERE order_id = (SELECT id FROM u) \
AND id <> ALL($",
            $kept,
            "::uuid[]))"
        )
    };
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

pub(crate) const UPDATE_ORDER_WITH_EVENTS: &str = concat!(
    compare_and_set!(),
    insert_events_of_updated_row!(17, 18, 19, 20, 21, 22)
);

cached_statement!(UpdateOrderWithEvents);

impl QueryFragment<Pg> for UpdateOrderWithEvents<'_> {
    fn walk_ast<'b>(&'b self, out: AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        let mut binds = Binds::new(UPDATE_ORDER_WITH_EVENTS, out);
        bind_compare_and_set(&mut binds, self.row, &self.expected_version)?;
        self.events.bind(&mut binds)?;
        binds.finish()
    }
}

/// [`UpdateOrderWithEvents`] that also inserts the new lines and rewrites
/// the changed ones (adding or changing a line, a discount): the whole
/// change in one statement, so no `BEGIN`/`COMMIT` around it.
pub(super) struct UpdateOrderWritingLines<'a> {
    pub row: &'a NewOrderRow,
    pub expected_version: i64,
    pub lines: &'a LineColumns,
    pub events: &'a EventColumns,
}

pub(crate) const UPDATE_ORDER_WRITING_LINES: &str = concat!(
    compare_and_set!(),
    upsert_lines_of_updated_row!(17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30),
    insert_events_of_updated_row!(31, 32, 33, 34, 35, 36)
);

cached_statement!(UpdateOrderWritingLines);

impl QueryFragment<Pg> for UpdateOrderWritingLines<'_> {
    fn walk_ast<'b>(&'b self, out: AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        let mut binds = Binds::new(UPDATE_ORDER_WRITING_LINES, out);
        bind_compare_and_set(&mut binds, self.row, &self.expected_version)?;
        self.lines.bind(&mut binds)?;
        self.events.bind(&mut binds)?;
        binds.finish()
    }
}

/// [`UpdateOrderWithEvents`] that also deletes the lines no longer on the
/// order (removing a line from an order without discounts, whose other
/// lines do not change): one statement.
pub(super) struct UpdateOrderRemovingLines<'a> {
    pub row: &'a NewOrderRow,
    pub expected_version: i64,
    pub lines: &'a LineColumns,
    pub events: &'a EventColumns,
}

pub(crate) const UPDATE_ORDER_REMOVING_LINES: &str = concat!(
    compare_and_set!(),
    delete_lines_of_updated_row!(17),
    insert_events_of_updated_row!(18, 19, 20, 21, 22, 23)
);

cached_statement!(UpdateOrderRemovingLines);

impl QueryFragment<Pg> for UpdateOrderRemovingLines<'_> {
    fn walk_ast<'b>(&'b self, out: AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        let mut binds = Binds::new(UPDATE_ORDER_REMOVING_LINES, out);
        bind_compare_and_set(&mut binds, self.row, &self.expected_version)?;
        binds.bind::<Array<SqlUuid>, _>(&self.lines.ids)?;
        self.events.bind(&mut binds)?;
        binds.finish()
    }
}

/// [`UpdateOrderWithEvents`] that deletes the lines no longer on the order
/// and upserts the others (a removal that re-allocates discounts, an edit):
/// one statement. The two touch disjoint lines (those not in the order's
/// list, those in it), so neither sees the other's rows.
pub(super) struct UpdateOrderReplacingLines<'a> {
    pub row: &'a NewOrderRow,
    pub expected_version: i64,
    pub lines: &'a LineColumns,
    pub events: &'a EventColumns,
}

pub(crate) const UPDATE_ORDER_REPLACING_LINES: &str = concat!(
    compare_and_set!(),
    delete_lines_of_updated_row!(17),
    upsert_lines_of_updated_row!(18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31),
    insert_events_of_updated_row!(32, 33, 34, 35, 36, 37)
);

cached_statement!(UpdateOrderReplacingLines);

impl QueryFragment<Pg> for UpdateOrderReplacingLines<'_> {
    fn walk_ast<'b>(&'b self, out: AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        let mut binds = Binds::new(UPDATE_ORDER_REPLACING_LINES, out);
        bind_compare_and_set(&mut binds, self.row, &self.expected_version)?;
        binds.bind::<Array<SqlUuid>, _>(&self.lines.ids)?;
        self.lines.bind(&mut binds)?;
        self.events.bind(&mut binds)?;
        binds.finish()
    }
}

/// `$1` to `$16` of [`compare_and_set!`]: the row's new columns, then the
/// id and the version it must still have.
fn bind_compare_and_set<'b>(
    binds: &mut Binds<'_, 'b>,
    row: &'b NewOrderRow,
    expected_version: &'b i64,
) -> QueryResult<()> {
    binds.bind::<Text, _>(row.status)?;
    bind_amounts_to_discounts(binds, row, false)?;
    binds
        .bind::<SqlUuid, _>(&row.id)?
        .bind::<BigInt, _>(expected_version)?;
    Ok(())
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

/// The lines of an order, column by column, for [`UpsertLines`] and the
/// update statements that write lines.
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

    /// The fourteen arrays of [`unnest_lines!`], in its order.
    fn bind<'b>(&'b self, binds: &mut Binds<'_, 'b>) -> QueryResult<()> {
        binds
            .bind::<Array<SqlUuid>, _>(&self.ids)?
            .bind::<Array<SqlUuid>, _>(&self.product_ids)?
            .bind::<Array<Integer>, _>(&self.quantities)?
            .bind::<Array<BigInt>, _>(&self.unit_prices)?
            .bind::<Array<BigInt>, _>(&self.subtotals)?
            .bind::<Array<Nullable<Text>>, _>(&self.descriptions)?
            .bind::<Array<Nullable<Text>>, _>(&self.skus)?
            .bind::<Array<Timestamptz>, _>(&self.created_at)?
            .bind::<Array<Timestamptz>, _>(&self.updated_at)?
            .bind::<Array<Integer>, _>(&self.tax_rates)?
            .bind::<Array<Nullable<Text>>, _>(&self.tax_categories)?
            .bind::<Array<BigInt>, _>(&self.discounts)?
            .bind::<Array<BigInt>, _>(&self.taxes)?
            .bind::<Array<BigInt>, _>(&self.totals)?;
        Ok(())
    }
}

/// Inserts new lines and rewrites changed ones, whatever their number, in
/// one statement; a line stored exactly as given is left alone (no dead row
/// version), and a line id of another order is never touched.
pub(super) struct UpsertLines<'a> {
    pub lines: &'a LineColumns,
}

pub(crate) const UPSERT_LINES: &str = concat!(
    "INSERT INTO order_mgmt_order_lines ",
    line_columns!(),
    " SELECT l.id, $1, l.product_id, l.quantity, l.unit_price, l.subtotal, l.description, l.sku, \
l.created_at, l.updated_at, l.tax_rate_millionths, l.tax_category, l.discount, l.tax, l.total \
FROM ",
    unnest_lines!(2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15),
    on_line_conflict!()
);

cached_statement!(UpsertLines);

impl QueryFragment<Pg> for UpsertLines<'_> {
    fn walk_ast<'b>(&'b self, out: AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        let mut binds = Binds::new(UPSERT_LINES, out);
        binds.bind::<SqlUuid, _>(&self.lines.order_id)?;
        self.lines.bind(&mut binds)?;
        binds.finish()
    }
}
