//! Ranking, listening first (pure: no storage). For a viewer about to talk to another person:
//!
//! 1. topics they can talk about that I want to learn;
//! 2. topics we both picked;
//! 3. their other topics;
//! 4. their company and headline (when they share them);
//! 5. the built-in library of general listening prompts.
//!
//! Prompts already used with this person rank below all others; with `after_stage`, starters of
//! the next stage of the arc come first. Inside a tier, each topic (or, in the general library,
//! each stage) gives its best prompt before any gives its second, and no prompt appears twice; a
//! topic gives at most two before the next tier has its turn, so that one topic they know well
//! does not fill the whole list (its other prompts come after the last tier's first two). Ties
//! are broken by a hash of the pair and the prompt: the same pair always gets the same order,
//! another pair another one. A list is never empty: when the organizers' settings leave nothing
//! for a pair, the general library answers.

use std::collections::{HashMap, HashSet};

use super::library::{self, Audience, Builtin};
use super::{Fill, Stage, fill, order_hash, starter_id};
use crate::domain::topics::{MIN_FOLLOW_UPS, TopicPrompt};

/// How many starters each group of a tier gives before the next tier has its turn.
const ROUNDS_BEFORE_NEXT_TIER: usize = 2;

/// A person's topic picks, by slug.
pub struct Picks<'a> {
    pub can_talk_about: &'a [String],
    pub want_to_learn: &'a [String],
}

/// The other person as the viewer may see them: `None` for what they do not share.
pub struct Other<'a> {
    pub first_name: Option<&'a str>,
    pub name: Option<&'a str>,
    pub company: Option<&'a str>,
    pub headline: Option<&'a str>,
    pub picks: Picks<'a>,
}

/// A topic of the event with its organizers' prompts.
pub struct TopicInfo {
    pub slug: String,
    pub name: String,
    pub prompts: Vec<TopicPrompt>,
}

/// What organizers set: built-in prompts on or off, and built-ins switched off one by one.
#[derive(Debug, Clone, Default)]
pub struct Settings {
    pub builtin_prompts: bool,
    pub disabled: HashSet<String>,
}

pub struct Request<'a> {
    pub event_id: &'a str,
    pub event_name: &'a str,
    pub viewer_id: &'a str,
    pub viewer: Picks<'a>,
    pub other_id: &'a str,
    pub other: Other<'a>,
    /// The event's topics by slug (those the two picked suffice).
    pub topics: &'a HashMap<String, TopicInfo>,
    pub settings: &'a Settings,
    /// Prompts the viewer already used with this person.
    pub used: &'a HashSet<String>,
    pub after_stage: Option<Stage>,
    pub limit: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    Builtin,
    Organizer,
}

/// A starter, filled in for the other person.
#[derive(Debug, Clone)]
pub struct Starter {
    pub starter_id: String,
    pub prompt_id: String,
    pub source: Source,
    pub stage: Stage,
    /// (slug, name) of the topic it is about.
    pub topic: Option<(String, String)>,
    pub question: String,
    pub follow_ups: Vec<String>,
    pub listen_for: String,
    pub reason: String,
}

/// A prompt of either kind, seen the same way.
struct Prompt<'a> {
    id: String,
    source: Source,
    stage: Stage,
    text: &'a str,
    follow_ups: Vec<&'a str>,
    listen_for: &'a str,
}

impl<'a> Prompt<'a> {
    fn builtin(b: &'a Builtin) -> Self {
        Self {
            id: b.id.to_owned(),
            source: Source::Builtin,
            stage: b.stage,
            text: b.text,
            follow_ups: b.follow_ups.to_vec(),
            listen_for: b.listen_for,
        }
    }

    /// An organizer's prompt keeps its own follow-ups; with fewer than [`MIN_FOLLOW_UPS`], the
    /// built-in ones about its topic make up the rest.
    fn organizer(topic_slug: &str, p: &'a TopicPrompt) -> Self {
        let mut follow_ups: Vec<&str> = p.follow_ups.iter().map(String::as_str).collect();
        let missing = MIN_FOLLOW_UPS.saturating_sub(follow_ups.len());
        let extra = if follow_ups.is_empty() { library::TOPIC_FOLLOW_UPS.len() } else { missing };
        follow_ups.extend(library::TOPIC_FOLLOW_UPS.into_iter().take(extra));
        Self {
            id: super::organizer_prompt_id(topic_slug, &p.text),
            source: Source::Organizer,
            stage: p.stage.unwrap_or(Stage::WorkNow),
            text: &p.text,
            follow_ups,
            listen_for: p.listen_for.as_deref().unwrap_or(library::TOPIC_LISTEN_FOR),
        }
    }
}

