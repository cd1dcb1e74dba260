//! [`PgOrderNumberAllocator`]: order numbers from a PostgreSQL sequence.
//!
//! `nextval` is atomic across every connection and server and never waits for
//! another transaction, so numbers are unique under any load without a lock.
//! The counter is global (it does not restart each year): `ORD-2026-000001`
//! never happens after `ORD-2025-089928`, which keeps numbers unique without
//! a per-year table. A rolled-back order leaves a gap, as sequences do.
//!
//! Values are reserved in blocks of [`BLOCK`] with one statement, so most
//! creates spend no round trip on their number. The price: numbers from two
//! servers interleave by blocks rather than by creation time, and a restart
//! leaves the rest of a block unused (more gaps). Numbers are identifiers,
//! not a clock: order by `created_at` for time.

use std::collections::VecDeque;
use std::fmt;
use std::sync::{Arc, Mutex};

use diesel::prelude::*;
use diesel::sql_types::BigInt;
use order_app::ports::OrderNumberAllocator;
use order_app::RepositoryError;
use order_domain::OrderNumber;

use crate::error::{map_diesel_error, unexpected};
use crate::store::Db;

/// Hands out `ORD-<year>-<counter>`, counters reserved from
/// `order_mgmt_order_number_seq` a block at a time.
///
/// Made by [`crate::PgStore::numbers`]; cloning shares the pool.
#[derive(Clone)]
pub struct PgOrderNumberAllocator {
    db: Db,
    /// Reserved, unused counter values, shared by clones.
    reserved: Arc<Mutex<VecDeque<u64>>>,
}

#[derive(QueryableByName)]
struct Reserved {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

/// How many sequence values one round trip reserves.
const BLOCK: i64 = 32;

impl fmt::Debug for PgOrderNumberAllocator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PgOrderNumberAllocator")
            .finish_non_exhaustive()
    }
}

impl PgOrderNumberAllocator {
    pub(crate) fn new(db: Db) -> Self {
        Self {
            db,
            reserved: Arc::default(),
        }
    }

    fn next_counter(&self) -> Result<u64, RepositoryError> {
        if let Some(counter) = self.reserved().pop_front() {
            return Ok(counter);
        }
        // The lock is not held during the round trip: two threads that both
        // find the queue empty each reserve a block, which only costs values.
        let mut conn = self.db.checkout()?;
        let block = diesel::sql_query(
            "SELECT nextval('order_mgmt_order_number_seq') AS n FROM generate_series(1, $1)",
        )
        .bind::<BigInt, _>(BLOCK)
        .load::<Reserved>(&mut conn)
        .map_err(|e| map_diesel_error("allocate order numbers", e))?;
        let mut counters = block
            .into_iter()
            .map(|r| u64::try_from(r.n).map_err(unexpected))
            .collect::<Result<VecDeque<_>, _>>()?;
        let first = counters
            .pop_front()
            .ok_or_else(|| unexpected("the sequence returned no value"))?;
        self.reserved().extend(counters);
        Ok(first)
    }

    fn reserved(&self) -> std::sync::MutexGuard<'_, VecDeque<u64>> {
        // A poisoned lock only means another thread panicked while holding
        // it; the queue is still a list of unused values.
        self.reserved
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

impl OrderNumberAllocator for PgOrderNumberAllocator {
    #[tracing::instrument(level = "debug", skip(self), err(level = "debug"))]
    fn next_number(&self, year: u16) -> Result<OrderNumber, RepositoryError> {
        // Refuse a bad year before spending a sequence value on it.
        OrderNumber::new(year, 1).map_err(unexpected)?;
        let counter = self.next_counter()?;
        OrderNumber::new(year, counter).map_err(unexpected)
    }
}
