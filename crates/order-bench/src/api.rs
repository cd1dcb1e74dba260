//! A thin client of the service's public HTTP API: just the calls the
//! scenarios make, each checking the status code it must answer.
//!
//! Bodies are read in full (the server must produce them) but parsed only
//! where an id is needed, so the load generator spends as little CPU as it
//! can: on a 2-core machine every cycle it burns is taken from the server.

use std::time::Duration;

use anyhow::{bail, Context};
use reqwest::{Client, StatusCode};
use serde::Deserialize;
use serde_json::json;
use uuid::Uuid;

use crate::paging::PageAt;

/// Path prefix of the order API.
const ORDERS: &str = "/api/v1/order-mgmt/orders";
/// Path of the customer collection.
const CUSTOMERS: &str = "/api/v1/customer-mgmt/customers";

/// A client of one server, sharing keep-alive connections between workers.
#[derive(Debug, Clone)]
pub struct Api {
    client: Client,
    base: String,
}

#[derive(Deserialize)]
struct Created {
    data: CreatedData,
}

#[derive(Deserialize)]
struct CreatedData {
    id: Uuid,
}

/// The pagination block of a list answer.
#[derive(Debug, Clone, Deserialize)]
pub struct Pagination {
    /// Items in the whole list: counted up to 10,000, estimated beyond.
    pub total_items: u64,
    /// Whether `total_items` was counted rather than estimated.
    pub total_items_exact: bool,
    /// Where the next page starts (`None` on the last page).
    pub next_cursor: Option<String>,
}

#[derive(Deserialize)]
struct ListAnswer {
    data: Vec<serde_json::Value>,
    pagination: Pagination,
}

/// An order transition endpoint.
#[derive(Debug, Clone, Copy)]
pub enum Transition {
    /// `POST /orders/{id}/confirm`
    Confirm,
    /// `POST /orders/{id}/process`
    Process,
    /// `POST /orders/{id}/fulfill`
    Fulfill,
}

impl Transition {
    fn path(self) -> &'static str {
        match self {
            Self::Confirm => "confirm",
            Self::Process => "process",
            Self::Fulfill => "fulfill",
        }
    }
}

