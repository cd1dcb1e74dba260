//! Edits after confirmation: an [`OrderEdit`] stages line additions,
//! quantity changes and removals against one version of a confirmed or
//! processing order, shows what they would do ([`crate::Order::preview_edit`])
//! and applies them all at once ([`crate::Order::commit_edit`]) — or is
//! discarded. Staging never touches the order, so the customer's order stays
//! exactly as confirmed until the commit.

use chrono::{DateTime, Utc};

use crate::{
    DomainError, EditId, LineId, Money, NewLine, OrderId, OrderTotals, ProductId, Quantity,
};

/// One staged change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EditChange {
    /// A new line (never merged into an existing one: an edit says exactly what it adds).
    AddLine(NewLine),
    /// A line's new quantity; never below what has shipped.
    SetQuantity {
        /// The line (existing, or added earlier in the same edit).
        line_id: LineId,
        /// Its new quantity.
        quantity: Quantity,
    },
    /// Removes a line; only a line nothing of which has shipped.
    RemoveLine {
        /// The line.
        line_id: LineId,
    },
}

/// Where an edit is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EditState {
    /// Changes may be staged; it may be committed or discarded.
    Open,
    /// Applied to the order. Terminal.
    Committed,
    /// Thrown away. Terminal.
    Discarded,
}

impl EditState {
    /// The snake_case name used in the API and in storage.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Open => "open",
            Self::Committed => "committed",
            Self::Discarded => "discarded",
        }
    }

    /// Parses [`EditState::as_str`].
    ///
    /// # Errors
    /// [`DomainError::CorruptOrder`] for any other text.
    pub fn parse(text: &str) -> Result<Self, DomainError> {
        [Self::Open, Self::Committed, Self::Discarded]
            .into_iter()
            .find(|s| s.as_str() == text)
            .ok_or_else(|| DomainError::CorruptOrder(format!("unknown edit state {text:?}")))
    }
}

/// A set of staged changes to one version of one order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderEdit {
    id: EditId,
    order_id: OrderId,
    base_version: u64,
    changes: Vec<EditChange>,
    state: EditState,
    version: u64,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

/// Every stored field of an edit, for [`OrderEdit::restore`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderEditSnapshot {
    /// Identifier.
    pub id: EditId,
    /// The order it edits.
    pub order_id: OrderId,
    /// The order version it was begun against; it commits only onto that version.
    pub base_version: u64,
    /// Staged changes, in the order they were staged.
    pub changes: Vec<EditChange>,
    /// Open, committed or discarded.
    pub state: EditState,
    /// The edit's own version: 1 when begun, +1 per staged change or state change.
    pub version: u64,
    /// When it was begun.
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
}

/// What one committed (or previewed) edit changes on one line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EditDiff {
    /// A line was added.
    LineAdded {
        /// The new line.
        line_id: LineId,
        /// Its product.
        product_id: ProductId,
        /// Units.
        quantity: Quantity,
        /// Unit price.
        unit_price: Money,
        /// quantity × unit price.
        line_subtotal: Money,
    },
    /// A line's quantity changed.
    QuantityChanged {
        /// The line.
        line_id: LineId,
        /// Before.
        old_quantity: Quantity,
        /// After.
        new_quantity: Quantity,
    },
    /// A line was removed.
    LineRemoved {
        /// The line.
        line_id: LineId,
        /// The quantity it had.
        quantity: Quantity,
    },
}

/// What an edit would do: the line changes, the totals before and after, and
/// the difference (`after.total − before.total`: positive means the customer
/// pays more, negative means a refund is due).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EditPreview {
    /// Net change per line (staging the same line twice shows once).
    pub diff: Vec<EditDiff>,
    /// The order's totals now.
    pub before: OrderTotals,
    /// The order's totals once the edit is committed.
    pub after: OrderTotals,
    /// `after.total − before.total`.
    pub difference: Money,
}

impl OrderEdit {
    /// The most changes one edit may stage.
    pub const MAX_CHANGES: usize = 200;

    pub(crate) fn begin(
        id: EditId,
        order_id: OrderId,
        base_version: u64,
        now: DateTime<Utc>,
    ) -> Self {
        Self {
            id,
            order_id,
            base_version,
            changes: Vec::new(),
            state: EditState::Open,
            version: 1,
            created_at: now,
            updated_at: now,
        }
    }

    /// Rebuilds a stored edit. The changes are checked against the order
    /// when they are previewed or committed, not here: the order may have
    /// moved on since.
    ///
    /// # Errors
    /// [`DomainError::CorruptOrder`] for a version 0 or too many changes.
    pub fn restore(s: OrderEditSnapshot) -> Result<Self, DomainError> {
        if s.version == 0 || s.base_version == 0 || s.changes.len() > Self::MAX_CHANGES {
            return Err(DomainError::CorruptOrder(format!(
                "edit {}: impossible version or change count",
                s.id
            )));
        }
        Ok(Self {
            id: s.id,
            order_id: s.order_id,
            base_version: s.base_version,
            changes: s.changes,
            state: s.state,
            version: s.version,
            created_at: s.created_at,
            updated_at: s.updated_at,
        })
    }

    /// Every stored field.
    #[must_use]
    pub fn snapshot(&self) -> OrderEditSnapshot {
        OrderEditSnapshot {
            id: self.id,
            order_id: self.order_id,
            base_version: self.base_version,
            changes: self.changes.clone(),
            state: self.state,
            version: self.version,
            created_at: self.created_at,
            updated_at: self.updated_at,
        }
    }

    /// Throws the edit away.
    ///
    /// # Errors
    /// [`DomainError::EditNotOpen`] when already committed or discarded.
    pub fn discard(&mut self, now: DateTime<Utc>) -> Result<(), DomainError> {
        self.ensure_open()?;
        self.state = EditState::Discarded;
        self.touch(now);
        Ok(())
    }

    pub(crate) fn ensure_open(&self) -> Result<(), DomainError> {
        if self.state == EditState::Open {
            Ok(())
        } else {
            Err(DomainError::EditNotOpen { state: self.state })
        }
    }

    pub(crate) fn push(&mut self, change: EditChange, now: DateTime<Utc>) {
        self.changes.push(change);
        self.touch(now);
    }

    pub(crate) fn mark_committed(&mut self, now: DateTime<Utc>) {
        self.state = EditState::Committed;
        self.touch(now);
    }

    fn touch(&mut self, now: DateTime<Utc>) {
        self.version += 1;
        self.updated_at = now;
    }

    /// The edit's id.
    #[must_use]
    pub const fn id(&self) -> EditId {
        self.id
    }
    /// The order it edits.
    #[must_use]
    pub const fn order_id(&self) -> OrderId {
        self.order_id
    }
    /// The order version it was begun against.
    #[must_use]
    pub const fn base_version(&self) -> u64 {
        self.base_version
    }
    /// Staged changes in staging order.
    #[must_use]
    pub fn changes(&self) -> &[EditChange] {
        &self.changes
    }
    /// Open, committed or discarded.
    #[must_use]
    pub const fn state(&self) -> EditState {
        self.state
    }
    /// The edit's own version (for compare-and-set in storage).
    #[must_use]
    pub const fn version(&self) -> u64 {
        self.version
    }
    /// When it was begun.
    #[must_use]
    pub const fn created_at(&self) -> DateTime<Utc> {
        self.created_at
    }
    /// When it last changed.
    #[must_use]
    pub const fn updated_at(&self) -> DateTime<Utc> {
        self.updated_at
    }
}
