//! Adding, changing and removing lines.

use crate::support::*;

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
