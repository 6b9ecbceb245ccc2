//! Connections as their owner sees them: the other person's shared details (as their sharing
//! profile allows now), the owner's notes (append-only, each with its time), tags, rating, promise.

use std::collections::HashMap;

use chrono::NaiveDateTime;

use super::attendees;
use crate::db::attendees::Member;
use crate::db::connections::{self as store, Connection, ConnectionChanges, Note};
use crate::db::tombstones::{self, Tombstone};
use crate::db::{self, DbConn};
use crate::error::{Error, Result};

/// A connection as its owner sees it, without the notes themselves.
#[derive(Clone)]
pub struct ConnectionSummary {
    pub connection: Connection,
    pub other: attendees::Profile,
    pub note_count: i64,
}

/// A connection with the owner's notes, oldest first.
#[derive(Clone)]
pub struct ConnectionView {
    pub summary: ConnectionSummary,
    pub notes: Vec<Note>,
}

fn not_found() -> Error {
    Error::not_found("connection_not_found", "You have no connection with this id in this event.")
}

/// Views of `connections`, with the other people's profiles and the notes, in the same order.
pub fn views(conn: &mut DbConn, connections: Vec<Connection>) -> Result<Vec<ConnectionView>> {
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
    with_people(conn, rows)
}

/// Adds the other people's topics and the notes to connections joined with their other side.
fn with_people(conn: &mut DbConn, rows: Vec<(Connection, Member)>) -> Result<Vec<ConnectionView>> {
    let ids: Vec<String> = rows.iter().map(|(c, _)| c.id.clone()).collect();
    let mut notes: HashMap<String, Vec<Note>> = HashMap::new();
    for note in store::notes_of(conn, &ids)? {
        notes.entry(note.connection_id.clone()).or_default().push(note);
    }
    let count = |id: &str| notes.get(id).map_or(0, |n| i64::try_from(n.len()).unwrap_or(i64::MAX));
    let summaries = summarize(conn, rows, count)?;
    Ok(summaries
        .into_iter()
        .map(|summary| {
            let notes = notes.remove(&summary.connection.id).unwrap_or_default();
            ConnectionView { summary, notes }
        })
        .collect())
}

/// Adds the other people's topics to connections joined with their other side.
fn summarize(
    conn: &mut DbConn,
    rows: Vec<(Connection, Member)>,
    note_count: impl Fn(&str) -> i64,
) -> Result<Vec<ConnectionSummary>> {
    let (connections, members): (Vec<Connection>, Vec<Member>) = rows.into_iter().unzip();
    let profiles = attendees::with_topics(conn, members)?;
    Ok(connections
        .into_iter()
        .zip(profiles)
        .map(|(connection, other)| {
            let note_count = note_count(&connection.id);
            ConnectionSummary { connection, other, note_count }
        })
        .collect())
}

/// Summaries of the connections with these ids, by id: three queries whatever their number. A
/// scan's answer: its size does not grow with the notes (a batch of 500 scans of one person, each
/// with a note, would otherwise carry 500 × 500 notes).
pub fn summaries_by_id(
    conn: &mut DbConn,
    ids: &[String],
) -> Result<HashMap<String, ConnectionSummary>> {
    let rows = store::find_many_with_other(conn, ids)?;
    let counts: HashMap<String, i64> = store::note_counts(conn, ids)?.into_iter().collect();
    let summaries = summarize(conn, rows, |id| counts.get(id).copied().unwrap_or(0))?;
    Ok(summaries.into_iter().map(|s| (s.connection.id.clone(), s)).collect())
}

/// One of the owner's live connections.
pub fn get(conn: &mut DbConn, owner_id: &str, id: &str) -> Result<ConnectionView> {
    let found = store::find_for_owner(conn, owner_id, id)?.ok_or_else(not_found)?;
    views(conn, vec![found])?.pop().ok_or_else(not_found)
}

pub fn update(
    conn: &mut DbConn,
    owner_id: &str,
    id: &str,
    mut changes: ConnectionChanges,
) -> Result<ConnectionView> {
    let found = store::find_for_owner(conn, owner_id, id)?.ok_or_else(not_found)?;
    changes.updated_at = Some(db::now());
    store::update(conn, id, &changes)?;
    stamp(conn, &found)?;
    get(conn, owner_id, id)
}

/// Adds a note entry; earlier entries stay as they were, whichever device wrote them.
pub fn add_note(
    conn: &mut DbConn,
    owner_id: &str,
    id: &str,
    body: String,
    written_at: Option<NaiveDateTime>,
) -> Result<ConnectionView> {
    let connection = store::find_for_owner(conn, owner_id, id)?.ok_or_else(not_found)?;
    let now = db::now();
    store::insert_notes(
        conn,
        &[Note {
            id: db::new_id(),
            connection_id: id.to_owned(),
            event_id: connection.event_id.clone(),
            body,
            written_at: written_at.filter(|t| *t <= now).unwrap_or(now),
            created_at: now,
        }],
    )?;
    store::update(conn, id, &ConnectionChanges { updated_at: Some(now), ..Default::default() })?;
    stamp(conn, &connection)?;
    get(conn, owner_id, id)
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
    Live(Box<ConnectionView>),
    Gone(Tombstone),
}

impl PageItem {
    /// The page order: change number, then id.
    fn key(&self) -> (i64, &str) {
        match self {
            Self::Live(view) => (view.summary.connection.change_seq, &view.summary.connection.id),
            Self::Gone(tombstone) => (tombstone.change_seq, &tombstone.connection_id),
        }
    }
}

/// A page of the owner's connections by (change number, id) after `after`; with `since` (a sync
/// token), only those changed after it, tombstones included (both kinds, merged in order). Also
/// gives the sync token that this page brings the owner up to (see [`db::changes`]): read before
/// the rows, so every change numbered up to it is in this page or an earlier one. A token above
/// the owner's counter (not one of theirs) gets everything since the start, tombstones included.
pub fn page(
    conn: &mut DbConn,
    owner_id: &str,
    since: Option<i64>,
    after: Option<(i64, String)>,
    limit: i64,
) -> Result<(Vec<PageItem>, i64)> {
    let horizon = db::changes::current(conn, owner_id)?;
    let since = since.map(|s| if s > horizon { 0 } else { s });
    let found = store::page(conn, owner_id, since, after.clone(), limit)?;
    let mut items: Vec<PageItem> =
        views(conn, found)?.into_iter().map(|v| PageItem::Live(Box::new(v))).collect();
    if let Some(since) = since {
        let gone = tombstones::page(conn, owner_id, since, after, limit)?;
        items.extend(gone.into_iter().map(PageItem::Gone));
        items.sort_by(|a, b| a.key().cmp(&b.key()));
        items.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
    }
    Ok((items, horizon))
}
