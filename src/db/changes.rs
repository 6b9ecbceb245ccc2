//! Delta sync's horizon: every change to a connection or tombstone is stamped with a change
//! number, and a sync token is a number below which the reader has seen every change. How the
//! numbers are made depends on the backend:
//!
//! - **PostgreSQL**: a change's number is its transaction's id (`pg_current_xact_id()`, 64 bits,
//!   never wraps), and the horizon is the reader's snapshot (`pg_current_snapshot()`), taken
//!   before it reads the rows: every transaction numbered below its `xmax` had ended, except
//!   those still running then (`xip`). The next delta is every change the snapshot could not
//!   see: numbered from `xmax` on, or by one of those running transactions, so a slow
//!   transaction that commits after the sync is in it. Writers share nothing, so overlapping
//!   scans never wait for each other here. (With more than [`MAX_RUNNING`] transactions open at
//!   once, the horizon falls back to the oldest of them: the next delta may repeat a change,
//!   never miss one.)
//! - **SQLite**: a counter per connection owner (`sync_counters`). Every transaction that changes
//!   an owner's connections takes the owner's next number; SQLite's single writer commits them in
//!   order, so a reader that reads the counter before the rows has seen every change numbered up
//!   to it.
//!
//! Either way a sync token can never be passed by a slow writer, whatever the clocks say.

use std::collections::HashMap;

use diesel::dsl::sql;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Text};

use super::DbConn;
use super::schema::{connections, sync_counters};

/// This transaction's id on PostgreSQL (assigned now if it had none), as a number.
const PG_TRANSACTION_ID: &str = "pg_current_xact_id()::text::bigint";
/// The reader's snapshot on PostgreSQL: `xmin:xmax:xip,…`.
const PG_SNAPSHOT: &str = "pg_current_snapshot()::text";
/// The most running transactions a sync token lists (see the module's documentation).
pub const MAX_RUNNING: usize = 32;

/// What a reader has seen of an owner's changes: every change numbered up to `through`, except
/// those of the transactions in `running` (open when it looked; PostgreSQL only).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Horizon {
    pub through: i64,
    pub running: Vec<i64>,
}

impl Horizon {
    /// The horizon's part of a sync token: `{through}` or `{through}_{running}_{running}…`.
    pub fn encode(&self) -> String {
        let mut text = self.through.to_string();
        for id in &self.running {
            text.push('_');
            text.push_str(&id.to_string());
        }
        text
    }

    /// Reads what [`Horizon::encode`] wrote; `None` for anything else.
    pub fn decode(raw: &str) -> Option<Self> {
        let mut parts = raw.split('_');
        let through = parts.next()?.parse::<i64>().ok().filter(|n| *n >= 0)?;
        let running: Vec<i64> =
            parts.map(|p| p.parse::<i64>().ok().filter(|n| *n >= 0)).collect::<Option<_>>()?;
        (running.len() <= MAX_RUNNING).then_some(Self { through, running })
    }

    /// From PostgreSQL's snapshot text, `xmin:xmax:xip,…`.
    fn of_snapshot(text: &str) -> Option<Self> {
        let mut parts = text.splitn(3, ':');
        let xmin: i64 = parts.next()?.parse().ok()?;
        let xmax: i64 = parts.next()?.parse().ok()?;
        let running: Vec<i64> = match parts.next()? {
            "" => Vec::new(),
            list => list.split(',').map(|id| id.parse().ok()).collect::<Option<_>>()?,
        };
        Some(if running.len() <= MAX_RUNNING {
            Self { through: xmax - 1, running }
        } else {
            Self { through: xmin - 1, running: Vec::new() }
        })
    }
}

#[derive(Insertable)]
#[diesel(table_name = sync_counters)]
struct Counter<'a> {
    membership_id: &'a str,
    event_id: &'a str,
    last_change: i64,
}

/// The change number of each owner's change in this transaction (owners of the event
/// `event_id`). On SQLite this takes the owners' next numbers, in one order; call it late in the
/// transaction.
pub fn next(
    conn: &mut DbConn,
    event_id: &str,
    owners: &[String],
) -> QueryResult<HashMap<String, i64>> {
    let lite = match conn {
        DbConn::Postgres(pg) => {
            let id: i64 = diesel::select(sql::<BigInt>(PG_TRANSACTION_ID)).get_result(pg)?;
            return Ok(owners.iter().map(|owner| (owner.clone(), id)).collect());
        }
        DbConn::Sqlite(lite) => lite,
    };
    let mut owners: Vec<&str> = owners.iter().map(String::as_str).collect();
    owners.sort_unstable();
    owners.dedup();
    let bump = sync_counters::last_change.eq(sync_counters::last_change + 1);
    for membership_id in &owners {
        diesel::insert_into(sync_counters::table)
            .values(Counter { membership_id, event_id, last_change: 1 })
            .on_conflict(sync_counters::membership_id)
            .do_update()
            .set(bump)
            .execute(lite)?;
    }
    let mut numbers = HashMap::with_capacity(owners.len());
    for chunk in owners.chunks(super::BATCH_ROWS) {
        numbers.extend(
            sync_counters::table
                .filter(sync_counters::membership_id.eq_any(chunk))
                .select((sync_counters::membership_id, sync_counters::last_change))
                .load::<(String, i64)>(lite)?,
        );
    }
    Ok(numbers)
}

