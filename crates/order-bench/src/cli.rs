//! Command-line options, and the two presets (full and quick) they start from.
//!
//! Every option has an environment variable so that `make bench` can pass
//! them through untouched (`BENCH_CONCURRENCY=64 make bench`).

use std::net::IpAddr;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::{bail, Context};
use clap::{Parser, ValueEnum};

use crate::scenario::Scenario;

/// Load generator for the Order Management service.
///
/// Runs each scenario twice at the same concurrency: over HTTP against a
/// running server, and as the SQL that the server's PostgreSQL adapter
/// executes for it, straight against the same database (the raw baseline).
/// Prints a table and writes it as JSON under `--out-dir`.
#[derive(Debug, Clone, Parser)]
#[command(name = "order-bench", version, about)]
pub struct Args {
    /// Base URL of the running server (loopback addresses only).
    #[arg(long, env = "BENCH_BASE_URL")]
    pub base_url: String,

    /// URL of the database that server uses (loopback or Unix socket only):
    /// seeded here, and the raw baseline runs against it. Needed with
    /// `--store postgres`; unused with `--store sqlite`.
    #[arg(long, env = "BENCH_DATABASE_URL", default_value = "")]
    pub database_url: String,

    /// The server's store. `sqlite`: its embedded file, which this process
    /// cannot reach, so orders are seeded through the API, only the HTTP
    /// side runs, and only create, get and lifecycle.
    #[arg(long, env = "BENCH_STORE", value_enum, default_value_t = Store::Postgres)]
    pub store: Store,

    /// Process id of the server, to report the CPU it used per scenario.
    #[arg(long, env = "BENCH_SERVER_PID")]
    pub server_pid: Option<u32>,

    /// Smoke-test preset: small seed and short runs (under a minute in all).
    /// `BENCH_QUICK=1` (or true, yes, on) in the environment does the same.
    #[arg(long, env = "BENCH_QUICK", value_parser = clap::builder::BoolishValueParser::new())]
    pub quick: bool,

    /// Concurrent connections (HTTP keep-alive connections, or PostgreSQL
    /// connections for the raw baseline), each running one request at a time.
    #[arg(long, env = "BENCH_CONCURRENCY", default_value_t = 32, value_parser = clap::value_parser!(u16).range(1..=512))]
    pub concurrency: u16,

    /// Seconds of warm-up before each measured run (default 2, quick 0.3).
    #[arg(long, env = "BENCH_WARMUP_SECS")]
    pub warmup_secs: Option<f64>,

    /// Seconds measured per run of a scenario and side (default 5, quick 1).
    #[arg(long, env = "BENCH_DURATION_SECS")]
    pub duration_secs: Option<f64>,

    /// Rounds: every scenario and side runs this many times, round after
    /// round, and the report gives the median run and the spread, so that
    /// one noisy moment on a shared machine does not make a figure
    /// (default 3, quick 1).
    #[arg(long, env = "BENCH_RUNS", value_parser = clap::value_parser!(u32).range(1..=20))]
    pub runs: Option<u32>,

    /// Upper bound on the operations of one measured run, whatever its duration.
    #[arg(long, env = "BENCH_MAX_OPS", default_value_t = 10_000_000)]
    pub max_ops: u64,

    /// Orders seeded by SQL before the run when the table is empty
    /// (default 1,000,000, quick 20,000).
    #[arg(long, env = "BENCH_SEED_ORDERS")]
    pub seed_orders: Option<u64>,

    /// Lines per seeded order.
    #[arg(long, env = "BENCH_SEED_LINES", default_value_t = 2, value_parser = clap::value_parser!(u32).range(1..=10))]
    pub seed_lines: u32,

    /// Orders per page in the list scenarios.
    #[arg(long, env = "BENCH_PAGE_SIZE", default_value_t = 20, value_parser = clap::value_parser!(u32).range(1..=100))]
    pub page_size: u32,

    /// Scenarios to run (default: all).
    #[arg(long, env = "BENCH_SCENARIOS", value_enum, value_delimiter = ',')]
    pub scenarios: Vec<Scenario>,

    /// Which sides to run (default: all three: http, raw, limit).
    #[arg(long, env = "BENCH_SIDES", value_enum, value_delimiter = ',')]
    pub sides: Vec<SideArg>,

