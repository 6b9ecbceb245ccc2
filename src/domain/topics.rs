//! Topics: seeded in bulk by organizers (an idempotent upsert by slug), chosen by attendees.

use std::collections::{HashMap, HashSet};

use serde::{Deserialize, Serialize};

use super::starters::{self, Stage};
use super::text::{self, Lines};
use crate::db::topics::{self as store, Topic, TopicRow};
use crate::db::{self, DbConn};
use crate::error::{Error, FieldError, Result};

pub const MAX_TOPICS: usize = 200;
pub const MAX_PROMPTS: usize = 10;
pub const MAX_NAME: usize = 100;
/// A topic slug's length in characters.
pub const SLUG_LEN: std::ops::RangeInclusive<usize> = 1..=64;
pub const MAX_DESCRIPTION: usize = 1000;
pub const PROMPT_LEN: std::ops::RangeInclusive<usize> = 10..=300;
/// Follow-ups an organizer's prompt may bring, each a question like the prompt.
pub const MAX_FOLLOW_UPS: usize = 3;
/// Follow-ups every starter has at least: an organizer's prompt that brings fewer gets the
/// built-in ones about its topic after its own.
pub const MIN_FOLLOW_UPS: usize = 2;
/// A listen-for hint: what in the answer could become a follow-up.
pub const LISTEN_FOR_LEN: std::ops::RangeInclusive<usize> = 1..=300;

/// An organizer's conversation prompt for a topic: the question, and optionally its stage in the
/// arc (`work_now` when not given), deeper follow-ups and a listen-for hint (the built-in
/// companions of topic prompts when not given).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TopicPrompt {
    pub text: String,
    pub stage: Option<Stage>,
    pub follow_ups: Vec<String>,
    pub listen_for: Option<String>,
}

/// A prompt as stored in `topics.prompts` (a JSON array): the bare question when it brings
/// nothing else, so that prompts seeded before stages existed read and compare the same.
#[derive(Serialize, Deserialize)]
#[serde(untagged)]
enum StoredPrompt {
    Text(String),
    Detailed {
        text: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        stage: Option<String>,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        follow_ups: Vec<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        listen_for: Option<String>,
    },
}

impl From<&TopicPrompt> for StoredPrompt {
    fn from(p: &TopicPrompt) -> Self {
        if p.stage.is_none() && p.follow_ups.is_empty() && p.listen_for.is_none() {
            return Self::Text(p.text.clone());
        }
        Self::Detailed {
            text: p.text.clone(),
            stage: p.stage.map(|s| s.as_str().to_owned()),
            follow_ups: p.follow_ups.clone(),
            listen_for: p.listen_for.clone(),
        }
    }
}

impl From<StoredPrompt> for TopicPrompt {
    fn from(p: StoredPrompt) -> Self {
        match p {
            StoredPrompt::Text(text) => Self { text, ..Self::default() },
            StoredPrompt::Detailed { text, stage, follow_ups, listen_for } => Self {
                text,
                stage: stage.as_deref().and_then(Stage::parse),
                follow_ups,
                listen_for,
            },
        }
    }
}

/// A prompt as an organizer sends it, not yet checked.
#[derive(Debug, Clone, Default)]
pub struct PromptInput {
    pub text: String,
    pub stage: Option<Stage>,
    pub follow_ups: Vec<String>,
    pub listen_for: Option<String>,
}

/// A valid topic as an organizer seeds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TopicSpec {
    pub slug: String,
    pub name: String,
    pub description: String,
    pub prompts: Vec<TopicPrompt>,
}

/// Topic slugs: 1 to 64 lower-case letters, digits and single hyphens, e.g. `rust` or `machine-learning`.
pub fn parse_slug(raw: &str) -> Result<String, String> {
    let ok = SLUG_LEN.contains(&raw.len())
        && raw.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && !raw.starts_with('-')
        && !raw.ends_with('-')
        && !raw.contains("--");
    if ok {
        Ok(raw.to_owned())
    } else {
        Err(format!(
            "`{raw}` is not a topic slug: use 1 to 64 lower-case letters, digits and single hyphens"
        ))
    }
}

/// An open question of 10 to 300 characters, ending in `?`, not opening with a yes/no word, using
/// only known placeholders and filling in completely (see [`starters::check_question`]). The
/// message of a refusal quotes the prompt.
pub fn parse_prompt(raw: &str) -> Result<String, String> {
    let prompt = raw.trim();
    let quoted = quote(prompt);
    if !PROMPT_LEN.contains(&prompt.chars().count()) {
        return Err(format!(
            "{quoted} must be {} to {} characters",
            PROMPT_LEN.start(),
            PROMPT_LEN.end()
        ));
    }
    if let Some(problem) = text::problem(prompt, Lines::One) {
        return Err(format!("{quoted}: {problem}"));
    }
    starters::check_question(prompt).map_err(|problem| format!("{quoted} {problem}"))?;
    Ok(prompt.to_owned())
}

