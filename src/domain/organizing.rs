//! Organizers' verbs on people and on the event: removing an attendee, removing a co-organizer,
//! deleting the event, sending an invitation again. The caller's organizer role is checked by the
//! HTTP layer ([`super::attendees::organizer`]) in the same transaction.

use super::attendees::{self, event_not_found, remove_membership};
use super::events::Role;
use super::{Email, quotas};
use crate::config::Quotas;
use crate::db::attendees::{self as store, ProfileChanges};
use crate::db::{self, DbConn, events as event_store};
use crate::error::{Error, ErrorCode, Result};
use crate::mail;

fn attendee_not_found() -> Error {
    Error::not_found(ErrorCode::AttendeeNotFound, "No attendee with this id in this event.")
}

fn sole_organizer() -> Error {
    Error::conflict(
        ErrorCode::SoleOrganizer,
        "This is the event's only organizer: add another organizer first.",
    )
}

/// Hands the event's creator role on when `account_id`, who created it, stops organizing it;
/// refuses with `sole_organizer` when nobody else organizes it.
fn hand_on(conn: &mut DbConn, event_id: &str, account_id: &str) -> Result<()> {
    let organizers = event_store::organizers(conn, event_id)?;
    let successor =
        organizers.into_iter().find(|id| id != account_id).ok_or_else(sole_organizer)?;
    let event = event_store::find(conn, event_id)?.ok_or_else(event_not_found)?;
    if event.created_by == account_id {
        event_store::set_creator(conn, event_id, &successor)?;
    }
    Ok(())
}

/// Removes a member from the event, as if they had left it (see [`attendees::leave`]): their
/// profile, badge, topics and connections there are deleted, the people they met keep a tombstone
/// of the meeting, and the event's unsent mail to them is dropped. Unlike leaving, it records no
/// departure: the organizers may import or add them again. An organizer can be removed while the
/// event has another one (`sole_organizer`).
pub fn remove_attendee(conn: &mut DbConn, event_id: &str, attendee_id: &str) -> Result<()> {
    // Two removals at once: one after the other, so the second sees who is left.
    event_store::lock(conn, event_id)?;
    let (membership, email, _) =
        store::find(conn, event_id, attendee_id)?.ok_or_else(attendee_not_found)?;
    if Role::parse(&membership.role) == Role::Organizer {
        hand_on(conn, event_id, &membership.account_id)?;
    }
    remove_membership(conn, event_id, &membership.id, &email)
}

/// Makes a co-organizer an attendee again (their profile, badge and connections stay);
/// `organizer_not_found` when `attendee_id` is no organizer of the event, `sole_organizer` when
/// they are the last one.
pub fn remove_organizer(
    conn: &mut DbConn,
    event_id: &str,
    attendee_id: &str,
) -> Result<attendees::Profile> {
    event_store::lock(conn, event_id)?;
    let (membership, _, _) = store::find(conn, event_id, attendee_id)?
        .filter(|(m, _, _)| Role::parse(&m.role) == Role::Organizer)
        .ok_or_else(|| {
            Error::not_found(
                ErrorCode::OrganizerNotFound,
                "No organizer with this id in this event.",
            )
        })?;
    hand_on(conn, event_id, &membership.account_id)?;
    let changes = ProfileChanges {
        role: Some(Role::Attendee.as_str()),
        updated_at: Some(db::now()),
        ..Default::default()
    };
    store::update(conn, &membership.id, &changes)?;
    attendees::attendee(conn, event_id, attendee_id)
}

/// Deletes the event and everything of it, for everyone: profiles, badges, topics, scans,
/// connections with their notes and follow-ups, prompts, and the event's mail not yet sent. Each
/// person's record of the people they met there is their own to keep before: their exports
/// (`/v1/me/connections.vcf`, `.csv`, `/v1/me/export`) and their devices' synced copy, which
/// the server no longer changes (a sync then answers `event_not_found`).
pub fn delete_event(conn: &mut DbConn, event_id: &str) -> Result<()> {
    event_store::lock_for_delete(conn, event_id)?;
    db::outbox::drop_unsent_of_event(conn, event_id)?;
    if event_store::delete(conn, event_id)? == 0 {
        return Err(event_not_found());
    }
    Ok(())
}

/// Who sends an invitation again, and the budget it is charged to.
pub struct Resend<'a> {
    pub sender_id: &'a str,
    pub public_url: &'a str,
    pub quotas: &'a Quotas,
}

/// Queues the member's invitation again (the attendee's or the organizer's, by their role), charged
/// to the sender's and the event's mail quotas (429 `quota_exceeded`).
pub fn resend_invitation(
    conn: &mut DbConn,
    event_id: &str,
    attendee_id: &str,
    resend: &Resend<'_>,
) -> Result<()> {
    let (membership, email, _) =
        store::find(conn, event_id, attendee_id)?.ok_or_else(attendee_not_found)?;
    quotas::charge_mail(conn, resend.quotas, resend.sender_id, event_id, 1)?;
    let event = event_store::find(conn, event_id)?.ok_or_else(event_not_found)?;
    let mut message = if Role::parse(&membership.role) == Role::Organizer {
        let to = Email::parse(&email).map_err(|reason| {
            Error::internal(anyhow::anyhow!("stored email is not valid: {reason}"))
        })?;
        mail::templates::organizer_invitation(&to, &event.name, resend.public_url)
    } else {
        mail::templates::attendee_invitation(&email, &event.name, event_id, resend.public_url)
    };
    // Asked for by one organizer for one person: it does not wait behind an import's invitations.
    message.priority = mail::Priority::Personal;
    let origin = mail::Origin { sender_id: Some(resend.sender_id), event_id: Some(event_id) };
    mail::queue(conn, &message, origin)
}
