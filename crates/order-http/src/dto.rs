//! Request and response bodies, and their one conversion to/from domain values.

use chrono::{DateTime, SecondsFormat, Utc};
use order_app::{AddDiscount, AddLine, CreateOrder, DiscountAmount, Page, ReturnLines, ShipLines};
use order_app::{Customer, NewCustomer};
use order_domain::{
    CompanyId, Currency, CustomerId, Discount, DiscountValue, DomainError, Fulfillment, LineId,
    LineQuantity, LineTax, Money, Order, OrderLine, Percentage, ProductId, ProductSnapshot,
    Quantity, Return, TaxMode, TaxRate,
};
use serde::{Deserialize, Serialize, Serializer};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::error::ApiError;

mod checks;
mod edits;
pub use edits::{
    EditChangeDto, EditChangeRequest, EditDiffDto, EditDto, EditPreviewDto, EditStateDto,
    StageChangesRequest, TotalsDto,
};

// ----- requests -----

/// An integer field: JSON Schema's `integer` is any number without a
/// fraction, so `3.0` is 3 (as the document promises) and `1.5` is refused.
fn whole_number<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<i64, D::Error> {
    struct WholeNumber;
    impl serde::de::Visitor<'_> for WholeNumber {
        type Value = i64;
        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("an integer")
        }
        fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<i64, E> {
            Ok(v)
        }
        fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<i64, E> {
            i64::try_from(v)
                .map_err(|_| E::invalid_value(serde::de::Unexpected::Unsigned(v), &self))
        }
        fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<i64, E> {
            // i64::MIN as f64 is exact; anything in [MIN, 2^63) converts without loss.
            #[allow(clippy::cast_possible_truncation, clippy::cast_precision_loss)]
            let fits = v.fract() == 0.0 && v >= i64::MIN as f64 && v < -(i64::MIN as f64);
            if fits {
                #[allow(clippy::cast_possible_truncation)]
                Ok(v as i64)
            } else {
                Err(E::invalid_value(serde::de::Unexpected::Float(v), &self))
            }
        }
    }
    deserializer.deserialize_any(WholeNumber)
}

/// `POST /orders`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateOrderRequest {
    /// An existing customer.
    pub customer_id: Uuid,
    /// ISO 4217 code, e.g. `USD` (upper case; an unknown code is `422 unknown_currency`).
    #[schema(example = "USD", pattern = "^[A-Z]{3}$")]
    pub currency: String,
    /// Optional B2B company.
    #[serde(default)]
    pub company_id: Option<Uuid>,
    /// Whether unit prices include tax (EU retail: the tax is the part of
    /// the price it contains, `total = subtotal − discount`). Default `false`:
    /// prices exclude tax and tax is added, `total = subtotal − discount + tax`.
    #[serde(default)]
    #[schema(default = false)]
    pub prices_include_tax: bool,
}

impl CreateOrderRequest {
    /// Converts to the use-case input, validating the currency.
    ///
    /// # Errors
    /// `unknown_currency` (422).
    pub fn try_into_domain(self) -> Result<CreateOrder, ApiError> {
        Ok(CreateOrder {
            customer_id: CustomerId::from_uuid(self.customer_id),
            company_id: self.company_id.map(CompanyId::from_uuid),
            currency: Currency::from_code(&self.currency).map_err(order_app::AppError::from)?,
            // The handler sets who creates it (`X-Actor`).
            actor: order_domain::Actor::anonymous(),
            tax_mode: TaxMode::from_prices_include_tax(self.prices_include_tax),
        })
    }
}

/// Units of one line, in a shipment or return request.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LineQuantityRequest {
    /// A line of the order.
    pub line_id: Uuid,
    /// Units, 1..=1,000,000 (at most the line's unshipped units for a
    /// shipment, its shipped and not yet returned units for a return).
    #[schema(example = 1, minimum = 1, maximum = 1000000)]
    pub quantity: i64,
}

fn line_quantities(lines: Vec<LineQuantityRequest>) -> Result<Vec<LineQuantity>, ApiError> {
    lines
        .into_iter()
        .map(|l| {
            Ok(LineQuantity {
                line_id: LineId::from_uuid(l.line_id),
                quantity: Quantity::new(l.quantity).map_err(order_app::AppError::from)?,
            })
        })
        .collect()
}

