//! The hot statements of the order repository are prepared once per
//! connection and then reused: PostgreSQL's own list of the session's
//! prepared statements (`pg_prepared_statements`) shows each of them once,
//! with one plan per execution counted against it.

#![allow(clippy::unwrap_used)]

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Text};
use order_app::model::{Customer, NewCustomer};
use order_app::ports::{CustomerRepository, OrderNumberAllocator, OrderRepository};
use order_domain::{
    Currency, CustomerId, LineId, LineTax, Money, NewLine, NewOrder, Order, OrderId, ProductId,
    ProductSnapshot, Quantity, TaxMode,
};
use uuid::Uuid;

use super::writes::{
    INSERT_ORDER_WITH_EVENTS, UPDATE_ORDER_WITH_EVENTS, UPDATE_ORDER_WRITING_LINES, UPSERT_LINES,
};
use crate::testing::TestDatabase;

#[derive(QueryableByName, Debug)]
struct Prepared {
    #[diesel(sql_type = Text)]
    statement: String,
    #[diesel(sql_type = BigInt)]
    executions: i64,
}

fn now() -> DateTime<Utc> {
    DateTime::from_timestamp_micros(1_767_225_600_123_456).unwrap()
}

fn new_order(store: &crate::PgStore, customer_id: CustomerId) -> Order {
    Order::create(
        NewOrder {
            id: OrderId::from_uuid(Uuid::now_v7()),
            number: store.numbers().next_number(2026).unwrap(),
            customer_id,
            company_id: None,
            currency: Currency::USD,
            tax_mode: TaxMode::default(),
        },
        now(),
    )
}

/// Creates an order, adds a line, confirms it and reads it: the requests of
/// the benchmark's write path, each storing what the domain decided.
fn create_add_line_confirm_get(store: &crate::PgStore, customer_id: CustomerId) {
    let orders = store.orders();
    let mut order = new_order(store, customer_id);
    orders.insert(&order, None).unwrap();
    order.take_events();
    let stored = order.version();
    order
        .add_line(
            NewLine {
                line_id: LineId::from_uuid(Uuid::now_v7()),
                product_id: ProductId::from_uuid(Uuid::now_v7()),
                quantity: Quantity::new(2).unwrap(),
                unit_price: Money::new(1_250, Currency::USD),
                snapshot: ProductSnapshot::default(),
                tax: LineTax::default(),
            },
            now(),
        )
        .unwrap();
    orders.update(&order, stored, None).unwrap();
    order.take_events();
    let stored = order.version();
    order.confirm(now()).unwrap();
    orders.update(&order, stored, None).unwrap();
    order.take_events();
    let read = orders.find_by_id(order.id()).unwrap().unwrap();
    assert_eq!(read.version(), order.version());
}

#[test]
fn the_write_statements_are_prepared_once_and_executed_again_by_name() {
    let db = TestDatabase::new();
    // One connection, so every request below runs on the session we inspect.
    let store = db.store_with_pool_size(1);
    let customer_id = CustomerId::from_uuid(Uuid::now_v7());
    let customer = Customer::create(
        customer_id,
        NewCustomer {
            name: "Ada Lovelace".into(),
            email: format!("ada.{}@example.com", customer_id.as_uuid().simple()),
            source: None,
        },
        now(),
    )
    .unwrap();
    store.customers().insert(&customer, None).unwrap();

    create_add_line_confirm_get(&store, customer_id);
    create_add_line_confirm_get(&store, customer_id);

    let repository = store.orders();
    let mut conn = repository.db.checkout().unwrap();
    let prepared = diesel::sql_query(
        "SELECT statement, (generic_plans + custom_plans) AS executions \
         FROM pg_prepared_statements",
    )
    .load::<Prepared>(&mut *conn)
    .unwrap();
    let executions_of = |sql: &str| -> Vec<i64> {
        prepared
            .iter()
            .filter(|p| p.statement == sql)
            .map(|p| p.executions)
            .collect()
    };
    // Each order's create is the insert statement; its line change is the
    // update statement that writes lines too, its confirmation the one that
    // does not.
    assert_eq!(
        executions_of(INSERT_ORDER_WITH_EVENTS),
        [2],
        "the create statement, prepared once and run twice: {prepared:#?}"
    );
    assert_eq!(
        executions_of(UPDATE_ORDER_WITH_EVENTS),
        [2],
        "the transition statement, prepared once and run by each confirmation: {prepared:#?}"
    );
    assert_eq!(
        executions_of(UPDATE_ORDER_WRITING_LINES),
        [2],
        "the line change statement, prepared once and run by each line change: {prepared:#?}"
    );
    assert_eq!(
        executions_of(UPSERT_LINES),
        Vec::<i64>::new(),
        "a line change writes its lines in its update statement: {prepared:#?}"
    );
    // The read of an order by id (one joined statement) is cached too.
    let reads: Vec<&Prepared> = prepared
        .iter()
        .filter(|p| {
            p.statement
                .contains("LEFT OUTER JOIN \"order_mgmt_order_lines\"")
        })
        .collect();
    assert_eq!(reads.len(), 1, "one prepared read: {prepared:#?}");
    assert!(reads[0].executions >= 2, "{prepared:#?}");
}
