//! Domain events leave the service exactly once and in order: the real binary,
//! the real PostgreSQL and real NATS JetStream servers (the shared one with a
//! stream per test, or a private one when the test stops the broker).

use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};

use diesel::sql_types::BigInt;
use diesel::{Connection, PgConnection, QueryableByName, RunQueryDsl};
use order_nats::testing::{
    delete_stream, message_id, read_stream, unique_stream_name, unique_subject_prefix, NatsServer,
    SHARED_URL,
};
use serde_json::{json, Value};

use crate::helpers::*;

/// The broker settings of one test: its own stream and subjects.
pub(crate) struct Broker {
    url: String,
    pub(crate) stream: String,
    prefix: String,
}

impl Broker {
    pub(crate) fn on(url: &str) -> Self {
        Self {
            url: url.to_owned(),
            stream: unique_stream_name("E2E"),
            prefix: unique_subject_prefix(),
        }
    }

    pub(crate) fn env(&self) -> Vec<(&str, &str)> {
        vec![
            ("NATS_URL", self.url.as_str()),
            ("NATS_STREAM", self.stream.as_str()),
            ("NATS_SUBJECT_PREFIX", self.prefix.as_str()),
            // Short retries so an outage test does not wait ten seconds.
            ("RELAY_MAX_BACKOFF_SECS", "1"),
            ("RELAY_POLL_MS", "200"),
        ]
    }

    /// The stream's messages as (subject, Nats-Msg-Id, envelope).
    pub(crate) async fn messages(&self) -> Vec<(String, String, Value)> {
        read_stream(&self.url, &self.stream)
            .await
            .into_iter()
            .map(|m| {
                let id = message_id(&m).unwrap_or_default();
                let envelope: Value = serde_json::from_slice(&m.payload).unwrap();
                (m.subject.to_string(), id, envelope)
            })
            .collect()
    }
}

#[derive(QueryableByName)]
struct Counts {
    #[diesel(sql_type = BigInt)]
    total: i64,
    #[diesel(sql_type = BigInt)]
    unpublished: i64,
}

/// (events stored, events not yet published) in the server's outbox.
fn outbox(server: &RunningServer) -> (i64, i64) {
    let mut conn = PgConnection::establish(&server.database_url()).unwrap();
    let counts: Counts = diesel::sql_query(
        "SELECT count(*) AS total, count(*) FILTER (WHERE published_at IS NULL) AS unpublished \
         FROM order_mgmt_order_events",
    )
    .get_result(&mut conn)
    .unwrap();
    (counts.total, counts.unpublished)
}

