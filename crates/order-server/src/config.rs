//! Configuration: environment variables with matching command-line flags,
//! validated before anything starts.

use std::net::IpAddr;
use std::time::Duration;

use clap::{Parser, Subcommand, ValueEnum};

/// Log line format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per line, for log shippers.
    Json,
}

/// The Order Management service.
///
/// Every setting can be given as a flag or as the environment variable named
/// in brackets; flags win.
#[derive(Debug, Clone, Parser)]
#[command(name = "order-server", version, about)]
pub struct Config {
    /// The store: `postgres://…` or `postgresql://…` for PostgreSQL (the
    /// database is created if it does not exist), `sqlite://PATH` for an
    /// SQLite file; unset, the embedded SQLite file ./data/order-mgmt.sqlite3.
    #[arg(long, env = "DATABASE_URL")]
    pub database_url: Option<String>,

    /// Address to listen on.
    #[arg(long, env = "HOST", default_value = "127.0.0.1")]
    pub host: IpAddr,

    /// Port to listen on (0 picks a free one and logs it).
    #[arg(long, env = "PORT", default_value_t = 8081)]
    pub port: u16,

    /// Maximum number of pooled database connections (1..=1000).
    #[arg(long, env = "DB_POOL_SIZE", default_value_t = 16, value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub db_pool_size: u32,

    /// Seconds to wait for a database connection before answering 503 (1..=300).
    #[arg(long, env = "DB_CONNECT_TIMEOUT_SECS", default_value_t = 5, value_parser = clap::value_parser!(u64).range(1..=300))]
    pub db_connect_timeout_secs: u64,

    /// Milliseconds a database statement may run before PostgreSQL cancels it
    /// and the request answers 503 (0 = no limit, up to 600000).
    #[arg(long, env = "DB_STATEMENT_TIMEOUT_MS", default_value_t = 5000, value_parser = clap::value_parser!(u64).range(0..=600_000))]
    pub db_statement_timeout_ms: u64,

    /// Milliseconds a statement may wait for a row lock before it gives up
    /// and the request answers 503 (0 = no limit, up to 600000).
    #[arg(long, env = "DB_LOCK_TIMEOUT_MS", default_value_t = 2000, value_parser = clap::value_parser!(u64).range(0..=600_000))]
    pub db_lock_timeout_ms: u64,

    /// Seconds of silence after which TCP keepalive probes check the link to
    /// PostgreSQL; a black-holed link is given up within about twice this
    /// (0 = the kernel's defaults, up to 600).
    #[arg(long, env = "DB_TCP_KEEPALIVE_SECS", default_value_t = 5, value_parser = clap::value_parser!(u64).range(0..=600))]
    pub db_tcp_keepalive_secs: u64,

    /// Seconds an API request may take before it is answered 503 (1..=300).
    #[arg(long, env = "REQUEST_TIMEOUT_SECS", default_value_t = 15, value_parser = clap::value_parser!(u64).range(1..=300))]
    pub request_timeout_secs: u64,

    /// API requests that may wait for a database connection beyond the pool
    /// size; one more is answered 503 at once (0..=100000).
    #[arg(long, env = "REQUEST_QUEUE_LIMIT", default_value_t = 64, value_parser = clap::value_parser!(u32).range(0..=100_000))]
    pub request_queue_limit: u32,

    /// Hours an Idempotency-Key is remembered (1..=8760); older keys are purged.
    #[arg(long, env = "IDEMPOTENCY_RETENTION_HOURS", default_value_t = 24, value_parser = clap::value_parser!(u32).range(1..=8760))]
    pub idempotency_retention_hours: u32,

    /// Seconds after which an unanswered idempotent request counts as abandoned
    /// and a retry may take its key over (1..=3600).
    #[arg(long, env = "IDEMPOTENCY_LEASE_SECS", default_value_t = 60, value_parser = clap::value_parser!(u32).range(1..=3600))]
    pub idempotency_lease_secs: u32,

    /// Seconds a SIGTERM or SIGINT leaves for the shutdown (1..=600): no new
    /// connections, requests in flight get all but the last second to finish,
    /// background tasks (event relay, purge) stop, and the process exits 0
    /// within it.
    #[arg(long, env = "SHUTDOWN_TIMEOUT_SECS", default_value_t = 20, value_parser = clap::value_parser!(u64).range(1..=600))]
    pub shutdown_timeout_secs: u64,

    /// HTTP worker threads (0 = one per CPU core).
    #[arg(long, env = "HTTP_WORKERS", default_value_t = 0)]
    pub http_workers: usize,

    /// Log format.
    #[arg(long, env = "LOG_FORMAT", value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,

    /// Log filter, e.g. `info` or `order_http=debug,info`.
    #[arg(long, env = "RUST_LOG", default_value = "info")]
    pub log_filter: String,

