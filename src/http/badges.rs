//! Badges: the code and its QR (PNG or SVG) for the holder and for organizers; rotation; the
//! printable sheet.

use actix_web::http::header;
use actix_web::{HttpResponse, get, post, web};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::AuthUser;
use crate::domain::{attendees, badges};
use crate::error::{Error, Problem, Result};
use crate::qr::{self, sheet};
use crate::startup::AppState;

#[derive(Serialize, ToSchema)]
pub struct BadgeResponse {
    pub attendee_id: String,
    pub name: String,
    pub company: Option<String>,
    /// The code the QR carries: 20 characters of Crockford base32. Not a credential: it resolves
    /// to a person only for a signed-in attendee of the same event.
    pub code: String,
    /// Where to fetch the QR as PNG.
    pub png_url: String,
    /// Where to fetch the QR as SVG.
    pub svg_url: String,
}

#[derive(Clone, Copy)]
enum Format {
    Json,
    Png,
    Svg,
}

/// The badge of a profile in the asked format.
fn respond(
    profile: attendees::Profile,
    code: String,
    base_path: String,
    format: Format,
) -> Result<HttpResponse> {
    match format {
        Format::Json => Ok(HttpResponse::Ok().json(BadgeResponse {
            name: profile.name(),
            attendee_id: profile.member.id,
            company: profile.member.company,
            code,
            png_url: format!("{base_path}.png"),
            svg_url: format!("{base_path}.svg"),
        })),
        Format::Png => Ok(HttpResponse::Ok()
            .insert_header((header::CACHE_CONTROL, "private, no-store"))
            .content_type("image/png")
            .body(qr::png(&code)?)),
        Format::Svg => Ok(HttpResponse::Ok()
            .insert_header((header::CACHE_CONTROL, "private, no-store"))
            .content_type("image/svg+xml")
            .body(qr::svg(&code)?)),
    }
}

async fn my_badge(
    state: web::Data<AppState>,
    user: AuthUser,
    event_id: String,
    format: Format,
) -> Result<HttpResponse> {
    let base = format!("/v1/events/{event_id}/me/badge");
    let (profile, badge) = state
        .db
        .read(move |conn| {
            let profile = attendees::my_profile(conn, &event_id, &user.account_id)?;
            let badge = badges::active(conn, &profile.member.id)?;
            Ok((profile, badge))
        })
        .await?;
    respond(profile, badge.code, base, format)
}

async fn attendee_badge(
    state: web::Data<AppState>,
    user: AuthUser,
    (event_id, attendee_id): (String, String),
    format: Format,
) -> Result<HttpResponse> {
    let base = format!("/v1/events/{event_id}/attendees/{attendee_id}/badge");
    let (profile, badge) = state
        .db
        .read(move |conn| {
            attendees::organizer(conn, &event_id, &user.account_id)?;
            let profile = attendees::attendee(conn, &event_id, &attendee_id)?;
            let badge = badges::active(conn, &profile.member.id)?;
            Ok((profile, badge))
        })
        .await?;
    respond(profile, badge.code, base, format)
}

const UNAUTHORIZED: &str =
    "No valid access token (`unauthenticated`, `token_expired`, `invalid_token`).";

/// My badge: its code, to show on the phone's screen, with links to its QR.
#[utoipa::path(
    tag = "badges",
    security(("bearer" = [])),
    params(("event_id" = String, Path, description = "The event's id.")),
    responses(
        (status = 200, description = "The caller's badge.", body = BadgeResponse),
        (status = 401, description = UNAUTHORIZED, body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such event, or the caller is not a member (`event_not_found`).", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/events/{event_id}/me/badge")]
pub async fn get_my_badge(
    state: web::Data<AppState>,
    user: AuthUser,
    path: web::Path<String>,
) -> Result<HttpResponse> {
    my_badge(state, user, path.into_inner(), Format::Json).await
}

