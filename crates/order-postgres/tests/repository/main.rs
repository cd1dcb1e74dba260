//! Tests of the PostgreSQL adapter against a real server: the storage
//! contract every adapter passes (`contract`, from `order-storage-contract`)
//! and what only PostgreSQL does (its schema's checks in raw SQL, row
//! versions, estimates, timeouts and outages).
//!
//! One test binary (one link, one template check per process); every test
//! gets its own database from `order_postgres::testing::TestDatabase`, so the
//! tests run in parallel under `cargo test` and `cargo nextest` alike.
//! The server is `TEST_DATABASE_URL` (default: the local PostgreSQL).

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod availability;
mod constraints;
mod contract;
mod orders;
mod pricing;
mod shipments;
mod support;
