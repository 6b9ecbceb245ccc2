//! SQLite's one writer: a thread that owns the writing connection and commits writes in groups.
//!
//! SQLite lets one connection write at a time, and each commit is the costly part of a small
//! write (its pages appended to the WAL). Writes are queued to this thread. It begins a
//! transaction, runs the first write in it, then each write that queued up meanwhile in a
//! savepoint of its own (at most [`MAX_GROUP`], for at most [`MAX_GROUP_TIME`]), commits once, and
//! answers each. A write that fails is undone alone (the first by rolling the transaction back,
//! the others by rolling back to their savepoint) and answered with its own error at once. If the
//! commit fails, an error aborts the whole transaction, or a write panics, the group's other
//! writes are lost: their callers hear [`lost`], and the connection is reopened. No write is answered as done before its commit. A
//! lone write is committed at once.
//!
//! Keeping every write on one connection also keeps that connection's page cache warm: SQLite
//! drops a connection's cache whenever another connection has written since it last looked.
//! Checkpoints (copying the WAL back into the database file) run on a thread of their own.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use diesel::connection::{AnsiTransactionManager, SimpleConnection, TransactionManager};
use diesel::r2d2::ManageConnection;
use diesel::sqlite::SqliteConnection;
use diesel::{Connection, QueryResult};
use tokio::sync::oneshot;

use super::{DbConn, Manager};
use crate::error::{Error, Result};

/// The most writes committed together.
pub const MAX_GROUP: usize = 64;
/// No write joins a group that has run this long: the writes in it wait for its commit.
const MAX_GROUP_TIME: Duration = Duration::from_millis(10);
/// The writing connection's page cache, in KiB (readers keep [`super::READER_CACHE_KIB`]).
const WRITER_CACHE_KIB: u32 = 4096;
/// How often, at most, the WAL is checkpointed while writes go on.
const CHECKPOINT_EVERY: Duration = Duration::from_millis(100);
/// The WAL size, in pages, at which the writer checkpoints by itself (SQLite's default is 1,000).
const BACKSTOP_CHECKPOINT_PAGES: u32 = 4_000;

/// Answers a write's caller. Dropped unanswered when the group is rolled back: the caller then
/// hears [`lost`].
type Answer = Box<dyn FnOnce() + Send>;
/// A write: run bare (`false`: the group's first, undone by rolling the transaction back) or in
/// a savepoint (`true`). Gives back whether it succeeded, and its answer.
type Job = Box<dyn FnOnce(&mut DbConn, bool) -> (bool, Answer) + Send>;

pub struct Writer {
    jobs: mpsc::Sender<Job>,
}

impl Writer {
    /// Opens the writing connection and starts its thread. The thread ends when the last
    /// [`Writer`] handle is dropped.
    pub fn start(manager: Manager) -> anyhow::Result<Self> {
        let conn = open(&manager)?;
        let mut checkpointer = manager.connect()?;
        let (jobs, queue) = mpsc::channel::<Job>();
        let (commits, committed) = mpsc::sync_channel::<()>(1);
        std::thread::Builder::new()
            .name("sqlite-writer".to_owned())
            .spawn(move || run(&manager, conn, &queue, &commits))?;
        std::thread::Builder::new()
            .name("sqlite-checkpoint".to_owned())
            .spawn(move || checkpoint(&mut checkpointer, &committed))?;
        Ok(Self { jobs })
    }

    /// Queues `f`; the receiver gets its result once its group is committed (or has failed).
    pub fn submit<T, F>(&self, f: F) -> oneshot::Receiver<Result<T>>
    where
        F: FnOnce(&mut DbConn) -> Result<T> + Send + 'static,
        T: Send + 'static,
    {
        let (job, answer) = job(f);
        // If the thread is gone, `job` is dropped with the error: the caller hears of it through
        // the receiver.
        let _ = self.jobs.send(job);
        answer
    }
}

