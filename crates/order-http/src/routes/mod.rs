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
                crate::routes::route(stringify!($method))
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
        let resource = group.into_iter().fold(
            actix_web::web::resource(path).app_data(crate::observe::RouteTemplate(path)),
            actix_web::Resource::route,
        );
        let allowed = allowed_methods(path);
        cfg.service(resource.default_service(actix_web::web::to(move || {
            let allowed = allowed.clone();
            async move {
                Err::<actix_web::HttpResponse, _>(crate::ApiError::MethodNotAllowed { allowed })
            }
        })));
    }
}

/// A route answering `method`; a `get` route answers `HEAD` too (RFC 9110
/// section 9.3.2: the same headers, no body; actix leaves the body out).
fn route(method: &str) -> actix_web::Route {
    use actix_web::guard;
    match method {
        "get" => actix_web::web::route().guard(guard::Any(guard::Get()).or(guard::Head())),
        "post" => actix_web::web::post(),
        "put" => actix_web::web::put(),
        "delete" => actix_web::web::delete(),
        other => actix_web::web::route().guard(guard::fn_guard({
            let other = other.to_ascii_uppercase();
            move |ctx| ctx.head().method.as_str() == other
        })),
    }
}

/// The `Allow` value of `path`: its methods, upper case, comma-separated
/// (`HEAD` beside every `GET`).
fn allowed_methods(path: &str) -> String {
    all_routes()
        .into_iter()
        .filter(|(_, p)| *p == path)
        .flat_map(|(m, _)| match m {
            "get" => vec!["GET", "HEAD"],
            "post" => vec!["POST"],
            "put" => vec!["PUT"],
            "delete" => vec!["DELETE"],
            _ => vec![],
        })
        .collect::<Vec<_>>()
        .join(", ")
}

pub mod customers;
pub mod edits;
pub mod operations;
pub mod orders;
pub mod shipments;

/// Every route of the service, for the OpenAPI coverage test.
#[must_use]
pub fn all_routes() -> Vec<(&'static str, &'static str)> {
    [
        orders::ROUTES,
        shipments::ROUTES,
        edits::ROUTES,
        customers::ROUTES,
        operations::ROUTES,
    ]
    .concat()
}
