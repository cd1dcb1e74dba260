//! The `CustomerRepository` and `CustomerDirectory` contracts.

use order_app::model::{Customer, NewCustomer};
use order_app::{PageRequest, RepositoryError};
use order_domain::CustomerId;
use uuid::Uuid;

use crate::support::at;
use crate::{Storage, TestStorage};

fn new_customer(email: &str, created: i64) -> Customer {
    Customer::create(
        CustomerId::from_uuid(Uuid::now_v7()),
        NewCustomer {
            name: "Jane Roe".into(),
            email: email.into(),
            source: None,
        },
        at(created),
    )
    .unwrap()
}

pub fn a_customer_reads_back_as_stored(db: &dyn TestStorage) {
    let customers = db.store().customers();
    let customer = Customer::create(
        CustomerId::from_uuid(Uuid::now_v7()),
        NewCustomer {
            name: "John Doe".into(),
            email: " John@Example.COM ".into(),
            source: Some("web".into()),
        },
        at(0),
    )
    .unwrap();

    customers.insert(&customer, None).unwrap();

    assert_eq!(
        customers.find_by_id(customer.id()).unwrap(),
        Some(customer.clone())
    );
    assert_eq!(customer.email().as_str(), "John@example.com");
    assert_eq!(
        customers
            .find_by_id(CustomerId::from_uuid(Uuid::now_v7()))
            .unwrap(),
        None
    );
}

pub fn a_second_registration_of_an_email_is_a_duplicate(db: &dyn TestStorage) {
    let customers = db.store().customers();
    customers
        .insert(&new_customer("jane@example.com", 0), None)
        .unwrap();
    assert_eq!(
        customers.insert(&new_customer("jane@EXAMPLE.com", 1), None),
        Err(RepositoryError::Duplicate("uq_customer_email".into()))
    );
}

pub fn customers_are_listed_newest_first_with_their_count(db: &dyn TestStorage) {
    let customers = db.store().customers();
    let all: Vec<Customer> = (0..5)
        .map(|i| {
            let customer = new_customer(&format!("c{i}@example.com"), i);
            customers.insert(&customer, None).unwrap();
            customer
        })
        .collect();

    let first = customers.list(PageRequest::new(1, 2).unwrap()).unwrap();
    let last = customers.list(PageRequest::new(3, 2).unwrap()).unwrap();
    let beyond = customers.list(PageRequest::new(4, 2).unwrap()).unwrap();

    assert_eq!(first.items, vec![all[4].clone(), all[3].clone()]);
    assert_eq!(last.items, vec![all[0].clone()]);
    assert!(beyond.items.is_empty());
    for page in [first, last, beyond] {
        assert_eq!(page.total_items, 5);
    }
}

pub fn the_directory_knows_exactly_the_registered_customers(db: &dyn TestStorage) {
    let customers = db.store().customers();
    let customer = new_customer("known@example.com", 0);
    customers.insert(&customer, None).unwrap();
    assert!(customers.exists(customer.id()).unwrap());
    assert!(!customers
        .exists(CustomerId::from_uuid(Uuid::now_v7()))
        .unwrap());
}
