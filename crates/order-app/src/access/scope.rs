//! What a key may do: the scopes of the API, and the set a key holds.

use std::fmt;
use std::str::FromStr;

/// One permission of the API. A key holds a set of them ([`Scopes`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Scope {
    /// Read orders (one, lists, history).
    OrdersRead,
    /// Create orders, change their lines, confirm, cancel, delete. Implies `orders:read`.
    OrdersWrite,
    /// Start processing and mark fulfilled (and the shipping operations to come).
    OrdersFulfil,
    /// Read customers.
    CustomersRead,
    /// Register customers. Implies `customers:read`.
    CustomersWrite,
    /// Read the event feed.
    EventsRead,
    /// Manage keys (and read `/metrics` when it is put behind a key).
    Admin,
}

impl Scope {
    /// Every scope, in the order lists show them.
    pub const ALL: [Self; 7] = [
        Self::OrdersRead,
        Self::OrdersWrite,
        Self::OrdersFulfil,
        Self::CustomersRead,
        Self::CustomersWrite,
        Self::EventsRead,
        Self::Admin,
    ];

    /// The scope's name in configuration, key lists and the OpenAPI document.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::OrdersRead => "orders:read",
            Self::OrdersWrite => "orders:write",
            Self::OrdersFulfil => "orders:fulfil",
            Self::CustomersRead => "customers:read",
            Self::CustomersWrite => "customers:write",
            Self::EventsRead => "events:read",
            Self::Admin => "admin",
        }
    }

    /// What the scope allows, for the OpenAPI document.
    #[must_use]
    pub const fn description(self) -> &'static str {
        match self {
            Self::OrdersRead => "Read orders",
            Self::OrdersWrite => {
                "Create and edit orders, confirm, cancel, delete (implies orders:read)"
            }
            Self::OrdersFulfil => "Start processing and fulfil orders",
            Self::CustomersRead => "Read customers",
            Self::CustomersWrite => "Register customers (implies customers:read)",
            Self::EventsRead => "Read order events",
            Self::Admin => "Manage API keys; read /metrics when it requires a key",
        }
    }

    /// The bit of this scope in [`Scopes`].
    const fn bit(self) -> u8 {
        1 << (self as u8)
    }

    /// The scope this one implies besides itself ("write implies read").
    const fn implied(self) -> Option<Self> {
        match self {
            Self::OrdersWrite => Some(Self::OrdersRead),
            Self::CustomersWrite => Some(Self::CustomersRead),
            _ => None,
        }
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A name that is not one of the [`Scope`]s.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown scope {0:?} (known: orders:read, orders:write, orders:fulfil, customers:read, customers:write, events:read, admin)")]
pub struct UnknownScope(pub String);

impl FromStr for Scope {
    type Err = UnknownScope;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|scope| scope.as_str() == s)
            .ok_or_else(|| UnknownScope(s.to_owned()))
    }
}

/// The scopes a key was granted. Asking whether it [`allows`](Scopes::allows)
/// a scope applies the implications ("write implies read"); the set itself
/// keeps exactly what was granted, so a key list shows what was asked for.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Scopes(u8);

impl Scopes {
    /// No scope at all.
    #[must_use]
    pub const fn none() -> Self {
        Self(0)
    }

    /// This set plus `scope`.
    #[must_use]
    pub const fn with(self, scope: Scope) -> Self {
        Self(self.0 | scope.bit())
    }

    /// Whether `scope` was granted as such (no implication applied).
    #[must_use]
    pub const fn grants(self, scope: Scope) -> bool {
        self.0 & scope.bit() != 0
    }

    /// Whether a key with these scopes may do what `scope` guards: it was
    /// granted, or a granted scope implies it.
    #[must_use]
    pub fn allows(self, scope: Scope) -> bool {
        self.iter()
            .any(|granted| granted == scope || granted.implied() == Some(scope))
    }

    /// Whether no scope was granted.
    #[must_use]
    pub const fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// The granted scopes, in [`Scope::ALL`] order.
    pub fn iter(self) -> impl Iterator<Item = Scope> {
        Scope::ALL.into_iter().filter(move |s| self.grants(*s))
    }

    /// Parses a comma-separated list (`orders:read,orders:write`); blanks
    /// around names are ignored, duplicates collapse.
    ///
    /// # Errors
    /// [`UnknownScope`] naming the first unknown name (an empty name included).
    pub fn parse_list(list: &str) -> Result<Self, UnknownScope> {
        list.split(',')
            .map(str::trim)
            .try_fold(Self::none(), |set, name| Ok(set.with(name.parse()?)))
    }
}

impl FromIterator<Scope> for Scopes {
    fn from_iter<I: IntoIterator<Item = Scope>>(iter: I) -> Self {
        iter.into_iter().fold(Self::none(), Self::with)
    }
}

impl fmt::Display for Scopes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<&str> = self.iter().map(Scope::as_str).collect();
        f.write_str(&names.join(","))
    }
}

impl fmt::Debug for Scopes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Scopes({self})")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_scope_round_trips_through_its_name() {
        for scope in Scope::ALL {
            assert_eq!(scope.as_str().parse::<Scope>().unwrap(), scope);
        }
        assert!("orders:delete".parse::<Scope>().is_err());
        assert!("ORDERS:READ".parse::<Scope>().is_err());
    }

    #[test]
    fn write_implies_read_and_nothing_else_is_implied() {
        let write = Scopes::none().with(Scope::OrdersWrite);
        assert!(write.allows(Scope::OrdersWrite));
        assert!(write.allows(Scope::OrdersRead));
        assert!(!write.allows(Scope::OrdersFulfil));
        assert!(!write.allows(Scope::CustomersRead));
        let read = Scopes::none().with(Scope::OrdersRead);
        assert!(!read.allows(Scope::OrdersWrite));
        let customers = Scopes::none().with(Scope::CustomersWrite);
        assert!(customers.allows(Scope::CustomersRead));
        assert!(!customers.allows(Scope::OrdersRead));
        let fulfil = Scopes::none().with(Scope::OrdersFulfil);
        assert!(!fulfil.allows(Scope::OrdersWrite));
        let admin = Scopes::none().with(Scope::Admin);
        assert!(
            Scope::ALL
                .into_iter()
                .filter(|s| admin.allows(*s))
                .eq([Scope::Admin]),
            "admin manages keys only"
        );
    }

    #[test]
    fn lists_parse_trimmed_and_print_in_a_fixed_order() {
        let scopes = Scopes::parse_list(" orders:write , orders:read,orders:write").unwrap();
        assert_eq!(scopes.to_string(), "orders:read,orders:write");
        assert!(scopes.grants(Scope::OrdersRead));
        assert!(!scopes.grants(Scope::OrdersFulfil));
        assert_eq!(
            Scopes::parse_list("orders:read,,admin").unwrap_err(),
            UnknownScope(String::new())
        );
        assert_eq!(
            Scopes::parse_list("orders:read,root").unwrap_err().0,
            "root"
        );
        let all: Scopes = Scope::ALL.into_iter().collect();
        assert_eq!(all.iter().count(), 7);
        assert_eq!(Scopes::parse_list(&all.to_string()).unwrap(), all);
    }
}
