//! [`PgOrderRepository`]: the `OrderRepository` port over PostgreSQL.
//!
//! - Reads take a fixed number of queries whatever the number of lines: an
//!   order is one statement (its row joined with its lines), plus one
//!   snapshot-consistent re-read with its shipments when it has any; a list page is one query
//!   for the page, one for the lines of all its orders (`order_id = ANY(..)`)
//!   and, when a next page exists, a bounded `COUNT` if the caller asked for
//!   a total or the planner's estimate if not (asked at most once a second
//!   per filter: `estimates.rs`). They run in one snapshot (see
//!   `Db::read_consistent`).
//! - Writes are one transaction each: the order row, its lines and its
//!   pending events (the outbox) are stored together or not at all. The row
//!   and its events are one statement (`writes.rs`), and an update's line
//!   changes are part of it, which is the whole write of a new order, of a
//!   transition or of a line change: no `BEGIN`/`COMMIT` then. Shipments and
//!   an idempotency receipt add statements, in a transaction.
//! - `update` is a compare-and-set on `version`
//!   (`UPDATE .. WHERE id = $15 AND version = $16 AND deleted_at IS NULL`), the
//!   port's concurrency contract: a concurrent update is never lost, the
//!   loser gets `Conflict` and nothing it sent is written.

mod discounts;
mod edits;
mod estimates;
mod events;
#[cfg(all(test, feature = "testing"))]
mod explain_tests;
#[cfg(all(test, feature = "testing"))]
mod line_write_tests;
#[cfg(all(test, feature = "testing"))]
mod prepared_tests;
pub(crate) mod queries;
pub(crate) mod rows;
pub(crate) mod shipments;
mod writes;

use std::collections::HashMap;
use std::fmt;

use diesel::prelude::*;
use diesel::result::Error as DieselError;
use order_app::idempotency::Receipt;
use order_app::ports::OrderRepository;
use order_app::{OrderFilter, Page, PageRequest, RecordedEvent, RepositoryError, StoredHistory};
use order_domain::{Order, OrderEventKind, OrderId, OrderNumber};
use uuid::Uuid;

pub(crate) use self::edits::EditRow;
pub use self::edits::PgOrderEditRepository;
use self::events::NewEventRow;
use self::rows::{restore_order, version_to_column, NewLineRow, NewOrderRow};
pub(crate) use self::rows::{LineRow, OrderRow};
use self::writes::{EventColumns, LineColumns};
use crate::error::{map_diesel_error, unexpected, FK_ORDER_CUSTOMER};
use crate::idempotency::{complete_with, WrittenOutcome};
use crate::schema::{order_mgmt_order_events, order_mgmt_order_lines, order_mgmt_orders};
use crate::store::Db;

/// Orders (with their lines and outbox events) in PostgreSQL.
///
/// Made by [`crate::PgStore::orders`]; cloning shares the pool.
#[derive(Clone)]
pub struct PgOrderRepository {
    db: Db,
    /// List totals the planner estimated a moment ago (see `estimates`).
    estimates: std::sync::Arc<estimates::Estimates>,
}

impl fmt::Debug for PgOrderRepository {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PgOrderRepository").finish_non_exhaustive()
    }
}

/// Why a write transaction stopped: a database error, or a refusal decided
/// inside the transaction (stale version, missing order) that rolls it back.
pub(crate) enum WriteError {
    Database(DieselError),
    Refused(RepositoryError),
}

impl From<DieselError> for WriteError {
    fn from(error: DieselError) -> Self {
        Self::Database(error)
    }
}

impl WriteError {
    pub(crate) fn into_repository_error(self, context: &str) -> RepositoryError {
        match self {
            Self::Database(error) => map_diesel_error(context, error),
            Self::Refused(error) => error,
        }
    }
}

impl PgOrderRepository {
    pub(crate) fn new(db: Db) -> Self {
        Self {
            db,
            estimates: std::sync::Arc::default(),
        }
    }

