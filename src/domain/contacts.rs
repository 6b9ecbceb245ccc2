//! A person's connections, across all their events, as contacts to export (vCard, CSV): each
//! other person as their sharing profile lets the owner see them now ([`Profile::visible`]),
//! never a deleted connection, never anything of a person who deleted their account.
//!
//! [`Profile::visible`]: super::attendees::Profile::visible

use std::collections::HashMap;

use super::attendees::{self, Visible};
use super::connections;
use super::follow_ups::{Due, FollowUpView};
use super::vcard::{self, Card};
use crate::db::connections::Connection;
use crate::db::{DbConn, events as event_store, exports};
use crate::error::Result;

/// Contacts per page read: a page is what an export holds in memory at a time.
pub const PAGE: i64 = 500;

/// One connection as a contact.
pub struct Contact {
    pub connection: Connection,
    pub event_name: String,
    pub other: Visible,
    /// The soonest open follow-up on this connection.
    pub next_follow_up: Option<FollowUpView>,
}

/// Whose contacts: a person's memberships (the owners of their connections) and the names of
/// their events.
#[derive(Clone, Default)]
pub struct Owner {
    pub memberships: Vec<String>,
    pub event_names: HashMap<String, String>,
}

impl Owner {
    pub fn of(conn: &mut DbConn, account_id: &str) -> Result<Self> {
        let mut owner = Self::default();
        for (membership, _, _) in exports::memberships_of(conn, account_id)? {
            if let Some(event) = event_store::find(conn, &membership.event_id)? {
                owner.event_names.insert(event.id, event.name);
            }
            owner.memberships.push(membership.id);
        }
        Ok(owner)
    }
}

/// A page of the owner's live connections as contacts, by connection id after `after`.
pub fn page(
    conn: &mut DbConn,
    owner: &Owner,
    after: Option<&str>,
    limit: i64,
) -> Result<Vec<Contact>> {
    if owner.memberships.is_empty() {
        return Ok(Vec::new());
    }
    let found = exports::live_connections(conn, &owner.memberships, after, limit)?;
    Ok(connections::views(conn, found)?
        .into_iter()
        .map(|summary| Contact {
            event_name: owner
                .event_names
                .get(&summary.connection.event_id)
                .cloned()
                .unwrap_or_default(),
            connection: summary.connection,
            other: summary.other.visible(),
            next_follow_up: summary.next_follow_up,
        })
        .collect())
}

/// One of the caller's live connections in an event, as a contact; `event_not_found` or
/// `connection_not_found` (also for another person's connection).
pub fn one(conn: &mut DbConn, event_id: &str, account_id: &str, id: &str) -> Result<Contact> {
    let (membership, _, _) = attendees::member(conn, event_id, account_id)?;
    let summary = connections::get(conn, &membership.id, id)?;
    let event_name = event_store::find(conn, event_id)?.map(|e| e.name).unwrap_or_default();
    Ok(Contact {
        connection: summary.connection,
        event_name,
        other: summary.other.visible(),
        next_follow_up: summary.next_follow_up,
    })
}

/// Appends the contact's vCard: what they share, and the owner's tags as `CATEGORIES`.
pub fn push_vcard(out: &mut String, contact: &Contact) {
    let other = &contact.other;
    let tags = tags(&contact.connection);
    let links = other.links.as_deref().unwrap_or_default();
    let card = Card {
        uid: &contact.connection.id,
        name: &other.name,
        email: other.email.as_deref(),
        phone: other.phone.as_deref(),
        company: other.company.as_deref(),
        title: other.headline.as_deref(),
        note: other.bio.as_deref(),
        urls: links.iter().map(|l| l.url.as_str()).collect(),
        categories: tags.iter().map(String::as_str).collect(),
        revised: Some(contact.connection.updated_at.format("%Y%m%dT%H%M%SZ").to_string()),
    };
    vcard::push_card(out, &card);
}

fn tags(connection: &Connection) -> Vec<String> {
    serde_json::from_str(&connection.tags).unwrap_or_default()
}

