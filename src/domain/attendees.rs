//! People in an event: their event profile, topics, sharing choices; joining with a code;
//! co-organizers; the directory; organizer stats.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use super::Email;
use super::accounts;
use super::badges;
use super::events::Role;
use super::quotas;
use super::text::{self, Lines};
use super::topics;
use crate::config::Quotas;
use crate::db::attendees::{
    self as store, Member, Membership, NewMember, PageFilter, ProfileChanges,
};
use crate::db::topics::Choice;
use crate::db::{self, DbConn, events as event_store};
use crate::error::{Error, ErrorCode, FieldError, Result};
use crate::mail;

pub const CAN_TALK_ABOUT: &str = "can_talk_about";
pub const WANT_TO_LEARN: &str = "want_to_learn";
pub const MAX_TOPIC_CHOICES: usize = 20;
pub const MAX_LINKS: usize = 10;
pub const JOIN_CODE_LEN: usize = 10;
/// The longest profile fields, in characters.
pub const MAX_PROFILE_NAME: usize = 100;
pub const MAX_COMPANY: usize = 200;
pub const MAX_HEADLINE: usize = 200;
pub const MAX_BIO: usize = 2000;
pub const MAX_PHONE: usize = 40;
pub const MAX_LINK_LABEL: usize = 50;
/// The longest link URL, in bytes (URLs are ASCII).
pub const MAX_LINK_URL: usize = 500;

/// A link on an event profile.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Link {
    /// What the link is, e.g. `GitHub`; 1 to 50 characters.
    pub label: String,
    /// An `http` or `https` URL of at most 500 characters.
    pub url: String,
}

/// A member of an event with their chosen topics.
#[derive(Debug, Clone)]
pub struct Profile {
    pub member: Membership,
    pub email: String,
    pub display_name: Option<String>,
    pub can_talk_about: Vec<String>,
    pub want_to_learn: Vec<String>,
}

impl Profile {
    /// The name to show: see [`shown_name`].
    pub fn name(&self) -> String {
        shown_name(&self.member, &self.email, self.display_name.as_deref())
    }

    /// What a badge exchange shares of this profile now: the person's switches once they have
    /// confirmed them, and until then only the name (always), company and headline.
    pub fn shared(&self) -> Shared {
        let m = &self.member;
        let confirmed = m.sharing_confirmed_at.is_some();
        Shared {
            email: confirmed && m.share_email,
            phone: confirmed && m.share_phone,
            company: m.share_company,
            headline: m.share_headline,
            bio: confirmed && m.share_bio,
            links: confirmed && m.share_links,
        }
    }

    pub fn links(&self) -> Vec<Link> {
        serde_json::from_str(&self.member.links).unwrap_or_default()
    }

    pub fn role(&self) -> Role {
        Role::parse(&self.member.role)
    }

    /// This person as the people who exchanged badges with them may see them now: the one place
    /// where [`Self::shared`] is applied (connection answers and every export read it).
    pub fn visible(self) -> Visible {
        let name = self.name();
        let links = self.links();
        let shared = self.shared();
        let m = self.member;
        Visible {
            attendee_id: m.id,
            name,
            email: Some(self.email).filter(|_| shared.email),
            phone: m.phone.filter(|_| shared.phone),
            company: m.company.filter(|_| shared.company),
            headline: m.headline.filter(|_| shared.headline),
            bio: m.bio.filter(|_| shared.bio),
            links: Some(links).filter(|_| shared.links),
            can_talk_about: self.can_talk_about,
            want_to_learn: self.want_to_learn,
        }
    }
}

/// What a person shows the people they exchanged badges with: each field is `None` when they do
/// not share it (see [`Profile::visible`]). Topics are always shown.
#[derive(Debug, Clone)]
pub struct Visible {
    pub attendee_id: String,
    pub name: String,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub company: Option<String>,
    pub headline: Option<String>,
    pub bio: Option<String>,
    pub links: Option<Vec<Link>>,
    pub can_talk_about: Vec<String>,
    pub want_to_learn: Vec<String>,
}

