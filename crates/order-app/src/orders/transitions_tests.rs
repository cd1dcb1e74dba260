//! Use-case tests of the lifecycle transitions (confirm, process, fulfil,
//! cancel, delete): success saves the new state, every refusal writes nothing.

use order_domain::{OrderStatus, OrderStatus::*};

use super::test_support::*;
use super::Orders;
use crate::AppError;
use crate::Write;

type Transition = fn(&Orders, order_domain::OrderId) -> Result<order_domain::Order, AppError>;

const TRANSITIONS: [(&str, Transition, OrderStatus, OrderStatus); 5] = [
    (
        "confirm",
        |o, id| o.confirm(id, Write::default()),
        Pending,
        Confirmed,
    ),
    (
        "process",
        |o, id| o.start_processing(id, Write::default()),
        Confirmed,
        Processing,
    ),
    (
        "fulfil",
        |o, id| o.mark_fulfilled(id, Write::default()),
        Processing,
        Fulfilled,
    ),
    (
        "cancel",
        |o, id| o.cancel(id, Some("out of stock".into()), Write::default()),
        Processing,
        Cancelled,
    ),
    (
        "delete",
        |o, id| o.delete(id, Write::default()),
        Pending,
        Pending,
    ),
];

#[test]
fn each_transition_saves_the_new_state_against_the_loaded_version() {
    for (name, run, from, to) in TRANSITIONS {
        let order = order_in(from);
        let (id, loaded) = (order.id(), order.version());
        let mut ports = Ports::new();
        ports.stored(order);
        ports
            .orders
            .expect_update()
            .withf(move |o, expected, _| {
                *expected == loaded && o.version() == loaded + 1 && o.status() == to
            })
            .times(1)
            .returning(|_, _, _| Ok(()));
        let saved = run(&ports.build(), id).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(saved.status(), to, "{name}");
    }
}

#[test]
fn delete_stamps_deleted_at() {
    let order = order_in(Cancelled);
    let id = order.id();
    let mut ports = Ports::new();
    ports.stored(order);
    ports
        .orders
        .expect_update()
        .withf(|o, _, _| o.deleted_at() == Some(now()))
        .returning(|_, _, _| Ok(()));
    assert!(ports.build().delete(id, Write::default()).is_ok());
}

#[test]
fn forbidden_transitions_answer_the_domain_code_and_write_nothing() {
    let cases: [(&str, Transition, OrderStatus, &str); 8] = [
        (
            "confirm empty",
            |o, id| o.confirm(id, Write::default()),
            Pending,
            "order_empty",
        ),
        (
            "confirm twice",
            |o, id| o.confirm(id, Write::default()),
            Confirmed,
            "invalid_order_status",
        ),
        (
            "process pending",
            |o, id| o.start_processing(id, Write::default()),
            Pending,
            "invalid_order_status",
        ),
        (
            "fulfil confirmed",
            |o, id| o.mark_fulfilled(id, Write::default()),
            Confirmed,
            "invalid_order_status",
        ),
        (
            "cancel fulfilled",
            |o, id| o.cancel(id, None, Write::default()),
            Fulfilled,
            "fulfilled_order_not_cancellable",
        ),
        (
            "cancel cancelled",
            |o, id| o.cancel(id, None, Write::default()),
            Cancelled,
            "order_already_cancelled",
        ),
        (
            "delete confirmed",
            |o, id| o.delete(id, Write::default()),
            Confirmed,
            "order_not_deletable",
        ),
        (
            "delete fulfilled",
            |o, id| o.delete(id, Write::default()),
            Fulfilled,
            "order_not_deletable",
        ),
    ];
    for (name, run, status, code) in cases {
        let order = if name == "confirm empty" {
            pending_order()
        } else {
            order_in(status)
        };
        let id = order.id();
        let mut ports = Ports::new();
        ports.stored(order);
        ports.orders.expect_update().never();
        let err = run(&ports.build(), id).unwrap_err();
        assert_eq!(domain_code(&err), code, "{name}");
        assert!(matches!(err, AppError::Domain(_)), "{name}");
    }
}

