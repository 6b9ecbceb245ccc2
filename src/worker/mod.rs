//! Background work: delivers the mail outbox, retrying failed messages with exponential backoff,
//! purges what is no longer needed (sent mail after its retention, spent sign-in records, old
//! digest records, rate-limit rows full again), and runs the scheduled jobs (see [`jobs`]: the post-event queue, digests).
//!
//! An SMTP outage delays mail, it never loses it: a failed message stays in the outbox with its
//! error and is tried again later. On PostgreSQL several workers may run; each claims messages with
//! `FOR UPDATE SKIP LOCKED` (see `db::outbox::claim_due`).

pub mod jobs;

use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::TimeDelta;
use tokio::sync::Notify;

use crate::config::Config;
use crate::db::{self, Db, outbox};
use crate::error::Result;
use crate::mail::Mailer;

/// Messages claimed per round.
const BATCH: i64 = 50;
/// How long a claimed message is reserved for the worker that claimed it.
const LEASE: TimeDelta = TimeDelta::minutes(5);
/// The longest wait between two attempts of one message.
const MAX_BACKOFF: Duration = Duration::from_secs(3600);
/// The longest time between two purges; a round that sent mail purges too.
const PURGE_EVERY: Duration = Duration::from_secs(3600);
/// How long sign-in codes (after they expire) and wrong guesses are kept: well past every window
/// they are counted in.
const SIGN_IN_RECORDS_KEPT: TimeDelta = TimeDelta::days(1);
/// How long the record of a sent digest is kept: well past its period (a week at most).
const DIGEST_RECORDS_KEPT: TimeDelta = TimeDelta::days(30);

pub struct Worker {
    db: Db,
    mailer: Mailer,
    poll: Duration,
    retry_base: Duration,
    max_attempts: i32,
    retention: TimeDelta,
    wake: Arc<Notify>,
    jobs_interval: Option<Duration>,
    public_url: String,
}

impl Worker {
    pub fn new(db: Db, config: &Config, wake: Arc<Notify>) -> anyhow::Result<Self> {
        Ok(Self {
            db,
            mailer: Mailer::from_config(config)?,
            poll: config.worker_poll,
            retry_base: config.mail_retry_base,
            max_attempts: config.mail_max_attempts,
            retention: TimeDelta::from_std(config.outbox_retention).unwrap_or(TimeDelta::MAX),
            wake,
            jobs_interval: config.jobs_interval,
            public_url: config.public_url.clone(),
        })
    }

    /// Delivers due mail until the task is dropped, waking early when `wake` is notified; runs the
    /// scheduled jobs beside it (a long post-event generation never holds up a sign-in code).
    pub async fn run(self) {
        futures_util::future::join(self.deliver_forever(), self.jobs_forever()).await;
    }

    /// Runs the scheduled jobs every `jobs_interval` with the clock's time (never, without one).
    async fn jobs_forever(&self) {
        let Some(interval) = self.jobs_interval else { return };
        loop {
            let now = chrono::Utc::now();
            match jobs::generate_post_event(&self.db, now).await {
                Ok(0) => {}
                Ok(created) => tracing::info!(created, "post-event follow-ups made"),
                Err(error) => tracing::error!(?error, "post-event generation failed"),
            }
            match jobs::expire_introductions(&self.db, now).await {
                Ok(0) => {}
                Ok(expired) => tracing::info!(expired, "introductions expired"),
                Err(error) => tracing::error!(?error, "expiring introductions failed"),
            }
            match jobs::send_digests(&self.db, &self.public_url, now).await {
                Ok(0) => {}
                Ok(queued) => {
                    tracing::info!(queued, "digests queued");
                    self.wake.notify_one();
                }
                Err(error) => tracing::error!(?error, "digests failed"),
            }
            tokio::time::sleep(interval).await;
        }
    }

    async fn deliver_forever(&self) {
        let mut last_purge: Option<Instant> = None;
        loop {
            let (wait, sent) = match self.deliver_due().await {
                Ok((next_due, sent)) => {
                    (next_due.map_or(self.poll, |due| due.min(self.poll)), sent)
                }
                Err(error) => {
                    tracing::error!(?error, "outbox round failed");
                    (self.poll, false)
                }
            };
            if sent || last_purge.is_none_or(|at| at.elapsed() >= PURGE_EVERY) {
                self.purge().await;
                last_purge = Some(Instant::now());
            }
            tokio::select! {
                () = self.wake.notified() => {}
                () = tokio::time::sleep(wait) => {}
            }
        }
    }

