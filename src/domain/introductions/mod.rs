//! Introductions (step 4): I put two of my connections in touch, each with a note. Double opt-in:
//! each side accepts or declines from an emailed link (a page whose buttons POST the choice, since
//! mail scanners open every link) or in the app; only when both accept do they become each
//! other's connections (marked as introduced by me, with my note), each with a `meet` follow-up,
//! and all three get an email. A decline is never shown to the other side; the introducer sees it
//! as "not this time". Unanswered introductions expire after [`VALID_DAYS`] days.

pub mod links;
pub mod list;
pub mod people;
pub mod suggestions;

use std::collections::HashMap;

use chrono::{Duration, NaiveDateTime};
use rand::RngCore;
use sha2::{Digest, Sha256};

use super::attendees::{self, Profile, Visible};
use super::follow_ups::manage::{self, Draft};
use super::follow_ups::{Due, Kind, dates};
use super::quotas;
use crate::config::Quotas;
use crate::db::connections::{self as connection_store, NewConnection};
use crate::db::introductions::{self as store, Introduction, Token};
use crate::db::{self, DbConn, attendees as member_store};
use crate::error::{Error, ErrorCode, Result};
use crate::mail::{self, Origin};

/// The longest note to one side, in characters.
pub const MAX_NOTE: usize = 500;
/// Introductions one person may make in 24 hours (each is two emails to people who did not ask).
pub const PER_DAY: i64 = 20;
/// How long an introduction waits for answers, and its links work.
pub const VALID_DAYS: i64 = 14;
/// Random bytes of an emailed token (256 bits).
const TOKEN_BYTES: usize = 32;
/// Days after both accepted that their `meet` follow-ups are due.
pub const MEET_WITHIN_DAYS: i64 = 7;

pub const ACCEPTED: &str = "accepted";
pub const DECLINED: &str = "declined";

/// A side's answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Choice {
    Accept,
    Decline,
}

impl Choice {
    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "accept" => Some(Self::Accept),
            "decline" => Some(Self::Decline),
            _ => None,
        }
    }

    fn stored(self) -> &'static str {
        match self {
            Self::Accept => ACCEPTED,
            Self::Decline => DECLINED,
        }
    }
}

/// A valid request to introduce two people, each with a note written to them.
pub struct Request {
    pub first: String,
    pub note_to_first: String,
    pub second: String,
    pub note_to_second: String,
}

fn cannot_introduce() -> Error {
    // One answer for a person closed to introductions, a block either way, and a pair that
    // declined before: the introducer learns none of these apart.
    Error::conflict(
        ErrorCode::CannotIntroduce,
        "These two people cannot be introduced: one of them does not take introductions now.",
    )
}

pub fn not_found() -> Error {
    Error::not_found(ErrorCode::IntroductionNotFound, "You have no introduction with this id.")
}

