//! Follow-ups and touches as stored. A follow-up belongs to one side of a connection (its owner's
//! membership) and to the owner's account, so that one query serves the queue across events.

use std::collections::HashSet;

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;

use super::DbConn;
use super::connections::Connection;
use super::events::Event;
use super::schema::{connections, events, follow_ups, memberships, touches};

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = follow_ups)]
pub struct FollowUp {
    pub id: String,
    pub event_id: String,
    pub connection_id: String,
    pub owner_id: String,
    pub account_id: String,
    pub kind: String,
    pub note: Option<String>,
    pub due_on: Option<NaiveDate>,
    pub due_at: Option<NaiveDateTime>,
    /// Where it sorts in the queue (see the migration `follow_ups`).
    pub queue_at: NaiveDateTime,
    pub state: String,
    pub is_open: bool,
    pub snoozed_until: Option<NaiveDateTime>,
    pub completed_at: Option<NaiveDateTime>,
    pub completion_note: Option<String>,
    pub origin: String,
    pub origin_starter_id: Option<String>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = follow_ups)]
pub struct NewFollowUp {
    pub id: String,
    pub event_id: String,
    pub connection_id: String,
    pub owner_id: String,
    pub account_id: String,
    pub kind: &'static str,
    pub note: Option<String>,
    pub due_on: Option<NaiveDate>,
    pub due_at: Option<NaiveDateTime>,
    pub queue_at: NaiveDateTime,
    pub state: &'static str,
    pub is_open: bool,
    pub origin: &'static str,
    pub origin_starter_id: Option<String>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

/// Changes to a follow-up; `None` leaves a field, `Some(None)` clears it.
#[derive(Debug, Clone, Default, AsChangeset)]
#[diesel(table_name = follow_ups)]
pub struct FollowUpChanges {
    pub kind: Option<&'static str>,
    pub note: Option<Option<String>>,
    pub due_on: Option<Option<NaiveDate>>,
    pub due_at: Option<Option<NaiveDateTime>>,
    pub queue_at: Option<NaiveDateTime>,
    pub state: Option<&'static str>,
    pub is_open: Option<bool>,
    pub snoozed_until: Option<Option<NaiveDateTime>>,
    pub completed_at: Option<Option<NaiveDateTime>>,
    pub completion_note: Option<Option<String>>,
    pub updated_at: Option<NaiveDateTime>,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = touches)]
pub struct Touch {
    pub id: String,
    pub event_id: String,
    pub connection_id: String,
    pub owner_id: String,
    pub account_id: String,
    pub note: Option<String>,
    pub happened_at: NaiveDateTime,
    pub happened_on: NaiveDate,
    pub created_at: NaiveDateTime,
}

/// On PostgreSQL, locks the connection's row until the transaction ends, so that the writes of
/// its follow-ups and touches (caps, the one cadence check-in) run one after the other. `NO KEY`:
/// follow-up inserts elsewhere take `KEY SHARE` on it. Take it before the change counters (see
/// `changes`). SQLite has one writer at a time.
pub fn lock_connection(conn: &mut DbConn, connection_id: &str) -> QueryResult<()> {
    if let DbConn::Postgres(pg) = conn {
        connections::table
            .find(connection_id)
            .select(connections::id)
            .for_no_key_update()
            .load::<String>(pg)?;
    }
    Ok(())
}

pub fn insert(conn: &mut DbConn, row: &NewFollowUp) -> QueryResult<()> {
    diesel::insert_into(follow_ups::table).values(row).execute(conn).map(drop)
}

