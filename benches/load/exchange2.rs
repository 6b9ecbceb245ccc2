//! Badge exchange on two API processes sharing one PostgreSQL database, as replicas behind a
//! round-robin balancer: every client sends each request to the next server in turn. Single scans
//! from 32 clients, offline batches, then their replay through the other server; then checks that
//! every scan was recorded exactly once, whichever process took it. The rate limits are the
//! database's (shared by both processes), so this also measures what they cost.
//!
//! `HALLWAY_BENCH_SMOKE=1` runs a small version, to check the scenario runs end to end.

use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::time::{Duration, Instant};

use diesel::prelude::*;
use hallway::db::schema::{accounts, badges, connections, memberships, scans};
use serde_json::{Value, json};

use crate::exchange::{percentile, post, scan_item, token};
use crate::{Server, sign_in};

const CLIENTS: usize = 32;
const UPLOADERS: usize = 8;

/// How much work a run does.
struct Size {
    people: usize,
    single_scans: usize,
    batch_scanners: usize,
    /// Items per batch; less than `people`, so nobody scans themself.
    batch: usize,
}

const FULL: Size = Size { people: 1_000, single_scans: 20_000, batch_scanners: 200, batch: 500 };
const SMOKE: Size = Size { people: 100, single_scans: 400, batch_scanners: 8, batch: 50 };

struct Person {
    token: String,
    code: String,
}

pub async fn run() -> Vec<(String, String)> {
    let smoke = std::env::var("HALLWAY_BENCH_SMOKE").is_ok_and(|v| v == "1");
    let size = if smoke { SMOKE } else { FULL };
    let first = Server::start("postgres");
    let second = Server::join(&first, &[]);
    let servers = [first.base.clone(), second.base.clone()];

    let org = sign_in(&first, "organizer@example.org").await;
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
    for i in 0..size.people {
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

    let db = hallway::db::connect(&first.url, 2).unwrap();
    let rows: Vec<(String, String)> = {
        let mut conn = db.get().unwrap();
        memberships::table
            .inner_join(accounts::table)
            .inner_join(badges::table.on(badges::membership_id.eq(memberships::id)))
            .filter(memberships::event_id.eq(&event_id).and(memberships::role.eq("attendee")))
            .filter(badges::revoked_at.is_null())
            .select((accounts::id, badges::code))
            .load(&mut *conn)
            .unwrap()
    };
    let people: Rc<Vec<Person>> = Rc::new(
        rows.into_iter().map(|(account, code)| Person { token: token(&account), code }).collect(),
    );
    assert_eq!(people.len(), size.people);
    let http = awc::Client::builder().timeout(Duration::from_secs(120)).finish();
    let scan_path = format!("/v1/events/{event_id}/scans");
    // Request n goes to server n % 2: the balancer's round robin.
    let url = move |n: usize, path: &str| format!("{}{path}", servers[n % 2]);

    // 1. Single scans, 32 clients at once, alternating servers request by request.
    let next = Rc::new(Cell::new(0usize));
    let latencies = Rc::new(RefCell::new(Vec::with_capacity(size.single_scans)));
    let failures = Rc::new(Cell::new(0usize));
    let started = Instant::now();
    let (people_n, single_n) = (size.people, size.single_scans);
    let clients = (0..CLIENTS).map(|_| {
        let (next, latencies, failures, people, http, url, path) = (
            next.clone(),
            latencies.clone(),
            failures.clone(),
            people.clone(),
            http.clone(),
            url.clone(),
            scan_path.clone(),
        );
        async move {
            loop {
                let n = next.get();
                if n >= single_n {
                    break;
                }
                next.set(n + 1);
                let scanner = &people[n % people_n];
                let target =
                    &people[(n % people_n + 1 + (n / people_n) * 37 % (people_n - 1)) % people_n];
                let sent = Instant::now();
                let (status, body) =
                    post(&http, &url(n, &path), &scanner.token, &scan_item(&target.code)).await;
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

    // 2. Offline sync, then the same batches again through the other server (a retry after a
    // lost answer lands wherever the balancer sends it).
    let batches: Rc<Vec<(String, Value)>> = Rc::new(
        (0..size.batch_scanners)
            .map(|i| {
                let items: Vec<Value> = (1..=size.batch)
                    .map(|k| scan_item(&people[(i + k) % size.people].code))
                    .collect();
                (people[i].token.clone(), json!({ "scans": items }))
            })
            .collect(),
    );
    let upload = |label: &'static str, shift: usize| {
        let (batches, http, url, path) =
            (batches.clone(), http.clone(), url.clone(), format!("{scan_path}/batch"));
        async move {
            let next = Rc::new(Cell::new(0usize));
            let statuses = Rc::new(RefCell::new(std::collections::HashMap::<String, usize>::new()));
            let started = Instant::now();
            let uploaders = (0..UPLOADERS).map(|_| {
                let (next, statuses, batches, http, url, path) = (
                    next.clone(),
                    statuses.clone(),
                    batches.clone(),
                    http.clone(),
                    url.clone(),
                    path.clone(),
                );
                async move {
                    loop {
                        let n = next.get();
                        if n >= batches.len() {
                            break;
                        }
                        next.set(n + 1);
                        let (token, body) = &batches[n];
                        let (status, response) =
                            post(&http, &url(n + shift, &path), token, body).await;
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
    let (batch_secs, first_statuses) = upload("first", 0).await;
    let (replay_secs, replay_statuses) = upload("replay", 1).await;
    let batched = size.batch_scanners * size.batch;
    assert_eq!(first_statuses.values().sum::<usize>(), batched);
    assert!(
        !first_statuses.contains_key("invalid") && !first_statuses.contains_key("duplicate_scan"),
        "{first_statuses:?}"
    );
    assert_eq!(
        replay_statuses, first_statuses,
        "a replay through the other server answers the same"
    );

    // 3. Every scan recorded exactly once, whichever server took it; one count per side.
    let (scan_rows, connection_scans): (i64, i64) = {
        let mut conn = db.get().unwrap();
        let c = &mut *conn;
        (
            scans::table.count().get_result(c).unwrap(),
            connections::table
                .select(diesel::dsl::sum(connections::scan_count))
                .first::<Option<i64>>(c)
                .unwrap()
                .unwrap_or(0),
        )
    };
    let total = size.single_scans + batched;
    assert_eq!(scan_rows as usize, total, "each scan recorded exactly once");
    assert_eq!(connection_scans as usize, 2 * total, "each scan counted once on each side");

    let label = if smoke { "two servers (smoke run: figures mean nothing)" } else { "two servers" };
    vec![
        (
            format!("single scans, {CLIENTS} clients, {label}, postgres"),
            format!("{:.0} scans/s", size.single_scans as f64 / single_secs),
        ),
        (
            format!("single scan latency p50 / p99, {label}, postgres"),
            format!(
                "{:.1} ms / {:.1} ms",
                percentile(&latencies, 0.5),
                percentile(&latencies, 0.99)
            ),
        ),
        (
            format!("offline sync {} × {}, {label}, postgres", size.batch_scanners, size.batch),
            format!("{:.0} scans/s", batched as f64 / batch_secs),
        ),
        (
            format!("replay through the other server, {label}, postgres"),
            format!("{:.0} scans/s", batched as f64 / replay_secs),
        ),
        (
            format!("rows: scans, {label}, postgres"),
            format!("{scan_rows} of {total} sent (every scan once)"),
        ),
        (
            format!("peak RSS of each server, {label}, postgres"),
            format!("{:.0} MiB / {:.0} MiB", first.peak_rss_mib(), second.peak_rss_mib()),
        ),
    ]
}
