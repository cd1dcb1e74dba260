//! Spawning the real `order-server` binary against a private database, and a
//! small JSON client for it.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

use diesel::{Connection, PgConnection, RunQueryDsl};
use serde_json::{json, Value};

pub const ORDERS: &str = "/api/v1/order-mgmt/orders";
pub const CUSTOMERS: &str = "/api/v1/customer-mgmt/customers";

pub fn admin_url() -> String {
    std::env::var("TEST_DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned())
}

/// The server binary with the tests' settings and `env` (its database is
/// the caller's to set).
fn server_command(env: &[(&str, &str)]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_order-server"));
    command
        .env("PORT", "0")
        .env("HOST", "127.0.0.1")
        .env("LOG_FORMAT", "json")
        .env("RUST_LOG", "info")
        .env("DB_POOL_SIZE", "8")
        .env("AUTH", "off")
        .envs(env.iter().copied());
    command
}

/// The server process and its private database; both go away on drop.
pub struct RunningServer {
    child: Child,
    pub base: String,
    admin_url: String,
    database: String,
    // A second server on another's database leaves the database alone.
    owns_database: bool,
    /// Every line the server has logged so far.
    pub logs: Arc<Mutex<Vec<String>>>,
    /// Notified at every new log line.
    logged: Arc<Condvar>,
    /// Receives once the server closed its log: it has exited.
    log_closed: mpsc::Receiver<()>,
}

impl RunningServer {
    /// A server on a free port with a fresh database, authentication off:
    /// the tests of everything but authentication speak to it without keys.
    pub fn start() -> Self {
        Self::start_with(|url| url.to_owned(), &[])
    }

    /// A server with API keys required (the production default), plus `env`.
    pub fn start_with_auth(env: &[(&str, &str)]) -> Self {
        let mut all = vec![("AUTH", "on")];
        all.extend_from_slice(env);
        Self::start_with(|url| url.to_owned(), &all)
    }

    /// Like [`RunningServer::start`], with the database URL the server gets
    /// rewritten (e.g. to go through a proxy) and extra environment.
    pub fn start_with(rewrite_url: impl Fn(&str) -> String, env: &[(&str, &str)]) -> Self {
        let database = format!("order_e2e_{}", uuid::Uuid::now_v7().simple());
        Self::spawn(database, true, rewrite_url, env)
    }

    /// A second server process on this server's database (another instance
    /// of a horizontally scaled service); the database stays with `self`.
    pub fn another(&self, env: &[(&str, &str)]) -> Self {
        Self::spawn(self.database.clone(), false, |url| url.to_owned(), env)
    }

    fn spawn(
        database: String,
        owns_database: bool,
        rewrite_url: impl Fn(&str) -> String,
        env: &[(&str, &str)],
    ) -> Self {
        let admin_url = admin_url();
        let (server_url, _) = admin_url.rsplit_once('/').unwrap();
        let database_url = rewrite_url(&format!("{server_url}/{database}"));
        let mut command = server_command(env);
        command.env("DATABASE_URL", &database_url);
        Self::from_command(command, admin_url, database, owns_database)
    }

    /// A server with no `DATABASE_URL` at all, started in `dir`: the
    /// embedded SQLite store, in `dir/data/`, as `make run` on a machine
    /// without PostgreSQL.
    pub fn start_embedded(dir: &std::path::Path, env: &[(&str, &str)]) -> Self {
        let mut command = server_command(env);
        command.env_remove("DATABASE_URL").current_dir(dir);
        Self::from_command(command, admin_url(), String::new(), false)
    }

    fn from_command(
        mut command: Command,
        admin_url: String,
        database: String,
        owns_database: bool,
    ) -> Self {
        let mut child = command
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("order-server starts");
        // The server logs its bound address once it listens; read until then.
        let stdout = child.stdout.take().unwrap();
        let mut lines = BufReader::new(stdout).lines();
        // The start-up lines are kept too (e.g. which store was opened).
        let mut start_up = Vec::new();
        let address = loop {
            let line = lines
                .next()
                .expect("order-server exited before listening")
                .unwrap();
            let address = serde_json::from_str::<Value>(&line)
                .ok()
                .and_then(|event| event["fields"]["address"].as_str().map(str::to_owned));
            start_up.push(line);
            if let Some(address) = address {
                break address;
            }
        };
        // Keep draining the log so the server never blocks on a full pipe,
        // and keep it for the tests that read it.
        let logs = Arc::new(Mutex::new(start_up));
        let logged = Arc::new(Condvar::new());
        let (kept, notify) = (logs.clone(), logged.clone());
        let (closed, log_closed) = mpsc::channel();
        std::thread::spawn(move || {
            for line in lines.map_while(Result::ok) {
                kept.lock().unwrap().push(line);
                notify.notify_all();
            }
            let _ = closed.send(());
        });
        Self {
            child,
            base: format!("http://{address}"),
            admin_url,
            database,
            owns_database,
            logs,
            logged,
            log_closed,
        }
    }

    /// Sends SIGTERM.
    pub fn send_sigterm(&self) {
        self.send_signal("TERM");
    }

    /// Sends the signal `name` (`TERM`, `INT`) with the `kill` command: no
    /// signal crate for one call.
    pub fn send_signal(&self, name: &str) {
        let sent = Command::new("kill")
            .args([&format!("-{name}"), &self.child.id().to_string()])
            .status()
            .expect("kill runs");
        assert!(sent.success(), "kill -{name} failed: {sent}");
    }

    /// Waits up to `within` for a log line containing `needle`.
    pub fn wait_for_log(&self, needle: &str, within: Duration) -> bool {
        let logs = self.logs.lock().unwrap();
        let (logs, _) = self
            .logged
            .wait_timeout_while(logs, within, |logs| {
                !logs.iter().any(|line| line.contains(needle))
            })
            .unwrap();
        logs.iter().any(|line| line.contains(needle))
    }

    /// Waits up to `within` for the process to exit: its status, or `None`
    /// if it is still running (it is killed when dropped).
    pub fn wait_for_exit(&mut self, within: Duration) -> Option<ExitStatus> {
        // The log closes when the process exits: no polling.
        self.log_closed.recv_timeout(within).ok()?;
        Some(self.child.wait().unwrap())
    }

    /// Kills the process at once (no graceful shutdown), as a crash would.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl RunningServer {
    /// The URL of this server's private database.
    pub fn database_url(&self) -> String {
        let (server_url, _) = self.admin_url.rsplit_once('/').unwrap();
        format!("{server_url}/{}", self.database)
    }

    /// Runs `order-server keys <args>` on this server's database: (success, stdout, stderr).
    pub fn keys(&self, args: &[&str]) -> (bool, String, String) {
        let output = Command::new(env!("CARGO_BIN_EXE_order-server"))
            .env("DATABASE_URL", self.database_url())
            .env("RUST_LOG", "warn")
            // The suite loads two cores with hundreds of databases: be patient.
            .env("DB_CONNECT_TIMEOUT_SECS", "30")
            .arg("keys")
            .args(args)
            .output()
            .expect("order-server keys runs");
        (
            output.status.success(),
            String::from_utf8_lossy(&output.stdout).into_owned(),
            format!(
                "{}(exit: {})",
                String::from_utf8_lossy(&output.stderr),
                output.status
            ),
        )
    }

    /// Creates a key with the CLI and returns its text.
    pub fn create_key(&self, name: &str, scopes: &str, customer: Option<&str>) -> String {
        let mut args = vec!["create", "--name", name, "--scopes", scopes];
        if let Some(customer) = customer {
            args.extend(["--customer", customer]);
        }
        let (ok, stdout, stderr) = self.keys(&args);
        assert!(ok, "keys create failed: {stderr}");
        stdout.trim().to_owned()
    }
}

impl Drop for RunningServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if !self.owns_database {
            return;
        }
        if let Ok(mut conn) = PgConnection::establish(&self.admin_url) {
            let _ = diesel::sql_query(format!(
                "DROP DATABASE IF EXISTS \"{}\" WITH (FORCE)",
                self.database
            ))
            .execute(&mut conn);
        }
    }
}

