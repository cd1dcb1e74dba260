//! [`PgStore`]: the connection pool, the migrations runner, the readiness probe
//! and the factory for the repositories that share the pool.
//!
//! diesel is synchronous, so the pool is an r2d2 pool of blocking connections;
//! the HTTP adapter runs each use case on actix's blocking thread pool (its own
//! default size) and bounds how many requests wait for a connection with its
//! admission queue (`order_http::admission`), sized from this pool.

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use diesel::connection::SimpleConnection;
use diesel::migration::MigrationSource;
use diesel::pg::PgConnection;
use diesel::prelude::*;
use diesel::r2d2::{CustomizeConnection, HandleError, Pool, PooledConnection};
use diesel::sql_types::{Array, BigInt, Text};
use diesel_migrations::{embed_migrations, EmbeddedMigrations, MigrationHarness};
use order_app::ports::{PoolStats, StorageHealth};
use order_app::RepositoryError;

use crate::config::{database_name, redact, with_connect_timeout, with_database, with_keepalives};
use crate::error::map_pool_error;
use crate::manager::{is_connection_lost, PgManager};
use crate::workers::Workers;
use crate::{map_diesel_error, StorageError};
use crate::{PgConfig, PgCustomerRepository, PgOrderNumberAllocator, PgOrderRepository};

/// The migrations of the top-level `migrations/` folder, compiled in.
pub(crate) const MIGRATIONS: EmbeddedMigrations = embed_migrations!("../../migrations");

/// Key of the session advisory lock held while migrating; any constant shared
/// by every server of this service works ("order_mg" in ASCII).
const MIGRATION_LOCK_KEY: i64 = 0x6f72_6465_725f_6d67;

pub(crate) type PgPool = Pool<PgManager>;
pub(crate) type PooledPg = PooledConnection<PgManager>;

/// The pool plus the counters behind [`PoolStats`], shared by the store and
/// every repository made from it.
#[derive(Clone)]
pub(crate) struct Db {
    // Fields drop in this order, and the order matters: the pool first, then
    // its worker threads, whose last handle waits for a connection attempt
    // still under way (see `crate::workers`).
    pool: PgPool,
    counters: Arc<Counters>,
    /// Held only to be dropped last.
    _workers: Arc<Workers>,
}

/// Check-outs that had to wait for a connection, and those that gave up.
#[derive(Debug, Default)]
struct Counters {
    waits: AtomicU64,
    timeouts: AtomicU64,
}

impl Db {
    fn new(pool: PgPool, workers: Workers) -> Self {
        Self {
            pool,
            counters: Arc::default(),
            _workers: Arc::new(workers),
        }
    }

    /// Takes a connection from the pool, waiting at most the configured timeout.
    pub(crate) fn checkout(&self) -> Result<PooledPg, RepositoryError> {
        if let Some(conn) = self.pool.try_get() {
            return Ok(conn);
        }
        self.counters.waits.fetch_add(1, Ordering::Relaxed);
        self.pool.get().map_err(|e| {
            self.counters.timeouts.fetch_add(1, Ordering::Relaxed);
            map_pool_error(&e)
        })
    }

    /// Runs `read` in one `REPEATABLE READ, READ ONLY` transaction, so that all
    /// its queries see the same snapshot.
    ///
    /// For reads of more than one statement: an order with shipments (its row
    /// and lines, then its fulfilments and returns), a list page (its orders,
    /// their lines, a count). Without one snapshot a writer committing between
    /// them would pair an old row with new lines or shipments, whose totals no
    /// longer match (and `Order::restore` rightly refuses that).
    pub(crate) fn read_consistent<T>(
        &self,
        context: &str,
        read: impl Fn(&mut PgConnection) -> QueryResult<T>,
    ) -> Result<T, RepositoryError> {
        self.read(context, |conn| {
            conn.build_transaction()
                .repeatable_read()
                .read_only()
                .run(&read)
        })
    }

