//! Locks that hold across API processes for as long as something runs (one badge sheet, one
//! export per person): PostgreSQL session advisory locks, on one connection of the process's own.
//!
//! Backend-specific: PostgreSQL only (on SQLite one process owns the file, and its in-memory
//! slots suffice). The connection is not pooled: a session lock belongs to the connection that
//! took it, so it must stay out of the pool, and must reach PostgreSQL directly or through a
//! pooler in session mode (in transaction mode the lock would land on some other client's
//! server connection). A process that dies closes its connection, and PostgreSQL releases its
//! locks at once: no lease to expire, no lock outliving its holder.
//!
//! Session advisory locks are re-entrant within a session: the same process taking a key twice
//! gets it twice. Callers keep their own one-at-a-time rule in the process first (`Slots`).

use std::sync::Mutex;

use diesel::pg::PgConnection;
use diesel::sql_types::{BigInt, Bool};
use diesel::{Connection, QueryableByName, RunQueryDsl};
use sha2::{Digest, Sha256};

use crate::error::{Error, Result};

pub struct SessionLocks {
    url: String,
    conn: Mutex<Option<PgConnection>>,
}

#[derive(QueryableByName)]
struct Taken {
    #[diesel(sql_type = Bool)]
    taken: bool,
}

impl SessionLocks {
    /// Connects on first use, so that a process that never takes a lock holds no connection.
    pub fn new(url: &str) -> Self {
        Self { url: url.to_owned(), conn: Mutex::new(None) }
    }

    /// Takes `key`'s lock unless another session holds it. Blocking: call off the executor.
    pub fn try_lock(&self, key: &str) -> Result<bool> {
        let id = lock_id(key);
        self.with_conn(|conn| {
            let rows: Vec<Taken> = diesel::sql_query("SELECT pg_try_advisory_lock($1) AS taken")
                .bind::<BigInt, _>(id)
                .load(conn)?;
            Ok(rows.first().is_some_and(|row| row.taken))
        })
    }

    /// Gives `key`'s lock back. Blocking. A lock lost with a broken connection is gone already.
    pub fn unlock(&self, key: &str) {
        let id = lock_id(key);
        let released = self.with_conn(|conn| {
            diesel::sql_query("SELECT pg_advisory_unlock($1)")
                .bind::<BigInt, _>(id)
                .execute(conn)?;
            Ok(())
        });
        if let Err(error) = released {
            tracing::warn!(?error, "could not release a session lock (its connection is gone)");
        }
    }

    /// Runs `f` on the connection, opening it when there is none. A failed call drops the
    /// connection (the server releases every lock it held), and the next call opens another.
    fn with_conn<T>(
        &self,
        f: impl FnOnce(&mut PgConnection) -> diesel::QueryResult<T>,
    ) -> Result<T> {
        let mut slot = self.conn.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        let conn = match slot.as_mut() {
            Some(conn) => conn,
            None => slot.insert(PgConnection::establish(&self.url).map_err(Error::internal)?),
        };
        let outcome = f(conn);
        if outcome.is_err() {
            *slot = None;
        }
        Ok(outcome?)
    }
}

/// A 64-bit advisory-lock id for `key`. A collision only makes two people share a slot.
fn lock_id(key: &str) -> i64 {
    let digest = Sha256::new_with_prefix(b"hallway:slot:").chain_update(key.as_bytes()).finalize();
    let mut bytes = [0u8; 8];
    bytes.copy_from_slice(&digest[..8]);
    i64::from_be_bytes(bytes)
}
