//! `/api/v1/order-mgmt/orders/{id}/fulfillments` and `/returns`: shipping a
//! processing order in parts, and taking shipped units back.

use actix_web::{web, HttpRequest, HttpResponse};
use order_domain::{FulfillmentId, Order, OrderId, ReturnId};

use super::orders::{order_id, write_once};
use crate::answer::{self, OrderAnswer};
use crate::dto::{Envelope, FulfillmentDto, OrderDto, ReturnDto, ReturnRequest, ShipRequest};
use crate::error::ApiError;
use crate::extract::{blocking, path_uuid, JsonBody};
use crate::paths::{FULFILLMENT, FULFILLMENTS, RETURN, RETURNS};

/// The order use cases as this caller may use them (restricted to its
/// customer when its key is bound to one).
type Orders = crate::auth::CallerOrders;

routes! {
    post FULFILLMENTS => create_fulfillment,
    get FULFILLMENTS => list_fulfillments,
    get FULFILLMENT => get_fulfillment,
    post RETURNS => create_return,
    get RETURNS => list_returns,
    get RETURN => get_return,
}

/// Reads the order and answers `200` with what `view` makes of it: the four
/// read routes differ only in that.
async fn read<T: serde::Serialize>(
    orders: Orders,
    id: OrderId,
    view: impl FnOnce(&Order) -> Result<T, ApiError>,
) -> Result<HttpResponse, ApiError> {
    let orders = orders.into_inner();
    let order = blocking(move || orders.get(id)).await?;
    Ok(HttpResponse::Ok().json(Envelope {
        data: view(&order)?,
    }))
}

fn not_found(entity: &'static str, id: impl ToString) -> ApiError {
    ApiError::App(order_app::AppError::NotFound {
        entity,
        id: id.to_string(),
    })
}

#[utoipa::path(post, path = FULFILLMENTS, tag = "fulfilment", params(("id" = Uuid, Path, description = "Order id"), ("If-Match" = Option<String>, Header, description = "Apply only if the order is still at this ETag, e.g. \"3\"")), request_body = ShipRequest, responses((status = 201, description = "The order after the shipment (`fulfilled` once nothing is left to ship); Location names the shipment", body = Envelope<OrderDto>, headers(("ETag" = String, description = "The order version"), ("Location" = String, description = "URL of the created shipment")))))]
pub(crate) async fn create_fulfillment(
    orders: Orders,
    id: web::Path<String>,
    req: HttpRequest,
    body: JsonBody<ShipRequest>,
) -> Result<HttpResponse, ApiError> {
    let id = order_id(&id)?;
    let cmd = body.0.try_into_domain()?;
    let (order, _) = write_once(orders, Some(id), &req, move |orders, write| {
        orders
            .create_fulfillment(id, cmd, write)
            .map(|(order, _)| (order, None))
    })
    .await?;
    Ok(answer::order(OrderAnswer::FulfillmentCreated, &order, None))
}

#[utoipa::path(get, path = FULFILLMENTS, tag = "fulfilment", params(("id" = Uuid, Path, description = "Order id")), responses((status = 200, description = "The order's shipments, oldest first", body = Envelope<Vec<FulfillmentDto>>)))]
pub(crate) async fn list_fulfillments(
    orders: Orders,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    read(orders, order_id(&id)?, |order| {
        Ok(order
            .fulfillments()
            .iter()
            .map(|f| FulfillmentDto::of(order, f))
            .collect::<Vec<_>>())
    })
    .await
}

#[utoipa::path(get, path = FULFILLMENT, tag = "fulfilment", params(("id" = Uuid, Path, description = "Order id"), ("fulfillment_id" = Uuid, Path, description = "Shipment id")), responses((status = 200, description = "One shipment", body = Envelope<FulfillmentDto>)))]
pub(crate) async fn get_fulfillment(
    orders: Orders,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let id = order_id(&path.0)?;
    let wanted = FulfillmentId::from_uuid(path_uuid("fulfillment_id", &path.1)?);
    read(orders, id, |order| {
        order
            .fulfillment(wanted)
            .map(|found| FulfillmentDto::of(order, found))
            .ok_or_else(|| not_found("fulfillment", wanted))
    })
    .await
}

#[utoipa::path(post, path = RETURNS, tag = "fulfilment", params(("id" = Uuid, Path, description = "Order id"), ("If-Match" = Option<String>, Header, description = "Apply only if the order is still at this ETag, e.g. \"3\"")), request_body = ReturnRequest, responses((status = 201, description = "The return with its refund_amount; Location names it", body = Envelope<ReturnDto>, headers(("ETag" = String, description = "The order version"), ("Location" = String, description = "URL of the created return")))))]
pub(crate) async fn create_return(
    orders: Orders,
    id: web::Path<String>,
    req: HttpRequest,
    body: JsonBody<ReturnRequest>,
) -> Result<HttpResponse, ApiError> {
    let id = order_id(&id)?;
    let cmd = body.0.try_into_domain()?;
    let (order, _) = write_once(orders, Some(id), &req, move |orders, write| {
        orders
            .create_return(id, cmd, write)
            .map(|(order, _)| (order, None))
    })
    .await?;
    Ok(answer::return_created(&order))
}

#[utoipa::path(get, path = RETURNS, tag = "fulfilment", params(("id" = Uuid, Path, description = "Order id")), responses((status = 200, description = "The order's returns, oldest first", body = Envelope<Vec<ReturnDto>>)))]
pub(crate) async fn list_returns(
    orders: Orders,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    read(orders, order_id(&id)?, |order| {
        Ok(order
            .returns()
            .iter()
            .map(|r| ReturnDto::of(order, r))
            .collect::<Vec<_>>())
    })
    .await
}

#[utoipa::path(get, path = RETURN, tag = "fulfilment", params(("id" = Uuid, Path, description = "Order id"), ("return_id" = Uuid, Path, description = "Return id")), responses((status = 200, description = "One return", body = Envelope<ReturnDto>)))]
pub(crate) async fn get_return(
    orders: Orders,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let id = order_id(&path.0)?;
    let wanted = ReturnId::from_uuid(path_uuid("return_id", &path.1)?);
    read(orders, id, |order| {
        order
            .return_by_id(wanted)
            .map(|found| ReturnDto::of(order, found))
            .ok_or_else(|| not_found("return", wanted))
    })
    .await
}
