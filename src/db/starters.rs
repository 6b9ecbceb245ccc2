//! Conversation starters: what each person was shown about whom (and their feedback), counters per
//! prompt and topic, and organizers' settings. See the migration `starters`.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::DbConn;
use super::attendees::{Member, Membership};
use super::schema::{
    accounts, connections, events, follow_ups, membership_topics, memberships, prompt_counts,
    starter_settings, starter_shows, topics,
};
use super::topics::Topic;

/// A starter a viewer was shown about another person; its id is the `starter_id`.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = starter_shows)]
pub struct Show {
    pub id: String,
    pub event_id: String,
    pub viewer_id: String,
    pub other_id: String,
    pub prompt_id: String,
    /// '' for none.
    pub topic_slug: String,
    pub stage: String,
    pub shown_at: NaiveDateTime,
    pub used_at: Option<NaiveDateTime>,
    pub helpful: Option<bool>,
    pub feedback_at: Option<NaiveDateTime>,
}

/// Feedback on a show; every field is written (`None` clears).
#[derive(Debug, Clone, AsChangeset)]
#[diesel(table_name = starter_shows, treat_none_as_null = true)]
pub struct Feedback {
    pub used_at: Option<NaiveDateTime>,
    pub helpful: Option<bool>,
    pub feedback_at: Option<NaiveDateTime>,
}

/// Counter changes for one prompt and topic (added, may be negative).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Counts {
    pub shown: i64,
    pub used: i64,
    pub helpful: i64,
    pub not_helpful: i64,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = prompt_counts)]
pub struct CountRow {
    pub event_id: String,
    pub prompt_id: String,
    pub topic_slug: String,
    pub shown: i64,
    pub used: i64,
    pub helpful: i64,
    pub not_helpful: i64,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = starter_settings)]
pub struct SettingsRow {
    pub event_id: String,
    pub builtin_prompts: bool,
    /// A JSON array of built-in prompt ids.
    pub disabled_prompts: String,
    pub updated_at: NaiveDateTime,
}

/// What the viewer was shown about the other person.
pub fn shows_between(conn: &mut DbConn, viewer_id: &str, other_id: &str) -> QueryResult<Vec<Show>> {
    starter_shows::table
        .filter(starter_shows::viewer_id.eq(viewer_id).and(starter_shows::other_id.eq(other_id)))
        .select(Show::as_select())
        .load(conn)
}

/// One of the viewer's shows in the event.
pub fn find_show(
    conn: &mut DbConn,
    event_id: &str,
    viewer_id: &str,
    id: &str,
) -> QueryResult<Option<Show>> {
    starter_shows::table
        .filter(starter_shows::id.eq(id))
        .filter(starter_shows::viewer_id.eq(viewer_id).and(starter_shows::event_id.eq(event_id)))
        .select(Show::as_select())
        .first(conn)
        .optional()
}

/// On PostgreSQL, locks a shown starter's row until the transaction ends, so that two feedbacks
/// on it (a double tap) apply one after the other and move the counters once. SQLite has one
/// writer at a time.
pub fn lock_show(conn: &mut DbConn, id: &str) -> QueryResult<()> {
    if let DbConn::Postgres(pg) = conn {
        starter_shows::table
            .filter(starter_shows::id.eq(id))
            .select(starter_shows::id)
            .for_update()
            .load::<String>(pg)?;
    }
    Ok(())
}

/// Inserts the shows that do not exist yet (by id); gives back the ids it inserted.
pub fn insert_shows(conn: &mut DbConn, shows: &[Show]) -> QueryResult<Vec<String>> {
    if shows.is_empty() {
        return Ok(Vec::new());
    }
    match conn {
        DbConn::Postgres(pg) => diesel::insert_into(starter_shows::table)
            .values(shows)
            .on_conflict_do_nothing()
            .returning(starter_shows::id)
            .get_results(pg),
        // SQLite cannot combine a multi-row insert with ON CONFLICT in diesel; row by row is
        // cheap inside the transaction.
        DbConn::Sqlite(lite) => {
            let mut inserted = Vec::new();
            for show in shows {
                let rows = diesel::insert_into(starter_shows::table)
                    .values(show)
                    .on_conflict_do_nothing()
                    .execute(lite)?;
                if rows > 0 {
                    inserted.push(show.id.clone());
                }
            }
            Ok(inserted)
        }
    }
}

/// What the function `starter_shows_record` (migration `starter_shows_recorded_in_one_call`)
/// gives back.
#[derive(QueryableByName)]
struct Recorded {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    kept: i64,
}