/// `POST /orders/{id}/fulfillments`: ship part (or all) of a processing order.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ShipRequest {
    /// Lines and units to ship, each line at most once (1 to 500 entries).
    #[schema(min_items = 1, max_items = 500)]
    pub lines: Vec<LineQuantityRequest>,
    /// Carrier: at most 100 characters, no control characters.
    #[serde(default)]
    #[schema(max_length = 100, example = "DHL")]
    pub carrier: Option<String>,
    /// Tracking number: at most 200 characters, no control characters.
    #[serde(default)]
    #[schema(max_length = 200, example = "JD014600006281234567")]
    pub tracking_number: Option<String>,
}

impl ShipRequest {
    /// Converts to the use-case input.
    ///
    /// # Errors
    /// `no_lines_given`, `too_many_records`, `invalid_quantity`,
    /// `invalid_text` (422), before any precondition on the order.
    pub fn try_into_domain(self) -> Result<ShipLines, ApiError> {
        checks::items("lines", self.lines.len(), Order::MAX_LINES)?;
        checks::text(
            "carrier",
            self.carrier.as_deref(),
            Fulfillment::MAX_CARRIER_CHARS,
        )?;
        checks::text(
            "tracking_number",
            self.tracking_number.as_deref(),
            Fulfillment::MAX_TRACKING_CHARS,
        )?;
        Ok(ShipLines {
            lines: line_quantities(self.lines)?,
            carrier: self.carrier,
            tracking_number: self.tracking_number,
        })
    }
}

/// `POST /orders/{id}/returns`: shipped units come back.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReturnRequest {
    /// Lines and units returned, each line at most once (1 to 500 entries).
    #[schema(min_items = 1, max_items = 500)]
    pub lines: Vec<LineQuantityRequest>,
    /// Why: required, 1 to 500 characters, no control characters.
    #[schema(min_length = 1, max_length = 500, example = "damaged in transit")]
    pub reason: String,
}

impl ReturnRequest {
    /// Converts to the use-case input.
    ///
    /// # Errors
    /// `no_lines_given`, `too_many_records`, `invalid_quantity` or
    /// `invalid_text` for the reason (422), before any precondition on the
    /// order is evaluated.
    pub fn try_into_domain(self) -> Result<ReturnLines, ApiError> {
        checks::items("lines", self.lines.len(), Order::MAX_LINES)?;
        checks::text(
            "reason",
            Some(&self.reason),
            order_domain::Return::MAX_REASON_CHARS,
        )?;
        order_domain::Return::check_reason(&self.reason).map_err(order_app::AppError::from)?;
        Ok(ReturnLines {
            lines: line_quantities(self.lines)?,
            reason: self.reason,
        })
    }
}

/// `POST /orders/{id}/lines`. `unit_price` is in minor units of `currency`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AddLineRequest {
    /// The product.
    pub product_id: Uuid,
    /// Units, 1..=1,000,000.
    #[schema(example = 3, minimum = 1, maximum = 1000000)]
    #[serde(deserialize_with = "whole_number")]
    pub quantity: i64,
    /// Minor units (cents), 0..=10^15.
    #[schema(example = 10000, minimum = 0, maximum = 1_000_000_000_000_000i64)]
    #[serde(deserialize_with = "whole_number")]
    pub unit_price: i64,
    /// Must be the order's currency.
    #[schema(example = "USD", pattern = "^[A-Z]{3}$")]
    pub currency: String,
    /// Product description snapshot: at most 500 characters, no control characters
    /// (surrounding blanks are trimmed; a blank one is stored as `null`).
    #[serde(default)]
    #[schema(max_length = 500, pattern = r"^[^\u0000-\u001F\u007F-\u009F]*$")]
    pub description: Option<String>,
    /// Product SKU snapshot: at most 64 characters, no control characters.
    #[serde(default)]
    #[schema(max_length = 64, pattern = r"^[^\u0000-\u001F\u007F-\u009F]*$")]
    pub sku: Option<String>,
    /// Tax rate in percent, a decimal string from `"0"` to `"100"` with at
    /// most 4 fraction digits (`"19"`, `"7.5"`); absent means untaxed. Tax is
    /// computed on the line's discounted amount and rounded half-even to the
    /// currency's minor unit (`422 invalid_tax_rate` otherwise).
    #[serde(default)]
    #[schema(example = "19", pattern = r"^[0-9]{1,3}(\.[0-9]{1,4})?$")]
    pub tax_rate: Option<String>,
    /// Tax category label (`"standard"`, `"reduced"`, ...): at most 64
    /// characters, no control characters.
    #[serde(default)]
    #[schema(max_length = 64, pattern = r"^[^\u0000-\u001F\u007F-\u009F]*$")]
    pub tax_category: Option<String>,
}