/// The CSV columns, in order.
pub const CSV_HEADER: [&str; 21] = [
    "connection_id",
    "event_id",
    "event_name",
    "attendee_id",
    "name",
    "email",
    "phone",
    "company",
    "headline",
    "bio",
    "links",
    "can_talk_about",
    "want_to_learn",
    "tags",
    "rating",
    "first_met_at",
    "last_met_at",
    "scan_count",
    "note_count",
    "follow_up",
    "follow_up_due_at",
];

/// CSV rows (RFC 4180: CRLF line ends, fields quoted when they hold a comma, quote or line
/// break), with the header first when `header`. Lists (links, topics, tags) hold one item a line.
pub fn csv(contacts: &[Contact], header: bool) -> Result<Vec<u8>> {
    let mut writer = ::csv::WriterBuilder::new()
        .terminator(::csv::Terminator::CRLF)
        .from_writer(Vec::with_capacity(contacts.len() * 256));
    let failed = |e: ::csv::Error| crate::error::Error::internal(e);
    if header {
        writer.write_record(CSV_HEADER).map_err(failed)?;
    }
    let time = |t: chrono::NaiveDateTime| t.and_utc().to_rfc3339();
    for contact in contacts {
        let c = &contact.connection;
        let o = &contact.other;
        let next = contact.next_follow_up.as_ref();
        let links = o.links.as_deref().unwrap_or_default();
        let record = [
            c.id.clone(),
            c.event_id.clone(),
            contact.event_name.clone(),
            o.attendee_id.clone(),
            o.name.clone(),
            o.email.clone().unwrap_or_default(),
            o.phone.clone().unwrap_or_default(),
            o.company.clone().unwrap_or_default(),
            o.headline.clone().unwrap_or_default(),
            o.bio.clone().unwrap_or_default(),
            links.iter().map(|l| format!("{} {}", l.label, l.url)).collect::<Vec<_>>().join("\n"),
            o.can_talk_about.join("\n"),
            o.want_to_learn.join("\n"),
            tags(c).join("\n"),
            c.rating.map(|r| r.to_string()).unwrap_or_default(),
            time(c.first_met_at),
            time(c.last_met_at),
            c.scan_count.to_string(),
            c.note_count.to_string(),
            // The next open follow-up: its note, or what it is (`check in`) when it has none, as
            // the calendar feed says it; never a due date under an empty promise.
            next.map(|f| {
                f.row.note.clone().filter(|n| !n.is_empty()).unwrap_or(f.row.kind.replace('_', " "))
            })
            .unwrap_or_default(),
            next.map(|f| due_text(f.due())).unwrap_or_default(),
        ];
        writer
            .write_record(record.iter().map(|cell| defuse_formula(cell).into_owned()))
            .map_err(failed)?;
    }
    writer.into_inner().map_err(|e| crate::error::Error::internal(e.into_error()))
}

/// A due date as the API writes it: a date (`2026-09-20`) or an RFC 3339 UTC date-time.
fn due_text(due: Due) -> String {
    match due {
        Due::On(day) => day.to_string(),
        Due::At(at) => at.and_utc().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
    }
}

/// A cell that a spreadsheet would run as a formula (it starts with `=`, `+`, `-` or `@`, or a
/// tab or carriage return that some spreadsheets skip before one), prefixed with `'` so that it
/// is shown as text. A phone number `+1 555…` comes out as `'+1 555…`: the price of never running
/// what another person typed.
pub fn defuse_formula(cell: &str) -> std::borrow::Cow<'_, str> {
    match cell.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => format!("'{cell}").into(),
        _ => cell.into(),
    }
}

#[cfg(test)]
mod tests {
    use super::defuse_formula;

    #[test]
    fn cells_that_would_run_as_formulas_are_prefixed_and_others_are_not() {
        for formula in ["=HYPERLINK(\"http://x\")", "+1 555 0100", "-2+3", "@SUM(A1)", "\t=1"] {
            assert_eq!(defuse_formula(formula), format!("'{formula}"));
        }
        for plain in ["Ada", "2026-09-08T09:00:00+00:00", "", "a=b", "Zoë"] {
            assert_eq!(defuse_formula(plain), plain);
        }
    }
}
