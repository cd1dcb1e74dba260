//! Ship part of a processing order, and return shipped units.

use order_domain::{
    FulfillmentId, LineQuantity, NewFulfillment, NewReturn, Order, OrderId, ReturnId,
};

use super::{Orders, Write};
use crate::AppError;

/// Input of [`Orders::create_fulfillment`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShipLines {
    /// Lines and units to ship; each line once.
    pub lines: Vec<LineQuantity>,
    /// The carrier, if known.
    pub carrier: Option<String>,
    /// The tracking number, if known.
    pub tracking_number: Option<String>,
}

/// Input of [`Orders::create_return`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReturnLines {
    /// Lines and units coming back; each line once.
    pub lines: Vec<LineQuantity>,
    /// Why.
    pub reason: String,
}

impl Orders {
    /// Ships lines of a processing order; the order is fulfilled by the
    /// shipment that leaves nothing unshipped. Lost races are retried from a
    /// fresh read, so concurrent shipments are serialised and each is checked
    /// against what the others left.
    ///
    /// # Errors
    /// `NotFound`; `VersionMismatch`; the domain's `InvalidStatusTransition`,
    /// `QuantityExceedsUnshipped`, `LineNotFound`, `NoLinesGiven`,
    /// `DuplicateLine`, `InvalidText`, `TooMany`; `Unavailable`.
    pub fn create_fulfillment(
        &self,
        id: OrderId,
        cmd: ShipLines,
        write: Write,
    ) -> Result<(Order, FulfillmentId), AppError> {
        let fulfillment_id = FulfillmentId::from_uuid(self.ports.ids.new_id());
        self.modify(id, &write, |order, now| {
            order.create_fulfillment(
                NewFulfillment {
                    id: fulfillment_id,
                    lines: cmd.lines.clone(),
                    carrier: cmd.carrier.clone(),
                    tracking_number: cmd.tracking_number.clone(),
                },
                now,
            )
        })
    }

    /// Records a return of shipped units with its refund per line.
    ///
    /// # Errors
    /// `NotFound`; `VersionMismatch`; the domain's `InvalidStatusTransition`,
    /// `QuantityExceedsReturnable`, `LineNotFound`, `NoLinesGiven`,
    /// `DuplicateLine`, `InvalidText`, `TooMany`; `Unavailable`.
    pub fn create_return(
        &self,
        id: OrderId,
        cmd: ReturnLines,
        write: Write,
    ) -> Result<(Order, ReturnId), AppError> {
        let return_id = ReturnId::from_uuid(self.ports.ids.new_id());
        self.modify(id, &write, |order, now| {
            order.create_return(
                NewReturn {
                    id: return_id,
                    lines: cmd.lines.clone(),
                    reason: cmd.reason.clone(),
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
    use order_domain::{OrderStatus, Quantity};

    fn one_of_first_line(order: &Order, n: i64) -> Vec<LineQuantity> {
        vec![LineQuantity {
            line_id: order.lines()[0].id(),
            quantity: Quantity::new(n).unwrap(),
        }]
    }

    #[test]
    fn a_shipment_is_saved_against_the_loaded_version_and_named() {
        let order = order_in(OrderStatus::Processing);
        let (id, version) = (order.id(), order.version());
        let lines = one_of_first_line(&order, 1);
        let mut ports = Ports::new();
        ports.stored(order);
        ports
            .orders
            .expect_update()
            .withf(move |o, expected, _| *expected == version && o.fulfillments().len() == 1)
            .times(1)
            .returning(|_, _, _| Ok(()));
        let (saved, fulfillment) = ports
            .build()
            .create_fulfillment(
                id,
                ShipLines {
                    lines,
                    carrier: Some("DHL".into()),
                    tracking_number: None,
                },
                Write::default(),
            )
            .unwrap();
        assert_eq!(
            saved.fulfillment(fulfillment).unwrap().carrier(),
            Some("DHL")
        );
        assert_eq!(saved.status(), OrderStatus::Processing);
    }

    #[test]
    fn a_shipment_that_lost_the_race_is_checked_again_against_the_winner() {
        // The first read sees 2 unshipped; the winner shipped one meanwhile.
        let before = order_in(OrderStatus::Processing);
        let id = before.id();
        let lines = one_of_first_line(&before, 2);
        let mut after = before.clone();
        after
            .create_fulfillment(
                NewFulfillment {
                    id: FulfillmentId::from_uuid(uuid::Uuid::now_v7()),
                    lines: one_of_first_line(&before, 1),
                    carrier: None,
                    tracking_number: None,
                },
                now(),
            )
            .unwrap();
        after.take_events();
        let mut ports = Ports::new();
        let mut reads = vec![after, before];
        ports
            .orders
            .expect_find_by_id()
            .times(2)
            .returning(move |_| Ok(reads.pop()));
        ports
            .orders
            .expect_update()
            .times(1)
            .returning(|_, expected, _| Err(RepositoryError::Conflict { expected }));
        let err = ports
            .build()
            .create_fulfillment(
                id,
                ShipLines {
                    lines,
                    carrier: None,
                    tracking_number: None,
                },
                Write::default(),
            )
            .unwrap_err();
        assert_eq!(domain_code(&err), "quantity_exceeds_unshipped");
    }

    #[test]
    fn a_return_is_saved_with_its_refund() {
        let order = order_in(OrderStatus::Fulfilled);
        let id = order.id();
        let lines = one_of_first_line(&order, 1);
        let mut ports = Ports::new();
        ports.stored(order);
        ports
            .orders
            .expect_update()
            .times(1)
            .returning(|_, _, _| Ok(()));
        let (saved, return_id) = ports
            .build()
            .create_return(
                id,
                ReturnLines {
                    lines,
                    reason: "damaged".into(),
                },
                Write::default(),
            )
            .unwrap();
        // One of 2 × 50.00.
        assert_eq!(
            saved
                .return_by_id(return_id)
                .unwrap()
                .refund_amount()
                .amount(),
            5_000
        );
    }

    #[test]
    fn a_return_of_an_unshipped_order_changes_nothing() {
        let order = order_in(OrderStatus::Confirmed);
        let id = order.id();
        let lines = one_of_first_line(&order, 1);
        let mut ports = Ports::new();
        ports.stored(order);
        ports.orders.expect_update().never();
        let err = ports
            .build()
            .create_return(
                id,
                ReturnLines {
                    lines,
                    reason: "x".into(),
                },
                Write::default(),
            )
            .unwrap_err();
        assert_eq!(domain_code(&err), "invalid_order_status");
    }
}
