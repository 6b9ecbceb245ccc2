//! Staying in touch: touches, cadences, and the one upcoming check-in of a connection with a
//! cadence (kept one under concurrent touches); the queue across events, by the person's day.

use awc::http::StatusCode;
use chrono::NaiveDate;
use chrono_tz::Tz;
use diesel::prelude::*;
use futures_util::future::join_all;
use hallway::db::schema::{follow_ups, touches};
use serde_json::{Value, json};

use crate::both_backends;
use crate::follow_ups::{
    add, change, day_in, met_in_september, met_in_september_with_org, set_zone,
};
use crate::helpers::{Backend, TestApp, spawn_app};

both_backends!(
    a_touch_with_a_cadence_schedules_the_one_upcoming_check_in_from_that_moment,
    a_cadence_of_zero_or_minus_three_days_or_an_unknown_one_is_refused,
    concurrent_touches_leave_exactly_one_upcoming_check_in,
    the_queue_sorts_my_follow_ups_by_my_day_and_carries_what_i_need_to_act,
    each_queue_item_carries_its_own_connections_latest_notes_by_when_they_were_written,
);

fn open_cadence_check_ins(app: &TestApp, connection: &str) -> Vec<NaiveDate> {
    let connection = connection.to_owned();
    app.query(move |conn| {
        follow_ups::table
            .filter(follow_ups::connection_id.eq(connection))
            .filter(follow_ups::origin.eq("cadence").and(follow_ups::is_open.eq(true)))
            .select(follow_ups::due_on.assume_not_null())
            .load(conn)
    })
}

async fn a_touch_with_a_cadence_schedules_the_one_upcoming_check_in_from_that_moment(
    backend: Backend,
) {
    let app = spawn_app(backend).await;
    let (event, ada, _, connection) = met_in_september(&app).await;
    set_zone(&app, &ada, "Asia/Tokyo").await;
    let path = format!("/v1/events/{event}/connections/{connection}");
    let tokyo = chrono_tz::Asia::Tokyo;
    let weekly = app.patch(&path, Some(&ada.access_token), &json!({ "cadence": "weekly" })).await;
    assert_eq!(weekly.status, StatusCode::OK, "{}", weekly.body);
    assert_eq!(weekly.body["cadence"], "weekly");
    assert_eq!(
        weekly.body["follow_up"]["due_on"],
        day_in(tokyo, 7).to_string(),
        "a week from today"
    );
    assert_eq!(open_cadence_check_ins(&app, &connection), [day_in(tokyo, 7)]);

    let touches = format!("{path}/touches");
    let yesterday = day_in(tokyo, -1).to_string();
    let logged = app
        .post(
            &touches,
            Some(&ada.access_token),
            &json!({ "note": "we had coffee", "happened_at": yesterday }),
        )
        .await;
    assert_eq!(logged.status, StatusCode::CREATED, "{}", logged.body);
    assert_eq!(
        (logged.body["note"].as_str(), logged.body["happened_on"].as_str()),
        (Some("we had coffee"), Some(yesterday.as_str()))
    );
    assert_eq!(
        logged.body["next_check_in"]["due_on"],
        day_in(tokyo, 6).to_string(),
        "a week after the touch"
    );
    // An older touch does not pull the check-in back: it follows the latest.
    let older =
        app.post(&touches, Some(&ada.access_token), &json!({ "happened_at": "2026-09-10" })).await;
    assert_eq!(older.body["next_check_in"]["due_on"], day_in(tokyo, 6).to_string());
    let future = app
        .post(
            &touches,
            Some(&ada.access_token),
            &json!({ "happened_at": day_in(tokyo, 2).to_string() }),
        )
        .await;
    assert_eq!(future.status, StatusCode::UNPROCESSABLE_ENTITY, "a touch in the future");
    let listed = app.get(&format!("{touches}?limit=10"), Some(&ada.access_token)).await;
    assert_eq!(listed.body["items"].as_array().unwrap().len(), 2);

    // Completing the check-in is a touch too: the next one is a cadence from then.
    let every_ten = app
        .patch(&path, Some(&ada.access_token), &json!({ "cadence": "days", "cadence_days": 10 }))
        .await;
    assert_eq!(
        (every_ten.body["cadence"].as_str(), every_ten.body["cadence_days"].as_i64()),
        (Some("days"), Some(10))
    );
    let check_in = every_ten.body["follow_up"]["follow_up_id"].as_str().unwrap().to_owned();
    let done =
        change(&app, &ada, &check_in, json!({ "state": "done", "completion_note": "called" }))
            .await;
    assert_eq!(done.status, StatusCode::OK, "{}", done.body);
    assert_eq!(open_cadence_check_ins(&app, &connection), [day_in(tokyo, 10)]);
    // Undoing the completion takes back the check-in it scheduled: still one.
    let undone = change(&app, &ada, &check_in, json!({ "state": "open" })).await;
    assert_eq!(undone.status, StatusCode::OK, "{}", undone.body);
    assert_eq!(open_cadence_check_ins(&app, &connection).len(), 1);
    // Completing another follow-up of the connection moves the check-in too.
    let promise =
        add(&app, &ada, &event, &connection, json!({ "kind": "send", "due_at": "2026-09-20" }))
            .await;
    change(&app, &ada, promise["follow_up_id"].as_str().unwrap(), json!({ "state": "done" })).await;
    assert_eq!(open_cadence_check_ins(&app, &connection), [day_in(tokyo, 10)]);
    let none = app.patch(&path, Some(&ada.access_token), &json!({ "cadence": "none" })).await;
    assert_eq!(none.body["cadence"], "none");
    assert!(open_cadence_check_ins(&app, &connection).is_empty(), "no cadence, no check-in");
}

