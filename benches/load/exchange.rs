//! Badge exchange under load: single scans from 32 concurrent clients, offline batches of 500,
//! their replay, and what the database alone does on the same data (see `ceilings`).

use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::time::{Duration, Instant};

use diesel::prelude::*;
use hallway::db::schema::{accounts, badges, connections, memberships, scans};
use hallway::domain::tokens::{JWT_SIGNING, derive_key};
use jsonwebtoken::{EncodingKey, Header, encode};
use serde_json::{Value, json};

use crate::{SECRET, Server, sign_in};

const PEOPLE: usize = 1_000;
const CLIENTS: usize = 32;
const SINGLE_SCANS: usize = 20_000;
const BATCH_SCANNERS: usize = 200;
const BATCH: usize = 500;
const UPLOADERS: usize = 8;

struct Person {
    membership_id: String,
    token: String,
    code: String,
}

/// Tokens are minted with the server's signing key (derived from its secret): 1,000 sign-ins by
/// email would only measure the sign-in rate limit.
pub fn token(account_id: &str) -> String {
    let now = chrono::Utc::now().timestamp();
    let claims = json!({ "sub": account_id, "aud": "hallway-api", "iss": "hallway", "iat": now, "exp": now + 3600 });
    let key = derive_key(SECRET.as_bytes(), JWT_SIGNING);
    encode(&Header::default(), &claims, &EncodingKey::from_secret(&key)).unwrap()
}

pub fn scan_item(code: &str) -> Value {
    json!({ "client_scan_id": uuid::Uuid::new_v4().to_string(), "badge_code": code, "scanned_at": chrono::Utc::now().to_rfc3339() })
}

pub async fn post(http: &awc::Client, url: &str, token: &str, body: &Value) -> (u16, Value) {
    let mut response = http
        .post(url)
        .insert_header(("Authorization", format!("Bearer {token}")))
        .send_json(body)
        .await
        .expect("request");
    let bytes = response.body().limit(64 * 1024 * 1024).await.expect("body");
    (response.status().as_u16(), serde_json::from_slice(&bytes).unwrap_or(Value::Null))
}

pub fn percentile(sorted: &[Duration], p: f64) -> f64 {
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[index].as_secs_f64() * 1000.0
}