fn job<T, F>(f: F) -> (Job, oneshot::Receiver<Result<T>>)
where
    F: FnOnce(&mut DbConn) -> Result<T> + Send + 'static,
    T: Send + 'static,
{
    let (reply, answer) = oneshot::channel();
    let job: Job = Box::new(move |conn: &mut DbConn, savepoint: bool| {
        let outcome = if savepoint { conn.transaction(f) } else { f(conn) };
        let succeeded = outcome.is_ok();
        let answer: Answer = Box::new(move || {
            // The caller may have gone (a client that hung up); the write stands all the same.
            let _ = reply.send(outcome);
        });
        (succeeded, answer)
    });
    (job, answer)
}

/// Opens the writing connection. Its page cache keeps the pages every write walks (the indexes'
/// upper levels) for good; each write's savepoint keeps the pages it changes in a sub-journal in
/// memory, not in a temporary file; and checkpoints are left to [`checkpoint`]'s thread, but for
/// a backstop should that thread fall far behind.
fn open(manager: &Manager) -> std::result::Result<DbConn, diesel::r2d2::Error> {
    let mut conn = manager.connect()?;
    conn.batch_execute(&format!(
        "PRAGMA cache_size = -{WRITER_CACHE_KIB}; PRAGMA temp_store = MEMORY; \
         PRAGMA wal_autocheckpoint = {BACKSTOP_CHECKPOINT_PAGES};"
    ))
    .map_err(diesel::r2d2::Error::QueryError)?;
    Ok(conn)
}

/// Copies the WAL's committed pages back into the database file, on its own connection and
/// thread, so that the writer never waits for it: after a commit, at most every
/// [`CHECKPOINT_EVERY`]. `PASSIVE` never blocks the writer or the readers. Ends with the writer.
fn checkpoint(conn: &mut DbConn, committed: &mpsc::Receiver<()>) {
    while committed.recv().is_ok() {
        if let Err(error) = conn.batch_execute("PRAGMA wal_checkpoint(PASSIVE)") {
            tracing::warn!(%error, "WAL checkpoint failed");
        }
        std::thread::sleep(CHECKPOINT_EVERY);
    }
}

/// What a caller hears when its write is not committed: the cause is in the writer's log.
pub fn lost() -> Error {
    Error::internal(anyhow::anyhow!("the write was not committed; the server log says why"))
}

fn run(
    manager: &Manager,
    first_conn: DbConn,
    queue: &mpsc::Receiver<Job>,
    commits: &mpsc::SyncSender<()>,
) {
    let mut slot = Some(first_conn);
    while let Ok(first) = queue.recv() {
        if slot.is_none() {
            match open(manager) {
                Ok(conn) => slot = Some(conn),
                Err(error) => {
                    // `first` is dropped: its caller hears `lost()`; the next write tries again.
                    tracing::error!(%error, "cannot open SQLite's writing connection");
                    continue;
                }
            }
        }
        let Some(conn) = slot.as_mut() else { continue };
        let started = Instant::now();
        match catch_unwind(AssertUnwindSafe(|| commit_group(conn, first, queue, started))) {
            Ok(Ok(true)) => {
                // Full: a checkpoint is due already.
                let _ = commits.try_send(());
            }
            Ok(Ok(false)) => {}
            Ok(Err(error)) => {
                tracing::error!(%error, "a group of writes was lost; the writing connection is reopened");
                slot = None;
            }
            Err(_) => {
                tracing::error!("a write panicked; its group was lost");
                slot = None;
            }
        }
        // A dropped connection is closed, which rolls back whatever it had open.
    }
}

/// Begins a transaction, runs `first` in it alone, then the writes that queue up meanwhile each in
/// a savepoint, commits, and answers them. `Ok(false)`: `first` failed, was rolled back and is
/// answered. A write that fails in its savepoint is undone alone and answered at once. An error
/// means the group is lost: its callers hear [`lost`], and the connection must be dropped.
fn commit_group(
    conn: &mut DbConn,
    first: Job,
    queue: &mpsc::Receiver<Job>,
    started: Instant,
) -> QueryResult<bool> {
    begin(conn)?;
    let (succeeded, answer) = first(conn, false);
    if !succeeded {
        answer();
        rollback(conn)?;
        return Ok(false);
    }
    let mut answers = vec![answer];
    while answers.len() < MAX_GROUP && started.elapsed() < MAX_GROUP_TIME {
        still_open(conn)?;
        let Ok(job) = queue.try_recv() else { break };
        match job(conn, true) {
            (true, answer) => answers.push(answer),
            (false, answer) => answer(),
        }
    }
    // An error that aborts the whole transaction (SQLITE_FULL, IOERR…) shows as a savepoint that
    // cannot be rolled back to: diesel then forgets the transaction.
    still_open(conn)?;
    commit(conn)?;
    answers.into_iter().for_each(|answer| answer());
    Ok(true)
}

