//! Digest emails: one per person and period (a day, or an ISO week from Monday), at the hour they
//! chose in their time zone, listing what is due today and overdue (the first
//! [`DIGEST_ITEMS`], then a count of the rest). Nobody with nothing due gets one. A period is
//! recorded in the transaction that queues its email, under a unique key: never twice.

use std::collections::HashMap;

use chrono::{Datelike, Duration, NaiveDateTime, TimeZone, Timelike};
use chrono_tz::Tz;

use super::{DIGEST_ITEMS, Digest, FollowUpView, Kind, dates};
use crate::db::digests::{self, Reader};
use crate::db::follow_ups::{self as store, QueueRange};
use crate::db::schema::events;
use crate::db::{DbConn, attendees as member_store, connections as connection_store};
use crate::domain::attendees::shown_name;
use crate::error::Result;
use crate::mail::{self, templates};
use diesel::prelude::*;

/// The period whose digest is due for a person at `now`, if its hour has come: `d2026-09-21`
/// from the hour on that day, `w2026-W39` from the hour on that week's Monday (in `tz`).
pub fn period(digest: Digest, hour: i32, tz: Tz, now: NaiveDateTime) -> Option<String> {
    let local = tz.from_utc_datetime(&now);
    let reached = i64::from(local.hour()) >= i64::from(hour);
    match digest {
        Digest::None => None,
        Digest::Daily => reached.then(|| format!("d{}", local.date_naive())),
        Digest::Weekly => {
            let day = local.date_naive();
            let monday = day - Duration::days(i64::from(day.weekday().num_days_from_monday()));
            let week = day.iso_week();
            (day > monday || reached).then(|| format!("w{}-W{:02}", week.year(), week.week()))
        }
    }
}

/// Records the reader's digest of `period` and queues its email if anything is due; gives back
/// whether an email was queued. Nothing happens when the period is recorded already.
pub fn send(
    conn: &mut DbConn,
    reader: &Reader,
    period: &str,
    public_url: &str,
    now: NaiveDateTime,
) -> Result<bool> {
    let (account_id, email, _, time_zone, _, _) = reader;
    let tz = dates::zone(time_zone);
    let today = dates::today(tz, now);
    let total = store::count_open_before(conn, account_id, today.ends)?;
    let items = i32::try_from(total).unwrap_or(i32::MAX);
    // Recorded at the clock's time, not the job's: the record's age is what its purge reads.
    if !digests::record(conn, account_id, period, items, crate::db::now())? || total == 0 {
        return Ok(false);
    }
    let range = QueueRange { open: true, from: None, before: Some(today.ends) };
    let rows = store::queue_page(conn, account_id, range, None, DIGEST_ITEMS)?;
    let connection_ids: Vec<String> = rows.iter().map(|r| r.connection_id.clone()).collect();
    let others: HashMap<String, String> = connection_store::find_many(conn, &connection_ids)?
        .into_iter()
        .map(|c| (c.id, c.other_id))
        .collect();
    let other_ids: Vec<String> = others.values().cloned().collect();
    let names: HashMap<String, String> = member_store::find_many(conn, &other_ids)?
        .into_iter()
        .map(|(m, email, display)| (m.id.clone(), shown_name(&m, &email, display.as_deref())))
        .collect();
    let event_ids: Vec<String> = rows.iter().map(|r| r.event_id.clone()).collect();
    let event_names: HashMap<String, String> = events::table
        .filter(events::id.eq_any(&event_ids))
        .select((events::id, events::name))
        .load::<(String, String)>(conn)?
        .into_iter()
        .collect();
    let lines: Vec<templates::DigestLine> = rows
        .into_iter()
        .map(|row| {
            let name = others.get(&row.connection_id).and_then(|o| names.get(o)).cloned();
            let event = event_names.get(&row.event_id).cloned().unwrap_or_default();
            let view = FollowUpView::new(row, tz);
            let due_on = view.due().day(tz);
            templates::DigestLine {
                name: name.unwrap_or_default(),
                event,
                kind: Kind::parse(&view.row.kind).unwrap_or(Kind::Other).as_str(),
                note: view.row.note.clone(),
                due_on,
                overdue: due_on < today.day,
            }
        })
        .collect();
    let message = templates::digest(email, &lines, total, public_url);
    mail::queue(conn, &message, mail::Origin::default())?;
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(raw: &str) -> NaiveDateTime {
        NaiveDateTime::parse_from_str(raw, "%Y-%m-%d %H:%M").unwrap()
    }

    #[test]
    fn a_daily_digest_is_due_from_its_hour_in_the_persons_zone() {
        let la = dates::zone("America/Los_Angeles");
        // 14:59 UTC is 07:59 in Los Angeles (PDT).
        assert_eq!(period(Digest::Daily, 8, la, at("2026-09-21 14:59")), None);
        assert_eq!(
            period(Digest::Daily, 8, la, at("2026-09-21 15:00")).as_deref(),
            Some("d2026-09-21")
        );
        assert_eq!(period(Digest::None, 0, la, at("2026-09-21 15:00")), None);
    }

    #[test]
    fn a_weekly_digest_is_due_from_mondays_hour_all_week() {
        let utc = dates::zone("UTC");
        // 2026-09-21 is a Monday.
        assert_eq!(period(Digest::Weekly, 9, utc, at("2026-09-21 08:00")), None);
        let key = period(Digest::Weekly, 9, utc, at("2026-09-21 09:00"));
        assert_eq!(key.as_deref(), Some("w2026-W39"));
        assert_eq!(period(Digest::Weekly, 9, utc, at("2026-09-24 02:00")), key, "later that week");
        assert_eq!(period(Digest::Weekly, 9, utc, at("2026-09-28 08:59")), None, "next Monday");
    }
}
