//! Badge exchange: online and offline scans, idempotency, mutual connections, concurrency.

use awc::http::StatusCode;
use diesel::prelude::*;
use hallway::db::schema::{connections, scans};
use serde_json::{Value, json};

use crate::both_backends;
use crate::connections::all_notes;
use crate::helpers::{Backend, TestApp, spawn_app};

both_backends!(
    a_scan_connects_both_people_and_each_sees_what_the_other_shares,
    the_same_scan_uploaded_again_is_recorded_once_and_answered_the_same,
    scanning_someone_again_adds_to_the_one_connection,
    a_batch_answers_each_item_by_client_id_and_bad_items_sink_nothing,
    a_batch_answer_does_not_grow_with_the_notes,
    a_malformed_batch_is_refused_whole,
    a_replayed_batch_is_recorded_once_even_when_uploaded_twice_at_once,
    two_people_scanning_each_other_at_once_get_one_connection_pair,
    scanning_needs_a_member_of_the_same_event,
    a_deleted_accounts_badge_is_not_found,
    scans_beyond_the_rate_limit_get_429_with_retry_after,
    every_item_of_a_batch_counts_so_a_days_sync_gets_through_and_a_loop_does_not,
    notes_draw_on_a_budget_of_characters_that_one_large_sync_may_overdraw,
    a_note_past_a_cap_fails_its_item_alone_and_the_item_can_be_sent_again_without_it,
);

fn count_scans(app: &TestApp) -> i64 {
    app.query(|conn| scans::table.count().get_result(conn))
}

fn count_connections(app: &TestApp) -> i64 {
    app.query(|conn| connections::table.count().get_result(conn))
}

async fn a_scan_connects_both_people_and_each_sees_what_the_other_shares(backend: Backend) {
    let app = spawn_app(backend).await;
    let (_, event, ada, bob) = app.event_with_two().await;
    let me = format!("/v1/events/{event}/me");
    app.patch(
        &me,
        Some(&bob.access_token),
        &json!({ "name": "Bob", "company": "Bobco", "phone": "+1 555 0100" }),
    )
    .await;
    app.patch(
        &me,
        Some(&ada.access_token),
        &json!({ "name": "Ada", "sharing": { "email": false } }),
    )
    .await;
    let bob_code = app.badge_code(&bob, &event).await;

    let scanned = app.scan(&ada, &event, &bob_code).await;
    assert_eq!(scanned.status, StatusCode::CREATED, "{}", scanned.body);
    assert_eq!(scanned.body["status"], "created");
    let other = &scanned.body["connection"]["other"];
    assert_eq!((other["name"].as_str(), other["company"].as_str()), (Some("Bob"), Some("Bobco")));
    assert!(other.get("email").is_none(), "Bob has not confirmed what he shares: no email yet");
    assert!(other.get("phone").is_none(), "Bob does not share his phone");
    app.patch(&me, Some(&bob.access_token), &json!({ "sharing": {} })).await;
    let connection_path = format!(
        "/v1/events/{event}/connections/{}",
        scanned.body["connection"]["connection_id"].as_str().unwrap()
    );
    let confirmed = app.get(&connection_path, Some(&ada.access_token)).await;
    assert_eq!(confirmed.body["other"]["email"], bob.email.as_str(), "confirmed: his email");

    let bobs = app.connections(&bob, &event).await;
    assert_eq!(bobs.len(), 1, "the scanned person gets the connection too");
    assert_eq!(bobs[0]["other"]["name"], "Ada");
    assert!(bobs[0]["other"].get("email").is_none(), "Ada does not share her email");

    app.patch(
        &me,
        Some(&bob.access_token),
        &json!({ "sharing": { "company": false, "phone": true } }),
    )
    .await;
    let id = scanned.body["connection"]["connection_id"].as_str().unwrap();
    let later =
        app.get(&format!("/v1/events/{event}/connections/{id}"), Some(&ada.access_token)).await;
    assert!(
        later.body["other"].get("company").is_none(),
        "a later sharing change shows: {}",
        later.body
    );
    assert_eq!(later.body["other"]["phone"], "+1 555 0100");
}

