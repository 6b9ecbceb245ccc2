//! Passwordless sign-in: emailed one-time codes, exchanged for an access token and a rotating
//! refresh token.

use chrono::{DateTime, Duration, NaiveDateTime, Utc};
use hmac::{Hmac, Mac};
use rand::{Rng, RngCore};
use sha2::{Digest, Sha256};

use super::Email;
use super::accounts;
use super::tokens::{ACCESS_TOKEN_TTL, CODE_HASHING, TokenKeys, derive_key};
use crate::db::{self, DbConn, auth as store};
use crate::error::{Error, ErrorCode, Result};
use crate::mail;

/// How long an emailed code stays valid.
pub const CODE_TTL: Duration = Duration::minutes(10);
/// The window over which code requests and wrong guesses are counted.
pub const WINDOW: Duration = Duration::minutes(15);
/// Codes one client address may request for one email address per window.
pub const CODES_PER_EMAIL_AND_CLIENT: usize = 5;
/// Codes one client address may request per window, over all email addresses, in production
/// (`HALLWAY_SIGN_IN_CODES_PER_CLIENT`).
pub const CODES_PER_CLIENT: usize = 30;
/// The same in development, where every request comes from loopback: a developer trying the API
/// for an hour should not meet it.
pub const CODES_PER_CLIENT_IN_DEVELOPMENT: usize = 1_000;
/// Codes one email address may be sent per window, from all client addresses together: this
/// bounds the mail one inbox gets, and the live codes a guess can hit (see [`exchange_code`]).
/// Above [`CODES_PER_EMAIL_AND_CLIENT`], so that one client alone cannot exhaust it for the owner.
pub const CODES_PER_EMAIL: usize = 10;
/// Wrong guesses one client address may make for one email address per window.
pub const GUESSES_PER_EMAIL_AND_CLIENT: usize = 5;
/// Wrong guesses one client address may make per window, over all email addresses.
pub const GUESSES_PER_CLIENT: usize = 30;
/// Wrong guesses for one email address per window from all client addresses together: bounds a
/// guesser spread over many addresses. Above [`GUESSES_PER_EMAIL_AND_CLIENT`], so that one client
/// alone cannot exhaust it for the owner.
pub const GUESSES_PER_EMAIL: usize = 10;
/// How long a refresh token (and so a signed-in device) lives without being used.
pub const REFRESH_TOKEN_TTL: Duration = Duration::days(30);

/// The key sign-in codes are hashed with, derived from the configured secret (not the JWT key).
pub struct CodeKey([u8; 32]);

impl CodeKey {
    pub fn new(secret: &[u8]) -> Self {
        Self(derive_key(secret, CODE_HASHING))
    }
}

/// What a successful sign-in or refresh hands to the client.
#[derive(Debug)]
pub struct Session {
    pub account_id: String,
    pub access_token: String,
    pub access_expires_at: DateTime<Utc>,
    pub refresh_token: String,
    pub refresh_expires_at: DateTime<Utc>,
}

/// Records a new code for `email` and queues the email that carries it, unless `client_ip` has
/// asked for too many codes for `email` or for all addresses, or `email` has been sent too many
/// lately. Earlier codes stay valid. Whether an account exists is not consulted: the answer is the
/// same either way.
pub fn request_code(
    conn: &mut DbConn,
    email: &Email,
    client_ip: &str,
    key: &CodeKey,
    codes_per_client: usize,
) -> Result<()> {
    store::lock_sign_in(conn, email.as_str(), client_ip)?;
    let now = db::now();
    let since = now - WINDOW;
    let for_email = store::code_requests_for_email(conn, email.as_str(), since)?;
    let (from_client, all): (Vec<_>, Vec<_>) = split_by_client(&for_email, client_ip);
    let codes = "sign-in codes were requested";
    check_rate(&from_client, CODES_PER_EMAIL_AND_CLIENT, now, codes, "this email address here")?;
    let by_ip = store::code_times_for_ip(conn, client_ip, since)?;
    check_rate(&by_ip, codes_per_client, now, codes, "this network address")?;
    check_rate(&all, CODES_PER_EMAIL, now, codes, "this email address")?;

    let code = format!("{:06}", rand::rng().random_range(0..1_000_000));
    let code_hash = hash_code(key, email, &code);
    store::insert_code(
        conn,
        &store::NewEmailCode {
            id: &db::new_id(),
            email: email.as_str(),
            code_hash: &code_hash,
            client_ip,
            attempts: 0,
            created_at: now,
            expires_at: now + CODE_TTL,
        },
    )?;
    let message = mail::templates::sign_in_code(email, &code, CODE_TTL.num_minutes());
    mail::queue(conn, &message, mail::Origin::default())?;
    Ok(())
}

