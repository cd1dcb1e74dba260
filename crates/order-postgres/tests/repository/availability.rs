//! An unreachable or vanished database is a typed "unavailable" error within
//! the configured timeout: never a panic, never a long hang. And migrations
//! are safe to run from several servers at once.

use std::net::TcpListener;
use std::sync::{Arc, Barrier};
use std::thread;
use std::time::{Duration, Instant};

use diesel::connection::SimpleConnection;
use order_app::ports::{CustomerDirectory, OrderRepository, StorageHealth};
use order_app::RepositoryError;
use order_domain::{CustomerId, OrderId};
use order_postgres::testing::TestDatabase;
use order_postgres::{ensure_database_exists, PgConfig, PgStore, StorageError};
use uuid::Uuid;

use crate::support::{customer, stored_order};

/// Slack on top of a timeout for a busy two-core machine.
const MARGIN: Duration = Duration::from_secs(5);

fn config(url: &str, timeout: Duration) -> PgConfig {
    PgConfig {
        pool_size: 2,
        connect_timeout: timeout,
        ..PgConfig::new(url)
    }
}

/// A TCP port that accepts connections and never says a word: the local
/// stand-in for a black-holed address (libpq waits for the server's reply).
fn silent_server() -> (TcpListener, String) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    (
        listener,
        format!("postgres://postgres@127.0.0.1:{port}/orders"),
    )
}

#[test]
fn connecting_to_a_closed_port_is_unavailable_within_the_timeout() {
    let timeout = Duration::from_secs(1);
    let started = Instant::now();
    let result = PgStore::connect(&config("postgres://postgres@127.0.0.1:1/orders", timeout));
    let elapsed = started.elapsed();
    match result {
        Err(StorageError::Unavailable(message)) => {
            assert!(message.contains("127.0.0.1"), "{message}");
        }
        other => panic!("expected Unavailable, got {other:?}"),
    }
    assert!(elapsed < timeout + MARGIN, "took {elapsed:?}");
}

#[test]
fn a_server_that_never_answers_is_unavailable_within_the_timeout() {
    let (_listener, url) = silent_server();
    let timeout = Duration::from_secs(2);

    let started = Instant::now();
    assert!(matches!(
        PgStore::connect(&config(&url, timeout)),
        Err(StorageError::Unavailable(_))
    ));
    assert!(
        started.elapsed() < timeout + MARGIN,
        "{:?}",
        started.elapsed()
    );

    // Plain connections (database creation, migrations) get libpq's
    // connect_timeout added to the URL, so they give up too.
    let started = Instant::now();
    assert!(matches!(
        ensure_database_exists(&url, timeout),
        Err(StorageError::Unavailable(_))
    ));
    let store = PgStore::connect_lazy(&config(&url, timeout)).unwrap();
    assert!(matches!(
        store.run_migrations(),
        Err(StorageError::Unavailable(_))
    ));
    assert!(
        started.elapsed() < 2 * timeout + MARGIN,
        "{:?}",
        started.elapsed()
    );
}

#[test]
fn repository_calls_without_a_database_are_unavailable_not_panics() {
    let timeout = Duration::from_secs(1);
    let store =
        PgStore::connect_lazy(&config("postgres://postgres@127.0.0.1:1/orders", timeout)).unwrap();
    let started = Instant::now();
    assert!(matches!(
        store
            .orders()
            .find_by_id(OrderId::from_uuid(Uuid::now_v7())),
        Err(RepositoryError::Unavailable(_))
    ));
    assert!(matches!(
        store
            .customers()
            .exists(CustomerId::from_uuid(Uuid::now_v7())),
        Err(RepositoryError::Unavailable(_))
    ));
    assert!(matches!(store.ping(), Err(RepositoryError::Unavailable(_))));
    assert!(started.elapsed() < 3 * timeout + MARGIN);
}

#[test]
fn a_database_that_goes_away_is_unavailable_and_is_used_again_when_it_returns() {
    let db = TestDatabase::new();
    let store = PgStore::connect(&config(db.url(), Duration::from_secs(1))).unwrap();
    let customer_id = customer(&store);
    let order = stored_order(&store, customer_id, 0);
    let name = db.name();

    // Outage: the server refuses new connections and drops the open ones.
    db.maintenance_connection()
        .batch_execute(&format!(
            "ALTER DATABASE {name} WITH ALLOW_CONNECTIONS false; \
             SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}';"
        ))
        .unwrap();
    assert!(matches!(
        store.orders().find_by_id(order.id()),
        Err(RepositoryError::Unavailable(_))
    ));
    assert!(matches!(store.ping(), Err(RepositoryError::Unavailable(_))));

    // Recovery: the same store reconnects by itself.
    db.maintenance_connection()
        .batch_execute(&format!(
            "ALTER DATABASE {name} WITH ALLOW_CONNECTIONS true"
        ))
        .unwrap();
    assert_eq!(store.orders().find_by_id(order.id()).unwrap(), Some(order));
    store.ping().unwrap();
}

