//! Errors of the adapter, and the one place where diesel's and r2d2's errors
//! become the port's [`RepositoryError`].
//!
//! Callers above this crate must be able to react to *what* went wrong (a
//! duplicate, a stale version, an unreachable database) without knowing that
//! diesel exists, so every repository method maps its errors here and nothing
//! diesel-shaped leaves the crate.

use diesel::result::{DatabaseErrorInformation, DatabaseErrorKind, Error as DieselError};
use order_app::RepositoryError;

/// What can go wrong while setting the store up (pool, database, migrations).
///
/// Repository calls report [`RepositoryError`] instead: that is the port's
/// error type.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StorageError {
    /// The configuration cannot work (a pool of size 0, a URL that is not a
    /// PostgreSQL connection string, ...).
    #[error("invalid database configuration: {0}")]
    InvalidConfig(String),
    /// The database server cannot be reached, or refused the connection,
    /// within the configured timeout.
    #[error("database unavailable: {0}")]
    Unavailable(String),
    /// The embedded migrations could not be applied.
    #[error("database migration failed: {0}")]
    Migration(String),
    /// The server answered but refused the request (e.g. no privilege to
    /// create a database).
    #[error("database error: {0}")]
    Unexpected(String),
}

/// The foreign key from an order to its customer (migrations/*_create_orders):
/// the one place "the customer must exist" is decided. The order repository
/// reports its violation as `RepositoryError::UnknownCustomer`.
pub(crate) const FK_ORDER_CUSTOMER: &str = "fk_customer";

/// Maps a diesel error to the port's error, with `context` naming the operation
/// (it ends up in logs, never in a client response).
///
/// - a unique violation is `Duplicate(<constraint name>)`;
/// - a foreign-key, CHECK or NOT NULL violation is
///   `ConstraintViolation(<constraint or column name>)`;
/// - a closed connection, a command that could not be sent, or a
///   serialization failure (transient by definition) is `Unavailable`;
/// - everything else is `Unexpected`, carrying the context and the message.
pub(crate) fn map_diesel_error(context: &str, error: DieselError) -> RepositoryError {
    match error {
        DieselError::DatabaseError(kind, info) => map_database_error(context, kind, info.as_ref()),
        other => RepositoryError::Unexpected(format!("{context}: {other}")),
    }
}

fn map_database_error(
    context: &str,
    kind: DatabaseErrorKind,
    info: &(dyn DatabaseErrorInformation + Send + Sync),
) -> RepositoryError {
    let constraint = || {
        info.constraint_name()
            .or_else(|| info.column_name())
            .unwrap_or("unnamed constraint")
            .to_owned()
    };
    match kind {
        DatabaseErrorKind::UniqueViolation => RepositoryError::Duplicate(constraint()),
        DatabaseErrorKind::ForeignKeyViolation
        | DatabaseErrorKind::CheckViolation
        | DatabaseErrorKind::NotNullViolation
        | DatabaseErrorKind::RestrictViolation
        | DatabaseErrorKind::ExclusionViolation => {
            RepositoryError::ConstraintViolation(constraint())
        }
        DatabaseErrorKind::ClosedConnection
        | DatabaseErrorKind::UnableToSendCommand
        | DatabaseErrorKind::SerializationFailure => {
            RepositoryError::Unavailable(format!("{context}: {}", info.message()))
        }
        _ => RepositoryError::Unexpected(format!("{context}: {}", info.message())),
    }
}

/// A connection could not be had from the pool within its timeout: the
/// database is down, unreachable, or every connection is busy.
pub(crate) fn map_pool_error(error: &diesel::r2d2::PoolError) -> RepositoryError {
    RepositoryError::Unavailable(format!("no database connection available: {error}"))
}

/// Stored data the domain refuses to rebuild, or a value that does not fit
/// its column: a bug or a corrupt row, never the caller's fault.
pub(crate) fn unexpected(what: impl std::fmt::Display) -> RepositoryError {
    RepositoryError::Unexpected(what.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A stand-in for the server's error report.
    struct Report {
        constraint: Option<&'static str>,
        column: Option<&'static str>,
    }

    impl DatabaseErrorInformation for Report {
        fn message(&self) -> &str {
            "the server said no"
        }
        fn details(&self) -> Option<&str> {
            None
        }
        fn hint(&self) -> Option<&str> {
            None
        }
        fn table_name(&self) -> Option<&str> {
            None
        }
        fn column_name(&self) -> Option<&str> {
            self.column
        }
        fn constraint_name(&self) -> Option<&str> {
            self.constraint
        }
        fn statement_position(&self) -> Option<i32> {
            None
        }
    }

    fn database_error(kind: DatabaseErrorKind, constraint: Option<&'static str>) -> DieselError {
        DieselError::DatabaseError(
            kind,
            Box::new(Report {
                constraint,
                column: Some("a_column"),
            }),
        )
    }

    #[test]
    fn unique_violations_are_duplicates_named_by_their_constraint() {
        assert_eq!(
            map_diesel_error(
                "insert",
                database_error(DatabaseErrorKind::UniqueViolation, Some("uq_order_number"))
            ),
            RepositoryError::Duplicate("uq_order_number".into())
        );
    }

    #[test]
    fn check_and_foreign_key_violations_are_constraint_violations() {
        for (kind, name) in [
            (DatabaseErrorKind::CheckViolation, "check_total"),
            (DatabaseErrorKind::ForeignKeyViolation, "fk_customer"),
        ] {
            assert_eq!(
                map_diesel_error("insert", database_error(kind, Some(name))),
                RepositoryError::ConstraintViolation(name.into())
            );
        }
        // NOT NULL names the column, as PostgreSQL reports no constraint for it.
        assert_eq!(
            map_diesel_error(
                "insert",
                database_error(DatabaseErrorKind::NotNullViolation, None)
            ),
            RepositoryError::ConstraintViolation("a_column".into())
        );
    }

    #[test]
    fn lost_connections_are_unavailable() {
        for kind in [
            DatabaseErrorKind::ClosedConnection,
            DatabaseErrorKind::UnableToSendCommand,
            DatabaseErrorKind::SerializationFailure,
        ] {
            assert!(matches!(
                map_diesel_error("find", database_error(kind, None)),
                RepositoryError::Unavailable(message) if message.starts_with("find: ")
            ));
        }
    }

    #[test]
    fn anything_else_is_unexpected_with_its_context() {
        assert!(matches!(
            map_diesel_error("list orders", database_error(DatabaseErrorKind::Unknown, None)),
            RepositoryError::Unexpected(message) if message == "list orders: the server said no"
        ));
        assert!(matches!(
            map_diesel_error("load order", DieselError::NotFound),
            RepositoryError::Unexpected(message) if message.starts_with("load order: ")
        ));
    }
}
