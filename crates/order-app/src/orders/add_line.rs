//! Add a product line to a pending order.

use order_domain::{
    LineId, LineTax, Money, NewLine, Order, OrderId, ProductId, ProductSnapshot, Quantity,
};

use super::{Orders, Write};
use crate::AppError;

/// Input of [`Orders::add_line`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AddLine {
    /// The product.
    pub product_id: ProductId,
    /// Units.
    pub quantity: Quantity,
    /// Price of one unit, in the order's currency.
    pub unit_price: Money,
    /// Description and SKU at the time of ordering.
    pub snapshot: ProductSnapshot,
    /// Tax rate and category (untaxed by default).
    pub tax: LineTax,
}

impl Orders {
    /// Adds a line (or merges it into the line with the same product, price
    /// and tax) and returns the order with the id of the line holding the
    /// product; every line is priced again (discount shares, tax, totals).
    ///
    /// # Errors
    /// `NotFound`; `VersionMismatch` when `expected_version` is stale; the
    /// domain's `OrderNotEditable`, `CurrencyMismatch`, `InvalidPrice`,
    /// `InvalidQuantity`, `AmountOverflow`, `TooManyLines`; `Unavailable`.
    pub fn add_line(
        &self,
        id: OrderId,
        cmd: AddLine,
        write: Write,
    ) -> Result<(Order, LineId), AppError> {
        let line_id = LineId::from_uuid(self.ports.ids.new_id());
        self.modify(id, &write, |order, now| {
            order.add_line(
                NewLine {
                    line_id,
                    product_id: cmd.product_id,
                    quantity: cmd.quantity,
                    unit_price: cmd.unit_price,
                    snapshot: cmd.snapshot.clone(),
                    tax: cmd.tax.clone(),
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
    use crate::RepositoryError;
    use crate::Write;
    use order_domain::{Currency, DomainError, OrderStatus};

    fn cmd(quantity: i64, cents: i64) -> AddLine {
        AddLine {
            product_id: product(),
            quantity: Quantity::new(quantity).unwrap(),
            unit_price: Money::new(cents, Currency::USD),
            snapshot: ProductSnapshot::default(),
            tax: LineTax::default(),
        }
    }

    #[test]
    fn adds_the_line_and_saves_against_the_loaded_version() {
        let order = pending_order();
        let id = order.id();
        let mut ports = Ports::new();
        ports.stored(order);
        ports
            .orders
            .expect_update()
            .withf(|o, expected, _| {
                *expected == 1 && o.version() == 2 && o.total().amount() == 30_000
            })
            .times(1)
            .returning(|_, _, _| Ok(()));
        let (saved, line_id) = ports
            .build()
            .add_line(id, cmd(3, 10_000), Write::default())
            .unwrap();
        assert_eq!(saved.line(line_id).unwrap().quantity().get(), 3);
        assert!(saved.pending_events().is_empty());
    }

    #[test]
    fn a_lost_race_without_precondition_is_retried_from_a_fresh_read() {
        let order = pending_order();
        let id = order.id();
        let mut ports = Ports::new();
        ports
            .orders
            .expect_find_by_id()
            .times(2)
            .returning(move |_| Ok(Some(order.clone())));
        let mut calls = 0;
        ports
            .orders
            .expect_update()
            .times(2)
            .returning(move |_, _, _| {
                calls += 1;
                if calls == 1 {
                    Err(RepositoryError::Conflict { expected: 1 })
                } else {
                    Ok(())
                }
            });
        assert!(ports
            .build()
            .add_line(id, cmd(1, 1), Write::default())
            .is_ok());
    }

    #[test]
    fn endless_contention_gives_up_with_conflict() {
        let order = pending_order();
        let id = order.id();
        let mut ports = Ports::new();
        ports.stored(order);
        ports
            .orders
            .expect_update()
            .times(Orders::MAX_ATTEMPTS)
            .returning(|_, v, _| Err(RepositoryError::Conflict { expected: v }));
        assert!(matches!(
            ports.build().add_line(id, cmd(1, 1), Write::default()),
            Err(AppError::Conflict(_))
        ));
    }

    #[test]
    fn a_stale_precondition_is_a_version_mismatch_and_writes_nothing() {
        let order = pending_order();
        let id = order.id();
        let mut ports = Ports::new();
        ports.stored(order);
        ports.orders.expect_update().never();
        assert_eq!(
            ports.build().add_line(id, cmd(1, 1), Write::if_version(7)),
            Err(AppError::VersionMismatch {
                expected: 7,
                actual: 1
            })
        );
    }

    #[test]
    fn a_race_lost_with_a_precondition_is_a_version_mismatch_not_a_retry() {
        let order = pending_order();
        let id = order.id();
        let mut ports = Ports::new();
        ports.stored(order);
        ports
            .orders
            .expect_update()
            .times(1)
            .returning(|_, _, _| Err(RepositoryError::Conflict { expected: 1 }));
        assert!(matches!(
            ports.build().add_line(id, cmd(1, 1), Write::if_version(1)),
            Err(AppError::VersionMismatch { expected: 1, .. })
        ));
    }

    #[test]
    fn domain_refusals_write_nothing() {
        let confirmed = order_in(OrderStatus::Confirmed);
        let id = confirmed.id();
        let mut ports = Ports::new();
        ports.stored(confirmed);
        ports.orders.expect_update().never();
        assert_eq!(
            ports.build().add_line(id, cmd(1, 1), Write::default()),
            Err(AppError::Domain(DomainError::OrderNotEditable {
                status: OrderStatus::Confirmed
            }))
        );
    }

    #[test]
    fn a_price_in_another_currency_is_refused() {
        let order = pending_order();
        let id = order.id();
        let mut ports = Ports::new();
        ports.stored(order);
        ports.orders.expect_update().never();
        let mut eur = cmd(1, 1);
        eur.unit_price = Money::new(1, Currency::EUR);
        assert!(matches!(
            ports.build().add_line(id, eur, Write::default()),
            Err(AppError::Domain(DomainError::CurrencyMismatch { .. }))
        ));
    }

    #[test]
    fn unknown_order_is_not_found() {
        let mut ports = Ports::new();
        ports.orders.expect_find_by_id().returning(|_| Ok(None));
        assert!(matches!(
            ports
                .build()
                .add_line(order_id(), cmd(1, 1), Write::default()),
            Err(AppError::NotFound {
                entity: "order",
                ..
            })
        ));
    }

    #[test]
    fn an_order_deleted_between_read_and_write_is_not_found() {
        let order = pending_order();
        let id = order.id();
        let mut ports = Ports::new();
        ports.stored(order);
        ports
            .orders
            .expect_update()
            .returning(|_, _, _| Err(RepositoryError::NotFound));
        assert!(matches!(
            ports.build().add_line(id, cmd(1, 1), Write::default()),
            Err(AppError::NotFound {
                entity: "order",
                ..
            })
        ));
    }

    #[test]
    fn an_idempotent_add_line_stores_the_line_it_touched_with_the_order() {
        use crate::idempotency::{ClaimedKey, IdempotencyKey};
        let order = pending_order();
        let id = order.id();
        let mut ports = Ports::new();
        ports.stored(order);
        let claim = ClaimedKey {
            key: IdempotencyKey {
                scope: "s".into(),
                key: "k".into(),
            },
            token: "t".into(),
        };
        let expected = claim.clone();
        ports
            .orders
            .expect_update()
            .withf(move |o, _, receipt| {
                let line = o.lines()[0].id();
                receipt.is_some_and(|r| r.line == Some(line) && r.claim == expected)
            })
            .times(1)
            .returning(|_, _, _| Ok(()));
        let write = Write {
            expected_version: None,
            claim: Some(claim),
            ..Write::default()
        };
        assert!(ports.build().add_line(id, cmd(1, 1), write).is_ok());
    }

    #[test]
    fn the_writer_is_recorded_on_the_event_it_stores() {
        let order = pending_order();
        let id = order.id();
        let mut ports = Ports::new();
        ports
            .orders
            .expect_find_by_id()
            .returning(move |_| Ok(Some(order.clone())));
        ports
            .orders
            .expect_update()
            .withf(|o, _, _| {
                o.pending_events().len() == 1 && o.pending_events()[0].actor.id() == "clerk-7"
            })
            .times(1)
            .returning(|_, _, _| Ok(()));
        let write = Write {
            actor: order_domain::Actor::new("clerk-7", None).unwrap(),
            ..Write::default()
        };
        assert!(ports.build().add_line(id, cmd(1, 1), write).is_ok());
    }
}
