//! Conversation starters for the person I am about to talk to: ranking, who may be asked about,
//! feedback, and what is recorded.

use awc::http::StatusCode;
use diesel::prelude::*;
use hallway::db::schema::{prompt_counts, starter_shows};
use hallway::db::starters::Show;
use serde_json::{Value, json};

use crate::both_backends;
use crate::helpers::{Backend, Session, TestApp, TestResponse, spawn_app};

both_backends!(
    what_they_can_teach_me_comes_first_with_questions_follow_ups_and_reasons,
    the_same_pair_gets_the_same_list_and_other_pairs_get_other_starters,
    starters_use_only_what_the_other_person_shares,
    a_person_of_another_event_is_not_found,
    starters_about_myself_are_refused,
    a_person_out_of_the_directory_is_found_only_by_their_connections,
    a_person_with_no_topics_and_no_profile_gets_the_general_library,
    feedback_on_a_starter_never_shown_to_me_is_not_found,
    used_starters_rank_down_and_after_stage_asks_for_the_next_stage,
    a_repeated_call_records_nothing_new,
    a_person_keeps_at_most_a_thousand_shown_starters_feedback_last_to_go,
    starter_requests_are_rate_limited_per_person,
    a_topic_the_organizer_dropped_gives_no_more_starters,
);

pub const TOPICS: &str = r#"[
    { "slug": "kubernetes", "name": "Kubernetes" },
    { "slug": "rust", "name": "Rust" },
    { "slug": "accessibility", "name": "Accessibility" }
]"#;

/// Changes `person`'s profile in the event; gives their attendee id.
pub async fn profile(app: &TestApp, person: &Session, event: &str, body: Value) -> String {
    let response =
        app.patch(&format!("/v1/events/{event}/me"), Some(&person.access_token), &body).await;
    assert_eq!(response.status, StatusCode::OK, "{}", response.body);
    response.body["attendee_id"].as_str().unwrap().to_owned()
}

pub async fn starters(
    app: &TestApp,
    person: &Session,
    event: &str,
    attendee: &str,
    query: &str,
) -> TestResponse {
    let path = format!("/v1/events/{event}/attendees/{attendee}/starters{query}");
    app.get(&path, Some(&person.access_token)).await
}

/// An event with the three topics, and ada (wants to learn Kubernetes and Rust) and bob (can
/// talk about Kubernetes and accessibility, wants to learn Rust), both in the directory:
/// (organizer, event, ada, bob, bob's attendee id).
pub async fn ada_meets_bob(app: &TestApp) -> (Session, String, Session, Session, String) {
    let (org, event, ada, bob) = app.event_with_two().await;
    let seeded = app.seed_topics(&org, &event, serde_json::from_str(TOPICS).unwrap()).await;
    assert_eq!(seeded.status, StatusCode::OK, "{}", seeded.body);
    profile(app, &ada, &event, json!({ "name": "Ada Lovelace", "want_to_learn": ["kubernetes", "rust"], "in_directory": true })).await;
    let bob_id = profile(app, &bob, &event, json!({ "name": "Bob Stone", "can_talk_about": ["kubernetes", "accessibility"], "want_to_learn": ["rust"], "in_directory": true })).await;
    (org, event, ada, bob, bob_id)
}

fn items(response: &TestResponse) -> &Vec<Value> {
    assert_eq!(response.status, StatusCode::OK, "{}", response.body);
    response.body["starters"].as_array().unwrap()
}

