//! Tax and discounts through the HTTP edge (actix's test service, `mockall`
//! mocks behind the real use cases): the request and response shapes of
//! issue 15, its problem codes, `Location`, `If-Match` and idempotency.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::{Arc, Mutex};

use actix_web::http::header;
use actix_web::{test, App};
use chrono::{TimeZone, Utc};
use order_app::idempotency::{
    Claim, ClaimTerms, ClaimedKey, IdempotencyKey, MockIdempotencyStore, Outcome,
};
use order_app::ports::*;
use order_app::{Customers, OrderPorts, Orders};
use order_domain::*;
use order_http::idempotency::Idempotency;
use order_http::{configure, ApiState, Metrics};
use serde_json::{json, Value};
use uuid::Uuid;

const ORDERS: &str = "/api/v1/order-mgmt/orders";

fn now() -> chrono::DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 12, 30, 12, 0, 0).unwrap()
}

/// A pending order of three lines of 3.33 at 19 % (ids in rising order).
fn taxed_order(mode: TaxMode) -> Order {
    let mut order = Order::create(
        NewOrder {
            id: OrderId::from_uuid(Uuid::now_v7()),
            number: OrderNumber::new(2025, 1).unwrap(),
            customer_id: CustomerId::from_uuid(Uuid::now_v7()),
            company_id: None,
            currency: Currency::USD,
            tax_mode: mode,
        },
        now(),
    );
    for n in 1..=3 {
        order
            .add_line(
                NewLine {
                    line_id: LineId::from_uuid(Uuid::from_u128(n)),
                    product_id: ProductId::from_uuid(Uuid::now_v7()),
                    quantity: Quantity::new(1).unwrap(),
                    unit_price: Money::new(333, Currency::USD),
                    snapshot: ProductSnapshot::default(),
                    tax: LineTax::new(TaxRate::parse("19").unwrap(), Some("standard".into()))
                        .unwrap(),
                },
                now(),
            )
            .unwrap();
    }
    order.take_events();
    order
}

/// The ports: `orders` holds `order` and records what `update` saves.
struct Setup {
    orders: MockOrderRepository,
    idempotency: MockIdempotencyStore,
    saved: Arc<Mutex<Option<Order>>>,
}

impl Setup {
    fn holding(order: &Order) -> Self {
        let mut orders = MockOrderRepository::new();
        let stored = order.clone();
        orders
            .expect_find_by_id()
            .returning(move |id| Ok((id == stored.id()).then(|| stored.clone())));
        Self {
            orders,
            idempotency: MockIdempotencyStore::new(),
            saved: Arc::new(Mutex::new(None)),
        }
    }

    fn saving(mut self) -> Self {
        let saved = self.saved.clone();
        self.orders.expect_update().returning(move |order, _, _| {
            *saved.lock().unwrap() = Some(order.clone());
            Ok(())
        });
        self
    }

    fn state(self) -> ApiState {
        let mut clock = MockClock::new();
        clock.expect_now().return_const(now());
        let mut ids = MockIdGenerator::new();
        ids.expect_new_id().returning(Uuid::now_v7);
        let (clock, ids): (Arc<dyn Clock>, Arc<dyn IdGenerator>) = (Arc::new(clock), Arc::new(ids));
        ApiState {
            orders: Arc::new(Orders::new(OrderPorts {
                orders: Arc::new(self.orders),
                edits: Arc::new(MockOrderEditRepository::new()),
                numbers: Arc::new(MockOrderNumberAllocator::new()),
                customers: Arc::new(MockCustomerDirectory::new()),
                clock: clock.clone(),
                ids: ids.clone(),
            })),
            customers: Arc::new(Customers::new(
                Arc::new(MockCustomerRepository::new()),
                clock.clone(),
                ids,
            )),
            health: Arc::new(MockStorageHealth::new()),
            metrics: Metrics::new().unwrap(),
            idempotency: Idempotency::new(
                Arc::new(self.idempotency),
                clock,
                ClaimTerms {
                    lease: chrono::Duration::seconds(60),
                    retention: chrono::Duration::hours(24),
                },
            ),
            auth: order_http::auth::Auth::off(),
        }
    }
}