struct Candidate<'a> {
    prompt: Prompt<'a>,
    topic: Option<&'a TopicInfo>,
    tier: u8,
    /// Which group of the tier it competes in (a topic's slug, or a stage in the library).
    group: String,
    /// Within its tier, the order of groups for equal rounds.
    group_order: usize,
    reason: String,
    hash: u64,
}

/// The starters for the pair, best first.
pub fn rank(request: &Request<'_>) -> Vec<Starter> {
    let found = select(request, false);
    if found.is_empty() { select(request, true) } else { found }
}

fn select(request: &Request<'_>, fallback: bool) -> Vec<Starter> {
    let candidates = candidates(request, fallback);
    let wanted = request.after_stage.map(Stage::next);
    let off_stage = |c: &Candidate<'_>| wanted.is_some_and(|w| c.prompt.stage != w);
    let used = |c: &Candidate<'_>| request.used.contains(&c.prompt.id);
    // Each group's candidates in its own order: the stage asked for, unused, organizer prompts
    // first, then by the pair's hash.
    let mut groups: HashMap<(u8, &str), Vec<usize>> = HashMap::new();
    for (i, c) in candidates.iter().enumerate() {
        groups.entry((c.tier, c.group.as_str())).or_default().push(i);
    }
    let mut queues: Vec<(Vec<usize>, usize)> = groups
        .into_values()
        .map(|mut members| {
            members.sort_by_key(|&i| {
                let c = &candidates[i];
                (off_stage(c), used(c), c.prompt.source != Source::Organizer, c.hash)
            });
            (members, 0)
        })
        .collect();
    // Then, one at a time, the best head of a group, where a group that gave two already waits
    // for the next tiers, and a prompt chosen for one topic is skipped in the others.
    let mut chosen: HashSet<&str> = HashSet::new();
    let mut starters = Vec::with_capacity(request.limit);
    while starters.len() < request.limit {
        let mut best: Option<(usize, _)> = None;
        for (q, (members, taken)) in queues.iter_mut().enumerate() {
            while let Some(&i) = members.first() {
                if !chosen.contains(candidates[i].prompt.id.as_str()) {
                    break;
                }
                members.remove(0);
            }
            let Some(&i) = members.first() else { continue };
            let c = &candidates[i];
            let key = (
                off_stage(c),
                used(c),
                *taken >= ROUNDS_BEFORE_NEXT_TIER,
                c.tier,
                *taken,
                c.group_order,
                c.hash,
            );
            if best.as_ref().is_none_or(|(_, k)| key < *k) {
                best = Some((q, key));
            }
        }
        let Some((q, _)) = best else { break };
        let (members, taken) = &mut queues[q];
        let i = members.remove(0);
        let c = &candidates[i];
        chosen.insert(c.prompt.id.as_str());
        if let Some(starter) = fill_in(request, c) {
            *taken += 1;
            starters.push(starter);
        }
    }
    starters
}

