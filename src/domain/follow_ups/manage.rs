//! Making and changing follow-ups: on a connection of the caller's, or by id (the caller's own;
//! anyone else's answers exactly like a missing one).

use chrono::{Duration, NaiveDateTime, SubsecRound};
use chrono_tz::Tz;

use super::{
    Cadence, Due, FollowUpView, Kind, MAX_OPEN_PER_CONNECTION, MAX_PER_CONNECTION, Origin, State,
    dates, touches,
};
use crate::db::connections::{self as connection_store, Connection};
use crate::db::follow_ups::{self as store, FollowUp, FollowUpChanges, NewFollowUp};
use crate::db::{self, DbConn};
use crate::domain::attendees;
use crate::domain::starters::{self, record::FeedbackChange};
use crate::error::{Error, ErrorCode, Result};
use actix_web::http::StatusCode;

/// A new follow-up, valid field by field.
#[derive(Clone, Debug)]
pub struct Draft {
    pub kind: Kind,
    pub note: Option<String>,
    pub due: Due,
    pub origin_starter_id: Option<String>,
}

/// A valid change of a follow-up; `None` leaves a field, `Some(None)` clears it.
#[derive(Clone, Debug, Default)]
pub struct Patch {
    pub kind: Option<Kind>,
    pub note: Option<Option<String>>,
    pub due: Option<Due>,
    pub state: Option<State>,
    pub snoozed_until: Option<Due>,
    pub completed_at: Option<Due>,
    pub completion_note: Option<Option<String>>,
}

/// The promise of a scan (or of a connection's `follow_up` field): one per connection.
#[derive(Clone, Debug)]
pub struct Promise {
    pub note: String,
    pub due: Option<Due>,
}

pub fn not_found() -> Error {
    Error::not_found(ErrorCode::FollowUpNotFound, "You have no follow-up with this id.")
}

fn connection_not_found() -> Error {
    Error::not_found(
        ErrorCode::ConnectionNotFound,
        "You have no connection with this id in this event.",
    )
}

/// The time zone of an account (UTC until they set theirs).
pub fn zone_of(conn: &mut DbConn, account_id: &str) -> Result<Tz> {
    let account = crate::domain::accounts::find(conn, account_id)?;
    Ok(dates::zone(&account.time_zone))
}

/// The caller's live connection in the event, locked for its follow-up writes (see
/// [`store::lock_connection`]), with the caller's time zone.
pub fn owned_connection(
    conn: &mut DbConn,
    event_id: &str,
    account_id: &str,
    connection_id: &str,
) -> Result<(Connection, Tz)> {
    let (member, _, _) = attendees::member(conn, event_id, account_id)?;
    connection_store::find_for_owner(conn, &member.id, connection_id)?
        .ok_or_else(connection_not_found)?;
    store::lock_connection(conn, connection_id)?;
    // Read again under the lock: a concurrent write may have changed it (a cadence, a deletion).
    let connection = connection_store::find_for_owner(conn, &member.id, connection_id)?
        .ok_or_else(connection_not_found)?;
    Ok((connection, zone_of(conn, account_id)?))
}

/// A due date must not fall before the day the two first met (in the person's time zone): a
/// promise cannot be due before it was made. 422 `due_before_connection`.
pub fn check_due(due: Due, connection: &Connection, tz: Tz) -> Result<()> {
    let met = dates::day_of(tz, connection.first_met_at);
    if due.day(tz) < met {
        return Err(Error::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            ErrorCode::DueBeforeConnection,
            format!("A follow-up cannot be due before the connection was made ({met})."),
        ));
    }
    Ok(())
}

/// What a new follow-up is: kind, note, due, origin.
#[derive(Clone, Debug)]
pub struct What {
    pub kind: Kind,
    pub note: Option<String>,
    pub due: Due,
    pub origin: Origin,
}

