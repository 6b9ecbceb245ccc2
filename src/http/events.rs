//! `/v1/events`: create, list, read and change events.

use actix_web::{HttpResponse, get, patch, post, web};
use chrono::{DateTime, NaiveDateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::{AuthUser, Json, pagination};
use crate::db::events::{Event, EventChanges};
use crate::domain::events::{self, Checks, EventDraft, Role};
use crate::error::{Error, Problem, Result};
use crate::startup::AppState;

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateEventRequest {
    /// 1 to 200 characters.
    #[schema(example = "RustConf 2026")]
    pub name: String,
    /// 3 to 64 lower-case letters, digits and single hyphens; unique across Hallway.
    #[schema(example = "rustconf-2026")]
    pub slug: String,
    /// RFC 3339; stored and returned in UTC.
    #[schema(value_type = String, format = DateTime, example = "2026-09-08T09:00:00-07:00")]
    pub starts_at: String,
    /// RFC 3339, after `starts_at`, at most 60 days later.
    #[schema(value_type = String, format = DateTime, example = "2026-09-10T18:00:00-07:00")]
    pub ends_at: String,
    /// IANA time zone of the venue.
    #[schema(example = "America/Los_Angeles")]
    pub time_zone: String,
    /// Days after the end when the post-event follow-up queue is due (0 to 365, default 14).
    #[serde(default, deserialize_with = "super::whole::option")]
    pub follow_up_window_days: Option<i64>,
}

/// Fields to change; a field left out stays as it is.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PatchEventRequest {
    pub name: Option<String>,
    pub slug: Option<String>,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub starts_at: Option<String>,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub ends_at: Option<String>,
    pub time_zone: Option<String>,
    #[serde(default, deserialize_with = "super::whole::option")]
    pub follow_up_window_days: Option<i64>,
}

