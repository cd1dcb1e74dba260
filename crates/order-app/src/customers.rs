//! Use cases of the minimal Customer Management context the described order
//! flow needs: register a customer, find one, list them.

use std::sync::Arc;

use order_domain::CustomerId;

use crate::idempotency::ClaimedKey;
use crate::model::{Customer, NewCustomer};
use crate::ports::{Clock, CustomerRepository, IdGenerator};
use crate::{AppError, Page, PageRequest, RepositoryError};

/// Create, find and list customers.
#[derive(Clone)]
pub struct Customers {
    repository: Arc<dyn CustomerRepository>,
    clock: Arc<dyn Clock>,
    ids: Arc<dyn IdGenerator>,
    /// The only customer these use cases see, if restricted (a customer-bound key).
    only: Option<CustomerId>,
}

impl std::fmt::Debug for Customers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Customers").finish_non_exhaustive()
    }
}

impl Customers {
    /// Wires the use cases to their ports.
    #[must_use]
    pub fn new(
        repository: Arc<dyn CustomerRepository>,
        clock: Arc<dyn Clock>,
        ids: Arc<dyn IdGenerator>,
    ) -> Self {
        Self {
            repository,
            clock,
            ids,
            only: None,
        }
    }

    /// The same use cases, seeing only `customer` (`None`: every customer).
    /// Any other customer is not found, exactly like a missing one.
    #[must_use]
    pub fn restricted_to(&self, customer: Option<CustomerId>) -> Self {
        Self {
            only: customer,
            ..self.clone()
        }
    }

    /// Registers a customer; with a `claim`, the claim is completed with the
    /// customer in the same transaction.
    ///
    /// # Errors
    /// `Validation` for a bad name, email or source; `Conflict` when the email
    /// is already registered or the idempotency claim was lost; `Unavailable`.
    pub fn create(
        &self,
        new: NewCustomer,
        claim: Option<ClaimedKey>,
    ) -> Result<Customer, AppError> {
        let customer = Customer::create(
            CustomerId::from_uuid(self.ids.new_id()),
            new,
            self.clock.now(),
        )?;
        match self.repository.insert(&customer, claim.as_ref()) {
            Ok(()) => Ok(customer),
            Err(RepositoryError::Duplicate(_)) => Err(AppError::Conflict(
                format!("a customer with email {} already exists", customer.email()).into(),
            )),
            Err(e) => Err(e.into()),
        }
    }

    /// Finds a customer.
    ///
    /// # Errors
    /// `NotFound`; `Unavailable`.
    pub fn get(&self, id: CustomerId) -> Result<Customer, AppError> {
        let not_found = || AppError::NotFound {
            entity: "customer",
            id: id.to_string(),
        };
        if self.only.is_some_and(|only| only != id) {
            return Err(not_found());
        }
        self.repository.find_by_id(id)?.ok_or_else(not_found)
    }

    /// Lists customers, newest first.
    ///
    /// # Errors
    /// `Unavailable`.
    ///
    /// Restricted to one customer, the list holds that customer alone, on
    /// its first page.
    pub fn list(&self, page: PageRequest) -> Result<Page<Customer>, AppError> {
        let Some(only) = self.only else {
            return Ok(self.repository.list(page)?);
        };
        let first_page = page.page() == 1 && page.cursor().is_none();
        let items: Vec<Customer> = if first_page {
            self.repository.find_by_id(only)?.into_iter().collect()
        } else {
            Vec::new()
        };
        let total = u64::from(first_page && !items.is_empty());
        Ok(Page::exact(items, page, total))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ports::{MockClock, MockCustomerRepository, MockIdGenerator};
    use chrono::TimeZone;
    use mockall::predicate::eq;

    fn customers(repository: MockCustomerRepository) -> Customers {
        let mut clock = MockClock::new();
        clock
            .expect_now()
            .return_const(chrono::Utc.with_ymd_and_hms(2025, 12, 30, 0, 0, 0).unwrap());
        let mut ids = MockIdGenerator::new();
        ids.expect_new_id().return_const(uuid::Uuid::now_v7());
        Customers::new(Arc::new(repository), Arc::new(clock), Arc::new(ids))
    }

    fn john() -> NewCustomer {
        NewCustomer {
            name: "John Doe".into(),
            email: "john@example.com".into(),
            source: Some("web".into()),
        }
    }

    #[test]
    fn create_stores_a_valid_customer() {
        let mut repository = MockCustomerRepository::new();
        repository
            .expect_insert()
            .withf(|c, _| c.name() == "John Doe" && c.source() == Some("web"))
            .times(1)
            .returning(|_, _| Ok(()));
        let customer = customers(repository).create(john(), None).unwrap();
        assert_eq!(customer.email().as_str(), "john@example.com");
    }

    #[test]
    fn a_restricted_caller_sees_its_own_customer_only() {
        let mut repository = MockCustomerRepository::new();
        repository.expect_insert().returning(|_, _| Ok(()));
        let john = customers(repository).create(john(), None).unwrap();
        let id = john.id();
        let mut repository = MockCustomerRepository::new();
        repository
            .expect_find_by_id()
            .with(eq(id))
            .returning(move |_| Ok(Some(john.clone())));
        repository.expect_list().never();
        let restricted = customers(repository).restricted_to(Some(id));
        assert_eq!(restricted.get(id).unwrap().id(), id);
        let other = CustomerId::from_uuid(uuid::Uuid::now_v7());
        assert!(matches!(
            restricted.get(other).unwrap_err(),
            AppError::NotFound {
                entity: "customer",
                ..
            }
        ));
        let first = restricted.list(PageRequest::default()).unwrap();
        assert_eq!(
            (first.items.len(), first.total_items),
            (1, 1),
            "the list is that one customer"
        );
        let second = restricted.list(PageRequest::new(2, 20).unwrap()).unwrap();
        assert!(second.items.is_empty());
    }

    #[test]
    fn create_rejects_invalid_input_without_touching_storage() {
        let mut repository = MockCustomerRepository::new();
        repository.expect_insert().never();
        let bad = NewCustomer {
            email: "nope".into(),
            ..john()
        };
        assert!(matches!(
            customers(repository).create(bad, None),
            Err(AppError::Validation { field: "email", .. })
        ));
    }

    #[test]
    fn create_with_a_registered_email_is_a_conflict() {
        let mut repository = MockCustomerRepository::new();
        repository
            .expect_insert()
            .returning(|_, _| Err(RepositoryError::Duplicate("email".into())));
        assert!(matches!(
            customers(repository).create(john(), None),
            Err(AppError::Conflict(_))
        ));
    }

    #[test]
    fn get_unknown_customer_is_not_found() {
        let id = CustomerId::from_uuid(uuid::Uuid::now_v7());
        let mut repository = MockCustomerRepository::new();
        repository
            .expect_find_by_id()
            .with(eq(id))
            .returning(|_| Ok(None));
        assert!(matches!(
            customers(repository).get(id),
            Err(AppError::NotFound {
                entity: "customer",
                ..
            })
        ));
    }

    #[test]
    fn list_passes_the_page_and_reports_outages() {
        let mut repository = MockCustomerRepository::new();
        repository
            .expect_list()
            .returning(|_| Err(RepositoryError::Unavailable("down".into())));
        assert!(matches!(
            customers(repository).list(PageRequest::default()),
            Err(AppError::Unavailable(_))
        ));
    }
}
