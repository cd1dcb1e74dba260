//! Shipments and returns: stored with the order, read back equal, and the
//! database's own wall (shipped ≤ ordered, returned ≤ shipped per line) holds
//! even against writes that skip the domain.

use std::sync::Arc;

use order_app::{OrderFilter, RepositoryError};
use order_domain::{
    DomainError, FulfillmentId, LineId, LineQuantity, NewFulfillment, NewReturn, Order,
    OrderStatus, Quantity, ReturnId,
};
use uuid::Uuid;

use crate::support::{at, change, customer, line, order};
use crate::{Storage, TestStorage};

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
fn processing(store: &dyn Storage) -> (Order, LineId, LineId) {
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

pub fn shipments_and_returns_read_back_equal_by_id_number_and_list(db: &dyn TestStorage) {
    let store = db.store();
    let (order, a, b) = processing(&store);
    let order = change(&store, &order, |o| {
        o.create_fulfillment(ship(vec![lq(a, 4), lq(b, 1)]), at(5))
            .unwrap();
    });
    let order = change(&store, &order, |o| {
        o.create_fulfillment(ship(vec![lq(a, 2)]), at(6)).unwrap();
    });
    let order = change(&store, &order, |o| {
        o.create_return(give_back(vec![lq(a, 3)]), at(7)).unwrap();
    });
    assert_eq!(order.fulfillments().len(), 2);
    assert_eq!(order.progress(a).unwrap().returned, 3);
    let found = store.orders().find_by_id(order.id()).unwrap();
    assert_eq!(found.as_ref(), Some(&order));
    assert_eq!(
        store.orders().find_by_number(order.number()).unwrap(),
        Some(order.clone())
    );
    let page = store
        .orders()
        .list(
            &OrderFilter {
                status: Some(OrderStatus::Processing),
                ..OrderFilter::default()
            },
            order_app::PageRequest::new(1, 20).unwrap(),
        )
        .unwrap();
    assert_eq!(page.items, vec![order.clone()]);

    // mark_fulfilled ships the remainder; a return after that reads back too.
    let order = change(&store, &order, |o| o.mark_fulfilled(at(8)).unwrap());
    let order = change(&store, &order, |o| {
        o.create_return(give_back(vec![lq(b, 3)]), at(9)).unwrap();
    });
    assert_eq!(
        store.orders().find_by_id(order.id()).unwrap(),
        Some(order.clone())
    );
}

pub fn twenty_concurrent_shipments_of_one_line_never_ship_more_than_ordered(db: &dyn TestStorage) {
    let store = db.store_with_pool_size(20);
    let (order, a, _) = processing(&store);
    let order_id = order.id();
    let store = Arc::new(store);
    let threads: Vec<_> = (0..20)
        .map(|_| {
            let store = Arc::clone(&store);
            std::thread::spawn(move || loop {
                // Each client ships one unit, re-reading after a lost race.
                let mut current = store.orders().find_by_id(order_id).unwrap().unwrap();
                let version = current.version();
                current.create_fulfillment(ship(vec![lq(a, 1)]), at(9))?;
                match store.orders().update(&current, version, None) {
                    Ok(()) => return Ok(()),
                    Err(RepositoryError::Conflict { .. }) => {}
                    Err(other) => panic!("unexpected {other:?}"),
                }
            })
        })
        .collect();
    let results: Vec<_> = threads.into_iter().map(|t| t.join().unwrap()).collect();
    let shipped = results.iter().filter(|r| r.is_ok()).count();
    assert_eq!(shipped, 10, "{results:?}");
    assert!(results.iter().filter(|r| r.is_err()).all(|r| matches!(
        r,
        Err(DomainError::QuantityExceedsUnshipped { available: 0, .. })
    )));
    let stored = store.orders().find_by_id(order_id).unwrap().unwrap();
    assert_eq!(stored.progress(a).unwrap().shipped, 10);
    assert_eq!(stored.fulfillments().len(), 10);
}

pub fn a_committed_edit_after_a_shipment_reads_back_equal(db: &dyn TestStorage) {
    let store = db.store();
    let (order, a, b) = processing(&store);
    let order = change(&store, &order, |o| {
        o.create_fulfillment(ship(vec![lq(a, 2)]), at(5)).unwrap();
    });
    let added = line(4, 250);
    let added_id = added.line_id;
    let order = change(&store, &order, |o| {
        let mut edit = o
            .begin_edit(order_domain::EditId::from_uuid(Uuid::now_v7()), at(6))
            .unwrap();
        for staged in [
            order_domain::EditChange::AddLine(added),
            order_domain::EditChange::SetQuantity {
                line_id: a,
                quantity: Quantity::new(2).unwrap(),
            },
            order_domain::EditChange::RemoveLine { line_id: b },
        ] {
            o.stage_edit(&mut edit, staged, at(6)).unwrap();
        }
        o.commit_edit(&mut edit, at(7)).unwrap();
    });
    assert!(order.line(b).is_none());
    assert!(order.line(added_id).is_some());
    assert_eq!(
        store.orders().find_by_id(order.id()).unwrap(),
        Some(order.clone())
    );
}

pub fn an_edit_commit_racing_a_shipment_applies_both_consistently_or_refuses_one(
    db: &dyn TestStorage,
) {
    let store = Arc::new(db.store_with_pool_size(4));
    for _ in 0..10 {
        let (order, a, b) = processing(&store);
        let id = order.id();
        let base = order.version();
        // The edit was begun (and its change staged) against `base`.
        let mut edit = order
            .begin_edit(order_domain::EditId::from_uuid(Uuid::now_v7()), at(5))
            .unwrap();
        order
            .stage_edit(
                &mut edit,
                order_domain::EditChange::SetQuantity {
                    line_id: b,
                    quantity: Quantity::new(1).unwrap(),
                },
                at(5),
            )
            .unwrap();
        let committer = {
            let store = Arc::clone(&store);
            std::thread::spawn(move || {
                let mut current = store.orders().find_by_id(id).unwrap().unwrap();
                let version = current.version();
                current.commit_edit(&mut edit, at(6))?;
                store
                    .orders()
                    .update(&current, version, None)
                    .map_err(|e| DomainError::CorruptOrder(format!("{e:?}")))
            })
        };
        let shipper = {
            let store = Arc::clone(&store);
            std::thread::spawn(move || {
                let mut current = store.orders().find_by_id(id).unwrap().unwrap();
                let version = current.version();
                current.create_fulfillment(ship(vec![lq(a, 1)]), at(6))?;
                store
                    .orders()
                    .update(&current, version, None)
                    .map_err(|e| DomainError::CorruptOrder(format!("{e:?}")))
            })
        };
        let (edited, shipped) = (committer.join().unwrap(), shipper.join().unwrap());
        let stored = store.orders().find_by_id(id).unwrap().unwrap();
        // The edit only ever commits onto `base`: a shipment first makes it
        // stale (edit_stale) or its save loses the compare-and-set (Conflict).
        assert!(edited.is_ok() || shipped.is_ok(), "{edited:?} {shipped:?}");
        assert_eq!(
            stored.line(b).unwrap().quantity().get(),
            if edited.is_ok() { 1 } else { 3 }
        );
        assert_eq!(
            stored.progress(a).unwrap().shipped,
            u32::from(shipped.is_ok())
        );
        assert_eq!(
            stored.version(),
            base + u64::from(edited.is_ok()) + u64::from(shipped.is_ok())
        );
        if let Err(e) = &edited {
            assert!(
                matches!(e, DomainError::EditStale { .. })
                    || matches!(e, DomainError::CorruptOrder(m) if m.contains("Conflict")),
                "{e:?}"
            );
        }
    }
}