#[test]
fn servers_starting_together_migrate_once_and_then_report_ready() {
    let db = TestDatabase::empty();
    let store = db.store();
    assert!(
        matches!(store.ping(), Err(RepositoryError::Unavailable(_))),
        "not ready before migrating"
    );

    let start = Arc::new(Barrier::new(4));
    let servers: Vec<_> = (0..4)
        .map(|_| {
            let store = db.store();
            let start = Arc::clone(&start);
            thread::spawn(move || {
                start.wait();
                store.run_migrations()
            })
        })
        .collect();
    for server in servers {
        server.join().unwrap().unwrap();
    }
    store.ping().unwrap();
    store.run_migrations().unwrap();
    let customer_id = customer(&store);
    stored_order(&store, customer_id, 0);
}

#[test]
fn ensure_database_exists_creates_a_missing_database_once() {
    let db = TestDatabase::empty();
    let name = db.name().to_owned();
    db.maintenance_connection()
        .batch_execute(&format!("DROP DATABASE {name}"))
        .unwrap();

    ensure_database_exists(db.url(), Duration::from_secs(5)).unwrap();
    ensure_database_exists(db.url(), Duration::from_secs(5)).unwrap();
    let store = db.store();
    store.run_migrations().unwrap();
    store.ping().unwrap();
}

#[test]
fn configurations_that_cannot_work_are_refused_up_front() {
    let mut zero_pool = config(
        "postgres://postgres@127.0.0.1:1/orders",
        Duration::from_secs(1),
    );
    zero_pool.pool_size = 0;
    assert!(matches!(
        PgStore::connect(&zero_pool),
        Err(StorageError::InvalidConfig(_))
    ));
    assert!(matches!(
        ensure_database_exists("host=localhost dbname=orders", Duration::from_secs(1)),
        Err(StorageError::InvalidConfig(_))
    ));
}

#[test]
fn storage_health_reports_a_schema_behind_and_the_pool_figures() {
    let db = TestDatabase::empty();
    let store = PgStore::connect(&config(db.url(), Duration::from_secs(1))).unwrap();
    assert!(
        matches!(store.check(), Err(RepositoryError::Unexpected(_))),
        "reachable but not migrated"
    );
    store.run_migrations().unwrap();
    store.check().unwrap();
    let stats = store.pool_stats();
    assert_eq!(stats.max_size, 2);
    assert!(stats.connections >= 1 && stats.idle <= stats.connections);
    assert_eq!(stats.timeouts_total, 0);
}

#[test]
fn an_exhausted_pool_answers_unavailable_after_the_timeout_and_counts_it() {
    let db = TestDatabase::new();
    let store = PgStore::connect(&PgConfig {
        pool_size: 1,
        connect_timeout: Duration::from_secs(1),
        ..PgConfig::new(db.url())
    })
    .unwrap();
    let customer_id = customer(&store);
    let order = stored_order(&store, customer_id, 0);

    // Someone else holds the order's row: the update below waits for it,
    // holding the pool's only connection.
    let mut blocker = db.connection();
    blocker
        .batch_execute(&format!(
            "BEGIN; SELECT 1 FROM order_mgmt_orders WHERE id = '{}' FOR UPDATE;",
            order.id().as_uuid()
        ))
        .unwrap();
    let mut changed = order.clone();
    changed.confirm(crate::support::at(1)).unwrap();
    let writer = {
        let orders = store.orders();
        let read = order.version();
        thread::spawn(move || orders.update(&changed, read, None))
    };
    let deadline = Instant::now() + Duration::from_secs(30);
    while store.pool_stats().idle > 0 || store.pool_stats().connections == 0 {
        assert!(
            Instant::now() < deadline,
            "the writer never took the connection"
        );
        thread::yield_now();
    }

    let started = Instant::now();
    assert!(matches!(
        store.orders().find_by_id(order.id()),
        Err(RepositoryError::Unavailable(_))
    ));
    assert!(started.elapsed() < Duration::from_secs(1) + MARGIN);
    let stats = store.pool_stats();
    assert_eq!(stats.timeouts_total, 1);
    assert!(stats.waits_total >= 1);

    blocker.batch_execute("COMMIT").unwrap();
    writer.join().unwrap().unwrap();
    assert_eq!(
        store
            .orders()
            .find_by_id(order.id())
            .unwrap()
            .unwrap()
            .status(),
        order_domain::OrderStatus::Confirmed
    );
}
