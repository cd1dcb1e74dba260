//! Tax and discounts: the hand-worked examples of issue 15, and property tests
//! of every invariant of the allocation over random lines, rates, currencies
//! with 0, 2 and 3 minor digits and sequences of discounts.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failed test

mod support;

use order_domain::*;
use proptest::prelude::*;
use rust_decimal::{Decimal, RoundingStrategy};
use support::*;
use uuid::Uuid;

fn order_in_currency(currency: Currency, mode: TaxMode) -> Order {
    let mut order = Order::create(
        NewOrder {
            id: OrderId::from_uuid(Uuid::now_v7()),
            number: OrderNumber::new(2025, 7).unwrap(),
            customer_id: CustomerId::from_uuid(Uuid::now_v7()),
            company_id: None,
            currency,
            tax_mode: mode,
        },
        t(0),
    );
    order.take_events();
    order
}

/// A line with a chosen id (ids break allocation ties), price in minor units and rate.
fn priced_line(id: u128, quantity: i64, price: Money, rate: &str) -> NewLine {
    NewLine {
        line_id: LineId::from_uuid(Uuid::from_u128(id)),
        product_id: product(),
        quantity: Quantity::new(quantity).unwrap(),
        unit_price: price,
        snapshot: ProductSnapshot::default(),
        tax: LineTax::new(TaxRate::parse(rate).unwrap(), None).unwrap(),
    }
}

fn discount(value: DiscountValue) -> NewDiscount {
    NewDiscount {
        id: DiscountId::from_uuid(Uuid::now_v7()),
        value,
        code: None,
        description: None,
    }
}

fn pct(text: &str) -> DiscountValue {
    DiscountValue::Percentage(Percentage::parse(text).unwrap())
}

/// (discount, tax, total) of every line, in minor units.
fn line_amounts(order: &Order) -> Vec<(i64, i64, i64)> {
    order
        .lines()
        .iter()
        .map(|l| (l.discount().amount(), l.tax().amount(), l.total().amount()))
        .collect()
}

fn totals(order: &Order) -> (i64, i64, i64, i64) {
    (
        order.subtotal().amount(),
        order.discount().amount(),
        order.tax().amount(),
        order.total().amount(),
    )
}

// ----- hand-worked examples -----

#[test]
fn one_dollar_off_three_lines_of_one_dollar_is_34_33_33() {
    let mut order = new_order();
    for id in 1..=3 {
        order
            .add_line(priced_line(id, 1, usd(100), "0"), t(1))
            .unwrap();
    }
    order.add_discount(fixed(100), t(2)).unwrap();
    assert_eq!(
        line_amounts(&order),
        vec![(34, 0, 66), (33, 0, 67), (33, 0, 67)]
    );
    assert_eq!(totals(&order), (300, 100, 0, 200));
}

#[test]
fn the_extra_cent_goes_to_the_smallest_line_id_not_the_first_line() {
    let mut order = new_order();
    for id in [3, 1, 2] {
        order
            .add_line(priced_line(id, 1, usd(100), "0"), t(1))
            .unwrap();
    }
    order.add_discount(fixed(100), t(2)).unwrap();
    let shares: Vec<_> = line_amounts(&order).iter().map(|a| a.0).collect();
    assert_eq!(shares, vec![33, 34, 33]);
}

