//! The results: one measurement per scenario and side, a summary against the
//! issue's targets and the raw baseline, printed as tables and saved as JSON.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use anyhow::Context;
use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::load::Outcome;
use crate::probe::WindowUse;
use crate::scenario::Scenario;
use crate::seed::Seeded;

/// Which side of a scenario a measurement is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Side {
    /// Over HTTP against the server.
    Http,
    /// The same SQL straight against PostgreSQL.
    Raw,
    /// The fewest statements doing the same work, one per request.
    Limit,
}

impl Side {
    /// As on the command line and in the tables.
    pub fn name(self) -> &'static str {
        match self {
            Self::Http => "http",
            Self::Raw => "raw",
            Self::Limit => "limit",
        }
    }

    /// Position in the tables: HTTP, then raw, then the limit.
    pub fn rank(self) -> u8 {
        match self {
            Self::Http => 0,
            Self::Raw => 1,
            Self::Limit => 2,
        }
    }
}

/// Latency percentiles, in milliseconds.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Latency {
    /// Median.
    pub p50: f64,
    /// 90th percentile.
    pub p90: f64,
    /// 99th percentile.
    pub p99: f64,
    /// Slowest.
    pub max: f64,
    /// Mean.
    pub mean: f64,
}

/// CPU milliseconds spent per operation, per consumer.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct CpuPerOp {
    /// In the server process.
    pub server_ms: Option<f64>,
    /// In all PostgreSQL processes.
    pub postgres_ms: f64,
    /// In the backends of the benchmark's own database only.
    pub postgres_db_ms: Option<f64>,
    /// In this load generator.
    pub bench_ms: Option<f64>,
}

/// How the runs of one scenario and side spread.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Spread {
    /// Runs taken.
    pub runs: usize,
    /// Lowest throughput of those runs.
    pub min_per_sec: f64,
    /// Highest throughput of those runs.
    pub max_per_sec: f64,
    /// Lowest p99 of those runs, ms.
    pub min_p99_ms: f64,
    /// Highest p99 of those runs, ms.
    pub max_p99_ms: f64,
}

/// One measured run.
#[derive(Debug, Clone, Serialize)]
pub struct Measurement {
    /// Which round it was (1-based).
    pub round: u32,
    /// For a median: how all the runs spread (`None` for a single run).
    pub spread: Option<Spread>,
    /// The scenario.
    pub scenario: Scenario,
    /// HTTP or raw SQL.
    pub side: Side,
    /// What one operation is (`orders/s`, `req/s`...).
    pub unit: &'static str,
    /// Concurrent connections.
    pub concurrency: usize,
    /// Extra detail (the page read, requests per operation...).
    pub detail: String,
    /// Operations completed in the window.
    pub ops: u64,
    /// Failed operations.
    pub errors: u64,
    /// The first failure.
    pub first_error: Option<String>,
    /// Seconds measured.
    pub window_secs: f64,
    /// Operations per second.
    pub per_sec: f64,
    /// Latency of one operation.
    pub latency_ms: Latency,
    /// CPU and WAL during the window.
    pub usage: WindowUse,
    /// CPU per operation, from `usage`.
    pub cpu_per_op: Option<CpuPerOp>,
    /// WAL bytes per operation, from `usage`.
    pub wal_bytes_per_op: Option<f64>,
}