/// As [`stamp_connections`], for connections this transaction inserted (`created`) and changed
/// (`updated`). On PostgreSQL an inserted row is stamped already: `change_seq` defaults to the
/// inserting transaction's id (migration `2026-12-03-000500`), so only the changed rows are
/// updated. An `UPDATE` of the indexed `change_seq` writes a new version of the row and of each
/// of its index entries: for a scan that made a connection, that was two rows written twice.
pub fn stamp_written(
    conn: &mut DbConn,
    event_id: &str,
    owners: &[String],
    created: &[String],
    updated: &[String],
) -> QueryResult<()> {
    if matches!(conn, DbConn::Postgres(_)) {
        if updated.is_empty() {
            return Ok(());
        }
        return stamp_connections(conn, event_id, owners, updated);
    }
    let all: Vec<String> = created.iter().chain(updated).cloned().collect();
    stamp_connections(conn, event_id, owners, &all)
}

/// Stamps these connections (of `owners`, in the event) as changed in this transaction.
pub fn stamp_connections(
    conn: &mut DbConn,
    event_id: &str,
    owners: &[String],
    ids: &[String],
) -> QueryResult<()> {
    if let DbConn::Postgres(pg) = conn {
        for chunk in ids.chunks(super::BATCH_ROWS) {
            diesel::update(connections::table.filter(connections::id.eq_any(chunk)))
                .set(connections::change_seq.eq(sql::<BigInt>(PG_TRANSACTION_ID)))
                .execute(pg)?;
        }
        return Ok(());
    }
    next(conn, event_id, owners)?;
    for chunk in ids.chunks(super::BATCH_ROWS) {
        diesel::update(connections::table.filter(connections::id.eq_any(chunk)))
            .set(
                connections::change_seq.eq(sync_counters::table
                    .filter(sync_counters::membership_id.eq(connections::owner_id))
                    .select(sync_counters::last_change)
                    .single_value()
                    .assume_not_null()),
            )
            .execute(conn)?;
    }
    Ok(())
}

/// The owner's horizon: every change it counts as seen is visible to what this connection reads
/// next. Read it before the rows it is the horizon of.
pub fn current(conn: &mut DbConn, owner_id: &str) -> QueryResult<Horizon> {
    if let DbConn::Postgres(pg) = conn {
        let text: String = diesel::select(sql::<Text>(PG_SNAPSHOT)).get_result(pg)?;
        return Horizon::of_snapshot(&text).ok_or_else(|| {
            diesel::result::Error::DeserializationError(
                format!("not a PostgreSQL snapshot: {text}").into(),
            )
        });
    }
    let through = sync_counters::table
        .find(owner_id)
        .select(sync_counters::last_change)
        .first(conn)
        .optional()?
        .unwrap_or(0);
    Ok(Horizon { through, running: Vec::new() })
}

#[cfg(test)]
mod tests {
    use super::Horizon;

    #[test]
    fn a_snapshot_counts_everything_below_xmax_but_the_running_transactions_as_seen() {
        let h = Horizon::of_snapshot("100:105:100,103").unwrap();
        assert_eq!(h, Horizon { through: 104, running: vec![100, 103] });
        assert_eq!(Horizon::decode(&h.encode()), Some(h));
        assert_eq!(Horizon::of_snapshot("7:7:"), Some(Horizon { through: 6, running: vec![] }));
    }

    #[test]
    fn too_many_running_transactions_fall_back_to_the_oldest() {
        let ids: Vec<String> = (100..140).map(|n| n.to_string()).collect();
        let h = Horizon::of_snapshot(&format!("100:140:{}", ids.join(","))).unwrap();
        assert_eq!(h, Horizon { through: 99, running: vec![] });
    }

    #[test]
    fn tokens_that_this_code_did_not_write_are_not_horizons() {
        for raw in ["", "-1", "5_", "5_x", "5__6", "x5"] {
            assert_eq!(Horizon::decode(raw), None, "{raw}");
        }
        assert_eq!(Horizon::decode("5"), Some(Horizon { through: 5, running: vec![] }));
    }
}
