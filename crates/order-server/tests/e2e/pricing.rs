//! The description's order flow with taxed lines and discounts, against the
//! real binary: every amount checked to the cent, and the database refusing
//! a hand-written row whose totals do not add up.

use diesel::RunQueryDsl;
use serde_json::{json, Value};

use crate::helpers::*;

/// (discount, tax, total) of every line, in cents.
fn line_amounts(order: &Value) -> Vec<(i64, i64, i64)> {
    order["lines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| {
            (
                l["discount"]["amount"].as_i64().unwrap(),
                l["tax"]["amount"].as_i64().unwrap(),
                l["total"]["amount"].as_i64().unwrap(),
            )
        })
        .collect()
}

/// (subtotal, discount, tax, total) of the order, in cents.
fn totals(order: &Value) -> (i64, i64, i64, i64) {
    let cents = |field: &str| order[field]["amount"].as_i64().unwrap();
    (
        cents("subtotal"),
        cents("discount"),
        cents("tax"),
        cents("total"),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_complete_flow_with_taxed_lines_and_discounts_is_exact_to_the_cent() {
    let server = RunningServer::start();
    let api = server.client();
    let customer_id = api.customer().await;

    let (status, body) = api
        .post(
            ORDERS,
            Some(
                json!({"customer_id": customer_id, "currency": "USD", "prices_include_tax": false}),
            ),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    let order_id = body["data"]["id"].as_str().unwrap().to_owned();
    let order_url = format!("{ORDERS}/{order_id}");

    // 3 × $100 at 19 % and 2 × $75 at 7 %: subtotal $450.
    for (quantity, price, rate) in [(3, 10_000, "19"), (2, 7_500, "7")] {
        let (status, body) = api
            .post(
                &format!("{order_url}/lines"),
                Some(
                    json!({"product_id": uuid::Uuid::now_v7(), "quantity": quantity,
                            "unit_price": price, "currency": "USD", "tax_rate": rate}),
                ),
            )
            .await;
        assert_eq!(status, 201, "{body}");
    }

    // 10 % off ($45.00: $30.00 + $15.00), then $5.00 off what is left
    // ($405.00): 333.33¢ + 166.67¢ → 333¢ + 167¢ by largest remainder.
    let (status, body) = api
        .post(
            &format!("{order_url}/discounts"),
            Some(json!({"kind": "percentage", "percent": "10", "code": "WELCOME10"})),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    let (status, body) = api
        .post(
            &format!("{order_url}/discounts"),
            Some(json!({"kind": "fixed", "amount": 500, "description": "Goodwill"})),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    let order = &body["data"];
    // Tax: 266.67 × 19 % = 50.6673 → 50.67; 133.33 × 7 % = 9.3331 → 9.33.
    assert_eq!(
        line_amounts(order),
        vec![(3_333, 5_067, 31_734), (1_667, 933, 14_266)]
    );
    assert_eq!(totals(order), (45_000, 5_000, 6_000, 46_000));
    assert_eq!(order["total"]["formatted"], "460.00");
    let fixed_id = order["discounts"][1]["id"].as_str().unwrap().to_owned();
    let version = order["version"].as_u64().unwrap();

    // Removing the fixed discount with If-Match re-prices every line.
    let (status, _) = api
        .send_with_if_match(
            reqwest::Method::DELETE,
            &format!("{order_url}/discounts/{fixed_id}"),
            version,
        )
        .await;
    assert_eq!(status, 204);
    let (_, body) = api.get(&order_url).await;
    let order = &body["data"];
    // 270.00 × 19 % = 51.30; 135.00 × 7 % = 9.45.
    assert_eq!(
        line_amounts(order),
        vec![(3_000, 5_130, 32_130), (1_500, 945, 14_445)]
    );
    assert_eq!(totals(order), (45_000, 4_500, 6_075, 46_575));

    // Confirm, process, fulfil; a confirmed order takes no discount.
    let (status, _) = api.post(&format!("{order_url}/confirm"), None).await;
    assert_eq!(status, 200);
    let (status, body) = api
        .post(
            &format!("{order_url}/discounts"),
            Some(json!({"kind": "fixed", "amount": 1})),
        )
        .await;
    assert_eq!(
        (status, body["code"].as_str().unwrap()),
        (409, "order_not_editable")
    );
    for action in ["process", "fulfill"] {
        let (status, body) = api.post(&format!("{order_url}/{action}"), None).await;
        assert_eq!(status, 200, "{action}: {body}");
    }
    let (_, body) = api.get(&order_url).await;
    let order = &body["data"];
    assert_eq!(order["status"], "fulfilled");
    assert_eq!(totals(order), (45_000, 4_500, 6_075, 46_575));
    assert_eq!(order["discounts"].as_array().unwrap().len(), 1);
    assert_eq!(order["discounts"][0]["code"], "WELCOME10");

    // The database refuses a hand-written row whose totals do not add up
    // (the row's own arithmetic holds; the sums over its lines do not).
    let mut db = server.database();
    let refused = diesel::sql_query(format!(
        "UPDATE order_mgmt_orders SET tax = tax + 1, total = total + 1 WHERE id = '{order_id}'"
    ))
    .execute(&mut db)
    .unwrap_err();
    assert!(
        refused
            .to_string()
            .contains("totals are not the sums of its lines"),
        "{refused}"
    );
    let (status, body) = api.get(&order_url).await;
    assert_eq!(status, 200);
    assert_eq!(totals(&body["data"]), (45_000, 4_500, 6_075, 46_575));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_retried_discount_with_the_same_key_applies_once() {
    let server = RunningServer::start();
    let api = server.client();
    let customer_id = api.customer().await;
    let order_id = api.order(&customer_id).await;
    api.line(&order_id, 3, 333).await;
    let url = format!("{}{ORDERS}/{order_id}/discounts", api.base);
    let mut answers = Vec::new();
    for _ in 0..2 {
        let response = api
            .http
            .post(&url)
            .header("Idempotency-Key", "discount-once")
            .json(&json!({"kind": "percentage", "percent": "10"}))
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        let location = response.headers()["location"].to_str().unwrap().to_owned();
        answers.push((status, location, response.text().await.unwrap()));
    }
    assert_eq!(answers[0], answers[1], "the retry replays the first answer");
    let (_, body) = api.get(&format!("{ORDERS}/{order_id}")).await;
    assert_eq!(body["data"]["discounts"].as_array().unwrap().len(), 1);
    assert_eq!(body["data"]["discount"]["amount"], 100); // 10 % of 9.99 = 0.999 → 1.00
}
