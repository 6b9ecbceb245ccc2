//! People to meet and introduction suggestions at scale: the starters' event (20,000 attendees,
//! 500 topics); p50/p99 of people-to-meet for a person with 20 topics, and of introduction
//! suggestions for a person with 500 connections.

use std::time::{Duration, Instant};

use hallway::db::connections::{self, NewConnection};
use serde_json::json;

use crate::Server;
use crate::exchange::{percentile, token};
use crate::starters::topic_event;

const REQUESTS: usize = 300;
const CONNECTIONS: usize = 500;
/// How many of the hub's next connections each of them knows.
const KNOWN_AMONG: usize = 10;

async fn measure(http: &awc::Client, url: &str, bearer: &str) -> Vec<Duration> {
    let mut latencies = Vec::with_capacity(REQUESTS);
    for _ in 0..REQUESTS {
        let sent = Instant::now();
        let mut response = http
            .get(url)
            .insert_header(("Authorization", format!("Bearer {bearer}")))
            .send()
            .await
            .expect("request");
        let body = response.body().limit(8 * 1024 * 1024).await.expect("body");
        latencies.push(sent.elapsed());
        assert_eq!(response.status().as_u16(), 200, "{}", String::from_utf8_lossy(&body));
    }
    latencies.sort();
    latencies
}

pub async fn run(backend: &str) -> Vec<(String, String)> {
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

    // Person 0 picks 20 topics: 10 to talk about, 10 to learn.
    let (me, my_account) = people[0].clone();
    let bearer = token(&my_account);
    let talk: Vec<String> = (0..10).map(|k| format!("topic-{}", k * 7)).collect();
    let learn: Vec<String> = (0..10).map(|k| format!("topic-{}", 3 + k * 11)).collect();
    let mut response = http
        .patch(format!("{}/v1/events/{event_id}/me", server.base))
        .insert_header(("Authorization", format!("Bearer {bearer}")))
        .send_json(&json!({ "can_talk_about": talk, "want_to_learn": learn }))
        .await
        .expect("profile");
    assert_eq!(response.status().as_u16(), 200, "{:?}", response.body().await);

    // Person 1 has 500 connections (both sides), made straight in the database; each of them is
    // also connected with the next 10 of them (5,000 pairs the suggestions must leave out).
    let (hub, hub_account) = people[1].clone();
    let db = hallway::db::connect(&server.url, 2).unwrap();
    {
        let mut conn = db.get().unwrap();
        let now = hallway::db::now();
        let mut rows = Vec::new();
        let mine: Vec<&String> =
            people.iter().skip(2).step_by(37).take(CONNECTIONS).map(|(id, _)| id).collect();
        let among = mine
            .iter()
            .enumerate()
            .flat_map(|(k, a)| mine.iter().skip(k + 1).take(KNOWN_AMONG).map(move |b| (*a, *b)));
        for (a, b) in mine.iter().map(|other| (&hub, *other)).chain(among) {
            for (owner, to) in [(a, b), (b, a)] {
                rows.push(NewConnection {
                    id: hallway::db::new_id(),
                    event_id: event_id.clone(),
                    owner_id: (*owner).clone(),
                    other_id: (*to).clone(),
                    first_met_at: now,
                    last_met_at: now,
                    scan_count: 1,
                    created_at: now,
                    updated_at: now,
                });
            }
        }
        connections::insert_missing(&mut conn, &rows).unwrap();
    }
    let _ = me;

    let mut results = Vec::new();
    let people_url = format!("{}/v1/events/{event_id}/people-to-meet?limit=20", server.base);
    let suggestions_url =
        format!("{}/v1/events/{event_id}/introduction-suggestions?limit=20", server.base);
    for (name, url, bearer) in [
        ("people-to-meet, 20 topics", people_url, bearer),
        ("introduction suggestions, 500 connections", suggestions_url, token(&hub_account)),
    ] {
        let latencies = measure(&http, &url, &bearer).await;
        results.push((
            format!("{name}, 1 client, {backend}"),
            format!(
                "p50 {:.1} ms, p99 {:.1} ms",
                percentile(&latencies, 0.50),
                percentile(&latencies, 0.99)
            ),
        ));
    }
    results.push((
        format!("server peak RSS (people), {backend}"),
        format!("{:.0} MiB", server.peak_rss_mib()),
    ));
    results
}
