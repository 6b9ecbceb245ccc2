//! Cross-origin calls (CORS): allowed origins, refused ones, preflights.

use awc::http::{Method, StatusCode};

use crate::both_backends;
use crate::helpers::{Backend, TestApp, spawn_app, spawn_app_configured};

both_backends!(
    an_allowed_origin_reads_answers_and_their_exposed_headers,
    a_preflight_from_an_allowed_origin_is_answered,
    an_origin_not_listed_gets_no_cors_headers_and_its_preflight_is_refused,
    without_configured_origins_no_cross_origin_call_is_allowed,
);

const APP: &str = "https://app.example.org";

async fn with_origins(backend: Backend) -> TestApp {
    spawn_app_configured(backend, |c| {
        c.cors_origins = vec![APP.to_owned(), "http://localhost:3000".to_owned()];
    })
    .await
}

/// (status, headers) of a request with `Origin: origin` and the extra headers.
async fn call(
    app: &TestApp,
    method: Method,
    path: &str,
    origin: &str,
    extra: &[(&str, &str)],
) -> (StatusCode, awc::http::header::HeaderMap) {
    let mut request = awc::Client::default()
        .request(method, format!("{}{path}", app.address))
        .insert_header(("Origin", origin));
    for (name, value) in extra {
        request = request.insert_header((*name, *value));
    }
    let response = request.send().await.expect("request failed");
    (response.status(), response.headers().clone())
}

fn header<'a>(headers: &'a awc::http::header::HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

fn preflight_of_post() -> [(&'static str, &'static str); 2] {
    [
        ("Access-Control-Request-Method", "POST"),
        ("Access-Control-Request-Headers", "authorization, content-type"),
    ]
}

async fn an_allowed_origin_reads_answers_and_their_exposed_headers(backend: Backend) {
    let app = with_origins(backend).await;
    let (status, headers) = call(&app, Method::GET, "/healthz", APP, &[]).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(header(&headers, "access-control-allow-origin"), Some(APP));
    let exposed = header(&headers, "access-control-expose-headers").unwrap().to_lowercase();
    assert!(exposed.contains("retry-after") && exposed.contains("x-request-id"), "{exposed}");
    assert_eq!(header(&headers, "access-control-allow-credentials"), None, "bearer tokens only");

    // Errors too, so that a web app can read the problem document.
    let (status, headers) = call(&app, Method::GET, "/v1/me", "http://localhost:3000", &[]).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(header(&headers, "access-control-allow-origin"), Some("http://localhost:3000"));
}

async fn a_preflight_from_an_allowed_origin_is_answered(backend: Backend) {
    let app = with_origins(backend).await;
    let (status, headers) =
        call(&app, Method::OPTIONS, "/v1/events", APP, &preflight_of_post()).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(header(&headers, "access-control-allow-origin"), Some(APP));
    let methods = header(&headers, "access-control-allow-methods").unwrap();
    assert!(methods.contains("POST"), "{methods}");
    let allowed = header(&headers, "access-control-allow-headers").unwrap().to_lowercase();
    assert!(allowed.contains("authorization") && allowed.contains("content-type"), "{allowed}");
    assert!(header(&headers, "access-control-max-age").is_some());
    assert_eq!(header(&headers, "access-control-allow-credentials"), None);
}

async fn an_origin_not_listed_gets_no_cors_headers_and_its_preflight_is_refused(backend: Backend) {
    let app = with_origins(backend).await;
    for origin in ["https://evil.example.org", "https://app.example.org.evil.example", "null"] {
        let (status, headers) = call(&app, Method::GET, "/healthz", origin, &[]).await;
        assert_eq!(status, StatusCode::OK, "answered, but the browser keeps it from the page");
        assert_eq!(header(&headers, "access-control-allow-origin"), None, "{origin}");
        let (status, headers) =
            call(&app, Method::OPTIONS, "/v1/events", origin, &preflight_of_post()).await;
        assert!(!status.is_success(), "{origin}: {status}");
        assert_eq!(header(&headers, "access-control-allow-origin"), None, "{origin}");
    }
}

async fn without_configured_origins_no_cross_origin_call_is_allowed(backend: Backend) {
    let app = spawn_app(backend).await;
    let (status, headers) = call(&app, Method::GET, "/healthz", APP, &[]).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(header(&headers, "access-control-allow-origin"), None);
    let (status, headers) =
        call(&app, Method::OPTIONS, "/v1/events", APP, &preflight_of_post()).await;
    assert!(!status.is_success(), "{status}");
    assert_eq!(header(&headers, "access-control-allow-origin"), None);
}
