//! # order-nats
//!
//! The NATS JetStream adapter of [`order_app::relay::EventPublisher`]: every
//! event goes to the stream (`ORDERS` by default, created if missing) on the
//! subject `<prefix>.<event>` (`orders.confirmed`, `orders.line_added`, ...),
//! with the event id as `Nats-Msg-Id`, so JetStream drops a re-published event
//! within the stream's duplicate window. A publish returns only once the
//! server acknowledged it (PubAck).
//!
//! Connecting never fails because the broker is down: the client keeps
//! retrying in the background and publishes fail with `Unavailable` until it
//! is back, which the relay turns into a back-off.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use async_nats::jetstream::{self, message::PublishMessage, stream};
use async_trait::async_trait;
use order_app::relay::{EventPublisher, OutboxEvent, PublishError, Published};

#[cfg(feature = "testing")]
pub mod testing;

/// Where and how events are published.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NatsConfig {
    /// `nats://host:port`.
    pub url: String,
    /// Stream name (`ORDERS`).
    pub stream: String,
    /// Subject prefix (`orders`): events go to `<prefix>.<event>`.
    pub subject_prefix: String,
    /// How long JetStream remembers a message id. Must exceed the longest time
    /// between a publish and its re-publish after a crash (the relay's
    /// longest back-off plus a failover), or a re-published event is stored twice.
    pub duplicate_window: Duration,
    /// How long to wait for a PubAck before calling the broker unavailable.
    pub ack_timeout: Duration,
}

impl NatsConfig {
    /// The defaults for `url`: stream `ORDERS`, subjects `orders.*`, a
    /// 10-minute duplicate window, 5 s to acknowledge.
    #[must_use]
    pub fn new(url: impl Into<String>) -> Self {
        Self {
            url: url.into(),
            stream: "ORDERS".into(),
            subject_prefix: "orders".into(),
            duplicate_window: Duration::from_secs(600),
            ack_timeout: Duration::from_secs(5),
        }
    }

    /// The subject of an event type: `order.line_added` → `orders.line_added`.
    #[must_use]
    pub fn subject(&self, event_type: &str) -> String {
        format!(
            "{}.{}",
            self.subject_prefix,
            order_events::subject_token(event_type)
        )
    }
}

/// Publishes events to JetStream.
#[derive(Debug)]
pub struct NatsPublisher {
    config: NatsConfig,
    jetstream: jetstream::Context,
    // Set once the stream is known to exist; cleared when a publish finds no
    // stream (deleted by an operator), so it is created again.
    stream_ready: AtomicBool,
}

impl NatsPublisher {
    /// A publisher for `config`. Returns at once even when the broker is
    /// down (the client connects in the background).
    ///
    /// # Errors
    /// `Refused` when the URL or options are invalid.
    pub async fn connect(config: NatsConfig) -> Result<Self, PublishError> {
        let client = async_nats::ConnectOptions::new()
            .name("order-server relay")
            .retry_on_initial_connect()
            .connection_timeout(config.ack_timeout)
            .max_reconnects(None)
            // The default backs off to 4 s; events wait in the outbox anyway,
            // so reconnect within a second of the broker coming back.
            .reconnect_delay_callback(|attempts| {
                Duration::from_millis(100 * attempts.min(10) as u64)
            })
            .connect(config.url.as_str())
            .await
            .map_err(|e| PublishError::Refused(format!("NATS_URL {}: {e}", config.url)))?;
        let mut context = jetstream::new(client);
        context.set_timeout(config.ack_timeout);
        Ok(Self {
            config,
            jetstream: context,
            stream_ready: AtomicBool::new(false),
        })
    }

    /// Creates the stream if it does not exist (an existing one is left as
    /// its operator configured it).
    ///
    /// # Errors
    /// `Unavailable` when the broker cannot be reached.
    pub async fn ensure_stream(&self) -> Result<(), PublishError> {
        if self.stream_ready.load(Ordering::Acquire) {
            return Ok(());
        }
        let create = self.jetstream.get_or_create_stream(stream::Config {
            name: self.config.stream.clone(),
            subjects: vec![format!("{}.>", self.config.subject_prefix)],
            storage: stream::StorageType::File,
            duplicate_window: self.config.duplicate_window,
            ..Default::default()
        });
        self.within_ack_timeout(create).await?.map_err(|e| {
            PublishError::Unavailable(format!("stream {}: {e}", self.config.stream))
        })?;
        self.stream_ready.store(true, Ordering::Release);
        Ok(())
    }

    /// While the client is disconnected a request waits for the client's own
    /// (longer) request timeout; the relay wants to know within `ack_timeout`.
    async fn within_ack_timeout<T>(
        &self,
        request: impl std::future::Future<Output = T>,
    ) -> Result<T, PublishError> {
        tokio::time::timeout(self.config.ack_timeout, request)
            .await
            .map_err(|_| {
                PublishError::Unavailable(format!(
                    "no answer from {} within {:?}",
                    self.config.url, self.config.ack_timeout
                ))
            })
    }

    /// The JetStream context, for tools and tests that read the stream.
    #[must_use]
    pub fn jetstream(&self) -> &jetstream::Context {
        &self.jetstream
    }
}

#[async_trait]
impl EventPublisher for NatsPublisher {
    async fn publish(&self, event: &OutboxEvent) -> Result<Published, PublishError> {
        self.ensure_stream().await?;
        let message = PublishMessage::build()
            .payload(event.payload.clone().into())
            .message_id(event.id.to_string());
        let subject = self.config.subject(&event.event_type);
        let unavailable = |e: &dyn std::fmt::Display| {
            PublishError::Unavailable(format!("publish {} to {subject}: {e}", event.id))
        };
        let publish = async {
            self.jetstream
                .send_publish(subject.clone(), message)
                .await?
                .await
        };
        let ack = self.within_ack_timeout(publish).await?.map_err(|e| {
            if matches!(
                e.kind(),
                async_nats::jetstream::context::PublishErrorKind::StreamNotFound
            ) {
                self.stream_ready.store(false, Ordering::Release);
            }
            unavailable(&e)
        })?;
        if ack.duplicate {
            tracing::debug!(event_id = %event.id, "JetStream dropped a re-published event");
            Ok(Published::Duplicate)
        } else {
            Ok(Published::Stored)
        }
    }
}
