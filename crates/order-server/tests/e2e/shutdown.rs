//! Graceful shutdown: SIGTERM under concurrent write load. The server stops
//! accepting, finishes what is in flight, stops its background tasks and
//! exits 0 within `SHUTDOWN_TIMEOUT_SECS`; every acknowledged write is in the
//! database and no write is half applied.

use std::collections::{HashMap, HashSet};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use diesel::sql_types::{BigInt, Text};
use diesel::{QueryableByName, RunQueryDsl};
use serde_json::{json, Value};
use tokio::sync::Notify;

use crate::helpers::*;

/// What the server answered 2xx to.
#[derive(Default)]
struct Acknowledged {
    orders: HashSet<String>,
    /// Line id -> (order id, the order's version in the answer).
    lines: HashMap<String, (String, i64)>,
}

/// Creates orders and adds lines to them until the server stops answering;
/// records every 2xx.
async fn write_until_refused(
    api: Arc<Client>,
    customer: String,
    acknowledged: Arc<Mutex<Acknowledged>>,
    writes: Arc<AtomicUsize>,
    enough: Arc<Notify>,
) {
    let acknowledge = || {
        if writes.fetch_add(1, Ordering::SeqCst) + 1 == 40 {
            enough.notify_one();
        }
    };
    loop {
        let create = api
            .http
            .post(format!("{}{ORDERS}", api.base))
            .json(&json!({"customer_id": customer, "currency": "USD"}))
            .send()
            .await;
        let Ok(response) = create else { return };
        if !answered(response.status().as_u16()) {
            return;
        }
        let Ok(body) = response.json::<Value>().await else {
            return;
        };
        let order = body["data"]["id"].as_str().unwrap().to_owned();
        acknowledged.lock().unwrap().orders.insert(order.clone());
        acknowledge();
        for price in 1..=4 {
            let add = api
                .http
                .post(format!("{}{ORDERS}/{order}/lines", api.base))
                .json(&json!({"product_id": uuid::Uuid::now_v7(), "quantity": 2, "unit_price": price * 100, "currency": "USD"}))
                .send()
                .await;
            let Ok(response) = add else { return };
            if !answered(response.status().as_u16()) {
                return;
            }
            let line = response.headers()["location"]
                .to_str()
                .unwrap()
                .rsplit('/')
                .next()
                .unwrap()
                .to_owned();
            let Ok(body) = response.json::<Value>().await else {
                return;
            };
            let version = body["data"]["version"].as_i64().unwrap();
            acknowledged
                .lock()
                .unwrap()
                .lines
                .insert(line, (order.clone(), version));
            acknowledge();
        }
    }
}

/// `true` for a 201; `false` for the documented retryable 503 (stop
/// writing); anything else fails the test.
fn answered(status: u16) -> bool {
    assert!(
        status == 201 || status == 503,
        "a write during shutdown answered {status}"
    );
    status == 201
}

#[derive(QueryableByName, Debug)]
struct Stored {
    #[diesel(sql_type = Text)]
    id: String,
    #[diesel(sql_type = BigInt)]
    version: i64,
    #[diesel(sql_type = BigInt)]
    total: i64,
    #[diesel(sql_type = BigInt)]
    lines: i64,
    #[diesel(sql_type = BigInt)]
    lines_total: i64,
    #[diesel(sql_type = BigInt)]
    events: i64,
    #[diesel(sql_type = BigInt)]
    event_versions: i64,
    #[diesel(sql_type = BigInt)]
    last_event_version: i64,
    #[diesel(sql_type = BigInt)]
    line_events: i64,
}

