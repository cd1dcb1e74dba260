//! `order-server`: reads the configuration, builds the adapters, wires them to
//! the use cases and serves HTTP until SIGTERM or Ctrl-C. Nothing else.

mod config;
mod keys;
mod relay;

use std::net::TcpListener;
use std::num::NonZeroU32;
use std::process::ExitCode;
use std::sync::Arc;

use clap::Parser;
use order_app::access::{ApiKeys, KeyPorts};
use order_app::idempotency::{ClaimTerms, IdempotencyStore};
use order_app::ports::{OsSecretSource, SystemClock, UuidV7Generator};
use order_app::{Customers, OrderPorts, Orders};
use order_http::auth::{Auth, AuthMode, RateLimits};
use order_http::idempotency::Idempotency;
use order_http::{ApiState, Metrics};
use order_postgres::{ensure_database_exists, PgStore};

use crate::config::{AuthSetting, Command, Config, LogFormat};

fn main() -> ExitCode {
    let config = Config::parse();
    if let Err(message) = config.validate() {
        eprintln!("order-server: invalid configuration: {message}");
        return ExitCode::from(2);
    }
    init_tracing(&config);
    let outcome = match config.command.clone() {
        Some(Command::Keys(command)) => {
            // One connection: with more, r2d2 refills the idle slot the command
            // took on a background thread, and a process exiting while that
            // thread is inside libpq's connect can crash after the answer was
            // printed (seen as SIGSEGV under load).
            connect(&config, 1).and_then(|store| keys::run(&store, command))
        }
        None => run(&config),
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            tracing::error!("{message}");
            eprintln!("order-server: {message}");
            ExitCode::FAILURE
        }
    }
}

fn init_tracing(config: &Config) {
    let filter = tracing_subscriber::EnvFilter::try_new(&config.log_filter)
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter);
    // A `keys` command's stdout is its answer (a new key's text): logs go to stderr.
    let to_stderr = config.command.is_some();
    match (config.log_format, to_stderr) {
        (LogFormat::Json, false) => builder.json().init(),
        (LogFormat::Text, false) => builder.init(),
        (LogFormat::Json, true) => builder.json().with_writer(std::io::stderr).init(),
        (LogFormat::Text, true) => builder.with_writer(std::io::stderr).init(),
    }
}

/// The database, created and migrated if need be.
fn connect(config: &Config, pool_size: u32) -> Result<PgStore, String> {
    let timeout = config.db_connect_timeout();
    let hint = "is PostgreSQL running? set DATABASE_URL (e.g. postgres://user@host:5432/dbname)";
    ensure_database_exists(&config.database_url, timeout)
        .map_err(|e| format!("database: {e}; {hint}"))?;
    let store = PgStore::connect(&order_postgres::PgConfig {
        pool_size,
        ..config.pg()
    })
    .map_err(|e| format!("database: {e}; {hint}"))?;
    store
        .run_migrations()
        .map_err(|e| format!("migrations: {e}"))?;
    Ok(store)
}