    /// The live order `key` names, with its lines, in one statement.
    fn find_one(
        &self,
        context: &str,
        key: queries::OrderKey,
    ) -> Result<Option<Order>, RepositoryError> {
        let rows = self.db.read(context, |conn| load_with_lines(conn, &key))?;
        // The lines count what was shipped of them (a trigger keeps the
        // count with every shipment): nothing shipped, no shipment or return
        // to read, and the one statement was the whole read.
        let needs_shipments = rows.first().is_some_and(|(row, _)| {
            shipments::may_have_shipments(&row.status)
                && rows
                    .iter()
                    .any(|(_, line)| line.as_ref().is_some_and(shipments::line_shipped))
        });
        if !needs_shipments {
            return assemble(rows, None);
        }
        // The shipments must come from the same snapshot as the row and its
        // lines: read all of it again, in one transaction.
        let (rows, stored) = self.db.read_consistent(context, |conn| {
            let rows = load_with_lines(conn, &key)?;
            let ids: Vec<Uuid> = rows.first().map(|(row, _)| row.id).into_iter().collect();
            Ok((rows, shipments::load(conn, &ids)?))
        })?;
        assemble(rows, Some(stored))
    }
}

/// The live order `key` names, joined with its lines: one statement, a
/// prepared one diesel reuses (see [`queries::order_with_lines`]).
fn load_with_lines(
    conn: &mut PgConnection,
    key: &queries::OrderKey,
) -> QueryResult<Vec<(OrderRow, Option<LineRow>)>> {
    // `orders` below is the table the macro brings into scope.
    match key {
        queries::OrderKey::Id(id) => {
            queries::order_with_lines!(orders::id.eq(*id)).load::<(OrderRow, Option<LineRow>)>(conn)
        }
        queries::OrderKey::Number(number) => {
            queries::order_with_lines!(orders::order_number.eq(number))
                .load::<(OrderRow, Option<LineRow>)>(conn)
        }
    }
}

impl OrderRepository for PgOrderRepository {
    #[tracing::instrument(level = "debug", skip_all, fields(order_id = %order.id()), err(level = "debug"))]
    fn insert(&self, order: &Order, receipt: Option<&Receipt>) -> Result<(), RepositoryError> {
        let row = NewOrderRow::from_order(order)?;
        let lines = NewLineRow::from_order(order)?;
        let events = NewEventRow::from_order(order)?;
        let shipped = shipments::NewRows::of(order)?;
        // A replay restores the order from its outcome: it needs them all.
        let replay_shipments = receipt
            .map(|_| shipments::Stored::of_order(order))
            .transpose()?;
        let events = EventColumns::of(events);
        let insert = writes::InsertOrderWithEvents {
            row: &row,
            events: &events,
        };
        let mut conn = self.db.checkout()?;
        let written = if lines.is_empty() && shipped.is_empty() && receipt.is_none() {
            // A new order and its events alone (every `POST /orders`): one
            // statement is its own transaction, no BEGIN/COMMIT round trips.
            insert
                .execute(&mut conn)
                .map(drop)
                .map_err(WriteError::from)
        } else {
            conn.transaction::<_, WriteError, _>(|conn| {
                insert.execute(conn)?;
                if !lines.is_empty() {
                    diesel::insert_into(order_mgmt_order_lines::table)
                        .values(&lines)
                        .execute(conn)?;
                }
                shipped.insert(conn)?;
                complete_receipt(conn, receipt, &row, &lines, replay_shipments.as_ref())
            })
        };
        written.map_err(|e| match e.into_repository_error("insert order") {
            // The store decides whether the customer exists, in this insert.
            RepositoryError::ConstraintViolation(name) if name == FK_ORDER_CUSTOMER => {
                RepositoryError::UnknownCustomer(order.customer_id())
            }
            other => other,
        })
    }

    #[tracing::instrument(level = "debug", skip(self), err(level = "debug"))]
    fn find_by_id(&self, id: OrderId) -> Result<Option<Order>, RepositoryError> {
        self.find_one("find order by id", queries::OrderKey::Id(id.as_uuid()))
    }

    #[tracing::instrument(level = "debug", skip(self), fields(number = %number), err(level = "debug"))]
    fn find_by_number(&self, number: OrderNumber) -> Result<Option<Order>, RepositoryError> {
        self.find_one(
            "find order by number",
            queries::OrderKey::Number(number.to_string()),
        )
    }