    /// Connection counts of the sweep: GET and create, HTTP beside the
    /// limit, once at each count after the rounds (default 1,8,32,128;
    /// quick 1,8). `--sweep 0` skips it.
    #[arg(long, env = "BENCH_SWEEP", value_delimiter = ',', value_parser = clap::value_parser!(u16).range(0..=512))]
    pub sweep: Vec<u16>,

    /// Where the SVG chart of the run goes (throughput and p99 per scenario
    /// and side, and the sweep's curves).
    #[arg(long, env = "BENCH_SVG", default_value = "target/bench/latest.svg")]
    pub svg: PathBuf,

    /// Tokio worker threads of the load generator. One is enough to drive
    /// the server on a 2-core machine and leaves the other core to it.
    #[arg(long, env = "BENCH_CLIENT_THREADS", default_value_t = 1, value_parser = clap::value_parser!(u16).range(1..=64))]
    pub client_threads: u16,

    /// API key sent as `Authorization: Bearer` with every request, for a
    /// server with authentication on (scripts/bench.sh makes one with `BENCH_AUTH=on`).
    #[arg(long, env = "BENCH_API_KEY", hide_env_values = true)]
    pub api_key: Option<String>,

    /// Folder for the JSON reports.
    #[arg(long, env = "BENCH_OUT_DIR", default_value = "target/bench")]
    pub out_dir: PathBuf,
}

/// Which store the server under test runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Store {
    /// PostgreSQL, which this process reaches too.
    Postgres,
    /// The server's embedded SQLite file.
    Sqlite,
}

/// Which side of a scenario to run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SideArg {
    /// Over HTTP against the server.
    Http,
    /// The same SQL straight against PostgreSQL.
    Raw,
    /// The fewest statements doing the same work, one per request.
    Limit,
}

/// The settings of one run, after presets and checks.
#[derive(Debug, Clone)]
pub struct Plan {
    /// Connections per measured run.
    pub concurrency: usize,
    /// Warm-up before each measured run.
    pub warmup: Duration,
    /// Length of each measured run.
    pub duration: Duration,
    /// Rounds of every scenario.
    pub runs: u32,
    /// Cap on the operations of one run.
    pub max_ops: u64,
    /// Orders to seed into an empty table.
    pub seed_orders: u64,
    /// Lines per seeded order.
    pub seed_lines: u32,
    /// Orders per list page.
    pub page_size: u32,
    /// Scenarios, in the order they run.
    pub scenarios: Vec<Scenario>,
    /// Run the HTTP side.
    pub http: bool,
    /// Run the raw-SQL side.
    pub raw: bool,
    /// Run the limit side.
    pub limit: bool,
    /// Connection counts of the sweep (empty: no sweep).
    pub sweep: Vec<usize>,
    /// Quick (smoke-test) preset.
    pub quick: bool,
}

impl Args {
    /// Applies the preset, validates the targets (loopback only) and the
    /// durations, and fixes the order the scenarios run in.
    ///
    /// # Errors
    /// When a URL is not on this machine or a duration is not positive.
    pub fn plan(&self) -> anyhow::Result<Plan> {
        ensure_loopback_http(&self.base_url)?;
        if self.store == Store::Postgres {
            ensure_loopback_postgres(&self.database_url)?;
        }
        let (warmup, duration, runs, seed) = if self.quick {
            (0.3, 1.0, 1, 20_000)
        } else {
            (2.0, 5.0, 3, 1_000_000)
        };
        let warmup = seconds("warm-up", self.warmup_secs.unwrap_or(warmup), true)?;
        let duration = seconds("duration", self.duration_secs.unwrap_or(duration), false)?;
        let mut scenarios = if self.scenarios.is_empty() {
            Scenario::ALL.to_vec()
        } else {
            self.scenarios.clone()
        };
        // Reads first, on the freshly seeded table; writes last.
        scenarios.sort_by_key(|s| s.run_rank());
        scenarios.dedup();
        let sides = |side| self.sides.is_empty() || self.sides.contains(&side);
        Ok(Plan {
            concurrency: usize::from(self.concurrency),
            warmup,
            duration,
            runs: self.runs.unwrap_or(runs),
            max_ops: self.max_ops.max(1),
            seed_orders: self.seed_orders.unwrap_or(seed),
            seed_lines: self.seed_lines,
            page_size: self.page_size,
            scenarios,
            http: sides(SideArg::Http),
            raw: sides(SideArg::Raw),
            limit: sides(SideArg::Limit),
            sweep: match self.sweep.as_slice() {
                [] if self.quick => vec![1, 8],
                [] => vec![1, 8, 32, 128],
                [0] => Vec::new(),
                counts => counts
                    .iter()
                    .map(|&c| usize::from(c))
                    .filter(|&c| c > 0)
                    .collect(),
            },
            quick: self.quick,
        })
    }
}