/// The prompt as a refusal names it: quoted, cut after 60 characters.
fn quote(prompt: &str) -> String {
    let mut shown: String = prompt.chars().take(60).collect();
    if prompt.chars().count() > 60 {
        shown.push('…');
    }
    format!("`{shown}`")
}

/// Checks one prompt with its details; failures are pushed under `field` (`topics[1].prompts[0]`).
fn parse_topic_prompt(
    field: &str,
    input: PromptInput,
    errors: &mut Vec<FieldError>,
) -> TopicPrompt {
    let text = parse_prompt(&input.text)
        .map_err(|message| errors.push(FieldError::new(field, message)))
        .unwrap_or_default();
    if input.follow_ups.len() > MAX_FOLLOW_UPS {
        errors.push(FieldError::new(
            format!("{field}.follow_ups"),
            format!("at most {MAX_FOLLOW_UPS} follow-ups"),
        ));
    }
    let mut follow_ups = Vec::with_capacity(input.follow_ups.len());
    for (k, raw) in input.follow_ups.iter().enumerate() {
        match parse_prompt(raw) {
            Ok(question) => follow_ups.push(question),
            Err(message) => {
                errors.push(FieldError::new(format!("{field}.follow_ups[{k}]"), message))
            }
        }
    }
    let listen_for = input.listen_for.map(|raw| {
        let hint = raw.trim().to_owned();
        let problem = if !LISTEN_FOR_LEN.contains(&hint.chars().count()) {
            Some(format!(
                "must be {} to {} characters",
                LISTEN_FOR_LEN.start(),
                LISTEN_FOR_LEN.end()
            ))
        } else {
            text::problem(&hint, Lines::One)
                .map(str::to_owned)
                .or_else(|| starters::check_text(&hint).err())
        };
        if let Some(problem) = problem {
            errors.push(FieldError::new(format!("{field}.listen_for"), problem));
        }
        hint
    });
    TopicPrompt { text, stage: input.stage, follow_ups, listen_for }
}

/// Checks a whole seed list: every item valid, no slug twice, at most [`MAX_TOPICS`].
pub fn parse_specs(
    items: Vec<(String, String, Option<String>, Vec<PromptInput>)>,
) -> Result<Vec<TopicSpec>> {
    if items.len() > MAX_TOPICS {
        return Err(Error::invalid_field(
            "topics",
            format!("at most {MAX_TOPICS} topics per event"),
        ));
    }
    let mut errors = Vec::new();
    let mut seen = HashMap::new();
    let mut specs = Vec::with_capacity(items.len());
    for (i, (slug, name, description, prompts)) in items.into_iter().enumerate() {
        let field = |f: &str| format!("topics[{i}].{f}");
        match parse_slug(&slug) {
            Ok(slug) => {
                if let Some(first) = seen.insert(slug.clone(), i) {
                    errors.push(FieldError::new(
                        field("slug"),
                        format!("`{slug}` is also topics[{first}]"),
                    ));
                }
            }
            Err(message) => errors.push(FieldError::new(field("slug"), message)),
        }
        let name = name.trim().to_owned();
        if name.is_empty() || name.chars().count() > MAX_NAME {
            errors.push(FieldError::new(
                field("name"),
                format!("must be 1 to {MAX_NAME} characters"),
            ));
        } else if let Some(problem) = text::problem(&name, Lines::One) {
            errors.push(FieldError::new(field("name"), problem));
        }
        let description = description.unwrap_or_default().trim().to_owned();
        if description.chars().count() > MAX_DESCRIPTION {
            errors.push(FieldError::new(
                field("description"),
                format!("must be at most {MAX_DESCRIPTION} characters"),
            ));
        } else if let Some(problem) = text::problem(&description, Lines::Many) {
            errors.push(FieldError::new(field("description"), problem));
        }
        if prompts.len() > MAX_PROMPTS {
            errors.push(FieldError::new(
                field("prompts"),
                format!("at most {MAX_PROMPTS} prompts per topic"),
            ));
        }
        let parsed = prompts
            .into_iter()
            .enumerate()
            .map(|(j, prompt)| {
                parse_topic_prompt(&field(&format!("prompts[{j}]")), prompt, &mut errors)
            })
            .collect();
        specs.push(TopicSpec { slug, name, description, prompts: parsed });
    }
    if errors.is_empty() { Ok(specs) } else { Err(Error::validation(errors)) }
}

/// What a seed changed.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct SeedReport {
    pub created: usize,
    pub updated: usize,
    pub unchanged: usize,
    /// Left out but chosen by someone: kept, hidden from new choices.
    pub archived: usize,
    /// Left out and chosen by nobody: removed.
    pub deleted: usize,
}

