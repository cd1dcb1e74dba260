//! Route handlers, grouped by resource.
//!
//! Each module declares its routes once with `routes!`: that one list both
//! registers the handlers and is exported as `ROUTES`, which a test compares
//! with the OpenAPI document so the two cannot drift apart.

/// Declares `ROUTES` and a `configure` that registers exactly those routes.
macro_rules! routes {
    ($($method:ident $path:ident => $handler:ident),* $(,)?) => {
        /// Every `(method, path)` this module serves.
        pub const ROUTES: &[(&str, &str)] = &[$((stringify!($method), $path)),*];

        /// Registers the routes of this module.
        pub fn configure(cfg: &mut actix_web::web::ServiceConfig) {
            crate::routes::register(cfg, vec![$((
                $path,
                // Route-level, so the middleware sees the matched route template.
                actix_web::web::$method()
                    .to($handler)
                    .wrap(actix_web::middleware::from_fn(crate::idempotency::guard)),
            )),*]);
        }
    };
}

/// Registers one resource per path holding every route of that path, so a
/// known path asked with a method it does not serve answers
/// `405 method_not_allowed` with `Allow`, not `404`. Paths keep their order
/// of first declaration (actix matches resources in registration order).
fn register(
    cfg: &mut actix_web::web::ServiceConfig,
    routes: Vec<(&'static str, actix_web::Route)>,
) {
    let mut paths: Vec<(&'static str, Vec<actix_web::Route>)> = Vec::new();
    for (path, route) in routes {
        match paths.iter_mut().find(|(p, _)| *p == path) {
            Some((_, group)) => group.push(route),
            None => paths.push((path, vec![route])),
        }
    }
    for (path, group) in paths {
        let resource = group
            .into_iter()
            .fold(actix_web::web::resource(path), actix_web::Resource::route);
        let allowed = allowed_methods(path);
        cfg.service(resource.default_service(actix_web::web::to(move || {
            let allowed = allowed.clone();
            async move {
                Err::<actix_web::HttpResponse, _>(crate::ApiError::MethodNotAllowed { allowed })
            }
        })));
    }
}

/// The `Allow` value of `path`: its methods, upper case, comma-separated.
fn allowed_methods(path: &str) -> String {
    all_routes()
        .into_iter()
        .filter(|(_, p)| *p == path)
        .map(|(m, _)| m.to_ascii_uppercase())
        .collect::<Vec<_>>()
        .join(", ")
}

pub mod customers;
pub mod operations;
pub mod orders;
pub mod shipments;

/// Every route of the service, for the OpenAPI coverage test.
#[must_use]
pub fn all_routes() -> Vec<(&'static str, &'static str)> {
    [
        orders::ROUTES,
        shipments::ROUTES,
        customers::ROUTES,
        operations::ROUTES,
    ]
    .concat()
}
