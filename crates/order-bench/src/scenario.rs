//! The scenarios, and their HTTP side: what one operation of each sends.
//!
//! Every scenario has a raw-SQL twin in [`crate::raw`]; the two are run one
//! after the other at the same concurrency so their ratio is taken on the
//! same machine, database and minute.

use std::sync::Arc;

use clap::ValueEnum;
use serde::Serialize;
use uuid::Uuid;

use crate::api::{Api, Transition};
use crate::load::Operation;
use crate::paging::PageAt;

/// A benchmark scenario.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, ValueEnum, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Scenario {
    /// Create an order, add 3 lines, confirm, process, fulfil: one operation
    /// is one completed order with taxed lines and a discount (8 requests).
    Lifecycle,
    /// Create an (empty) order.
    Create,
    /// `GET /orders/{id}` on a sample of the seeded orders.
    Get,
    /// `GET /orders`, first page.
    ListFirst,
    /// `GET /orders?after=<cursor>`: the page after the cursor of the row
    /// half-way down the list (depth 500,000 of a million orders), where a
    /// client walking the list with cursors spends most of its pages.
    ListMiddle,
    /// `GET /orders?after=<cursor>`: the page after the cursor of the row
    /// where the last page starts (depth 999,980 of a million orders), read
    /// the way a client must read deep pages since keyset pagination.
    ListDeep,
    /// `GET /orders/customer/{id}` of the busiest customer, first page.
    CustomerFirst,
    /// `GET /orders/customer/{id}?after=<cursor>` of the busiest customer,
    /// half-way down its list (depth 50,000 of its 100,000 orders).
    CustomerMiddle,
    /// `GET /orders/customer/{id}?after=<cursor>` of the busiest customer,
    /// at the depth of its last page (99,980 of its 100,000 orders).
    CustomerDeep,
}

/// Requests per lifecycle operation: create, 3 lines, a discount, 3 transitions.
pub const LIFECYCLE_REQUESTS: u64 = 8;

/// Lines added by each lifecycle operation.
pub const LIFECYCLE_LINES: i64 = 3;

/// Every lifecycle line is taxed at this rate (percent), exclusive of tax.
pub const LIFECYCLE_TAX_RATE: &str = "19";

/// The lifecycle's one discount, a percentage added after its lines.
pub const LIFECYCLE_DISCOUNT_PERCENT: &str = "10";

impl Scenario {
    /// Every scenario, in report order.
    pub const ALL: [Self; 9] = [
        Self::Lifecycle,
        Self::Create,
        Self::Get,
        Self::ListFirst,
        Self::ListMiddle,
        Self::ListDeep,
        Self::CustomerFirst,
        Self::CustomerMiddle,
        Self::CustomerDeep,
    ];

    /// Position in the run: reads first (on the seeded table as it was
    /// seeded), then the writes, which add rows.
    pub fn run_rank(self) -> u8 {
        match self {
            Self::Get => 0,
            Self::ListFirst => 1,
            Self::ListMiddle => 2,
            Self::ListDeep => 3,
            Self::CustomerFirst => 4,
            Self::CustomerMiddle => 5,
            Self::CustomerDeep => 6,
            Self::Create => 7,
            Self::Lifecycle => 8,
        }
    }

    /// Position in the report.
    pub fn report_rank(self) -> usize {
        Self::ALL
            .iter()
            .position(|s| *s == self)
            .unwrap_or(usize::MAX)
    }

    /// Kebab-case name, as on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Self::Lifecycle => "lifecycle",
            Self::Create => "create",
            Self::Get => "get",
            Self::ListFirst => "list-first",
            Self::ListMiddle => "list-middle",
            Self::ListDeep => "list-deep",
            Self::CustomerFirst => "customer-first",
            Self::CustomerMiddle => "customer-middle",
            Self::CustomerDeep => "customer-deep",
        }
    }

    /// What one operation is.
    pub fn unit(self) -> &'static str {
        match self {
            Self::Lifecycle => "orders/s",
            Self::Create => "creates/s",
            _ => "req/s",
        }
    }

    /// The target for HTTP throughput over the limit baseline's
    /// (issue 12), where it sets one; the lists' target is their p99.
    pub fn limit_ratio_target(self) -> Option<f64> {
        match self {
            Self::Get | Self::Create => Some(0.8),
            Self::Lifecycle => Some(0.7),
            _ => None,
        }
    }

    /// The target for this scenario: minimum throughput and, where
    /// set, maximum p99 in milliseconds.
    pub fn target(self) -> Target {
        match self {
            Self::Lifecycle => Target {
                min_per_sec: Some(1_000.0),
                max_p99_ms: None,
            },
            Self::Create => Target {
                min_per_sec: Some(5_000.0),
                max_p99_ms: None,
            },
            Self::Get => Target {
                min_per_sec: Some(10_000.0),
                max_p99_ms: Some(5.0),
            },
            _ => Target {
                min_per_sec: None,
                max_p99_ms: Some(20.0),
            },
        }
    }

    /// What the service description claims for the same operation today.
    pub fn seed_claim(self) -> &'static str {
        match self {
            Self::Lifecycle | Self::Create => "100-200 orders/s",
            Self::Get => "5-10 ms per order",
            _ => "20-50 ms per list",
        }
    }
}

