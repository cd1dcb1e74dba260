//! Envelopes built from real domain events: the facts they carry, and that
//! each one satisfies the JSON Schema of its type.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failed test

use chrono::{TimeZone, Utc};
use order_domain::{
    Actor, Currency, CustomerId, DiscountId, DiscountValue, EditChange, EditId, FulfillmentId,
    LineId, LineQuantity, LineTax, Money, NewDiscount, NewFulfillment, NewLine, NewOrder,
    NewReturn, Order, OrderId, OrderNumber, Percentage, ProductId, ProductSnapshot, Quantity,
    ReturnId, TaxMode,
};
use order_events::{schema, EventData, EventEnvelope, Status};
use serde_json::{json, Value};
use uuid::Uuid;

fn envelopes(order: &mut Order, actor: &Actor) -> Vec<EventEnvelope> {
    order.attribute_pending_events(actor);
    order
        .take_events()
        .iter()
        .map(|e| EventEnvelope::from_domain(order, e, Uuid::now_v7()))
        .collect()
}

/// Every type the domain can raise today, from one order's life (and a second
/// order for the cancel/delete branch).
fn lifecycle() -> Vec<EventEnvelope> {
    let now = Utc.with_ymd_and_hms(2025, 12, 30, 12, 0, 0).unwrap();
    let actor = Actor::new("clerk-7", Some("Ada")).unwrap();
    let new_order = |n| NewOrder {
        id: OrderId::from_uuid(Uuid::now_v7()),
        number: OrderNumber::new(2025, n).unwrap(),
        customer_id: CustomerId::from_uuid(Uuid::now_v7()),
        company_id: None,
        currency: Currency::USD,
        tax_mode: TaxMode::Exclusive,
    };
    let line = |product, qty, cents| NewLine {
        line_id: LineId::from_uuid(Uuid::now_v7()),
        product_id: product,
        quantity: Quantity::new(qty).unwrap(),
        unit_price: Money::new(cents, Currency::USD),
        snapshot: ProductSnapshot::default(),
        tax: LineTax::default(),
    };
    let mut order = Order::create(new_order(1), now);
    let keyboard = ProductId::from_uuid(Uuid::now_v7());
    let first = order.add_line(line(keyboard, 3, 10_000), now).unwrap();
    let second = order
        .add_line(line(ProductId::from_uuid(Uuid::now_v7()), 1, 500), now)
        .unwrap();
    order
        .update_line_quantity(first, Quantity::new(2).unwrap(), now)
        .unwrap();
    order.remove_line(second, now).unwrap();
    let ten_percent = order
        .add_discount(
            NewDiscount {
                id: DiscountId::from_uuid(Uuid::now_v7()),
                value: DiscountValue::Percentage(Percentage::parse("10").unwrap()),
                code: Some("TEN".into()),
                description: None,
            },
            now,
        )
        .unwrap();
    order.remove_discount(ten_percent, now).unwrap();
    order
        .add_discount(
            NewDiscount {
                id: DiscountId::from_uuid(Uuid::now_v7()),
                value: DiscountValue::Fixed(Money::new(500, Currency::USD)),
                code: None,
                description: None,
            },
            now,
        )
        .unwrap();
    order.confirm(now).unwrap();
    order.start_processing(now).unwrap();
    order.mark_fulfilled(now).unwrap();
    let mut all = envelopes(&mut order, &actor);

    let mut other = Order::create(new_order(2), now);
    other.cancel(Some("changed my mind".into()), now).unwrap();
    other.soft_delete(now).unwrap();
    all.extend(envelopes(&mut other, &Actor::anonymous()));
    all
}

