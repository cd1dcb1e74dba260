//! The use cases as traits, one per context: what the HTTP adapter depends
//! on, so its tests can mock the application (`MockOrderService`, ...) and
//! another implementation (a decorator, a remote service) can stand in.
//!
//! [`Orders`] and [`Customers`] implement them by calling their use cases.

use std::sync::Arc;

use order_domain::{
    CustomerId, DiscountId, EditId, EditPreview, FulfillmentId, LineId, Order, OrderEdit, OrderId,
    OrderNumber, Quantity, ReturnId,
};

use crate::idempotency::ClaimedKey;
use crate::model::{Customer, NewCustomer};
use crate::{
    AddDiscount, AddLine, AppError, CreateOrder, Customers, EditView, HistoryPage, OrderFilter,
    Orders, Page, PageRequest, ReturnLines, ShipLines, StageChange, Write,
};

/// Every operation of the Order context. See the [`Orders`] method of the same
/// name for what each does and the errors it returns.
#[cfg_attr(feature = "mocks", mockall::automock)]
pub trait OrderService: Send + Sync + 'static {
    /// [`Orders::create`].
    ///
    /// # Errors
    /// As [`Orders::create`].
    fn create(&self, cmd: CreateOrder, claim: Option<ClaimedKey>) -> Result<Order, AppError>;
    /// [`Orders::get`].
    ///
    /// # Errors
    /// As [`Orders::get`].
    fn get(&self, id: OrderId) -> Result<Order, AppError>;
    /// [`Orders::get_by_number`].
    ///
    /// # Errors
    /// As [`Orders::get_by_number`].
    fn get_by_number(&self, number: OrderNumber) -> Result<Order, AppError>;
    /// [`Orders::list`].
    ///
    /// # Errors
    /// As [`Orders::list`].
    fn list(&self, filter: OrderFilter, page: PageRequest) -> Result<Page<Order>, AppError>;
    /// [`Orders::list_for_customer`].
    ///
    /// # Errors
    /// As [`Orders::list_for_customer`].
    fn list_for_customer(
        &self,
        customer_id: CustomerId,
        page: PageRequest,
    ) -> Result<Page<Order>, AppError>;
    /// [`Orders::history`].
    ///
    /// # Errors
    /// As [`Orders::history`].
    fn history(&self, id: OrderId, after: u64, limit: usize) -> Result<HistoryPage, AppError>;
    /// [`Orders::add_line`].
    ///
    /// # Errors
    /// As [`Orders::add_line`].
    fn add_line(
        &self,
        id: OrderId,
        cmd: AddLine,
        write: Write,
    ) -> Result<(Order, LineId), AppError>;
    /// [`Orders::update_line_quantity`].
    ///
    /// # Errors
    /// As [`Orders::update_line_quantity`].
    fn update_line_quantity(
        &self,
        id: OrderId,
        line_id: LineId,
        quantity: Quantity,
        write: Write,
    ) -> Result<Order, AppError>;
    /// [`Orders::remove_line`].
    ///
    /// # Errors
    /// As [`Orders::remove_line`].
    fn remove_line(&self, id: OrderId, line_id: LineId, write: Write) -> Result<Order, AppError>;
    /// [`Orders::add_discount`].
    ///
    /// # Errors
    /// As [`Orders::add_discount`].
    fn add_discount(
        &self,
        id: OrderId,
        cmd: AddDiscount,
        write: Write,
    ) -> Result<(Order, DiscountId), AppError>;
    /// [`Orders::remove_discount`].
    ///
    /// # Errors
    /// As [`Orders::remove_discount`].
    fn remove_discount(
        &self,
        id: OrderId,
        discount_id: DiscountId,
        write: Write,
    ) -> Result<Order, AppError>;
    /// [`Orders::confirm`].
    ///
    /// # Errors
    /// As [`Orders::confirm`].
    fn confirm(&self, id: OrderId, write: Write) -> Result<Order, AppError>;
    /// [`Orders::start_processing`].
    ///
    /// # Errors
    /// As [`Orders::start_processing`].
    fn start_processing(&self, id: OrderId, write: Write) -> Result<Order, AppError>;
    /// [`Orders::mark_fulfilled`].
    ///
    /// # Errors
    /// As [`Orders::mark_fulfilled`].
    fn mark_fulfilled(&self, id: OrderId, write: Write) -> Result<Order, AppError>;
    /// [`Orders::cancel`].
    ///
    /// # Errors
    /// As [`Orders::cancel`].
    fn cancel(&self, id: OrderId, reason: Option<String>, write: Write) -> Result<Order, AppError>;
    /// [`Orders::delete`].
    ///
    /// # Errors
    /// As [`Orders::delete`].
    fn delete(&self, id: OrderId, write: Write) -> Result<Order, AppError>;
    /// [`Orders::create_fulfillment`].
    ///
    /// # Errors
    /// As [`Orders::create_fulfillment`].
    fn create_fulfillment(
        &self,
        id: OrderId,
        cmd: ShipLines,
        write: Write,
    ) -> Result<(Order, FulfillmentId), AppError>;
    /// [`Orders::create_return`].
    ///
    /// # Errors
    /// As [`Orders::create_return`].
    fn create_return(
        &self,
        id: OrderId,
        cmd: ReturnLines,
        write: Write,
    ) -> Result<(Order, ReturnId), AppError>;
    /// [`Orders::begin_edit`].
    ///
    /// # Errors
    /// As [`Orders::begin_edit`].
    fn begin_edit(&self, id: OrderId, write: Write) -> Result<OrderEdit, AppError>;
    /// [`Orders::stage_edit`].
    ///
    /// # Errors
    /// As [`Orders::stage_edit`].
    fn stage_edit(
        &self,
        id: OrderId,
        edit_id: EditId,
        changes: Vec<StageChange>,
        claim: Option<ClaimedKey>,
    ) -> Result<OrderEdit, AppError>;
    /// [`Orders::get_edit`].
    ///
    /// # Errors
    /// As [`Orders::get_edit`].
    fn get_edit(&self, id: OrderId, edit_id: EditId) -> Result<EditView, AppError>;
    /// [`Orders::commit_edit`].
    ///
    /// # Errors
    /// As [`Orders::commit_edit`].
    fn commit_edit(
        &self,
        id: OrderId,
        edit_id: EditId,
        write: Write,
    ) -> Result<(Order, EditPreview), AppError>;
    /// [`Orders::discard_edit`].
    ///
    /// # Errors
    /// As [`Orders::discard_edit`].
    fn discard_edit(&self, id: OrderId, edit_id: EditId) -> Result<OrderEdit, AppError>;
    /// [`Orders::restricted_to`]: the same operations for `customer`'s orders
    /// only (a customer-bound API key).
    fn restricted_to(&self, customer: CustomerId) -> Arc<dyn OrderService>;
}

