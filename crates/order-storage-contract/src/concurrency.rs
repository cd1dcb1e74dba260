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

/// A list page read while writers add lines to its orders: each listed order
/// is one committed state of it, its row (version, totals) with exactly that
/// version's lines. A store that read the rows and the lines apart (two
/// statements, no common snapshot) would pair a row with newer lines, which
/// `Order::restore` refuses (totals that are not the lines' sum) or which
/// shows here as a line count that is not the version's.
pub fn lists_read_while_writers_add_lines_pair_every_row_with_its_own_lines(db: &dyn TestStorage) {
    const ORDERS: usize = 4;
    const LINES_EACH: usize = 15;
    let store = db.store_with_pool_size(6);
    let customer_id = customer(&store);
    let ids: Vec<_> = (0..ORDERS)
        .map(|i| {
            let mut created = order(&store, customer_id, i64::try_from(i).unwrap());
            store.orders().insert(&created, None).unwrap();
            created.take_events();
            created.id()
        })
        .collect();
    let done = Arc::new(std::sync::atomic::AtomicBool::new(false));
    // One writer per order: every update adds one line and raises the
    // version by one, so a stored order at version v has v - 1 lines.
    let writers: Vec<_> = ids
        .iter()
        .map(|&id| {
            let orders = store.orders();
            thread::spawn(move || {
                for n in 0..LINES_EACH {
                    let mut current = orders.find_by_id(id).unwrap().unwrap();
                    let read = current.version();
                    let cents = 100 * (i64::try_from(n).unwrap() + 1);
                    current.add_line(line(1, cents), at(1)).unwrap();
                    orders.update(&current, read, None).unwrap();
                }
            })
        })
        .collect();
    let readers: Vec<_> = [true, false]
        .into_iter()
        .map(|count_total| {
            let orders = store.orders();
            let done = Arc::clone(&done);
            thread::spawn(move || {
                let mut pages = 0;
                loop {
                    let finished = done.load(std::sync::atomic::Ordering::Acquire);
                    let page = order_app::PageRequest::new(1, 3)
                        .unwrap()
                        .counting_total(count_total);
                    let filter = order_app::OrderFilter {
                        customer_id: Some(customer_id),
                        status: None,
                    };
                    let listed = orders.list(&filter, page).unwrap();
                    let mut seen = listed.items;
                    if let Some(after) = listed.next_cursor {
                        let rest = order_app::PageRequest::after(after, 3).unwrap();
                        seen.extend(orders.list(&filter, rest).unwrap().items);
                    }
                    assert_eq!(seen.len(), ORDERS, "every order, once");
                    for order in &seen {
                        assert_eq!(
                            order.lines().len() as u64,
                            order.version() - 1,
                            "order {} at version {} listed with another version's lines",
                            order.id(),
                            order.version()
                        );
                        let sum: i64 = order.lines().iter().map(|l| l.total().amount()).sum();
                        assert_eq!(order.total().amount(), sum);
                    }
                    pages += 1;
                    if finished {
                        return pages;
                    }
                }
            })
        })
        .collect();
    for writer in writers {
        writer.join().unwrap();
    }
    done.store(true, std::sync::atomic::Ordering::Release);
    let pages: usize = readers.into_iter().map(|r| r.join().unwrap()).sum();
    println!("{pages} page walks read beside {ORDERS} writers");
    for id in ids {
        let stored = store.orders().find_by_id(id).unwrap().unwrap();
        assert_eq!(stored.lines().len(), LINES_EACH);
    }
}