impl AddLineRequest {
    /// Converts to the use-case input, validating each value with the domain's rules.
    ///
    /// # Errors
    /// `invalid_quantity`, `invalid_price`, `unknown_currency`,
    /// `invalid_text`, `invalid_tax_rate` (422), before any precondition on
    /// the order.
    pub fn try_into_domain(self) -> Result<AddLine, ApiError> {
        let domain = |e: DomainError| ApiError::App(e.into());
        let currency = Currency::from_code(&self.currency).map_err(domain)?;
        checks::unit_price(self.unit_price)?;
        checks::text(
            "description",
            self.description.as_deref(),
            ProductSnapshot::MAX_DESCRIPTION_CHARS,
        )?;
        checks::text("sku", self.sku.as_deref(), ProductSnapshot::MAX_SKU_CHARS)?;
        checks::text(
            "tax_category",
            self.tax_category.as_deref(),
            LineTax::MAX_CATEGORY_CHARS,
        )?;
        let rate = match self.tax_rate.as_deref() {
            Some(text) => {
                checks::percent_syntax(text).map_err(|reason| {
                    domain(DomainError::InvalidTaxRate {
                        input: text.to_owned(),
                        reason,
                    })
                })?;
                TaxRate::parse(text).map_err(domain)?
            }
            None => TaxRate::ZERO,
        };
        Ok(AddLine {
            product_id: ProductId::from_uuid(self.product_id),
            quantity: Quantity::new(self.quantity).map_err(domain)?,
            unit_price: Money::new(self.unit_price, currency),
            snapshot: ProductSnapshot::new(self.description, self.sku).map_err(domain)?,
            tax: LineTax::new(rate, self.tax_category).map_err(domain)?,
        })
    }
}

/// `POST /orders/{id}/discounts`: a fixed amount or a percentage, applied
/// after the discounts already on the order.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum AddDiscountRequest {
    /// A fixed amount in minor units of the order's currency, more than zero
    /// and at most what earlier discounts left (`422 discount_exceeds_amount`).
    Fixed {
        /// Minor units (cents), more than zero.
        #[schema(example = 100, minimum = 1)]
        amount: i64,
        /// A voucher or promotion code, unique on the order
        /// (case-insensitively; `409 discount_code_already_applied`).
        #[serde(default)]
        #[schema(max_length = 64, pattern = r"^[^\u0000-\u001F\u007F-\u009F]*$")]
        code: Option<String>,
        /// Free text shown with the discount.
        #[serde(default)]
        #[schema(max_length = 500, pattern = r"^[^\u0000-\u001F\u007F-\u009F]*$")]
        description: Option<String>,
    },
    /// A percentage of what earlier discounts left, rounded half-even to the
    /// minor unit.
    Percentage {
        /// Percent, a decimal string more than `"0"` and at most `"100"`, at
        /// most 4 fraction digits.
        #[schema(example = "10", pattern = r"^[0-9]{1,3}(\.[0-9]{1,4})?$")]
        percent: String,
        /// A voucher or promotion code, unique on the order.
        #[serde(default)]
        #[schema(max_length = 64, pattern = r"^[^\u0000-\u001F\u007F-\u009F]*$")]
        code: Option<String>,
        /// Free text shown with the discount.
        #[serde(default)]
        #[schema(max_length = 500, pattern = r"^[^\u0000-\u001F\u007F-\u009F]*$")]
        description: Option<String>,
    },
}