    #[tracing::instrument(level = "debug", skip(self), err(level = "debug"))]
    fn history(
        &self,
        id: OrderId,
        after: u64,
        limit: usize,
    ) -> Result<Option<StoredHistory>, RepositoryError> {
        use order_mgmt_order_events::dsl as e;
        use order_mgmt_orders::dsl as o;
        let context = "order history";
        // Past any stored version (bigint) means "nothing after it".
        let after = i64::try_from(after).unwrap_or(i64::MAX);
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let mut conn = self.db.checkout()?;
        // One snapshot for both reads; deleted orders included (their
        // history stays readable). The events come off uq_order_event_version.
        conn.build_transaction()
            .read_only()
            .run(|conn| {
                let Some(customer) = o::order_mgmt_orders
                    .filter(o::id.eq(id.as_uuid()))
                    .select(o::customer_id)
                    .first::<Uuid>(conn)
                    .optional()?
                else {
                    return Ok(None);
                };
                let rows: Vec<(i64, serde_json::Value)> = e::order_mgmt_order_events
                    .filter(e::order_id.eq(id.as_uuid()))
                    .filter(e::version.gt(after))
                    .order(e::version.asc())
                    .limit(limit)
                    .select((e::version, e::payload))
                    .load(conn)?;
                Ok(Some((customer, rows)))
            })
            .map_err(|e| map_diesel_error(context, e))?
            .map(|(customer, rows)| {
                let events = rows
                    .into_iter()
                    .map(|(version, payload)| {
                        Ok(RecordedEvent {
                            sequence: u64::try_from(version)
                                .map_err(|_| unexpected(format!("{context}: version {version}")))?,
                            envelope: payload.to_string(),
                        })
                    })
                    .collect::<Result<Vec<_>, RepositoryError>>()?;
                Ok(StoredHistory {
                    customer_id: order_domain::CustomerId::from_uuid(customer),
                    events,
                })
            })
            .transpose()
    }

    #[tracing::instrument(level = "debug", skip(self), err(level = "debug"))]
    fn list(
        &self,
        filter: &OrderFilter,
        page: PageRequest,
    ) -> Result<Page<Order>, RepositoryError> {
        // Refuse an impossible page before taking a connection.
        queries::page(filter, page)?;
        let offset = page.offset();
        let page_size = usize::try_from(page.page_size()).unwrap_or(usize::MAX);
        let (mut rows, lines, stored, total) = self.db.read_consistent("list orders", |conn| {
            let rows = queries::page(filter, page)
                .map_err(|e| DieselError::QueryBuilderError(e.into()))?
                .load::<OrderRow>(conn)?;
            let lines = if rows.is_empty() {
                Vec::new()
            } else {
                queries::lines_of(rows.iter().take(page_size).map(|r| r.id).collect())
                    .load::<LineRow>(conn)?
            };
            // Only orders with a shipped line can have shipments or returns.
            let shipped_ids: Vec<Uuid> = rows
                .iter()
                .take(page_size)
                .filter(|r| shipments::may_have_shipments(&r.status))
                .filter(|r| {
                    lines
                        .iter()
                        .any(|l| l.order_id == r.id && shipments::line_shipped(l))
                })
                .map(|r| r.id)
                .collect();
            let stored = shipments::load(conn, &shipped_ids)?;
            // A numbered page with no next page ends the list: its total
            // follows without counting. Otherwise count, bounded, if the
            // caller asked for a total; else only the planner's estimate.
            let total = if rows.len() <= page_size
                && page.cursor().is_none()
                && (offset == 0 || !rows.is_empty())
            {
                Total::Exact(offset + rows.len() as u64)
            } else if page.counts_total() {
                count_bounded(conn, filter)?
            } else {
                Total::Estimated(self.estimates.get_or_plan(
                    filter,
                    offset + rows.len() as u64,
                    std::time::Instant::now(),
                    || planned_rows(conn, filter),
                )?)
            };
            Ok((rows, lines, stored, total))
        })?;
        let next_cursor =
            crate::store::split_next_cursor(&mut rows, page_size, |r| (r.created_at, r.id));
        let mut lines_by_order: HashMap<Uuid, Vec<LineRow>> = HashMap::new();
        for line in lines {
            lines_by_order.entry(line.order_id).or_default().push(line);
        }
        let currencies: HashMap<Uuid, order_domain::Currency> = rows
            .iter()
            .filter_map(|r| currency_of(r).map(|c| (r.id, c)))
            .collect();
        let mut shipped = stored.into_orders(|id| currencies.get(&id).copied())?;
        let items = rows
            .into_iter()
            .map(|row| {
                let lines = lines_by_order.remove(&row.id).unwrap_or_default();
                let of_order = shipped.remove(&row.id);
                restore_order(row, lines, of_order)
            })
            .collect::<Result<Vec<_>, _>>()?;
        let (total_items, total_exact) = match total {
            Total::Exact(n) => (n, true),
            Total::Estimated(n) => (n, false),
        };
        Ok(Page {
            items,
            request: page,
            total_items,
            total_exact,
            next_cursor,
        })
    }