#[test]
fn transitions_honour_the_version_precondition() {
    let order = order_in(Pending);
    let id = order.id();
    let mut ports = Ports::new();
    ports.stored(order);
    ports.orders.expect_update().never();
    let orders = ports.build();
    for result in [
        orders.confirm(id, Write::if_version(99)),
        orders.start_processing(id, Write::if_version(99)),
        orders.mark_fulfilled(id, Write::if_version(99)),
        orders.cancel(id, None, Write::if_version(99)),
        orders.delete(id, Write::if_version(99)),
    ] {
        assert!(matches!(
            result.unwrap_err(),
            AppError::VersionMismatch { expected: 99, .. }
        ));
    }
}

#[test]
fn transitions_of_an_unknown_order_are_not_found() {
    let mut ports = Ports::new();
    ports.orders.expect_find_by_id().returning(|_| Ok(None));
    let orders = ports.build();
    for (name, run, _, _) in TRANSITIONS {
        assert!(
            matches!(
                run(&orders, order_id()).unwrap_err(),
                AppError::NotFound {
                    entity: "order",
                    ..
                }
            ),
            "{name}"
        );
    }
}

#[test]
fn a_restricted_caller_cannot_change_another_customers_order() {
    let writes: [(&str, Transition); 10] = [
        ("confirm", |o, id| o.confirm(id, Write::default())),
        ("process", |o, id| o.start_processing(id, Write::default())),
        ("fulfil", |o, id| o.mark_fulfilled(id, Write::default())),
        ("cancel", |o, id| o.cancel(id, None, Write::default())),
        ("delete", |o, id| o.delete(id, Write::default())),
        ("add line", |o, id| {
            o.add_line(
                id,
                crate::AddLine {
                    product_id: product(),
                    quantity: order_domain::Quantity::new(1).unwrap(),
                    unit_price: order_domain::Money::new(100, order_domain::Currency::USD),
                    snapshot: order_domain::ProductSnapshot::default(),
                    tax: order_domain::LineTax::default(),
                },
                Write::default(),
            )
            .map(|(order, _)| order)
        }),
        ("update line", |o, id| {
            o.update_line_quantity(
                id,
                line_id(),
                order_domain::Quantity::new(3).unwrap(),
                Write::default(),
            )
        }),
        ("remove line", |o, id| {
            o.remove_line(id, line_id(), Write::default())
        }),
        ("add discount", |o, id| {
            o.add_discount(
                id,
                crate::AddDiscount {
                    amount: crate::DiscountAmount::Fixed(1),
                    code: None,
                    description: None,
                },
                Write::default(),
            )
            .map(|(order, _)| order)
        }),
        ("remove discount", |o, id| {
            o.remove_discount(
                id,
                order_domain::DiscountId::from_uuid(uuid::Uuid::now_v7()),
                Write::default(),
            )
        }),
    ];
    for (name, run) in writes {
        let order = order_in(Pending);
        let (id, owner) = (order.id(), order.customer_id());
        let mut ports = Ports::new();
        ports.stored(order.clone());
        ports.orders.expect_update().never();
        let stranger = ports.build().restricted_to(Some(customer()));
        let err = run(&stranger, id).unwrap_err();
        assert!(
            matches!(
                err,
                AppError::NotFound {
                    entity: "order",
                    ..
                }
            ),
            "{name}: same answer as a missing order"
        );
        // The owner gets past the visibility check (and on to the domain).
        let mut ports = Ports::new();
        ports.stored(order);
        ports.orders.expect_update().returning(|_, _, _| Ok(()));
        let owner_result = run(&ports.build().restricted_to(Some(owner)), id);
        assert!(
            !matches!(
                owner_result,
                Err(AppError::NotFound {
                    entity: "order",
                    ..
                })
            ),
            "{name}: the owner sees the order"
        );
    }
}
