//! [`PgManager`]: the pool's connection manager, which checks a connection's
//! health at check-out only when it may have gone stale, instead of sending a
//! `SELECT 1` before every request.
//!
//! The ping on every check-out (r2d2's `test_on_check_out` with diesel's
//! manager) was one extra round trip per request: 12 % of the server's CPU on
//! a GET (docs/performance.md). What it bought is that a connection the
//! database closed (restart, failover, `pg_terminate_backend`, a proxy
//! dropping it) is replaced before a request uses it. This manager keeps that
//! at almost no cost:
//!
//! - A connection is pinged at check-out only if it has been idle longer than
//!   [`VALIDATE_IDLE_AFTER`] (HikariCP's `aliveBypassWindowMs` idea: one used
//!   a moment ago is almost surely alive), or if the pool has seen a
//!   connection die since this one was last checked.
//! - Each connection carries a small diesel [`Instrumentation`] that notes
//!   when its last statement ran and whether a statement failed because the
//!   connection was lost. A lost connection is reported broken when it comes
//!   back, so r2d2 drops it (diesel's own check only looks at the transaction
//!   state, which stays clean when a statement outside a transaction fails),
//!   and it raises the pool's loss count, so every other connection is pinged
//!   once at its next check-out: after a restart one request meets a dead
//!   connection, not one per pooled connection.
//! - That one request is a read (which [`crate::store::Db`] retries once on a
//!   fresh connection) or a write, which answers "unavailable" and may be
//!   sent again with its `Idempotency-Key`.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use diesel::connection::{Instrumentation, InstrumentationEvent};
use diesel::pg::PgConnection;
use diesel::r2d2::{ConnectionManager, ManageConnection, R2D2Connection};
use diesel::result::{DatabaseErrorKind, Error as DieselError};
use diesel::Connection;

/// A connection idle longer than this is pinged before it is handed out.
/// Short enough that a connection the server dropped while the service was
/// quiet is caught; long enough that under load (a connection reused every
/// few milliseconds) no check-out pays a round trip.
pub(crate) const VALIDATE_IDLE_AFTER: Duration = Duration::from_millis(500);

/// Opens PostgreSQL connections and decides when one needs a ping.
#[derive(Debug)]
pub(crate) struct PgManager {
    inner: ConnectionManager<PgConnection>,
    /// Connections seen dying so far, pool-wide.
    losses: Arc<AtomicU64>,
}

impl PgManager {
    pub(crate) fn new(url: impl Into<String>) -> Self {
        Self {
            inner: ConnectionManager::new(url),
            losses: Arc::default(),
        }
    }
}

/// Whether an error says the connection itself is gone (not the statement).
pub(crate) fn is_connection_lost(error: &DieselError) -> bool {
    matches!(
        error,
        DieselError::DatabaseError(
            DatabaseErrorKind::ClosedConnection | DatabaseErrorKind::UnableToSendCommand,
            _
        )
    )
}

/// The per-connection record, kept as the connection's instrumentation.
struct Liveness {
    last_used: Instant,
    lost: bool,
    /// The pool's loss count when this connection was last known good.
    losses_seen: u64,
    losses: Arc<AtomicU64>,
}

impl Instrumentation for Liveness {
    fn on_connection_event(&mut self, event: InstrumentationEvent<'_>) {
        if let InstrumentationEvent::FinishQuery { error, .. } = event {
            self.last_used = Instant::now();
            if error.is_some_and(is_connection_lost) && !self.lost {
                self.lost = true;
                self.losses.fetch_add(1, Ordering::Relaxed);
            }
        }
    }
}

fn liveness(conn: &mut PgConnection) -> Option<&mut Liveness> {
    conn.instrumentation().downcast_mut::<Liveness>()
}

impl ManageConnection for PgManager {
    type Connection = PgConnection;
    type Error = diesel::r2d2::Error;

    fn connect(&self) -> Result<PgConnection, Self::Error> {
        let mut conn = self.inner.connect()?;
        conn.set_instrumentation(Liveness {
            last_used: Instant::now(),
            lost: false,
            losses_seen: self.losses.load(Ordering::Relaxed),
            losses: Arc::clone(&self.losses),
        });
        Ok(conn)
    }

