//! [`SqliteOrderRepository`]: the `OrderRepository` port over SQLite.
//!
//! - A read is one transaction (one WAL snapshot): the order row, its lines,
//!   shipments and returns always agree, whatever a writer commits meanwhile.
//! - A write is one IMMEDIATE transaction: the order row, its lines, its
//!   shipments and returns, its events (the outbox) and the idempotency
//!   record are stored together or not at all.
//! - `update` is a compare-and-set on `version`
//!   (`UPDATE .. WHERE id = ? AND version = ? AND deleted_at IS NULL`): a
//!   concurrent update is never lost, the loser gets `Conflict` and nothing
//!   it sent is written.

use std::fmt;

use diesel::prelude::*;
use diesel::sqlite::SqliteConnection;
use diesel::upsert::excluded;
use order_app::idempotency::Receipt;
use order_app::ports::OrderRepository;
use order_app::{OrderFilter, Page, PageRequest, RecordedEvent, RepositoryError, StoredHistory};
use order_domain::{CustomerId, Order, OrderId, OrderNumber};
use order_events::EventEnvelope;
use uuid::Uuid;

use crate::codec::{id, parse_id, split_next_cursor, time};
use crate::error::{unexpected, FOREIGN_KEY};
use crate::idempotency::{complete_with, WrittenOutcome};
use crate::rows::{
    version_to_column, FulfillmentLineRow, FulfillmentRow, LineRow, OrderRecord, OrderRow,
    ReturnLineRow, ReturnRow,
};
use crate::schema::{
    order_mgmt_fulfillment_lines as fulfillment_lines, order_mgmt_fulfillments as fulfillments,
    order_mgmt_order_events as events, order_mgmt_order_lines as lines,
    order_mgmt_orders as orders, order_mgmt_return_lines as return_lines,
    order_mgmt_returns as returns,
};
use crate::store::{Db, WriteError};

/// Orders (with their lines, shipments, returns and outbox events) in SQLite.
///
/// Made by [`crate::SqliteStore::orders`]; cloning shares the pool.
#[derive(Clone)]
pub struct SqliteOrderRepository {
    db: Db,
}

impl fmt::Debug for SqliteOrderRepository {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SqliteOrderRepository")
            .finish_non_exhaustive()
    }
}

/// An outbox row to insert.
#[derive(Debug, Insertable)]
#[diesel(table_name = events)]
struct NewEventRow {
    event_id: String,
    order_id: String,
    version: i64,
    event_type: &'static str,
    occurred_at: String,
    actor_id: String,
    payload: String,
}

impl NewEventRow {
    /// The order's pending events as outbox rows, each holding its envelope
    /// exactly as the relay publishes it and the history returns it.
    fn of(order: &Order) -> Result<Vec<Self>, RepositoryError> {
        order
            .pending_events()
            .iter()
            .map(|event| {
                // UUID v7: time-ordered like the events, unique across servers.
                let envelope = EventEnvelope::from_domain(order, event, Uuid::now_v7());
                let payload = serde_json::to_string(&envelope)
                    .map_err(|e| unexpected(format!("event {} as JSON: {e}", envelope.id)))?;
                Ok(Self {
                    event_id: id(envelope.id),
                    order_id: id(envelope.order_id),
                    version: version_to_column(envelope.sequence)?,
                    event_type: envelope.data.event_type(),
                    occurred_at: time(envelope.occurred_at),
                    actor_id: envelope.actor.id,
                    payload,
                })
            })
            .collect()
    }
}

impl SqliteOrderRepository {
    pub(crate) fn new(db: Db) -> Self {
        Self { db }
    }
}

