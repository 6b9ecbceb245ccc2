//! Topic seeding: an idempotent upsert by slug, with validated prompts.

use awc::http::StatusCode;
use serde_json::json;

use crate::both_backends;
use crate::helpers::{Backend, spawn_app};

both_backends!(
    seeding_the_same_topics_twice_changes_nothing,
    a_renamed_topic_updates_and_a_left_out_one_is_deleted_or_archived_if_chosen,
    invalid_topics_and_prompts_are_named_and_nothing_is_saved,
    only_the_events_organizers_can_seed_topics,
);

async fn seeding_the_same_topics_twice_changes_nothing(backend: Backend) {
    let app = spawn_app(backend).await;
    let (org, event) = app.organizer_with_event().await;
    let topics = json!([
        { "slug": "rust", "name": "Rust", "description": "Systems programming", "prompts": ["What got you into {topic}, {first_name}?"] },
        { "slug": "kubernetes", "name": "Kubernetes" }
    ]);
    let first = app.seed_topics(&org, &event, topics.clone()).await;
    assert_eq!(first.status, StatusCode::OK, "{}", first.body);
    assert_eq!(
        (first.body["created"].as_u64(), first.body["unchanged"].as_u64()),
        (Some(2), Some(0))
    );

    let second = app.seed_topics(&org, &event, topics).await;
    assert_eq!(
        (
            second.body["created"].as_u64(),
            second.body["updated"].as_u64(),
            second.body["unchanged"].as_u64()
        ),
        (Some(0), Some(0), Some(2))
    );
    assert_eq!(second.body["topics"], first.body["topics"], "not even updated_at moved");
    let listed = app.get(&format!("/v1/events/{event}/topics"), Some(&org.access_token)).await;
    assert_eq!(listed.body, first.body["topics"]);
    assert_eq!(listed.body[0]["prompts"], json!(["What got you into {topic}, {first_name}?"]));
}

async fn a_renamed_topic_updates_and_a_left_out_one_is_deleted_or_archived_if_chosen(
    backend: Backend,
) {
    let app = spawn_app(backend).await;
    let (org, event) = app.organizer_with_event().await;
    app.seed_topics(&org, &event, json!([{ "slug": "rust", "name": "Rust" }, { "slug": "go", "name": "Go" }, { "slug": "zig", "name": "Zig" }])).await;
    let ada = app.sign_in("ada").await;
    app.join(&org, &ada, &event).await;
    let chose = app
        .patch(
            &format!("/v1/events/{event}/me"),
            Some(&ada.access_token),
            &json!({ "want_to_learn": ["go"] }),
        )
        .await;
    assert_eq!(chose.status, StatusCode::OK, "{}", chose.body);

    let reseeded =
        app.seed_topics(&org, &event, json!([{ "slug": "rust", "name": "Rust 2024" }])).await;
    assert_eq!(reseeded.status, StatusCode::OK);
    let counts: Vec<_> = ["created", "updated", "unchanged", "archived", "deleted"]
        .iter()
        .map(|k| reseeded.body[k].as_u64().unwrap())
        .collect();
    assert_eq!(counts, [0, 1, 0, 1, 1]);

    let for_ada = app.get(&format!("/v1/events/{event}/topics"), Some(&ada.access_token)).await;
    let slugs: Vec<_> =
        for_ada.body.as_array().unwrap().iter().map(|t| t["slug"].as_str().unwrap()).collect();
    assert_eq!(slugs, ["rust"], "archived topics are not offered");
    let with_archived = app
        .get(&format!("/v1/events/{event}/topics?include_archived=true"), Some(&org.access_token))
        .await;
    assert_eq!(with_archived.body[1]["slug"], "go");
    assert_eq!(with_archived.body[1]["archived"], true);
    let profile = app.get(&format!("/v1/events/{event}/me"), Some(&ada.access_token)).await;
    assert_eq!(
        profile.body["want_to_learn"],
        json!(["go"]),
        "an archived topic stays on the profile"
    );
    let rechoose = app
        .patch(
            &format!("/v1/events/{event}/me"),
            Some(&ada.access_token),
            &json!({ "can_talk_about": ["go"] }),
        )
        .await;
    assert_eq!(
        rechoose.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "an archived topic cannot be chosen anew"
    );

    let restored = app
        .seed_topics(
            &org,
            &event,
            json!([{ "slug": "rust", "name": "Rust 2024" }, { "slug": "go", "name": "Go" }]),
        )
        .await;
    assert_eq!(restored.body["updated"], 1);
    assert_eq!(restored.body["topics"][1]["archived"], false);
}

async fn invalid_topics_and_prompts_are_named_and_nothing_is_saved(backend: Backend) {
    let app = spawn_app(backend).await;
    let (org, event) = app.organizer_with_event().await;
    app.seed_topics(&org, &event, json!([{ "slug": "rust", "name": "Rust" }])).await;

    let bad = app
        .seed_topics(&org, &event, json!([
            { "slug": "Machine Learning", "name": "ML" },
            { "slug": "rust", "name": "Rust", "prompts": ["Tell me about Rust.", "Do you like {topic}?", "What is {employer} doing with {topic}?"] },
            { "slug": "rust", "name": "" }
        ]))
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(bad.problem_code(), "validation_failed");
    let fields: Vec<_> = bad.body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert_eq!(
        fields,
        [
            "topics[0].slug",
            "topics[1].prompts[0]",
            "topics[1].prompts[1]",
            "topics[1].prompts[2]",
            "topics[2].slug",
            "topics[2].name"
        ]
    );
    let messages = bad.body["errors"].to_string();
    assert!(
        messages.contains("not a statement")
            && messages.contains("yes/no")
            && messages.contains("{employer}"),
        "{messages}"
    );

    let listed = app.get(&format!("/v1/events/{event}/topics"), Some(&org.access_token)).await;
    assert_eq!(listed.body.as_array().unwrap().len(), 1);
    assert_eq!(listed.body[0]["name"], "Rust");
}

async fn only_the_events_organizers_can_seed_topics(backend: Backend) {
    let app = spawn_app(backend).await;
    let (org, event) = app.organizer_with_event().await;
    let attendee = app.sign_in("attendee").await;
    app.join(&org, &attendee, &event).await;
    let (other_org, _) = app.organizer_with_event().await;
    let topics = json!([{ "slug": "rust", "name": "Rust" }]);

    let by_attendee = app.seed_topics(&attendee, &event, topics.clone()).await;
    assert_eq!(by_attendee.status, StatusCode::FORBIDDEN);
    assert_eq!(by_attendee.problem_code(), "organizer_only");
    let by_other = app.seed_topics(&other_org, &event, topics).await;
    assert_eq!(by_other.status, StatusCode::NOT_FOUND);
    assert_eq!(by_other.problem_code(), "event_not_found");
    assert_eq!(
        app.get(&format!("/v1/events/{event}/topics"), Some(&org.access_token)).await.body,
        json!([])
    );
}
