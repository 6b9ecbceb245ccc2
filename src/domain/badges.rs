//! Badge codes: random, unguessable, QR-friendly; rotating one revokes the old code at once.

use rand::Rng;

use crate::db::badges::{self as store, Badge, NewBadge};
use crate::db::{self, DbConn};
use crate::error::{Error, Result};

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
