//! `/api/v1/order-mgmt/orders...`: the 17 order endpoints.

use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use order_app::idempotency::Outcome;
use order_app::{AppError, OrderFilter, OrderService, Write};
use order_domain::{
    CustomerId, DiscountId, LineId, Order, OrderId, OrderNumber, OrderStatus, Quantity,
};

use crate::answer::{self, OrderAnswer};
#[allow(unused_imports)] // referenced from the OpenAPI attributes only
use crate::dto::StatusParam;
use crate::dto::{
    AddDiscountRequest, AddLineRequest, CancelRequest, CreateOrderRequest, Envelope, EventsPage,
    ListEnvelope, OrderDto, UpdateLineRequest,
};
use crate::error::ApiError;
use crate::extract::{
    actor, blocking, etag, events_query, if_match, page_query, path_uuid, IfMatch, JsonBody,
    OptionalJsonBody,
};
use crate::idempotency::{active_claim, replayed};
use crate::paths::{
    CANCEL, CONFIRM, DISCOUNT, DISCOUNTS, FULFILL, LINE, LINES, ORDER, ORDERS, ORDERS_IN_STATUS,
    ORDERS_OF_CUSTOMER, ORDER_BY_NUMBER, ORDER_EVENTS, PROCESS,
};

/// The order use cases, as the handlers receive them.
/// The order use cases as this caller may use them (restricted to its
/// customer when its key is bound to one).
type Orders = crate::auth::CallerOrders;

routes! {
    post ORDERS => create,
    get ORDERS => list,
    get ORDER_BY_NUMBER => get_by_number,
    get ORDERS_OF_CUSTOMER => list_for_customer,
    get ORDERS_IN_STATUS => list_by_status,
    get ORDER => get,
    get ORDER_EVENTS => events,
    delete ORDER => delete,
    post CONFIRM => confirm,
    post PROCESS => process,
    post FULFILL => fulfill,
    post CANCEL => cancel,
    post LINES => add_line,
    put LINE => update_line,
    delete LINE => remove_line,
    post DISCOUNTS => add_discount,
    delete DISCOUNT => remove_discount,
}

pub(crate) fn order_id(raw: &str) -> Result<OrderId, ApiError> {
    path_uuid("id", raw).map(OrderId::from_uuid)
}

fn line_id(raw: &str) -> Result<LineId, ApiError> {
    path_uuid("line_id", raw).map(LineId::from_uuid)
}

fn discount_id(raw: &str) -> Result<DiscountId, ApiError> {
    path_uuid("discount_id", raw).map(DiscountId::from_uuid)
}

fn quantity(raw: i64) -> Result<Quantity, ApiError> {
    Quantity::new(raw).map_err(|e| ApiError::App(e.into()))
}

/// 200 with the order and its `ETag`.
fn ok(order: &Order) -> HttpResponse {
    answer::order(OrderAnswer::Ok, order, None)
}

/// The precondition of a write to order `id`, from its `If-Match`
/// (RFC 9110 section 13.1.1), and the idempotency claim to complete.
///
/// One listed version is checked by the use case against the version it
/// loads (and by its compare-and-set); several need the current version first,
/// to pick the one that must still hold when the write lands. `*` needs the
/// order to exist, which the write itself finds out ([`run_write`]).
pub(crate) async fn write(
    orders: &Orders,
    id: OrderId,
    req: &HttpRequest,
) -> Result<Write, ApiError> {
    // A malformed header is the request's fault (400) whatever the
    // precondition would answer, so it is read before If-Match is decided.
    let actor = actor(req)?;
    let expected_version = match if_match(req)? {
        None | Some(IfMatch::Any) => None,
        Some(IfMatch::Versions(versions)) => match versions.as_slice() {
            [only] => Some(*only),
            _ => {
                let service = orders.clone().into_inner();
                let current = blocking(move || service.get(id)).await?.version();
                if !versions.contains(&current) {
                    return Err(match versions.first() {
                        Some(&expected) => ApiError::App(AppError::VersionMismatch {
                            expected,
                            actual: current,
                        }),
                        None => ApiError::PreconditionFailed(
                            "no entity tag in If-Match can match: this API's ETags are strong \
                             versions, e.g. \"3\""
                                .to_owned(),
                        ),
                    });
                }
                Some(current)
            }
        },
    };
    Ok(Write {
        expected_version,
        claim: active_claim(req),
        actor,
    })
}

