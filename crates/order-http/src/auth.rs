//! Who is calling: the `Authorization: Bearer <key>` middleware, the scope
//! each route needs, per-key rate limits, and the [`Access`] extractor the
//! handlers run their use cases with.
//!
//! Every request under `/api/v1/` needs a key (and `/metrics` too when so
//! configured); `/health`, `/ready`, `/docs` and the OpenAPI document stay
//! open. The middleware runs before routing:
//!
//! 1. no key, a malformed, unknown or revoked key: `401` with
//!    `WWW-Authenticate: Bearer`, and one token taken from the client
//!    address's failure bucket (`429` once it is empty, so guessing keys is slow);
//! 2. a valid key over its own rate: `429` with `Retry-After`;
//! 3. a valid key without the route's scope ([`required_scope`]): `403`;
//! 4. otherwise the [`Caller`] goes into the request for [`Access`].
//!
//! With authentication off (local development only) every request passes as
//! [`Access::Open`]. The key's text is never logged, counted or echoed: only
//! its id and name (the actor) travel on.

use std::future::{ready, Ready};
use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderValue};
use actix_web::http::Method;
use actix_web::middleware::Next;
use actix_web::{web, Error, FromRequest, HttpMessage, HttpRequest, ResponseError};
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use order_app::access::{ApiKeys, AuthFailure, Caller, KeyId, Scope};
use order_app::{AppError, CustomerService, OrderService};
use order_domain::{Actor, CustomerId};

use crate::error::ApiError;

/// How requests are authenticated.
#[derive(Debug, Clone)]
pub enum AuthMode {
    /// Every API request needs a valid key (the default).
    Keys(ApiKeys),
    /// No key needed: local development only (the server refuses it on a
    /// non-loopback address).
    Off,
}

/// Token buckets: one per API key for its requests, one per client address
/// for its failed authentications.
#[derive(Clone)]
pub struct RateLimits {
    per_key: Arc<DefaultKeyedRateLimiter<KeyId>>,
    failures: Arc<DefaultKeyedRateLimiter<IpAddr>>,
}

impl RateLimits {
    /// `per_second` requests per key, bursts of up to `burst`; `failures_per_minute`
    /// failed authentications per client address (bursts of as many).
    #[must_use]
    pub fn new(per_second: NonZeroU32, burst: NonZeroU32, failures_per_minute: NonZeroU32) -> Self {
        Self {
            per_key: Arc::new(RateLimiter::keyed(
                Quota::per_second(per_second).allow_burst(burst),
            )),
            failures: Arc::new(RateLimiter::keyed(Quota::per_minute(failures_per_minute))),
        }
    }

    /// Forgets buckets that are full again, so one-off keys and addresses do
    /// not pile up; call it now and then (the server does, every minute).
    pub fn forget_idle(&self) {
        self.per_key.retain_recent();
        self.failures.retain_recent();
        self.per_key.shrink_to_fit();
        self.failures.shrink_to_fit();
    }
}

impl std::fmt::Debug for RateLimits {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RateLimits").finish_non_exhaustive()
    }
}

impl Auth {
    /// Authentication off (local development, and tests of everything else).
    #[must_use]
    pub fn off() -> Self {
        let many = NonZeroU32::MAX;
        Self {
            mode: AuthMode::Off,
            limits: RateLimits::new(many, many, many),
            protect_metrics: false,
        }
    }
}

/// Everything the middleware needs, stored as app data.
#[derive(Clone)]
pub struct Auth {
    /// Keys or off.
    pub mode: AuthMode,
    /// Per-key and per-address limits.
    pub limits: RateLimits,
    /// Whether `/metrics` needs a key with `admin`.
    pub protect_metrics: bool,
}

impl std::fmt::Debug for Auth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Auth")
            .field("enabled", &matches!(self.mode, AuthMode::Keys(_)))
            .field("protect_metrics", &self.protect_metrics)
            .finish_non_exhaustive()
    }
}

