//! The closed-loop load engine shared by every scenario and both sides.
//!
//! A fixed number of workers each run one operation at a time, back to back,
//! for a warm-up and then for a fixed measured window (or until a cap on the
//! operation count). Only operations that *complete* inside the window are
//! counted, so throughput is `completed / window` and latencies come from one
//! HDR histogram per worker, merged at the end (no locking on the hot path).
//!
//! Closed loop means the offered load adapts to the server: that is what
//! "N concurrent connections" measures, and it cannot overload the machine.

use std::future::Future;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use hdrhistogram::Histogram;

/// Largest latency the histograms track (one minute), in microseconds.
const MAX_LATENCY_US: u64 = 60_000_000;

/// A run stops early after this many failed operations: the figures would be
/// meaningless and the cause is in the first error.
const MAX_ERRORS: u64 = 100;

/// One unit of work: one request, or one whole lifecycle of requests.
pub trait Operation: Send + Sync + 'static {
    /// Runs operation number `iteration` of worker `worker`.
    ///
    /// # Errors
    /// Any failure (unexpected status, connection error, SQL error) counts as
    /// an error of the run; its text is kept for the report.
    fn call(
        &self,
        worker: usize,
        iteration: u64,
    ) -> impl Future<Output = anyhow::Result<()>> + Send;
}

/// How long and how hard to drive one operation.
#[derive(Debug, Clone, Copy)]
pub struct Load {
    /// Workers, each one operation at a time.
    pub concurrency: usize,
    /// Unmeasured run-in (connections, caches, JIT of the planner...).
    pub warmup: Duration,
    /// Measured window.
    pub duration: Duration,
    /// Cap on all operations started (warm-up included).
    pub max_ops: u64,
}

/// What one run measured.
#[derive(Debug)]
pub struct Outcome {
    /// Operations completed successfully inside the window.
    pub ops: u64,
    /// Operations that failed (warm-up included).
    pub errors: u64,
    /// The first failure, for the report.
    pub first_error: Option<String>,
    /// Length of the measured window.
    pub window: Duration,
    /// Latencies of the counted operations, in microseconds.
    pub latency_us: Histogram<u64>,
}

impl Outcome {
    /// Completed operations per second of the window.
    pub fn throughput(&self) -> f64 {
        let secs = self.window.as_secs_f64();
        if secs > 0.0 {
            self.ops as f64 / secs
        } else {
            0.0
        }
    }
}

/// Called at the start and at the end of the measured window (to sample
/// CPU and WAL counters over exactly that window).
pub trait WindowProbe {
    /// What a probe returns at the end of the window.
    type Report;
    /// The window opens.
    fn open(&mut self) -> impl Future<Output = ()> + Send;
    /// The window closes.
    fn close(&mut self) -> impl Future<Output = Self::Report> + Send;
}

struct WorkerTally {
    histogram: Histogram<u64>,
    ops: u64,
    errors: u64,
    first_error: Option<String>,
}

