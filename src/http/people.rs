//! People to meet, introduction suggestions and the hub's view:
//! `GET /v1/events/{event_id}/people-to-meet`, `POST …/people-to-meet/{attendee_id}/dismissal`,
//! `GET /v1/events/{event_id}/introduction-suggestions`, `GET /v1/me/network`.

use actix_web::{HttpResponse, get, post, web};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::connections::SharedProfile;
use super::{AuthUser, pagination};
use crate::domain::introductions::people::{self, Reason};
use crate::domain::introductions::suggestions as suggested;
use crate::error::{Error, Problem, Result};
use crate::startup::AppState;

const UNAUTHORIZED: &str =
    "No valid access token (`unauthenticated`, `token_expired`, `invalid_token`).";

/// Why someone fits, in words, with the topics behind it (slugs).
#[derive(Serialize, ToSchema)]
pub struct ReasonResponse {
    /// `can_talk_about_what_you_want_to_learn`, `wants_to_learn_what_you_can_talk_about` or
    /// `shared_topics`, in this order of weight.
    #[schema(example = "can_talk_about_what_you_want_to_learn")]
    pub kind: String,
    pub topics: Vec<String>,
    #[schema(example = "They can talk about rust, which you want to learn")]
    pub text: String,
}

impl From<Reason> for ReasonResponse {
    fn from(r: Reason) -> Self {
        Self { kind: r.kind.to_owned(), topics: r.topics, text: r.text }
    }
}

#[derive(Serialize, ToSchema)]
pub struct PersonToMeet {
    /// What they share with the people they are connected with.
    pub person: SharedProfile,
    pub reasons: Vec<ReasonResponse>,
}

