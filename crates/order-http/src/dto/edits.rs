//! Bodies of the edit endpoints (`/orders/{id}/edits...`) and their one
//! conversion to/from the use cases' values.

use chrono::{DateTime, Utc};
use order_app::{EditView, StageChange};
use order_domain::{EditChange, EditDiff, EditPreview, LineId, OrderEdit, OrderTotals, Quantity};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::{rfc3339, whole_number, AddLineRequest, MoneyDto};
use crate::error::ApiError;

/// `POST /orders/{id}/edits/{edit_id}/changes`: changes to stage, applied in
/// order, all or none.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StageChangesRequest {
    /// 1 to 200 changes (an edit holds at most 200 in all: `422 too_many_records`).
    #[schema(min_items = 1, max_items = 200)]
    pub changes: Vec<EditChangeRequest>,
}

/// One change to stage.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum EditChangeRequest {
    /// A new line, as `POST /orders/{id}/lines` takes it; never merged into
    /// an existing line.
    AddLine {
        /// The product.
        product_id: Uuid,
        /// Units, 1..=1,000,000.
        #[schema(example = 1, minimum = 1, maximum = 1000000)]
        #[serde(deserialize_with = "whole_number")]
        quantity: i64,
        /// Minor units (cents), 0..=10^15.
        #[schema(example = 2500, minimum = 0, maximum = 1_000_000_000_000_000i64)]
        #[serde(deserialize_with = "whole_number")]
        unit_price: i64,
        /// Must be the order's currency.
        #[schema(example = "USD", pattern = "^[A-Z]{3}$")]
        currency: String,
        /// Product description snapshot: at most 500 characters, no control characters.
        #[serde(default)]
        #[schema(max_length = 500, pattern = r"^[^\u0000-\u001F\u007F-\u009F]*$")]
        description: Option<String>,
        /// Product SKU snapshot: at most 64 characters, no control characters.
        #[serde(default)]
        #[schema(max_length = 64, pattern = r"^[^\u0000-\u001F\u007F-\u009F]*$")]
        sku: Option<String>,
        /// Tax rate in percent, `"0"` to `"100"`, at most 4 fraction digits; absent: untaxed.
        #[serde(default)]
        #[schema(example = "19", pattern = r"^[0-9]{1,3}(\.[0-9]{1,4})?$")]
        tax_rate: Option<String>,
        /// Tax category label: at most 64 characters, no control characters.
        #[serde(default)]
        #[schema(max_length = 64, pattern = r"^[^\u0000-\u001F\u007F-\u009F]*$")]
        tax_category: Option<String>,
    },
    /// A line's new quantity (a line of the order or one this edit adds);
    /// never below what has shipped (`409 quantity_below_shipped`).
    SetQuantity {
        /// The line.
        line_id: Uuid,
        /// Units, 1..=1,000,000.
        #[schema(example = 1, minimum = 1, maximum = 1000000)]
        #[serde(deserialize_with = "whole_number")]
        quantity: i64,
    },
    /// Removes a line nothing of which has shipped.
    RemoveLine {
        /// The line.
        line_id: Uuid,
    },
}

impl StageChangesRequest {
    /// Converts to the use-case input, validating each value with the domain's rules.
    ///
    /// # Errors
    /// `no_lines_given`, `too_many_records`, `invalid_quantity`,
    /// `invalid_price`, `unknown_currency`, `invalid_text`,
    /// `invalid_tax_rate` (422), before any precondition on the order.
    pub fn try_into_domain(self) -> Result<Vec<StageChange>, ApiError> {
        super::checks::items("changes", self.changes.len(), OrderEdit::MAX_CHANGES)?;
        let quantity = |q: i64| Quantity::new(q).map_err(|e| ApiError::App(e.into()));
        self.changes
            .into_iter()
            .map(|change| {
                Ok(match change {
                    EditChangeRequest::AddLine {
                        product_id,
                        quantity,
                        unit_price,
                        currency,
                        description,
                        sku,
                        tax_rate,
                        tax_category,
                    } => StageChange::AddLine(
                        AddLineRequest {
                            product_id,
                            quantity,
                            unit_price,
                            currency,
                            description,
                            sku,
                            tax_rate,
                            tax_category,
                        }
                        .try_into_domain()?,
                    ),
                    EditChangeRequest::SetQuantity {
                        line_id,
                        quantity: q,
                    } => StageChange::SetQuantity {
                        line_id: LineId::from_uuid(line_id),
                        quantity: quantity(q)?,
                    },
                    EditChangeRequest::RemoveLine { line_id } => StageChange::RemoveLine {
                        line_id: LineId::from_uuid(line_id),
                    },
                })
            })
            .collect()
    }
}

