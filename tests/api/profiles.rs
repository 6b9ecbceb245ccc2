//! Event profiles, the directory, joining with a code, co-organizers and stats.

use awc::http::{Method, StatusCode};
use diesel::prelude::*;
use hallway::db::schema::outbox;
use serde_json::json;

use crate::both_backends;
use crate::helpers::{Backend, spawn_app, unique_email};

both_backends!(
    an_attendee_sets_profile_topics_and_sharing,
    invalid_profile_changes_are_named_and_change_nothing,
    the_directory_lists_only_people_who_opted_in_with_what_they_share,
    joining_needs_the_current_join_code,
    an_organizer_adds_a_co_organizer_by_email,
    stats_count_people_invitations_sign_ins_and_topics,
);

async fn an_attendee_sets_profile_topics_and_sharing(backend: Backend) {
    let app = spawn_app(backend).await;
    let (org, event) = app.organizer_with_event().await;
    app.seed_topics(
        &org,
        &event,
        json!([{ "slug": "rust", "name": "Rust" }, { "slug": "go", "name": "Go" }]),
    )
    .await;
    let ada = app.sign_in("ada").await;
    let joined = app.join(&org, &ada, &event).await;
    assert_eq!(joined["role"], "attendee");
    assert_eq!(
        joined["sharing"],
        json!({ "email": true, "phone": false, "company": true, "headline": true, "bio": true, "links": true })
    );

    let path = format!("/v1/events/{event}/me");
    let changed = app
        .patch(&path, Some(&ada.access_token), &json!({
            "name": "Ada Lovelace", "company": "Analytical Engines", "headline": "Poet of science",
            "phone": "+44 20 7946 0000", "links": [{ "label": "Site", "url": "https://ada.example.org" }],
            "can_talk_about": ["rust"], "want_to_learn": ["go", "rust"],
            "sharing": { "phone": true, "email": false }, "in_directory": true
        }))
        .await;
    assert_eq!(changed.status, StatusCode::OK, "{}", changed.body);
    let me = app.get(&path, Some(&ada.access_token)).await.body;
    assert_eq!(me, changed.body);
    assert_eq!(me["name"], "Ada Lovelace");
    assert_eq!(me["can_talk_about"], json!(["rust"]));
    assert_eq!(me["want_to_learn"], json!(["rust", "go"]), "in the organizers' topic order");
    assert_eq!(me["sharing"]["phone"], true);
    assert_eq!(me["sharing"]["email"], false);
    assert_eq!(me["sharing"]["company"], true, "switches left out stay");
    assert_eq!(me["links"][0]["url"], "https://ada.example.org");

    let cleared = app
        .patch(&path, Some(&ada.access_token), &json!({ "company": null, "want_to_learn": [] }))
        .await;
    assert_eq!(cleared.body["company"], json!(null));
    assert_eq!(cleared.body["want_to_learn"], json!([]));
    assert_eq!(cleared.body["can_talk_about"], json!(["rust"]), "the other kind stays");
}

async fn invalid_profile_changes_are_named_and_change_nothing(backend: Backend) {
    let app = spawn_app(backend).await;
    let (org, event) = app.organizer_with_event().await;
    let (other_org, other_event) = app.organizer_with_event().await;
    app.seed_topics(&org, &event, json!([{ "slug": "rust", "name": "Rust" }])).await;
    app.seed_topics(&other_org, &other_event, json!([{ "slug": "elixir", "name": "Elixir" }]))
        .await;
    let ada = app.sign_in("ada").await;
    app.join(&org, &ada, &event).await;
    let path = format!("/v1/events/{event}/me");
    let before = app.get(&path, Some(&ada.access_token)).await.body;

    let bad = app
        .patch(&path, Some(&ada.access_token), &json!({
            "name": "x".repeat(101), "phone": "call me", "links": [{ "label": "", "url": "javascript:alert(1)" }],
            "can_talk_about": ["rust", "elixir"], "want_to_learn": ["Rust Lang"]
        }))
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    let fields: Vec<_> = bad.body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, ["name", "phone", "links[0].label", "links[0].url"]);
    let topics = app
        .patch(
            &path,
            Some(&ada.access_token),
            &json!({ "can_talk_about": ["rust", "elixir"], "want_to_learn": ["Rust Lang"] }),
        )
        .await;
    let fields: Vec<_> = topics.body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert_eq!(
        fields,
        ["can_talk_about[1]", "want_to_learn[0]"],
        "another event's topic is unknown here"
    );
    let unknown = app
        .patch(&path, Some(&ada.access_token), &json!({ "sharing": { "shoe_size": true } }))
        .await;
    assert_eq!(unknown.status, StatusCode::BAD_REQUEST);
    assert_eq!(unknown.problem_code(), "invalid_body");
    assert_eq!(app.get(&path, Some(&ada.access_token)).await.body, before);

    let stranger = app.sign_in("stranger").await;
    let not_member = app.patch(&path, Some(&stranger.access_token), &json!({ "name": "Me" })).await;
    assert_eq!(not_member.status, StatusCode::NOT_FOUND);
}

