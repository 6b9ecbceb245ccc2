//! `GET /v1/me/export`: everything Hallway holds about me, as one streamed JSON document.

use std::time::Instant;

use awc::http::{Method, StatusCode};
use serde_json::{Value, json};

use crate::both_backends;
use crate::exports::{met, seed_connections};
use crate::follow_ups::{add, change, met_in_september};
use crate::helpers::{Backend, spawn_app};
use crate::seed;

both_backends!(
    my_export_holds_my_account_events_badges_connections_notes_and_tombstones,
    an_export_of_thousands_of_connections_and_notes_is_whole_and_in_order,
    exports_of_my_data_are_limited_per_hour,
    my_export_holds_every_follow_up_with_its_completion_and_origin_my_touches_and_digest,
);

/// Every key anywhere in `value`.
fn keys(value: &Value, out: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            for (key, inner) in map {
                out.push(key.clone());
                keys(inner, out);
            }
        }
        Value::Array(items) => items.iter().for_each(|v| keys(v, out)),
        _ => {}
    }
}

async fn my_export_holds_my_account_events_badges_connections_notes_and_tombstones(
    backend: Backend,
) {
    let app = spawn_app(backend).await;
    let (org, event, ada, _) = app.event_with_two().await;
    let (bob, with_bob) = met(&app, &org, &event, &ada, "Bob Private", false).await;
    let notes = format!("/v1/events/{event}/connections/{with_bob}/notes");
    for body in ["First, met at the coffee line", "Second\nwith a line break", "Third: Zoë"] {
        let added = app.post(&notes, Some(&ada.access_token), &json!({ "body": body })).await;
        assert_eq!(added.status, StatusCode::CREATED);
    }
    let path = format!("/v1/events/{event}/connections/{with_bob}");
    let patch = json!({ "tags": ["rust"], "rating": 5, "follow_up": { "text": "Send slides", "due_at": "2027-09-20" } });
    assert_eq!(app.patch(&path, Some(&ada.access_token), &patch).await.status, StatusCode::OK);
    let (_, deleted) = met(&app, &org, &event, &ada, "Carol", true).await;
    let path = format!("/v1/events/{event}/connections/{deleted}");
    app.send(Method::DELETE, &path, Some(&ada.access_token), None).await;
    let (dave, _) = met(&app, &org, &event, &ada, "Dave", true).await;
    let dave_id = app.attendee_id(&dave, &event).await;
    app.send(Method::DELETE, "/v1/me", Some(&dave.access_token), None).await;
    let feed = app.send(Method::POST, "/v1/me/calendar-feed", Some(&ada.access_token), None).await;
    let feed_url = feed.body["url"].as_str().unwrap().to_owned();
    let badge = app.badge_code(&ada, &event).await;

    let export = app.get("/v1/me/export", Some(&ada.access_token)).await;
    assert_eq!(export.status, StatusCode::OK);
    assert_eq!(export.header("content-type"), Some("application/json"));
    let doc = &export.body;
    assert_eq!(doc["format"], "hallway-export/1");
    assert_eq!(doc["account"]["id"], ada.account_id.as_str());
    assert_eq!(doc["account"]["email"], ada.email.as_str());
    assert!(doc["account"]["last_sign_in_at"].is_string());
    assert!(!doc["sign_in"]["sessions"].as_array().unwrap().is_empty());
    assert!(!doc["sign_in"]["codes_requested"].as_array().unwrap().is_empty());
    let memberships = doc["memberships"].as_array().unwrap();
    assert_eq!(memberships.len(), 1);
    assert_eq!(memberships[0]["event"]["id"], event.as_str());
    assert_eq!(memberships[0]["profile"]["role"], "attendee");
    assert_eq!(memberships[0]["badges"][0]["code"], badge.as_str());
    assert_eq!(doc["calendar_feed"]["active"], true);
    assert!(doc["mail"].as_array().unwrap().iter().any(|m| m["kind"].is_string()));

    let connections = doc["connections"].as_array().unwrap();
    assert_eq!(connections.len(), 1, "live connections only: {connections:#?}");
    let bob_side = &connections[0];
    assert_eq!(bob_side["connection_id"], with_bob.as_str());
    assert_eq!(bob_side["other"]["name"], "Bob Private");
    assert!(bob_side["other"].get("email").is_none(), "Bob does not share his email");
    assert_eq!(bob_side["tags"], json!(["rust"]));
    assert_eq!(bob_side["rating"], 5);
    assert_eq!(bob_side["follow_up"]["text"], "Send slides");
    let bodies: Vec<&str> =
        bob_side["notes"].as_array().unwrap().iter().map(|n| n["body"].as_str().unwrap()).collect();
    assert_eq!(
        bodies,
        ["First, met at the coffee line", "Second\nwith a line break", "Third: Zoë"]
    );
    let tombstones = doc["connection_tombstones"].as_array().unwrap();
    let reasons: Vec<(&str, &str)> = tombstones
        .iter()
        .map(|t| (t["reason"].as_str().unwrap(), t["other_attendee_id"].as_str().unwrap()))
        .collect();
    assert_eq!(reasons.len(), 2, "{tombstones:#?}");
    assert_eq!(reasons[0].0, "deleted_by_me");
    assert_eq!(tombstones[0]["connection_id"], deleted.as_str());
    assert_eq!(reasons[1], ("account_deleted", dave_id.as_str()));

    // No secret of mine, nothing of another person they do not share, no one else's notes.
    let text = String::from_utf8(export.raw.clone()).unwrap();
    let token = feed_url.rsplit('/').next().unwrap().trim_end_matches(".ics");
    assert!(!text.contains(token), "the feed token is never exported");
    assert!(!text.contains(&bob.email), "Bob's email is not shared with me");
    let mut all = Vec::new();
    keys(doc, &mut all);
    for secret in ["token_hash", "code_hash", "secret", "refresh_token", "access_token"] {
        assert!(!all.iter().any(|k| k == secret), "{secret} in the export");
    }
    let bobs = app.get("/v1/me/export", Some(&bob.access_token)).await;
    assert!(!String::from_utf8(bobs.raw).unwrap().contains("met at the coffee line"));
}

