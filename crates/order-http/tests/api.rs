//! Handler tests through actix's test service, with `mockall` mocks of the
//! ports behind the real use cases: status codes, headers, bodies, and the
//! problem+json mapping of errors.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use actix_web::http::header;
use actix_web::middleware::from_fn;
use actix_web::{test, App};
use chrono::{TimeZone, Utc};
use order_app::idempotency::{
    Claim, ClaimTerms, ClaimedKey, IdempotencyKey, MockIdempotencyStore, Outcome,
};
use order_app::ports::*;
use order_app::{Customer, NewCustomer};
use order_app::{Customers, OrderPorts, Orders, Page, RepositoryError};
use order_domain::*;
use order_http::idempotency::Idempotency;
use order_http::observe::observe_request;
use order_http::{configure, ApiState, Metrics};
use serde_json::{json, Value};
use uuid::Uuid;

const ORDERS: &str = "/api/v1/order-mgmt/orders";

fn now() -> chrono::DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 12, 30, 12, 0, 0).unwrap()
}

fn pending_order() -> Order {
    let mut order = Order::create(
        NewOrder {
            id: OrderId::from_uuid(Uuid::now_v7()),
            number: OrderNumber::new(2025, 89_928).unwrap(),
            customer_id: CustomerId::from_uuid(Uuid::now_v7()),
            company_id: None,
            currency: Currency::USD,
            tax_mode: order_domain::TaxMode::default(),
        },
        now(),
    );
    order.take_events();
    order
}

fn order_with_lines() -> Order {
    let mut order = pending_order();
    for (q, cents) in [(3, 10_000), (2, 7_500)] {
        order
            .add_line(
                NewLine {
                    line_id: LineId::from_uuid(Uuid::now_v7()),
                    product_id: ProductId::from_uuid(Uuid::now_v7()),
                    quantity: Quantity::new(q).unwrap(),
                    unit_price: Money::new(cents, Currency::USD),
                    snapshot: ProductSnapshot::new(Some("Widget".into()), Some("W-1".into()))
                        .unwrap(),
                    tax: order_domain::LineTax::default(),
                },
                now(),
            )
            .unwrap();
    }
    order.take_events();
    order
}

fn order_in(status: OrderStatus) -> Order {
    let mut order = order_with_lines();
    let steps: &[OrderStatus] = match status {
        OrderStatus::Pending => &[],
        OrderStatus::Confirmed => &[OrderStatus::Confirmed],
        OrderStatus::Processing => &[OrderStatus::Confirmed, OrderStatus::Processing],
        OrderStatus::Fulfilled => &[
            OrderStatus::Confirmed,
            OrderStatus::Processing,
            OrderStatus::Fulfilled,
        ],
        OrderStatus::Cancelled => &[OrderStatus::Cancelled],
    };
    for step in steps {
        match step {
            OrderStatus::Confirmed => order.confirm(now()).unwrap(),
            OrderStatus::Processing => order.start_processing(now()).unwrap(),
            OrderStatus::Fulfilled => order.mark_fulfilled(now()).unwrap(),
            _ => order.cancel(None, now()).unwrap(),
        }
    }
    order.take_events();
    order
}

fn clock_for_idempotency() -> Arc<dyn Clock> {
    let mut clock = MockClock::new();
    clock.expect_now().return_const(now());
    Arc::new(clock)
}

#[derive(Default)]
struct Mocks {
    orders: MockOrderRepository,
    numbers: MockOrderNumberAllocator,
    directory: MockCustomerDirectory,
    customers: MockCustomerRepository,
    health: MockStorageHealth,
    idempotency: MockIdempotencyStore,
}

impl Mocks {
    fn new() -> Self {
        Self::default()
    }

    /// `find_by_id` answers `order` for its id and nothing otherwise; `update` succeeds.
    fn stored(mut self, order: &Order) -> Self {
        let order = order.clone();
        self.orders
            .expect_find_by_id()
            .returning(move |id| Ok((id == order.id()).then(|| order.clone())));
        self.orders.expect_update().returning(|_, _, _| Ok(()));
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
                numbers: Arc::new(self.numbers),
                customers: Arc::new(self.directory),
                clock: clock.clone(),
                ids: ids.clone(),
            })),
            customers: Arc::new(Customers::new(Arc::new(self.customers), clock, ids)),
            health: Arc::new(self.health),
            metrics: Metrics::new().unwrap(),
            idempotency: Idempotency::new(
                Arc::new(self.idempotency),
                clock_for_idempotency(),
                ClaimTerms {
                    lease: chrono::Duration::seconds(60),
                    retention: chrono::Duration::hours(24),
                },
            ),
            auth: order_http::auth::Auth::off(),
        }
    }
}

