//! Staying in touch: touches people log ("we had coffee"), cadences, and the one upcoming
//! check-in a connection with a cadence has (the database holds at most one open).

use chrono::{Duration, NaiveDateTime};
use chrono_tz::Tz;

use super::manage::{self, owned_connection};
use super::{
    Cadence, Due, FollowUpView, Kind, MAX_PER_CONNECTION, MAX_TOUCHES_PER_CONNECTION, Origin,
    State, dates,
};
use crate::db::connections::Connection;
use crate::db::follow_ups::{self as store, FollowUpChanges, Touch};
use crate::db::{self, DbConn};
use crate::error::{Error, ErrorCode, Result};

/// A touch to log, valid field by field.
#[derive(Clone, Debug)]
pub struct TouchDraft {
    pub note: Option<String>,
    /// When it happened: a day, or an instant.
    pub happened: Due,
}

/// Logs a touch on the caller's connection and, when the connection has a cadence, schedules its
/// next check-in from the latest touch. 409 `touch_limit_reached` past
/// [`MAX_TOUCHES_PER_CONNECTION`]; a touch in the future is refused.
pub fn log(
    conn: &mut DbConn,
    event_id: &str,
    account_id: &str,
    connection_id: &str,
    draft: TouchDraft,
    now: NaiveDateTime,
) -> Result<(Touch, Option<FollowUpView>)> {
    let (connection, tz) = owned_connection(conn, event_id, account_id, connection_id)?;
    let at = draft.happened.instant(tz);
    if at > now + Duration::minutes(5) {
        return Err(Error::invalid_field("happened_at", "must not be in the future"));
    }
    if store::count_touches(conn, connection_id)? >= MAX_TOUCHES_PER_CONNECTION {
        return Err(Error::conflict(
            ErrorCode::TouchLimitReached,
            format!("A connection holds at most {MAX_TOUCHES_PER_CONNECTION} touches."),
        ));
    }
    let touch = Touch {
        id: db::new_id(),
        event_id: connection.event_id.clone(),
        connection_id: connection.id.clone(),
        owner_id: connection.owner_id.clone(),
        account_id: account_id.to_owned(),
        note: draft.note,
        happened_at: at,
        happened_on: draft.happened.day(tz),
        created_at: now,
    };
    store::insert_touch(conn, &touch)?;
    let from = connection.last_touched_at.map_or(at, |last| last.max(at));
    store::touched(conn, &connection.id, at)?;
    let next = if Cadence::from_columns(connection.cadence.as_deref(), connection.cadence_days)
        .is_some()
    {
        Some(schedule(conn, &connection, account_id, tz, dates::day_of(tz, from), now)?)
    } else {
        None
    };
    manage::stamp(conn, &connection)?;
    Ok((touch, next))
}

/// Gives the connection's cadence check-in the day a cadence after `from` (the latest touch):
/// the open one is moved (and woken from a snooze), or a new one made. Call with the connection
/// locked ([`store::lock_connection`]) and a cadence set. When the connection holds
/// [`MAX_PER_CONNECTION`] follow-ups, its oldest closed cadence check-in makes room.
pub fn schedule(
    conn: &mut DbConn,
    connection: &Connection,
    account_id: &str,
    tz: Tz,
    from: chrono::NaiveDate,
    now: NaiveDateTime,
) -> Result<FollowUpView> {
    let cadence = Cadence::from_columns(connection.cadence.as_deref(), connection.cadence_days)
        .ok_or_else(|| Error::internal(anyhow::anyhow!("scheduling without a cadence")))?;
    let due = Due::On(cadence.next_after(from));
    let (due_on, due_at) = due.columns();
    let id = match store::open_cadence(conn, &connection.id)? {
        Some(open) => {
            let changes = FollowUpChanges {
                due_on: Some(due_on),
                due_at: Some(due_at),
                queue_at: Some(due.instant(tz)),
                state: Some(State::Open.as_str()),
                snoozed_until: Some(None),
                updated_at: Some(now),
                ..Default::default()
            };
            store::update(conn, &open.id, &changes)?;
            open.id
        }
        None => {
            if store::counts(conn, &connection.id)?.1 >= MAX_PER_CONNECTION {
                store::drop_oldest_closed_cadence(conn, &connection.id)?;
            }
            let what =
                manage::What { kind: Kind::CheckIn, note: None, due, origin: Origin::Cadence };
            let row = manage::new_row(connection, account_id, what, tz, now);
            let id = row.id.clone();
            // The unique index keeps one open cadence check-in; under the connection's lock no
            // other writer can have made one since it was read.
            if store::insert_unless_taken(conn, std::slice::from_ref(&row))? == 0 {
                return Err(Error::internal(anyhow::anyhow!("a second cadence check-in")));
            }
            id
        }
    };
    let row = store::find_for_account(conn, account_id, &id)?.ok_or_else(manage::not_found)?;
    Ok(FollowUpView::new(row, tz))
}

/// After the connection's cadence changed (already stored): with a cadence, its check-in is due a
/// cadence from today; without, the open one is dismissed. Call with the connection locked.
pub fn cadence_changed(
    conn: &mut DbConn,
    connection: &Connection,
    account_id: &str,
    now: NaiveDateTime,
) -> Result<()> {
    let tz = manage::zone_of(conn, account_id)?;
    match Cadence::from_columns(connection.cadence.as_deref(), connection.cadence_days) {
        Some(_) => {
            schedule(conn, connection, account_id, tz, dates::day_of(tz, now), now)?;
        }
        None => {
            if let Some(open) = store::open_cadence(conn, &connection.id)? {
                let changes = FollowUpChanges {
                    state: Some(State::Dismissed.as_str()),
                    is_open: Some(false),
                    snoozed_until: Some(None),
                    queue_at: Some(Due::of(&open).instant(tz)),
                    updated_at: Some(now),
                    ..Default::default()
                };
                store::update(conn, &open.id, &changes)?;
            }
        }
    }
    Ok(())
}

/// A page of the caller's touches on one of their connections, in the order they were logged.
pub fn list(
    conn: &mut DbConn,
    event_id: &str,
    account_id: &str,
    connection_id: &str,
    after: Option<&str>,
    limit: i64,
) -> Result<(Vec<Touch>, Tz)> {
    let (member, _, _) = crate::domain::attendees::member(conn, event_id, account_id)?;
    crate::db::connections::find_for_owner(conn, &member.id, connection_id)?.ok_or_else(|| {
        Error::not_found(
            ErrorCode::ConnectionNotFound,
            "You have no connection with this id in this event.",
        )
    })?;
    let tz = manage::zone_of(conn, account_id)?;
    Ok((store::touches_page(conn, connection_id, after, limit)?, tz))
}
