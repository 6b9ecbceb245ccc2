//! Requests that race for the same unique key or foreign key answer as the winner did, or with
//! their documented 4xx, never 500. SQLite's single writer serialises them; on PostgreSQL they run
//! at once, so each race is sent with real concurrency and repeated to make it likely.

use awc::http::{Method, StatusCode};
use diesel::prelude::*;
use futures_util::future::{join, join_all};
use hallway::db::schema::{accounts, memberships, outbox, prompt_counts, starter_shows, topics};
use hallway::domain::tokens::TokenKeys;
use serde_json::{Value, json};

use crate::both_backends;
use crate::helpers::{
    Backend, JWT_SECRET, Session, TestApp, spawn_app, spawn_app_configured, unique_email,
    unique_slug,
};

both_backends!(
    the_same_import_sent_twice_at_once_creates_each_attendee_once,
    an_import_racing_the_first_sign_ins_of_its_people_answers_both,
    the_same_co_organizer_added_three_times_at_once_is_added_and_told_once,
    the_same_person_joining_three_times_at_once_joins_once,
    a_topic_dropped_while_an_attendee_picks_it_is_archived_or_refused,
    two_events_taking_the_same_slug_at_once_get_one_success_and_one_conflict,
    two_people_scanning_each_other_at_once_make_one_connection_created_once,
    the_same_starter_marked_used_four_times_at_once_counts_once,
    many_people_opening_starters_about_the_same_person_at_once_count_each_showing_once,
);

const ROUNDS: usize = 20;

