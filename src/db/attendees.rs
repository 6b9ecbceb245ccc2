//! Memberships seen as event profiles: what a person shows of themselves in one event.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::DbConn;
use super::schema::{accounts, membership_topics, memberships};

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = memberships)]
pub struct Membership {
    pub id: String,
    pub event_id: String,
    pub account_id: String,
    pub role: String,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub name: Option<String>,
    pub company: Option<String>,
    pub headline: Option<String>,
    pub bio: Option<String>,
    pub phone: Option<String>,
    /// A JSON array of `{label, url}` objects.
    pub links: String,
    pub in_directory: bool,
    pub share_email: bool,
    pub share_phone: bool,
    pub share_company: bool,
    pub share_headline: bool,
    pub share_bio: bool,
    pub share_links: bool,
    pub invited_at: Option<NaiveDateTime>,
    /// When the person first set what they share; until then only name, company and headline
    /// are shared, whatever the switches say (see `domain::attendees::Profile::shared`).
    pub sharing_confirmed_at: Option<NaiveDateTime>,
    /// Whether others may introduce this person (see `domain::introductions`).
    pub open_to_introductions: bool,
}

/// A membership with its account's email and display name.
pub type Member = (Membership, String, Option<String>);

#[derive(Insertable, Clone)]
#[diesel(table_name = memberships)]
pub struct NewMember {
    pub id: String,
    pub event_id: String,
    pub account_id: String,
    pub role: &'static str,
    pub name: Option<String>,
    pub company: Option<String>,
    pub headline: Option<String>,
    pub invited_at: Option<NaiveDateTime>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

/// Changes to an event profile; `None` leaves a field, `Some(None)` clears it.
#[derive(AsChangeset, Default, Debug, Clone)]
#[diesel(table_name = memberships)]
pub struct ProfileChanges {
    pub role: Option<&'static str>,
    pub name: Option<Option<String>>,
    pub company: Option<Option<String>>,
    pub headline: Option<Option<String>>,
    pub bio: Option<Option<String>>,
    pub phone: Option<Option<String>>,
    pub links: Option<String>,
    pub in_directory: Option<bool>,
    pub open_to_introductions: Option<bool>,
    pub share_email: Option<bool>,
    pub share_phone: Option<bool>,
    pub share_company: Option<bool>,
    pub share_headline: Option<bool>,
    pub share_bio: Option<bool>,
    pub share_links: Option<bool>,
    pub sharing_confirmed_at: Option<NaiveDateTime>,
    pub updated_at: Option<NaiveDateTime>,
}

impl ProfileChanges {
    /// Whether the changes touch nothing but `updated_at`.
    pub fn is_empty(&self) -> bool {
        let Self {
            updated_at: _,
            role,
            name,
            company,
            headline,
            bio,
            phone,
            links,
            in_directory,
            ..
        } = self;
        role.is_none()
            && name.is_none()
            && company.is_none()
            && headline.is_none()
            && bio.is_none()
            && phone.is_none()
            && links.is_none()
            && in_directory.is_none()
            && self.open_to_introductions.is_none()
            && self.sharing_confirmed_at.is_none()
            && [
                self.share_email,
                self.share_phone,
                self.share_company,
                self.share_headline,
                self.share_bio,
                self.share_links,
            ]
            .iter()
            .all(Option::is_none)
    }
}

pub fn insert(conn: &mut DbConn, members: &[NewMember]) -> QueryResult<()> {
    for chunk in members.chunks(super::BATCH_ROWS) {
        super::insert_batch!(conn, memberships::table, chunk)?;
    }
    Ok(())
}

pub fn update(
    conn: &mut DbConn,
    membership_id: &str,
    changes: &ProfileChanges,
) -> QueryResult<usize> {
    diesel::update(memberships::table.find(membership_id)).set(changes).execute(conn)
}

macro_rules! members {
    () => {
        memberships::table.inner_join(accounts::table).select((
            Membership::as_select(),
            accounts::email,
            accounts::display_name,
        ))
    };
}

pub fn find(conn: &mut DbConn, event_id: &str, membership_id: &str) -> QueryResult<Option<Member>> {
    members!()
        .filter(memberships::event_id.eq(event_id).and(memberships::id.eq(membership_id)))
        .first(conn)
        .optional()
}

pub fn find_by_account(
    conn: &mut DbConn,
    event_id: &str,
    account_id: &str,
) -> QueryResult<Option<Member>> {
    members!()
        .filter(memberships::event_id.eq(event_id).and(memberships::account_id.eq(account_id)))
        .first(conn)
        .optional()
}

/// Deletes a membership; its badge, topic choices, connections (both sides), scans and notes go
/// with it (foreign keys cascade).
pub fn delete(conn: &mut DbConn, membership_id: &str) -> QueryResult<usize> {
    diesel::delete(memberships::table.find(membership_id)).execute(conn)
}

/// The members of the event with these account emails.
pub fn find_by_emails(
    conn: &mut DbConn,
    event_id: &str,
    emails: &[String],
) -> QueryResult<Vec<Member>> {
    let mut found = Vec::new();
    for chunk in emails.chunks(super::BATCH_ROWS) {
        found.extend(
            members!()
                .filter(memberships::event_id.eq(event_id).and(accounts::email.eq_any(chunk)))
                .load(conn)?,
        );
    }
    Ok(found)
}

/// Every member of the event.
pub fn all(conn: &mut DbConn, event_id: &str) -> QueryResult<Vec<Member>> {
    members!().filter(memberships::event_id.eq(event_id)).order(memberships::id.asc()).load(conn)
}

/// A page of the event's members by id, optionally only those in the directory or with a topic.
pub fn page(
    conn: &mut DbConn,
    event_id: &str,
    filter: &PageFilter<'_>,
    after_id: Option<&str>,
    limit: i64,
) -> QueryResult<Vec<Member>> {
    let mut query = members!()
        .filter(memberships::event_id.eq(event_id))
        .order(memberships::id.asc())
        .limit(limit)
        .into_boxed();
    if let Some(after) = after_id {
        query = query.filter(memberships::id.gt(after));
    }
    if filter.directory_only {
        query = query.filter(memberships::in_directory.eq(true));
    }
    if let Some(topic_id) = filter.topic_id {
        query = query.filter(
            memberships::id.eq_any(
                membership_topics::table
                    .filter(membership_topics::topic_id.eq(topic_id))
                    .select(membership_topics::membership_id),
            ),
        );
    }
    if let Some(ids) = filter.ids {
        query = query.filter(memberships::id.eq_any(ids));
    }
    query.load(conn)
}

#[derive(Default)]
pub struct PageFilter<'a> {
    pub directory_only: bool,
    pub topic_id: Option<&'a str>,
    pub ids: Option<&'a [String]>,
}

/// One row per member for organizer stats.
#[derive(Queryable)]
pub struct CountRow {
    pub role: String,
    pub invited_at: Option<NaiveDateTime>,
    pub last_sign_in_at: Option<NaiveDateTime>,
    pub in_directory: bool,
}

pub fn count_rows(conn: &mut DbConn, event_id: &str) -> QueryResult<Vec<CountRow>> {
    memberships::table
        .inner_join(accounts::table)
        .filter(memberships::event_id.eq(event_id))
        .select((
            memberships::role,
            memberships::invited_at,
            accounts::last_sign_in_at,
            memberships::in_directory,
        ))
        .load(conn)
}

/// Members by membership id.
pub fn find_many(conn: &mut DbConn, ids: &[String]) -> QueryResult<Vec<Member>> {
    let mut found = Vec::new();
    for chunk in ids.chunks(super::BATCH_ROWS) {
        found.extend(members!().filter(memberships::id.eq_any(chunk)).load(conn)?);
    }
    Ok(found)
}
