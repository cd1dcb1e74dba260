//! A fresh, migrated database file per test, deleted afterwards.

#![allow(clippy::expect_used)]

use std::path::PathBuf;

use order_app::RepositoryError;

use crate::{SqliteConfig, SqliteStore};

/// A database file in its own temporary directory, removed on drop.
#[derive(Debug)]
pub struct TestDatabase {
    dir: PathBuf,
}

impl TestDatabase {
    /// Creates and migrates a new database file.
    ///
    /// # Panics
    /// If the file cannot be created or migrated (a test cannot go on).
    #[must_use]
    pub fn new() -> Self {
        let dir = std::env::temp_dir().join(format!(
            "order-sqlite-test-{}",
            uuid::Uuid::now_v7().simple()
        ));
        let db = Self { dir };
        db.store()
            .run_migrations()
            .expect("migrate the test database");
        db
    }

    /// The database file.
    #[must_use]
    pub fn path(&self) -> PathBuf {
        self.dir.join("order-mgmt.sqlite3")
    }

    /// A store (a pool of 4) on the file.
    ///
    /// # Panics
    /// If the file cannot be opened.
    #[must_use]
    pub fn store(&self) -> SqliteStore {
        self.store_with_pool_size(4)
    }

    /// A store with `pool_size` connections on the file.
    ///
    /// # Panics
    /// If the file cannot be opened.
    #[must_use]
    pub fn store_with_pool_size(&self, pool_size: u32) -> SqliteStore {
        SqliteStore::open(&SqliteConfig {
            pool_size,
            // Generous: the contract's concurrency tests queue up to twenty
            // writers on one lock on a busy test machine.
            busy_timeout: std::time::Duration::from_secs(30),
            connect_timeout: std::time::Duration::from_secs(30),
            ..SqliteConfig::new(self.path())
        })
        .expect("open the test database")
    }
}

impl TestDatabase {
    /// Runs `sql` (one statement: SQLite prepares only the first) on a pooled connection, with the
    /// pragmas every connection of the store gets, errors mapped as the
    /// repositories map them: for tests of the schema's own walls.
    ///
    /// # Errors
    /// The statement's error as a [`RepositoryError`].
    ///
    /// # Panics
    /// If the file cannot be opened.
    pub fn execute(&self, sql: &str) -> Result<usize, RepositoryError> {
        use diesel::RunQueryDsl;
        self.store().db().write("test statement", |conn| {
            diesel::sql_query(sql)
                .execute(conn)
                .map_err(crate::store::WriteError::from)
        })
    }

    /// The text the one-row query `sql` answers in its column `value`, on a
    /// pooled connection (e.g. `SELECT journal_mode AS value FROM pragma_journal_mode`).
    ///
    /// # Panics
    /// If the query fails.
    #[must_use]
    pub fn query_text(&self, sql: &str) -> String {
        use diesel::RunQueryDsl;
        #[derive(diesel::QueryableByName)]
        struct Answer {
            #[diesel(sql_type = diesel::sql_types::Text)]
            value: String,
        }
        self.store()
            .db()
            .read("test query", |conn| {
                diesel::sql_query(sql).get_result::<Answer>(conn)
            })
            .expect("test query")
            .value
    }
}

impl Default for TestDatabase {
    fn default() -> Self {
        Self::new()
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        // Best effort: a leftover temporary directory harms nothing.
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
