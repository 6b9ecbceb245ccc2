//! Badge exchange: scans online or offline become mutual connections, each recorded once.
//!
//! A batch is handled as a whole in one transaction: items that were uploaded before (same
//! scanner, same client scan id) get the answer they got then; new items are resolved against
//! badges, and each successful one creates or adds to the pair of connections (one per side).
//! One bad item never sinks the others: it gets its own status and reason.

use std::collections::{BTreeMap, HashMap, HashSet};

use chrono::{Duration, NaiveDateTime};

use super::connections::{MAX_NOTES_PER_CONNECTION, NoteRoom};
use super::follow_ups::dates;
use super::follow_ups::manage::{self, Promise};
use crate::db::connections::{self as store, Connection, NewConnection, Note};
use crate::db::events::Event;
use crate::db::scans::{self as scan_store, NewScan};
use crate::db::{self, DbConn};
use crate::error::{Error, ErrorCode, Result};

/// How far in the future a device clock may be before its time is replaced by the server's.
pub const MAX_CLOCK_AHEAD: Duration = Duration::minutes(5);
/// How long before the event's start a scan may be dated.
pub const MAX_BEFORE_EVENT: Duration = Duration::days(1);
pub const MAX_BATCH: usize = 500;
pub const MAX_NOTE: usize = 5000;
pub const MAX_TAGS: usize = 20;
/// The longest tag, in characters.
pub const MAX_TAG_LEN: usize = 50;
/// The ratings a person may give a connection.
pub const RATING: std::ops::RangeInclusive<i32> = 1..=5;

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ScanStatus {
    /// A new connection (or one its owner had deleted, restored).
    Created,
    /// The two were connected already; the scan adds a meeting (and a note) to it.
    AlreadyConnected,
    /// The client scan id was used before for another badge; the first use stands.
    DuplicateScan,
    /// No badge of this event has this code.
    BadgeNotFound,
    /// The badge was rotated: this code no longer works.
    BadgeRevoked,
    /// The scanner's own badge.
    CannotScanSelf,
    /// The item is malformed; `reason` says how.
    Invalid,
    /// The item's note would pass a cap on notes (per connection or per person); nothing of the
    /// item was recorded: send it again without the note.
    NoteLimitReached,
}

impl ScanStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Created => "created",
            Self::AlreadyConnected => "already_connected",
            Self::DuplicateScan => "duplicate_scan",
            Self::BadgeNotFound => "badge_not_found",
            Self::BadgeRevoked => "badge_revoked",
            Self::CannotScanSelf => "cannot_scan_self",
            Self::Invalid => "invalid",
            Self::NoteLimitReached => "note_limit_reached",
        }
    }

    fn parse(value: &str) -> Self {
        match value {
            "created" => Self::Created,
            "already_connected" => Self::AlreadyConnected,
            "badge_revoked" => Self::BadgeRevoked,
            "cannot_scan_self" => Self::CannotScanSelf,
            _ => Self::BadgeNotFound,
        }
    }

    pub fn connected(self) -> bool {
        matches!(self, Self::Created | Self::AlreadyConnected)
    }
}

/// Owner-side details a scan may carry.
#[derive(Debug, Clone, Default)]
pub struct ScanExtras {
    pub note: Option<String>,
    pub tags: Option<Vec<String>>,
    pub rating: Option<i32>,
    /// A promise made on the spot: it becomes (or edits) the connection's promise follow-up.
    pub promise: Option<Promise>,
}

/// A valid scan item.
#[derive(Debug, Clone)]
pub struct ScanInput {
    pub client_scan_id: String,
    /// Normalized (see [`normalize_code`]).
    pub badge_code: String,
    pub device_time: NaiveDateTime,
    pub extras: ScanExtras,
}

#[derive(Debug, Clone)]
pub struct ScanResult {
    pub client_scan_id: String,
    pub status: ScanStatus,
    pub reason: Option<String>,
    /// The scanner's connection, for `created` and `already_connected`.
    pub connection_id: Option<String>,
    /// For an `invalid` item refused by a rule rather than its shape: the rule's error code
    /// (`due_before_connection`).
    pub problem: Option<ErrorCode>,
}