#[test]
fn ten_percent_off_three_times_3_33_at_19_percent_exclusive() {
    // subtotal 9.99; 10 % = 0.999 → 1.00 (half-even); shares 0.34/0.33/0.33;
    // line amounts 2.99/3.00/3.00; tax 19 %: 0.5681 → 0.57, 0.57, 0.57.
    let mut order = new_order();
    for id in 1..=3 {
        order
            .add_line(priced_line(id, 1, usd(333), "19"), t(1))
            .unwrap();
    }
    order.add_discount(discount(pct("10")), t(2)).unwrap();
    assert_eq!(order.discounts()[0].amount(), usd(100));
    assert_eq!(
        line_amounts(&order),
        vec![(34, 57, 356), (33, 57, 357), (33, 57, 357)]
    );
    assert_eq!(totals(&order), (999, 100, 171, 1_070)); // 9.99 − 1.00 + 1.71
    assert_eq!(order.total().to_decimal_string(), "10.70");

    // The same as one line of 3 × 3.33: 8.99 × 19 % = 1.7081 → 1.71.
    let mut one_line = new_order();
    one_line
        .add_line(priced_line(1, 3, usd(333), "19"), t(1))
        .unwrap();
    one_line.add_discount(discount(pct("10")), t(2)).unwrap();
    assert_eq!(line_amounts(&one_line), vec![(100, 171, 1_070)]);
}

#[test]
fn ten_percent_off_three_times_3_33_at_19_percent_inclusive() {
    // Prices contain tax: 2.99 × 19/119 = 0.4774 → 0.48; 3.00 × 19/119 = 0.4790 → 0.48.
    let mut order = order_in_currency(Currency::USD, TaxMode::Inclusive);
    for id in 1..=3 {
        order
            .add_line(priced_line(id, 1, usd(333), "19"), t(1))
            .unwrap();
    }
    order.add_discount(discount(pct("10")), t(2)).unwrap();
    assert_eq!(
        line_amounts(&order),
        vec![(34, 48, 299), (33, 48, 300), (33, 48, 300)]
    );
    assert_eq!(totals(&order), (999, 100, 144, 899)); // total = subtotal − discount
}

#[test]
fn a_yen_order_with_a_percentage_discount_rounds_to_whole_yen() {
    // 1000 ¥ at 10 % and 333 ¥ at 8 %, 15 % off: 199.95 → 200 ¥;
    // shares 150.04 → 150 and 49.96 → 50 (largest remainder); tax 85 and 22.64 → 23.
    let yen = |n| Money::new(n, Currency::JPY);
    let mut order = order_in_currency(Currency::JPY, TaxMode::Exclusive);
    order
        .add_line(priced_line(1, 1, yen(1_000), "10"), t(1))
        .unwrap();
    order
        .add_line(priced_line(2, 1, yen(333), "8"), t(1))
        .unwrap();
    order.add_discount(discount(pct("15")), t(2)).unwrap();
    assert_eq!(line_amounts(&order), vec![(150, 85, 935), (50, 23, 306)]);
    assert_eq!(totals(&order), (1_333, 200, 108, 1_241));
    assert_eq!(order.total().to_decimal_string(), "1241");
}

#[test]
fn a_kuwaiti_dinar_order_is_exact_to_the_fils() {
    // 3 × 1.250 at 5 % and 0.333 untaxed, 0.100 off: shares 91.84 → 92 and 8.16 → 8 fils;
    // tax 3.658 × 5 % = 0.1829 → 0.183.
    let kwd = |n| Money::new(n, Currency::KWD);
    let mut order = order_in_currency(Currency::KWD, TaxMode::Exclusive);
    order
        .add_line(priced_line(1, 3, kwd(1_250), "5"), t(1))
        .unwrap();
    order
        .add_line(priced_line(2, 1, kwd(333), "0"), t(1))
        .unwrap();
    order
        .add_discount(discount(DiscountValue::Fixed(kwd(100))), t(2))
        .unwrap();
    assert_eq!(line_amounts(&order), vec![(92, 183, 3_841), (8, 0, 325)]);
    assert_eq!(totals(&order), (4_083, 100, 183, 4_166));
    assert_eq!(order.total().to_decimal_string(), "4.166");
}

