//! The attendee import: 10,000 rows in one request.

use std::time::Instant;

use serde_json::{Value, json};

use crate::{Server, sign_in};

const ATTENDEES: usize = 10_000;

/// 10,000 attendees with names, companies, headlines and two topics each, invitations queued.
pub async fn run(backend: &str) -> Vec<(String, String)> {
    let server = Server::start(backend);
    let org = sign_in(&server, "organizer@example.org").await;
    let (status, event) = org
        .json(
            awc::http::Method::POST,
            "/v1/events",
            &json!({
                "name": "BenchConf", "slug": "benchconf", "starts_at": "2026-09-08T09:00:00Z",
                "ends_at": "2026-09-10T18:00:00Z", "time_zone": "Europe/Berlin"
            }),
        )
        .await;
    assert_eq!(status, 201, "{event}");
    let event_id = event["id"].as_str().unwrap().to_owned();
    let topics: Vec<Value> = (0..20)
        .map(|i| json!({ "slug": format!("topic-{i}"), "name": format!("Topic {i}") }))
        .collect();
    let (status, _) = org
        .json(
            awc::http::Method::PUT,
            &format!("/v1/events/{event_id}/topics"),
            &json!({ "topics": topics }),
        )
        .await;
    assert_eq!(status, 200);

    let mut csv = String::from("email,name,company,headline,topics,want_to_learn\n");
    for i in 0..ATTENDEES {
        csv.push_str(&format!(
            "person{i}@example.org,Person {i},\"Company {}, Inc.\",Builds things,topic-{};topic-{},topic-{}\n",
            i % 500,
            i % 20,
            (i + 7) % 20,
            (i + 3) % 20
        ));
    }
    let path = format!("/v1/events/{event_id}/attendee-imports");
    let started = Instant::now();
    let (status, report) = org
        .send(awc::http::Method::POST, &path, Some(("text/csv", csv.clone().into_bytes())))
        .await;
    let first = started.elapsed();
    assert_eq!(status, 200, "{report}");
    assert_eq!(report["created"].as_u64(), Some(ATTENDEES as u64), "every row created");
    let started = Instant::now();
    let (status, again) =
        org.send(awc::http::Method::POST, &path, Some(("text/csv", csv.into_bytes()))).await;
    let second = started.elapsed();
    assert_eq!(status, 200);
    assert_eq!(again["unchanged"].as_u64(), Some(ATTENDEES as u64), "a re-import changes nothing");
    let (_, stats) =
        org.send(awc::http::Method::GET, &format!("/v1/events/{event_id}/stats"), None).await;
    assert_eq!(stats["invited"].as_u64(), Some(ATTENDEES as u64), "one invitation each");
    let rss = server.peak_rss_mib();
    vec![
        (
            format!("import {ATTENDEES} attendees, {backend}"),
            format!("{:.2} s", first.as_secs_f64()),
        ),
        (format!("re-import (all unchanged), {backend}"), format!("{:.2} s", second.as_secs_f64())),
        (format!("server peak RSS, {backend}"), format!("{rss:.0} MiB")),
    ]
}
