//! The connection pool: connections left unusable (a panic inside a transaction, a server that
//! closed them) are replaced, not handed to the next request.

use std::cell::Cell;

use awc::http::StatusCode;
use diesel::pg::PgConnection;
use diesel::prelude::*;
use futures_util::future::{join, join_all};
use hallway::db::accounts::{self, NewAccount};
use hallway::db::schema;

use crate::both_backends;
use crate::helpers::{
    Backend, admin_url, event_body, postgres_available, spawn_app, spawn_app_configured,
    unique_slug,
};

/// Inserts an account with this email through the application's pool, in a write transaction.
async fn insert_account(
    app: &crate::helpers::TestApp,
    email: String,
) -> hallway::error::Result<()> {
    app.db
        .write(move |conn| {
            let now = hallway::db::now();
            let id = hallway::db::new_id();
            accounts::insert(
                conn,
                &NewAccount {
                    id: &id,
                    email: &email,
                    display_name: None,
                    created_at: now,
                    updated_at: now,
                },
            )?;
            Ok(())
        })
        .await
}

/// The emails of the accounts a new connection of its own sees (committed rows only).
fn committed_emails(database_url: &str) -> Vec<String> {
    let db = hallway::db::connect(database_url, 1).expect("a connection of the test's own");
    let mut conn = db.get().expect("a connection");
    schema::accounts::table.select(schema::accounts::email).load(&mut *conn).expect("emails")
}

async fn writes_after_a_panicking_write_still_commit(backend: Backend) {
    let app = spawn_app(backend).await;
    let panicked: hallway::error::Result<()> = app
        .db
        .write(|conn| {
            let now = hallway::db::now();
            accounts::insert(
                conn,
                &NewAccount {
                    id: &hallway::db::new_id(),
                    email: "half-done@example.org",
                    display_name: None,
                    created_at: now,
                    updated_at: now,
                },
            )?;
            panic!("a bug in the middle of a write");
        })
        .await;
    assert!(panicked.is_err());
    // More writes than the pool has connections: one of them gets the connection the panic left.
    let emails: Vec<String> = (0..12).map(|i| format!("after-{i}@example.org")).collect();
    for email in &emails {
        insert_account(&app, email.clone()).await.expect("a write after the panic");
    }
    let committed = committed_emails(&app.database_url);
    for email in &emails {
        assert!(committed.contains(email), "{email} was answered as written but is not committed");
    }
    assert!(!committed.iter().any(|e| e == "half-done@example.org"), "the panicking write stayed");
}

both_backends!(writes_after_a_panicking_write_still_commit);

/// Ends every connection the server has open to its database, as a restart of PostgreSQL does.
fn kill_backends(database_url: &str) -> usize {
    let name = database_url.rsplit('/').next().and_then(|s| s.split('?').next()).expect("a name");
    let mut admin = PgConnection::establish(&admin_url()).expect("an admin connection");
    #[derive(QueryableByName)]
    struct Killed {
        #[diesel(sql_type = diesel::sql_types::Bool)]
        pg_terminate_backend: bool,
    }
    diesel::sql_query(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
         WHERE datname = $1 AND pid <> pg_backend_pid()",
    )
    .bind::<diesel::sql_types::Text, _>(name)
    .load::<Killed>(&mut admin)
    .expect("terminate the backends")
    .iter()
    .filter(|k| k.pg_terminate_backend)
    .count()
}

/// Creates `n` events at once; gives back (status, event id when created) of each.
async fn create_events(
    app: &crate::helpers::TestApp,
    token: &str,
    n: usize,
    answered: &Cell<usize>,
) -> Vec<(StatusCode, Option<String>)> {
    join_all((0..n).map(|_| async {
        let response = app.post("/v1/events", Some(token), &event_body(&unique_slug("load"))).await;
        answered.set(answered.get() + 1);
        (response.status, response.body["id"].as_str().map(str::to_owned))
    }))
    .await
}

#[actix_web::test]
async fn the_server_recovers_from_killed_database_connections_without_losing_acknowledged_writes() {
    if !postgres_available() {
        return;
    }
    // The load is event creations: lift the daily quota of 10 an account.
    let app =
        spawn_app_configured(Backend::Postgres, |c| c.quotas.events_per_account_per_day = 1000)
            .await;
    let organizer = app.sign_in("org").await;
    let token = organizer.access_token.clone();
    let answered = Cell::new(0);
    let mut outcomes = Vec::new();
    for _ in 0..3 {
        answered.set(0);
        // The backends are killed while writes are in flight: after the first answers came back.
        let (round, killed) = join(create_events(&app, &token, 40, &answered), async {
            while answered.get() < 5 {
                actix_web::rt::time::sleep(std::time::Duration::from_millis(1)).await;
            }
            kill_backends(&app.database_url)
        })
        .await;
        assert!(killed > 0, "no backend of the server was running");
        outcomes.extend(round);
    }
    let acknowledged: Vec<&String> =
        outcomes.iter().filter(|(s, _)| s.is_success()).filter_map(|(_, id)| id.as_ref()).collect();
    for (status, _) in &outcomes {
        assert!(
            status.is_success() || *status == StatusCode::INTERNAL_SERVER_ERROR,
            "unexpected answer {status}"
        );
    }
    // Every request after the kills succeeds: the dead connections were replaced.
    let later = create_events(&app, &token, 20, &Cell::new(0)).await;
    assert!(later.iter().all(|(s, _)| *s == StatusCode::CREATED), "{later:?}");
    for (_, id) in &later {
        let id = id.as_ref().unwrap();
        let read = app.get(&format!("/v1/events/{id}"), Some(&token)).await;
        assert_eq!(read.status, StatusCode::OK, "{}", read.body);
    }
    // No write that was answered 2xx is missing.
    let db = hallway::db::connect(&app.database_url, 1).unwrap();
    let stored: Vec<String> =
        schema::events::table.select(schema::events::id).load(&mut *db.get().unwrap()).unwrap();
    for id in acknowledged {
        assert!(stored.contains(id), "event {id} was acknowledged but is not in the database");
    }
}

