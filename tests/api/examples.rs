//! Every request example of the OpenAPI document, sent as it stands to a fresh server: each must
//! succeed. The examples are read from the document itself, so a new one is covered as soon as it
//! is written. The only changes made to an example are the placeholders for what only the server
//! makes (`hallway::http::examples::PLACEHOLDERS`), replaced by real ones, and the ids in paths.

use std::net::TcpListener;

use awc::http::{Method, StatusCode};
use hallway::config::MailTransport;
use hallway::http::examples::{
    ATTENDEE_IDS, BADGE_CODE, JOIN_CODE, LINK_TOKEN, PLACEHOLDERS, REFRESH_TOKEN, SIGN_IN_CODE,
};
use serde_json::{Value, json};

use crate::both_backends;
use crate::helpers::{Backend, MAIL_WAIT, Session, TestApp, spawn, unique_email, unique_slug};
use crate::smtp;

both_backends!(every_request_example_in_the_document_succeeds_against_a_fresh_server);

/// One documented request body: operation, media type, example.
#[derive(Debug)]
pub struct Documented {
    pub method: Method,
    pub path: String,
    pub public: bool,
    pub media_type: String,
    pub example: Option<Value>,
}

/// Every request body of the document, with its example if it has one.
pub fn request_bodies(document: &Value) -> Vec<Documented> {
    let mut all = Vec::new();
    for (path, operations) in document["paths"].as_object().unwrap() {
        for (method, operation) in operations.as_object().unwrap() {
            let Some(content) = operation.pointer("/requestBody/content") else { continue };
            for (media_type, body) in content.as_object().unwrap() {
                all.push(Documented {
                    method: Method::from_bytes(method.to_uppercase().as_bytes()).unwrap(),
                    path: path.clone(),
                    public: operation["security"] == json!([]),
                    media_type: media_type.clone(),
                    example: body.get("example").cloned(),
                });
            }
        }
    }
    all
}

fn document() -> Value {
    serde_json::from_str(&hallway::http::openapi_json()).unwrap()
}

/// Whether a body is bytes (a file upload): no example can stand for a file.
fn is_upload(document: &Value, body: &Documented) -> bool {
    let pointer = format!(
        "/paths/{}/{}/requestBody/content/{}/schema/format",
        body.path.replace('~', "~0").replace('/', "~1"),
        body.method.as_str().to_lowercase(),
        body.media_type.replace('~', "~0").replace('/', "~1"),
    );
    document.pointer(&pointer) == Some(&json!("binary"))
}

/// The people of one example.
struct People {
    org: Session,
    ana: Session,
    cleo: Session,
    ben: Session,
    newcomer: Session,
}

/// What an example may need, made for it in a new event: the organizer is connected with Ana and
/// Cleo (by the scan example), Ben has a badge nobody scanned, the join code is on.
struct World {
    event: String,
    join_code: String,
    ana_id: String,
    cleo_id: String,
    ben_code: String,
    connection: String,
}

impl People {
    async fn sign_in(app: &TestApp) -> People {
        People {
            org: app.sign_in_as(&unique_email("org")).await,
            ana: app.sign_in_as(&unique_email("ana")).await,
            cleo: app.sign_in_as(&unique_email("cleo")).await,
            ben: app.sign_in_as(&unique_email("ben")).await,
            newcomer: app.sign_in_as(&unique_email("newcomer")).await,
        }
    }
}

async fn post_ok(app: &TestApp, path: &str, token: &str, body: &Value) -> Value {
    let response = app.post(path, Some(token), body).await;
    assert!(response.status.is_success(), "{path}: {} {}", response.status, response.body);
    response.body
}

impl World {
    async fn build(app: &TestApp, people: &People, examples: &Examples) -> World {
        let org = &people.org.access_token;
        let mut event = examples.get("CreateEventRequest");
        event["slug"] = json!(unique_slug("example"));
        let event =
            post_ok(app, "/v1/events", org, &event).await["id"].as_str().unwrap().to_owned();
        let code =
            app.send(Method::PUT, &format!("/v1/events/{event}/join-code"), Some(org), None).await;
        let join_code = code.body["join_code"].as_str().unwrap().to_owned();
        let mut ids = Vec::new();
        for person in [&people.ana, &people.cleo, &people.ben] {
            let joined = post_ok(
                app,
                &format!("/v1/events/{event}/join"),
                &person.access_token,
                &json!({ "join_code": join_code }),
            )
            .await;
            let _ = joined;
            let me = app.get(&format!("/v1/events/{event}/me"), Some(&person.access_token)).await;
            ids.push(me.body["attendee_id"].as_str().unwrap().to_owned());
        }
        let mut codes = Vec::new();
        for person in [&people.ana, &people.cleo, &people.ben] {
            codes.push(app.badge_code(person, &event).await);
        }
        // The organizer met Ana and Cleo as the scan example says (on the event's second day).
        let mut connection = String::new();
        for code in &codes[..2] {
            let mut scan = examples.get("ScanRequest");
            scan["badge_code"] = json!(code);
            scan["client_scan_id"] = json!(uuid::Uuid::new_v4().to_string());
            let made = post_ok(app, &format!("/v1/events/{event}/scans"), org, &scan).await;
            if connection.is_empty() {
                connection = made["connection"]["connection_id"].as_str().unwrap().to_owned();
            }
        }
        World {
            event,
            join_code,
            ana_id: ids[0].clone(),
            cleo_id: ids[1].clone(),
            ben_code: codes[2].clone(),
            connection,
        }
    }