fn statuses(report: &Value) -> Vec<String> {
    report["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["status"].as_str().unwrap().to_owned())
        .collect()
}

fn count_members(app: &TestApp, event: &str, email: &str) -> i64 {
    let (event, email) = (event.to_owned(), email.to_owned());
    app.query(move |conn| {
        memberships::table
            .inner_join(accounts::table)
            .filter(memberships::event_id.eq(&event).and(accounts::email.eq(&email)))
            .count()
            .get_result(conn)
    })
}

fn count_mail(app: &TestApp, email: &str, kind: &str) -> i64 {
    let (email, kind) = (email.to_owned(), kind.to_owned());
    app.query(move |conn| {
        outbox::table
            .filter(outbox::recipient.eq(&email).and(outbox::kind.eq(&kind)))
            .count()
            .get_result(conn)
    })
}

/// `n` people imported into the event, each with an access token (minted with the test secret,
/// so that the sign-in rate limits stay out of these tests).
async fn imported_people(app: &TestApp, org: &Session, event: &str, n: usize) -> Vec<Session> {
    let emails: Vec<String> = (0..n).map(|i| unique_email(&format!("p{i}"))).collect();
    let csv = format!("email\n{}\n", emails.join("\n"));
    let report = app.import_csv(org, event, csv.as_bytes()).await;
    assert_eq!(report.status, StatusCode::OK, "{}", report.body);
    let keys = TokenKeys::new(JWT_SECRET.as_bytes());
    emails
        .into_iter()
        .map(|email| {
            let wanted = email.clone();
            let account_id: String = app.query(move |conn| {
                accounts::table.filter(accounts::email.eq(&wanted)).select(accounts::id).first(conn)
            });
            let access_token = keys.issue(&account_id, chrono::Utc::now()).unwrap();
            Session { email, account_id, access_token, refresh_token: String::new() }
        })
        .collect()
}

async fn the_same_import_sent_twice_at_once_creates_each_attendee_once(backend: Backend) {
    let app = spawn_app(backend).await;
    let (org, event) = app.organizer_with_event().await;
    for _ in 0..ROUNDS {
        let emails = [unique_email("a"), unique_email("b")];
        let csv = format!("email,name\n{},A\n{},B\n", emails[0], emails[1]);
        let (first, second) = join(
            app.import_csv(&org, &event, csv.as_bytes()),
            app.import_csv(&org, &event, csv.as_bytes()),
        )
        .await;
        assert_eq!(first.status, StatusCode::OK, "{}", first.body);
        assert_eq!(second.status, StatusCode::OK, "{}", second.body);
        let mut answers = [statuses(&first.body), statuses(&second.body)];
        answers.sort();
        assert_eq!(answers, [["created", "created"], ["unchanged", "unchanged"]]);
        assert_eq!(first.body["rows"][0]["attendee_id"], second.body["rows"][0]["attendee_id"]);
        for email in &emails {
            assert_eq!(count_members(&app, &event, email), 1);
            assert_eq!(count_mail(&app, email, "attendee_invitation"), 1, "invited once");
        }
    }
}

async fn an_import_racing_the_first_sign_ins_of_its_people_answers_both(backend: Backend) {
    let app = spawn_app(backend).await;
    let (org, event) = app.organizer_with_event().await;
    // Each sign-in uses a code: the per-client limit (30 in 15 minutes) bounds the rounds.
    for _ in 0..8 {
        let emails = [unique_email("a"), unique_email("b")];
        let mut codes = Vec::new();
        for email in &emails {
            assert_eq!(app.request_code(email).await.status, StatusCode::ACCEPTED);
            let mail = app.mail.wait_for_matching(email, 1, crate::helpers::MAIL_WAIT, |m| {
                m.sign_in_code().is_some()
            });
            codes.push(mail.await[0].sign_in_code().unwrap());
        }
        let csv = format!("email\n{}\n{}\n", emails[0], emails[1]);
        let (import, sign_ins) = join(
            app.import_csv(&org, &event, csv.as_bytes()),
            join_all(emails.iter().zip(&codes).map(|(e, c)| app.exchange(e, c))),
        )
        .await;
        assert_eq!(import.status, StatusCode::OK, "{}", import.body);
        assert_eq!(statuses(&import.body), ["created", "created"]);
        for (email, signed_in) in emails.iter().zip(sign_ins) {
            assert_eq!(signed_in.status, StatusCode::OK, "{}", signed_in.body);
            let wanted = email.clone();
            let ids: Vec<String> = app.query(move |conn| {
                accounts::table.filter(accounts::email.eq(&wanted)).select(accounts::id).load(conn)
            });
            assert_eq!(ids, [signed_in.body["account_id"].as_str().unwrap()], "one account");
            assert_eq!(count_members(&app, &event, email), 1);
        }
    }
}

async fn the_same_co_organizer_added_three_times_at_once_is_added_and_told_once(backend: Backend) {
    // Room for every round's co-organizer (an event has at most 20 by default).
    let app = spawn_app_configured(backend, |c| c.quotas.organizers_per_event = 100).await;
    let (org, event) = app.organizer_with_event().await;
    let path = format!("/v1/events/{event}/organizers");
    for _ in 0..ROUNDS {
        let co = unique_email("co");
        let body = json!({ "email": co });
        let answers =
            join_all((0..3).map(|_| app.post(&path, Some(&org.access_token), &body))).await;
        for answer in &answers {
            assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
            assert_eq!(answer.body["role"], "organizer");
            assert_eq!(answer.body["attendee_id"], answers[0].body["attendee_id"]);
        }
        assert_eq!(count_members(&app, &event, &co), 1);
        assert_eq!(count_mail(&app, &co, "organizer_invitation"), 1, "told once");
    }
}

async fn the_same_person_joining_three_times_at_once_joins_once(backend: Backend) {
    let app = spawn_app(backend).await;
    let (org, event) = app.organizer_with_event().await;
    let elsewhere =
        app.create_event(&org, &unique_slug("elsewhere")).await["id"].as_str().unwrap().to_owned();
    let people = imported_people(&app, &org, &elsewhere, ROUNDS).await;
    let code = app
        .send(Method::PUT, &format!("/v1/events/{event}/join-code"), Some(&org.access_token), None)
        .await
        .body["join_code"]
        .clone();
    let path = format!("/v1/events/{event}/join");
    for person in &people {
        let body = json!({ "join_code": code });
        let answers =
            join_all((0..3).map(|_| app.post(&path, Some(&person.access_token), &body))).await;
        for answer in &answers {
            assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
            assert_eq!(answer.body["attendee_id"], answers[0].body["attendee_id"]);
        }
        assert_eq!(count_members(&app, &event, &person.email), 1);
    }
}

async fn a_topic_dropped_while_an_attendee_picks_it_is_archived_or_refused(backend: Backend) {
    let app = spawn_app(backend).await;
    let (org, event) = app.organizer_with_event().await;
    let ada = imported_people(&app, &org, &event, 1).await.remove(0);
    let me = format!("/v1/events/{event}/me");
    let (mut archived, mut refused) = (0, 0);
    for round in 0..ROUNDS {
        let slug = format!("topic-{round}");
        let seeded = app
            .seed_topics(
                &org,
                &event,
                json!([{ "slug": "keep", "name": "Keep" }, { "slug": slug, "name": "T" }]),
            )
            .await;
        assert_eq!(seeded.status, StatusCode::OK, "{}", seeded.body);
        let (dropped, picked) = join(
            app.seed_topics(&org, &event, json!([{ "slug": "keep", "name": "Keep" }])),
            app.patch(&me, Some(&ada.access_token), &json!({ "can_talk_about": [slug] })),
        )
        .await;
        assert_eq!(dropped.status, StatusCode::OK, "{}", dropped.body);
        let wanted = slug.clone();
        let topic_left: Vec<Option<chrono::NaiveDateTime>> = app.query(move |conn| {
            topics::table.filter(topics::slug.eq(&wanted)).select(topics::archived_at).load(conn)
        });
        match picked.status {
            // The pick came first: the topic is chosen, so it is archived, not deleted.
            StatusCode::OK => {
                archived += 1;
                assert_eq!(picked.body["can_talk_about"], json!([slug]));
                assert_eq!(dropped.body["archived"], 1, "{}", dropped.body);
                assert!(matches!(topic_left.as_slice(), [Some(_)]), "{topic_left:?}");
                let now = app.get(&me, Some(&ada.access_token)).await;
                assert_eq!(now.body["can_talk_about"], json!([slug]), "the choice stays");
            }
            // The drop came first: the topic is gone, as the documented 422 says.
            StatusCode::UNPROCESSABLE_ENTITY => {
                refused += 1;
                assert_eq!(picked.problem_code(), "validation_failed");
                assert_eq!(dropped.body["deleted"], 1, "{}", dropped.body);
                assert!(topic_left.is_empty(), "{topic_left:?}");
            }
            other => panic!("picking a topic being dropped answered {other}: {}", picked.body),
        }
    }
    assert_eq!(archived + refused, ROUNDS);
}

async fn two_events_taking_the_same_slug_at_once_get_one_success_and_one_conflict(
    backend: Backend,
) {
    let app = spawn_app(backend).await;
    let (org, first) = app.organizer_with_event().await;
    let second =
        app.create_event(&org, &unique_slug("second")).await["id"].as_str().unwrap().to_owned();
    for _ in 0..ROUNDS {
        let body = json!({ "slug": unique_slug("taken") });
        let (a, b) = join(
            app.patch(&format!("/v1/events/{first}"), Some(&org.access_token), &body),
            app.patch(&format!("/v1/events/{second}"), Some(&org.access_token), &body),
        )
        .await;
        let mut answers = [a.status, b.status];
        answers.sort();
        assert_eq!(answers, [StatusCode::OK, StatusCode::CONFLICT], "{} {}", a.body, b.body);
        let loser = if a.status == StatusCode::CONFLICT { &a } else { &b };
        assert_eq!(loser.problem_code(), "slug_taken");
    }
}

async fn two_people_scanning_each_other_at_once_make_one_connection_created_once(backend: Backend) {
    let app = spawn_app(backend).await;
    let (org, event) = app.organizer_with_event().await;
    let people = imported_people(&app, &org, &event, 2 * ROUNDS).await;
    let mut codes = Vec::new();
    for person in &people {
        codes.push(app.badge_code(person, &event).await);
    }
    for pair in 0..ROUNDS {
        let (ada, bob) = (&people[2 * pair], &people[2 * pair + 1]);
        let (ada_code, bob_code) = (&codes[2 * pair], &codes[2 * pair + 1]);
        let (by_ada, by_bob) =
            join(app.scan(ada, &event, bob_code), app.scan(bob, &event, ada_code)).await;
        let mut codes_answered = [by_ada.status, by_bob.status];
        codes_answered.sort();
        assert_eq!(codes_answered, [StatusCode::OK, StatusCode::CREATED]);
        let mut answers =
            [by_ada.body["status"].as_str().unwrap(), by_bob.body["status"].as_str().unwrap()];
        answers.sort_unstable();
        assert_eq!(answers, ["already_connected", "created"], "pair {pair}");
        for (person, other) in [(ada, bob), (bob, ada)] {
            let mine = app.connections(person, &event).await;
            assert_eq!(mine.len(), 1, "one connection each side");
            assert_eq!(mine[0]["scan_count"], 2, "both scans count");
            assert!(mine[0]["other"]["attendee_id"].is_string(), "{}", other.email);
        }
    }
}

async fn the_same_starter_marked_used_four_times_at_once_counts_once(backend: Backend) {
    let app = spawn_app(backend).await;
    let (_, event, ada, bob) = app.event_with_two().await;
    let bob_id = app.get(&format!("/v1/events/{event}/me"), Some(&bob.access_token)).await.body
        ["attendee_id"]
        .as_str()
        .unwrap()
        .to_owned();
    // Connected: starters for someone out of the directory are for connections.
    let code = app.badge_code(&bob, &event).await;
    assert_eq!(app.scan(&ada, &event, &code).await.status, StatusCode::CREATED);
    let list = app
        .get(&format!("/v1/events/{event}/attendees/{bob_id}/starters"), Some(&ada.access_token))
        .await;
    assert_eq!(list.status, StatusCode::OK, "{}", list.body);
    let id = list.body["starters"][0]["starter_id"].as_str().unwrap().to_owned();
    let path = format!("/v1/events/{event}/starters/{id}/feedback");
    let used = || {
        app.query(|conn| prompt_counts::table.select(prompt_counts::used).load::<i64>(conn))
            .into_iter()
            .sum::<i64>()
    };
    let tap = json!({ "used": true });
    // Five rounds of five writes stay within a person's burst of writes.
    for _ in 0..5 {
        let taps = (0..4).map(|_| app.post(&path, Some(&ada.access_token), &tap));
        for tap in join_all(taps).await {
            assert_eq!(tap.status, StatusCode::OK, "{}", tap.body);
        }
        assert_eq!(used(), 1, "one starter used, counted once");
        let undo = app.post(&path, Some(&ada.access_token), &json!({ "used": false })).await;
        assert_eq!(undo.status, StatusCode::OK, "{}", undo.body);
        assert_eq!(used(), 0);
    }
}

/// Starters first shown are recorded with their prompts' counters. Viewers opening starters about
/// the same person at once bump the same counters (in their own ranking's order): each showing
/// counts once, and no request fails (on PostgreSQL the counters are taken in one order, so the
/// requests wait for each other instead of deadlocking).
async fn many_people_opening_starters_about_the_same_person_at_once_count_each_showing_once(
    backend: Backend,
) {
    let app = spawn_app(backend).await;
    let (org, event, ada, bob) = app.event_with_two().await;
    let bob_id = app.get(&format!("/v1/events/{event}/me"), Some(&bob.access_token)).await.body
        ["attendee_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let code = app.badge_code(&bob, &event).await;
    let mut viewers = vec![ada];
    for n in 0..5 {
        let viewer = app.sign_in(&format!("viewer{n}")).await;
        app.join(&org, &viewer, &event).await;
        viewers.push(viewer);
    }
    // Connected: starters for someone out of the directory are for connections.
    for viewer in &viewers {
        assert_eq!(app.scan(viewer, &event, &code).await.status, StatusCode::CREATED);
    }
    let path = format!("/v1/events/{event}/attendees/{bob_id}/starters");
    // Each viewer twice at once: the second finds the first's rows, or records them itself.
    let views = viewers.iter().chain(viewers.iter()).map(|v| app.get(&path, Some(&v.access_token)));
    for view in join_all(views).await {
        assert_eq!(view.status, StatusCode::OK, "{}", view.body);
        assert!(!view.body["starters"].as_array().unwrap().is_empty(), "{}", view.body);
    }
    let shown: i64 = app
        .query(|conn| prompt_counts::table.select(prompt_counts::shown).load::<i64>(conn))
        .into_iter()
        .sum();
    let rows: i64 = app.query(|conn| starter_shows::table.count().get_result(conn));
    assert!(rows >= 6, "every viewer's starters are recorded: {rows}");
    assert_eq!(shown, rows, "each showing counted once");
}
