//! `Idempotency-Key` on every `POST`: a retried request gets the first answer
//! back (marked `Idempotent-Replayed: true`) instead of a second effect.
//!
//! This middleware claims the key before the handler runs and records
//! answers that had no effect (refusals) after it; the answer of a request
//! that *did* change something is stored by the repository in the same
//! transaction as the change (handlers pass the claim to the use case via
//! [`ActiveClaim`]). Keys are scoped to the endpoint (method and route
//! template); the fingerprint covers method, path, query, content type and body.

use std::sync::Arc;

use actix_web::body::{self, BoxBody, MessageBody};
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue, CONTENT_TYPE, ETAG, LOCATION};
use actix_web::http::Method;
use actix_web::middleware::Next;
use actix_web::{web, Error, FromRequest, HttpMessage, HttpRequest, ResponseError};
use order_app::idempotency::{
    Claim, ClaimedKey, IdempotencyKey, IdempotencyStore, Receipt, StoredResponse,
};
use order_app::ports::Clock;
use sha2::{Digest, Sha256};

use crate::answer::respond;
use crate::error::ApiError;

/// The request header naming the key.
pub const IDEMPOTENCY_KEY: HeaderName = HeaderName::from_static("idempotency-key");
/// The response header marking a replayed answer.
pub const IDEMPOTENT_REPLAYED: HeaderName = HeaderName::from_static("idempotent-replayed");

/// The idempotency store and how long a claim may stay unanswered before
/// another request may take it over.
#[derive(Clone)]
pub struct Idempotency {
    /// Where claims and receipts live.
    pub store: Arc<dyn IdempotencyStore>,
    /// Time source for claims.
    pub clock: Arc<dyn Clock>,
    /// A claim unanswered for longer than this is considered abandoned.
    pub lease: chrono::Duration,
}

impl std::fmt::Debug for Idempotency {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Idempotency")
            .field("lease", &self.lease)
            .finish_non_exhaustive()
    }
}

/// The claim of the request being handled, for the handler to pass to its use case.
#[derive(Debug, Clone)]
pub struct ActiveClaim(pub ClaimedKey);

/// The active claim of `req`, if it carries an `Idempotency-Key`.
#[must_use]
pub fn active_claim(req: &HttpRequest) -> Option<ClaimedKey> {
    req.extensions().get::<ActiveClaim>().map(|c| c.0.clone())
}

fn valid_key(value: &HeaderValue) -> Option<String> {
    let text = value.to_str().ok()?;
    (1..=255).contains(&text.len()).then_some(())?;
    text.bytes()
        .all(|b| b.is_ascii_graphic())
        .then(|| text.to_owned())
}

fn fingerprint(req: &HttpRequest, body: &[u8]) -> String {
    let mut hash = Sha256::new();
    for part in [
        req.method().as_str().as_bytes(),
        req.path().as_bytes(),
        req.query_string().as_bytes(),
        req.headers()
            .get(CONTENT_TYPE)
            .map_or(&b""[..], HeaderValue::as_bytes),
    ] {
        hash.update(part);
        hash.update([0u8]);
    }
    hash.update(body);
    hash.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

fn problem(req: ServiceRequest, error: ApiError) -> ServiceResponse<BoxBody> {
    let response = error.error_response();
    req.into_response(response)
}

/// Middleware for `POST` routes; other methods pass straight through.
///
/// # Errors
/// Only what the wrapped handler returns.
pub async fn guard(
    mut req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, Error> {
    let Some(raw_key) = req.headers().get(&IDEMPOTENCY_KEY).cloned() else {
        return next
            .call(req)
            .await
            .map(ServiceResponse::map_into_boxed_body);
    };
    if req.method() != Method::POST {
        return next
            .call(req)
            .await
            .map(ServiceResponse::map_into_boxed_body);
    }
    let Some(key) = valid_key(&raw_key) else {
        return Ok(problem(
            req,
            ApiError::BadRequest {
                code: "invalid_idempotency_key",
                field: Some("Idempotency-Key".to_owned()),
                detail: "Idempotency-Key must be 1 to 255 printable ASCII characters".to_owned(),
            },
        ));
    };
    let Some(idempotency) = req.app_data::<web::Data<Idempotency>>().cloned() else {
        return next
            .call(req)
            .await
            .map(ServiceResponse::map_into_boxed_body);
    };

    // Read the body once to fingerprint it, then hand it on to the handler.
    let body = {
        let (http, payload) = req.parts_mut();
        match web::Bytes::from_request(http, payload).await {
            Ok(bytes) => bytes,
            Err(_) => {
                return Ok(problem(
                    req,
                    ApiError::PayloadTooLarge {
                        limit: crate::extract::MAX_BODY_BYTES,
                    },
                ))
            }
        }
    };
    let key = IdempotencyKey {
        scope: format!(
            "POST {}",
            req.match_pattern().unwrap_or_else(|| req.path().to_owned())
        ),
        key,
    };
    let print = fingerprint(req.request(), &body);
    req.set_payload(Payload::from(body));

    let (store, now, lease) = (
        idempotency.store.clone(),
        idempotency.clock.now(),
        idempotency.lease,
    );
    let begin_key = key.clone();
    let claim = match web::block(move || store.begin(&begin_key, &print, now, lease)).await {
        Ok(Ok(claim)) => claim,
        Ok(Err(e)) => return Ok(problem(req, ApiError::App(e.into()))),
        Err(e) => return Ok(problem(req, ApiError::Blocking(e.to_string()))),
    };
    let claimed = match claim {
        Claim::Acquired(claimed) => claimed,
        Claim::Replay(stored) => {
            let mut response = respond(&stored);
            response
                .headers_mut()
                .insert(IDEMPOTENT_REPLAYED, HeaderValue::from_static("true"));
            return Ok(req.into_response(response));
        }
        Claim::InFlight => return Ok(problem(req, ApiError::IdempotencyInFlight)),
        Claim::Mismatch => return Ok(problem(req, ApiError::IdempotencyKeyReused)),
    };

    req.extensions_mut().insert(ActiveClaim(claimed.clone()));
    let response = next.call(req).await?;
    let status = response.status();
    if status.is_server_error() {
        // Nothing was done that must not be repeated: let the client retry.
        let store = idempotency.store.clone();
        if let Ok(Err(e)) = web::block(move || store.release(&claimed)).await {
            tracing::warn!(error = %e, "could not release an idempotency claim; it expires with its lease");
        }
        return Ok(response.map_into_boxed_body());
    }

    // Record the answer. After a successful write the effect's own transaction
    // already did, and this changes nothing; for a refusal it is the record.
    let (request, response) = response.into_parts();
    let (head, body) = response.into_parts();
    let bytes = body::to_bytes(body).await.unwrap_or_default();
    let headers = head
        .headers()
        .iter()
        .filter(|(name, _)| [CONTENT_TYPE, LOCATION, ETAG].contains(name))
        .filter_map(|(name, value)| Some((name.to_string(), value.to_str().ok()?.to_owned())))
        .collect();
    let receipt = Receipt {
        claim: claimed,
        response: StoredResponse {
            status: status.as_u16(),
            headers,
            body: bytes.to_vec(),
        },
    };
    let store = idempotency.store.clone();
    if let Ok(Err(e)) = web::block(move || store.complete(&receipt, now)).await {
        tracing::warn!(error = %e, "could not record an idempotent answer");
    }
    let response = head.set_body(bytes).map_into_boxed_body();
    Ok(ServiceResponse::new(request, response))
}
