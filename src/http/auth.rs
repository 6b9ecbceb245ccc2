//! `/v1/auth`: sign in with an emailed code, refresh, sign out.

use actix_web::{HttpResponse, post, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{ClientIp, Json};
use crate::domain::{Email, auth, tokens::ACCESS_TOKEN_TTL};
use crate::error::{Error, Problem, Result};
use crate::startup::AppState;

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EmailCodeRequest {
    /// Where to send the code.
    #[schema(example = "ada@example.org")]
    pub email: String,
}

#[derive(Serialize, ToSchema)]
pub struct Accepted {
    pub detail: String,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TokenRequest {
    pub email: String,
    /// The six-digit code from the email.
    #[schema(example = "042917")]
    pub code: String,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RefreshRequest {
    pub refresh_token: String,
}

/// A signed-in session.
#[derive(Serialize, ToSchema)]
pub struct TokenResponse {
    /// Send as `Authorization: Bearer <access_token>`.
    pub access_token: String,
    /// Always `Bearer`.
    pub token_type: &'static str,
    /// Seconds until the access token expires.
    pub expires_in: i64,
    pub expires_at: DateTime<Utc>,
    /// Exchange at `/v1/auth/refresh` for a new pair; each refresh token works once.
    pub refresh_token: String,
    pub refresh_token_expires_at: DateTime<Utc>,
    pub account_id: String,
}

impl From<auth::Session> for TokenResponse {
    fn from(session: auth::Session) -> Self {
        Self {
            access_token: session.access_token,
            token_type: "Bearer",
            expires_in: ACCESS_TOKEN_TTL.num_seconds(),
            expires_at: session.access_expires_at,
            refresh_token: session.refresh_token,
            refresh_token_expires_at: session.refresh_expires_at,
            account_id: session.account_id,
        }
    }
}

pub(super) fn parse_email(raw: &str) -> Result<Email> {
    Email::parse(raw).map_err(|message| Error::invalid_field("email", message))
}

/// Emails a one-time sign-in code.
///
/// The answer is the same whether or not an account exists for the address; the first sign-in
/// creates the account. Earlier codes stay valid. In any 15 minutes, one client address may ask
/// for 5 codes for one email address and 30 over all addresses, and one email address is sent at
/// most 10 codes whoever asks.
#[utoipa::path(
    tag = "auth",
    request_body = EmailCodeRequest,
    responses(
        (status = 202, description = "A code is on its way (if the address can receive mail).", body = Accepted),
        (status = 400, description = "The body is not JSON of the expected shape (`malformed_json`, `invalid_body`).", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "The body is too large (`payload_too_large`).", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "The body is not `application/json` (`unsupported_media_type`).", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "The email address is not valid (`validation_failed`).", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many codes requested (`rate_limited`); see `Retry-After`.", body = Problem, content_type = "application/problem+json",
            headers(("Retry-After" = u64, description = "Seconds to wait before asking again."))),
    )
)]
#[post("/auth/email-codes")]
pub async fn request_code(
    state: web::Data<AppState>,
    ip: ClientIp,
    body: Json<EmailCodeRequest>,
) -> Result<HttpResponse> {
    let email = parse_email(&body.email)?;
    let app = state.clone();
    let per_client = state.config.sign_in_codes_per_client;
    state
        .db
        .write(move |conn| auth::request_code(conn, &email, &ip.0, &app.code_key, per_client))
        .await?;
    state.outbox_wake.notify_one();
    Ok(HttpResponse::Accepted().json(Accepted {
        detail: "If this address can receive email, a sign-in code is on its way.".to_owned(),
    }))
}

/// Exchanges an email address and its code for an access token and a refresh token.
///
/// A code works once and for 10 minutes; a code is checked against every live code of the
/// address. Wrong guesses are counted per client address and email address, not per code: in any
/// 15 minutes, one client address may make 5 wrong guesses for one email address and 30 over all
/// addresses, and one email address takes at most 10 wrong guesses from all clients together.
/// Beyond that, `429` with `Retry-After`, and the code is not checked.
#[utoipa::path(
    tag = "auth",
    request_body = TokenRequest,
    responses(
        (status = 200, description = "Signed in.", body = TokenResponse),
        (status = 400, description = "The code is wrong (`invalid_code`) or expired (`code_expired`); or the body is malformed (`malformed_json`, `invalid_body`).", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "The body is too large (`payload_too_large`).", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "The body is not `application/json` (`unsupported_media_type`).", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "The email address is not valid (`validation_failed`).", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many wrong codes from this client address or for this email address (`rate_limited`); see `Retry-After`.", body = Problem, content_type = "application/problem+json",
            headers(("Retry-After" = u64, description = "Seconds to wait before guessing again."))),
    )
)]
#[post("/auth/tokens")]
pub async fn exchange_code(
    state: web::Data<AppState>,
    ip: ClientIp,
    body: Json<TokenRequest>,
) -> Result<HttpResponse> {
    let email = parse_email(&body.email)?;
    let code = body.into_inner().code;
    let app = state.clone();
    let session = state
        .db
        .write(move |conn| {
            auth::exchange_code(conn, &email, &code, &ip.0, &app.keys, &app.code_key)
        })
        .await??;
    Ok(HttpResponse::Ok().json(TokenResponse::from(session)))
}

/// Exchanges a refresh token for a new access token and refresh token.
///
/// Each refresh token works once. Presenting a used one again revokes every token descended from
/// the same sign-in (the token was probably copied).
#[utoipa::path(
    tag = "auth",
    request_body = RefreshRequest,
    responses(
        (status = 200, description = "A new token pair.", body = TokenResponse),
        (status = 400, description = "The body is malformed (`malformed_json`, `invalid_body`).", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "The body is over 64 KiB (`payload_too_large`).", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "The refresh token is unknown, expired or revoked (`invalid_refresh_token`), or was used before (`refresh_token_reused`).", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "The body is not `application/json` (`unsupported_media_type`).", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/auth/refresh")]
pub async fn refresh(
    state: web::Data<AppState>,
    body: Json<RefreshRequest>,
) -> Result<HttpResponse> {
    let token = body.into_inner().refresh_token;
    let app = state.clone();
    let session = state.db.write(move |conn| auth::refresh(conn, &token, &app.keys)).await??;
    Ok(HttpResponse::Ok().json(TokenResponse::from(session)))
}

/// Signs out: revokes the refresh token and every token of its sign-in. Idempotent.
///
/// Access tokens already issued stay valid until they expire (at most 15 minutes).
#[utoipa::path(
    tag = "auth",
    request_body = RefreshRequest,
    responses(
        (status = 204, description = "Signed out."),
        (status = 400, description = "The body is malformed (`malformed_json`, `invalid_body`).", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "The body is over 64 KiB (`payload_too_large`).", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "The body is not `application/json` (`unsupported_media_type`).", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/auth/logout")]
pub async fn logout(
    state: web::Data<AppState>,
    body: Json<RefreshRequest>,
) -> Result<HttpResponse> {
    let token = body.into_inner().refresh_token;
    state.db.write(move |conn| auth::logout(conn, &token)).await?;
    Ok(HttpResponse::NoContent().finish())
}
