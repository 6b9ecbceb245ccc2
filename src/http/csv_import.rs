//! The attendee import's CSV file as an upload of its own: `POST …/attendee-imports` takes CSV
//! or JSON, and client generators that make one call per body type they know (openapi-python-
//! client knows no `text/csv`, and mishandles an operation with two bodies) get the file here.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, post, web};

use super::{AuthUser, attendees, body};
use crate::domain::import::ImportReport;
use crate::error::{Error, ErrorCode, Problem, Result};
use crate::startup::AppState;

/// Imports attendees from a CSV file (organizers only), as `POST …/attendee-imports` does with
/// `text/csv`: the same columns, limits, row results and resumability.
///
/// The file may be sent as `text/csv` or as `application/octet-stream` (a file upload).
#[utoipa::path(
    tag = "attendees",
    security(("bearer" = [])),
    params(("event_id" = String, Path, description = "The event's id.")),
    request_body(content(
        (String = "text/csv"),
        (String = "application/octet-stream"),
    )),
    responses(
        (status = 200, description = "The result of every row.", body = ImportReport),
        (status = 400, description = "The body could not be read to its end (`invalid_body`).", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid access token (`unauthenticated`, `token_expired`, `invalid_token`).", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The caller is not an organizer (`organizer_only`).", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such event for the caller (`event_not_found`).", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "The file is over 10 MiB (`payload_too_large`).", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "The body is neither `text/csv` nor `application/octet-stream` (`unsupported_media_type`).", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "The file is empty (`empty_import`), has over 10,000 rows (`too_many_rows`), an unknown or missing column (`invalid_csv_header`), or cannot be read as CSV (`invalid_csv`).", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "The invitations would overdraw the organizer's or the event's mail quota of 24 hours (`quota_exceeded`); `Retry-After` says when enough is free.", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/events/{event_id}/attendee-imports/csv")]
pub async fn import_attendees_csv(
    state: web::Data<AppState>,
    user: AuthUser,
    path: web::Path<String>,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse> {
    match body::media_type(&req).as_str() {
        "text/csv" | "application/csv" | "application/octet-stream" => {
            attendees::import(state, user, path.into_inner(), true, payload).await
        }
        _ => Err(Error::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ErrorCode::UnsupportedMediaType,
            "Send the file as `text/csv` or `application/octet-stream`.",
        )),
    }
}
