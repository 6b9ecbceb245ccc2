//! Interest topics seeded by an event's organizers, and the topics attendees pick.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::DbConn;
use super::schema::{membership_topics, topics};

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = topics)]
pub struct Topic {
    pub id: String,
    pub event_id: String,
    pub slug: String,
    pub name: String,
    pub description: String,
    /// A JSON array of prompt strings.
    pub prompts: String,
    pub position: i32,
    pub archived_at: Option<NaiveDateTime>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

#[derive(Insertable, AsChangeset)]
#[diesel(table_name = topics)]
pub struct TopicRow<'a> {
    pub id: &'a str,
    pub event_id: &'a str,
    pub slug: &'a str,
    pub name: &'a str,
    pub description: &'a str,
    pub prompts: &'a str,
    pub position: i32,
    #[diesel(treat_none_as_null = true)]
    pub archived_at: Option<NaiveDateTime>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

/// A topic chosen by a membership: `can_talk_about` or `want_to_learn`.
#[derive(Insertable, Clone, Debug)]
#[diesel(table_name = membership_topics)]
pub struct Choice {
    pub membership_id: String,
    pub topic_id: String,
    pub event_id: String,
    pub kind: &'static str,
}

/// The event's topics in their seeded order, archived ones too.
pub fn list(conn: &mut DbConn, event_id: &str) -> QueryResult<Vec<Topic>> {
    topics::table
        .filter(topics::event_id.eq(event_id))
        .order((topics::position.asc(), topics::slug.asc()))
        .select(Topic::as_select())
        .load(conn)
}

pub fn insert(conn: &mut DbConn, row: &TopicRow<'_>) -> QueryResult<()> {
    diesel::insert_into(topics::table).values(row).execute(conn).map(drop)
}

pub fn update(conn: &mut DbConn, row: &TopicRow<'_>) -> QueryResult<usize> {
    diesel::update(topics::table.find(row.id)).set(row).execute(conn)
}

pub fn delete(conn: &mut DbConn, ids: &[String]) -> QueryResult<usize> {
    diesel::delete(topics::table.filter(topics::id.eq_any(ids))).execute(conn)
}

/// On PostgreSQL, locks these topics until the transaction ends; a choice of one of them being
/// inserted meanwhile waits (its foreign key check), or this waits for the choice to commit.
pub fn lock(conn: &mut DbConn, ids: &[String]) -> QueryResult<()> {
    if let DbConn::Postgres(pg) = conn {
        for chunk in ids.chunks(super::BATCH_ROWS) {
            topics::table
                .filter(topics::id.eq_any(chunk))
                .select(topics::id)
                .for_update()
                .load::<String>(pg)?;
        }
    }
    Ok(())
}

/// Ids of the event's topics that at least one person chose.
pub fn chosen_ids(conn: &mut DbConn, event_id: &str) -> QueryResult<Vec<String>> {
    membership_topics::table
        .filter(membership_topics::event_id.eq(event_id))
        .select(membership_topics::topic_id)
        .distinct()
        .load(conn)
}

/// (membership id, topic slug, kind) for each choice of the given memberships.
pub fn choices_of(
    conn: &mut DbConn,
    membership_ids: &[String],
) -> QueryResult<Vec<(String, String, String)>> {
    let mut found = Vec::new();
    for chunk in membership_ids.chunks(super::BATCH_ROWS) {
        let query = membership_topics::table
            .inner_join(topics::table)
            .order((topics::position.asc(), topics::slug.asc()))
            .select((membership_topics::membership_id, topics::slug, membership_topics::kind))
            .into_boxed();
        found.extend(
            match chunk {
                // One person (a scan's answer): `=` keeps the statement cacheable.
                [one] => query.filter(membership_topics::membership_id.eq(one)),
                _ => query.filter(membership_topics::membership_id.eq_any(chunk)),
            }
            .load::<(String, String, String)>(conn)?,
        );
    }
    Ok(found)
}

/// Replaces the `kind` choices of each membership in `membership_ids` with `choices`.
pub fn replace_choices(
    conn: &mut DbConn,
    membership_ids: &[String],
    kind: &str,
    choices: &[Choice],
) -> QueryResult<()> {
    for chunk in membership_ids.chunks(super::BATCH_ROWS) {
        diesel::delete(
            membership_topics::table
                .filter(membership_topics::membership_id.eq_any(chunk))
                .filter(membership_topics::kind.eq(kind)),
        )
        .execute(conn)?;
    }
    for chunk in choices.chunks(super::BATCH_ROWS) {
        super::insert_batch!(conn, membership_topics::table, chunk)?;
    }
    Ok(())
}

/// For each chosen topic of the event: (topic id, kind, how many people chose it so).
pub fn choice_counts(conn: &mut DbConn, event_id: &str) -> QueryResult<Vec<(String, String, i64)>> {
    membership_topics::table
        .filter(membership_topics::event_id.eq(event_id))
        .group_by((membership_topics::topic_id, membership_topics::kind))
        .select((membership_topics::topic_id, membership_topics::kind, diesel::dsl::count_star()))
        .load(conn)
}

/// (membership id, topic slug, topic name) of each choice of these memberships, either kind.
pub fn named_choices_of(
    conn: &mut DbConn,
    membership_ids: &[String],
) -> QueryResult<Vec<(String, String, String)>> {
    let mut found = Vec::new();
    for chunk in membership_ids.chunks(super::BATCH_ROWS) {
        found.extend(
            membership_topics::table
                .inner_join(topics::table)
                .filter(membership_topics::membership_id.eq_any(chunk))
                .order((topics::position.asc(), topics::slug.asc()))
                .select((membership_topics::membership_id, topics::slug, topics::name))
                .load::<(String, String, String)>(conn)?,
        );
    }
    Ok(found)
}
