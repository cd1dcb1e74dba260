//! The store `DATABASE_URL` names, opened, migrated and handed out as the
//! ports the use cases take: PostgreSQL for `postgres://…`, the embedded
//! SQLite file for `sqlite://PATH` or when nothing is set.
//!
//! Both adapters expose the same factory methods (`orders()`, `numbers()`,
//! ...), so one macro wires either; what differs (creating a PostgreSQL
//! database, the SQLite file's directory, the relay's source) stays here.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use order_app::idempotency::IdempotencyStore;
use order_app::ports::{
    ApiKeyStore, CustomerDirectory, CustomerRepository, OrderEditRepository, OrderNumberAllocator,
    OrderRepository, StorageHealth,
};
use order_postgres::{ensure_database_exists, PgStore};
use order_sqlite::{SqliteConfig, SqliteOutbox, SqliteStore};

use crate::config::Config;

/// Where the SQLite file lives when `DATABASE_URL` is not set.
pub const DEFAULT_SQLITE_PATH: &str = "./data/order-mgmt.sqlite3";

/// Which store `DATABASE_URL` names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Database {
    /// A PostgreSQL URL.
    Postgres(String),
    /// An SQLite database file.
    Sqlite(PathBuf),
}

impl Database {
    /// Reads `DATABASE_URL` (unset or empty: the default SQLite file).
    pub fn parse(url: Option<&str>) -> Result<Self, String> {
        let url = url.map(str::trim).unwrap_or_default();
        if url.is_empty() {
            return Ok(Self::Sqlite(PathBuf::from(DEFAULT_SQLITE_PATH)));
        }
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            return Ok(Self::Postgres(url.to_owned()));
        }
        if let Some(path) = url.strip_prefix("sqlite://") {
            if path.is_empty() {
                return Err(
                    "DATABASE_URL sqlite:// needs a file path, e.g. sqlite://./data/orders.sqlite3"
                        .to_owned(),
                );
            }
            return Ok(Self::Sqlite(PathBuf::from(path)));
        }
        Err("DATABASE_URL must start with postgres://, postgresql:// or sqlite:// (or be unset for the embedded SQLite store)".to_owned())
    }
}

/// Where the relay reads the outbox.
#[derive(Debug, Clone)]
pub enum OutboxSource {
    /// Its own PostgreSQL connection (LISTEN/NOTIFY, leadership).
    Postgres(String),
    /// The SQLite file, polled.
    Sqlite(SqliteOutbox),
}

/// The ports of one store, sharing its pool.
pub struct Storage {
    pub orders: Arc<dyn OrderRepository>,
    pub edits: Arc<dyn OrderEditRepository>,
    pub numbers: Arc<dyn OrderNumberAllocator>,
    pub customers: Arc<dyn CustomerRepository>,
    pub directory: Arc<dyn CustomerDirectory>,
    pub idempotency: Arc<dyn IdempotencyStore>,
    pub api_keys: Arc<dyn ApiKeyStore>,
    pub health: Arc<dyn StorageHealth>,
    pub outbox: OutboxSource,
}

/// The ports of `$store` (a `PgStore` or an `SqliteStore`): the same code
/// for both, as their factory methods share names.
macro_rules! ports_of {
    ($store:expr, $outbox:expr) => {{
        let store = $store;
        Storage {
            orders: Arc::new(store.orders()),
            edits: Arc::new(store.edits()),
            numbers: Arc::new(store.numbers()),
            customers: Arc::new(store.customers()),
            directory: Arc::new(store.customers()),
            idempotency: Arc::new(store.idempotency()),
            api_keys: Arc::new(store.api_keys()),
            outbox: $outbox,
            health: Arc::new(store),
        }
    }};
}

/// Opens (creating and migrating if need be) the configured store with a
/// pool of `pool_size`.
pub fn open(config: &Config, pool_size: u32) -> Result<Storage, String> {
    match config.database()? {
        Database::Postgres(url) => {
            let timeout = config.db_connect_timeout();
            let hint = "is PostgreSQL running? unset DATABASE_URL to use the embedded SQLite store";
            ensure_database_exists(&url, timeout).map_err(|e| format!("database: {e}; {hint}"))?;
            let store = PgStore::connect(&order_postgres::PgConfig {
                pool_size,
                ..config.pg(&url)
            })
            .map_err(|e| format!("database: {e}; {hint}"))?;
            store
                .run_migrations()
                .map_err(|e| format!("migrations: {e}"))?;
            tracing::info!("storage: PostgreSQL");
            Ok(ports_of!(store, OutboxSource::Postgres(url)))
        }
        Database::Sqlite(path) => {
            let store = SqliteStore::open(&SqliteConfig {
                pool_size,
                ..config.sqlite(&path)
            })
            .map_err(|e| format!("database: {e}"))?;
            store
                .run_migrations()
                .map_err(|e| format!("migrations: {e}"))?;
            let shown = absolute(&path);
            tracing::info!(path = %shown.display(), "storage: embedded SQLite (one server, one writer at a time; set DATABASE_URL=postgres://... for PostgreSQL)");
            let outbox = OutboxSource::Sqlite(store.outbox());
            Ok(ports_of!(store, outbox))
        }
    }
}

/// `path` made absolute for the log line (as given if that fails).
fn absolute(path: &Path) -> PathBuf {
    std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_url_picks_the_store_and_nothing_set_is_the_default_sqlite_file() {
        let cases: [(Option<&str>, Result<Database, ()>); 7] = [
            (None, Ok(Database::Sqlite(DEFAULT_SQLITE_PATH.into()))),
            (Some(""), Ok(Database::Sqlite(DEFAULT_SQLITE_PATH.into()))),
            (
                Some("postgres://u@h:5432/db"),
                Ok(Database::Postgres("postgres://u@h:5432/db".into())),
            ),
            (
                Some("postgresql://u@h/db"),
                Ok(Database::Postgres("postgresql://u@h/db".into())),
            ),
            (
                Some("sqlite:///var/lib/orders.sqlite3"),
                Ok(Database::Sqlite("/var/lib/orders.sqlite3".into())),
            ),
            (Some("sqlite://"), Err(())),
            (Some("mysql://u@h/db"), Err(())),
        ];
        for (url, expected) in cases {
            assert_eq!(Database::parse(url).map_err(|_| ()), expected, "{url:?}");
        }
    }
}
