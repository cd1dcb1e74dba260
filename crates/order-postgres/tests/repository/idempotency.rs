//! The idempotency store's contract: claims, replays, mismatches, leases, and
//! receipts written in the same transaction as the effect.

use std::sync::{Arc, Barrier};
use std::thread;

use chrono::Duration;
use order_app::customers::{Customer, NewCustomer};
use order_app::idempotency::{
    Claim, ClaimedKey, IdempotencyKey, IdempotencyStore, Receipt, StoredResponse,
};
use order_app::ports::{CustomerRepository, OrderRepository};
use order_app::RepositoryError;
use order_domain::CustomerId;
use order_postgres::testing::TestDatabase;

use crate::support::*;

fn key(name: &str) -> IdempotencyKey {
    IdempotencyKey {
        scope: "POST /api/v1/order-mgmt/orders".into(),
        key: name.into(),
    }
}

fn lease() -> Duration {
    Duration::seconds(60)
}

fn acquired(claim: Claim) -> ClaimedKey {
    match claim {
        Claim::Acquired(claimed) => claimed,
        other => panic!("expected a claim, got {other:?}"),
    }
}

fn receipt(claim: &ClaimedKey, body: &str) -> Receipt {
    Receipt {
        claim: claim.clone(),
        response: StoredResponse {
            status: 201,
            headers: vec![
                ("location".into(), "/x".into()),
                ("etag".into(), "\"1\"".into()),
            ],
            body: body.as_bytes().to_vec(),
        },
    }
}

#[test]
fn a_second_claim_is_in_flight_until_the_first_completes_then_replays_it() {
    let db = TestDatabase::new();
    let store = db.store();
    let keys = store.idempotency();
    let claim = acquired(keys.begin(&key("k"), "fp", at(0), lease()).unwrap());
    assert_eq!(
        keys.begin(&key("k"), "fp", at(1), lease()).unwrap(),
        Claim::InFlight
    );

    let customer = customer(&store);
    let order = order(&store, customer, 0);
    let answer = receipt(&claim, "{\"data\":1}");
    store.orders().insert(&order, Some(&answer)).unwrap();

    assert_eq!(
        keys.begin(&key("k"), "fp", at(2), lease()).unwrap(),
        Claim::Replay(answer.response)
    );
}

#[test]
fn the_same_key_for_another_request_is_a_mismatch() {
    let db = TestDatabase::new();
    let keys = db.store().idempotency();
    acquired(keys.begin(&key("k"), "fp-1", at(0), lease()).unwrap());
    assert_eq!(
        keys.begin(&key("k"), "fp-2", at(1), lease()).unwrap(),
        Claim::Mismatch
    );
    let other_scope = IdempotencyKey {
        scope: "POST /other".into(),
        key: "k".into(),
    };
    assert!(matches!(
        keys.begin(&other_scope, "fp-2", at(1), lease()).unwrap(),
        Claim::Acquired(_)
    ));
}

#[test]
fn a_write_whose_claim_was_taken_over_is_refused_and_stores_nothing() {
    let db = TestDatabase::new();
    let store = db.store();
    let keys = store.idempotency();
    let stale = acquired(keys.begin(&key("k"), "fp", at(0), lease()).unwrap());
    // The first holder stalls past its lease; a retry takes the claim over.
    let fresh = acquired(keys.begin(&key("k"), "fp", at(61), lease()).unwrap());
    assert_ne!(stale.token, fresh.token);

    let customer = customer(&store);
    let order = order(&store, customer, 0);
    assert_eq!(
        store
            .orders()
            .insert(&order, Some(&receipt(&stale, "stale"))),
        Err(RepositoryError::ClaimLost)
    );
    assert_eq!(
        store.orders().find_by_id(order.id()).unwrap(),
        None,
        "the effect was rolled back"
    );
    store
        .orders()
        .insert(&order, Some(&receipt(&fresh, "fresh")))
        .unwrap();
    assert!(
        matches!(keys.begin(&key("k"), "fp", at(62), lease()).unwrap(), Claim::Replay(r) if r.body == b"fresh")
    );
}

