//! [`PgIdempotencyStore`]: idempotency claims and their outcomes in PostgreSQL.
//!
//! `begin` claims a key in its own short transaction. The order, edit and
//! customer repositories complete a claim inside the transaction of their
//! write, with the rows they wrote as the `outcome` ([`complete_with`]); a
//! replay restores the order, edit or customer from those rows through the
//! same mapping a read uses.
//! [`PgIdempotencyStore::refuse`] completes a claim whose request had no
//! effect, with the adapter's opaque record of the refusal. Every completion
//! requires the claim's token, so a claim taken over after its lease cannot be
//! completed by its old holder.

use std::fmt;

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use order_app::idempotency::{
    Claim, ClaimTerms, ClaimedKey, IdempotencyKey, IdempotencyStore, Outcome,
};
use order_app::RepositoryError;
use order_domain::{Currency, LineId};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::customers::CustomerRow;
use crate::error::{map_diesel_error, unexpected};
use crate::orders::rows::{restore_order, LineRow, NewLineRow, NewOrderRow, OrderRow};
use crate::orders::shipments::Stored;
use crate::orders::EditRow;
use crate::schema::order_mgmt_idempotency_keys as keys;
use crate::store::Db;

const IN_PROGRESS: &str = "in_progress";
const COMPLETED: &str = "completed";

/// Idempotency keys in PostgreSQL. Made by [`crate::PgStore::idempotency`].
#[derive(Clone)]
pub struct PgIdempotencyStore {
    db: Db,
}

impl fmt::Debug for PgIdempotencyStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PgIdempotencyStore").finish_non_exhaustive()
    }
}

#[derive(Insertable)]
#[diesel(table_name = keys)]
struct NewKeyRow<'a> {
    scope: &'a str,
    key: &'a str,
    fingerprint: &'a str,
    state: &'a str,
    token: &'a str,
    created_at: DateTime<Utc>,
    locked_at: DateTime<Utc>,
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = keys, check_for_backend(diesel::pg::Pg))]
struct KeyRow {
    fingerprint: String,
    state: String,
    created_at: DateTime<Utc>,
    locked_at: DateTime<Utc>,
    outcome: Option<serde_json::Value>,
    refusal: Option<Vec<u8>>,
}

