//! The worker's follow-up jobs, run by the test with a time of its choosing: the post-event queue
//! (once per event, never two for a connection, shared by concurrent workers) and digest emails
//! (one per person and period, none when nothing is due, names kept on one line).

use awc::http::StatusCode;
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use futures_util::future::join_all;
use hallway::db::connections::NewConnection;
use hallway::db::schema::{digests_sent, events, follow_ups, memberships, outbox};
use hallway::domain::events::Role;
use hallway::worker::jobs;
use serde_json::json;

use crate::both_backends;
use crate::follow_ups::{add, met_in_september, set_zone};
use crate::helpers::{Backend, MAIL_WAIT, TestApp, spawn_app};
use crate::seed;

both_backends!(
    the_post_event_queue_gives_each_connection_without_an_open_follow_up_one_check_in_once,
    concurrent_workers_generate_the_post_event_queue_once_for_every_connection,
    a_digest_lists_what_is_due_once_per_period_and_nobody_idle_gets_one,
    an_unknown_digest_frequency_or_hour_is_refused,
);

fn at(raw: &str) -> DateTime<Utc> {
    raw.parse().unwrap()
}

fn post_event_rows(app: &TestApp, event: &str) -> Vec<(String, String)> {
    let event = event.to_owned();
    app.query(move |conn| {
        follow_ups::table
            .filter(follow_ups::event_id.eq(event).and(follow_ups::origin.eq("post_event")))
            .select((follow_ups::connection_id, follow_ups::kind))
            .load(conn)
    })
}

async fn the_post_event_queue_gives_each_connection_without_an_open_follow_up_one_check_in_once(
    backend: Backend,
) {
    let app = spawn_app(backend).await;
    let (event, ada, bob, ada_side) = met_in_september(&app).await;
    // Ada promised something: her side has an open follow-up; Bob's side has none.
    add(&app, &ada, &event, &ada_side, json!({ "kind": "send", "due_at": "2026-09-15" })).await;
    let bobs = app.connections(&bob, &event).await;
    let bob_side = bobs[0]["connection_id"].as_str().unwrap().to_owned();
    let sync = app.get(&format!("/v1/events/{event}/connections"), Some(&bob.access_token)).await;
    let token = sync.body["sync_token"].as_str().unwrap().to_owned();

    // The event ends 2026-09-11T01:00Z: before that, nothing.
    assert_eq!(jobs::generate_post_event(&app.db, at("2026-09-11T00:59:00Z")).await.unwrap(), 0);
    assert!(post_event_rows(&app, &event).is_empty());
    assert_eq!(jobs::generate_post_event(&app.db, at("2026-09-11T02:00:00Z")).await.unwrap(), 1);
    assert_eq!(post_event_rows(&app, &event), [(bob_side.clone(), "check_in".to_owned())]);
    let view = app
        .get(&format!("/v1/events/{event}/connections/{bob_side}"), Some(&bob.access_token))
        .await;
    // The end plus the event's window of 10 days.
    assert_eq!(view.body["follow_up"]["due_at"], "2026-09-21T01:00:00Z");
    assert_eq!(view.body["follow_up"]["kind"], "check_in");
    let delta = app
        .get(
            &format!("/v1/events/{event}/connections?updated_since={token}"),
            Some(&bob.access_token),
        )
        .await;
    assert_eq!(delta.body["items"][0]["connection_id"], bob_side, "delta sync brings the change");

    // Done once: later runs (and a check-in completed meanwhile) make nothing more.
    let id = view.body["follow_up"]["follow_up_id"].as_str().unwrap().to_owned();
    let done = app
        .patch(
            &format!("/v1/follow-ups/{id}"),
            Some(&bob.access_token),
            &json!({ "state": "done" }),
        )
        .await;
    assert_eq!(done.status, StatusCode::OK);
    assert_eq!(jobs::generate_post_event(&app.db, at("2026-10-01T00:00:00Z")).await.unwrap(), 0);
    let event_id = event.clone();
    let generated: Option<chrono::NaiveDateTime> = app.query(move |conn| {
        events::table.find(event_id).select(events::follow_ups_generated_at).first(conn)
    });
    assert_eq!(generated, Some(at("2026-09-11T02:00:00Z").naive_utc()));
    // And the database refuses a second one for the connection, whatever the code does.
    let second = app.db.get().unwrap().transaction::<_, diesel::result::Error, _>(|conn| {
        diesel::sql_query(format!(
            "INSERT INTO follow_ups (id, event_id, connection_id, owner_id, account_id, kind, due_at, \
             queue_at, state, is_open, origin, created_at, updated_at) SELECT '{}', event_id, \
             connection_id, owner_id, account_id, kind, due_at, queue_at, 'open', is_open, origin, \
             created_at, updated_at FROM follow_ups WHERE id = '{id}'",
            uuid::Uuid::now_v7()
        ))
        .execute(conn)
    });
    assert!(second.is_err(), "a second post-event follow-up must be refused by the database");
}