/// The rows of the live order `row` heads: lines in the order they were
/// added, shipments and returns in the order they were made.
fn load_rest(conn: &mut SqliteConnection, row: OrderRow) -> QueryResult<OrderRecord> {
    let order_id = row.id.clone();
    Ok(OrderRecord {
        lines: lines::table
            .filter(lines::order_id.eq(&order_id))
            .order((lines::created_at.asc(), lines::id.asc()))
            .select(LineRow::as_select())
            .load(conn)?,
        fulfillments: fulfillments::table
            .filter(fulfillments::order_id.eq(&order_id))
            .order(fulfillments::position.asc())
            .select(FulfillmentRow::as_select())
            .load(conn)?,
        fulfillment_lines: fulfillment_lines::table
            .filter(fulfillment_lines::order_id.eq(&order_id))
            .order((
                fulfillment_lines::fulfillment_id.asc(),
                fulfillment_lines::position.asc(),
            ))
            .select(FulfillmentLineRow::as_select())
            .load(conn)?,
        returns: returns::table
            .filter(returns::order_id.eq(&order_id))
            .order(returns::position.asc())
            .select(ReturnRow::as_select())
            .load(conn)?,
        return_lines: return_lines::table
            .filter(return_lines::order_id.eq(&order_id))
            .order((return_lines::return_id.asc(), return_lines::position.asc()))
            .select(ReturnLineRow::as_select())
            .load(conn)?,
        order: row,
    })
}

/// The live orders `filter` matches.
fn matching(filter: &OrderFilter) -> orders::BoxedQuery<'static, diesel::sqlite::Sqlite> {
    let mut query = orders::table
        .filter(orders::deleted_at.is_null())
        .into_boxed();
    if let Some(customer_id) = filter.customer_id {
        query = query.filter(orders::customer_id.eq(id(customer_id.as_uuid())));
    }
    if let Some(status) = filter.status {
        query = query.filter(orders::status.eq(status.as_str()));
    }
    query
}

/// Writes what the order's rows say beyond the order row itself: lines
/// (removed ones deleted, the rest inserted or rewritten), shipments and
/// returns not stored yet (their triggers count them on the lines), and the
/// pending events.
fn write_children(
    conn: &mut SqliteConnection,
    record: &OrderRecord,
    new_events: &[NewEventRow],
    existing: bool,
) -> QueryResult<()> {
    if existing {
        let keep: Vec<&str> = record.lines.iter().map(|l| l.id.as_str()).collect();
        diesel::delete(
            lines::table
                .filter(lines::order_id.eq(&record.order.id))
                .filter(lines::id.ne_all(keep)),
        )
        .execute(conn)?;
    }
    for line in &record.lines {
        diesel::insert_into(lines::table)
            .values(line)
            .on_conflict(lines::id)
            .do_update()
            .set((
                lines::quantity.eq(excluded(lines::quantity)),
                lines::unit_price.eq(excluded(lines::unit_price)),
                lines::subtotal.eq(excluded(lines::subtotal)),
                lines::description.eq(excluded(lines::description)),
                lines::sku.eq(excluded(lines::sku)),
                lines::updated_at.eq(excluded(lines::updated_at)),
                lines::tax_rate_millionths.eq(excluded(lines::tax_rate_millionths)),
                lines::tax_category.eq(excluded(lines::tax_category)),
                lines::discount.eq(excluded(lines::discount)),
                lines::tax.eq(excluded(lines::tax)),
                lines::total.eq(excluded(lines::total)),
            ))
            .execute(conn)?;
    }
    // Shipments and returns are facts, never rewritten: the stored ones are
    // skipped (their lines' insert triggers do not run again).
    for row in &record.fulfillments {
        diesel::insert_into(fulfillments::table)
            .values(row)
            .on_conflict((fulfillments::order_id, fulfillments::id))
            .do_nothing()
            .execute(conn)?;
    }
    for row in &record.fulfillment_lines {
        diesel::insert_into(fulfillment_lines::table)
            .values(row)
            .on_conflict((
                fulfillment_lines::order_id,
                fulfillment_lines::fulfillment_id,
                fulfillment_lines::line_id,
            ))
            .do_nothing()
            .execute(conn)?;
    }
    for row in &record.returns {
        diesel::insert_into(returns::table)
            .values(row)
            .on_conflict((returns::order_id, returns::id))
            .do_nothing()
            .execute(conn)?;
    }
    for row in &record.return_lines {
        diesel::insert_into(return_lines::table)
            .values(row)
            .on_conflict((
                return_lines::order_id,
                return_lines::return_id,
                return_lines::line_id,
            ))
            .do_nothing()
            .execute(conn)?;
    }
    for event in new_events {
        diesel::insert_into(events::table)
            .values(event)
            .execute(conn)?;
    }
    Ok(())
}

