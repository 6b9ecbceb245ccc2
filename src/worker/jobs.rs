//! Scheduled jobs: the post-event queue and digest emails. Each takes the time to act as of, so
//! that tests control time; the worker calls them every `HALLWAY_JOBS_INTERVAL_SECS` with the
//! clock's. Both are safe with several workers on PostgreSQL (see each).

use chrono::{DateTime, SubsecRound, Utc};

use crate::db::{Db, digests};
use crate::domain::follow_ups::{Digest, dates, digest, post_event};
use crate::error::Result;

/// Accounts read per round of the digest job.
const READERS_PER_ROUND: i64 = 500;

/// Generates the post-event queue of every event whose end has passed by `now` (see
/// [`post_event`]), a chunk per transaction; gives back how many follow-ups it made. Workers
/// running it at once share the work: each holds one event's row per chunk, and skips events
/// another holds.
pub async fn generate_post_event(db: &Db, now: DateTime<Utc>) -> Result<usize> {
    let now = now.naive_utc().trunc_subsecs(6);
    let mut created = 0;
    while let Some(step) = db.write(move |conn| post_event::step(conn, now)).await? {
        created += step.created;
        if step.finished {
            tracing::info!(event_id = %step.event_id, "post-event follow-ups generated");
        }
    }
    Ok(created)
}

/// Queues the digest of every person whose digest hour has come by `now` in their time zone and
/// whose period has none yet (see [`digest`]); gives back how many emails it queued. Each person's
/// period is recorded and its email queued in one transaction; the period's unique key keeps a
/// second worker (or a second run) from sending it again.
pub async fn send_digests(db: &Db, public_url: &str, now: DateTime<Utc>) -> Result<usize> {
    let now = now.naive_utc().trunc_subsecs(6);
    let mut after: Option<String> = None;
    let mut queued = 0;
    loop {
        let from = after.clone();
        let readers = db
            .read(move |conn| Ok(digests::readers(conn, from.as_deref(), READERS_PER_ROUND)?))
            .await?;
        let Some(last) = readers.last() else { break };
        after = Some(last.0.clone());
        let due: Vec<(digests::Reader, String)> = readers
            .into_iter()
            .filter_map(|reader| {
                let kind = Digest::parse(&reader.4)?;
                let key = digest::period(kind, reader.5, dates::zone(&reader.3), now)?;
                Some((reader, key))
            })
            .collect();
        let pairs: Vec<(String, String)> =
            due.iter().map(|(r, key)| (r.0.clone(), key.clone())).collect();
        let done = db.read(move |conn| Ok(digests::recorded(conn, &pairs)?)).await?;
        for (reader, key) in due.into_iter().filter(|(r, _)| !done.contains(&r.0)) {
            let url = public_url.to_owned();
            if db.write(move |conn| digest::send(conn, &reader, &key, &url, now)).await? {
                queued += 1;
            }
        }
    }
    Ok(queued)
}

/// Introductions expired per transaction.
const EXPIRED_PER_ROUND: i64 = 500;

/// Expires every introduction still unanswered 14 days after it
/// was made, as of `now`; gives back how many. Their links stop working.
pub async fn expire_introductions(db: &Db, now: DateTime<Utc>) -> Result<usize> {
    let now = now.naive_utc().trunc_subsecs(6);
    let mut expired = 0;
    loop {
        let n = db
            .write(move |conn| {
                crate::domain::introductions::expire_due(conn, now, EXPIRED_PER_ROUND)
            })
            .await?;
        expired += n;
        if n == 0 {
            return Ok(expired);
        }
    }
}
