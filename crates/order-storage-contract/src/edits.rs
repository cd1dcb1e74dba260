//! Edits after confirmation (`OrderEditRepository`): stored and read back
//! equal, staged with a compare-and-set on the edit, committed with the
//! order in one transaction that is a compare-and-set on both, and replayed
//! by idempotency keys.

use std::sync::{Arc, Barrier};
use std::thread;

use chrono::Duration;
use order_app::idempotency::{Claim, ClaimTerms, ClaimedKey, IdempotencyKey, Outcome, Receipt};
use order_app::RepositoryError;
use order_domain::{
    Currency, EditChange, EditId, EditState, FulfillmentId, LineId, LineQuantity, LineTax, Money,
    NewFulfillment, NewLine, Order, OrderEdit, OrderId, OrderStatus, ProductId, ProductSnapshot,
    Quantity, TaxRate,
};
use uuid::Uuid;

use crate::support::{at, change, customer, events_of, line, order};
use crate::{Storage, TestStorage};

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

/// A taxed, described new line of 2 × 9.99 USD.
fn taxed_line() -> NewLine {
    NewLine {
        line_id: LineId::from_uuid(Uuid::now_v7()),
        product_id: ProductId::from_uuid(Uuid::now_v7()),
        quantity: Quantity::new(2).unwrap(),
        unit_price: Money::new(999, Currency::USD),
        snapshot: ProductSnapshot::new(Some("Scarf".into()), Some("SCF-1".into())).unwrap(),
        tax: LineTax::new(TaxRate::parse("19").unwrap(), Some("standard".into())).unwrap(),
    }
}

/// A stored edit of `order` with every kind of change staged (an added
/// taxed line, `a` lowered to 4, `b` removed).
fn staged(store: &dyn Storage, order: &Order, a: LineId, b: LineId) -> OrderEdit {
    let mut edit = order
        .begin_edit(EditId::from_uuid(Uuid::now_v7()), at(10))
        .unwrap();
    store.edits().insert(&edit, None).unwrap();
    let begun = edit.version();
    for change in [
        EditChange::AddLine(taxed_line()),
        EditChange::SetQuantity {
            line_id: a,
            quantity: Quantity::new(4).unwrap(),
        },
        EditChange::RemoveLine { line_id: b },
    ] {
        order.stage_edit(&mut edit, change, at(11)).unwrap();
    }
    store.edits().update(&edit, begun, None).unwrap();
    edit
}

fn key(name: &str) -> IdempotencyKey {
    IdempotencyKey {
        scope: "POST /api/v1/order-mgmt/orders/{id}/edits".into(),
        key: name.into(),
    }
}

fn claim(store: &dyn Storage, name: &str) -> ClaimedKey {
    let terms = ClaimTerms {
        lease: Duration::seconds(60),
        retention: Duration::hours(24),
    };
    match store
        .idempotency()
        .begin(&key(name), "fingerprint", at(0), terms)
        .unwrap()
    {
        Claim::Acquired(claimed) => claimed,
        other => panic!("expected a claim, got {other:?}"),
    }
}

fn replay(store: &dyn Storage, name: &str) -> Outcome {
    let terms = ClaimTerms {
        lease: Duration::seconds(60),
        retention: Duration::hours(24),
    };
    match store
        .idempotency()
        .begin(&key(name), "fingerprint", at(1), terms)
        .unwrap()
    {
        Claim::Replay(outcome) => outcome,
        other => panic!("expected a replay, got {other:?}"),
    }
}

pub fn an_edit_with_every_kind_of_change_reads_back_equal(db: &dyn TestStorage) {
    let store = db.store();
    let (order, a, b) = processing(&*store);
    let edit = staged(&*store, &order, a, b);
    assert_eq!(edit.changes().len(), 3);
    assert_eq!(store.edits().find(edit.id()).unwrap(), Some(edit));
    assert_eq!(
        store
            .edits()
            .find(EditId::from_uuid(Uuid::now_v7()))
            .unwrap(),
        None
    );
    // Staging never touches the order.
    assert_eq!(store.orders().find_by_id(order.id()).unwrap(), Some(order));
}

