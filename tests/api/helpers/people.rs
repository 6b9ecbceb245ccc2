//! What people do through the API, in one call each: organizers create events, seed topics and
//! import attendees; attendees join, find their attendee id and badge, and scan.

use awc::http::{Method, StatusCode};
use serde_json::{Value, json};

use super::{Session, TestApp, TestResponse};

impl TestApp {
    /// Creates an event as `organizer` and returns its JSON.
    pub async fn create_event(&self, organizer: &Session, slug: &str) -> Value {
        let response =
            self.post("/v1/events", Some(&organizer.access_token), &event_body(slug)).await;
        assert_eq!(response.status, StatusCode::CREATED, "{}", response.body);
        response.body
    }

    /// Switches the event's join code on (as `organizer`) and has `person` join with it.
    pub async fn join(&self, organizer: &Session, person: &Session, event_id: &str) -> Value {
        let code = self
            .send(
                Method::PUT,
                &format!("/v1/events/{event_id}/join-code"),
                Some(&organizer.access_token),
                None,
            )
            .await;
        assert_eq!(code.status, StatusCode::OK, "{}", code.body);
        let joined = self
            .post(
                &format!("/v1/events/{event_id}/join"),
                Some(&person.access_token),
                &json!({ "join_code": code.body["join_code"] }),
            )
            .await;
        assert_eq!(joined.status, StatusCode::OK, "{}", joined.body);
        joined.body
    }

    pub async fn seed_topics(
        &self,
        organizer: &Session,
        event_id: &str,
        topics: Value,
    ) -> TestResponse {
        self.put(
            &format!("/v1/events/{event_id}/topics"),
            Some(&organizer.access_token),
            &json!({ "topics": topics }),
        )
        .await
    }

    pub async fn import_csv(
        &self,
        organizer: &Session,
        event_id: &str,
        csv: &[u8],
    ) -> TestResponse {
        let path = format!("/v1/events/{event_id}/attendee-imports");
        self.send(
            Method::POST,
            &path,
            Some(&organizer.access_token),
            Some(("text/csv", csv.to_vec())),
        )
        .await
    }

    /// An organizer with an event of their own: (organizer, event id).
    pub async fn organizer_with_event(&self) -> (Session, String) {
        let organizer = self.sign_in("org").await;
        let event = self.create_event(&organizer, &unique_slug("event")).await;
        (organizer, event["id"].as_str().unwrap().to_owned())
    }

    /// The code of `person`'s badge in the event.
    pub async fn badge_code(&self, person: &Session, event_id: &str) -> String {
        let badge =
            self.get(&format!("/v1/events/{event_id}/me/badge"), Some(&person.access_token)).await;
        assert_eq!(badge.status, StatusCode::OK, "{}", badge.body);
        badge.body["code"].as_str().unwrap().to_owned()
    }

    /// `scanner` scans `code` online now, under a new client scan id.
    pub async fn scan(&self, scanner: &Session, event_id: &str, code: &str) -> TestResponse {
        self.scan_with(scanner, event_id, json!({ "client_scan_id": uuid::Uuid::new_v4().to_string(), "badge_code": code, "scanned_at": chrono::Utc::now().to_rfc3339() })).await
    }

    pub async fn scan_with(&self, scanner: &Session, event_id: &str, body: Value) -> TestResponse {
        self.post(&format!("/v1/events/{event_id}/scans"), Some(&scanner.access_token), &body).await
    }

    pub async fn scan_batch(
        &self,
        scanner: &Session,
        event_id: &str,
        scans: Value,
    ) -> TestResponse {
        self.post(
            &format!("/v1/events/{event_id}/scans/batch"),
            Some(&scanner.access_token),
            &json!({ "scans": scans }),
        )
        .await
    }

    /// An event with an organizer and two attendees: (organizer, event id, ada, bob).
    pub async fn event_with_two(&self) -> (Session, String, Session, Session) {
        let (org, event) = self.organizer_with_event().await;
        let ada = self.sign_in("ada").await;
        let bob = self.sign_in("bob").await;
        self.join(&org, &ada, &event).await;
        self.join(&org, &bob, &event).await;
        (org, event, ada, bob)
    }

    pub async fn connections(&self, person: &Session, event_id: &str) -> Vec<Value> {
        let list = self
            .get(&format!("/v1/events/{event_id}/connections"), Some(&person.access_token))
            .await;
        assert_eq!(list.status, StatusCode::OK, "{}", list.body);
        list.body["items"].as_array().unwrap().clone()
    }

    /// `person`'s attendee id (membership) in the event.
    pub async fn attendee_id(&self, person: &Session, event_id: &str) -> String {
        let me = self.get(&format!("/v1/events/{event_id}/me"), Some(&person.access_token)).await;
        assert_eq!(me.status, StatusCode::OK, "{}", me.body);
        me.body["attendee_id"].as_str().unwrap().to_owned()
    }
}

pub fn event_body(slug: &str) -> Value {
    json!({
        "name": "RustConf 2026",
        "slug": slug,
        "starts_at": "2026-09-08T09:00:00-07:00",
        "ends_at": "2026-09-10T18:00:00-07:00",
        "time_zone": "America/Los_Angeles",
        "follow_up_window_days": 10
    })
}

/// A slug no other test uses.
pub fn unique_slug(name: &str) -> String {
    format!("{name}-{}", &uuid::Uuid::new_v4().simple().to_string()[..12])
}
