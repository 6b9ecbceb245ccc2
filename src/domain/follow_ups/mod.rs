//! Follow-ups: promises and reminders on a connection ("send the article on rate limiting"), each
//! with a kind, a note, a due date or instant and a state; the post-event queue that gives every
//! connection of an event a check-in; cadences that keep one check-in ahead of each relationship;
//! touches; the queue across a person's events; digests.
//!
//! Dates: a due given as a date means that day in the person's time zone and stays that day when
//! shown (`due_on`); a due given as an instant is that instant. Either sorts in the queue by the
//! instant it begins (`queue_at`), recomputed when the person's time zone changes.

pub mod dates;
pub mod digest;
pub mod manage;
pub mod post_event;
pub mod queue;
pub mod touches;

use chrono::{DateTime, Duration, Months, NaiveDate, NaiveDateTime, SubsecRound, Utc};
use chrono_tz::Tz;

use crate::db::follow_ups::FollowUp;

/// The longest note of a follow-up, a completion or a touch, in characters.
pub const MAX_NOTE: usize = 500;
/// Follow-ups one connection may have open (or snoozed) at once, counting those made with
/// `POST …/follow-ups`; the connection's promise (made at a scan) and its post-event and cadence
/// check-ins are one each on top.
pub const MAX_OPEN_PER_CONNECTION: i64 = 100;
/// Follow-ups one connection may hold in all, open or not (its history).
pub const MAX_PER_CONNECTION: i64 = 1_000;
/// Touches one connection may hold.
pub const MAX_TOUCHES_PER_CONNECTION: i64 = 1_000;
/// The longest cadence in days (ten years).
pub const MAX_CADENCE_DAYS: i64 = 3_650;
/// Items listed in a digest email; the rest are counted.
pub const DIGEST_ITEMS: i64 = 20;

macro_rules! names {
    ($(#[$meta:meta])* $name:ident { $($variant:ident = $text:literal),* $(,)? }) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub enum $name { $($variant),* }

        impl $name {
            pub const ALL: &'static [Self] = &[$(Self::$variant),*];

            pub fn as_str(self) -> &'static str {
                match self { $(Self::$variant => $text),* }
            }

            /// The value named `raw`, or `None`.
            pub fn parse(raw: &str) -> Option<Self> {
                match raw { $($text => Some(Self::$variant),)* _ => None }
            }

            /// `a`, `b` or `c`: for error messages.
            pub fn choices() -> String {
                let names: Vec<&str> = Self::ALL.iter().map(|v| v.as_str()).collect();
                names.join(", ")
            }
        }
    };
}

names!(
    /// What the follow-up is about.
    Kind { Send = "send", Meet = "meet", Introduce = "introduce", CheckIn = "check_in", Other = "other" }
);
names!(
    /// Where a follow-up stands. `Open` and `Snoozed` are in the queue.
    State { Open = "open", Done = "done", Snoozed = "snoozed", Dismissed = "dismissed" }
);
names!(
    /// What made a follow-up: the person (`manual`, at a scan, or from a conversation starter),
    /// the post-event queue, or a connection's cadence.
    Origin {
        Manual = "manual",
        Scan = "scan",
        PostEvent = "post_event",
        Cadence = "cadence",
        Starter = "starter",
    }
);
names!(
    /// How often a person gets a digest email.
    Digest { None = "none", Daily = "daily", Weekly = "weekly" }
);

names!(
    /// A state filter of the queue: by day in the person's time zone, or the done ones.
    QueueFilter { Due = "due", Overdue = "overdue", Upcoming = "upcoming", Done = "done" }
);

/// When a follow-up is due: a day in the person's time zone, or an instant (UTC).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Due {
    On(NaiveDate),
    At(NaiveDateTime),
}

