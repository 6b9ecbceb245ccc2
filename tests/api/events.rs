//! Events: created by organizers, visible to members only, changed by organizers only.

use awc::http::StatusCode;
use serde_json::json;

use crate::both_backends;
use crate::helpers::{Backend, event_body, spawn_app, unique_slug};

both_backends!(
    an_organizer_creates_an_event_and_finds_it_in_their_list,
    invalid_event_fields_are_each_named_and_nothing_is_created,
    a_taken_slug_is_refused,
    other_people_get_404_for_an_event_and_cannot_change_it,
    an_attendee_cannot_change_the_event,
    an_organizer_changes_an_event_but_not_into_an_invalid_one,
    my_events_are_paginated_with_a_cursor,
);

async fn an_organizer_creates_an_event_and_finds_it_in_their_list(backend: Backend) {
    let app = spawn_app(backend).await;
    let org = app.sign_in("org").await;
    let slug = unique_slug("rustconf");
    let event = app.create_event(&org, &slug).await;

    assert_eq!(event["slug"], slug.as_str());
    assert_eq!(event["my_role"], "organizer");
    assert_eq!(event["starts_at"], "2026-09-08T16:00:00Z", "stored and returned in UTC");
    assert_eq!(event["ends_at"], "2026-09-11T01:00:00Z");
    assert_eq!(event["time_zone"], "America/Los_Angeles");
    assert_eq!(event["follow_up_window_days"], 10);

    let path = format!("/v1/events/{}", event["id"].as_str().unwrap());
    assert_eq!(app.get(&path, Some(&org.access_token)).await.body, event);
    let list = app.get("/v1/events", Some(&org.access_token)).await;
    assert_eq!(list.body["items"], json!([event]));
    assert_eq!(list.body["next_cursor"], json!(null));
}

