//! [`PgApiKeyStore`]: the `ApiKeyStore` port over PostgreSQL. Every request
//! with a key asks [`find_by_prefix`](ApiKeyStore::find_by_prefix) once: one
//! primary-index look-up on `uq_api_key_prefix`, never cached, so a revoked
//! key is refused from the next request on.

use std::fmt;

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use order_app::access::{ApiKey, KeyId, Scope, Scopes, SecretDigest, StoredKey};
use order_app::ports::ApiKeyStore;
use order_app::RepositoryError;
use order_domain::CustomerId;
use uuid::Uuid;

use crate::error::{map_diesel_error, unexpected};
use crate::schema::order_mgmt_api_keys as keys;
use crate::store::Db;

/// API keys in PostgreSQL.
///
/// Made by [`crate::PgStore::api_keys`]; cloning shares the pool.
#[derive(Clone)]
pub struct PgApiKeyStore {
    db: Db,
}

impl fmt::Debug for PgApiKeyStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PgApiKeyStore").finish_non_exhaustive()
    }
}

/// A key row, read and written as is.
#[derive(Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = keys, check_for_backend(diesel::pg::Pg))]
struct KeyRow {
    id: Uuid,
    name: String,
    prefix: String,
    secret_digest: Vec<u8>,
    scopes: Vec<Option<String>>,
    customer_id: Option<Uuid>,
    created_at: DateTime<Utc>,
    revoked_at: Option<DateTime<Utc>>,
}

impl KeyRow {
    fn from_key(key: &ApiKey) -> Self {
        Self {
            id: key.id().as_uuid(),
            name: key.name().to_owned(),
            prefix: key.prefix().to_owned(),
            secret_digest: key.digest().as_bytes().to_vec(),
            scopes: key
                .scopes()
                .iter()
                .map(|s| Some(s.as_str().to_owned()))
                .collect(),
            customer_id: key.customer().map(|c| c.as_uuid()),
            created_at: key.created_at(),
            revoked_at: key.revoked_at(),
        }
    }

    fn into_key(self) -> Result<ApiKey, RepositoryError> {
        let digest: [u8; 32] = self.secret_digest.try_into().map_err(|_| {
            RepositoryError::Unexpected(format!("api key {}: digest is not 32 bytes", self.id))
        })?;
        let scopes = self
            .scopes
            .into_iter()
            .map(|name| name.unwrap_or_default().parse::<Scope>())
            .collect::<Result<Scopes, _>>()
            .map_err(unexpected)?;
        Ok(ApiKey::restore(StoredKey {
            id: KeyId::from_uuid(self.id),
            name: self.name,
            prefix: self.prefix,
            digest: SecretDigest::from_bytes(digest),
            scopes,
            customer: self.customer_id.map(CustomerId::from_uuid),
            created_at: self.created_at,
            revoked_at: self.revoked_at,
        }))
    }
}

impl PgApiKeyStore {
    pub(crate) fn new(db: Db) -> Self {
        Self { db }
    }
}

impl ApiKeyStore for PgApiKeyStore {
    #[tracing::instrument(level = "debug", skip_all, fields(key_id = %key.id()), err(level = "debug"))]
    fn insert(&self, key: &ApiKey) -> Result<(), RepositoryError> {
        let mut conn = self.db.checkout()?;
        diesel::insert_into(keys::table)
            .values(KeyRow::from_key(key))
            .execute(&mut conn)
            .map_err(|e| map_diesel_error("insert api key", e))?;
        Ok(())
    }

    // The prefix is public; the secret never reaches this function.
    #[tracing::instrument(level = "debug", skip(self), err(level = "debug"))]
    fn find_by_prefix(&self, prefix: &str) -> Result<Option<ApiKey>, RepositoryError> {
        let mut conn = self.db.checkout()?;
        keys::table
            .filter(keys::prefix.eq(prefix))
            .select(KeyRow::as_select())
            .first(&mut conn)
            .optional()
            .map_err(|e| map_diesel_error("find api key", e))?
            .map(KeyRow::into_key)
            .transpose()
    }

    #[tracing::instrument(level = "debug", skip(self), err(level = "debug"))]
    fn list(&self) -> Result<Vec<ApiKey>, RepositoryError> {
        let mut conn = self.db.checkout()?;
        keys::table
            .select(KeyRow::as_select())
            .order((keys::created_at.asc(), keys::id.asc()))
            .load(&mut conn)
            .map_err(|e| map_diesel_error("list api keys", e))?
            .into_iter()
            .map(KeyRow::into_key)
            .collect()
    }

    #[tracing::instrument(level = "debug", skip(self), err(level = "debug"))]
    fn revoke(&self, id: KeyId, at: DateTime<Utc>) -> Result<ApiKey, RepositoryError> {
        let mut conn = self.db.checkout()?;
        // COALESCE keeps the first revocation time when revoked twice.
        diesel::update(keys::table.find(id.as_uuid()))
            .set(keys::revoked_at.eq(diesel::dsl::sql::<
                diesel::sql_types::Nullable<diesel::sql_types::Timestamptz>,
            >("COALESCE(revoked_at, ")
            .bind::<diesel::sql_types::Timestamptz, _>(at)
            .sql(")")))
            .returning(KeyRow::as_returning())
            .get_result(&mut conn)
            .optional()
            .map_err(|e| map_diesel_error("revoke api key", e))?
            .ok_or(RepositoryError::NotFound)?
            .into_key()
    }
}