fn seconds(what: &str, value: f64, zero_ok: bool) -> anyhow::Result<Duration> {
    if !value.is_finite() || value < 0.0 || (!zero_ok && value == 0.0) || value > 3600.0 {
        bail!("{what} of {value} s is out of range (0..=3600)");
    }
    Ok(Duration::from_secs_f64(value))
}

fn is_loopback_host(host: &str) -> bool {
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    bare.eq_ignore_ascii_case("localhost")
        || bare.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// Load is only ever sent to this machine.
fn ensure_loopback_http(url: &str) -> anyhow::Result<()> {
    let parsed = reqwest::Url::parse(url).with_context(|| format!("base URL {url:?}"))?;
    match parsed.host_str() {
        Some(host) if parsed.scheme() == "http" && is_loopback_host(host) => Ok(()),
        _ => bail!(
            "base URL {url:?} must be http:// on a loopback address (127.0.0.1, localhost, [::1])"
        ),
    }
}

fn ensure_loopback_postgres(url: &str) -> anyhow::Result<()> {
    let config: tokio_postgres::Config = url
        .parse()
        .with_context(|| "database URL is not a PostgreSQL connection string".to_owned())?;
    for host in config.get_hosts() {
        match host {
            tokio_postgres::config::Host::Tcp(name) if !is_loopback_host(name) => {
                bail!("database host {name:?} is not a loopback address")
            }
            _ => {}
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(extra: &[&str]) -> Args {
        let mut argv = vec![
            "order-bench",
            "--base-url",
            "http://127.0.0.1:8081",
            "--database-url",
            "postgres://postgres@127.0.0.1:5432/bench",
        ];
        argv.extend_from_slice(extra);
        Args::parse_from(argv)
    }

    #[test]
    fn quick_preset_is_small_and_short() {
        let plan = args(&["--quick"]).plan().unwrap();
        assert_eq!(plan.seed_orders, 20_000);
        assert_eq!(plan.runs, 1);
        assert!(plan.duration < Duration::from_secs(2));
        assert!(plan.http && plan.raw);
    }

    #[test]
    fn full_preset_seeds_a_million_orders() {
        let plan = args(&[]).plan().unwrap();
        assert_eq!(plan.seed_orders, 1_000_000);
        assert_eq!(plan.runs, 3);
        assert_eq!(plan.scenarios.len(), Scenario::ALL.len());
    }

    #[test]
    fn reads_run_before_writes() {
        let plan = args(&["--scenarios", "lifecycle,get,create"])
            .plan()
            .unwrap();
        assert_eq!(
            plan.scenarios,
            vec![Scenario::Get, Scenario::Create, Scenario::Lifecycle]
        );
    }

    #[test]
    fn only_loopback_targets_are_accepted() {
        for url in [
            "http://10.0.0.1:8081",
            "http://example.com",
            "https://127.0.0.1",
        ] {
            assert!(ensure_loopback_http(url).is_err(), "{url}");
        }
        for url in ["http://127.0.0.1:1", "http://localhost:2", "http://[::1]:3"] {
            assert!(ensure_loopback_http(url).is_ok(), "{url}");
        }
        assert!(ensure_loopback_postgres("postgres://u@192.168.1.2/db").is_err());
        assert!(ensure_loopback_postgres("postgres://u@localhost/db").is_ok());
    }

    #[test]
    fn durations_must_be_positive() {
        assert!(args(&["--duration-secs", "0"]).plan().is_err());
        assert!(args(&["--warmup-secs=-1"]).plan().is_err());
        assert!(args(&["--warmup-secs", "0"]).plan().is_ok());
    }
}