async fn the_same_scan_uploaded_again_is_recorded_once_and_answered_the_same(backend: Backend) {
    let app = spawn_app(backend).await;
    let (_, event, ada, bob) = app.event_with_two().await;
    let code = app.badge_code(&bob, &event).await;
    let item = json!({ "client_scan_id": uuid::Uuid::new_v4().to_string(), "badge_code": code, "scanned_at": "2026-09-08T17:00:00Z", "note": "Rust in embedded" });

    let first = app.scan_with(&ada, &event, item.clone()).await;
    let retry = app.scan_with(&ada, &event, item.clone()).await;
    assert_eq!(first.status, StatusCode::CREATED);
    assert_eq!(retry.status, first.status, "a retry after a timeout gets the same answer");
    assert_eq!(retry.body, first.body);
    let offline = app.scan_batch(&ada, &event, json!([item.clone(), item])).await;
    assert_eq!(offline.status, StatusCode::OK, "{}", offline.body);
    for result in offline.body["results"].as_array().unwrap() {
        assert_eq!(result["status"], "created");
        assert_eq!(
            result["connection"]["connection_id"],
            first.body["connection"]["connection_id"]
        );
    }
    assert_eq!(count_scans(&app), 1);
    let connection = &app.connections(&ada, &event).await[0];
    assert_eq!(connection["scan_count"], 1);
    assert_eq!(connection["note_count"], 1);
    let id = connection["connection_id"].as_str().unwrap();
    assert_eq!(all_notes(&app, &ada, &event, id).await.len(), 1, "the note was recorded once");
}

async fn scanning_someone_again_adds_to_the_one_connection(backend: Backend) {
    let app = spawn_app(backend).await;
    let (_, event, ada, bob) = app.event_with_two().await;
    let code = app.badge_code(&bob, &event).await;
    let first = app.scan_with(&ada, &event, json!({ "client_scan_id": uuid::Uuid::new_v4().to_string(), "badge_code": code, "scanned_at": "2026-09-08T17:00:00Z", "note": "first talk" })).await;
    let again = app.scan_with(&ada, &event, json!({ "client_scan_id": uuid::Uuid::new_v4().to_string(), "badge_code": code, "scanned_at": "2026-09-09T10:00:00Z", "note": "second talk", "rating": 5 })).await;
    assert_eq!(again.status, StatusCode::OK, "{}", again.body);
    assert_eq!(again.body["status"], "already_connected");
    assert_eq!(
        again.body["connection"]["connection_id"],
        first.body["connection"]["connection_id"]
    );
    let connection = &again.body["connection"];
    assert_eq!(connection["scan_count"], 2);
    assert_eq!(
        (connection["first_met_at"].as_str(), connection["last_met_at"].as_str()),
        (Some("2026-09-08T17:00:00Z"), Some("2026-09-09T10:00:00Z"))
    );
    assert_eq!(connection["note_count"], 2);
    assert_eq!(connection["rating"], 5);
    let id = connection["connection_id"].as_str().unwrap();
    let notes = all_notes(&app, &ada, &event, id).await;
    let bodies: Vec<_> = notes.iter().map(|n| n["body"].as_str().unwrap()).collect();
    assert_eq!(bodies, ["first talk", "second talk"]);
    let back = app.scan(&bob, &event, &app.badge_code(&ada, &event).await).await;
    assert_eq!(back.body["status"], "already_connected", "Bob already has Ada from her scan");
    assert_eq!(count_connections(&app), 2, "one connection per side");
}

