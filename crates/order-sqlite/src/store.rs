//! [`SqliteStore`]: the database file, its connection pool, the migrations
//! and the repositories that share them.
//!
//! - WAL is set once, on a connection of its own, before the pool is built:
//!   it is a property of the file, kept across connections and restarts,
//!   and lets readers go on while one writer writes.
//! - Every pooled connection gets `busy_timeout` (a writer waits for the
//!   write lock instead of failing at once) and `foreign_keys = ON` (SQLite
//!   enforces foreign keys per connection, off by default).
//! - Every write is an IMMEDIATE transaction: it takes the write lock at
//!   `BEGIN`, where the busy timeout applies. A deferred transaction that
//!   reads first and writes later can fail with `SQLITE_BUSY` at its first
//!   write whatever the timeout, because SQLite cannot let it wait without
//!   risking a deadlock.
//! - A writer still busy after the timeout is `Unavailable` (HTTP 503 with
//!   `Retry-After`): nothing was written, the request may be sent again.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::r2d2::{ConnectionManager, CustomizeConnection, Pool, PooledConnection};
use diesel::sqlite::SqliteConnection;
use diesel_migrations::{embed_migrations, EmbeddedMigrations, MigrationHarness};
use order_app::ports::{PoolStats, StorageHealth};
use order_app::RepositoryError;

use crate::error::{map_diesel_error, StorageError};
use crate::{
    SqliteApiKeyStore, SqliteCustomerRepository, SqliteIdempotencyStore, SqliteOrderEditRepository,
    SqliteOrderNumberAllocator, SqliteOrderRepository, SqliteOutbox,
};

/// The migrations of `migrations-sqlite/`, compiled in.
pub(crate) const MIGRATIONS: EmbeddedMigrations = embed_migrations!("../../migrations-sqlite");

/// Where the database file is and how connections behave.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SqliteConfig {
    /// The database file; created (with its directory) if missing.
    pub path: PathBuf,
    /// Connections in the pool. Readers run in parallel; writers take turns.
    pub pool_size: u32,
    /// How long a writer waits for another writer's lock before giving up
    /// (`PRAGMA busy_timeout`).
    pub busy_timeout: Duration,
    /// How long a request waits for a free pooled connection.
    pub connect_timeout: Duration,
}

impl SqliteConfig {
    /// Defaults for the file at `path`: 8 connections, a 5 s busy timeout,
    /// a 5 s wait for a connection.
    #[must_use]
    pub fn new(path: impl Into<PathBuf>) -> Self {
        Self {
            path: path.into(),
            pool_size: 8,
            busy_timeout: Duration::from_secs(5),
            connect_timeout: Duration::from_secs(5),
        }
    }

    fn validate(&self) -> Result<(), StorageError> {
        if self.pool_size == 0 {
            return Err(StorageError::InvalidConfig(
                "pool size must be at least 1".into(),
            ));
        }
        if self.busy_timeout.is_zero() || self.connect_timeout.is_zero() {
            return Err(StorageError::InvalidConfig(
                "timeouts must be positive".into(),
            ));
        }
        if self.path.as_os_str().is_empty() {
            return Err(StorageError::InvalidConfig(
                "the database path is empty".into(),
            ));
        }
        Ok(())
    }
}

type SqlitePool = Pool<ConnectionManager<SqliteConnection>>;
pub(crate) type PooledSqlite = PooledConnection<ConnectionManager<SqliteConnection>>;

/// Sets the per-connection pragmas on every connection the pool opens.
#[derive(Debug, Clone, Copy)]
struct ConnectionPragmas {
    busy_timeout: Duration,
}

impl CustomizeConnection<SqliteConnection, diesel::r2d2::Error> for ConnectionPragmas {
    fn on_acquire(&self, conn: &mut SqliteConnection) -> Result<(), diesel::r2d2::Error> {
        // synchronous = NORMAL: in WAL mode a commit survives a crash of the
        // process; only a power loss may forget the last commits.
        conn.batch_execute(&format!(
            "PRAGMA busy_timeout = {}; PRAGMA foreign_keys = ON; PRAGMA synchronous = NORMAL;",
            self.busy_timeout.as_millis()
        ))
        .map_err(diesel::r2d2::Error::QueryError)
    }
}

