//! Ports: what the use cases need from the outside world, as traits.
//!
//! Ports are synchronous: the PostgreSQL adapter is diesel (blocking), so
//! whoever calls a use case from async code runs it on a blocking thread pool.
//!
//! With the `mocks` feature, every port has a `mockall` mock (`MockOrderRepository`, ...).

use chrono::{DateTime, Utc};
use order_domain::{CustomerId, EditId, Order, OrderEdit, OrderId, OrderNumber};
use uuid::Uuid;

use crate::access::{ApiKey, KeyId};
use crate::idempotency::{ClaimedKey, Receipt};
use crate::model::Customer;
use crate::{OrderFilter, Page, PageRequest, RepositoryError};

/// Stores and finds orders (with their lines).
///
/// Soft-deleted orders are invisible to every `find_*` and `list`.
///
/// # Idempotency contract
/// When a write carries a [`Receipt`], the receipt's claim is completed with
/// the order as written (and the receipt's line) in the same transaction as
/// the write, so [`crate::idempotency::IdempotencyStore::begin`] replays it as
/// [`crate::idempotency::Outcome::Order`]: both are stored or neither. If the
/// claim is no longer held the write MUST fail with `ClaimLost` and store nothing.
///
/// # Concurrency contract
/// [`OrderRepository::update`] is a compare-and-set on the order's version: it
/// writes only if the stored version still equals `expected_version`, and
/// otherwise changes nothing and returns [`RepositoryError::Conflict`]. A
/// concurrent update can therefore never be lost; the loser re-reads and retries.
#[cfg_attr(feature = "mocks", mockall::automock)]
pub trait OrderRepository: Send + Sync + 'static {
    /// Stores a new order, its lines, its pending events and the receipt (if
    /// any) atomically.
    ///
    /// # Errors
    /// MUST return `UnknownCustomer` if the order's customer does not exist
    /// (decided by the store in the insert itself, no separate check),
    /// `Duplicate` if the id or number already exists, `ClaimLost`,
    /// `Unavailable` if the store cannot be reached.
    #[allow(clippy::needless_lifetimes)] // mockall needs the lifetime named
    fn insert<'a>(
        &self,
        order: &Order,
        receipt: Option<&'a Receipt>,
    ) -> Result<(), RepositoryError>;

    /// Finds a live order by id.
    ///
    /// # Errors
    /// `Unavailable`/`Unexpected` only; a missing order is `Ok(None)`.
    fn find_by_id(&self, id: OrderId) -> Result<Option<Order>, RepositoryError>;

    /// Finds a live order by its number.
    ///
    /// # Errors
    /// `Unavailable`/`Unexpected` only; a missing order is `Ok(None)`.
    fn find_by_number(&self, number: OrderNumber) -> Result<Option<Order>, RepositoryError>;

    /// One page of live orders matching `filter`, newest first, with the total count.
    ///
    /// # Errors
    /// `Unavailable`/`Unexpected` only.
    fn list(&self, filter: &OrderFilter, page: PageRequest)
        -> Result<Page<Order>, RepositoryError>;

    /// Writes the order's new state, its lines, pending events and the
    /// receipt (if any) atomically, if the stored version is still `expected_version`.
    ///
    /// # Errors
    /// MUST return `Conflict` if the stored version differs (nothing is
    /// written), `NotFound` if the order does not exist or is deleted,
    /// `ClaimLost`, `Unavailable` if the store cannot be reached.
    #[allow(clippy::needless_lifetimes)] // mockall needs the lifetime named
    fn update<'a>(
        &self,
        order: &Order,
        expected_version: u64,
        receipt: Option<&'a Receipt>,
    ) -> Result<(), RepositoryError>;

    /// The order's events with sequence greater than `after`, oldest first,
    /// at most `limit`, and its customer; soft-deleted orders included.
    ///
    /// # Errors
    /// `Unavailable`/`Unexpected` only; an order that never existed is `Ok(None)`.
    fn history(
        &self,
        id: OrderId,
        after: u64,
        limit: usize,
    ) -> Result<Option<crate::StoredHistory>, RepositoryError>;
}