/// Which fields of a profile are shared with the people who exchange badges with its owner.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shared {
    pub email: bool,
    pub phone: bool,
    pub company: bool,
    pub headline: bool,
    pub bio: bool,
    pub links: bool,
}

/// The name a member shows: the event profile's, else the account's, else a neutral label made
/// from the attendee id. Never the email's local part: an address not shared must not leak as a
/// name (`jane.doe.private`).
pub fn shown_name(member: &Membership, _email: &str, display_name: Option<&str>) -> String {
    match member.name.as_deref().or(display_name) {
        Some(name) => name.to_owned(),
        None => neutral_label(&member.id),
    }
}

/// "Attendee 3F9C": the last four characters of the id (random in a UUIDv7), so that two unnamed
/// people in one list can be told apart.
fn neutral_label(attendee_id: &str) -> String {
    let tail: String =
        attendee_id.chars().rev().take(4).collect::<Vec<_>>().into_iter().rev().collect();
    format!("Attendee {}", tail.to_uppercase())
}

/// Attaches each member's topic choices.
pub fn with_topics(conn: &mut DbConn, members: Vec<Member>) -> Result<Vec<Profile>> {
    let ids: Vec<String> = members.iter().map(|(m, _, _)| m.id.clone()).collect();
    let mut choices: HashMap<String, (Vec<String>, Vec<String>)> = HashMap::new();
    for (membership_id, slug, kind) in db::topics::choices_of(conn, &ids)? {
        let entry = choices.entry(membership_id).or_default();
        if kind == CAN_TALK_ABOUT { entry.0.push(slug) } else { entry.1.push(slug) }
    }
    Ok(members
        .into_iter()
        .map(|(member, email, display_name)| {
            let (can_talk_about, want_to_learn) = choices.remove(&member.id).unwrap_or_default();
            Profile { member, email, display_name, can_talk_about, want_to_learn }
        })
        .collect())
}

fn one_profile(conn: &mut DbConn, member: Member) -> Result<Profile> {
    with_topics(conn, vec![member])?
        .pop()
        .ok_or_else(|| Error::internal(anyhow::anyhow!("profile vanished")))
}

pub(crate) fn event_not_found() -> Error {
    Error::not_found(ErrorCode::EventNotFound, "No event with this id is visible to you.")
}

/// The caller's membership; `event_not_found` when they are not a member.
pub fn member(conn: &mut DbConn, event_id: &str, account_id: &str) -> Result<Member> {
    store::find_by_account(conn, event_id, account_id)?.ok_or_else(event_not_found)
}

/// The caller's membership if they organize the event; `organizer_only` for attendees.
pub fn organizer(conn: &mut DbConn, event_id: &str, account_id: &str) -> Result<Member> {
    let member = member(conn, event_id, account_id)?;
    if Role::parse(&member.0.role) != Role::Organizer {
        return Err(Error::forbidden(
            ErrorCode::OrganizerOnly,
            "Only an organizer of this event can do this.",
        ));
    }
    Ok(member)
}

/// An attendee (any member) of the event, by id, as an organizer looks them up.
pub fn attendee(conn: &mut DbConn, event_id: &str, attendee_id: &str) -> Result<Profile> {
    let found = store::find(conn, event_id, attendee_id)?.ok_or_else(|| {
        Error::not_found(ErrorCode::AttendeeNotFound, "No attendee with this id in this event.")
    })?;
    one_profile(conn, found)
}

pub fn my_profile(conn: &mut DbConn, event_id: &str, account_id: &str) -> Result<Profile> {
    let found = member(conn, event_id, account_id)?;
    one_profile(conn, found)
}

