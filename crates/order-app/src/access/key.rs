//! API keys: their text form, the digest that is stored instead of the
//! secret, and the authenticated [`Caller`] a valid key stands for.
//!
//! A key reads `omk_<prefix>_<secret>`: a public prefix of 12 hex digits,
//! unique, used to find the key and to show it in lists, and a secret of 256
//! random bits (64 hex digits). Only the SHA-256 digest of the secret is
//! stored. A slow password hash buys nothing for 256 random bits (no
//! dictionary to try), and costs every request; the digest is compared in
//! constant time all the same.

use std::fmt;

use chrono::{DateTime, Utc};
use order_domain::CustomerId;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use uuid::Uuid;

use super::scope::{Scope, Scopes};
use crate::AppError;

/// What every key's text starts with, so it is recognisable in a leaked file
/// (and by secret scanners).
pub const KEY_MARK: &str = "omk_";
/// Random bytes of the public prefix (12 hex digits).
pub const PREFIX_BYTES: usize = 6;
/// Random bytes of the secret (256 bits, 64 hex digits).
pub const SECRET_BYTES: usize = 32;

/// Identifies an API key; also the actor id of the changes made with it.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct KeyId(Uuid);

impl KeyId {
    /// Wraps a UUID.
    #[must_use]
    pub const fn from_uuid(uuid: Uuid) -> Self {
        Self(uuid)
    }

    /// The underlying UUID.
    #[must_use]
    pub const fn as_uuid(&self) -> Uuid {
        self.0
    }
}

impl fmt::Debug for KeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "KeyId({})", self.0)
    }
}

impl fmt::Display for KeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

/// The SHA-256 digest of a key's secret: what is stored, never the secret.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct SecretDigest([u8; 32]);

impl SecretDigest {
    /// The digest of `secret` (the 64 hex digits after the prefix).
    #[must_use]
    pub fn of(secret: &str) -> Self {
        Self(Sha256::digest(secret.as_bytes()).into())
    }

    /// Rebuilds a stored digest.
    #[must_use]
    pub const fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }

    /// The digest's bytes, for storage.
    #[must_use]
    pub const fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// Whether `secret` hashes to this digest, compared in constant time so
    /// the answer's timing tells nothing about how many bytes matched.
    #[must_use]
    pub fn matches(&self, secret: &str) -> bool {
        Self::of(secret).0.ct_eq(&self.0).into()
    }
}

impl fmt::Debug for SecretDigest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretDigest(..)")
    }
}

/// A key as presented by a caller, split into its public prefix and secret.
/// Its `Debug` never shows the secret.
#[derive(Clone, PartialEq, Eq)]
pub struct PresentedKey<'a> {
    prefix: &'a str,
    secret: &'a str,
}

impl<'a> PresentedKey<'a> {
    /// Splits `omk_<12 hex>_<64 hex>`.
    ///
    /// # Errors
    /// [`AuthFailure::Malformed`] for anything else (no storage is asked).
    pub fn parse(text: &'a str) -> Result<Self, AuthFailure> {
        let hex = |s: &str, len: usize| {
            s.len() == len && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
        };
        let prefix_len = KEY_MARK.len() + 2 * PREFIX_BYTES;
        if text.len() != prefix_len + 1 + 2 * SECRET_BYTES || !text.starts_with(KEY_MARK) {
            return Err(AuthFailure::Malformed);
        }
        let (prefix, rest) = text.split_at(prefix_len);
        let secret = rest.strip_prefix('_').ok_or(AuthFailure::Malformed)?;
        if !hex(&prefix[KEY_MARK.len()..], 2 * PREFIX_BYTES) || !hex(secret, 2 * SECRET_BYTES) {
            return Err(AuthFailure::Malformed);
        }
        Ok(Self { prefix, secret })
    }