/// Sends one request to a fresh app and returns status, headers and JSON body.
async fn call(mocks: Mocks, req: test::TestRequest) -> (u16, header::HeaderMap, Value) {
    let app = test::init_service(
        App::new()
            .wrap(from_fn(observe_request))
            .configure(configure(mocks.state())),
    )
    .await;
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

fn problem(status: u16, headers: &header::HeaderMap, body: &Value, code: &str) {
    assert_eq!(body["code"], code, "{body}");
    assert_eq!(body["status"], status, "{body}");
    assert_eq!(
        headers.get(header::CONTENT_TYPE).unwrap(),
        "application/problem+json"
    );
    assert!(body["type"].as_str().unwrap().ends_with(code));
    assert!(body["title"].is_string() && body["detail"].is_string());
}

fn post_json(uri: &str, body: Value) -> test::TestRequest {
    test::TestRequest::post().uri(uri).set_json(body)
}

// ----- create / read -----

#[actix_web::test]
async fn create_order_answers_201_with_location_etag_and_the_order() {
    let customer = Uuid::now_v7();
    let mut mocks = Mocks::new();
    mocks.directory.expect_exists().returning(|_| Ok(true));
    mocks
        .numbers
        .expect_next_number()
        .returning(|y| Ok(OrderNumber::new(y, 89_928).unwrap()));
    mocks
        .orders
        .expect_insert()
        .times(1)
        .returning(|_, _| Ok(()));
    let (status, headers, body) = call(
        mocks,
        post_json(ORDERS, json!({"customer_id": customer, "currency": "USD"})),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    let data = &body["data"];
    assert_eq!(data["order_number"], "ORD-2025-089928");
    assert_eq!(data["status"], "pending");
    assert_eq!(data["customer_id"], customer.to_string());
    assert_eq!(
        data["total"],
        json!({"amount": 0, "currency": "USD", "formatted": "0.00"})
    );
    assert_eq!(data["version"], 1);
    assert_eq!(headers.get(header::ETAG).unwrap(), "\"1\"");
    let location = headers.get(header::LOCATION).unwrap().to_str().unwrap();
    assert_eq!(
        location,
        format!("{ORDERS}/{}", data["id"].as_str().unwrap())
    );
    assert_eq!(data["created_at"], "2025-12-30T12:00:00.000000Z");
}

#[actix_web::test]
async fn create_order_rejects_bad_bodies_with_the_right_problem() {
    let c = Uuid::now_v7();
    let cases: Vec<(&str, test::TestRequest, u16, &str)> = vec![
        (
            "unknown currency",
            post_json(ORDERS, json!({"customer_id": c, "currency": "XYZ"})),
            422,
            "unknown_currency",
        ),
        (
            "lower-case currency",
            post_json(ORDERS, json!({"customer_id": c, "currency": "usd"})),
            422,
            "unknown_currency",
        ),
        (
            "missing currency",
            post_json(ORDERS, json!({"customer_id": c})),
            422,
            "invalid_body",
        ),
        (
            "bad uuid",
            post_json(ORDERS, json!({"customer_id": "nope", "currency": "USD"})),
            422,
            "invalid_body",
        ),
        (
            "unknown field",
            post_json(ORDERS, json!({"customer_id": c, "currency": "USD", "x": 1})),
            422,
            "invalid_body",
        ),
        (
            "malformed json",
            test::TestRequest::post()
                .uri(ORDERS)
                .insert_header(("content-type", "application/json"))
                .set_payload("{\"customer_id\":"),
            400,
            "malformed_json",
        ),
        (
            "wrong content type",
            test::TestRequest::post()
                .uri(ORDERS)
                .insert_header(("content-type", "text/plain"))
                .set_payload("{}"),
            415,
            "unsupported_media_type",
        ),
        (
            "too large",
            test::TestRequest::post()
                .uri(ORDERS)
                .insert_header(("content-type", "application/json"))
                .set_payload(format!("{{\"currency\":\"{}\"}}", "A".repeat(70 * 1024))),
            413,
            "payload_too_large",
        ),
    ];
    for (name, req, status, code) in cases {
        let mut mocks = Mocks::new();
        mocks.orders.expect_insert().never();
        let (got, headers, body) = call(mocks, req).await;
        assert_eq!(got, status, "{name}: {body}");
        problem(status, &headers, &body, code);
    }
}

#[actix_web::test]
async fn invalid_body_problems_name_the_field() {
    let (_, _, body) = call(
        Mocks::new(),
        post_json(ORDERS, json!({"customer_id": 5, "currency": "USD"})),
    )
    .await;
    assert_eq!(body["field"], "customer_id", "{body}");
    let (_, _, body) = call(
        Mocks::new(),
        post_json(ORDERS, json!({"customer_id": Uuid::now_v7()})),
    )
    .await;
    assert_eq!(body["field"], "currency", "{body}");
}

#[actix_web::test]
async fn create_order_for_an_unknown_customer_is_422() {
    let mut mocks = Mocks::new();
    mocks
        .numbers
        .expect_next_number()
        .returning(|y| Ok(OrderNumber::new(y, 1).unwrap()));
    mocks
        .orders
        .expect_insert()
        .returning(|o, _| Err(RepositoryError::UnknownCustomer(o.customer_id())));
    let (status, headers, body) = call(
        mocks,
        post_json(
            ORDERS,
            json!({"customer_id": Uuid::now_v7(), "currency": "USD"}),
        ),
    )
    .await;
    assert_eq!(status, 422);
    problem(422, &headers, &body, "customer_not_found");
    assert_eq!(body["field"], "customer_id");
}

#[actix_web::test]
async fn handlers_call_the_order_service_they_are_given() {
    let order = order_with_lines();
    let id = order.id();
    let mut service = order_app::MockOrderService::new();
    service
        .expect_get()
        .withf(move |asked| *asked == id)
        .times(1)
        .returning(move |_| Ok(order.clone()));
    service
        .expect_confirm()
        .withf(|_, write| write.expected_version == Some(7) && write.claim.is_none())
        .times(1)
        .returning(|_, _| {
            Err(order_app::AppError::VersionMismatch {
                expected: 7,
                actual: 3,
            })
        });
    let mut state = Mocks::new().state();
    state.orders = Arc::new(service);
    let app = test::init_service(App::new().configure(configure(state))).await;
    let response = test::call_service(
        &app,
        test::TestRequest::get()
            .uri(&format!("{ORDERS}/{id}"))
            .to_request(),
    )
    .await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers().get(header::ETAG).unwrap(), "\"3\"");
    let response = test::call_service(
        &app,
        test::TestRequest::post()
            .uri(&format!("{ORDERS}/{id}/confirm"))
            .insert_header((header::IF_MATCH, "\"7\""))
            .to_request(),
    )
    .await;
    assert_eq!(response.status(), 412);
}

#[actix_web::test]
async fn get_order_returns_it_with_lines_money_and_etag() {
    let order = order_with_lines();
    let (status, headers, body) = call(
        Mocks::new().stored(&order),
        test::TestRequest::get().uri(&format!("{ORDERS}/{}", order.id())),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(headers.get(header::ETAG).unwrap(), "\"3\"");
    let data = &body["data"];
    assert_eq!(
        data["total"],
        json!({"amount": 45000, "currency": "USD", "formatted": "450.00"})
    );
    assert_eq!(data["lines"].as_array().unwrap().len(), 2);
    assert_eq!(data["lines"][0]["quantity"], 3);
    assert_eq!(data["lines"][0]["unit_price"]["formatted"], "100.00");
    assert_eq!(data["lines"][0]["subtotal"]["amount"], 30000);
    assert_eq!(data["lines"][0]["sku"], "W-1");
    assert_eq!(data["is_editable"], true);
    assert!(data["confirmed_at"].is_null());
}

#[actix_web::test]
async fn get_unknown_or_malformed_id() {
    let mut mocks = Mocks::new();
    mocks.orders.expect_find_by_id().returning(|_| Ok(None));
    let (status, headers, body) = call(
        mocks,
        test::TestRequest::get().uri(&format!("{ORDERS}/{}", Uuid::now_v7())),
    )
    .await;
    assert_eq!(status, 404);
    problem(404, &headers, &body, "order_not_found");

    let (status, headers, body) = call(
        Mocks::new(),
        test::TestRequest::get().uri(&format!("{ORDERS}/not-a-uuid")),
    )
    .await;
    assert_eq!(status, 400);
    problem(400, &headers, &body, "invalid_parameter");
    assert_eq!(body["field"], "id");
}

#[actix_web::test]
async fn get_by_number() {
    let order = order_with_lines();
    let stored = order.clone();
    let mut mocks = Mocks::new();
    mocks
        .orders
        .expect_find_by_number()
        .returning(move |n| Ok((n == stored.number()).then(|| stored.clone())));
    let (status, _, body) = call(
        mocks,
        test::TestRequest::get().uri(&format!("{ORDERS}/number/ORD-2025-089928")),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(body["data"]["id"], order.id().to_string());

    let (status, headers, body) = call(
        Mocks::new(),
        test::TestRequest::get().uri(&format!("{ORDERS}/number/ORD-25-1")),
    )
    .await;
    assert_eq!(status, 400);
    problem(400, &headers, &body, "invalid_parameter");
    assert_eq!(body["field"], "order_number");
}

#[actix_web::test]
async fn list_orders_is_paginated() {
    let order = order_with_lines();
    let mut mocks = Mocks::new();
    mocks
        .orders
        .expect_list()
        .withf(|f, p| {
            f.customer_id.is_none() && f.status.is_none() && p.page() == 2 && p.page_size() == 1
        })
        .returning(move |_, p| Ok(Page::exact(vec![order.clone()], p, 3)));
    let (status, _, body) = call(
        mocks,
        test::TestRequest::get().uri(&format!("{ORDERS}?page=2&page_size=1")),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"].as_array().unwrap().len(), 1);
    assert_eq!(
        body["pagination"],
        json!({"page": 2, "page_size": 1, "total_items": 3, "total_items_exact": true, "total_pages": 3, "next_cursor": null})
    );
}

#[actix_web::test]
async fn list_rejects_bad_paging() {
    for query in [
        "page=0",
        "page=x",
        "page_size=101",
        "page_size=0",
        "page=-2",
    ] {
        let mut mocks = Mocks::new();
        mocks.orders.expect_list().never();
        let (status, headers, body) = call(
            mocks,
            test::TestRequest::get().uri(&format!("{ORDERS}?{query}")),
        )
        .await;
        assert_eq!(status, 400, "{query}");
        problem(400, &headers, &body, "invalid_parameter");
    }
}

#[actix_web::test]
async fn list_by_customer_and_by_status() {
    let customer = Uuid::now_v7();
    let mut mocks = Mocks::new();
    mocks.directory.expect_exists().returning(|_| Ok(true));
    mocks
        .orders
        .expect_list()
        .withf(move |f, _| f.customer_id == Some(CustomerId::from_uuid(customer)))
        .returning(|_, p| Ok(Page::exact(vec![], p, 0)));
    let (status, _, body) = call(
        mocks,
        test::TestRequest::get().uri(&format!("{ORDERS}/customer/{customer}")),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(body["pagination"]["total_pages"], 0);

    let mut mocks = Mocks::new();
    mocks.directory.expect_exists().returning(|_| Ok(false));
    let (status, headers, body) = call(
        mocks,
        test::TestRequest::get().uri(&format!("{ORDERS}/customer/{customer}")),
    )
    .await;
    assert_eq!(status, 404);
    problem(404, &headers, &body, "customer_not_found");

    let mut mocks = Mocks::new();
    mocks
        .orders
        .expect_list()
        .withf(|f, _| f.status == Some(OrderStatus::Fulfilled))
        .returning(|_, p| Ok(Page::exact(vec![], p, 0)));
    let (status, _, _) = call(
        mocks,
        test::TestRequest::get().uri(&format!("{ORDERS}/status/fulfilled")),
    )
    .await;
    assert_eq!(status, 200);

    let (status, headers, body) = call(
        Mocks::new(),
        test::TestRequest::get().uri(&format!("{ORDERS}/status/shipped")),
    )
    .await;
    assert_eq!(status, 400);
    problem(400, &headers, &body, "invalid_parameter");
    assert_eq!(body["field"], "status");
}

// ----- transitions -----

#[actix_web::test]
async fn transitions_succeed_from_the_right_state() {
    let cases = [
        ("confirm", OrderStatus::Pending, "confirmed"),
        ("process", OrderStatus::Confirmed, "processing"),
        ("fulfill", OrderStatus::Processing, "fulfilled"),
        ("cancel", OrderStatus::Processing, "cancelled"),
    ];
    for (action, from, to) in cases {
        let order = order_in(from);
        let req = test::TestRequest::post().uri(&format!("{ORDERS}/{}/{action}", order.id()));
        let (status, headers, body) = call(Mocks::new().stored(&order), req).await;
        assert_eq!(status, 200, "{action}: {body}");
        assert_eq!(body["data"]["status"], to);
        let version = order.version() + 1;
        assert_eq!(
            headers.get(header::ETAG).unwrap().to_str().unwrap(),
            format!("\"{version}\"")
        );
    }
}

#[actix_web::test]
async fn cancel_records_the_reason() {
    let order = order_in(OrderStatus::Confirmed);
    let req = post_json(
        &format!("{ORDERS}/{}/cancel", order.id()),
        json!({"reason": "customer request"}),
    );
    let (status, _, body) = call(Mocks::new().stored(&order), req).await;
    assert_eq!(status, 200);
    assert_eq!(body["data"]["cancellation_reason"], "customer request");
    assert!(body["data"]["cancelled_at"].is_string());
}

#[actix_web::test]
async fn cancel_without_a_body_or_with_a_null_body_has_no_reason() {
    for body in [None, Some("null"), Some(" ")] {
        let order = order_in(OrderStatus::Confirmed);
        let mut req = test::TestRequest::post().uri(&format!("{ORDERS}/{}/cancel", order.id()));
        if let Some(body) = body {
            req = req
                .insert_header((header::CONTENT_TYPE, "application/json"))
                .set_payload(body);
        }
        let (status, _, response) = call(Mocks::new().stored(&order), req).await;
        assert_eq!(status, 200, "{body:?}: {response}");
        assert_eq!(response["data"]["status"], "cancelled", "{body:?}");
        assert!(
            response["data"]["cancellation_reason"].is_null(),
            "{body:?}"
        );
    }
}

#[actix_web::test]
async fn forbidden_transitions_are_409_with_the_domain_code() {
    let cases = [
        ("confirm", pending_order(), "order_empty"),
        (
            "process",
            order_in(OrderStatus::Pending),
            "invalid_order_status",
        ),
        (
            "fulfill",
            order_in(OrderStatus::Confirmed),
            "invalid_order_status",
        ),
        (
            "confirm",
            order_in(OrderStatus::Cancelled),
            "invalid_order_status",
        ),
        (
            "cancel",
            order_in(OrderStatus::Fulfilled),
            "fulfilled_order_not_cancellable",
        ),
        (
            "cancel",
            order_in(OrderStatus::Cancelled),
            "order_already_cancelled",
        ),
    ];
    for (action, order, code) in cases {
        let req = test::TestRequest::post().uri(&format!("{ORDERS}/{}/{action}", order.id()));
        let (status, headers, body) = call(Mocks::new().stored(&order), req).await;
        assert_eq!(status, 409, "{action} {code}: {body}");
        problem(409, &headers, &body, code);
    }
}

#[actix_web::test]
async fn a_stale_if_match_is_412_and_a_malformed_one_400() {
    let order = order_with_lines();
    let req = test::TestRequest::post()
        .uri(&format!("{ORDERS}/{}/confirm", order.id()))
        .insert_header((header::IF_MATCH, "\"1\""));
    let (status, headers, body) = call(Mocks::new().stored(&order), req).await;
    assert_eq!(status, 412);
    problem(412, &headers, &body, "version_mismatch");

    let req = test::TestRequest::post()
        .uri(&format!("{ORDERS}/{}/confirm", order.id()))
        .insert_header((header::IF_MATCH, "\"3\""));
    let (status, _, _) = call(Mocks::new().stored(&order), req).await;
    assert_eq!(status, 200);

    let req = test::TestRequest::post()
        .uri(&format!("{ORDERS}/{}/confirm", order.id()))
        .insert_header((header::IF_MATCH, "three"));
    let (status, headers, body) = call(Mocks::new().stored(&order), req).await;
    assert_eq!(status, 400);
    problem(400, &headers, &body, "invalid_precondition");
}

/// A confirm of `order` (or a missing one) with these `If-Match` values.
async fn confirm_if_match(order: &Order, stored: bool, values: &[&str]) -> (u16, Value) {
    let mut req = test::TestRequest::post().uri(&format!("{ORDERS}/{}/confirm", order.id()));
    for value in values {
        req = req.append_header((header::IF_MATCH, *value));
    }
    let mocks = if stored {
        Mocks::new().stored(order)
    } else {
        let mut mocks = Mocks::new();
        mocks.orders.expect_find_by_id().returning(|_| Ok(None));
        mocks.orders.expect_update().never();
        mocks
    };
    let (status, headers, body) = call(mocks, req).await;
    if status >= 400 {
        assert_eq!(
            headers.get(header::CONTENT_TYPE).unwrap(),
            "application/problem+json"
        );
    }
    (status, body)
}

#[actix_web::test]
async fn if_match_star_proceeds_when_the_order_exists_and_is_412_when_it_does_not() {
    let order = order_with_lines();
    assert_eq!(confirm_if_match(&order, true, &["*"]).await.0, 200);
    let (status, body) = confirm_if_match(&order, false, &["*"]).await;
    assert_eq!(status, 412, "{body}");
    assert_eq!(body["code"], "precondition_failed");
}

#[actix_web::test]
async fn if_match_with_a_list_of_etags_matches_any_of_them() {
    let order = order_with_lines();
    assert_eq!(order.version(), 3);
    assert_eq!(
        confirm_if_match(&order, true, &["\"1\", \"3\""]).await.0,
        200
    );
    assert_eq!(
        confirm_if_match(&order, true, &["\"1\"", "\"3\""]).await.0,
        200
    );
    assert_eq!(
        confirm_if_match(&order, true, &["\"x\", \"3\""]).await.0,
        200
    );
    let (status, body) = confirm_if_match(&order, true, &["\"1\", \"2\""]).await;
    assert_eq!(status, 412, "{body}");
    assert_eq!(body["code"], "version_mismatch");
    // A list naming a missing order: not found, as without the precondition.
    assert_eq!(
        confirm_if_match(&order, false, &["\"1\", \"3\""]).await.0,
        404
    );
}

#[actix_web::test]
async fn weak_etags_never_match_if_match() {
    let order = order_with_lines();
    for values in [&["W/\"3\""][..], &["W/\"3\", W/\"1\""], &["\"03\""]] {
        let (status, body) = confirm_if_match(&order, true, values).await;
        assert_eq!(status, 412, "{values:?}: {body}");
        assert_eq!(body["code"], "precondition_failed", "{values:?}");
    }
    // A weak tag beside a strong one that matches: the strong one decides.
    assert_eq!(
        confirm_if_match(&order, true, &["W/\"1\", \"3\""]).await.0,
        200
    );
}

#[actix_web::test]
async fn head_is_answered_for_every_get_route_with_the_get_headers() {
    let order = order_with_lines();
    let id = order.id();
    let mocks = || {
        let mut mocks = Mocks::new().stored(&order);
        let listed = order.clone();
        mocks
            .orders
            .expect_list()
            .returning(move |_, p| Ok(Page::exact(vec![listed.clone()], p, 1)));
        let by_number = order.clone();
        mocks
            .orders
            .expect_find_by_number()
            .returning(move |_| Ok(Some(by_number.clone())));
        mocks.directory.expect_exists().returning(|_| Ok(true));
        mocks.health.expect_check().returning(|| Ok(()));
        mocks.health.expect_pool_stats().returning(Default::default);
        mocks
            .customers
            .expect_list()
            .returning(|p| Ok(Page::exact(vec![], p, 0)));
        mocks.customers.expect_find_by_id().returning(|_| Ok(None));
        mocks
    };
    let head = |uri: String| {
        test::TestRequest::default()
            .method(actix_web::http::Method::HEAD)
            .uri(&uri)
    };
    let number = order.number().to_string();
    let customer = order.customer_id();
    for (uri, status) in [
        (format!("{ORDERS}/{id}"), 200),
        (format!("{ORDERS}/number/{number}"), 200),
        (ORDERS.to_owned(), 200),
        (format!("{ORDERS}/customer/{customer}"), 200),
        (format!("{ORDERS}/status/pending"), 200),
        (format!("{ORDERS}/{}", Uuid::now_v7()), 404),
        ("/api/v1/customer-mgmt/customers".to_owned(), 200),
        (
            format!("/api/v1/customer-mgmt/customers/{}", Uuid::now_v7()),
            404,
        ),
        ("/health".to_owned(), 200),
        ("/ready".to_owned(), 200),
        ("/metrics".to_owned(), 200),
        ("/api-docs/openapi.json".to_owned(), 200),
    ] {
        let app = test::init_service(App::new().configure(configure(mocks().state()))).await;
        let response = test::call_service(&app, head(uri.clone()).to_request()).await;
        assert_eq!(response.status().as_u16(), status, "HEAD {uri}");
        assert!(
            response.headers().get(header::CONTENT_TYPE).is_some(),
            "HEAD {uri}"
        );
    }
    let (_, headers, _) = call(mocks(), head(format!("{ORDERS}/{id}"))).await;
    assert_eq!(headers.get(header::ETAG).unwrap(), "\"3\"");
}

#[actix_web::test]
async fn delete_is_204_for_pending_and_409_for_confirmed() {
    let order = pending_order();
    let (status, _, body) = call(
        Mocks::new().stored(&order),
        test::TestRequest::delete().uri(&format!("{ORDERS}/{}", order.id())),
    )
    .await;
    assert_eq!(status, 204);
    assert!(body.is_null());

    let order = order_in(OrderStatus::Confirmed);
    let (status, headers, body) = call(
        Mocks::new().stored(&order),
        test::TestRequest::delete().uri(&format!("{ORDERS}/{}", order.id())),
    )
    .await;
    assert_eq!(status, 409);
    problem(409, &headers, &body, "order_not_deletable");
}

// ----- lines -----

#[actix_web::test]
async fn add_line_answers_201_with_the_new_totals_and_the_line_location() {
    let order = pending_order();
    let req = post_json(
        &format!("{ORDERS}/{}/lines", order.id()),
        json!({"product_id": Uuid::now_v7(), "quantity": 3, "unit_price": 10000, "currency": "USD"}),
    );
    let (status, headers, body) = call(Mocks::new().stored(&order), req).await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["data"]["total"]["amount"], 30000);
    assert_eq!(body["data"]["total"]["formatted"], "300.00");
    let line = body["data"]["lines"][0]["id"].as_str().unwrap();
    let location = headers.get(header::LOCATION).unwrap().to_str().unwrap();
    assert_eq!(location, format!("{ORDERS}/{}/lines/{line}", order.id()));
}

#[actix_web::test]
async fn add_line_rejections() {
    let order = pending_order();
    let p = Uuid::now_v7();
    let cases = [
        (
            json!({"product_id": p, "quantity": 0, "unit_price": 1, "currency": "USD"}),
            422,
            "invalid_quantity",
            Some("quantity"),
        ),
        (
            json!({"product_id": p, "quantity": 1_000_001, "unit_price": 1, "currency": "USD"}),
            422,
            "invalid_quantity",
            Some("quantity"),
        ),
        (
            json!({"product_id": p, "quantity": 1, "unit_price": -1, "currency": "USD"}),
            422,
            "invalid_price",
            Some("unit_price"),
        ),
        (
            json!({"product_id": p, "quantity": 1, "unit_price": 1, "currency": "EUR"}),
            422,
            "currency_mismatch",
            Some("currency"),
        ),
        (
            json!({"product_id": p, "quantity": 1_000_000, "unit_price": 1_000_000_000_000_000_i64, "currency": "USD"}),
            422,
            "amount_overflow",
            Some("unit_price"),
        ),
        (
            json!({"product_id": p, "quantity": 1, "unit_price": i64::MAX, "currency": "USD"}),
            422,
            "invalid_price",
            Some("unit_price"),
        ),
        (
            json!({"product_id": p, "quantity": 1.5, "unit_price": 1, "currency": "USD"}),
            422,
            "invalid_body",
            Some("quantity"),
        ),
        (
            json!({"product_id": p, "quantity": 1, "unit_price": "1", "currency": "USD"}),
            422,
            "invalid_body",
            Some("unit_price"),
        ),
        (
            json!({"product_id": p, "quantity": 1, "unit_price": 1, "currency": "USD", "sku": "s".repeat(65)}),
            422,
            "invalid_text",
            Some("sku"),
        ),
    ];
    for (body, status, code, field) in cases {
        let req = post_json(&format!("{ORDERS}/{}/lines", order.id()), body.clone());
        let mut mocks = Mocks::new();
        let stored = order.clone();
        mocks
            .orders
            .expect_find_by_id()
            .returning(move |_| Ok(Some(stored.clone())));
        mocks.orders.expect_update().never();
        let (got, headers, problem_body) = call(mocks, req).await;
        assert_eq!(got, status, "{body}: {problem_body}");
        problem(status, &headers, &problem_body, code);
        if let Some(field) = field {
            assert_eq!(problem_body["field"], field, "{body}");
        }
    }
}

#[actix_web::test]
async fn editing_lines_of_a_confirmed_order_is_409() {
    let order = order_in(OrderStatus::Confirmed);
    let line = order.lines()[0].id();
    let requests = [
        post_json(
            &format!("{ORDERS}/{}/lines", order.id()),
            json!({"product_id": Uuid::now_v7(), "quantity": 1, "unit_price": 1, "currency": "USD"}),
        ),
        test::TestRequest::put()
            .uri(&format!("{ORDERS}/{}/lines/{line}", order.id()))
            .set_json(json!({"quantity": 9})),
        test::TestRequest::delete().uri(&format!("{ORDERS}/{}/lines/{line}", order.id())),
    ];
    for req in requests {
        let (status, headers, body) = call(Mocks::new().stored(&order), req).await;
        assert_eq!(status, 409, "{body}");
        problem(409, &headers, &body, "order_not_editable");
    }
}

#[actix_web::test]
async fn update_and_remove_line() {
    let order = order_with_lines();
    let line = order.lines()[0].id();
    let req = test::TestRequest::put()
        .uri(&format!("{ORDERS}/{}/lines/{line}", order.id()))
        .set_json(json!({"quantity": 1}));
    let (status, _, body) = call(Mocks::new().stored(&order), req).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"]["total"]["amount"], 25000);

    let req = test::TestRequest::delete().uri(&format!("{ORDERS}/{}/lines/{line}", order.id()));
    let (status, headers, _) = call(Mocks::new().stored(&order), req).await;
    assert_eq!(status, 204);
    assert_eq!(headers.get(header::ETAG).unwrap(), "\"4\"");

    let missing = Uuid::now_v7();
    let req = test::TestRequest::delete().uri(&format!("{ORDERS}/{}/lines/{missing}", order.id()));
    let (status, headers, body) = call(Mocks::new().stored(&order), req).await;
    assert_eq!(status, 404);
    problem(404, &headers, &body, "line_not_found");

    let req = test::TestRequest::put()
        .uri(&format!("{ORDERS}/{}/lines/xyz", order.id()))
        .set_json(json!({"quantity": 1}));
    let (status, _, body) = call(Mocks::new().stored(&order), req).await;
    assert_eq!(status, 400);
    assert_eq!(body["field"], "line_id");
}

// ----- infrastructure errors -----

#[actix_web::test]
async fn an_unavailable_database_is_503_with_retry_after_and_no_details() {
    let mut mocks = Mocks::new();
    mocks.orders.expect_find_by_id().returning(|_| {
        Err(RepositoryError::Unavailable(
            "connection refused to 10.0.0.5:5432".into(),
        ))
    });
    let (status, headers, body) = call(
        mocks,
        test::TestRequest::get().uri(&format!("{ORDERS}/{}", Uuid::now_v7())),
    )
    .await;
    assert_eq!(status, 503);
    problem(503, &headers, &body, "service_unavailable");
    assert!(headers.get(header::RETRY_AFTER).is_some());
    assert!(!body.to_string().contains("10.0.0.5"));
}

#[actix_web::test]
async fn an_unexpected_storage_error_is_500_without_sql() {
    let mut mocks = Mocks::new();
    mocks
        .orders
        .expect_find_by_id()
        .returning(|_| Err(RepositoryError::Unexpected("syntax error at SELECT".into())));
    let (status, headers, body) = call(
        mocks,
        test::TestRequest::get().uri(&format!("{ORDERS}/{}", Uuid::now_v7())),
    )
    .await;
    assert_eq!(status, 500);
    problem(500, &headers, &body, "internal_error");
    assert!(!body.to_string().contains("SELECT"));
}

#[actix_web::test]
async fn unknown_routes_are_problem_json_404() {
    let (status, headers, body) = call(
        Mocks::new(),
        test::TestRequest::get().uri("/api/v1/nothing"),
    )
    .await;
    assert_eq!(status, 404);
    problem(404, &headers, &body, "route_not_found");
}

#[actix_web::test]
async fn a_known_path_with_another_method_is_405_naming_the_allowed_ones() {
    let id = Uuid::now_v7();
    let cases = [
        (
            actix_web::http::Method::PUT,
            format!("{ORDERS}/{id}"),
            "GET, HEAD, DELETE",
        ),
        (
            actix_web::http::Method::GET,
            format!("{ORDERS}/{id}/confirm"),
            "POST",
        ),
        (
            actix_web::http::Method::PATCH,
            ORDERS.to_owned(),
            "POST, GET, HEAD",
        ),
        (
            actix_web::http::Method::POST,
            format!("{ORDERS}/{id}/lines/{id}"),
            "PUT, DELETE",
        ),
        (
            actix_web::http::Method::TRACE,
            "/health".to_owned(),
            "GET, HEAD",
        ),
        (
            actix_web::http::Method::DELETE,
            "/metrics".to_owned(),
            "GET, HEAD",
        ),
    ];
    for (method, uri, allowed) in cases {
        let req = test::TestRequest::default()
            .method(method.clone())
            .uri(&uri);
        let (status, headers, body) = call(Mocks::new(), req).await;
        assert_eq!(status, 405, "{method} {uri}: {body}");
        problem(405, &headers, &body, "method_not_allowed");
        assert_eq!(
            headers.get(header::ALLOW).unwrap(),
            allowed,
            "{method} {uri}"
        );
    }
}

// ----- customers -----

const CUSTOMERS: &str = "/api/v1/customer-mgmt/customers";

#[actix_web::test]
async fn create_customer_as_in_the_description() {
    let mut mocks = Mocks::new();
    mocks
        .customers
        .expect_insert()
        .times(1)
        .returning(|_, _| Ok(()));
    let req = post_json(
        CUSTOMERS,
        json!({"name": "John Doe", "email": "john@example.com", "source": "web"}),
    );
    let (status, headers, body) = call(mocks, req).await;
    assert_eq!(status, 201, "{body}");
    let id = body["data"]["id"].as_str().unwrap();
    assert_eq!(
        headers.get(header::LOCATION).unwrap().to_str().unwrap(),
        format!("{CUSTOMERS}/{id}")
    );
    assert_eq!(body["data"]["email"], "john@example.com");
    assert_eq!(body["data"]["source"], "web");
}

#[actix_web::test]
async fn create_customer_rejections() {
    let cases = [
        (
            json!({"name": "", "email": "j@example.com"}),
            422,
            "validation_failed",
            "name",
        ),
        (
            json!({"name": "J", "email": "nope"}),
            422,
            "validation_failed",
            "email",
        ),
        (json!({"name": "J"}), 422, "invalid_body", "email"),
    ];
    for (body, status, code, field) in cases {
        let mut mocks = Mocks::new();
        mocks.customers.expect_insert().never();
        let (got, headers, problem_body) = call(mocks, post_json(CUSTOMERS, body.clone())).await;
        assert_eq!(got, status, "{body}");
        problem(status, &headers, &problem_body, code);
        assert_eq!(problem_body["field"], field);
    }
    let mut mocks = Mocks::new();
    mocks
        .customers
        .expect_insert()
        .returning(|_, _| Err(RepositoryError::Duplicate("email".into())));
    let (status, headers, body) = call(
        mocks,
        post_json(CUSTOMERS, json!({"name": "J", "email": "j@example.com"})),
    )
    .await;
    assert_eq!(status, 409);
    problem(409, &headers, &body, "conflict");
}

#[actix_web::test]
async fn get_and_list_customers() {
    let customer = Customer::create(
        CustomerId::from_uuid(Uuid::now_v7()),
        NewCustomer {
            name: "John Doe".into(),
            email: "john@example.com".into(),
            source: None,
        },
        now(),
    )
    .unwrap();
    let id = customer.id();
    let stored = customer.clone();
    let mut mocks = Mocks::new();
    mocks
        .customers
        .expect_find_by_id()
        .returning(move |i| Ok((i == id).then(|| stored.clone())));
    let (status, _, body) = call(
        mocks,
        test::TestRequest::get().uri(&format!("{CUSTOMERS}/{id}")),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(body["data"]["name"], "John Doe");

    let mut mocks = Mocks::new();
    mocks.customers.expect_find_by_id().returning(|_| Ok(None));
    let (status, headers, body) = call(
        mocks,
        test::TestRequest::get().uri(&format!("{CUSTOMERS}/{}", Uuid::now_v7())),
    )
    .await;
    assert_eq!(status, 404);
    problem(404, &headers, &body, "customer_not_found");

    let mut mocks = Mocks::new();
    mocks
        .customers
        .expect_list()
        .returning(move |p| Ok(Page::exact(vec![customer.clone()], p, 1)));
    let (status, _, body) = call(
        mocks,
        test::TestRequest::get().uri(&format!("{CUSTOMERS}?page=1&page_size=10")),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(body["pagination"]["total_items"], 1);
    assert_eq!(body["data"][0]["id"], id.to_string());
}

// ----- operations -----

#[actix_web::test]
async fn health_is_always_ok_and_ready_follows_the_database() {
    let (status, _, body) = call(Mocks::new(), test::TestRequest::get().uri("/health")).await;
    assert_eq!((status, body["status"].as_str()), (200, Some("ok")));

    let mut mocks = Mocks::new();
    mocks.health.expect_check().returning(|| Ok(()));
    let (status, _, body) = call(mocks, test::TestRequest::get().uri("/ready")).await;
    assert_eq!((status, body["status"].as_str()), (200, Some("ready")));

    let mut mocks = Mocks::new();
    mocks
        .health
        .expect_check()
        .returning(|| Err(RepositoryError::Unavailable("refused".into())));
    let (status, headers, body) = call(mocks, test::TestRequest::get().uri("/ready")).await;
    assert_eq!(status, 503);
    problem(503, &headers, &body, "service_unavailable");

    // A schema behind this build's migrations is not ready either.
    let mut mocks = Mocks::new();
    mocks.health.expect_check().returning(|| {
        Err(RepositoryError::Unexpected(
            "3 of 4 migrations applied".into(),
        ))
    });
    let (status, headers, body) = call(mocks, test::TestRequest::get().uri("/ready")).await;
    assert_eq!(status, 503);
    problem(503, &headers, &body, "service_unavailable");
    assert!(!body.to_string().contains("migrations"), "{body}");
}

#[actix_web::test]
async fn request_ids_are_echoed_or_generated() {
    let req = test::TestRequest::get()
        .uri("/health")
        .insert_header(("x-request-id", "abc-123"));
    let (_, headers, _) = call(Mocks::new(), req).await;
    assert_eq!(headers.get("x-request-id").unwrap(), "abc-123");
    let req = test::TestRequest::get()
        .uri("/health")
        .insert_header(("x-request-id", "bad id with spaces"));
    let (_, headers, _) = call(Mocks::new(), req).await;
    let generated = headers.get("x-request-id").unwrap().to_str().unwrap();
    assert!(Uuid::parse_str(generated).is_ok(), "{generated}");
}

#[actix_web::test]
async fn metrics_count_requests_by_route_template_and_transitions() {
    let order = order_with_lines();
    let mut mocks = Mocks::new().stored(&order);
    mocks.health.expect_pool_stats().returning(|| PoolStats {
        max_size: 8,
        connections: 3,
        idle: 1,
        waits_total: 2,
        timeouts_total: 0,
    });
    let app = test::init_service(
        App::new()
            .wrap(from_fn(observe_request))
            .configure(configure(mocks.state())),
    )
    .await;
    let confirm = test::TestRequest::post()
        .uri(&format!("{ORDERS}/{}/confirm", order.id()))
        .to_request();
    assert_eq!(test::call_service(&app, confirm).await.status(), 200);
    let get = test::TestRequest::get()
        .uri(&format!("{ORDERS}/{}", order.id()))
        .to_request();
    assert_eq!(test::call_service(&app, get).await.status(), 200);
    let response =
        test::call_service(&app, test::TestRequest::get().uri("/metrics").to_request()).await;
    assert_eq!(response.status(), 200);
    let text = String::from_utf8(test::read_body(response).await.to_vec()).unwrap();
    assert!(
        text.contains(r#"http_requests_total{method="POST",route="/api/v1/order-mgmt/orders/{id}/confirm",status="200"} 1"#),
        "{text}"
    );
    assert!(text.contains(
        r#"http_requests_total{method="GET",route="/api/v1/order-mgmt/orders/{id}",status="200"} 1"#
    ));
    assert!(text.contains(r#"order_transitions_total{kind="confirm"} 1"#));
    assert!(text.contains(r#"db_pool_connections{state="in_use"} 2"#));
    assert!(text.contains("http_request_duration_seconds_bucket"));
}

#[actix_web::test]
async fn the_openapi_document_and_swagger_ui_are_served() {
    let (status, _, body) = call(
        Mocks::new(),
        test::TestRequest::get().uri("/api-docs/openapi.json"),
    )
    .await;
    assert_eq!(status, 200);
    assert!(body["paths"]["/api/v1/order-mgmt/orders"]["post"].is_object());
    let app = test::init_service(App::new().configure(configure(Mocks::new().state()))).await;
    let response =
        test::call_service(&app, test::TestRequest::get().uri("/docs/").to_request()).await;
    assert_eq!(response.status(), 200);
    let html = String::from_utf8(test::read_body(response).await.to_vec()).unwrap();
    assert!(html.contains("swagger-ui"), "{html}");
}

// ----- idempotency -----

fn claimed() -> ClaimedKey {
    ClaimedKey {
        key: IdempotencyKey {
            scope: "POST /api/v1/order-mgmt/orders".into(),
            key: "key-1".into(),
        },
        token: "token-1".into(),
    }
}

fn create_request(customer: Uuid) -> test::TestRequest {
    post_json(ORDERS, json!({"customer_id": customer, "currency": "USD"}))
        .insert_header(("Idempotency-Key", "key-1"))
}

#[actix_web::test]
async fn a_first_idempotent_create_stores_its_order_and_a_retry_renders_the_same_bytes() {
    use std::sync::Mutex;
    let written = Arc::new(Mutex::new(None::<Order>));
    let mut mocks = Mocks::new();
    mocks.directory.expect_exists().returning(|_| Ok(true));
    mocks
        .numbers
        .expect_next_number()
        .returning(|y| Ok(OrderNumber::new(y, 1).unwrap()));
    mocks
        .idempotency
        .expect_begin()
        .withf(|key, fingerprint, _, _| {
            key.scope == "POST /api/v1/order-mgmt/orders"
                && key.key == "key-1"
                && fingerprint.len() == 64
        })
        .returning(|_, _, _, _| Ok(Claim::Acquired(claimed())));
    let sink = written.clone();
    mocks
        .orders
        .expect_insert()
        .times(1)
        .returning(move |order, receipt| {
            let receipt = receipt.expect("the claim travels with the insert");
            assert_eq!(receipt.claim, claimed());
            assert_eq!(receipt.line, None);
            let mut order = order.clone();
            order.take_events();
            *sink.lock().unwrap() = Some(order);
            Ok(())
        });
    // The write's transaction completed the claim: nothing is stored afterwards.
    mocks.idempotency.expect_refuse().never();
    mocks.idempotency.expect_release().never();
    let app = test::init_service(App::new().configure(configure(mocks.state()))).await;
    let response = test::call_service(&app, create_request(Uuid::now_v7()).to_request()).await;
    assert_eq!(response.status(), 201);
    assert!(response.headers().get("idempotent-replayed").is_none());
    let first_headers = response.headers().clone();
    let first = test::read_body(response).await;

    // The retry finds what the first request wrote and renders it again.
    let order = written.lock().unwrap().clone().unwrap();
    let mut mocks = Mocks::new();
    mocks.orders.expect_insert().never();
    mocks.numbers.expect_next_number().never();
    mocks
        .idempotency
        .expect_begin()
        .returning(move |_, _, _, _| {
            Ok(Claim::Replay(Outcome::Order {
                order: Box::new(order.clone()),
                line: None,
            }))
        });
    let app = test::init_service(App::new().configure(configure(mocks.state()))).await;
    let response = test::call_service(&app, create_request(Uuid::now_v7()).to_request()).await;
    assert_eq!(response.status(), 201);
    assert_eq!(
        response.headers().get("idempotent-replayed").unwrap(),
        "true"
    );
    for name in [header::LOCATION, header::ETAG, header::CONTENT_TYPE] {
        assert_eq!(
            response.headers().get(&name),
            first_headers.get(&name),
            "{name}"
        );
    }
    assert_eq!(
        test::read_body(response).await,
        first,
        "the replay is the first answer byte for byte"
    );
}

#[actix_web::test]
async fn a_retry_replays_the_stored_answer_without_a_second_effect() {
    let order = pending_order();
    let id = order.id();
    let mut mocks = Mocks::new();
    mocks.orders.expect_insert().never();
    mocks
        .idempotency
        .expect_begin()
        .returning(move |_, _, _, _| {
            Ok(Claim::Replay(Outcome::Order {
                order: Box::new(order.clone()),
                line: None,
            }))
        });
    let (status, headers, body) = call(mocks, create_request(Uuid::now_v7())).await;
    assert_eq!(status, 201);
    assert_eq!(headers.get("idempotent-replayed").unwrap(), "true");
    assert_eq!(
        headers.get(header::LOCATION).unwrap().to_str().unwrap(),
        format!("/api/v1/order-mgmt/orders/{id}")
    );
    assert_eq!(body["data"]["id"], id.to_string());
}

#[actix_web::test]
async fn a_retried_add_line_replays_the_location_of_its_line() {
    let order = order_with_lines();
    let (id, line) = (order.id(), order.lines()[1].id());
    let mut mocks = Mocks::new();
    mocks.orders.expect_update().never();
    mocks
        .idempotency
        .expect_begin()
        .returning(move |_, _, _, _| {
            Ok(Claim::Replay(Outcome::Order {
                order: Box::new(order.clone()),
                line: Some(line),
            }))
        });
    let req = post_json(
        &format!("{ORDERS}/{id}/lines"),
        json!({"product_id": Uuid::now_v7(), "quantity": 1, "unit_price": 1, "currency": "USD"}),
    )
    .insert_header(("Idempotency-Key", "line-1"));
    let (status, headers, _) = call(mocks, req).await;
    assert_eq!(status, 201);
    assert_eq!(
        headers.get(header::LOCATION).unwrap().to_str().unwrap(),
        format!("/api/v1/order-mgmt/orders/{id}/lines/{line}")
    );
}

#[actix_web::test]
async fn a_retried_refusal_replays_the_recorded_refusal() {
    let record = b"409 application/problem+json\n{\"code\":\"order_empty\"}".to_vec();
    let mut mocks = Mocks::new();
    mocks.orders.expect_find_by_id().never();
    mocks
        .idempotency
        .expect_begin()
        .returning(move |_, _, _, _| Ok(Claim::Replay(Outcome::Refused(record.clone()))));
    let req = test::TestRequest::post()
        .uri(&format!("{ORDERS}/{}/confirm", Uuid::now_v7()))
        .insert_header(("Idempotency-Key", "confirm-1"));
    let (status, headers, body) = call(mocks, req).await;
    assert_eq!(status, 409);
    assert_eq!(headers.get("idempotent-replayed").unwrap(), "true");
    assert_eq!(
        headers.get(header::CONTENT_TYPE).unwrap(),
        "application/problem+json"
    );
    assert_eq!(body["code"], "order_empty");
}

#[actix_web::test]
async fn in_flight_and_reused_keys_are_409_and_422() {
    for (claim, status, code) in [
        (Claim::InFlight, 409, "idempotency_request_in_flight"),
        (Claim::Mismatch, 422, "idempotency_key_reused"),
    ] {
        let mut mocks = Mocks::new();
        mocks.orders.expect_insert().never();
        mocks
            .idempotency
            .expect_begin()
            .returning(move |_, _, _, _| Ok(claim.clone()));
        let (got, headers, body) = call(mocks, create_request(Uuid::now_v7())).await;
        assert_eq!(got, status);
        problem(status, &headers, &body, code);
    }
}

#[actix_web::test]
async fn a_refusal_is_recorded_and_an_outage_releases_the_claim() {
    let mut mocks = Mocks::new();
    mocks
        .numbers
        .expect_next_number()
        .returning(|y| Ok(OrderNumber::new(y, 1).unwrap()));
    mocks
        .orders
        .expect_insert()
        .returning(|o, _| Err(RepositoryError::UnknownCustomer(o.customer_id())));
    mocks
        .idempotency
        .expect_begin()
        .returning(|_, _, _, _| Ok(Claim::Acquired(claimed())));
    mocks
        .idempotency
        .expect_refuse()
        .withf(|claim, record| {
            let record = String::from_utf8_lossy(record);
            *claim == claimed()
                && record.starts_with("422 application/problem+json\n")
                && record.contains("customer_not_found")
        })
        .times(1)
        .returning(|_, _| Ok(()));
    mocks.idempotency.expect_release().never();
    let (status, _, _) = call(mocks, create_request(Uuid::now_v7())).await;
    assert_eq!(status, 422);

    let mut mocks = Mocks::new();
    mocks
        .numbers
        .expect_next_number()
        .returning(|_| Err(RepositoryError::Unavailable("down".into())));
    mocks
        .idempotency
        .expect_begin()
        .returning(|_, _, _, _| Ok(Claim::Acquired(claimed())));
    mocks.idempotency.expect_refuse().never();
    mocks
        .idempotency
        .expect_release()
        .times(1)
        .returning(|_| Ok(()));
    let (status, _, _) = call(mocks, create_request(Uuid::now_v7())).await;
    assert_eq!(status, 503);
}

/// A confirm of `order` with an `Idempotency-Key` (and `If-Match`, if given).
fn keyed_confirm(order: &Order, if_match: Option<&str>) -> test::TestRequest {
    let mut req = test::TestRequest::post()
        .uri(&format!("{ORDERS}/{}/confirm", order.id()))
        .insert_header(("Idempotency-Key", "key-1"));
    if let Some(tag) = if_match {
        req = req.insert_header((header::IF_MATCH, tag));
    }
    req
}

#[actix_web::test]
async fn a_412_releases_the_key_and_the_corrected_retry_is_another_request() {
    use std::sync::Mutex;
    let order = order_with_lines();
    let prints = Arc::new(Mutex::new(Vec::<String>::new()));
    let mut mocks = Mocks::new().stored(&order);
    let seen = prints.clone();
    mocks
        .idempotency
        .expect_begin()
        .returning(move |_, fingerprint, _, _| {
            seen.lock().unwrap().push(fingerprint.to_owned());
            Ok(Claim::Acquired(claimed()))
        });
    mocks.idempotency.expect_refuse().never();
    mocks
        .idempotency
        .expect_release()
        .withf(|claim| *claim == claimed())
        .times(1)
        .returning(|_| Ok(()));
    let app = test::init_service(App::new().configure(configure(mocks.state()))).await;
    let stale = test::call_service(&app, keyed_confirm(&order, Some("\"1\"")).to_request()).await;
    assert_eq!(stale.status(), 412, "the stale precondition is refused");
    let fresh = test::call_service(&app, keyed_confirm(&order, Some("\"3\"")).to_request()).await;
    assert_eq!(fresh.status(), 200, "the corrected retry runs");
    let prints = prints.lock().unwrap();
    assert_eq!(prints.len(), 2);
    assert_ne!(prints[0], prints[1], "If-Match is part of the fingerprint");
}

#[actix_web::test]
async fn a_conflict_that_asks_to_retry_releases_the_key_and_is_never_replayed() {
    let order = order_with_lines();
    let mut mocks = Mocks::new();
    let stored = order.clone();
    mocks
        .orders
        .expect_find_by_id()
        .returning(move |_| Ok(Some(stored.clone())));
    // Every attempt loses its race: the use case gives up with a retryable 409.
    mocks
        .orders
        .expect_update()
        .returning(|_, v, _| Err(RepositoryError::Conflict { expected: v }));
    mocks
        .idempotency
        .expect_begin()
        .returning(|_, _, _, _| Ok(Claim::Acquired(claimed())));
    mocks.idempotency.expect_refuse().never();
    mocks
        .idempotency
        .expect_release()
        .withf(|claim| *claim == claimed())
        .times(1)
        .returning(|_| Ok(()));
    let (status, headers, body) = call(mocks, keyed_confirm(&order, None)).await;
    problem(409, &headers, &body, "conflict");
    assert_eq!(status, 409);

    // A final conflict (the order is empty) is still recorded and replayed.
    let empty = pending_order();
    let mut mocks = Mocks::new().stored(&empty);
    mocks
        .idempotency
        .expect_begin()
        .returning(|_, _, _, _| Ok(Claim::Acquired(claimed())));
    mocks.idempotency.expect_release().never();
    mocks
        .idempotency
        .expect_refuse()
        .withf(|_, record| String::from_utf8_lossy(record).contains("order_empty"))
        .times(1)
        .returning(|_, _| Ok(()));
    let (status, _, _) = call(mocks, keyed_confirm(&empty, None)).await;
    assert_eq!(status, 409);
}

#[actix_web::test]
async fn a_claim_whose_release_failed_in_an_outage_is_usable_right_after_it() {
    use std::sync::atomic::{AtomicUsize, Ordering};
    let mut mocks = Mocks::new();
    mocks.directory.expect_exists().returning(|_| Ok(true));
    let numbers = Arc::new(AtomicUsize::new(0));
    mocks.numbers.expect_next_number().returning(move |y| {
        // The database is down for the first request only.
        if numbers.fetch_add(1, Ordering::SeqCst) == 0 {
            Err(RepositoryError::Unavailable("down".into()))
        } else {
            Ok(OrderNumber::new(y, 1).unwrap())
        }
    });
    mocks
        .orders
        .expect_insert()
        .times(1)
        .returning(|_, _| Ok(()));
    let mut order = mockall::Sequence::new();
    mocks
        .idempotency
        .expect_begin()
        .times(1)
        .in_sequence(&mut order)
        .returning(|_, _, _, _| Ok(Claim::Acquired(claimed())));
    // The outage also fails the release of the claim...
    mocks
        .idempotency
        .expect_release()
        .times(1)
        .in_sequence(&mut order)
        .returning(|_| Err(RepositoryError::Unavailable("down".into())));
    // ...which is retried, once the database is back, before the retry's claim.
    mocks
        .idempotency
        .expect_release()
        .withf(|claim| *claim == claimed())
        .times(1)
        .in_sequence(&mut order)
        .returning(|_| Ok(()));
    mocks
        .idempotency
        .expect_begin()
        .times(1)
        .in_sequence(&mut order)
        .returning(|_, _, _, _| Ok(Claim::Acquired(claimed())));
    mocks.idempotency.expect_refuse().never();
    let app = test::init_service(App::new().configure(configure(mocks.state()))).await;
    let customer = Uuid::now_v7();
    let first = test::call_service(&app, create_request(customer).to_request()).await;
    assert_eq!(first.status(), 503);
    let retry = test::call_service(&app, create_request(customer).to_request()).await;
    assert_eq!(
        retry.status(),
        201,
        "the retry is not stuck behind the lease"
    );
}

#[actix_web::test]
async fn malformed_idempotency_keys_are_400_and_gets_ignore_keys() {
    let mut mocks = Mocks::new();
    mocks.idempotency.expect_begin().never();
    let long = "k".repeat(256);
    let req = post_json(ORDERS, json!({})).insert_header(("Idempotency-Key", long.as_str()));
    let (status, headers, body) = call(mocks, req).await;
    assert_eq!(status, 400);
    problem(400, &headers, &body, "invalid_idempotency_key");

    let mut mocks = Mocks::new();
    mocks.idempotency.expect_begin().never();
    mocks.orders.expect_find_by_id().returning(|_| Ok(None));
    let req = test::TestRequest::get()
        .uri(&format!("{ORDERS}/{}", Uuid::now_v7()))
        .insert_header(("Idempotency-Key", "k"));
    assert_eq!(call(mocks, req).await.0, 404);
}

// ----- shipments and returns -----

#[actix_web::test]
async fn a_shipment_answers_201_with_the_order_and_the_shipment_location() {
    let order = order_in(OrderStatus::Processing);
    let line = order.lines()[0].id().to_string();
    let req = post_json(
        &format!("{ORDERS}/{}/fulfillments", order.id()),
        json!({"lines": [{"line_id": line, "quantity": 1}], "carrier": "DHL"}),
    );
    let (status, headers, body) = call(Mocks::new().stored(&order), req).await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["data"]["fulfillment_status"], "partially_fulfilled");
    assert_eq!(body["data"]["lines"][0]["shipped_quantity"], 1);
    let location = headers.get(header::LOCATION).unwrap().to_str().unwrap();
    assert!(
        location.starts_with(&format!("{ORDERS}/{}/fulfillments/", order.id())),
        "{location}"
    );
    assert_eq!(
        headers.get(header::ETAG).unwrap(),
        &format!("\"{}\"", order.version() + 1)
    );
}

#[actix_web::test]
async fn shipment_and_return_refusals_carry_their_codes() {
    let processing = order_in(OrderStatus::Processing);
    let line = processing.lines()[0].id().to_string();
    let fulfillments = format!("{ORDERS}/{}/fulfillments", processing.id());
    let returns = format!("{ORDERS}/{}/returns", processing.id());
    let cases = [
        (
            fulfillments.clone(),
            json!({"lines": [{"line_id": line, "quantity": 99}]}),
            409,
            "quantity_exceeds_unshipped",
        ),
        (
            fulfillments.clone(),
            json!({"lines": []}),
            422,
            "no_lines_given",
        ),
        (
            fulfillments.clone(),
            json!({"lines": [{"line_id": line, "quantity": 1}, {"line_id": line, "quantity": 1}]}),
            422,
            "duplicate_line",
        ),
        (
            fulfillments.clone(),
            json!({"lines": [{"line_id": line, "quantity": 0}]}),
            422,
            "invalid_quantity",
        ),
        (
            fulfillments,
            json!({"lines": [{"line_id": Uuid::now_v7(), "quantity": 1}]}),
            404,
            "line_not_found",
        ),
        (
            returns.clone(),
            json!({"lines": [{"line_id": line, "quantity": 1}], "reason": "x"}),
            409,
            "quantity_exceeds_returnable",
        ),
        (
            returns,
            json!({"lines": [{"line_id": line, "quantity": 1}], "reason": "  "}),
            422,
            "invalid_text",
        ),
    ];
    for (uri, body, want, code) in cases {
        let (status, headers, got) = call(
            Mocks::new().stored(&processing),
            post_json(&uri, body.clone()),
        )
        .await;
        assert_eq!(status, want, "{body}: {got}");
        problem(want, &headers, &got, code);
    }
}

#[actix_web::test]
async fn a_return_answers_201_with_its_refund_amount_and_location() {
    let order = order_in(OrderStatus::Fulfilled);
    let line = order.lines()[0].id().to_string();
    let req = post_json(
        &format!("{ORDERS}/{}/returns", order.id()),
        json!({"lines": [{"line_id": line, "quantity": 1}], "reason": "damaged"}),
    );
    let (status, headers, body) = call(Mocks::new().stored(&order), req).await;
    assert_eq!(status, 201, "{body}");
    let paid = order.lines()[0].total().amount();
    let quantity = i64::from(order.lines()[0].quantity().get());
    assert_eq!(body["data"]["refund_amount"]["amount"], paid / quantity);
    assert_eq!(body["data"]["lines"][0]["quantity"], 1);
    let id = body["data"]["id"].as_str().unwrap();
    assert_eq!(
        headers.get(header::LOCATION).unwrap().to_str().unwrap(),
        format!("{ORDERS}/{}/returns/{id}", order.id())
    );
}