async fn concurrent_workers_generate_the_post_event_queue_once_for_every_connection(
    backend: Backend,
) {
    let app = spawn_app(backend).await;
    let (_, event) = app.organizer_with_event().await;
    seed::people(&app, &event, Role::Attendee, 40);
    let event_id = event.clone();
    let members: Vec<String> = app.query(move |conn| {
        memberships::table
            .filter(memberships::event_id.eq(event_id))
            .select(memberships::id)
            .load(conn)
    });
    let now = hallway::db::now();
    let rows: Vec<NewConnection> = members
        .iter()
        .flat_map(|owner| {
            members.iter().filter(move |other| *other != owner).map(move |other| (owner, other))
        })
        .map(|(owner, other)| NewConnection {
            id: hallway::db::new_id(),
            event_id: event.clone(),
            owner_id: owner.clone(),
            other_id: other.clone(),
            first_met_at: now,
            last_met_at: now,
            scan_count: 1,
            created_at: now,
            updated_at: now,
        })
        .collect();
    let total = rows.len();
    assert!(total > 1_500, "several chunks: {total}");
    app.query(move |conn| hallway::db::connections::insert_missing(conn, &rows));

    // Four workers at once (on PostgreSQL each on its own connection, really concurrent).
    let runs =
        join_all((0..4).map(|_| jobs::generate_post_event(&app.db, at("2026-09-12T00:00:00Z"))))
            .await;
    let created: usize = runs.into_iter().map(|r| r.unwrap()).sum();
    assert_eq!(created, total, "every connection once, in all");
    let mut connections: Vec<String> =
        post_event_rows(&app, &event).into_iter().map(|(c, _)| c).collect();
    assert_eq!(connections.len(), total);
    connections.sort();
    connections.dedup();
    assert_eq!(connections.len(), total, "never two for one connection");
    assert_eq!(jobs::generate_post_event(&app.db, at("2026-09-13T00:00:00Z")).await.unwrap(), 0);
}

