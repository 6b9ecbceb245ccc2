//! The calendar feed: a secret URL of my promises as iCalendar to-dos, rotated and revoked at
//! will, read back by an independent parser.

use awc::http::{Method, StatusCode};
use diesel::prelude::*;
use hallway::db::schema::calendar_feeds;
use serde_json::json;

use crate::both_backends;
use crate::exports::{met, seed_connections};
use crate::follow_ups::{add, change, met_in_september_with_org, set_zone};
use crate::helpers::{Backend, TestApp, TestResponse, spawn_app};
use crate::{parsers, seed};

both_backends!(
    my_feed_lists_my_promises_as_todos_that_a_real_parser_reads,
    a_rotated_revoked_guessed_or_malformed_token_answers_the_same_404,
    each_follow_up_state_reads_in_the_feed_as_a_calendar_app_expects,
    the_feed_holds_at_most_its_bound_the_open_ones_first,
);

/// The path of a feed URL (tests reach the server at its own address, not the public one).
fn path_of(url: &str) -> String {
    url.strip_prefix("http://hallway.test").expect("built from HALLWAY_PUBLIC_URL").to_owned()
}

async fn new_feed(app: &TestApp, token: &str) -> TestResponse {
    let made = app.send(Method::POST, "/v1/me/calendar-feed", Some(token), None).await;
    assert_eq!(made.status, StatusCode::CREATED, "{}", made.body);
    made
}

async fn my_feed_lists_my_promises_as_todos_that_a_real_parser_reads(backend: Backend) {
    let app = spawn_app(backend).await;
    let (org, event, ada, _) = app.event_with_two().await;
    let (_, zoe) = met(&app, &org, &event, &ada, "Zoë Müller", false).await;
    let (_, li) = met(&app, &org, &event, &ada, "李雷", false).await;
    let (_, _no_promise) = met(&app, &org, &event, &ada, "Łukasz", false).await;
    let long = "Send the article on rate limiting, the one with token buckets; \
                and introduce أحمد to the team \\ before Friday\nSecond line";
    let promises = [
        (&zoe, json!({ "text": "Send the slides", "due_at": "2027-09-20" })),
        (&li, json!({ "text": long, "due_at": "2027-09-21T16:30:00-07:00" })),
    ];
    for (id, promise) in promises {
        let path = format!("/v1/events/{event}/connections/{id}");
        let patched =
            app.patch(&path, Some(&ada.access_token), &json!({ "follow_up": promise })).await;
        assert_eq!(patched.status, StatusCode::OK, "{}", patched.body);
    }

    let made = new_feed(&app, &ada.access_token).await;
    let url = made.body["url"].as_str().unwrap();
    assert!(url.starts_with("http://hallway.test/v1/calendar/") && url.ends_with(".ics"));
    let token = url.trim_start_matches("http://hallway.test/v1/calendar/").trim_end_matches(".ics");
    assert!(token.len() >= 32, "at least 128 bits: {token}");
    assert_eq!(made.body["webcal_url"], url.replace("http://", "webcal://"));
    let feed = app.get(&path_of(url), None).await;
    assert_eq!(feed.status, StatusCode::OK, "no sign-in: the token is the credential");
    assert_eq!(feed.header("content-type"), Some("text/calendar; charset=utf-8"));

    let text = String::from_utf8(feed.raw.clone()).unwrap();
    assert!(text.starts_with("BEGIN:VCALENDAR\r\n") && text.ends_with("END:VCALENDAR\r\n"));
    assert!(!text.replace("\r\n", "").contains('\n'), "every line ends with CRLF");
    for line in text.split_terminator("\r\n") {
        assert!(line.len() <= 75, "{} octets: {line}", line.len());
    }
    assert!(text.contains("\r\n "), "the long promise was folded");

    let parsed = parsers::icalendar(&feed.raw);
    assert_eq!(parsed["version"], "2.0");
    assert_eq!(parsed["name"], "Hallway follow-ups");
    let todos = parsed["todos"].as_array().unwrap();
    assert_eq!(todos.len(), 2, "one to-do per promise: {parsed}");
    let todo = |name: &str| {
        let found = todos
            .iter()
            .find(|t| t["SUMMARY"].as_str().unwrap().starts_with(&format!("{name}: ")))
            .unwrap()
            .clone();
        let uid = found["UID"].as_str().unwrap();
        assert!(uid.starts_with("follow-up-") && uid.ends_with("@hallway"), "{uid}");
        found
    };
    let slides = todo("Zoë Müller");
    assert_eq!(slides["SUMMARY"], "Zoë Müller: Send the slides");
    assert_eq!(slides["DUE"], json!({ "date": "2027-09-20" }), "a date stays that day");
    assert_eq!(slides["STATUS"], "NEEDS-ACTION");
    let event_name = "RustConf 2026";
    assert_eq!(slides["DESCRIPTION"], format!("Send the slides\n\nMet at {event_name}."));
    let article = todo("李雷");
    assert_eq!(article["DUE"], json!({ "utc": "2027-09-21T23:30:00Z" }));
    assert_eq!(article["DESCRIPTION"], format!("{long}\n\nMet at {event_name}."));
    let first_line: String = long.lines().next().unwrap().chars().take(80).collect();
    assert_eq!(article["SUMMARY"], format!("李雷: {first_line}…"));

    // The feed follows the promises: a cleared one leaves it.
    let path = format!("/v1/events/{event}/connections/{zoe}");
    app.patch(&path, Some(&ada.access_token), &json!({ "follow_up": null })).await;
    let later = parsers::icalendar(&app.get(&path_of(url), None).await.raw);
    assert_eq!(later["todos"].as_array().unwrap().len(), 1);
}