impl OrderService for Orders {
    fn create(&self, cmd: CreateOrder, claim: Option<ClaimedKey>) -> Result<Order, AppError> {
        Self::create(self, cmd, claim)
    }
    fn get(&self, id: OrderId) -> Result<Order, AppError> {
        Self::get(self, id)
    }
    fn get_by_number(&self, number: OrderNumber) -> Result<Order, AppError> {
        Self::get_by_number(self, number)
    }
    fn history(&self, id: OrderId, after: u64, limit: usize) -> Result<HistoryPage, AppError> {
        Self::history(self, id, after, limit)
    }
    fn list(&self, filter: OrderFilter, page: PageRequest) -> Result<Page<Order>, AppError> {
        Self::list(self, filter, page)
    }
    fn list_for_customer(
        &self,
        customer_id: CustomerId,
        page: PageRequest,
    ) -> Result<Page<Order>, AppError> {
        Self::list_for_customer(self, customer_id, page)
    }
    fn add_line(
        &self,
        id: OrderId,
        cmd: AddLine,
        write: Write,
    ) -> Result<(Order, LineId), AppError> {
        Self::add_line(self, id, cmd, write)
    }
    fn update_line_quantity(
        &self,
        id: OrderId,
        line_id: LineId,
        quantity: Quantity,
        write: Write,
    ) -> Result<Order, AppError> {
        Self::update_line_quantity(self, id, line_id, quantity, write)
    }
    fn remove_line(&self, id: OrderId, line_id: LineId, write: Write) -> Result<Order, AppError> {
        Self::remove_line(self, id, line_id, write)
    }
    fn add_discount(
        &self,
        id: OrderId,
        cmd: AddDiscount,
        write: Write,
    ) -> Result<(Order, DiscountId), AppError> {
        Self::add_discount(self, id, cmd, write)
    }
    fn remove_discount(
        &self,
        id: OrderId,
        discount_id: DiscountId,
        write: Write,
    ) -> Result<Order, AppError> {
        Self::remove_discount(self, id, discount_id, write)
    }
    fn confirm(&self, id: OrderId, write: Write) -> Result<Order, AppError> {
        Self::confirm(self, id, write)
    }
    fn start_processing(&self, id: OrderId, write: Write) -> Result<Order, AppError> {
        Self::start_processing(self, id, write)
    }
    fn mark_fulfilled(&self, id: OrderId, write: Write) -> Result<Order, AppError> {
        Self::mark_fulfilled(self, id, write)
    }
    fn cancel(&self, id: OrderId, reason: Option<String>, write: Write) -> Result<Order, AppError> {
        Self::cancel(self, id, reason, write)
    }
    fn delete(&self, id: OrderId, write: Write) -> Result<Order, AppError> {
        Self::delete(self, id, write)
    }
    fn create_fulfillment(
        &self,
        id: OrderId,
        cmd: ShipLines,
        write: Write,
    ) -> Result<(Order, FulfillmentId), AppError> {
        Self::create_fulfillment(self, id, cmd, write)
    }
    fn create_return(
        &self,
        id: OrderId,
        cmd: ReturnLines,
        write: Write,
    ) -> Result<(Order, ReturnId), AppError> {
        Self::create_return(self, id, cmd, write)
    }
    fn begin_edit(&self, id: OrderId, write: Write) -> Result<OrderEdit, AppError> {
        Self::begin_edit(self, id, write)
    }
    fn stage_edit(
        &self,
        id: OrderId,
        edit_id: EditId,
        changes: Vec<StageChange>,
        claim: Option<ClaimedKey>,
    ) -> Result<OrderEdit, AppError> {
        Self::stage_edit(self, id, edit_id, changes, claim)
    }
    fn get_edit(&self, id: OrderId, edit_id: EditId) -> Result<EditView, AppError> {
        Self::get_edit(self, id, edit_id)
    }
    fn commit_edit(
        &self,
        id: OrderId,
        edit_id: EditId,
        write: Write,
    ) -> Result<(Order, EditPreview), AppError> {
        Self::commit_edit(self, id, edit_id, write)
    }
    fn discard_edit(&self, id: OrderId, edit_id: EditId) -> Result<OrderEdit, AppError> {
        Self::discard_edit(self, id, edit_id)
    }
    fn restricted_to(&self, customer: CustomerId) -> Arc<dyn OrderService> {
        Arc::new(Self::restricted_to(self, Some(customer)))
    }
}

