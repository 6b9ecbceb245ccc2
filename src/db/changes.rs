//! Delta sync's horizon: a change counter per connection owner (see the migration
//! `connection_change_sequence`). Every transaction that changes an owner's connections or
//! tombstones takes the owner's next number and stamps the rows with it; the counter's row stays
//! locked until the transaction ends (on PostgreSQL; SQLite has one writer), so one owner's
//! numbers commit in increasing order. A reader that reads the counter first and then the rows
//! sees every change numbered up to what it read: that number is a sync token that a slow writer
//! can never slip under, whatever the clocks say.

use std::collections::HashMap;

use diesel::prelude::*;

use super::DbConn;
use super::schema::{connections, sync_counters};

#[derive(Insertable)]
#[diesel(table_name = sync_counters)]
struct Counter<'a> {
    membership_id: &'a str,
    event_id: &'a str,
    last_change: i64,
}

/// Takes the next number of each owner's counter (all owners in the event `event_id`), in one
/// order, so that two writers waiting for each other's counters cannot deadlock. Call late in the
/// transaction: the counters stay locked until it ends. Gives back each owner's number.
pub fn next(
    conn: &mut DbConn,
    event_id: &str,
    owners: &[String],
) -> QueryResult<HashMap<String, i64>> {
    let mut owners: Vec<&str> = owners.iter().map(String::as_str).collect();
    owners.sort_unstable();
    owners.dedup();
    let rows: Vec<Counter<'_>> = owners
        .iter()
        .map(|membership_id| Counter { membership_id, event_id, last_change: 1 })
        .collect();
    for chunk in rows.chunks(super::BATCH_ROWS) {
        let bump = sync_counters::last_change.eq(sync_counters::last_change + 1);
        match conn {
            DbConn::Postgres(pg) => diesel::insert_into(sync_counters::table)
                .values(chunk)
                .on_conflict(sync_counters::membership_id)
                .do_update()
                .set(bump)
                .execute(pg)?,
            DbConn::Sqlite(lite) => {
                for row in chunk {
                    diesel::insert_into(sync_counters::table)
                        .values(row)
                        .on_conflict(sync_counters::membership_id)
                        .do_update()
                        .set(bump)
                        .execute(lite)?;
                }
                chunk.len()
            }
        };
    }
    let mut numbers = HashMap::with_capacity(owners.len());
    for chunk in owners.chunks(super::BATCH_ROWS) {
        numbers.extend(
            sync_counters::table
                .filter(sync_counters::membership_id.eq_any(chunk))
                .select((sync_counters::membership_id, sync_counters::last_change))
                .load::<(String, i64)>(conn)?,
        );
    }
    Ok(numbers)
}

/// Stamps these connections (of `owners`, in the event) as changed now: each takes its owner's
/// next number.
pub fn stamp_connections(
    conn: &mut DbConn,
    event_id: &str,
    owners: &[String],
    ids: &[String],
) -> QueryResult<()> {
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

/// The owner's last change number (0: none yet). Read it before the rows it is the horizon of.
pub fn current(conn: &mut DbConn, owner_id: &str) -> QueryResult<i64> {
    sync_counters::table
        .find(owner_id)
        .select(sync_counters::last_change)
        .first(conn)
        .optional()
        .map(|found| found.unwrap_or(0))
}
