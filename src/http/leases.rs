//! Tokens a process has taken from a person's shared bucket ahead of use, spent from memory.
//!
//! A shared bucket costs a statement per request (see [`super::limits`]). For lists of
//! conversation starters, which a person opens many times in a conversation, a process takes a
//! few tokens at a time ([`LEASE`]) and spends them here. The limit still holds across
//! processes: a token is spent only after the database granted it, once. What a lease leaves
//! unspent (the person's next request went to another process) is lost after [`LEASE_LIFE`]:
//! a person spread across processes may be refused a few requests early, never let through late.

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

/// Tokens taken from a shared bucket at once.
pub const LEASE: u64 = 5;
/// How long a lease's tokens may be spent.
pub const LEASE_LIFE: Duration = Duration::from_secs(10);
/// The most people with a lease held at once; past it, no new lease is kept until some expire
/// (its one token is spent, the rest lost), so memory stays bounded.
const MAX_LEASES: usize = 10_000;

#[derive(Default)]
pub struct Leases {
    held: Mutex<HashMap<String, (u64, Instant)>>,
}

impl Leases {
    /// Spends one of `key`'s leased tokens; `false` when none is left (or the lease expired).
    pub fn spend(&self, key: &str) -> bool {
        let mut held = self.held.lock().unwrap_or_else(PoisonError::into_inner);
        match held.get_mut(key) {
            Some((left, at)) if *left > 0 && at.elapsed() < LEASE_LIFE => {
                *left -= 1;
                true
            }
            Some(_) => {
                held.remove(key);
                false
            }
            None => false,
        }
    }

    /// Keeps `left` tokens of a lease just granted for `key`.
    pub fn keep(&self, key: &str, left: u64) {
        let mut held = self.held.lock().unwrap_or_else(PoisonError::into_inner);
        if held.len() >= MAX_LEASES {
            held.retain(|_, (left, at)| *left > 0 && at.elapsed() < LEASE_LIFE);
            if held.len() >= MAX_LEASES {
                return;
            }
        }
        held.insert(key.to_owned(), (left, Instant::now()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_lease_spends_exactly_what_was_kept_then_asks_again() {
        let leases = Leases::default();
        assert!(!leases.spend("ada"), "nothing leased yet");
        leases.keep("ada", 2);
        assert!(leases.spend("ada"));
        assert!(leases.spend("ada"));
        assert!(!leases.spend("ada"), "spent");
        assert!(!leases.spend("bob"), "per person");
    }

    #[test]
    fn an_expired_lease_is_not_spent() {
        let leases = Leases::default();
        leases.keep("ada", 3);
        if let Some((_, at)) = leases.held.lock().unwrap().get_mut("ada") {
            *at -= LEASE_LIFE;
        }
        assert!(!leases.spend("ada"));
    }
}
