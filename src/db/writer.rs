//! SQLite's one writer: a thread that owns the writing connection and commits writes in groups.
//!
//! SQLite lets one connection write at a time, and each commit is the costly part of a small
//! write (its pages appended to the WAL). Writes are queued to this thread. It begins a
//! transaction, runs the first write in it, then each write that queued up meanwhile in a
//! savepoint of its own (at most [`MAX_GROUP`], for at most [`MAX_GROUP_TIME`]), commits once, and
//! answers each. A write that fails or panics is undone alone (the first by rolling the
//! transaction back, the others by rolling back to their savepoint) and answered with its own
//! error at once; the others in the group still commit. If the commit fails or an error aborts
//! the whole transaction, the group's writes are lost: their callers hear [`lost`], and the
//! connection is reopened. No write is answered as done before its commit. A lone write is
//! committed at once.
//!
//! The queue is bounded: when it is full, a new write is refused at once with `503 overloaded`
//! and `Retry-After`, rather than waiting behind an ever longer line (and holding its memory).
//!
//! Keeping every write on one connection also keeps that connection's page cache warm: SQLite
//! drops a connection's cache whenever another connection has written since it last looked.
//! Checkpoints (copying the WAL back into the database file) run on a thread of their own.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::mpsc::{self, TrySendError};
use std::sync::{Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use diesel::QueryResult;
use diesel::connection::{AnsiTransactionManager, SimpleConnection, TransactionManager};
use diesel::r2d2::ManageConnection;
use diesel::sqlite::SqliteConnection;
use tokio::sync::oneshot;

use super::{DbConn, Manager};
use crate::error::{Error, ErrorCode, Result};

/// The most writes committed together.
pub const MAX_GROUP: usize = 64;
/// Writes that may wait for the writer, by default: about a tenth of a second of small writes.
pub const DEFAULT_QUEUE: usize = 1_000;
/// No write joins a group that has run this long: the writes in it wait for its commit.
const MAX_GROUP_TIME: Duration = Duration::from_millis(10);
/// The writing connection's page cache, in KiB (readers keep [`super::READER_CACHE_KIB`]).
const WRITER_CACHE_KIB: u32 = 4096;
/// How often, at most, the WAL is checkpointed while writes go on.
const CHECKPOINT_EVERY: Duration = Duration::from_millis(100);
/// The WAL size, in pages, at which the writer checkpoints by itself (SQLite's default is 1,000).
const BACKSTOP_CHECKPOINT_PAGES: u32 = 4_000;
/// What a refused write's caller is told to wait, in seconds.
const RETRY_AFTER_SECS: u64 = 1;

/// Answers a write's caller. Dropped unanswered when the group is rolled back: the caller then
/// hears [`lost`].
type Answer = Box<dyn FnOnce() + Send>;
/// A write: run bare (`false`: the group's first, undone by rolling the transaction back) or in
/// a savepoint (`true`, undone alone). Gives back whether it succeeded, and its answer.
type Job = Box<dyn FnOnce(&mut DbConn, bool) -> (bool, Answer) + Send>;

pub struct Writer {
    /// `None` once [`Writer::stop`] was called.
    jobs: Mutex<Option<mpsc::SyncSender<Job>>>,
    thread: Mutex<Option<JoinHandle<()>>>,
}

impl Writer {
    /// Opens the writing connection and starts its thread, which takes at most `queue` waiting
    /// writes. The thread ends when the last [`Writer`] handle is dropped, or at [`Writer::stop`].
    pub fn start(manager: Manager, queue: usize) -> anyhow::Result<Self> {
        let conn = open(&manager)?;
        let mut checkpointer = manager.connect()?;
        let (jobs, waiting) = mpsc::sync_channel::<Job>(queue.max(1));
        let (commits, committed) = mpsc::sync_channel::<()>(1);
        let thread = std::thread::Builder::new()
            .name("sqlite-writer".to_owned())
            .spawn(move || run(&manager, conn, &waiting, &commits))?;
        std::thread::Builder::new()
            .name("sqlite-checkpoint".to_owned())
            .spawn(move || checkpoint(&mut checkpointer, &committed))?;
        Ok(Self { jobs: Mutex::new(Some(jobs)), thread: Mutex::new(Some(thread)) })
    }

    /// Queues `f`; the receiver gets its result once its group is committed (or has failed).
    /// Refused at once when the queue is full (`overloaded`) or the writer is gone.
    pub fn submit<T, F>(&self, f: F) -> Result<oneshot::Receiver<Result<T>>>
    where
        F: FnOnce(&mut DbConn) -> Result<T> + Send + 'static,
        T: Send + 'static,
    {
        let (job, answer) = job(f);
        let jobs = self.jobs.lock().unwrap_or_else(PoisonError::into_inner);
        let Some(jobs) = jobs.as_ref() else { return Err(stopped()) };
        match jobs.try_send(job) {
            Ok(()) => Ok(answer),
            Err(TrySendError::Full(_)) => Err(Error::unavailable(
                ErrorCode::Overloaded,
                Some(RETRY_AFTER_SECS),
                "Too many writes are waiting; try again shortly.",
            )),
            Err(TrySendError::Disconnected(_)) => Err(stopped()),
        }
    }

    /// Whether the writer's thread still takes writes.
    pub fn is_running(&self) -> bool {
        self.thread
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .as_ref()
            .is_some_and(|thread| !thread.is_finished())
    }

    /// Stops taking writes, and waits until the writes already queued are committed and the
    /// thread has ended (at shutdown, so that no accepted write is cut off).
    pub fn stop(&self) {
        drop(self.jobs.lock().unwrap_or_else(PoisonError::into_inner).take());
        let thread = self.thread.lock().unwrap_or_else(PoisonError::into_inner).take();
        if let Some(thread) = thread
            && thread.join().is_err()
        {
            tracing::error!("SQLite's writer thread had panicked");
        }
    }
}

/// What a caller hears when the writer is gone: readiness fails too (see [`Writer::is_running`]).
fn stopped() -> Error {
    Error::unavailable(ErrorCode::DatabaseUnavailable, None, "The database takes no writes now.")
}

fn job<T, F>(f: F) -> (Job, oneshot::Receiver<Result<T>>)
where
    F: FnOnce(&mut DbConn) -> Result<T> + Send + 'static,
    T: Send + 'static,
{
    let (reply, answer) = oneshot::channel();
    let job: Job = Box::new(move |conn: &mut DbConn, savepoint: bool| {
        let outcome = if savepoint { in_savepoint(conn, f) } else { guarded(conn, f) };
        let succeeded = outcome.is_ok();
        let answer: Answer = Box::new(move || {
            // The caller may have gone (a client that hung up); the write stands all the same.
            let _ = reply.send(outcome);
        });
        (succeeded, answer)
    });
    (job, answer)
}

/// Runs `f`; a panic becomes an error for its caller alone. Transactions that `f` opened and the
/// panic left open are closed by whoever undoes the write ([`unwind_to`]).
fn guarded<T>(conn: &mut DbConn, f: impl FnOnce(&mut DbConn) -> Result<T>) -> Result<T> {
    catch_unwind(AssertUnwindSafe(|| f(conn))).unwrap_or_else(|_| {
        tracing::error!("a write panicked; it alone is undone");
        Err(Error::internal(anyhow::anyhow!("the write panicked")))
    })
}

/// Runs `f` in a savepoint: released when `f` succeeds, rolled back to when it fails or panics.
fn in_savepoint<T>(conn: &mut DbConn, f: impl FnOnce(&mut DbConn) -> Result<T>) -> Result<T> {
    <AnsiTransactionManager as TransactionManager<SqliteConnection>>::begin_transaction(sqlite(
        conn,
    ))?;
    let outcome = guarded(conn, f).and_then(|value| Ok(commit(conn).map(|()| value)?));
    if outcome.is_err() {
        // Should this fail, the group finds its transaction broken and is lost as a whole.
        let _ = unwind_to(conn, 1);
    }
    outcome
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
        // Writes catch their own panics; this is a backstop for the writer's own code.
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
                tracing::error!("the writer panicked; its group was lost");
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
        unwind_to(conn, 0)?;
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

/// How many transactions and savepoints are open (an error when diesel lost track).
fn depth(conn: &mut DbConn) -> QueryResult<u32> {
    let depth =
        AnsiTransactionManager::transaction_manager_status_mut(sqlite(conn)).transaction_depth()?;
    Ok(depth.map_or(0, std::num::NonZeroU32::get))
}

fn still_open(conn: &mut DbConn) -> QueryResult<()> {
    match depth(conn)? {
        1 => Ok(()),
        _ => Err(diesel::result::Error::NotInTransaction),
    }
}

/// Rolls back savepoints (and at `0` the transaction) until `depth` are left open: a write that
/// failed or panicked may have left its own nested transactions open.
fn unwind_to(conn: &mut DbConn, target: u32) -> QueryResult<()> {
    while depth(conn)? > target {
        rollback(conn)?;
    }
    Ok(())
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

/// Commits the transaction, or releases the innermost savepoint.
fn commit(conn: &mut DbConn) -> QueryResult<()> {
    <AnsiTransactionManager as TransactionManager<SqliteConnection>>::commit_transaction(sqlite(
        conn,
    ))
}

/// Rolls the transaction back, or rolls back to the innermost savepoint.
fn rollback(conn: &mut DbConn) -> QueryResult<()> {
    <AnsiTransactionManager as TransactionManager<SqliteConnection>>::rollback_transaction(sqlite(
        conn,
    ))
}

#[cfg(test)]
mod tests {
    use diesel::sql_types::BigInt;
    use diesel::{Connection, RunQueryDsl};

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
                return Err(Error::bad_request(ErrorCode::Refused, format!("write {n} refused")));
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

    /// Inserts `n`, then `n + 1` in a nested transaction, then panics inside it.
    fn insert_then_panic(n: i64) -> impl FnOnce(&mut DbConn) -> Result<i64> + Send {
        move |conn| {
            insert(n, false)(conn)?;
            conn.transaction(|conn| -> Result<i64> {
                insert(n + 1, false)(conn)?;
                panic!("a bug in write {n}")
            })
        }
    }

    #[test]
    fn a_panicking_write_in_a_group_is_undone_alone_and_the_others_commit() {
        let db = database();
        let mut conn = db.manager.connect().unwrap();
        let (jobs, waiting) = mpsc::channel();
        let mut first = queue(&jobs, insert(1, false));
        let mut panicked = queue(&jobs, insert_then_panic(2));
        let mut last = queue(&jobs, insert(4, false));
        let first_job = waiting.try_recv().unwrap();
        // Printing the panic may take longer than a group may last: the clock starts later here.
        let started = Instant::now() + Duration::from_secs(60);
        assert!(commit_group(&mut conn, first_job, &waiting, started).unwrap());
        assert_eq!(first.try_recv().unwrap().unwrap(), 1);
        assert_eq!(panicked.try_recv().unwrap().unwrap_err().code(), "internal");
        assert_eq!(last.try_recv().unwrap().unwrap(), 4);
        assert_eq!(rows(&db.manager), vec![1, 4]);
    }

    #[test]
    fn a_panicking_first_write_is_rolled_back_and_the_writer_goes_on() {
        let db = database();
        let writer = Writer::start(db.manager.clone(), DEFAULT_QUEUE).unwrap();
        let panicked = writer.submit(insert_then_panic(1)).unwrap().blocking_recv().unwrap();
        assert_eq!(panicked.unwrap_err().code(), "internal", "the caller hears of the failure");
        let after = writer.submit(insert(7, false)).unwrap().blocking_recv().unwrap().unwrap();
        assert_eq!(after, 7);
        assert_eq!(rows(&db.manager), vec![7]);
        assert!(writer.is_running());
    }

    #[test]
    fn a_full_queue_refuses_a_write_at_once_and_the_queued_ones_still_commit() {
        let db = database();
        let writer = Writer::start(db.manager.clone(), 2).unwrap();
        let (started, has_started) = mpsc::channel();
        let (release, gate) = mpsc::channel::<()>();
        // Holds the writer until released, so that the next writes can only queue.
        let blocker = writer
            .submit(move |conn| {
                started.send(()).unwrap();
                gate.recv().unwrap();
                insert(1, false)(conn)
            })
            .unwrap();
        has_started.recv().unwrap();
        let queued: Vec<_> = (2..=3).map(|n| writer.submit(insert(n, false)).unwrap()).collect();
        let refused = writer.submit(insert(4, false)).unwrap_err();
        assert_eq!(refused.code(), "overloaded");
        assert_eq!(
            actix_web::ResponseError::status_code(&refused),
            actix_web::http::StatusCode::SERVICE_UNAVAILABLE
        );
        let response = actix_web::ResponseError::error_response(&refused);
        assert_eq!(response.headers().get("retry-after").unwrap(), "1");

        release.send(()).unwrap();
        assert_eq!(blocker.blocking_recv().unwrap().unwrap(), 1);
        for (n, answer) in (2..).zip(queued) {
            assert_eq!(answer.blocking_recv().unwrap().unwrap(), n);
        }
        assert_eq!(rows(&db.manager), vec![1, 2, 3], "the refused write never ran");
    }

    #[test]
    fn a_stopped_writer_commits_what_was_queued_and_refuses_the_rest() {
        let db = database();
        let writer = Writer::start(db.manager.clone(), DEFAULT_QUEUE).unwrap();
        let queued = writer.submit(insert(1, false)).unwrap();
        assert!(writer.is_running());
        writer.stop();
        assert!(!writer.is_running());
        assert_eq!(queued.blocking_recv().unwrap().unwrap(), 1);
        assert_eq!(writer.submit(insert(2, false)).unwrap_err().code(), "database_unavailable");
        assert_eq!(rows(&db.manager), vec![1]);
    }

    #[test]
    fn the_wal_is_checkpointed_off_the_writer() {
        let db = database();
        let writer = Writer::start(db.manager.clone(), DEFAULT_QUEUE).unwrap();
        let size = || std::fs::metadata(&db.path).unwrap().len();
        let before = size();
        writer
            .submit(|conn| {
                for n in 0..2_000 {
                    insert(n, false)(conn)?;
                }
                Ok(())
            })
            .unwrap()
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
