//! Follow-ups on a connection: made, listed, edited, completed, snoozed, dismissed, reopened; the
//! scan's promise as one of them; the bad inputs each refused with its documented answer.

use awc::http::StatusCode;
use chrono::{Duration, NaiveDate, Utc};
use chrono_tz::Tz;
use serde_json::{Value, json};

use crate::both_backends;
use crate::helpers::{Backend, Session, TestApp, spawn_app};

both_backends!(
    a_follow_up_is_made_listed_edited_and_completed_with_when_and_how,
    a_date_only_due_stays_that_day_in_los_angeles,
    the_scans_promise_becomes_a_follow_up_and_a_second_scan_edits_it,
    a_due_in_an_impossible_format_is_refused,
    a_due_before_the_connection_existed_is_refused,
    a_snooze_into_the_past_is_refused_and_a_later_one_hides_it_until_then,
    completing_someone_elses_follow_up_answers_as_if_it_did_not_exist,
    an_unknown_kind_or_state_is_refused,
    a_connection_holds_at_most_a_hundred_open_follow_ups_made_by_hand,
);

/// The day `days` from today in `tz`.
pub fn day_in(tz: Tz, days: i64) -> NaiveDate {
    (Utc::now().with_timezone(&tz) + Duration::days(days)).date_naive()
}

/// Ada and Bob in an event, Ada's side of their connection made at a scan dated in September
/// (the device's time, kept: the event runs then), so that dues from September on are allowed.
pub async fn met_in_september(app: &TestApp) -> (String, Session, Session, String) {
    let (_, event, ada, bob, id) = met_in_september_with_org(app).await;
    (event, ada, bob, id)
}

/// As [`met_in_september`], with the event's organizer first.
pub async fn met_in_september_with_org(
    app: &TestApp,
) -> (Session, String, Session, Session, String) {
    let (org, event, ada, bob) = app.event_with_two().await;
    let code = app.badge_code(&bob, &event).await;
    let scanned = app
        .scan_with(&ada, &event, json!({ "client_scan_id": uuid::Uuid::new_v4().to_string(), "badge_code": code, "scanned_at": "2026-09-09T12:00:00Z" }))
        .await;
    assert_eq!(scanned.status, StatusCode::CREATED, "{}", scanned.body);
    let id = scanned.body["connection"]["connection_id"].as_str().unwrap().to_owned();
    (org, event, ada, bob, id)
}

pub async fn set_zone(app: &TestApp, person: &Session, zone: &str) {
    let set = app.patch("/v1/me", Some(&person.access_token), &json!({ "time_zone": zone })).await;
    assert_eq!(set.status, StatusCode::OK, "{}", set.body);
    assert_eq!(set.body["time_zone"], zone);
}

pub async fn add(app: &TestApp, person: &Session, event: &str, id: &str, body: Value) -> Value {
    let path = format!("/v1/events/{event}/connections/{id}/follow-ups");
    let made = app.post(&path, Some(&person.access_token), &body).await;
    assert_eq!(made.status, StatusCode::CREATED, "{}", made.body);
    made.body
}

pub async fn change(
    app: &TestApp,
    person: &Session,
    id: &str,
    body: Value,
) -> crate::helpers::TestResponse {
    app.patch(&format!("/v1/follow-ups/{id}"), Some(&person.access_token), &body).await
}

