//! `Idempotency-Key`: stored answers, replays, releases.

use crate::support::*;

fn claimed() -> ClaimedKey {
    ClaimedKey {
        key: IdempotencyKey {
            scope: "POST /api/v1/order-mgmt/orders".into(),
            key: "key-1".into(),
        },
        token: "token-1".into(),
    }
}

fn create_request(customer: Uuid) -> test::TestRequest {
    post_json(ORDERS, json!({"customer_id": customer, "currency": "USD"}))
        .insert_header(("Idempotency-Key", "key-1"))
}

#[actix_web::test]
async fn a_first_idempotent_create_stores_its_order_and_a_retry_renders_the_same_bytes() {
    use std::sync::Mutex;
    let written = Arc::new(Mutex::new(None::<Order>));
    let mut mocks = Mocks::new();
    mocks.directory.expect_exists().returning(|_| Ok(true));
    mocks
        .numbers
        .expect_next_number()
        .returning(|y| Ok(OrderNumber::new(y, 1).unwrap()));
    mocks
        .idempotency
        .expect_begin()
        .withf(|key, fingerprint, _, _| {
            key.scope == "POST /api/v1/order-mgmt/orders"
                && key.key == "key-1"
                && fingerprint.len() == 64
        })
        .returning(|_, _, _, _| Ok(Claim::Acquired(claimed())));
    let sink = written.clone();
    mocks
        .orders
        .expect_insert()
        .times(1)
        .returning(move |order, receipt| {
            let receipt = receipt.expect("the claim travels with the insert");
            assert_eq!(receipt.claim, claimed());
            assert_eq!(receipt.line, None);
            let mut order = order.clone();
            order.take_events();
            *sink.lock().unwrap() = Some(order);
            Ok(())
        });
    // The write's transaction completed the claim: nothing is stored afterwards.
    mocks.idempotency.expect_refuse().never();
    mocks.idempotency.expect_release().never();
    let app = test::init_service(App::new().configure(configure(mocks.state()))).await;
    let response = test::call_service(&app, create_request(Uuid::now_v7()).to_request()).await;
    assert_eq!(response.status(), 201);
    assert!(response.headers().get("idempotent-replayed").is_none());
    let first_headers = response.headers().clone();
    let first = test::read_body(response).await;

    // The retry finds what the first request wrote and renders it again.
    let order = written.lock().unwrap().clone().unwrap();
    let mut mocks = Mocks::new();
    mocks.orders.expect_insert().never();
    mocks.numbers.expect_next_number().never();
    mocks
        .idempotency
        .expect_begin()
        .returning(move |_, _, _, _| {
            Ok(Claim::Replay(Outcome::Order {
                order: Box::new(order.clone()),
                line: None,
            }))
        });
    let app = test::init_service(App::new().configure(configure(mocks.state()))).await;
    let response = test::call_service(&app, create_request(Uuid::now_v7()).to_request()).await;
    assert_eq!(response.status(), 201);
    assert_eq!(
        response.headers().get("idempotent-replayed").unwrap(),
        "true"
    );
    for name in [header::LOCATION, header::ETAG, header::CONTENT_TYPE] {
        assert_eq!(
            response.headers().get(&name),
            first_headers.get(&name),
            "{name}"
        );
    }
    assert_eq!(
        test::read_body(response).await,
        first,
        "the replay is the first answer byte for byte"
    );
}

#[actix_web::test]
async fn a_retry_replays_the_stored_answer_without_a_second_effect() {
    let order = pending_order();
    let id = order.id();
    let mut mocks = Mocks::new();
    mocks.orders.expect_insert().never();
    mocks
        .idempotency
        .expect_begin()
        .returning(move |_, _, _, _| {
            Ok(Claim::Replay(Outcome::Order {
                order: Box::new(order.clone()),
                line: None,
            }))
        });
    let (status, headers, body) = call(mocks, create_request(Uuid::now_v7())).await;
    assert_eq!(status, 201);
    assert_eq!(headers.get("idempotent-replayed").unwrap(), "true");
    assert_eq!(
        headers.get(header::LOCATION).unwrap().to_str().unwrap(),
        format!("/api/v1/order-mgmt/orders/{id}")
    );
    assert_eq!(body["data"]["id"], id.to_string());
}

#[actix_web::test]
async fn a_retried_add_line_replays_the_location_of_its_line() {
    let order = order_with_lines();
    let (id, line) = (order.id(), order.lines()[1].id());
    let mut mocks = Mocks::new();
    mocks.orders.expect_update().never();
    mocks
        .idempotency
        .expect_begin()
        .returning(move |_, _, _, _| {
            Ok(Claim::Replay(Outcome::Order {
                order: Box::new(order.clone()),
                line: Some(line),
            }))
        });
    let req = post_json(
        &format!("{ORDERS}/{id}/lines"),
        json!({"product_id": Uuid::now_v7(), "quantity": 1, "unit_price": 1, "currency": "USD"}),
    )
    .insert_header(("Idempotency-Key", "line-1"));
    let (status, headers, _) = call(mocks, req).await;
    assert_eq!(status, 201);
    assert_eq!(
        headers.get(header::LOCATION).unwrap().to_str().unwrap(),
        format!("/api/v1/order-mgmt/orders/{id}/lines/{line}")
    );
}

