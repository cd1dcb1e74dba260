//! What only the SQLite store does: the pragmas every connection gets, the
//! schema's own walls (foreign keys, CHECKs, the shipment counters) against
//! writes that skip the domain, and a writer that finds the file busy.

use std::time::Duration;

use chrono::DateTime;
use diesel::connection::SimpleConnection;
use diesel::{Connection, SqliteConnection};
use order_app::model::{Customer, NewCustomer};
use order_app::ports::CustomerRepository;
use order_app::RepositoryError;
use order_domain::CustomerId;
use order_sqlite::testing::TestDatabase;
use order_sqlite::{SqliteConfig, SqliteStore};
use uuid::Uuid;

fn customer(email: &str) -> Customer {
    Customer::create(
        CustomerId::from_uuid(Uuid::now_v7()),
        NewCustomer {
            name: "Jane Roe".into(),
            email: email.into(),
            source: None,
        },
        DateTime::from_timestamp_micros(1_767_225_600_123_456).unwrap(),
    )
    .unwrap()
}

const T: &str = "2026-01-01T00:00:00.000000Z";

/// A processing order row of `customer` with one line of `quantity` units,
/// written by hand.
fn order_with_line(db: &TestDatabase, customer: &str, quantity: i64) -> (String, String) {
    let (order, line) = (Uuid::now_v7().to_string(), Uuid::now_v7().to_string());
    let total = quantity * 100;
    db.execute(&format!(
        "INSERT INTO order_mgmt_orders (id, order_number, customer_id, status, currency, subtotal, tax, \
             discount, total, version, created_at, updated_at, confirmed_at, processing_started_at) \
         VALUES ('{order}', 'ORD-2026-{n:06}', '{customer}', 'processing', 'USD', {total}, 0, 0, {total}, 1, \
                 '{T}', '{T}', '{T}', '{T}')",
        n = Uuid::now_v7().as_u128() % 900_000 + 1,
    ))
    .map(|_| ())
    .unwrap_or_else(|e| panic!("order row: {e}"));
    db.execute(&format!(
        "INSERT INTO order_mgmt_order_lines (id, order_id, product_id, quantity, unit_price, subtotal, \
             created_at, updated_at, total) \
         VALUES ('{line}', '{order}', '{}', {quantity}, 100, {total}, '{T}', '{T}', {total})",
        Uuid::now_v7()
    ))
    .unwrap();
    (order, line)
}

fn stored_customer(db: &TestDatabase) -> String {
    let customer = customer(&format!("{}@example.com", Uuid::now_v7().simple()));
    db.store().customers().insert(&customer, None).unwrap();
    customer.id().as_uuid().to_string()
}

#[test]
fn every_connection_enforces_foreign_keys_and_the_file_is_in_wal_mode() {
    let db = TestDatabase::new();
    assert_eq!(
        db.query_text("SELECT journal_mode AS value FROM pragma_journal_mode"),
        "wal"
    );
    // foreign_keys is per connection (off by default): a fresh pool has it on.
    assert_eq!(
        db.query_text("SELECT CAST(foreign_keys AS TEXT) AS value FROM pragma_foreign_keys"),
        "1"
    );
    let orphan = db.execute(&format!(
        "INSERT INTO order_mgmt_order_lines (id, order_id, product_id, quantity, unit_price, subtotal, \
             created_at, updated_at, total) \
         VALUES ('{}', '{}', '{}', 1, 100, 100, '{T}', '{T}', 100)",
        Uuid::now_v7(),
        Uuid::now_v7(),
        Uuid::now_v7()
    ));
    assert_eq!(
        orphan,
        Err(RepositoryError::ConstraintViolation("foreign key".into()))
    );
}

