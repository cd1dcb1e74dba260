//! Turning raw request parts into typed values, with a precise 4xx for each
//! way they can be wrong: JSON bodies, path ids, query pages, `If-Match`.

use std::future::Future;
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::{web, FromRequest, HttpRequest};
use order_app::{InvalidPage, PageRequest};
use serde::de::DeserializeOwned;
use serde::Deserialize;
use uuid::Uuid;

use crate::error::ApiError;

/// Largest JSON body accepted.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// A JSON request body: `Content-Type: application/json` (or `+json`),
/// at most [`MAX_BODY_BYTES`], deserialised with the failing field's path
/// reported (`lines[0].quantity: invalid type ...`).
#[derive(Debug)]
pub struct JsonBody<T>(pub T);

impl<T: DeserializeOwned + 'static> FromRequest for JsonBody<T> {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let content_type_ok = is_json(req);
        let bytes = web::Bytes::from_request(req, payload);
        Box::pin(async move {
            if !content_type_ok {
                return Err(ApiError::UnsupportedMediaType);
            }
            let bytes = bytes.await.map_err(body_error)?;
            parse_json(&bytes).map(JsonBody)
        })
    }
}

/// An optional JSON body: empty, or JSON `null`, means `T::default()`.
#[derive(Debug)]
pub struct OptionalJsonBody<T>(pub T);

impl<T: DeserializeOwned + Default + 'static> FromRequest for OptionalJsonBody<T> {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let content_type_ok = is_json(req);
        let bytes = web::Bytes::from_request(req, payload);
        Box::pin(async move {
            let bytes = bytes.await.map_err(body_error)?;
            if bytes.iter().all(u8::is_ascii_whitespace) {
                return Ok(Self(T::default()));
            }
            if !content_type_ok {
                return Err(ApiError::UnsupportedMediaType);
            }
            parse_json::<Option<T>>(&bytes).map(|body| Self(body.unwrap_or_default()))
        })
    }
}

fn body_error(error: actix_web::Error) -> ApiError {
    if error.as_response_error().status_code() == actix_web::http::StatusCode::PAYLOAD_TOO_LARGE {
        ApiError::PayloadTooLarge {
            limit: MAX_BODY_BYTES,
        }
    } else {
        ApiError::BadRequest {
            code: "unreadable_body",
            field: None,
            detail: format!("could not read the request body: {error}"),
        }
    }
}

fn is_json(req: &HttpRequest) -> bool {
    req.headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(|mime| {
            let mime = mime.trim().to_ascii_lowercase();
            mime == "application/json"
                || (mime.starts_with("application/") && mime.ends_with("+json"))
        })
        .unwrap_or(false)
}

fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let mut deserializer = serde_json::Deserializer::from_slice(bytes);
    let value = serde_path_to_error::deserialize(&mut deserializer).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        let field = (path != ".").then_some(path);
        if inner.is_data() {
            ApiError::InvalidBody {
                detail: match &field {
                    Some(f) => format!("{f}: {inner}"),
                    None => inner.to_string(),
                },
                field: field.or_else(|| missing_field_name(&inner.to_string())),
            }
        } else {
            ApiError::BadRequest {
                code: "malformed_json",
                field: None,
                detail: format!("malformed JSON: {inner}"),
            }
        }
    })?;
    deserializer.end().map_err(|e| ApiError::BadRequest {
        code: "malformed_json",
        field: None,
        detail: format!("malformed JSON: {e}"),
    })?;
    Ok(value)
}

/// serde reports a missing field at the parent's path; pull its name out of the message.
fn missing_field_name(message: &str) -> Option<String> {
    let rest = message.strip_prefix("missing field `")?;
    rest.split('`').next().map(str::to_owned)
}

/// Parses a UUID path parameter, or answers 400 naming it.
///
/// # Errors
/// `invalid_parameter` (400).
pub fn path_uuid(name: &str, raw: &str) -> Result<Uuid, ApiError> {
    Uuid::try_parse(raw)
        .map_err(|_| ApiError::bad_parameter(name, format!("{name} must be a UUID, got {raw:?}")))
}

