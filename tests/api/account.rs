//! `/v1/me`: reading and changing one's own account.

use awc::http::{Method, StatusCode};
use diesel::prelude::*;
use hallway::db::schema::{email_codes, outbox, sign_in_failures};
use serde_json::json;

use crate::both_backends;
use crate::helpers::{Backend, event_body, spawn_app, unique_slug};

both_backends!(
    a_person_reads_sets_and_clears_their_display_name,
    an_invalid_account_change_is_rejected_and_changes_nothing,
    a_deleted_accounts_tokens_can_neither_read_nor_write,
    deleting_an_account_deletes_its_mail_and_sign_in_records_at_once,
);

async fn a_person_reads_sets_and_clears_their_display_name(backend: Backend) {
    let app = spawn_app(backend).await;
    let ada = app.sign_in("ada").await;
    let token = Some(ada.access_token.as_str());
    assert_eq!(app.get("/v1/me", token).await.body["display_name"], json!(null));

    let named = app.patch("/v1/me", token, &json!({ "display_name": "  Ada Lovelace " })).await;
    assert_eq!(named.status, StatusCode::OK, "{}", named.body);
    assert_eq!(named.body["display_name"], "Ada Lovelace");
    assert_eq!(app.get("/v1/me", token).await.body["display_name"], "Ada Lovelace");

    let untouched = app.patch("/v1/me", token, &json!({})).await;
    assert_eq!(untouched.body["display_name"], "Ada Lovelace", "a field left out stays");

    let cleared = app.patch("/v1/me", token, &json!({ "display_name": null })).await;
    assert_eq!(cleared.body["display_name"], json!(null));
}

async fn an_invalid_account_change_is_rejected_and_changes_nothing(backend: Backend) {
    let app = spawn_app(backend).await;
    let ada = app.sign_in("ada").await;
    let token = Some(ada.access_token.as_str());
    app.patch("/v1/me", token, &json!({ "display_name": "Ada" })).await;

    for (body, status, code) in [
        (json!({ "display_name": "   " }), StatusCode::UNPROCESSABLE_ENTITY, "validation_failed"),
        (
            json!({ "display_name": "x".repeat(101) }),
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
        ),
        (json!({ "display_name": 42 }), StatusCode::BAD_REQUEST, "invalid_body"),
        (json!({ "email": "other@example.org" }), StatusCode::BAD_REQUEST, "invalid_body"),
    ] {
        let response = app.patch("/v1/me", token, &body).await;
        assert_eq!(response.status, status, "{body}");
        assert_eq!(response.problem_code(), code, "{body}");
    }
    let me = app.get("/v1/me", token).await;
    assert_eq!(me.body["display_name"], "Ada");
    assert_eq!(me.body["email"], ada.email.as_str());
}

async fn a_deleted_accounts_tokens_can_neither_read_nor_write(backend: Backend) {
    let app = spawn_app(backend).await;
    let (_, event_id, ada, bob) = app.event_with_two().await;
    let bob_code = app.badge_code(&bob, &event_id).await;
    let token = Some(ada.access_token.as_str());
    assert_eq!(app.get("/v1/events", token).await.status, StatusCode::OK);

    let deleted = app.send(Method::DELETE, "/v1/me", token, None).await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT, "{}", deleted.body);

    let read = app.get("/v1/events", token).await;
    assert_eq!(read.status, StatusCode::UNAUTHORIZED, "{}", read.body);
    assert_eq!(read.problem_code(), "invalid_token");
    let write = app.post("/v1/events", token, &event_body(&unique_slug("ghost"))).await;
    assert_eq!(write.status, StatusCode::UNAUTHORIZED, "{}", write.body);
    assert_eq!(write.problem_code(), "invalid_token");
    // The scan route checks the account within its membership lookup.
    let scan = app.scan(&ada, &event_id, &bob_code).await;
    assert_eq!(scan.status, StatusCode::UNAUTHORIZED, "{}", scan.body);
    assert_eq!(scan.problem_code(), "invalid_token");
    let item = json!({ "client_scan_id": uuid::Uuid::new_v4().to_string(), "badge_code": bob_code, "scanned_at": chrono::Utc::now().to_rfc3339() });
    let batch = app.scan_batch(&ada, &event_id, json!([item])).await;
    assert_eq!(batch.status, StatusCode::UNAUTHORIZED, "{}", batch.body);
    assert_eq!(batch.problem_code(), "invalid_token");
    // So do the starters.
    let bob_id = app.attendee_id(&bob, &event_id).await;
    let starters = format!("/v1/events/{event_id}/attendees/{bob_id}/starters");
    let starters = app.get(&starters, token).await;
    assert_eq!(starters.status, StatusCode::UNAUTHORIZED, "{}", starters.body);
    assert_eq!(starters.problem_code(), "invalid_token");
    let refreshed =
        app.post("/v1/auth/refresh", None, &json!({ "refresh_token": ada.refresh_token })).await;
    assert_eq!(refreshed.status, StatusCode::UNAUTHORIZED);
    assert_eq!(refreshed.problem_code(), "invalid_refresh_token");

    let still_there = app.scan(&bob, &event_id, &app.badge_code(&bob, &event_id).await).await;
    assert_eq!(still_there.problem_code(), "cannot_scan_self", "a live account's scans still run");
}

async fn deleting_an_account_deletes_its_mail_and_sign_in_records_at_once(backend: Backend) {
    let app = spawn_app(backend).await;
    let ada = app.sign_in("ada").await;
    let bob = app.sign_in("bob").await;
    assert_eq!(app.exchange(&ada.email, "not-it").await.status, StatusCode::BAD_REQUEST);
    assert_eq!(app.request_code(&ada.email).await.status, StatusCode::ACCEPTED);
    let rows = |email: &str| -> i64 {
        app.query(|conn| {
            let mail: i64 =
                outbox::table.filter(outbox::recipient.eq(email)).count().get_result(conn)?;
            let codes: i64 =
                email_codes::table.filter(email_codes::email.eq(email)).count().get_result(conn)?;
            let failures: i64 = sign_in_failures::table
                .filter(sign_in_failures::email.eq(email))
                .count()
                .get_result(conn)?;
            Ok(mail + codes + failures)
        })
    };
    assert_eq!(rows(&ada.email), 2 + 2 + 1);

    let deleted = app.send(Method::DELETE, "/v1/me", Some(&ada.access_token), None).await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT);
    assert_eq!(rows(&ada.email), 0, "sent and unsent mail, codes and wrong guesses are gone");
    assert_eq!(rows(&bob.email), 1 + 1, "another person's mail and code stay");
}
