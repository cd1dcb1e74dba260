//! The planner's estimates of list totals, kept for a moment.
//!
//! A list page with a next page reports the planner's estimate of the
//! matching rows (`total_exact: false`) unless the caller asked for a count.
//! Asking the planner is one more round trip and one more planning on every
//! such page: about a fifth of a list page's statements. The estimate comes
//! from table statistics that change only when `ANALYZE` runs, so asking
//! again within [`FRESH_FOR`] tells nothing new; pages of the same filter in
//! that time reuse the answer. What a page returns is never below the rows it
//! knows exist (`at_least`), cached or not.

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use order_app::OrderFilter;
use uuid::Uuid;

/// How long an estimate is reused.
pub(crate) const FRESH_FOR: Duration = Duration::from_secs(1);
/// Most filters remembered at once (one per customer listed, plus the
/// status lists); past it, the stale ones are forgotten, or all if none is.
pub(crate) const MOST_FILTERS: usize = 4096;

type Key = (Option<Uuid>, Option<&'static str>);

/// Recent estimates by filter.
#[derive(Debug, Default)]
pub(crate) struct Estimates {
    recent: Mutex<HashMap<Key, (u64, Instant)>>,
}

impl Estimates {
    /// The estimate for `filter` (at least `at_least`): a fresh one from
    /// memory, else `plan`'s, which is then remembered.
    pub(crate) fn get_or_plan<E>(
        &self,
        filter: &OrderFilter,
        at_least: u64,
        now: Instant,
        plan: impl FnOnce() -> Result<u64, E>,
    ) -> Result<u64, E> {
        let key = (
            filter.customer_id.map(|c| c.as_uuid()),
            filter.status.map(order_domain::OrderStatus::as_str),
        );
        let remembered = self
            .recent
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(&key)
            .filter(|(_, at)| now.saturating_duration_since(*at) < FRESH_FOR)
            .map(|(estimate, _)| *estimate);
        let estimate = match remembered {
            Some(estimate) => estimate,
            // Planned without the lock held: two pages may both plan, which
            // costs one planning, never a wrong answer.
            None => {
                let estimate = plan()?;
                let mut recent = self.recent.lock().unwrap_or_else(PoisonError::into_inner);
                if recent.len() >= MOST_FILTERS && !recent.contains_key(&key) {
                    recent.retain(|_, (_, at)| now.saturating_duration_since(*at) < FRESH_FOR);
                    if recent.len() >= MOST_FILTERS {
                        recent.clear();
                    }
                }
                recent.insert(key, (estimate, now));
                estimate
            }
        };
        Ok(estimate.max(at_least))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use order_domain::{CustomerId, OrderStatus};
    use std::cell::Cell;

    fn plans(
        estimates: &Estimates,
        filter: &OrderFilter,
        at_least: u64,
        now: Instant,
        answer: u64,
    ) -> (u64, bool) {
        let planned = Cell::new(false);
        let got = estimates
            .get_or_plan::<()>(filter, at_least, now, || {
                planned.set(true);
                Ok(answer)
            })
            .unwrap();
        (got, planned.get())
    }

    /// The orders of a customer never seen before.
    fn one_customer() -> OrderFilter {
        OrderFilter {
            customer_id: Some(CustomerId::from_uuid(Uuid::now_v7())),
            status: None,
        }
    }

    #[test]
    fn an_estimate_is_reused_while_fresh_and_asked_again_after() {
        let estimates = Estimates::default();
        let all = OrderFilter::default();
        let t0 = Instant::now();
        assert_eq!(plans(&estimates, &all, 0, t0, 1_000), (1_000, true));
        assert_eq!(
            plans(&estimates, &all, 0, t0 + FRESH_FOR / 2, 5),
            (1_000, false)
        );
        assert_eq!(plans(&estimates, &all, 0, t0 + FRESH_FOR, 7), (7, true));
    }

    #[test]
    fn a_remembered_estimate_is_never_below_the_rows_known_to_exist() {
        let estimates = Estimates::default();
        let all = OrderFilter::default();
        let t0 = Instant::now();
        assert_eq!(plans(&estimates, &all, 30, t0, 10), (30, true));
        assert_eq!(plans(&estimates, &all, 50, t0, 10), (50, false));
        assert_eq!(plans(&estimates, &all, 0, t0, 10), (10, false));
    }

    #[test]
    fn each_filter_has_its_own_estimate() {
        let estimates = Estimates::default();
        let t0 = Instant::now();
        let customer = one_customer();
        let confirmed = OrderFilter {
            customer_id: None,
            status: Some(OrderStatus::Confirmed),
        };
        assert_eq!(
            plans(&estimates, &OrderFilter::default(), 0, t0, 100),
            (100, true)
        );
        assert_eq!(plans(&estimates, &customer, 0, t0, 3), (3, true));
        assert_eq!(plans(&estimates, &confirmed, 0, t0, 40), (40, true));
        assert_eq!(plans(&estimates, &customer, 0, t0, 9), (3, false));
    }

    #[test]
    fn a_failed_planning_is_not_remembered() {
        let estimates = Estimates::default();
        let all = OrderFilter::default();
        let t0 = Instant::now();
        assert_eq!(
            estimates.get_or_plan(&all, 0, t0, || Err("down")),
            Err("down")
        );
        assert_eq!(plans(&estimates, &all, 0, t0, 12), (12, true));
    }

    #[test]
    fn the_memory_is_bounded() {
        let estimates = Estimates::default();
        let t0 = Instant::now();
        for _ in 0..=MOST_FILTERS * 2 {
            plans(&estimates, &one_customer(), 0, t0, 1);
        }
        assert!(estimates.recent.lock().unwrap().len() <= MOST_FILTERS);
    }
}
