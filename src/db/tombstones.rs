//! Tombstones of connections whose other side went with that person's deleted account, so that
//! their owners' devices learn of it by delta sync. Nothing of the deleted person's profile is
//! kept: their former attendee id, and the owner's own record of the meeting (when, how often).

use std::collections::{BTreeSet, HashMap};

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::DbConn;
use super::changes::Horizon;
use super::connections::Connection;
use super::schema::{connection_tombstones, connections, memberships};

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = connection_tombstones)]
pub struct Tombstone {
    pub connection_id: String,
    pub event_id: String,
    pub owner_id: String,
    pub other_id: String,
    pub first_met_at: NaiveDateTime,
    pub last_met_at: NaiveDateTime,
    pub scan_count: i32,
    pub created_at: NaiveDateTime,
    pub deleted_at: NaiveDateTime,
    /// The owner's change number of the deletion (see [`super::changes`]).
    pub change_seq: i64,
}

/// Keeps a tombstone of every connection that has one of `account_id`'s memberships as its other
/// side: call before deleting the account (which deletes those connections).
pub fn bury_connections_with(
    conn: &mut DbConn,
    account_id: &str,
    now: NaiveDateTime,
) -> QueryResult<usize> {
    let ids: Vec<String> = memberships::table
        .filter(memberships::account_id.eq(account_id))
        .select(memberships::id)
        .load(conn)?;
    bury_connections_with_members(conn, &ids, now)
}

/// Keeps a tombstone of every connection that has one of `membership_ids` as its other side: call
/// before deleting those memberships (a person leaving an event, or deleting their account).
pub fn bury_connections_with_members(
    conn: &mut DbConn,
    membership_ids: &[String],
    now: NaiveDateTime,
) -> QueryResult<usize> {
    if let DbConn::Postgres(pg) = conn {
        // Both sides' connection rows first, in id order, as every other write takes them
        // first: two people leaving at once, or a leave and a note on one of the connections
        // it deletes, wait for each other instead of deadlocking. SQLite has one writer at a
        // time.
        connections::table
            .filter(
                connections::owner_id
                    .eq_any(membership_ids)
                    .or(connections::other_id.eq_any(membership_ids)),
            )
            .order(connections::id.asc())
            .select(connections::id)
            .for_update()
            .load::<String>(pg)?;
        // A scan committing between this read and the deletion would add a connection that the
        // deletion's cascade removes unburied: lock the memberships too (the foreign key check
        // of such an insert waits for the lock, then fails with the membership gone).
        memberships::table
            .filter(memberships::id.eq_any(membership_ids))
            .select(memberships::id)
            .for_update()
            .load::<String>(pg)?;
    }
    let found: Vec<Connection> = connections::table
        .filter(connections::other_id.eq_any(membership_ids))
        .select(Connection::as_select())
        .load(conn)?;
    // Every owner's next change number, taken in one order (see `changes::next`).
    let mut numbers = HashMap::new();
    for event_id in found.iter().map(|c| c.event_id.as_str()).collect::<BTreeSet<_>>() {
        let of_event: Vec<String> =
            found.iter().filter(|c| c.event_id == event_id).map(|c| c.owner_id.clone()).collect();
        numbers.extend(super::changes::next(conn, event_id, &of_event)?);
    }
    let rows: Vec<Tombstone> = found
        .into_iter()
        .map(|c| Tombstone {
            change_seq: numbers.get(&c.owner_id).copied().unwrap_or_default(),
            connection_id: c.id,
            event_id: c.event_id,
            owner_id: c.owner_id,
            other_id: c.other_id,
            first_met_at: c.first_met_at,
            last_met_at: c.last_met_at,
            scan_count: c.scan_count,
            created_at: c.created_at,
            deleted_at: now,
        })
        .collect();
    for chunk in rows.chunks(super::BATCH_ROWS) {
        super::insert_batch!(conn, connection_tombstones::table, chunk)?;
    }
    Ok(rows.len())
}

/// The owner's tombstones with a change number after `since`, by (number, id) after `after`.
pub fn page(
    conn: &mut DbConn,
    owner_id: &str,
    since: &Horizon,
    after: Option<(i64, String)>,
    limit: i64,
) -> QueryResult<Vec<Tombstone>> {
    let mut query = connection_tombstones::table
        .filter(connection_tombstones::owner_id.eq(owner_id))
        .order((
            connection_tombstones::change_seq.asc(),
            connection_tombstones::connection_id.asc(),
        ))
        .limit(limit)
        .select(Tombstone::as_select())
        .into_boxed();
    query = if since.running.is_empty() {
        query.filter(connection_tombstones::change_seq.gt(since.through))
    } else {
        query.filter(
            connection_tombstones::change_seq
                .gt(since.through)
                .or(connection_tombstones::change_seq.eq_any(&since.running)),
        )
    };
    if let Some((seq, id)) = after {
        query = query.filter(
            connection_tombstones::change_seq.gt(seq).or(connection_tombstones::change_seq
                .eq(seq)
                .and(connection_tombstones::connection_id.gt(id))),
        );
    }
    query.load(conn)
}