async fn what_they_can_teach_me_comes_first_with_questions_follow_ups_and_reasons(
    backend: Backend,
) {
    let app = spawn_app(backend).await;
    let (_, event, ada, _, bob_id) = ada_meets_bob(&app).await;
    let response = starters(&app, &ada, &event, &bob_id, "").await;
    let list = items(&response);
    assert_eq!(list.len(), 5, "five by default");
    assert_eq!(response.body["attendee_id"], bob_id.as_str());
    let first = &list[0];
    assert_eq!(first["reason"], "they can talk about Kubernetes; you want to learn it");
    assert_eq!(first["topic"], json!({ "slug": "kubernetes", "name": "Kubernetes" }));
    let reasons: Vec<&str> = list.iter().map(|s| s["reason"].as_str().unwrap()).collect();
    assert_eq!(reasons[1], reasons[0], "a topic gives two before the next tier: {reasons:?}");
    assert_eq!(reasons[2], "you both picked Rust", "{reasons:?}");
    assert_eq!(reasons[3], "you both picked Rust", "{reasons:?}");
    assert_eq!(reasons[4], "they can talk about Accessibility", "{reasons:?}");
    for starter in list {
        let question = starter["question"].as_str().unwrap();
        assert!(question.ends_with('?') && !question.contains(['{', '}']), "{question}");
        let follow_ups = starter["follow_ups"].as_array().unwrap();
        assert!((2..=3).contains(&follow_ups.len()), "{starter}");
        assert!(!starter["listen_for"].as_str().unwrap().is_empty());
        assert!(
            ["event", "story", "work_now", "challenges", "advice", "who_to_meet", "how_to_help"]
                .contains(&starter["stage"].as_str().unwrap())
        );
        assert_eq!(
            (starter["used"].clone(), starter["helpful"].clone()),
            (json!(false), json!(null))
        );
    }
    let kubernetes = list[0]["question"].as_str().unwrap();
    assert!(kubernetes.contains("Kubernetes"), "filled with the topic's name: {kubernetes}");

    let ten = starters(&app, &ada, &event, &bob_id, "?limit=10").await;
    assert_eq!(items(&ten).len(), 10);
    let general = items(&ten).iter().filter(|s| s["topic"].is_null()).count();
    assert!(general >= 1, "then the general library: {}", ten.body);
    for bad in ["?limit=0", "?limit=11"] {
        let response = starters(&app, &ada, &event, &bob_id, bad).await;
        assert_eq!(response.status, StatusCode::UNPROCESSABLE_ENTITY, "{bad}");
    }
}

async fn a_topic_the_organizer_dropped_gives_no_more_starters(backend: Backend) {
    let app = spawn_app(backend).await;
    let (org, event, ada, _, bob_id) = ada_meets_bob(&app).await;
    let before = starters(&app, &ada, &event, &bob_id, "").await;
    assert_eq!(items(&before)[0]["topic"]["slug"], "kubernetes");
    // Kubernetes left out of the seed list: chosen by both, so archived, not deleted.
    let without: Vec<Value> = serde_json::from_str::<Vec<Value>>(TOPICS)
        .unwrap()
        .into_iter()
        .filter(|t| t["slug"] != "kubernetes")
        .collect();
    let seeded = app.seed_topics(&org, &event, json!(without)).await;
    assert_eq!(seeded.status, StatusCode::OK, "{}", seeded.body);

    let after = starters(&app, &ada, &event, &bob_id, "?limit=10").await;
    let list = items(&after);
    assert!(list.iter().all(|s| s["topic"]["slug"] != "kubernetes"), "{}", after.body);
    assert_eq!(list[0]["reason"], "you both picked Rust", "{}", after.body);
}

async fn the_same_pair_gets_the_same_list_and_other_pairs_get_other_starters(backend: Backend) {
    let app = spawn_app(backend).await;
    let (org, event, ada, _, bob_id) = ada_meets_bob(&app).await;
    let first = starters(&app, &ada, &event, &bob_id, "?limit=10").await;
    let second = starters(&app, &ada, &event, &bob_id, "?limit=10").await;
    assert_eq!(first.body, second.body, "the same call gives the same list");

    let mut orders = Vec::new();
    for name in ["carol", "dan", "erin"] {
        let other = app.sign_in(name).await;
        app.join(&org, &other, &event).await;
        let id = profile(&app, &other, &event, json!({ "can_talk_about": ["kubernetes", "accessibility"], "want_to_learn": ["rust"], "in_directory": true })).await;
        let list = starters(&app, &ada, &event, &id, "?limit=10").await;
        let ids: Vec<Value> = items(&list).iter().map(|s| s["starter_id"].clone()).collect();
        assert!(items(&first).iter().all(|s| !ids.contains(&s["starter_id"])), "ids are per pair");
        orders.push(items(&list).iter().map(|s| s["prompt_id"].clone()).collect::<Vec<_>>());
    }
    let bobs: Vec<Value> = items(&first).iter().map(|s| s["prompt_id"].clone()).collect();
    assert!(orders.iter().any(|o| *o != bobs), "people with the same topics get other starters");
}

