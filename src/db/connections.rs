//! Connections: each side of a meeting is its owner's own row, with notes, tags and rating.

use chrono::NaiveDateTime;
use diesel::dsl::case_when;
use diesel::prelude::*;
use diesel::sql_types::{Array, BigInt, Text, Timestamp};

use super::DbConn;
use super::changes::Horizon;
use super::schema::{accounts, connection_notes, connections, follow_ups, memberships, touches};

#[derive(Debug, Clone, Queryable, QueryableByName, Selectable)]
#[diesel(table_name = connections)]
pub struct Connection {
    pub id: String,
    pub event_id: String,
    pub owner_id: String,
    pub other_id: String,
    pub first_met_at: NaiveDateTime,
    pub last_met_at: NaiveDateTime,
    pub scan_count: i32,
    /// A JSON array of strings.
    pub tags: String,
    pub rating: Option<i32>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub deleted_at: Option<NaiveDateTime>,
    /// The owner's change number of its last change (see [`super::changes`]).
    pub change_seq: i64,
    /// How many notes the owner has written on it (kept with every note written or deleted).
    pub note_count: i32,
    /// How often the owner wants to stay in touch (see `domain::follow_ups::Cadence`); `None`: no
    /// cadence.
    pub cadence: Option<String>,
    pub cadence_days: Option<i32>,
    /// The owner's last touch: a logged one, or a completed follow-up.
    pub last_touched_at: Option<NaiveDateTime>,
    /// Who introduced the two (the introducer's membership), when an introduction made it.
    pub introduced_by: Option<String>,
    /// The introducer's note to the owner.
    pub introduction_note: Option<String>,
}

