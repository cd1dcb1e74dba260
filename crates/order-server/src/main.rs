//! `order-server`: reads the configuration, builds the adapters, wires them to
//! the use cases and serves HTTP until SIGTERM or Ctrl-C. Nothing else.

mod background;
mod config;
mod keys;
mod log_output;
mod relay;
mod storage;

use std::future::Future;
use std::net::TcpListener;
use std::num::NonZeroU32;
use std::process::ExitCode;
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use clap::Parser;
use order_app::access::{ApiKeys, KeyPorts};
use order_app::idempotency::{ClaimTerms, IdempotencyStore};
use order_app::ports::{OsSecretSource, SystemClock, UuidV7Generator};
use order_app::{Customers, OrderPorts, Orders};
use order_http::auth::{Auth, AuthMode, RateLimits};
use order_http::idempotency::Idempotency;
use order_http::{ApiState, Metrics};

use crate::background::{Background, Stopping};
use crate::config::{AuthSetting, Command, Config, LogFormat};

// See the dependency's comment in Cargo.toml; measured in docs/performance.md.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let config = Config::parse();
    if let Err(message) = config.validate() {
        eprintln!("order-server: invalid configuration: {message}");
        return ExitCode::from(2);
    }
    let flushing = match init_tracing(&config) {
        Ok(flushing) => flushing,
        Err(e) => {
            eprintln!("order-server: cannot start logging: {e}");
            return ExitCode::FAILURE;
        }
    };
    let outcome = match config.command.clone() {
        Some(Command::Keys(command)) => {
            // One connection: with more, r2d2 refills the idle slot the command
            // took on a background thread, and a process exiting while that
            // thread is inside libpq's connect can crash after the answer was
            // printed (seen as SIGSEGV under load).
            storage::open(&config, 1).and_then(|storage| keys::run(&storage, command))
        }
        None => run(&config),
    };
    let code = match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            tracing::error!("{message}");
            eprintln!("order-server: {message}");
            ExitCode::FAILURE
        }
    };
    flushing.finish();
    code
}

/// Installs the log subscriber, writing through [`log_output`]'s buffer;
/// the returned handle writes out what is left at exit.
fn init_tracing(config: &Config) -> std::io::Result<log_output::Flushing> {
    let filter = tracing_subscriber::EnvFilter::try_new(&config.log_filter)
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    // A `keys` command's stdout is its answer (a new key's text): logs go to stderr.
    let (output, flushing) = if config.command.is_some() {
        log_output::LogOutput::new(std::io::stderr())?
    } else {
        log_output::LogOutput::new(std::io::stdout())?
    };
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(output);
    // A JSON line names its innermost span (`span`) and every enclosing one
    // (`spans`). At `info` both are the request span; with a `debug` filter
    // the innermost is a repository span, and only the list still carries
    // the request id.
    match config.log_format {
        LogFormat::Json => builder.json().init(),
        LogFormat::Text => builder.init(),
    }
    Ok(flushing)
}

