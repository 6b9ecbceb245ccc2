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