pub struct Client {
    pub http: reqwest::Client,
    pub base: String,
}

impl Client {
    pub async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> (u16, Value) {
        let mut req = self.http.request(method, format!("{}{path}", self.base));
        if let Some(body) = body {
            req = req.json(&body);
        }
        let response = req.send().await.unwrap();
        let status = response.status().as_u16();
        let text = response.text().await.unwrap();
        let json = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap()
        };
        (status, json)
    }
    pub async fn get(&self, path: &str) -> (u16, Value) {
        self.send(reqwest::Method::GET, path, None).await
    }
    pub async fn post(&self, path: &str, body: Option<Value>) -> (u16, Value) {
        self.send(reqwest::Method::POST, path, body).await
    }
}

impl RunningServer {
    /// A direct connection to the server's database, for hand-written SQL.
    pub fn database(&self) -> PgConnection {
        let (server_url, _) = self.admin_url.rsplit_once('/').unwrap();
        PgConnection::establish(&format!("{server_url}/{}", self.database)).unwrap()
    }

    pub fn client(&self) -> Client {
        self.client_with_headers(reqwest::header::HeaderMap::new())
    }

    /// A client sending `Authorization: Bearer <key>` with every request.
    pub fn client_with_key(&self, key: &str) -> Client {
        let mut headers = reqwest::header::HeaderMap::new();
        headers.insert(
            reqwest::header::AUTHORIZATION,
            format!("Bearer {key}").parse().unwrap(),
        );
        self.client_with_headers(headers)
    }

