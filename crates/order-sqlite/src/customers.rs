//! [`SqliteCustomerRepository`]: the customers, and the directory the order
//! use cases ask whether a customer exists.

use std::fmt;

use diesel::prelude::*;
use order_app::idempotency::ClaimedKey;
use order_app::model::{Customer, CustomerSnapshot};
use order_app::ports::{CustomerDirectory, CustomerRepository};
use order_app::{Page, PageRequest, RepositoryError};
use order_domain::CustomerId;
use serde::{Deserialize, Serialize};

use crate::codec::{id, parse_id, parse_time, split_next_cursor, time};
use crate::error::unexpected;
use crate::idempotency::{complete_with, WrittenOutcome};
use crate::schema::customer_mgmt_customers as customers;
use crate::store::{Db, WriteError};

/// Customers in SQLite. Made by [`crate::SqliteStore::customers`].
#[derive(Clone)]
pub struct SqliteCustomerRepository {
    db: Db,
}

impl fmt::Debug for SqliteCustomerRepository {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SqliteCustomerRepository")
            .finish_non_exhaustive()
    }
}

/// A customer row (and, as JSON, an idempotency outcome).
#[derive(Debug, Clone, Queryable, Selectable, Insertable, Serialize, Deserialize)]
#[diesel(table_name = customers, check_for_backend(diesel::sqlite::Sqlite))]
pub(crate) struct CustomerRow {
    id: String,
    name: String,
    email: String,
    source: Option<String>,
    created_at: String,
}

impl CustomerRow {
    fn from_customer(customer: &Customer) -> Self {
        Self {
            id: id(customer.id().as_uuid()),
            name: customer.name().to_owned(),
            email: customer.email().as_str().to_owned(),
            source: customer.source().map(str::to_owned),
            created_at: time(customer.created_at()),
        }
    }

    pub(crate) fn into_customer(self) -> Result<Customer, RepositoryError> {
        Customer::restore(CustomerSnapshot {
            id: CustomerId::from_uuid(parse_id(&self.id)?),
            name: self.name,
            email: self.email,
            source: self.source,
            created_at: parse_time(&self.created_at)?,
        })
        .map_err(unexpected)
    }
}

impl SqliteCustomerRepository {
    pub(crate) fn new(db: Db) -> Self {
        Self { db }
    }
}

impl CustomerRepository for SqliteCustomerRepository {
    #[tracing::instrument(level = "debug", skip_all, fields(customer_id = %customer.id()), err(level = "debug"))]
    fn insert(
        &self,
        customer: &Customer,
        claim: Option<&ClaimedKey>,
    ) -> Result<(), RepositoryError> {
        let row = CustomerRow::from_customer(customer);
        self.db.write("insert customer", |conn| {
            diesel::insert_into(customers::table)
                .values(&row)
                .execute(conn)?;
            if let Some(claim) = claim {
                if !complete_with(conn, claim, &WrittenOutcome::Customer { customer: &row })? {
                    return Err(WriteError::Refused(RepositoryError::ClaimLost));
                }
            }
            Ok(())
        })
    }

    #[tracing::instrument(level = "debug", skip(self), err(level = "debug"))]
    fn find_by_id(&self, customer_id: CustomerId) -> Result<Option<Customer>, RepositoryError> {
        let key = id(customer_id.as_uuid());
        self.db
            .read("find customer", |conn| {
                customers::table
                    .find(&key)
                    .select(CustomerRow::as_select())
                    .first(conn)
                    .optional()
            })?
            .map(CustomerRow::into_customer)
            .transpose()
    }

    #[tracing::instrument(level = "debug", skip(self), err(level = "debug"))]
    fn list(&self, page: PageRequest) -> Result<Page<Customer>, RepositoryError> {
        let offset = i64::try_from(page.offset()).map_err(unexpected)?;
        let page_size = usize::try_from(page.page_size()).unwrap_or(usize::MAX);
        let (mut rows, total) = self.db.read("list customers", |conn| {
            let mut query = customers::table.into_boxed();
            if let Some(cursor) = page.cursor() {
                let (at, after) = (time(cursor.created_at), id(cursor.id));
                query = query.filter(
                    customers::created_at
                        .lt(at.clone())
                        .or(customers::created_at.eq(at).and(customers::id.lt(after))),
                );
            }
            let rows: Vec<CustomerRow> = query
                .select(CustomerRow::as_select())
                .order((customers::created_at.desc(), customers::id.desc()))
                .limit(i64::from(page.page_size()) + 1)
                .offset(offset)
                .load(conn)?;
            let total: i64 = customers::table.count().get_result(conn)?;
            Ok((rows, total))
        })?;
        let next_cursor = split_next_cursor(&mut rows, page_size, |r| (&r.created_at, &r.id))?;
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

impl CustomerDirectory for SqliteCustomerRepository {
    #[tracing::instrument(level = "debug", skip(self), err(level = "debug"))]
    fn exists(&self, customer_id: CustomerId) -> Result<bool, RepositoryError> {
        let key = id(customer_id.as_uuid());
        self.db.read("customer exists", |conn| {
            diesel::select(diesel::dsl::exists(customers::table.find(&key))).get_result(conn)
        })
    }
}
