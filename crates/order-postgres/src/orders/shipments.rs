//! Rows of the shipment and return tables, written with the order and read
//! back into its snapshot. Both are append-only facts: a write inserts the
//! ones the order's pending events name (a trigger then counts them on the
//! line, whose CHECKs refuse an over-shipment or over-return), a read loads
//! all of them for the orders that can have any (processing or fulfilled).

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use order_app::RepositoryError;
use order_domain::{
    Currency, FulfillmentId, FulfillmentSnapshot, LineId, LineQuantity, Money, Order,
    OrderEventKind, OrderStatus, Quantity, ReturnId, ReturnLine, ReturnSnapshot,
};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::error::unexpected;
use crate::schema::{
    order_mgmt_fulfillment_lines as fulfillment_lines, order_mgmt_fulfillments as fulfillments,
    order_mgmt_return_lines as return_lines, order_mgmt_returns as returns,
};

#[derive(Debug, Clone, Queryable, Selectable, Insertable, Serialize, Deserialize)]
#[diesel(table_name = fulfillments, check_for_backend(diesel::pg::Pg))]
pub(crate) struct FulfillmentRow {
    pub order_id: Uuid,
    pub id: Uuid,
    pub position: i32,
    pub carrier: Option<String>,
    pub tracking_number: Option<String>,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable, Serialize, Deserialize)]
#[diesel(table_name = fulfillment_lines, check_for_backend(diesel::pg::Pg))]
pub(crate) struct FulfillmentLineRow {
    pub order_id: Uuid,
    pub fulfillment_id: Uuid,
    pub line_id: Uuid,
    pub position: i32,
    pub quantity: i32,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable, Serialize, Deserialize)]
#[diesel(table_name = returns, check_for_backend(diesel::pg::Pg))]
pub(crate) struct ReturnRow {
    pub order_id: Uuid,
    pub id: Uuid,
    pub position: i32,
    pub reason: String,
    pub refund_amount: i64,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable, Serialize, Deserialize)]
#[diesel(table_name = return_lines, check_for_backend(diesel::pg::Pg))]
pub(crate) struct ReturnLineRow {
    pub order_id: Uuid,
    pub return_id: Uuid,
    pub line_id: Uuid,
    pub position: i32,
    pub quantity: i32,
    pub refund: i64,
}

/// The shipments and returns of some orders, as read (or as an idempotent
/// write's outcome keeps them, to restore the order it answered with).
#[derive(Debug, Default, Serialize, Deserialize)]
pub(crate) struct Stored {
    fulfillments: Vec<FulfillmentRow>,
    fulfillment_lines: Vec<FulfillmentLineRow>,
    returns: Vec<ReturnRow>,
    return_lines: Vec<ReturnLineRow>,
}

/// Only orders in these states can have shipments or returns; reading the
/// others costs no extra query.
pub(crate) fn may_have_shipments(status: &str) -> bool {
    status == OrderStatus::Processing.as_str() || status == OrderStatus::Fulfilled.as_str()
}

/// Whether any of the line was shipped. Every stored fulfilment has a line
/// of at least one unit (the domain ships nothing empty,
/// `check_fulfillment_quantity`) and the line's `shipped_quantity` counts it
/// in the same transaction (`trg_fulfillment_lines_count`); a return needs a
/// shipment. So an order none of whose lines was shipped has neither.
pub(crate) fn line_shipped(line: &super::LineRow) -> bool {
    line.shipped_quantity > 0
}

/// Loads the shipments and returns of `order_ids` (call inside the snapshot
/// that read the orders, so they agree).
pub(crate) fn load(conn: &mut PgConnection, order_ids: &[Uuid]) -> QueryResult<Stored> {
    if order_ids.is_empty() {
        return Ok(Stored::default());
    }
    Ok(Stored {
        fulfillments: fulfillments::table
            .filter(fulfillments::order_id.eq_any(order_ids))
            .order((fulfillments::order_id, fulfillments::position))
            .select(FulfillmentRow::as_select())
            .load(conn)?,
        fulfillment_lines: fulfillment_lines::table
            .filter(fulfillment_lines::order_id.eq_any(order_ids))
            .order(fulfillment_lines::position)
            .select(FulfillmentLineRow::as_select())
            .load(conn)?,
        returns: returns::table
            .filter(returns::order_id.eq_any(order_ids))
            .order((returns::order_id, returns::position))
            .select(ReturnRow::as_select())
            .load(conn)?,
        return_lines: return_lines::table
            .filter(return_lines::order_id.eq_any(order_ids))
            .order(return_lines::position)
            .select(ReturnLineRow::as_select())
            .load(conn)?,
    })
}

