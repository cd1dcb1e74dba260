//! Models the use cases and ports share that are not Order-context domain
//! rules: the minimal Customer Management entity the order flow needs.
//!
//! Ports import models from here, never from a use-case module.

mod customer;

pub use customer::{Customer, CustomerSnapshot, Email, NewCustomer};