async fn a_follow_up_is_made_listed_edited_and_completed_with_when_and_how(backend: Backend) {
    let app = spawn_app(backend).await;
    let (event, ada, _, connection) = met_in_september(&app).await;
    let made = add(&app, &ada, &event, &connection, json!({ "kind": "send", "note": "  The article on rate limiting ", "due_at": "2026-09-20T15:00:00Z" })).await;
    assert_eq!(made["kind"], "send");
    assert_eq!(made["note"], "The article on rate limiting");
    assert_eq!(
        (made["due_at"].as_str(), made["all_day"].as_bool()),
        (Some("2026-09-20T15:00:00Z"), Some(false))
    );
    assert_eq!((made["state"].as_str(), made["origin"].as_str()), (Some("open"), Some("manual")));
    let id = made["follow_up_id"].as_str().unwrap();
    let second =
        add(&app, &ada, &event, &connection, json!({ "kind": "meet", "due_at": "2026-09-25" }))
            .await;
    assert_eq!(second["note"], Value::Null);

    let list_path = format!("/v1/events/{event}/connections/{connection}/follow-ups?limit=1");
    let first_page = app.get(&list_path, Some(&ada.access_token)).await;
    assert_eq!(first_page.body["items"][0]["follow_up_id"], id, "in the order they were made");
    let cursor = first_page.body["next_cursor"].as_str().unwrap();
    let next = app.get(&format!("{list_path}&cursor={cursor}"), Some(&ada.access_token)).await;
    assert_eq!(next.body["items"][0]["follow_up_id"], second["follow_up_id"]);
    assert_eq!(next.body["next_cursor"], Value::Null);

    let edited =
        change(&app, &ada, id, json!({ "note": "The RFC, not the article", "kind": "introduce" }))
            .await;
    assert_eq!(edited.status, StatusCode::OK, "{}", edited.body);
    assert_eq!(
        (edited.body["note"].as_str(), edited.body["kind"].as_str()),
        (Some("The RFC, not the article"), Some("introduce"))
    );
    let done = change(&app, &ada, id, json!({ "state": "done", "completed_at": "2026-09-19T10:00:00Z", "completion_note": "sent by email" })).await;
    assert_eq!(done.status, StatusCode::OK, "{}", done.body);
    assert_eq!(done.body["state"], "done");
    assert_eq!(done.body["completed_at"], "2026-09-19T10:00:00Z");
    assert_eq!(done.body["completion_note"], "sent by email");
    let reopened = change(&app, &ada, id, json!({ "state": "open" })).await;
    assert_eq!(
        (reopened.body["state"].as_str(), reopened.body["completed_at"].clone()),
        (Some("open"), Value::Null)
    );
    let dismissed = change(&app, &ada, id, json!({ "state": "dismissed" })).await;
    assert_eq!(dismissed.body["state"], "dismissed");
    let future = change(
        &app,
        &ada,
        id,
        json!({ "state": "done", "completed_at": (Utc::now() + Duration::days(2)).to_rfc3339() }),
    )
    .await;
    assert_eq!(future.status, StatusCode::UNPROCESSABLE_ENTITY, "a completion in the future");
    let connection_view = app
        .get(&format!("/v1/events/{event}/connections/{connection}"), Some(&ada.access_token))
        .await;
    assert_eq!(
        connection_view.body["follow_up"]["follow_up_id"], second["follow_up_id"],
        "the next open one"
    );
}

async fn a_date_only_due_stays_that_day_in_los_angeles(backend: Backend) {
    let app = spawn_app(backend).await;
    let (event, ada, _, connection) = met_in_september(&app).await;
    set_zone(&app, &ada, "America/Los_Angeles").await;
    let made = add(
        &app,
        &ada,
        &event,
        &connection,
        json!({ "kind": "send", "note": "slides", "due_at": "2026-09-20" }),
    )
    .await;
    assert_eq!(made["due_on"], "2026-09-20", "not the day before");
    assert_eq!(made["due_at"], "2026-09-20T07:00:00Z", "the day's start in Los Angeles");
    assert_eq!(made["all_day"], true);
    // Travelling to Berlin: still due on the 20th, which now starts earlier.
    set_zone(&app, &ada, "Europe/Berlin").await;
    let list = app
        .get(
            &format!("/v1/events/{event}/connections/{connection}/follow-ups"),
            Some(&ada.access_token),
        )
        .await;
    assert_eq!(list.body["items"][0]["due_on"], "2026-09-20");
    assert_eq!(list.body["items"][0]["due_at"], "2026-09-19T22:00:00Z");
    let view = app
        .get(&format!("/v1/events/{event}/connections/{connection}"), Some(&ada.access_token))
        .await;
    assert_eq!(view.body["follow_up"]["due_on"], "2026-09-20");
    let bad =
        app.patch("/v1/me", Some(&ada.access_token), &json!({ "time_zone": "Mars/Olympus" })).await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(bad.body["errors"][0]["field"], "time_zone");
}

