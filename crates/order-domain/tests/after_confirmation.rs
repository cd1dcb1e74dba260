//! Shipments, returns and edits after confirmation: the rules of issue 16.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failed test

mod support;

use order_domain::*;
use proptest::prelude::*;
use support::*;
use uuid::Uuid;

fn q(n: i64) -> Quantity {
    Quantity::new(n).unwrap()
}

fn lq(line_id: LineId, n: i64) -> LineQuantity {
    LineQuantity {
        line_id,
        quantity: q(n),
    }
}

fn ship(lines: Vec<LineQuantity>) -> NewFulfillment {
    NewFulfillment {
        id: FulfillmentId::from_uuid(Uuid::now_v7()),
        lines,
        carrier: Some("DHL".into()),
        tracking_number: Some("JD0001".into()),
    }
}

fn give_back(lines: Vec<LineQuantity>) -> NewReturn {
    NewReturn {
        id: ReturnId::from_uuid(Uuid::now_v7()),
        lines,
        reason: "damaged".into(),
    }
}

/// A processing order: 3 × 33.33 at 19 % and 2 × 10.00 untaxed, 10 % off.
fn processing_order() -> (Order, LineId, LineId) {
    let mut order = new_order();
    let a = order
        .add_line(taxed_line(product(), 3, 3_333, "19"), t(1))
        .unwrap();
    let b = order.add_line(line(product(), 2, 1_000), t(2)).unwrap();
    order.add_discount(percent_off("10"), t(3)).unwrap();
    order.confirm(t(4)).unwrap();
    order.start_processing(t(5)).unwrap();
    order.take_events();
    (order, a, b)
}

fn roundtrips(order: &Order) {
    let mut clean = order.clone();
    clean.take_events();
    assert_eq!(Order::restore(clean.snapshot()), Ok(clean));
}

// ----- shipments -----

#[test]
fn shipping_in_parts_moves_fulfillment_status_and_fulfils_when_everything_shipped() {
    let (mut order, a, b) = processing_order();
    assert_eq!(order.fulfillment_status(), FulfillmentStatus::Unfulfilled);
    let first = order
        .create_fulfillment(ship(vec![lq(a, 2)]), t(6))
        .unwrap();
    assert_eq!(
        order.fulfillment_status(),
        FulfillmentStatus::PartiallyFulfilled
    );
    assert_eq!(order.status(), OrderStatus::Processing);
    assert_eq!(order.progress(a).unwrap().shipped, 2);
    assert_eq!(order.fulfillment(first).unwrap().carrier(), Some("DHL"));
    roundtrips(&order);

    order
        .create_fulfillment(ship(vec![lq(a, 1), lq(b, 2)]), t(7))
        .unwrap();
    assert_eq!(order.fulfillment_status(), FulfillmentStatus::Fulfilled);
    assert_eq!(order.status(), OrderStatus::Fulfilled);
    assert_eq!(order.fulfilled_at(), Some(t(7)));
    let events = order.take_events();
    assert_eq!(events.len(), 2, "one event per shipment");
    match &events[1].kind {
        OrderEventKind::FulfillmentCreated {
            fulfillment_status,
            status,
            lines,
            ..
        } => {
            assert_eq!(*fulfillment_status, FulfillmentStatus::Fulfilled);
            assert_eq!(*status, OrderStatus::Fulfilled);
            assert_eq!(lines, &vec![lq(a, 1), lq(b, 2)]);
        }
        other => panic!("unexpected {other:?}"),
    }
    roundtrips(&order);
}

#[test]
fn a_shipment_can_never_exceed_what_is_unshipped() {
    let (mut order, a, b) = processing_order();
    order
        .create_fulfillment(ship(vec![lq(a, 2)]), t(6))
        .unwrap();
    let before = order.clone();
    assert_eq!(
        order.create_fulfillment(ship(vec![lq(b, 1), lq(a, 2)]), t(7)),
        Err(DomainError::QuantityExceedsUnshipped {
            line_id: a,
            requested: 2,
            available: 1
        })
    );
    assert_eq!(order, before, "a refused shipment changes nothing");
    assert_eq!(
        order.create_fulfillment(ship(vec![]), t(7)),
        Err(DomainError::NoLinesGiven)
    );
    assert_eq!(
        order.create_fulfillment(ship(vec![lq(b, 1), lq(b, 1)]), t(7)),
        Err(DomainError::DuplicateLine(b))
    );
    let ghost = LineId::from_uuid(Uuid::now_v7());
    assert_eq!(
        order.create_fulfillment(ship(vec![lq(ghost, 1)]), t(7)),
        Err(DomainError::LineNotFound(ghost))
    );
    assert_eq!(order, before);
}