impl Due {
    /// A date (`2026-09-20`: that day) or an RFC 3339 date-time (that instant).
    pub fn parse(raw: &str) -> Result<Self, String> {
        let raw = raw.trim();
        if let Ok(day) = NaiveDate::parse_from_str(raw, "%Y-%m-%d") {
            return Ok(Self::On(day));
        }
        DateTime::parse_from_rfc3339(raw)
            .map(|t| Self::At(t.with_timezone(&Utc).naive_utc().trunc_subsecs(6)))
            .map_err(|_| {
                format!(
                    "`{raw}` is neither a date such as 2026-09-20 nor an RFC 3339 date-time such \
                     as 2026-09-20T15:00:00Z"
                )
            })
    }

    /// The instant it begins: for a day, its start in `tz`.
    pub fn instant(self, tz: Tz) -> NaiveDateTime {
        match self {
            Self::On(day) => dates::start_of_day(tz, day),
            Self::At(at) => at,
        }
    }

    /// The day it falls on in `tz`.
    pub fn day(self, tz: Tz) -> NaiveDate {
        match self {
            Self::On(day) => day,
            Self::At(at) => dates::day_of(tz, at),
        }
    }

    /// The stored columns: (`due_on`, `due_at`).
    pub fn columns(self) -> (Option<NaiveDate>, Option<NaiveDateTime>) {
        match self {
            Self::On(day) => (Some(day), None),
            Self::At(at) => (None, Some(at)),
        }
    }

    pub fn of(row: &FollowUp) -> Self {
        match (row.due_on, row.due_at) {
            (Some(day), _) => Self::On(day),
            (None, Some(at)) => Self::At(at),
            // The database holds exactly one of the two (a CHECK constraint).
            (None, None) => Self::At(row.queue_at),
        }
    }
}

/// How often to stay in touch with someone.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Cadence {
    Weekly,
    Monthly,
    Quarterly,
    Yearly,
    /// Every so many days (1 to [`MAX_CADENCE_DAYS`]).
    Days(i32),
}

impl Cadence {
    pub const NAMES: &'static str = "weekly, monthly, quarterly, yearly, days or none";

    /// A cadence from its name (`none` is no cadence) and, for `days`, its number of days.
    pub fn parse(name: &str, days: Option<i64>) -> Result<Option<Self>, (&'static str, String)> {
        let named = |cadence| match days {
            None => Ok(Some(cadence)),
            Some(_) => Err(("cadence_days", "is only for the cadence `days`".to_owned())),
        };
        match name {
            "none" => named(Self::Weekly).map(|_| None),
            "weekly" => named(Self::Weekly),
            "monthly" => named(Self::Monthly),
            "quarterly" => named(Self::Quarterly),
            "yearly" => named(Self::Yearly),
            "days" => match days {
                Some(n) if (1..=MAX_CADENCE_DAYS).contains(&n) => {
                    Ok(Some(Self::Days(i32::try_from(n).unwrap_or(1))))
                }
                Some(_) => Err(("cadence_days", format!("must be 1 to {MAX_CADENCE_DAYS} days"))),
                None => Err(("cadence_days", "is required with the cadence `days`".to_owned())),
            },
            other => Err(("cadence", format!("`{other}` is not one of {}", Self::NAMES))),
        }
    }

    /// The stored columns (`cadence`, `cadence_days`) of an optional cadence.
    pub fn columns(cadence: Option<Self>) -> (Option<String>, Option<i32>) {
        match cadence {
            None => (None, None),
            Some(Self::Days(n)) => (Some("days".to_owned()), Some(n)),
            Some(other) => (Some(other.name().to_owned()), None),
        }
    }

    /// The cadence the stored columns hold, if any.
    pub fn from_columns(name: Option<&str>, days: Option<i32>) -> Option<Self> {
        match (name?, days) {
            ("weekly", _) => Some(Self::Weekly),
            ("monthly", _) => Some(Self::Monthly),
            ("quarterly", _) => Some(Self::Quarterly),
            ("yearly", _) => Some(Self::Yearly),
            ("days", Some(n)) if n > 0 => Some(Self::Days(n)),
            _ => None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Self::Weekly => "weekly",
            Self::Monthly => "monthly",
            Self::Quarterly => "quarterly",
            Self::Yearly => "yearly",
            Self::Days(_) => "days",
        }
    }

