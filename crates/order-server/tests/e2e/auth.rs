//! Authentication and authorisation end to end: the real binary with API
//! keys required, keys made with its own `keys` command.

use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::{Client, RunningServer, CUSTOMERS, ORDERS};

/// Every scope but `admin`: what a back-office integration would hold.
const ALL: &str = "orders:write,orders:fulfil,customers:write,events:read";

/// A server with keys on, a back-office client, and customers A and B with a
/// key bound to A that may do everything a bound key may.
struct World {
    server: RunningServer,
    office: Client,
    customer_a: String,
    customer_b: String,
    key_a: String,
}

impl World {
    async fn new(env: &[(&str, &str)]) -> Self {
        let server = RunningServer::start_with_auth(env);
        let office = server.client_with_key(&server.create_key("back office", ALL, None));
        let customer_a = office.customer().await;
        let customer_b = office.customer().await;
        let key_a = server.create_key(
            "storefront A",
            "orders:write,orders:fulfil,customers:read,events:read",
            Some(&customer_a),
        );
        Self {
            server,
            office,
            customer_a,
            customer_b,
            key_a,
        }
    }

    fn client(&self, key: &str) -> Client {
        self.server.client_with_key(key)
    }
}

/// An order of `customer` with one line, moved along `steps`; returns (id, number, line id).
async fn order_of(client: &Client, customer: &str, steps: &[&str]) -> (String, String, String) {
    let id = client.order(customer).await;
    let body = client.line(&id, 2, 1_000).await;
    let line = body["data"]["lines"][0]["id"].as_str().unwrap().to_owned();
    let number = body["data"]["order_number"].as_str().unwrap().to_owned();
    for step in steps {
        let (status, body) = client.post(&format!("{ORDERS}/{id}/{step}"), None).await;
        assert_eq!(status, 200, "{step}: {body}");
    }
    (id, number, line)
}

fn code(body: &Value) -> &str {
    body["code"].as_str().unwrap_or("")
}

