//! # order-http
//!
//! The HTTP adapter of the Order Management service: actix-web routes for the
//! order API (`/api/v1/order-mgmt`) and the minimal customer API
//! (`/api/v1/customer-mgmt`), their JSON bodies, and the single mapping of
//! every error to a status code and an RFC 9457 `application/problem+json` body.
//!
//! Handlers only translate: they parse the request into domain values, run
//! one use case on the blocking pool (diesel is synchronous) and render the
//! result. No business rule is decided here.

pub mod dto;
pub mod error;
pub mod extract;
pub mod routes;

use std::net::TcpListener;

use actix_web::dev::Server;
use actix_web::{web, App, HttpServer};
use order_app::{Customers, Orders};

pub use error::{ApiError, Problem, PROBLEM_JSON};

/// The use cases the routes call.
#[derive(Debug, Clone)]
pub struct ApiState {
    /// Order use cases.
    pub orders: Orders,
    /// Customer use cases.
    pub customers: Customers,
}

/// Registers every route, the body limit and the problem+json 404 fallback.
pub fn configure(state: ApiState) -> impl FnOnce(&mut web::ServiceConfig) {
    move |cfg| {
        cfg.app_data(web::Data::new(state.orders))
            .app_data(web::Data::new(state.customers))
            .app_data(web::PayloadConfig::new(extract::MAX_BODY_BYTES))
            .configure(routes::orders::configure)
            .configure(routes::customers::configure)
            .default_service(web::to(|| async {
                Err::<actix_web::HttpResponse, _>(ApiError::RouteNotFound)
            }));
    }
}

/// Starts serving on an already bound listener (port 0 works, for tests).
///
/// # Errors
/// When the listener cannot be used.
pub fn serve(listener: TcpListener, state: ApiState, workers: usize) -> std::io::Result<Server> {
    let server = HttpServer::new(move || App::new().configure(configure(state.clone())))
        .workers(workers.max(1))
        .listen(listener)?
        .run();
    Ok(server)
}