impl ScanResult {
    fn new(client_scan_id: &str, status: ScanStatus, reason: Option<String>) -> Self {
        Self {
            client_scan_id: client_scan_id.to_owned(),
            status,
            reason,
            connection_id: None,
            problem: None,
        }
    }
}

/// Badge codes are read leniently, as people type them: case, spaces and hyphens do not matter,
/// and Crockford's look-alikes are mapped (`I`, `L` → `1`; `O` → `0`).
pub fn normalize_code(raw: &str) -> String {
    raw.chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .map(|c| match c.to_ascii_uppercase() {
            'I' | 'L' => '1',
            'O' => '0',
            other => other,
        })
        .collect()
}

/// The time a scan is recorded at: the device's, unless it is more than five minutes ahead of the
/// server or more than a day before the event starts; then the server's.
pub fn recorded_time(
    device_time: NaiveDateTime,
    now: NaiveDateTime,
    event: &Event,
) -> NaiveDateTime {
    if device_time > now + MAX_CLOCK_AHEAD || device_time < event.starts_at - MAX_BEFORE_EVENT {
        now
    } else {
        device_time
    }
}

/// What the scanner's items came to: one result per item, in order. Call inside one transaction
/// that holds the scanner's lock ([`scan_store::scanner_for_update`]).
pub fn record(
    conn: &mut DbConn,
    event: &Event,
    account_id: &str,
    scanner_id: &str,
    items: Vec<Result<ScanInput, (String, String)>>,
) -> Result<Vec<ScanResult>> {
    let now = db::now();
    let client_ids: Vec<String> =
        items.iter().filter_map(|i| i.as_ref().ok()).map(|i| i.client_scan_id.clone()).collect();
    let earlier: HashMap<String, crate::db::scans::Scan> =
        scan_store::find_by_client_ids(conn, scanner_id, &client_ids)?
            .into_iter()
            .map(|s| (s.client_scan_id.clone(), s))
            .collect();
    let codes: Vec<String> =
        items.iter().filter_map(|i| i.as_ref().ok()).map(|i| i.badge_code.clone()).collect();
    let holders: HashMap<String, (String, String, Option<NaiveDateTime>)> =
        scan_store::badge_holders(conn, &codes)?
            .into_iter()
            .map(|(code, membership, event_id, revoked)| (code, (membership, event_id, revoked)))
            .collect();

    let mut results: Vec<ScanResult> = Vec::with_capacity(items.len());
    // Index of the first item with each client id in this batch, and its code.
    let mut first_of: HashMap<String, (usize, String)> = HashMap::new();
    let mut fresh: Vec<(usize, ScanInput, Option<String>)> = Vec::new();
    let mut replays: Vec<(usize, Replay)> = Vec::new();
    for item in items {
        let index = results.len();
        let input = match item {
            Ok(input) => input,
            Err((client_scan_id, reason)) => {
                results.push(ScanResult::new(&client_scan_id, ScanStatus::Invalid, Some(reason)));
                continue;
            }
        };
        let id = input.client_scan_id.clone();
        if let Some((first, code)) = first_of.get(&id) {
            if *code == input.badge_code {
                // The same item twice in one batch: it gets the first one's answer.
                replays.push((index, Replay::SameAs(*first)));
                results.push(ScanResult::new(&id, ScanStatus::Invalid, None));
            } else {
                results.push(duplicate(&id, "this client_scan_id is used by an earlier item of this batch with another badge code"));
            }
            continue;
        }
        first_of.insert(id.clone(), (index, input.badge_code.clone()));
        if let Some(scan) = earlier.get(&id) {
            if scan.badge_code == input.badge_code {
                let status = ScanStatus::parse(&scan.status);
                results.push(ScanResult::new(&id, status, reason_for(status)));
                if let Some(target) = scan.scanned_id.clone().filter(|_| status.connected()) {
                    replays.push((index, Replay::Earlier(target)));
                }
            } else {
                results.push(duplicate(&id, "this client_scan_id was uploaded before with another badge code; the first upload stands"));
            }
            continue;
        }
        let status = match holders.get(&input.badge_code) {
            Some((_, event_id, _)) if *event_id != event.id => ScanStatus::BadgeNotFound,
            None => ScanStatus::BadgeNotFound,
            Some((_, _, Some(_))) => ScanStatus::BadgeRevoked,
            Some((holder, _, None)) if holder == scanner_id => ScanStatus::CannotScanSelf,
            Some(_) => ScanStatus::Created,
        };
        let target = holders
            .get(&input.badge_code)
            .filter(|_| status == ScanStatus::Created)
            .map(|(m, _, _)| m.clone());
        results.push(ScanResult::new(&id, status, reason_for(status)));
        fresh.push((index, input, target));
    }

    let promises = fresh.iter().any(|(_, input, _)| input.extras.promise.is_some());
    let tz = if promises { Some(manage::zone_of(conn, account_id)?) } else { None };
    if let Some(tz) = tz {
        refuse_early_dues(event, tz, &mut fresh, &mut results, now);
    }
    limit_notes(conn, event, scanner_id, &mut fresh, &mut results)?;
    let writer = Writer { event, account_id, tz, now };
    let (created, updated) = connect(conn, &writer, scanner_id, &fresh, &mut results)?;
    store_scans(conn, event, scanner_id, &fresh, &results, &holders, now)?;
    // Last: on SQLite this takes the owners' change counters (see `db::changes`).
    if !created.is_empty() || !updated.is_empty() {
        let mut owners: Vec<String> = fresh.iter().filter_map(|(_, _, t)| t.clone()).collect();
        owners.push(scanner_id.to_owned());
        db::changes::stamp_written(conn, &event.id, &owners, &created, &updated)?;
    }

    // Replays of earlier uploads answer with the connection the scanner has with the person now.
    let targets: Vec<String> = replays
        .iter()
        .filter_map(|(_, r)| if let Replay::Earlier(t) = r { Some(t.clone()) } else { None })
        .collect();
    let current: HashMap<String, String> = store::between(conn, &event.id, scanner_id, &targets)?
        .into_iter()
        .filter(|c| c.owner_id == scanner_id && c.deleted_at.is_none())
        .map(|c| (c.other_id, c.id))
        .collect();
    for (index, replay) in replays {
        match replay {
            Replay::SameAs(first) => results[index] = results[first].clone(),
            Replay::Earlier(target) => results[index].connection_id = current.get(&target).cloned(),
        }
    }
    Ok(results)
}

