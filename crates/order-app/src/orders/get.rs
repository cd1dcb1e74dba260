//! Get one order, by id or by number.

use order_domain::{Order, OrderId, OrderNumber};

use super::{not_found, Orders};
use crate::AppError;

impl Orders {
    /// The live order with this id.
    ///
    /// # Errors
    /// `NotFound` (also for soft-deleted orders); `Unavailable`.
    pub fn get(&self, id: OrderId) -> Result<Order, AppError> {
        self.load(id)
    }

    /// The live order with this number.
    ///
    /// # Errors
    /// `NotFound`; `Unavailable`.
    pub fn get_by_number(&self, number: OrderNumber) -> Result<Order, AppError> {
        self.ports
            .orders
            .find_by_number(number)?
            .filter(|order| self.visible(order))
            .ok_or_else(|| not_found(number))
    }
}

#[cfg(test)]
mod tests {
    use crate::orders::test_support::*;
    use crate::AppError;
    use mockall::predicate::eq;

    #[test]
    fn get_returns_the_stored_order() {
        let order = pending_order_with_line();
        let id = order.id();
        let mut ports = Ports::new();
        let stored = order.clone();
        ports
            .orders
            .expect_find_by_id()
            .with(eq(id))
            .returning(move |_| Ok(Some(stored.clone())));
        assert_eq!(ports.build().get(id).unwrap(), order);
    }

    #[test]
    fn get_unknown_id_is_not_found() {
        let mut ports = Ports::new();
        ports.orders.expect_find_by_id().returning(|_| Ok(None));
        let err = ports.build().get(order_id()).unwrap_err();
        assert!(matches!(
            err,
            AppError::NotFound {
                entity: "order",
                ..
            }
        ));
    }

    #[test]
    fn another_customers_order_is_not_found_when_restricted() {
        let order = pending_order_with_line();
        let (id, number, owner) = (order.id(), order.number(), order.customer_id());
        let mut ports = Ports::new();
        let by_id = order.clone();
        ports
            .orders
            .expect_find_by_id()
            .returning(move |_| Ok(Some(by_id.clone())));
        ports
            .orders
            .expect_find_by_number()
            .returning(move |_| Ok(Some(order.clone())));
        let orders = ports.build();
        let stranger = orders.restricted_to(Some(customer()));
        for err in [
            stranger.get(id).unwrap_err(),
            stranger.get_by_number(number).unwrap_err(),
        ] {
            assert!(matches!(
                err,
                AppError::NotFound {
                    entity: "order",
                    ..
                }
            ));
        }
        let owner = orders.restricted_to(Some(owner));
        assert_eq!(owner.get(id).unwrap().id(), id);
        assert_eq!(owner.get_by_number(number).unwrap().id(), id);
    }

    #[test]
    fn get_by_number_finds_or_reports_not_found() {
        let order = pending_order_with_line();
        let known = order.number();
        let mut ports = Ports::new();
        let stored = order.clone();
        ports
            .orders
            .expect_find_by_number()
            .returning(move |n| Ok((n == known).then(|| stored.clone())));
        let orders = ports.build();
        assert_eq!(orders.get_by_number(known).unwrap().id(), order.id());
        assert!(matches!(
            orders.get_by_number(number(2025, 999)),
            Err(AppError::NotFound { .. })
        ));
    }
}
