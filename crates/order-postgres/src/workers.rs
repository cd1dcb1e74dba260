//! The pool's worker threads, and waiting for them to be idle before the last
//! handle to the pool goes away.
//!
//! r2d2 opens connections (and runs the session customiser on them) on worker
//! threads of its own, and never joins them: dropping a pool leaves a
//! connection attempt that is under way running. If the process then exits,
//! libc's exit handlers (OpenSSL's clean-up, which libpq's TLS uses) run while
//! that thread is still inside libpq, and the process can die of SIGSEGV after
//! everything it did succeeded. CI saw exactly that: a pool test passed, then
//! its process crashed on exit, because lazily opened connections (the pool
//! keeps one idle, not `pool_size`) were still being opened by a worker.
//!
//! So the pool gets its worker threads from [`Workers`], and dropping
//! [`Workers`] (after the pool: see `Db`'s field order) waits, for a bounded
//! time, until every worker is between jobs. A job that starts later finds the
//! pool gone (r2d2 jobs hold only a weak reference to it) and does nothing.

use std::sync::{Arc, Condvar, Mutex, PoisonError};
use std::time::Duration;

use scheduled_thread_pool::ScheduledThreadPool;

/// r2d2's own default: enough to open connections in parallel after a
/// restart, few enough to be idle threads the rest of the time.
const THREADS: usize = 3;

/// The worker threads of one connection pool.
pub(crate) struct Workers {
    pool: Arc<ScheduledThreadPool>,
    /// How long [`Drop`] waits for a job under way: a connection attempt is
    /// bounded by the connect timeout, the customiser's `SET` by far less.
    drain_timeout: Duration,
}

/// What the workers and the dropping thread share while draining.
#[derive(Default)]
struct Gate {
    /// Workers that reached the gate, so are running nothing else.
    arrived: usize,
    /// Set once every worker arrived (or the wait gave up): they may leave.
    open: bool,
}

impl Workers {
    /// Worker threads for a pool whose connection attempts give up after
    /// `connect_timeout`.
    pub(crate) fn new(connect_timeout: Duration) -> Self {
        Self {
            pool: Arc::new(
                ScheduledThreadPool::builder()
                    .num_threads(THREADS)
                    .thread_name_pattern("order-pg-worker-{}")
                    .build(),
            ),
            drain_timeout: connect_timeout.saturating_add(Duration::from_secs(1)),
        }
    }

    /// The thread pool to give to `r2d2::Builder::thread_pool`.
    pub(crate) fn thread_pool(&self) -> Arc<ScheduledThreadPool> {
        Arc::clone(&self.pool)
    }

    /// Waits until every worker is between jobs: one gate job per thread,
    /// each holding its thread until all have arrived, so none can be running
    /// anything else at that moment. False when that took longer than the
    /// drain timeout.
    fn drain(&self) -> bool {
        let gate = Arc::new((Mutex::new(Gate::default()), Condvar::new()));
        for _ in 0..THREADS {
            let (gate, timeout) = (Arc::clone(&gate), self.drain_timeout);
            self.pool.execute(move || {
                let (lock, arrived) = &*gate;
                let mut state = lock.lock().unwrap_or_else(PoisonError::into_inner);
                state.arrived += 1;
                arrived.notify_all();
                // Bounded too: if the dropping thread gave up, leave anyway.
                let _ = arrived
                    .wait_timeout_while(state, timeout, |state| !state.open)
                    .unwrap_or_else(PoisonError::into_inner);
            });
        }
        let (lock, arrived) = &*gate;
        let state = lock.lock().unwrap_or_else(PoisonError::into_inner);
        let (mut state, waited) = arrived
            .wait_timeout_while(state, self.drain_timeout, |state| state.arrived < THREADS)
            .unwrap_or_else(PoisonError::into_inner);
        state.open = true;
        arrived.notify_all();
        !waited.timed_out()
    }
}

impl Drop for Workers {
    fn drop(&mut self) {
        if !self.drain() {
            tracing::warn!(
                timeout_ms = u64::try_from(self.drain_timeout.as_millis()).unwrap_or(u64::MAX),
                "a database connection attempt was still running when the pool closed"
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::time::Instant;

    use super::*;

    #[test]
    fn dropping_waits_for_a_job_under_way_to_finish() {
        let workers = Workers::new(Duration::from_secs(5));
        let finished = Arc::new(AtomicBool::new(false));
        let (started_tx, started_rx) = std::sync::mpsc::channel();
        let flag = Arc::clone(&finished);
        workers.thread_pool().execute(move || {
            started_tx.send(()).unwrap();
            std::thread::sleep(Duration::from_millis(200));
            flag.store(true, Ordering::SeqCst);
        });
        started_rx.recv().unwrap();
        drop(workers);
        assert!(
            finished.load(Ordering::SeqCst),
            "the drop returned while a job was still running"
        );
    }

    #[test]
    fn dropping_idle_workers_returns_at_once_and_a_stuck_job_is_given_up_on() {
        let started = Instant::now();
        drop(Workers::new(Duration::from_secs(30)));
        assert!(started.elapsed() < Duration::from_secs(5));

        let workers = Workers::new(Duration::ZERO);
        let (release_tx, release_rx) = std::sync::mpsc::channel::<()>();
        workers.thread_pool().execute(move || {
            let _ = release_rx.recv_timeout(Duration::from_secs(60));
        });
        let started = Instant::now();
        drop(workers);
        // The drain timeout is one second here: the drop gives up then,
        // instead of waiting for the minute-long job.
        assert!(started.elapsed() < Duration::from_secs(30));
        drop(release_tx);
    }
}
