//! Introductions on both backends: emails read back from the SMTP server on loopback, links
//! followed from the email text, the page's form submitted; the bad inputs of the issue.

use awc::http::{Method, StatusCode};
use serde_json::{Value, json};

use crate::both_backends;
use crate::helpers::{Backend, Session, TestApp, spawn_app};
use crate::smtp::Received;

both_backends!(
    both_accepting_from_the_emailed_links_makes_them_connections_with_a_meet_follow_up_each,
    a_decline_is_never_shown_to_the_other_side_and_the_introducer_sees_not_this_time,
    introducing_someone_to_themselves_or_to_a_non_connection_is_refused,
    a_pair_already_connected_or_with_a_pending_introduction_is_refused,
    a_blocked_pair_cannot_be_introduced,
    used_and_guessed_tokens_get_the_same_404,
    answering_twice_or_someone_elses_introduction_is_refused,
    names_and_notes_are_escaped_and_emails_carry_only_what_the_other_shares,
);

/// An event where `hub` is connected with `ana` and `ben`: (hub, ana, ben, event id, attendee ids
/// of ana and ben).
pub async fn hub_with_two(app: &TestApp) -> (Session, Session, Session, String, String, String) {
    let (org, event, ana, ben) = app.event_with_two().await;
    let hub = app.sign_in("hub").await;
    app.join(&org, &hub, &event).await;
    for person in [&ana, &ben] {
        let code = app.badge_code(person, &event).await;
        let scanned = app.scan(&hub, &event, &code).await;
        assert_eq!(scanned.status, StatusCode::CREATED, "{}", scanned.body);
    }
    let mine = app.connections(&hub, &event).await;
    let id_of = |session: &Session| {
        mine.iter()
            .find(|c| {
                c["other"]["email"] == session.email.as_str()
                    || c["other"]["attendee_id"].is_string()
            })
            .map(|_| ())
    };
    let _ = id_of;
    let ana_id = app.attendee_id(&ana, &event).await;
    let ben_id = app.attendee_id(&ben, &event).await;
    (hub, ana, ben, event, ana_id, ben_id)
}

pub async fn introduce(
    app: &TestApp,
    hub: &Session,
    event: &str,
    x: &str,
    y: &str,
) -> crate::helpers::TestResponse {
    app.post(
        &format!("/v1/events/{event}/introductions"),
        Some(&hub.access_token),
        &json!({ "people": [
            { "attendee_id": x, "note": "Ben ran the migration you are about to start" },
            { "attendee_id": y, "note": "Ana is about to start the migration you ran" },
        ]}),
    )
    .await
}

/// The email's body, decoded enough for ASCII text (7bit or quoted-printable).
fn body(mail: &Received) -> String {
    let (_, body) = mail.data.split_once("\r\n\r\n").unwrap_or(("", &mail.data));
    if mail.data.contains("quoted-printable") {
        body.replace("=\r\n", "").replace("=3D", "=")
    } else {
        body.to_owned()
    }
}

/// The link after `label` in the email's text.
fn link(mail: &Received, label: &str) -> String {
    let text = body(mail);
    let line = text.lines().find(|l| l.starts_with(label)).expect("link line");
    line[label.len()..].trim().to_owned()
}

/// The path and query of an absolute URL of the app.
fn path_of(app: &TestApp, url: &str) -> String {
    let rest = url.split_once("/v1/").map(|(_, r)| r).expect("an API URL");
    let _ = app;
    format!("/v1/{rest}")
}

/// Opens a link's page and submits its form with `choice`.
async fn follow(app: &TestApp, url: &str, choice: &str) -> crate::helpers::TestResponse {
    let page = app.get(&path_of(app, url), None).await;
    assert_eq!(page.status, StatusCode::OK);
    let html = String::from_utf8(page.raw.clone()).unwrap();
    assert!(html.contains("<html lang=\"en\">") && html.contains("<h1>"));
    assert!(html.contains("method=\"post\"") && !html.contains("<script"));
    let token = html
        .split("name=\"token\" value=\"")
        .nth(1)
        .and_then(|r| r.split('"').next())
        .unwrap()
        .to_owned();
    post_form(app, &token, choice).await
}

