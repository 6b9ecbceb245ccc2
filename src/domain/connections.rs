//! Connections as their owner sees them: the other person's shared details (as their sharing
//! profile allows now), tags, rating, promise, and how many notes the owner wrote. The notes
//! themselves (append-only, each with its time) are read a page at a time, so that no connection
//! view grows with them; they are capped per connection and per person.

use std::collections::HashMap;

use chrono::NaiveDateTime;

use super::attendees;
use super::follow_ups::{Cadence, FollowUpView, manage, touches};
use crate::db::attendees::Member;
use crate::db::changes::Horizon;
use crate::db::connections::{self as store, Connection, ConnectionChanges, Note};
use crate::db::tombstones::{self, Tombstone};
use crate::db::{self, DbConn};
use crate::error::{Error, ErrorCode, Result};

/// The most notes one connection holds.
pub const MAX_NOTES_PER_CONNECTION: i32 = 200;
/// The most notes one person writes in one event, over all their connections.
pub const MAX_NOTES_PER_PERSON: i64 = 5_000;

/// A connection as its owner sees it, without the notes (`connection.note_count` counts them),
/// with its next open follow-up (soonest first), if any.
#[derive(Clone)]
pub struct ConnectionSummary {
    pub connection: Connection,
    pub other: attendees::Profile,
    pub next_follow_up: Option<FollowUpView>,
}

fn not_found() -> Error {
    Error::not_found(
        ErrorCode::ConnectionNotFound,
        "You have no connection with this id in this event.",
    )
}

/// Why a note is refused: a cap is reached (409 `note_limit_reached`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NoteCap {
    Connection,
    Person,
}

impl NoteCap {
    pub fn reason(self) -> String {
        match self {
            Self::Connection => format!(
                "this connection holds {MAX_NOTES_PER_CONNECTION} notes, the most it can hold"
            ),
            Self::Person => format!(
                "you have written {MAX_NOTES_PER_PERSON} notes in this event, the most one person can"
            ),
        }
    }

    pub fn error(self) -> Error {
        Error::conflict(ErrorCode::NoteLimitReached, format!("No more notes: {}.", self.reason()))
    }
}

/// How many more notes a person may write: in all, and on their connection with each of some
/// other people. Read it while holding the person's lock ([`crate::db::scans::scanner_for_update`]),
/// so that no other write of theirs adds notes meanwhile.
pub struct NoteRoom {
    person: i64,
    connections: HashMap<String, i64>,
}

impl NoteRoom {
    /// The room `owner_id` has in all, and on their live connections with `others` (a person
    /// they have no connection with yet has room for a full connection).
    pub fn of(
        conn: &mut DbConn,
        event_id: &str,
        owner_id: &str,
        others: &[String],
    ) -> Result<Self> {
        let person = MAX_NOTES_PER_PERSON - store::note_total(conn, owner_id)?;
        let connections = store::between(conn, event_id, owner_id, others)?
            .into_iter()
            .filter(|c| c.owner_id == owner_id && c.deleted_at.is_none())
            .map(|c| (c.other_id, i64::from(MAX_NOTES_PER_CONNECTION - c.note_count)))
            .collect();
        Ok(Self { person, connections })
    }

    /// Takes room for one note on the connection with `other`, or names the cap it would pass.
    pub fn take(&mut self, other: &str) -> Result<(), NoteCap> {
        let left =
            self.connections.entry(other.to_owned()).or_insert(i64::from(MAX_NOTES_PER_CONNECTION));
        if *left <= 0 {
            return Err(NoteCap::Connection);
        }
        if self.person <= 0 {
            return Err(NoteCap::Person);
        }
        *left -= 1;
        self.person -= 1;
        Ok(())
    }
}

/// Summaries of `connections`, with the other people's profiles, in the same order.
pub fn views(conn: &mut DbConn, connections: Vec<Connection>) -> Result<Vec<ConnectionSummary>> {
    let other_ids: Vec<String> = connections.iter().map(|c| c.other_id.clone()).collect();
    let members = crate::db::attendees::find_many(conn, &other_ids)?;
    let others: HashMap<String, Member> =
        members.into_iter().map(|m| (m.0.id.clone(), m)).collect();
    let rows = connections
        .into_iter()
        .map(|c| {
            let other = others.get(&c.other_id).cloned().ok_or_else(|| {
                Error::internal(anyhow::anyhow!("connection {} has no other side", c.id))
            })?;
            Ok((c, other))
        })
        .collect::<Result<Vec<_>>>()?;
    summarize(conn, rows)
}