#[test]
fn tax_rounds_half_to_even() {
    // 10 % of 0.25 = 0.025 → 0.02; 10 % of 0.35 = 0.035 → 0.04.
    let mut order = new_order();
    order
        .add_line(priced_line(1, 1, usd(25), "10"), t(1))
        .unwrap();
    order
        .add_line(priced_line(2, 1, usd(35), "10"), t(1))
        .unwrap();
    let taxes: Vec<_> = line_amounts(&order).iter().map(|a| a.1).collect();
    assert_eq!(taxes, vec![2, 4]);
}

#[test]
fn discounts_apply_in_the_order_they_were_added() {
    // 100.00: 10 % then 5.00 → 10.00 + 5.00; 5.00 then 10 % → 5.00 + 9.50.
    let mut percent_first = new_order();
    percent_first
        .add_line(priced_line(1, 1, usd(10_000), "0"), t(1))
        .unwrap();
    percent_first
        .add_discount(discount(pct("10")), t(2))
        .unwrap();
    percent_first.add_discount(fixed(500), t(3)).unwrap();
    let amounts: Vec<_> = percent_first
        .discounts()
        .iter()
        .map(|d| d.amount().amount())
        .collect();
    assert_eq!(amounts, vec![1_000, 500]);

    let mut fixed_first = new_order();
    fixed_first
        .add_line(priced_line(1, 1, usd(10_000), "0"), t(1))
        .unwrap();
    fixed_first.add_discount(fixed(500), t(2)).unwrap();
    fixed_first.add_discount(discount(pct("10")), t(3)).unwrap();
    let amounts: Vec<_> = fixed_first
        .discounts()
        .iter()
        .map(|d| d.amount().amount())
        .collect();
    assert_eq!(amounts, vec![500, 950]);

    // Removing the first discount prices the second again on what is left.
    let first = fixed_first.discounts()[0].id();
    fixed_first.remove_discount(first, t(4)).unwrap();
    assert_eq!(fixed_first.discounts()[0].amount(), usd(1_000));
    assert_eq!(fixed_first.total(), usd(9_000));
}

#[test]
fn a_percentage_follows_the_lines_and_a_fixed_discount_must_keep_fitting() {
    let mut order = new_order();
    let a = order
        .add_line(priced_line(1, 1, usd(1_000), "0"), t(1))
        .unwrap();
    order.add_discount(discount(pct("50")), t(2)).unwrap();
    order
        .add_line(priced_line(2, 1, usd(3_000), "0"), t(3))
        .unwrap();
    assert_eq!(order.discount(), usd(2_000));
    order.add_discount(fixed(1_500), t(4)).unwrap();
    // Without line 2, 50 % leaves 5.00: the fixed 15.00 no longer fits.
    let b = order.lines()[1].id();
    let before = order.clone();
    assert_eq!(
        order.remove_line(b, t(5)),
        Err(DomainError::DiscountExceedsAmount {
            discount: usd(1_500),
            available: usd(500)
        })
    );
    assert_eq!(order, before);
    order
        .update_line_quantity(a, Quantity::new(4).unwrap(), t(6))
        .unwrap();
    assert_eq!(order.discount(), usd(3_500 + 1_500));
}

#[test]
fn discount_rules_are_checked_before_anything_changes() {
    let (mut order, _) = order_with_line();
    let before = order.clone();
    for (new, code) in [
        (fixed(0), "invalid_discount"),
        (
            discount(DiscountValue::Percentage(Percentage::ZERO)),
            "invalid_discount",
        ),
        (
            NewDiscount {
                code: Some("x".repeat(65)),
                ..fixed(1)
            },
            "invalid_text",
        ),
    ] {
        assert_eq!(order.add_discount(new, t(2)).unwrap_err().code(), code);
        assert_eq!(order, before);
    }
    order
        .add_discount(
            NewDiscount {
                code: Some("WELCOME10".into()),
                description: Some("Welcome offer".into()),
                ..discount(pct("10"))
            },
            t(2),
        )
        .unwrap();
    assert_eq!(
        order.add_discount(
            NewDiscount {
                code: Some(" welcome10 ".into()),
                ..fixed(1)
            },
            t(3)
        ),
        Err(DomainError::DiscountCodeAlreadyApplied("welcome10".into()))
    );
    let unknown = DiscountId::from_uuid(Uuid::now_v7());
    assert_eq!(
        order.remove_discount(unknown, t(3)),
        Err(DomainError::DiscountNotFound(unknown))
    );
    for _ in 1..Order::MAX_DISCOUNTS {
        order.add_discount(discount(pct("1")), t(4)).unwrap();
    }
    assert_eq!(
        order.add_discount(fixed(1), t(5)),
        Err(DomainError::TooManyDiscounts {
            max: Order::MAX_DISCOUNTS
        })
    );
}