    /// Runs a read on a pooled connection, once more on another connection
    /// if the first one turns out to be lost.
    ///
    /// Check-outs ping only connections that may be stale (see
    /// [`PgManager`]), so after the database dropped its connections the
    /// first request can meet a dead one; a read is safe to repeat, so that
    /// request still succeeds. The dead connection is discarded and the pool
    /// checks the others before handing them out.
    pub(crate) fn read<T>(
        &self,
        context: &str,
        read: impl Fn(&mut PgConnection) -> QueryResult<T>,
    ) -> Result<T, RepositoryError> {
        let first = {
            let mut conn = self.checkout()?;
            read(&mut conn)
        };
        match first {
            Err(error) if is_connection_lost(&error) => {
                tracing::info!(
                    context,
                    "database connection lost; reading again on another"
                );
                let mut conn = self.checkout()?;
                read(&mut conn).map_err(|e| map_diesel_error(context, e))
            }
            other => other.map_err(|e| map_diesel_error(context, e)),
        }
    }
}

/// Connections and idle connections of the pool, for metrics.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolState {
    /// Connections open (idle or in use).
    pub size: u32,
    /// Connections open and not in use.
    pub idle: u32,
}

/// The PostgreSQL store: a pool of connections and the repositories over it.
///
/// Cloning is cheap and shares the pool.
///
/// ```no_run
/// use order_postgres::{PgConfig, PgStore};
/// let store = PgStore::connect(&PgConfig::new("postgres://postgres@127.0.0.1/orders"))?;
/// store.run_migrations()?;
/// let orders = store.orders(); // impl order_app::ports::OrderRepository
/// # Ok::<(), order_postgres::StorageError>(())
/// ```
#[derive(Clone)]
pub struct PgStore {
    db: Db,
    /// The configured URL plus a libpq `connect_timeout`.
    url: Arc<str>,
    /// Versions of the embedded migrations, for the readiness probe.
    migration_versions: Arc<[String]>,
}

impl fmt::Debug for PgStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PgStore")
            .field("database_url", &redact(&self.url))
            .field("pool", &self.pool_state())
            .finish()
    }
}

impl PgStore {
    /// Builds the pool and opens its first connection, proving the database
    /// can be reached. The pool then grows on demand up to `pool_size`.
    ///
    /// # Errors
    /// [`StorageError::InvalidConfig`] for a pool size or timeout of zero;
    /// [`StorageError::Unavailable`] when no connection could be opened
    /// within `connect_timeout` (never a panic, never a longer hang).
    pub fn connect(config: &PgConfig) -> Result<Self, StorageError> {
        config.validate()?;
        let (builder, manager, workers, url) = Self::pool_parts(config);
        let pool = builder.build(manager).map_err(|e| {
            StorageError::Unavailable(format!(
                "cannot connect to {} within {:?}: {e}",
                redact(&config.database_url),
                config.connect_timeout
            ))
        })?;
        Self::from_pool(pool, workers, &url)
    }

    /// Builds the pool without connecting: for a server that should start,
    /// and report "not ready" through [`PgStore::ping`], while the database
    /// is still down. Repository calls then answer
    /// [`RepositoryError::Unavailable`] after `connect_timeout` until it is up.
    ///
    /// # Errors
    /// [`StorageError::InvalidConfig`] for a pool size or timeout of zero.
    pub fn connect_lazy(config: &PgConfig) -> Result<Self, StorageError> {
        config.validate()?;
        let (builder, manager, workers, url) = Self::pool_parts(config);
        Self::from_pool(builder.build_unchecked(manager), workers, &url)
    }

    fn pool_parts(
        config: &PgConfig,
    ) -> (diesel::r2d2::Builder<PgManager>, PgManager, Workers, String) {
        let url = with_keepalives(
            &with_connect_timeout(&config.database_url, config.connect_timeout),
            config.tcp_keepalive,
        );
        let workers = Workers::new(config.connect_timeout);
        let builder = Pool::builder()
            .thread_pool(workers.thread_pool())
            .max_size(config.pool_size)
            .min_idle(Some(1))
            .connection_timeout(config.connect_timeout)
            // A connection the server closed (restart, failover) is noticed
            // and replaced at check-out instead of failing the next request;
            // PgManager pings only connections that may be stale, not all.
            .test_on_check_out(true)
            .connection_customizer(Box::new(SessionTimeouts {
                statement: config.statement_timeout,
                lock: config.lock_timeout,
            }))
            .error_handler(Box::new(LogConnectionErrors));
        let manager = PgManager::new(url.clone());
        (builder, manager, workers, url)
    }