async fn an_export_of_thousands_of_connections_and_notes_is_whole_and_in_order(backend: Backend) {
    let app = spawn_app(backend).await;
    let (_, event, ada, _) = app.event_with_two().await;
    let owner = app.attendee_id(&ada, &event).await;
    let mut ids = seed_connections(&app, &event, &owner, 5_000);
    ids.sort();
    // Five notes on each of the first 450 connections: pages of 200 connections hold exactly
    // a chunk of 1,000 notes, the boundary where a page's notes continue in the next chunk.
    for id in &ids[..450] {
        seed::notes(&app, id, 5);
    }
    // Four follow-ups on each (20,000: open, done, snoozed, dismissed) and 500 touches.
    seed::follow_ups(&app, &ada.account_id, &ids, 4);
    let started = Instant::now();
    let export = app.get("/v1/me/export", Some(&ada.access_token)).await;
    let elapsed = started.elapsed();
    eprintln!(
        "export of 5,000 connections, 2,250 notes, 20,000 follow-ups and 500 touches \
         ({backend:?}, debug build): {elapsed:?}"
    );
    assert_eq!(export.status, StatusCode::OK);
    let connections = export.body["connections"].as_array().expect("valid JSON to the end");
    let exported: Vec<&str> =
        connections.iter().map(|c| c["connection_id"].as_str().unwrap()).collect();
    assert_eq!(exported, ids, "every connection once, by id");
    for (i, connection) in connections.iter().enumerate() {
        let notes = connection["notes"].as_array().unwrap();
        let expected = if i < 450 { 5 } else { 0 };
        assert_eq!(notes.len(), expected, "connection {i}");
        let bodies: Vec<&str> = notes.iter().map(|n| n["body"].as_str().unwrap()).collect();
        let wanted: Vec<String> = (0..expected).map(|n| format!("seeded note {n}")).collect();
        assert_eq!(bodies, wanted, "connection {i}: its own notes, in order");
    }
    assert_eq!(export.body["connection_tombstones"], json!([]));
    let follow_ups = export.body["follow_ups"].as_array().expect("follow-ups to the end");
    assert_eq!(follow_ups.len(), 20_000, "every follow-up once");
    let follow_up_ids: Vec<&str> =
        follow_ups.iter().map(|f| f["follow_up_id"].as_str().unwrap()).collect();
    assert!(follow_up_ids.windows(2).all(|w| w[0] < w[1]), "by id, none twice");
    for state in ["open", "done", "snoozed", "dismissed"] {
        let n = follow_ups.iter().filter(|f| f["state"] == state).count();
        assert_eq!(n, 5_000, "{state}");
    }
    assert!(
        follow_ups
            .iter()
            .filter(|f| f["state"] == "done")
            .all(|f| f["completed_at"].is_string() && f["completion_note"] == "seeded completion")
    );
    let touches = export.body["touches"].as_array().expect("touches to the end");
    assert_eq!(touches.len(), 500);
    assert!(touches.iter().all(|t| t["note"] == "seeded touch"));
}

