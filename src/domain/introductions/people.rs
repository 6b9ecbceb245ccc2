//! Who to meet and whom to introduce, ranked by topic fit: first what the other can talk about
//! that I want to learn, then what they want to learn that I can talk about, then topics we share.
//! Stable for the same inputs (ties by attendee id). Only what people share is shown; blocks work
//! both ways; people who left the directory, whom I dismissed, or who are my connections are not
//! listed.

use std::collections::HashSet;

use crate::db::introductions as store;
use crate::db::{self, DbConn, connections as connection_store};
use crate::domain::attendees::{self, Profile, Visible};
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

/// The fit of `other` for `me`: a score to rank by and its reasons, in words for `me`.
fn fit(me: &Profile, other: &Visible, subject: &str) -> ((usize, usize, usize), Vec<Reason>) {
    let set = |v: &Vec<String>| v.iter().cloned().collect::<HashSet<String>>();
    let (my_learn, my_talk) = (set(&me.want_to_learn), set(&me.can_talk_about));
    let teach: Vec<String> =
        other.can_talk_about.iter().filter(|t| my_learn.contains(*t)).cloned().collect();
    let learn: Vec<String> =
        other.want_to_learn.iter().filter(|t| my_talk.contains(*t)).cloned().collect();
    let mine: HashSet<&String> = my_learn.iter().chain(my_talk.iter()).collect();
    let mut shared: Vec<String> = other
        .can_talk_about
        .iter()
        .chain(other.want_to_learn.iter())
        .filter(|t| mine.contains(t) && !teach.contains(t) && !learn.contains(t))
        .cloned()
        .collect();
    shared.sort();
    shared.dedup();
    let mut reasons = Vec::new();
    if !teach.is_empty() {
        reasons.push(Reason {
            kind: "can_talk_about_what_you_want_to_learn",
            text: format!("{subject} can talk about {}, which you want to learn", teach.join(", ")),
            topics: teach.clone(),
        });
    }
    if !learn.is_empty() {
        reasons.push(Reason {
            kind: "wants_to_learn_what_you_can_talk_about",
            text: format!(
                "{subject} wants to learn {}, which you can talk about",
                learn.join(", ")
            ),
            topics: learn.clone(),
        });
    }
    if !shared.is_empty() {
        reasons.push(Reason {
            kind: "shared_topics",
            text: format!("you both picked {}", shared.join(", ")),
            topics: shared.clone(),
        });
    }
    ((teach.len(), learn.len(), shared.len()), reasons)
}

/// One person to meet.
pub struct Candidate {
    pub person: Visible,
    pub reasons: Vec<Reason>,
}

/// Puts `items` (ranked) after `cursor` (the id of the last item of the previous page), `limit`
/// of them and whether more follow.
fn after<T>(items: Vec<T>, cursor: Option<&str>, limit: i64, id: impl Fn(&T) -> String) -> Vec<T> {
    let start = match cursor {
        Some(cursor) => items.iter().position(|i| id(i) == cursor).map_or(items.len(), |p| p + 1),
        None => 0,
    };
    let take = usize::try_from(limit).unwrap_or(usize::MAX);
    items.into_iter().skip(start).take(take).collect()
}

