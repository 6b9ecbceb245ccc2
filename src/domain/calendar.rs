//! The calendar feed: a person's follow-ups as an iCalendar file at a secret URL that calendar
//! apps subscribe to. The URL's token is random (256 bits), stored only as its SHA-256, shown
//! once; making a new one revokes the old. A token is looked up by its hash in a unique index, so
//! an unknown, revoked or malformed token costs and answers the same (404).

use std::collections::HashMap;

use chrono::{DateTime, NaiveDateTime, Utc};
use rand::RngCore;
use sha2::{Digest, Sha256};

use super::connections;
use super::contacts::Owner;
use super::follow_ups::Due as FollowUpDue;
use super::ical::{self, Calendar, Due, Status, Todo};
use crate::db::calendar_feeds::{self as store, CalendarFeed};
use crate::db::follow_ups::{self as follow_up_store, QueueRange};
use crate::db::{self, DbConn};
use crate::error::{Error, ErrorCode, Result};

/// Random bytes in a token: 256 bits, written as 64 hex digits.
pub const TOKEN_BYTES: usize = 32;

/// What the feed calls itself in calendar apps, and how often it asks to be fetched again.
pub const CALENDAR: Calendar<'static> = Calendar { name: "Hallway follow-ups", refresh: "PT1H" };

/// One item of a person's feed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FeedItem {
    /// Stable for the same follow-up, so calendar apps update it rather than add another.
    pub uid: String,
    pub changed_at: DateTime<Utc>,
    pub due: Option<Due>,
    /// The other person's name, as they show it.
    pub contact_name: String,
    pub event_name: String,
    /// The promise.
    pub note: String,
    pub status: Status,
}

/// Most items a feed holds: the open ones by due date come first, then those done lately.
pub const MAX_ITEMS: usize = 2_000;
/// How long a done follow-up stays in the feed (as completed), so a calendar app sees it close.
const DONE_KEPT_DAYS: i64 = 30;

/// The person's follow-ups, for the feed: the open and snoozed ones (to do), soonest due first,
/// and those done in the last 30 days (completed), on their live connections; at most
/// [`MAX_ITEMS`]. A date-only due is a whole day (`DUE;VALUE=DATE`), a timed one an instant.
/// What a fetch reads is bounded by the feed, not by the person's history: the open ones on the
/// queue's index, the recently done ones by completion time, and only their connections.
pub fn feed_items(conn: &mut DbConn, account_id: &str) -> Result<Vec<FeedItem>> {
    let limit = i64::try_from(MAX_ITEMS).unwrap_or(i64::MAX);
    let open = QueueRange { open: true, from: None, before: None };
    let mut rows = follow_up_store::queue_page(conn, account_id, open, None, limit)?;
    let done_since = db::now() - chrono::Duration::days(DONE_KEPT_DAYS);
    let room = limit - i64::try_from(rows.len()).unwrap_or(limit);
    if room > 0 {
        rows.extend(follow_up_store::done_since(conn, account_id, done_since, room)?);
    }
    let owner = Owner::of(conn, account_id)?;
    let mut ids: Vec<String> = rows.iter().map(|r| r.connection_id.clone()).collect();
    ids.sort_unstable();
    ids.dedup();
    let live: Vec<_> = db::connections::find_many(conn, &ids)?
        .into_iter()
        .filter(|c| c.deleted_at.is_none() && owner.memberships.contains(&c.owner_id))
        .collect();
    // Who each connection is with, as the owner may see them, and where they met.
    let contacts: HashMap<String, (String, String)> = connections::views(conn, live)?
        .into_iter()
        .map(|view| {
            let event = owner.event_names.get(&view.connection.event_id).cloned();
            (view.connection.id, (view.other.visible().name, event.unwrap_or_default()))
        })
        .collect();
    Ok(rows
        .into_iter()
        .filter_map(|row| {
            let (name, event_name) = contacts.get(&row.connection_id)?;
            let status = match (row.is_open, row.completed_at) {
                (true, _) => Status::NeedsAction,
                (false, Some(at)) => Status::Completed(at.and_utc()),
                (false, None) => return None,
            };
            let due = match FollowUpDue::of(&row) {
                FollowUpDue::On(day) => Due::Date(day),
                FollowUpDue::At(at) => Due::At(at.and_utc()),
            };
            let kind = row.kind.replace('_', " ");
            Some(FeedItem {
                uid: format!("follow-up-{}@hallway", row.id),
                changed_at: row.updated_at.and_utc(),
                due: Some(due),
                contact_name: name.clone(),
                event_name: event_name.clone(),
                note: row.note.filter(|n| !n.is_empty()).unwrap_or(kind),
                status,
            })
        })
        .collect())
}

