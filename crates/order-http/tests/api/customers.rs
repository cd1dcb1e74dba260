//! The customer API.

use crate::support::*;

const CUSTOMERS: &str = "/api/v1/customer-mgmt/customers";

#[actix_web::test]
async fn create_customer_as_in_the_description() {
    let mut mocks = Mocks::new();
    mocks
        .customers
        .expect_insert()
        .times(1)
        .returning(|_, _| Ok(()));
    let req = post_json(
        CUSTOMERS,
        json!({"name": "John Doe", "email": "john@example.com", "source": "web"}),
    );
    let (status, headers, body) = call(mocks, req).await;
    assert_eq!(status, 201, "{body}");
    let id = body["data"]["id"].as_str().unwrap();
    assert_eq!(
        headers.get(header::LOCATION).unwrap().to_str().unwrap(),
        format!("{CUSTOMERS}/{id}")
    );
    assert_eq!(body["data"]["email"], "john@example.com");
    assert_eq!(body["data"]["source"], "web");
}

#[actix_web::test]
async fn create_customer_rejections() {
    let cases = [
        (
            json!({"name": "", "email": "j@example.com"}),
            422,
            "validation_failed",
            "name",
        ),
        (
            json!({"name": "J", "email": "nope"}),
            422,
            "validation_failed",
            "email",
        ),
        (json!({"name": "J"}), 422, "invalid_body", "email"),
    ];
    for (body, status, code, field) in cases {
        let mut mocks = Mocks::new();
        mocks.customers.expect_insert().never();
        let (got, headers, problem_body) = call(mocks, post_json(CUSTOMERS, body.clone())).await;
        assert_eq!(got, status, "{body}");
        problem(status, &headers, &problem_body, code);
        assert_eq!(problem_body["field"], field);
    }
    let mut mocks = Mocks::new();
    mocks
        .customers
        .expect_insert()
        .returning(|_, _| Err(RepositoryError::Duplicate("email".into())));
    let (status, headers, body) = call(
        mocks,
        post_json(CUSTOMERS, json!({"name": "J", "email": "j@example.com"})),
    )
    .await;
    assert_eq!(status, 409);
    problem(409, &headers, &body, "conflict");
}

#[actix_web::test]
async fn get_and_list_customers() {
    let customer = Customer::create(
        CustomerId::from_uuid(Uuid::now_v7()),
        NewCustomer {
            name: "John Doe".into(),
            email: "john@example.com".into(),
            source: None,
        },
        now(),
    )
    .unwrap();
    let id = customer.id();
    let stored = customer.clone();
    let mut mocks = Mocks::new();
    mocks
        .customers
        .expect_find_by_id()
        .returning(move |i| Ok((i == id).then(|| stored.clone())));
    let (status, _, body) = call(
        mocks,
        test::TestRequest::get().uri(&format!("{CUSTOMERS}/{id}")),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(body["data"]["name"], "John Doe");

    let mut mocks = Mocks::new();
    mocks.customers.expect_find_by_id().returning(|_| Ok(None));
    let (status, headers, body) = call(
        mocks,
        test::TestRequest::get().uri(&format!("{CUSTOMERS}/{}", Uuid::now_v7())),
    )
    .await;
    assert_eq!(status, 404);
    problem(404, &headers, &body, "customer_not_found");

    let mut mocks = Mocks::new();
    mocks
        .customers
        .expect_list()
        .returning(move |p| Ok(Page::exact(vec![customer.clone()], p, 1)));
    let (status, _, body) = call(
        mocks,
        test::TestRequest::get().uri(&format!("{CUSTOMERS}?page=1&page_size=10")),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(body["pagination"]["total_items"], 1);
    assert_eq!(body["data"][0]["id"], id.to_string());
}

#[actix_web::test]
async fn a_malformed_x_actor_is_400_on_registration_too() {
    // Found by Schemathesis: the document declares X-Actor on every write.
    let mut mocks = Mocks::new();
    mocks.customers.expect_insert().never();
    let req = post_json(CUSTOMERS, json!({"name": "J", "email": "j@example.com"}))
        .insert_header(("X-Actor", "a".repeat(order_domain::Actor::MAX_CHARS + 1)));
    let (status, headers, body) = call(mocks, req).await;
    assert_eq!(status, 400, "{body}");
    problem(400, &headers, &body, "invalid_parameter");
    assert_eq!(body["field"], "X-Actor");
}
