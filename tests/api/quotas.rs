//! Mail as a budgeted resource: events per account, invitations and organizer notices per account
//! and per event, organizers per event; and the way out for a person imported against their will.

use awc::http::StatusCode;
use futures_util::future::join_all;
use serde_json::{Value, json};

use crate::both_backends;
use crate::helpers::{
    Backend, TestApp, event_body, spawn_app, spawn_app_configured, unique_email, unique_slug,
};

both_backends!(
    an_account_creates_no_more_events_a_day_than_its_quota_even_all_at_once,
    an_import_that_would_overdraw_the_mail_quota_changes_nothing,
    concurrent_imports_cannot_overdraw_the_mail_quota_together,
    an_event_has_no_more_organizers_than_its_limit,
    an_invitation_says_how_to_leave_and_leaving_takes_the_person_out_of_the_event,
    the_last_organizer_cannot_leave,
);

async fn import(
    app: &TestApp,
    token: &str,
    event: &str,
    emails: &[String],
) -> crate::helpers::TestResponse {
    let csv: String = std::iter::once("email".to_owned())
        .chain(emails.iter().cloned())
        .collect::<Vec<_>>()
        .join("\n");
    app.send(
        awc::http::Method::POST,
        &format!("/v1/events/{event}/attendee-imports"),
        Some(token),
        Some(("text/csv", csv.into_bytes())),
    )
    .await
}

fn emails(n: usize) -> Vec<String> {
    (0..n).map(|_| unique_email("guest")).collect()
}

async fn an_account_creates_no_more_events_a_day_than_its_quota_even_all_at_once(backend: Backend) {
    let app = spawn_app_configured(backend, |c| c.quotas.events_per_account_per_day = 3).await;
    let org = app.sign_in("org").await;
    let bodies: Vec<Value> = (0..8).map(|_| event_body(&unique_slug("spam"))).collect();
    let answers =
        join_all(bodies.iter().map(|body| app.post("/v1/events", Some(&org.access_token), body)))
            .await;
    let created = answers.iter().filter(|a| a.status == StatusCode::CREATED).count();
    let refused: Vec<_> =
        answers.iter().filter(|a| a.status == StatusCode::TOO_MANY_REQUESTS).collect();
    assert_eq!(
        (created, refused.len()),
        (3, 5),
        "{:?}",
        answers.iter().map(|a| a.status).collect::<Vec<_>>()
    );
    for answer in refused {
        assert_eq!(answer.problem_code(), "quota_exceeded");
        let retry: u64 = answer.header("retry-after").unwrap().parse().unwrap();
        assert!((1..=86_401).contains(&retry), "{retry}");
    }
    let listed = app.get("/v1/events", Some(&org.access_token)).await;
    assert_eq!(listed.body["items"].as_array().map(Vec::len), Some(3), "{}", listed.body);
}

async fn an_import_that_would_overdraw_the_mail_quota_changes_nothing(backend: Backend) {
    let app = spawn_app_configured(backend, |c| c.quotas.mail_per_account_per_day = 5).await;
    let (org, event) = app.organizer_with_event().await;
    let first = import(&app, &org.access_token, &event, &emails(3)).await;
    assert_eq!(first.status, StatusCode::OK, "{}", first.body);

    let too_many = emails(3);
    let refused = import(&app, &org.access_token, &event, &too_many).await;
    assert_eq!(refused.status, StatusCode::TOO_MANY_REQUESTS, "{}", refused.body);
    assert_eq!(refused.problem_code(), "quota_exceeded");
    assert!(refused.body["detail"].as_str().unwrap().contains("2 left"), "{}", refused.body);
    let queued = app.query(|conn| {
        use diesel::prelude::*;
        use hallway::db::schema::outbox;
        outbox::table.filter(outbox::recipient.eq_any(&too_many)).count().get_result::<i64>(conn)
    });
    assert_eq!(queued, 0, "no invitation was queued");
    let attendees =
        app.get(&format!("/v1/events/{event}/attendees"), Some(&org.access_token)).await;
    assert_eq!(attendees.body["items"].as_array().map(Vec::len), Some(4), "organizer + 3");

    // Re-importing people already invited sends nothing, so it costs nothing.
    let again = import(&app, &org.access_token, &event, &too_many[..2]).await;
    assert_eq!(again.status, StatusCode::OK, "{}", again.body);
}

async fn concurrent_imports_cannot_overdraw_the_mail_quota_together(backend: Backend) {
    let app = spawn_app_configured(backend, |c| c.quotas.mail_per_account_per_day = 10).await;
    let org = app.sign_in("org").await;
    let mut events = Vec::new();
    for _ in 0..4 {
        events.push(
            app.create_event(&org, &unique_slug("event")).await["id"].as_str().unwrap().to_owned(),
        );
    }
    let lists: Vec<Vec<String>> = (0..4).map(|_| emails(4)).collect();
    let answers = join_all(
        events.iter().zip(&lists).map(|(event, list)| import(&app, &org.access_token, event, list)),
    )
    .await;
    let statuses: Vec<_> = answers.iter().map(|a| a.status).collect();
    let accepted = statuses.iter().filter(|s| **s == StatusCode::OK).count();
    assert_eq!(accepted, 2, "4 + 4 fit in 10, a third import does not: {statuses:?}");
    assert!(statuses.iter().all(|s| *s == StatusCode::OK || *s == StatusCode::TOO_MANY_REQUESTS));
    let sent: i64 = app.query(|conn| {
        use diesel::prelude::*;
        use hallway::db::schema::outbox;
        outbox::table.filter(outbox::sender_id.eq(&org.account_id)).count().get_result(conn)
    });
    assert_eq!(sent, 8);
}

