//! Builders for the contract tests: customers and orders made through the
//! domain's own methods, at microsecond-precise times (what PostgreSQL keeps).

use chrono::{DateTime, Duration, Utc};
use order_app::model::{Customer, NewCustomer};
use order_app::ports::{CustomerRepository, OrderNumberAllocator, OrderRepository};
use order_domain::{
    Currency, CustomerId, LineId, LineTax, Money, NewLine, NewOrder, Order, OrderId, ProductId,
    ProductSnapshot, Quantity, TaxMode,
};
use order_postgres::PgStore;
use uuid::Uuid;

/// A fixed, microsecond-precise instant plus `seconds`.
pub fn at(seconds: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_micros(1_767_225_600_123_456).unwrap() + Duration::seconds(seconds)
}

/// Registers a customer and returns its id.
pub fn customer(store: &PgStore) -> CustomerId {
    let id = CustomerId::from_uuid(Uuid::now_v7());
    let customer = Customer::create(
        id,
        NewCustomer {
            name: "John Doe".into(),
            email: format!("john.{}@example.com", id.as_uuid().simple()),
            source: Some("web".into()),
        },
        at(0),
    )
    .unwrap();
    store.customers().insert(&customer, None).unwrap();
    id
}

/// A new pending USD order (not stored, its `OrderCreated` event pending),
/// created at `at(created)`.
pub fn order(store: &PgStore, customer_id: CustomerId, created: i64) -> Order {
    Order::create(
        NewOrder {
            id: OrderId::from_uuid(Uuid::now_v7()),
            number: store.numbers().next_number(2025).unwrap(),
            customer_id,
            company_id: None,
            currency: Currency::USD,
            tax_mode: TaxMode::default(),
        },
        at(created),
    )
}

/// A new line for `product` of `quantity` units at `cents` USD.
pub fn line(quantity: i64, cents: i64) -> NewLine {
    NewLine {
        line_id: LineId::from_uuid(Uuid::now_v7()),
        product_id: ProductId::from_uuid(Uuid::now_v7()),
        quantity: Quantity::new(quantity).unwrap(),
        unit_price: Money::new(cents, Currency::USD),
        snapshot: ProductSnapshot::new(Some(format!("{quantity} × {cents}")), None).unwrap(),
        tax: LineTax::default(),
    }
}

/// Stores a new order for `customer_id` created at `at(created)`, with one
/// line, and returns it as stored.
pub fn stored_order(store: &PgStore, customer_id: CustomerId, created: i64) -> Order {
    let mut order = order(store, customer_id, created);
    order.add_line(line(1, 1_000), at(created)).unwrap();
    store.orders().insert(&order, None).unwrap();
    order.take_events();
    order
}

/// Applies `change` to the stored order and saves it; returns the saved order.
pub fn change(store: &PgStore, order: &Order, change: impl FnOnce(&mut Order)) -> Order {
    let mut changed = order.clone();
    change(&mut changed);
    store
        .orders()
        .update(&changed, order.version(), None)
        .unwrap();
    changed.take_events();
    changed
}
