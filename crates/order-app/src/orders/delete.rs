//! Soft-delete a pending or cancelled order; it then vanishes from every read.

use order_domain::{Order, OrderId};

use super::{Orders, Write};
use crate::AppError;

impl Orders {
    /// Soft-delete a pending or cancelled order; it then vanishes from every read.
    ///
    /// # Errors
    /// `NotFound`; `VersionMismatch`; the domain's `NotDeletable`; `Unavailable`.
    pub fn delete(&self, id: OrderId, write: Write) -> Result<Order, AppError> {
        self.modify(id, &write, |order, now| order.soft_delete(now))
            .map(|(order, ())| order)
    }
}
