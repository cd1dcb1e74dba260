//! What every handler test shares: fixtures, the mocked ports behind the real
//! use cases, and the one-request test service.

pub use std::sync::Arc;

pub use actix_web::http::header;
pub use actix_web::middleware::from_fn;
pub use actix_web::{test, App};
pub use chrono::{TimeZone, Utc};
pub use order_app::idempotency::{
    Claim, ClaimTerms, ClaimedKey, IdempotencyKey, MockIdempotencyStore, Outcome,
};
pub use order_app::ports::*;
pub use order_app::{Customer, NewCustomer};
pub use order_app::{Customers, OrderPorts, Orders, Page, RepositoryError};
pub use order_domain::*;
pub use order_http::idempotency::Idempotency;
pub use order_http::observe::observe_request;
pub use order_http::{configure, ApiState, Metrics};
pub use serde_json::{json, Value};
pub use uuid::Uuid;

pub(crate) const ORDERS: &str = "/api/v1/order-mgmt/orders";

pub(crate) fn now() -> chrono::DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 12, 30, 12, 0, 0).unwrap()
}

pub(crate) fn pending_order() -> Order {
    let mut order = Order::create(
        NewOrder {
            id: OrderId::from_uuid(Uuid::now_v7()),
            number: OrderNumber::new(2025, 89_928).unwrap(),
            customer_id: CustomerId::from_uuid(Uuid::now_v7()),
            company_id: None,
            currency: Currency::USD,
            tax_mode: order_domain::TaxMode::default(),
        },
        now(),
    );
    order.take_events();
    order
}

pub(crate) fn order_with_lines() -> Order {
    let mut order = pending_order();
    for (q, cents) in [(3, 10_000), (2, 7_500)] {
        order
            .add_line(
                NewLine {
                    line_id: LineId::from_uuid(Uuid::now_v7()),
                    product_id: ProductId::from_uuid(Uuid::now_v7()),
                    quantity: Quantity::new(q).unwrap(),
                    unit_price: Money::new(cents, Currency::USD),
                    snapshot: ProductSnapshot::new(Some("Widget".into()), Some("W-1".into()))
                        .unwrap(),
                    tax: order_domain::LineTax::default(),
                },
                now(),
            )
            .unwrap();
    }
    order.take_events();
    order
}

pub(crate) fn order_in(status: OrderStatus) -> Order {
    let mut order = order_with_lines();
    let steps: &[OrderStatus] = match status {
        OrderStatus::Pending => &[],
        OrderStatus::Confirmed => &[OrderStatus::Confirmed],
        OrderStatus::Processing => &[OrderStatus::Confirmed, OrderStatus::Processing],
        OrderStatus::Fulfilled => &[
            OrderStatus::Confirmed,
            OrderStatus::Processing,
            OrderStatus::Fulfilled,
        ],
        OrderStatus::Cancelled => &[OrderStatus::Cancelled],
    };
    for step in steps {
        match step {
            OrderStatus::Confirmed => order.confirm(now()).unwrap(),
            OrderStatus::Processing => order.start_processing(now()).unwrap(),
            OrderStatus::Fulfilled => order.mark_fulfilled(now()).unwrap(),
            _ => order.cancel(None, now()).unwrap(),
        }
    }
    order.take_events();
    order
}

pub(crate) fn clock_for_idempotency() -> Arc<dyn Clock> {
    let mut clock = MockClock::new();
    clock.expect_now().return_const(now());
    Arc::new(clock)
}

#[derive(Default)]
pub(crate) struct Mocks {
    pub(crate) orders: MockOrderRepository,
    pub(crate) edits: MockOrderEditRepository,
    pub(crate) numbers: MockOrderNumberAllocator,
    pub(crate) directory: MockCustomerDirectory,
    pub(crate) customers: MockCustomerRepository,
    pub(crate) health: MockStorageHealth,
    pub(crate) idempotency: MockIdempotencyStore,
}

impl Mocks {
    pub(crate) fn new() -> Self {
        Self::default()
    }

    /// `find_by_id` answers `order` for its id and nothing otherwise; `update` succeeds.
    pub(crate) fn stored(mut self, order: &Order) -> Self {
        let order = order.clone();
        self.orders
            .expect_find_by_id()
            .returning(move |id| Ok((id == order.id()).then(|| order.clone())));
        self.orders.expect_update().returning(|_, _, _| Ok(()));
        self
    }

    pub(crate) fn state(self) -> ApiState {
        let mut clock = MockClock::new();
        clock.expect_now().return_const(now());
        let mut ids = MockIdGenerator::new();
        ids.expect_new_id().returning(Uuid::now_v7);
        let (clock, ids): (Arc<dyn Clock>, Arc<dyn IdGenerator>) = (Arc::new(clock), Arc::new(ids));
        ApiState {
            orders: Arc::new(Orders::new(OrderPorts {
                orders: Arc::new(self.orders),
                edits: Arc::new(self.edits),
                numbers: Arc::new(self.numbers),
                customers: Arc::new(self.directory),
                clock: clock.clone(),
                ids: ids.clone(),
            })),
            customers: Arc::new(Customers::new(Arc::new(self.customers), clock, ids)),
            health: Arc::new(self.health),
            metrics: Metrics::new().unwrap(),
            idempotency: Idempotency::new(
                Arc::new(self.idempotency),
                clock_for_idempotency(),
                ClaimTerms {
                    lease: chrono::Duration::seconds(60),
                    retention: chrono::Duration::hours(24),
                },
            ),
            auth: order_http::auth::Auth::off(),
        }
    }
}

/// Sends one request to a fresh app and returns status, headers and JSON body.
pub(crate) async fn call(mocks: Mocks, req: test::TestRequest) -> (u16, header::HeaderMap, Value) {
    let app = test::init_service(
        App::new()
            .wrap(from_fn(observe_request))
            .configure(configure(mocks.state())),
    )
    .await;
    let response = test::call_service(&app, req.to_request()).await;
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let body = test::read_body(response).await;
    let json = if body.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(&body).unwrap()
    };
    (status, headers, json)
}

pub(crate) fn problem(status: u16, headers: &header::HeaderMap, body: &Value, code: &str) {
    assert_eq!(body["code"], code, "{body}");
    assert_eq!(body["status"], status, "{body}");
    assert_eq!(
        headers.get(header::CONTENT_TYPE).unwrap(),
        "application/problem+json"
    );
    assert!(body["type"].as_str().unwrap().ends_with(code));
    assert!(body["title"].is_string() && body["detail"].is_string());
}

pub(crate) fn post_json(uri: &str, body: Value) -> test::TestRequest {
    test::TestRequest::post().uri(uri).set_json(body)
}