async fn starters_use_only_what_the_other_person_shares(backend: Backend) {
    let app = spawn_app(backend).await;
    let (_, event, ada, bob) = app.event_with_two().await;
    let bob_id = profile(&app, &bob, &event, json!({ "company": "Ferrous Systems", "headline": "Builds safety-critical compilers", "in_directory": true })).await;
    let shared = starters(&app, &ada, &event, &bob_id, "?limit=10").await;
    let reasons: Vec<&str> = items(&shared).iter().map(|s| s["reason"].as_str().unwrap()).collect();
    assert!(reasons[..2].iter().all(|r| r.starts_with("from their")), "{reasons:?}");
    let text = shared.body.to_string();
    assert!(text.contains("Ferrous Systems") && text.contains("safety-critical"), "{text}");

    profile(&app, &bob, &event, json!({ "sharing": { "company": false, "headline": false } }))
        .await;
    let hidden = starters(&app, &ada, &event, &bob_id, "?limit=10").await;
    let text = hidden.body.to_string();
    assert!(!text.contains("Ferrous") && !text.contains("safety-critical"), "{text}");
    assert!(!text.contains("from their"));
}

async fn a_person_of_another_event_is_not_found(backend: Backend) {
    let app = spawn_app(backend).await;
    let (_, event, ada, _, _) = ada_meets_bob(&app).await;
    let (org2, event2) = app.organizer_with_event().await;
    let carol = app.sign_in("carol").await;
    app.join(&org2, &carol, &event2).await;
    let carol_id = profile(&app, &carol, &event2, json!({ "in_directory": true })).await;

    let response = starters(&app, &ada, &event, &carol_id, "").await;
    assert_eq!(response.status, StatusCode::NOT_FOUND);
    assert_eq!(response.problem_code(), "attendee_not_found");
    let unknown = starters(&app, &ada, &event, &uuid::Uuid::now_v7().to_string(), "").await;
    assert_eq!(unknown.problem_code(), "attendee_not_found");
    let not_mine = starters(&app, &ada, &event2, &carol_id, "").await;
    assert_eq!(not_mine.status, StatusCode::NOT_FOUND);
    assert_eq!(not_mine.problem_code(), "event_not_found");
}

async fn starters_about_myself_are_refused(backend: Backend) {
    let app = spawn_app(backend).await;
    let (_, event, ada, _, _) = ada_meets_bob(&app).await;
    let ada_id = profile(&app, &ada, &event, json!({})).await;
    let response = starters(&app, &ada, &event, &ada_id, "").await;
    assert_eq!(response.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(response.problem_code(), "starters_for_self");
}

async fn a_person_out_of_the_directory_is_found_only_by_their_connections(backend: Backend) {
    let app = spawn_app(backend).await;
    let (org, event, ada, bob, bob_id) = ada_meets_bob(&app).await;
    let carol = app.sign_in("carol").await;
    app.join(&org, &carol, &event).await;
    profile(&app, &bob, &event, json!({ "in_directory": false })).await;

    let hidden = starters(&app, &ada, &event, &bob_id, "").await;
    assert_eq!(hidden.status, StatusCode::NOT_FOUND);
    assert_eq!(hidden.problem_code(), "attendee_not_found");

    let scanned = app.scan(&ada, &event, &app.badge_code(&bob, &event).await).await;
    assert_eq!(scanned.status, StatusCode::CREATED, "{}", scanned.body);
    let connected = starters(&app, &ada, &event, &bob_id, "").await;
    assert_eq!(items(&connected).len(), 5, "a connection may still ask");
    let connection = scanned.body["connection"]["connection_id"].as_str().unwrap();
    let path = format!("/v1/events/{event}/connections/{connection}/starters?limit=5");
    let by_connection = app.get(&path, Some(&ada.access_token)).await;
    assert_eq!(by_connection.body, connected.body, "the same starters by either route");
    let not_theirs = app.get(&path, Some(&carol.access_token)).await;
    assert_eq!(not_theirs.problem_code(), "connection_not_found");
    let by_carol = starters(&app, &carol, &event, &bob_id, "").await;
    assert_eq!(by_carol.status, StatusCode::NOT_FOUND, "not connected: still hidden");

    let deleted = app
        .send(
            awc::http::Method::DELETE,
            &format!("/v1/events/{event}/connections/{connection}"),
            Some(&ada.access_token),
            None,
        )
        .await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT);
    let after_delete = starters(&app, &ada, &event, &bob_id, "").await;
    assert_eq!(after_delete.status, StatusCode::NOT_FOUND, "a deleted connection no longer counts");
}

