//! Delta sync's horizon: every change to a connection or tombstone is stamped with a change
//! number, and a sync token is a number below which the reader has seen every change. How the
//! numbers are made depends on the backend:
//!
//! - **PostgreSQL**: a change's number is its transaction's id (`pg_current_xact_id()`, 64 bits,
//!   never wraps), and the horizon is the oldest transaction still running when the reader
//!   looks (`pg_snapshot_xmin`) minus one. Every transaction below that horizon has ended, so its
//!   rows are visible to the reader's later statements; a slow transaction that commits after
//!   the sync has an id at or above the horizon and is in the next delta. Writers share nothing,
//!   so overlapping scans never wait for each other here. The price: a change the reader already
//!   saw may come again in the next delta while an older transaction was still open (clients
//!   apply deltas by id, so this repeats, it never loses).
//! - **SQLite**: a counter per connection owner (`sync_counters`). Every transaction that changes
//!   an owner's connections takes the owner's next number; SQLite's single writer commits them in
//!   order, so a reader that reads the counter before the rows has seen every change numbered up
//!   to it.
//!
//! Either way a sync token can never be passed by a slow writer, whatever the clocks say.

use std::collections::HashMap;

use diesel::dsl::sql;
use diesel::prelude::*;
use diesel::sql_types::BigInt;

use super::DbConn;
use super::schema::{connections, sync_counters};

/// This transaction's id on PostgreSQL (assigned now if it had none), as a number.
const PG_TRANSACTION_ID: &str = "pg_current_xact_id()::text::bigint";
/// The newest transaction id below which every transaction has ended, on PostgreSQL.
const PG_HORIZON: &str = "pg_snapshot_xmin(pg_current_snapshot())::text::bigint - 1";

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

/// The owner's horizon: every change numbered up to it is visible to what this connection reads
/// next. Read it before the rows it is the horizon of.
pub fn current(conn: &mut DbConn, owner_id: &str) -> QueryResult<i64> {
    if let DbConn::Postgres(pg) = conn {
        return diesel::select(sql::<BigInt>(PG_HORIZON)).get_result(pg);
    }
    sync_counters::table
        .find(owner_id)
        .select(sync_counters::last_change)
        .first(conn)
        .optional()
        .map(|found| found.unwrap_or(0))
}
