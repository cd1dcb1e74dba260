//! The idempotency store's contract: claims, replays, mismatches, leases, and
//! outcomes written in the same transaction as the effect.

use std::sync::{Arc, Barrier};
use std::thread;

use chrono::Duration;
use order_app::idempotency::{Claim, ClaimTerms, ClaimedKey, IdempotencyKey, Outcome, Receipt};
use order_app::model::{Customer, NewCustomer};
use order_app::RepositoryError;
use order_domain::CustomerId;

use crate::support::*;
use crate::{Storage, TestStorage};

fn key(name: &str) -> IdempotencyKey {
    IdempotencyKey {
        scope: "POST /api/v1/order-mgmt/orders".into(),
        key: name.into(),
    }
}

/// A 60-second lease and a 24-hour retention, as the server's defaults.
fn terms() -> ClaimTerms {
    ClaimTerms {
        lease: Duration::seconds(60),
        retention: Duration::hours(24),
    }
}

fn acquired(claim: Claim) -> ClaimedKey {
    match claim {
        Claim::Acquired(claimed) => claimed,
        other => panic!("expected a claim, got {other:?}"),
    }
}

fn receipt(claim: &ClaimedKey) -> Receipt {
    Receipt {
        claim: claim.clone(),
        line: None,
    }
}

/// The order a replay of `claim` restores.
fn replayed_order(claim: Claim) -> (order_domain::Order, Option<order_domain::LineId>) {
    match claim {
        Claim::Replay(Outcome::Order { order, line }) => (*order, line),
        other => panic!("expected a replayed order, got {other:?}"),
    }
}

pub fn a_second_claim_is_in_flight_until_the_first_completes_then_replays_it(db: &dyn TestStorage) {
    let store = db.store();
    let keys = store.idempotency();
    let claim = acquired(keys.begin(&key("k"), "fp", at(0), terms()).unwrap());
    assert_eq!(
        keys.begin(&key("k"), "fp", at(1), terms()).unwrap(),
        Claim::InFlight
    );

    let customer = customer(&store);
    let order = order(&store, customer, 0);
    store
        .orders()
        .insert(&order, Some(&receipt(&claim)))
        .unwrap();

    let mut written = order.clone();
    written.take_events();
    assert_eq!(
        keys.begin(&key("k"), "fp", at(2), terms()).unwrap(),
        Claim::Replay(Outcome::Order {
            order: Box::new(written),
            line: None
        })
    );
}

pub fn the_same_key_for_another_request_is_a_mismatch(db: &dyn TestStorage) {
    let keys = db.store().idempotency();
    acquired(keys.begin(&key("k"), "fp-1", at(0), terms()).unwrap());
    assert_eq!(
        keys.begin(&key("k"), "fp-2", at(1), terms()).unwrap(),
        Claim::Mismatch
    );
    let other_scope = IdempotencyKey {
        scope: "POST /other".into(),
        key: "k".into(),
    };
    assert!(matches!(
        keys.begin(&other_scope, "fp-2", at(1), terms()).unwrap(),
        Claim::Acquired(_)
    ));
}

pub fn a_write_whose_claim_was_taken_over_is_refused_and_stores_nothing(db: &dyn TestStorage) {
    let store = db.store();
    let keys = store.idempotency();
    let stale = acquired(keys.begin(&key("k"), "fp", at(0), terms()).unwrap());
    // The first holder stalls past its lease; a retry takes the claim over.
    let fresh = acquired(keys.begin(&key("k"), "fp", at(61), terms()).unwrap());
    assert_ne!(stale.token, fresh.token);

    let customer = customer(&store);
    let order = order(&store, customer, 0);
    assert_eq!(
        store.orders().insert(&order, Some(&receipt(&stale))),
        Err(RepositoryError::ClaimLost)
    );
    assert_eq!(
        store.orders().find_by_id(order.id()).unwrap(),
        None,
        "the effect was rolled back"
    );
    store
        .orders()
        .insert(&order, Some(&receipt(&fresh)))
        .unwrap();
    let (replayed, _) = replayed_order(keys.begin(&key("k"), "fp", at(62), terms()).unwrap());
    assert_eq!(replayed.id(), order.id());
}

