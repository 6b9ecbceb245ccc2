//! Follow-ups on a connection: `POST, GET /v1/events/{event_id}/connections/{connection_id}/follow-ups`
//! and `PATCH /v1/follow-ups/{follow_up_id}` (edit, complete, snooze, dismiss, reopen).

use actix_web::{HttpResponse, get, patch, post, web};
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::accounts::some;
use super::{AuthUser, Json, pagination};
use crate::domain::follow_ups::manage::{self, Draft, Patch};
use crate::domain::follow_ups::{Due, FollowUpView, Kind, MAX_NOTE, State};
use crate::domain::text::{self, Lines};
use crate::error::{Error, FieldError, Problem, Result};
use crate::startup::AppState;

/// What a follow-up is about.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
#[allow(dead_code)] // documents the values in the OpenAPI document; parsed by the domain
pub enum FollowUpKind {
    Send,
    Meet,
    Introduce,
    CheckIn,
    Other,
}

/// `open` and `snoozed` are in the queue; a snooze that has ended reads `open` again.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
#[allow(dead_code)] // documents the values in the OpenAPI document; parsed by the domain
pub enum FollowUpState {
    Open,
    Done,
    Snoozed,
    Dismissed,
}

/// What made it: the person (`manual`), a scan's promise (`scan`; also the connection's
/// `follow_up` field), the post-event queue (`post_event`), the connection's cadence
/// (`cadence`), or a conversation starter I was shown about the person (`starter`, with its id
/// in `origin_starter_id`). More may come.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
#[allow(dead_code)] // documents the values in the OpenAPI document; parsed by the domain
pub enum FollowUpOrigin {
    Manual,
    Scan,
    PostEvent,
    Cadence,
    Starter,
}

