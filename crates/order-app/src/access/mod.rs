//! Who may call: API keys, their scopes, and the customer a key may be bound to.
//!
//! The HTTP adapter authenticates every request with [`ApiKeys::authenticate`]
//! and gets a [`Caller`]; it checks the operation's [`Scope`] with
//! [`Caller::require`] and runs the order use cases
//! [restricted](crate::Orders::restricted_to) to the caller's customer, so a
//! bound key sees and changes that customer's orders only. Keys are managed
//! with [`ApiKeys::create`], [`ApiKeys::list`] and [`ApiKeys::revoke`]
//! (the server's `keys` subcommands).

mod key;
mod keys;
mod scope;

pub use key::{
    ApiKey, AuthFailure, Caller, IssuedKey, KeyId, PresentedKey, SecretDigest, StoredKey, KEY_MARK,
    PREFIX_BYTES, SECRET_BYTES,
};
pub use keys::{ApiKeys, KeyPorts, NewApiKey};
pub use scope::{Scope, Scopes, UnknownScope};