/// Waits (polling, bounded) until `condition` holds.
async fn eventually(what: &str, within: Duration, mut condition: impl FnMut() -> bool) {
    let deadline = Instant::now() + within;
    while !condition() {
        assert!(Instant::now() < deadline, "timed out waiting until {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

pub(crate) async fn metrics(server: &RunningServer) -> String {
    server
        .client()
        .http
        .get(format!("{}/metrics", server.base))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}

/// Waits until every stored event is published, then returns the stream.
async fn published_stream(server: &RunningServer, broker: &Broker) -> Vec<(String, String, Value)> {
    eventually("the outbox is published", Duration::from_secs(60), || {
        outbox(server).1 == 0
    })
    .await;
    broker.messages().await
}

/// The description's flow (one order to fulfilment) and a cancelled order;
/// returns the two order ids.
pub(crate) async fn described_flow(api: &Client) -> (String, String) {
    let customer = api.customer().await;
    let order = api.order(&customer).await;
    api.line(&order, 3, 10_000).await;
    api.line(&order, 2, 7_500).await;
    for action in ["confirm", "process", "fulfill"] {
        let (status, body) = api.post(&format!("{ORDERS}/{order}/{action}"), None).await;
        assert_eq!(status, 200, "{action}: {body}");
    }
    let cancelled = api.order(&customer).await;
    let (status, body) = api
        .post(
            &format!("{ORDERS}/{cancelled}/cancel"),
            Some(json!({"reason": "customer changed their mind"})),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    (order, cancelled)
}

pub(crate) const FLOW_TYPES: [&str; 6] = [
    "order.created",
    "order.line_added",
    "order.line_added",
    "order.confirmed",
    "order.processing_started",
    "order.fulfilled",
];

/// The envelopes of one order, in stream order.
pub(crate) fn of_order<'a>(messages: &'a [(String, String, Value)], order: &str) -> Vec<&'a Value> {
    messages
        .iter()
        .map(|(_, _, e)| e)
        .filter(|e| e["order_id"] == order)
        .collect()
}

/// Every order's events arrive as sequence 1, 2, 3, ... with no gap or repeat.
pub(crate) fn assert_ordered_once_each(messages: &[(String, String, Value)]) {
    let mut ids = HashSet::new();
    let mut next: HashMap<String, u64> = HashMap::new();
    for (_, msg_id, envelope) in messages {
        assert!(
            ids.insert(msg_id.clone()),
            "event {msg_id} twice in the stream"
        );
        let expected = next
            .entry(envelope["order_id"].as_str().unwrap().to_owned())
            .or_insert(1);
        assert_eq!(
            envelope["sequence"].as_u64().unwrap(),
            *expected,
            "order {} out of order",
            envelope["order_id"]
        );
        *expected += 1;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_described_flow_yields_exactly_its_events_in_order_once_each_in_the_stream() {
    let broker = Broker::on(SHARED_URL);
    let server = RunningServer::start_with(|url| url.to_owned(), &broker.env());
    let api = server.client();
    let (order, cancelled) = described_flow(&api).await;

    let messages = published_stream(&server, &broker).await;
    delete_stream(&broker.url, &broker.stream).await;
    assert_eq!(messages.len(), 8, "exactly the flow's events, once each");
    assert_ordered_once_each(&messages);
    let flow = of_order(&messages, &order);
    let types: Vec<&str> = flow.iter().map(|e| e["type"].as_str().unwrap()).collect();
    assert_eq!(types, FLOW_TYPES);
    let cancel = of_order(&messages, &cancelled);
    assert_eq!(cancel[1]["type"], "order.cancelled");
    assert_eq!(cancel[1]["reason"], "customer changed their mind");
    assert_eq!(cancel[1]["data"]["status"]["before"], "pending");

    for (subject, msg_id, envelope) in &messages {
        // Routing and de-duplication facts agree with the envelope.
        let event_type = envelope["type"].as_str().unwrap();
        assert_eq!(
            *subject,
            format!("{}.{}", broker.prefix, &event_type["order.".len()..])
        );
        assert_eq!(envelope["id"], msg_id.as_str());
        // Each real event satisfies the published JSON Schema of its type.
        let schema = order_events::schema::for_type(event_type).unwrap();
        let validator = jsonschema::validator_for(&schema).unwrap();
        let errors: Vec<String> = validator
            .iter_errors(envelope)
            .map(|e| e.to_string())
            .collect();
        assert!(errors.is_empty(), "{envelope}: {errors:?}");
    }
    assert_eq!(flow[3]["data"]["totals"]["total"]["amount"], 45_000);
    assert_eq!(
        flow[2]["data"]["totals"]["before"]["total"]["amount"],
        30_000
    );

    let metrics = metrics(&server).await;
    assert!(
        metrics.contains("order_events_published_total 8"),
        "{metrics}"
    );
    assert!(metrics.contains("order_outbox_backlog 0"), "{metrics}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_the_broker_down_requests_succeed_and_every_event_arrives_once_it_is_back() {
    let mut nats = NatsServer::start_new();
    nats.stop();
    let broker = Broker::on(&nats.url());
    let server = RunningServer::start_with(|url| url.to_owned(), &broker.env());
    let api = server.client();

    // Every request succeeds while nothing can be published.
    let (order, _) = described_flow(&api).await;
    assert_eq!(outbox(&server), (8, 8), "all stored, none published");
    assert_eq!(
        api.get("/ready").await.0,
        200,
        "the broker is not a readiness dependency"
    );
    // The relay refreshes the backlog gauge on each (backed-off) attempt.
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let text = metrics(&server).await;
        if text.contains("order_outbox_backlog 8") {
            assert!(
                text.contains("order_events_publish_failures_total"),
                "{text}"
            );
            break;
        }
        assert!(
            Instant::now() < deadline,
            "backlog metric never showed 8: {text}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    nats.start();
    let messages = published_stream(&server, &broker).await;
    assert_eq!(messages.len(), 8);
    assert_ordered_once_each(&messages);
    let types: Vec<&str> = of_order(&messages, &order)
        .iter()
        .map(|e| e["type"].as_str().unwrap())
        .collect();
    assert_eq!(types, FLOW_TYPES);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_servers_publish_every_event_exactly_once_in_order_and_the_survivor_takes_over() {
    let broker = Broker::on(SHARED_URL);
    let mut first = RunningServer::start_with(|url| url.to_owned(), &broker.env());
    let second = first.another(&broker.env());
    let (a, b) = (first.client(), second.client());
    let customer = a.customer().await;

    // Ten orders, their changes spread over both servers.
    let mut orders = Vec::new();
    for i in 0..10 {
        let api = if i % 2 == 0 { &a } else { &b };
        orders.push(api.order(&customer).await);
    }
    for round in 0..3 {
        for (i, order) in orders.iter().enumerate() {
            let api = if (i + round) % 2 == 0 { &a } else { &b };
            api.line(order, 1, 100 + i64::try_from(round).unwrap())
                .await;
        }
    }
    // The first server dies; the second must take the work over.
    first.kill();
    for order in &orders {
        let (status, body) = b.post(&format!("{ORDERS}/{order}/confirm"), None).await;
        assert_eq!(status, 200, "{body}");
    }

    let messages = published_stream(&second, &broker).await;
    delete_stream(&broker.url, &broker.stream).await;
    assert_eq!(
        messages.len(),
        10 * 5,
        "every event once: created, 3 lines, confirmed"
    );
    assert_ordered_once_each(&messages);
    for order in &orders {
        assert_eq!(of_order(&messages, order).len(), 5);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_relay_killed_between_puback_and_marking_republishes_and_jetstream_drops_the_copy() {
    let broker = Broker::on(SHARED_URL);
    let mut server = RunningServer::start_with(|url| url.to_owned(), &broker.env());
    let (order, _) = described_flow(&server.client()).await;
    let before = published_stream(&server, &broker).await;
    assert_eq!(before.len(), 8);

    // The state a crash between PubAck and mark-published leaves: in the
    // stream, not marked in the outbox.
    server.kill();
    let mut conn = PgConnection::establish(&server.database_url()).unwrap();
    diesel::sql_query("UPDATE order_mgmt_order_events SET published_at = NULL")
        .execute(&mut conn)
        .unwrap();
    let restarted = server.another(&broker.env());
    let after = published_stream(&restarted, &broker).await;
    delete_stream(&broker.url, &broker.stream).await;

    assert_eq!(
        after, before,
        "the re-published events were dropped as duplicates"
    );
    let metrics = metrics(&restarted).await;
    assert!(
        metrics.contains("order_events_duplicates_total 8"),
        "{metrics}"
    );
    assert!(
        metrics.contains("order_events_published_total 0"),
        "{metrics}"
    );
    assert_eq!(of_order(&after, &order).len(), 6);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_change_leaves_no_event_and_without_nats_events_wait_in_the_outbox() {
    // No NATS_URL: the server runs, events are stored and stay unpublished.
    let server = RunningServer::start();
    let api = server.client();
    let customer = api.customer().await;
    let order = api.order(&customer).await;
    api.line(&order, 1, 500).await;
    assert_eq!(outbox(&server), (2, 2));

    // A version conflict (stale If-Match) changes nothing, event included.
    let stale = api
        .http
        .post(format!("{}{ORDERS}/{order}/confirm", server.base))
        .header("If-Match", "\"1\"")
        .send()
        .await
        .unwrap();
    assert_eq!(stale.status().as_u16(), 412);
    // A constraint failure (unknown customer) neither.
    let (status, body) = api
        .post(
            ORDERS,
            Some(json!({"customer_id": uuid::Uuid::now_v7(), "currency": "USD"})),
        )
        .await;
    assert_eq!(status, 422, "{body}");
    // A refused transition neither.
    let (status, _) = api.post(&format!("{ORDERS}/{order}/fulfill"), None).await;
    assert_eq!(status, 409);
    assert_eq!(outbox(&server), (2, 2), "no event from any failed change");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_history_shows_actor_reason_and_before_after_and_resumes_after_a_sequence() {
    let server = RunningServer::start();
    let api = server.client();
    let customer = api.customer().await;
    let order = api.order(&customer).await;
    api.line(&order, 3, 10_000).await;
    let cancel = api
        .http
        .post(format!("{}{ORDERS}/{order}/cancel", server.base))
        .header("X-Actor", "clerk-7")
        .json(&json!({"reason": "customer changed their mind"}))
        .send()
        .await
        .unwrap();
    assert_eq!(cancel.status().as_u16(), 200);
    let (status, _) = api.delete(&format!("{ORDERS}/{order}")).await;
    assert!(status == 200 || status == 204, "{status}");

    // Soft-deleted, and its history still readable.
    let (status, body) = api.get(&format!("{ORDERS}/{order}/events")).await;
    assert_eq!(status, 200, "{body}");
    let events = body["data"].as_array().unwrap();
    let types: Vec<&str> = events.iter().map(|e| e["type"].as_str().unwrap()).collect();
    assert_eq!(
        types,
        [
            "order.created",
            "order.line_added",
            "order.cancelled",
            "order.deleted"
        ]
    );
    assert_eq!(body["next_after"], Value::Null);
    assert_eq!(events[0]["actor"]["id"], "anonymous");
    let cancelled = &events[2];
    assert_eq!(
        cancelled["actor"],
        json!({"id": "clerk-7", "name": "clerk-7"})
    );
    assert_eq!(cancelled["reason"], "customer changed their mind");
    assert_eq!(
        cancelled["data"]["status"],
        json!({"before": "pending", "after": "cancelled"})
    );
    assert_eq!(events[1]["data"]["totals"]["before"]["total"]["amount"], 0);
    assert_eq!(
        events[1]["data"]["totals"]["after"]["total"]["amount"],
        30_000
    );
    assert_eq!(events[3]["data"]["status"], "cancelled");

    // Pages resume exactly after the given sequence.
    let (_, page) = api
        .get(&format!("{ORDERS}/{order}/events?after=1&limit=2"))
        .await;
    let sequences: Vec<u64> = page["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["sequence"].as_u64().unwrap())
        .collect();
    assert_eq!(sequences, [2, 3]);
    assert_eq!(page["next_after"], 3);
    let (_, rest) = api.get(&format!("{ORDERS}/{order}/events?after=3")).await;
    assert_eq!(rest["data"][0]["sequence"], 4);
    assert_eq!(rest["data"].as_array().unwrap().len(), 1);

    // A bad X-Actor is refused before anything changes.
    let bad = api
        .http
        .post(format!(
            "{}{ORDERS}/{}/cancel",
            server.base,
            api.order(&customer).await
        ))
        .header("X-Actor", "   ")
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status().as_u16(), 400);
    let (status, _) = api
        .get(&format!("{ORDERS}/{}/events", uuid::Uuid::now_v7()))
        .await;
    assert_eq!(status, 404);
}

/// Waits (polling `/metrics`, bounded) until `server` shows the line `sample`.
async fn until_metric(server: &RunningServer, sample: &str) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while !metrics(server).await.lines().any(|line| line == sample) {
        assert!(Instant::now() < deadline, "timed out waiting for {sample}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// SIGTERM to the server whose relay leads: the relay finishes its pass,
/// gives the lead up and the process exits 0; the other server takes over,
/// and every event is in the stream once, none published again (the stopped
/// relay marked everything it sent).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_relay_stopped_by_sigterm_hands_the_lead_over_and_publishes_nothing_twice() {
    let broker = Broker::on(SHARED_URL);
    let mut env = broker.env();
    env.push(("SHUTDOWN_TIMEOUT_SECS", "10"));
    let mut first = RunningServer::start_with(|url| url.to_owned(), &env);
    // The first server's relay leads before the second one starts.
    until_metric(&first, "order_relay_leader 1").await;
    let second = first.another(&broker.env());
    let (a, b) = (first.client(), second.client());
    let customer = a.customer().await;
    let mut orders = Vec::new();
    for i in 0..5 {
        let order = a.order(&customer).await;
        a.line(&order, 1, 100 + i).await;
        orders.push(order);
    }

    first.send_sigterm();
    let status = tokio::task::block_in_place(|| first.wait_for_exit(Duration::from_secs(15)))
        .expect("the first server exits after SIGTERM");
    assert!(status.success(), "exit status {status}");
    let logs = first.logs.lock().unwrap().join("\n");
    assert!(logs.contains("event relay stopped"), "{logs}");

    until_metric(&second, "order_relay_leader 1").await;
    for order in &orders {
        let (status, body) = b.post(&format!("{ORDERS}/{order}/confirm"), None).await;
        assert_eq!(status, 200, "{body}");
    }
    let messages = published_stream(&second, &broker).await;
    delete_stream(&broker.url, &broker.stream).await;
    assert_eq!(messages.len(), 5 * 3, "created, line added, confirmed");
    assert_ordered_once_each(&messages);
    assert!(
        metrics(&second)
            .await
            .lines()
            .any(|line| line == "order_events_duplicates_total 0"),
        "the survivor re-published nothing"
    );
}
