//! Create an order for an existing customer.

use chrono::Datelike;
use order_domain::{Actor, CompanyId, Currency, CustomerId, NewOrder, Order, OrderId, TaxMode};

use super::Orders;
use crate::idempotency::{ClaimedKey, Receipt};
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
    /// Who creates it (recorded on its first event).
    pub actor: Actor,
    /// Whether its prices include tax ([`TaxMode::Exclusive`] by default).
    pub tax_mode: TaxMode,
}

impl Orders {
    /// Opens a pending order with a freshly allocated number (numbers may have
    /// gaps: one is used up by a refused create); with a `claim`, the
    /// claim is completed with the order in the same transaction.
    ///
    /// # Errors
    /// `UnknownReference` when the customer does not exist; `Conflict` when
    /// the idempotency claim was lost; `Unavailable`.
    pub fn create(&self, cmd: CreateOrder, claim: Option<ClaimedKey>) -> Result<Order, AppError> {
        if self.customer.is_some_and(|only| only != cmd.customer_id) {
            // Answered like an unknown customer: whether it exists is not the caller's business.
            return Err(RepositoryError::UnknownCustomer(cmd.customer_id).into());
        }
        // No existence check first: the repository reports an unknown
        // customer (`UnknownCustomer`, from the store's foreign key) in the
        // statement that inserts the order, which saves a round trip per
        // create. The price is a gap in the order numbers.
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
                tax_mode: cmd.tax_mode,
            },
            now,
        );
        order.attribute_pending_events(&cmd.actor);
        let receipt = claim.map(|claim| Receipt { claim, line: None });
        self.ports.orders.insert(&order, receipt.as_ref())?;
        order.take_events();
        Ok(order)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::orders::test_support::*;
    use crate::RepositoryError;
    use mockall::predicate::eq;

    fn cmd() -> CreateOrder {
        CreateOrder {
            customer_id: customer(),
            company_id: None,
            currency: Currency::USD,
            actor: Actor::anonymous(),
            tax_mode: TaxMode::default(),
        }
    }

    #[test]
    fn creates_a_pending_order_with_an_allocated_number() {
        let mut ports = Ports::new();
        ports
            .numbers
            .expect_next_number()
            .with(eq(2025))
            .times(1)
            .returning(|y| Ok(number(y, 42)));
        ports
            .orders
            .expect_insert()
            .withf(|o, receipt| {
                o.pending_events().len() == 1 && o.version() == 1 && receipt.is_none()
            })
            .times(1)
            .returning(|_, _| Ok(()));
        let order = ports.build().create(cmd(), None).unwrap();
        assert_eq!(order.number().to_string(), "ORD-2025-000042");
        assert_eq!(order.status(), order_domain::OrderStatus::Pending);
        assert_eq!(order.created_at(), now());
        assert!(
            order.pending_events().is_empty(),
            "events were handed to the repository"
        );
    }

    #[test]
    fn the_creator_is_recorded_on_the_created_event() {
        let mut ports = Ports::new();
        ports
            .numbers
            .expect_next_number()
            .returning(|y| Ok(number(y, 1)));
        ports
            .orders
            .expect_insert()
            .withf(|o, _| o.pending_events()[0].actor.name() == "Ada")
            .times(1)
            .returning(|_, _| Ok(()));
        let cmd = CreateOrder {
            actor: Actor::new("clerk-7", Some("Ada")).unwrap(),
            ..cmd()
        };
        assert!(ports.build().create(cmd, None).is_ok());
    }

    #[test]
    fn an_unknown_customer_refused_by_the_store_is_customer_not_found() {
        let mut ports = Ports::new();
        ports.customers.expect_exists().never();
        ports
            .numbers
            .expect_next_number()
            .returning(|y| Ok(number(y, 1)));
        ports
            .orders
            .expect_insert()
            .returning(|o, _| Err(RepositoryError::UnknownCustomer(o.customer_id())));
        let err = ports.build().create(cmd(), None).unwrap_err();
        assert!(matches!(
            err,
            AppError::UnknownReference {
                field: "customer_id",
                entity: "customer",
                ..
            }
        ));
    }

    #[test]
    fn any_other_constraint_violation_is_a_bug_not_bad_input() {
        let mut ports = Ports::new();
        ports
            .numbers
            .expect_next_number()
            .returning(|y| Ok(number(y, 1)));
        ports
            .orders
            .expect_insert()
            .returning(|_, _| Err(RepositoryError::ConstraintViolation("check_total".into())));
        assert!(matches!(
            ports.build().create(cmd(), None),
            Err(AppError::Unexpected(_))
        ));
    }

    #[test]
    fn a_restricted_caller_opens_orders_for_its_customer_only() {
        let mut ports = Ports::new();
        ports.numbers.expect_next_number().never();
        ports.orders.expect_insert().never();
        let orders = ports.build().restricted_to(Some(customer()));
        let err = orders.create(cmd(), None).unwrap_err();
        assert!(matches!(
            err,
            AppError::UnknownReference {
                entity: "customer",
                ..
            }
        ));

        let mut ports = Ports::new();
        ports
            .numbers
            .expect_next_number()
            .returning(|y| Ok(number(y, 3)));
        ports
            .orders
            .expect_insert()
            .times(1)
            .returning(|_, _| Ok(()));
        let own = cmd();
        let orders = ports.build().restricted_to(Some(own.customer_id));
        assert_eq!(
            orders.create(own.clone(), None).unwrap().customer_id(),
            own.customer_id
        );
    }

    #[test]
    fn storage_outage_is_unavailable() {
        let mut ports = Ports::new();
        ports
            .numbers
            .expect_next_number()
            .returning(|_| Err(RepositoryError::Unavailable("pool timeout".into())));
        ports.orders.expect_insert().never();
        assert!(matches!(
            ports.build().create(cmd(), None),
            Err(AppError::Unavailable(_))
        ));
    }

    fn claim() -> ClaimedKey {
        ClaimedKey {
            key: crate::idempotency::IdempotencyKey {
                scope: "create_order".into(),
                key: "k1".into(),
            },
            token: "t1".into(),
        }
    }

    #[test]
    fn an_idempotent_create_completes_its_claim_with_the_order_write() {
        let mut ports = Ports::new();
        ports
            .numbers
            .expect_next_number()
            .returning(|y| Ok(number(y, 7)));
        ports
            .orders
            .expect_insert()
            .withf(|o, receipt| {
                o.number().to_string() == "ORD-2025-000007"
                    && receipt.is_some_and(|r| {
                        *r == Receipt {
                            claim: claim(),
                            line: None,
                        }
                    })
            })
            .times(1)
            .returning(|_, _| Ok(()));
        assert!(ports.build().create(cmd(), Some(claim())).is_ok());
    }

    #[test]
    fn a_lost_idempotency_claim_is_a_conflict() {
        let mut ports = Ports::new();
        ports
            .numbers
            .expect_next_number()
            .returning(|y| Ok(number(y, 7)));
        ports
            .orders
            .expect_insert()
            .returning(|_, _| Err(RepositoryError::ClaimLost));
        assert!(matches!(
            ports.build().create(cmd(), Some(claim())),
            Err(AppError::Conflict(_))
        ));
    }
}