impl AddDiscountRequest {
    /// Converts to the use-case input (a fixed amount is in the order's
    /// currency, which the use case applies).
    ///
    /// # Errors
    /// `invalid_discount` (422) for an amount under 1 or a percentage that
    /// is not one, `invalid_text` for a code or description the document
    /// forbids; before any precondition on the order.
    pub fn try_into_domain(self) -> Result<AddDiscount, ApiError> {
        let invalid = |reason: String| ApiError::App(DomainError::InvalidDiscount(reason).into());
        let (Self::Fixed {
            code, description, ..
        }
        | Self::Percentage {
            code, description, ..
        }) = &self;
        checks::text("code", code.as_deref(), Discount::MAX_CODE_CHARS)?;
        checks::text(
            "description",
            description.as_deref(),
            Discount::MAX_DESCRIPTION_CHARS,
        )?;
        Ok(match self {
            Self::Fixed {
                amount,
                code,
                description,
            } => {
                Discount::check_fixed_amount(amount).map_err(|e| ApiError::App(e.into()))?;
                AddDiscount {
                    amount: DiscountAmount::Fixed(amount),
                    code,
                    description,
                }
            }
            Self::Percentage {
                percent,
                code,
                description,
            } => AddDiscount {
                amount: DiscountAmount::Percentage(
                    checks::percent_syntax(&percent)
                        .and_then(|()| Percentage::parse(&percent))
                        .map_err(|reason| invalid(format!("percent {reason}")))?,
                ),
                code,
                description,
            },
        })
    }
}

/// `PUT /orders/{id}/lines/{line_id}`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateLineRequest {
    /// New number of units, 1..=1,000,000.
    #[schema(example = 2, minimum = 1, maximum = 1000000)]
    #[serde(deserialize_with = "whole_number")]
    pub quantity: i64,
}

/// `POST /orders/{id}/cancel` (the body is optional).
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CancelRequest {
    /// Why the order is cancelled: at most 500 characters, no control characters.
    #[serde(default)]
    #[schema(max_length = 500, pattern = r"^[^\u0000-\u001F\u007F-\u009F]*$")]
    pub reason: Option<String>,
}

impl CancelRequest {
    /// The reason, checked against the document.
    ///
    /// # Errors
    /// `invalid_text` (422), before any precondition on the order.
    pub fn try_into_domain(self) -> Result<Option<String>, ApiError> {
        checks::text("reason", self.reason.as_deref(), Order::MAX_REASON_CHARS)?;
        Ok(self.reason)
    }
}

/// `POST /customers`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateCustomerRequest {
    /// Display name: 1-200 characters, not blank, no control characters.
    #[schema(
        example = "John Doe",
        min_length = 1,
        max_length = 200,
        pattern = r"^[^\u0000-\u001F\u007F-\u009F]*[^\s\u0000-\u001F\u007F-\u009F][^\u0000-\u001F\u007F-\u009F]*$"
    )]
    pub name: String,
    /// Contact email, unique among customers (`409 conflict` otherwise).
    #[schema(example = "john@example.com", format = Email, max_length = 254)]
    pub email: String,
    /// Acquisition channel, e.g. `web`: at most 50 characters, no control characters.
    #[serde(default)]
    #[schema(
        example = "web",
        max_length = 50,
        pattern = r"^[^\u0000-\u001F\u007F-\u009F]*$"
    )]
    pub source: Option<String>,
}

impl CreateCustomerRequest {
    /// Converts to the use-case input. The use case validates the values
    /// (after trimming); here only the document's `maxLength`s, counted on
    /// what was sent, so that padding cannot make an over-long value fit.
    ///
    /// # Errors
    /// `validation_failed` naming the field (422).
    pub fn try_into_domain(self) -> Result<NewCustomer, ApiError> {
        for (field, value, max) in [
            ("name", Some(&self.name), Customer::MAX_NAME_CHARS),
            ("email", Some(&self.email), order_app::Email::MAX_LEN),
            ("source", self.source.as_ref(), Customer::MAX_SOURCE_CHARS),
        ] {
            if value.is_some_and(|v| v.chars().count() > max) {
                return Err(order_app::AppError::validation(
                    field,
                    format!("must be at most {max} characters"),
                )
                .into());
            }
        }
        Ok(NewCustomer {
            name: self.name,
            email: self.email,
            source: self.source,
        })
    }
}