/// The scope a request needs, from its method and route template: reading
/// orders `orders:read`; process, fulfil (and shipping, later) `orders:fulfil`;
/// every other change of an order `orders:write`; customers likewise with
/// `customers:*`; the event feed `events:read`; `/metrics` `admin`.
/// `None` for routes that need no key.
#[must_use]
pub fn required_scope(method: &Method, route: &str, protect_metrics: bool) -> Option<Scope> {
    /// Order actions that belong to the warehouse, not the shop.
    /// Fulfilment covers `/fulfill` and `/fulfillments/...` alike.
    const FULFILMENT: [&str; 4] = ["/process", "/fulfil", "/ship", "/deliver"];
    let reading = matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS);
    if route == "/metrics" {
        return protect_metrics.then_some(Scope::Admin);
    }
    if let Some(rest) = route.strip_prefix("/api/v1/order-mgmt/orders") {
        return Some(if reading {
            Scope::OrdersRead
        } else if FULFILMENT.iter().any(|action| rest.contains(action)) {
            Scope::OrdersFulfil
        } else {
            Scope::OrdersWrite
        });
    }
    if route.starts_with("/api/v1/customer-mgmt/") {
        return Some(if reading {
            Scope::CustomersRead
        } else {
            Scope::CustomersWrite
        });
    }
    if route.starts_with("/api/v1/order-mgmt/events") {
        return Some(Scope::EventsRead);
    }
    // Any other API path still needs a key (it answers 404 to callers with one).
    route.starts_with("/api/v1/").then_some(Scope::OrdersRead)
}

/// Whether `path` needs a key at all (paths outside the API are open, but `/metrics` may not be).
fn needs_key(path: &str, protect_metrics: bool) -> bool {
    path.starts_with("/api/v1/") || path == "/api/v1" || (protect_metrics && path == "/metrics")
}

/// What the request presented in `Authorization`.
fn presented_key(req: &ServiceRequest) -> Result<&str, AuthFailure> {
    let value = req
        .headers()
        .get(header::AUTHORIZATION)
        .ok_or(AuthFailure::Missing)?;
    let text = value.to_str().map_err(|_| AuthFailure::Malformed)?;
    let (scheme, token) = text.trim().split_once(' ').ok_or(AuthFailure::Malformed)?;
    if !scheme.eq_ignore_ascii_case("bearer") {
        return Err(AuthFailure::Malformed);
    }
    Ok(token.trim())
}

/// A problem+json answer for `error`, without running the handler.
fn refuse(req: ServiceRequest, error: &ApiError) -> ServiceResponse<BoxBody> {
    let response = error.error_response();
    req.into_response(response)
}

fn too_many(req: ServiceRequest, wait: Duration) -> ServiceResponse<BoxBody> {
    refuse(
        req,
        &ApiError::RateLimited {
            retry_after_secs: wait.as_secs() + u64::from(wait.subsec_nanos() > 0),
        },
    )
}

/// Middleware: authenticate, rate-limit and check the scope (see the module docs).
///
/// # Errors
/// Only what the wrapped service returns.
pub async fn authenticate(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, Error> {
    let Some(auth) = req.app_data::<web::Data<Auth>>().cloned() else {
        // Not configured (a test app without auth): fail closed for the API.
        if needs_key(req.path(), false) {
            return Ok(refuse(
                req,
                &ApiError::App(AppError::Unauthenticated(AuthFailure::Missing)),
            ));
        }
        return next
            .call(req)
            .await
            .map(ServiceResponse::map_into_boxed_body);
    };
    let keys = match &auth.mode {
        AuthMode::Keys(keys) if needs_key(req.path(), auth.protect_metrics) => keys.clone(),
        AuthMode::Keys(_) => {
            return next
                .call(req)
                .await
                .map(ServiceResponse::map_into_boxed_body)
        }
        AuthMode::Off => {
            req.extensions_mut().insert(Access::Open);
            return next
                .call(req)
                .await
                .map(ServiceResponse::map_into_boxed_body);
        }
    };

    let outcome = match presented_key(&req) {
        Err(failure) => Err(AppError::Unauthenticated(failure)),
        Ok(token) => {
            let token = token.to_owned();
            match web::block(move || keys.authenticate(&token)).await {
                Ok(outcome) => outcome,
                Err(e) => return Ok(refuse(req, &ApiError::Blocking(e.to_string()))),
            }
        }
    };
    let caller = match outcome {
        Ok(caller) => caller,
        Err(error @ AppError::Unauthenticated(_)) => {
            let address = req
                .peer_addr()
                .map_or(IpAddr::from([0, 0, 0, 0]), |a| a.ip());
            if let Err(not_until) = auth.limits.failures.check_key(&address) {
                tracing::warn!(%address, "authentication failures over the limit");
                return Ok(too_many(
                    req,
                    not_until.wait_time_from(DefaultClock::default().now()),
                ));
            }
            return Ok(refuse(req, &ApiError::App(error)));
        }
        Err(other) => return Ok(refuse(req, &ApiError::App(other))),
    };
    if let Err(not_until) = auth.limits.per_key.check_key(&caller.key_id) {
        tracing::info!(key_id = %caller.key_id, "API key over its rate limit");
        return Ok(too_many(
            req,
            not_until.wait_time_from(DefaultClock::default().now()),
        ));
    }
    let route = req.match_pattern().unwrap_or_else(|| req.path().to_owned());
    if let Some(scope) = required_scope(req.method(), &route, auth.protect_metrics) {
        if let Err(error) = caller.require(scope) {
            return Ok(refuse(req, &ApiError::App(error)));
        }
    }
    tracing::Span::current().record("key_id", tracing::field::display(caller.key_id));
    req.extensions_mut().insert(Access::Key(caller));
    next.call(req)
        .await
        .map(ServiceResponse::map_into_boxed_body)
}

/// Who a request is running for, for the handlers: the authenticated key,
/// or open access when authentication is off.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Access {
    /// Authenticated with this key.
    Key(Caller),
    /// Authentication is off (local development).
    Open,
}