#[derive(Serialize, ToSchema)]
pub struct EventResponse {
    pub id: String,
    pub name: String,
    pub slug: String,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    pub time_zone: String,
    pub follow_up_window_days: i32,
    /// The caller's role in this event: `organizer` or `attendee`.
    #[schema(example = "organizer")]
    pub my_role: String,
    /// Organizers only: the code that lets people join without an import (absent when off).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub join_code: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl EventResponse {
    fn new((event, role): (Event, Role)) -> Self {
        Self {
            id: event.id,
            name: event.name,
            slug: event.slug,
            starts_at: event.starts_at.and_utc(),
            ends_at: event.ends_at.and_utc(),
            time_zone: event.time_zone,
            follow_up_window_days: event.follow_up_window_days,
            my_role: role.as_str().to_owned(),
            join_code: if role == Role::Organizer { event.join_code } else { None },
            created_at: event.created_at.and_utc(),
            updated_at: event.updated_at.and_utc(),
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct EventList {
    pub items: Vec<EventResponse>,
    /// Pass as `cursor` for the next page; absent on the last page.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageQuery {
    /// Items per page, 1 to 100 (default 50).
    pub limit: Option<i64>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// An RFC 3339 date-time, as stored: UTC.
pub(super) fn parse_time(raw: &str) -> Result<NaiveDateTime, String> {
    DateTime::parse_from_rfc3339(raw)
        .map(|t| t.with_timezone(&Utc).naive_utc())
        .map_err(|_| format!("`{raw}` is not an RFC 3339 date-time such as 2026-09-08T09:00:00Z"))
}

fn parse_draft(request: CreateEventRequest) -> Result<EventDraft> {
    let mut checks = Checks::default();
    let name = checks.check("name", events::parse_name(&request.name));
    let slug = checks.check("slug", events::parse_slug(&request.slug));
    let starts_at = checks.check("starts_at", parse_time(&request.starts_at));
    let ends_at = checks.check("ends_at", parse_time(&request.ends_at));
    let time_zone = checks.check("time_zone", events::parse_time_zone(&request.time_zone));
    let window = checks.check(
        "follow_up_window_days",
        events::parse_follow_up_window(
            request.follow_up_window_days.unwrap_or(events::DEFAULT_FOLLOW_UP_WINDOW_DAYS.into()),
        ),
    );
    match (name, slug, starts_at, ends_at, time_zone, window) {
        (
            Some(name),
            Some(slug),
            Some(starts_at),
            Some(ends_at),
            Some(time_zone),
            Some(follow_up_window_days),
        ) => {
            let draft =
                EventDraft { name, slug, starts_at, ends_at, time_zone, follow_up_window_days };
            events::check_draft(checks, &draft)?;
            Ok(draft)
        }
        _ => Err(checks
            .finish()
            .err()
            .unwrap_or_else(|| Error::internal(anyhow::anyhow!("unreachable")))),
    }
}

fn parse_changes(request: PatchEventRequest) -> Result<EventChanges> {
    let mut checks = Checks::default();
    let changes = EventChanges {
        name: request.name.and_then(|v| checks.check("name", events::parse_name(&v))),
        slug: request.slug.and_then(|v| checks.check("slug", events::parse_slug(&v))),
        starts_at: request.starts_at.and_then(|v| checks.check("starts_at", parse_time(&v))),
        ends_at: request.ends_at.and_then(|v| checks.check("ends_at", parse_time(&v))),
        time_zone: request
            .time_zone
            .and_then(|v| checks.check("time_zone", events::parse_time_zone(&v))),
        follow_up_window_days: request
            .follow_up_window_days
            .and_then(|v| checks.check("follow_up_window_days", events::parse_follow_up_window(v))),
        updated_at: None,
    };
    checks.finish()?;
    Ok(changes)
}

/// Creates an event; the caller becomes its organizer.
#[utoipa::path(
    tag = "events",
    security(("bearer" = [])),
    request_body = CreateEventRequest,
    responses(
        (status = 201, description = "The new event.", body = EventResponse),
        (status = 400, description = "The body is malformed, lacks a field or has unknown ones (`malformed_json`, `invalid_body`).", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid access token (`unauthenticated`, `token_expired`, `invalid_token`).", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The slug is taken (`slug_taken`).", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "The body is too large (`payload_too_large`).", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "The body is not `application/json` (`unsupported_media_type`).", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Fields are not valid (`validation_failed`, each in `errors`).", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "The account has created as many events as it may in 24 hours (`quota_exceeded`); `Retry-After` says when it may again.", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/events")]
pub async fn create_event(
    state: web::Data<AppState>,
    user: AuthUser,
    body: Json<CreateEventRequest>,
) -> Result<HttpResponse> {
    let draft = parse_draft(body.into_inner())?;
    let quotas = state.config.quotas;
    let created =
        state.db.write(move |conn| events::create(conn, &user.account_id, &draft, &quotas)).await?;
    Ok(HttpResponse::Created().json(EventResponse::new(created)))
}

/// The events the caller is a member of, oldest first.
#[utoipa::path(
    tag = "events",
    security(("bearer" = [])),
    params(PageQuery),
    responses(
        (status = 200, description = "A page of events.", body = EventList),
        (status = 400, description = "The query is not valid (`invalid_query`).", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid access token (`unauthenticated`, `token_expired`, `invalid_token`).", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`limit` or `cursor` is out of range (`validation_failed`).", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/events")]
pub async fn list_events(
    state: web::Data<AppState>,
    user: AuthUser,
    query: web::Query<PageQuery>,
) -> Result<HttpResponse> {
    let PageQuery { limit, cursor } = query.into_inner();
    let (limit, cursor) = pagination::check(limit, cursor)?;
    let rows = state
        .db
        .read(move |conn| {
            events::list_for_member(conn, &user.account_id, cursor.as_deref(), limit + 1)
        })
        .await?;
    let (rows, next_cursor) = pagination::split(rows, limit, |(event, _)| &event.id);
    let items = rows.into_iter().map(EventResponse::new).collect();
    Ok(HttpResponse::Ok().json(EventList { items, next_cursor }))
}

/// One event the caller is a member of.
#[utoipa::path(
    tag = "events",
    security(("bearer" = [])),
    params(("event_id" = String, Path, description = "The event's id.")),
    responses(
        (status = 200, description = "The event.", body = EventResponse),
        (status = 401, description = "No valid access token (`unauthenticated`, `token_expired`, `invalid_token`).", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such event, or the caller is not a member (`event_not_found`).", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/events/{event_id}")]
pub async fn get_event(
    state: web::Data<AppState>,
    user: AuthUser,
    path: web::Path<String>,
) -> Result<HttpResponse> {
    let event_id = path.into_inner();
    let found = state
        .db
        .read(move |conn| events::find_for_member(conn, &event_id, &user.account_id))
        .await?;
    Ok(HttpResponse::Ok().json(EventResponse::new(found)))
}

/// Changes an event (organizers only).
#[utoipa::path(
    tag = "events",
    security(("bearer" = [])),
    params(("event_id" = String, Path, description = "The event's id.")),
    request_body = PatchEventRequest,
    responses(
        (status = 200, description = "The changed event.", body = EventResponse),
        (status = 400, description = "The body is malformed or has unknown fields (`malformed_json`, `invalid_body`).", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "The body is over 64 KiB (`payload_too_large`).", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid access token (`unauthenticated`, `token_expired`, `invalid_token`).", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The caller is an attendee, not an organizer (`organizer_only`).", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such event, or the caller is not a member (`event_not_found`).", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The new slug is taken (`slug_taken`).", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "The body is not `application/json` (`unsupported_media_type`).", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Fields are not valid (`validation_failed`, each in `errors`).", body = Problem, content_type = "application/problem+json"),
    )
)]
#[patch("/events/{event_id}")]
pub async fn patch_event(
    state: web::Data<AppState>,
    user: AuthUser,
    path: web::Path<String>,
    body: Json<PatchEventRequest>,
) -> Result<HttpResponse> {
    let event_id = path.into_inner();
    let changes = parse_changes(body.into_inner())?;
    let updated = state
        .db
        .write(move |conn| events::update(conn, &event_id, &user.account_id, changes))
        .await?;
    Ok(HttpResponse::Ok().json(EventResponse::new(updated)))
}
