//! What generated clients need from the OpenAPI document beyond what the route annotations say,
//! applied as one pass over the generated document so that new routes pick it up without edits:
//! binary bodies, validation bounds read from the constants the code checks with, closed
//! enumerations, the problem `code` list, `X-Request-Id`, `servers`, `security: []` on public
//! operations, and `additionalProperties: false` on bodies that refuse unknown fields.

use serde_json::{Map, Value, json};

use crate::domain::{
    accounts, attendees, badges, email, events, exchange, follow_ups, import, introductions, topics,
};
use crate::error::ErrorCode;

use super::pagination;

/// A bound on one property of one schema, as JSON Schema states it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Bound {
    MinLength(usize),
    MaxLength(usize),
    Minimum(i64),
    Maximum(i64),
    MinItems(usize),
    MaxItems(usize),
    Pattern(&'static str),
    Format(&'static str),
}

impl Bound {
    fn keyword(self) -> (&'static str, Value) {
        match self {
            Self::MinLength(n) => ("minLength", json!(n)),
            Self::MaxLength(n) => ("maxLength", json!(n)),
            Self::Minimum(n) => ("minimum", json!(n)),
            Self::Maximum(n) => ("maximum", json!(n)),
            Self::MinItems(n) => ("minItems", json!(n)),
            Self::MaxItems(n) => ("maxItems", json!(n)),
            Self::Pattern(p) => ("pattern", json!(p)),
            Self::Format(f) => ("format", json!(f)),
        }
    }
}

fn widen(n: i32) -> i64 {
    i64::from(n)
}

/// Every documented bound: schema, property (`name[]` for the items of an array), bound. Each
/// value comes from the constant the validation reads.
pub fn bounds() -> Vec<(&'static str, &'static str, Bound)> {
    use Bound::*;
    let slug = |schema, range: std::ops::RangeInclusive<usize>| {
        [
            (schema, "slug", MinLength(*range.start())),
            (schema, "slug", MaxLength(*range.end())),
            (schema, "slug", Pattern(events::SLUG_PATTERN)),
        ]
    };
    let rating = |schema| {
        [
            (schema, "rating", Minimum(widen(*exchange::RATING.start()))),
            (schema, "rating", Maximum(widen(*exchange::RATING.end()))),
        ]
    };
    let tags = |schema| {
        [
            (schema, "tags", MaxItems(exchange::MAX_TAGS)),
            (schema, "tags[]", MinLength(1)),
            (schema, "tags[]", MaxLength(exchange::MAX_TAG_LEN)),
        ]
    };
    let event = |schema| {
        [
            (schema, "name", MinLength(1)),
            (schema, "name", MaxLength(events::MAX_NAME)),
            (schema, "follow_up_window_days", Minimum(0)),
            (schema, "follow_up_window_days", Maximum(widen(events::MAX_FOLLOW_UP_WINDOW_DAYS))),
        ]
    };
    let email =
        |schema| [(schema, "email", Format("email")), (schema, "email", MaxLength(email::MAX_LEN))];
    let mut all = Vec::new();
    all.extend(event("CreateEventRequest"));
    all.extend(event("PatchEventRequest"));
    all.extend(slug("CreateEventRequest", events::SLUG_LEN));
    all.extend(slug("PatchEventRequest", events::SLUG_LEN));
    all.extend(slug("TopicInput", topics::SLUG_LEN));
    all.extend(rating("ScanRequest"));
    all.extend(rating("PatchConnectionRequest"));
    all.extend(tags("ScanRequest"));
    all.extend(tags("PatchConnectionRequest"));
    all.extend(email("EmailCodeRequest"));
    all.extend(email("TokenRequest"));
    all.extend(email("AddOrganizerRequest"));
    all.extend(email("ImportedAttendee"));
    all.extend([
        ("ScanRequest", "client_scan_id", Format("uuid")),
        ("ScanRequest", "note", MinLength(1)),
        ("ScanRequest", "note", MaxLength(exchange::MAX_NOTE)),
        ("ScanBatchRequest", "scans", MinItems(1)),
        ("ScanBatchRequest", "scans", MaxItems(exchange::MAX_BATCH)),
        ("NoteRequest", "body", MinLength(1)),
        ("NoteRequest", "body", MaxLength(exchange::MAX_NOTE)),
        ("AttendeeImportJson", "attendees", MinItems(1)),
        ("AttendeeImportJson", "attendees", MaxItems(import::parse::MAX_ROWS)),
        ("ImportedAttendee", "name", MaxLength(import::MAX_FIELD)),
        ("ImportedAttendee", "company", MaxLength(import::MAX_FIELD)),
        ("ImportedAttendee", "headline", MaxLength(import::MAX_FIELD)),
        ("PatchAccountRequest", "display_name", MaxLength(accounts::MAX_DISPLAY_NAME)),
        ("PatchAccountRequest", "digest_hour", Minimum(widen(*accounts::DIGEST_HOURS.start()))),
        ("PatchAccountRequest", "digest_hour", Maximum(widen(*accounts::DIGEST_HOURS.end()))),
        ("PatchProfileRequest", "name", MaxLength(attendees::MAX_PROFILE_NAME)),
        ("PatchProfileRequest", "company", MaxLength(attendees::MAX_COMPANY)),
        ("PatchProfileRequest", "headline", MaxLength(attendees::MAX_HEADLINE)),
        ("PatchProfileRequest", "bio", MaxLength(attendees::MAX_BIO)),
        ("PatchProfileRequest", "phone", MaxLength(attendees::MAX_PHONE)),
        ("PatchProfileRequest", "links", MaxItems(attendees::MAX_LINKS)),
        ("PatchProfileRequest", "can_talk_about", MaxItems(attendees::MAX_TOPIC_CHOICES)),
        ("PatchProfileRequest", "want_to_learn", MaxItems(attendees::MAX_TOPIC_CHOICES)),
        ("Link", "label", MinLength(1)),
        ("Link", "label", MaxLength(attendees::MAX_LINK_LABEL)),
        ("Link", "url", MaxLength(attendees::MAX_LINK_URL)),
        ("Link", "url", Format("uri")),
        ("SeedTopicsRequest", "topics", MaxItems(topics::MAX_TOPICS)),
        ("TopicInput", "name", MinLength(1)),
        ("TopicInput", "name", MaxLength(topics::MAX_NAME)),
        ("TopicInput", "description", MaxLength(topics::MAX_DESCRIPTION)),
        ("TopicInput", "prompts", MaxItems(topics::MAX_PROMPTS)),
        ("DetailedPrompt", "text", MinLength(*topics::PROMPT_LEN.start())),
        ("DetailedPrompt", "text", MaxLength(*topics::PROMPT_LEN.end())),
        ("DetailedPrompt", "listen_for", MinLength(*topics::LISTEN_FOR_LEN.start())),
        ("DetailedPrompt", "listen_for", MaxLength(*topics::LISTEN_FOR_LEN.end())),
        ("DetailedPrompt", "follow_ups", MaxItems(topics::MAX_FOLLOW_UPS)),
        ("DetailedPrompt", "follow_ups[]", MinLength(*topics::PROMPT_LEN.start())),
        ("DetailedPrompt", "follow_ups[]", MaxLength(*topics::PROMPT_LEN.end())),
        ("StarterResponse", "follow_ups", MinItems(topics::MIN_FOLLOW_UPS)),
        ("StarterResponse", "follow_ups", MaxItems(topics::MAX_FOLLOW_UPS)),
        ("StartersResponse", "starters", MinItems(1)),
        ("StartersResponse", "starters", MaxItems(super::starters::MAX_STARTERS)),
        ("CreateFollowUpRequest", "note", MaxLength(follow_ups::MAX_NOTE)),
        ("PatchFollowUpRequest", "note", MaxLength(follow_ups::MAX_NOTE)),
        ("PatchFollowUpRequest", "completion_note", MaxLength(follow_ups::MAX_NOTE)),
        ("FollowUpPromise", "text", MaxLength(follow_ups::MAX_NOTE)),
        ("TouchRequest", "note", MaxLength(follow_ups::MAX_NOTE)),
        ("IntroducedPerson", "note", MinLength(1)),
        ("IntroducedPerson", "note", MaxLength(introductions::MAX_NOTE)),
        ("PatchConnectionRequest", "cadence_days", Minimum(1)),
        ("PatchConnectionRequest", "cadence_days", Maximum(follow_ups::MAX_CADENCE_DAYS)),
    ]);
    all
}

/// Bounds of query parameters, by parameter name, on every operation that has them.
fn parameter_bounds() -> Vec<(&'static str, Bound)> {
    vec![
        ("limit", Bound::Minimum(1)),
        ("limit", Bound::Maximum(pagination::MAX_LIMIT)),
        ("page", Bound::Minimum(1)),
        ("per_page", Bound::Minimum(1)),
        ("per_page", Bound::Maximum(i64::try_from(badges::MAX_SHEET_BADGES).unwrap_or(i64::MAX))),
    ]
}

/// Parameters that are ids this API made (UUIDs; an array's items for `attendee_ids`).
const UUID_PARAMETERS: &[&str] =
    &["event_id", "attendee_id", "connection_id", "follow_up_id", "attendee_ids"];

/// Closed enumerations that the code spells as strings: schema, property, values.
fn enums() -> Vec<(&'static str, &'static str, Vec<&'static str>)> {
    let roles = vec![events::Role::Organizer.as_str(), events::Role::Attendee.as_str()];
    vec![
        ("EventResponse", "my_role", roles.clone()),
        ("ProfileResponse", "role", roles),
        ("Health", "status", vec![super::ops::HEALTHY]),
    ]
}

/// Applies every refinement to the generated document.
pub fn refine(api: utoipa::openapi::OpenApi) -> utoipa::openapi::OpenApi {
    let Ok(mut document) = serde_json::to_value(&api) else { return api };
    refine_json(&mut document);
    serde_json::from_value(document).unwrap_or(api)
}

fn refine_json(document: &mut Value) {
    document["servers"] =
        json!([{ "url": "/", "description": "The server this document is served from." }]);
    if let Some(schemas) =
        document.pointer_mut("/components/schemas").and_then(Value::as_object_mut)
    {
        for (schema, property, bound) in bounds() {
            if let Some(target) = property_schema(schemas, schema, property) {
                let (keyword, value) = bound.keyword();
                target.insert(keyword.to_owned(), value);
            }
        }
        for (schema, property, values) in enums() {
            if let Some(target) = property_schema(schemas, schema, property) {
                target.insert("enum".to_owned(), json!(values));
            }
        }
        document_problem_codes(schemas);
        for schema in schemas.values_mut() {
            absent_next_cursor(schema);
        }
    }
    if let Some(paths) = document.pointer_mut("/paths").and_then(Value::as_object_mut) {
        for operations in paths.values_mut().filter_map(Value::as_object_mut) {
            for operation in operations.values_mut().filter_map(Value::as_object_mut) {
                refine_operation(operation);
            }
        }
    }
    super::examples::apply(document);
}

/// The schema object of `property` in `schema` (`name[]`: of its items).
fn property_schema<'a>(
    schemas: &'a mut Map<String, Value>,
    schema: &str,
    property: &str,
) -> Option<&'a mut Map<String, Value>> {
    let (name, items) = match property.strip_suffix("[]") {
        Some(name) => (name, true),
        None => (property, false),
    };
    let target = schemas.get_mut(schema)?.get_mut("properties")?.get_mut(name)?;
    let target = if items { target.get_mut("items")? } else { target };
    target.as_object_mut()
}