#[derive(Serialize, ToSchema)]
pub struct PeoplePage {
    pub items: Vec<PersonToMeet>,
    pub next_cursor: Option<String>,
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RankedQuery {
    /// Items per page, 1 to 100 (default 50).
    pub limit: Option<i64>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// Checks `limit` like every list, and a cursor of one or two ids (`{id}` or `{id}.{id}`).
fn check(query: RankedQuery) -> Result<(i64, Option<String>)> {
    let (limit, _) = pagination::check(query.limit, None)?;
    if let Some(cursor) = &query.cursor
        && !cursor.split('.').all(|part| uuid::Uuid::parse_str(part).is_ok())
    {
        return Err(Error::invalid_field("cursor", "is not a cursor this API returned"));
    }
    Ok((limit, query.cursor))
}

/// Members of the event in the directory whom I might meet, ranked: first those who can talk
/// about what I want to learn, then those who want to learn what I can talk about, then shared
/// topics; each with its reasons. Never my connections, people out of the directory, people I
/// dismissed, or a block either way. Stable for the same inputs.
#[utoipa::path(
    tag = "introductions",
    security(("bearer" = [])),
    params(("event_id" = String, Path, description = "The event's id."), RankedQuery),
    responses(
        (status = 200, description = "A page of people, best fit first.", body = PeoplePage),
        (status = 400, description = "The query is malformed (`invalid_query`).", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = UNAUTHORIZED, body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such event for the caller (`event_not_found`).", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`limit` or `cursor` is not valid (`validation_failed`).", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/events/{event_id}/people-to-meet")]
pub async fn people_to_meet(
    state: web::Data<AppState>,
    user: AuthUser,
    path: web::Path<String>,
    query: web::Query<RankedQuery>,
) -> Result<HttpResponse> {
    let event_id = path.into_inner();
    let (limit, cursor) = check(query.into_inner())?;
    let rows = state
        .db
        .read(move |conn| {
            people::people_to_meet(conn, &event_id, &user.account_id, cursor.as_deref(), limit)
        })
        .await?;
    let (rows, next_cursor) = pagination::split(rows, limit, |c| &c.person.attendee_id);
    Ok(HttpResponse::Ok().json(PeoplePage {
        items: rows
            .into_iter()
            .map(|c| PersonToMeet {
                person: c.person.into(),
                reasons: c.reasons.into_iter().map(ReasonResponse::from).collect(),
            })
            .collect(),
        next_cursor,
    }))
}

/// Takes a person off my people-to-meet list for good. Dismissing twice is not an error.
#[utoipa::path(
    tag = "introductions",
    security(("bearer" = [])),
    params(("event_id" = String, Path, description = "The event's id."), ("attendee_id" = String, Path, description = "The person.")),
    responses(
        (status = 204, description = "Dismissed."),
        (status = 401, description = UNAUTHORIZED, body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such event for the caller (`event_not_found`) or attendee in it (`attendee_not_found`).", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/events/{event_id}/people-to-meet/{attendee_id}/dismissal")]
pub async fn dismiss(
    state: web::Data<AppState>,
    user: AuthUser,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse> {
    let (event_id, attendee_id) = path.into_inner();
    state
        .db
        .write(move |conn| people::dismiss(conn, &event_id, &user.account_id, &attendee_id))
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

#[derive(Serialize, ToSchema)]
pub struct SuggestionResponse {
    pub first: SharedProfile,
    pub second: SharedProfile,
    /// Why `second` fits `first` (in words for `first`).
    pub reasons_for_first: Vec<ReasonResponse>,
    /// Why `first` fits `second`.
    pub reasons_for_second: Vec<ReasonResponse>,
}

#[derive(Serialize, ToSchema)]
pub struct SuggestionPage {
    pub items: Vec<SuggestionResponse>,
    pub next_cursor: Option<String>,
}

/// Pairs of my connections in the event to introduce: not connected to each other, never
/// introduced (an expired introduction aside), both open to introductions, no block among the
/// three; ranked by the same topic fit, both ways. Only what each shares with me is used.
#[utoipa::path(
    tag = "introductions",
    security(("bearer" = [])),
    params(("event_id" = String, Path, description = "The event's id."), RankedQuery),
    responses(
        (status = 200, description = "A page of pairs, best fit first.", body = SuggestionPage),
        (status = 400, description = "The query is malformed (`invalid_query`).", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = UNAUTHORIZED, body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such event for the caller (`event_not_found`).", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`limit` or `cursor` is not valid (`validation_failed`).", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/events/{event_id}/introduction-suggestions")]
pub async fn suggestions(
    state: web::Data<AppState>,
    user: AuthUser,
    path: web::Path<String>,
    query: web::Query<RankedQuery>,
) -> Result<HttpResponse> {
    let event_id = path.into_inner();
    let (limit, cursor) = check(query.into_inner())?;
    let rows = state
        .db
        .read(move |conn| {
            suggested::page(conn, &event_id, &user.account_id, cursor.as_deref(), limit)
        })
        .await?;
    let keys: Vec<String> = rows.iter().map(|s| s.key()).collect();
    let more = rows.len() > usize::try_from(limit).unwrap_or(usize::MAX);
    let take = usize::try_from(limit).unwrap_or(usize::MAX);
    let next_cursor = if more { keys.get(take - 1).cloned() } else { None };
    Ok(HttpResponse::Ok().json(SuggestionPage {
        items: rows
            .into_iter()
            .take(take)
            .map(|s| SuggestionResponse {
                first: s.first.into(),
                second: s.second.into(),
                reasons_for_first: s
                    .reasons_for_first
                    .into_iter()
                    .map(ReasonResponse::from)
                    .collect(),
                reasons_for_second: s
                    .reasons_for_second
                    .into_iter()
                    .map(ReasonResponse::from)
                    .collect(),
            })
            .collect(),
        next_cursor,
    }))
}

/// The hub's view, across my events.
#[derive(Serialize, ToSchema)]
pub struct NetworkResponse {
    /// My live connections.
    pub connections: i64,
    pub introductions_made: i64,
    /// Of those, accepted by both.
    pub introductions_accepted: i64,
    /// Introductions in which I was one of the two.
    pub introductions_received: i64,
    /// Follow-ups I completed by the end of their due day.
    pub follow_ups_completed_on_time: i64,
    /// Connections I keep a cadence with.
    pub kept_in_touch: i64,
}

/// My network across events: connections made, introductions made, accepted and received,
/// follow-ups completed on time, and the people I keep in touch with.
#[utoipa::path(
    tag = "introductions",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The counts.", body = NetworkResponse),
        (status = 401, description = UNAUTHORIZED, body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/me/network")]
pub async fn network(state: web::Data<AppState>, user: AuthUser) -> Result<HttpResponse> {
    let n = state.db.read(move |conn| people::network(conn, &user.account_id)).await?;
    Ok(HttpResponse::Ok().json(NetworkResponse {
        connections: n.connections,
        introductions_made: n.introductions_made,
        introductions_accepted: n.introductions_accepted,
        introductions_received: n.introductions_received,
        follow_ups_completed_on_time: n.follow_ups_completed_on_time,
        kept_in_touch: n.kept_in_touch,
    }))
}
