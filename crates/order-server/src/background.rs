//! The tasks that run beside the HTTP workers (event relay, idempotency
//! purge, rate-limit cleanup) on a runtime of their own, so the workers
//! never wait for them and a slow broker never slows a request; and their
//! stop at shutdown, each at its next wait, within what is left of the
//! deadline.

use std::future::Future;
use std::time::{Duration, Instant};

use tokio::sync::watch;

/// What a task learns it must stop through: [`Stopping::requested`]
/// completes once the server shuts down.
#[derive(Debug, Clone)]
pub struct Stopping(watch::Receiver<bool>);

impl Stopping {
    /// Completes when the tasks are asked to stop (at once if they were).
    pub async fn requested(&mut self) {
        // An error means the sender is gone: nobody can ask any more, which
        // only happens when the process ends; stop as well.
        let _ = self.0.wait_for(|stop| *stop).await;
    }

    /// Whether a stop was asked.
    pub fn is_requested(&self) -> bool {
        *self.0.borrow()
    }

    /// Runs `wait` unless a stop comes first; `false` when it did.
    pub async fn wait(&mut self, wait: impl Future<Output = ()>) -> bool {
        tokio::select! {
            () = self.requested() => false,
            () = wait => true,
        }
    }
}

/// The background runtime and its tasks.
#[derive(Debug)]
pub struct Background {
    runtime: tokio::runtime::Runtime,
    stop: watch::Sender<bool>,
    tasks: Vec<(&'static str, tokio::task::JoinHandle<()>)>,
}

impl Background {
    /// A runtime on one thread of its own.
    ///
    /// # Errors
    /// When the thread or the runtime cannot be made.
    pub fn new() -> Result<Self, String> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("background")
            .enable_all()
            .build()
            .map_err(|e| format!("background runtime: {e}"))?;
        let (stop, _) = watch::channel(false);
        Ok(Self {
            runtime,
            stop,
            tasks: Vec::new(),
        })
    }

    /// Starts `task`, which must return soon after its [`Stopping`] says so.
    pub fn spawn<F>(&mut self, name: &'static str, task: impl FnOnce(Stopping) -> F)
    where
        F: Future<Output = ()> + Send + 'static,
    {
        let handle = self.runtime.spawn(task(Stopping(self.stop.subscribe())));
        self.tasks.push((name, handle));
    }

    /// Runs blocking `work` (diesel) off the background thread; `None` if it
    /// panicked or the runtime is shutting down.
    pub async fn blocking<T: Send + 'static>(
        work: impl FnOnce() -> T + Send + 'static,
    ) -> Option<T> {
        tokio::task::spawn_blocking(work).await.ok()
    }

    /// Something that asks the tasks to stop, usable from any thread, any
    /// number of times.
    pub fn stopper(&self) -> impl Fn() + Send + Sync + 'static {
        let stop = self.stop.clone();
        move || {
            stop.send_replace(true);
        }
    }

    /// Asks every task to stop (if not yet asked) and waits for them until
    /// `deadline`; a task still running then is dropped with the runtime,
    /// which every task tolerates as it tolerates a crash.
    pub fn stop(self, deadline: Instant) {
        self.stop.send_replace(true);
        let Self { runtime, tasks, .. } = self;
        runtime.block_on(async {
            for (name, task) in tasks {
                let left = deadline.saturating_duration_since(Instant::now());
                match tokio::time::timeout(left, task).await {
                    Ok(Ok(())) => tracing::info!(task = name, "background task stopped"),
                    Ok(Err(e)) => {
                        tracing::error!(task = name, error = %e, "background task failed")
                    }
                    Err(_) => {
                        tracing::warn!(
                            task = name,
                            "background task still running at the shutdown deadline; abandoned"
                        );
                    }
                }
            }
        });
        // Blocking work still running (a purge statement) is bounded by the
        // pool's statement timeout; the process does not wait for it.
        runtime.shutdown_timeout(
            deadline
                .saturating_duration_since(Instant::now())
                .min(Duration::from_millis(100)),
        );
    }
}
