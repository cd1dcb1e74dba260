//! What only the tables show of `PgOrderRepository`: soft-deleted rows kept,
//! removed lines gone, lines rewritten only when they changed, and totals
//! counted or estimated. The behaviour readers see (round trips, lookups,
//! lists, soft delete, the compare-and-set update, line synchronisation, the
//! outbox) is the storage contract's, run on PostgreSQL by `contract.rs`.

use diesel::prelude::*;
use diesel::sql_types::{BigInt, Text};
use order_app::ports::OrderRepository;
use order_app::{OrderFilter, PageRequest};
use order_domain::{OrderId, OrderStatus, Quantity};
use order_postgres::testing::TestDatabase;
use uuid::Uuid;

use crate::support::{at, change, customer, line, order, stored_order};

/// What readers see of a soft-deleted order is the storage contract's
/// (`soft_deleted_orders_vanish_from_every_read_and_cannot_be_updated`, run
/// on PostgreSQL by `contract.rs`); here, what stays in the table.
#[test]
fn a_soft_deleted_order_keeps_its_row_stamped_for_audits() {
    let db = TestDatabase::new();
    let store = db.store();
    let customer_id = customer(&store);
    stored_order(&store, customer_id, 0);
    let doomed = stored_order(&store, customer_id, 1);

    change(&store, &doomed, |o| o.soft_delete(at(2)).unwrap());

    let stamped = diesel::sql_query(
        "SELECT count(*) AS n FROM order_mgmt_orders WHERE deleted_at IS NOT NULL AND id = $1",
    )
    .bind::<diesel::sql_types::Uuid, _>(doomed.id().as_uuid())
    .get_result::<Count>(&mut db.connection())
    .unwrap()
    .n;
    assert_eq!(stamped, 1);
    assert_eq!(store.orders().find_by_id(doomed.id()).unwrap(), None);
}

/// Reading back lines changed in step with the domain is the contract's
/// (`lines_are_added_changed_and_removed_in_step_with_the_domain`); here, that
/// a removed line leaves no row behind.
#[test]
fn removed_lines_leave_no_rows_behind() {
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
        o.add_line(line(4, 50), at(11)).unwrap();
    });
    assert_eq!(line_count(&db, order.id()), 3, "the removed line is gone");

    let emptied = change(&store, &order, |o| {
        for line_id in o.lines().iter().map(|l| l.id()).collect::<Vec<_>>() {
            o.remove_line(line_id, at(20)).unwrap();
        }
    });
    assert_eq!(line_count(&db, emptied.id()), 0);
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
