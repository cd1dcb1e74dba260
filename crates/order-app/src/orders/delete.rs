//! Soft-delete a pending or cancelled order; it then vanishes from every read.

use order_domain::{Order, OrderId};

use super::Orders;
use crate::AppError;

impl Orders {
    /// Soft-delete a pending or cancelled order; it then vanishes from every read.
    ///
    /// # Errors
    /// `NotFound`; `VersionMismatch`; the domain's `NotDeletable`; `Unavailable`.
    pub fn delete(&self, id: OrderId, expected_version: Option<u64>) -> Result<Order, AppError> {
        self.modify(id, expected_version, |order, now| order.soft_delete(now))
            .map(|(order, ())| order)
    }
}
