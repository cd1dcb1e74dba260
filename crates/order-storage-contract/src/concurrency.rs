//! Real threads against one database: no concurrent update is ever lost, and
//! order numbers never repeat.

use std::collections::HashSet;
use std::sync::{Arc, Barrier};
use std::thread;

use order_app::RepositoryError;

use crate::support::events_of;
use crate::support::{at, customer, line, order};
use crate::{Storage, TestStorage};

/// What one writer went through.
struct Attempts {
    conflicts: usize,
}

pub fn sixteen_writers_adding_lines_to_one_order_lose_none_of_them(db: &dyn TestStorage) {
    const WRITERS: usize = 16;
    let store = db.store_with_pool_size(WRITERS as u32);
    let customer_id = customer(&store);
    let mut created = order(&store, customer_id, 0);
    store.orders().insert(&created, None).unwrap();
    created.take_events();
    let id = created.id();

    let start = Arc::new(Barrier::new(WRITERS));
    let writers: Vec<_> = (0..WRITERS)
        .map(|writer| {
            let orders = store.orders();
            let start = Arc::clone(&start);
            thread::spawn(move || {
                let cents = 100 * (i64::try_from(writer).unwrap() + 1);
                let new_line = line(1, cents);
                let mut conflicts = 0;
                start.wait();
                // Load, change, compare-and-set; on a conflict, start over
                // from a fresh read, as the use cases do.
                for _ in 0..1_000 {
                    let mut current = orders.find_by_id(id).unwrap().unwrap();
                    let read = current.version();
                    current.add_line(new_line.clone(), at(1)).unwrap();
                    match orders.update(&current, read, None) {
                        Ok(()) => return Attempts { conflicts },
                        Err(RepositoryError::Conflict { expected }) => {
                            assert_eq!(expected, read);
                            conflicts += 1;
                        }
                        Err(other) => panic!("writer {writer}: {other}"),
                    }
                }
                panic!("writer {writer} never got its line in");
            })
        })
        .collect();
    let attempts: Vec<Attempts> = writers.into_iter().map(|w| w.join().unwrap()).collect();

    let stored = store.orders().find_by_id(id).unwrap().unwrap();
    let expected_total: i64 = (1..=16).map(|n| 100 * n).sum();
    assert_eq!(
        stored.lines().len(),
        WRITERS,
        "every writer's line is there"
    );
    assert_eq!(stored.total().amount(), expected_total);
    assert_eq!(stored.version(), 1 + WRITERS as u64);
    // One successful update per writer, every other attempt a Conflict:
    // the version rose exactly once per line, and the outbox agrees.
    let versions: Vec<u64> = events_of(&store, id).iter().map(|e| e.version).collect();
    assert_eq!(versions, (1..=1 + WRITERS as u64).collect::<Vec<_>>());
    let conflicts: usize = attempts.iter().map(|a| a.conflicts).sum();
    println!("{WRITERS} writers, {conflicts} conflicts retried");
}

pub fn eight_threads_allocating_500_numbers_each_get_4000_distinct_numbers(db: &dyn TestStorage) {
    const THREADS: usize = 8;
    const EACH: usize = 500;
    let store = db.store_with_pool_size(THREADS as u32);
    let start = Arc::new(Barrier::new(THREADS));
    let threads: Vec<_> = (0..THREADS)
        .map(|_| {
            let numbers = store.numbers();
            let start = Arc::clone(&start);
            thread::spawn(move || {
                start.wait();
                (0..EACH)
                    .map(|_| numbers.next_number(2025).unwrap())
                    .collect::<Vec<_>>()
            })
        })
        .collect();
    let all: Vec<_> = threads
        .into_iter()
        .flat_map(|t| t.join().unwrap())
        .collect();
    let distinct: HashSet<_> = all.iter().collect();
    assert_eq!(all.len(), THREADS * EACH);
    assert_eq!(distinct.len(), THREADS * EACH);
    assert!(all.iter().all(|n| n.year() == 2025));
}

pub fn two_servers_reserving_blocks_never_hand_out_the_same_number(db: &dyn TestStorage) {
    let store = db.store();
    // Two allocators stand for two servers, each reserving its own blocks.
    let (first, second) = (store.numbers(), store.numbers());
    let mut seen = HashSet::new();
    let mut last_of_first = 0;
    for _ in 0..100 {
        let a = first.next_number(2025).unwrap();
        let b = second.next_number(2025).unwrap();
        assert!(a.counter() > last_of_first, "one allocator's numbers rise");
        last_of_first = a.counter();
        assert!(
            seen.insert(a) && seen.insert(b),
            "{a} or {b} handed out twice"
        );
    }
}
