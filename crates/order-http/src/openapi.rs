//! The OpenAPI 3.1 document, generated from the handlers' annotations.
//!
//! Error responses are added here, once, to every operation: they are the same
//! problem+json shape everywhere, and listing them per handler would let the
//! document and the error mapping drift apart.

use std::sync::OnceLock;

use utoipa::openapi::content::ContentBuilder;
use utoipa::openapi::header::HeaderBuilder;
use utoipa::openapi::path::{Operation, ParameterBuilder, ParameterIn};
use utoipa::openapi::response::ResponseBuilder;
use utoipa::openapi::schema::ObjectBuilder;
use utoipa::openapi::{Ref, RefOr, Required, Type};
use utoipa::{Modify, OpenApi};

use crate::routes::{customers, edits, operations, orders, shipments};

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
        orders::list_by_status, orders::get, orders::events, orders::delete, orders::confirm, orders::process,
        orders::fulfill, orders::cancel, orders::add_line, orders::update_line, orders::remove_line,
        shipments::create_fulfillment, shipments::list_fulfillments, shipments::get_fulfillment,
        shipments::create_return, shipments::list_returns, shipments::get_return,
        edits::begin, edits::get, edits::stage, edits::commit, edits::discard,
        orders::add_discount, orders::remove_discount,
        customers::create, customers::list, customers::get,
        operations::health, operations::ready, operations::metrics, operations::openapi,
    ),
    components(schemas(crate::error::Problem)),
    modifiers(&ProblemResponses, &KeySecurity),
    tags(
        (name = "orders", description = "Create, find and list orders"),
        (name = "lifecycle", description = "Confirm, process, fulfil, cancel"),
        (name = "lines", description = "Edit the lines of a pending order"),
        (name = "fulfilment", description = "Ship a processing order in parts; return shipped units with exact refunds"),
        (name = "edits", description = "Edit a confirmed or processing order: stage changes, preview the new totals, commit them at once or discard"),
        (name = "discounts", description = "Discounts on a pending order, allocated to its lines"),
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

/// What `If-Match` accepts ([`crate::extract::if_match`]): `*`, or a list of
/// entity tags (RFC 9110 section 8.8.3), strong or weak, empty list elements
/// allowed. Only a strong tag of the order's version matches.
pub const IF_MATCH_PATTERN: &str =
    r#"^(\*|[ \t,]*(W/)?"[!#-~]*"([ \t]*,[ \t,]*(W/)?"[!#-~]*")*[ \t,]*)$"#;

/// What `after` accepts ([`crate::cursor::decode`]): the text of a `next_cursor`.
pub const CURSOR_PATTERN: &str = r"^-?[0-9]{1,16}\.[0-9a-f]{32}$";

/// What `X-Actor` accepts: visible ASCII with at least one non-space character.
const ACTOR_PATTERN: &str = "^[ -~]*[!-~][ -~]*$";

/// What `Idempotency-Key` accepts: 1 to 255 printable ASCII characters.
pub const IDEMPOTENCY_KEY_PATTERN: &str = "^[!-~]{1,255}$";

/// Adds the problem+json error responses and the request-id header to every
/// operation, gives `If-Match` and `after` their exact syntax, lists the
/// currencies the domain knows, and documents `HEAD` beside every `GET`.
struct ProblemResponses;

impl Modify for ProblemResponses {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        constrain_currencies(openapi);
        for item in openapi.paths.paths.values_mut() {
            item.head = item.get.as_ref().map(head_of);
        }
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
                        (412, "If-Match does not hold: another version, no strong tag of a version, or * for a missing order"),
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
                    ObjectBuilder::new().schema_type(Type::String),
                );
                if api && method == "post" {
                    add_header(
                        operation,
                        "Idempotency-Key",
                        "Makes a retried POST safe: the first answer is stored with the effect and replayed \
                         (Idempotent-Replayed: true) for the same key and request; 409 while the first is in \
                         flight, 422 for the same key with another request. 1-255 printable ASCII characters.",
                        ObjectBuilder::new()
                            .schema_type(Type::String)
                            .min_length(Some(1))
                            .max_length(Some(255))
                            .pattern(Some(IDEMPOTENCY_KEY_PATTERN)),
                    );
                }
                if api && method != "get" {
                    add_header(
                        operation,
                        crate::extract::ACTOR_HEADER,
                        "Who makes the change, recorded as the event's actor in the order's history. \
                         Used only with authentication off (AUTH=off, local development); an \
                         authenticated caller is always its API key. Without it: `anonymous`. \
                         1-200 visible ASCII characters (spaces allowed inside).",
                        ObjectBuilder::new()
                            .schema_type(Type::String)
                            .min_length(Some(1))
                            .max_length(Some(order_domain::Actor::MAX_CHARS))
                            .pattern(Some(ACTOR_PATTERN)),
                    );
                }
                constrain_if_match(operation);
                constrain_cursor(operation);
            }
            if let (Some(head), Some(get)) = (item.head.as_mut(), item.get.as_ref()) {
                // The problems of the GET, without bodies: a HEAD answer has none.
                head.responses = strip_content(&get.responses);
                head.parameters.clone_from(&get.parameters);
            }
        }
    }
}

