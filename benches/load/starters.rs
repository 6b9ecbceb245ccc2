//! Conversation starters at scale: an event with 500 topics and 20,000 attendees (three topics they
//! can talk about and two they want to learn each, all in the directory); p50/p99 of one pair's
//! starters, first view (ranked and recorded) and repeat view (ranked only: nothing new to record),
//! under three loads: one client at a time (the latency of a call, no queue), requests arriving at
//! a fixed rate whatever the answers (an open loop: latency counted from when each was due, so a
//! slow answer cannot hide the ones queued behind it), and four clients at once, each asking again
//! as soon as it is answered (the machine saturated: latency is mostly the queue).

use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::time::{Duration, Instant};

use awc::Client;

use diesel::prelude::*;
use hallway::db::schema::{accounts, memberships};
use hallway::db::topics::{self, TopicRow};
use serde_json::json;

use crate::exchange::{percentile, token};
use crate::{Server, sign_in};

const TOPICS: usize = 500;
const ATTENDEES: usize = 20_000;
/// Rows per import request (the import's own limit).
const IMPORT_ROWS: usize = 10_000;
/// How a measurement sends its requests.
#[derive(Clone, Copy)]
enum Load {
    /// This many clients, each asking again as soon as it is answered.
    Clients(usize),
    /// Requests arrive at this rate (per second) at random (Poisson) times, answered or not.
    Rate(f64),
}

/// The measurements, with their pairs: each has viewers of its own, so its first views are
/// first. 200 requests a second is ten times a busy break's demand in a 20,000-person event (a
/// tenth of the attendees opening starters three times in the same ten minutes).
const LOADS: [(Load, usize); 3] =
    [(Load::Clients(1), 500), (Load::Rate(200.0), 2_000), (Load::Clients(4), 2_000)];

/// An event of [`ATTENDEES`] attendees, all in the directory, with [`TOPICS`] topics (three they
/// can talk about and two they want to learn each): its id and the attendees' (membership id,
/// account id), in membership id order.
pub async fn topic_event(server: &Server) -> (String, Vec<(String, String)>) {
    let org = sign_in(server, "organizer@example.org").await;
    let (status, event) = org
        .json(
            awc::http::Method::POST,
            "/v1/events",
            &json!({
                "name": "TopicConf", "slug": "topicconf", "starts_at": "2026-09-08T09:00:00Z",
                "ends_at": "2026-09-10T18:00:00Z", "time_zone": "Europe/Berlin"
            }),
        )
        .await;
    assert_eq!(status, 201, "{event}");
    let event_id = event["id"].as_str().unwrap().to_owned();

    // The API seeds at most 200 topics per event; the issue measures 500, so they are written
    // straight to the database, each with two organizer prompts.
    let db = hallway::db::connect(&server.url, 2).unwrap();
    {
        let mut conn = db.get().unwrap();
        let now = hallway::db::now();
        let prompts = r#"["What is changing fastest in {topic} right now?","Which {topic} habit would you teach a new colleague?"]"#;
        conn.transaction::<_, diesel::result::Error, _>(|conn| {
            for i in 0..TOPICS {
                let (id, slug, name) =
                    (hallway::db::new_id(), format!("topic-{i}"), format!("Topic {i}"));
                topics::insert(
                    conn,
                    &TopicRow {
                        id: &id,
                        event_id: &event_id,
                        slug: &slug,
                        name: &name,
                        description: "",
                        prompts,
                        position: i32::try_from(i).unwrap(),
                        archived_at: None,
                        created_at: now,
                        updated_at: now,
                    },
                )?;
            }
            Ok(())
        })
        .unwrap();
    }
    for part in 0..ATTENDEES / IMPORT_ROWS {
        let mut csv = String::from("email,name,company,headline,topics,want_to_learn\n");
        for i in part * IMPORT_ROWS..(part + 1) * IMPORT_ROWS {
            let t = |k: usize| format!("topic-{}", (i * 7 + k * 131) % TOPICS);
            csv.push_str(&format!(
                "person{i}@example.org,Person {i},Company {},Builds things,{};{};{},{};{}\n",
                i % 700,
                t(0),
                t(1),
                t(2),
                t(3),
                t(4)
            ));
        }
        let (status, report) = org
            .send(
                awc::http::Method::POST,
                &format!("/v1/events/{event_id}/attendee-imports"),
                Some(("text/csv", csv.into_bytes())),
            )
            .await;
        assert_eq!(status, 200, "{report}");
    }
    let people: Vec<(String, String)> = {
        let mut conn = db.get().unwrap();
        diesel::update(memberships::table.filter(memberships::event_id.eq(&event_id)))
            .set(memberships::in_directory.eq(true))
            .execute(&mut *conn)
            .unwrap();
        memberships::table
            .inner_join(accounts::table)
            .filter(memberships::event_id.eq(&event_id).and(memberships::role.eq("attendee")))
            .order(memberships::id.asc())
            .select((memberships::id, accounts::id))
            .load(&mut *conn)
            .unwrap()
    };
    assert_eq!(people.len(), ATTENDEES);
    (event_id, people)
}