#[test]
fn only_processing_orders_ship() {
    for status in [
        OrderStatus::Pending,
        OrderStatus::Confirmed,
        OrderStatus::Fulfilled,
        OrderStatus::Cancelled,
    ] {
        let mut order = order_in(status);
        let line = order.lines()[0].id();
        assert_eq!(
            order.create_fulfillment(ship(vec![lq(line, 1)]), t(9)),
            Err(DomainError::InvalidStatusTransition {
                from: status,
                action: OrderAction::Ship
            })
        );
    }
}

#[test]
fn mark_fulfilled_ships_the_remainder_in_one_change() {
    let (mut order, a, b) = processing_order();
    order
        .create_fulfillment(ship(vec![lq(a, 1)]), t(6))
        .unwrap();
    order.take_events();
    let version = order.version();
    let remainder = FulfillmentId::from_uuid(Uuid::now_v7());
    order.mark_fulfilled_as(remainder, t(7)).unwrap();
    assert_eq!(order.version(), version + 1);
    assert_eq!(order.status(), OrderStatus::Fulfilled);
    assert_eq!(
        order.fulfillment(remainder).unwrap().lines(),
        &[lq(a, 2), lq(b, 2)]
    );
    assert!(order.line_progress().iter().all(|p| p.unshipped() == 0));
    assert_eq!(
        order.take_events()[0].kind,
        OrderEventKind::Fulfilled {
            fulfillment_id: Some(remainder),
            lines: vec![lq(a, 2), lq(b, 2)]
        }
    );
    roundtrips(&order);
}

#[test]
fn an_order_that_shipped_anything_cannot_be_cancelled() {
    let (mut order, a, _) = processing_order();
    assert!(order.is_cancellable());
    order
        .create_fulfillment(ship(vec![lq(a, 1)]), t(6))
        .unwrap();
    assert!(!order.is_cancellable());
    let before = order.clone();
    assert_eq!(
        order.cancel(Some("too late".into()), t(7)),
        Err(DomainError::OrderHasShipments)
    );
    assert_eq!(order, before);
    assert_eq!(DomainError::OrderHasShipments.code(), "order_has_shipments");
}

#[test]
fn restore_refuses_shipments_that_break_the_rules() {
    let (mut order, a, _) = processing_order();
    order
        .create_fulfillment(ship(vec![lq(a, 2)]), t(6))
        .unwrap();
    order.take_events();
    let mut over = order.snapshot();
    over.fulfillments[0].lines[0].quantity = q(4);
    let mut ghost = order.snapshot();
    ghost.fulfillments[0].lines[0].line_id = LineId::from_uuid(Uuid::now_v7());
    let mut confirmed = order.snapshot();
    confirmed.status = OrderStatus::Confirmed;
    for (name, bad) in [("over", over), ("ghost", ghost), ("confirmed", confirmed)] {
        assert!(
            matches!(Order::restore(bad), Err(DomainError::CorruptOrder(_))),
            "{name}"
        );
    }
}

// ----- returns -----

#[test]
fn returning_every_unit_in_parts_refunds_exactly_what_was_paid() {
    let (mut order, a, b) = processing_order();
    order.mark_fulfilled(t(6)).unwrap();
    let paid_a = order.line(a).unwrap().total();
    // 3 × 33.33 = 99.99, 10 % off → 89.99 (share), +19 % tax.
    assert!(paid_a.amount() > 0);
    let mut refunds = Vec::new();
    for (i, n) in [1, 1, 1].into_iter().enumerate() {
        let id = order
            .create_return(give_back(vec![lq(a, n)]), t(7 + i64::try_from(i).unwrap()))
            .unwrap();
        refunds.push(order.return_by_id(id).unwrap().refund_amount().amount());
    }
    assert_eq!(refunds.iter().sum::<i64>(), paid_a.amount());
    assert!(refunds.iter().all(|r| (r - paid_a.amount() / 3).abs() <= 1));
    assert_eq!(order.progress(a).unwrap().refunded, paid_a);
    assert_eq!(order.return_status(), ReturnStatus::PartiallyReturned);
    order
        .create_return(give_back(vec![lq(b, 2)]), t(20))
        .unwrap();
    assert_eq!(order.return_status(), ReturnStatus::Returned);
    assert_eq!(order.refunded_total(), order.total());
    assert_eq!(order.returned_units(), 5);
    roundtrips(&order);
}

