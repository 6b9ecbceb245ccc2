//! Examples in the OpenAPI document, put on every request and response body whose schema has one
//! here (the docs page pre-fills its "Try it out" forms with them; generators show them).
//!
//! Request examples tell one story — RustConf 2026, 8 to 10 September in Los Angeles, scans on
//! the 9th — and each succeeds as it stands against a fresh server, once the values that only the
//! server makes (a badge code, a sign-in code, a join code, tokens, attendee ids: the
//! [`PLACEHOLDERS`]) are replaced by real ones; `tests/api/examples.rs` sends every one.
//! Response examples (`http::response_examples`) are checked against their schemas by the same
//! tests, as these are.

use serde_json::{Value, json};

/// A badge code (20 characters of Crockford base32) in the scan examples.
pub const BADGE_CODE: &str = "7QHJY3H0EJ2Y120JF7AB";
/// The six digits of a sign-in email.
pub const SIGN_IN_CODE: &str = "042917";
/// An event's join code.
pub const JOIN_CODE: &str = "K7M2Q9X4TB";
/// A refresh token (64 hex digits).
pub const REFRESH_TOKEN: &str = "5d1f0c3b9a8e7d6c5b4a39281706f5e4d3c2b1a09f8e7d6c5b4a392817060504";
/// The token of an introduction email's link (64 hex digits).
pub const LINK_TOKEN: &str = "9e8d7c6b5a4938271605f4e3d2c1b0a99e8d7c6b5a4938271605f4e3d2c1b0a9";
/// Two attendees of the event, both connections of the caller.
pub const ATTENDEE_IDS: [&str; 2] =
    ["01933b6e-8f3a-7c11-9a2e-4b5c6d7e8f90", "01933b6e-9d04-7a55-8b1c-2d3e4f506172"];

/// Every value of an example that stands for something the server makes.
pub const PLACEHOLDERS: [&str; 7] = [
    BADGE_CODE,
    SIGN_IN_CODE,
    JOIN_CODE,
    REFRESH_TOKEN,
    LINK_TOKEN,
    ATTENDEE_IDS[0],
    ATTENDEE_IDS[1],
];

/// The CSV import's example: the columns without topics, which an event has only once seeded.
pub const CSV_IMPORT: &str = "email,name,company,headline\n\
     ada@example.org,Ada Lovelace,Analytical Engines,Writes the first programs\n\
     grace@example.org,Grace Hopper,,Compilers and COBOL\n";

fn scan() -> Value {
    json!({
        "client_scan_id": "0b8f7c1e-2f4a-4a7e-9c1d-3f5e6a7b8c9d",
        "badge_code": BADGE_CODE,
        "scanned_at": "2026-09-09T10:30:00-07:00",
        "rating": 4,
        "tags": ["rust", "databases"],
        "note": "Maintains a diesel backend; wants to compare notes on SQLite WAL.",
        "follow_up": { "text": "Send the benchmark write-up", "due_at": "2026-09-15" }
    })
}

