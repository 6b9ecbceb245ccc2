//! The follow-up queue and the post-event generation at scale:
//!
//! 1. A person with 5,000 connections across 10 events and 20,000 follow-ups (due from two months
//!    ago to two months ahead): the latency of `GET /v1/follow-ups` for pages of 50, each state
//!    and none, following cursors (p50, p99).
//! 2. An event of 20,000 attendees with 200,000 connections ends: the time until the worker has
//!    generated its post-event queue (every connection one check-in), and the server's peak RSS.
//!
//! The data is written straight to the database through the library (the API's limits would make
//! seeding take hours); the measurements go through the running server.

use std::time::{Duration, Instant};

use chrono::Duration as Days;
use diesel::prelude::*;
use hallway::db::accounts::NewAccount;
use hallway::db::attendees::NewMember;
use hallway::db::connections::NewConnection;
use hallway::db::events::NewEvent;
use hallway::db::follow_ups::NewFollowUp;
use hallway::db::schema::{events, follow_ups};
use hallway::db::{self, Db, DbConn};
use serde_json::Value;

use crate::Server;
use crate::exchange::{percentile, token};

const EVENTS: usize = 10;
const CONNECTIONS: usize = 5_000;
const FOLLOW_UPS: usize = 20_000;
const QUEUE_CALLS: usize = 1_000;
const ATTENDEES: usize = 20_000;
const PER_ATTENDEE: usize = 10;

/// Writes in one transaction per call (a chunk), as the server's own writes do.
fn chunked<T>(db: &Db, rows: &[T], size: usize, write: impl Fn(&mut DbConn, &[T])) {
    let mut conn = db.get().unwrap();
    for chunk in rows.chunks(size) {
        conn.transaction::<_, diesel::result::Error, _>(|conn| {
            write(conn, chunk);
            Ok(())
        })
        .unwrap();
    }
}

fn new_event(db: &Db, slug: &str, creator: &str, ends_in: Days) -> String {
    let id = db::new_id();
    let now = db::now();
    let mut conn = db.get().unwrap();
    hallway::db::events::insert(
        &mut conn,
        &NewEvent {
            id: &id,
            name: slug,
            slug,
            starts_at: now - Days::days(2),
            ends_at: now + ends_in,
            time_zone: "Europe/Berlin",
            follow_up_window_days: 14,
            created_by: creator,
            created_at: now,
            updated_at: now,
        },
    )
    .unwrap();
    id
}

/// `n` accounts; gives back their ids.
fn accounts(db: &Db, n: usize, prefix: &str) -> Vec<String> {
    let now = db::now();
    let rows: Vec<(String, String)> =
        (0..n).map(|i| (db::new_id(), format!("{prefix}{i}@example.org"))).collect();
    chunked(db, &rows, 5_000, |conn, chunk| {
        let new: Vec<NewAccount<'_>> = chunk
            .iter()
            .map(|(id, email)| NewAccount {
                id,
                email,
                display_name: None,
                created_at: now,
                updated_at: now,
            })
            .collect();
        hallway::db::accounts::insert_many(conn, &new).unwrap();
    });
    rows.into_iter().map(|(id, _)| id).collect()
}

/// Memberships of `accounts` in the event; gives back their ids.
fn members(db: &Db, event: &str, accounts: &[String]) -> Vec<String> {
    let now = db::now();
    let rows: Vec<NewMember> = accounts
        .iter()
        .enumerate()
        .map(|(i, account)| NewMember {
            id: db::new_id(),
            event_id: event.to_owned(),
            account_id: account.clone(),
            role: "attendee",
            name: Some(format!("Person {i}")),
            company: Some("Acme".to_owned()),
            headline: None,
            invited_at: None,
            created_at: now,
            updated_at: now,
        })
        .collect();
    chunked(db, &rows, 5_000, |conn, chunk| hallway::db::attendees::insert(conn, chunk).unwrap());
    rows.into_iter().map(|m| m.id).collect()
}

fn connection(event: &str, owner: &str, other: &str) -> NewConnection {
    let now = db::now();
    NewConnection {
        id: db::new_id(),
        event_id: event.to_owned(),
        owner_id: owner.to_owned(),
        other_id: other.to_owned(),
        first_met_at: now - Days::days(60),
        last_met_at: now - Days::days(60),
        scan_count: 1,
        created_at: now,
        updated_at: now,
    }
}

