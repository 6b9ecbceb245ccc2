//! Organizers and prompts: which prompts build relationships (`prompt-stats`), and which built-in
//! prompts their event offers (`prompt-settings`). Their own prompts come with the topics.

use actix_web::{HttpResponse, get, put, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::starters::{PromptSource, StageName};
use super::{AuthUser, Json};
use crate::db::starters::Counts;
use crate::domain::attendees;
use crate::domain::starters::settings::{self, StarterSettings};
use crate::domain::starters::stats::{self, PromptStat, PromptStats, TopicStat};
use crate::error::{Problem, Result};
use crate::startup::AppState;

/// How starters did.
#[derive(Serialize, ToSchema)]
pub struct StarterCounts {
    /// Pairs it was shown to (a list opened again counts once).
    pub shown: i64,
    /// Times it was marked used.
    pub used: i64,
    /// Times it was marked helpful.
    pub helpful: i64,
    /// Times it was marked not helpful.
    pub not_helpful: i64,
    /// Connections that got a follow-up done that was made from it (`origin_starter_id`): which
    /// prompts build relationships. Each connection counts once here, whatever the number of
    /// its follow-ups.
    pub followed_up: i64,
}

impl StarterCounts {
    fn new(c: Counts, followed_up: i64) -> Self {
        Self {
            shown: c.shown,
            used: c.used,
            helpful: c.helpful,
            not_helpful: c.not_helpful,
            followed_up,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct PromptStatResponse {
    pub prompt_id: String,
    pub source: PromptSource,
    /// The topic of an organizer's prompt (built-in topic prompts serve every topic).
    pub topic: Option<String>,
    pub stage: Option<StageName>,
    /// The prompt with its placeholders; `null` for one no longer offered (an organizer's prompt
    /// since changed or removed).
    pub text: Option<String>,
    /// Whether the event offers it now.
    pub enabled: bool,
    #[serde(flatten)]
    pub counts: StarterCounts,
}

impl From<PromptStat> for PromptStatResponse {
    fn from(p: PromptStat) -> Self {
        Self {
            prompt_id: p.prompt_id,
            source: p.source.into(),
            topic: p.topic,
            stage: p.stage.map(StageName::from),
            text: p.text,
            enabled: p.enabled,
            counts: StarterCounts::new(p.counts, p.followed_up),
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct TopicStatResponse {
    pub slug: String,
    /// `null` for a topic since deleted.
    pub name: Option<String>,
    #[serde(flatten)]
    pub counts: StarterCounts,
}

impl From<TopicStat> for TopicStatResponse {
    fn from(t: TopicStat) -> Self {
        Self { slug: t.slug, name: t.name, counts: StarterCounts::new(t.counts, t.followed_up) }
    }
}

#[derive(Serialize, ToSchema)]
pub struct PromptStatsResponse {
    /// Every prompt of the event's library (built-in and the organizers'), with the prompts
    /// counted before they were removed: most followed up first, then most helpful, most used, most
    /// shown.
    pub prompts: Vec<PromptStatResponse>,
    /// Every topic, in the organizers' order, counting the starters about it.
    pub topics: Vec<TopicStatResponse>,
    /// Starters about no topic: the general library, company and headline.
    pub without_topic: StarterCounts,
}

impl From<PromptStats> for PromptStatsResponse {
    fn from(s: PromptStats) -> Self {
        Self {
            prompts: s.prompts.into_iter().map(PromptStatResponse::from).collect(),
            topics: s.topics.into_iter().map(TopicStatResponse::from).collect(),
            without_topic: StarterCounts::new(s.without_topic, s.without_topic_followed_up),
        }
    }
}

const UNAUTHORIZED: &str =
    "No valid access token (`unauthenticated`, `token_expired`, `invalid_token`).";

/// Which prompts build relationships: per prompt and per topic, how often starters were shown,
/// used, and marked helpful or not, and how many connections got a follow-up done that was made
/// from them (organizers only). Totals only, never who was shown what.
#[utoipa::path(
    tag = "starters",
    security(("bearer" = [])),
    params(("event_id" = String, Path, description = "The event's id.")),
    responses(
        (status = 200, description = "The counts.", body = PromptStatsResponse),
        (status = 401, description = UNAUTHORIZED, body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The caller is not an organizer (`organizer_only`).", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such event for the caller (`event_not_found`).", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/events/{event_id}/prompt-stats")]
pub async fn prompt_stats(
    state: web::Data<AppState>,
    user: AuthUser,
    path: web::Path<String>,
) -> Result<HttpResponse> {
    let event_id = path.into_inner();
    let found = state
        .db
        .read(move |conn| {
            attendees::organizer(conn, &event_id, &user.account_id)?;
            stats::prompt_stats(conn, &event_id)
        })
        .await?;
    Ok(HttpResponse::Ok().json(PromptStatsResponse::from(found)))
}

/// Which built-in prompts the event offers.
#[derive(Serialize, ToSchema)]
pub struct PromptSettingsResponse {
    /// Whether built-in prompts are offered at all. Off, starters come from the organizers'
    /// topic prompts; a pair those give nothing for still gets the general built-in library, so
    /// that no list is empty.
    pub builtin_prompts: bool,
    /// Built-in prompts switched off one by one (ids, as in `prompt-stats`).
    pub disabled_prompts: Vec<String>,
    /// When they were last set; `null`: never (the defaults).
    pub updated_at: Option<DateTime<Utc>>,
}

impl From<StarterSettings> for PromptSettingsResponse {
    fn from(s: StarterSettings) -> Self {
        Self {
            builtin_prompts: s.builtin_prompts,
            disabled_prompts: s.disabled_prompts,
            updated_at: s.updated_at.map(|t| t.and_utc()),
        }
    }
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PromptSettingsRequest {
    pub builtin_prompts: bool,
    /// Ids of built-in prompts to switch off (replaces the list; default none).
    #[serde(default)]
    pub disabled_prompts: Vec<String>,
}

/// The event's prompt settings (organizers only).
#[utoipa::path(
    tag = "starters",
    security(("bearer" = [])),
    params(("event_id" = String, Path, description = "The event's id.")),
    responses(
        (status = 200, description = "The settings.", body = PromptSettingsResponse),
        (status = 401, description = UNAUTHORIZED, body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The caller is not an organizer (`organizer_only`).", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such event for the caller (`event_not_found`).", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/events/{event_id}/prompt-settings")]
pub async fn get_prompt_settings(
    state: web::Data<AppState>,
    user: AuthUser,
    path: web::Path<String>,
) -> Result<HttpResponse> {
    let event_id = path.into_inner();
    let found = state
        .db
        .read(move |conn| {
            attendees::organizer(conn, &event_id, &user.account_id)?;
            settings::load(conn, &event_id)
        })
        .await?;
    Ok(HttpResponse::Ok().json(PromptSettingsResponse::from(found)))
}

/// Turns built-in prompts on or off for the event, all or one by one (organizers only).
#[utoipa::path(
    tag = "starters",
    security(("bearer" = [])),
    params(("event_id" = String, Path, description = "The event's id.")),
    request_body = PromptSettingsRequest,
    responses(
        (status = 200, description = "The settings now.", body = PromptSettingsResponse),
        (status = 400, description = "The body is malformed or has unknown fields (`malformed_json`, `invalid_body`).", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = UNAUTHORIZED, body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The caller is not an organizer (`organizer_only`).", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such event for the caller (`event_not_found`).", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "The body is too large (`payload_too_large`).", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "The body is not `application/json` (`unsupported_media_type`).", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A listed id is not a built-in prompt's (`validation_failed`, each in `errors`).", body = Problem, content_type = "application/problem+json"),
    )
)]
#[put("/events/{event_id}/prompt-settings")]
pub async fn put_prompt_settings(
    state: web::Data<AppState>,
    user: AuthUser,
    path: web::Path<String>,
    body: Json<PromptSettingsRequest>,
) -> Result<HttpResponse> {
    let event_id = path.into_inner();
    let request = body.into_inner();
    let disabled = settings::parse_disabled(&request.disabled_prompts)?;
    let saved = state
        .db
        .write(move |conn| {
            attendees::organizer(conn, &event_id, &user.account_id)?;
            settings::save(conn, &event_id, request.builtin_prompts, disabled)
        })
        .await?;
    Ok(HttpResponse::Ok().json(PromptSettingsResponse::from(saved)))
}
