//! Starters for one pair: who may ask for them (the checks), what is read to rank them, and what
//! of the answer is new and must be recorded.

use std::collections::{HashMap, HashSet};

use super::rank::{self, Other, Picks, Starter, TopicInfo};
use super::{Stage, settings};
use crate::db::starters::{self as store, Show};
use crate::db::{self, DbConn};
use crate::domain::attendees::{self, Profile};
use crate::domain::topics;
use crate::error::{Error, ErrorCode, Result};

/// Whom the starters are for: an attendee of the event, or the other side of my connection.
pub enum Target {
    Attendee(String),
    Connection(String),
}

/// A starter with what the viewer said of it so far.
pub struct ShownStarter {
    pub starter: Starter,
    pub used: bool,
    pub helpful: Option<bool>,
}

pub struct PairStarters {
    pub attendee_id: String,
    pub starters: Vec<ShownStarter>,
    /// The starters shown for the first time: [`super::record::record`] them.
    pub unrecorded: Vec<Show>,
}

fn attendee_not_found() -> Error {
    Error::not_found(
        ErrorCode::AttendeeNotFound,
        "No attendee with this id in this event is visible to you.",
    )
}

fn connection_not_found() -> Error {
    Error::not_found(
        ErrorCode::ConnectionNotFound,
        "You have no connection with this id in this event.",
    )
}

/// The ranked starters for the caller and the target. A person of another event or unknown is
/// `attendee_not_found`, as is one who is not in the directory, unless the caller is connected
/// with them; the caller themselves is `starters_for_self` (422).
pub fn for_pair(
    conn: &mut DbConn,
    event_id: &str,
    account_id: &str,
    target: Target,
    after_stage: Option<Stage>,
    limit: usize,
) -> Result<PairStarters> {
    let me = attendees::member(conn, event_id, account_id)?;
    let other = match target {
        Target::Attendee(id) => {
            let other = db::attendees::find(conn, event_id, &id)?.ok_or_else(attendee_not_found)?;
            if other.0.id == me.0.id {
                return Err(Error::unprocessable(
                    ErrorCode::StartersForSelf,
                    "Starters are questions to ask someone else: pick another attendee.",
                ));
            }
            if !other.0.in_directory && !store::connected(conn, event_id, &me.0.id, &other.0.id)? {
                return Err(attendee_not_found());
            }
            other
        }
        Target::Connection(id) => {
            let connection = db::connections::find_for_owner(conn, &me.0.id, &id)?
                .filter(|c| c.event_id == event_id)
                .ok_or_else(connection_not_found)?;
            db::attendees::find(conn, event_id, &connection.other_id)?
                .ok_or_else(connection_not_found)?
        }
    };
    let mut profiles = attendees::with_topics(conn, vec![me, other])?.into_iter();
    let (Some(me), Some(other)) = (profiles.next(), profiles.next()) else {
        return Err(Error::internal(anyhow::anyhow!("profiles vanished")));
    };
    let event = db::events::find(conn, event_id)?.ok_or_else(|| {
        Error::not_found(ErrorCode::EventNotFound, "No event with this id is visible to you.")
    })?;
    let slugs: Vec<String> =
        other.can_talk_about.iter().chain(&other.want_to_learn).cloned().collect();
    let topics: HashMap<String, TopicInfo> = store::topics_by_slug(conn, event_id, &slugs)?
        .into_iter()
        .map(|t| {
            let info = TopicInfo { prompts: topics::prompts_of(&t), slug: t.slug, name: t.name };
            (info.slug.clone(), info)
        })
        .collect();
    let settings = settings::load(conn, event_id)?.for_ranking();
    let shows: HashMap<String, Show> = store::shows_between(conn, &me.member.id, &other.member.id)?
        .into_iter()
        .map(|s| (s.id.clone(), s))
        .collect();
    let used: HashSet<String> =
        shows.values().filter(|s| s.used_at.is_some()).map(|s| s.prompt_id.clone()).collect();
    let name = real_name(&other);
    let shared = other.shared();
    let ranked = rank::rank(&rank::Request {
        event_id,
        event_name: &event.name,
        viewer_id: &me.member.id,
        viewer: Picks { can_talk_about: &me.can_talk_about, want_to_learn: &me.want_to_learn },
        other_id: &other.member.id,
        other: Other {
            first_name: name.and_then(|n| n.split_whitespace().next()),
            name,
            company: other.member.company.as_deref().filter(|_| shared.company),
            headline: other.member.headline.as_deref().filter(|_| shared.headline),
            picks: Picks {
                can_talk_about: &other.can_talk_about,
                want_to_learn: &other.want_to_learn,
            },
        },
        topics: &topics,
        settings: &settings,
        used: &used,
        after_stage,
        limit,
    });
    let now = db::now();
    let mut unrecorded = Vec::new();
    let starters = ranked
        .into_iter()
        .map(|starter| {
            let shown = shows.get(&starter.starter_id);
            if shown.is_none() {
                unrecorded.push(Show {
                    id: starter.starter_id.clone(),
                    event_id: event_id.to_owned(),
                    viewer_id: me.member.id.clone(),
                    other_id: other.member.id.clone(),
                    prompt_id: starter.prompt_id.clone(),
                    topic_slug: starter.topic.as_ref().map(|t| t.0.clone()).unwrap_or_default(),
                    stage: starter.stage.as_str().to_owned(),
                    shown_at: now,
                    used_at: None,
                    helpful: None,
                    feedback_at: None,
                });
            }
            ShownStarter {
                used: shown.is_some_and(|s| s.used_at.is_some()),
                helpful: shown.and_then(|s| s.helpful),
                starter,
            }
        })
        .collect();
    Ok(PairStarters { attendee_id: other.member.id.clone(), starters, unrecorded })
}

/// The name the person gave (event profile, else account), never the neutral label made up for
/// people without one: a question does not address "Attendee 3F9C".
fn real_name(profile: &Profile) -> Option<&str> {
    profile.member.name.as_deref().or(profile.display_name.as_deref()).filter(|n| !n.is_empty())
}
