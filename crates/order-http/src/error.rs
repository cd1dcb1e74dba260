//! The one place errors become HTTP: status code + `application/problem+json`
//! (RFC 9457) with a stable machine-readable `code`.
//!
//! 5xx answers never carry internal details: the cause is logged with a
//! reference id, and only that id reaches the client.

use actix_web::http::header::{self, HeaderValue};
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use order_app::access::AuthFailure;
use order_app::AppError;
use order_domain::DomainError;
use serde::Serialize;

/// Media type of every error body.
pub const PROBLEM_JSON: &str = "application/problem+json";

/// Everything an HTTP request can fail with.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// A use case refused or failed.
    #[error(transparent)]
    App(#[from] AppError),
    /// The request itself is malformed (bad JSON syntax, bad UUID in the path, bad query).
    #[error("{detail}")]
    BadRequest {
        /// Stable code.
        code: &'static str,
        /// The offending parameter or field, if known.
        field: Option<String>,
        /// Human explanation.
        detail: String,
    },
    /// Well-formed JSON whose values are unacceptable (wrong type, missing or unknown field).
    #[error("{detail}")]
    InvalidBody {
        /// The JSON path of the offending field.
        field: Option<String>,
        /// Human explanation.
        detail: String,
    },
    /// The body is larger than the limit.
    #[error("request body larger than {limit} bytes")]
    PayloadTooLarge {
        /// The limit in bytes.
        limit: usize,
    },
    /// The body is not `application/json`.
    #[error("expected Content-Type: application/json")]
    UnsupportedMediaType,
    /// A request with the same `Idempotency-Key` is still being answered.
    #[error("a request with this Idempotency-Key is still being processed; retry later")]
    IdempotencyInFlight,
    /// The `Idempotency-Key` was used before for a different request.
    #[error("this Idempotency-Key was used for a different request")]
    IdempotencyKeyReused,
    /// The caller's key (or, for failed authentications, its address) is
    /// over its rate limit.
    #[error("too many requests; retry after {retry_after_secs} s")]
    RateLimited {
        /// Seconds until the next request will be accepted.
        retry_after_secs: u64,
    },
    /// `If-Match` cannot hold: `*` for an order that does not exist, or a
    /// list with no tag that can equal one of our `ETag`s.
    #[error("{0}")]
    PreconditionFailed(String),
    /// No route matches.
    #[error("no such resource")]
    RouteNotFound,
    /// The path exists, but not with this method.
    #[error("this resource does not support the method; it supports {allowed}")]
    MethodNotAllowed {
        /// The `Allow` header value: the methods the path supports.
        allowed: String,
    },
    /// The blocking pool failed to run a use case (a panic in it, or shutdown).
    #[error("background task failed: {0}")]
    Blocking(String),
    /// As many requests as the server takes on are in flight already.
    #[error("too many requests in flight")]
    Overloaded,
    /// The request was not answered within the per-request deadline.
    #[error("no answer within {0:?}")]
    DeadlineExceeded(std::time::Duration),
}

impl ApiError {
    /// A 400 for a malformed path or query parameter.
    pub fn bad_parameter(field: &str, detail: impl Into<String>) -> Self {
        Self::BadRequest {
            code: "invalid_parameter",
            field: Some(field.to_owned()),
            detail: detail.into(),
        }
    }

    /// The `WWW-Authenticate` challenge of a 401 or 403 (RFC 6750): which
    /// scheme to use, and whether the token was bad or lacked a scope.
    fn bearer_challenge(&self) -> Option<HeaderValue> {
        const REALM: &str = "Bearer realm=\"order-mgmt\"";
        let value = match self {
            Self::App(AppError::Unauthenticated(AuthFailure::Missing)) => REALM.to_owned(),
            Self::App(AppError::Unauthenticated(_)) => {
                format!("{REALM}, error=\"invalid_token\"")
            }
            Self::App(AppError::Forbidden { needed }) => {
                format!("{REALM}, error=\"insufficient_scope\", scope=\"{needed}\"")
            }
            _ => return None,
        };
        HeaderValue::from_str(&value).ok()
    }