/// Every operation of the minimal Customer Management context. See the
/// [`Customers`] method of the same name.
#[cfg_attr(feature = "mocks", mockall::automock)]
pub trait CustomerService: Send + Sync + 'static {
    /// [`Customers::create`].
    ///
    /// # Errors
    /// As [`Customers::create`].
    fn create(&self, new: NewCustomer, claim: Option<ClaimedKey>) -> Result<Customer, AppError>;
    /// [`Customers::get`].
    ///
    /// # Errors
    /// As [`Customers::get`].
    fn get(&self, id: CustomerId) -> Result<Customer, AppError>;
    /// [`Customers::list`].
    ///
    /// # Errors
    /// As [`Customers::list`].
    fn list(&self, page: PageRequest) -> Result<Page<Customer>, AppError>;
    /// [`Customers::restricted_to`]: the same operations seeing `customer` only.
    fn restricted_to(&self, customer: CustomerId) -> Arc<dyn CustomerService>;
}

impl CustomerService for Customers {
    fn create(&self, new: NewCustomer, claim: Option<ClaimedKey>) -> Result<Customer, AppError> {
        Self::create(self, new, claim)
    }
    fn get(&self, id: CustomerId) -> Result<Customer, AppError> {
        Self::get(self, id)
    }
    fn list(&self, page: PageRequest) -> Result<Page<Customer>, AppError> {
        Self::list(self, page)
    }
    fn restricted_to(&self, customer: CustomerId) -> Arc<dyn CustomerService> {
        Arc::new(Self::restricted_to(self, Some(customer)))
    }
}