/// A staged change, as the edit shows it.
#[derive(Debug, Serialize, ToSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum EditChangeDto {
    /// A line to add.
    AddLine {
        /// The id the line will have once committed.
        line_id: Uuid,
        /// The product.
        product_id: Uuid,
        /// Units.
        quantity: u32,
        /// Price of one unit.
        unit_price: MoneyDto,
        /// Tax rate in percent (`"0"` when untaxed).
        tax_rate: String,
        /// Tax category label, if any.
        tax_category: Option<String>,
        /// Description snapshot.
        description: Option<String>,
        /// SKU snapshot.
        sku: Option<String>,
    },
    /// A line's new quantity.
    SetQuantity {
        /// The line.
        line_id: Uuid,
        /// Units.
        quantity: u32,
    },
    /// A line to remove.
    RemoveLine {
        /// The line.
        line_id: Uuid,
    },
}

impl From<&EditChange> for EditChangeDto {
    fn from(change: &EditChange) -> Self {
        match change {
            EditChange::AddLine(new) => Self::AddLine {
                line_id: new.line_id.as_uuid(),
                product_id: new.product_id.as_uuid(),
                quantity: new.quantity.get(),
                unit_price: new.unit_price.into(),
                tax_rate: new.tax.rate().to_string(),
                tax_category: new.tax.category().map(str::to_owned),
                description: new.snapshot.description().map(str::to_owned),
                sku: new.snapshot.sku().map(str::to_owned),
            },
            EditChange::SetQuantity { line_id, quantity } => Self::SetQuantity {
                line_id: line_id.as_uuid(),
                quantity: quantity.get(),
            },
            EditChange::RemoveLine { line_id } => Self::RemoveLine {
                line_id: line_id.as_uuid(),
            },
        }
    }
}

/// An order's four amounts.
#[derive(Debug, Serialize, ToSchema)]
pub struct TotalsDto {
    /// Sum of the lines' `quantity × unit_price`.
    pub subtotal: MoneyDto,
    /// Sum of the discounts.
    pub discount: MoneyDto,
    /// Sum of the lines' tax.
    pub tax: MoneyDto,
    /// What the customer pays.
    pub total: MoneyDto,
}

impl From<OrderTotals> for TotalsDto {
    fn from(t: OrderTotals) -> Self {
        Self {
            subtotal: t.subtotal.into(),
            discount: t.discount.into(),
            tax: t.tax.into(),
            total: t.total.into(),
        }
    }
}

/// What an edit does to one line (the net effect of its changes).
#[derive(Debug, Serialize, ToSchema)]
#[serde(tag = "change", rename_all = "snake_case")]
pub enum EditDiffDto {
    /// A line is added.
    LineAdded {
        /// The new line.
        line_id: Uuid,
        /// Its product.
        product_id: Uuid,
        /// Units.
        quantity: u32,
        /// Unit price.
        unit_price: MoneyDto,
        /// `quantity × unit_price`.
        line_subtotal: MoneyDto,
    },
    /// A line's quantity changes.
    QuantityChanged {
        /// The line.
        line_id: Uuid,
        /// Units before.
        old_quantity: u32,
        /// Units after.
        new_quantity: u32,
    },
    /// A line is removed.
    LineRemoved {
        /// The line.
        line_id: Uuid,
        /// The units it had.
        quantity: u32,
    },
}

