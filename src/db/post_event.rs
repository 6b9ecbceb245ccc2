//! The post-event queue's bookkeeping: which ended event is next, and how far its generation got.

use std::collections::HashSet;

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::DbConn;
use super::events::Event;
use super::schema::{connections, events, memberships};

/// An ended event whose post-event queue is not finished, claimed until the transaction ends.
///
/// Backend-specific: on PostgreSQL the event's row is locked with `FOR NO KEY UPDATE SKIP
/// LOCKED`, so that a worker never works on an event another worker holds (it takes the next one,
/// or none); `NO KEY`, because scans of the event take `KEY SHARE` on it. SQLite has one writer.
pub fn claim_ended(conn: &mut DbConn, now: NaiveDateTime) -> QueryResult<Option<Event>> {
    macro_rules! ended {
        () => {
            events::table
                .filter(events::ends_at.le(now))
                .filter(events::follow_ups_generated_at.is_null())
                .order((events::ends_at.asc(), events::id.asc()))
                .limit(1)
                .select(Event::as_select())
        };
    }
    match conn {
        DbConn::Postgres(pg) => ended!().for_no_key_update().skip_locked().first(pg).optional(),
        DbConn::Sqlite(lite) => ended!().first(lite).optional(),
    }
}

/// A live connection of the event as the generation reads it: (id, owner, owner's account).
pub type Made = (String, String, String);

/// The event's live connections after the id `after`, by id: the next chunk to generate for.
pub fn connections_after(
    conn: &mut DbConn,
    event_id: &str,
    after: Option<&str>,
    limit: i64,
) -> QueryResult<Vec<Made>> {
    let mut query = connections::table
        .inner_join(memberships::table.on(memberships::id.eq(connections::owner_id)))
        .filter(connections::event_id.eq(event_id))
        .filter(connections::deleted_at.is_null())
        .order(connections::id.asc())
        .limit(limit)
        .select((connections::id, connections::owner_id, memberships::account_id))
        .into_boxed();
    if let Some(after) = after {
        query = query.filter(connections::id.gt(after));
    }
    query.load(conn)
}

/// Of these connections, the ones still live, their rows locked on PostgreSQL (in id order, as
/// every writer takes them, and before the change counters: see `changes`) until the transaction
/// ends, so that no follow-up or deletion slips in between this read and the caller's writes. A
/// row deleted while we waited for its lock is re-checked by PostgreSQL and left out. SQLite has
/// one writer at a time.
pub fn lock_live(conn: &mut DbConn, ids: &[String]) -> QueryResult<HashSet<String>> {
    let mut live = HashSet::new();
    for chunk in ids.chunks(super::BATCH_ROWS) {
        let query = connections::table
            .filter(connections::id.eq_any(chunk))
            .filter(connections::deleted_at.is_null())
            .order(connections::id.asc())
            .select(connections::id);
        let found: Vec<String> = match conn {
            DbConn::Postgres(pg) => query.for_no_key_update().load(pg)?,
            DbConn::Sqlite(lite) => query.load(lite)?,
        };
        live.extend(found);
    }
    Ok(live)
}

/// On PostgreSQL, locks these connection rows (in id order, as every writer takes them) before
/// the change counters are taken (see `changes`). SQLite has one writer at a time.
pub fn lock_connections(conn: &mut DbConn, ids: &[String]) -> QueryResult<()> {
    if let DbConn::Postgres(pg) = conn {
        for chunk in ids.chunks(super::BATCH_ROWS) {
            connections::table
                .filter(connections::id.eq_any(chunk))
                .order(connections::id.asc())
                .select(connections::id)
                .for_no_key_update()
                .load::<String>(pg)?;
        }
    }
    Ok(())
}

/// Records how far the event's generation got; with `finished`, that it is done.
pub fn advance(
    conn: &mut DbConn,
    event_id: &str,
    cursor: Option<&str>,
    finished: Option<NaiveDateTime>,
) -> QueryResult<usize> {
    diesel::update(events::table.find(event_id))
        .set((events::follow_ups_cursor.eq(cursor), events::follow_ups_generated_at.eq(finished)))
        .execute(conn)
}
