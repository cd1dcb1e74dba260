//! Tax and discounts in storage: every pricing change reads back equal, and
//! the database itself refuses, at commit, an order whose totals are not the
//! sums of its lines, whoever writes it.

use diesel::connection::Connection;
use diesel::RunQueryDsl;
use order_app::ports::OrderRepository;
use order_app::RepositoryError;
use order_domain::{DiscountId, DiscountValue, LineTax, NewDiscount, Order, Percentage, TaxRate};
use order_postgres::testing::TestDatabase;
use uuid::Uuid;

use crate::support::{at, customer, line, order};

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

/// A stored order: 3 × 3.33 at 19 %, 1 × 10.00 at 7 %, 10 % off (code TEN).
fn priced_order(db: &TestDatabase) -> Order {
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

#[test]
fn the_database_refuses_at_commit_an_order_whose_totals_are_not_its_line_sums() {
    let db = TestDatabase::new();
    let order = priced_order(&db);
    let id = order.id().as_uuid();
    let refused = Err(RepositoryError::ConstraintViolation(
        "check_order_totals_are_line_sums".into(),
    ));

    // Each of these rows passes every per-row CHECK, and is refused at commit.
    let hand_written = [
        // The order's tax one cent above its lines' (total follows, so the
        // row's own arithmetic holds).
        format!("UPDATE order_mgmt_orders SET tax = tax + 1, total = total + 1 WHERE id = '{id}'"),
        // A line's tax one cent up, its total with it: the order no longer matches.
        format!(
            "UPDATE order_mgmt_order_lines SET tax = tax + 1, total = total + 1 \
             WHERE id = '{}'",
            order.lines()[0].id()
        ),
        // A whole line added by hand.
        format!(
            "INSERT INTO order_mgmt_order_lines (id, order_id, product_id, quantity, unit_price, \
             subtotal, total, created_at, updated_at) \
             VALUES ('{}', '{id}', '{}', 1, 100, 100, 100, now(), now())",
            Uuid::now_v7(),
            Uuid::now_v7()
        ),
        // A line deleted by hand.
        format!(
            "DELETE FROM order_mgmt_order_lines WHERE id = '{}'",
            order.lines()[1].id()
        ),
        // A discount whose stored amount is not the order's discount.
        format!(
            "UPDATE order_mgmt_orders SET discounts = jsonb_set(discounts, '{{0,amount}}', '1') \
             WHERE id = '{id}'"
        ),
        // A line total in the inclusive form on an exclusive order.
        format!(
            "UPDATE order_mgmt_order_lines SET total = total - tax WHERE id = '{}'",
            order.lines()[0].id()
        ),
    ];
    for sql in &hand_written {
        assert_eq!(db.execute(sql), refused, "{sql}");
    }
    // Nothing of it was stored.
    assert_eq!(
        db.store().orders().find_by_id(order.id()).unwrap(),
        Some(order.clone())
    );

    // Checked at commit, not per statement: the same two changes made
    // together in one transaction add up and are accepted.
    let mut conn = db.connection();
    conn.transaction::<_, diesel::result::Error, _>(|conn| {
        diesel::sql_query(format!(
            "UPDATE order_mgmt_order_lines SET tax = tax + 1, total = total + 1 WHERE id = '{}'",
            order.lines()[0].id()
        ))
        .execute(conn)?;
        diesel::sql_query(format!(
            "UPDATE order_mgmt_orders SET tax = tax + 1, total = total + 1 WHERE id = '{id}'"
        ))
        .execute(conn)?;
        Ok(())
    })
    .unwrap();
    // The domain, the first wall, still refuses to load it: 1 cent is not
    // what 19 % makes.
    assert!(matches!(
        db.store().orders().find_by_id(order.id()),
        Err(RepositoryError::Unexpected(_))
    ));
}