/// Makes the event's topics match `specs`, in their order. Topics left out are deleted, or archived
/// when someone chose them; sending an archived topic again restores it.
pub fn seed(conn: &mut DbConn, event_id: &str, specs: &[TopicSpec]) -> Result<SeedReport> {
    // One seeding or import of the event at a time (see `db::events::lock`).
    db::events::lock(conn, event_id)?;
    let now = db::now();
    let existing: HashMap<String, Topic> =
        store::list(conn, event_id)?.into_iter().map(|t| (t.slug.clone(), t)).collect();
    let mut report = SeedReport::default();
    for (position, spec) in specs.iter().enumerate() {
        let position = i32::try_from(position).unwrap_or(i32::MAX);
        let prompts = prompts_json(&spec.prompts)?;
        let row = |id, created_at| TopicRow {
            id,
            event_id,
            slug: &spec.slug,
            name: &spec.name,
            description: &spec.description,
            prompts: &prompts,
            position,
            archived_at: None,
            created_at,
            updated_at: now,
        };
        match existing.get(&spec.slug) {
            Some(topic) if same(topic, spec, &prompts, position) => report.unchanged += 1,
            Some(topic) => {
                store::update(conn, &row(&topic.id, topic.created_at))?;
                report.updated += 1;
            }
            None => {
                store::insert(conn, &row(&db::new_id(), now))?;
                report.created += 1;
            }
        }
    }
    let kept: HashSet<&str> = specs.iter().map(|s| s.slug.as_str()).collect();
    let left_out: Vec<String> = existing
        .values()
        .filter(|t| !kept.contains(t.slug.as_str()) && t.archived_at.is_none())
        .map(|t| t.id.clone())
        .collect();
    // A choice being written now (an attendee's PATCH) holds its topic until it commits: wait for
    // it before counting choices, so that a chosen topic is archived rather than deleted.
    store::lock(conn, &left_out)?;
    let chosen: HashSet<String> = store::chosen_ids(conn, event_id)?.into_iter().collect();
    let mut to_delete = Vec::new();
    for topic in
        existing.values().filter(|t| !kept.contains(t.slug.as_str()) && t.archived_at.is_none())
    {
        if chosen.contains(&topic.id) {
            store::update(
                conn,
                &TopicRow {
                    id: &topic.id,
                    event_id,
                    slug: &topic.slug,
                    name: &topic.name,
                    description: &topic.description,
                    prompts: &topic.prompts,
                    position: topic.position,
                    archived_at: Some(now),
                    created_at: topic.created_at,
                    updated_at: now,
                },
            )?;
            report.archived += 1;
        } else {
            to_delete.push(topic.id.clone());
        }
    }
    report.deleted = store::delete(conn, &to_delete)?;
    Ok(report)
}

fn same(topic: &Topic, spec: &TopicSpec, prompts: &str, position: i32) -> bool {
    topic.archived_at.is_none()
        && topic.name == spec.name
        && topic.description == spec.description
        && topic.prompts == prompts
        && topic.position == position
}

/// Prompts as stored in `topics.prompts`.
fn prompts_json(prompts: &[TopicPrompt]) -> Result<String> {
    let stored: Vec<StoredPrompt> = prompts.iter().map(StoredPrompt::from).collect();
    serde_json::to_string(&stored).map_err(Error::internal)
}

/// The prompts of a stored topic.
pub fn prompts_of(topic: &Topic) -> Vec<TopicPrompt> {
    serde_json::from_str::<Vec<StoredPrompt>>(&topic.prompts)
        .unwrap_or_default()
        .into_iter()
        .map(TopicPrompt::from)
        .collect()
}

/// The event's topics that can be chosen now, by slug.
pub fn choosable(conn: &mut DbConn, event_id: &str) -> Result<HashMap<String, String>> {
    Ok(store::list(conn, event_id)?
        .into_iter()
        .filter(|t| t.archived_at.is_none())
        .map(|t| (t.slug, t.id))
        .collect())
}

/// The id of the choosable topic `slug`, for a filter by topic: `None` without one; a slug that
/// is not a topic of the event is a `validation_failed` on `topic`.
pub fn filter_id(conn: &mut DbConn, event_id: &str, slug: Option<&str>) -> Result<Option<String>> {
    let Some(slug) = slug else { return Ok(None) };
    choosable(conn, event_id)?.remove(slug).map(Some).ok_or_else(|| {
        crate::error::Error::invalid_field(
            "topic",
            format!("`{slug}` is not a topic of this event"),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn open_questions_with_known_placeholders_are_prompts() {
        assert_eq!(
            parse_prompt(" What got you into {topic}, {first_name}? "),
            Ok("What got you into {topic}, {first_name}?".to_owned())
        );
    }

    #[test]
    fn statements_yes_no_questions_and_unknown_placeholders_are_not() {
        assert!(parse_prompt("Tell me about your work.").unwrap_err().contains("question"));
        assert!(parse_prompt("Do you like {topic}?").unwrap_err().contains("yes/no"));
        assert!(parse_prompt("What is {employer} building?").unwrap_err().contains("{employer}"));
        assert!(parse_prompt("What is {company} building?").is_ok());
        assert!(parse_prompt("What is {topic building?").is_err());
        assert!(parse_prompt("Why?").is_err());
    }

    #[test]
    fn slugs_are_lower_case_without_spaces() {
        assert!(parse_slug("machine-learning").is_ok());
        for bad in ["Rust", "machine learning", "", "-x", "a--b", "ü"] {
            assert!(parse_slug(bad).is_err(), "{bad:?}");
        }
    }
}