fn document_problem_codes(schemas: &mut Map<String, Value>) {
    let Some(code) = schemas
        .get_mut("Problem")
        .and_then(|p| p.pointer_mut("/properties/code"))
        .and_then(Value::as_object_mut)
    else {
        return;
    };
    let codes: Vec<&str> = ErrorCode::ALL.iter().map(|c| c.as_str()).collect();
    let meanings: Vec<String> = ErrorCode::ALL
        .iter()
        .map(|c| format!("- `{}`: {}", c.as_str(), c.meaning().trim()))
        .collect();
    code.insert("enum".to_owned(), json!(codes));
    code.insert(
        "description".to_owned(),
        json!(format!(
            "A stable machine-readable code. The list grows as the API does: clients must accept \
             codes they do not know (and fall back on `status`).\n\n{}",
            meanings.join("\n")
        )),
    );
}

/// `next_cursor` is left out of the last page (not `null`): a string when present.
fn absent_next_cursor(schema: &mut Value) {
    if let Some(cursor) =
        schema.pointer_mut("/properties/next_cursor").and_then(Value::as_object_mut)
    {
        cursor.insert("type".to_owned(), json!("string"));
        cursor
            .entry("description")
            .or_insert_with(|| json!("The cursor of the next page; absent on the last page."));
    }
}