/// The `HEAD` operation of a `GET`: the same parameters and statuses, no bodies.
fn head_of(get: &Operation) -> Operation {
    let mut head = get.clone();
    head.operation_id = get.operation_id.as_ref().map(|id| format!("head_{id}"));
    head.summary = Some("The GET's status and headers, without the body".to_owned());
    head.description = None;
    head.responses = strip_content(&get.responses);
    head
}

fn strip_content(responses: &utoipa::openapi::Responses) -> utoipa::openapi::Responses {
    let mut responses = responses.clone();
    for response in responses.responses.values_mut() {
        if let RefOr::T(response) = response {
            response.content.clear();
            response.links.clear();
        }
    }
    responses
}

/// Every ISO 4217 code `Currency::from_code` accepts, as the `currency`
/// enum of the request bodies: the document refuses what the domain refuses.
fn constrain_currencies(openapi: &mut utoipa::openapi::OpenApi) {
    let codes: Vec<String> = (b'A'..=b'Z')
        .flat_map(|a| (b'A'..=b'Z').flat_map(move |b| (b'A'..=b'Z').map(move |c| [a, b, c])))
        .filter_map(|code| String::from_utf8(code.to_vec()).ok())
        .filter(|code| order_domain::Currency::from_code(code).is_ok())
        .collect();
    let Some(components) = openapi.components.as_mut() else {
        return;
    };
    for body in ["CreateOrderRequest", "AddLineRequest"] {
        let Some(RefOr::T(utoipa::openapi::schema::Schema::Object(object))) =
            components.schemas.get_mut(body)
        else {
            continue;
        };
        if let Some(currency) = object.properties.get_mut("currency") {
            *currency = ObjectBuilder::new()
                .schema_type(Type::String)
                .description(Some(
                    "ISO 4217 code with a minor unit, upper case; for a line, the order's currency",
                ))
                .enum_values(Some(codes.iter().map(String::as_str)))
                .examples(["USD"])
                .into();
        }
    }
}

/// On the lists that page with `page`/`page_size`, `after` is a cursor this
/// API handed out; its syntax is stated once, here.
fn constrain_cursor(operation: &mut Operation) {
    let paged = operation.parameters.iter().flatten().any(|parameter| {
        matches!(parameter, RefOr::T(p) if p.parameter_in == ParameterIn::Query && p.name == "page_size")
    });
    if !paged {
        return;
    }
    for parameter in operation.parameters.iter_mut().flatten() {
        let RefOr::T(parameter) = parameter else {
            continue;
        };
        if parameter.parameter_in == ParameterIn::Query && parameter.name == "after" {
            parameter.schema = Some(
                ObjectBuilder::new()
                    .schema_type(Type::String)
                    .pattern(Some(CURSOR_PATTERN))
                    .into(),
            );
        }
    }
}

