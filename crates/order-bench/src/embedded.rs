//! `--store sqlite`: the server on its embedded SQLite store.
//!
//! The file is the server's alone, so this process cannot seed it by SQL or
//! run a baseline on it: orders are made through the API (a few thousand,
//! enough that `get` does not read one cached row), only the HTTP side runs,
//! and only the scenarios that need nothing more: create, get, lifecycle.
//! The report has the same shape as PostgreSQL's, its SQL columns empty.

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use chrono::Utc;
use uuid::Uuid;

use crate::api::Api;
use crate::cli::{Args, Plan};
use crate::probe::ResourceProbe;
use crate::report::{self, Machine, Measurement, Report, Side};
use crate::scenario::Scenario;
use crate::{print_report, report_progress, run_one, seed, Fixtures, WRITE_CUSTOMERS};

/// Seeds through the API, runs the rounds, prints and saves the report;
/// `true` when every run passed.
pub async fn run(args: &Args, mut plan: Plan) -> anyhow::Result<bool> {
    plan.raw = false;
    plan.limit = false;
    plan.http = true;
    plan.scenarios
        .retain(|s| matches!(s, Scenario::Create | Scenario::Get | Scenario::Lifecycle));
    anyhow::ensure!(
        !plan.scenarios.is_empty(),
        "on the embedded store only create, get and lifecycle run"
    );
    let started_at = Utc::now();
    let mut machine = Machine::inspect();
    machine.postgres = "none: the server's embedded SQLite store".to_owned();
    let api = Api::new(&args.base_url, plan.concurrency, args.api_key.as_deref())?;
    api.wait_ready(Duration::from_secs(60)).await?;

    let orders = plan.seed_orders.min(if plan.quick { 500 } else { 5_000 });
    eprintln!(
        "order-bench: embedded store; {} preset, {} connections; seeding {orders} orders through the API",
        if plan.quick { "quick" } else { "full" },
        plan.concurrency
    );
    let seeding = Instant::now();
    let run = Uuid::now_v7().simple().to_string();
    let mut customers = Vec::with_capacity(WRITE_CUSTOMERS);
    for i in 0..WRITE_CUSTOMERS {
        let email = format!("bench-{run}-{i}@bench.example");
        customers.push(
            api.create_customer(&format!("Bench writer {i}"), &email)
                .await
                .context("registering a customer")?,
        );
    }
    let mut read_orders = Vec::new();
    for (customer, n) in customers.iter().cycle().zip(0..orders) {
        let order = api
            .create_order(*customer)
            .await
            .context("seeding an order")?;
        for line in 0..plan.seed_lines {
            let price = 1_000 + i64::try_from(n % 1_000)?;
            api.add_line(order, Uuid::now_v7(), 1 + i64::from(line), price)
                .await
                .context("seeding a line")?;
        }
        read_orders.push(order);
    }
    let seeded = seed::Seeded {
        orders,
        lines: orders * u64::from(plan.seed_lines),
        customers: WRITE_CUSTOMERS as u64,
        seconds: seeding.elapsed().as_secs_f64(),
        busiest_customer: customers[0],
        busiest_customer_orders: orders.div_ceil(WRITE_CUSTOMERS as u64),
    };
    eprintln!(
        "order-bench: {} orders, {} lines, {} customers ({:.1} s seeding)",
        seeded.orders, seeded.lines, seeded.customers, seeded.seconds
    );
    let fixtures = Fixtures {
        api,
        raw: None,
        limit: None,
        write_customers: Arc::new(customers),
        read_orders: Arc::new(read_orders),
        busiest_customer: seeded.busiest_customer,
        cursor_pages: Vec::new(),
    };

    let mut measurements = Vec::new();
    for round in 1..=plan.runs {
        for &scenario in &plan.scenarios {
            let mut probe = ResourceProbe::without_database(args.server_pid);
            let mut measurement =
                run_one(&plan, &fixtures, scenario, Side::Http, &mut probe).await?;
            measurement.round = round;
            report_progress(&measurement);
            measurements.push(measurement);
        }
    }
    machine.load_at_end = report::load_average();
    let medians = report::medians(&measurements);
    let summary = report::summarize(&medians, &measurements);
    let passed = measurements.iter().all(Measurement::passed);
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
        sweep: Vec::new(),
    };
    print_report(&report);
    let path = report::save(&report, &args.out_dir)?;
    println!();
    println!("JSON report: {}", path.display());
    Ok(passed)
}
