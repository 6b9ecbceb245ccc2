//! Token buckets per key, in this process: enough to stop one person's client from writing in a
//! loop. These are SQLite's limits, where one process owns the database; on PostgreSQL the same
//! buckets (the same [`Rate`]s, the same rules) live in the database, shared by every API process
//! (see [`super::limits`]).
//!
//! Writes that grow with what they carry are charged for what they carry: a scan batch per item,
//! a note per character, a badge sheet per sheet. A cost larger than a bucket passes when the
//! bucket is full and leaves it in debt, so one large offline upload always gets through, and a
//! loop of them gets the refill rate and nothing more.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use crate::db::session_locks::SessionLocks;
use crate::error::Error;

/// A bucket's shape: what it holds when full, and what it gains a second.
#[derive(Clone, Copy, Debug)]
pub struct Rate {
    pub capacity: f64,
    pub per_second: f64,
}

impl Rate {
    pub const fn per_second(capacity: u32, per_second: u32) -> Self {
        Self { capacity: capacity as f64, per_second: per_second as f64 }
    }

    pub const fn per_minute(capacity: u32, per_minute: u32) -> Self {
        Self { capacity: capacity as f64, per_second: per_minute as f64 / 60.0 }
    }

    pub const fn per_hour(capacity: u32, per_hour: u32) -> Self {
        Self { capacity: capacity as f64, per_second: per_hour as f64 / 3600.0 }
    }

    /// What a bucket must hold for `cost` to pass: all of it, or a full bucket when the cost is
    /// larger (which then leaves it in debt).
    pub fn needed(&self, cost: u64) -> f64 {
        (cost as f64).min(self.capacity)
    }

    /// A bucket's level `elapsed_secs` after it held `tokens`.
    pub fn refilled(&self, tokens: f64, elapsed_secs: f64) -> f64 {
        (tokens + elapsed_secs.max(0.0) * self.per_second).min(self.capacity)
    }

    /// The refusal of a request that needs `needed` from a bucket holding `tokens`: `Retry-After`
    /// is when the bucket will hold it (429 `rate_limited`).
    pub fn refusal(&self, needed: f64, tokens: f64, what: &str) -> Error {
        let wait = ((needed - tokens) / self.per_second).ceil().max(1.0);
        Error::rate_limited(
            wait as u64,
            format!("Too many {what}; slow down and retry after the given time."),
        )
    }
}

pub struct Buckets {
    rate: Rate,
    state: Mutex<HashMap<String, (f64, Instant)>>,
}

/// Past this many keys the buckets are forgotten (all full again), bounding memory.
const MAX_KEYS: usize = 100_000;

impl Buckets {
    pub fn new(capacity: u32, per_second: u32) -> Self {
        Self::of(Rate::per_second(capacity, per_second))
    }

    pub fn of(rate: Rate) -> Self {
        Self { rate, state: Mutex::new(HashMap::new()) }
    }

    /// Takes one token for `key`, or says in how many seconds one is free (429 `rate_limited`).
    pub fn take(&self, key: &str, what: &str) -> Result<(), Error> {
        self.take_n(key, 1, what)
    }

    /// Takes `cost` tokens for `key` when the bucket holds them, or all of it (going into debt)
    /// when the cost is more than the bucket holds and the bucket is full. Otherwise says in how
    /// many seconds the request would pass (429 `rate_limited`).
    pub fn take_n(&self, key: &str, cost: u64, what: &str) -> Result<(), Error> {
        self.admit(key, cost, true, what)
    }

    /// Whether [`Self::take_n`] would pass, taking nothing (the cost is charged later).
    pub fn check_n(&self, key: &str, cost: u64, what: &str) -> Result<(), Error> {
        self.admit(key, cost, false, what)
    }

    fn admit(&self, key: &str, cost: u64, take: bool, what: &str) -> Result<(), Error> {
        let rate = self.rate;
        let needed = rate.needed(cost);
        self.with_tokens(key, |tokens| {
            if *tokens >= needed {
                if take {
                    *tokens -= cost as f64;
                }
                return Ok(());
            }
            Err(rate.refusal(needed, *tokens, what))
        })
    }

