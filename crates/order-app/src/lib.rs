//! # order-app
//!
//! The application layer of the Order Management context: the **ports** the
//! use cases need ([`ports::OrderRepository`], [`ports::CustomerDirectory`],
//! [`ports::Clock`], ...), the **use cases** themselves ([`Orders`],
//! [`Customers`]), one operation per method and per file, and the service
//! traits adapters call them through ([`OrderService`], [`CustomerService`]).
//!
//! Nothing here knows HTTP or SQL: no status codes, header or parameter
//! names, no rendering. Adapters implement the ports; the HTTP adapter calls
//! the services. With the `mocks` feature every port and service has a
//! `mockall` mock so other crates can test without infrastructure.
//!
//! ```
//! # #[cfg(feature = "mocks")] {
//! use std::sync::Arc;
//! use order_app::ports::*;
//! use order_app::{CreateOrder, OrderPorts, Orders};
//! use order_domain::{Actor, Currency, CustomerId, OrderNumber, TaxMode};
//!
//! let mut customers = MockCustomerDirectory::new();
//! customers.expect_exists().return_const(Ok(true));
//! let mut numbers = MockOrderNumberAllocator::new();
//! numbers.expect_next_number().returning(|year| Ok(OrderNumber::new(year, 1).unwrap()));
//! let mut orders = MockOrderRepository::new();
//! orders.expect_insert().returning(|_, _| Ok(()));
//! let edits = MockOrderEditRepository::new();
//!
//! let use_cases = Orders::new(OrderPorts {
//!     orders: Arc::new(orders),
//!     edits: Arc::new(edits),
//!     numbers: Arc::new(numbers),
//!     customers: Arc::new(customers),
//!     clock: Arc::new(SystemClock),
//!     ids: Arc::new(UuidV7Generator),
//! });
//! let order = use_cases
//!     .create(CreateOrder {
//!         customer_id: CustomerId::from_uuid(uuid::Uuid::now_v7()),
//!         company_id: None,
//!         currency: Currency::USD,
//!         actor: Actor::anonymous(),
//!         tax_mode: TaxMode::default(),
//!     }, None)
//!     .unwrap();
//! assert!(order.number().to_string().ends_with("-000001"));
//! # }
//! ```

#![deny(missing_docs)]

pub mod access;
mod customers;
mod error;
pub mod idempotency;
pub mod model;
mod orders;
mod paging;
pub mod ports;
pub mod relay;
mod services;

pub use customers::Customers;
pub use error::{AppError, ConflictDetail, RepositoryError};
pub use model::{Customer, Email, NewCustomer};
pub use orders::{
    AddDiscount, AddLine, Backoff, CreateOrder, DiscountAmount, EditView, HistoryPage, OrderPorts,
    Orders, RecordedEvent, ReturnLines, ShipLines, StageChange, StoredHistory, Write,
};
pub use paging::{InvalidPage, ListCursor, OrderFilter, Page, PageRequest};
pub use services::{CustomerService, OrderService};
#[cfg(feature = "mocks")]
pub use services::{MockCustomerService, MockOrderService};