async fn my_export_holds_every_follow_up_with_its_completion_and_origin_my_touches_and_digest(
    backend: Backend,
) {
    let app = spawn_app(backend).await;
    let (event, ada, bob, with_bob) = met_in_september(&app).await;
    let settings =
        json!({ "time_zone": "America/Los_Angeles", "digest": "weekly", "digest_hour": 7 });
    assert_eq!(
        app.patch("/v1/me", Some(&ada.access_token), &settings).await.status,
        StatusCode::OK
    );
    let sent = add(
        &app,
        &ada,
        &event,
        &with_bob,
        json!({ "kind": "send", "note": "The article on rate limiting", "due_at": "2026-09-20" }),
    )
    .await;
    let done = json!({ "state": "done", "completed_at": "2026-09-19T18:00:00Z", "completion_note": "sent with a note" });
    assert_eq!(
        change(&app, &ada, sent["follow_up_id"].as_str().unwrap(), done).await.status,
        StatusCode::OK
    );
    let meet =
        add(&app, &ada, &event, &with_bob, json!({ "kind": "meet", "due_at": "2026-10-01" })).await;
    let dismissed =
        change(&app, &ada, meet["follow_up_id"].as_str().unwrap(), json!({ "state": "dismissed" }))
            .await;
    assert_eq!(dismissed.status, StatusCode::OK);
    let later =
        add(&app, &ada, &event, &with_bob, json!({ "kind": "check_in", "due_at": "2026-10-02" }))
            .await;
    let snooze = json!({ "snoozed_until": "2099-01-01" });
    assert_eq!(
        change(&app, &ada, later["follow_up_id"].as_str().unwrap(), snooze).await.status,
        StatusCode::OK
    );
    let open = add(
        &app,
        &ada,
        &event,
        &with_bob,
        json!({ "kind": "introduce", "note": "to Carol", "due_at": "2099-02-01" }),
    )
    .await;
    let touch = json!({ "note": "we had coffee", "happened_at": "2026-09-25" });
    let touches = format!("/v1/events/{event}/connections/{with_bob}/touches");
    assert_eq!(
        app.post(&touches, Some(&ada.access_token), &touch).await.status,
        StatusCode::CREATED
    );

    let export = app.get("/v1/me/export", Some(&ada.access_token)).await;
    assert_eq!(export.status, StatusCode::OK);
    let doc = &export.body;
    assert_eq!(doc["account"]["time_zone"], "America/Los_Angeles");
    assert_eq!(doc["account"]["digest"], "weekly");
    assert_eq!(doc["account"]["digest_hour"], 7);
    let follow_ups = doc["follow_ups"].as_array().unwrap();
    let by_id = |made: &Value| {
        follow_ups.iter().find(|f| f["follow_up_id"] == made["follow_up_id"]).unwrap().clone()
    };
    assert_eq!(follow_ups.len(), 4, "every state: {follow_ups:#?}");
    let sent = by_id(&sent);
    assert_eq!(sent["state"], "done");
    assert_eq!(sent["completed_at"], "2026-09-19T18:00:00Z");
    assert_eq!(sent["completion_note"], "sent with a note");
    assert_eq!(
        (sent["due_on"].as_str(), sent["all_day"].as_bool()),
        (Some("2026-09-20"), Some(true))
    );
    assert_eq!(
        (sent["origin"].as_str(), sent["connection_id"].as_str()),
        (Some("manual"), Some(with_bob.as_str()))
    );
    assert_eq!(by_id(&meet)["state"], "dismissed");
    assert_eq!(by_id(&later)["state"], "snoozed");
    assert_eq!(by_id(&later)["snoozed_until"], "2099-01-01T08:00:00Z", "midnight in Los Angeles");
    assert_eq!(by_id(&open)["state"], "open");
    assert_eq!(by_id(&open)["note"], "to Carol");
    let touches = doc["touches"].as_array().unwrap();
    assert_eq!(touches.len(), 1);
    assert_eq!(
        (touches[0]["note"].as_str(), touches[0]["happened_on"].as_str()),
        (Some("we had coffee"), Some("2026-09-25"))
    );
    // The connection carries its cadence (none set) and the next open follow-up.
    assert_eq!(doc["connections"][0]["cadence"], "none");
    assert!(doc["connections"][0]["follow_up"]["follow_up_id"].is_string());

    // Deleting the connection deletes my follow-ups and touches on it; none of it was Bob's.
    let path = format!("/v1/events/{event}/connections/{with_bob}");
    app.send(Method::DELETE, &path, Some(&ada.access_token), None).await;
    let export = app.get("/v1/me/export", Some(&ada.access_token)).await;
    assert_eq!(
        (export.body["follow_ups"].clone(), export.body["touches"].clone()),
        (json!([]), json!([]))
    );
    assert_eq!(export.body["connections"], json!([]));
    let bobs = app.get("/v1/me/export", Some(&bob.access_token)).await;
    assert_eq!(
        (bobs.body["follow_ups"].clone(), bobs.body["touches"].clone()),
        (json!([]), json!([]))
    );
    assert!(!String::from_utf8(bobs.raw).unwrap().contains("rate limiting"));
}

async fn exports_of_my_data_are_limited_per_hour(backend: Backend) {
    let app = spawn_app(backend).await;
    let ada = app.sign_in("ada").await;
    for _ in 0..3 {
        let export = app.get("/v1/me/export", Some(&ada.access_token)).await;
        assert_eq!(export.status, StatusCode::OK);
        assert_eq!(export.body["connections"], json!([]));
    }
    let refused = app.get("/v1/me/export", Some(&ada.access_token)).await;
    assert_eq!(refused.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(refused.problem_code(), "rate_limited");
    let wait: u64 = refused.header("retry-after").unwrap().parse().unwrap();
    assert!((600..=1200).contains(&wait), "a third of an hour for one more: {wait}");
    assert_eq!(app.get("/v1/me/export", None).await.status, StatusCode::UNAUTHORIZED);
}
