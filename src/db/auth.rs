//! Sign-in codes, wrong guesses and refresh tokens. Codes and tokens are stored hashed, never in
//! the clear.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel::sql_types::BigInt;
use sha2::{Digest, Sha256};

use super::DbConn;
use super::schema::{email_codes, refresh_tokens, sign_in_failures};

/// Serializes the sign-in work of one client address and one email address until the caller's
/// transaction ends, so that counting requests or guesses and recording one more is atomic.
///
/// Backend-specific: on PostgreSQL, two transaction-scoped advisory locks, always the client's
/// first, then the email's (one order everywhere, so no two transactions wait for each other);
/// on SQLite every write already runs alone on the writer's thread.
pub fn lock_sign_in(conn: &mut DbConn, email: &str, client_ip: &str) -> QueryResult<()> {
    let DbConn::Postgres(pg) = conn else { return Ok(()) };
    for key in [lock_key("client", client_ip), lock_key("email", email)] {
        diesel::sql_query("SELECT pg_advisory_xact_lock($1)").bind::<BigInt, _>(key).execute(pg)?;
    }
    Ok(())
}

/// A 64-bit advisory-lock key for one sign-in subject. A collision only serializes two
/// unrelated sign-ins a little.
fn lock_key(kind: &str, value: &str) -> i64 {
    let digest = Sha256::new_with_prefix(b"hallway:sign-in:")
        .chain_update(kind.as_bytes())
        .chain_update(b":")
        .chain_update(value.as_bytes())
        .finalize();
    let mut bytes = [0u8; 8];
    bytes.copy_from_slice(&digest[..8]);
    i64::from_be_bytes(bytes)
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = email_codes)]
pub struct EmailCode {
    pub id: String,
    pub email: String,
    pub code_hash: String,
    pub client_ip: String,
    pub attempts: i32,
    pub created_at: NaiveDateTime,
    pub expires_at: NaiveDateTime,
    pub consumed_at: Option<NaiveDateTime>,
}

#[derive(Insertable)]
#[diesel(table_name = email_codes)]
pub struct NewEmailCode<'a> {
    pub id: &'a str,
    pub email: &'a str,
    pub code_hash: &'a str,
    pub client_ip: &'a str,
    pub attempts: i32,
    pub created_at: NaiveDateTime,
    pub expires_at: NaiveDateTime,
}

pub fn insert_code(conn: &mut DbConn, code: &NewEmailCode<'_>) -> QueryResult<()> {
    diesel::insert_into(email_codes::table).values(code).execute(conn).map(drop)
}

/// When, and from which client address, codes were requested for `email` since `since`, oldest
/// first.
pub fn code_requests_for_email(
    conn: &mut DbConn,
    email: &str,
    since: NaiveDateTime,
) -> QueryResult<Vec<(NaiveDateTime, String)>> {
    email_codes::table
        .filter(email_codes::email.eq(email).and(email_codes::created_at.gt(since)))
        .order(email_codes::created_at.asc())
        .select((email_codes::created_at, email_codes::client_ip))
        .load(conn)
}

/// Creation times of the codes requested from `client_ip` since `since`, oldest first.
pub fn code_times_for_ip(
    conn: &mut DbConn,
    client_ip: &str,
    since: NaiveDateTime,
) -> QueryResult<Vec<NaiveDateTime>> {
    email_codes::table
        .filter(email_codes::client_ip.eq(client_ip).and(email_codes::created_at.gt(since)))
        .order(email_codes::created_at.asc())
        .select(email_codes::created_at)
        .load(conn)
}

/// The codes of `email` issued since `since`, newest first.
pub fn recent_codes(
    conn: &mut DbConn,
    email: &str,
    since: NaiveDateTime,
) -> QueryResult<Vec<EmailCode>> {
    email_codes::table
        .filter(email_codes::email.eq(email).and(email_codes::created_at.gt(since)))
        .order(email_codes::created_at.desc())
        .select(EmailCode::as_select())
        .load(conn)
}

/// Marks every unconsumed code of `email` consumed; returns how many were.
pub fn consume_codes(conn: &mut DbConn, email: &str, now: NaiveDateTime) -> QueryResult<usize> {
    diesel::update(
        email_codes::table
            .filter(email_codes::email.eq(email).and(email_codes::consumed_at.is_null())),
    )
    .set(email_codes::consumed_at.eq(now))
    .execute(conn)
}

