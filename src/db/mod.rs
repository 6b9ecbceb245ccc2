//! Storage: one diesel schema over SQLite (embedded default) and PostgreSQL (production).
//!
//! The backend is picked from the `DATABASE_URL` scheme by our own r2d2 manager, because diesel's
//! `MultiConnection::establish` tries each backend in turn and hides the real connection error.
//! Synchronous diesel work runs on actix's blocking pool through [`Db::read`] and [`Db::write`],
//! except SQLite's writes, which run on the writer's own thread (see [`writer`]).

pub mod accounts;
pub mod attendees;
pub mod auth;
pub mod badges;
pub mod calendar_feeds;
pub mod changes;
pub mod connections;
pub mod departures;
pub mod digests;
pub mod events;
pub mod exports;
pub mod follow_ups;
pub mod introductions;
pub mod outbox;
pub mod post_event;
pub mod rate_buckets;
pub mod scans;
pub mod schema;
pub mod session_locks;
pub mod starters;
pub mod tombstones;
pub mod topics;
mod writer;

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

use anyhow::Context;
use chrono::{NaiveDateTime, SubsecRound, Utc};
use diesel::connection::SimpleConnection;
use diesel::connection::TransactionManager;
use diesel::pg::PgConnection;
use diesel::r2d2::{self, ManageConnection, Pool, PooledConnection, R2D2Connection};
use diesel::sqlite::SqliteConnection;
use diesel::{Connection, ConnectionError};
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};

use crate::error::{Error, Result};

/// A multi-row INSERT of `$rows` into `$table`. diesel's `MultiConnection` cannot express batch
/// inserts, so this runs on the backend's own connection (the same SQL on both).
macro_rules! insert_batch {
    ($conn:expr, $table:expr, $rows:expr) => {
        match $conn {
            $crate::db::DbConn::Postgres(pg) => {
                diesel::insert_into($table).values($rows).execute(pg)
            }
            $crate::db::DbConn::Sqlite(lite) => {
                diesel::insert_into($table).values($rows).execute(lite)
            }
        }
    };
}
pub(crate) use insert_batch;

/// The page cache of each pooled SQLite connection, in KiB. Small: SQLite drops a connection's
/// cache whenever another connection has written since it last read, and every write is made by
/// the writer's own connection, so a reader's cache rarely lives past one request.
pub const READER_CACHE_KIB: u32 = 512;

/// Rows per multi-row INSERT: well under SQLite's and PostgreSQL's bound-parameter limits.
pub const BATCH_ROWS: usize = 500;

const POSTGRES_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/postgres");
const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/sqlite");

/// A connection to either backend; queries written against it run on both.
#[derive(diesel::MultiConnection)]
pub enum DbConn {
    Postgres(PgConnection),
    Sqlite(SqliteConnection),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Postgres,
    Sqlite,
}

/// Picks the backend from a `DATABASE_URL`: `postgres://` or `postgresql://` is PostgreSQL;
/// `sqlite://PATH`, `sqlite:PATH` or a bare path is SQLite. Returns the target to connect to.
pub fn parse_url(url: &str) -> (Backend, String) {
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        return (Backend::Postgres, url.to_owned());
    }
    let path = url.strip_prefix("sqlite://").or_else(|| url.strip_prefix("sqlite:")).unwrap_or(url);
    (Backend::Sqlite, path.to_owned())
}

/// An r2d2 manager that connects to the backend named by the URL's scheme.
#[derive(Clone)]
pub struct Manager {
    backend: Backend,
    target: String,
}

/// When (Unix seconds) a pooled connection was last found closed by the server; 0: never.
/// Process-wide: a process talks to one database (tests aside, where it costs a `SELECT 1`).
static BROKEN_SEEN: AtomicI64 = AtomicI64::new(0);

/// After a connection is found closed by the server, for this long, reads check each connection
/// before use: the others in the pool most likely died with it (a database restart).
const SUSPECT_FOR_SECS: i64 = 30;

