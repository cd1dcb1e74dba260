//! Start processing a confirmed order (`confirmed -> processing`).

use order_domain::{Order, OrderId};

use super::{Orders, Write};
use crate::AppError;

impl Orders {
    /// Start processing a confirmed order (`confirmed -> processing`).
    ///
    /// # Errors
    /// `NotFound`; `VersionMismatch`; the domain's `InvalidStatusTransition`; `Unavailable`.
    pub fn start_processing(&self, id: OrderId, write: Write) -> Result<Order, AppError> {
        self.modify(id, &write, |order, now| order.start_processing(now))
            .map(|(order, ())| order)
    }
}
