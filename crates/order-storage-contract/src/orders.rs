//! The `OrderRepository` contract: round trips, lookups, lists, soft delete,
//! the compare-and-set update, line synchronisation and the outbox.

use order_app::{OrderFilter, PageRequest, RepositoryError};
use order_domain::{CustomerId, Order, OrderId, OrderNumber, OrderStatus, Quantity};
use uuid::Uuid;

use crate::support::{
    at, change, customer, events_of, line, order, order_with_every_field, stored_order,
};
use crate::{Storage, TestStorage};

pub fn a_round_trip_preserves_every_field_of_an_order_and_its_lines(db: &dyn TestStorage) {
    let store = db.store();
    let customer_id = customer(&store);
    let mut order = order_with_every_field(&store, customer_id);

    store.orders().insert(&order, None).unwrap();
    order.take_events();

    let loaded = store.orders().find_by_id(order.id()).unwrap().unwrap();
    assert_eq!(loaded, order);
    assert_eq!(loaded.lines().len(), 3);
    assert_eq!(loaded.status(), OrderStatus::Cancelled);
    assert_eq!(
        loaded.cancellation_reason(),
        Some("Customer changed their mind")
    );
}

pub fn every_state_written_by_update_reads_back_equal(db: &dyn TestStorage) {
    let store = db.store();
    let customer_id = customer(&store);
    let mut order = order(&store, customer_id, 0);
    store.orders().insert(&order, None).unwrap();
    order.take_events();
    assert_eq!(
        store.orders().find_by_id(order.id()).unwrap(),
        Some(order.clone())
    );

    let steps: [&dyn Fn(&mut Order); 5] = [
        &|o| {
            o.add_line(line(3, 10_000), at(1)).unwrap();
        },
        &|o| {
            o.add_line(line(2, 7_500), at(2)).unwrap();
        },
        &|o| o.confirm(at(3)).unwrap(),
        &|o| o.start_processing(at(4)).unwrap(),
        &|o| o.mark_fulfilled(at(5)).unwrap(),
    ];
    for step in steps {
        order = change(&store, &order, step);
        assert_eq!(
            store.orders().find_by_id(order.id()).unwrap(),
            Some(order.clone())
        );
    }
    assert_eq!(order.total().amount(), 45_000);
    assert_eq!(order.version(), 6);
}

pub fn an_order_is_found_by_its_number_and_not_by_another(db: &dyn TestStorage) {
    let store = db.store();
    let customer_id = customer(&store);
    let order = stored_order(&store, customer_id, 0);

    assert_eq!(
        store.orders().find_by_number(order.number()).unwrap(),
        Some(order.clone())
    );
    let other = OrderNumber::new(2025, order.number().counter() + 1_000).unwrap();
    assert_eq!(store.orders().find_by_number(other).unwrap(), None);
    assert_eq!(
        store
            .orders()
            .find_by_id(OrderId::from_uuid(Uuid::now_v7()))
            .unwrap(),
        None
    );
}

pub fn inserting_the_same_id_or_number_twice_is_a_duplicate(db: &dyn TestStorage) {
    let store = db.store();
    let customer_id = customer(&store);
    let first = stored_order(&store, customer_id, 0);

    let same_id = first.clone();
    assert_eq!(
        store.orders().insert(&same_id, None),
        Err(RepositoryError::Duplicate("order_mgmt_orders_pkey".into()))
    );

    let mut same_number = order(&store, customer_id, 1);
    same_number = Order::restore(order_domain::OrderSnapshot {
        number: first.number(),
        ..same_number.snapshot()
    })
    .unwrap();
    assert_eq!(
        store.orders().insert(&same_number, None),
        Err(RepositoryError::Duplicate("uq_order_number".into()))
    );
}

pub fn an_order_for_an_unknown_customer_is_unknown_customer(db: &dyn TestStorage) {
    let store = db.store();
    let order = order(&store, CustomerId::from_uuid(Uuid::now_v7()), 0);
    assert_eq!(
        store.orders().insert(&order, None),
        Err(RepositoryError::UnknownCustomer(order.customer_id()))
    );
    assert_eq!(store.orders().find_by_id(order.id()).unwrap(), None);
}

/// Seven orders of two customers in several statuses, created one minute apart.
struct Catalogue {
    alice: CustomerId,
    bob: CustomerId,
    /// Newest first.
    orders: Vec<Order>,
}

