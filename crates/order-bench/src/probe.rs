//! Where the machine's time went during a measured window: CPU of the server,
//! of PostgreSQL and of this load generator (from `/proc`), and the WAL the
//! cluster wrote (from `pg_current_wal_lsn()`).
//!
//! On a 2-core machine that runs client, server and database at once, the
//! throughput figures alone cannot say what limits them; CPU seconds per
//! operation can, and they are much less sensitive to a noisy neighbour than
//! operations per second. Linux only: elsewhere the CPU columns stay empty.

use std::collections::HashMap;
use std::time::Instant;

use serde::Serialize;
use tokio_postgres::Client;

use crate::load::WindowProbe;

/// CPU ticks (`USER_HZ`) of the processes we watch and of the whole machine.
#[derive(Debug, Clone, Default)]
struct CpuSnapshot {
    /// utime + stime of the server process.
    server: Option<u64>,
    /// utime + stime of this process.
    bench: Option<u64>,
    /// utime + stime per `postgres` process.
    postgres: HashMap<u32, u64>,
    /// All ticks of all CPUs, and the idle (+ iowait) ones.
    machine_total: u64,
    machine_idle: u64,
}

/// Cores used on average during the window, per consumer.
#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct CpuUse {
    /// The server process (`None` without its pid).
    pub server: Option<f64>,
    /// Every `postgres` process of the cluster (other databases included).
    pub postgres: f64,
    /// Only the backends connected to the benchmark's own database (the
    /// server's pool, the raw and limit sides, the harness): the statements'
    /// parse, plan, execution and commit, without other databases' work and
    /// without the cluster's shared WAL writer and checkpointer. `None`
    /// without a database to ask which backends those are.
    pub postgres_db: Option<f64>,
    /// This load generator.
    pub bench: Option<f64>,
    /// Everything else busy on the machine (other users, the kernel...).
    pub other: f64,
    /// Idle cores.
    pub idle: f64,
}

/// What the probe saw during one window.
#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct WindowUse {
    /// Average cores used (`None` when `/proc` cannot be read).
    pub cpu: Option<CpuUse>,
    /// WAL bytes written by the whole cluster (`None` if the query failed).
    pub wal_bytes: Option<u64>,
}

/// Samples CPU and WAL at the edges of each measured window.
#[derive(Debug)]
pub struct ResourceProbe<'a> {
    server_pid: Option<u32>,
    /// PostgreSQL, for its WAL; `None` on the embedded store.
    db: Option<&'a Client>,
    start: Option<(Instant, Option<CpuSnapshot>, Option<u64>)>,
    /// Backends of the benchmark's database when the window opened.
    start_backends: Option<Vec<u32>>,
}

impl<'a> ResourceProbe<'a> {
    /// A probe watching `server_pid` and the cluster behind `db`.
    pub fn new(server_pid: Option<u32>, db: &'a Client) -> Self {
        Self {
            server_pid,
            db: Some(db),
            start: None,
            start_backends: None,
        }
    }

    /// A probe watching `server_pid` only (the embedded store has no WAL to read).
    pub fn without_database(server_pid: Option<u32>) -> Self {
        Self {
            server_pid,
            db: None,
            start: None,
            start_backends: None,
        }
    }

    async fn wal_lsn(&self) -> Option<u64> {
        let row = self
            .db?
            .query_one(
                harness_sql!("SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), '0/0')::bigint"),
                &[],
            )
            .await
            .ok()?;
        row.try_get::<_, i64>(0)
            .ok()
            .and_then(|v| u64::try_from(v).ok())
    }
}

impl ResourceProbe<'_> {
    /// The pids of the backends connected to the benchmark's database.
    async fn own_backends(&self) -> Option<Vec<u32>> {
        let rows = self
            .db?
            .query(
                harness_sql!("SELECT pid FROM pg_stat_activity WHERE datname = current_database()"),
                &[],
            )
            .await
            .ok()?;
        Some(
            rows.iter()
                .filter_map(|row| row.try_get::<_, i32>(0).ok())
                .filter_map(|pid| u32::try_from(pid).ok())
                .collect(),
        )
    }
}

impl WindowProbe for ResourceProbe<'_> {
    type Report = WindowUse;

    async fn open(&mut self) {
        let wal = self.wal_lsn().await;
        self.start_backends = self.own_backends().await;
        self.start = Some((Instant::now(), cpu_snapshot(self.server_pid), wal));
    }

    async fn close(&mut self) -> WindowUse {
        let end_cpu = cpu_snapshot(self.server_pid);
        let end_wal = self.wal_lsn().await;
        // Backends seen at either edge: one opened during the window counts
        // from zero, as in the cluster-wide figure.
        let own = self
            .start_backends
            .take()
            .zip(self.own_backends().await)
            .map(|(mut start, end)| {
                start.extend(end);
                start.sort_unstable();
                start.dedup();
                start
            });
        let Some((_, start_cpu, start_wal)) = self.start.take() else {
            return WindowUse::default();
        };
        WindowUse {
            cpu: start_cpu
                .zip(end_cpu)
                .and_then(|(a, b)| cpu_use(&a, &b, own.as_deref())),
            wal_bytes: start_wal.zip(end_wal).map(|(a, b)| b.saturating_sub(a)),
        }
    }
}

/// utime + stime of `/proc/<pid>/stat`, in ticks.
fn process_ticks(pid: &str) -> Option<(String, u64)> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name is in parentheses and may contain spaces.
    let open = stat.find('(')?;
    let close = stat.rfind(')')?;
    let comm = stat.get(open + 1..close)?.to_owned();
    let fields: Vec<&str> = stat.get(close + 2..)?.split_whitespace().collect();
    // After the name: state is field 3 (index 0 here); utime 14, stime 15.
    let utime: u64 = fields.get(11)?.parse().ok()?;
    let stime: u64 = fields.get(12)?.parse().ok()?;
    Some((comm, utime + stime))
}

