//! Defects a review found in the follow-up queue, each pinned: an ended snooze that can be edited,
//! a completed cadence check-in that can be snoozed, the post-event queue that respects follow-ups
//! and deletions made while it runs, and past events that the first worker run leaves alone.

use awc::http::StatusCode;
use chrono::{Duration, Utc};
use chrono_tz::Tz;
use diesel::prelude::*;
use hallway::db::schema::{events, follow_ups};
use hallway::worker::jobs;
use serde_json::json;

use crate::both_backends;
use crate::follow_ups::{add, change, day_in, met_in_september};
use crate::helpers::{Backend, spawn_app};

const PAST_EVENTS_GENERATED: [&str; 2] = [
    include_str!("../../migrations/sqlite/2026-12-02-000090_past_events_generated/up.sql"),
    include_str!("../../migrations/postgres/2026-12-02-000090_past_events_generated/up.sql"),
];

both_backends!(
    a_follow_up_whose_snooze_has_ended_can_be_edited_and_is_open_again,
    snoozing_a_completed_cadence_check_in_keeps_one_upcoming_check_in,
    events_whose_window_had_passed_are_marked_generated_and_get_no_overdue_check_ins,
    a_follow_up_or_a_deletion_made_while_the_post_event_queue_runs_is_respected,
);

