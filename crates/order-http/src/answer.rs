//! Successful answers to writes, rendered in one place from the value the
//! use case wrote, or from the same value replayed for a retried
//! `Idempotency-Key`: both go through these functions, so the replay is the
//! first answer byte for byte.

use actix_web::http::header::{ContentType, ETAG, LOCATION};
use actix_web::HttpResponse;
use order_app::Customer;
use order_domain::{LineId, Order, OrderEdit};

use crate::dto::{CustomerDto, EditDto, Envelope, OrderDto, ReturnDto};
use crate::extract::etag;
use crate::paths::{fill, CUSTOMER, DISCOUNT, EDIT, FULFILLMENT, LINE, ORDER, RETURN};

/// Which answer a successful order write gives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OrderAnswer {
    /// 200 with the order.
    Ok,
    /// 201 with the order and `Location` of the order.
    Created,
    /// 201 with the order and `Location` of the line the write touched.
    LineCreated,
    /// 201 with the order and `Location` of its newest shipment (the one the
    /// write made: shipments are only ever added).
    FulfillmentCreated,
    /// 201 with the order and `Location` of its newest discount (the one
    /// `add_discount` just appended).
    DiscountCreated,
}

/// The order answer: status, `ETag`, `Location` where one was created, and the order.
#[must_use]
pub fn order(kind: OrderAnswer, order: &Order, line: Option<LineId>) -> HttpResponse {
    let id = order.id().to_string();
    let mut response = match kind {
        OrderAnswer::Ok => HttpResponse::Ok(),
        OrderAnswer::Created => {
            let mut created = HttpResponse::Created();
            created.insert_header((LOCATION, fill(ORDER, &[("id", &id)])));
            created
        }
        OrderAnswer::LineCreated => {
            let location = line.map_or_else(
                || fill(ORDER, &[("id", &id)]),
                |line| fill(LINE, &[("id", &id), ("line_id", &line.to_string())]),
            );
            let mut created = HttpResponse::Created();
            created.insert_header((LOCATION, location));
            created
        }
        OrderAnswer::FulfillmentCreated => {
            let location = order.fulfillments().last().map_or_else(
                || fill(ORDER, &[("id", &id)]),
                |f| {
                    fill(
                        FULFILLMENT,
                        &[("id", &id), ("fulfillment_id", &f.id().to_string())],
                    )
                },
            );
            let mut created = HttpResponse::Created();
            created.insert_header((LOCATION, location));
            created
        }
        OrderAnswer::DiscountCreated => {
            let location = order.discounts().last().map_or_else(
                || fill(ORDER, &[("id", &id)]),
                |d| {
                    fill(
                        DISCOUNT,
                        &[("id", &id), ("discount_id", &d.id().to_string())],
                    )
                },
            );
            let mut created = HttpResponse::Created();
            created.insert_header((LOCATION, location));
            created
        }
    };
    response
        .insert_header(ContentType::json())
        .insert_header((ETAG, etag(order.version())))
        .json(Envelope {
            data: OrderDto::from(order),
        })
}

/// The answer to a return: 201, `Location` of the return, the order's `ETag`,
/// and the return (the order's newest: returns are only ever added).
#[must_use]
pub fn return_created(order: &Order) -> HttpResponse {
    let Some(created) = order.returns().last() else {
        // A return write always adds one; answer with the order if not.
        return self::order(OrderAnswer::Ok, order, None);
    };
    HttpResponse::Created()
        .insert_header(ContentType::json())
        .insert_header((ETAG, etag(order.version())))
        .insert_header((
            LOCATION,
            fill(
                RETURN,
                &[
                    ("id", &order.id().to_string()),
                    ("return_id", &created.id().to_string()),
                ],
            ),
        ))
        .json(Envelope {
            data: ReturnDto::of(order, created),
        })
}

/// The answer to a begun edit: 201, `Location` of the edit, the edit.
#[must_use]
pub fn edit_begun(edit: &OrderEdit) -> HttpResponse {
    HttpResponse::Created()
        .insert_header(ContentType::json())
        .insert_header((
            LOCATION,
            fill(
                EDIT,
                &[
                    ("id", &edit.order_id().to_string()),
                    ("edit_id", &edit.id().to_string()),
                ],
            ),
        ))
        .json(Envelope {
            data: EditDto::from(edit),
        })
}

/// The answer to staged changes (and a discard): 200 with the edit.
#[must_use]
pub fn edit(edit: &OrderEdit) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header(ContentType::json())
        .json(Envelope {
            data: EditDto::from(edit),
        })
}

/// The answer to a registration: 201, `Location`, the customer.
#[must_use]
pub fn customer_created(customer: &Customer) -> HttpResponse {
    HttpResponse::Created()
        .insert_header((
            LOCATION,
            fill(CUSTOMER, &[("id", &customer.id().to_string())]),
        ))
        .json(Envelope {
            data: CustomerDto::from(customer),
        })
}
