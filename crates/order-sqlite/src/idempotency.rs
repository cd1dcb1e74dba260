//! [`SqliteIdempotencyStore`]: idempotency keys in SQLite, the same rules as
//! `order-postgres`'s store (claim, lease, take-over, retention, replay).
//!
//! A claim is decided inside one IMMEDIATE transaction: the write lock is
//! held from its first read, so two requests with one key can never both
//! acquire it (PostgreSQL needs `ON CONFLICT` and `FOR UPDATE` for that).
//! The outcome is completed in the transaction of the effect it records
//! ([`complete_with`]), so an effect never exists without it.

use std::fmt;

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::sqlite::SqliteConnection;
use order_app::idempotency::{
    Claim, ClaimTerms, ClaimedKey, IdempotencyKey, IdempotencyStore, Outcome,
};
use order_app::RepositoryError;
use order_domain::LineId;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::codec::{parse_id, parse_time, time};
use crate::customers::CustomerRow;
use crate::edits::EditRow;
use crate::error::unexpected;
use crate::rows::OrderRecord;
use crate::schema::order_mgmt_idempotency_keys as keys;
use crate::store::{Db, WriteError};

const IN_PROGRESS: &str = "in_progress";
const COMPLETED: &str = "completed";

/// Idempotency keys in SQLite. Made by [`crate::SqliteStore::idempotency`].
#[derive(Clone)]
pub struct SqliteIdempotencyStore {
    db: Db,
}

impl fmt::Debug for SqliteIdempotencyStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SqliteIdempotencyStore")
            .finish_non_exhaustive()
    }
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = keys, check_for_backend(diesel::sqlite::Sqlite))]
struct KeyRow {
    fingerprint: String,
    state: String,
    created_at: String,
    locked_at: String,
    outcome: Option<String>,
    refusal: Option<Vec<u8>>,
}

/// What a write stores as its outcome: the rows it wrote.
#[derive(Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub(crate) enum WrittenOutcome<'a> {
    Order {
        record: &'a OrderRecord,
        line: Option<String>,
    },
    Customer {
        customer: &'a CustomerRow,
    },
    Edit {
        edit: &'a EditRow,
    },
}