/// Which list a list scenario reads, and where in it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ListTarget {
    /// The busiest customer's orders rather than all orders.
    pub customer: bool,
    /// Where in the list the page is.
    pub depth: ListDepth,
}

/// Where in a list a list scenario reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ListDepth {
    /// `?page=1`.
    First,
    /// `?after=` the cursor of the row half-way down the list.
    Middle,
    /// `?after=` the cursor of the row where the last page starts.
    Last,
}

impl ListDepth {
    /// Rows of a list of `rows` before the page read, in pages of
    /// `page_size`: 0, half the list (rounded down to a page), or all but
    /// the last page.
    pub fn rows_before(self, rows: u64, page_size: u32) -> u64 {
        match self {
            Self::First => 0,
            Self::Middle => rows / 2 / u64::from(page_size.max(1)) * u64::from(page_size.max(1)),
            Self::Last => crate::paging::last_page_depth(rows, page_size),
        }
    }
}

impl Scenario {
    /// The list a list scenario reads (`None` for the others).
    pub fn list_target(self) -> Option<ListTarget> {
        let (customer, depth) = match self {
            Self::ListFirst => (false, ListDepth::First),
            Self::ListMiddle => (false, ListDepth::Middle),
            Self::ListDeep => (false, ListDepth::Last),
            Self::CustomerFirst => (true, ListDepth::First),
            Self::CustomerMiddle => (true, ListDepth::Middle),
            Self::CustomerDeep => (true, ListDepth::Last),
            Self::Lifecycle | Self::Create | Self::Get => return None,
        };
        Some(ListTarget { customer, depth })
    }
}

/// A performance target from the issue.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Target {
    /// Minimum operations per second.
    pub min_per_sec: Option<f64>,
    /// Maximum 99th percentile latency, in milliseconds.
    pub max_p99_ms: Option<f64>,
}

impl Target {
    /// Whether a measured throughput and p99 meet the target.
    pub fn met(self, per_sec: f64, p99_ms: f64) -> bool {
        self.min_per_sec.is_none_or(|min| per_sec >= min)
            && self.max_p99_ms.is_none_or(|max| p99_ms <= max)
    }

    /// Human-readable form, e.g. `>= 10000/s, p99 <= 5 ms`.
    pub fn describe(self) -> String {
        let mut parts = Vec::new();
        if let Some(min) = self.min_per_sec {
            parts.push(format!(">= {min:.0}/s"));
        }
        if let Some(max) = self.max_p99_ms {
            parts.push(format!("p99 <= {max:.0} ms"));
        }
        parts.join(", ")
    }
}

/// Picks element `iteration` of worker `worker`'s walk through `items`:
/// workers start evenly spread and step through the whole set.
pub fn pick<T: Copy>(items: &[T], worker: usize, concurrency: usize, iteration: u64) -> Option<T> {
    if items.is_empty() {
        return None;
    }
    let len = items.len() as u64;
    let start = (worker as u64).wrapping_mul(len) / (concurrency.max(1) as u64);
    let index = usize::try_from(start.wrapping_add(iteration) % len).ok()?;
    items.get(index).copied()
}

/// Deterministic product id for line `line` of lifecycle `iteration` of
/// `worker`: distinct per line, so no two lines of an order merge.
pub fn product_id(worker: usize, iteration: u64, line: i64) -> Uuid {
    Uuid::from_u128(
        (0xb0 << 120)
            | ((worker as u128) << 80)
            | (u128::from(iteration) << 8)
            | (line as u128 & 0xff),
    )
}

/// Quantity and unit price (cents) of line `line` of a lifecycle.
pub fn line_amounts(line: i64) -> (i64, i64) {
    (line + 1, 1_250 * (line + 1))
}

/// HTTP: one complete order lifecycle.
#[derive(Debug)]
pub struct HttpLifecycle {
    /// The server.
    pub api: Api,
    /// Customers to order for.
    pub customers: Arc<Vec<Uuid>>,
    /// Workers of the run (for spreading customers).
    pub concurrency: usize,
}

