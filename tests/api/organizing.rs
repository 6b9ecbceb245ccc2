//! Organizers' verbs: removing an attendee or a co-organizer, deleting an event, sending an
//! invitation again; and notes in the order they were written.

use awc::http::{Method, StatusCode};
use diesel::prelude::*;
use hallway::db::schema::{prompt_counts, starter_shows};
use serde_json::{Value, json};

use crate::both_backends;
use crate::helpers::{Backend, TestApp, spawn_app, spawn_app_configured, unique_email};

both_backends!(
    an_organizer_removes_an_attendee_and_the_people_they_met_keep_a_tombstone,
    only_organizers_remove_people_and_unknown_ids_answer_404,
    a_co_organizer_is_removed_but_never_the_last_organizer,
    deleting_an_event_deletes_it_for_everyone_and_leaves_other_events_alone,
    an_invitation_is_sent_again_at_most_once_in_ten_minutes,
    sending_an_invitation_again_is_charged_to_the_mail_quota,
    notes_come_back_in_the_order_they_were_written,
);

async fn delete(app: &TestApp, path: &str, token: &str) -> crate::helpers::TestResponse {
    app.send(Method::DELETE, path, Some(token), None).await
}

async fn an_organizer_removes_an_attendee_and_the_people_they_met_keep_a_tombstone(
    backend: Backend,
) {
    let app = spawn_app(backend).await;
    let (org, event, ada, bob) = app.event_with_two().await;
    let bob_code = app.badge_code(&bob, &event).await;
    let scanned = app.scan(&ada, &event, &bob_code).await;
    assert_eq!(scanned.status, StatusCode::CREATED, "{}", scanned.body);
    let connection = scanned.body["connection"]["connection_id"].as_str().unwrap().to_owned();
    let before = chrono::Utc::now().to_rfc3339();
    let bob_id = app.attendee_id(&bob, &event).await;

    let path = format!("/v1/events/{event}/attendees/{bob_id}");
    let removed = delete(&app, &path, &org.access_token).await;
    assert_eq!(removed.status, StatusCode::NO_CONTENT, "{}", removed.body);

    let bob_me = app.get(&format!("/v1/events/{event}/me"), Some(&bob.access_token)).await;
    assert_eq!(bob_me.status, StatusCode::NOT_FOUND);
    assert_eq!(bob_me.problem_code(), "event_not_found");
    let list = app.get(&format!("/v1/events/{event}/attendees"), Some(&org.access_token)).await;
    let ids: Vec<&str> = list.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|p| p["attendee_id"].as_str())
        .collect();
    assert!(!ids.contains(&bob_id.as_str()), "{ids:?}");
    assert_eq!(ids.len(), 2, "the organizer and Ada stay");

    let delta = app
        .get(
            &format!("/v1/events/{event}/connections?updated_since={}", urlencoding(&before)),
            Some(&ada.access_token),
        )
        .await;
    assert_eq!(delta.status, StatusCode::OK, "{}", delta.body);
    assert_eq!(delta.body["items"][0]["connection_id"], connection.as_str());
    assert_eq!(delta.body["items"][0]["deleted"], true, "Ada's device learns of it");

    let again = delete(&app, &path, &org.access_token).await;
    assert_eq!(again.status, StatusCode::NOT_FOUND);
    assert_eq!(again.problem_code(), "attendee_not_found");

    // Not barred: the join code brings Bob back, with a new badge.
    app.join(&org, &bob, &event).await;
    assert_ne!(app.badge_code(&bob, &event).await, bob_code);
}

fn urlencoding(raw: &str) -> String {
    raw.replace('+', "%2B").replace(':', "%3A")
}

