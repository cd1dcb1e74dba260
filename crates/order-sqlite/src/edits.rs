//! [`SqliteOrderEditRepository`]: edits after confirmation in SQLite.
//!
//! Staging is a compare-and-set on the edit's version; committing writes the
//! order (as `OrderRepository::update` does) and the edit's committed state
//! in one IMMEDIATE transaction, a compare-and-set on both.

use std::fmt;

use diesel::prelude::*;
use diesel::sqlite::SqliteConnection;
use order_app::idempotency::{ClaimedKey, Receipt};
use order_app::ports::OrderEditRepository;
use order_app::RepositoryError;
use order_domain::{
    Currency, EditChange, EditId, EditState, LineId, LineTax, Money, NewLine, Order, OrderEdit,
    OrderEditSnapshot, OrderId, Percentage, ProductId, ProductSnapshot, Quantity, TaxRate,
};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::codec::{id, parse_id, parse_time, time};
use crate::error::{unexpected, FOREIGN_KEY};
use crate::idempotency::{complete_with, WrittenOutcome};
use crate::orders::OrderUpdate;
use crate::rows::version_to_column;
use crate::schema::order_mgmt_order_edits as edits;
use crate::store::{Db, WriteError};

/// Edits in SQLite. Made by [`crate::SqliteStore::edits`].
#[derive(Clone)]
pub struct SqliteOrderEditRepository {
    db: Db,
}

impl fmt::Debug for SqliteOrderEditRepository {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SqliteOrderEditRepository")
            .finish_non_exhaustive()
    }
}

/// An edit row (and, as JSON, an idempotency outcome).
#[derive(Debug, Clone, Queryable, Selectable, Insertable, Serialize, Deserialize)]
#[diesel(table_name = edits, check_for_backend(diesel::sqlite::Sqlite))]
pub(crate) struct EditRow {
    pub id: String,
    pub order_id: String,
    pub base_version: i64,
    pub state: String,
    pub version: i64,
    pub changes: String,
    pub created_at: String,
    pub updated_at: String,
}

/// One staged change as stored: the same elements as PostgreSQL's
/// `changes` jsonb array (money in minor units, rates in millionths).
#[derive(Debug, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
enum ChangeJson {
    AddLine {
        line_id: Uuid,
        product_id: Uuid,
        quantity: i64,
        unit_price: i64,
        currency: String,
        description: Option<String>,
        sku: Option<String>,
        tax_rate_millionths: u32,
        tax_category: Option<String>,
    },
    SetQuantity {
        line_id: Uuid,
        quantity: i64,
    },
    RemoveLine {
        line_id: Uuid,
    },
}

impl ChangeJson {
    fn of(change: &EditChange) -> Self {
        match change {
            EditChange::AddLine(new) => Self::AddLine {
                line_id: new.line_id.as_uuid(),
                product_id: new.product_id.as_uuid(),
                quantity: i64::from(new.quantity.get()),
                unit_price: new.unit_price.amount(),
                currency: new.unit_price.currency().code().to_owned(),
                description: new.snapshot.description().map(str::to_owned),
                sku: new.snapshot.sku().map(str::to_owned),
                tax_rate_millionths: new.tax.rate().percentage().millionths(),
                tax_category: new.tax.category().map(str::to_owned),
            },
            EditChange::SetQuantity { line_id, quantity } => Self::SetQuantity {
                line_id: line_id.as_uuid(),
                quantity: i64::from(quantity.get()),
            },
            EditChange::RemoveLine { line_id } => Self::RemoveLine {
                line_id: line_id.as_uuid(),
            },
        }
    }

    fn into_change(self) -> Result<EditChange, String> {
        let quantity = |q: i64| Quantity::new(q).map_err(|e| e.to_string());
        Ok(match self {
            Self::AddLine {
                line_id,
                product_id,
                quantity: q,
                unit_price,
                currency,
                description,
                sku,
                tax_rate_millionths,
                tax_category,
            } => {
                let currency = Currency::from_code(&currency).map_err(|e| e.to_string())?;
                let rate = Percentage::from_millionths(tax_rate_millionths)
                    .map(TaxRate::new)
                    .ok_or_else(|| format!("tax rate {tax_rate_millionths}"))?;
                EditChange::AddLine(NewLine {
                    line_id: LineId::from_uuid(line_id),
                    product_id: ProductId::from_uuid(product_id),
                    quantity: quantity(q)?,
                    unit_price: Money::new(unit_price, currency),
                    snapshot: ProductSnapshot::new(description, sku).map_err(|e| e.to_string())?,
                    tax: LineTax::new(rate, tax_category).map_err(|e| e.to_string())?,
                })
            }
            Self::SetQuantity {
                line_id,
                quantity: q,
            } => EditChange::SetQuantity {
                line_id: LineId::from_uuid(line_id),
                quantity: quantity(q)?,
            },
            Self::RemoveLine { line_id } => EditChange::RemoveLine {
                line_id: LineId::from_uuid(line_id),
            },
        })
    }
}

impl EditRow {
    pub(crate) fn of(edit: &OrderEdit) -> Result<Self, RepositoryError> {
        let changes: Vec<ChangeJson> = edit.changes().iter().map(ChangeJson::of).collect();
        Ok(Self {
            id: id(edit.id().as_uuid()),
            order_id: id(edit.order_id().as_uuid()),
            base_version: version_to_column(edit.base_version())?,
            state: edit.state().as_str().to_owned(),
            version: version_to_column(edit.version())?,
            changes: serde_json::to_string(&changes)
                .map_err(|e| unexpected(format!("edit {}: changes: {e}", edit.id())))?,
            created_at: time(edit.created_at()),
            updated_at: time(edit.updated_at()),
        })
    }

