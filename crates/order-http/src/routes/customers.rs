//! `/api/v1/customer-mgmt/customers...`: the minimal Customer Management API
//! the described order flow uses.

use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use order_app::Customers;
use order_domain::CustomerId;

use crate::dto::{CreateCustomerRequest, CustomerDto, Envelope, ListEnvelope};
use crate::error::ApiError;
use crate::extract::{blocking, page_query, path_uuid, JsonBody};

/// Path prefix of the customer API.
pub const BASE: &str = "/api/v1/customer-mgmt";

/// Registers the customer routes.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::scope(BASE)
            .route("/customers", web::post().to(create))
            .route("/customers", web::get().to(list))
            .route("/customers/{id}", web::get().to(get)),
    );
}

#[tracing::instrument(skip_all)]
async fn create(
    customers: web::Data<Customers>,
    body: JsonBody<CreateCustomerRequest>,
) -> Result<HttpResponse, ApiError> {
    let customers = customers.into_inner();
    let customer = blocking(move || customers.create(body.0.into())).await?;
    Ok(HttpResponse::Created()
        .insert_header((
            header::LOCATION,
            format!("{BASE}/customers/{}", customer.id()),
        ))
        .json(Envelope {
            data: CustomerDto::from(&customer),
        }))
}

#[tracing::instrument(skip_all, fields(id = %id))]
async fn get(
    customers: web::Data<Customers>,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = CustomerId::from_uuid(path_uuid("id", &id)?);
    let customers = customers.into_inner();
    let customer = blocking(move || customers.get(id)).await?;
    Ok(HttpResponse::Ok().json(Envelope {
        data: CustomerDto::from(&customer),
    }))
}

#[tracing::instrument(skip_all)]
async fn list(customers: web::Data<Customers>, req: HttpRequest) -> Result<HttpResponse, ApiError> {
    let page = page_query(&req)?;
    let customers = customers.into_inner();
    let page = blocking(move || customers.list(page)).await?;
    Ok(HttpResponse::Ok().json(ListEnvelope::from_page(page, |c| CustomerDto::from(&c))))
}