#[tokio::test]
async fn customer_a_key_cannot_read_list_edit_transition_or_delete_customer_b_orders() {
    let world = World::new(&[]).await;
    let a = world.client(&world.key_a);
    let (own, _, _) = order_of(&a, &world.customer_a, &[]).await;
    let (pending, number, line) = order_of(&world.office, &world.customer_b, &[]).await;
    let (confirmed, _, _) = order_of(&world.office, &world.customer_b, &["confirm"]).await;
    let (processing, _, _) =
        order_of(&world.office, &world.customer_b, &["confirm", "process"]).await;

    // Every order endpoint, aimed at customer B's orders in a state where the
    // owner could do it: the answer is the one for a missing order.
    let o = |id: &str| format!("{ORDERS}/{id}");
    let attempts: Vec<(Method, String, Option<Value>)> = vec![
        (Method::GET, o(&pending), None),
        (Method::GET, format!("{ORDERS}/number/{number}"), None),
        (Method::GET, format!("{}/events", o(&pending)), None),
        (Method::GET, format!("{}/history", o(&pending)), None),
        (
            Method::POST,
            format!("{}/lines", o(&pending)),
            Some(
                json!({"product_id": uuid::Uuid::now_v7(), "quantity": 1, "unit_price": 100, "currency": "USD"}),
            ),
        ),
        (
            Method::PUT,
            format!("{}/lines/{line}", o(&pending)),
            Some(json!({"quantity": 5})),
        ),
        (
            Method::DELETE,
            format!("{}/lines/{line}", o(&pending)),
            None,
        ),
        (Method::POST, format!("{}/confirm", o(&pending)), None),
        (Method::POST, format!("{}/cancel", o(&pending)), None),
        (Method::DELETE, o(&pending), None),
        (Method::POST, format!("{}/process", o(&confirmed)), None),
        (Method::POST, format!("{}/fulfill", o(&processing)), None),
    ];
    for (method, path, body) in attempts {
        let (status, answer) = a.send(method.clone(), &path, body).await;
        assert_eq!(status, 404, "{method} {path}: {answer}");
        assert!(
            matches!(code(&answer), "order_not_found" | "route_not_found"),
            "{method} {path}: {answer}"
        );
    }
    // Nothing of B's changed.
    for (id, version) in [(&pending, 2), (&confirmed, 3), (&processing, 4)] {
        let (status, body) = world.office.get(&o(id)).await;
        assert_eq!(status, 200);
        assert_eq!(body["data"]["version"], version, "{body}");
    }

    // Lists hold A's orders only, whatever the filter.
    for path in [
        ORDERS.to_owned(),
        format!("{ORDERS}/status/pending"),
        format!("{ORDERS}/customer/{}", world.customer_a),
    ] {
        let (status, body) = a.get(&path).await;
        assert_eq!(status, 200, "{path}: {body}");
        let ids: Vec<&str> = body["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|o| o["id"].as_str().unwrap())
            .collect();
        assert_eq!(ids, [own.as_str()], "{path}");
        assert_eq!(body["pagination"]["total_items"], 1, "{path}");
    }
    let (status, body) = a
        .get(&format!("{ORDERS}/customer/{}", world.customer_b))
        .await;
    assert_eq!((status, code(&body)), (404, "customer_not_found"), "{body}");

    // Orders can be opened for A only; B is answered like an unknown customer.
    let (status, body) = a
        .post(
            ORDERS,
            Some(json!({"customer_id": world.customer_b, "currency": "USD"})),
        )
        .await;
    assert_eq!((status, code(&body)), (422, "customer_not_found"), "{body}");

    // Of the customers, A sees itself only.
    let (status, _) = a.get(&format!("{CUSTOMERS}/{}", world.customer_a)).await;
    assert_eq!(status, 200);
    let (status, body) = a.get(&format!("{CUSTOMERS}/{}", world.customer_b)).await;
    assert_eq!((status, code(&body)), (404, "customer_not_found"));
    let (_, body) = a.get(CUSTOMERS).await;
    assert_eq!(body["data"].as_array().unwrap().len(), 1, "{body}");
    assert_eq!(body["data"][0]["id"], world.customer_a.as_str());

    // The owner's own order works through every step with the same key.
    let (status, _) = a.post(&format!("{}/confirm", o(&own)), None).await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn a_read_only_key_reads_but_cannot_write() {
    let world = World::new(&[]).await;
    let (id, _, line) = order_of(&world.office, &world.customer_a, &[]).await;
    let reader = world.client(&world.server.create_key("reporting", "orders:read", None));
    let (status, _) = reader.get(&format!("{ORDERS}/{id}")).await;
    assert_eq!(status, 200);
    let (status, _) = reader.get(ORDERS).await;
    assert_eq!(status, 200);
    let writes: Vec<(Method, String, Option<Value>)> = vec![
        (
            Method::POST,
            ORDERS.to_owned(),
            Some(json!({"customer_id": world.customer_a, "currency": "USD"})),
        ),
        (
            Method::POST,
            format!("{ORDERS}/{id}/lines"),
            Some(
                json!({"product_id": uuid::Uuid::now_v7(), "quantity": 1, "unit_price": 1, "currency": "USD"}),
            ),
        ),
        (
            Method::PUT,
            format!("{ORDERS}/{id}/lines/{line}"),
            Some(json!({"quantity": 3})),
        ),
        (Method::DELETE, format!("{ORDERS}/{id}/lines/{line}"), None),
        (Method::POST, format!("{ORDERS}/{id}/confirm"), None),
        (Method::POST, format!("{ORDERS}/{id}/cancel"), None),
        (Method::POST, format!("{ORDERS}/{id}/process"), None),
        (Method::POST, format!("{ORDERS}/{id}/fulfill"), None),
        (Method::DELETE, format!("{ORDERS}/{id}"), None),
        (
            Method::POST,
            CUSTOMERS.to_owned(),
            Some(json!({"name": "X", "email": "x@example.com"})),
        ),
        (Method::GET, CUSTOMERS.to_owned(), None),
    ];
    for (method, path, body) in writes {
        let (status, answer) = reader.send(method.clone(), &path, body).await;
        assert_eq!(
            (status, code(&answer)),
            (403, "insufficient_scope"),
            "{method} {path}: {answer}"
        );
    }
    let (_, body) = world.office.get(&format!("{ORDERS}/{id}")).await;
    assert_eq!(body["data"]["version"], 2, "nothing was written: {body}");
}

#[tokio::test]
async fn a_key_without_orders_fulfil_cannot_process_or_fulfil() {
    let world = World::new(&[]).await;
    let shop = world.client(&world.server.create_key("shop", "orders:write", None));
    let (id, _, _) = order_of(&shop, &world.customer_a, &["confirm"]).await;
    let response = shop
        .http
        .post(format!("{}{ORDERS}/{id}/process", shop.base))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 403);
    let challenge = response.headers()["www-authenticate"].to_str().unwrap();
    assert!(challenge.contains("scope=\"orders:fulfil\""), "{challenge}");
    let (processing, _, _) =
        order_of(&world.office, &world.customer_a, &["confirm", "process"]).await;
    let (status, body) = shop
        .post(&format!("{ORDERS}/{processing}/fulfill"), None)
        .await;
    assert_eq!((status, code(&body)), (403, "insufficient_scope"));
    // The warehouse key can, and it cannot edit lines.
    let warehouse = world.client(&world.server.create_key(
        "warehouse",
        "orders:read,orders:fulfil",
        None,
    ));
    let (status, _) = warehouse
        .post(&format!("{ORDERS}/{id}/process"), None)
        .await;
    assert_eq!(status, 200);
    let (status, _) = warehouse.post(&format!("{ORDERS}/{id}/cancel"), None).await;
    assert_eq!(status, 403);
}

#[tokio::test]
async fn a_revoked_key_is_refused_on_the_next_request() {
    let world = World::new(&[]).await;
    let key = world.server.create_key("temporary", "orders:read", None);
    let client = world.client(&key);
    let (status, _) = client.get(ORDERS).await;
    assert_eq!(status, 200);
    let (_, listed, _) = world.server.keys(&["list"]);
    let prefix = key.rsplit_once('_').unwrap().0;
    let id = listed
        .lines()
        .find(|l| l.contains(prefix))
        .and_then(|l| l.split_whitespace().next())
        .unwrap()
        .to_owned();
    let (ok, _, _) = world.server.keys(&["revoke", &id]);
    assert!(ok);
    let (status, body) = client.get(ORDERS).await;
    assert_eq!((status, code(&body)), (401, "revoked_api_key"), "{body}");
}

#[tokio::test]
async fn requests_without_a_valid_key_get_401_with_a_bearer_challenge_and_operations_stay_open() {
    let world = World::new(&[]).await;
    let wrong_secret = {
        let mut key = world.key_a.clone();
        let last = if key.ends_with('0') { "1" } else { "0" };
        key.replace_range(key.len() - 1.., last);
        key
    };
    let cases: [(Option<String>, &str); 5] = [
        (None, "missing_api_key"),
        (Some("Bearer".to_owned()), "invalid_api_key"),
        (Some("Basic dXNlcjpwYXNz".to_owned()), "invalid_api_key"),
        (Some("Bearer omk_nonsense".to_owned()), "invalid_api_key"),
        (Some(format!("Bearer {wrong_secret}")), "invalid_api_key"),
    ];
    let http = reqwest::Client::new();
    for (authorization, expected) in cases {
        let mut request = http.get(format!("{}{ORDERS}", world.server.base));
        if let Some(value) = &authorization {
            request = request.header("Authorization", value);
        }
        let response = request.send().await.unwrap();
        assert_eq!(response.status(), 401, "{authorization:?}");
        assert!(response.headers()["www-authenticate"]
            .to_str()
            .unwrap()
            .starts_with("Bearer realm=\"order-mgmt\""));
        assert_eq!(
            response.headers()["content-type"],
            "application/problem+json"
        );
        let body: Value = response.json().await.unwrap();
        assert_eq!(code(&body), expected, "{authorization:?}");
    }
    for open in [
        "/health",
        "/ready",
        "/metrics",
        "/api-docs/openapi.json",
        "/docs/",
    ] {
        let status = http
            .get(format!("{}{open}", world.server.base))
            .send()
            .await
            .unwrap()
            .status();
        assert_eq!(status, 200, "{open}");
    }
    // An unknown API path needs a key too: no route map for strangers.
    let status = http
        .get(format!("{}/api/v1/order-mgmt/nothing", world.server.base))
        .send()
        .await
        .unwrap()
        .status();
    assert_eq!(status, 401);
}

#[tokio::test]
async fn a_key_never_appears_in_logs_metrics_or_error_bodies() {
    let world = World::new(&[]).await;
    let a = world.client(&world.key_a);
    let secret = world.key_a.rsplit_once('_').unwrap().1.to_owned();
    let mut bodies = Vec::new();
    let (own, _, _) = order_of(&a, &world.customer_a, &[]).await;
    for (method, path, body) in [
        (
            Method::GET,
            format!("{ORDERS}/{}", uuid::Uuid::now_v7()),
            None,
        ),
        (Method::POST, format!("{ORDERS}/{own}/fulfill"), None),
        (
            Method::POST,
            ORDERS.to_owned(),
            Some(json!({"currency": "USD"})),
        ),
        (Method::POST, CUSTOMERS.to_owned(), Some(json!({}))),
        (Method::GET, format!("{ORDERS}/not-a-uuid"), None),
    ] {
        bodies.push(a.send(method, &path, body).await.1.to_string());
    }
    let wrong = format!("{}0", &world.key_a[..world.key_a.len() - 1]);
    bodies.push(world.client(&wrong).get(ORDERS).await.1.to_string());
    let metrics = reqwest::get(format!("{}/metrics", world.server.base))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let logs = world.server.logs.lock().unwrap().join("\n");
    assert!(logs.contains("request completed"), "the log was captured");
    for (what, text) in [("logs", &logs), ("metrics", &metrics)]
        .into_iter()
        .chain(bodies.iter().map(|b| ("an error body", b)))
    {
        assert!(!text.contains(&secret), "the secret appears in {what}");
        assert!(!text.contains("Bearer omk_"), "the key appears in {what}");
    }
}

#[tokio::test]
async fn a_flood_from_one_key_gets_429_while_another_key_keeps_succeeding() {
    let world = World::new(&[("RATE_LIMIT_PER_SECOND", "1"), ("RATE_LIMIT_BURST", "5")]).await;
    let flooder = world.client(&world.server.create_key("flooder", "orders:read", None));
    let neighbour = world.client(&world.server.create_key("neighbour", "orders:read", None));
    let started = std::time::Instant::now();
    let mut limited = 0;
    let mut retry_after = None;
    for _ in 0..30 {
        let response = flooder
            .http
            .get(format!("{}{ORDERS}", flooder.base))
            .send()
            .await
            .unwrap();
        if response.status() == 429 {
            limited += 1;
            retry_after = response
                .headers()
                .get("retry-after")
                .map(|v| v.to_str().unwrap().parse::<u64>().unwrap());
            let body: Value = response.json().await.unwrap();
            assert_eq!(code(&body), "rate_limited");
        } else {
            assert_eq!(response.status(), 200);
        }
    }
    // A burst of 5 plus one per second that passed.
    let allowed = 5 + started.elapsed().as_secs() + 1;
    assert!(
        30 - limited <= allowed,
        "{} succeeded, at most {allowed} may",
        30 - limited
    );
    assert!(
        retry_after.is_some_and(|s| (1..=2).contains(&s)),
        "{retry_after:?}"
    );
    for _ in 0..5 {
        let (status, _) = neighbour.get(ORDERS).await;
        assert_eq!(status, 200, "another key is not slowed down");
    }
}

#[tokio::test]
async fn failed_authentications_from_one_address_are_limited() {
    let world = World::new(&[("AUTH_FAILURES_PER_MINUTE", "3")]).await;
    let stranger = world.client(
        "omk_000000000000_0000000000000000000000000000000000000000000000000000000000000000",
    );
    let mut statuses = Vec::new();
    for _ in 0..5 {
        statuses.push(stranger.get(ORDERS).await.0);
    }
    assert_eq!(statuses, [401, 401, 401, 429, 429]);
    // A valid key from the same address still works.
    let (status, _) = world.office.get(ORDERS).await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn idempotency_keys_of_two_api_keys_never_meet() {
    let world = World::new(&[]).await;
    let one = world.client(&world.server.create_key("one", "orders:write", None));
    let two = world.client(&world.server.create_key("two", "orders:write", None));
    let body = json!({"customer_id": world.customer_a, "currency": "USD"});
    let mut ids = Vec::new();
    for client in [&one, &two] {
        let response = client
            .http
            .post(format!("{}{ORDERS}", client.base))
            .header("Idempotency-Key", "same-key-1")
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 201);
        assert!(response.headers().get("idempotent-replayed").is_none());
        let body: Value = response.json().await.unwrap();
        ids.push(body["data"]["id"].as_str().unwrap().to_owned());
    }
    assert_ne!(ids[0], ids[1], "the second key's request ran");
}

#[tokio::test]
async fn a_change_made_with_a_key_is_recorded_as_the_key_whatever_x_actor_says() {
    let world = World::new(&[]).await;
    let id = world.office.order(&world.customer_a).await;
    let cancel = world
        .office
        .http
        .post(format!("{}{ORDERS}/{id}/cancel", world.server.base))
        .header("X-Actor", "mallory")
        .json(&json!({"reason": "test"}))
        .send()
        .await
        .unwrap();
    assert_eq!(cancel.status().as_u16(), 200);
    let (status, body) = world.office.get(&format!("{ORDERS}/{id}/events")).await;
    assert_eq!(status, 200, "{body}");
    let events = body["data"].as_array().unwrap();
    assert_eq!(events.len(), 2, "{body}");
    for event in events {
        assert_eq!(event["actor"]["name"], "back office", "{event}");
        assert_ne!(event["actor"]["id"], "mallory", "{event}");
        assert_ne!(event["actor"]["id"], "anonymous", "{event}");
    }
}
