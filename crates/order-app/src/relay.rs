//! Publishing the outbox: the events every change stored beside the order
//! leave the service through an [`EventPublisher`], each exactly once in the
//! broker and in order per order.
//!
//! Why one pass is correct:
//! - **Nothing is lost.** A row is marked published only after the broker
//!   acknowledged it; a relay that dies before marking re-publishes, and the
//!   broker drops the copy by the event id (its de-duplication window must be
//!   longer than the longest time a row can wait to be re-published).
//! - **Per-order order.** Rows are read oldest first by their insertion id. For
//!   one order, version n+1 is written by a transaction that started after
//!   version n committed (the version compare-and-set), so its id is larger
//!   and it is never visible without n. A pass publishes one event at a time
//!   and stops at the first failure, so event n+1 never reaches the broker
//!   before event n was acknowledged - even with two relays racing.
//! - **Late commits are not skipped.** Ids commit out of order across orders,
//!   so progress is "the unpublished rows", never "ids above the last seen".

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use order_domain::OrderId;
use uuid::Uuid;

use crate::RepositoryError;

/// A stored event on its way out: routing and de-duplication facts beside
/// the envelope, which travels as the exact JSON the history shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxEvent {
    /// The event id: the broker's and the consumers' de-duplication key.
    pub id: Uuid,
    /// `order.confirmed`, ...
    pub event_type: String,
    /// The order.
    pub order_id: OrderId,
    /// The order's version after the change.
    pub sequence: u64,
    /// When the change happened.
    pub occurred_at: DateTime<Utc>,
    /// The envelope as JSON.
    pub payload: Vec<u8>,
}

/// What the broker said about a published event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Published {
    /// Stored for the first time.
    Stored,
    /// Already stored (same id within the de-duplication window): dropped.
    Duplicate,
}

/// Why an event could not be published.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PublishError {
    /// The broker cannot be reached or did not acknowledge in time; retry later.
    #[error("event broker unavailable: {0}")]
    Unavailable(String),
    /// The broker refused the event (e.g. no stream for the subject).
    #[error("event broker refused the event: {0}")]
    Refused(String),
}

/// Sends events to the broker.
#[cfg_attr(feature = "mocks", mockall::automock)]
#[async_trait]
pub trait EventPublisher: Send + Sync + 'static {
    /// Publishes one event and waits until the broker has stored it.
    ///
    /// # Errors
    /// `Unavailable` when the broker cannot be reached or does not answer in
    /// time; `Refused` when it answers with an error.
    async fn publish(&self, event: &OutboxEvent) -> Result<Published, PublishError>;
}

/// The unpublished part of the stored event log.
#[cfg_attr(feature = "mocks", mockall::automock)]
#[async_trait]
pub trait Outbox: Send + Sync + 'static {
    /// Up to `limit` unpublished events, in the order they were stored.
    ///
    /// # Errors
    /// `Unavailable` when the store cannot be reached.
    async fn unpublished(&self, limit: usize) -> Result<Vec<OutboxEvent>, RepositoryError>;

    /// Records that the broker acknowledged these events.
    ///
    /// # Errors
    /// `Unavailable` when the store cannot be reached.
    async fn mark_published(&self, ids: &[Uuid]) -> Result<(), RepositoryError>;
}

/// The result of one [`publish_pending`] pass.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RelayPass {
    /// Events the broker stored for the first time.
    pub published: usize,
    /// Events the broker already had (a re-publish after a crash).
    pub duplicates: usize,
    /// The pass read a full batch: more may be waiting.
    pub full_batch: bool,
    /// The publish failure that ended the pass early, if any.
    pub failure: Option<PublishError>,
}

/// Publishes up to `limit` unpublished events in stored order, one at a time,
/// and marks the acknowledged ones published. Stops at the first event the
/// broker does not take, so no later event of any order overtakes it.
///
/// # Errors
/// The store's error when it cannot be read or updated (events published
/// but not marked are published again and dropped by the broker as duplicates).
pub async fn publish_pending(
    outbox: &dyn Outbox,
    publisher: &dyn EventPublisher,
    limit: usize,
) -> Result<RelayPass, RepositoryError> {
    let batch = outbox.unpublished(limit).await?;
    let mut pass = RelayPass {
        full_batch: batch.len() >= limit,
        ..RelayPass::default()
    };
    let mut acknowledged = Vec::with_capacity(batch.len());
    for event in &batch {
        match publisher.publish(event).await {
            Ok(Published::Stored) => pass.published += 1,
            Ok(Published::Duplicate) => pass.duplicates += 1,
            Err(failure) => {
                pass.failure = Some(failure);
                pass.full_batch = false;
                break;
            }
        }
        acknowledged.push(event.id);
    }
    if !acknowledged.is_empty() {
        outbox.mark_published(&acknowledged).await?;
    }
    Ok(pass)
}

