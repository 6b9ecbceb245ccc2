//! Response examples of the OpenAPI document: one success body for each family of operations (by
//! schema name, put on every response of that schema), and a problem+json body on every error
//! response, whose `code` is the first documented code of that response. The same story as the
//! request examples; `tests/api/examples.rs` validates each against its schema.

use actix_web::http::StatusCode;
use serde_json::{Map, Value, json};

use crate::error::ErrorCode;

const EVENT: &str = "01933b6e-7a10-7f3e-8c2d-1e2f3a4b5c6d";
const ADA: &str = "01933b6e-8f3a-7c11-9a2e-4b5c6d7e8f90";
const BEN: &str = "01933b6e-9d04-7a55-8b1c-2d3e4f506172";
const CONNECTION: &str = "01933b70-1c2d-7e3f-9a4b-5c6d7e8f9a0b";
const FOLLOW_UP: &str = "01933b70-2d3e-7f40-8b5c-6d7e8f9a0b1c";

fn connection() -> Value {
    json!({
        "connection_id": CONNECTION,
        "event_id": EVENT,
        "other": {
            "attendee_id": BEN,
            "name": "Ben Okafor",
            "company": "Ferrous Systems",
            "headline": "Runs the PostgreSQL migration",
            "can_talk_about": ["databases"],
            "want_to_learn": ["rust"]
        },
        "first_met_at": "2026-09-09T17:30:00Z",
        "last_met_at": "2026-09-09T17:30:00Z",
        "scan_count": 1,
        "note_count": 1,
        "rating": 4,
        "tags": ["rust", "databases"],
        "cadence": "none",
        "follow_up": {
            "follow_up_id": FOLLOW_UP,
            "kind": "send",
            "text": "Send the benchmark write-up",
            "due_at": "2026-09-15T07:00:00Z",
            "due_on": "2026-09-15",
            "all_day": true
        },
        "created_at": "2026-09-09T17:30:02Z",
        "updated_at": "2026-09-09T17:30:02Z",
        "deleted": false
    })
}

