//! Mail delivery: through the outbox, surviving SMTP outages, and to files in development.

use std::time::Duration;

use awc::http::StatusCode;
use diesel::prelude::*;
use hallway::config::MailTransport;
use hallway::db::schema::outbox;

use crate::both_backends;
use crate::helpers::{Backend, MAIL_WAIT, spawn_app_with, unique_email};
use crate::smtp;

both_backends!(
    sign_in_answers_202_while_smtp_is_down_and_the_code_arrives_when_it_is_back,
    the_development_transport_writes_each_email_as_a_file,
);

/// Waits, without sleeping blindly, until the outbox row for `email` satisfies `done`.
async fn wait_for_outbox(
    app: &crate::helpers::TestApp,
    email: &str,
    done: impl Fn(i32, bool) -> bool,
) {
    let deadline = tokio::time::Instant::now() + MAIL_WAIT;
    loop {
        let rows: Vec<(i32, Option<chrono::NaiveDateTime>)> = app.query(|conn| {
            outbox::table
                .filter(outbox::recipient.eq(email))
                .select((outbox::attempts, outbox::sent_at))
                .load(conn)
        });
        if rows.iter().any(|(attempts, sent)| done(*attempts, sent.is_some())) {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "outbox for {email} never got there: {rows:?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn sign_in_answers_202_while_smtp_is_down_and_the_code_arrives_when_it_is_back(
    backend: Backend,
) {
    let (smtp_port, store) = smtp::shared();
    let mut smtp = smtp::SwitchablePort::new(*smtp_port).await;
    let app = spawn_app_with(
        backend,
        MailTransport::Smtp(format!("smtp://127.0.0.1:{}", smtp.port)),
        store.clone(),
    )
    .await;
    let before_outage = unique_email("before");
    app.request_code(&before_outage).await;
    store.wait_for(&before_outage, 1, MAIL_WAIT).await;

    smtp.stop();
    let email = unique_email("patient");
    let response = app.request_code(&email).await;
    assert_eq!(response.status, StatusCode::ACCEPTED, "an SMTP outage never fails the API call");
    // The worker keeps failing while SMTP is down, and keeps the message for later.
    wait_for_outbox(&app, &email, |attempts, sent| attempts >= 2 && !sent).await;
    assert!(store.for_recipient(&email).is_empty());

    smtp.start().await;
    let delivered = store.wait_for(&email, 1, MAIL_WAIT).await;
    assert_eq!(delivered.len(), 1, "sent once, after the outage");
    let code = delivered[0].sign_in_code().unwrap();
    assert_eq!(
        app.exchange(&email, &code).await.status,
        StatusCode::OK,
        "the late code still works"
    );
    wait_for_outbox(&app, &email, |_, sent| sent).await;
}

async fn the_development_transport_writes_each_email_as_a_file(backend: Backend) {
    let dir = std::env::temp_dir().join(format!("hallway-mail-{}", uuid::Uuid::new_v4().simple()));
    let app = spawn_app_with(backend, MailTransport::File(dir.clone()), smtp::new_store()).await;
    let email = unique_email("filed");
    assert_eq!(app.request_code(&email).await.status, StatusCode::ACCEPTED);

    wait_for_outbox(&app, &email, |_, sent| sent).await;
    let files: Vec<_> = std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().path()).collect();
    assert_eq!(files.len(), 1, "{files:?}");
    let content = std::fs::read_to_string(&files[0]).unwrap();
    assert!(content.contains(&format!("To: {email}")), "{content}");
    assert!(content.contains("Your Hallway sign-in code: "));
    std::fs::remove_dir_all(&dir).unwrap();
}
