//! `/api/v1/order-mgmt/orders...`: the 14 order endpoints.

use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use order_app::{OrderFilter, Orders};
use order_domain::{CustomerId, LineId, Order, OrderId, OrderNumber, OrderStatus, Quantity};

use crate::answer::{render_order, respond, OrderAnswer};
#[allow(unused_imports)] // referenced from the OpenAPI attributes only
use crate::dto::StatusParam;
use crate::dto::{
    AddLineRequest, CancelRequest, CreateOrderRequest, Envelope, ListEnvelope, OrderDto,
    UpdateLineRequest,
};
use crate::error::ApiError;
use crate::extract::{blocking, etag, if_match, page_query, path_uuid, JsonBody, OptionalJsonBody};
use crate::idempotency::active_claim;
use order_app::idempotency::{Idempotent, OrderRender};
use order_app::Write;

/// Path prefix of the order API.
pub const BASE: &str = "/api/v1/order-mgmt";

routes! {
    post "/api/v1/order-mgmt/orders" => create,
    get "/api/v1/order-mgmt/orders" => list,
    get "/api/v1/order-mgmt/orders/number/{order_number}" => get_by_number,
    get "/api/v1/order-mgmt/orders/customer/{customer_id}" => list_for_customer,
    get "/api/v1/order-mgmt/orders/status/{status}" => list_by_status,
    get "/api/v1/order-mgmt/orders/{id}" => get,
    delete "/api/v1/order-mgmt/orders/{id}" => delete,
    post "/api/v1/order-mgmt/orders/{id}/confirm" => confirm,
    post "/api/v1/order-mgmt/orders/{id}/process" => process,
    post "/api/v1/order-mgmt/orders/{id}/fulfill" => fulfill,
    post "/api/v1/order-mgmt/orders/{id}/cancel" => cancel,
    post "/api/v1/order-mgmt/orders/{id}/lines" => add_line,
    put "/api/v1/order-mgmt/orders/{id}/lines/{line_id}" => update_line,
    delete "/api/v1/order-mgmt/orders/{id}/lines/{line_id}" => remove_line,
}

fn order_id(raw: &str) -> Result<OrderId, ApiError> {
    path_uuid("id", raw).map(OrderId::from_uuid)
}

fn line_id(raw: &str) -> Result<LineId, ApiError> {
    path_uuid("line_id", raw).map(LineId::from_uuid)
}

fn quantity(raw: i64) -> Result<Quantity, ApiError> {
    Quantity::new(raw).map_err(|e| ApiError::App(e.into()))
}

/// 200 with the order and its `ETag`.
fn ok(order: &Order) -> HttpResponse {
    respond(&render_order(OrderAnswer::Ok, order, None))
}

/// The precondition (`If-Match`) and idempotency claim of a write request;
/// the claim's answer is rendered as `answer`.
fn write(req: &HttpRequest, answer: OrderAnswer) -> Result<Write, ApiError> {
    Ok(Write {
        expected_version: if_match(req)?,
        idempotent: active_claim(req).map(|claim| Idempotent {
            claim,
            render: Box::new(move |order: &Order, line: Option<LineId>| {
                render_order(answer, order, line)
            }) as Box<OrderRender>,
        }),
    })
}

fn page_of(page: order_app::Page<Order>) -> HttpResponse {
    HttpResponse::Ok().json(ListEnvelope::from_page(page, |o| OrderDto::from(&o)))
}

#[utoipa::path(post, path = "/api/v1/order-mgmt/orders", operation_id = "create_order", tag = "orders", request_body = CreateOrderRequest, responses((status = 201, description = "The created order", body = Envelope<OrderDto>, headers(("ETag" = String, description = "The order version"), ("Location" = String, description = "URL of the created resource")), links(
    ("get_order" = (operation_id = "get_order", parameters(("id" = "$response.body#/data/id")), description = "Read the order back")),
    ("add_line" = (operation_id = "add_line", parameters(("id" = "$response.body#/data/id")), description = "Add a product line")),
    ("cancel" = (operation_id = "cancel", parameters(("id" = "$response.body#/data/id")), description = "Cancel the order")),
    ("delete_order" = (operation_id = "delete_order", parameters(("id" = "$response.body#/data/id")), description = "Delete the pending order")),
))))]
#[tracing::instrument(skip_all)]
pub(crate) async fn create(
    orders: web::Data<Orders>,
    req: HttpRequest,
    body: JsonBody<CreateOrderRequest>,
) -> Result<HttpResponse, ApiError> {
    let cmd = body.0.try_into_domain()?;
    let idempotent = write(&req, OrderAnswer::Created)?.idempotent;
    let orders = orders.into_inner();
    let order = blocking(move || orders.create(cmd, idempotent)).await?;
    Ok(respond(&render_order(OrderAnswer::Created, &order, None)))
}