#[actix_web::test]
async fn a_retried_refusal_replays_the_recorded_refusal() {
    let record = b"409 application/problem+json\n{\"code\":\"order_empty\"}".to_vec();
    let mut mocks = Mocks::new();
    mocks.orders.expect_find_by_id().never();
    mocks
        .idempotency
        .expect_begin()
        .returning(move |_, _, _, _| Ok(Claim::Replay(Outcome::Refused(record.clone()))));
    let req = test::TestRequest::post()
        .uri(&format!("{ORDERS}/{}/confirm", Uuid::now_v7()))
        .insert_header(("Idempotency-Key", "confirm-1"));
    let (status, headers, body) = call(mocks, req).await;
    assert_eq!(status, 409);
    assert_eq!(headers.get("idempotent-replayed").unwrap(), "true");
    assert_eq!(
        headers.get(header::CONTENT_TYPE).unwrap(),
        "application/problem+json"
    );
    assert_eq!(body["code"], "order_empty");
}

#[actix_web::test]
async fn in_flight_and_reused_keys_are_409_and_422() {
    for (claim, status, code) in [
        (Claim::InFlight, 409, "idempotency_request_in_flight"),
        (Claim::Mismatch, 422, "idempotency_key_reused"),
    ] {
        let mut mocks = Mocks::new();
        mocks.orders.expect_insert().never();
        mocks
            .idempotency
            .expect_begin()
            .returning(move |_, _, _, _| Ok(claim.clone()));
        let (got, headers, body) = call(mocks, create_request(Uuid::now_v7())).await;
        assert_eq!(got, status);
        problem(status, &headers, &body, code);
    }
}

#[actix_web::test]
async fn a_refusal_is_recorded_and_an_outage_releases_the_claim() {
    let mut mocks = Mocks::new();
    mocks
        .numbers
        .expect_next_number()
        .returning(|y| Ok(OrderNumber::new(y, 1).unwrap()));
    mocks
        .orders
        .expect_insert()
        .returning(|o, _| Err(RepositoryError::UnknownCustomer(o.customer_id())));
    mocks
        .idempotency
        .expect_begin()
        .returning(|_, _, _, _| Ok(Claim::Acquired(claimed())));
    mocks
        .idempotency
        .expect_refuse()
        .withf(|claim, record| {
            let record = String::from_utf8_lossy(record);
            *claim == claimed()
                && record.starts_with("422 application/problem+json\n")
                && record.contains("customer_not_found")
        })
        .times(1)
        .returning(|_, _| Ok(()));
    mocks.idempotency.expect_release().never();
    let (status, _, _) = call(mocks, create_request(Uuid::now_v7())).await;
    assert_eq!(status, 422);

    let mut mocks = Mocks::new();
    mocks
        .numbers
        .expect_next_number()
        .returning(|_| Err(RepositoryError::Unavailable("down".into())));
    mocks
        .idempotency
        .expect_begin()
        .returning(|_, _, _, _| Ok(Claim::Acquired(claimed())));
    mocks.idempotency.expect_refuse().never();
    mocks
        .idempotency
        .expect_release()
        .times(1)
        .returning(|_| Ok(()));
    let (status, _, _) = call(mocks, create_request(Uuid::now_v7())).await;
    assert_eq!(status, 503);
}

/// A confirm of `order` with an `Idempotency-Key` (and `If-Match`, if given).
fn keyed_confirm(order: &Order, if_match: Option<&str>) -> test::TestRequest {
    let mut req = test::TestRequest::post()
        .uri(&format!("{ORDERS}/{}/confirm", order.id()))
        .insert_header(("Idempotency-Key", "key-1"));
    if let Some(tag) = if_match {
        req = req.insert_header((header::IF_MATCH, tag));
    }
    req
}

#[actix_web::test]
async fn a_412_releases_the_key_and_the_corrected_retry_is_another_request() {
    use std::sync::Mutex;
    let order = order_with_lines();
    let prints = Arc::new(Mutex::new(Vec::<String>::new()));
    let mut mocks = Mocks::new().stored(&order);
    let seen = prints.clone();
    mocks
        .idempotency
        .expect_begin()
        .returning(move |_, fingerprint, _, _| {
            seen.lock().unwrap().push(fingerprint.to_owned());
            Ok(Claim::Acquired(claimed()))
        });
    mocks.idempotency.expect_refuse().never();
    mocks
        .idempotency
        .expect_release()
        .withf(|claim| *claim == claimed())
        .times(1)
        .returning(|_| Ok(()));
    let app = test::init_service(App::new().configure(configure(mocks.state()))).await;
    let stale = test::call_service(&app, keyed_confirm(&order, Some("\"1\"")).to_request()).await;
    assert_eq!(stale.status(), 412, "the stale precondition is refused");
    let fresh = test::call_service(&app, keyed_confirm(&order, Some("\"3\"")).to_request()).await;
    assert_eq!(fresh.status(), 200, "the corrected retry runs");
    let prints = prints.lock().unwrap();
    assert_eq!(prints.len(), 2);
    assert_ne!(prints[0], prints[1], "If-Match is part of the fingerprint");
}

