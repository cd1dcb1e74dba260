//! The `ApiKeyStore` contract: keys round-trip with their digest and scopes,
//! prefixes are unique, revocation keeps its first time, bound customers exist.

use order_app::access::{ApiKey, KeyId, Scope, Scopes, SecretDigest, StoredKey};
use order_app::RepositoryError;
use order_domain::CustomerId;
use uuid::Uuid;

use crate::support::{at, customer};
use crate::{Storage, TestStorage};

fn stored_fields(key: &ApiKey) -> StoredKey {
    StoredKey {
        id: key.id(),
        name: key.name().to_owned(),
        prefix: key.prefix().to_owned(),
        digest: key.digest(),
        scopes: key.scopes(),
        customer: key.customer(),
        created_at: key.created_at(),
        revoked_at: key.revoked_at(),
    }
}

fn key(prefix: &str, scopes: &str, customer: Option<CustomerId>) -> ApiKey {
    ApiKey::restore(StoredKey {
        id: KeyId::from_uuid(Uuid::now_v7()),
        name: "warehouse robot".into(),
        prefix: prefix.into(),
        digest: SecretDigest::of("some secret"),
        scopes: Scopes::parse_list(scopes).unwrap(),
        customer,
        created_at: at(0),
        revoked_at: None,
    })
}

pub fn a_key_reads_back_as_stored_by_its_prefix(db: &dyn TestStorage) {
    let store = db.store();
    let keys = store.api_keys();
    let owner = customer(&store);
    let stored = key(
        "omk_0123456789ab",
        "orders:write,orders:fulfil,events:read",
        Some(owner),
    );
    keys.insert(&stored).unwrap();

    let found = keys.find_by_prefix("omk_0123456789ab").unwrap().unwrap();
    assert_eq!(found, stored);
    assert!(found.digest().matches("some secret"));
    assert!(found.scopes().grants(Scope::OrdersFulfil));
    assert_eq!(found.customer(), Some(owner));
    assert_eq!(keys.find_by_prefix("omk_ffffffffffff").unwrap(), None);
}

pub fn a_prefix_is_unique(db: &dyn TestStorage) {
    let keys = db.store().api_keys();
    keys.insert(&key("omk_0123456789ab", "orders:read", None))
        .unwrap();
    let err = keys
        .insert(&key("omk_0123456789ab", "admin", None))
        .unwrap_err();
    assert!(matches!(err, RepositoryError::Duplicate(_)), "{err:?}");
}

pub fn a_key_for_an_unknown_customer_is_a_constraint_violation(db: &dyn TestStorage) {
    let keys = db.store().api_keys();
    let stranger = CustomerId::from_uuid(Uuid::now_v7());
    let err = keys
        .insert(&key("omk_0123456789ab", "orders:read", Some(stranger)))
        .unwrap_err();
    assert!(
        matches!(err, RepositoryError::ConstraintViolation(_)),
        "{err:?}"
    );
}

pub fn the_table_refuses_what_the_application_never_writes(db: &dyn TestStorage) {
    let keys = db.store().api_keys();
    // A prefix of another form (a second wall behind the use case).
    let err = keys
        .insert(&key("omk_NOT-HEX", "orders:read", None))
        .unwrap_err();
    assert!(
        matches!(err, RepositoryError::ConstraintViolation(_)),
        "{err:?}"
    );
    let no_scope = ApiKey::restore(StoredKey {
        scopes: Scopes::none(),
        ..stored_fields(&key("omk_0123456789ab", "orders:read", None))
    });
    let err = keys.insert(&no_scope).unwrap_err();
    assert!(
        matches!(err, RepositoryError::ConstraintViolation(_)),
        "no scope at all: {err:?}"
    );
}

pub fn revoking_stamps_the_time_once_and_an_unknown_key_is_not_found(db: &dyn TestStorage) {
    let keys = db.store().api_keys();
    let stored = key("omk_0123456789ab", "orders:read", None);
    keys.insert(&stored).unwrap();

    let revoked = keys.revoke(stored.id(), at(10)).unwrap();
    assert_eq!(revoked.revoked_at(), Some(at(10)));
    let again = keys.revoke(stored.id(), at(20)).unwrap();
    assert_eq!(again.revoked_at(), Some(at(10)), "the first time stays");
    assert_eq!(
        keys.find_by_prefix(stored.prefix())
            .unwrap()
            .unwrap()
            .revoked_at(),
        Some(at(10))
    );
    assert_eq!(
        keys.revoke(KeyId::from_uuid(Uuid::now_v7()), at(10)),
        Err(RepositoryError::NotFound)
    );
}

pub fn keys_list_oldest_first_revoked_included(db: &dyn TestStorage) {
    let keys = db.store().api_keys();
    let first = key("omk_000000000001", "orders:read", None);
    let second = ApiKey::restore(StoredKey {
        id: KeyId::from_uuid(Uuid::now_v7()),
        name: "second".into(),
        prefix: "omk_000000000002".into(),
        digest: SecretDigest::of("x"),
        scopes: Scopes::none().with(Scope::Admin),
        customer: None,
        created_at: at(5),
        revoked_at: None,
    });
    keys.insert(&second).unwrap();
    keys.insert(&first).unwrap();
    keys.revoke(first.id(), at(6)).unwrap();
    let listed = keys.list().unwrap();
    assert_eq!(
        listed.iter().map(ApiKey::prefix).collect::<Vec<_>>(),
        ["omk_000000000001", "omk_000000000002"]
    );
    assert!(listed[0].revoked_at().is_some());
}