#[utoipa::path(get, path = "/api/v1/order-mgmt/orders/{id}", operation_id = "get_order", tag = "orders", params(("id" = Uuid, Path, description = "Order id")), responses((status = 200, description = "The order", body = Envelope<OrderDto>, headers(("ETag" = String, description = "The order version, for If-Match")))))]
#[tracing::instrument(skip_all, fields(id = %id))]
pub(crate) async fn get(
    orders: web::Data<Orders>,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = order_id(&id)?;
    let orders = orders.into_inner();
    let order = blocking(move || orders.get(id)).await?;
    Ok(ok(&order))
}

#[utoipa::path(get, path = "/api/v1/order-mgmt/orders/number/{order_number}", tag = "orders", params(("order_number" = String, Path, description = "ORD-YYYY-NNNNNN (at least six counter digits, no extra leading zeros)", pattern = r"^ORD-[1-9][0-9]{3}-(?!0{6}$)(?:[0-9]{6}|[1-9][0-9]{6,18})$", example = "ORD-2025-000001")), responses((status = 200, description = "The order", body = Envelope<OrderDto>, headers(("ETag" = String, description = "The order version, for If-Match")))))]
#[tracing::instrument(skip_all, fields(number = %number))]
pub(crate) async fn get_by_number(
    orders: web::Data<Orders>,
    number: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let number: OrderNumber = number.parse().map_err(|_| {
        ApiError::bad_parameter(
            "order_number",
            format!("{number:?} is not of the form ORD-YYYY-NNNNNN"),
        )
    })?;
    let orders = orders.into_inner();
    let order = blocking(move || orders.get_by_number(number)).await?;
    Ok(ok(&order))
}

#[utoipa::path(get, path = "/api/v1/order-mgmt/orders", operation_id = "list_orders", tag = "orders", params(("page" = Option<u32>, Query, minimum = 1, maximum = 10001, description = "1-based page (default 1); a numbered page may skip at most 10,000 items, read deeper with `after`"), ("page_size" = Option<u32>, Query, minimum = 1, maximum = 100, description = "Items per page (default 20)"), ("after" = Option<String>, Query, description = "The `next_cursor` of the previous page: reads the next page at the same cost at any depth (not with `page`)")), responses((status = 200, description = "One page of orders, newest first", body = ListEnvelope<OrderDto>)))]
#[tracing::instrument(skip_all)]
pub(crate) async fn list(
    orders: web::Data<Orders>,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let page = page_query(&req)?;
    let orders = orders.into_inner();
    Ok(page_of(
        blocking(move || orders.list(OrderFilter::default(), page)).await?,
    ))
}

#[utoipa::path(get, path = "/api/v1/order-mgmt/orders/customer/{customer_id}", tag = "orders", params(("customer_id" = Uuid, Path, description = "Customer id"), ("page" = Option<u32>, Query, minimum = 1, maximum = 10001, description = "1-based page (default 1); a numbered page may skip at most 10,000 items, read deeper with `after`"), ("page_size" = Option<u32>, Query, minimum = 1, maximum = 100, description = "Items per page (default 20)"), ("after" = Option<String>, Query, description = "The `next_cursor` of the previous page: reads the next page at the same cost at any depth (not with `page`)")), responses((status = 200, description = "One page of orders, newest first", body = ListEnvelope<OrderDto>)))]
#[tracing::instrument(skip_all, fields(customer_id = %customer_id))]
pub(crate) async fn list_for_customer(
    orders: web::Data<Orders>,
    customer_id: web::Path<String>,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let customer = CustomerId::from_uuid(path_uuid("customer_id", &customer_id)?);
    let page = page_query(&req)?;
    let orders = orders.into_inner();
    Ok(page_of(
        blocking(move || orders.list_for_customer(customer, page)).await?,
    ))
}