/// An order status, as used in `/orders/status/{status}` and in order bodies.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum StatusParam {
    /// Created; lines may be edited.
    Pending,
    /// Accepted; lines are frozen.
    Confirmed,
    /// Being prepared.
    Processing,
    /// Delivered.
    Fulfilled,
    /// Abandoned.
    Cancelled,
}

// ----- responses -----

/// `{"data": ...}`: every successful body.
#[derive(Debug, Serialize, ToSchema)]
pub struct Envelope<T> {
    /// The resource.
    pub data: T,
}

/// A page of resources with its paging information.
#[derive(Debug, Serialize, ToSchema)]
pub struct ListEnvelope<T> {
    /// The items of the page.
    pub data: Vec<T>,
    /// Where the page sits in the whole result.
    pub pagination: Pagination,
}

/// Paging information of a list.
#[derive(Debug, Serialize, ToSchema)]
pub struct Pagination {
    /// 1-based page number; `null` for a page read with `after`.
    pub page: Option<u32>,
    /// Items per page.
    pub page_size: u32,
    /// Items in the whole list. Exact on the last page of a numbered list; on
    /// other pages the planner's estimate, unless `include_total=true` asked
    /// for a count (exact up to 10,000, estimated beyond). See `total_items_exact`.
    pub total_items: u64,
    /// Whether `total_items` was counted (`false`: a planner estimate).
    pub total_items_exact: bool,
    /// Number of pages of `page_size` in `total_items`.
    pub total_pages: u64,
    /// Pass as `after` to read the next page (any depth at the same cost); `null` on the last page.
    pub next_cursor: Option<String>,
}

impl<T> ListEnvelope<T> {
    /// Converts a page of domain values.
    pub fn from_page<D>(page: Page<D>, f: impl FnMut(D) -> T) -> Self {
        let pagination = Pagination {
            page: page.request.cursor().is_none().then(|| page.request.page()),
            page_size: page.request.page_size(),
            total_items: page.total_items,
            total_items_exact: page.total_exact,
            total_pages: page.total_pages(),
            next_cursor: page.next_cursor.as_ref().map(crate::cursor::encode),
        };
        Self {
            data: page.items.into_iter().map(f).collect(),
            pagination,
        }
    }
}

/// An amount: integer minor units, currency, and the exact decimal text.
#[derive(Debug, Serialize, ToSchema)]
pub struct MoneyDto {
    /// Minor units (cents).
    pub amount: i64,
    /// ISO 4217 code.
    #[schema(value_type = String, example = "USD")]
    pub currency: &'static str,
    /// Exact decimal in major units, e.g. `"450.00"`.
    pub formatted: String,
}

impl From<Money> for MoneyDto {
    fn from(m: Money) -> Self {
        Self {
            amount: m.amount(),
            currency: m.currency().code(),
            formatted: m.to_decimal_string(),
        }
    }
}

fn rfc3339<S: Serializer>(t: &DateTime<Utc>, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&t.to_rfc3339_opts(SecondsFormat::Micros, true))
}

#[allow(clippy::ref_option)] // serde's `serialize_with` hands us `&Option<_>`
fn rfc3339_opt<S: Serializer>(t: &Option<DateTime<Utc>>, s: S) -> Result<S::Ok, S::Error> {
    match t {
        Some(t) => rfc3339(t, s),
        None => s.serialize_none(),
    }
}

/// An order line.
#[derive(Debug, Serialize, ToSchema)]
pub struct LineDto {
    /// Line id.
    pub id: Uuid,
    /// Product id.
    pub product_id: Uuid,
    /// Units.
    pub quantity: u32,
    /// Price of one unit.
    pub unit_price: MoneyDto,
    /// `quantity × unit_price`, the line's gross amount.
    pub subtotal: MoneyDto,
    /// Tax rate in percent (`"19"`, `"7.5"`; `"0"` when untaxed).
    #[schema(example = "19")]
    pub tax_rate: String,
    /// Tax category label, if any.
    pub tax_category: Option<String>,
    /// The line's share of the order's discounts (largest-remainder allocation).
    pub discount: MoneyDto,
    /// Tax on the discounted amount, rounded half-even to the minor unit
    /// (contained in it when the order's prices include tax).
    pub tax: MoneyDto,
    /// What the customer pays for the line: `subtotal − discount + tax`, or
    /// `subtotal − discount` when prices include tax.
    pub total: MoneyDto,
    /// Description snapshot.
    pub description: Option<String>,
    /// SKU snapshot.
    pub sku: Option<String>,
    /// Units shipped so far (at most `quantity`).
    pub shipped_quantity: u32,
    /// Units returned so far (at most `shipped_quantity`).
    pub returned_quantity: u32,
    /// When the line was added.
    #[serde(serialize_with = "rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: DateTime<Utc>,
    /// When the line last changed.
    #[serde(serialize_with = "rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: DateTime<Utc>,
}