    /// The day of the next check-in after a touch on `day` (a month after January 31 is the last
    /// day of February).
    pub fn next_after(self, day: NaiveDate) -> NaiveDate {
        let months = |n| day.checked_add_months(Months::new(n)).unwrap_or(day);
        match self {
            Self::Weekly => day + Duration::days(7),
            Self::Monthly => months(1),
            Self::Quarterly => months(3),
            Self::Yearly => months(12),
            Self::Days(n) => day + Duration::days(i64::from(n)),
        }
    }
}

/// A follow-up with its owner's time zone: what the person sees.
#[derive(Clone, Debug)]
pub struct FollowUpView {
    pub row: FollowUp,
    pub tz: Tz,
}

impl FollowUpView {
    pub fn new(row: FollowUp, tz: Tz) -> Self {
        Self { row, tz }
    }

    pub fn due(&self) -> Due {
        Due::of(&self.row)
    }

    /// The state as the person sees it at `now`: a snooze that has ended reads `open`.
    pub fn state_at(&self, now: NaiveDateTime) -> &str {
        match self.row.snoozed_until {
            Some(until) if self.row.state == State::Snoozed.as_str() && until <= now => {
                State::Open.as_str()
            }
            _ => &self.row.state,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(raw: &str) -> NaiveDate {
        NaiveDate::parse_from_str(raw, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn a_due_is_a_date_or_an_instant_and_nothing_else() {
        assert_eq!(Due::parse("2026-09-20"), Ok(Due::On(day("2026-09-20"))));
        assert_eq!(
            Due::parse("2026-09-20T10:00:00-07:00").unwrap(),
            Due::At(day("2026-09-20").and_hms_opt(17, 0, 0).unwrap())
        );
        for bad in ["2026-02-30", "20/09/2026", "tomorrow", "2026-09-20T25:00:00Z", ""] {
            assert!(Due::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_date_due_is_that_day_wherever_the_person_is() {
        let la = dates::zone("America/Los_Angeles");
        let due = Due::parse("2026-09-20").unwrap();
        assert_eq!(due.day(la), day("2026-09-20"));
        assert_eq!(dates::day_of(la, due.instant(la)), day("2026-09-20"));
    }

    #[test]
    fn cadences_step_by_calendar_units_and_days() {
        let jan31 = day("2026-01-31");
        assert_eq!(Cadence::Weekly.next_after(jan31), day("2026-02-07"));
        assert_eq!(Cadence::Monthly.next_after(jan31), day("2026-02-28"));
        assert_eq!(Cadence::Quarterly.next_after(jan31), day("2026-04-30"));
        assert_eq!(Cadence::Yearly.next_after(jan31), day("2027-01-31"));
        assert_eq!(Cadence::Days(10).next_after(jan31), day("2026-02-10"));
    }

    #[test]
    fn a_cadence_of_zero_or_negative_days_is_refused() {
        assert_eq!(Cadence::parse("days", Some(14)), Ok(Some(Cadence::Days(14))));
        assert_eq!(Cadence::parse("none", None), Ok(None));
        for bad in [Some(0), Some(-3), Some(3_651), None] {
            assert_eq!(Cadence::parse("days", bad).unwrap_err().0, "cadence_days", "{bad:?}");
        }
        assert_eq!(Cadence::parse("fortnightly", None).unwrap_err().0, "cadence");
        assert_eq!(Cadence::parse("weekly", Some(7)).unwrap_err().0, "cadence_days");
    }

    #[test]
    fn names_round_trip() {
        for kind in Kind::ALL {
            assert_eq!(Kind::parse(kind.as_str()), Some(*kind));
        }
        assert_eq!(Kind::parse("call"), None);
        assert_eq!(Kind::choices(), "send, meet, introduce, check_in, other");
    }
}
