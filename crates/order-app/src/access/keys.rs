//! The key use cases: create (the text is shown once), list, revoke, and
//! authenticate a presented key on every request.

use std::fmt::Write as _;
use std::sync::Arc;

use order_domain::CustomerId;

use super::key::{
    ApiKey, AuthFailure, Caller, IssuedKey, KeyId, PresentedKey, SecretDigest, StoredKey, KEY_MARK,
    PREFIX_BYTES, SECRET_BYTES,
};
use super::scope::{Scope, Scopes};
use crate::ports::{ApiKeyStore, Clock, CustomerDirectory, IdGenerator, SecretSource};
use crate::{AppError, RepositoryError};

/// Input of [`ApiKeys::create`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewApiKey {
    /// Who or what uses the key (shown in lists and as the actor of its changes).
    pub name: String,
    /// What it may do; at least one scope.
    pub scopes: Scopes,
    /// Bind it to this customer: it then sees and changes only that customer's orders.
    pub customer: Option<CustomerId>,
}

/// The ports the key use cases need.
#[derive(Clone)]
pub struct KeyPorts {
    /// Where keys are stored.
    pub store: Arc<dyn ApiKeyStore>,
    /// To check that a bound customer exists.
    pub customers: Arc<dyn CustomerDirectory>,
    /// Random bytes for prefixes and secrets.
    pub secrets: Arc<dyn SecretSource>,
    /// Creation and revocation times.
    pub clock: Arc<dyn Clock>,
    /// Key ids.
    pub ids: Arc<dyn IdGenerator>,
}

impl std::fmt::Debug for KeyPorts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyPorts").finish_non_exhaustive()
    }
}

/// Create, list, revoke and authenticate API keys.
#[derive(Clone)]
pub struct ApiKeys {
    ports: KeyPorts,
}

impl std::fmt::Debug for ApiKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ApiKeys").finish_non_exhaustive()
    }
}

/// Scopes a customer-bound key may not hold: they are about every customer.
const UNBOUND_ONLY: [Scope; 2] = [Scope::CustomersWrite, Scope::Admin];

/// A new prefix is drawn when the one drawn exists already (48 random bits:
/// a clash is rare, three in a row means the generator is broken).
const PREFIX_ATTEMPTS: usize = 3;

impl ApiKeys {
    /// Wires the use cases to their ports.
    #[must_use]
    pub fn new(ports: KeyPorts) -> Self {
        Self { ports }
    }

    /// Creates a key and returns it with its text, which is not stored and
    /// cannot be shown again.
    ///
    /// # Errors
    /// `Validation` for an empty or over-long name, no scope, or a bound key
    /// asking for `customers:write` or `admin`; `UnknownReference` for an
    /// unknown customer; `Unavailable`.
    pub fn create(&self, new: NewApiKey) -> Result<IssuedKey, AppError> {
        let name = new.name.trim();
        let chars = name.chars().count();
        if chars == 0 || chars > ApiKey::MAX_NAME_CHARS || name.chars().any(char::is_control) {
            return Err(AppError::validation(
                "name",
                format!(
                    "must be 1 to {} characters without control characters",
                    ApiKey::MAX_NAME_CHARS
                ),
            ));
        }
        if new.scopes.is_empty() {
            return Err(AppError::validation("scopes", "give at least one scope"));
        }
        if let Some(customer) = new.customer {
            if let Some(scope) = UNBOUND_ONLY.into_iter().find(|s| new.scopes.grants(*s)) {
                return Err(AppError::validation(
                    "scopes",
                    format!("a key bound to a customer cannot hold {scope}"),
                ));
            }
            if !self.ports.customers.exists(customer)? {
                return Err(unknown_customer(customer));
            }
        }
        let now = self.ports.clock.now();
        let id = KeyId::from_uuid(self.ports.ids.new_id());
        for _ in 0..PREFIX_ATTEMPTS {
            let prefix = format!("{KEY_MARK}{}", self.random_hex(PREFIX_BYTES)?);
            let secret = self.random_hex(SECRET_BYTES)?;
            let key = ApiKey::restore(StoredKey {
                id,
                name: name.to_owned(),
                prefix: prefix.clone(),
                digest: SecretDigest::of(&secret),
                scopes: new.scopes,
                customer: new.customer,
                created_at: now,
                revoked_at: None,
            });
            match self.ports.store.insert(&key) {
                Ok(()) => {
                    return Ok(IssuedKey {
                        key,
                        token: format!("{prefix}_{secret}"),
                    })
                }
                Err(RepositoryError::Duplicate(_)) => {}
                Err(RepositoryError::ConstraintViolation(_)) => {
                    if let Some(customer) = new.customer {
                        return Err(unknown_customer(customer));
                    }
                    return Err(AppError::Unexpected("key refused by the store".into()));
                }
                Err(other) => return Err(other.into()),
            }
        }
        Err(AppError::Unexpected(format!(
            "{PREFIX_ATTEMPTS} key prefixes in a row existed already"
        )))
    }

