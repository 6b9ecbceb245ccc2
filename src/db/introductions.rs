//! Introductions, their emailed tokens, blocks: rows and queries (see `domain::introductions`).

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::DbConn;
use super::schema::{blocks, introduction_tokens, introductions};

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = introductions)]
pub struct Introduction {
    pub id: String,
    pub event_id: String,
    pub introducer_id: String,
    pub introducer_account_id: String,
    /// The lesser membership id of the pair.
    pub side_a: String,
    pub side_a_account_id: String,
    pub side_b: String,
    pub side_b_account_id: String,
    /// The introducer's note to side a (about side b), and to side b.
    pub note_a: String,
    pub note_b: String,
    /// `accepted` or `declined`, once that side answered.
    pub answer_a: Option<String>,
    pub answer_b: Option<String>,
    /// `pending`, `accepted`, `declined` or `expired`.
    pub state: String,
    pub created_at: NaiveDateTime,
    pub expires_at: NaiveDateTime,
    pub decided_at: Option<NaiveDateTime>,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = introduction_tokens)]
pub struct Token {
    pub token_hash: String,
    pub introduction_id: String,
    pub membership_id: String,
    pub expires_at: NaiveDateTime,
    pub used_at: Option<NaiveDateTime>,
}

pub fn insert(conn: &mut DbConn, row: &Introduction, tokens: &[Token]) -> QueryResult<()> {
    diesel::insert_into(introductions::table).values(row).execute(conn)?;
    for token in tokens {
        diesel::insert_into(introduction_tokens::table).values(token).execute(conn)?;
    }
    Ok(())
}

pub fn find(conn: &mut DbConn, id: &str) -> QueryResult<Option<Introduction>> {
    introductions::table.find(id).select(Introduction::as_select()).first(conn).optional()
}

/// Every introduction ever made of this pair in the event (`a` < `b`).
pub fn of_pair(
    conn: &mut DbConn,
    event_id: &str,
    a: &str,
    b: &str,
) -> QueryResult<Vec<Introduction>> {
    introductions::table
        .filter(introductions::event_id.eq(event_id))
        .filter(introductions::side_a.eq(a).and(introductions::side_b.eq(b)))
        .select(Introduction::as_select())
        .load(conn)
}

/// How many introductions the account made since `since`, and the oldest of them.
pub fn made_since(
    conn: &mut DbConn,
    account_id: &str,
    since: NaiveDateTime,
) -> QueryResult<(i64, Option<NaiveDateTime>)> {
    introductions::table
        .filter(introductions::introducer_account_id.eq(account_id))
        .filter(introductions::created_at.gt(since))
        .select((diesel::dsl::count_star(), diesel::dsl::min(introductions::created_at)))
        .first(conn)
}

pub fn token(conn: &mut DbConn, hash: &str) -> QueryResult<Option<Token>> {
    introduction_tokens::table.find(hash).select(Token::as_select()).first(conn).optional()
}

/// Marks the side's tokens of the introduction used.
pub fn use_tokens(
    conn: &mut DbConn,
    introduction_id: &str,
    membership_id: &str,
    now: NaiveDateTime,
) -> QueryResult<usize> {
    diesel::update(
        introduction_tokens::table
            .filter(introduction_tokens::introduction_id.eq(introduction_id))
            .filter(introduction_tokens::membership_id.eq(membership_id))
            .filter(introduction_tokens::used_at.is_null()),
    )
    .set(introduction_tokens::used_at.eq(Some(now)))
    .execute(conn)
}

/// Records one side's answer, if that side has not answered and the introduction is pending.
/// Gives back whether it was recorded (a concurrent answer of the same side loses).
pub fn answer(conn: &mut DbConn, id: &str, side_a: bool, answer: &str) -> QueryResult<bool> {
    let target = introductions::table
        .filter(introductions::id.eq(id))
        .filter(introductions::state.eq_any(["pending", "declined"]));
    let updated = if side_a {
        diesel::update(target.filter(introductions::answer_a.is_null()))
            .set(introductions::answer_a.eq(Some(answer)))
            .execute(conn)?
    } else {
        diesel::update(target.filter(introductions::answer_b.is_null()))
            .set(introductions::answer_b.eq(Some(answer)))
            .execute(conn)?
    };
    Ok(updated == 1)
}

pub fn decide(conn: &mut DbConn, id: &str, state: &str, now: NaiveDateTime) -> QueryResult<usize> {
    diesel::update(
        introductions::table
            .filter(introductions::id.eq(id))
            .filter(introductions::state.eq("pending")),
    )
    .set((introductions::state.eq(state), introductions::decided_at.eq(Some(now))))
    .execute(conn)
}

