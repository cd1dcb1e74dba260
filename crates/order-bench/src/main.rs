//! `order-bench`: measures the Order Management service against its targets
//! and against what PostgreSQL itself does for the same work.
//!
//! It sits outside the hexagon on purpose: it knows the service only by its
//! HTTP API (the HTTP side) and its database schema (the seed and the raw
//! baseline), exactly like a client and a DBA would. `make bench` starts a
//! server on a fresh database and runs this against it; see
//! `docs/performance.md` for the figures and what limits them.

/// Tags the harness's own SQL (seed, fixtures, probes) with a comment, so
/// that `scripts/bench-sql-audit.sh` can tell it from the raw baseline's
/// statements, which must be exactly the server's.
macro_rules! harness_sql {
    ($sql:literal) => {
        concat!("/* order-bench harness */ ", $sql)
    };
}

mod api;
mod baseline;
mod chart;
mod cli;
mod embedded;
mod limit;
mod load;
mod paging;
mod probe;
mod raw;
mod report;
mod scenario;
mod seed;

use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use chrono::Utc;
use clap::Parser;
use uuid::Uuid;

use crate::api::Api;
use crate::cli::{Args, Plan};
use crate::limit::LimitDb;
use crate::load::{drive, Load, Operation};
use crate::paging::PageAt;
use crate::probe::ResourceProbe;
use crate::raw::RawDb;
use crate::report::{Machine, Measurement, Report, Side};
use crate::scenario::{
    HttpCreate, HttpGet, HttpLifecycle, HttpList, ListDepth, ListTarget, Scenario,
    LIFECYCLE_REQUESTS,
};

/// Customers registered through the API for the write scenarios.
const WRITE_CUSTOMERS: usize = 64;

fn main() -> ExitCode {
    let args = Args::parse();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(usize::from(args.client_threads))
        .enable_all()
        .build();
    let outcome = match runtime {
        Ok(runtime) => runtime.block_on(run(args)),
        Err(error) => Err(anyhow::Error::new(error).context("cannot start the async runtime")),
    };
    match outcome {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => {
            eprintln!("order-bench: some runs failed (see the errors column and the JSON report)");
            ExitCode::FAILURE
        }
        Err(error) => {
            eprintln!("order-bench: {error:#}");
            ExitCode::from(2)
        }
    }
}

/// What the scenarios run on.
struct Fixtures {
    api: Api,
    raw: Option<RawDb>,
    limit: Option<LimitDb>,
    write_customers: Arc<Vec<Uuid>>,
    read_orders: Arc<Vec<Uuid>>,
    busiest_customer: Uuid,
    /// The page each cursor scenario reads (`after` the cursor half-way
    /// down, or at the depth of the last page, of `/orders` or of the
    /// busiest customer's orders).
    cursor_pages: Vec<(ListTarget, PageAt)>,
}

