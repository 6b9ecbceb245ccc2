//! `GET /v1/me/introductions`: the introductions I made and those made to me, newest first. The
//! introducer sees a decline, and an expiry, as "not this time"; a side never sees the other's
//! decline: an introduction that is not accepted reads `pending` until it expires.

use std::collections::HashMap;

use chrono::NaiveDateTime;

use crate::db::introductions::{self as store, Introduction};
use crate::db::{self, DbConn};
use crate::domain::attendees::Visible;
use crate::error::Result;

/// My part in an introduction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    Made,
    Received,
}

/// An introduction as one of its three people sees it.
pub struct IntroductionView {
    pub id: String,
    pub event_id: String,
    pub role: Role,
    /// `pending`, `accepted`, `not_this_time` (introducer only) or `expired`.
    pub status: &'static str,
    pub introducer: Visible,
    /// For the introducer: both people; for a side: the other one.
    pub people: Vec<Visible>,
    /// The note written to me (a side), or both notes in `people`' order (introducer).
    pub notes: Vec<String>,
    /// A side's own answer, once given.
    pub my_answer: Option<String>,
    pub created_at: NaiveDateTime,
    pub expires_at: NaiveDateTime,
}

/// A page of my introductions before `cursor`.
pub fn page(
    conn: &mut DbConn,
    account_id: &str,
    cursor: Option<&str>,
    limit: i64,
) -> Result<Vec<IntroductionView>> {
    let rows = store::page_of_account(conn, account_id, cursor, limit + 1)?;
    let mut ids: Vec<String> = rows
        .iter()
        .flat_map(|i| [i.introducer_id.clone(), i.side_a.clone(), i.side_b.clone()])
        .collect();
    ids.sort();
    ids.dedup();
    let people: HashMap<String, Visible> = super::profiles(conn, &ids)?
        .into_iter()
        .map(|p| (p.member.id.clone(), p.visible()))
        .collect();
    let now = db::now();
    Ok(rows.into_iter().filter_map(|row| view(row, account_id, &people, now)).collect())
}

fn view(
    row: Introduction,
    account_id: &str,
    people: &HashMap<String, Visible>,
    now: NaiveDateTime,
) -> Option<IntroductionView> {
    let introducer = people.get(&row.introducer_id)?.clone();
    let a = people.get(&row.side_a)?.clone();
    let b = people.get(&row.side_b)?.clone();
    let expired = row.state == "expired" || row.expires_at <= now;
    if row.introducer_account_id == account_id {
        let status = match row.state.as_str() {
            "accepted" => "accepted",
            "declined" | "expired" => "not_this_time",
            _ if expired => "not_this_time",
            _ => "pending",
        };
        return Some(IntroductionView {
            id: row.id,
            event_id: row.event_id,
            role: Role::Made,
            status,
            introducer,
            people: vec![a, b],
            notes: vec![row.note_a, row.note_b],
            my_answer: None,
            created_at: row.created_at,
            expires_at: row.expires_at,
        });
    }
    let is_a = row.side_a_account_id == account_id;
    let (other, note, mine) =
        if is_a { (b, row.note_a, row.answer_a) } else { (a, row.note_b, row.answer_b) };
    let status = match row.state.as_str() {
        "accepted" => "accepted",
        _ if expired => "expired",
        // A decline, mine or theirs, reads as waiting until it expires.
        _ => "pending",
    };
    Some(IntroductionView {
        id: row.id,
        event_id: row.event_id,
        role: Role::Received,
        status,
        introducer,
        people: vec![other],
        notes: vec![note],
        my_answer: mine,
        created_at: row.created_at,
        expires_at: row.expires_at,
    })
}
