//! An order's rows (the order, its lines, shipments and returns) and the one
//! mapping between them and the domain's [`Order`], both ways.
//!
//! The same rows, as JSON, are an idempotency outcome: a replay restores the
//! order exactly as the write stored it, through the same function.
//!
//! Not shared with `order-postgres`: its rows are typed for PostgreSQL
//! (`uuid`, `timestamptz`, `jsonb`, `text[]`), which diesel's SQLite backend
//! cannot bind or load, and diesel has no backend-neutral column types for
//! them. Both adapters meet at the domain's snapshots (`OrderSnapshot`,
//! `LineSnapshot`, ...) and the event envelope of `order-events`, so what an
//! order *is* stays decided in one place; the contract suite checks that
//! both mappings agree with it.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use order_app::RepositoryError;
use order_domain::{
    CompanyId, Currency, CustomerId, Discount, DiscountId, DiscountSnapshot, DiscountValue,
    FulfillmentId, FulfillmentSnapshot, LineId, LineQuantity, LineSnapshot, Money, Order, OrderId,
    OrderSnapshot, OrderStatus, Percentage, ProductId, Quantity, ReturnId, ReturnLine,
    ReturnSnapshot, TaxMode, TaxRate,
};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use crate::codec::{id, parse_id, parse_time, parse_time_opt, time, time_opt};
use crate::error::unexpected;
use crate::schema::{
    order_mgmt_fulfillment_lines, order_mgmt_fulfillments, order_mgmt_order_lines,
    order_mgmt_orders, order_mgmt_return_lines, order_mgmt_returns,
};

/// An order row.
#[derive(Debug, Clone, Queryable, Selectable, Insertable, AsChangeset, Serialize, Deserialize)]
#[diesel(table_name = order_mgmt_orders, check_for_backend(diesel::sqlite::Sqlite), treat_none_as_null = true)]
pub(crate) struct OrderRow {
    pub id: String,
    pub order_number: String,
    pub customer_id: String,
    pub company_id: Option<String>,
    pub status: String,
    pub currency: String,
    pub subtotal: i64,
    pub tax: i64,
    pub discount: i64,
    pub total: i64,
    pub version: i64,
    pub created_at: String,
    pub updated_at: String,
    pub deleted_at: Option<String>,
    pub confirmed_at: Option<String>,
    pub processing_started_at: Option<String>,
    pub fulfilled_at: Option<String>,
    pub cancelled_at: Option<String>,
    pub cancellation_reason: Option<String>,
    pub prices_include_tax: bool,
    pub discounts: String,
}

/// A line row (the shipped and returned counters are the triggers' business).
#[derive(Debug, Clone, Queryable, Selectable, Insertable, Serialize, Deserialize)]
#[diesel(table_name = order_mgmt_order_lines, check_for_backend(diesel::sqlite::Sqlite))]
pub(crate) struct LineRow {
    pub id: String,
    pub order_id: String,
    pub product_id: String,
    pub quantity: i64,
    pub unit_price: i64,
    pub subtotal: i64,
    pub description: Option<String>,
    pub sku: Option<String>,
    pub created_at: String,
    pub updated_at: String,
    pub tax_rate_millionths: i64,
    pub tax_category: Option<String>,
    pub discount: i64,
    pub tax: i64,
    pub total: i64,
}

/// A shipment row.
#[derive(Debug, Clone, Queryable, Selectable, Insertable, Serialize, Deserialize)]
#[diesel(table_name = order_mgmt_fulfillments, check_for_backend(diesel::sqlite::Sqlite))]
pub(crate) struct FulfillmentRow {
    pub order_id: String,
    pub id: String,
    pub position: i64,
    pub carrier: Option<String>,
    pub tracking_number: Option<String>,
    pub created_at: String,
}

/// A line of a shipment.
#[derive(Debug, Clone, Queryable, Selectable, Insertable, Serialize, Deserialize)]
#[diesel(table_name = order_mgmt_fulfillment_lines, check_for_backend(diesel::sqlite::Sqlite))]
pub(crate) struct FulfillmentLineRow {
    pub order_id: String,
    pub fulfillment_id: String,
    pub line_id: String,
    pub position: i64,
    pub quantity: i64,
}

