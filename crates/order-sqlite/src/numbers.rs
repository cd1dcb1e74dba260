//! [`SqliteOrderNumberAllocator`]: order numbers from a one-row counter.
//!
//! The counter is advanced in an IMMEDIATE transaction, under SQLite's one
//! write lock, so no two connections (nor two processes on the file) can
//! take the same value. A rolled-back order leaves a gap, as on PostgreSQL.

use std::fmt;

use diesel::prelude::*;
use order_app::ports::OrderNumberAllocator;
use order_app::RepositoryError;
use order_domain::OrderNumber;

use crate::error::unexpected;
use crate::schema::order_mgmt_order_numbers as numbers;
use crate::store::{Db, WriteError};

/// Order numbers in SQLite. Made by [`crate::SqliteStore::numbers`].
#[derive(Clone)]
pub struct SqliteOrderNumberAllocator {
    db: Db,
}

impl fmt::Debug for SqliteOrderNumberAllocator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SqliteOrderNumberAllocator")
            .finish_non_exhaustive()
    }
}

impl SqliteOrderNumberAllocator {
    pub(crate) fn new(db: Db) -> Self {
        Self { db }
    }
}

impl OrderNumberAllocator for SqliteOrderNumberAllocator {
    #[tracing::instrument(level = "debug", skip(self), err(level = "debug"))]
    fn next_number(&self, year: u16) -> Result<OrderNumber, RepositoryError> {
        // Refuse a bad year before spending a number on it.
        OrderNumber::new(year, 1).map_err(unexpected)?;
        let counter: i64 = self.db.write("next order number", |conn| {
            diesel::update(numbers::table.find(1_i64))
                .set(numbers::last.eq(numbers::last + 1))
                .returning(numbers::last)
                .get_result(conn)
                .map_err(WriteError::from)
        })?;
        let counter = u64::try_from(counter).map_err(unexpected)?;
        OrderNumber::new(year, counter).map_err(unexpected)
    }
}