/// Introduces two of the caller's connections in the event; queues one email to each.
pub fn introduce(
    conn: &mut DbConn,
    quotas: &Quotas,
    public_url: &str,
    event_id: &str,
    account_id: &str,
    request: Request,
) -> Result<Introduction> {
    let (me, _, _) = attendees::member(conn, event_id, account_id)?;
    if request.first == request.second {
        return Err(Error::unprocessable(
            ErrorCode::CannotIntroduceToThemselves,
            "An introduction needs two different people.",
        ));
    }
    if request.first == me.id || request.second == me.id {
        return Err(Error::unprocessable(
            ErrorCode::CannotIntroduceYourself,
            "Introduce two of your connections; to meet someone yourself, scan their badge.",
        ));
    }
    let people = member_store::find_many(conn, &[request.first.clone(), request.second.clone()])?;
    if people.len() != 2 || people.iter().any(|(m, _, _)| m.event_id != event_id) {
        return Err(Error::unprocessable(
            ErrorCode::AttendeeNotInEvent,
            "Both people must be attendees of this event.",
        ));
    }
    let mine = connection_store::between(
        conn,
        event_id,
        &me.id,
        &[request.first.clone(), request.second.clone()],
    )?;
    let connected = |other: &str| {
        mine.iter().any(|c| c.owner_id == me.id && c.other_id == other && c.deleted_at.is_none())
    };
    if !connected(&request.first) || !connected(&request.second) {
        return Err(Error::unprocessable(
            ErrorCode::NotYourConnection,
            "You can introduce only people you are connected with in this event.",
        ));
    }
    let together = connection_store::between(
        conn,
        event_id,
        &request.first,
        std::slice::from_ref(&request.second),
    )?;
    if together.iter().any(|c| c.deleted_at.is_none()) {
        return Err(Error::conflict(
            ErrorCode::AlreadyConnected,
            "These two are connected already.",
        ));
    }
    let (a, b) = ordered(&request.first, &request.second);
    let history = store::of_pair(conn, event_id, a, b)?;
    if history.iter().any(|i| i.state == "pending") {
        return Err(Error::conflict(
            ErrorCode::IntroductionPending,
            "These two have an introduction waiting for their answers.",
        ));
    }
    let declined = history.iter().any(|i| i.state == DECLINED);
    let closed = people.iter().any(|(m, _, _)| !m.open_to_introductions);
    if declined
        || closed
        || store::blocked_between(conn, &request.first, &request.second)?
        || store::blocked_between(conn, &me.id, &request.first)?
        || store::blocked_between(conn, &me.id, &request.second)?
    {
        return Err(cannot_introduce());
    }
    let now = db::now();
    check_daily(conn, account_id, now)?;
    quotas::charge_mail(conn, quotas, account_id, event_id, 2)?;

    let profiles = attendees::with_topics(conn, people)?;
    let by_id: HashMap<String, Profile> =
        profiles.into_iter().map(|p| (p.member.id.clone(), p)).collect();
    let (Some(pa), Some(pb)) = (by_id.get(a), by_id.get(b)) else {
        return Err(Error::internal(anyhow::anyhow!("introduced people vanished")));
    };
    let (note_a, note_b) = if a == request.first {
        (request.note_to_first, request.note_to_second)
    } else {
        (request.note_to_second, request.note_to_first)
    };
    let row = Introduction {
        id: db::new_id(),
        event_id: event_id.to_owned(),
        introducer_id: me.id.clone(),
        introducer_account_id: account_id.to_owned(),
        side_a: a.to_owned(),
        side_a_account_id: pa.member.account_id.clone(),
        side_b: b.to_owned(),
        side_b_account_id: pb.member.account_id.clone(),
        note_a,
        note_b,
        answer_a: None,
        answer_b: None,
        state: "pending".to_owned(),
        created_at: now,
        expires_at: now + Duration::days(VALID_DAYS),
        decided_at: None,
    };
    let (token_a, token_b) = (new_token(), new_token());
    let tokens = [(&token_a, a), (&token_b, b)].map(|(token, side)| Token {
        token_hash: hash(token),
        introduction_id: row.id.clone(),
        membership_id: side.to_owned(),
        expires_at: row.expires_at,
        used_at: None,
    });
    match store::insert(conn, &row, &tokens) {
        Err(diesel::result::Error::DatabaseError(
            diesel::result::DatabaseErrorKind::UniqueViolation,
            _,
        )) => {
            return Err(Error::conflict(
                ErrorCode::IntroductionPending,
                "These two have an introduction waiting for their answers.",
            ));
        }
        other => other?,
    }
    let introducer = introducer_name(conn, event_id, account_id)?;
    let origin = Origin { sender_id: Some(account_id), event_id: Some(event_id) };
    for (to, other, note, token) in
        [(pa, pb, &row.note_a, &token_a), (pb, pa, &row.note_b, &token_b)]
    {
        let message = mail::introductions::invitation(&mail::introductions::Invitation {
            to: &to.email,
            introducer: &introducer,
            other: &other.clone().visible(),
            note,
            link: &format!("{public_url}/v1/introduction-links/{token}"),
            valid_days: VALID_DAYS,
        });
        mail::queue(conn, &message, origin)?;
    }
    Ok(row)
}

/// Refuses with 429 when the account made [`PER_DAY`] introductions in the last 24 hours; counted
/// in the database under the account's lock, so the budget holds across processes.
fn check_daily(conn: &mut DbConn, account_id: &str, now: NaiveDateTime) -> Result<()> {
    db::accounts::lock(conn, account_id)?;
    let (made, oldest) = store::made_since(conn, account_id, now - quotas::WINDOW)?;
    if made < PER_DAY {
        return Ok(());
    }
    let frees_at = oldest.map_or(now + quotas::WINDOW, |t| t + quotas::WINDOW);
    let wait = u64::try_from((frees_at - now).num_seconds()).unwrap_or(0) + 1;
    Err(Error::quota_exceeded(
        wait,
        format!("You may make {PER_DAY} introductions in 24 hours; try again later."),
    ))
}