#[cfg(test)]
mod tests {
    use super::*;
    use mockall::Sequence;

    fn event(sequence: u64) -> OutboxEvent {
        OutboxEvent {
            id: Uuid::now_v7(),
            event_type: "order.line_added".into(),
            order_id: OrderId::from_uuid(Uuid::nil()),
            sequence,
            occurred_at: Utc::now(),
            payload: b"{}".to_vec(),
        }
    }

    fn block_on<F: std::future::Future>(future: F) -> F::Output {
        // The ports are mocks that never wait: one poll finishes the pass.
        let waker = std::task::Waker::noop();
        let mut cx = std::task::Context::from_waker(waker);
        let mut future = std::pin::pin!(future);
        match future.as_mut().poll(&mut cx) {
            std::task::Poll::Ready(out) => out,
            std::task::Poll::Pending => panic!("a mocked pass never waits"),
        }
    }

    #[test]
    fn events_are_published_in_stored_order_then_marked_published_together() {
        let events = vec![event(1), event(2), event(3)];
        let ids: Vec<Uuid> = events.iter().map(|e| e.id).collect();
        let mut outbox = MockOutbox::new();
        let stored = events.clone();
        outbox
            .expect_unpublished()
            .withf(|limit| *limit == 10)
            .return_once(move |_| Ok(stored));
        let mut publisher = MockEventPublisher::new();
        let mut seq = Sequence::new();
        for expected in ids.clone() {
            publisher
                .expect_publish()
                .withf(move |e| e.id == expected)
                .times(1)
                .in_sequence(&mut seq)
                .returning(|_| Ok(Published::Stored));
        }
        outbox
            .expect_mark_published()
            .withf(move |marked| marked == ids.as_slice())
            .times(1)
            .returning(|_| Ok(()));
        let pass = block_on(publish_pending(&outbox, &publisher, 10)).unwrap();
        assert_eq!(pass.published, 3);
        assert!(!pass.full_batch);
        assert!(pass.failure.is_none());
    }

    #[test]
    fn a_failure_stops_the_pass_and_only_the_acknowledged_events_are_marked() {
        let events = vec![event(1), event(2), event(3)];
        let first = events[0].id;
        let second = events[1].id;
        let mut outbox = MockOutbox::new();
        outbox.expect_unpublished().return_once(move |_| Ok(events));
        let mut publisher = MockEventPublisher::new();
        publisher
            .expect_publish()
            .withf(move |e| e.id == first)
            .returning(|_| Ok(Published::Duplicate));
        publisher
            .expect_publish()
            .withf(move |e| e.id == second)
            .times(1)
            .returning(|_| Err(PublishError::Unavailable("timed out".into())));
        // The third event must not overtake the second.
        outbox
            .expect_mark_published()
            .withf(move |marked| marked == [first])
            .times(1)
            .returning(|_| Ok(()));
        let pass = block_on(publish_pending(&outbox, &publisher, 3)).unwrap();
        assert_eq!((pass.published, pass.duplicates), (0, 1));
        assert!(!pass.full_batch, "after a failure the relay backs off");
        assert_eq!(
            pass.failure,
            Some(PublishError::Unavailable("timed out".into()))
        );
    }

    #[test]
    fn nothing_is_marked_when_the_first_publish_fails_or_nothing_waits() {
        let mut outbox = MockOutbox::new();
        outbox
            .expect_unpublished()
            .times(1)
            .return_once(|_| Ok(vec![event(1)]));
        outbox.expect_mark_published().never();
        let mut publisher = MockEventPublisher::new();
        publisher
            .expect_publish()
            .returning(|_| Err(PublishError::Refused("no stream".into())));
        let pass = block_on(publish_pending(&outbox, &publisher, 5)).unwrap();
        assert_eq!(pass.published, 0);

        let mut empty = MockOutbox::new();
        empty.expect_unpublished().return_once(|_| Ok(Vec::new()));
        empty.expect_mark_published().never();
        let pass = block_on(publish_pending(&empty, &MockEventPublisher::new(), 5)).unwrap();
        assert_eq!(pass, RelayPass::default());
    }

    #[test]
    fn a_full_batch_says_more_may_be_waiting() {
        let mut outbox = MockOutbox::new();
        outbox
            .expect_unpublished()
            .return_once(|_| Ok(vec![event(1), event(2)]));
        outbox.expect_mark_published().returning(|_| Ok(()));
        let mut publisher = MockEventPublisher::new();
        publisher
            .expect_publish()
            .returning(|_| Ok(Published::Stored));
        let pass = block_on(publish_pending(&outbox, &publisher, 2)).unwrap();
        assert!(pass.full_batch);
    }
}
