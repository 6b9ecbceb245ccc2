//! Conversation starters for the person I am about to talk to, and feedback on them.

use actix_web::{HttpResponse, get, post, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::{AuthUser, Json, TokenUser};
use crate::db::starters::Show;
use crate::domain::starters::Stage;
use crate::domain::starters::pair::{self, PairStarters, ShownStarter, Target};
use crate::domain::starters::rank::Source;
use crate::domain::starters::record::{self, FeedbackChange};
use crate::error::{Error, Problem, Result};
use crate::startup::AppState;

/// Starters per answer by default, and at most.
pub const DEFAULT_STARTERS: usize = 5;
pub const MAX_STARTERS: usize = 10;

/// A stage of the arc of a conversation: the event (the opener), their story, their work now,
/// what is hard or exciting in it, their advice, who else to meet, how I could help.
#[derive(Serialize, Deserialize, ToSchema, Clone, Copy, Debug, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum StageName {
    Event,
    Story,
    WorkNow,
    Challenges,
    Advice,
    WhoToMeet,
    HowToHelp,
}

impl From<StageName> for Stage {
    fn from(stage: StageName) -> Self {
        match stage {
            StageName::Event => Self::Event,
            StageName::Story => Self::Story,
            StageName::WorkNow => Self::WorkNow,
            StageName::Challenges => Self::Challenges,
            StageName::Advice => Self::Advice,
            StageName::WhoToMeet => Self::WhoToMeet,
            StageName::HowToHelp => Self::HowToHelp,
        }
    }
}

impl From<Stage> for StageName {
    fn from(stage: Stage) -> Self {
        match stage {
            Stage::Event => Self::Event,
            Stage::Story => Self::Story,
            Stage::WorkNow => Self::WorkNow,
            Stage::Challenges => Self::Challenges,
            Stage::Advice => Self::Advice,
            Stage::WhoToMeet => Self::WhoToMeet,
            Stage::HowToHelp => Self::HowToHelp,
        }
    }
}

/// Where a prompt comes from: Hallway's built-in library, or the event's organizer (a prompt of
/// one of its topics).
#[derive(Serialize, ToSchema, Clone, Copy, Debug, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum PromptSource {
    Builtin,
    Organizer,
}

