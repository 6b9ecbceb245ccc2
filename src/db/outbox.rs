//! The mail outbox: messages written in the same transaction as the change that causes them,
//! sent later by the worker.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::DbConn;
use super::schema::outbox;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = outbox)]
pub struct Message {
    pub id: String,
    pub kind: String,
    pub recipient: String,
    pub subject: String,
    pub body_text: String,
    pub attempts: i32,
    pub last_error: Option<String>,
    pub next_attempt_at: NaiveDateTime,
    pub created_at: NaiveDateTime,
    pub sent_at: Option<NaiveDateTime>,
    /// Put into the subject and body when sending (see `mail::SECRET_SLOT`); `None` once sent.
    pub secret: Option<String>,
    /// 0 sign-in codes, 1 person-to-person, 2 bulk (see `mail::Priority`).
    pub priority: i32,
    /// When the worker gave the message up (a dead letter), if it did.
    pub dead_at: Option<NaiveDateTime>,
}

#[derive(Insertable)]
#[diesel(table_name = outbox)]
pub struct NewMessage<'a> {
    pub id: &'a str,
    pub kind: &'a str,
    pub recipient: &'a str,
    pub subject: &'a str,
    pub body_text: &'a str,
    pub attempts: i32,
    pub next_attempt_at: NaiveDateTime,
    pub created_at: NaiveDateTime,
    pub sender_id: Option<&'a str>,
    pub event_id: Option<&'a str>,
    pub priority: i32,
    pub secret: Option<&'a str>,
}

pub fn insert(conn: &mut DbConn, message: &NewMessage<'_>) -> QueryResult<()> {
    diesel::insert_into(outbox::table).values(message).execute(conn).map(drop)
}

/// Claims up to `limit` unsent messages that are due, by pushing their next attempt to `lease_until`
/// so that no other worker takes them meanwhile. Call inside a transaction.
///
/// Backend-specific: on PostgreSQL the rows are locked with `FOR UPDATE SKIP LOCKED`, so that
/// several workers never claim the same message; SQLite has one writer at a time anyway.
pub fn claim_due(
    conn: &mut DbConn,
    now: NaiveDateTime,
    lease_until: NaiveDateTime,
    limit: i64,
) -> QueryResult<Vec<Message>> {
    // A macro, not a closure: the select clause must be built for each backend's type.
    macro_rules! due {
        () => {
            outbox::table
                .filter(outbox::sent_at.is_null().and(outbox::dead_at.is_null()))
                .filter(outbox::next_attempt_at.le(now))
                // Sign-in codes first, then person-to-person mail, bulk invitations last.
                .order((outbox::priority.asc(), outbox::next_attempt_at.asc()))
                .limit(limit)
                .select(Message::as_select())
        };
    }
    let messages: Vec<Message> = match conn {
        DbConn::Postgres(pg) => due!().for_update().skip_locked().load(pg)?,
        DbConn::Sqlite(lite) => due!().load(lite)?,
    };
    let ids: Vec<&str> = messages.iter().map(|m| m.id.as_str()).collect();
    diesel::update(outbox::table.filter(outbox::id.eq_any(&ids)))
        .set(outbox::next_attempt_at.eq(lease_until))
        .execute(conn)?;
    Ok(messages)
}

/// Marks a message sent and drops its secret: what stays at rest no longer signs anyone in.
pub fn mark_sent(conn: &mut DbConn, id: &str, now: NaiveDateTime) -> QueryResult<usize> {
    diesel::update(outbox::table.find(id))
        .set((
            outbox::sent_at.eq(now),
            outbox::attempts.eq(outbox::attempts + 1),
            outbox::last_error.eq(None::<String>),
            outbox::secret.eq(None::<String>),
        ))
        .execute(conn)
}

/// Gives a message up (a dead letter): it is never tried again, keeps its last error for
/// operators, and loses its secret.
pub fn mark_dead(
    conn: &mut DbConn,
    id: &str,
    error: &str,
    now: NaiveDateTime,
) -> QueryResult<usize> {
    diesel::update(outbox::table.find(id))
        .set((
            outbox::dead_at.eq(now),
            outbox::attempts.eq(outbox::attempts + 1),
            outbox::last_error.eq(error),
            outbox::secret.eq(None::<String>),
        ))
        .execute(conn)
}