/// One example body for each response schema, by schema name.
pub fn successes() -> Vec<(&'static str, Value)> {
    vec![
        ("Health", json!({ "status": "ok" })),
        ("Accepted", json!({ "detail": "If the address can receive mail, a code is on its way." })),
        (
            "TokenResponse",
            json!({
                "access_token": "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIwMTkzM2I2ZSJ9.c2lnbmF0dXJl",
                "token_type": "Bearer",
                "expires_in": 900,
                "expires_at": "2026-09-08T16:15:00Z",
                "refresh_token": super::examples::REFRESH_TOKEN,
                "refresh_token_expires_at": "2026-10-08T16:00:00Z",
                "account_id": "01933b6e-5b6c-7d8e-9f00-112233445566"
            }),
        ),
        (
            "AccountResponse",
            json!({
                "id": "01933b6e-5b6c-7d8e-9f00-112233445566",
                "email": "ada@example.org",
                "display_name": "Ada",
                "time_zone": "Europe/Berlin",
                "digest": "weekly",
                "digest_hour": 8,
                "created_at": "2026-09-08T16:00:00Z",
                "updated_at": "2026-09-08T16:05:00Z"
            }),
        ),
        (
            "EventResponse",
            json!({
                "id": EVENT,
                "name": "RustConf 2026",
                "slug": "rustconf-2026",
                "starts_at": "2026-09-08T16:00:00Z",
                "ends_at": "2026-09-11T01:00:00Z",
                "time_zone": "America/Los_Angeles",
                "follow_up_window_days": 14,
                "my_role": "organizer",
                "created_at": "2026-06-01T09:00:00Z",
                "updated_at": "2026-06-01T09:00:00Z"
            }),
        ),
        (
            "ImportReport",
            json!({
                "created": 1, "updated": 0, "unchanged": 0, "rejected": 1,
                "rows": [
                    { "line": 2, "status": "created", "email": "ada@example.org", "attendee_id": ADA },
                    { "line": 3, "status": "rejected", "email": "grace@example", "reason": "email: not a valid email address" }
                ]
            }),
        ),
        (
            "BadgeResponse",
            json!({
                "attendee_id": ADA,
                "name": "Ada Lovelace",
                "company": "Analytical Engines",
                "code": super::examples::BADGE_CODE,
                "png_url": format!("/v1/events/{EVENT}/me/badge.png"),
                "svg_url": format!("/v1/events/{EVENT}/me/badge.svg")
            }),
        ),
        (
            "ScanResponse",
            json!({
                "client_scan_id": "0b8f7c1e-2f4a-4a7e-9c1d-3f5e6a7b8c9d",
                "status": "created",
                "connection": connection()
            }),
        ),
        (
            "ScanBatchResponse",
            json!({ "results": [
                { "client_scan_id": "0b8f7c1e-2f4a-4a7e-9c1d-3f5e6a7b8c9d", "status": "created", "connection": connection() },
                { "client_scan_id": "5e2d9a41-7c3b-4f10-8e6d-2a1b0c9d8e7f", "status": "badge_not_found", "reason": "No badge of this event has that code." }
            ]}),
        ),
        ("ConnectionSummaryResponse", connection()),
        ("ConnectionPage", json!({ "items": [connection()], "sync_token": "s1.4f2a" })),
        (
            "FollowUpResponse",
            json!({
                "follow_up_id": FOLLOW_UP,
                "connection_id": CONNECTION,
                "event_id": EVENT,
                "kind": "send",
                "note": "The slides of the WAL talk",
                "due_at": "2026-09-20T07:00:00Z",
                "due_on": "2026-09-20",
                "all_day": true,
                "state": "open",
                "origin": "manual",
                "created_at": "2026-09-09T18:00:00Z",
                "updated_at": "2026-09-09T18:00:00Z"
            }),
        ),
        (
            "ProfileResponse",
            json!({
                "attendee_id": ADA,
                "event_id": EVENT,
                "role": "attendee",
                "email": "ada@example.org",
                "name": "Ada Lovelace",
                "company": "Analytical Engines",
                "headline": "Writes the first programs",
                "links": [{ "label": "Website", "url": "https://example.org/ada" }],
                "can_talk_about": ["rust"],
                "want_to_learn": ["databases"],
                "sharing": { "email": false, "phone": false, "company": true, "headline": true, "bio": true, "links": true },
                "sharing_confirmed": true,
                "in_directory": true,
                "open_to_introductions": true,
                "created_at": "2026-09-01T10:00:00Z",
                "updated_at": "2026-09-08T16:10:00Z"
            }),
        ),
        (
            "CreatedIntroduction",
            json!({
                "introduction_id": "01933b71-3e4f-7a51-9c6d-7e8f9a0b1c2d",
                "status": "pending",
                "expires_at": "2026-09-23T18:00:00Z"
            }),
        ),
        (
            "IssuedFeedResponse",
            json!({
                "url": "https://hallway.example.org/v1/calendar/3f9c2b7e5a1d4c6e8f0a2b4c6d8e0f1a.ics",
                "webcal_url": "webcal://hallway.example.org/v1/calendar/3f9c2b7e5a1d4c6e8f0a2b4c6d8e0f1a.ics",
                "created_at": "2026-09-10T08:00:00Z"
            }),
        ),
        (
            "StartersResponse",
            json!({
                "attendee_id": BEN,
                "starters": [{
                    "starter_id": "01933b72-4f50-7b62-8d7e-8f9a0b1c2d3e",
                    "prompt_id": "topic-databases-b44c6aa4",
                    "source": "organizer",
                    "stage": "challenges",
                    "question": "What is the hardest part of Databases at Ferrous Systems?",
                    "follow_ups": ["How do you deal with it?", "What got you started with Databases?"],
                    "listen_for": "A tool they wish existed.",
                    "reason": "they can talk about Databases; you want to learn it",
                    "topic": { "slug": "databases", "name": "Databases" },
                    "used": false,
                    "helpful": null
                }]
            }),
        ),
        (
            "SeedTopicsResponse",
            json!({
                "created": 2, "updated": 0, "unchanged": 0, "archived": 0, "deleted": 0,
                "topics": [
                    {
                        "slug": "rust",
                        "name": "Rust",
                        "description": "The language, its tools and its community.",
                        "prompts": ["What got you into {topic}, {first_name}?"],
                        "archived": false,
                        "updated_at": "2026-09-01T10:00:00Z"
                    },
                    {
                        "slug": "databases",
                        "name": "Databases",
                        "description": "",
                        "prompts": [],
                        "archived": false,
                        "updated_at": "2026-09-01T10:00:00Z"
                    }
                ]
            }),
        ),
    ]
}

/// The problem an error response of `status` answers, with the first code its description names
/// (`validation_failed` and the like, in backticks).
pub fn problem(status: u16, description: &str) -> Option<Value> {
    let code = description
        .split('`')
        .skip(1)
        .step_by(2)
        .find_map(|word| ErrorCode::ALL.iter().find(|c| c.as_str() == word))?;
    let title = StatusCode::from_u16(status).ok()?.canonical_reason()?;
    Some(json!({
        "type": format!("/problems/{}", code.as_str()),
        "title": title,
        "status": status,
        "detail": code.meaning().trim(),
        "code": code.as_str(),
    }))
}

/// Puts the examples on an operation's responses (an example written on the route stays).
pub fn apply(responses: &mut Map<String, Value>) {
    let successes = successes();
    for (status, response) in responses.iter_mut() {
        let description =
            response.get("description").and_then(Value::as_str).unwrap_or_default().to_owned();
        let Some(content) = response.get_mut("content").and_then(Value::as_object_mut) else {
            continue;
        };
        for (media_type, body) in content.iter_mut() {
            let Some(body) = body.as_object_mut() else { continue };
            let example = if media_type == "application/problem+json" {
                status.parse().ok().and_then(|status| problem(status, &description))
            } else {
                let name = body
                    .get("schema")
                    .and_then(|s| s.get("$ref"))
                    .and_then(Value::as_str)
                    .and_then(|r| r.strip_prefix("#/components/schemas/"));
                successes.iter().find(|(schema, _)| Some(*schema) == name).map(|(_, e)| e.clone())
            };
            if let Some(example) = example {
                body.entry("example").or_insert(example);
            }
        }
    }
}