    /// Every key, revoked ones included, oldest first.
    ///
    /// # Errors
    /// `Unavailable`.
    pub fn list(&self) -> Result<Vec<ApiKey>, AppError> {
        Ok(self.ports.store.list()?)
    }

    /// Revokes a key: the next request made with it is refused. Revoking a
    /// revoked key changes nothing.
    ///
    /// # Errors
    /// `NotFound`; `Unavailable`.
    pub fn revoke(&self, id: KeyId) -> Result<ApiKey, AppError> {
        match self.ports.store.revoke(id, self.ports.clock.now()) {
            Ok(key) => Ok(key),
            Err(RepositoryError::NotFound) => Err(AppError::NotFound {
                entity: "api_key",
                id: id.to_string(),
            }),
            Err(other) => Err(other.into()),
        }
    }

    /// The caller a presented key stands for. Asks the store every time, so
    /// a revocation holds from the next request on.
    ///
    /// # Errors
    /// `Unauthenticated` (malformed, unknown, wrong secret, revoked); `Unavailable`.
    pub fn authenticate(&self, presented: &str) -> Result<Caller, AppError> {
        let presented = PresentedKey::parse(presented).map_err(AppError::Unauthenticated)?;
        let key = self
            .ports
            .store
            .find_by_prefix(presented.prefix())?
            .filter(|key| key.digest().matches(presented.secret()))
            .ok_or(AppError::Unauthenticated(AuthFailure::Unknown))?;
        if key.revoked_at().is_some() {
            return Err(AppError::Unauthenticated(AuthFailure::Revoked));
        }
        Ok(key.caller())
    }

    fn random_hex(&self, bytes: usize) -> Result<String, AppError> {
        let mut buffer = vec![0u8; bytes];
        self.ports.secrets.fill(&mut buffer)?;
        Ok(buffer
            .iter()
            .fold(String::with_capacity(2 * bytes), |mut hex, byte| {
                let _ = write!(hex, "{byte:02x}");
                hex
            }))
    }
}

