//! Tests of the SQLite adapter: the storage contract every adapter passes
//! (`contract`, from `order-storage-contract`) and what only this store does
//! (`sqlite`: its pragmas, its schema's walls in raw SQL, a busy writer).
//! Every test has its own database file.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod contract;
mod sqlite;