/// The to-do of a feed item: "Zoë: send the article" as its summary (the promise's first line),
/// the whole promise and where they met as its description.
pub fn todo(item: FeedItem) -> Todo {
    let first_line = item.note.lines().next().unwrap_or_default();
    let mut summary: String = first_line.chars().take(80).collect();
    if summary.len() < first_line.len() {
        summary.push('…');
    }
    Todo {
        uid: item.uid,
        changed_at: item.changed_at,
        due: item.due,
        summary: format!("{}: {summary}", item.contact_name),
        description: Some(format!("{}\n\nMet at {}.", item.note, item.event_name)),
        status: item.status,
    }
}

/// The iCalendar file of a person's feed.
pub fn render(items: Vec<FeedItem>) -> String {
    let todos: Vec<Todo> = items.into_iter().map(todo).collect();
    ical::write(&CALENDAR, &todos)
}

/// A feed just made: its token, shown once.
pub struct IssuedFeed {
    pub token: String,
    pub created_at: NaiveDateTime,
}

/// Makes the person a new feed token, revoking any earlier one.
pub fn issue(conn: &mut DbConn, account_id: &str) -> Result<IssuedFeed> {
    let mut bytes = [0u8; TOKEN_BYTES];
    rand::rng().fill_bytes(&mut bytes);
    let token = hex(&bytes);
    let created_at = db::now();
    store::replace(
        conn,
        &CalendarFeed { account_id: account_id.to_owned(), token_hash: hash(&token), created_at },
    )?;
    Ok(IssuedFeed { token, created_at })
}

/// Revokes the person's feed, if they have one.
pub fn revoke(conn: &mut DbConn, account_id: &str) -> Result<()> {
    store::delete(conn, account_id)?;
    Ok(())
}

/// When the person's current feed was made, if they have one.
pub fn status(conn: &mut DbConn, account_id: &str) -> Result<Option<NaiveDateTime>> {
    Ok(store::find_for_account(conn, account_id)?.map(|feed| feed.created_at))
}

/// The feed a token opens, rendered; `calendar_feed_not_found` for any token that opens none.
pub fn feed(conn: &mut DbConn, token: &str) -> Result<String> {
    let found = store::find_by_hash(conn, &hash(token))?.ok_or_else(not_found)?;
    Ok(render(feed_items(conn, &found.account_id)?))
}

/// The one answer for every token that opens no feed: unknown, revoked or malformed alike.
pub fn not_found() -> Error {
    Error::not_found(ErrorCode::CalendarFeedNotFound, "No calendar feed has this address.")
}

fn hash(token: &str) -> String {
    hex(&Sha256::digest(token.as_bytes()))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use chrono::{NaiveDate, TimeZone};

    use super::*;

    fn item(note: &str) -> FeedItem {
        FeedItem {
            uid: "promise-1@hallway".to_owned(),
            changed_at: Utc.with_ymd_and_hms(2026, 9, 10, 18, 0, 0).unwrap(),
            due: Some(Due::Date(NaiveDate::from_ymd_opt(2026, 9, 20).unwrap())),
            contact_name: "Zoë".to_owned(),
            event_name: "RustConf".to_owned(),
            note: note.to_owned(),
            status: Status::NeedsAction,
        }
    }

    #[test]
    fn a_promise_becomes_a_todo_named_by_its_person_and_first_line() {
        let todo = todo(item("Send the article\nthe one on rate limiting"));
        assert_eq!(todo.summary, "Zoë: Send the article");
        assert_eq!(
            todo.description.as_deref(),
            Some("Send the article\nthe one on rate limiting\n\nMet at RustConf.")
        );
        let long = super::todo(item(&"x".repeat(100)));
        assert_eq!(long.summary, format!("Zoë: {}…", "x".repeat(80)));
    }

    #[test]
    fn tokens_are_hashed_and_never_equal_their_hash() {
        let token = hex(&[0xab; TOKEN_BYTES]);
        assert_eq!(token.len(), 64);
        assert_eq!(hash(&token).len(), 64);
        assert_ne!(hash(&token), token);
        assert_eq!(hash(&token), hash(&token));
    }
}