impl Operation for HttpLifecycle {
    async fn call(&self, worker: usize, iteration: u64) -> anyhow::Result<()> {
        let customer = pick(&self.customers, worker, self.concurrency, iteration)
            .ok_or_else(|| anyhow::anyhow!("no customers to order for"))?;
        let order = self.api.create_order(customer).await?;
        for line in 0..LIFECYCLE_LINES {
            let (quantity, price) = line_amounts(line);
            self.api
                .add_line(order, product_id(worker, iteration, line), quantity, price)
                .await?;
        }
        self.api.add_discount(order).await?;
        for step in [
            Transition::Confirm,
            Transition::Process,
            Transition::Fulfill,
        ] {
            self.api.transition(order, step).await?;
        }
        Ok(())
    }
}

/// HTTP: one order creation.
#[derive(Debug)]
pub struct HttpCreate {
    /// The server.
    pub api: Api,
    /// Customers to order for.
    pub customers: Arc<Vec<Uuid>>,
    /// Workers of the run.
    pub concurrency: usize,
}

impl Operation for HttpCreate {
    async fn call(&self, worker: usize, iteration: u64) -> anyhow::Result<()> {
        let customer = pick(&self.customers, worker, self.concurrency, iteration)
            .ok_or_else(|| anyhow::anyhow!("no customers to order for"))?;
        self.api.create_order(customer).await.map(drop)
    }
}

/// HTTP: one GET by id.
#[derive(Debug)]
pub struct HttpGet {
    /// The server.
    pub api: Api,
    /// Orders to read.
    pub orders: Arc<Vec<Uuid>>,
    /// Workers of the run.
    pub concurrency: usize,
}

impl Operation for HttpGet {
    async fn call(&self, worker: usize, iteration: u64) -> anyhow::Result<()> {
        let order = pick(&self.orders, worker, self.concurrency, iteration)
            .ok_or_else(|| anyhow::anyhow!("no orders to read"))?;
        self.api.get_order(order).await
    }
}

/// HTTP: one list page.
#[derive(Debug)]
pub struct HttpList {
    /// The server.
    pub api: Api,
    /// The list's path.
    pub path: String,
    /// The page read.
    pub page: PageAt,
    /// Orders per page.
    pub page_size: u32,
}

impl Operation for HttpList {
    async fn call(&self, _worker: usize, _iteration: u64) -> anyhow::Result<()> {
        self.api
            .get_page(&self.path, &self.page, self.page_size)
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn workers_start_spread_and_walk_the_whole_set() {
        let items: Vec<u32> = (0..8).collect();
        assert_eq!(pick(&items, 0, 4, 0), Some(0));
        assert_eq!(pick(&items, 1, 4, 0), Some(2));
        assert_eq!(pick(&items, 3, 4, 3), Some(1));
        assert_eq!(pick::<u32>(&[], 0, 1, 0), None);
    }

    #[test]
    fn product_ids_differ_per_line_worker_and_iteration() {
        let ids = [
            product_id(0, 0, 0),
            product_id(0, 0, 1),
            product_id(1, 0, 0),
            product_id(0, 1, 0),
        ];
        for (i, a) in ids.iter().enumerate() {
            for b in &ids[i + 1..] {
                assert_ne!(a, b);
            }
        }
    }

    #[test]
    fn targets_need_both_throughput_and_latency() {
        let get = Scenario::Get.target();
        assert!(get.met(12_000.0, 4.0));
        assert!(!get.met(12_000.0, 6.0));
        assert!(!get.met(9_000.0, 1.0));
        assert_eq!(get.describe(), ">= 10000/s, p99 <= 5 ms");
        assert!(Scenario::ListDeep.target().met(1.0, 19.0));
    }

    #[test]
    fn list_pages_sit_at_the_start_the_middle_and_the_last_page() {
        assert_eq!(ListDepth::First.rows_before(1_000_000, 20), 0);
        assert_eq!(ListDepth::Middle.rows_before(1_000_000, 20), 500_000);
        assert_eq!(ListDepth::Middle.rows_before(100_001, 20), 50_000);
        assert_eq!(ListDepth::Last.rows_before(1_000_000, 20), 999_980);
        assert_eq!(ListDepth::Last.rows_before(100_000, 20), 99_980);
        assert_eq!(
            Scenario::CustomerMiddle.list_target(),
            Some(ListTarget {
                customer: true,
                depth: ListDepth::Middle
            })
        );
        assert_eq!(Scenario::Get.list_target(), None);
    }

    #[test]
    fn every_scenario_has_a_report_place() {
        for (i, s) in Scenario::ALL.iter().enumerate() {
            assert_eq!(s.report_rank(), i);
        }
    }
}
