//! Every rate limit as handlers use it, on either backend.
//!
//! On SQLite one process owns the database, and the buckets and one-at-a-time slots live in its
//! memory ([`super::rate_limit`]). On PostgreSQL any number of API processes share the database,
//! and so do the limits: a person is limited as one, whichever process answers them. The buckets
//! are rows of `rate_buckets`, settled by one statement per limited request
//! ([`db::rate_buckets::settle`]), with the same capacities, refill, debt and `Retry-After` as in
//! memory; the slots are session advisory locks ([`db::session_locks`]). Lists of conversation
//! starters take their tokens a few at a time ([`super::leases`]).
//!
//! Each request's buckets form a group stored in one row, so one statement admits or refuses
//! them together: a refused request charges none of them.

use std::sync::Arc;

use super::leases::{LEASE, Leases};
use super::rate_limit::{self, Buckets, ExportLimits, Rate, SheetLimits, Slot, Slots, WriteLimits};
use crate::db::rate_buckets::{self, Settle, Settled};
use crate::db::session_locks::SessionLocks;
use crate::db::{Backend, Db, DbConn};
use crate::error::{Error, Result};

/// Buckets settled together for one key, in the order they are checked.
struct Group {
    /// Starts every key of the group's rows.
    prefix: &'static str,
    buckets: &'static [(Rate, &'static str)],
}

const WRITES: Group = Group {
    prefix: "writes",
    buckets: &[
        (rate_limit::REQUESTS, "requests"),
        (rate_limit::SCANS, "scans"),
        (rate_limit::NOTE_CHARS, "characters of notes"),
    ],
};
const STARTERS: Group =
    Group { prefix: "starters", buckets: &[(rate_limit::STARTERS, rate_limit::STARTERS_WHAT)] };
const RESENDS: Group =
    Group { prefix: "resends", buckets: &[(rate_limit::RESENDS, rate_limit::RESENDS_WHAT)] };
const SHEETS: Group =
    Group { prefix: "sheets", buckets: &[(rate_limit::SHEETS, rate_limit::SHEETS_WHAT)] };
const DATA_EXPORTS: Group = Group {
    prefix: "data-exports",
    buckets: &[(rate_limit::DATA_EXPORTS, rate_limit::DATA_EXPORTS_WHAT)],
};
const CONTACT_EXPORTS: Group = Group {
    prefix: "contact-exports",
    buckets: &[(rate_limit::CONTACT_EXPORTS, rate_limit::CONTACT_EXPORTS_WHAT)],
};

/// What a request asks of one bucket of its group.
#[derive(Clone, Copy)]
struct Ask {
    cost: u64,
    /// Whether the bucket must hold the cost; an unchecked cost is charged whatever it holds.
    checked: bool,
}

const fn ask(cost: u64) -> Ask {
    Ask { cost, checked: true }
}

/// The limits of one process: in its memory, or shared through PostgreSQL.
pub enum Limits {
    Process(Box<ProcessLimits>),
    Shared(SharedLimits),
}

pub struct ProcessLimits {
    pub writes: Arc<WriteLimits>,
    pub starters: Arc<Buckets>,
    resends: Buckets,
    sheets: SheetLimits,
    exports: ExportLimits,
}

pub struct SharedLimits {
    db: Db,
    locks: Arc<SessionLocks>,
    sheets: Slots,
    data_exports: Slots,
    /// Starter lists' tokens taken ahead (see [`super::leases`]).
    starter_leases: Leases,
}

impl Limits {
    /// Shared limits on PostgreSQL (`database_url` opens the connection that holds the slots'
    /// locks), limits in memory on SQLite.
    pub fn new(db: &Db, database_url: &str) -> Self {
        match db.backend() {
            Backend::Postgres => Self::Shared(SharedLimits {
                db: db.clone(),
                locks: Arc::new(SessionLocks::new(database_url)),
                sheets: Slots::default(),
                data_exports: Slots::default(),
                starter_leases: Leases::default(),
            }),
            Backend::Sqlite => Self::Process(Box::new(ProcessLimits {
                writes: Arc::new(WriteLimits::default()),
                starters: Arc::new(rate_limit::starter_limits()),
                resends: rate_limit::resend_limits(),
                sheets: SheetLimits::default(),
                exports: ExportLimits::default(),
            })),
        }
    }

    /// Charges a request that carries `scans` scans with `note_chars` characters of notes. Every
    /// budget is checked before any is charged: a refused request costs nothing, so a client that
    /// retries it later is not charged twice. Scans without notes go on while the note budget is
    /// in debt.
    pub async fn scans(&self, account_id: &str, scans: usize, note_chars: usize) -> Result<()> {
        match self {
            Self::Process(limits) => limits.writes.scans(account_id, scans, note_chars),
            Self::Shared(shared) => {
                let notes = Ask { cost: note_chars as u64, checked: note_chars > 0 };
                shared.settle(&WRITES, account_id, [ask(1), ask(scans as u64), notes]).await
            }
        }
    }

