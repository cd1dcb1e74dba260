//! Operational endpoints outside the versioned API: liveness, readiness,
//! metrics and the OpenAPI document.

use actix_web::http::header::ContentType;
use actix_web::{web, HttpResponse};
use serde::Serialize;
use utoipa::ToSchema;

use crate::error::ApiError;
use crate::observe::{Health, Metrics};

use crate::paths::{HEALTH, METRICS, OPENAPI, READY};

routes! {
    get HEALTH => health,
    get READY => ready,
    get METRICS => metrics,
    get OPENAPI => openapi,
}

/// Liveness / readiness answer.
#[derive(Debug, Serialize, ToSchema)]
pub struct HealthStatus {
    /// `ok` or `ready`.
    pub status: String,
}

/// The process is up and serving HTTP.
#[utoipa::path(get, path = HEALTH, tag = "operations",
    responses((status = 200, description = "Alive", body = HealthStatus)))]
pub(crate) async fn health() -> HttpResponse {
    HttpResponse::Ok().json(HealthStatus {
        status: "ok".to_owned(),
    })
}

/// The database answers and its schema is migrated: send traffic.
///
/// Either failing is "not ready" (503, the cause in the log), so a load
/// balancer needs to tell only 200 from the rest.
#[utoipa::path(get, path = READY, tag = "operations",
    responses((status = 200, description = "Ready for traffic", body = HealthStatus)))]
pub(crate) async fn ready(health: web::Data<Health>) -> Result<HttpResponse, ApiError> {
    let health = health.get_ref().clone();
    crate::extract::blocking(move || {
        health
            .check()
            .map_err(|e| order_app::AppError::Unavailable(format!("not ready: {e}")))
    })
    .await?;
    Ok(HttpResponse::Ok().json(HealthStatus {
        status: "ready".to_owned(),
    }))
}

/// Prometheus text exposition.
#[utoipa::path(get, path = METRICS, tag = "operations",
    responses((status = 200, description = "Prometheus metrics", body = String, content_type = "text/plain")))]
pub(crate) async fn metrics(
    metrics: web::Data<Metrics>,
    health: web::Data<Health>,
) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4; charset=utf-8")
        .body(metrics.render(health.get_ref().as_ref()))
}

/// This API's OpenAPI 3.1 document.
#[utoipa::path(get, path = OPENAPI, tag = "operations",
    responses((status = 200, description = "The OpenAPI document", body = Object)))]
pub(crate) async fn openapi() -> HttpResponse {
    HttpResponse::Ok()
        .insert_header(ContentType::json())
        .body(crate::openapi::document_json())
}
