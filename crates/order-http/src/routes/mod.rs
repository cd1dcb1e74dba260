//! Route handlers, grouped by resource.
//!
//! Each module declares its routes once with `routes!`: that one list both
//! registers the handlers and is exported as `ROUTES`, which a test compares
//! with the OpenAPI document so the two cannot drift apart.

/// Declares `ROUTES` and a `configure` that registers exactly those routes.
macro_rules! routes {
    ($($method:ident $path:literal => $handler:ident),* $(,)?) => {
        /// Every `(method, path)` this module serves.
        pub const ROUTES: &[(&str, &str)] = &[$((stringify!($method), $path)),*];

        /// Registers the routes of this module.
        pub fn configure(cfg: &mut actix_web::web::ServiceConfig) {
            $(cfg.route(
                $path,
                // Route-level, so the middleware sees the matched route template.
                actix_web::web::$method()
                    .to($handler)
                    .wrap(actix_web::middleware::from_fn(crate::idempotency::guard)),
            );)*
        }
    };
}

pub mod customers;
pub mod operations;
pub mod orders;

/// Every route of the service, for the OpenAPI coverage test.
#[must_use]
pub fn all_routes() -> Vec<(&'static str, &'static str)> {
    [orders::ROUTES, customers::ROUTES, operations::ROUTES].concat()
}
