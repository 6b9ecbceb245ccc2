//! Accounts: people known by email.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::DbConn;
use super::schema::accounts;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = accounts)]
pub struct Account {
    pub id: String,
    pub email: String,
    pub display_name: Option<String>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    /// An IANA time zone name (`UTC` until the person sets theirs).
    pub time_zone: String,
    /// `none`, `daily` or `weekly` (see `domain::follow_ups::Digest`).
    pub digest: String,
    /// The hour (0-23, in `time_zone`) the digest goes out.
    pub digest_hour: i32,
}

#[derive(Insertable)]
#[diesel(table_name = accounts)]
pub struct NewAccount<'a> {
    pub id: &'a str,
    pub email: &'a str,
    pub display_name: Option<&'a str>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

/// Changes to an account; `None` leaves a field as it is, `Some(None)` clears it.
#[derive(AsChangeset, Default)]
#[diesel(table_name = accounts)]
pub struct AccountChanges {
    pub display_name: Option<Option<String>>,
    pub time_zone: Option<String>,
    pub digest: Option<String>,
    pub digest_hour: Option<i32>,
    pub updated_at: Option<NaiveDateTime>,
}

/// On PostgreSQL, locks the account's row until the transaction ends, so that a check-then-write
/// on what the account may cause (its quotas) runs one request at a time. `FOR NO KEY UPDATE`
/// does not block the rows that merely reference the account. SQLite has one writer at a time.
pub fn lock(conn: &mut DbConn, account_id: &str) -> QueryResult<()> {
    if let DbConn::Postgres(pg) = conn {
        accounts::table
            .find(account_id)
            .select(accounts::id)
            .for_no_key_update()
            .load::<String>(pg)?;
    }
    Ok(())
}

pub fn find(conn: &mut DbConn, id: &str) -> QueryResult<Option<Account>> {
    accounts::table.find(id).select(Account::as_select()).first(conn).optional()
}

pub fn find_by_email(conn: &mut DbConn, email: &str) -> QueryResult<Option<Account>> {
    accounts::table
        .filter(accounts::email.eq(email))
        .select(Account::as_select())
        .first(conn)
        .optional()
}

/// Inserts the account unless one with its email exists: two first sign-ins of one person, or a
/// sign-in and an import listing them, may create it at the same moment (on PostgreSQL the second
/// insert waits for the first to commit, then skips). Read the account back by email.
pub fn insert(conn: &mut DbConn, account: &NewAccount<'_>) -> QueryResult<()> {
    insert_many(conn, std::slice::from_ref(account))
}

pub fn update(conn: &mut DbConn, id: &str, changes: &AccountChanges) -> QueryResult<usize> {
    diesel::update(accounts::table.find(id)).set(changes).execute(conn)
}

/// The accounts of `emails` that exist.
pub fn find_by_emails(conn: &mut DbConn, emails: &[String]) -> QueryResult<Vec<Account>> {
    let mut found = Vec::new();
    for chunk in emails.chunks(super::BATCH_ROWS) {
        found.extend(
            accounts::table
                .filter(accounts::email.eq_any(chunk))
                .select(Account::as_select())
                .load(conn)?,
        );
    }
    Ok(found)
}

/// Inserts the accounts whose email has none yet (see [`insert`]); read them back by email.
pub fn insert_many(conn: &mut DbConn, new: &[NewAccount<'_>]) -> QueryResult<()> {
    for chunk in new.chunks(super::BATCH_ROWS) {
        match conn {
            DbConn::Postgres(pg) => diesel::insert_into(accounts::table)
                .values(chunk)
                .on_conflict(accounts::email)
                .do_nothing()
                .execute(pg)?,
            // SQLite cannot combine a multi-row insert with ON CONFLICT in diesel; row by row is
            // cheap inside the transaction.
            DbConn::Sqlite(lite) => {
                for row in chunk {
                    diesel::insert_into(accounts::table)
                        .values(row)
                        .on_conflict(accounts::email)
                        .do_nothing()
                        .execute(lite)?;
                }
                chunk.len()
            }
        };
    }
    Ok(())
}

pub fn record_sign_in(conn: &mut DbConn, id: &str, now: NaiveDateTime) -> QueryResult<usize> {
    diesel::update(accounts::table.find(id)).set(accounts::last_sign_in_at.eq(now)).execute(conn)
}

/// Deletes an account; its memberships, badges, connections (both sides), scans, notes and
/// tokens go with it (foreign keys cascade). What is keyed by its email address instead (sign-in
/// records, mail) is the caller's to delete.
pub fn delete(conn: &mut DbConn, id: &str) -> QueryResult<usize> {
    diesel::delete(accounts::table.find(id)).execute(conn)
}

/// Whether the account exists (an access token outlives a deleted account by up to 15 minutes).
pub fn exists(conn: &mut DbConn, id: &str) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(accounts::table.find(id))).get_result(conn)
}