/// `?page=&page_size=&after=&include_total=`.
#[derive(Debug, Deserialize)]
pub struct PageQuery {
    page: Option<String>,
    page_size: Option<String>,
    after: Option<String>,
    include_total: Option<String>,
}

impl PageQuery {
    /// Validates paging; absent values take their defaults.
    ///
    /// # Errors
    /// `invalid_parameter` (400) naming `page` or `page_size`.
    pub fn into_page(self) -> Result<PageRequest, ApiError> {
        let number = |name: &str, raw: Option<String>, default: u32| match raw {
            None => Ok(default),
            Some(text) => text.parse::<u32>().map_err(|_| {
                ApiError::bad_parameter(
                    name,
                    format!("{name} must be a positive integer, got {text:?}"),
                )
            }),
        };
        let page_size = number("page_size", self.page_size, PageRequest::DEFAULT_PAGE_SIZE)?;
        // Counting is opt-in: a page with a next page otherwise carries the
        // planner's estimate, and costs no count (docs/performance.md).
        let include_total = match self.include_total.as_deref() {
            None | Some("false") => false,
            Some("true") => true,
            Some(other) => {
                return Err(ApiError::bad_parameter(
                    "include_total",
                    format!("include_total must be true or false, got {other:?}"),
                ))
            }
        };
        let request = match (self.after, self.page) {
            (Some(_), Some(_)) => {
                return Err(ApiError::bad_parameter(
                    "after",
                    "give either page or after (the cursor of the previous page), not both",
                ))
            }
            (Some(after), None) => PageRequest::after(crate::cursor::decode(&after)?, page_size),
            (None, page) => PageRequest::new(number("page", page, 1)?, page_size),
        };
        request
            .map(|page| page.counting_total(include_total))
            .map_err(invalid_page)
    }
}

/// The 400 naming the parameter a refused page request is about.
fn invalid_page(error: InvalidPage) -> ApiError {
    match error {
        InvalidPage::Size => ApiError::bad_parameter(
            "page_size",
            format!(
                "page_size must be between 1 and {}",
                PageRequest::MAX_PAGE_SIZE
            ),
        ),
        InvalidPage::TooDeep => ApiError::bad_parameter(
            "page",
            format!(
                "page may skip at most {} items; continue deeper lists with the `after` cursor of the previous page",
                PageRequest::MAX_OFFSET
            ),
        ),
        _ => ApiError::bad_parameter(
            "page",
            format!("page must be between 1 and {}", PageRequest::MAX_PAGE),
        ),
    }
}

/// Reads the query string leniently (unknown parameters are ignored) into a [`PageQuery`].
///
/// # Errors
/// `invalid_parameter` (400).
pub fn page_query(req: &HttpRequest) -> Result<PageRequest, ApiError> {
    web::Query::<PageQuery>::from_query(req.query_string())
        .map_err(|e| ApiError::BadRequest {
            code: "invalid_parameter",
            field: None,
            detail: format!("invalid query string: {e}"),
        })?
        .into_inner()
        .into_page()
}

/// The request header naming who makes a change, until callers are
/// authenticated (then the authenticated key names them).
pub const ACTOR_HEADER: &str = "X-Actor";

/// Who makes the change a request asks for: the authenticated key (its id and
/// name); with authentication off, `X-Actor` (trimmed, 1-200 characters, no
/// control characters), or `anonymous` without the header.
///
/// A malformed `X-Actor` is refused in both modes, so the header means the
/// same thing wherever the API document describes it.
///
/// # Errors
/// `invalid_parameter` (400) naming `X-Actor`.
pub fn actor(req: &HttpRequest) -> Result<order_domain::Actor, ApiError> {
    let named = named_actor(req)?;
    // An authenticated caller is its key: the audit trail must not take a
    // name the caller chose, so `X-Actor` counts only with authentication off.
    if let Some(access) = actix_web::HttpMessage::extensions(req).get::<crate::auth::Access>() {
        if access.caller().is_some() {
            return Ok(access.actor());
        }
    }
    Ok(named.unwrap_or_else(order_domain::Actor::anonymous))
}

