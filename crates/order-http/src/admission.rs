//! Bounds on the work one server takes on, so a slow or unreachable database
//! turns into quick `503`s with `Retry-After` instead of a pile of hanging
//! requests:
//! - **a bounded queue**: at most `capacity` API requests are in flight
//!   (sized as the connection pool plus a short queue); one more is refused
//!   at once;
//! - **a per-request deadline**: a request not answered within `deadline`
//!   is answered `503`.
//!
//! A request cut by the deadline stops being awaited, but blocking work it
//! started (a statement on a pooled connection) runs until the database's
//! own bounds end it (`statement_timeout`, `lock_timeout`, TCP keepalive):
//! its transaction then either committed whole or not at all, and an
//! `Idempotency-Key` retry meanwhile answers `409 in flight`, then the
//! stored answer. Probes, metrics and docs (paths outside `/api/`) are never
//! refused, so an overloaded server still says how it is.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use actix_web::{web, Error, ResponseError};

use crate::error::ApiError;

/// How much work a server takes on at once, and for how long.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Longest an API request may take before it is answered `503`.
    pub deadline: Duration,
    /// Most API requests in flight at once; one more is answered `503`.
    pub capacity: usize,
}

/// [`Limits`] and the count of requests in flight, shared by every worker.
#[derive(Debug, Clone)]
pub struct Admission {
    limits: Limits,
    in_flight: Arc<AtomicUsize>,
}

/// A place among the requests in flight, given back when dropped.
struct Ticket(Arc<AtomicUsize>);

impl Drop for Ticket {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

impl Admission {
    /// Admission under `limits`, nothing in flight yet.
    #[must_use]
    pub fn new(limits: Limits) -> Self {
        Self {
            limits,
            in_flight: Arc::default(),
        }
    }

    /// A place among the requests in flight, unless all are taken.
    fn enter(&self) -> Option<Ticket> {
        let taken = self.in_flight.fetch_add(1, Ordering::SeqCst);
        let ticket = Ticket(self.in_flight.clone());
        (taken < self.limits.capacity).then_some(ticket)
    }
}

/// Middleware for the whole app: bounded queue and deadline for `/api/`
/// requests; anything else passes straight through.
///
/// # Errors
/// Only what the wrapped service returns.
pub async fn admit(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, Error> {
    let admission = req.app_data::<web::Data<Admission>>().cloned();
    let Some(admission) = admission.filter(|_| req.path().starts_with("/api/")) else {
        return next
            .call(req)
            .await
            .map(ServiceResponse::map_into_boxed_body);
    };
    let Some(_ticket) = admission.enter() else {
        return Ok(req.into_response(ApiError::Overloaded.error_response()));
    };
    // The request cannot be kept (a clone taken before routing would stop
    // the router from recording the path's parameters), so a late answer is
    // an error actix renders through `ApiError`: the same problem+json, 503
    // and `Retry-After`.
    match actix_web::rt::time::timeout(admission.limits.deadline, next.call(req)).await {
        Ok(response) => response.map(ServiceResponse::map_into_boxed_body),
        Err(_) => Err(ApiError::DeadlineExceeded(admission.limits.deadline).into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::middleware::from_fn;
    use actix_web::{test, App, HttpResponse};

    async fn slow() -> HttpResponse {
        actix_web::rt::time::sleep(Duration::from_secs(30)).await;
        HttpResponse::Ok().finish()
    }

    #[actix_web::test]
    async fn a_request_past_its_deadline_is_503_with_retry_after() {
        let app = test::init_service(
            App::new()
                .app_data(web::Data::new(Admission::new(Limits {
                    deadline: Duration::from_millis(50),
                    capacity: 1,
                })))
                .wrap(from_fn(admit))
                .route("/api/slow", web::get().to(slow))
                .route("/api/fast", web::get().to(HttpResponse::Ok)),
        )
        .await;
        let started = std::time::Instant::now();
        // The late answer is an error actix renders, as a server would.
        let Err(error) =
            test::try_call_service(&app, test::TestRequest::get().uri("/api/slow").to_request())
                .await
        else {
            panic!("the deadline did not cut the request");
        };
        let response = error.error_response();
        assert_eq!(response.status(), 503);
        assert!(response.headers().contains_key("retry-after"));
        assert!(started.elapsed() < Duration::from_secs(10));
        let response =
            test::call_service(&app, test::TestRequest::get().uri("/api/fast").to_request()).await;
        assert_eq!(
            response.status(),
            200,
            "the cut request gave its place back"
        );
    }

    #[actix_web::test]
    async fn requests_beyond_the_capacity_are_refused_at_once_but_probes_pass() {
        let admission = Admission::new(Limits {
            deadline: Duration::from_secs(5),
            capacity: 1,
        });
        let held = admission.enter().expect("the first place is free");
        let app = test::init_service(
            App::new()
                .app_data(web::Data::new(admission.clone()))
                .wrap(from_fn(admit))
                .route("/api/fast", web::get().to(HttpResponse::Ok))
                .route("/health", web::get().to(HttpResponse::Ok)),
        )
        .await;
        let response =
            test::call_service(&app, test::TestRequest::get().uri("/api/fast").to_request()).await;
        assert_eq!(response.status(), 503);
        assert_eq!(response.headers().get("retry-after").unwrap(), "1");
        let response =
            test::call_service(&app, test::TestRequest::get().uri("/health").to_request()).await;
        assert_eq!(response.status(), 200);
        drop(held);
        let response =
            test::call_service(&app, test::TestRequest::get().uri("/api/fast").to_request()).await;
        assert_eq!(response.status(), 200);
    }
}
