//! Delta sync's horizon holds under slow writers: a change whose transaction began before a sync
//! and committed after it is in the next delta, however long that transaction ran.

use std::time::Duration;

use awc::http::StatusCode;
use diesel::Connection as _;
use futures_util::future::join;
use hallway::db::connections::ConnectionChanges;
use serde_json::{Value, json};

use crate::both_backends;
use crate::helpers::{Backend, Session, TestApp, spawn_app};

both_backends!(a_change_committed_by_a_slow_transaction_after_a_sync_is_in_the_next_delta);

/// A delta of `person`'s connections since `token`: (items, the next token).
async fn delta(app: &TestApp, person: &Session, event: &str, token: &str) -> (Vec<Value>, String) {
    let token = token.replace(':', "%3A").replace('+', "%2B");
    let page = app
        .get(
            &format!("/v1/events/{event}/connections?updated_since={token}"),
            Some(&person.access_token),
        )
        .await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(page.body["next_cursor"].is_null());
    (
        page.body["items"].as_array().unwrap().clone(),
        page.body["sync_token"].as_str().unwrap().to_owned(),
    )
}

fn rating_of(items: &[Value], connection_id: &str) -> Option<Value> {
    items.iter().find(|c| c["connection_id"] == connection_id).map(|c| c["rating"].clone())
}

