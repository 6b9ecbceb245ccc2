//! Access tokens: short-lived HS256 JWTs naming the account.

use chrono::{DateTime, Duration, Utc};
use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation, decode, encode};
use serde::{Deserialize, Serialize};

use crate::error::Error;

/// The audience every Hallway access token is issued for; a token for another audience is refused.
pub const AUDIENCE: &str = "hallway-api";
pub const ISSUER: &str = "hallway";
/// How long an access token lives. Clients refresh it with their refresh token.
pub const ACCESS_TOKEN_TTL: Duration = Duration::minutes(15);

#[derive(Debug, Serialize, Deserialize)]
pub struct Claims {
    /// The account id.
    pub sub: String,
    pub aud: String,
    pub iss: String,
    pub iat: i64,
    pub exp: i64,
}

/// Signs and verifies access tokens with the configured secret.
pub struct TokenKeys {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
}

impl TokenKeys {
    pub fn new(secret: &[u8]) -> Self {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_audience(&[AUDIENCE]);
        validation.set_issuer(&[ISSUER]);
        validation.set_required_spec_claims(&["exp", "aud", "iss", "sub"]);
        validation.leeway = 5;
        Self {
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
            validation,
        }
    }

    /// A token for `account_id`, valid from `now` for [`ACCESS_TOKEN_TTL`].
    pub fn issue(&self, account_id: &str, now: DateTime<Utc>) -> Result<String, Error> {
        let claims = Claims {
            sub: account_id.to_owned(),
            aud: AUDIENCE.to_owned(),
            iss: ISSUER.to_owned(),
            iat: now.timestamp(),
            exp: (now + ACCESS_TOKEN_TTL).timestamp(),
        };
        encode(&Header::new(Algorithm::HS256), &claims, &self.encoding).map_err(Error::internal)
    }

    /// The account id of a valid token; `token_expired` or `invalid_token` otherwise.
    pub fn verify(&self, token: &str) -> Result<String, Error> {
        match decode::<Claims>(token, &self.decoding, &self.validation) {
            Ok(data) => Ok(data.claims.sub),
            Err(error) if matches!(error.kind(), ErrorKind::ExpiredSignature) => Err(
                Error::unauthorized("token_expired", "The access token has expired: refresh it."),
            ),
            Err(_) => Err(Error::unauthorized("invalid_token", "The access token is not valid.")),
        }
    }
}
