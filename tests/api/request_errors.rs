//! Bodies that are not what an endpoint takes: each gets a problem+json answer naming the problem.

use awc::http::{Method, StatusCode};
use serde_json::json;

use crate::both_backends;
use crate::helpers::{Backend, spawn_app};

both_backends!(
    malformed_json_is_a_problem,
    a_body_that_is_not_json_is_refused_by_content_type,
    a_body_over_the_size_limit_is_refused,
    a_missing_or_unknown_field_is_named,
    an_unknown_route_is_a_problem,
);

async fn malformed_json_is_a_problem(backend: Backend) {
    let app = spawn_app(backend).await;
    let response = app
        .send(
            Method::POST,
            "/v1/auth/email-codes",
            None,
            Some(("application/json", b"{\"email\":".to_vec())),
        )
        .await;
    assert_eq!(response.status, StatusCode::BAD_REQUEST);
    assert_eq!(response.problem_code(), "malformed_json");
    assert_eq!(response.body["type"], "/problems/malformed_json");
}

async fn a_body_that_is_not_json_is_refused_by_content_type(backend: Backend) {
    let app = spawn_app(backend).await;
    let response = app
        .send(
            Method::POST,
            "/v1/auth/email-codes",
            None,
            Some(("text/plain", b"{\"email\":\"a@example.org\"}".to_vec())),
        )
        .await;
    assert_eq!(response.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert_eq!(response.problem_code(), "unsupported_media_type");
}

async fn a_body_over_the_size_limit_is_refused(backend: Backend) {
    let app = spawn_app(backend).await;
    let huge = json!({ "email": format!("{}@example.org", "a".repeat(70_000)) });
    let response = app.post("/v1/auth/email-codes", None, &huge).await;
    assert_eq!(response.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(response.problem_code(), "payload_too_large");
}

async fn a_missing_or_unknown_field_is_named(backend: Backend) {
    let app = spawn_app(backend).await;
    let missing = app.post("/v1/auth/tokens", None, &json!({ "email": "a@example.org" })).await;
    assert_eq!(missing.status, StatusCode::BAD_REQUEST);
    assert_eq!(missing.problem_code(), "invalid_body");
    assert!(
        missing.body["detail"].as_str().unwrap().contains("missing field `code`"),
        "{}",
        missing.body
    );

    let unknown = app
        .post("/v1/auth/email-codes", None, &json!({ "email": "a@example.org", "admin": true }))
        .await;
    assert_eq!(unknown.status, StatusCode::BAD_REQUEST);
    assert!(
        unknown.body["detail"].as_str().unwrap().contains("unknown field `admin`"),
        "{}",
        unknown.body
    );

    let wrong_shape = app.post("/v1/auth/email-codes", None, &json!(["a@example.org"])).await;
    assert_eq!(wrong_shape.status, StatusCode::BAD_REQUEST);
    assert_eq!(wrong_shape.problem_code(), "invalid_body");
}

async fn an_unknown_route_is_a_problem(backend: Backend) {
    let app = spawn_app(backend).await;
    let response = app.get("/v1/nothing-here", None).await;
    assert_eq!(response.status, StatusCode::NOT_FOUND);
    assert_eq!(response.problem_code(), "route_not_found");
}