fn refine_operation(operation: &mut Map<String, Value>) {
    // Public operations say so: no bearer token.
    operation.entry("security").or_insert_with(|| json!([]));
    // A raw upload is bytes: generators then take a file (openapi-python-client sends no other
    // raw body than `application/octet-stream`).
    if let Some(upload) = operation
        .get_mut("requestBody")
        .and_then(|body| body.pointer_mut("/content/application~1octet-stream"))
    {
        upload["schema"] = json!({ "type": "string", "format": "binary" });
    }
    if let Some(parameters) = operation.get_mut("parameters").and_then(Value::as_array_mut) {
        for parameter in parameters.iter_mut().filter_map(Value::as_object_mut) {
            let name = parameter.get("name").and_then(Value::as_str).unwrap_or_default().to_owned();
            let Some(schema) = parameter.get_mut("schema").and_then(Value::as_object_mut) else {
                continue;
            };
            if UUID_PARAMETERS.contains(&name.as_str()) {
                let target = match schema.get_mut("items").and_then(Value::as_object_mut) {
                    Some(items) => items,
                    None => &mut *schema,
                };
                target.insert("format".to_owned(), json!("uuid"));
            }
            if name == "paper" {
                let papers: Vec<&str> = super::badges::PAPERS.iter().map(|(n, _)| *n).collect();
                schema.insert("enum".to_owned(), json!(papers));
            }
            // An operation whose annotation bounds the parameter itself (the starters' `limit`)
            // keeps its own bound.
            for (_, bound) in parameter_bounds().into_iter().filter(|(n, _)| *n == name) {
                let (keyword, value) = bound.keyword();
                schema.entry(keyword).or_insert(value);
            }
        }
    }
    if let Some(responses) = operation.get_mut("responses").and_then(Value::as_object_mut) {
        for response in responses.values_mut().filter_map(Value::as_object_mut) {
            binary_bodies(response);
            let headers = response.entry("headers").or_insert_with(|| json!({}));
            if let Some(headers) = headers.as_object_mut() {
                headers.insert(
                    "X-Request-Id".to_owned(),
                    json!({
                        "description": "The id of this request in the server's logs; quote it when reporting a problem.",
                        "schema": { "type": "string" }
                    }),
                );
            }
        }
    }
}