async fn invalid_event_fields_are_each_named_and_nothing_is_created(backend: Backend) {
    let app = spawn_app(backend).await;
    let org = app.sign_in("org").await;
    let token = Some(org.access_token.as_str());
    let bad = json!({
        "name": " ",
        "slug": "Not A Slug",
        "starts_at": "next tuesday",
        "ends_at": "2026-09-10T18:00:00Z",
        "time_zone": "Mars/Olympus_Mons",
        "follow_up_window_days": 400
    });
    let response = app.post("/v1/events", token, &bad).await;
    assert_eq!(response.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(response.problem_code(), "validation_failed");
    let fields: Vec<&str> = response.body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, ["name", "slug", "starts_at", "time_zone", "follow_up_window_days"]);

    let mut backwards = event_body(&unique_slug("backwards"));
    backwards["ends_at"] = json!("2026-09-01T00:00:00Z");
    let response = app.post("/v1/events", token, &backwards).await;
    assert_eq!(response.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(response.body["errors"][0]["field"], "ends_at");

    let mut missing = event_body(&unique_slug("missing"));
    missing.as_object_mut().unwrap().remove("time_zone");
    let response = app.post("/v1/events", token, &missing).await;
    assert_eq!(response.status, StatusCode::BAD_REQUEST);
    assert_eq!(response.problem_code(), "invalid_body");
    assert!(response.body["detail"].as_str().unwrap().contains("time_zone"));

    let list = app.get("/v1/events", token).await;
    assert_eq!(list.body["items"], json!([]));
}

async fn a_taken_slug_is_refused(backend: Backend) {
    let app = spawn_app(backend).await;
    let first = app.sign_in("first").await;
    let second = app.sign_in("second").await;
    let slug = unique_slug("taken");
    app.create_event(&first, &slug).await;

    let response = app.post("/v1/events", Some(&second.access_token), &event_body(&slug)).await;
    assert_eq!(response.status, StatusCode::CONFLICT);
    assert_eq!(response.problem_code(), "slug_taken");
    assert_eq!(app.get("/v1/events", Some(&second.access_token)).await.body["items"], json!([]));
}

async fn other_people_get_404_for_an_event_and_cannot_change_it(backend: Backend) {
    let app = spawn_app(backend).await;
    let org = app.sign_in("org").await;
    let stranger = app.sign_in("stranger").await;
    let event = app.create_event(&org, &unique_slug("private")).await;
    let path = format!("/v1/events/{}", event["id"].as_str().unwrap());

    let read = app.get(&path, Some(&stranger.access_token)).await;
    assert_eq!(read.status, StatusCode::NOT_FOUND);
    assert_eq!(read.problem_code(), "event_not_found");
    let missing = app
        .get("/v1/events/0191c8f0-0000-7000-8000-000000000000", Some(&stranger.access_token))
        .await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    assert_eq!(missing.raw, read.raw, "a foreign event looks exactly like a missing one");

    let changed =
        app.patch(&path, Some(&stranger.access_token), &json!({ "name": "Mine now" })).await;
    assert_eq!(changed.status, StatusCode::NOT_FOUND);
    assert_eq!(app.get(&path, Some(&org.access_token)).await.body["name"], "RustConf 2026");
}

async fn an_attendee_cannot_change_the_event(backend: Backend) {
    let app = spawn_app(backend).await;
    let org = app.sign_in("org").await;
    let attendee = app.sign_in("attendee").await;
    let event = app.create_event(&org, &unique_slug("members")).await;
    let event_id = event["id"].as_str().unwrap().to_owned();
    app.join(&org, &attendee, &event_id).await;
    let path = format!("/v1/events/{event_id}");

    let read = app.get(&path, Some(&attendee.access_token)).await;
    assert_eq!(read.status, StatusCode::OK);
    assert_eq!(read.body["my_role"], "attendee");
    let changed =
        app.patch(&path, Some(&attendee.access_token), &json!({ "name": "Hijacked" })).await;
    assert_eq!(changed.status, StatusCode::FORBIDDEN);
    assert_eq!(changed.problem_code(), "organizer_only");
    assert_eq!(app.get(&path, Some(&org.access_token)).await.body["name"], "RustConf 2026");
}

async fn an_organizer_changes_an_event_but_not_into_an_invalid_one(backend: Backend) {
    let app = spawn_app(backend).await;
    let org = app.sign_in("org").await;
    let token = Some(org.access_token.as_str());
    let event = app.create_event(&org, &unique_slug("change")).await;
    let path = format!("/v1/events/{}", event["id"].as_str().unwrap());

    let changed = app
        .patch(
            &path,
            token,
            &json!({ "name": "RustConf 2026 (moved)", "time_zone": "Europe/Berlin" }),
        )
        .await;
    assert_eq!(changed.status, StatusCode::OK, "{}", changed.body);
    assert_eq!(changed.body["name"], "RustConf 2026 (moved)");
    assert_eq!(changed.body["time_zone"], "Europe/Berlin");
    assert_eq!(changed.body["slug"], event["slug"], "fields left out stay");

    let backwards = app.patch(&path, token, &json!({ "ends_at": "2026-01-01T00:00:00Z" })).await;
    assert_eq!(backwards.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(backwards.body["errors"][0]["field"], "ends_at");
    let unknown = app.patch(&path, token, &json!({ "owner": "me" })).await;
    assert_eq!(unknown.status, StatusCode::BAD_REQUEST);
    assert_eq!(unknown.problem_code(), "invalid_body");
    assert_eq!(app.get(&path, token).await.body, changed.body, "rejected changes changed nothing");
}

async fn my_events_are_paginated_with_a_cursor(backend: Backend) {
    let app = spawn_app(backend).await;
    let org = app.sign_in("org").await;
    let token = Some(org.access_token.as_str());
    let mut created = Vec::new();
    for i in 0..3 {
        created.push(app.create_event(&org, &unique_slug(&format!("page{i}"))).await["id"].clone());
    }

    let first = app.get("/v1/events?limit=2", token).await;
    let ids: Vec<_> =
        first.body["items"].as_array().unwrap().iter().map(|e| e["id"].clone()).collect();
    assert_eq!(ids, created[..2]);
    let cursor = first.body["next_cursor"].as_str().unwrap();
    let second = app.get(&format!("/v1/events?limit=2&cursor={cursor}"), token).await;
    let ids: Vec<_> =
        second.body["items"].as_array().unwrap().iter().map(|e| e["id"].clone()).collect();
    assert_eq!(ids, created[2..]);
    assert_eq!(second.body["next_cursor"], json!(null));

    for bad in ["/v1/events?limit=0", "/v1/events?limit=101", "/v1/events?cursor=nonsense"] {
        let response = app.get(bad, token).await;
        assert_eq!(response.status, StatusCode::UNPROCESSABLE_ENTITY, "{bad}");
        assert_eq!(response.problem_code(), "validation_failed");
    }
    let not_a_number = app.get("/v1/events?limit=ten", token).await;
    assert_eq!(not_a_number.status, StatusCode::BAD_REQUEST);
    assert_eq!(not_a_number.problem_code(), "invalid_query");
}
