//! Organizer tools for people: attendee import and list, co-organizers, the join code, stats;
//! and joining an event with its code.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, delete, get, post, put, web};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::profiles::ProfileResponse;
use super::{AuthUser, Json, body, pagination};
use crate::domain::attendees::{self, Stats};
use crate::domain::import::{self, ImportReport, parse};
use crate::error::{Error, ErrorCode, Problem, Result};
use crate::startup::AppState;

/// The largest import body accepted, in bytes.
pub const MAX_IMPORT_BYTES: usize = 10 * 1024 * 1024;

/// One attendee in a JSON import. Only `email` is required; fields left out stay as they are.
#[derive(Deserialize, ToSchema)]
#[allow(dead_code)] // documents the JSON shape; rows are read leniently, one by one
pub struct ImportedAttendee {
    #[schema(example = "ada@example.org")]
    email: String,
    name: Option<String>,
    company: Option<String>,
    headline: Option<String>,
    /// Slugs of topics the attendee can talk about.
    topics: Option<Vec<String>>,
    /// Slugs of topics the attendee wants to learn about.
    want_to_learn: Option<Vec<String>>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)] // documents the JSON shape
pub struct AttendeeImportJson {
    /// At most 10,000 attendees.
    attendees: Vec<ImportedAttendee>,
}

/// Imports attendees from CSV or JSON (organizers only): up to 10,000 rows, idempotent by email.
///
/// CSV (`text/csv`): a header row naming columns among `email` (required), `name`, `company`,
/// `headline`, `topics` and `want_to_learn` (topic slugs separated by `;`); UTF-8, with or without
/// BOM, any line endings (also at `…/attendee-imports/csv`, as a file upload). JSON
/// (`application/json`): `{"attendees": [{"email": …}, …]}`.
///
/// Each row is `created` (a new attendee, who gets a badge and one invitation email), `updated`,
/// `unchanged` or `rejected` with its line and reason (bad email, unknown topic slug, duplicate of
/// an earlier row…). Rejected rows never block the others. Empty cells leave a field as it is.
/// Re-importing never invites anyone twice.
///
/// On SQLite rows are saved 250 at a time, each batch whole or not at all, so that other people's
/// writes never wait for a whole file: after a `5xx` answer the batches saved before the failure
/// stay. On PostgreSQL the whole file is one transaction (other writes do not wait for it) and a
/// failure leaves nothing. Either way, sending the same file again completes the import (rows
/// already saved come back `unchanged`).
#[utoipa::path(
    tag = "attendees",
    security(("bearer" = [])),
    params(("event_id" = String, Path, description = "The event's id.")),
    request_body(content(
        (String = "text/csv"),
        (AttendeeImportJson = "application/json"),
    )),
    responses(
        (status = 200, description = "The result of every row.", body = ImportReport),
        (status = 400, description = "Malformed JSON or not of the import's shape (`malformed_json`, `invalid_body`).", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid access token (`unauthenticated`, `token_expired`, `invalid_token`).", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The caller is not an organizer (`organizer_only`).", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such event for the caller (`event_not_found`).", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "The body is over 10 MiB (`payload_too_large`).", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "The body is neither `text/csv` nor `application/json` (`unsupported_media_type`).", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "The file is empty (`empty_import`), has over 10,000 rows (`too_many_rows`), an unknown or missing column (`invalid_csv_header`), or cannot be read as CSV (`invalid_csv`).", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "The invitations would overdraw the organizer's or the event's mail quota of 24 hours (`quota_exceeded`); `Retry-After` says when enough is free. Refused before anything is written, unless a concurrent import spent the quota meanwhile (then the chunks saved stay: send the file again later).", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/events/{event_id}/attendee-imports")]
pub async fn import_attendees(
    state: web::Data<AppState>,
    user: AuthUser,
    path: web::Path<String>,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse> {
    let is_csv = match body::media_type(&req).as_str() {
        "text/csv" | "application/csv" => true,
        "application/json" => false,
        _ => {
            return Err(Error::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                ErrorCode::UnsupportedMediaType,
                "Send the attendees as `text/csv` or `application/json`.",
            ));
        }
    };
    import(state, user, path.into_inner(), is_csv, payload).await
}