fn catalogue(store: &dyn Storage) -> Catalogue {
    let alice = customer(store);
    let bob = customer(store);
    let plan = [
        (alice, OrderStatus::Pending),
        (bob, OrderStatus::Confirmed),
        (alice, OrderStatus::Confirmed),
        (alice, OrderStatus::Cancelled),
        (bob, OrderStatus::Pending),
        (alice, OrderStatus::Confirmed),
        (bob, OrderStatus::Confirmed),
    ];
    let mut orders = Vec::new();
    for (minute, (customer_id, status)) in (0_i64..).zip(plan) {
        let mut order = stored_order(store, customer_id, minute * 60);
        match status {
            OrderStatus::Confirmed => {
                order = change(store, &order, |o| o.confirm(at(minute * 60 + 1)).unwrap());
            }
            OrderStatus::Cancelled => {
                order = change(store, &order, |o| {
                    o.cancel(None, at(minute * 60 + 1)).unwrap()
                });
            }
            _ => {}
        }
        orders.push(order);
    }
    orders.reverse();
    Catalogue { alice, bob, orders }
}

fn ids(orders: &[Order]) -> Vec<OrderId> {
    orders.iter().map(Order::id).collect()
}

pub fn lists_filter_by_customer_status_or_both_newest_first(db: &dyn TestStorage) {
    let store = db.store();
    let Catalogue { alice, bob, orders } = catalogue(&store);
    let page = PageRequest::new(1, 100).unwrap();
    let expect = |keep: &dyn Fn(&Order) -> bool| -> Vec<OrderId> {
        ids(&orders
            .iter()
            .filter(|o| keep(o))
            .cloned()
            .collect::<Vec<_>>())
    };

    let cases: [(&str, OrderFilter, Vec<OrderId>); 5] = [
        ("everything", OrderFilter::default(), expect(&|_| true)),
        (
            "alice",
            OrderFilter {
                customer_id: Some(alice),
                status: None,
            },
            expect(&|o| o.customer_id() == alice),
        ),
        (
            "confirmed",
            OrderFilter {
                customer_id: None,
                status: Some(OrderStatus::Confirmed),
            },
            expect(&|o| o.status() == OrderStatus::Confirmed),
        ),
        (
            "bob's confirmed",
            OrderFilter {
                customer_id: Some(bob),
                status: Some(OrderStatus::Confirmed),
            },
            expect(&|o| o.customer_id() == bob && o.status() == OrderStatus::Confirmed),
        ),
        (
            "nothing fulfilled",
            OrderFilter {
                customer_id: None,
                status: Some(OrderStatus::Fulfilled),
            },
            vec![],
        ),
    ];
    for (name, filter, expected) in cases {
        let listed = store.orders().list(&filter, page).unwrap();
        assert_eq!(ids(&listed.items), expected, "{name}");
        assert_eq!(listed.total_items, expected.len() as u64, "{name}");
    }
    // Listed orders are whole: lines included, equal to what a get returns.
    let listed = store.orders().list(&OrderFilter::default(), page).unwrap();
    assert_eq!(listed.items, orders);
}

pub fn pages_are_first_middle_last_and_empty_beyond_with_the_total_on_each(db: &dyn TestStorage) {
    let store = db.store();
    let customer_id = customer(&store);
    // 25 orders; three share one creation time, so the id decides among them.
    let mut orders: Vec<Order> = (0..25)
        .map(|i| {
            stored_order(
                &store,
                customer_id,
                if (10..13).contains(&i) { 10 } else { i },
            )
        })
        .collect();
    orders.sort_by_key(|o| std::cmp::Reverse((o.created_at(), o.id())));
    let filter = OrderFilter {
        customer_id: Some(customer_id),
        status: None,
    };

    let mut seen = Vec::new();
    for (page, expected_len) in [(1, 10), (2, 10), (3, 5), (4, 0)] {
        let listed = store
            .orders()
            .list(&filter, PageRequest::new(page, 10).unwrap())
            .unwrap();
        assert_eq!(listed.items.len(), expected_len, "page {page}");
        assert_eq!(listed.total_items, 25, "page {page}");
        assert_eq!(listed.total_pages(), 3);
        seen.extend(listed.items);
    }
    assert_eq!(ids(&seen), ids(&orders), "pages neither overlap nor skip");

    // The deepest numbered page a client may ask for (10,000 items skipped).
    let far = store
        .orders()
        .list(&filter, PageRequest::new(101, 100).unwrap())
        .unwrap();
    assert!(far.items.is_empty());
    assert_eq!(far.total_items, 25);
}