#[test]
fn a_return_is_limited_to_shipped_and_not_yet_returned_units() {
    let (mut order, a, b) = processing_order();
    order
        .create_fulfillment(ship(vec![lq(a, 2)]), t(6))
        .unwrap();
    order
        .create_return(give_back(vec![lq(a, 1)]), t(7))
        .unwrap();
    let before = order.clone();
    assert_eq!(
        order.create_return(give_back(vec![lq(a, 2)]), t(8)),
        Err(DomainError::QuantityExceedsReturnable {
            line_id: a,
            requested: 2,
            available: 1
        })
    );
    assert_eq!(
        order.create_return(give_back(vec![lq(b, 1)]), t(8)),
        Err(DomainError::QuantityExceedsReturnable {
            line_id: b,
            requested: 1,
            available: 0
        })
    );
    let blank = NewReturn {
        reason: "   ".into(),
        ..give_back(vec![lq(a, 1)])
    };
    assert!(matches!(
        order.create_return(blank, t(8)),
        Err(DomainError::InvalidText {
            field: "reason",
            ..
        })
    ));
    assert_eq!(order, before);
    let mut confirmed = order_in(OrderStatus::Confirmed);
    let line = confirmed.lines()[0].id();
    assert!(matches!(
        confirmed.create_return(give_back(vec![lq(line, 1)]), t(9)),
        Err(DomainError::InvalidStatusTransition {
            action: OrderAction::Return,
            ..
        })
    ));
}

#[test]
fn a_return_event_carries_what_billing_needs() {
    let (mut order, a, _) = processing_order();
    order
        .create_fulfillment(ship(vec![lq(a, 3)]), t(6))
        .unwrap();
    order.take_events();
    let id = order
        .create_return(give_back(vec![lq(a, 2)]), t(7))
        .unwrap();
    let events = order.take_events();
    assert_eq!(events.len(), 1);
    let r = order.return_by_id(id).unwrap();
    assert_eq!(
        events[0].kind,
        OrderEventKind::ReturnCreated {
            return_id: id,
            lines: r.lines().to_vec(),
            reason: "damaged".into(),
            refund_amount: r.refund_amount(),
            return_status: ReturnStatus::PartiallyReturned,
        }
    );
    assert_eq!(events[0].kind.name(), "OrderReturnCreated");
}

#[test]
fn the_cumulative_refund_rounds_down_until_the_last_unit() {
    let zero = usd(0);
    // 10.00 over 3 units, one at a time: 3.33, 3.33, 3.34.
    let one = cumulative_refund(usd(1_000), 3, 0, zero, 1).unwrap();
    let two = cumulative_refund(usd(1_000), 3, 1, one, 1).unwrap();
    let three = cumulative_refund(usd(1_000), 3, 2, usd(666), 1).unwrap();
    assert_eq!((one, two, three), (usd(333), usd(333), usd(334)));
    // Never past what is left, never negative.
    assert_eq!(cumulative_refund(usd(1_000), 3, 2, usd(1_000), 1), Ok(zero));
    assert_eq!(cumulative_refund(usd(0), 3, 0, zero, 3), Ok(zero));
}

// ----- edits -----

fn edit_id() -> EditId {
    EditId::from_uuid(Uuid::now_v7())
}

