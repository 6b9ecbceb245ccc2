//! Calendar feeds: one secret token per person, kept as its hash.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::DbConn;
use super::schema::calendar_feeds;

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = calendar_feeds)]
pub struct CalendarFeed {
    pub account_id: String,
    /// SHA-256 of the token, hex.
    pub token_hash: String,
    pub created_at: NaiveDateTime,
}

/// The feed whose token hashes to `token_hash`: one lookup in the unique index, whatever the
/// token was (no comparison of secrets in code).
pub fn find_by_hash(conn: &mut DbConn, token_hash: &str) -> QueryResult<Option<CalendarFeed>> {
    calendar_feeds::table
        .filter(calendar_feeds::token_hash.eq(token_hash))
        .select(CalendarFeed::as_select())
        .first(conn)
        .optional()
}

pub fn find_for_account(conn: &mut DbConn, account_id: &str) -> QueryResult<Option<CalendarFeed>> {
    calendar_feeds::table.find(account_id).select(CalendarFeed::as_select()).first(conn).optional()
}

/// Makes `feed` the account's only feed: any earlier token stops working in the same
/// transaction. Call inside a write transaction.
pub fn replace(conn: &mut DbConn, feed: &CalendarFeed) -> QueryResult<()> {
    delete(conn, &feed.account_id)?;
    diesel::insert_into(calendar_feeds::table).values(feed).execute(conn).map(drop)
}

pub fn delete(conn: &mut DbConn, account_id: &str) -> QueryResult<usize> {
    diesel::delete(calendar_feeds::table.find(account_id)).execute(conn)
}