/// Adds the other people's topics and the next open follow-ups to connections joined with their
/// other side.
fn summarize(conn: &mut DbConn, rows: Vec<(Connection, Member)>) -> Result<Vec<ConnectionSummary>> {
    let (connections, members): (Vec<Connection>, Vec<Member>) = rows.into_iter().unzip();
    let profiles = attendees::with_topics(conn, members)?;
    let ids: Vec<String> = connections.iter().map(|c| c.id.clone()).collect();
    let mut next: HashMap<String, crate::db::follow_ups::FollowUp> = HashMap::new();
    for row in crate::db::follow_ups::open_of(conn, &ids)? {
        // Each connection's soonest comes first.
        next.entry(row.connection_id.clone()).or_insert(row);
    }
    let mut zones: HashMap<String, chrono_tz::Tz> = HashMap::new();
    for row in next.values() {
        if !zones.contains_key(&row.account_id) {
            let zone = manage::zone_of(conn, &row.account_id)?;
            zones.insert(row.account_id.clone(), zone);
        }
    }
    Ok(connections
        .into_iter()
        .zip(profiles)
        .map(|(connection, other)| {
            let next_follow_up = next.remove(&connection.id).map(|row| {
                let tz = zones.get(&row.account_id).copied().unwrap_or(chrono_tz::Tz::UTC);
                FollowUpView::new(row, tz)
            });
            ConnectionSummary { connection, other, next_follow_up }
        })
        .collect())
}

/// Summaries of the connections with these ids, by id: three queries whatever their number.
pub fn summaries_by_id(
    conn: &mut DbConn,
    ids: &[String],
) -> Result<HashMap<String, ConnectionSummary>> {
    let rows = store::find_many_with_other(conn, ids)?;
    let summaries = summarize(conn, rows)?;
    Ok(summaries.into_iter().map(|s| (s.connection.id.clone(), s)).collect())
}

/// One of the owner's live connections.
pub fn get(conn: &mut DbConn, owner_id: &str, id: &str) -> Result<ConnectionSummary> {
    let found = store::find_for_owner(conn, owner_id, id)?.ok_or_else(not_found)?;
    views(conn, vec![found])?.pop().ok_or_else(not_found)
}

/// A valid change of the owner's side of a connection.
#[derive(Debug, Default)]
pub struct ConnectionPatch {
    pub changes: ConnectionChanges,
    /// `Some(None)`: no cadence any more.
    pub cadence: Option<Option<Cadence>>,
    /// The promise (`follow_up`); `Some(None)` dismisses it.
    pub promise: Option<Option<manage::Promise>>,
}

/// Changes the owner's tags, rating, cadence or promise. A new cadence schedules the connection's
/// check-in a cadence from today; no cadence dismisses it.
pub fn update(
    conn: &mut DbConn,
    account_id: &str,
    owner_id: &str,
    id: &str,
    patch: ConnectionPatch,
) -> Result<ConnectionSummary> {
    store::find_for_owner(conn, owner_id, id)?.ok_or_else(not_found)?;
    crate::db::follow_ups::lock_connection(conn, id)?;
    let now = db::now();
    let mut changes = patch.changes;
    if let Some(cadence) = patch.cadence {
        let (name, days) = Cadence::columns(cadence);
        changes.cadence = Some(name);
        changes.cadence_days = Some(days);
    }
    changes.updated_at = Some(now);
    store::update(conn, id, &changes)?;
    let found = store::find_for_owner(conn, owner_id, id)?.ok_or_else(not_found)?;
    if patch.cadence.is_some() {
        touches::cadence_changed(conn, &found, account_id, now)?;
    }
    if let Some(promise) = patch.promise {
        let tz = manage::zone_of(conn, account_id)?;
        manage::set_promise(conn, &found, account_id, promise, tz, now)?;
    }
    stamp(conn, &found)?;
    get(conn, owner_id, id)
}