/// The times of `events` (oldest first) from `client_ip`, and the times of all of them.
fn split_by_client(
    events: &[(NaiveDateTime, String)],
    client_ip: &str,
) -> (Vec<NaiveDateTime>, Vec<NaiveDateTime>) {
    let mine = events.iter().filter(|(_, ip)| ip == client_ip).map(|(at, _)| *at).collect();
    (mine, events.iter().map(|(at, _)| *at).collect())
}

/// Refuses with 429 when `times` (oldest first) already holds `limit` events in the window.
fn check_rate(
    times: &[NaiveDateTime],
    limit: usize,
    now: NaiveDateTime,
    what: &str,
    whom: &str,
) -> Result<()> {
    if times.len() < limit {
        return Ok(());
    }
    let frees_at = times[times.len() - limit] + WINDOW;
    let retry_after = (frees_at - now).num_seconds() + 1;
    Err(Error::rate_limited(
        u64::try_from(retry_after).unwrap_or(1),
        format!("Too many {what} for {whom}; try again later."),
    ))
}

/// Exchanges an emailed code for a session, creating the account on first sign-in.
///
/// Wrong guesses are counted per email and client address, not per code: a guess is checked
/// against every live code of `email` and counts once. A client over its budget (or an email
/// over its own) is refused with 429 before its guess is checked. A wrong guess is recorded,
/// which must commit: see the module doc of `domain` for the `Ok(Err(..))` convention.
pub fn exchange_code(
    conn: &mut DbConn,
    email: &Email,
    code: &str,
    client_ip: &str,
    keys: &TokenKeys,
    key: &CodeKey,
) -> Result<Result<Session>> {
    store::lock_sign_in(conn, email.as_str(), client_ip)?;
    let now = db::now();
    let since = now - WINDOW;
    let failures = store::failures_for_email(conn, email.as_str(), since)?;
    let (from_client, all) = split_by_client(&failures, client_ip);
    let guesses = "wrong sign-in codes were tried";
    check_rate(
        &from_client,
        GUESSES_PER_EMAIL_AND_CLIENT,
        now,
        guesses,
        "this email address here",
    )?;
    let by_ip = store::failure_times_for_ip(conn, client_ip, since)?;
    check_rate(&by_ip, GUESSES_PER_CLIENT, now, guesses, "this network address")?;
    check_rate(&all, GUESSES_PER_EMAIL, now, guesses, "this email address")?;

    let codes = store::recent_codes(conn, email.as_str(), now - CODE_TTL - Duration::days(1))?;
    let unconsumed: Vec<_> = codes.iter().filter(|c| c.consumed_at.is_none()).collect();
    let candidate = hash_code(key, email, code.trim());
    let live = unconsumed.iter().filter(|c| c.expires_at > now);
    if live.clone().any(|c| constant_time_eq(c.code_hash.as_bytes(), candidate.as_bytes())) {
        if store::consume_codes(conn, email.as_str(), now)? == 0 {
            // A concurrent exchange of the same code won the race.
            return Ok(Err(invalid_code()));
        }
        let account = accounts::find_or_create(conn, email)?;
        crate::db::accounts::record_sign_in(conn, &account.id, now)?;
        return start_session(conn, &account.id, None, keys).map(Ok);
    }
    store::insert_failure(conn, &db::new_id(), email.as_str(), client_ip, now)?;
    let rejection = match unconsumed.first() {
        Some(newest) if live.count() == 0 && newest.expires_at <= now => {
            Error::bad_request(ErrorCode::CodeExpired, "The code has expired: request a new one.")
        }
        _ => invalid_code(),
    };
    Ok(Err(rejection))
}