async fn post_form(app: &TestApp, token: &str, choice: &str) -> crate::helpers::TestResponse {
    app.send(
        Method::POST,
        "/v1/introduction-links",
        None,
        Some((
            "application/x-www-form-urlencoded",
            format!("token={token}&choice={choice}").into_bytes(),
        )),
    )
    .await
}

async fn both_accepting_from_the_emailed_links_makes_them_connections_with_a_meet_follow_up_each(
    backend: Backend,
) {
    let app = spawn_app(backend).await;
    let (hub, ana, ben, event, ana_id, ben_id) = hub_with_two(&app).await;
    let made = introduce(&app, &hub, &event, &ana_id, &ben_id).await;
    assert_eq!(made.status, StatusCode::CREATED, "{}", made.body);

    // Ana and Ben each got one email (after their sign-in code).
    let to_ana = app.nth_mail(&ana.email, 2).await;
    let to_ben = app.nth_mail(&ben.email, 2).await;
    assert!(body(&to_ana).contains("Ben ran the migration you are about to start"));
    assert!(body(&to_ben).contains("Ana is about to start the migration you ran"));
    // Opening a link decides nothing.
    let accept = link(&to_ana, "Accept:");
    let opened = app.get(&path_of(&app, &accept), None).await;
    assert_eq!(opened.status, StatusCode::OK);
    assert!(app.connections(&ana, &event).await.len() == 1);
    let connections = format!("/v1/events/{event}/connections");
    let before = app.get(&connections, Some(&ana.access_token)).await;
    let token = before.body["sync_token"].as_str().unwrap().to_owned();

    let first = follow(&app, &accept, "accept").await;
    assert_eq!(first.status, StatusCode::OK);
    assert!(String::from_utf8(first.raw).unwrap().contains("Your answer is recorded"));
    let second = follow(&app, &link(&to_ben, "Accept:"), "accept").await;
    assert_eq!(second.status, StatusCode::OK);
    assert!(String::from_utf8(second.raw).unwrap().contains("You are connected"));

    // Each now has the other (and the hub) as a connection.
    let anas = app.connections(&ana, &event).await;
    assert_eq!(anas.len(), 2, "{anas:?}");
    let with_ben = anas.iter().find(|c| c["other"]["attendee_id"] == ben_id.as_str()).unwrap();
    let ben_side = with_ben["connection_id"].as_str().unwrap();
    // Marked as made by the hub's introduction, with the hub's note to Ana.
    let hub_id = app.attendee_id(&hub, &event).await;
    assert_eq!(with_ben["introduced_by"], hub_id.as_str(), "{with_ben}");
    assert_eq!(with_ben["introduction_note"], "Ben ran the migration you are about to start");
    // Ana's app learns of it by delta sync, as of any new connection.
    let delta =
        app.get(&format!("{connections}?updated_since={token}"), Some(&ana.access_token)).await;
    assert_eq!(delta.status, StatusCode::OK, "{}", delta.body);
    let changed: Vec<&Value> = delta.body["items"].as_array().unwrap().iter().collect();
    assert!(
        changed
            .iter()
            .any(|c| c["connection_id"] == ben_side && c["introduced_by"] == hub_id.as_str()),
        "{}",
        delta.body
    );
    let follow_ups = app
        .get(
            &format!("/v1/events/{event}/connections/{ben_side}/follow-ups"),
            Some(&ana.access_token),
        )
        .await;
    assert_eq!(follow_ups.status, StatusCode::OK, "{}", follow_ups.body);
    assert_eq!(follow_ups.body["items"][0]["kind"], "meet");
    assert_eq!(app.connections(&ben, &event).await.len(), 2);

    // One email to each of the three saying so.
    assert!(app.nth_mail(&ana.email, 3).await.subject().unwrap().contains("connected"));
    assert!(app.nth_mail(&ben.email, 3).await.subject().unwrap().contains("connected"));
    assert!(app.nth_mail(&hub.email, 2).await.subject().unwrap().contains("connected"));

    let listed = app.get("/v1/me/introductions", Some(&hub.access_token)).await;
    assert_eq!(listed.body["items"][0]["status"], "accepted");
    assert_eq!(listed.body["items"][0]["role"], "made");
}