fn unknown_customer(customer: CustomerId) -> AppError {
    AppError::UnknownReference {
        field: "customer",
        entity: "customer",
        id: customer.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ports::{
        MockApiKeyStore, MockClock, MockCustomerDirectory, MockIdGenerator, MockSecretSource,
        OsSecretSource,
    };
    use chrono::{TimeZone, Utc};
    use std::sync::Mutex;

    struct Mocks {
        store: MockApiKeyStore,
        customers: MockCustomerDirectory,
        secrets: Arc<dyn SecretSource>,
    }

    impl Mocks {
        fn new() -> Self {
            Self {
                store: MockApiKeyStore::new(),
                customers: MockCustomerDirectory::new(),
                secrets: Arc::new(OsSecretSource),
            }
        }

        fn build(self) -> ApiKeys {
            let mut clock = MockClock::new();
            clock
                .expect_now()
                .return_const(Utc.with_ymd_and_hms(2026, 1, 2, 3, 4, 5).unwrap());
            let mut ids = MockIdGenerator::new();
            ids.expect_new_id().returning(uuid::Uuid::now_v7);
            ApiKeys::new(KeyPorts {
                store: Arc::new(self.store),
                customers: Arc::new(self.customers),
                secrets: self.secrets,
                clock: Arc::new(clock),
                ids: Arc::new(ids),
            })
        }
    }

    fn scopes(list: &str) -> Scopes {
        Scopes::parse_list(list).unwrap()
    }

    fn new_key(list: &str) -> NewApiKey {
        NewApiKey {
            name: " storefront ".into(),
            scopes: scopes(list),
            customer: None,
        }
    }

    /// A store that keeps what it is given, for create-then-authenticate tests.
    fn remembering_store(mocks: &mut Mocks) -> Arc<Mutex<Vec<ApiKey>>> {
        let kept = Arc::new(Mutex::new(Vec::<ApiKey>::new()));
        let on_insert = kept.clone();
        mocks.store.expect_insert().returning(move |key| {
            on_insert.lock().unwrap().push(key.clone());
            Ok(())
        });
        let on_find = kept.clone();
        mocks
            .store
            .expect_find_by_prefix()
            .returning(move |prefix| {
                Ok(on_find
                    .lock()
                    .unwrap()
                    .iter()
                    .find(|k| k.prefix() == prefix)
                    .cloned())
            });
        kept
    }

    #[test]
    fn a_created_key_authenticates_as_its_caller_and_only_its_digest_is_stored() {
        let mut mocks = Mocks::new();
        let kept = remembering_store(&mut mocks);
        let keys = mocks.build();
        let issued = keys.create(new_key("orders:write")).unwrap();
        assert_eq!(issued.key.name(), "storefront", "name is trimmed");
        assert!(issued.token.starts_with(issued.key.prefix()));
        assert_eq!(issued.token.len(), 4 + 12 + 1 + 64);
        let stored = kept.lock().unwrap()[0].clone();
        assert_eq!(stored, issued.key);
        let secret = &issued.token[issued.key.prefix().len() + 1..];
        assert!(stored.digest().matches(secret));
        assert!(!format!("{stored:?}").contains(secret));
        assert!(
            !format!("{issued:?}").contains(secret),
            "Debug hides the token"
        );

        let caller = keys.authenticate(&issued.token).unwrap();
        assert_eq!(caller.key_id, issued.key.id());
        assert_eq!(caller.name, "storefront");
        assert!(caller.scopes.allows(Scope::OrdersRead));
        assert_eq!(caller.customer, None);
    }

    #[test]
    fn two_keys_never_share_prefix_or_secret() {
        let mut mocks = Mocks::new();
        remembering_store(&mut mocks);
        let keys = mocks.build();
        let a = keys.create(new_key("orders:read")).unwrap();
        let b = keys.create(new_key("orders:read")).unwrap();
        assert_ne!(a.key.prefix(), b.key.prefix());
        assert_ne!(a.token[17..], b.token[17..]);
    }

    #[test]
    fn a_wrong_secret_an_unknown_prefix_and_garbage_are_refused() {
        let mut mocks = Mocks::new();
        remembering_store(&mut mocks);
        let keys = mocks.build();
        let issued = keys.create(new_key("orders:read")).unwrap();
        let mut wrong = issued.token.clone();
        let last = if wrong.ends_with('0') { "1" } else { "0" };
        wrong.replace_range(wrong.len() - 1.., last);
        let unknown = format!("omk_ffffffffffff{}", &issued.token[16..]);
        for (presented, failure) in [
            (wrong.as_str(), AuthFailure::Unknown),
            (unknown.as_str(), AuthFailure::Unknown),
            ("Bearer nonsense", AuthFailure::Malformed),
        ] {
            assert_eq!(
                keys.authenticate(presented),
                Err(AppError::Unauthenticated(failure)),
                "{presented}"
            );
        }
    }

    #[test]
    fn a_malformed_key_never_reaches_the_store() {
        let mut mocks = Mocks::new();
        mocks.store.expect_find_by_prefix().never();
        let err = mocks.build().authenticate("omk_short_key").unwrap_err();
        assert!(matches!(
            err,
            AppError::Unauthenticated(AuthFailure::Malformed)
        ));
    }

    #[test]
    fn a_revoked_key_is_refused() {
        let mut mocks = Mocks::new();
        let kept = remembering_store(&mut mocks);
        let on_revoke = kept.clone();
        mocks.store.expect_revoke().returning(move |id, at| {
            let mut keys = on_revoke.lock().unwrap();
            let key = keys.iter_mut().find(|k| k.id() == id).unwrap();
            let mut stored = StoredKey {
                id: key.id(),
                name: key.name().to_owned(),
                prefix: key.prefix().to_owned(),
                digest: key.digest(),
                scopes: key.scopes(),
                customer: key.customer(),
                created_at: key.created_at(),
                revoked_at: key.revoked_at(),
            };
            stored.revoked_at = stored.revoked_at.or(Some(at));
            *key = ApiKey::restore(stored);
            Ok(key.clone())
        });
        let keys = mocks.build();
        let issued = keys.create(new_key("orders:read")).unwrap();
        assert!(keys.authenticate(&issued.token).is_ok());
        let revoked = keys.revoke(issued.key.id()).unwrap();
        assert!(revoked.revoked_at().is_some());
        let err = keys.authenticate(&issued.token).unwrap_err();
        assert_eq!(err, AppError::Unauthenticated(AuthFailure::Revoked));
    }

    #[test]
    fn revoking_an_unknown_key_is_not_found() {
        let mut mocks = Mocks::new();
        mocks
            .store
            .expect_revoke()
            .returning(|_, _| Err(RepositoryError::NotFound));
        let err = mocks
            .build()
            .revoke(KeyId::from_uuid(uuid::Uuid::now_v7()))
            .unwrap_err();
        assert!(matches!(
            err,
            AppError::NotFound {
                entity: "api_key",
                ..
            }
        ));
    }

    #[test]
    fn invalid_requests_store_nothing() {
        let cases = [
            (
                "empty name",
                NewApiKey {
                    name: "  ".into(),
                    ..new_key("orders:read")
                },
            ),
            (
                "long name",
                NewApiKey {
                    name: "x".repeat(101),
                    ..new_key("orders:read")
                },
            ),
            (
                "control character",
                NewApiKey {
                    name: "a\nb".into(),
                    ..new_key("orders:read")
                },
            ),
            (
                "no scope",
                NewApiKey {
                    scopes: Scopes::none(),
                    ..new_key("orders:read")
                },
            ),
            (
                "bound admin",
                NewApiKey {
                    customer: Some(CustomerId::from_uuid(uuid::Uuid::now_v7())),
                    ..new_key("orders:read,admin")
                },
            ),
            (
                "bound customers:write",
                NewApiKey {
                    customer: Some(CustomerId::from_uuid(uuid::Uuid::now_v7())),
                    ..new_key("customers:write")
                },
            ),
        ];
        for (why, new) in cases {
            let mut mocks = Mocks::new();
            mocks.store.expect_insert().never();
            mocks.customers.expect_exists().never();
            let err = mocks.build().create(new).unwrap_err();
            assert!(matches!(err, AppError::Validation { .. }), "{why}");
        }
    }

    #[test]
    fn a_key_bound_to_an_unknown_customer_is_refused() {
        let mut mocks = Mocks::new();
        mocks.customers.expect_exists().returning(|_| Ok(false));
        mocks.store.expect_insert().never();
        let new = NewApiKey {
            customer: Some(CustomerId::from_uuid(uuid::Uuid::now_v7())),
            ..new_key("orders:write")
        };
        let err = mocks.build().create(new).unwrap_err();
        assert!(matches!(
            err,
            AppError::UnknownReference {
                field: "customer",
                ..
            }
        ));
    }

    #[test]
    fn a_bound_key_keeps_its_customer() {
        let customer = CustomerId::from_uuid(uuid::Uuid::now_v7());
        let mut mocks = Mocks::new();
        mocks.customers.expect_exists().returning(|_| Ok(true));
        remembering_store(&mut mocks);
        let keys = mocks.build();
        let issued = keys
            .create(NewApiKey {
                customer: Some(customer),
                ..new_key("orders:write")
            })
            .unwrap();
        assert_eq!(
            keys.authenticate(&issued.token).unwrap().customer,
            Some(customer)
        );
    }

    #[test]
    fn a_prefix_clash_draws_a_new_prefix() {
        let mut mocks = Mocks::new();
        let mut secrets = MockSecretSource::new();
        let draws = Arc::new(Mutex::new(0u8));
        let counter = draws.clone();
        secrets.expect_fill().returning(move |buffer| {
            let mut n = counter.lock().unwrap();
            *n += 1;
            buffer.fill(*n);
            Ok(())
        });
        mocks.secrets = Arc::new(secrets);
        let mut inserts = 0;
        mocks.store.expect_insert().times(2).returning(move |_| {
            inserts += 1;
            if inserts == 1 {
                Err(RepositoryError::Duplicate("prefix".into()))
            } else {
                Ok(())
            }
        });
        let issued = mocks.build().create(new_key("orders:read")).unwrap();
        // Draws: prefix 1, secret 2 (clash), prefix 3, secret 4.
        assert_eq!(issued.key.prefix(), "omk_030303030303");
        assert_eq!(*draws.lock().unwrap(), 4);
    }
}