    /// Charges a write request that carries nothing more.
    pub async fn request(&self, account_id: &str) -> Result<()> {
        match self {
            Self::Process(limits) => limits.writes.request(account_id),
            Self::Shared(shared) => {
                let nothing = Ask { cost: 0, checked: false };
                shared.settle(&WRITES, account_id, [ask(1), nothing, nothing]).await
            }
        }
    }

    /// Charges a request that adds a note of `chars` characters (both budgets checked first).
    pub async fn note(&self, account_id: &str, chars: usize) -> Result<()> {
        match self {
            Self::Process(limits) => limits.writes.note(account_id, chars),
            Self::Shared(shared) => {
                let no_scans = Ask { cost: 0, checked: false };
                shared.settle(&WRITES, account_id, [ask(1), no_scans, ask(chars as u64)]).await
            }
        }
    }

    /// Charges one list of conversation starters. On PostgreSQL from a lease of [`LEASE`]
    /// tokens taken from the shared bucket at once, or, when the bucket holds fewer, the one
    /// this list needs.
    pub async fn starters(&self, account_id: &str) -> Result<()> {
        match self {
            Self::Process(limits) => limits.starters.take(account_id, rate_limit::STARTERS_WHAT),
            Self::Shared(shared) => {
                if shared.starter_leases.spend(account_id) {
                    return Ok(());
                }
                if shared.settle(&STARTERS, account_id, [ask(LEASE)]).await.is_ok() {
                    shared.starter_leases.keep(account_id, LEASE - 1);
                    return Ok(());
                }
                shared.settle(&STARTERS, account_id, [ask(1)]).await
            }
        }
    }

    /// Whether an invitation may be sent to `attendee` again; charged by [`Self::resent`] once
    /// queued, so that a refused request (unknown person, quota) costs nothing.
    pub async fn may_resend(&self, attendee: &str) -> Result<()> {
        match self {
            Self::Process(limits) => limits.resends.check_n(attendee, 1, rate_limit::RESENDS_WHAT),
            Self::Shared(shared) => shared.check(&RESENDS, attendee).await,
        }
    }

    /// Charges an invitation sent again. What it charges is done already: a failure to charge
    /// is logged, not answered.
    pub async fn resent(&self, attendee: &str) {
        match self {
            Self::Process(limits) => limits.resends.charge(attendee, 1),
            Self::Shared(shared) => shared.charge(&RESENDS, attendee).await,
        }
    }

    /// The organizer's slot for one sheet, unless one of theirs is being made or their budget is
    /// spent (429 `rate_limited`). The sheet is charged when it is queued ([`Self::sheet_queued`]),
    /// so a request turned away before that costs nothing.
    pub async fn sheet(&self, account_id: &str) -> Result<Slot> {
        match self {
            Self::Process(limits) => limits.sheets.start(account_id),
            Self::Shared(shared) => {
                let slot = shared
                    .sheets
                    .try_take_shared(&key(&SHEETS, account_id), &shared.locks)
                    .await?
                    .ok_or_else(rate_limit::sheet_in_progress)?;
                shared.check(&SHEETS, account_id).await?;
                Ok(slot)
            }
        }
    }

    /// Charges a sheet once queued (a failure to charge is logged, as for [`Self::resent`]).
    pub async fn sheet_queued(&self, account_id: &str) {
        match self {
            Self::Process(limits) => limits.sheets.charge(account_id),
            Self::Shared(shared) => shared.charge(&SHEETS, account_id).await,
        }
    }

    /// The person's slot for one export of all their data, charged to its budget; refused (429
    /// `rate_limited`) while another is being written or when the budget is spent. Hold the slot
    /// until the export's last byte is written.
    pub async fn data_export(&self, account_id: &str) -> Result<Slot> {
        match self {
            Self::Process(limits) => limits.exports.data(account_id),
            Self::Shared(shared) => {
                let slot = shared
                    .data_exports
                    .try_take_shared(&key(&DATA_EXPORTS, account_id), &shared.locks)
                    .await?
                    .ok_or_else(rate_limit::export_in_progress)?;
                shared.settle(&DATA_EXPORTS, account_id, [ask(1)]).await?;
                Ok(slot)
            }
        }
    }

    /// Charges one export of the whole address book (429 `rate_limited` when spent).
    pub async fn contact_export(&self, account_id: &str) -> Result<()> {
        match self {
            Self::Process(limits) => limits.exports.contacts(account_id),
            Self::Shared(shared) => shared.settle(&CONTACT_EXPORTS, account_id, [ask(1)]).await,
        }
    }
}

