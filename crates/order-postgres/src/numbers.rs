//! [`PgOrderNumberAllocator`]: order numbers from a PostgreSQL sequence.
//!
//! `nextval` is atomic across every connection and server and never waits for
//! another transaction, so numbers are unique under any load without a lock.
//! The counter is global (it does not restart each year): `ORD-2026-000001`
//! never happens after `ORD-2025-089928`, which keeps numbers unique without
//! a per-year table. A rolled-back order leaves a gap, as sequences do.

use std::fmt;

use diesel::dsl::sql;
use diesel::prelude::*;
use diesel::sql_types::BigInt;
use order_app::ports::OrderNumberAllocator;
use order_app::RepositoryError;
use order_domain::OrderNumber;

use crate::error::{map_diesel_error, unexpected};
use crate::store::Db;

/// Hands out `ORD-<year>-<nextval('order_mgmt_order_number_seq')>`.
///
/// Made by [`crate::PgStore::numbers`]; cloning shares the pool.
#[derive(Clone)]
pub struct PgOrderNumberAllocator {
    db: Db,
}

impl fmt::Debug for PgOrderNumberAllocator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PgOrderNumberAllocator")
            .finish_non_exhaustive()
    }
}

impl PgOrderNumberAllocator {
    pub(crate) fn new(db: Db) -> Self {
        Self { db }
    }
}

impl OrderNumberAllocator for PgOrderNumberAllocator {
    #[tracing::instrument(level = "debug", skip(self), err(level = "debug"))]
    fn next_number(&self, year: u16) -> Result<OrderNumber, RepositoryError> {
        // Refuse a bad year before spending a sequence value on it.
        OrderNumber::new(year, 1).map_err(unexpected)?;
        let mut conn = self.db.checkout()?;
        let counter = diesel::select(sql::<BigInt>("nextval('order_mgmt_order_number_seq')"))
            .get_result::<i64>(&mut conn)
            .map_err(|e| map_diesel_error("allocate order number", e))?;
        let counter = u64::try_from(counter).map_err(unexpected)?;
        OrderNumber::new(year, counter).map_err(unexpected)
    }
}