/// Whether a connection was found closed by the server less than [`SUSPECT_FOR_SECS`] ago.
fn suspect() -> bool {
    Utc::now().timestamp() - BROKEN_SEEN.load(Ordering::Relaxed) < SUSPECT_FOR_SECS
}

impl ManageConnection for Manager {
    type Connection = DbConn;
    type Error = r2d2::Error;

    fn connect(&self) -> Result<DbConn, r2d2::Error> {
        match self.backend {
            Backend::Postgres => {
                let mut conn =
                    PgConnection::establish(&self.target).map_err(r2d2::Error::ConnectionError)?;
                // Every query Hallway runs is served by an index. Cached (generic) plans are made
                // from a connection's first executions, often while a table is nearly empty (an
                // event's first minutes), when a sequential scan looks cheapest; that plan would
                // stay as the table grows. Steering the planner off sequential scans keeps cached
                // plans on the indexes (the statistics catch up later; the plans would not).
                // No JIT: its compilation costs tens of milliseconds a statement, far more than
                // any of Hallway's short statements runs, and a plan made with sequential scans
                // off looks costly enough to PostgreSQL to compile every time. Index pages are
                // priced as pages in memory (PostgreSQL's default prices a random read as on a
                // spinning disk): otherwise a join of ten rows to 500 topics read every topic's
                // index entry instead of looking ten up (BENCHMARKS, issue 10).
                let settings =
                    "SET enable_seqscan = off; SET jit = off; SET random_page_cost = 1.1";
                conn.batch_execute(settings).map_err(|e| {
                    r2d2::Error::ConnectionError(ConnectionError::CouldntSetupConfiguration(e))
                })?;
                Ok(DbConn::Postgres(conn))
            }
            Backend::Sqlite => {
                let mut conn = SqliteConnection::establish(&self.target)
                    .map_err(r2d2::Error::ConnectionError)?;
                // busy_timeout must come before journal_mode, or parallel pool start-up fails with
                // "database is locked".
                conn.batch_execute(
                    "PRAGMA busy_timeout = 10000; PRAGMA journal_mode = WAL; \
                     PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON;",
                )
                .map_err(|e| {
                    r2d2::Error::ConnectionError(ConnectionError::CouldntSetupConfiguration(e))
                })?;
                conn.batch_execute(&format!("PRAGMA cache_size = -{READER_CACHE_KIB}")).map_err(
                    |e| r2d2::Error::ConnectionError(ConnectionError::CouldntSetupConfiguration(e)),
                )?;
                Ok(DbConn::Sqlite(conn))
            }
        }
    }

    fn is_valid(&self, conn: &mut DbConn) -> Result<(), r2d2::Error> {
        conn.batch_execute("SELECT 1").map_err(r2d2::Error::QueryError)
    }

    /// diesel's own rule (its r2d2 `ConnectionManager`): a connection given back while its thread
    /// panics may still be inside a transaction that nobody will finish (on PostgreSQL every later
    /// write on it would run in a savepoint of that transaction and never commit), and one whose
    /// transaction manager is broken or open (diesel marks it so when the server closed the
    /// connection) must not serve again. r2d2 drops such a connection and opens a new one.
    fn has_broken(&self, conn: &mut DbConn) -> bool {
        if std::thread::panicking() {
            return true;
        }
        let broken = conn.is_broken();
        if broken {
            BROKEN_SEEN.store(Utc::now().timestamp(), Ordering::Relaxed);
        }
        broken
    }
}

/// The connection pool and how to use it from async code.
#[derive(Clone)]
pub struct Db {
    pool: Pool<Manager>,
    backend: Backend,
    /// SQLite: the one connection that writes, on its own thread, committing writes in groups
    /// (see [`writer`]). PostgreSQL writes on the pool.
    writer: Option<Arc<writer::Writer>>,
}

