//! `/v1/events/{event_id}/scans`: scanning badges, online one at a time or offline in batches.

use std::collections::HashMap;

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, post, web};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;

use super::connections::{
    ConnectionSummaryResponse, check_note, check_rating, check_tags, parse_time,
};
use super::promises::{FollowUpPromise, check_follow_up};
use super::{Json, TokenUser, body};
use crate::domain::connections::{self, ConnectionSummary};
use crate::domain::exchange::{self, MAX_BATCH, ScanExtras, ScanInput, ScanResult, ScanStatus};
use crate::error::{Error, ErrorCode, FieldError, Problem, Result};
use crate::startup::AppState;

/// The largest batch body accepted, in bytes (500 scans with notes fit easily).
pub const MAX_BATCH_BYTES: usize = 4 * 1024 * 1024;

/// One scan, as the phone recorded it.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ScanRequest {
    /// A UUID the client made when the scan happened; uploading it again is harmless.
    #[schema(example = "0b8f7c1e-2f4a-4a7e-9c1d-3f5e6a7b8c9d")]
    pub client_scan_id: String,
    /// The code the QR carried. Case, spaces and hyphens do not matter; `I`/`L` read as `1` and
    /// `O` as `0` (Crockford base32).
    #[schema(example = "7QHJY3H0EJ2Y120JF7AB")]
    pub badge_code: String,
    /// When the scan happened on the device (RFC 3339). Kept as given; a time more than 5 minutes
    /// in the future, or more than a day before the event starts, is recorded as the server's time.
    #[schema(value_type = String, format = DateTime)]
    pub scanned_at: String,
    /// A note about the person (1 to 5,000 characters). Counts towards the caps on notes (200 a
    /// connection, 5,000 a person in an event) and the budget of note characters.
    pub note: Option<String>,
    /// Tags for the connection (replace earlier ones); at most 20.
    pub tags: Option<Vec<String>>,
    /// 1 to 5.
    #[serde(default, deserialize_with = "super::whole::option")]
    pub rating: Option<i32>,
    /// A promise made on the spot: it becomes the connection's promise follow-up (origin
    /// `scan`; a later scan's promise edits it). A due date before the scan's day is refused
    /// (`due_before_connection`; in a batch, the item is `invalid`).
    pub follow_up: Option<FollowUpPromise>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)] // documents the batch shape; items are read one by one
pub struct ScanBatchRequest {
    /// 1 to 500 scans.
    scans: Vec<ScanRequest>,
}

#[derive(Serialize, ToSchema)]
pub struct ScanResponse {
    pub client_scan_id: String,
    pub status: ScanStatus,
    /// Why an item did not connect.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// The caller's connection with the person, for `created` and `already_connected`; without
    /// the notes (`note_count` says how many): page through them at `…/connections/{id}/notes`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub connection: Option<ConnectionSummaryResponse>,
}

#[derive(Serialize, ToSchema)]
pub struct ScanBatchResponse {
    /// One result per item, in the order sent; match them by `client_scan_id`.
    pub results: Vec<ScanResponse>,
}

fn parse_scan(request: ScanRequest) -> Result<ScanInput, Vec<FieldError>> {
    let mut errors = Vec::new();
    let client_scan_id = match uuid::Uuid::parse_str(request.client_scan_id.trim()) {
        Ok(id) => id.hyphenated().to_string(),
        Err(_) => {
            errors.push(FieldError::new("client_scan_id", "must be a UUID"));
            String::new()
        }
    };
    let device_time =
        parse_time("scanned_at", &request.scanned_at).map_err(|e| errors.push(e)).ok();
    let badge_code = exchange::normalize_code(&request.badge_code);
    if badge_code.is_empty() || badge_code.len() > 64 {
        errors.push(FieldError::new("badge_code", "must be the code of a badge"));
    }
    let mut extras = ScanExtras {
        note: request.note.as_deref().map(|n| check_note("note", n, &mut errors)),
        tags: request.tags.as_deref().map(|t| check_tags(t, &mut errors)),
        rating: request.rating,
        ..Default::default()
    };
    if let Some(rating) = request.rating {
        check_rating(rating, &mut errors);
    }
    if let Some(promise) = &request.follow_up {
        extras.promise = Some(check_follow_up(promise, &mut errors));
    }
    match device_time {
        Some(device_time) if errors.is_empty() => {
            Ok(ScanInput { client_scan_id, badge_code, device_time, extras })
        }
        _ => Err(errors),
    }
}

/// A batch item: parsed on its own, so that one malformed item is `invalid` and the rest go on.
fn parse_item(item: Value) -> Result<ScanInput, (String, String)> {
    let client_id =
        item.get("client_scan_id").and_then(Value::as_str).unwrap_or_default().to_owned();
    let request: ScanRequest =
        serde_json::from_value(item).map_err(|e| (client_id.clone(), e.to_string()))?;
    parse_scan(request).map_err(|errors| {
        let reason = errors
            .iter()
            .map(|e| format!("{}: {}", e.field, e.message))
            .collect::<Vec<_>>()
            .join("; ");
        (client_id, reason)
    })
}