fn run(config: &Config) -> Result<(), String> {
    let store = connect(config, config.db_pool_size)?;
    let (clock, ids) = (Arc::new(SystemClock), Arc::new(UuidV7Generator));
    let idempotency_store = Arc::new(store.idempotency());
    spawn_idempotency_purge(
        idempotency_store.clone(),
        config.idempotency_retention_hours,
    );
    let metrics = Metrics::new().map_err(|e| format!("metrics: {e}"))?;
    spawn_relay(
        config.relay(),
        relay::RelayMetrics::register(metrics.registry()).map_err(|e| format!("metrics: {e}"))?,
    )?;
    let mut state = ApiState {
        orders: Arc::new(
            Orders::new(OrderPorts {
                orders: Arc::new(store.orders()),
                edits: Arc::new(store.edits()),
                numbers: Arc::new(store.numbers()),
                customers: Arc::new(store.customers()),
                clock: clock.clone(),
                ids: ids.clone(),
            })
            .observed_by(Arc::new(metrics.clone())),
        ),
        customers: Arc::new(Customers::new(Arc::new(store.customers()), clock, ids)),
        health: Arc::new(store.clone()),
        metrics: metrics.clone(),
        idempotency: Idempotency::new(
            idempotency_store,
            Arc::new(SystemClock),
            ClaimTerms {
                lease: chrono::Duration::seconds(i64::from(config.idempotency_lease_secs)),
                retention: chrono::Duration::hours(i64::from(config.idempotency_retention_hours)),
            },
        ),
        auth: Auth::off(),
    };

    let limits = RateLimits::new(
        nonzero(config.rate_limit_per_second),
        nonzero(config.rate_limit_burst),
        nonzero(config.auth_failures_per_minute),
    );
    spawn_rate_limit_cleanup(limits.clone());
    let auth = Auth {
        mode: match config.auth {
            AuthSetting::On => AuthMode::Keys(ApiKeys::new(KeyPorts {
                store: Arc::new(store.api_keys()),
                customers: Arc::new(store.customers()),
                secrets: Arc::new(OsSecretSource),
                clock: Arc::new(SystemClock),
                ids: Arc::new(UuidV7Generator),
            })),
            AuthSetting::Off => {
                tracing::warn!(
                    "AUTH=off: API keys are not required and every change is recorded as anonymous; \
                     for local development only"
                );
                AuthMode::Off
            }
        },
        limits,
        protect_metrics: config.metrics_require_key,
    };
    state.auth = auth;

    let listener = TcpListener::bind((config.host, config.port))
        .map_err(|e| format!("cannot listen on {}:{}: {e}", config.host, config.port))?;
    let address = listener.local_addr().map_err(|e| e.to_string())?;
    let workers = match config.http_workers {
        0 => std::thread::available_parallelism().map_or(2, usize::from),
        n => n,
    };
    tracing::info!(%address, workers, pool_size = config.db_pool_size, "order-server listening");

    actix_web::rt::System::new()
        .block_on(
            async move { order_http::serve(listener, state, workers, config.limits())?.await },
        )
        .map_err(|e| format!("server: {e}"))?;
    tracing::info!("order-server stopped");
    Ok(())
}

/// The event relay on a thread of its own with a single-threaded runtime:
/// the HTTP workers never wait for it, and a slow broker never slows them.
fn spawn_relay(settings: relay::RelaySettings, metrics: relay::RelayMetrics) -> Result<(), String> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("event relay runtime: {e}"))?;
    std::thread::Builder::new()
        .name("event-relay".into())
        .spawn(move || runtime.block_on(relay::run(settings, metrics)))
        .map_err(|e| format!("event relay thread: {e}"))?;
    Ok(())
}

/// Forgets the rate-limit buckets of idle keys and addresses, every minute.
fn spawn_rate_limit_cleanup(limits: RateLimits) {
    std::thread::spawn(move || loop {
        std::thread::sleep(std::time::Duration::from_secs(60));
        limits.forget_idle();
    });
}

/// Clap has checked the range; zero cannot reach here, one is the floor anyway.
fn nonzero(value: u32) -> NonZeroU32 {
    NonZeroU32::new(value).unwrap_or(NonZeroU32::MIN)
}

/// Deletes idempotency keys older than the retention, now and every 15 minutes.
fn spawn_idempotency_purge(store: Arc<dyn IdempotencyStore>, retention_hours: u32) {
    let retention = chrono::Duration::hours(i64::from(retention_hours));
    std::thread::spawn(move || loop {
        match store.purge(chrono::Utc::now() - retention) {
            Ok(0) => {}
            Ok(purged) => tracing::info!(purged, "expired idempotency keys purged"),
            Err(e) => tracing::warn!(error = %e, "idempotency key purge failed; retrying later"),
        }
        std::thread::sleep(std::time::Duration::from_secs(15 * 60));
    });
}