async fn only_organizers_remove_people_and_unknown_ids_answer_404(backend: Backend) {
    let app = spawn_app(backend).await;
    let (org, event, ada, bob) = app.event_with_two().await;
    let (_, other_event) = app.organizer_with_event().await;
    let bob_id = app.attendee_id(&bob, &event).await;

    let by_attendee =
        delete(&app, &format!("/v1/events/{event}/attendees/{bob_id}"), &ada.access_token).await;
    assert_eq!(by_attendee.status, StatusCode::FORBIDDEN);
    assert_eq!(by_attendee.problem_code(), "organizer_only");

    let unknown = delete(
        &app,
        &format!("/v1/events/{event}/attendees/{}", uuid::Uuid::new_v4()),
        &org.access_token,
    )
    .await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
    assert_eq!(unknown.problem_code(), "attendee_not_found");

    let not_my_event =
        delete(&app, &format!("/v1/events/{other_event}/attendees/{bob_id}"), &org.access_token)
            .await;
    assert_eq!(not_my_event.status, StatusCode::NOT_FOUND);
    assert_eq!(not_my_event.problem_code(), "event_not_found");

    let no_token = app
        .send(Method::DELETE, &format!("/v1/events/{event}/attendees/{bob_id}"), None, None)
        .await;
    assert_eq!(no_token.status, StatusCode::UNAUTHORIZED);

    assert_eq!(
        app.get(&format!("/v1/events/{event}/me"), Some(&bob.access_token)).await.status,
        StatusCode::OK,
        "Bob is still there"
    );
}

async fn a_co_organizer_is_removed_but_never_the_last_organizer(backend: Backend) {
    let app = spawn_app(backend).await;
    let (org, event, ada, _) = app.event_with_two().await;
    let co_email = unique_email("co");
    let added = app
        .post(
            &format!("/v1/events/{event}/organizers"),
            Some(&org.access_token),
            &json!({ "email": co_email }),
        )
        .await;
    assert_eq!(added.status, StatusCode::OK, "{}", added.body);
    let co_id = added.body["attendee_id"].as_str().unwrap().to_owned();
    let org_id = app.attendee_id(&org, &event).await;
    let ada_id = app.attendee_id(&ada, &event).await;

    let by_attendee =
        delete(&app, &format!("/v1/events/{event}/organizers/{co_id}"), &ada.access_token).await;
    assert_eq!(by_attendee.status, StatusCode::FORBIDDEN);
    assert_eq!(by_attendee.problem_code(), "organizer_only");

    let not_an_organizer =
        delete(&app, &format!("/v1/events/{event}/organizers/{ada_id}"), &org.access_token).await;
    assert_eq!(not_an_organizer.status, StatusCode::NOT_FOUND);
    assert_eq!(not_an_organizer.problem_code(), "organizer_not_found");

    // The creator steps down; the co-organizer is left and becomes the event's creator.
    let co = app.sign_in_as(&co_email).await;
    let stepped_down =
        delete(&app, &format!("/v1/events/{event}/organizers/{org_id}"), &org.access_token).await;
    assert_eq!(stepped_down.status, StatusCode::OK, "{}", stepped_down.body);
    assert_eq!(stepped_down.body["role"], "attendee");
    let event_seen = app.get(&format!("/v1/events/{event}"), Some(&org.access_token)).await;
    assert_eq!(event_seen.status, StatusCode::OK, "still an attendee: {}", event_seen.body);
    assert_eq!(event_seen.body["my_role"], "attendee");

    let last =
        delete(&app, &format!("/v1/events/{event}/organizers/{co_id}"), &co.access_token).await;
    assert_eq!(last.status, StatusCode::CONFLICT);
    assert_eq!(last.problem_code(), "sole_organizer");
    let last_removed =
        delete(&app, &format!("/v1/events/{event}/attendees/{co_id}"), &co.access_token).await;
    assert_eq!(last_removed.status, StatusCode::CONFLICT);
    assert_eq!(last_removed.problem_code(), "sole_organizer");

    let unknown = delete(
        &app,
        &format!("/v1/events/{event}/organizers/{}", uuid::Uuid::new_v4()),
        &co.access_token,
    )
    .await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
    assert_eq!(unknown.problem_code(), "organizer_not_found");
}