    fn from_pool(pool: PgPool, workers: Workers, url: &str) -> Result<Self, StorageError> {
        let migrations = MigrationSource::<diesel::pg::Pg>::migrations(&MIGRATIONS)
            .map_err(|e| StorageError::Migration(e.to_string()))?;
        let migration_versions = migrations
            .iter()
            .map(|m| m.name().version().to_string())
            .collect();
        Ok(Self {
            db: Db::new(pool, workers),
            url: url.into(),
            migration_versions,
        })
    }

    /// Applies the embedded migrations that are not applied yet.
    ///
    /// Runs on a dedicated connection under a PostgreSQL session advisory
    /// lock, so servers starting at once apply them one after the other: the
    /// first migrates, the others wait and then find nothing to do. Closing
    /// that connection releases the lock even if unlocking fails.
    ///
    /// # Errors
    /// [`StorageError::Unavailable`] when the database cannot be reached;
    /// [`StorageError::Migration`] when a migration fails (it is rolled back).
    pub fn run_migrations(&self) -> Result<(), StorageError> {
        let mut conn = PgConnection::establish(&self.url).map_err(|e| {
            StorageError::Unavailable(format!("cannot connect to {}: {e}", redact(&self.url)))
        })?;
        migrate(&mut conn)
    }

    /// Readiness probe: a connection can be had and answers, and every
    /// embedded migration is applied.
    ///
    /// # Errors
    /// [`RepositoryError::Unavailable`] saying which of the two failed.
    pub fn ping(&self) -> Result<(), RepositoryError> {
        self.probe().map_err(|failure| match failure {
            ProbeFailure::Unreachable(error) => error,
            ProbeFailure::SchemaBehind(why) => RepositoryError::Unavailable(why),
        })
    }

    fn probe(&self) -> Result<(), ProbeFailure> {
        #[derive(QueryableByName)]
        struct Applied {
            #[diesel(sql_type = BigInt)]
            applied: i64,
        }
        let found = self
            .db
            .read("read applied migrations", |conn| {
                diesel::sql_query(
                    "SELECT count(*) AS applied FROM __diesel_schema_migrations \
                     WHERE version = ANY($1)",
                )
                .bind::<Array<Text>, _>(self.migration_versions.to_vec())
                .get_result::<Applied>(conn)
            })
            .map_err(|e| match e {
                unreachable @ RepositoryError::Unavailable(_) => {
                    ProbeFailure::Unreachable(unreachable)
                }
                other => {
                    ProbeFailure::SchemaBehind(format!("database schema not migrated: {other}"))
                }
            })?;
        let expected = self.migration_versions.len();
        if usize::try_from(found.applied).ok() == Some(expected) {
            Ok(())
        } else {
            Err(ProbeFailure::SchemaBehind(format!(
                "{} of {expected} database migrations applied",
                found.applied
            )))
        }
    }

    /// The order repository over this pool.
    #[must_use]
    pub fn orders(&self) -> PgOrderRepository {
        PgOrderRepository::new(self.db.clone())
    }

    /// The edit repository (edits after confirmation) over this pool.
    #[must_use]
    pub fn edits(&self) -> crate::PgOrderEditRepository {
        crate::PgOrderEditRepository::new(self.db.clone())
    }

    /// The order number allocator over this pool.
    #[must_use]
    pub fn numbers(&self) -> PgOrderNumberAllocator {
        PgOrderNumberAllocator::new(self.db.clone())
    }

    /// The customer repository (and directory) over this pool.
    #[must_use]
    pub fn customers(&self) -> PgCustomerRepository {
        PgCustomerRepository::new(self.db.clone())
    }

    /// The idempotency key store.
    #[must_use]
    pub fn idempotency(&self) -> crate::PgIdempotencyStore {
        crate::PgIdempotencyStore::new(self.db.clone())
    }

    /// The API key store.
    #[must_use]
    pub fn api_keys(&self) -> crate::PgApiKeyStore {
        crate::PgApiKeyStore::new(self.db.clone())
    }

    /// How many connections are open and idle.
    #[must_use]
    pub fn pool_state(&self) -> PoolState {
        let state = self.db.pool.state();
        PoolState {
            size: state.connections,
            idle: state.idle_connections,
        }
    }
}

