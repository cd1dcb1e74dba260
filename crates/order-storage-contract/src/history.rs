//! `OrderRepository::history`: an order's events by sequence, deleted orders included.

use order_domain::OrderId;
use serde_json::Value;
use uuid::Uuid;

use crate::support::*;
use crate::{Storage, TestStorage};

pub fn history_pages_by_sequence_and_survives_a_soft_delete(db: &dyn TestStorage) {
    let store = db.store();
    let customer_id = customer(&store);
    let order = stored_order(&store, customer_id, 0);
    let order = change(&store, &order, |o| {
        o.add_line(line(3, 10_000), at(1)).unwrap();
    });
    let order = change(&store, &order, |o| {
        o.cancel(Some("no longer needed".into()), at(2)).unwrap();
    });
    change(&store, &order, |o| o.soft_delete(at(3)).unwrap());
    let repo = store.orders();

    let all = repo.history(order.id(), 0, 100).unwrap().unwrap();
    assert_eq!(all.customer_id, customer_id);
    let sequences: Vec<u64> = all.events.iter().map(|e| e.sequence).collect();
    assert_eq!(sequences, [1, 2, 3, 4, 5], "deleted, and still readable");
    let cancelled: Value = serde_json::from_str(&all.events[3].envelope).unwrap();
    assert_eq!(cancelled["type"], "order.cancelled");
    assert_eq!(cancelled["reason"], "no longer needed");
    assert_eq!(cancelled["sequence"], 4);

    let page = repo.history(order.id(), 1, 2).unwrap().unwrap();
    let sequences: Vec<u64> = page.events.iter().map(|e| e.sequence).collect();
    assert_eq!(
        sequences,
        [2, 3],
        "resumes exactly after the given sequence"
    );
    assert!(repo
        .history(order.id(), 5, 10)
        .unwrap()
        .unwrap()
        .events
        .is_empty());

    let never = OrderId::from_uuid(Uuid::now_v7());
    assert_eq!(repo.history(never, 0, 10).unwrap(), None);
}