/// Adds a member with a badge; returns the membership id.
pub fn add_member(
    conn: &mut DbConn,
    event_id: &str,
    account_id: &str,
    role: Role,
    invited_at: Option<chrono::NaiveDateTime>,
) -> Result<String> {
    let now = db::now();
    let id = db::new_id();
    store::insert(
        conn,
        &[NewMember {
            id: id.clone(),
            event_id: event_id.to_owned(),
            account_id: account_id.to_owned(),
            role: role.as_str(),
            name: None,
            company: None,
            headline: None,
            invited_at,
            created_at: now,
            updated_at: now,
        }],
    )?;
    badges::issue(conn, event_id, &id)?;
    Ok(id)
}

/// A validated change of one's event profile.
#[derive(Debug, Default)]
pub struct ProfilePatch {
    pub changes: ProfileChanges,
    pub can_talk_about: Option<Vec<String>>,
    pub want_to_learn: Option<Vec<String>>,
}

/// Trimmed text of at most `max` characters; blank means cleared.
pub fn parse_text(
    field: &str,
    raw: Option<&str>,
    (max, lines): (usize, Lines),
    errors: &mut Vec<FieldError>,
) -> Option<String> {
    let value = raw.map(str::trim).filter(|v| !v.is_empty())?;
    if value.chars().count() > max {
        errors.push(FieldError::new(field, format!("must be at most {max} characters")));
    } else if let Some(problem) = text::problem(value, lines) {
        errors.push(FieldError::new(field, problem));
    }
    Some(value.to_owned())
}

pub fn parse_links(links: Vec<Link>, errors: &mut Vec<FieldError>) -> String {
    if links.len() > MAX_LINKS {
        errors.push(FieldError::new("links", format!("at most {MAX_LINKS} links")));
    }
    let mut clean = Vec::with_capacity(links.len());
    for (i, link) in links.into_iter().enumerate() {
        let label = link.label.trim().to_owned();
        let url = link.url.trim().to_owned();
        if label.is_empty() || label.chars().count() > MAX_LINK_LABEL {
            errors.push(FieldError::new(
                format!("links[{i}].label"),
                format!("must be 1 to {MAX_LINK_LABEL} characters"),
            ));
        } else if let Some(problem) = text::problem(&label, Lines::One) {
            errors.push(FieldError::new(format!("links[{i}].label"), problem));
        }
        let scheme_ok = url.starts_with("https://") || url.starts_with("http://");
        if !scheme_ok
            || url.len() > MAX_LINK_URL
            || url.chars().any(char::is_whitespace)
            || text::problem(&url, Lines::One).is_some()
        {
            errors.push(FieldError::new(
                format!("links[{i}].url"),
                "must be an http(s) URL of at most 500 characters",
            ));
        }
        clean.push(Link { label, url });
    }
    serde_json::to_string(&clean).unwrap_or_else(|_| "[]".to_owned())
}

/// Topic ids for `slugs`, each a choosable topic of the event; unknown or archived ones are named.
fn topic_ids(
    field: &str,
    slugs: &[String],
    choosable: &HashMap<String, String>,
    errors: &mut Vec<FieldError>,
) -> Vec<String> {
    if slugs.len() > MAX_TOPIC_CHOICES {
        errors.push(FieldError::new(field, format!("at most {MAX_TOPIC_CHOICES} topics")));
    }
    let mut ids: Vec<String> = Vec::new();
    for (i, slug) in slugs.iter().enumerate() {
        match choosable.get(slug) {
            Some(id) if !ids.contains(id) => ids.push(id.clone()),
            Some(_) => {}
            None => errors.push(FieldError::new(
                format!("{field}[{i}]"),
                format!("`{slug}` is not a topic of this event"),
            )),
        }
    }
    ids
}