/// Runs `run` on the blocking pool; with `If-Match: *`, an order that does
/// not exist fails the precondition (412) instead of being not found.
pub(crate) async fn run_write<T: Send + 'static>(
    orders: Orders,
    req: &HttpRequest,
    run: impl FnOnce(&dyn OrderService) -> Result<T, AppError> + Send + 'static,
) -> Result<T, ApiError> {
    let any = matches!(if_match(req), Ok(Some(IfMatch::Any)));
    let orders = orders.into_inner();
    blocking(move || run(&*orders)).await.map_err(|e| match e {
        ApiError::App(AppError::NotFound {
            entity: "order", ..
        }) if any => {
            ApiError::PreconditionFailed("If-Match: * requires the order to exist".to_owned())
        }
        other => other,
    })
}

/// Runs an order write once: the order it wrote and the line it touched;
/// for a retried `Idempotency-Key`, the ones the first request wrote.
pub(crate) async fn write_once(
    orders: Orders,
    id: Option<OrderId>,
    req: &HttpRequest,
    run: impl FnOnce(&dyn OrderService, Write) -> Result<(Order, Option<LineId>), AppError>
        + Send
        + 'static,
) -> Result<(Order, Option<LineId>), ApiError> {
    // A replay answers what the first request wrote, but a malformed header
    // is still 400: the key's fingerprint does not cover `X-Actor`.
    actor(req)?;
    match replayed(req) {
        Some(Outcome::Order { order, line }) => return Ok((*order, line)),
        Some(other) => {
            return Err(ApiError::App(AppError::Unexpected(format!(
                "an order write replayed {other:?}"
            ))))
        }
        None => {}
    }
    let write = match id {
        Some(id) => write(&orders, id, req).await?,
        None => Write {
            expected_version: None,
            claim: active_claim(req),
            actor: actor(req)?,
        },
    };
    run_write(orders, req, move |orders| run(orders, write)).await
}

fn page_of(page: order_app::Page<Order>) -> HttpResponse {
    HttpResponse::Ok().json(ListEnvelope::from_page(page, |o| OrderDto::listed(&o)))
}

#[utoipa::path(post, path = ORDERS, operation_id = "create_order", tag = "orders", request_body = CreateOrderRequest, responses((status = 201, description = "The created order", body = Envelope<OrderDto>, headers(("ETag" = String, description = "The order version"), ("Location" = String, description = "URL of the created resource")), links(
    ("get_order" = (operation_id = "get_order", parameters(("id" = "$response.body#/data/id")), description = "Read the order back")),
    ("add_line" = (operation_id = "add_line", parameters(("id" = "$response.body#/data/id")), description = "Add a product line")),
    ("cancel" = (operation_id = "cancel", parameters(("id" = "$response.body#/data/id")), description = "Cancel the order")),
    ("delete_order" = (operation_id = "delete_order", parameters(("id" = "$response.body#/data/id")), description = "Delete the pending order")),
))))]
pub(crate) async fn create(
    orders: Orders,
    req: HttpRequest,
    body: JsonBody<CreateOrderRequest>,
) -> Result<HttpResponse, ApiError> {
    let mut cmd = body.0.try_into_domain()?;
    cmd.actor = actor(&req)?;
    let (order, _) = write_once(orders, None, &req, |orders, write| {
        orders.create(cmd, write.claim).map(|order| (order, None))
    })
    .await?;
    Ok(answer::order(OrderAnswer::Created, &order, None))
}

#[utoipa::path(get, path = ORDER, operation_id = "get_order", tag = "orders", params(("id" = Uuid, Path, description = "Order id")), responses((status = 200, description = "The order", body = Envelope<OrderDto>, headers(("ETag" = String, description = "The order version, for If-Match")))))]
pub(crate) async fn get(orders: Orders, id: web::Path<String>) -> Result<HttpResponse, ApiError> {
    let id = order_id(&id)?;
    let orders = orders.into_inner();
    let order = blocking(move || orders.get(id)).await?;
    Ok(ok(&order))
}