/// The types raised after confirmation: a shipment, a return, an edit.
fn after_confirmation() -> Vec<EventEnvelope> {
    let now = Utc.with_ymd_and_hms(2025, 12, 30, 12, 0, 0).unwrap();
    let actor = Actor::new("clerk-7", Some("Ada")).unwrap();
    let keyboard = ProductId::from_uuid(Uuid::now_v7());
    let line = |product, qty, cents| NewLine {
        line_id: LineId::from_uuid(Uuid::now_v7()),
        product_id: product,
        quantity: Quantity::new(qty).unwrap(),
        unit_price: Money::new(cents, Currency::USD),
        snapshot: ProductSnapshot::default(),
        tax: LineTax::default(),
    };
    let mut third = Order::create(
        NewOrder {
            id: OrderId::from_uuid(Uuid::now_v7()),
            number: OrderNumber::new(2025, 3).unwrap(),
            customer_id: CustomerId::from_uuid(Uuid::now_v7()),
            company_id: None,
            currency: Currency::USD,
            tax_mode: TaxMode::Exclusive,
        },
        now,
    );
    let shipped = third.add_line(line(keyboard, 2, 10_000), now).unwrap();
    third.confirm(now).unwrap();
    third.start_processing(now).unwrap();
    third.take_events();
    let one = |line_id| LineQuantity {
        line_id,
        quantity: Quantity::new(1).unwrap(),
    };
    third
        .create_fulfillment(
            NewFulfillment {
                id: FulfillmentId::from_uuid(Uuid::now_v7()),
                lines: vec![one(shipped)],
                carrier: Some("DHL".into()),
                tracking_number: None,
            },
            now,
        )
        .unwrap();
    third
        .create_return(
            NewReturn {
                id: ReturnId::from_uuid(Uuid::now_v7()),
                lines: vec![one(shipped)],
                reason: "broken".into(),
            },
            now,
        )
        .unwrap();
    let mut edit = third
        .begin_edit(EditId::from_uuid(Uuid::now_v7()), now)
        .unwrap();
    third
        .stage_edit(
            &mut edit,
            EditChange::AddLine(line(keyboard, 1, 2_500)),
            now,
        )
        .unwrap();
    third.commit_edit(&mut edit, now).unwrap();
    envelopes(&mut third, &actor)
}

fn amount(v: &Value, pointer: &str) -> i64 {
    v.pointer(pointer).and_then(Value::as_i64).unwrap()
}

#[test]
fn every_event_type_is_raised_and_valid_against_its_schema() {
    let mut events = lifecycle();
    events.extend(after_confirmation());
    let types: Vec<_> = events.iter().map(|e| e.data.event_type()).collect();
    assert_eq!(
        types,
        [
            "order.created",
            "order.line_added",
            "order.line_added",
            "order.line_updated",
            "order.line_removed",
            "order.discount_added",
            "order.discount_removed",
            "order.discount_added",
            "order.confirmed",
            "order.processing_started",
            "order.fulfilled",
            "order.created",
            "order.cancelled",
            "order.deleted",
            "order.fulfillment_created",
            "order.return_created",
            "order.edited",
        ]
    );
    assert!(EventData::TYPES.iter().all(|t| types.contains(t)));
    for event in &events {
        let value = serde_json::to_value(event).unwrap();
        let schema = schema::for_type(event.data.event_type()).unwrap();
        let validator = jsonschema::validator_for(&schema).unwrap();
        let errors: Vec<_> = validator
            .iter_errors(&value)
            .map(|e| e.to_string())
            .collect();
        assert!(errors.is_empty(), "{value}: {errors:?}");
        // ... and not against another type's schema.
        let other = if event.data.event_type() == "order.created" {
            "order.deleted"
        } else {
            "order.created"
        };
        let wrong = jsonschema::validator_for(&schema::for_type(other).unwrap()).unwrap();
        assert!(!wrong.is_valid(&value), "{value} passed as {other}");
        let back: EventEnvelope = serde_json::from_value(value).unwrap();
        assert_eq!(&back, event);
    }
}

