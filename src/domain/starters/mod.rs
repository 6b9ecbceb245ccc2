//! Conversation starters: open questions about the other person, ranked so that people listen first.
//!
//! A starter is a prompt (built-in, see [`library`], or an organizer's, seeded with a topic) filled
//! in from what the other person shares, with its stage in the arc of a conversation, a few deeper
//! follow-up questions, a "listen for" hint and the reason it was chosen. [`rank`] orders them for
//! a pair (pure); [`record`] keeps what each person was shown, their feedback, and the counters
//! organizers read in [`stats`].

pub mod library;
pub mod pair;
pub mod rank;
pub mod record;
pub mod settings;
pub mod stats;

use sha2::{Digest, Sha256};

/// Where a starter sits in the arc of a good conversation, which follows an informational
/// interview: the event (the opener), their story, their work now, what is hard or exciting in
/// it, their advice, who else to meet, how I could help.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Stage {
    Event,
    Story,
    WorkNow,
    Challenges,
    Advice,
    WhoToMeet,
    HowToHelp,
}

impl Stage {
    /// Every stage in the order of the arc.
    pub const ARC: [Stage; 7] = [
        Stage::Event,
        Stage::Story,
        Stage::WorkNow,
        Stage::Challenges,
        Stage::Advice,
        Stage::WhoToMeet,
        Stage::HowToHelp,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Event => "event",
            Self::Story => "story",
            Self::WorkNow => "work_now",
            Self::Challenges => "challenges",
            Self::Advice => "advice",
            Self::WhoToMeet => "who_to_meet",
            Self::HowToHelp => "how_to_help",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        Self::ARC.into_iter().find(|s| s.as_str() == raw)
    }

    /// The stage after this one; the last stage (how to help) is where a conversation is meant to
    /// arrive, so it stays there.
    pub fn next(self) -> Self {
        let at = Self::ARC.iter().position(|s| *s == self).unwrap_or(0);
        Self::ARC[(at + 1).min(Self::ARC.len() - 1)]
    }

    /// What the stage is about, for reasons ("a listening question about their story").
    pub fn about(self) -> &'static str {
        match self {
            Self::Event => "the event you are both at",
            Self::Story => "their story: how they got here",
            Self::WorkNow => "their work now",
            Self::Challenges => "what is hard or exciting in their work",
            Self::Advice => "their advice",
            Self::WhoToMeet => "who else you should meet",
            Self::HowToHelp => "how you could help them",
        }
    }
}

/// The placeholders a prompt may use, filled from what the other person shares.
pub const PLACEHOLDERS: [&str; 6] = ["first_name", "name", "topic", "company", "headline", "event"];

/// Words that open a yes/no question ("Do you…?"), which ends a conversation instead of opening one.
const CLOSED_OPENERS: [&str; 20] = [
    "am", "are", "is", "was", "were", "do", "does", "did", "have", "has", "had", "can", "could",
    "will", "would", "should", "shall", "may", "might", "must",
];

/// The values placeholders are filled with; `None` when the other person does not share it (a
/// prompt that needs it is then not offered).
#[derive(Debug, Clone, Copy, Default)]
pub struct Fill<'a> {
    pub first_name: Option<&'a str>,
    pub name: Option<&'a str>,
    pub topic: Option<&'a str>,
    pub company: Option<&'a str>,
    pub headline: Option<&'a str>,
    pub event: Option<&'a str>,
}

impl<'a> Fill<'a> {
    fn value(&self, placeholder: &str) -> Option<&'a str> {
        match placeholder {
            "first_name" => self.first_name,
            "name" => self.name,
            "topic" => self.topic,
            "company" => self.company,
            "headline" => self.headline,
            "event" => self.event,
            _ => None,
        }
    }

    /// Sample values for every placeholder, for checking that a prompt fills completely.
    pub const SAMPLE: Fill<'static> = Fill {
        first_name: Some("Ada"),
        name: Some("Ada Lovelace"),
        topic: Some("Rust"),
        company: Some("Analytical Engines"),
        headline: Some("Builds compilers"),
        event: Some("RustConf"),
    };
}

/// The placeholders `text` uses, in order, or what is wrong with its braces.
pub fn placeholders(text: &str) -> Result<Vec<&str>, String> {
    let mut found = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find(['{', '}']) {
        if rest[start..].starts_with('}') {
            return Err("has a `}` without a matching `{`".to_owned());
        }
        let Some(len) = rest[start..].find('}') else {
            return Err("has a `{` without a matching `}`".to_owned());
        };
        let name = &rest[start + 1..start + len];
        if !PLACEHOLDERS.contains(&name) {
            return Err(format!(
                "uses the unknown placeholder `{{{name}}}`; known: {}",
                PLACEHOLDERS.map(|p| format!("{{{p}}}")).join(", ")
            ));
        }
        found.push(name);
        rest = &rest[start + len + 1..];
    }
    Ok(found)
}

/// `template` with its placeholders filled in one pass (braces in the values stay as they are),
/// or `None` when a value it needs is missing.
pub fn fill(template: &str, values: &Fill<'_>) -> Option<String> {
    let mut out = String::with_capacity(template.len() + 32);
    let mut rest = template;
    while let Some(start) = rest.find('{') {
        let len = rest[start..].find('}')?;
        out.push_str(&rest[..start]);
        out.push_str(values.value(&rest[start + 1..start + len])?);
        rest = &rest[start + len + 1..];
    }
    out.push_str(rest);
    Some(out)
}