#[utoipa::path(get, path = ORDER_BY_NUMBER, tag = "orders", params(("order_number" = String, Path, description = "ORD-YYYY-NNNNNN (at least six counter digits, no extra leading zeros)", pattern = r"^ORD-[1-9][0-9]{3}-(?!0{6}$)(?:[0-9]{6}|[1-9][0-9]{6,18})$", example = "ORD-2025-000001")), responses((status = 200, description = "The order", body = Envelope<OrderDto>, headers(("ETag" = String, description = "The order version, for If-Match")))))]
pub(crate) async fn get_by_number(
    orders: Orders,
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

#[utoipa::path(get, path = ORDERS, operation_id = "list_orders", tag = "orders", params(("page" = Option<u32>, Query, minimum = 1, maximum = 10001, description = "1-based page (default 1); a numbered page may skip at most 10,000 items, read deeper with `after`"), ("page_size" = Option<u32>, Query, minimum = 1, maximum = 100, description = "Items per page (default 20)"), ("after" = Option<String>, Query, description = "The `next_cursor` of the previous page: reads the next page at the same cost at any depth; mutually exclusive with `page` (both: 400)"), ("include_total" = Option<bool>, Query, description = "Count `total_items` (exactly up to 10,000, estimated beyond); default false: a page with a next page carries only the planner's estimate (`total_items_exact` false), the last page of a numbered list is always exact")), responses((status = 200, description = "One page of orders, newest first; each with at most its first 10 lines (`line_count` says how many it has; `GET /orders/{id}` shows all)", body = ListEnvelope<OrderDto>)))]
pub(crate) async fn list(orders: Orders, req: HttpRequest) -> Result<HttpResponse, ApiError> {
    let page = page_query(&req)?;
    let orders = orders.into_inner();
    Ok(page_of(
        blocking(move || orders.list(OrderFilter::default(), page)).await?,
    ))
}

#[utoipa::path(get, path = ORDERS_OF_CUSTOMER, tag = "orders", params(("customer_id" = Uuid, Path, description = "Customer id"), ("page" = Option<u32>, Query, minimum = 1, maximum = 10001, description = "1-based page (default 1); a numbered page may skip at most 10,000 items, read deeper with `after`"), ("page_size" = Option<u32>, Query, minimum = 1, maximum = 100, description = "Items per page (default 20)"), ("after" = Option<String>, Query, description = "The `next_cursor` of the previous page: reads the next page at the same cost at any depth; mutually exclusive with `page` (both: 400)"), ("include_total" = Option<bool>, Query, description = "Count `total_items` (exactly up to 10,000, estimated beyond); default false: a page with a next page carries only the planner's estimate (`total_items_exact` false), the last page of a numbered list is always exact")), responses((status = 200, description = "One page of orders, newest first; each with at most its first 10 lines (`line_count` says how many it has; `GET /orders/{id}` shows all)", body = ListEnvelope<OrderDto>)))]
pub(crate) async fn list_for_customer(
    orders: Orders,
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

#[utoipa::path(get, path = ORDERS_IN_STATUS, tag = "orders", params(("status" = StatusParam, Path, description = "Order status"), ("page" = Option<u32>, Query, minimum = 1, maximum = 10001, description = "1-based page (default 1); a numbered page may skip at most 10,000 items, read deeper with `after`"), ("page_size" = Option<u32>, Query, minimum = 1, maximum = 100, description = "Items per page (default 20)"), ("after" = Option<String>, Query, description = "The `next_cursor` of the previous page: reads the next page at the same cost at any depth; mutually exclusive with `page` (both: 400)"), ("include_total" = Option<bool>, Query, description = "Count `total_items` (exactly up to 10,000, estimated beyond); default false: a page with a next page carries only the planner's estimate (`total_items_exact` false), the last page of a numbered list is always exact")), responses((status = 200, description = "One page of orders, newest first; each with at most its first 10 lines (`line_count` says how many it has; `GET /orders/{id}` shows all)", body = ListEnvelope<OrderDto>)))]
pub(crate) async fn list_by_status(
    orders: Orders,
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

#[utoipa::path(delete, path = ORDER, operation_id = "delete_order", tag = "orders", params(("id" = Uuid, Path, description = "Order id"), ("If-Match" = Option<String>, Header, description = "RFC 9110: apply only if the order's ETag is one of these strong tags (e.g. \"3\" or \"3\", \"4\"); * applies to any existing order; weak tags never match")), responses((status = 204, description = "Soft-deleted")))]
pub(crate) async fn delete(
    orders: Orders,
    id: web::Path<String>,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let id = order_id(&id)?;
    let write = write(&orders, id, &req).await?;
    run_write(orders, &req, move |orders| orders.delete(id, write)).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// The four lifecycle transitions share everything but the use case they call.
pub(crate) async fn transition(
    orders: Orders,
    id: &str,
    req: &HttpRequest,
    run: impl FnOnce(&dyn OrderService, OrderId, Write) -> Result<Order, AppError> + Send + 'static,
) -> Result<HttpResponse, ApiError> {
    let id = order_id(id)?;
    let (order, _) = write_once(orders, Some(id), req, move |orders, write| {
        run(orders, id, write).map(|order| (order, None))
    })
    .await?;
    Ok(ok(&order))
}

#[utoipa::path(post, path = CONFIRM, tag = "lifecycle", params(("id" = Uuid, Path, description = "Order id"), ("If-Match" = Option<String>, Header, description = "RFC 9110: apply only if the order's ETag is one of these strong tags (e.g. \"3\" or \"3\", \"4\"); * applies to any existing order; weak tags never match")), responses((status = 200, description = "The order", body = Envelope<OrderDto>, headers(("ETag" = String, description = "The order version, for If-Match")), links(
    ("process" = (operation_id = "process", parameters(("id" = "$request.path.id")), description = "Start processing the confirmed order")),
))))]
pub(crate) async fn confirm(
    orders: Orders,
    id: web::Path<String>,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    transition(orders, &id, &req, |o, id, v| o.confirm(id, v)).await
}

