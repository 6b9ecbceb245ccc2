//! Events and the memberships that give people a role in them.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::DbConn;
use super::schema::{events, memberships};

#[derive(Debug, Clone, Queryable, QueryableByName, Selectable)]
#[diesel(table_name = events)]
pub struct Event {
    pub id: String,
    pub name: String,
    pub slug: String,
    pub starts_at: NaiveDateTime,
    pub ends_at: NaiveDateTime,
    pub time_zone: String,
    pub follow_up_window_days: i32,
    pub created_by: String,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub join_code: Option<String>,
    /// The post-event queue: the last connection id done so far, and when it was finished.
    pub follow_ups_cursor: Option<String>,
    pub follow_ups_generated_at: Option<NaiveDateTime>,
}

#[derive(Insertable)]
#[diesel(table_name = events)]
pub struct NewEvent<'a> {
    pub id: &'a str,
    pub name: &'a str,
    pub slug: &'a str,
    pub starts_at: NaiveDateTime,
    pub ends_at: NaiveDateTime,
    pub time_zone: &'a str,
    pub follow_up_window_days: i32,
    pub created_by: &'a str,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

/// Changes to an event; a `None` field stays as it is.
#[derive(AsChangeset, Default, Debug, Clone)]
#[diesel(table_name = events)]
pub struct EventChanges {
    pub name: Option<String>,
    pub slug: Option<String>,
    pub starts_at: Option<NaiveDateTime>,
    pub ends_at: Option<NaiveDateTime>,
    pub time_zone: Option<String>,
    pub follow_up_window_days: Option<i32>,
    pub updated_at: Option<NaiveDateTime>,
}

pub fn insert(conn: &mut DbConn, event: &NewEvent<'_>) -> QueryResult<()> {
    diesel::insert_into(events::table).values(event).execute(conn).map(drop)
}

/// On PostgreSQL, locks the event's row until the transaction ends, so that writes that add
/// members or change topics of one event (imports, joins, co-organizers, topic seeding) run one
/// after the other, each seeing what the one before committed. `FOR NO KEY UPDATE` does not block
/// the rows that merely reference the event (scans, connections). SQLite has one writer at a time.
pub fn lock(conn: &mut DbConn, event_id: &str) -> QueryResult<()> {
    if let DbConn::Postgres(pg) = conn {
        events::table.find(event_id).select(events::id).for_no_key_update().load::<String>(pg)?;
    }
    Ok(())
}

pub fn slug_taken(conn: &mut DbConn, slug: &str, except_event: Option<&str>) -> QueryResult<bool> {
    let mut query = events::table.filter(events::slug.eq(slug)).select(events::id).into_boxed();
    if let Some(id) = except_event {
        query = query.filter(events::id.ne(id));
    }
    query.first::<String>(conn).optional().map(|found| found.is_some())
}

/// How many events `account_id` created since `since`, and when the oldest of them was.
pub fn created_by_since(
    conn: &mut DbConn,
    account_id: &str,
    since: NaiveDateTime,
) -> QueryResult<(i64, Option<NaiveDateTime>)> {
    events::table
        .filter(events::created_by.eq(account_id).and(events::created_at.gt(since)))
        .select((diesel::dsl::count_star(), diesel::dsl::min(events::created_at)))
        .first(conn)
}

/// The event with the account's membership in it (id, role), or `None` when not a member.
pub fn find_for_member(
    conn: &mut DbConn,
    event_id: &str,
    account_id: &str,
) -> QueryResult<Option<(Event, String, String)>> {
    events::table
        .inner_join(memberships::table)
        .filter(events::id.eq(event_id).and(memberships::account_id.eq(account_id)))
        .select((Event::as_select(), memberships::id, memberships::role))
        // One row at most: a membership is unique per event and account.
        .get_result(conn)
        .optional()
}

/// The account's events with its role in each, by id (creation order), after `cursor`.
pub fn list_for_member(
    conn: &mut DbConn,
    account_id: &str,
    after_id: Option<&str>,
    limit: i64,
) -> QueryResult<Vec<(Event, String)>> {
    let mut query = events::table
        .inner_join(memberships::table)
        .filter(memberships::account_id.eq(account_id))
        .select((Event::as_select(), memberships::role))
        .order(events::id.asc())
        .limit(limit)
        .into_boxed();
    if let Some(after) = after_id {
        query = query.filter(events::id.gt(after));
    }
    query.load(conn)
}

pub fn find(conn: &mut DbConn, event_id: &str) -> QueryResult<Option<Event>> {
    events::table.find(event_id).select(Event::as_select()).first(conn).optional()
}

pub fn set_join_code(conn: &mut DbConn, event_id: &str, code: Option<&str>) -> QueryResult<usize> {
    diesel::update(events::table.find(event_id)).set(events::join_code.eq(code)).execute(conn)
}

pub fn update(conn: &mut DbConn, event_id: &str, changes: &EventChanges) -> QueryResult<usize> {
    diesel::update(events::table.find(event_id)).set(changes).execute(conn)
}

/// Events created by `account_id`, each with another organizer who could take it over, if any.
pub fn created_by(
    conn: &mut DbConn,
    account_id: &str,
) -> QueryResult<Vec<(String, Option<String>)>> {
    let created: Vec<String> =
        events::table.filter(events::created_by.eq(account_id)).select(events::id).load(conn)?;
    let mut handover = Vec::with_capacity(created.len());
    for event_id in created {
        let successor = memberships::table
            .filter(memberships::event_id.eq(&event_id))
            .filter(memberships::role.eq("organizer"))
            .filter(memberships::account_id.ne(account_id))
            .select(memberships::account_id)
            .first::<String>(conn)
            .optional()?;
        handover.push((event_id, successor));
    }
    Ok(handover)
}

/// The accounts of the event's organizers.
pub fn organizers(conn: &mut DbConn, event_id: &str) -> QueryResult<Vec<String>> {
    memberships::table
        .filter(memberships::event_id.eq(event_id).and(memberships::role.eq("organizer")))
        .select(memberships::account_id)
        .load(conn)
}

pub fn set_creator(conn: &mut DbConn, event_id: &str, account_id: &str) -> QueryResult<usize> {
    diesel::update(events::table.find(event_id))
        .set(events::created_by.eq(account_id))
        .execute(conn)
}

/// On PostgreSQL, locks the event's row against every write that references it (a scan, a join,
/// an import checks its foreign key with a share lock) until the transaction ends: taken before
/// deleting the event, so that nothing is added to it meanwhile.
pub fn lock_for_delete(conn: &mut DbConn, event_id: &str) -> QueryResult<()> {
    if let DbConn::Postgres(pg) = conn {
        events::table.find(event_id).select(events::id).for_update().load::<String>(pg)?;
    }
    Ok(())
}

/// Deletes the event; everything of it goes with it (foreign keys cascade).
pub fn delete(conn: &mut DbConn, event_id: &str) -> QueryResult<usize> {
    diesel::delete(events::table.find(event_id)).execute(conn)
}