async fn a_batch_answers_each_item_by_client_id_and_bad_items_sink_nothing(backend: Backend) {
    let app = spawn_app(backend).await;
    let (org, event, ada, bob) = app.event_with_two().await;
    let cy = app.sign_in("cy").await;
    let cy_id = app.join(&org, &cy, &event).await["attendee_id"].as_str().unwrap().to_owned();
    let cy_old = app.badge_code(&cy, &event).await;
    app.post(
        &format!("/v1/events/{event}/attendees/{cy_id}/badge/rotate"),
        Some(&org.access_token),
        &json!({}),
    )
    .await;
    let cy_new = app.badge_code(&cy, &event).await;
    let (other_org, other_event) = app.organizer_with_event().await;
    let foreign = app.badge_code(&other_org, &other_event).await;
    let bob_code = app.badge_code(&bob, &event).await;
    let spaced = format!("{} {}", bob_code[..10].to_lowercase(), &bob_code[10..]);
    let id = |n: u8| format!("00000000-0000-4000-8000-0000000000{n:02}");
    let at = "2026-09-08T12:00:00Z";
    let items = json!([
        { "client_scan_id": id(1), "badge_code": spaced, "scanned_at": "2099-01-01T00:00:00Z" },
        { "client_scan_id": id(2), "badge_code": bob_code, "scanned_at": at },
        { "client_scan_id": id(3), "badge_code": "ZZZZZZZZZZZZZZZZZZZZ", "scanned_at": at },
        { "client_scan_id": id(4), "badge_code": cy_old, "scanned_at": at },
        { "client_scan_id": id(5), "badge_code": app.badge_code(&ada, &event).await, "scanned_at": at },
        { "client_scan_id": id(6), "badge_code": foreign, "scanned_at": at },
        { "client_scan_id": "not-a-uuid", "badge_code": cy_new, "scanned_at": at },
        { "client_scan_id": id(8), "badge_code": cy_new },
        { "client_scan_id": id(9), "badge_code": cy_new, "scanned_at": at },
        { "client_scan_id": id(9), "badge_code": bob_code, "scanned_at": at },
    ]);
    let response = app.scan_batch(&ada, &event, items).await;
    assert_eq!(response.status, StatusCode::OK, "{}", response.body);
    let results = response.body["results"].as_array().unwrap();
    let got: Vec<(&str, &str)> = results
        .iter()
        .map(|r| (r["client_scan_id"].as_str().unwrap(), r["status"].as_str().unwrap()))
        .collect();
    let expected = [
        (id(1), "created"),
        (id(2), "already_connected"),
        (id(3), "badge_not_found"),
        (id(4), "badge_revoked"),
        (id(5), "cannot_scan_self"),
        (id(6), "badge_not_found"),
        ("not-a-uuid".to_owned(), "invalid"),
        (id(8), "invalid"),
        (id(9), "created"),
        (id(9), "duplicate_scan"),
    ];
    assert_eq!(got, expected.iter().map(|(i, s)| (i.as_str(), *s)).collect::<Vec<_>>());
    assert!(results[7]["reason"].as_str().unwrap().contains("scanned_at"), "{}", results[7]);
    assert!(results[9]["reason"].as_str().unwrap().contains("another badge code"));
    assert_eq!(
        results[5]["reason"], results[2]["reason"],
        "another event's code answers like an unknown one"
    );
    // A device clock in 2099 is not believed: the scan is dated by the server.
    let met = results[0]["connection"]["first_met_at"].as_str().unwrap();
    assert!(met.starts_with(&chrono::Utc::now().format("%Y-").to_string()), "{met}");
    assert_eq!(app.connections(&ada, &event).await.len(), 2, "Bob and Cy");
}

/// Each item answers with the connection's summary, not its notes: 100 scans of one person, each
/// with a 5,000-character note, would otherwise answer with 100 × 100 notes (50 MB).
async fn a_batch_answer_does_not_grow_with_the_notes(backend: Backend) {
    let app = spawn_app(backend).await;
    let (_, event, ada, bob) = app.event_with_two().await;
    let code = app.badge_code(&bob, &event).await;
    let note = "n".repeat(5000);
    let items: Vec<Value> = (0..100)
        .map(|_| json!({ "client_scan_id": uuid::Uuid::new_v4().to_string(), "badge_code": code, "scanned_at": "2026-09-08T17:00:00Z", "note": note }))
        .collect();
    let answer = app.scan_batch(&ada, &event, json!(items)).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    for result in answer.body["results"].as_array().unwrap() {
        assert_eq!(result["connection"]["note_count"], 100, "{result}");
        assert!(result["connection"].get("notes").is_none(), "no notes in a scan's answer");
    }
    assert!(answer.body.to_string().len() < 200_000, "the answer is linear in the items");
    let connection = &app.connections(&ada, &event).await[0];
    assert_eq!(connection["note_count"], 100);
    let id = connection["connection_id"].as_str().unwrap();
    assert_eq!(all_notes(&app, &ada, &event, id).await.len(), 100, "every note was kept");
}