/// Opens a pool of `size` connections to `database_url`, failing fast when it is unreachable.
pub fn connect(database_url: &str, size: u32) -> anyhow::Result<Db> {
    connect_with(database_url, size, DEFAULT_WRITE_QUEUE)
}

/// Writes that may wait for SQLite's writer by default (see [`connect_with`]).
pub const DEFAULT_WRITE_QUEUE: usize = writer::DEFAULT_QUEUE;

/// As [`connect`]; on SQLite at most `write_queue` writes wait for the writer, and more are
/// refused with `503 overloaded`.
pub fn connect_with(database_url: &str, size: u32, write_queue: usize) -> anyhow::Result<Db> {
    let (backend, target) = parse_url(database_url);
    let manager = Manager { backend, target };
    let pool = Pool::builder()
        .max_size(size.max(1))
        // Every connection is opened at start, not under load: a new SQLite connection sets its
        // pragmas (journal mode among them) while the others are busy writing.
        .min_idle(Some(size.max(1)))
        .connection_timeout(Duration::from_secs(10))
        // r2d2 would run `SELECT 1` on every check-out; a broken connection shows itself on use.
        .test_on_check_out(false)
        .build(manager.clone())
        .with_context(|| format!("cannot connect to the {backend:?} database"))?;
    let writer = match backend {
        Backend::Sqlite => {
            let writer = writer::Writer::start(manager, write_queue)
                .context("cannot start SQLite's writer")?;
            Some(Arc::new(writer))
        }
        Backend::Postgres => None,
    };
    Ok(Db { pool, backend, writer })
}

/// Applies the pending migrations of the pool's backend.
pub fn migrate(db: &Db) -> anyhow::Result<()> {
    let mut conn = db.pool.get().context("no database connection for migrations")?;
    let applied = match &mut *conn {
        DbConn::Postgres(pg) => pg.run_pending_migrations(POSTGRES_MIGRATIONS).map(|v| v.len()),
        DbConn::Sqlite(lite) => lite.run_pending_migrations(SQLITE_MIGRATIONS).map(|v| v.len()),
    }
    .map_err(|e| anyhow::anyhow!("migration failed: {e}"))?;
    if applied > 0 {
        tracing::info!(applied, "database migrations applied");
    }
    Ok(())
}

impl Db {
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Runs `f` on a pooled connection on the blocking pool.
    pub async fn read<T, F>(&self, f: F) -> Result<T>
    where
        F: FnOnce(&mut DbConn) -> Result<T> + Send + 'static,
        T: Send + 'static,
    {
        let pool = self.pool.clone();
        actix_web::web::block(move || {
            let mut conn = checked(&pool)?;
            f(&mut conn)
        })
        .await?
    }

    /// Runs `f` in one transaction: all of its writes land, or none do. On SQLite it runs on the
    /// writer's thread, in a transaction it may share with other writes, undone alone if it fails
    /// or panics (see [`writer`]); when too many writes wait already it is refused at once with
    /// `503 overloaded`. On PostgreSQL it runs in a transaction of its own on the blocking pool.
    pub async fn write<T, F>(&self, f: F) -> Result<T>
    where
        F: FnOnce(&mut DbConn) -> Result<T> + Send + 'static,
        T: Send + 'static,
    {
        if let Some(writer) = &self.writer {
            return writer.submit(f)?.await.unwrap_or_else(|_| Err(writer::lost()));
        }
        let pool = self.pool.clone();
        actix_web::web::block(move || {
            let mut conn = begun(&pool)?;
            // What `Connection::transaction` does once the transaction is open.
            type Tm = <DbConn as Connection>::TransactionManager;
            match f(&mut conn) {
                Ok(value) => {
                    Tm::commit_transaction(&mut *conn)?;
                    Ok(value)
                }
                Err(error) => match Tm::rollback_transaction(&mut *conn) {
                    Ok(()) | Err(diesel::result::Error::BrokenTransactionManager) => Err(error),
                    Err(rollback) => Err(rollback.into()),
                },
            }
        })
        .await?
    }

