//! `/api/v1/order-mgmt/orders...`: the 14 order endpoints.

use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use order_app::{OrderFilter, Orders};
use order_domain::{CustomerId, LineId, Order, OrderId, OrderNumber, OrderStatus, Quantity};

use crate::dto::{
    AddLineRequest, CancelRequest, CreateOrderRequest, Envelope, ListEnvelope, OrderDto,
    UpdateLineRequest,
};
use crate::error::ApiError;
use crate::extract::{blocking, etag, if_match, page_query, path_uuid, JsonBody, OptionalJsonBody};

/// Path prefix of the order API.
pub const BASE: &str = "/api/v1/order-mgmt";

/// Registers the order routes.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::scope(BASE)
            .route("/orders", web::post().to(create))
            .route("/orders", web::get().to(list))
            .route(
                "/orders/number/{order_number}",
                web::get().to(get_by_number),
            )
            .route(
                "/orders/customer/{customer_id}",
                web::get().to(list_for_customer),
            )
            .route("/orders/status/{status}", web::get().to(list_by_status))
            .route("/orders/{id}", web::get().to(get))
            .route("/orders/{id}", web::delete().to(delete))
            .route("/orders/{id}/confirm", web::post().to(confirm))
            .route("/orders/{id}/process", web::post().to(process))
            .route("/orders/{id}/fulfill", web::post().to(fulfill))
            .route("/orders/{id}/cancel", web::post().to(cancel))
            .route("/orders/{id}/lines", web::post().to(add_line))
            .route("/orders/{id}/lines/{line_id}", web::put().to(update_line))
            .route(
                "/orders/{id}/lines/{line_id}",
                web::delete().to(remove_line),
            ),
    );
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

/// 200 with the order, its `ETag`.
fn ok(order: &Order) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((header::ETAG, etag(order.version())))
        .json(Envelope {
            data: OrderDto::from(order),
        })
}

/// 201 with the order, its `ETag` and a `Location`.
fn created(order: &Order, location: String) -> HttpResponse {
    HttpResponse::Created()
        .insert_header((header::ETAG, etag(order.version())))
        .insert_header((header::LOCATION, location))
        .json(Envelope {
            data: OrderDto::from(order),
        })
}

fn order_location(id: OrderId) -> String {
    format!("{BASE}/orders/{id}")
}

fn page_of(page: order_app::Page<Order>) -> HttpResponse {
    HttpResponse::Ok().json(ListEnvelope::from_page(page, |o| OrderDto::from(&o)))
}

#[tracing::instrument(skip_all)]
async fn create(
    orders: web::Data<Orders>,
    body: JsonBody<CreateOrderRequest>,
) -> Result<HttpResponse, ApiError> {
    let cmd = body.0.try_into_domain()?;
    let orders = orders.into_inner();
    let order = blocking(move || orders.create(cmd)).await?;
    Ok(created(&order, order_location(order.id())))
}

#[tracing::instrument(skip_all, fields(id = %id))]
async fn get(orders: web::Data<Orders>, id: web::Path<String>) -> Result<HttpResponse, ApiError> {
    let id = order_id(&id)?;
    let orders = orders.into_inner();
    let order = blocking(move || orders.get(id)).await?;
    Ok(ok(&order))
}

#[tracing::instrument(skip_all, fields(number = %number))]
async fn get_by_number(
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

#[tracing::instrument(skip_all)]
async fn list(orders: web::Data<Orders>, req: HttpRequest) -> Result<HttpResponse, ApiError> {
    let page = page_query(&req)?;
    let orders = orders.into_inner();
    Ok(page_of(
        blocking(move || orders.list(OrderFilter::default(), page)).await?,
    ))
}

#[tracing::instrument(skip_all, fields(customer_id = %customer_id))]
async fn list_for_customer(
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

#[tracing::instrument(skip_all, fields(status = %status))]
async fn list_by_status(
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

#[tracing::instrument(skip_all, fields(id = %id))]
async fn delete(
    orders: web::Data<Orders>,
    id: web::Path<String>,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let id = order_id(&id)?;
    let expected = if_match(&req)?;
    let orders = orders.into_inner();
    blocking(move || orders.delete(id, expected)).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// The four lifecycle transitions share everything but the use case they call.
async fn transition(
    orders: web::Data<Orders>,
    id: &str,
    req: &HttpRequest,
    run: impl FnOnce(&Orders, OrderId, Option<u64>) -> Result<Order, order_app::AppError>
        + Send
        + 'static,
) -> Result<HttpResponse, ApiError> {
    let id = order_id(id)?;
    let expected = if_match(req)?;
    let orders = orders.into_inner();
    let order = blocking(move || run(&orders, id, expected)).await?;
    Ok(ok(&order))
}

#[tracing::instrument(skip_all, fields(id = %id))]
async fn confirm(
    orders: web::Data<Orders>,
    id: web::Path<String>,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    transition(orders, &id, &req, |o, id, v| o.confirm(id, v)).await
}

#[tracing::instrument(skip_all, fields(id = %id))]
async fn process(
    orders: web::Data<Orders>,
    id: web::Path<String>,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    transition(orders, &id, &req, |o, id, v| o.start_processing(id, v)).await
}

#[tracing::instrument(skip_all, fields(id = %id))]
async fn fulfill(
    orders: web::Data<Orders>,
    id: web::Path<String>,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    transition(orders, &id, &req, |o, id, v| o.mark_fulfilled(id, v)).await
}

#[tracing::instrument(skip_all, fields(id = %id))]
async fn cancel(
    orders: web::Data<Orders>,
    id: web::Path<String>,
    req: HttpRequest,
    body: OptionalJsonBody<CancelRequest>,
) -> Result<HttpResponse, ApiError> {
    let reason = body.0.reason;
    transition(orders, &id, &req, move |o, id, v| o.cancel(id, reason, v)).await
}

#[tracing::instrument(skip_all, fields(id = %id))]
async fn add_line(
    orders: web::Data<Orders>,
    id: web::Path<String>,
    req: HttpRequest,
    body: JsonBody<AddLineRequest>,
) -> Result<HttpResponse, ApiError> {
    let id = order_id(&id)?;
    let expected = if_match(&req)?;
    let cmd = body.0.try_into_domain()?;
    let orders = orders.into_inner();
    let (order, line) = blocking(move || orders.add_line(id, cmd, expected)).await?;
    Ok(created(
        &order,
        format!("{}/lines/{line}", order_location(id)),
    ))
}

#[tracing::instrument(skip_all, fields(id = %path.0, line_id = %path.1))]
async fn update_line(
    orders: web::Data<Orders>,
    path: web::Path<(String, String)>,
    req: HttpRequest,
    body: JsonBody<UpdateLineRequest>,
) -> Result<HttpResponse, ApiError> {
    let (id, line) = (order_id(&path.0)?, line_id(&path.1)?);
    let expected = if_match(&req)?;
    let quantity = quantity(body.0.quantity)?;
    let orders = orders.into_inner();
    let order = blocking(move || orders.update_line_quantity(id, line, quantity, expected)).await?;
    Ok(ok(&order))
}

#[tracing::instrument(skip_all, fields(id = %path.0, line_id = %path.1))]
async fn remove_line(
    orders: web::Data<Orders>,
    path: web::Path<(String, String)>,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let (id, line) = (order_id(&path.0)?, line_id(&path.1)?);
    let expected = if_match(&req)?;
    let orders = orders.into_inner();
    let order = blocking(move || orders.remove_line(id, line, expected)).await?;
    Ok(HttpResponse::NoContent()
        .insert_header((header::ETAG, etag(order.version())))
        .finish())
}