/// Runs `op` under `load` and measures it; `probe` brackets the window.
///
/// # Errors
/// Only when the histograms cannot be created or a worker panicked; failed
/// operations are counted in the outcome instead.
pub async fn drive<O: Operation, P: WindowProbe>(
    load: Load,
    op: Arc<O>,
    probe: &mut P,
) -> anyhow::Result<(Outcome, P::Report)> {
    let begin = Instant::now();
    let window_start = begin + load.warmup;
    let window_end = window_start + load.duration;
    let started = Arc::new(AtomicU64::new(0));
    let failed = Arc::new(AtomicU64::new(0));
    let abort = Arc::new(AtomicBool::new(false));
    let running = Arc::new(AtomicUsize::new(load.concurrency));

    let mut workers = tokio::task::JoinSet::new();
    for worker in 0..load.concurrency {
        let (op, started, failed, abort, running) = (
            op.clone(),
            started.clone(),
            failed.clone(),
            abort.clone(),
            running.clone(),
        );
        let histogram = Histogram::<u64>::new_with_bounds(1, MAX_LATENCY_US, 3)
            .context("cannot create a latency histogram")?;
        workers.spawn(async move {
            let mut tally = WorkerTally {
                histogram,
                ops: 0,
                errors: 0,
                first_error: None,
            };
            let mut iteration = 0_u64;
            loop {
                let t0 = Instant::now();
                if t0 >= window_end
                    || abort.load(Ordering::Relaxed)
                    || started.fetch_add(1, Ordering::Relaxed) >= load.max_ops
                {
                    break;
                }
                let result = op.call(worker, iteration).await;
                iteration += 1;
                let t1 = Instant::now();
                match result {
                    Ok(()) if t1 >= window_start && t1 <= window_end => {
                        let micros =
                            u64::try_from(t1.duration_since(t0).as_micros()).unwrap_or(u64::MAX);
                        tally
                            .histogram
                            .saturating_record(micros.clamp(1, MAX_LATENCY_US));
                        tally.ops += 1;
                    }
                    Ok(()) => {}
                    Err(error) => {
                        tally.errors += 1;
                        if tally.first_error.is_none() {
                            tally.first_error = Some(format!("{error:#}"));
                        }
                        if failed.fetch_add(1, Ordering::Relaxed) + 1 >= MAX_ERRORS {
                            abort.store(true, Ordering::Relaxed);
                        }
                    }
                }
            }
            running.fetch_sub(1, Ordering::Relaxed);
            tally
        });
    }

    let all_stopped = || running.load(Ordering::Relaxed) == 0;
    wait_until(window_start, &all_stopped).await;
    probe.open().await;
    wait_until(window_end, &all_stopped).await;
    let report = probe.close().await;
    let last = Instant::now().min(window_end);

    let mut outcome = Outcome {
        ops: 0,
        errors: 0,
        first_error: None,
        window: load.duration,
        latency_us: Histogram::new_with_bounds(1, MAX_LATENCY_US, 3)
            .context("cannot create a latency histogram")?,
    };
    while let Some(joined) = workers.join_next().await {
        let tally = joined.context("a load worker panicked")?;
        outcome
            .latency_us
            .add(&tally.histogram)
            .context("cannot merge latency histograms")?;
        outcome.ops += tally.ops;
        outcome.errors += tally.errors;
        if outcome.first_error.is_none() {
            outcome.first_error = tally.first_error;
        }
    }
    // A run cut short (error cap or operation cap) measured a shorter window.
    if last < window_end {
        outcome.window = last
            .saturating_duration_since(window_start)
            .max(Duration::from_millis(1));
    }
    Ok((outcome, report))
}

/// Sleeps until `deadline`, or until every worker stopped early.
async fn wait_until(deadline: Instant, all_stopped: &impl Fn() -> bool) {
    const TICK: Duration = Duration::from_millis(10);
    loop {
        let now = Instant::now();
        if now >= deadline || all_stopped() {
            return;
        }
        tokio::time::sleep((deadline - now).min(TICK)).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Sleepy;
    impl Operation for Sleepy {
        async fn call(&self, _worker: usize, iteration: u64) -> anyhow::Result<()> {
            tokio::time::sleep(Duration::from_millis(2)).await;
            if iteration == 3 {
                anyhow::bail!("fourth call fails");
            }
            Ok(())
        }
    }

    struct NoProbe;
    impl WindowProbe for NoProbe {
        type Report = ();
        async fn open(&mut self) {}
        async fn close(&mut self) {}
    }

    fn load(concurrency: usize, max_ops: u64) -> Load {
        Load {
            concurrency,
            warmup: Duration::from_millis(20),
            duration: Duration::from_millis(200),
            max_ops,
        }
    }

    #[tokio::test]
    async fn counts_completed_operations_and_their_latencies() {
        let (outcome, ()) = drive(load(4, 1_000_000), Arc::new(Sleepy), &mut NoProbe)
            .await
            .unwrap();
        assert!(outcome.ops > 20, "{} ops", outcome.ops);
        assert_eq!(outcome.latency_us.len(), outcome.ops);
        assert!(outcome.latency_us.value_at_quantile(0.5) >= 2_000);
        assert_eq!(outcome.errors, 4, "one failure per worker");
        assert_eq!(outcome.first_error.as_deref(), Some("fourth call fails"));
        assert!(outcome.throughput() > 100.0);
    }

    #[tokio::test]
    async fn stops_at_the_operation_cap() {
        let (outcome, ()) = drive(load(2, 10), Arc::new(Sleepy), &mut NoProbe)
            .await
            .unwrap();
        assert!(outcome.ops + outcome.errors <= 10);
        assert!(outcome.window < Duration::from_millis(200));
    }
}
