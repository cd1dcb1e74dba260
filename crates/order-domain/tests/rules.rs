//! One test (at least) per rule of the description's "Business Rules",
//! "Domain Errors" and transition table.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failed test

mod support;

use order_domain::*;
use support::*;

// ----- creation -----

#[test]
fn a_new_order_is_pending_empty_zero_and_at_version_one() {
    let mut order = Order::create(
        NewOrder {
            id: OrderId::from_uuid(uuid::Uuid::now_v7()),
            number: OrderNumber::new(2025, 89_928).unwrap(),
            customer_id: CustomerId::from_uuid(uuid::Uuid::now_v7()),
            company_id: Some(CompanyId::from_uuid(uuid::Uuid::now_v7())),
            currency: Currency::EUR,
            tax_mode: TaxMode::default(),
        },
        t(0),
    );
    assert_eq!(order.status(), OrderStatus::Pending);
    assert!(order.lines().is_empty());
    for money in [
        order.subtotal(),
        order.tax(),
        order.discount(),
        order.total(),
    ] {
        assert_eq!(money, Money::zero(Currency::EUR));
    }
    assert_eq!(order.version(), 1);
    assert_eq!(order.number().to_string(), "ORD-2025-089928");
    assert!(order.company_id().is_some());
    assert_eq!((order.created_at(), order.updated_at()), (t(0), t(0)));
    let events = order.take_events();
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].kind.name(), "OrderCreated");
    assert_eq!(events[0].version, 1);
    assert!(order.take_events().is_empty(), "events are handed out once");
}

// ----- lines and totals -----

#[test]
fn adding_lines_recalculates_totals_automatically() {
    let mut order = new_order();
    order.add_line(line(product(), 3, 10_000), t(1)).unwrap();
    order.add_line(line(product(), 2, 7_500), t(2)).unwrap();
    assert_eq!(order.subtotal(), usd(45_000));
    assert_eq!(order.total(), usd(45_000));
    assert_eq!(order.lines()[0].subtotal(), usd(30_000));
    assert_eq!(order.lines()[1].subtotal(), usd(15_000));
    assert_eq!(order.updated_at(), t(2));
    assert_eq!(order.version(), 3);
}

#[test]
fn add_line_rejects_a_negative_price() {
    let mut order = new_order();
    let before = order.clone();
    assert_eq!(
        order.add_line(line(product(), 1, -1), t(1)),
        Err(DomainError::InvalidPrice { amount: -1 })
    );
    assert_eq!(order, before);
}

#[test]
fn add_line_rejects_an_absurd_price() {
    let mut order = new_order();
    assert_eq!(
        order.add_line(line(product(), 1, OrderLine::MAX_UNIT_PRICE + 1), t(1)),
        Err(DomainError::InvalidPrice {
            amount: OrderLine::MAX_UNIT_PRICE + 1
        })
    );
    order
        .add_line(line(product(), 1, OrderLine::MAX_UNIT_PRICE), t(1))
        .unwrap();
}

#[test]
fn add_line_accepts_a_zero_price() {
    let mut order = new_order();
    order.add_line(line(product(), 1, 0), t(1)).unwrap();
    assert_eq!(order.total(), usd(0));
}

#[test]
fn add_line_rejects_a_price_in_another_currency() {
    let mut order = new_order();
    let mut eur_line = line(product(), 1, 100);
    eur_line.unit_price = Money::new(100, Currency::EUR);
    assert_eq!(
        order.add_line(eur_line, t(1)),
        Err(DomainError::CurrencyMismatch {
            expected: Currency::USD,
            found: Currency::EUR
        })
    );
    assert!(order.lines().is_empty());
}

#[test]
fn quantity_must_be_positive() {
    assert!(matches!(
        Quantity::new(0),
        Err(DomainError::InvalidQuantity { quantity: 0, .. })
    ));
    assert!(matches!(
        Quantity::new(-3),
        Err(DomainError::InvalidQuantity { quantity: -3, .. })
    ));
}

#[test]
fn same_product_at_same_price_merges_into_one_line() {
    let (mut order, first) = order_with_line();
    let product = order.lines()[0].product_id();
    let merged = order.add_line(line(product, 3, 5_000), t(2)).unwrap();
    assert_eq!(merged, first);
    assert_eq!(order.lines().len(), 1);
    assert_eq!(order.lines()[0].quantity().get(), 5);
    assert_eq!(order.total(), usd(25_000));
    let events = order.take_events();
    assert!(matches!(events[0].kind, OrderEventKind::LineUpdated { .. }));
}

