//! The outbox's order and its end: sign-in codes before everything else, bulk invitations last;
//! a message that cannot be delivered is given up, visible to operators, never retried forever.

use std::time::Duration;

use awc::http::StatusCode;
use chrono::TimeDelta;
use diesel::prelude::*;
use hallway::config::MailTransport;
use hallway::db::{outbox, schema::outbox as table};
use serde_json::json;

use crate::both_backends;
use crate::helpers::{
    Backend, JWT_SECRET, MAIL_WAIT, Session, TestApp, spawn_app_configured, unique_email,
};

both_backends!(
    sign_in_codes_go_first_person_to_person_mail_next_and_bulk_invitations_last,
    a_message_that_keeps_failing_is_given_up_and_listed_for_operators,
    a_mailbox_the_relay_refuses_is_given_up_at_once,
);

async fn sign_in_codes_go_first_person_to_person_mail_next_and_bulk_invitations_last(
    backend: Backend,
) {
    // No worker: the queue is read as the worker would read it.
    let app = spawn_app_configured(backend, |c| c.embedded_worker = false).await;
    let org = minted_session(&app);
    let event = app.create_event(&org, &crate::helpers::unique_slug("event")).await;
    let event_id = event["id"].as_str().unwrap();
    let csv: String = (0..60).map(|_| unique_email("guest") + "\n").collect();
    let imported = app.import_csv(&org, event_id, format!("email\n{csv}").as_bytes()).await;
    assert_eq!(imported.status, StatusCode::OK, "{}", imported.body);
    let co = unique_email("co");
    let added = app
        .post(
            &format!("/v1/events/{event_id}/organizers"),
            Some(&org.access_token),
            &json!({ "email": co }),
        )
        .await;
    assert_eq!(added.status, StatusCode::OK, "{}", added.body);
    let person = unique_email("late");
    assert_eq!(app.request_code(&person).await.status, StatusCode::ACCEPTED);

    let now = hallway::db::now();
    let claimed: Vec<String> = app.query(|conn| {
        outbox::claim_due(conn, now, now + TimeDelta::minutes(5), 3)
            .map(|m| m.into_iter().map(|m| m.kind).collect())
    });
    assert_eq!(claimed, ["sign_in_code", "organizer_invitation", "attendee_invitation"]);
}

async fn a_message_that_keeps_failing_is_given_up_and_listed_for_operators(backend: Backend) {
    // Nothing listens on this port: every attempt fails, as during a long relay outage.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let app = spawn_app_configured(backend, |c| {
        c.mail = MailTransport::Smtp(format!("smtp://127.0.0.1:{closed}"));
        c.mail_max_attempts = 3;
        c.mail_retry_base = Duration::from_millis(20);
        c.worker_poll = Duration::from_millis(50);
    })
    .await;
    let email = unique_email("unlucky");
    assert_eq!(app.request_code(&email).await.status, StatusCode::ACCEPTED);
    let (attempts, secret) = wait_until_dead(&app, &email).await;
    assert_eq!(attempts, 3, "given up after the configured attempts, not before, not after");
    assert_eq!(secret, None, "a dead letter keeps no secret");
    let listed = hallway::worker::dead_letters(&app.db, 10).unwrap();
    let letter = listed.iter().find(|l| l["recipient"] == email.as_str()).expect("listed");
    assert_eq!(letter["kind"], "sign_in_code");
    assert!(letter["last_error"].as_str().is_some_and(|e| !e.is_empty()), "{letter}");
    let due: Option<chrono::NaiveDateTime> = app.query(outbox::next_due);
    assert_eq!(due, None, "nothing is left to try");
}

async fn a_mailbox_the_relay_refuses_is_given_up_at_once(backend: Backend) {
    let app = spawn_app_configured(backend, |c| c.worker_poll = Duration::from_millis(50)).await;
    let email = unique_email("nobody");
    assert_eq!(app.request_code(&email).await.status, StatusCode::ACCEPTED);
    let (attempts, _) = wait_until_dead(&app, &email).await;
    assert_eq!(attempts, 1, "a 550 is not retried");
}

/// A new account with an access token minted with the test secret (no sign-in mail is sent here).
fn minted_session(app: &TestApp) -> Session {
    let email = unique_email("org");
    let account_id = hallway::db::new_id();
    let now = hallway::db::now();
    app.query(|conn| {
        hallway::db::accounts::insert(
            conn,
            &hallway::db::accounts::NewAccount {
                id: &account_id,
                email: &email,
                display_name: None,
                created_at: now,
                updated_at: now,
            },
        )
    });
    let keys = hallway::domain::tokens::TokenKeys::new(JWT_SECRET.as_bytes());
    let access_token = keys.issue(&account_id, chrono::Utc::now()).unwrap();
    Session { email, account_id, access_token, refresh_token: String::new() }
}

/// Waits until the outbox row to `email` is a dead letter: (attempts, secret).
async fn wait_until_dead(app: &TestApp, email: &str) -> (i32, Option<String>) {
    let deadline = tokio::time::Instant::now() + MAIL_WAIT;
    let mut changes = tokio::time::interval(Duration::from_millis(20));
    loop {
        let to = email.to_owned();
        let row: Option<(i32, Option<String>, Option<chrono::NaiveDateTime>)> = app.query(|conn| {
            table::table
                .filter(table::recipient.eq(to))
                .select((table::attempts, table::secret, table::dead_at))
                .first(conn)
                .optional()
        });
        if let Some((attempts, secret, Some(_))) = row {
            return (attempts, secret);
        }
        assert!(tokio::time::Instant::now() < deadline, "not given up in time: {row:?}");
        changes.tick().await;
    }
}
