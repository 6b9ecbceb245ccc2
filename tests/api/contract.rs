//! The contract generated clients rely on: 405 with `Allow`, integers written as `5.0`, the last
//! page without `next_cursor`, `attendee_ids` as a repeated parameter, the docs page's address, the
//! CSV import as a file upload.

use awc::http::{Method, StatusCode};
use serde_json::json;

use crate::both_backends;
use crate::helpers::{Backend, event_body, spawn_app, unique_slug};

both_backends!(
    a_wrong_method_on_a_known_path_answers_405_with_allow,
    integers_written_with_a_zero_fraction_are_integers_and_fractions_are_refused,
    the_last_page_leaves_next_cursor_out,
    attendee_ids_may_be_repeated_or_separated_by_commas,
    the_docs_page_is_reached_without_the_slash_and_validates_nothing_elsewhere,
    a_csv_file_uploaded_as_octet_stream_imports_as_text_csv_does,
    a_malformed_form_answers_problem_json,
);

async fn a_wrong_method_on_a_known_path_answers_405_with_allow(backend: Backend) {
    let app = spawn_app(backend).await;
    let (org, event) = app.organizer_with_event().await;
    let token = Some(org.access_token.as_str());

    let put = app.send(Method::PUT, "/v1/events", token, None).await;
    assert_eq!(put.status, StatusCode::METHOD_NOT_ALLOWED, "{}", put.body);
    assert_eq!(put.problem_code(), "method_not_allowed");
    assert_eq!(put.header("allow"), Some("GET, POST"));

    let health = app.send(Method::DELETE, "/healthz", None, None).await;
    assert_eq!(health.status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(health.header("allow"), Some("GET"));

    let event_path = format!("/v1/events/{event}");
    let post = app.send(Method::POST, &event_path, token, None).await;
    assert_eq!(post.status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(post.header("allow"), Some("GET, PATCH, DELETE"));

    // A parameter with a literal suffix: only `.vcf` paths take the vCard's method.
    let vcf = app.send(Method::DELETE, "/v1/me/connections.vcf", token, None).await;
    assert_eq!(vcf.header("allow"), Some("GET"));

    let unknown = app.send(Method::DELETE, "/v1/nothing-here", token, None).await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
    assert_eq!(unknown.problem_code(), "route_not_found");
}

async fn integers_written_with_a_zero_fraction_are_integers_and_fractions_are_refused(
    backend: Backend,
) {
    let app = spawn_app(backend).await;
    let (_, event, ada, bob) = app.event_with_two().await;
    let code = app.badge_code(&bob, &event).await;
    let scan = |rating: serde_json::Value| {
        json!({
            "client_scan_id": uuid::Uuid::new_v4().to_string(),
            "badge_code": code,
            "scanned_at": chrono::Utc::now().to_rfc3339(),
            "rating": rating,
        })
    };

    let half = app.scan_with(&ada, &event, scan(json!(4.5))).await;
    assert_eq!(half.status, StatusCode::BAD_REQUEST, "{}", half.body);
    assert_eq!(half.problem_code(), "invalid_body");
    let whole = app.scan_with(&ada, &event, scan(json!(5.0))).await;
    assert_eq!(whole.status, StatusCode::CREATED, "{}", whole.body);
    assert_eq!(whole.body["connection"]["rating"], 5);
    let six = app.scan_with(&ada, &event, scan(json!(6.0))).await;
    assert_eq!(six.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", six.body);
    assert_eq!(six.problem_code(), "validation_failed");

    let organizer = app.sign_in("org2").await;
    let mut body = event_body(&unique_slug("whole"));
    body["follow_up_window_days"] = json!(7.0);
    let created = app.post("/v1/events", Some(&organizer.access_token), &body).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    assert_eq!(created.body["follow_up_window_days"], 7);
    body["slug"] = json!(unique_slug("fraction"));
    body["follow_up_window_days"] = json!(7.5);
    let refused = app.post("/v1/events", Some(&organizer.access_token), &body).await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{}", refused.body);
    assert_eq!(refused.problem_code(), "invalid_body");
}

async fn the_last_page_leaves_next_cursor_out(backend: Backend) {
    let app = spawn_app(backend).await;
    let (org, _) = app.organizer_with_event().await;
    app.create_event(&org, &unique_slug("second")).await;
    let token = Some(org.access_token.as_str());

    let first = app.get("/v1/events?limit=1", token).await;
    assert_eq!(first.status, StatusCode::OK, "{}", first.body);
    let cursor = first.body["next_cursor"].as_str().expect("a cursor on the first page");
    let last = app.get(&format!("/v1/events?limit=1&cursor={cursor}"), token).await;
    assert_eq!(last.status, StatusCode::OK, "{}", last.body);
    assert_eq!(last.body["items"].as_array().unwrap().len(), 1);
    assert!(last.body.as_object().unwrap().get("next_cursor").is_none(), "{}", last.body);
}

async fn attendee_ids_may_be_repeated_or_separated_by_commas(backend: Backend) {
    let app = spawn_app(backend).await;
    let (org, event, _, _) = app.event_with_two().await;
    let token = Some(org.access_token.as_str());
    let list = app.get(&format!("/v1/events/{event}/attendees"), token).await;
    assert_eq!(list.status, StatusCode::OK, "{}", list.body);
    let ids: Vec<String> = list.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["attendee_id"].as_str().or(a["id"].as_str()).unwrap().to_owned())
        .collect();
    assert!(ids.len() >= 2, "{}", list.body);
    let sheet = format!("/v1/events/{event}/badge-sheet");

    let repeated =
        app.get(&format!("{sheet}?attendee_ids={}&attendee_ids={}", ids[0], ids[1]), token).await;
    assert_eq!(repeated.status, StatusCode::OK, "{}", repeated.body);
    assert_eq!(repeated.header("x-total-count"), Some("2"));
    let commas = app.get(&format!("{sheet}?attendee_ids={},{}", ids[0], ids[1]), token).await;
    assert_eq!(commas.status, StatusCode::OK);
    assert_eq!(commas.header("x-total-count"), Some("2"));
    let one = app.get(&format!("{sheet}?attendee_ids={}&paper=letter", ids[0]), token).await;
    assert_eq!(one.header("x-total-count"), Some("1"));

    let bad = app.get(&format!("{sheet}?attendee_ids={}&attendee_ids=nope", ids[0]), token).await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", bad.body);
    assert_eq!(bad.problem_code(), "validation_failed");
    let malformed = app.get(&format!("{sheet}?per_page=many"), token).await;
    assert_eq!(malformed.status, StatusCode::BAD_REQUEST, "{}", malformed.body);
    assert_eq!(malformed.problem_code(), "invalid_query");
}

async fn the_docs_page_is_reached_without_the_slash_and_validates_nothing_elsewhere(
    backend: Backend,
) {
    let app = spawn_app(backend).await;
    // The test client follows the redirect (308 to `/docs/`) to the page.
    let bare = app.get("/docs", None).await;
    assert_eq!(bare.status, StatusCode::OK);
    assert!(String::from_utf8_lossy(&bare.raw).contains("swagger-ui"));
    let config = app.get("/docs/swagger-initializer.js", None).await;
    assert_eq!(config.status, StatusCode::OK);
    let script = String::from_utf8_lossy(&config.raw);
    assert!(script.contains(r#""validatorUrl": "none""#), "{script}");
}

/// openapi-python-client sends no raw body but `application/octet-stream`: the CSV upload takes
/// the file under that type as under `text/csv`, and refuses other types and JSON.
async fn a_csv_file_uploaded_as_octet_stream_imports_as_text_csv_does(backend: Backend) {
    let app = spawn_app(backend).await;
    let (org, event) = app.organizer_with_event().await;
    let path = format!("/v1/events/{event}/attendee-imports/csv");
    let token = Some(org.access_token.as_str());
    let csv = b"email,name\nada@example.org,Ada Lovelace\nnot-an-email,Bob\n".to_vec();

    let upload = |media_type: &'static str, body: Vec<u8>| {
        app.send(Method::POST, &path, token, Some((media_type, body)))
    };
    let file = upload("application/octet-stream", csv.clone()).await;
    assert_eq!(file.status, StatusCode::OK, "{}", file.body);
    assert_eq!(file.body["created"], 1);
    assert_eq!(file.body["rows"][1]["status"], "rejected");
    let again = upload("text/csv", csv).await;
    assert_eq!(again.body["unchanged"], 1, "{}", again.body);

    let no_header = upload("application/octet-stream", b"\x89PNG\r\n".to_vec()).await;
    assert_eq!(no_header.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", no_header.body);
    let text = upload("text/plain", b"email\n".to_vec()).await;
    assert_eq!(text.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    let json = upload("application/json", br#"{"attendees":[{"email":"x@example.org"}]}"#.to_vec());
    assert_eq!(json.await.problem_code(), "unsupported_media_type");
}

/// The introduction links' form answers problem+json like every other body, not plain text.
async fn a_malformed_form_answers_problem_json(backend: Backend) {
    let app = spawn_app(backend).await;
    let form = |body: &'static str, media_type: &'static str| {
        let body = Some((media_type, body.as_bytes().to_vec()));
        app.send(Method::POST, "/v1/introduction-links", None, body)
    };
    let missing = form("token=abc", "application/x-www-form-urlencoded").await;
    assert_eq!(missing.status, StatusCode::BAD_REQUEST);
    assert_eq!(missing.header("content-type"), Some("application/problem+json"));
    assert_eq!(missing.problem_code(), "invalid_body");
    let json = form("{}", "application/json").await;
    assert_eq!(json.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert_eq!(json.problem_code(), "unsupported_media_type");
}
