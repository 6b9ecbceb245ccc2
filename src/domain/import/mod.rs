//! Attendee import: up to 10,000 rows, idempotent by email. Each row is created, updated, left
//! unchanged or rejected with its reason; rejected rows never block the others. New attendees get
//! a badge and an invitation email; people already in the event are not invited again.
//!
//! On SQLite the rows are written [`CHUNK_ROWS`] at a time, each chunk in a transaction of its
//! own, so that other writes (a door scanner's) wait for one chunk at most, not for the whole
//! file: every write goes through one writer. A chunk lands whole or not at all, with its
//! invitations. The import as a whole is resumable rather than all-or-nothing: when a chunk
//! fails, the chunks before it stay, and sending the same file again completes it (rows already
//! saved come back `unchanged`; nobody is invited twice). On PostgreSQL the whole file is one
//! transaction: other writers do not wait for it (they take no lock it holds: scans never lock
//! the event), and a failure leaves nothing behind; sending the file again is the same answer.

pub mod parse;

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use serde::Serialize;

use self::parse::{RawRow, RowFields};
use super::Email;
use super::attendees::{CAN_TALK_ABOUT, WANT_TO_LEARN};
use super::badges;
use super::events::Role;
use super::quotas;
use super::text::{self, Lines};
use super::topics;
use crate::config::Quotas;
use crate::db::accounts::{self as account_store, NewAccount};
use crate::db::attendees::{self as store, Membership, NewMember, ProfileChanges};
use crate::db::topics::Choice;
use crate::db::{self, Db, DbConn, outbox};
use crate::error::{Error, ErrorCode, Result};
use crate::mail;

/// Longest name, company or headline an import sets.
pub const MAX_FIELD: usize = 200;

/// Rows written per transaction. On SQLite a chunk holds the one writer for about 50–150 ms in
/// a debug build on a busy two-core machine (less in a release build); a whole 10,000-row file
/// held it for seconds. PostgreSQL writes the file in one transaction.
pub const CHUNK_ROWS: usize = 250;

/// From this many rows on, a transaction reads the event's members once rather than looking
/// each email up: one pass over the event instead of a join per batch of emails (which
/// PostgreSQL plans badly for an event that has just grown, before its statistics catch up).
const READ_WHOLE_EVENT_FROM: usize = 1_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RowStatus {
    Created,
    Updated,
    Unchanged,
    Rejected,
}

/// What became of one row.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct RowResult {
    /// CSV: the line the row starts on (the header is line 1). JSON: the row's 1-based position.
    pub line: usize,
    /// The row's email as given, when it had one.
    pub email: Option<String>,
    pub status: RowStatus,
    /// The attendee's id (for created, updated and unchanged rows).
    pub attendee_id: Option<String>,
    /// Why a row was rejected.
    pub reason: Option<String>,
}

#[derive(Debug, Default, Serialize, utoipa::ToSchema)]
pub struct ImportReport {
    pub created: usize,
    pub updated: usize,
    pub unchanged: usize,
    pub rejected: usize,
    /// One result per row, in the order of the file.
    pub rows: Vec<RowResult>,
}

/// Who sends an import's invitations, and the budget they are charged to.
struct Inviter {
    organizer_id: String,
    event_name: String,
    public_url: String,
    quotas: Quotas,
}

