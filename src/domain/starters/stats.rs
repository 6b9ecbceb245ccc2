//! What organizers learn about prompts: per prompt and per topic, how often starters were shown
//! (once per pair), used, and marked helpful or not, and how many of the connections whose
//! follow-ups came from them got one done. Never who was shown what.

use std::collections::HashMap;

use super::rank::Source;
use super::{Stage, library, organizer_prompt_id, settings};
use crate::db::DbConn;
use crate::db::starters::{self as store, Counts};
use crate::domain::topics;
use crate::error::Result;

pub struct PromptStat {
    pub prompt_id: String,
    pub source: Source,
    /// The topic of an organizer's prompt.
    pub topic: Option<String>,
    pub stage: Option<Stage>,
    /// `None` for a prompt no longer in the library (an organizer's prompt since removed).
    pub text: Option<String>,
    /// Whether it is offered now.
    pub enabled: bool,
    pub counts: Counts,
    /// Connections with a follow-up made from this prompt's starters and done.
    pub followed_up: i64,
}

pub struct TopicStat {
    pub slug: String,
    /// `None` for a topic since deleted.
    pub name: Option<String>,
    pub counts: Counts,
    /// Connections with a follow-up made from starters about this topic and done.
    pub followed_up: i64,
}

pub struct PromptStats {
    /// Most followed up first, then most helpful, most used, most shown.
    pub prompts: Vec<PromptStat>,
    /// In the organizers' order; deleted topics last.
    pub topics: Vec<TopicStat>,
    /// Starters about no topic (the general library, company and headline).
    pub without_topic: Counts,
    pub without_topic_followed_up: i64,
}

fn add(to: &mut Counts, from: &Counts) {
    to.shown += from.shown;
    to.used += from.used;
    to.helpful += from.helpful;
    to.not_helpful += from.not_helpful;
}

/// The event's prompt statistics (call as an organizer).
pub fn prompt_stats(conn: &mut DbConn, event_id: &str) -> Result<PromptStats> {
    let settings = settings::load(conn, event_id)?;
    let mut by_prompt: HashMap<String, Counts> = HashMap::new();
    let mut by_topic: HashMap<String, Counts> = HashMap::new();
    for row in store::counts(conn, event_id)? {
        let counts = Counts {
            shown: row.shown,
            used: row.used,
            helpful: row.helpful,
            not_helpful: row.not_helpful,
        };
        add(by_prompt.entry(row.prompt_id).or_default(), &counts);
        add(by_topic.entry(row.topic_slug).or_default(), &counts);
    }
    let mut prompt_done: HashMap<String, i64> =
        store::followed_up(conn, event_id, false)?.into_iter().collect();
    let mut topic_done: HashMap<String, i64> =
        store::followed_up(conn, event_id, true)?.into_iter().collect();
    // A prompt or topic known only by its follow-ups (its counters are kept, so this is rare).
    for id in prompt_done.keys() {
        by_prompt.entry(id.clone()).or_default();
    }
    for slug in topic_done.keys() {
        by_topic.entry(slug.clone()).or_default();
    }
    let mut prompts: Vec<PromptStat> = library::LIBRARY
        .iter()
        .map(|b| PromptStat {
            prompt_id: b.id.to_owned(),
            source: Source::Builtin,
            topic: None,
            stage: Some(b.stage),
            text: Some(b.text.to_owned()),
            enabled: settings.offers(b.id),
            counts: by_prompt.remove(b.id).unwrap_or_default(),
            followed_up: prompt_done.remove(b.id).unwrap_or_default(),
        })
        .collect();
    let all_topics = crate::db::topics::list(conn, event_id)?;
    for topic in &all_topics {
        for p in topics::prompts_of(topic) {
            let id = organizer_prompt_id(&topic.slug, &p.text);
            prompts.push(PromptStat {
                counts: by_prompt.remove(&id).unwrap_or_default(),
                followed_up: prompt_done.remove(&id).unwrap_or_default(),
                prompt_id: id,
                source: Source::Organizer,
                topic: Some(topic.slug.clone()),
                stage: Some(p.stage.unwrap_or(Stage::WorkNow)),
                text: Some(p.text),
                enabled: topic.archived_at.is_none(),
            });
        }
    }
    let mut gone: Vec<(String, Counts)> = by_prompt.into_iter().collect();
    gone.sort_by(|a, b| a.0.cmp(&b.0));
    prompts.extend(gone.into_iter().map(|(prompt_id, counts)| PromptStat {
        followed_up: prompt_done.remove(&prompt_id).unwrap_or_default(),
        source: if prompt_id.starts_with("topic-") { Source::Organizer } else { Source::Builtin },
        prompt_id,
        topic: None,
        stage: None,
        text: None,
        enabled: false,
        counts,
    }));
    // A stable sort: equal prompts stay in library order.
    prompts.sort_by(|a, b| {
        let key = |p: &PromptStat| (p.followed_up, p.counts.helpful, p.counts.used, p.counts.shown);
        key(b).cmp(&key(a))
    });
    let without_topic = by_topic.remove("").unwrap_or_default();
    let without_topic_followed_up = topic_done.remove("").unwrap_or_default();
    let mut topic_stats: Vec<TopicStat> = all_topics
        .into_iter()
        .map(|t| TopicStat {
            counts: by_topic.remove(&t.slug).unwrap_or_default(),
            followed_up: topic_done.remove(&t.slug).unwrap_or_default(),
            slug: t.slug,
            name: Some(t.name),
        })
        .collect();
    let mut deleted: Vec<(String, Counts)> = by_topic.into_iter().collect();
    deleted.sort_by(|a, b| a.0.cmp(&b.0));
    topic_stats.extend(deleted.into_iter().map(|(slug, counts)| TopicStat {
        followed_up: topic_done.remove(&slug).unwrap_or_default(),
        slug,
        name: None,
        counts,
    }));
    Ok(PromptStats { prompts, topics: topic_stats, without_topic, without_topic_followed_up })
}
