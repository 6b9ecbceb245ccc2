//! A token bucket per key, in this process: enough to stop one person's client from firing scans
//! in a loop. Behind several replicas each replica keeps its own buckets.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Instant;

use crate::error::Error;

pub struct Buckets {
    capacity: f64,
    per_second: f64,
    state: Mutex<HashMap<String, (f64, Instant)>>,
}

/// Past this many keys the buckets are forgotten (all full again), bounding memory.
const MAX_KEYS: usize = 100_000;

impl Buckets {
    pub fn new(capacity: u32, per_second: u32) -> Self {
        Self {
            capacity: f64::from(capacity),
            per_second: f64::from(per_second),
            state: Mutex::new(HashMap::new()),
        }
    }

    /// Takes one token for `key`, or says in how many seconds one is free (429 `rate_limited`).
    pub fn take(&self, key: &str, what: &str) -> Result<(), Error> {
        let now = Instant::now();
        let mut state = self.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if state.len() >= MAX_KEYS && !state.contains_key(key) {
            state.clear();
        }
        let (tokens, last) = state.entry(key.to_owned()).or_insert((self.capacity, now));
        *tokens = (*tokens + now.duration_since(*last).as_secs_f64() * self.per_second)
            .min(self.capacity);
        *last = now;
        if *tokens >= 1.0 {
            *tokens -= 1.0;
            return Ok(());
        }
        let wait = ((1.0 - *tokens) / self.per_second).ceil();
        Err(Error::rate_limited(
            wait as u64,
            format!("Too many {what}; slow down and retry after the given time."),
        ))
    }
}