#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = connections)]
pub struct NewConnection {
    pub id: String,
    pub event_id: String,
    pub owner_id: String,
    pub other_id: String,
    pub first_met_at: NaiveDateTime,
    pub last_met_at: NaiveDateTime,
    pub scan_count: i32,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

/// Owner-side changes; `None` leaves a field, `Some(None)` clears it.
#[derive(Debug, Clone, Default, AsChangeset)]
#[diesel(table_name = connections)]
pub struct ConnectionChanges {
    pub tags: Option<String>,
    pub rating: Option<Option<i32>>,
    pub cadence: Option<Option<String>>,
    pub cadence_days: Option<Option<i32>>,
    pub updated_at: Option<NaiveDateTime>,
}

#[derive(Debug, Clone, Queryable, QueryableByName, Selectable, Insertable)]
#[diesel(table_name = connection_notes)]
pub struct Note {
    pub id: String,
    pub connection_id: String,
    pub event_id: String,
    pub body: String,
    pub written_at: NaiveDateTime,
    pub created_at: NaiveDateTime,
}

/// The connections between `person` and each of `others`, in both directions, deleted ones too.
/// Two queries, each on its own index, rather than one `OR` that no index serves.
pub fn between(
    conn: &mut DbConn,
    event_id: &str,
    person: &str,
    others: &[String],
) -> QueryResult<Vec<Connection>> {
    if let [other] = others {
        // One other person (the online case): each side through its own index (an `OR` of the
        // two would get neither).
        let mut found = side(conn, event_id, person, other)?;
        found.extend(side(conn, event_id, other, person)?);
        return Ok(found);
    }
    let mut found = Vec::new();
    for chunk in others.chunks(super::BATCH_ROWS) {
        found.extend(
            connections::table
                .filter(connections::event_id.eq(event_id))
                .filter(connections::owner_id.eq(person).and(connections::other_id.eq_any(chunk)))
                .select(Connection::as_select())
                .load(conn)?,
        );
        found.extend(
            connections::table
                .filter(connections::other_id.eq(person).and(connections::owner_id.eq_any(chunk)))
                .filter(connections::event_id.eq(event_id))
                .select(Connection::as_select())
                .load(conn)?,
        );
    }
    Ok(found)
}

/// The connection `owner` has with `other` (deleted too), if any.
///
/// On PostgreSQL it is sent as text, so that it is planned for its values on every run. Kept as
/// a prepared statement (diesel keeps every query built with its DSL, boxed or not), it got one
/// generic plan after five runs; when those ran while `connections` was nearly empty (a new
/// database's first event) every index looked as cheap, and the plan read `connections_event`
/// and filtered the whole event for the pair, for as long as the pooled connection lived:
/// single scans fell to a quarter (BENCHMARKS, issue 13; `tests/api/pool.rs`).
fn side(
    conn: &mut DbConn,
    event_id: &str,
    owner: &str,
    other: &str,
) -> QueryResult<Vec<Connection>> {
    match conn {
        DbConn::Postgres(pg) => diesel::sql_query(
            "SELECT * FROM connections WHERE event_id = $1 AND owner_id = $2 AND other_id = $3",
        )
        .bind::<Text, _>(event_id)
        .bind::<Text, _>(owner)
        .bind::<Text, _>(other)
        .load(pg),
        DbConn::Sqlite(lite) => connections::table
            .filter(connections::event_id.eq(event_id))
            .filter(connections::owner_id.eq(owner).and(connections::other_id.eq(other)))
            .select(Connection::as_select())
            .load(lite),
    }
}

/// Inserts connections, skipping any (event, owner, other) that exists: the database keeps one
/// per side even when two people scan each other at the same moment.
/// Returns how many rows were inserted.
pub fn insert_missing(conn: &mut DbConn, rows: &[NewConnection]) -> QueryResult<usize> {
    let mut inserted = 0;
    for chunk in rows.chunks(super::BATCH_ROWS) {
        inserted += match conn {
            DbConn::Postgres(pg) => diesel::insert_into(connections::table)
                .values(chunk)
                .on_conflict_do_nothing()
                .execute(pg)?,
            // SQLite cannot combine a multi-row insert with ON CONFLICT in diesel; row by row is
            // cheap inside the transaction.
            DbConn::Sqlite(lite) => {
                let mut count = 0;
                for row in chunk {
                    count += diesel::insert_into(connections::table)
                        .values(row)
                        .on_conflict_do_nothing()
                        .execute(lite)?;
                }
                count
            }
        };
    }
    Ok(inserted)
}

/// Records `count` more meetings between `first` and `last` on a connection, restoring it if its
/// owner had deleted it.
pub fn record_meetings(
    conn: &mut DbConn,
    id: &str,
    first: NaiveDateTime,
    last: NaiveDateTime,
    count: i32,
    now: NaiveDateTime,
) -> QueryResult<usize> {
    diesel::update(connections::table.find(id))
        .set((
            connections::scan_count.eq(connections::scan_count + count),
            connections::first_met_at.eq(case_when(
                connections::first_met_at.gt(first),
                first.into_sql::<Timestamp>(),
            )
            .otherwise(connections::first_met_at)),
            connections::last_met_at.eq(case_when(
                connections::last_met_at.lt(last),
                last.into_sql::<Timestamp>(),
            )
            .otherwise(connections::last_met_at)),
            connections::deleted_at.eq(None::<NaiveDateTime>),
            connections::updated_at.eq(now),
        ))
        .execute(conn)
}

pub fn update(conn: &mut DbConn, id: &str, changes: &ConnectionChanges) -> QueryResult<usize> {
    diesel::update(connections::table.find(id)).set(changes).execute(conn)
}

/// Deletes the owner's side: a tombstone for delta sync; notes, tags, rating, follow-ups, touches
/// and cadence go.
pub fn delete(conn: &mut DbConn, id: &str, now: NaiveDateTime) -> QueryResult<usize> {
    diesel::delete(connection_notes::table.filter(connection_notes::connection_id.eq(id)))
        .execute(conn)?;
    diesel::delete(follow_ups::table.filter(follow_ups::connection_id.eq(id))).execute(conn)?;
    diesel::delete(touches::table.filter(touches::connection_id.eq(id))).execute(conn)?;
    diesel::update(connections::table.find(id))
        .set((
            connections::deleted_at.eq(Some(now)),
            connections::updated_at.eq(now),
            connections::tags.eq("[]"),
            connections::rating.eq(None::<i32>),
            connections::note_count.eq(0),
            connections::cadence.eq(None::<String>),
            connections::cadence_days.eq(None::<i32>),
            connections::last_touched_at.eq(None::<NaiveDateTime>),
        ))
        .execute(conn)
}

pub fn find_for_owner(
    conn: &mut DbConn,
    owner_id: &str,
    id: &str,
) -> QueryResult<Option<Connection>> {
    connections::table
        .filter(connections::id.eq(id).and(connections::owner_id.eq(owner_id)))
        .filter(connections::deleted_at.is_null())
        .select(Connection::as_select())
        .first(conn)
        .optional()
}

/// Connections by id, each with the other person (membership, email, display name).
pub fn find_many_with_other(
    conn: &mut DbConn,
    ids: &[String],
) -> QueryResult<Vec<(Connection, super::attendees::Member)>> {
    let mut found = Vec::new();
    for chunk in ids.chunks(super::BATCH_ROWS) {
        let query = connections::table
            .inner_join(memberships::table.on(memberships::id.eq(connections::other_id)))
            .inner_join(accounts::table.on(accounts::id.eq(memberships::account_id)))
            .select((
                Connection::as_select(),
                super::attendees::Membership::as_select(),
                accounts::email,
                accounts::display_name,
            ))
            .into_boxed();
        let rows: Vec<(Connection, super::attendees::Membership, String, Option<String>)> =
            match chunk {
                // One (a scan's answer): `=` keeps the statement cacheable; `IN (…)` is not.
                [one] => query.filter(connections::id.eq(one)),
                _ => query.filter(connections::id.eq_any(chunk)),
            }
            .load(conn)?;
        found.extend(rows.into_iter().map(|(c, m, email, name)| (c, (m, email, name))));
    }
    Ok(found)
}

/// A page of the owner's connections by (change number, id) after `after`; with `since`, only
/// those changed after it, tombstones included. Without, only live ones.
pub fn page(
    conn: &mut DbConn,
    owner_id: &str,
    since: Option<&Horizon>,
    after: Option<(i64, String)>,
    limit: i64,
) -> QueryResult<Vec<Connection>> {
    let mut query = connections::table
        .filter(connections::owner_id.eq(owner_id))
        .order((connections::change_seq.asc(), connections::id.asc()))
        .limit(limit)
        .select(Connection::as_select())
        .into_boxed();
    match since {
        Some(Horizon { through, running }) if running.is_empty() => {
            query = query.filter(connections::change_seq.gt(through))
        }
        Some(Horizon { through, running }) => {
            query = query.filter(
                connections::change_seq.gt(through).or(connections::change_seq.eq_any(running)),
            )
        }
        None => query = query.filter(connections::deleted_at.is_null()),
    }
    if let Some((seq, id)) = after {
        query = query.filter(
            connections::change_seq
                .gt(seq)
                .or(connections::change_seq.eq(seq).and(connections::id.gt(id))),
        );
    }
    query.load(conn)
}

pub fn insert_notes(conn: &mut DbConn, notes: &[Note]) -> QueryResult<()> {
    for chunk in notes.chunks(super::BATCH_ROWS) {
        super::insert_batch!(conn, connection_notes::table, chunk)?;
    }
    Ok(())
}

/// A page of a connection's notes in the order they were written (`written_at`, then the order
/// the server received them), after the note `after`: notes written offline and uploaded later
/// take their place among the others.
pub fn notes_page(
    conn: &mut DbConn,
    connection_id: &str,
    after: Option<&str>,
    limit: i64,
) -> QueryResult<Vec<Note>> {
    let mut query = connection_notes::table
        .filter(connection_notes::connection_id.eq(connection_id))
        .order((connection_notes::written_at.asc(), connection_notes::id.asc()))
        .limit(limit)
        .select(Note::as_select())
        .into_boxed();
    if let Some(after) = after {
        let written: Option<NaiveDateTime> = connection_notes::table
            .filter(connection_notes::connection_id.eq(connection_id))
            .filter(connection_notes::id.eq(after))
            .select(connection_notes::written_at)
            .first(conn)
            .optional()?;
        // A cursor naming no note of this connection starts nowhere: an empty page.
        let Some(written) = written else { return Ok(Vec::new()) };
        query = query.filter(
            connection_notes::written_at
                .gt(written)
                .or(connection_notes::written_at.eq(written).and(connection_notes::id.gt(after))),
        );
    }
    query.load(conn)
}

/// Counts `added` more notes on a connection and marks it changed, unless that would take it past
/// `cap` notes. Returns whether it did: the check and the count are one statement, so two writers
/// can never both pass the cap.
pub fn count_notes(
    conn: &mut DbConn,
    id: &str,
    added: i32,
    cap: i32,
    now: NaiveDateTime,
) -> QueryResult<bool> {
    diesel::update(
        connections::table
            .filter(connections::id.eq(id))
            .filter(connections::note_count.le(cap - added)),
    )
    .set((
        connections::note_count.eq(connections::note_count + added),
        connections::updated_at.eq(now),
    ))
    .execute(conn)
    .map(|rows| rows == 1)
}

/// How many notes the owner has written, over all their connections (in one event: an owner is a
/// membership).
pub fn note_total(conn: &mut DbConn, owner_id: &str) -> QueryResult<i64> {
    connections::table
        .filter(connections::owner_id.eq(owner_id))
        .select(diesel::dsl::sum(connections::note_count))
        .get_result::<Option<i64>>(conn)
        .map(Option::unwrap_or_default)
}

/// Every (owner, other) pair of the event, once per pair (owner < other), for stats.
pub fn pairs(conn: &mut DbConn, event_id: &str) -> QueryResult<Vec<(String, String)>> {
    connections::table
        .filter(connections::event_id.eq(event_id))
        .filter(connections::owner_id.lt(connections::other_id))
        .select((connections::owner_id, connections::other_id))
        .load(conn)
}

/// How many people of the event have at least one connection.
pub fn count_connected_people(conn: &mut DbConn, event_id: &str) -> QueryResult<i64> {
    connections::table
        .filter(connections::event_id.eq(event_id))
        .select(connections::owner_id)
        .distinct()
        .load::<String>(conn)
        .map(|owners| i64::try_from(owners.len()).unwrap_or(i64::MAX))
}

/// The latest `n` notes of each of these connections (by when they were written, newest first),
/// grouped by connection: one query however many connections.
///
/// Backend-specific, because diesel's DSL has neither `LATERAL` nor window functions: PostgreSQL
/// reads each connection's first `n` entries of `connection_notes_written`; SQLite numbers each
/// connection's notes over the same index and keeps the first `n`.
pub fn latest_notes_of(conn: &mut DbConn, ids: &[String], n: i64) -> QueryResult<Vec<Note>> {
    match conn {
        DbConn::Postgres(pg) => diesel::sql_query(
            "SELECT n.id, n.connection_id, n.event_id, n.body, n.written_at, n.created_at \
             FROM unnest($1::text[]) AS c(id) CROSS JOIN LATERAL ( \
               SELECT * FROM connection_notes WHERE connection_id = c.id \
               ORDER BY written_at DESC, id DESC LIMIT $2) n \
             ORDER BY n.connection_id, n.written_at DESC, n.id DESC",
        )
        .bind::<Array<Text>, _>(ids)
        .bind::<BigInt, _>(n)
        .load(pg),
        DbConn::Sqlite(lite) => diesel::sql_query(
            "SELECT id, connection_id, event_id, body, written_at, created_at FROM ( \
               SELECT *, ROW_NUMBER() OVER ( \
                 PARTITION BY connection_id ORDER BY written_at DESC, id DESC) AS place \
               FROM connection_notes \
               WHERE connection_id IN (SELECT value FROM json_each(?))) \
             WHERE place <= ? ORDER BY connection_id, written_at DESC, id DESC",
        )
        .bind::<Text, _>(serde_json::Value::from(ids.to_vec()).to_string())
        .bind::<BigInt, _>(n)
        .load(lite),
    }
}

/// Connections by id, deleted ones too.
pub fn find_many(conn: &mut DbConn, ids: &[String]) -> QueryResult<Vec<Connection>> {
    let mut found = Vec::new();
    for chunk in ids.chunks(super::BATCH_ROWS) {
        found.extend(
            connections::table
                .filter(connections::id.eq_any(chunk))
                .select(Connection::as_select())
                .load::<Connection>(conn)?,
        );
    }
    Ok(found)
}

/// Marks a connection as made by an introduction: who introduced, with the note to its owner.
pub fn introduced(
    conn: &mut DbConn,
    id: &str,
    introducer_id: &str,
    note: &str,
    now: NaiveDateTime,
) -> QueryResult<usize> {
    diesel::update(connections::table.find(id))
        .set((
            connections::introduced_by.eq(Some(introducer_id)),
            connections::introduction_note.eq(Some(note)),
            connections::updated_at.eq(now),
        ))
        .execute(conn)
}

/// The other people of the owner's live connections in the event.
pub fn mine_in_event(
    conn: &mut DbConn,
    event_id: &str,
    owner_id: &str,
) -> QueryResult<Vec<String>> {
    connections::table
        .filter(connections::event_id.eq(event_id))
        .filter(connections::owner_id.eq(owner_id))
        .filter(connections::deleted_at.is_null())
        .select(connections::other_id)
        .load(conn)
}

/// Across the account's events: live connections, follow-ups completed by the end of their due
/// day (or instant), and connections with a cadence.
pub fn network_counts(conn: &mut DbConn, account_id: &str) -> QueryResult<(i64, i64, i64)> {
    let mine =
        memberships::table.filter(memberships::account_id.eq(account_id)).select(memberships::id);
    let live: i64 = connections::table
        .filter(connections::owner_id.eq_any(mine))
        .filter(connections::deleted_at.is_null())
        .count()
        .get_result(conn)?;
    let cadences: i64 = connections::table
        .filter(connections::owner_id.eq_any(mine))
        .filter(connections::deleted_at.is_null())
        .filter(connections::cadence.is_not_null())
        .count()
        .get_result(conn)?;
    let done: Vec<(NaiveDateTime, Option<NaiveDateTime>)> = follow_ups::table
        .filter(follow_ups::account_id.eq(account_id))
        .filter(follow_ups::state.eq("done"))
        .select((follow_ups::queue_at, follow_ups::completed_at))
        .load(conn)?;
    let on_time = done
        .iter()
        .filter(|(due, at)| at.is_some_and(|at| at < *due + chrono::Duration::days(1)))
        .count();
    Ok((live, i64::try_from(on_time).unwrap_or(i64::MAX), cadences))
}