/// Completes the idempotency claim of `receipt` (if any) with the rows just
/// written, in the write's transaction; a claim no longer held rolls the
/// whole write back.
fn complete_receipt(
    conn: &mut SqliteConnection,
    receipt: Option<&Receipt>,
    record: &OrderRecord,
) -> Result<(), WriteError> {
    let Some(receipt) = receipt else {
        return Ok(());
    };
    let outcome = WrittenOutcome::Order {
        record,
        line: receipt.line.map(|line| id(line.as_uuid())),
    };
    if complete_with(conn, &receipt.claim, &outcome)? {
        Ok(())
    } else {
        Err(WriteError::Refused(RepositoryError::ClaimLost))
    }
}

/// An order update, prepared outside the transaction: the compare-and-set
/// of the row on `version`, then its lines, shipments, events and receipt.
/// Shared by [`OrderRepository::update`] and the commit of an edit.
pub(crate) struct OrderUpdate {
    record: OrderRecord,
    new_events: Vec<NewEventRow>,
    expected: i64,
    expected_version: u64,
}

impl OrderUpdate {
    pub(crate) fn prepare(order: &Order, expected_version: u64) -> Result<Self, RepositoryError> {
        // Writing the version that was read would let two writers both "win".
        if order.version() <= expected_version {
            return Err(unexpected(format!(
                "order {} at version {} is no change from version {expected_version}",
                order.id(),
                order.version()
            )));
        }
        Ok(Self {
            record: OrderRecord::of(order)?,
            new_events: NewEventRow::of(order)?,
            expected: version_to_column(expected_version)?,
            expected_version,
        })
    }