fn invalid_code() -> Error {
    Error::bad_request(ErrorCode::InvalidCode, "The code is not valid for this email address.")
}

/// Issues an access token and a refresh token; `family` continues a rotation chain.
fn start_session(
    conn: &mut DbConn,
    account_id: &str,
    family: Option<&str>,
    keys: &TokenKeys,
) -> Result<Session> {
    let now = db::now();
    let now_utc = now.and_utc();
    let refresh_token = random_token();
    let refresh_expires_at = now + REFRESH_TOKEN_TTL;
    let family_id = family.map_or_else(db::new_id, str::to_owned);
    store::insert_refresh_token(
        conn,
        &store::NewRefreshToken {
            id: &db::new_id(),
            family_id: &family_id,
            account_id,
            token_hash: &sha256_hex(&refresh_token),
            created_at: now,
            expires_at: refresh_expires_at,
        },
    )?;
    Ok(Session {
        account_id: account_id.to_owned(),
        access_token: keys.issue(account_id, now_utc)?,
        access_expires_at: now_utc + ACCESS_TOKEN_TTL,
        refresh_token,
        refresh_expires_at: refresh_expires_at.and_utc(),
    })
}

/// Rotates a refresh token: the old one is spent and a new one of the same family is issued.
/// Presenting a spent token again revokes the whole family (it was probably stolen).
pub fn refresh(conn: &mut DbConn, token: &str, keys: &TokenKeys) -> Result<Result<Session>> {
    let now = db::now();
    let Some(stored) = store::find_refresh_token(conn, &sha256_hex(token))? else {
        return Ok(Err(invalid_refresh_token()));
    };
    if stored.revoked_at.is_some() || stored.expires_at <= now {
        return Ok(Err(invalid_refresh_token()));
    }
    if stored.used_at.is_some() || store::mark_refresh_token_used(conn, &stored.id, now)? == 0 {
        store::revoke_family(conn, &stored.family_id, now)?;
        return Ok(Err(Error::unauthorized(
            ErrorCode::RefreshTokenReused,
            "This refresh token was already used: every session of its sign-in is now revoked.",
        )));
    }
    start_session(conn, &stored.account_id, Some(&stored.family_id), keys).map(Ok)
}

fn invalid_refresh_token() -> Error {
    Error::unauthorized(
        ErrorCode::InvalidRefreshToken,
        "The refresh token is not valid: sign in again.",
    )
}

/// Signs out: revokes the family of `token`. Unknown tokens are ignored (signing out is idempotent).
pub fn logout(conn: &mut DbConn, token: &str) -> Result<()> {
    if let Some(stored) = store::find_refresh_token(conn, &sha256_hex(token))? {
        store::revoke_family(conn, &stored.family_id, db::now())?;
    }
    Ok(())
}

/// Codes are keyed by a key derived from the server secret, so a copy of the database alone cannot
/// brute-force them.
fn hash_code(key: &CodeKey, email: &Email, code: &str) -> String {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&key.0)
        .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"));
    mac.update(email.as_str().as_bytes());
    mac.update(b":");
    mac.update(code.as_bytes());
    to_hex(&mac.finalize().into_bytes())
}

fn sha256_hex(token: &str) -> String {
    to_hex(&Sha256::digest(token.as_bytes()))
}

/// 256 random bits, hex-encoded.
fn random_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    to_hex(&bytes)
}

fn to_hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}
