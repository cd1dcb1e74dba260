//! Status transitions, `If-Match` preconditions (RFC 9110), HEAD and DELETE.

use crate::support::*;

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

#[actix_web::test]
async fn a_malformed_x_actor_is_400_before_any_precondition_is_evaluated() {
    // Found by Schemathesis: an over-long X-Actor with an If-Match list that
    // cannot match was answered 412, as if the request had been well formed.
    let order = order_with_lines();
    let too_long = "a".repeat(order_domain::Actor::MAX_CHARS + 1);
    for method in ["DELETE", "POST"] {
        let uri = match method {
            "DELETE" => format!("{ORDERS}/{}", order.id()),
            _ => format!("{ORDERS}/{}/confirm", order.id()),
        };
        let mut mocks = Mocks::new();
        mocks.orders.expect_find_by_id().never();
        mocks.orders.expect_update().never();
        let req = test::TestRequest::default()
            .method(method.parse().unwrap())
            .uri(&uri)
            .insert_header((header::IF_MATCH, "W/\"1\", \"abc\""))
            .insert_header(("X-Actor", too_long.as_str()));
        let (status, headers, body) = call(mocks, req).await;
        assert_eq!(status, 400, "{method}: {body}");
        problem(400, &headers, &body, "invalid_parameter");
        assert_eq!(body["field"], "X-Actor", "{method}");
    }
}
