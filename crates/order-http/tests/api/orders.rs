//! Creating, reading and listing orders.

use crate::support::*;

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

/// The largest order the domain allows, every text at its longest in 4-byte
/// characters (the most bytes a character takes in the JSON body): 500 lines,
/// 20 discounts, a cancellation reason.
fn largest_order() -> Order {
    let text = |chars: usize| "𝄞".repeat(chars);
    let mut order = pending_order();
    for _ in 0..Order::MAX_LINES {
        order
            .add_line(
                NewLine {
                    line_id: LineId::from_uuid(Uuid::now_v7()),
                    product_id: ProductId::from_uuid(Uuid::now_v7()),
                    quantity: Quantity::new(1_000_000).unwrap(),
                    unit_price: Money::new(999_999_999, Currency::USD),
                    snapshot: ProductSnapshot::new(
                        Some(text(ProductSnapshot::MAX_DESCRIPTION_CHARS)),
                        Some(text(ProductSnapshot::MAX_SKU_CHARS)),
                    )
                    .unwrap(),
                    tax: LineTax::new(
                        TaxRate::parse("12.3456").unwrap(),
                        Some(text(LineTax::MAX_CATEGORY_CHARS)),
                    )
                    .unwrap(),
                },
                now(),
            )
            .unwrap();
    }
    for i in 0..Order::MAX_DISCOUNTS {
        order
            .add_discount(
                NewDiscount {
                    id: DiscountId::from_uuid(Uuid::now_v7()),
                    value: DiscountValue::Fixed(Money::new(1, Currency::USD)),
                    code: Some(format!("{i:02}{}", text(Discount::MAX_CODE_CHARS - 2))),
                    description: Some(text(Discount::MAX_DESCRIPTION_CHARS)),
                },
                now(),
            )
            .unwrap();
    }
    order
        .cancel(Some(text(Order::MAX_REASON_CHARS)), now())
        .unwrap();
    order.take_events();
    order
}

#[actix_web::test]
async fn a_page_of_100_largest_orders_lists_10_lines_each_and_stays_under_9_mib() {
    let order = largest_order();
    let mut mocks = Mocks::new();
    let listed = order.clone();
    mocks
        .orders
        .expect_list()
        .returning(move |_, p| Ok(Page::exact(vec![listed.clone(); 100], p, 100)));
    let (status, _, body) = call(
        mocks,
        test::TestRequest::get().uri(&format!("{ORDERS}?page_size=100")),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let data = body["data"].as_array().unwrap();
    assert_eq!(data.len(), 100);
    for listed in data {
        assert_eq!(listed["lines"].as_array().unwrap().len(), 10);
        assert_eq!(listed["line_count"], 500);
        assert_eq!(listed["discounts"].as_array().unwrap().len(), 20);
    }
    let first: Vec<_> = order
        .lines()
        .iter()
        .take(10)
        .map(|l| l.id().to_string())
        .collect();
    let shown: Vec<_> = data[0]["lines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(shown, first, "a list shows an order's first lines");
    // Re-serialised compactly: the same length as the body sent.
    let bytes = serde_json::to_vec(&body).unwrap().len();
    // docs/api.md states this bound; 100 whole orders would be ~160 MiB.
    assert!(bytes < 9 << 20, "{bytes} bytes");

    // The order itself still shows every line.
    let mut mocks = Mocks::new();
    mocks
        .orders
        .expect_find_by_id()
        .returning(move |_| Ok(Some(order.clone())));
    let (status, _, body) = call(
        mocks,
        test::TestRequest::get().uri(&format!("{ORDERS}/{}", Uuid::now_v7())),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"]["lines"].as_array().unwrap().len(), 500);
    assert_eq!(body["data"]["line_count"], 500);
    let whole = serde_json::to_vec(&body).unwrap().len();
    assert!(whole * 100 > 150 << 20, "{whole} bytes");
}