async fn a_cadence_of_zero_or_minus_three_days_or_an_unknown_one_is_refused(backend: Backend) {
    let app = spawn_app(backend).await;
    let (event, ada, _, connection) = met_in_september(&app).await;
    let path = format!("/v1/events/{event}/connections/{connection}");
    for (body, field) in [
        (json!({ "cadence": "days", "cadence_days": 0 }), "cadence_days"),
        (json!({ "cadence": "days", "cadence_days": -3 }), "cadence_days"),
        (json!({ "cadence": "days", "cadence_days": 3651 }), "cadence_days"),
        (json!({ "cadence": "days" }), "cadence_days"),
        (json!({ "cadence": "fortnightly" }), "cadence"),
        (json!({ "cadence_days": 10 }), "cadence_days"),
    ] {
        let refused = app.patch(&path, Some(&ada.access_token), &body).await;
        assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        assert_eq!(refused.problem_code(), "validation_failed");
        assert_eq!(refused.body["errors"][0]["field"], field, "{body}");
    }
    let view = app.get(&path, Some(&ada.access_token)).await;
    assert_eq!(view.body["cadence"], "none");
}

async fn concurrent_touches_leave_exactly_one_upcoming_check_in(backend: Backend) {
    let app = spawn_app(backend).await;
    let (event, ada, _, connection) = met_in_september(&app).await;
    let path = format!("/v1/events/{event}/connections/{connection}");
    let set = app.patch(&path, Some(&ada.access_token), &json!({ "cadence": "monthly" })).await;
    assert_eq!(set.status, StatusCode::OK);
    let touches_path = format!("{path}/touches");
    let days: Vec<String> = (1..=8).map(|d| day_in(Tz::UTC, -d).to_string()).collect();
    let bodies: Vec<Value> = days.iter().map(|day| json!({ "happened_at": day })).collect();
    let answers =
        join_all(bodies.iter().map(|body| app.post(&touches_path, Some(&ada.access_token), body)))
            .await;
    assert!(
        answers.iter().all(|a| a.status == StatusCode::CREATED),
        "{:?}",
        answers.iter().map(|a| &a.body).collect::<Vec<_>>()
    );
    let id = connection.clone();
    let logged: i64 = app.query(move |conn| {
        touches::table.filter(touches::connection_id.eq(id)).count().get_result(conn)
    });
    assert_eq!(logged, 8);
    let latest = NaiveDate::parse_from_str(&days[0], "%Y-%m-%d").unwrap();
    let next = latest.checked_add_months(chrono::Months::new(1)).unwrap();
    assert_eq!(
        open_cadence_check_ins(&app, &connection),
        [next],
        "one, a month after the latest touch"
    );
}

