//! Mail delivery: through the outbox, surviving SMTP outages, and to files in development.

use std::time::Duration;

use awc::http::StatusCode;
use chrono::{NaiveDateTime, Utc};
use diesel::prelude::*;
use hallway::config::MailTransport;
use hallway::db::schema::outbox;

use crate::both_backends;
use crate::helpers::{Backend, MAIL_WAIT, spawn_app, spawn_app_with, unique_email};
use crate::smtp;

both_backends!(
    sign_in_answers_202_while_smtp_is_down_and_the_code_arrives_when_it_is_back,
    the_development_transport_writes_each_email_as_a_file,
    once_a_code_email_is_sent_no_outbox_row_holds_the_code,
    sent_mail_is_purged_after_the_retention_period_and_unsent_or_recent_mail_stays,
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
    let subject =
        content.lines().find_map(|l| l.strip_prefix("Subject: Your Hallway sign-in code: "));
    assert!(
        subject.is_some_and(|code| code.len() == 6 && code.chars().all(|c| c.is_ascii_digit())),
        "{content}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

async fn once_a_code_email_is_sent_no_outbox_row_holds_the_code(backend: Backend) {
    let app = spawn_app(backend).await;
    let email = unique_email("secret");
    app.request_code(&email).await;
    let code = app.nth_mail(&email, 1).await.sign_in_code().unwrap();
    wait_for_outbox(&app, &email, |_, sent| sent).await;

    let rows: Vec<(String, String, Option<String>)> = app.query(|conn| {
        outbox::table.select((outbox::subject, outbox::body_text, outbox::secret)).load(conn)
    });
    assert_eq!(rows.len(), 1);
    for (subject, body, secret) in rows {
        assert!(!subject.contains(&code) && !body.contains(&code), "{subject} {body}");
        assert_eq!(secret, None);
    }
    assert_eq!(app.exchange(&email, &code).await.status, StatusCode::OK, "the code still works");
}

async fn sent_mail_is_purged_after_the_retention_period_and_unsent_or_recent_mail_stays(
    backend: Backend,
) {
    let app = spawn_app(backend).await;
    let (old, recent, unsent) =
        (unique_email("old"), unique_email("recent"), unique_email("unsent"));
    for email in [&old, &recent, &unsent] {
        app.request_code(email).await;
        wait_for_outbox(&app, email, |_, sent| sent).await;
    }
    // The retention is 7 days (the default): one message sent 8 days ago, one 6 days ago, and
    // one never sent although it is as old.
    let days_ago = |days| Utc::now().naive_utc() - chrono::Duration::days(days);
    app.query(|conn| {
        diesel::update(outbox::table.filter(outbox::recipient.eq(&old)))
            .set(outbox::sent_at.eq(days_ago(8)))
            .execute(conn)?;
        diesel::update(outbox::table.filter(outbox::recipient.eq(&recent)))
            .set(outbox::sent_at.eq(days_ago(6)))
            .execute(conn)?;
        diesel::update(outbox::table.filter(outbox::recipient.eq(&unsent)))
            .set((
                outbox::sent_at.eq(None::<NaiveDateTime>),
                outbox::created_at.eq(days_ago(30)),
                outbox::next_attempt_at.eq(days_ago(-1)),
            ))
            .execute(conn)
    });

    // The worker purges after each round that sends mail.
    let trigger = unique_email("trigger");
    app.request_code(&trigger).await;
    let deadline = tokio::time::Instant::now() + MAIL_WAIT;
    let count = |email: &str| -> i64 {
        app.query(|conn| outbox::table.filter(outbox::recipient.eq(email)).count().get_result(conn))
    };
    while count(&old) > 0 {
        assert!(tokio::time::Instant::now() < deadline, "mail sent 8 days ago was never purged");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    wait_for_outbox(&app, &trigger, |_, sent| sent).await;
    assert_eq!(count(&recent), 1, "sent 6 days ago: kept");
    assert_eq!(count(&unsent), 1, "never sent: kept");
}
