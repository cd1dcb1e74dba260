//! Database outage: with the connection to PostgreSQL cut, requests answer 503
//! within the pool timeout and `/ready` says not ready; once it is restored
//! the same server process serves again, with no restart.
//!
//! The outage is made by a TCP proxy between the server and PostgreSQL that
//! this test controls, so the shared PostgreSQL server is never stopped.

use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::helpers::*;

struct Proxy {
    port: u16,
    cut: Arc<AtomicBool>,
    /// Bytes are swallowed, connections stay open and new ones hang: a
    /// link that drops packets without closing.
    hole: Arc<AtomicBool>,
    live: Arc<Mutex<Vec<TcpStream>>>,
}

impl Proxy {
    fn start(upstream: &str) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let cut = Arc::new(AtomicBool::new(false));
        let hole = Arc::new(AtomicBool::new(false));
        let live = Arc::new(Mutex::new(Vec::new()));
        let (upstream, cut_flag, live_list) = (upstream.to_owned(), cut.clone(), live.clone());
        let hole_flag = hole.clone();
        std::thread::spawn(move || {
            for client in listener.incoming() {
                let Ok(client) = client else { continue };
                if cut_flag.load(Ordering::SeqCst) {
                    let _ = client.shutdown(Shutdown::Both);
                    continue;
                }
                if hole_flag.load(Ordering::SeqCst) {
                    // Accepted, never answered: the connect hangs.
                    live_list.lock().unwrap().push(client);
                    continue;
                }
                let Ok(server) = TcpStream::connect(&upstream) else {
                    let _ = client.shutdown(Shutdown::Both);
                    continue;
                };
                {
                    let mut live = live_list.lock().unwrap();
                    live.push(client.try_clone().unwrap());
                    live.push(server.try_clone().unwrap());
                }
                pump(
                    client.try_clone().unwrap(),
                    server.try_clone().unwrap(),
                    hole_flag.clone(),
                );
                pump(server, client, hole_flag.clone());
            }
        });
        Self {
            port,
            cut,
            hole,
            live,
        }
    }

    /// From now on every byte either way is dropped, nothing is closed.
    fn black_hole(&self) {
        self.hole.store(true, Ordering::SeqCst);
    }

    /// The link works again. Connections that lost bytes in the hole cannot
    /// resume their protocol (as after a real partition, once TCP gives up
    /// on them), so they are closed first.
    fn heal(&self) {
        for stream in self.live.lock().unwrap().drain(..) {
            let _ = stream.shutdown(Shutdown::Both);
        }
        self.hole.store(false, Ordering::SeqCst);
    }

    /// Drops every open connection and refuses new ones.
    fn cut(&self) {
        self.cut.store(true, Ordering::SeqCst);
        for stream in self.live.lock().unwrap().drain(..) {
            let _ = stream.shutdown(Shutdown::Both);
        }
    }

    fn restore(&self) {
        self.cut.store(false, Ordering::SeqCst);
    }
}