#[test]
fn discount_events_carry_the_totals_before_and_after() {
    let (mut order, _) = order_with_line(); // 2 × 50.00
    let id = order.add_discount(fixed(1_000), t(2)).unwrap();
    order.remove_discount(id, t(3)).unwrap();
    let events = order.take_events();
    let (
        OrderEventKind::DiscountAdded {
            before,
            after,
            amount,
            ..
        },
        OrderEventKind::DiscountRemoved {
            before: b2,
            after: a2,
            ..
        },
    ) = (&events[0].kind, &events[1].kind)
    else {
        panic!("unexpected events {events:?}");
    };
    assert_eq!(*amount, usd(1_000));
    assert_eq!((before.total, after.total), (usd(10_000), usd(9_000)));
    assert_eq!((b2.total, a2.total), (usd(9_000), usd(10_000)));
    assert_eq!(events[0].kind.name(), "OrderDiscountAdded");
    assert_eq!(events[1].kind.name(), "OrderDiscountRemoved");
    assert_eq!(events[1].version, order.version());
}

#[test]
fn a_product_at_another_tax_rate_is_a_separate_line() {
    let mut order = new_order();
    let p = product();
    let a = order.add_line(taxed_line(p, 1, 100, "19"), t(1)).unwrap();
    let b = order.add_line(taxed_line(p, 1, 100, "7"), t(2)).unwrap();
    let c = order.add_line(taxed_line(p, 2, 100, "19"), t(3)).unwrap();
    assert_ne!(a, b);
    assert_eq!(a, c);
    assert_eq!(order.line(a).unwrap().quantity().get(), 3);
}

#[test]
fn restore_refuses_amounts_that_are_not_what_the_prices_make() {
    let mut order = new_order();
    order
        .add_line(taxed_line(product(), 3, 333, "19"), t(1))
        .unwrap();
    order.add_discount(discount(pct("10")), t(2)).unwrap();
    order.take_events();
    assert_eq!(Order::restore(order.snapshot()), Ok(order.clone()));
    let mut line_tax = order.snapshot();
    line_tax.lines[0].tax = usd(170);
    let mut line_share = order.snapshot();
    line_share.lines[0].discount = usd(99);
    let mut discount_amount = order.snapshot();
    discount_amount.discounts[0].amount = usd(99);
    let mut order_tax = order.snapshot();
    order_tax.tax = usd(170);
    order_tax.total = usd(order_tax.total.amount() - 1);
    let mut mode = order.snapshot();
    mode.tax_mode = TaxMode::Inclusive;
    for (name, snapshot) in [
        ("line tax", line_tax),
        ("line share", line_share),
        ("discount amount", discount_amount),
        ("order tax", order_tax),
        ("mode", mode),
    ] {
        assert!(
            matches!(Order::restore(snapshot), Err(DomainError::CorruptOrder(_))),
            "{name}"
        );
    }
}

// ----- properties -----

const CURRENCIES: [Currency; 3] = [Currency::JPY, Currency::USD, Currency::KWD];

#[derive(Debug, Clone)]
struct Case {
    currency: Currency,
    mode: TaxMode,
    /// (quantity, unit price, rate in millionths)
    lines: Vec<(u32, i64, u32)>,
    /// fixed amounts (Ok) or percentages in millionths (Err)
    discounts: Vec<Result<i64, u32>>,
}

