//! The `Order` aggregate: lifecycle state machine, lines and totals.
//!
//! All fields are private. Every change goes through a method that checks the
//! rules first and only then writes, so a failed call leaves the order exactly
//! as it was; every successful change bumps `version` by one, stamps
//! `updated_at` and records one [`OrderEvent`].

use chrono::{DateTime, Utc};

use crate::line::clean_text;
use crate::{
    price_order, Actor, CompanyId, Currency, CustomerId, Discount, DiscountId, DiscountSnapshot,
    DiscountValue, DomainError, Fulfillment, FulfillmentSnapshot, LineId, LineSnapshot, Money,
    NewDiscount, NewLine, OrderAction, OrderEvent, OrderEventKind, OrderId, OrderLine, OrderNumber,
    OrderStatus, OrderTotals, PricingLine, Quantity, Return, ReturnSnapshot, TaxMode,
};

mod editing;
mod progress;
mod returning;
mod shipping;

pub use progress::LineProgress;

/// What is needed to open a new order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewOrder {
    /// Id of the order (UUID v7 from the id generator).
    pub id: OrderId,
    /// Number allocated for it.
    pub number: OrderNumber,
    /// The ordering customer (must exist; checked by the application layer).
    pub customer_id: CustomerId,
    /// The B2B company ordering, if any.
    pub company_id: Option<CompanyId>,
    /// Every amount on the order is in this currency.
    pub currency: Currency,
    /// Whether its prices include tax ([`TaxMode::Exclusive`] by default).
    pub tax_mode: TaxMode,
}

/// Every stored field of an order, for adapters that rebuild one with [`Order::restore`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderSnapshot {
    /// Identifier.
    pub id: OrderId,
    /// The order number.
    pub number: OrderNumber,
    /// The ordering customer.
    pub customer_id: CustomerId,
    /// The B2B company, if any.
    pub company_id: Option<CompanyId>,
    /// Lifecycle status.
    pub status: OrderStatus,
    /// Currency of every amount.
    pub currency: Currency,
    /// Whether prices include tax.
    pub tax_mode: TaxMode,
    /// Lines in the order they were added.
    pub lines: Vec<LineSnapshot>,
    /// Discounts in the order they were added (the order they apply in).
    pub discounts: Vec<DiscountSnapshot>,
    /// Sum of the line subtotals (for a line: quantity × unit price).
    pub subtotal: Money,
    /// Sum of the lines' tax.
    pub tax: Money,
    /// Sum of the discounts.
    pub discount: Money,
    /// Sum of the lines' totals.
    pub total: Money,
    /// Version, 1 for a new order.
    pub version: u64,
    /// Creation time.
    pub created_at: DateTime<Utc>,
    /// Time of the last change.
    pub updated_at: DateTime<Utc>,
    /// Soft-delete time.
    pub deleted_at: Option<DateTime<Utc>>,
    /// Confirmation time.
    pub confirmed_at: Option<DateTime<Utc>>,
    /// Processing start time.
    pub processing_started_at: Option<DateTime<Utc>>,
    /// Fulfilment time.
    pub fulfilled_at: Option<DateTime<Utc>>,
    /// Cancellation time.
    pub cancelled_at: Option<DateTime<Utc>>,
    /// Why it was cancelled.
    pub cancellation_reason: Option<String>,
    /// Shipments, oldest first.
    pub fulfillments: Vec<FulfillmentSnapshot>,
    /// Returns, oldest first.
    pub returns: Vec<ReturnSnapshot>,
}

