//! `GET /api/v1/order-mgmt/orders/{id}/events` through actix's test service,
//! the order use cases mocked (`MockOrderService`).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use actix_web::{test, App};
use order_app::idempotency::{ClaimTerms, MockIdempotencyStore};
use order_app::ports::{MockClock, MockStorageHealth};
use order_app::{AppError, HistoryPage, MockCustomerService, MockOrderService, RecordedEvent};
use order_domain::OrderId;
use order_http::idempotency::Idempotency;
use order_http::{configure, ApiState, Metrics};
use serde_json::{json, Value};
use uuid::Uuid;

fn state(orders: MockOrderService) -> ApiState {
    let mut clock = MockClock::new();
    clock.expect_now().returning(chrono::Utc::now);
    ApiState {
        orders: Arc::new(orders),
        customers: Arc::new(MockCustomerService::new()),
        health: Arc::new(MockStorageHealth::new()),
        metrics: Metrics::new().unwrap(),
        idempotency: Idempotency::new(
            Arc::new(MockIdempotencyStore::new()),
            Arc::new(clock),
            ClaimTerms {
                lease: chrono::Duration::seconds(60),
                retention: chrono::Duration::hours(24),
            },
        ),
        auth: order_http::auth::Auth::off(),
    }
}

async fn get(orders: MockOrderService, uri: &str) -> (u16, Value) {
    let app = test::init_service(App::new().configure(configure(state(orders)))).await;
    let response = test::call_service(&app, test::TestRequest::get().uri(uri).to_request()).await;
    let status = response.status().as_u16();
    let body = test::read_body(response).await;
    (status, serde_json::from_slice(&body).unwrap_or(Value::Null))
}

fn envelope(sequence: u64) -> RecordedEvent {
    RecordedEvent {
        sequence,
        envelope: json!({
            "id": Uuid::now_v7(), "type": "order.cancelled", "sequence": sequence,
            "actor": {"id": "clerk-7", "name": "Ada"}, "reason": "out of stock",
            "data": {"status": {"before": "pending", "after": "cancelled"}, "reason": "out of stock"},
        })
        .to_string(),
    }
}

#[actix_web::test]
async fn the_history_is_the_stored_envelopes_with_the_cursor_of_the_next_page() {
    let id = OrderId::from_uuid(Uuid::now_v7());
    let mut orders = MockOrderService::new();
    orders
        .expect_history()
        .withf(move |order, after, limit| (*order, *after, *limit) == (id, 3, 2))
        .times(1)
        .returning(|_, _, _| {
            Ok(HistoryPage {
                events: vec![envelope(4), envelope(5)],
                next_after: Some(5),
            })
        });
    let (status, body) = get(
        orders,
        &format!("/api/v1/order-mgmt/orders/{id}/events?after=3&limit=2"),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["next_after"], 5);
    assert_eq!(body["data"][0]["sequence"], 4);
    assert_eq!(body["data"][1]["actor"]["name"], "Ada");
    assert_eq!(body["data"][1]["reason"], "out of stock");
    assert_eq!(body["data"][1]["data"]["status"]["before"], "pending");
}

#[actix_web::test]
async fn defaults_are_from_the_start_fifty_at_a_time_and_the_last_page_has_no_next() {
    let mut orders = MockOrderService::new();
    orders
        .expect_history()
        .withf(|_, after, limit| (*after, *limit) == (0, 50))
        .returning(|_, _, _| {
            Ok(HistoryPage {
                events: vec![envelope(1)],
                next_after: None,
            })
        });
    let (status, body) = get(
        orders,
        &format!("/api/v1/order-mgmt/orders/{}/events", Uuid::now_v7()),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["next_after"], Value::Null);
}

#[actix_web::test]
async fn bad_parameters_are_400_naming_the_parameter_and_an_unknown_order_is_404() {
    let id = Uuid::now_v7();
    for (query, field) in [
        ("after=-1", "after"),
        ("after=x", "after"),
        ("after=9223372036854775808", "after"),
        ("limit=0", "limit"),
        ("limit=501", "limit"),
    ] {
        let mut orders = MockOrderService::new();
        orders.expect_history().never();
        let (status, body) = get(
            orders,
            &format!("/api/v1/order-mgmt/orders/{id}/events?{query}"),
        )
        .await;
        assert_eq!(status, 400, "{query}: {body}");
        assert_eq!(body["code"], "invalid_parameter", "{query}");
        assert_eq!(body["field"], field, "{query}: {body}");
    }
    let mut orders = MockOrderService::new();
    orders.expect_history().returning(|id, _, _| {
        Err(AppError::NotFound {
            entity: "order",
            id: id.to_string(),
        })
    });
    let (status, body) = get(orders, &format!("/api/v1/order-mgmt/orders/{id}/events")).await;
    assert_eq!(status, 404, "{body}");
}
