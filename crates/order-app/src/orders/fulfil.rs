//! Mark a processing order fulfilled (`processing -> fulfilled`).

use order_domain::{Order, OrderId};

use super::Orders;
use crate::AppError;

impl Orders {
    /// Mark a processing order fulfilled (`processing -> fulfilled`).
    ///
    /// # Errors
    /// `NotFound`; `VersionMismatch`; the domain's `InvalidStatusTransition`; `Unavailable`.
    pub fn mark_fulfilled(
        &self,
        id: OrderId,
        expected_version: Option<u64>,
    ) -> Result<Order, AppError> {
        self.modify(id, expected_version, |order, now| order.mark_fulfilled(now))
            .map(|(order, ())| order)
    }
}
