//! Privacy defaults: a person who never set what they share gives away only their name, company
//! and headline; a person with no name shows a neutral label, never their email's local part.

use awc::http::StatusCode;
use serde_json::json;

use crate::both_backends;
use crate::helpers::{Backend, spawn_app, unique_email};

both_backends!(
    an_imported_person_shares_only_name_company_and_headline_until_they_confirm,
    a_person_without_a_name_shows_a_neutral_label_not_their_email,
);

async fn an_imported_person_shares_only_name_company_and_headline_until_they_confirm(
    backend: Backend,
) {
    let app = spawn_app(backend).await;
    let (org, event) = app.organizer_with_event().await;
    let jane = unique_email("jane.doe.private");
    let csv = format!("email,name,company,headline\n{jane},Jane,Janeco,Builds things\n");
    assert_eq!(app.import_csv(&org, &event, csv.as_bytes()).await.status, StatusCode::OK);
    let jane_session = app.sign_in_as(&jane).await;
    let me = format!("/v1/events/{event}/me");
    let mine = app.get(&me, Some(&jane_session.access_token)).await;
    assert_eq!(mine.body["sharing_confirmed"], false, "{}", mine.body);
    app.patch(&me, Some(&jane_session.access_token), &json!({ "bio": "Hi", "phone": "+1 555" }))
        .await;

    let ada = app.sign_in("ada").await;
    app.join(&org, &ada, &event).await;
    let code = app.badge_code(&jane_session, &event).await;
    let scanned = app.scan(&ada, &event, &code).await;
    assert_eq!(scanned.status, StatusCode::CREATED, "{}", scanned.body);
    let other = &scanned.body["connection"]["other"];
    assert_eq!(
        (other["name"].as_str(), other["company"].as_str(), other["headline"].as_str()),
        (Some("Jane"), Some("Janeco"), Some("Builds things"))
    );
    for hidden in ["email", "phone", "bio", "links"] {
        assert!(other.get(hidden).is_none(), "{hidden} shared before confirmation: {other}");
    }

    let confirmed = app
        .patch(&me, Some(&jane_session.access_token), &json!({ "sharing": { "phone": true } }))
        .await;
    assert_eq!(confirmed.body["sharing_confirmed"], true, "{}", confirmed.body);
    let id = scanned.body["connection"]["connection_id"].as_str().unwrap();
    let now =
        app.get(&format!("/v1/events/{event}/connections/{id}"), Some(&ada.access_token)).await;
    let other = &now.body["other"];
    assert_eq!(other["email"], jane.as_str(), "email sharing is on by default once confirmed");
    assert_eq!(other["phone"], "+1 555");
    assert_eq!(other["bio"], "Hi");
}

async fn a_person_without_a_name_shows_a_neutral_label_not_their_email(backend: Backend) {
    let app = spawn_app(backend).await;
    let (org, event) = app.organizer_with_event().await;
    let jane = app.sign_in_as(&unique_email("jane.doe.private")).await;
    app.join(&org, &jane, &event).await;
    let me = app.get(&format!("/v1/events/{event}/me"), Some(&jane.access_token)).await;
    let attendee_id = me.body["attendee_id"].as_str().unwrap();
    let name = me.body["name"].as_str().unwrap();
    assert!(!name.contains("jane"), "{name}");
    assert_eq!(name, format!("Attendee {}", attendee_id[attendee_id.len() - 4..].to_uppercase()));

    let ada = app.sign_in("ada").await;
    app.join(&org, &ada, &event).await;
    let code = app.badge_code(&jane, &event).await;
    let scanned = app.scan(&ada, &event, &code).await;
    assert_eq!(scanned.body["connection"]["other"]["name"], name);
    let listed = app.get(&format!("/v1/events/{event}/attendees"), Some(&org.access_token)).await;
    let entry =
        listed.body["items"].as_array().unwrap().iter().find(|a| a["attendee_id"] == attendee_id);
    assert_eq!(entry.unwrap()["name"], name);
}
