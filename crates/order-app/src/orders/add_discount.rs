//! Add a discount to a pending order.

use order_domain::{DiscountId, DiscountValue, Money, NewDiscount, Order, OrderId, Percentage};

use super::{Orders, Write};
use crate::AppError;

/// What a discount takes, as a caller states it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DiscountAmount {
    /// A fixed amount in minor units of the order's currency (the caller
    /// does not need to know the currency: the order has exactly one).
    Fixed(i64),
    /// A percentage of what earlier discounts left.
    Percentage(Percentage),
}

/// Input of [`Orders::add_discount`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AddDiscount {
    /// A fixed amount or a percentage.
    pub amount: DiscountAmount,
    /// A voucher or promotion code, if any.
    pub code: Option<String>,
    /// Free text shown with the discount.
    pub description: Option<String>,
}

impl Orders {
    /// Adds a discount after the ones already on the order, allocates it to
    /// the lines and returns the order with the new discount's id (the
    /// order's last discount).
    ///
    /// # Errors
    /// `NotFound`; `VersionMismatch`; the domain's `OrderNotEditable`,
    /// `InvalidDiscount`, `CurrencyMismatch`, `InvalidText`,
    /// `DiscountCodeAlreadyApplied`, `TooManyDiscounts`,
    /// `DiscountExceedsAmount`; `Unavailable`.
    pub fn add_discount(
        &self,
        id: OrderId,
        cmd: AddDiscount,
        write: Write,
    ) -> Result<(Order, DiscountId), AppError> {
        let discount_id = DiscountId::from_uuid(self.ports.ids.new_id());
        self.modify(id, &write, |order, now| {
            let value = match cmd.amount {
                DiscountAmount::Fixed(minor) => {
                    DiscountValue::Fixed(Money::new(minor, order.currency()))
                }
                DiscountAmount::Percentage(p) => DiscountValue::Percentage(p),
            };
            order.add_discount(
                NewDiscount {
                    id: discount_id,
                    value,
                    code: cmd.code.clone(),
                    description: cmd.description.clone(),
                },
                now,
            )
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::orders::test_support::*;
    use crate::Write;
    use order_domain::OrderStatus;

    fn fixed(cents: i64) -> AddDiscount {
        AddDiscount {
            amount: DiscountAmount::Fixed(cents),
            code: Some("SAVE".into()),
            description: None,
        }
    }

    #[test]
    fn adds_the_discount_allocates_it_and_saves() {
        let order = pending_order_with_line(); // 2 × 50.00
        let id = order.id();
        let mut ports = Ports::new();
        ports.stored(order);
        ports
            .orders
            .expect_update()
            .withf(|o, expected, _| {
                *expected == o.version() - 1
                    && o.discount().amount() == 1_000
                    && o.lines()[0].discount().amount() == 1_000
                    && o.total().amount() == 9_000
            })
            .times(1)
            .returning(|_, _, _| Ok(()));
        let (saved, discount_id) = ports
            .build()
            .add_discount(id, fixed(1_000), Write::default())
            .unwrap();
        assert_eq!(saved.discounts().last().map(|d| d.id()), Some(discount_id));
        assert_eq!(saved.discounts()[0].code(), Some("SAVE"));
        assert!(saved.pending_events().is_empty());
    }

    #[test]
    fn a_percentage_is_taken_of_the_lines() {
        let order = pending_order_with_line();
        let id = order.id();
        let mut ports = Ports::new();
        ports.stored(order);
        ports.orders.expect_update().returning(|_, _, _| Ok(()));
        let (saved, _) = ports
            .build()
            .add_discount(
                id,
                AddDiscount {
                    amount: DiscountAmount::Percentage(Percentage::parse("12.5").unwrap()),
                    code: None,
                    description: Some("Spring sale".into()),
                },
                Write::default(),
            )
            .unwrap();
        assert_eq!(saved.discount().amount(), 1_250);
    }

    #[test]
    fn a_discount_above_the_order_is_refused_and_nothing_is_saved() {
        let order = pending_order_with_line();
        let id = order.id();
        let mut ports = Ports::new();
        ports.stored(order);
        ports.orders.expect_update().never();
        let error = ports
            .build()
            .add_discount(id, fixed(10_001), Write::default())
            .unwrap_err();
        assert_eq!(domain_code(&error), "discount_exceeds_amount");
    }

    #[test]
    fn a_confirmed_order_takes_no_discount() {
        let order = order_in(OrderStatus::Confirmed);
        let id = order.id();
        let mut ports = Ports::new();
        ports.stored(order);
        ports.orders.expect_update().never();
        let error = ports
            .build()
            .add_discount(id, fixed(1), Write::default())
            .unwrap_err();
        assert_eq!(domain_code(&error), "order_not_editable");
    }

    #[test]
    fn a_stale_if_match_is_a_version_mismatch() {
        let order = pending_order_with_line();
        let id = order.id();
        let mut ports = Ports::new();
        ports.stored(order);
        ports.orders.expect_update().never();
        let error = ports
            .build()
            .add_discount(id, fixed(1), Write::if_version(1))
            .unwrap_err();
        assert!(matches!(
            error,
            AppError::VersionMismatch { expected: 1, .. }
        ));
    }
}
