//! On PostgreSQL the rate limits hold across API processes: two servers (or two pools) on one
//! database limit a person as one. SQLite keeps its limits in its one process; the tests of each
//! limit (scans, exports, sheets…) run on both backends in their own files.

use std::sync::{Arc, Barrier};
use std::time::Instant;

use awc::http::StatusCode;
use diesel::sql_types::{Array, Double, Text};
use diesel::{Connection, QueryableByName, RunQueryDsl};
use futures_util::future::join_all;
use hallway::db::rate_buckets::{self, Settle, Settled};
use hallway::db::{DbConn, schema::scans};
use hallway::http::Limits;
use serde_json::{Value, json};

use crate::helpers::{
    Backend, TestApp, TestResponse, postgres_available, second_server, spawn_app,
};

fn retry_after(response: &TestResponse) -> u64 {
    response.header("retry-after").unwrap().parse().unwrap()
}

fn batch(code: &str, n: usize, note: Option<&str>) -> Value {
    Value::Array(
        (0..n)
            .map(|i| {
                let mut item = json!({ "client_scan_id": uuid::Uuid::new_v4().to_string(), "badge_code": code, "scanned_at": "2026-09-08T12:00:00Z" });
                if let Some(note) = note {
                    item["note"] = json!(format!("{note} {i}"));
                }
                item
            })
            .collect(),
    )
}

#[derive(QueryableByName, Debug, PartialEq)]
struct Row {
    #[diesel(sql_type = Array<Double>)]
    tokens: Vec<f64>,
    #[diesel(sql_type = Text)]
    updated_at: String,
}

fn bucket_row(app: &TestApp, key: &str) -> Option<Row> {
    let key = key.to_owned();
    app.query(move |conn| {
        let DbConn::Postgres(pg) = conn else { unreachable!() };
        diesel::sql_query("SELECT tokens, updated_at::text FROM rate_buckets WHERE key = $1")
            .bind::<Text, _>(key)
            .load::<Row>(pg)
    })
    .pop()
}

/// 40 requests at once, from two pools (as two API processes would hold) on one database, for a
/// bucket of 20 that refills too slowly to matter: exactly 20 pass.
#[actix_web::test]
async fn forty_concurrent_takes_of_a_twenty_token_bucket_from_two_pools_grant_exactly_twenty() {
    if !postgres_available() {
        return;
    }
    let app = spawn_app(Backend::Postgres).await;
    let pools = [
        hallway::db::connect(&app.database_url, 10).unwrap(),
        hallway::db::connect(&app.database_url, 10).unwrap(),
    ];
    let start = Arc::new(Barrier::new(40));
    let takers: Vec<_> = (0..40)
        .map(|i| {
            let (pool, start) = (pools[i % 2].clone(), start.clone());
            std::thread::spawn(move || {
                let settle = Settle {
                    key: "test/ada",
                    capacities: vec![20.0],
                    rates: vec![0.0001],
                    needed: vec![1.0],
                    costs: vec![1.0],
                };
                // Each pool serves 10 at once; the other 10 of its takers wait for a connection.
                start.wait();
                let mut conn = pool.get().unwrap();
                let DbConn::Postgres(pg) = &mut *conn else { unreachable!() };
                rate_buckets::settle(pg, &settle).unwrap()
            })
        })
        .collect();
    let outcomes: Vec<Settled> = takers.into_iter().map(|t| t.join().unwrap()).collect();
    let granted = outcomes.iter().filter(|o| **o == Settled::Granted).count();
    assert_eq!(granted, 20, "{outcomes:?}");
    let row = bucket_row(&app, "test/ada").unwrap();
    assert!(row.tokens[0] < 0.1, "the bucket is spent, not overdrawn: {row:?}");
}

/// The same through HTTP: 40 address-book exports at once (30 an hour), spread over two servers.
#[actix_web::test]
async fn forty_concurrent_exports_over_two_servers_pass_thirty_times() {
    if !postgres_available() {
        return;
    }
    let first = spawn_app(Backend::Postgres).await;
    let second = second_server(&first).await;
    let ada = first.sign_in("ada").await;
    let servers = [&first, &second];
    let answers = join_all(
        (0..40).map(|i| servers[i % 2].get("/v1/me/connections.csv", Some(&ada.access_token))),
    )
    .await;
    let ok = answers.iter().filter(|a| a.status == StatusCode::OK).count();
    let limited = answers.iter().filter(|a| a.status == StatusCode::TOO_MANY_REQUESTS).count();
    assert_eq!((ok, limited), (30, 10));
}