/// PostgreSQL: inserts one viewer's shows of one other person that do not exist yet and adds the
/// new ones to their counters, in one call that commits by itself (all or nothing, without
/// waiting for the disk: see the migration): gives back how many shows the viewer has now.
pub fn record_shows(pg: &mut PgConnection, shows: &[Show]) -> QueryResult<i64> {
    use diesel::sql_types::{Array, Text, Timestamp};
    let Some(first) = shows.first() else { return Ok(0) };
    let column = |get: fn(&Show) -> &String| shows.iter().map(get).cloned().collect::<Vec<_>>();
    let rows: Vec<Recorded> = diesel::sql_query(
        "SELECT o_kept AS kept FROM starter_shows_record($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind::<Text, _>(&first.event_id)
    .bind::<Text, _>(&first.viewer_id)
    .bind::<Text, _>(&first.other_id)
    .bind::<Timestamp, _>(first.shown_at)
    .bind::<Array<Text>, _>(column(|s| &s.id))
    .bind::<Array<Text>, _>(column(|s| &s.prompt_id))
    .bind::<Array<Text>, _>(column(|s| &s.topic_slug))
    .bind::<Array<Text>, _>(column(|s| &s.stage))
    .load(pg)?;
    Ok(rows.first().map_or(0, |r| r.kept))
}

pub fn count_shows(conn: &mut DbConn, viewer_id: &str) -> QueryResult<i64> {
    starter_shows::table.filter(starter_shows::viewer_id.eq(viewer_id)).count().get_result(conn)
}

/// Deletes the viewer's `n` oldest shows, those without feedback first; never one that a
/// follow-up names as its origin (the prompt statistics count it).
pub fn prune(conn: &mut DbConn, viewer_id: &str, n: i64) -> QueryResult<usize> {
    let mut deleted = 0;
    for with_feedback in [false, true] {
        let left = n - i64::try_from(deleted).unwrap_or(i64::MAX);
        if left <= 0 {
            break;
        }
        let origins = follow_ups::table
            .filter(follow_ups::origin_starter_id.eq(starter_shows::id.nullable()));
        let query = starter_shows::table
            .filter(starter_shows::viewer_id.eq(viewer_id))
            .filter(diesel::dsl::not(diesel::dsl::exists(origins)))
            .order((starter_shows::shown_at.asc(), starter_shows::id.asc()))
            .select(starter_shows::id)
            .limit(left)
            .into_boxed();
        let query =
            if with_feedback { query } else { query.filter(starter_shows::feedback_at.is_null()) };
        let ids: Vec<String> = query.load(conn)?;
        deleted += diesel::delete(starter_shows::table.filter(starter_shows::id.eq_any(&ids)))
            .execute(conn)?;
    }
    Ok(deleted)
}

pub fn set_feedback(conn: &mut DbConn, id: &str, feedback: &Feedback) -> QueryResult<usize> {
    diesel::update(starter_shows::table.find(id)).set(feedback).execute(conn)
}

/// Adds each row's counts to its prompt and topic's counters (made at zero when missing), in one
/// statement on PostgreSQL. The rows are taken in key order, as every writer takes them, so that
/// two requests bumping the same counters wait for each other instead of deadlocking.
pub fn bump_many(conn: &mut DbConn, rows: &mut [CountRow]) -> QueryResult<()> {
    use diesel::upsert::excluded;
    rows.sort_by(|a, b| {
        (&a.event_id, &a.prompt_id, &a.topic_slug).cmp(&(&b.event_id, &b.prompt_id, &b.topic_slug))
    });
    let add = (
        prompt_counts::shown.eq(prompt_counts::shown + excluded(prompt_counts::shown)),
        prompt_counts::used.eq(prompt_counts::used + excluded(prompt_counts::used)),
        prompt_counts::helpful.eq(prompt_counts::helpful + excluded(prompt_counts::helpful)),
        prompt_counts::not_helpful
            .eq(prompt_counts::not_helpful + excluded(prompt_counts::not_helpful)),
    );
    let key = (prompt_counts::event_id, prompt_counts::prompt_id, prompt_counts::topic_slug);
    match conn {
        DbConn::Postgres(pg) => {
            diesel::insert_into(prompt_counts::table)
                .values(&*rows)
                .on_conflict(key)
                .do_update()
                .set(add)
                .execute(pg)?;
        }
        DbConn::Sqlite(lite) => {
            for row in rows.iter() {
                diesel::insert_into(prompt_counts::table)
                    .values(row)
                    .on_conflict(key)
                    .do_update()
                    .set(add)
                    .execute(lite)?;
            }
        }
    }
    Ok(())
}

/// Adds `delta` to one prompt and topic's counters.
pub fn bump(
    conn: &mut DbConn,
    event_id: &str,
    prompt_id: &str,
    topic_slug: &str,
    delta: &Counts,
) -> QueryResult<()> {
    let row = CountRow {
        event_id: event_id.to_owned(),
        prompt_id: prompt_id.to_owned(),
        topic_slug: topic_slug.to_owned(),
        shown: delta.shown,
        used: delta.used,
        helpful: delta.helpful,
        not_helpful: delta.not_helpful,
    };
    bump_many(conn, &mut [row])
}

/// How many connections got a follow-up done from a starter of the event, by the starter's
/// prompt (`by_topic` false) or topic ('' for none): (prompt id or topic slug, connections).
/// Counts each connection once per group, however many of its follow-ups were done.
pub fn followed_up(
    conn: &mut DbConn,
    event_id: &str,
    by_topic: bool,
) -> QueryResult<Vec<(String, i64)>> {
    let done = follow_ups::table
        .inner_join(
            starter_shows::table.on(follow_ups::origin_starter_id.eq(starter_shows::id.nullable())),
        )
        .filter(starter_shows::event_id.eq(event_id))
        .filter(follow_ups::state.eq("done"));
    let connections = diesel::dsl::count(follow_ups::connection_id).aggregate_distinct();
    if by_topic {
        done.group_by(starter_shows::topic_slug)
            .select((starter_shows::topic_slug, connections))
            .load(conn)
    } else {
        done.group_by(starter_shows::prompt_id)
            .select((starter_shows::prompt_id, connections))
            .load(conn)
    }
}

/// Every counter row of the event.
pub fn counts(conn: &mut DbConn, event_id: &str) -> QueryResult<Vec<CountRow>> {
    prompt_counts::table
        .filter(prompt_counts::event_id.eq(event_id))
        .select(CountRow::as_select())
        .load(conn)
}

pub fn settings(conn: &mut DbConn, event_id: &str) -> QueryResult<Option<SettingsRow>> {
    starter_settings::table.find(event_id).select(SettingsRow::as_select()).first(conn).optional()
}

pub fn save_settings(conn: &mut DbConn, row: &SettingsRow) -> QueryResult<()> {
    match conn {
        DbConn::Postgres(pg) => diesel::insert_into(starter_settings::table)
            .values(row)
            .on_conflict(starter_settings::event_id)
            .do_update()
            .set(row)
            .execute(pg)?,
        DbConn::Sqlite(lite) => diesel::insert_into(starter_settings::table)
            .values(row)
            .on_conflict(starter_settings::event_id)
            .do_update()
            .set(row)
            .execute(lite)?,
    };
    Ok(())
}

/// The viewer's membership of the event with the event's name and its starter settings (none when
/// never set), in one read: `None` when the account is not a member.
pub fn viewer(
    conn: &mut DbConn,
    event_id: &str,
    account_id: &str,
) -> QueryResult<Option<(Member, String, Option<SettingsRow>)>> {
    memberships::table
        .inner_join(accounts::table)
        .inner_join(events::table)
        .left_join(starter_settings::table.on(starter_settings::event_id.eq(memberships::event_id)))
        .filter(memberships::event_id.eq(event_id).and(memberships::account_id.eq(account_id)))
        .select((
            Membership::as_select(),
            accounts::email,
            accounts::display_name,
            events::name,
            // In `SettingsRow`'s field order (diesel cannot select an optional `as_select()`
            // beside the others here).
            starter_settings::all_columns.nullable(),
        ))
        .first::<(Membership, String, Option<String>, String, Option<SettingsRow>)>(conn)
        .optional()
        .map(|found| {
            found.map(|(m, email, name, event, settings)| ((m, email, name), event, settings))
        })
}

/// The topic choices of two people, each as (membership id, kind, the whole topic), in the
/// event's order of topics: both profiles and the topics' prompts in one read.
pub fn choices_of_pair(
    conn: &mut DbConn,
    (a, b): (&str, &str),
) -> QueryResult<Vec<(String, String, Topic)>> {
    membership_topics::table
        .inner_join(topics::table)
        .filter(membership_topics::membership_id.eq(a).or(membership_topics::membership_id.eq(b)))
        .order((topics::position.asc(), topics::slug.asc()))
        .select((membership_topics::membership_id, membership_topics::kind, Topic::as_select()))
        .load(conn)
}

/// Whether `owner_id` has a live connection with `other_id` in the event.
pub fn connected(
    conn: &mut DbConn,
    event_id: &str,
    owner_id: &str,
    other_id: &str,
) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(
        connections::table
            .filter(connections::event_id.eq(event_id))
            .filter(connections::owner_id.eq(owner_id).and(connections::other_id.eq(other_id)))
            .filter(connections::deleted_at.is_null()),
    ))
    .get_result(conn)
}
