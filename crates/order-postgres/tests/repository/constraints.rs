//! The schema's second wall: rows the domain can never produce, written with
//! raw SQL, are rejected by a named CHECK, foreign key or unique constraint,
//! and reported as the typed error a repository would return.
//!
//! Each bad row differs from a valid one (inserted first, as a control) in
//! exactly the values that break one rule, so the test names the constraint
//! that must fire.

use std::sync::atomic::{AtomicU64, Ordering};

use order_app::ports::OrderRepository;
use order_app::RepositoryError;
use order_postgres::testing::TestDatabase;
use uuid::Uuid;

use crate::support::{customer, stored_order};

type Overrides<'a> = &'a [(&'a str, &'a str)];

/// An `INSERT` of a valid row of `table` (given by `defaults`) with some
/// columns replaced by SQL literals.
fn insert(table: &str, defaults: Vec<(&str, String)>, overrides: Overrides<'_>) -> String {
    let mut columns = defaults;
    for (column, value) in overrides {
        match columns.iter_mut().find(|(c, _)| c == column) {
            Some(entry) => entry.1 = (*value).to_owned(),
            None => columns.push((column, (*value).to_owned())),
        }
    }
    let names: Vec<&str> = columns.iter().map(|(c, _)| *c).collect();
    let values: Vec<&str> = columns.iter().map(|(_, v)| v.as_str()).collect();
    format!(
        "INSERT INTO {table} ({}) VALUES ({})",
        names.join(", "),
        values.join(", ")
    )
}

fn quoted(value: impl std::fmt::Display) -> String {
    format!("'{value}'")
}

fn order_row(customer_id: Uuid, overrides: Overrides<'_>) -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(900_000);
    let number = format!("ORD-2025-{}", COUNTER.fetch_add(1, Ordering::Relaxed));
    insert(
        "order_mgmt_orders",
        vec![
            ("id", quoted(Uuid::now_v7())),
            ("order_number", quoted(number)),
            ("customer_id", quoted(customer_id)),
            ("status", quoted("pending")),
            ("currency", quoted("USD")),
            ("subtotal", "0".into()),
            ("tax", "0".into()),
            ("discount", "0".into()),
            ("total", "0".into()),
            ("version", "1".into()),
            ("created_at", "now()".into()),
            ("updated_at", "now()".into()),
        ],
        overrides,
    )
}

fn line_row(order_id: Uuid, overrides: Overrides<'_>) -> String {
    insert(
        "order_mgmt_order_lines",
        vec![
            ("id", quoted(Uuid::now_v7())),
            ("order_id", quoted(order_id)),
            ("product_id", quoted(Uuid::now_v7())),
            ("quantity", "1".into()),
            ("unit_price", "100".into()),
            ("subtotal", "100".into()),
            ("total", "100".into()),
            ("created_at", "now()".into()),
            ("updated_at", "now()".into()),
        ],
        overrides,
    )
}

fn customer_row(overrides: Overrides<'_>) -> String {
    let id = Uuid::now_v7();
    insert(
        "customer_mgmt_customers",
        vec![
            ("id", quoted(id)),
            ("name", quoted("Jane")),
            ("email", quoted(format!("{}@example.com", id.simple()))),
            ("created_at", "now()".into()),
        ],
        overrides,
    )
}

fn event_row(order_id: Uuid, overrides: Overrides<'_>) -> String {
    static VERSION: AtomicU64 = AtomicU64::new(1_000);
    insert(
        "order_mgmt_order_events",
        vec![
            ("order_id", quoted(order_id)),
            (
                "version",
                VERSION.fetch_add(1, Ordering::Relaxed).to_string(),
            ),
            ("event_id", quoted(Uuid::now_v7())),
            ("event_type", quoted("order.confirmed")),
            ("occurred_at", "now()".into()),
            ("actor_id", quoted("anonymous")),
            ("payload", quoted("{}")),
        ],
        overrides,
    )
}

fn violation(name: &str) -> RepositoryError {
    RepositoryError::ConstraintViolation(name.into())
}