/// A person's offline batches go up through whichever server the balancer picks: three full
/// batches pass, the fourth is refused by the other server, and says when 500 scans will fit.
#[actix_web::test]
async fn scan_batches_split_across_two_servers_are_limited_as_one_person() {
    if !postgres_available() {
        return;
    }
    let first = spawn_app(Backend::Postgres).await;
    let second = second_server(&first).await;
    let (_, event, ada, bob) = first.event_with_two().await;
    let code = first.badge_code(&bob, &event).await;
    let began = Instant::now();
    for server in [&first, &second, &first] {
        let synced = server.scan_batch(&ada, &event, batch(&code, 500, None)).await;
        assert_eq!(synced.status, StatusCode::OK, "{}", synced.body);
    }
    let looped = second.scan_batch(&ada, &event, batch(&code, 500, None)).await;
    assert_eq!(looped.status, StatusCode::TOO_MANY_REQUESTS, "{}", looped.body);
    assert_eq!(looped.problem_code(), "rate_limited");
    // 500 scans at one a second, less what came back since the first batch.
    let waited = began.elapsed().as_secs() + 1;
    let wait = retry_after(&looped);
    assert!((500 - waited..=500).contains(&wait), "Retry-After {wait} after {waited} s");
    let stored: i64 = first.query(|conn| {
        use diesel::QueryDsl;
        scans::table.count().get_result(conn)
    });
    assert_eq!(stored, 1500, "the refused batch recorded nothing");
}

/// A request refused by one budget charges none of the others: the person's row is exactly as it
/// was, and a scan without a note still passes on the other server.
#[actix_web::test]
async fn a_refused_request_leaves_the_other_buckets_untouched() {
    if !postgres_available() {
        return;
    }
    let first = spawn_app(Backend::Postgres).await;
    let second = second_server(&first).await;
    let (_, event, ada, bob) = first.event_with_two().await;
    let code = first.badge_code(&bob, &event).await;
    // 60 notes of about 5,000 characters: past the 250,000 a full budget holds, into debt.
    let long = "n".repeat(4990);
    let synced = first.scan_batch(&ada, &event, batch(&code, 60, Some(&long))).await;
    assert_eq!(synced.status, StatusCode::OK, "{}", synced.body);
    let key = format!("writes/{}", ada.account_id);
    let before = bucket_row(&first, &key).unwrap();
    assert!(before.tokens[2] < 0.0, "the note budget is in debt: {before:?}");

    let refused = second.scan_batch(&ada, &event, batch(&code, 10, Some("short"))).await;
    assert_eq!(refused.status, StatusCode::TOO_MANY_REQUESTS, "{}", refused.body);
    assert!(refused.body["detail"].as_str().unwrap().contains("characters of notes"));
    assert_eq!(bucket_row(&first, &key).unwrap(), before, "nothing was charged");

    let plain = second.scan(&ada, &event, &code).await;
    assert_eq!(plain.status, StatusCode::OK, "{}", plain.body);
    let after = bucket_row(&first, &key).unwrap();
    assert!(after.tokens[1] < before.tokens[1] + 1.0, "one scan charged: {after:?}");
}

