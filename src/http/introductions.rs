//! Introductions in the app: `POST /v1/events/{event_id}/introductions`, `GET /v1/me/introductions`,
//! `POST /v1/introductions/{introduction_id}/responses`; blocks:
//! `POST, DELETE /v1/events/{event_id}/blocks/{attendee_id}`.

use actix_web::{HttpResponse, delete, get, post, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::connections::SharedProfile;
use super::{AuthUser, Json, pagination};
use crate::domain::introductions::list::{self, IntroductionView, Role};
use crate::domain::introductions::{self, Choice, MAX_NOTE, Outcome, Request};
use crate::domain::text::{self, Lines};
use crate::error::{Error, FieldError, Problem, Result};
use crate::startup::AppState;

const UNAUTHORIZED: &str =
    "No valid access token (`unauthenticated`, `token_expired`, `invalid_token`).";

/// One of the two people and the note written to them.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct IntroducedPerson {
    /// One of my connections in the event (their attendee id).
    pub attendee_id: String,
    /// My note to this person about the other ("Ana ran the migration you are about to start"),
    /// 1 to 500 characters.
    #[schema(min_length = 1, max_length = 500)]
    pub note: String,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateIntroductionRequest {
    /// Exactly two people.
    #[schema(min_items = 2, max_items = 2)]
    pub people: Vec<IntroducedPerson>,
}

/// An introduction as the caller sees it.
#[derive(Serialize, ToSchema)]
pub struct IntroductionResponse {
    pub introduction_id: String,
    pub event_id: String,
    /// `made` (I introduced) or `received` (I am one of the two).
    #[schema(example = "made")]
    pub role: String,
    /// `pending`, `accepted`, `expired`, or for the introducer `not_this_time` (a decline or an
    /// expiry: the introducer never learns which). A side never sees the other's decline.
    #[schema(example = "pending")]
    pub status: String,
    pub introducer: SharedProfile,
    /// For the introducer: both people; for one of the two: the other one. What each shares.
    pub people: Vec<SharedProfile>,
    /// The notes, in the order of `people` (to each of them from the introducer; for one of the
    /// two: the note written to me).
    pub notes: Vec<String>,
    /// My answer (`accepted` or `declined`), once I gave it; only for `received`.
    pub my_answer: Option<String>,
    pub created_at: DateTime<Utc>,
    /// When it expires unanswered (14 days after it was made).
    pub expires_at: DateTime<Utc>,
}

impl From<IntroductionView> for IntroductionResponse {
    fn from(v: IntroductionView) -> Self {
        Self {
            introduction_id: v.id,
            event_id: v.event_id,
            role: match v.role {
                Role::Made => "made",
                Role::Received => "received",
            }
            .to_owned(),
            status: v.status.to_owned(),
            introducer: v.introducer.into(),
            people: v.people.into_iter().map(SharedProfile::from).collect(),
            notes: v.notes,
            my_answer: v.my_answer,
            created_at: v.created_at.and_utc(),
            expires_at: v.expires_at.and_utc(),
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct IntroductionPage {
    pub items: Vec<IntroductionResponse>,
    pub next_cursor: Option<String>,
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct IntroductionQuery {
    /// Items per page, 1 to 100 (default 50).
    pub limit: Option<i64>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// The made introduction.
#[derive(Serialize, ToSchema)]
pub struct CreatedIntroduction {
    pub introduction_id: String,
    #[schema(example = "pending")]
    pub status: String,
    pub expires_at: DateTime<Utc>,
}

fn check_note(field: &str, raw: &str, errors: &mut Vec<FieldError>) -> String {
    let note = raw.trim();
    if note.is_empty() || note.chars().count() > MAX_NOTE {
        errors.push(FieldError::new(field, format!("must be 1 to {MAX_NOTE} characters")));
    } else if let Some(problem) = text::problem(note, Lines::Many) {
        errors.push(FieldError::new(field, problem));
    }
    note.to_owned()
}

/// Introduces two of my connections in the event, with a note to each.
///
/// Each gets an email (through the outbox) with my note, what the other shares, and two links
/// (accept, decline) that work without signing in for 14 days. Only when both accept do they
/// become each other's connections (introduced by me), each with a `meet` follow-up; all three
/// get an email then. A decline is never shown to the other side; I see it as `not_this_time`.
///
/// At most 20 introductions in 24 hours per person (429 `quota_exceeded`, counted in the database),
/// and the mail quotas of the account and the event (two emails each).
#[utoipa::path(
    tag = "introductions",
    security(("bearer" = [])),
    params(("event_id" = String, Path, description = "The event's id.")),
    request_body = CreateIntroductionRequest,
    responses(
        (status = 201, description = "The introduction; both emails are queued.", body = CreatedIntroduction),
        (status = 400, description = "The body is malformed or has unknown fields (`malformed_json`, `invalid_body`).", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = UNAUTHORIZED, body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such event for the caller (`event_not_found`).", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The two are connected already (`already_connected`), have an introduction waiting (`introduction_pending`), or cannot be introduced (`cannot_introduce`: one is closed to introductions, a block, or an earlier decline).", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "The body is over 64 KiB (`payload_too_large`).", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "The body is not `application/json` (`unsupported_media_type`).", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A field is not valid (`validation_failed`), one person twice (`cannot_introduce_to_themselves`), me (`cannot_introduce_yourself`), someone not of this event (`attendee_not_in_event`) or not my connection (`not_your_connection`).", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "20 introductions in 24 hours, or a mail quota, is used up (`quota_exceeded`); see `Retry-After`.", body = Problem, content_type = "application/problem+json",
            headers(("Retry-After" = u64, description = "Seconds to wait."))),
    )
)]
#[post("/events/{event_id}/introductions")]
pub async fn create_introduction(
    state: web::Data<AppState>,
    user: AuthUser,
    path: web::Path<String>,
    body: Json<CreateIntroductionRequest>,
) -> Result<HttpResponse> {
    let event_id = path.into_inner();
    let request = body.into_inner();
    let mut errors = Vec::new();
    let [first, second] = <[IntroducedPerson; 2]>::try_from(request.people).map_err(|_| {
        Error::validation(vec![FieldError::new("people", "must name exactly two people")])
    })?;
    let note_to_first = check_note("people[0].note", &first.note, &mut errors);
    let note_to_second = check_note("people[1].note", &second.note, &mut errors);
    if !errors.is_empty() {
        return Err(Error::validation(errors));
    }
    let request = Request {
        first: first.attendee_id,
        note_to_first,
        second: second.attendee_id,
        note_to_second,
    };
    let quotas = state.config.quotas;
    let url = state.config.public_url.clone();
    let made = state
        .db
        .write(move |conn| {
            introductions::introduce(conn, &quotas, &url, &event_id, &user.account_id, request)
        })
        .await?;
    state.outbox_wake.notify_one();
    Ok(HttpResponse::Created().json(CreatedIntroduction {
        introduction_id: made.id,
        status: "pending".to_owned(),
        expires_at: made.expires_at.and_utc(),
    }))
}

/// The introductions I made and those made to me, across events, newest first.
#[utoipa::path(
    tag = "introductions",
    security(("bearer" = [])),
    params(IntroductionQuery),
    responses(
        (status = 200, description = "A page of introductions.", body = IntroductionPage),
        (status = 400, description = "The query is malformed (`invalid_query`).", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = UNAUTHORIZED, body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`limit` or `cursor` is not valid (`validation_failed`).", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/me/introductions")]
pub async fn my_introductions(
    state: web::Data<AppState>,
    user: AuthUser,
    query: web::Query<IntroductionQuery>,
) -> Result<HttpResponse> {
    let query = query.into_inner();
    let (limit, cursor) = pagination::check(query.limit, query.cursor)?;
    let rows = state
        .db
        .read(move |conn| list::page(conn, &user.account_id, cursor.as_deref(), limit))
        .await?;
    let (rows, next_cursor) = pagination::split(rows, limit, |v| &v.id);
    Ok(HttpResponse::Ok().json(IntroductionPage {
        items: rows.into_iter().map(IntroductionResponse::from).collect(),
        next_cursor,
    }))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ResponseRequest {
    /// `accept` or `decline`.
    #[schema(example = "accept")]
    pub choice: String,
}

/// What my answer came to.
#[derive(Serialize, ToSchema)]
pub struct ResponseResult {
    /// `waiting` (recorded; not both accepted yet), `connected` (both accepted: we are
    /// connections now) or `declined`.
    #[schema(example = "waiting")]
    pub outcome: String,
}

pub fn outcome_name(outcome: Outcome) -> &'static str {
    match outcome {
        Outcome::Waiting => "waiting",
        Outcome::Connected => "connected",
        Outcome::Declined => "declined",
    }
}

/// Accepts or declines an introduction made to me: the same choice as the emailed links.
#[utoipa::path(
    tag = "introductions",
    security(("bearer" = [])),
    params(("introduction_id" = String, Path, description = "The introduction's id.")),
    request_body = ResponseRequest,
    responses(
        (status = 200, description = "The answer is recorded.", body = ResponseResult),
        (status = 400, description = "The body is malformed or has unknown fields (`malformed_json`, `invalid_body`).", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = UNAUTHORIZED, body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No introduction made to me has this id (`introduction_not_found`).", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "I answered already, or it expired (`introduction_answered`).", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "The body is over 64 KiB (`payload_too_large`).", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "The body is not `application/json` (`unsupported_media_type`).", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`choice` is neither `accept` nor `decline` (`validation_failed`).", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/introductions/{introduction_id}/responses")]
pub async fn respond(
    state: web::Data<AppState>,
    user: AuthUser,
    path: web::Path<String>,
    body: Json<ResponseRequest>,
) -> Result<HttpResponse> {
    let id = path.into_inner();
    let choice = Choice::parse(&body.into_inner().choice)
        .ok_or_else(|| Error::invalid_field("choice", "must be accept or decline"))?;
    let url = state.config.public_url.clone();
    let outcome = state
        .db
        .write(move |conn| introductions::respond(conn, &url, &user.account_id, &id, choice))
        .await?;
    state.outbox_wake.notify_one();
    Ok(HttpResponse::Ok().json(ResponseResult { outcome: outcome_name(outcome).to_owned() }))
}

/// Blocks a person of the event: they cannot introduce me or be introduced to me, and I to them.
/// Blocking twice is not an error.
#[utoipa::path(
    tag = "introductions",
    security(("bearer" = [])),
    params(("event_id" = String, Path, description = "The event's id."), ("attendee_id" = String, Path, description = "The person to block.")),
    responses(
        (status = 204, description = "Blocked."),
        (status = 401, description = UNAUTHORIZED, body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such event for the caller (`event_not_found`) or attendee in it (`attendee_not_found`).", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "That is me (`cannot_block_self`).", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/events/{event_id}/blocks/{attendee_id}")]
pub async fn block(
    state: web::Data<AppState>,
    user: AuthUser,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse> {
    let (event_id, attendee_id) = path.into_inner();
    state
        .db
        .write(move |conn| introductions::block(conn, &event_id, &user.account_id, &attendee_id))
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Lifts my block of a person; lifting one that is not there is not an error.
#[utoipa::path(
    tag = "introductions",
    security(("bearer" = [])),
    params(("event_id" = String, Path, description = "The event's id."), ("attendee_id" = String, Path, description = "The blocked person.")),
    responses(
        (status = 204, description = "Not blocked (any more)."),
        (status = 401, description = UNAUTHORIZED, body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such event for the caller (`event_not_found`).", body = Problem, content_type = "application/problem+json"),
    )
)]
#[delete("/events/{event_id}/blocks/{attendee_id}")]
pub async fn unblock(
    state: web::Data<AppState>,
    user: AuthUser,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse> {
    let (event_id, attendee_id) = path.into_inner();
    state
        .db
        .write(move |conn| introductions::unblock(conn, &event_id, &user.account_id, &attendee_id))
        .await?;
    Ok(HttpResponse::NoContent().finish())
}
