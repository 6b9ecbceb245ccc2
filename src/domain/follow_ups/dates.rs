//! Days in a person's time zone: a due date means that day where the person is, and "today" is
//! their today. Times are stored as UTC instants; days as dates.

use chrono::{Duration, NaiveDate, NaiveDateTime, NaiveTime, SubsecRound, TimeZone};
use chrono_tz::Tz;

/// The zone of a stored IANA name; UTC for a name this build does not know (a name is checked
/// when it is set, so only a zone removed from a later database could fall back).
pub fn zone(name: &str) -> Tz {
    name.parse().unwrap_or(Tz::UTC)
}

/// The UTC instant at which `day` begins in `tz`. Where a day starts in a daylight-saving gap
/// (some zones move midnight forward), the first instant that exists that day.
pub fn start_of_day(tz: Tz, day: NaiveDate) -> NaiveDateTime {
    let midnight = day.and_time(NaiveTime::MIN);
    for minutes in (0..=180).step_by(15) {
        let local = midnight + Duration::minutes(minutes);
        if let Some(at) = tz.from_local_datetime(&local).earliest() {
            return at.naive_utc().trunc_subsecs(6);
        }
    }
    // No zone skips more than three hours: reading the day in UTC is the safe fallback.
    midnight
}

/// The day `at` (a UTC instant) falls on in `tz`.
pub fn day_of(tz: Tz, at: NaiveDateTime) -> NaiveDate {
    tz.from_utc_datetime(&at).date_naive()
}

/// Today in `tz` at `now`, with the instants it starts and ends at (the next day's start).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Today {
    pub day: NaiveDate,
    pub starts: NaiveDateTime,
    pub ends: NaiveDateTime,
}

pub fn today(tz: Tz, now: NaiveDateTime) -> Today {
    let day = day_of(tz, now);
    let next = day.succ_opt().unwrap_or(day);
    Today { day, starts: start_of_day(tz, day), ends: start_of_day(tz, next) }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(raw: &str) -> NaiveDateTime {
        NaiveDateTime::parse_from_str(raw, "%Y-%m-%d %H:%M").unwrap()
    }

    #[test]
    fn a_day_starts_at_local_midnight() {
        let la = zone("America/Los_Angeles");
        let day = NaiveDate::from_ymd_opt(2026, 9, 20).unwrap();
        assert_eq!(start_of_day(la, day), at("2026-09-20 07:00"));
        assert_eq!(day_of(la, at("2026-09-20 06:59")), day.pred_opt().unwrap());
        assert_eq!(day_of(la, at("2026-09-20 07:00")), day);
    }

    #[test]
    fn a_day_that_starts_in_a_gap_starts_when_the_clock_does() {
        // Santiago moved its clocks from 00:00 to 01:00 on 2026-09-06.
        let santiago = zone("America/Santiago");
        let day = NaiveDate::from_ymd_opt(2026, 9, 6).unwrap();
        let start = start_of_day(santiago, day);
        assert_eq!(day_of(santiago, start), day);
        assert!(day_of(santiago, start - Duration::minutes(1)) < day);
    }

    #[test]
    fn today_spans_the_local_day_also_across_a_clock_change() {
        let berlin = zone("Europe/Berlin");
        let today = today(berlin, at("2026-10-25 12:00"));
        assert_eq!(today.day, NaiveDate::from_ymd_opt(2026, 10, 25).unwrap());
        assert_eq!(today.ends - today.starts, Duration::hours(25), "the day the clocks go back");
    }

    #[test]
    fn an_unknown_zone_name_reads_as_utc() {
        assert_eq!(zone("Mars/Olympus"), Tz::UTC);
    }
}
