//! Who to meet and whom to introduce, ranked by topic fit: first what the other can talk about
//! that I want to learn, then what they want to learn that I can talk about, then topics we share.
//! Stable for the same inputs (ties by attendee id). Only what people share is shown; blocks work
//! both ways; people who left the directory, whom I dismissed, or who are my connections are not
//! listed.

use std::collections::{HashMap, HashSet};

use crate::db::introductions as store;
use crate::db::{self, DbConn, connections as connection_store};
use crate::domain::attendees::{self, CAN_TALK_ABOUT, Profile, Visible};
use crate::error::{Error, ErrorCode, Result};

/// Why two people fit, one kind of reason with its topics.
#[derive(Debug, Clone)]
pub struct Reason {
    /// `can_talk_about_what_you_want_to_learn`, `wants_to_learn_what_you_can_talk_about`,
    /// `shared_topics`.
    pub kind: &'static str,
    pub topics: Vec<String>,
    pub text: String,
}

/// What one person picked, as the ranking compares it.
pub(super) struct Interests {
    talk: HashSet<String>,
    learn: HashSet<String>,
}

/// How another person's picks meet mine: what they can talk about that I want to learn (`teach`),
/// what they want to learn that I can talk about (`learn`), and the other topics we both picked.
pub(super) struct Overlap {
    teach: Vec<String>,
    learn: Vec<String>,
    shared: Vec<String>,
}

impl Interests {
    fn of(person: &Profile) -> Self {
        Self::picked(&person.can_talk_about, &person.want_to_learn)
    }

    pub(super) fn picked(talk: &[String], learn: &[String]) -> Self {
        Self { talk: talk.iter().cloned().collect(), learn: learn.iter().cloned().collect() }
    }

    pub(super) fn overlap(&self, talk: &[String], learn: &[String]) -> Overlap {
        let teach: Vec<String> = talk.iter().filter(|t| self.learn.contains(*t)).cloned().collect();
        let wanted: Vec<String> =
            learn.iter().filter(|t| self.talk.contains(*t)).cloned().collect();
        let mut shared: Vec<String> = talk
            .iter()
            .chain(learn.iter())
            .filter(|t| self.talk.contains(*t) || self.learn.contains(*t))
            .filter(|t| !teach.contains(t) && !wanted.contains(t))
            .cloned()
            .collect();
        shared.sort();
        shared.dedup();
        Overlap { teach, learn: wanted, shared }
    }
}

impl Overlap {
    /// What it ranks by: teaching first, then learning, then shared topics.
    pub(super) fn score(&self) -> (usize, usize, usize) {
        (self.teach.len(), self.learn.len(), self.shared.len())
    }

    /// The reasons, in words for me; `subject` names the other person.
    fn reasons(self, subject: &str) -> Vec<Reason> {
        let mut reasons = Vec::new();
        if !self.teach.is_empty() {
            reasons.push(Reason {
                kind: "can_talk_about_what_you_want_to_learn",
                text: format!(
                    "{subject} can talk about {}, which you want to learn",
                    self.teach.join(", ")
                ),
                topics: self.teach,
            });
        }
        if !self.learn.is_empty() {
            reasons.push(Reason {
                kind: "wants_to_learn_what_you_can_talk_about",
                text: format!(
                    "{subject} wants to learn {}, which you can talk about",
                    self.learn.join(", ")
                ),
                topics: self.learn,
            });
        }
        if !self.shared.is_empty() {
            reasons.push(Reason {
                kind: "shared_topics",
                text: format!("you both picked {}", self.shared.join(", ")),
                topics: self.shared,
            });
        }
        reasons
    }
}

/// Why `other` fits `me`, in words for `me`.
pub(super) fn reasons(me: &Profile, other: &Visible, subject: &str) -> Vec<Reason> {
    Interests::of(me).overlap(&other.can_talk_about, &other.want_to_learn).reasons(subject)
}

/// One person to meet.
pub struct Candidate {
    pub person: Visible,
    pub reasons: Vec<Reason>,
}

