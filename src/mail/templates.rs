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

/// One follow-up of a digest.
pub struct DigestLine {
    pub name: String,
    pub event: String,
    pub kind: &'static str,
    pub note: Option<String>,
    pub due_on: chrono::NaiveDate,
    pub overdue: bool,
}

/// Text from people (names, notes, event names) on one line of an email: line breaks and other
/// control characters become spaces, so that no text can start a line (or a header) of its own;
/// long text is cut.
pub fn one_line(text: &str, max_chars: usize) -> String {
    let flat: String =
        text.chars().map(|c| if c.is_control() { ' ' } else { c }).collect::<String>();
    let flat = flat.split_whitespace().collect::<Vec<_>>().join(" ");
    if flat.chars().count() > max_chars {
        let cut: String = flat.chars().take(max_chars).collect();
        format!("{cut}…")
    } else {
        flat
    }
}

/// A digest: what is due today and overdue, a line each, and how many more there are.
pub fn digest(to: &str, lines: &[DigestLine], total: i64, public_url: &str) -> Outgoing {
    let mut body = String::from("Your follow-ups due today and overdue:\n\n");
    for line in lines {
        let when = if line.overdue { "overdue since" } else { "due" };
        let what = match &line.note {
            Some(note) => format!("{}: {}", line.kind, one_line(note, 200)),
            None => line.kind.to_owned(),
        };
        body.push_str(&format!(
            "- {what} - {} ({}), {when} {}\n",
            one_line(&line.name, 100),
            one_line(&line.event, 100),
            line.due_on
        ));
    }
    let listed = i64::try_from(lines.len()).unwrap_or(i64::MAX);
    if total > listed {
        body.push_str(&format!("- and {} more\n", total - listed));
    }
    body.push_str(&format!(
        "\nOpen Hallway to act on them: {public_url}\n\nYou get this email because you chose a \
         digest; to change it or turn it off, set `digest` in your account settings \
         (PATCH {public_url}/v1/me).\n"
    ));
    let noun = if total == 1 { "follow-up" } else { "follow-ups" };
    Outgoing {
        kind: "digest",
        priority: Priority::Bulk,
        recipient: to.to_owned(),
        subject: format!("Hallway: {total} {noun} due"),
        body_text: body,
        secret: None,
    }
}
