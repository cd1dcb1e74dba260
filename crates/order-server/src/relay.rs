//! The outbox relay's run loop: wiring of `order_postgres::outbox` (leadership,
//! wake-ups, rows) and `order_nats` (the broker) around
//! `order_app::relay::publish_pending` (the pass, where correctness lives).
//!
//! One relay leads at a time (a session advisory lock; when the leading
//! process or its connection dies the lock is released and another takes
//! over within one poll interval). It wakes on NOTIFY from committing writes,
//! polls as a fallback, and backs off while the broker is down: publishing is
//! delayed, never an error for an API caller. Without a broker configured it
//! only keeps the backlog metrics current.
//!
//! At shutdown it stops at its next wait: a pass in progress finishes (its
//! events are marked published), and closing the connection gives up the
//! lead to another instance.

use std::time::Duration;

use order_app::relay::publish_pending;
use order_nats::{NatsConfig, NatsPublisher};
use order_postgres::outbox::PgOutbox;
use order_sqlite::SqliteOutbox;

use crate::storage::OutboxSource;
use prometheus::{Gauge, IntCounter, IntGauge, Opts, Registry};

use crate::background::Stopping;

/// What the relay needs.
#[derive(Debug, Clone)]
pub struct RelaySettings {
    /// Where the outbox is read.
    pub outbox: OutboxSource,
    /// The broker; `None` = no relay, events wait in the outbox.
    pub nats: Option<NatsConfig>,
    /// Events per pass.
    pub batch: usize,
    /// Longest wait between passes when no NOTIFY arrives.
    pub poll: Duration,
    /// Longest back-off while the broker or the database is down.
    pub max_backoff: Duration,
}

/// The relay's Prometheus metrics.
#[derive(Debug, Clone)]
pub struct RelayMetrics {
    published: IntCounter,
    duplicates: IntCounter,
    failures: IntCounter,
    backlog: IntGauge,
    oldest_age: Gauge,
    leader: IntGauge,
}

impl RelayMetrics {
    /// Creates the metrics in `registry`.
    ///
    /// # Errors
    /// Only if a name is already taken (a programming error).
    pub fn register(registry: &Registry) -> Result<Self, prometheus::Error> {
        let metrics = Self {
            published: IntCounter::with_opts(Opts::new(
                "order_events_published_total",
                "Events the broker acknowledged and stored",
            ))?,
            duplicates: IntCounter::with_opts(Opts::new(
                "order_events_duplicates_total",
                "Events published again after a crash and dropped by the broker",
            ))?,
            failures: IntCounter::with_opts(Opts::new(
                "order_events_publish_failures_total",
                "Publish attempts that failed (broker down or refusing)",
            ))?,
            backlog: IntGauge::with_opts(Opts::new(
                "order_outbox_backlog",
                "Events stored and not yet published",
            ))?,
            oldest_age: Gauge::with_opts(Opts::new(
                "order_outbox_oldest_age_seconds",
                "Age of the oldest unpublished event (0 when none)",
            ))?,
            leader: IntGauge::with_opts(Opts::new(
                "order_relay_leader",
                "1 while this instance's relay holds the publishing lock",
            ))?,
        };
        registry.register(Box::new(metrics.published.clone()))?;
        registry.register(Box::new(metrics.duplicates.clone()))?;
        registry.register(Box::new(metrics.failures.clone()))?;
        registry.register(Box::new(metrics.backlog.clone()))?;
        registry.register(Box::new(metrics.oldest_age.clone()))?;
        registry.register(Box::new(metrics.leader.clone()))?;
        Ok(metrics)
    }
}

/// Doubling back-off from 100 ms to the configured maximum.
struct Backoff {
    next: Duration,
    max: Duration,
}

impl Backoff {
    const FIRST: Duration = Duration::from_millis(100);

    fn new(max: Duration) -> Self {
        Self {
            next: Self::FIRST,
            max,
        }
    }

    fn reset(&mut self) {
        self.next = Self::FIRST;
    }

    /// Waits the current back-off, or less if `stopping` says so; `false` then.
    async fn wait(&mut self, stopping: &mut Stopping) -> bool {
        let waited = stopping.wait(tokio::time::sleep(self.next)).await;
        self.next = (self.next * 2).min(self.max);
        waited
    }
}

/// Runs the relay until `stopping` says so.
pub async fn run(settings: RelaySettings, metrics: RelayMetrics, mut stopping: Stopping) {
    let publisher = match &settings.nats {
        Some(config) => {
            let connect = NatsPublisher::connect(config.clone());
            tokio::select! {
                () = stopping.requested() => return,
                connected = connect => match connected {
                    Ok(publisher) => Some(publisher),
                    Err(e) => {
                        tracing::error!(error = %e, "event relay disabled: invalid NATS configuration");
                        None
                    }
                },
            }
        }
        None => None,
    };
    if publisher.is_none() {
        tracing::warn!("NATS_URL not set: events are stored in the outbox and not published");
    }
    let database_url = match &settings.outbox {
        OutboxSource::Postgres(url) => url.clone(),
        OutboxSource::Sqlite(outbox) => {
            poll_sqlite(
                outbox,
                publisher.as_ref(),
                &settings,
                &metrics,
                &mut stopping,
            )
            .await;
            tracing::info!("event relay stopped");
            return;
        }
    };
    let mut backoff = Backoff::new(settings.max_backoff);
    loop {
        let connect = PgOutbox::connect(&database_url);
        let connected = tokio::select! {
            () = stopping.requested() => break,
            connected = connect => connected,
        };
        let outbox = match connected {
            Ok(outbox) => outbox,
            Err(e) => {
                tracing::warn!(error = %e, "event relay cannot reach the database; retrying");
                if backoff.wait(&mut stopping).await {
                    continue;
                }
                break;
            }
        };
        let stopped = serve(
            &outbox,
            publisher.as_ref(),
            &settings,
            &metrics,
            &mut backoff,
            &mut stopping,
        )
        .await;
        metrics.leader.set(0);
        // Dropping the connection ends the session and its advisory lock.
        drop(outbox);
        if stopped || !backoff.wait(&mut stopping).await {
            break;
        }
    }
    tracing::info!("event relay stopped");
}

