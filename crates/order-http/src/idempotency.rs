//! `Idempotency-Key` on every `POST`: a retried request gets the first answer
//! back (marked `Idempotent-Replayed: true`) instead of a second effect.
//!
//! This middleware claims the key before the handler runs. Then:
//! - a request that **writes** passes the claim to its use case ([`active_claim`]),
//!   and the repository completes it with the written order, edit or
//!   customer in the write's own transaction; the handler renders its answer once, and
//!   nothing more is stored here;
//! - a retry of it finds that outcome: the middleware hands it to the handler
//!   ([`replayed`]), which renders it with the same code instead of running
//!   the use case again, so the answer is the same bytes;
//! - a request **finally refused** without effect (a 4xx the same request
//!   would get again) is completed here with the refusal as it was sent
//!   (status, content type, body), replayed as is;
//! - any answer that invites a retry releases the claim, so the retry runs
//!   for real: `412` (the client re-reads and retries with a new `If-Match`),
//!   a `409` that asks to retry (too many writers, a lost claim), `408`,
//!   `429`, `401`/`403` (the caller, not the request, was refused),
//!   anything carrying `Retry-After`, and every 5xx.
//!
//! A release that fails (the database is down: the very outage behind the
//! 5xx) is remembered and retried before the next claim this server makes, so
//! the key is usable as soon as the database is back rather than after the
//! lease.
//!
//! Keys are scoped to the endpoint (method and route template) and to the
//! caller's API key; the
//! fingerprint covers method, path, query, content type, `If-Match` and body.
//! Every `POST` route either writes or is refused, so a `2xx` always comes
//! with a completed claim.

use std::sync::{Arc, Mutex, PoisonError};

use actix_web::body::{self, BoxBody, MessageBody};
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue, CONTENT_TYPE, IF_MATCH, RETRY_AFTER};
use actix_web::http::{Method, StatusCode};
use actix_web::middleware::Next;
use actix_web::{web, Error, FromRequest, HttpMessage, HttpRequest, HttpResponse, ResponseError};
use order_app::idempotency::{
    Claim, ClaimTerms, ClaimedKey, IdempotencyKey, IdempotencyStore, Outcome,
};
use order_app::ports::Clock;
use sha2::{Digest, Sha256};

use crate::error::ApiError;

/// The request header naming the key.
pub const IDEMPOTENCY_KEY: HeaderName = HeaderName::from_static("idempotency-key");
/// The response header marking a replayed answer.
pub const IDEMPOTENT_REPLAYED: HeaderName = HeaderName::from_static("idempotent-replayed");

/// The idempotency store, how long claims and answers last, and the claims
/// whose release failed and is still owed.
#[derive(Clone)]
pub struct Idempotency {
    store: Arc<dyn IdempotencyStore>,
    clock: Arc<dyn Clock>,
    terms: ClaimTerms,
    unreleased: Arc<Mutex<Vec<ClaimedKey>>>,
}

/// Most releases owed at once: beyond it the oldest is forgotten and only
/// its lease frees it (a bound on memory during a long outage).
const MAX_UNRELEASED: usize = 4096;

impl Idempotency {
    /// Keys in `store`, claimed at `clock`'s time under `terms`.
    #[must_use]
    pub fn new(store: Arc<dyn IdempotencyStore>, clock: Arc<dyn Clock>, terms: ClaimTerms) -> Self {
        Self {
            store,
            clock,
            terms,
            unreleased: Arc::default(),
        }
    }

    /// How long claims and answers last.
    #[must_use]
    pub const fn terms(&self) -> ClaimTerms {
        self.terms
    }

    /// Releases `claim`, or remembers it to release before the next claim.
    /// Blocking: run it off the async runtime.
    fn release(&self, claim: ClaimedKey) {
        if let Err(e) = self.store.release(&claim) {
            tracing::warn!(error = %e, "could not release an idempotency claim; retrying before the next claim");
            let mut owed = self
                .unreleased
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            if owed.len() >= MAX_UNRELEASED {
                owed.remove(0);
            }
            owed.push(claim);
        }
    }

