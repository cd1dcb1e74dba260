//! An update's line changes travel in its compare-and-set statement
//! (`writes.rs`): one statement, no `BEGIN`/`COMMIT`, for each kind of line
//! change. What that must not cost: the row, its lines and its event land
//! together; a stale version writes none of them (the line CTEs are gated on
//! the updated row, since a data-modifying CTE runs whether or not it is
//! read); a broken constraint is reported by name as before and leaves
//! nothing behind; and each shape is one prepared statement, reused.

#![allow(clippy::unwrap_used)]

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Duration, Utc};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Text};
use order_app::model::{Customer, NewCustomer};
use order_app::ports::{CustomerRepository, OrderNumberAllocator, OrderRepository};
use order_app::RepositoryError;
use order_domain::{
    Currency, CustomerId, DiscountId, DiscountValue, LineId, LineTax, Money, NewDiscount, NewLine,
    NewOrder, Order, OrderId, Percentage, ProductId, ProductSnapshot, Quantity, TaxMode,
};
use uuid::Uuid;

use super::writes::{
    LineColumns, UPDATE_ORDER_REMOVING_LINES, UPDATE_ORDER_REPLACING_LINES,
    UPDATE_ORDER_WRITING_LINES, UPSERT_LINES,
};
use super::OrderUpdate;
use crate::testing::TestDatabase;
use crate::PgStore;

fn at(seconds: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_micros(1_767_225_600_123_456).unwrap() + Duration::seconds(seconds)
}

fn customer(store: &PgStore) -> CustomerId {
    let id = CustomerId::from_uuid(Uuid::now_v7());
    let customer = Customer::create(
        id,
        NewCustomer {
            name: "Grace Hopper".into(),
            email: format!("grace.{}@example.com", id.as_uuid().simple()),
            source: None,
        },
        at(0),
    )
    .unwrap();
    store.customers().insert(&customer, None).unwrap();
    id
}

fn line(quantity: i64, cents: i64) -> NewLine {
    NewLine {
        line_id: LineId::from_uuid(Uuid::now_v7()),
        product_id: ProductId::from_uuid(Uuid::now_v7()),
        quantity: Quantity::new(quantity).unwrap(),
        unit_price: Money::new(cents, Currency::USD),
        snapshot: ProductSnapshot::default(),
        tax: LineTax::default(),
    }
}

fn ten_percent_off() -> NewDiscount {
    NewDiscount {
        id: DiscountId::from_uuid(Uuid::now_v7()),
        value: DiscountValue::Percentage(Percentage::parse("10").unwrap()),
        code: Some("TEN".into()),
        description: None,
    }
}

/// A stored pending order with two lines, `a` (2 × 12.50) and `b` (1 × 7.00).
fn stored_order(store: &PgStore, customer_id: CustomerId) -> (Order, LineId, LineId) {
    let mut order = Order::create(
        NewOrder {
            id: OrderId::from_uuid(Uuid::now_v7()),
            number: store.numbers().next_number(2026).unwrap(),
            customer_id,
            company_id: None,
            currency: Currency::USD,
            tax_mode: TaxMode::default(),
        },
        at(1),
    );
    let a = order.add_line(line(2, 1_250), at(1)).unwrap();
    let b = order.add_line(line(1, 700), at(1)).unwrap();
    store.orders().insert(&order, None).unwrap();
    order.take_events();
    (order, a, b)
}

/// `change` applied to `order` and saved through the repository.
fn save(store: &PgStore, order: &Order, change: impl FnOnce(&mut Order)) -> Order {
    let mut changed = order.clone();
    change(&mut changed);
    store
        .orders()
        .update(&changed, order.version(), None)
        .unwrap();
    changed.take_events();
    changed
}

/// Everything the database holds of one order: its row's version, each
/// line with its `xmin` (which changes exactly when the row is rewritten),
/// and its events.
#[derive(Debug, PartialEq, Eq)]
struct Stored {
    version: i64,
    lines: BTreeMap<Uuid, String>,
    events: Vec<(i64, String)>,
}

