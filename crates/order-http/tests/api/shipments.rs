//! Shipments and returns.

use crate::support::*;

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

#[actix_web::test]
async fn a_blank_return_reason_is_refused_before_if_match_is_decided() {
    // Found by Schemathesis: an empty reason with a stale If-Match was 412.
    let order = order_in(OrderStatus::Processing);
    let mut mocks = Mocks::new();
    mocks.orders.expect_find_by_id().never();
    mocks.orders.expect_update().never();
    let line = order.lines()[0].id().as_uuid();
    let req = post_json(
        &format!("{ORDERS}/{}/returns", order.id()),
        json!({"lines": [{"line_id": line, "quantity": 1}], "reason": ""}),
    )
    .insert_header((header::IF_MATCH, "\"99\""));
    let (status, headers, body) = call(mocks, req).await;
    assert_eq!(status, 422, "{body}");
    problem(422, &headers, &body, "invalid_text");
}