fn machine_ticks() -> Option<(u64, u64)> {
    let stat = std::fs::read_to_string("/proc/stat").ok()?;
    let line = stat.lines().next()?;
    let values: Vec<u64> = line
        .split_whitespace()
        .skip(1)
        .filter_map(|v| v.parse().ok())
        .collect();
    // user nice system idle iowait irq softirq steal (guest is in user already)
    let total = values.iter().take(8).sum();
    let idle = values.get(3)? + values.get(4).copied().unwrap_or(0);
    Some((total, idle))
}

fn cpu_snapshot(server_pid: Option<u32>) -> Option<CpuSnapshot> {
    let (machine_total, machine_idle) = machine_ticks()?;
    let mut postgres = HashMap::new();
    for entry in std::fs::read_dir("/proc").ok()?.flatten() {
        let name = entry.file_name();
        let Some(pid) = name
            .to_str()
            .filter(|n| n.bytes().all(|b| b.is_ascii_digit()))
        else {
            continue;
        };
        if let Some((comm, ticks)) = process_ticks(pid) {
            if comm == "postgres" {
                if let Ok(pid) = pid.parse() {
                    postgres.insert(pid, ticks);
                }
            }
        }
    }
    Some(CpuSnapshot {
        server: server_pid
            .and_then(|p| process_ticks(&p.to_string()))
            .map(|(_, t)| t),
        bench: process_ticks("self").map(|(_, t)| t),
        postgres,
        machine_total,
        machine_idle,
    })
}

/// Ticks of the `postgres` processes `pids` between the two snapshots: a
/// process that started in between counts from zero, one that ended is lost.
fn postgres_ticks<'a>(
    start: &CpuSnapshot,
    end: &CpuSnapshot,
    pids: impl IntoIterator<Item = &'a u32>,
) -> u64 {
    pids.into_iter()
        .filter_map(|pid| {
            let ticks = end.postgres.get(pid)?;
            Some(ticks.saturating_sub(start.postgres.get(pid).copied().unwrap_or(0)))
        })
        .sum()
}

fn cpu_use(start: &CpuSnapshot, end: &CpuSnapshot, own_backends: Option<&[u32]>) -> Option<CpuUse> {
    let total = end.machine_total.checked_sub(start.machine_total)?;
    if total == 0 {
        return None;
    }
    let cores = std::thread::available_parallelism().map_or(1, usize::from) as f64;
    let as_cores = |ticks: u64| ticks as f64 / total as f64 * cores;
    let delta = |a: Option<u64>, b: Option<u64>| b.zip(a).map(|(b, a)| b.saturating_sub(a));
    // Backends that started during the window count from zero; those that
    // ended are lost (the ones we drive live for the whole run).
    let cluster_ticks = postgres_ticks(start, end, end.postgres.keys());
    let postgres_db = own_backends.map(|pids| as_cores(postgres_ticks(start, end, pids)));
    let server = delta(start.server, end.server);
    let bench = delta(start.bench, end.bench);
    let idle = end.machine_idle.saturating_sub(start.machine_idle);
    let busy = total.saturating_sub(idle);
    let other = busy.saturating_sub(cluster_ticks + server.unwrap_or(0) + bench.unwrap_or(0));
    Some(CpuUse {
        server: server.map(as_cores),
        postgres: as_cores(cluster_ticks),
        postgres_db,
        bench: bench.map(as_cores),
        other: as_cores(other),
        idle: as_cores(idle),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_its_own_cpu_time() {
        if std::path::Path::new("/proc/self/stat").exists() {
            let (comm, _ticks) = process_ticks("self").unwrap();
            assert!(!comm.is_empty());
            assert!(machine_ticks().unwrap().0 > 0);
        }
    }

    #[test]
    fn splits_the_window_between_consumers() {
        let start = CpuSnapshot {
            server: Some(100),
            bench: Some(10),
            postgres: HashMap::from([(1, 50), (2, 5)]),
            machine_total: 1_000,
            machine_idle: 500,
        };
        let end = CpuSnapshot {
            server: Some(140),
            bench: Some(20),
            postgres: HashMap::from([(1, 80), (3, 10)]),
            machine_total: 1_200,
            machine_idle: 520,
        };
        let cores = std::thread::available_parallelism().map_or(1, usize::from) as f64;
        let used = cpu_use(&start, &end, Some(&[1, 3, 4])).unwrap();
        let share = |ticks: f64| ticks / 200.0 * cores;
        assert!((used.server.unwrap() - share(40.0)).abs() < 1e-9);
        assert!((used.postgres - share(40.0)).abs() < 1e-9);
        // Of the database's own backends, 1 ran 30 ticks and 3 started with
        // 10; 4 is gone; 2 belongs to another database.
        assert!((used.postgres_db.unwrap() - share(40.0)).abs() < 1e-9);
        assert!(cpu_use(&start, &end, None).unwrap().postgres_db.is_none());
        let only_one = cpu_use(&start, &end, Some(&[1])).unwrap();
        assert!((only_one.postgres_db.unwrap() - share(30.0)).abs() < 1e-9);
        assert!((used.bench.unwrap() - share(10.0)).abs() < 1e-9);
        assert!((used.idle - share(20.0)).abs() < 1e-9);
        assert!((used.other - share(90.0)).abs() < 1e-9);
    }
}