    fn client_with_headers(&self, headers: reqwest::header::HeaderMap) -> Client {
        Client {
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(60))
                .default_headers(headers)
                .build()
                .unwrap(),
            base: self.base.clone(),
        }
    }
}

impl Client {
    /// `method` on `path` with `If-Match: "<version>"` and no body.
    pub async fn send_with_if_match(
        &self,
        method: reqwest::Method,
        path: &str,
        version: u64,
    ) -> (u16, String) {
        let response = self
            .http
            .request(method, format!("{}{path}", self.base))
            .header("If-Match", format!("\"{version}\""))
            .send()
            .await
            .unwrap();
        (response.status().as_u16(), response.text().await.unwrap())
    }

    pub async fn delete(&self, path: &str) -> (u16, Value) {
        self.send(reqwest::Method::DELETE, path, None).await
    }

    /// Creates a customer with a unique email; returns its id.
    pub async fn customer(&self) -> String {
        let email = format!("c{}@example.com", uuid::Uuid::now_v7().simple());
        let (status, body) = self
            .post(
                CUSTOMERS,
                Some(json!({"name": "Test Customer", "email": email, "source": "test"})),
            )
            .await;
        assert_eq!(status, 201, "{body}");
        body["data"]["id"].as_str().unwrap().to_owned()
    }

    /// Creates a pending USD order; returns its id.
    pub async fn order(&self, customer_id: &str) -> String {
        let (status, body) = self
            .post(
                ORDERS,
                Some(json!({"customer_id": customer_id, "currency": "USD"})),
            )
            .await;
        assert_eq!(status, 201, "{body}");
        body["data"]["id"].as_str().unwrap().to_owned()
    }

    /// Adds a line of `quantity` × `unit_price` cents; returns the order body.
    pub async fn line(&self, order_id: &str, quantity: i64, unit_price: i64) -> Value {
        let (status, body) = self
            .post(
                &format!("{ORDERS}/{order_id}/lines"),
                Some(json!({"product_id": uuid::Uuid::now_v7(), "quantity": quantity, "unit_price": unit_price, "currency": "USD"})),
            )
            .await;
        assert_eq!(status, 201, "{body}");
        body
    }
}