/// One order's shipments and returns as domain snapshots.
pub(crate) struct OfOrder {
    pub fulfillments: Vec<FulfillmentSnapshot>,
    pub returns: Vec<ReturnSnapshot>,
}

impl Stored {
    /// Splits the rows by order.
    pub(crate) fn into_orders(
        self,
        currency_of: impl Fn(Uuid) -> Option<Currency>,
    ) -> Result<HashMap<Uuid, OfOrder>, RepositoryError> {
        let mut lines_of_f: HashMap<(Uuid, Uuid), Vec<LineQuantity>> = HashMap::new();
        for l in self.fulfillment_lines {
            lines_of_f
                .entry((l.order_id, l.fulfillment_id))
                .or_default()
                .push(LineQuantity {
                    line_id: LineId::from_uuid(l.line_id),
                    quantity: quantity(l.quantity)?,
                });
        }
        let mut lines_of_r: HashMap<(Uuid, Uuid), Vec<ReturnLineRow>> = HashMap::new();
        for l in self.return_lines {
            lines_of_r
                .entry((l.order_id, l.return_id))
                .or_default()
                .push(l);
        }
        let mut out: HashMap<Uuid, OfOrder> = HashMap::new();
        for f in self.fulfillments {
            let lines = lines_of_f.remove(&(f.order_id, f.id)).unwrap_or_default();
            out.entry(f.order_id)
                .or_insert_with(empty)
                .fulfillments
                .push(FulfillmentSnapshot {
                    id: FulfillmentId::from_uuid(f.id),
                    lines,
                    carrier: f.carrier,
                    tracking_number: f.tracking_number,
                    created_at: f.created_at,
                });
        }
        for r in self.returns {
            let currency = currency_of(r.order_id)
                .ok_or_else(|| unexpected(format!("return {} of an unread order", r.id)))?;
            let lines = lines_of_r
                .remove(&(r.order_id, r.id))
                .unwrap_or_default()
                .into_iter()
                .map(|l| {
                    Ok(ReturnLine {
                        line_id: LineId::from_uuid(l.line_id),
                        quantity: quantity(l.quantity)?,
                        refund: Money::new(l.refund, currency),
                    })
                })
                .collect::<Result<Vec<_>, RepositoryError>>()?;
            out.entry(r.order_id)
                .or_insert_with(empty)
                .returns
                .push(ReturnSnapshot {
                    id: ReturnId::from_uuid(r.id),
                    lines,
                    reason: r.reason,
                    refund_amount: Money::new(r.refund_amount, currency),
                    created_at: r.created_at,
                });
        }
        Ok(out)
    }
}

fn empty() -> OfOrder {
    OfOrder {
        fulfillments: Vec::new(),
        returns: Vec::new(),
    }
}

fn quantity(stored: i32) -> Result<Quantity, RepositoryError> {
    Quantity::new(i64::from(stored)).map_err(|e| unexpected(format!("stored quantity: {e}")))
}

fn column_i32<T>(value: T, what: &str) -> Result<i32, RepositoryError>
where
    T: TryInto<i32> + Copy + std::fmt::Display,
{
    value
        .try_into()
        .map_err(|_| unexpected(format!("{what} {value} exceeds integer")))
}

/// The shipment and return rows `order`'s pending events add. With no
/// pending events (a caller took them) every one is written, and the ones
/// already stored are skipped.
pub(crate) struct NewRows {
    rows: Stored,
    skip_existing: bool,
}

