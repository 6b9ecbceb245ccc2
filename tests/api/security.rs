//! Answers that must not be cached or sniffed, and a deployment that keeps secrets secret.

use std::time::{Duration, Instant};

use awc::http::StatusCode;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::both_backends;
use crate::helpers::{Backend, TestApp, spawn_app, spawn_app_configured};

both_backends!(tokens_and_personal_answers_are_never_cached_nor_sniffed);

async fn tokens_and_personal_answers_are_never_cached_nor_sniffed(backend: Backend) {
    let app = spawn_app(backend).await;
    let email = crate::helpers::unique_email("ada");
    app.request_code(&email).await;
    let code = app.nth_mail(&email, 1).await.sign_in_code().unwrap();
    let tokens = app.exchange(&email, &code).await;
    assert_eq!(tokens.status, StatusCode::OK, "{}", tokens.body);
    let token = tokens.body["access_token"].as_str().unwrap();
    let me = app.get("/v1/me", Some(token)).await;
    let missing = app.get("/v1/nowhere", None).await;
    for answer in [&tokens, &me, &missing] {
        assert_eq!(answer.header("cache-control"), Some("no-store"));
        assert_eq!(answer.header("x-content-type-options"), Some("nosniff"));
    }
}

both_backends!(
    a_body_that_arrives_too_slowly_is_answered_408_within_the_timeout,
    the_docs_page_is_served_only_when_enabled_but_the_openapi_document_always,
);

/// Sends a request head announcing `length` bytes of body, then `sent` of them, then nothing; returns
/// what the server answered and how long it took.
async fn stall_after(app: &TestApp, head: &str, length: usize, sent: &str) -> (String, Duration) {
    let address = app.address.trim_start_matches("http://");
    let mut stream = TcpStream::connect(address).await.unwrap();
    let started = Instant::now();
    let request = format!("{head}Content-Length: {length}\r\n\r\n{sent}");
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut answer = Vec::new();
    // The server must answer and close; the stalled request alone would never end.
    let read = tokio::time::timeout(Duration::from_secs(10), stream.read_to_end(&mut answer)).await;
    assert!(read.is_ok(), "no answer within 10 s: {}", String::from_utf8_lossy(&answer));
    (String::from_utf8_lossy(&answer).into_owned(), started.elapsed())
}

async fn a_body_that_arrives_too_slowly_is_answered_408_within_the_timeout(backend: Backend) {
    let timeout = Duration::from_millis(700);
    let app = spawn_app_configured(backend, |config| config.body_timeout = timeout).await;
    let organizer = app.sign_in("organizer").await;
    let event = app.create_event(&organizer, "slow-bodies").await;
    let event_id = event["id"].as_str().unwrap();
    let json_head = "POST /v1/auth/email-codes HTTP/1.1\r\nHost: hallway.test\r\n\
                     Content-Type: application/json\r\n";
    let import_head = format!(
        "POST /v1/events/{event_id}/attendee-imports HTTP/1.1\r\nHost: hallway.test\r\n\
         Authorization: Bearer {}\r\nContent-Type: text/csv\r\n",
        organizer.access_token
    );
    for (head, sent) in [(json_head, "{\"email\":"), (import_head.as_str(), "email,name\n")] {
        let (answer, elapsed) = stall_after(&app, head, 4096, sent).await;
        assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
        assert!(answer.contains("\"code\":\"request_timeout\""), "{answer}");
        assert!(answer.contains("application/problem+json"), "{answer}");
        assert!(elapsed >= timeout, "answered before the timeout: {elapsed:?}");
        assert!(elapsed < timeout + Duration::from_secs(5), "answered late: {elapsed:?}");
    }
    // A body that arrives in time is read as usual.
    let email = crate::helpers::unique_email("patient");
    assert_eq!(app.request_code(&email).await.status, StatusCode::ACCEPTED);
}

async fn the_docs_page_is_served_only_when_enabled_but_the_openapi_document_always(
    backend: Backend,
) {
    let development = spawn_app(backend).await;
    assert_eq!(development.get("/docs/", None).await.status, StatusCode::OK);
    let production = spawn_app_configured(backend, |config| config.docs = false).await;
    let docs = production.get("/docs/", None).await;
    assert_eq!(docs.status, StatusCode::NOT_FOUND);
    assert_eq!(docs.problem_code(), "route_not_found");
    let document = production.get("/openapi.json", None).await;
    assert_eq!(document.status, StatusCode::OK);
    assert_eq!(document.header("content-type"), Some("application/json"));
    assert_eq!(document.body["paths"], development.get("/openapi.json", None).await.body["paths"]);
}
