//! Digest emails: who wants one, and which periods each person's digest has been sent for (one
//! per person and period, enforced by the table's primary key).

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::DbConn;
use super::schema::{accounts, digests_sent};

/// What the digest job reads of a person: (id, email, display name, time zone, digest, hour).
pub type Reader = (String, String, Option<String>, String, String, i32);

/// A page of the accounts that chose a digest, by id after `after`.
pub fn readers(conn: &mut DbConn, after: Option<&str>, limit: i64) -> QueryResult<Vec<Reader>> {
    let mut query = accounts::table
        .filter(accounts::digest.ne("none"))
        .order(accounts::id.asc())
        .limit(limit)
        .select((
            accounts::id,
            accounts::email,
            accounts::display_name,
            accounts::time_zone,
            accounts::digest,
            accounts::digest_hour,
        ))
        .into_boxed();
    if let Some(after) = after {
        query = query.filter(accounts::id.gt(after));
    }
    query.load(conn)
}

/// Of these (account, period) pairs, the accounts whose period is recorded already.
pub fn recorded(
    conn: &mut DbConn,
    pairs: &[(String, String)],
) -> QueryResult<std::collections::HashSet<String>> {
    let mut found = std::collections::HashSet::new();
    for chunk in pairs.chunks(super::BATCH_ROWS) {
        let ids: Vec<&str> = chunk.iter().map(|(id, _)| id.as_str()).collect();
        let keys: Vec<&str> = chunk.iter().map(|(_, key)| key.as_str()).collect();
        let rows: Vec<(String, String)> = digests_sent::table
            .filter(digests_sent::account_id.eq_any(&ids))
            .filter(digests_sent::period_key.eq_any(&keys))
            .select((digests_sent::account_id, digests_sent::period_key))
            .load(conn)?;
        found
            .extend(rows.into_iter().filter(|row| chunk.contains(row)).map(|(account, _)| account));
    }
    Ok(found)
}

#[derive(Insertable)]
#[diesel(table_name = digests_sent)]
struct Sent<'a> {
    account_id: &'a str,
    period_key: &'a str,
    items: i32,
    created_at: NaiveDateTime,
}

/// Records the account's digest of the period; `false` when it was recorded already (another
/// worker got there first): then nothing is to be sent. On PostgreSQL a second recorder waits for
/// the first to commit, then skips.
pub fn record(
    conn: &mut DbConn,
    account_id: &str,
    period_key: &str,
    items: i32,
    now: NaiveDateTime,
) -> QueryResult<bool> {
    let row = Sent { account_id, period_key, items, created_at: now };
    let inserted = match conn {
        DbConn::Postgres(pg) => diesel::insert_into(digests_sent::table)
            .values(&row)
            .on_conflict_do_nothing()
            .execute(pg)?,
        DbConn::Sqlite(lite) => diesel::insert_into(digests_sent::table)
            .values(&row)
            .on_conflict_do_nothing()
            .execute(lite)?,
    };
    Ok(inserted == 1)
}

/// Deletes the records of periods older than `before` (they can never come again).
pub fn purge(conn: &mut DbConn, before: NaiveDateTime) -> QueryResult<usize> {
    diesel::delete(digests_sent::table.filter(digests_sent::created_at.lt(before))).execute(conn)
}
