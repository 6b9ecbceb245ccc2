//! Organizers' verbs: remove an attendee, remove a co-organizer, delete the event, send an
//! invitation again.

use actix_web::{HttpResponse, delete, post, web};

use super::AuthUser;
use super::profiles::ProfileResponse;
use crate::domain::{attendees, organizing};
use crate::error::{Problem, Result};
use crate::startup::AppState;

const UNAUTHORIZED: &str =
    "No valid access token (`unauthenticated`, `token_expired`, `invalid_token`).";
const FORBIDDEN: &str = "The caller is not an organizer (`organizer_only`).";

/// Removes a person from the event (organizers only), as if they had left: their profile, badge,
/// topics and connections in the event are deleted; the people they met keep a tombstone of the
/// meeting, learned by delta sync; the event's mail not yet sent to them is dropped. An organizer
/// may be removed while the event has another one. The person is not barred: an import, the join
/// code or adding them as organizer brings them back (with a new badge).
#[utoipa::path(
    tag = "attendees",
    security(("bearer" = [])),
    params(
        ("event_id" = String, Path, description = "The event's id."),
        ("attendee_id" = String, Path, description = "The attendee id of the person to remove."),
    ),
    responses(
        (status = 204, description = "The person is no longer a member of the event."),
        (status = 401, description = UNAUTHORIZED, body = Problem, content_type = "application/problem+json"),
        (status = 403, description = FORBIDDEN, body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such event for the caller (`event_not_found`), or no such attendee in it (`attendee_not_found`).", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The person is the event's only organizer (`sole_organizer`).", body = Problem, content_type = "application/problem+json"),
    )
)]
#[delete("/events/{event_id}/attendees/{attendee_id}")]
pub async fn remove_attendee(
    state: web::Data<AppState>,
    user: AuthUser,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse> {
    let (event_id, attendee_id) = path.into_inner();
    state
        .db
        .write(move |conn| {
            attendees::organizer(conn, &event_id, &user.account_id)?;
            organizing::remove_attendee(conn, &event_id, &attendee_id)
        })
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Makes a co-organizer an attendee again (organizers only; one may remove oneself). Their
/// profile, badge and connections stay; to take them out of the event, remove them as an attendee
/// too. If they created the event, another organizer becomes its creator.
#[utoipa::path(
    tag = "attendees",
    security(("bearer" = [])),
    params(
        ("event_id" = String, Path, description = "The event's id."),
        ("attendee_id" = String, Path, description = "The co-organizer's attendee id."),
    ),
    responses(
        (status = 200, description = "Their profile in the event, now an attendee's.", body = ProfileResponse),
        (status = 401, description = UNAUTHORIZED, body = Problem, content_type = "application/problem+json"),
        (status = 403, description = FORBIDDEN, body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such event for the caller (`event_not_found`), or no organizer with this id in it (`organizer_not_found`).", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "They are the event's only organizer (`sole_organizer`).", body = Problem, content_type = "application/problem+json"),
    )
)]
#[delete("/events/{event_id}/organizers/{attendee_id}")]
pub async fn remove_organizer(
    state: web::Data<AppState>,
    user: AuthUser,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse> {
    let (event_id, attendee_id) = path.into_inner();
    let profile = state
        .db
        .write(move |conn| {
            attendees::organizer(conn, &event_id, &user.account_id)?;
            organizing::remove_organizer(conn, &event_id, &attendee_id)
        })
        .await?;
    Ok(HttpResponse::Ok().json(ProfileResponse::from(profile)))
}

/// Deletes the event for everyone (organizers only), at once and for good: its profiles, badges,
/// topics, prompts, scans, and every person's connections there with their notes and follow-ups;
/// the event's mail not yet sent is dropped. What each person keeps is their own record: what they
/// exported (`GET /v1/me/connections.vcf`, `.csv`, `/v1/me/export`) and their device's synced copy,
/// which the server no longer changes (the next sync answers `404 event_not_found`).
#[utoipa::path(
    tag = "events",
    security(("bearer" = [])),
    params(("event_id" = String, Path, description = "The event's id.")),
    responses(
        (status = 204, description = "The event is deleted."),
        (status = 401, description = UNAUTHORIZED, body = Problem, content_type = "application/problem+json"),
        (status = 403, description = FORBIDDEN, body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such event for the caller (`event_not_found`).", body = Problem, content_type = "application/problem+json"),
    )
)]
#[delete("/events/{event_id}")]
pub async fn delete_event(
    state: web::Data<AppState>,
    user: AuthUser,
    path: web::Path<String>,
) -> Result<HttpResponse> {
    let event_id = path.into_inner();
    state
        .db
        .write(move |conn| {
            attendees::organizer(conn, &event_id, &user.account_id)?;
            organizing::delete_event(conn, &event_id)
        })
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Sends a person their invitation again (organizers only): the attendee's invitation, or the
/// organizer's notice to a co-organizer. One email, charged to the caller's and the event's mail
/// quotas; at most one per person every 10 minutes.
#[utoipa::path(
    tag = "attendees",
    security(("bearer" = [])),
    params(
        ("event_id" = String, Path, description = "The event's id."),
        ("attendee_id" = String, Path, description = "The attendee id of the person to invite again."),
    ),
    responses(
        (status = 202, description = "The invitation is queued for sending."),
        (status = 401, description = UNAUTHORIZED, body = Problem, content_type = "application/problem+json"),
        (status = 403, description = FORBIDDEN, body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such event for the caller (`event_not_found`), or no such attendee in it (`attendee_not_found`).", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "This person was sent an invitation less than 10 minutes ago (`rate_limited`), or the email would overdraw the caller's or the event's mail quota of 24 hours (`quota_exceeded`); `Retry-After` says when to try again.", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/events/{event_id}/attendees/{attendee_id}/invitation")]
pub async fn resend_invitation(
    state: web::Data<AppState>,
    user: AuthUser,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse> {
    let (event_id, attendee_id) = path.into_inner();
    let key = format!("{event_id}/{attendee_id}");
    state.limits.may_resend(&key).await?;
    let public_url = state.config.public_url.clone();
    let quotas = state.config.quotas;
    state
        .db
        .write(move |conn| {
            attendees::organizer(conn, &event_id, &user.account_id)?;
            let resend = organizing::Resend {
                sender_id: &user.account_id,
                public_url: &public_url,
                quotas: &quotas,
            };
            organizing::resend_invitation(conn, &event_id, &attendee_id, &resend)
        })
        .await?;
    // Charged once queued: a refused request (unknown person, quota) costs nothing.
    state.limits.resent(&key).await;
    state.outbox_wake.notify_one();
    Ok(HttpResponse::Accepted().finish())
}
