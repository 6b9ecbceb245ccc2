//! Reads for exports of a person's data across all their events, each a page at a time by id, so
//! that an export of thousands of connections holds one page in memory.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::DbConn;
use super::attendees::{Member, Membership};
use super::auth::RefreshToken;
use super::badges::Badge;
use super::connections::{Connection, Note};
use super::follow_ups::{FollowUp, Touch};
use super::schema::{
    accounts, badges, connection_notes, connection_tombstones, connections, email_codes,
    follow_ups, memberships, refresh_tokens, sign_in_failures, touches,
};
use super::tombstones::Tombstone;

/// Every membership of the account, with its email and display name, by id.
pub fn memberships_of(conn: &mut DbConn, account_id: &str) -> QueryResult<Vec<Member>> {
    memberships::table
        .inner_join(accounts::table)
        .filter(memberships::account_id.eq(account_id))
        .order(memberships::id.asc())
        .select((Membership::as_select(), accounts::email, accounts::display_name))
        .load(conn)
}

/// A page of the live connections owned by any of `owners` (one person's memberships), by id
/// after `after`.
pub fn live_connections(
    conn: &mut DbConn,
    owners: &[String],
    after: Option<&str>,
    limit: i64,
) -> QueryResult<Vec<Connection>> {
    connections_page(conn, owners, false, after, limit)
}

/// A page of the connections of `owners` that their owner deleted (their tombstones), by id.
pub fn deleted_connections(
    conn: &mut DbConn,
    owners: &[String],
    after: Option<&str>,
    limit: i64,
) -> QueryResult<Vec<Connection>> {
    connections_page(conn, owners, true, after, limit)
}

fn connections_page(
    conn: &mut DbConn,
    owners: &[String],
    deleted: bool,
    after: Option<&str>,
    limit: i64,
) -> QueryResult<Vec<Connection>> {
    let mut query = connections::table
        .filter(connections::owner_id.eq_any(owners))
        .order(connections::id.asc())
        .limit(limit)
        .select(Connection::as_select())
        .into_boxed();
    query = if deleted {
        query.filter(connections::deleted_at.is_not_null())
    } else {
        query.filter(connections::deleted_at.is_null())
    };
    if let Some(after) = after {
        query = query.filter(connections::id.gt(after));
    }
    query.load(conn)
}

/// A page of the tombstones `owners` keep of connections whose other person deleted their
/// account, by connection id.
pub fn tombstones(
    conn: &mut DbConn,
    owners: &[String],
    after: Option<&str>,
    limit: i64,
) -> QueryResult<Vec<Tombstone>> {
    let mut query = connection_tombstones::table
        .filter(connection_tombstones::owner_id.eq_any(owners))
        .order(connection_tombstones::connection_id.asc())
        .limit(limit)
        .select(Tombstone::as_select())
        .into_boxed();
    if let Some(after) = after {
        query = query.filter(connection_tombstones::connection_id.gt(after));
    }
    query.load(conn)
}

/// Up to `limit` notes of the connections `ids`, by (connection id, note id) after `after`.
pub fn notes(
    conn: &mut DbConn,
    ids: &[String],
    after: Option<(&str, &str)>,
    limit: i64,
) -> QueryResult<Vec<Note>> {
    let mut query = connection_notes::table
        .filter(connection_notes::connection_id.eq_any(ids))
        .order((connection_notes::connection_id.asc(), connection_notes::id.asc()))
        .limit(limit)
        .select(Note::as_select())
        .into_boxed();
    if let Some((connection_id, note_id)) = after {
        query = query.filter(connection_notes::connection_id.gt(connection_id).or(
            connection_notes::connection_id.eq(connection_id).and(connection_notes::id.gt(note_id)),
        ));
    }
    query.load(conn)
}

/// Every badge of these memberships, revoked ones too, oldest first.
pub fn badges_of(conn: &mut DbConn, membership_ids: &[String]) -> QueryResult<Vec<Badge>> {
    badges::table
        .filter(badges::membership_id.eq_any(membership_ids))
        .order(badges::id.asc())
        .select(Badge::as_select())
        .load(conn)
}

/// The account's refresh tokens (its sign-in sessions), oldest first.
pub fn sessions_of(conn: &mut DbConn, account_id: &str) -> QueryResult<Vec<RefreshToken>> {
    refresh_tokens::table
        .filter(refresh_tokens::account_id.eq(account_id))
        .order(refresh_tokens::created_at.asc())
        .select(RefreshToken::as_select())
        .load(conn)
}

/// (requested at, client address, used at) of each sign-in code still kept for `email`.
pub fn codes_for(
    conn: &mut DbConn,
    email: &str,
) -> QueryResult<Vec<(NaiveDateTime, String, Option<NaiveDateTime>)>> {
    email_codes::table
        .filter(email_codes::email.eq(email))
        .order(email_codes::created_at.asc())
        .select((email_codes::created_at, email_codes::client_ip, email_codes::consumed_at))
        .load(conn)
}

/// (at, client address) of each wrong sign-in code still kept for `email`.
pub fn failures_for(conn: &mut DbConn, email: &str) -> QueryResult<Vec<(NaiveDateTime, String)>> {
    sign_in_failures::table
        .filter(sign_in_failures::email.eq(email))
        .order(sign_in_failures::created_at.asc())
        .select((sign_in_failures::created_at, sign_in_failures::client_ip))
        .load(conn)
}

/// The account's last successful sign-in.
pub fn last_sign_in(conn: &mut DbConn, account_id: &str) -> QueryResult<Option<NaiveDateTime>> {
    accounts::table.find(account_id).select(accounts::last_sign_in_at).first(conn)
}

/// A page of the account's follow-ups (every state, on live and deleted connections), by id
/// after `after`.
pub fn follow_ups(
    conn: &mut DbConn,
    account_id: &str,
    after: Option<&str>,
    limit: i64,
) -> QueryResult<Vec<FollowUp>> {
    let mut query = follow_ups::table
        .filter(follow_ups::account_id.eq(account_id))
        .order(follow_ups::id.asc())
        .limit(limit)
        .select(FollowUp::as_select())
        .into_boxed();
    if let Some(after) = after {
        query = query.filter(follow_ups::id.gt(after));
    }
    query.load(conn)
}

/// A page of the account's touches, by id after `after`.
pub fn touches(
    conn: &mut DbConn,
    account_id: &str,
    after: Option<&str>,
    limit: i64,
) -> QueryResult<Vec<Touch>> {
    let mut query = touches::table
        .filter(touches::account_id.eq(account_id))
        .order(touches::id.asc())
        .limit(limit)
        .select(Touch::as_select())
        .into_boxed();
    if let Some(after) = after {
        query = query.filter(touches::id.gt(after));
    }
    query.load(conn)
}