pub fn soft_deleted_orders_vanish_from_every_read_and_cannot_be_updated(db: &dyn TestStorage) {
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

pub fn an_update_against_a_stale_version_is_a_conflict_and_changes_nothing(db: &dyn TestStorage) {
    let store = db.store();
    let customer_id = customer(&store);
    let original = stored_order(&store, customer_id, 0);

    // Two writers read version 2; the first one wins.
    let winner = change(&store, &original, |o| {
        o.add_line(line(2, 500), at(1)).unwrap();
    });
    let mut loser = original.clone();
    loser.add_line(line(9, 900), at(2)).unwrap();
    loser.confirm(at(3)).unwrap();

    assert_eq!(
        store.orders().update(&loser, original.version(), None),
        Err(RepositoryError::Conflict {
            expected: original.version()
        })
    );
    assert_eq!(
        store.orders().find_by_id(original.id()).unwrap(),
        Some(winner)
    );
    assert_eq!(
        events_of(&store, original.id()).len(),
        3,
        "no event of the loser"
    );
}

pub fn updating_an_order_that_was_never_stored_is_not_found(db: &dyn TestStorage) {
    let store = db.store();
    let customer_id = customer(&store);
    let mut ghost = order(&store, customer_id, 0);
    ghost.add_line(line(1, 100), at(1)).unwrap();
    assert_eq!(
        store.orders().update(&ghost, 1, None),
        Err(RepositoryError::NotFound)
    );
}

pub fn an_update_that_does_not_advance_the_version_is_refused(db: &dyn TestStorage) {
    let store = db.store();
    let customer_id = customer(&store);
    let order = stored_order(&store, customer_id, 0);
    assert!(matches!(
        store.orders().update(&order, order.version(), None),
        Err(RepositoryError::Unexpected(_))
    ));
}

pub fn lines_are_added_changed_and_removed_in_step_with_the_domain(db: &dyn TestStorage) {
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

    let emptied = change(&store, &order, |o| {
        for line_id in o.lines().iter().map(|l| l.id()).collect::<Vec<_>>() {
            o.remove_line(line_id, at(20)).unwrap();
        }
    });
    assert!(emptied.lines().is_empty());
    assert_eq!(
        store.orders().find_by_id(emptied.id()).unwrap(),
        Some(emptied)
    );
}

pub fn every_change_writes_its_events_to_the_outbox_in_order(db: &dyn TestStorage) {
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

    let events = events_of(&store, order.id());
    let summary: Vec<(u64, &str)> = events
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

pub fn an_update_without_pending_events_still_writes_every_line_change(db: &dyn TestStorage) {
    let store = db.store();
    let customer_id = customer(&store);
    let original = stored_order(&store, customer_id, 0);
    let mut changed = original.clone();
    changed.add_line(line(2, 300), at(1)).unwrap();
    let first = changed.lines()[0].id();
    changed.remove_line(first, at(2)).unwrap();
    // A caller that took the events leaves the adapter nothing to go by.
    changed.take_events();
    store
        .orders()
        .update(&changed, original.version(), None)
        .unwrap();
    assert_eq!(
        store.orders().find_by_id(changed.id()).unwrap(),
        Some(changed)
    );
}

pub fn a_transition_leaves_the_stored_lines_untouched(db: &dyn TestStorage) {
    let store = db.store();
    let customer_id = customer(&store);
    let original = stored_order(&store, customer_id, 0);
    let confirmed = change(&store, &original, |o| o.confirm(at(1)).unwrap());
    assert_eq!(
        store.orders().find_by_id(original.id()).unwrap(),
        Some(confirmed)
    );
}

pub fn cursor_pages_walk_the_whole_list_in_order_without_overlap(db: &dyn TestStorage) {
    let store = db.store();
    let customer_id = customer(&store);
    // 23 orders; four share one creation time, so the id must break the tie.
    let mut orders: Vec<Order> = (0..23)
        .map(|i| stored_order(&store, customer_id, if (5..9).contains(&i) { 5 } else { i }))
        .collect();
    orders.sort_by_key(|o| std::cmp::Reverse((o.created_at(), o.id())));

    let first = store
        .orders()
        .list(&OrderFilter::default(), PageRequest::new(1, 10).unwrap())
        .unwrap();
    assert_eq!(first.items.len(), 10);
    let mut seen = first.items;
    let mut cursor = first.next_cursor;
    let mut pages = 1;
    while let Some(after) = cursor {
        let page = store
            .orders()
            .list(
                &OrderFilter::default(),
                PageRequest::after(after, 10).unwrap(),
            )
            .unwrap();
        assert_eq!(page.total_items, 23, "the total is the whole list's");
        assert!(page.total_exact);
        seen.extend(page.items);
        cursor = page.next_cursor;
        pages += 1;
        assert!(pages <= 3, "the walk ends");
    }
    assert_eq!(pages, 3);
    assert_eq!(
        ids(&seen),
        ids(&orders),
        "cursor pages neither overlap nor skip"
    );
}