impl LineDto {
    /// A line of `order`, with what has shipped and come back of it.
    fn of(order: &Order, l: &OrderLine) -> Self {
        let progress = order.progress(l.id());
        Self {
            id: l.id().as_uuid(),
            product_id: l.product_id().as_uuid(),
            quantity: l.quantity().get(),
            unit_price: l.unit_price().into(),
            subtotal: l.subtotal().into(),
            tax_rate: l.tax_rate().to_string(),
            tax_category: l.line_tax().category().map(str::to_owned),
            discount: l.discount().into(),
            tax: l.tax().into(),
            total: l.total().into(),
            description: l.description().map(str::to_owned),
            sku: l.sku().map(str::to_owned),
            shipped_quantity: progress.map_or(0, |p| p.shipped),
            returned_quantity: progress.map_or(0, |p| p.returned),
            created_at: l.created_at(),
            updated_at: l.updated_at(),
        }
    }
}

/// Most lines an order carries in a list (`GET /orders`, by customer, by
/// status): a page of 100 orders of 500 lines each would otherwise be one
/// unbounded body. A list shows an order's first lines and its
/// [`OrderDto::line_count`]; `GET /orders/{id}` shows them all.
pub const LIST_LINES_PER_ORDER: usize = 10;

/// An order as API clients see it.
#[derive(Debug, Serialize, ToSchema)]
pub struct OrderDto {
    /// Order id (UUID v7).
    pub id: Uuid,
    /// `ORD-YYYY-NNNNNN`.
    pub order_number: String,
    /// The ordering customer.
    pub customer_id: Uuid,
    /// The B2B company, if any.
    pub company_id: Option<Uuid>,
    /// `pending`, `confirmed`, `processing`, `fulfilled` or `cancelled`.
    #[schema(value_type = StatusParam)]
    pub status: &'static str,
    /// ISO 4217 code.
    #[schema(value_type = String, example = "USD")]
    pub currency: &'static str,
    /// Rises by one with every change; also sent as the `ETag`.
    pub version: u64,
    /// Whether unit prices include tax (`false`: tax is added).
    pub prices_include_tax: bool,
    /// Lines in the order they were added; in a list only the first 10
    /// (`line_count` says how many there are; read the order for all).
    pub lines: Vec<LineDto>,
    /// How many lines the order has (also when a list shows fewer).
    pub line_count: usize,
    /// Discounts in the order they apply (the order they were added).
    pub discounts: Vec<DiscountDto>,
    /// Sum of line subtotals.
    pub subtotal: MoneyDto,
    /// Sum of the lines' tax.
    pub tax: MoneyDto,
    /// Sum of the discounts (= sum of the lines' discount shares).
    pub discount: MoneyDto,
    /// Sum of the lines' totals: `subtotal − discount + tax`, or
    /// `subtotal − discount` when prices include tax.
    pub total: MoneyDto,
    /// Lines may still be changed.
    pub is_editable: bool,
    /// The order may still be cancelled.
    pub is_cancellable: bool,
    /// Why it was cancelled.
    pub cancellation_reason: Option<String>,
    /// How much has shipped: `unfulfilled`, `partially_fulfilled` or `fulfilled`.
    #[schema(value_type = String, example = "partially_fulfilled")]
    pub fulfillment_status: &'static str,
    /// How much came back: `none`, `partially_returned` or `returned`.
    #[schema(value_type = String, example = "none")]
    pub return_status: &'static str,
    /// Units returned over all lines.
    pub returned_units: u64,
    /// What all returns refund together (Billing moves the money).
    pub refunded_total: MoneyDto,
    /// Creation time.
    #[serde(serialize_with = "rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: DateTime<Utc>,
    /// Last change.
    #[serde(serialize_with = "rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: DateTime<Utc>,
    /// Confirmation time.
    #[serde(serialize_with = "rfc3339_opt")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub confirmed_at: Option<DateTime<Utc>>,
    /// Processing start time.
    #[serde(serialize_with = "rfc3339_opt")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub processing_started_at: Option<DateTime<Utc>>,
    /// Fulfilment time.
    #[serde(serialize_with = "rfc3339_opt")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub fulfilled_at: Option<DateTime<Utc>>,
    /// Cancellation time.
    #[serde(serialize_with = "rfc3339_opt")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub cancelled_at: Option<DateTime<Utc>>,
}