async fn a_digest_lists_what_is_due_once_per_period_and_nobody_idle_gets_one(backend: Backend) {
    let app = spawn_app(backend).await;
    let (event, ada, bob, connection) = met_in_september(&app).await;
    set_zone(&app, &ada, "America/Los_Angeles").await;
    let settings = app
        .patch("/v1/me", Some(&ada.access_token), &json!({ "digest": "daily", "digest_hour": 8 }))
        .await;
    assert_eq!(
        (settings.body["digest"].as_str(), settings.body["digest_hour"].as_i64()),
        (Some("daily"), Some(8))
    );
    let idle = app
        .patch("/v1/me", Some(&bob.access_token), &json!({ "digest": "daily", "digest_hour": 0 }))
        .await;
    assert_eq!(idle.status, StatusCode::OK);
    // A name that got past the rules (written directly) and a note on two lines.
    let bob_id = bob.account_id.clone();
    app.query(move |conn| {
        diesel::update(memberships::table.filter(memberships::account_id.eq(bob_id)))
            .set(memberships::name.eq("Bob\r\nBcc: victim@example.org"))
            .execute(conn)
    });
    add(
        &app,
        &ada,
        &event,
        &connection,
        json!({ "kind": "send", "note": "the deck\nSubject: free money", "due_at": "2026-09-20" }),
    )
    .await;
    add(&app, &ada, &event, &connection, json!({ "kind": "meet", "due_at": "2026-09-25" })).await;
    add(&app, &ada, &event, &connection, json!({ "kind": "check_in", "due_at": "2026-10-30" }))
        .await;

    // 07:59 in Los Angeles on the 25th: not yet.
    let url = "http://hallway.test";
    assert_eq!(jobs::send_digests(&app.db, url, at("2026-09-25T14:59:00Z")).await.unwrap(), 0);
    assert_eq!(jobs::send_digests(&app.db, url, at("2026-09-25T15:00:00Z")).await.unwrap(), 1);
    assert_eq!(
        jobs::send_digests(&app.db, url, at("2026-09-25T22:00:00Z")).await.unwrap(),
        0,
        "once a day"
    );
    let digest = |m: &crate::smtp::Received| m.subject().is_some_and(|s| s.starts_with("Hallway:"));
    let mail = app.mail.wait_for_matching(&ada.email, 1, MAIL_WAIT, digest).await.remove(0);
    assert_eq!(mail.subject(), Some("Hallway: 2 follow-ups due"));
    let body = mail.data.replace("=\r\n", "");
    assert!(
        body.contains("send: the deck Subject: free money - Bob Bcc: victim@example.org"),
        "{body}"
    );
    assert!(body.contains("overdue since 2026-09-20"), "{body}");
    assert!(!body.contains("check_in"), "not due yet: {body}");
    assert!(
        !body.lines().any(|l| l.starts_with("Bcc:") || l.starts_with("Subject: free")),
        "{body}"
    );
    let (ada_id, bob_id) = (ada.account_id.clone(), bob.account_id.clone());
    let digests: i64 = app.query(move |conn| {
        outbox::table.filter(outbox::kind.eq("digest")).count().get_result(conn)
    });
    assert_eq!(digests, 1, "Bob has nothing due: no email");
    let periods: Vec<(String, String, i32)> = app.query(move |conn| {
        digests_sent::table
            .filter(digests_sent::account_id.eq_any([ada_id, bob_id]))
            .select((digests_sent::account_id, digests_sent::period_key, digests_sent::items))
            .order(digests_sent::items.desc())
            .load(conn)
    });
    assert_eq!(periods.len(), 2);
    assert_eq!((periods[0].1.as_str(), periods[0].2), ("d2026-09-25", 2));
    // The next day is another period.
    assert_eq!(jobs::send_digests(&app.db, url, at("2026-09-26T16:00:00Z")).await.unwrap(), 1);
    // The database itself refuses a second digest of a period.
    let ada_id = ada.account_id.clone();
    let twice = app.db.get().unwrap().transaction::<_, diesel::result::Error, _>(|conn| {
        hallway::db::digests::record(conn, &ada_id, "d2026-09-26", 2, hallway::db::now())
    });
    assert!(!twice.unwrap(), "recorded already");
}

async fn an_unknown_digest_frequency_or_hour_is_refused(backend: Backend) {
    let app = spawn_app(backend).await;
    let ada = app.sign_in("ada").await;
    for (body, field) in [
        (json!({ "digest": "hourly" }), "digest"),
        (json!({ "digest": "daily", "digest_hour": 24 }), "digest_hour"),
        (json!({ "digest_hour": -1 }), "digest_hour"),
    ] {
        let refused = app.patch("/v1/me", Some(&ada.access_token), &body).await;
        assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        assert_eq!(refused.body["errors"][0]["field"], field);
    }
    let me = app.get("/v1/me", Some(&ada.access_token)).await;
    assert_eq!(
        (me.body["digest"].as_str(), me.body["time_zone"].as_str()),
        (Some("none"), Some("UTC"))
    );
}