async fn queue_latency(backend: &str) -> Vec<(String, String)> {
    let server = Server::start_with(backend, &[("HALLWAY_JOBS_INTERVAL_SECS", "0")]);
    let db = hallway::db::connect(&server.url, 2).unwrap();
    let me = accounts(&db, 1, "me")[0].clone();
    let others = accounts(&db, CONNECTIONS, "other");
    let per_event = CONNECTIONS / EVENTS;
    let mut rows = Vec::new();
    for (e, chunk) in others.chunks(per_event).enumerate() {
        let event = new_event(&db, &format!("queue-{e}"), &me, Days::days(30));
        let mine = members(&db, &event, std::slice::from_ref(&me))[0].clone();
        for other in members(&db, &event, chunk) {
            rows.push((connection(&event, &mine, &other), mine.clone()));
        }
    }
    let connections: Vec<NewConnection> = rows.iter().map(|(c, _)| c.clone()).collect();
    chunked(&db, &connections, 5_000, |conn, chunk| {
        hallway::db::connections::insert_missing(conn, chunk).unwrap();
    });
    let now = db::now();
    let kinds = ["send", "meet", "introduce", "check_in", "other"];
    let follow_ups: Vec<NewFollowUp> = (0..FOLLOW_UPS)
        .map(|i| {
            let (c, _) = &rows[i % rows.len()];
            let due = now + Days::hours(i64::try_from(i % 2_880).unwrap() - 1_440);
            NewFollowUp {
                id: db::new_id(),
                event_id: c.event_id.clone(),
                connection_id: c.id.clone(),
                owner_id: c.owner_id.clone(),
                account_id: me.clone(),
                kind: kinds[i % kinds.len()],
                note: Some(format!("Promise number {i}")),
                due_on: None,
                due_at: Some(due),
                queue_at: due,
                state: if i % 10 == 0 { "done" } else { "open" },
                is_open: i % 10 != 0,
                origin: "manual",
                origin_starter_id: None,
                created_at: now,
                updated_at: now,
            }
        })
        .collect();
    chunked(&db, &follow_ups, 2_000, |conn, chunk| {
        hallway::db::follow_ups::insert_unless_taken(conn, chunk).unwrap();
    });
    analyze(&db);

    let http = awc::Client::builder().timeout(Duration::from_secs(60)).finish();
    let bearer = format!("Bearer {}", token(&me));
    let mut results = Vec::new();
    for state in ["", "due", "overdue", "upcoming"] {
        let mut latencies = Vec::with_capacity(QUEUE_CALLS / 4);
        let mut cursor: Option<String> = None;
        for _ in 0..QUEUE_CALLS / 4 {
            let mut url = format!("{}/v1/follow-ups?limit=50", server.base);
            if !state.is_empty() {
                url.push_str(&format!("&state={state}"));
            }
            if let Some(cursor) = &cursor {
                url.push_str(&format!("&cursor={cursor}"));
            }
            let started = Instant::now();
            let mut response = http
                .get(url)
                .insert_header(("Authorization", bearer.as_str()))
                .send()
                .await
                .unwrap();
            let body: Value =
                serde_json::from_slice(&response.body().limit(64 << 20).await.unwrap()).unwrap();
            latencies.push(started.elapsed());
            assert_eq!(response.status().as_u16(), 200, "{body}");
            cursor = body["next_cursor"].as_str().map(str::to_owned);
        }
        latencies.sort();
        let name = if state.is_empty() { "all open" } else { state };
        results.push((
            format!("queue page of 50 ({name}), {backend}: p50 / p99"),
            format!("{:.1} / {:.1} ms", percentile(&latencies, 0.5), percentile(&latencies, 0.99)),
        ));
    }
    results.push((
        format!("server peak RSS (queue), {backend}"),
        format!("{:.0} MiB", server.peak_rss_mib()),
    ));
    results
}

async fn post_event(backend: &str) -> Vec<(String, String)> {
    let server = Server::start_with(backend, &[("HALLWAY_JOBS_INTERVAL_SECS", "1")]);
    let db = hallway::db::connect(&server.url, 2).unwrap();
    let organizer = accounts(&db, 1, "organizer")[0].clone();
    let event = new_event(&db, "big-event", &organizer, Days::days(30));
    let people = members(&db, &event, &accounts(&db, ATTENDEES, "attendee"));
    let connections: Vec<NewConnection> = (0..ATTENDEES)
        .flat_map(|i| (1..=PER_ATTENDEE).map(move |k| (i, (i + k) % ATTENDEES)))
        .map(|(i, j)| connection(&event, &people[i], &people[j]))
        .collect();
    let total = connections.len();
    chunked(&db, &connections, 5_000, |conn, chunk| {
        hallway::db::connections::insert_missing(conn, chunk).unwrap();
    });
    drop(connections);
    analyze(&db);
    let rss_before = server.peak_rss_mib();
    // The event ends now: the worker's next round (within a second) generates its queue.
    let started = Instant::now();
    {
        let mut conn = db.get().unwrap();
        diesel::update(events::table.find(&event))
            .set(events::ends_at.eq(db::now() - Days::minutes(1)))
            .execute(&mut *conn)
            .unwrap();
    }
    let mut conn = db.get().unwrap();
    loop {
        let done: Option<chrono::NaiveDateTime> = events::table
            .find(&event)
            .select(events::follow_ups_generated_at)
            .first(&mut *conn)
            .unwrap();
        if done.is_some() {
            break;
        }
        assert!(started.elapsed() < Duration::from_secs(1_800), "not generated in 30 minutes");
        actix_web::rt::time::sleep(Duration::from_millis(100)).await;
    }
    let took = started.elapsed();
    let made: i64 = follow_ups::table
        .filter(follow_ups::event_id.eq(&event).and(follow_ups::origin.eq("post_event")))
        .count()
        .get_result(&mut *conn)
        .unwrap();
    assert_eq!(usize::try_from(made).unwrap(), total, "one check-in per connection");
    vec![
        (
            format!("post-event queue, {ATTENDEES} attendees, {total} connections, {backend}"),
            format!("{:.1} s (including up to 1 s until the worker's round)", took.as_secs_f64()),
        ),
        (
            format!("server peak RSS before / after the generation, {backend}"),
            format!("{rss_before:.0} / {:.0} MiB", server.peak_rss_mib()),
        ),
    ]
}

/// Gives the planner the statistics a database that grew over months would have (the data was
/// written in one go a moment ago, before autovacuum could look at it).
fn analyze(db: &Db) {
    let mut conn = db.get().unwrap();
    diesel::sql_query("ANALYZE").execute(&mut *conn).unwrap();
}

pub async fn run(backend: &str) -> Vec<(String, String)> {
    let mut results = queue_latency(backend).await;
    results.extend(post_event(backend).await);
    results
}