impl From<&EditDiff> for EditDiffDto {
    fn from(diff: &EditDiff) -> Self {
        match diff {
            EditDiff::LineAdded {
                line_id,
                product_id,
                quantity,
                unit_price,
                line_subtotal,
            } => Self::LineAdded {
                line_id: line_id.as_uuid(),
                product_id: product_id.as_uuid(),
                quantity: quantity.get(),
                unit_price: (*unit_price).into(),
                line_subtotal: (*line_subtotal).into(),
            },
            EditDiff::QuantityChanged {
                line_id,
                old_quantity,
                new_quantity,
            } => Self::QuantityChanged {
                line_id: line_id.as_uuid(),
                old_quantity: old_quantity.get(),
                new_quantity: new_quantity.get(),
            },
            EditDiff::LineRemoved { line_id, quantity } => Self::LineRemoved {
                line_id: line_id.as_uuid(),
                quantity: quantity.get(),
            },
        }
    }
}

/// What committing an edit would do (or did).
#[derive(Debug, Serialize, ToSchema)]
pub struct EditPreviewDto {
    /// Per line.
    pub diff: Vec<EditDiffDto>,
    /// The order's amounts now.
    pub before: TotalsDto,
    /// The order's amounts after the commit.
    pub after: TotalsDto,
    /// `after.total − before.total`: positive, the customer pays more;
    /// negative, that much is to be refunded.
    pub difference: MoneyDto,
}

impl From<&EditPreview> for EditPreviewDto {
    fn from(p: &EditPreview) -> Self {
        Self {
            diff: p.diff.iter().map(EditDiffDto::from).collect(),
            before: p.before.into(),
            after: p.after.into(),
            difference: p.difference.into(),
        }
    }
}

/// State of an edit.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum EditStateDto {
    /// Changes may be staged; it may be committed or discarded.
    Open,
    /// Applied to the order.
    Committed,
    /// Thrown away.
    Discarded,
}

/// An edit of a confirmed or processing order.
#[derive(Debug, Serialize, ToSchema)]
pub struct EditDto {
    /// Edit id.
    pub id: Uuid,
    /// The order it edits.
    pub order_id: Uuid,
    /// The order version (`ETag`) it was begun against: it commits only onto
    /// that version (`412 edit_stale` otherwise).
    pub base_version: u64,
    /// `open`, `committed` or `discarded`.
    pub state: EditStateDto,
    /// The edit's own version: 1 when begun, +1 per staged change (a request
    /// staging two adds 2) and per state change.
    pub version: u64,
    /// Staged changes, in staging order.
    pub changes: Vec<EditChangeDto>,
    /// Only in `GET` answers: `true` when the edit is open but the order
    /// moved on since it began (it can then only be discarded).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stale: Option<bool>,
    /// Only in `GET` answers, while the edit is open and not stale: the
    /// totals before and after and the difference to pay or refund.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub preview: Option<EditPreviewDto>,
    /// When it was begun.
    #[serde(serialize_with = "rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    #[serde(serialize_with = "rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: DateTime<Utc>,
}

impl From<&OrderEdit> for EditDto {
    fn from(e: &OrderEdit) -> Self {
        Self {
            id: e.id().as_uuid(),
            order_id: e.order_id().as_uuid(),
            base_version: e.base_version(),
            state: match e.state() {
                order_domain::EditState::Open => EditStateDto::Open,
                order_domain::EditState::Committed => EditStateDto::Committed,
                order_domain::EditState::Discarded => EditStateDto::Discarded,
            },
            version: e.version(),
            changes: e.changes().iter().map(EditChangeDto::from).collect(),
            stale: None,
            preview: None,
            created_at: e.created_at(),
            updated_at: e.updated_at(),
        }
    }
}

impl From<&EditView> for EditDto {
    fn from(view: &EditView) -> Self {
        let open = view.edit.state() == order_domain::EditState::Open;
        Self {
            stale: Some(open && view.edit.base_version() != view.order_version),
            preview: view.preview.as_ref().map(EditPreviewDto::from),
            ..Self::from(&view.edit)
        }
    }
}