    /// The organizer introduces Ana and Cleo as the example says: (introduction id, the token
    /// of the link in Ana's email).
    async fn introduction(
        &self,
        app: &TestApp,
        people: &People,
        examples: &Examples,
    ) -> (String, String) {
        let body = self.substitute(examples.get("CreateIntroductionRequest"), &[]);
        let path = format!("/v1/events/{}/introductions", self.event);
        let made = post_ok(app, &path, &people.org.access_token, &body).await;
        let id = made["introduction_id"].as_str().unwrap().to_owned();
        let unfolded = |m: &smtp::Received| m.data.replace("=\r\n", "").replace("=3D", "=");
        let is_link = |m: &smtp::Received| unfolded(m).contains("/v1/introduction-links/");
        let mails = app.mail.wait_for_matching(&people.ana.email, 1, MAIL_WAIT, is_link).await;
        let text = unfolded(&mails[0]);
        let token: String = text
            .split("/v1/introduction-links/")
            .nth(1)
            .expect("a link in the introduction email")
            .chars()
            .take_while(char::is_ascii_hexdigit)
            .collect();
        (id, token)
    }

    /// The example with each placeholder replaced by what it stands for here.
    fn substitute(&self, example: Value, extra: &[(&str, String)]) -> Value {
        let mut real = vec![
            (BADGE_CODE, self.ben_code.clone()),
            (JOIN_CODE, self.join_code.clone()),
            (ATTENDEE_IDS[0], self.ana_id.clone()),
            (ATTENDEE_IDS[1], self.cleo_id.clone()),
        ];
        real.extend(extra.iter().map(|(k, v)| (*k, v.clone())));
        replace(example, &real)
    }
}

fn replace(value: Value, real: &[(&str, String)]) -> Value {
    match value {
        Value::String(s) => match real.iter().find(|(placeholder, _)| *placeholder == s) {
            Some((_, value)) => Value::String(value.clone()),
            None => Value::String(s),
        },
        Value::Array(items) => Value::Array(items.into_iter().map(|v| replace(v, real)).collect()),
        Value::Object(map) => {
            Value::Object(map.into_iter().map(|(k, v)| (k, replace(v, real))).collect())
        }
        other => other,
    }
}

fn contains(value: &Value, needle: &str) -> bool {
    match value {
        Value::String(s) => s == needle,
        Value::Array(items) => items.iter().any(|v| contains(v, needle)),
        Value::Object(map) => map.values().any(|v| contains(v, needle)),
        _ => false,
    }
}

/// Statuses of an item that a successful answer refused (an import's row, a scan).
const REFUSED: [&str; 6] = [
    "rejected",
    "invalid",
    "badge_not_found",
    "badge_revoked",
    "cannot_scan_self",
    "note_limit_reached",
];

/// Whether a successful answer still refused part of the request: an import's rejected row, a
/// batch's invalid item.
fn refused_inside(body: &Value) -> bool {
    match body {
        Value::Array(items) => items.iter().any(refused_inside),
        Value::Object(map) => {
            map.get("rejected").and_then(Value::as_u64).is_some_and(|n| n > 0)
                || map.get("status").and_then(Value::as_str).is_some_and(|s| REFUSED.contains(&s))
                || map.values().any(refused_inside)
        }
        _ => false,
    }
}

/// The request examples of the schemas, by schema name, as the document carries them.
struct Examples(Value);

impl Examples {
    fn get(&self, schema: &str) -> Value {
        for operations in self.0["paths"].as_object().unwrap().values() {
            for operation in operations.as_object().unwrap().values() {
                let Some(content) = operation.pointer("/requestBody/content") else { continue };
                for body in content.as_object().unwrap().values() {
                    if body["schema"]["$ref"] == format!("#/components/schemas/{schema}") {
                        return body["example"].clone();
                    }
                }
            }
        }
        panic!("no request example of {schema}")
    }
}