/// An order: the aggregate root of the Order context.
///
/// Adding a product that is already on the order **at the same unit price**
/// increases that line's quantity (one line per product and price, the way a
/// basket behaves); the same product at a different price becomes a separate
/// line, because merging would rewrite the price the customer agreed to.
/// (The same holds for the tax rate and category: a line merges only when
/// they match too.)
///
/// Tax and discounts are priced by [`crate::price_order`] after every change,
/// so each line's discount share, tax and total, and the order's totals, are
/// always exactly what the lines and discounts make them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Order {
    id: OrderId,
    number: OrderNumber,
    customer_id: CustomerId,
    company_id: Option<CompanyId>,
    status: OrderStatus,
    currency: Currency,
    tax_mode: TaxMode,
    lines: Vec<OrderLine>,
    discounts: Vec<Discount>,
    subtotal: Money,
    tax: Money,
    discount: Money,
    total: Money,
    version: u64,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
    deleted_at: Option<DateTime<Utc>>,
    confirmed_at: Option<DateTime<Utc>>,
    processing_started_at: Option<DateTime<Utc>>,
    fulfilled_at: Option<DateTime<Utc>>,
    cancelled_at: Option<DateTime<Utc>>,
    cancellation_reason: Option<String>,
    fulfillments: Vec<Fulfillment>,
    returns: Vec<Return>,
    events: Vec<OrderEvent>,
}

/// Lines, discounts and totals priced together so they can never disagree.
struct Priced {
    lines: Vec<OrderLine>,
    discounts: Vec<Discount>,
    totals: OrderTotals,
}

impl Priced {
    fn compute(
        currency: Currency,
        mode: TaxMode,
        lines: &[OrderLine],
        discounts: &[Discount],
    ) -> Result<Self, DomainError> {
        let inputs: Vec<PricingLine> = lines
            .iter()
            .map(|l| PricingLine {
                id: l.id(),
                gross: l.subtotal().amount(),
                tax_rate: l.tax_rate(),
            })
            .collect();
        let values: Vec<_> = discounts.iter().map(Discount::value).collect();
        let pricing = price_order(currency, mode, &inputs, &values)?;
        Ok(Self {
            lines: lines
                .iter()
                .zip(&pricing.lines)
                .map(|(line, price)| line.with_price(*price))
                .collect(),
            discounts: discounts
                .iter()
                .zip(&pricing.discounts)
                .map(|(discount, amount)| discount.with_amount(*amount))
                .collect(),
            totals: pricing.totals,
        })
    }
}

impl Order {
    /// The most lines one order may carry; beyond this a client is misbehaving.
    pub const MAX_LINES: usize = 500;
    /// Longest accepted cancellation reason, in characters.
    pub const MAX_REASON_CHARS: usize = 500;
    /// The most discounts one order may carry.
    pub const MAX_DISCOUNTS: usize = 20;

    /// Opens a `pending` order with no lines and zero totals, at version 1.
    #[must_use]
    pub fn create(new: NewOrder, now: DateTime<Utc>) -> Self {
        let zero = Money::zero(new.currency);
        let mut order = Self {
            id: new.id,
            number: new.number,
            customer_id: new.customer_id,
            company_id: new.company_id,
            status: OrderStatus::Pending,
            currency: new.currency,
            tax_mode: new.tax_mode,
            lines: Vec::new(),
            discounts: Vec::new(),
            subtotal: zero,
            tax: zero,
            discount: zero,
            total: zero,
            version: 0,
            created_at: now,
            updated_at: now,
            deleted_at: None,
            confirmed_at: None,
            processing_started_at: None,
            fulfilled_at: None,
            cancelled_at: None,
            cancellation_reason: None,
            fulfillments: Vec::new(),
            returns: Vec::new(),
            events: Vec::new(),
        };
        order.record(
            now,
            OrderEventKind::Created {
                order_number: new.number,
                customer_id: new.customer_id,
                company_id: new.company_id,
                currency: new.currency,
            },
        );
        order
    }