/// Name of the API key scheme in the document.
pub const BEARER_SCHEME: &str = "bearer";

/// Declares the API key scheme and, on every operation that needs a key, the
/// scope it needs ([`crate::auth::required_scope`], the rule the middleware
/// applies) and the 401/403/429 answers. `/metrics` is documented open, as it
/// is by default.
struct KeySecurity;

impl Modify for KeySecurity {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use actix_web::http::Method;
        use utoipa::openapi::security::{
            HttpAuthScheme, HttpBuilder, SecurityRequirement, SecurityScheme,
        };
        openapi
            .components
            .get_or_insert_with(Default::default)
            .add_security_scheme(
                BEARER_SCHEME,
                SecurityScheme::Http(
                    HttpBuilder::new()
                        .scheme(HttpAuthScheme::Bearer)
                        .bearer_format("omk_<prefix>_<secret>")
                        .description(Some(
                            "An API key made with `order-server keys create`. Each operation \
                             lists the scope it needs; write implies read.",
                        ))
                        .build(),
                ),
            );
        for (path, item) in &mut openapi.paths.paths {
            let operations = [
                (Method::GET, item.get.as_mut()),
                (Method::HEAD, item.head.as_mut()),
                (Method::POST, item.post.as_mut()),
                (Method::PUT, item.put.as_mut()),
                (Method::DELETE, item.delete.as_mut()),
            ];
            for (method, operation) in operations {
                let Some(operation) = operation else { continue };
                let Some(scope) = crate::auth::required_scope(&method, path, false) else {
                    continue;
                };
                operation.security = Some(vec![SecurityRequirement::new(
                    BEARER_SCHEME,
                    [scope.as_str()],
                )]);
                let needs = format!("Needs an API key with scope `{scope}`.");
                operation.description = Some(match operation.description.take() {
                    Some(text) if !text.is_empty() => format!("{text}\n\n{needs}"),
                    _ => needs,
                });
                add_problems(
                    operation,
                    &[
                        (401, "No API key, or a malformed, unknown or revoked one"),
                        (403, "The API key lacks the scope this operation needs"),
                        (429, "Rate limit exceeded; retry after Retry-After seconds"),
                    ],
                );
            }
        }
    }
}

fn add_problems(operation: &mut Operation, statuses: &[(u16, &str)]) {
    for (status, description) in statuses {
        let mut response = ResponseBuilder::new().description(*description).content(
            crate::PROBLEM_JSON,
            ContentBuilder::new()
                .schema(Some(Ref::from_schema_name("Problem")))
                .build(),
        );
        if matches!(*status, 429 | 503) {
            response = response.header(
                "Retry-After",
                HeaderBuilder::new()
                    .schema(Some(
                        ObjectBuilder::new()
                            .schema_type(Type::Integer)
                            .minimum(Some(0)),
                    ))
                    .description(Some("Seconds to wait before retrying"))
                    .build(),
            );
        }
        let response = response.build();
        operation
            .responses
            .responses
            .entry(status.to_string())
            .or_insert(RefOr::T(response));
    }
}

fn add_header(operation: &mut Operation, name: &str, description: &str, schema: ObjectBuilder) {
    let parameter = ParameterBuilder::new()
        .name(name)
        .parameter_in(ParameterIn::Header)
        .required(Required::False)
        .description(Some(description))
        .schema(Some(schema))
        .build();
    operation
        .parameters
        .get_or_insert_with(Vec::new)
        .push(parameter.into());
}