#[test]
fn an_update_that_loses_its_race_keeps_the_claim_open() {
    let db = TestDatabase::new();
    let store = db.store();
    let keys = store.idempotency();
    let customer = customer(&store);
    let original = stored_order(&store, customer, 0);
    let claim = acquired(keys.begin(&key("k"), "fp", at(0), lease()).unwrap());
    let mut loser = original.clone();
    loser.confirm(at(1)).unwrap();
    change(&store, &original, |o| o.cancel(None, at(1)).unwrap());
    assert_eq!(
        store
            .orders()
            .update(&loser, original.version(), Some(&receipt(&claim, "x"))),
        Err(RepositoryError::Conflict {
            expected: original.version()
        })
    );
    assert_eq!(
        keys.begin(&key("k"), "fp", at(2), lease()).unwrap(),
        Claim::InFlight
    );
}

#[test]
fn an_update_stores_its_receipt() {
    let db = TestDatabase::new();
    let store = db.store();
    let keys = store.idempotency();
    let customer = customer(&store);
    let original = stored_order(&store, customer, 0);
    let claim = acquired(keys.begin(&key("k"), "fp", at(0), lease()).unwrap());
    let mut confirmed = original.clone();
    confirmed.confirm(at(1)).unwrap();
    store
        .orders()
        .update(
            &confirmed,
            original.version(),
            Some(&receipt(&claim, "confirmed")),
        )
        .unwrap();
    assert!(
        matches!(keys.begin(&key("k"), "fp", at(2), lease()).unwrap(), Claim::Replay(r) if r.body == b"confirmed")
    );
}

#[test]
fn a_customer_insert_stores_its_receipt_atomically() {
    let db = TestDatabase::new();
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
    let claim = acquired(keys.begin(&key("c"), "fp", at(0), lease()).unwrap());
    let wrong = ClaimedKey {
        token: "not-the-token".into(),
        ..claim.clone()
    };
    let jane = new("jane@example.com");
    assert_eq!(
        store.customers().insert(&jane, Some(&receipt(&wrong, "x"))),
        Err(RepositoryError::ClaimLost)
    );
    assert_eq!(store.customers().find_by_id(jane.id()).unwrap(), None);
    store
        .customers()
        .insert(&jane, Some(&receipt(&claim, "jane")))
        .unwrap();
    assert!(
        matches!(keys.begin(&key("c"), "fp", at(1), lease()).unwrap(), Claim::Replay(r) if r.body == b"jane")
    );
}

#[test]
fn refusals_are_completed_separately_and_released_claims_can_be_retried() {
    let db = TestDatabase::new();
    let keys = db.store().idempotency();
    let refused = acquired(keys.begin(&key("refused"), "fp", at(0), lease()).unwrap());
    let mut answer = receipt(&refused, "{\"code\":\"order_empty\"}");
    answer.response.status = 409;
    keys.complete(&answer, at(0)).unwrap();
    // Completing twice (the effect's transaction did it already) changes nothing.
    keys.complete(&receipt(&refused, "other"), at(0)).unwrap();
    assert_eq!(
        keys.begin(&key("refused"), "fp", at(1), lease()).unwrap(),
        Claim::Replay(answer.response)
    );

    let failed = acquired(keys.begin(&key("failed"), "fp", at(0), lease()).unwrap());
    keys.release(&failed).unwrap();
    assert!(matches!(
        keys.begin(&key("failed"), "fp", at(1), lease()).unwrap(),
        Claim::Acquired(_)
    ));
}

#[test]
fn purge_deletes_keys_older_than_the_retention() {
    let db = TestDatabase::new();
    let keys = db.store().idempotency();
    acquired(keys.begin(&key("old"), "fp", at(0), lease()).unwrap());
    acquired(keys.begin(&key("new"), "fp", at(100), lease()).unwrap());
    assert_eq!(keys.purge(at(50)).unwrap(), 1);
    assert!(matches!(
        keys.begin(&key("old"), "fp", at(101), lease()).unwrap(),
        Claim::Acquired(_)
    ));
    assert_eq!(
        keys.begin(&key("new"), "fp", at(101), lease()).unwrap(),
        Claim::InFlight
    );
}

#[test]
fn concurrent_claims_of_one_key_acquire_it_exactly_once() {
    let db = TestDatabase::new();
    let store = db.store_with_pool_size(16);
    let barrier = Arc::new(Barrier::new(16));
    let handles: Vec<_> = (0..16)
        .map(|_| {
            let (keys, barrier) = (store.idempotency(), barrier.clone());
            thread::spawn(move || {
                barrier.wait();
                keys.begin(&key("race"), "fp", at(0), lease()).unwrap()
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