/// Checks a question a starter asks (a prompt or one of its follow-ups): it ends in `?`, does not
/// open with a yes/no word, uses only known placeholders, and fills without leaving a brace.
pub fn check_question(text: &str) -> Result<(), String> {
    if !text.ends_with('?') {
        return Err("must be a question ending in `?`, not a statement".to_owned());
    }
    let first_word = opener(text);
    if CLOSED_OPENERS.contains(&first_word.as_str()) {
        return Err(format!(
            "is a yes/no question (it starts with `{first_word}`): ask an open one, with what, how or why"
        ));
    }
    check_text(text)
}

/// The word a question opens with, after any address to the person ("{first_name}, do you…?"),
/// lowercased, its negation undone ("isn't" → "is", "won't" → "will").
fn opener(text: &str) -> String {
    let mut words = text.split_whitespace();
    let mut word = words.next().unwrap_or_default();
    while word.ends_with(',') {
        let Some(next) = words.next() else { break };
        word = next;
    }
    let word =
        word.trim_matches(|c: char| !c.is_alphanumeric()).to_lowercase().replace('\u{2019}', "'");
    match word.strip_suffix("n't") {
        Some("ca") => "can".to_owned(),
        Some("wo") => "will".to_owned(),
        Some("sha") => "shall".to_owned(),
        Some(stem) => stem.to_owned(),
        None => word,
    }
}

/// Checks any text of a starter (a listen-for hint too): known placeholders, no brace left when
/// filled.
pub fn check_text(text: &str) -> Result<(), String> {
    placeholders(text)?;
    match fill(text, &Fill::SAMPLE) {
        Some(filled) if !filled.contains(['{', '}']) => Ok(()),
        _ => Err("does not fill in completely: a brace would be left".to_owned()),
    }
}

/// A starter's id: made from the event, the pair, the prompt and the topic, so the same pair is
/// shown the same ids on every call, and nobody else's starters are named by them. UUID-shaped.
pub fn starter_id(
    event_id: &str,
    viewer_id: &str,
    other_id: &str,
    prompt_id: &str,
    topic: &str,
) -> String {
    let mut hasher = Sha256::new();
    for part in ["starter", event_id, viewer_id, other_id, prompt_id, topic] {
        hasher.update(part.as_bytes());
        hasher.update([0u8]);
    }
    let digest = hasher.finalize();
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&digest[..16]);
    uuid::Builder::from_custom_bytes(bytes).into_uuid().to_string()
}

/// The id of an organizer's prompt of a topic: its topic and a hash of its text, so that it keeps
/// its counters when the topics are seeded again with the same prompt.
pub fn organizer_prompt_id(topic_slug: &str, text: &str) -> String {
    let digest = Sha256::digest(text.as_bytes());
    let hex: String = digest[..4].iter().map(|b| format!("{b:02x}")).collect();
    format!("topic-{topic_slug}-{hex}")
}

/// A hash for ordering (FNV-1a, 64 bits): the same on every run and every platform, unlike std's.
pub fn order_hash(parts: &[&str]) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for part in parts {
        for byte in part.bytes().chain([0xff]) {
            hash ^= u64::from(byte);
            hash = hash.wrapping_mul(0x0100_0000_01b3);
        }
    }
    hash
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_fill_in_one_pass_and_missing_values_give_nothing() {
        let values = Fill { topic: Some("{x}"), first_name: Some("Ada"), ..Fill::default() };
        assert_eq!(fill("{first_name}, why {topic}?", &values).as_deref(), Some("Ada, why {x}?"));
        assert_eq!(fill("What is {company} like?", &values), None);
    }

    #[test]
    fn closed_questions_unknown_placeholders_and_statements_are_refused() {
        assert!(check_question("What pulled you into {topic}?").is_ok());
        assert!(check_question("Do you like {topic}?").unwrap_err().contains("yes/no"));
        assert!(check_question("{first_name}, what brought you here?").is_ok());
        for closed in [
            "{first_name}, do you like {topic}?",
            "Ada, is {topic} hard?",
            "Isn't {topic} hard?",
            "Don\u{2019}t you love {topic}?",
            "Won't {topic} win?",
            "Can't {company} hire more?",
        ] {
            assert!(check_question(closed).unwrap_err().contains("yes/no"), "{closed}");
        }
        assert!(check_question("Tell me more.").unwrap_err().contains("question"));
        assert!(check_question("What is {employer} building?").unwrap_err().contains("{employer}"));
        assert!(check_question("What is {topic building?").is_err());
        assert!(check_question("What is topic} building?").is_err());
    }

    #[test]
    fn starter_ids_are_stable_and_differ_between_pairs() {
        let a = starter_id("e", "ada", "bob", "story-01", "");
        assert_eq!(a, starter_id("e", "ada", "bob", "story-01", ""));
        assert_ne!(a, starter_id("e", "bob", "ada", "story-01", ""));
        assert!(uuid::Uuid::parse_str(&a).is_ok());
    }

    #[test]
    fn the_arc_ends_at_how_to_help() {
        assert_eq!(Stage::Story.next(), Stage::WorkNow);
        assert_eq!(Stage::HowToHelp.next(), Stage::HowToHelp);
        assert!(Stage::ARC.iter().all(|s| Stage::parse(s.as_str()) == Some(*s)));
    }
}