async fn the_directory_lists_only_people_who_opted_in_with_what_they_share(backend: Backend) {
    let app = spawn_app(backend).await;
    let (org, event) = app.organizer_with_event().await;
    app.seed_topics(&org, &event, json!([{ "slug": "rust", "name": "Rust" }])).await;
    let mut listed = Vec::new();
    for (i, name) in ["ada", "bob", "cy", "dee"].iter().enumerate() {
        let person = app.sign_in(name).await;
        let id = app.join(&org, &person, &event).await["attendee_id"].as_str().unwrap().to_owned();
        let mut body =
            json!({ "name": name, "company": format!("{name} inc"), "in_directory": i != 3 });
        if i == 0 {
            body["can_talk_about"] = json!(["rust"]);
            body["sharing"] = json!({ "company": false });
        }
        app.patch(&format!("/v1/events/{event}/me"), Some(&person.access_token), &body).await;
        if i != 3 {
            listed.push(id);
        }
    }
    let viewer = app.sign_in("viewer").await;
    app.join(&org, &viewer, &event).await;
    let token = Some(viewer.access_token.as_str());

    let first = app.get(&format!("/v1/events/{event}/directory?limit=2"), token).await;
    assert_eq!(first.status, StatusCode::OK, "{}", first.body);
    let cursor = first.body["next_cursor"].as_str().unwrap();
    let second =
        app.get(&format!("/v1/events/{event}/directory?limit=2&cursor={cursor}"), token).await;
    let ids: Vec<_> = first.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .chain(second.body["items"].as_array().unwrap())
        .map(|e| e["attendee_id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(ids, listed, "dee did not opt in");
    assert_eq!(first.body["items"][0]["company"], json!(null), "ada does not share her company");
    assert_eq!(first.body["items"][1]["company"], "bob inc");
    assert!(first.body["items"][0].get("email").is_none());

    let rust = app.get(&format!("/v1/events/{event}/directory?topic=rust"), token).await;
    assert_eq!(rust.body["items"].as_array().unwrap().len(), 1);
    let unknown = app.get(&format!("/v1/events/{event}/directory?topic=cobol"), token).await;
    assert_eq!(unknown.status, StatusCode::UNPROCESSABLE_ENTITY);
    let stranger = app.sign_in("stranger").await;
    assert_eq!(
        app.get(&format!("/v1/events/{event}/directory"), Some(&stranger.access_token))
            .await
            .status,
        StatusCode::NOT_FOUND
    );
}

async fn joining_needs_the_current_join_code(backend: Backend) {
    let app = spawn_app(backend).await;
    let (org, event) = app.organizer_with_event().await;
    let ada = app.sign_in("ada").await;
    let join = format!("/v1/events/{event}/join");
    let code_path = format!("/v1/events/{event}/join-code");

    let off = app.post(&join, Some(&ada.access_token), &json!({ "join_code": "ANYTHING" })).await;
    assert_eq!(off.status, StatusCode::FORBIDDEN);
    assert_eq!(off.problem_code(), "invalid_join_code");
    let old =
        app.send(Method::PUT, &code_path, Some(&org.access_token), None).await.body["join_code"]
            .as_str()
            .unwrap()
            .to_owned();
    let current =
        app.send(Method::PUT, &code_path, Some(&org.access_token), None).await.body["join_code"]
            .as_str()
            .unwrap()
            .to_owned();
    assert_ne!(old, current);
    assert_eq!(
        app.post(&join, Some(&ada.access_token), &json!({ "join_code": old })).await.status,
        StatusCode::FORBIDDEN,
        "a rotated code stops working"
    );
    let event_view = app.get(&format!("/v1/events/{event}"), Some(&org.access_token)).await;
    assert_eq!(event_view.body["join_code"], current.as_str());

    let joined = app
        .post(&join, Some(&ada.access_token), &json!({ "join_code": current.to_lowercase() }))
        .await;
    assert_eq!(joined.status, StatusCode::OK, "{}", joined.body);
    let again = app.post(&join, Some(&ada.access_token), &json!({ "join_code": current })).await;
    assert_eq!(again.body["attendee_id"], joined.body["attendee_id"], "joining twice is harmless");
    let as_attendee = app.get(&format!("/v1/events/{event}"), Some(&ada.access_token)).await;
    assert_eq!(as_attendee.body["my_role"], "attendee");
    assert!(as_attendee.body.get("join_code").is_none(), "attendees do not see the join code");
    assert_eq!(
        app.get(&format!("/v1/events/{event}/me/badge"), Some(&ada.access_token)).await.status,
        StatusCode::OK
    );

    assert_eq!(
        app.send(Method::DELETE, &code_path, Some(&ada.access_token), None).await.status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        app.send(Method::DELETE, &code_path, Some(&org.access_token), None).await.status,
        StatusCode::NO_CONTENT
    );
    let bob = app.sign_in("bob").await;
    assert_eq!(
        app.post(&join, Some(&bob.access_token), &json!({ "join_code": current })).await.status,
        StatusCode::FORBIDDEN
    );
}

async fn an_organizer_adds_a_co_organizer_by_email(backend: Backend) {
    let app = spawn_app(backend).await;
    let (org, event) = app.organizer_with_event().await;
    let co = unique_email("co");
    let path = format!("/v1/events/{event}/organizers");

    let bad = app.post(&path, Some(&org.access_token), &json!({ "email": "nope" })).await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    let added = app.post(&path, Some(&org.access_token), &json!({ "email": co })).await;
    assert_eq!(added.status, StatusCode::OK, "{}", added.body);
    assert_eq!(added.body["role"], "organizer");
    let told = app.nth_mail(&co, 1).await;
    assert!(told.subject().unwrap().contains("organizer of RustConf 2026"));
    let again = app.post(&path, Some(&org.access_token), &json!({ "email": co })).await;
    assert_eq!(again.status, StatusCode::OK, "adding an organizer again is harmless");
    let recipient = co.clone();
    let mails = app.query(move |conn| {
        outbox::table.filter(outbox::recipient.eq(&recipient)).count().get_result::<i64>(conn)
    });
    assert_eq!(mails, 1, "one email, however often the same person is added");

    let co_session = app.sign_in_as(&co).await;
    let renamed = app
        .patch(
            &format!("/v1/events/{event}"),
            Some(&co_session.access_token),
            &json!({ "name": "Renamed" }),
        )
        .await;
    assert_eq!(renamed.status, StatusCode::OK, "the co-organizer can change the event");
    let attendee = app.sign_in("att").await;
    app.join(&org, &attendee, &event).await;
    let by_attendee =
        app.post(&path, Some(&attendee.access_token), &json!({ "email": unique_email("x") })).await;
    assert_eq!(by_attendee.status, StatusCode::FORBIDDEN);
}

async fn stats_count_people_invitations_sign_ins_and_topics(backend: Backend) {
    let app = spawn_app(backend).await;
    let (org, event) = app.organizer_with_event().await;
    app.seed_topics(
        &org,
        &event,
        json!([{ "slug": "rust", "name": "Rust" }, { "slug": "go", "name": "Go" }]),
    )
    .await;
    let (ada, bob) = (unique_email("ada"), unique_email("bob"));
    app.import_csv(
        &org,
        &event,
        format!("email,topics,want_to_learn\n{ada},rust,go\n{bob},rust,\n").as_bytes(),
    )
    .await;
    app.sign_in_as(&ada).await;

    let stats = app.get(&format!("/v1/events/{event}/stats"), Some(&org.access_token)).await;
    assert_eq!(stats.status, StatusCode::OK, "{}", stats.body);
    let b = &stats.body;
    assert_eq!(
        (
            b["attendees"].as_u64(),
            b["organizers"].as_u64(),
            b["invited"].as_u64(),
            b["signed_in"].as_u64()
        ),
        (Some(2), Some(1), Some(2), Some(2))
    );
    assert_eq!(
        b["topics"],
        json!([
            { "slug": "rust", "name": "Rust", "archived": false, "can_talk_about": 2, "want_to_learn": 0 },
            { "slug": "go", "name": "Go", "archived": false, "can_talk_about": 0, "want_to_learn": 1 }
        ])
    );
}