impl Measurement {
    /// Builds a measurement from a run's outcome and the probe's report.
    pub fn new(
        scenario: Scenario,
        side: Side,
        concurrency: usize,
        detail: String,
        outcome: &Outcome,
        usage: WindowUse,
    ) -> Self {
        let h = &outcome.latency_us;
        let ms = |us: u64| us as f64 / 1_000.0;
        let latency_ms = if h.is_empty() {
            Latency {
                p50: 0.0,
                p90: 0.0,
                p99: 0.0,
                max: 0.0,
                mean: 0.0,
            }
        } else {
            Latency {
                p50: ms(h.value_at_quantile(0.50)),
                p90: ms(h.value_at_quantile(0.90)),
                p99: ms(h.value_at_quantile(0.99)),
                max: ms(h.max()),
                mean: h.mean() / 1_000.0,
            }
        };
        let window_secs = outcome.window.as_secs_f64();
        let ops = outcome.ops as f64;
        // cores x seconds / ops = CPU seconds per op.
        let per_op = |cores: f64| cores * window_secs / ops * 1_000.0;
        let cpu_per_op = usage.cpu.filter(|_| outcome.ops > 0).map(|cpu| CpuPerOp {
            server_ms: cpu.server.map(per_op),
            postgres_ms: per_op(cpu.postgres),
            postgres_db_ms: cpu.postgres_db.map(per_op),
            bench_ms: cpu.bench.map(per_op),
        });
        Self {
            round: 1,
            spread: None,
            scenario,
            side,
            unit: scenario.unit(),
            concurrency,
            detail,
            ops: outcome.ops,
            errors: outcome.errors,
            first_error: outcome.first_error.clone(),
            window_secs,
            per_sec: outcome.throughput(),
            latency_ms,
            usage,
            cpu_per_op,
            wal_bytes_per_op: usage
                .wal_bytes
                .filter(|_| outcome.ops > 0)
                .map(|b| b as f64 / ops),
        }
    }

    /// Whether the run completed without failures.
    pub fn passed(&self) -> bool {
        self.errors == 0 && self.ops > 0
    }
}

/// One scenario against its target and its raw baseline.
#[derive(Debug, Clone, Serialize)]
pub struct SummaryRow {
    /// The scenario.
    pub scenario: Scenario,
    /// Unit of the throughput.
    pub unit: &'static str,
    /// HTTP throughput.
    pub http_per_sec: Option<f64>,
    /// HTTP 99th percentile, ms.
    pub http_p99_ms: Option<f64>,
    /// Raw-SQL throughput.
    pub raw_per_sec: Option<f64>,
    /// HTTP throughput / raw throughput, taken within each round (the two
    /// sides run back to back, so a ratio never mixes two moments of a
    /// shared machine); the median of the rounds.
    pub ratio_to_raw: Option<f64>,
    /// The lowest and highest of those per-round ratios.
    pub ratio_range: Option<(f64, f64)>,
    /// Limit-baseline throughput.
    pub limit_per_sec: Option<f64>,
    /// HTTP throughput / limit throughput, per round, median.
    pub http_to_limit: Option<f64>,
    /// The lowest and highest of those per-round ratios.
    pub http_to_limit_range: Option<(f64, f64)>,
    /// Raw throughput / limit throughput, per round, median: how close the
    /// adapter's SQL is to the fewest statements.
    pub raw_to_limit: Option<f64>,
    /// The target for `http_to_limit`, where it sets one.
    pub limit_target: Option<f64>,
    /// Whether HTTP reached it.
    pub limit_target_met: Option<bool>,
    /// The target.
    pub target: String,
    /// Whether HTTP met it.
    pub target_met: Option<bool>,
    /// Whether HTTP reached half the raw throughput.
    pub half_of_raw_met: Option<bool>,
    /// What the service description claims.
    pub seed_claim: &'static str,
    /// Failed operations of both sides (in every round).
    pub errors: u64,
}

/// The machine and the database a run happened on.
#[derive(Debug, Clone, Serialize)]
pub struct Machine {
    /// CPU model.
    pub cpu_model: String,
    /// Logical cores.
    pub cores: usize,
    /// Total memory, GiB.
    pub memory_gib: f64,
    /// Kernel release.
    pub kernel: String,
    /// `/proc/loadavg` when the run started.
    pub load_at_start: String,
    /// `/proc/loadavg` when it ended.
    pub load_at_end: String,
    /// `SELECT version()`.
    pub postgres: String,
    /// Settings that matter for the figures.
    pub postgres_settings: Vec<(String, String)>,
}