async fn a_malformed_batch_is_refused_whole(backend: Backend) {
    let app = spawn_app(backend).await;
    let (_, event, ada, bob) = app.event_with_two().await;
    let code = app.badge_code(&bob, &event).await;
    let item = |i: usize| json!({ "client_scan_id": uuid::Uuid::new_v4().to_string(), "badge_code": code, "scanned_at": format!("2026-09-08T12:{:02}:00Z", i % 60) });

    let empty = app.scan_batch(&ada, &event, json!([])).await;
    assert_eq!(empty.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(empty.body["errors"][0]["field"], "scans");
    let too_many = app.scan_batch(&ada, &event, Value::Array((0..501).map(item).collect())).await;
    assert_eq!(too_many.status, StatusCode::UNPROCESSABLE_ENTITY);
    let wrong = app
        .post(
            &format!("/v1/events/{event}/scans/batch"),
            Some(&ada.access_token),
            &json!([item(1)]),
        )
        .await;
    assert_eq!(wrong.status, StatusCode::BAD_REQUEST);
    assert_eq!(wrong.problem_code(), "invalid_body");
    let single_bad = app
        .scan_with(
            &ada,
            &event,
            json!({ "client_scan_id": "x", "badge_code": code, "scanned_at": "yesterday" }),
        )
        .await;
    assert_eq!(single_bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    let fields: Vec<_> = single_bad.body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, ["client_scan_id", "scanned_at"]);
    assert_eq!(count_scans(&app), 0);

    let full = app.scan_batch(&ada, &event, Value::Array((0..500).map(item).collect())).await;
    assert_eq!(full.status, StatusCode::OK, "500 items are fine");
    assert_eq!(app.connections(&ada, &event).await[0]["scan_count"], 500);
}

async fn a_replayed_batch_is_recorded_once_even_when_uploaded_twice_at_once(backend: Backend) {
    let app = spawn_app(backend).await;
    let (org, event, ada, bob) = app.event_with_two().await;
    let mut codes = vec![app.badge_code(&bob, &event).await];
    for i in 0..5 {
        let person = app.sign_in(&format!("p{i}")).await;
        app.join(&org, &person, &event).await;
        codes.push(app.badge_code(&person, &event).await);
    }
    let items: Vec<Value> = codes.iter().map(|code| json!({ "client_scan_id": uuid::Uuid::new_v4().to_string(), "badge_code": code, "scanned_at": "2026-09-08T12:00:00Z" })).collect();
    let batch = Value::Array(items);

    let (a, b) = tokio::join!(
        app.scan_batch(&ada, &event, batch.clone()),
        app.scan_batch(&ada, &event, batch.clone())
    );
    assert_eq!((a.status, b.status), (StatusCode::OK, StatusCode::OK), "{} {}", a.body, b.body);
    assert_eq!(a.body, b.body, "both uploads are answered the same way");
    let replay = app.scan_batch(&ada, &event, batch).await;
    assert_eq!(replay.body, a.body);
    assert_eq!(count_scans(&app), 6);
    assert_eq!(count_connections(&app), 12);
}

async fn two_people_scanning_each_other_at_once_get_one_connection_pair(backend: Backend) {
    let app = spawn_app(backend).await;
    let (org, event) = app.organizer_with_event().await;
    let mut people = Vec::new();
    for i in 0..5 {
        let person = app.sign_in(&format!("p{i}")).await;
        app.join(&org, &person, &event).await;
        let code = app.badge_code(&person, &event).await;
        people.push((person, code));
    }
    // Every pair scans each other, all at the same moment: 20 scans in flight.
    let mut scans = Vec::new();
    for (scanner, _) in &people {
        for (other, code) in &people {
            if scanner.account_id != other.account_id {
                scans.push(app.scan(scanner, &event, code));
            }
        }
    }
    for response in futures_util::future::join_all(scans).await {
        assert!(response.status.is_success(), "{}", response.body);
    }
    assert_eq!(count_connections(&app), 20, "exactly one connection per side of each pair");
    for (person, _) in &people {
        let mine = app.connections(person, &event).await;
        assert_eq!(mine.len(), 4);
        assert!(
            mine.iter().all(|c| c["scan_count"] == 2),
            "both scans of each pair count on each side"
        );
    }
}

async fn scanning_needs_a_member_of_the_same_event(backend: Backend) {
    let app = spawn_app(backend).await;
    let (_, event, _, bob) = app.event_with_two().await;
    let code = app.badge_code(&bob, &event).await;
    let (other_org, _) = app.organizer_with_event().await;
    let stranger = app.sign_in("stranger").await;

    for person in [&other_org, &stranger] {
        let response = app.scan(person, &event, &code).await;
        assert_eq!(response.status, StatusCode::NOT_FOUND);
        assert_eq!(response.problem_code(), "event_not_found");
    }
    let unauthenticated = app.post(&format!("/v1/events/{event}/scans"), None, &json!({})).await;
    assert_eq!(unauthenticated.status, StatusCode::UNAUTHORIZED);
    assert_eq!(count_scans(&app), 0);
}

async fn a_deleted_accounts_badge_is_not_found(backend: Backend) {
    let app = spawn_app(backend).await;
    let (org, event, ada, bob) = app.event_with_two().await;
    let code = app.badge_code(&bob, &event).await;
    app.scan(&ada, &event, &code).await;

    let deleted =
        app.send(awc::http::Method::DELETE, "/v1/me", Some(&bob.access_token), None).await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT);
    assert_eq!(app.get("/v1/me", Some(&bob.access_token)).await.status, StatusCode::UNAUTHORIZED);
    let response = app.scan(&ada, &event, &code).await;
    assert_eq!(response.status, StatusCode::NOT_FOUND);
    assert_eq!(response.problem_code(), "badge_not_found");
    assert!(app.connections(&ada, &event).await.is_empty(), "Bob's data went with his account");
    let sole = app.send(awc::http::Method::DELETE, "/v1/me", Some(&org.access_token), None).await;
    assert_eq!(sole.status, StatusCode::CONFLICT);
    assert_eq!(sole.problem_code(), "sole_organizer");
}