#[test]
fn same_product_at_another_price_is_a_separate_line() {
    let (mut order, first) = order_with_line();
    let product = order.lines()[0].product_id();
    let second = order.add_line(line(product, 1, 4_000), t(2)).unwrap();
    assert_ne!(second, first);
    assert_eq!(order.lines().len(), 2);
    assert_eq!(order.total(), usd(14_000));
}

#[test]
fn a_merge_beyond_the_maximum_quantity_is_rejected() {
    let mut order = new_order();
    let p = product();
    order
        .add_line(line(p, i64::from(Quantity::MAX), 1), t(1))
        .unwrap();
    let before = order.clone();
    assert!(matches!(
        order.add_line(line(p, 1, 1), t(2)),
        Err(DomainError::InvalidQuantity { .. })
    ));
    assert_eq!(order, before);
}

#[test]
fn a_line_subtotal_that_overflows_is_an_error() {
    let mut order = new_order();
    // 10^15 × 10^6 = 10^21 minor units: beyond i64.
    assert_eq!(
        order.add_line(
            line(
                product(),
                i64::from(Quantity::MAX),
                OrderLine::MAX_UNIT_PRICE
            ),
            t(1)
        ),
        Err(DomainError::AmountOverflow)
    );
    assert!(order.lines().is_empty());
}

#[test]
fn an_order_total_that_overflows_is_an_error() {
    let mut order = new_order();
    // Nine lines of 10^18 fit (9 × 10^18 < 9.22 × 10^18); the tenth overflows the sum.
    for _ in 0..9 {
        order
            .add_line(line(product(), 1_000, OrderLine::MAX_UNIT_PRICE), t(1))
            .unwrap();
    }
    let before = order.clone();
    assert_eq!(
        order.add_line(line(product(), 1_000, OrderLine::MAX_UNIT_PRICE), t(2)),
        Err(DomainError::AmountOverflow)
    );
    assert_eq!(order, before);
}

#[test]
fn an_order_holds_at_most_max_lines() {
    let mut order = new_order();
    for _ in 0..Order::MAX_LINES {
        order.add_line(line(product(), 1, 1), t(1)).unwrap();
    }
    assert_eq!(
        order.add_line(line(product(), 1, 1), t(1)),
        Err(DomainError::TooManyLines {
            max: Order::MAX_LINES
        })
    );
}

#[test]
fn update_line_quantity_recalculates_subtotal_and_total() {
    let (mut order, id) = order_with_line();
    order
        .update_line_quantity(id, Quantity::new(5).unwrap(), t(2))
        .unwrap();
    assert_eq!(order.line(id).unwrap().subtotal(), usd(25_000));
    assert_eq!(order.total(), usd(25_000));
    assert_eq!(order.line(id).unwrap().updated_at(), t(2));
}

#[test]
fn update_line_quantity_to_the_same_value_changes_nothing() {
    let (mut order, id) = order_with_line();
    let before = order.clone();
    order
        .update_line_quantity(id, Quantity::new(2).unwrap(), t(2))
        .unwrap();
    assert_eq!(order, before);
}

#[test]
fn remove_line_recalculates_totals() {
    let (mut order, id) = order_with_line();
    order.remove_line(id, t(2)).unwrap();
    assert!(order.lines().is_empty());
    assert_eq!(order.total(), usd(0));
}

#[test]
fn unknown_line_is_line_not_found() {
    let (mut order, _) = order_with_line();
    let missing = LineId::from_uuid(uuid::Uuid::now_v7());
    assert_eq!(
        order.remove_line(missing, t(2)),
        Err(DomainError::LineNotFound(missing))
    );
    assert_eq!(
        order.update_line_quantity(missing, Quantity::new(1).unwrap(), t(2)),
        Err(DomainError::LineNotFound(missing))
    );
}

#[test]
fn lines_are_editable_only_while_pending() {
    for status in [
        OrderStatus::Confirmed,
        OrderStatus::Processing,
        OrderStatus::Fulfilled,
        OrderStatus::Cancelled,
    ] {
        let mut order = order_in(status);
        let id = order.lines()[0].id();
        let before = order.clone();
        let expected = Err(DomainError::OrderNotEditable { status });
        assert_eq!(
            order.add_line(line(product(), 1, 1), t(9)).map(|_| ()),
            expected,
            "{status}"
        );
        assert_eq!(
            order.update_line_quantity(id, Quantity::new(9).unwrap(), t(9)),
            expected
        );
        assert_eq!(order.remove_line(id, t(9)), expected);
        assert_eq!(order.add_discount(fixed(1), t(9)).map(|_| ()), expected);
        assert!(!order.is_editable());
        assert_eq!(order, before);
    }
    assert!(order_in(OrderStatus::Pending).is_editable());
}