fn introducer_name(conn: &mut DbConn, event_id: &str, account_id: &str) -> Result<String> {
    let member = attendees::member(conn, event_id, account_id)?;
    Ok(attendees::shown_name(&member.0, &member.1, member.2.as_deref()))
}

/// These members' profiles with their topics.
pub(crate) fn profiles(conn: &mut DbConn, ids: &[String]) -> Result<Vec<Profile>> {
    let members = member_store::find_many(conn, ids)?;
    attendees::with_topics(conn, members)
}

/// The pair in key order.
fn ordered<'a>(x: &'a str, y: &'a str) -> (&'a str, &'a str) {
    if x < y { (x, y) } else { (y, x) }
}

fn new_token() -> String {
    let mut bytes = [0u8; TOKEN_BYTES];
    rand::rng().fill_bytes(&mut bytes);
    hex(&bytes)
}

pub(crate) fn hash(token: &str) -> String {
    hex(&Sha256::digest(token.as_bytes()))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// What an answer came to, for the one who gave it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Recorded; the other side has not accepted (yet).
    Waiting,
    /// Both accepted: they are connected now.
    Connected,
    /// Declined.
    Declined,
}

/// The caller answers an introduction made to them, in the app.
pub fn respond(
    conn: &mut DbConn,
    public_url: &str,
    account_id: &str,
    id: &str,
    choice: Choice,
) -> Result<Outcome> {
    let intro = store::find(conn, id)?.ok_or_else(not_found)?;
    let side = if intro.side_a_account_id == account_id {
        intro.side_a.clone()
    } else if intro.side_b_account_id == account_id {
        intro.side_b.clone()
    } else {
        return Err(not_found());
    };
    let now = db::now();
    if !answerable(&intro, &side, now) {
        return Err(Error::conflict(
            ErrorCode::IntroductionAnswered,
            "This introduction has your answer already, or has expired.",
        ));
    }
    answer(conn, public_url, &intro, &side, choice, now)
}

/// Whether `side` may still answer: no answer of theirs yet, not accepted or expired. A decline
/// by the other side leaves it answerable, so that nobody learns of it.
fn answerable(intro: &Introduction, side: &str, now: NaiveDateTime) -> bool {
    let mine = if side == intro.side_a { &intro.answer_a } else { &intro.answer_b };
    mine.is_none()
        && (intro.state == "pending" || intro.state == DECLINED)
        && intro.expires_at > now
}

/// Records `side`'s answer; on the second acceptance connects the pair.
fn answer(
    conn: &mut DbConn,
    public_url: &str,
    intro: &Introduction,
    side: &str,
    choice: Choice,
    now: NaiveDateTime,
) -> Result<Outcome> {
    let is_a = side == intro.side_a;
    // The answer's row update takes the row's lock on PostgreSQL: two answers at once queue.
    let recorded = store::answer(conn, &intro.id, is_a, choice.stored())?;
    if !recorded {
        return Err(Error::conflict(
            ErrorCode::IntroductionAnswered,
            "This introduction has your answer already, or has expired.",
        ));
    }
    store::use_tokens(conn, &intro.id, side, now)?;
    let fresh = store::find(conn, &intro.id)?.ok_or_else(not_found)?;
    match choice {
        Choice::Decline => {
            if fresh.state == "pending" {
                store::decide(conn, &intro.id, DECLINED, now)?;
            }
            Ok(Outcome::Declined)
        }
        Choice::Accept
            if fresh.answer_a.as_deref() == Some(ACCEPTED)
                && fresh.answer_b.as_deref() == Some(ACCEPTED) =>
        {
            if store::decide(conn, &intro.id, ACCEPTED, now)? == 1 {
                connect(conn, public_url, &fresh, now)?;
            }
            Ok(Outcome::Connected)
        }
        Choice::Accept => Ok(Outcome::Waiting),
    }
}

