//! Change the quantity of a line of a pending order.

use order_domain::{LineId, Order, OrderId, Quantity};

use super::{Orders, Write};
use crate::AppError;

impl Orders {
    /// Sets a line's quantity; totals follow.
    ///
    /// # Errors
    /// `NotFound`; `VersionMismatch`; the domain's `LineNotFound`,
    /// `OrderNotEditable`, `AmountOverflow`; `Unavailable`.
    pub fn update_line_quantity(
        &self,
        id: OrderId,
        line_id: LineId,
        quantity: Quantity,
        write: Write,
    ) -> Result<Order, AppError> {
        self.modify(id, &write, |order, now| {
            order.update_line_quantity(line_id, quantity, now)
        })
        .map(|(order, ())| order)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::orders::test_support::*;
    use crate::Write;

    #[test]
    fn updates_the_quantity_and_saves() {
        let order = pending_order_with_line();
        let (id, line) = (order.id(), order.lines()[0].id());
        let mut ports = Ports::new();
        ports.stored(order);
        ports
            .orders
            .expect_update()
            .withf(|o, _, _| o.total().amount() == 50_000)
            .times(1)
            .returning(|_, _, _| Ok(()));
        let saved = ports
            .build()
            .update_line_quantity(id, line, Quantity::new(10).unwrap(), Write::default())
            .unwrap();
        assert_eq!(saved.lines()[0].quantity().get(), 10);
    }

    #[test]
    fn the_same_quantity_writes_nothing() {
        let order = pending_order_with_line();
        let (id, line) = (order.id(), order.lines()[0].id());
        let mut ports = Ports::new();
        ports.stored(order);
        ports.orders.expect_update().never();
        let saved = ports
            .build()
            .update_line_quantity(id, line, Quantity::new(2).unwrap(), Write::default())
            .unwrap();
        assert_eq!(saved.version(), 2);
    }

    #[test]
    fn unknown_line_is_line_not_found() {
        let order = pending_order_with_line();
        let id = order.id();
        let mut ports = Ports::new();
        ports.stored(order);
        ports.orders.expect_update().never();
        let err = ports
            .build()
            .update_line_quantity(id, line_id(), Quantity::new(1).unwrap(), Write::default())
            .unwrap_err();
        assert_eq!(domain_code(&err), "line_not_found");
    }
}