/// Runs an import for an organizer of the event: reads the body, parses it, saves the rows.
pub(super) async fn import(
    state: web::Data<AppState>,
    user: AuthUser,
    event_id: String,
    is_csv: bool,
    payload: web::Payload,
) -> Result<HttpResponse> {
    let check_id = event_id.clone();
    let account_id = user.account_id.clone();
    state.db.read(move |conn| attendees::organizer(conn, &check_id, &account_id).map(drop)).await?;
    let body = body::read(payload, MAX_IMPORT_BYTES).await?;
    let rows =
        web::block(move || if is_csv { parse::csv(&body) } else { parse::json(&body) }).await??;
    let report = import::run(
        &state.db,
        &event_id,
        &user.account_id,
        &state.config.public_url,
        state.config.quotas,
        rows,
    )
    .await?;
    if report.created > 0 {
        state.outbox_wake.notify_one();
    }
    Ok(HttpResponse::Ok().json(report))
}

#[derive(Serialize, ToSchema)]
pub struct AttendeePage {
    pub items: Vec<ProfileResponse>,
    /// Pass as `cursor` for the next page; absent on the last page.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}

/// Everyone in the event, organizers included (organizers only).
#[utoipa::path(
    tag = "attendees",
    security(("bearer" = [])),
    params(("event_id" = String, Path, description = "The event's id."), super::profiles::DirectoryQuery),
    responses(
        (status = 200, description = "A page of attendees.", body = AttendeePage),
        (status = 400, description = "The query is not valid (`invalid_query`).", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid access token (`unauthenticated`, `token_expired`, `invalid_token`).", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The caller is not an organizer (`organizer_only`).", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such event for the caller (`event_not_found`).", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`limit`, `cursor` or `topic` is not valid (`validation_failed`).", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/events/{event_id}/attendees")]
pub async fn list_attendees(
    state: web::Data<AppState>,
    user: AuthUser,
    path: web::Path<String>,
    query: web::Query<super::profiles::DirectoryQuery>,
) -> Result<HttpResponse> {
    let event_id = path.into_inner();
    let super::profiles::DirectoryQuery { limit, cursor, topic } = query.into_inner();
    let (limit, cursor) = pagination::check(limit, cursor)?;
    let rows = state
        .db
        .read(move |conn| {
            attendees::organizer(conn, &event_id, &user.account_id)?;
            attendees::page(conn, &event_id, false, topic.as_deref(), cursor.as_deref(), limit + 1)
        })
        .await?;
    let (rows, next_cursor) = pagination::split(rows, limit, |p| &p.member.id);
    let items = rows.into_iter().map(ProfileResponse::from).collect();
    Ok(HttpResponse::Ok().json(AttendeePage { items, next_cursor }))
}

/// Numbers about the event (organizers only): never anyone's notes or contact details.
#[utoipa::path(
    tag = "attendees",
    security(("bearer" = [])),
    params(("event_id" = String, Path, description = "The event's id.")),
    responses(
        (status = 200, description = "The event's stats.", body = Stats),
        (status = 401, description = "No valid access token (`unauthenticated`, `token_expired`, `invalid_token`).", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The caller is not an organizer (`organizer_only`).", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such event for the caller (`event_not_found`).", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/events/{event_id}/stats")]
pub async fn stats(
    state: web::Data<AppState>,
    user: AuthUser,
    path: web::Path<String>,
) -> Result<HttpResponse> {
    let event_id = path.into_inner();
    let stats = state
        .db
        .read(move |conn| {
            attendees::organizer(conn, &event_id, &user.account_id)?;
            attendees::stats(conn, &event_id)
        })
        .await?;
    Ok(HttpResponse::Ok().json(stats))
}

#[derive(Serialize, ToSchema)]
pub struct JoinCodeResponse {
    /// Share it with people: with it, any signed-in person joins as an attendee.
    pub join_code: String,
}

/// Turns the join code on, or replaces it (organizers only): the previous code stops working.
#[utoipa::path(
    tag = "attendees",
    security(("bearer" = [])),
    params(("event_id" = String, Path, description = "The event's id.")),
    responses(
        (status = 200, description = "The new join code.", body = JoinCodeResponse),
        (status = 401, description = "No valid access token (`unauthenticated`, `token_expired`, `invalid_token`).", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The caller is not an organizer (`organizer_only`).", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such event for the caller (`event_not_found`).", body = Problem, content_type = "application/problem+json"),
    )
)]
#[put("/events/{event_id}/join-code")]
pub async fn rotate_join_code(
    state: web::Data<AppState>,
    user: AuthUser,
    path: web::Path<String>,
) -> Result<HttpResponse> {
    let event_id = path.into_inner();
    let join_code = state
        .db
        .write(move |conn| {
            attendees::organizer(conn, &event_id, &user.account_id)?;
            attendees::rotate_join_code(conn, &event_id)
        })
        .await?;
    Ok(HttpResponse::Ok().json(JoinCodeResponse { join_code }))
}

/// Turns the join code off (organizers only).
#[utoipa::path(
    tag = "attendees",
    security(("bearer" = [])),
    params(("event_id" = String, Path, description = "The event's id.")),
    responses(
        (status = 204, description = "Joining by code is off."),
        (status = 401, description = "No valid access token (`unauthenticated`, `token_expired`, `invalid_token`).", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The caller is not an organizer (`organizer_only`).", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such event for the caller (`event_not_found`).", body = Problem, content_type = "application/problem+json"),
    )
)]
#[delete("/events/{event_id}/join-code")]
pub async fn disable_join_code(
    state: web::Data<AppState>,
    user: AuthUser,
    path: web::Path<String>,
) -> Result<HttpResponse> {
    let event_id = path.into_inner();
    state
        .db
        .write(move |conn| {
            attendees::organizer(conn, &event_id, &user.account_id)?;
            attendees::disable_join_code(conn, &event_id)
        })
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct JoinRequest {
    /// The event's join code, from an organizer (case does not matter).
    pub join_code: String,
}

/// Joins the event as an attendee with its join code. Joining again changes nothing.
#[utoipa::path(
    tag = "attendees",
    security(("bearer" = [])),
    params(("event_id" = String, Path, description = "The event's id.")),
    request_body = JoinRequest,
    responses(
        (status = 200, description = "The caller's profile in the event.", body = ProfileResponse),
        (status = 400, description = "The body is malformed (`malformed_json`, `invalid_body`).", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "The body is over 64 KiB (`payload_too_large`).", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid access token (`unauthenticated`, `token_expired`, `invalid_token`).", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The code does not open this event, or joining by code is off (`invalid_join_code`).", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "The body is not `application/json` (`unsupported_media_type`).", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/events/{event_id}/join")]
pub async fn join(
    state: web::Data<AppState>,
    user: AuthUser,
    path: web::Path<String>,
    body: Json<JoinRequest>,
) -> Result<HttpResponse> {
    let event_id = path.into_inner();
    let code = body.into_inner().join_code;
    let profile = state
        .db
        .write(move |conn| attendees::join(conn, &event_id, &user.account_id, &code))
        .await?;
    Ok(HttpResponse::Ok().json(ProfileResponse::from(profile)))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AddOrganizerRequest {
    /// The co-organizer's email; an account is created if needed, and they are told by email.
    pub email: String,
}

/// Adds a co-organizer by email (organizers only); an attendee is promoted. Adding an organizer
/// again changes nothing and sends no second email.
#[utoipa::path(
    tag = "attendees",
    security(("bearer" = [])),
    params(("event_id" = String, Path, description = "The event's id.")),
    request_body = AddOrganizerRequest,
    responses(
        (status = 200, description = "The co-organizer's profile in the event.", body = ProfileResponse),
        (status = 400, description = "The body is malformed (`malformed_json`, `invalid_body`).", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "The body is over 64 KiB (`payload_too_large`).", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid access token (`unauthenticated`, `token_expired`, `invalid_token`).", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The caller is not an organizer (`organizer_only`).", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such event for the caller (`event_not_found`).", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "The body is not `application/json` (`unsupported_media_type`).", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The event has as many organizers as it may (`organizer_limit_reached`).", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "The email is not valid (`validation_failed`).", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "The notice would overdraw the caller's or the event's mail quota of 24 hours (`quota_exceeded`); `Retry-After` says when enough is free.", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/events/{event_id}/organizers")]
pub async fn add_organizer(
    state: web::Data<AppState>,
    user: AuthUser,
    path: web::Path<String>,
    body: Json<AddOrganizerRequest>,
) -> Result<HttpResponse> {
    let event_id = path.into_inner();
    let email = super::auth::parse_email(&body.email)?;
    let public_url = state.config.public_url.clone();
    let quotas = state.config.quotas;
    let profile = state
        .db
        .write(move |conn| {
            attendees::organizer(conn, &event_id, &user.account_id)?;
            let notice = attendees::OrganizerNotice {
                added_by: &user.account_id,
                public_url: &public_url,
                quotas: &quotas,
            };
            attendees::add_organizer(conn, &event_id, &email, &notice)
        })
        .await?;
    state.outbox_wake.notify_one();
    Ok(HttpResponse::Ok().json(ProfileResponse::from(profile)))
}