#[utoipa::path(post, path = PROCESS, tag = "lifecycle", params(("id" = Uuid, Path, description = "Order id"), ("If-Match" = Option<String>, Header, description = "RFC 9110: apply only if the order's ETag is one of these strong tags (e.g. \"3\" or \"3\", \"4\"); * applies to any existing order; weak tags never match")), responses((status = 200, description = "The order", body = Envelope<OrderDto>, headers(("ETag" = String, description = "The order version, for If-Match")), links(
    ("fulfill" = (operation_id = "fulfill", parameters(("id" = "$request.path.id")), description = "Mark the order fulfilled")),
))))]
pub(crate) async fn process(
    orders: Orders,
    id: web::Path<String>,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    transition(orders, &id, &req, |o, id, v| o.start_processing(id, v)).await
}

#[utoipa::path(post, path = FULFILL, tag = "lifecycle", params(("id" = Uuid, Path, description = "Order id"), ("If-Match" = Option<String>, Header, description = "RFC 9110: apply only if the order's ETag is one of these strong tags (e.g. \"3\" or \"3\", \"4\"); * applies to any existing order; weak tags never match")), responses((status = 200, description = "The order", body = Envelope<OrderDto>, headers(("ETag" = String, description = "The order version, for If-Match")))))]
pub(crate) async fn fulfill(
    orders: Orders,
    id: web::Path<String>,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    transition(orders, &id, &req, |o, id, v| o.mark_fulfilled(id, v)).await
}

