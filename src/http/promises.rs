//! The promise and cadence fields of a connection: the promise made at a scan (or through the
//! connection's `follow_up` field), the next open follow-up a connection answer carries, and the
//! names of cadences.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::domain::follow_ups::manage::Promise;
use crate::domain::follow_ups::{Due, FollowUpView, MAX_NOTE as MAX_PROMISE};
use crate::domain::text::{self, Lines};
use crate::error::FieldError;

/// A promise made at or after the meeting ("I'll send you that article"). It is the connection's
/// promise follow-up (origin `scan`): sending it again edits that follow-up; see
/// `…/connections/{connection_id}/follow-ups` for more than one.
#[derive(Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FollowUpPromise {
    /// 1 to 500 characters.
    #[schema(max_length = 500)]
    pub text: String,
    /// When it is due: a date (`2026-09-20`: that day in the person's time zone) or an RFC 3339
    /// date-time; not before the meeting (`due_before_connection`). Without it, the end of the
    /// event's follow-up window.
    #[schema(value_type = Option<String>)]
    pub due_at: Option<String>,
}

/// The connection's next open follow-up, soonest first (the whole list is at
/// `…/connections/{connection_id}/follow-ups`).
#[derive(Serialize, ToSchema)]
pub struct NextFollowUp {
    pub follow_up_id: String,
    #[schema(value_type = super::follow_ups::FollowUpKind)]
    pub kind: String,
    /// Its note (empty for a check-in without one).
    pub text: String,
    /// The instant it is due (for a due date: the start of that day in the caller's time zone).
    pub due_at: String,
    /// The day it is due in the caller's time zone.
    pub due_on: chrono::NaiveDate,
    /// Whether it is due on a day rather than at a time.
    pub all_day: bool,
}

impl From<FollowUpView> for NextFollowUp {
    fn from(view: FollowUpView) -> Self {
        let due = view.due();
        Self {
            due_at: due
                .instant(view.tz)
                .and_utc()
                .to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            due_on: due.day(view.tz),
            all_day: matches!(due, Due::On(_)),
            follow_up_id: view.row.id,
            kind: view.row.kind,
            text: view.row.note.unwrap_or_default(),
        }
    }
}

/// How often to stay in touch.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
#[allow(dead_code)] // documents the values in the OpenAPI document; parsed by the domain
pub enum CadenceName {
    Weekly,
    Monthly,
    Quarterly,
    Yearly,
    /// Every `cadence_days` days.
    Days,
    None,
}

/// A promise's text and due date (or time), checked.
pub fn check_follow_up(promise: &FollowUpPromise, errors: &mut Vec<FieldError>) -> Promise {
    let note = promise.text.trim().to_owned();
    if note.is_empty() || note.chars().count() > MAX_PROMISE {
        errors.push(FieldError::new("follow_up.text", "must be 1 to 500 characters"));
    } else if let Some(problem) = text::problem(&note, Lines::Many) {
        errors.push(FieldError::new("follow_up.text", problem));
    }
    let due = promise
        .due_at
        .as_deref()
        .and_then(|raw| super::follow_ups::parse_due("follow_up.due_at", raw, errors));
    Promise { note, due }
}