/// Why the store is not ready.
enum ProbeFailure {
    /// No connection, or it broke.
    Unreachable(RepositoryError),
    /// The server answers but the schema lacks migrations.
    SchemaBehind(String),
}

/// What the HTTP adapter's readiness probe and metrics ask of the store.
impl StorageHealth for PgStore {
    /// `Unavailable` when the database cannot be reached, `Unexpected` when
    /// its schema lacks migrations this build embeds.
    fn check(&self) -> Result<(), RepositoryError> {
        self.probe().map_err(|failure| match failure {
            ProbeFailure::Unreachable(error) => error,
            ProbeFailure::SchemaBehind(why) => RepositoryError::Unexpected(why),
        })
    }

    fn pool_stats(&self) -> PoolStats {
        let state = self.db.pool.state();
        PoolStats {
            max_size: self.db.pool.max_size(),
            connections: state.connections,
            idle: state.idle_connections,
            waits_total: self.db.counters.waits.load(Ordering::Relaxed),
            timeouts_total: self.db.counters.timeouts.load(Ordering::Relaxed),
        }
    }
}

/// Applies the pending migrations on `conn` while holding the migration lock.
pub(crate) fn migrate(conn: &mut PgConnection) -> Result<(), StorageError> {
    diesel::sql_query("SELECT pg_advisory_lock($1)")
        .bind::<BigInt, _>(MIGRATION_LOCK_KEY)
        .execute(conn)
        .map_err(|e| StorageError::Unavailable(format!("cannot take the migration lock: {e}")))?;
    let outcome = conn
        .run_pending_migrations(MIGRATIONS)
        .map(|versions| versions.iter().map(ToString::to_string).collect::<Vec<_>>())
        .map_err(|e| StorageError::Migration(e.to_string()));
    if let Err(error) = diesel::sql_query("SELECT pg_advisory_unlock($1)")
        .bind::<BigInt, _>(MIGRATION_LOCK_KEY)
        .execute(conn)
    {
        tracing::warn!(%error, "could not release the migration lock; closing the connection will");
    }
    let applied = outcome?;
    if applied.is_empty() {
        tracing::debug!("database schema is up to date");
    } else {
        tracing::info!(?applied, "applied database migrations");
    }
    Ok(())
}

/// Creates the database `database_url` names unless it exists, connecting to
/// the `postgres` maintenance database of the same server as the same user.
///
/// Safe to run from several servers at once: losing the race to create it
/// counts as success.
///
/// # Errors
/// [`StorageError::InvalidConfig`] unless `database_url` is a `postgres://`
/// URL naming a database; [`StorageError::Unavailable`] when the server cannot
/// be reached within `connect_timeout`; [`StorageError::Unexpected`] when it
/// refuses to create the database (e.g. the user lacks `CREATEDB`).
pub fn ensure_database_exists(
    database_url: &str,
    connect_timeout: Duration,
) -> Result<(), StorageError> {
    let name = database_name(database_url)?;
    let maintenance =
        with_connect_timeout(&with_database(database_url, "postgres")?, connect_timeout);
    let mut conn = PgConnection::establish(&maintenance).map_err(|e| {
        StorageError::Unavailable(format!("cannot connect to {}: {e}", redact(&maintenance)))
    })?;
    if database_exists(&mut conn, &name)? {
        return Ok(());
    }
    match conn.batch_execute(&format!("CREATE DATABASE {}", quote_identifier(&name))) {
        Ok(()) => {
            tracing::info!(database = %name, "created database");
            Ok(())
        }
        // Another server created it between our check and our CREATE.
        Err(_) if database_exists(&mut conn, &name)? => Ok(()),
        Err(e) => Err(StorageError::Unexpected(format!(
            "cannot create database {name}: {e}"
        ))),
    }
}

pub(crate) fn database_exists(conn: &mut PgConnection, name: &str) -> Result<bool, StorageError> {
    #[derive(QueryableByName)]
    struct Exists {
        #[diesel(sql_type = diesel::sql_types::Bool)]
        exists: bool,
    }
    diesel::sql_query("SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1) AS exists")
        .bind::<Text, _>(name)
        .get_result::<Exists>(conn)
        .map(|row| row.exists)
        .map_err(|e| StorageError::Unexpected(map_diesel_error("look up database", e).to_string()))
}