    /// Rebuilds a stored order, checking the invariants a live order keeps.
    /// No event is recorded: nothing happened, the order was only read.
    ///
    /// # Errors
    /// [`DomainError::CorruptOrder`] when the stored values break a rule.
    pub fn restore(s: OrderSnapshot) -> Result<Self, DomainError> {
        let corrupt = |what: String| DomainError::CorruptOrder(format!("order {}: {what}", s.id));
        let lines = s
            .lines
            .into_iter()
            .map(OrderLine::restore)
            .collect::<Result<Vec<_>, _>>()?;
        let discounts = s
            .discounts
            .into_iter()
            .map(|d| {
                let id = d.id;
                Discount::restore(d)
                    .map_err(|e| DomainError::CorruptOrder(format!("discount {id}: {e}")))
            })
            .collect::<Result<Vec<_>, _>>()?;
        let fixed = discounts.iter().filter_map(|d| match d.value() {
            DiscountValue::Fixed(m) => Some(m),
            DiscountValue::Percentage(_) => None,
        });
        for money in lines
            .iter()
            .flat_map(|l| [l.unit_price(), l.discount(), l.tax(), l.total()])
            .chain(discounts.iter().map(Discount::amount))
            .chain(fixed)
            .chain([s.subtotal, s.tax, s.discount, s.total])
        {
            if money.currency() != s.currency {
                return Err(corrupt(format!(
                    "amount in {} on a {} order",
                    money.currency(),
                    s.currency
                )));
            }
        }
        let priced = Priced::compute(s.currency, s.tax_mode, &lines, &discounts)
            .map_err(|e| corrupt(e.to_string()))?;
        let stored = OrderTotals {
            subtotal: s.subtotal,
            discount: s.discount,
            tax: s.tax,
            total: s.total,
        };
        if priced.totals != stored {
            return Err(corrupt("stored totals do not match the lines".into()));
        }
        if priced.lines != lines {
            return Err(corrupt(
                "a line's stored discount, tax or total is not what its price makes it".into(),
            ));
        }
        if priced.discounts != discounts {
            return Err(corrupt(
                "a discount's stored amount is not what the order makes it".into(),
            ));
        }
        if s.version == 0 {
            return Err(corrupt("version 0 was never stored".into()));
        }
        let stamped = match s.status {
            OrderStatus::Pending => true,
            OrderStatus::Confirmed => s.confirmed_at.is_some(),
            OrderStatus::Processing => {
                s.confirmed_at.is_some() && s.processing_started_at.is_some()
            }
            OrderStatus::Fulfilled => {
                s.confirmed_at.is_some()
                    && s.processing_started_at.is_some()
                    && s.fulfilled_at.is_some()
            }
            OrderStatus::Cancelled => s.cancelled_at.is_some(),
        };
        if !stamped {
            return Err(corrupt(format!(
                "{} order without its transition timestamps",
                s.status
            )));
        }
        let fulfillments = s
            .fulfillments
            .into_iter()
            .map(Fulfillment::restore)
            .collect::<Result<Vec<_>, _>>()?;
        let returns = s
            .returns
            .into_iter()
            .map(Return::restore)
            .collect::<Result<Vec<_>, _>>()?;
        progress::check_stored(s.status, s.currency, &priced.lines, &fulfillments, &returns)
            .map_err(corrupt)?;
        Ok(Self {
            id: s.id,
            number: s.number,
            customer_id: s.customer_id,
            company_id: s.company_id,
            status: s.status,
            currency: s.currency,
            tax_mode: s.tax_mode,
            lines: priced.lines,
            discounts: priced.discounts,
            subtotal: priced.totals.subtotal,
            tax: priced.totals.tax,
            discount: priced.totals.discount,
            total: priced.totals.total,
            version: s.version,
            created_at: s.created_at,
            updated_at: s.updated_at,
            deleted_at: s.deleted_at,
            confirmed_at: s.confirmed_at,
            processing_started_at: s.processing_started_at,
            fulfilled_at: s.fulfilled_at,
            cancelled_at: s.cancelled_at,
            cancellation_reason: s.cancellation_reason,
            fulfillments,
            returns,
            events: Vec::new(),
        })
    }

