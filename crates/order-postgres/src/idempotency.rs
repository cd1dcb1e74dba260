//! [`PgIdempotencyStore`]: idempotency claims and receipts in PostgreSQL.
//!
//! `begin` claims a key in its own short transaction. The receipt that
//! completes a claim is written by the order and customer repositories inside
//! the transaction of the effect ([`complete_in`]); [`PgIdempotencyStore::complete`]
//! is for answers without effect. Every completion requires the claim's token,
//! so a claim taken over after its lease cannot be completed by its old holder.

use std::fmt;

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use order_app::idempotency::{
    Claim, ClaimedKey, IdempotencyKey, IdempotencyStore, Receipt, StoredResponse,
};
use order_app::RepositoryError;
use uuid::Uuid;

use crate::error::{map_diesel_error, unexpected};
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
    locked_at: DateTime<Utc>,
    response_status: Option<i16>,
    response_headers: Option<serde_json::Value>,
    response_body: Option<Vec<u8>>,
}

impl KeyRow {
    fn stored_response(self) -> Result<StoredResponse, String> {
        let status = self
            .response_status
            .ok_or("completed key without a status")?;
        let headers: Vec<(String, String)> = serde_json::from_value(
            self.response_headers
                .unwrap_or(serde_json::Value::Array(vec![])),
        )
        .map_err(|e| format!("stored headers: {e}"))?;
        Ok(StoredResponse {
            status: u16::try_from(status).map_err(|_| "negative stored status")?,
            headers,
            body: self.response_body.unwrap_or_default(),
        })
    }
}

/// Completes `receipt`'s claim with its response on `conn` (inside the caller's
/// transaction). Returns whether the claim was still held; if not, the caller
/// must roll back its effect.
pub(crate) fn complete_in(conn: &mut PgConnection, receipt: &Receipt) -> QueryResult<bool> {
    let claim = &receipt.claim;
    let response = &receipt.response;
    let headers = serde_json::to_value(&response.headers)
        .map_err(|e| diesel::result::Error::SerializationError(Box::new(e)))?;
    let status = i16::try_from(response.status).unwrap_or(i16::MAX);
    let updated = diesel::update(keys::table)
        .filter(keys::scope.eq(&claim.key.scope))
        .filter(keys::key.eq(&claim.key.key))
        .filter(keys::token.eq(&claim.token))
        .filter(keys::state.eq(IN_PROGRESS))
        .set((
            keys::state.eq(COMPLETED),
            keys::response_status.eq(Some(status)),
            keys::response_headers.eq(Some(headers)),
            keys::response_body.eq(Some(&response.body)),
            keys::completed_at.eq(diesel::dsl::sql::<
                diesel::sql_types::Nullable<diesel::sql_types::Timestamptz>,
            >("now()")),
        ))
        .execute(conn)?;
    Ok(updated == 1)
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
        lease: chrono::Duration,
    ) -> QueryResult<Option<Claim>> {
        let token = Uuid::now_v7().to_string();
        let acquired = |token: String| {
            Claim::Acquired(ClaimedKey {
                key: key.clone(),
                token,
            })
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
            return Ok(Some(acquired(token)));
        }
        let Some(row) = keys::table
            .find((&key.scope, &key.key))
            .for_update()
            .select(KeyRow::as_select())
            .first(conn)
            .optional()?
        else {
            // Released or purged between our insert and this read: try again.
            return Ok(None);
        };
        if row.fingerprint != fingerprint {
            return Ok(Some(Claim::Mismatch));
        }
        if row.state == COMPLETED {
            return row
                .stored_response()
                .map(|r| Some(Claim::Replay(r)))
                .map_err(|e| diesel::result::Error::DeserializationError(e.into()));
        }
        if row.locked_at + lease > now {
            return Ok(Some(Claim::InFlight));
        }
        // The holder never finished within its lease: take the claim over.
        diesel::update(keys::table.find((&key.scope, &key.key)))
            .set((keys::token.eq(&token), keys::locked_at.eq(now)))
            .execute(conn)?;
        Ok(Some(acquired(token)))
    }
}

impl IdempotencyStore for PgIdempotencyStore {
    #[tracing::instrument(level = "debug", skip(self, fingerprint), err(level = "debug"))]
    fn begin(
        &self,
        key: &IdempotencyKey,
        fingerprint: &str,
        now: DateTime<Utc>,
        lease: chrono::Duration,
    ) -> Result<Claim, RepositoryError> {
        let mut conn = self.db.checkout()?;
        for _ in 0..3 {
            let claim = conn
                .transaction(|conn| Self::try_begin(conn, key, fingerprint, now, lease))
                .map_err(|e| map_diesel_error("claim idempotency key", e))?;
            if let Some(claim) = claim {
                return Ok(claim);
            }
        }
        Err(unexpected(
            "idempotency key kept vanishing while being claimed",
        ))
    }

    #[tracing::instrument(level = "debug", skip_all, err(level = "debug"))]
    fn complete(&self, receipt: &Receipt, _now: DateTime<Utc>) -> Result<(), RepositoryError> {
        let mut conn = self.db.checkout()?;
        complete_in(&mut conn, receipt)
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