    /// NATS server with JetStream, e.g. `nats://127.0.0.1:4222`. Unset: no
    /// event relay; events wait in the outbox until a server with it runs.
    #[arg(long, env = "NATS_URL")]
    pub nats_url: Option<String>,

    /// JetStream stream the events go to (created if missing).
    #[arg(long, env = "NATS_STREAM", default_value = "ORDERS")]
    pub nats_stream: String,

    /// Subject prefix: events are published as `<prefix>.<event>` (`orders.confirmed`).
    #[arg(long, env = "NATS_SUBJECT_PREFIX", default_value = "orders")]
    pub nats_subject_prefix: String,

    /// Seconds JetStream remembers an event id to drop a re-publish (60..=86400);
    /// must exceed the relay's longest back-off plus its poll interval.
    #[arg(long, env = "NATS_DUPLICATE_WINDOW_SECS", default_value_t = 600, value_parser = clap::value_parser!(u64).range(60..=86_400))]
    pub nats_duplicate_window_secs: u64,

    /// Events the relay publishes per pass (1..=10000).
    #[arg(long, env = "RELAY_BATCH_SIZE", default_value_t = 100, value_parser = clap::value_parser!(u64).range(1..=10_000))]
    pub relay_batch_size: u64,

    /// Milliseconds between relay passes when no NOTIFY wakes it (10..=60000).
    #[arg(long, env = "RELAY_POLL_MS", default_value_t = 1000, value_parser = clap::value_parser!(u64).range(10..=60_000))]
    pub relay_poll_ms: u64,

    /// Longest relay back-off, in seconds, while the broker is down (1..=300).
    #[arg(long, env = "RELAY_MAX_BACKOFF_SECS", default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..=300))]
    pub relay_max_backoff_secs: u64,

    /// API keys: `on` (every `/api/v1` request needs `Authorization: Bearer <key>`)
    /// or `off`, for local development only: refused unless HOST is a loopback address.
    #[arg(long, env = "AUTH", value_enum, default_value_t = AuthSetting::On)]
    pub auth: AuthSetting,

    /// Requests per second each API key may make, sustained (1..=100000).
    #[arg(long, env = "RATE_LIMIT_PER_SECOND", default_value_t = 50, value_parser = clap::value_parser!(u32).range(1..=100_000))]
    pub rate_limit_per_second: u32,

    /// Requests an API key may make at once before its rate applies (1..=100000).
    #[arg(long, env = "RATE_LIMIT_BURST", default_value_t = 100, value_parser = clap::value_parser!(u32).range(1..=100_000))]
    pub rate_limit_burst: u32,

    /// Failed authentications per minute per client address before it gets 429 (1..=1000000).
    #[arg(long, env = "AUTH_FAILURES_PER_MINUTE", default_value_t = 30, value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
    pub auth_failures_per_minute: u32,

    /// Whether `/metrics` needs a key with the `admin` scope (it is open by default,
    /// for scrapers on a private network).
    #[arg(long, env = "METRICS_REQUIRE_KEY", default_value_t = false, action = clap::ArgAction::Set)]
    pub metrics_require_key: bool,

    /// Without a command the server runs; `keys ...` manages API keys
    /// against the same database and exits.
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// Whether API keys are required.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum AuthSetting {
    /// Every API request needs a valid key.
    On,
    /// No key needed (local development on a loopback address only).
    Off,
}

/// What to do instead of serving.
#[derive(Debug, Clone, Subcommand)]
pub enum Command {
    /// Manage API keys (the HTTP API cannot: it would need a key to make the first one).
    #[command(subcommand)]
    Keys(KeysCommand),
}

/// `order-server keys ...`.
#[derive(Debug, Clone, Subcommand)]
pub enum KeysCommand {
    /// Create a key. Its text goes to stdout, once: it is not stored and cannot be shown again.
    Create {
        /// Who or what uses the key; shown in lists and as the actor of its changes.
        #[arg(long)]
        name: String,
        /// Comma-separated scopes: orders:read, orders:write, orders:fulfil,
        /// customers:read, customers:write, events:read, admin (write implies read).
        #[arg(long)]
        scopes: String,
        /// Bind the key to this customer: it sees and changes that customer's orders only.
        #[arg(long)]
        customer: Option<uuid::Uuid>,
    },
    /// List every key (prefix, name, scopes, customer, created, revoked); never a secret.
    List,
    /// Revoke a key: its next request is refused.
    Revoke {
        /// The key's id (from `keys list`).
        id: uuid::Uuid,
    },
}

