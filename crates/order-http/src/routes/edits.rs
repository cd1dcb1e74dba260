//! `/api/v1/order-mgmt/orders/{id}/edits...`: edits after confirmation —
//! begin against the order's version, stage changes, read the preview,
//! commit (`If-Match`) or discard.

use actix_web::{web, HttpRequest, HttpResponse};
use order_app::idempotency::Outcome;
use order_app::AppError;
use order_domain::{EditId, OrderEdit};

use super::orders::{order_id, run_write, write, write_once};
use crate::answer::{self, OrderAnswer};
use crate::dto::{EditDto, Envelope, OrderDto, StageChangesRequest};
use crate::error::ApiError;
use crate::extract::{actor, blocking, path_uuid, JsonBody};
use crate::idempotency::{active_claim, replayed};
use crate::paths::{EDIT, EDITS, EDIT_CHANGES, EDIT_COMMIT};

/// The order use cases as this caller may use them (restricted to its
/// customer when its key is bound to one).
type Orders = crate::auth::CallerOrders;

routes! {
    post EDITS => begin,
    get EDIT => get,
    delete EDIT => discard,
    post EDIT_CHANGES => stage,
    post EDIT_COMMIT => commit,
}

fn edit_id(raw: &str) -> Result<EditId, ApiError> {
    path_uuid("edit_id", raw).map(EditId::from_uuid)
}

/// The edit the first request with this `Idempotency-Key` wrote, if `req`
/// is its retry: rendered instead of running the use case again.
fn replayed_edit(req: &HttpRequest) -> Result<Option<OrderEdit>, ApiError> {
    match replayed(req) {
        None => Ok(None),
        Some(Outcome::Edit(edit)) => Ok(Some(*edit)),
        Some(other) => Err(ApiError::App(AppError::Unexpected(format!(
            "an edit write replayed {other:?}"
        )))),
    }
}

const IF_MATCH: &str = "RFC 9110: apply only if the order's ETag is one of these strong tags (e.g. \"3\"); * applies to any existing order; weak tags never match";

#[utoipa::path(post, path = EDITS, operation_id = "begin_edit", tag = "edits", params(("id" = Uuid, Path, description = "Order id"), ("If-Match" = Option<String>, Header, description = IF_MATCH)), responses((status = 201, description = "The edit, open, against the order's current version (its `base_version`); the order does not change. Location names the edit. Refused with 409 `invalid_order_status` unless the order is confirmed or processing", body = Envelope<EditDto>, headers(("Location" = String, description = "URL of the edit")), links(
    ("get_edit" = (operation_id = "get_edit", parameters(("id" = "$request.path.id"), ("edit_id" = "$response.body#/data/id")), description = "Read the edit and its preview")),
    ("stage_edit_changes" = (operation_id = "stage_edit_changes", parameters(("id" = "$request.path.id"), ("edit_id" = "$response.body#/data/id")), description = "Stage changes")),
    ("discard_edit" = (operation_id = "discard_edit", parameters(("id" = "$request.path.id"), ("edit_id" = "$response.body#/data/id")), description = "Discard the edit")),
    ("commit_edit" = (operation_id = "commit_edit", parameters(("id" = "$request.path.id"), ("edit_id" = "$response.body#/data/id")), description = "Commit the edit")),
))))]
pub(crate) async fn begin(
    orders: Orders,
    id: web::Path<String>,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let id = order_id(&id)?;
    let edit = match replayed_edit(&req)? {
        Some(edit) => edit,
        None => {
            let write = write(&orders, id, &req).await?;
            run_write(orders, &req, move |orders| orders.begin_edit(id, write)).await?
        }
    };
    Ok(answer::edit_begun(&edit))
}

#[utoipa::path(get, path = EDIT, operation_id = "get_edit", tag = "edits", params(("id" = Uuid, Path, description = "Order id"), ("edit_id" = Uuid, Path, description = "Edit id")), responses((status = 200, description = "The edit; while it is open and the order still at its base version, with `preview` (per-line diff, totals before and after, the difference to pay or refund); `stale` says whether the order moved on", body = Envelope<EditDto>)))]
pub(crate) async fn get(
    orders: Orders,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let id = order_id(&path.0)?;
    let edit_id = edit_id(&path.1)?;
    let orders = orders.into_inner();
    let view = blocking(move || orders.get_edit(id, edit_id)).await?;
    Ok(HttpResponse::Ok().json(Envelope {
        data: EditDto::from(&view),
    }))
}

#[utoipa::path(post, path = EDIT_CHANGES, operation_id = "stage_edit_changes", tag = "edits", params(("id" = Uuid, Path, description = "Order id"), ("edit_id" = Uuid, Path, description = "Edit id")), request_body = StageChangesRequest, responses((status = 200, description = "The edit with the changes staged (all or none; each checked against the order as the edit would leave it); the order does not change. 412 `edit_stale` once the order moved on", body = Envelope<EditDto>)))]
pub(crate) async fn stage(
    orders: Orders,
    path: web::Path<(String, String)>,
    req: HttpRequest,
    body: JsonBody<StageChangesRequest>,
) -> Result<HttpResponse, ApiError> {
    let id = order_id(&path.0)?;
    let edit_id = edit_id(&path.1)?;
    let changes = body.0.try_into_domain()?;
    // Staging records no event, so there is no actor to keep; a malformed
    // X-Actor is still refused, as the document says of every write.
    actor(&req)?;
    let edit = match replayed_edit(&req)? {
        Some(edit) => edit,
        None => {
            let claim = active_claim(&req);
            run_write(orders, &req, move |orders| {
                orders.stage_edit(id, edit_id, changes, claim)
            })
            .await?
        }
    };
    Ok(answer::edit(&edit))
}

#[utoipa::path(post, path = EDIT_COMMIT, operation_id = "commit_edit", tag = "edits", params(("id" = Uuid, Path, description = "Order id"), ("edit_id" = Uuid, Path, description = "Edit id"), ("If-Match" = Option<String>, Header, description = IF_MATCH)), responses((status = 200, description = "The order with every staged change applied at once (one version, one `order.edited` event); 412 `edit_stale` when the order changed since the edit began, 412 `version_mismatch` when If-Match does not hold, 409 `edit_empty` when the edit would change nothing", body = Envelope<OrderDto>, headers(("ETag" = String, description = "The order version")))))]
pub(crate) async fn commit(
    orders: Orders,
    path: web::Path<(String, String)>,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let id = order_id(&path.0)?;
    let edit_id = edit_id(&path.1)?;
    let (order, _) = write_once(orders, Some(id), &req, move |orders, write| {
        orders
            .commit_edit(id, edit_id, write)
            .map(|(order, _)| (order, None))
    })
    .await?;
    Ok(answer::order(OrderAnswer::Ok, &order, None))
}

#[utoipa::path(delete, path = EDIT, operation_id = "discard_edit", tag = "edits", params(("id" = Uuid, Path, description = "Order id"), ("edit_id" = Uuid, Path, description = "Edit id")), responses((status = 200, description = "The edit, discarded; the order never changed. 409 `edit_not_open` if it was committed or discarded already", body = Envelope<EditDto>)))]
pub(crate) async fn discard(
    orders: Orders,
    path: web::Path<(String, String)>,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let id = order_id(&path.0)?;
    let edit_id = edit_id(&path.1)?;
    // As for staging: no event, but the header means the same everywhere.
    actor(&req)?;
    let edit = run_write(orders, &req, move |orders| orders.discard_edit(id, edit_id)).await?;
    Ok(answer::edit(&edit))
}
