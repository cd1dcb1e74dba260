//! Confirm a pending order that has at least one line (`pending -> confirmed`).

use order_domain::{Order, OrderId};

use super::{Orders, Write};
use crate::AppError;

impl Orders {
    /// Confirm a pending order that has at least one line (`pending -> confirmed`).
    ///
    /// # Errors
    /// `NotFound`; `VersionMismatch`; the domain's `InvalidStatusTransition`, `OrderEmpty`; `Unavailable`.
    pub fn confirm(&self, id: OrderId, write: Write) -> Result<Order, AppError> {
        self.modify(id, &write, |order, now| order.confirm(now))
            .map(|(order, ())| order)
    }
}
