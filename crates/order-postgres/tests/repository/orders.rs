//! The `OrderRepository` contract: round trips, lookups, lists, soft delete,
//! the compare-and-set update, line synchronisation and the outbox.

use diesel::prelude::*;
use diesel::sql_types::{BigInt, Jsonb, Text};
use order_app::ports::OrderRepository;
use order_app::{OrderFilter, PageRequest, RepositoryError};
use order_domain::{Order, OrderId, OrderStatus, Quantity};
use order_postgres::testing::TestDatabase;
use uuid::Uuid;

use crate::support::{at, change, customer, line, order, stored_order};

fn ids(orders: &[Order]) -> Vec<OrderId> {
    orders.iter().map(Order::id).collect()
}

#[test]
fn soft_deleted_orders_vanish_from_every_read_and_cannot_be_updated() {
    let db = TestDatabase::new();
    let store = db.store();
    let customer_id = customer(&store);
    let kept = stored_order(&store, customer_id, 0);
    let doomed = stored_order(&store, customer_id, 1);

    let deleted = change(&store, &doomed, |o| o.soft_delete(at(2)).unwrap());

    assert_eq!(store.orders().find_by_id(doomed.id()).unwrap(), None);
    assert_eq!(
        store.orders().find_by_number(doomed.number()).unwrap(),
        None
    );
    for filter in [
        OrderFilter::default(),
        OrderFilter {
            customer_id: Some(customer_id),
            status: Some(OrderStatus::Pending),
        },
    ] {
        let listed = store
            .orders()
            .list(&filter, PageRequest::default())
            .unwrap();
        assert_eq!(ids(&listed.items), vec![kept.id()]);
        assert_eq!(listed.total_items, 1);
    }
    // The row is still there, stamped, for audits.
    let stamped = diesel::sql_query(
        "SELECT count(*) AS n FROM order_mgmt_orders WHERE deleted_at IS NOT NULL",
    )
    .get_result::<Count>(&mut db.connection())
    .unwrap()
    .n;
    assert_eq!(stamped, 1);

    let mut again = deleted.clone();
    again
        .add_line(line(1, 1), at(3))
        .expect_err("the domain refuses edits of a deleted order");
    let mut resurrect = deleted;
    // Even a forged change is refused: the stored row is deleted.
    resurrect = Order::restore(order_domain::OrderSnapshot {
        deleted_at: None,
        version: resurrect.version() + 1,
        ..resurrect.snapshot()
    })
    .unwrap();
    assert_eq!(
        store
            .orders()
            .update(&resurrect, resurrect.version() - 1, None),
        Err(RepositoryError::NotFound)
    );
}

#[test]
fn lines_are_added_changed_and_removed_in_step_with_the_domain() {
    let db = TestDatabase::new();
    let store = db.store();
    let customer_id = customer(&store);
    let mut order = order(&store, customer_id, 0);
    let mut line_ids = Vec::new();
    for (i, cents) in (1..).zip([100, 200, 300]) {
        line_ids.push(order.add_line(line(1, cents), at(i)).unwrap());
    }
    store.orders().insert(&order, None).unwrap();
    order.take_events();

    let order = change(&store, &order, |o| {
        o.remove_line(line_ids[1], at(10)).unwrap();
        o.update_line_quantity(line_ids[0], Quantity::new(7).unwrap(), at(11))
            .unwrap();
        o.add_line(line(4, 50), at(12)).unwrap();
    });

    let loaded = store.orders().find_by_id(order.id()).unwrap().unwrap();
    assert_eq!(loaded, order);
    assert_eq!(loaded.lines().len(), 3);
    assert_eq!(loaded.lines()[0].quantity().get(), 7);
    assert_eq!(loaded.total().amount(), 7 * 100 + 300 + 4 * 50);
    assert_eq!(line_count(&db, order.id()), 3, "the removed line is gone");

    let emptied = change(&store, &order, |o| {
        for line_id in o.lines().iter().map(|l| l.id()).collect::<Vec<_>>() {
            o.remove_line(line_id, at(20)).unwrap();
        }
    });
    assert_eq!(line_count(&db, emptied.id()), 0);
    assert_eq!(
        store.orders().find_by_id(emptied.id()).unwrap(),
        Some(emptied)
    );
}

#[test]
fn an_update_rewrites_only_the_lines_that_changed() {
    let db = TestDatabase::new();
    let store = db.store();
    let customer_id = customer(&store);
    let mut order = order(&store, customer_id, 0);
    let first = order.add_line(line(1, 100), at(1)).unwrap();
    let second = order.add_line(line(1, 200), at(2)).unwrap();
    store.orders().insert(&order, None).unwrap();
    order.take_events();
    let before = row_versions(&db);

    let order = change(&store, &order, |o| {
        o.update_line_quantity(first, Quantity::new(2).unwrap(), at(3))
            .unwrap();
    });
    let after_quantity = row_versions(&db);
    assert_ne!(after_quantity[&first.as_uuid()], before[&first.as_uuid()]);
    assert_eq!(after_quantity[&second.as_uuid()], before[&second.as_uuid()]);

    change(&store, &order, |o| o.confirm(at(4)).unwrap());
    assert_eq!(
        row_versions(&db),
        after_quantity,
        "confirming rewrites no line"
    );
}

