//! Connections: notes kept as history, owner-side edits, deletion of one side, delta sync, stats.

use awc::http::{Method, StatusCode};
use diesel::prelude::*;
use futures_util::future::join_all;
use hallway::db::schema::{connection_notes, connection_tombstones, connections};
use hallway::domain::events::Role;
use serde_json::{Value, json};

use crate::both_backends;
use crate::helpers::{Backend, Session, TestApp, TestResponse, spawn_app};
use crate::seed;

both_backends!(
    notes_from_two_devices_are_both_kept_in_order,
    the_owner_changes_tags_rating_and_promise_but_not_invalidly,
    deleting_my_side_keeps_theirs_and_syncs_as_a_tombstone,
    delta_sync_pages_through_changes_since_a_sync_token,
    a_deleted_accounts_connections_sync_as_tombstones_without_their_data,
    organizer_stats_count_scans_connections_and_shared_topics_without_notes,
    connection_answers_carry_a_note_count_and_notes_are_paged_at_their_own_route,
    concurrent_notes_never_pass_the_cap_of_a_connection,
    concurrent_notes_never_pass_the_cap_of_a_person,
);

/// Every note of `person`'s connection `id`, oldest first, read page by page.
pub async fn all_notes(app: &TestApp, person: &Session, event: &str, id: &str) -> Vec<Value> {
    let path = format!("/v1/events/{event}/connections/{id}/notes?limit=100");
    let mut notes = Vec::new();
    let mut page = app.get(&path, Some(&person.access_token)).await;
    loop {
        assert_eq!(page.status, StatusCode::OK, "{}", page.body);
        notes.extend(page.body["items"].as_array().unwrap().iter().cloned());
        let Some(cursor) = page.body["next_cursor"].as_str() else { return notes };
        page = app.get(&format!("{path}&cursor={cursor}"), Some(&person.access_token)).await;
    }
}

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
    assert_eq!(laptop.body["note"]["body"], "From the laptop");
    assert_eq!(laptop.body["note_count"], 2);
    let all = all_notes(&app, &ada, &event, &id).await;
    let bodies: Vec<_> = all.iter().map(|n| n["body"].as_str().unwrap()).collect();
    assert_eq!(
        bodies,
        ["From the phone", "From the laptop"],
        "the second device never overwrites the first"
    );
    assert_eq!(all[0]["written_at"], "2026-09-08T17:05:00Z");

    let empty = app.post(&notes, Some(&ada.access_token), &json!({ "body": "  " })).await;
    assert_eq!(empty.status, StatusCode::UNPROCESSABLE_ENTITY);
    let by_bob = app.post(&notes, Some(&bob.access_token), &json!({ "body": "Not mine" })).await;
    assert_eq!(by_bob.status, StatusCode::NOT_FOUND, "a connection is its owner's alone");
    assert_eq!(by_bob.problem_code(), "connection_not_found");
    let bobs = app.connections(&bob, &event).await;
    assert_eq!(bobs[0]["note_count"], 0, "notes are never shown to the other side");
    let theirs = format!("/v1/events/{event}/connections/{id}/notes");
    let read_by_bob = app.get(&theirs, Some(&bob.access_token)).await;
    assert_eq!(read_by_bob.status, StatusCode::NOT_FOUND);
}

