//! Create an order for an existing customer.

use chrono::Datelike;
use order_domain::{CompanyId, Currency, CustomerId, NewOrder, Order, OrderId};

use super::Orders;
use crate::{AppError, RepositoryError};

/// Input of [`Orders::create`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreateOrder {
    /// The ordering customer; must exist.
    pub customer_id: CustomerId,
    /// The B2B company, if any.
    pub company_id: Option<CompanyId>,
    /// The order's currency.
    pub currency: Currency,
}

impl Orders {
    /// Opens a pending order with a freshly allocated number.
    ///
    /// # Errors
    /// `UnknownReference` when the customer does not exist; `Unavailable`.
    pub fn create(&self, cmd: CreateOrder) -> Result<Order, AppError> {
        let unknown_customer = || AppError::UnknownReference {
            field: "customer_id",
            entity: "customer",
            id: cmd.customer_id.to_string(),
        };
        if !self.ports.customers.exists(cmd.customer_id)? {
            return Err(unknown_customer());
        }
        let now = self.ports.clock.now();
        let year = u16::try_from(now.year())
            .map_err(|_| AppError::Unexpected(format!("clock year {}", now.year())))?;
        let number = self.ports.numbers.next_number(year)?;
        let mut order = Order::create(
            NewOrder {
                id: OrderId::from_uuid(self.ports.ids.new_id()),
                number,
                customer_id: cmd.customer_id,
                company_id: cmd.company_id,
                currency: cmd.currency,
            },
            now,
        );
        match self.ports.orders.insert(&order) {
            Ok(()) => {
                order.take_events();
                Ok(order)
            }
            // The customer vanished between the check and the insert (foreign key).
            Err(RepositoryError::ConstraintViolation(_)) => Err(unknown_customer()),
            Err(e) => Err(e.into()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::orders::test_support::*;
    use mockall::predicate::eq;

    fn cmd() -> CreateOrder {
        CreateOrder {
            customer_id: customer(),
            company_id: None,
            currency: Currency::USD,
        }
    }

    #[test]
    fn creates_a_pending_order_with_an_allocated_number() {
        let mut ports = Ports::new();
        ports.customers.expect_exists().returning(|_| Ok(true));
        ports
            .numbers
            .expect_next_number()
            .with(eq(2025))
            .times(1)
            .returning(|y| Ok(number(y, 42)));
        ports
            .orders
            .expect_insert()
            .withf(|o| o.pending_events().len() == 1 && o.version() == 1)
            .times(1)
            .returning(|_| Ok(()));
        let order = ports.build().create(cmd()).unwrap();
        assert_eq!(order.number().to_string(), "ORD-2025-000042");
        assert_eq!(order.status(), order_domain::OrderStatus::Pending);
        assert_eq!(order.created_at(), now());
        assert!(
            order.pending_events().is_empty(),
            "events were handed to the repository"
        );
    }

    #[test]
    fn refuses_an_unknown_customer_without_allocating_a_number() {
        let mut ports = Ports::new();
        ports.customers.expect_exists().returning(|_| Ok(false));
        ports.numbers.expect_next_number().never();
        ports.orders.expect_insert().never();
        let err = ports.build().create(cmd()).unwrap_err();
        assert_eq!(err.code(), "customer_not_found");
    }

    #[test]
    fn a_customer_deleted_meanwhile_is_still_an_unknown_customer() {
        let mut ports = Ports::new();
        ports.customers.expect_exists().returning(|_| Ok(true));
        ports
            .numbers
            .expect_next_number()
            .returning(|y| Ok(number(y, 1)));
        ports
            .orders
            .expect_insert()
            .returning(|_| Err(RepositoryError::ConstraintViolation("fk_customer".into())));
        assert!(matches!(
            ports.build().create(cmd()),
            Err(AppError::UnknownReference { .. })
        ));
    }

    #[test]
    fn storage_outage_is_unavailable() {
        let mut ports = Ports::new();
        ports
            .customers
            .expect_exists()
            .returning(|_| Err(RepositoryError::Unavailable("pool timeout".into())));
        assert!(matches!(
            ports.build().create(cmd()),
            Err(AppError::Unavailable(_))
        ));
    }
}
