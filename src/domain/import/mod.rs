//! Attendee import: up to 10,000 rows in one transaction, idempotent by email. Each row is
//! created, updated, left unchanged or rejected with its reason; rejected rows never block the
//! others, and a failure part-way leaves nothing behind. New attendees get a badge and an
//! invitation email; people already in the event are not invited again.

pub mod parse;

use std::collections::{HashMap, HashSet};

use serde::Serialize;

use self::parse::{RawRow, RowFields};
use super::Email;
use super::attendees::{CAN_TALK_ABOUT, WANT_TO_LEARN};
use super::badges;
use super::events::Role;
use super::topics;
use crate::db::accounts::{self as account_store, NewAccount};
use crate::db::attendees::{self as store, Membership, NewMember, ProfileChanges};
use crate::db::topics::Choice;
use crate::db::{self, DbConn, outbox};
use crate::error::Result;
use crate::mail;

/// Longest name, company or headline an import sets.
pub const MAX_FIELD: usize = 200;

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

/// A row that passed validation.
struct ValidRow {
    index: usize,
    email: Email,
    fields: RowFields,
    topics: [(&'static str, Option<Vec<String>>); 2],
}

/// Imports `rows` into the event. Call inside one transaction.
pub fn apply(
    conn: &mut DbConn,
    event_id: &str,
    event_name: &str,
    public_url: &str,
    rows: Vec<RawRow>,
) -> Result<ImportReport> {
    // Two imports into one event at once (a double submit) run one after the other: the second
    // finds the first one's attendees and reports them unchanged.
    db::events::lock(conn, event_id)?;
    let now = db::now();
    let choosable = topics::choosable(conn, event_id)?;
    let mut results: Vec<RowResult> = Vec::with_capacity(rows.len());
    let mut valid = Vec::with_capacity(rows.len());
    let mut first_line: HashMap<String, usize> = HashMap::new();
    for (index, row) in rows.into_iter().enumerate() {
        let email_given =
            row.fields.as_ref().ok().map(|f| f.email.clone()).filter(|e| !e.is_empty());
        match validate(row.fields, &choosable).and_then(|(email, fields, topics)| match first_line
            .get(email.as_str())
        {
            Some(line) => {
                Err(format!("duplicate of line {line}: an email appears once per import"))
            }
            None => Ok((email, fields, topics)),
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

    let all = store::all(conn, event_id)?;
    let members = super::attendees::with_topics(conn, all)?;
    let by_email: HashMap<&str, &super::attendees::Profile> =
        members.iter().map(|p| (p.email.as_str(), p)).collect();
    let (existing, new): (Vec<&ValidRow>, Vec<&ValidRow>) =
        valid.iter().partition(|row| by_email.contains_key(row.email.as_str()));

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
        let result = &mut results[row.index];
        result.attendee_id = Some(profile.member.id.clone());
        result.status = if changed { RowStatus::Updated } else { RowStatus::Unchanged };
    }

    let new_ids = create(conn, event_id, &new, now, &choosable, &mut replaced)?;
    for (row, id) in new.iter().zip(new_ids) {
        let result = &mut results[row.index];
        result.attendee_id = Some(id);
        result.status = RowStatus::Created;
    }
    for (kind, (membership_ids, choices)) in replaced {
        db::topics::replace_choices(conn, &membership_ids, kind, &choices)?;
    }
    invite(conn, &new, event_name, public_url, now)?;

    let count = |status| results.iter().filter(|r| r.status == status).count();
    Ok(ImportReport {
        created: count(RowStatus::Created),
        updated: count(RowStatus::Updated),
        unchanged: count(RowStatus::Unchanged),
        rejected: count(RowStatus::Rejected),
        rows: results,
    })
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
        if value.as_ref().is_some_and(|v| v.chars().count() > MAX_FIELD) {
            return Err(format!("the {name} is longer than {MAX_FIELD} characters"));
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
    event_name: &str,
    public_url: &str,
    now: chrono::NaiveDateTime,
) -> Result<()> {
    let mails: Vec<(String, mail::Outgoing)> = rows
        .iter()
        .map(|row| {
            (
                db::new_id(),
                mail::templates::attendee_invitation(row.email.as_str(), event_name, public_url),
            )
        })
        .collect();
    let messages: Vec<outbox::NewMessage<'_>> = mails
        .iter()
        .map(|(id, m)| outbox::NewMessage {
            id,
            kind: m.kind,
            recipient: &m.recipient,
            subject: &m.subject,
            body_text: &m.body_text,
            attempts: 0,
            next_attempt_at: now,
            created_at: now,
        })
        .collect();
    outbox::insert_many(conn, &messages)?;
    Ok(())
}
