//! Connections: notes kept as history, owner-side edits, deletion of one side, delta sync, stats.

use awc::http::{Method, StatusCode};
use diesel::prelude::*;
use hallway::db::schema::connection_tombstones;
use serde_json::json;

use crate::both_backends;
use crate::helpers::{Backend, spawn_app};

both_backends!(
    notes_from_two_devices_are_both_kept_in_order,
    the_owner_changes_tags_rating_and_promise_but_not_invalidly,
    deleting_my_side_keeps_theirs_and_syncs_as_a_tombstone,
    delta_sync_pages_through_changes_since_a_sync_token,
    a_deleted_accounts_connections_sync_as_tombstones_without_their_data,
    organizer_stats_count_scans_connections_and_shared_topics_without_notes,
);

async fn notes_from_two_devices_are_both_kept_in_order(backend: Backend) {
    let app = spawn_app(backend).await;
    let (_, event, ada, bob) = app.event_with_two().await;
    let scanned = app.scan(&ada, &event, &app.badge_code(&bob, &event).await).await;
    let id = scanned.body["connection"]["connection_id"].as_str().unwrap().to_owned();
    let notes = format!("/v1/events/{event}/connections/{id}/notes");

    let phone = app
        .post(
            &notes,
            Some(&ada.access_token),
            &json!({ "body": "From the phone", "written_at": "2026-09-08T17:05:00Z" }),
        )
        .await;
    assert_eq!(phone.status, StatusCode::CREATED, "{}", phone.body);
    let laptop =
        app.post(&notes, Some(&ada.access_token), &json!({ "body": "From the laptop" })).await;
    let bodies: Vec<_> = laptop.body["notes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["body"].as_str().unwrap())
        .collect();
    assert_eq!(
        bodies,
        ["From the phone", "From the laptop"],
        "the second device never overwrites the first"
    );
    assert_eq!(laptop.body["notes"][0]["written_at"], "2026-09-08T17:05:00Z");

    let empty = app.post(&notes, Some(&ada.access_token), &json!({ "body": "  " })).await;
    assert_eq!(empty.status, StatusCode::UNPROCESSABLE_ENTITY);
    let by_bob = app.post(&notes, Some(&bob.access_token), &json!({ "body": "Not mine" })).await;
    assert_eq!(by_bob.status, StatusCode::NOT_FOUND, "a connection is its owner's alone");
    assert_eq!(by_bob.problem_code(), "connection_not_found");
    let bobs = app.connections(&bob, &event).await;
    assert_eq!(bobs[0]["notes"], json!([]), "notes are never shown to the other side");
}

async fn the_owner_changes_tags_rating_and_promise_but_not_invalidly(backend: Backend) {
    let app = spawn_app(backend).await;
    let (_, event, ada, bob) = app.event_with_two().await;
    let scanned = app.scan(&ada, &event, &app.badge_code(&bob, &event).await).await;
    let path = format!(
        "/v1/events/{event}/connections/{}",
        scanned.body["connection"]["connection_id"].as_str().unwrap()
    );

    let changed = app
        .patch(&path, Some(&ada.access_token), &json!({ "tags": ["rust", "hiring", "rust"], "rating": 4, "follow_up": { "text": "Send the RFC link", "due_at": "2026-09-20" } }))
        .await;
    assert_eq!(changed.status, StatusCode::OK, "{}", changed.body);
    assert_eq!(changed.body["tags"], json!(["rust", "hiring"]));
    assert_eq!(changed.body["rating"], 4);
    assert_eq!(
        changed.body["follow_up"],
        json!({ "text": "Send the RFC link", "due_at": "2026-09-20T00:00:00Z" })
    );
    for bad in [
        json!({ "rating": 6 }),
        json!({ "tags": [""] }),
        json!({ "follow_up": { "text": "" } }),
        json!({ "follow_up": { "text": "x", "due_at": "soon" } }),
    ] {
        let response = app.patch(&path, Some(&ada.access_token), &bad).await;
        assert_eq!(response.status, StatusCode::UNPROCESSABLE_ENTITY, "{bad}");
    }
    let notes = app.patch(&path, Some(&ada.access_token), &json!({ "notes": [] })).await;
    assert_eq!(notes.status, StatusCode::BAD_REQUEST, "notes are added, never replaced");
    let cleared = app
        .patch(&path, Some(&ada.access_token), &json!({ "rating": null, "follow_up": null }))
        .await;
    assert_eq!(
        (cleared.body["rating"].clone(), cleared.body["follow_up"].clone()),
        (json!(null), json!(null))
    );
    assert_eq!(cleared.body["tags"], json!(["rust", "hiring"]));
}

async fn deleting_my_side_keeps_theirs_and_syncs_as_a_tombstone(backend: Backend) {
    let app = spawn_app(backend).await;
    let (_, event, ada, bob) = app.event_with_two().await;
    let before = chrono::Utc::now().to_rfc3339();
    let bob_code = app.badge_code(&bob, &event).await;
    let scanned = app.scan(&ada, &event, &bob_code).await;
    let id = scanned.body["connection"]["connection_id"].as_str().unwrap().to_owned();
    let path = format!("/v1/events/{event}/connections/{id}");

    assert_eq!(
        app.send(Method::DELETE, &path, Some(&ada.access_token), None).await.status,
        StatusCode::NO_CONTENT
    );
    assert!(app.connections(&ada, &event).await.is_empty());
    assert_eq!(app.get(&path, Some(&ada.access_token)).await.status, StatusCode::NOT_FOUND);
    assert_eq!(app.connections(&bob, &event).await.len(), 1, "Bob keeps his side");
    let delta = app
        .get(
            &format!("/v1/events/{event}/connections?updated_since={}", urlencode(&before)),
            Some(&ada.access_token),
        )
        .await;
    assert_eq!(delta.body["items"].as_array().unwrap().len(), 1);
    assert_eq!(delta.body["items"][0]["connection_id"], id.as_str());
    assert_eq!(delta.body["items"][0]["deleted"], true);
    assert_eq!(
        app.send(Method::DELETE, &path, Some(&bob.access_token), None).await.status,
        StatusCode::NOT_FOUND,
        "not Bob's to delete"
    );

    let again = app.scan(&ada, &event, &bob_code).await;
    assert_eq!(again.body["status"], "created", "scanning again brings the connection back");
    assert_eq!(again.body["connection"]["connection_id"], id.as_str());
}

fn urlencode(value: &str) -> String {
    value.replace('+', "%2B").replace(':', "%3A")
}

async fn delta_sync_pages_through_changes_since_a_sync_token(backend: Backend) {
    let app = spawn_app(backend).await;
    let (org, event, ada, _) = app.event_with_two().await;
    let mut codes = Vec::new();
    for i in 0..3 {
        let person = app.sign_in(&format!("p{i}")).await;
        app.join(&org, &person, &event).await;
        codes.push(app.badge_code(&person, &event).await);
    }
    for code in &codes {
        app.scan(&ada, &event, code).await;
    }
    let list = format!("/v1/events/{event}/connections");
    let first = app.get(&format!("{list}?limit=2"), Some(&ada.access_token)).await;
    assert_eq!(first.body["items"].as_array().unwrap().len(), 2);
    assert_eq!(first.body["sync_token"], json!(null), "no sync token before the last page");
    let cursor = first.body["next_cursor"].as_str().unwrap();
    let second = app.get(&format!("{list}?limit=2&cursor={cursor}"), Some(&ada.access_token)).await;
    assert_eq!(second.body["items"].as_array().unwrap().len(), 1);
    let token = second.body["sync_token"].as_str().unwrap().to_owned();

    // The delta holds only what changed after the token.
    let id = first.body["items"][0]["connection_id"].as_str().unwrap();
    let note = app
        .post(&format!("{list}/{id}/notes"), Some(&ada.access_token), &json!({ "body": "later" }))
        .await;
    assert_eq!(note.status, StatusCode::CREATED);
    let delta = app
        .get(&format!("{list}?updated_since={}", urlencode(&token)), Some(&ada.access_token))
        .await;
    let ids: Vec<_> = delta.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["connection_id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, [id], "only the changed connection is in the delta");
    let next = delta.body["sync_token"].as_str().unwrap();
    let none = app
        .get(&format!("{list}?updated_since={}", urlencode(next)), Some(&ada.access_token))
        .await;
    assert_eq!(none.body["items"], json!([]), "nothing changed since");
    // A token of the time-based kind, or of someone else, gets everything again (a full resync)
    // and a token of the new kind.
    let old_kind = chrono::Utc::now().to_rfc3339();
    let other = app.get(&format!("/v1/events/{event}/connections"), Some(&org.access_token)).await;
    let someone_elses = other.body["sync_token"].as_str().unwrap().to_owned();
    for stale in [old_kind, someone_elses] {
        let all = app
            .get(&format!("{list}?updated_since={}", urlencode(&stale)), Some(&ada.access_token))
            .await;
        assert_eq!(all.status, StatusCode::OK, "{}", all.body);
        assert_eq!(all.body["items"].as_array().unwrap().len(), 3, "{stale}");
        assert_ne!(all.body["sync_token"].as_str(), Some(stale.as_str()));
    }
    for bad in ["?cursor=nonsense", "?updated_since=yesterday", "?limit=0"] {
        assert_eq!(
            app.get(&format!("{list}{bad}"), Some(&ada.access_token)).await.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{bad}"
        );
    }
}

/// Bob deletes his account: Ada's phone, which synced before, learns of it by delta sync, as a
/// tombstone that keeps nothing of Bob's but his former attendee id; merged in order with her own
/// changes, page by page.
async fn a_deleted_accounts_connections_sync_as_tombstones_without_their_data(backend: Backend) {
    let app = spawn_app(backend).await;
    let (org, event, ada, bob) = app.event_with_two().await;
    let carol = app.sign_in("carol").await;
    app.join(&org, &carol, &event).await;
    let bob_code = app.badge_code(&bob, &event).await;
    let with_bob = app.scan(&ada, &event, &bob_code).await.body["connection"].clone();
    let list = format!("/v1/events/{event}/connections");
    let synced = app.get(&list, Some(&ada.access_token)).await;
    let token = synced.body["sync_token"].as_str().unwrap().to_owned();
    let since = format!("{list}?updated_since={}", urlencode(&token));
    // After the sync: a new connection, Bob's deletion, then a note that changes the new one.
    let before = app.scan(&ada, &event, &app.badge_code(&carol, &event).await).await;
    let deleted = app.send(Method::DELETE, "/v1/me", Some(&bob.access_token), None).await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT);
    let carol_id = before.body["connection"]["connection_id"].as_str().unwrap();
    let note = app
        .post(&format!("{list}/{carol_id}/notes"), Some(&ada.access_token), &json!({ "body": "x" }))
        .await;
    assert_eq!(note.status, StatusCode::CREATED);

    let mut seen = Vec::new();
    let mut page = app.get(&format!("{since}&limit=1"), Some(&ada.access_token)).await;
    loop {
        assert_eq!(page.status, StatusCode::OK, "{}", page.body);
        seen.extend(page.body["items"].as_array().unwrap().iter().cloned());
        let Some(cursor) = page.body["next_cursor"].as_str() else { break };
        page = app.get(&format!("{since}&limit=1&cursor={cursor}"), Some(&ada.access_token)).await;
    }
    let order: Vec<(&str, bool)> = seen
        .iter()
        .map(|c| (c["connection_id"].as_str().unwrap(), c["deleted"].as_bool().unwrap()))
        .collect();
    let bob_connection = with_bob["connection_id"].as_str().unwrap();
    assert_eq!(order, [(bob_connection, true), (carol_id, false)], "each once, in order of change");
    let tombstone = &seen[0];
    assert_eq!(
        tombstone["other"],
        json!({ "attendee_id": with_bob["other"]["attendee_id"], "name": "", "can_talk_about": [], "want_to_learn": [] })
    );
    assert_eq!(tombstone["notes"], json!([]));
    let everything = app.connections(&ada, &event).await;
    assert_eq!(everything.len(), 1, "the full list has no tombstones");
    let buried = |id: &str| {
        let id = id.to_owned();
        app.query(move |conn| {
            connection_tombstones::table
                .filter(connection_tombstones::connection_id.eq(&id))
                .count()
                .get_result::<i64>(conn)
        })
    };
    assert_eq!(buried(bob_connection), 1);
    let gone = app.send(Method::DELETE, "/v1/me", Some(&ada.access_token), None).await;
    assert_eq!(gone.status, StatusCode::NO_CONTENT);
    assert_eq!(buried(bob_connection), 0, "Ada's tombstones went with her account");
    assert!(app.connections(&carol, &event).await.is_empty(), "Carol's side of Ada went too");
    let all = app.query(|conn| connection_tombstones::table.count().get_result::<i64>(conn));
    assert_eq!(all, 1, "and became Carol's tombstone");
}

async fn organizer_stats_count_scans_connections_and_shared_topics_without_notes(backend: Backend) {
    let app = spawn_app(backend).await;
    let (org, event, ada, bob) = app.event_with_two().await;
    app.seed_topics(
        &org,
        &event,
        json!([{ "slug": "rust", "name": "Rust" }, { "slug": "go", "name": "Go" }]),
    )
    .await;
    let me = format!("/v1/events/{event}/me");
    app.patch(&me, Some(&ada.access_token), &json!({ "can_talk_about": ["rust", "go"] })).await;
    app.patch(&me, Some(&bob.access_token), &json!({ "want_to_learn": ["rust"] })).await;
    let bob_code = app.badge_code(&bob, &event).await;
    app.scan_with(&ada, &event, json!({ "client_scan_id": uuid::Uuid::new_v4().to_string(), "badge_code": bob_code, "scanned_at": chrono::Utc::now().to_rfc3339(), "note": "SECRET NOTE" })).await;
    app.scan(&ada, &event, &bob_code).await;
    app.scan(&ada, &event, "ZZZZZZZZZZZZZZZZZZZZ").await;

    let stats = app.get(&format!("/v1/events/{event}/stats"), Some(&org.access_token)).await;
    assert_eq!(stats.status, StatusCode::OK);
    let b = &stats.body;
    assert_eq!(
        (b["scans"].as_u64(), b["connections"].as_u64(), b["people_connected"].as_u64()),
        (Some(2), Some(1), Some(2))
    );
    assert_eq!(b["top_topics_among_connections"], json!([{ "slug": "rust", "pairs": 1 }]));
    assert!(!stats.body.to_string().contains("SECRET NOTE"), "organizers never see notes");
}