impl From<&Order> for OrderDto {
    fn from(o: &Order) -> Self {
        Self::with_lines(o, usize::MAX)
    }
}

impl OrderDto {
    /// The order as a list shows it: at most [`LIST_LINES_PER_ORDER`] lines.
    #[must_use]
    pub fn listed(o: &Order) -> Self {
        Self::with_lines(o, LIST_LINES_PER_ORDER)
    }

    fn with_lines(o: &Order, max_lines: usize) -> Self {
        Self {
            id: o.id().as_uuid(),
            order_number: o.number().to_string(),
            customer_id: o.customer_id().as_uuid(),
            company_id: o.company_id().map(|c| c.as_uuid()),
            status: o.status().as_str(),
            currency: o.currency().code(),
            version: o.version(),
            prices_include_tax: o.tax_mode().prices_include_tax(),
            lines: o
                .lines()
                .iter()
                .take(max_lines)
                .map(|l| LineDto::of(o, l))
                .collect(),
            line_count: o.lines().len(),
            discounts: o.discounts().iter().map(DiscountDto::from).collect(),
            subtotal: o.subtotal().into(),
            tax: o.tax().into(),
            discount: o.discount().into(),
            total: o.total().into(),
            is_editable: o.is_editable(),
            is_cancellable: o.is_cancellable(),
            cancellation_reason: o.cancellation_reason().map(str::to_owned),
            fulfillment_status: o.fulfillment_status().as_str(),
            return_status: o.return_status().as_str(),
            returned_units: o.returned_units(),
            refunded_total: o.refunded_total().into(),
            created_at: o.created_at(),
            updated_at: o.updated_at(),
            confirmed_at: o.confirmed_at(),
            processing_started_at: o.processing_started_at(),
            fulfilled_at: o.fulfilled_at(),
            cancelled_at: o.cancelled_at(),
        }
    }
}

/// A discount on an order.
#[derive(Debug, Serialize, ToSchema)]
pub struct DiscountDto {
    /// Discount id (UUID v7).
    pub id: Uuid,
    /// `fixed` or `percentage`.
    #[schema(value_type = String, example = "percentage")]
    pub kind: &'static str,
    /// The fixed amount (`fixed` only).
    pub amount: Option<MoneyDto>,
    /// The percentage (`percentage` only), e.g. `"10"`.
    pub percent: Option<String>,
    /// The code, if any.
    pub code: Option<String>,
    /// The description, if any.
    pub description: Option<String>,
    /// What it takes off the order, given the discounts before it.
    pub applied: MoneyDto,
    /// When it was added.
    #[serde(serialize_with = "rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: DateTime<Utc>,
}

impl From<&Discount> for DiscountDto {
    fn from(d: &Discount) -> Self {
        let (kind, amount, percent) = match d.value() {
            DiscountValue::Fixed(m) => ("fixed", Some(m.into()), None),
            DiscountValue::Percentage(p) => ("percentage", None, Some(p.to_string())),
        };
        Self {
            id: d.id().as_uuid(),
            kind,
            amount,
            percent,
            code: d.code().map(str::to_owned),
            description: d.description().map(str::to_owned),
            applied: d.amount().into(),
            created_at: d.created_at(),
        }
    }
}

