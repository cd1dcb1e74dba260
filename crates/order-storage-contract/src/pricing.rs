//! Tax and discounts in storage: every pricing change reads back equal, and
//! the database itself refuses, at commit, an order whose totals are not the
//! sums of its lines, whoever writes it.

use order_domain::{
    DiscountId, DiscountValue, LineTax, NewDiscount, Order, Percentage, Quantity, TaxRate,
};
use uuid::Uuid;

use crate::support::{at, change, customer, line, order};
use crate::{Storage, TestStorage};

fn taxed(quantity: i64, cents: i64, rate: &str) -> order_domain::NewLine {
    order_domain::NewLine {
        tax: LineTax::new(TaxRate::parse(rate).unwrap(), Some("standard".into())).unwrap(),
        ..line(quantity, cents)
    }
}

fn discount(value: DiscountValue, code: Option<&str>) -> NewDiscount {
    NewDiscount {
        id: DiscountId::from_uuid(Uuid::now_v7()),
        value,
        code: code.map(str::to_owned),
        description: Some("test".into()),
    }
}

fn ten_percent() -> DiscountValue {
    DiscountValue::Percentage(Percentage::parse("10").unwrap())
}

fn usd(cents: i64) -> order_domain::Money {
    order_domain::Money::new(cents, order_domain::Currency::USD)
}

/// A stored order: 3 × 3.33 at 19 %, 1 × 10.00 at 7 %, 10 % off (code TEN).
fn priced_order(db: &dyn TestStorage) -> Order {
    let store = db.store();
    let mut order = order(&store, customer(&store), 0);
    order.add_line(taxed(3, 333, "19"), at(1)).unwrap();
    order.add_line(taxed(1, 1_000, "7"), at(2)).unwrap();
    order
        .add_discount(discount(ten_percent(), Some("TEN")), at(3))
        .unwrap();
    store.orders().insert(&order, None).unwrap();
    order.take_events();
    order
}

pub fn every_pricing_change_written_by_update_reads_back_equal(db: &dyn TestStorage) {
    let store = db.store();
    let mut order = priced_order(db);
    assert_eq!(
        store.orders().find_by_id(order.id()).unwrap(),
        Some(order.clone())
    );

    let steps: [&dyn Fn(&mut Order); 6] = [
        &|o| {
            o.add_discount(discount(DiscountValue::Fixed(usd(250)), None), at(4))
                .unwrap();
        },
        &|o| {
            o.add_line(taxed(2, 199, "0"), at(5)).unwrap();
        },
        &|o| {
            let id = o.lines()[0].id();
            o.update_line_quantity(id, Quantity::new(5).unwrap(), at(6))
                .unwrap();
        },
        // Removing a line re-allocates the discounts over the others.
        &|o| {
            let id = o.lines()[1].id();
            o.remove_line(id, at(7)).unwrap();
        },
        &|o| {
            let id = o.discounts()[0].id();
            o.remove_discount(id, at(8)).unwrap();
        },
        &|o| o.confirm(at(9)).unwrap(),
    ];
    for step in steps {
        order = change(&store, &order, step);
        assert_eq!(
            store.orders().find_by_id(order.id()).unwrap(),
            Some(order.clone()),
            "after version {}",
            order.version()
        );
    }
    assert_eq!(order.discounts().len(), 1);
    assert_eq!(
        order.total(),
        order
            .subtotal()
            .checked_sub(order.discount())
            .unwrap()
            .checked_add(order.tax())
            .unwrap()
    );
}
