//! Route handlers, grouped by resource.

pub mod customers;
pub mod orders;
