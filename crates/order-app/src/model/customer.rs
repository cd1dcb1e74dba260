//! The `Customer` entity and its validated `Email`.

use std::fmt;

use chrono::{DateTime, Utc};
use order_domain::CustomerId;

use crate::AppError;

/// A syntactically valid, normalised (trimmed, domain lower-cased) email address.
///
/// The check is deliberately the pragmatic subset deliverable addresses use:
/// one `@`, a non-empty local part without spaces, a dotted domain of letters,
/// digits and hyphens, 254 characters at most.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Email(String);

impl Email {
    /// Longest address accepted (RFC 5321 path limit).
    pub const MAX_LEN: usize = 254;

    /// Validates and normalises an address.
    ///
    /// # Errors
    /// [`AppError::Validation`] on field `email`.
    pub fn parse(raw: &str) -> Result<Self, AppError> {
        let invalid = |why: &str| AppError::validation("email", why);
        let text = raw.trim();
        if text.is_empty() || text.len() > Self::MAX_LEN {
            return Err(invalid("must be between 1 and 254 characters"));
        }
        let (local, domain) = text
            .split_once('@')
            .ok_or_else(|| invalid("must contain @"))?;
        let local_ok = !local.is_empty()
            && local.len() <= 64
            && !local.starts_with('.')
            && !local.ends_with('.')
            && !local.contains("..")
            && local
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "!#$%&'*+/=?^_`{|}~.-".contains(c));
        let labels: Vec<&str> = domain.split('.').collect();
        let domain_ok = labels.len() >= 2
            && labels.iter().all(|l| {
                !l.is_empty()
                    && l.len() <= 63
                    && !l.starts_with('-')
                    && !l.ends_with('-')
                    && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
            });
        if !local_ok || !domain_ok {
            return Err(invalid("is not a valid email address"));
        }
        Ok(Self(format!("{local}@{}", domain.to_ascii_lowercase())))
    }

    /// The address.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// What a caller supplies to register a customer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewCustomer {
    /// Display name.
    pub name: String,
    /// Contact email.
    pub email: String,
    /// Where the customer came from (`web`, `pos`, `import`, ...).
    pub source: Option<String>,
}

/// A customer of the shop.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Customer {
    id: CustomerId,
    name: String,
    email: Email,
    source: Option<String>,
    created_at: DateTime<Utc>,
}

/// Every stored field of a customer, for adapters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CustomerSnapshot {
    /// Identifier.
    pub id: CustomerId,
    /// Display name.
    pub name: String,
    /// Contact email, as stored.
    pub email: String,
    /// Acquisition source.
    pub source: Option<String>,
    /// Creation time.
    pub created_at: DateTime<Utc>,
}

impl Customer {
    /// Longest name accepted, in characters.
    pub const MAX_NAME_CHARS: usize = 200;
    /// Longest source accepted, in characters.
    pub const MAX_SOURCE_CHARS: usize = 50;

    /// Validates a new customer.
    ///
    /// # Errors
    /// [`AppError::Validation`] naming `name`, `email` or `source`.
    pub fn create(id: CustomerId, new: NewCustomer, now: DateTime<Utc>) -> Result<Self, AppError> {
        let name = new.name.trim();
        if name.is_empty() || name.chars().count() > Self::MAX_NAME_CHARS {
            return Err(AppError::validation(
                "name",
                format!("must be between 1 and {} characters", Self::MAX_NAME_CHARS),
            ));
        }
        if name.chars().any(char::is_control) {
            return Err(AppError::validation(
                "name",
                "must not contain control characters",
            ));
        }
        let source = match new.source.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(s)
                if s.chars().count() > Self::MAX_SOURCE_CHARS
                    || s.chars().any(char::is_control) =>
            {
                return Err(AppError::validation(
                    "source",
                    format!(
                        "must be at most {} printable characters",
                        Self::MAX_SOURCE_CHARS
                    ),
                ))
            }
            Some(s) => Some(s.to_owned()),
        };
        Ok(Self {
            id,
            name: name.to_owned(),
            email: Email::parse(&new.email)?,
            source,
            created_at: now,
        })
    }

    /// Rebuilds a stored customer.
    ///
    /// # Errors
    /// [`AppError::Unexpected`] if the stored email is not valid.
    pub fn restore(s: CustomerSnapshot) -> Result<Self, AppError> {
        let email = Email::parse(&s.email).map_err(|_| {
            AppError::Unexpected(format!("customer {} has an invalid stored email", s.id))
        })?;
        Ok(Self {
            id: s.id,
            name: s.name,
            email,
            source: s.source,
            created_at: s.created_at,
        })
    }

    /// The customer id.
    #[must_use]
    pub const fn id(&self) -> CustomerId {
        self.id
    }
    /// Display name.
    #[must_use]
    pub fn name(&self) -> &str {
        &self.name
    }
    /// Contact email.
    #[must_use]
    pub const fn email(&self) -> &Email {
        &self.email
    }
    /// Acquisition source.
    #[must_use]
    pub fn source(&self) -> Option<&str> {
        self.source.as_deref()
    }
    /// Registration time.
    #[must_use]
    pub const fn created_at(&self) -> DateTime<Utc> {
        self.created_at
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_ordinary_addresses_and_lowercases_the_domain() {
        assert_eq!(
            Email::parse(" John.Doe+x@Example.COM ").unwrap().as_str(),
            "John.Doe+x@example.com"
        );
        assert!(Email::parse("a@b.io").is_ok());
    }

    #[test]
    fn rejects_malformed_addresses() {
        for bad in [
            "",
            "john",
            "john@",
            "@example.com",
            "john@example",
            "jo hn@example.com",
            "john@@example.com",
            "john@-example.com",
            "john@example..com",
            ".john@example.com",
            "john..doe@example.com",
        ] {
            assert!(
                matches!(
                    Email::parse(bad),
                    Err(AppError::Validation { field: "email", .. })
                ),
                "{bad:?}"
            );
        }
        assert!(Email::parse(&format!("{}@example.com", "a".repeat(250))).is_err());
    }

    #[test]
    fn customer_name_is_required_and_bounded() {
        let new = |name: &str| NewCustomer {
            name: name.into(),
            email: "j@example.com".into(),
            source: Some("web".into()),
        };
        let id = CustomerId::from_uuid(uuid::Uuid::now_v7());
        let now = Utc::now();
        assert_eq!(
            Customer::create(id, new("  John Doe "), now)
                .unwrap()
                .name(),
            "John Doe"
        );
        for bad in ["", "   ", &"x".repeat(201)] {
            assert!(matches!(
                Customer::create(id, new(bad), now),
                Err(AppError::Validation { field: "name", .. })
            ));
        }
        let long_source = NewCustomer {
            source: Some("s".repeat(51)),
            ..new("ok")
        };
        assert!(matches!(
            Customer::create(id, long_source, now),
            Err(AppError::Validation {
                field: "source",
                ..
            })
        ));
    }
}