/// Applies a profile change by the member themselves.
pub fn update_profile(
    conn: &mut DbConn,
    event_id: &str,
    account_id: &str,
    patch: ProfilePatch,
) -> Result<Profile> {
    let (membership, _, _) = member(conn, event_id, account_id)?;
    let choosable = topics::choosable(conn, event_id)?;
    let mut errors = Vec::new();
    let kinds = [(CAN_TALK_ABOUT, &patch.can_talk_about), (WANT_TO_LEARN, &patch.want_to_learn)];
    let mut replacements = Vec::new();
    for (kind, slugs) in kinds {
        if let Some(slugs) = slugs {
            let ids = topic_ids(kind, slugs, &choosable, &mut errors);
            replacements.push((kind, ids));
        }
    }
    if !errors.is_empty() {
        return Err(Error::validation(errors));
    }
    for (kind, ids) in replacements {
        let choices: Vec<Choice> = ids
            .into_iter()
            .map(|topic_id| Choice {
                membership_id: membership.id.clone(),
                topic_id,
                event_id: event_id.to_owned(),
                kind,
            })
            .collect();
        db::topics::replace_choices(conn, std::slice::from_ref(&membership.id), kind, &choices)
            .map_err(|error| match error {
                // An organizer removed one of these topics since it was read (PostgreSQL; on
                // SQLite one writer at a time): answered as if it had been gone already.
                diesel::result::Error::DatabaseError(
                    diesel::result::DatabaseErrorKind::ForeignKeyViolation,
                    _,
                ) => Error::invalid_field(kind, "names a topic this event no longer has"),
                other => Error::from(other),
            })?;
    }
    let mut changes = patch.changes;
    changes.updated_at = Some(db::now());
    store::update(conn, &membership.id, &changes)?;
    my_profile(conn, event_id, account_id)
}

/// Turns the join code on (or rotates it); returns the new code.
pub fn rotate_join_code(conn: &mut DbConn, event_id: &str) -> Result<String> {
    let code = badges::random_symbols(JOIN_CODE_LEN);
    event_store::set_join_code(conn, event_id, Some(&code))?;
    Ok(code)
}

pub fn disable_join_code(conn: &mut DbConn, event_id: &str) -> Result<()> {
    event_store::set_join_code(conn, event_id, None)?;
    Ok(())
}

/// Makes the caller an attendee if `code` is the event's join code; joining twice is harmless.
pub fn join(conn: &mut DbConn, event_id: &str, account_id: &str, code: &str) -> Result<Profile> {
    let wanted = code.trim().to_uppercase();
    let valid = event_store::find(conn, event_id)?
        .and_then(|event| event.join_code)
        .is_some_and(|current| current == wanted);
    if !valid {
        return Err(Error::forbidden(
            ErrorCode::InvalidJoinCode,
            "This join code does not open this event: ask an organizer for the current one.",
        ));
    }
    // Joining three times at once (a double tap): one after the other, the later ones find the
    // membership.
    event_store::lock(conn, event_id)?;
    if store::find_by_account(conn, event_id, account_id)?.is_none() {
        add_member(conn, event_id, account_id, Role::Attendee, None)?;
        // Back of their own accord: imports may list them again.
        let account = accounts::find(conn, account_id)?;
        db::departures::forget(conn, event_id, &account.email)?;
    }
    my_profile(conn, event_id, account_id)
}

/// Who adds an organizer, and the budget the notice to the new organizer is charged to.
pub struct OrganizerNotice<'a> {
    pub added_by: &'a str,
    pub public_url: &'a str,
    pub quotas: &'a Quotas,
}

