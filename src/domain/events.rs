//! Events: created by an organizer, who may change them; readable by their members only.

use chrono::NaiveDateTime;

use super::attendees;
use super::text::{self, Lines};
use crate::config::Quotas;
use crate::db::events::{self as store, Event, EventChanges};
use crate::db::{self, DbConn};
use crate::error::{Error, ErrorCode, FieldError, Result};

/// A person's role in one event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    Organizer,
    Attendee,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Organizer => "organizer",
            Self::Attendee => "attendee",
        }
    }

    pub fn parse(value: &str) -> Self {
        if value == "organizer" { Self::Organizer } else { Self::Attendee }
    }
}

pub const MAX_NAME: usize = 200;
pub const MAX_FOLLOW_UP_WINDOW_DAYS: i32 = 365;
/// An event slug's length in characters.
pub const SLUG_LEN: std::ops::RangeInclusive<usize> = 3..=64;
/// What a slug (of an event or a topic) looks like: lower-case letters and digits in runs joined
/// by single hyphens.
pub const SLUG_PATTERN: &str = "^[a-z0-9]+(-[a-z0-9]+)*$";
pub const DEFAULT_FOLLOW_UP_WINDOW_DAYS: i32 = 14;
/// The longest event accepted, in days.
pub const MAX_EVENT_DAYS: i64 = 60;

/// A complete, valid description of an event.
#[derive(Debug, Clone)]
pub struct EventDraft {
    pub name: String,
    pub slug: String,
    pub starts_at: NaiveDateTime,
    pub ends_at: NaiveDateTime,
    pub time_zone: String,
    pub follow_up_window_days: i32,
}

/// Collects field errors so that one answer names every failing field.
#[derive(Default)]
pub struct Checks(Vec<FieldError>);

impl Checks {
    pub fn check<T>(&mut self, field: &str, result: Result<T, String>) -> Option<T> {
        result.map_err(|message| self.0.push(FieldError::new(field, message))).ok()
    }

    pub fn finish(self) -> Result<()> {
        if self.0.is_empty() { Ok(()) } else { Err(Error::validation(self.0)) }
    }
}

pub fn parse_name(raw: &str) -> Result<String, String> {
    let name = raw.trim();
    if name.is_empty() {
        return Err("must not be blank".to_owned());
    }
    if name.chars().count() > MAX_NAME {
        return Err(format!("must be at most {MAX_NAME} characters"));
    }
    if let Some(problem) = text::problem(name, Lines::One) {
        return Err(problem.to_owned());
    }
    Ok(name.to_owned())
}

/// Slugs: 3 to 64 lower-case letters, digits and single hyphens, e.g. `rustconf-2026`.
pub fn parse_slug(raw: &str) -> Result<String, String> {
    let valid_chars = raw.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
    if !SLUG_LEN.contains(&raw.len())
        || !valid_chars
        || raw.starts_with('-')
        || raw.ends_with('-')
        || raw.contains("--")
    {
        return Err(
            "must be 3 to 64 lower-case letters, digits and single hyphens, e.g. rustconf-2026"
                .to_owned(),
        );
    }
    Ok(raw.to_owned())
}

/// An IANA time zone name such as `Europe/Berlin`.
pub fn parse_time_zone(raw: &str) -> Result<String, String> {
    raw.parse::<chrono_tz::Tz>()
        .map(|tz| tz.name().to_owned())
        .map_err(|_| format!("`{raw}` is not an IANA time zone name such as Europe/Berlin"))
}

pub fn parse_follow_up_window(days: i64) -> Result<i32, String> {
    i32::try_from(days)
        .ok()
        .filter(|d| (0..=MAX_FOLLOW_UP_WINDOW_DAYS).contains(d))
        .ok_or_else(|| format!("must be between 0 and {MAX_FOLLOW_UP_WINDOW_DAYS} days"))
}

fn check_dates(checks: &mut Checks, starts_at: NaiveDateTime, ends_at: NaiveDateTime) {
    if ends_at <= starts_at {
        checks.0.push(FieldError::new("ends_at", "must be after starts_at"));
    } else if (ends_at - starts_at).num_days() > MAX_EVENT_DAYS {
        checks.0.push(FieldError::new(
            "ends_at",
            format!("an event lasts at most {MAX_EVENT_DAYS} days"),
        ));
    }
}

