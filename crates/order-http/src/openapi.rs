//! The OpenAPI 3.1 document, generated from the handlers' annotations.
//!
//! Error responses are added here, once, to every operation: they are the same
//! problem+json shape everywhere, and listing them per handler would let the
//! document and the error mapping drift apart.

use std::sync::OnceLock;

use utoipa::openapi::content::ContentBuilder;
use utoipa::openapi::path::{Operation, ParameterBuilder, ParameterIn};
use utoipa::openapi::response::ResponseBuilder;
use utoipa::openapi::{Ref, RefOr, Required};
use utoipa::{Modify, OpenApi};

use crate::routes::{customers, operations, orders};

/// The whole API description.
#[derive(Debug, OpenApi)]
#[openapi(
    info(
        title = "Order Management",
        description = "Orders from creation through fulfilment: lines, exact money, lifecycle \
                       (pending → confirmed → processing → fulfilled, or cancelled).",
    ),
    paths(
        orders::create, orders::list, orders::get_by_number, orders::list_for_customer,
        orders::list_by_status, orders::get, orders::delete, orders::confirm, orders::process,
        orders::fulfill, orders::cancel, orders::add_line, orders::update_line, orders::remove_line,
        customers::create, customers::list, customers::get,
        operations::health, operations::ready, operations::metrics, operations::openapi,
    ),
    components(schemas(crate::error::Problem)),
    modifiers(&ProblemResponses),
    tags(
        (name = "orders", description = "Create, find and list orders"),
        (name = "lifecycle", description = "Confirm, process, fulfil, cancel"),
        (name = "lines", description = "Edit the lines of a pending order"),
        (name = "customers", description = "The minimal customer API the order flow needs"),
        (name = "operations", description = "Health, readiness, metrics, this document"),
    )
)]
pub struct ApiDoc;

/// The document, serialised once.
#[must_use]
pub fn document_json() -> &'static str {
    static JSON: OnceLock<String> = OnceLock::new();
    JSON.get_or_init(|| {
        ApiDoc::openapi()
            .to_pretty_json()
            .unwrap_or_else(|_| "{}".to_owned())
    })
}

/// Adds the problem+json error responses and the request-id header to every operation.
struct ProblemResponses;

impl Modify for ProblemResponses {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        for (path, item) in &mut openapi.paths.paths {
            let api = path.starts_with("/api/v1/");
            let operations = [
                ("get", item.get.as_mut()),
                ("post", item.post.as_mut()),
                ("put", item.put.as_mut()),
                ("delete", item.delete.as_mut()),
            ];
            for (method, operation) in operations {
                let Some(operation) = operation else { continue };
                let statuses: &[(u16, &str)] = match (api, method) {
                    (false, _) if path == "/ready" => {
                        &[(503, "Not ready: the database is unreachable")]
                    }
                    (false, _) => &[],
                    (true, "get") => &[
                        (400, "Malformed path or query parameter"),
                        (404, "No such resource"),
                        (500, "Internal error (the detail carries a reference id)"),
                        (503, "Database unavailable; retry after Retry-After seconds"),
                    ],
                    _ => &[
                        (400, "Malformed JSON, path parameter or If-Match"),
                        (404, "No such resource"),
                        (409, "The resource's state forbids this change"),
                        (412, "If-Match names a stale version"),
                        (413, "Body larger than 64 KiB"),
                        (415, "Body is not application/json"),
                        (422, "A value the rules reject; `field` names it"),
                        (500, "Internal error (the detail carries a reference id)"),
                        (503, "Database unavailable; retry after Retry-After seconds"),
                    ],
                };
                add_problems(operation, statuses);
                add_header(
                    operation,
                    "X-Request-Id",
                    "Correlation id echoed in the response; generated when absent",
                );
                if api && method == "post" {
                    add_header(
                        operation,
                        "Idempotency-Key",
                        "Makes a retried POST safe: the first answer is stored with the effect and replayed \
                         (Idempotent-Replayed: true) for the same key and request; 409 while the first is in \
                         flight, 422 for the same key with another request. 1-255 printable ASCII characters.",
                    );
                }
            }
        }
    }
}

fn add_problems(operation: &mut Operation, statuses: &[(u16, &str)]) {
    for (status, description) in statuses {
        let response = ResponseBuilder::new()
            .description(*description)
            .content(
                crate::PROBLEM_JSON,
                ContentBuilder::new()
                    .schema(Some(Ref::from_schema_name("Problem")))
                    .build(),
            )
            .build();
        operation
            .responses
            .responses
            .entry(status.to_string())
            .or_insert(RefOr::T(response));
    }
}

fn add_header(operation: &mut Operation, name: &str, description: &str) {
    let parameter = ParameterBuilder::new()
        .name(name)
        .parameter_in(ParameterIn::Header)
        .required(Required::False)
        .description(Some(description))
        .schema(Some(
            utoipa::openapi::schema::ObjectBuilder::new()
                .schema_type(utoipa::openapi::Type::String),
        ))
        .build();
    operation
        .parameters
        .get_or_insert_with(Vec::new)
        .push(parameter.into());
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;

    fn documented() -> BTreeSet<(String, String)> {
        let doc = ApiDoc::openapi();
        let mut routes = BTreeSet::new();
        for (path, item) in &doc.paths.paths {
            for (method, present) in [
                ("get", item.get.is_some()),
                ("post", item.post.is_some()),
                ("put", item.put.is_some()),
                ("delete", item.delete.is_some()),
            ] {
                if present {
                    routes.insert((method.to_owned(), path.clone()));
                }
            }
        }
        routes
    }

    #[test]
    fn every_route_is_documented_and_every_documented_route_exists() {
        let served: BTreeSet<_> = crate::routes::all_routes()
            .into_iter()
            .map(|(m, p)| (m.to_owned(), p.to_owned()))
            .collect();
        let documented = documented();
        let undocumented: Vec<_> = served.difference(&documented).collect();
        let phantom: Vec<_> = documented.difference(&served).collect();
        assert!(
            undocumented.is_empty(),
            "served but not documented: {undocumented:?}"
        );
        assert!(phantom.is_empty(), "documented but not served: {phantom:?}");
        assert_eq!(
            served.len(),
            21,
            "14 order + 3 customer + 4 operational routes"
        );
    }

    #[test]
    fn the_document_is_openapi_3_1_with_problem_responses() {
        let json: serde_json::Value = serde_json::from_str(document_json()).unwrap();
        assert!(json["openapi"].as_str().unwrap().starts_with("3.1"));
        let confirm = &json["paths"]["/api/v1/order-mgmt/orders/{id}/confirm"]["post"];
        for status in ["200", "409", "412", "503"] {
            assert!(
                confirm["responses"][status].is_object(),
                "confirm lacks {status}"
            );
        }
        assert!(confirm["responses"]["409"]["content"]["application/problem+json"].is_object());
        assert!(json["components"]["schemas"]["Problem"].is_object());
        let headers: Vec<_> = confirm["parameters"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|p| p["in"] == "header")
            .map(|p| p["name"].as_str().unwrap())
            .collect();
        for header in ["If-Match", "Idempotency-Key", "X-Request-Id"] {
            assert!(
                headers.contains(&header),
                "confirm lacks {header}: {headers:?}"
            );
        }
    }
}