/// My badge's QR code as a PNG image (400 px or more).
#[utoipa::path(
    tag = "badges",
    security(("bearer" = [])),
    params(("event_id" = String, Path, description = "The event's id.")),
    responses(
        (status = 200, description = "The QR code (level Q, version 4 or lower).", body = Vec<u8>, content_type = "image/png"),
        (status = 401, description = UNAUTHORIZED, body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such event, or the caller is not a member (`event_not_found`).", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/events/{event_id}/me/badge.png")]
pub async fn get_my_badge_png(
    state: web::Data<AppState>,
    user: AuthUser,
    path: web::Path<String>,
) -> Result<HttpResponse> {
    my_badge(state, user, path.into_inner(), Format::Png).await
}

/// My badge's QR code as an SVG image.
#[utoipa::path(
    tag = "badges",
    security(("bearer" = [])),
    params(("event_id" = String, Path, description = "The event's id.")),
    responses(
        (status = 200, description = "The QR code (level Q, version 4 or lower).", body = String, content_type = "image/svg+xml"),
        (status = 401, description = UNAUTHORIZED, body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such event, or the caller is not a member (`event_not_found`).", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/events/{event_id}/me/badge.svg")]
pub async fn get_my_badge_svg(
    state: web::Data<AppState>,
    user: AuthUser,
    path: web::Path<String>,
) -> Result<HttpResponse> {
    my_badge(state, user, path.into_inner(), Format::Svg).await
}