/// The pool, shared by the store and every repository made from it, with
/// the counters behind [`PoolStats`].
#[derive(Clone)]
pub(crate) struct Db {
    pool: SqlitePool,
    counters: Arc<Counters>,
}

/// Check-outs that had to wait for a connection, and those that gave up.
#[derive(Debug, Default)]
struct Counters {
    waits: AtomicU64,
    timeouts: AtomicU64,
}

/// Why a write transaction stopped: a database error, or a refusal decided
/// inside it (stale version, missing order, lost claim) that rolls it back.
pub(crate) enum WriteError {
    Database(diesel::result::Error),
    Refused(RepositoryError),
}

impl From<diesel::result::Error> for WriteError {
    fn from(error: diesel::result::Error) -> Self {
        Self::Database(error)
    }
}

impl Db {
    /// A pooled connection, waiting at most the configured timeout.
    pub(crate) fn checkout(&self) -> Result<PooledSqlite, RepositoryError> {
        if let Some(conn) = self.pool.try_get() {
            return Ok(conn);
        }
        self.counters.waits.fetch_add(1, Ordering::Relaxed);
        self.pool.get().map_err(|e| {
            self.counters.timeouts.fetch_add(1, Ordering::Relaxed);
            RepositoryError::Unavailable(format!("no SQLite connection free in time: {e}"))
        })
    }

    /// Runs `read` in one (deferred, read-only in practice) transaction: in
    /// WAL mode all its queries see one snapshot, and no writer blocks it.
    pub(crate) fn read<T>(
        &self,
        context: &str,
        read: impl FnOnce(&mut SqliteConnection) -> QueryResult<T>,
    ) -> Result<T, RepositoryError> {
        let mut pooled = self.checkout()?;
        let conn: &mut SqliteConnection = &mut pooled;
        conn.transaction(read)
            .map_err(|e| map_diesel_error(context, e))
    }

    /// Runs `write` in one IMMEDIATE transaction (see the module docs).
    pub(crate) fn write<T>(
        &self,
        context: &str,
        write: impl FnOnce(&mut SqliteConnection) -> Result<T, WriteError>,
    ) -> Result<T, RepositoryError> {
        let mut pooled = self.checkout()?;
        let conn: &mut SqliteConnection = &mut pooled;
        conn.immediate_transaction(write).map_err(|e| match e {
            WriteError::Database(error) => map_diesel_error(context, error),
            WriteError::Refused(error) => error,
        })
    }
}

/// The SQLite store: one database file, a pool of connections to it, and the
/// repositories over them. Cloning is cheap and shares the pool.
///
/// ```no_run
/// use order_sqlite::{SqliteConfig, SqliteStore};
/// let store = SqliteStore::open(&SqliteConfig::new("data/order-mgmt.sqlite3"))?;
/// store.run_migrations()?;
/// let orders = store.orders(); // impl order_app::ports::OrderRepository
/// # Ok::<(), order_sqlite::StorageError>(())
/// ```
#[derive(Clone)]
pub struct SqliteStore {
    db: Db,
    path: PathBuf,
    max_size: u32,
}

impl fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SqliteStore")
            .field("path", &self.path)
            .field("max_size", &self.max_size)
            .finish_non_exhaustive()
    }
}