pub async fn run(backend: &str) -> Vec<(String, String)> {
    let server = Server::start(backend);
    let org = sign_in(&server, "organizer@example.org").await;
    let now = chrono::Utc::now();
    let (status, event) = org
        .json(awc::http::Method::POST, "/v1/events", &json!({
            "name": "ScanConf", "slug": "scanconf", "starts_at": (now - chrono::Duration::hours(2)).to_rfc3339(),
            "ends_at": (now + chrono::Duration::days(2)).to_rfc3339(), "time_zone": "Europe/Berlin"
        }))
        .await;
    assert_eq!(status, 201, "{event}");
    let event_id = event["id"].as_str().unwrap().to_owned();
    let mut csv = String::from("email,name\n");
    for i in 0..PEOPLE {
        csv.push_str(&format!("scanner{i}@example.org,Scanner {i}\n"));
    }
    let (status, _) = org
        .send(
            awc::http::Method::POST,
            &format!("/v1/events/{event_id}/attendee-imports"),
            Some(("text/csv", csv.into_bytes())),
        )
        .await;
    assert_eq!(status, 200);

    let db = hallway::db::connect(&server.url, 2).unwrap();
    let rows: Vec<(String, String, String)> = {
        let mut conn = db.get().unwrap();
        memberships::table
            .inner_join(accounts::table)
            .inner_join(badges::table.on(badges::membership_id.eq(memberships::id)))
            .filter(memberships::event_id.eq(&event_id).and(memberships::role.eq("attendee")))
            .filter(badges::revoked_at.is_null())
            .select((memberships::id, accounts::id, badges::code))
            .load(&mut *conn)
            .unwrap()
    };
    let people: Rc<Vec<Person>> = Rc::new(
        rows.into_iter()
            .map(|(membership_id, account, code)| Person {
                membership_id,
                token: token(&account),
                code,
            })
            .collect(),
    );
    assert_eq!(people.len(), PEOPLE);
    let http = awc::Client::builder().timeout(Duration::from_secs(120)).finish();
    let scan_url = format!("{}/v1/events/{event_id}/scans", server.base);
    let batch_url = format!("{scan_url}/batch");

    let mut rss_by_phase = vec![server.peak_rss_mib()];

    // 1. Single scans, 32 clients at once, each scan by a different person than the last.
    let next = Rc::new(Cell::new(0usize));
    let latencies = Rc::new(RefCell::new(Vec::with_capacity(SINGLE_SCANS)));
    let failures = Rc::new(Cell::new(0usize));
    let started = Instant::now();
    let clients = (0..CLIENTS).map(|_| {
        let (next, latencies, failures, people, http, url) = (
            next.clone(),
            latencies.clone(),
            failures.clone(),
            people.clone(),
            http.clone(),
            scan_url.clone(),
        );
        async move {
            loop {
                let n = next.get();
                if n >= SINGLE_SCANS {
                    break;
                }
                next.set(n + 1);
                let scanner = &people[n % PEOPLE];
                let target = &people[(n % PEOPLE + 1 + (n / PEOPLE) * 37 % (PEOPLE - 1)) % PEOPLE];
                let sent = Instant::now();
                let (status, body) =
                    post(&http, &url, &scanner.token, &scan_item(&target.code)).await;
                latencies.borrow_mut().push(sent.elapsed());
                if status != 200 && status != 201 {
                    failures.set(failures.get() + 1);
                    eprintln!("single scan failed: {status} {body}");
                }
            }
        }
    });
    futures_util::future::join_all(clients).await;
    let single_secs = started.elapsed().as_secs_f64();
    let mut latencies = latencies.take();
    latencies.sort();
    assert_eq!(failures.get(), 0, "every single scan succeeds");
    rss_by_phase.push(server.peak_rss_mib());

    // 2. Offline sync: 200 people each upload 500 scans of 500 different people.
    let batches: Rc<Vec<(String, Value)>> = Rc::new(
        (0..BATCH_SCANNERS)
            .map(|i| {
                let items: Vec<Value> =
                    (1..=BATCH).map(|k| scan_item(&people[(i + k) % PEOPLE].code)).collect();
                (people[i].token.clone(), json!({ "scans": items }))
            })
            .collect(),
    );
    let upload = |label: &'static str| {
        let (batches, http, url) = (batches.clone(), http.clone(), batch_url.clone());
        async move {
            let next = Rc::new(Cell::new(0usize));
            let statuses = Rc::new(RefCell::new(std::collections::HashMap::<String, usize>::new()));
            let started = Instant::now();
            let uploaders = (0..UPLOADERS).map(|_| {
                let (next, statuses, batches, http, url) =
                    (next.clone(), statuses.clone(), batches.clone(), http.clone(), url.clone());
                async move {
                    loop {
                        let n = next.get();
                        if n >= batches.len() {
                            break;
                        }
                        next.set(n + 1);
                        let (token, body) = &batches[n];
                        let (status, response) = post(&http, &url, token, body).await;
                        assert_eq!(status, 200, "{label} batch: {response}");
                        for result in response["results"].as_array().unwrap() {
                            *statuses
                                .borrow_mut()
                                .entry(result["status"].as_str().unwrap().to_owned())
                                .or_default() += 1;
                        }
                    }
                }
            });
            futures_util::future::join_all(uploaders).await;
            (started.elapsed().as_secs_f64(), statuses.take())
        }
    };
    let (batch_secs, first_statuses) = upload("first").await;
    rss_by_phase.push(server.peak_rss_mib());
    let (replay_secs, replay_statuses) = upload("replay").await;
    assert_eq!(first_statuses.values().sum::<usize>(), BATCH_SCANNERS * BATCH);
    assert!(
        !first_statuses.contains_key("invalid") && !first_statuses.contains_key("duplicate_scan"),
        "{first_statuses:?}"
    );
    assert_eq!(replay_statuses, first_statuses, "a replay is answered the same way");

    // 3. Every scan recorded exactly once; one connection per side of each pair.
    let (scan_rows, connection_rows, connection_scans): (i64, i64, i64) = {
        let mut conn = db.get().unwrap();
        let c = &mut *conn;
        (
            scans::table.count().get_result(c).unwrap(),
            connections::table.count().get_result(c).unwrap(),
            connections::table
                .select(diesel::dsl::sum(connections::scan_count))
                .first::<Option<i64>>(c)
                .unwrap()
                .unwrap_or(0),
        )
    };
    let total_scans = SINGLE_SCANS + BATCH_SCANNERS * BATCH;
    assert_eq!(scan_rows as usize, total_scans, "each scan recorded exactly once");
    assert_eq!(connection_scans as usize, 2 * total_scans, "each scan counted once on each side");
    let rss = server.peak_rss_mib();
    let wal = std::fs::metadata(format!("{}-wal", server.url.trim_start_matches("sqlite://")))
        .map(|m| m.len())
        .ok();

    // 4. The ceilings, on the same database (the server is idle by now).
    let ceilings = crate::ceilings::measure(
        backend,
        &server.url,
        &event_id,
        &people[0].membership_id,
        CLIENTS,
    );
    // Single scans against the ceiling that fits the backend: SQLite's writer commits one
    // transaction at a time, PostgreSQL flushes concurrent commits together.
    let ceiling = if backend == "sqlite" { ceilings.sequential } else { ceilings.concurrent };

    let single_rate = SINGLE_SCANS as f64 / single_secs;
    let batch_rate = (BATCH_SCANNERS * BATCH) as f64 / batch_secs;
    let replay_rate = (BATCH_SCANNERS * BATCH) as f64 / replay_secs;
    let ratio = |rate: f64| format!("{:.2} of the single-insert ceiling", rate / ceiling);
    let batched = |rate: f64| format!("{:.2} of the batched ceiling", rate / ceilings.batched);
    let mut results = vec![
        (
            format!("single scans, {CLIENTS} clients, {backend}"),
            format!("{single_rate:.0} scans/s ({})", ratio(single_rate)),
        ),
        (
            format!("single scan latency p50 / p99, {backend}"),
            format!(
                "{:.1} ms / {:.1} ms",
                percentile(&latencies, 0.5),
                percentile(&latencies, 0.99)
            ),
        ),
        (
            format!("offline sync {BATCH_SCANNERS} × {BATCH} in batches of {BATCH}, {backend}"),
            format!("{batch_rate:.0} scans/s ({})", batched(batch_rate)),
        ),
        (
            format!("replay of the same batches, {backend}"),
            format!("{replay_rate:.0} scans/s ({})", batched(replay_rate)),
        ),
        (
            format!("ceiling: sequential single-row inserts, {backend}"),
            format!("{:.0} inserts/s", ceilings.sequential),
        ),
        (
            if backend == "sqlite" {
                format!("ceiling: single-row inserts grouped as the writer commits, {backend}")
            } else {
                format!("ceiling: single-row inserts from {CLIENTS} clients, {backend}")
            },
            format!("{:.0} inserts/s", ceilings.concurrent),
        ),
        (
            format!("ceiling: inserts of 500 rows a transaction, {backend}"),
            format!("{:.0} rows/s", ceilings.batched),
        ),
        (
            format!("rows: scans / connections, {backend}"),
            format!("{scan_rows} / {connection_rows} (every scan once)"),
        ),
        (format!("server peak RSS, {backend}"), format!("{rss:.0} MiB")),
        (
            format!("peak RSS after the import / single scans / batches, {backend}"),
            rss_by_phase.iter().map(|r| format!("{r:.0} MiB")).collect::<Vec<_>>().join(" / "),
        ),
    ];
    if let Some(wal) = wal {
        results.push((
            format!("SQLite -wal file at the end, {backend}"),
            format!("{:.1} MiB", wal as f64 / 1024.0 / 1024.0),
        ));
    }
    results
}
