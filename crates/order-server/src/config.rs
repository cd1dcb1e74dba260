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
    /// PostgreSQL connection URL. The database is created if it does not exist.
    #[arg(
        long,
        env = "DATABASE_URL",
        default_value = "postgres://postgres@127.0.0.1:5432/order_mgmt"
    )]
    pub database_url: String,

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

    /// Hours an Idempotency-Key is remembered (1..=8760); older keys are purged.
    #[arg(long, env = "IDEMPOTENCY_RETENTION_HOURS", default_value_t = 24, value_parser = clap::value_parser!(u32).range(1..=8760))]
    pub idempotency_retention_hours: u32,

    /// Seconds after which an unanswered idempotent request counts as abandoned
    /// and a retry may take its key over (1..=3600).
    #[arg(long, env = "IDEMPOTENCY_LEASE_SECS", default_value_t = 60, value_parser = clap::value_parser!(u32).range(1..=3600))]
    pub idempotency_lease_secs: u32,

    /// HTTP worker threads (0 = one per CPU core).
    #[arg(long, env = "HTTP_WORKERS", default_value_t = 0)]
    pub http_workers: usize,

    /// Log format.
    #[arg(long, env = "LOG_FORMAT", value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,

    /// Log filter, e.g. `info` or `order_http=debug,info`.
    #[arg(long, env = "RUST_LOG", default_value = "info")]
    pub log_filter: String,

    /// Without a command the server runs; `keys ...` manages API keys
    /// against the same database and exits.
    #[command(subcommand)]
    pub command: Option<Command>,
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
    /// The database connect timeout.
    pub fn db_connect_timeout(&self) -> Duration {
        Duration::from_secs(self.db_connect_timeout_secs)
    }

    /// Checks what clap's types cannot express.
    pub fn validate(&self) -> Result<(), String> {
        if !(self.database_url.starts_with("postgres://")
            || self.database_url.starts_with("postgresql://"))
        {
            return Err("DATABASE_URL must start with postgres:// or postgresql://".to_owned());
        }
        Ok(())
    }
}
