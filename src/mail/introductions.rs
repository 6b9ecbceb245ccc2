//! The emails of introductions. People's text (names, notes, shared details) is put on lines of
//! its own with line breaks flattened (see [`one_line`]): no text can start a header or a line
//! that looks like a link of ours. The emails are plain text, so HTML in a name is shown as typed.

use super::templates::one_line;
use super::{Outgoing, Priority};
use crate::domain::attendees::Visible;

pub struct Invitation<'a> {
    pub to: &'a str,
    pub introducer: &'a str,
    /// What the other person shares with the people they are connected with.
    pub other: &'a Visible,
    pub note: &'a str,
    /// The page to answer on, without sign-in.
    pub link: &'a str,
    pub valid_days: i64,
}

fn details(other: &Visible) -> String {
    let mut lines = Vec::new();
    for (label, value) in [
        ("Headline", &other.headline),
        ("Company", &other.company),
        ("Email", &other.email),
        ("Phone", &other.phone),
    ] {
        if let Some(value) = value {
            lines.push(format!("  {label}: {}", one_line(value, 200)));
        }
    }
    if !other.can_talk_about.is_empty() {
        lines
            .push(format!("  Can talk about: {}", one_line(&other.can_talk_about.join(", "), 300)));
    }
    if !other.want_to_learn.is_empty() {
        lines.push(format!("  Wants to learn: {}", one_line(&other.want_to_learn.join(", "), 300)));
    }
    lines.join("\n")
}

/// To one side: who introduces whom, the note, what the other shares, and the two links.
pub fn invitation(i: &Invitation<'_>) -> Outgoing {
    let introducer = one_line(i.introducer, 100);
    let other = one_line(&i.other.name, 100);
    let about = details(i.other);
    let about = if about.is_empty() { String::new() } else { format!("\n{about}\n") };
    Outgoing {
        kind: "introduction",
        priority: Priority::Personal,
        recipient: i.to.to_owned(),
        subject: format!("{introducer} would like to introduce you to {other}"),
        body_text: format!(
            "{introducer} would like to introduce you to {other}.\n\nTheir note to you:\n  {}\n\n\
             About {other}:\n  Name: {other}\n{about}\n\
             If you both accept, you become each other's connections on Hallway. If you decline, \
             nobody is told.\n\n\
             Accept: {link}?choice=accept\n\
             Decline: {link}?choice=decline\n\n\
             Each link opens a page where you confirm your choice. They work for {} days.\n",
            one_line(i.note, 500),
            i.valid_days,
            link = i.link,
        ),
        secret: None,
    }
}

/// To each side, once both accepted.
pub fn connected(to: &str, other: &Visible, introducer: &str, public_url: &str) -> Outgoing {
    let other_name = one_line(&other.name, 100);
    let introducer = one_line(introducer, 100);
    let about = details(other);
    Outgoing {
        kind: "introduction_connected",
        priority: Priority::Personal,
        recipient: to.to_owned(),
        subject: format!("You and {other_name} are connected"),
        body_text: format!(
            "You and {other_name} both accepted {introducer}'s introduction: you are now \
             connected on Hallway, and a follow-up reminds you to meet.\n\n\
             {other_name}\n{about}\n\nOpen Hallway: {public_url}\n"
        ),
        secret: None,
    }
}

/// To the introducer, once both accepted.
pub fn accepted(to: &str, first: &str, second: &str, public_url: &str) -> Outgoing {
    let (first, second) = (one_line(first, 100), one_line(second, 100));
    Outgoing {
        kind: "introduction_accepted",
        priority: Priority::Personal,
        recipient: to.to_owned(),
        subject: format!("{first} and {second} are connected"),
        body_text: format!(
            "{first} and {second} both accepted your introduction: they are connected now. \
             Thank you for connecting people.\n\nOpen Hallway: {public_url}\n"
        ),
        secret: None,
    }
}