    /// A connection for code that runs off the async executor (the worker, tests).
    pub fn get(&self) -> Result<PooledConnection<Manager>> {
        Ok(self.pool.get()?)
    }

    /// Whether writes can be taken: on SQLite, whether the writer's thread runs.
    pub fn takes_writes(&self) -> bool {
        self.writer.as_ref().is_none_or(|writer| writer.is_running())
    }

    /// SQLite: stops the writer once the writes already queued are committed; later writes, and
    /// readiness, answer `503 database_unavailable`. For shutdown. Nothing to do on PostgreSQL.
    pub fn stop_writes(&self) {
        if let Some(writer) = &self.writer {
            writer.stop();
        }
    }

    /// Whether the database answers a trivial query.
    pub async fn ping(&self) -> bool {
        self.read(|conn| conn.batch_execute("SELECT 1").map_err(Error::from)).await.is_ok()
    }
}

/// A pooled connection with a transaction begun on it. A connection that the server closed while
/// it sat in the pool (a restart, a killed backend) fails at `BEGIN`, before anything was written,
/// and diesel marks it broken: it is dropped (see [`Manager::has_broken`]) and the next one tried,
/// so a write after a database restart does not fail for each dead connection in the pool.
fn begun(pool: &Pool<Manager>) -> Result<PooledConnection<Manager>> {
    let mut tries = pool.max_size();
    loop {
        let mut conn = pool.get()?;
        match <DbConn as Connection>::TransactionManager::begin_transaction(&mut *conn) {
            Ok(()) => return Ok(conn),
            Err(error) if tries > 0 && conn.is_broken() => {
                tracing::warn!(%error, "dropping a database connection that the server closed");
                tries -= 1;
            }
            Err(error) => return Err(error.into()),
        }
    }
}

/// A pooled connection for a read. Connections are not tested on check-out (r2d2's `SELECT 1`
/// costs a round trip per request), except for a while after one was found closed by the server:
/// then the pool's other idle connections are likely dead too, and each is tested first, so that
/// only the request that found the first dead connection fails.
fn checked(pool: &Pool<Manager>) -> Result<PooledConnection<Manager>> {
    let mut tries = pool.max_size();
    loop {
        let mut conn = pool.get()?;
        if tries == 0 || !suspect() {
            return Ok(conn);
        }
        match conn.batch_execute("SELECT 1") {
            Err(error) if conn.is_broken() => {
                tracing::warn!(%error, "dropping a database connection that the server closed");
                tries -= 1;
            }
            _ => return Ok(conn),
        }
    }
}

/// The current time as stored: UTC, truncated to microseconds, which both backends keep exactly.
pub fn now() -> NaiveDateTime {
    Utc::now().naive_utc().trunc_subsecs(6)
}

/// A new time-ordered id (UUIDv7), so that ordering by id follows creation order.
pub fn new_id() -> String {
    uuid::Uuid::now_v7().to_string()
}

#[cfg(test)]
mod tests {
    use diesel::RunQueryDsl;
    use diesel::sql_types::Text;

    use super::*;

    #[derive(diesel::QueryableByName)]
    struct CompileOption {
        #[diesel(sql_type = Text)]
        compile_options: String,
    }

    /// `.cargo/config.toml` builds SQLite with the flags its comment explains; a build without
    /// them (another config, a system SQLite) would run, only slower.
    #[test]
    fn bundled_sqlite_is_built_as_configured() {
        let mut conn = SqliteConnection::establish(":memory:").unwrap();
        let options: Vec<String> = diesel::sql_query("PRAGMA compile_options")
            .load::<CompileOption>(&mut conn)
            .unwrap()
            .into_iter()
            .map(|o| o.compile_options)
            .collect();
        for wanted in ["DEFAULT_MEMSTATUS=0", "ENABLE_QPSG"] {
            assert!(options.iter().any(|o| o == wanted), "{wanted} missing from {options:?}");
        }
    }
}