/// The row of `group` for `id`.
fn key(group: &Group, id: &str) -> String {
    format!("{}/{id}", group.prefix)
}

impl SharedLimits {
    /// Admits and charges the request, or refuses it having charged nothing.
    async fn settle<const N: usize>(
        &self,
        group: &'static Group,
        id: &str,
        asks: [Ask; N],
    ) -> Result<()> {
        debug_assert_eq!(N, group.buckets.len());
        let key = key(group, id);
        let outcome = self
            .db
            .read(move |conn| {
                let DbConn::Postgres(pg) = conn else {
                    return Err(Error::internal(anyhow::anyhow!("shared limits need PostgreSQL")));
                };
                let settle =
                    Settle {
                        key: &key,
                        capacities: group.buckets.iter().map(|(rate, _)| rate.capacity).collect(),
                        rates: group.buckets.iter().map(|(rate, _)| rate.per_second).collect(),
                        needed: group
                            .buckets
                            .iter()
                            .zip(asks)
                            .map(|((rate, _), ask)| {
                                if ask.checked { rate.needed(ask.cost) } else { f64::NEG_INFINITY }
                            })
                            .collect(),
                        costs: asks.iter().map(|ask| ask.cost as f64).collect(),
                    };
                Ok(rate_buckets::settle(pg, &settle)?)
            })
            .await?;
        match outcome {
            Settled::Granted => Ok(()),
            Settled::Refused { tokens, elapsed_secs } => {
                Err(refusal(group, &asks, tokens.as_deref(), elapsed_secs))
            }
        }
    }

    /// Whether one more would pass now, charging nothing and writing nothing.
    async fn check(&self, group: &'static Group, id: &str) -> Result<()> {
        let key = key(group, id);
        let stored = self
            .db
            .read(move |conn| match conn {
                DbConn::Postgres(pg) => Ok(rate_buckets::peek(pg, &key)?),
                DbConn::Sqlite(_) => Ok(None),
            })
            .await?;
        let Some((tokens, elapsed_secs)) = stored else { return Ok(()) };
        let asks = vec![ask(1); group.buckets.len()];
        match first_short(group, &asks, Some(&tokens), elapsed_secs) {
            Some(refused) => Err(refused),
            None => Ok(()),
        }
    }

    /// Charges one, whatever the bucket holds (after a check passed). The work it pays for is
    /// under way: a failure is logged, and the person gets that one for free.
    async fn charge(&self, group: &'static Group, id: &str) {
        if let Err(error) = self.settle(group, id, [Ask { cost: 1, checked: false }]).await {
            tracing::warn!(?error, bucket = group.prefix, "could not charge a rate limit");
        }
    }
}

/// The first bucket, in the group's order, that holds less than the request needs.
fn first_short(group: &Group, asks: &[Ask], tokens: Option<&[f64]>, elapsed: f64) -> Option<Error> {
    group.buckets.iter().zip(asks).enumerate().find_map(|(i, ((rate, what), ask))| {
        let stored = tokens.and_then(|t| t.get(i)).copied().unwrap_or(rate.capacity);
        let level = rate.refilled(stored, elapsed);
        let needed = rate.needed(ask.cost);
        (ask.checked && level < needed).then(|| rate.refusal(needed, level, what))
    })
}

/// Why a settlement was refused. The row the refusal reports may be older than the one the
/// statement locked (a concurrent request charged it meanwhile): then no bucket looks short, and
/// the first checked bucket asks for a second.
fn refusal(group: &Group, asks: &[Ask], tokens: Option<&[f64]>, elapsed: f64) -> Error {
    first_short(group, asks, tokens, elapsed).unwrap_or_else(|| {
        let what = group
            .buckets
            .iter()
            .zip(asks)
            .find(|(_, ask)| ask.checked)
            .map_or("requests", |((_, what), _)| what);
        Error::rate_limited(
            1,
            format!("Too many {what}; slow down and retry after the given time."),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_refusal_names_the_first_short_bucket_and_when_it_will_hold_enough() {
        // Requests full, scans at 5 tokens after 2 s (7 then), notes unchecked.
        let asks = [ask(1), ask(10), Ask { cost: 0, checked: false }];
        let error = refusal(&WRITES, &asks, Some(&[30.0, 5.0, -100.0]), 2.0);
        assert_eq!(error.code(), "rate_limited");
        assert!(error.to_string().contains("Too many scans"), "{error}");
        // 3 scans short at one a second.
        let response = actix_web::ResponseError::error_response(&error);
        assert_eq!(response.headers().get("Retry-After").unwrap(), "3");
    }

    #[test]
    fn a_missing_row_is_a_full_group() {
        assert!(first_short(&WRITES, &[ask(30), ask(1500), ask(250_000)], None, 0.0).is_none());
    }
}
