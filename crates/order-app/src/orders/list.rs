//! List orders: all, by customer, by status; newest first, paginated.

use order_domain::{CustomerId, Order};

use super::Orders;
use crate::{AppError, OrderFilter, Page, PageRequest};

impl Orders {
    /// One page of live orders matching `filter`, newest first.
    ///
    /// # Errors
    /// `Unavailable`.
    ///
    /// Restricted to one customer, the store is asked for that customer's
    /// orders only; a filter naming another customer finds nothing.
    pub fn list(
        &self,
        mut filter: OrderFilter,
        page: PageRequest,
    ) -> Result<Page<Order>, AppError> {
        if let Some(only) = self.customer {
            if filter.customer_id.is_some_and(|asked| asked != only) {
                return Ok(Page::exact(Vec::new(), page, 0));
            }
            filter.customer_id = Some(only);
        }
        Ok(self.ports.orders.list(&filter, page)?)
    }

    /// One page of a customer's orders, newest first.
    ///
    /// # Errors
    /// `NotFound` for an unknown customer (an empty list would hide a typo),
    /// and for any other customer than the one these use cases are restricted to; `Unavailable`.
    pub fn list_for_customer(
        &self,
        customer_id: CustomerId,
        page: PageRequest,
    ) -> Result<Page<Order>, AppError> {
        let other = self.customer.is_some_and(|only| only != customer_id);
        if other || !self.ports.customers.exists(customer_id)? {
            return Err(AppError::NotFound {
                entity: "customer",
                id: customer_id.to_string(),
            });
        }
        self.list(
            OrderFilter {
                customer_id: Some(customer_id),
                status: None,
            },
            page,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::orders::test_support::*;
    use order_domain::OrderStatus;

    #[test]
    fn list_passes_filter_and_page_to_the_repository() {
        let mut ports = Ports::new();
        let filter = OrderFilter {
            customer_id: None,
            status: Some(OrderStatus::Fulfilled),
        };
        let page = PageRequest::new(2, 5).unwrap();
        let order = pending_order_with_line();
        ports
            .orders
            .expect_list()
            .withf(move |f, p| *f == filter && *p == page)
            .returning(move |_, p| Ok(Page::exact(vec![order.clone()], p, 6)));
        let result = ports.build().list(filter, page).unwrap();
        assert_eq!(result.items.len(), 1);
        assert_eq!(result.total_pages(), 2);
    }

    #[test]
    fn a_restricted_list_asks_the_store_for_that_customer_only() {
        let only = customer();
        let mut ports = Ports::new();
        ports
            .orders
            .expect_list()
            .withf(move |f, _| {
                f.customer_id == Some(only) && f.status == Some(OrderStatus::Pending)
            })
            .times(1)
            .returning(|_, p| Ok(Page::exact(vec![], p, 0)));
        let filter = OrderFilter {
            customer_id: None,
            status: Some(OrderStatus::Pending),
        };
        ports
            .build()
            .restricted_to(Some(only))
            .list(filter, PageRequest::default())
            .unwrap();
    }

    #[test]
    fn a_restricted_list_of_another_customer_is_empty_without_asking_the_store() {
        let mut ports = Ports::new();
        ports.orders.expect_list().never();
        let filter = OrderFilter {
            customer_id: Some(customer()),
            status: None,
        };
        let page = ports
            .build()
            .restricted_to(Some(customer()))
            .list(filter, PageRequest::default())
            .unwrap();
        assert_eq!(page.total_items, 0);
    }

    #[test]
    fn another_customers_order_list_is_not_found_when_restricted() {
        let mut ports = Ports::new();
        ports.customers.expect_exists().never();
        ports.orders.expect_list().never();
        let err = ports
            .build()
            .restricted_to(Some(customer()))
            .list_for_customer(customer(), PageRequest::default())
            .unwrap_err();
        assert!(matches!(
            err,
            AppError::NotFound {
                entity: "customer",
                ..
            }
        ));
    }

    #[test]
    fn list_for_an_unknown_customer_is_not_found() {
        let mut ports = Ports::new();
        ports.customers.expect_exists().returning(|_| Ok(false));
        ports.orders.expect_list().never();
        let err = ports
            .build()
            .list_for_customer(customer(), PageRequest::default())
            .unwrap_err();
        assert!(matches!(
            err,
            AppError::NotFound {
                entity: "customer",
                ..
            }
        ));
    }

    #[test]
    fn list_for_customer_filters_by_that_customer() {
        let c = customer();
        let mut ports = Ports::new();
        ports.customers.expect_exists().returning(|_| Ok(true));
        ports
            .orders
            .expect_list()
            .withf(move |f, _| f.customer_id == Some(c) && f.status.is_none())
            .returning(|_, p| Ok(Page::exact(vec![], p, 0)));
        assert_eq!(
            ports
                .build()
                .list_for_customer(c, PageRequest::default())
                .unwrap()
                .total_items,
            0
        );
    }
}