/// Inserts the rows a unique index does not refuse (the one post-event follow-up of a connection,
/// the one open cadence check-in); gives back how many went in.
pub fn insert_unless_taken(conn: &mut DbConn, rows: &[NewFollowUp]) -> QueryResult<usize> {
    let mut inserted = 0;
    for chunk in rows.chunks(super::BATCH_ROWS) {
        inserted += match conn {
            DbConn::Postgres(pg) => diesel::insert_into(follow_ups::table)
                .values(chunk)
                .on_conflict_do_nothing()
                .execute(pg)?,
            // SQLite cannot combine a multi-row insert with ON CONFLICT in diesel; row by row is
            // cheap inside the transaction.
            DbConn::Sqlite(lite) => {
                let mut count = 0;
                for row in chunk {
                    count += diesel::insert_into(follow_ups::table)
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

pub fn update(conn: &mut DbConn, id: &str, changes: &FollowUpChanges) -> QueryResult<usize> {
    diesel::update(follow_ups::table.find(id)).set(changes).execute(conn)
}

pub fn delete(conn: &mut DbConn, id: &str) -> QueryResult<usize> {
    diesel::delete(follow_ups::table.find(id)).execute(conn)
}

/// The account's follow-up with this id, if it is theirs.
pub fn find_for_account(
    conn: &mut DbConn,
    account_id: &str,
    id: &str,
) -> QueryResult<Option<FollowUp>> {
    follow_ups::table
        .filter(follow_ups::id.eq(id).and(follow_ups::account_id.eq(account_id)))
        .select(FollowUp::as_select())
        .first(conn)
        .optional()
}

/// A page of a connection's follow-ups in the order they were made, after the id `after`.
pub fn page_of_connection(
    conn: &mut DbConn,
    connection_id: &str,
    after: Option<&str>,
    limit: i64,
) -> QueryResult<Vec<FollowUp>> {
    let mut query = follow_ups::table
        .filter(follow_ups::connection_id.eq(connection_id))
        .order(follow_ups::id.asc())
        .limit(limit)
        .select(FollowUp::as_select())
        .into_boxed();
    if let Some(after) = after {
        query = query.filter(follow_ups::id.gt(after));
    }
    query.load(conn)
}

/// The open (or snoozed) follow-ups of these connections, each connection's soonest first.
/// Bounded: a connection has at most [`crate::domain::follow_ups::MAX_OPEN_PER_CONNECTION`] and
/// its two check-ins open.
pub fn open_of(conn: &mut DbConn, connection_ids: &[String]) -> QueryResult<Vec<FollowUp>> {
    let mut found = Vec::new();
    for chunk in connection_ids.chunks(super::BATCH_ROWS) {
        let query = follow_ups::table
            .filter(follow_ups::is_open.eq(true))
            .order((follow_ups::connection_id.asc(), follow_ups::queue_at.asc()))
            .select(FollowUp::as_select())
            .into_boxed();
        found.extend(
            match chunk {
                [one] => query.filter(follow_ups::connection_id.eq(one)),
                _ => query.filter(follow_ups::connection_id.eq_any(chunk)),
            }
            .load::<FollowUp>(conn)?,
        );
    }
    Ok(found)
}

/// Which of these connections have an open (or snoozed) follow-up.
pub fn with_open(conn: &mut DbConn, connection_ids: &[String]) -> QueryResult<HashSet<String>> {
    let mut found = HashSet::new();
    for chunk in connection_ids.chunks(super::BATCH_ROWS) {
        found.extend(
            follow_ups::table
                .filter(follow_ups::connection_id.eq_any(chunk))
                .filter(follow_ups::is_open.eq(true))
                .select(follow_ups::connection_id)
                .distinct()
                .load::<String>(conn)?,
        );
    }
    Ok(found)
}

/// (open follow-ups made with `POST …/follow-ups`, follow-ups in all) of a connection.
pub fn counts(conn: &mut DbConn, connection_id: &str) -> QueryResult<(i64, i64)> {
    let all = follow_ups::table
        .filter(follow_ups::connection_id.eq(connection_id))
        .count()
        .get_result(conn)?;
    let open = follow_ups::table
        .filter(follow_ups::connection_id.eq(connection_id))
        .filter(follow_ups::is_open.eq(true))
        .filter(follow_ups::origin.eq_any(["manual", "starter"]))
        .count()
        .get_result(conn)?;
    Ok((open, all))
}

/// The open cadence check-in of a connection, if any (the database allows one).
pub fn open_cadence(conn: &mut DbConn, connection_id: &str) -> QueryResult<Option<FollowUp>> {
    follow_ups::table
        .filter(follow_ups::connection_id.eq(connection_id))
        .filter(follow_ups::is_open.eq(true))
        .filter(follow_ups::origin.eq("cadence"))
        .select(FollowUp::as_select())
        .first(conn)
        .optional()
}

/// The open promise made at a scan (or through the connection's `follow_up` field), if any.
pub fn open_promise(conn: &mut DbConn, connection_id: &str) -> QueryResult<Option<FollowUp>> {
    follow_ups::table
        .filter(follow_ups::connection_id.eq(connection_id))
        .filter(follow_ups::is_open.eq(true))
        .filter(follow_ups::origin.eq("scan"))
        .order(follow_ups::id.asc())
        .select(FollowUp::as_select())
        .first(conn)
        .optional()
}

/// Which follow-ups the queue reads.
#[derive(Clone, Copy, Debug)]
pub struct QueueRange {
    /// Open (and snoozed) ones, or else done ones.
    pub open: bool,
    /// `queue_at` at or after this.
    pub from: Option<NaiveDateTime>,
    /// `queue_at` before this.
    pub before: Option<NaiveDateTime>,
}

/// The live connection of a follow-up, as a query.
type LiveConnection = diesel::dsl::Filter<
    diesel::dsl::Filter<
        connections::table,
        diesel::dsl::Eq<connections::id, follow_ups::connection_id>,
    >,
    diesel::dsl::IsNull<connections::deleted_at>,
>;
type ConnectionLive = diesel::dsl::exists<LiveConnection>;

/// Whether the follow-up's connection is not deleted: the queue and the digests never show a
/// deleted connection's follow-ups (deleting one removes them; this holds even if one slipped in).
/// Correlated, so that each follow-up read looks its connection up by key: as `IN (SELECT id FROM
/// connections …)`, SQLite listed every live connection on every call (15 ms at 5,000).
fn connection_live() -> ConnectionLive {
    diesel::dsl::exists(
        connections::table
            .filter(connections::id.eq(follow_ups::connection_id))
            .filter(connections::deleted_at.is_null()),
    )
}

/// A page of the account's follow-ups in the range, by (`queue_at`, id) after `after`.
pub fn queue_page(
    conn: &mut DbConn,
    account_id: &str,
    range: QueueRange,
    after: Option<(NaiveDateTime, String)>,
    limit: i64,
) -> QueryResult<Vec<FollowUp>> {
    let mut query = follow_ups::table
        .filter(follow_ups::account_id.eq(account_id))
        .filter(follow_ups::is_open.eq(range.open))
        .filter(connection_live())
        .order((follow_ups::queue_at.asc(), follow_ups::id.asc()))
        .limit(limit)
        .select(FollowUp::as_select())
        .into_boxed();
    if !range.open {
        query = query.filter(follow_ups::state.eq("done"));
    }
    if let Some(from) = range.from {
        query = query.filter(follow_ups::queue_at.ge(from));
    }
    if let Some(before) = range.before {
        query = query.filter(follow_ups::queue_at.lt(before));
    }
    if let Some((at, id)) = after {
        query = query.filter(
            follow_ups::queue_at.gt(at).or(follow_ups::queue_at.eq(at).and(follow_ups::id.gt(id))),
        );
    }
    query.load(conn)
}

/// The account's follow-ups done since `since`, the latest first, at most `limit`.
pub fn done_since(
    conn: &mut DbConn,
    account_id: &str,
    since: NaiveDateTime,
    limit: i64,
) -> QueryResult<Vec<FollowUp>> {
    follow_ups::table
        .filter(follow_ups::account_id.eq(account_id))
        .filter(follow_ups::is_open.eq(false))
        .filter(follow_ups::state.eq("done"))
        .filter(follow_ups::completed_at.ge(since))
        .order(follow_ups::completed_at.desc())
        .limit(limit)
        .select(FollowUp::as_select())
        .load(conn)
}

/// How many of the account's open follow-ups sort before `before`.
pub fn count_open_before(
    conn: &mut DbConn,
    account_id: &str,
    before: NaiveDateTime,
) -> QueryResult<i64> {
    follow_ups::table
        .filter(follow_ups::account_id.eq(account_id))
        .filter(follow_ups::is_open.eq(true))
        .filter(follow_ups::queue_at.lt(before))
        .filter(connection_live())
        .count()
        .get_result(conn)
}

/// A follow-up due on a date: (id, due date, connection, event, owner).
pub type Dated = (String, NaiveDate, String, String, String);

/// The account's open, unsnoozed follow-ups due on a date (their place in the queue follows the
/// account's time zone), a chunk at a time by id after `after`.
pub fn open_dated(
    conn: &mut DbConn,
    account_id: &str,
    after: Option<&str>,
    limit: i64,
) -> QueryResult<Vec<Dated>> {
    let mut query = follow_ups::table
        .filter(follow_ups::account_id.eq(account_id))
        .filter(follow_ups::is_open.eq(true))
        .filter(follow_ups::snoozed_until.is_null())
        .filter(follow_ups::due_on.is_not_null())
        .order(follow_ups::id.asc())
        .limit(limit)
        .select((
            follow_ups::id,
            follow_ups::due_on.assume_not_null(),
            follow_ups::connection_id,
            follow_ups::event_id,
            follow_ups::owner_id,
        ))
        .into_boxed();
    if let Some(after) = after {
        query = query.filter(follow_ups::id.gt(after));
    }
    query.load(conn)
}

pub fn set_queue_at(conn: &mut DbConn, id: &str, at: NaiveDateTime) -> QueryResult<usize> {
    diesel::update(follow_ups::table.find(id)).set(follow_ups::queue_at.eq(at)).execute(conn)
}

/// Every follow-up of a person (account), across their events, with its connection and event, a
/// page at a time by follow-up id after `after` (for exports and feeds).
pub fn of_account(
    conn: &mut DbConn,
    account_id: &str,
    after: Option<&str>,
    limit: i64,
) -> QueryResult<Vec<(FollowUp, Connection, Event)>> {
    let mut query = follow_ups::table
        .inner_join(connections::table)
        .inner_join(events::table)
        .filter(follow_ups::account_id.eq(account_id))
        .order(follow_ups::id.asc())
        .limit(limit)
        .select((FollowUp::as_select(), Connection::as_select(), Event::as_select()))
        .into_boxed();
    if let Some(after) = after {
        query = query.filter(follow_ups::id.gt(after));
    }
    query.load(conn)
}

pub fn insert_touch(conn: &mut DbConn, touch: &Touch) -> QueryResult<()> {
    diesel::insert_into(touches::table).values(touch).execute(conn).map(drop)
}

pub fn count_touches(conn: &mut DbConn, connection_id: &str) -> QueryResult<i64> {
    touches::table.filter(touches::connection_id.eq(connection_id)).count().get_result(conn)
}

/// A page of a connection's touches in the order they were logged, after the id `after`.
pub fn touches_page(
    conn: &mut DbConn,
    connection_id: &str,
    after: Option<&str>,
    limit: i64,
) -> QueryResult<Vec<Touch>> {
    let mut query = touches::table
        .filter(touches::connection_id.eq(connection_id))
        .order(touches::id.asc())
        .limit(limit)
        .select(Touch::as_select())
        .into_boxed();
    if let Some(after) = after {
        query = query.filter(touches::id.gt(after));
    }
    query.load(conn)
}

/// Moves the connection's last touch to `at` if that is later.
pub fn touched(conn: &mut DbConn, connection_id: &str, at: NaiveDateTime) -> QueryResult<usize> {
    diesel::update(
        connections::table
            .find(connection_id)
            .filter(connections::last_touched_at.is_null().or(connections::last_touched_at.lt(at))),
    )
    .set(connections::last_touched_at.eq(at))
    .execute(conn)
}

/// Account ids of memberships.
pub fn accounts_of(
    conn: &mut DbConn,
    membership_ids: &[String],
) -> QueryResult<Vec<(String, String)>> {
    let mut found = Vec::new();
    for chunk in membership_ids.chunks(super::BATCH_ROWS) {
        found.extend(
            memberships::table
                .filter(memberships::id.eq_any(chunk))
                .select((memberships::id, memberships::account_id))
                .load::<(String, String)>(conn)?,
        );
    }
    Ok(found)
}

/// Deletes the connection's oldest closed cadence check-in (its history keeps the newest).
pub fn drop_oldest_closed_cadence(conn: &mut DbConn, connection_id: &str) -> QueryResult<usize> {
    let oldest: Option<String> = follow_ups::table
        .filter(follow_ups::connection_id.eq(connection_id))
        .filter(follow_ups::origin.eq("cadence"))
        .filter(follow_ups::is_open.eq(false))
        .order(follow_ups::id.asc())
        .select(follow_ups::id)
        .first(conn)
        .optional()?;
    match oldest {
        Some(id) => delete(conn, &id),
        None => Ok(0),
    }
}
