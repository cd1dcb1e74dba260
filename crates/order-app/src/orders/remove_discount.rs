//! Remove a discount from a pending order.

use order_domain::{DiscountId, Order, OrderId};

use super::{Orders, Write};
use crate::AppError;

impl Orders {
    /// Removes a discount; the discounts after it and every line are priced again.
    ///
    /// # Errors
    /// `NotFound`; `VersionMismatch`; the domain's `DiscountNotFound`,
    /// `OrderNotEditable`; `Unavailable`.
    pub fn remove_discount(
        &self,
        id: OrderId,
        discount_id: DiscountId,
        write: Write,
    ) -> Result<Order, AppError> {
        self.modify(id, &write, |order, now| {
            order.remove_discount(discount_id, now)
        })
        .map(|(order, ())| order)
    }
}

#[cfg(test)]
mod tests {
    use crate::orders::test_support::*;
    use crate::Write;
    use order_domain::{Currency, DiscountId, DiscountValue, Money, NewDiscount};

    #[test]
    fn removes_the_discount_and_saves_the_full_price() {
        let mut order = pending_order_with_line();
        let discount_id = order
            .add_discount(
                NewDiscount {
                    id: DiscountId::from_uuid(uuid::Uuid::now_v7()),
                    value: DiscountValue::Fixed(Money::new(500, Currency::USD)),
                    code: None,
                    description: None,
                },
                now(),
            )
            .unwrap();
        order.take_events();
        let id = order.id();
        let mut ports = Ports::new();
        ports.stored(order);
        ports
            .orders
            .expect_update()
            .withf(|o, _, _| o.discounts().is_empty() && o.total().amount() == 10_000)
            .times(1)
            .returning(|_, _, _| Ok(()));
        let saved = ports
            .build()
            .remove_discount(id, discount_id, Write::default())
            .unwrap();
        assert_eq!(saved.discount().amount(), 0);
    }

    #[test]
    fn an_unknown_discount_is_discount_not_found() {
        let order = pending_order_with_line();
        let id = order.id();
        let mut ports = Ports::new();
        ports.stored(order);
        ports.orders.expect_update().never();
        let error = ports
            .build()
            .remove_discount(
                id,
                DiscountId::from_uuid(uuid::Uuid::now_v7()),
                Write::default(),
            )
            .unwrap_err();
        assert_eq!(domain_code(&error), "discount_not_found");
    }
}