fn stored(db: &TestDatabase, id: OrderId) -> Stored {
    #[derive(QueryableByName)]
    struct Version {
        #[diesel(sql_type = BigInt)]
        version: i64,
    }
    #[derive(QueryableByName)]
    struct LineVersion {
        #[diesel(sql_type = diesel::sql_types::Uuid)]
        id: Uuid,
        #[diesel(sql_type = Text)]
        xmin: String,
    }
    #[derive(QueryableByName)]
    struct Event {
        #[diesel(sql_type = BigInt)]
        version: i64,
        #[diesel(sql_type = Text)]
        event_type: String,
    }
    let mut conn = db.connection();
    let id = id.as_uuid();
    Stored {
        version: diesel::sql_query("SELECT version FROM order_mgmt_orders WHERE id = $1")
            .bind::<diesel::sql_types::Uuid, _>(id)
            .get_result::<Version>(&mut conn)
            .unwrap()
            .version,
        lines: diesel::sql_query(
            "SELECT id, xmin::text AS xmin FROM order_mgmt_order_lines WHERE order_id = $1",
        )
        .bind::<diesel::sql_types::Uuid, _>(id)
        .load::<LineVersion>(&mut conn)
        .unwrap()
        .into_iter()
        .map(|l| (l.id, l.xmin))
        .collect(),
        events: diesel::sql_query(
            "SELECT version, event_type FROM order_mgmt_order_events \
             WHERE order_id = $1 ORDER BY version",
        )
        .bind::<diesel::sql_types::Uuid, _>(id)
        .load::<Event>(&mut conn)
        .unwrap()
        .into_iter()
        .map(|e| (e.version, e.event_type))
        .collect(),
    }
}

/// How many times each statement ran on the store's (only) connection.
fn executions(store: &PgStore, sql: &str) -> Vec<i64> {
    #[derive(QueryableByName, Debug)]
    struct Prepared {
        #[diesel(sql_type = Text)]
        statement: String,
        #[diesel(sql_type = BigInt)]
        executions: i64,
    }
    let mut conn = store.orders().db.checkout().unwrap();
    diesel::sql_query(
        "SELECT statement, (generic_plans + custom_plans) AS executions \
         FROM pg_prepared_statements",
    )
    .load::<Prepared>(&mut *conn)
    .unwrap()
    .into_iter()
    .filter(|p| p.statement == sql)
    .map(|p| p.executions)
    .collect()
}

/// `update` run as `PgOrderRepository::update` runs a one-statement write:
/// alone on a connection, no transaction around it.
fn apply_alone(store: &PgStore, update: &OrderUpdate) -> Result<(), RepositoryError> {
    assert!(update.is_one_statement(None), "the write is one statement");
    let mut conn = store.orders().db.checkout().unwrap();
    update
        .apply(&mut conn, None)
        .map_err(|e| e.into_repository_error("update order"))
}

