//! The queue: a person's follow-ups across all their events, by due date, each with what they need
//! to act on it without another call. Every item is bounded, however much is stored: the latest
//! few notes (cut to a length) and the count, not all of them.

use std::collections::{HashMap, HashSet};

use chrono::NaiveDateTime;
use chrono_tz::Tz;

use super::{FollowUpView, QueueFilter, dates, manage};
use crate::db::connections::{self as connection_store, Connection, Note};
use crate::db::follow_ups::{self as store, QueueRange};
use crate::db::schema::events;
use crate::db::{DbConn, attendees as member_store};
use crate::domain::attendees::{self, Profile};
use crate::error::{Error, Result};
use diesel::prelude::*;

/// Notes shown with each item, the latest written first.
pub const NOTES_PER_ITEM: i64 = 3;
/// Characters of each note shown; a longer one is cut (`truncated`).
pub const NOTE_PREVIEW: usize = 280;

/// A note as the queue shows it.
#[derive(Clone, Debug)]
pub struct NotePreview {
    pub note: Note,
    pub truncated: bool,
}

/// One entry of the queue.
#[derive(Clone, Debug)]
pub struct QueueItem {
    pub follow_up: FollowUpView,
    /// The other person (what they share is filtered at the edge, as for connections).
    pub person: Profile,
    pub connection: Connection,
    pub notes: Vec<NotePreview>,
    pub event_name: String,
    /// (slug, name) of the topics both picked (either kind), in the event's order.
    pub shared_topics: Vec<(String, String)>,
}

/// A page of the account's queue by (`queue_at`, id) after `after`: `filter` picks the open ones
/// due today (in the person's time zone), before, or after, or the done ones; none, every open.
pub fn page(
    conn: &mut DbConn,
    account_id: &str,
    filter: Option<QueueFilter>,
    after: Option<(NaiveDateTime, String)>,
    limit: i64,
    now: NaiveDateTime,
) -> Result<Vec<QueueItem>> {
    let tz = manage::zone_of(conn, account_id)?;
    let range = range(filter, tz, now);
    let rows = store::queue_page(conn, account_id, range, after, limit)?;
    let connection_ids: Vec<String> = unique(rows.iter().map(|r| r.connection_id.clone()));
    let connections: HashMap<String, Connection> =
        connection_store::find_many(conn, &connection_ids)?
            .into_iter()
            .map(|c| (c.id.clone(), c))
            .collect();
    let other_ids: Vec<String> = unique(connections.values().map(|c| c.other_id.clone()));
    let others = member_store::find_many(conn, &other_ids)?;
    let profiles: HashMap<String, Profile> = attendees::with_topics(conn, others)?
        .into_iter()
        .map(|p| (p.member.id.clone(), p))
        .collect();
    let mut members: Vec<String> = other_ids.clone();
    members.extend(connections.values().map(|c| c.owner_id.clone()));
    let mut topics: HashMap<String, Vec<(String, String)>> = HashMap::new();
    for (member, slug, name) in
        crate::db::topics::named_choices_of(conn, &unique(members.into_iter()))?
    {
        let chosen = topics.entry(member).or_default();
        if !chosen.iter().any(|(s, _)| *s == slug) {
            chosen.push((slug, name));
        }
    }
    let event_ids: Vec<String> = unique(rows.iter().map(|r| r.event_id.clone()));
    let event_names: HashMap<String, String> = events::table
        .filter(events::id.eq_any(&event_ids))
        .select((events::id, events::name))
        .load::<(String, String)>(conn)?
        .into_iter()
        .collect();
    let mut notes: HashMap<String, Vec<NotePreview>> = HashMap::new();
    for note in connection_store::latest_notes_of(conn, &connection_ids, NOTES_PER_ITEM)? {
        notes.entry(note.connection_id.clone()).or_default().push(preview(note));
    }
    let gone = || Error::internal(anyhow::anyhow!("a follow-up without its connection"));
    rows.into_iter()
        .map(|row| {
            let connection = connections.get(&row.connection_id).cloned().ok_or_else(gone)?;
            let person = profiles.get(&connection.other_id).cloned().ok_or_else(gone)?;
            let mine = topics.get(&connection.owner_id).cloned().unwrap_or_default();
            let theirs: HashSet<&str> = topics
                .get(&connection.other_id)
                .map(|t| t.iter().map(|(slug, _)| slug.as_str()).collect())
                .unwrap_or_default();
            let shared_topics =
                mine.into_iter().filter(|(s, _)| theirs.contains(s.as_str())).collect();
            Ok(QueueItem {
                notes: notes.get(&row.connection_id).cloned().unwrap_or_default(),
                event_name: event_names.get(&row.event_id).cloned().unwrap_or_default(),
                follow_up: FollowUpView::new(row, tz),
                person,
                connection,
                shared_topics,
            })
        })
        .collect()
}

/// What a filter reads, in `tz` at `now`.
pub fn range(filter: Option<QueueFilter>, tz: Tz, now: NaiveDateTime) -> QueueRange {
    let today = dates::today(tz, now);
    let open = |from, before| QueueRange { open: true, from, before };
    match filter {
        None => open(None, None),
        Some(QueueFilter::Due) => open(Some(today.starts), Some(today.ends)),
        Some(QueueFilter::Overdue) => open(None, Some(today.starts)),
        Some(QueueFilter::Upcoming) => open(Some(today.ends), None),
        Some(QueueFilter::Done) => QueueRange { open: false, from: None, before: None },
    }
}

fn preview(note: Note) -> NotePreview {
    let truncated = note.body.chars().count() > NOTE_PREVIEW;
    let mut note = note;
    if truncated {
        note.body = note.body.chars().take(NOTE_PREVIEW).collect();
    }
    NotePreview { note, truncated }
}

fn unique(values: impl Iterator<Item = String>) -> Vec<String> {
    let mut seen = HashSet::new();
    values.filter(|v| seen.insert(v.clone())).collect()
}