#[test]
fn the_schema_refuses_rows_the_domain_never_writes() {
    let db = TestDatabase::new();
    let customer = stored_customer(&db);
    let (order, line) = order_with_line(&db, &customer, 3);
    let cases = [
        (
            "check_quantity",
            format!("UPDATE order_mgmt_order_lines SET quantity = 0, subtotal = 0, total = 0 WHERE id = '{line}'"),
        ),
        (
            "check_line_subtotal",
            format!("UPDATE order_mgmt_order_lines SET subtotal = 1 WHERE id = '{line}'"),
        ),
        (
            "check_total_arithmetic",
            format!("UPDATE order_mgmt_orders SET total = total + 1 WHERE id = '{order}'"),
        ),
        (
            "check_status",
            format!("UPDATE order_mgmt_orders SET status = 'shipped' WHERE id = '{order}'"),
        ),
        (
            "check_status_timestamps",
            format!("UPDATE order_mgmt_orders SET status = 'fulfilled' WHERE id = '{order}'"),
        ),
        (
            "check_order_number",
            format!("UPDATE order_mgmt_orders SET order_number = 'ORD-2026-1' WHERE id = '{order}'"),
        ),
        (
            "check_currency",
            format!("UPDATE order_mgmt_orders SET currency = 'usd' WHERE id = '{order}'"),
        ),
    ];
    for (constraint, sql) in cases {
        assert_eq!(
            db.execute(&sql),
            Err(RepositoryError::ConstraintViolation(constraint.into())),
            "{sql}"
        );
    }
    // STRICT: a value of the wrong type is refused, not coerced.
    assert!(matches!(
        db.execute(&format!(
            "UPDATE order_mgmt_order_lines SET quantity = 'three' WHERE id = '{line}'"
        )),
        Err(RepositoryError::Unexpected(_) | RepositoryError::ConstraintViolation(_))
    ));
}

#[test]
fn the_shipment_counters_refuse_over_shipping_and_over_returning() {
    let db = TestDatabase::new();
    let customer = stored_customer(&db);
    let (order, line) = order_with_line(&db, &customer, 3);
    let ship = |quantity: i64| {
        let id = Uuid::now_v7();
        db.execute(&format!(
            "INSERT INTO order_mgmt_fulfillments (order_id, id, position, created_at) \
             VALUES ('{order}', '{id}', (SELECT count(*) FROM order_mgmt_fulfillments WHERE order_id = '{order}'), '{T}')"
        ))
        .unwrap();
        db.execute(&format!(
            "INSERT INTO order_mgmt_fulfillment_lines (order_id, fulfillment_id, line_id, position, quantity) \
             VALUES ('{order}', '{id}', '{line}', 0, {quantity})"
        ))
    };
    ship(2).unwrap();
    assert_eq!(
        ship(2),
        Err(RepositoryError::ConstraintViolation(
            "check_shipped_quantity".into()
        )),
        "3 ordered, 2 shipped: 2 more is too many"
    );
    ship(1).unwrap();
    let give_back = |quantity: i64| {
        let id = Uuid::now_v7();
        db.execute(&format!(
            "INSERT INTO order_mgmt_returns (order_id, id, position, reason, refund_amount, created_at) \
             VALUES ('{order}', '{id}', (SELECT count(*) FROM order_mgmt_returns WHERE order_id = '{order}'), 'x', 0, '{T}')"
        ))
        .unwrap();
        db.execute(&format!(
            "INSERT INTO order_mgmt_return_lines (order_id, return_id, line_id, position, quantity, refund) \
             VALUES ('{order}', '{id}', '{line}', 0, {quantity}, 0)"
        ))
    };
    assert_eq!(
        give_back(4),
        Err(RepositoryError::ConstraintViolation(
            "check_returned_quantity".into()
        ))
    );
    give_back(3).unwrap();
    // A shipped line can never be deleted.
    assert_eq!(
        db.execute(&format!(
            "DELETE FROM order_mgmt_order_lines WHERE id = '{line}'"
        )),
        Err(RepositoryError::ConstraintViolation("foreign key".into()))
    );
}

#[test]
fn a_writer_that_finds_the_file_busy_is_unavailable_and_writes_nothing_then_succeeds() {
    let db = TestDatabase::new();
    let store = SqliteStore::open(&SqliteConfig {
        busy_timeout: Duration::from_millis(200),
        ..SqliteConfig::new(db.path())
    })
    .unwrap();
    // Another process holds the write lock.
    let mut other = SqliteConnection::establish(db.path().to_str().unwrap()).unwrap();
    other.batch_execute("BEGIN IMMEDIATE").unwrap();

    let jane = customer("jane@example.com");
    let refused = store.customers().insert(&jane, None);
    assert!(
        matches!(refused, Err(RepositoryError::Unavailable(_))),
        "{refused:?}"
    );
    other.batch_execute("COMMIT").unwrap();
    assert_eq!(
        store.customers().find_by_id(jane.id()).unwrap(),
        None,
        "nothing was written"
    );
    // Sent again once the lock is free, it passes.
    store.customers().insert(&jane, None).unwrap();
    assert_eq!(store.customers().find_by_id(jane.id()).unwrap(), Some(jane));
}