    /// Charges `cost` tokens to `key` whatever the bucket holds (it may go into debt).
    pub fn charge(&self, key: &str, cost: u64) {
        self.with_tokens(key, |tokens| *tokens -= cost as f64);
    }

    fn with_tokens<T>(&self, key: &str, f: impl FnOnce(&mut f64) -> T) -> T {
        let now = Instant::now();
        let mut state = self.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if state.len() >= MAX_KEYS && !state.contains_key(key) {
            state.clear();
        }
        let (tokens, last) = state.entry(key.to_owned()).or_insert((self.rate.capacity, now));
        *tokens = self.rate.refilled(*tokens, now.duration_since(*last).as_secs_f64());
        *last = now;
        f(tokens)
    }
}

/// One thing at a time per key.
#[derive(Default)]
pub struct Slots {
    busy: Arc<Mutex<HashSet<String>>>,
}

/// A key's slot, held until dropped.
pub struct Slot {
    busy: Arc<Mutex<HashSet<String>>>,
    key: String,
    /// PostgreSQL: the lock that holds the slot across processes too
    /// ([`Slots::try_take_shared`]).
    shared: Option<Arc<SessionLocks>>,
}

impl Slots {
    /// The key's slot, unless it is held already.
    pub fn try_take(&self, key: &str) -> Option<Slot> {
        let mut busy = self.busy.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        busy.insert(key.to_owned()).then(|| Slot {
            busy: self.busy.clone(),
            key: key.to_owned(),
            shared: None,
        })
    }

    /// The key's slot in this process and, through `locks`, in every process on the database;
    /// `None` when either holds it. The process's own rule comes first: a session lock is
    /// re-entrant, so two requests of one process would both get it.
    pub async fn try_take_shared(
        &self,
        key: &str,
        locks: &Arc<SessionLocks>,
    ) -> Result<Option<Slot>, Error> {
        let Some(mut slot) = self.try_take(key) else { return Ok(None) };
        let (held, name) = (locks.clone(), key.to_owned());
        if !actix_web::web::block(move || held.try_lock(&name)).await?? {
            return Ok(None);
        }
        slot.shared = Some(locks.clone());
        Ok(Some(slot))
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        if let Some(locks) = self.shared.take() {
            // Off the executor when dropped on it (an export's stream); a sheet's slot is dropped
            // on the renderer's own thread, where blocking is fine. The process's slot may be
            // taken again before the lock is given back: the same session then takes it again,
            // and the lock stays held as long as one of them holds it.
            let key = self.key.clone();
            let release = move || locks.unlock(&key);
            match tokio::runtime::Handle::try_current() {
                Ok(runtime) => drop(runtime.spawn_blocking(release)),
                Err(_) => release(),
            }
        }
        let mut busy = self.busy.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        busy.remove(&self.key);
    }
}

/// Write requests per person (scans, batches, notes): 10 a second, in bursts of 30.
pub const REQUESTS_PER_SECOND: u32 = 10;
pub const REQUEST_BURST: u32 = 30;
/// Scans per person, each item of a batch counting as one: 1,500 at once (a full offline batch
/// and two retries of it), then 60 a minute.
pub const SCAN_BURST: u32 = 1_500;
pub const SCANS_PER_MINUTE: u32 = 60;
/// Characters of notes per person (on scans and added to connections): 250,000 at once (a day of
/// offline notes: 500 of 500 characters), then 20,000 a minute.
pub const NOTE_CHARS_BURST: u32 = 250_000;
pub const NOTE_CHARS_PER_MINUTE: u32 = 20_000;

/// A person's write budgets, in the order they are checked.
pub const REQUESTS: Rate = Rate::per_second(REQUEST_BURST, REQUESTS_PER_SECOND);
pub const SCANS: Rate = Rate::per_minute(SCAN_BURST, SCANS_PER_MINUTE);
pub const NOTE_CHARS: Rate = Rate::per_minute(NOTE_CHARS_BURST, NOTE_CHARS_PER_MINUTE);

/// What a person's writes may cost, keyed by account.
pub struct WriteLimits {
    requests: Buckets,
    scans: Buckets,
    note_chars: Buckets,
}

impl Default for WriteLimits {
    fn default() -> Self {
        Self {
            requests: Buckets::of(REQUESTS),
            scans: Buckets::of(SCANS),
            note_chars: Buckets::of(NOTE_CHARS),
        }
    }
}