fn pump(mut from: TcpStream, mut to: TcpStream, hole: Arc<AtomicBool>) {
    std::thread::spawn(move || {
        let mut buffer = [0u8; 16 * 1024];
        loop {
            match from.read(&mut buffer) {
                Ok(0) | Err(_) => break,
                Ok(_) if hole.load(Ordering::SeqCst) => {}
                Ok(n) => {
                    if to.write_all(&buffer[..n]).is_err() {
                        break;
                    }
                }
            }
        }
        let _ = to.shutdown(Shutdown::Both);
    });
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_answer_503_during_an_outage_and_the_server_recovers_by_itself() {
    let admin = admin_url();
    let upstream = admin
        .split('@')
        .nth(1)
        .and_then(|rest| rest.split('/').next())
        .unwrap_or("127.0.0.1:5432")
        .to_owned();
    let proxy = Proxy::start(&upstream);
    let proxied = format!("127.0.0.1:{}", proxy.port);
    let timeout_secs = 2;
    let server = RunningServer::start_with(
        |url| url.replacen(&upstream, &proxied, 1),
        &[("DB_CONNECT_TIMEOUT_SECS", "2")],
    );
    let api = server.client();
    let customer = api.customer().await;
    let order = api.order(&customer).await;
    assert_eq!(api.get("/ready").await.0, 200);

    proxy.cut();
    for path in [format!("{ORDERS}/{order}"), ORDERS.to_owned()] {
        let started = Instant::now();
        let (status, body) = api.get(&path).await;
        let waited = started.elapsed();
        assert_eq!(status, 503, "{path}: {body}");
        assert_eq!(body["code"], "service_unavailable");
        // Within the pool's connection timeout, plus slack for a loaded 2-core machine.
        assert!(
            waited < Duration::from_secs(timeout_secs + 5),
            "{path} took {waited:?}"
        );
    }
    let (status, body) = api.post(&format!("{ORDERS}/{order}/confirm"), None).await;
    assert_eq!(status, 503, "{body}");
    assert_eq!(api.get("/ready").await.0, 503);

    proxy.restore();
    // No restart and no waiting: the pool discards dead connections on
    // check-out and opens fresh ones, so the very next requests succeed.
    let (status, body) = api.get("/ready").await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = api.get(&format!("{ORDERS}/{order}")).await;
    assert_eq!(status, 200, "{body}");
    let body = api.line(&order, 1, 100).await;
    assert_eq!(body["data"]["total"]["amount"], 100);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_black_holed_database_link_answers_503_within_the_deadline_and_the_pool_recovers() {
    let admin = admin_url();
    let upstream = admin
        .split('@')
        .nth(1)
        .and_then(|rest| rest.split('/').next())
        .unwrap_or("127.0.0.1:5432")
        .to_owned();
    let proxy = Proxy::start(&upstream);
    let proxied = format!("127.0.0.1:{}", proxy.port);
    let deadline = Duration::from_secs(3);
    let server = RunningServer::start_with(
        |url| url.replacen(&upstream, &proxied, 1),
        &[
            ("DB_CONNECT_TIMEOUT_SECS", "2"),
            ("REQUEST_TIMEOUT_SECS", "3"),
            ("DB_TCP_KEEPALIVE_SECS", "1"),
            ("DB_POOL_SIZE", "4"),
        ],
    );
    let api = Arc::new(server.client());
    let customer = api.customer().await;
    let mut acknowledged = Vec::new();
    for _ in 0..3 {
        acknowledged.push(api.order(&customer).await);
    }

    proxy.black_hole();
    let writes_refused = 4;
    let requests: Vec<_> = (0..8)
        .map(|i| {
            let (api, customer, order) = (api.clone(), customer.clone(), acknowledged[0].clone());
            tokio::spawn(async move {
                let started = Instant::now();
                let (status, body) = if i % 2 == 0 {
                    api.get(&format!("{ORDERS}/{order}")).await
                } else {
                    let body = serde_json::json!({"customer_id": customer, "currency": "USD"});
                    api.post(ORDERS, Some(body)).await
                };
                (status, body, started.elapsed())
            })
        })
        .collect();
    for request in requests {
        let (status, body, waited) = request.await.unwrap();
        assert_eq!(status, 503, "{body}");
        assert_eq!(body["code"], "service_unavailable");
        // The deadline, plus slack for a loaded 2-core machine.
        assert!(
            waited < deadline + Duration::from_secs(5),
            "took {waited:?}"
        );
    }

    proxy.heal();
    // The pool drops the connections the hole broke and opens fresh ones;
    // no restart. Each probe waits at most the pool timeout, no sleeping.
    let mut ready = false;
    for _ in 0..10 {
        if api.get("/ready").await.0 == 200 {
            ready = true;
            break;
        }
    }
    assert!(ready, "the pool recovered");
    let created = api.order(&customer).await;
    acknowledged.push(created);
    // Nothing acknowledged is missing. A write answered 503 by the deadline
    // has an unknown outcome (its blocking work may still finish once the
    // link heals): it is either absent or whole, never half-applied.
    for order in &acknowledged {
        assert_eq!(
            api.get(&format!("{ORDERS}/{order}")).await.0,
            200,
            "{order}"
        );
    }
    let (_, list) = api.get(&format!("{ORDERS}/customer/{customer}")).await;
    let total = list["pagination"]["total_items"].as_u64().unwrap() as usize;
    assert!(
        (acknowledged.len()..=acknowledged.len() + writes_refused).contains(&total),
        "{total} orders for {} acknowledged",
        acknowledged.len()
    );
    for order in list["data"].as_array().unwrap() {
        let (status, body) = api
            .get(&format!("{ORDERS}/{}", order["id"].as_str().unwrap()))
            .await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["data"]["customer_id"], customer.as_str(), "{body}");
    }
}

/// The pool no longer pings a connection before every request (a round trip
/// each), only connections that may be stale. When the database drops every
/// connection at once (a restart, a failover, a proxy restarting), the next
/// requests must still succeed: the read that meets a dead connection is read
/// again on a fresh one, and the pool then checks its other connections
/// before handing them out, so the write after it finds a live one.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_first_requests_after_every_connection_was_dropped_succeed() {
    let admin = admin_url();
    let upstream = admin
        .split('@')
        .nth(1)
        .and_then(|rest| rest.split('/').next())
        .unwrap_or("127.0.0.1:5432")
        .to_owned();
    let proxy = Proxy::start(&upstream);
    let proxied = format!("127.0.0.1:{}", proxy.port);
    let server = RunningServer::start_with(
        |url| url.replacen(&upstream, &proxied, 1),
        &[("DB_CONNECT_TIMEOUT_SECS", "2")],
    );
    let api = server.client();
    let customer = api.customer().await;
    let order = api.order(&customer).await;
    api.line(&order, 2, 500).await;
    // Several requests at once, so that the pool holds several connections.
    let reads = tokio::join!(
        api.get(ORDERS),
        api.get(ORDERS),
        api.get(ORDERS),
        api.get(ORDERS)
    );
    for (status, body) in [reads.0, reads.1, reads.2, reads.3] {
        assert_eq!(status, 200, "{body}");
    }

    // Every open connection is dropped; new ones are accepted at once.
    proxy.cut();
    proxy.restore();

    let (status, body) = api.get(&format!("{ORDERS}/{order}")).await;
    assert_eq!(status, 200, "the first read after the drop: {body}");
    let (status, body) = api.get(ORDERS).await;
    assert_eq!(status, 200, "a list after the drop: {body}");
    let (status, body) = api.post(&format!("{ORDERS}/{order}/confirm"), None).await;
    assert_eq!(status, 200, "a write after the drop: {body}");
    assert_eq!(body["data"]["status"], "confirmed");
    let (status, body) = api.get("/ready").await;
    assert_eq!(status, 200, "{body}");
}