impl From<Source> for PromptSource {
    fn from(source: Source) -> Self {
        match source {
            Source::Builtin => Self::Builtin,
            Source::Organizer => Self::Organizer,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct StarterTopic {
    pub slug: String,
    pub name: String,
}

/// An open question to ask the other person, and how to keep listening.
#[derive(Serialize, ToSchema)]
pub struct StarterResponse {
    /// Send feedback with it; the same pair and prompt keep the same id.
    pub starter_id: String,
    /// The prompt it was made from (`story-01`, or `topic-{slug}-…` for an organizer's).
    pub prompt_id: String,
    pub source: PromptSource,
    pub stage: StageName,
    /// The question, filled in for them.
    pub question: String,
    /// Two or three deeper questions to keep listening.
    pub follow_ups: Vec<String>,
    /// What in the answer could become a follow-up: something to send, someone to introduce, a
    /// next meeting.
    pub listen_for: String,
    /// Why it was chosen, in words ("you both picked Rust").
    pub reason: String,
    /// The topic it is about, if any.
    pub topic: Option<StarterTopic>,
    /// Whether I marked it used.
    pub used: bool,
    /// Whether I marked it helpful (`null`: not said).
    pub helpful: Option<bool>,
}

impl From<ShownStarter> for StarterResponse {
    fn from(shown: ShownStarter) -> Self {
        let s = shown.starter;
        Self {
            starter_id: s.starter_id,
            prompt_id: s.prompt_id,
            source: s.source.into(),
            stage: s.stage.into(),
            question: s.question,
            follow_ups: s.follow_ups,
            listen_for: s.listen_for,
            reason: s.reason,
            topic: s.topic.map(|(slug, name)| StarterTopic { slug, name }),
            used: shown.used,
            helpful: shown.helpful,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct StartersResponse {
    /// The person the starters are for.
    pub attendee_id: String,
    /// With `after_stage`: the stage asked for (the one after it; `how_to_help` stays there).
    pub stage: Option<StageName>,
    /// Best first; never empty.
    pub starters: Vec<StarterResponse>,
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct StartersQuery {
    /// How many starters, 1 to 10 (default 5).
    #[param(minimum = 1, maximum = 10)]
    pub limit: Option<i64>,
    /// The stage of the starter just used: starters of the next stage of the arc come first.
    pub after_stage: Option<StageName>,
}

fn check_limit(limit: Option<i64>) -> Result<usize> {
    let limit = limit.unwrap_or(DEFAULT_STARTERS as i64);
    usize::try_from(limit).ok().filter(|l| (1..=MAX_STARTERS).contains(l)).ok_or_else(|| {
        Error::invalid_field("limit", format!("must be between 1 and {MAX_STARTERS}"))
    })
}

/// Ranks the pair's starters, and records those shown for the first time (a repeated call writes
/// nothing): on PostgreSQL on the connection that read them, on SQLite through its writer.
async fn answer(
    state: web::Data<AppState>,
    user: TokenUser,
    event_id: String,
    target: Target,
    query: StartersQuery,
) -> Result<HttpResponse> {
    let limit = check_limit(query.limit)?;
    state.limits.starters(&user.account_id).await?;
    let after_stage = query.after_stage.map(Stage::from);
    let found: PairStarters = state
        .db
        .read(move |conn| {
            let mut found =
                pair::for_pair(conn, &event_id, &user.account_id, target, after_stage, limit)?;
            found.unrecorded = record::record_here(conn, std::mem::take(&mut found.unrecorded))?;
            Ok(found)
        })
        .await?;
    if !found.unrecorded.is_empty() {
        let shows = found.unrecorded;
        state.db.write(move |conn| record::record(conn, &shows)).await?;
    }
    Ok(HttpResponse::Ok().json(StartersResponse {
        attendee_id: found.attendee_id,
        stage: after_stage.map(|s| s.next().into()),
        starters: found.starters.into_iter().map(StarterResponse::from).collect(),
    }))
}

const UNAUTHORIZED: &str =
    "No valid access token (`unauthenticated`, `token_expired`, `invalid_token`).";
const RATE_LIMITED: &str = "More than 30 starter requests in a burst, or 30 a minute after it (`rate_limited`); see `Retry-After`.";

/// Starters for an attendee I am about to talk to (from the directory, or just scanned).
///
/// Open questions about them, ranked listening first: topics they can talk about that I want to
/// learn, then topics we both picked, their other topics, their company and headline (as they
/// share them), then general listening prompts. Prompts I already used with them rank down. The
/// same call gives the same list; another person gets other starters. Never empty.
///
/// A starter shown to me for the first time is recorded, so that I can send feedback on it and
/// name it as a follow-up's origin, and counted as shown in the organizers' statistics (once per
/// pair); asking again records nothing.
///
/// A person not in the directory is found only by people connected with them.
#[utoipa::path(
    tag = "starters",
    security(("bearer" = [])),
    params(("event_id" = String, Path, description = "The event's id."), ("attendee_id" = String, Path, description = "The other person's attendee id."), StartersQuery),
    responses(
        (status = 200, description = "The starters, best first.", body = StartersResponse),
        (status = 400, description = "The query is not valid, e.g. an unknown `after_stage` (`invalid_query`).", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = UNAUTHORIZED, body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such event for the caller (`event_not_found`), or no such attendee in it that the caller may see (`attendee_not_found`): unknown, of another event, or out of the directory and not connected with the caller.", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`limit` is not valid (`validation_failed`), or the attendee is the caller (`starters_for_self`).", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = RATE_LIMITED, body = Problem, content_type = "application/problem+json",
            headers(("Retry-After" = u64, description = "Seconds to wait."))),
    )
)]
#[get("/events/{event_id}/attendees/{attendee_id}/starters")]
pub async fn attendee_starters(
    state: web::Data<AppState>,
    user: TokenUser,
    path: web::Path<(String, String)>,
    query: web::Query<StartersQuery>,
) -> Result<HttpResponse> {
    let (event_id, attendee_id) = path.into_inner();
    answer(state, user, event_id, Target::Attendee(attendee_id), query.into_inner()).await
}

/// Starters for the other side of one of my connections, as for an attendee (see
/// `GET …/attendees/{attendee_id}/starters`); allowed whether or not they are in the directory.
#[utoipa::path(
    tag = "starters",
    security(("bearer" = [])),
    params(("event_id" = String, Path, description = "The event's id."), ("connection_id" = String, Path, description = "The connection's id."), StartersQuery),
    responses(
        (status = 200, description = "The starters, best first.", body = StartersResponse),
        (status = 400, description = "The query is not valid, e.g. an unknown `after_stage` (`invalid_query`).", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = UNAUTHORIZED, body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such event for the caller (`event_not_found`), or no such connection of theirs (`connection_not_found`).", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`limit` is not valid (`validation_failed`).", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = RATE_LIMITED, body = Problem, content_type = "application/problem+json",
            headers(("Retry-After" = u64, description = "Seconds to wait."))),
    )
)]
#[get("/events/{event_id}/connections/{connection_id}/starters")]
pub async fn connection_starters(
    state: web::Data<AppState>,
    user: TokenUser,
    path: web::Path<(String, String)>,
    query: web::Query<StartersQuery>,
) -> Result<HttpResponse> {
    let (event_id, connection_id) = path.into_inner();
    answer(state, user, event_id, Target::Connection(connection_id), query.into_inner()).await
}

/// Feedback on a starter. Fields left out stay as they were.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FeedbackRequest {
    /// I asked it (`false` undoes a mistaken tap, and clears `helpful`).
    pub used: Option<bool>,
    /// It opened a good conversation, or not; saying so marks it used.
    pub helpful: Option<bool>,
}

#[derive(Serialize, ToSchema)]
pub struct FeedbackResponse {
    pub starter_id: String,
    pub prompt_id: String,
    pub stage: StageName,
    /// The topic's slug, if it was about one.
    pub topic: Option<String>,
    /// The person it was for.
    pub attendee_id: String,
    pub used: bool,
    pub helpful: Option<bool>,
    /// When I first marked it used.
    pub used_at: Option<DateTime<Utc>>,
}

impl TryFrom<Show> for FeedbackResponse {
    type Error = Error;

    fn try_from(show: Show) -> Result<Self> {
        let stage = Stage::parse(&show.stage).ok_or_else(|| {
            Error::internal(anyhow::anyhow!("starter {} has an unknown stage", show.id))
        })?;
        Ok(Self {
            starter_id: show.id,
            prompt_id: show.prompt_id,
            stage: stage.into(),
            topic: Some(show.topic_slug).filter(|t| !t.is_empty()),
            attendee_id: show.other_id,
            used: show.used_at.is_some(),
            helpful: show.helpful,
            used_at: show.used_at.map(|t| t.and_utc()),
        })
    }
}

/// Marks a starter shown to me as used, and as helpful or not.
///
/// Organizers see the totals per prompt and topic (`GET …/prompt-stats`), never whose they are.
#[utoipa::path(
    tag = "starters",
    security(("bearer" = [])),
    params(("event_id" = String, Path, description = "The event's id."), ("starter_id" = String, Path, description = "A `starter_id` from a list of starters shown to the caller.")),
    request_body = FeedbackRequest,
    responses(
        (status = 200, description = "The starter's feedback now.", body = FeedbackResponse),
        (status = 400, description = "The body is malformed or has unknown fields (`malformed_json`, `invalid_body`).", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = UNAUTHORIZED, body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such event for the caller (`event_not_found`), or no starter with this id was shown to the caller (`starter_not_found`; also one no longer kept: past 1,000 per person in an event the oldest go, those with feedback last).", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "The body is too large (`payload_too_large`).", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "The body is not `application/json` (`unsupported_media_type`).", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Neither `used` nor `helpful` given, or `used: false` with `helpful` (`validation_failed`).", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many write requests (`rate_limited`); see `Retry-After`.", body = Problem, content_type = "application/problem+json",
            headers(("Retry-After" = u64, description = "Seconds to wait."))),
    )
)]
#[post("/events/{event_id}/starters/{starter_id}/feedback")]
pub async fn starter_feedback(
    state: web::Data<AppState>,
    user: AuthUser,
    path: web::Path<(String, String)>,
    body: Json<FeedbackRequest>,
) -> Result<HttpResponse> {
    let (event_id, starter_id) = path.into_inner();
    let FeedbackRequest { used, helpful } = body.into_inner();
    if used.is_none() && helpful.is_none() {
        return Err(Error::invalid_field("used", "send `used`, `helpful` or both"));
    }
    if used == Some(false) && helpful.is_some() {
        return Err(Error::invalid_field(
            "helpful",
            "a starter that was not used cannot be judged helpful or not",
        ));
    }
    state.limits.request(&user.account_id).await?;
    let change = FeedbackChange { used, helpful };
    let show = state
        .db
        .write(move |conn| record::feedback(conn, &event_id, &user.account_id, &starter_id, change))
        .await?;
    Ok(HttpResponse::Ok().json(FeedbackResponse::try_from(show)?))
}