async fn a_decline_is_never_shown_to_the_other_side_and_the_introducer_sees_not_this_time(
    backend: Backend,
) {
    let app = spawn_app(backend).await;
    let (hub, ana, ben, event, ana_id, ben_id) = hub_with_two(&app).await;
    assert_eq!(introduce(&app, &hub, &event, &ana_id, &ben_id).await.status, StatusCode::CREATED);
    let to_ana = app.nth_mail(&ana.email, 2).await;
    let declined = follow(&app, &link(&to_ana, "Decline:"), "decline").await;
    assert_eq!(declined.status, StatusCode::OK);

    let hubs = app.get("/v1/me/introductions", Some(&hub.access_token)).await;
    assert_eq!(hubs.body["items"][0]["status"], "not_this_time");
    let bens = app.get("/v1/me/introductions", Some(&ben.access_token)).await;
    assert_eq!(bens.body["items"][0]["status"], "pending");
    assert_eq!(bens.body["items"][0]["role"], "received");
    // Ben can still answer, and hears nothing more; the pair is never introducible again.
    let id = bens.body["items"][0]["introduction_id"].as_str().unwrap().to_owned();
    let answered = app
        .post(
            &format!("/v1/introductions/{id}/responses"),
            Some(&ben.access_token),
            &json!({ "choice": "accept" }),
        )
        .await;
    assert_eq!(answered.status, StatusCode::OK, "{}", answered.body);
    assert_eq!(answered.body["outcome"], "waiting");
    assert_eq!(app.connections(&ben, &event).await.len(), 1);
    let again = introduce(&app, &hub, &event, &ana_id, &ben_id).await;
    assert_eq!(again.status, StatusCode::CONFLICT);
    assert_eq!(again.problem_code(), "cannot_introduce");

    // Fourteen days on, the worker expires what is still pending; a new pair's introduction
    // expires, and its links stop working.
    let (org, event2, x, y) = app.event_with_two().await;
    app.join(&org, &hub, &event2).await;
    for person in [&x, &y] {
        let code = app.badge_code(person, &event2).await;
        app.scan(&hub, &event2, &code).await;
    }
    let (x_id, y_id) = (app.attendee_id(&x, &event2).await, app.attendee_id(&y, &event2).await);
    assert_eq!(introduce(&app, &hub, &event2, &x_id, &y_id).await.status, StatusCode::CREATED);
    let to_x = app.nth_mail(&x.email, 2).await;
    let soon = chrono::Utc::now() + chrono::Duration::days(13);
    assert_eq!(hallway::worker::jobs::expire_introductions(&app.db, soon).await.unwrap(), 0);
    let later = chrono::Utc::now() + chrono::Duration::days(15);
    assert_eq!(hallway::worker::jobs::expire_introductions(&app.db, later).await.unwrap(), 1);
    let expired = app.get(&path_of(&app, &link(&to_x, "Accept:")), None).await;
    assert_eq!(expired.status, StatusCode::NOT_FOUND);
    let xs = app.get("/v1/me/introductions", Some(&x.access_token)).await;
    assert_eq!(xs.body["items"][0]["status"], "expired");
}

