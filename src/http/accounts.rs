//! `/v1/me`: the signed-in person's account.

use actix_web::{HttpResponse, delete, get, patch, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Deserializer, Serialize};
use utoipa::ToSchema;

use super::{AuthUser, Json};
use crate::domain::accounts::{self, Account, Settings};
use crate::domain::events::{self, Checks};
use crate::domain::follow_ups::Digest;
use crate::error::{Problem, Result};
use crate::startup::AppState;

#[derive(Serialize, ToSchema)]
pub struct AccountResponse {
    pub id: String,
    pub email: String,
    pub display_name: Option<String>,
    /// The person's IANA time zone: what "due today" means, when digests go out. `UTC` until set.
    #[schema(example = "America/Los_Angeles")]
    pub time_zone: String,
    /// Whether a digest of due follow-ups is emailed: `none` (the default), `daily`, or `weekly`
    /// (Mondays).
    #[schema(value_type = DigestFrequency)]
    pub digest: String,
    /// The hour (0 to 23, in `time_zone`) the digest is sent at.
    pub digest_hour: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// How often a digest of due follow-ups is emailed.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
#[allow(dead_code)] // documents the values in the OpenAPI document; parsed by the domain
pub enum DigestFrequency {
    None,
    Daily,
    /// On Mondays.
    Weekly,
}

impl From<Account> for AccountResponse {
    fn from(account: Account) -> Self {
        Self {
            id: account.id,
            email: account.email,
            display_name: account.display_name,
            time_zone: account.time_zone,
            digest: account.digest,
            digest_hour: account.digest_hour,
            created_at: account.created_at.and_utc(),
            updated_at: account.updated_at.and_utc(),
        }
    }
}

/// Fields to change; a field left out stays as it is.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PatchAccountRequest {
    /// 1 to 100 characters; `null` clears it.
    #[serde(default, deserialize_with = "some")]
    #[schema(value_type = Option<String>, max_length = 100)]
    pub display_name: Option<Option<String>>,
    /// An IANA time zone name such as `Europe/Berlin` (apps send the device's). Follow-ups due on
    /// a date stay due on that day.
    #[schema(example = "Europe/Berlin")]
    pub time_zone: Option<String>,
    /// `none`, `daily` or `weekly` (Mondays): an email listing what is due today and overdue, at
    /// most one a period, none when nothing is due.
    #[schema(value_type = Option<DigestFrequency>)]
    pub digest: Option<String>,
    /// The hour of the digest in `time_zone`, 0 to 23 (default 8).
    #[serde(default, deserialize_with = "super::whole::option")]
    pub digest_hour: Option<i64>,
}

/// Tells a field sent as `null` (`Some(None)`) from a field left out (`None`).
pub(super) fn some<'de, T: Deserialize<'de>, D: Deserializer<'de>>(
    d: D,
) -> Result<Option<T>, D::Error> {
    T::deserialize(d).map(Some)
}

/// The signed-in account.
#[utoipa::path(
    tag = "account",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The account.", body = AccountResponse),
        (status = 401, description = "No valid access token (`unauthenticated`, `token_expired`, `invalid_token`).", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/me")]
pub async fn get_me(state: web::Data<AppState>, user: AuthUser) -> Result<HttpResponse> {
    let account = state.db.read(move |conn| accounts::find(conn, &user.account_id)).await?;
    Ok(HttpResponse::Ok().json(AccountResponse::from(account)))
}

/// Changes the signed-in account: its display name, time zone and digest email.
#[utoipa::path(
    tag = "account",
    security(("bearer" = [])),
    request_body = PatchAccountRequest,
    responses(
        (status = 200, description = "The changed account.", body = AccountResponse),
        (status = 400, description = "The body is malformed or has unknown fields (`malformed_json`, `invalid_body`).", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "The body is over 64 KiB (`payload_too_large`).", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid access token (`unauthenticated`, `token_expired`, `invalid_token`).", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "The body is not `application/json` (`unsupported_media_type`).", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A field is not valid (`validation_failed`).", body = Problem, content_type = "application/problem+json"),
    )
)]
#[patch("/me")]
pub async fn patch_me(
    state: web::Data<AppState>,
    user: AuthUser,
    body: Json<PatchAccountRequest>,
) -> Result<HttpResponse> {
    let request = body.into_inner();
    let mut checks = Checks::default();
    let settings = Settings {
        display_name: match &request.display_name {
            Some(name) => Some(accounts::parse_display_name(name.as_deref())?),
            None => None,
        },
        time_zone: request
            .time_zone
            .as_deref()
            .and_then(|zone| checks.check("time_zone", events::parse_time_zone(zone))),
        digest: request.digest.as_deref().and_then(|raw| {
            checks.check(
                "digest",
                Digest::parse(raw).ok_or_else(|| format!("must be one of {}", Digest::choices())),
            )
        }),
        digest_hour: request
            .digest_hour
            .and_then(|hour| checks.check("digest_hour", accounts::parse_digest_hour(hour))),
    };
    checks.finish()?;
    let account =
        state.db.write(move |conn| accounts::update(conn, &user.account_id, settings)).await?;
    Ok(HttpResponse::Ok().json(AccountResponse::from(account)))
}

/// Deletes the signed-in account with all its event memberships, badges, connections (the other
/// people's sides of them too), notes and tokens. Access tokens already issued stop working. The
/// other people's devices learn of it by delta sync: a tombstone keeps the former `attendee_id`
/// and their owner's own record of the meeting (when, how often), nothing of the profile.
#[utoipa::path(
    tag = "account",
    security(("bearer" = [])),
    responses(
        (status = 204, description = "The account is gone."),
        (status = 401, description = "No valid access token (`unauthenticated`, `token_expired`, `invalid_token`).", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The account is the only organizer of an event (`sole_organizer`).", body = Problem, content_type = "application/problem+json"),
    )
)]
#[delete("/me")]
pub async fn delete_me(state: web::Data<AppState>, user: AuthUser) -> Result<HttpResponse> {
    state.db.write(move |conn| accounts::delete(conn, &user.account_id)).await?;
    Ok(HttpResponse::NoContent().finish())
}