/// The handlers declare `If-Match` as a string; its exact syntax is stated once, here.
fn constrain_if_match(operation: &mut Operation) {
    for parameter in operation.parameters.iter_mut().flatten() {
        let RefOr::T(parameter) = parameter else {
            continue;
        };
        if parameter.parameter_in == ParameterIn::Header && parameter.name == "If-Match" {
            parameter.schema = Some(
                ObjectBuilder::new()
                    .schema_type(Type::String)
                    .pattern(Some(IF_MATCH_PATTERN))
                    .examples(["\"3\"", "*", "\"3\", \"4\""])
                    .into(),
            );
        }
    }
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
            35,
            "17 order (the history, add and remove discount) + 6 shipment/return + 5 edit + 3 customer + 4 operational routes"
        );
    }

    fn json() -> serde_json::Value {
        serde_json::from_str(document_json()).unwrap()
    }

    #[test]
    fn operation_ids_are_unique_and_every_link_names_one() {
        let json = json();
        let mut ids = BTreeSet::new();
        let mut links = Vec::new();
        for item in json["paths"].as_object().unwrap().values() {
            for operation in item.as_object().unwrap().values() {
                let id = operation["operationId"].as_str().unwrap();
                assert!(ids.insert(id.to_owned()), "operationId {id} is used twice");
                for response in operation["responses"].as_object().unwrap().values() {
                    for link in response["links"]
                        .as_object()
                        .into_iter()
                        .flat_map(|l| l.values())
                    {
                        links.push(link["operationId"].as_str().unwrap().to_owned());
                    }
                }
            }
        }
        assert!(!links.is_empty());
        for link in links {
            assert!(
                ids.contains(&link),
                "a link names the unknown operation {link}"
            );
        }
    }

    /// The bounds the document states are the ones the rules enforce.
    #[test]
    fn documented_bounds_are_the_domain_limits() {
        use order_app::PageRequest;
        use order_app::{Customer, Email};
        use order_domain::{Order, OrderLine, ProductSnapshot, Quantity};

        let json = json();
        let schemas = &json["components"]["schemas"];
        let cases = [
            (
                &schemas["AddLineRequest"]["properties"]["quantity"]["maximum"],
                u64::from(Quantity::MAX),
            ),
            (
                &schemas["UpdateLineRequest"]["properties"]["quantity"]["maximum"],
                u64::from(Quantity::MAX),
            ),
            (
                &schemas["AddLineRequest"]["properties"]["unit_price"]["maximum"],
                u64::try_from(OrderLine::MAX_UNIT_PRICE).unwrap(),
            ),
            (
                &schemas["AddLineRequest"]["properties"]["description"]["maxLength"],
                ProductSnapshot::MAX_DESCRIPTION_CHARS as u64,
            ),
            (
                &schemas["AddLineRequest"]["properties"]["sku"]["maxLength"],
                ProductSnapshot::MAX_SKU_CHARS as u64,
            ),
            (
                &schemas["CancelRequest"]["properties"]["reason"]["maxLength"],
                Order::MAX_REASON_CHARS as u64,
            ),
            (
                &schemas["CreateCustomerRequest"]["properties"]["name"]["maxLength"],
                Customer::MAX_NAME_CHARS as u64,
            ),
            (
                &schemas["CreateCustomerRequest"]["properties"]["source"]["maxLength"],
                Customer::MAX_SOURCE_CHARS as u64,
            ),
            (
                &schemas["CreateCustomerRequest"]["properties"]["email"]["maxLength"],
                Email::MAX_LEN as u64,
            ),
        ];
        for (documented, limit) in cases {
            assert_eq!(documented.as_u64(), Some(limit), "{documented}");
        }
        let list = &json["paths"]["/api/v1/order-mgmt/orders"]["get"]["parameters"];
        for (index, limit) in [(0, PageRequest::MAX_PAGE), (1, PageRequest::MAX_PAGE_SIZE)] {
            assert_eq!(
                list[index]["schema"]["maximum"].as_u64(),
                Some(u64::from(limit))
            );
        }
    }

    #[test]
    fn every_api_operation_declares_the_key_and_scope_it_needs() {
        let json = json();
        assert_eq!(
            json["components"]["securitySchemes"][BEARER_SCHEME]["scheme"],
            "bearer"
        );
        let scope_of = |path: &str, method: &str| {
            json["paths"][path][method]["security"][0][BEARER_SCHEME][0]
                .as_str()
                .map(str::to_owned)
        };
        let orders = "/api/v1/order-mgmt/orders";
        assert_eq!(scope_of(orders, "get").as_deref(), Some("orders:read"));
        assert_eq!(scope_of(orders, "post").as_deref(), Some("orders:write"));
        assert_eq!(
            scope_of(&format!("{orders}/{{id}}/fulfill"), "post").as_deref(),
            Some("orders:fulfil")
        );
        assert_eq!(
            scope_of("/api/v1/customer-mgmt/customers", "post").as_deref(),
            Some("customers:write")
        );
        for (path, item) in json["paths"].as_object().unwrap() {
            for (method, operation) in item.as_object().unwrap() {
                let secured = operation["security"].is_array();
                assert_eq!(secured, path.starts_with("/api/v1/"), "{method} {path}");
                if secured {
                    for status in ["401", "403", "429"] {
                        assert!(
                            operation["responses"][status].is_object(),
                            "{method} {path} lacks {status}"
                        );
                    }
                }
            }
        }
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
        for header in ["If-Match", "Idempotency-Key", "X-Request-Id", "X-Actor"] {
            assert!(
                headers.contains(&header),
                "confirm lacks {header}: {headers:?}"
            );
        }
        let pattern = |name: &str| {
            confirm["parameters"]
                .as_array()
                .unwrap()
                .iter()
                .find(|p| p["name"] == name)
                .map(|p| p["schema"]["pattern"].clone())
                .unwrap()
        };
        assert_eq!(pattern("If-Match"), IF_MATCH_PATTERN);
        assert_eq!(pattern("Idempotency-Key"), IDEMPOTENCY_KEY_PATTERN);
        assert_eq!(pattern("X-Actor"), ACTOR_PATTERN);
        let actor = confirm["parameters"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["name"] == "X-Actor")
            .unwrap();
        assert_eq!(actor["schema"]["maxLength"], order_domain::Actor::MAX_CHARS);
        assert!(confirm["responses"]["503"]["headers"]["Retry-After"].is_object());
    }

    #[test]
    fn every_get_has_a_head_and_the_document_states_every_constraint() {
        let json = json();
        for (path, item) in json["paths"].as_object().unwrap() {
            if let Some(get) = item.get("get") {
                let head = &item["head"];
                assert!(head.is_object(), "{path} has GET but no HEAD");
                assert_eq!(head["responses"]["200"]["content"], serde_json::Value::Null);
                assert_eq!(head["parameters"], get["parameters"], "{path}");
            }
        }
        let schemas = &json["components"]["schemas"];
        for body in ["CreateOrderRequest", "AddLineRequest"] {
            let codes = schemas[body]["properties"]["currency"]["enum"]
                .as_array()
                .unwrap();
            let has = |code: &str| codes.iter().any(|c| c == code);
            assert!(has("USD") && has("JPY") && has("KWD"), "{body}");
            assert!(
                !has("AAA") && !has("XXX"),
                "{body}: codes the domain refuses"
            );
            assert!(codes.len() > 150, "{body}: {}", codes.len());
        }
        let list = &json["paths"]["/api/v1/order-mgmt/orders"]["get"]["parameters"];
        let after = list
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["name"] == "after")
            .unwrap();
        assert_eq!(after["schema"]["pattern"], CURSOR_PATTERN);
        assert!(after["description"]
            .as_str()
            .unwrap()
            .contains("mutually exclusive with `page`"));
    }
}
