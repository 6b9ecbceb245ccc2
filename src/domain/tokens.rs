//! Access tokens: short-lived HS256 JWTs naming the account.

use chrono::{DateTime, Duration, Utc};
use hmac::{Hmac, Mac};
use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation, decode, encode};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

use crate::error::{Error, ErrorCode};

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

/// What the key that signs access tokens is derived for (see [`derive_key`]).
pub const JWT_SIGNING: &str = "hallway/v1/access-token-signing";
/// What the key that hashes sign-in codes is derived for (see [`derive_key`]).
pub const CODE_HASHING: &str = "hallway/v1/sign-in-code-hashing";

/// A key for one purpose, derived from the configured secret: HMAC-SHA256 keyed by the secret over
/// the purpose's label. Each use of the secret gets its own key, so that what one use reveals (a
/// signed token, for an attacker to brute-force) says nothing of another (the stored code hashes).
pub fn derive_key(secret: &[u8], purpose: &str) -> [u8; 32] {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(secret)
        .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"));
    mac.update(purpose.as_bytes());
    mac.finalize().into_bytes().into()
}

/// Signs and verifies access tokens with a key derived from the configured secret.
pub struct TokenKeys {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
}

impl TokenKeys {
    /// Keys for the configured secret; the signing key is derived from it ([`JWT_SIGNING`]).
    pub fn new(secret: &[u8]) -> Self {
        let key = derive_key(secret, JWT_SIGNING);
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_audience(&[AUDIENCE]);
        validation.set_issuer(&[ISSUER]);
        validation.set_required_spec_claims(&["exp", "aud", "iss", "sub"]);
        validation.leeway = 5;
        Self {
            encoding: EncodingKey::from_secret(&key),
            decoding: DecodingKey::from_secret(&key),
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
            Err(error) if matches!(error.kind(), ErrorKind::ExpiredSignature) => {
                Err(Error::unauthorized(
                    ErrorCode::TokenExpired,
                    "The access token has expired: refresh it.",
                ))
            }
            Err(_) => {
                Err(Error::unauthorized(ErrorCode::InvalidToken, "The access token is not valid."))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_purpose_gets_its_own_key_and_none_is_the_secret() {
        let secret = b"a-secret-that-is-long-enough-for-hallway";
        let jwt = derive_key(secret, JWT_SIGNING);
        let codes = derive_key(secret, CODE_HASHING);
        assert_ne!(jwt, codes);
        assert_ne!(&jwt[..], &secret[..32]);
        assert_eq!(jwt, derive_key(secret, JWT_SIGNING), "the same secret gives the same key");
        assert_ne!(jwt, derive_key(b"another-secret-that-is-long-enough-too", JWT_SIGNING));
    }

    #[test]
    fn a_token_signed_with_the_raw_secret_is_refused() {
        let secret = b"a-secret-that-is-long-enough-for-hallway";
        let keys = TokenKeys::new(secret);
        let now = Utc::now();
        let token = keys.issue("account", now).unwrap();
        assert_eq!(keys.verify(&token).unwrap(), "account");
        let claims = Claims {
            sub: "account".to_owned(),
            aud: AUDIENCE.to_owned(),
            iss: ISSUER.to_owned(),
            iat: now.timestamp(),
            exp: (now + ACCESS_TOKEN_TTL).timestamp(),
        };
        let raw =
            encode(&Header::new(Algorithm::HS256), &claims, &EncodingKey::from_secret(secret))
                .unwrap();
        assert!(keys.verify(&raw).is_err());
    }
}