impl Machine {
    /// What `/proc` says about this machine (fields stay empty elsewhere).
    pub fn inspect() -> Self {
        let read = |path: &str| std::fs::read_to_string(path).unwrap_or_default();
        let cpu_model = read("/proc/cpuinfo")
            .lines()
            .find(|l| l.starts_with("model name"))
            .and_then(|l| l.split_once(':'))
            .map(|(_, v)| v.trim().to_owned())
            .unwrap_or_default();
        let memory_gib = read("/proc/meminfo")
            .lines()
            .find(|l| l.starts_with("MemTotal:"))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|kb| kb.parse::<f64>().ok())
            .map_or(0.0, |kb| kb / 1024.0 / 1024.0);
        Self {
            cpu_model,
            cores: std::thread::available_parallelism().map_or(1, usize::from),
            memory_gib,
            kernel: read("/proc/sys/kernel/osrelease").trim().to_owned(),
            load_at_start: load_average(),
            load_at_end: String::new(),
            postgres: String::new(),
            postgres_settings: Vec::new(),
        }
    }
}

/// The 1, 5 and 15 minute load averages.
pub fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .unwrap_or_default()
        .split_whitespace()
        .take(3)
        .collect::<Vec<_>>()
        .join(" ")
}

/// Everything a run produced.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// When the run started.
    pub started_at: DateTime<Utc>,
    /// When it ended.
    pub finished_at: DateTime<Utc>,
    /// Quick (smoke) preset or full.
    pub quick: bool,
    /// Connections per run.
    pub concurrency: usize,
    /// Warm-up per run, seconds.
    pub warmup_secs: f64,
    /// Window per run, seconds.
    pub duration_secs: f64,
    /// Runs of each scenario and side.
    pub runs: u32,
    /// Machine and database.
    pub machine: Machine,
    /// The data the reads ran on.
    pub seed: Seeded,
    /// The median run of each scenario and side, with the spread of all.
    pub medians: Vec<Measurement>,
    /// Every run, in the order they ran.
    pub measurements: Vec<Measurement>,
    /// Every scenario against target and baseline.
    pub summary: Vec<SummaryRow>,
    /// The connection sweep: GET and create at each connection count, one
    /// run each.
    pub sweep: Vec<Measurement>,
}

/// The median run (by throughput; the lower one of an even count) of each
/// scenario and side, carrying the spread of all its runs and the errors of
/// all of them, so a failure in any round is never hidden by the median.
pub fn medians(measurements: &[Measurement]) -> Vec<Measurement> {
    let mut keys: Vec<(Scenario, Side)> =
        measurements.iter().map(|m| (m.scenario, m.side)).collect();
    keys.sort_by_key(|(scenario, side)| (scenario.report_rank(), side.rank()));
    keys.dedup();
    keys.into_iter()
        .filter_map(|(scenario, side)| {
            let mut runs: Vec<&Measurement> = measurements
                .iter()
                .filter(|m| m.scenario == scenario && m.side == side)
                .collect();
            let errors = runs.iter().map(|m| m.errors).sum();
            let first_error = runs.iter().find_map(|m| m.first_error.clone());
            runs.sort_by(|a, b| a.per_sec.total_cmp(&b.per_sec));
            let median = (*runs.get(runs.len().saturating_sub(1) / 2)?).clone();
            let p99s = runs.iter().map(|m| m.latency_ms.p99);
            let spread = Spread {
                runs: runs.len(),
                min_per_sec: runs.first()?.per_sec,
                max_per_sec: runs.last()?.per_sec,
                min_p99_ms: p99s.clone().fold(f64::INFINITY, f64::min),
                max_p99_ms: p99s.fold(0.0, f64::max),
            };
            Some(Measurement {
                spread: (runs.len() > 1).then_some(spread),
                errors,
                first_error,
                ..median
            })
        })
        .collect()
}

/// `side` throughput over `baseline` throughput in each round that ran both
/// of `scenario`, sorted.
fn round_ratios(scenario: Scenario, runs: &[Measurement], side: Side, baseline: Side) -> Vec<f64> {
    let mut ratios: Vec<f64> = runs
        .iter()
        .filter(|h| h.scenario == scenario && h.side == side && h.ops > 0)
        .filter_map(|h| {
            runs.iter()
                .find(|r| {
                    r.scenario == scenario
                        && r.side == baseline
                        && r.round == h.round
                        && r.per_sec > 0.0
                })
                .map(|r| h.per_sec / r.per_sec)
        })
        .collect();
    ratios.sort_by(f64::total_cmp);
    ratios
}

