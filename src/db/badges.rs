//! Badges: one working code per membership; rotated codes stay, revoked.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::DbConn;
use super::schema::badges;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = badges)]
pub struct Badge {
    pub id: String,
    pub event_id: String,
    pub membership_id: String,
    pub code: String,
    pub created_at: NaiveDateTime,
    pub revoked_at: Option<NaiveDateTime>,
}

#[derive(Insertable)]
#[diesel(table_name = badges)]
pub struct NewBadge {
    pub id: String,
    pub event_id: String,
    pub membership_id: String,
    pub code: String,
    pub created_at: NaiveDateTime,
}

pub fn insert(conn: &mut DbConn, badges: &[NewBadge]) -> QueryResult<()> {
    for chunk in badges.chunks(super::BATCH_ROWS) {
        super::insert_batch!(conn, badges::table, chunk)?;
    }
    Ok(())
}

/// The working badge of a membership.
pub fn active(conn: &mut DbConn, membership_id: &str) -> QueryResult<Option<Badge>> {
    badges::table
        .filter(badges::membership_id.eq(membership_id).and(badges::revoked_at.is_null()))
        .select(Badge::as_select())
        .first(conn)
        .optional()
}

/// The working badges of several memberships of one event.
pub fn active_for(
    conn: &mut DbConn,
    event_id: &str,
    membership_ids: &[String],
) -> QueryResult<Vec<Badge>> {
    let mut found = Vec::with_capacity(membership_ids.len());
    for chunk in membership_ids.chunks(super::BATCH_ROWS) {
        found.extend(
            badges::table
                .filter(badges::event_id.eq(event_id))
                .filter(badges::membership_id.eq_any(chunk))
                .filter(badges::revoked_at.is_null())
                .select(Badge::as_select())
                .load(conn)?,
        );
    }
    Ok(found)
}

pub fn revoke_active(
    conn: &mut DbConn,
    membership_id: &str,
    now: NaiveDateTime,
) -> QueryResult<usize> {
    diesel::update(
        badges::table
            .filter(badges::membership_id.eq(membership_id).and(badges::revoked_at.is_null())),
    )
    .set(badges::revoked_at.eq(now))
    .execute(conn)
}

pub fn count_revoked(conn: &mut DbConn, event_id: &str) -> QueryResult<i64> {
    badges::table
        .filter(badges::event_id.eq(event_id).and(badges::revoked_at.is_not_null()))
        .count()
        .get_result(conn)
}