    /// Every stored field, the inverse of [`Order::restore`]
    /// (`Order::restore(order.snapshot()) == Ok(order)` for an order without pending events).
    #[must_use]
    pub fn snapshot(&self) -> OrderSnapshot {
        OrderSnapshot {
            id: self.id,
            number: self.number,
            customer_id: self.customer_id,
            company_id: self.company_id,
            status: self.status,
            currency: self.currency,
            tax_mode: self.tax_mode,
            lines: self.lines.iter().map(OrderLine::snapshot).collect(),
            discounts: self.discounts.iter().map(Discount::snapshot).collect(),
            subtotal: self.subtotal,
            tax: self.tax,
            discount: self.discount,
            total: self.total,
            version: self.version,
            created_at: self.created_at,
            updated_at: self.updated_at,
            deleted_at: self.deleted_at,
            confirmed_at: self.confirmed_at,
            processing_started_at: self.processing_started_at,
            fulfilled_at: self.fulfilled_at,
            cancelled_at: self.cancelled_at,
            cancellation_reason: self.cancellation_reason.clone(),
            fulfillments: self
                .fulfillments
                .iter()
                .map(Fulfillment::snapshot)
                .collect(),
            returns: self.returns.iter().map(Return::snapshot).collect(),
        }
    }

    // ----- line editing (pending only) -----

    /// Adds a product line, or merges it into the line with the same product and
    /// unit price. Returns the id of the line that now holds the product.
    ///
    /// # Errors
    /// `OrderNotEditable` unless pending; `CurrencyMismatch` when the price is in
    /// another currency; `InvalidPrice` for a negative or absurd price; `InvalidQuantity`
    /// when a merge would exceed [`Quantity::MAX`]; `TooManyLines`; `AmountOverflow`.
    pub fn add_line(&mut self, line: NewLine, now: DateTime<Utc>) -> Result<LineId, DomainError> {
        self.ensure_editable()?;
        self.ensure_currency(line.unit_price)?;
        if !OrderLine::is_valid_unit_price(line.unit_price) {
            return Err(DomainError::InvalidPrice {
                amount: line.unit_price.amount(),
            });
        }
        let existing = self.lines.iter().position(|l| {
            l.product_id() == line.product_id
                && l.unit_price() == line.unit_price
                && *l.line_tax() == line.tax
        });
        if let Some(index) = existing {
            let current = &self.lines[index];
            let merged = i64::from(current.quantity().get()) + i64::from(line.quantity.get());
            let quantity = Quantity::new(merged)?;
            let line_id = current.id();
            self.replace_line(index, quantity, now)?;
            return Ok(line_id);
        }
        if self.lines.len() >= Self::MAX_LINES {
            return Err(DomainError::TooManyLines {
                max: Self::MAX_LINES,
            });
        }
        let new_line = OrderLine::new(line, now)?;
        let mut lines = self.lines.clone();
        lines.push(new_line.clone());
        let priced = Priced::compute(self.currency, self.tax_mode, &lines, &self.discounts)?;
        let before = self.totals();
        self.apply(priced);
        self.record(
            now,
            OrderEventKind::LineAdded {
                line_id: new_line.id(),
                product_id: new_line.product_id(),
                quantity: new_line.quantity(),
                unit_price: new_line.unit_price(),
                line_subtotal: new_line.subtotal(),
                before,
                after: self.totals(),
            },
        );
        Ok(new_line.id())
    }

    /// Sets a line's quantity. Setting the quantity it already has changes nothing.
    ///
    /// # Errors
    /// `OrderNotEditable` unless pending; `LineNotFound`; `AmountOverflow`.
    pub fn update_line_quantity(
        &mut self,
        line_id: LineId,
        quantity: Quantity,
        now: DateTime<Utc>,
    ) -> Result<(), DomainError> {
        self.ensure_editable()?;
        let index = self.line_index(line_id)?;
        if self.lines[index].quantity() == quantity {
            return Ok(());
        }
        self.replace_line(index, quantity, now)
    }