#[test]
fn events_carry_sequence_actor_reason_and_before_after_facts() {
    let events = lifecycle();
    let sequences: Vec<_> = events.iter().map(|e| e.sequence).collect();
    assert_eq!(sequences, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 1, 2, 3]);
    assert_eq!(events[0].actor.name, "Ada");
    assert_eq!(events[0].actor.id, "clerk-7");
    assert!(events[..11]
        .iter()
        .all(|e| e.order_id == events[0].order_id));

    let v: Vec<Value> = events
        .iter()
        .map(|e| serde_json::to_value(e).unwrap())
        .collect();
    // line_added: 3 × 100.00, then 1 × 5.00
    assert_eq!(v[1]["type"], "order.line_added");
    assert_eq!(amount(&v[1], "/data/line/subtotal/amount"), 30_000);
    assert_eq!(amount(&v[1], "/data/totals/before/total/amount"), 0);
    assert_eq!(amount(&v[2], "/data/totals/before/total/amount"), 30_000);
    assert_eq!(amount(&v[2], "/data/totals/after/total/amount"), 30_500);
    // line_updated: 3 → 2
    assert_eq!(v[3]["data"]["quantity"], json!({"before": 3, "after": 2}));
    assert_eq!(amount(&v[3], "/data/line_subtotal/before/amount"), 30_000);
    assert_eq!(amount(&v[3], "/data/line_subtotal/after/amount"), 20_000);
    assert_eq!(
        v[3]["data"]["totals"]["after"]["total"]["formatted"],
        "205.00"
    );
    // line_removed: the line as it was
    assert_eq!(v[4]["data"]["line"]["quantity"], 1);
    assert_eq!(amount(&v[4], "/data/totals/after/subtotal/amount"), 20_000);
    // discounts: 10 % of 200.00 added then removed, then 5.00 off
    assert_eq!(
        v[5]["data"]["value"],
        json!({"kind": "percentage", "percent": "10"})
    );
    assert_eq!(v[5]["data"]["code"], "TEN");
    assert_eq!(amount(&v[5], "/data/amount/amount"), 2_000);
    assert_eq!(amount(&v[5], "/data/totals/before/total/amount"), 20_000);
    assert_eq!(amount(&v[5], "/data/totals/after/discount/amount"), 2_000);
    assert_eq!(amount(&v[5], "/data/totals/after/total/amount"), 18_000);
    assert_eq!(amount(&v[6], "/data/totals/after/total/amount"), 20_000);
    assert_eq!(amount(&v[7], "/data/value/amount/amount"), 500);
    assert_eq!(amount(&v[7], "/data/totals/after/total/amount"), 19_500);
    // confirmed with the confirmed amounts
    assert_eq!(
        v[8]["data"]["status"],
        json!({"before": "pending", "after": "confirmed"})
    );
    assert_eq!(amount(&v[8], "/data/totals/total/amount"), 19_500);
    assert_eq!(amount(&v[8], "/data/totals/discount/amount"), 500);
    assert_eq!(v[8]["data"]["totals"]["total"]["currency"], "USD");
    assert_eq!(v[10]["data"]["status"]["after"], "fulfilled");
    let EventData::Cancelled(cancelled) = &events[12].data else {
        panic!("{:?}", events[12].data)
    };
    assert_eq!(cancelled.status.before, Status::Pending);
    assert_eq!(events[12].reason.as_deref(), Some("changed my mind"));
    assert_eq!(events[12].actor.id, "anonymous");
    assert!(events[..12].iter().all(|e| e.reason.is_none()));
    assert_eq!(v[13]["data"], json!({"status": "cancelled"}));
}

#[test]
fn the_checked_in_schemas_are_the_generated_ones() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/events");
    for event_type in EventData::TYPES {
        let generated =
            serde_json::to_string_pretty(&schema::for_type(event_type).unwrap()).unwrap() + "\n";
        let path = dir.join(format!("{event_type}.schema.json"));
        if std::env::var_os("UPDATE_EVENT_SCHEMAS").is_some() {
            std::fs::create_dir_all(&dir).unwrap();
            std::fs::write(&path, &generated).unwrap();
        }
        let stored = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            stored == generated,
            "{} differs from the Rust types: run `UPDATE_EVENT_SCHEMAS=1 cargo test -p order-events`",
            path.display()
        );
    }
}

#[test]
fn an_unknown_type_has_no_schema_and_subjects_drop_the_prefix() {
    assert!(schema::for_type("order.exploded").is_none());
    assert_eq!(
        order_events::subject_token("order.line_added"),
        "line_added"
    );
}

#[test]
fn after_confirmation_events_carry_what_billing_and_warehouse_need() {
    let events = after_confirmation();
    let v: Vec<Value> = events
        .iter()
        .map(|e| serde_json::to_value(e).unwrap())
        .collect();
    let sequences: Vec<_> = events.iter().map(|e| e.sequence).collect();
    assert_eq!(sequences, [5, 6, 7]);
    // Shipment: 1 of 2 units, the order partially fulfilled, still processing.
    assert_eq!(v[0]["data"]["lines"][0]["quantity"], 1);
    assert_eq!(v[0]["data"]["carrier"], "DHL");
    assert_eq!(v[0]["data"]["fulfillment_status"], "partially_fulfilled");
    assert_eq!(
        v[0]["data"]["status"],
        json!({"before": "processing", "after": "processing"})
    );
    // Return: half of 200.00 refunded, the reason also on the envelope.
    assert_eq!(amount(&v[1], "/data/refund_amount/amount"), 10_000);
    assert_eq!(amount(&v[1], "/data/lines/0/refund/amount"), 10_000);
    assert_eq!(v[1]["data"]["return_status"], "partially_returned");
    assert_eq!(events[1].reason.as_deref(), Some("broken"));
    // Edit: one line added, 25.00 more to pay.
    assert_eq!(v[2]["data"]["changes"][0]["change"], "line_added");
    assert_eq!(amount(&v[2], "/data/changes/0/line/subtotal/amount"), 2_500);
    assert_eq!(amount(&v[2], "/data/difference/amount"), 2_500);
    assert_eq!(amount(&v[2], "/data/totals/after/total/amount"), 22_500);
}