async fn a_rotated_revoked_guessed_or_malformed_token_answers_the_same_404(backend: Backend) {
    let app = spawn_app(backend).await;
    let ada = app.sign_in("ada").await;
    let status = app.get("/v1/me/calendar-feed", Some(&ada.access_token)).await;
    assert_eq!(status.body, json!({ "active": false }));
    let first = new_feed(&app, &ada.access_token).await;
    let first_url = path_of(first.body["url"].as_str().unwrap());
    assert_eq!(app.get(&first_url, None).await.status, StatusCode::OK);
    let status = app.get("/v1/me/calendar-feed", Some(&ada.access_token)).await;
    assert_eq!(status.body["active"], true);
    assert_eq!(status.body["created_at"], first.body["created_at"]);
    assert!(status.body.get("url").is_none(), "the URL is shown once");

    // Stored hashed: the table never holds the token.
    let token = first_url.trim_start_matches("/v1/calendar/").trim_end_matches(".ics").to_owned();
    let stored: Vec<String> =
        app.query(|conn| calendar_feeds::table.select(calendar_feeds::token_hash).load(conn));
    assert_eq!(stored.len(), 1);
    assert!(!stored[0].contains(&token) && stored[0] != token);

    let rotated = new_feed(&app, &ada.access_token).await;
    let rotated_url = path_of(rotated.body["url"].as_str().unwrap());
    assert_ne!(rotated_url, first_url);
    assert_eq!(app.get(&rotated_url, None).await.status, StatusCode::OK);
    let old = app.get(&first_url, None).await;
    assert_eq!(old.status, StatusCode::NOT_FOUND, "rotating revokes the old URL");
    assert_eq!(old.problem_code(), "calendar_feed_not_found");

    let revoked = app.send(Method::DELETE, "/v1/me/calendar-feed", Some(&ada.access_token), None);
    assert_eq!(revoked.await.status, StatusCode::NO_CONTENT);
    let again = app.send(Method::DELETE, "/v1/me/calendar-feed", Some(&ada.access_token), None);
    assert_eq!(again.await.status, StatusCode::NO_CONTENT, "revoking nothing is no error");
    let status = app.get("/v1/me/calendar-feed", Some(&ada.access_token)).await;
    assert_eq!(status.body, json!({ "active": false }));

    let guessed = format!("/v1/calendar/{}.ics", "0123456789abcdef".repeat(4));
    let refusals = [
        old,
        app.get(&rotated_url, None).await,
        app.get(&guessed, None).await,
        app.get("/v1/calendar/x.ics", None).await,
        app.get(&format!("/v1/calendar/{}.ics", "z".repeat(500)), None).await,
        app.get(&format!("/v1/calendar/{}.ics", token.to_uppercase()), None).await,
        app.get("/v1/calendar/%27%20OR%201%3D1--.ics", None).await,
    ];
    for refusal in &refusals {
        assert_eq!(refusal.status, StatusCode::NOT_FOUND);
        assert_eq!(refusal.body, refusals[0].body, "every unknown token gets the same body");
    }
    assert_eq!(app.get("/v1/me/calendar-feed", None).await.status, StatusCode::UNAUTHORIZED);
}