fn still_open(conn: &mut DbConn) -> QueryResult<()> {
    let depth =
        AnsiTransactionManager::transaction_manager_status_mut(sqlite(conn)).transaction_depth()?;
    match depth {
        Some(depth) if depth.get() == 1 => Ok(()),
        _ => Err(diesel::result::Error::NotInTransaction),
    }
}

fn sqlite(conn: &mut DbConn) -> &mut SqliteConnection {
    match conn {
        DbConn::Sqlite(lite) => lite,
        DbConn::Postgres(_) => unreachable!("the writer is SQLite's"),
    }
}

/// `BEGIN IMMEDIATE` takes the database's write lock up front (waiting up to `busy_timeout` for
/// another process's writer, like `hallway worker`). A deferred transaction would read first and
/// upgrade later, and an upgrade after another process committed fails at once with "database is
/// locked" (SQLITE_BUSY_SNAPSHOT).
fn begin(conn: &mut DbConn) -> QueryResult<()> {
    AnsiTransactionManager::begin_transaction_sql(sqlite(conn), "BEGIN IMMEDIATE")
}

fn commit(conn: &mut DbConn) -> QueryResult<()> {
    <AnsiTransactionManager as TransactionManager<SqliteConnection>>::commit_transaction(sqlite(
        conn,
    ))
}

fn rollback(conn: &mut DbConn) -> QueryResult<()> {
    <AnsiTransactionManager as TransactionManager<SqliteConnection>>::rollback_transaction(sqlite(
        conn,
    ))
}

#[cfg(test)]
mod tests {
    use diesel::RunQueryDsl;
    use diesel::sql_types::BigInt;

    use super::*;

    /// A SQLite file with one table, removed afterwards.
    struct Database {
        manager: Manager,
        path: String,
    }

    impl Drop for Database {
        fn drop(&mut self) {
            for suffix in ["", "-wal", "-shm"] {
                let _ = std::fs::remove_file(format!("{}{suffix}", self.path));
            }
        }
    }

    fn database() -> Database {
        let path = std::env::temp_dir().join(format!("hallway-writer-{}.db", uuid::Uuid::new_v4()));
        let path = path.display().to_string();
        let (backend, target) = super::super::parse_url(&path);
        let manager = Manager { backend, target };
        let mut conn = manager.connect().unwrap();
        conn.batch_execute("CREATE TABLE t (n INTEGER PRIMARY KEY NOT NULL)").unwrap();
        Database { manager, path }
    }

    fn insert(n: i64, then_fail: bool) -> impl FnOnce(&mut DbConn) -> Result<i64> + Send {
        move |conn| {
            diesel::sql_query("INSERT INTO t (n) VALUES (?)").bind::<BigInt, _>(n).execute(conn)?;
            if then_fail {
                return Err(Error::bad_request("refused", format!("write {n} refused")));
            }
            Ok(n)
        }
    }

    #[derive(diesel::QueryableByName)]
    struct Row {
        #[diesel(sql_type = BigInt)]
        n: i64,
    }

    fn rows(manager: &Manager) -> Vec<i64> {
        let mut conn = manager.connect().unwrap();
        let rows: Vec<Row> =
            diesel::sql_query("SELECT n FROM t ORDER BY n").load(&mut conn).unwrap();
        rows.into_iter().map(|r| r.n).collect()
    }

