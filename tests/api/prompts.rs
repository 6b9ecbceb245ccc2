//! Organizers and prompts: their own prompts per topic (checked), built-ins switched off, and
//! which prompts were shown, used and found helpful.

use awc::http::StatusCode;
use serde_json::{Value, json};

use crate::both_backends;
use crate::helpers::{Backend, spawn_app};
use crate::starters::{ada_meets_bob, starters};

both_backends!(
    organizers_see_per_prompt_and_per_topic_how_starters_did,
    organizer_prompts_come_with_their_topics_and_built_ins_can_be_switched_off,
    organizer_prompts_that_are_not_open_questions_are_refused_naming_the_prompt,
);

fn entry<'a>(list: &'a Value, key: &str, value: &str) -> &'a Value {
    list.as_array()
        .unwrap()
        .iter()
        .find(|e| e[key] == value)
        .unwrap_or_else(|| panic!("no {value}"))
}

async fn organizers_see_per_prompt_and_per_topic_how_starters_did(backend: Backend) {
    let app = spawn_app(backend).await;
    let (org, event, ada, _, bob_id) = ada_meets_bob(&app).await;
    let shown = starters(&app, &ada, &event, &bob_id, "").await;
    let list = shown.body["starters"].as_array().unwrap().clone();
    let feedback = |s: &Value| {
        format!("/v1/events/{event}/starters/{}/feedback", s["starter_id"].as_str().unwrap())
    };
    app.post(&feedback(&list[0]), Some(&ada.access_token), &json!({ "helpful": true })).await;
    app.post(
        &feedback(&list[1]),
        Some(&ada.access_token),
        &json!({ "used": true, "helpful": false }),
    )
    .await;
    // Changing one's mind moves the counts, never double-counts.
    app.post(&feedback(&list[1]), Some(&ada.access_token), &json!({ "helpful": true })).await;
    app.post(&feedback(&list[2]), Some(&ada.access_token), &json!({ "used": true })).await;
    let undone =
        app.post(&feedback(&list[2]), Some(&ada.access_token), &json!({ "used": false })).await;
    assert_eq!(undone.body["used"], false);

    let path = format!("/v1/events/{event}/prompt-stats");
    let stats = app.get(&path, Some(&org.access_token)).await;
    assert_eq!(stats.status, StatusCode::OK, "{}", stats.body);
    let prompts = &stats.body["prompts"];
    assert!(prompts.as_array().unwrap().len() >= 80, "the whole library, counted or not");
    let first = entry(prompts, "prompt_id", list[0]["prompt_id"].as_str().unwrap());
    assert_eq!(
        (&first["shown"], &first["used"], &first["helpful"], &first["not_helpful"]),
        (&json!(1), &json!(1), &json!(1), &json!(0))
    );
    assert_eq!((&first["source"], &first["enabled"]), (&json!("builtin"), &json!(true)));
    let second = entry(prompts, "prompt_id", list[1]["prompt_id"].as_str().unwrap());
    assert_eq!((&second["helpful"], &second["not_helpful"]), (&json!(1), &json!(0)));
    let third = entry(prompts, "prompt_id", list[2]["prompt_id"].as_str().unwrap());
    assert_eq!((&third["shown"], &third["used"]), (&json!(1), &json!(0)));
    assert_eq!(prompts[0]["helpful"], 1, "most helpful first");

    let kubernetes = entry(&stats.body["topics"], "slug", "kubernetes");
    assert_eq!(
        (&kubernetes["shown"], &kubernetes["used"], &kubernetes["helpful"]),
        (&json!(2), &json!(2), &json!(2))
    );
    assert_eq!(kubernetes["name"], "Kubernetes");
    let rust = entry(&stats.body["topics"], "slug", "rust");
    assert_eq!((&rust["shown"], &rust["used"]), (&json!(2), &json!(0)));
    let text = stats.body.to_string();
    assert!(!text.contains(&bob_id) && !text.contains("Bob"), "totals only, never who");

    let by_attendee = app.get(&path, Some(&ada.access_token)).await;
    assert_eq!(by_attendee.status, StatusCode::FORBIDDEN);
    assert_eq!(by_attendee.problem_code(), "organizer_only");
}