    #[tracing::instrument(
        level = "debug",
        skip_all,
        fields(order_id = %order.id(), expected_version = expected_version, version = order.version()),
        err(level = "debug")
    )]
    fn update(
        &self,
        order: &Order,
        expected_version: u64,
        receipt: Option<&Receipt>,
    ) -> Result<(), RepositoryError> {
        let write = OrderUpdate::prepare(order, expected_version, receipt)?;
        let mut pooled = self.db.checkout()?;
        let conn: &mut PgConnection = &mut pooled;
        if write.is_one_statement(receipt) {
            // A transition or a line change alone (confirm, add a line, ...):
            // its one statement is its own transaction.
            write.apply(conn, receipt)
        } else {
            conn.transaction::<_, WriteError, _>(|conn| write.apply(conn, receipt))
        }
        .map_err(|e| e.into_repository_error("update order"))
    }
}

/// An order update with every row built before the transaction opens, so
/// the transaction holds its locks only for the statements. The edit
/// repository applies one inside its own commit transaction.
pub(crate) struct OrderUpdate {
    id: Uuid,
    expected_version: u64,
    expected: i64,
    row: NewOrderRow,
    lines: Vec<NewLineRow>,
    /// `lines` as the update statements bind them.
    line_columns: LineColumns,
    events: EventColumns,
    touched: LinesTouched,
    shipped: shipments::NewRows,
    replay_shipments: Option<shipments::Stored>,
}

impl OrderUpdate {
    /// The rows that write `order` over its stored `expected_version`.
    pub(crate) fn prepare(
        order: &Order,
        expected_version: u64,
        receipt: Option<&Receipt>,
    ) -> Result<Self, RepositoryError> {
        // Writing the version that was read would let two writers both "win".
        if order.version() <= expected_version {
            return Err(unexpected(format!(
                "order {} at version {} is no change from version {expected_version}",
                order.id(),
                order.version()
            )));
        }
        let lines = NewLineRow::from_order(order)?;
        Ok(Self {
            id: order.id().as_uuid(),
            expected_version,
            expected: version_to_column(expected_version)?,
            row: NewOrderRow::from_order(order)?,
            line_columns: LineColumns::of(order.id().as_uuid(), &lines),
            lines,
            events: EventColumns::of(NewEventRow::from_order(order)?),
            touched: LinesTouched::by(order),
            shipped: shipments::NewRows::of(order)?,
            // A replay restores the order from its outcome: it needs them all.
            replay_shipments: receipt
                .map(|_| shipments::Stored::of_order(order))
                .transpose()?,
        })
    }

    /// Whether [`OrderUpdate::apply`] is a single statement (the row, its
    /// events and the lines they name: a transition or a line change),
    /// which needs no transaction around it.
    pub(crate) fn is_one_statement(&self, receipt: Option<&Receipt>) -> bool {
        self.events.len() > 0 && self.shipped.is_empty() && receipt.is_none()
    }

    /// The compare-and-set and every statement of the update, on `conn`
    /// inside the caller's transaction (or alone, when it is
    /// [one statement](OrderUpdate::is_one_statement)); completes `receipt`
    /// (if any).
    pub(crate) fn apply(
        &self,
        conn: &mut PgConnection,
        receipt: Option<&Receipt>,
    ) -> Result<(), WriteError> {
        use order_mgmt_orders::dsl as o;

        let id = self.id;
        // The compare-and-set, the events and the lines in the same
        // statement. While another update of this order is uncommitted this
        // waits for its row lock; once it commits, the version no longer
        // matches, no row is updated and so no event or line is written.
        let updated = if self.events.len() > 0 {
            self.update_with_events(conn)? == self.events.len()
        } else {
            diesel::update(o::order_mgmt_orders)
                .filter(o::id.eq(id))
                .filter(o::version.eq(self.expected))
                .filter(o::deleted_at.is_null())
                .set(&self.row)
                .execute(conn)?
                == 1
        };
        if !updated {
            let live = diesel::select(diesel::dsl::exists(
                o::order_mgmt_orders
                    .filter(o::id.eq(id))
                    .filter(o::deleted_at.is_null()),
            ))
            .get_result::<bool>(conn)?;
            return Err(WriteError::Refused(if live {
                RepositoryError::Conflict {
                    expected: self.expected_version,
                }
            } else {
                RepositoryError::NotFound
            }));
        }
        if self.events.len() == 0 {
            // No events to write the lines with: synchronise them here, in
            // the caller's transaction (`touched` then says both).
            self.synchronise_lines(conn)?;
        }
        // After the lines: a shipment of a line added in the same change
        // needs the line to exist.
        self.shipped.insert(conn)?;
        complete_receipt(
            conn,
            receipt,
            &self.row,
            &self.lines,
            self.replay_shipments.as_ref(),
        )
    }

