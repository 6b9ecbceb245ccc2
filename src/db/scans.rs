//! Badge scans: each recorded once per (scanner, client scan id), with the answer it got.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::DbConn;
use super::schema::{badges, memberships, scans};

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = scans)]
pub struct Scan {
    pub id: String,
    pub event_id: String,
    pub scanner_id: String,
    pub client_scan_id: String,
    pub badge_code: String,
    pub scanned_id: Option<String>,
    pub status: String,
    pub device_time: NaiveDateTime,
    pub scanned_at: NaiveDateTime,
    pub server_time: NaiveDateTime,
}

#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = scans)]
pub struct NewScan {
    pub id: String,
    pub event_id: String,
    pub scanner_id: String,
    pub client_scan_id: String,
    pub badge_code: String,
    pub scanned_id: Option<String>,
    pub status: &'static str,
    pub device_time: NaiveDateTime,
    pub scanned_at: NaiveDateTime,
    pub server_time: NaiveDateTime,
}

/// The scans a scanner already recorded under any of `client_ids`.
pub fn find_by_client_ids(
    conn: &mut DbConn,
    scanner_id: &str,
    client_ids: &[String],
) -> QueryResult<Vec<Scan>> {
    if let [one] = client_ids {
        // One scan (the online case): `=` keeps the statement cacheable; `IN (…)` is not.
        return scans::table
            .filter(scans::scanner_id.eq(scanner_id).and(scans::client_scan_id.eq(one)))
            .select(Scan::as_select())
            .load(conn);
    }
    let mut found = Vec::new();
    for chunk in client_ids.chunks(super::BATCH_ROWS) {
        found.extend(
            scans::table
                .filter(scans::scanner_id.eq(scanner_id).and(scans::client_scan_id.eq_any(chunk)))
                .select(Scan::as_select())
                .load(conn)?,
        );
    }
    Ok(found)
}

pub fn insert(conn: &mut DbConn, rows: &[NewScan]) -> QueryResult<()> {
    if let [one] = rows {
        return diesel::insert_into(scans::table).values(one).execute(conn).map(drop);
    }
    for chunk in rows.chunks(super::BATCH_ROWS) {
        super::insert_batch!(conn, scans::table, chunk)?;
    }
    Ok(())
}

/// Serializes the uploads of one scanner (backend-specific): on PostgreSQL a row lock on the
/// scanner's membership, held until the transaction ends; SQLite has one writer at a time anyway.
/// `FOR NO KEY UPDATE`, not `FOR UPDATE`: the foreign-key checks of another scanner's inserts
/// take `KEY SHARE` on this row, and must not wait for it (two people scanning each other would
/// deadlock).
pub fn lock_scanner(conn: &mut DbConn, scanner_id: &str) -> QueryResult<()> {
    if let DbConn::Postgres(pg) = conn {
        memberships::table
            .find(scanner_id)
            .select(memberships::id)
            .for_no_key_update()
            .first::<String>(pg)?;
    }
    Ok(())
}

/// A badge as a scan resolves it: (code, holder's membership, event, revoked at).
pub type BadgeHolder = (String, String, String, Option<NaiveDateTime>);

pub fn badge_holders(conn: &mut DbConn, codes: &[String]) -> QueryResult<Vec<BadgeHolder>> {
    if let [one] = codes {
        return badges::table
            .filter(badges::code.eq(one))
            .select((badges::code, badges::membership_id, badges::event_id, badges::revoked_at))
            .load(conn);
    }
    let mut found = Vec::new();
    for chunk in codes.chunks(super::BATCH_ROWS) {
        found.extend(
            badges::table
                .filter(badges::code.eq_any(chunk))
                .select((badges::code, badges::membership_id, badges::event_id, badges::revoked_at))
                .load::<BadgeHolder>(conn)?,
        );
    }
    Ok(found)
}

/// How many scans of the event found someone (for organizer stats).
pub fn count_successful(conn: &mut DbConn, event_id: &str) -> QueryResult<i64> {
    scans::table
        .filter(scans::event_id.eq(event_id))
        .filter(scans::status.eq_any(["created", "already_connected"]))
        .count()
        .get_result(conn)
}
