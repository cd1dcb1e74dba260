//! Rows of `order_mgmt_orders` and `order_mgmt_order_lines`, and the single
//! mapping between them and the domain's [`Order`].
//!
//! Reading goes through [`Order::restore`], so a row the domain would not
//! accept (totals that do not add up, an unknown status, ...) is reported as
//! `Unexpected` instead of becoming an order that breaks its own rules.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use order_app::RepositoryError;
use order_domain::{
    CompanyId, Currency, CustomerId, LineId, LineSnapshot, Money, Order, OrderId, OrderLine,
    OrderSnapshot, OrderStatus, Percentage, ProductId, TaxMode, TaxRate,
};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use uuid::Uuid;

use super::discounts::{discounts_from_json, discounts_to_json};

use crate::error::unexpected;
use crate::schema::{order_mgmt_order_lines, order_mgmt_orders};

/// An order row as stored (and, as JSON, inside an idempotency outcome).
#[derive(Debug, Clone, Queryable, Selectable, Deserialize)]
#[diesel(table_name = order_mgmt_orders, check_for_backend(diesel::pg::Pg))]
pub(crate) struct OrderRow {
    pub id: Uuid,
    pub order_number: String,
    pub customer_id: Uuid,
    pub company_id: Option<Uuid>,
    pub status: String,
    pub currency: String,
    pub subtotal: i64,
    pub tax: i64,
    pub discount: i64,
    pub total: i64,
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub deleted_at: Option<DateTime<Utc>>,
    pub confirmed_at: Option<DateTime<Utc>>,
    pub processing_started_at: Option<DateTime<Utc>>,
    pub fulfilled_at: Option<DateTime<Utc>>,
    pub cancelled_at: Option<DateTime<Utc>>,
    pub cancellation_reason: Option<String>,
    pub prices_include_tax: bool,
    pub discounts: Value,
}

/// An order row to insert, or to write over the stored one.
///
/// As a changeset it leaves out the primary key and the columns that never
/// change after creation (number, customer, company, currency, creation time),
/// and writes `NULL` for `None` (a cleared timestamp must be stored as cleared).
#[derive(Debug, Clone, Insertable, AsChangeset, Serialize)]
#[diesel(table_name = order_mgmt_orders, treat_none_as_null = true)]
pub(crate) struct NewOrderRow {
    pub id: Uuid,
    #[diesel(skip_update)]
    pub order_number: String,
    #[diesel(skip_update)]
    pub customer_id: Uuid,
    #[diesel(skip_update)]
    pub company_id: Option<Uuid>,
    pub status: &'static str,
    #[diesel(skip_update)]
    pub currency: &'static str,
    pub subtotal: i64,
    pub tax: i64,
    pub discount: i64,
    pub total: i64,
    pub version: i64,
    #[diesel(skip_update)]
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub deleted_at: Option<DateTime<Utc>>,
    pub confirmed_at: Option<DateTime<Utc>>,
    pub processing_started_at: Option<DateTime<Utc>>,
    pub fulfilled_at: Option<DateTime<Utc>>,
    pub cancelled_at: Option<DateTime<Utc>>,
    pub cancellation_reason: Option<String>,
    #[diesel(skip_update)]
    pub prices_include_tax: bool,
    pub discounts: Value,
}

/// A line row as stored (and, as JSON, inside an idempotency outcome).
#[derive(Debug, Clone, Queryable, Selectable, Deserialize)]
#[diesel(table_name = order_mgmt_order_lines, check_for_backend(diesel::pg::Pg))]
pub(crate) struct LineRow {
    pub id: Uuid,
    pub order_id: Uuid,
    pub product_id: Uuid,
    pub quantity: i32,
    pub unit_price: i64,
    pub subtotal: i64,
    pub description: Option<String>,
    pub sku: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub tax_rate_millionths: i32,
    pub tax_category: Option<String>,
    pub discount: i64,
    pub tax: i64,
    pub total: i64,
    /// Units shipped, kept by a trigger (never written by the service);
    /// absent from idempotency outcomes stored before it was read.
    #[serde(default)]
    pub shipped_quantity: i32,
}

/// A line row to insert or upsert.
#[derive(Debug, Clone, Insertable, Serialize)]
#[diesel(table_name = order_mgmt_order_lines)]
pub(crate) struct NewLineRow {
    pub id: Uuid,
    pub order_id: Uuid,
    pub product_id: Uuid,
    pub quantity: i32,
    pub unit_price: i64,
    pub subtotal: i64,
    pub description: Option<String>,
    pub sku: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub tax_rate_millionths: i32,
    pub tax_category: Option<String>,
    pub discount: i64,
    pub tax: i64,
    pub total: i64,
}