#[utoipa::path(post, path = CANCEL, tag = "lifecycle", params(("id" = Uuid, Path, description = "Order id"), ("If-Match" = Option<String>, Header, description = "RFC 9110: apply only if the order's ETag is one of these strong tags (e.g. \"3\" or \"3\", \"4\"); * applies to any existing order; weak tags never match")), request_body(content = Option<CancelRequest>, description = "Optional reason"), responses((status = 200, description = "The order", body = Envelope<OrderDto>, headers(("ETag" = String, description = "The order version, for If-Match")))))]
pub(crate) async fn cancel(
    orders: Orders,
    id: web::Path<String>,
    req: HttpRequest,
    body: OptionalJsonBody<CancelRequest>,
) -> Result<HttpResponse, ApiError> {
    let reason = body.0.try_into_domain()?;
    transition(orders, &id, &req, move |o, id, v| o.cancel(id, reason, v)).await
}

#[utoipa::path(post, path = LINES, tag = "lines", params(("id" = Uuid, Path, description = "Order id"), ("If-Match" = Option<String>, Header, description = "RFC 9110: apply only if the order's ETag is one of these strong tags (e.g. \"3\" or \"3\", \"4\"); * applies to any existing order; weak tags never match")), request_body = AddLineRequest, responses((status = 201, description = "The order with the line; Location names the line", body = Envelope<OrderDto>, headers(("ETag" = String, description = "The order version"), ("Location" = String, description = "URL of the created resource")), links(
    ("update_line" = (operation_id = "update_line", parameters(("id" = "$request.path.id"), ("line_id" = "$response.body#/data/lines/0/id")), description = "Change the quantity of a line")),
    ("remove_line" = (operation_id = "remove_line", parameters(("id" = "$request.path.id"), ("line_id" = "$response.body#/data/lines/0/id")), description = "Remove a line")),
    ("confirm" = (operation_id = "confirm", parameters(("id" = "$request.path.id")), description = "Confirm the order")),
))))]
pub(crate) async fn add_line(
    orders: Orders,
    id: web::Path<String>,
    req: HttpRequest,
    body: JsonBody<AddLineRequest>,
) -> Result<HttpResponse, ApiError> {
    let id = order_id(&id)?;
    let cmd = body.0.try_into_domain()?;
    let (order, line) = write_once(orders, Some(id), &req, move |orders, write| {
        orders
            .add_line(id, cmd, write)
            .map(|(order, line)| (order, Some(line)))
    })
    .await?;
    Ok(answer::order(OrderAnswer::LineCreated, &order, line))
}

#[utoipa::path(put, path = LINE, tag = "lines", params(("id" = Uuid, Path, description = "Order id"), ("line_id" = Uuid, Path, description = "Line id"), ("If-Match" = Option<String>, Header, description = "RFC 9110: apply only if the order's ETag is one of these strong tags (e.g. \"3\" or \"3\", \"4\"); * applies to any existing order; weak tags never match")), request_body = UpdateLineRequest, responses((status = 200, description = "The order", body = Envelope<OrderDto>, headers(("ETag" = String, description = "The order version, for If-Match")))))]
pub(crate) async fn update_line(
    orders: Orders,
    path: web::Path<(String, String)>,
    req: HttpRequest,
    body: JsonBody<UpdateLineRequest>,
) -> Result<HttpResponse, ApiError> {
    let (id, line) = (order_id(&path.0)?, line_id(&path.1)?);
    // The body before `write`, which may consult the idempotency store.
    let quantity = quantity(body.0.quantity)?;
    let write = write(&orders, id, &req).await?;
    let order = run_write(orders, &req, move |orders| {
        orders.update_line_quantity(id, line, quantity, write)
    })
    .await?;
    Ok(ok(&order))
}

#[utoipa::path(delete, path = LINE, tag = "lines", params(("id" = Uuid, Path, description = "Order id"), ("line_id" = Uuid, Path, description = "Line id"), ("If-Match" = Option<String>, Header, description = "RFC 9110: apply only if the order's ETag is one of these strong tags (e.g. \"3\" or \"3\", \"4\"); * applies to any existing order; weak tags never match")), responses((status = 204, description = "Removed", headers(("ETag" = String, description = "The new order version")))))]
pub(crate) async fn remove_line(
    orders: Orders,
    path: web::Path<(String, String)>,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let (id, line) = (order_id(&path.0)?, line_id(&path.1)?);
    let write = write(&orders, id, &req).await?;
    let order = run_write(orders, &req, move |orders| {
        orders.remove_line(id, line, write)
    })
    .await?;
    Ok(HttpResponse::NoContent()
        .insert_header((header::ETAG, etag(order.version())))
        .finish())
}