#[actix_web::test]
async fn a_conflict_that_asks_to_retry_releases_the_key_and_is_never_replayed() {
    let order = order_with_lines();
    let mut mocks = Mocks::new();
    let stored = order.clone();
    mocks
        .orders
        .expect_find_by_id()
        .returning(move |_| Ok(Some(stored.clone())));
    // Every attempt loses its race: the use case gives up with a retryable 409.
    mocks
        .orders
        .expect_update()
        .returning(|_, v, _| Err(RepositoryError::Conflict { expected: v }));
    mocks
        .idempotency
        .expect_begin()
        .returning(|_, _, _, _| Ok(Claim::Acquired(claimed())));
    mocks.idempotency.expect_refuse().never();
    mocks
        .idempotency
        .expect_release()
        .withf(|claim| *claim == claimed())
        .times(1)
        .returning(|_| Ok(()));
    let (status, headers, body) = call(mocks, keyed_confirm(&order, None)).await;
    problem(409, &headers, &body, "conflict");
    assert_eq!(status, 409);

    // A final conflict (the order is empty) is still recorded and replayed.
    let empty = pending_order();
    let mut mocks = Mocks::new().stored(&empty);
    mocks
        .idempotency
        .expect_begin()
        .returning(|_, _, _, _| Ok(Claim::Acquired(claimed())));
    mocks.idempotency.expect_release().never();
    mocks
        .idempotency
        .expect_refuse()
        .withf(|_, record| String::from_utf8_lossy(record).contains("order_empty"))
        .times(1)
        .returning(|_, _| Ok(()));
    let (status, _, _) = call(mocks, keyed_confirm(&empty, None)).await;
    assert_eq!(status, 409);
}

#[actix_web::test]
async fn a_claim_whose_release_failed_in_an_outage_is_usable_right_after_it() {
    use std::sync::atomic::{AtomicUsize, Ordering};
    let mut mocks = Mocks::new();
    mocks.directory.expect_exists().returning(|_| Ok(true));
    let numbers = Arc::new(AtomicUsize::new(0));
    mocks.numbers.expect_next_number().returning(move |y| {
        // The database is down for the first request only.
        if numbers.fetch_add(1, Ordering::SeqCst) == 0 {
            Err(RepositoryError::Unavailable("down".into()))
        } else {
            Ok(OrderNumber::new(y, 1).unwrap())
        }
    });
    mocks
        .orders
        .expect_insert()
        .times(1)
        .returning(|_, _| Ok(()));
    let mut order = mockall::Sequence::new();
    mocks
        .idempotency
        .expect_begin()
        .times(1)
        .in_sequence(&mut order)
        .returning(|_, _, _, _| Ok(Claim::Acquired(claimed())));
    // The outage also fails the release of the claim...
    mocks
        .idempotency
        .expect_release()
        .times(1)
        .in_sequence(&mut order)
        .returning(|_| Err(RepositoryError::Unavailable("down".into())));
    // ...which is retried, once the database is back, before the retry's claim.
    mocks
        .idempotency
        .expect_release()
        .withf(|claim| *claim == claimed())
        .times(1)
        .in_sequence(&mut order)
        .returning(|_| Ok(()));
    mocks
        .idempotency
        .expect_begin()
        .times(1)
        .in_sequence(&mut order)
        .returning(|_, _, _, _| Ok(Claim::Acquired(claimed())));
    mocks.idempotency.expect_refuse().never();
    let app = test::init_service(App::new().configure(configure(mocks.state()))).await;
    let customer = Uuid::now_v7();
    let first = test::call_service(&app, create_request(customer).to_request()).await;
    assert_eq!(first.status(), 503);
    let retry = test::call_service(&app, create_request(customer).to_request()).await;
    assert_eq!(
        retry.status(),
        201,
        "the retry is not stuck behind the lease"
    );
}

#[actix_web::test]
async fn malformed_idempotency_keys_are_400_and_gets_ignore_keys() {
    let mut mocks = Mocks::new();
    mocks.idempotency.expect_begin().never();
    let long = "k".repeat(256);
    let req = post_json(ORDERS, json!({})).insert_header(("Idempotency-Key", long.as_str()));
    let (status, headers, body) = call(mocks, req).await;
    assert_eq!(status, 400);
    problem(400, &headers, &body, "invalid_idempotency_key");

    let mut mocks = Mocks::new();
    mocks.idempotency.expect_begin().never();
    mocks.orders.expect_find_by_id().returning(|_| Ok(None));
    let req = test::TestRequest::get()
        .uri(&format!("{ORDERS}/{}", Uuid::now_v7()))
        .insert_header(("Idempotency-Key", "k"));
    assert_eq!(call(mocks, req).await.0, 404);
}
