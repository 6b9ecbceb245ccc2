//! `/v1/events/{event_id}/connections`: the caller's connections, with delta sync.

use actix_web::{HttpResponse, delete, get, patch, post, web};
use chrono::{DateTime, NaiveDateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::accounts::some;
use super::promises::{CadenceName, FollowUpPromise, NextFollowUp, check_follow_up};
use super::{AuthUser, Json, pagination};
use crate::db::changes::Horizon;
use crate::db::connections::ConnectionChanges;
use crate::db::connections::Note;
use crate::db::tombstones::Tombstone;
use crate::domain::attendees::{self, Link, Profile, Visible};
use crate::domain::connections::{self, ConnectionPatch, ConnectionSummary, PageItem};
use crate::domain::exchange::{MAX_NOTE, MAX_TAG_LEN, MAX_TAGS, RATING};
use crate::domain::follow_ups::Cadence;
use crate::domain::text::{self, Lines};
use crate::error::{Error, FieldError, Problem, Result};
use crate::startup::AppState;

/// The other person, as their sharing profile lets the caller see them now.
#[derive(Serialize, ToSchema)]
pub struct SharedProfile {
    pub attendee_id: String,
    pub name: String,
    /// Absent when they do not share it; the same for each field below.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub company: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub headline: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bio: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub links: Option<Vec<Link>>,
    pub can_talk_about: Vec<String>,
    pub want_to_learn: Vec<String>,
}

impl From<Profile> for SharedProfile {
    fn from(profile: Profile) -> Self {
        Self::from(profile.visible())
    }
}

impl From<Visible> for SharedProfile {
    fn from(v: Visible) -> Self {
        Self {
            attendee_id: v.attendee_id,
            name: v.name,
            email: v.email,
            phone: v.phone,
            company: v.company,
            headline: v.headline,
            bio: v.bio,
            links: v.links,
            can_talk_about: v.can_talk_about,
            want_to_learn: v.want_to_learn,
        }
    }
}

/// One note entry; entries are never overwritten.
#[derive(Serialize, ToSchema)]
pub struct NoteResponse {
    pub id: String,
    pub body: String,
    /// When the note was written (on the device), as the client said.
    pub written_at: DateTime<Utc>,
    /// When the server received it.
    pub created_at: DateTime<Utc>,
}

impl From<Note> for NoteResponse {
    fn from(n: Note) -> Self {
        Self {
            id: n.id,
            body: n.body,
            written_at: n.written_at.and_utc(),
            created_at: n.created_at.and_utc(),
        }
    }
}

/// A connection as its owner sees it. Its size never grows with the notes: `note_count` says how
/// many there are, and `…/connections/{connection_id}/notes` pages through them.
#[derive(Serialize, ToSchema)]
pub struct ConnectionSummaryResponse {
    pub connection_id: String,
    pub event_id: String,
    pub other: SharedProfile,
    pub first_met_at: DateTime<Utc>,
    pub last_met_at: DateTime<Utc>,
    /// How many times the caller scanned (or was scanned by) this person.
    pub scan_count: i32,
    /// How many notes the caller has written about this person (at most 200).
    pub note_count: i32,
    pub tags: Vec<String>,
    /// 1 to 5, the caller's own.
    pub rating: Option<i32>,
    /// The next open follow-up (soonest due); absent when none is open.
    pub follow_up: Option<NextFollowUp>,
    /// How often the caller wants to stay in touch; `none` by default.
    #[schema(value_type = CadenceName)]
    pub cadence: String,
    /// With the cadence `days`: every so many days.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cadence_days: Option<i32>,
    /// The caller's last touch with the person (logged, or a completed follow-up).
    pub last_touched_at: Option<DateTime<Utc>>,
    /// When an introduction made this connection: the introducer's attendee id.
    pub introduced_by: Option<String>,
    /// When an introduction made this connection: what the introducer wrote to the caller.
    pub introduction_note: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// In delta sync (`updated_since`): true for a connection the caller deleted, or whose other
    /// person deleted their account (a tombstone; then `other` holds only `attendee_id`, with an
    /// empty `name`).
    pub deleted: bool,
}

impl From<ConnectionSummary> for ConnectionSummaryResponse {
    fn from(summary: ConnectionSummary) -> Self {
        let c = summary.connection;
        Self {
            connection_id: c.id,
            event_id: c.event_id,
            other: SharedProfile::from(summary.other),
            first_met_at: c.first_met_at.and_utc(),
            last_met_at: c.last_met_at.and_utc(),
            scan_count: c.scan_count,
            note_count: c.note_count,
            tags: serde_json::from_str(&c.tags).unwrap_or_default(),
            rating: c.rating,
            follow_up: summary.next_follow_up.map(NextFollowUp::from),
            cadence: c.cadence.clone().unwrap_or_else(|| "none".to_owned()),
            cadence_days: c.cadence_days,
            last_touched_at: c.last_touched_at.map(|t| t.and_utc()),
            introduced_by: c.introduced_by,
            introduction_note: c.introduction_note,
            created_at: c.created_at.and_utc(),
            updated_at: c.updated_at.and_utc(),
            deleted: c.deleted_at.is_some(),
        }
    }
}

impl From<PageItem> for ConnectionSummaryResponse {
    fn from(item: PageItem) -> Self {
        match item {
            PageItem::Live(summary) => Self::from(*summary),
            PageItem::Gone(tombstone) => Self::from(tombstone),
        }
    }
}

/// The other person deleted their account: nothing of their profile is left but their former id.
impl From<Tombstone> for ConnectionSummaryResponse {
    fn from(t: Tombstone) -> Self {
        let other = SharedProfile {
            attendee_id: t.other_id,
            name: String::new(),
            email: None,
            phone: None,
            company: None,
            headline: None,
            bio: None,
            links: None,
            can_talk_about: Vec::new(),
            want_to_learn: Vec::new(),
        };
        Self {
            connection_id: t.connection_id,
            event_id: t.event_id,
            other,
            first_met_at: t.first_met_at.and_utc(),
            last_met_at: t.last_met_at.and_utc(),
            scan_count: t.scan_count,
            note_count: 0,
            tags: Vec::new(),
            rating: None,
            follow_up: None,
            cadence: "none".to_owned(),
            cadence_days: None,
            last_touched_at: None,
            introduced_by: None,
            introduction_note: None,
            created_at: t.created_at.and_utc(),
            updated_at: t.deleted_at.and_utc(),
            deleted: true,
        }
    }
}

pub fn parse_time(field: &str, raw: &str) -> Result<NaiveDateTime, FieldError> {
    super::events::parse_time(raw).map_err(|message| FieldError::new(field, message))
}

pub fn check_tags(tags: &[String], errors: &mut Vec<FieldError>) -> Vec<String> {
    if tags.len() > MAX_TAGS {
        errors.push(FieldError::new("tags", format!("at most {MAX_TAGS} tags")));
    }
    let mut clean = Vec::new();
    for (i, tag) in tags.iter().enumerate() {
        let tag = tag.trim();
        if tag.is_empty() || tag.chars().count() > MAX_TAG_LEN {
            errors.push(FieldError::new(
                format!("tags[{i}]"),
                format!("must be 1 to {MAX_TAG_LEN} characters"),
            ));
        } else if let Some(problem) = text::problem(tag, Lines::One) {
            errors.push(FieldError::new(format!("tags[{i}]"), problem));
        } else if !clean.iter().any(|t: &String| t == tag) {
            clean.push(tag.to_owned());
        }
    }
    clean
}

pub fn check_note(field: &str, body: &str, errors: &mut Vec<FieldError>) -> String {
    let body = body.trim();
    if body.is_empty() || body.chars().count() > MAX_NOTE {
        errors.push(FieldError::new(field, format!("must be 1 to {MAX_NOTE} characters")));
    } else if let Some(problem) = text::problem(body, Lines::Many) {
        errors.push(FieldError::new(field, problem));
    }
    body.to_owned()
}

pub fn check_rating(rating: i32, errors: &mut Vec<FieldError>) {
    if !RATING.contains(&rating) {
        errors.push(FieldError::new(
            "rating",
            format!("must be {} to {}", RATING.start(), RATING.end()),
        ));
    }
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ConnectionsQuery {
    /// Items per page, 1 to 100 (default 50).
    pub limit: Option<i64>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
    /// Delta sync: only connections changed since the sync that returned this `sync_token`,
    /// deleted ones included as tombstones (`deleted: true`). Pass the `sync_token` of your last
    /// complete sync, as given (it is opaque). A token of an older version (an RFC 3339 time)
    /// or of another attendee gets every connection, tombstones included, and a fresh token.
    pub updated_since: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct ConnectionPage {
    /// Oldest change first.
    pub items: Vec<ConnectionSummaryResponse>,
    /// Pass as `cursor` for the next page; absent on the last page.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
    /// On the last page: pass as `updated_since` next time to get only what changed since. Opaque.
    pub sync_token: Option<String>,
}

/// A position in a listing, and the horizon its first page was read at.
type Cursor = ((i64, String), Option<Horizon>);

/// Cursors here are `c{change number}.{connection id}.{horizon}` (see `db::changes`): where the
/// page ended, and the horizon read before the listing's first page, which its last page gives as
/// the sync token. (Cursors without a horizon, from before, still read.)
fn parse_cursor(raw: &str) -> Result<Cursor> {
    let invalid = || Error::invalid_field("cursor", "is not a cursor this API returned");
    let mut parts = raw.strip_prefix('c').ok_or_else(invalid)?.split('.');
    let seq: i64 = parts.next().and_then(|s| s.parse().ok()).ok_or_else(invalid)?;
    let id = parts.next().ok_or_else(invalid)?;
    uuid::Uuid::parse_str(id).map_err(|_| invalid())?;
    let started = parts.next().map(|h| Horizon::decode(h).ok_or_else(invalid)).transpose()?;
    if parts.next().is_some() {
        return Err(invalid());
    }
    Ok(((seq, id.to_owned()), started))
}

fn cursor_of(item: &PageItem, started: &Horizon) -> String {
    let (seq, id) = match item {
        PageItem::Live(view) => (view.connection.change_seq, &view.connection.id),
        PageItem::Gone(t) => (t.change_seq, &t.connection_id),
    };
    format!("c{seq}.{id}.{}", started.encode())
}

/// What `updated_since` asks for.
enum Since {
    /// A sync token: `s{horizon}.{attendee id}`, the owner's horizon of their last sync (see
    /// [`Horizon::encode`]).
    Token(Horizon, String),
    /// A time, as the tokens before change numbers were: everything since the start (a full
    /// delta with tombstones), since a time says nothing sure about what was committed.
    Time,
}

fn parse_since(raw: &str) -> Result<Since> {
    let token = raw
        .strip_prefix('s')
        .and_then(|r| r.split_once('.'))
        .and_then(|(seen, owner)| Some(Since::Token(Horizon::decode(seen)?, owner.to_owned())));
    match token {
        Some(token) => Ok(token),
        None => parse_time("updated_since", raw).map(|_| Since::Time).map_err(|_| {
            Error::invalid_field("updated_since", "is not a sync_token this API returned")
        }),
    }
}

async fn scanner_id(
    state: &web::Data<AppState>,
    event_id: String,
    account_id: String,
) -> Result<String> {
    state
        .db
        .read(move |conn| attendees::member(conn, &event_id, &account_id).map(|(m, _, _)| m.id))
        .await
}

const UNAUTHORIZED: &str =
    "No valid access token (`unauthenticated`, `token_expired`, `invalid_token`).";
const NOT_FOUND: &str = "No such event for the caller (`event_not_found`), or no such connection of theirs (`connection_not_found`).";

/// My connections in the event, by last change; with `updated_since`, a delta with tombstones.
#[utoipa::path(
    tag = "connections",
    security(("bearer" = [])),
    params(("event_id" = String, Path, description = "The event's id."), ConnectionsQuery),
    responses(
        (status = 200, description = "A page of connections.", body = ConnectionPage),
        (status = 400, description = "The query is not valid (`invalid_query`).", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = UNAUTHORIZED, body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such event for the caller (`event_not_found`).", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`limit`, `cursor` or `updated_since` is not valid (`validation_failed`).", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/events/{event_id}/connections")]
pub async fn list_connections(
    state: web::Data<AppState>,
    user: AuthUser,
    path: web::Path<String>,
    query: web::Query<ConnectionsQuery>,
) -> Result<HttpResponse> {
    let ConnectionsQuery { limit, cursor, updated_since } = query.into_inner();
    let (limit, _) = pagination::check(limit, None)?;
    let (after, started) = match cursor.as_deref().map(parse_cursor).transpose()? {
        Some((after, started)) => (Some(after), started),
        None => (None, None),
    };
    let since = updated_since.as_deref().map(parse_since).transpose()?;
    let owner = scanner_id(&state, path.into_inner(), user.account_id).await?;
    // A token of another attendee (another event) says nothing of this one's changes: start over.
    let since = since.map(|s| match s {
        Since::Token(seen, of) if of == owner => seen,
        Since::Token(..) | Since::Time => Horizon::default(),
    });
    let reader = owner.clone();
    let (found, horizon) = state
        .db
        .read(move |conn| connections::page(conn, &reader, since, after, started, limit + 1))
        .await?;
    let more = found.len() > usize::try_from(limit).unwrap_or(usize::MAX);
    let mut found = found;
    found.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
    let next_cursor = if more { found.last().map(|item| cursor_of(item, &horizon)) } else { None };
    let items: Vec<ConnectionSummaryResponse> =
        found.into_iter().map(ConnectionSummaryResponse::from).collect();
    // The owner's horizon read before the listing's first page: every change it counts as seen
    // is in this page or an earlier one, whenever its transaction began or committed (see
    // `db::changes`); what committed while the client paged comes again in the next delta.
    let sync_token = next_cursor.is_none().then(|| format!("s{}.{owner}", horizon.encode()));
    Ok(HttpResponse::Ok().json(ConnectionPage { items, next_cursor, sync_token }))
}

/// One of my connections.
#[utoipa::path(
    tag = "connections",
    security(("bearer" = [])),
    params(("event_id" = String, Path, description = "The event's id."), ("connection_id" = String, Path, description = "The connection's id.")),
    responses(
        (status = 200, description = "The connection, without its notes (`note_count` says how many).", body = ConnectionSummaryResponse),
        (status = 401, description = UNAUTHORIZED, body = Problem, content_type = "application/problem+json"),
        (status = 404, description = NOT_FOUND, body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/events/{event_id}/connections/{connection_id}")]
pub async fn get_connection(
    state: web::Data<AppState>,
    user: AuthUser,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse> {
    let (event_id, id) = path.into_inner();
    let owner = scanner_id(&state, event_id, user.account_id).await?;
    let view = state.db.read(move |conn| connections::get(conn, &owner, &id)).await?;
    Ok(HttpResponse::Ok().json(ConnectionSummaryResponse::from(view)))
}

/// Changes to my side of a connection; notes are added with `POST …/notes`, never edited.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PatchConnectionRequest {
    /// Replaces the tags: at most 20, each 1 to 50 characters.
    pub tags: Option<Vec<String>>,
    /// 1 to 5; `null` clears it.
    #[serde(default, deserialize_with = "super::whole::some_option")]
    #[schema(value_type = Option<i32>)]
    pub rating: Option<Option<i32>>,
    /// The connection's promise (its follow-up of origin `scan`: made, or edited); `null`
    /// dismisses it. Other follow-ups are untouched: manage them at
    /// `…/connections/{connection_id}/follow-ups`.
    #[serde(default, deserialize_with = "some")]
    #[schema(value_type = Option<FollowUpPromise>)]
    pub follow_up: Option<Option<FollowUpPromise>>,
    /// How often to stay in touch: `weekly`, `monthly`, `quarterly`, `yearly`, `days` (with
    /// `cadence_days`) or `none` (`null` too). Setting one schedules the connection's one
    /// upcoming check-in a cadence from today; `none` dismisses it.
    #[serde(default, deserialize_with = "some")]
    #[schema(value_type = Option<CadenceName>)]
    pub cadence: Option<Option<String>>,
    /// With `cadence: days`: every so many days, 1 to 3,650.
    #[serde(default, deserialize_with = "super::whole::option")]
    pub cadence_days: Option<i64>,
}

/// Changes my tags, rating, cadence or promise on a connection.
#[utoipa::path(
    tag = "connections",
    security(("bearer" = [])),
    params(("event_id" = String, Path, description = "The event's id."), ("connection_id" = String, Path, description = "The connection's id.")),
    request_body = PatchConnectionRequest,
    responses(
        (status = 200, description = "The changed connection.", body = ConnectionSummaryResponse),
        (status = 400, description = "The body is malformed or has unknown fields (`malformed_json`, `invalid_body`).", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "The body is over 64 KiB (`payload_too_large`).", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = UNAUTHORIZED, body = Problem, content_type = "application/problem+json"),
        (status = 404, description = NOT_FOUND, body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "The body is not `application/json` (`unsupported_media_type`).", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A field is not valid (`validation_failed`: a rating out of range, an unknown cadence, a cadence of 0 days…), or the promise would be due before the connection was made (`due_before_connection`).", body = Problem, content_type = "application/problem+json"),
    )
)]
#[patch("/events/{event_id}/connections/{connection_id}")]
pub async fn patch_connection(
    state: web::Data<AppState>,
    user: AuthUser,
    path: web::Path<(String, String)>,
    body: Json<PatchConnectionRequest>,
) -> Result<HttpResponse> {
    let (event_id, id) = path.into_inner();
    let request = body.into_inner();
    let mut errors = Vec::new();
    let mut changes = ConnectionChanges {
        tags: request
            .tags
            .map(|t| serde_json::to_string(&check_tags(&t, &mut errors)).unwrap_or_default()),
        ..Default::default()
    };
    if let Some(rating) = request.rating {
        if let Some(r) = rating {
            check_rating(r, &mut errors);
        }
        changes.rating = Some(rating);
    }
    let promise = request.follow_up.map(|p| p.map(|p| check_follow_up(&p, &mut errors)));
    let cadence = match (request.cadence, request.cadence_days) {
        (None, None) => None,
        (None, Some(_)) => {
            errors.push(FieldError::new("cadence_days", "goes with `cadence: days`"));
            None
        }
        (Some(name), days) => match Cadence::parse(name.as_deref().unwrap_or("none"), days) {
            Ok(cadence) => Some(cadence),
            Err((field, message)) => {
                errors.push(FieldError::new(field, message));
                None
            }
        },
    };
    if !errors.is_empty() {
        return Err(Error::validation(errors));
    }
    let patch = ConnectionPatch { changes, cadence, promise };
    let owner = scanner_id(&state, event_id, user.account_id.clone()).await?;
    let account_id = user.account_id;
    let view = state
        .db
        .write(move |conn| connections::update(conn, &account_id, &owner, &id, patch))
        .await?;
    Ok(HttpResponse::Ok().json(ConnectionSummaryResponse::from(view)))
}

/// Deletes my side of a connection; the other person keeps theirs. Delta sync reports it as a
/// tombstone.
#[utoipa::path(
    tag = "connections",
    security(("bearer" = [])),
    params(("event_id" = String, Path, description = "The event's id."), ("connection_id" = String, Path, description = "The connection's id.")),
    responses(
        (status = 204, description = "Deleted."),
        (status = 401, description = UNAUTHORIZED, body = Problem, content_type = "application/problem+json"),
        (status = 404, description = NOT_FOUND, body = Problem, content_type = "application/problem+json"),
    )
)]
#[delete("/events/{event_id}/connections/{connection_id}")]
pub async fn delete_connection(
    state: web::Data<AppState>,
    user: AuthUser,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse> {
    let (event_id, id) = path.into_inner();
    let owner = scanner_id(&state, event_id, user.account_id).await?;
    state.db.write(move |conn| connections::delete(conn, &owner, &id)).await?;
    Ok(HttpResponse::NoContent().finish())
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NoteRequest {
    /// 1 to 5,000 characters.
    pub body: String,
    /// When it was written on the device (RFC 3339); defaults to now.
    #[schema(value_type = Option<String>, format = DateTime)]
    pub written_at: Option<String>,
}

/// The note just added, and the connection it went on.
#[derive(Serialize, ToSchema)]
pub struct AddedNoteResponse {
    #[serde(flatten)]
    pub connection: ConnectionSummaryResponse,
    pub note: NoteResponse,
}

/// Adds a note to my side of a connection. Notes are kept as entries, each with its time: a note
/// from a second device never overwrites the first.
///
/// A connection holds at most 200 notes, and a person writes at most 5,000 in an event; past
/// either, 409 `note_limit_reached`. Each note counts against the person's budget of note
/// characters (bursts of 250,000, then 20,000 a minute) and of write requests (10 a second, bursts
/// of 30); beyond them, 429 with `Retry-After`.
#[utoipa::path(
    tag = "connections",
    security(("bearer" = [])),
    params(("event_id" = String, Path, description = "The event's id."), ("connection_id" = String, Path, description = "The connection's id.")),
    request_body = NoteRequest,
    responses(
        (status = 201, description = "The connection (with `note_count`) and the new note.", body = AddedNoteResponse),
        (status = 400, description = "The body is malformed (`malformed_json`, `invalid_body`).", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "The body is over 64 KiB (`payload_too_large`).", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = UNAUTHORIZED, body = Problem, content_type = "application/problem+json"),
        (status = 404, description = NOT_FOUND, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The connection holds 200 notes, or the caller has written 5,000 in this event (`note_limit_reached`).", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "The body is not `application/json` (`unsupported_media_type`).", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A field is not valid (`validation_failed`).", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many write requests or characters of notes (`rate_limited`); see `Retry-After`.", body = Problem, content_type = "application/problem+json",
            headers(("Retry-After" = u64, description = "Seconds to wait."))),
    )
)]
#[post("/events/{event_id}/connections/{connection_id}/notes")]
pub async fn add_note(
    state: web::Data<AppState>,
    user: AuthUser,
    path: web::Path<(String, String)>,
    body: Json<NoteRequest>,
) -> Result<HttpResponse> {
    let (event_id, id) = path.into_inner();
    let request = body.into_inner();
    let mut errors = Vec::new();
    let text = check_note("body", &request.body, &mut errors);
    let written_at = request
        .written_at
        .as_deref()
        .and_then(|raw| parse_time("written_at", raw).map_err(|e| errors.push(e)).ok());
    if !errors.is_empty() {
        return Err(Error::validation(errors));
    }
    state.limits.note(&user.account_id, text.chars().count()).await?;
    let account_id = user.account_id;
    let (note, connection) = state
        .db
        .write(move |conn| {
            connections::add_note(conn, &event_id, &account_id, &id, text, written_at)
        })
        .await?;
    Ok(HttpResponse::Created().json(AddedNoteResponse {
        connection: ConnectionSummaryResponse::from(connection),
        note: NoteResponse::from(note),
    }))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct NotesQuery {
    /// Notes per page, 1 to 100 (default 50).
    pub limit: Option<i64>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct NotePage {
    /// In the order they were written (`written_at`; notes written at the same moment in the order
    /// the server received them): notes uploaded later from offline take their place.
    pub items: Vec<NoteResponse>,
    /// Pass as `cursor` for the next page; absent on the last page.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}

/// My notes on one of my connections, a page at a time, in the order they were written.
#[utoipa::path(
    tag = "connections",
    security(("bearer" = [])),
    params(("event_id" = String, Path, description = "The event's id."), ("connection_id" = String, Path, description = "The connection's id."), NotesQuery),
    responses(
        (status = 200, description = "A page of notes.", body = NotePage),
        (status = 400, description = "The query is not valid (`invalid_query`).", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = UNAUTHORIZED, body = Problem, content_type = "application/problem+json"),
        (status = 404, description = NOT_FOUND, body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`limit` or `cursor` is not valid (`validation_failed`).", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/events/{event_id}/connections/{connection_id}/notes")]
pub async fn list_notes(
    state: web::Data<AppState>,
    user: AuthUser,
    path: web::Path<(String, String)>,
    query: web::Query<NotesQuery>,
) -> Result<HttpResponse> {
    let (event_id, id) = path.into_inner();
    let NotesQuery { limit, cursor } = query.into_inner();
    let (limit, cursor) = pagination::check(limit, cursor)?;
    let owner = scanner_id(&state, event_id, user.account_id).await?;
    let found = state
        .db
        .read(move |conn| connections::notes(conn, &owner, &id, cursor.as_deref(), limit + 1))
        .await?;
    let (found, next_cursor) = pagination::split(found, limit, |note| note.id.as_str());
    let items = found.into_iter().map(NoteResponse::from).collect();
    Ok(HttpResponse::Ok().json(NotePage { items, next_cursor }))
}