/// A return row.
#[derive(Debug, Clone, Queryable, Selectable, Insertable, Serialize, Deserialize)]
#[diesel(table_name = order_mgmt_returns, check_for_backend(diesel::sqlite::Sqlite))]
pub(crate) struct ReturnRow {
    pub order_id: String,
    pub id: String,
    pub position: i64,
    pub reason: String,
    pub refund_amount: i64,
    pub created_at: String,
}

/// A line of a return.
#[derive(Debug, Clone, Queryable, Selectable, Insertable, Serialize, Deserialize)]
#[diesel(table_name = order_mgmt_return_lines, check_for_backend(diesel::sqlite::Sqlite))]
pub(crate) struct ReturnLineRow {
    pub order_id: String,
    pub return_id: String,
    pub line_id: String,
    pub position: i64,
    pub quantity: i64,
    pub refund: i64,
}

/// Every row of one order.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct OrderRecord {
    pub order: OrderRow,
    pub lines: Vec<LineRow>,
    pub fulfillments: Vec<FulfillmentRow>,
    pub fulfillment_lines: Vec<FulfillmentLineRow>,
    pub returns: Vec<ReturnRow>,
    pub return_lines: Vec<ReturnLineRow>,
}

fn count(n: usize) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

/// The domain counts versions as `u64`, the column is a signed 64-bit integer.
pub(crate) fn version_to_column(version: u64) -> Result<i64, RepositoryError> {
    i64::try_from(version).map_err(|_| unexpected(format!("version {version} out of range")))
}

impl OrderRecord {
    /// The rows of `order`.
    pub fn of(order: &Order) -> Result<Self, RepositoryError> {
        let s = order.snapshot();
        let order_id = id(s.id.as_uuid());
        let lines = s
            .lines
            .iter()
            .map(|l| LineRow {
                id: id(l.id.as_uuid()),
                order_id: order_id.clone(),
                product_id: id(l.product_id.as_uuid()),
                quantity: l.quantity,
                unit_price: l.unit_price.amount(),
                subtotal: l.subtotal.amount(),
                description: l.description.clone(),
                sku: l.sku.clone(),
                created_at: time(l.created_at),
                updated_at: time(l.updated_at),
                tax_rate_millionths: i64::from(l.tax_rate.percentage().millionths()),
                tax_category: l.tax_category.clone(),
                discount: l.discount.amount(),
                tax: l.tax.amount(),
                total: l.total.amount(),
            })
            .collect();
        let mut fulfillments = Vec::new();
        let mut fulfillment_lines = Vec::new();
        for (position, f) in s.fulfillments.iter().enumerate() {
            let fid = id(f.id.as_uuid());
            fulfillments.push(FulfillmentRow {
                order_id: order_id.clone(),
                id: fid.clone(),
                position: count(position),
                carrier: f.carrier.clone(),
                tracking_number: f.tracking_number.clone(),
                created_at: time(f.created_at),
            });
            for (position, l) in f.lines.iter().enumerate() {
                fulfillment_lines.push(FulfillmentLineRow {
                    order_id: order_id.clone(),
                    fulfillment_id: fid.clone(),
                    line_id: id(l.line_id.as_uuid()),
                    position: count(position),
                    quantity: i64::from(l.quantity.get()),
                });
            }
        }
        let mut returns = Vec::new();
        let mut return_lines = Vec::new();
        for (position, r) in s.returns.iter().enumerate() {
            let rid = id(r.id.as_uuid());
            returns.push(ReturnRow {
                order_id: order_id.clone(),
                id: rid.clone(),
                position: count(position),
                reason: r.reason.clone(),
                refund_amount: r.refund_amount.amount(),
                created_at: time(r.created_at),
            });
            for (position, l) in r.lines.iter().enumerate() {
                return_lines.push(ReturnLineRow {
                    order_id: order_id.clone(),
                    return_id: rid.clone(),
                    line_id: id(l.line_id.as_uuid()),
                    position: count(position),
                    quantity: i64::from(l.quantity.get()),
                    refund: l.refund.amount(),
                });
            }
        }
        Ok(Self {
            order: OrderRow {
                id: order_id,
                order_number: s.number.to_string(),
                customer_id: id(s.customer_id.as_uuid()),
                company_id: s.company_id.map(|c| id(c.as_uuid())),
                status: s.status.as_str().to_owned(),
                currency: s.currency.code().to_owned(),
                subtotal: s.subtotal.amount(),
                tax: s.tax.amount(),
                discount: s.discount.amount(),
                total: s.total.amount(),
                version: version_to_column(s.version)?,
                created_at: time(s.created_at),
                updated_at: time(s.updated_at),
                deleted_at: time_opt(s.deleted_at),
                confirmed_at: time_opt(s.confirmed_at),
                processing_started_at: time_opt(s.processing_started_at),
                fulfilled_at: time_opt(s.fulfilled_at),
                cancelled_at: time_opt(s.cancelled_at),
                cancellation_reason: s.cancellation_reason.clone(),
                prices_include_tax: s.tax_mode.prices_include_tax(),
                discounts: discounts_to_json(order.discounts()).to_string(),
            },
            lines,
            fulfillments,
            fulfillment_lines,
            returns,
            return_lines,
        })
    }