/// Pending introductions whose time ran out by `now`, up to `limit`.
pub fn expiring(conn: &mut DbConn, now: NaiveDateTime, limit: i64) -> QueryResult<Vec<String>> {
    introductions::table
        .filter(introductions::state.eq("pending"))
        .filter(introductions::expires_at.le(now))
        .order(introductions::expires_at.asc())
        .select(introductions::id)
        .limit(limit)
        .load(conn)
}

/// Expires these introductions and drops their tokens.
pub fn expire(conn: &mut DbConn, ids: &[String], now: NaiveDateTime) -> QueryResult<usize> {
    diesel::delete(
        introduction_tokens::table.filter(introduction_tokens::introduction_id.eq_any(ids)),
    )
    .execute(conn)?;
    diesel::update(
        introductions::table
            .filter(introductions::id.eq_any(ids))
            .filter(introductions::state.eq("pending")),
    )
    .set((introductions::state.eq("expired"), introductions::decided_at.eq(Some(now))))
    .execute(conn)
}

/// A page of the account's introductions (made, or of either side), newest first, before
/// `cursor` (an id).
pub fn page_of_account(
    conn: &mut DbConn,
    account_id: &str,
    cursor: Option<&str>,
    limit: i64,
) -> QueryResult<Vec<Introduction>> {
    // Three indexed reads merged, rather than one `OR` that no index serves.
    let mut found: Vec<Introduction> = Vec::new();
    for column in 0..3 {
        let mut query = introductions::table.select(Introduction::as_select()).into_boxed();
        query = match column {
            0 => query.filter(introductions::introducer_account_id.eq(account_id.to_owned())),
            1 => query.filter(introductions::side_a_account_id.eq(account_id.to_owned())),
            _ => query.filter(introductions::side_b_account_id.eq(account_id.to_owned())),
        };
        if let Some(cursor) = cursor {
            query = query.filter(introductions::id.lt(cursor.to_owned()));
        }
        found.extend(query.order(introductions::id.desc()).limit(limit).load(conn)?);
    }
    found.sort_by(|a, b| b.id.cmp(&a.id));
    found.dedup_by(|a, b| a.id == b.id);
    found.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
    Ok(found)
}

/// (made, accepted) introductions made by the account, across events.
pub fn counts_made(conn: &mut DbConn, account_id: &str) -> QueryResult<(i64, i64)> {
    let made = introductions::table
        .filter(introductions::introducer_account_id.eq(account_id))
        .count()
        .get_result(conn)?;
    let accepted = introductions::table
        .filter(introductions::introducer_account_id.eq(account_id))
        .filter(introductions::state.eq("accepted"))
        .count()
        .get_result(conn)?;
    Ok((made, accepted))
}

/// Introductions in which the account was one side, across events.
pub fn count_received(conn: &mut DbConn, account_id: &str) -> QueryResult<i64> {
    let a: i64 = introductions::table
        .filter(introductions::side_a_account_id.eq(account_id))
        .count()
        .get_result(conn)?;
    let b: i64 = introductions::table
        .filter(introductions::side_b_account_id.eq(account_id))
        .count()
        .get_result(conn)?;
    Ok(a + b)
}

/// (made, accepted) introductions in the event.
pub fn counts_of_event(conn: &mut DbConn, event_id: &str) -> QueryResult<(i64, i64)> {
    let made = introductions::table
        .filter(introductions::event_id.eq(event_id))
        .count()
        .get_result(conn)?;
    let accepted = introductions::table
        .filter(introductions::event_id.eq(event_id))
        .filter(introductions::state.eq("accepted"))
        .count()
        .get_result(conn)?;
    Ok((made, accepted))
}

/// Whether either of the two blocked the other.
pub fn blocked_between(conn: &mut DbConn, a: &str, b: &str) -> QueryResult<bool> {
    let found: i64 = blocks::table
        .filter(
            (blocks::blocker_id.eq(a).and(blocks::blocked_id.eq(b)))
                .or(blocks::blocker_id.eq(b).and(blocks::blocked_id.eq(a))),
        )
        .count()
        .get_result(conn)?;
    Ok(found > 0)
}

pub fn block(
    conn: &mut DbConn,
    event_id: &str,
    blocker: &str,
    blocked: &str,
    now: NaiveDateTime,
) -> QueryResult<()> {
    if blocked_by(conn, blocker, blocked)? {
        return Ok(());
    }
    diesel::insert_into(blocks::table)
        .values((
            blocks::blocker_id.eq(blocker),
            blocks::blocked_id.eq(blocked),
            blocks::event_id.eq(event_id),
            blocks::created_at.eq(now),
        ))
        .execute(conn)
        .map(drop)
}

