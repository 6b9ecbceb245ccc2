//! Token buckets in PostgreSQL, shared by every API process on one database (`rate_buckets`).
//!
//! Backend-specific: only PostgreSQL has the table; on SQLite one process owns the file and keeps
//! its buckets in memory (`http::rate_limit`). The rules (capacity, refill, debt, `Retry-After`)
//! are `http::limits`'; this module only stores and settles.

use diesel::pg::PgConnection;
use diesel::sql_types::{Array, Bool, Double, Nullable, Text};
use diesel::{QueryResult, QueryableByName, RunQueryDsl};

use super::DbConn;

/// What one request asks of one row's buckets, bucket by bucket (all the vectors are as long as
/// the row's group has buckets).
pub struct Settle<'a> {
    pub key: &'a str,
    pub capacities: Vec<f64>,
    /// Tokens each bucket gains per second.
    pub rates: Vec<f64>,
    /// What each bucket must hold for the request to pass (`-inf`: not checked).
    pub needed: Vec<f64>,
    /// What the request takes from each bucket when it passes (more than a bucket holds: debt).
    pub costs: Vec<f64>,
}

/// How a settlement ended.
#[derive(Debug, PartialEq)]
pub enum Settled {
    /// Every bucket held enough; each was charged.
    Granted,
    /// A bucket held too little and nothing was charged. `tokens` and `elapsed` are the row as the
    /// statement's snapshot saw it, for `Retry-After` (a concurrent request may have changed it
    /// since; `None` when the row was made by one).
    Refused { tokens: Option<Vec<f64>>, elapsed_secs: f64 },
}

#[derive(QueryableByName)]
struct Outcome {
    #[diesel(sql_type = Bool)]
    granted: bool,
    #[diesel(sql_type = Nullable<Array<Double>>)]
    tokens: Option<Vec<f64>>,
    #[diesel(sql_type = Nullable<Double>)]
    elapsed: Option<f64>,
}

/// One statement, one round trip: admits the request and charges every bucket, or refuses it and
/// changes nothing. The function (`rate_bucket_settle`, migration `2026-12-03-000400`) runs
/// `INSERT … ON CONFLICT (key) DO UPDATE … WHERE` every bucket holds what the request needs: the
/// row's lock makes concurrent requests from any process settle one after the other on the row's
/// latest state, and refill is reckoned by the database's clock, the same for every process. A
/// refused request writes nothing; its answer carries the row as the statement's snapshot saw it.
///
/// The statement commits without waiting for its WAL to reach the disk (the function sets
/// `synchronous_commit` off for the caller's transaction, which is this autocommitted statement
/// alone): a bucket adds a write to every limited request, scans included, and a flush would
/// double a scan's commit latency. A crash can lose the last fraction of a second of charges,
/// which only refills some buckets early: harmless. (With pgbench on one connection, 300 such
/// commits caused 3 WAL flushes, against 300 without.) It is a PL/pgSQL function because diesel
/// never caches a `sql_query` statement: sent as text, this one was planned on every call.
const SETTLE: &str = "SELECT o_granted AS granted, o_tokens AS tokens, o_elapsed AS elapsed \
                      FROM rate_bucket_settle($1, $2, $3, $4, $5)";

/// Settles `request` (see [`SETTLE`]). A fresh row starts full, so its first request always
/// passes (a bucket refuses only what it could never hold when full, and nothing is that).
pub fn settle(pg: &mut PgConnection, request: &Settle) -> QueryResult<Settled> {
    let rows: Vec<Outcome> = diesel::sql_query(SETTLE)
        .bind::<Text, _>(request.key)
        .bind::<Array<Double>, _>(&request.capacities)
        .bind::<Array<Double>, _>(&request.rates)
        .bind::<Array<Double>, _>(&request.needed)
        .bind::<Array<Double>, _>(&request.costs)
        .load(pg)?;
    Ok(match rows.into_iter().next() {
        Some(Outcome { granted: true, .. }) => Settled::Granted,
        Some(row) => {
            Settled::Refused { tokens: row.tokens, elapsed_secs: row.elapsed.unwrap_or(0.0) }
        }
        None => Settled::Refused { tokens: None, elapsed_secs: 0.0 },
    })
}

/// A row's buckets as stored and the seconds since, without changing or locking it; `None` when
/// the row is missing (its buckets are full). For checks whose charge comes later.
pub fn peek(pg: &mut PgConnection, key: &str) -> QueryResult<Option<(Vec<f64>, f64)>> {
    let rows: Vec<Outcome> = diesel::sql_query(
        "SELECT false AS granted, tokens, \
                greatest(extract(epoch FROM now() - updated_at)::float8, 0) AS elapsed \
           FROM rate_buckets WHERE key = $1",
    )
    .bind::<Text, _>(key)
    .load(pg)?;
    Ok(rows.into_iter().next().and_then(|row| Some((row.tokens?, row.elapsed?))))
}

/// Deletes the rows whose buckets are all full again (they mean what a missing row means), so
/// the table holds only the people who were limited lately. No index on `full_at`: one would
/// stop every settlement from being a HOT update, and the table stays small enough to scan. A
/// row a request settles meanwhile is kept (`DELETE` rechecks `full_at` on the row it locks).
/// Nothing to do on SQLite.
pub fn purge_full(conn: &mut DbConn) -> QueryResult<usize> {
    let DbConn::Postgres(pg) = conn else { return Ok(0) };
    diesel::sql_query("DELETE FROM rate_buckets WHERE full_at <= now()").execute(pg)
}
