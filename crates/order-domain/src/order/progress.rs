//! Per-line progress (shipped, returned, refunded) and the statuses derived
//! from it. Nothing here is stored on the line: it is summed from the
//! order's shipments and returns, so it can never disagree with them.

use crate::{
    Currency, Fulfillment, FulfillmentStatus, LineId, Money, Order, OrderLine, OrderStatus,
    Quantity, Return, ReturnStatus,
};

/// How far one line has got after confirmation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LineProgress {
    /// The line.
    pub line_id: LineId,
    /// Units ordered.
    pub ordered: Quantity,
    /// Units shipped (≤ ordered).
    pub shipped: u32,
    /// Units returned (≤ shipped).
    pub returned: u32,
    /// Refunded for the returned units (≤ the line's total).
    pub refunded: Money,
    /// What the customer pays for the line (its total).
    pub paid: Money,
}

impl LineProgress {
    /// Units not shipped yet.
    #[must_use]
    pub const fn unshipped(&self) -> u32 {
        self.ordered.get().saturating_sub(self.shipped)
    }

    /// Units shipped and not returned.
    #[must_use]
    pub const fn returnable(&self) -> u32 {
        self.shipped.saturating_sub(self.returned)
    }
}

pub(super) fn progress_of(
    line: &OrderLine,
    fulfillments: &[Fulfillment],
    returns: &[Return],
) -> LineProgress {
    let id = line.id();
    let shipped = fulfillments
        .iter()
        .flat_map(Fulfillment::lines)
        .filter(|l| l.line_id == id)
        .map(|l| u64::from(l.quantity.get()))
        .sum::<u64>();
    let returned_lines = returns
        .iter()
        .flat_map(Return::lines)
        .filter(|l| l.line_id == id);
    let returned = returned_lines
        .clone()
        .map(|l| u64::from(l.quantity.get()))
        .sum::<u64>();
    let refunded = returned_lines
        .map(|l| i128::from(l.refund.amount()))
        .sum::<i128>();
    LineProgress {
        line_id: id,
        ordered: line.quantity(),
        // Saturating: both are bounded by the line quantity, which restore
        // and every operation check; a wrong sum is caught there, not hidden.
        shipped: u32::try_from(shipped).unwrap_or(u32::MAX),
        returned: u32::try_from(returned).unwrap_or(u32::MAX),
        refunded: Money::new(
            i64::try_from(refunded).unwrap_or(i64::MAX),
            line.total().currency(),
        ),
        paid: line.total(),
    }
}

/// The restore-time checks of shipments and returns against the lines.
pub(super) fn check_stored(
    status: OrderStatus,
    currency: Currency,
    lines: &[OrderLine],
    fulfillments: &[Fulfillment],
    returns: &[Return],
) -> Result<(), String> {
    for id in fulfillments
        .iter()
        .flat_map(Fulfillment::lines)
        .map(|l| l.line_id)
        .chain(returns.iter().flat_map(Return::lines).map(|l| l.line_id))
    {
        if !lines.iter().any(|l| l.id() == id) {
            return Err(format!(
                "a shipment or return names line {id}, not on the order"
            ));
        }
    }
    for r in returns {
        if r.refund_amount().currency() != currency {
            return Err(format!("return {} is not in {currency}", r.id()));
        }
    }
    let progress: Vec<_> = lines
        .iter()
        .map(|l| progress_of(l, fulfillments, returns))
        .collect();
    for p in &progress {
        if p.shipped > p.ordered.get() {
            return Err(format!("line {} shipped more than ordered", p.line_id));
        }
        if p.returned > p.shipped {
            return Err(format!("line {} returned more than shipped", p.line_id));
        }
        if p.refunded.amount() > p.paid.amount() {
            return Err(format!("line {} refunded more than paid", p.line_id));
        }
    }
    let anything_shipped = !fulfillments.is_empty();
    let everything_shipped = progress.iter().all(|p| p.unshipped() == 0);
    let consistent = match status {
        OrderStatus::Pending | OrderStatus::Confirmed | OrderStatus::Cancelled => {
            !anything_shipped && returns.is_empty()
        }
        OrderStatus::Processing => !(anything_shipped && everything_shipped),
        // Orders fulfilled before shipments were recorded have none at all.
        OrderStatus::Fulfilled => !anything_shipped || everything_shipped,
    };
    if consistent {
        Ok(())
    } else {
        Err(format!("shipments do not fit a {status} order"))
    }
}

impl Order {
    /// Shipped, returned and refunded so far for one line.
    #[must_use]
    pub fn progress(&self, line_id: LineId) -> Option<LineProgress> {
        self.line(line_id)
            .map(|l| progress_of(l, &self.fulfillments, &self.returns))
    }

    /// [`Order::progress`] of every line, in line order.
    #[must_use]
    pub fn line_progress(&self) -> Vec<LineProgress> {
        self.lines
            .iter()
            .map(|l| progress_of(l, &self.fulfillments, &self.returns))
            .collect()
    }

    /// Shipments, oldest first.
    #[must_use]
    pub fn fulfillments(&self) -> &[Fulfillment] {
        &self.fulfillments
    }

    /// The shipment with this id, if any.
    #[must_use]
    pub fn fulfillment(&self, id: crate::FulfillmentId) -> Option<&Fulfillment> {
        self.fulfillments.iter().find(|f| f.id() == id)
    }

    /// Returns, oldest first.
    #[must_use]
    pub fn returns(&self) -> &[Return] {
        &self.returns
    }

    /// The return with this id, if any.
    #[must_use]
    pub fn return_by_id(&self, id: crate::ReturnId) -> Option<&Return> {
        self.returns.iter().find(|r| r.id() == id)
    }

    /// How much has shipped. A fulfilled order is `fulfilled` even when it
    /// was fulfilled before shipments were recorded.
    #[must_use]
    pub fn fulfillment_status(&self) -> FulfillmentStatus {
        if self.status == OrderStatus::Fulfilled {
            return FulfillmentStatus::Fulfilled;
        }
        let progress = self.line_progress();
        if progress.iter().all(|p| p.shipped == 0) {
            FulfillmentStatus::Unfulfilled
        } else if progress.iter().all(|p| p.unshipped() == 0) {
            FulfillmentStatus::Fulfilled
        } else {
            FulfillmentStatus::PartiallyFulfilled
        }
    }

    /// How much has come back.
    #[must_use]
    pub fn return_status(&self) -> ReturnStatus {
        let progress = self.line_progress();
        if progress.iter().all(|p| p.returned == 0) {
            ReturnStatus::None
        } else if progress.iter().all(|p| p.returned == p.ordered.get()) {
            ReturnStatus::Returned
        } else {
            ReturnStatus::PartiallyReturned
        }
    }

    /// Units returned over all lines.
    #[must_use]
    pub fn returned_units(&self) -> u64 {
        self.line_progress()
            .iter()
            .map(|p| u64::from(p.returned))
            .sum()
    }

    /// What all returns refund together.
    #[must_use]
    pub fn refunded_total(&self) -> Money {
        let sum: i128 = self
            .returns
            .iter()
            .map(|r| i128::from(r.refund_amount().amount()))
            .sum();
        // Bounded by the order total (restore and create_return check it).
        Money::new(i64::try_from(sum).unwrap_or(i64::MAX), self.currency)
    }
}
