//! The relay's side of the outbox: one dedicated connection that holds the
//! relay's leadership, listens for new events and reads and marks rows.
//!
//! This is the one place the adapter uses `tokio-postgres` instead of diesel:
//! waiting for a `NOTIFY` needs a connection that can be awaited, which
//! diesel's (synchronous, poll-only) notifications cannot; and the session
//! advisory lock that makes this relay the only one must live on a
//! connection the relay owns for as long as it leads, never a pooled one.
//! The connection is plain TCP (`NoTls`), like every connection in tests and
//! on the machines; a `DATABASE_URL` with `sslmode=require` is refused with
//! a clear error.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use futures_util::StreamExt;
use order_app::relay::{Outbox, OutboxEvent};
use order_app::RepositoryError;
use order_domain::OrderId;
use tokio::sync::Notify;
use tokio_postgres::{AsyncMessage, NoTls};
use uuid::Uuid;

/// The channel the outbox trigger notifies (migration 2026-12-06-000001).
pub const CHANNEL: &str = "order_mgmt_order_events";

/// Key of the session advisory lock held by the leading relay: an arbitrary
/// constant no other lock in this database uses ("ORDREVTS" in ASCII).
pub const LEADER_LOCK_KEY: i64 = 0x4F52_4452_4556_5453;

/// How far behind publishing is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Backlog {
    /// Unpublished events.
    pub events: i64,
    /// When the oldest of them happened.
    pub oldest: Option<DateTime<Utc>>,
}

/// The relay's connection to the outbox.
#[derive(Debug)]
pub struct PgOutbox {
    client: tokio_postgres::Client,
    woken: Arc<Notify>,
    closed: Arc<AtomicBool>,
}

fn unavailable(context: &str) -> impl Fn(tokio_postgres::Error) -> RepositoryError + '_ {
    move |e| RepositoryError::Unavailable(format!("{context}: {e}"))
}

impl PgOutbox {
    /// Connects and starts listening for new events.
    ///
    /// # Errors
    /// `Unavailable` when the database cannot be reached.
    pub async fn connect(database_url: &str) -> Result<Self, RepositoryError> {
        let (client, mut connection) = tokio_postgres::connect(database_url, NoTls)
            .await
            .map_err(unavailable("relay connection"))?;
        let woken = Arc::new(Notify::new());
        let closed = Arc::new(AtomicBool::new(false));
        let (wake, ended) = (Arc::clone(&woken), Arc::clone(&closed));
        // The connection task delivers the notifications; `notify_one` keeps
        // one wake-up for a relay that is busy, so none is lost between passes.
        tokio::spawn(async move {
            let mut messages = futures_util::stream::poll_fn(|cx| connection.poll_message(cx));
            while let Some(message) = messages.next().await {
                match message {
                    Ok(AsyncMessage::Notification(_)) => wake.notify_one(),
                    Ok(_) => {}
                    Err(e) => {
                        tracing::warn!(error = %e, "relay database connection lost");
                        break;
                    }
                }
            }
            ended.store(true, Ordering::Release);
            wake.notify_one();
        });
        client
            .batch_execute(&format!("LISTEN {CHANNEL}"))
            .await
            .map_err(unavailable("LISTEN"))?;
        Ok(Self {
            client,
            woken,
            closed,
        })
    }

    /// Whether the connection is gone (the lock with it): reconnect.
    #[must_use]
    pub fn is_closed(&self) -> bool {
        self.closed.load(Ordering::Acquire) || self.client.is_closed()
    }

    /// Tries to become the single relay. The lock is held until this
    /// connection ends, so a relay that dies hands over by itself; call it
    /// again only while it returned `false`.
    ///
    /// # Errors
    /// `Unavailable` when the database cannot be reached.
    pub async fn try_lead(&self) -> Result<bool, RepositoryError> {
        self.client
            .query_one("SELECT pg_try_advisory_lock($1)", &[&LEADER_LOCK_KEY])
            .await
            .map(|row| row.get(0))
            .map_err(unavailable("relay leadership"))
    }

    /// Returns when a transaction that wrote events commits, or after `max`.
    pub async fn wait_for_events(&self, max: Duration) {
        let _ = tokio::time::timeout(max, self.woken.notified()).await;
    }

    /// The unpublished events and the age of the oldest.
    ///
    /// # Errors
    /// `Unavailable` when the database cannot be reached.
    pub async fn backlog(&self) -> Result<Backlog, RepositoryError> {
        let row = self
            .client
            .query_one(
                "SELECT count(*), min(occurred_at) FROM order_mgmt_order_events \
                 WHERE published_at IS NULL",
                &[],
            )
            .await
            .map_err(unavailable("outbox backlog"))?;
        Ok(Backlog {
            events: row.get(0),
            oldest: row.get(1),
        })
    }
}

#[async_trait]
impl Outbox for PgOutbox {
    async fn unpublished(&self, limit: usize) -> Result<Vec<OutboxEvent>, RepositoryError> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        // Served by the partial index idx_order_events_unpublished, in `id`
        // order: for one order that is version order (see order_app::relay).
        let rows = self
            .client
            .query(
                "SELECT event_id, event_type, order_id, version, occurred_at, payload::text \
                 FROM order_mgmt_order_events WHERE published_at IS NULL ORDER BY id LIMIT $1",
                &[&limit],
            )
            .await
            .map_err(unavailable("read outbox"))?;
        rows.into_iter()
            .map(|row| {
                let version: i64 = row.get(3);
                let payload: String = row.get(5);
                Ok(OutboxEvent {
                    id: row.get(0),
                    event_type: row.get(1),
                    order_id: OrderId::from_uuid(row.get(2)),
                    sequence: u64::try_from(version).map_err(|_| {
                        RepositoryError::Unexpected(format!("event version {version}"))
                    })?,
                    occurred_at: row.get(4),
                    payload: payload.into_bytes(),
                })
            })
            .collect()
    }

    async fn mark_published(&self, ids: &[Uuid]) -> Result<(), RepositoryError> {
        self.client
            .execute(
                "UPDATE order_mgmt_order_events SET published_at = now() \
                 WHERE event_id = ANY($1) AND published_at IS NULL",
                &[&ids],
            )
            .await
            .map(|_| ())
            .map_err(unavailable("mark events published"))
    }
}