async fn run(
    state: &web::Data<AppState>,
    event_id: String,
    account_id: String,
    items: Vec<Result<ScanInput, (String, String)>>,
) -> Result<(Vec<ScanResult>, HashMap<String, ConnectionSummary>)> {
    // Charged before any database work: per request, per scan, per character of notes.
    let note_chars = items
        .iter()
        .filter_map(|item| item.as_ref().ok()?.extras.note.as_deref())
        .map(|note| note.chars().count())
        .sum();
    state.limits.scans(&account_id, items.len(), note_chars).await?;
    let results = state
        .db
        .write(move |conn| {
            // The membership lookup is also the check that the caller's account still exists
            // (see `TokenUser`): no extra query on this hot route.
            let Some((event, scanner_id)) =
                crate::db::scans::scanner_for_update(conn, &event_id, &account_id)?
            else {
                let not_found = Error::not_found(
                    ErrorCode::EventNotFound,
                    "No event with this id is visible to you.",
                );
                return Err(crate::domain::accounts::gone_or(conn, &account_id, not_found));
            };
            exchange::record(conn, &event, &account_id, &scanner_id, items)
        })
        .await?;
    // The views are read after the commit, off the writer.
    let ids: Vec<String> = results.iter().filter_map(|r| r.connection_id.clone()).collect();
    let views = state.db.read(move |conn| connections::summaries_by_id(conn, &ids)).await?;
    Ok((results, views))
}

fn respond_item(result: ScanResult, views: &HashMap<String, ConnectionSummary>) -> ScanResponse {
    // Several items may share a connection (the same person twice): each gets its own copy.
    let connection = result
        .connection_id
        .as_ref()
        .and_then(|id| views.get(id).cloned())
        .map(ConnectionSummaryResponse::from);
    ScanResponse {
        client_scan_id: result.client_scan_id,
        status: result.status,
        reason: result.reason,
        connection,
    }
}

/// Records one scan (online): both people get the connection.
///
/// Idempotent: the same `client_scan_id` sent again (after a timeout, or later in a batch) is
/// recorded once and answered the same way. Scanning someone again adds to the connection (a
/// meeting, a note), never a second connection. A note that would pass a cap on notes refuses the
/// whole scan (409 `note_limit_reached`): send it again without the note. Rate limits per person:
/// 10 requests a second (bursts of 30); 60 scans a minute (bursts of 1,500, batch items included);
/// 20,000 characters of notes a minute (bursts of 250,000); beyond that, 429 with `Retry-After`.
#[utoipa::path(
    tag = "scans",
    security(("bearer" = [])),
    params(("event_id" = String, Path, description = "The event's id.")),
    request_body = ScanRequest,
    responses(
        (status = 201, description = "A new connection (`created`).", body = ScanResponse),
        (status = 200, description = "Already connected: the scan was added to the connection (`already_connected`).", body = ScanResponse),
        (status = 400, description = "The body is malformed or has unknown fields (`malformed_json`, `invalid_body`).", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "The body is over 64 KiB (`payload_too_large`).", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid access token (`unauthenticated`, `token_expired`, `invalid_token`).", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "The caller is not in this event (`event_not_found`), or no badge of this event has the code (`badge_not_found`); a code of another event answers the same.", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The client scan id was used for another badge before (`duplicate_scan`), or the note would pass a cap: 200 notes a connection, 5,000 a person in the event (`note_limit_reached`; nothing was recorded).", body = Problem, content_type = "application/problem+json"),
        (status = 410, description = "The badge was rotated; its old code no longer works (`badge_revoked`).", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "The body is not `application/json` (`unsupported_media_type`).", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A field is not valid (`validation_failed`), the badge is the caller's own (`cannot_scan_self`), or the promise is due before the scan's day (`due_before_connection`).", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many requests, scans or characters of notes (`rate_limited`); see `Retry-After`.", body = Problem, content_type = "application/problem+json",
            headers(("Retry-After" = u64, description = "Seconds to wait."))),
    )
)]
#[post("/events/{event_id}/scans")]
pub async fn scan(
    state: web::Data<AppState>,
    user: TokenUser,
    path: web::Path<String>,
    body: Json<ScanRequest>,
) -> Result<HttpResponse> {
    let input = parse_scan(body.into_inner()).map_err(Error::validation)?;
    let (mut results, views) =
        run(&state, path.into_inner(), user.account_id, vec![Ok(input)]).await?;
    let result = results.pop().ok_or_else(|| Error::internal(anyhow::anyhow!("no scan result")))?;
    let (status, code) = match result.status {
        ScanStatus::Created => (StatusCode::CREATED, None),
        ScanStatus::AlreadyConnected => (StatusCode::OK, None),
        ScanStatus::BadgeNotFound => (StatusCode::NOT_FOUND, Some(ErrorCode::BadgeNotFound)),
        ScanStatus::BadgeRevoked => (StatusCode::GONE, Some(ErrorCode::BadgeRevoked)),
        ScanStatus::CannotScanSelf => {
            (StatusCode::UNPROCESSABLE_ENTITY, Some(ErrorCode::CannotScanSelf))
        }
        ScanStatus::DuplicateScan => (StatusCode::CONFLICT, Some(ErrorCode::DuplicateScan)),
        ScanStatus::Invalid => (
            StatusCode::UNPROCESSABLE_ENTITY,
            Some(result.problem.unwrap_or(ErrorCode::ValidationFailed)),
        ),
        ScanStatus::NoteLimitReached => (StatusCode::CONFLICT, Some(ErrorCode::NoteLimitReached)),
    };
    if let Some(code) = code {
        return Err(Error::new(status, code, result.reason.unwrap_or_default()));
    }
    Ok(HttpResponse::build(status).json(respond_item(result, &views)))
}

