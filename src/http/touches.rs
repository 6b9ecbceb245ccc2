//! `/v1/events/{event_id}/connections/{connection_id}/touches`: logging that two people were in
//! touch ("we had coffee"); with a cadence, it schedules the connection's next check-in.

use actix_web::{HttpResponse, get, post, web};
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::follow_ups::{FollowUpResponse, ListQuery, check_text, parse_due};
use super::{AuthUser, Json, pagination};
use crate::db::follow_ups::Touch;
use crate::domain::follow_ups::touches::{self, TouchDraft};
use crate::error::{Error, Problem, Result};
use crate::startup::AppState;

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TouchRequest {
    /// What happened, up to 500 characters ("we had coffee").
    #[schema(max_length = 500, example = "we had coffee")]
    pub note: Option<String>,
    /// When: a date (`2026-10-02`, that day in the caller's time zone) or an RFC 3339 date-time;
    /// not in the future.
    #[schema(example = "2026-10-02")]
    pub happened_at: String,
}

#[derive(Serialize, ToSchema)]
pub struct TouchResponse {
    pub touch_id: String,
    pub connection_id: String,
    pub event_id: String,
    pub note: Option<String>,
    /// When it happened (for a date, the start of that day in the caller's time zone).
    pub happened_at: DateTime<Utc>,
    /// The day it happened in the caller's time zone.
    pub happened_on: NaiveDate,
    pub created_at: DateTime<Utc>,
}

impl From<Touch> for TouchResponse {
    fn from(t: Touch) -> Self {
        Self {
            touch_id: t.id,
            connection_id: t.connection_id,
            event_id: t.event_id,
            note: t.note,
            happened_at: t.happened_at.and_utc(),
            happened_on: t.happened_on,
            created_at: t.created_at.and_utc(),
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct LoggedTouchResponse {
    #[serde(flatten)]
    pub touch: TouchResponse,
    /// With a cadence on the connection: its one upcoming check-in, now due a cadence after the
    /// latest touch.
    pub next_check_in: Option<FollowUpResponse>,
}

const UNAUTHORIZED: &str =
    "No valid access token (`unauthenticated`, `token_expired`, `invalid_token`).";
const NOT_FOUND: &str = "No such event for the caller (`event_not_found`), or no such connection of theirs (`connection_not_found`).";

/// Logs a touch with one of my connections: it is recorded and, when the connection has a
/// cadence, its one upcoming check-in is moved to a cadence after the latest touch.
///
/// A connection holds at most 1,000 touches (409 `touch_limit_reached`). Counts against the write
/// budget of the person (10 requests a second, bursts of 30; its note against the note
/// characters); beyond it, 429.
#[utoipa::path(
    tag = "follow-ups",
    security(("bearer" = [])),
    params(("event_id" = String, Path, description = "The event's id."), ("connection_id" = String, Path, description = "The connection's id.")),
    request_body = TouchRequest,
    responses(
        (status = 201, description = "The touch, and the connection's next check-in.", body = LoggedTouchResponse),
        (status = 400, description = "The body is malformed or has unknown fields (`malformed_json`, `invalid_body`).", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = UNAUTHORIZED, body = Problem, content_type = "application/problem+json"),
        (status = 404, description = NOT_FOUND, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The connection holds 1,000 touches (`touch_limit_reached`).", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "The body is over 64 KiB (`payload_too_large`).", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "The body is not `application/json` (`unsupported_media_type`).", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A field is not valid (`validation_failed`: a time that is neither a date nor a date-time, or in the future).", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many write requests or characters of notes (`rate_limited`); see `Retry-After`.", body = Problem, content_type = "application/problem+json",
            headers(("Retry-After" = u64, description = "Seconds to wait."))),
    )
)]
#[post("/events/{event_id}/connections/{connection_id}/touches")]
pub async fn add_touch(
    state: web::Data<AppState>,
    user: AuthUser,
    path: web::Path<(String, String)>,
    body: Json<TouchRequest>,
) -> Result<HttpResponse> {
    let (event_id, connection_id) = path.into_inner();
    let request = body.into_inner();
    let mut errors = Vec::new();
    let note = check_text("note", request.note.as_deref(), &mut errors);
    let happened = parse_due("happened_at", &request.happened_at, &mut errors);
    let (Some(happened), true) = (happened, errors.is_empty()) else {
        return Err(Error::validation(errors));
    };
    state.limits.note(&user.account_id, note.as_deref().map_or(0, |n| n.chars().count())).await?;
    let account_id = user.account_id;
    let now = crate::db::now();
    let draft = TouchDraft { note, happened };
    let (touch, next) = state
        .db
        .write(move |conn| touches::log(conn, &event_id, &account_id, &connection_id, draft, now))
        .await?;
    Ok(HttpResponse::Created().json(LoggedTouchResponse {
        touch: TouchResponse::from(touch),
        next_check_in: next.map(|view| FollowUpResponse::new(view, now)),
    }))
}

#[derive(Serialize, ToSchema)]
pub struct TouchPage {
    /// In the order they were logged.
    pub items: Vec<TouchResponse>,
    /// Pass as `cursor` for the next page; absent on the last page.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}

/// My touches with one of my connections, in the order they were logged.
#[utoipa::path(
    tag = "follow-ups",
    security(("bearer" = [])),
    params(("event_id" = String, Path, description = "The event's id."), ("connection_id" = String, Path, description = "The connection's id."), ListQuery),
    responses(
        (status = 200, description = "A page of touches.", body = TouchPage),
        (status = 400, description = "The query is not valid (`invalid_query`).", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = UNAUTHORIZED, body = Problem, content_type = "application/problem+json"),
        (status = 404, description = NOT_FOUND, body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`limit` or `cursor` is not valid (`validation_failed`).", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/events/{event_id}/connections/{connection_id}/touches")]
pub async fn list_touches(
    state: web::Data<AppState>,
    user: AuthUser,
    path: web::Path<(String, String)>,
    query: web::Query<ListQuery>,
) -> Result<HttpResponse> {
    let (event_id, connection_id) = path.into_inner();
    let ListQuery { limit, cursor } = query.into_inner();
    let (limit, cursor) = pagination::check(limit, cursor)?;
    let account_id = user.account_id;
    let (found, _) = state
        .db
        .read(move |conn| {
            touches::list(
                conn,
                &event_id,
                &account_id,
                &connection_id,
                cursor.as_deref(),
                limit + 1,
            )
        })
        .await?;
    let (found, next_cursor) = pagination::split(found, limit, |t| t.id.as_str());
    let items = found.into_iter().map(TouchResponse::from).collect();
    Ok(HttpResponse::Ok().json(TouchPage { items, next_cursor }))
}