impl WriteLimits {
    /// Charges a request that carries `scans` scans with `note_chars` characters of notes. Every
    /// budget is checked before any is charged: a refused request costs nothing, so a client that
    /// retries it later is not charged twice.
    pub fn scans(&self, key: &str, scans: usize, note_chars: usize) -> Result<(), Error> {
        let (scans, note_chars) = (scans as u64, note_chars as u64);
        self.requests.check_n(key, 1, "requests")?;
        self.scans.check_n(key, scans, "scans")?;
        // Scans without notes go on while the note budget is in debt.
        if note_chars > 0 {
            self.note_chars.check_n(key, note_chars, "characters of notes")?;
        }
        self.requests.charge(key, 1);
        self.scans.charge(key, scans);
        self.note_chars.charge(key, note_chars);
        Ok(())
    }

    /// Charges a write request that carries nothing more (feedback on a starter).
    pub fn request(&self, key: &str) -> Result<(), Error> {
        self.requests.take(key, "requests")
    }

    /// Charges a request that adds a note of `chars` characters (both budgets checked first).
    pub fn note(&self, key: &str, chars: usize) -> Result<(), Error> {
        self.requests.check_n(key, 1, "requests")?;
        self.note_chars.check_n(key, chars as u64, "characters of notes")?;
        self.requests.charge(key, 1);
        self.note_chars.charge(key, chars as u64);
        Ok(())
    }
}

/// Starter lists per person: 30 at once, then 30 a minute (one every two seconds: faster than
/// anyone meets people). Bounds what a looping client makes the server rank and record.
pub const STARTERS_BURST: u32 = 30;
pub const STARTERS_PER_MINUTE: u32 = 30;
pub const STARTERS: Rate = Rate::per_minute(STARTERS_BURST, STARTERS_PER_MINUTE);

pub fn starter_limits() -> Buckets {
    Buckets::of(STARTERS)
}

/// Badge sheets per organizer: one at a time, and 6 a minute (in bursts of 6).
pub const SHEET_BURST: u32 = 6;
pub const SHEETS_PER_MINUTE: u32 = 6;
pub const SHEETS: Rate = Rate::per_minute(SHEET_BURST, SHEETS_PER_MINUTE);

pub struct SheetLimits {
    running: Slots,
    sheets: Buckets,
}

impl Default for SheetLimits {
    fn default() -> Self {
        Self { running: Slots::default(), sheets: Buckets::of(SHEETS) }
    }
}

impl SheetLimits {
    /// The organizer's slot for one sheet, unless one of theirs is being made or their budget is
    /// spent (429 `rate_limited`). The sheet is charged when it is queued ([`Self::charge`]), so a
    /// request turned away before that costs nothing.
    pub fn start(&self, key: &str) -> Result<Slot, Error> {
        let slot = self.running.try_take(key).ok_or_else(sheet_in_progress)?;
        self.sheets.check_n(key, 1, SHEETS_WHAT)?;
        Ok(slot)
    }

    pub fn charge(&self, key: &str) {
        self.sheets.charge(key, 1);
    }
}

/// Exports of everything a person has (`/me/export`): one at a time, 3 an hour (bursts of 3).
pub const DATA_EXPORTS_PER_HOUR: u32 = 3;
/// Whole-address-book exports (`/me/connections.vcf`, `.csv`): 30 an hour (bursts of 30).
pub const CONTACT_EXPORTS_PER_HOUR: u32 = 30;
pub const DATA_EXPORTS: Rate = Rate::per_hour(DATA_EXPORTS_PER_HOUR, DATA_EXPORTS_PER_HOUR);
pub const CONTACT_EXPORTS: Rate =
    Rate::per_hour(CONTACT_EXPORTS_PER_HOUR, CONTACT_EXPORTS_PER_HOUR);

/// What a person's exports may cost, keyed by account.
pub struct ExportLimits {
    running: Slots,
    data: Buckets,
    contacts: Buckets,
}

impl Default for ExportLimits {
    fn default() -> Self {
        Self {
            running: Slots::default(),
            data: Buckets::of(DATA_EXPORTS),
            contacts: Buckets::of(CONTACT_EXPORTS),
        }
    }
}

