//! Successful answers rendered once as bytes ([`StoredResponse`]), so the
//! response a client gets and the one stored for idempotent replays are the
//! same bytes by construction.

use actix_web::http::header::{CONTENT_TYPE, ETAG, LOCATION};
use actix_web::http::StatusCode;
use actix_web::HttpResponse;
use order_app::customers::Customer;
use order_app::idempotency::StoredResponse;
use order_domain::{LineId, Order};

use crate::dto::{CustomerDto, Envelope, OrderDto};
use crate::extract::etag;

/// Which answer a successful order write gives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OrderAnswer {
    /// 200 with the order.
    Ok,
    /// 201 with the order and `Location` of the order.
    Created,
    /// 201 with the order and `Location` of the line the write touched.
    LineCreated,
}

fn json_body<T: serde::Serialize>(value: &T) -> Vec<u8> {
    // Serialising plain DTOs (strings, numbers, options) cannot fail.
    serde_json::to_vec(value).unwrap_or_default()
}

/// The order answer as bytes.
#[must_use]
pub fn render_order(kind: OrderAnswer, order: &Order, line: Option<LineId>) -> StoredResponse {
    let base = format!("{}/orders/{}", crate::routes::orders::BASE, order.id());
    let mut headers = vec![
        (CONTENT_TYPE.to_string(), "application/json".to_owned()),
        (ETAG.to_string(), etag(order.version())),
    ];
    let status = match (kind, line) {
        (OrderAnswer::Ok, _) => StatusCode::OK,
        (OrderAnswer::Created, _) => {
            headers.push((LOCATION.to_string(), base));
            StatusCode::CREATED
        }
        (OrderAnswer::LineCreated, line) => {
            let location = line.map_or(base.clone(), |l| format!("{base}/lines/{l}"));
            headers.push((LOCATION.to_string(), location));
            StatusCode::CREATED
        }
    };
    StoredResponse {
        status: status.as_u16(),
        headers,
        body: json_body(&Envelope {
            data: OrderDto::from(order),
        }),
    }
}

/// The customer answer (201, `Location`) as bytes.
#[must_use]
pub fn render_customer(customer: &Customer) -> StoredResponse {
    StoredResponse {
        status: StatusCode::CREATED.as_u16(),
        headers: vec![
            (CONTENT_TYPE.to_string(), "application/json".to_owned()),
            (
                LOCATION.to_string(),
                format!(
                    "{}/customers/{}",
                    crate::routes::customers::BASE,
                    customer.id()
                ),
            ),
        ],
        body: json_body(&Envelope {
            data: CustomerDto::from(customer),
        }),
    }
}

/// Turns stored bytes into a response.
#[must_use]
pub fn respond(stored: &StoredResponse) -> HttpResponse {
    let status = StatusCode::from_u16(stored.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut response = HttpResponse::build(status);
    for (name, value) in &stored.headers {
        response.insert_header((name.as_str(), value.as_str()));
    }
    response.body(stored.body.clone())
}