#[utoipa::path(get, path = ORDER_EVENTS, operation_id = "order_events", tag = "orders",
    params(
        ("id" = Uuid, Path, description = "Order id (soft-deleted orders keep their history)"),
        ("after" = Option<u64>, Query, description = "Only events with a greater sequence (default 0: from the start)", minimum = 0, maximum = 9_223_372_036_854_775_807_i64),
        ("limit" = Option<u32>, Query, description = "Events per page, 1 to 500 (default 50)", minimum = 1, maximum = 500),
    ),
    responses((status = 200, description = "The order's events in sequence order; resume with `after` = `next_after`", body = EventsPage)))]
pub(crate) async fn events(
    orders: Orders,
    req: HttpRequest,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = order_id(&id)?;
    let (after, limit) = events_query(&req)?;
    let orders = orders.into_inner();
    let page = blocking(move || orders.history(id, after, limit)).await?;
    let data = page
        .events
        .iter()
        .map(|e| serde_json::from_str(&e.envelope))
        .collect::<Result<Vec<serde_json::Value>, _>>()
        .map_err(|e| ApiError::App(AppError::Unexpected(format!("stored event of {id}: {e}"))))?;
    Ok(HttpResponse::Ok().json(EventsPage {
        data,
        next_after: page.next_after,
    }))
}

#[utoipa::path(post, path = DISCOUNTS, operation_id = "add_discount", tag = "discounts", params(("id" = Uuid, Path, description = "Order id"), ("If-Match" = Option<String>, Header, description = "Apply only if the order is still at this ETag, e.g. \"3\"")), request_body = AddDiscountRequest, responses((status = 201, description = "The order with the discount allocated to its lines; Location names the discount", body = Envelope<OrderDto>, headers(("ETag" = String, description = "The order version"), ("Location" = String, description = "URL of the created discount")), links(
    ("remove_discount" = (operation_id = "remove_discount", parameters(("id" = "$request.path.id"), ("discount_id" = "$response.body#/data/discounts/0/id")), description = "Remove a discount")),
    ("confirm" = (operation_id = "confirm", parameters(("id" = "$request.path.id")), description = "Confirm the order")),
))))]
pub(crate) async fn add_discount(
    orders: Orders,
    id: web::Path<String>,
    req: HttpRequest,
    body: JsonBody<AddDiscountRequest>,
) -> Result<HttpResponse, ApiError> {
    let id = order_id(&id)?;
    let cmd = body.0.try_into_domain()?;
    // The answer names the order's newest discount, which is the one added
    // (also when a retried key replays the order as it was written).
    let (order, _) = write_once(orders, Some(id), &req, move |orders, write| {
        orders
            .add_discount(id, cmd, write)
            .map(|(order, _)| (order, None))
    })
    .await?;
    Ok(answer::order(OrderAnswer::DiscountCreated, &order, None))
}

#[utoipa::path(delete, path = DISCOUNT, operation_id = "remove_discount", tag = "discounts", params(("id" = Uuid, Path, description = "Order id"), ("discount_id" = Uuid, Path, description = "Discount id"), ("If-Match" = Option<String>, Header, description = "Apply only if the order is still at this ETag, e.g. \"3\"")), responses((status = 204, description = "Removed; the discounts after it and every line are priced again", headers(("ETag" = String, description = "The new order version")))))]
pub(crate) async fn remove_discount(
    orders: Orders,
    path: web::Path<(String, String)>,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let (id, discount) = (order_id(&path.0)?, discount_id(&path.1)?);
    let write = write(&orders, id, &req).await?;
    let order = run_write(orders, &req, move |orders| {
        orders.remove_discount(id, discount, write)
    })
    .await?;
    Ok(HttpResponse::NoContent()
        .insert_header((header::ETAG, etag(order.version())))
        .finish())
}
