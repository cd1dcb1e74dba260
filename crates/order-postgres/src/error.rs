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
/// - a closed connection, a command that could not be sent, a serialization
///   failure, a write refused by a read-only server (a failover in
///   progress), a broken transaction, and every [`TRANSIENT`] failure
///   (deadlock, statement or lock timeout, administrator shutdown, a server
///   starting or stopping) is `Unavailable`: the same request may pass when
///   retried, and clients get `503` with `Retry-After`;
/// - everything else is `Unexpected` (a bug: `500`), carrying the context and
///   the message.
pub(crate) fn map_diesel_error(context: &str, error: DieselError) -> RepositoryError {
    match error {
        DieselError::DatabaseError(kind, info) => map_database_error(context, kind, info.as_ref()),
        // The connection broke in the middle of a transaction (diesel could
        // not even roll back): the link, not the request, is at fault.
        DieselError::BrokenTransactionManager => RepositoryError::Unavailable(format!(
            "{context}: {}",
            DieselError::BrokenTransactionManager
        )),
        other => RepositoryError::Unexpected(format!("{context}: {other}")),
    }
}

/// Transient failures diesel reports as `DatabaseErrorKind::Unknown`, by
/// SQLSTATE and the primary message PostgreSQL sends with it.
///
/// diesel keeps the SQLSTATE of an error to itself (its
/// `DatabaseErrorInformation` has no accessor for it), so these are
/// recognised by the message, which PostgreSQL words the same way for every
/// occurrence of the SQLSTATE (in English, the default `lc_messages`; a
/// server set to another language makes them `500`s, see
/// `docs/operations.md`).
pub(crate) const TRANSIENT: &[(&str, &str)] = &[
    ("40P01", "deadlock detected"),
    ("57014", "canceling statement due to statement timeout"),
    ("57014", "canceling statement due to user request"),
    ("55P03", "canceling statement due to lock timeout"),
    ("55P03", "could not obtain lock"),
    ("40001", "canceling statement due to conflict with recovery"),
    (
        "57P01",
        "terminating connection due to administrator command",
    ),
    (
        "57P02",
        "terminating connection due to crash of another server process",
    ),
    ("57P03", "the database system is"),
    ("53300", "sorry, too many clients already"),
    ("53300", "remaining connection slots are reserved"),
    (
        "25P03",
        "terminating connection due to idle-in-transaction timeout",
    ),
];

/// The SQLSTATE of a transient failure reported with this primary message.
fn transient_state(message: &str) -> Option<&'static str> {
    TRANSIENT
        .iter()
        .find(|(_, prefix)| message.starts_with(prefix))
        .map(|(state, _)| *state)
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
        | DatabaseErrorKind::SerializationFailure
        | DatabaseErrorKind::ReadOnlyTransaction => {
            RepositoryError::Unavailable(format!("{context}: {}", info.message()))
        }
        _ => match transient_state(info.message()) {
            Some(state) => {
                RepositoryError::Unavailable(format!("{context}: {state} {}", info.message()))
            }
            None => RepositoryError::Unexpected(format!("{context}: {}", info.message())),
        },
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

    /// A report of an error diesel could not classify, with this message.
    struct Said(&'static str);

    impl DatabaseErrorInformation for Said {
        fn message(&self) -> &str {
            self.0
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
            None
        }
        fn constraint_name(&self) -> Option<&str> {
            None
        }
        fn statement_position(&self) -> Option<i32> {
            None
        }
    }

    #[test]
    fn transient_failures_are_unavailable_and_name_their_sqlstate() {
        for (message, state) in [
            ("deadlock detected", "40P01"),
            ("canceling statement due to statement timeout", "57014"),
            ("canceling statement due to lock timeout", "55P03"),
            ("could not obtain lock on row in relation \"t\"", "55P03"),
            (
                "terminating connection due to administrator command",
                "57P01",
            ),
            ("the database system is shutting down", "57P03"),
            ("the database system is starting up", "57P03"),
            ("canceling statement due to conflict with recovery", "40001"),
            ("sorry, too many clients already", "53300"),
        ] {
            let error =
                DieselError::DatabaseError(DatabaseErrorKind::Unknown, Box::new(Said(message)));
            assert_eq!(
                map_diesel_error("save", error),
                RepositoryError::Unavailable(format!("save: {state} {message}")),
                "{message}"
            );
        }
        assert!(matches!(
            map_diesel_error(
                "save",
                database_error(DatabaseErrorKind::ReadOnlyTransaction, None)
            ),
            RepositoryError::Unavailable(_)
        ));
        assert!(matches!(
            map_diesel_error("save", DieselError::BrokenTransactionManager),
            RepositoryError::Unavailable(_)
        ));
        // A bug stays a bug.
        let error = DieselError::DatabaseError(
            DatabaseErrorKind::Unknown,
            Box::new(Said("column \"nope\" does not exist")),
        );
        assert!(matches!(
            map_diesel_error("save", error),
            RepositoryError::Unexpected(_)
        ));
    }

    /// The real server's wording of the failures [`TRANSIENT`] recognises:
    /// a statement timeout, a lock timeout and a terminated backend.
    #[cfg(feature = "testing")]
    #[test]
    fn the_servers_own_transient_failures_are_unavailable() {
        use diesel::connection::SimpleConnection;
        use diesel::prelude::*;

        let db = crate::testing::TestDatabase::new();
        let mut conn = db.connection();
        conn.batch_execute("SET statement_timeout = '50ms'")
            .unwrap();
        let error = diesel::sql_query("SELECT pg_sleep(5)")
            .execute(&mut conn)
            .unwrap_err();
        assert!(
            matches!(map_diesel_error("sleep", error), RepositoryError::Unavailable(ref m) if m.contains("57014")),
        );

        let mut holder = db.connection();
        holder
            .batch_execute(
                "CREATE TABLE lock_probe (id int PRIMARY KEY); INSERT INTO lock_probe VALUES (1)",
            )
            .unwrap();
        // The transaction stays open after the batch, holding the row lock.
        holder
            .batch_execute("BEGIN; SELECT * FROM lock_probe FOR UPDATE")
            .unwrap();
        let mut waiter = db.connection();
        waiter.batch_execute("SET lock_timeout = '50ms'").unwrap();
        let error = diesel::sql_query("UPDATE lock_probe SET id = 2")
            .execute(&mut waiter)
            .unwrap_err();
        assert!(
            matches!(map_diesel_error("update", error), RepositoryError::Unavailable(ref m) if m.contains("55P03")),
        );
        holder.batch_execute("ROLLBACK").unwrap();

        #[derive(QueryableByName)]
        struct Pid {
            #[diesel(sql_type = diesel::sql_types::Integer)]
            pid: i32,
        }
        // The 5-second timeout makes the call wait until the backend is gone.
        let mut victim = db.connection();
        let pid = diesel::sql_query("SELECT pg_backend_pid() AS pid")
            .get_result::<Pid>(&mut victim)
            .unwrap()
            .pid;
        diesel::sql_query("SELECT pg_terminate_backend($1, 5000)")
            .bind::<diesel::sql_types::Integer, _>(pid)
            .execute(&mut holder)
            .unwrap();
        let error = diesel::sql_query("SELECT 1")
            .execute(&mut victim)
            .unwrap_err();
        assert!(matches!(
            map_diesel_error("select", error),
            RepositoryError::Unavailable(_)
        ));
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