    /// The public prefix (`omk_` and 12 hex digits), to look the key up by.
    #[must_use]
    pub const fn prefix(&self) -> &'a str {
        self.prefix
    }

    /// The secret part, to check against the stored digest.
    #[must_use]
    pub const fn secret(&self) -> &'a str {
        self.secret
    }
}

impl fmt::Debug for PresentedKey<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PresentedKey")
            .field("prefix", &self.prefix)
            .finish_non_exhaustive()
    }
}

/// Why a request could not be authenticated. Every variant is a 401 at the
/// HTTP edge, with a code that tells a client what to fix.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum AuthFailure {
    /// No key was presented.
    #[error("an API key is required: send Authorization: Bearer <key>")]
    Missing,
    /// Something was presented, but not a key of this service.
    #[error("the credentials are not an API key of this service")]
    Malformed,
    /// The key is not known, or its secret is wrong (the two are not told apart).
    #[error("the API key is not valid")]
    Unknown,
    /// The key was revoked.
    #[error("the API key has been revoked")]
    Revoked,
}

/// A stored API key: who it is (id, name), what it may do, whose orders it
/// sees, and whether it still works. Holds the secret's digest, never the secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiKey {
    id: KeyId,
    name: String,
    prefix: String,
    digest: SecretDigest,
    scopes: Scopes,
    customer: Option<CustomerId>,
    created_at: DateTime<Utc>,
    revoked_at: Option<DateTime<Utc>>,
}

/// The fields of a stored key, for [`ApiKey::restore`].
#[derive(Debug, Clone)]
pub struct StoredKey {
    /// The key's id.
    pub id: KeyId,
    /// Its name.
    pub name: String,
    /// Its public prefix.
    pub prefix: String,
    /// The digest of its secret.
    pub digest: SecretDigest,
    /// Its scopes.
    pub scopes: Scopes,
    /// The customer it is bound to, if any.
    pub customer: Option<CustomerId>,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// When it was revoked, if it was.
    pub revoked_at: Option<DateTime<Utc>>,
}

impl ApiKey {
    /// Longest key name, in characters.
    pub const MAX_NAME_CHARS: usize = 100;

    /// Rebuilds a key from storage (the adapter's one way in).
    #[must_use]
    pub fn restore(stored: StoredKey) -> Self {
        Self {
            id: stored.id,
            name: stored.name,
            prefix: stored.prefix,
            digest: stored.digest,
            scopes: stored.scopes,
            customer: stored.customer,
            created_at: stored.created_at,
            revoked_at: stored.revoked_at,
        }
    }

    /// The key's id.
    #[must_use]
    pub const fn id(&self) -> KeyId {
        self.id
    }
    /// The name given at creation (who or what uses the key).
    #[must_use]
    pub fn name(&self) -> &str {
        &self.name
    }
    /// The public prefix, e.g. `omk_3f9a1c2b7d4e`.
    #[must_use]
    pub fn prefix(&self) -> &str {
        &self.prefix
    }
    /// The digest of the secret.
    #[must_use]
    pub const fn digest(&self) -> SecretDigest {
        self.digest
    }
    /// The granted scopes.
    #[must_use]
    pub const fn scopes(&self) -> Scopes {
        self.scopes
    }
    /// The customer whose orders alone the key sees, if it is bound to one.
    #[must_use]
    pub const fn customer(&self) -> Option<CustomerId> {
        self.customer
    }
    /// When the key was created.
    #[must_use]
    pub const fn created_at(&self) -> DateTime<Utc> {
        self.created_at
    }
    /// When the key was revoked, if it was.
    #[must_use]
    pub const fn revoked_at(&self) -> Option<DateTime<Utc>> {
        self.revoked_at
    }

    /// The caller this key stands for.
    #[must_use]
    pub fn caller(&self) -> Caller {
        Caller {
            key_id: self.id,
            name: self.name.clone(),
            scopes: self.scopes,
            customer: self.customer,
        }
    }
}