#[test]
fn each_line_change_is_one_prepared_statement_writing_row_lines_and_event() {
    let db = TestDatabase::new();
    // One connection: every statement below runs on the session inspected.
    let store = db.store_with_pool_size(1);
    let customer_id = customer(&store);
    type Change = Box<dyn Fn(&mut Order, LineId, LineId)>;
    // Each change, the statement shape it must take, the event it records.
    let changes: Vec<(Change, &str, &str)> = vec![
        (
            Box::new(|o, _, _| {
                o.add_line(line(3, 400), at(2)).unwrap();
            }),
            UPDATE_ORDER_WRITING_LINES,
            "order.line_added",
        ),
        (
            Box::new(|o, a, _| {
                o.update_line_quantity(a, Quantity::new(5).unwrap(), at(3))
                    .unwrap();
            }),
            UPDATE_ORDER_WRITING_LINES,
            "order.line_updated",
        ),
        (
            Box::new(|o, _, _| o.add_discount(ten_percent_off(), at(4)).map(drop).unwrap()),
            UPDATE_ORDER_WRITING_LINES,
            "order.discount_added",
        ),
        // With a discount on the order, a removal re-allocates it over the
        // other lines: delete and upsert.
        (
            Box::new(|o, _, b| o.remove_line(b, at(5)).unwrap()),
            UPDATE_ORDER_REPLACING_LINES,
            "order.line_removed",
        ),
        (
            Box::new(|o, _, _| {
                let id = o.discounts()[0].id();
                o.remove_discount(id, at(6)).map(drop).unwrap();
            }),
            UPDATE_ORDER_WRITING_LINES,
            "order.discount_removed",
        ),
        // Without one, the other lines stay as they are: the delete alone.
        (
            Box::new(|o, a, _| o.remove_line(a, at(7)).unwrap()),
            UPDATE_ORDER_REMOVING_LINES,
            "order.line_removed",
        ),
    ];
    // Twice, so that each shape must be executed again by name.
    for _ in 0..2 {
        let (mut order, a, b) = stored_order(&store, customer_id);
        for (change, shape, event_type) in &changes {
            let before = stored(&db, order.id());
            let mut changed = order.clone();
            change(&mut changed, a, b);
            let update = OrderUpdate::prepare(&changed, order.version(), None).unwrap();
            assert!(update.is_one_statement(None), "{event_type}: one statement");
            let runs = executions(&store, shape).first().copied().unwrap_or(0);
            order = save(&store, &order, |o| change(o, a, b));
            assert_eq!(
                executions(&store, shape).first().copied().unwrap_or(0),
                runs + 1,
                "{event_type} is the statement {shape}"
            );

            // The row, the lines and the event, all of them.
            let after = stored(&db, order.id());
            let version = i64::try_from(order.version()).unwrap();
            assert_eq!(after.version, version, "{event_type}");
            let mut events = before.events.clone();
            events.push((version, (*event_type).to_owned()));
            assert_eq!(after.events, events, "{event_type}: its one event");
            let ids: BTreeSet<Uuid> = order.lines().iter().map(|l| l.id().as_uuid()).collect();
            assert_eq!(
                after.lines.keys().copied().collect::<BTreeSet<_>>(),
                ids,
                "{event_type}: the order's lines"
            );
            assert_eq!(
                store.orders().find_by_id(order.id()).unwrap().as_ref(),
                Some(&order),
                "{event_type}: reads back equal"
            );
        }
    }
    for shape in [
        UPDATE_ORDER_WRITING_LINES,
        UPDATE_ORDER_REPLACING_LINES,
        UPDATE_ORDER_REMOVING_LINES,
    ] {
        let runs = executions(&store, shape);
        assert_eq!(runs.len(), 1, "prepared once: {shape}");
        assert!(runs[0] >= 2, "and executed again by name: {shape}");
    }
    assert_eq!(
        executions(&store, UPSERT_LINES),
        Vec::<i64>::new(),
        "no line is written by a statement of its own"
    );
}

#[test]
fn a_stale_version_writes_no_line_row_or_event_whatever_the_shape() {
    let db = TestDatabase::new();
    let store = db.store_with_pool_size(1);
    let customer_id = customer(&store);
    type Change = fn(&mut Order, LineId, LineId);
    let cases: [(&str, bool, Change, &str); 4] = [
        (
            "adding a line",
            false,
            |o, _, _| {
                o.add_line(line(3, 400), at(20)).unwrap();
            },
            UPDATE_ORDER_WRITING_LINES,
        ),
        (
            "changing a quantity",
            false,
            |o, a, _| {
                o.update_line_quantity(a, Quantity::new(9).unwrap(), at(20))
                    .unwrap();
            },
            UPDATE_ORDER_WRITING_LINES,
        ),
        (
            "removing a line",
            false,
            |o, _, b| o.remove_line(b, at(20)).unwrap(),
            UPDATE_ORDER_REMOVING_LINES,
        ),
        (
            "removing a discounted line",
            true,
            |o, _, b| o.remove_line(b, at(20)).unwrap(),
            UPDATE_ORDER_REPLACING_LINES,
        ),
    ];
    // The race is lost to a confirmation (the order is still live: a
    // conflict) or to a deletion (no live row: not found).
    type Winner = fn(&mut Order);
    type Refusal = fn(u64) -> RepositoryError;
    let winners: [(Winner, Refusal); 2] = [
        (
            |o| o.confirm(at(15)).unwrap(),
            |expected| RepositoryError::Conflict { expected },
        ),
        (
            |o| o.soft_delete(at(15)).unwrap(),
            |_| RepositoryError::NotFound,
        ),
    ];
    for (what, discounted, change, shape) in cases {
        for (winner, refusal) in winners {
            let (mut order, a, b) = stored_order(&store, customer_id);
            if discounted {
                order = save(&store, &order, |o| {
                    o.add_discount(ten_percent_off(), at(10)).map(drop).unwrap();
                });
            }
            let stale = order.clone();
            save(&store, &order, winner);
            let before = stored(&db, order.id());

            let mut changed = stale.clone();
            change(&mut changed, a, b);
            let update = OrderUpdate::prepare(&changed, stale.version(), None).unwrap();
            let runs = executions(&store, shape).first().copied().unwrap_or(0);
            assert_eq!(
                apply_alone(&store, &update),
                Err(refusal(stale.version())),
                "{what}"
            );
            assert_eq!(
                executions(&store, shape).first().copied().unwrap_or(0),
                runs + 1,
                "{what}: the statement {shape} ran"
            );
            assert_eq!(stored(&db, order.id()), before, "{what}: nothing written");
        }
    }
}