async fn a_change_committed_by_a_slow_transaction_after_a_sync_is_in_the_next_delta(
    backend: Backend,
) {
    let app = spawn_app(backend).await;
    let (org, event, ada, bob) = app.event_with_two().await;
    let cy = app.sign_in("cy").await;
    app.join(&org, &cy, &event).await;
    for other in [&bob, &cy] {
        let code = app.badge_code(other, &event).await;
        assert_eq!(app.scan(&ada, &event, &code).await.status, StatusCode::CREATED);
    }
    let me = app.get(&format!("/v1/events/{event}/me"), Some(&ada.access_token)).await;
    let ada_id = me.body["attendee_id"].as_str().unwrap().to_owned();
    let list = app.connections(&ada, &event).await;
    let mut attendee_ids = Vec::new();
    for person in [&bob, &cy] {
        let profile = app.get(&format!("/v1/events/{event}/me"), Some(&person.access_token)).await;
        attendee_ids.push(profile.body["attendee_id"].as_str().unwrap().to_owned());
    }
    let id_with = |attendee_id: &str| {
        list.iter().find(|c| c["other"]["attendee_id"] == attendee_id).unwrap()["connection_id"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    let (with_bob, with_cy) = (id_with(&attendee_ids[0]), id_with(&attendee_ids[1]));
    let full = app.get(&format!("/v1/events/{event}/connections"), Some(&ada.access_token)).await;
    let start = full.body["sync_token"].as_str().unwrap().to_owned();

    // A transaction of its own changes Ada's connection with Bob, then stays open.
    let (ready, opened) = tokio::sync::oneshot::channel::<()>();
    let (go, release) = std::sync::mpsc::channel::<()>();
    let (url, owner, connection) = (app.database_url.clone(), ada_id.clone(), with_bob.clone());
    let account = ada.account_id.clone();
    let slow = std::thread::spawn(move || {
        let db = hallway::db::connect(&url, 1).unwrap();
        let mut conn = db.get().unwrap();
        conn.transaction(|conn| {
            let changes = ConnectionChanges { rating: Some(Some(5)), ..Default::default() };
            let rating =
                hallway::domain::connections::ConnectionPatch { changes, ..Default::default() };
            hallway::domain::connections::update(conn, &account, &owner, &connection, rating)?;
            // Longer than a second: what a time-based horizon with a one-second margin misses.
            std::thread::sleep(Duration::from_millis(1200));
            ready.send(()).unwrap();
            release.recv().unwrap();
            Ok::<_, hallway::error::Error>(())
        })
        .unwrap();
    });
    opened.await.unwrap();

    // Meanwhile Ada changes her connection with Cy (on SQLite it commits after the slow one, as
    // the writer waits for the lock; on PostgreSQL it may commit first), and her phone syncs.
    let cy_path = format!("/v1/events/{event}/connections/{with_cy}");
    let (changed, during) =
        join(app.patch(&cy_path, Some(&ada.access_token), &json!({ "rating": 3 })), async {
            let during = delta(&app, &ada, &event, &start).await;
            go.send(()).unwrap();
            during
        })
        .await;
    assert_eq!(changed.status, StatusCode::OK, "{}", changed.body);
    slow.join().unwrap();
    let (seen, token) = during;
    assert_ne!(rating_of(&seen, &with_bob), Some(json!(5)), "the open transaction is not seen");

    let (next, _) = delta(&app, &ada, &event, &token).await;
    assert_eq!(rating_of(&next, &with_bob), Some(json!(5)), "the slow change is in the next delta");
    let cy_rating = rating_of(&next, &with_cy).or_else(|| rating_of(&seen, &with_cy));
    assert_eq!(cy_rating, Some(json!(3)));
}

both_backends!(a_change_committed_between_two_pages_of_a_sync_is_in_this_sync_or_the_next);

/// One page of `person`'s delta since `token`, `limit` at a time, from `cursor`.
async fn delta_page(
    app: &TestApp,
    person: &Session,
    event: &str,
    token: &str,
    cursor: Option<&str>,
) -> Value {
    let token = token.replace(':', "%3A").replace('+', "%2B");
    let after = cursor.map(|c| format!("&cursor={c}")).unwrap_or_default();
    let page = app
        .get(
            &format!("/v1/events/{event}/connections?limit=1&updated_since={token}{after}"),
            Some(&person.access_token),
        )
        .await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    page.body
}

async fn a_change_committed_between_two_pages_of_a_sync_is_in_this_sync_or_the_next(
    backend: Backend,
) {
    let app = spawn_app(backend).await;
    let (org, event, ada, bob) = app.event_with_two().await;
    let (cy, dee) = (app.sign_in("cy").await, app.sign_in("dee").await);
    for other in [&bob, &cy, &dee] {
        app.join(&org, other, &event).await;
        let code = app.badge_code(other, &event).await;
        assert_eq!(app.scan(&ada, &event, &code).await.status, StatusCode::CREATED);
    }
    let me = app.get(&format!("/v1/events/{event}/me"), Some(&ada.access_token)).await;
    let ada_id = me.body["attendee_id"].as_str().unwrap().to_owned();
    let mut ids = Vec::new();
    for person in [&bob, &cy, &dee] {
        let profile = app.get(&format!("/v1/events/{event}/me"), Some(&person.access_token)).await;
        let attendee = profile.body["attendee_id"].clone();
        let list = app.connections(&ada, &event).await;
        let found = list.iter().find(|c| c["other"]["attendee_id"] == attendee).unwrap();
        ids.push(found["connection_id"].as_str().unwrap().to_owned());
    }
    let (with_bob, with_cy, with_dee) = (ids[0].clone(), ids[1].clone(), ids[2].clone());
    let full = app.get(&format!("/v1/events/{event}/connections"), Some(&ada.access_token)).await;
    let start = full.body["sync_token"].as_str().unwrap().to_owned();

    // A slow transaction changes Ada's connection with Bob first and commits last.
    let (ready, opened) = tokio::sync::oneshot::channel::<()>();
    let (go, release) = std::sync::mpsc::channel::<()>();
    let (url, owner, connection) = (app.database_url.clone(), ada_id.clone(), with_bob.clone());
    let account = ada.account_id.clone();
    let slow = std::thread::spawn(move || {
        let db = hallway::db::connect(&url, 1).unwrap();
        let mut conn = db.get().unwrap();
        conn.transaction(|conn| {
            let changes = ConnectionChanges { rating: Some(Some(5)), ..Default::default() };
            let rating =
                hallway::domain::connections::ConnectionPatch { changes, ..Default::default() };
            hallway::domain::connections::update(conn, &account, &owner, &connection, rating)?;
            ready.send(()).unwrap();
            release.recv().unwrap();
            Ok::<_, hallway::error::Error>(())
        })
        .unwrap();
    });
    opened.await.unwrap();

    // Meanwhile (on PostgreSQL; SQLite's writer waits for the slow one) Ada's connections with Cy
    // and Dee change, and her phone reads the first page of its delta; then the slow one commits
    // and the phone reads the second page.
    let (app, ada) = (&app, &ada);
    let patch = |id: String, rating: i64| {
        let path = format!("/v1/events/{event}/connections/{id}");
        async move { app.patch(&path, Some(&ada.access_token), &json!({ "rating": rating })).await }
    };
    let both = futures_util::future::join(patch(with_cy.clone(), 3), patch(with_dee.clone(), 4));
    let (seen, token) = match backend {
        Backend::Postgres => {
            let (cy_done, dee_done) = both.await;
            assert_eq!((cy_done.status, dee_done.status), (StatusCode::OK, StatusCode::OK));
            let first = delta_page(app, ada, &event, &start, None).await;
            go.send(()).unwrap();
            slow.join().unwrap();
            collect_pages(app, ada, &event, &start, first).await
        }
        Backend::Sqlite => {
            let (done, ()) = join(both, async { go.send(()).unwrap() }).await;
            assert_eq!((done.0.status, done.1.status), (StatusCode::OK, StatusCode::OK));
            slow.join().unwrap();
            let first = delta_page(app, ada, &event, &start, None).await;
            collect_pages(app, ada, &event, &start, first).await
        }
    };
    let (next, _) = delta(app, ada, &event, &token).await;
    let bob_rating = rating_of(&seen, &with_bob).filter(|r| *r == json!(5));
    assert!(
        bob_rating.is_some() || rating_of(&next, &with_bob) == Some(json!(5)),
        "the slow change is in this sync or the next: {seen:?} then {next:?}"
    );
    assert_eq!(rating_of(&seen, &with_cy), Some(json!(3)));
    assert_eq!(rating_of(&seen, &with_dee), Some(json!(4)));
}

/// Follows `first`'s cursors to the end: every item, and the sync token of the last page.
async fn collect_pages(
    app: &TestApp,
    person: &Session,
    event: &str,
    token: &str,
    first: Value,
) -> (Vec<Value>, String) {
    let mut items: Vec<Value> = first["items"].as_array().unwrap().clone();
    let mut page = first;
    while let Some(cursor) = page["next_cursor"].as_str().map(str::to_owned) {
        page = delta_page(app, person, event, token, Some(&cursor)).await;
        items.extend(page["items"].as_array().unwrap().iter().cloned());
    }
    (items, page["sync_token"].as_str().unwrap().to_owned())
}