    /// The compare-and-set, the events and the lines the events name, as
    /// one statement of a fixed shape per kind of line change (so each is
    /// prepared once per connection): the number of events it inserted,
    /// all of them when the version still matched and none otherwise.
    fn update_with_events(&self, conn: &mut PgConnection) -> QueryResult<usize> {
        let (row, expected_version, events) = (&self.row, self.expected, &self.events);
        if !self.touched.removed && !self.touched.written {
            return writes::UpdateOrderWithEvents {
                row,
                expected_version,
                events,
            }
            .execute(conn);
        }
        let lines = &self.line_columns;
        match (self.touched.removed, self.touched.written) {
            (true, true) => writes::UpdateOrderReplacingLines {
                row,
                expected_version,
                lines,
                events,
            }
            .execute(conn),
            (true, false) => writes::UpdateOrderRemovingLines {
                row,
                expected_version,
                lines,
                events,
            }
            .execute(conn),
            (false, _) => writes::UpdateOrderWritingLines {
                row,
                expected_version,
                lines,
                events,
            }
            .execute(conn),
        }
    }

    /// Lines after a compare-and-set that wrote no event: drop the removed
    /// ones, then upsert the rest in one statement that rewrites only lines
    /// that actually changed.
    fn synchronise_lines(&self, conn: &mut PgConnection) -> QueryResult<()> {
        use order_mgmt_order_lines::dsl as l;

        if self.touched.removed {
            let line_ids: Vec<Uuid> = self.lines.iter().map(|line| line.id).collect();
            diesel::delete(
                l::order_mgmt_order_lines
                    .filter(l::order_id.eq(self.id))
                    .filter(l::id.ne_all(line_ids)),
            )
            .execute(conn)?;
        }
        if self.touched.written {
            upsert_changed_lines(conn, &self.lines)?;
        }
        Ok(())
    }
}

/// One order from its joined rows (row, line) and its stored shipments.
fn assemble(
    rows: Vec<(OrderRow, Option<LineRow>)>,
    stored: Option<shipments::Stored>,
) -> Result<Option<Order>, RepositoryError> {
    let mut rows = rows.into_iter();
    let Some((row, first_line)) = rows.next() else {
        return Ok(None);
    };
    let lines = first_line
        .into_iter()
        .chain(rows.filter_map(|(_, line)| line))
        .collect();
    let shipped = match stored {
        None => None,
        Some(stored) => {
            let currency = currency_of(&row);
            stored.into_orders(|_| currency)?.remove(&row.id)
        }
    };
    restore_order(row, lines, shipped).map(Some)
}

fn currency_of(row: &OrderRow) -> Option<order_domain::Currency> {
    order_domain::Currency::from_code(row.currency.trim()).ok()
}

/// How many live orders match a list's filter.
enum Total {
    Exact(u64),
    Estimated(u64),
}

/// Counting stops here: beyond it the total is the planner's estimate.
/// Counting 10,000 index entries takes about a millisecond; counting a
/// million took 124 ms of CPU on every page (docs/performance.md).
const COUNT_LIMIT: i64 = 10_000;

#[derive(QueryableByName)]
struct Counted {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    n: i64,
}

#[derive(QueryableByName)]
struct PlanJson {
    #[diesel(sql_type = diesel::sql_types::Json, column_name = "QUERY PLAN")]
    plan: serde_json::Value,
}

/// The live orders a list's filter matches. `$1 IS NULL OR ...` folds away:
/// `sql_query` is planned with its values.
const MATCHING: &str = "FROM order_mgmt_orders WHERE deleted_at IS NULL \
    AND ($1::uuid IS NULL OR customer_id = $1) AND ($2::text IS NULL OR status = $2)";

