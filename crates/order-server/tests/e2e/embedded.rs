//! The embedded store: the real binary with no `DATABASE_URL` at all (as
//! `make run` on a machine without PostgreSQL) serves the description's
//! complete flow from an SQLite file under `./data/`, keeps it across a
//! restart, loses no write of concurrent clients, and its polling relay
//! publishes every event once, in order.

use std::sync::Arc;
use std::time::Duration;

use serde_json::json;

use crate::events::{
    assert_ordered_once_each, described_flow, metrics, of_order, Broker, FLOW_TYPES,
};
use crate::helpers::*;

/// A temporary working directory, removed on drop.
pub(crate) struct WorkDir(pub(crate) std::path::PathBuf);

impl WorkDir {
    pub(crate) fn new() -> Self {
        let dir = std::env::temp_dir().join(format!(
            "order-e2e-embedded-{}",
            uuid::Uuid::now_v7().simple()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        Self(dir)
    }
}

impl Drop for WorkDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_database_url_the_complete_flow_is_served_from_sqlite_and_survives_a_restart() {
    let dir = WorkDir::new();
    let mut server = RunningServer::start_embedded(&dir.0, &[]);
    assert!(
        server.wait_for_log("order-mgmt.sqlite3", Duration::from_secs(5)),
        "the file's path is printed at start"
    );
    assert!(dir.0.join("data/order-mgmt.sqlite3").is_file());
    let api = server.client();

    // The description's flow, byte for byte its requests.
    let (status, body) = api
        .post(
            "/api/v1/customer-mgmt/customers",
            Some(json!({"name":"John Doe","email":"john@example.com","source":"web"})),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    let customer_id = body["data"]["id"].as_str().unwrap().to_owned();
    let (status, body) = api
        .post(
            ORDERS,
            Some(json!({"customer_id": customer_id, "currency": "USD"})),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    let order_id = body["data"]["id"].as_str().unwrap().to_owned();
    let order_number = body["data"]["order_number"].as_str().unwrap().to_owned();
    let lines = format!("{ORDERS}/{order_id}/lines");
    for (quantity, unit_price) in [(3, 10_000), (2, 7_500)] {
        let (status, body) = api
            .post(&lines, Some(json!({"product_id": uuid::Uuid::now_v7(), "quantity": quantity, "unit_price": unit_price, "currency":"USD"})))
            .await;
        assert_eq!(status, 201, "{body}");
    }
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
    let (status, before) = api.get(&format!("{ORDERS}/{order_id}")).await;
    assert_eq!(status, 200);
    assert_eq!(before["data"]["total"]["amount"], 45_000);
    assert_eq!(before["data"]["version"], 6);
    let (status, history) = api.get(&format!("{ORDERS}/{order_id}/events")).await;
    assert_eq!(status, 200, "{history}");

    // A graceful stop and a new process on the same file.
    server.send_sigterm();
    assert!(
        server.wait_for_exit(Duration::from_secs(30)).is_some(),
        "the server stops"
    );
    let server = RunningServer::start_embedded(&dir.0, &[]);
    let api = server.client();
    let (status, after) = api.get(&format!("{ORDERS}/{order_id}")).await;
    assert_eq!(status, 200, "{after}");
    assert_eq!(
        after["data"], before["data"],
        "the order survived the restart"
    );
    let (status, body) = api.get(&format!("{ORDERS}/number/{order_number}")).await;
    assert_eq!(status, 200, "{body}");
    let (status, again) = api.get(&format!("{ORDERS}/{order_id}/events")).await;
    assert_eq!(status, 200);
    assert_eq!(again, history, "so did its history");
    let (status, body) = api
        .get(&format!("/api/v1/customer-mgmt/customers/{customer_id}"))
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"]["email"], "john@example.com");
    // Numbers go on from where they were, never repeating one.
    let (status, body) = api
        .post(
            ORDERS,
            Some(json!({"customer_id": customer_id, "currency": "USD"})),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    assert_ne!(body["data"]["order_number"], order_number.as_str());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn fifty_concurrent_writers_on_sqlite_lose_nothing_and_see_no_5xx_but_503_with_retry_after() {
    let dir = WorkDir::new();
    let server = RunningServer::start_embedded(&dir.0, &[]);
    let api = Arc::new(server.client());
    let customer = api.customer().await;
    let order = Arc::new(api.order(&customer).await);

    let tasks: Vec<_> = (1..=50_i64)
        .map(|i| {
            let (api, order) = (api.clone(), order.clone());
            tokio::spawn(async move {
                let url = format!("{}{ORDERS}/{order}/lines", api.base);
                let body = json!({"product_id": uuid::Uuid::now_v7(), "quantity": 1, "unit_price": i * 100, "currency": "USD"});
                let mut busy = 0;
                loop {
                    let response = api.http.post(&url).json(&body).send().await.unwrap();
                    match response.status().as_u16() {
                        201 => return busy,
                        // Busy: nothing written, and the client is told when to retry.
                        503 => {
                            assert!(
                                response.headers().contains_key("retry-after"),
                                "503 without Retry-After"
                            );
                            busy += 1;
                            assert!(busy < 100, "client {i} never got through");
                        }
                        other => panic!(
                            "client {i}: unexpected {other}: {}",
                            response.text().await.unwrap()
                        ),
                    }
                }
            })
        })
        .collect();
    let mut busy = 0;
    for task in tasks {
        busy += task.await.unwrap();
    }

    let (status, body) = api.get(&format!("{ORDERS}/{order}")).await;
    assert_eq!(status, 200);
    assert_eq!(
        body["data"]["lines"].as_array().unwrap().len(),
        50,
        "every line is there ({busy} busy answers retried)"
    );
    let expected: i64 = (1..=50).map(|i| i * 100).sum();
    assert_eq!(body["data"]["total"]["amount"], expected);
    assert_eq!(body["data"]["version"], 51, "nothing applied twice");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_polling_relay_on_sqlite_publishes_the_flows_events_in_order_once_each() {
    let dir = WorkDir::new();
    let broker = Broker::on(order_nats::testing::SHARED_URL);
    let server = RunningServer::start_embedded(&dir.0, &broker.env());
    let api = server.client();
    let (order, cancelled) = described_flow(&api).await;

    // No outbox query from here (the file is the server's): its metrics say
    // when the relay has published everything.
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    loop {
        let metrics = metrics(&server).await;
        if metrics.contains("order_events_published_total 8")
            && metrics.contains("order_outbox_backlog 0")
        {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the relay did not publish the 8 events: {metrics}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let messages = broker.messages().await;
    order_nats::testing::delete_stream(order_nats::testing::SHARED_URL, &broker.stream).await;
    assert_eq!(messages.len(), 8, "exactly the flow's events, once each");
    assert_ordered_once_each(&messages);
    let types: Vec<&str> = of_order(&messages, &order)
        .iter()
        .map(|e| e["type"].as_str().unwrap())
        .collect();
    assert_eq!(types, FLOW_TYPES);
    assert_eq!(
        of_order(&messages, &cancelled)[1]["type"],
        "order.cancelled"
    );
}