/// The median of sorted ratios, and their range when there are several.
fn median_and_range(ratios: &[f64]) -> (Option<f64>, Option<(f64, f64)>) {
    let median = ratios.get(ratios.len().saturating_sub(1) / 2).copied();
    let range = ratios.first().copied().zip(ratios.last().copied());
    (median, range.filter(|_| ratios.len() > 1))
}

/// Pairs each scenario's HTTP and raw runs and checks them against targets:
/// throughput and p99 from the median runs (`medians`), the ratio to raw
/// from the rounds of `runs`.
pub fn summarize(medians: &[Measurement], runs: &[Measurement]) -> Vec<SummaryRow> {
    let measurements = medians;
    let mut scenarios: Vec<Scenario> = measurements.iter().map(|m| m.scenario).collect();
    scenarios.sort_by_key(|s| s.report_rank());
    scenarios.dedup();
    scenarios
        .into_iter()
        .map(|scenario| {
            let find = |side| {
                measurements
                    .iter()
                    .find(|m| m.scenario == scenario && m.side == side && m.ops > 0)
            };
            let http = find(Side::Http);
            let raw = find(Side::Raw);
            let limit = find(Side::Limit);
            let (ratio, ratio_range) =
                median_and_range(&round_ratios(scenario, runs, Side::Http, Side::Raw));
            let (http_to_limit, http_to_limit_range) =
                median_and_range(&round_ratios(scenario, runs, Side::Http, Side::Limit));
            let (raw_to_limit, _) =
                median_and_range(&round_ratios(scenario, runs, Side::Raw, Side::Limit));
            let limit_target = scenario.limit_ratio_target();
            let target = scenario.target();
            SummaryRow {
                scenario,
                unit: scenario.unit(),
                http_per_sec: http.map(|m| m.per_sec),
                http_p99_ms: http.map(|m| m.latency_ms.p99),
                raw_per_sec: raw.map(|m| m.per_sec),
                ratio_to_raw: ratio,
                ratio_range,
                limit_per_sec: limit.map(|m| m.per_sec),
                http_to_limit,
                http_to_limit_range,
                raw_to_limit,
                limit_target,
                limit_target_met: limit_target.zip(http_to_limit).map(|(t, r)| r >= t),
                target: target.describe(),
                target_met: http.map(|m| target.met(m.per_sec, m.latency_ms.p99)),
                half_of_raw_met: ratio.map(|r| r >= 0.5),
                seed_claim: scenario.seed_claim(),
                errors: [http, raw, limit].iter().flatten().map(|m| m.errors).sum(),
            }
        })
        .collect()
}

fn opt(value: Option<f64>, digits: usize) -> String {
    value.map_or_else(|| "-".to_owned(), |v| format!("{v:.digits$}"))
}

/// `70%`, or `70% [65-75]` with the range of the rounds.
fn percent(ratio: Option<f64>, range: Option<(f64, f64)>) -> String {
    let Some(ratio) = ratio else {
        return "-".to_owned();
    };
    match range {
        Some((low, high)) => format!(
            "{:.0}% [{:.0}-{:.0}]",
            ratio * 100.0,
            low * 100.0,
            high * 100.0
        ),
        None => format!("{:.0}%", ratio * 100.0),
    }
}

fn verdict(met: Option<bool>) -> &'static str {
    match met {
        Some(true) => "met",
        Some(false) => "MISSED",
        None => "-",
    }
}

