//! Mark a processing order fulfilled (`processing -> fulfilled`).

use order_domain::{Order, OrderId};

use super::{Orders, Write};
use crate::AppError;

impl Orders {
    /// Mark a processing order fulfilled (`processing -> fulfilled`),
    /// shipping whatever is left unshipped as one more fulfilment.
    ///
    /// # Errors
    /// `NotFound`; `VersionMismatch`; the domain's `InvalidStatusTransition`; `Unavailable`.
    pub fn mark_fulfilled(&self, id: OrderId, write: Write) -> Result<Order, AppError> {
        let remainder = order_domain::FulfillmentId::from_uuid(self.ports.ids.new_id());
        self.modify(id, &write, |order, now| {
            order.mark_fulfilled_as(remainder, now)
        })
        .map(|(order, ())| order)
    }
}