/// A new open follow-up row.
pub fn new_row(
    connection: &Connection,
    account_id: &str,
    what: What,
    tz: Tz,
    now: NaiveDateTime,
) -> NewFollowUp {
    let What { kind, note, due, origin } = what;
    let (due_on, due_at) = due.columns();
    NewFollowUp {
        id: db::new_id(),
        event_id: connection.event_id.clone(),
        connection_id: connection.id.clone(),
        owner_id: connection.owner_id.clone(),
        account_id: account_id.to_owned(),
        kind: kind.as_str(),
        note,
        due_on,
        due_at,
        queue_at: due.instant(tz),
        state: State::Open.as_str(),
        is_open: true,
        origin: origin.as_str(),
        origin_starter_id: None,
        created_at: now,
        updated_at: now,
    }
}

/// Adds a follow-up to the caller's connection. 422 `due_before_connection`; 409
/// `follow_up_limit_reached` when the connection has [`MAX_OPEN_PER_CONNECTION`] open, or
/// [`MAX_PER_CONNECTION`] in all.
pub fn create(
    conn: &mut DbConn,
    event_id: &str,
    account_id: &str,
    connection_id: &str,
    draft: Draft,
) -> Result<FollowUpView> {
    let (connection, tz) = owned_connection(conn, event_id, account_id, connection_id)?;
    check_due(draft.due, &connection, tz)?;
    let (open, all) = store::counts(conn, connection_id)?;
    if open >= MAX_OPEN_PER_CONNECTION || all >= MAX_PER_CONNECTION {
        return Err(Error::conflict(
            ErrorCode::FollowUpLimitReached,
            format!(
                "A connection holds at most {MAX_OPEN_PER_CONNECTION} open follow-ups and \
                 {MAX_PER_CONNECTION} in all; complete or dismiss some first."
            ),
        ));
    }
    // From what I heard to a promise: the starter must be one I was shown about this person; it
    // becomes the follow-up's origin, and counts as used.
    let origin = match &draft.origin_starter_id {
        Some(starter_id) => {
            starters::record::origin(
                conn,
                event_id,
                &connection.owner_id,
                &connection.other_id,
                starter_id,
            )?;
            let used = FeedbackChange { used: Some(true), helpful: None };
            starters::record::feedback(conn, event_id, account_id, starter_id, used)?;
            Origin::Starter
        }
        None => Origin::Manual,
    };
    let now = db::now();
    let what = What { kind: draft.kind, note: draft.note, due: draft.due, origin };
    let mut row = new_row(&connection, account_id, what, tz, now);
    row.origin_starter_id = draft.origin_starter_id;
    let id = row.id.clone();
    store::insert(conn, &row)?;
    stamp(conn, &connection)?;
    view(conn, account_id, &id, tz)
}

fn view(conn: &mut DbConn, account_id: &str, id: &str, tz: Tz) -> Result<FollowUpView> {
    let row = store::find_for_account(conn, account_id, id)?.ok_or_else(not_found)?;
    Ok(FollowUpView::new(row, tz))
}

/// A page of the caller's follow-ups on one of their connections, in the order they were made.
pub fn list(
    conn: &mut DbConn,
    event_id: &str,
    account_id: &str,
    connection_id: &str,
    after: Option<&str>,
    limit: i64,
) -> Result<Vec<FollowUpView>> {
    let (member, _, _) = attendees::member(conn, event_id, account_id)?;
    connection_store::find_for_owner(conn, &member.id, connection_id)?
        .ok_or_else(connection_not_found)?;
    let tz = zone_of(conn, account_id)?;
    let rows = store::page_of_connection(conn, connection_id, after, limit)?;
    Ok(rows.into_iter().map(|row| FollowUpView::new(row, tz)).collect())
}

/// How far ahead of the server a device's clock may be for a completion or a touch.
const CLOCK_AHEAD: Duration = Duration::minutes(5);