    /// Whether the same request, sent again, may get another answer: a
    /// collision with concurrent work, a stale precondition, an outage. An
    /// idempotency key never keeps such an answer as final.
    #[must_use]
    pub fn is_retryable(&self) -> bool {
        match self {
            Self::App(AppError::Conflict(detail)) => detail.is_retryable(),
            Self::App(
                AppError::VersionMismatch { .. }
                | AppError::Unavailable(_)
                | AppError::Unauthenticated(_)
                | AppError::Forbidden { .. },
            )
            | Self::IdempotencyInFlight
            | Self::Blocking(_) => true,
            _ => self.status_and_code().0.is_server_error(),
        }
    }

    /// Status code and stable code of this error.
    #[must_use]
    pub fn status_and_code(&self) -> (StatusCode, &'static str) {
        match self {
            Self::App(e) => (app_status(e), app_code(e)),
            Self::BadRequest { code, .. } => (StatusCode::BAD_REQUEST, code),
            Self::InvalidBody { .. } => (StatusCode::UNPROCESSABLE_ENTITY, "invalid_body"),
            Self::PayloadTooLarge { .. } => (StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large"),
            Self::UnsupportedMediaType => {
                (StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type")
            }
            Self::IdempotencyInFlight => (StatusCode::CONFLICT, "idempotency_request_in_flight"),
            Self::RateLimited { .. } => (StatusCode::TOO_MANY_REQUESTS, "rate_limited"),
            Self::IdempotencyKeyReused => {
                (StatusCode::UNPROCESSABLE_ENTITY, "idempotency_key_reused")
            }
            Self::PreconditionFailed(_) => (StatusCode::PRECONDITION_FAILED, "precondition_failed"),
            Self::RouteNotFound => (StatusCode::NOT_FOUND, "route_not_found"),
            Self::MethodNotAllowed { .. } => (StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed"),
            Self::Blocking(_) => (StatusCode::INTERNAL_SERVER_ERROR, "internal_error"),
            Self::Overloaded | Self::DeadlineExceeded(_) => {
                (StatusCode::SERVICE_UNAVAILABLE, "service_unavailable")
            }
        }
    }

    fn field(&self) -> Option<String> {
        match self {
            Self::App(
                AppError::Validation { field, .. } | AppError::UnknownReference { field, .. },
            ) => Some((*field).to_owned()),
            Self::App(AppError::Domain(e)) => domain_field(e).map(str::to_owned),
            Self::BadRequest { field, .. } | Self::InvalidBody { field, .. } => field.clone(),
            Self::IdempotencyInFlight | Self::IdempotencyKeyReused => {
                Some("Idempotency-Key".to_owned())
            }
            _ => None,
        }
    }
}

/// Which request field a domain refusal is about, where that is unambiguous.
fn domain_field(error: &DomainError) -> Option<&'static str> {
    match error {
        DomainError::InvalidQuantity { .. } => Some("quantity"),
        DomainError::InvalidPrice { .. } | DomainError::AmountOverflow => Some("unit_price"),
        DomainError::CurrencyMismatch { .. } | DomainError::UnknownCurrency(_) => Some("currency"),
        DomainError::InvalidText { field, .. } => Some(field),
        DomainError::InvalidTaxRate { .. } => Some("tax_rate"),
        DomainError::DiscountExceedsAmount { .. } => Some("amount"),
        DomainError::DiscountCodeAlreadyApplied(_) => Some("code"),
        _ => None,
    }
}

fn domain_status(error: &DomainError) -> StatusCode {
    use DomainError as D;
    match error {
        D::OrderNotFound | D::LineNotFound(_) | D::DiscountNotFound(_) => StatusCode::NOT_FOUND,
        D::DiscountCodeAlreadyApplied(_) => StatusCode::CONFLICT,
        D::OrderEmpty
        | D::OrderNotEditable { .. }
        | D::AlreadyCancelled
        | D::FulfilledCannotBeCancelled
        | D::InvalidStatusTransition { .. }
        | D::NotDeletable { .. }
        | D::OrderDeleted
        // What has shipped or come back decides these: a racing request can
        // win the units, so the loser learns the current state, not a typo.
        | D::OrderHasShipments
        | D::QuantityExceedsUnshipped { .. }
        | D::QuantityExceedsReturnable { .. }
        | D::QuantityBelowShipped { .. }
        | D::LineBelowRefunded { .. }
        | D::LineAlreadyExists(_)
        | D::EditNotOpen { .. }
        | D::EditEmpty => StatusCode::CONFLICT,
        // The order moved on since the edit began: the edit's precondition failed.
        D::EditStale { .. } => StatusCode::PRECONDITION_FAILED,
        D::UnknownStatus(_) | D::InvalidOrderNumber(_) => StatusCode::BAD_REQUEST,
        D::CorruptOrder(_) => StatusCode::INTERNAL_SERVER_ERROR,
        // Values the rules reject: quantity, price, currency, overflow, text, totals.
        _ => StatusCode::UNPROCESSABLE_ENTITY,
    }
}

/// The stable `code` of a use-case error (the domain's own code for a domain refusal).
fn app_code(error: &AppError) -> &'static str {
    match error {
        AppError::Domain(e) => e.code(),
        AppError::NotFound { entity, .. } => match *entity {
            "customer" => "customer_not_found",
            "line" => "line_not_found",
            "api_key" => "api_key_not_found",
            "fulfillment" => "fulfillment_not_found",
            "return" => "return_not_found",
            "edit" => "edit_not_found",
            _ => "order_not_found",
        },
        AppError::UnknownReference { entity, .. } => match *entity {
            "customer" => "customer_not_found",
            _ => "unknown_reference",
        },
        AppError::VersionMismatch { .. } => "version_mismatch",
        AppError::Conflict(_) => "conflict",
        AppError::Validation { .. } => "validation_failed",
        AppError::Unauthenticated(AuthFailure::Missing) => "missing_api_key",
        // Unknown and wrong secret are one answer: which of the two it was is
        // the attacker's question.
        AppError::Unauthenticated(AuthFailure::Malformed | AuthFailure::Unknown) => {
            "invalid_api_key"
        }
        AppError::Unauthenticated(AuthFailure::Revoked) => "revoked_api_key",
        AppError::Forbidden { .. } => "insufficient_scope",
        AppError::Unavailable(_) => "service_unavailable",
        _ => "internal_error",
    }
}

fn app_status(error: &AppError) -> StatusCode {
    match error {
        AppError::Domain(e) => domain_status(e),
        AppError::NotFound { .. } => StatusCode::NOT_FOUND,
        AppError::UnknownReference { .. } | AppError::Validation { .. } => {
            StatusCode::UNPROCESSABLE_ENTITY
        }
        AppError::VersionMismatch { .. } => StatusCode::PRECONDITION_FAILED,
        AppError::Conflict(_) => StatusCode::CONFLICT,
        AppError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
        AppError::Unauthenticated(_) => StatusCode::UNAUTHORIZED,
        AppError::Forbidden { .. } => StatusCode::FORBIDDEN,
        _ => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

/// The RFC 9457 body.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Problem {
    /// A URI reference naming the problem type (one per `code`).
    #[serde(rename = "type")]
    pub kind: String,
    /// Short summary of the problem type.
    #[schema(value_type = String)]
    pub title: &'static str,
    /// The HTTP status code.
    pub status: u16,
    /// Explanation of this occurrence.
    pub detail: String,
    /// Stable machine-readable code.
    #[schema(value_type = String, example = "order_empty")]
    pub code: &'static str,
    /// The request field or parameter at fault, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        self.status_and_code().0
    }

    fn error_response(&self) -> HttpResponse {
        let (status, code) = self.status_and_code();
        let detail = if status.is_server_error() && status != StatusCode::SERVICE_UNAVAILABLE {
            let reference = uuid::Uuid::now_v7();
            tracing::error!(%reference, error = %self, "request failed");
            format!("internal error; reference {reference}")
        } else if status == StatusCode::SERVICE_UNAVAILABLE {
            tracing::warn!(error = %self, "dependency unavailable");
            "the service is temporarily unavailable; retry later".to_owned()
        } else {
            self.to_string()
        };
        let problem = Problem {
            kind: format!("/problems/{code}"),
            title: status.canonical_reason().unwrap_or("Error"),
            status: status.as_u16(),
            detail,
            code,
            field: self.field(),
        };
        let mut response = HttpResponse::build(status);
        if self.is_retryable() {
            response
                .extensions_mut()
                .insert(crate::idempotency::RetryableAnswer);
        }
        response.insert_header((header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON)));
        if status == StatusCode::SERVICE_UNAVAILABLE {
            response.insert_header((header::RETRY_AFTER, HeaderValue::from_static("1")));
        }
        if let Self::RateLimited { retry_after_secs } = self {
            response.insert_header((
                header::RETRY_AFTER,
                crate::auth::retry_after(*retry_after_secs),
            ));
        }
        if let Some(challenge) = self.bearer_challenge() {
            response.insert_header((header::WWW_AUTHENTICATE, challenge));
        }
        if let Self::MethodNotAllowed { allowed } = self {
            if let Ok(value) = HeaderValue::from_str(allowed) {
                response.insert_header((header::ALLOW, value));
            }
        }
        response.json(problem)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use order_app::access::{AuthFailure, Scope};
    use order_domain::{Currency, LineId, OrderAction, OrderStatus};

    #[test]
    fn every_domain_error_maps_to_its_status_and_code() {
        let s = OrderStatus::Confirmed;
        let cases: Vec<(DomainError, u16, &str)> = vec![
            (
                DomainError::InvalidQuantity {
                    quantity: 0,
                    max: 1,
                },
                422,
                "invalid_quantity",
            ),
            (
                DomainError::InvalidPrice { amount: -1 },
                422,
                "invalid_price",
            ),
            (
                DomainError::LineNotFound(LineId::from_uuid(uuid::Uuid::nil())),
                404,
                "line_not_found",
            ),
            (DomainError::OrderNotFound, 404, "order_not_found"),
            (DomainError::OrderEmpty, 409, "order_empty"),
            (
                DomainError::OrderNotEditable { status: s },
                409,
                "order_not_editable",
            ),
            (
                DomainError::AlreadyCancelled,
                409,
                "order_already_cancelled",
            ),
            (
                DomainError::FulfilledCannotBeCancelled,
                409,
                "fulfilled_order_not_cancellable",
            ),
            (
                DomainError::InvalidStatusTransition {
                    from: s,
                    action: OrderAction::Confirm,
                },
                409,
                "invalid_order_status",
            ),
            (
                DomainError::NotDeletable { status: s },
                409,
                "order_not_deletable",
            ),
            (DomainError::OrderDeleted, 409, "order_deleted"),
            (
                DomainError::CurrencyMismatch {
                    expected: Currency::USD,
                    found: Currency::EUR,
                },
                422,
                "currency_mismatch",
            ),
            (DomainError::AmountOverflow, 422, "amount_overflow"),
            (DomainError::NegativeTotal, 422, "negative_total"),
            (DomainError::TooManyLines { max: 1 }, 422, "too_many_lines"),
            (
                DomainError::NegativeAdjustment { field: "tax" },
                422,
                "negative_adjustment",
            ),
            (
                DomainError::UnknownCurrency("X".into()),
                422,
                "unknown_currency",
            ),
            (
                DomainError::InvalidAmount {
                    input: "x".into(),
                    reason: "r",
                },
                422,
                "invalid_amount",
            ),
            (
                DomainError::UnknownStatus("x".into()),
                400,
                "unknown_status",
            ),
            (
                DomainError::InvalidOrderNumber("x".into()),
                400,
                "invalid_order_number",
            ),
            (
                DomainError::InvalidText {
                    field: "sku",
                    reason: "r".into(),
                },
                422,
                "invalid_text",
            ),
            (DomainError::OrderHasShipments, 409, "order_has_shipments"),
            (
                DomainError::QuantityExceedsUnshipped {
                    line_id: LineId::from_uuid(uuid::Uuid::nil()),
                    requested: 2,
                    available: 1,
                },
                409,
                "quantity_exceeds_unshipped",
            ),
            (
                DomainError::QuantityExceedsReturnable {
                    line_id: LineId::from_uuid(uuid::Uuid::nil()),
                    requested: 2,
                    available: 1,
                },
                409,
                "quantity_exceeds_returnable",
            ),
            (
                DomainError::QuantityBelowShipped {
                    line_id: LineId::from_uuid(uuid::Uuid::nil()),
                    shipped: 1,
                },
                409,
                "quantity_below_shipped",
            ),
            (
                DomainError::EditStale {
                    base: 3,
                    current: 4,
                },
                412,
                "edit_stale",
            ),
            (DomainError::NoLinesGiven, 422, "no_lines_given"),
            (
                DomainError::DuplicateLine(LineId::from_uuid(uuid::Uuid::nil())),
                422,
                "duplicate_line",
            ),
            (
                DomainError::InvalidTaxRate {
                    input: "x".into(),
                    reason: "r",
                },
                422,
                "invalid_tax_rate",
            ),
            (
                DomainError::InvalidDiscount("x".into()),
                422,
                "invalid_discount",
            ),
            (
                DomainError::DiscountExceedsAmount {
                    discount: order_domain::Money::new(2, Currency::USD),
                    available: order_domain::Money::new(1, Currency::USD),
                },
                422,
                "discount_exceeds_amount",
            ),
            (
                DomainError::DiscountNotFound(order_domain::DiscountId::from_uuid(
                    uuid::Uuid::nil(),
                )),
                404,
                "discount_not_found",
            ),
            (
                DomainError::DiscountCodeAlreadyApplied("x".into()),
                409,
                "discount_code_already_applied",
            ),
            (
                DomainError::TooManyDiscounts { max: 1 },
                422,
                "too_many_discounts",
            ),
            (
                DomainError::CorruptOrder("x".into()),
                500,
                "internal_error_is_not_used",
            ),
        ];
        for (error, status, code) in cases {
            let api = ApiError::App(AppError::Domain(error.clone()));
            let (got_status, got_code) = api.status_and_code();
            assert_eq!(got_status.as_u16(), status, "{error:?}");
            if status != 500 {
                assert_eq!(got_code, code, "{error:?}");
            }
        }
    }

    #[test]
    fn every_app_error_maps_to_its_status_and_code() {
        let cases = [
            (
                AppError::NotFound {
                    entity: "order",
                    id: "x".into(),
                },
                404,
                "order_not_found",
            ),
            (
                AppError::NotFound {
                    entity: "customer",
                    id: "x".into(),
                },
                404,
                "customer_not_found",
            ),
            (
                AppError::UnknownReference {
                    field: "customer_id",
                    entity: "customer",
                    id: "x".into(),
                },
                422,
                "customer_not_found",
            ),
            (
                AppError::VersionMismatch {
                    expected: 1,
                    actual: 2,
                },
                412,
                "version_mismatch",
            ),
            (AppError::Conflict("x".into()), 409, "conflict"),
            (
                AppError::validation("email", "bad"),
                422,
                "validation_failed",
            ),
            (
                AppError::Unavailable("db down".into()),
                503,
                "service_unavailable",
            ),
            (AppError::Unexpected("bug".into()), 500, "internal_error"),
            (
                AppError::Unauthenticated(AuthFailure::Missing),
                401,
                "missing_api_key",
            ),
            (
                AppError::Unauthenticated(AuthFailure::Unknown),
                401,
                "invalid_api_key",
            ),
            (
                AppError::Unauthenticated(AuthFailure::Revoked),
                401,
                "revoked_api_key",
            ),
            (
                AppError::Forbidden {
                    needed: Scope::OrdersFulfil,
                },
                403,
                "insufficient_scope",
            ),
        ];
        for (error, status, code) in cases {
            let (got_status, got_code) = ApiError::App(error.clone()).status_and_code();
            assert_eq!((got_status.as_u16(), got_code), (status, code), "{error:?}");
        }
    }

    #[test]
    fn auth_failures_carry_a_bearer_challenge() {
        let challenge = |error: AppError| {
            ApiError::App(error)
                .error_response()
                .headers()
                .get(header::WWW_AUTHENTICATE)
                .map(|v| v.to_str().unwrap().to_owned())
        };
        assert_eq!(
            challenge(AppError::Unauthenticated(AuthFailure::Missing)).as_deref(),
            Some("Bearer realm=\"order-mgmt\"")
        );
        assert_eq!(
            challenge(AppError::Unauthenticated(AuthFailure::Revoked)).as_deref(),
            Some("Bearer realm=\"order-mgmt\", error=\"invalid_token\"")
        );
        assert_eq!(
            challenge(AppError::Forbidden {
                needed: Scope::OrdersWrite
            })
            .as_deref(),
            Some(
                "Bearer realm=\"order-mgmt\", error=\"insufficient_scope\", scope=\"orders:write\""
            )
        );
        assert_eq!(challenge(AppError::Conflict("x".into())), None);
    }

    #[actix_web::test]
    async fn server_errors_hide_their_cause() {
        let response = ApiError::App(AppError::Unexpected("SELECT * FROM secrets failed".into()))
            .error_response();
        assert_eq!(response.status(), 500);
        let body = actix_web::body::to_bytes(response.into_body())
            .await
            .unwrap();
        let text = String::from_utf8(body.to_vec()).unwrap();
        assert!(!text.contains("SELECT"), "{text}");
        assert!(text.contains("reference"), "{text}");
    }
}
