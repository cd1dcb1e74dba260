//! Mark a processing order fulfilled (`processing -> fulfilled`).

use order_domain::{Order, OrderId};

use super::{Orders, Write};
use crate::AppError;

impl Orders {
    /// Mark a processing order fulfilled (`processing -> fulfilled`).
    ///
    /// # Errors
    /// `NotFound`; `VersionMismatch`; the domain's `InvalidStatusTransition`; `Unavailable`.
    pub fn mark_fulfilled(&self, id: OrderId, write: Write) -> Result<Order, AppError> {
        self.modify(id, &write, |order, now| order.mark_fulfilled(now))
            .map(|(order, ())| order)
    }
}
