//! `/api/v1/customer-mgmt/customers...`: the minimal Customer Management API
//! the described order flow uses.

use actix_web::{web, HttpRequest, HttpResponse};
use order_app::idempotency::Outcome;
use order_app::AppError;
use order_domain::CustomerId;

use crate::answer;
use crate::dto::{CreateCustomerRequest, CustomerDto, Envelope, ListEnvelope};
use crate::error::ApiError;
use crate::extract::{blocking, page_query, path_uuid, JsonBody};
use crate::idempotency::{active_claim, replayed};
use crate::paths::{CUSTOMER, CUSTOMERS};

/// The customer use cases, as the handlers receive them.
/// The customer use cases as this caller may use them.
type Customers = crate::auth::CallerCustomers;

routes! {
    post CUSTOMERS => create,
    get CUSTOMERS => list,
    get CUSTOMER => get,
}

#[utoipa::path(post, path = CUSTOMERS, operation_id = "create_customer", tag = "customers", request_body = CreateCustomerRequest, responses((status = 201, description = "The created customer", body = Envelope<CustomerDto>, headers(("Location" = String, description = "URL of the customer")), links(
    ("get_customer" = (operation_id = "get_customer", parameters(("id" = "$response.body#/data/id")), description = "Read the customer back")),
    ("list_orders_of_customer" = (operation_id = "list_for_customer", parameters(("customer_id" = "$response.body#/data/id")), description = "The customer's orders")),
))))]
pub(crate) async fn create(
    customers: Customers,
    req: HttpRequest,
    body: JsonBody<CreateCustomerRequest>,
) -> Result<HttpResponse, ApiError> {
    // A registration records no event, but X-Actor means the same on every
    // write, as the API document says: a malformed one is 400.
    crate::extract::actor(&req)?;
    let new = body.0.try_into_domain()?;
    let customer = match replayed(&req) {
        // A retried Idempotency-Key: the customer the first request registered.
        Some(Outcome::Customer(customer)) => customer,
        Some(other) => {
            return Err(ApiError::App(AppError::Unexpected(format!(
                "a registration replayed {other:?}"
            ))))
        }
        None => {
            let claim = active_claim(&req);
            let customers = customers.into_inner();
            blocking(move || customers.create(new, claim)).await?
        }
    };
    Ok(answer::customer_created(&customer))
}

#[utoipa::path(get, path = CUSTOMER, operation_id = "get_customer", tag = "customers", params(("id" = Uuid, Path, description = "Customer id")), responses((status = 200, description = "The customer", body = Envelope<CustomerDto>)))]
pub(crate) async fn get(
    customers: Customers,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = CustomerId::from_uuid(path_uuid("id", &id)?);
    let customers = customers.into_inner();
    let customer = blocking(move || customers.get(id)).await?;
    Ok(HttpResponse::Ok().json(Envelope {
        data: CustomerDto::from(&customer),
    }))
}

#[utoipa::path(get, path = CUSTOMERS, operation_id = "list_customers", tag = "customers", params(("page" = Option<u32>, Query, minimum = 1, maximum = 10001, description = "1-based page (default 1); a numbered page may skip at most 10,000 items, read deeper with `after`"), ("page_size" = Option<u32>, Query, minimum = 1, maximum = 100, description = "Items per page (default 20)"), ("after" = Option<String>, Query, description = "The `next_cursor` of the previous page: reads the next page at the same cost at any depth; mutually exclusive with `page` (both: 400)")), responses((status = 200, description = "One page of customers, newest first", body = ListEnvelope<CustomerDto>)))]
pub(crate) async fn list(customers: Customers, req: HttpRequest) -> Result<HttpResponse, ApiError> {
    let page = page_query(&req)?;
    let customers = customers.into_inner();
    let page = blocking(move || customers.list(page)).await?;
    Ok(HttpResponse::Ok().json(ListEnvelope::from_page(page, |c| CustomerDto::from(&c))))
}