#[derive(Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
enum StoredOutcome {
    Order {
        record: Box<OrderRecord>,
        line: Option<String>,
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
            (Some(json), _) => match serde_json::from_str::<StoredOutcome>(&json)
                .map_err(|e| unexpected(format!("stored idempotency outcome: {e}")))?
            {
                StoredOutcome::Order { record, line } => Ok(Outcome::Order {
                    order: Box::new(record.into_order()?),
                    line: line
                        .as_deref()
                        .map(parse_id)
                        .transpose()?
                        .map(LineId::from_uuid),
                }),
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

/// Completes `claim` with `outcome`, inside the caller's transaction.
/// `false` when the claim is no longer held (taken over or purged): the
/// caller must roll its write back.
pub(crate) fn complete_with(
    conn: &mut SqliteConnection,
    claim: &ClaimedKey,
    outcome: &WrittenOutcome<'_>,
) -> QueryResult<bool> {
    let outcome = serde_json::to_string(outcome)
        .map_err(|e| diesel::result::Error::SerializationError(Box::new(e)))?;
    complete(conn, claim, (Some(outcome), None))
}

fn complete(
    conn: &mut SqliteConnection,
    claim: &ClaimedKey,
    (outcome, refusal): (Option<String>, Option<&[u8]>),
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
            keys::completed_at.eq(Some(time(Utc::now()))),
        ))
        .execute(conn)?;
    Ok(updated == 1)
}

impl SqliteIdempotencyStore {
    pub(crate) fn new(db: Db) -> Self {
        Self { db }
    }
}

/// Decides a claim of `key`; the caller holds the write lock.
fn try_begin(
    conn: &mut SqliteConnection,
    key: &IdempotencyKey,
    fingerprint: &str,
    now: DateTime<Utc>,
    terms: ClaimTerms,
) -> Result<Result<Claim, KeyRow>, WriteError> {
    let token = Uuid::now_v7().to_string();
    let acquired = |token: String| {
        Ok(Ok(Claim::Acquired(ClaimedKey {
            key: key.clone(),
            token,
        })))
    };
    let found = keys::table
        .find((&key.scope, &key.key))
        .select(KeyRow::as_select())
        .first(conn)
        .optional()?;
    let Some(row) = found else {
        diesel::insert_into(keys::table)
            .values((
                keys::scope.eq(&key.scope),
                keys::key.eq(&key.key),
                keys::fingerprint.eq(fingerprint),
                keys::state.eq(IN_PROGRESS),
                keys::token.eq(&token),
                keys::created_at.eq(time(now)),
                keys::locked_at.eq(time(now)),
            ))
            .execute(conn)?;
        return acquired(token);
    };
    let created_at = parse_time(&row.created_at).map_err(WriteError::Refused)?;
    let locked_at = parse_time(&row.locked_at).map_err(WriteError::Refused)?;
    // Past its retention a key is forgotten, purged or not: claimed afresh.
    if created_at + terms.retention <= now {
        diesel::update(keys::table.find((&key.scope, &key.key)))
            .set((
                keys::fingerprint.eq(fingerprint),
                keys::state.eq(IN_PROGRESS),
                keys::token.eq(&token),
                keys::created_at.eq(time(now)),
                keys::locked_at.eq(time(now)),
                keys::completed_at.eq(None::<String>),
                keys::outcome.eq(None::<String>),
                keys::refusal.eq(None::<Vec<u8>>),
            ))
            .execute(conn)?;
        return acquired(token);
    }
    if row.fingerprint != fingerprint {
        return Ok(Ok(Claim::Mismatch));
    }
    if row.state == COMPLETED {
        return Ok(Err(row));
    }
    if locked_at + terms.lease > now {
        return Ok(Ok(Claim::InFlight));
    }
    // The holder's lease ran out: take the claim over with a new token, so
    // the old holder's write no longer finds its claim and rolls back.
    diesel::update(keys::table.find((&key.scope, &key.key)))
        .set((keys::token.eq(&token), keys::locked_at.eq(time(now))))
        .execute(conn)?;
    acquired(token)
}

impl IdempotencyStore for SqliteIdempotencyStore {
    #[tracing::instrument(level = "debug", skip(self, fingerprint), err(level = "debug"))]
    fn begin(
        &self,
        key: &IdempotencyKey,
        fingerprint: &str,
        now: DateTime<Utc>,
        terms: ClaimTerms,
    ) -> Result<Claim, RepositoryError> {
        match self.db.write("claim idempotency key", |conn| {
            try_begin(conn, key, fingerprint, now, terms)
        })? {
            Ok(claim) => Ok(claim),
            Err(completed) => completed.outcome().map(Claim::Replay),
        }
    }

    #[tracing::instrument(level = "debug", skip_all, err(level = "debug"))]
    fn refuse(&self, claim: &ClaimedKey, answer: &[u8]) -> Result<(), RepositoryError> {
        self.db.write("complete idempotency key", |conn| {
            complete(conn, claim, (None, Some(answer)))
                .map(|_| ())
                .map_err(WriteError::from)
        })
    }

    #[tracing::instrument(level = "debug", skip_all, err(level = "debug"))]
    fn release(&self, claim: &ClaimedKey) -> Result<(), RepositoryError> {
        self.db.write("release idempotency key", |conn| {
            diesel::delete(
                keys::table
                    .filter(keys::scope.eq(&claim.key.scope))
                    .filter(keys::key.eq(&claim.key.key))
                    .filter(keys::token.eq(&claim.token))
                    .filter(keys::state.eq(IN_PROGRESS)),
            )
            .execute(conn)
            .map(|_| ())
            .map_err(WriteError::from)
        })
    }

    #[tracing::instrument(level = "debug", skip(self), err(level = "debug"))]
    fn purge(&self, before: DateTime<Utc>) -> Result<u64, RepositoryError> {
        let deleted = self.db.write("purge idempotency keys", |conn| {
            diesel::delete(keys::table.filter(keys::created_at.lt(time(before))))
                .execute(conn)
                .map_err(WriteError::from)
        })?;
        Ok(u64::try_from(deleted).unwrap_or_default())
    }
}
