//! Fixtures shared by the domain's integration tests.
#![allow(dead_code)]

use chrono::{DateTime, Duration, TimeZone, Utc};
use order_domain::*;
use uuid::Uuid;

pub fn t(seconds: i64) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 12, 30, 12, 0, 0).unwrap() + Duration::seconds(seconds)
}

pub fn usd(cents: i64) -> Money {
    Money::new(cents, Currency::USD)
}

pub fn new_order() -> Order {
    let mut order = Order::create(
        NewOrder {
            id: OrderId::from_uuid(Uuid::now_v7()),
            number: OrderNumber::new(2025, 1).unwrap(),
            customer_id: CustomerId::from_uuid(Uuid::now_v7()),
            company_id: None,
            currency: Currency::USD,
            tax_mode: TaxMode::Exclusive,
        },
        t(0),
    );
    order.take_events();
    order
}

pub fn line(product: ProductId, quantity: i64, cents: i64) -> NewLine {
    NewLine {
        line_id: LineId::from_uuid(Uuid::now_v7()),
        product_id: product,
        quantity: Quantity::new(quantity).unwrap(),
        unit_price: usd(cents),
        snapshot: ProductSnapshot::default(),
        tax: LineTax::default(),
    }
}

/// A line taxed at `rate` (a percentage such as "19").
pub fn taxed_line(product: ProductId, quantity: i64, cents: i64, rate: &str) -> NewLine {
    NewLine {
        tax: LineTax::new(TaxRate::parse(rate).unwrap(), None).unwrap(),
        ..line(product, quantity, cents)
    }
}

/// A fixed discount of `cents` USD.
pub fn fixed(cents: i64) -> NewDiscount {
    NewDiscount {
        id: DiscountId::from_uuid(Uuid::now_v7()),
        value: DiscountValue::Fixed(usd(cents)),
        code: None,
        description: None,
    }
}

/// A percentage discount (`"10"` for 10 %).
pub fn percent_off(percent: &str) -> NewDiscount {
    NewDiscount {
        id: DiscountId::from_uuid(Uuid::now_v7()),
        value: DiscountValue::Percentage(Percentage::parse(percent).unwrap()),
        code: None,
        description: None,
    }
}

pub fn product() -> ProductId {
    ProductId::from_uuid(Uuid::now_v7())
}

/// A pending order with one line of 2 × 50.00.
pub fn order_with_line() -> (Order, LineId) {
    let mut order = new_order();
    let id = order.add_line(line(product(), 2, 5_000), t(1)).unwrap();
    order.take_events();
    (order, id)
}

pub fn order_in(status: OrderStatus) -> Order {
    let (mut order, _) = order_with_line();
    match status {
        OrderStatus::Pending => {}
        OrderStatus::Confirmed => order.confirm(t(2)).unwrap(),
        OrderStatus::Processing => {
            order.confirm(t(2)).unwrap();
            order.start_processing(t(3)).unwrap();
        }
        OrderStatus::Fulfilled => {
            order.confirm(t(2)).unwrap();
            order.start_processing(t(3)).unwrap();
            order.mark_fulfilled(t(4)).unwrap();
        }
        OrderStatus::Cancelled => order.cancel(None, t(2)).unwrap(),
    }
    order.take_events();
    order
}
