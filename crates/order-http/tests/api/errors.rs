//! Infrastructure failures, unknown routes and methods: the problem+json edge.

use crate::support::*;

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

/// A body the API document calls malformed, sent with a stale `If-Match`
/// (or an unknown order) must be refused as malformed (422 with the field's
/// code), never answered 412 or 404 because of the order's state: the
/// document's rules are checked before anything is read. Found by
/// Schemathesis' `negative_data_rejection`, one field at a time; this covers
/// every length, pattern, range and item count the request bodies declare.
#[actix_web::test]
async fn every_body_rule_of_the_document_is_checked_before_the_order_is_read() {
    let order = Uuid::now_v7();
    let line = Uuid::now_v7();
    // `base` with the fields of `extra` added or replaced.
    let with = |base: Value, extra: Value| {
        let mut body = base;
        body.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        body
    };
    let new_line = json!({"product_id": Uuid::now_v7(), "quantity": 1,
                          "unit_price": 100, "currency": "USD"});
    let one_line = json!({"lines": [{"line_id": line, "quantity": 1}]});
    let many_lines: Vec<Value> = (0..=Order::MAX_LINES)
        .map(|_| json!({"line_id": Uuid::now_v7(), "quantity": 1}))
        .collect();
    let lines = format!("{ORDERS}/{order}/lines");
    let ship = format!("{ORDERS}/{order}/fulfillments");
    let returns = format!("{ORDERS}/{order}/returns");
    let discounts = format!("{ORDERS}/{order}/discounts");
    let cancel = format!("{ORDERS}/{order}/cancel");
    let changes = format!("{ORDERS}/{order}/edits/{}/changes", Uuid::now_v7());
    let padded = |max: usize| format!("a{}", " ".repeat(max));
    let add = |extra: Value| with(new_line.clone(), extra);
    let shipped = |extra: Value| with(one_line.clone(), extra);
    #[rustfmt::skip]
    let cases: Vec<(&str, Value, &str)> = vec![
        (&lines, add(json!({"unit_price": -1})), "invalid_price"),
        (&lines, add(json!({"unit_price": 1_000_000_000_000_001_i64})), "invalid_price"),
        (&lines, add(json!({"sku": padded(64)})), "invalid_text"),
        (&lines, add(json!({"description": "a\u{85}b"})), "invalid_text"),
        (&lines, add(json!({"tax_category": padded(64)})), "invalid_text"),
        (&lines, add(json!({"tax_rate": "+19"})), "invalid_tax_rate"),
        (&lines, add(json!({"tax_rate": "19.50000"})), "invalid_tax_rate"),
        (&ship, shipped(json!({"carrier": "x".repeat(101)})), "invalid_text"),
        (&ship, shipped(json!({"tracking_number": padded(200)})), "invalid_text"),
        (&ship, json!({"lines": []}), "no_lines_given"),
        (&ship, json!({"lines": many_lines}), "too_many_records"),
        (&returns, shipped(json!({"reason": padded(500)})), "invalid_text"),
        (&returns, json!({"lines": [], "reason": "broken"}), "no_lines_given"),
        (&discounts, json!({"kind": "fixed", "amount": 0}), "invalid_discount"),
        (&discounts, json!({"kind": "fixed", "amount": 5, "code": padded(64)}), "invalid_text"),
        (&discounts, json!({"kind": "percentage", "percent": "-0"}), "invalid_discount"),
        (&discounts, json!({"kind": "percentage", "percent": "5", "description": padded(500)}), "invalid_text"),
        (&cancel, json!({"reason": padded(500)}), "invalid_text"),
        (&changes, json!({"changes": []}), "no_lines_given"),
        (&changes, json!({"changes": [with(new_line.clone(), json!({"kind": "add_line", "unit_price": -5}))]}), "invalid_price"),
    ];
    for (uri, body, code) in cases {
        let mut mocks = Mocks::new();
        mocks.orders.expect_find_by_id().never();
        mocks.orders.expect_update().never();
        mocks.edits.expect_find().never();
        let req = post_json(uri, body.clone()).insert_header((header::IF_MATCH, "\"99\""));
        let (status, headers, answer) = call(mocks, req).await;
        assert_eq!(status, 422, "{uri} {body}: {answer}");
        problem(422, &headers, &answer, code);
    }
}

#[actix_web::test]
async fn an_update_lines_quantity_is_checked_before_anything_else() {
    let mut mocks = Mocks::new();
    mocks.orders.expect_find_by_id().never();
    let req = test::TestRequest::put()
        .uri(&format!(
            "{ORDERS}/{}/lines/{}",
            Uuid::now_v7(),
            Uuid::now_v7()
        ))
        .set_json(json!({"quantity": 0}))
        .insert_header((header::IF_MATCH, "\"99\""));
    let (status, headers, body) = call(mocks, req).await;
    problem(status, &headers, &body, "invalid_quantity");
    assert_eq!(status, 422);
}

#[actix_web::test]
async fn a_customer_field_padded_past_its_documented_length_is_refused() {
    // Trimming would make each fit; the document counts what was sent.
    for body in [
        json!({"name": format!("J{}", " ".repeat(200)), "email": "j@example.com"}),
        json!({"name": "J", "email": format!("j@example.com{}", " ".repeat(250))}),
        json!({"name": "J", "email": "j@example.com", "source": format!("web{}", " ".repeat(50))}),
    ] {
        let mut mocks = Mocks::new();
        mocks.customers.expect_insert().never();
        let (status, headers, answer) = call(
            mocks,
            post_json("/api/v1/customer-mgmt/customers", body.clone()),
        )
        .await;
        assert_eq!(status, 422, "{body}: {answer}");
        problem(422, &headers, &answer, "validation_failed");
    }
}