async fn each_follow_up_state_reads_in_the_feed_as_a_calendar_app_expects(backend: Backend) {
    let app = spawn_app(backend).await;
    let (org, event, ada, _, bob) = met_in_september_with_org(&app).await;
    set_zone(&app, &ada, "America/Los_Angeles").await;
    let made = |note: &str, due: &str| json!({ "kind": "send", "note": note, "due_at": due });
    add(&app, &ada, &event, &bob, made("Open on a day", "2027-03-01")).await;
    add(&app, &ada, &event, &bob, made("Open at a time", "2027-03-03T16:30:00-08:00")).await;
    let snoozed = add(&app, &ada, &event, &bob, made("Snoozed", "2027-03-02")).await;
    let snooze = json!({ "snoozed_until": "2099-01-01" });
    let id = |v: &serde_json::Value| v["follow_up_id"].as_str().unwrap().to_owned();
    assert_eq!(change(&app, &ada, &id(&snoozed), snooze).await.status, StatusCode::OK);
    let done_at = (chrono::Utc::now() - chrono::Duration::days(2)).format("%Y-%m-%dT%H:%M:%SZ");
    let done = add(&app, &ada, &event, &bob, made("Done lately", "2027-03-04")).await;
    let complete = json!({ "state": "done", "completed_at": done_at.to_string() });
    assert_eq!(change(&app, &ada, &id(&done), complete).await.status, StatusCode::OK);
    let old = add(&app, &ada, &event, &bob, made("Done long ago", "2027-03-05")).await;
    let complete = json!({ "state": "done", "completed_at": "2026-09-20T10:00:00Z" });
    assert_eq!(change(&app, &ada, &id(&old), complete).await.status, StatusCode::OK);
    let dismissed = add(&app, &ada, &event, &bob, made("Dismissed", "2027-03-06")).await;
    let dismiss = json!({ "state": "dismissed" });
    assert_eq!(change(&app, &ada, &id(&dismissed), dismiss).await.status, StatusCode::OK);
    // A follow-up on a connection Ada then deletes.
    let (_, carol) = met(&app, &org, &event, &ada, "Carol", false).await;
    add(&app, &ada, &event, &carol, made("On a deleted connection", "2099-03-01")).await;
    let path = format!("/v1/events/{event}/connections/{carol}");
    app.send(Method::DELETE, &path, Some(&ada.access_token), None).await;

    let made = new_feed(&app, &ada.access_token).await;
    let feed = app.get(&path_of(made.body["url"].as_str().unwrap()), None).await;
    assert_eq!(feed.status, StatusCode::OK);
    let parsed = parsers::icalendar(&feed.raw);
    let todos = parsed["todos"].as_array().unwrap();
    let find =
        |note: &str| todos.iter().find(|t| t["DESCRIPTION"].as_str().unwrap().starts_with(note));
    let summaries: Vec<&str> = todos.iter().map(|t| t["SUMMARY"].as_str().unwrap()).collect();
    assert_eq!(todos.len(), 4, "{summaries:?}");
    for absent in ["Done long ago", "Dismissed", "On a deleted connection"] {
        assert!(find(absent).is_none(), "{absent} is not in the feed");
    }
    let on_a_day = find("Open on a day").unwrap();
    assert_eq!(on_a_day["STATUS"], "NEEDS-ACTION");
    assert_eq!(
        on_a_day["DUE"],
        json!({ "date": "2027-03-01" }),
        "that day in Los Angeles, not the one before"
    );
    let at_a_time = find("Open at a time").unwrap();
    assert_eq!(at_a_time["DUE"], json!({ "utc": "2027-03-04T00:30:00Z" }));
    let snoozed = find("Snoozed").unwrap();
    assert_eq!(
        (&snoozed["STATUS"], &snoozed["DUE"]),
        (&json!("NEEDS-ACTION"), &json!({ "date": "2027-03-02" }))
    );
    let done = find("Done lately").unwrap();
    assert_eq!(done["STATUS"], "COMPLETED");
    assert_eq!(done["COMPLETED"], done_at.to_string());
    assert!(on_a_day.get("COMPLETED").is_none());
}

async fn the_feed_holds_at_most_its_bound_the_open_ones_first(backend: Backend) {
    let app = spawn_app(backend).await;
    let (_, event, ada, _) = app.event_with_two().await;
    let owner = app.attendee_id(&ada, &event).await;
    // 3,200 follow-ups: 800 each open, snoozed, done today and dismissed; 2,400 would be in it.
    let ids = seed_connections(&app, &event, &owner, 800);
    seed::follow_ups(&app, &ada.account_id, &ids, 4);
    let made = new_feed(&app, &ada.access_token).await;
    let feed = app.get(&path_of(made.body["url"].as_str().unwrap()), None).await;
    assert_eq!(feed.status, StatusCode::OK);
    let parsed = parsers::icalendar(&feed.raw);
    let todos = parsed["todos"].as_array().unwrap();
    assert_eq!(todos.len(), hallway::domain::calendar::MAX_ITEMS);
    let open = todos.iter().filter(|t| t["STATUS"] == "NEEDS-ACTION").count();
    assert_eq!(open, 1_600, "every open and snoozed one, then the done ones that fit");
}