/// People of the event I might meet, ranked; `limit + 1` from after `cursor`.
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
        .collect();
    excluded.insert(me.member.id.clone());
    let choosers = store::choosers_of(conn, event_id, &slugs)?;
    let mut ids: Vec<String> =
        choosers.into_iter().map(|(id, _, _)| id).filter(|id| !excluded.contains(id)).collect();
    ids.sort();
    ids.dedup();
    let mine: HashSet<String> = connection_store::between(conn, event_id, &me.member.id, &ids)?
        .into_iter()
        .filter(|c| c.owner_id == me.member.id && c.deleted_at.is_none())
        .map(|c| c.other_id)
        .collect();
    ids.retain(|id| !mine.contains(id));
    let people = super::profiles(conn, &ids)?;
    let mut ranked: Vec<((usize, usize, usize), Candidate)> = people
        .into_iter()
        .filter(|p| p.member.in_directory)
        .map(|p| {
            let visible = p.visible();
            let (score, reasons) = fit(&me, &visible, "They");
            (score, Candidate { person: visible, reasons })
        })
        .filter(|(score, _)| *score != (0, 0, 0))
        .collect();
    ranked.sort_by(|(x, a), (y, b)| {
        y.cmp(x).then_with(|| a.person.attendee_id.cmp(&b.person.attendee_id))
    });
    let ranked: Vec<Candidate> = ranked.into_iter().map(|(_, c)| c).collect();
    Ok(after(ranked, cursor, limit + 1, |c| c.person.attendee_id.clone()))
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

/// Two of my connections who could meet, with the reasons for each side.
pub struct Suggestion {
    pub first: Visible,
    pub second: Visible,
    /// Why `second` fits `first`, in words for `first`; and the other way.
    pub reasons_for_first: Vec<Reason>,
    pub reasons_for_second: Vec<Reason>,
}

impl Suggestion {
    pub fn key(&self) -> String {
        format!("{}.{}", self.first.attendee_id, self.second.attendee_id)
    }
}

/// Pairs of my connections to introduce, ranked by fit; `limit + 1` from after `cursor`
/// (`{first}.{second}`).
pub fn suggestions(
    conn: &mut DbConn,
    event_id: &str,
    account_id: &str,
    cursor: Option<&str>,
    limit: i64,
) -> Result<Vec<Suggestion>> {
    let (me, _, _) = attendees::member(conn, event_id, account_id)?;
    let blocked_me: HashSet<String> =
        store::blocked_either_way(conn, &me.id)?.into_iter().collect();
    let mut ids: Vec<String> = connection_store::mine_in_event(conn, event_id, &me.id)?
        .into_iter()
        .filter(|id| !blocked_me.contains(id))
        .collect();
    ids.sort();
    ids.dedup();
    let people: Vec<Profile> = super::profiles(conn, &ids)?
        .into_iter()
        .filter(|p| p.member.open_to_introductions)
        .collect();
    let ids: Vec<String> = people.iter().map(|p| p.member.id.clone()).collect();
    let mut apart: HashSet<(String, String)> = HashSet::new();
    for (x, y) in store::connected_among(conn, event_id, &ids)?
        .into_iter()
        .chain(store::introduced_among(conn, event_id, &ids)?)
        .chain(store::blocks_of(conn, &ids)?)
    {
        apart.insert((x.clone(), y.clone()));
        apart.insert((y, x));
    }
    let visible: Vec<(Profile, Visible)> =
        people.into_iter().map(|p| (p.clone(), p.visible())).collect();
    let mut ranked: Vec<(usize, Suggestion)> = Vec::new();
    for (i, (pa, va)) in visible.iter().enumerate() {
        for (pb, vb) in &visible[i + 1..] {
            if apart.contains(&(va.attendee_id.clone(), vb.attendee_id.clone())) {
                continue;
            }
            let (sa, ra) = fit(pa, vb, &vb.name);
            let (sb, rb) = fit(pb, va, &va.name);
            let score = 4 * (sa.0 + sb.0) + 2 * (sa.1 + sb.1) + (sa.2 + sb.2) / 2;
            if score == 0 {
                continue;
            }
            ranked.push((
                score,
                Suggestion {
                    first: va.clone(),
                    second: vb.clone(),
                    reasons_for_first: ra,
                    reasons_for_second: rb,
                },
            ));
        }
    }
    ranked.sort_by(|(x, a), (y, b)| y.cmp(x).then_with(|| a.key().cmp(&b.key())));
    let ranked: Vec<Suggestion> = ranked.into_iter().map(|(_, s)| s).collect();
    Ok(after(ranked, cursor, limit + 1, Suggestion::key))
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