fn run(config: &Config) -> Result<(), String> {
    let storage = storage::open(config, config.db_pool_size)?;
    let (clock, ids) = (Arc::new(SystemClock), Arc::new(UuidV7Generator));
    let idempotency_store = storage.idempotency.clone();
    let mut background = Background::new()?;
    let (purged, retention_hours) = (
        idempotency_store.clone(),
        config.idempotency_retention_hours,
    );
    background.spawn("idempotency purge", move |stopping| {
        purge_idempotency_keys(purged, retention_hours, stopping)
    });
    let metrics = Metrics::new().map_err(|e| format!("metrics: {e}"))?;
    let (relay_settings, relay_metrics) = (
        config.relay(storage.outbox.clone()),
        relay::RelayMetrics::register(metrics.registry()).map_err(|e| format!("metrics: {e}"))?,
    );
    background.spawn("event relay", move |stopping| {
        relay::run(relay_settings, relay_metrics, stopping)
    });
    let mut state = ApiState {
        orders: Arc::new(
            Orders::new(OrderPorts {
                orders: storage.orders.clone(),
                edits: storage.edits.clone(),
                numbers: storage.numbers.clone(),
                customers: storage.directory.clone(),
                clock: clock.clone(),
                ids: ids.clone(),
            })
            .observed_by(Arc::new(metrics.clone())),
        ),
        customers: Arc::new(Customers::new(storage.customers.clone(), clock, ids)),
        health: storage.health.clone(),
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
    let cleaned = limits.clone();
    background.spawn("rate-limit cleanup", move |stopping| {
        forget_idle_rate_limits(cleaned, stopping)
    });
    let auth = Auth {
        mode: match config.auth {
            AuthSetting::On => AuthMode::Keys(ApiKeys::new(KeyPorts {
                store: storage.api_keys.clone(),
                customers: storage.directory.clone(),
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

    let system = actix_web::rt::System::new();
    // Handlers go in before the address is announced: a SIGTERM from then on
    // drains; before, its default action would end the process at once.
    let termination = system.block_on(async { termination() })?;
    let signalled = Arc::new(OnceLock::new());
    let timeout = config.shutdown_timeout();
    let stop = order_http::Stop {
        signal: Box::pin({
            let (signalled, stop_background) = (signalled.clone(), background.stopper());
            async move {
                let name = termination.await;
                let _ = signalled.set(Instant::now());
                tracing::info!(
                    signal = name,
                    deadline_secs = timeout.as_secs(),
                    "shutting down: no new connections, draining requests in flight"
                );
                // Concurrently with the drain, so both fit in the deadline.
                stop_background();
            }
        }),
        // The last second is for the background tasks and the exit.
        grace: timeout.saturating_sub(Duration::from_secs(1)),
    };
    tracing::info!(%address, workers, pool_size = config.db_pool_size, "order-server listening");
    let served = system.block_on(async move {
        order_http::serve(listener, state, workers, config.limits(), stop)?.await
    });
    let deadline = signalled.get().copied().unwrap_or_else(Instant::now) + timeout;
    background.stop(deadline);
    served.map_err(|e| format!("server: {e}"))?;
    tracing::info!("order-server stopped");
    Ok(())
}

/// Completes on the first SIGTERM or SIGINT (Ctrl-C) with its name: both
/// drain (actix-web's own handling would stop at once on SIGINT).
fn termination() -> Result<impl Future<Output = &'static str>, String> {
    use tokio::signal::unix::{signal, SignalKind};
    let install = |kind| signal(kind).map_err(|e| format!("signal handler: {e}"));
    let (mut term, mut int) = (
        install(SignalKind::terminate())?,
        install(SignalKind::interrupt())?,
    );
    Ok(async move {
        tokio::select! {
            _ = term.recv() => "SIGTERM",
            _ = int.recv() => "SIGINT",
        }
    })
}

/// Forgets the rate-limit buckets of idle keys and addresses, every minute.
async fn forget_idle_rate_limits(limits: RateLimits, mut stopping: Stopping) {
    while stopping
        .wait(tokio::time::sleep(Duration::from_secs(60)))
        .await
    {
        limits.forget_idle();
    }
}

/// Clap has checked the range; zero cannot reach here, one is the floor anyway.
fn nonzero(value: u32) -> NonZeroU32 {
    NonZeroU32::new(value).unwrap_or(NonZeroU32::MIN)
}

/// Deletes idempotency keys older than the retention, now and every 15
/// minutes; a purge in progress at shutdown finishes (one statement).
async fn purge_idempotency_keys(
    store: Arc<dyn IdempotencyStore>,
    retention_hours: u32,
    mut stopping: Stopping,
) {
    let retention = chrono::Duration::hours(i64::from(retention_hours));
    loop {
        let store = store.clone();
        match Background::blocking(move || store.purge(chrono::Utc::now() - retention)).await {
            Some(Ok(0)) | None => {}
            Some(Ok(purged)) => tracing::info!(purged, "expired idempotency keys purged"),
            Some(Err(e)) => {
                tracing::warn!(error = %e, "idempotency key purge failed; retrying later");
            }
        }
        if !stopping
            .wait(tokio::time::sleep(Duration::from_secs(15 * 60)))
            .await
        {
            break;
        }
    }
}