// ----- tax, discount, total -----

// Before issue 15 tax and discount were order-level amounts set by
// `set_tax`/`set_discount`; they are now the sums of per-line tax and of
// discounts allocated to lines, so these tests set them that way.

#[test]
fn total_is_subtotal_plus_tax_minus_discount() {
    let mut order = new_order();
    order
        .add_line(taxed_line(product(), 2, 5_000, "8"), t(1))
        .unwrap();
    order.add_discount(fixed(1_000), t(3)).unwrap();
    assert_eq!(order.subtotal(), usd(10_000));
    assert_eq!(order.discount(), usd(1_000));
    assert_eq!(order.tax(), usd(720)); // 8 % of 90.00, after the discount
    assert_eq!(order.total(), usd(9_720));
}

#[test]
fn total_is_never_negative() {
    let (mut order, id) = order_with_line();
    assert_eq!(
        order.add_discount(fixed(10_001), t(2)),
        Err(DomainError::DiscountExceedsAmount {
            discount: usd(10_001),
            available: usd(10_000)
        })
    );
    order.add_discount(fixed(10_000), t(2)).unwrap();
    assert_eq!(order.total(), usd(0));
    let before = order.clone();
    assert!(matches!(
        order.remove_line(id, t(3)),
        Err(DomainError::DiscountExceedsAmount { .. })
    ));
    assert_eq!(order, before);
}

#[test]
fn tax_and_discount_cannot_be_negative_or_in_another_currency() {
    let (mut order, _) = order_with_line();
    assert!(matches!(
        TaxRate::parse("-1"),
        Err(DomainError::InvalidTaxRate { .. })
    ));
    assert!(matches!(
        order.add_discount(fixed(-1), t(2)),
        Err(DomainError::InvalidDiscount(_))
    ));
    assert!(matches!(
        order.add_discount(
            NewDiscount {
                value: DiscountValue::Fixed(Money::new(1, Currency::EUR)),
                ..fixed(1)
            },
            t(2)
        ),
        Err(DomainError::CurrencyMismatch { .. })
    ));
}

// ----- transitions -----

#[test]
fn confirm_requires_at_least_one_line() {
    let mut order = new_order();
    assert_eq!(order.confirm(t(1)), Err(DomainError::OrderEmpty));
    assert_eq!(order.status(), OrderStatus::Pending);
}

#[test]
fn confirm_requires_pending() {
    for status in [
        OrderStatus::Confirmed,
        OrderStatus::Processing,
        OrderStatus::Fulfilled,
        OrderStatus::Cancelled,
    ] {
        let mut order = order_in(status);
        assert_eq!(
            order.confirm(t(9)),
            Err(DomainError::InvalidStatusTransition {
                from: status,
                action: OrderAction::Confirm
            })
        );
    }
}

#[test]
fn confirm_moves_pending_to_confirmed_and_stamps_the_time() {
    let (mut order, _) = order_with_line();
    order.confirm(t(5)).unwrap();
    assert_eq!(order.status(), OrderStatus::Confirmed);
    assert_eq!(order.confirmed_at(), Some(t(5)));
    assert_eq!(
        order.take_events()[0].kind,
        OrderEventKind::Confirmed { total: usd(10_000) }
    );
}

#[test]
fn process_requires_confirmed() {
    for status in [
        OrderStatus::Pending,
        OrderStatus::Processing,
        OrderStatus::Fulfilled,
        OrderStatus::Cancelled,
    ] {
        let mut order = order_in(status);
        assert_eq!(
            order.start_processing(t(9)),
            Err(DomainError::InvalidStatusTransition {
                from: status,
                action: OrderAction::StartProcessing
            })
        );
    }
    let mut order = order_in(OrderStatus::Confirmed);
    order.start_processing(t(9)).unwrap();
    assert_eq!(order.status(), OrderStatus::Processing);
    assert_eq!(order.processing_started_at(), Some(t(9)));
}

#[test]
fn fulfil_requires_processing() {
    for status in [
        OrderStatus::Pending,
        OrderStatus::Confirmed,
        OrderStatus::Fulfilled,
        OrderStatus::Cancelled,
    ] {
        let mut order = order_in(status);
        assert_eq!(
            order.mark_fulfilled(t(9)),
            Err(DomainError::InvalidStatusTransition {
                from: status,
                action: OrderAction::MarkFulfilled
            })
        );
    }
    let mut order = order_in(OrderStatus::Processing);
    order.mark_fulfilled(t(9)).unwrap();
    assert_eq!(order.status(), OrderStatus::Fulfilled);
    assert_eq!(order.fulfilled_at(), Some(t(9)));
}