async fn organizer_prompts_come_with_their_topics_and_built_ins_can_be_switched_off(
    backend: Backend,
) {
    let app = spawn_app(backend).await;
    let (org, event, ada, _, bob_id) = ada_meets_bob(&app).await;
    let detailed = json!({
        "text": "What is the hardest part of running {topic} in production, {first_name}?",
        "stage": "challenges",
        "follow_ups": ["How did you find out?", "What would you do differently?"],
        "listen_for": "A war story worth a longer coffee."
    });
    let topics = json!([
        { "slug": "kubernetes", "name": "Kubernetes", "prompts": [detailed, "Which {topic} tool could you not live without?"] },
        { "slug": "rust", "name": "Rust" },
        { "slug": "accessibility", "name": "Accessibility" }
    ]);
    let seeded = app.seed_topics(&org, &event, topics).await;
    assert_eq!(seeded.status, StatusCode::OK, "{}", seeded.body);
    assert_eq!(seeded.body["topics"][0]["prompts"][0], detailed, "given back as sent");
    assert_eq!(
        seeded.body["topics"][0]["prompts"][1],
        "Which {topic} tool could you not live without?"
    );

    let settings = format!("/v1/events/{event}/prompt-settings");
    let defaults = app.get(&settings, Some(&org.access_token)).await;
    assert_eq!(
        defaults.body,
        json!({ "builtin_prompts": true, "disabled_prompts": [], "updated_at": null })
    );
    let off =
        app.put(&settings, Some(&org.access_token), &json!({ "builtin_prompts": false })).await;
    assert_eq!(off.status, StatusCode::OK, "{}", off.body);

    let only_theirs = starters(&app, &ada, &event, &bob_id, "").await;
    let list = only_theirs.body["starters"].as_array().unwrap();
    assert_eq!(list.len(), 2, "built-ins off: the organizers' prompts alone");
    assert!(list.iter().all(|s| s["source"] == "organizer"));
    let hardest = list.iter().find(|s| s["stage"] == "challenges").unwrap();
    assert_eq!(
        hardest["question"],
        "What is the hardest part of running Kubernetes in production, Bob?"
    );
    assert_eq!(
        hardest["follow_ups"],
        json!(["How did you find out?", "What would you do differently?"])
    );
    assert_eq!(hardest["listen_for"], "A war story worth a longer coffee.");
    let plain = list.iter().find(|s| s["stage"] == "work_now").unwrap();
    assert_eq!(plain["follow_ups"].as_array().unwrap().len(), 3, "built-in companions");

    let one_off = app
        .put(&settings, Some(&org.access_token), &json!({ "builtin_prompts": true, "disabled_prompts": ["event-01", "story-01", "event-01"] }))
        .await;
    assert_eq!(one_off.body["disabled_prompts"], json!(["event-01", "story-01"]));
    let stats = app.get(&format!("/v1/events/{event}/prompt-stats"), Some(&org.access_token)).await;
    assert_eq!(entry(&stats.body["prompts"], "prompt_id", "event-01")["enabled"], false);
    assert_eq!(entry(&stats.body["prompts"], "prompt_id", "event-02")["enabled"], true);
    let organizers = entry(&stats.body["prompts"], "topic", "kubernetes");
    assert_eq!(organizers["source"], "organizer");
    let many = starters(&app, &ada, &event, &bob_id, "?limit=10").await;
    let ids: Vec<&str> = many.body["starters"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["prompt_id"].as_str().unwrap())
        .collect();
    assert!(!ids.contains(&"event-01") && !ids.contains(&"story-01"), "{ids:?}");
    assert!(ids.iter().any(|id| !id.starts_with("topic-")), "other built-ins are back");

    let unknown = app
        .put(
            &settings,
            Some(&org.access_token),
            &json!({ "builtin_prompts": true, "disabled_prompts": ["event-01", "nope"] }),
        )
        .await;
    assert_eq!(unknown.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(unknown.body["errors"][0]["field"], "disabled_prompts[1]");
    let by_attendee =
        app.put(&settings, Some(&ada.access_token), &json!({ "builtin_prompts": false })).await;
    assert_eq!(by_attendee.problem_code(), "organizer_only");
}

async fn organizer_prompts_that_are_not_open_questions_are_refused_naming_the_prompt(
    backend: Backend,
) {
    let app = spawn_app(backend).await;
    let (org, event) = app.organizer_with_event().await;
    let bad = app
        .seed_topics(&org, &event, json!([{ "slug": "rust", "name": "Rust", "prompts": [
            "Is {topic} your favourite language?",
            "What is {topic}} to you?",
            { "text": "What pulled you into {topic}?", "follow_ups": ["Did you like it?"], "listen_for": "A {gift} to send." },
            { "text": "What keeps you in {topic}?", "follow_ups": ["Why?", "How?", "What?", "Who?"] }
        ] }]))
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    let errors = bad.body["errors"].as_array().unwrap();
    let fields: Vec<&str> = errors.iter().map(|e| e["field"].as_str().unwrap()).collect();
    assert_eq!(
        fields,
        [
            "topics[0].prompts[0]",
            "topics[0].prompts[1]",
            "topics[0].prompts[2].follow_ups[0]",
            "topics[0].prompts[2].listen_for",
            "topics[0].prompts[3].follow_ups",
            "topics[0].prompts[3].follow_ups[0]",
            "topics[0].prompts[3].follow_ups[1]",
            "topics[0].prompts[3].follow_ups[2]",
            "topics[0].prompts[3].follow_ups[3]",
        ]
    );
    let first = errors[0]["message"].as_str().unwrap();
    assert!(
        first.contains("`Is {topic} your favourite language?`") && first.contains("yes/no"),
        "{first}"
    );
    assert!(errors[1]["message"].as_str().unwrap().contains('}'));
    assert!(errors[3]["message"].as_str().unwrap().contains("{gift}"));
    let unknown_stage = app
        .seed_topics(&org, &event, json!([{ "slug": "rust", "name": "Rust", "prompts": [{ "text": "What pulled you into {topic}?", "stage": "gossip" }] }]))
        .await;
    assert_eq!(unknown_stage.status, StatusCode::BAD_REQUEST);
    let listed = app.get(&format!("/v1/events/{event}/topics"), Some(&org.access_token)).await;
    assert_eq!(listed.body, json!([]), "nothing saved");
}