/// Makes the person with `email` an organizer (creating their account if needed) and tells them,
/// within the event's organizer limit and the adder's mail quota.
pub fn add_organizer(
    conn: &mut DbConn,
    event_id: &str,
    email: &Email,
    notice: &OrganizerNotice<'_>,
) -> Result<Profile> {
    // The same person added several times at once: one after the other, the later ones find them
    // an organizer already (and send no second email).
    event_store::lock(conn, event_id)?;
    let account = accounts::find_or_create(conn, email)?;
    let promoted = match store::find_by_account(conn, event_id, &account.id)? {
        Some((membership, _, _)) if Role::parse(&membership.role) == Role::Attendee => {
            let changes = ProfileChanges {
                role: Some(Role::Organizer.as_str()),
                updated_at: Some(db::now()),
                ..Default::default()
            };
            store::update(conn, &membership.id, &changes)?;
            true
        }
        // An organizer already: nothing changes, and no second email.
        Some(_) => false,
        None => {
            add_member(conn, event_id, &account.id, Role::Organizer, Some(db::now()))?;
            true
        }
    };
    if promoted {
        let limit = notice.quotas.organizers_per_event;
        if event_store::organizers(conn, event_id)?.len() > usize::try_from(limit).unwrap_or(0) {
            return Err(Error::conflict(
                ErrorCode::OrganizerLimitReached,
                format!("An event may have {limit} organizers."),
            ));
        }
        quotas::charge_mail(conn, notice.quotas, notice.added_by, event_id, 1)?;
        let event = event_store::find(conn, event_id)?.ok_or_else(event_not_found)?;
        let message = mail::templates::organizer_invitation(email, &event.name, notice.public_url);
        let origin = mail::Origin { sender_id: Some(notice.added_by), event_id: Some(event_id) };
        mail::queue(conn, &message, origin)?;
    }
    my_profile(conn, event_id, &account.id)
}

/// The caller leaves the event: their profile, badge, topics and connections there are deleted
/// (the people they met learn of it by delta sync), and mail of the event not yet sent to them is
/// dropped. The last organizer cannot leave (`sole_organizer`).
pub fn leave(conn: &mut DbConn, event_id: &str, account_id: &str) -> Result<()> {
    // Two organizers leaving at once: one after the other, so the second sees it is the last.
    event_store::lock(conn, event_id)?;
    let Some((membership, email, _)) = store::find_by_account(conn, event_id, account_id)? else {
        return Err(event_not_found());
    };
    if Role::parse(&membership.role) == Role::Organizer {
        let organizers = event_store::organizers(conn, event_id)?;
        let Some(successor) = organizers.into_iter().find(|id| id != account_id) else {
            return Err(Error::conflict(
                ErrorCode::SoleOrganizer,
                "You are the only organizer of this event: add another organizer before leaving.",
            ));
        };
        let event = event_store::find(conn, event_id)?.ok_or_else(event_not_found)?;
        if event.created_by == account_id {
            event_store::set_creator(conn, event_id, &successor)?;
        }
    }
    let now = db::now();
    remove_membership(conn, event_id, &membership.id, &email)?;
    // No import brings them (and an invitation) back; only joining again does.
    db::departures::record(conn, event_id, &email, now)?;
    Ok(())
}

/// Deletes a membership as leaving does: the people this member met keep a tombstone of the
/// connection (learned by delta sync), and the event's mail not yet sent to them is dropped.
pub(crate) fn remove_membership(
    conn: &mut DbConn,
    event_id: &str,
    membership_id: &str,
    email: &str,
) -> Result<()> {
    db::tombstones::bury_connections_with_members(conn, &[membership_id.to_owned()], db::now())?;
    store::delete(conn, membership_id)?;
    db::outbox::drop_unsent(conn, event_id, email)?;
    Ok(())
}

/// A page of the event's members, for organizers (everyone) or the directory (opted-in only).
pub fn page(
    conn: &mut DbConn,
    event_id: &str,
    directory_only: bool,
    topic: Option<&str>,
    after_id: Option<&str>,
    limit: i64,
) -> Result<Vec<Profile>> {
    let topic_id = topics::filter_id(conn, event_id, topic)?;
    let filter = PageFilter { directory_only, topic_id: topic_id.as_deref(), ids: None };
    let members = store::page(conn, event_id, &filter, after_id, limit)?;
    with_topics(conn, members)
}

