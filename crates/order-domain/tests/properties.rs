//! Property tests: over arbitrary sequences of operations the aggregate's
//! invariants hold, version counts successful changes, and failures change nothing.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failed test

mod support;

use order_domain::*;
use proptest::prelude::*;
use support::*;

#[derive(Debug, Clone)]
enum Op {
    Add {
        product: usize,
        quantity: i64,
        cents: i64,
    },
    Update {
        line: usize,
        quantity: i64,
    },
    Remove {
        line: usize,
    },
    Tax(i64),
    Discount(i64),
    Confirm,
    Process,
    Fulfil,
    Cancel,
    Delete,
}

fn op() -> impl Strategy<Value = Op> {
    // Prices include huge values so overflow paths are exercised, not just happy ones.
    let cents = prop_oneof![
        0i64..100_000,
        Just(OrderLine::MAX_UNIT_PRICE),
        Just(i64::MAX / 3),
        -10i64..0
    ];
    prop_oneof![
        6 => (0usize..4, 1i64..2_000_000, cents).prop_map(|(product, quantity, cents)| Op::Add { product, quantity, cents }),
        2 => (0usize..6, 1i64..2_000_000).prop_map(|(line, quantity)| Op::Update { line, quantity }),
        2 => (0usize..6).prop_map(|line| Op::Remove { line }),
        1 => (-5i64..50_000).prop_map(Op::Tax),
        1 => (-5i64..500_000).prop_map(Op::Discount),
        1 => Just(Op::Confirm),
        1 => Just(Op::Process),
        1 => Just(Op::Fulfil),
        1 => Just(Op::Cancel),
        1 => Just(Op::Delete),
    ]
}

fn apply(
    order: &mut Order,
    products: &[ProductId],
    op: &Op,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<(), DomainError> {
    let line_id = |i: usize| {
        order
            .lines()
            .get(i % order.lines().len().max(1))
            .map(OrderLine::id)
            .unwrap_or_else(|| LineId::from_uuid(uuid::Uuid::nil()))
    };
    match *op {
        Op::Add {
            product,
            quantity,
            cents,
        } => order
            .add_line(
                line(
                    products[product],
                    quantity.min(i64::from(Quantity::MAX)),
                    cents,
                ),
                now,
            )
            .map(|_| ()),
        Op::Update { line, quantity } => {
            let id = line_id(line);
            order.update_line_quantity(id, Quantity::new(quantity)?, now)
        }
        Op::Remove { line } => {
            let id = line_id(line);
            order.remove_line(id, now)
        }
        Op::Tax(c) => order
            .add_line(taxed_line(products[0], 1, c, "19"), now)
            .map(|_| ()),
        Op::Discount(c) => order.add_discount(fixed(c), now).map(|_| ()),
        Op::Confirm => order.confirm(now),
        Op::Process => order.start_processing(now),
        Op::Fulfil => order.mark_fulfilled(now),
        Op::Cancel => order.cancel(None, now),
        Op::Delete => order.soft_delete(now),
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn invariants_hold_over_any_sequence_of_operations(ops in prop::collection::vec(op(), 1..40)) {
        let products: Vec<_> = (0..4).map(|_| product()).collect();
        let mut order = new_order();
        for (step, op) in ops.iter().enumerate() {
            let before = order.clone();
            let now = t(i64::try_from(step).unwrap() + 1);
            match apply(&mut order, &products, op, now) {
                Ok(()) => {
                    let events = order.take_events();
                    let bumped = order.version() - before.version();
                    // A no-op update is the only success that changes nothing.
                    prop_assert!(bumped <= 1, "{op:?} bumped version by {bumped}");
                    prop_assert_eq!(usize::try_from(bumped).unwrap(), events.len());
                    if bumped == 1 {
                        prop_assert_eq!(events[0].version, order.version());
                        prop_assert_eq!(order.updated_at(), now);
                    } else {
                        prop_assert_eq!(&order, &before);
                    }
                }
                Err(_) => prop_assert_eq!(&order, &before, "failed {:?} changed the order", op),
            }
            let line_sum: i128 = order.lines().iter().map(|l| i128::from(l.subtotal().amount())).sum();
            prop_assert_eq!(i128::from(order.subtotal().amount()), line_sum);
            prop_assert_eq!(
                i128::from(order.total().amount()),
                line_sum + i128::from(order.tax().amount()) - i128::from(order.discount().amount())
            );
            prop_assert!(order.total().amount() >= 0);
            for l in order.lines() {
                prop_assert_eq!(i128::from(l.subtotal().amount()), i128::from(l.quantity().get()) * i128::from(l.unit_price().amount()));
                prop_assert!(OrderLine::is_valid_unit_price(l.unit_price()));
                prop_assert!((1..=Quantity::MAX).contains(&l.quantity().get()));
            }
            // What storage keeps is enough to rebuild exactly this order.
            prop_assert_eq!(Order::restore(order.snapshot()), Ok(order.clone()));
            if order.status() != OrderStatus::Pending {
                prop_assert!(!order.lines().is_empty() || order.status() == OrderStatus::Cancelled);
            }
        }
    }
}

/// The before/after amounts an event carries, if it carries any.
fn totals_of(kind: &OrderEventKind) -> Option<(OrderTotals, OrderTotals)> {
    match kind {
        OrderEventKind::LineAdded { before, after, .. }
        | OrderEventKind::LineUpdated { before, after, .. }
        | OrderEventKind::LineRemoved { before, after, .. }
        | OrderEventKind::DiscountAdded { before, after, .. }
        | OrderEventKind::DiscountRemoved { before, after, .. } => Some((*before, *after)),
        _ => None,
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn every_event_states_the_amounts_and_status_before_and_after_its_change(ops in prop::collection::vec(op(), 1..40)) {
        let products: Vec<_> = (0..4).map(|_| product()).collect();
        let mut order = new_order();
        order.take_events();
        for (step, op) in ops.iter().enumerate() {
            let before = order.clone();
            let now = t(i64::try_from(step).unwrap() + 1);
            if apply(&mut order, &products, op, now).is_err() {
                continue;
            }
            for event in order.take_events() {
                match totals_of(&event.kind) {
                    Some((was, is)) => {
                        prop_assert_eq!(was, before.totals(), "{:?}", op);
                        prop_assert_eq!(is, order.totals(), "{:?}", op);
                    }
                    // Events without amounts are the ones that change none.
                    None => prop_assert_eq!(before.totals(), order.totals(), "{:?}", op),
                }
                match &event.kind {
                    OrderEventKind::Cancelled { previous_status, .. } => {
                        prop_assert_eq!(*previous_status, before.status());
                    }
                    OrderEventKind::Deleted { status } => prop_assert_eq!(*status, order.status()),
                    OrderEventKind::LineUpdated { line_id, old_quantity, new_quantity, old_subtotal, new_subtotal, .. } => {
                        let was = before.line(*line_id).unwrap();
                        let now_line = order.line(*line_id).unwrap();
                        prop_assert_eq!((was.quantity(), now_line.quantity()), (*old_quantity, *new_quantity));
                        prop_assert_eq!((was.subtotal(), now_line.subtotal()), (*old_subtotal, *new_subtotal));
                    }
                    OrderEventKind::LineRemoved { line_id, quantity, line_subtotal, .. } => {
                        let was = before.line(*line_id).unwrap();
                        prop_assert_eq!((was.quantity(), was.subtotal()), (*quantity, *line_subtotal));
                        prop_assert!(order.line(*line_id).is_none());
                    }
                    _ => {}
                }
            }
        }
    }
}
