//! Builders for the contract tests: customers and orders made through the
//! domain's own methods, at microsecond-precise times (what PostgreSQL keeps).

use chrono::{DateTime, Duration, Utc};
use order_app::model::{Customer, NewCustomer};
use order_domain::{
    CompanyId, Currency, CustomerId, DiscountId, DiscountValue, LineId, LineTax, Money,
    NewDiscount, NewLine, NewOrder, Order, OrderId, Percentage, ProductId, ProductSnapshot,
    Quantity, TaxMode, TaxRate,
};
use uuid::Uuid;

use crate::Storage;

/// A fixed, microsecond-precise instant plus `seconds`.
pub fn at(seconds: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_micros(1_767_225_600_123_456).unwrap() + Duration::seconds(seconds)
}

/// Registers a customer and returns its id.
pub fn customer(store: &dyn Storage) -> CustomerId {
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
pub fn order(store: &dyn Storage, customer_id: CustomerId, created: i64) -> Order {
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
pub fn stored_order(store: &dyn Storage, customer_id: CustomerId, created: i64) -> Order {
    let mut order = order(store, customer_id, created);
    order.add_line(line(1, 1_000), at(created)).unwrap();
    store.orders().insert(&order, None).unwrap();
    order.take_events();
    order
}

/// Applies `change` to the stored order and saves it; returns the saved order.
pub fn change(store: &dyn Storage, order: &Order, change: impl FnOnce(&mut Order)) -> Order {
    let mut changed = order.clone();
    change(&mut changed);
    store
        .orders()
        .update(&changed, order.version(), None)
        .unwrap();
    changed.take_events();
    changed
}

/// An order exercising every stored field: a company, prices including tax,
/// three lines with snapshots and tax rates (one with a category), a
/// percentage discount with a code and a fixed one with a description, and
/// the confirm/process/cancel timestamps.
pub fn order_with_every_field(store: &dyn Storage, customer_id: CustomerId) -> Order {
    let mut order = Order::create(
        NewOrder {
            id: OrderId::from_uuid(Uuid::now_v7()),
            number: store.numbers().next_number(2025).unwrap(),
            customer_id,
            company_id: Some(CompanyId::from_uuid(Uuid::now_v7())),
            currency: Currency::EUR,
            tax_mode: TaxMode::Inclusive,
        },
        at(0),
    );
    let eur = |cents| Money::new(cents, Currency::EUR);
    for (i, (quantity, cents, description, sku, rate, category)) in [
        (3, 10_000, Some("Blue mug"), Some("MUG-BLUE"), "19", None),
        (2, 7_500, None, Some("TEA-01"), "7.5", Some("reduced")),
        (1_000_000, 0, Some("Free sticker"), None, "0", None),
    ]
    .into_iter()
    .enumerate()
    {
        order
            .add_line(
                NewLine {
                    line_id: LineId::from_uuid(Uuid::now_v7()),
                    product_id: ProductId::from_uuid(Uuid::now_v7()),
                    quantity: Quantity::new(quantity).unwrap(),
                    unit_price: eur(cents),
                    snapshot: ProductSnapshot::new(
                        description.map(str::to_owned),
                        sku.map(str::to_owned),
                    )
                    .unwrap(),
                    tax: LineTax::new(TaxRate::parse(rate).unwrap(), category.map(str::to_owned))
                        .unwrap(),
                },
                at(i64::try_from(i).unwrap() + 1),
            )
            .unwrap();
    }
    for (i, (value, code, description)) in [
        (
            DiscountValue::Percentage(Percentage::parse("10").unwrap()),
            Some("WELCOME10"),
            None,
        ),
        (DiscountValue::Fixed(eur(567)), None, Some("Goodwill")),
    ]
    .into_iter()
    .enumerate()
    {
        order
            .add_discount(
                NewDiscount {
                    id: DiscountId::from_uuid(Uuid::now_v7()),
                    value,
                    code: code.map(str::to_owned),
                    description: description.map(str::to_owned),
                },
                at(i64::try_from(i).unwrap() + 10),
            )
            .unwrap();
    }
    order.confirm(at(12)).unwrap();
    order.start_processing(at(13)).unwrap();
    order
        .cancel(Some("Customer changed their mind".into()), at(14))
        .unwrap();
    order
}

/// One event of an order's history, its envelope parsed.
#[derive(Debug)]
pub struct StoredEvent {
    /// The order version the event produced (its sequence).
    pub version: u64,
    /// The envelope's `type`.
    pub event_type: String,
    /// The whole envelope, as published.
    pub payload: serde_json::Value,
}

/// Every stored event of an order, by sequence, read through
/// [`OrderRepository::history`](order_app::ports::OrderRepository::history) (the port every outbox row is visible through).
pub fn events_of(store: &dyn Storage, order_id: OrderId) -> Vec<StoredEvent> {
    store
        .orders()
        .history(order_id, 0, 10_000)
        .unwrap()
        .map(|history| history.events)
        .unwrap_or_default()
        .into_iter()
        .map(|event| {
            let payload: serde_json::Value = serde_json::from_str(&event.envelope).unwrap();
            StoredEvent {
                version: event.sequence,
                event_type: payload["type"].as_str().unwrap_or_default().to_owned(),
                payload,
            }
        })
        .collect()
}
