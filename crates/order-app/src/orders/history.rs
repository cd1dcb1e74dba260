//! An order's history: its events as they were published, in sequence order,
//! for a consumer that missed messages and for a person reading the timeline.

use order_domain::{CustomerId, OrderId};

use super::{not_found, Orders};
use crate::AppError;

/// One stored event: its sequence and its envelope exactly as published
/// (JSON, crate `order-events`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordedEvent {
    /// The order's version after the change (1, 2, 3, ...).
    pub sequence: u64,
    /// The envelope as JSON text.
    pub envelope: String,
}

/// What the store knows of an order's history.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredHistory {
    /// The order's customer, to check who may read it.
    pub customer_id: CustomerId,
    /// Events after the requested sequence, in order, at most the requested number.
    pub events: Vec<RecordedEvent>,
}

/// One page of an order's history.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HistoryPage {
    /// The events, in sequence order.
    pub events: Vec<RecordedEvent>,
    /// Pass as `after` for the next page; `None` when this page is the last.
    pub next_after: Option<u64>,
}

impl Orders {
    /// The most events one page may hold.
    pub const MAX_HISTORY_PAGE: usize = 500;

    /// Up to `limit` events of the order with sequence greater than `after`.
    /// Soft-deleted orders keep their history readable.
    ///
    /// # Errors
    /// `NotFound` for an order that never existed (or that a restricted
    /// caller may not see); `Unavailable`.
    pub fn history(&self, id: OrderId, after: u64, limit: usize) -> Result<HistoryPage, AppError> {
        let limit = limit.clamp(1, Self::MAX_HISTORY_PAGE);
        // One more than asked says whether another page follows.
        let history = self
            .ports
            .orders
            .history(id, after, limit + 1)?
            .filter(|h| self.customer.is_none_or(|c| h.customer_id == c))
            .ok_or_else(|| not_found(id))?;
        let mut events = history.events;
        let more = events.len() > limit;
        events.truncate(limit);
        let next_after = if more {
            events.last().map(|e| e.sequence)
        } else {
            None
        };
        Ok(HistoryPage { events, next_after })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::orders::test_support::*;
    use mockall::predicate::eq;

    fn recorded(sequence: u64) -> RecordedEvent {
        RecordedEvent {
            sequence,
            envelope: format!(r#"{{"sequence":{sequence}}}"#),
        }
    }

    #[test]
    fn a_page_asks_for_one_more_event_to_know_whether_another_follows() {
        let id = OrderId::from_uuid(uuid::Uuid::now_v7());
        let mut ports = Ports::new();
        ports
            .orders
            .expect_history()
            .with(eq(id), eq(2), eq(3))
            .times(1)
            .returning(|_, _, _| {
                Ok(Some(StoredHistory {
                    customer_id: customer(),
                    events: vec![recorded(3), recorded(4), recorded(5)],
                }))
            });
        let page = ports.build().history(id, 2, 2).unwrap();
        assert_eq!(page.events, vec![recorded(3), recorded(4)]);
        assert_eq!(page.next_after, Some(4));
    }

    #[test]
    fn the_last_page_has_no_next_and_an_unknown_order_is_not_found() {
        let id = OrderId::from_uuid(uuid::Uuid::now_v7());
        let mut ports = Ports::new();
        let mut calls = 0;
        ports.orders.expect_history().returning(move |_, _, _| {
            calls += 1;
            Ok((calls == 1).then(|| StoredHistory {
                customer_id: customer(),
                events: vec![recorded(1)],
            }))
        });
        let orders = ports.build();
        let page = orders.history(id, 0, 50).unwrap();
        assert_eq!((page.events.len(), page.next_after), (1, None));
        assert!(matches!(
            orders.history(id, 0, 50),
            Err(AppError::NotFound { .. })
        ));
    }

    #[test]
    fn a_restricted_caller_cannot_read_another_customers_history() {
        let id = OrderId::from_uuid(uuid::Uuid::now_v7());
        let mut ports = Ports::new();
        ports.orders.expect_history().returning(|_, _, _| {
            Ok(Some(StoredHistory {
                customer_id: customer(),
                events: vec![recorded(1)],
            }))
        });
        let stranger = ports
            .build()
            .restricted_to(Some(CustomerId::from_uuid(uuid::Uuid::now_v7())));
        assert!(matches!(
            stranger.history(id, 0, 10),
            Err(AppError::NotFound { .. })
        ));
    }
}