async fn scans_beyond_the_rate_limit_get_429_with_retry_after(backend: Backend) {
    let app = spawn_app(backend).await;
    let (_, event, ada, _) = app.event_with_two().await;
    let mut limited = None;
    for _ in 0..60 {
        let response = app.scan(&ada, &event, "ZZZZZZZZZZZZZZZZZZZZ").await;
        if response.status == StatusCode::TOO_MANY_REQUESTS {
            limited = Some(response);
            break;
        }
        assert_eq!(response.problem_code(), "badge_not_found");
    }
    let limited = limited.expect("60 scans in a burst are limited");
    assert_eq!(limited.problem_code(), "rate_limited");
    assert!(limited.header("retry-after").unwrap().parse::<u64>().unwrap() >= 1);
}

fn items(code: &str, n: usize, note: Option<&str>) -> Value {
    Value::Array(
        (0..n)
            .map(|i| {
                let mut item = json!({ "client_scan_id": uuid::Uuid::new_v4().to_string(), "badge_code": code, "scanned_at": "2026-09-08T12:00:00Z" });
                if let Some(note) = note {
                    item["note"] = json!(format!("{note} {i}"));
                }
                item
            })
            .collect(),
    )
}

fn retry_after(response: &crate::helpers::TestResponse) -> u64 {
    response.header("retry-after").unwrap().parse().unwrap()
}

/// Three full offline batches go up at once (a day of scans, and retries of it); a client that
/// keeps uploading is stopped, because every item counts, not every request.
async fn every_item_of_a_batch_counts_so_a_days_sync_gets_through_and_a_loop_does_not(
    backend: Backend,
) {
    let app = spawn_app(backend).await;
    let (_, event, ada, bob) = app.event_with_two().await;
    let code = app.badge_code(&bob, &event).await;
    for _ in 0..3 {
        let synced = app.scan_batch(&ada, &event, items(&code, 500, None)).await;
        assert_eq!(synced.status, StatusCode::OK, "{}", synced.body);
    }
    let looped = app.scan_batch(&ada, &event, items(&code, 500, None)).await;
    assert_eq!(looped.status, StatusCode::TOO_MANY_REQUESTS, "{}", looped.body);
    assert_eq!(looped.problem_code(), "rate_limited");
    assert!(retry_after(&looped) >= 60, "500 scans at 60 a minute: {}", retry_after(&looped));
    assert_eq!(count_scans(&app), 1500, "the refused batch recorded nothing");
}