/// The code of the latest sign-in email to `email`, asked for now.
async fn fresh_sign_in_code(app: &TestApp, email: &str) -> String {
    let is_code = |m: &smtp::Received| m.sign_in_code().is_some();
    let before = app.mail.for_recipient(email).iter().filter(|m| is_code(m)).count();
    assert_eq!(app.request_code(email).await.status, StatusCode::ACCEPTED);
    let mails = app.mail.wait_for_matching(email, before + 1, MAIL_WAIT, is_code).await;
    mails[before].sign_in_code().unwrap()
}

fn encode(media_type: &str, body: &Value) -> Vec<u8> {
    match media_type {
        "application/json" => body.to_string().into_bytes(),
        "application/x-www-form-urlencoded" => {
            serde_urlencoded::to_string(body).unwrap().into_bytes()
        }
        _ => body.as_str().expect("a text example is a string").as_bytes().to_vec(),
    }
}

async fn every_request_example_in_the_document_succeeds_against_a_fresh_server(backend: Backend) {
    // A mail server of its own: the examples mail fixed addresses (ada@example.org), which the
    // other backend's run of this test mails at the same time.
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let store = smtp::new_store();
    smtp::serve(listener, store.clone());
    let mail = MailTransport::Smtp(format!("smtp://127.0.0.1:{port}"));
    // Five people and an event per example: more sign-ins from one address than allowed by default.
    let app = spawn(backend, mail, store, |config| {
        config.quotas.events_per_account_per_day = 1000;
        config.sign_in_codes_per_client = 1000;
    })
    .await;
    let document = document();
    let examples = Examples(document.clone());
    let bodies = request_bodies(&document);
    let missing: Vec<String> = bodies
        .iter()
        .filter(|b| b.example.is_none() && !is_upload(&document, b))
        .map(|b| format!("{} {} {}", b.method, b.path, b.media_type))
        .collect();
    assert!(missing.is_empty(), "request bodies without an example: {missing:#?}");

    let mut failures = Vec::new();
    let mut sent = 0;
    for body in bodies.iter().filter(|b| b.example.is_some()) {
        let example = body.example.clone().unwrap();
        // People of its own: the per-person rate limits of writes stay out of the way.
        let people = People::sign_in(&app).await;
        let world = World::build(&app, &people, &examples).await;
        let mut caller = &people.org;
        let mut extra = Vec::new();
        if contains(&example, SIGN_IN_CODE) {
            let email = example["email"].as_str().unwrap();
            extra.push((SIGN_IN_CODE, fresh_sign_in_code(&app, email).await));
        }
        if contains(&example, REFRESH_TOKEN) {
            // A session of its own: refreshing or signing out ends the one it names.
            let session = app.sign_in_as(&people.org.email).await;
            extra.push((REFRESH_TOKEN, session.refresh_token));
        }
        if contains(&example, JOIN_CODE) {
            caller = &people.newcomer;
        }
        let mut path = body
            .path
            .replace("{event_id}", &world.event)
            .replace("{connection_id}", &world.connection)
            .replace("{attendee_id}", &world.ana_id);
        if path.contains("{introduction_id}") || contains(&example, LINK_TOKEN) {
            let (id, token) = world.introduction(&app, &people, &examples).await;
            path = path.replace("{introduction_id}", &id);
            extra.push((LINK_TOKEN, token));
            caller = &people.ana;
        }
        if path.contains("{follow_up_id}") {
            let created = post_ok(
                &app,
                &format!("/v1/events/{}/connections/{}/follow-ups", world.event, world.connection),
                &people.org.access_token,
                &examples.get("CreateFollowUpRequest"),
            )
            .await;
            path = path.replace("{follow_up_id}", created["follow_up_id"].as_str().unwrap());
        }
        if path.contains("{starter_id}") {
            let starters_path =
                format!("/v1/events/{}/attendees/{}/starters", world.event, world.ana_id);
            let shown = app.get(&starters_path, Some(&people.org.access_token)).await;
            let id =
                shown.body["starters"][0]["starter_id"].as_str().expect("a starter").to_owned();
            path = path.replace("{starter_id}", &id);
        }
        let example = world.substitute(example, &extra);
        for placeholder in PLACEHOLDERS {
            assert!(!contains(&example, placeholder), "{placeholder} left in {example}");
        }
        let token = (!body.public).then_some(caller.access_token.as_str());
        let bytes = encode(&body.media_type, &example);
        let response =
            app.send(body.method.clone(), &path, token, Some((&body.media_type, bytes))).await;
        sent += 1;
        if !response.status.is_success() || refused_inside(&response.body) {
            failures.push(format!(
                "{} {} ({}): {} {}",
                body.method, body.path, body.media_type, response.status, response.body
            ));
        }
    }
    assert!(sent >= 25, "only {sent} examples sent");
    assert!(failures.is_empty(), "examples that failed: {failures:#?}");
}