    /// Removes a line.
    ///
    /// # Errors
    /// `OrderNotEditable` unless pending; `LineNotFound`; `DiscountExceedsAmount`
    /// when a fixed discount would then exceed what is left.
    pub fn remove_line(&mut self, line_id: LineId, now: DateTime<Utc>) -> Result<(), DomainError> {
        self.ensure_editable()?;
        let index = self.line_index(line_id)?;
        let mut lines = self.lines.clone();
        let removed = lines.remove(index);
        let priced = Priced::compute(self.currency, self.tax_mode, &lines, &self.discounts)?;
        let before = self.totals();
        self.apply(priced);
        self.record(
            now,
            OrderEventKind::LineRemoved {
                line_id,
                product_id: removed.product_id(),
                quantity: removed.quantity(),
                unit_price: removed.unit_price(),
                line_subtotal: removed.subtotal(),
                before,
                after: self.totals(),
            },
        );
        Ok(())
    }

    /// Adds a discount, applied after the ones already on the order, and
    /// allocates it to the lines. Returns its id.
    ///
    /// # Errors
    /// `OrderNotEditable` unless pending; `InvalidDiscount` for a zero or
    /// negative amount or a percentage outside (0, 100]; `CurrencyMismatch`;
    /// `InvalidText` for a code or description that is too long;
    /// `DiscountCodeAlreadyApplied` when the order has a discount with the same
    /// code (case-insensitively); `TooManyDiscounts`; `DiscountExceedsAmount`
    /// when a fixed amount exceeds what the earlier discounts left.
    pub fn add_discount(
        &mut self,
        discount: NewDiscount,
        now: DateTime<Utc>,
    ) -> Result<DiscountId, DomainError> {
        self.ensure_editable()?;
        if let DiscountValue::Fixed(amount) = discount.value {
            self.ensure_currency(amount)?;
        }
        let discount = Discount::new(discount, self.currency, now)?;
        if let Some(code) = discount.code() {
            let lower = code.to_lowercase();
            if self
                .discounts
                .iter()
                .filter_map(Discount::code)
                .any(|c| c.to_lowercase() == lower)
            {
                return Err(DomainError::DiscountCodeAlreadyApplied(code.to_owned()));
            }
        }
        if self.discounts.len() >= Self::MAX_DISCOUNTS {
            return Err(DomainError::TooManyDiscounts {
                max: Self::MAX_DISCOUNTS,
            });
        }
        let id = discount.id();
        let mut discounts = self.discounts.clone();
        discounts.push(discount);
        let priced = Priced::compute(self.currency, self.tax_mode, &self.lines, &discounts)?;
        let before = self.totals();
        self.apply(priced);
        let added = self.discounts[self.discounts.len() - 1].clone();
        self.record(
            now,
            OrderEventKind::DiscountAdded {
                discount_id: id,
                value: added.value(),
                code: added.code().map(str::to_owned),
                amount: added.amount(),
                before,
                after: self.totals(),
            },
        );
        Ok(id)
    }

    /// Removes a discount; the ones after it are priced again on what is left.
    ///
    /// # Errors
    /// `OrderNotEditable` unless pending; `DiscountNotFound`.
    pub fn remove_discount(
        &mut self,
        discount_id: DiscountId,
        now: DateTime<Utc>,
    ) -> Result<(), DomainError> {
        self.ensure_editable()?;
        let index = self
            .discounts
            .iter()
            .position(|d| d.id() == discount_id)
            .ok_or(DomainError::DiscountNotFound(discount_id))?;
        let mut discounts = self.discounts.clone();
        let removed = discounts.remove(index);
        // Removing a discount only leaves more for the later ones to take
        // from, so they still fit; pricing checks it all the same.
        let priced = Priced::compute(self.currency, self.tax_mode, &self.lines, &discounts)?;
        let before = self.totals();
        self.apply(priced);
        self.record(
            now,
            OrderEventKind::DiscountRemoved {
                discount_id,
                code: removed.code().map(str::to_owned),
                amount: removed.amount(),
                before,
                after: self.totals(),
            },
        );
        Ok(())
    }

    // ----- lifecycle -----

