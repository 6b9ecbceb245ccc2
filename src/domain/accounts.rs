//! Accounts: created on first sign-in, edited by their owner.

use super::Email;
use super::follow_ups::{Digest, dates};
use super::text::{self, Lines};
use crate::db::{self, DbConn, accounts as store};
use crate::error::{Error, ErrorCode, Result};

pub use crate::db::accounts::Account;

/// The longest display name accepted.
pub const MAX_DISPLAY_NAME: usize = 100;
/// The hours of the day a digest may be sent at, in the person's time zone.
pub const DIGEST_HOURS: std::ops::RangeInclusive<i32> = 0..=23;

/// The account for `email`, created if this is its first sign-in.
pub fn find_or_create(conn: &mut DbConn, email: &Email) -> Result<Account> {
    if let Some(account) = store::find_by_email(conn, email.as_str())? {
        return Ok(account);
    }
    let now = db::now();
    store::insert(
        conn,
        &store::NewAccount {
            id: &db::new_id(),
            email: email.as_str(),
            display_name: None,
            created_at: now,
            updated_at: now,
        },
    )?;
    store::find_by_email(conn, email.as_str())?
        .ok_or_else(|| Error::internal(anyhow::anyhow!("account vanished after insert")))
}

/// A display name, trimmed; `None` clears it.
pub fn parse_display_name(raw: Option<&str>) -> Result<Option<String>> {
    let Some(raw) = raw else { return Ok(None) };
    let name = raw.trim();
    if name.is_empty() {
        return Err(Error::invalid_field(
            "display_name",
            "must not be blank; send null to clear it",
        ));
    }
    if name.chars().count() > MAX_DISPLAY_NAME {
        return Err(Error::invalid_field(
            "display_name",
            format!("must be at most {MAX_DISPLAY_NAME} characters"),
        ));
    }
    if let Some(problem) = text::problem(name, Lines::One) {
        return Err(Error::invalid_field("display_name", problem));
    }
    Ok(Some(name.to_owned()))
}

/// A valid change of an account's settings; `None` leaves a field as it is.
#[derive(Clone, Debug, Default)]
pub struct Settings {
    /// `Some(None)` clears it.
    pub display_name: Option<Option<String>>,
    /// An IANA name (see [`super::events::parse_time_zone`]).
    pub time_zone: Option<String>,
    pub digest: Option<Digest>,
    /// 0 to 23.
    pub digest_hour: Option<i32>,
}

/// The hour of a digest: 0 to 23.
pub fn parse_digest_hour(hour: i64) -> Result<i32, String> {
    i32::try_from(hour)
        .ok()
        .filter(|h| DIGEST_HOURS.contains(h))
        .ok_or_else(|| "must be 0 to 23".to_owned())
}

/// Changes the account's name, time zone or digest. A new time zone moves the follow-ups due on a
/// date to that day in the new zone (they stay due on the same day).
pub fn update(conn: &mut DbConn, account_id: &str, settings: Settings) -> Result<Account> {
    let before = find(conn, account_id)?;
    let changes = store::AccountChanges {
        display_name: settings.display_name,
        time_zone: settings.time_zone.clone(),
        digest: settings.digest.map(|d| d.as_str().to_owned()),
        digest_hour: settings.digest_hour,
        updated_at: Some(db::now()),
    };
    store::update(conn, account_id, &changes)?;
    if let Some(zone) = settings.time_zone.filter(|zone| *zone != before.time_zone) {
        super::follow_ups::manage::rezone(conn, account_id, dates::zone(&zone))?;
    }
    find(conn, account_id)
}

/// The account behind a valid token; `invalid_token` when it no longer exists.
pub fn find(conn: &mut DbConn, account_id: &str) -> Result<Account> {
    store::find(conn, account_id)?.ok_or_else(account_gone)
}

/// Refuses the token of a deleted account (`invalid_token`, 401).
pub fn ensure_exists(conn: &mut DbConn, account_id: &str) -> Result<()> {
    if store::exists(conn, account_id)? { Ok(()) } else { Err(account_gone()) }
}

/// For a lookup of the caller's own rows that found nothing (a membership): `invalid_token` when
/// the caller's account is gone (its rows went with it), else `otherwise`. Run only on that
/// failure path, it costs nothing when the lookup succeeds.
pub fn gone_or(conn: &mut DbConn, account_id: &str, otherwise: Error) -> Error {
    match ensure_exists(conn, account_id) {
        Ok(()) => otherwise,
        Err(error) => error,
    }
}

fn account_gone() -> Error {
    Error::unauthorized(ErrorCode::InvalidToken, "The account of this token no longer exists.")
}

/// Deletes the account and everything of it, its mail in the outbox and its sign-in records
/// included. An event it created passes to another of its organizers; if an event has none, the
/// deletion is refused (`sole_organizer`).
pub fn delete(conn: &mut DbConn, account_id: &str) -> Result<()> {
    let account = find(conn, account_id)?;
    for (event_id, successor) in crate::db::events::created_by(conn, account_id)? {
        let Some(successor) = successor else {
            return Err(Error::conflict(
                ErrorCode::SoleOrganizer,
                "You are the only organizer of an event: add another organizer before deleting your account.",
            ));
        };
        crate::db::events::set_creator(conn, &event_id, &successor)?;
    }
    // The people this person met learn of it by delta sync (see `db::tombstones`).
    crate::db::tombstones::bury_connections_with(conn, account_id, crate::db::now())?;
    crate::db::auth::delete_for_email(conn, &account.email)?;
    crate::db::outbox::delete_for_recipient(conn, &account.email)?;
    store::delete(conn, account_id)?;
    Ok(())
}