/// `Retry-After` is when the bucket will hold the request: the 31st address-book export of the
/// hour waits for one more export's worth, two minutes less what came back meanwhile.
#[actix_web::test]
async fn retry_after_says_when_the_shared_bucket_holds_one_more() {
    if !postgres_available() {
        return;
    }
    let first = spawn_app(Backend::Postgres).await;
    let second = second_server(&first).await;
    let ada = first.sign_in("ada").await;
    let began = Instant::now();
    for i in 0..30 {
        let server = if i % 2 == 0 { &first } else { &second };
        let export = server.get("/v1/me/connections.vcf", Some(&ada.access_token)).await;
        assert_eq!(export.status, StatusCode::OK, "{i}");
    }
    let refused = first.get("/v1/me/connections.vcf", Some(&ada.access_token)).await;
    assert_eq!(refused.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(refused.problem_code(), "rate_limited");
    let waited = began.elapsed().as_secs() + 1;
    let wait = retry_after(&refused);
    assert!((120 - waited..=120).contains(&wait), "Retry-After {wait} after {waited} s");
}

/// One export of my data at a time, whichever process serves it: a slot taken through one
/// process's limits is refused by another's until it is given back.
#[actix_web::test]
async fn an_export_of_my_data_runs_one_at_a_time_across_processes() {
    if !postgres_available() {
        return;
    }
    let app = spawn_app(Backend::Postgres).await;
    let one = Limits::new(&app.db, &app.database_url);
    let other =
        Limits::new(&hallway::db::connect(&app.database_url, 2).unwrap(), &app.database_url);
    let held = one.data_export("ada").await.unwrap();
    let refused = other.data_export("ada").await.err().unwrap();
    assert_eq!(refused.code(), "rate_limited");
    assert!(refused.to_string().contains("being written"), "{refused}");
    assert!(other.data_export("bob").await.is_ok(), "each person has their own slot");
    // Given back off any executor, as a sheet's slot is on the renderer's thread.
    std::thread::spawn(move || drop(held)).join().unwrap();
    assert!(other.data_export("ada").await.is_ok());
}

/// The worker deletes rows whose buckets are all full again (a missing row is a full bucket);
/// rows still in debt stay.
#[actix_web::test]
async fn rows_of_full_buckets_are_purged_and_rows_in_debt_are_kept() {
    if !postgres_available() {
        return;
    }
    let app = spawn_app(Backend::Postgres).await;
    let (_, event, ada, bob) = app.event_with_two().await;
    let code = app.badge_code(&bob, &event).await;
    assert!(app.scan(&ada, &event, &code).await.status.is_success());
    let long = "n".repeat(4990);
    let synced = app.scan_batch(&bob, &event, batch(&code, 60, Some(&long))).await;
    assert_eq!(synced.status, StatusCode::OK, "{}", synced.body);
    // Ten minutes pass for both rows: Ada's one scan came back within a second; Bob's debt of
    // about 50,000 characters of notes takes 15 minutes at 20,000 a minute.
    app.query(|conn| {
        diesel::sql_query(
            "UPDATE rate_buckets SET updated_at = updated_at - interval '10 minutes', \
             full_at = full_at - interval '10 minutes'",
        )
        .execute(conn)
    });
    let purged = app.query(rate_buckets::purge_full);
    assert_eq!(purged, 1);
    assert!(bucket_row(&app, &format!("writes/{}", ada.account_id)).is_none());
    assert!(bucket_row(&app, &format!("writes/{}", bob.account_id)).is_some());
    // Ada's buckets are full again: a full batch goes up.
    let full = app.scan_batch(&ada, &event, batch(&code, 500, None)).await;
    assert_eq!(full.status, StatusCode::OK, "{}", full.body);
}

#[derive(QueryableByName)]
struct Setting {
    #[diesel(sql_type = Text)]
    value: String,
}

fn synchronous_commit(conn: &mut DbConn) -> diesel::QueryResult<String> {
    let rows: Vec<Setting> =
        diesel::sql_query("SELECT current_setting('synchronous_commit') AS value").load(conn)?;
    Ok(rows.into_iter().next().unwrap().value)
}

/// The bucket statement turns `synchronous_commit` off for its own transaction only: its commit
/// does not wait for a WAL flush, and nothing after it is affected.
#[actix_web::test]
async fn the_bucket_statement_commits_asynchronously_and_only_itself() {
    if !postgres_available() {
        return;
    }
    let app = spawn_app(Backend::Postgres).await;
    let settle = Settle {
        key: "test/ada",
        capacities: vec![5.0],
        rates: vec![1.0],
        needed: vec![1.0],
        costs: vec![1.0],
    };
    let (inside, after) = app.query(|conn| {
        let inside = conn.transaction(|conn| {
            assert_eq!(synchronous_commit(conn)?, "on");
            let DbConn::Postgres(pg) = &mut *conn else { unreachable!() };
            assert_eq!(rate_buckets::settle(pg, &settle)?, Settled::Granted);
            synchronous_commit(conn)
        })?;
        // Autocommitted, as the limits run it; then the next transaction on the connection.
        let DbConn::Postgres(pg) = &mut *conn else { unreachable!() };
        rate_buckets::settle(pg, &settle)?;
        Ok((inside, synchronous_commit(conn)?))
    });
    assert_eq!((inside.as_str(), after.as_str()), ("off", "on"));
}

/// Lists of conversation starters are limited as one person across servers, though each server
/// takes a few tokens at a time from the shared bucket: 40 lists asked of two servers in turn,
/// 30 pass (the burst; a token may refill meanwhile), the rest are refused.
#[actix_web::test]
async fn starter_lists_asked_of_two_servers_in_turn_are_limited_as_one_person() {
    if !postgres_available() {
        return;
    }
    let first = spawn_app(Backend::Postgres).await;
    let second = second_server(&first).await;
    let (_, event, ada, bob) = first.event_with_two().await;
    let code = first.badge_code(&bob, &event).await;
    let scanned = first.scan(&ada, &event, &code).await;
    assert!(scanned.status.is_success(), "{}", scanned.body);
    let connection = scanned.body["connection"]["connection_id"].as_str().unwrap().to_owned();
    let path = format!("/v1/events/{event}/connections/{connection}/starters?limit=1");
    let mut passed = [0; 2];
    for i in 0..40 {
        let answer = [&first, &second][i % 2].get(&path, Some(&ada.access_token)).await;
        match answer.status {
            StatusCode::OK => passed[i % 2] += 1,
            StatusCode::TOO_MANY_REQUESTS => assert_eq!(answer.problem_code(), "rate_limited"),
            other => panic!("{other}: {}", answer.body),
        }
    }
    let ok = passed[0] + passed[1];
    assert!((30..=31).contains(&ok), "{passed:?} passed");
    assert!(passed[0] >= 15 && passed[1] >= 15, "both servers served: {passed:?}");
}