/// The measurements table: one line per run.
pub fn measurements_table(measurements: &[Measurement]) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{:<15} {:<4} {:>4} {:>10} {:<15} {:<9} {:>7} {:>7} {:>7} {:>8} {:>6}  {:>6} {:>6} {:>6} {:>6} {:>5} {:>5}  {:>8}  detail",
        "scenario", "side", "conn", "ops/s", "[range]", "unit", "p50 ms", "p90 ms", "p99 ms", "max ms",
        "errors", "srv ms", "pg ms", "db ms", "cli ms", "idle", "other", "WAL B/op"
    );
    let mut sorted: Vec<&Measurement> = measurements.iter().collect();
    sorted.sort_by_key(|m| (m.scenario.report_rank(), m.side.rank()));
    for m in sorted {
        let cpu = m.cpu_per_op;
        let _ = writeln!(
            out,
            "{:<15} {:<4} {:>4} {:>10.0} {:<15} {:<9} {:>7.2} {:>7.2} {:>7.2} {:>8.2} {:>6}  {:>6} {:>6} {:>6} {:>6} {:>5} {:>5}  {:>8}  {}",
            m.scenario.name(),
            m.side.name(),
            m.concurrency,
            m.per_sec,
            m.spread.map_or_else(String::new, |s| format!("[{:.0}-{:.0}]", s.min_per_sec, s.max_per_sec)),
            m.unit,
            m.latency_ms.p50,
            m.latency_ms.p90,
            m.latency_ms.p99,
            m.latency_ms.max,
            m.errors,
            opt(cpu.and_then(|c| c.server_ms), 3),
            opt(cpu.map(|c| c.postgres_ms), 3),
            opt(cpu.and_then(|c| c.postgres_db_ms), 3),
            opt(cpu.and_then(|c| c.bench_ms), 3),
            opt(m.usage.cpu.map(|c| c.idle), 2),
            opt(m.usage.cpu.map(|c| c.other), 2),
            opt(m.wal_bytes_per_op, 0),
            m.detail,
        );
    }
    out
}

/// The summary table: one line per scenario.
pub fn summary_table(summary: &[SummaryRow]) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{:<15} {:<9} {:>10} {:>10} {:>10} {:>14} {:>14} {:>9} {:>11} {:>8} {:>6}  {:<24} {:<7} {:<8} seed claims",
        "scenario",
        "unit",
        "http",
        "raw",
        "limit",
        "http/raw",
        "http/limit",
        "raw/limit",
        "limit goal",
        "p99 ms",
        "errors",
        "target",
        "target",
        ">=50%raw",
    );
    for row in summary {
        let _ = writeln!(
            out,
            "{:<15} {:<9} {:>10} {:>10} {:>10} {:>14} {:>14} {:>9} {:>11} {:>8} {:>6}  {:<24} {:<7} {:<8} {}",
            row.scenario.name(),
            row.unit,
            opt(row.http_per_sec, 0),
            opt(row.raw_per_sec, 0),
            opt(row.limit_per_sec, 0),
            percent(row.ratio_to_raw, row.ratio_range),
            percent(row.http_to_limit, row.http_to_limit_range),
            percent(row.raw_to_limit, None),
            row.limit_target.map_or_else(
                || "-".to_owned(),
                |t| format!(">={:.0}% {}", t * 100.0, verdict(row.limit_target_met))
            ),
            opt(row.http_p99_ms, 2),
            row.errors,
            row.target,
            verdict(row.target_met),
            verdict(row.half_of_raw_met),
            row.seed_claim,
        );
    }
    out
}

/// Writes the report as `bench-<time>.json` and `latest.json` in `dir`.
///
/// # Errors
/// When the folder or a file cannot be written.
pub fn save(report: &Report, dir: &Path) -> anyhow::Result<PathBuf> {
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let json = serde_json::to_string_pretty(report)?;
    let stamp = report.started_at.format("%Y%m%dT%H%M%SZ");
    let mode = if report.quick { "quick" } else { "full" };
    let path = dir.join(format!("bench-{stamp}-{mode}.json"));
    std::fs::write(&path, &json).with_context(|| format!("cannot write {}", path.display()))?;
    let latest = dir.join("latest.json");
    std::fs::write(&latest, &json).with_context(|| format!("cannot write {}", latest.display()))?;
    Ok(path)
}

#[cfg(test)]
mod tests {
    use super::*;
    use hdrhistogram::Histogram;
    use std::time::Duration;