async fn run(args: Args) -> anyhow::Result<bool> {
    let plan = args.plan()?;
    if args.store == cli::Store::Sqlite {
        return embedded::run(&args, plan).await;
    }
    let started_at = Utc::now();
    let mut machine = Machine::inspect();
    let api = Api::new(&args.base_url, plan.concurrency, args.api_key.as_deref())?;
    if plan.http {
        api.wait_ready(Duration::from_secs(60)).await?;
    }

    let control = raw::connect(&args.database_url).await?;
    let seeder = raw::connect(&args.database_url).await?;
    machine.postgres = control
        .query_one(harness_sql!("SELECT version()"), &[])
        .await?
        .get(0);
    for setting in [
        "shared_buffers",
        "synchronous_commit",
        "max_connections",
        "wal_level",
        "max_wal_size",
    ] {
        let row = control
            .query_one(&format!(harness_sql!("SHOW {}"), setting), &[])
            .await?;
        machine
            .postgres_settings
            .push((setting.to_owned(), row.get(0)));
    }

    eprintln!(
        "order-bench: {} preset, {} connections, {:.1} s warm-up + {:.1} s per run; seeding up to {} orders",
        if plan.quick { "quick" } else { "full" },
        plan.concurrency,
        plan.warmup.as_secs_f64(),
        plan.duration.as_secs_f64(),
        plan.seed_orders
    );
    let seeded = seed::seed([&control, &seeder], plan.seed_orders, plan.seed_lines).await?;
    drop(seeder);
    eprintln!(
        "order-bench: {} orders, {} lines, {} customers ({:.1} s seeding)",
        seeded.orders, seeded.lines, seeded.customers, seeded.seconds
    );
    // Write the seed out now rather than during the first measured runs.
    // Needs superuser (or pg_checkpoint); without it the runs just start.
    if let Err(error) = control.batch_execute(harness_sql!("CHECKPOINT")).await {
        eprintln!("order-bench: no CHECKPOINT after seeding ({error}); continuing");
    }

    let mut fixtures = prepare(&plan, &args, api, &control, &seeded).await?;
    let mut measurements = Vec::new();
    // Round after round, so that a noisy minute hits one run of each
    // scenario rather than every run of one scenario.
    for round in 1..=plan.runs {
        for &scenario in &plan.scenarios {
            let sides = [
                (Side::Limit, plan.limit),
                (Side::Raw, plan.raw),
                (Side::Http, plan.http),
            ];
            for (side, wanted) in sides {
                if !wanted {
                    continue;
                }
                let mut probe = ResourceProbe::new(args.server_pid, &control);
                let mut measurement = run_one(&plan, &fixtures, scenario, side, &mut probe).await?;
                measurement.round = round;
                report_progress(&measurement);
                measurements.push(measurement);
            }
        }
    }

    // The sweep opens its own connections: close the rounds' first.
    fixtures.raw = None;
    fixtures.limit = None;
    let sweep = run_sweep(&plan, &args, &fixtures, &control).await?;

    machine.load_at_end = report::load_average();
    let medians = report::medians(&measurements);
    let summary = report::summarize(&medians, &measurements);
    let passed = measurements.iter().chain(&sweep).all(Measurement::passed);
    let report = Report {
        started_at,
        finished_at: Utc::now(),
        quick: plan.quick,
        concurrency: plan.concurrency,
        warmup_secs: plan.warmup.as_secs_f64(),
        duration_secs: plan.duration.as_secs_f64(),
        runs: plan.runs,
        machine,
        seed: seeded,
        medians,
        measurements,
        summary,
        sweep,
    };
    print_report(&report);
    let path = report::save(&report, &args.out_dir)?;
    println!();
    println!("JSON report: {}", path.display());
    chart::write(&report, &args.svg)?;
    println!("Chart: {}", args.svg.display());
    Ok(passed)
}

fn report_progress(measurement: &Measurement) {
    eprintln!(
        "order-bench: round {} {:<15} {:<5} {:>4} conn {:>9.0} {} p99 {:.2} ms{}",
        measurement.round,
        measurement.scenario.name(),
        measurement.side.name(),
        measurement.concurrency,
        measurement.per_sec,
        measurement.unit,
        measurement.latency_ms.p99,
        measurement
            .first_error
            .as_ref()
            .map_or_else(String::new, |e| format!(
                " ({} errors, first: {e})",
                measurement.errors
            ))
    );
}

fn print_report(report: &Report) {
    println!();
    println!(
        "Order Management benchmark, {} ({} cores, {}), load {} -> {}",
        report.started_at.format("%Y-%m-%d %H:%M UTC"),
        report.machine.cores,
        report.machine.cpu_model,
        report.machine.load_at_start,
        report.machine.load_at_end
    );
    println!(
        "{} orders / {} lines seeded; {} connections; {:.1} s warm-up + {:.1} s measured per run; \
         median of {} run(s), range in brackets",
        report.seed.orders,
        report.seed.lines,
        report.concurrency,
        report.warmup_secs,
        report.duration_secs,
        report.runs
    );
    println!();
    print!("{}", report::measurements_table(&report.medians));
    println!(
        "(srv/pg/cli ms: CPU milliseconds per operation in the server, in PostgreSQL (whole cluster), \
         in this client; idle: idle cores; other: cores busy in any other process, i.e. \
         a noisy neighbour; WAL: whole cluster)"
    );
    println!();
    print!("{}", report::summary_table(&report.summary));
    if !report.sweep.is_empty() {
        println!();
        println!("Connection sweep (one run per count, after the rounds):");
        print!("{}", report::measurements_table(&report.sweep));
    }
}

