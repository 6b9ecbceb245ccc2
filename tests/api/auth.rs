//! Passwordless sign-in, refresh-token rotation and access-token checks.

use awc::http::StatusCode;
use chrono::Utc;
use diesel::prelude::*;
use hallway::db::schema::{email_codes, outbox};
use hallway::domain::tokens::{JWT_SIGNING, derive_key};
use jsonwebtoken::{EncodingKey, Header, encode};
use serde_json::json;

use crate::both_backends;
use crate::helpers::{Backend, JWT_SECRET, spawn_app, unique_email};

both_backends!(
    signing_in_with_an_emailed_code_creates_the_account_and_returns_tokens,
    the_sign_in_request_answers_alike_for_known_and_unknown_addresses,
    a_code_works_only_once,
    an_expired_code_is_refused,
    too_many_code_requests_for_one_email_from_one_address_get_429_with_retry_after,
    too_many_code_requests_from_one_address_get_429,
    an_invalid_email_is_rejected_and_nothing_is_sent,
    refreshing_rotates_the_refresh_token,
    a_refresh_token_used_twice_revokes_its_whole_family,
    a_refresh_token_raced_by_two_devices_works_once,
    signing_out_revokes_the_refresh_token,
    a_request_without_a_token_is_unauthenticated,
    an_expired_access_token_is_refused,
    a_forged_access_token_is_refused,
    an_access_token_for_another_audience_is_refused,
    an_access_token_signed_with_the_raw_secret_instead_of_its_derived_key_is_refused,
);

async fn signing_in_with_an_emailed_code_creates_the_account_and_returns_tokens(backend: Backend) {
    let app = spawn_app(backend).await;
    let email = unique_email("ada");

    let requested = app.request_code(&email.to_uppercase()).await;
    assert_eq!(requested.status, StatusCode::ACCEPTED);
    let mail = app.nth_mail(&email, 1).await;
    let code = mail.sign_in_code().unwrap();
    assert_eq!(mail.subject(), Some(format!("Your Hallway sign-in code: {code}").as_str()));

    let signed_in = app.exchange(&email, &code).await;
    assert_eq!(signed_in.status, StatusCode::OK, "{}", signed_in.body);
    assert_eq!(signed_in.body["token_type"], "Bearer");
    assert_eq!(signed_in.body["expires_in"], 900);
    let token = signed_in.body["access_token"].as_str().unwrap();
    let me = app.get("/v1/me", Some(token)).await;
    assert_eq!(me.status, StatusCode::OK);
    assert_eq!(me.body["email"], email.as_str());
    assert_eq!(me.body["id"], signed_in.body["account_id"]);
}

async fn the_sign_in_request_answers_alike_for_known_and_unknown_addresses(backend: Backend) {
    let app = spawn_app(backend).await;
    let known = app.sign_in("known").await;
    let for_known = app.request_code(&known.email).await;
    let for_unknown = app.request_code(&unique_email("unknown")).await;
    assert_eq!(for_known.status, StatusCode::ACCEPTED);
    assert_eq!(for_unknown.status, for_known.status);
    assert_eq!(for_unknown.raw, for_known.raw);
}

async fn a_code_works_only_once(backend: Backend) {
    let app = spawn_app(backend).await;
    let email = unique_email("once");
    app.request_code(&email).await;
    let code = app.nth_mail(&email, 1).await.sign_in_code().unwrap();
    assert_eq!(app.exchange(&email, &code).await.status, StatusCode::OK);

    let again = app.exchange(&email, &code).await;
    assert_eq!(again.status, StatusCode::BAD_REQUEST);
    assert_eq!(again.problem_code(), "invalid_code");
}

async fn an_expired_code_is_refused(backend: Backend) {
    let app = spawn_app(backend).await;
    let email = unique_email("late");
    app.request_code(&email).await;
    let code = app.nth_mail(&email, 1).await.sign_in_code().unwrap();
    let past = Utc::now().naive_utc() - chrono::Duration::seconds(1);
    app.query(|conn| {
        diesel::update(email_codes::table.filter(email_codes::email.eq(&email)))
            .set(email_codes::expires_at.eq(past))
            .execute(conn)
    });

    let response = app.exchange(&email, &code).await;
    assert_eq!(response.status, StatusCode::BAD_REQUEST);
    assert_eq!(response.problem_code(), "code_expired");
}

