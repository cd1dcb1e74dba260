//! Remove a line from a pending order.

use order_domain::{LineId, Order, OrderId};

use super::{Orders, Write};
use crate::AppError;

impl Orders {
    /// Removes a line; totals follow.
    ///
    /// # Errors
    /// `NotFound`; `VersionMismatch`; the domain's `LineNotFound`,
    /// `OrderNotEditable`, `NegativeTotal`; `Unavailable`.
    pub fn remove_line(
        &self,
        id: OrderId,
        line_id: LineId,
        write: Write,
    ) -> Result<Order, AppError> {
        self.modify(id, &write, |order, now| order.remove_line(line_id, now))
            .map(|(order, ())| order)
    }
}

#[cfg(test)]
mod tests {
    use crate::orders::test_support::*;
    use crate::Write;
    use order_domain::OrderStatus;

    #[test]
    fn removes_the_line_and_saves() {
        let order = pending_order_with_line();
        let (id, line) = (order.id(), order.lines()[0].id());
        let mut ports = Ports::new();
        ports.stored(order);
        ports
            .orders
            .expect_update()
            .withf(|o, _, _| o.lines().is_empty())
            .times(1)
            .returning(|_, _, _| Ok(()));
        assert_eq!(
            ports
                .build()
                .remove_line(id, line, Write::default())
                .unwrap()
                .total()
                .amount(),
            0
        );
    }

    #[test]
    fn lines_of_a_confirmed_order_cannot_be_removed() {
        let order = order_in(OrderStatus::Confirmed);
        let (id, line) = (order.id(), order.lines()[0].id());
        let mut ports = Ports::new();
        ports.stored(order);
        ports.orders.expect_update().never();
        assert_eq!(
            domain_code(
                &ports
                    .build()
                    .remove_line(id, line, Write::default())
                    .unwrap_err()
            ),
            "order_not_editable"
        );
    }

    #[test]
    fn unknown_line_is_line_not_found() {
        let order = pending_order_with_line();
        let id = order.id();
        let mut ports = Ports::new();
        ports.stored(order);
        assert_eq!(
            domain_code(
                &ports
                    .build()
                    .remove_line(id, line_id(), Write::default())
                    .unwrap_err()
            ),
            "line_not_found"
        );
    }
}