#[test]
fn an_edit_stages_without_touching_the_order_and_commits_once() {
    let (mut order, a, b) = processing_order();
    let untouched = order.clone();
    let mut edit = order.begin_edit(edit_id(), t(6)).unwrap();
    let added = line(product(), 1, 2_500);
    let added_id = added.line_id;
    order
        .stage_edit(&mut edit, EditChange::AddLine(added), t(7))
        .unwrap();
    order
        .stage_edit(
            &mut edit,
            EditChange::SetQuantity {
                line_id: a,
                quantity: q(1),
            },
            t(7),
        )
        .unwrap();
    order
        .stage_edit(&mut edit, EditChange::RemoveLine { line_id: b }, t(7))
        .unwrap();
    assert_eq!(order, untouched, "staging never changes the order");
    let preview = order.preview_edit(&edit, t(8)).unwrap();
    assert_eq!(preview.before, order.totals());
    assert_eq!(
        preview.difference.amount(),
        preview.after.total.amount() - preview.before.total.amount()
    );
    assert_eq!(preview.diff.len(), 3);

    let version = order.version();
    let committed = order.commit_edit(&mut edit, t(9)).unwrap();
    assert_eq!(committed, preview);
    assert_eq!(order.version(), version + 1);
    assert_eq!(order.totals(), preview.after);
    assert_eq!(order.line(a).unwrap().quantity(), q(1));
    assert!(order.line(b).is_none());
    assert!(order.line(added_id).is_some());
    assert_eq!(edit.state(), EditState::Committed);
    let events = order.take_events();
    assert_eq!(events.len(), 1);
    assert!(matches!(&events[0].kind, OrderEventKind::Edited { diff, .. } if diff.len() == 3));
    roundtrips(&order);
    assert_eq!(
        order.commit_edit(&mut edit, t(10)),
        Err(DomainError::EditNotOpen {
            state: EditState::Committed
        })
    );
}

#[test]
fn an_edit_never_goes_below_what_shipped() {
    let (mut order, a, b) = processing_order();
    order
        .create_fulfillment(ship(vec![lq(a, 2)]), t(6))
        .unwrap();
    let mut edit = order.begin_edit(edit_id(), t(7)).unwrap();
    assert_eq!(
        order.stage_edit(
            &mut edit,
            EditChange::SetQuantity {
                line_id: a,
                quantity: q(1)
            },
            t(7)
        ),
        Err(DomainError::QuantityBelowShipped {
            line_id: a,
            shipped: 2
        })
    );
    assert_eq!(
        order.stage_edit(&mut edit, EditChange::RemoveLine { line_id: a }, t(7)),
        Err(DomainError::QuantityBelowShipped {
            line_id: a,
            shipped: 2
        })
    );
    assert!(edit.changes().is_empty(), "a refused change is not staged");
    // Lowering to exactly what shipped and removing the unshipped line
    // leaves nothing to ship: the commit fulfils the order.
    order
        .stage_edit(
            &mut edit,
            EditChange::SetQuantity {
                line_id: a,
                quantity: q(2),
            },
            t(7),
        )
        .unwrap();
    order
        .stage_edit(&mut edit, EditChange::RemoveLine { line_id: b }, t(7))
        .unwrap();
    order.commit_edit(&mut edit, t(8)).unwrap();
    assert_eq!(order.status(), OrderStatus::Fulfilled);
    assert_eq!(order.fulfillment_status(), FulfillmentStatus::Fulfilled);
    roundtrips(&order);
}

#[test]
fn an_edit_of_a_changed_order_is_stale_and_changes_nothing() {
    let (mut order, a, _) = processing_order();
    let mut edit = order.begin_edit(edit_id(), t(6)).unwrap();
    order
        .stage_edit(
            &mut edit,
            EditChange::SetQuantity {
                line_id: a,
                quantity: q(5),
            },
            t(6),
        )
        .unwrap();
    order
        .create_fulfillment(ship(vec![lq(a, 1)]), t(7))
        .unwrap();
    let before = order.clone();
    assert_eq!(
        order.commit_edit(&mut edit, t(8)),
        Err(DomainError::EditStale {
            base: before.version() - 1,
            current: before.version()
        })
    );
    assert_eq!(order, before);
    assert_eq!(edit.state(), EditState::Open);
    edit.discard(t(9)).unwrap();
    assert_eq!(edit.state(), EditState::Discarded);
    assert!(edit.discard(t(9)).is_err());
}

#[test]
fn only_confirmed_or_processing_orders_are_edited_after_confirmation() {
    for status in OrderStatus::ALL {
        let order = order_in(status);
        let result = order.begin_edit(edit_id(), t(9));
        if matches!(status, OrderStatus::Confirmed | OrderStatus::Processing) {
            assert_eq!(result.unwrap().base_version(), order.version());
        } else {
            assert_eq!(
                result,
                Err(DomainError::InvalidStatusTransition {
                    from: status,
                    action: OrderAction::Edit
                })
            );
        }
    }
}