fn candidates<'a>(request: &'a Request<'a>, fallback: bool) -> Vec<Candidate<'a>> {
    let settings = request.settings;
    let builtin_ok =
        |b: &Builtin| fallback || (settings.builtin_prompts && !settings.disabled.contains(b.id));
    let hash = |prompt: &str, topic: &str| {
        order_hash(&[request.viewer_id, request.other_id, prompt, topic])
    };
    let mut out = Vec::new();
    let other = &request.other.picks;
    let mine = |slug: &String| {
        request.viewer.can_talk_about.contains(slug) || request.viewer.want_to_learn.contains(slug)
    };
    let mut seen = HashSet::new();
    let their_topics = other.can_talk_about.iter().chain(other.want_to_learn);
    for (position, slug) in their_topics.enumerate() {
        let Some(topic) = request.topics.get(slug) else { continue };
        if !seen.insert(slug) {
            continue;
        }
        let expert = other.can_talk_about.contains(slug);
        let learner = other.want_to_learn.contains(slug);
        let (tier, reason) = if expert && request.viewer.want_to_learn.contains(slug) {
            (1, format!("they can talk about {}; you want to learn it", topic.name))
        } else if mine(slug) {
            (2, format!("you both picked {}", topic.name))
        } else if expert {
            (3, format!("they can talk about {}", topic.name))
        } else {
            (3, format!("they want to learn {}", topic.name))
        };
        let mut push = |prompt: Prompt<'a>| {
            let hash = hash(&prompt.id, slug);
            out.push(Candidate {
                prompt,
                topic: Some(topic),
                tier,
                group: slug.clone(),
                group_order: position,
                reason: reason.clone(),
                hash,
            });
        };
        for p in &topic.prompts {
            push(Prompt::organizer(slug, p));
        }
        for b in library::LIBRARY.iter().filter(|b| builtin_ok(b)) {
            let fits = match b.audience {
                Audience::Topic => true,
                Audience::TopicExpert => expert,
                Audience::TopicLearner => learner,
                _ => false,
            };
            if fits {
                push(Prompt::builtin(b));
            }
        }
    }
    for b in library::LIBRARY.iter().filter(|b| builtin_ok(b)) {
        let (tier, group, group_order, reason) = match b.audience {
            Audience::Company if request.other.company.is_some() => {
                (4, "company".to_owned(), 0, "from their company".to_owned())
            }
            Audience::Headline if request.other.headline.is_some() => {
                (4, "headline".to_owned(), 1, "from their headline".to_owned())
            }
            Audience::Anyone => (
                5,
                b.stage.as_str().to_owned(),
                b.stage as usize,
                format!("a listening question about {}", b.stage.about()),
            ),
            _ => continue,
        };
        out.push(Candidate {
            hash: hash(b.id, ""),
            prompt: Prompt::builtin(b),
            topic: None,
            tier,
            group,
            group_order,
            reason,
        });
    }
    out
}