pub fn an_update_that_loses_its_race_keeps_the_claim_open(db: &dyn TestStorage) {
    let store = db.store();
    let keys = store.idempotency();
    let customer = customer(&store);
    let original = stored_order(&store, customer, 0);
    let claim = acquired(keys.begin(&key("k"), "fp", at(0), terms()).unwrap());
    let mut loser = original.clone();
    loser.confirm(at(1)).unwrap();
    change(&store, &original, |o| o.cancel(None, at(1)).unwrap());
    assert_eq!(
        store
            .orders()
            .update(&loser, original.version(), Some(&receipt(&claim))),
        Err(RepositoryError::Conflict {
            expected: original.version()
        })
    );
    assert_eq!(
        keys.begin(&key("k"), "fp", at(2), terms()).unwrap(),
        Claim::InFlight
    );
}

pub fn an_update_stores_the_order_it_wrote_and_the_line_it_touched(db: &dyn TestStorage) {
    let store = db.store();
    let keys = store.idempotency();
    let customer = customer(&store);
    let original = stored_order(&store, customer, 0);
    let claim = acquired(keys.begin(&key("k"), "fp", at(0), terms()).unwrap());
    let mut confirmed = original.clone();
    confirmed.confirm(at(1)).unwrap();
    let line = confirmed.lines()[0].id();
    store
        .orders()
        .update(
            &confirmed,
            original.version(),
            Some(&Receipt {
                claim: claim.clone(),
                line: Some(line),
            }),
        )
        .unwrap();
    confirmed.take_events();
    // Changed afterwards: the replay is still the order as that write left it.
    change(&store, &confirmed, |o| o.cancel(None, at(3)).unwrap());
    assert_eq!(
        replayed_order(keys.begin(&key("k"), "fp", at(4), terms()).unwrap()),
        (confirmed, Some(line))
    );
}

pub fn a_customer_insert_stores_its_receipt_atomically(db: &dyn TestStorage) {
    let store = db.store();
    let keys = store.idempotency();
    let new = |email: &str| {
        Customer::create(
            CustomerId::from_uuid(uuid::Uuid::now_v7()),
            NewCustomer {
                name: "Jane".into(),
                email: email.into(),
                source: None,
            },
            at(0),
        )
        .unwrap()
    };
    let claim = acquired(keys.begin(&key("c"), "fp", at(0), terms()).unwrap());
    let wrong = ClaimedKey {
        token: "not-the-token".into(),
        ..claim.clone()
    };
    let jane = new("jane@example.com");
    assert_eq!(
        store.customers().insert(&jane, Some(&wrong)),
        Err(RepositoryError::ClaimLost)
    );
    assert_eq!(store.customers().find_by_id(jane.id()).unwrap(), None);
    store.customers().insert(&jane, Some(&claim)).unwrap();
    assert_eq!(
        keys.begin(&key("c"), "fp", at(1), terms()).unwrap(),
        Claim::Replay(Outcome::Customer(jane))
    );
}

pub fn refusals_are_completed_separately_and_released_claims_can_be_retried(db: &dyn TestStorage) {
    let keys = db.store().idempotency();
    let refused = acquired(keys.begin(&key("refused"), "fp", at(0), terms()).unwrap());
    let answer = b"409 {\"code\":\"order_empty\"}".to_vec();
    keys.refuse(&refused, &answer).unwrap();
    // A completed claim is no longer held: a second completion changes nothing.
    keys.refuse(&refused, b"other").unwrap();
    assert_eq!(
        keys.begin(&key("refused"), "fp", at(1), terms()).unwrap(),
        Claim::Replay(Outcome::Refused(answer))
    );

    let failed = acquired(keys.begin(&key("failed"), "fp", at(0), terms()).unwrap());
    keys.release(&failed).unwrap();
    assert!(matches!(
        keys.begin(&key("failed"), "fp", at(1), terms()).unwrap(),
        Claim::Acquired(_)
    ));
}