/// People of the event I might meet, ranked; `limit + 1` from after `cursor`.
///
/// Ranked from the choices of my topics alone (one read of an index); then the ranked people are
/// read whole a few at a time, those in the directory kept, until the page is full.
pub fn people_to_meet(
    conn: &mut DbConn,
    event_id: &str,
    account_id: &str,
    cursor: Option<&str>,
    limit: i64,
) -> Result<Vec<Candidate>> {
    let me = attendees::my_profile(conn, event_id, account_id)?;
    let mut slugs: Vec<String> =
        me.can_talk_about.iter().chain(me.want_to_learn.iter()).cloned().collect();
    slugs.sort();
    slugs.dedup();
    if slugs.is_empty() {
        return Ok(Vec::new());
    }
    let mut excluded: HashSet<String> = store::blocked_either_way(conn, &me.member.id)?
        .into_iter()
        .chain(store::dismissed_by(conn, &me.member.id)?)
        .chain(connection_store::mine_in_event(conn, event_id, &me.member.id)?)
        .collect();
    excluded.insert(me.member.id.clone());
    let mut picks: HashMap<String, (Vec<String>, Vec<String>)> = HashMap::new();
    for (id, slug, kind) in store::choosers_of(conn, event_id, &slugs)? {
        if excluded.contains(&id) {
            continue;
        }
        let (talk, learn) = picks.entry(id).or_default();
        if kind == CAN_TALK_ABOUT { talk.push(slug) } else { learn.push(slug) }
    }
    let mine = Interests::of(&me);
    let mut ranked: Vec<((usize, usize, usize), String)> = picks
        .into_iter()
        .map(|(id, (talk, learn))| (mine.overlap(&talk, &learn).score(), id))
        .filter(|(score, _)| *score != (0, 0, 0))
        .collect();
    ranked.sort_by(|(x, a), (y, b)| y.cmp(x).then_with(|| a.cmp(b)));
    let ranked: Vec<String> = ranked.into_iter().map(|(_, id)| id).collect();
    // The page: the next people in the directory, read a few more at a time than it holds.
    let start = match cursor {
        Some(cursor) => ranked.iter().position(|id| id == cursor).map_or(ranked.len(), |p| p + 1),
        None => 0,
    };
    let wanted = usize::try_from(limit + 1).unwrap_or(usize::MAX);
    let mut page = Vec::new();
    for chunk in ranked[start..].chunks(2 * wanted) {
        let mut found: HashMap<String, Profile> = super::profiles(conn, chunk)?
            .into_iter()
            .filter(|p| p.member.in_directory)
            .map(|p| (p.member.id.clone(), p))
            .collect();
        for id in chunk {
            if let Some(p) = found.remove(id) {
                let person = p.visible();
                page.push(Candidate { reasons: reasons(&me, &person, "They"), person });
                if page.len() == wanted {
                    return Ok(page);
                }
            }
        }
    }
    Ok(page)
}

/// Takes a person off my people-to-meet list.
pub fn dismiss(
    conn: &mut DbConn,
    event_id: &str,
    account_id: &str,
    attendee_id: &str,
) -> Result<()> {
    let (me, _, _) = attendees::member(conn, event_id, account_id)?;
    let other = crate::db::attendees::find(conn, event_id, attendee_id)?.ok_or_else(|| {
        Error::not_found(ErrorCode::AttendeeNotFound, "No attendee with this id in this event.")
    })?;
    store::dismiss(conn, event_id, &me.id, &other.0.id, db::now())?;
    Ok(())
}

/// Counts for the hub's view across events.
pub struct Network {
    pub connections: i64,
    pub introductions_made: i64,
    pub introductions_accepted: i64,
    pub introductions_received: i64,
    pub follow_ups_completed_on_time: i64,
    pub kept_in_touch: i64,
}

/// My network across events: connections, introductions, follow-ups done by their due, and the
/// people I keep a cadence with.
pub fn network(conn: &mut DbConn, account_id: &str) -> Result<Network> {
    let (made, accepted) = store::counts_made(conn, account_id)?;
    let received = store::count_received(conn, account_id)?;
    let (connections, on_time, cadences) = connection_store::network_counts(conn, account_id)?;
    Ok(Network {
        connections,
        introductions_made: made,
        introductions_accepted: accepted,
        introductions_received: received,
        follow_ups_completed_on_time: on_time,
        kept_in_touch: cadences,
    })
}
