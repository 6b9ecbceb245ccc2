//! What the database alone can do, measured right after the scenario on the same database, so
//! that each Hallway figure is read against the ceiling that fits it:
//!
//! - **sequential**: single-row insert transactions on one connection, one after another (commit
//!   latency; SQLite's single scans are compared with it, as its one writer commits in turn);
//! - **grouped** (SQLite): single-row inserts committed the way Hallway's writer commits them, up
//!   to 64 to a transaction, each in a savepoint of its own;
//! - **concurrent** (PostgreSQL): single-row insert transactions from as many clients as the
//!   scenario has, each on its own connection (PostgreSQL flushes concurrent commits together);
//! - **batched**: 500 rows to a transaction in one multi-row insert, as an offline batch is written.

use std::thread;
use std::time::Instant;

use diesel::prelude::*;
use hallway::db::scans::NewScan;
use hallway::db::schema::scans;
use hallway::db::{self, DbConn};

/// Rows each ceiling inserts.
const ROWS: usize = 20_000;
/// The writer's largest group (see `db::writer`).
const GROUP: usize = 64;
const BATCH: usize = 500;

pub struct Ceilings {
    pub sequential: f64,
    /// SQLite: grouped commits; PostgreSQL: concurrent clients.
    pub concurrent: f64,
    pub batched: f64,
}

fn row(event_id: &str, scanner_id: &str) -> NewScan {
    let at = db::now();
    NewScan {
        id: db::new_id(),
        event_id: event_id.to_owned(),
        scanner_id: scanner_id.to_owned(),
        client_scan_id: uuid::Uuid::new_v4().to_string(),
        badge_code: "CEILING".to_owned(),
        scanned_id: None,
        status: "badge_not_found",
        device_time: at,
        scanned_at: at,
        server_time: at,
    }
}

fn rate(rows: usize, started: Instant) -> f64 {
    rows as f64 / started.elapsed().as_secs_f64()
}

/// Measures every ceiling for `backend` on the database at `url`, inserting scans of
/// `scanner_id` in `event_id` (the server must be idle).
pub fn measure(
    backend: &str,
    url: &str,
    event_id: &str,
    scanner_id: &str,
    clients: usize,
) -> Ceilings {
    let pool = db::connect(url, u32::try_from(clients).unwrap()).unwrap();
    let mut conn = pool.get().unwrap();

    let started = Instant::now();
    for _ in 0..ROWS {
        let r = row(event_id, scanner_id);
        conn.transaction(|c| diesel::insert_into(scans::table).values(&r).execute(c)).unwrap();
    }
    let sequential = rate(ROWS, started);

    let concurrent = if backend == "sqlite" {
        let started = Instant::now();
        for _ in 0..ROWS / GROUP {
            conn.transaction(|c| {
                for _ in 0..GROUP {
                    let r = row(event_id, scanner_id);
                    c.transaction(|c| diesel::insert_into(scans::table).values(&r).execute(c))?;
                }
                Ok::<_, diesel::result::Error>(())
            })
            .unwrap();
        }
        rate(ROWS / GROUP * GROUP, started)
    } else {
        let started = Instant::now();
        thread::scope(|scope| {
            for _ in 0..clients {
                let pool = &pool;
                scope.spawn(move || {
                    let mut conn = pool.get().unwrap();
                    for _ in 0..ROWS / clients {
                        let r = row(event_id, scanner_id);
                        conn.transaction(|c| {
                            diesel::insert_into(scans::table).values(&r).execute(c)
                        })
                        .unwrap();
                    }
                });
            }
        });
        rate(ROWS / clients * clients, started)
    };

    let started = Instant::now();
    for _ in 0..ROWS / BATCH {
        let rows: Vec<NewScan> = (0..BATCH).map(|_| row(event_id, scanner_id)).collect();
        conn.transaction(|c| insert_many(c, &rows)).unwrap();
    }
    let batched = rate(ROWS / BATCH * BATCH, started);
    Ceilings { sequential, concurrent, batched }
}

fn insert_many(conn: &mut DbConn, rows: &[NewScan]) -> QueryResult<usize> {
    match conn {
        DbConn::Postgres(pg) => diesel::insert_into(scans::table).values(rows).execute(pg),
        DbConn::Sqlite(lite) => diesel::insert_into(scans::table).values(rows).execute(lite),
    }
}
