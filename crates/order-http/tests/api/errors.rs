//! Infrastructure failures, unknown routes and methods: the problem+json edge.

use crate::support::*;

#[actix_web::test]
async fn an_unavailable_database_is_503_with_retry_after_and_no_details() {
    let mut mocks = Mocks::new();
    mocks.orders.expect_find_by_id().returning(|_| {
        Err(RepositoryError::Unavailable(
            "connection refused to 10.0.0.5:5432".into(),
        ))
    });
    let (status, headers, body) = call(
        mocks,
        test::TestRequest::get().uri(&format!("{ORDERS}/{}", Uuid::now_v7())),
    )
    .await;
    assert_eq!(status, 503);
    problem(503, &headers, &body, "service_unavailable");
    assert!(headers.get(header::RETRY_AFTER).is_some());
    assert!(!body.to_string().contains("10.0.0.5"));
}

#[actix_web::test]
async fn an_unexpected_storage_error_is_500_without_sql() {
    let mut mocks = Mocks::new();
    mocks
        .orders
        .expect_find_by_id()
        .returning(|_| Err(RepositoryError::Unexpected("syntax error at SELECT".into())));
    let (status, headers, body) = call(
        mocks,
        test::TestRequest::get().uri(&format!("{ORDERS}/{}", Uuid::now_v7())),
    )
    .await;
    assert_eq!(status, 500);
    problem(500, &headers, &body, "internal_error");
    assert!(!body.to_string().contains("SELECT"));
}

#[actix_web::test]
async fn unknown_routes_are_problem_json_404() {
    let (status, headers, body) = call(
        Mocks::new(),
        test::TestRequest::get().uri("/api/v1/nothing"),
    )
    .await;
    assert_eq!(status, 404);
    problem(404, &headers, &body, "route_not_found");
}

#[actix_web::test]
async fn a_known_path_with_another_method_is_405_naming_the_allowed_ones() {
    let id = Uuid::now_v7();
    let cases = [
        (
            actix_web::http::Method::PUT,
            format!("{ORDERS}/{id}"),
            "GET, HEAD, DELETE",
        ),
        (
            actix_web::http::Method::GET,
            format!("{ORDERS}/{id}/confirm"),
            "POST",
        ),
        (
            actix_web::http::Method::PATCH,
            ORDERS.to_owned(),
            "POST, GET, HEAD",
        ),
        (
            actix_web::http::Method::POST,
            format!("{ORDERS}/{id}/lines/{id}"),
            "PUT, DELETE",
        ),
        (
            actix_web::http::Method::TRACE,
            "/health".to_owned(),
            "GET, HEAD",
        ),
        (
            actix_web::http::Method::DELETE,
            "/metrics".to_owned(),
            "GET, HEAD",
        ),
    ];
    for (method, uri, allowed) in cases {
        let req = test::TestRequest::default()
            .method(method.clone())
            .uri(&uri);
        let (status, headers, body) = call(Mocks::new(), req).await;
        assert_eq!(status, 405, "{method} {uri}: {body}");
        problem(405, &headers, &body, "method_not_allowed");
        assert_eq!(
            headers.get(header::ALLOW).unwrap(),
            allowed,
            "{method} {uri}"
        );
    }
}