async fn an_event_has_no_more_organizers_than_its_limit(backend: Backend) {
    let app = spawn_app_configured(backend, |c| c.quotas.organizers_per_event = 2).await;
    let (org, event) = app.organizer_with_event().await;
    let path = format!("/v1/events/{event}/organizers");
    let second =
        app.post(&path, Some(&org.access_token), &json!({ "email": unique_email("co") })).await;
    assert_eq!(second.status, StatusCode::OK, "{}", second.body);
    let third_email = unique_email("co");
    let third = app.post(&path, Some(&org.access_token), &json!({ "email": third_email })).await;
    assert_eq!(third.status, StatusCode::CONFLICT, "{}", third.body);
    assert_eq!(third.problem_code(), "organizer_limit_reached");
    let mailed = app.query(|conn| hallway::db::outbox::for_recipient(conn, &third_email));
    assert!(mailed.is_empty(), "the refused organizer was not mailed");
}

async fn an_invitation_says_how_to_leave_and_leaving_takes_the_person_out_of_the_event(
    backend: Backend,
) {
    let app = spawn_app(backend).await;
    let (org, event) = app.organizer_with_event().await;
    let guest = unique_email("guest");
    let imported = import(&app, &org.access_token, &event, std::slice::from_ref(&guest)).await;
    assert_eq!(imported.status, StatusCode::OK, "{}", imported.body);
    let invitation = app.query(|conn| hallway::db::outbox::for_recipient(conn, &guest));
    assert_eq!(invitation.len(), 1);
    assert!(
        invitation[0]
            .body_text
            .contains(&format!("DELETE http://hallway.test/v1/events/{event}/me")),
        "{}",
        invitation[0].body_text
    );

    let person = app.sign_in_as(&guest).await;
    let path = format!("/v1/events/{event}/me");
    assert_eq!(app.get(&path, Some(&person.access_token)).await.status, StatusCode::OK);
    let left = app.send(awc::http::Method::DELETE, &path, Some(&person.access_token), None).await;
    assert_eq!(left.status, StatusCode::NO_CONTENT, "{}", left.body);
    let after = app.get(&path, Some(&person.access_token)).await;
    assert_eq!(after.status, StatusCode::NOT_FOUND);
    let attendees =
        app.get(&format!("/v1/events/{event}/attendees"), Some(&org.access_token)).await;
    let listed: Vec<&Value> = attendees.body["items"].as_array().unwrap().iter().collect();
    assert!(listed.iter().all(|a| a["email"] != guest.as_str()), "{listed:?}");
    let again = app.send(awc::http::Method::DELETE, &path, Some(&person.access_token), None).await;
    assert_eq!(again.status, StatusCode::NOT_FOUND);

    // The organizer's file, sent again, does not bring them back, nor mail them. (The first
    // invitation is gone if the worker had not sent it before they left: leaving drops it.)
    let invitations = || {
        let mailed = app.query(|conn| hallway::db::outbox::for_recipient(conn, &guest));
        mailed.iter().filter(|m| m.kind == "attendee_invitation").count()
    };
    let invited_before = invitations();
    assert!(invited_before <= 1);
    let reimported = import(&app, &org.access_token, &event, std::slice::from_ref(&guest)).await;
    assert_eq!(reimported.status, StatusCode::OK, "{}", reimported.body);
    assert_eq!(reimported.body["rows"][0]["status"], "rejected", "{}", reimported.body);
    assert!(reimported.body["rows"][0]["reason"].as_str().unwrap().contains("left this event"));
    assert_eq!(invitations(), invited_before, "no second invitation");
    // Only they can come back, and then imports may list them again.
    app.join(&org, &person, &event).await;
    let listed = import(&app, &org.access_token, &event, std::slice::from_ref(&guest)).await;
    assert_eq!(listed.body["rows"][0]["status"], "unchanged", "{}", listed.body);
}

async fn the_last_organizer_cannot_leave(backend: Backend) {
    let app = spawn_app(backend).await;
    let (org, event) = app.organizer_with_event().await;
    let path = format!("/v1/events/{event}/me");
    let refused = app.send(awc::http::Method::DELETE, &path, Some(&org.access_token), None).await;
    assert_eq!(refused.status, StatusCode::CONFLICT, "{}", refused.body);
    assert_eq!(refused.problem_code(), "sole_organizer");
    let co = app.sign_in("co").await;
    let added = app
        .post(
            &format!("/v1/events/{event}/organizers"),
            Some(&org.access_token),
            &json!({ "email": co.email }),
        )
        .await;
    assert_eq!(added.status, StatusCode::OK);
    let left = app.send(awc::http::Method::DELETE, &path, Some(&org.access_token), None).await;
    assert_eq!(left.status, StatusCode::NO_CONTENT, "{}", left.body);
    let event_now = app.get(&format!("/v1/events/{event}"), Some(&co.access_token)).await;
    assert_eq!(event_now.status, StatusCode::OK, "the event lives on with its other organizer");
}
