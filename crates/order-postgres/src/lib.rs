//! # order-postgres
//!
//! The PostgreSQL adapter of the Order Management service: the diesel schema
//! of `migrations/`, the connection pool, and the implementations of the
//! `order-app` storage ports.
//!
//! | port | implementation |
//! |---|---|
//! | [`OrderRepository`](order_app::ports::OrderRepository) | [`PgOrderRepository`] |
//! | [`OrderNumberAllocator`](order_app::ports::OrderNumberAllocator) | [`PgOrderNumberAllocator`] |
//! | [`CustomerRepository`](order_app::ports::CustomerRepository), [`CustomerDirectory`](order_app::ports::CustomerDirectory) | [`PgCustomerRepository`] |
//! | [`IdempotencyStore`](order_app::idempotency::IdempotencyStore) | [`PgIdempotencyStore`] |
//! | [`ApiKeyStore`](order_app::ports::ApiKeyStore) | [`PgApiKeyStore`] |
//! | [`StorageHealth`](order_app::ports::StorageHealth) | [`PgStore`] |
//!
//! Rows, queries and diesel's errors stay inside this crate: the ports speak
//! domain types and [`RepositoryError`](order_app::RepositoryError), mapped in
//! one place. Setting up (pool, database, migrations) reports [`StorageError`].
//!
//! ```no_run
//! use std::time::Duration;
//! use order_postgres::{ensure_database_exists, PgConfig, PgStore};
//!
//! let config = PgConfig {
//!     pool_size: 16,
//!     connect_timeout: Duration::from_secs(5),
//!     statement_timeout: Duration::from_secs(5),
//!     ..PgConfig::new("postgres://postgres@127.0.0.1:5432/orders")
//! };
//! ensure_database_exists(&config.database_url, config.connect_timeout)?;
//! let store = PgStore::connect(&config)?;
//! store.run_migrations()?;
//! let (orders, numbers, customers) = (store.orders(), store.numbers(), store.customers());
//! # Ok::<(), order_postgres::StorageError>(())
//! ```
//!
//! With the `testing` feature, `order_postgres::testing::TestDatabase` gives
//! every test its own freshly migrated database.

mod config;
mod customers;
mod error;
mod idempotency;
mod keys;
mod manager;
mod numbers;
mod orders;
pub mod outbox;
// Generated from migrations/ by `diesel print-schema` (diesel.toml); never edited
// by hand: `make schema` rewrites it and CI's `make schema-check` fails on drift.
// `table!` items carry no docs, and the module is private to the crate.
#[allow(missing_docs)]
mod schema;
mod statement;
mod store;
#[cfg(feature = "testing")]
pub mod testing;
mod workers;

pub use config::PgConfig;
pub use customers::PgCustomerRepository;
pub(crate) use error::map_diesel_error;
pub use error::StorageError;
pub use idempotency::PgIdempotencyStore;
pub use keys::PgApiKeyStore;
pub use numbers::PgOrderNumberAllocator;
pub use orders::{PgOrderEditRepository, PgOrderRepository};
pub use store::{ensure_database_exists, PgStore, PoolState};