#[test]
fn cancel_is_allowed_from_every_non_terminal_state() {
    for status in [
        OrderStatus::Pending,
        OrderStatus::Confirmed,
        OrderStatus::Processing,
    ] {
        let mut order = order_in(status);
        assert!(order.is_cancellable());
        order
            .cancel(Some("customer changed their mind".into()), t(9))
            .unwrap();
        assert_eq!(order.status(), OrderStatus::Cancelled);
        assert_eq!(order.cancelled_at(), Some(t(9)));
        assert_eq!(
            order.cancellation_reason(),
            Some("customer changed their mind")
        );
    }
}

#[test]
fn cancelling_a_cancelled_order_is_already_cancelled() {
    let mut order = order_in(OrderStatus::Cancelled);
    assert!(!order.is_cancellable());
    assert_eq!(order.cancel(None, t(9)), Err(DomainError::AlreadyCancelled));
}

#[test]
fn a_fulfilled_order_cannot_be_cancelled() {
    let mut order = order_in(OrderStatus::Fulfilled);
    assert!(!order.is_cancellable());
    assert_eq!(
        order.cancel(None, t(9)),
        Err(DomainError::FulfilledCannotBeCancelled)
    );
}

#[test]
fn a_cancellation_reason_is_bounded() {
    let mut order = order_in(OrderStatus::Pending);
    assert!(matches!(
        order.cancel(Some("x".repeat(Order::MAX_REASON_CHARS + 1)), t(9)),
        Err(DomainError::InvalidText {
            field: "reason",
            ..
        })
    ));
    assert_eq!(order.status(), OrderStatus::Pending);
}

#[test]
fn the_full_transition_table_holds() {
    use OrderStatus::*;
    type Op = fn(&mut Order) -> Result<(), DomainError>;
    let ops: [(&str, Op, OrderStatus); 4] = [
        ("confirm", |o| o.confirm(t(9)), Confirmed),
        ("process", |o| o.start_processing(t(9)), Processing),
        ("fulfil", |o| o.mark_fulfilled(t(9)), Fulfilled),
        ("cancel", |o| o.cancel(None, t(9)), Cancelled),
    ];
    let allowed = [
        (Pending, "confirm"),
        (Pending, "cancel"),
        (Confirmed, "process"),
        (Confirmed, "cancel"),
        (Processing, "fulfil"),
        (Processing, "cancel"),
    ];
    for from in OrderStatus::ALL {
        for (name, op, to) in ops {
            let mut order = order_in(from);
            let before = order.clone();
            let result = op(&mut order);
            if allowed.contains(&(from, name)) {
                assert_eq!(result, Ok(()), "{from} --{name}-->");
                assert_eq!(order.status(), to);
                assert_eq!(order.version(), before.version() + 1);
            } else {
                assert!(result.is_err(), "{from} --{name}--> must fail");
                assert_eq!(order, before, "{from} --{name}--> must change nothing");
            }
        }
    }
}

// ----- soft delete -----

#[test]
fn only_pending_or_cancelled_orders_can_be_deleted() {
    for status in OrderStatus::ALL {
        let mut order = order_in(status);
        let result = order.soft_delete(t(9));
        if matches!(status, OrderStatus::Pending | OrderStatus::Cancelled) {
            assert_eq!(result, Ok(()));
            assert_eq!(order.deleted_at(), Some(t(9)));
        } else {
            assert_eq!(result, Err(DomainError::NotDeletable { status }));
            assert_eq!(order.deleted_at(), None);
        }
    }
}

#[test]
fn a_deleted_order_accepts_no_change() {
    let mut order = order_in(OrderStatus::Pending);
    order.soft_delete(t(9)).unwrap();
    assert!(!order.is_editable());
    assert!(!order.is_cancellable());
    assert_eq!(order.soft_delete(t(10)), Err(DomainError::OrderDeleted));
    assert_eq!(order.confirm(t(10)), Err(DomainError::OrderDeleted));
    assert_eq!(order.cancel(None, t(10)), Err(DomainError::OrderDeleted));
    assert_eq!(
        order.add_line(line(product(), 1, 1), t(10)).map(|_| ()),
        Err(DomainError::OrderDeleted)
    );
}

// ----- events -----

