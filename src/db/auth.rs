//! Sign-in codes and refresh tokens. Both are stored hashed, never in the clear.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::DbConn;
use super::schema::{email_codes, refresh_tokens};

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

/// Creation times of the codes requested for `email` since `since`, oldest first.
pub fn code_times_for_email(
    conn: &mut DbConn,
    email: &str,
    since: NaiveDateTime,
) -> QueryResult<Vec<NaiveDateTime>> {
    email_codes::table
        .filter(email_codes::email.eq(email).and(email_codes::created_at.gt(since)))
        .order(email_codes::created_at.asc())
        .select(email_codes::created_at)
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

/// Counts one more failed attempt on each of `ids`.
pub fn add_attempt(conn: &mut DbConn, ids: &[String]) -> QueryResult<usize> {
    diesel::update(email_codes::table.filter(email_codes::id.eq_any(ids)))
        .set(email_codes::attempts.eq(email_codes::attempts + 1))
        .execute(conn)
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
