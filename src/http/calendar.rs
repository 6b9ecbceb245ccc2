//! The calendar feed: `/v1/me/calendar-feed` makes, shows and revokes a person's secret feed URL;
//! `/v1/calendar/{token}.ics` serves the feed to calendar apps, which can send nothing but a URL.

use actix_web::http::header::CONTENT_TYPE;
use actix_web::{HttpResponse, delete, get, post, web};
use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;

use super::AuthUser;
use crate::domain::{calendar, ical};
use crate::error::{Problem, Result};
use crate::startup::AppState;

const UNAUTHORIZED: &str =
    "No valid access token (`unauthenticated`, `token_expired`, `invalid_token`).";

/// A feed just made. The URL holds its secret token and is shown this once: Hallway keeps only
/// the token's hash.
#[derive(Serialize, ToSchema)]
pub struct IssuedFeedResponse {
    /// The feed's address, to subscribe to in a calendar app.
    #[schema(example = "https://hallway.example.org/v1/calendar/3f9c…e1.ics")]
    pub url: String,
    /// The same address with the `webcal://` scheme, which opens the subscription dialog of
    /// calendar apps on phones.
    #[schema(example = "webcal://hallway.example.org/v1/calendar/3f9c…e1.ics")]
    pub webcal_url: String,
    pub created_at: DateTime<Utc>,
}

/// Whether I have a feed (its URL cannot be shown again: make a new one to get one).
#[derive(Serialize, ToSchema)]
pub struct FeedStatusResponse {
    pub active: bool,
    /// When the current feed was made; absent when there is none.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub created_at: Option<DateTime<Utc>>,
}

/// Makes my calendar feed, or a new one: the old URL stops working at once.
///
/// The feed (`GET /v1/calendar/{token}.ics`, no sign-in) lists my follow-ups as iCalendar
/// to-dos (RFC 5545 `VTODO`): the person's name and the promise as the summary, the whole
/// promise and the event as the description, the due date (`DUE;VALUE=DATE` for a day,
/// otherwise a UTC time). Its token is 256 random bits; Hallway stores only its SHA-256.
#[utoipa::path(
    tag = "calendar",
    security(("bearer" = [])),
    responses(
        (status = 201, description = "The new feed; its URL is shown only now.", body = IssuedFeedResponse),
        (status = 401, description = UNAUTHORIZED, body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/me/calendar-feed")]
pub async fn create_feed(state: web::Data<AppState>, user: AuthUser) -> Result<HttpResponse> {
    let issued = state.db.write(move |conn| calendar::issue(conn, &user.account_id)).await?;
    let url = format!("{}/v1/calendar/{}.ics", state.config.public_url, issued.token);
    let webcal_url = match url.split_once("://") {
        Some((_, rest)) => format!("webcal://{rest}"),
        None => url.clone(),
    };
    Ok(HttpResponse::Created().json(IssuedFeedResponse {
        url,
        webcal_url,
        created_at: issued.created_at.and_utc(),
    }))
}

/// Whether I have a calendar feed, and since when.
#[utoipa::path(
    tag = "calendar",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The feed's state.", body = FeedStatusResponse),
        (status = 401, description = UNAUTHORIZED, body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/me/calendar-feed")]
pub async fn feed_status(state: web::Data<AppState>, user: AuthUser) -> Result<HttpResponse> {
    let created = state.db.read(move |conn| calendar::status(conn, &user.account_id)).await?;
    Ok(HttpResponse::Ok().json(FeedStatusResponse {
        active: created.is_some(),
        created_at: created.map(|t| t.and_utc()),
    }))
}

/// Revokes my calendar feed: its URL answers 404 from now on. Revoking when there is none is
/// not an error.
#[utoipa::path(
    tag = "calendar",
    security(("bearer" = [])),
    responses(
        (status = 204, description = "There is no feed now."),
        (status = 401, description = UNAUTHORIZED, body = Problem, content_type = "application/problem+json"),
    )
)]
#[delete("/me/calendar-feed")]
pub async fn revoke_feed(state: web::Data<AppState>, user: AuthUser) -> Result<HttpResponse> {
    state.db.write(move |conn| calendar::revoke(conn, &user.account_id)).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// A person's follow-ups as an iCalendar feed (RFC 5545), for calendar apps to subscribe to.
///
/// No sign-in: the token in the path is the credential, and opens this feed alone. A token that
/// opens no feed (revoked, rotated, guessed or malformed) answers `404 calendar_feed_not_found`,
/// always with the same body; tokens are looked up by their hash, never compared as strings.
/// The path is kept out of the server's logs.
#[utoipa::path(
    tag = "calendar",
    params(("token" = String, Path, description = "The feed's secret token, from `POST /v1/me/calendar-feed`.")),
    responses(
        (status = 200, description = "The feed: a `VCALENDAR` of `VTODO`s.", content_type = "text/calendar", body = String),
        (status = 404, description = "No feed has this token (`calendar_feed_not_found`).", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/calendar/{token}.ics")]
pub async fn feed(state: web::Data<AppState>, path: web::Path<String>) -> Result<HttpResponse> {
    let token = path.into_inner();
    let body = state.db.read(move |conn| calendar::feed(conn, &token)).await?;
    Ok(HttpResponse::Ok().insert_header((CONTENT_TYPE, ical::MEDIA_TYPE)).body(body))
}