impl Stored {
    /// Every shipment and return of `order`, as rows.
    pub(crate) fn of_order(order: &Order) -> Result<Self, RepositoryError> {
        rows_of(order, |_| true, |_| true)
    }

    /// Whether there is nothing at all.
    pub(crate) fn is_empty(&self) -> bool {
        self.fulfillments.is_empty() && self.returns.is_empty()
    }
}

fn rows_of(
    order: &Order,
    keep_fulfillment: impl Fn(Uuid) -> bool,
    keep_return: impl Fn(Uuid) -> bool,
) -> Result<Stored, RepositoryError> {
    let order_id = order.id().as_uuid();
    let mut rows = Stored::default();
    for (position, f) in order.fulfillments().iter().enumerate() {
        let id = f.id().as_uuid();
        if !keep_fulfillment(id) {
            continue;
        }
        rows.fulfillments.push(FulfillmentRow {
            order_id,
            id,
            position: column_i32(position, "fulfillment position")?,
            carrier: f.carrier().map(str::to_owned),
            tracking_number: f.tracking_number().map(str::to_owned),
            created_at: f.created_at(),
        });
        for (line_position, l) in f.lines().iter().enumerate() {
            rows.fulfillment_lines.push(FulfillmentLineRow {
                order_id,
                fulfillment_id: id,
                line_id: l.line_id.as_uuid(),
                position: column_i32(line_position, "line position")?,
                quantity: column_i32(l.quantity.get(), "quantity")?,
            });
        }
    }
    for (position, r) in order.returns().iter().enumerate() {
        let id = r.id().as_uuid();
        if !keep_return(id) {
            continue;
        }
        rows.returns.push(ReturnRow {
            order_id,
            id,
            position: column_i32(position, "return position")?,
            reason: r.reason().to_owned(),
            refund_amount: r.refund_amount().amount(),
            created_at: r.created_at(),
        });
        for (line_position, l) in r.lines().iter().enumerate() {
            rows.return_lines.push(ReturnLineRow {
                order_id,
                return_id: id,
                line_id: l.line_id.as_uuid(),
                position: column_i32(line_position, "line position")?,
                quantity: column_i32(l.quantity.get(), "quantity")?,
                refund: l.refund.amount(),
            });
        }
    }
    Ok(rows)
}

impl NewRows {
    pub(crate) fn of(order: &Order) -> Result<Self, RepositoryError> {
        let events = order.pending_events();
        let skip_existing = events.is_empty();
        let new_f: Vec<Uuid> = events
            .iter()
            .filter_map(|e| match &e.kind {
                OrderEventKind::FulfillmentCreated { fulfillment_id, .. } => Some(*fulfillment_id),
                OrderEventKind::Fulfilled { fulfillment_id, .. } => *fulfillment_id,
                _ => None,
            })
            .map(|id| id.as_uuid())
            .collect();
        let new_r: Vec<Uuid> = events
            .iter()
            .filter_map(|e| match &e.kind {
                OrderEventKind::ReturnCreated { return_id, .. } => Some(return_id.as_uuid()),
                _ => None,
            })
            .collect();
        Ok(Self {
            rows: rows_of(
                order,
                |id| skip_existing || new_f.contains(&id),
                |id| skip_existing || new_r.contains(&id),
            )?,
            skip_existing,
        })
    }

    /// Nothing to insert (no shipment or return came with the change).
    pub(crate) fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// Inserts the rows; parents before their lines (the lines' triggers
    /// count them on the order lines).
    pub(crate) fn insert(&self, conn: &mut PgConnection) -> QueryResult<()> {
        macro_rules! put {
            ($table:expr, $rows:expr) => {
                if !$rows.is_empty() {
                    let insert = diesel::insert_into($table).values(&$rows);
                    if self.skip_existing {
                        insert.on_conflict_do_nothing().execute(conn)?;
                    } else {
                        insert.execute(conn)?;
                    }
                }
            };
        }
        put!(fulfillments::table, self.rows.fulfillments);
        put!(fulfillment_lines::table, self.rows.fulfillment_lines);
        put!(returns::table, self.rows.returns);
        put!(return_lines::table, self.rows.return_lines);
        Ok(())
    }
}