#[derive(QueryableByName)]
struct Plan {
    #[diesel(sql_type = diesel::sql_types::Text, column_name = "QUERY PLAN")]
    line: String,
}

/// JIT compilation costs tens of milliseconds a statement; with sequential scans steered off, a
/// plan of a table without a fitting index looked costly enough to be compiled on every run (the
/// worker's claim of an ended event took 65 ms a chunk). The pool's connections never compile,
/// and the claim reads its index.
#[actix_web::test]
async fn pooled_postgres_connections_never_jit_compile_and_the_workers_claim_reads_an_index() {
    if !postgres_available() {
        return;
    }
    let app = spawn_app(Backend::Postgres).await;
    let explain = |query: &'static str| -> String {
        let lines: Vec<Plan> = app.query(move |conn| diesel::sql_query(query).load(conn));
        lines.into_iter().map(|p| p.line).collect::<Vec<_>>().join("\n")
    };
    // No index fits this filter: a sequential scan, which the pool steers off.
    let scan = explain("EXPLAIN ANALYZE SELECT count(*) FROM events WHERE name <> ''");
    assert!(scan.contains("Seq Scan"), "{scan}");
    assert!(!scan.contains("JIT"), "compiled: {scan}");
    let claim = explain(
        "EXPLAIN ANALYZE SELECT id FROM events \
         WHERE ends_at <= now() AND follow_ups_generated_at IS NULL \
         ORDER BY ends_at, id LIMIT 1 FOR NO KEY UPDATE SKIP LOCKED",
    );
    assert!(claim.contains("events_follow_ups_pending"), "{claim}");
}

#[derive(QueryableByName)]
struct Scans {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    by_event: i64,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    by_pair: i64,
}

/// A statement PostgreSQL keeps gets one generic plan after five runs. The online scan's lookup
/// of a pair ran its first times while `connections` was nearly empty, where every index looks as
/// cheap, and kept a plan that read the event's index and filtered every row of the event for
/// the pair (single scans fell to a quarter in the exchange benchmark). Once the event has
/// thousands of connections, the same pooled connection still finds a pair through a pair index.
#[actix_web::test]
async fn a_pair_is_found_by_a_pair_index_after_the_table_grew_under_a_cached_plan() {
    if !postgres_available() {
        return;
    }
    let app = spawn_app(Backend::Postgres).await;
    let organizer = app.sign_in("org").await;
    let event = app.create_event(&organizer, &unique_slug("plans")).await;
    let event_id = event["id"].as_str().unwrap().to_owned();
    let mut csv = String::from("email,name\n");
    for i in 0..100 {
        csv.push_str(&format!("person{i}@example.org,Person {i}\n"));
    }
    assert_eq!(app.import_csv(&organizer, &event_id, csv.as_bytes()).await.status, StatusCode::OK);
    let scans = app.query(move |conn| {
        let members: Vec<String> = schema::memberships::table
            .filter(schema::memberships::event_id.eq(&event_id))
            .filter(schema::memberships::role.eq("attendee"))
            .select(schema::memberships::id)
            .order(schema::memberships::id)
            .load(conn)?;
        assert_eq!(members.len(), 100);
        let (a, b) = (&members[0], &members[1..2]);
        // The statements' first runs, on an empty table (what PostgreSQL would plan generically
        // from here on).
        for _ in 0..8 {
            hallway::db::connections::between(conn, &event_id, a, b)?;
        }
        // Every pair of the 100 people: 9,900 rows, no ANALYZE (autovacuum has not run yet).
        diesel::sql_query(
            "INSERT INTO connections (id, event_id, owner_id, other_id, first_met_at, \
             last_met_at, scan_count, tags, created_at, updated_at) \
             SELECT gen_random_uuid()::text, $1, o.id, t.id, now(), now(), 1, '', now(), now() \
             FROM memberships o JOIN memberships t ON t.event_id = o.event_id AND t.id <> o.id \
             WHERE o.event_id = $1 AND o.role = 'attendee' AND t.role = 'attendee'",
        )
        .bind::<diesel::sql_types::Text, _>(&event_id)
        .execute(conn)?;
        // Scans of each index counted by this backend (not yet reported to the statistics).
        let counted = |conn: &mut hallway::db::DbConn| {
            diesel::sql_query(
                "SELECT pg_stat_get_xact_numscans('connections_event'::regclass) AS by_event, \
                 pg_stat_get_xact_numscans('connections_other_owner'::regclass) \
                 + pg_stat_get_xact_numscans('connections_event_id_owner_id_other_id_key'::regclass) \
                 AS by_pair",
            )
            .get_result::<Scans>(conn)
        };
        conn.transaction(|conn| {
            let before = counted(conn)?;
            for _ in 0..20 {
                let found = hallway::db::connections::between(conn, &event_id, a, b)?;
                assert_eq!(found.len(), 2, "both sides");
            }
            let after = counted(conn)?;
            Ok::<_, diesel::result::Error>(Scans {
                by_event: after.by_event - before.by_event,
                by_pair: after.by_pair - before.by_pair,
            })
        })
    });
    // Each side of each lookup on a pair index, none on the event's.
    assert_eq!((scans.by_event, scans.by_pair), (0, 40), "scans of the event index, of pair ones");
}
