//! From what I heard to a promise: a conversation starter's listen-for made into a follow-up on
//! the connection, the starter recorded as its origin, and organizers counting which prompts led
//! to follow-ups done.

use awc::http::StatusCode;
use diesel::prelude::*;
use hallway::db::schema::starter_shows;
use serde_json::{Value, json};

use crate::both_backends;
use crate::follow_ups::{add, change};
use crate::helpers::{Backend, Session, TestApp, spawn_app};
use crate::starters::{ada_meets_bob, profile};

both_backends!(
    a_starters_listen_for_becomes_a_follow_up_with_the_starter_as_its_origin,
    organizers_count_per_prompt_and_topic_the_connections_whose_follow_up_from_it_was_done,
    a_starter_never_shown_to_me_about_this_person_is_not_found,
    another_persons_connection_is_not_found_even_with_a_starter_of_mine,
    a_starter_that_goes_leaves_its_follow_up_without_an_origin,
);

/// `ada`'s connection with `other` (scanned now, or already there) and the starters she is
/// shown on it.
async fn connected(
    app: &TestApp,
    event: &str,
    ada: &Session,
    other: &Session,
) -> (String, Vec<Value>) {
    let scanned = app.scan(ada, event, &app.badge_code(other, event).await).await;
    assert!(scanned.status.is_success(), "{}", scanned.body);
    let connection = scanned.body["connection"]["connection_id"].as_str().unwrap().to_owned();
    let path = format!("/v1/events/{event}/connections/{connection}/starters?limit=10");
    let shown = app.get(&path, Some(&ada.access_token)).await;
    assert_eq!(shown.status, StatusCode::OK, "{}", shown.body);
    (connection, shown.body["starters"].as_array().unwrap().clone())
}

fn promise(starter: &Value) -> Value {
    json!({ "kind": "send", "note": "The operator talk", "due_at": "2099-01-15", "origin_starter_id": starter["starter_id"] })
}

fn entry<'a>(list: &'a Value, key: &str, value: &Value) -> &'a Value {
    list.as_array().unwrap().iter().find(|e| &e[key] == value).unwrap_or_else(|| panic!("{value}"))
}

async fn a_starters_listen_for_becomes_a_follow_up_with_the_starter_as_its_origin(
    backend: Backend,
) {
    let app = spawn_app(backend).await;
    let (org, event, ada, bob, _) = ada_meets_bob(&app).await;
    let (connection, shown) = connected(&app, &event, &ada, &bob).await;
    let starter = &shown[0];
    assert_eq!(starter["used"], false);

    let made = add(&app, &ada, &event, &connection, promise(starter)).await;
    assert_eq!(made["origin"], "starter");
    assert_eq!(made["origin_starter_id"], starter["starter_id"]);
    assert_eq!((made["kind"].as_str(), made["state"].as_str()), (Some("send"), Some("open")));
    let list = format!("/v1/events/{event}/connections/{connection}/follow-ups");
    let listed = app.get(&list, Some(&ada.access_token)).await;
    assert_eq!(listed.body["items"][0]["origin_starter_id"], starter["starter_id"]);

    // The starter now counts as used.
    let stats = app.get(&format!("/v1/events/{event}/prompt-stats"), Some(&org.access_token)).await;
    assert_eq!(entry(&stats.body["prompts"], "prompt_id", &starter["prompt_id"])["used"], 1);
    // A manual follow-up keeps its origin.
    let manual =
        add(&app, &ada, &event, &connection, json!({ "kind": "meet", "due_at": "2099-02-01" }))
            .await;
    assert_eq!(
        (manual["origin"].as_str(), manual["origin_starter_id"].as_str()),
        (Some("manual"), None)
    );
}

async fn organizers_count_per_prompt_and_topic_the_connections_whose_follow_up_from_it_was_done(
    backend: Backend,
) {
    let app = spawn_app(backend).await;
    let (org, event, ada, bob, _) = ada_meets_bob(&app).await;
    let (connection, shown) = connected(&app, &event, &ada, &bob).await;
    let about_topic = shown.iter().find(|s| s["topic"].is_object()).expect("a topic starter");
    let other = shown.iter().find(|s| s["prompt_id"] != about_topic["prompt_id"]).unwrap();
    let first = add(&app, &ada, &event, &connection, promise(about_topic)).await;
    let second = add(&app, &ada, &event, &connection, promise(about_topic)).await;
    let open = add(&app, &ada, &event, &connection, promise(other)).await;
    let stats_path = format!("/v1/events/{event}/prompt-stats");
    let stats = app.get(&stats_path, Some(&org.access_token)).await;
    let prompt = entry(&stats.body["prompts"], "prompt_id", &about_topic["prompt_id"]);
    assert_eq!((&prompt["used"], &prompt["followed_up"]), (&json!(1), &json!(0)), "none done yet");

    for made in [&first, &second] {
        let done =
            change(&app, &ada, made["follow_up_id"].as_str().unwrap(), json!({ "state": "done" }))
                .await;
        assert_eq!(done.status, StatusCode::OK, "{}", done.body);
    }
    let stats = app.get(&stats_path, Some(&org.access_token)).await;
    assert_eq!(stats.status, StatusCode::OK);
    let prompt = entry(&stats.body["prompts"], "prompt_id", &about_topic["prompt_id"]);
    assert_eq!(prompt["followed_up"], 1, "one connection, however many follow-ups were done");
    assert_eq!(
        stats.body["prompts"][0]["prompt_id"], about_topic["prompt_id"],
        "followed up first"
    );
    let slug = &about_topic["topic"]["slug"];
    assert_eq!(entry(&stats.body["topics"], "slug", slug)["followed_up"], 1);
    let other_prompt = entry(&stats.body["prompts"], "prompt_id", &other["prompt_id"]);
    let still_open = (&other_prompt["used"], &other_prompt["followed_up"]);
    assert_eq!(still_open, (&json!(1), &json!(0)), "its follow-up is {}", open["state"]);
    assert_eq!(stats.body["without_topic"]["followed_up"], 0);
    // Totals only: nothing names who.
    let text = stats.body.to_string();
    assert!(!text.contains(&connection) && !text.contains(first["follow_up_id"].as_str().unwrap()));
    assert!(!text.contains(&ada.account_id));
    // Attendees do not see them.
    assert_eq!(app.get(&stats_path, Some(&ada.access_token)).await.status, StatusCode::FORBIDDEN);
}

