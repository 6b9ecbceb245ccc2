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
struct Interests {
    talk: HashSet<String>,
    learn: HashSet<String>,
}

/// How another person's picks meet mine: what they can talk about that I want to learn (`teach`),
/// what they want to learn that I can talk about (`learn`), and the other topics we both picked.
struct Overlap {
    teach: Vec<String>,
    learn: Vec<String>,
    shared: Vec<String>,
}

impl Interests {
    fn of(person: &Profile) -> Self {
        Self::picked(&person.can_talk_about, &person.want_to_learn)
    }

    fn picked(talk: &[String], learn: &[String]) -> Self {
        Self { talk: talk.iter().cloned().collect(), learn: learn.iter().cloned().collect() }
    }

    fn overlap(&self, talk: &[String], learn: &[String]) -> Overlap {
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
    fn score(&self) -> (usize, usize, usize) {
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
fn reasons(me: &Profile, other: &Visible, subject: &str) -> Vec<Reason> {
    Interests::of(me).overlap(&other.can_talk_about, &other.want_to_learn).reasons(subject)
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
/// (`{first}.{second}`, the first's id before the second's).
///
/// Every pair is scored on bit sets of the topics in play (a few machine words a pair, however
/// many pairs: 124,750 for 500 connections); only the page's pairs are put in words.
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
    let mut people: Vec<Profile> = super::profiles(conn, &ids)?
        .into_iter()
        .filter(|p| p.member.open_to_introductions)
        .collect();
    people.sort_by(|a, b| a.member.id.cmp(&b.member.id));
    let ids: Vec<String> = people.iter().map(|p| p.member.id.clone()).collect();
    let place: HashMap<&str, usize> =
        ids.iter().enumerate().map(|(n, id)| (id.as_str(), n)).collect();
    // Pairs never suggested, by their places, the lower first.
    let mut apart: HashSet<(usize, usize)> = HashSet::new();
    for (x, y) in store::connected_among(conn, event_id, &ids)?
        .into_iter()
        .chain(store::introduced_among(conn, event_id, &ids)?)
        .chain(store::blocks_of(conn, &ids)?)
    {
        if let (Some(&x), Some(&y)) = (place.get(x.as_str()), place.get(y.as_str())) {
            apart.insert((x.min(y), x.max(y)));
        }
    }
    let bits = TopicBits::of(people.iter().map(|p| (&p.can_talk_about[..], &p.want_to_learn[..])));
    let mut ranked: Vec<(u32, usize, usize)> = Vec::new();
    for i in 0..people.len() {
        for j in i + 1..people.len() {
            let score = bits.pair_score(i, j);
            if score > 0 && !apart.contains(&(i, j)) {
                ranked.push((score, i, j));
            }
        }
    }
    // Ids sort as their indexes do: by score, then by the pair's key.
    ranked.sort_by(|(x, i, j), (y, k, l)| y.cmp(x).then((i, j).cmp(&(k, l))));
    let key = |&(_, i, j): &(u32, usize, usize)| format!("{}.{}", ids[i], ids[j]);
    let page = after(ranked, cursor, limit + 1, key);
    Ok(page
        .into_iter()
        .map(|(_, i, j)| {
            let (first, second) = (people[i].clone().visible(), people[j].clone().visible());
            Suggestion {
                reasons_for_first: reasons(&people[i], &second, &second.name),
                reasons_for_second: reasons(&people[j], &first, &first.name),
                first,
                second,
            }
        })
        .collect())
}

/// Each person's picks as bit sets over the topics any of them picked.
struct TopicBits {
    words: usize,
    /// Per person, `words` words of what they can talk about, then `words` of what they want to
    /// learn.
    sets: Vec<u64>,
}

impl TopicBits {
    /// From each person's (can talk about, want to learn).
    fn of<'a>(people: impl Iterator<Item = (&'a [String], &'a [String])> + Clone) -> Self {
        let mut index: HashMap<&str, usize> = HashMap::new();
        for (talk, learn) in people.clone() {
            for slug in talk.iter().chain(learn) {
                let next = index.len();
                index.entry(slug.as_str()).or_insert(next);
            }
        }
        let words = index.len().div_ceil(64).max(1);
        let mut sets = Vec::new();
        for (talk, learn) in people {
            for slugs in [talk, learn] {
                let mut set = vec![0u64; words];
                for slug in slugs {
                    let bit = index[slug.as_str()];
                    set[bit / 64] |= 1 << (bit % 64);
                }
                sets.extend(set);
            }
        }
        Self { words, sets }
    }

    fn talk(&self, n: usize) -> &[u64] {
        &self.sets[n * 2 * self.words..(n * 2 + 1) * self.words]
    }

    fn learn(&self, n: usize) -> &[u64] {
        &self.sets[(n * 2 + 1) * self.words..(n * 2 + 2) * self.words]
    }

    /// The pair's fit, as [`Overlap::score`] of each side weighs it: 4 for each topic one can
    /// talk about that the other wants to learn, 2 for each the other wants to learn that one can
    /// talk about, half of the other topics both picked. One side's "teach" is the other's
    /// "learn", and both sides share the same other topics: 6 a teachable topic, 1 a shared one.
    fn pair_score(&self, a: usize, b: usize) -> u32 {
        let (ta, la, tb, lb) = (self.talk(a), self.learn(a), self.talk(b), self.learn(b));
        let mut score = 0;
        for w in 0..self.words {
            let (a_teaches, b_teaches) = (ta[w] & lb[w], tb[w] & la[w]);
            let both = (ta[w] | la[w]) & (tb[w] | lb[w]) & !a_teaches & !b_teaches;
            score += 6 * (a_teaches.count_ones() + b_teaches.count_ones()) + both.count_ones();
        }
        score
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    /// The bit-set score of a pair is what each side's [`Overlap`] gives, weighed as the ranking
    /// of suggestions always did: 4 for teaching, 2 for learning, half the shared topics, both
    /// sides added up.
    #[test]
    fn a_pairs_bit_set_score_is_both_sides_overlaps_weighed() {
        let topics: Vec<String> = (0..70).map(|n| format!("t{n}")).collect();
        // Picks that cross the first word's end (topics 60 to 69), overlap in every way, pick a
        // topic both to talk about and to learn, or nothing at all.
        let picks = |talk: &[usize], learn: &[usize]| -> (Vec<String>, Vec<String>) {
            let names = |n: &[usize]| n.iter().map(|&i| topics[i].clone()).collect();
            (names(talk), names(learn))
        };
        let people = [
            picks(&[1, 2, 3, 65], &[4, 5, 66]),
            picks(&[4, 66, 7], &[1, 2, 69]),
            picks(&[5, 1], &[5, 3, 65]),
            picks(&[], &[]),
            picks(&[69, 68, 67], &[60, 61, 1]),
            picks(&[2], &[2]),
        ];
        let bits = TopicBits::of(people.iter().map(|(t, l)| (&t[..], &l[..])));
        for (i, (ti, li)) in people.iter().enumerate() {
            for (j, (tj, lj)) in people.iter().enumerate().skip(i + 1) {
                let (sa, sb) = (
                    Interests::picked(ti, li).overlap(tj, lj).score(),
                    Interests::picked(tj, lj).overlap(ti, li).score(),
                );
                let weighed = 4 * (sa.0 + sb.0) + 2 * (sa.1 + sb.1) + (sa.2 + sb.2) / 2;
                assert_eq!(bits.pair_score(i, j) as usize, weighed, "people {i} and {j}");
            }
        }
    }
}