/// A row that passed validation.
struct ValidRow {
    index: usize,
    email: Email,
    fields: RowFields,
    topics: [(&'static str, Option<Vec<String>>); 2],
}

/// Imports `rows` into the event as its organizer `account_id`: validates every row, then writes
/// the valid ones [`CHUNK_ROWS`] at a time (see the module's documentation). An error may come
/// after some chunks were saved; the same file sent again completes the import.
///
/// Invitations are charged to the organizer's and the event's mail quotas: an import whose new
/// people would overdraw them is refused before anything is written (429 `quota_exceeded`), and
/// each chunk charges its own under a lock, so that concurrent imports cannot overdraw them
/// together (then the later chunks are refused, and the saved ones stay, as after any failure).
pub async fn run(
    db: &Db,
    event_id: &str,
    account_id: &str,
    public_url: &str,
    quotas: Quotas,
    rows: Vec<RawRow>,
) -> Result<ImportReport> {
    let (event, account) = (event_id.to_owned(), account_id.to_owned());
    let chunk_rows = match db.backend() {
        db::Backend::Sqlite => CHUNK_ROWS,
        db::Backend::Postgres => usize::MAX,
    };
    let (event_name, mut results, valid) = db
        .read(move |conn| {
            super::attendees::organizer(conn, &event, &account)?;
            let event_name = db::events::find(conn, &event)?
                .ok_or_else(|| {
                    Error::not_found(
                        ErrorCode::EventNotFound,
                        "No event with this id is visible to you.",
                    )
                })?
                .name;
            let (mut results, mut valid) = validate_all(rows, &topics::choosable(conn, &event)?);
            let emails: Vec<String> = valid.iter().map(|row| row.email.to_string()).collect();
            // People who left the event are not brought back (nor mailed) by an organizer.
            let departed = db::departures::among(conn, &event, &emails)?;
            valid.retain(|row| {
                let left = departed.contains(row.email.as_str());
                if left {
                    let result = &mut results[row.index];
                    result.status = RowStatus::Rejected;
                    result.reason = Some(
                        "left this event: only they can join again (with the join code)".to_owned(),
                    );
                }
                !left
            });
            // Chunked (SQLite): the mail budget is checked before the first chunk is written.
            // In one transaction (PostgreSQL), the charge before the writes refuses it all.
            if chunk_rows < valid.len() {
                let emails: Vec<String> = valid.iter().map(|row| row.email.to_string()).collect();
                let members = store::find_by_emails(conn, &event, &emails)?.len();
                quotas::charge_mail(conn, &quotas, &account, &event, valid.len() - members)?;
            }
            Ok((event_name, results, valid))
        })
        .await?;

    let inviter = Arc::new(Inviter {
        organizer_id: account_id.to_owned(),
        event_name,
        public_url: public_url.to_owned(),
        quotas,
    });
    let mut valid = valid.into_iter().peekable();
    while valid.peek().is_some() {
        let chunk: Vec<ValidRow> = valid.by_ref().take(chunk_rows).collect();
        let event = event_id.to_owned();
        let inviter = inviter.clone();
        // Each chunk checks the caller again: an organizer removed part-way stops the import.
        let written = db
            .write(move |conn| {
                super::attendees::organizer(conn, &event, &inviter.organizer_id)?;
                apply_chunk(conn, &event, &inviter, &chunk)
            })
            .await?;
        for (index, status, attendee_id) in written {
            results[index].status = status;
            results[index].attendee_id = Some(attendee_id);
        }
    }

    let count = |status| results.iter().filter(|r| r.status == status).count();
    Ok(ImportReport {
        created: count(RowStatus::Created),
        updated: count(RowStatus::Updated),
        unchanged: count(RowStatus::Unchanged),
        rejected: count(RowStatus::Rejected),
        rows: results,
    })
}

/// Checks every row against the event's topics: one result per row, in order (valid rows marked
/// `unchanged` until written), and the valid rows.
fn validate_all(
    rows: Vec<RawRow>,
    choosable: &HashMap<String, String>,
) -> (Vec<RowResult>, Vec<ValidRow>) {
    let mut results: Vec<RowResult> = Vec::with_capacity(rows.len());
    let mut valid = Vec::with_capacity(rows.len());
    let mut first_line: HashMap<String, usize> = HashMap::new();
    for (index, row) in rows.into_iter().enumerate() {
        let email_given =
            row.fields.as_ref().ok().map(|f| f.email.clone()).filter(|e| !e.is_empty());
        match validate(row.fields, choosable).and_then(|(email, fields, topics)| {
            match first_line.get(email.as_str()) {
                Some(line) => {
                    Err(format!("duplicate of line {line}: an email appears once per import"))
                }
                None => Ok((email, fields, topics)),
            }
        }) {
            Ok((email, fields, topics)) => {
                first_line.insert(email.to_string(), row.line);
                valid.push(ValidRow { index, email, fields, topics });
                results.push(RowResult {
                    line: row.line,
                    email: email_given,
                    status: RowStatus::Unchanged,
                    attendee_id: None,
                    reason: None,
                });
            }
            Err(reason) => results.push(RowResult {
                line: row.line,
                email: email_given,
                status: RowStatus::Rejected,
                attendee_id: None,
                reason: Some(reason),
            }),
        }
    }
    (results, valid)
}

/// Writes one chunk of valid rows; call inside one transaction. Returns each row's index, status
/// and attendee id. Topics are looked up again: one deleted since validation is left out.
fn apply_chunk(
    conn: &mut DbConn,
    event_id: &str,
    inviter: &Inviter,
    rows: &[ValidRow],
) -> Result<Vec<(usize, RowStatus, String)>> {
    // Two imports into one event at once (a double submit) run one chunk after the other: the
    // second finds the first one's attendees and reports them unchanged.
    db::events::lock(conn, event_id)?;
    let now = db::now();
    let choosable = topics::choosable(conn, event_id)?;
    let found = if rows.len() < READ_WHOLE_EVENT_FROM {
        let emails: Vec<String> = rows.iter().map(|row| row.email.to_string()).collect();
        store::find_by_emails(conn, event_id, &emails)?
    } else {
        let emails: HashSet<&str> = rows.iter().map(|row| row.email.as_str()).collect();
        let mut everyone = store::all(conn, event_id)?;
        everyone.retain(|(_, email, _)| emails.contains(email.as_str()));
        everyone
    };
    let members = super::attendees::with_topics(conn, found)?;
    let by_email: HashMap<&str, &super::attendees::Profile> =
        members.iter().map(|p| (p.email.as_str(), p)).collect();
    let (existing, new): (Vec<&ValidRow>, Vec<&ValidRow>) =
        rows.iter().partition(|row| by_email.contains_key(row.email.as_str()));
    quotas::charge_mail(conn, &inviter.quotas, &inviter.organizer_id, event_id, new.len())?;

    let mut written = Vec::with_capacity(rows.len());
    let mut replaced: HashMap<&'static str, (Vec<String>, Vec<Choice>)> = HashMap::new();
    for row in existing {
        let profile = by_email[row.email.as_str()];
        let changes = changes_for(&profile.member, &row.fields, now);
        let mut changed = !changes.is_empty();
        for (kind, slugs) in &row.topics {
            let Some(slugs) = slugs else { continue };
            let current = if *kind == CAN_TALK_ABOUT {
                &profile.can_talk_about
            } else {
                &profile.want_to_learn
            };
            if as_set(current) != as_set(slugs) {
                changed = true;
                let entry = replaced.entry(kind).or_default();
                entry.0.push(profile.member.id.clone());
                entry.1.extend(choices(&profile.member.id, event_id, kind, slugs, &choosable));
            }
        }
        if !changes.is_empty() {
            store::update(conn, &profile.member.id, &changes)?;
        }
        let status = if changed { RowStatus::Updated } else { RowStatus::Unchanged };
        written.push((row.index, status, profile.member.id.clone()));
    }

    let new_ids = create(conn, event_id, &new, now, &choosable, &mut replaced)?;
    for (row, id) in new.iter().zip(new_ids) {
        written.push((row.index, RowStatus::Created, id));
    }
    for (kind, (membership_ids, choices)) in replaced {
        db::topics::replace_choices(conn, &membership_ids, kind, &choices)?;
    }
    invite(conn, &new, event_id, inviter, now)?;
    Ok(written)
}

type Validated = (Email, RowFields, [(&'static str, Option<Vec<String>>); 2]);

fn validate(
    fields: Result<RowFields, String>,
    choosable: &HashMap<String, String>,
) -> Result<Validated, String> {
    let fields = fields?;
    if fields.email.is_empty() {
        return Err("has no email".to_owned());
    }
    let email = Email::parse(&fields.email).map_err(|reason| format!("the email {reason}"))?;
    for (name, value) in
        [("name", &fields.name), ("company", &fields.company), ("headline", &fields.headline)]
    {
        let Some(value) = value else { continue };
        if value.chars().count() > MAX_FIELD {
            return Err(format!("the {name} is longer than {MAX_FIELD} characters"));
        }
        if let Some(problem) = text::problem(value, Lines::One) {
            return Err(format!("the {name} {problem}"));
        }
    }
    for slugs in [&fields.can_talk_about, &fields.want_to_learn].into_iter().flatten() {
        if let Some(unknown) = slugs.iter().find(|s| !choosable.contains_key(*s)) {
            return Err(format!("`{unknown}` is not a topic of this event"));
        }
    }
    let topics = [
        (CAN_TALK_ABOUT, fields.can_talk_about.clone()),
        (WANT_TO_LEARN, fields.want_to_learn.clone()),
    ];
    Ok((email, fields, topics))
}

fn as_set(slugs: &[String]) -> HashSet<&str> {
    slugs.iter().map(String::as_str).collect()
}

fn choices(
    membership_id: &str,
    event_id: &str,
    kind: &'static str,
    slugs: &[String],
    choosable: &HashMap<String, String>,
) -> Vec<Choice> {
    let ids: HashSet<&String> = slugs.iter().filter_map(|s| choosable.get(s)).collect();
    ids.into_iter()
        .map(|topic_id| Choice {
            membership_id: membership_id.to_owned(),
            topic_id: topic_id.clone(),
            event_id: event_id.to_owned(),
            kind,
        })
        .collect()
}

/// The fields a row sets to something new; fields the row leaves empty stay as they are.
fn changes_for(
    member: &Membership,
    fields: &RowFields,
    now: chrono::NaiveDateTime,
) -> ProfileChanges {
    let differ = |new: &Option<String>, old: &Option<String>| {
        new.as_ref().filter(|n| Some(*n) != old.as_ref()).map(|n| Some(n.clone()))
    };
    let mut changes = ProfileChanges {
        name: differ(&fields.name, &member.name),
        company: differ(&fields.company, &member.company),
        headline: differ(&fields.headline, &member.headline),
        ..Default::default()
    };
    if !changes.is_empty() {
        changes.updated_at = Some(now);
    }
    changes
}

/// Creates memberships (and accounts where needed) with badges for new rows; returns their ids.
fn create(
    conn: &mut DbConn,
    event_id: &str,
    rows: &[&ValidRow],
    now: chrono::NaiveDateTime,
    choosable: &HashMap<String, String>,
    replaced: &mut HashMap<&'static str, (Vec<String>, Vec<Choice>)>,
) -> Result<Vec<String>> {
    let emails: Vec<String> = rows.iter().map(|r| r.email.to_string()).collect();
    let mut account_ids: HashMap<String, String> = account_store::find_by_emails(conn, &emails)?
        .into_iter()
        .map(|a| (a.email, a.id))
        .collect();
    let missing: Vec<(String, String)> = emails
        .iter()
        .filter(|e| !account_ids.contains_key(*e))
        .map(|e| (db::new_id(), e.clone()))
        .collect();
    let new_accounts: Vec<NewAccount<'_>> = missing
        .iter()
        .map(|(id, email)| NewAccount {
            id,
            email,
            display_name: None,
            created_at: now,
            updated_at: now,
        })
        .collect();
    account_store::insert_many(conn, &new_accounts)?;
    // Read back: a first sign-in may have created some of these accounts meanwhile (their
    // inserts were skipped).
    let created: Vec<String> = missing.into_iter().map(|(_, email)| email).collect();
    account_ids.extend(
        account_store::find_by_emails(conn, &created)?.into_iter().map(|a| (a.email, a.id)),
    );

    let mut members = Vec::with_capacity(rows.len());
    let mut new_badges = Vec::with_capacity(rows.len());
    for row in rows {
        let id = db::new_id();
        for (kind, slugs) in &row.topics {
            if let Some(slugs) = slugs {
                replaced
                    .entry(kind)
                    .or_default()
                    .1
                    .extend(choices(&id, event_id, kind, slugs, choosable));
            }
        }
        new_badges.push(badges::new_badge(event_id, &id));
        members.push(NewMember {
            id,
            event_id: event_id.to_owned(),
            account_id: account_ids.get(row.email.as_str()).cloned().unwrap_or_default(),
            role: Role::Attendee.as_str(),
            name: row.fields.name.clone(),
            company: row.fields.company.clone(),
            headline: row.fields.headline.clone(),
            invited_at: Some(now),
            created_at: now,
            updated_at: now,
        });
    }
    store::insert(conn, &members)?;
    db::badges::insert(conn, &new_badges)?;
    Ok(members.into_iter().map(|m| m.id).collect())
}

/// Queues one invitation per new attendee, in the import's transaction.
fn invite(
    conn: &mut DbConn,
    rows: &[&ValidRow],
    event_id: &str,
    inviter: &Inviter,
    now: chrono::NaiveDateTime,
) -> Result<()> {
    let mails: Vec<(String, mail::Outgoing)> = rows
        .iter()
        .map(|row| {
            let message = mail::templates::attendee_invitation(
                row.email.as_str(),
                &inviter.event_name,
                event_id,
                &inviter.public_url,
            );
            (db::new_id(), message)
        })
        .collect();
    let origin = mail::Origin { sender_id: Some(&inviter.organizer_id), event_id: Some(event_id) };
    let messages: Vec<outbox::NewMessage<'_>> =
        mails.iter().map(|(id, m)| m.row(id, origin, now)).collect();
    outbox::insert_many(conn, &messages)?;
    Ok(())
}
