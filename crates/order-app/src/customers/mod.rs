//! The minimal Customer Management context the described order flow needs:
//! create a customer, find one, list them.

mod customer;
mod use_cases;

pub use customer::{Customer, CustomerSnapshot, Email, NewCustomer};
pub use use_cases::Customers;
