//! `/v1/events/{event_id}/me` and the directory: a person's event profile as they and others see it.

use actix_web::{HttpResponse, delete, get, patch, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::accounts::some;
use super::{AuthUser, Json, pagination};
use crate::db::attendees::ProfileChanges;
use crate::domain::attendees::{
    self, Link, MAX_BIO, MAX_COMPANY, MAX_HEADLINE, MAX_PHONE, MAX_PROFILE_NAME, Profile,
    ProfilePatch, parse_links, parse_text,
};
use crate::domain::text::Lines;
use crate::error::{Error, FieldError, Problem, Result};
use crate::startup::AppState;

/// Which profile fields a badge exchange shares with the other person.
#[derive(Serialize, Deserialize, ToSchema, Debug, Clone, Copy)]
pub struct Sharing {
    pub email: bool,
    pub phone: bool,
    pub company: bool,
    pub headline: bool,
    pub bio: bool,
    pub links: bool,
}

/// A person's profile in one event, as they themselves (or an organizer) see it.
#[derive(Serialize, ToSchema)]
pub struct ProfileResponse {
    /// The id of this person in this event (used in attendee paths).
    pub attendee_id: String,
    pub event_id: String,
    /// `organizer` or `attendee`.
    pub role: String,
    pub email: String,
    pub name: String,
    pub company: Option<String>,
    pub headline: Option<String>,
    pub bio: Option<String>,
    pub phone: Option<String>,
    pub links: Vec<Link>,
    /// Slugs of the topics this person can talk about.
    pub can_talk_about: Vec<String>,
    /// Slugs of the topics this person wants to learn about.
    pub want_to_learn: Vec<String>,
    /// The sharing switches as set. Until `sharing_confirmed` is true they are not yet in force:
    /// a badge exchange shares only the name, company and headline.
    pub sharing: Sharing,
    /// Whether the person has set what they share (any `PATCH` with `sharing`, even `{}`).
    /// Imported people and new members start unconfirmed, so that nobody's email or phone goes
    /// to whoever scans their badge before they chose it.
    pub sharing_confirmed: bool,
    /// Whether this person appears in the event's directory.
    pub in_directory: bool,
    /// Whether others may introduce this person to their connections (default true). People to
    /// meet lists only people in the directory (`in_directory`).
    pub open_to_introductions: bool,
    /// When the organizers invited this person by email, if they did.
    pub invited_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<Profile> for ProfileResponse {
    fn from(profile: Profile) -> Self {
        let name = profile.name();
        let links = profile.links();
        let m = profile.member;
        Self {
            attendee_id: m.id,
            event_id: m.event_id,
            role: m.role,
            email: profile.email,
            name,
            company: m.company,
            headline: m.headline,
            bio: m.bio,
            phone: m.phone,
            links,
            can_talk_about: profile.can_talk_about,
            want_to_learn: profile.want_to_learn,
            sharing: Sharing {
                email: m.share_email,
                phone: m.share_phone,
                company: m.share_company,
                headline: m.share_headline,
                bio: m.share_bio,
                links: m.share_links,
            },
            sharing_confirmed: m.sharing_confirmed_at.is_some(),
            in_directory: m.in_directory,
            open_to_introductions: m.open_to_introductions,
            invited_at: m.invited_at.map(|t| t.and_utc()),
            created_at: m.created_at.and_utc(),
            updated_at: m.updated_at.and_utc(),
        }
    }
}

/// Sharing switches to change; those left out stay.
#[derive(Deserialize, ToSchema, Default, Clone)]
#[serde(deny_unknown_fields)]
pub struct SharingPatch {
    pub email: Option<bool>,
    pub phone: Option<bool>,
    pub company: Option<bool>,
    pub headline: Option<bool>,
    pub bio: Option<bool>,
    pub links: Option<bool>,
}

/// Fields to change; a field left out stays as it is, `null` clears it.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PatchProfileRequest {
    /// Up to 100 characters.
    #[serde(default, deserialize_with = "some")]
    #[schema(value_type = Option<String>)]
    pub name: Option<Option<String>>,
    /// Up to 200 characters.
    #[serde(default, deserialize_with = "some")]
    #[schema(value_type = Option<String>)]
    pub company: Option<Option<String>>,
    /// Up to 200 characters.
    #[serde(default, deserialize_with = "some")]
    #[schema(value_type = Option<String>)]
    pub headline: Option<Option<String>>,
    /// Up to 2,000 characters.
    #[serde(default, deserialize_with = "some")]
    #[schema(value_type = Option<String>)]
    pub bio: Option<Option<String>>,
    /// Digits, spaces and `+ ( ) - .`, up to 40 characters.
    #[serde(default, deserialize_with = "some")]
    #[schema(value_type = Option<String>)]
    pub phone: Option<Option<String>>,
    /// Replaces all links; at most 10.
    pub links: Option<Vec<Link>>,
    /// Replaces the topics this person can talk about: slugs of the event's topics, at most 20.
    pub can_talk_about: Option<Vec<String>>,
    /// Replaces the topics this person wants to learn: slugs of the event's topics, at most 20.
    pub want_to_learn: Option<Vec<String>>,
    pub sharing: Option<SharingPatch>,
    pub in_directory: Option<bool>,
    /// Whether others may introduce me to their connections.
    pub open_to_introductions: Option<bool>,
}

fn text_change(
    field: &str,
    value: Option<Option<String>>,
    rule: (usize, Lines),
    errors: &mut Vec<FieldError>,
) -> Option<Option<String>> {
    value.map(|v| parse_text(field, v.as_deref(), rule, errors))
}

fn parse_patch(request: PatchProfileRequest) -> Result<ProfilePatch> {
    let mut errors = Vec::new();
    let name = text_change("name", request.name, (MAX_PROFILE_NAME, Lines::One), &mut errors);
    let company = text_change("company", request.company, (MAX_COMPANY, Lines::One), &mut errors);
    let headline =
        text_change("headline", request.headline, (MAX_HEADLINE, Lines::One), &mut errors);
    let bio = text_change("bio", request.bio, (MAX_BIO, Lines::Many), &mut errors);
    let phone = text_change("phone", request.phone, (MAX_PHONE, Lines::One), &mut errors);
    if let Some(Some(phone)) = &phone
        && !phone.chars().all(|c| c.is_ascii_digit() || " +()-.".contains(c))
    {
        errors.push(FieldError::new("phone", "may hold only digits, spaces and + ( ) - ."));
    }
    let sharing = request.sharing.clone().unwrap_or_default();
    let changes = ProfileChanges {
        name,
        company,
        headline,
        bio,
        phone,
        links: request.links.map(|links| parse_links(links, &mut errors)),
        in_directory: request.in_directory,
        open_to_introductions: request.open_to_introductions,
        share_email: sharing.email,
        share_phone: sharing.phone,
        share_company: sharing.company,
        share_headline: sharing.headline,
        share_bio: sharing.bio,
        share_links: sharing.links,
        // Sending `sharing` (even `{}`) is the person's confirmation of what they share.
        sharing_confirmed_at: request.sharing.is_some().then(crate::db::now),
        ..Default::default()
    };
    if !errors.is_empty() {
        return Err(Error::validation(errors));
    }
    Ok(ProfilePatch {
        changes,
        can_talk_about: request.can_talk_about,
        want_to_learn: request.want_to_learn,
    })
}

/// My profile in this event.
#[utoipa::path(
    tag = "profiles",
    security(("bearer" = [])),
    params(("event_id" = String, Path, description = "The event's id.")),
    responses(
        (status = 200, description = "The caller's profile in the event.", body = ProfileResponse),
        (status = 401, description = "No valid access token (`unauthenticated`, `token_expired`, `invalid_token`).", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such event, or the caller is not a member (`event_not_found`).", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/events/{event_id}/me")]
pub async fn get_my_profile(
    state: web::Data<AppState>,
    user: AuthUser,
    path: web::Path<String>,
) -> Result<HttpResponse> {
    let event_id = path.into_inner();
    let profile =
        state.db.read(move |conn| attendees::my_profile(conn, &event_id, &user.account_id)).await?;
    Ok(HttpResponse::Ok().json(ProfileResponse::from(profile)))
}

/// Leaves the event (for a person imported into an event they do not want to be part of): my
/// profile, badge, topics and connections in it are deleted, the people I met learn of it by delta
/// sync (tombstones), and no more mail of the event is sent to me. An organizer may leave when
/// the event has another organizer.
#[utoipa::path(
    tag = "profiles",
    security(("bearer" = [])),
    params(("event_id" = String, Path, description = "The event's id.")),
    responses(
        (status = 204, description = "I am no longer a member of the event."),
        (status = 401, description = "No valid access token (`unauthenticated`, `token_expired`, `invalid_token`).", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such event, or the caller is not a member (`event_not_found`).", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The caller is the event's only organizer (`sole_organizer`).", body = Problem, content_type = "application/problem+json"),
    )
)]
#[delete("/events/{event_id}/me")]
pub async fn leave_event(
    state: web::Data<AppState>,
    user: AuthUser,
    path: web::Path<String>,
) -> Result<HttpResponse> {
    let event_id = path.into_inner();
    state.db.write(move |conn| attendees::leave(conn, &event_id, &user.account_id)).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Changes my profile in this event: details, topics, sharing and directory listing.
///
/// Topics must be slugs of this event's (unarchived) topics. A later change of `sharing` is
/// reflected in what people who exchanged badges with me can read.
#[utoipa::path(
    tag = "profiles",
    security(("bearer" = [])),
    params(("event_id" = String, Path, description = "The event's id.")),
    request_body = PatchProfileRequest,
    responses(
        (status = 200, description = "The changed profile.", body = ProfileResponse),
        (status = 400, description = "The body is malformed or has unknown fields (`malformed_json`, `invalid_body`).", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "The body is over 64 KiB (`payload_too_large`).", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid access token (`unauthenticated`, `token_expired`, `invalid_token`).", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such event, or the caller is not a member (`event_not_found`).", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "The body is not `application/json` (`unsupported_media_type`).", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A field is not valid, or a topic is not one of this event's (`validation_failed`).", body = Problem, content_type = "application/problem+json"),
    )
)]
#[patch("/events/{event_id}/me")]
pub async fn patch_my_profile(
    state: web::Data<AppState>,
    user: AuthUser,
    path: web::Path<String>,
    body: Json<PatchProfileRequest>,
) -> Result<HttpResponse> {
    let event_id = path.into_inner();
    let patch = parse_patch(body.into_inner())?;
    let profile = state
        .db
        .write(move |conn| attendees::update_profile(conn, &event_id, &user.account_id, patch))
        .await?;
    Ok(HttpResponse::Ok().json(ProfileResponse::from(profile)))
}

