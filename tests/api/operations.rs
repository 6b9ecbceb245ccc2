//! Probes, request ids, the docs page and the OpenAPI contract.

use std::time::Duration;

use awc::http::StatusCode;
use diesel::connection::SimpleConnection;
use futures_util::StreamExt;
use futures_util::stream::FuturesUnordered;
use serde_json::{Value, json};

use crate::both_backends;
use crate::helpers::{Backend, spawn_app, spawn_app_configured};

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

// SQLite alone has one writer with a queue; PostgreSQL writes on the pool.

#[actix_web::test]
async fn sqlite_refuses_writes_beyond_its_queue_with_503_and_commits_the_queued_ones() {
    const QUEUE: usize = 2;
    const WRITES: usize = 8;
    let app = spawn_app_configured(Backend::Sqlite, |c| c.sqlite_write_queue = QUEUE).await;
    let person = app.sign_in("busy").await;
    // Another connection holds the database's write lock: the writer waits for it with its first
    // write, and every later write can only queue.
    let mut holder = app.db.get().unwrap();
    holder.batch_execute("BEGIN IMMEDIATE").unwrap();

    let token = person.access_token.as_str();
    let bodies: Vec<Value> =
        (0..WRITES).map(|n| json!({ "display_name": format!("Name {n}") })).collect();
    let mut writes: FuturesUnordered<_> =
        bodies.iter().map(|body| app.patch("/v1/me", Some(token), body)).collect();
    // The writer runs one write and queues `QUEUE` (the mail worker may hold one of those
    // places): the others are refused at once, while the lock is still held.
    let mut refused = Vec::new();
    while refused.len() < WRITES - QUEUE - 1 {
        let response = tokio::time::timeout(Duration::from_secs(8), writes.next())
            .await
            .expect("writes beyond the queue are refused at once, not queued")
            .unwrap();
        assert_eq!(response.status, StatusCode::SERVICE_UNAVAILABLE, "{}", response.body);
        refused.push(response);
    }
    holder.batch_execute("ROLLBACK").unwrap();
    let mut accepted = 0;
    while let Some(response) = writes.next().await {
        match response.status {
            StatusCode::OK => accepted += 1,
            StatusCode::SERVICE_UNAVAILABLE => refused.push(response),
            other => panic!("{other}: {}", response.body),
        }
    }
    assert!((1..=QUEUE + 1).contains(&accepted), "{accepted} writes accepted");
    for response in &refused {
        assert_eq!(response.problem_code(), "overloaded");
        assert_eq!(response.header("retry-after"), Some("1"));
    }
    let me = app.get("/v1/me", Some(token)).await;
    assert!(me.body["display_name"].as_str().unwrap().starts_with("Name "), "{}", me.body);
}

#[actix_web::test]
async fn readiness_fails_once_sqlites_writer_has_stopped() {
    let app = spawn_app(Backend::Sqlite).await;
    let person = app.sign_in("late").await;
    assert_eq!(app.get("/readyz", None).await.status, StatusCode::OK);

    app.db.stop_writes();
    let ready = app.get("/readyz", None).await;
    assert_eq!(ready.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(ready.problem_code(), "database_unavailable");
    let write =
        app.patch("/v1/me", Some(&person.access_token), &json!({ "display_name": "Ada" })).await;
    assert_eq!(write.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(write.problem_code(), "database_unavailable");
    assert_eq!(app.get("/healthz", None).await.status, StatusCode::OK, "the process is up");
}