async fn a_person_with_no_topics_and_no_profile_gets_the_general_library(backend: Backend) {
    let app = spawn_app(backend).await;
    let (org, event, ada, bob) = app.event_with_two().await;
    let bob_id = profile(&app, &bob, &event, json!({ "in_directory": true })).await;
    let response = starters(&app, &ada, &event, &bob_id, "?limit=10").await;
    let list = items(&response);
    assert_eq!(list.len(), 10);
    for starter in list {
        assert!(starter["topic"].is_null(), "{starter}");
        assert!(starter["reason"].as_str().unwrap().starts_with("a listening question"));
        let mut texts = vec![&starter["question"], &starter["listen_for"]];
        texts.extend(starter["follow_ups"].as_array().unwrap());
        for text in texts.iter().map(|t| t.as_str().unwrap()) {
            assert!(!text.contains(['{', '}']), "filled completely: {text}");
            assert!(!text.contains("Attendee"), "nobody is addressed by a made-up label: {text}");
        }
    }

    let off = app
        .put(
            &format!("/v1/events/{event}/prompt-settings"),
            Some(&org.access_token),
            &json!({ "builtin_prompts": false }),
        )
        .await;
    assert_eq!(off.status, StatusCode::OK, "{}", off.body);
    let still = starters(&app, &ada, &event, &bob_id, "").await;
    assert_eq!(items(&still).len(), 5, "never an empty list");
}

async fn feedback_on_a_starter_never_shown_to_me_is_not_found(backend: Backend) {
    let app = spawn_app(backend).await;
    let (_, event, ada, bob, bob_id) = ada_meets_bob(&app).await;
    let ada_id = profile(&app, &ada, &event, json!({})).await;
    let to_bob = starters(&app, &bob, &event, &ada_id, "").await;
    let bobs_starter = items(&to_bob)[0]["starter_id"].as_str().unwrap().to_owned();
    let feedback = |id: &str| format!("/v1/events/{event}/starters/{id}/feedback");

    let never = app
        .post(
            &feedback(&uuid::Uuid::new_v4().to_string()),
            Some(&ada.access_token),
            &json!({ "used": true }),
        )
        .await;
    assert_eq!(never.status, StatusCode::NOT_FOUND);
    assert_eq!(never.problem_code(), "starter_not_found");
    let someone_elses =
        app.post(&feedback(&bobs_starter), Some(&ada.access_token), &json!({ "used": true })).await;
    assert_eq!(someone_elses.problem_code(), "starter_not_found", "shown to bob, not to ada");

    let mine = starters(&app, &ada, &event, &bob_id, "").await;
    let id = items(&mine)[0]["starter_id"].as_str().unwrap().to_owned();
    for bad in [json!({}), json!({ "used": false, "helpful": true })] {
        let response = app.post(&feedback(&id), Some(&ada.access_token), &bad).await;
        assert_eq!(response.status, StatusCode::UNPROCESSABLE_ENTITY, "{bad}");
    }
    let unknown_field =
        app.post(&feedback(&id), Some(&ada.access_token), &json!({ "stars": 5 })).await;
    assert_eq!(unknown_field.status, StatusCode::BAD_REQUEST);
    let marked =
        app.post(&feedback(&id), Some(&ada.access_token), &json!({ "helpful": true })).await;
    assert_eq!(marked.status, StatusCode::OK, "{}", marked.body);
    assert_eq!(
        (marked.body["used"].clone(), marked.body["helpful"].clone()),
        (json!(true), json!(true))
    );
    assert_eq!(marked.body["attendee_id"], bob_id.as_str());
    let (_, event2) = app.organizer_with_event().await;
    let elsewhere = app
        .post(
            &format!("/v1/events/{event2}/starters/{id}/feedback"),
            Some(&ada.access_token),
            &json!({ "used": true }),
        )
        .await;
    assert_eq!(elsewhere.problem_code(), "event_not_found");
}

async fn used_starters_rank_down_and_after_stage_asks_for_the_next_stage(backend: Backend) {
    let app = spawn_app(backend).await;
    let (_, event, ada, _, bob_id) = ada_meets_bob(&app).await;
    let before = starters(&app, &ada, &event, &bob_id, "").await;
    let first = items(&before)[0].clone();
    let path =
        format!("/v1/events/{event}/starters/{}/feedback", first["starter_id"].as_str().unwrap());
    let used = app.post(&path, Some(&ada.access_token), &json!({ "used": true })).await;
    assert_eq!(used.status, StatusCode::OK, "{}", used.body);

    let after = starters(&app, &ada, &event, &bob_id, "").await;
    let prompts: Vec<&Value> = items(&after).iter().map(|s| &s["prompt_id"]).collect();
    assert!(!prompts.contains(&&first["prompt_id"]), "a used prompt ranks below the others");
    assert_eq!(items(&after)[0]["reason"], first["reason"], "the tiers stay");

    let next = starters(&app, &ada, &event, &bob_id, "?after_stage=story").await;
    assert_eq!(next.body["stage"], "work_now");
    assert!(items(&next).iter().all(|s| s["stage"] == "work_now"), "{}", next.body);
    assert_eq!(items(&next)[0]["topic"]["slug"], "kubernetes", "listening first within the stage");
    let last = starters(&app, &ada, &event, &bob_id, "?after_stage=how_to_help").await;
    assert!(items(&last).iter().all(|s| s["stage"] == "how_to_help"), "the arc ends helping");
    let bogus = starters(&app, &ada, &event, &bob_id, "?after_stage=chitchat").await;
    assert_eq!(bogus.status, StatusCode::BAD_REQUEST);
    assert_eq!(bogus.problem_code(), "invalid_query");
}