impl Api {
    /// A client of the server at `base` (e.g. `http://127.0.0.1:8081`) keeping
    /// up to `connections` idle keep-alive connections, sending `api_key` if given.
    ///
    /// # Errors
    /// When the HTTP client cannot be built.
    pub fn new(base: &str, connections: usize, api_key: Option<&str>) -> anyhow::Result<Self> {
        let mut headers = reqwest::header::HeaderMap::new();
        if let Some(key) = api_key {
            let mut value = reqwest::header::HeaderValue::from_str(&format!("Bearer {key}"))
                .context("the API key is not a valid header value")?;
            value.set_sensitive(true);
            headers.insert(reqwest::header::AUTHORIZATION, value);
        }
        let client = Client::builder()
            .default_headers(headers)
            .no_proxy()
            .tcp_nodelay(true)
            .pool_max_idle_per_host(connections)
            .pool_idle_timeout(Duration::from_secs(300))
            .connect_timeout(Duration::from_secs(5))
            .timeout(Duration::from_secs(30))
            .build()
            .context("cannot build the HTTP client")?;
        Ok(Self {
            client,
            base: base.trim_end_matches('/').to_owned(),
        })
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Waits (at most `patience`) until `GET /ready` answers 200.
    ///
    /// # Errors
    /// When the server is still not ready after `patience`.
    pub async fn wait_ready(&self, patience: Duration) -> anyhow::Result<()> {
        let deadline = tokio::time::Instant::now() + patience;
        let mut last = String::from("no answer yet");
        while tokio::time::Instant::now() < deadline {
            match self.client.get(self.url("/ready")).send().await {
                Ok(answer) if answer.status() == StatusCode::OK => return Ok(()),
                Ok(answer) => last = format!("status {}", answer.status()),
                Err(error) => last = error.to_string(),
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        bail!(
            "server at {} not ready after {patience:?}: {last}",
            self.base
        )
    }

    /// Registers a customer; returns its id.
    ///
    /// # Errors
    /// Unless the server answers 201 with an id.
    pub async fn create_customer(&self, name: &str, email: &str) -> anyhow::Result<Uuid> {
        let body = json!({ "name": name, "email": email, "source": "bench" });
        let answer = self
            .client
            .post(self.url(CUSTOMERS))
            .json(&body)
            .send()
            .await?;
        Ok(expect_json::<Created>(answer, StatusCode::CREATED)
            .await?
            .data
            .id)
    }

    /// Creates a USD order for `customer`; returns its id.
    ///
    /// # Errors
    /// Unless the server answers 201 with an id.
    pub async fn create_order(&self, customer: Uuid) -> anyhow::Result<Uuid> {
        let body = json!({ "customer_id": customer, "currency": "USD" });
        let answer = self
            .client
            .post(self.url(ORDERS))
            .json(&body)
            .send()
            .await?;
        Ok(expect_json::<Created>(answer, StatusCode::CREATED)
            .await?
            .data
            .id)
    }

    /// Adds a USD line to `order`.
    ///
    /// # Errors
    /// Unless the server answers 201.
    pub async fn add_line(
        &self,
        order: Uuid,
        product: Uuid,
        quantity: i64,
        unit_price: i64,
    ) -> anyhow::Result<()> {
        let body = json!({
            "product_id": product,
            "quantity": quantity,
            "unit_price": unit_price,
            "currency": "USD",
            "tax_rate": crate::scenario::LIFECYCLE_TAX_RATE,
        });
        let answer = self
            .client
            .post(self.url(&format!("{ORDERS}/{order}/lines")))
            .json(&body)
            .send()
            .await?;
        expect_status(answer, StatusCode::CREATED).await
    }

    /// `POST /orders/{id}/discounts`: the lifecycle's percentage discount.
    ///
    /// # Errors
    /// Unless the server answers 201.
    pub async fn add_discount(&self, order: Uuid) -> anyhow::Result<()> {
        let body = json!({
            "kind": "percentage",
            "percent": crate::scenario::LIFECYCLE_DISCOUNT_PERCENT,
            "code": "BENCH",
        });
        let answer = self
            .client
            .post(self.url(&format!("{ORDERS}/{order}/discounts")))
            .json(&body)
            .send()
            .await?;
        expect_status(answer, StatusCode::CREATED).await
    }

    /// Moves `order` along its lifecycle.
    ///
    /// # Errors
    /// Unless the server answers 200.
    pub async fn transition(&self, order: Uuid, transition: Transition) -> anyhow::Result<()> {
        let answer = self
            .client
            .post(self.url(&format!("{ORDERS}/{order}/{}", transition.path())))
            .send()
            .await?;
        expect_status(answer, StatusCode::OK).await
    }

    /// `GET /orders/{id}`.
    ///
    /// # Errors
    /// Unless the server answers 200.
    pub async fn get_order(&self, order: Uuid) -> anyhow::Result<()> {
        let answer = self
            .client
            .get(self.url(&format!("{ORDERS}/{order}")))
            .send()
            .await?;
        expect_status(answer, StatusCode::OK).await
    }

    /// `GET {path}?page=&page_size=` or `?after=&page_size=`, body read but
    /// not parsed.
    ///
    /// # Errors
    /// Unless the server answers 200.
    pub async fn get_page(&self, path: &str, at: &PageAt, page_size: u32) -> anyhow::Result<()> {
        let answer = self
            .client
            .get(self.url(&page_query(path, at, page_size)))
            .send()
            .await?;
        expect_status(answer, StatusCode::OK).await
    }

    /// Like [`Api::get_page`], parsed: its pagination and item count.
    ///
    /// # Errors
    /// Unless the server answers 200 with a list body.
    pub async fn inspect_page(
        &self,
        path: &str,
        at: &PageAt,
        page_size: u32,
    ) -> anyhow::Result<(Pagination, usize)> {
        let answer = self
            .client
            .get(self.url(&page_query(path, at, page_size)))
            .send()
            .await?;
        let list = expect_json::<ListAnswer>(answer, StatusCode::OK).await?;
        Ok((list.pagination, list.data.len()))
    }
}

/// Path of the list of all orders.
pub fn all_orders_path() -> String {
    ORDERS.to_owned()
}

/// Path of the list of one customer's orders.
pub fn customer_orders_path(customer: Uuid) -> String {
    format!("{ORDERS}/customer/{customer}")
}

fn page_query(path: &str, at: &PageAt, page_size: u32) -> String {
    format!("{path}?{}&page_size={page_size}", at.query())
}

async fn expect_status(answer: reqwest::Response, expected: StatusCode) -> anyhow::Result<()> {
    let status = answer.status();
    let body = answer.bytes().await.context("reading the body")?;
    if status != expected {
        bail!("expected {expected}, got {status}: {}", snippet(&body));
    }
    Ok(())
}

async fn expect_json<T: serde::de::DeserializeOwned>(
    answer: reqwest::Response,
    expected: StatusCode,
) -> anyhow::Result<T> {
    let status = answer.status();
    let body = answer.bytes().await.context("reading the body")?;
    if status != expected {
        bail!("expected {expected}, got {status}: {}", snippet(&body));
    }
    serde_json::from_slice(&body).with_context(|| format!("unexpected body: {}", snippet(&body)))
}

fn snippet(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    text.chars().take(300).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn list_paths_carry_the_page_or_the_cursor() {
        let customer = Uuid::nil();
        assert_eq!(
            page_query(&customer_orders_path(customer), &PageAt::Number(7), 20),
            format!("/api/v1/order-mgmt/orders/customer/{customer}?page=7&page_size=20")
        );
        assert_eq!(
            page_query(&all_orders_path(), &PageAt::Number(1), 5),
            "/api/v1/order-mgmt/orders?page=1&page_size=5"
        );
        let cursor = crate::paging::ListCursor {
            created_at: chrono::DateTime::from_timestamp_micros(1_000_001).unwrap(),
            id: Uuid::from_u128(0xab),
        };
        assert_eq!(
            page_query(&all_orders_path(), &PageAt::After { cursor, depth: 1 }, 20),
            "/api/v1/order-mgmt/orders?after=1000001.000000000000000000000000000000ab&page_size=20"
        );
    }

    #[test]
    fn long_error_bodies_are_cut() {
        assert_eq!(snippet(&[b'x'; 1000]).len(), 300);
    }
}
