//! Every path the service serves, once. The route table (`routes!`), the
//! OpenAPI operations (`#[utoipa::path(path = ...)]`), the `Location` of
//! created resources and the metric labels all read these constants.

/// Path prefix of the order API.
pub const ORDER_API: &str = "/api/v1/order-mgmt";
/// Path prefix of the customer API.
pub const CUSTOMER_API: &str = "/api/v1/customer-mgmt";

/// Create and list orders.
pub const ORDERS: &str = "/api/v1/order-mgmt/orders";
/// One order.
pub const ORDER: &str = "/api/v1/order-mgmt/orders/{id}";
/// One order, by number.
pub const ORDER_BY_NUMBER: &str = "/api/v1/order-mgmt/orders/number/{order_number}";
/// The orders of one customer.
pub const ORDERS_OF_CUSTOMER: &str = "/api/v1/order-mgmt/orders/customer/{customer_id}";
/// The orders in one status.
pub const ORDERS_IN_STATUS: &str = "/api/v1/order-mgmt/orders/status/{status}";
/// Confirm an order.
pub const CONFIRM: &str = "/api/v1/order-mgmt/orders/{id}/confirm";
/// Start processing an order.
pub const PROCESS: &str = "/api/v1/order-mgmt/orders/{id}/process";
/// Mark an order fulfilled.
pub const FULFILL: &str = "/api/v1/order-mgmt/orders/{id}/fulfill";
/// Cancel an order.
pub const CANCEL: &str = "/api/v1/order-mgmt/orders/{id}/cancel";
/// The lines of an order.
pub const LINES: &str = "/api/v1/order-mgmt/orders/{id}/lines";
/// One line of an order.
pub const LINE: &str = "/api/v1/order-mgmt/orders/{id}/lines/{line_id}";
/// The discounts of an order.
pub const DISCOUNTS: &str = "/api/v1/order-mgmt/orders/{id}/discounts";
/// One discount of an order.
pub const DISCOUNT: &str = "/api/v1/order-mgmt/orders/{id}/discounts/{discount_id}";

/// The history of an order: its events, in sequence order.
pub const ORDER_EVENTS: &str = "/api/v1/order-mgmt/orders/{id}/events";
/// Ship part of an order; its shipments.
pub const FULFILLMENTS: &str = "/api/v1/order-mgmt/orders/{id}/fulfillments";
/// One shipment of an order.
pub const FULFILLMENT: &str = "/api/v1/order-mgmt/orders/{id}/fulfillments/{fulfillment_id}";
/// Return shipped units; the returns of an order.
pub const RETURNS: &str = "/api/v1/order-mgmt/orders/{id}/returns";
/// One return of an order.
pub const RETURN: &str = "/api/v1/order-mgmt/orders/{id}/returns/{return_id}";
/// Begin an edit of a confirmed or processing order.
pub const EDITS: &str = "/api/v1/order-mgmt/orders/{id}/edits";
/// One edit of an order: read it with its preview, or discard it.
pub const EDIT: &str = "/api/v1/order-mgmt/orders/{id}/edits/{edit_id}";
/// Stage changes on an edit.
pub const EDIT_CHANGES: &str = "/api/v1/order-mgmt/orders/{id}/edits/{edit_id}/changes";
/// Commit an edit onto its order.
pub const EDIT_COMMIT: &str = "/api/v1/order-mgmt/orders/{id}/edits/{edit_id}/commit";

/// Create and list customers.
pub const CUSTOMERS: &str = "/api/v1/customer-mgmt/customers";
/// One customer.
pub const CUSTOMER: &str = "/api/v1/customer-mgmt/customers/{id}";

/// Liveness.
pub const HEALTH: &str = "/health";
/// Readiness.
pub const READY: &str = "/ready";
/// Prometheus metrics.
pub const METRICS: &str = "/metrics";
/// The OpenAPI document.
pub const OPENAPI: &str = "/api-docs/openapi.json";

/// `template` with each `{name}` replaced by its value: the URL of one resource.
///
/// ```
/// use order_http::paths::{fill, LINE};
/// assert_eq!(
///     fill(LINE, &[("id", "o1"), ("line_id", "l1")]),
///     "/api/v1/order-mgmt/orders/o1/lines/l1"
/// );
/// ```
#[must_use]
pub fn fill(template: &str, values: &[(&str, &str)]) -> String {
    values
        .iter()
        .fold(template.to_owned(), |path, (name, value)| {
            path.replace(&format!("{{{name}}}"), value)
        })
}
