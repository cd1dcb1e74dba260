//! The JetStream publisher against real servers: the machine's shared one
//! (unique stream per test, deleted after) and a private one a test stops.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failed test

use std::time::{Duration, Instant};

use chrono::Utc;
use order_app::relay::{EventPublisher, OutboxEvent, PublishError, Published};
use order_domain::OrderId;
use order_nats::testing::{
    delete_stream, read_stream, unique_stream_name, unique_subject_prefix, NatsServer, SHARED_URL,
};
use order_nats::{NatsConfig, NatsPublisher};
use uuid::Uuid;

/// A unique stream and prefix on `url`. The ack timeout is generous: on a
/// loaded machine a healthy broker's PubAck can take longer than half a
/// second, and only the broker-down test is about the timeout (it sets its
/// own short one).
fn config(url: &str) -> NatsConfig {
    NatsConfig {
        stream: unique_stream_name("ORDERS_TEST"),
        subject_prefix: unique_subject_prefix(),
        ack_timeout: Duration::from_secs(10),
        ..NatsConfig::new(url)
    }
}

fn event(event_type: &str, sequence: u64) -> OutboxEvent {
    OutboxEvent {
        id: Uuid::now_v7(),
        event_type: event_type.into(),
        order_id: OrderId::from_uuid(Uuid::now_v7()),
        sequence,
        occurred_at: Utc::now(),
        payload: format!(r#"{{"type":"{event_type}","sequence":{sequence}}}"#).into_bytes(),
    }
}

#[tokio::test]
async fn events_land_on_their_subject_with_the_event_id_and_a_duplicate_is_dropped() {
    let config = config(SHARED_URL);
    let publisher = NatsPublisher::connect(config.clone()).await.unwrap();
    let confirmed = event("order.confirmed", 4);
    let added = event("order.line_added", 2);

    assert_eq!(publisher.publish(&added).await, Ok(Published::Stored));
    assert_eq!(publisher.publish(&confirmed).await, Ok(Published::Stored));
    // A relay that died before marking the row publishes it again.
    assert_eq!(publisher.publish(&added).await, Ok(Published::Duplicate));

    let messages = read_stream(SHARED_URL, &config.stream).await;
    delete_stream(SHARED_URL, &config.stream).await;
    assert_eq!(messages.len(), 2, "the duplicate was not stored");
    assert_eq!(
        messages[0].subject.as_str(),
        format!("{}.line_added", config.subject_prefix)
    );
    assert_eq!(
        messages[1].subject.as_str(),
        format!("{}.confirmed", config.subject_prefix)
    );
    assert_eq!(
        messages[0]
            .headers
            .get(async_nats::header::NATS_MESSAGE_ID)
            .map(|v| v.as_str().to_owned()),
        Some(added.id.to_string())
    );
    assert_eq!(messages[1].payload.as_ref(), confirmed.payload.as_slice());
}

#[tokio::test]
async fn the_stream_is_created_with_the_configured_duplicate_window() {
    let config = NatsConfig {
        duplicate_window: Duration::from_secs(900),
        ..config(SHARED_URL)
    };
    let publisher = NatsPublisher::connect(config.clone()).await.unwrap();
    publisher.ensure_stream().await.unwrap();
    let mut stream = publisher
        .jetstream()
        .get_stream(&config.stream)
        .await
        .unwrap();
    let info = stream.info().await.unwrap().clone();
    delete_stream(SHARED_URL, &config.stream).await;
    assert_eq!(info.config.duplicate_window, Duration::from_secs(900));
    assert_eq!(
        info.config.subjects,
        [format!("{}.>", config.subject_prefix)]
    );
}

#[tokio::test]
async fn with_the_broker_down_a_publish_fails_fast_as_unavailable_and_succeeds_once_it_is_back() {
    let mut server = NatsServer::start_new();
    server.stop();
    let config = NatsConfig {
        ack_timeout: Duration::from_millis(500),
        ..config(&server.url())
    };
    // Connecting does not fail while the broker is down.
    let publisher = NatsPublisher::connect(config.clone()).await.unwrap();
    let pending = event("order.created", 1);

    let started = Instant::now();
    let failure = publisher.publish(&pending).await.unwrap_err();
    assert!(matches!(failure, PublishError::Unavailable(_)), "{failure}");
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "failed within the ack timeout, not hung"
    );

    server.start();
    let deadline = Instant::now() + Duration::from_secs(15);
    let outcome = loop {
        match publisher.publish(&pending).await {
            Ok(outcome) => break outcome,
            Err(e) => assert!(Instant::now() < deadline, "never recovered: {e}"),
        }
    };
    assert_eq!(outcome, Published::Stored);
    let messages = read_stream(&server.url(), &config.stream).await;
    assert_eq!(messages.len(), 1);
}

#[tokio::test]
async fn an_invalid_url_is_a_clear_error_not_a_panic() {
    let err = NatsPublisher::connect(NatsConfig::new("nats://bad host:not-a-port"))
        .await
        .unwrap_err();
    assert!(err.to_string().contains("NATS_URL"), "{err}");
}
