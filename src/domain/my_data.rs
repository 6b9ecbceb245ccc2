//! "My data, mine": everything Hallway holds about a person, read for their export. The small
//! parts are read at once ([`head`]); connections, their notes, tombstones, follow-ups and
//! touches a page at a time, so that the export of a person with thousands of connections holds
//! one page in memory.
//!
//! Never in it: secrets (token and code hashes, the calendar feed's token, the code in a
//! sign-in email), and of other people only what they share with this person now.

use chrono::NaiveDateTime;

use super::accounts::{self, Account};
use super::attendees::{self, Profile};
use super::calendar;
use super::connections::{self, ConnectionSummary};
use crate::db::auth::RefreshToken;
use crate::db::badges::Badge;
use crate::db::connections::{Connection, Note};
use crate::db::events::Event;
use crate::db::follow_ups::{FollowUp, Touch};
use crate::db::outbox::{self, Message};
use crate::db::tombstones::Tombstone;
use crate::db::{DbConn, events as event_store, exports};
use crate::error::Result;

/// One event the person belongs to: the event, their profile there (role, topics, sharing) and
/// every badge they had there (revoked ones too).
pub struct MembershipData {
    pub event: Event,
    pub profile: Profile,
    pub badges: Vec<Badge>,
}

/// What is read at once.
pub struct Head {
    pub account: Account,
    pub last_sign_in_at: Option<NaiveDateTime>,
    pub memberships: Vec<MembershipData>,
    /// Refresh tokens: one per sign-in and refresh, with their family (a sign-in session).
    pub sessions: Vec<RefreshToken>,
    /// (requested at, client address, used at) of the sign-in codes still kept (a day).
    pub codes: Vec<(NaiveDateTime, String, Option<NaiveDateTime>)>,
    /// (at, client address) of wrong codes tried for this email, still kept (a day).
    pub wrong_codes: Vec<(NaiveDateTime, String)>,
    /// When the current calendar feed was made, if there is one.
    pub calendar_feed: Option<NaiveDateTime>,
    /// Mail to this person still in the outbox (sent mail is kept a few days).
    pub mail: Vec<Message>,
    /// The memberships owning this person's connections (for the pages).
    pub owners: Vec<String>,
}

pub fn head(conn: &mut DbConn, account_id: &str) -> Result<Head> {
    let account = accounts::find(conn, account_id)?;
    let members = exports::memberships_of(conn, account_id)?;
    let owners: Vec<String> = members.iter().map(|(m, _, _)| m.id.clone()).collect();
    let mut badges = exports::badges_of(conn, &owners)?;
    let mut memberships = Vec::with_capacity(members.len());
    for profile in attendees::with_topics(conn, members)? {
        let Some(event) = event_store::find(conn, &profile.member.event_id)? else { continue };
        let (mine, rest): (Vec<Badge>, Vec<Badge>) =
            badges.into_iter().partition(|b| b.membership_id == profile.member.id);
        badges = rest;
        memberships.push(MembershipData { event, profile, badges: mine });
    }
    Ok(Head {
        last_sign_in_at: exports::last_sign_in(conn, account_id)?,
        sessions: exports::sessions_of(conn, account_id)?,
        codes: exports::codes_for(conn, &account.email)?,
        wrong_codes: exports::failures_for(conn, &account.email)?,
        calendar_feed: calendar::status(conn, account_id)?,
        mail: outbox::for_recipient(conn, &account.email)?,
        account,
        memberships,
        owners,
    })
}

/// A page of the person's live connections (with the other people as they share themselves), by
/// id after `after`.
pub fn connections(
    conn: &mut DbConn,
    owners: &[String],
    after: Option<&str>,
    limit: i64,
) -> Result<Vec<ConnectionSummary>> {
    if owners.is_empty() {
        return Ok(Vec::new());
    }
    let found = exports::live_connections(conn, owners, after, limit)?;
    connections::views(conn, found)
}

/// Up to `limit` of the person's notes on the connections `ids`, by (connection, note) after
/// `after`.
pub fn notes(
    conn: &mut DbConn,
    ids: &[String],
    after: Option<(&str, &str)>,
    limit: i64,
) -> Result<Vec<Note>> {
    Ok(exports::notes(conn, ids, after, limit)?)
}

/// A page of the person's follow-ups across their events (every state), by id after `after`.
pub fn follow_ups(
    conn: &mut DbConn,
    account_id: &str,
    after: Option<&str>,
    limit: i64,
) -> Result<Vec<FollowUp>> {
    Ok(exports::follow_ups(conn, account_id, after, limit)?)
}

/// A page of the touches the person logged, by id after `after`.
pub fn touches(
    conn: &mut DbConn,
    account_id: &str,
    after: Option<&str>,
    limit: i64,
) -> Result<Vec<Touch>> {
    Ok(exports::touches(conn, account_id, after, limit)?)
}

/// A tombstone the person keeps: of a connection they deleted, or of one whose other person
/// deleted their account. Neither holds anything of the other person but their former id.
pub enum Gone {
    DeletedByMe(Connection),
    AccountDeleted(Tombstone),
}

impl Gone {
    pub fn id(&self) -> &str {
        match self {
            Self::DeletedByMe(c) => &c.id,
            Self::AccountDeleted(t) => &t.connection_id,
        }
    }
}

/// Which tombstones a page reads: those of the person's own deletions first, then the others.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GoneKind {
    DeletedByMe,
    AccountDeleted,
}

/// A page of one kind of the person's tombstones, by connection id after `after`.
pub fn tombstones(
    conn: &mut DbConn,
    owners: &[String],
    kind: GoneKind,
    after: Option<&str>,
    limit: i64,
) -> Result<Vec<Gone>> {
    if owners.is_empty() {
        return Ok(Vec::new());
    }
    Ok(match kind {
        GoneKind::DeletedByMe => exports::deleted_connections(conn, owners, after, limit)?
            .into_iter()
            .map(Gone::DeletedByMe)
            .collect(),
        GoneKind::AccountDeleted => exports::tombstones(conn, owners, after, limit)?
            .into_iter()
            .map(Gone::AccountDeleted)
            .collect(),
    })
}
