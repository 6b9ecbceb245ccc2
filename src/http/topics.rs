//! `/v1/events/{event_id}/topics`: the interest topics organizers seed.

use actix_web::{HttpResponse, get, put, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::starters::StageName;
use super::{AuthUser, Json};
use crate::db::topics::Topic;
use crate::domain::topics::{PromptInput, TopicPrompt};
use crate::domain::{attendees, events::Role, topics};
use crate::error::{Problem, Result};
use crate::startup::AppState;

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TopicInput {
    /// 1 to 64 lower-case letters, digits and single hyphens; the topic's identity.
    #[schema(example = "rust")]
    pub slug: String,
    /// 1 to 100 characters.
    #[schema(example = "Rust")]
    pub name: String,
    /// Up to 1,000 characters.
    pub description: Option<String>,
    /// Conversation prompts, at most 10, each the question alone or with its details: an open
    /// question (ending in `?`, not opening with a yes/no word such as Do, Is or Can), 10 to 300
    /// characters, with only the placeholders `{first_name}`, `{name}`, `{topic}`, `{company}`,
    /// `{headline}` and `{event}`. A prompt needing something the other person does not share
    /// (their company, say) is not offered for them.
    #[schema(example = json!(["What got you into {topic}, {first_name}?", {"text": "What is the hardest part of {topic} at {company}?", "stage": "challenges", "follow_ups": ["How do you deal with it?"], "listen_for": "A tool they wish existed."}]))]
    #[serde(default)]
    pub prompts: Vec<PromptBody>,
}

/// A topic prompt: the question alone, or with its details.
#[derive(Deserialize, Serialize, ToSchema)]
#[serde(untagged)]
pub enum PromptBody {
    Text(String),
    Detailed(DetailedPrompt),
}

/// A topic prompt with its stage, follow-ups and listen-for hint.
#[derive(Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DetailedPrompt {
    /// The question, as for a bare prompt.
    #[schema(min_length = 10, max_length = 300)]
    pub text: String,
    /// Its stage in the arc (default `work_now`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stage: Option<StageName>,
    /// Up to 3 deeper questions, each checked as the prompt is. With none, the starter gets the
    /// built-in ones about the topic; with one, a built-in one follows it (a starter always has
    /// two or three).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schema(max_items = 3)]
    pub follow_ups: Vec<String>,
    /// What in the answer could become a follow-up, 1 to 300 characters, with the same
    /// placeholders (default: a built-in hint about the topic).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(min_length = 1, max_length = 300)]
    pub listen_for: Option<String>,
}

impl From<PromptBody> for PromptInput {
    fn from(body: PromptBody) -> Self {
        match body {
            PromptBody::Text(text) => Self { text, ..Self::default() },
            PromptBody::Detailed(d) => Self {
                text: d.text,
                stage: d.stage.map(Into::into),
                follow_ups: d.follow_ups,
                listen_for: d.listen_for,
            },
        }
    }
}

