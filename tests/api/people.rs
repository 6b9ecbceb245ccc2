//! People to meet, introduction suggestions, the daily budget of introductions, people closed to
//! introductions, the hub's view and the organizer's counts, on both backends.

use awc::http::{Method, StatusCode};
use diesel::prelude::*;
use hallway::db::introductions::Introduction;
use hallway::db::schema::introductions;
use serde_json::{Value, json};

use crate::both_backends;
use crate::helpers::{Backend, Session, TestApp, spawn_app};
use crate::introductions::{hub_with_two, introduce};
use crate::starters::{TOPICS, profile};

both_backends!(
    people_to_meet_ranks_who_can_teach_me_first_and_leaves_out_connections_dismissed_blocked_and_hidden_people,
    suggestions_pair_my_connections_who_fit_and_leave_out_people_closed_to_introductions,
    suggestions_rank_teaching_first_page_by_cursor_and_leave_out_pairs_connected_or_blocked,
    the_twenty_first_introduction_in_a_day_is_refused_with_retry_after,
    the_hub_and_the_organizer_see_introductions_made_and_accepted,
);

async fn person(
    app: &TestApp,
    org: &Session,
    event: &str,
    name: &str,
    body: Value,
) -> (Session, String) {
    let who = app.sign_in(name).await;
    app.join(org, &who, event).await;
    let id = profile(app, &who, event, body).await;
    (who, id)
}

async fn names(app: &TestApp, me: &Session, path: &str) -> (Vec<String>, Value) {
    let got = app.get(path, Some(&me.access_token)).await;
    assert_eq!(got.status, StatusCode::OK, "{}", got.body);
    let items = got.body["items"].as_array().unwrap();
    (
        items.iter().map(|i| i["person"]["name"].as_str().unwrap().to_owned()).collect(),
        got.body.clone(),
    )
}

async fn people_to_meet_ranks_who_can_teach_me_first_and_leaves_out_connections_dismissed_blocked_and_hidden_people(
    backend: Backend,
) {
    let app = spawn_app(backend).await;
    let (org, event) = app.organizer_with_event().await;
    app.seed_topics(&org, &event, serde_json::from_str(TOPICS).unwrap()).await;
    let (me, _) = person(&app, &org, &event, "me", json!({ "name": "Me", "want_to_learn": ["rust"], "can_talk_about": ["kubernetes", "accessibility"], "in_directory": true })).await;
    let (_, shared) = person(
        &app,
        &org,
        &event,
        "cy",
        json!({ "name": "Cy", "can_talk_about": ["accessibility"], "in_directory": true }),
    )
    .await;
    let (_, learner) = person(
        &app,
        &org,
        &event,
        "bo",
        json!({ "name": "Bo", "want_to_learn": ["kubernetes"], "in_directory": true }),
    )
    .await;
    let (teacher_session, _) = person(
        &app,
        &org,
        &event,
        "al",
        json!({ "name": "Al", "can_talk_about": ["rust"], "in_directory": true }),
    )
    .await;
    person(
        &app,
        &org,
        &event,
        "hidden",
        json!({ "name": "Hidden", "can_talk_about": ["rust"], "in_directory": false }),
    )
    .await;
    let (blocker, _) = person(
        &app,
        &org,
        &event,
        "di",
        json!({ "name": "Di", "can_talk_about": ["rust"], "in_directory": true }),
    )
    .await;

    let path = format!("/v1/events/{event}/people-to-meet");
    let (listed, body) = names(&app, &me, &path).await;
    assert_eq!(listed, ["Al", "Di", "Bo", "Cy"]);
    assert_eq!(body["items"][0]["reasons"][0]["kind"], "can_talk_about_what_you_want_to_learn");
    assert_eq!(
        body["items"][0]["reasons"][0]["text"],
        "They can talk about rust, which you want to learn"
    );
    assert_eq!(body["items"][0]["reasons"][0]["topics"], json!(["rust"]));
    // Pages, stable.
    let (first, page) = names(&app, &me, &format!("{path}?limit=2")).await;
    assert_eq!(first, ["Al", "Di"]);
    let cursor = page["next_cursor"].as_str().unwrap();
    let (second, _) = names(&app, &me, &format!("{path}?limit=2&cursor={cursor}")).await;
    assert_eq!(second, ["Bo", "Cy"]);

    // Di blocks me; I dismiss Cy; I scan Al; Bo leaves the directory.
    let me_id = app.attendee_id(&me, &event).await;
    let blocked = app
        .send(
            Method::POST,
            &format!("/v1/events/{event}/blocks/{me_id}"),
            Some(&blocker.access_token),
            None,
        )
        .await;
    assert_eq!(blocked.status, StatusCode::NO_CONTENT);
    let dismissed = app
        .send(Method::POST, &format!("{path}/{shared}/dismissal"), Some(&me.access_token), None)
        .await;
    assert_eq!(dismissed.status, StatusCode::NO_CONTENT);
    let code = app.badge_code(&teacher_session, &event).await;
    app.scan(&me, &event, &code).await;
    let (listed, _) = names(&app, &me, &path).await;
    assert_eq!(listed, ["Bo"]);
    let _ = learner;
    let bad = app.get(&format!("{path}?cursor=nope"), Some(&me.access_token)).await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
}

