//! The text of each email Hallway sends.

use super::{Outgoing, Priority, SECRET_SLOT};
use crate::domain::Email;

/// The code is the message's secret: the outbox keeps it only until the message is sent.
pub fn sign_in_code(to: &Email, code: &str, valid_minutes: i64) -> Outgoing {
    Outgoing {
        kind: "sign_in_code",
        priority: Priority::SignIn,
        recipient: to.to_string(),
        subject: format!("Your Hallway sign-in code: {SECRET_SLOT}"),
        body_text: format!(
            "Your Hallway sign-in code is\n\n    {SECRET_SLOT}\n\nIt works for {valid_minutes} minutes. \
             If you did not ask for it, ignore this email: nobody can sign in without the code.\n"
        ),
        secret: Some(code.to_owned()),
    }
}

pub fn organizer_invitation(to: &Email, event_name: &str, public_url: &str) -> Outgoing {
    Outgoing {
        kind: "organizer_invitation",
        priority: Priority::Personal,
        recipient: to.to_string(),
        subject: format!("You are now an organizer of {event_name} on Hallway"),
        body_text: format!(
            "You were added as an organizer of {event_name}.\n\nSign in to Hallway with this email \
             address ({to}) to manage the event: {public_url}\n"
        ),
        secret: None,
    }
}

pub fn attendee_invitation(
    to: &str,
    event_name: &str,
    event_id: &str,
    public_url: &str,
) -> Outgoing {
    Outgoing {
        kind: "attendee_invitation",
        priority: Priority::Bulk,
        recipient: to.to_owned(),
        subject: format!("You're invited to {event_name} on Hallway"),
        body_text: format!(
            "You're on the attendee list of {event_name}.\n\nSign in to Hallway with this email \
             address ({to}) to set up your profile, show your badge and meet people: {public_url}\n\n\
             Not for you? Sign in with this address and choose \"Leave this event\" in the app \
             (for developers: DELETE {public_url}/v1/events/{event_id}/me). Your profile in the \
             event is then deleted, and no more mail about it is sent to you.\n"
        ),
        secret: None,
    }
}
