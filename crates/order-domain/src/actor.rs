//! Who made a change: recorded with every event so an order's history says
//! who did what. Until callers are authenticated the edge takes it from the
//! caller's word (an `X-Actor` header) or uses [`Actor::anonymous`]; once
//! they are, only the place the actor comes from changes.

use crate::line::clean_text;
use crate::DomainError;

/// The person or system behind a change.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Actor {
    id: String,
    name: String,
}

impl Actor {
    /// Longest accepted id or display name, in characters.
    pub const MAX_CHARS: usize = 200;
    /// The id (and name) of a caller that did not say who it is.
    pub const ANONYMOUS: &'static str = "anonymous";

    /// An actor with a stable `id` and a display `name` (the id when none is given).
    /// Both are trimmed.
    ///
    /// # Errors
    /// [`DomainError::InvalidText`] when the id is blank, either is longer than
    /// [`Actor::MAX_CHARS`] or contains control characters.
    pub fn new(id: &str, name: Option<&str>) -> Result<Self, DomainError> {
        let id = clean_text("actor", Some(id.to_owned()), Self::MAX_CHARS)?.ok_or(
            DomainError::InvalidText {
                field: "actor",
                reason: "must not be blank".to_owned(),
            },
        )?;
        let name =
            clean_text("actor", name.map(str::to_owned), Self::MAX_CHARS)?.unwrap_or(id.clone());
        Ok(Self { id, name })
    }

    /// The caller that did not say who it is.
    #[must_use]
    pub fn anonymous() -> Self {
        Self {
            id: Self::ANONYMOUS.to_owned(),
            name: Self::ANONYMOUS.to_owned(),
        }
    }

    /// Stable identifier (an API key's id once callers are authenticated).
    #[must_use]
    pub fn id(&self) -> &str {
        &self.id
    }

    /// Name to show a person reading the history.
    #[must_use]
    pub fn name(&self) -> &str {
        &self.name
    }
}

impl Default for Actor {
    fn default() -> Self {
        Self::anonymous()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_actor_is_trimmed_and_named_by_its_id_when_no_name_is_given() {
        let actor = Actor::new("  clerk-7 ", None).unwrap();
        assert_eq!((actor.id(), actor.name()), ("clerk-7", "clerk-7"));
        let named = Actor::new("clerk-7", Some(" Ada ")).unwrap();
        assert_eq!(named.name(), "Ada");
    }

    #[test]
    fn blank_long_or_control_character_actors_are_refused() {
        for (id, why) in [
            ("   ", "blank"),
            ("a\u{7}b", "control character"),
            (&"x".repeat(Actor::MAX_CHARS + 1), "too long"),
        ] {
            assert!(
                matches!(
                    Actor::new(id, None),
                    Err(DomainError::InvalidText { field: "actor", .. })
                ),
                "{why}"
            );
        }
    }

    #[test]
    fn the_default_actor_is_anonymous() {
        assert_eq!(Actor::default().id(), "anonymous");
        assert_eq!(Actor::default().name(), "anonymous");
    }
}
