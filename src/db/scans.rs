//! Badge scans: each recorded once per (scanner, client scan id), with the answer it got.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::DbConn;
use super::events::Event;
use super::schema::{badges, scans};
use diesel::sql_types::Text;

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

/// The event and the scanner's membership id, for a scan by `account_id` (`None`: not a member).
///
/// Backend-specific: on PostgreSQL the scanner's membership row is locked in the same statement
/// (`FOR NO KEY UPDATE OF m`, which diesel's DSL cannot say), so that one scanner's uploads run one
/// after the other and a client scan id cannot be recorded twice by two uploads at once. `NO KEY`:
/// the foreign-key checks of other scanners' inserts take `KEY SHARE` on this row and must not
/// wait for it (two people scanning each other would deadlock). SQLite has one writer at a time.
pub fn scanner_for_update(
    conn: &mut DbConn,
    event_id: &str,
    account_id: &str,
) -> QueryResult<Option<(Event, String)>> {
    match conn {
        DbConn::Postgres(pg) => diesel::sql_query(
            "SELECT e.id, e.name, e.slug, e.starts_at, e.ends_at, e.time_zone, \
             e.follow_up_window_days, e.created_by, e.created_at, e.updated_at, e.join_code, \
             e.follow_ups_cursor, e.follow_ups_generated_at, \
             m.id AS scanner_id \
             FROM memberships m JOIN events e ON e.id = m.event_id \
             WHERE m.event_id = $1 AND m.account_id = $2 FOR NO KEY UPDATE OF m",
        )
        .bind::<Text, _>(event_id)
        .bind::<Text, _>(account_id)
        .get_result::<ScannerRow>(pg)
        .optional()
        .map(|row| row.map(|r| (r.event, r.scanner_id))),
        DbConn::Sqlite(_) => super::events::find_for_member(conn, event_id, account_id)
            .map(|found| found.map(|(event, id, _)| (event, id))),
    }
}

#[derive(QueryableByName)]
struct ScannerRow {
    #[diesel(embed)]
    event: Event,
    #[diesel(sql_type = Text)]
    scanner_id: String,
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