async fn deleting_an_event_deletes_it_for_everyone_and_leaves_other_events_alone(backend: Backend) {
    let app = spawn_app(backend).await;
    let (org, event, ada, bob, bob_id) = crate::starters::ada_meets_bob(&app).await;
    let (other_org, other_event) = app.organizer_with_event().await;
    app.join(&other_org, &ada, &other_event).await;
    let bob_code = app.badge_code(&bob, &event).await;
    assert_eq!(app.scan(&ada, &event, &bob_code).await.status, StatusCode::CREATED);
    let shown = crate::starters::starters(&app, &ada, &event, &bob_id, "").await;
    assert_eq!(shown.status, StatusCode::OK, "{}", shown.body);
    // What was shown in the event, and its counters: deleted with it (the shows through the
    // memberships, since a show's event is its viewer's).
    let kept = |app: &TestApp| {
        let event = event.clone();
        app.query(move |conn| {
            let shows: i64 = starter_shows::table
                .filter(starter_shows::event_id.eq(&event))
                .count()
                .get_result(conn)?;
            let counters: i64 = prompt_counts::table
                .filter(prompt_counts::event_id.eq(&event))
                .count()
                .get_result(conn)?;
            Ok((shows, counters))
        })
    };
    assert!(matches!(kept(&app), (5, 1..)), "{:?}", kept(&app));

    let by_attendee = delete(&app, &format!("/v1/events/{event}"), &ada.access_token).await;
    assert_eq!(by_attendee.status, StatusCode::FORBIDDEN);
    assert_eq!(by_attendee.problem_code(), "organizer_only");
    let not_mine = delete(&app, &format!("/v1/events/{other_event}"), &org.access_token).await;
    assert_eq!(not_mine.status, StatusCode::NOT_FOUND);
    assert_eq!(not_mine.problem_code(), "event_not_found");
    let unknown =
        delete(&app, &format!("/v1/events/{}", uuid::Uuid::new_v4()), &org.access_token).await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);

    let deleted = delete(&app, &format!("/v1/events/{event}"), &org.access_token).await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT, "{}", deleted.body);

    for person in [&org, &ada, &bob] {
        let seen = app.get(&format!("/v1/events/{event}"), Some(&person.access_token)).await;
        assert_eq!(seen.status, StatusCode::NOT_FOUND);
        let synced =
            app.get(&format!("/v1/events/{event}/connections"), Some(&person.access_token)).await;
        assert_eq!(synced.status, StatusCode::NOT_FOUND);
        assert_eq!(synced.problem_code(), "event_not_found");
    }
    let listed = app.get("/v1/events", Some(&ada.access_token)).await;
    let ids: Vec<&str> =
        listed.body["items"].as_array().unwrap().iter().filter_map(|e| e["id"].as_str()).collect();
    assert_eq!(ids, vec![other_event.as_str()], "Ada's other event stays");
    assert_eq!(kept(&app), (0, 0), "shows and counters of the deleted event");
    assert_eq!(
        delete(&app, &format!("/v1/events/{event}"), &org.access_token).await.status,
        StatusCode::NOT_FOUND
    );
}

/// Imports one attendee by CSV and returns (their email, their attendee id) once their first
/// invitation has arrived.
async fn imported(app: &TestApp, org_token: &str, event: &str) -> (String, String) {
    let email = unique_email("guest");
    let csv = format!("email,name\n{email},Guest\n");
    let report = app
        .send(
            Method::POST,
            &format!("/v1/events/{event}/attendee-imports"),
            Some(org_token),
            Some(("text/csv", csv.into_bytes())),
        )
        .await;
    assert_eq!(report.status, StatusCode::OK, "{}", report.body);
    let id = report.body["rows"][0]["attendee_id"].as_str().unwrap().to_owned();
    app.nth_mail(&email, 1).await;
    (email, id)
}