impl Config {
    /// What the event relay needs.
    pub fn relay(&self, outbox: crate::storage::OutboxSource) -> crate::relay::RelaySettings {
        let nats = self.nats_url.as_ref().map(|url| order_nats::NatsConfig {
            stream: self.nats_stream.clone(),
            subject_prefix: self.nats_subject_prefix.clone(),
            duplicate_window: Duration::from_secs(self.nats_duplicate_window_secs),
            ..order_nats::NatsConfig::new(url.clone())
        });
        crate::relay::RelaySettings {
            outbox,
            nats,
            batch: usize::try_from(self.relay_batch_size).unwrap_or(100),
            poll: Duration::from_millis(self.relay_poll_ms),
            max_backoff: Duration::from_secs(self.relay_max_backoff_secs),
        }
    }

    /// The database connect timeout.
    pub fn db_connect_timeout(&self) -> Duration {
        Duration::from_secs(self.db_connect_timeout_secs)
    }

    /// The whole shutdown's deadline, from the signal to the exit.
    pub fn shutdown_timeout(&self) -> Duration {
        Duration::from_secs(self.shutdown_timeout_secs)
    }

    /// The store `DATABASE_URL` names.
    pub fn database(&self) -> Result<crate::storage::Database, String> {
        crate::storage::Database::parse(self.database_url.as_deref())
    }

    /// The SQLite file's configuration: the pool, and `DB_LOCK_TIMEOUT_MS`
    /// as the time a writer waits for the write lock (0, "no limit", is
    /// ten minutes: SQLite needs a number).
    pub fn sqlite(&self, path: &std::path::Path) -> order_sqlite::SqliteConfig {
        let busy = match self.db_lock_timeout_ms {
            0 => Duration::from_secs(600),
            ms => Duration::from_millis(ms),
        };
        order_sqlite::SqliteConfig {
            pool_size: self.db_pool_size,
            busy_timeout: busy,
            connect_timeout: self.db_connect_timeout(),
            ..order_sqlite::SqliteConfig::new(path)
        }
    }

    /// The pool's configuration: size and every timeout towards PostgreSQL.
    pub fn pg(&self, url: &str) -> order_postgres::PgConfig {
        order_postgres::PgConfig {
            pool_size: self.db_pool_size,
            connect_timeout: self.db_connect_timeout(),
            statement_timeout: Duration::from_millis(self.db_statement_timeout_ms),
            lock_timeout: Duration::from_millis(self.db_lock_timeout_ms),
            tcp_keepalive: Duration::from_secs(self.db_tcp_keepalive_secs),
            ..order_postgres::PgConfig::new(url.to_owned())
        }
    }

    /// What one server takes on: a deadline per API request, and in-flight
    /// requests bounded by the pool plus the queue.
    pub fn limits(&self) -> order_http::admission::Limits {
        order_http::admission::Limits {
            deadline: Duration::from_secs(self.request_timeout_secs),
            capacity: usize::try_from(self.db_pool_size.saturating_add(self.request_queue_limit))
                .unwrap_or(usize::MAX),
        }
    }

    /// Checks what clap's types cannot express.
    pub fn validate(&self) -> Result<(), String> {
        self.database()?;
        if let Some(url) = &self.nats_url {
            if !(url.starts_with("nats://") || url.starts_with("tls://")) {
                return Err("NATS_URL must start with nats:// or tls://".to_owned());
            }
        }
        // A re-published event must still be inside JetStream's duplicate
        // window, or the stream would store it twice.
        let longest_retry = self.relay_max_backoff_secs + self.relay_poll_ms.div_ceil(1000);
        if self.nats_duplicate_window_secs <= 2 * longest_retry {
            return Err(format!(
                "NATS_DUPLICATE_WINDOW_SECS ({}) must exceed twice the relay's longest retry ({longest_retry} s)",
                self.nats_duplicate_window_secs
            ));
        }
        if self.auth == AuthSetting::Off && self.command.is_none() && !self.host.is_loopback() {
            return Err(format!(
                "AUTH=off is for local development only: it needs a loopback HOST \
                 (127.0.0.1 or ::1), not {}; remove AUTH=off and use API keys",
                self.host
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Config {
        Config::try_parse_from(std::iter::once("order-server").chain(args.iter().copied())).unwrap()
    }

    #[test]
    fn authentication_is_on_unless_turned_off() {
        assert_eq!(parse(&[]).auth, AuthSetting::On);
        assert_eq!(parse(&["--auth", "off"]).auth, AuthSetting::Off);
    }

    #[test]
    fn auth_off_is_refused_on_a_non_loopback_address() {
        assert!(parse(&["--auth", "off"]).validate().is_ok());
        assert!(parse(&["--auth", "off", "--host", "::1"])
            .validate()
            .is_ok());
        let err = parse(&["--auth", "off", "--host", "0.0.0.0"])
            .validate()
            .unwrap_err();
        assert!(err.contains("loopback"), "{err}");
        assert!(parse(&["--auth", "off", "--host", "192.168.1.5"])
            .validate()
            .is_err());
        assert!(parse(&["--host", "0.0.0.0"]).validate().is_ok(), "keys on");
    }
}