/// The messages given up, newest first (for operators: `hallway dead-letters`).
pub fn dead_letters(conn: &mut DbConn, limit: i64) -> QueryResult<Vec<Message>> {
    outbox::table
        .filter(outbox::dead_at.is_not_null())
        .order(outbox::dead_at.desc())
        .limit(limit)
        .select(Message::as_select())
        .load(conn)
}

/// Deletes the messages sent, or given up, before `before`; returns how many.
pub fn purge_sent(conn: &mut DbConn, before: NaiveDateTime) -> QueryResult<usize> {
    // Two statements, each on its own index: with `OR` the planner reads the whole table.
    let sent = diesel::delete(outbox::table.filter(outbox::sent_at.lt(before))).execute(conn)?;
    let dead = diesel::delete(outbox::table.filter(outbox::dead_at.lt(before))).execute(conn)?;
    Ok(sent + dead)
}

/// Deletes every message to `recipient`, sent or not (their account is being deleted).
pub fn delete_for_recipient(conn: &mut DbConn, recipient: &str) -> QueryResult<usize> {
    diesel::delete(outbox::table.filter(outbox::recipient.eq(recipient))).execute(conn)
}

pub fn mark_failed(
    conn: &mut DbConn,
    id: &str,
    error: &str,
    next_attempt_at: NaiveDateTime,
) -> QueryResult<usize> {
    diesel::update(outbox::table.find(id))
        .set((
            outbox::attempts.eq(outbox::attempts + 1),
            outbox::last_error.eq(error),
            outbox::next_attempt_at.eq(next_attempt_at),
        ))
        .execute(conn)
}

/// Every message to `recipient`, oldest first (for tests and operators).
pub fn for_recipient(conn: &mut DbConn, recipient: &str) -> QueryResult<Vec<Message>> {
    outbox::table
        .filter(outbox::recipient.eq(recipient))
        .order(outbox::created_at.asc())
        .select(Message::as_select())
        .load(conn)
}

/// Whose mail is counted: one account's, or one event's.
#[derive(Clone, Copy, Debug)]
pub enum CausedBy<'a> {
    Sender(&'a str),
    Event(&'a str),
}

/// How many messages were caused by `by` since `since`, and when the oldest of them was queued.
pub fn caused(
    conn: &mut DbConn,
    by: CausedBy<'_>,
    since: NaiveDateTime,
) -> QueryResult<(i64, Option<NaiveDateTime>)> {
    let recent = outbox::table.filter(outbox::created_at.gt(since)).into_boxed();
    let mine = match by {
        CausedBy::Sender(id) => recent.filter(outbox::sender_id.eq(id)),
        CausedBy::Event(id) => recent.filter(outbox::event_id.eq(id)),
    };
    mine.select((diesel::dsl::count_star(), diesel::dsl::min(outbox::created_at))).first(conn)
}

/// Drops the unsent mail of `event_id` to `recipient` (a person who left the event).
pub fn drop_unsent(conn: &mut DbConn, event_id: &str, recipient: &str) -> QueryResult<usize> {
    diesel::delete(
        outbox::table.filter(
            outbox::event_id
                .eq(event_id)
                .and(outbox::recipient.eq(recipient))
                .and(outbox::sent_at.is_null()),
        ),
    )
    .execute(conn)
}

/// When the next unsent message is due, if any.
pub fn next_due(conn: &mut DbConn) -> QueryResult<Option<NaiveDateTime>> {
    outbox::table
        .filter(outbox::sent_at.is_null().and(outbox::dead_at.is_null()))
        .select(diesel::dsl::min(outbox::next_attempt_at))
        .first(conn)
}

pub fn insert_many(conn: &mut DbConn, messages: &[NewMessage<'_>]) -> QueryResult<()> {
    for chunk in messages.chunks(super::BATCH_ROWS) {
        super::insert_batch!(conn, outbox::table, chunk)?;
    }
    Ok(())
}

/// Drops every unsent message of `event_id` (the event is being deleted). Sent ones stay until
/// purged: the senders' mail quotas count them.
pub fn drop_unsent_of_event(conn: &mut DbConn, event_id: &str) -> QueryResult<usize> {
    diesel::delete(
        outbox::table.filter(outbox::event_id.eq(event_id).and(outbox::sent_at.is_null())),
    )
    .execute(conn)
}
