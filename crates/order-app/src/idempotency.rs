//! Idempotent requests: the same key replays the first outcome instead of
//! repeating its effect.
//!
//! The protocol, as payment APIs use it:
//! 1. [`IdempotencyStore::begin`] claims `(scope, key)` with the request's
//!    fingerprint, or reports that it was already answered ([`Claim::Replay`]
//!    with the stored [`Outcome`]), is still being answered (in flight), or
//!    was used for a different request (mismatch).
//! 2. The use case runs with the claim. The repository completes the claim
//!    **in the transaction of the effect**, storing the written value itself
//!    (the order as written and the line it touched, the edit, or the
//!    customer), so an effect can never exist without its outcome, nor the
//!    reverse.
//! 3. A request refused without effect is completed with
//!    [`IdempotencyStore::refuse`] and the adapter's own record of its
//!    answer (opaque bytes); a failure worth retrying (database unavailable)
//!    [`IdempotencyStore::release`]s the claim.
//!
//! The use cases never render an answer: the adapter renders the outcome it
//! got back, or the one replayed, with the same code, so both are the same
//! bytes. A claim whose holder died is taken over after its
//! [`ClaimTerms::lease`]; a record older than [`ClaimTerms::retention`] is
//! never replayed (a claim of its key starts afresh), and the purge deletes it.

use chrono::{DateTime, Utc};
use order_domain::{LineId, Order, OrderEdit};

use crate::model::Customer;
use crate::RepositoryError;

/// What identifies one idempotent request.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct IdempotencyKey {
    /// Which operation the key belongs to (chosen by the adapter), and later the caller.
    pub scope: String,
    /// The client's key.
    pub key: String,
}

/// How long claims and their answers last, as [`IdempotencyStore::begin`] applies them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClaimTerms {
    /// A claim unanswered for longer than this is considered abandoned and
    /// may be taken over.
    pub lease: chrono::Duration,
    /// A key claimed longer ago than this has expired: it is never replayed,
    /// and claiming it again starts afresh, whatever request it answered.
    pub retention: chrono::Duration,
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

/// A claim to complete with an order write, in the write's transaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Receipt {
    /// Which request the write answers, and under which claim.
    pub claim: ClaimedKey,
    /// The line the write touched, stored with the order (an added line).
    pub line: Option<LineId>,
}

/// What a completed key replays.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// An order write: the order exactly as written, and the line it touched.
    Order {
        /// The order at the version the write produced (boxed: an order is
        /// large, the other outcomes small).
        order: Box<Order>,
        /// The line the write touched, if it was about one line.
        line: Option<LineId>,
    },
    /// A customer registration: the customer as stored.
    Customer(Customer),
    /// An edit begun or staged: the edit as written (boxed like the order).
    Edit(Box<OrderEdit>),
    /// A refusal without effect, as the adapter recorded it (opaque here).
    Refused(Vec<u8>),
}

/// The outcome of claiming a key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Claim {
    /// First use (or a dead holder's lease expired): go ahead under this claim.
    Acquired(ClaimedKey),
    /// Answered before, for the same request: replay this.
    Replay(Outcome),
    /// Another request with this key is being answered right now.
    InFlight,
    /// The key was used for a different request (another body or path).
    Mismatch,
}

/// Stores idempotency claims and their outcomes.
#[cfg_attr(feature = "mocks", mockall::automock)]
pub trait IdempotencyStore: Send + Sync + 'static {
    /// Claims `key` for a request with this `fingerprint` (a hash of what the
    /// request asks), or says why not. A claim older than `terms.lease` whose
    /// request never completed is taken over; a key first claimed more than
    /// `terms.retention` before `now` MUST NOT be replayed nor refused as a
    /// mismatch: it is claimed afresh.
    ///
    /// # Errors
    /// `Unavailable` if the store cannot be reached.
    fn begin(
        &self,
        key: &IdempotencyKey,
        fingerprint: &str,
        now: DateTime<Utc>,
        terms: ClaimTerms,
    ) -> Result<Claim, RepositoryError>;

    /// Completes a claim whose request was refused without effect, with the
    /// adapter's record of the refusal (replayed as [`Outcome::Refused`]).
    /// Does nothing if the claim is no longer held.
    ///
    /// # Errors
    /// `Unavailable` if the store cannot be reached.
    fn refuse(&self, claim: &ClaimedKey, answer: &[u8]) -> Result<(), RepositoryError>;

    /// Drops an unanswered claim so the client may retry (e.g. after an outage).
    ///
    /// # Errors
    /// `Unavailable` if the store cannot be reached.
    fn release(&self, claim: &ClaimedKey) -> Result<(), RepositoryError>;

    /// Deletes records created before `before`; returns how many.
    ///
    /// # Errors
    /// `Unavailable` if the store cannot be reached.
    fn purge(&self, before: DateTime<Utc>) -> Result<u64, RepositoryError>;
}
