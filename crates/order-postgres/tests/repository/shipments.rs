//! Shipments and returns: stored with the order, read back equal, and the
//! database's own wall (shipped ≤ ordered, returned ≤ shipped per line) holds
//! even against writes that skip the domain.

use order_app::ports::OrderRepository;
use order_app::RepositoryError;
use order_domain::{
    FulfillmentId, LineId, LineQuantity, NewFulfillment, NewReturn, Order, Quantity, ReturnId,
};
use order_postgres::testing::TestDatabase;
use order_postgres::PgStore;
use uuid::Uuid;

use crate::support::{at, change, customer, line, order};

fn lq(line_id: LineId, n: i64) -> LineQuantity {
    LineQuantity {
        line_id,
        quantity: Quantity::new(n).unwrap(),
    }
}

fn ship(lines: Vec<LineQuantity>) -> NewFulfillment {
    NewFulfillment {
        id: FulfillmentId::from_uuid(Uuid::now_v7()),
        lines,
        carrier: Some("UPS".into()),
        tracking_number: Some("1Z999".into()),
    }
}

fn give_back(lines: Vec<LineQuantity>) -> NewReturn {
    NewReturn {
        id: ReturnId::from_uuid(Uuid::now_v7()),
        lines,
        reason: "wrong size".into(),
    }
}

/// A stored processing order with lines of 10 × 12.34 and 3 × 5.00.
fn processing(store: &PgStore) -> (Order, LineId, LineId) {
    let customer_id = customer(store);
    let mut order = order(store, customer_id, 0);
    let a = order.add_line(line(10, 1_234), at(1)).unwrap();
    let b = order.add_line(line(3, 500), at(2)).unwrap();
    order.confirm(at(3)).unwrap();
    order.start_processing(at(4)).unwrap();
    store.orders().insert(&order, None).unwrap();
    order.take_events();
    (order, a, b)
}

/// Reading shipments and returns back equal is the storage contract's
/// (`shipments_and_returns_read_back_equal_by_id_number_and_list`, run on
/// PostgreSQL by `contract.rs`); here, the lines' own counters.
#[test]
fn the_line_counters_agree_with_the_shipments_and_returns() {
    let db = TestDatabase::new();
    let store = db.store();
    let (order, a, b) = processing(&store);
    let order = change(&store, &order, |o| {
        o.create_fulfillment(ship(vec![lq(a, 4), lq(b, 1)]), at(5))
            .unwrap();
    });
    let order = change(&store, &order, |o| {
        o.create_return(give_back(vec![lq(a, 3)]), at(6)).unwrap();
    });
    // mark_fulfilled ships the remainder; a return after that counts too.
    let order = change(&store, &order, |o| o.mark_fulfilled(at(7)).unwrap());
    change(&store, &order, |o| {
        o.create_return(give_back(vec![lq(b, 3)]), at(8)).unwrap();
    });
    // The database's counters agree with the domain's sums.
    let counters = db
        .execute(&format!(
            "UPDATE order_mgmt_order_lines SET updated_at = updated_at \
             WHERE (id = '{}' AND shipped_quantity = 10 AND returned_quantity = 3) \
                OR (id = '{}' AND shipped_quantity = 3 AND returned_quantity = 3)",
            a.as_uuid(),
            b.as_uuid()
        ))
        .unwrap();
    assert_eq!(counters, 2);
}

#[test]
fn the_database_refuses_over_shipping_over_returning_and_removing_a_shipped_line() {
    let db = TestDatabase::new();
    let store = db.store();
    let (order, a, _) = processing(&store);
    let order = change(&store, &order, |o| {
        o.create_fulfillment(ship(vec![lq(a, 10)]), at(5)).unwrap();
    });
    let (id, line) = (order.id().as_uuid(), a.as_uuid());
    let extra = Uuid::now_v7();
    db.execute(&format!(
        "INSERT INTO order_mgmt_fulfillments (order_id, id, position, created_at) \
         VALUES ('{id}', '{extra}', 7, now())"
    ))
    .unwrap();
    assert_eq!(
        db.execute(&format!(
            "INSERT INTO order_mgmt_fulfillment_lines VALUES ('{id}', '{extra}', '{line}', 0, 1)"
        )),
        Err(RepositoryError::ConstraintViolation(
            "check_shipped_quantity".into()
        ))
    );
    let ret = Uuid::now_v7();
    db.execute(&format!(
        "INSERT INTO order_mgmt_returns (order_id, id, position, reason, refund_amount, created_at) \
         VALUES ('{id}', '{ret}', 0, 'x', 0, now())"
    ))
    .unwrap();
    assert_eq!(
        db.execute(&format!(
            "INSERT INTO order_mgmt_return_lines VALUES ('{id}', '{ret}', '{line}', 0, 11, 0)"
        )),
        Err(RepositoryError::ConstraintViolation(
            "check_returned_quantity".into()
        ))
    );
    assert_eq!(
        db.execute(&format!(
            "UPDATE order_mgmt_order_lines SET quantity = 9, subtotal = 9 * unit_price WHERE id = '{line}'"
        )),
        Err(RepositoryError::ConstraintViolation(
            "check_shipped_quantity".into()
        ))
    );
    assert_eq!(
        db.execute(&format!(
            "DELETE FROM order_mgmt_order_lines WHERE id = '{line}'"
        )),
        Err(RepositoryError::ConstraintViolation(
            "fk_fulfillment_line".into()
        ))
    );
}