/// An item whose promise is due before the scan's day (in the scanner's time zone) is refused as
/// `invalid` (online: 422 `due_before_connection`) and left out whole: a promise cannot be due
/// before the meeting it was made at.
fn refuse_early_dues(
    event: &Event,
    tz: chrono_tz::Tz,
    fresh: &mut Vec<(usize, ScanInput, Option<String>)>,
    results: &mut [ScanResult],
    now: NaiveDateTime,
) {
    fresh.retain(|(index, input, _)| {
        let Some(due) = input.extras.promise.as_ref().and_then(|p| p.due) else { return true };
        let met = dates::day_of(tz, recorded_time(input.device_time, now, event));
        if due.day(tz) >= met {
            return true;
        }
        let mut refused = ScanResult::new(
            &input.client_scan_id,
            ScanStatus::Invalid,
            Some(format!(
                "follow_up.due_at: due_before_connection: a promise cannot be due before the                  meeting ({met})"
            )),
        );
        refused.problem = Some(ErrorCode::DueBeforeConnection);
        results[*index] = refused;
        false
    });
}

/// What the writes of one scan request share.
struct Writer<'a> {
    event: &'a Event,
    account_id: &'a str,
    /// The scanner's time zone, read when an item carries a promise.
    tz: Option<chrono_tz::Tz>,
    now: NaiveDateTime,
}

