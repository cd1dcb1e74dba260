//! Contract tests of the PostgreSQL adapter against a real server.
//!
//! One test binary (one link, one template check per process); every test
//! gets its own database from `order_postgres::testing::TestDatabase`, so the
//! tests run in parallel under `cargo test` and `cargo nextest` alike.
//! The server is `TEST_DATABASE_URL` (default: the local PostgreSQL).

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod availability;
mod concurrency;
mod constraints;
mod customers;
mod edits;
mod history;
mod idempotency;
mod keys;
mod orders;
mod pricing;
mod shipments;
mod support;