pub fn staging_is_a_compare_and_set_on_the_edit_version(db: &dyn TestStorage) {
    let store = db.store();
    let (order, a, b) = processing(&*store);
    let edit = staged(&*store, &order, a, b);
    let mut late = edit.clone();
    late.discard(at(12)).unwrap();
    assert_eq!(
        store.edits().update(&late, 1, None),
        Err(RepositoryError::Conflict { expected: 1 })
    );
    assert_eq!(store.edits().find(edit.id()).unwrap(), Some(edit.clone()));
    store.edits().update(&late, edit.version(), None).unwrap();
    assert_eq!(
        store.edits().find(edit.id()).unwrap().unwrap().state(),
        EditState::Discarded
    );
}

pub fn an_edit_of_an_order_that_does_not_exist_is_not_found(db: &dyn TestStorage) {
    let store = db.store();
    let (order, _, _) = processing(&*store);
    let mut foreign = order.clone();
    // The same order under another id: valid for the domain, unknown to the store.
    let snapshot = {
        let mut s = foreign.snapshot();
        s.id = OrderId::from_uuid(Uuid::now_v7());
        s
    };
    foreign = Order::restore(snapshot).unwrap();
    let edit = foreign
        .begin_edit(EditId::from_uuid(Uuid::now_v7()), at(10))
        .unwrap();
    assert_eq!(
        store.edits().insert(&edit, None),
        Err(RepositoryError::NotFound)
    );
}

pub fn a_commit_writes_the_order_its_event_and_the_edit_together(db: &dyn TestStorage) {
    let store = db.store();
    let (order, a, b) = processing(&*store);
    let mut edit = staged(&*store, &order, a, b);
    let (order_version, edit_version) = (order.version(), edit.version());
    let mut committed = order.clone();
    let preview = committed.commit_edit(&mut edit, at(20)).unwrap();
    store
        .edits()
        .commit(&committed, order_version, &edit, edit_version, None)
        .unwrap();
    committed.take_events();
    let found = store.orders().find_by_id(order.id()).unwrap().unwrap();
    assert_eq!(found, committed);
    assert_eq!(found.version(), order_version + 1);
    assert_eq!(found.lines().len(), 2, "b removed, the scarf added");
    assert_eq!(found.line(a).unwrap().quantity().get(), 4);
    assert!(found.line(b).is_none());
    assert_eq!(found.total(), preview.after.total);
    assert_eq!(
        store.edits().find(edit.id()).unwrap().unwrap().state(),
        EditState::Committed
    );
    let events = events_of(&*store, order.id());
    let last = events.last().unwrap();
    assert_eq!(
        (last.version, last.event_type.as_str()),
        (order_version + 1, "order.edited")
    );
}

pub fn a_commit_onto_a_moved_order_or_a_moved_edit_writes_nothing(db: &dyn TestStorage) {
    let store = db.store();
    let (order, a, b) = processing(&*store);
    let edit = staged(&*store, &order, a, b);

    // The edit moved (staged again) since it was read: the order's write
    // is rolled back with it.
    let mut stale_edit = edit.clone();
    let mut committed = order.clone();
    committed.commit_edit(&mut stale_edit, at(20)).unwrap();
    assert_eq!(
        store.edits().commit(
            &committed,
            order.version(),
            &stale_edit,
            edit.version() - 1,
            None
        ),
        Err(RepositoryError::Conflict {
            expected: edit.version() - 1
        })
    );
    assert_eq!(
        store.orders().find_by_id(order.id()).unwrap().as_ref(),
        Some(&order)
    );

    // The order moved (a shipment) since the edit began.
    let shipped = change(&*store, &order, |o| {
        o.create_fulfillment(
            NewFulfillment {
                id: FulfillmentId::from_uuid(Uuid::now_v7()),
                lines: vec![LineQuantity {
                    line_id: a,
                    quantity: Quantity::new(1).unwrap(),
                }],
                carrier: None,
                tracking_number: None,
            },
            at(21),
        )
        .unwrap();
    });
    assert_eq!(
        store.edits().commit(
            &committed,
            order.version(),
            &stale_edit,
            edit.version(),
            None
        ),
        Err(RepositoryError::Conflict {
            expected: order.version()
        })
    );
    assert_eq!(
        store.orders().find_by_id(order.id()).unwrap(),
        Some(shipped)
    );
    assert_eq!(store.edits().find(edit.id()).unwrap(), Some(edit));
}