impl ExportLimits {
    /// The person's slot for one export of all their data, charged to its budget; refused (429
    /// `rate_limited`) while another is being written or when the budget is spent. Hold the slot
    /// until the export's last byte is written.
    pub fn data(&self, key: &str) -> Result<Slot, Error> {
        let slot = self.running.try_take(key).ok_or_else(export_in_progress)?;
        self.data.take(key, DATA_EXPORTS_WHAT)?;
        Ok(slot)
    }

    /// Charges one export of the whole address book (429 `rate_limited` when spent).
    pub fn contacts(&self, key: &str) -> Result<(), Error> {
        self.contacts.take(key, CONTACT_EXPORTS_WHAT)
    }
}

/// What `Retry-After` says while the person's previous export is still being written.
const EXPORT_IN_PROGRESS_RETRY_SECS: u64 = 5;

/// What `Retry-After` says when the organizer's previous sheet is still being made.
const SHEET_IN_PROGRESS_RETRY_SECS: u64 = 2;

/// What the refusals name, per bucket.
pub const SHEETS_WHAT: &str = "badge sheets";
pub const DATA_EXPORTS_WHAT: &str = "exports of your data";
pub const CONTACT_EXPORTS_WHAT: &str = "exports of your connections";
pub const RESENDS_WHAT: &str = "invitations to this person";
pub const STARTERS_WHAT: &str = "starter requests";

/// The refusal while one of the organizer's sheets is being made.
pub fn sheet_in_progress() -> Error {
    Error::rate_limited(
        SHEET_IN_PROGRESS_RETRY_SECS,
        "A badge sheet of yours is being made: one at a time. Retry when it is done.",
    )
}

/// The refusal while an export of the person's data is being written.
pub fn export_in_progress() -> Error {
    Error::rate_limited(
        EXPORT_IN_PROGRESS_RETRY_SECS,
        "An export of your data is being written: one at a time. Retry when it is done.",
    )
}

/// Invitations sent again, per attendee: one, then one every 10 minutes (6 an hour). A person who
/// did not get the first one needs one more, not a stream of them.
pub const RESENDS_PER_HOUR: u32 = 6;
pub const RESENDS: Rate = Rate::per_hour(1, RESENDS_PER_HOUR);

pub fn resend_limits() -> Buckets {
    Buckets::of(RESENDS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_refused_request_costs_none_of_its_budgets() {
        let limits = WriteLimits::default();
        // The note budget is spent (one large sync may overdraw a full bucket).
        assert!(limits.note("ada", NOTE_CHARS_BURST as usize).is_ok());
        let refused = limits.scans("ada", SCAN_BURST as usize, 10);
        assert_eq!(refused.err().map(|e| e.code()), Some("rate_limited"));
        // Had the refused batch been charged its scans, a full batch without notes would wait.
        assert!(limits.scans("ada", SCAN_BURST as usize, 0).is_ok());
    }

    #[test]
    fn a_cost_above_the_capacity_passes_once_when_full_then_waits_for_the_debt() {
        let buckets = Buckets::new(10, 1);
        assert!(buckets.take_n("ada", 25, "scans").is_ok(), "a full bucket lets it through");
        let refused = buckets.take_n("ada", 1, "scans").unwrap_err();
        assert_eq!(refused.code(), "rate_limited");
        assert!(refused.to_string().contains("Too many scans"));
        assert!(buckets.take_n("bob", 10, "scans").is_ok(), "each key has its own bucket");
        assert!(buckets.take_n("bob", 1, "scans").is_err());
    }

    #[test]
    fn a_check_takes_nothing() {
        let buckets = Buckets::new(2, 1);
        assert!(buckets.check_n("ada", 1, "sheets").is_ok());
        buckets.charge("ada", 1);
        assert!(buckets.check_n("ada", 1, "sheets").is_ok(), "one token is left");
        buckets.charge("ada", 1);
        assert!(buckets.check_n("ada", 1, "sheets").is_err());
    }

    #[test]
    fn a_slot_is_held_until_dropped() {
        let slots = Slots::default();
        let held = slots.try_take("ada").unwrap();
        assert!(slots.try_take("ada").is_none());
        assert!(slots.try_take("bob").is_some());
        drop(held);
        assert!(slots.try_take("ada").is_some());
    }
}
