//! Cancel an order that is not yet fulfilled or cancelled.

use order_domain::{Order, OrderId};

use super::{Orders, Write};
use crate::AppError;

impl Orders {
    /// Cancels an order from any non-terminal state, with an optional reason.
    ///
    /// # Errors
    /// `NotFound`; `VersionMismatch`; the domain's `AlreadyCancelled`,
    /// `FulfilledCannotBeCancelled`, `InvalidText` (reason too long); `Unavailable`.
    pub fn cancel(
        &self,
        id: OrderId,
        reason: Option<String>,
        write: Write,
    ) -> Result<Order, AppError> {
        self.modify(id, &write, |order, now| order.cancel(reason.clone(), now))
            .map(|(order, ())| order)
    }
}
