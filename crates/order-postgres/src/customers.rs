//! [`PgCustomerRepository`]: the minimal Customer Management store, and the
//! `CustomerDirectory` the order use cases ask whether a customer exists.

use std::fmt;

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use order_app::idempotency::ClaimedKey;
use order_app::model::{Customer, CustomerSnapshot};
use order_app::ports::{CustomerDirectory, CustomerRepository};
use order_app::{Page, PageRequest, RepositoryError};
use order_domain::CustomerId;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::error::{map_diesel_error, unexpected};
use crate::idempotency::{complete_with, WrittenOutcome};
use crate::schema::customer_mgmt_customers as customers;
use crate::store::Db;

/// Customers in PostgreSQL.
///
/// Made by [`crate::PgStore::customers`]; cloning shares the pool.
#[derive(Clone)]
pub struct PgCustomerRepository {
    db: Db,
}

impl fmt::Debug for PgCustomerRepository {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PgCustomerRepository")
            .finish_non_exhaustive()
    }
}

/// A customer row, read and written as is (and, as JSON, an idempotency outcome).
#[derive(Debug, Clone, Queryable, Selectable, Insertable, Serialize, Deserialize)]
#[diesel(table_name = customers, check_for_backend(diesel::pg::Pg))]
pub(crate) struct CustomerRow {
    id: Uuid,
    name: String,
    email: String,
    source: Option<String>,
    created_at: DateTime<Utc>,
}

impl CustomerRow {
    fn from_customer(customer: &Customer) -> Self {
        Self {
            id: customer.id().as_uuid(),
            name: customer.name().to_owned(),
            email: customer.email().as_str().to_owned(),
            source: customer.source().map(str::to_owned),
            created_at: customer.created_at(),
        }
    }

    pub(crate) fn into_customer(self) -> Result<Customer, RepositoryError> {
        Customer::restore(CustomerSnapshot {
            id: CustomerId::from_uuid(self.id),
            name: self.name,
            email: self.email,
            source: self.source,
            created_at: self.created_at,
        })
        .map_err(unexpected)
    }
}

impl PgCustomerRepository {
    pub(crate) fn new(db: Db) -> Self {
        Self { db }
    }
}

impl CustomerRepository for PgCustomerRepository {
    #[tracing::instrument(level = "debug", skip_all, fields(customer_id = %customer.id()), err(level = "debug"))]
    fn insert(
        &self,
        customer: &Customer,
        claim: Option<&ClaimedKey>,
    ) -> Result<(), RepositoryError> {
        let row = CustomerRow::from_customer(customer);
        let mut conn = self.db.checkout()?;
        let claim_held = conn
            .transaction(|conn| {
                diesel::insert_into(customers::table)
                    .values(&row)
                    .execute(conn)?;
                let held = match claim {
                    Some(claim) => {
                        complete_with(conn, claim, &WrittenOutcome::Customer { customer: &row })?
                    }
                    None => true,
                };
                // A lost claim rolls the insert back with it.
                if held {
                    Ok(true)
                } else {
                    Err(diesel::result::Error::RollbackTransaction)
                }
            })
            .or_else(|e| match e {
                diesel::result::Error::RollbackTransaction => Ok(false),
                other => Err(other),
            })
            .map_err(|e| map_diesel_error("insert customer", e))?;
        if claim_held {
            Ok(())
        } else {
            Err(RepositoryError::ClaimLost)
        }
    }

    #[tracing::instrument(level = "debug", skip(self), err(level = "debug"))]
    fn find_by_id(&self, id: CustomerId) -> Result<Option<Customer>, RepositoryError> {
        let mut conn = self.db.checkout()?;
        customers::table
            .find(id.as_uuid())
            .select(CustomerRow::as_select())
            .first(&mut conn)
            .optional()
            .map_err(|e| map_diesel_error("find customer", e))?
            .map(CustomerRow::into_customer)
            .transpose()
    }

    #[tracing::instrument(level = "debug", skip(self), err(level = "debug"))]
    fn list(&self, page: PageRequest) -> Result<Page<Customer>, RepositoryError> {
        let offset = i64::try_from(page.offset()).map_err(unexpected)?;
        let page_size = usize::try_from(page.page_size()).unwrap_or(usize::MAX);
        let (mut rows, total) = self.db.read_consistent("list customers", |conn| {
            let mut query = customers::table.into_boxed();
            if let Some(cursor) = page.cursor() {
                query = query.filter(
                    customers::created_at
                        .lt(cursor.created_at)
                        .or(customers::created_at
                            .eq(cursor.created_at)
                            .and(customers::id.lt(cursor.id))),
                );
            }
            let rows = query
                .select(CustomerRow::as_select())
                .order((customers::created_at.desc(), customers::id.desc()))
                .limit(i64::from(page.page_size()) + 1)
                .offset(offset)
                .load::<CustomerRow>(conn)?;
            let total = customers::table.count().get_result::<i64>(conn)?;
            Ok((rows, total))
        })?;
        let next_cursor =
            crate::store::split_next_cursor(&mut rows, page_size, |r| (r.created_at, r.id));
        Ok(Page {
            items: rows
                .into_iter()
                .map(CustomerRow::into_customer)
                .collect::<Result<_, _>>()?,
            request: page,
            total_items: u64::try_from(total).map_err(unexpected)?,
            total_exact: true,
            next_cursor,
        })
    }
}

impl CustomerDirectory for PgCustomerRepository {
    #[tracing::instrument(level = "debug", skip(self), err(level = "debug"))]
    fn exists(&self, id: CustomerId) -> Result<bool, RepositoryError> {
        let mut conn = self.db.checkout()?;
        diesel::select(diesel::dsl::exists(customers::table.find(id.as_uuid())))
            .get_result(&mut conn)
            .map_err(|e| map_diesel_error("check customer exists", e))
    }
}