    /// `pending -> confirmed`; needs at least one line.
    ///
    /// # Errors
    /// `InvalidStatusTransition` unless pending; `OrderEmpty` without lines; `OrderDeleted`.
    pub fn confirm(&mut self, now: DateTime<Utc>) -> Result<(), DomainError> {
        self.ensure_status(OrderStatus::Pending, OrderAction::Confirm)?;
        if self.lines.is_empty() {
            return Err(DomainError::OrderEmpty);
        }
        self.status = OrderStatus::Confirmed;
        self.confirmed_at = Some(now);
        self.record(now, OrderEventKind::Confirmed { total: self.total });
        Ok(())
    }

    /// `confirmed -> processing`.
    ///
    /// # Errors
    /// `InvalidStatusTransition` unless confirmed; `OrderDeleted`.
    pub fn start_processing(&mut self, now: DateTime<Utc>) -> Result<(), DomainError> {
        self.ensure_status(OrderStatus::Confirmed, OrderAction::StartProcessing)?;
        self.status = OrderStatus::Processing;
        self.processing_started_at = Some(now);
        self.record(now, OrderEventKind::ProcessingStarted);
        Ok(())
    }

    /// `processing -> fulfilled`: ships whatever is left unshipped as one more
    /// fulfilment (without carrier) and fulfils the order, in one change.
    /// The remainder's fulfilment id is derived from the order id and the new
    /// version; callers that make their own ids use [`Order::mark_fulfilled_as`].
    ///
    /// # Errors
    /// `InvalidStatusTransition` unless processing; `OrderDeleted`.
    pub fn mark_fulfilled(&mut self, now: DateTime<Utc>) -> Result<(), DomainError> {
        let derived = uuid::Uuid::from_u128(
            self.id.as_uuid().as_u128() ^ u128::from(self.version.wrapping_add(1)),
        );
        self.mark_fulfilled_as(crate::FulfillmentId::from_uuid(derived), now)
    }

    /// Any non-terminal state `-> cancelled`, with an optional reason.
    ///
    /// # Errors
    /// `AlreadyCancelled`; `FulfilledCannotBeCancelled`; `OrderHasShipments`
    /// once anything has shipped; `InvalidText` for a
    /// reason that is too long; `OrderDeleted`.
    pub fn cancel(
        &mut self,
        reason: Option<String>,
        now: DateTime<Utc>,
    ) -> Result<(), DomainError> {
        self.ensure_not_deleted()?;
        match self.status {
            OrderStatus::Cancelled => return Err(DomainError::AlreadyCancelled),
            OrderStatus::Fulfilled => return Err(DomainError::FulfilledCannotBeCancelled),
            OrderStatus::Pending | OrderStatus::Confirmed | OrderStatus::Processing => {}
        }
        if !self.fulfillments.is_empty() {
            return Err(DomainError::OrderHasShipments);
        }
        let reason = clean_text("reason", reason, Self::MAX_REASON_CHARS)?;
        let previous_status = self.status;
        self.status = OrderStatus::Cancelled;
        self.cancelled_at = Some(now);
        self.cancellation_reason.clone_from(&reason);
        self.record(
            now,
            OrderEventKind::Cancelled {
                reason,
                previous_status,
            },
        );
        Ok(())
    }

    /// Soft delete: only `pending` or `cancelled` orders, because a confirmed
    /// order is a commitment that must stay visible until it ends.
    ///
    /// # Errors
    /// `NotDeletable` for other statuses; `OrderDeleted` when already deleted.
    pub fn soft_delete(&mut self, now: DateTime<Utc>) -> Result<(), DomainError> {
        self.ensure_not_deleted()?;
        if !matches!(self.status, OrderStatus::Pending | OrderStatus::Cancelled) {
            return Err(DomainError::NotDeletable {
                status: self.status,
            });
        }
        self.deleted_at = Some(now);
        self.record(
            now,
            OrderEventKind::Deleted {
                status: self.status,
            },
        );
        Ok(())
    }

