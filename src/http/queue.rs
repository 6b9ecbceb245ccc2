//! `GET /v1/follow-ups`: the caller's queue across all their events.

use actix_web::{HttpResponse, get, web};
use chrono::{DateTime, NaiveDateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::connections::SharedProfile;
use super::follow_ups::FollowUpResponse;
use super::{AuthUser, pagination};
use crate::domain::follow_ups::QueueFilter;
use crate::domain::follow_ups::queue::{self, QueueItem};
use crate::error::{Error, Problem, Result};
use crate::startup::AppState;

/// Which follow-ups: open ones by their day in the caller's time zone (`due` today, `overdue`,
/// `upcoming`), or the `done` ones.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
#[allow(dead_code)] // documents the values in the OpenAPI document; parsed by the domain
pub enum QueueState {
    Due,
    Overdue,
    Upcoming,
    Done,
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct QueueQuery {
    /// Absent: every open (or snoozed) follow-up, overdue first.
    #[param(value_type = Option<QueueState>)]
    pub state: Option<String>,
    /// Items per page, 1 to 100 (default 50).
    pub limit: Option<i64>,
    /// The `next_cursor` of the previous page (of the same `state`).
    pub cursor: Option<String>,
}

/// An event, as an item names it.
#[derive(Serialize, ToSchema)]
pub struct EventRef {
    pub id: String,
    pub name: String,
}

/// A topic both people picked.
#[derive(Serialize, ToSchema)]
pub struct TopicRef {
    pub slug: String,
    pub name: String,
}

/// One of my notes on the connection, as the queue shows it.
#[derive(Serialize, ToSchema)]
pub struct NotePreviewResponse {
    pub id: String,
    /// At most 280 characters: a longer note is cut (`truncated`); page through the whole notes
    /// at `…/connections/{connection_id}/notes`.
    pub body: String,
    pub truncated: bool,
    pub written_at: DateTime<Utc>,
}

/// A follow-up with what is needed to act on it.
#[derive(Serialize, ToSchema)]
pub struct QueueItemResponse {
    pub follow_up: FollowUpResponse,
    /// The other person, as their sharing profile lets the caller see them now.
    pub person: SharedProfile,
    pub event: EventRef,
    /// My latest notes on the connection (at most 3, by when they were written, newest first).
    pub my_notes: Vec<NotePreviewResponse>,
    /// How many notes I have on the connection in all.
    pub note_count: i32,
    pub my_tags: Vec<String>,
    /// Topics both of us picked in the event (either kind).
    pub shared_topics: Vec<TopicRef>,
}

impl QueueItemResponse {
    fn new(item: QueueItem, now: NaiveDateTime) -> Self {
        Self {
            person: SharedProfile::from(item.person),
            event: EventRef { id: item.follow_up.row.event_id.clone(), name: item.event_name },
            my_notes: item
                .notes
                .into_iter()
                .map(|n| NotePreviewResponse {
                    id: n.note.id,
                    body: n.note.body,
                    truncated: n.truncated,
                    written_at: n.note.written_at.and_utc(),
                })
                .collect(),
            note_count: item.connection.note_count,
            my_tags: serde_json::from_str(&item.connection.tags).unwrap_or_default(),
            shared_topics: item
                .shared_topics
                .into_iter()
                .map(|(slug, name)| TopicRef { slug, name })
                .collect(),
            follow_up: FollowUpResponse::new(item.follow_up, now),
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct QueuePage {
    /// By due date (a snoozed one by the end of its snooze), then id.
    pub items: Vec<QueueItemResponse>,
    /// Pass as `cursor` for the next page; absent on the last page.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}

/// Cursors here are `q{microseconds since 1970}.{follow-up id}`.
fn parse_cursor(raw: &str) -> Result<(NaiveDateTime, String)> {
    let invalid = || Error::invalid_field("cursor", "is not a cursor this API returned");
    let (micros, id) = raw.strip_prefix('q').and_then(|r| r.split_once('.')).ok_or_else(invalid)?;
    let at = micros
        .parse::<i64>()
        .ok()
        .and_then(DateTime::from_timestamp_micros)
        .ok_or_else(invalid)?
        .naive_utc();
    uuid::Uuid::parse_str(id).map_err(|_| invalid())?;
    Ok((at, id.to_owned()))
}

/// My follow-ups across all my events, sorted by due date, a page at a time, each with the
/// person's shared details, my latest notes and my tags, the event, the topics we share and the
/// promise. `due` means due today in my time zone (`PATCH /v1/me` sets it).
#[utoipa::path(
    tag = "follow-ups",
    security(("bearer" = [])),
    params(QueueQuery),
    responses(
        (status = 200, description = "A page of the queue.", body = QueuePage),
        (status = 400, description = "The query is not valid (`invalid_query`).", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = UNAUTHORIZED, body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`state`, `limit` or `cursor` is not valid (`validation_failed`).", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/follow-ups")]
pub async fn get_queue(
    state: web::Data<AppState>,
    user: AuthUser,
    query: web::Query<QueueQuery>,
) -> Result<HttpResponse> {
    let QueueQuery { state: filter, limit, cursor } = query.into_inner();
    let (limit, _) = pagination::check(limit, None)?;
    let filter = filter
        .map(|raw| {
            QueueFilter::parse(&raw).ok_or_else(|| {
                Error::invalid_field("state", format!("must be one of {}", QueueFilter::choices()))
            })
        })
        .transpose()?;
    let after = cursor.as_deref().map(parse_cursor).transpose()?;
    let now = crate::db::now();
    let account_id = user.account_id;
    let found = state
        .db
        .read(move |conn| queue::page(conn, &account_id, filter, after, limit + 1, now))
        .await?;
    let more = found.len() > usize::try_from(limit).unwrap_or(usize::MAX);
    let mut found = found;
    found.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
    let next_cursor = if more {
        found.last().map(|item| {
            let row = &item.follow_up.row;
            format!("q{}.{}", row.queue_at.and_utc().timestamp_micros(), row.id)
        })
    } else {
        None
    };
    let items = found.into_iter().map(|item| QueueItemResponse::new(item, now)).collect();
    Ok(HttpResponse::Ok().json(QueuePage { items, next_cursor }))
}

const UNAUTHORIZED: &str =
    "No valid access token (`unauthenticated`, `token_expired`, `invalid_token`).";