/// A person as the event's directory shows them: only what their sharing profile allows.
#[derive(Serialize, ToSchema)]
pub struct DirectoryEntry {
    pub attendee_id: String,
    pub name: String,
    pub headline: Option<String>,
    pub company: Option<String>,
    pub can_talk_about: Vec<String>,
    pub want_to_learn: Vec<String>,
}

impl From<Profile> for DirectoryEntry {
    fn from(profile: Profile) -> Self {
        let name = profile.name();
        let m = profile.member;
        Self {
            attendee_id: m.id,
            name,
            headline: m.headline.filter(|_| m.share_headline),
            company: m.company.filter(|_| m.share_company),
            can_talk_about: profile.can_talk_about,
            want_to_learn: profile.want_to_learn,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct DirectoryPage {
    pub items: Vec<DirectoryEntry>,
    /// Pass as `cursor` for the next page; absent on the last page.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DirectoryQuery {
    /// Items per page, 1 to 100 (default 50).
    pub limit: Option<i64>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
    /// Only people who picked this topic (either way), by slug.
    pub topic: Option<String>,
}

/// The event's directory: the members who chose to appear in it.
#[utoipa::path(
    tag = "profiles",
    security(("bearer" = [])),
    params(("event_id" = String, Path, description = "The event's id."), DirectoryQuery),
    responses(
        (status = 200, description = "A page of the directory.", body = DirectoryPage),
        (status = 400, description = "The query is not valid (`invalid_query`).", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid access token (`unauthenticated`, `token_expired`, `invalid_token`).", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such event, or the caller is not a member (`event_not_found`).", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`limit`, `cursor` or `topic` is not valid (`validation_failed`).", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/events/{event_id}/directory")]
pub async fn directory(
    state: web::Data<AppState>,
    user: AuthUser,
    path: web::Path<String>,
    query: web::Query<DirectoryQuery>,
) -> Result<HttpResponse> {
    let event_id = path.into_inner();
    let DirectoryQuery { limit, cursor, topic } = query.into_inner();
    let (limit, cursor) = pagination::check(limit, cursor)?;
    let rows = state
        .db
        .read(move |conn| {
            attendees::member(conn, &event_id, &user.account_id)?;
            attendees::page(conn, &event_id, true, topic.as_deref(), cursor.as_deref(), limit + 1)
        })
        .await?;
    let (rows, next_cursor) = pagination::split(rows, limit, |p| &p.member.id);
    let items = rows.into_iter().map(DirectoryEntry::from).collect();
    Ok(HttpResponse::Ok().json(DirectoryPage { items, next_cursor }))
}
