//! Extractors: the signed-in account, the client address, and problem+json for bad bodies.

use std::future::{Future, Ready, ready};
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::error::{JsonPayloadError, PathError, QueryPayloadError, UrlencodedError};
use actix_web::http::header;
use actix_web::{FromRequest, HttpRequest, web};
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use super::MAX_JSON_BODY;
use crate::domain::accounts;
use crate::error::{Error, ErrorCode};
use crate::startup::AppState;

/// The account that signed the request's bearer token, checked to still exist: the token of a
/// deleted account (it lives up to 15 minutes) is refused with 401 `invalid_token`. The check is
/// one primary-key lookup; see [`TokenUser`] for the hot routes that fold it into their own query.
pub struct AuthUser {
    pub account_id: String,
}

impl FromRequest for AuthUser {
    type Error = Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Error>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let verified = authenticate(req);
        let state = req.app_data::<web::Data<AppState>>().cloned();
        Box::pin(async move {
            let TokenUser { account_id } = verified?;
            let state = state.ok_or_else(state_missing)?;
            let id = account_id.clone();
            state.db.read(move |conn| accounts::ensure_exists(conn, &id)).await?;
            Ok(Self { account_id })
        })
    }
}

/// The account named by a valid bearer token, not yet checked to exist. Only for hot routes whose
/// first query is the caller's membership of the event: memberships go with their account, so
/// that query finds nothing for a deleted account, and the route must then answer
/// `accounts::gone_or(..)` (401 `invalid_token` for a deleted account) rather than its not-found
/// error. That costs no extra query when the membership is found.
pub struct TokenUser {
    pub account_id: String,
}

impl FromRequest for TokenUser {
    type Error = Error;
    type Future = Ready<Result<Self, Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(authenticate(req))
    }
}

fn state_missing() -> Error {
    Error::internal(anyhow::anyhow!("application state missing"))
}

fn authenticate(req: &HttpRequest) -> Result<TokenUser, Error> {
    let state = req.app_data::<web::Data<AppState>>().ok_or_else(state_missing)?;
    let token = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.strip_prefix("Bearer ").or_else(|| value.strip_prefix("bearer ")))
        .ok_or_else(|| {
            Error::unauthorized(
                ErrorCode::Unauthenticated,
                "Send an access token: `Authorization: Bearer <token>`.",
            )
        })?;
    let account_id = state.keys.verify(token.trim())?;
    Ok(TokenUser { account_id })
}

/// The client's address, as the TCP peer (Hallway does not trust forwarding headers).
pub struct ClientIp(pub String);

impl FromRequest for ClientIp {
    type Error = Error;
    type Future = Ready<Result<Self, Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let ip = req.peer_addr().map_or_else(|| "unknown".to_owned(), |addr| addr.ip().to_string());
        ready(Ok(Self(ip)))
    }
}

/// A JSON request body that must be an object, deserialized into `T`.
///
/// Unlike `web::Json`, a top-level array never passes for a struct (serde would accept
/// `["a@example.org"]` as `{"email": "a@example.org"}`).
pub struct Json<T>(pub T);

impl<T> Json<T> {
    pub fn into_inner(self) -> T {
        self.0
    }
}

impl<T> std::ops::Deref for Json<T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.0
    }
}

impl<T: DeserializeOwned + 'static> FromRequest for Json<T> {
    type Error = actix_web::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let object = web::Json::<Map<String, Value>>::from_request(req, payload);
        Box::pin(async move {
            let object = object.await?.into_inner();
            T::deserialize(Value::Object(object)).map(Json).map_err(|e| {
                Error::bad_request(
                    ErrorCode::InvalidBody,
                    format!("The body does not have the expected shape: {e}."),
                )
                .into()
            })
        })
    }
}

pub fn json_config() -> web::JsonConfig {
    web::JsonConfig::default()
        .limit(MAX_JSON_BODY)
        .error_handler(|error, _| json_error(&error).into())
}

fn json_error(error: &JsonPayloadError) -> Error {
    use actix_web::http::StatusCode;
    match error {
        JsonPayloadError::ContentType => Error::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ErrorCode::UnsupportedMediaType,
            "Send the body as JSON with `Content-Type: application/json`.",
        ),
        JsonPayloadError::OverflowKnownLength { .. } | JsonPayloadError::Overflow { .. } => {
            Error::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                ErrorCode::PayloadTooLarge,
                format!("The body is larger than the limit of {MAX_JSON_BODY} bytes."),
            )
        }
        JsonPayloadError::Deserialize(e) if e.is_data() => Error::bad_request(
            ErrorCode::InvalidBody,
            format!("The body does not have the expected shape: {e}."),
        ),
        JsonPayloadError::Deserialize(e) => Error::bad_request(
            ErrorCode::MalformedJson,
            format!("The body is not valid JSON: {e}."),
        ),
        other => Error::bad_request(
            ErrorCode::MalformedJson,
            format!("The body could not be read: {other}."),
        ),
    }
}

pub fn path_config() -> web::PathConfig {
    web::PathConfig::default().error_handler(|error: PathError, _| {
        Error::bad_request(ErrorCode::InvalidPath, format!("The path is not valid: {error}."))
            .into()
    })
}

pub fn query_config() -> web::QueryConfig {
    web::QueryConfig::default().error_handler(|error: QueryPayloadError, _| {
        Error::bad_request(
            ErrorCode::InvalidQuery,
            format!("The query string is not valid: {error}."),
        )
        .into()
    })
}

/// Forms (the introduction links' page) answer problem+json too, not actix's plain text.
pub fn form_config() -> web::FormConfig {
    web::FormConfig::default().error_handler(|error: UrlencodedError, _| {
        match error {
            UrlencodedError::ContentType => Error::new(
                actix_web::http::StatusCode::UNSUPPORTED_MEDIA_TYPE,
                ErrorCode::UnsupportedMediaType,
                "Send the form as `application/x-www-form-urlencoded`.",
            ),
            UrlencodedError::Overflow { .. } => Error::new(
                actix_web::http::StatusCode::PAYLOAD_TOO_LARGE,
                ErrorCode::PayloadTooLarge,
                "The form is too large.",
            ),
            other => Error::bad_request(
                ErrorCode::InvalidBody,
                format!("The form is not valid: {other}."),
            ),
        }
        .into()
    })
}
