//! `Idempotency-Key` against the real server and database: a checkout that
//! retries, concurrently and sequentially, creates exactly one order.

use std::sync::Arc;

use serde_json::{json, Value};

use crate::helpers::*;

async fn create(api: &Client, key: &str, body: &Value) -> (u16, Option<String>, Vec<u8>) {
    let response = api
        .http
        .post(format!("{}{ORDERS}", api.base))
        .header("Idempotency-Key", key)
        .json(body)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    let replayed = response
        .headers()
        .get("idempotent-replayed")
        .map(|v| v.to_str().unwrap().to_owned());
    (status, replayed, response.bytes().await.unwrap().to_vec())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_hundred_retries_of_one_create_make_exactly_one_order() {
    let server = RunningServer::start();
    let api = Arc::new(server.client());
    let customer = api.customer().await;
    let body = Arc::new(json!({"customer_id": customer, "currency": "USD"}));
    let key = format!("checkout-{}", uuid::Uuid::now_v7());

    // 50 at once, then 50 one after the other.
    let concurrent: Vec<_> = (0..50)
        .map(|_| {
            let (api, body, key) = (api.clone(), body.clone(), key.clone());
            tokio::spawn(async move { create(&api, &key, &body).await })
        })
        .collect();
    let mut answers = Vec::new();
    for task in concurrent {
        answers.push(task.await.unwrap());
    }
    for _ in 0..50 {
        answers.push(create(&api, &key, &body).await);
    }

    // Concurrent duplicates of a request still in flight are told to retry.
    let (done, in_flight): (Vec<_>, Vec<_>) = answers
        .into_iter()
        .partition(|(status, _, _)| *status == 201);
    for (status, _, body) in &in_flight {
        assert_eq!(*status, 409, "{}", String::from_utf8_lossy(body));
        assert!(String::from_utf8_lossy(body).contains("idempotency_request_in_flight"));
    }
    assert!(done.len() >= 50, "every sequential retry succeeds");
    let first = &done[0].2;
    assert!(
        done.iter().all(|(_, _, body)| body == first),
        "every 2xx carries the same body"
    );
    assert_eq!(
        done.iter()
            .filter(|(_, replayed, _)| replayed.is_none())
            .count(),
        1,
        "one original answer"
    );

    let (_, list) = api.get(&format!("{ORDERS}/customer/{customer}")).await;
    assert_eq!(
        list["pagination"]["total_items"], 1,
        "exactly one order was created"
    );
    let created: Value = serde_json::from_slice(first).unwrap();
    assert_eq!(list["data"][0]["id"], created["data"]["id"]);

    // The same key with another request is refused, and creates nothing.
    let other = json!({"customer_id": customer, "currency": "EUR"});
    let (status, _, body) = create(&api, &key, &other).await;
    assert_eq!(status, 422, "{}", String::from_utf8_lossy(&body));
    assert!(String::from_utf8_lossy(&body).contains("idempotency_key_reused"));
    assert_eq!(
        api.get(&format!("{ORDERS}/customer/{customer}")).await.1["pagination"]["total_items"],
        1
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retried_transitions_and_lines_apply_once() {
    let server = RunningServer::start();
    let api = server.client();
    let customer = api.customer().await;
    let order = api.order(&customer).await;
    let line = json!({"product_id": uuid::Uuid::now_v7(), "quantity": 2, "unit_price": 500, "currency": "USD"});
    for _ in 0..3 {
        let response = api
            .http
            .post(format!("{}{ORDERS}/{order}/lines", api.base))
            .header("Idempotency-Key", "add-line-1")
            .json(&line)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status().as_u16(), 201);
    }
    let (_, body) = api.get(&format!("{ORDERS}/{order}")).await;
    assert_eq!(
        body["data"]["lines"][0]["quantity"], 2,
        "the line was added once, not merged three times"
    );
    assert_eq!(body["data"]["version"], 2);

    let mut statuses = Vec::new();
    for _ in 0..3 {
        let response = api
            .http
            .post(format!("{}{ORDERS}/{order}/confirm", api.base))
            .header("Idempotency-Key", "confirm-1")
            .send()
            .await
            .unwrap();
        statuses.push(response.status().as_u16());
    }
    assert_eq!(
        statuses,
        [200, 200, 200],
        "a replayed confirm answers as the first one did"
    );
    assert_eq!(
        api.get(&format!("{ORDERS}/{order}")).await.1["data"]["version"],
        3
    );

    // Without a key, a second confirm is refused as it should be.
    assert_eq!(
        api.post(&format!("{ORDERS}/{order}/confirm"), None).await.0,
        409
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_412_then_a_corrected_retry_with_the_same_key_succeeds() {
    let server = RunningServer::start();
    let api = server.client();
    let customer = api.customer().await;
    let order = api.order(&customer).await;
    let lines = format!("{}{ORDERS}/{order}/lines", api.base);
    let line = json!({"product_id": uuid::Uuid::now_v7(), "quantity": 2, "unit_price": 150, "currency": "USD"});
    let key = format!("line-{}", uuid::Uuid::now_v7());
    let add = |if_match: String| {
        api.http
            .post(&lines)
            .header("Idempotency-Key", &key)
            .header("If-Match", if_match)
            .json(&line)
            .send()
    };

    let stale = add("\"999\"".to_owned()).await.unwrap();
    assert_eq!(stale.status().as_u16(), 412);
    // The client re-reads and retries with the same key and the current version.
    let current = api
        .http
        .get(format!("{}{ORDERS}/{order}", api.base))
        .send()
        .await
        .unwrap();
    let etag = current.headers()["etag"].to_str().unwrap().to_owned();
    let retried = add(etag.clone()).await.unwrap();
    assert_eq!(retried.status().as_u16(), 201, "the 412 was not replayed");
    assert!(retried.headers().get("idempotent-replayed").is_none());
    // And that success is what the key now replays.
    let again = add(etag).await.unwrap();
    assert_eq!(again.status().as_u16(), 201);
    assert_eq!(again.headers()["idempotent-replayed"], "true");
    let (_, body) = api.get(&format!("{ORDERS}/{order}")).await;
    assert_eq!(body["data"]["lines"].as_array().unwrap().len(), 1);
}