#[derive(QueryableByName)]
struct StoredLine {
    #[diesel(sql_type = Text)]
    id: String,
    #[diesel(sql_type = Text)]
    order_id: String,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sigterm_under_write_load_loses_nothing_half_applies_nothing_and_exits_0_in_time() {
    let deadline = Duration::from_secs(10);
    let mut server = RunningServer::start_with(
        |url| url.to_owned(),
        &[("SHUTDOWN_TIMEOUT_SECS", "10"), ("HTTP_WORKERS", "2")],
    );
    let api = Arc::new(server.client());
    let customer = api.customer().await;
    let address = server.base.trim_start_matches("http://").to_owned();

    let acknowledged = Arc::new(Mutex::new(Acknowledged::default()));
    let (writes, enough) = (Arc::new(AtomicUsize::new(0)), Arc::new(Notify::new()));
    let writers: Vec<_> = (0..8)
        .map(|_| {
            tokio::spawn(write_until_refused(
                api.clone(),
                customer.clone(),
                acknowledged.clone(),
                writes.clone(),
                enough.clone(),
            ))
        })
        .collect();
    enough.notified().await;

    // One request certainly in flight at the signal: the server has read its
    // headers and called its handler (it answered `100 Continue`); its body
    // is sent only once the drain has begun.
    let body = json!({"customer_id": customer, "currency": "USD"}).to_string();
    let signalled = Instant::now();
    let answer = tokio::task::block_in_place(|| {
        let mut in_flight = TcpStream::connect(&address).unwrap();
        in_flight.set_read_timeout(Some(deadline)).unwrap();
        write!(
            in_flight,
            "POST {ORDERS} HTTP/1.1\r\nHost: {address}\r\nContent-Type: application/json\r\n\
             Content-Length: {}\r\nExpect: 100-continue\r\n\r\n",
            body.len()
        )
        .unwrap();
        let mut head = Vec::new();
        let mut byte = [0u8; 1];
        while !head.ends_with(b"\r\n\r\n") {
            in_flight.read_exact(&mut byte).unwrap();
            head.push(byte[0]);
        }
        assert!(
            head.starts_with(b"HTTP/1.1 100"),
            "{}",
            String::from_utf8_lossy(&head)
        );

        server.send_sigterm();
        assert!(
            server.wait_for_log("shutting down", deadline),
            "the server logs the start of its shutdown"
        );
        assert!(
            server.wait_for_log("accept thread stopped", deadline),
            "the server stops accepting"
        );
        // actix logs this just before it drops the listening socket: poll
        // (bounded) for the refusal rather than race the drop.
        let refused_by = Instant::now() + deadline;
        while TcpStream::connect(&address).is_ok() {
            assert!(
                Instant::now() < refused_by,
                "a new connection is refused once the drain began"
            );
            std::thread::sleep(Duration::from_millis(10));
        }
        in_flight.write_all(body.as_bytes()).unwrap();
        // The server closes the connection after answering: it is draining.
        let mut answer = String::new();
        in_flight.read_to_string(&mut answer).unwrap();
        answer
    });
    assert!(
        answer.starts_with("HTTP/1.1 201"),
        "the request in flight at the signal is finished: {answer}"
    );
    assert!(
        answer
            .to_ascii_lowercase()
            .contains("\r\nconnection: close\r\n"),
        "a draining server closes the connection after the answer: {answer}"
    );
    let created: Value = serde_json::from_str(answer.split("\r\n\r\n").nth(1).unwrap()).unwrap();
    acknowledged
        .lock()
        .unwrap()
        .orders
        .insert(created["data"]["id"].as_str().unwrap().to_owned());

    for writer in writers {
        writer.await.unwrap();
    }
    let status =
        tokio::task::block_in_place(|| server.wait_for_exit(deadline + Duration::from_secs(5)));
    let took = signalled.elapsed();
    let status = status.expect("the server exits after SIGTERM");
    assert!(status.success(), "exit status {status}");
    assert!(
        took < deadline,
        "exited {took:?} after SIGTERM, deadline {deadline:?}"
    );
    let stopped = server.logs.lock().unwrap().join("\n");
    for task in ["event relay", "idempotency purge", "rate-limit cleanup"] {
        assert!(
            stopped.contains(&format!("\"task\":\"{task}\""))
                && stopped.contains("background task stopped"),
            "{task} stopped cleanly: {stopped}"
        );
    }
    assert!(stopped.contains("order-server stopped"), "{stopped}");

    // Nothing acknowledged is missing.
    let mut db = server.database();
    let acknowledged = acknowledged.lock().unwrap();
    assert!(acknowledged.orders.len() + acknowledged.lines.len() > 40);
    let stored: Vec<Stored> = diesel::sql_query(
        "SELECT o.id::text AS id, o.version, o.total, \
           (SELECT count(*) FROM order_mgmt_order_lines l WHERE l.order_id = o.id) AS lines, \
           (SELECT coalesce(sum(l.total), 0)::bigint FROM order_mgmt_order_lines l WHERE l.order_id = o.id) AS lines_total, \
           (SELECT count(*) FROM order_mgmt_order_events e WHERE e.order_id = o.id) AS events, \
           (SELECT count(DISTINCT e.version) FROM order_mgmt_order_events e WHERE e.order_id = o.id) AS event_versions, \
           (SELECT coalesce(max(e.version), 0) FROM order_mgmt_order_events e WHERE e.order_id = o.id) AS last_event_version, \
           (SELECT count(*) FROM order_mgmt_order_events e WHERE e.order_id = o.id AND e.event_type = 'order.line_added') AS line_events \
         FROM order_mgmt_orders o",
    )
    .load(&mut db)
    .unwrap();
    let by_id: HashMap<&str, &Stored> = stored.iter().map(|o| (o.id.as_str(), o)).collect();
    for order in &acknowledged.orders {
        assert!(
            by_id.contains_key(order.as_str()),
            "acknowledged order {order} is missing"
        );
    }
    let lines: Vec<StoredLine> = diesel::sql_query(
        "SELECT id::text AS id, order_id::text AS order_id FROM order_mgmt_order_lines",
    )
    .load(&mut db)
    .unwrap();
    let lines: HashMap<&str, &str> = lines
        .iter()
        .map(|l| (l.id.as_str(), l.order_id.as_str()))
        .collect();
    for (line, (order, version)) in &acknowledged.lines {
        assert_eq!(
            lines.get(line.as_str()),
            Some(&order.as_str()),
            "acknowledged line {line} is missing"
        );
        assert!(
            by_id[order.as_str()].version >= *version,
            "order {order} went back before version {version}"
        );
    }

    // Nothing half applied: each order's lines, totals and events are those of its version.
    for order in &stored {
        assert_eq!(order.events, order.version, "{order:?}");
        assert_eq!(order.event_versions, order.version, "{order:?}");
        assert_eq!(order.last_event_version, order.version, "{order:?}");
        assert_eq!(order.lines, order.line_events, "{order:?}");
        assert_eq!(
            order.lines,
            order.version - 1,
            "created, then one line per version: {order:?}"
        );
        assert_eq!(order.total, order.lines_total, "{order:?}");
    }
}

/// Ctrl-C drains like SIGTERM (actix-web's own handling would stop at once).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigint_shuts_down_gracefully_too() {
    let mut server =
        RunningServer::start_with(|url| url.to_owned(), &[("SHUTDOWN_TIMEOUT_SECS", "5")]);
    let api = server.client();
    api.customer().await;
    let signalled = Instant::now();
    server.send_signal("INT");
    let status = tokio::task::block_in_place(|| server.wait_for_exit(Duration::from_secs(10)))
        .expect("the server exits after SIGINT");
    assert!(status.success(), "exit status {status}");
    assert!(signalled.elapsed() < Duration::from_secs(5));
    let logs = server.logs.lock().unwrap().join("\n");
    assert!(logs.contains("\"signal\":\"SIGINT\""), "{logs}");
    assert!(logs.contains("graceful shutdown"), "{logs}");
    assert!(logs.contains("order-server stopped"), "{logs}");
}