/// A follow-up as its owner sees it.
#[derive(Serialize, ToSchema)]
pub struct FollowUpResponse {
    pub follow_up_id: String,
    pub connection_id: String,
    pub event_id: String,
    #[schema(value_type = FollowUpKind)]
    pub kind: String,
    pub note: Option<String>,
    /// The instant it is due: for a due date, the start of that day in the owner's time zone.
    pub due_at: DateTime<Utc>,
    /// The day it is due in the owner's time zone: a due date stays that day, wherever the owner
    /// is when they read it.
    pub due_on: NaiveDate,
    /// Whether it was given as a date (due that whole day) rather than a time.
    pub all_day: bool,
    #[schema(value_type = FollowUpState)]
    pub state: String,
    /// While snoozed: when it comes back.
    pub snoozed_until: Option<DateTime<Utc>>,
    /// When it was done.
    pub completed_at: Option<DateTime<Utc>>,
    /// How it was done ("we had coffee").
    pub completion_note: Option<String>,
    #[schema(value_type = FollowUpOrigin)]
    pub origin: String,
    /// The conversation starter it came from, when it did (`origin: starter`); `null` again if
    /// that starter is no longer kept.
    pub origin_starter_id: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl FollowUpResponse {
    pub fn new(view: FollowUpView, now: chrono::NaiveDateTime) -> Self {
        let due = view.due();
        let state = view.state_at(now).to_owned();
        let row = view.row;
        let snoozed = state == State::Snoozed.as_str();
        Self {
            follow_up_id: row.id,
            connection_id: row.connection_id,
            event_id: row.event_id,
            kind: row.kind,
            note: row.note,
            due_at: due.instant(view.tz).and_utc(),
            due_on: due.day(view.tz),
            all_day: matches!(due, Due::On(_)),
            state,
            snoozed_until: row.snoozed_until.filter(|_| snoozed).map(|t| t.and_utc()),
            completed_at: row.completed_at.map(|t| t.and_utc()),
            completion_note: row.completion_note,
            origin: row.origin,
            origin_starter_id: row.origin_starter_id,
            created_at: row.created_at.and_utc(),
            updated_at: row.updated_at.and_utc(),
        }
    }
}

/// A date (`2026-09-20`: that day, in the caller's time zone) or an RFC 3339 date-time.
pub fn parse_due(field: &str, raw: &str, errors: &mut Vec<FieldError>) -> Option<Due> {
    Due::parse(raw).map_err(|message| errors.push(FieldError::new(field, message))).ok()
}

/// A note of a follow-up, a completion or a touch: trimmed, at most 500 characters, the text rule;
/// blank reads as none.
pub fn check_text(field: &str, raw: Option<&str>, errors: &mut Vec<FieldError>) -> Option<String> {
    let text = raw.map(str::trim).filter(|t| !t.is_empty())?;
    if text.chars().count() > MAX_NOTE {
        errors.push(FieldError::new(field, format!("must be at most {MAX_NOTE} characters")));
    } else if let Some(problem) = text::problem(text, Lines::Many) {
        errors.push(FieldError::new(field, problem));
    }
    Some(text.to_owned())
}

fn parse_kind(raw: &str, errors: &mut Vec<FieldError>) -> Option<Kind> {
    let kind = Kind::parse(raw);
    if kind.is_none() {
        errors.push(FieldError::new("kind", format!("must be one of {}", Kind::choices())));
    }
    kind
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateFollowUpRequest {
    #[schema(value_type = FollowUpKind)]
    pub kind: String,
    /// What was promised, 1 to 500 characters ("send the article on rate limiting").
    #[schema(max_length = 500)]
    pub note: Option<String>,
    /// When it is due: a date (`2026-09-20`, that day in the caller's time zone) or an RFC 3339
    /// date-time. Not before the day the connection was made (`due_before_connection`).
    #[schema(example = "2026-09-20")]
    pub due_at: String,
    /// From what I heard to a promise: the `starter_id` of a conversation starter I was shown
    /// about this person (from `GET …/connections/{connection_id}/starters` or
    /// `…/attendees/{attendee_id}/starters`), whose listen-for this follow-up acts on. It becomes
    /// the follow-up's origin (`origin: starter`), the starter counts as used, and the organizers'
    /// prompt statistics count the connection when the follow-up is done. A starter never shown
    /// to me about this person answers 404 `starter_not_found`.
    #[schema(max_length = 100)]
    pub origin_starter_id: Option<String>,
}

const UNAUTHORIZED: &str =
    "No valid access token (`unauthenticated`, `token_expired`, `invalid_token`).";
const CONNECTION_NOT_FOUND: &str = "No such event for the caller (`event_not_found`), or no such connection of theirs (`connection_not_found`).";

/// Adds a follow-up to one of my connections: a promise or a reminder, with a kind, a note and a
/// due date (or time), made by hand or from a conversation starter's listen-for
/// (`origin_starter_id`).
///
/// A connection holds at most 100 open follow-ups made here and 1,000 in all (409
/// `follow_up_limit_reached`). Counts against the write budget of the person (10 requests a
/// second, bursts of 30; its note against the note characters); beyond it, 429.
#[utoipa::path(
    tag = "follow-ups",
    security(("bearer" = [])),
    params(("event_id" = String, Path, description = "The event's id."), ("connection_id" = String, Path, description = "The connection's id.")),
    request_body = CreateFollowUpRequest,
    responses(
        (status = 201, description = "The new follow-up.", body = FollowUpResponse),
        (status = 400, description = "The body is malformed or has unknown fields (`malformed_json`, `invalid_body`).", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = UNAUTHORIZED, body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such event for the caller (`event_not_found`), no such connection of theirs (`connection_not_found`), or no starter with `origin_starter_id` shown to them about this person (`starter_not_found`).", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The connection holds as many follow-ups as it can (`follow_up_limit_reached`).", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "The body is over 64 KiB (`payload_too_large`).", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "The body is not `application/json` (`unsupported_media_type`).", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A field is not valid (`validation_failed`: an unknown kind, a due date that is neither a date nor a date-time…), or it would be due before the connection was made (`due_before_connection`).", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many write requests or characters of notes (`rate_limited`); see `Retry-After`.", body = Problem, content_type = "application/problem+json",
            headers(("Retry-After" = u64, description = "Seconds to wait."))),
    )
)]
#[post("/events/{event_id}/connections/{connection_id}/follow-ups")]
pub async fn create_follow_up(
    state: web::Data<AppState>,
    user: AuthUser,
    path: web::Path<(String, String)>,
    body: Json<CreateFollowUpRequest>,
) -> Result<HttpResponse> {
    let (event_id, connection_id) = path.into_inner();
    let request = body.into_inner();
    let mut errors = Vec::new();
    let kind = parse_kind(&request.kind, &mut errors);
    let note = check_text("note", request.note.as_deref(), &mut errors);
    let due = parse_due("due_at", &request.due_at, &mut errors);
    let starter = request.origin_starter_id.as_deref().map(str::trim).filter(|s| !s.is_empty());
    if let Some(starter) = starter
        && (starter.chars().count() > 100 || text::problem(starter, Lines::One).is_some())
    {
        errors
            .push(FieldError::new("origin_starter_id", "must be 1 to 100 characters of one line"));
    }
    let (Some(kind), Some(due), true) = (kind, due, errors.is_empty()) else {
        return Err(Error::validation(errors));
    };
    let draft = Draft { kind, note, due, origin_starter_id: starter.map(str::to_owned) };
    let chars = draft.note.as_deref().map_or(0, |n| n.chars().count());
    state.limits.note(&user.account_id, chars).await?;
    let account_id = user.account_id;
    let view = state
        .db
        .write(move |conn| manage::create(conn, &event_id, &account_id, &connection_id, draft))
        .await?;
    Ok(HttpResponse::Created().json(FollowUpResponse::new(view, crate::db::now())))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// Items per page, 1 to 100 (default 50).
    pub limit: Option<i64>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct FollowUpPage {
    /// In the order they were made, every state.
    pub items: Vec<FollowUpResponse>,
    /// Pass as `cursor` for the next page; absent on the last page.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}

/// My follow-ups on one of my connections, every state, in the order they were made.
#[utoipa::path(
    tag = "follow-ups",
    security(("bearer" = [])),
    params(("event_id" = String, Path, description = "The event's id."), ("connection_id" = String, Path, description = "The connection's id."), ListQuery),
    responses(
        (status = 200, description = "A page of follow-ups.", body = FollowUpPage),
        (status = 400, description = "The query is not valid (`invalid_query`).", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = UNAUTHORIZED, body = Problem, content_type = "application/problem+json"),
        (status = 404, description = CONNECTION_NOT_FOUND, body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`limit` or `cursor` is not valid (`validation_failed`).", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/events/{event_id}/connections/{connection_id}/follow-ups")]
pub async fn list_follow_ups(
    state: web::Data<AppState>,
    user: AuthUser,
    path: web::Path<(String, String)>,
    query: web::Query<ListQuery>,
) -> Result<HttpResponse> {
    let (event_id, connection_id) = path.into_inner();
    let ListQuery { limit, cursor } = query.into_inner();
    let (limit, cursor) = pagination::check(limit, cursor)?;
    let account_id = user.account_id;
    let found = state
        .db
        .read(move |conn| {
            manage::list(conn, &event_id, &account_id, &connection_id, cursor.as_deref(), limit + 1)
        })
        .await?;
    let (found, next_cursor) = pagination::split(found, limit, |v| v.row.id.as_str());
    let now = crate::db::now();
    let items = found.into_iter().map(|v| FollowUpResponse::new(v, now)).collect();
    Ok(HttpResponse::Ok().json(FollowUpPage { items, next_cursor }))
}

/// Changes to a follow-up; a field left out stays as it is.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PatchFollowUpRequest {
    #[schema(value_type = Option<FollowUpKind>)]
    pub kind: Option<String>,
    /// Up to 500 characters; `null` clears it.
    #[serde(default, deserialize_with = "some")]
    #[schema(value_type = Option<String>, max_length = 500)]
    pub note: Option<Option<String>>,
    /// A date or an RFC 3339 date-time, as when it was made.
    pub due_at: Option<String>,
    /// `done` completes it (with `completed_at`, default now, and `completion_note`); `snoozed`
    /// needs `snoozed_until`; `dismissed` drops it from the queue; `open` reopens it (undoing a
    /// completion: a cadence check-in scheduled by it goes).
    #[schema(value_type = Option<FollowUpState>)]
    pub state: Option<String>,
    /// Snoozes it until then: a date (that day, in the caller's time zone) or a date-time, in the
    /// future. Implies `state: snoozed`.
    pub snoozed_until: Option<String>,
    /// With `state: done`: when it was done (a date or a date-time, not in the future).
    pub completed_at: Option<String>,
    /// With `state: done`: how ("we had coffee"), up to 500 characters; `null` clears it.
    #[serde(default, deserialize_with = "some")]
    #[schema(value_type = Option<String>, max_length = 500)]
    pub completion_note: Option<Option<String>>,
}

/// Edits, completes, snoozes, dismisses or reopens one of my follow-ups.
///
/// Completing one is a touch: when its connection has a cadence, the next check-in is scheduled
/// a cadence from then. Dismissing a cadence check-in schedules the next one a cadence from
/// today. Another person's follow-up answers 404, as a missing one.
#[utoipa::path(
    tag = "follow-ups",
    security(("bearer" = [])),
    params(("follow_up_id" = String, Path, description = "The follow-up's id.")),
    request_body = PatchFollowUpRequest,
    responses(
        (status = 200, description = "The changed follow-up.", body = FollowUpResponse),
        (status = 400, description = "The body is malformed or has unknown fields (`malformed_json`, `invalid_body`).", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = UNAUTHORIZED, body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "The caller has no follow-up with this id (`follow_up_not_found`).", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "The body is over 64 KiB (`payload_too_large`).", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "The body is not `application/json` (`unsupported_media_type`).", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A field is not valid (`validation_failed`: an unknown state or kind, a snooze into the past, a completion in the future…), or the new due date is before the connection was made (`due_before_connection`).", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many write requests (`rate_limited`); see `Retry-After`.", body = Problem, content_type = "application/problem+json",
            headers(("Retry-After" = u64, description = "Seconds to wait."))),
    )
)]
#[patch("/follow-ups/{follow_up_id}")]
pub async fn patch_follow_up(
    state: web::Data<AppState>,
    user: AuthUser,
    path: web::Path<String>,
    body: Json<PatchFollowUpRequest>,
) -> Result<HttpResponse> {
    let id = path.into_inner();
    let request = body.into_inner();
    let mut errors = Vec::new();
    let mut patch = Patch {
        kind: request.kind.as_deref().and_then(|k| parse_kind(k, &mut errors)),
        note: request.note.map(|n| check_text("note", n.as_deref(), &mut errors)),
        due: request.due_at.as_deref().and_then(|d| parse_due("due_at", d, &mut errors)),
        snoozed_until: request
            .snoozed_until
            .as_deref()
            .and_then(|d| parse_due("snoozed_until", d, &mut errors)),
        completed_at: request
            .completed_at
            .as_deref()
            .and_then(|d| parse_due("completed_at", d, &mut errors)),
        completion_note: request
            .completion_note
            .map(|n| check_text("completion_note", n.as_deref(), &mut errors)),
        ..Default::default()
    };
    if let Some(raw) = &request.state {
        patch.state = State::parse(raw);
        if patch.state.is_none() {
            errors.push(FieldError::new("state", format!("must be one of {}", State::choices())));
        }
    }
    if !errors.is_empty() {
        return Err(Error::validation(errors));
    }
    let chars = [&patch.note, &patch.completion_note]
        .into_iter()
        .map(|n| n.as_ref().and_then(Option::as_deref).map_or(0, |n| n.chars().count()))
        .sum();
    state.limits.note(&user.account_id, chars).await?;
    let account_id = user.account_id;
    let now = crate::db::now();
    let view =
        state.db.write(move |conn| manage::update(conn, &account_id, &id, patch, now)).await?;
    Ok(HttpResponse::Ok().json(FollowUpResponse::new(view, now)))
}