pub async fn run(backend: &str) -> Vec<(String, String)> {
    // 20,000 invitations: more than a day's default mail budget of one event.
    let server = Server::start_with(
        backend,
        &[
            ("HALLWAY_MAIL_PER_EVENT_PER_DAY", "100000"),
            ("HALLWAY_MAIL_PER_ACCOUNT_PER_DAY", "100000"),
        ],
    );
    let (event_id, people) = topic_event(&server).await;
    crate::wait_for_mail(&server);
    let http = awc::Client::builder().timeout(Duration::from_secs(60)).finish();
    let mut results = Vec::new();
    for (m, (load, count)) in LOADS.into_iter().enumerate() {
        // Pair k of measurement m: a viewer of its own asks about someone far from them.
        let pairs: Rc<Vec<(String, String)>> = Rc::new(
            (0..count)
                .map(|k| {
                    let viewer = k * LOADS.len() + m;
                    let other = (viewer + 7_919) % ATTENDEES;
                    let url = format!(
                        "{}/v1/events/{event_id}/attendees/{}/starters",
                        server.base, people[other].0
                    );
                    (token(&people[viewer].1), url)
                })
                .collect(),
        );
        let name = match load {
            Load::Clients(1) => "1 client".to_owned(),
            Load::Clients(n) => format!("{n} clients"),
            Load::Rate(rate) => format!("{rate:.0} req/s arriving (open loop)"),
        };
        for view in ["first view", "repeat view"] {
            let started = Instant::now();
            let mut latencies = match load {
                Load::Clients(n) => closed_loop(&http, &pairs, n).await,
                Load::Rate(rate) => open_loop(&http, &pairs, rate).await,
            };
            let secs = started.elapsed().as_secs_f64();
            latencies.sort();
            results.push((
                format!("starters, {view}, {name}, {backend}"),
                format!(
                    "{:.0} req/s, p50 {:.1} ms, p99 {:.1} ms",
                    pairs.len() as f64 / secs,
                    percentile(&latencies, 0.50),
                    percentile(&latencies, 0.99)
                ),
            ));
        }
    }
    results.push((
        format!("server peak RSS (starters), {backend}"),
        format!("{:.0} MiB", server.peak_rss_mib()),
    ));
    results
}

/// Asks for one pair's starters; every answer must be `200` with 5 starters.
async fn ask(http: &Client, (token, url): &(String, String)) {
    let mut response = http
        .get(url)
        .insert_header(("Authorization", format!("Bearer {token}")))
        .send()
        .await
        .expect("request");
    let body = response.body().await.expect("body");
    let body: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
    assert_eq!(response.status().as_u16(), 200, "{body}");
    assert_eq!(body["starters"].as_array().map(Vec::len), Some(5), "{body}");
}

/// Every pair asked once by `clients` clients, each asking again as soon as it is answered: the
/// time of each call.
async fn closed_loop(
    http: &Client,
    pairs: &Rc<Vec<(String, String)>>,
    clients: usize,
) -> Vec<Duration> {
    let next = Rc::new(Cell::new(0usize));
    let latencies = Rc::new(RefCell::new(Vec::with_capacity(pairs.len())));
    let clients = (0..clients).map(|_| {
        let (next, latencies, pairs, http) =
            (next.clone(), latencies.clone(), pairs.clone(), http.clone());
        async move {
            while let Some(pair) = pairs.get(next.get()) {
                next.set(next.get() + 1);
                let sent = Instant::now();
                ask(&http, pair).await;
                latencies.borrow_mut().push(sent.elapsed());
            }
        }
    });
    futures_util::future::join_all(clients).await;
    latencies.take()
}

/// Every pair asked once, at random times `rate` a second on average (the same times on every
/// run), each when it is due however many are still unanswered: the time from when each was
/// due to its answer. The due times are kept by a thread of their own, which sleeps to each
/// (`std::thread::sleep`, to a few tens of microseconds) and hands the call to this runtime: its
/// timer rounds every sleep up to the next millisecond, which sent calls a millisecond late on
/// average, and that was counted in every call's latency.
async fn open_loop(http: &Client, pairs: &Rc<Vec<(String, String)>>, rate: f64) -> Vec<Duration> {
    let start = Instant::now() + Duration::from_millis(10);
    let mut due = Duration::ZERO;
    let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
    let times: Vec<Instant> = (0..pairs.len())
        .map(|_| {
            // Exponential gaps between arrivals (xorshift64 for the uniform draw).
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            let uniform = (seed >> 11) as f64 / (1u64 << 53) as f64;
            due += Duration::from_secs_f64(-(1.0 - uniform).ln() / rate);
            start + due
        })
        .collect();
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let ticker = std::thread::spawn(move || {
        for (k, at) in times.into_iter().enumerate() {
            std::thread::sleep(at.saturating_duration_since(Instant::now()));
            if tx.send((k, at)).is_err() {
                return;
            }
        }
    });
    let mut calls = Vec::with_capacity(pairs.len());
    while let Some((k, at)) = rx.recv().await {
        let (http, pairs) = (http.clone(), pairs.clone());
        calls.push(actix_web::rt::spawn(async move {
            ask(&http, &pairs[k]).await;
            at.elapsed()
        }));
    }
    ticker.join().expect("ticker");
    futures_util::future::join_all(calls)
        .await
        .into_iter()
        .map(|latency| latency.expect("call"))
        .collect()
}