fn blocked_by(conn: &mut DbConn, blocker: &str, blocked: &str) -> QueryResult<bool> {
    let found: i64 = blocks::table
        .filter(blocks::blocker_id.eq(blocker).and(blocks::blocked_id.eq(blocked)))
        .count()
        .get_result(conn)?;
    Ok(found > 0)
}

pub fn unblock(conn: &mut DbConn, blocker: &str, blocked: &str) -> QueryResult<usize> {
    diesel::delete(blocks::table.filter(blocks::blocker_id.eq(blocker)))
        .filter(blocks::blocked_id.eq(blocked))
        .execute(conn)
}

/// The people the member blocked or was blocked by.
pub fn blocked_either_way(conn: &mut DbConn, member: &str) -> QueryResult<Vec<String>> {
    let mut ids: Vec<String> = blocks::table
        .filter(blocks::blocker_id.eq(member))
        .select(blocks::blocked_id)
        .load(conn)?;
    ids.extend(
        blocks::table
            .filter(blocks::blocked_id.eq(member))
            .select(blocks::blocker_id)
            .load::<String>(conn)?,
    );
    Ok(ids)
}

/// (membership id, topic slug, kind) of every choice of one of these topics in the event: read
/// from the index `membership_topics_topic_choice` alone.
pub fn choosers_of(
    conn: &mut DbConn,
    event_id: &str,
    slugs: &[String],
) -> QueryResult<Vec<(String, String, String)>> {
    use super::schema::{membership_topics, topics};
    membership_topics::table
        .inner_join(topics::table)
        .filter(topics::event_id.eq(event_id))
        .filter(topics::slug.eq_any(slugs))
        .select((membership_topics::membership_id, topics::slug, membership_topics::kind))
        .load(conn)
}

/// The people the member took off their people-to-meet list.
pub fn dismissed_by(conn: &mut DbConn, member: &str) -> QueryResult<Vec<String>> {
    use super::schema::people_dismissals as d;
    d::table.filter(d::membership_id.eq(member)).select(d::dismissed_id).load(conn)
}

pub fn dismiss(
    conn: &mut DbConn,
    event_id: &str,
    member: &str,
    dismissed: &str,
    now: NaiveDateTime,
) -> QueryResult<()> {
    use super::schema::people_dismissals as d;
    let found: i64 = d::table
        .filter(d::membership_id.eq(member).and(d::dismissed_id.eq(dismissed)))
        .count()
        .get_result(conn)?;
    if found > 0 {
        return Ok(());
    }
    diesel::insert_into(d::table)
        .values((
            d::membership_id.eq(member),
            d::dismissed_id.eq(dismissed),
            d::event_id.eq(event_id),
            d::created_at.eq(now),
        ))
        .execute(conn)
        .map(drop)
}

/// The live connections among `people` (owner, other), both in the set.
pub fn connected_among(
    conn: &mut DbConn,
    event_id: &str,
    people: &[String],
) -> QueryResult<Vec<(String, String)>> {
    use super::schema::connections as c;
    let mut found = Vec::new();
    for chunk in people.chunks(super::BATCH_ROWS) {
        found.extend(
            c::table
                .filter(c::event_id.eq(event_id))
                .filter(c::owner_id.eq_any(chunk))
                .filter(c::other_id.eq_any(people))
                .filter(c::deleted_at.is_null())
                .select((c::owner_id, c::other_id))
                .load::<(String, String)>(conn)?,
        );
    }
    Ok(found)
}

/// The pairs (a, b) among `people` that were introduced and not expired (pending, accepted or
/// declined): never suggested again.
pub fn introduced_among(
    conn: &mut DbConn,
    event_id: &str,
    people: &[String],
) -> QueryResult<Vec<(String, String)>> {
    let mut found = Vec::new();
    for chunk in people.chunks(super::BATCH_ROWS) {
        found.extend(
            introductions::table
                .filter(introductions::event_id.eq(event_id))
                .filter(introductions::side_a.eq_any(chunk))
                .filter(introductions::state.ne("expired"))
                .select((introductions::side_a, introductions::side_b))
                .load::<(String, String)>(conn)?,
        );
    }
    Ok(found)
}

/// Every block among the event's members that involves one of `people`: (blocker, blocked).
pub fn blocks_of(conn: &mut DbConn, people: &[String]) -> QueryResult<Vec<(String, String)>> {
    let mut found = Vec::new();
    for chunk in people.chunks(super::BATCH_ROWS) {
        found.extend(
            blocks::table
                .filter(blocks::blocker_id.eq_any(chunk))
                .select((blocks::blocker_id, blocks::blocked_id))
                .load::<(String, String)>(conn)?,
        );
        found.extend(
            blocks::table
                .filter(blocks::blocked_id.eq_any(chunk))
                .select((blocks::blocker_id, blocks::blocked_id))
                .load::<(String, String)>(conn)?,
        );
    }
    Ok(found)
}
