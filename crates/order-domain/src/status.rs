//! `OrderStatus`: the five states of the order lifecycle.

use std::fmt;
use std::str::FromStr;

use crate::DomainError;

/// Where an order is in its lifecycle:
/// `pending -> confirmed -> processing -> fulfilled`, or `cancelled` from any
/// non-terminal state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OrderStatus {
    /// Created; lines may be edited.
    Pending,
    /// Accepted; lines are frozen.
    Confirmed,
    /// Being picked, packed or prepared.
    Processing,
    /// Delivered. Terminal.
    Fulfilled,
    /// Abandoned. Terminal.
    Cancelled,
}

impl OrderStatus {
    /// Every status, in lifecycle order.
    pub const ALL: [Self; 5] = [
        Self::Pending,
        Self::Confirmed,
        Self::Processing,
        Self::Fulfilled,
        Self::Cancelled,
    ];

    /// The lower-case name used in the API and in storage.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Confirmed => "confirmed",
            Self::Processing => "processing",
            Self::Fulfilled => "fulfilled",
            Self::Cancelled => "cancelled",
        }
    }

    /// `fulfilled` and `cancelled` accept no further transition.
    #[must_use]
    pub const fn is_terminal(self) -> bool {
        matches!(self, Self::Fulfilled | Self::Cancelled)
    }
}

impl fmt::Display for OrderStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for OrderStatus {
    type Err = DomainError;

    /// Exact, lower-case names only.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|status| status.as_str() == s)
            .ok_or_else(|| DomainError::UnknownStatus(s.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_names_round_trip() {
        for status in OrderStatus::ALL {
            assert_eq!(status.as_str().parse::<OrderStatus>(), Ok(status));
            assert_eq!(status.to_string(), status.as_str());
        }
    }

    #[test]
    fn unknown_status_names_are_rejected() {
        for name in ["", "Pending", "PENDING", "shipped", "canceled", " pending"] {
            assert_eq!(
                name.parse::<OrderStatus>(),
                Err(DomainError::UnknownStatus(name.to_owned()))
            );
        }
    }

    #[test]
    fn only_fulfilled_and_cancelled_are_terminal() {
        let terminal: Vec<_> = OrderStatus::ALL
            .into_iter()
            .filter(|s| s.is_terminal())
            .collect();
        assert_eq!(terminal, [OrderStatus::Fulfilled, OrderStatus::Cancelled]);
    }
}
