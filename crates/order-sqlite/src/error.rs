//! diesel's SQLite errors as the ports' [`RepositoryError`], in one place.
//!
//! SQLite reports a uniqueness violation as `UNIQUE constraint failed:
//! table.column, ...`, without the constraint's name; the names below are
//! the PostgreSQL schema's, so both stores report a duplicate the same way.

use diesel::result::{DatabaseErrorKind, Error as DieselError};
use order_app::RepositoryError;

/// Setting up the store (opening the file, the pool, migrating) failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum StorageError {
    /// The configuration cannot work (a pool of zero, a zero timeout, ...).
    #[error("invalid SQLite configuration: {0}")]
    InvalidConfig(String),
    /// The database file cannot be created, opened or migrated.
    #[error("SQLite database unavailable: {0}")]
    Unavailable(String),
}

/// The columns of each unique index, as SQLite names them, and the
/// constraint name PostgreSQL reports for the same rule.
const UNIQUE: &[(&str, &str)] = &[
    ("order_mgmt_orders.order_number", "uq_order_number"),
    ("order_mgmt_orders.id", "order_mgmt_orders_pkey"),
    ("customer_mgmt_customers.email", "uq_customer_email"),
    ("customer_mgmt_customers.id", "customer_mgmt_customers_pkey"),
    ("order_mgmt_api_keys.prefix", "uq_api_key_prefix"),
    ("order_mgmt_api_keys.id", "order_mgmt_api_keys_pkey"),
    ("order_mgmt_order_lines.id", "order_mgmt_order_lines_pkey"),
    (
        "order_mgmt_order_events.order_id, order_mgmt_order_events.version",
        "uq_order_event_version",
    ),
    ("order_mgmt_order_events.event_id", "uq_order_event_id"),
];

/// Whether SQLite gave up waiting for another connection's write lock (or
/// its lock on the schema): the request may well pass when sent again.
pub(crate) fn is_busy(message: &str) -> bool {
    message.contains("database is locked")
        || message.contains("database is busy")
        || message.contains("database table is locked")
}

/// Maps a diesel error met while doing `context`.
pub(crate) fn map_diesel_error(context: &str, error: DieselError) -> RepositoryError {
    match error {
        DieselError::DatabaseError(kind, info) => {
            let message = info.message();
            match kind {
                DatabaseErrorKind::UniqueViolation => {
                    let columns = message
                        .strip_prefix("UNIQUE constraint failed: ")
                        .unwrap_or(message);
                    let name = UNIQUE
                        .iter()
                        .find(|(cols, _)| *cols == columns)
                        .map_or(columns, |(_, name)| name);
                    RepositoryError::Duplicate(name.to_owned())
                }
                DatabaseErrorKind::ForeignKeyViolation => {
                    RepositoryError::ConstraintViolation(FOREIGN_KEY.to_owned())
                }
                DatabaseErrorKind::CheckViolation => RepositoryError::ConstraintViolation(
                    message
                        .strip_prefix("CHECK constraint failed: ")
                        .unwrap_or(message)
                        .to_owned(),
                ),
                DatabaseErrorKind::NotNullViolation => {
                    RepositoryError::ConstraintViolation(message.to_owned())
                }
                _ if is_busy(message) => RepositoryError::Unavailable(format!(
                    "{context}: the database is busy with another writer"
                )),
                // The shipment triggers' own foreign key check (RAISE(ABORT)).
                _ if message.starts_with("FOREIGN KEY constraint failed") => {
                    RepositoryError::ConstraintViolation(FOREIGN_KEY.to_owned())
                }
                _ => RepositoryError::Unexpected(format!("{context}: {message}")),
            }
        }
        other => RepositoryError::Unexpected(format!("{context}: {other}")),
    }
}

/// What a foreign key violation is reported as: SQLite does not say which
/// key failed (its messages name none), only that one did.
pub(crate) const FOREIGN_KEY: &str = "foreign key";

/// `Unexpected`, with a message for the logs.
pub(crate) fn unexpected(message: impl std::fmt::Display) -> RepositoryError {
    RepositoryError::Unexpected(message.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn busy_messages_are_recognised_and_others_are_not() {
        assert!(is_busy("database is locked"));
        assert!(is_busy("database table is locked: order_mgmt_orders"));
        assert!(!is_busy("no such table: order_mgmt_orders"));
    }
}