    /// Queues `f` as [`Writer::submit`] does, for a test to run the group.
    fn queue<T: Send + 'static>(
        jobs: &mpsc::Sender<Job>,
        f: impl FnOnce(&mut DbConn) -> Result<T> + Send + 'static,
    ) -> oneshot::Receiver<Result<T>> {
        let (job, answer) = job(f);
        jobs.send(job).unwrap();
        answer
    }

    #[test]
    fn a_failing_write_in_a_group_is_undone_alone() {
        let db = database();
        let mut conn = db.manager.connect().unwrap();
        let (jobs, waiting) = mpsc::channel();
        let mut first = queue(&jobs, insert(1, false));
        let mut failing = queue(&jobs, insert(2, true));
        let mut third = queue(&jobs, insert(3, false));
        let first_job = waiting.try_recv().unwrap();
        assert!(commit_group(&mut conn, first_job, &waiting, Instant::now()).unwrap());
        assert!(waiting.try_recv().is_err(), "the queued writes joined the group");
        assert_eq!(first.try_recv().unwrap().unwrap(), 1);
        assert_eq!(
            failing.try_recv().unwrap().unwrap_err().to_string(),
            "refused: write 2 refused"
        );
        assert_eq!(third.try_recv().unwrap().unwrap(), 3);
        assert_eq!(rows(&db.manager), vec![1, 3]);
    }

    #[test]
    fn a_failing_first_write_is_rolled_back_and_answered_at_once() {
        let db = database();
        let mut conn = db.manager.connect().unwrap();
        let (jobs, waiting) = mpsc::channel();
        let mut failing = queue(&jobs, insert(1, true));
        let _next = queue(&jobs, insert(2, false));
        let first_job = waiting.try_recv().unwrap();
        assert!(!commit_group(&mut conn, first_job, &waiting, Instant::now()).unwrap());
        assert_eq!(
            failing.try_recv().unwrap().unwrap_err().to_string(),
            "refused: write 1 refused"
        );
        assert!(waiting.try_recv().is_ok(), "the next write waits for a group of its own");
        assert_eq!(rows(&db.manager), Vec::<i64>::new());
    }

    #[test]
    fn a_group_holds_at_most_max_group_writes() {
        let db = database();
        let mut conn = db.manager.connect().unwrap();
        let (jobs, waiting) = mpsc::channel();
        let mut answers: Vec<_> =
            (0..MAX_GROUP as i64 + 6).map(|n| queue(&jobs, insert(n, false))).collect();
        let first_job = waiting.try_recv().unwrap();
        assert!(commit_group(&mut conn, first_job, &waiting, Instant::now()).unwrap());
        let answered = answers.iter_mut().map(|a| a.try_recv()).filter(Result::is_ok).count();
        assert_eq!(answered, MAX_GROUP);
        assert_eq!(waiting.try_iter().count(), 6);
        assert_eq!(rows(&db.manager).len(), MAX_GROUP);
    }

    #[test]
    fn a_panicking_write_loses_its_group_and_the_writer_goes_on() {
        let db = database();
        let writer = Writer::start(db.manager.clone()).unwrap();
        let panicked = writer.submit(|_conn| -> Result<()> { panic!("a bug in a write") });
        assert!(panicked.blocking_recv().is_err(), "the caller hears of the failure");
        let after = writer.submit(insert(7, false)).blocking_recv().unwrap().unwrap();
        assert_eq!(after, 7);
        assert_eq!(rows(&db.manager), vec![7]);
    }

    #[test]
    fn the_wal_is_checkpointed_off_the_writer() {
        let db = database();
        let writer = Writer::start(db.manager.clone()).unwrap();
        let size = || std::fs::metadata(&db.path).unwrap().len();
        let before = size();
        writer
            .submit(|conn| {
                for n in 0..2_000 {
                    insert(n, false)(conn)?;
                }
                Ok(())
            })
            .blocking_recv()
            .unwrap()
            .unwrap();
        // Far below the writer's own threshold: only the checkpoint thread copies these pages
        // into the database file.
        let deadline = Instant::now() + Duration::from_secs(10);
        while size() == before {
            assert!(Instant::now() < deadline, "no checkpoint within 10 s");
            std::thread::sleep(Duration::from_millis(10));
        }
        assert_eq!(rows(&db.manager).len(), 2_000);
    }
}