async fn the_scans_promise_becomes_a_follow_up_and_a_second_scan_edits_it(backend: Backend) {
    let app = spawn_app(backend).await;
    let (_, event, ada, bob) = app.event_with_two().await;
    set_zone(&app, &ada, "America/Los_Angeles").await;
    let code = app.badge_code(&bob, &event).await;
    let due = day_in(chrono_tz::America::Los_Angeles, 3).to_string();
    let scan = |text: &str, due: Option<&str>| json!({ "client_scan_id": uuid::Uuid::new_v4().to_string(), "badge_code": code, "scanned_at": Utc::now().to_rfc3339(), "follow_up": { "text": text, "due_at": due } });
    let first = app.scan_with(&ada, &event, scan("Send the deck", Some(&due))).await;
    assert_eq!(first.status, StatusCode::CREATED, "{}", first.body);
    let promise = &first.body["connection"]["follow_up"];
    assert_eq!(
        (promise["text"].as_str(), promise["due_on"].as_str()),
        (Some("Send the deck"), Some(due.as_str()))
    );
    let id = first.body["connection"]["connection_id"].as_str().unwrap().to_owned();
    let before = Utc::now() - Duration::seconds(1);
    let again = app.scan_with(&ada, &event, scan("Send the deck and the video", None)).await;
    assert_eq!(again.status, StatusCode::OK, "{}", again.body);
    let list = app
        .get(&format!("/v1/events/{event}/connections/{id}/follow-ups"), Some(&ada.access_token))
        .await;
    let items = list.body["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "one promise per connection, edited: {items:?}");
    assert_eq!(
        (items[0]["origin"].as_str(), items[0]["note"].as_str()),
        (Some("scan"), Some("Send the deck and the video"))
    );
    // Without a due date: the end of the event's follow-up window (September), or now once it
    // has passed.
    let due_at: chrono::DateTime<Utc> = items[0]["due_at"].as_str().unwrap().parse().unwrap();
    assert!(due_at >= before, "{}", items[0]);
    let cleared = app
        .patch(
            &format!("/v1/events/{event}/connections/{id}"),
            Some(&ada.access_token),
            &json!({ "follow_up": null }),
        )
        .await;
    assert_eq!(cleared.body["follow_up"], Value::Null, "dismissed");
    let early = app.scan_with(&ada, &event, scan("too early", Some("2026-09-01"))).await;
    assert_eq!(early.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(early.problem_code(), "due_before_connection");
    let batch = app
        .scan_batch(
            &ada,
            &event,
            json!([scan("too early", Some("2026-09-01")), scan("fine", Some(&due))]),
        )
        .await;
    let results = batch.body["results"].as_array().unwrap();
    assert_eq!(
        (results[0]["status"].as_str(), results[1]["status"].as_str()),
        (Some("invalid"), Some("already_connected"))
    );
    assert!(results[0]["reason"].as_str().unwrap().contains("due_before_connection"));
}

async fn a_due_in_an_impossible_format_is_refused(backend: Backend) {
    let app = spawn_app(backend).await;
    let (event, ada, _, connection) = met_in_september(&app).await;
    let path = format!("/v1/events/{event}/connections/{connection}/follow-ups");
    for due in ["2026-02-30", "20/09/2026", "next tuesday", "2026-09-20T25:61:00Z", ""] {
        let refused = app
            .post(&path, Some(&ada.access_token), &json!({ "kind": "send", "due_at": due }))
            .await;
        assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY, "{due}");
        assert_eq!(refused.problem_code(), "validation_failed");
        assert_eq!(refused.body["errors"][0]["field"], "due_at", "{due}");
    }
    let missing = app.post(&path, Some(&ada.access_token), &json!({ "kind": "send" })).await;
    assert_eq!(missing.status, StatusCode::BAD_REQUEST, "a due date is required");
}

async fn a_due_before_the_connection_existed_is_refused(backend: Backend) {
    let app = spawn_app(backend).await;
    let (event, ada, _, connection) = met_in_september(&app).await;
    let path = format!("/v1/events/{event}/connections/{connection}/follow-ups");
    for due in ["2026-09-08", "2026-09-08T23:00:00Z", "2025-01-01T00:00:00Z"] {
        let refused = app
            .post(&path, Some(&ada.access_token), &json!({ "kind": "send", "due_at": due }))
            .await;
        assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY, "{due}");
        assert_eq!(refused.problem_code(), "due_before_connection", "{due}");
    }
    let same_day =
        add(&app, &ada, &event, &connection, json!({ "kind": "send", "due_at": "2026-09-09" }))
            .await;
    let moved = change(
        &app,
        &ada,
        same_day["follow_up_id"].as_str().unwrap(),
        json!({ "due_at": "2026-08-01" }),
    )
    .await;
    assert_eq!(moved.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(moved.problem_code(), "due_before_connection");
}

async fn a_snooze_into_the_past_is_refused_and_a_later_one_hides_it_until_then(backend: Backend) {
    let app = spawn_app(backend).await;
    let (event, ada, _, connection) = met_in_september(&app).await;
    let made =
        add(&app, &ada, &event, &connection, json!({ "kind": "check_in", "due_at": "2026-09-20" }))
            .await;
    let id = made["follow_up_id"].as_str().unwrap();
    let today = day_in(Tz::UTC, 0).to_string();
    for past in ["2026-09-21", today.as_str(), "2020-01-01T00:00:00Z"] {
        let refused =
            change(&app, &ada, id, json!({ "state": "snoozed", "snoozed_until": past })).await;
        assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY, "{past}");
        assert_eq!(refused.body["errors"][0]["field"], "snoozed_until");
    }
    let bare = change(&app, &ada, id, json!({ "state": "snoozed" })).await;
    assert_eq!(bare.status, StatusCode::UNPROCESSABLE_ENTITY, "a snooze needs an end");
    let overdue = app.get("/v1/follow-ups?state=overdue", Some(&ada.access_token)).await;
    assert_eq!(overdue.body["items"].as_array().unwrap().len(), 1);
    let until = day_in(Tz::UTC, 3).to_string();
    let snoozed = change(&app, &ada, id, json!({ "snoozed_until": until })).await;
    assert_eq!(snoozed.status, StatusCode::OK, "{}", snoozed.body);
    assert_eq!(snoozed.body["state"], "snoozed");
    assert_eq!(snoozed.body["due_on"], "2026-09-20", "the promise keeps its date");
    let overdue = app.get("/v1/follow-ups?state=overdue", Some(&ada.access_token)).await;
    assert!(overdue.body["items"].as_array().unwrap().is_empty(), "{}", overdue.body);
    let upcoming = app.get("/v1/follow-ups?state=upcoming", Some(&ada.access_token)).await;
    assert_eq!(upcoming.body["items"][0]["follow_up"]["follow_up_id"], id);
}