    pub(crate) fn into_edit(self) -> Result<OrderEdit, RepositoryError> {
        let corrupt = |what: String| unexpected(format!("stored edit {}: {what}", self.id));
        let version = |v: i64| u64::try_from(v).map_err(|_| corrupt(format!("version {v}")));
        let changes: Vec<ChangeJson> =
            serde_json::from_str(&self.changes).map_err(|e| corrupt(format!("changes: {e}")))?;
        let changes = changes
            .into_iter()
            .map(ChangeJson::into_change)
            .collect::<Result<Vec<_>, _>>()
            .map_err(&corrupt)?;
        let state = EditState::parse(&self.state).map_err(|e| corrupt(e.to_string()))?;
        OrderEdit::restore(OrderEditSnapshot {
            id: EditId::from_uuid(parse_id(&self.id)?),
            order_id: OrderId::from_uuid(parse_id(&self.order_id)?),
            base_version: version(self.base_version)?,
            changes,
            state,
            version: version(self.version)?,
            created_at: parse_time(&self.created_at)?,
            updated_at: parse_time(&self.updated_at)?,
        })
        .map_err(|e| corrupt(e.to_string()))
    }
}

fn complete_claim(
    conn: &mut SqliteConnection,
    claim: Option<&ClaimedKey>,
    row: &EditRow,
) -> Result<(), WriteError> {
    let Some(claim) = claim else {
        return Ok(());
    };
    if complete_with(conn, claim, &WrittenOutcome::Edit { edit: row })? {
        Ok(())
    } else {
        Err(WriteError::Refused(RepositoryError::ClaimLost))
    }
}

/// The edit's compare-and-set on its version.
fn write_edit(
    conn: &mut SqliteConnection,
    row: &EditRow,
    expected_version: u64,
) -> Result<(), WriteError> {
    let expected = version_to_column(expected_version).map_err(WriteError::Refused)?;
    let updated = diesel::update(edits::table)
        .filter(edits::id.eq(&row.id))
        .filter(edits::version.eq(expected))
        .set((
            edits::state.eq(&row.state),
            edits::version.eq(row.version),
            edits::changes.eq(&row.changes),
            edits::updated_at.eq(&row.updated_at),
        ))
        .execute(conn)?;
    if updated == 1 {
        return Ok(());
    }
    let exists =
        diesel::select(diesel::dsl::exists(edits::table.find(&row.id))).get_result::<bool>(conn)?;
    Err(WriteError::Refused(if exists {
        RepositoryError::Conflict {
            expected: expected_version,
        }
    } else {
        RepositoryError::NotFound
    }))
}

impl SqliteOrderEditRepository {
    pub(crate) fn new(db: Db) -> Self {
        Self { db }
    }
}

impl OrderEditRepository for SqliteOrderEditRepository {
    #[tracing::instrument(level = "debug", skip_all, fields(edit_id = %edit.id()), err(level = "debug"))]
    fn insert(&self, edit: &OrderEdit, claim: Option<&ClaimedKey>) -> Result<(), RepositoryError> {
        let row = EditRow::of(edit)?;
        self.db
            .write("insert edit", |conn| {
                diesel::insert_into(edits::table)
                    .values(&row)
                    .execute(conn)?;
                complete_claim(conn, claim, &row)
            })
            .map_err(|e| match e {
                // The edit's one foreign key is its order.
                RepositoryError::ConstraintViolation(name) if name == FOREIGN_KEY => {
                    RepositoryError::NotFound
                }
                other => other,
            })
    }

    #[tracing::instrument(level = "debug", skip(self), err(level = "debug"))]
    fn find(&self, edit_id: EditId) -> Result<Option<OrderEdit>, RepositoryError> {
        let key = id(edit_id.as_uuid());
        self.db
            .read("find edit", |conn| {
                edits::table
                    .find(&key)
                    .select(EditRow::as_select())
                    .first(conn)
                    .optional()
            })?
            .map(EditRow::into_edit)
            .transpose()
    }

    #[tracing::instrument(level = "debug", skip_all, fields(edit_id = %edit.id(), expected_version), err(level = "debug"))]
    fn update(
        &self,
        edit: &OrderEdit,
        expected_version: u64,
        claim: Option<&ClaimedKey>,
    ) -> Result<(), RepositoryError> {
        let row = EditRow::of(edit)?;
        self.db.write("update edit", |conn| {
            write_edit(conn, &row, expected_version)?;
            complete_claim(conn, claim, &row)
        })
    }

    #[tracing::instrument(
        level = "debug",
        skip_all,
        fields(order_id = %order.id(), edit_id = %edit.id(), expected_order_version, expected_edit_version),
        err(level = "debug")
    )]
    fn commit(
        &self,
        order: &Order,
        expected_order_version: u64,
        edit: &OrderEdit,
        expected_edit_version: u64,
        receipt: Option<&Receipt>,
    ) -> Result<(), RepositoryError> {
        if edit.order_id() != order.id() {
            return Err(unexpected(format!(
                "edit {} is not an edit of order {}",
                edit.id(),
                order.id()
            )));
        }
        let update = OrderUpdate::prepare(order, expected_order_version)?;
        let row = EditRow::of(edit)?;
        self.db.write("commit edit", |conn| {
            update.apply(conn, receipt)?;
            write_edit(conn, &row, expected_edit_version)
        })
    }
}
