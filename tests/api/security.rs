//! Answers that must not be cached or sniffed, and a deployment that keeps secrets secret.

use awc::http::StatusCode;

use crate::both_backends;
use crate::helpers::{Backend, spawn_app};

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
