//! # order-sqlite
//!
//! The embedded adapter of the Order Management service: the whole store in
//! one SQLite file, compiled in (`libsqlite3-sys`, bundled), so the service
//! runs with nothing to install. It is the default when `DATABASE_URL` is not
//! set; PostgreSQL (`order-postgres`) stays the production store.
//!
//! | port | implementation |
//! |---|---|
//! | [`OrderRepository`](order_app::ports::OrderRepository) | [`SqliteOrderRepository`] |
//! | [`OrderNumberAllocator`](order_app::ports::OrderNumberAllocator) | [`SqliteOrderNumberAllocator`] |
//! | [`CustomerRepository`](order_app::ports::CustomerRepository), [`CustomerDirectory`](order_app::ports::CustomerDirectory) | [`SqliteCustomerRepository`] |
//! | [`OrderEditRepository`](order_app::ports::OrderEditRepository) | [`SqliteOrderEditRepository`] |
//! | [`IdempotencyStore`](order_app::idempotency::IdempotencyStore) | [`SqliteIdempotencyStore`] |
//! | [`ApiKeyStore`](order_app::ports::ApiKeyStore) | [`SqliteApiKeyStore`] |
//! | [`Outbox`](order_app::relay::Outbox) | [`SqliteOutbox`] (polled; no `NOTIFY`) |
//! | [`StorageHealth`](order_app::ports::StorageHealth) | [`SqliteStore`] |
//!
//! It passes the same storage contract as PostgreSQL
//! (`crates/order-storage-contract`, run by `tests/contract.rs`).
//!
//! **What it is not for.** SQLite lets one writer write at a time (writers
//! queue on one lock, up to `busy_timeout`, then get `503` with
//! `Retry-After`), and the file must be on the machine of the one server
//! process that uses it. For several servers, or write-heavy load, use
//! PostgreSQL.
//!
//! **What is shared with `order-postgres`, and what is not.** Both adapters
//! map through the domain's snapshots (`Order::snapshot`/`Order::restore`),
//! take the event envelope from `order-events`, report the same
//! `RepositoryError`s (duplicates carry the PostgreSQL constraint names), and
//! are held to one contract. The diesel code is not shared: the PostgreSQL
//! rows use `uuid`, `timestamptz`, `jsonb` and `text[]` columns that diesel's
//! SQLite backend cannot bind, and its queries lean on `FOR UPDATE`,
//! `SKIP LOCKED`, `= ANY`, sequences and `EXPLAIN` estimates; diesel's
//! `MultiConnection` would need one set of column types for both, i.e.
//! giving those up on PostgreSQL. So this crate has its own schema
//! (`migrations-sqlite/`, the same constraint names) and rows.
//!
//! ```no_run
//! use order_sqlite::{SqliteConfig, SqliteStore};
//! let store = SqliteStore::open(&SqliteConfig::new("data/order-mgmt.sqlite3"))?;
//! store.run_migrations()?;
//! let (orders, numbers, customers) = (store.orders(), store.numbers(), store.customers());
//! # Ok::<(), order_sqlite::StorageError>(())
//! ```

mod codec;
mod customers;
mod edits;
mod error;
mod idempotency;
mod keys;
mod numbers;
mod orders;
mod outbox;
mod rows;
mod schema;
mod store;
#[cfg(feature = "testing")]
pub mod testing;

pub use customers::SqliteCustomerRepository;
pub use edits::SqliteOrderEditRepository;
pub use error::StorageError;
pub use idempotency::SqliteIdempotencyStore;
pub use keys::SqliteApiKeyStore;
pub use numbers::SqliteOrderNumberAllocator;
pub use orders::SqliteOrderRepository;
pub use outbox::SqliteOutbox;
pub use store::{SqliteConfig, SqliteStore};
