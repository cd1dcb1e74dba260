//! Request observation: one log line per request with its id, and the
//! Prometheus metrics served at `/metrics`.
//!
//! The request id is taken from `X-Request-Id` when it is a sane token, or
//! generated, and echoed in the response so a client can quote it.

use std::sync::Arc;
use std::time::Instant;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::http::StatusCode;
use actix_web::middleware::Next;
use actix_web::{web, Error};
use order_app::ports::StorageHealth;
use prometheus::{
    Encoder, HistogramOpts, HistogramVec, IntCounterVec, IntGaugeVec, Opts, Registry, TextEncoder,
};
use tracing::Instrument;

/// Header carrying the request id.
pub const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// The service's Prometheus metrics.
#[derive(Clone, Debug)]
pub struct Metrics {
    registry: Registry,
    requests: IntCounterVec,
    latency: HistogramVec,
    transitions: IntCounterVec,
    pool: IntGaugeVec,
    pool_events: IntGaugeVec,
    write_retries: IntCounterVec,
}

impl Metrics {
    /// Creates and registers every metric.
    ///
    /// # Errors
    /// Only if two metrics were given the same name (a programming error).
    pub fn new() -> Result<Self, prometheus::Error> {
        let registry = Registry::new();
        let requests = IntCounterVec::new(
            Opts::new(
                "http_requests_total",
                "HTTP requests by route template and status",
            ),
            &["method", "route", "status"],
        )?;
        let latency = HistogramVec::new(
            HistogramOpts::new(
                "http_request_duration_seconds",
                "HTTP request latency by route template",
            )
            .buckets(vec![
                0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
            ]),
            &["method", "route"],
        )?;
        let transitions = IntCounterVec::new(
            Opts::new(
                "order_transitions_total",
                "Successful order lifecycle changes by kind",
            ),
            &["kind"],
        )?;
        let pool = IntGaugeVec::new(
            Opts::new("db_pool_connections", "Database pool connections by state"),
            &["state"],
        )?;
        let pool_events = IntGaugeVec::new(
            Opts::new(
                "db_pool_acquire_events",
                "Connection acquisitions that waited or timed out, since start",
            ),
            &["outcome"],
        )?;
        let write_retries = IntCounterVec::new(
            Opts::new(
                "order_write_retries_total",
                "Order writes that lost a race: retried after a back-off, or given up (409)",
            ),
            &["outcome"],
        )?;
        for metric in [
            Box::new(requests.clone()) as Box<dyn prometheus::core::Collector>,
            Box::new(write_retries.clone()),
            Box::new(latency.clone()),
            Box::new(transitions.clone()),
            Box::new(pool.clone()),
            Box::new(pool_events.clone()),
        ] {
            registry.register(metric)?;
        }
        Ok(Self {
            registry,
            requests,
            latency,
            transitions,
            pool,
            pool_events,
            write_retries,
        })
    }

    fn observe(&self, method: &str, route: &str, status: StatusCode, seconds: f64) {
        self.requests
            .with_label_values(&[method, route, status.as_str()])
            .inc();
        self.latency
            .with_label_values(&[method, route])
            .observe(seconds);
        if status.is_success() {
            if let Some(kind) = transition_kind(method, route) {
                self.transitions.with_label_values(&[kind]).inc();
            }
        }
    }

    /// The registry behind `/metrics`, for components outside HTTP (the event
    /// relay) to register their own metrics in.
    #[must_use]
    pub fn registry(&self) -> &Registry {
        &self.registry
    }

    /// The Prometheus text exposition of every metric, pool figures refreshed.
    #[must_use]
    pub fn render(&self, health: &dyn StorageHealth) -> String {
        let stats = health.pool_stats();
        let gauge = |v: u64| i64::try_from(v).unwrap_or(i64::MAX);
        self.pool
            .with_label_values(&["max"])
            .set(i64::from(stats.max_size));
        self.pool
            .with_label_values(&["open"])
            .set(i64::from(stats.connections));
        self.pool
            .with_label_values(&["idle"])
            .set(i64::from(stats.idle));
        self.pool
            .with_label_values(&["in_use"])
            .set(i64::from(stats.connections.saturating_sub(stats.idle)));
        self.pool_events
            .with_label_values(&["waited"])
            .set(gauge(stats.waits_total));
        self.pool_events
            .with_label_values(&["timed_out"])
            .set(gauge(stats.timeouts_total));
        let mut buffer = Vec::new();
        if let Err(e) = TextEncoder::new().encode(&self.registry.gather(), &mut buffer) {
            tracing::error!(error = %e, "cannot encode metrics");
        }
        String::from_utf8_lossy(&buffer).into_owned()
    }
}