#[test]
fn every_check_and_foreign_key_rejects_bad_rows_with_a_typed_error() {
    let db = TestDatabase::new();
    let store = db.store();
    let customer_id = customer(&store).as_uuid();
    let order = stored_order(&store, customer_id.into(), 0);
    let order_id = order.id().as_uuid();
    let taken_number = quoted(order.number());
    let unknown = quoted(Uuid::now_v7());
    let existing_email = {
        let sql = customer_row(&[("email", "'taken@example.com'")]);
        db.execute(&sql).unwrap();
        "'taken@example.com'"
    };

    // The valid rows the cases start from are accepted. (The control line is
    // free: a priced line added by hand would leave the order's totals short
    // of its lines, which the commit-time trigger refuses; see below.)
    let free = [("unit_price", "0"), ("subtotal", "0"), ("total", "0")];
    for control in [
        order_row(customer_id, &[]),
        line_row(order_id, &free),
        customer_row(&[]),
        event_row(order_id, &[]),
    ] {
        assert_eq!(db.execute(&control), Ok(1), "{control}");
    }

    let cases: Vec<(&str, String, RepositoryError)> = vec![
        // order_mgmt_orders
        (
            "negative total",
            order_row(customer_id, &[("discount", "1"), ("total", "-1")]),
            violation("check_total"),
        ),
        (
            "negative subtotal",
            order_row(customer_id, &[("subtotal", "-1"), ("tax", "1")]),
            violation("check_subtotal"),
        ),
        (
            "negative tax",
            order_row(customer_id, &[("subtotal", "1"), ("tax", "-1")]),
            violation("check_tax"),
        ),
        (
            "negative discount",
            order_row(customer_id, &[("discount", "-1"), ("total", "1")]),
            violation("check_discount"),
        ),
        (
            "total not subtotal + tax - discount",
            order_row(customer_id, &[("total", "999")]),
            violation("check_total_arithmetic"),
        ),
        (
            "unknown status",
            order_row(customer_id, &[("status", "'shipped'")]),
            violation("check_status"),
        ),
        (
            "lower-case currency",
            order_row(customer_id, &[("currency", "'usd'")]),
            violation("check_currency"),
        ),
        (
            "version 0",
            order_row(customer_id, &[("version", "0")]),
            violation("check_version"),
        ),
        (
            "malformed number",
            order_row(customer_id, &[("order_number", "'ORD-25-1'")]),
            violation("check_order_number"),
        ),
        (
            "confirmed without confirmed_at",
            order_row(customer_id, &[("status", "'confirmed'")]),
            violation("check_status_timestamps"),
        ),
        (
            "unknown customer",
            order_row(customer_id, &[("customer_id", &unknown)]),
            violation("fk_customer"),
        ),
        (
            "number taken",
            order_row(customer_id, &[("order_number", &taken_number)]),
            RepositoryError::Duplicate("uq_order_number".into()),
        ),
        (
            "no status",
            order_row(customer_id, &[("status", "NULL")]),
            violation("status"),
        ),
        // order_mgmt_order_lines
        (
            "quantity 0",
            line_row(order_id, &[("quantity", "0"), ("subtotal", "0")]),
            violation("check_quantity"),
        ),
        (
            "quantity above a million",
            line_row(
                order_id,
                &[
                    ("quantity", "1000001"),
                    ("unit_price", "0"),
                    ("subtotal", "0"),
                ],
            ),
            violation("check_quantity"),
        ),
        (
            "negative unit price",
            line_row(order_id, &[("unit_price", "-1"), ("subtotal", "-1")]),
            violation("check_price"),
        ),
        (
            "unit price above 10^15",
            line_row(
                order_id,
                &[
                    ("unit_price", "1000000000000001"),
                    ("subtotal", "1000000000000001"),
                ],
            ),
            violation("check_price"),
        ),
        (
            "subtotal not quantity × unit price",
            line_row(order_id, &[("quantity", "2"), ("subtotal", "201")]),
            violation("check_line_subtotal"),
        ),
        (
            "line of an unknown order",
            line_row(order_id, &[("order_id", &unknown)]),
            violation("fk_order"),
        ),
        (
            "tax rate above 100 %",
            line_row(order_id, &[("tax_rate_millionths", "1000001")]),
            violation("check_tax_rate"),
        ),
        (
            "negative discount share",
            line_row(order_id, &[("discount", "-1"), ("total", "101")]),
            violation("check_share_within_line"),
        ),
        (
            "discount share above the line",
            line_row(order_id, &[("discount", "101"), ("total", "-1")]),
            violation("check_share_within_line"),
        ),
        (
            "negative line tax",
            line_row(order_id, &[("tax", "-1"), ("total", "99")]),
            violation("check_tax_not_negative"),
        ),
        (
            "line total neither net form",
            line_row(
                order_id,
                &[("discount", "10"), ("tax", "5"), ("total", "100")],
            ),
            violation("check_total_is_line_net"),
        ),
        (
            "inclusive order total with tax added",
            order_row(
                customer_id,
                &[("prices_include_tax", "true"), ("tax", "1"), ("total", "1")],
            ),
            violation("check_total_arithmetic"),
        ),
        (
            "discounts not an array",
            order_row(customer_id, &[("discounts", "'{}'")]),
            violation("check_discounts_array"),
        ),
        // customer_mgmt_customers
        (
            "blank name",
            customer_row(&[("name", "'   '")]),
            violation("check_customer_name"),
        ),
        (
            "email without @",
            customer_row(&[("email", "'nobody'")]),
            violation("check_customer_email"),
        ),
        (
            "email taken",
            customer_row(&[("email", existing_email)]),
            RepositoryError::Duplicate("uq_customer_email".into()),
        ),
        // order_mgmt_order_events
        (
            "event version taken",
            event_row(order_id, &[("version", "1")]),
            RepositoryError::Duplicate("uq_order_event_version".into()),
        ),
        (
            "event of an unknown order",
            event_row(order_id, &[("order_id", &unknown)]),
            violation("fk_event_order"),
        ),
        (
            "event version 0",
            event_row(order_id, &[("version", "0")]),
            violation("check_event_version"),
        ),
    ];
    for (case, sql, expected) in cases {
        assert_eq!(db.execute(&sql), Err(expected), "{case}: {sql}");
    }
}

#[test]
fn deleting_an_order_row_deletes_its_lines_and_events() {
    let db = TestDatabase::new();
    let store = db.store();
    let customer_id = customer(&store);
    let order = stored_order(&store, customer_id, 0);
    let id = order.id().as_uuid();

    assert_eq!(
        db.execute(&format!("DELETE FROM order_mgmt_orders WHERE id = '{id}'")),
        Ok(1)
    );
    for table in ["order_mgmt_order_lines", "order_mgmt_order_events"] {
        assert_eq!(
            db.execute(&format!("DELETE FROM {table} WHERE order_id = '{id}'")),
            Ok(0),
            "{table} rows went with the order"
        );
    }
    assert_eq!(store.orders().find_by_id(order.id()).unwrap(), None);
}

#[test]
fn a_customer_with_orders_cannot_be_deleted() {
    let db = TestDatabase::new();
    let store = db.store();
    let customer_id = customer(&store);
    stored_order(&store, customer_id, 0);
    assert_eq!(
        db.execute(&format!(
            "DELETE FROM customer_mgmt_customers WHERE id = '{}'",
            customer_id.as_uuid()
        )),
        Err(violation("fk_customer"))
    );
}