#[utoipa::path(get, path = "/api/v1/order-mgmt/orders/status/{status}", tag = "orders", params(("status" = StatusParam, Path, description = "Order status"), ("page" = Option<u32>, Query, minimum = 1, maximum = 10001, description = "1-based page (default 1); a numbered page may skip at most 10,000 items, read deeper with `after`"), ("page_size" = Option<u32>, Query, minimum = 1, maximum = 100, description = "Items per page (default 20)"), ("after" = Option<String>, Query, description = "The `next_cursor` of the previous page: reads the next page at the same cost at any depth (not with `page`)")), responses((status = 200, description = "One page of orders, newest first", body = ListEnvelope<OrderDto>)))]
#[tracing::instrument(skip_all, fields(status = %status))]
pub(crate) async fn list_by_status(
    orders: web::Data<Orders>,
    status: web::Path<String>,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let status: OrderStatus = status.parse().map_err(|_| {
        ApiError::bad_parameter(
            "status",
            format!(
                "{status:?} is not one of pending, confirmed, processing, fulfilled, cancelled"
            ),
        )
    })?;
    let page = page_query(&req)?;
    let orders = orders.into_inner();
    let filter = OrderFilter {
        customer_id: None,
        status: Some(status),
    };
    Ok(page_of(blocking(move || orders.list(filter, page)).await?))
}

#[utoipa::path(delete, path = "/api/v1/order-mgmt/orders/{id}", operation_id = "delete_order", tag = "orders", params(("id" = Uuid, Path, description = "Order id"), ("If-Match" = Option<String>, Header, description = "Apply only if the order is still at this ETag, e.g. \"3\"")), responses((status = 204, description = "Soft-deleted")))]
#[tracing::instrument(skip_all, fields(id = %id))]
pub(crate) async fn delete(
    orders: web::Data<Orders>,
    id: web::Path<String>,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let id = order_id(&id)?;
    let write = write(&req, OrderAnswer::Ok)?;
    let orders = orders.into_inner();
    blocking(move || orders.delete(id, write)).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// The four lifecycle transitions share everything but the use case they call.
pub(crate) async fn transition(
    orders: web::Data<Orders>,
    id: &str,
    req: &HttpRequest,
    run: impl FnOnce(&Orders, OrderId, Write) -> Result<Order, order_app::AppError> + Send + 'static,
) -> Result<HttpResponse, ApiError> {
    let id = order_id(id)?;
    let write = write(req, OrderAnswer::Ok)?;
    let orders = orders.into_inner();
    let order = blocking(move || run(&orders, id, write)).await?;
    Ok(ok(&order))
}

#[utoipa::path(post, path = "/api/v1/order-mgmt/orders/{id}/confirm", tag = "lifecycle", params(("id" = Uuid, Path, description = "Order id"), ("If-Match" = Option<String>, Header, description = "Apply only if the order is still at this ETag, e.g. \"3\"")), responses((status = 200, description = "The order", body = Envelope<OrderDto>, headers(("ETag" = String, description = "The order version, for If-Match")), links(
    ("process" = (operation_id = "process", parameters(("id" = "$request.path.id")), description = "Start processing the confirmed order")),
))))]
#[tracing::instrument(skip_all, fields(id = %id))]
pub(crate) async fn confirm(
    orders: web::Data<Orders>,
    id: web::Path<String>,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    transition(orders, &id, &req, |o, id, v| o.confirm(id, v)).await
}

#[utoipa::path(post, path = "/api/v1/order-mgmt/orders/{id}/process", tag = "lifecycle", params(("id" = Uuid, Path, description = "Order id"), ("If-Match" = Option<String>, Header, description = "Apply only if the order is still at this ETag, e.g. \"3\"")), responses((status = 200, description = "The order", body = Envelope<OrderDto>, headers(("ETag" = String, description = "The order version, for If-Match")), links(
    ("fulfill" = (operation_id = "fulfill", parameters(("id" = "$request.path.id")), description = "Mark the order fulfilled")),
))))]
#[tracing::instrument(skip_all, fields(id = %id))]
pub(crate) async fn process(
    orders: web::Data<Orders>,
    id: web::Path<String>,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    transition(orders, &id, &req, |o, id, v| o.start_processing(id, v)).await
}

#[utoipa::path(post, path = "/api/v1/order-mgmt/orders/{id}/fulfill", tag = "lifecycle", params(("id" = Uuid, Path, description = "Order id"), ("If-Match" = Option<String>, Header, description = "Apply only if the order is still at this ETag, e.g. \"3\"")), responses((status = 200, description = "The order", body = Envelope<OrderDto>, headers(("ETag" = String, description = "The order version, for If-Match")))))]
#[tracing::instrument(skip_all, fields(id = %id))]
pub(crate) async fn fulfill(
    orders: web::Data<Orders>,
    id: web::Path<String>,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    transition(orders, &id, &req, |o, id, v| o.mark_fulfilled(id, v)).await
}