async fn call(setup: Setup, req: test::TestRequest) -> (u16, header::HeaderMap, Value) {
    let app = test::init_service(App::new().configure(configure(setup.state()))).await;
    let response = test::call_service(&app, req.to_request()).await;
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let body = test::read_body(response).await;
    let json = if body.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(&body).unwrap()
    };
    (status, headers, json)
}

fn discounts_of(order: &Order) -> String {
    format!("{ORDERS}/{}/discounts", order.id())
}

#[actix_web::test]
async fn a_percentage_discount_answers_201_with_every_line_priced_and_its_location() {
    let order = taxed_order(TaxMode::Exclusive);
    let req = test::TestRequest::post()
        .uri(&discounts_of(&order))
        .set_json(
            json!({"kind": "percentage", "percent": "10", "code": "TEN", "description": "Ten off"}),
        );
    let (status, headers, body) = call(Setup::holding(&order).saving(), req).await;
    assert_eq!(status, 201, "{body}");
    let data = &body["data"];
    // 9.99 − 1.00 (0.999 → 1.00) + 1.71 tax = 10.70, to the cent.
    assert_eq!(data["subtotal"]["amount"], 999);
    assert_eq!(data["discount"]["amount"], 100);
    assert_eq!(data["tax"]["amount"], 171);
    assert_eq!(data["total"]["formatted"], "10.70");
    assert_eq!(data["prices_include_tax"], false);
    let shares: Vec<_> = data["lines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["discount"]["amount"].clone())
        .collect();
    assert_eq!(shares, vec![json!(34), json!(33), json!(33)]);
    let line = &data["lines"][0];
    assert_eq!(line["tax_rate"], "19");
    assert_eq!(line["tax_category"], "standard");
    assert_eq!(line["tax"]["amount"], 57);
    assert_eq!(line["total"]["amount"], 356);
    let discount = &data["discounts"][0];
    assert_eq!(discount["kind"], "percentage");
    assert_eq!(discount["percent"], "10");
    assert_eq!(discount["amount"], Value::Null);
    assert_eq!(discount["applied"]["amount"], 100);
    assert_eq!(discount["code"], "TEN");
    let location = headers.get(header::LOCATION).unwrap().to_str().unwrap();
    assert_eq!(
        location,
        format!(
            "{}/{}",
            discounts_of(&order),
            discount["id"].as_str().unwrap()
        )
    );
    assert_eq!(headers.get(header::ETAG).unwrap(), "\"5\"");
}

#[actix_web::test]
async fn a_fixed_discount_is_in_the_orders_currency() {
    let order = taxed_order(TaxMode::Inclusive);
    let req = test::TestRequest::post()
        .uri(&discounts_of(&order))
        .set_json(json!({"kind": "fixed", "amount": 100}));
    let (status, _, body) = call(Setup::holding(&order).saving(), req).await;
    assert_eq!(status, 201, "{body}");
    let data = &body["data"];
    assert_eq!(data["discounts"][0]["amount"]["amount"], 100);
    assert_eq!(data["discounts"][0]["amount"]["currency"], "USD");
    assert_eq!(data["prices_include_tax"], true);
    // Inclusive: total = subtotal − discount; the tax is contained (0.48 × 3).
    assert_eq!(data["total"]["amount"], 899);
    assert_eq!(data["tax"]["amount"], 144);
}

#[actix_web::test]
async fn discount_requests_the_rules_refuse_get_their_problem_codes() {
    let order = taxed_order(TaxMode::Exclusive);
    for (body, status, code, field) in [
        (
            json!({"kind": "fixed", "amount": 1000}),
            422,
            "discount_exceeds_amount",
            Some("amount"),
        ),
        (
            json!({"kind": "fixed", "amount": 0}),
            422,
            "invalid_discount",
            None,
        ),
        (
            json!({"kind": "percentage", "percent": "0"}),
            422,
            "invalid_discount",
            None,
        ),
        (
            json!({"kind": "percentage", "percent": "100.5"}),
            422,
            "invalid_discount",
            None,
        ),
        (
            json!({"kind": "percentage", "percent": "1e2"}),
            422,
            "invalid_discount",
            None,
        ),
        (
            json!({"kind": "coupon", "amount": 1}),
            422,
            "invalid_body",
            None,
        ),
        (
            json!({"kind": "fixed", "amount": 1, "percent": "1"}),
            422,
            "invalid_body",
            None,
        ),
        (
            json!({"kind": "percentage", "percent": 10}),
            422,
            "invalid_body",
            None,
        ),
    ] {
        let mut setup = Setup::holding(&order);
        setup.orders.expect_update().never();
        let req = test::TestRequest::post()
            .uri(&discounts_of(&order))
            .set_json(&body);
        let (got, _, problem) = call(setup, req).await;
        assert_eq!(
            (got, problem["code"].as_str().unwrap()),
            (status, code),
            "{body}: {problem}"
        );
        if let Some(field) = field {
            assert_eq!(problem["field"], field, "{body}");
        }
    }
}

#[actix_web::test]
async fn a_second_discount_with_the_same_code_is_409() {
    let mut order = taxed_order(TaxMode::Exclusive);
    order
        .add_discount(
            NewDiscount {
                id: DiscountId::from_uuid(Uuid::now_v7()),
                value: DiscountValue::Fixed(Money::new(1, Currency::USD)),
                code: Some("WELCOME".into()),
                description: None,
            },
            now(),
        )
        .unwrap();
    order.take_events();
    let req = test::TestRequest::post()
        .uri(&discounts_of(&order))
        .set_json(json!({"kind": "fixed", "amount": 1, "code": "welcome"}));
    let (status, _, body) = call(Setup::holding(&order), req).await;
    assert_eq!(
        (status, body["code"].as_str().unwrap()),
        (409, "discount_code_already_applied")
    );
}

#[actix_web::test]
async fn a_line_with_a_bad_tax_rate_is_422_invalid_tax_rate() {
    let order = taxed_order(TaxMode::Exclusive);
    for rate in ["101", "7.12345", "-1", "abc", ""] {
        let req = test::TestRequest::post()
            .uri(&format!("{ORDERS}/{}/lines", order.id()))
            .set_json(
                json!({"product_id": Uuid::now_v7(), "quantity": 1, "unit_price": 100,
                             "currency": "USD", "tax_rate": rate}),
            );
        let (status, _, body) = call(Setup::holding(&order), req).await;
        assert_eq!(
            (status, body["code"].as_str().unwrap()),
            (422, "invalid_tax_rate"),
            "{rate}"
        );
        assert_eq!(body["field"], "tax_rate");
    }
}

#[actix_web::test]
async fn a_taxed_line_is_added_with_its_rate() {
    let order = taxed_order(TaxMode::Exclusive);
    let req = test::TestRequest::post()
        .uri(&format!("{ORDERS}/{}/lines", order.id()))
        .set_json(
            json!({"product_id": Uuid::now_v7(), "quantity": 2, "unit_price": 1000,
                         "currency": "USD", "tax_rate": "7.5", "tax_category": "reduced"}),
        );
    let (status, _, body) = call(Setup::holding(&order).saving(), req).await;
    assert_eq!(status, 201, "{body}");
    let line = &body["data"]["lines"][3];
    assert_eq!(line["tax_rate"], "7.5");
    assert_eq!(line["tax"]["amount"], 150);
    assert_eq!(line["total"]["amount"], 2150);
}

#[actix_web::test]
async fn removing_a_discount_is_204_with_the_new_etag_and_a_stale_if_match_is_412() {
    let mut order = taxed_order(TaxMode::Exclusive);
    let discount = order
        .add_discount(
            NewDiscount {
                id: DiscountId::from_uuid(Uuid::now_v7()),
                value: DiscountValue::Fixed(Money::new(100, Currency::USD)),
                code: None,
                description: None,
            },
            now(),
        )
        .unwrap();
    order.take_events();
    let uri = format!("{}/{discount}", discounts_of(&order));

    let setup = Setup::holding(&order).saving();
    let saved = setup.saved.clone();
    let (status, headers, _) = call(setup, test::TestRequest::delete().uri(&uri)).await;
    assert_eq!(status, 204);
    assert_eq!(headers.get(header::ETAG).unwrap(), "\"6\"");
    let saved = saved.lock().unwrap().clone().unwrap();
    assert!(saved.discounts().is_empty());
    // Tax per line: 3.33 × 19 % = 0.6327 → 0.63, three times (not 19 % of 9.99).
    assert_eq!(saved.total().amount(), 999 + 3 * 63);

    let mut setup = Setup::holding(&order);
    setup.orders.expect_update().never();
    let stale = test::TestRequest::delete()
        .uri(&uri)
        .insert_header((header::IF_MATCH, "\"4\""));
    let (status, _, body) = call(setup, stale).await;
    assert_eq!(
        (status, body["code"].as_str().unwrap()),
        (412, "version_mismatch")
    );

    let unknown = format!("{}/{}", discounts_of(&order), Uuid::now_v7());
    let (status, _, body) = call(
        Setup::holding(&order),
        test::TestRequest::delete().uri(&unknown),
    )
    .await;
    assert_eq!(
        (status, body["code"].as_str().unwrap()),
        (404, "discount_not_found")
    );
    let (status, _, body) = call(
        Setup::holding(&order),
        test::TestRequest::delete().uri(&format!("{}/nope", discounts_of(&order))),
    )
    .await;
    assert_eq!(
        (status, body["field"].as_str().unwrap()),
        (400, "discount_id")
    );
}

#[actix_web::test]
async fn an_idempotent_discount_is_written_once_and_a_retry_renders_the_same_bytes() {
    let order = taxed_order(TaxMode::Exclusive);
    let claim = ClaimedKey {
        key: IdempotencyKey {
            scope: "POST /api/v1/order-mgmt/orders/{id}/discounts".into(),
            key: "d-1".into(),
        },
        token: "t".into(),
    };
    let request = || {
        test::TestRequest::post()
            .uri(&discounts_of(&order))
            .insert_header(("Idempotency-Key", "d-1"))
            .set_json(json!({"kind": "fixed", "amount": 50}))
            .to_request()
    };
    let mut setup = Setup::holding(&order);
    let acquired = claim.clone();
    setup
        .idempotency
        .expect_begin()
        .withf(|key, _, _, _| key.scope == "POST /api/v1/order-mgmt/orders/{id}/discounts")
        .returning(move |_, _, _, _| Ok(Claim::Acquired(acquired.clone())));
    setup.idempotency.expect_refuse().never();
    setup.idempotency.expect_release().never();
    let written = Arc::new(Mutex::new(None));
    let sink = written.clone();
    setup
        .orders
        .expect_update()
        .times(1)
        .returning(move |order, _, receipt| {
            let receipt = receipt.expect("the claim travels with the update");
            assert_eq!(receipt.claim.key.key, "d-1");
            let mut order = order.clone();
            order.take_events();
            *sink.lock().unwrap() = Some(order);
            Ok(())
        });
    let app = test::init_service(App::new().configure(configure(setup.state()))).await;
    let response = test::call_service(&app, request()).await;
    assert_eq!(response.status(), 201);
    let first_location = response.headers().get(header::LOCATION).unwrap().clone();
    let first = test::read_body(response).await;

    // The retry replays what the first request wrote: same Location, same bytes.
    let written = written.lock().unwrap().clone().unwrap();
    assert_eq!(written.discounts().len(), 1);
    let mut setup = Setup::holding(&order);
    setup.orders.expect_update().never();
    setup
        .idempotency
        .expect_begin()
        .returning(move |_, _, _, _| {
            Ok(Claim::Replay(Outcome::Order {
                order: Box::new(written.clone()),
                line: None,
            }))
        });
    let app = test::init_service(App::new().configure(configure(setup.state()))).await;
    let response = test::call_service(&app, request()).await;
    assert_eq!(response.status(), 201);
    assert_eq!(
        response.headers().get("idempotent-replayed").unwrap(),
        "true"
    );
    assert_eq!(
        response.headers().get(header::LOCATION).unwrap(),
        first_location
    );
    assert_eq!(test::read_body(response).await, first);
}