async fn prepare(
    plan: &Plan,
    args: &Args,
    api: Api,
    control: &tokio_postgres::Client,
    seeded: &seed::Seeded,
) -> anyhow::Result<Fixtures> {
    let writes = plan
        .scenarios
        .iter()
        .any(|s| matches!(s, Scenario::Create | Scenario::Lifecycle));
    let mut write_customers = Vec::new();
    if writes {
        // Registered through the API when the server is there (unique emails
        // per run), so the customer endpoint is exercised too.
        let run = Uuid::now_v7().simple().to_string();
        for i in 0..WRITE_CUSTOMERS {
            let name = format!("Bench writer {i}");
            let email = format!("bench-{run}-{i}@bench.example");
            let id = if plan.http {
                api.create_customer(&name, &email).await
            } else {
                seed::insert_customer(control, &name, &email).await
            }
            .context("registering a customer")?;
            write_customers.push(id);
        }
    }
    let sample = if plan.quick { 2_000 } else { 10_000 };
    let read_orders = seed::sample_order_ids(control, sample).await?;
    let cursor_pages = cursor_pages(plan, &api, control, seeded).await?;
    let raw = if plan.raw {
        Some(RawDb::connect(&args.database_url, plan.concurrency).await?)
    } else {
        None
    };
    let limit = if plan.limit {
        Some(LimitDb::connect(&args.database_url, plan.concurrency).await?)
    } else {
        None
    };
    Ok(Fixtures {
        api,
        raw,
        limit,
        write_customers: Arc::new(write_customers),
        read_orders: Arc::new(read_orders),
        busiest_customer: seeded.busiest_customer,
        cursor_pages,
    })
}

/// The page each cursor scenario reads: the page after the cursor of the
/// row half-way down its list, or of the row where its last page starts
/// (row 999,980 of a million orders), the way a client reads deep since
/// keyset pagination. The cursor comes from the seeded rows by SQL; against
/// a server, the bench first checks that the server encodes cursors as it
/// does and that the page holds the orders it should.
async fn cursor_pages(
    plan: &Plan,
    api: &Api,
    control: &tokio_postgres::Client,
    seeded: &seed::Seeded,
) -> anyhow::Result<Vec<(ListTarget, PageAt)>> {
    let mut pages = Vec::new();
    let mut checked = Vec::new();
    for scenario in &plan.scenarios {
        let Some(target) = scenario.list_target() else {
            continue;
        };
        if target.depth == ListDepth::First {
            continue;
        }
        let (customer, rows) = if target.customer {
            (
                Some(seeded.busiest_customer),
                seeded.busiest_customer_orders,
            )
        } else {
            (None, seeded.orders)
        };
        let path = customer.map_or_else(api::all_orders_path, api::customer_orders_path);
        let depth = target.depth.rows_before(rows, plan.page_size);
        let cursor = seed::cursor_at_depth(control, customer, depth)
            .await?
            .ok_or_else(|| {
                anyhow::anyhow!(
                    "{path} holds {rows} orders, too few for {}: nothing to read after a \
                     cursor (seed more orders)",
                    scenario.name()
                )
            })?;
        let page = PageAt::After { cursor, depth };
        if plan.http {
            if !checked.contains(&target.customer) {
                check_cursor_encoding(api, control, &path, customer).await?;
                checked.push(target.customer);
            }
            let expected = usize::try_from((rows - depth).min(u64::from(plan.page_size)))?;
            let (pagination, items) = api.inspect_page(&path, &page, plan.page_size).await?;
            anyhow::ensure!(
                items == expected,
                "{path}?{} answered {items} orders, not the {expected} after depth {depth} \
                 (its total: {} orders, {})",
                page.query(),
                pagination.total_items,
                if pagination.total_items_exact {
                    "counted"
                } else {
                    "estimated"
                }
            );
        }
        pages.push((target, page));
    }
    Ok(pages)
}

/// The server's `next_cursor` after the first row of a list must be the
/// bench's encoding of that row's cursor, or the deep scenarios would read
/// from somewhere else than they say (or get 400).
async fn check_cursor_encoding(
    api: &Api,
    control: &tokio_postgres::Client,
    path: &str,
    customer: Option<Uuid>,
) -> anyhow::Result<()> {
    let (pagination, _) = api.inspect_page(path, &PageAt::Number(1), 1).await?;
    let ours = seed::cursor_at_depth(control, customer, 1)
        .await?
        .map(|cursor| cursor.encode());
    anyhow::ensure!(
        pagination.next_cursor.is_some() && pagination.next_cursor == ours,
        "{path}?page=1&page_size=1 hands out next_cursor {:?}, the bench encodes that row as {:?}: \
         update crates/order-bench/src/paging.rs to the server's cursor::encode (crates/order-http/src/cursor.rs)",
        pagination.next_cursor,
        ours
    );
    Ok(())
}