async fn the_owner_changes_tags_rating_and_promise_but_not_invalidly(backend: Backend) {
    let app = spawn_app(backend).await;
    let (_, event, ada, bob) = app.event_with_two().await;
    let scanned = app.scan(&ada, &event, &app.badge_code(&bob, &event).await).await;
    let path = format!(
        "/v1/events/{event}/connections/{}",
        scanned.body["connection"]["connection_id"].as_str().unwrap()
    );

    let due = (chrono::Utc::now() + chrono::Duration::days(10)).date_naive().to_string();
    let changed = app
        .patch(&path, Some(&ada.access_token), &json!({ "tags": ["rust", "hiring", "rust"], "rating": 4, "follow_up": { "text": "Send the RFC link", "due_at": due } }))
        .await;
    assert_eq!(changed.status, StatusCode::OK, "{}", changed.body);
    assert_eq!(changed.body["tags"], json!(["rust", "hiring"]));
    assert_eq!(changed.body["rating"], 4);
    let promise = &changed.body["follow_up"];
    assert_eq!(promise["text"], "Send the RFC link");
    assert_eq!(
        promise["due_at"],
        format!("{due}T00:00:00Z"),
        "the day's start in UTC, the default zone"
    );
    assert_eq!(
        (promise["due_on"].as_str(), promise["all_day"].as_bool()),
        (Some(due.as_str()), Some(true))
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
    let noted =
        app.post(&format!("{path}/notes"), Some(&ada.access_token), &json!({ "body": "x" })).await;
    assert_eq!(noted.body["note_count"], 1);

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
    assert_eq!(again.body["connection"]["note_count"], 0, "its notes went, and their count");
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
    assert_eq!(tombstone["note_count"], 0);
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

/// 150 notes of 5,000 characters on one connection: every view of the connection stays small,
/// and the notes come a page at a time.
async fn connection_answers_carry_a_note_count_and_notes_are_paged_at_their_own_route(
    backend: Backend,
) {
    let app = spawn_app(backend).await;
    let (_, event, ada, bob) = app.event_with_two().await;
    let code = app.badge_code(&bob, &event).await;
    let note = "n".repeat(5000);
    let items: Vec<Value> = (0..150)
        .map(|_| json!({ "client_scan_id": uuid::Uuid::new_v4().to_string(), "badge_code": code, "scanned_at": "2026-09-08T17:00:00Z", "note": note }))
        .collect();
    let synced = app.scan_batch(&ada, &event, json!(items)).await;
    assert_eq!(synced.status, StatusCode::OK, "{}", synced.body);
    let id = synced.body["results"][0]["connection"]["connection_id"].as_str().unwrap().to_owned();
    let list = format!("/v1/events/{event}/connections");
    let path = format!("{list}/{id}");
    let token = Some(ada.access_token.as_str());

    let views = [
        app.get(&path, token).await.body,
        app.get(&list, token).await.body["items"][0].clone(),
        app.get(&format!("{list}?updated_since=2000-01-01T00%3A00%3A00Z"), token).await.body
            ["items"][0]
            .clone(),
        app.patch(&path, token, &json!({ "rating": 3 })).await.body,
    ];
    for view in views {
        assert_eq!(view["connection_id"], id.as_str(), "{view}");
        assert_eq!(view["note_count"], 150);
        assert!(view.get("notes").is_none(), "no notes in a view: {view}");
        assert!(view.to_string().len() < 4_000, "a view does not grow with its notes");
    }

    let notes = format!("{path}/notes");
    let first = app.get(&format!("{notes}?limit=100"), token).await;
    assert_eq!(first.status, StatusCode::OK, "{}", first.body);
    let cursor = first.body["next_cursor"].as_str().unwrap();
    let second = app.get(&format!("{notes}?limit=100&cursor={cursor}"), token).await;
    assert_eq!(second.body["next_cursor"], json!(null), "the last page");
    let ids: Vec<&str> = [&first, &second]
        .iter()
        .flat_map(|page| page.body["items"].as_array().unwrap())
        .map(|n| {
            assert_eq!(n["body"].as_str().unwrap().len(), 5000);
            n["id"].as_str().unwrap()
        })
        .collect();
    assert_eq!(ids.len(), 150);
    assert!(ids.windows(2).all(|w| w[0] < w[1]), "oldest first, each once");
    for bad in ["?limit=101", "?limit=0", "?cursor=nonsense"] {
        let refused = app.get(&format!("{notes}{bad}"), token).await;
        assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY, "{bad}");
    }
    let unknown = format!("{list}/{}/notes", uuid::Uuid::new_v4());
    assert_eq!(app.get(&unknown, token).await.status, StatusCode::NOT_FOUND);
}

fn note_rows(app: &TestApp, connection_id: &str) -> i64 {
    let id = connection_id.to_owned();
    app.query(move |conn| {
        connection_notes::table
            .filter(connection_notes::connection_id.eq(&id))
            .count()
            .get_result(conn)
    })
}

/// `(accepted, refused)` of answers to writes of notes: 2xx, and 409 `note_limit_reached`.
fn tally(answers: &[TestResponse]) -> (usize, usize) {
    let accepted = answers.iter().filter(|a| a.status.is_success()).count();
    let refused = answers
        .iter()
        .filter(|a| a.status == StatusCode::CONFLICT && a.problem_code() == "note_limit_reached")
        .count();
    assert_eq!(accepted + refused, answers.len(), "only these two answers");
    (accepted, refused)
}

/// A connection five notes short of its 200: twenty writes at once, notes added and scans with
/// notes, from several devices. Exactly five land.
async fn concurrent_notes_never_pass_the_cap_of_a_connection(backend: Backend) {
    let app = spawn_app(backend).await;
    let (_, event, ada, bob) = app.event_with_two().await;
    let code = app.badge_code(&bob, &event).await;
    let items: Vec<Value> = (0..195)
        .map(|i| json!({ "client_scan_id": uuid::Uuid::new_v4().to_string(), "badge_code": code, "scanned_at": "2026-09-08T17:00:00Z", "note": format!("note {i}") }))
        .collect();
    let synced = app.scan_batch(&ada, &event, json!(items)).await;
    assert_eq!(synced.status, StatusCode::OK, "{}", synced.body);
    let id = synced.body["results"][0]["connection"]["connection_id"].as_str().unwrap().to_owned();
    let path = format!("/v1/events/{event}/connections/{id}/notes");

    let (app, path, token) = (&app, &path, Some(ada.access_token.as_str()));
    let added = (0..10).map(|i| async move {
        app.post(path, token, &json!({ "body": format!("added {i}") })).await
    });
    let scanned = (0..10).map(|i| {
        app.scan_with(&ada, &event, json!({ "client_scan_id": uuid::Uuid::new_v4().to_string(), "badge_code": code, "scanned_at": "2026-09-08T18:00:00Z", "note": format!("scanned {i}") }))
    });
    let (added, scanned) = tokio::join!(join_all(added), join_all(scanned));
    let answers: Vec<TestResponse> = added.into_iter().chain(scanned).collect();
    assert_eq!(tally(&answers), (5, 15));
    assert_eq!(note_rows(app, &id), 200);
    let read = app.get(&format!("/v1/events/{event}/connections/{id}"), token).await;
    assert_eq!(read.body["note_count"], 200);
}

/// A person ten notes short of their 5,000 in the event, with room left on two connections
/// (10 and 200 notes): twenty notes at once, ten on each. Exactly ten land.
async fn concurrent_notes_never_pass_the_cap_of_a_person(backend: Backend) {
    let app = spawn_app(backend).await;
    let (org, event) = app.organizer_with_event().await;
    let ada = app.sign_in("ada").await;
    app.join(&org, &ada, &event).await;
    let others = seed::people(&app, &event, Role::Attendee, 26);
    let mut items = Vec::new();
    for person in &others {
        let badge =
            app.get(&format!("/v1/events/{event}/me/badge"), Some(&person.access_token)).await;
        items.push(json!({ "client_scan_id": uuid::Uuid::new_v4().to_string(), "badge_code": badge.body["code"], "scanned_at": "2026-09-08T17:00:00Z" }));
    }
    let synced = app.scan_batch(&ada, &event, json!(items)).await;
    assert_eq!(synced.status, StatusCode::OK, "{}", synced.body);
    let ids: Vec<String> = synced.body["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["connection"]["connection_id"].as_str().unwrap().to_owned())
        .collect();
    for id in &ids[..24] {
        seed::notes(&app, id, 200);
    }
    seed::notes(&app, &ids[24], 190);

    let list = format!("/v1/events/{event}/connections");
    let (app, ids, token) = (&app, &ids, Some(ada.access_token.as_str()));
    let writes = (0..20).map(|i| {
        let path = format!("{list}/{}/notes", ids[24 + i % 2]);
        async move { app.post(&path, token, &json!({ "body": format!("note {i}") })).await }
    });
    let answers = join_all(writes).await;
    assert_eq!(tally(&answers), (10, 10));
    let refused = answers.iter().find(|a| a.status == StatusCode::CONFLICT).unwrap();
    assert!(refused.body["detail"].as_str().unwrap().contains("5000 notes in this event"));
    let owner_ids = ids.clone();
    let counted: Vec<i32> = app.query(move |conn| {
        connections::table
            .filter(connections::id.eq_any(&owner_ids))
            .select(connections::note_count)
            .load(conn)
    });
    assert_eq!(counted.iter().sum::<i32>(), 5000);
    let rows: i64 = ids.iter().map(|id| note_rows(app, id)).sum();
    assert_eq!(rows, 5000);
}