/// An attendee's badge (organizers only).
#[utoipa::path(
    tag = "badges",
    security(("bearer" = [])),
    params(("event_id" = String, Path, description = "The event's id."), ("attendee_id" = String, Path, description = "The attendee's id.")),
    responses(
        (status = 200, description = "The attendee's badge.", body = BadgeResponse),
        (status = 401, description = UNAUTHORIZED, body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The caller is not an organizer (`organizer_only`).", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such event for the caller (`event_not_found`) or no such attendee in it (`attendee_not_found`).", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/events/{event_id}/attendees/{attendee_id}/badge")]
pub async fn get_attendee_badge(
    state: web::Data<AppState>,
    user: AuthUser,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse> {
    attendee_badge(state, user, path.into_inner(), Format::Json).await
}

/// An attendee's badge QR as PNG (organizers only).
#[utoipa::path(
    tag = "badges",
    security(("bearer" = [])),
    params(("event_id" = String, Path, description = "The event's id."), ("attendee_id" = String, Path, description = "The attendee's id.")),
    responses(
        (status = 200, description = "The QR code (level Q, version 4 or lower).", body = Vec<u8>, content_type = "image/png"),
        (status = 401, description = UNAUTHORIZED, body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The caller is not an organizer (`organizer_only`).", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such event for the caller (`event_not_found`) or no such attendee in it (`attendee_not_found`).", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/events/{event_id}/attendees/{attendee_id}/badge.png")]
pub async fn get_attendee_badge_png(
    state: web::Data<AppState>,
    user: AuthUser,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse> {
    attendee_badge(state, user, path.into_inner(), Format::Png).await
}

/// An attendee's badge QR as SVG (organizers only).
#[utoipa::path(
    tag = "badges",
    security(("bearer" = [])),
    params(("event_id" = String, Path, description = "The event's id."), ("attendee_id" = String, Path, description = "The attendee's id.")),
    responses(
        (status = 200, description = "The QR code (level Q, version 4 or lower).", body = String, content_type = "image/svg+xml"),
        (status = 401, description = UNAUTHORIZED, body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The caller is not an organizer (`organizer_only`).", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such event for the caller (`event_not_found`) or no such attendee in it (`attendee_not_found`).", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/events/{event_id}/attendees/{attendee_id}/badge.svg")]
pub async fn get_attendee_badge_svg(
    state: web::Data<AppState>,
    user: AuthUser,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse> {
    attendee_badge(state, user, path.into_inner(), Format::Svg).await
}

/// Replaces an attendee's badge code (lost or photographed badge): the old code stops working at once.
#[utoipa::path(
    tag = "badges",
    security(("bearer" = [])),
    params(("event_id" = String, Path, description = "The event's id."), ("attendee_id" = String, Path, description = "The attendee's id.")),
    responses(
        (status = 200, description = "The new badge.", body = BadgeResponse),
        (status = 401, description = UNAUTHORIZED, body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The caller is not an organizer (`organizer_only`).", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such event for the caller (`event_not_found`) or no such attendee in it (`attendee_not_found`).", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/events/{event_id}/attendees/{attendee_id}/badge/rotate")]
pub async fn rotate_badge(
    state: web::Data<AppState>,
    user: AuthUser,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse> {
    let (event_id, attendee_id) = path.into_inner();
    let base = format!("/v1/events/{event_id}/attendees/{attendee_id}/badge");
    let (profile, badge) = state
        .db
        .write(move |conn| {
            attendees::organizer(conn, &event_id, &user.account_id)?;
            let profile = attendees::attendee(conn, &event_id, &attendee_id)?;
            let badge = badges::rotate(conn, &event_id, &profile.member.id)?;
            Ok((profile, badge))
        })
        .await?;
    respond(profile, badge.code, base, Format::Json)
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SheetQuery {
    /// `a4` (default) or `letter`.
    pub paper: Option<String>,
    /// Only people who picked this topic, by slug.
    pub topic: Option<String>,
    /// Only these attendees: ids separated by commas (at most 1,000), each an attendee of this
    /// event.
    pub attendee_ids: Option<String>,
}

/// A printable PDF of badges — name, company and QR on each, eight to a page — for the whole
/// event or a filtered list (organizers only).
///
/// Names print in the PDF base font: letters outside Latin-1 show as `?` (the PNG and SVG badges
/// carry any script).
#[utoipa::path(
    tag = "badges",
    security(("bearer" = [])),
    params(("event_id" = String, Path, description = "The event's id."), SheetQuery),
    responses(
        (status = 200, description = "The sheet.", body = Vec<u8>, content_type = "application/pdf"),
        (status = 400, description = "The query is not valid (`invalid_query`).", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = UNAUTHORIZED, body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The caller is not an organizer (`organizer_only`).", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such event for the caller (`event_not_found`).", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`paper`, `topic` or `attendee_ids` is not valid (`validation_failed`).", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/events/{event_id}/badge-sheet")]
pub async fn badge_sheet(
    state: web::Data<AppState>,
    user: AuthUser,
    path: web::Path<String>,
    query: web::Query<SheetQuery>,
) -> Result<HttpResponse> {
    let event_id = path.into_inner();
    let SheetQuery { paper, topic, attendee_ids } = query.into_inner();
    let paper = match paper.as_deref() {
        None | Some("a4") => sheet::Paper::A4,
        Some("letter") => sheet::Paper::Letter,
        Some(other) => {
            return Err(Error::invalid_field("paper", format!("`{other}` is not a4 or letter")));
        }
    };
    let ids: Option<Vec<String>> = attendee_ids
        .map(|ids| {
            ids.split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(|id| match uuid::Uuid::parse_str(id) {
                    // Ids are stored lower-case and hyphenated.
                    Ok(id) => Ok(id.hyphenated().to_string()),
                    Err(_) => Err(Error::invalid_field(
                        "attendee_ids",
                        format!("`{id}` is not an attendee id"),
                    )),
                })
                .collect::<Result<Vec<_>>>()
        })
        .transpose()?;
    if ids.as_ref().is_some_and(|ids| ids.len() > 1000) {
        return Err(Error::invalid_field("attendee_ids", "at most 1,000 ids"));
    }
    let cards = state
        .db
        .read(move |conn| {
            badges::sheet_cards(conn, &event_id, &user.account_id, topic.as_deref(), ids.as_deref())
        })
        .await?;
    let pdf = web::block(move || sheet::pdf(&cards, paper)).await??;
    Ok(HttpResponse::Ok()
        .content_type("application/pdf")
        .insert_header((header::CONTENT_DISPOSITION, "attachment; filename=\"badges.pdf\""))
        .body(pdf))
}