/// GET and create at each connection count of the sweep, the limit side
/// beside HTTP: one run each, the curve of throughput against latency.
async fn run_sweep(
    plan: &Plan,
    args: &Args,
    fx: &Fixtures,
    control: &tokio_postgres::Client,
) -> anyhow::Result<Vec<Measurement>> {
    let scenarios: Vec<Scenario> = [Scenario::Get, Scenario::Create]
        .into_iter()
        .filter(|s| plan.scenarios.contains(s))
        .collect();
    let mut measurements = Vec::new();
    if plan.sweep.is_empty() || scenarios.is_empty() {
        return Ok(measurements);
    }
    // PostgreSQL's free connection slots (less a margin for everyone else)
    // bound the limit side's connections; more workers than that share them,
    // pipelining on each, and the detail column says so.
    let spare: i64 = control
        .query_one(
            harness_sql!(
                "SELECT current_setting('max_connections')::int8 - count(*) - 10 FROM pg_stat_activity"
            ),
            &[],
        )
        .await?
        .get(0);
    let spare = usize::try_from(spare).unwrap_or(1).max(1);
    for &count in &plan.sweep {
        let connections = count.min(spare);
        let limit = if plan.limit {
            Some(LimitDb::connect(&args.database_url, connections).await?)
        } else {
            None
        };
        let at_count = Fixtures {
            api: Api::new(&args.base_url, count, args.api_key.as_deref())?,
            raw: None,
            limit,
            write_customers: fx.write_customers.clone(),
            read_orders: fx.read_orders.clone(),
            busiest_customer: fx.busiest_customer,
            cursor_pages: fx.cursor_pages.clone(),
        };
        let plan_at_count = Plan {
            concurrency: count,
            ..plan.clone()
        };
        for &scenario in &scenarios {
            for (side, wanted) in [(Side::Limit, plan.limit), (Side::Http, plan.http)] {
                if !wanted {
                    continue;
                }
                let mut probe = ResourceProbe::new(args.server_pid, control);
                let mut measurement =
                    run_one(&plan_at_count, &at_count, scenario, side, &mut probe).await?;
                if side == Side::Limit && connections < count {
                    measurement.detail = format!("{count} workers on {connections} connections");
                }
                report_progress(&measurement);
                measurements.push(measurement);
            }
        }
    }
    Ok(measurements)
}

