//! Confirm a pending order that has at least one line (`pending -> confirmed`).

use order_domain::{Order, OrderId};

use super::Orders;
use crate::AppError;

impl Orders {
    /// Confirm a pending order that has at least one line (`pending -> confirmed`).
    ///
    /// # Errors
    /// `NotFound`; `VersionMismatch`; the domain's `InvalidStatusTransition`, `OrderEmpty`; `Unavailable`.
    pub fn confirm(&self, id: OrderId, expected_version: Option<u64>) -> Result<Order, AppError> {
        self.modify(id, expected_version, |order, now| order.confirm(now))
            .map(|(order, ())| order)
    }
}