    fn measurement(scenario: Scenario, side: Side, ops: u64, latency_us: u64) -> Measurement {
        let mut histogram = Histogram::new_with_bounds(1, 60_000_000, 3).unwrap();
        for _ in 0..ops {
            histogram.record(latency_us).unwrap();
        }
        let outcome = Outcome {
            ops,
            errors: 0,
            first_error: None,
            window: Duration::from_secs(10),
            latency_us: histogram,
        };
        Measurement::new(
            scenario,
            side,
            32,
            String::new(),
            &outcome,
            WindowUse::default(),
        )
    }

    #[test]
    fn summary_pairs_http_with_raw_and_checks_targets() {
        let runs = [
            measurement(Scenario::Get, Side::Http, 120_000, 3_000),
            measurement(Scenario::Get, Side::Raw, 200_000, 1_000),
            measurement(Scenario::Create, Side::Http, 10_000, 9_000),
        ];
        let summary = summarize(&runs, &runs);
        assert_eq!(summary.len(), 2);
        let create = &summary[0];
        assert_eq!(create.scenario, Scenario::Create);
        assert_eq!(create.target_met, Some(false), "1,000/s < 5,000/s");
        assert_eq!(create.ratio_to_raw, None);
        let get = &summary[1];
        assert!((get.ratio_to_raw.unwrap() - 0.6).abs() < 1e-9);
        assert_eq!(get.target_met, Some(true));
        assert_eq!(get.half_of_raw_met, Some(true));
        let table = summary_table(&summary);
        assert!(table.contains("60%"), "{table}");
        assert!(measurements_table(&runs).lines().count() == 4);
    }

    #[test]
    fn the_median_run_carries_the_spread_of_all_runs() {
        let mut runs: Vec<Measurement> = [30_000, 10_000, 20_000]
            .into_iter()
            .enumerate()
            .map(|(i, ops)| {
                let mut m = measurement(Scenario::Get, Side::Http, ops, 1_000);
                m.round = u32::try_from(i).unwrap() + 1;
                m
            })
            .collect();
        let medians = medians(&runs);
        assert_eq!(medians.len(), 1);
        assert_eq!(medians[0].round, 3, "the 2,000/s run");
        let spread = medians[0].spread.unwrap();
        assert_eq!(
            (spread.runs, spread.min_per_sec, spread.max_per_sec),
            (3, 1_000.0, 3_000.0)
        );

        runs[0].errors = 1;
        runs[0].first_error = Some("503".to_owned());
        let medians = super::medians(&runs);
        assert_eq!(medians[0].errors, 1, "a failed run is never hidden");
        assert_eq!(medians[0].first_error.as_deref(), Some("503"));
        assert_eq!(summarize(&medians, &runs)[0].errors, 1);
    }

    #[test]
    fn the_ratio_to_raw_is_taken_within_each_round() {
        // Round 1 ran on a quiet machine, round 2 on a busy one: both sides
        // of a round move together, and the ratio is the median of the
        // rounds' ratios, not one round's HTTP over another's raw.
        let mut runs = Vec::new();
        for (round, http, raw) in [(1, 8_000, 10_000), (2, 3_000, 5_000), (3, 7_000, 10_000)] {
            for (side, ops) in [(Side::Http, http), (Side::Raw, raw)] {
                let mut m = measurement(Scenario::Get, side, ops, 1_000);
                m.round = round;
                runs.push(m);
            }
        }
        let summary = summarize(&medians(&runs), &runs);
        let row = &summary[0];
        assert!((row.ratio_to_raw.unwrap() - 0.7).abs() < 1e-9);
        let (low, high) = row.ratio_range.unwrap();
        assert!((low - 0.6).abs() < 1e-9 && (high - 0.8).abs() < 1e-9);
        assert!(summary_table(&summary).contains("70% [60-80]"));
    }

    #[test]
    fn percentiles_are_in_milliseconds() {
        let m = measurement(Scenario::Get, Side::Http, 100, 2_500);
        assert!((m.latency_ms.p50 - 2.5).abs() < 0.01);
        assert!((m.per_sec - 10.0).abs() < 1e-9);
    }
}