async fn completing_someone_elses_follow_up_answers_as_if_it_did_not_exist(backend: Backend) {
    let app = spawn_app(backend).await;
    let (event, ada, bob, connection) = met_in_september(&app).await;
    let made =
        add(&app, &ada, &event, &connection, json!({ "kind": "send", "due_at": "2026-09-20" }))
            .await;
    let id = made["follow_up_id"].as_str().unwrap();
    let theirs = change(&app, &bob, id, json!({ "state": "done" })).await;
    assert_eq!(theirs.status, StatusCode::NOT_FOUND);
    assert_eq!(theirs.problem_code(), "follow_up_not_found");
    let missing =
        change(&app, &bob, &uuid::Uuid::now_v7().to_string(), json!({ "state": "done" })).await;
    assert_eq!(
        (missing.status, missing.body["detail"].clone()),
        (theirs.status, theirs.body["detail"].clone()),
        "alike"
    );
    let on_their_connection = app
        .post(
            &format!("/v1/events/{event}/connections/{connection}/follow-ups"),
            Some(&bob.access_token),
            &json!({ "kind": "send", "due_at": "2026-09-20" }),
        )
        .await;
    assert_eq!(on_their_connection.status, StatusCode::NOT_FOUND);
    assert_eq!(on_their_connection.problem_code(), "connection_not_found");
    let unchanged = app
        .get(
            &format!("/v1/events/{event}/connections/{connection}/follow-ups"),
            Some(&ada.access_token),
        )
        .await;
    assert_eq!(unchanged.body["items"][0]["state"], "open");
}

async fn an_unknown_kind_or_state_is_refused(backend: Backend) {
    let app = spawn_app(backend).await;
    let (event, ada, _, connection) = met_in_september(&app).await;
    let path = format!("/v1/events/{event}/connections/{connection}/follow-ups");
    let kind = app
        .post(&path, Some(&ada.access_token), &json!({ "kind": "call", "due_at": "2026-09-20" }))
        .await;
    assert_eq!(kind.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(kind.body["errors"][0]["field"], "kind");
    let made =
        add(&app, &ada, &event, &connection, json!({ "kind": "send", "due_at": "2026-09-20" }))
            .await;
    let state =
        change(&app, &ada, made["follow_up_id"].as_str().unwrap(), json!({ "state": "finished" }))
            .await;
    assert_eq!(state.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(state.body["errors"][0]["field"], "state");
    let filter = app.get("/v1/follow-ups?state=later", Some(&ada.access_token)).await;
    assert_eq!(filter.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(filter.body["errors"][0]["field"], "state");
    let note = app
        .post(
            &path,
            Some(&ada.access_token),
            &json!({ "kind": "send", "due_at": "2026-09-20", "note": "x".repeat(501) }),
        )
        .await;
    assert_eq!(note.status, StatusCode::UNPROCESSABLE_ENTITY, "a note is at most 500 characters");
}

async fn a_connection_holds_at_most_a_hundred_open_follow_ups_made_by_hand(backend: Backend) {
    let app = spawn_app(backend).await;
    let (event, ada, _, connection) = met_in_september(&app).await;
    let now = hallway::db::now();
    let (account, id) = (ada.account_id.clone(), connection.clone());
    app.query(move |conn| {
        let found = hallway::db::connections::find_many(conn, &[id])?.pop().unwrap();
        for _ in 0..100 {
            use hallway::domain::follow_ups::{Due, Kind, Origin, manage};
            let what = manage::What {
                kind: Kind::Send,
                note: None,
                due: Due::At(now),
                origin: Origin::Manual,
            };
            let row = manage::new_row(&found, &account, what, Tz::UTC, now);
            hallway::db::follow_ups::insert(conn, &row)?;
        }
        Ok(())
    });
    let path = format!("/v1/events/{event}/connections/{connection}/follow-ups");
    let refused = app
        .post(&path, Some(&ada.access_token), &json!({ "kind": "send", "due_at": "2026-09-20" }))
        .await;
    assert_eq!(refused.status, StatusCode::CONFLICT);
    assert_eq!(refused.problem_code(), "follow_up_limit_reached");
}