/// The actor `X-Actor` names, if the request has one.
fn named_actor(req: &HttpRequest) -> Result<Option<order_domain::Actor>, ApiError> {
    let Some(value) = req.headers().get(ACTOR_HEADER) else {
        return Ok(None);
    };
    let invalid = |detail: String| ApiError::BadRequest {
        code: "invalid_parameter",
        field: Some(ACTOR_HEADER.to_owned()),
        detail,
    };
    let text = value
        .to_str()
        .map_err(|_| invalid("X-Actor must be visible ASCII text".to_owned()))?;
    order_domain::Actor::new(text, None)
        .map(Some)
        .map_err(|e| invalid(format!("X-Actor {e}")))
}

/// `?after=<sequence>&limit=` of an order's history.
#[derive(Debug, Deserialize)]
struct EventsQuery {
    after: Option<String>,
    limit: Option<String>,
}

/// The history page a request asks for: `(after, limit)`, defaults `(0, 50)`.
///
/// # Errors
/// `invalid_parameter` (400) naming `after` (not an integer 0..=i64::MAX) or
/// `limit` (not 1..=500).
pub fn events_query(req: &HttpRequest) -> Result<(u64, usize), ApiError> {
    let query = web::Query::<EventsQuery>::from_query(req.query_string())
        .map_err(|e| ApiError::BadRequest {
            code: "invalid_parameter",
            field: None,
            detail: format!("invalid query string: {e}"),
        })?
        .into_inner();
    let after = match query.after {
        None => 0,
        // Sequences are stored as bigint: no order ever reaches i64::MAX.
        Some(text) => text
            .parse::<u64>()
            .ok()
            .filter(|n| i64::try_from(*n).is_ok())
            .ok_or_else(|| {
                ApiError::bad_parameter(
                    "after",
                    format!(
                        "after must be a sequence number, 0 to {}, got {text:?}",
                        i64::MAX
                    ),
                )
            })?,
    };
    let limit = match query.limit {
        None => EVENTS_DEFAULT_LIMIT,
        Some(text) => text
            .parse::<usize>()
            .ok()
            .filter(|n| (1..=EVENTS_MAX_LIMIT).contains(n))
            .ok_or_else(|| {
                ApiError::bad_parameter(
                    "limit",
                    format!("limit must be 1 to {EVENTS_MAX_LIMIT}, got {text:?}"),
                )
            })?,
    };
    Ok((after, limit))
}

/// Events per history page unless `limit` says otherwise.
pub const EVENTS_DEFAULT_LIMIT: usize = 50;
/// The largest `limit` of a history page.
pub const EVENTS_MAX_LIMIT: usize = order_app::Orders::MAX_HISTORY_PAGE;

/// What a request's `If-Match` asks (RFC 9110 section 13.1.1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IfMatch {
    /// `*`: any current representation, so the order must exist.
    Any,
    /// A list of entity tags: the order's `ETag` must equal one of them by
    /// strong comparison. Only strong tags of a version can; weak tags and
    /// other opaque tags never match, so the list may be empty.
    Versions(Vec<u64>),
}

/// The `If-Match` precondition of a request, if it has one. Several header
/// lines combine into one list, as RFC 9110 section 5.3 allows.
///
/// # Errors
/// `invalid_precondition` (400) when a value is not `*` or a list of entity tags.
pub fn if_match(req: &HttpRequest) -> Result<Option<IfMatch>, ApiError> {
    let invalid = || ApiError::BadRequest {
        code: "invalid_precondition",
        field: Some("If-Match".to_owned()),
        detail: "If-Match must be * or a list of entity tags, e.g. \"3\"".to_owned(),
    };
    let mut values = req.headers().get_all(header::IF_MATCH).peekable();
    if values.peek().is_none() {
        return Ok(None);
    }
    let mut any = false;
    let mut versions = Vec::new();
    for value in values {
        let text = value.to_str().map_err(|_| invalid())?.trim();
        if text == "*" {
            any = true;
            continue;
        }
        let tags = entity_tags(text)
            .filter(|tags| !tags.is_empty())
            .ok_or_else(invalid)?;
        for tag in tags {
            if let EntityTag::Strong(opaque) = tag {
                // Our ETags are decimal versions without leading zeros: only
                // such a tag is strongly equal to one of them.
                if !(opaque.starts_with('0') && opaque.len() > 1) {
                    versions.extend(opaque.parse::<u64>().ok());
                }
            }
        }
    }
    if any {
        // `*` is a field value of its own; a list beside it adds nothing.
        return Ok(Some(IfMatch::Any));
    }
    Ok(Some(IfMatch::Versions(versions)))
}