/// Both accepted: each gets the other as a connection (introduced by the introducer, with the
/// note written to them, stamped for delta sync), a `meet` follow-up, and all three an email.
fn connect(
    conn: &mut DbConn,
    public_url: &str,
    intro: &Introduction,
    now: NaiveDateTime,
) -> Result<()> {
    let event_id = &intro.event_id;
    let (a, b) = (&intro.side_a, &intro.side_b);
    let existing = connection_store::between(conn, event_id, a, std::slice::from_ref(b))?;
    let mut rows = Vec::new();
    for (owner, other) in [(a, b), (b, a)] {
        match existing.iter().find(|c| &c.owner_id == owner) {
            Some(found) => {
                connection_store::record_meetings(conn, &found.id, now, now, 0, now)?;
            }
            None => rows.push(NewConnection {
                id: db::new_id(),
                event_id: event_id.clone(),
                owner_id: owner.clone(),
                other_id: other.clone(),
                first_met_at: now,
                last_met_at: now,
                scan_count: 0,
                created_at: now,
                updated_at: now,
            }),
        }
    }
    rows.sort_by(|x, y| (&x.owner_id, &x.other_id).cmp(&(&y.owner_id, &y.other_id)));
    connection_store::insert_missing(conn, &rows)?;
    let sides = connection_store::between(conn, event_id, a, std::slice::from_ref(b))?;
    let people = profiles(conn, &[a.clone(), b.clone(), intro.introducer_id.clone()])?;
    let by_id: HashMap<&str, &Profile> = people.iter().map(|p| (p.member.id.as_str(), p)).collect();
    let name = |id: &str| by_id.get(id).map(|p| p.name()).unwrap_or_default();
    let introducer = name(&intro.introducer_id);
    for side in &sides {
        let note = if side.owner_id == *a { &intro.note_a } else { &intro.note_b };
        connection_store::introduced(conn, &side.id, &intro.introducer_id, note, now)?;
    }
    let owners: Vec<String> = vec![a.clone(), b.clone()];
    let ids: Vec<String> = sides.iter().map(|c| c.id.clone()).collect();
    db::changes::stamp_connections(conn, event_id, &owners, &ids)?;
    for side in &sides {
        let Some(owner) = by_id.get(side.owner_id.as_str()) else { continue };
        let tz = manage::zone_of(conn, &owner.member.account_id)?;
        let due = Due::On(dates::day_of(tz, now) + Duration::days(MEET_WITHIN_DAYS));
        let draft = Draft {
            kind: Kind::Meet,
            note: Some(format!(
                "Meet {}, introduced by {introducer}",
                mail::templates::one_line(&name(&side.other_id), 100)
            )),
            due,
            origin_starter_id: None,
        };
        manage::create(conn, event_id, &owner.member.account_id, &side.id, draft)?;
    }
    // One email to each of the three; no quota: the introduction paid for its mail.
    let origin = Origin { sender_id: Some(&intro.introducer_account_id), event_id: Some(event_id) };
    for (to, other) in [(a, b), (b, a)] {
        let (Some(to), Some(other)) = (by_id.get(to.as_str()), by_id.get(other.as_str())) else {
            continue;
        };
        let visible: Visible = (*other).clone().visible();
        let message = mail::introductions::connected(&to.email, &visible, &introducer, public_url);
        mail::queue(conn, &message, origin)?;
    }
    if let Some(introducer) = by_id.get(intro.introducer_id.as_str()) {
        let message =
            mail::introductions::accepted(&introducer.email, &name(a), &name(b), public_url);
        mail::queue(conn, &message, origin)?;
    }
    Ok(())
}

/// Expires the introductions whose time ran out by `now`, up to `limit`; gives back how many.
pub fn expire_due(conn: &mut DbConn, now: NaiveDateTime, limit: i64) -> Result<usize> {
    let ids = store::expiring(conn, now, limit)?;
    if ids.is_empty() {
        return Ok(0);
    }
    Ok(store::expire(conn, &ids, now)?)
}

/// Blocks a person of the event for the caller: gone from the caller's lists, never introduced
/// to or by them.
pub fn block(conn: &mut DbConn, event_id: &str, account_id: &str, attendee_id: &str) -> Result<()> {
    let (me, _, _) = attendees::member(conn, event_id, account_id)?;
    let other = member_store::find(conn, event_id, attendee_id)?.ok_or_else(|| {
        Error::not_found(ErrorCode::AttendeeNotFound, "No attendee with this id in this event.")
    })?;
    if other.0.id == me.id {
        return Err(Error::unprocessable(ErrorCode::CannotBlockSelf, "You cannot block yourself."));
    }
    store::block(conn, event_id, &me.id, &other.0.id, db::now())?;
    Ok(())
}

pub fn unblock(
    conn: &mut DbConn,
    event_id: &str,
    account_id: &str,
    attendee_id: &str,
) -> Result<()> {
    let (me, _, _) = attendees::member(conn, event_id, account_id)?;
    store::unblock(conn, &me.id, attendee_id)?;
    Ok(())
}