    /// Lines and discounts may change: the order is pending and not deleted.
    #[must_use]
    pub fn is_editable(&self) -> bool {
        self.status == OrderStatus::Pending && self.deleted_at.is_none()
    }

    /// The order may still be cancelled.
    #[must_use]
    pub fn is_cancellable(&self) -> bool {
        !self.status.is_terminal() && self.deleted_at.is_none() && self.fulfillments.is_empty()
    }

    /// Says who made the changes recorded since the last [`Order::take_events`]:
    /// the use case calls it once it knows the caller, before saving. Events
    /// are recorded as [`Actor::anonymous`] until then.
    pub fn attribute_pending_events(&mut self, actor: &Actor) {
        for event in &mut self.events {
            event.actor.clone_from(actor);
        }
    }

    /// Hands out the events recorded since the last call, oldest first.
    pub fn take_events(&mut self) -> Vec<OrderEvent> {
        std::mem::take(&mut self.events)
    }

    /// Events recorded and not yet taken.
    #[must_use]
    pub fn pending_events(&self) -> &[OrderEvent] {
        &self.events
    }

    // ----- getters -----

    /// The order id.
    #[must_use]
    pub const fn id(&self) -> OrderId {
        self.id
    }
    /// The order number.
    #[must_use]
    pub const fn number(&self) -> OrderNumber {
        self.number
    }
    /// The ordering customer.
    #[must_use]
    pub const fn customer_id(&self) -> CustomerId {
        self.customer_id
    }
    /// The B2B company, if any.
    #[must_use]
    pub const fn company_id(&self) -> Option<CompanyId> {
        self.company_id
    }
    /// Lifecycle status.
    #[must_use]
    pub const fn status(&self) -> OrderStatus {
        self.status
    }
    /// The order's currency.
    #[must_use]
    pub const fn currency(&self) -> Currency {
        self.currency
    }
    /// Lines in the order they were added.
    #[must_use]
    pub fn lines(&self) -> &[OrderLine] {
        &self.lines
    }
    /// Discounts in the order they were added, which is the order they apply in.
    #[must_use]
    pub fn discounts(&self) -> &[Discount] {
        &self.discounts
    }
    /// The discount with this id, if any.
    #[must_use]
    pub fn discount_by_id(&self, discount_id: DiscountId) -> Option<&Discount> {
        self.discounts.iter().find(|d| d.id() == discount_id)
    }
    /// Whether prices include tax.
    #[must_use]
    pub const fn tax_mode(&self) -> TaxMode {
        self.tax_mode
    }
    /// Subtotal, discount, tax and total together.
    #[must_use]
    pub const fn totals(&self) -> OrderTotals {
        OrderTotals {
            subtotal: self.subtotal,
            discount: self.discount,
            tax: self.tax,
            total: self.total,
        }
    }
    /// The line with this id, if any.
    #[must_use]
    pub fn line(&self, line_id: LineId) -> Option<&OrderLine> {
        self.lines.iter().find(|l| l.id() == line_id)
    }
    /// Sum of line subtotals.
    #[must_use]
    pub const fn subtotal(&self) -> Money {
        self.subtotal
    }
    /// Sum of the lines' tax.
    #[must_use]
    pub const fn tax(&self) -> Money {
        self.tax
    }
    /// Sum of the discounts (and of the lines' discount shares).
    #[must_use]
    pub const fn discount(&self) -> Money {
        self.discount
    }
    /// Sum of the lines' totals: `subtotal − discount + tax` when prices
    /// exclude tax, `subtotal − discount` when they include it; never negative.
    #[must_use]
    pub const fn total(&self) -> Money {
        self.total
    }
    /// Rises by one with every successful change; 1 for a new order.
    #[must_use]
    pub const fn version(&self) -> u64 {
        self.version
    }
    /// Creation time.
    #[must_use]
    pub const fn created_at(&self) -> DateTime<Utc> {
        self.created_at
    }
    /// Time of the last change.
    #[must_use]
    pub const fn updated_at(&self) -> DateTime<Utc> {
        self.updated_at
    }
    /// Soft-delete time.
    #[must_use]
    pub const fn deleted_at(&self) -> Option<DateTime<Utc>> {
        self.deleted_at
    }
    /// When the order was confirmed.
    #[must_use]
    pub const fn confirmed_at(&self) -> Option<DateTime<Utc>> {
        self.confirmed_at
    }
    /// When processing started.
    #[must_use]
    pub const fn processing_started_at(&self) -> Option<DateTime<Utc>> {
        self.processing_started_at
    }
    /// When the order was fulfilled.
    #[must_use]
    pub const fn fulfilled_at(&self) -> Option<DateTime<Utc>> {
        self.fulfilled_at
    }
    /// When the order was cancelled.
    #[must_use]
    pub const fn cancelled_at(&self) -> Option<DateTime<Utc>> {
        self.cancelled_at
    }
    /// Why the order was cancelled, if given.
    #[must_use]
    pub fn cancellation_reason(&self) -> Option<&str> {
        self.cancellation_reason.as_deref()
    }