#[test]
fn an_edit_cannot_price_a_line_below_its_refunds_or_empty_the_order() {
    let (mut order, a, b) = processing_order();
    order
        .create_fulfillment(ship(vec![lq(b, 2)]), t(6))
        .unwrap();
    order
        .create_return(give_back(vec![lq(b, 2)]), t(7))
        .unwrap();
    let mut edit = order.begin_edit(edit_id(), t(8)).unwrap();
    // Removing line a would leave b carrying all of the 10 % discount's
    // base alone, which is fine; but an order of no lines is not.
    assert_eq!(
        order.stage_edit(&mut edit, EditChange::RemoveLine { line_id: a }, t(8)),
        Ok(())
    );
    let mut empty = order.begin_edit(edit_id(), t(8)).unwrap();
    order
        .stage_edit(&mut empty, EditChange::RemoveLine { line_id: a }, t(8))
        .unwrap();
    let ghost = LineId::from_uuid(Uuid::now_v7());
    assert_eq!(
        order.stage_edit(&mut empty, EditChange::RemoveLine { line_id: ghost }, t(8)),
        Err(DomainError::LineNotFound(ghost))
    );
}

// ----- properties -----

#[derive(Debug, Clone)]
enum Step {
    Ship { line: usize, n: u32 },
    Return { line: usize, n: u32 },
    Edit { line: usize, n: u32 },
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        (0usize..4, 1u32..6).prop_map(|(line, n)| Step::Ship { line, n }),
        (0usize..4, 1u32..6).prop_map(|(line, n)| Step::Return { line, n }),
        (0usize..4, 1u32..15).prop_map(|(line, n)| Step::Edit { line, n }),
    ]
}

