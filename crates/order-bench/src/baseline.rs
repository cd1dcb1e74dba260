//! What the two SQL sides have in common: one connection per worker, and one
//! operation of each scenario sent over it. [`crate::raw`] sends the server's
//! own statements, [`crate::limit`] the fewest that do the same work; the
//! operations below drive either, so a scenario's raw and limit runs pick
//! their customers and orders the same way by construction.

use std::future::Future;
use std::sync::Arc;

use uuid::Uuid;

use crate::load::Operation;
use crate::paging::PageAt;
use crate::scenario::pick;

/// One worker's connection of a side: one operation of each scenario.
pub trait Connection: Send + Sync + 'static {
    /// A completed order: created, its lines and discount, confirmed,
    /// processed, fulfilled.
    fn one_lifecycle(
        &self,
        customer: Uuid,
        worker: usize,
        iteration: u64,
    ) -> impl Future<Output = anyhow::Result<()>> + Send;
    /// An order created for `customer`.
    fn one_create(&self, customer: Uuid) -> impl Future<Output = anyhow::Result<()>> + Send;
    /// The order `id` read with its lines.
    fn one_get(&self, id: Uuid) -> impl Future<Output = anyhow::Result<()>> + Send;
    /// A list page (of `customer`'s orders, or of all), without a count.
    fn one_page(
        &self,
        customer: Option<Uuid>,
        at: &PageAt,
        page_size: u32,
    ) -> impl Future<Output = anyhow::Result<()>> + Send;
}

/// A side's connections, one per worker.
pub trait Connections: Send + Sync + 'static {
    /// The connection type.
    type Conn: Connection;
    /// Worker `worker`'s connection.
    ///
    /// # Errors
    /// When the side has none for it.
    fn connection(&self, worker: usize) -> anyhow::Result<&Self::Conn>;
}

/// One completed order.
#[derive(Debug)]
pub struct Lifecycle<D> {
    /// The connections.
    pub db: D,
    /// Customers to order for.
    pub customers: Arc<Vec<Uuid>>,
    /// Workers of the run.
    pub concurrency: usize,
}

impl<D: Connections> Operation for Lifecycle<D> {
    async fn call(&self, worker: usize, iteration: u64) -> anyhow::Result<()> {
        let customer = pick(&self.customers, worker, self.concurrency, iteration)
            .ok_or_else(|| anyhow::anyhow!("no customers to order for"))?;
        self.db
            .connection(worker)?
            .one_lifecycle(customer, worker, iteration)
            .await
    }
}

/// One order created.
#[derive(Debug)]
pub struct Create<D> {
    /// The connections.
    pub db: D,
    /// Customers to order for.
    pub customers: Arc<Vec<Uuid>>,
    /// Workers of the run.
    pub concurrency: usize,
}

impl<D: Connections> Operation for Create<D> {
    async fn call(&self, worker: usize, iteration: u64) -> anyhow::Result<()> {
        let customer = pick(&self.customers, worker, self.concurrency, iteration)
            .ok_or_else(|| anyhow::anyhow!("no customers to order for"))?;
        self.db.connection(worker)?.one_create(customer).await
    }
}

/// One order read by id.
#[derive(Debug)]
pub struct Get<D> {
    /// The connections.
    pub db: D,
    /// Orders to read.
    pub orders: Arc<Vec<Uuid>>,
    /// Workers of the run.
    pub concurrency: usize,
}

impl<D: Connections> Operation for Get<D> {
    async fn call(&self, worker: usize, iteration: u64) -> anyhow::Result<()> {
        let order = pick(&self.orders, worker, self.concurrency, iteration)
            .ok_or_else(|| anyhow::anyhow!("no orders to read"))?;
        self.db.connection(worker)?.one_get(order).await
    }
}

/// One list page.
#[derive(Debug)]
pub struct List<D> {
    /// The connections.
    pub db: D,
    /// `Some` for one customer's orders, `None` for all orders.
    pub customer: Option<Uuid>,
    /// The page read.
    pub page: PageAt,
    /// Orders per page.
    pub page_size: u32,
}

impl<D: Connections> Operation for List<D> {
    async fn call(&self, worker: usize, _iteration: u64) -> anyhow::Result<()> {
        self.db
            .connection(worker)?
            .one_page(self.customer, &self.page, self.page_size)
            .await
    }
}
