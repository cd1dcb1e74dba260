//! End-to-end tests: the real `order-server` binary on a free port against a
//! fresh PostgreSQL database per test, driven over HTTP; `embedded` runs it
//! with no `DATABASE_URL` at all, on its default SQLite file.
//!
//! One test binary (modules below) so the server binary is built once.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod after_confirmation;
mod auth;
mod concurrency;
mod edits;
mod embedded;
mod events;
mod flow;
mod helpers;
mod hostile;
mod idempotency;
mod keys;
mod outage;
mod pricing;
mod shutdown;