fn random_order(
    lines: &[(i64, i64, &str)],
    discount: Option<&str>,
    inclusive: bool,
) -> Option<Order> {
    let mut order = new_order();
    if inclusive {
        let mut s = order.snapshot();
        s.tax_mode = TaxMode::Inclusive;
        order = Order::restore(s).ok()?;
    }
    for (quantity, cents, rate) in lines {
        order
            .add_line(taxed_line(product(), *quantity, *cents, rate), t(1))
            .ok()?;
    }
    if let Some(p) = discount {
        order.add_discount(percent_off(p), t(2)).ok()?;
    }
    order.confirm(t(3)).ok()?;
    order.start_processing(t(4)).ok()?;
    order.take_events();
    Some(order)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn refunds_never_exceed_what_was_paid_and_match_it_once_everything_is_back(
        lines in prop::collection::vec((1i64..12, 0i64..1_000_000, prop_oneof![Just("0"), Just("7"), Just("19"), Just("8.25")]), 1..4),
        discount in prop_oneof![Just(None), Just(Some("10")), Just(Some("33.3333")), Just(Some("100"))],
        inclusive in any::<bool>(),
        steps in prop::collection::vec(step(), 0..30),
        edits in any::<bool>(),
    ) {
        let Some(mut order) = random_order(&lines, discount, inclusive) else { return Ok(()) };
        let ids: Vec<_> = order.lines().iter().map(OrderLine::id).collect();
        // An edit after a return re-prices the lines (a percentage discount is
        // allocated again), which can move a fully returned line's total by a
        // rounding unit after its refunds were settled; the edit's difference
        // carries that. Equality is only promised without such an edit.
        let mut repriced_after_return = false;
        // Half the cases are shipments and returns only: the property, exactly.
        let steps: Vec<_> = steps.into_iter().filter(|s| edits || !matches!(s, Step::Edit { .. })).collect();
        for (i, s) in steps.iter().enumerate() {
            let now = t(10 + i64::try_from(i).unwrap());
            let before = order.clone();
            let result = match *s {
                Step::Ship { line, n } => order
                    .create_fulfillment(ship(vec![lq(ids[line % ids.len()], i64::from(n))]), now)
                    .map(|_| ()),
                Step::Return { line, n } => order
                    .create_return(give_back(vec![lq(ids[line % ids.len()], i64::from(n))]), now)
                    .map(|_| ()),
                // An edit between returns changes what the line costs; refunds must still fit.
                Step::Edit { line, n } => order
                    .begin_edit(EditId::from_uuid(Uuid::now_v7()), now)
                    .and_then(|mut edit| {
                        order.stage_edit(&mut edit, EditChange::SetQuantity { line_id: ids[line % ids.len()], quantity: q(i64::from(n)) }, now)?;
                        order.commit_edit(&mut edit, now).map(|_| ())
                    }),
            };
            if result.is_err() {
                prop_assert_eq!(&order, &before, "a refused step changed the order");
            } else {
                prop_assert_eq!(order.version(), before.version() + 1);
                if matches!(s, Step::Edit { .. }) && !order.returns().is_empty() {
                    repriced_after_return = true;
                }
            }
            for p in order.line_progress() {
                prop_assert!(p.shipped <= p.ordered.get());
                prop_assert!(p.returned <= p.shipped);
                prop_assert!(p.refunded.amount() >= 0);
                prop_assert!(p.refunded.amount() <= p.paid.amount(), "refunded {} of {}", p.refunded, p.paid);
            }
            prop_assert_eq!(order.status() == OrderStatus::Fulfilled, order.line_progress().iter().all(|p| p.unshipped() == 0));
            let mut clean = order.clone();
            clean.take_events();
            prop_assert_eq!(Order::restore(clean.snapshot()), Ok(clean));
        }
        // Ship and return whatever is left: every line then refunds exactly what it cost.
        if order.status() == OrderStatus::Processing {
            order.mark_fulfilled(t(100)).unwrap();
        }
        let rest: Vec<_> = order
            .line_progress()
            .iter()
            .filter(|p| p.returnable() > 0)
            .map(|p| lq(p.line_id, i64::from(p.returnable())))
            .collect();
        if !rest.is_empty() {
            order.create_return(give_back(rest), t(101)).unwrap();
        }
        prop_assert_eq!(order.return_status(), ReturnStatus::Returned);
        for p in order.line_progress() {
            prop_assert!(p.refunded.amount() <= p.paid.amount());
            if !repriced_after_return {
                prop_assert_eq!(p.refunded, p.paid, "line {} refunded {} of {}", p.line_id, p.refunded, p.paid);
            }
        }
        if !repriced_after_return {
            prop_assert_eq!(order.refunded_total(), order.total());
        }
    }

    #[test]
    fn any_split_of_a_line_into_returns_refunds_the_same_total(
        quantity in 1u32..50,
        paid in 0i64..10_000_000,
        cuts in prop::collection::vec(1u32..50, 0..10),
    ) {
        let paid = usd(paid);
        let mut returned = 0;
        let mut refunded = usd(0);
        let mut parts = cuts.clone();
        parts.push(quantity);
        for part in parts {
            let n = part.min(quantity - returned);
            if n == 0 { break; }
            let refund = cumulative_refund(paid, quantity, returned, refunded, n).unwrap();
            prop_assert!(refund.amount() >= 0);
            refunded = refunded.checked_add(refund).unwrap();
            returned += n;
            prop_assert!(refunded.amount() <= paid.amount());
            // Whatever the split so far, the refund is the floor of the pro-rata share.
            prop_assert_eq!(
                i128::from(refunded.amount()),
                i128::from(paid.amount()) * i128::from(returned) / i128::from(quantity)
            );
        }
        prop_assert_eq!(returned, quantity);
        prop_assert_eq!(refunded, paid);
    }
}

#[test]
fn an_edit_that_changes_nothing_is_refused_at_commit_and_changes_nothing() {
    let (mut order, a, _) = processing_order();
    let empty = order.begin_edit(edit_id(), t(6)).unwrap();
    // Staged changes that cancel out are no change either.
    let mut undone = order.begin_edit(edit_id(), t(6)).unwrap();
    let quantity = order.line(a).unwrap().quantity();
    for to in [q(1), quantity] {
        order
            .stage_edit(
                &mut undone,
                EditChange::SetQuantity {
                    line_id: a,
                    quantity: to,
                },
                t(6),
            )
            .unwrap();
    }
    assert!(order.preview_edit(&undone, t(7)).unwrap().diff.is_empty());
    let before = order.clone();
    for mut edit in [empty, undone] {
        assert_eq!(
            order.commit_edit(&mut edit, t(7)),
            Err(DomainError::EditEmpty)
        );
        assert_eq!(order, before);
        assert_eq!(edit.state(), EditState::Open, "it can still be discarded");
    }
}
