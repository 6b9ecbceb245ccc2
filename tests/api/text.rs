//! One text rule everywhere people type: no NUL, control or bidi-override characters; the two
//! backends answer alike, and one bad row or note sinks nothing else.

use awc::http::StatusCode;
use serde_json::json;

use crate::both_backends;
use crate::helpers::{Backend, spawn_app, unique_email};

both_backends!(
    a_control_character_in_a_path_or_query_string_answers_alike_on_both_backends,
    typed_text_with_nul_control_or_bidi_characters_is_refused_naming_the_field,
    line_breaks_are_kept_where_text_spans_lines,
    a_nul_in_one_import_row_or_one_batch_note_sinks_nothing_else,
);

async fn a_control_character_in_a_path_or_query_string_answers_alike_on_both_backends(
    backend: Backend,
) {
    let app = spawn_app(backend).await;
    let (org, event) = app.organizer_with_event().await;
    let token = Some(org.access_token.as_str());
    for path in ["/v1/events/a%00b", &format!("/v1/events/{event}/attendees/x%0Ay/badge")] {
        let answer = app.get(path, token).await;
        assert_eq!(answer.status, StatusCode::NOT_FOUND, "{path}: {}", answer.body);
        assert_eq!(answer.problem_code(), "route_not_found", "{path}");
    }
    let query = app.get(&format!("/v1/events/{event}/connections?cursor=a%00b"), token).await;
    assert_eq!(query.status, StatusCode::BAD_REQUEST, "{}", query.body);
    assert_eq!(query.problem_code(), "invalid_query");
}

async fn typed_text_with_nul_control_or_bidi_characters_is_refused_naming_the_field(
    backend: Backend,
) {
    let app = spawn_app(backend).await;
    let (org, event) = app.organizer_with_event().await;
    let token = Some(org.access_token.as_str());
    let cases = [
        (
            "PATCH",
            format!("/v1/events/{event}"),
            json!({ "name": "Free prize!\r\nClaim now" }),
            "name",
        ),
        ("PATCH", format!("/v1/events/{event}"), json!({ "name": "Rust\u{0}Conf" }), "name"),
        (
            "PATCH",
            "/v1/me".to_owned(),
            json!({ "display_name": "Ada \u{202E}ecalevol" }),
            "display_name",
        ),
        ("PATCH", format!("/v1/events/{event}/me"), json!({ "bio": "a\u{0}b" }), "bio"),
        (
            "PATCH",
            format!("/v1/events/{event}/me"),
            json!({ "headline": "two\nlines" }),
            "headline",
        ),
        (
            "PUT",
            format!("/v1/events/{event}/topics"),
            json!({ "topics": [{ "slug": "rust", "name": "Ru\u{2066}st" }] }),
            "topics[0].name",
        ),
    ];
    for (method, path, body, field) in cases {
        let answer = match method {
            "PATCH" => app.patch(&path, token, &body).await,
            _ => app.put(&path, token, &body).await,
        };
        assert_eq!(
            answer.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{path} {body}: {}",
            answer.body
        );
        assert_eq!(answer.problem_code(), "validation_failed");
        assert_eq!(answer.body["errors"][0]["field"], field, "{}", answer.body);
    }
    let event_now = app.get(&format!("/v1/events/{event}"), token).await;
    assert!(!event_now.body["name"].as_str().unwrap().contains("prize"), "nothing was saved");

    let (_, event2, ada, bob) = app.event_with_two().await;
    let bob_code = app.badge_code(&bob, &event2).await;
    assert_eq!(app.scan(&ada, &event2, &bob_code).await.status, StatusCode::CREATED);
    let connection = &app.connections(&ada, &event2).await[0];
    let id = connection["connection_id"].as_str().unwrap();
    let note = app
        .post(
            &format!("/v1/events/{event2}/connections/{id}/notes"),
            Some(&ada.access_token),
            &json!({ "body": "met at \u{0} the door" }),
        )
        .await;
    assert_eq!(note.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", note.body);
    assert_eq!(note.body["errors"][0]["field"], "body");
    let tags = app
        .patch(
            &format!("/v1/events/{event2}/connections/{id}"),
            Some(&ada.access_token),
            &json!({ "tags": ["ok", "bad\u{7}"] }),
        )
        .await;
    assert_eq!(tags.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", tags.body);
    assert_eq!(tags.body["errors"][0]["field"], "tags[1]");
}

async fn line_breaks_are_kept_where_text_spans_lines(backend: Backend) {
    let app = spawn_app(backend).await;
    let (org, event) = app.organizer_with_event().await;
    let bio = "First line.\nSecond line.\tTabbed.";
    let patched = app
        .patch(&format!("/v1/events/{event}/me"), Some(&org.access_token), &json!({ "bio": bio }))
        .await;
    assert_eq!(patched.status, StatusCode::OK, "{}", patched.body);
    assert_eq!(patched.body["bio"], bio);
}

async fn a_nul_in_one_import_row_or_one_batch_note_sinks_nothing_else(backend: Backend) {
    let app = spawn_app(backend).await;
    let (org, event) = app.organizer_with_event().await;
    let (good, bad) = (unique_email("good"), unique_email("bad"));
    let csv = format!("email,name\n{good},Good\n{bad},Ba\u{0}d\n");
    let report = app.import_csv(&org, &event, csv.as_bytes()).await;
    assert_eq!(report.status, StatusCode::OK, "{}", report.body);
    let rows = report.body["rows"].as_array().unwrap();
    assert_eq!(
        (rows[0]["status"].as_str(), rows[1]["status"].as_str()),
        (Some("created"), Some("rejected"))
    );
    assert!(rows[1]["reason"].as_str().unwrap().contains("NUL"), "{}", rows[1]);

    let (_, event2, ada, bob) = app.event_with_two().await;
    let bob_code = app.badge_code(&bob, &event2).await;
    let at = chrono::Utc::now().to_rfc3339();
    let items = json!([
        { "client_scan_id": uuid::Uuid::new_v4().to_string(), "badge_code": bob_code, "scanned_at": at, "note": "bad\u{0}note" },
        { "client_scan_id": uuid::Uuid::new_v4().to_string(), "badge_code": bob_code, "scanned_at": at, "note": "good note" },
    ]);
    let batch = app.scan_batch(&ada, &event2, items).await;
    assert_eq!(batch.status, StatusCode::OK, "{}", batch.body);
    let statuses: Vec<_> =
        batch.body["results"].as_array().unwrap().iter().map(|r| r["status"].clone()).collect();
    assert_eq!(statuses, [json!("invalid"), json!("created")]);
}