/// For each topic, how many connected pairs both picked it (either way).
fn top_topics(
    conn: &mut DbConn,
    event_id: &str,
    pairs: &[(String, String)],
) -> Result<Vec<TopicPairs>> {
    let people: Vec<String> =
        store::all(conn, event_id)?.into_iter().map(|(m, _, _)| m.id).collect();
    let mut topics_of: HashMap<String, std::collections::HashSet<String>> = HashMap::new();
    for (membership_id, slug, _) in db::topics::choices_of(conn, &people)? {
        topics_of.entry(membership_id).or_default().insert(slug);
    }
    let mut counts: HashMap<&str, usize> = HashMap::new();
    for (a, b) in pairs {
        if let (Some(ta), Some(tb)) = (topics_of.get(a), topics_of.get(b)) {
            for slug in ta.intersection(tb) {
                *counts.entry(slug.as_str()).or_default() += 1;
            }
        }
    }
    let mut top: Vec<TopicPairs> = counts
        .into_iter()
        .map(|(slug, pairs)| TopicPairs { slug: slug.to_owned(), pairs })
        .collect();
    top.sort_by(|a, b| b.pairs.cmp(&a.pairs).then_with(|| a.slug.cmp(&b.slug)));
    top.truncate(10);
    Ok(top)
}

/// Aggregate numbers for organizers: never anyone's notes or contact details.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Stats {
    pub attendees: usize,
    pub organizers: usize,
    /// Members who were invited by email (imported or added as organizer).
    pub invited: usize,
    /// Members who have signed in (invited ones: since their invitation).
    pub signed_in: usize,
    pub in_directory: usize,
    pub badges_rotated: i64,
    pub topics: Vec<TopicStat>,
    /// Scans that found someone (a re-upload counts once).
    pub scans: i64,
    /// Pairs of people connected (each pair once, whoever scanned).
    pub connections: usize,
    /// People with at least one connection.
    pub people_connected: i64,
    /// The topics most often shared by both people of a connected pair, most first (up to 10).
    pub top_topics_among_connections: Vec<TopicPairs>,
    /// Introductions made in the event.
    pub introductions_made: i64,
    /// Of those, accepted by both people.
    pub introductions_accepted: i64,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct TopicPairs {
    pub slug: String,
    /// Connected pairs in which both people picked this topic.
    pub pairs: usize,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct TopicStat {
    pub slug: String,
    pub name: String,
    pub archived: bool,
    /// How many people can talk about it.
    pub can_talk_about: i64,
    /// How many people want to learn about it.
    pub want_to_learn: i64,
}

pub fn stats(conn: &mut DbConn, event_id: &str) -> Result<Stats> {
    let rows = store::count_rows(conn, event_id)?;
    let pairs = db::connections::pairs(conn, event_id)?;
    let counts = db::topics::choice_counts(conn, event_id)?;
    let count = |topic_id: &str, kind: &str| {
        counts.iter().find(|(t, k, _)| t == topic_id && k == kind).map_or(0, |(_, _, n)| *n)
    };
    let topics = db::topics::list(conn, event_id)?
        .into_iter()
        .map(|t| TopicStat {
            can_talk_about: count(&t.id, CAN_TALK_ABOUT),
            want_to_learn: count(&t.id, WANT_TO_LEARN),
            archived: t.archived_at.is_some(),
            slug: t.slug,
            name: t.name,
        })
        .collect();
    let (introductions_made, introductions_accepted) =
        db::introductions::counts_of_event(conn, event_id)?;
    Ok(Stats {
        attendees: rows.iter().filter(|r| r.role == Role::Attendee.as_str()).count(),
        organizers: rows.iter().filter(|r| r.role == Role::Organizer.as_str()).count(),
        invited: rows.iter().filter(|r| r.invited_at.is_some()).count(),
        signed_in: rows
            .iter()
            .filter(|r| {
                r.last_sign_in_at.is_some_and(|t| r.invited_at.is_none_or(|invited| t >= invited))
            })
            .count(),
        in_directory: rows.iter().filter(|r| r.in_directory).count(),
        badges_rotated: db::badges::count_revoked(conn, event_id)?,
        topics,
        scans: db::scans::count_successful(conn, event_id)?,
        connections: pairs.len(),
        people_connected: db::connections::count_connected_people(conn, event_id)?,
        top_topics_among_connections: top_topics(conn, event_id, &pairs)?,
        introductions_made,
        introductions_accepted,
    })
}