#[cfg(test)]
mod tests {
    use crate::domain::follow_ups::{Digest, Kind, Origin, QueueFilter, State};

    /// The enums that document values in the OpenAPI document list what the domain parses.
    #[test]
    fn documented_values_are_the_ones_the_domain_knows() {
        let document: serde_json::Value =
            serde_json::from_str(&super::super::openapi_json()).unwrap();
        let values = |name: &str| -> Vec<String> {
            document["components"]["schemas"][name]["enum"]
                .as_array()
                .unwrap_or_else(|| panic!("{name} has no enum"))
                .iter()
                .map(|v| v.as_str().unwrap().to_owned())
                .collect()
        };
        let names = |all: Vec<&str>| all.into_iter().map(str::to_owned).collect::<Vec<_>>();
        assert_eq!(values("FollowUpKind"), names(Kind::ALL.iter().map(|v| v.as_str()).collect()));
        assert_eq!(values("FollowUpState"), names(State::ALL.iter().map(|v| v.as_str()).collect()));
        assert_eq!(
            values("FollowUpOrigin"),
            names(Origin::ALL.iter().map(|v| v.as_str()).collect())
        );
        assert_eq!(
            values("QueueState"),
            names(QueueFilter::ALL.iter().map(|v| v.as_str()).collect())
        );
        let mut digests = values("DigestFrequency");
        digests.sort();
        let mut known = names(Digest::ALL.iter().map(|v| v.as_str()).collect());
        known.sort();
        assert_eq!(digests, known);
    }
}