/// Records one wrong guess of a code for `email` from `client_ip`.
pub fn insert_failure(
    conn: &mut DbConn,
    id: &str,
    email: &str,
    client_ip: &str,
    now: NaiveDateTime,
) -> QueryResult<()> {
    diesel::insert_into(sign_in_failures::table)
        .values((
            sign_in_failures::id.eq(id),
            sign_in_failures::email.eq(email),
            sign_in_failures::client_ip.eq(client_ip),
            sign_in_failures::created_at.eq(now),
        ))
        .execute(conn)
        .map(drop)
}

/// When, and from which client address, wrong guesses were made for `email` since `since`, oldest
/// first.
pub fn failures_for_email(
    conn: &mut DbConn,
    email: &str,
    since: NaiveDateTime,
) -> QueryResult<Vec<(NaiveDateTime, String)>> {
    sign_in_failures::table
        .filter(sign_in_failures::email.eq(email).and(sign_in_failures::created_at.gt(since)))
        .order(sign_in_failures::created_at.asc())
        .select((sign_in_failures::created_at, sign_in_failures::client_ip))
        .load(conn)
}

/// Times of the wrong guesses made from `client_ip` since `since`, over all emails, oldest first.
pub fn failure_times_for_ip(
    conn: &mut DbConn,
    client_ip: &str,
    since: NaiveDateTime,
) -> QueryResult<Vec<NaiveDateTime>> {
    sign_in_failures::table
        .filter(
            sign_in_failures::client_ip.eq(client_ip).and(sign_in_failures::created_at.gt(since)),
        )
        .order(sign_in_failures::created_at.asc())
        .select(sign_in_failures::created_at)
        .load(conn)
}

/// Deletes the codes that expired before `before` and the wrong guesses made before it: past
/// every window they count in, they only keep who tried to sign in where.
pub fn purge(conn: &mut DbConn, before: NaiveDateTime) -> QueryResult<usize> {
    let codes = diesel::delete(email_codes::table.filter(email_codes::expires_at.lt(before)))
        .execute(conn)?;
    let failures =
        diesel::delete(sign_in_failures::table.filter(sign_in_failures::created_at.lt(before)))
            .execute(conn)?;
    Ok(codes + failures)
}

/// Deletes every sign-in record of `email` (its account is being deleted).
pub fn delete_for_email(conn: &mut DbConn, email: &str) -> QueryResult<()> {
    diesel::delete(email_codes::table.filter(email_codes::email.eq(email))).execute(conn)?;
    diesel::delete(sign_in_failures::table.filter(sign_in_failures::email.eq(email)))
        .execute(conn)?;
    Ok(())
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = refresh_tokens)]
pub struct RefreshToken {
    pub id: String,
    pub family_id: String,
    pub account_id: String,
    pub token_hash: String,
    pub created_at: NaiveDateTime,
    pub expires_at: NaiveDateTime,
    pub used_at: Option<NaiveDateTime>,
    pub revoked_at: Option<NaiveDateTime>,
}

#[derive(Insertable)]
#[diesel(table_name = refresh_tokens)]
pub struct NewRefreshToken<'a> {
    pub id: &'a str,
    pub family_id: &'a str,
    pub account_id: &'a str,
    pub token_hash: &'a str,
    pub created_at: NaiveDateTime,
    pub expires_at: NaiveDateTime,
}

pub fn insert_refresh_token(conn: &mut DbConn, token: &NewRefreshToken<'_>) -> QueryResult<()> {
    diesel::insert_into(refresh_tokens::table).values(token).execute(conn).map(drop)
}

pub fn find_refresh_token(
    conn: &mut DbConn,
    token_hash: &str,
) -> QueryResult<Option<RefreshToken>> {
    refresh_tokens::table
        .filter(refresh_tokens::token_hash.eq(token_hash))
        .select(RefreshToken::as_select())
        .first(conn)
        .optional()
}

/// Marks a refresh token used, unless it already was: returns 1 for the one caller that wins.
pub fn mark_refresh_token_used(
    conn: &mut DbConn,
    id: &str,
    now: NaiveDateTime,
) -> QueryResult<usize> {
    diesel::update(
        refresh_tokens::table
            .filter(refresh_tokens::id.eq(id).and(refresh_tokens::used_at.is_null())),
    )
    .set(refresh_tokens::used_at.eq(now))
    .execute(conn)
}

/// Revokes every token of a family (a sign-out, or a reused token).
pub fn revoke_family(conn: &mut DbConn, family_id: &str, now: NaiveDateTime) -> QueryResult<usize> {
    diesel::update(
        refresh_tokens::table.filter(
            refresh_tokens::family_id.eq(family_id).and(refresh_tokens::revoked_at.is_null()),
        ),
    )
    .set(refresh_tokens::revoked_at.eq(now))
    .execute(conn)
}
