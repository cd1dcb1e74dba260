//! Test support (feature `testing`): a private `nats-server -js` that a test
//! may stop and start again, unique stream names, and reading a stream back.
//! Never enabled in production builds.

#![allow(clippy::missing_panics_doc, clippy::expect_used)] // test support: a panic is a failed test

use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use async_nats::jetstream::{self, message::StreamMessage};

/// The machine's shared JetStream server.
pub const SHARED_URL: &str = "nats://127.0.0.1:4222";

/// A stream name no other test uses (JetStream names allow `A-Z0-9_-`).
#[must_use]
pub fn unique_stream_name(prefix: &str) -> String {
    format!(
        "{prefix}_{}",
        uuid::Uuid::now_v7().simple().to_string().to_uppercase()
    )
}

/// A subject prefix no other test uses.
#[must_use]
pub fn unique_subject_prefix() -> String {
    format!("test{}", uuid::Uuid::now_v7().simple())
}

/// A `nats-server -js` of this test alone, on a free port, with its store in a
/// temporary directory that is removed on drop. The store survives
/// [`NatsServer::stop`]/[`NatsServer::start`], like a broker restart.
#[derive(Debug)]
pub struct NatsServer {
    port: u16,
    store: PathBuf,
    child: Option<Child>,
}

impl NatsServer {
    /// Starts a server and waits until it accepts connections.
    #[must_use]
    pub fn start_new() -> Self {
        let port = free_port();
        let store = std::env::temp_dir().join(format!("order-nats-test-{}", uuid::Uuid::now_v7()));
        std::fs::create_dir_all(&store).expect("temporary store directory");
        let mut server = Self {
            port,
            store,
            child: None,
        };
        server.start();
        server
    }

    /// `nats://127.0.0.1:<port>`.
    #[must_use]
    pub fn url(&self) -> String {
        format!("nats://127.0.0.1:{}", self.port)
    }

    /// Starts the (stopped) server again on the same port and store.
    pub fn start(&mut self) {
        assert!(self.child.is_none(), "already running");
        let child = Command::new("nats-server")
            .args(["-js", "-a", "127.0.0.1", "-p"])
            .arg(self.port.to_string())
            .arg("-sd")
            .arg(&self.store)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("nats-server on PATH");
        self.child = Some(child);
        let address = SocketAddr::from((Ipv4Addr::LOCALHOST, self.port));
        let deadline = Instant::now() + Duration::from_secs(10);
        while TcpStream::connect_timeout(&address, Duration::from_millis(100)).is_err() {
            assert!(Instant::now() < deadline, "nats-server did not start");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Kills the server (as an outage would) and waits until it is gone.
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for NatsServer {
    fn drop(&mut self) {
        self.stop();
        let _ = std::fs::remove_dir_all(&self.store);
    }
}

fn free_port() -> u16 {
    TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// Every message of `stream`, oldest first.
pub async fn read_stream(url: &str, stream: &str) -> Vec<StreamMessage> {
    let client = async_nats::connect(url).await.expect("connect to NATS");
    let context = jetstream::new(client);
    let mut handle = context.get_stream(stream).await.expect("stream exists");
    let state = handle.info().await.expect("stream info").state.clone();
    let mut messages = Vec::new();
    if state.messages == 0 {
        return messages;
    }
    for sequence in state.first_sequence..=state.last_sequence {
        messages.push(
            handle
                .get_raw_message(sequence)
                .await
                .expect("message by sequence"),
        );
    }
    messages
}

/// Deletes `stream` (the end of a test).
pub async fn delete_stream(url: &str, stream: &str) {
    let client = async_nats::connect(url).await.expect("connect to NATS");
    let _ = jetstream::new(client).delete_stream(stream).await;
}

/// The `Nats-Msg-Id` of a stored message (the event id).
#[must_use]
pub fn message_id(message: &StreamMessage) -> Option<String> {
    message
        .headers
        .get(async_nats::header::NATS_MESSAGE_ID)
        .map(|v| v.as_str().to_owned())
}
