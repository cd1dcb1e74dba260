//! [`SqliteOutbox`]: the relay's side of the outbox on SQLite, read by an
//! in-process poller.
//!
//! SQLite has neither `LISTEN/NOTIFY` nor `SKIP LOCKED`, and needs neither:
//! the database is one file used by one server process, so that process's
//! relay is the only one (no leadership to hold) and it finds new events by
//! polling. Each call is a short synchronous query; the relay runs on a
//! thread of its own, so blocking it briefly holds up no request.

use std::fmt;

use async_trait::async_trait;
use diesel::prelude::*;
use order_app::relay::{Outbox, OutboxEvent};
use order_app::RepositoryError;
use order_domain::OrderId;
use uuid::Uuid;

use crate::codec::{id, parse_id, parse_time, time};
use crate::error::unexpected;
use crate::schema::order_mgmt_order_events as events;
use crate::store::{Db, WriteError};

/// Unpublished events, oldest first, and marking them published.
/// Made by [`crate::SqliteStore::outbox`].
#[derive(Clone)]
pub struct SqliteOutbox {
    db: Db,
}

impl fmt::Debug for SqliteOutbox {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SqliteOutbox").finish_non_exhaustive()
    }
}

impl SqliteOutbox {
    pub(crate) fn new(db: Db) -> Self {
        Self { db }
    }

    /// How many events wait to be published.
    ///
    /// # Errors
    /// `Unavailable` when the database cannot be read.
    pub fn backlog(&self) -> Result<u64, RepositoryError> {
        let n: i64 = self.db.read("outbox backlog", |conn| {
            events::table
                .filter(events::published_at.is_null())
                .count()
                .get_result(conn)
        })?;
        Ok(u64::try_from(n).unwrap_or_default())
    }
}

type EventColumns = (String, String, String, i64, String, String);

#[async_trait]
impl Outbox for SqliteOutbox {
    async fn unpublished(&self, limit: usize) -> Result<Vec<OutboxEvent>, RepositoryError> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let rows: Vec<EventColumns> = self.db.read("read outbox", |conn| {
            events::table
                .filter(events::published_at.is_null())
                .order(events::id.asc())
                .limit(limit)
                .select((
                    events::event_id,
                    events::event_type,
                    events::order_id,
                    events::version,
                    events::occurred_at,
                    events::payload,
                ))
                .load(conn)
        })?;
        rows.into_iter()
            .map(
                |(event_id, event_type, order_id, version, occurred_at, payload)| {
                    Ok(OutboxEvent {
                        id: parse_id(&event_id)?,
                        event_type,
                        order_id: OrderId::from_uuid(parse_id(&order_id)?),
                        sequence: u64::try_from(version)
                            .map_err(|_| unexpected(format!("event version {version}")))?,
                        occurred_at: parse_time(&occurred_at)?,
                        payload: payload.into_bytes(),
                    })
                },
            )
            .collect()
    }

    async fn mark_published(&self, ids: &[Uuid]) -> Result<(), RepositoryError> {
        let ids: Vec<String> = ids.iter().copied().map(id).collect();
        let now = time(chrono::Utc::now());
        self.db.write("mark events published", |conn| {
            diesel::update(events::table.filter(events::event_id.eq_any(&ids)))
                .set(events::published_at.eq(Some(&now)))
                .execute(conn)
                .map(|_| ())
                .map_err(WriteError::from)
        })
    }
}