/// Uploads scans made offline: 1 to 500 in one request, each with its own client scan id.
///
/// One result per item, matched by `client_scan_id`, with a status: `created`,
/// `already_connected`, `duplicate_scan` (the id was used with another badge code, in this batch
/// or before: the first use stands), `badge_not_found`, `badge_revoked`, `cannot_scan_self`,
/// `invalid` (with a reason) or `note_limit_reached` (the item's note would pass a cap: 200 notes
/// a connection, 5,000 a person in the event; nothing of the item was recorded, so it can be sent
/// again under the same id without the note). One bad item never sinks the others; re-uploading a
/// batch records nothing twice and answers the same way.
///
/// Every item counts against the person's scan budget (bursts of 1,500, then 60 a minute), and
/// every character of its note against the note budget (bursts of 250,000, then 20,000 a minute).
/// A batch that costs more than a full budget passes when the budget is full and leaves it in
/// debt: one large offline upload always gets through, a loop of them does not. When a batch does
/// not fit, the whole batch is refused with 429 and `Retry-After`, and nothing is recorded.
#[utoipa::path(
    tag = "scans",
    security(("bearer" = [])),
    params(("event_id" = String, Path, description = "The event's id.")),
    request_body = ScanBatchRequest,
    responses(
        (status = 200, description = "One result per item.", body = ScanBatchResponse),
        (status = 400, description = "The body is not JSON of the batch's shape (`malformed_json`, `invalid_body`).", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid access token (`unauthenticated`, `token_expired`, `invalid_token`).", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "The caller is not in this event (`event_not_found`).", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "The body is over 4 MiB (`payload_too_large`).", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "The body is not `application/json` (`unsupported_media_type`).", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "The batch is empty or has more than 500 items (`validation_failed`).", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many requests, scans or characters of notes (`rate_limited`); see `Retry-After`.", body = Problem, content_type = "application/problem+json",
            headers(("Retry-After" = u64, description = "Seconds to wait."))),
    )
)]
#[post("/events/{event_id}/scans/batch")]
pub async fn scan_batch(
    state: web::Data<AppState>,
    user: TokenUser,
    path: web::Path<String>,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse> {
    if body::media_type(&req) != "application/json" {
        return Err(Error::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ErrorCode::UnsupportedMediaType,
            "Send the body as JSON with `Content-Type: application/json`.",
        ));
    }
    let bytes = body::read(payload, MAX_BATCH_BYTES).await?;
    let value: Value = serde_json::from_slice(&bytes).map_err(|e| {
        Error::bad_request(ErrorCode::MalformedJson, format!("The body is not valid JSON: {e}."))
    })?;
    let items = match value {
        Value::Object(mut object) if object.len() == 1 => match object.remove("scans") {
            Some(Value::Array(items)) => items,
            _ => return Err(batch_shape()),
        },
        _ => return Err(batch_shape()),
    };
    if items.is_empty() || items.len() > MAX_BATCH {
        return Err(Error::invalid_field(
            "scans",
            format!("must hold 1 to {MAX_BATCH} scans, not {}", items.len()),
        ));
    }
    let items = items.into_iter().map(parse_item).collect();
    let (results, views) = run(&state, path.into_inner(), user.account_id, items).await?;
    let results = results.into_iter().map(|r| respond_item(r, &views)).collect();
    Ok(HttpResponse::Ok().json(ScanBatchResponse { results }))
}

fn batch_shape() -> Error {
    Error::bad_request(
        ErrorCode::InvalidBody,
        "The body must be an object with one key, `scans`, holding an array of scans.",
    )
}