/// An item answered like another: an earlier item of the same batch, or an earlier upload
/// (whose connection, with the person it found, is looked up once the batch is done).
enum Replay {
    SameAs(usize),
    Earlier(String),
}

/// An item whose note would pass a cap on notes is answered `note_limit_reached` and left out
/// whole (no connection, no scan recorded), so that the client can send it again, under the same
/// client scan id, without the note. The caps are read under the scanner's lock.
fn limit_notes(
    conn: &mut DbConn,
    event: &Event,
    scanner_id: &str,
    fresh: &mut Vec<(usize, ScanInput, Option<String>)>,
    results: &mut [ScanResult],
) -> Result<()> {
    let with_notes: Vec<String> = fresh
        .iter()
        .filter(|(_, input, _)| input.extras.note.is_some())
        .filter_map(|(_, _, target)| target.clone())
        .collect();
    if with_notes.is_empty() {
        return Ok(());
    }
    let mut room = NoteRoom::of(conn, &event.id, scanner_id, &with_notes)?;
    fresh.retain(|(index, input, target)| {
        let Some(target) = target.as_deref().filter(|_| input.extras.note.is_some()) else {
            return true;
        };
        match room.take(target) {
            Ok(()) => true,
            Err(cap) => {
                results[*index] = ScanResult::new(
                    &input.client_scan_id,
                    ScanStatus::NoteLimitReached,
                    Some(cap.reason()),
                );
                false
            }
        }
    });
    Ok(())
}

fn duplicate(client_scan_id: &str, reason: &str) -> ScanResult {
    ScanResult::new(client_scan_id, ScanStatus::DuplicateScan, Some(reason.to_owned()))
}

fn reason_for(status: ScanStatus) -> Option<String> {
    let reason = match status {
        ScanStatus::BadgeNotFound => "no badge of this event has this code",
        ScanStatus::BadgeRevoked => "this badge was replaced; ask for the person's current badge",
        ScanStatus::CannotScanSelf => "this is your own badge",
        _ => return None,
    };
    Some(reason.to_owned())
}