#[test]
fn a_constraint_the_statement_breaks_is_reported_by_name_and_nothing_is_written() {
    let db = TestDatabase::new();
    let store = db.store_with_pool_size(1);
    let customer_id = customer(&store);
    let violation = |name: &str| Err(RepositoryError::ConstraintViolation(name.into()));

    // A per-row CHECK of the line upsert (immediate).
    let (order, _, _) = stored_order(&store, customer_id);
    let before = stored(&db, order.id());
    let mut changed = order.clone();
    changed.add_line(line(3, 400), at(2)).unwrap();
    let mut update = OrderUpdate::prepare(&changed, order.version(), None).unwrap();
    let added = update.lines.len() - 1;
    update.lines[added].quantity = 0;
    update.lines[added].subtotal = 0;
    update.line_columns = LineColumns::of(update.id, &update.lines);
    assert_eq!(apply_alone(&store, &update), violation("check_quantity"));
    assert_eq!(stored(&db, order.id()), before, "nothing written");

    // The deferred totals trigger, checked when the statement's own
    // transaction commits: a line whose tax the order's row does not count,
    // through the upsert and through the delete-and-upsert.
    for discounted in [false, true] {
        let (mut order, a, b) = stored_order(&store, customer_id);
        if discounted {
            order = save(&store, &order, |o| {
                o.add_discount(ten_percent_off(), at(3)).map(drop).unwrap();
            });
        }
        let before = stored(&db, order.id());
        let mut changed = order.clone();
        if discounted {
            changed.remove_line(b, at(4)).unwrap();
        } else {
            changed
                .update_line_quantity(a, Quantity::new(4).unwrap(), at(4))
                .unwrap();
        }
        let mut update = OrderUpdate::prepare(&changed, order.version(), None).unwrap();
        assert_eq!(update.touched.removed, discounted);
        update.lines[0].tax += 1;
        update.lines[0].total += 1;
        update.line_columns = LineColumns::of(update.id, &update.lines);
        assert_eq!(
            apply_alone(&store, &update),
            violation("check_order_totals_are_line_sums"),
            "discounted: {discounted}"
        );
        assert_eq!(stored(&db, order.id()), before, "nothing written");
    }

    // The same goes for the delete alone: the order's row still counting a
    // line the statement deletes.
    let (order, _, b) = stored_order(&store, customer_id);
    let before = stored(&db, order.id());
    let mut changed = order.clone();
    changed.remove_line(b, at(5)).unwrap();
    let mut update = OrderUpdate::prepare(&changed, order.version(), None).unwrap();
    assert!(update.touched.removed && !update.touched.written);
    let stored_row = super::rows::NewOrderRow::from_order(&order).unwrap();
    update.row.subtotal = stored_row.subtotal;
    update.row.total = stored_row.total;
    assert_eq!(
        apply_alone(&store, &update),
        violation("check_order_totals_are_line_sums")
    );
    assert_eq!(stored(&db, order.id()), before, "nothing written");
}