    fn is_valid(&self, conn: &mut PgConnection) -> Result<(), Self::Error> {
        let losses = self.losses.load(Ordering::Relaxed);
        let fresh = liveness(conn).is_some_and(|l| {
            !l.lost && l.losses_seen == losses && l.last_used.elapsed() < VALIDATE_IDLE_AFTER
        });
        if fresh {
            return Ok(());
        }
        conn.ping().map_err(diesel::r2d2::Error::QueryError)?;
        if let Some(l) = liveness(conn) {
            l.losses_seen = losses;
        }
        Ok(())
    }

    fn has_broken(&self, conn: &mut PgConnection) -> bool {
        liveness(conn).is_some_and(|l| l.lost) || self.inner.has_broken(conn)
    }
}

#[cfg(all(test, feature = "testing"))]
#[allow(clippy::unwrap_used)]
mod tests {
    use diesel::connection::SimpleConnection;
    use diesel::r2d2::Pool;

    use super::*;
    use crate::testing::TestDatabase;

    fn backend_pid(conn: &mut PgConnection) -> i32 {
        #[derive(diesel::QueryableByName)]
        struct Pid {
            #[diesel(sql_type = diesel::sql_types::Integer)]
            pid: i32,
        }
        diesel::RunQueryDsl::get_result::<Pid>(
            diesel::sql_query("SELECT pg_backend_pid() AS pid"),
            conn,
        )
        .unwrap()
        .pid
    }

    #[test]
    fn a_connection_killed_by_the_server_is_dropped_and_the_others_are_checked() {
        let db = TestDatabase::new();
        // Declared before the pool, so dropped after it: waits for the
        // replacement connections the pool opens in the background.
        let workers = crate::workers::Workers::new(Duration::from_secs(5));
        let pool = Pool::builder()
            .thread_pool(workers.thread_pool())
            .max_size(2)
            .min_idle(Some(0))
            .test_on_check_out(true)
            .build(PgManager::new(db.url()))
            .unwrap();
        let mut a = pool.get().unwrap();
        let mut b = pool.get().unwrap();
        let (pid_a, pid_b) = (backend_pid(&mut a), backend_pid(&mut b));
        drop((a, b));
        db.maintenance_connection()
            .batch_execute(&format!(
                "SELECT pg_terminate_backend(pid, 10000) FROM pg_stat_activity \
                 WHERE pid IN ({pid_a}, {pid_b})"
            ))
            .unwrap();

        // Used a moment ago, so handed out without a ping: its statement
        // fails as a lost connection, and the pool does not keep it.
        let mut first = pool.get().unwrap();
        let error =
            diesel::RunQueryDsl::execute(diesel::sql_query("SELECT 1"), &mut first).unwrap_err();
        assert!(is_connection_lost(&error), "{error:?}");
        drop(first);

        // The other dead connection is pinged (a loss was seen) and replaced:
        // both check-outs now work, on new server processes.
        let mut again = pool.get().unwrap();
        let mut other = pool.get().unwrap();
        for conn in [&mut again, &mut other] {
            let pid = backend_pid(conn);
            assert!(pid != pid_a && pid != pid_b, "a dead connection was reused");
        }
    }

    #[test]
    fn a_connection_in_use_is_not_pinged_but_an_idle_one_is() {
        let db = TestDatabase::new();
        let manager = PgManager::new(db.url());
        let mut conn = manager.connect().unwrap();
        diesel::RunQueryDsl::execute(diesel::sql_query("SELECT 1"), &mut conn).unwrap();
        assert!(liveness(&mut conn).is_some());

        // Kill it behind the manager's back: within the window no ping is
        // sent, so the check passes without a round trip...
        let pid = backend_pid(&mut conn);
        db.maintenance_connection()
            .batch_execute(&format!("SELECT pg_terminate_backend({pid}, 10000)"))
            .unwrap();
        assert!(manager.is_valid(&mut conn).is_ok());

        // ...and once it has been idle past the window, the ping finds it dead.
        if let Some(l) = liveness(&mut conn) {
            l.last_used = Instant::now() - VALIDATE_IDLE_AFTER - Duration::from_millis(1);
        }
        assert!(manager.is_valid(&mut conn).is_err());
        assert!(manager.has_broken(&mut conn));
    }
}
