//! Probes, request ids, the docs page and the OpenAPI contract.

use awc::http::StatusCode;
use serde_json::Value;

use crate::both_backends;
use crate::helpers::{Backend, spawn_app};

both_backends!(
    health_and_readiness_answer_ok_with_a_request_id,
    the_docs_page_is_served_without_internet,
    the_served_openapi_document_matches_the_committed_file,
);

async fn health_and_readiness_answer_ok_with_a_request_id(backend: Backend) {
    let app = spawn_app(backend).await;
    for path in ["/healthz", "/readyz"] {
        let response = app.get(path, None).await;
        assert_eq!(response.status, StatusCode::OK, "{path}");
        assert_eq!(response.body["status"], "ok");
        let id = response.header("x-request-id").unwrap();
        assert!(uuid::Uuid::parse_str(id).is_ok(), "{id}");
    }
}

async fn the_docs_page_is_served_without_internet(backend: Backend) {
    let app = spawn_app(backend).await;
    let page = app.get("/docs/", None).await;
    assert_eq!(page.status, StatusCode::OK);
    let html = String::from_utf8_lossy(&page.raw).to_string();
    assert!(html.contains("swagger-ui"), "{html}");
    assert!(!html.contains("https://"), "the page must not load anything from the internet");
    let script = app.get("/docs/swagger-ui-bundle.js", None).await;
    assert_eq!(script.status, StatusCode::OK);
    assert!(script.raw.len() > 100_000, "the Swagger UI bundle is vendored");
}

async fn the_served_openapi_document_matches_the_committed_file(backend: Backend) {
    let app = spawn_app(backend).await;
    let served = app.get("/openapi.json", None).await.body;
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/openapi/hallway.json");
    let committed: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap_or_default())
        .unwrap_or(Value::Null);
    assert!(
        served == committed,
        "openapi/hallway.json is out of date with the code. Regenerate it with:\n\n    \
         cargo run --quiet -- openapi > openapi/hallway.json\n"
    );
    assert_eq!(served["openapi"], "3.1.0");
}