/// Changes one of the caller's follow-ups: edits it, completes it (when and how), snoozes it until
/// a later day or time, dismisses it, or reopens it. Completing it is a touch: with a cadence, the
/// connection's next check-in is scheduled from then.
pub fn update(
    conn: &mut DbConn,
    account_id: &str,
    id: &str,
    patch: Patch,
    now: NaiveDateTime,
) -> Result<FollowUpView> {
    let found = store::find_for_account(conn, account_id, id)?.ok_or_else(not_found)?;
    store::lock_connection(conn, &found.connection_id)?;
    let row = store::find_for_account(conn, account_id, id)?.ok_or_else(not_found)?;
    let connection = connection_store::find_for_owner(conn, &row.owner_id, &row.connection_id)?
        .ok_or_else(not_found)?;
    let tz = zone_of(conn, account_id)?;
    let mut changes = FollowUpChanges { updated_at: Some(now), ..Default::default() };
    changes.kind = patch.kind.map(Kind::as_str);
    changes.note = patch.note;
    let due = match patch.due {
        Some(due) => {
            check_due(due, &connection, tz)?;
            let (on, at) = due.columns();
            changes.due_on = Some(on);
            changes.due_at = Some(at);
            due
        }
        None => Due::of(&row),
    };
    let current = match State::parse(&row.state).unwrap_or(State::Open) {
        // A snooze whose end has passed is open again: editing it must not trip the rule that
        // a snooze ends in the future.
        State::Snoozed if row.snoozed_until.is_none_or(|until| until <= now) => State::Open,
        state => state,
    };
    let state = match (patch.state, patch.snoozed_until) {
        (Some(state), _) => state,
        (None, Some(_)) => State::Snoozed,
        (None, None) => current,
    };
    if state != State::Done && (patch.completed_at.is_some() || patch.completion_note.is_some()) {
        return Err(Error::invalid_field(
            "completed_at",
            "`completed_at` and `completion_note` go with the state `done`",
        ));
    }
    if state != State::Snoozed && patch.snoozed_until.is_some() {
        return Err(Error::invalid_field("snoozed_until", "goes with the state `snoozed`"));
    }
    let mut touched_at = None;
    match state {
        State::Snoozed => {
            let until = match patch.snoozed_until {
                Some(until) => until.instant(tz),
                None if current == State::Snoozed => row.snoozed_until.unwrap_or(now),
                None => {
                    return Err(Error::invalid_field(
                        "snoozed_until",
                        "is required to snooze: the day (or time) it comes back",
                    ));
                }
            };
            if until <= now {
                return Err(Error::invalid_field(
                    "snoozed_until",
                    "must be in the future (a date from tomorrow on, or a later time)",
                ));
            }
            changes.snoozed_until = Some(Some(until));
            changes.queue_at = Some(until);
            changes.is_open = Some(true);
        }
        State::Done => {
            let at = match patch.completed_at {
                Some(at) => at.instant(tz),
                None => row.completed_at.unwrap_or(now),
            };
            if at > now + CLOCK_AHEAD {
                return Err(Error::invalid_field("completed_at", "must not be in the future"));
            }
            changes.completed_at = Some(Some(at));
            if let Some(note) = patch.completion_note {
                changes.completion_note = Some(note);
            }
            changes.is_open = Some(false);
            changes.snoozed_until = Some(None);
            changes.queue_at = Some(due.instant(tz));
            if current != State::Done {
                touched_at = Some(at);
            }
        }
        State::Dismissed | State::Open => {
            changes.is_open = Some(state == State::Open);
            changes.snoozed_until = Some(None);
            changes.queue_at = Some(due.instant(tz));
            if state == State::Open {
                changes.completed_at = Some(None);
                changes.completion_note = Some(None);
            }
        }
    }
    changes.state = Some(state.as_str());
    // From closed (done, dismissed) to open or snoozed: both count as open (`is_open`).
    let reopened_check_in = matches!(state, State::Open | State::Snoozed)
        && matches!(current, State::Done | State::Dismissed);
    if reopened_check_in && row.origin == Origin::Cadence.as_str() {
        // Undoing a completion: the check-in scheduled by it goes, so that one stays upcoming.
        if let Some(next) = store::open_cadence(conn, &row.connection_id)? {
            store::delete(conn, &next.id)?;
        }
    }
    store::update(conn, id, &changes)?;
    let cadence = Cadence::from_columns(connection.cadence.as_deref(), connection.cadence_days);
    if let Some(at) = touched_at {
        let from = connection.last_touched_at.map_or(at, |last| last.max(at));
        store::touched(conn, &connection.id, at)?;
        if cadence.is_some() {
            touches::schedule(conn, &connection, account_id, tz, dates::day_of(tz, from), now)?;
        }
    } else if state == State::Dismissed
        && current != State::Dismissed
        && row.origin == Origin::Cadence.as_str()
        && cadence.is_some()
    {
        // Skipping a check-in: the next one comes a cadence from today.
        touches::schedule(conn, &connection, account_id, tz, dates::day_of(tz, now), now)?;
    }
    stamp(conn, &connection)?;
    view(conn, account_id, id, tz)
}

