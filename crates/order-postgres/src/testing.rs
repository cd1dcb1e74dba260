//! Test support (feature `testing`): a fresh, migrated database per test.
//!
//! Following crates.io's test harness: the migrations run once into a
//! *template* database, and every [`TestDatabase`] is a `CREATE DATABASE ..
//! TEMPLATE` copy of it (a file copy, much faster than migrating), dropped
//! with `DROP DATABASE .. WITH (FORCE)` when the value is dropped. Tests
//! therefore run in parallel, threads or processes (`cargo test`, `cargo
//! nextest`), without seeing each other's rows or a previous run's.
//!
//! The template is named after a fingerprint of the migrations' SQL, so a
//! changed migration gets a new template, and it is built under an advisory
//! lock, then renamed into place: concurrent test processes never see a
//! half-migrated template.
//!
//! The server is `TEST_DATABASE_URL` (default
//! `postgres://postgres@127.0.0.1:5432/postgres`), a URL of a maintenance
//! database whose user may create databases.

use std::sync::OnceLock;
use std::time::Duration;

use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::sql_types::BigInt;
use order_app::RepositoryError;
use uuid::Uuid;

use crate::config::{with_connect_timeout, with_database};
use crate::store::{self, migrate, quote_identifier};
use crate::{map_diesel_error, PgConfig, PgStore};

/// The maintenance URL used when `TEST_DATABASE_URL` is not set.
pub const DEFAULT_TEST_DATABASE_URL: &str = "postgres://postgres@127.0.0.1:5432/postgres";

/// Session advisory lock taken while the template is built ("ordertpl").
const TEMPLATE_LOCK_KEY: i64 = 0x6f72_6465_7274_706c;

/// How long harness connections may take to open.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// A database of its own for one test, migrated, dropped on drop.
///
/// ```no_run
/// use order_postgres::testing::TestDatabase;
/// let db = TestDatabase::new();
/// let store = db.store();
/// store.ping()?;
/// # Ok::<(), order_app::RepositoryError>(())
/// ```
#[derive(Debug)]
pub struct TestDatabase {
    name: String,
    url: String,
    maintenance_url: String,
}

impl TestDatabase {
    /// Creates a fresh database from the migrated template.
    ///
    /// # Panics
    /// When the test server cannot be reached or refuses to create databases:
    /// a test cannot run without one, and the message says why.
    #[must_use]
    pub fn new() -> Self {
        let maintenance_url = maintenance_url();
        let template = template(&maintenance_url);
        let name = format!("order_test_{}", Uuid::now_v7().simple());
        let mut conn = connect(&maintenance_url);
        conn.batch_execute(&format!(
            "CREATE DATABASE {} TEMPLATE {}",
            quote_identifier(&name),
            quote_identifier(template)
        ))
        .unwrap_or_else(|e| panic!("cannot create test database {name}: {e}"));
        let url = with_database(&maintenance_url, &name)
            .unwrap_or_else(|e| panic!("TEST_DATABASE_URL: {e}"));
        Self {
            name,
            url,
            maintenance_url,
        }
    }

    /// Creates an empty database, without any migration: for testing the
    /// migrations themselves.
    ///
    /// # Panics
    /// As [`TestDatabase::new`].
    #[must_use]
    pub fn empty() -> Self {
        let maintenance_url = maintenance_url();
        let name = format!("order_test_{}", Uuid::now_v7().simple());
        connect(&maintenance_url)
            .batch_execute(&format!("CREATE DATABASE {}", quote_identifier(&name)))
            .unwrap_or_else(|e| panic!("cannot create test database {name}: {e}"));
        let url = with_database(&maintenance_url, &name)
            .unwrap_or_else(|e| panic!("TEST_DATABASE_URL: {e}"));
        Self {
            name,
            url,
            maintenance_url,
        }
    }

    /// The database's name (`order_test_<uuid>`).
    #[must_use]
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The database's URL.
    #[must_use]
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The configuration of a store on this database.
    #[must_use]
    pub fn config(&self, pool_size: u32) -> PgConfig {
        PgConfig {
            pool_size,
            connect_timeout: CONNECT_TIMEOUT,
            ..PgConfig::new(self.url.clone())
        }
    }

    /// A store with a small pool on this database.
    ///
    /// # Panics
    /// When the database cannot be reached.
    #[must_use]
    pub fn store(&self) -> PgStore {
        self.store_with_pool_size(4)
    }

    /// A store with `pool_size` connections at most, for concurrency tests.
    ///
    /// # Panics
    /// When the database cannot be reached.
    #[must_use]
    pub fn store_with_pool_size(&self, pool_size: u32) -> PgStore {
        PgStore::connect(&self.config(pool_size))
            .unwrap_or_else(|e| panic!("cannot connect to {}: {e}", self.name))
    }