#[cfg(test)]
mod tests {
    use crate::domain::topics::{LISTEN_FOR_LEN, MAX_FOLLOW_UPS, PROMPT_LEN};

    /// utoipa takes only literals in `#[schema(...)]`: the document must still say what the code
    /// checks.
    #[test]
    fn the_documented_bounds_are_the_checked_ones() {
        let document: serde_json::Value =
            serde_json::from_str(&crate::http::openapi_json()).unwrap();
        let schemas = &document["components"]["schemas"];
        let detailed = &schemas["DetailedPrompt"]["properties"];
        assert_eq!(detailed["text"]["minLength"], *PROMPT_LEN.start());
        assert_eq!(detailed["text"]["maxLength"], *PROMPT_LEN.end());
        assert_eq!(detailed["follow_ups"]["maxItems"], MAX_FOLLOW_UPS);
        assert_eq!(detailed["listen_for"]["minLength"], *LISTEN_FOR_LEN.start());
        assert_eq!(detailed["listen_for"]["maxLength"], *LISTEN_FOR_LEN.end());
        let path = &document["paths"]["/v1/events/{event_id}/attendees/{attendee_id}/starters"];
        let limit = path["get"]["parameters"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["name"] == "limit")
            .unwrap();
        assert_eq!(limit["schema"]["minimum"], 1);
        assert_eq!(limit["schema"]["maximum"], super::MAX_STARTERS);
    }
}