async fn a_follow_up_whose_snooze_has_ended_can_be_edited_and_is_open_again(backend: Backend) {
    let app = spawn_app(backend).await;
    let (event, ada, _, connection) = met_in_september(&app).await;
    let made =
        add(&app, &ada, &event, &connection, json!({ "kind": "send", "due_at": "2026-09-20" }))
            .await;
    let id = made["follow_up_id"].as_str().unwrap().to_owned();
    let until = day_in(Tz::UTC, 2).to_string();
    let snoozed = change(&app, &ada, &id, json!({ "snoozed_until": until })).await;
    assert_eq!(snoozed.status, StatusCode::OK, "{}", snoozed.body);
    // The snooze ends: its day passes (set in the database, no waiting).
    let ended = (Utc::now() - Duration::hours(1)).naive_utc();
    let row = id.clone();
    app.query(move |conn| {
        diesel::update(follow_ups::table.find(row))
            .set((follow_ups::snoozed_until.eq(Some(ended)), follow_ups::queue_at.eq(ended)))
            .execute(conn)
    });
    let edited = change(&app, &ada, &id, json!({ "note": "the article on rate limiting" })).await;
    assert_eq!(edited.status, StatusCode::OK, "{}", edited.body);
    assert_eq!(edited.body["note"], "the article on rate limiting");
    assert_eq!(edited.body["state"], "open", "an ended snooze is open again");
    assert!(edited.body["snoozed_until"].is_null(), "{}", edited.body);
    // A new snooze still has to be in the future.
    let past = change(&app, &ada, &id, json!({ "snoozed_until": "2026-09-21" })).await;
    assert_eq!(past.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(past.body["errors"][0]["field"], "snoozed_until");
}

async fn snoozing_a_completed_cadence_check_in_keeps_one_upcoming_check_in(backend: Backend) {
    let app = spawn_app(backend).await;
    let (event, ada, _, connection) = met_in_september(&app).await;
    let path = format!("/v1/events/{event}/connections/{connection}");
    let weekly = app.patch(&path, Some(&ada.access_token), &json!({ "cadence": "weekly" })).await;
    assert_eq!(weekly.status, StatusCode::OK, "{}", weekly.body);
    let check_in = weekly.body["follow_up"]["follow_up_id"].as_str().unwrap().to_owned();
    let done = change(&app, &ada, &check_in, json!({ "state": "done" })).await;
    assert_eq!(done.status, StatusCode::OK, "{}", done.body);
    let until = day_in(Tz::UTC, 3).to_string();
    let snoozed = change(&app, &ada, &check_in, json!({ "snoozed_until": until })).await;
    assert_eq!(snoozed.status, StatusCode::OK, "{}", snoozed.body);
    assert_eq!(snoozed.body["state"], "snoozed");
    let conn_id = connection.clone();
    let open: Vec<String> = app.query(move |conn| {
        follow_ups::table
            .filter(follow_ups::connection_id.eq(conn_id))
            .filter(follow_ups::origin.eq("cadence").and(follow_ups::is_open.eq(true)))
            .select(follow_ups::id)
            .load(conn)
    });
    assert_eq!(open, [check_in], "the snoozed check-in is the one upcoming");
}

async fn events_whose_window_had_passed_are_marked_generated_and_get_no_overdue_check_ins(
    backend: Backend,
) {
    let app = spawn_app(backend).await;
    // Met in September: the event ended 2026-09-11, its 10-day window passed long ago.
    let (past, _, _, _) = met_in_september(&app).await;
    let (recent, _, _, _) = met_in_september(&app).await;
    let ended = (Utc::now() - Duration::days(2)).naive_utc();
    let recent_id = recent.clone();
    app.query(move |conn| {
        diesel::update(events::table.find(recent_id))
            .set((events::starts_at.eq(ended - Duration::days(1)), events::ends_at.eq(ended)))
            .execute(conn)
    });
    // As when the migration ran on a database holding these events.
    let sql = PAST_EVENTS_GENERATED[usize::from(backend == Backend::Postgres)];
    app.query(move |conn| diesel::connection::SimpleConnection::batch_execute(conn, sql));
    let generated = |event: String| {
        app.query(move |conn| {
            events::table
                .find(event)
                .select(events::follow_ups_generated_at)
                .first::<Option<chrono::NaiveDateTime>>(conn)
        })
    };
    assert!(generated(past.clone()).is_some(), "the window had passed: marked");
    assert!(generated(recent.clone()).is_none(), "still inside its window: not marked");
    let made = jobs::generate_post_event(&app.db, Utc::now()).await.unwrap();
    assert_eq!(made, 2, "the recent event's two connections, none of the past one's");
    let past_id = past.clone();
    let overdue: i64 = app.query(move |conn| {
        follow_ups::table.filter(follow_ups::event_id.eq(past_id)).count().get_result(conn)
    });
    assert_eq!(overdue, 0);
}

/// While another transaction holds both sides of a connection (Ada deletes hers, Bob makes a
/// follow-up on his), the post-event generation runs; on PostgreSQL it reads before they commit
/// and then waits for their rows, really concurrently. Neither side gets a post-event check-in.
/// SQLite has one writer: the other transaction commits first.
async fn a_follow_up_or_a_deletion_made_while_the_post_event_queue_runs_is_respected(
    backend: Backend,
) {
    use hallway::db::schema::connections;
    use hallway::domain::follow_ups::{Due, Kind, Origin, manage};
    let app = spawn_app(backend).await;
    let (event, _, bob, ada_side) = met_in_september(&app).await;
    let bob_side =
        app.connections(&bob, &event).await[0]["connection_id"].as_str().unwrap().to_owned();
    let (commit_tx, commit_rx) = std::sync::mpsc::channel::<()>();
    let (held_tx, held_rx) = std::sync::mpsc::channel::<()>();
    let mut other = app.db.get().unwrap();
    let (ada_id, bob_id, bob_account) =
        (ada_side.clone(), bob_side.clone(), bob.account_id.clone());
    let holder = std::thread::spawn(move || {
        use diesel::connection::SimpleConnection;
        let now = hallway::db::now();
        other.batch_execute("BEGIN").unwrap();
        hallway::db::follow_ups::lock_connection(&mut other, &bob_id).unwrap();
        let found =
            hallway::db::connections::find_many(&mut other, &[bob_id]).unwrap().pop().unwrap();
        let what = manage::What {
            kind: Kind::Send,
            note: None,
            due: Due::At(now),
            origin: Origin::Manual,
        };
        let row = manage::new_row(&found, &bob_account, what, Tz::UTC, now);
        hallway::db::follow_ups::insert(&mut other, &row).unwrap();
        diesel::update(connections::table.find(ada_id))
            .set(connections::deleted_at.eq(Some(now)))
            .execute(&mut other)
            .unwrap();
        held_tx.send(()).unwrap();
        commit_rx.recv().unwrap();
        other.batch_execute("COMMIT").unwrap();
    });
    held_rx.recv().unwrap();
    let generation = jobs::generate_post_event(&app.db, at_utc("2026-09-12T00:00:00Z"));
    let release = async {
        if backend == Backend::Postgres {
            // Until the generation waits for the held rows (it has read them by then).
            while waiting_for_a_lock(&app) == 0 {
                tokio::time::sleep(std::time::Duration::from_millis(5)).await;
            }
        }
        commit_tx.send(()).unwrap();
    };
    let (made, ()) = if backend == Backend::Postgres {
        futures_util::future::join(generation, release).await
    } else {
        release.await;
        (generation.await, ())
    };
    holder.join().unwrap();
    assert_eq!(made.unwrap(), 0, "no check-in for either side");
    let event_id = event.clone();
    let post_event: i64 = app.query(move |conn| {
        follow_ups::table
            .filter(follow_ups::event_id.eq(event_id).and(follow_ups::origin.eq("post_event")))
            .count()
            .get_result(conn)
    });
    assert_eq!(post_event, 0);
}

fn at_utc(raw: &str) -> chrono::DateTime<Utc> {
    raw.parse().unwrap()
}

/// Sessions of this database waiting for a row lock (PostgreSQL).
fn waiting_for_a_lock(app: &crate::helpers::TestApp) -> i64 {
    #[derive(QueryableByName)]
    struct Waiting {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    app.query(|conn| {
        diesel::sql_query(
            "SELECT count(*) AS n FROM pg_stat_activity WHERE datname = current_database() \
             AND wait_event_type = 'Lock'",
        )
        .get_result::<Waiting>(conn)
    })
    .n
}