    /// Sends every message that is due; returns how long until the next one is, and whether any
    /// message was claimed.
    async fn deliver_due(&self) -> Result<(Option<Duration>, bool)> {
        let mut claimed_any = false;
        loop {
            let now = db::now();
            let claimed = self
                .db
                .write(move |conn| {
                    outbox::claim_due(conn, now, now + LEASE, BATCH).map_err(Into::into)
                })
                .await?;
            if claimed.is_empty() {
                break;
            }
            claimed_any = true;
            for message in claimed {
                self.deliver(message).await?;
            }
        }
        let next = self.db.read(|conn| outbox::next_due(conn).map_err(Into::into)).await?;
        Ok((next.map(|due| (due - db::now()).to_std().unwrap_or(Duration::ZERO)), claimed_any))
    }

    /// Deletes mail sent longer ago than the retention period, and spent sign-in records. A
    /// failure is logged and tried again at the next purge; delivery goes on.
    async fn purge(&self) {
        let now = db::now();
        let sent_before =
            now.checked_sub_signed(self.retention).unwrap_or(chrono::NaiveDateTime::MIN);
        let purged = self
            .db
            .write(move |conn| {
                let mail = outbox::purge_sent(conn, sent_before)?;
                let sign_in = db::auth::purge(conn, now - SIGN_IN_RECORDS_KEPT)?;
                db::digests::purge(conn, now - DIGEST_RECORDS_KEPT)?;
                // PostgreSQL's shared rate limits: rows whose buckets are all full again.
                db::rate_buckets::purge_full(conn)?;
                Ok((mail, sign_in))
            })
            .await;
        match purged {
            Ok((0, 0)) => {}
            Ok((mail, sign_in)) => {
                tracing::info!(mail, sign_in, "purged old outbox and sign-in rows")
            }
            Err(error) => tracing::error!(?error, "purge failed"),
        }
    }

    async fn deliver(&self, message: outbox::Message) -> Result<()> {
        let outcome = self.mailer.send(&message).await;
        let id = message.id.clone();
        match outcome {
            Ok(()) => {
                tracing::info!(id = %message.id, kind = %message.kind, "email sent");
                self.db
                    .write(move |conn| outbox::mark_sent(conn, &id, db::now()).map_err(Into::into))
                    .await?;
            }
            Err(error) if error.permanent || message.attempts + 1 >= self.max_attempts => {
                // Given up: kept with its error for operators (`hallway dead-letters`), never
                // tried again, purged with sent mail after the retention period.
                tracing::error!(id = %message.id, kind = %message.kind, attempts = message.attempts + 1, error = %error.message, "email given up (dead letter)");
                let text = error.message;
                self.db
                    .write(move |conn| {
                        outbox::mark_dead(conn, &id, &text, db::now()).map_err(Into::into)
                    })
                    .await?;
            }
            Err(error) => {
                let delay = backoff(self.retry_base, message.attempts);
                tracing::warn!(id = %message.id, attempts = message.attempts + 1, ?delay, error = %error.message, "email not sent; will retry");
                let next = db::now() + TimeDelta::from_std(delay).unwrap_or(TimeDelta::hours(1));
                let text = error.message;
                self.db
                    .write(move |conn| {
                        outbox::mark_failed(conn, &id, &text, next).map_err(Into::into)
                    })
                    .await?;
            }
        }
        Ok(())
    }
}

/// `base`, doubled for each earlier failed attempt, capped at an hour.
fn backoff(base: Duration, earlier_attempts: i32) -> Duration {
    let factor = 2u32.saturating_pow(u32::try_from(earlier_attempts).unwrap_or(0).min(20));
    base.saturating_mul(factor).min(MAX_BACKOFF)
}

/// The `hallway dead-letters` command: the messages the worker gave up, newest first, one JSON
/// object a line (what, to whom, how often tried, the last error; never the text).
pub fn dead_letters(db: &Db, limit: i64) -> anyhow::Result<Vec<serde_json::Value>> {
    let mut conn = db.get()?;
    let messages = outbox::dead_letters(&mut conn, limit)?;
    Ok(messages
        .into_iter()
        .map(|m| {
            serde_json::json!({
                "id": m.id,
                "kind": m.kind,
                "recipient": m.recipient,
                "attempts": m.attempts,
                "last_error": m.last_error,
                "created_at": m.created_at.and_utc(),
                "dead_at": m.dead_at.map(|t| t.and_utc()),
            })
        })
        .collect())
}

/// The `hallway worker` command: the worker alone, polling the database.
pub async fn run_forever(db: Db, config: &Config) -> anyhow::Result<()> {
    let worker = Worker::new(db, config, Arc::new(Notify::new()))?;
    tracing::info!("worker started");
    tokio::select! {
        () = worker.run() => Ok(()),
        result = tokio::signal::ctrl_c() => result.map_err(Into::into),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_per_attempt_and_is_capped() {
        let base = Duration::from_secs(2);
        assert_eq!(backoff(base, 0), Duration::from_secs(2));
        assert_eq!(backoff(base, 3), Duration::from_secs(16));
        assert_eq!(backoff(base, 40), MAX_BACKOFF);
    }
}