#[utoipa::path(post, path = "/api/v1/order-mgmt/orders/{id}/cancel", tag = "lifecycle", params(("id" = Uuid, Path, description = "Order id"), ("If-Match" = Option<String>, Header, description = "Apply only if the order is still at this ETag, e.g. \"3\"")), request_body(content = Option<CancelRequest>, description = "Optional reason"), responses((status = 200, description = "The order", body = Envelope<OrderDto>, headers(("ETag" = String, description = "The order version, for If-Match")))))]
#[tracing::instrument(skip_all, fields(id = %id))]
pub(crate) async fn cancel(
    orders: web::Data<Orders>,
    id: web::Path<String>,
    req: HttpRequest,
    body: OptionalJsonBody<CancelRequest>,
) -> Result<HttpResponse, ApiError> {
    let reason = body.0.reason;
    transition(orders, &id, &req, move |o, id, v| o.cancel(id, reason, v)).await
}

#[utoipa::path(post, path = "/api/v1/order-mgmt/orders/{id}/lines", tag = "lines", params(("id" = Uuid, Path, description = "Order id"), ("If-Match" = Option<String>, Header, description = "Apply only if the order is still at this ETag, e.g. \"3\"")), request_body = AddLineRequest, responses((status = 201, description = "The order with the line; Location names the line", body = Envelope<OrderDto>, headers(("ETag" = String, description = "The order version"), ("Location" = String, description = "URL of the created resource")), links(
    ("update_line" = (operation_id = "update_line", parameters(("id" = "$request.path.id"), ("line_id" = "$response.body#/data/lines/0/id")), description = "Change the quantity of a line")),
    ("remove_line" = (operation_id = "remove_line", parameters(("id" = "$request.path.id"), ("line_id" = "$response.body#/data/lines/0/id")), description = "Remove a line")),
    ("confirm" = (operation_id = "confirm", parameters(("id" = "$request.path.id")), description = "Confirm the order")),
))))]
#[tracing::instrument(skip_all, fields(id = %id))]
pub(crate) async fn add_line(
    orders: web::Data<Orders>,
    id: web::Path<String>,
    req: HttpRequest,
    body: JsonBody<AddLineRequest>,
) -> Result<HttpResponse, ApiError> {
    let id = order_id(&id)?;
    let cmd = body.0.try_into_domain()?;
    let write = write(&req, OrderAnswer::LineCreated)?;
    let orders = orders.into_inner();
    let (order, line) = blocking(move || orders.add_line(id, cmd, write)).await?;
    Ok(respond(&render_order(
        OrderAnswer::LineCreated,
        &order,
        Some(line),
    )))
}

#[utoipa::path(put, path = "/api/v1/order-mgmt/orders/{id}/lines/{line_id}", tag = "lines", params(("id" = Uuid, Path, description = "Order id"), ("line_id" = Uuid, Path, description = "Line id"), ("If-Match" = Option<String>, Header, description = "Apply only if the order is still at this ETag, e.g. \"3\"")), request_body = UpdateLineRequest, responses((status = 200, description = "The order", body = Envelope<OrderDto>, headers(("ETag" = String, description = "The order version, for If-Match")))))]
#[tracing::instrument(skip_all, fields(id = %path.0, line_id = %path.1))]
pub(crate) async fn update_line(
    orders: web::Data<Orders>,
    path: web::Path<(String, String)>,
    req: HttpRequest,
    body: JsonBody<UpdateLineRequest>,
) -> Result<HttpResponse, ApiError> {
    let (id, line) = (order_id(&path.0)?, line_id(&path.1)?);
    let write = write(&req, OrderAnswer::Ok)?;
    let quantity = quantity(body.0.quantity)?;
    let orders = orders.into_inner();
    let order = blocking(move || orders.update_line_quantity(id, line, quantity, write)).await?;
    Ok(ok(&order))
}

#[utoipa::path(delete, path = "/api/v1/order-mgmt/orders/{id}/lines/{line_id}", tag = "lines", params(("id" = Uuid, Path, description = "Order id"), ("line_id" = Uuid, Path, description = "Line id"), ("If-Match" = Option<String>, Header, description = "Apply only if the order is still at this ETag, e.g. \"3\"")), responses((status = 204, description = "Removed", headers(("ETag" = String, description = "The new order version")))))]
#[tracing::instrument(skip_all, fields(id = %path.0, line_id = %path.1))]
pub(crate) async fn remove_line(
    orders: web::Data<Orders>,
    path: web::Path<(String, String)>,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let (id, line) = (order_id(&path.0)?, line_id(&path.1)?);
    let write = write(&req, OrderAnswer::Ok)?;
    let orders = orders.into_inner();
    let order = blocking(move || orders.remove_line(id, line, write)).await?;
    Ok(HttpResponse::NoContent()
        .insert_header((header::ETAG, etag(order.version())))
        .finish())
}