async fn too_many_code_requests_for_one_email_from_one_address_get_429_with_retry_after(
    backend: Backend,
) {
    let app = spawn_app(backend).await;
    let email = unique_email("eager");
    for _ in 0..5 {
        assert_eq!(app.request_code(&email).await.status, StatusCode::ACCEPTED);
    }

    let limited = app.request_code(&email).await;
    assert_eq!(limited.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(limited.problem_code(), "rate_limited");
    let retry_after: u64 = limited.header("retry-after").unwrap().parse().unwrap();
    assert!((1..=15 * 60 + 1).contains(&retry_after), "Retry-After {retry_after}");
    let queued = app.query(|conn| {
        outbox::table.filter(outbox::recipient.eq(&email)).count().get_result::<i64>(conn)
    });
    assert_eq!(queued, 5, "the refused request queued no email");
}

async fn too_many_code_requests_from_one_address_get_429(backend: Backend) {
    let app = spawn_app(backend).await;
    for i in 0..30 {
        let response = app.request_code(&unique_email(&format!("crowd{i}"))).await;
        assert_eq!(response.status, StatusCode::ACCEPTED, "request {i}");
    }
    let limited = app.request_code(&unique_email("one-too-many")).await;
    assert_eq!(limited.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(limited.problem_code(), "rate_limited");
    assert!(limited.header("retry-after").is_some());
}

async fn an_invalid_email_is_rejected_and_nothing_is_sent(backend: Backend) {
    let app = spawn_app(backend).await;
    for bad in ["", "not-an-email", "ada@localhost", "a b@example.org"] {
        let response = app.request_code(bad).await;
        assert_eq!(response.status, StatusCode::UNPROCESSABLE_ENTITY, "{bad:?}");
        assert_eq!(response.problem_code(), "validation_failed");
        assert_eq!(response.body["errors"][0]["field"], "email");
    }
    let rows = app.query(|conn| email_codes::table.count().get_result::<i64>(conn))
        + app.query(|conn| outbox::table.count().get_result::<i64>(conn));
    assert_eq!(rows, 0);
}

async fn refreshing_rotates_the_refresh_token(backend: Backend) {
    let app = spawn_app(backend).await;
    let session = app.sign_in("rotator").await;

    let refreshed = app
        .post("/v1/auth/refresh", None, &json!({ "refresh_token": session.refresh_token }))
        .await;
    assert_eq!(refreshed.status, StatusCode::OK, "{}", refreshed.body);
    let new_refresh = refreshed.body["refresh_token"].as_str().unwrap();
    assert_ne!(new_refresh, session.refresh_token);
    let me = app.get("/v1/me", refreshed.body["access_token"].as_str()).await;
    assert_eq!(me.body["id"], session.account_id.as_str());

    let next = app.post("/v1/auth/refresh", None, &json!({ "refresh_token": new_refresh })).await;
    assert_eq!(next.status, StatusCode::OK, "the rotated token works once too");
}

async fn a_refresh_token_used_twice_revokes_its_whole_family(backend: Backend) {
    let app = spawn_app(backend).await;
    let session = app.sign_in("victim").await;
    let first = app
        .post("/v1/auth/refresh", None, &json!({ "refresh_token": session.refresh_token }))
        .await;
    let successor = first.body["refresh_token"].as_str().unwrap().to_owned();

    let replay = app
        .post("/v1/auth/refresh", None, &json!({ "refresh_token": session.refresh_token }))
        .await;
    assert_eq!(replay.status, StatusCode::UNAUTHORIZED);
    assert_eq!(replay.problem_code(), "refresh_token_reused");

    let successor_used =
        app.post("/v1/auth/refresh", None, &json!({ "refresh_token": successor })).await;
    assert_eq!(successor_used.status, StatusCode::UNAUTHORIZED);
    assert_eq!(successor_used.problem_code(), "invalid_refresh_token");
}

async fn a_refresh_token_raced_by_two_devices_works_once(backend: Backend) {
    let app = spawn_app(backend).await;
    let session = app.sign_in("racer").await;
    let body = json!({ "refresh_token": session.refresh_token });
    let (a, b) = tokio::join!(
        app.post("/v1/auth/refresh", None, &body),
        app.post("/v1/auth/refresh", None, &body)
    );
    let statuses = [a.status, b.status];
    assert_eq!(statuses.iter().filter(|s| **s == StatusCode::OK).count(), 1, "{statuses:?}");
    assert!(statuses.contains(&StatusCode::UNAUTHORIZED));
}

async fn signing_out_revokes_the_refresh_token(backend: Backend) {
    let app = spawn_app(backend).await;
    let session = app.sign_in("leaver").await;
    let body = json!({ "refresh_token": session.refresh_token });

    assert_eq!(app.post("/v1/auth/logout", None, &body).await.status, StatusCode::NO_CONTENT);
    assert_eq!(
        app.post("/v1/auth/logout", None, &body).await.status,
        StatusCode::NO_CONTENT,
        "idempotent"
    );
    let refreshed = app.post("/v1/auth/refresh", None, &body).await;
    assert_eq!(refreshed.status, StatusCode::UNAUTHORIZED);
    assert_eq!(refreshed.problem_code(), "invalid_refresh_token");
}

async fn a_request_without_a_token_is_unauthenticated(backend: Backend) {
    let app = spawn_app(backend).await;
    let response = app.get("/v1/me", None).await;
    assert_eq!(response.status, StatusCode::UNAUTHORIZED);
    assert_eq!(response.problem_code(), "unauthenticated");
    assert_eq!(response.header("www-authenticate"), Some("Bearer"));
}

/// A token signed with the key the server derives from `secret` for signing.
fn token(secret: &str, sub: &str, aud: &str, exp_offset_secs: i64) -> String {
    token_with_key(&derive_key(secret.as_bytes(), JWT_SIGNING), sub, aud, exp_offset_secs)
}

fn token_with_key(key: &[u8], sub: &str, aud: &str, exp_offset_secs: i64) -> String {
    let now = Utc::now().timestamp();
    let claims = json!({ "sub": sub, "aud": aud, "iss": "hallway", "iat": now, "exp": now + exp_offset_secs });
    encode(&Header::default(), &claims, &EncodingKey::from_secret(key)).unwrap()
}

async fn an_expired_access_token_is_refused(backend: Backend) {
    let app = spawn_app(backend).await;
    let session = app.sign_in("expired").await;
    let expired = token(JWT_SECRET, &session.account_id, "hallway-api", -3600);
    let response = app.get("/v1/me", Some(&expired)).await;
    assert_eq!(response.status, StatusCode::UNAUTHORIZED);
    assert_eq!(response.problem_code(), "token_expired");
    let fresh = token(JWT_SECRET, &session.account_id, "hallway-api", 600);
    assert_eq!(
        app.get("/v1/me", Some(&fresh)).await.status,
        StatusCode::OK,
        "the same claims, unexpired, work"
    );
}

async fn a_forged_access_token_is_refused(backend: Backend) {
    let app = spawn_app(backend).await;
    let session = app.sign_in("forged").await;
    let forged = token(
        "another-secret-that-is-long-enough-to-sign",
        &session.account_id,
        "hallway-api",
        600,
    );
    let response = app.get("/v1/me", Some(&forged)).await;
    assert_eq!(response.status, StatusCode::UNAUTHORIZED);
    assert_eq!(response.problem_code(), "invalid_token");
    let garbage = app.get("/v1/me", Some("not.a.jwt")).await;
    assert_eq!(garbage.problem_code(), "invalid_token");
}

async fn an_access_token_for_another_audience_is_refused(backend: Backend) {
    let app = spawn_app(backend).await;
    let session = app.sign_in("audience").await;
    let other = token(JWT_SECRET, &session.account_id, "some-other-api", 600);
    let response = app.get("/v1/me", Some(&other)).await;
    assert_eq!(response.status, StatusCode::UNAUTHORIZED);
    assert_eq!(response.problem_code(), "invalid_token");
}

async fn an_access_token_signed_with_the_raw_secret_instead_of_its_derived_key_is_refused(
    backend: Backend,
) {
    let app = spawn_app(backend).await;
    let session = app.sign_in("raw").await;
    let raw = token_with_key(JWT_SECRET.as_bytes(), &session.account_id, "hallway-api", 600);
    let response = app.get("/v1/me", Some(&raw)).await;
    assert_eq!(response.status, StatusCode::UNAUTHORIZED);
    assert_eq!(response.problem_code(), "invalid_token");
    let derived = token(JWT_SECRET, &session.account_id, "hallway-api", 600);
    assert_eq!(app.get("/v1/me", Some(&derived)).await.status, StatusCode::OK);
}