/// Checks the relation between the dates of a draft whose fields are each valid.
pub fn check_draft(mut checks: Checks, draft: &EventDraft) -> Result<()> {
    check_dates(&mut checks, draft.starts_at, draft.ends_at);
    checks.finish()
}

/// Creates the event; its creator becomes its organizer.
pub fn create(
    conn: &mut DbConn,
    account_id: &str,
    draft: &EventDraft,
    quotas: &Quotas,
) -> Result<(Event, Role)> {
    super::quotas::check_new_event(conn, quotas, account_id)?;
    if store::slug_taken(conn, &draft.slug, None)? {
        return Err(slug_taken(&draft.slug));
    }
    let now = db::now();
    let event_id = db::new_id();
    store::insert(
        conn,
        &store::NewEvent {
            id: &event_id,
            name: &draft.name,
            slug: &draft.slug,
            starts_at: draft.starts_at,
            ends_at: draft.ends_at,
            time_zone: &draft.time_zone,
            follow_up_window_days: draft.follow_up_window_days,
            created_by: account_id,
            created_at: now,
            updated_at: now,
        },
    )
    .map_err(|error| match error {
        // Two organizers raced for the same slug; the database kept one.
        diesel::result::Error::DatabaseError(
            diesel::result::DatabaseErrorKind::UniqueViolation,
            _,
        ) => slug_taken(&draft.slug),
        other => Error::from(other),
    })?;
    attendees::add_member(conn, &event_id, account_id, Role::Organizer, None)?;
    find_for_member(conn, &event_id, account_id)
}

fn slug_taken(slug: &str) -> Error {
    Error::conflict(ErrorCode::SlugTaken, format!("Another event already uses the slug `{slug}`."))
}

/// The event as seen by one of its members; `event_not_found` for everyone else, so that
/// non-members cannot tell a foreign event from a missing one.
pub fn find_for_member(
    conn: &mut DbConn,
    event_id: &str,
    account_id: &str,
) -> Result<(Event, Role)> {
    store::find_for_member(conn, event_id, account_id)?
        .map(|(event, _, role)| (event, Role::parse(&role)))
        .ok_or_else(|| {
            Error::not_found(ErrorCode::EventNotFound, "No event with this id is visible to you.")
        })
}

/// Applies `changes` (each field already valid) for an organizer of the event.
pub fn update(
    conn: &mut DbConn,
    event_id: &str,
    account_id: &str,
    mut changes: EventChanges,
) -> Result<(Event, Role)> {
    let (event, role) = find_for_member(conn, event_id, account_id)?;
    if role != Role::Organizer {
        return Err(Error::forbidden(
            ErrorCode::OrganizerOnly,
            "Only an organizer of this event can do this.",
        ));
    }
    let mut checks = Checks::default();
    check_dates(
        &mut checks,
        changes.starts_at.unwrap_or(event.starts_at),
        changes.ends_at.unwrap_or(event.ends_at),
    );
    checks.finish()?;
    if let Some(slug) = &changes.slug
        && store::slug_taken(conn, slug, Some(event_id))?
    {
        return Err(slug_taken(slug));
    }
    changes.updated_at = Some(db::now());
    store::update(conn, event_id, &changes).map_err(|error| match (error, &changes.slug) {
        // Another event took the slug since it was checked; the database kept one.
        (
            diesel::result::Error::DatabaseError(
                diesel::result::DatabaseErrorKind::UniqueViolation,
                _,
            ),
            Some(slug),
        ) => slug_taken(slug),
        (other, _) => Error::from(other),
    })?;
    find_for_member(conn, event_id, account_id)
}

pub fn list_for_member(
    conn: &mut DbConn,
    account_id: &str,
    after_id: Option<&str>,
    limit: i64,
) -> Result<Vec<(Event, Role)>> {
    Ok(store::list_for_member(conn, account_id, after_id, limit)?
        .into_iter()
        .map(|(event, role)| (event, Role::parse(&role)))
        .collect())
}