#[test]
fn every_change_writes_its_events_to_the_outbox_in_order() {
    let db = TestDatabase::new();
    let store = db.store();
    let customer_id = customer(&store);
    let mut order = order(&store, customer_id, 0);
    store.orders().insert(&order, None).unwrap();
    order.take_events();
    let order = change(&store, &order, |o| {
        o.add_line(line(3, 10_000), at(1)).unwrap();
        o.add_line(line(2, 7_500), at(2)).unwrap();
    });
    change(&store, &order, |o| o.confirm(at(3)).unwrap());

    let events = events_of(&db, order.id());
    let summary: Vec<(i64, &str)> = events
        .iter()
        .map(|e| (e.version, e.event_type.as_str()))
        .collect();
    assert_eq!(
        summary,
        [
            (1, "order.created"),
            (2, "order.line_added"),
            (3, "order.line_added"),
            (4, "order.confirmed"),
        ]
    );
    assert_eq!(
        events[0].payload["order_number"],
        order.number().to_string()
    );
    // Issue 11: the payload is the published envelope, money in the API's shape.
    assert_eq!(
        events[3].payload["data"]["totals"]["total"],
        serde_json::json!({ "amount": 45_000, "currency": "USD", "formatted": "450.00" })
    );
    for (event, sequence) in events.iter().zip(1..) {
        assert_eq!(event.payload["sequence"], sequence);
        assert_eq!(event.payload["type"], event.event_type.as_str());
        assert_eq!(event.payload["actor"]["id"], "anonymous");
    }
    assert_eq!(
        events[2].payload["data"]["totals"]["before"]["total"]["amount"],
        30_000
    );
}

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

fn line_count(db: &TestDatabase, order_id: OrderId) -> i64 {
    diesel::sql_query("SELECT count(*) AS n FROM order_mgmt_order_lines WHERE order_id = $1")
        .bind::<diesel::sql_types::Uuid, _>(order_id.as_uuid())
        .get_result::<Count>(&mut db.connection())
        .unwrap()
        .n
}

/// `xmin` of every line: it changes exactly when a row is rewritten.
fn row_versions(db: &TestDatabase) -> std::collections::HashMap<Uuid, String> {
    #[derive(QueryableByName)]
    struct RowVersion {
        #[diesel(sql_type = diesel::sql_types::Uuid)]
        id: Uuid,
        #[diesel(sql_type = Text)]
        xmin: String,
    }
    diesel::sql_query("SELECT id, xmin::text AS xmin FROM order_mgmt_order_lines")
        .load::<RowVersion>(&mut db.connection())
        .unwrap()
        .into_iter()
        .map(|r| (r.id, r.xmin))
        .collect()
}

/// One outbox row.
#[derive(QueryableByName)]
pub struct StoredEvent {
    #[diesel(sql_type = BigInt)]
    pub version: i64,
    #[diesel(sql_type = Text)]
    pub event_type: String,
    #[diesel(sql_type = Jsonb)]
    pub payload: serde_json::Value,
}

/// The outbox rows of an order, in insertion order.
pub fn events_of(db: &TestDatabase, order_id: OrderId) -> Vec<StoredEvent> {
    diesel::sql_query(
        "SELECT version, event_type, payload FROM order_mgmt_order_events \
         WHERE order_id = $1 ORDER BY id",
    )
    .bind::<diesel::sql_types::Uuid, _>(order_id.as_uuid())
    .load::<StoredEvent>(&mut db.connection())
    .unwrap()
}

#[test]
fn totals_are_counted_up_to_ten_thousand_and_estimated_beyond() {
    let db = TestDatabase::new();
    let store = db.store();
    let customer_id = customer(&store);
    db.execute(&format!(
        "INSERT INTO order_mgmt_orders (id, order_number, customer_id, status, currency, subtotal, tax,
             discount, total, version, created_at, updated_at)
         SELECT gen_random_uuid(), 'ORD-2020-' || lpad(g::text, 6, '0'), '{}', 'pending', 'USD', 0, 0, 0, 0, 1,
                now() - g * interval '1 second', now()
         FROM generate_series(1, 10050) AS g",
        customer_id.as_uuid()
    ))
    .unwrap();
    db.execute("ANALYZE order_mgmt_orders").unwrap();
    let page = store
        .orders()
        .list(&OrderFilter::default(), PageRequest::new(1, 20).unwrap())
        .unwrap();
    assert!(!page.total_exact, "10,050 rows are estimated, not counted");
    assert!(
        page.total_items > 10_000,
        "never less than what was counted: {}",
        page.total_items
    );
    assert_eq!(page.items.len(), 20);
    assert!(page.next_cursor.is_some());

    let pending = OrderFilter {
        customer_id: Some(customer_id),
        status: Some(OrderStatus::Confirmed),
    };
    let none = store
        .orders()
        .list(&pending, PageRequest::new(1, 20).unwrap())
        .unwrap();
    assert_eq!(
        (none.total_items, none.total_exact, none.next_cursor),
        (0, true, None)
    );
}