/// Creates or adds to the connections of the successful new scans, both sides. Gives back the
/// ids of the connections it wrote.
fn connect(
    conn: &mut DbConn,
    writer: &Writer<'_>,
    scanner_id: &str,
    fresh: &[(usize, ScanInput, Option<String>)],
    results: &mut [ScanResult],
) -> Result<(Vec<String>, Vec<String>)> {
    let (event, now) = (writer.event, writer.now);
    let targets: Vec<String> = fresh
        .iter()
        .filter_map(|(_, _, t)| t.clone())
        .collect::<HashSet<_>>()
        .into_iter()
        .collect();
    if targets.is_empty() {
        return Ok((Vec::new(), Vec::new()));
    }
    let existing = store::between(conn, &event.id, scanner_id, &targets)?;
    let mine: HashMap<&str, &Connection> = existing
        .iter()
        .filter(|c| c.owner_id == scanner_id)
        .map(|c| (c.other_id.as_str(), c))
        .collect();
    let theirs: HashMap<&str, &Connection> = existing
        .iter()
        .filter(|c| c.other_id == scanner_id)
        .map(|c| (c.owner_id.as_str(), c))
        .collect();

    // Per target: the meeting times of this batch, in order.
    let mut meetings: HashMap<&str, Vec<NaiveDateTime>> = HashMap::new();
    let mut seen: HashSet<&str> = HashSet::new();
    for (index, input, target) in fresh {
        let Some(target) = target.as_deref() else { continue };
        let at = recorded_time(input.device_time, now, event);
        meetings.entry(target).or_default().push(at);
        let live = mine.get(target).is_some_and(|c| c.deleted_at.is_none());
        if live || !seen.insert(target) {
            results[*index].status = ScanStatus::AlreadyConnected;
        }
    }
    let mut new_rows = Vec::new();
    let mut touched = Vec::new();
    for (target, times) in &meetings {
        let first = times.iter().min().copied().unwrap_or(now);
        let last = times.iter().max().copied().unwrap_or(now);
        let count = i32::try_from(times.len()).unwrap_or(i32::MAX);
        for (owner, other, found) in
            [(scanner_id, *target, mine.get(target)), (*target, scanner_id, theirs.get(target))]
        {
            match found {
                // The scanned person's side counts the meeting too, and comes back if deleted.
                Some(connection) => touched.push((connection.id.clone(), first, last, count)),
                None => new_rows.push(NewConnection {
                    id: db::new_id(),
                    event_id: event.id.clone(),
                    owner_id: owner.to_owned(),
                    other_id: other.to_owned(),
                    first_met_at: first,
                    last_met_at: last,
                    scan_count: count,
                    created_at: now,
                    updated_at: now,
                }),
            }
        }
    }
    // Rows are written in one global order (by owner and other, then by id), so that two people
    // scanning each other at once wait for each other instead of deadlocking.
    new_rows.sort_by(|a, b| (&a.owner_id, &a.other_id).cmp(&(&b.owner_id, &b.other_id)));
    touched.sort_by(|a, b| a.0.cmp(&b.0));
    let inserted = store::insert_missing(conn, &new_rows)?;
    for (id, first, last, count) in &touched {
        store::record_meetings(conn, id, *first, *last, *count, now)?;
    }
    let created: HashSet<&str> = new_rows.iter().map(|r| r.id.as_str()).collect();
    // When an insert was skipped, the other person scanned at the same moment (on PostgreSQL; on
    // SQLite one writer at a time) and inserted that row: it must count this meeting too.
    let after: Vec<Connection> = if inserted < new_rows.len() {
        store::between(conn, &event.id, scanner_id, &targets)?
    } else {
        Vec::new()
    };
    let mut late: Vec<&Connection> = after
        .iter()
        .filter(|c| !created.contains(c.id.as_str()) && !touched.iter().any(|(t, ..)| *t == c.id))
        .collect();
    late.sort_by(|a, b| a.id.cmp(&b.id));
    // The scanner's own side was inserted by the other person's scan of them at the same moment:
    // that scan made the connection (`created`), this one adds a meeting to it.
    let raced: HashSet<&str> =
        late.iter().filter(|c| c.owner_id == scanner_id).map(|c| c.other_id.as_str()).collect();
    for (index, _, target) in fresh {
        if target.as_deref().is_some_and(|t| raced.contains(t))
            && results[*index].status == ScanStatus::Created
        {
            results[*index].status = ScanStatus::AlreadyConnected;
        }
    }
    for connection in &late {
        let target = if connection.owner_id == scanner_id {
            &connection.other_id
        } else {
            &connection.owner_id
        };
        if let Some(times) = meetings.get(target.as_str()) {
            let count = i32::try_from(times.len()).unwrap_or(i32::MAX);
            let (first, last) = (
                times.iter().min().copied().unwrap_or(now),
                times.iter().max().copied().unwrap_or(now),
            );
            store::record_meetings(conn, &connection.id, first, last, count, now)?;
        }
    }
    let mut now_mine: HashMap<String, String> =
        mine.iter().map(|(other, c)| ((*other).to_owned(), c.id.clone())).collect();
    // What the scanner's side is now: as read back after a race, else as written.
    let sides: Vec<(&String, &String, &String)> = if after.is_empty() {
        new_rows.iter().map(|r| (&r.owner_id, &r.other_id, &r.id)).collect()
    } else {
        after.iter().map(|c| (&c.owner_id, &c.other_id, &c.id)).collect()
    };
    for (owner, other, id) in sides {
        if owner == scanner_id {
            now_mine.insert(other.clone(), id.clone());
        }
    }
    apply_extras(conn, writer, fresh, &now_mine, results)?;
    // Rows skipped as inserted by the other person's scan are in `late` under their own ids.
    Ok((
        created.into_iter().map(str::to_owned).collect(),
        touched
            .iter()
            .map(|(id, ..)| id.clone())
            .chain(late.iter().map(|c| c.id.clone()))
            .collect(),
    ))
}

