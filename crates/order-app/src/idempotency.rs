//! Idempotent requests: the same `Idempotency-Key` replays the first answer
//! instead of repeating its effect.
//!
//! The protocol, as payment APIs use it:
//! 1. [`IdempotencyStore::begin`] claims `(scope, key)` with the request's
//!    fingerprint, or reports that it was already answered (replay), is still
//!    being answered (in flight), or was used for a different request (mismatch).
//! 2. The use case runs. Its effect and the [`Receipt`] (the answer to
//!    replay) are written **in one transaction** by the repository, so an
//!    effect can never exist without its receipt, nor the reverse.
//! 3. An answer without effect (a refusal) is recorded with
//!    [`IdempotencyStore::complete`]; a failure worth retrying (database
//!    unavailable) [`IdempotencyStore::release`]s the claim.
//!
//! A claim whose holder died is taken over after [`IdempotencyStore::begin`]'s
//! `lease`; receipts are purged after the retention period.

use chrono::{DateTime, Utc};
use order_domain::{LineId, Order};

use crate::customers::Customer;
use crate::RepositoryError;

/// What identifies one idempotent request.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct IdempotencyKey {
    /// The endpoint (method and route template), and later the caller.
    pub scope: String,
    /// The client's key, 1 to 255 printable ASCII characters.
    pub key: String,
}

/// The stored answer to replay.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredResponse {
    /// HTTP status code.
    pub status: u16,
    /// Headers to replay (`Location`, `ETag`, `Content-Type`).
    pub headers: Vec<(String, String)>,
    /// The body bytes.
    pub body: Vec<u8>,
}

/// A claimed key, as [`IdempotencyStore::begin`] hands it out.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ClaimedKey {
    /// The key.
    pub key: IdempotencyKey,
    /// Identifies this claim: a claim taken over after its lease expired gets
    /// a new token, and the old holder can then no longer complete it.
    pub token: String,
}

/// A claimed key and the answer to store with the effect.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Receipt {
    /// Which request this answers, and under which claim.
    pub claim: ClaimedKey,
    /// The answer.
    pub response: StoredResponse,
}

/// Renders the answer to a successful order write, just before it is committed
/// (the line is the one an `add_line` touched).
pub type OrderRender = dyn Fn(&Order, Option<LineId>) -> StoredResponse + Send + Sync;

/// Renders the answer to a successful customer registration.
pub type CustomerRender = dyn Fn(&Customer) -> StoredResponse + Send + Sync;

/// An idempotent write: the claim, and how to render the answer stored with the effect.
pub struct Idempotent<R: ?Sized> {
    /// The claim the answer completes.
    pub claim: ClaimedKey,
    /// Renders the answer from the written value.
    pub render: Box<R>,
}

impl<R: ?Sized> std::fmt::Debug for Idempotent<R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Idempotent")
            .field("claim", &self.claim)
            .finish_non_exhaustive()
    }
}

impl Idempotent<OrderRender> {
    /// The receipt for this order state.
    #[must_use]
    pub fn receipt(&self, order: &Order, line: Option<LineId>) -> Receipt {
        Receipt {
            claim: self.claim.clone(),
            response: (self.render)(order, line),
        }
    }
}

impl Idempotent<CustomerRender> {
    /// The receipt for this customer.
    #[must_use]
    pub fn receipt(&self, customer: &Customer) -> Receipt {
        Receipt {
            claim: self.claim.clone(),
            response: (self.render)(customer),
        }
    }
}

/// The outcome of claiming a key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Claim {
    /// First use (or a dead holder's lease expired): go ahead under this claim.
    Acquired(ClaimedKey),
    /// Answered before, for the same request: replay this.
    Replay(StoredResponse),
    /// Another request with this key is being answered right now.
    InFlight,
    /// The key was used for a different request (another body or path).
    Mismatch,
}

/// Stores idempotency claims and receipts.
#[cfg_attr(feature = "mocks", mockall::automock)]
pub trait IdempotencyStore: Send + Sync + 'static {
    /// Claims `key` for a request with this `fingerprint` (a hash of what the
    /// request asks), or says why not. A claim older than `lease` whose
    /// request never completed is taken over.
    ///
    /// # Errors
    /// `Unavailable` if the store cannot be reached.
    fn begin(
        &self,
        key: &IdempotencyKey,
        fingerprint: &str,
        now: DateTime<Utc>,
        lease: chrono::Duration,
    ) -> Result<Claim, RepositoryError>;

    /// Records the answer of a request that had no effect (e.g. a refusal).
    /// Does nothing if the claim was already completed (by the effect's own
    /// transaction) or is no longer held.
    ///
    /// # Errors
    /// `Unavailable` if the store cannot be reached.
    fn complete(&self, receipt: &Receipt, now: DateTime<Utc>) -> Result<(), RepositoryError>;

    /// Drops an unanswered claim so the client may retry (e.g. after an outage).
    ///
    /// # Errors
    /// `Unavailable` if the store cannot be reached.
    fn release(&self, claim: &ClaimedKey) -> Result<(), RepositoryError>;

    /// Deletes receipts and claims created before `before`; returns how many.
    ///
    /// # Errors
    /// `Unavailable` if the store cannot be reached.
    fn purge(&self, before: DateTime<Utc>) -> Result<u64, RepositoryError>;
}