/// Stores edits after confirmation ([`OrderEdit`]) and commits them onto their order.
///
/// An edit is its own record beside the order: begun, staged and discarded
/// without touching the order; only [`OrderEditRepository::commit`] writes
/// the order, in one transaction with the edit's new state.
///
/// # Idempotency contract
/// `insert` and `update` complete the given claim (if any) with the edit as
/// written, replayed as [`crate::idempotency::Outcome::Edit`]; `commit`
/// completes its receipt with the order as written, replayed as
/// [`crate::idempotency::Outcome::Order`]. In every case both are stored or
/// neither, and a claim no longer held fails the write with `ClaimLost`.
///
/// # Concurrency contract
/// `update` is a compare-and-set on the edit's version. `commit` is a
/// compare-and-set on both: the order's version (the edit's base version)
/// and the edit's version; if either moved, nothing is written and it
/// returns [`RepositoryError::Conflict`].
#[cfg_attr(feature = "mocks", mockall::automock)]
pub trait OrderEditRepository: Send + Sync + 'static {
    /// Stores a new edit (and completes the claim, if any).
    ///
    /// # Errors
    /// MUST return `NotFound` if its order does not exist, `Duplicate` if the
    /// id exists, `ClaimLost`, `Unavailable`.
    #[allow(clippy::needless_lifetimes)] // mockall needs the lifetime named
    fn insert<'a>(
        &self,
        edit: &OrderEdit,
        claim: Option<&'a ClaimedKey>,
    ) -> Result<(), RepositoryError>;

    /// Finds an edit by id, whatever its state.
    ///
    /// # Errors
    /// `Unavailable`/`Unexpected` only; a missing edit is `Ok(None)`.
    fn find(&self, id: EditId) -> Result<Option<OrderEdit>, RepositoryError>;

    /// Writes the edit's new changes and state if its stored version is
    /// still `expected_version` (and completes the claim, if any).
    ///
    /// # Errors
    /// MUST return `Conflict` if the stored version differs, `NotFound` if
    /// the edit does not exist, `ClaimLost`, `Unavailable`.
    #[allow(clippy::needless_lifetimes)] // mockall needs the lifetime named
    fn update<'a>(
        &self,
        edit: &OrderEdit,
        expected_version: u64,
        claim: Option<&'a ClaimedKey>,
    ) -> Result<(), RepositoryError>;

    /// Commits: writes the order as [`OrderRepository::update`] does (row,
    /// lines, pending events, receipt) and the edit's committed state, in
    /// one transaction, if the order is still at `expected_order_version`
    /// and the edit at `expected_edit_version`.
    ///
    /// # Errors
    /// MUST return `Conflict` if either version moved (nothing is written),
    /// `NotFound` if the order or edit does not exist, `ClaimLost`, `Unavailable`.
    #[allow(clippy::needless_lifetimes)] // mockall needs the lifetime named
    fn commit<'a>(
        &self,
        order: &Order,
        expected_order_version: u64,
        edit: &OrderEdit,
        expected_edit_version: u64,
        receipt: Option<&'a Receipt>,
    ) -> Result<(), RepositoryError>;
}

/// Hands out order numbers that are unique across every server.
#[cfg_attr(feature = "mocks", mockall::automock)]
pub trait OrderNumberAllocator: Send + Sync + 'static {
    /// The next free number for an order created in `year`.
    ///
    /// # Errors
    /// `Unavailable` if the store cannot be reached.
    fn next_number(&self, year: u16) -> Result<OrderNumber, RepositoryError>;
}

/// Answers whether a customer exists: all the Order context needs from
/// Customer Management.
#[cfg_attr(feature = "mocks", mockall::automock)]
pub trait CustomerDirectory: Send + Sync + 'static {
    /// Whether a customer with this id exists.
    ///
    /// # Errors
    /// `Unavailable` if the store cannot be reached.
    fn exists(&self, id: CustomerId) -> Result<bool, RepositoryError>;
}

/// The minimal Customer Management store the described flow needs.
#[cfg_attr(feature = "mocks", mockall::automock)]
pub trait CustomerRepository: Send + Sync + 'static {
    /// Stores a new customer and, with a claim, completes it with the
    /// customer (replayed as [`crate::idempotency::Outcome::Customer`]) in
    /// the same transaction.
    ///
    /// # Errors
    /// MUST return `Duplicate` if the email is already registered; `ClaimLost`.
    #[allow(clippy::needless_lifetimes)] // mockall needs the lifetime named
    fn insert<'a>(
        &self,
        customer: &Customer,
        claim: Option<&'a ClaimedKey>,
    ) -> Result<(), RepositoryError>;

    /// Finds a customer by id.
    ///
    /// # Errors
    /// `Unavailable`/`Unexpected` only; a missing customer is `Ok(None)`.
    fn find_by_id(&self, id: CustomerId) -> Result<Option<Customer>, RepositoryError>;

    /// One page of customers, newest first.
    ///
    /// # Errors
    /// `Unavailable`/`Unexpected` only.
    fn list(&self, page: PageRequest) -> Result<Page<Customer>, RepositoryError>;
}

