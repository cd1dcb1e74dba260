//! The description's complete order flow, its query operations and the
//! moves its rules forbid, against the real binary.

use serde_json::json;

use crate::helpers::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_described_complete_order_flow_works_end_to_end() {
    let server = RunningServer::start();
    let api = server.client();

    // 1. Create customer
    let (status, body) = api
        .post(
            "/api/v1/customer-mgmt/customers",
            Some(json!({"name":"John Doe","email":"john@example.com","source":"web"})),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    let customer_id = body["data"]["id"].as_str().unwrap().to_owned();

    // 2. Create order
    let (status, body) = api
        .post(
            ORDERS,
            Some(json!({"customer_id": customer_id, "currency": "USD"})),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    let order_id = body["data"]["id"].as_str().unwrap().to_owned();
    let order_number = body["data"]["order_number"].as_str().unwrap().to_owned();
    assert!(
        order_number.starts_with("ORD-20") && order_number.len() == "ORD-2025-000001".len(),
        "{order_number}"
    );
    assert_eq!(body["data"]["status"], "pending");

    // 3. Add product lines: 3 × $100 + 2 × $75 = $450
    let lines = format!("{ORDERS}/{order_id}/lines");
    let (status, body) = api
        .post(&lines, Some(json!({"product_id": uuid::Uuid::now_v7(), "quantity":3, "unit_price":10000, "currency":"USD"})))
        .await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["data"]["total"]["amount"], 30000);
    let (status, body) = api
        .post(&lines, Some(json!({"product_id": uuid::Uuid::now_v7(), "quantity":2, "unit_price":7500, "currency":"USD"})))
        .await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(
        body["data"]["total"],
        json!({"amount": 45000, "currency": "USD", "formatted": "450.00"})
    );

    // 4-6. Confirm, process, fulfil
    for (action, status_after) in [
        ("confirm", "confirmed"),
        ("process", "processing"),
        ("fulfill", "fulfilled"),
    ] {
        let (status, body) = api
            .post(&format!("{ORDERS}/{order_id}/{action}"), None)
            .await;
        assert_eq!(status, 200, "{action}: {body}");
        assert_eq!(body["data"]["status"], status_after);
    }

    // 7. Final state
    let (status, body) = api.get(&format!("{ORDERS}/{order_id}")).await;
    assert_eq!(status, 200);
    let order = &body["data"];
    assert_eq!(order["status"], "fulfilled");
    assert_eq!(order["total"]["amount"], 45000);
    assert_eq!(order["subtotal"]["amount"], 45000);
    assert_eq!(order["lines"].as_array().unwrap().len(), 2);
    assert_eq!(order["version"], 6);
    for stamp in ["confirmed_at", "processing_started_at", "fulfilled_at"] {
        assert!(order[stamp].is_string(), "{stamp}");
    }

    // Query operations
    let (status, body) = api.get(&format!("{ORDERS}?page=1&page_size=20")).await;
    assert_eq!(status, 200);
    assert_eq!(body["pagination"]["total_items"], 1);
    assert_eq!(body["data"][0]["id"], order_id.as_str());
    let (status, body) = api.get(&format!("{ORDERS}/number/{order_number}")).await;
    assert_eq!(status, 200);
    assert_eq!(body["data"]["id"], order_id.as_str());
    let (status, body) = api.get(&format!("{ORDERS}/customer/{customer_id}")).await;
    assert_eq!(status, 200);
    assert_eq!(body["data"][0]["id"], order_id.as_str());
    let (status, body) = api.get(&format!("{ORDERS}/status/fulfilled")).await;
    assert_eq!(status, 200);
    assert_eq!(body["pagination"]["total_items"], 1);
    let (_, body) = api.get(&format!("{ORDERS}/status/pending")).await;
    assert_eq!(body["pagination"]["total_items"], 0);

    // Forbidden moves
    let (status, body) = api.post(&format!("{ORDERS}/{order_id}/cancel"), None).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (409, Some("fulfilled_order_not_cancellable")),
        "{body}"
    );

    let (_, body) = api
        .post(
            ORDERS,
            Some(json!({"customer_id": customer_id, "currency": "USD"})),
        )
        .await;
    let empty = body["data"]["id"].as_str().unwrap().to_owned();
    let (status, body) = api.post(&format!("{ORDERS}/{empty}/confirm"), None).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (409, Some("order_empty")),
        "{body}"
    );
    let (status, body) = api.post(&format!("{ORDERS}/{empty}/process"), None).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (409, Some("invalid_order_status")),
        "{body}"
    );

    let (_, body) = api
        .post(
            &format!("{ORDERS}/{empty}/lines"),
            Some(json!({"product_id": uuid::Uuid::now_v7(), "quantity":1, "unit_price":100, "currency":"USD"})),
        )
        .await;
    assert_eq!(body["data"]["lines"].as_array().unwrap().len(), 1);
    let (status, _) = api.post(&format!("{ORDERS}/{empty}/confirm"), None).await;
    assert_eq!(status, 200);
    let (status, body) = api
        .post(
            &format!("{ORDERS}/{empty}/lines"),
            Some(json!({"product_id": uuid::Uuid::now_v7(), "quantity":1, "unit_price":100, "currency":"USD"})),
        )
        .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (409, Some("order_not_editable")),
        "{body}"
    );

    // Unknown things
    let (status, body) = api.get(&format!("{ORDERS}/{}", uuid::Uuid::now_v7())).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (404, Some("order_not_found"))
    );
    let (status, body) = api
        .post(
            ORDERS,
            Some(json!({"customer_id": uuid::Uuid::now_v7(), "currency": "USD"})),
        )
        .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (422, Some("customer_not_found"))
    );

    // `/metrics` counted every route the flow used, by template and status.
    let metrics = api
        .http
        .get(format!("{}/metrics", api.base))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let series = |name: &str, labels: &str| -> u64 {
        let prefix = format!("{name}{{{labels}}} ");
        metrics
            .lines()
            .find_map(|line| line.strip_prefix(&prefix))
            .map_or(0, |value| value.trim().parse().unwrap())
    };
    let order = "/api/v1/order-mgmt/orders/{id}";
    let used = [
        ("POST", "/api/v1/customer-mgmt/customers".to_owned(), 201),
        ("POST", ORDERS.to_owned(), 201),
        ("POST", ORDERS.to_owned(), 422),
        ("POST", format!("{order}/lines"), 201),
        ("POST", format!("{order}/lines"), 409),
        ("POST", format!("{order}/confirm"), 200),
        ("POST", format!("{order}/confirm"), 409),
        ("POST", format!("{order}/process"), 200),
        ("POST", format!("{order}/process"), 409),
        ("POST", format!("{order}/fulfill"), 200),
        ("POST", format!("{order}/cancel"), 409),
        ("GET", order.to_owned(), 200),
        ("GET", order.to_owned(), 404),
        ("GET", ORDERS.to_owned(), 200),
        ("GET", format!("{ORDERS}/number/{{order_number}}"), 200),
        ("GET", format!("{ORDERS}/customer/{{customer_id}}"), 200),
        ("GET", format!("{ORDERS}/status/{{status}}"), 200),
    ];
    for (method, route, status) in used {
        let labels = format!("method=\"{method}\",route=\"{route}\"");
        assert!(
            series(
                "http_requests_total",
                &format!("{labels},status=\"{status}\"")
            ) > 0,
            "no request counted for {method} {route} {status}:\n{metrics}"
        );
        assert!(
            series("http_request_duration_seconds_count", &labels) > 0,
            "no latency observed for {method} {route}"
        );
    }
    for kind in ["create", "confirm", "process", "fulfill"] {
        assert!(
            series("order_transitions_total", &format!("kind=\"{kind}\"")) > 0,
            "no {kind} transition counted:\n{metrics}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn soft_deleted_orders_disappear_from_every_read() {
    let server = RunningServer::start();
    let api = server.client();
    let (_, body) = api
        .post(
            "/api/v1/customer-mgmt/customers",
            Some(json!({"name":"Jane","email":"jane@example.com","source":"web"})),
        )
        .await;
    let customer_id = body["data"]["id"].as_str().unwrap().to_owned();
    let (_, body) = api
        .post(
            ORDERS,
            Some(json!({"customer_id": customer_id, "currency": "EUR"})),
        )
        .await;
    let (id, number) = (
        body["data"]["id"].as_str().unwrap().to_owned(),
        body["data"]["order_number"].as_str().unwrap().to_owned(),
    );
    let (status, _) = api.delete(&format!("{ORDERS}/{id}")).await;
    assert_eq!(status, 204);
    assert_eq!(api.get(&format!("{ORDERS}/{id}")).await.0, 404);
    assert_eq!(api.get(&format!("{ORDERS}/number/{number}")).await.0, 404);
    assert_eq!(api.get(ORDERS).await.1["pagination"]["total_items"], 0);
    assert_eq!(api.delete(&format!("{ORDERS}/{id}")).await.0, 404);
}

#[tokio::test]
async fn head_answers_the_get_headers_without_a_body() {
    let server = RunningServer::start();
    let api = server.client();
    let customer = api.customer().await;
    let order = api.order(&customer).await;
    let url = format!("{}{ORDERS}/{order}", api.base);
    let get = api.http.get(&url).send().await.unwrap();
    let (get_etag, get_length) = (
        get.headers()["etag"].clone(),
        get.bytes().await.unwrap().len(),
    );
    let head = api.http.head(&url).send().await.unwrap();
    assert_eq!(head.status().as_u16(), 200);
    assert_eq!(head.headers()["etag"], get_etag);
    assert_eq!(
        head.headers()["content-length"].to_str().unwrap(),
        get_length.to_string(),
        "the length of the body a GET would send"
    );
    assert!(head.bytes().await.unwrap().is_empty());
    let missing = format!("{}{ORDERS}/{}", api.base, uuid::Uuid::now_v7());
    assert_eq!(
        api.http
            .head(&missing)
            .send()
            .await
            .unwrap()
            .status()
            .as_u16(),
        404
    );
}