async fn a_starter_never_shown_to_me_about_this_person_is_not_found(backend: Backend) {
    let app = spawn_app(backend).await;
    let (org, event, ada, bob, _) = ada_meets_bob(&app).await;
    let carol = app.sign_in("carol").await;
    app.join(&org, &carol, &event).await;
    profile(&app, &carol, &event, json!({ "name": "Carol", "in_directory": true })).await;
    let (with_bob, _) = connected(&app, &event, &ada, &bob).await;
    let (_, about_carol) = connected(&app, &event, &ada, &carol).await;
    // Bob's starters about Ada: shown to him, not to her.
    let (_, bobs) = connected(&app, &event, &bob, &ada).await;

    let path = format!("/v1/events/{event}/connections/{with_bob}/follow-ups");
    for (starter_id, why) in [
        (about_carol[0]["starter_id"].clone(), "shown to me about someone else"),
        (bobs[0]["starter_id"].clone(), "shown to someone else"),
        (json!("never-shown"), "never shown"),
    ] {
        let body =
            json!({ "kind": "introduce", "due_at": "2099-01-15", "origin_starter_id": starter_id });
        let refused = app.post(&path, Some(&ada.access_token), &body).await;
        assert_eq!(refused.status, StatusCode::NOT_FOUND, "{why}: {}", refused.body);
        assert_eq!(refused.problem_code(), "starter_not_found", "{why}");
    }
    let listed = app.get(&path, Some(&ada.access_token)).await;
    assert_eq!(listed.body["items"], json!([]), "nothing made");
    let stats = app.get(&format!("/v1/events/{event}/prompt-stats"), Some(&org.access_token)).await;
    let carols = entry(&stats.body["prompts"], "prompt_id", &about_carol[0]["prompt_id"]);
    assert_eq!(carols["used"], 0, "a refused follow-up marks nothing used");
}

async fn another_persons_connection_is_not_found_even_with_a_starter_of_mine(backend: Backend) {
    let app = spawn_app(backend).await;
    let (org, event, ada, bob, _) = ada_meets_bob(&app).await;
    let carol = app.sign_in("carol").await;
    app.join(&org, &carol, &event).await;
    let (adas_connection, _) = connected(&app, &event, &ada, &bob).await;
    let (_, carols) = connected(&app, &event, &carol, &bob).await;
    let path = format!("/v1/events/{event}/connections/{adas_connection}/follow-ups");
    let refused = app.post(&path, Some(&carol.access_token), &promise(&carols[0])).await;
    assert_eq!(refused.status, StatusCode::NOT_FOUND, "{}", refused.body);
    assert_eq!(refused.problem_code(), "connection_not_found");
}

async fn a_starter_that_goes_leaves_its_follow_up_without_an_origin(backend: Backend) {
    let app = spawn_app(backend).await;
    let (_, event, ada, bob, _) = ada_meets_bob(&app).await;
    let (connection, shown) = connected(&app, &event, &ada, &bob).await;
    let made = add(&app, &ada, &event, &connection, promise(&shown[0])).await;
    let starter_id = shown[0]["starter_id"].as_str().unwrap().to_owned();
    // As when a starter is no longer kept: the database lets the follow-up stay, without it.
    let deleted =
        app.query(|conn| diesel::delete(starter_shows::table.find(&starter_id)).execute(conn));
    assert_eq!(deleted, 1);
    let path = format!("/v1/events/{event}/connections/{connection}/follow-ups");
    let listed = app.get(&path, Some(&ada.access_token)).await;
    let item = &listed.body["items"][0];
    assert_eq!(item["follow_up_id"], made["follow_up_id"]);
    assert_eq!(
        (item["origin"].as_str(), item["origin_starter_id"].as_str()),
        (Some("starter"), None)
    );
}