/// The current time. Injected so tests control it; the domain never reads a clock.
#[cfg_attr(feature = "mocks", mockall::automock)]
pub trait Clock: Send + Sync + 'static {
    /// Now, in UTC.
    fn now(&self) -> DateTime<Utc>;
}

/// Makes new identifiers.
#[cfg_attr(feature = "mocks", mockall::automock)]
pub trait IdGenerator: Send + Sync + 'static {
    /// A new, time-ordered UUID v7.
    fn new_id(&self) -> Uuid;
}

/// Connection-pool figures for dashboards.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PoolStats {
    /// Configured maximum number of connections.
    pub max_size: u32,
    /// Connections currently open.
    pub connections: u32,
    /// Open connections not in use.
    pub idle: u32,
    /// Requests for a connection that had to wait, since start.
    pub waits_total: u64,
    /// Requests for a connection that timed out, since start.
    pub timeouts_total: u64,
}

/// Health of the storage the use cases depend on, for readiness probes and metrics.
#[cfg_attr(feature = "mocks", mockall::automock)]
pub trait StorageHealth: Send + Sync + 'static {
    /// Whether the store answers and its schema is up to date.
    ///
    /// # Errors
    /// `Unavailable` when it cannot be reached; `Unexpected` when the schema is behind.
    fn check(&self) -> Result<(), RepositoryError>;

    /// Current connection-pool figures.
    fn pool_stats(&self) -> PoolStats;
}

/// The wall clock, truncated to microseconds: the precision PostgreSQL keeps,
/// so a value read back equals the value written.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        let now = Utc::now();
        DateTime::from_timestamp_micros(now.timestamp_micros()).unwrap_or(now)
    }
}

/// UUID v7 generator (time-ordered, so new rows land at the end of the index).
#[derive(Debug, Clone, Copy, Default)]
pub struct UuidV7Generator;

impl IdGenerator for UuidV7Generator {
    fn new_id(&self) -> Uuid {
        Uuid::now_v7()
    }
}

/// Stores API keys (their digests, never their secrets).
#[cfg_attr(feature = "mocks", mockall::automock)]
pub trait ApiKeyStore: Send + Sync + 'static {
    /// Stores a new key.
    ///
    /// # Errors
    /// MUST return `Duplicate` if the id or prefix exists already,
    /// `ConstraintViolation` if the bound customer does not exist, `Unavailable`.
    fn insert(&self, key: &ApiKey) -> Result<(), RepositoryError>;

    /// The key with this public prefix, revoked or not.
    ///
    /// # Errors
    /// `Unavailable`/`Unexpected` only; an unknown prefix is `Ok(None)`.
    fn find_by_prefix(&self, prefix: &str) -> Result<Option<ApiKey>, RepositoryError>;

    /// Every key, revoked ones included, oldest first.
    ///
    /// # Errors
    /// `Unavailable`/`Unexpected` only.
    fn list(&self) -> Result<Vec<ApiKey>, RepositoryError>;

    /// Marks the key revoked at `at` unless it already is (the first
    /// revocation time stays), and returns it as stored afterwards.
    ///
    /// # Errors
    /// MUST return `NotFound` for an unknown id; `Unavailable`.
    fn revoke(&self, id: KeyId, at: DateTime<Utc>) -> Result<ApiKey, RepositoryError>;
}

/// Cryptographically secure random bytes, for key prefixes and secrets.
#[cfg_attr(feature = "mocks", mockall::automock)]
pub trait SecretSource: Send + Sync + 'static {
    /// Fills `buffer` with random bytes.
    ///
    /// # Errors
    /// `Unexpected` when the operating system's generator fails.
    fn fill(&self, buffer: &mut [u8]) -> Result<(), RepositoryError>;
}

/// The operating system's generator (`getrandom`).
#[derive(Debug, Clone, Copy, Default)]
pub struct OsSecretSource;

impl SecretSource for OsSecretSource {
    fn fill(&self, buffer: &mut [u8]) -> Result<(), RepositoryError> {
        getrandom::fill(buffer)
            .map_err(|e| RepositoryError::Unexpected(format!("random generator failed: {e}")))
    }
}

/// Told when order writers collide, so an operator sees contention (a
/// metric) before clients see `409`s.
pub trait ContentionObserver: Send + Sync + 'static {
    /// A write lost its compare-and-set and is retried after a back-off.
    fn retried(&self);
    /// A write lost every attempt and gave up with a retryable `Conflict`.
    fn exhausted(&self);
}