    /// A plain connection, for raw SQL in tests.
    ///
    /// # Panics
    /// When the database cannot be reached.
    #[must_use]
    pub fn connection(&self) -> PgConnection {
        connect(&self.url)
    }

    /// A connection to the server's maintenance database, for statements
    /// about this database itself (refusing connections, dropping it, ...).
    ///
    /// # Panics
    /// When the server cannot be reached.
    #[must_use]
    pub fn maintenance_connection(&self) -> PgConnection {
        connect(&self.maintenance_url)
    }

    /// Runs one SQL statement and reports a failure exactly as the
    /// repositories would (a CHECK violation is
    /// `RepositoryError::ConstraintViolation("check_total")`, ...): lets tests
    /// prove the schema rejects rows the domain can never produce.
    ///
    /// # Errors
    /// The statement's failure, mapped to [`RepositoryError`].
    ///
    /// # Panics
    /// When the database cannot be reached.
    pub fn execute(&self, sql: &str) -> Result<usize, RepositoryError> {
        diesel::sql_query(sql)
            .execute(&mut self.connection())
            .map_err(|e| map_diesel_error("test statement", e))
    }
}

impl Default for TestDatabase {
    fn default() -> Self {
        Self::new()
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        let dropped = PgConnection::establish(&self.maintenance_url)
            .map_err(|e| e.to_string())
            .and_then(|mut conn| {
                conn.batch_execute(&format!(
                    "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                    quote_identifier(&self.name)
                ))
                .map_err(|e| e.to_string())
            });
        if let Err(error) = dropped {
            // Never panic in drop (it may run while a test is unwinding).
            eprintln!("could not drop test database {}: {error}", self.name);
        }
    }
}

fn maintenance_url() -> String {
    let url = std::env::var("TEST_DATABASE_URL")
        .ok()
        .filter(|url| !url.trim().is_empty())
        .unwrap_or_else(|| DEFAULT_TEST_DATABASE_URL.to_owned());
    with_connect_timeout(&url, CONNECT_TIMEOUT)
}

fn connect(url: &str) -> PgConnection {
    PgConnection::establish(url)
        .unwrap_or_else(|e| panic!("cannot connect to the test database server: {e}"))
}

/// The migrated template's name, creating it on first use in this process
/// (and only if no other process has).
fn template(maintenance_url: &str) -> &'static str {
    static TEMPLATE: OnceLock<String> = OnceLock::new();
    TEMPLATE.get_or_init(|| {
        let name = format!(
            "order_test_template_{}",
            env!("ORDER_MIGRATIONS_FINGERPRINT")
        );
        let mut conn = connect(maintenance_url);
        diesel::sql_query("SELECT pg_advisory_lock($1)")
            .bind::<BigInt, _>(TEMPLATE_LOCK_KEY)
            .execute(&mut conn)
            .unwrap_or_else(|e| panic!("cannot lock the template: {e}"));
        if !database_exists(&mut conn, &name) {
            build_template(&mut conn, maintenance_url, &name);
        }
        // Closing `conn` releases the lock as well; unlock early anyway.
        let _ = diesel::sql_query("SELECT pg_advisory_unlock($1)")
            .bind::<BigInt, _>(TEMPLATE_LOCK_KEY)
            .execute(&mut conn);
        name
    })
}

/// Migrates a scratch database, then renames it to `name`: the template
/// appears complete or not at all, even if this process dies half-way.
fn build_template(conn: &mut PgConnection, maintenance_url: &str, name: &str) {
    let scratch = format!("order_test_build_{}", Uuid::now_v7().simple());
    conn.batch_execute(&format!("CREATE DATABASE {}", quote_identifier(&scratch)))
        .unwrap_or_else(|e| panic!("cannot create {scratch}: {e}"));
    {
        let url = with_database(maintenance_url, &scratch)
            .unwrap_or_else(|e| panic!("TEST_DATABASE_URL: {e}"));
        let mut scratch_conn = connect(&url);
        migrate(&mut scratch_conn).unwrap_or_else(|e| panic!("cannot migrate {scratch}: {e}"));
    }
    // No connection may be open on a template that gets copied: forbid them.
    conn.batch_execute(&format!(
        "ALTER DATABASE {scratch_q} RENAME TO {name_q}; \
         ALTER DATABASE {name_q} WITH IS_TEMPLATE true ALLOW_CONNECTIONS false;",
        scratch_q = quote_identifier(&scratch),
        name_q = quote_identifier(name),
    ))
    .unwrap_or_else(|e| panic!("cannot turn {scratch} into template {name}: {e}"));
}

fn database_exists(conn: &mut PgConnection, name: &str) -> bool {
    store::database_exists(conn, name)
        .unwrap_or_else(|e| panic!("cannot look up database {name}: {e}"))
}
