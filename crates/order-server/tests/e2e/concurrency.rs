//! Concurrent clients against one order: nothing lost, nothing applied twice,
//! every success consistent with the final state.

use std::sync::Arc;

use serde_json::{json, Value};

use crate::helpers::*;

/// Adds one line, with `If-Match` and a retry on 412/409 when `optimistic`.
async fn add_line(api: &Client, order_id: &str, unit_price: i64, optimistic: bool) -> u32 {
    let body = json!({"product_id": uuid::Uuid::now_v7(), "quantity": 1, "unit_price": unit_price, "currency": "USD"});
    let url = format!("{}{ORDERS}/{order_id}/lines", api.base);
    for attempt in 1..=200 {
        let mut req = api.http.post(&url).json(&body);
        if optimistic {
            let current = api
                .http
                .get(format!("{}{ORDERS}/{order_id}", api.base))
                .send()
                .await
                .unwrap();
            let etag = current.headers()["etag"].to_str().unwrap().to_owned();
            req = req.header("If-Match", etag);
        }
        let response = req.send().await.unwrap();
        match response.status().as_u16() {
            201 => return attempt,
            409 | 412 if optimistic => continue,
            other => panic!("unexpected {other}: {}", response.text().await.unwrap()),
        }
    }
    panic!("no success after 200 attempts");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn fifty_concurrent_clients_each_add_a_line_and_none_is_lost() {
    let server = RunningServer::start();
    let api = Arc::new(server.client());
    let customer = api.customer().await;
    let order = Arc::new(api.order(&customer).await);

    let tasks: Vec<_> = (1..=50_i64)
        .map(|i| {
            let (api, order) = (api.clone(), order.clone());
            // Half the clients use If-Match (and retry on 412), half rely on the server.
            tokio::spawn(async move { add_line(&api, &order, i * 100, i % 2 == 0).await })
        })
        .collect();
    for task in tasks {
        task.await.unwrap();
    }

    let (status, body) = api.get(&format!("{ORDERS}/{order}")).await;
    assert_eq!(status, 200);
    let lines = body["data"]["lines"].as_array().unwrap();
    assert_eq!(lines.len(), 50, "every line is there");
    let expected: i64 = (1..=50).map(|i| i * 100).sum();
    assert_eq!(body["data"]["total"]["amount"], expected);
    assert_eq!(
        body["data"]["version"], 51,
        "one version per line, nothing applied twice"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn confirm_racing_cancel_ends_in_one_allowed_state_that_agrees_with_every_success() {
    let server = RunningServer::start();
    let api = Arc::new(server.client());
    let customer = api.customer().await;
    for _ in 0..20 {
        let order = api.order(&customer).await;
        api.line(&order, 1, 500).await;
        let confirm = {
            let (api, order) = (api.clone(), order.clone());
            tokio::spawn(async move { api.post(&format!("{ORDERS}/{order}/confirm"), None).await })
        };
        let cancel = {
            let (api, order) = (api.clone(), order.clone());
            tokio::spawn(async move { api.post(&format!("{ORDERS}/{order}/cancel"), None).await })
        };
        let (confirm, cancel): ((u16, Value), (u16, Value)) =
            (confirm.await.unwrap(), cancel.await.unwrap());
        let (_, final_body) = api.get(&format!("{ORDERS}/{order}")).await;
        let final_order = &final_body["data"];

        // Cancel is allowed from pending and from confirmed, so it always wins in the end.
        assert_eq!(cancel.0, 200, "{}", cancel.1);
        assert_eq!(final_order["status"], "cancelled");
        match confirm.0 {
            // Confirm went first: the final order remembers it, one version per change.
            200 => {
                assert_eq!(confirm.1["data"]["status"], "confirmed");
                assert!(final_order["confirmed_at"].is_string());
                assert_eq!(final_order["version"], 4);
            }
            // Cancel went first: confirm was refused and left no trace.
            409 => {
                assert_eq!(confirm.1["code"], "invalid_order_status");
                assert!(final_order["confirmed_at"].is_null());
                assert_eq!(final_order["version"], 3);
            }
            other => panic!("confirm answered {other}: {}", confirm.1),
        }
    }
}