/// `"name"`, with embedded quotes doubled: safe to splice into DDL.
pub(crate) fn quote_identifier(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// Sets `statement_timeout` and `lock_timeout` on every new pooled
/// connection: a statement stuck behind a lock or running away ends with an
/// error the adapter maps to `Unavailable` (a `503`), and its connection
/// returns to the pool, instead of holding both until the client gives up.
#[derive(Debug, Clone, Copy)]
struct SessionTimeouts {
    statement: Duration,
    lock: Duration,
}

impl CustomizeConnection<PgConnection, diesel::r2d2::Error> for SessionTimeouts {
    fn on_acquire(&self, conn: &mut PgConnection) -> Result<(), diesel::r2d2::Error> {
        let millis = |d: Duration| d.as_millis().min(i32::MAX as u128);
        conn.batch_execute(&format!(
            "SET statement_timeout = {}; SET lock_timeout = {}",
            millis(self.statement),
            millis(self.lock)
        ))
        .map_err(diesel::r2d2::Error::QueryError)
    }
}

/// Sends r2d2's background connection failures to `tracing` (r2d2 would use
/// the `log` crate, which this service does not initialise).
#[derive(Debug, Clone, Copy)]
struct LogConnectionErrors;

impl HandleError<diesel::r2d2::Error> for LogConnectionErrors {
    fn handle_error(&self, error: diesel::r2d2::Error) {
        tracing::warn!(%error, "PostgreSQL connection failed");
    }
}

/// Lists load one row more than the page; if it came, the page is trimmed to
/// `page_size` and the cursor of its last row says where the next page starts.
pub(crate) fn split_next_cursor<R>(
    rows: &mut Vec<R>,
    page_size: usize,
    key: impl Fn(&R) -> (chrono::DateTime<chrono::Utc>, uuid::Uuid),
) -> Option<order_app::ListCursor> {
    if rows.len() <= page_size {
        return None;
    }
    rows.truncate(page_size);
    rows.last().map(|last| {
        let (created_at, id) = key(last);
        order_app::ListCursor { created_at, id }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(feature = "testing")]
    #[test]
    fn migrations_revert_cleanly_and_apply_again() {
        use diesel::sql_types::BigInt;

        #[derive(QueryableByName)]
        struct Count {
            #[diesel(sql_type = BigInt)]
            n: i64,
        }
        let count_tables = |conn: &mut PgConnection| {
            diesel::sql_query(
                "SELECT count(*) AS n FROM pg_class \
                 WHERE relname LIKE 'order_mgmt_%' OR relname LIKE 'customer_mgmt_%'",
            )
            .get_result::<Count>(conn)
            .unwrap()
            .n
        };
        let db = crate::testing::TestDatabase::new();
        let mut conn = db.connection();
        assert!(count_tables(&mut conn) > 0);

        conn.revert_all_migrations(MIGRATIONS).unwrap();
        assert_eq!(count_tables(&mut conn), 0, "down.sql leaves nothing behind");

        migrate(&mut conn).unwrap();
        assert!(!conn.has_pending_migration(MIGRATIONS).unwrap());
    }

    #[cfg(feature = "testing")]
    #[test]
    fn pooled_connections_carry_the_configured_timeouts() {
        #[derive(QueryableByName)]
        struct Setting {
            #[diesel(sql_type = Text)]
            value: String,
        }
        let db = crate::testing::TestDatabase::new();
        let store = PgStore::connect(&PgConfig {
            statement_timeout: Duration::from_millis(1500),
            lock_timeout: Duration::from_millis(250),
            ..db.config(1)
        })
        .unwrap();
        let mut conn = store.db.checkout().unwrap();
        let show = |conn: &mut PgConnection, name: &str| {
            diesel::sql_query(format!("SELECT current_setting('{name}') AS value"))
                .get_result::<Setting>(conn)
                .unwrap()
                .value
        };
        assert_eq!(show(&mut conn, "statement_timeout"), "1500ms");
        assert_eq!(show(&mut conn, "lock_timeout"), "250ms");
        assert!(
            store.url.contains("keepalives_idle="),
            "{}",
            redact(&store.url)
        );
    }

    #[test]
    fn identifiers_are_quoted() {
        assert_eq!(quote_identifier("orders"), "\"orders\"");
        assert_eq!(quote_identifier("a\"b"), "\"a\"\"b\"");
    }
}