/// Which lifecycle change a successful request to this route made, if any.
fn transition_kind(method: &str, route: &str) -> Option<&'static str> {
    use crate::paths::{CANCEL, CONFIRM, FULFILL, ORDER, ORDERS, PROCESS};
    [
        ("POST", ORDERS, "create"),
        ("POST", CONFIRM, "confirm"),
        ("POST", PROCESS, "process"),
        ("POST", FULFILL, "fulfill"),
        ("POST", CANCEL, "cancel"),
        ("DELETE", ORDER, "delete"),
    ]
    .into_iter()
    .find(|(m, path, _)| *m == method && *path == route)
    .map(|(_, _, kind)| kind)
}

/// The method as a metric label: standard methods by name, any other token
/// as `OTHER`, so clients cannot create an unbounded number of series.
fn method_label(method: &str) -> &'static str {
    const KNOWN: [&str; 9] = [
        "GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "TRACE", "CONNECT",
    ];
    KNOWN
        .into_iter()
        .find(|known| *known == method)
        .unwrap_or("OTHER")
}

/// The route template of a resource, stored with it when the routes are
/// registered, so that observing a request need not match its path against
/// every resource again (`HttpRequest::match_pattern` does, with regexes, on
/// every call).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RouteTemplate(pub &'static str);

/// The template of the route `req` was routed to: the one stored with its
/// resource, else (Swagger UI, the fallback) whatever actix's map says.
fn route_of(req: &actix_web::HttpRequest) -> std::borrow::Cow<'static, str> {
    match req.app_data::<RouteTemplate>() {
        Some(RouteTemplate(template)) => std::borrow::Cow::Borrowed(template),
        None => std::borrow::Cow::Owned(
            req.match_pattern()
                .unwrap_or_else(|| "unmatched".to_owned()),
        ),
    }
}

fn request_id(req: &ServiceRequest) -> String {
    req.headers()
        .get(&REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .filter(|v| {
            !v.is_empty()
                && v.len() <= 128
                && v.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"-_.:".contains(&b))
        })
        .map_or_else(|| uuid::Uuid::now_v7().to_string(), str::to_owned)
}

/// Middleware: request id, one log line per request, metrics.
///
/// # Errors
/// Only what the wrapped service returns.
pub async fn observe_request(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    let started = Instant::now();
    let id = request_id(&req);
    let metrics = req.app_data::<web::Data<Metrics>>().cloned();
    let method = req.method().clone();
    let path = req.path().to_owned();
    // `key_id` is filled in by the auth middleware: which key, never its text.
    let span = tracing::info_span!("request", request_id = %id, %method, %path, key_id = tracing::field::Empty);
    let mut response = next.call(req).instrument(span.clone()).await?;
    let status = response.status();
    let route = route_of(response.request());
    let elapsed = started.elapsed();
    if let Some(metrics) = metrics {
        metrics.observe(
            method_label(method.as_str()),
            &route,
            status,
            elapsed.as_secs_f64(),
        );
    }
    span.in_scope(|| {
        tracing::info!(
            %route,
            status = status.as_u16(),
            latency_ms = elapsed.as_secs_f64() * 1000.0,
            "request completed"
        );
    });
    if let Ok(value) = HeaderValue::from_str(&id) {
        response.headers_mut().insert(REQUEST_ID, value);
    }
    Ok(response)
}

/// Shared handle on the health port, stored as app data.
pub type Health = Arc<dyn StorageHealth>;

/// Lost races of order writers, counted in `order_write_retries_total`.
impl order_app::ports::ContentionObserver for Metrics {
    fn retried(&self) {
        self.write_retries.with_label_values(&["retried"]).inc();
    }

    fn exhausted(&self) {
        self.write_retries.with_label_values(&["exhausted"]).inc();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lost_races_are_counted_by_outcome() {
        use order_app::ports::ContentionObserver;
        let metrics = Metrics::new().unwrap();
        metrics.retried();
        metrics.retried();
        metrics.exhausted();
        let text = String::from_utf8({
            let mut buffer = Vec::new();
            TextEncoder::new()
                .encode(&metrics.registry.gather(), &mut buffer)
                .unwrap();
            buffer
        })
        .unwrap();
        assert!(
            text.contains("order_write_retries_total{outcome=\"retried\"} 2"),
            "{text}"
        );
        assert!(
            text.contains("order_write_retries_total{outcome=\"exhausted\"} 1"),
            "{text}"
        );
    }

    #[test]
    fn unusual_methods_share_one_metric_label() {
        assert_eq!(method_label("GET"), "GET");
        assert_eq!(method_label("DELETE"), "DELETE");
        assert_eq!(method_label("QUERY"), "OTHER");
        assert_eq!(method_label("X-ANYTHING-1"), "OTHER");
    }

    #[test]
    fn transitions_are_recognised_by_route_template() {
        assert_eq!(
            transition_kind("POST", "/api/v1/order-mgmt/orders/{id}/confirm"),
            Some("confirm")
        );
        assert_eq!(
            transition_kind("POST", "/api/v1/order-mgmt/orders"),
            Some("create")
        );
        assert_eq!(transition_kind("GET", "/api/v1/order-mgmt/orders"), None);
        assert_eq!(
            transition_kind("POST", "/api/v1/order-mgmt/orders/{id}/lines"),
            None
        );
    }
}
