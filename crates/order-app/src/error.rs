//! Errors of the application layer: what a use case can answer besides success.

use order_domain::{CustomerId, DomainError};

use crate::access::{AuthFailure, Scope};

/// What a storage port reports when it cannot do what was asked.
///
/// Adapters map their own errors (SQL states, pool time-outs) to these
/// variants where they happen, so no database type leaks past the adapter.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RepositoryError {
    /// The stored version is not the one the update expected: someone else
    /// changed the record first. Retrying from a fresh read is safe.
    #[error("the record was changed concurrently (expected version {expected})")]
    Conflict {
        /// The version the writer had read.
        expected: u64,
    },
    /// A uniqueness rule was violated (e.g. the same order number or email twice).
    #[error("duplicate {0}")]
    Duplicate(String),
    /// The customer an order refers to does not exist: the one place that
    /// rule is decided is the store's foreign key, reported as this variant.
    #[error("customer {0} does not exist")]
    UnknownCustomer(CustomerId),
    /// A stored rule (CHECK or foreign key) the domain should have enforced
    /// first rejected the data: a bug, never the caller's fault.
    #[error("constraint violated: {0}")]
    ConstraintViolation(String),
    /// An idempotent write found its key's claim gone (expired and taken over,
    /// or purged); nothing was written.
    #[error("the idempotency claim is no longer held")]
    ClaimLost,
    /// The record to update does not exist (or is soft-deleted).
    #[error("record not found")]
    NotFound,
    /// The store cannot be reached or did not answer in time.
    #[error("storage unavailable: {0}")]
    Unavailable(String),
    /// Anything else; the text is for logs, never for clients.
    #[error("unexpected storage error: {0}")]
    Unexpected(String),
}

/// What a [`AppError::Conflict`] is about, and whether retrying the same
/// request may succeed.
///
/// A collision with concurrent work (too many writers, a claim lost to a
/// retry) is retryable: the same request, sent again, may well pass, so an
/// idempotency key must not keep it as the request's final answer. A
/// duplicate is not: the same request will collide again.
///
/// ```
/// use order_app::ConflictDetail;
/// assert!(ConflictDetail::retryable("too many writers").is_retryable());
/// assert!(!ConflictDetail::from("duplicate email").is_retryable());
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConflictDetail {
    message: String,
    retryable: bool,
}

impl ConflictDetail {
    /// A collision with concurrent work: the same request may pass later.
    #[must_use]
    pub fn retryable(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            retryable: true,
        }
    }

    /// Whether sending the same request again may succeed.
    #[must_use]
    pub const fn is_retryable(&self) -> bool {
        self.retryable
    }
}

/// A conflict with the data itself (a duplicate): retrying cannot help.
impl From<String> for ConflictDetail {
    fn from(message: String) -> Self {
        Self {
            message,
            retryable: false,
        }
    }
}

impl From<&str> for ConflictDetail {
    fn from(message: &str) -> Self {
        Self::from(message.to_owned())
    }
}

impl std::fmt::Display for ConflictDetail {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

/// The one error type every use case returns.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AppError {
    /// A business rule refused the operation.
    #[error(transparent)]
    Domain(#[from] DomainError),
    /// The addressed resource does not exist.
    #[error("{entity} {id} not found")]
    NotFound {
        /// `order`, `customer`, ...
        entity: &'static str,
        /// The identifier that was looked up, as given.
        id: String,
    },
    /// The request refers to something (in its body) that does not exist,
    /// e.g. an order for an unknown customer.
    #[error("{field} refers to an unknown {entity} {id}")]
    UnknownReference {
        /// The request field holding the reference.
        field: &'static str,
        /// `customer`, ...
        entity: &'static str,
        /// The identifier given.
        id: String,
    },
    /// The version the caller required is no longer the stored one.
    #[error("version mismatch: expected {expected}, current {actual}")]
    VersionMismatch {
        /// The version the caller sent.
        expected: u64,
        /// The version stored now.
        actual: u64,
    },
    /// The operation collides with the state of the data (a duplicate) or
    /// with concurrent work; [`ConflictDetail::is_retryable`] tells which.
    #[error("conflict: {0}")]
    Conflict(ConflictDetail),
    /// Input that no domain type covers (page size, email, ...) is invalid.
    #[error("{field}: {message}")]
    Validation {
        /// The offending field.
        field: &'static str,
        /// What is wrong with it.
        message: String,
    },
    /// The request carries no valid API key.
    #[error("{0}")]
    Unauthenticated(AuthFailure),
    /// The caller's key lacks the scope the operation needs.
    #[error("this API key lacks the scope {needed}")]
    Forbidden {
        /// The scope the operation needs.
        needed: Scope,
    },
    /// A dependency (the database) is down or too slow; retry later.
    #[error("service unavailable: {0}")]
    Unavailable(String),
    /// A bug or an unexpected state; details go to logs only.
    #[error("unexpected: {0}")]
    Unexpected(String),
}

impl AppError {
    /// Shorthand for a validation error.
    #[must_use]
    pub fn validation(field: &'static str, message: impl Into<String>) -> Self {
        Self::Validation {
            field,
            message: message.into(),
        }
    }
}

impl From<RepositoryError> for AppError {
    fn from(error: RepositoryError) -> Self {
        match error {
            RepositoryError::Conflict { expected } => Self::Conflict(ConflictDetail::retryable(
                format!("concurrent update of version {expected}"),
            )),
            // A generated value (an order number) met one already stored: a
            // retry generates another.
            RepositoryError::Duplicate(what) => {
                Self::Conflict(ConflictDetail::retryable(format!("duplicate {what}")))
            }
            RepositoryError::ClaimLost => Self::Conflict(ConflictDetail::retryable(
                "the idempotency key's claim expired while the request ran; retry",
            )),
            RepositoryError::NotFound => Self::NotFound {
                entity: "record",
                id: String::new(),
            },
            RepositoryError::UnknownCustomer(id) => Self::UnknownReference {
                field: "customer_id",
                entity: "customer",
                id: id.to_string(),
            },
            RepositoryError::Unavailable(why) => Self::Unavailable(why),
            // A constraint the domain should have caught first is a bug, not bad input.
            RepositoryError::ConstraintViolation(why) | RepositoryError::Unexpected(why) => {
                Self::Unexpected(why)
            }
        }
    }
}
