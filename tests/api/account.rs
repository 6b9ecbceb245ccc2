//! `/v1/me`: reading and changing one's own account.

use awc::http::StatusCode;
use serde_json::json;

use crate::both_backends;
use crate::helpers::{Backend, spawn_app};

both_backends!(
    a_person_reads_sets_and_clears_their_display_name,
    an_invalid_account_change_is_rejected_and_changes_nothing,
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