/// 60 notes of 5,000 characters (300,000, more than the budget holds) go up in one batch; then
/// notes wait until the debt is paid back, while scans without notes go on.
async fn notes_draw_on_a_budget_of_characters_that_one_large_sync_may_overdraw(backend: Backend) {
    let app = spawn_app(backend).await;
    let (_, event, ada, bob) = app.event_with_two().await;
    let code = app.badge_code(&bob, &event).await;
    let long = "n".repeat(4990);
    let synced = app.scan_batch(&ada, &event, items(&code, 60, Some(&long))).await;
    assert_eq!(synced.status, StatusCode::OK, "{}", synced.body);
    let connection = &synced.body["results"][59]["connection"];
    assert_eq!(connection["note_count"], 60);
    let id = connection["connection_id"].as_str().unwrap();

    let noted = app
        .scan_with(&ada, &event, json!({ "client_scan_id": uuid::Uuid::new_v4().to_string(), "badge_code": code, "scanned_at": "2026-09-08T12:00:00Z", "note": "short" }))
        .await;
    assert_eq!(noted.status, StatusCode::TOO_MANY_REQUESTS, "{}", noted.body);
    assert_eq!(noted.problem_code(), "rate_limited");
    assert!(retry_after(&noted) >= 60, "50,000 characters of debt: {}", retry_after(&noted));
    let added = app
        .post(
            &format!("/v1/events/{event}/connections/{id}/notes"),
            Some(&ada.access_token),
            &json!({ "body": "short" }),
        )
        .await;
    assert_eq!(added.status, StatusCode::TOO_MANY_REQUESTS, "{}", added.body);
    assert!(retry_after(&added) >= 60);
    let plain = app.scan(&ada, &event, &code).await;
    assert_eq!(plain.status, StatusCode::OK, "a scan without a note goes on: {}", plain.body);
    assert_eq!(plain.body["connection"]["note_count"], 60);
}

async fn a_note_past_a_cap_fails_its_item_alone_and_the_item_can_be_sent_again_without_it(
    backend: Backend,
) {
    let app = spawn_app(backend).await;
    let (org, event, ada, bob) = app.event_with_two().await;
    let carol = app.sign_in("carol").await;
    app.join(&org, &carol, &event).await;
    let (bob_code, carol_code) =
        (app.badge_code(&bob, &event).await, app.badge_code(&carol, &event).await);
    let full = app.scan_batch(&ada, &event, items(&bob_code, 200, Some("talk"))).await;
    assert_eq!(full.status, StatusCode::OK, "{}", full.body);
    assert_eq!(full.body["results"][199]["connection"]["note_count"], 200);

    let refused_id = uuid::Uuid::new_v4().to_string();
    let at = "2026-09-08T13:00:00Z";
    let batch = json!([
        { "client_scan_id": refused_id, "badge_code": bob_code, "scanned_at": at, "note": "one too many" },
        { "client_scan_id": uuid::Uuid::new_v4().to_string(), "badge_code": carol_code, "scanned_at": at, "note": "hello" },
        { "client_scan_id": uuid::Uuid::new_v4().to_string(), "badge_code": bob_code, "scanned_at": at },
    ]);
    let answer = app.scan_batch(&ada, &event, batch).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    let results = answer.body["results"].as_array().unwrap();
    let statuses: Vec<_> = results.iter().map(|r| r["status"].as_str().unwrap()).collect();
    assert_eq!(statuses, ["note_limit_reached", "created", "already_connected"]);
    assert!(results[0]["reason"].as_str().unwrap().contains("200 notes"), "{}", results[0]);
    assert!(results[0].get("connection").is_none());
    assert_eq!(results[2]["connection"]["note_count"], 200);
    assert_eq!(count_scans(&app), 202, "the refused item recorded nothing");

    let again = app
        .scan_with(
            &ada,
            &event,
            json!({ "client_scan_id": refused_id, "badge_code": bob_code, "scanned_at": at }),
        )
        .await;
    assert_eq!(again.status, StatusCode::OK, "sent again without the note: {}", again.body);
    assert_eq!(again.body["status"], "already_connected");
    let online = app
        .scan_with(&ada, &event, json!({ "client_scan_id": uuid::Uuid::new_v4().to_string(), "badge_code": bob_code, "scanned_at": at, "note": "more" }))
        .await;
    assert_eq!(online.status, StatusCode::CONFLICT, "{}", online.body);
    assert_eq!(online.problem_code(), "note_limit_reached");
    assert_eq!(count_scans(&app), 203, "a refused online scan records nothing");
    let with_bob = &full.body["results"][0]["connection"]["connection_id"];
    let mine = app.connections(&ada, &event).await;
    let connection = mine.iter().find(|c| c["connection_id"] == *with_bob).unwrap();
    assert_eq!(connection["scan_count"], 202);
    assert_eq!(connection["note_count"], 200);
}