impl SqliteStore {
    /// Creates the file (and its directory) if need be, switches it to WAL
    /// and builds the pool.
    ///
    /// # Errors
    /// [`StorageError::InvalidConfig`] for a pool or timeout of zero;
    /// [`StorageError::Unavailable`] when the file cannot be created or opened.
    pub fn open(config: &SqliteConfig) -> Result<Self, StorageError> {
        config.validate()?;
        if let Some(dir) = config.path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| {
                StorageError::Unavailable(format!("cannot create {}: {e}", dir.display()))
            })?;
        }
        let url = path_url(&config.path)?;
        {
            // Once, before the pool: journal_mode is the file's, not a
            // connection's, and switching it needs no other connection open.
            let mut conn = SqliteConnection::establish(&url).map_err(|e| {
                StorageError::Unavailable(format!("cannot open {}: {e}", config.path.display()))
            })?;
            conn.batch_execute(&format!(
                "PRAGMA busy_timeout = {}; PRAGMA journal_mode = WAL;",
                config.busy_timeout.as_millis()
            ))
            .map_err(|e| {
                StorageError::Unavailable(format!(
                    "cannot switch {} to WAL: {e}",
                    config.path.display()
                ))
            })?;
        }
        let pool = Pool::builder()
            .max_size(config.pool_size)
            .min_idle(Some(1))
            .connection_timeout(config.connect_timeout)
            .connection_customizer(Box::new(ConnectionPragmas {
                busy_timeout: config.busy_timeout,
            }))
            .build(ConnectionManager::<SqliteConnection>::new(url))
            .map_err(|e| {
                StorageError::Unavailable(format!("cannot open {}: {e}", config.path.display()))
            })?;
        Ok(Self {
            db: Db {
                pool,
                counters: Arc::default(),
            },
            path: config.path.clone(),
            max_size: config.pool_size,
        })
    }

    /// The pool, for the test helpers.
    #[cfg(feature = "testing")]
    pub(crate) fn db(&self) -> &Db {
        &self.db
    }

    /// The database file.
    #[must_use]
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Applies the embedded migrations not yet applied.
    ///
    /// # Errors
    /// [`StorageError::Unavailable`] if a migration fails (it is rolled back).
    pub fn run_migrations(&self) -> Result<(), StorageError> {
        let mut conn = self
            .db
            .checkout()
            .map_err(|e| StorageError::Unavailable(e.to_string()))?;
        conn.run_pending_migrations(MIGRATIONS)
            .map(|_| ())
            .map_err(|e| StorageError::Unavailable(format!("migrations: {e}")))
    }

    /// The orders repository.
    #[must_use]
    pub fn orders(&self) -> SqliteOrderRepository {
        SqliteOrderRepository::new(self.db.clone())
    }

    /// The order number allocator.
    #[must_use]
    pub fn numbers(&self) -> SqliteOrderNumberAllocator {
        SqliteOrderNumberAllocator::new(self.db.clone())
    }

    /// The customers repository (also the customer directory).
    #[must_use]
    pub fn customers(&self) -> SqliteCustomerRepository {
        SqliteCustomerRepository::new(self.db.clone())
    }

    /// The edit repository (edits after confirmation).
    #[must_use]
    pub fn edits(&self) -> SqliteOrderEditRepository {
        SqliteOrderEditRepository::new(self.db.clone())
    }

    /// The idempotency store.
    #[must_use]
    pub fn idempotency(&self) -> SqliteIdempotencyStore {
        SqliteIdempotencyStore::new(self.db.clone())
    }

    /// The API key store.
    #[must_use]
    pub fn api_keys(&self) -> SqliteApiKeyStore {
        SqliteApiKeyStore::new(self.db.clone())
    }

    /// The relay's side of the outbox.
    #[must_use]
    pub fn outbox(&self) -> SqliteOutbox {
        SqliteOutbox::new(self.db.clone())
    }
}

/// The path as diesel's SQLite connection string (a plain file name).
fn path_url(path: &Path) -> Result<String, StorageError> {
    path.to_str().map(str::to_owned).ok_or_else(|| {
        StorageError::InvalidConfig(format!("{} is not valid UTF-8", path.display()))
    })
}

impl StorageHealth for SqliteStore {
    fn check(&self) -> Result<(), RepositoryError> {
        let mut conn = self.db.checkout()?;
        let applied = conn
            .applied_migrations()
            .map_err(|e| RepositoryError::Unavailable(format!("readiness: {e}")))?;
        let embedded =
            diesel::migration::MigrationSource::<diesel::sqlite::Sqlite>::migrations(&MIGRATIONS)
                .map_err(|e| RepositoryError::Unexpected(format!("embedded migrations: {e}")))?;
        if applied.len() < embedded.len() {
            return Err(RepositoryError::Unavailable(format!(
                "schema behind: {} of {} migrations applied",
                applied.len(),
                embedded.len()
            )));
        }
        Ok(())
    }

    fn pool_stats(&self) -> PoolStats {
        let state = self.db.pool.state();
        PoolStats {
            max_size: self.max_size,
            connections: state.connections,
            idle: state.idle_connections,
            waits_total: self.db.counters.waits.load(Ordering::Relaxed),
            timeouts_total: self.db.counters.timeouts.load(Ordering::Relaxed),
        }
    }
}