/// A key just created, with its text: the only moment the text exists
/// outside the caller's hands. `Debug` never shows it.
#[derive(Clone)]
pub struct IssuedKey {
    /// The stored key.
    pub key: ApiKey,
    /// The full key text, `omk_<prefix>_<secret>`, to hand over once.
    pub token: String,
}

impl fmt::Debug for IssuedKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IssuedKey")
            .field("key", &self.key)
            .finish_non_exhaustive()
    }
}

/// The authenticated caller of a request: the key's id and name (the actor
/// of the changes it makes), its scopes and its customer binding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    /// The key's id.
    pub key_id: KeyId,
    /// The key's name.
    pub name: String,
    /// What it may do.
    pub scopes: Scopes,
    /// The only customer whose orders it sees, if bound.
    pub customer: Option<CustomerId>,
}

impl Caller {
    /// Refuses unless the caller may do what `scope` guards.
    ///
    /// # Errors
    /// [`AppError::Forbidden`] naming the scope.
    pub fn require(&self, scope: Scope) -> Result<(), AppError> {
        if self.scopes.allows(scope) {
            Ok(())
        } else {
            Err(AppError::Forbidden { needed: scope })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PREFIX: &str = "omk_0123456789ab";
    const SECRET: &str = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";

    #[test]
    fn a_well_formed_key_splits_into_prefix_and_secret() {
        let text = format!("{PREFIX}_{SECRET}");
        let key = PresentedKey::parse(&text).unwrap();
        assert_eq!(key.prefix(), PREFIX);
        assert_eq!(key.secret(), SECRET);
        assert!(
            !format!("{key:?}").contains(SECRET),
            "Debug hides the secret"
        );
    }

    #[test]
    fn anything_else_is_malformed() {
        let good = format!("{PREFIX}_{SECRET}");
        let cases = [
            ("empty", String::new()),
            ("no mark", good.replacen("omk_", "key_", 1)),
            ("upper-case hex", good.to_uppercase()),
            ("short secret", good[..good.len() - 1].to_owned()),
            ("long secret", format!("{good}0")),
            ("missing separator", good.replacen('_', "", 2)),
            ("separator moved", format!("omk_0123456789a_b{SECRET}")),
            ("non-hex secret", good.replacen('f', "g", 1)),
            ("non-ascii", format!("omk_0123456789aé{}", &SECRET[1..])),
        ];
        for (why, text) in cases {
            assert_eq!(
                PresentedKey::parse(&text),
                Err(AuthFailure::Malformed),
                "{why}"
            );
        }
    }

    #[test]
    fn the_digest_matches_its_secret_only() {
        let digest = SecretDigest::of(SECRET);
        assert!(digest.matches(SECRET));
        let mut other = SECRET.to_owned();
        other.replace_range(63.., "0");
        assert!(!digest.matches(&other));
        assert!(!digest.matches(""));
        assert_eq!(
            SecretDigest::from_bytes(*digest.as_bytes()),
            digest,
            "round trip through storage"
        );
        // SHA-256 of the secret's text, so an operator can check a row by hand.
        let hex: String = digest
            .as_bytes()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        assert_eq!(
            hex,
            "2a8abfa8cb9906290437854193ca6bca41d4d4e26d1d454bd66a35158095e737"
        );
        assert_eq!(format!("{digest:?}"), "SecretDigest(..)");
    }

    #[test]
    fn a_caller_needs_the_scope_or_one_implying_it() {
        let caller = Caller {
            key_id: KeyId::from_uuid(Uuid::nil()),
            name: "shop".into(),
            scopes: Scopes::none().with(Scope::OrdersWrite),
            customer: None,
        };
        assert!(caller.require(Scope::OrdersRead).is_ok());
        assert!(caller.require(Scope::OrdersWrite).is_ok());
        assert_eq!(
            caller.require(Scope::OrdersFulfil),
            Err(AppError::Forbidden {
                needed: Scope::OrdersFulfil
            })
        );
    }
}