impl NewOrderRow {
    /// The order's row.
    pub fn from_order(order: &Order) -> Result<Self, RepositoryError> {
        Ok(Self {
            id: order.id().as_uuid(),
            order_number: order.number().to_string(),
            customer_id: order.customer_id().as_uuid(),
            company_id: order.company_id().map(|c| c.as_uuid()),
            status: order.status().as_str(),
            currency: order.currency().code(),
            subtotal: order.subtotal().amount(),
            tax: order.tax().amount(),
            discount: order.discount().amount(),
            total: order.total().amount(),
            version: version_to_column(order.version())?,
            created_at: order.created_at(),
            updated_at: order.updated_at(),
            deleted_at: order.deleted_at(),
            confirmed_at: order.confirmed_at(),
            processing_started_at: order.processing_started_at(),
            fulfilled_at: order.fulfilled_at(),
            cancelled_at: order.cancelled_at(),
            cancellation_reason: order.cancellation_reason().map(str::to_owned),
            prices_include_tax: order.tax_mode().prices_include_tax(),
            discounts: discounts_to_json(order.discounts()),
        })
    }
}

impl NewLineRow {
    /// The rows of every line of `order`.
    pub fn from_order(order: &Order) -> Result<Vec<Self>, RepositoryError> {
        let order_id = order.id().as_uuid();
        order
            .lines()
            .iter()
            .map(|line| Self::from_line(order_id, line))
            .collect()
    }

    fn from_line(order_id: Uuid, line: &OrderLine) -> Result<Self, RepositoryError> {
        Ok(Self {
            id: line.id().as_uuid(),
            order_id,
            product_id: line.product_id().as_uuid(),
            quantity: i32::try_from(line.quantity().get())
                .map_err(|_| unexpected(format!("line {}: quantity out of range", line.id())))?,
            unit_price: line.unit_price().amount(),
            subtotal: line.subtotal().amount(),
            description: line.description().map(str::to_owned),
            sku: line.sku().map(str::to_owned),
            created_at: line.created_at(),
            updated_at: line.updated_at(),
            tax_rate_millionths: i32::try_from(line.tax_rate().percentage().millionths())
                .map_err(|_| unexpected(format!("line {}: tax rate out of range", line.id())))?,
            tax_category: line.line_tax().category().map(str::to_owned),
            discount: line.discount().amount(),
            tax: line.tax().amount(),
            total: line.total().amount(),
        })
    }
}

/// The domain counts versions as `u64`, the column is `BIGINT`.
pub(crate) fn version_to_column(version: u64) -> Result<i64, RepositoryError> {
    i64::try_from(version).map_err(|_| unexpected(format!("version {version} exceeds BIGINT")))
}

/// Rebuilds an order from its row, its lines (in the order they were added)
/// and its shipments and returns (none for orders that cannot have any).
pub(crate) fn restore_order(
    row: OrderRow,
    lines: Vec<LineRow>,
    shipped: Option<super::shipments::OfOrder>,
) -> Result<Order, RepositoryError> {
    let (fulfillments, returns) =
        shipped.map_or_else(|| (Vec::new(), Vec::new()), |s| (s.fulfillments, s.returns));
    let id = row.id;
    let corrupt = |what: String| unexpected(format!("stored order {id}: {what}"));
    let currency = Currency::from_code(row.currency.trim()).map_err(|e| corrupt(e.to_string()))?;
    let money = |amount| Money::new(amount, currency);
    let snapshot = OrderSnapshot {
        id: OrderId::from_uuid(row.id),
        number: row
            .order_number
            .parse()
            .map_err(|e: order_domain::DomainError| corrupt(e.to_string()))?,
        customer_id: CustomerId::from_uuid(row.customer_id),
        company_id: row.company_id.map(CompanyId::from_uuid),
        status: row
            .status
            .parse::<OrderStatus>()
            .map_err(|e| corrupt(e.to_string()))?,
        currency,
        tax_mode: TaxMode::from_prices_include_tax(row.prices_include_tax),
        discounts: discounts_from_json(&row.discounts, currency)
            .map_err(|what| corrupt(format!("discounts: {what}")))?,
        fulfillments,
        returns,
        lines: lines
            .into_iter()
            .map(|line| -> Result<LineSnapshot, RepositoryError> {
                Ok(LineSnapshot {
                    id: LineId::from_uuid(line.id),
                    product_id: ProductId::from_uuid(line.product_id),
                    quantity: i64::from(line.quantity),
                    unit_price: money(line.unit_price),
                    subtotal: money(line.subtotal),
                    description: line.description,
                    sku: line.sku,
                    tax_rate: u32::try_from(line.tax_rate_millionths)
                        .ok()
                        .and_then(Percentage::from_millionths)
                        .map(TaxRate::new)
                        .ok_or_else(|| corrupt(format!("tax rate {}", line.tax_rate_millionths)))?,
                    tax_category: line.tax_category,
                    discount: money(line.discount),
                    tax: money(line.tax),
                    total: money(line.total),
                    created_at: line.created_at,
                    updated_at: line.updated_at,
                })
            })
            .collect::<Result<_, _>>()?,
        subtotal: money(row.subtotal),
        tax: money(row.tax),
        discount: money(row.discount),
        total: money(row.total),
        version: u64::try_from(row.version)
            .map_err(|_| corrupt(format!("negative version {}", row.version)))?,
        created_at: row.created_at,
        updated_at: row.updated_at,
        deleted_at: row.deleted_at,
        confirmed_at: row.confirmed_at,
        processing_started_at: row.processing_started_at,
        fulfilled_at: row.fulfilled_at,
        cancelled_at: row.cancelled_at,
        cancellation_reason: row.cancellation_reason,
    };
    Order::restore(snapshot).map_err(|e| unexpected(e.to_string()))
}
