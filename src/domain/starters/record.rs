//! What people were shown and what they said of it: one row per starter first shown to a viewer
//! about another person (the feedback check, and what a follow-up names as its origin), and
//! counters per prompt and topic for organizers.
//!
//! Bounded: showing the same pair's starters again writes nothing (the rows exist already), and a
//! viewer keeps at most [`MAX_SHOWS_PER_PERSON`] rows; past that the oldest go, those without
//! feedback first. Counters count each starter once per pair (the first time it is shown), so
//! that a list opened ten times counts as one showing; they keep their numbers when rows go.

use crate::db::starters::{self as store, CountRow, Counts, Feedback, Show};
use crate::db::{self, DbConn};
use crate::domain::attendees;
use crate::error::{Error, ErrorCode, Result};

/// The most starters kept per viewer in an event.
pub const MAX_SHOWS_PER_PERSON: i64 = 1_000;

/// Records starters shown for the first time (call in a write). A row another request recorded
/// meanwhile is left as it is, and counted once. A few statements however many starters: the
/// shows in one insert, their counters in one upsert (on PostgreSQL).
pub fn record(conn: &mut DbConn, shows: &[Show]) -> Result<()> {
    let inserted = store::insert_shows(conn, shows)?;
    let new: Vec<&Show> = shows.iter().filter(|s| inserted.contains(&s.id)).collect();
    let mut counts: Vec<CountRow> = Vec::new();
    for show in &new {
        let key = (&show.event_id, &show.prompt_id, &show.topic_slug);
        match counts.iter_mut().find(|c| (&c.event_id, &c.prompt_id, &c.topic_slug) == key) {
            Some(row) => row.shown += 1,
            None => counts.push(CountRow {
                event_id: show.event_id.clone(),
                prompt_id: show.prompt_id.clone(),
                topic_slug: show.topic_slug.clone(),
                shown: 1,
                used: 0,
                helpful: 0,
                not_helpful: 0,
            }),
        }
    }
    if !counts.is_empty() {
        store::bump_many(conn, &mut counts)?;
    }
    let mut viewers: Vec<&str> = new.iter().map(|s| s.viewer_id.as_str()).collect();
    viewers.sort_unstable();
    viewers.dedup();
    for viewer in viewers {
        let over = store::count_shows(conn, viewer)? - MAX_SHOWS_PER_PERSON;
        if over > 0 {
            store::prune(conn, viewer, over)?;
        }
    }
    Ok(())
}

/// Records the shows where it needs no transaction: on PostgreSQL on this connection, in one
/// statement that commits by itself (the shows and their counters, then the oldest shows past the
/// cap pruned). Gives back what is left to [`record`] in a write: every show on SQLite, whose
/// writes go through its one writer; none on PostgreSQL.
pub fn record_here(conn: &mut DbConn, shows: Vec<Show>) -> Result<Vec<Show>> {
    let (DbConn::Postgres(pg), Some(first)) = (&mut *conn, shows.first()) else {
        return Ok(shows);
    };
    let over = store::record_shows(pg, &shows)? - MAX_SHOWS_PER_PERSON;
    if over > 0 {
        store::prune(conn, &first.viewer_id, over)?;
    }
    Ok(Vec::new())
}

/// A change of feedback on a starter: `used` and/or `helpful`. Judging a starter helpful or not
/// means it was used.
#[derive(Debug, Clone, Copy, Default)]
pub struct FeedbackChange {
    pub used: Option<bool>,
    pub helpful: Option<bool>,
}

fn starter_not_found() -> Error {
    Error::not_found(
        ErrorCode::StarterNotFound,
        "No starter with this id was shown to you in this event.",
    )
}

/// Applies feedback to one of the caller's starters, and moves the counters by the difference.
pub fn feedback(
    conn: &mut DbConn,
    event_id: &str,
    account_id: &str,
    starter_id: &str,
    change: FeedbackChange,
) -> Result<Show> {
    let (me, _, _) = attendees::member(conn, event_id, account_id)?;
    // Read under a lock: the counters move by the difference from what is stored.
    store::lock_show(conn, starter_id)?;
    let show =
        store::find_show(conn, event_id, &me.id, starter_id)?.ok_or_else(starter_not_found)?;
    let now = db::now();
    let used = change.used.unwrap_or(show.used_at.is_some() || change.helpful.is_some());
    let helpful = if used { change.helpful.or(show.helpful) } else { None };
    let next = Feedback {
        used_at: used.then(|| show.used_at.unwrap_or(now)),
        helpful,
        feedback_at: Some(now),
    };
    let flag = |on: bool| i64::from(on);
    let delta = Counts {
        shown: 0,
        used: flag(used) - flag(show.used_at.is_some()),
        helpful: flag(helpful == Some(true)) - flag(show.helpful == Some(true)),
        not_helpful: flag(helpful == Some(false)) - flag(show.helpful == Some(false)),
    };
    store::set_feedback(conn, &show.id, &next)?;
    if delta != Counts::default() {
        store::bump(conn, event_id, &show.prompt_id, &show.topic_slug, &delta)?;
    }
    Ok(Show { used_at: next.used_at, helpful: next.helpful, feedback_at: next.feedback_at, ..show })
}

/// The starter a follow-up on the connection between `owner_id` and `other_id` may name as its
/// origin: one shown to the owner about that person. For the follow-ups' `origin_starter_id`.
pub fn origin(
    conn: &mut DbConn,
    event_id: &str,
    owner_id: &str,
    other_id: &str,
    starter_id: &str,
) -> Result<Show> {
    store::find_show(conn, event_id, owner_id, starter_id)?
        .filter(|show| show.other_id == other_id)
        .ok_or_else(starter_not_found)
}