/// One entity tag of a list.
enum EntityTag<'a> {
    Strong(&'a str),
    Weak,
}

/// `#entity-tag` (RFC 9110 section 8.8.3): comma-separated, optional
/// whitespace, empty elements allowed; `None` on anything else.
fn entity_tags(text: &str) -> Option<Vec<EntityTag<'_>>> {
    let mut tags = Vec::new();
    let mut rest = text.trim();
    while !rest.is_empty() {
        if let Some(after) = rest.strip_prefix(',') {
            rest = after.trim_start();
            continue;
        }
        let (weak, quoted) = match rest.strip_prefix("W/") {
            Some(after) => (true, after),
            None => (false, rest),
        };
        let inner = quoted.strip_prefix('"')?;
        let end = inner.find('"')?;
        let opaque = &inner[..end];
        // etagc = %x21 / %x23-7E / obs-text
        if !opaque
            .bytes()
            .all(|b| b == 0x21 || (0x23..=0x7e).contains(&b) || b >= 0x80)
        {
            return None;
        }
        tags.push(if weak {
            EntityTag::Weak
        } else {
            EntityTag::Strong(opaque)
        });
        rest = inner[end + 1..].trim_start();
        if !rest.is_empty() {
            rest = rest.strip_prefix(',')?.trim_start();
        }
    }
    Some(tags)
}

/// The `ETag` of an order at `version`.
#[must_use]
pub fn etag(version: u64) -> String {
    format!("\"{version}\"")
}