async fn suggestions_pair_my_connections_who_fit_and_leave_out_people_closed_to_introductions(
    backend: Backend,
) {
    let app = spawn_app(backend).await;
    let (org, event) = app.organizer_with_event().await;
    app.seed_topics(&org, &event, serde_json::from_str(TOPICS).unwrap()).await;
    let (hub, _) = person(&app, &org, &event, "hub", json!({ "name": "Hub" })).await;
    let (ana, ana_id) =
        person(&app, &org, &event, "ana", json!({ "name": "Ana", "want_to_learn": ["rust"] }))
            .await;
    let (ben, ben_id) =
        person(&app, &org, &event, "ben", json!({ "name": "Ben", "can_talk_about": ["rust"] }))
            .await;
    let (cat, cat_id) = person(
        &app,
        &org,
        &event,
        "cat",
        json!({ "name": "Cat", "can_talk_about": ["rust"], "open_to_introductions": false }),
    )
    .await;
    for who in [&ana, &ben, &cat] {
        let code = app.badge_code(who, &event).await;
        app.scan(&hub, &event, &code).await;
    }
    let path = format!("/v1/events/{event}/introduction-suggestions");
    let got = app.get(&path, Some(&hub.access_token)).await;
    assert_eq!(got.status, StatusCode::OK, "{}", got.body);
    let items = got.body["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "{items:?}");
    let pair =
        [items[0]["first"]["name"].as_str().unwrap(), items[0]["second"]["name"].as_str().unwrap()];
    assert!(pair.contains(&"Ana") && pair.contains(&"Ben"));
    let all = got.body.to_string();
    assert!(all.contains("can talk about rust, which you want to learn"), "{all}");

    // Cat is closed to introductions.
    let closed = introduce(&app, &hub, &event, &ana_id, &cat_id).await;
    assert_eq!(closed.status, StatusCode::CONFLICT);
    assert_eq!(closed.problem_code(), "cannot_introduce");
    // Once introduced, the pair is no longer suggested.
    assert_eq!(introduce(&app, &hub, &event, &ana_id, &ben_id).await.status, StatusCode::CREATED);
    let after = app.get(&path, Some(&hub.access_token)).await;
    assert_eq!(after.body["items"], json!([]));
}

async fn the_twenty_first_introduction_in_a_day_is_refused_with_retry_after(backend: Backend) {
    let app = spawn_app(backend).await;
    let (hub, _ana, _ben, event, ana_id, ben_id) = hub_with_two(&app).await;
    let hub_member = app.attendee_id(&hub, &event).await;
    // Twenty introductions made in the last hours (answered since), as the database counts them.
    let (a, b) = if ana_id < ben_id { (&ana_id, &ben_id) } else { (&ben_id, &ana_id) };
    let now = chrono::Utc::now().naive_utc() - chrono::Duration::hours(2);
    let rows: Vec<Introduction> = (0..20)
        .map(|_| Introduction {
            id: uuid::Uuid::now_v7().to_string(),
            event_id: event.clone(),
            introducer_id: hub_member.clone(),
            introducer_account_id: hub.account_id.clone(),
            side_a: a.clone(),
            side_a_account_id: String::new(),
            side_b: b.clone(),
            side_b_account_id: String::new(),
            note_a: "n".into(),
            note_b: "n".into(),
            answer_a: None,
            answer_b: None,
            state: "expired".into(),
            created_at: now,
            expires_at: now,
            decided_at: Some(now),
        })
        .collect();
    app.query(move |conn| {
        for row in &rows {
            diesel::insert_into(introductions::table).values(row).execute(conn)?;
        }
        Ok(())
    });
    let refused = introduce(&app, &hub, &event, &ana_id, &ben_id).await;
    assert_eq!(refused.status, StatusCode::TOO_MANY_REQUESTS, "{}", refused.body);
    assert_eq!(refused.problem_code(), "quota_exceeded");
    let wait: u64 = refused.header("retry-after").unwrap().parse().unwrap();
    assert!(wait > 21 * 3600 && wait <= 22 * 3600 + 1, "{wait}");
}

async fn the_hub_and_the_organizer_see_introductions_made_and_accepted(backend: Backend) {
    let app = spawn_app(backend).await;
    let (org, event) = app.organizer_with_event().await;
    let hub = app.sign_in("hub").await;
    let (ana, ana_id) = person(&app, &org, &event, "ana", json!({ "name": "Ana" })).await;
    let (ben, ben_id) = person(&app, &org, &event, "ben", json!({ "name": "Ben" })).await;
    app.join(&org, &hub, &event).await;
    for who in [&ana, &ben] {
        let code = app.badge_code(who, &event).await;
        app.scan(&hub, &event, &code).await;
    }
    let made = introduce(&app, &hub, &event, &ana_id, &ben_id).await;
    let id = made.body["introduction_id"].as_str().unwrap().to_owned();
    for who in [&ana, &ben] {
        let answered = app
            .post(
                &format!("/v1/introductions/{id}/responses"),
                Some(&who.access_token),
                &json!({ "choice": "accept" }),
            )
            .await;
        assert_eq!(answered.status, StatusCode::OK, "{}", answered.body);
    }
    let network = app.get("/v1/me/network", Some(&hub.access_token)).await;
    assert_eq!(network.body["introductions_made"], 1);
    assert_eq!(network.body["introductions_accepted"], 1);
    assert_eq!(network.body["connections"], 2);
    let anas = app.get("/v1/me/network", Some(&ana.access_token)).await;
    assert_eq!(anas.body["introductions_received"], 1);
    assert_eq!(anas.body["connections"], 2);
    let stats = app.get(&format!("/v1/events/{event}/stats"), Some(&org.access_token)).await;
    assert_eq!(stats.body["introductions_made"], 1);
    assert_eq!(stats.body["introductions_accepted"], 1);
}

async fn suggestions_rank_teaching_first_page_by_cursor_and_leave_out_pairs_connected_or_blocked(
    backend: Backend,
) {
    let app = spawn_app(backend).await;
    let (org, event) = app.organizer_with_event().await;
    app.seed_topics(&org, &event, serde_json::from_str(TOPICS).unwrap()).await;
    let (hub, _) = person(&app, &org, &event, "hub", json!({ "name": "Hub" })).await;
    let mut people = Vec::new();
    for (name, picks) in [
        // Ana and Ben: each can teach what the other wants to learn (6 + 6).
        ("Ana", json!({ "can_talk_about": ["rust"], "want_to_learn": ["kubernetes"] })),
        ("Ben", json!({ "can_talk_about": ["kubernetes"], "want_to_learn": ["rust"] })),
        // Cy shares accessibility with Dee (1 each way, halved: 1), and Dee teaches Ana (and
        // shares kubernetes with Ben and Eve).
        ("Cy", json!({ "can_talk_about": ["accessibility"] })),
        ("Dee", json!({ "can_talk_about": ["accessibility", "kubernetes"] })),
        // Eve and Ben would fit as Ana and Ben do, and Eve could teach Ana; but Eve and Ana are
        // connected, and Eve blocked Ben.
        ("Eve", json!({ "can_talk_about": ["kubernetes"], "want_to_learn": ["rust"] })),
    ] {
        let mut body = picks;
        body["name"] = json!(name);
        let (who, id) = person(&app, &org, &event, &name.to_lowercase(), body).await;
        let code = app.badge_code(&who, &event).await;
        assert_eq!(app.scan(&hub, &event, &code).await.status, StatusCode::CREATED);
        people.push((who, id));
    }
    let code = app.badge_code(&people[0].0, &event).await;
    assert_eq!(app.scan(&people[4].0, &event, &code).await.status, StatusCode::CREATED);
    let blocked = format!("/v1/events/{event}/blocks/{}", people[1].1);
    let block = app.post(&blocked, Some(&people[4].0.access_token), &json!({})).await;
    assert_eq!(block.status, StatusCode::NO_CONTENT, "{}", block.body);

    let path = format!("/v1/events/{event}/introduction-suggestions");
    let pair = |item: &Value| {
        let mut names =
            [item["first"]["name"].as_str().unwrap(), item["second"]["name"].as_str().unwrap()];
        names.sort_unstable();
        names.join("+")
    };
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let page = match &cursor {
            Some(c) => format!("{path}?limit=1&cursor={c}"),
            None => format!("{path}?limit=1"),
        };
        let got = app.get(&page, Some(&hub.access_token)).await;
        assert_eq!(got.status, StatusCode::OK, "{}", got.body);
        seen.extend(got.body["items"].as_array().unwrap().iter().map(pair));
        if seen.len() == 1 {
            // Ana and Ben meet on their own between two pages: the next page goes on after them.
            let code = app.badge_code(&people[1].0, &event).await;
            assert_eq!(app.scan(&people[0].0, &event, &code).await.status, StatusCode::CREATED);
        }
        match got.body["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => break,
        }
        assert!(seen.len() < 20, "the pages end: {seen:?}");
    }
    // Ana+Ben (12: each teaches the other), then Ana+Dee (6: Dee teaches Ana), then the pairs
    // sharing one topic (1 each), by key; never Ana+Eve (connected) or Ben+Eve (blocked).
    assert_eq!(seen[..2], ["Ana+Ben", "Ana+Dee"], "{seen:?}");
    let mut rest = seen[2..].to_vec();
    rest.sort();
    assert_eq!(rest, ["Ben+Dee", "Cy+Dee", "Dee+Eve"], "{seen:?}");
    let mut unique = seen.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), seen.len(), "no pair twice across pages: {seen:?}");
}
