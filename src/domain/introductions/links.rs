//! The emailed links: a token opens a small page (no sign-in, no scripts) whose two buttons POST
//! the choice; opening it decides nothing, because mail scanners open every link. A token that
//! opens nothing (used, expired, of an answered introduction, guessed, malformed) always gets the
//! same 404.

use chrono::NaiveDateTime;

use super::{Choice, Outcome, answer, answerable, hash};
use crate::db::introductions as store;
use crate::db::{self, DbConn};
use crate::domain::attendees::Visible;
use crate::error::{Error, ErrorCode, Result};

/// The one answer for every token that opens nothing.
pub fn not_found() -> Error {
    Error::not_found(
        ErrorCode::IntroductionLinkNotFound,
        "This link does not open an introduction.",
    )
}

/// What the page shows: who introduces whom, and the note.
pub struct LinkView {
    pub introducer: String,
    pub other: Visible,
    pub note: String,
    pub expires_at: NaiveDateTime,
}

/// The introduction and side a token opens, if it opens one now.
fn resolve(
    conn: &mut DbConn,
    token: &str,
    now: NaiveDateTime,
) -> Result<(store::Introduction, String)> {
    if token.len() != 64 || !token.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(not_found());
    }
    let found = store::token(conn, &hash(token))?.ok_or_else(not_found)?;
    if found.used_at.is_some() || found.expires_at <= now {
        return Err(not_found());
    }
    let intro = store::find(conn, &found.introduction_id)?.ok_or_else(not_found)?;
    if !answerable(&intro, &found.membership_id, now) {
        return Err(not_found());
    }
    Ok((intro, found.membership_id))
}

/// The page of a token, without deciding anything.
pub fn open(conn: &mut DbConn, token: &str) -> Result<LinkView> {
    let (intro, side) = resolve(conn, token, db::now())?;
    let other_id = if side == intro.side_a { &intro.side_b } else { &intro.side_a };
    let people = super::profiles(conn, &[other_id.clone(), intro.introducer_id.clone()])?;
    let mut other = None;
    let mut introducer = String::new();
    for person in people {
        if person.member.id == *other_id {
            other = Some(person.visible());
        } else {
            introducer = person.name();
        }
    }
    let other = other.ok_or_else(not_found)?;
    let note = if side == intro.side_a { intro.note_a } else { intro.note_b };
    Ok(LinkView { introducer, other, note, expires_at: intro.expires_at })
}

/// The choice posted from the page.
pub fn decide(conn: &mut DbConn, public_url: &str, token: &str, choice: Choice) -> Result<Outcome> {
    let now = db::now();
    let (intro, side) = resolve(conn, token, now)?;
    answer(conn, public_url, &intro, &side, choice, now).map_err(|error| {
        // A concurrent answer from the app: the link is used up, like any other.
        if error.code() == ErrorCode::IntroductionAnswered.as_str() { not_found() } else { error }
    })
}