pub fn purge_deletes_keys_older_than_the_retention(db: &dyn TestStorage) {
    let keys = db.store().idempotency();
    acquired(keys.begin(&key("old"), "fp", at(0), terms()).unwrap());
    acquired(keys.begin(&key("new"), "fp", at(100), terms()).unwrap());
    assert_eq!(keys.purge(at(50)).unwrap(), 1);
    assert!(matches!(
        keys.begin(&key("old"), "fp", at(101), terms()).unwrap(),
        Claim::Acquired(_)
    ));
    assert_eq!(
        keys.begin(&key("new"), "fp", at(101), terms()).unwrap(),
        Claim::InFlight
    );
}

pub fn concurrent_claims_of_one_key_acquire_it_exactly_once(db: &dyn TestStorage) {
    let store = db.store_with_pool_size(16);
    let barrier = Arc::new(Barrier::new(16));
    let handles: Vec<_> = (0..16)
        .map(|_| {
            let (keys, barrier) = (store.idempotency(), barrier.clone());
            thread::spawn(move || {
                barrier.wait();
                keys.begin(&key("race"), "fp", at(0), terms()).unwrap()
            })
        })
        .collect();
    let claims: Vec<Claim> = handles.into_iter().map(|h| h.join().unwrap()).collect();
    assert_eq!(
        claims
            .iter()
            .filter(|c| matches!(c, Claim::Acquired(_)))
            .count(),
        1
    );
    assert_eq!(claims.iter().filter(|c| **c == Claim::InFlight).count(), 15);
}

pub fn an_order_with_every_field_replays_exactly_as_it_was_written(db: &dyn TestStorage) {
    let store = db.store();
    let keys = store.idempotency();
    let customer = customer(&store);
    let claim = acquired(keys.begin(&key("rich"), "fp", at(0), terms()).unwrap());
    let order = order_with_every_field(&store, customer);
    store
        .orders()
        .insert(&order, Some(&receipt(&claim)))
        .unwrap();
    let mut written = order.clone();
    written.take_events();
    assert_eq!(
        replayed_order(keys.begin(&key("rich"), "fp", at(1), terms()).unwrap()),
        (written, None)
    );
}

pub fn an_expired_key_is_never_replayed_and_is_claimed_afresh(db: &dyn TestStorage) {
    let store = db.store();
    let keys = store.idempotency();
    let short = ClaimTerms {
        lease: Duration::seconds(60),
        retention: Duration::seconds(100),
    };
    let refused = acquired(keys.begin(&key("old"), "fp", at(0), short).unwrap());
    keys.refuse(&refused, b"409 stale answer").unwrap();
    assert_eq!(
        keys.begin(&key("old"), "fp", at(99), short).unwrap(),
        Claim::Replay(Outcome::Refused(b"409 stale answer".to_vec())),
        "within the retention the answer replays"
    );
    // Past the retention, before any purge ran: a fresh claim, even for
    // another request, and its new answer is the one replayed.
    let fresh = acquired(keys.begin(&key("old"), "fp-2", at(100), short).unwrap());
    assert_ne!(fresh.token, refused.token);
    assert_eq!(
        keys.begin(&key("old"), "fp-2", at(101), short).unwrap(),
        Claim::InFlight
    );
    let customer = customer(&store);
    let order = order(&store, customer, 0);
    store
        .orders()
        .insert(&order, Some(&receipt(&fresh)))
        .unwrap();
    let (replayed, _) = replayed_order(keys.begin(&key("old"), "fp-2", at(102), short).unwrap());
    assert_eq!(replayed.id(), order.id());
    // The retention counts from the fresh claim, not the expired one.
    assert!(matches!(
        keys.begin(&key("old"), "fp-2", at(199), short).unwrap(),
        Claim::Replay(_)
    ));
}
