//! Starters for one pair: who may ask for them (the checks), what is read to rank them, and what
//! of the answer is new and must be recorded.

use std::collections::{HashMap, HashSet};

use super::Stage;
use super::rank::{self, Other, Picks, Starter, TopicInfo};
use super::settings::StarterSettings;
use crate::db::attendees::Member;
use crate::db::starters::{self as store, Show};
use crate::db::{self, DbConn};
use crate::domain::attendees::{self, CAN_TALK_ABOUT, Profile};
use crate::domain::{accounts, topics};
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
    // The caller's membership is also the check that their account exists (see `TokenUser`).
    let Some((me, event_name, settings)) = store::viewer(conn, event_id, account_id)? else {
        return Err(accounts::gone_or(conn, account_id, attendees::event_not_found()));
    };
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
    let (me, other, topics) = profiles_of_pair(conn, me, other)?;
    let settings = StarterSettings::from_row(settings).for_ranking();
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
        event_name: &event_name,
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

/// Both profiles, and the other person's topics (with their prompts) by slug, from one read of
/// their choices.
fn profiles_of_pair(
    conn: &mut DbConn,
    me: Member,
    other: Member,
) -> Result<(Profile, Profile, HashMap<String, TopicInfo>)> {
    let [mut me, mut other] = [me, other].map(|(member, email, display_name)| Profile {
        member,
        email,
        display_name,
        can_talk_about: Vec::new(),
        want_to_learn: Vec::new(),
    });
    let mut topics = HashMap::new();
    let choices = store::choices_of_pair(conn, (&me.member.id, &other.member.id))?;
    // A topic the organizers dropped (archived, because people chose it) gives no starters. Left
    // out here, not in the query: filtered there, PostgreSQL's plan for it read far more rows.
    for (membership_id, kind, topic) in
        choices.into_iter().filter(|(_, _, topic)| topic.archived_at.is_none())
    {
        let profile = if membership_id == other.member.id { &mut other } else { &mut me };
        let picks = if kind == CAN_TALK_ABOUT {
            &mut profile.can_talk_about
        } else {
            &mut profile.want_to_learn
        };
        picks.push(topic.slug.clone());
        if membership_id == other.member.id {
            let info = TopicInfo {
                prompts: topics::prompts_of(&topic),
                slug: topic.slug,
                name: topic.name,
            };
            topics.insert(info.slug.clone(), info);
        }
    }
    Ok((me, other, topics))
}

/// The name the person gave (event profile, else account), never the neutral label made up for
/// people without one: a question does not address "Attendee 3F9C".
fn real_name(profile: &Profile) -> Option<&str> {
    profile.member.name.as_deref().or(profile.display_name.as_deref()).filter(|n| !n.is_empty())
}