pub fn begin_stage_and_commit_replay_what_they_wrote(db: &dyn TestStorage) {
    let store = db.store();
    let (order, a, _) = processing(&*store);
    let mut edit = order
        .begin_edit(EditId::from_uuid(Uuid::now_v7()), at(10))
        .unwrap();
    let begin = claim(&*store, "begin");
    store.edits().insert(&edit, Some(&begin)).unwrap();
    assert_eq!(
        replay(&*store, "begin"),
        Outcome::Edit(Box::new(edit.clone()))
    );

    order
        .stage_edit(&mut edit, EditChange::AddLine(taxed_line()), at(11))
        .unwrap();
    let stage = claim(&*store, "stage");
    store.edits().update(&edit, 1, Some(&stage)).unwrap();
    assert_eq!(
        replay(&*store, "stage"),
        Outcome::Edit(Box::new(edit.clone()))
    );

    order
        .stage_edit(
            &mut edit,
            EditChange::SetQuantity {
                line_id: a,
                quantity: Quantity::new(1).unwrap(),
            },
            at(12),
        )
        .unwrap();
    store.edits().update(&edit, 2, None).unwrap();
    let commit = claim(&*store, "commit");
    let mut committed = order.clone();
    committed.commit_edit(&mut edit, at(20)).unwrap();
    store
        .edits()
        .commit(
            &committed,
            order.version(),
            &edit,
            3,
            Some(&Receipt {
                claim: commit,
                line: None,
            }),
        )
        .unwrap();
    committed.take_events();
    match replay(&*store, "commit") {
        Outcome::Order { order, line: None } => assert_eq!(*order, committed),
        other => panic!("expected the committed order, got {other:?}"),
    }
}

pub fn a_commit_racing_a_shipment_of_the_same_version_never_both_land(db: &dyn TestStorage) {
    let store = Arc::new(db.store_with_pool_size(4));
    let (order, a, b) = processing(&*store);
    let mut edit = staged(&*store, &order, a, b);
    let edit_version = edit.version();
    let mut committed = order.clone();
    committed.commit_edit(&mut edit, at(20)).unwrap();
    let mut shipped = order.clone();
    shipped
        .create_fulfillment(
            NewFulfillment {
                id: FulfillmentId::from_uuid(Uuid::now_v7()),
                // 10 of a: more than the edit leaves on the line.
                lines: vec![LineQuantity {
                    line_id: a,
                    quantity: Quantity::new(10).unwrap(),
                }],
                carrier: None,
                tracking_number: None,
            },
            at(20),
        )
        .unwrap();
    let barrier = Arc::new(Barrier::new(2));
    let version = order.version();
    let commit = {
        let (store, barrier, committed, edit) = (
            store.clone(),
            barrier.clone(),
            committed.clone(),
            edit.clone(),
        );
        thread::spawn(move || {
            barrier.wait();
            store
                .edits()
                .commit(&committed, version, &edit, edit_version, None)
        })
    };
    let ship = {
        let (store, barrier, shipped) = (Arc::clone(&store), barrier.clone(), shipped.clone());
        thread::spawn(move || {
            barrier.wait();
            store.orders().update(&shipped, version, None)
        })
    };
    let (commit, ship) = (commit.join().unwrap(), ship.join().unwrap());
    let found = store.orders().find_by_id(order.id()).unwrap().unwrap();
    match (commit, ship) {
        (Ok(()), Err(RepositoryError::Conflict { .. })) => {
            assert_eq!(found.line(a).unwrap().quantity().get(), 4);
            assert!(found.fulfillments().is_empty());
            assert_eq!(
                store.edits().find(edit.id()).unwrap().unwrap().state(),
                EditState::Committed
            );
        }
        (Err(RepositoryError::Conflict { .. }), Ok(())) => {
            assert_eq!(found.progress(a).unwrap().shipped, 10);
            assert_eq!(found.status(), OrderStatus::Processing);
            assert!(!events_of(&*store, order.id())
                .iter()
                .any(|e| e.event_type == "order.edited"));
            assert_eq!(
                store.edits().find(edit.id()).unwrap().unwrap().state(),
                EditState::Open
            );
        }
        other => panic!("exactly one write must land: {other:?}"),
    }
}