impl Access {
    /// The customer the caller is restricted to, if any.
    #[must_use]
    pub fn customer(&self) -> Option<CustomerId> {
        match self {
            Self::Key(caller) => caller.customer,
            Self::Open => None,
        }
    }

    /// The caller's key, if authenticated.
    #[must_use]
    pub const fn caller(&self) -> Option<&Caller> {
        match self {
            Self::Key(caller) => Some(caller),
            Self::Open => None,
        }
    }

    /// The actor of the changes this request makes: the key's id and name;
    /// `anonymous` when authentication is off.
    #[must_use]
    pub fn actor(&self) -> Actor {
        match self {
            Self::Key(caller) => Actor::new(&caller.key_id.to_string(), Some(&caller.name))
                // A key's name is validated when it is made; should a stored one
                // not be a valid actor name, the id alone still says who it was.
                .or_else(|_| Actor::new(&caller.key_id.to_string(), None))
                .unwrap_or_else(|_| Actor::anonymous()),
            Self::Open => Actor::anonymous(),
        }
    }
}

impl Access {
    /// The middleware's verdict for `req`. Without one, access is open only
    /// if authentication is configured off; otherwise (the middleware is not
    /// installed) the request is refused rather than served unrestricted.
    fn of(req: &HttpRequest) -> Result<Self, ApiError> {
        if let Some(access) = req.extensions().get::<Self>() {
            return Ok(access.clone());
        }
        match req.app_data::<web::Data<Auth>>().map(|auth| &auth.mode) {
            Some(AuthMode::Off) => Ok(Self::Open),
            _ => Err(ApiError::App(AppError::Unauthenticated(
                AuthFailure::Missing,
            ))),
        }
    }
}

impl FromRequest for Access {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(Self::of(req))
    }
}

/// The order use cases as the caller may use them: restricted to its
/// customer when its key is bound to one (see `Orders::restricted_to`).
#[derive(Clone)]
pub struct CallerOrders(Arc<dyn OrderService>);

impl CallerOrders {
    /// The use cases, to move onto the blocking pool.
    #[must_use]
    pub fn into_inner(self) -> Arc<dyn OrderService> {
        self.0
    }
}

impl std::fmt::Debug for CallerOrders {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CallerOrders").finish_non_exhaustive()
    }
}

impl FromRequest for CallerOrders {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(Access::of(req).and_then(|access| {
            let orders = req
                .app_data::<web::Data<dyn OrderService>>()
                .ok_or_else(|| not_configured("order"))?
                .clone()
                .into_inner();
            Ok(Self(match access.customer() {
                None => orders,
                Some(only) => orders.restricted_to(only),
            }))
        }))
    }
}

/// The customer use cases as the caller may use them (its own customer
/// only, when its key is bound to one).
#[derive(Clone)]
pub struct CallerCustomers(Arc<dyn CustomerService>);

impl CallerCustomers {
    /// The use cases, to move onto the blocking pool.
    #[must_use]
    pub fn into_inner(self) -> Arc<dyn CustomerService> {
        self.0
    }
}

impl std::fmt::Debug for CallerCustomers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CallerCustomers").finish_non_exhaustive()
    }
}

impl FromRequest for CallerCustomers {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(Access::of(req).and_then(|access| {
            let customers = req
                .app_data::<web::Data<dyn CustomerService>>()
                .ok_or_else(|| not_configured("customer"))?
                .clone()
                .into_inner();
            Ok(Self(match access.customer() {
                None => customers,
                Some(only) => customers.restricted_to(only),
            }))
        }))
    }
}