/// One example request body for each schema, by schema name.
pub fn requests() -> Vec<(&'static str, Value)> {
    vec![
        ("EmailCodeRequest", json!({ "email": "ada@example.org" })),
        ("TokenRequest", json!({ "email": "ada@example.org", "code": SIGN_IN_CODE })),
        ("RefreshRequest", json!({ "refresh_token": REFRESH_TOKEN })),
        (
            "CreateEventRequest",
            json!({
                "name": "RustConf 2026",
                "slug": "rustconf-2026",
                "starts_at": "2026-09-08T09:00:00-07:00",
                "ends_at": "2026-09-10T18:00:00-07:00",
                "time_zone": "America/Los_Angeles",
                "follow_up_window_days": 14
            }),
        ),
        ("PatchEventRequest", json!({ "name": "RustConf 2026 (LA)", "follow_up_window_days": 21 })),
        (
            "AttendeeImportJson",
            json!({ "attendees": [
                { "email": "ada@example.org", "name": "Ada Lovelace", "company": "Analytical Engines" },
                { "email": "grace@example.org", "name": "Grace Hopper", "headline": "Compilers and COBOL" }
            ]}),
        ),
        ("AddOrganizerRequest", json!({ "email": "grace@example.org" })),
        ("JoinRequest", json!({ "join_code": JOIN_CODE })),
        (
            "SeedTopicsRequest",
            json!({ "topics": [
                {
                    "slug": "rust",
                    "name": "Rust",
                    "description": "The language, its tools and its community.",
                    "prompts": [
                        "What got you into {topic}, {first_name}?",
                        {
                            "text": "What is the hardest part of {topic} at {company}?",
                            "stage": "challenges",
                            "listen_for": "A tool they wish existed.",
                            "follow_ups": ["How do you deal with it?"]
                        }
                    ]
                },
                { "slug": "databases", "name": "Databases" }
            ]}),
        ),
        ("PromptSettingsRequest", json!({ "builtin_prompts": true, "disabled_prompts": [] })),
        (
            "PatchProfileRequest",
            json!({
                "name": "Ada Lovelace",
                "company": "Analytical Engines",
                "headline": "Writes the first programs",
                "bio": "Notes on the Analytical Engine; likes long walks and longer loops.",
                "links": [{ "label": "Website", "url": "https://example.org/ada" }],
                "in_directory": true,
                "open_to_introductions": true,
                "sharing": { "company": true, "links": true }
            }),
        ),
        ("ScanRequest", scan()),
        ("ScanBatchRequest", json!({ "scans": [scan()] })),
        (
            "PatchConnectionRequest",
            json!({ "rating": 5, "tags": ["rust", "hiring"], "cadence": "quarterly" }),
        ),
        (
            "NoteRequest",
            json!({ "body": "Her team moves to PostgreSQL in October.", "written_at": "2026-09-09T12:15:00-07:00" }),
        ),
        (
            "CreateFollowUpRequest",
            json!({ "kind": "send", "due_at": "2026-09-20", "note": "The slides of the WAL talk" }),
        ),
        (
            "PatchFollowUpRequest",
            json!({ "state": "done", "completion_note": "Sent with the benchmark." }),
        ),
        ("TouchRequest", json!({ "happened_at": "2026-10-02", "note": "we had coffee" })),
        (
            "CreateIntroductionRequest",
            json!({ "people": [
                { "attendee_id": ATTENDEE_IDS[0], "note": "Ben ran the migration you are about to start." },
                { "attendee_id": ATTENDEE_IDS[1], "note": "Ana is about to start the migration you ran." }
            ]}),
        ),
        ("ResponseRequest", json!({ "choice": "accept" })),
        ("LinkForm", json!({ "token": LINK_TOKEN, "choice": "accept" })),
        ("FeedbackRequest", json!({ "used": true, "helpful": true })),
        (
            "PatchAccountRequest",
            json!({ "display_name": "Ada", "time_zone": "Europe/Berlin", "digest": "weekly", "digest_hour": 8 }),
        ),
    ]
}

/// Puts the examples on every request body whose schema has one, and on responses (an example
/// written on the route itself stays).
pub fn apply(document: &mut Value) {
    let requests = requests();
    let Some(paths) = document.get_mut("paths").and_then(Value::as_object_mut) else { return };
    for operation in
        paths.values_mut().filter_map(Value::as_object_mut).flat_map(|ops| ops.values_mut())
    {
        if let Some(responses) = operation.get_mut("responses").and_then(Value::as_object_mut) {
            super::response_examples::apply(responses);
        }
        let Some(content) =
            operation.pointer_mut("/requestBody/content").and_then(Value::as_object_mut)
        else {
            continue;
        };
        for (media_type, body) in content.iter_mut() {
            let Some(body) = body.as_object_mut() else { continue };
            if media_type == "text/csv" {
                body.entry("example").or_insert_with(|| json!(CSV_IMPORT));
            }
            let Some(name) = schema_name(body.get("schema")) else { continue };
            if let Some((_, example)) = requests.iter().find(|(schema, _)| *schema == name) {
                body.entry("example").or_insert_with(|| example.clone());
            }
        }
    }
}

/// The name of the component a body's schema refers to.
fn schema_name(schema: Option<&Value>) -> Option<&str> {
    schema?.get("$ref")?.as_str()?.strip_prefix("#/components/schemas/")
}