    /// The order these rows store, checked by [`Order::restore`]: rows the
    /// domain would refuse are reported as `Unexpected`, never served.
    pub fn into_order(self) -> Result<Order, RepositoryError> {
        let order_id = self.order.id.clone();
        let corrupt = |what: String| unexpected(format!("stored order {order_id}: {what}"));
        let row = self.order;
        let currency =
            Currency::from_code(row.currency.trim()).map_err(|e| corrupt(e.to_string()))?;
        let money = |amount| Money::new(amount, currency);
        let quantity = |n: i64| Quantity::new(n).map_err(|e| corrupt(e.to_string()));
        let lines = self
            .lines
            .into_iter()
            .map(|l| -> Result<LineSnapshot, RepositoryError> {
                Ok(LineSnapshot {
                    id: LineId::from_uuid(parse_id(&l.id)?),
                    product_id: ProductId::from_uuid(parse_id(&l.product_id)?),
                    quantity: l.quantity,
                    unit_price: money(l.unit_price),
                    subtotal: money(l.subtotal),
                    description: l.description,
                    sku: l.sku,
                    tax_rate: u32::try_from(l.tax_rate_millionths)
                        .ok()
                        .and_then(Percentage::from_millionths)
                        .map(TaxRate::new)
                        .ok_or_else(|| corrupt(format!("tax rate {}", l.tax_rate_millionths)))?,
                    tax_category: l.tax_category,
                    discount: money(l.discount),
                    tax: money(l.tax),
                    total: money(l.total),
                    created_at: parse_time(&l.created_at)?,
                    updated_at: parse_time(&l.updated_at)?,
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        let mut fulfillments = Vec::with_capacity(self.fulfillments.len());
        for f in self.fulfillments {
            fulfillments.push(FulfillmentSnapshot {
                id: FulfillmentId::from_uuid(parse_id(&f.id)?),
                lines: self
                    .fulfillment_lines
                    .iter()
                    .filter(|l| l.fulfillment_id == f.id)
                    .map(|l| {
                        Ok(LineQuantity {
                            line_id: LineId::from_uuid(parse_id(&l.line_id)?),
                            quantity: quantity(l.quantity)?,
                        })
                    })
                    .collect::<Result<_, RepositoryError>>()?,
                carrier: f.carrier,
                tracking_number: f.tracking_number,
                created_at: parse_time(&f.created_at)?,
            });
        }
        let mut returns = Vec::with_capacity(self.returns.len());
        for r in self.returns {
            returns.push(ReturnSnapshot {
                id: ReturnId::from_uuid(parse_id(&r.id)?),
                lines: self
                    .return_lines
                    .iter()
                    .filter(|l| l.return_id == r.id)
                    .map(|l| {
                        Ok(ReturnLine {
                            line_id: LineId::from_uuid(parse_id(&l.line_id)?),
                            quantity: quantity(l.quantity)?,
                            refund: money(l.refund),
                        })
                    })
                    .collect::<Result<_, RepositoryError>>()?,
                reason: r.reason,
                refund_amount: money(r.refund_amount),
                created_at: parse_time(&r.created_at)?,
            });
        }
        let discounts: Value =
            serde_json::from_str(&row.discounts).map_err(|e| corrupt(format!("discounts: {e}")))?;
        let snapshot = OrderSnapshot {
            id: OrderId::from_uuid(parse_id(&row.id)?),
            number: row
                .order_number
                .parse()
                .map_err(|e: order_domain::DomainError| corrupt(e.to_string()))?,
            customer_id: CustomerId::from_uuid(parse_id(&row.customer_id)?),
            company_id: row
                .company_id
                .as_deref()
                .map(parse_id)
                .transpose()?
                .map(CompanyId::from_uuid),
            status: row
                .status
                .parse::<OrderStatus>()
                .map_err(|e| corrupt(e.to_string()))?,
            currency,
            tax_mode: TaxMode::from_prices_include_tax(row.prices_include_tax),
            discounts: discounts_from_json(&discounts, currency)
                .map_err(|what| corrupt(format!("discounts: {what}")))?,
            fulfillments,
            returns,
            lines,
            subtotal: money(row.subtotal),
            tax: money(row.tax),
            discount: money(row.discount),
            total: money(row.total),
            version: u64::try_from(row.version)
                .map_err(|_| corrupt(format!("negative version {}", row.version)))?,
            created_at: parse_time(&row.created_at)?,
            updated_at: parse_time(&row.updated_at)?,
            deleted_at: parse_time_opt(row.deleted_at.as_deref())?,
            confirmed_at: parse_time_opt(row.confirmed_at.as_deref())?,
            processing_started_at: parse_time_opt(row.processing_started_at.as_deref())?,
            fulfilled_at: parse_time_opt(row.fulfilled_at.as_deref())?,
            cancelled_at: parse_time_opt(row.cancelled_at.as_deref())?,
            cancellation_reason: row.cancellation_reason,
        };
        Order::restore(snapshot).map_err(|e| unexpected(e.to_string()))
    }
}

/// The discounts as the `discounts` column's JSON array: the same elements
/// as PostgreSQL's `discounts` jsonb column (money in minor units,
/// percentages in millionths; nothing is a float).
fn discounts_to_json(discounts: &[Discount]) -> Value {
    Value::Array(
        discounts
            .iter()
            .map(|d| {
                let mut element = json!({
                    "id": d.id().as_uuid(),
                    "code": d.code(),
                    "description": d.description(),
                    "amount": d.amount().amount(),
                    "created_at": d.created_at(),
                });
                match d.value() {
                    DiscountValue::Fixed(m) => {
                        element["kind"] = json!("fixed");
                        element["fixed_amount"] = json!(m.amount());
                    }
                    DiscountValue::Percentage(p) => {
                        element["kind"] = json!("percentage");
                        element["percent_millionths"] = json!(p.millionths());
                    }
                }
                element
            })
            .collect(),
    )
}

#[derive(Debug, Deserialize)]
struct DiscountJson {
    id: uuid::Uuid,
    kind: String,
    #[serde(default)]
    fixed_amount: Option<i64>,
    #[serde(default)]
    percent_millionths: Option<u32>,
    code: Option<String>,
    description: Option<String>,
    amount: i64,
    created_at: DateTime<Utc>,
}

fn discounts_from_json(value: &Value, currency: Currency) -> Result<Vec<DiscountSnapshot>, String> {
    let elements: Vec<DiscountJson> =
        serde_json::from_value(value.clone()).map_err(|e| e.to_string())?;
    elements
        .into_iter()
        .map(|d| {
            let value = match (d.kind.as_str(), d.fixed_amount, d.percent_millionths) {
                ("fixed", Some(amount), None) => DiscountValue::Fixed(Money::new(amount, currency)),
                ("percentage", None, Some(millionths)) => DiscountValue::Percentage(
                    Percentage::from_millionths(millionths)
                        .ok_or_else(|| format!("discount {}: percentage out of range", d.id))?,
                ),
                _ => return Err(format!("discount {}: kind and value disagree", d.id)),
            };
            Ok(DiscountSnapshot {
                id: DiscountId::from_uuid(d.id),
                value,
                code: d.code,
                description: d.description,
                amount: Money::new(d.amount, currency),
                created_at: d.created_at,
            })
        })
        .collect()
}