fn case() -> impl Strategy<Value = Case> {
    let price = prop_oneof![0i64..1_000, 0i64..10_000_000, Just(1), Just(0)];
    // Rates: any 4-digit percentage, and the common ones.
    let rate = prop_oneof![0u32..=1_000_000, Just(190_000), Just(75_000), Just(0)];
    let discount = prop_oneof![
        (1i64..20_000).prop_map(Ok),
        (1u32..=1_000_000).prop_map(Err),
        Just(Err(1_000_000)),
    ];
    (
        0usize..3,
        any::<bool>(),
        prop::collection::vec((1u32..1_000, price, rate), 0..8),
        prop::collection::vec(discount, 0..5),
    )
        .prop_map(|(c, inclusive, lines, discounts)| Case {
            currency: CURRENCIES[c],
            mode: TaxMode::from_prices_include_tax(inclusive),
            lines,
            discounts,
        })
}

fn pricing_lines(case: &Case, ids: &[LineId]) -> Vec<PricingLine> {
    case.lines
        .iter()
        .zip(ids)
        .map(|(&(q, price, rate), &id)| PricingLine {
            id,
            gross: i64::from(q) * price,
            tax_rate: TaxRate::new(Percentage::from_millionths(rate).unwrap()),
        })
        .collect()
}

fn discount_values(case: &Case) -> Vec<DiscountValue> {
    case.discounts
        .iter()
        .map(|d| match *d {
            Ok(amount) => DiscountValue::Fixed(Money::new(amount, case.currency)),
            Err(millionths) => {
                DiscountValue::Percentage(Percentage::from_millionths(millionths).unwrap())
            }
        })
        .collect()
}