async fn introducing_someone_to_themselves_or_to_a_non_connection_is_refused(backend: Backend) {
    let app = spawn_app(backend).await;
    let (hub, _ana, ben, event, ana_id, _ben_id) = hub_with_two(&app).await;
    let same = introduce(&app, &hub, &event, &ana_id, &ana_id).await;
    assert_eq!(same.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(same.problem_code(), "cannot_introduce_to_themselves");

    // Ben is connected with the hub only: Ben cannot introduce Ana to the hub.
    let hub_id = app.attendee_id(&hub, &event).await;
    let stranger = introduce(&app, &ben, &event, &ana_id, &hub_id).await;
    assert_eq!(stranger.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(stranger.problem_code(), "not_your_connection");

    // Someone of another event.
    let (_org2, other_event, carl, _dana) = app.event_with_two().await;
    let carl_id = app.attendee_id(&carl, &other_event).await;
    let elsewhere = introduce(&app, &hub, &event, &ana_id, &carl_id).await;
    assert_eq!(elsewhere.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(elsewhere.problem_code(), "attendee_not_in_event");
}

async fn a_pair_already_connected_or_with_a_pending_introduction_is_refused(backend: Backend) {
    let app = spawn_app(backend).await;
    let (hub, ana, _ben, event, ana_id, ben_id) = hub_with_two(&app).await;
    assert_eq!(introduce(&app, &hub, &event, &ana_id, &ben_id).await.status, StatusCode::CREATED);
    let pending = introduce(&app, &hub, &event, &ben_id, &ana_id).await;
    assert_eq!(pending.status, StatusCode::CONFLICT);
    assert_eq!(pending.problem_code(), "introduction_pending");

    let (org, event2, x, y) = app.event_with_two().await;
    app.join(&org, &hub, &event2).await;
    for person in [&x, &y] {
        let code = app.badge_code(person, &event2).await;
        app.scan(&hub, &event2, &code).await;
    }
    let code = app.badge_code(&y, &event2).await;
    app.scan(&x, &event2, &code).await;
    let (x_id, y_id) = (app.attendee_id(&x, &event2).await, app.attendee_id(&y, &event2).await);
    let connected = introduce(&app, &hub, &event2, &x_id, &y_id).await;
    assert_eq!(connected.status, StatusCode::CONFLICT);
    assert_eq!(connected.problem_code(), "already_connected");
    let _ = ana;
}

async fn a_blocked_pair_cannot_be_introduced(backend: Backend) {
    let app = spawn_app(backend).await;
    let (hub, ana, _ben, event, ana_id, ben_id) = hub_with_two(&app).await;
    let blocked = app
        .send(
            Method::POST,
            &format!("/v1/events/{event}/blocks/{ben_id}"),
            Some(&ana.access_token),
            None,
        )
        .await;
    assert_eq!(blocked.status, StatusCode::NO_CONTENT);
    let refused = introduce(&app, &hub, &event, &ana_id, &ben_id).await;
    assert_eq!(refused.status, StatusCode::CONFLICT);
    assert_eq!(refused.problem_code(), "cannot_introduce");
    let lifted = app
        .send(
            Method::DELETE,
            &format!("/v1/events/{event}/blocks/{ben_id}"),
            Some(&ana.access_token),
            None,
        )
        .await;
    assert_eq!(lifted.status, StatusCode::NO_CONTENT);
    assert_eq!(introduce(&app, &hub, &event, &ana_id, &ben_id).await.status, StatusCode::CREATED);
}

async fn used_and_guessed_tokens_get_the_same_404(backend: Backend) {
    let app = spawn_app(backend).await;
    let (hub, ana, _ben, event, ana_id, ben_id) = hub_with_two(&app).await;
    assert_eq!(introduce(&app, &hub, &event, &ana_id, &ben_id).await.status, StatusCode::CREATED);
    let accept = link(&app.nth_mail(&ana.email, 2).await, "Accept:");
    assert_eq!(follow(&app, &accept, "accept").await.status, StatusCode::OK);

    let used = app.get(&path_of(&app, &accept), None).await;
    let guessed = app.get(&format!("/v1/introduction-links/{}", "ab".repeat(32)), None).await;
    let malformed = app.get("/v1/introduction-links/nope", None).await;
    for answer in [&used, &guessed, &malformed] {
        assert_eq!(answer.status, StatusCode::NOT_FOUND);
        assert_eq!(answer.raw, used.raw);
    }
    let token = accept.split('/').next_back().unwrap().split('?').next().unwrap().to_owned();
    let posted_again = post_form(&app, &token, "accept").await;
    assert_eq!(posted_again.status, StatusCode::NOT_FOUND);
    assert_eq!(posted_again.raw, used.raw);
}

async fn answering_twice_or_someone_elses_introduction_is_refused(backend: Backend) {
    let app = spawn_app(backend).await;
    let (hub, ana, _ben, event, ana_id, ben_id) = hub_with_two(&app).await;
    let made = introduce(&app, &hub, &event, &ana_id, &ben_id).await;
    let id = made.body["introduction_id"].as_str().unwrap().to_owned();
    let path = format!("/v1/introductions/{id}/responses");
    let accept = json!({ "choice": "accept" });
    assert_eq!(app.post(&path, Some(&ana.access_token), &accept).await.status, StatusCode::OK);
    let twice = app.post(&path, Some(&ana.access_token), &accept).await;
    assert_eq!(twice.status, StatusCode::CONFLICT);
    assert_eq!(twice.problem_code(), "introduction_answered");
    // The introducer is not a side; a stranger even less.
    let stranger = app.sign_in("eve").await;
    for who in [&hub, &stranger] {
        let refused = app.post(&path, Some(&who.access_token), &accept).await;
        assert_eq!(refused.status, StatusCode::NOT_FOUND);
        assert_eq!(refused.problem_code(), "introduction_not_found");
    }
    let bad: Value = json!({ "choice": "maybe" });
    assert_eq!(
        app.post(&path, Some(&ana.access_token), &bad).await.status,
        StatusCode::UNPROCESSABLE_ENTITY
    );
}

async fn names_and_notes_are_escaped_and_emails_carry_only_what_the_other_shares(backend: Backend) {
    let app = spawn_app(backend).await;
    let (hub, ana, ben, event, ana_id, ben_id) = hub_with_two(&app).await;
    let named = app
        .patch(
            &format!("/v1/events/{event}/me"),
            Some(&ben.access_token),
            &json!({ "name": "<b>Ben</b> & co", "phone": "+1 555 0100" }),
        )
        .await;
    assert_eq!(named.status, StatusCode::OK, "{}", named.body);
    let made = app
        .post(
            &format!("/v1/events/{event}/introductions"),
            Some(&hub.access_token),
            &json!({ "people": [
                { "attendee_id": ana_id, "note": "Meet him\r\nAccept: https://evil.example/x" },
                { "attendee_id": ben_id, "note": "Meet her" },
            ]}),
        )
        .await;
    assert_eq!(made.status, StatusCode::CREATED, "{}", made.body);
    let to_ana = app.nth_mail(&ana.email, 2).await;
    let text = body(&to_ana);
    // The note stays on its line: the only line starting with `Accept:` is ours.
    let accepts: Vec<&str> = text.lines().filter(|l| l.starts_with("Accept:")).collect();
    assert_eq!(accepts.len(), 1, "{text}");
    assert!(!accepts[0].contains("evil"));
    // Ben shares neither email nor phone (he has not confirmed his sharing).
    assert!(!text.contains(&ben.email) && !text.contains("555 0100"), "{text}");
    let page = app.get(&path_of(&app, &link(&to_ana, "Accept:")), None).await;
    let html = String::from_utf8(page.raw).unwrap();
    assert!(html.contains("&lt;b&gt;Ben&lt;/b&gt; &amp; co"), "{html}");
    assert!(!html.contains("<b>Ben</b>"));
}
