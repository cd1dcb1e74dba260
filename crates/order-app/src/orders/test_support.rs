//! Mocked ports and fixtures for the order use-case tests.
#![allow(clippy::unwrap_used)]

use std::sync::Arc;

use chrono::{DateTime, TimeZone, Utc};
use order_domain::*;
use uuid::Uuid;

use super::{OrderPorts, Orders};
use crate::ports::{
    MockClock, MockCustomerDirectory, MockIdGenerator, MockOrderEditRepository,
    MockOrderNumberAllocator, MockOrderRepository,
};

/// The domain's code of a refusal the domain made (panics for any other error).
pub fn domain_code(err: &crate::AppError) -> &'static str {
    match err {
        crate::AppError::Domain(domain) => domain.code(),
        other => panic!("not a domain refusal: {other:?}"),
    }
}

pub fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 12, 30, 12, 0, 0).unwrap()
}

pub fn order_id() -> OrderId {
    OrderId::from_uuid(Uuid::now_v7())
}
pub fn line_id() -> LineId {
    LineId::from_uuid(Uuid::now_v7())
}
pub fn customer() -> CustomerId {
    CustomerId::from_uuid(Uuid::now_v7())
}
pub fn product() -> ProductId {
    ProductId::from_uuid(Uuid::now_v7())
}
pub fn number(year: u16, counter: u64) -> OrderNumber {
    OrderNumber::new(year, counter).unwrap()
}

/// A stored pending order with no lines (version 1).
pub fn pending_order() -> Order {
    let mut order = Order::create(
        NewOrder {
            id: order_id(),
            number: number(2025, 1),
            customer_id: customer(),
            company_id: None,
            currency: Currency::USD,
            tax_mode: order_domain::TaxMode::default(),
        },
        now(),
    );
    order.take_events();
    order
}

/// A stored pending order with one line of 2 × 50.00 (version 2).
pub fn pending_order_with_line() -> Order {
    let mut order = pending_order();
    order
        .add_line(
            NewLine {
                line_id: line_id(),
                product_id: product(),
                quantity: Quantity::new(2).unwrap(),
                unit_price: Money::new(5_000, Currency::USD),
                snapshot: ProductSnapshot::default(),
                tax: order_domain::LineTax::default(),
            },
            now(),
        )
        .unwrap();
    order.take_events();
    order
}

/// A stored order with one line, moved to `status`.
pub fn order_in(status: OrderStatus) -> Order {
    let mut order = pending_order_with_line();
    type Step = fn(&mut Order) -> Result<(), DomainError>;
    let path: &[Step] = match status {
        OrderStatus::Pending => &[],
        OrderStatus::Confirmed => &[|o| o.confirm(now())],
        OrderStatus::Processing => &[|o| o.confirm(now()), |o| o.start_processing(now())],
        OrderStatus::Fulfilled => &[
            |o| o.confirm(now()),
            |o| o.start_processing(now()),
            |o| o.mark_fulfilled(now()),
        ],
        OrderStatus::Cancelled => &[|o| o.cancel(None, now())],
    };
    for step in path {
        step(&mut order).unwrap();
    }
    order.take_events();
    order
}

/// A freshly begun edit of `order` (version 1, no changes).
pub fn open_edit(order: &Order) -> OrderEdit {
    order
        .begin_edit(EditId::from_uuid(Uuid::now_v7()), now())
        .unwrap()
}

/// Mocks of every port, to set expectations on before `build()`.
pub struct Ports {
    pub orders: MockOrderRepository,
    pub edits: MockOrderEditRepository,
    pub numbers: MockOrderNumberAllocator,
    pub customers: MockCustomerDirectory,
}

impl Ports {
    pub fn new() -> Self {
        Self {
            orders: MockOrderRepository::new(),
            edits: MockOrderEditRepository::new(),
            numbers: MockOrderNumberAllocator::new(),
            customers: MockCustomerDirectory::new(),
        }
    }

    /// `find_by_id` answers this order (for any id).
    pub fn stored(&mut self, order: Order) {
        self.orders
            .expect_find_by_id()
            .returning(move |_| Ok(Some(order.clone())));
    }

    /// `find` (of the edit repository) answers this edit (for any id).
    pub fn edit_stored(&mut self, edit: OrderEdit) {
        self.edits
            .expect_find()
            .returning(move |_| Ok(Some(edit.clone())));
    }

    pub fn build(self) -> Orders {
        let mut clock = MockClock::new();
        clock.expect_now().return_const(now());
        let mut ids = MockIdGenerator::new();
        ids.expect_new_id().returning(Uuid::now_v7);
        Orders::new(OrderPorts {
            orders: Arc::new(self.orders),
            edits: Arc::new(self.edits),
            numbers: Arc::new(self.numbers),
            customers: Arc::new(self.customers),
            clock: Arc::new(clock),
            ids: Arc::new(ids),
        })
    }
}