async fn the_queue_sorts_my_follow_ups_by_my_day_and_carries_what_i_need_to_act(backend: Backend) {
    let app = spawn_app(backend).await;
    let (org, event, ada, bob, connection) = met_in_september_with_org(&app).await;
    // Kiritimati (UTC+14) and Pago Pago (UTC−11): their todays are never the same day.
    let kiritimati = chrono_tz::Pacific::Kiritimati;
    set_zone(&app, &ada, "Pacific/Kiritimati").await;
    let topics = app
        .seed_topics(
            &org,
            &event,
            json!([{ "slug": "rust", "name": "Rust" }, { "slug": "go", "name": "Go" }]),
        )
        .await;
    assert_eq!(topics.status, StatusCode::OK, "{}", topics.body);
    for (person, picks) in [(&ada, json!(["rust", "go"])), (&bob, json!(["rust"]))] {
        let me = app.patch(&format!("/v1/events/{event}/me"), Some(&person.access_token), &json!({ "can_talk_about": picks, "company": "Acme", "sharing": { "email": false } })).await;
        assert_eq!(me.status, StatusCode::OK, "{}", me.body);
    }
    app.patch(
        &format!("/v1/events/{event}/connections/{connection}"),
        Some(&ada.access_token),
        &json!({ "tags": ["hiring"] }),
    )
    .await;
    for i in 0..4 {
        app.post(
            &format!("/v1/events/{event}/connections/{connection}/notes"),
            Some(&ada.access_token),
            &json!({ "body": format!("note {i} {}", "x".repeat(300)) }),
        )
        .await;
    }
    let overdue =
        add(&app, &ada, &event, &connection, json!({ "kind": "send", "due_at": "2026-09-20" }))
            .await;
    let today = add(
        &app,
        &ada,
        &event,
        &connection,
        json!({ "kind": "meet", "due_at": day_in(kiritimati, 0).to_string() }),
    )
    .await;
    let later = add(
        &app,
        &ada,
        &event,
        &connection,
        json!({ "kind": "check_in", "due_at": day_in(kiritimati, 3).to_string() }),
    )
    .await;
    let done =
        add(&app, &ada, &event, &connection, json!({ "kind": "other", "due_at": "2026-09-21" }))
            .await;
    change(&app, &ada, done["follow_up_id"].as_str().unwrap(), json!({ "state": "done" })).await;

    let ids = |page: &Value| -> Vec<Value> {
        page["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["follow_up"]["follow_up_id"].clone())
            .collect()
    };
    let paths: std::collections::HashMap<&str, String> = ["due", "overdue", "upcoming", "done"]
        .into_iter()
        .map(|state| (state, format!("/v1/follow-ups?state={state}")))
        .collect();
    let queue = |state: &'static str| app.get(&paths[state], Some(&ada.access_token));
    assert_eq!(ids(&queue("due").await.body), [today["follow_up_id"].clone()]);
    assert_eq!(ids(&queue("overdue").await.body), [overdue["follow_up_id"].clone()]);
    assert_eq!(ids(&queue("upcoming").await.body), [later["follow_up_id"].clone()]);
    assert_eq!(ids(&queue("done").await.body), [done["follow_up_id"].clone()]);
    let all = app.get("/v1/follow-ups?limit=2", Some(&ada.access_token)).await;
    assert_eq!(
        ids(&all.body),
        [overdue["follow_up_id"].clone(), today["follow_up_id"].clone()],
        "by due date"
    );
    let cursor = all.body["next_cursor"].as_str().unwrap();
    let rest =
        app.get(&format!("/v1/follow-ups?limit=2&cursor={cursor}"), Some(&ada.access_token)).await;
    assert_eq!(ids(&rest.body), [later["follow_up_id"].clone()]);
    assert_eq!(rest.body["next_cursor"], Value::Null);

    let item = &queue("due").await.body["items"][0];
    assert_eq!(item["event"]["id"], event.as_str());
    assert_eq!(item["person"]["company"], "Acme");
    assert!(item["person"].get("email").is_none(), "only what Bob shares: {item}");
    assert_eq!(item["my_tags"], json!(["hiring"]));
    assert_eq!(item["shared_topics"], json!([{ "slug": "rust", "name": "Rust" }]));
    assert_eq!(item["note_count"], 4);
    let notes = item["my_notes"].as_array().unwrap();
    assert_eq!(notes.len(), 3, "the latest few, not all");
    assert!(notes[0]["body"].as_str().unwrap().starts_with("note 3"), "newest first");
    assert_eq!(
        (notes[0]["body"].as_str().unwrap().chars().count(), notes[0]["truncated"].as_bool()),
        (280, Some(true))
    );

    // Ada flies to Pago Pago: today's promise is now days ahead there.
    set_zone(&app, &ada, "Pacific/Pago_Pago").await;
    assert!(ids(&queue("due").await.body).is_empty());
    assert!(ids(&queue("upcoming").await.body).contains(&today["follow_up_id"]));
    let bad = app.get("/v1/follow-ups?cursor=q1.nope", Some(&ada.access_token)).await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
}

async fn each_queue_item_carries_its_own_connections_latest_notes_by_when_they_were_written(
    backend: Backend,
) {
    let app = spawn_app(backend).await;
    let (org, event, ada, _bob, with_bob) = met_in_september_with_org(&app).await;
    let cleo = app.sign_in("cleo").await;
    app.join(&org, &cleo, &event).await;
    let code = app.badge_code(&cleo, &event).await;
    let scan = json!({ "client_scan_id": uuid::Uuid::new_v4().to_string(), "badge_code": code, "scanned_at": "2026-09-09T12:10:00Z" });
    let scanned = app.scan_with(&ada, &event, scan).await;
    assert_eq!(scanned.status, StatusCode::CREATED, "{}", scanned.body);
    let with_cleo = scanned.body["connection"]["connection_id"].as_str().unwrap().to_owned();
    // Offline notes arrive out of order: the one written first is received last.
    let notes = [
        (&with_bob, "bob: written second", "2026-09-09T13:00:00Z"),
        (&with_bob, "bob: written third", "2026-09-09T14:00:00Z"),
        (&with_bob, "bob: written first", "2026-09-09T12:00:00Z"),
        (&with_cleo, "cleo: the only one", "2026-09-09T12:30:00Z"),
    ];
    for (connection, body, written_at) in notes {
        let path = format!("/v1/events/{event}/connections/{connection}/notes");
        let written = app
            .post(
                &path,
                Some(&ada.access_token),
                &json!({ "body": body, "written_at": written_at }),
            )
            .await;
        assert_eq!(written.status, StatusCode::CREATED, "{}", written.body);
    }
    for connection in [&with_bob, &with_cleo] {
        add(&app, &ada, &event, connection, json!({ "kind": "send", "due_at": "2026-09-20" }))
            .await;
    }

    let queue = app.get("/v1/follow-ups", Some(&ada.access_token)).await;
    assert_eq!(queue.status, StatusCode::OK, "{}", queue.body);
    let shown: Vec<(String, Vec<String>)> = queue.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|item| {
            let bodies = item["my_notes"].as_array().unwrap().iter();
            let bodies = bodies.map(|n| n["body"].as_str().unwrap().to_owned()).collect();
            (item["follow_up"]["connection_id"].as_str().unwrap().to_owned(), bodies)
        })
        .collect();
    let of = |connection: &str| {
        shown.iter().find(|(id, _)| id == connection).map(|(_, notes)| notes.clone())
    };
    assert_eq!(
        of(&with_bob),
        Some(vec![
            "bob: written third".to_owned(),
            "bob: written second".to_owned(),
            "bob: written first".to_owned()
        ]),
        "newest written first: {}",
        queue.body
    );
    assert_eq!(of(&with_cleo), Some(vec!["cleo: the only one".to_owned()]), "{}", queue.body);
}