/// Images and PDFs are bytes, not JSON arrays of numbers.
fn binary_bodies(response: &mut Map<String, Value>) {
    let Some(content) = response.get_mut("content").and_then(Value::as_object_mut) else { return };
    for (media_type, body) in content.iter_mut() {
        if media_type.starts_with("image/png") || media_type.starts_with("application/pdf") {
            body["schema"] =
                json!({ "type": "string", "format": "binary", "contentMediaType": media_type });
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::Value;

    use super::bounds;

    fn document() -> Value {
        serde_json::from_str(&crate::http::openapi_json()).unwrap()
    }

    /// The document carries each bound the code checks: a bound whose schema or property was
    /// renamed, or whose value differs from the constant, fails here.
    #[test]
    fn every_checked_bound_is_in_the_document() {
        let document = document();
        let mut missing = Vec::new();
        for (schema, property, bound) in bounds() {
            let (keyword, value) = bound.keyword();
            let (name, items) = match property.strip_suffix("[]") {
                Some(name) => (name, true),
                None => (property, false),
            };
            let mut pointer = format!("/components/schemas/{schema}/properties/{name}");
            if items {
                pointer.push_str("/items");
            }
            pointer.push('/');
            pointer.push_str(keyword);
            if document.pointer(&pointer) != Some(&value) {
                missing.push(pointer);
            }
        }
        assert!(missing.is_empty(), "bounds not documented: {missing:#?}");
    }

    #[test]
    fn the_documented_slug_pattern_accepts_exactly_the_slugs_the_code_accepts() {
        let pattern = regex_lite(crate::domain::events::SLUG_PATTERN);
        for slug in
            ["rustconf-2026", "abc", "a1-b2-c3", "-abc", "abc-", "a--b", "ABC", "a b", "ab_c"]
        {
            assert_eq!(
                pattern(slug),
                crate::domain::events::parse_slug(slug).is_ok(),
                "{slug}: the pattern and the check disagree"
            );
        }
    }

    /// `^[a-z0-9]+(-[a-z0-9]+)*$` checked by hand (no regex crate in the build).
    fn regex_lite(pattern: &str) -> impl Fn(&str) -> bool {
        assert_eq!(pattern, "^[a-z0-9]+(-[a-z0-9]+)*$", "update this matcher with the pattern");
        |s: &str| {
            s.split('-').all(|run| {
                !run.is_empty() && run.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
            })
        }
    }

    #[test]
    fn rating_and_limits_are_bounded_in_the_document() {
        let document = document();
        let rating = &document["components"]["schemas"]["ScanRequest"]["properties"]["rating"];
        assert_eq!(rating["minimum"], 1);
        assert_eq!(rating["maximum"], 5);
    }

    #[test]
    fn binary_bodies_are_strings_of_bytes_and_public_operations_need_no_token() {
        let document = document();
        let png = &document["paths"]["/v1/events/{event_id}/me/badge.png"]["get"]["responses"]["200"]
            ["content"]["image/png"]["schema"];
        assert_eq!(png["format"], "binary");
        assert_eq!(document["paths"]["/healthz"]["get"]["security"], serde_json::json!([]));
        assert!(document["servers"].is_array());
        let codes = &document["components"]["schemas"]["Problem"]["properties"]["code"]["enum"];
        assert!(codes.as_array().unwrap().iter().any(|c| c == "method_not_allowed"));
    }
}