fn not_configured(what: &str) -> ApiError {
    ApiError::App(AppError::Unexpected(format!(
        "{what} use cases are not configured"
    )))
}

/// `Retry-After` for a `429`.
pub(crate) fn retry_after(secs: u64) -> HeaderValue {
    HeaderValue::from(secs.max(1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_route_needs_the_scope_of_what_it_does() {
        let get = Method::GET;
        let post = Method::POST;
        let orders = "/api/v1/order-mgmt/orders";
        let cases = [
            (&get, orders.to_owned(), Some(Scope::OrdersRead)),
            (&post, orders.to_owned(), Some(Scope::OrdersWrite)),
            (&get, format!("{orders}/{{id}}"), Some(Scope::OrdersRead)),
            (
                &Method::DELETE,
                format!("{orders}/{{id}}"),
                Some(Scope::OrdersWrite),
            ),
            (
                &post,
                format!("{orders}/{{id}}/confirm"),
                Some(Scope::OrdersWrite),
            ),
            (
                &post,
                format!("{orders}/{{id}}/cancel"),
                Some(Scope::OrdersWrite),
            ),
            (
                &post,
                format!("{orders}/{{id}}/process"),
                Some(Scope::OrdersFulfil),
            ),
            (
                &post,
                format!("{orders}/{{id}}/fulfill"),
                Some(Scope::OrdersFulfil),
            ),
            (
                &post,
                format!("{orders}/{{id}}/lines"),
                Some(Scope::OrdersWrite),
            ),
            (
                &Method::PUT,
                format!("{orders}/{{id}}/lines/{{line_id}}"),
                Some(Scope::OrdersWrite),
            ),
            (
                &post,
                format!("{orders}/{{id}}/edits"),
                Some(Scope::OrdersWrite),
            ),
            (
                &post,
                format!("{orders}/{{id}}/edits/{{edit_id}}/changes"),
                Some(Scope::OrdersWrite),
            ),
            (
                &post,
                format!("{orders}/{{id}}/edits/{{edit_id}}/commit"),
                Some(Scope::OrdersWrite),
            ),
            (
                &Method::DELETE,
                format!("{orders}/{{id}}/edits/{{edit_id}}"),
                Some(Scope::OrdersWrite),
            ),
            (
                &get,
                format!("{orders}/{{id}}/edits/{{edit_id}}"),
                Some(Scope::OrdersRead),
            ),
            (
                &post,
                format!("{orders}/{{id}}/discounts"),
                Some(Scope::OrdersWrite),
            ),
            (
                &post,
                format!("{orders}/{{id}}/fulfillments"),
                Some(Scope::OrdersFulfil),
            ),
            (
                &get,
                format!("{orders}/{{id}}/fulfillments/{{fulfillment_id}}"),
                Some(Scope::OrdersRead),
            ),
            (
                &post,
                format!("{orders}/{{id}}/returns"),
                Some(Scope::OrdersWrite),
            ),
            (
                &get,
                format!("{orders}/{{id}}/events"),
                Some(Scope::OrdersRead),
            ),
            (
                &get,
                "/api/v1/customer-mgmt/customers".to_owned(),
                Some(Scope::CustomersRead),
            ),
            (
                &post,
                "/api/v1/customer-mgmt/customers".to_owned(),
                Some(Scope::CustomersWrite),
            ),
            (
                &get,
                "/api/v1/order-mgmt/events".to_owned(),
                Some(Scope::EventsRead),
            ),
            (
                &get,
                "/api/v1/elsewhere".to_owned(),
                Some(Scope::OrdersRead),
            ),
            (&get, "/health".to_owned(), None),
            (&get, "/docs/".to_owned(), None),
            (&get, "/api-docs/openapi.json".to_owned(), None),
            (&get, "/metrics".to_owned(), None),
        ];
        for (method, route, scope) in cases {
            assert_eq!(
                required_scope(method, &route, false),
                scope,
                "{method} {route}"
            );
        }
        assert_eq!(required_scope(&get, "/metrics", true), Some(Scope::Admin));
    }

    #[test]
    fn every_api_route_of_the_service_needs_a_key() {
        for (method, path) in crate::routes::all_routes() {
            let method: Method = method.to_ascii_uppercase().parse().unwrap();
            let api = path.starts_with("/api/v1/");
            assert_eq!(needs_key(path, false), api, "{path}");
            assert_eq!(
                required_scope(&method, path, false).is_some(),
                api,
                "{method} {path}"
            );
        }
    }
}