/// A customer.
#[derive(Debug, Serialize, ToSchema)]
pub struct CustomerDto {
    /// Customer id (UUID v7).
    pub id: Uuid,
    /// Display name.
    pub name: String,
    /// Contact email.
    pub email: String,
    /// Acquisition channel.
    pub source: Option<String>,
    /// Registration time.
    #[serde(serialize_with = "rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: DateTime<Utc>,
}

impl From<&Customer> for CustomerDto {
    fn from(c: &Customer) -> Self {
        Self {
            id: c.id().as_uuid(),
            name: c.name().to_owned(),
            email: c.email().to_string(),
            source: c.source().map(str::to_owned),
            created_at: c.created_at(),
        }
    }
}

/// One page of an order's history (`GET /orders/{id}/events`).
#[derive(Debug, Serialize, ToSchema)]
pub struct EventsPage {
    /// The event envelopes, in sequence order, exactly as published to
    /// `orders.<event>`: `id`, `type`, `order_id`, `order_number`,
    /// `customer_id`, `sequence`, `occurred_at`, `actor` (`id`, `name`),
    /// `reason`, and `data` with the before/after of what the change changed.
    /// One JSON Schema per type: `docs/events/<type>.schema.json`.
    #[schema(value_type = Vec<Object>)]
    pub data: Vec<serde_json::Value>,
    /// Pass as `after` to read on; `null` on the last page.
    pub next_after: Option<u64>,
}

/// Units of one line.
#[derive(Debug, Serialize, ToSchema)]
pub struct LineQuantityDto {
    /// The order line.
    pub line_id: Uuid,
    /// Units.
    pub quantity: u32,
}

/// One shipment of an order.
#[derive(Debug, Serialize, ToSchema)]
pub struct FulfillmentDto {
    /// Fulfilment id.
    pub id: Uuid,
    /// The order.
    pub order_id: Uuid,
    /// Lines and units shipped.
    pub lines: Vec<LineQuantityDto>,
    /// Carrier, if given.
    pub carrier: Option<String>,
    /// Tracking number, if given.
    pub tracking_number: Option<String>,
    /// When it shipped.
    #[serde(serialize_with = "rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: DateTime<Utc>,
}

impl FulfillmentDto {
    /// A shipment of `order`.
    #[must_use]
    pub fn of(order: &Order, f: &Fulfillment) -> Self {
        Self {
            id: f.id().as_uuid(),
            order_id: order.id().as_uuid(),
            lines: f
                .lines()
                .iter()
                .map(|l| LineQuantityDto {
                    line_id: l.line_id.as_uuid(),
                    quantity: l.quantity.get(),
                })
                .collect(),
            carrier: f.carrier().map(str::to_owned),
            tracking_number: f.tracking_number().map(str::to_owned),
            created_at: f.created_at(),
        }
    }
}

/// One line of a return and its refund.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReturnLineDto {
    /// The order line.
    pub line_id: Uuid,
    /// Units returned.
    pub quantity: u32,
    /// What is refunded for them, from the line's net amount (discount share
    /// and tax included); all of a line's refunds add up to exactly what was
    /// paid for it once every unit is back.
    pub refund: MoneyDto,
}

/// A return of shipped units.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReturnDto {
    /// Return id.
    pub id: Uuid,
    /// The order.
    pub order_id: Uuid,
    /// Lines, units and refunds.
    pub lines: Vec<ReturnLineDto>,
    /// Why.
    pub reason: String,
    /// The sum of the lines' refunds: what Billing refunds.
    pub refund_amount: MoneyDto,
    /// When it was recorded.
    #[serde(serialize_with = "rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: DateTime<Utc>,
}

impl ReturnDto {
    /// A return of `order`.
    #[must_use]
    pub fn of(order: &Order, r: &Return) -> Self {
        Self {
            id: r.id().as_uuid(),
            order_id: order.id().as_uuid(),
            lines: r
                .lines()
                .iter()
                .map(|l| ReturnLineDto {
                    line_id: l.line_id.as_uuid(),
                    quantity: l.quantity.get(),
                    refund: l.refund.into(),
                })
                .collect(),
            reason: r.reason().to_owned(),
            refund_amount: r.refund_amount().into(),
            created_at: r.created_at(),
        }
    }
}
