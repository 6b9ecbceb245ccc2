//! iCalendar (RFC 5545) writer: a `VCALENDAR` of `VTODO`s, text escaped, lines folded at 75
//! octets (never inside a UTF-8 character), CRLF line ends. Pure: no clock, no storage.

use chrono::{DateTime, NaiveDate, Utc};

use super::content_line::{escape_text, push_line};

/// The media type of an iCalendar file.
pub const MEDIA_TYPE: &str = "text/calendar; charset=utf-8";

/// When a to-do is due: a whole day (`DUE;VALUE=DATE`, floating: that day wherever the reader
/// is) or an instant (`DUE` in UTC).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Due {
    Date(NaiveDate),
    At(DateTime<Utc>),
}

/// Where a to-do stands (`STATUS`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    NeedsAction,
    /// Done, and when.
    Completed(DateTime<Utc>),
    Cancelled,
}

/// One `VTODO`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Todo {
    /// Stable across feeds, so that a calendar app updates the item instead of adding another.
    pub uid: String,
    /// When the item last changed (`DTSTAMP` and `LAST-MODIFIED`: a published calendar without
    /// `METHOD` dates its components by their last revision).
    pub changed_at: DateTime<Utc>,
    pub due: Option<Due>,
    pub summary: String,
    pub description: Option<String>,
    pub status: Status,
}

/// A calendar's own properties.
pub struct Calendar<'a> {
    /// Shown by calendar apps as the subscription's name.
    pub name: &'a str,
    /// How often subscribers should fetch it again, as an RFC 5545 duration (`PT1H`).
    pub refresh: &'a str,
}

/// The whole `VCALENDAR`.
pub fn write(calendar: &Calendar<'_>, todos: &[Todo]) -> String {
    let mut out = String::with_capacity(256 + todos.len() * 320);
    push_line(&mut out, "BEGIN", "VCALENDAR");
    push_line(&mut out, "VERSION", "2.0");
    push_line(&mut out, "PRODID", "-//Hallway//Hallway API//EN");
    push_line(&mut out, "CALSCALE", "GREGORIAN");
    // RFC 7986's name and refresh interval, and the older names most apps still read.
    push_line(&mut out, "NAME", &escape_text(calendar.name));
    push_line(&mut out, "X-WR-CALNAME", &escape_text(calendar.name));
    push_line(&mut out, "REFRESH-INTERVAL;VALUE=DURATION", calendar.refresh);
    push_line(&mut out, "X-PUBLISHED-TTL", calendar.refresh);
    for todo in todos {
        push_todo(&mut out, todo);
    }
    push_line(&mut out, "END", "VCALENDAR");
    out
}

fn push_todo(out: &mut String, todo: &Todo) {
    push_line(out, "BEGIN", "VTODO");
    push_line(out, "UID", &escape_text(&todo.uid));
    push_line(out, "DTSTAMP", &utc(todo.changed_at));
    push_line(out, "LAST-MODIFIED", &utc(todo.changed_at));
    match todo.due {
        Some(Due::Date(day)) => push_line(out, "DUE;VALUE=DATE", &day.format("%Y%m%d").to_string()),
        Some(Due::At(at)) => push_line(out, "DUE", &utc(at)),
        None => {}
    }
    push_line(out, "SUMMARY", &escape_text(&todo.summary));
    if let Some(description) = &todo.description {
        push_line(out, "DESCRIPTION", &escape_text(description));
    }
    match todo.status {
        Status::NeedsAction => push_line(out, "STATUS", "NEEDS-ACTION"),
        Status::Completed(at) => {
            push_line(out, "STATUS", "COMPLETED");
            push_line(out, "COMPLETED", &utc(at));
        }
        Status::Cancelled => push_line(out, "STATUS", "CANCELLED"),
    }
    push_line(out, "END", "VTODO");
}

/// A UTC DATE-TIME (`20260920T170000Z`).
pub fn utc(at: DateTime<Utc>) -> String {
    at.format("%Y%m%dT%H%M%SZ").to_string()
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;
    use crate::domain::content_line::MAX_LINE_OCTETS;

    fn todo() -> Todo {
        Todo {
            uid: "follow-up-1@hallway".to_owned(),
            changed_at: Utc.with_ymd_and_hms(2026, 9, 10, 18, 30, 5).unwrap(),
            due: Some(Due::Date(NaiveDate::from_ymd_opt(2026, 9, 20).unwrap())),
            summary: "Send Zoë the article".to_owned(),
            description: Some("On rate limiting; the one with\nthe token buckets, \\o/".to_owned()),
            status: Status::NeedsAction,
        }
    }

    const CALENDAR: Calendar<'static> = Calendar { name: "Hallway follow-ups", refresh: "PT1H" };

    #[test]
    fn a_calendar_of_one_todo_has_every_required_property_and_crlf_line_ends() {
        let out = write(&CALENDAR, &[todo()]);
        let lines: Vec<&str> = out.split_terminator("\r\n").collect();
        assert_eq!(lines.first(), Some(&"BEGIN:VCALENDAR"));
        assert_eq!(lines.last(), Some(&"END:VCALENDAR"));
        assert!(!out.replace("\r\n", "").contains('\n'));
        for wanted in [
            "VERSION:2.0",
            "PRODID:-//Hallway//Hallway API//EN",
            "BEGIN:VTODO",
            "UID:follow-up-1@hallway",
            "DTSTAMP:20260910T183005Z",
            "DUE;VALUE=DATE:20260920",
            "SUMMARY:Send Zoë the article",
            "DESCRIPTION:On rate limiting\\; the one with\\nthe token buckets\\, \\\\o/",
            "STATUS:NEEDS-ACTION",
            "END:VTODO",
        ] {
            assert!(lines.contains(&wanted), "{wanted} missing in {out}");
        }
    }

    #[test]
    fn a_due_time_is_written_in_utc_and_a_completed_todo_says_when() {
        let at = Utc.with_ymd_and_hms(2026, 9, 20, 17, 0, 0).unwrap();
        let done = Todo { due: Some(Due::At(at)), status: Status::Completed(at), ..todo() };
        let out = write(&CALENDAR, &[done]);
        assert!(out.contains("\r\nDUE:20260920T170000Z\r\n"));
        assert!(out.contains("\r\nSTATUS:COMPLETED\r\nCOMPLETED:20260920T170000Z\r\n"));
        let none = write(&CALENDAR, &[Todo { due: None, status: Status::Cancelled, ..todo() }]);
        assert!(!none.contains("DUE"));
        assert!(none.contains("\r\nSTATUS:CANCELLED\r\n"));
    }

    #[test]
    fn a_long_description_is_folded_into_lines_of_at_most_75_octets() {
        let long = Todo { description: Some("李雷 said: ".repeat(40)), ..todo() };
        let out = write(&CALENDAR, &[long]);
        for line in out.split_terminator("\r\n") {
            assert!(line.len() <= MAX_LINE_OCTETS, "{} octets: {line}", line.len());
        }
        let unfolded = out.replace("\r\n ", "");
        assert!(unfolded.contains(&format!("DESCRIPTION:{}\r\n", "李雷 said: ".repeat(40))));
    }

    #[test]
    fn an_empty_queue_is_still_a_calendar() {
        let out = write(&CALENDAR, &[]);
        assert!(out.starts_with("BEGIN:VCALENDAR\r\n") && out.ends_with("END:VCALENDAR\r\n"));
        assert!(!out.contains("VTODO"));
    }
}