/// The candidate filled in for the other person; `None` when it needs something they do not share.
fn fill_in(request: &Request<'_>, c: &Candidate<'_>) -> Option<Starter> {
    let other = &request.other;
    let values = Fill {
        first_name: other.first_name,
        name: other.name,
        topic: c.topic.map(|t| t.name.as_str()),
        company: other.company,
        headline: other.headline,
        event: Some(request.event_name),
    };
    let question = fill(c.prompt.text, &values)?;
    let follow_ups =
        c.prompt.follow_ups.iter().map(|f| fill(f, &values)).collect::<Option<Vec<_>>>()?;
    let listen_for = fill(c.prompt.listen_for, &values)?;
    let topic_slug = c.topic.map_or("", |t| t.slug.as_str());
    Some(Starter {
        starter_id: starter_id(
            request.event_id,
            request.viewer_id,
            request.other_id,
            &c.prompt.id,
            topic_slug,
        ),
        prompt_id: c.prompt.id.clone(),
        source: c.prompt.source,
        stage: c.prompt.stage,
        topic: c.topic.map(|t| (t.slug.clone(), t.name.clone())),
        question,
        follow_ups,
        listen_for,
        reason: c.reason.clone(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn topics() -> HashMap<String, TopicInfo> {
        ["rust", "k8s", "a11y", "go"]
            .into_iter()
            .map(|slug| {
                let info =
                    TopicInfo { slug: slug.to_owned(), name: slug.to_uppercase(), prompts: vec![] };
                (slug.to_owned(), info)
            })
            .collect()
    }

    fn strings(items: &[&str]) -> Vec<String> {
        items.iter().map(|s| (*s).to_owned()).collect()
    }

    struct Fixture {
        topics: HashMap<String, TopicInfo>,
        settings: Settings,
        used: HashSet<String>,
        mine: (Vec<String>, Vec<String>),
        theirs: (Vec<String>, Vec<String>),
    }

    impl Fixture {
        fn new() -> Self {
            Self {
                topics: topics(),
                settings: Settings { builtin_prompts: true, disabled: HashSet::new() },
                used: HashSet::new(),
                mine: (strings(&["go"]), strings(&["k8s", "a11y"])),
                theirs: (strings(&["k8s", "go"]), strings(&["a11y", "rust"])),
            }
        }

        fn rank(&self, viewer: &str, other: &str, after: Option<Stage>) -> Vec<Starter> {
            rank(&Request {
                event_id: "event",
                event_name: "RustConf",
                viewer_id: viewer,
                viewer: Picks { can_talk_about: &self.mine.0, want_to_learn: &self.mine.1 },
                other_id: other,
                other: Other {
                    first_name: Some("Bob"),
                    name: Some("Bob Smith"),
                    company: Some("Ferrous"),
                    headline: None,
                    picks: Picks { can_talk_about: &self.theirs.0, want_to_learn: &self.theirs.1 },
                },
                topics: &self.topics,
                settings: &self.settings,
                used: &self.used,
                after_stage: after,
                limit: 10,
            })
        }
    }

    #[test]
    fn what_they_can_teach_me_comes_first_then_shared_then_theirs_then_the_library() {
        let fixture = Fixture::new();
        let starters = fixture.rank("ada", "bob", None);
        assert_eq!(starters.len(), 10);
        assert_eq!(starters[0].topic.as_ref().map(|t| t.0.as_str()), Some("k8s"));
        assert_eq!(starters[0].reason, "they can talk about K8S; you want to learn it");
        let reasons: Vec<&str> = starters.iter().map(|s| s.reason.as_str()).collect();
        let first_shared = reasons.iter().position(|r| r.starts_with("you both picked")).unwrap();
        let first_theirs = reasons.iter().position(|r| r.starts_with("they want to learn RUST"));
        assert!(reasons[..first_shared].iter().all(|r| r.contains("K8S")), "{reasons:?}");
        assert!(first_theirs.is_none_or(|t| t > first_shared), "{reasons:?}");
        let ids: HashSet<&str> = starters.iter().map(|s| s.prompt_id.as_str()).collect();
        assert_eq!(ids.len(), starters.len(), "no prompt twice");
    }

    #[test]
    fn the_order_is_stable_for_a_pair_and_differs_between_pairs() {
        let fixture = Fixture::new();
        let ids = |v, o| -> Vec<String> {
            fixture.rank(v, o, None).into_iter().map(|s| s.prompt_id).collect()
        };
        assert_eq!(ids("ada", "bob"), ids("ada", "bob"));
        let pairs = ["carol", "dan", "erin", "frank"].map(|o| ids("ada", o));
        assert!(pairs.iter().any(|p| *p != ids("ada", "bob")));
    }

    #[test]
    fn used_prompts_rank_down_and_after_stage_asks_for_the_next_stage() {
        let mut fixture = Fixture::new();
        let first = fixture.rank("ada", "bob", None).remove(0);
        fixture.used.insert(first.prompt_id.clone());
        let again = fixture.rank("ada", "bob", None);
        assert_ne!(again[0].prompt_id, first.prompt_id);
        assert!(again.iter().all(|s| s.prompt_id != first.prompt_id), "below ten better ones");
        let next = fixture.rank("ada", "bob", Some(Stage::Story));
        assert!(next.iter().all(|s| s.stage == Stage::WorkNow), "{next:?}");
    }

    #[test]
    fn an_organizer_prompt_always_brings_two_or_three_follow_ups() {
        let prompt = |follow_ups: &[&str]| TopicPrompt {
            text: "What are you building with {topic} now?".to_owned(),
            stage: None,
            follow_ups: strings(follow_ups),
            listen_for: None,
        };
        let own = "What made you pick {topic} for it?";
        let given = |follow_ups: &[&str]| -> Vec<String> {
            let prompt = prompt(follow_ups);
            Prompt::organizer("rust", &prompt).follow_ups.into_iter().map(str::to_owned).collect()
        };
        assert_eq!(given(&[]), strings(&library::TOPIC_FOLLOW_UPS));
        assert_eq!(given(&[own]), strings(&[own, library::TOPIC_FOLLOW_UPS[0]]));
        assert_eq!(given(&[own, own]), strings(&[own, own]));
        assert_eq!(given(&[own, own, own]).len(), 3);
    }

    #[test]
    fn a_person_with_nothing_gets_the_general_library_even_with_built_ins_off() {
        let mut fixture = Fixture::new();
        fixture.theirs = (vec![], vec![]);
        fixture.settings.builtin_prompts = false;
        let starters = rank(&Request {
            event_id: "event",
            event_name: "RustConf",
            viewer_id: "ada",
            viewer: Picks { can_talk_about: &[], want_to_learn: &[] },
            other_id: "bob",
            other: Other {
                first_name: None,
                name: None,
                company: None,
                headline: None,
                picks: Picks { can_talk_about: &[], want_to_learn: &[] },
            },
            topics: &fixture.topics,
            settings: &fixture.settings,
            used: &fixture.used,
            after_stage: None,
            limit: 5,
        });
        assert_eq!(starters.len(), 5);
        assert!(starters.iter().all(|s| s.topic.is_none() && !s.question.contains('{')));
        assert!(starters.iter().all(|s| !s.question.contains("{first_name}")));
    }
}
