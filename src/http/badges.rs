//! Badges: the code and its QR (PNG or SVG) for the holder and for organizers; rotation; the
//! printable sheet.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, get, post, web};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::AuthUser;
use crate::domain::{attendees, badges};
use crate::error::{Error, ErrorCode, Problem, Result};
use crate::qr::{self, renderer, sheet};
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
    /// Only these attendees (at most 1,000), each an attendee of this event: the parameter
    /// repeated (`attendee_ids=a&attendee_ids=b`); ids separated by commas are read too.
    #[param(style = Form, explode, value_type = Option<Vec<String>>)]
    pub attendee_ids: Option<String>,
    /// Which page of the selection, from 1 (default 1). `X-Page-Count` says how many there are.
    pub page: Option<usize>,
    /// Badges on this sheet, 1 to 1,000 (default 1,000).
    pub per_page: Option<usize>,
}

/// The papers a sheet is printed on, by the name the query gives.
pub const PAPERS: [(&str, sheet::Paper); 2] =
    [("a4", sheet::Paper::A4), ("letter", sheet::Paper::Letter)];

/// Reads the sheet's query: `attendee_ids` may be repeated (an array in the form style), which
/// a plain query extractor refuses as a duplicate field.
fn sheet_query(query: &str) -> Result<SheetQuery> {
    let invalid = |error: &dyn std::fmt::Display| {
        Error::bad_request(
            ErrorCode::InvalidQuery,
            format!("The query string is not valid: {error}."),
        )
    };
    let pairs: Vec<(String, String)> =
        serde_urlencoded::from_str(query).map_err(|e| invalid(&e))?;
    let (ids, rest): (Vec<_>, Vec<_>) =
        pairs.into_iter().partition(|(key, _)| key == "attendee_ids");
    let rest = serde_urlencoded::to_string(&rest).map_err(|e| invalid(&e))?;
    let mut parsed: SheetQuery = serde_urlencoded::from_str(&rest).map_err(|e| invalid(&e))?;
    if !ids.is_empty() {
        let ids: Vec<String> = ids.into_iter().map(|(_, id)| id).collect();
        parsed.attendee_ids = Some(ids.join(","));
    }
    Ok(parsed)
}

/// A printable PDF of badges — name, company and QR on each, eight to a paper page — for the
/// whole event or a filtered list, at most 1,000 badges a sheet: a larger selection is printed in
/// pages (`page`, `per_page`), in the order attendees were added (organizers only).
///
/// Each organizer makes one sheet at a time, and at most 6 a minute (bursts of 6); beyond that,
/// 429 with `Retry-After`. Sheets render on a renderer of their own (one thread, 4 sheets waiting
/// at most), never on the threads that serve database reads and writes; when it is full, 503 with
/// `Retry-After`.
///
/// Names and companies print in fonts embedded in the sheet (Noto: Latin, Greek, Cyrillic,
/// Arabic, Hebrew and the common Chinese, Japanese and Korean characters), right-to-left scripts
/// joined and in reading order, and can be extracted as text. A character none of the fonts has
/// prints as an empty box. A long name is set smaller, then cut with `…`.
#[utoipa::path(
    tag = "badges",
    security(("bearer" = [])),
    params(("event_id" = String, Path, description = "The event's id."), SheetQuery),
    responses(
        (status = 200, description = "The sheet: one page of the selection.", body = Vec<u8>, content_type = "application/pdf",
            headers(
                ("X-Total-Count" = u64, description = "Badges in the whole selection."),
                ("X-Page-Count" = u64, description = "Sheets of `per_page` badges the selection makes."),
            )),
        (status = 400, description = "The query is not valid (`invalid_query`).", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = UNAUTHORIZED, body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The caller is not an organizer (`organizer_only`).", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such event for the caller (`event_not_found`).", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`paper`, `topic`, `attendee_ids`, `page` (0, or past the last page) or `per_page` (0, or over 1,000) is not valid (`validation_failed`).", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "A sheet of the caller's is still being made, or they made 6 in the last minute (`rate_limited`); see `Retry-After`.", body = Problem, content_type = "application/problem+json",
            headers(("Retry-After" = u64, description = "Seconds to wait."))),
        (status = 503, description = "The renderer is full with other organizers' sheets (`renderer_busy`); see `Retry-After`.", body = Problem, content_type = "application/problem+json",
            headers(("Retry-After" = u64, description = "Seconds to wait."))),
    )
)]
#[get("/events/{event_id}/badge-sheet")]
pub async fn badge_sheet(
    state: web::Data<AppState>,
    user: AuthUser,
    path: web::Path<String>,
    req: HttpRequest,
) -> Result<HttpResponse> {
    let event_id = path.into_inner();
    let SheetQuery { paper, topic, attendee_ids, page, per_page } =
        sheet_query(req.query_string())?;
    let paper = match paper.as_deref() {
        None => sheet::Paper::A4,
        Some(name) => {
            PAPERS.iter().find(|(n, _)| *n == name).map(|(_, p)| *p).ok_or_else(|| {
                Error::invalid_field("paper", format!("`{name}` is not a4 or letter"))
            })?
        }
    };
    let page = badges::SheetPage::new(page, per_page)?;
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
    // Held until the sheet is rendered (it goes with the render job), or until this request ends
    // before that.
    let slot = state.limits.sheet(&user.account_id).await?;
    let account_id = user.account_id.clone();
    let selection = state
        .db
        .read(move |conn| {
            badges::sheet_cards(
                conn,
                &event_id,
                &account_id,
                topic.as_deref(),
                ids.as_deref(),
                page,
            )
        })
        .await?;
    let cards = selection.cards;
    let rendering = state.renderer.submit(move || {
        let _slot = slot;
        sheet::pdf(&cards, paper)
    })?;
    state.limits.sheet_queued(&user.account_id).await;
    let pdf = renderer::finished(rendering).await?;
    Ok(HttpResponse::Ok()
        .content_type("application/pdf")
        .insert_header((header::CONTENT_DISPOSITION, "attachment; filename=\"badges.pdf\""))
        .insert_header(("X-Total-Count", selection.total.to_string()))
        .insert_header(("X-Page-Count", selection.pages.to_string()))
        .body(pdf))
}
