//! [`SqliteApiKeyStore`]: API keys (public prefix, digest of the secret,
//! scopes, bound customer) in SQLite.

use std::fmt;

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use order_app::access::{ApiKey, KeyId, Scope, Scopes, SecretDigest, StoredKey};
use order_app::ports::ApiKeyStore;
use order_app::RepositoryError;
use order_domain::CustomerId;

use crate::codec::{id, parse_id, parse_time, parse_time_opt, time, time_opt};
use crate::error::unexpected;
use crate::schema::order_mgmt_api_keys as keys;
use crate::store::{Db, WriteError};

/// API keys in SQLite. Made by [`crate::SqliteStore::api_keys`].
#[derive(Clone)]
pub struct SqliteApiKeyStore {
    db: Db,
}

impl fmt::Debug for SqliteApiKeyStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SqliteApiKeyStore").finish_non_exhaustive()
    }
}

#[derive(Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = keys, check_for_backend(diesel::sqlite::Sqlite))]
struct KeyRow {
    id: String,
    name: String,
    prefix: String,
    secret_digest: Vec<u8>,
    /// Scope names, comma-separated (SQLite has no arrays).
    scopes: String,
    customer_id: Option<String>,
    created_at: String,
    revoked_at: Option<String>,
}

impl KeyRow {
    fn from_key(key: &ApiKey) -> Self {
        Self {
            id: id(key.id().as_uuid()),
            name: key.name().to_owned(),
            prefix: key.prefix().to_owned(),
            secret_digest: key.digest().as_bytes().to_vec(),
            scopes: key
                .scopes()
                .iter()
                .map(Scope::as_str)
                .collect::<Vec<_>>()
                .join(","),
            customer_id: key.customer().map(|c| id(c.as_uuid())),
            created_at: time(key.created_at()),
            revoked_at: time_opt(key.revoked_at()),
        }
    }

    fn into_key(self) -> Result<ApiKey, RepositoryError> {
        let digest: [u8; 32] = self
            .secret_digest
            .try_into()
            .map_err(|_| unexpected(format!("api key {}: digest is not 32 bytes", self.id)))?;
        let scopes = self
            .scopes
            .split(',')
            .filter(|name| !name.is_empty())
            .map(str::parse::<Scope>)
            .collect::<Result<Scopes, _>>()
            .map_err(unexpected)?;
        Ok(ApiKey::restore(StoredKey {
            id: KeyId::from_uuid(parse_id(&self.id)?),
            name: self.name,
            prefix: self.prefix,
            digest: SecretDigest::from_bytes(digest),
            scopes,
            customer: self
                .customer_id
                .as_deref()
                .map(parse_id)
                .transpose()?
                .map(CustomerId::from_uuid),
            created_at: parse_time(&self.created_at)?,
            revoked_at: parse_time_opt(self.revoked_at.as_deref())?,
        }))
    }
}

impl SqliteApiKeyStore {
    pub(crate) fn new(db: Db) -> Self {
        Self { db }
    }
}

impl ApiKeyStore for SqliteApiKeyStore {
    #[tracing::instrument(level = "debug", skip_all, fields(key_id = %key.id()), err(level = "debug"))]
    fn insert(&self, key: &ApiKey) -> Result<(), RepositoryError> {
        let row = KeyRow::from_key(key);
        self.db.write("insert api key", |conn| {
            diesel::insert_into(keys::table)
                .values(&row)
                .execute(conn)
                .map(|_| ())
                .map_err(WriteError::from)
        })
    }

    #[tracing::instrument(level = "debug", skip(self), err(level = "debug"))]
    fn find_by_prefix(&self, prefix: &str) -> Result<Option<ApiKey>, RepositoryError> {
        self.db
            .read("find api key", |conn| {
                keys::table
                    .filter(keys::prefix.eq(prefix))
                    .select(KeyRow::as_select())
                    .first(conn)
                    .optional()
            })?
            .map(KeyRow::into_key)
            .transpose()
    }

    #[tracing::instrument(level = "debug", skip(self), err(level = "debug"))]
    fn list(&self) -> Result<Vec<ApiKey>, RepositoryError> {
        self.db
            .read("list api keys", |conn| {
                keys::table
                    .select(KeyRow::as_select())
                    .order((keys::created_at.asc(), keys::id.asc()))
                    .load(conn)
            })?
            .into_iter()
            .map(KeyRow::into_key)
            .collect()
    }

    #[tracing::instrument(level = "debug", skip(self), err(level = "debug"))]
    fn revoke(&self, key_id: KeyId, at: DateTime<Utc>) -> Result<ApiKey, RepositoryError> {
        let key = id(key_id.as_uuid());
        let at = time(at);
        self.db
            .write("revoke api key", |conn| {
                // The first revocation's time stays.
                diesel::update(keys::table.find(&key).filter(keys::revoked_at.is_null()))
                    .set(keys::revoked_at.eq(Some(&at)))
                    .execute(conn)?;
                keys::table
                    .find(&key)
                    .select(KeyRow::as_select())
                    .first(conn)
                    .optional()
                    .map_err(WriteError::from)
            })?
            .ok_or(RepositoryError::NotFound)?
            .into_key()
    }
}