    // ----- internals -----

    fn replace_line(
        &mut self,
        index: usize,
        quantity: Quantity,
        now: DateTime<Utc>,
    ) -> Result<(), DomainError> {
        let old_quantity = self.lines[index].quantity();
        let old_subtotal = self.lines[index].subtotal();
        let updated = self.lines[index].with_quantity(quantity, now)?;
        let (line_id, product_id, unit_price, new_subtotal) = (
            updated.id(),
            updated.product_id(),
            updated.unit_price(),
            updated.subtotal(),
        );
        let mut lines = self.lines.clone();
        lines[index] = updated;
        let priced = Priced::compute(self.currency, self.tax_mode, &lines, &self.discounts)?;
        let before = self.totals();
        self.apply(priced);
        self.record(
            now,
            OrderEventKind::LineUpdated {
                line_id,
                product_id,
                unit_price,
                old_quantity,
                new_quantity: quantity,
                old_subtotal,
                new_subtotal,
                before,
                after: self.totals(),
            },
        );
        Ok(())
    }

    fn line_index(&self, line_id: LineId) -> Result<usize, DomainError> {
        self.lines
            .iter()
            .position(|l| l.id() == line_id)
            .ok_or(DomainError::LineNotFound(line_id))
    }

    fn apply(&mut self, priced: Priced) {
        self.lines = priced.lines;
        self.discounts = priced.discounts;
        self.subtotal = priced.totals.subtotal;
        self.discount = priced.totals.discount;
        self.tax = priced.totals.tax;
        self.total = priced.totals.total;
    }

    fn ensure_not_deleted(&self) -> Result<(), DomainError> {
        if self.deleted_at.is_some() {
            Err(DomainError::OrderDeleted)
        } else {
            Ok(())
        }
    }

    fn ensure_editable(&self) -> Result<(), DomainError> {
        self.ensure_not_deleted()?;
        if self.status == OrderStatus::Pending {
            Ok(())
        } else {
            Err(DomainError::OrderNotEditable {
                status: self.status,
            })
        }
    }

    fn ensure_status(&self, required: OrderStatus, action: OrderAction) -> Result<(), DomainError> {
        self.ensure_not_deleted()?;
        if self.status == required {
            Ok(())
        } else {
            Err(DomainError::InvalidStatusTransition {
                from: self.status,
                action,
            })
        }
    }

    fn ensure_currency(&self, money: Money) -> Result<(), DomainError> {
        if money.currency() == self.currency {
            Ok(())
        } else {
            Err(DomainError::CurrencyMismatch {
                expected: self.currency,
                found: money.currency(),
            })
        }
    }

    /// The single place a change is committed: version, timestamp, event.
    fn record(&mut self, now: DateTime<Utc>, kind: OrderEventKind) {
        self.version += 1;
        self.updated_at = now;
        self.events.push(OrderEvent {
            order_id: self.id,
            version: self.version,
            occurred_at: now,
            actor: Actor::anonymous(),
            kind,
        });
    }
}
