//! # order-http
//!
//! The HTTP adapter of the Order Management service: actix-web routes for the
//! order API (`/api/v1/order-mgmt`) and the minimal customer API
//! (`/api/v1/customer-mgmt`), their JSON bodies, and the single mapping of
//! every error to a status code and an RFC 9457 `application/problem+json` body.
//!
//! Handlers only translate: they parse the request into domain values, run
//! one use case (through `order_app`'s service traits) on the blocking pool
//! (diesel is synchronous) and render the result. No business rule is decided
//! here. Every path is declared once, in [`paths`].

pub mod admission;
pub mod answer;
pub mod auth;
pub mod cursor;
pub mod dto;
pub mod error;
pub mod extract;
pub mod idempotency;
pub mod observe;
pub mod openapi;
pub mod paths;
pub mod routes;

use std::net::TcpListener;
use std::sync::Arc;

use actix_web::dev::Server;
use actix_web::middleware::from_fn;
use actix_web::{web, App, HttpServer};
use order_app::ports::StorageHealth;
use order_app::{CustomerService, OrderService};
use utoipa::OpenApi;
use utoipa_swagger_ui::SwaggerUi;

pub use error::{ApiError, Problem, PROBLEM_JSON};
pub use observe::Metrics;

/// Everything the routes need: use cases, the health port and the metrics.
#[derive(Clone)]
pub struct ApiState {
    /// Order use cases (`order_app::Orders`, or a mock in tests).
    pub orders: Arc<dyn OrderService>,
    /// Customer use cases (`order_app::Customers`, or a mock in tests).
    pub customers: Arc<dyn CustomerService>,
    /// Storage health, for `/ready` and pool metrics.
    pub health: Arc<dyn StorageHealth>,
    /// Shared by every worker so `/metrics` sees all requests.
    pub metrics: Metrics,
    /// `Idempotency-Key` support for every `POST`.
    pub idempotency: idempotency::Idempotency,
    /// API keys and rate limits ([`auth::Auth::off`] for none).
    pub auth: auth::Auth,
}

impl std::fmt::Debug for ApiState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ApiState").finish_non_exhaustive()
    }
}

/// Registers every route, the body limit, Swagger UI and the problem+json 404 fallback.
///
/// Wrap the app with [`auth::authenticate`] and then [`observe::observe_request`]
/// (as [`serve`] does) for API keys, request ids, logs and metrics.
pub fn configure(state: ApiState) -> impl FnOnce(&mut web::ServiceConfig) {
    move |cfg| {
        cfg.app_data(web::Data::from(state.orders))
            .app_data(web::Data::from(state.customers))
            .app_data(web::Data::new(state.health))
            .app_data(web::Data::new(state.metrics))
            .app_data(web::Data::new(state.idempotency))
            .app_data(web::Data::new(state.auth))
            .app_data(web::PayloadConfig::new(extract::MAX_BODY_BYTES))
            .configure(routes::orders::configure)
            .configure(routes::shipments::configure)
            .configure(routes::edits::configure)
            .configure(routes::customers::configure)
            .configure(routes::operations::configure)
            .service(
                SwaggerUi::new("/docs/{_:.*}")
                    .url("/api-docs/openapi.json", openapi::ApiDoc::openapi()),
            )
            .default_service(web::to(|| async {
                Err::<actix_web::HttpResponse, _>(ApiError::RouteNotFound)
            }));
    }
}

/// How a server stops: when `signal` completes it stops accepting
/// connections, closes kept-alive ones after their current request, and
/// gives the requests in flight up to `grace` to finish before dropping them.
///
/// The caller owns the signal (actix-web's own handling stops at once on
/// SIGINT; a service should drain on SIGTERM and SIGINT alike).
pub struct Stop {
    /// Completes when the server should stop.
    pub signal: std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send>>,
    /// Longest wait for requests in flight once `signal` completed.
    pub grace: std::time::Duration,
}

impl std::fmt::Debug for Stop {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Stop")
            .field("grace", &self.grace)
            .finish_non_exhaustive()
    }
}

/// Starts serving on an already bound listener (port 0 works, for tests),
/// taking on at most what `limits` allow ([`admission`]) and stopping
/// gracefully as `stop` says.
///
/// # Errors
/// When the listener cannot be used.
pub fn serve(
    listener: TcpListener,
    state: ApiState,
    workers: usize,
    limits: admission::Limits,
    stop: Stop,
) -> std::io::Result<Server> {
    let admission = web::Data::new(admission::Admission::new(limits));
    let server = HttpServer::new(move || {
        // The last `wrap` runs first: observe (request id, log line, metrics)
        // around authentication, so refused requests are logged and counted too.
        App::new()
            .app_data(admission.clone())
            .wrap(from_fn(auth::authenticate))
            .wrap(from_fn(admission::admit))
            .wrap(from_fn(observe::observe_request))
            .configure(configure(state.clone()))
    })
    .workers(workers.max(1))
    // actix counts whole seconds; a sub-second grace still gets one.
    .shutdown_timeout(stop.grace.as_secs().max(1))
    .shutdown_signal(stop.signal)
    .listen(listener)?
    .run();
    Ok(server)
}