/// The tax rust_decimal computes for `amount` minor units at `millionths`,
/// rounded half-even: an oracle independent of the integer arithmetic.
fn oracle_tax(amount: i64, millionths: u32, mode: TaxMode) -> i64 {
    let amount = Decimal::from(amount);
    let rate = Decimal::new(i64::from(millionths), 6);
    let exact = match mode {
        TaxMode::Exclusive => amount * rate,
        TaxMode::Inclusive => amount * rate / (Decimal::ONE + rate),
    };
    i64::try_from(exact.round_dp_with_strategy(0, RoundingStrategy::MidpointNearestEven)).unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn allocation_is_exact_bounded_proportional_and_taxed_to_the_minor_unit(case in case()) {
        let ids: Vec<LineId> = (0..case.lines.len()).map(|_| LineId::from_uuid(Uuid::now_v7())).collect();
        let lines = pricing_lines(&case, &ids);
        let discounts = discount_values(&case);
        let Ok(pricing) = price_order(case.currency, case.mode, &lines, &discounts) else {
            // Only a fixed discount larger than what was left may be refused:
            // replay the discounts and find it.
            let mut fits = 0;
            for n in 0..discounts.len() {
                if price_order(case.currency, case.mode, &lines, &discounts[..=n]).is_err() {
                    prop_assert!(matches!(discounts[n], DiscountValue::Fixed(_)));
                    break;
                }
                fits += 1;
            }
            prop_assert!(fits < discounts.len());
            return Ok(());
        };
        let mut left: Vec<i64> = lines.iter().map(|l| l.gross).collect();
        for (d, allocation) in pricing.allocations.iter().enumerate() {
            let amount = pricing.discounts[d].amount();
            // Each discount's shares sum exactly to it.
            prop_assert_eq!(allocation.iter().sum::<i64>(), amount);
            let base: i64 = left.iter().sum();
            match discounts[d] {
                DiscountValue::Fixed(m) => prop_assert_eq!(m.amount(), amount),
                DiscountValue::Percentage(p) => prop_assert_eq!(amount, oracle_tax(base, p.millionths(), TaxMode::Exclusive)),
            }
            for (l, share) in allocation.iter().enumerate() {
                // No share exceeds what is left of its line, and none is negative.
                prop_assert!(*share >= 0 && *share <= left[l], "share {} of {}", share, left[l]);
                // Largest remainder: each share is the floor or the ceiling of its exact part.
                if base > 0 {
                    let exact = i128::from(amount) * i128::from(left[l]);
                    let floor = exact / i128::from(base);
                    prop_assert!(i128::from(*share) == floor || i128::from(*share) == floor + 1);
                }
                left[l] -= share;
            }
        }
        let mut sums = (0i64, 0i64, 0i64, 0i64);
        for (l, line) in lines.iter().enumerate() {
            let price = pricing.lines[l];
            let net = line.gross - price.discount.amount();
            prop_assert_eq!(net, left[l]);
            prop_assert!(price.discount.amount() <= line.gross);
            prop_assert_eq!(price.tax.amount(), oracle_tax(net, line.tax_rate.percentage().millionths(), case.mode));
            match case.mode {
                TaxMode::Exclusive => prop_assert_eq!(price.total.amount(), net + price.tax.amount()),
                TaxMode::Inclusive => {
                    prop_assert_eq!(price.total.amount(), net);
                    prop_assert!(price.tax.amount() <= net);
                }
            }
            sums.0 += line.gross;
            sums.1 += price.discount.amount();
            sums.2 += price.tax.amount();
            sums.3 += price.total.amount();
        }
        let t = pricing.totals;
        prop_assert_eq!((t.subtotal.amount(), t.discount.amount(), t.tax.amount(), t.total.amount()), sums);
        prop_assert_eq!(t.discount.amount(), pricing.discounts.iter().map(Money::amount).sum::<i64>());
        match case.mode {
            TaxMode::Exclusive => prop_assert_eq!(t.total.amount(), t.subtotal.amount() - t.discount.amount() + t.tax.amount()),
            TaxMode::Inclusive => prop_assert_eq!(t.total.amount(), t.subtotal.amount() - t.discount.amount()),
        }
        prop_assert!(t.total.amount() >= 0);
    }

    #[test]
    fn the_result_does_not_depend_on_the_order_lines_are_listed_in(
        case in case(),
        seed in any::<u64>(),
    ) {
        let ids: Vec<LineId> = (0..case.lines.len()).map(|_| LineId::from_uuid(Uuid::now_v7())).collect();
        let lines = pricing_lines(&case, &ids);
        let discounts = discount_values(&case);
        // A deterministic shuffle from the seed (Fisher–Yates with an LCG).
        let mut shuffled = lines.clone();
        let mut state = seed;
        for i in (1..shuffled.len()).rev() {
            state = state.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
            let j = usize::try_from((state >> 33) % (i as u64 + 1)).unwrap();
            shuffled.swap(i, j);
        }
        let a = price_order(case.currency, case.mode, &lines, &discounts);
        let b = price_order(case.currency, case.mode, &shuffled, &discounts);
        match (a, b) {
            (Ok(a), Ok(b)) => {
                prop_assert_eq!(a.totals, b.totals);
                prop_assert_eq!(&a.discounts, &b.discounts);
                for (l, line) in lines.iter().enumerate() {
                    let k = shuffled.iter().position(|s| s.id == line.id).unwrap();
                    prop_assert_eq!(a.lines[l], b.lines[k]);
                }
            }
            (Err(a), Err(b)) => prop_assert_eq!(a, b),
            (a, b) => prop_assert!(false, "{:?} vs {:?}", a, b),
        }
    }

    #[test]
    fn equal_lines_split_a_discount_the_same_way_however_they_are_listed(
        n in 2usize..8,
        gross in 1i64..1_000,
        amount_seed in any::<u64>(),
        rotate in 1usize..8,
    ) {
        // Equal lines make every remainder a tie, so only the tie-break decides.
        let ids: Vec<LineId> = (0..n).map(|_| LineId::from_uuid(Uuid::now_v7())).collect();
        let total = gross * i64::try_from(n).unwrap();
        let amount = i64::try_from(amount_seed % u64::try_from(total + 1).unwrap()).unwrap();
        let weights: Vec<(LineId, i64)> = ids.iter().map(|&id| (id, gross)).collect();
        let mut rotated = weights.clone();
        rotated.rotate_left(rotate % n);
        let a = allocate_largest_remainder(amount, &weights).unwrap();
        let b = allocate_largest_remainder(amount, &rotated).unwrap();
        for (i, (id, _)) in weights.iter().enumerate() {
            let k = rotated.iter().position(|(other, _)| other == id).unwrap();
            prop_assert_eq!(a[i], b[k]);
        }
        // The extra units go to the smallest ids.
        let mut sorted = ids.clone();
        sorted.sort();
        let extra = usize::try_from(amount % i64::try_from(n).unwrap()).unwrap();
        for (rank, id) in sorted.iter().enumerate() {
            let i = ids.iter().position(|x| x == id).unwrap();
            prop_assert_eq!(a[i], amount / i64::try_from(n).unwrap() + i64::from(rank < extra));
        }
    }

    #[test]
    fn an_order_keeps_its_sums_and_restores_unchanged_over_discount_sequences(
        case in case(),
        removals in prop::collection::vec(0usize..6, 0..3),
    ) {
        let mut order = order_in_currency(case.currency, case.mode);
        for (i, &(q, price, rate)) in case.lines.iter().enumerate() {
            let line = NewLine {
                tax: LineTax::new(TaxRate::new(Percentage::from_millionths(rate).unwrap()), None).unwrap(),
                unit_price: Money::new(price, case.currency),
                ..support::line(product(), i64::from(q), 0)
            };
            order.add_line(line, t(i64::try_from(i).unwrap() + 1)).unwrap();
        }
        let mut steps: Vec<Option<DiscountValue>> = discount_values(&case).into_iter().map(Some).collect();
        for r in &removals {
            steps.insert((*r).min(steps.len()), None);
        }
        for (step, value) in steps.into_iter().enumerate() {
            let now = t(100 + i64::try_from(step).unwrap());
            let before = order.clone();
            let result = match value {
                Some(value) => order.add_discount(discount(value), now).map(|_| ()),
                None => match order.discounts().first().map(Discount::id) {
                    Some(id) => order.remove_discount(id, now),
                    None => Ok(()),
                },
            };
            if let Err(e) = result {
                prop_assert!(matches!(e, DomainError::DiscountExceedsAmount { .. }), "{:?}", e);
                prop_assert_eq!(&order, &before);
            }
            let lines = order.lines();
            let sum = |f: fn(&OrderLine) -> Money| lines.iter().map(|l| f(l).amount()).sum::<i64>();
            prop_assert_eq!(order.subtotal().amount(), sum(OrderLine::gross));
            prop_assert_eq!(order.discount().amount(), sum(OrderLine::discount));
            prop_assert_eq!(order.discount().amount(), order.discounts().iter().map(|d| d.amount().amount()).sum::<i64>());
            prop_assert_eq!(order.tax().amount(), sum(OrderLine::tax));
            prop_assert_eq!(order.total().amount(), sum(OrderLine::total));
            let expected_total = match case.mode {
                TaxMode::Exclusive => order.subtotal().amount() - order.discount().amount() + order.tax().amount(),
                TaxMode::Inclusive => order.subtotal().amount() - order.discount().amount(),
            };
            prop_assert_eq!(order.total().amount(), expected_total);
            for l in lines {
                prop_assert!(l.discount().amount() >= 0 && l.discount().amount() <= l.gross().amount());
            }
            order.take_events();
            prop_assert_eq!(Order::restore(order.snapshot()), Ok(order.clone()));
        }
    }
}