fn shows(app: &TestApp) -> i64 {
    app.query(|conn| starter_shows::table.count().get_result(conn))
}

fn shown_total(app: &TestApp) -> i64 {
    app.query(|conn| prompt_counts::table.select(prompt_counts::shown).load::<i64>(conn))
        .iter()
        .sum()
}

async fn a_repeated_call_records_nothing_new(backend: Backend) {
    let app = spawn_app(backend).await;
    let (_, event, ada, _, bob_id) = ada_meets_bob(&app).await;
    starters(&app, &ada, &event, &bob_id, "").await;
    assert_eq!((shows(&app), shown_total(&app)), (5, 5));
    starters(&app, &ada, &event, &bob_id, "").await;
    assert_eq!(
        (shows(&app), shown_total(&app)),
        (5, 5),
        "shown once per pair, however often opened"
    );
    starters(&app, &ada, &event, &bob_id, "?limit=7").await;
    assert_eq!((shows(&app), shown_total(&app)), (7, 7), "only the two new ones");
}

async fn a_person_keeps_at_most_a_thousand_shown_starters_feedback_last_to_go(backend: Backend) {
    let app = spawn_app(backend).await;
    let (org, event, ada, bob, bob_id) = ada_meets_bob(&app).await;
    let carol = app.sign_in("carol").await;
    app.join(&org, &carol, &event).await;
    let carol_id = profile(&app, &carol, &event, json!({ "in_directory": true })).await;
    let ada_id = profile(&app, &ada, &event, json!({})).await;
    let _ = bob;
    let long_ago = chrono::Utc::now().naive_utc() - chrono::Duration::days(1);
    let old: Vec<Show> = (0..1_000)
        .map(|i| Show {
            id: uuid::Uuid::new_v4().to_string(),
            event_id: event.clone(),
            viewer_id: ada_id.clone(),
            other_id: bob_id.clone(),
            prompt_id: format!("retired-{i}"),
            topic_slug: String::new(),
            stage: "story".to_owned(),
            shown_at: long_ago + chrono::Duration::seconds(i),
            used_at: (i == 0).then_some(long_ago),
            helpful: (i == 0).then_some(true),
            feedback_at: (i == 0).then_some(long_ago),
        })
        .collect();
    app.query(|conn| {
        conn.transaction(|conn| {
            for show in &old {
                diesel::insert_into(starter_shows::table).values(show).execute(conn)?;
            }
            Ok(())
        })
    });
    let response = starters(&app, &ada, &event, &carol_id, "").await;
    assert_eq!(items(&response).len(), 5);
    assert_eq!(shows(&app), 1_000, "the cap holds");
    let kept: Vec<String> = app.query(|conn| {
        starter_shows::table
            .filter(starter_shows::prompt_id.like("retired-%"))
            .select(starter_shows::prompt_id)
            .load(conn)
    });
    assert!(kept.contains(&"retired-0".to_owned()), "the oldest, with feedback, stays");
    for gone in 1..=5 {
        assert!(!kept.contains(&format!("retired-{gone}")), "the oldest without feedback go");
    }
}

async fn starter_requests_are_rate_limited_per_person(backend: Backend) {
    let app = spawn_app(backend).await;
    let (_, event, ada, bob, bob_id) = ada_meets_bob(&app).await;
    for _ in 0..30 {
        assert_eq!(starters(&app, &ada, &event, &bob_id, "?limit=1").await.status, StatusCode::OK);
    }
    let refused = starters(&app, &ada, &event, &bob_id, "?limit=1").await;
    assert_eq!(refused.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(refused.problem_code(), "rate_limited");
    assert!(refused.header("retry-after").is_some());
    let ada_id = profile(&app, &ada, &event, json!({})).await;
    assert_eq!(
        starters(&app, &bob, &event, &ada_id, "").await.status,
        StatusCode::OK,
        "per person"
    );
}