/// What a write stores as its outcome: the rows it wrote, in the same form
/// they have in their tables, so replaying goes through the one row mapping.
#[derive(Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub(crate) enum WrittenOutcome<'a> {
    /// An order write and the line it touched.
    Order {
        order: &'a NewOrderRow,
        lines: &'a [NewLineRow],
        line: Option<Uuid>,
        /// Its shipments and returns, if it has any.
        #[serde(skip_serializing_if = "Option::is_none")]
        shipments: Option<&'a Stored>,
    },
    /// A customer registration.
    Customer { customer: &'a CustomerRow },
    /// An edit begun or staged.
    Edit { edit: &'a EditRow },
}

/// [`WrittenOutcome`] as read back.
#[derive(Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
enum StoredOutcome {
    Order {
        order: Box<OrderRow>,
        lines: Vec<LineRow>,
        line: Option<Uuid>,
        #[serde(default)]
        shipments: Option<Stored>,
    },
    Customer {
        customer: CustomerRow,
    },
    Edit {
        edit: EditRow,
    },
}

impl KeyRow {
    fn outcome(self) -> Result<Outcome, RepositoryError> {
        match (self.outcome, self.refusal) {
            (Some(json), _) => match serde_json::from_value::<StoredOutcome>(json)
                .map_err(|e| unexpected(format!("stored idempotency outcome: {e}")))?
            {
                StoredOutcome::Order {
                    order,
                    lines,
                    line,
                    shipments,
                } => {
                    let shipped = match shipments {
                        None => None,
                        Some(stored) => {
                            let id = order.id;
                            let currency = Currency::from_code(order.currency.trim()).ok();
                            stored.into_orders(|_| currency)?.remove(&id)
                        }
                    };
                    Ok(Outcome::Order {
                        order: Box::new(restore_order(*order, lines, shipped)?),
                        line: line.map(LineId::from_uuid),
                    })
                }
                StoredOutcome::Customer { customer } => {
                    Ok(Outcome::Customer(customer.into_customer()?))
                }
                StoredOutcome::Edit { edit } => Ok(Outcome::Edit(Box::new(edit.into_edit()?))),
            },
            (None, Some(refusal)) => Ok(Outcome::Refused(refusal)),
            (None, None) => Err(unexpected("completed idempotency key without an outcome")),
        }
    }
}

/// Completes `claim` with `outcome` on `conn`, inside the caller's write
/// transaction. Returns whether the claim was still held; if not, the caller
/// must roll back its effect.
pub(crate) fn complete_with(
    conn: &mut PgConnection,
    claim: &ClaimedKey,
    outcome: &WrittenOutcome<'_>,
) -> QueryResult<bool> {
    let outcome = serde_json::to_value(outcome)
        .map_err(|e| diesel::result::Error::SerializationError(Box::new(e)))?;
    complete(conn, claim, (Some(outcome), None))
}

/// Marks `claim` completed with one of its two kinds of answer, if the claim
/// is still held and not completed yet.
fn complete(
    conn: &mut PgConnection,
    claim: &ClaimedKey,
    (outcome, refusal): (Option<serde_json::Value>, Option<&[u8]>),
) -> QueryResult<bool> {
    let updated = diesel::update(keys::table)
        .filter(keys::scope.eq(&claim.key.scope))
        .filter(keys::key.eq(&claim.key.key))
        .filter(keys::token.eq(&claim.token))
        .filter(keys::state.eq(IN_PROGRESS))
        .set((
            keys::state.eq(COMPLETED),
            keys::outcome.eq(outcome),
            keys::refusal.eq(refusal),
            keys::completed_at.eq(diesel::dsl::sql::<
                diesel::sql_types::Nullable<diesel::sql_types::Timestamptz>,
            >("now()")),
        ))
        .execute(conn)?;
    Ok(updated == 1)
}

/// What one attempt at claiming a key found.
enum Attempt {
    /// Acquired, in flight or mismatched.
    Decided(Claim),
    /// Answered before: the row to replay.
    Completed(KeyRow),
    /// The row vanished between the insert and the read: try again.
    Vanished,
}

impl PgIdempotencyStore {
    pub(crate) fn new(db: Db) -> Self {
        Self { db }
    }

    fn try_begin(
        conn: &mut PgConnection,
        key: &IdempotencyKey,
        fingerprint: &str,
        now: DateTime<Utc>,
        terms: ClaimTerms,
    ) -> QueryResult<Attempt> {
        let token = Uuid::now_v7().to_string();
        let acquired = |token: String| {
            Attempt::Decided(Claim::Acquired(ClaimedKey {
                key: key.clone(),
                token,
            }))
        };
        let inserted = diesel::insert_into(keys::table)
            .values(NewKeyRow {
                scope: &key.scope,
                key: &key.key,
                fingerprint,
                state: IN_PROGRESS,
                token: &token,
                created_at: now,
                locked_at: now,
            })
            .on_conflict_do_nothing()
            .execute(conn)?;
        if inserted == 1 {
            return Ok(acquired(token));
        }
        let Some(row) = keys::table
            .find((&key.scope, &key.key))
            .for_update()
            .select(KeyRow::as_select())
            .first(conn)
            .optional()?
        else {
            // Released or purged between our insert and this read.
            return Ok(Attempt::Vanished);
        };
        if row.created_at + terms.retention <= now {
            // Expired but not purged yet: the key is free again, whatever it
            // answered and for whichever request.
            diesel::update(keys::table.find((&key.scope, &key.key)))
                .set((
                    keys::fingerprint.eq(fingerprint),
                    keys::state.eq(IN_PROGRESS),
                    keys::token.eq(&token),
                    keys::created_at.eq(now),
                    keys::locked_at.eq(now),
                    keys::completed_at.eq(None::<DateTime<Utc>>),
                    keys::outcome.eq(None::<serde_json::Value>),
                    keys::refusal.eq(None::<Vec<u8>>),
                ))
                .execute(conn)?;
            return Ok(acquired(token));
        }
        if row.fingerprint != fingerprint {
            return Ok(Attempt::Decided(Claim::Mismatch));
        }
        if row.state == COMPLETED {
            return Ok(Attempt::Completed(row));
        }
        if row.locked_at + terms.lease > now {
            return Ok(Attempt::Decided(Claim::InFlight));
        }
        // The holder never finished within its lease: take the claim over.
        diesel::update(keys::table.find((&key.scope, &key.key)))
            .set((keys::token.eq(&token), keys::locked_at.eq(now)))
            .execute(conn)?;
        Ok(acquired(token))
    }
}

impl IdempotencyStore for PgIdempotencyStore {
    #[tracing::instrument(level = "debug", skip(self, fingerprint), err(level = "debug"))]
    fn begin(
        &self,
        key: &IdempotencyKey,
        fingerprint: &str,
        now: DateTime<Utc>,
        terms: ClaimTerms,
    ) -> Result<Claim, RepositoryError> {
        let mut conn = self.db.checkout()?;
        for _ in 0..3 {
            let attempt = conn
                .transaction(|conn| Self::try_begin(conn, key, fingerprint, now, terms))
                .map_err(|e| map_diesel_error("claim idempotency key", e))?;
            match attempt {
                Attempt::Decided(claim) => return Ok(claim),
                Attempt::Completed(row) => return row.outcome().map(Claim::Replay),
                Attempt::Vanished => {}
            }
        }
        Err(unexpected(
            "idempotency key kept vanishing while being claimed",
        ))
    }

    #[tracing::instrument(level = "debug", skip_all, err(level = "debug"))]
    fn refuse(&self, claim: &ClaimedKey, answer: &[u8]) -> Result<(), RepositoryError> {
        let mut conn = self.db.checkout()?;
        complete(&mut conn, claim, (None, Some(answer)))
            .map(|_| ())
            .map_err(|e| map_diesel_error("complete idempotency key", e))
    }

    #[tracing::instrument(level = "debug", skip_all, err(level = "debug"))]
    fn release(&self, claim: &ClaimedKey) -> Result<(), RepositoryError> {
        let mut conn = self.db.checkout()?;
        diesel::delete(
            keys::table
                .filter(keys::scope.eq(&claim.key.scope))
                .filter(keys::key.eq(&claim.key.key))
                .filter(keys::token.eq(&claim.token))
                .filter(keys::state.eq(IN_PROGRESS)),
        )
        .execute(&mut conn)
        .map(|_| ())
        .map_err(|e| map_diesel_error("release idempotency key", e))
    }

    #[tracing::instrument(level = "debug", skip(self), err(level = "debug"))]
    fn purge(&self, before: DateTime<Utc>) -> Result<u64, RepositoryError> {
        let mut conn = self.db.checkout()?;
        let deleted = diesel::delete(keys::table.filter(keys::created_at.lt(before)))
            .execute(&mut conn)
            .map_err(|e| map_diesel_error("purge idempotency keys", e))?;
        Ok(deleted as u64)
    }
}