    /// Retries the releases still owed; keeps those that fail again.
    /// Blocking: run it off the async runtime.
    fn settle_unreleased(&self) {
        let owed = std::mem::take(
            &mut *self
                .unreleased
                .lock()
                .unwrap_or_else(PoisonError::into_inner),
        );
        if owed.is_empty() {
            return;
        }
        let mut failed = Vec::new();
        for claim in owed {
            if self.store.release(&claim).is_err() {
                failed.push(claim);
            }
        }
        if !failed.is_empty() {
            let mut owed = self
                .unreleased
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            failed.append(&mut owed);
            failed.truncate(MAX_UNRELEASED);
            *owed = failed;
        }
    }
}

impl std::fmt::Debug for Idempotency {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Idempotency")
            .field("terms", &self.terms)
            .finish_non_exhaustive()
    }
}

/// Marks an error answer that invites the client to retry the same request
/// (set by [`ApiError`]'s rendering), so its key is released, not completed.
#[derive(Debug, Clone, Copy)]
pub(crate) struct RetryableAnswer;

/// The claim of the request being handled, for the handler to pass to its use case.
#[derive(Debug, Clone)]
struct ActiveClaim(ClaimedKey);

/// The stored outcome of the request being retried, for the handler to render.
#[derive(Debug, Clone)]
struct Replayed(Outcome);

/// The active claim of `req`, if it carries an `Idempotency-Key`.
#[must_use]
pub fn active_claim(req: &HttpRequest) -> Option<ClaimedKey> {
    req.extensions().get::<ActiveClaim>().map(|c| c.0.clone())
}

/// What the first request with this `Idempotency-Key` wrote, if `req` is its
/// retry: the handler renders it instead of running its use case.
#[must_use]
pub fn replayed(req: &HttpRequest) -> Option<Outcome> {
    req.extensions().get::<Replayed>().map(|r| r.0.clone())
}

/// A refusal as stored: `<status> <content type>\n<body>`. Only this module
/// writes and reads it; the store keeps it as opaque bytes.
fn record_refusal(status: StatusCode, content_type: Option<&HeaderValue>, body: &[u8]) -> Vec<u8> {
    let content_type = content_type.and_then(|v| v.to_str().ok()).unwrap_or("");
    let mut record = format!("{} {content_type}\n", status.as_u16()).into_bytes();
    record.extend_from_slice(body);
    record
}

/// The response a stored refusal replays; `None` if the record is not one of ours.
fn replay_refusal(record: &[u8]) -> Option<HttpResponse> {
    let newline = record.iter().position(|b| *b == b'\n')?;
    let head = std::str::from_utf8(&record[..newline]).ok()?;
    let (status, content_type) = head.split_once(' ')?;
    let status = StatusCode::from_u16(status.parse().ok()?).ok()?;
    let mut response = HttpResponse::build(status);
    if !content_type.is_empty() {
        response.insert_header((CONTENT_TYPE, content_type));
    }
    Some(response.body(record[newline + 1..].to_vec()))
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
        // A retry after a 412 carries the re-read version: another request.
        req.headers()
            .get(IF_MATCH)
            .map_or(&b""[..], HeaderValue::as_bytes),
    ] {
        hash.update(part);
        hash.update([0u8]);
    }
    hash.update(body);
    hash.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

