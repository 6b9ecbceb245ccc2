//! The post-event queue: when an event's end has passed, every live connection made there with no
//! open follow-up gets one `check_in`, due at the end of the event's follow-up window. Generated
//! once per event, a chunk of connections per transaction (memory stays flat however large the
//! event), resumable from the event's cursor; several workers may run it at once (each chunk
//! holds the event's row, and other workers skip a held event); and the database refuses a
//! second post-event follow-up for any connection.

use std::collections::HashSet;

use chrono::{Duration, NaiveDateTime};

use super::{Kind, Origin, State};
use crate::db::follow_ups::{self as store, NewFollowUp};
use crate::db::post_event as progress;
use crate::db::{self, DbConn};
use crate::error::Result;

/// Connections read per transaction.
pub const CHUNK: i64 = 500;

/// What one step did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Step {
    pub event_id: String,
    /// Follow-ups made.
    pub created: usize,
    /// Whether the event is done.
    pub finished: bool,
}

/// Generates the next chunk of one ended event whose queue is unfinished (and that no other
/// worker holds), in the caller's transaction. `None`: nothing (else) to do.
pub fn step(conn: &mut DbConn, now: NaiveDateTime) -> Result<Option<Step>> {
    let Some(event) = progress::claim_ended(conn, now)? else { return Ok(None) };
    let made =
        progress::connections_after(conn, &event.id, event.follow_ups_cursor.as_deref(), CHUNK)?;
    let ids: Vec<String> = made.iter().map(|(id, _, _)| id.clone()).collect();
    // Lock first, then read: a follow-up added or a deletion made meanwhile is seen.
    let live: HashSet<String> = progress::lock_live(conn, &ids)?;
    let busy: HashSet<String> = store::with_open(conn, &ids)?;
    let due = event.ends_at + Duration::days(i64::from(event.follow_up_window_days));
    let stamp_at = db::now();
    let rows: Vec<NewFollowUp> = made
        .iter()
        .filter(|(id, _, _)| live.contains(id) && !busy.contains(id))
        .map(|(id, owner, account)| NewFollowUp {
            id: db::new_id(),
            event_id: event.id.clone(),
            connection_id: id.clone(),
            owner_id: owner.clone(),
            account_id: account.clone(),
            kind: Kind::CheckIn.as_str(),
            note: None,
            due_on: None,
            due_at: Some(due),
            queue_at: due,
            state: State::Open.as_str(),
            is_open: true,
            origin: Origin::PostEvent.as_str(),
            origin_starter_id: None,
            created_at: stamp_at,
            updated_at: stamp_at,
        })
        .collect();
    let created = if rows.is_empty() {
        0
    } else {
        let changed: Vec<String> = rows.iter().map(|r| r.connection_id.clone()).collect();
        let owners: Vec<String> = rows.iter().map(|r| r.owner_id.clone()).collect();
        let created = store::insert_unless_taken(conn, &rows)?;
        // Their answers now carry the check-in: delta sync must bring them.
        db::changes::stamp_connections(conn, &event.id, &owners, &changed)?;
        created
    };
    let finished = made.len() < usize::try_from(CHUNK).unwrap_or(usize::MAX);
    let cursor = ids.last().cloned().or(event.follow_ups_cursor.clone());
    progress::advance(conn, &event.id, cursor.as_deref(), finished.then_some(now))?;
    Ok(Some(Step { event_id: event.id, created, finished }))
}