/// Sets the connection's promise (made at a scan, or through the connection's `follow_up` field):
/// the open follow-up of origin `scan`, edited in place if there is one; `None` dismisses it. A
/// promise without a due date is due at the end of the event's follow-up window (or now, when
/// that has passed). The caller stamps the connection.
pub fn set_promise(
    conn: &mut DbConn,
    connection: &Connection,
    account_id: &str,
    promise: Option<Promise>,
    tz: Tz,
    now: NaiveDateTime,
) -> Result<()> {
    store::lock_connection(conn, &connection.id)?;
    let existing = store::open_promise(conn, &connection.id)?;
    let Some(promise) = promise else {
        if let Some(existing) = existing {
            let changes = FollowUpChanges {
                state: Some(State::Dismissed.as_str()),
                is_open: Some(false),
                snoozed_until: Some(None),
                queue_at: Some(Due::of(&existing).instant(tz)),
                updated_at: Some(now),
                ..Default::default()
            };
            store::update(conn, &existing.id, &changes)?;
        }
        return Ok(());
    };
    let due = match promise.due {
        Some(due) => due,
        None => {
            let event = crate::db::events::find(conn, &connection.event_id)?
                .ok_or_else(|| Error::internal(anyhow::anyhow!("connection without event")))?;
            let window = event.ends_at + Duration::days(i64::from(event.follow_up_window_days));
            Due::At(window.max(now.trunc_subsecs(0)))
        }
    };
    check_due(due, connection, tz)?;
    match existing {
        Some(existing) => {
            let (due_on, due_at) = due.columns();
            let changes = FollowUpChanges {
                note: Some(Some(promise.note)),
                due_on: Some(due_on),
                due_at: Some(due_at),
                queue_at: Some(
                    existing
                        .snoozed_until
                        .filter(|_| is_snoozed(&existing))
                        .unwrap_or(due.instant(tz)),
                ),
                updated_at: Some(now),
                ..Default::default()
            };
            store::update(conn, &existing.id, &changes)?;
        }
        None => {
            let what =
                What { kind: Kind::Other, note: Some(promise.note), due, origin: Origin::Scan };
            let row = new_row(connection, account_id, what, tz, now);
            store::insert(conn, &row)?;
        }
    }
    Ok(())
}

fn is_snoozed(row: &FollowUp) -> bool {
    row.state == State::Snoozed.as_str()
}

/// After the account's time zone changed: its open follow-ups due on a date keep their day, so
/// their place in the queue moves to that day's start in the new zone; their connections'
/// answers show it (delta sync brings them). A chunk at a time.
pub fn rezone(conn: &mut DbConn, account_id: &str, tz: Tz) -> Result<()> {
    let mut after: Option<String> = None;
    loop {
        let rows = store::open_dated(conn, account_id, after.as_deref(), db::BATCH_ROWS as i64)?;
        let Some(last) = rows.last() else { return Ok(()) };
        after = Some(last.0.clone());
        let mut by_event: std::collections::BTreeMap<String, (Vec<String>, Vec<String>)> =
            std::collections::BTreeMap::new();
        for (id, day, connection_id, event_id, owner_id) in rows {
            store::set_queue_at(conn, &id, dates::start_of_day(tz, day))?;
            let (owners, connections) = by_event.entry(event_id).or_default();
            owners.push(owner_id);
            connections.push(connection_id);
        }
        for (event_id, (owners, mut connections)) in by_event {
            connections.sort_unstable();
            connections.dedup();
            crate::db::post_event::lock_connections(conn, &connections)?;
            db::changes::stamp_connections(conn, &event_id, &owners, &connections)?;
        }
    }
}

/// Numbers a change of the connection for delta sync (its answer carries its next follow-up).
pub fn stamp(conn: &mut DbConn, connection: &Connection) -> Result<()> {
    db::changes::stamp_connections(
        conn,
        &connection.event_id,
        std::slice::from_ref(&connection.owner_id),
        std::slice::from_ref(&connection.id),
    )?;
    Ok(())
}
