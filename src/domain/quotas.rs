//! Budgets on what one account or one event may cause in 24 hours: events created and emails
//! sent to other people (see [`Quotas`]). Counted in the database, under a row lock on
//! PostgreSQL, so that they hold across API processes and under concurrent requests.

use chrono::{Duration, NaiveDateTime};

use crate::config::Quotas;
use crate::db::outbox::{self, CausedBy};
use crate::db::{self, DbConn, events as event_store};
use crate::error::{Error, Result};

/// The window every quota is counted over.
pub const WINDOW: Duration = Duration::hours(24);

/// Charges `count` emails to `sender_id` and to `event_id`, or refuses with 429 `quota_exceeded`
/// when either budget would be overdrawn; then nothing is queued. Call inside the transaction
/// that queues the mail.
pub fn charge_mail(
    conn: &mut DbConn,
    quotas: &Quotas,
    sender_id: &str,
    event_id: &str,
    count: usize,
) -> Result<()> {
    if count == 0 {
        return Ok(());
    }
    let now = db::now();
    let since = now - WINDOW;
    db::accounts::lock(conn, sender_id)?;
    let (sent, oldest) = outbox::caused(conn, CausedBy::Sender(sender_id), since)?;
    check(sent, count, quotas.mail_per_account_per_day, oldest, now, "this account")?;
    event_store::lock(conn, event_id)?;
    let (sent, oldest) = outbox::caused(conn, CausedBy::Event(event_id), since)?;
    check(sent, count, quotas.mail_per_event_per_day, oldest, now, "this event")
}

/// Refuses with 429 `quota_exceeded` when `account_id` has created its day's events already.
pub fn check_new_event(conn: &mut DbConn, quotas: &Quotas, account_id: &str) -> Result<()> {
    let now = db::now();
    db::accounts::lock(conn, account_id)?;
    let (created, oldest) = event_store::created_by_since(conn, account_id, now - WINDOW)?;
    let limit = quotas.events_per_account_per_day;
    if created < i64::from(limit) {
        return Ok(());
    }
    Err(Error::quota_exceeded(
        retry_after(oldest, now),
        format!("An account may create {limit} events in 24 hours; try again later."),
    ))
}

fn check(
    used: i64,
    wanted: usize,
    limit: u32,
    oldest: Option<NaiveDateTime>,
    now: NaiveDateTime,
    whom: &str,
) -> Result<()> {
    let left = (i64::from(limit) - used).max(0);
    if i64::try_from(wanted).unwrap_or(i64::MAX) <= left {
        return Ok(());
    }
    Err(Error::quota_exceeded(
        retry_after(oldest, now),
        format!(
            "This would send {wanted} emails; {whom} may cause {limit} in 24 hours and has \
             {left} left."
        ),
    ))
}

/// Seconds until the oldest counted item leaves the window.
fn retry_after(oldest: Option<NaiveDateTime>, now: NaiveDateTime) -> u64 {
    let frees_at = oldest.map_or(now + WINDOW, |t| t + WINDOW);
    u64::try_from((frees_at - now).num_seconds()).unwrap_or(0) + 1
}