/// Sets the backlog gauges from the outbox; `false` when the database is gone.
async fn refresh_backlog(outbox: &PgOutbox, metrics: &RelayMetrics) -> bool {
    match outbox.backlog().await {
        Ok(backlog) => {
            metrics.backlog.set(backlog.events);
            let age = backlog.oldest.map_or(0.0, |oldest| {
                (chrono::Utc::now() - oldest).as_seconds_f64().max(0.0)
            });
            metrics.oldest_age.set(age);
            true
        }
        Err(e) => {
            tracing::warn!(error = %e, "event relay lost the database");
            false
        }
    }
}

/// Works on one connection until it fails (`false`) or a stop is asked (`true`).
async fn serve(
    outbox: &PgOutbox,
    publisher: Option<&NatsPublisher>,
    settings: &RelaySettings,
    metrics: &RelayMetrics,
    backoff: &mut Backoff,
    stopping: &mut Stopping,
) -> bool {
    let mut leading = false;
    while !outbox.is_closed() {
        if !refresh_backlog(outbox, metrics).await {
            return false;
        }
        let Some(publisher) = publisher else {
            if !stopping.wait(outbox.wait_for_events(settings.poll)).await {
                return true;
            }
            continue;
        };
        if !leading {
            match outbox.try_lead().await {
                Ok(true) => {
                    leading = true;
                    metrics.leader.set(1);
                    tracing::info!("event relay leads: publishing the outbox");
                }
                Ok(false) => {
                    // Another instance publishes; take over when it is gone.
                    if !stopping.wait(outbox.wait_for_events(settings.poll)).await {
                        return true;
                    }
                    continue;
                }
                Err(e) => {
                    tracing::warn!(error = %e, "event relay lost the database");
                    return false;
                }
            }
        }
        match publish_pending(outbox, publisher, settings.batch).await {
            Ok(pass) => {
                metrics.published.inc_by(pass.published as u64);
                metrics.duplicates.inc_by(pass.duplicates as u64);
                if let Some(failure) = pass.failure {
                    metrics.failures.inc();
                    tracing::warn!(error = %failure, "publishing delayed; backing off");
                    if !backoff.wait(stopping).await {
                        return true;
                    }
                    continue;
                }
                backoff.reset();
                if !pass.full_batch {
                    // The wait can last a whole poll: show the backlog this
                    // pass left behind, not the one it started from.
                    if !refresh_backlog(outbox, metrics).await {
                        return false;
                    }
                    if !stopping.wait(outbox.wait_for_events(settings.poll)).await {
                        return true;
                    }
                } else if stopping.is_requested() {
                    // A full batch goes straight to the next: stop between them.
                    return true;
                }
            }
            Err(e) => {
                tracing::warn!(error = %e, "event relay lost the database");
                return false;
            }
        }
    }
    false
}

/// The relay on the embedded SQLite store: an in-process poller. One server
/// process owns the file, so it is the only relay (no leadership), and SQLite
/// has no NOTIFY: new events are found by reading the outbox every poll
/// interval (at once again after a full batch).
async fn poll_sqlite(
    outbox: &SqliteOutbox,
    publisher: Option<&NatsPublisher>,
    settings: &RelaySettings,
    metrics: &RelayMetrics,
    stopping: &mut Stopping,
) {
    let mut backoff = Backoff::new(settings.max_backoff);
    metrics.leader.set(i64::from(publisher.is_some()));
    loop {
        match outbox.backlog() {
            Ok(events) => metrics
                .backlog
                .set(i64::try_from(events).unwrap_or(i64::MAX)),
            Err(e) => tracing::warn!(error = %e, "event relay cannot read the outbox"),
        }
        let mut full_batch = false;
        if let Some(publisher) = publisher {
            match publish_pending(outbox, publisher, settings.batch).await {
                Ok(pass) => {
                    metrics.published.inc_by(pass.published as u64);
                    metrics.duplicates.inc_by(pass.duplicates as u64);
                    if let Some(failure) = pass.failure {
                        metrics.failures.inc();
                        tracing::warn!(error = %failure, "publishing delayed; backing off");
                        if !backoff.wait(stopping).await {
                            return;
                        }
                        continue;
                    }
                    backoff.reset();
                    full_batch = pass.full_batch;
                }
                Err(e) => {
                    tracing::warn!(error = %e, "event relay cannot read the outbox; backing off");
                    if !backoff.wait(stopping).await {
                        return;
                    }
                    continue;
                }
            }
        }
        if full_batch {
            if stopping.is_requested() {
                return;
            }
        } else if !stopping.wait(tokio::time::sleep(settings.poll)).await {
            return;
        }
    }
}
