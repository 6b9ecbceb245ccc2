//! Badge codes: random, unguessable, QR-friendly; rotating one revokes the old code at once.

use rand::Rng;

use std::collections::{HashMap, HashSet};

use crate::db::attendees::PageFilter;
use crate::db::badges::{self as store, Badge, NewBadge};
use crate::db::{self, DbConn};
use crate::error::{Error, FieldError, Result};
use crate::qr::sheet::Card;

/// Crockford's base32 alphabet: upper case, no I, L, O or U; all in QR's alphanumeric mode.
const ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";
/// 20 symbols of 5 bits: 100 random bits.
pub const CODE_LEN: usize = 20;

/// A new random badge code.
pub fn new_code() -> String {
    random_symbols(CODE_LEN)
}

/// Random codes of `len` symbols of the same alphabet (join codes use it too).
pub fn random_symbols(len: usize) -> String {
    let mut rng = rand::rng();
    (0..len).map(|_| char::from(ALPHABET[rng.random_range(0..ALPHABET.len())])).collect()
}

/// The insert form of a new badge for a membership.
pub fn new_badge(event_id: &str, membership_id: &str) -> NewBadge {
    NewBadge {
        id: db::new_id(),
        event_id: event_id.to_owned(),
        membership_id: membership_id.to_owned(),
        code: new_code(),
        created_at: db::now(),
    }
}

/// Gives a membership its first badge.
pub fn issue(conn: &mut DbConn, event_id: &str, membership_id: &str) -> Result<()> {
    store::insert(conn, &[new_badge(event_id, membership_id)])?;
    Ok(())
}

/// The working badge of a membership.
pub fn active(conn: &mut DbConn, membership_id: &str) -> Result<Badge> {
    store::active(conn, membership_id)?
        .ok_or_else(|| Error::internal(anyhow::anyhow!("membership {membership_id} has no badge")))
}

/// Revokes the membership's badge and issues a new one.
pub fn rotate(conn: &mut DbConn, event_id: &str, membership_id: &str) -> Result<Badge> {
    store::revoke_active(conn, membership_id, db::now())?;
    issue(conn, event_id, membership_id)?;
    active(conn, membership_id)
}

/// The most badges on one sheet: a larger selection is printed in pages of at most this many.
pub const MAX_SHEET_BADGES: usize = 1_000;

/// Which run of badges a sheet holds: the `number`th (from 1) of `size` (1 to
/// [`MAX_SHEET_BADGES`]).
#[derive(Clone, Copy, Debug)]
pub struct SheetPage {
    number: usize,
    size: usize,
}

impl SheetPage {
    /// Page `number` (default 1) of `size` badges (default and most: [`MAX_SHEET_BADGES`]).
    pub fn new(number: Option<usize>, size: Option<usize>) -> Result<Self> {
        let mut errors = Vec::new();
        let number = number.unwrap_or(1);
        if number == 0 {
            errors.push(FieldError::new("page", "must be 1 or more"));
        }
        let size = size.unwrap_or(MAX_SHEET_BADGES);
        if !(1..=MAX_SHEET_BADGES).contains(&size) {
            errors.push(FieldError::new("per_page", format!("must be 1 to {MAX_SHEET_BADGES}")));
        }
        if !errors.is_empty() {
            return Err(Error::validation(errors));
        }
        Ok(Self { number, size })
    }

    pub fn size(self) -> usize {
        self.size
    }
}

/// The cards of one page of a sheet, and how many there are in all.
pub struct SheetCards {
    pub cards: Vec<Card>,
    /// Badges in the whole selection.
    pub total: usize,
    /// Pages of `size` badges the selection makes (1 when it is empty).
    pub pages: usize,
}

/// The cards of the printable sheet (organizers only): everyone with a badge, or those who chose
/// `topic`, or the attendees `ids` (each must be someone of the event, whatever the topic), in the
/// order they were added to the event, one page of them. A page past the last is refused.
pub fn sheet_cards(
    conn: &mut DbConn,
    event_id: &str,
    account_id: &str,
    topic: Option<&str>,
    ids: Option<&[String]>,
    page: SheetPage,
) -> Result<SheetCards> {
    super::attendees::organizer(conn, event_id, account_id)?;
    let topic_id = super::topics::filter_id(conn, event_id, topic)?;
    if let Some(ids) = ids {
        let everyone = PageFilter { directory_only: false, topic_id: None, ids: Some(ids) };
        let found = crate::db::attendees::page(conn, event_id, &everyone, None, i64::MAX)?;
        let found: HashSet<&str> = found.iter().map(|(m, _, _)| m.id.as_str()).collect();
        let unknown: Vec<&str> =
            ids.iter().map(String::as_str).filter(|id| !found.contains(id)).collect();
        if !unknown.is_empty() {
            return Err(Error::invalid_field(
                "attendee_ids",
                format!("not attendees of this event: {}", unknown.join(", ")),
            ));
        }
    }
    let filter = PageFilter { directory_only: false, topic_id: topic_id.as_deref(), ids };
    let members = crate::db::attendees::page(conn, event_id, &filter, None, i64::MAX)?;
    let total = members.len();
    let pages = total.div_ceil(page.size).max(1);
    if page.number > pages {
        return Err(Error::invalid_field(
            "page",
            format!("is past the last page: {total} badges make {pages} of {}", page.size),
        ));
    }
    let start = (page.number - 1) * page.size;
    let members = &members[start..total.min(start + page.size)];
    let member_ids: Vec<String> = members.iter().map(|(m, _, _)| m.id.clone()).collect();
    let mut codes: HashMap<String, String> = store::active_for(conn, event_id, &member_ids)?
        .into_iter()
        .map(|b| (b.membership_id, b.code))
        .collect();
    let cards = members
        .iter()
        .filter_map(|(member, email, display_name)| {
            let code = codes.remove(&member.id)?;
            let name = super::attendees::shown_name(member, email, display_name.as_deref());
            Some(Card { name, company: member.company.clone(), code })
        })
        .collect();
    Ok(SheetCards { cards, total, pages })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_20_crockford_symbols_and_differ() {
        let a = new_code();
        assert_eq!(a.len(), CODE_LEN);
        assert!(a.bytes().all(|b| ALPHABET.contains(&b)));
        assert_ne!(a, new_code());
    }
}
