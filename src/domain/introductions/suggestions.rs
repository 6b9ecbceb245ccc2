//! Pairs of my connections to introduce, ranked by topic fit, with the reasons for each side.
//!
//! Every pair of my connections open to introductions is scored on bit sets of the topics in
//! play (a few machine words a pair: 124,750 pairs for 500 connections). Pairs introduced before
//! or blocked are few and read at once; whether two of them are already connected is asked only
//! for the pairs a page reads, best first, since my connections may know each other in many
//! thousands of ways. Only the page's pairs are put in words.

use std::cmp::Ordering;
use std::collections::{HashMap, HashSet};

use super::people::reasons;
use crate::db::introductions as store;
use crate::db::{DbConn, connections as connection_store};
use crate::domain::attendees::{self, Profile, Visible};
use crate::error::Result;

/// Two of my connections who could meet, with the reasons for each side.
pub struct Suggestion {
    pub first: Visible,
    pub second: Visible,
    /// Why `second` fits `first`, in words for `first`; and the other way.
    pub reasons_for_first: Vec<super::people::Reason>,
    pub reasons_for_second: Vec<super::people::Reason>,
}

impl Suggestion {
    pub fn key(&self) -> String {
        format!("{}.{}", self.first.attendee_id, self.second.attendee_id)
    }
}

/// A pair by the places of its people (the lower first), with its score.
type Pair = (u32, usize, usize);

/// The ranking: best score first, then by the pair's key (places sort as ids do).
fn ranked_before(a: &Pair, b: &Pair) -> Ordering {
    b.0.cmp(&a.0).then((a.1, a.2).cmp(&(b.1, b.2)))
}

/// Pairs of my connections to introduce, ranked by fit; `limit + 1` from after `cursor`
/// (`{first}.{second}`, the first's id before the second's). A cursor naming someone no longer
/// among them gives an empty page.
pub fn page(
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
    let places = |x: &str, y: &str| Some((*place.get(x)?, *place.get(y)?));
    let mut apart: HashSet<(usize, usize)> = HashSet::new();
    for (x, y) in store::introduced_among(conn, event_id, &ids)?
        .into_iter()
        .chain(store::blocks_of(conn, &ids)?)
    {
        if let Some((x, y)) = places(&x, &y) {
            apart.insert((x.min(y), x.max(y)));
        }
    }
    let bits = TopicBits::of(people.iter().map(|p| (&p.can_talk_about[..], &p.want_to_learn[..])));
    let start: Option<Pair> = match cursor {
        None => None,
        Some(cursor) => match cursor.split_once('.').and_then(|(x, y)| places(x, y)) {
            Some((i, j)) if i < j => Some((bits.pair_score(i, j), i, j)),
            _ => return Ok(Vec::new()),
        },
    };
    let mut ranked: Vec<Pair> = Vec::new();
    for i in 0..people.len() {
        for j in i + 1..people.len() {
            let pair = (bits.pair_score(i, j), i, j);
            if pair.0 > 0
                && !apart.contains(&(i, j))
                && start.is_none_or(|s| ranked_before(&s, &pair) == Ordering::Less)
            {
                ranked.push(pair);
            }
        }
    }
    let wanted = usize::try_from(limit + 1).unwrap_or(usize::MAX).max(1);
    let mut page: Vec<Pair> = Vec::new();
    // The best pairs a few more at a time than the page holds, without sorting them all; those
    // already connected (either way) are dropped.
    while page.len() < wanted && !ranked.is_empty() {
        let take = (2 * wanted).min(ranked.len());
        let rest = if take < ranked.len() {
            ranked.select_nth_unstable_by(take - 1, ranked_before);
            ranked.split_off(take)
        } else {
            Vec::new()
        };
        let mut batch = std::mem::replace(&mut ranked, rest);
        batch.sort_unstable_by(ranked_before);
        let mut in_batch: Vec<String> =
            batch.iter().flat_map(|&(_, i, j)| [ids[i].clone(), ids[j].clone()]).collect();
        in_batch.sort();
        in_batch.dedup();
        let connected: HashSet<(usize, usize)> = store::connected_among(conn, event_id, &in_batch)?
            .into_iter()
            .filter_map(|(x, y)| places(&x, &y))
            .map(|(x, y)| (x.min(y), x.max(y)))
            .collect();
        page.extend(
            batch
                .into_iter()
                .filter(|&(_, i, j)| !connected.contains(&(i, j)))
                .take(wanted - page.len()),
        );
    }
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

    /// The pair's fit, as [`super::people::Overlap::score`] of each side weighs it: 4 for each
    /// topic one can talk about that the other wants to learn, 2 for each the other wants to
    /// learn that one can talk about, half of the other topics both picked. One side's "teach" is
    /// the other's "learn", and both sides share the same other topics: 6 a teachable topic, 1 a
    /// shared one.
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

#[cfg(test)]
mod tests {
    use super::super::people::Interests;
    use super::*;

    /// The bit-set score of a pair is what each side's overlap gives, weighed as the ranking of
    /// suggestions always did: 4 for teaching, 2 for learning, half the shared topics, both sides
    /// added up.
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

    /// The ranking puts the best score first and breaks ties by the pair's places.
    #[test]
    fn pairs_rank_by_score_then_by_places() {
        let mut pairs: Vec<Pair> = vec![(1, 0, 2), (6, 1, 3), (6, 0, 4), (1, 0, 1), (7, 2, 3)];
        pairs.sort_by(ranked_before);
        assert_eq!(pairs, vec![(7, 2, 3), (6, 0, 4), (6, 1, 3), (1, 0, 1), (1, 0, 2)]);
    }
}