impl From<TopicPrompt> for PromptBody {
    fn from(p: TopicPrompt) -> Self {
        if p.stage.is_none() && p.follow_ups.is_empty() && p.listen_for.is_none() {
            return Self::Text(p.text);
        }
        Self::Detailed(DetailedPrompt {
            text: p.text,
            stage: p.stage.map(Into::into),
            follow_ups: p.follow_ups,
            listen_for: p.listen_for,
        })
    }
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SeedTopicsRequest {
    /// The event's whole topic list, in display order (at most 200).
    pub topics: Vec<TopicInput>,
}

#[derive(Serialize, ToSchema)]
pub struct TopicResponse {
    pub slug: String,
    pub name: String,
    pub description: String,
    pub prompts: Vec<PromptBody>,
    /// Archived topics were left out of a later seed after people chose them: they stay on those
    /// people's profiles but cannot be chosen anew.
    pub archived: bool,
    pub updated_at: DateTime<Utc>,
}

impl From<Topic> for TopicResponse {
    fn from(topic: Topic) -> Self {
        Self {
            prompts: topics::prompts_of(&topic).into_iter().map(PromptBody::from).collect(),
            archived: topic.archived_at.is_some(),
            slug: topic.slug,
            name: topic.name,
            description: topic.description,
            updated_at: topic.updated_at.and_utc(),
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct SeedTopicsResponse {
    pub created: usize,
    pub updated: usize,
    pub unchanged: usize,
    /// Left out, but chosen by someone: archived, not deleted.
    pub archived: usize,
    /// Left out and chosen by nobody: deleted.
    pub deleted: usize,
    /// The event's topics now, archived ones included.
    pub topics: Vec<TopicResponse>,
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TopicsQuery {
    /// Organizers only: include archived topics.
    pub include_archived: Option<bool>,
}

/// Seeds the event's topics: an idempotent upsert by slug (organizers only).
///
/// Send the whole list. A new slug is created; a known slug is updated (and restored if it was
/// archived); sending the same list twice changes nothing. A topic left out is deleted, unless
/// someone already chose it: then it is archived, staying on their profiles. If any item is
/// invalid nothing changes, and each failing field is named (`topics[2].prompts[0]`).
#[utoipa::path(
    tag = "topics",
    security(("bearer" = [])),
    params(("event_id" = String, Path, description = "The event's id.")),
    request_body = SeedTopicsRequest,
    responses(
        (status = 200, description = "What changed, and the topics now.", body = SeedTopicsResponse),
        (status = 400, description = "The body is malformed (`malformed_json`, `invalid_body`).", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid access token (`unauthenticated`, `token_expired`, `invalid_token`).", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The caller is not an organizer (`organizer_only`).", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such event for the caller (`event_not_found`).", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "The body is too large (`payload_too_large`).", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "The body is not `application/json` (`unsupported_media_type`).", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A topic or prompt is not valid (`validation_failed`, each in `errors`).", body = Problem, content_type = "application/problem+json"),
    )
)]
#[put("/events/{event_id}/topics")]
pub async fn seed_topics(
    state: web::Data<AppState>,
    user: AuthUser,
    path: web::Path<String>,
    body: Json<SeedTopicsRequest>,
) -> Result<HttpResponse> {
    let event_id = path.into_inner();
    let items = body
        .into_inner()
        .topics
        .into_iter()
        .map(|t| {
            let prompts = t.prompts.into_iter().map(PromptInput::from).collect();
            (t.slug, t.name, t.description, prompts)
        })
        .collect();
    let specs = topics::parse_specs(items)?;
    let (report, all) = state
        .db
        .write(move |conn| {
            attendees::organizer(conn, &event_id, &user.account_id)?;
            let report = topics::seed(conn, &event_id, &specs)?;
            Ok((report, crate::db::topics::list(conn, &event_id)?))
        })
        .await?;
    Ok(HttpResponse::Ok().json(SeedTopicsResponse {
        created: report.created,
        updated: report.updated,
        unchanged: report.unchanged,
        archived: report.archived,
        deleted: report.deleted,
        topics: all.into_iter().map(TopicResponse::from).collect(),
    }))
}

/// The event's topics (any member).
#[utoipa::path(
    tag = "topics",
    security(("bearer" = [])),
    params(("event_id" = String, Path, description = "The event's id."), TopicsQuery),
    responses(
        (status = 200, description = "The topics, in the organizers' order.", body = Vec<TopicResponse>),
        (status = 400, description = "The query is not valid (`invalid_query`).", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid access token (`unauthenticated`, `token_expired`, `invalid_token`).", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such event for the caller (`event_not_found`).", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/events/{event_id}/topics")]
pub async fn list_topics(
    state: web::Data<AppState>,
    user: AuthUser,
    path: web::Path<String>,
    query: web::Query<TopicsQuery>,
) -> Result<HttpResponse> {
    let event_id = path.into_inner();
    let wants_archived = query.include_archived.unwrap_or(false);
    let all = state
        .db
        .read(move |conn| {
            let (member, _, _) = attendees::member(conn, &event_id, &user.account_id)?;
            let organizer = Role::parse(&member.role) == Role::Organizer;
            let all = crate::db::topics::list(conn, &event_id)?;
            Ok(all
                .into_iter()
                .filter(|t| t.archived_at.is_none() || (wants_archived && organizer))
                .collect::<Vec<_>>())
        })
        .await?;
    Ok(HttpResponse::Ok().json(all.into_iter().map(TopicResponse::from).collect::<Vec<_>>()))
}