/// Whether `response` is the request's final answer, one the same request
/// would get again: success, or a refusal that does not invite a retry.
fn is_final<B>(response: &ServiceResponse<B>) -> bool {
    let status = response.status();
    if status.is_success() {
        return true;
    }
    let retry_invited = status.is_server_error()
        || matches!(
            status,
            StatusCode::REQUEST_TIMEOUT
                | StatusCode::PRECONDITION_FAILED
                | StatusCode::TOO_MANY_REQUESTS
                | StatusCode::UNAUTHORIZED
                | StatusCode::FORBIDDEN
        )
        || response.headers().contains_key(RETRY_AFTER)
        || response
            .response()
            .extensions()
            .contains::<RetryableAnswer>();
    !retry_invited
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
    // Scoped to the endpoint and to the API key: two callers choosing the
    // same Idempotency-Key never see each other's answers.
    let caller = req
        .extensions()
        .get::<crate::auth::Access>()
        .and_then(|access| access.caller().map(|c| format!(" key {}", c.key_id)))
        .unwrap_or_default();
    let key = IdempotencyKey {
        scope: format!(
            "POST {}{caller}",
            req.match_pattern().unwrap_or_else(|| req.path().to_owned())
        ),
        key,
    };
    let print = fingerprint(req.request(), &body);
    req.set_payload(Payload::from(body));

    let (claims, now) = (idempotency.clone(), idempotency.clock.now());
    let begin_key = key.clone();
    let claim = match web::block(move || {
        // Releases owed from an outage first: the retry of such a request
        // must find its key free.
        claims.settle_unreleased();
        claims.store.begin(&begin_key, &print, now, claims.terms)
    })
    .await
    {
        Ok(Ok(claim)) => claim,
        Ok(Err(e)) => return Ok(problem(req, ApiError::App(e.into()))),
        Err(e) => return Ok(problem(req, ApiError::Blocking(e.to_string()))),
    };
    let replayed_header = |mut response: ServiceResponse<BoxBody>| {
        response
            .headers_mut()
            .insert(IDEMPOTENT_REPLAYED, HeaderValue::from_static("true"));
        response
    };
    let claimed = match claim {
        Claim::Acquired(claimed) => claimed,
        Claim::Replay(Outcome::Refused(record)) => {
            return Ok(match replay_refusal(&record) {
                Some(response) => replayed_header(req.into_response(response)),
                None => problem(
                    req,
                    ApiError::App(order_app::AppError::Unexpected(
                        "unreadable stored refusal".to_owned(),
                    )),
                ),
            });
        }
        Claim::Replay(outcome) => {
            // The handler renders the stored outcome instead of running its use case.
            req.extensions_mut().insert(Replayed(outcome));
            let response = next.call(req).await?.map_into_boxed_body();
            return Ok(replayed_header(response));
        }
        Claim::InFlight => return Ok(problem(req, ApiError::IdempotencyInFlight)),
        Claim::Mismatch => return Ok(problem(req, ApiError::IdempotencyKeyReused)),
    };

    req.extensions_mut().insert(ActiveClaim(claimed.clone()));
    let response = next.call(req).await?;
    let status = response.status();
    if status.is_success() {
        // The write's own transaction completed the claim with what it wrote.
        return Ok(response.map_into_boxed_body());
    }
    if !is_final(&response) {
        // Nothing was done that must not be repeated: let the client retry.
        let claims = idempotency.clone();
        let _ = web::block(move || claims.release(claimed)).await;
        return Ok(response.map_into_boxed_body());
    }
    let store = idempotency.store.clone();

    // A refusal: record it as sent, so a retry gets the same answer.
    let (request, response) = response.into_parts();
    let (head, body) = response.into_parts();
    let bytes = match body::to_bytes(body).await {
        Ok(bytes) => bytes,
        Err(_) => {
            // Nothing readable to record: free the key rather than store a wrong answer.
            let claims = idempotency.clone();
            let _ = web::block(move || claims.release(claimed)).await;
            let error = ApiError::App(order_app::AppError::Unexpected(
                "could not read a refusal's body".to_owned(),
            ));
            return Ok(ServiceResponse::new(request, error.error_response()));
        }
    };
    let record = record_refusal(status, head.headers().get(CONTENT_TYPE), &bytes);
    if let Ok(Err(e)) = web::block(move || store.refuse(&claimed, &record)).await {
        tracing::warn!(error = %e, "could not record an idempotent refusal");
    }
    let response = head.set_body(bytes).map_into_boxed_body();
    Ok(ServiceResponse::new(request, response))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_recorded_refusal_replays_its_status_type_and_body() {
        let record = record_refusal(
            StatusCode::CONFLICT,
            Some(&HeaderValue::from_static("application/problem+json")),
            b"{\"code\":\"order_empty\"}\n",
        );
        let response = replay_refusal(&record).unwrap();
        assert_eq!(response.status(), StatusCode::CONFLICT);
        assert_eq!(
            response.headers().get(CONTENT_TYPE).unwrap(),
            "application/problem+json"
        );
        let body = actix_web::body::to_bytes(response.into_body());
        let body = futures_executor(body).unwrap();
        assert_eq!(&body[..], b"{\"code\":\"order_empty\"}\n");
        assert!(replay_refusal(b"garbage").is_none());
    }

    fn futures_executor<F: std::future::Future>(future: F) -> F::Output {
        actix_web::rt::System::new().block_on(future)
    }
}