/// Adds a note entry to the caller's connection in the event; earlier entries stay as they were,
/// whichever device wrote them. Refused past either cap (`note_limit_reached`). Call in a write
/// transaction: the caller's membership is locked first, so that their concurrent writes cannot
/// both pass the per-person cap (the per-connection cap is one conditional statement anyway).
pub fn add_note(
    conn: &mut DbConn,
    event_id: &str,
    account_id: &str,
    id: &str,
    body: String,
    written_at: Option<NaiveDateTime>,
) -> Result<(Note, ConnectionSummary)> {
    let (_, owner_id) = crate::db::scans::scanner_for_update(conn, event_id, account_id)?
        .ok_or_else(|| {
            Error::not_found(ErrorCode::EventNotFound, "No event with this id is visible to you.")
        })?;
    let connection = store::find_for_owner(conn, &owner_id, id)?.ok_or_else(not_found)?;
    if store::note_total(conn, &owner_id)? >= MAX_NOTES_PER_PERSON {
        return Err(NoteCap::Person.error());
    }
    let now = db::now();
    if !store::count_notes(conn, id, 1, MAX_NOTES_PER_CONNECTION, now)? {
        return Err(NoteCap::Connection.error());
    }
    let note = Note {
        id: db::new_id(),
        connection_id: id.to_owned(),
        event_id: connection.event_id.clone(),
        body,
        written_at: written_at.filter(|t| *t <= now).unwrap_or(now),
        created_at: now,
    };
    store::insert_notes(conn, std::slice::from_ref(&note))?;
    stamp(conn, &connection)?;
    Ok((note, get(conn, &owner_id, id)?))
}

/// A page of the owner's notes on one of their connections, in the order written, after the note `after`.
pub fn notes(
    conn: &mut DbConn,
    owner_id: &str,
    id: &str,
    after: Option<&str>,
    limit: i64,
) -> Result<Vec<Note>> {
    store::find_for_owner(conn, owner_id, id)?.ok_or_else(not_found)?;
    Ok(store::notes_page(conn, id, after, limit)?)
}

/// Deletes the owner's side only; the other person keeps theirs.
pub fn delete(conn: &mut DbConn, owner_id: &str, id: &str) -> Result<()> {
    let found = store::find_for_owner(conn, owner_id, id)?.ok_or_else(not_found)?;
    store::delete(conn, id, db::now())?;
    stamp(conn, &found)?;
    Ok(())
}

/// Numbers a change of the owner's connection for delta sync (see [`db::changes`]).
fn stamp(conn: &mut DbConn, connection: &Connection) -> Result<()> {
    db::changes::stamp_connections(
        conn,
        &connection.event_id,
        std::slice::from_ref(&connection.owner_id),
        std::slice::from_ref(&connection.id),
    )?;
    Ok(())
}

/// An entry of a page of connections: one the owner has (maybe a tombstone of their own
/// deletion), or a tombstone of one whose other side deleted their account.
pub enum PageItem {
    Live(Box<ConnectionSummary>),
    Gone(Tombstone),
}

impl PageItem {
    /// The page order: change number, then id.
    fn key(&self) -> (i64, &str) {
        match self {
            Self::Live(view) => (view.connection.change_seq, &view.connection.id),
            Self::Gone(tombstone) => (tombstone.change_seq, &tombstone.connection_id),
        }
    }
}

/// A page of the owner's connections by (change number, id) after `after`; with `since` (a sync
/// token), only those changed after it, tombstones included (both kinds, merged in order). Also
/// gives the sync token that this page brings the owner up to (see [`db::changes`]): read before
/// the listing's first page (`started`, carried from page to page; read now for a first page),
/// so every change it counts as seen is in this page or an earlier one. A token above the
/// owner's horizon (not one of theirs) gets everything since the start, tombstones included.
pub fn page(
    conn: &mut DbConn,
    owner_id: &str,
    since: Option<Horizon>,
    after: Option<(i64, String)>,
    started: Option<Horizon>,
    limit: i64,
) -> Result<(Vec<PageItem>, Horizon)> {
    let horizon = match started {
        Some(started) => started,
        None => db::changes::current(conn, owner_id)?,
    };
    let since = since.map(|s| if s.through > horizon.through { Horizon::default() } else { s });
    let found = store::page(conn, owner_id, since.as_ref(), after.clone(), limit)?;
    let mut items: Vec<PageItem> =
        views(conn, found)?.into_iter().map(|v| PageItem::Live(Box::new(v))).collect();
    if let Some(since) = since {
        let gone = tombstones::page(conn, owner_id, &since, after, limit)?;
        items.extend(gone.into_iter().map(PageItem::Gone));
        items.sort_by(|a, b| a.key().cmp(&b.key()));
        items.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
    }
    Ok((items, horizon))
}
