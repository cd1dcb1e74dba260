//! # order-domain
//!
//! The pure rules of the Order Management context: [`Money`] and [`Currency`],
//! the [`Order`] aggregate with its [`OrderLine`]s, the [`OrderStatus`] state
//! machine, [`OrderNumber`]s and the [`DomainError`]s they raise.
//!
//! No I/O, no async, no clock: the current time is always passed in, so every
//! rule can be tested (and embedded) without infrastructure.
//!
//! ```
//! use chrono::{TimeZone, Utc};
//! use order_domain::*;
//! use uuid::Uuid;
//!
//! // The domain never reads a clock: the caller says what time it is.
//! let now = Utc.with_ymd_and_hms(2025, 12, 30, 12, 0, 0).unwrap();
//! let mut order = Order::create(
//!     NewOrder {
//!         id: OrderId::from_uuid(Uuid::now_v7()),
//!         number: OrderNumber::new(2025, 89_928)?,
//!         customer_id: CustomerId::from_uuid(Uuid::now_v7()),
//!         company_id: None,
//!         currency: Currency::USD,
//!         tax_mode: TaxMode::default(), // prices exclude tax
//!     },
//!     now,
//! );
//! for (quantity, cents) in [(3, 10_000), (2, 7_500)] {
//!     order.add_line(
//!         NewLine {
//!             line_id: LineId::from_uuid(Uuid::now_v7()),
//!             product_id: ProductId::from_uuid(Uuid::now_v7()),
//!             quantity: Quantity::new(quantity)?,
//!             unit_price: Money::new(cents, Currency::USD),
//!             snapshot: ProductSnapshot::default(),
//!             tax: LineTax::default(), // untaxed
//!         },
//!         now,
//!     )?;
//! }
//! assert_eq!(order.total().to_decimal_string(), "450.00"); // 3 × 100.00 + 2 × 75.00
//!
//! order.confirm(now)?;
//! assert_eq!(order.status(), OrderStatus::Confirmed);
//! assert!(!order.is_editable());
//! assert_eq!(order.version(), 4); // created, two lines, confirmed
//! # Ok::<(), DomainError>(())
//! ```

#![deny(missing_docs)]

mod actor;
mod discount;
mod edit;
mod error;
mod event;
mod fulfillment;
mod ids;
mod line;
mod money;
mod number;
mod order;
mod pricing;
mod returns;
mod status;

pub use actor::Actor;
pub use discount::{Discount, DiscountSnapshot, NewDiscount};
pub use edit::{EditChange, EditDiff, EditPreview, EditState, OrderEdit, OrderEditSnapshot};
pub use error::{DomainError, OrderAction};
pub use event::{OrderEvent, OrderEventKind};
pub use fulfillment::{
    Fulfillment, FulfillmentSnapshot, FulfillmentStatus, LineQuantity, NewFulfillment,
};
pub use ids::{
    CompanyId, CustomerId, DiscountId, EditId, FulfillmentId, LineId, OrderId, ProductId, ReturnId,
};
pub use line::{LineSnapshot, LineTax, NewLine, OrderLine, ProductSnapshot, Quantity};
pub use money::{Currency, Money};
pub use number::OrderNumber;
pub use order::{LineProgress, NewOrder, Order, OrderSnapshot};
pub use pricing::{
    allocate_largest_remainder, price_order, DiscountValue, LinePrice, OrderTotals, Percentage,
    Pricing, PricingLine, TaxMode, TaxRate,
};
pub use returns::{cumulative_refund, NewReturn, Return, ReturnLine, ReturnSnapshot, ReturnStatus};
pub use status::OrderStatus;