/// The matching rows counted up to [`COUNT_LIMIT`], else estimated by the planner.
fn count_bounded(conn: &mut PgConnection, filter: &OrderFilter) -> QueryResult<Total> {
    use diesel::sql_types::{BigInt, Nullable, Text};
    let customer = filter.customer_id.map(|c| c.as_uuid());
    let status = filter.status.map(|s| s.as_str());
    let counted = diesel::sql_query(format!(
        "SELECT count(*) AS n FROM (SELECT 1 {MATCHING} LIMIT $3) AS m"
    ))
    .bind::<Nullable<diesel::sql_types::Uuid>, _>(customer)
    .bind::<Nullable<Text>, _>(status)
    .bind::<BigInt, _>(COUNT_LIMIT + 1)
    .get_result::<Counted>(conn)?
    .n;
    let counted = u64::try_from(counted).unwrap_or_default();
    if counted <= COUNT_LIMIT as u64 {
        return Ok(Total::Exact(counted));
    }
    estimate(conn, filter, counted).map(Total::Estimated)
}

/// The planner's estimate of the matching rows (planning only: no row is
/// read), never below `at_least`, the rows known to exist.
fn estimate(conn: &mut PgConnection, filter: &OrderFilter, at_least: u64) -> QueryResult<u64> {
    // Never report fewer than are known to exist, whatever the statistics say.
    planned_rows(conn, filter).map(|planned| planned.max(at_least))
}

/// The planner's estimate of the matching rows.
fn planned_rows(conn: &mut PgConnection, filter: &OrderFilter) -> QueryResult<u64> {
    use diesel::sql_types::{Nullable, Text};
    let plan = diesel::sql_query(format!("EXPLAIN (FORMAT JSON) SELECT 1 {MATCHING}"))
        .bind::<Nullable<diesel::sql_types::Uuid>, _>(filter.customer_id.map(|c| c.as_uuid()))
        .bind::<Nullable<Text>, _>(filter.status.map(|s| s.as_str()))
        .get_result::<PlanJson>(conn)?
        .plan;
    let estimate = plan[0]["Plan"]["Plan Rows"].as_f64().unwrap_or_default();
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)] // a row estimate
    Ok(estimate.max(0.0) as u64)
}

/// Which line statements an update needs, read off the order's pending events.
struct LinesTouched {
    /// Some line was removed: delete the lines no longer on the order.
    removed: bool,
    /// Some line was added or changed: upsert the changed lines.
    written: bool,
}

impl LinesTouched {
    fn by(order: &Order) -> Self {
        let events = order.pending_events();
        if events.is_empty() {
            // A caller that took the events leaves us nothing to go by:
            // synchronise every line, as correctness needs no more.
            return Self {
                removed: true,
                written: true,
            };
        }
        let any = |f: fn(&OrderEventKind) -> bool| events.iter().any(|e| f(&e.kind));
        let removed = any(|k| {
            matches!(
                k,
                OrderEventKind::LineRemoved { .. } | OrderEventKind::Edited { .. }
            )
        });
        Self {
            removed,
            // A discount re-allocates every line's share (and so its tax and
            // total); so does removing a line while discounts are on the order.
            written: (removed && !order.discounts().is_empty())
                || any(|k| {
                    matches!(
                        k,
                        OrderEventKind::LineAdded { .. }
                            | OrderEventKind::LineUpdated { .. }
                            | OrderEventKind::Edited { .. }
                            | OrderEventKind::DiscountAdded { .. }
                            | OrderEventKind::DiscountRemoved { .. }
                    )
                }),
        }
    }
}

/// Completes the idempotency claim of `receipt` (if any) with the rows just
/// written, in the write's transaction; a claim no longer held rolls the
/// whole write back.
fn complete_receipt(
    conn: &mut PgConnection,
    receipt: Option<&Receipt>,
    order: &NewOrderRow,
    lines: &[NewLineRow],
    shipped: Option<&shipments::Stored>,
) -> Result<(), WriteError> {
    let Some(receipt) = receipt else {
        return Ok(());
    };
    let outcome = WrittenOutcome::Order {
        order,
        lines,
        line: receipt.line.map(|line| line.as_uuid()),
        shipments: shipped.filter(|s| !s.is_empty()),
    };
    if complete_with(conn, &receipt.claim, &outcome)? {
        Ok(())
    } else {
        Err(WriteError::Refused(RepositoryError::ClaimLost))
    }
}

/// Inserts new lines and rewrites changed ones, in one cached statement
/// ([`writes::UpsertLines`]); a line that is stored exactly as given is left
/// alone (no dead row version is made).
fn upsert_changed_lines(conn: &mut PgConnection, lines: &[NewLineRow]) -> QueryResult<usize> {
    let Some(first) = lines.first() else {
        return Ok(0);
    };
    let columns = writes::LineColumns::of(first.order_id, lines);
    writes::UpsertLines { lines: &columns }.execute(conn)
}