async fn an_invitation_is_sent_again_at_most_once_in_ten_minutes(backend: Backend) {
    let app = spawn_app(backend).await;
    let (org, event, ada, _) = app.event_with_two().await;
    let (email, id) = imported(&app, &org.access_token, &event).await;
    let path = format!("/v1/events/{event}/attendees/{id}/invitation");

    let by_attendee = app.post(&path, Some(&ada.access_token), &json!({})).await;
    assert_eq!(by_attendee.status, StatusCode::FORBIDDEN);
    assert_eq!(by_attendee.problem_code(), "organizer_only");
    let unknown = app
        .post(
            &format!("/v1/events/{event}/attendees/{}/invitation", uuid::Uuid::new_v4()),
            Some(&org.access_token),
            &json!({}),
        )
        .await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
    assert_eq!(unknown.problem_code(), "attendee_not_found");

    let sent = app.post(&path, Some(&org.access_token), &json!({})).await;
    assert_eq!(sent.status, StatusCode::ACCEPTED, "{}", sent.body);
    let again = app.nth_mail(&email, 2).await;
    assert!(again.subject().unwrap_or_default().contains("invited"), "{:?}", again.subject());

    let too_soon = app.post(&path, Some(&org.access_token), &json!({})).await;
    assert_eq!(too_soon.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(too_soon.problem_code(), "rate_limited");
    let wait: u64 = too_soon.header("retry-after").unwrap().parse().unwrap();
    assert!((500..=600).contains(&wait), "{wait}");
    assert_eq!(app.mail.for_recipient(&email).len(), 2, "no third email");
}

async fn sending_an_invitation_again_is_charged_to_the_mail_quota(backend: Backend) {
    let app = spawn_app_configured(backend, |c| c.quotas.mail_per_account_per_day = 1).await;
    let (org, event) = app.organizer_with_event().await;
    let (email, id) = imported(&app, &org.access_token, &event).await;
    let refused = app
        .post(
            &format!("/v1/events/{event}/attendees/{id}/invitation"),
            Some(&org.access_token),
            &json!({}),
        )
        .await;
    assert_eq!(refused.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(refused.problem_code(), "quota_exceeded");
    assert!(refused.header("retry-after").is_some());
    assert_eq!(app.mail.for_recipient(&email).len(), 1);
}

async fn notes_come_back_in_the_order_they_were_written(backend: Backend) {
    let app = spawn_app(backend).await;
    let (_, event, ada, bob) = app.event_with_two().await;
    let bob_code = app.badge_code(&bob, &event).await;
    let scanned = app.scan(&ada, &event, &bob_code).await;
    let id = scanned.body["connection"]["connection_id"].as_str().unwrap().to_owned();
    let path = format!("/v1/events/{event}/connections/{id}/notes");
    let now = chrono::Utc::now();
    // Sent in this order; written (offline) in the order of the minutes.
    for (body, minutes_ago) in [("third", 1), ("first", 30), ("second", 10), ("fourth", 0)] {
        let written = (now - chrono::Duration::minutes(minutes_ago)).to_rfc3339();
        let body = if minutes_ago == 0 {
            json!({ "body": body })
        } else {
            json!({ "body": body, "written_at": written })
        };
        let added = app.post(&path, Some(&ada.access_token), &body).await;
        assert_eq!(added.status, StatusCode::CREATED, "{}", added.body);
    }
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let query = cursor.as_ref().map_or(String::new(), |c| format!("&cursor={c}"));
        let page = app.get(&format!("{path}?limit=1{query}"), Some(&ada.access_token)).await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.body);
        seen.extend(page.body["items"].as_array().unwrap().iter().map(|n| n["body"].clone()));
        match page.body["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => break,
        }
        assert!(seen.len() <= 4, "{seen:?}");
    }
    let expected: Vec<Value> =
        ["first", "second", "third", "fourth"].into_iter().map(Value::from).collect();
    assert_eq!(seen, expected);
}
