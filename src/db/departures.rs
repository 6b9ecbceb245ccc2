//! Who left an event they had been imported into, by email: an import does not bring them back.

use std::collections::HashSet;

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::DbConn;
use super::schema::event_departures;

/// Records that `email` left the event (again, if they had before).
pub fn record(
    conn: &mut DbConn,
    event_id: &str,
    email: &str,
    now: NaiveDateTime,
) -> QueryResult<()> {
    forget(conn, event_id, email)?;
    diesel::insert_into(event_departures::table)
        .values((
            event_departures::event_id.eq(event_id),
            event_departures::email.eq(email),
            event_departures::left_at.eq(now),
        ))
        .execute(conn)
        .map(drop)
}

/// Forgets a departure: the person joined again of their own accord.
pub fn forget(conn: &mut DbConn, event_id: &str, email: &str) -> QueryResult<usize> {
    diesel::delete(
        event_departures::table
            .filter(event_departures::event_id.eq(event_id).and(event_departures::email.eq(email))),
    )
    .execute(conn)
}

/// Which of `emails` left the event.
pub fn among(conn: &mut DbConn, event_id: &str, emails: &[String]) -> QueryResult<HashSet<String>> {
    let mut left = HashSet::new();
    for chunk in emails.chunks(super::BATCH_ROWS) {
        let found: Vec<String> = event_departures::table
            .filter(
                event_departures::event_id.eq(event_id).and(event_departures::email.eq_any(chunk)),
            )
            .select(event_departures::email)
            .load(conn)?;
        left.extend(found);
    }
    Ok(left)
}