async fn run_one(
    plan: &Plan,
    fx: &Fixtures,
    scenario: Scenario,
    side: Side,
    probe: &mut ResourceProbe<'_>,
) -> anyhow::Result<Measurement> {
    let load = Load {
        concurrency: plan.concurrency,
        warmup: plan.warmup,
        // One lifecycle can outlast the quick preset's 1 s window on a busy
        // machine, and a run without one completed operation fails.
        duration: if plan.quick && scenario == Scenario::Lifecycle {
            plan.duration.max(Duration::from_secs(3))
        } else {
            plan.duration
        },
        max_ops: plan.max_ops,
    };
    let conc = plan.concurrency;
    let page_size = plan.page_size;
    // A list scenario's path, page and (for the customer list) customer.
    let list = |target: ListTarget| {
        let page = if target.depth == ListDepth::First {
            Some(PageAt::Number(1))
        } else {
            fx.cursor_pages
                .iter()
                .find_map(|(t, page)| (*t == target).then_some(*page))
        }
        .ok_or_else(|| anyhow::anyhow!("no cursor page was prepared for {target:?}"))?;
        let path = if target.customer {
            api::customer_orders_path(fx.busiest_customer)
        } else {
            api::all_orders_path()
        };
        anyhow::Ok((path, page, target.customer.then_some(fx.busiest_customer)))
    };
    // A list scenario's path, page and customer; `None` for the others.
    let page = scenario.list_target().map(list).transpose()?;
    let detail = match (scenario, &page) {
        (Scenario::Lifecycle, _) => format!("{LIFECYCLE_REQUESTS} requests per order"),
        (Scenario::Create, _) => "POST /orders".to_owned(),
        (Scenario::Get, _) => format!("{} orders sampled", fx.read_orders.len()),
        (_, Some((_, page, _))) => page.describe(page_size),
        (_, None) => String::new(),
    };
    let raw = || {
        fx.raw
            .clone()
            .ok_or_else(|| anyhow::anyhow!("raw side not connected"))
    };
    let limit = || {
        fx.limit
            .clone()
            .ok_or_else(|| anyhow::anyhow!("limit side not connected"))
    };
    let sql = SqlRun {
        fx,
        scenario,
        conc,
        page_size,
        page: page.as_ref(),
    };
    let (outcome, usage) = match side {
        Side::Raw => sql.measure(raw()?, load, probe).await?,
        Side::Limit => sql.measure(limit()?, load, probe).await?,
        Side::Http => match (scenario, page.clone()) {
            (Scenario::Lifecycle, _) => {
                measure(
                    load,
                    HttpLifecycle {
                        api: fx.api.clone(),
                        customers: fx.write_customers.clone(),
                        concurrency: conc,
                    },
                    probe,
                )
                .await?
            }
            (Scenario::Create, _) => {
                measure(
                    load,
                    HttpCreate {
                        api: fx.api.clone(),
                        customers: fx.write_customers.clone(),
                        concurrency: conc,
                    },
                    probe,
                )
                .await?
            }
            (Scenario::Get, _) => {
                measure(
                    load,
                    HttpGet {
                        api: fx.api.clone(),
                        orders: fx.read_orders.clone(),
                        concurrency: conc,
                    },
                    probe,
                )
                .await?
            }
            (list_scenario, page) => {
                let (path, page, _) =
                    page.ok_or_else(|| anyhow::anyhow!("{} is not a list", list_scenario.name()))?;
                measure(
                    load,
                    HttpList {
                        api: fx.api.clone(),
                        path,
                        page,
                        page_size,
                    },
                    probe,
                )
                .await?
            }
        },
    };
    Ok(Measurement::new(
        scenario, side, conc, detail, &outcome, usage,
    ))
}

/// A scenario's run on one of the SQL sides (raw or limit): the same
/// operation, over that side's connections.
struct SqlRun<'a> {
    fx: &'a Fixtures,
    scenario: Scenario,
    conc: usize,
    page_size: u32,
    /// A list scenario's path, page and customer.
    page: Option<&'a (String, PageAt, Option<Uuid>)>,
}

impl SqlRun<'_> {
    async fn measure<D: baseline::Connections>(
        &self,
        db: D,
        load: Load,
        probe: &mut ResourceProbe<'_>,
    ) -> anyhow::Result<(load::Outcome, probe::WindowUse)> {
        let (fx, concurrency) = (self.fx, self.conc);
        match self.scenario {
            Scenario::Lifecycle => {
                let customers = fx.write_customers.clone();
                let op = baseline::Lifecycle {
                    db,
                    customers,
                    concurrency,
                };
                measure(load, op, probe).await
            }
            Scenario::Create => {
                let customers = fx.write_customers.clone();
                measure(
                    load,
                    baseline::Create {
                        db,
                        customers,
                        concurrency,
                    },
                    probe,
                )
                .await
            }
            Scenario::Get => {
                let orders = fx.read_orders.clone();
                measure(
                    load,
                    baseline::Get {
                        db,
                        orders,
                        concurrency,
                    },
                    probe,
                )
                .await
            }
            list_scenario => {
                let (_, page, customer) = self
                    .page
                    .ok_or_else(|| anyhow::anyhow!("{} is not a list", list_scenario.name()))?;
                let (page, customer, page_size) = (*page, *customer, self.page_size);
                measure(
                    load,
                    baseline::List {
                        db,
                        customer,
                        page,
                        page_size,
                    },
                    probe,
                )
                .await
            }
        }
    }
}

async fn measure<O: Operation>(
    load: Load,
    op: O,
    probe: &mut ResourceProbe<'_>,
) -> anyhow::Result<(load::Outcome, probe::WindowUse)> {
    drive(load, Arc::new(op), probe).await
}