/// Notes, tags, rating and promise of each successful scan go on the scanner's connection.
fn apply_extras(
    conn: &mut DbConn,
    writer: &Writer<'_>,
    fresh: &[(usize, ScanInput, Option<String>)],
    mine: &HashMap<String, String>,
    results: &mut [ScanResult],
) -> Result<()> {
    let (event, now) = (writer.event, writer.now);
    let mut notes = Vec::new();
    for (index, input, target) in fresh {
        let Some(connection_id) = target.as_ref().and_then(|t| mine.get(t)) else { continue };
        results[*index].connection_id = Some(connection_id.clone());
        let extras = &input.extras;
        if let Some(body) = &extras.note {
            notes.push(Note {
                id: db::new_id(),
                connection_id: connection_id.clone(),
                event_id: event.id.clone(),
                body: body.clone(),
                written_at: recorded_time(input.device_time, now, event),
                created_at: now,
            });
        }
        let changes = store::ConnectionChanges {
            tags: extras
                .tags
                .as_ref()
                .map(|t| serde_json::to_string(t).unwrap_or_else(|_| "[]".to_owned())),
            rating: extras.rating.map(Some),
            updated_at: Some(now),
            ..Default::default()
        };
        if changes.tags.is_some() || changes.rating.is_some() {
            store::update(conn, connection_id, &changes)?;
        }
        if let (Some(promise), Some(tz)) = (&extras.promise, writer.tz) {
            let scanner = &results[*index];
            let connection =
                store::find_many(conn, std::slice::from_ref(connection_id))?.pop().ok_or_else(
                    || Error::internal(anyhow::anyhow!("{scanner:?} lost its connection")),
                )?;
            manage::set_promise(
                conn,
                &connection,
                writer.account_id,
                Some(promise.clone()),
                tz,
                now,
            )?;
        }
    }
    store::insert_notes(conn, &notes)?;
    // The counts the caps read (room for these notes was checked under the scanner's lock), in
    // id order like every other write of the batch.
    let mut added: BTreeMap<&str, i32> = BTreeMap::new();
    for note in &notes {
        *added.entry(note.connection_id.as_str()).or_default() += 1;
    }
    for (id, n) in added {
        if !store::count_notes(conn, id, n, MAX_NOTES_PER_CONNECTION, now)? {
            return Err(Error::internal(anyhow::anyhow!("connection {id} passed its note cap")));
        }
    }
    Ok(())
}

fn store_scans(
    conn: &mut DbConn,
    event: &Event,
    scanner_id: &str,
    fresh: &[(usize, ScanInput, Option<String>)],
    results: &[ScanResult],
    holders: &HashMap<String, (String, String, Option<NaiveDateTime>)>,
    now: NaiveDateTime,
) -> Result<()> {
    let rows: Vec<NewScan> = fresh
        .iter()
        .map(|(index, input, _)| {
            let status = results[*index].status;
            let scanned_id = holders
                .get(&input.badge_code)
                .filter(|(_, e, _)| *e == event.id)
                .map(|(m, _, _)| m.clone());
            NewScan {
                id: db::new_id(),
                event_id: event.id.clone(),
                scanner_id: scanner_id.to_owned(),
                client_scan_id: input.client_scan_id.clone(),
                badge_code: input.badge_code.clone(),
                scanned_id,
                status: status.as_str(),
                device_time: input.device_time,
                scanned_at: recorded_time(input.device_time, now, event),
                server_time: now,
            }
        })
        .collect();
    scan_store::insert(conn, &rows)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_normalized_as_typed() {
        assert_eq!(normalize_code(" abcd-efgh ijkl mnop "), "ABCDEFGH1JK1MN0P");
    }
}