#[test]
fn every_successful_change_records_one_event_in_order() {
    let mut order = new_order();
    let id = order.add_line(line(product(), 1, 100), t(1)).unwrap();
    order
        .update_line_quantity(id, Quantity::new(2).unwrap(), t(2))
        .unwrap();
    let other = order.add_line(line(product(), 1, 100), t(3)).unwrap();
    order.remove_line(other, t(4)).unwrap();
    order.confirm(t(5)).unwrap();
    order.start_processing(t(6)).unwrap();
    order.mark_fulfilled(t(7)).unwrap();
    let names: Vec<_> = order.take_events().iter().map(|e| e.kind.name()).collect();
    assert_eq!(
        names,
        [
            "OrderLineAdded",
            "OrderLineUpdated",
            "OrderLineAdded",
            "OrderLineRemoved",
            "OrderConfirmed",
            "OrderProcessingStarted",
            "OrderFulfilled"
        ]
    );
    let mut cancelled = order_in(OrderStatus::Pending);
    cancelled.cancel(None, t(1)).unwrap();
    cancelled.soft_delete(t(2)).unwrap();
    let events = cancelled.take_events();
    assert_eq!(events[0].kind.name(), "OrderCancelled");
    assert_eq!(events[1].kind.name(), "OrderDeleted");
    assert_eq!(events[1].version, cancelled.version());
}

// ----- restore -----

#[test]
fn restore_rebuilds_an_identical_order() {
    for status in OrderStatus::ALL {
        let order = order_in(status);
        assert_eq!(Order::restore(order.snapshot()), Ok(order));
    }
}

#[test]
fn restore_refuses_inconsistent_data() {
    let order = order_in(OrderStatus::Confirmed);
    let mut wrong_total = order.snapshot();
    wrong_total.total = usd(1);
    let mut wrong_line = order.snapshot();
    wrong_line.lines[0].subtotal = usd(1);
    let mut zero_quantity = order.snapshot();
    zero_quantity.lines[0].quantity = 0;
    let mut missing_stamp = order.snapshot();
    missing_stamp.confirmed_at = None;
    let mut foreign_tax = order.snapshot();
    foreign_tax.tax = Money::zero(Currency::EUR);
    for (name, snapshot) in [
        ("total", wrong_total),
        ("line subtotal", wrong_line),
        ("quantity", zero_quantity),
        ("timestamps", missing_stamp),
        ("currency", foreign_tax),
    ] {
        assert!(
            matches!(Order::restore(snapshot), Err(DomainError::CorruptOrder(_))),
            "{name}"
        );
    }
}

#[test]
fn every_error_has_a_distinct_snake_case_code() {
    let errors = [
        DomainError::InvalidQuantity {
            quantity: 0,
            max: 1,
        },
        DomainError::InvalidPrice { amount: -1 },
        DomainError::LineNotFound(LineId::from_uuid(uuid::Uuid::nil())),
        DomainError::OrderNotFound,
        DomainError::OrderEmpty,
        DomainError::OrderNotEditable {
            status: OrderStatus::Confirmed,
        },
        DomainError::AlreadyCancelled,
        DomainError::FulfilledCannotBeCancelled,
        DomainError::InvalidStatusTransition {
            from: OrderStatus::Pending,
            action: OrderAction::Confirm,
        },
        DomainError::NotDeletable {
            status: OrderStatus::Confirmed,
        },
        DomainError::OrderDeleted,
        DomainError::CurrencyMismatch {
            expected: Currency::USD,
            found: Currency::EUR,
        },
        DomainError::AmountOverflow,
        DomainError::NegativeTotal,
        DomainError::TooManyLines { max: 1 },
        DomainError::NegativeAdjustment { field: "tax" },
        DomainError::UnknownCurrency("X".into()),
        DomainError::InvalidAmount {
            input: "x".into(),
            reason: "r",
        },
        DomainError::UnknownStatus("x".into()),
        DomainError::InvalidOrderNumber("x".into()),
        DomainError::InvalidText {
            field: "f",
            reason: "r".into(),
        },
        DomainError::InvalidTaxRate {
            input: "x".into(),
            reason: "r",
        },
        DomainError::InvalidDiscount("x".into()),
        DomainError::DiscountExceedsAmount {
            discount: usd(2),
            available: usd(1),
        },
        DomainError::DiscountNotFound(DiscountId::from_uuid(uuid::Uuid::nil())),
        DomainError::DiscountCodeAlreadyApplied("x".into()),
        DomainError::TooManyDiscounts { max: 1 },
        DomainError::CorruptOrder("x".into()),
    ];
    let mut codes: Vec<_> = errors.iter().map(DomainError::code).collect();
    assert!(codes
        .iter()
        .all(|c| c.bytes().all(|b| b.is_ascii_lowercase() || b == b'_')));
    codes.sort_unstable();
    codes.dedup();
    assert_eq!(codes.len(), errors.len());
}