/// Runs blocking use-case code on actix's blocking thread pool, off the async
/// workers. That pool is actix's own (its default size, not the connection
/// pool's): a use case waiting there for a database connection waits at most
/// the connection pool's checkout timeout, then answers 503.
///
/// # Errors
/// The use case's error, or `Blocking` if the pool could not run it.
pub async fn blocking<T, F>(f: F) -> Result<T, ApiError>
where
    F: FnOnce() -> Result<T, order_app::AppError> + Send + 'static,
    T: Send + 'static,
{
    web::block(f)
        .await
        .map_err(|e| ApiError::Blocking(e.to_string()))?
        .map_err(ApiError::App)
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::test::TestRequest;

    #[test]
    fn x_actor_names_the_actor_and_a_malformed_one_is_refused() {
        let with = |value: &str| {
            actor(
                &TestRequest::default()
                    .insert_header((ACTOR_HEADER, value))
                    .to_http_request(),
            )
        };
        assert_eq!(with("  clerk 7 ").unwrap().id(), "clerk 7");
        assert_eq!(
            actor(&TestRequest::default().to_http_request())
                .unwrap()
                .id(),
            order_domain::Actor::ANONYMOUS
        );
        let longest = "a".repeat(order_domain::Actor::MAX_CHARS);
        assert_eq!(with(&longest).unwrap().id(), longest);
        for bad in ["   ", &format!("{longest}a")] {
            match with(bad) {
                Err(ApiError::BadRequest { field, .. }) => {
                    assert_eq!(field.as_deref(), Some(ACTOR_HEADER));
                }
                other => panic!("{bad:?} gave {other:?}"),
            }
        }
    }

    #[test]
    fn if_match_reads_star_and_lists_of_entity_tags_as_rfc_9110_defines_them() {
        let req = |values: &[&str]| {
            let mut req = TestRequest::default();
            for v in values {
                req = req.append_header((header::IF_MATCH, *v));
            }
            if_match(&req.to_http_request()).map_err(|e| e.to_string())
        };
        let versions = |v: &[u64]| Ok(Some(IfMatch::Versions(v.to_vec())));
        assert_eq!(req(&["\"7\""]), versions(&[7]));
        assert_eq!(req(&["*"]), Ok(Some(IfMatch::Any)));
        assert_eq!(req(&[]), Ok(None));
        assert_eq!(req(&["\"1\", \"2\""]), versions(&[1, 2]));
        assert_eq!(req(&["\"1\",,\"2\" ,"]), versions(&[1, 2]));
        assert_eq!(req(&["\"1\"", "\"5\""]), versions(&[1, 5]));
        // Weak tags never match (strong comparison), nor do tags that are not
        // one of our versions: the list is well formed, and matches nothing.
        assert_eq!(req(&["W/\"7\""]), versions(&[]));
        assert_eq!(req(&["\"x\", W/\"3\", \"4\""]), versions(&[4]));
        assert_eq!(req(&["\"07\"", "\"-1\""]), versions(&[]));
        assert_eq!(req(&["\"\""]), versions(&[]));
        for bad in [
            "7",
            "three",
            "\"7",
            "\"1\" \"2\"",
            "W/7",
            "\"a b\"",
            ",",
            "",
            "w/\"1\"",
        ] {
            let req = TestRequest::default()
                .insert_header((header::IF_MATCH, bad))
                .to_http_request();
            assert!(
                matches!(
                    if_match(&req),
                    Err(ApiError::BadRequest {
                        code: "invalid_precondition",
                        ..
                    })
                ),
                "{bad}"
            );
        }
    }

    #[test]
    fn page_query_defaults_and_bounds() {
        let q = |s: &str| page_query(&TestRequest::with_uri(&format!("/x?{s}")).to_http_request());
        let default = q("").unwrap();
        assert_eq!((default.page(), default.page_size()), (1, 20));
        assert!(
            !default.counts_total(),
            "a total is counted only when asked"
        );
        assert!(q("include_total=true").unwrap().counts_total());
        assert!(!q("include_total=false").unwrap().counts_total());
        assert_eq!(q("page=3&page_size=100&utm=1").unwrap().page(), 3);
        let cursor = order_app::ListCursor {
            created_at: chrono::DateTime::from_timestamp_micros(1).unwrap(),
            id: uuid::Uuid::nil(),
        };
        let after = q(&format!(
            "after={}&page_size=5",
            crate::cursor::encode(&cursor)
        ))
        .unwrap();
        assert_eq!((after.cursor(), after.page_size()), (Some(cursor), 5));
        for bad in [
            "page=0",
            "page=-1",
            "page=abc",
            "page_size=0",
            "page_size=101",
            "page=1.5",
            "page=600",
            "after=x",
            "after=1.00000000000000000000000000000000&page=1",
            "include_total=1",
            "include_total=yes",
        ] {
            assert!(matches!(q(bad), Err(ApiError::BadRequest { .. })), "{bad}");
        }
    }

    #[test]
    fn json_errors_name_the_field() {
        #[derive(Debug, Deserialize)]
        #[serde(deny_unknown_fields)]
        #[allow(dead_code)]
        struct Body {
            quantity: i64,
        }
        let err = parse_json::<Body>(br#"{"quantity":"two"}"#).unwrap_err();
        assert!(
            matches!(&err, ApiError::InvalidBody { field: Some(f), .. } if f == "quantity"),
            "{err:?}"
        );
        let err = parse_json::<Body>(br"{}").unwrap_err();
        assert!(
            matches!(&err, ApiError::InvalidBody { field: Some(f), .. } if f == "quantity"),
            "{err:?}"
        );
        let err = parse_json::<Body>(br#"{"quantity":1,"x":2}"#).unwrap_err();
        assert!(matches!(err, ApiError::InvalidBody { .. }));
        let err = parse_json::<Body>(br#"{"quantity":1"#).unwrap_err();
        assert!(matches!(
            err,
            ApiError::BadRequest {
                code: "malformed_json",
                ..
            }
        ));
        let err = parse_json::<Body>(br#"{"quantity":1} trailing"#).unwrap_err();
        assert!(matches!(
            err,
            ApiError::BadRequest {
                code: "malformed_json",
                ..
            }
        ));
    }
}
