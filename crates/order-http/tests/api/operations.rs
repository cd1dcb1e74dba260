//! Health, readiness, request ids, metrics and the API document.

use crate::support::*;

#[actix_web::test]
async fn health_is_always_ok_and_ready_follows_the_database() {
    let (status, _, body) = call(Mocks::new(), test::TestRequest::get().uri("/health")).await;
    assert_eq!((status, body["status"].as_str()), (200, Some("ok")));

    let mut mocks = Mocks::new();
    mocks.health.expect_check().returning(|| Ok(()));
    let (status, _, body) = call(mocks, test::TestRequest::get().uri("/ready")).await;
    assert_eq!((status, body["status"].as_str()), (200, Some("ready")));

    let mut mocks = Mocks::new();
    mocks
        .health
        .expect_check()
        .returning(|| Err(RepositoryError::Unavailable("refused".into())));
    let (status, headers, body) = call(mocks, test::TestRequest::get().uri("/ready")).await;
    assert_eq!(status, 503);
    problem(503, &headers, &body, "service_unavailable");

    // A schema behind this build's migrations is not ready either.
    let mut mocks = Mocks::new();
    mocks.health.expect_check().returning(|| {
        Err(RepositoryError::Unexpected(
            "3 of 4 migrations applied".into(),
        ))
    });
    let (status, headers, body) = call(mocks, test::TestRequest::get().uri("/ready")).await;
    assert_eq!(status, 503);
    problem(503, &headers, &body, "service_unavailable");
    assert!(!body.to_string().contains("migrations"), "{body}");
}

#[actix_web::test]
async fn request_ids_are_echoed_or_generated() {
    let req = test::TestRequest::get()
        .uri("/health")
        .insert_header(("x-request-id", "abc-123"));
    let (_, headers, _) = call(Mocks::new(), req).await;
    assert_eq!(headers.get("x-request-id").unwrap(), "abc-123");
    let req = test::TestRequest::get()
        .uri("/health")
        .insert_header(("x-request-id", "bad id with spaces"));
    let (_, headers, _) = call(Mocks::new(), req).await;
    let generated = headers.get("x-request-id").unwrap().to_str().unwrap();
    assert!(Uuid::parse_str(generated).is_ok(), "{generated}");
}

#[actix_web::test]
async fn metrics_count_requests_by_route_template_and_transitions() {
    let order = order_with_lines();
    let mut mocks = Mocks::new().stored(&order);
    mocks.health.expect_pool_stats().returning(|| PoolStats {
        max_size: 8,
        connections: 3,
        idle: 1,
        waits_total: 2,
        timeouts_total: 0,
    });
    let app = test::init_service(
        App::new()
            .wrap(from_fn(observe_request))
            .configure(configure(mocks.state())),
    )
    .await;
    let confirm = test::TestRequest::post()
        .uri(&format!("{ORDERS}/{}/confirm", order.id()))
        .to_request();
    assert_eq!(test::call_service(&app, confirm).await.status(), 200);
    let get = test::TestRequest::get()
        .uri(&format!("{ORDERS}/{}", order.id()))
        .to_request();
    assert_eq!(test::call_service(&app, get).await.status(), 200);
    let response =
        test::call_service(&app, test::TestRequest::get().uri("/metrics").to_request()).await;
    assert_eq!(response.status(), 200);
    let text = String::from_utf8(test::read_body(response).await.to_vec()).unwrap();
    assert!(
        text.contains(r#"http_requests_total{method="POST",route="/api/v1/order-mgmt/orders/{id}/confirm",status="200"} 1"#),
        "{text}"
    );
    assert!(text.contains(
        r#"http_requests_total{method="GET",route="/api/v1/order-mgmt/orders/{id}",status="200"} 1"#
    ));
    assert!(text.contains(r#"order_transitions_total{kind="confirm"} 1"#));
    assert!(text.contains(r#"db_pool_connections{state="in_use"} 2"#));
    assert!(text.contains("http_request_duration_seconds_bucket"));
}

#[actix_web::test]
async fn the_openapi_document_and_swagger_ui_are_served() {
    let (status, _, body) = call(
        Mocks::new(),
        test::TestRequest::get().uri("/api-docs/openapi.json"),
    )
    .await;
    assert_eq!(status, 200);
    assert!(body["paths"]["/api/v1/order-mgmt/orders"]["post"].is_object());
    let app = test::init_service(App::new().configure(configure(Mocks::new().state()))).await;
    let response =
        test::call_service(&app, test::TestRequest::get().uri("/docs/").to_request()).await;
    assert_eq!(response.status(), 200);
    let html = String::from_utf8(test::read_body(response).await.to_vec()).unwrap();
    assert!(html.contains("swagger-ui"), "{html}");
}