    pub(crate) fn apply(
        &self,
        conn: &mut SqliteConnection,
        receipt: Option<&Receipt>,
    ) -> Result<(), WriteError> {
        let record = &self.record;
        // The compare-and-set; the write lock is held since BEGIN
        // IMMEDIATE, so nobody changes the row between it and the commit.
        let updated = diesel::update(orders::table)
            .filter(orders::id.eq(&record.order.id))
            .filter(orders::version.eq(self.expected))
            .filter(orders::deleted_at.is_null())
            .set(&record.order)
            .execute(conn)?;
        if updated == 0 {
            let live = diesel::select(diesel::dsl::exists(
                orders::table
                    .filter(orders::id.eq(&record.order.id))
                    .filter(orders::deleted_at.is_null()),
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
        write_children(conn, record, &self.new_events, true)?;
        complete_receipt(conn, receipt, record)
    }
}

impl OrderRepository for SqliteOrderRepository {
    #[tracing::instrument(level = "debug", skip_all, fields(order_id = %order.id()), err(level = "debug"))]
    fn insert(&self, order: &Order, receipt: Option<&Receipt>) -> Result<(), RepositoryError> {
        let record = OrderRecord::of(order)?;
        let new_events = NewEventRow::of(order)?;
        self.db
            .write("insert order", |conn| {
                // SQLite checks the number's unique index before the primary
                // key; the id is asked first so that a repeated id is
                // reported as such, as on PostgreSQL.
                let taken = diesel::select(diesel::dsl::exists(
                    orders::table.filter(orders::id.eq(&record.order.id)),
                ))
                .get_result::<bool>(conn)?;
                if taken {
                    return Err(WriteError::Refused(RepositoryError::Duplicate(
                        "order_mgmt_orders_pkey".into(),
                    )));
                }
                diesel::insert_into(orders::table)
                    .values(&record.order)
                    .execute(conn)?;
                write_children(conn, &record, &new_events, false)?;
                complete_receipt(conn, receipt, &record)
            })
            .map_err(|e| match e {
                // The store decides whether the customer exists, in this
                // insert: the order row's one foreign key is its customer.
                RepositoryError::ConstraintViolation(name) if name == FOREIGN_KEY => {
                    RepositoryError::UnknownCustomer(order.customer_id())
                }
                other => other,
            })
    }

    #[tracing::instrument(level = "debug", skip(self), err(level = "debug"))]
    fn find_by_id(&self, order_id: OrderId) -> Result<Option<Order>, RepositoryError> {
        let key = id(order_id.as_uuid());
        self.db
            .read("find order by id", |conn| {
                let Some(row) = orders::table
                    .filter(orders::id.eq(&key))
                    .filter(orders::deleted_at.is_null())
                    .select(OrderRow::as_select())
                    .first(conn)
                    .optional()?
                else {
                    return Ok(None);
                };
                load_rest(conn, row).map(Some)
            })?
            .map(OrderRecord::into_order)
            .transpose()
    }

    #[tracing::instrument(level = "debug", skip(self), fields(number = %number), err(level = "debug"))]
    fn find_by_number(&self, number: OrderNumber) -> Result<Option<Order>, RepositoryError> {
        let key = number.to_string();
        self.db
            .read("find order by number", |conn| {
                let Some(row) = orders::table
                    .filter(orders::order_number.eq(&key))
                    .filter(orders::deleted_at.is_null())
                    .select(OrderRow::as_select())
                    .first(conn)
                    .optional()?
                else {
                    return Ok(None);
                };
                load_rest(conn, row).map(Some)
            })?
            .map(OrderRecord::into_order)
            .transpose()
    }

    #[tracing::instrument(level = "debug", skip(self), err(level = "debug"))]
    fn list(
        &self,
        filter: &OrderFilter,
        page: PageRequest,
    ) -> Result<Page<Order>, RepositoryError> {
        let offset = i64::try_from(page.offset()).map_err(unexpected)?;
        let page_size = usize::try_from(page.page_size()).unwrap_or(usize::MAX);
        let cursor = page.cursor();
        let (records, total) = self.db.read("list orders", |conn| {
            let mut query = matching(filter);
            if let Some(cursor) = cursor {
                let (at, after) = (time(cursor.created_at), id(cursor.id));
                query = query.filter(
                    orders::created_at
                        .lt(at.clone())
                        .or(orders::created_at.eq(at).and(orders::id.lt(after))),
                );
            }
            let rows: Vec<OrderRow> = query
                .select(OrderRow::as_select())
                .order((orders::created_at.desc(), orders::id.desc()))
                .limit(i64::from(page.page_size()) + 1)
                .offset(offset)
                .load(conn)?;
            // SQLite counts an indexed range quickly enough to always count:
            // every total here is exact, and (as on PostgreSQL) the whole
            // list's, on a cursor page too.
            let total: i64 = matching(filter).count().get_result(conn)?;
            let records = rows
                .into_iter()
                .map(|row| load_rest(conn, row))
                .collect::<QueryResult<Vec<_>>>()?;
            Ok((records, total))
        })?;
        let mut records = records;
        let next_cursor = split_next_cursor(&mut records, page_size, |r| {
            (&r.order.created_at, &r.order.id)
        })?;
        let items = records
            .into_iter()
            .map(OrderRecord::into_order)
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Page {
            items,
            request: page,
            total_items: u64::try_from(total).unwrap_or_default(),
            total_exact: true,
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
        let update = OrderUpdate::prepare(order, expected_version)?;
        self.db
            .write("update order", |conn| update.apply(conn, receipt))
    }

    #[tracing::instrument(level = "debug", skip(self), err(level = "debug"))]
    fn history(
        &self,
        order_id: OrderId,
        after: u64,
        limit: usize,
    ) -> Result<Option<StoredHistory>, RepositoryError> {
        let context = "order history";
        let key = id(order_id.as_uuid());
        let after = i64::try_from(after).unwrap_or(i64::MAX);
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        // Deleted orders included: their history stays readable.
        let found = self.db.read(context, |conn| {
            let Some(customer) = orders::table
                .filter(orders::id.eq(&key))
                .select(orders::customer_id)
                .first::<String>(conn)
                .optional()?
            else {
                return Ok(None);
            };
            let rows: Vec<(i64, String)> = events::table
                .filter(events::order_id.eq(&key))
                .filter(events::version.gt(after))
                .order(events::version.asc())
                .limit(limit)
                .select((events::version, events::payload))
                .load(conn)?;
            Ok(Some((customer, rows)))
        })?;
        let Some((customer, rows)) = found else {
            return Ok(None);
        };
        let events = rows
            .into_iter()
            .map(|(version, envelope)| {
                Ok(RecordedEvent {
                    sequence: u64::try_from(version)
                        .map_err(|_| unexpected(format!("{context}: version {version}")))?,
                    envelope,
                })
            })
            .collect::<Result<Vec<_>, RepositoryError>>()?;
        Ok(Some(StoredHistory {
            customer_id: CustomerId::from_uuid(parse_id(&customer)?),
            events,
        }))
    }
}
