//! Handler tests through actix's test service, with `mockall` mocks of the
//! ports behind the real use cases: status codes, headers, bodies, and the
//! problem+json mapping of errors. One module per resource; `support` holds
//! what they share.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

mod customers;
mod edits;
mod errors;
mod idempotency;
mod lines;
mod operations;
mod orders;
mod shipments;
mod transitions;
