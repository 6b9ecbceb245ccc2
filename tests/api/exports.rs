//! My connections as vCard 4.0 and CSV files, read back by independent parsers.

use awc::http::{Method, StatusCode};
use diesel::prelude::*;
use hallway::db::connections::{self as store, NewConnection};
use hallway::db::schema::memberships;
use hallway::domain::attendees::add_member;
use hallway::domain::events::Role;
use serde_json::{Value, json};

use crate::both_backends;
use crate::helpers::{Backend, Session, TestApp, spawn_app, unique_email};
use crate::parsers;

both_backends!(
    a_vcard_of_all_my_connections_holds_what_each_shares_and_a_real_parser_reads_it_back,
    one_connections_vcard_is_mine_alone,
    the_csv_export_follows_rfc_4180_and_defuses_formulas,
    an_address_book_of_many_pages_is_exported_whole,
    address_book_exports_are_limited_per_hour,
);

/// Names that exercise escaping and UTF-8: accents, CJK, Polish, Arabic, a comma and semicolon.
pub const NAMES: [&str; 5] = ["Zoë Müller", "李雷", "Łukasz Żółć", "أحمد", "Doe, Jane; \"JD\""];

/// A person who joins the event, sets a profile with `name` (sharing everything when `share`),
/// and whom `scanner` scans. Returns the person and the scanner's connection id.
pub async fn met(
    app: &TestApp,
    org: &Session,
    event: &str,
    scanner: &Session,
    name: &str,
    share: bool,
) -> (Session, String) {
    let person = app.sign_in("contact").await;
    app.join(org, &person, event).await;
    let profile = json!({
        "name": name,
        "company": "Acme; Inc.",
        "headline": "Builds, breaks \\ fixes",
        "bio": "First line, with a comma;\nsecond line\r\nthird — ünïcödé",
        "phone": "+1 555 0100",
        "links": [{ "label": "Site", "url": "https://example.org/a,b" }],
        "sharing": { "email": share, "phone": share, "bio": share, "links": share },
    });
    let patched =
        app.patch(&format!("/v1/events/{event}/me"), Some(&person.access_token), &profile).await;
    assert_eq!(patched.status, StatusCode::OK, "{}", patched.body);
    let code = app.badge_code(&person, event).await;
    let scanned = app.scan(scanner, event, &code).await;
    assert_eq!(scanned.status, StatusCode::CREATED, "{}", scanned.body);
    let id = scanned.body["connection"]["connection_id"].as_str().unwrap().to_owned();
    (person, id)
}

fn values<'a>(card: &'a Value, property: &str) -> Vec<&'a Value> {
    card[property].as_array().map(|v| v.iter().collect()).unwrap_or_default()
}

fn one<'a>(card: &'a Value, property: &str) -> Option<&'a str> {
    values(card, property).first().and_then(|v| v.as_str())
}

async fn a_vcard_of_all_my_connections_holds_what_each_shares_and_a_real_parser_reads_it_back(
    backend: Backend,
) {
    let app = spawn_app(backend).await;
    let (org, event, ada, _) = app.event_with_two().await;
    let mut people = Vec::new();
    for (i, name) in NAMES.iter().enumerate() {
        people.push(met(&app, &org, &event, &ada, name, i % 2 == 0).await);
    }
    let tags = json!({ "tags": ["rust", "hiring, maybe", "a;b\\c"] });
    let tagged = format!("/v1/events/{event}/connections/{}", people[0].1);
    assert_eq!(app.patch(&tagged, Some(&ada.access_token), &tags).await.status, StatusCode::OK);
    // A name with a line break, as older data or another writer might hold: escaped, not split.
    let broken = &people[1].0;
    app.query(|conn| {
        diesel::update(memberships::table.filter(memberships::account_id.eq(&broken.account_id)))
            .set(memberships::name.eq("Two\nLines, one name"))
            .execute(conn)
    });
    // A connection in another event of mine is in the same file; a deleted one is not, nor is
    // anything of a person who deleted their account.
    let (org2, event2) = app.organizer_with_event().await;
    app.join(&org2, &ada, &event2).await;
    let (_, elsewhere) = met(&app, &org2, &event2, &ada, "Elsewhere Person", false).await;
    let (_, deleted) = met(&app, &org, &event, &ada, "Deleted Connection", true).await;
    let path = format!("/v1/events/{event}/connections/{deleted}");
    assert_eq!(
        app.send(Method::DELETE, &path, Some(&ada.access_token), None).await.status,
        StatusCode::NO_CONTENT
    );
    let (gone, _) = met(&app, &org, &event, &ada, "Gone Account", true).await;
    let left = app.send(Method::DELETE, "/v1/me", Some(&gone.access_token), None).await;
    assert_eq!(left.status, StatusCode::NO_CONTENT);

    let file = app.get("/v1/me/connections.vcf", Some(&ada.access_token)).await;
    assert_eq!(file.status, StatusCode::OK);
    assert_eq!(file.header("content-type"), Some("text/vcard; charset=utf-8"));
    let text = String::from_utf8(file.raw.clone()).unwrap();
    assert!(!text.replace("\r\n", "").contains('\n'), "every line ends with CRLF");
    for line in text.split_terminator("\r\n") {
        assert!(line.len() <= 75, "{} octets: {line}", line.len());
    }
    assert!(!text.contains("Deleted Connection") && !text.contains("Gone Account"));

    let cards = parsers::vcards(&file.raw);
    assert_eq!(cards.len(), NAMES.len() + 1, "{cards:#?}");
    let by_uid = |id: &str| {
        cards
            .iter()
            .find(|c| one(c, "uid") == Some(&format!("urn:uuid:{id}")))
            .unwrap_or_else(|| panic!("no card for {id}"))
    };
    for (i, (person, id)) in people.iter().enumerate() {
        let card = by_uid(id);
        let name = if i == 1 { "Two\nLines, one name" } else { NAMES[i] };
        assert_eq!(one(card, "version"), Some("4.0"));
        assert_eq!(one(card, "fn"), Some(name), "{card}");
        assert_eq!(values(card, "org")[0], &json!(["Acme; Inc."]), "company is always shared");
        assert_eq!(one(card, "title"), Some("Builds, breaks \\ fixes"));
        if i % 2 == 0 {
            assert_eq!(one(card, "email"), Some(person.email.as_str()));
            assert_eq!(one(card, "tel"), Some("+1 555 0100"));
            assert_eq!(
                one(card, "note"),
                Some("First line, with a comma;\nsecond line\nthird — ünïcödé")
            );
            assert_eq!(one(card, "url"), Some("https://example.org/a%2Cb"));
        } else {
            for private in ["email", "tel", "note", "url"] {
                assert!(card.get(private).is_none(), "{private} is not shared: {card}");
            }
        }
    }
    assert_eq!(
        values(by_uid(&people[0].1), "categories")[0],
        &json!(["rust", "hiring, maybe", "a;b\\c"])
    );
    assert_eq!(one(by_uid(&elsewhere), "fn"), Some("Elsewhere Person"));
}

async fn one_connections_vcard_is_mine_alone(backend: Backend) {
    let app = spawn_app(backend).await;
    let (org, event, ada, bob) = app.event_with_two().await;
    let (zoe, id) = met(&app, &org, &event, &ada, "Zoë", true).await;
    let path = format!("/v1/events/{event}/connections/{id}.vcf");
    let file = app.get(&path, Some(&ada.access_token)).await;
    assert_eq!(file.status, StatusCode::OK);
    assert_eq!(file.header("content-type"), Some("text/vcard; charset=utf-8"));
    let cards = parsers::vcards(&file.raw);
    assert_eq!(cards.len(), 1);
    assert_eq!(one(&cards[0], "fn"), Some("Zoë"));
    assert_eq!(one(&cards[0], "email"), Some(zoe.email.as_str()));
    // The connection as JSON is still served at its own path.
    let json_path = format!("/v1/events/{event}/connections/{id}");
    assert_eq!(app.get(&json_path, Some(&ada.access_token)).await.status, StatusCode::OK);

    for (who, path) in [
        (&bob, path.clone()),
        (&zoe, path.clone()),
        (&ada, format!("/v1/events/{event}/connections/{}.vcf", uuid::Uuid::now_v7())),
    ] {
        let refused = app.get(&path, Some(&who.access_token)).await;
        assert_eq!(refused.status, StatusCode::NOT_FOUND, "{path}");
    }
    let bobs = app.get(&path, Some(&bob.access_token)).await;
    assert_eq!(bobs.problem_code(), "connection_not_found");
    let zoes_own = app.connections(&zoe, &event).await;
    let theirs = format!(
        "/v1/events/{event}/connections/{}.vcf",
        zoes_own[0]["connection_id"].as_str().unwrap()
    );
    let other_side = app.get(&theirs, Some(&ada.access_token)).await;
    assert_eq!(other_side.status, StatusCode::NOT_FOUND, "the other side is Zoë's, not mine");
    assert_eq!(app.get(&path, None).await.status, StatusCode::UNAUTHORIZED);
}

async fn the_csv_export_follows_rfc_4180_and_defuses_formulas(backend: Backend) {
    let app = spawn_app(backend).await;
    let (org, event, ada, _) = app.event_with_two().await;
    let (_, plain) = met(&app, &org, &event, &ada, "Zoë, \"the\" Müller", true).await;
    let (_, formula) = met(&app, &org, &event, &ada, "=HYPERLINK(\"http://evil\")", true).await;
    let promise = json!({ "follow_up": { "text": "@ send the deck", "due_at": "2027-09-20" } });
    let path = format!("/v1/events/{event}/connections/{formula}");
    assert_eq!(app.patch(&path, Some(&ada.access_token), &promise).await.status, StatusCode::OK);
    // A follow-up without a note reads as what it is, never as a due date under an empty promise.
    let check_in = json!({ "kind": "check_in", "due_at": "2027-10-01" });
    let follow_ups = format!("/v1/events/{event}/connections/{plain}/follow-ups");
    let made = app.post(&follow_ups, Some(&ada.access_token), &check_in).await;
    assert_eq!(made.status, StatusCode::CREATED, "{}", made.body);

    let file = app.get("/v1/me/connections.csv", Some(&ada.access_token)).await;
    assert_eq!(file.status, StatusCode::OK);
    assert_eq!(file.header("content-type"), Some("text/csv; charset=utf-8; header=present"));
    assert!(file.raw.ends_with(b"\r\n"));
    let mut reader = csv::ReaderBuilder::new().from_reader(file.raw.as_slice());
    let header: Vec<String> = reader.headers().unwrap().iter().map(str::to_owned).collect();
    assert_eq!(header, hallway::domain::contacts::CSV_HEADER);
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), 2);
    let row = |id: &str| rows.iter().find(|r| &r[0] == id).unwrap();
    let col = |name: &str| header.iter().position(|h| h == name).unwrap();
    assert_eq!(&row(&plain)[col("name")], "Zoë, \"the\" Müller");
    assert_eq!(&row(&plain)[col("company")], "Acme; Inc.");
    assert_eq!(
        &row(&plain)[col("bio")],
        "First line, with a comma;\nsecond line\r\nthird — ünïcödé"
    );
    assert_eq!(&row(&plain)[col("phone")], "'+1 555 0100", "a leading + is defused");
    assert_eq!(&row(&formula)[col("name")], "'=HYPERLINK(\"http://evil\")");
    assert_eq!(&row(&formula)[col("follow_up")], "'@ send the deck");
    assert_eq!(&row(&formula)[col("follow_up_due_at")], "2027-09-20");
    assert_eq!(&row(&plain)[col("follow_up")], "check in");
    assert_eq!(&row(&plain)[col("follow_up_due_at")], "2027-10-01");
    assert!(String::from_utf8_lossy(&file.raw).contains("\"Zoë, \"\"the\"\" Müller\""));

    let empty = app.sign_in("solo").await;
    let none = app.get("/v1/me/connections.csv", Some(&empty.access_token)).await;
    assert_eq!(none.status, StatusCode::OK);
    assert_eq!(
        String::from_utf8(none.raw).unwrap(),
        format!("{}\r\n", hallway::domain::contacts::CSV_HEADER.join(","))
    );
    let none = app.get("/v1/me/connections.vcf", Some(&empty.access_token)).await;
    assert_eq!((none.status, none.raw.len()), (StatusCode::OK, 0));
}

/// `n` new members of the event, each a connection of `owner` (a membership id), written
/// straight to the database: what thousands of scans would have made.
pub fn seed_connections(app: &TestApp, event: &str, owner: &str, n: usize) -> Vec<String> {
    let mut conn = app.db.get().unwrap();
    conn.transaction::<_, hallway::error::Error, _>(|conn| {
        let now = hallway::db::now();
        let mut rows = Vec::with_capacity(n);
        for i in 0..n {
            let account_id = hallway::db::new_id();
            let email = unique_email(&format!("many{i}"));
            let name = format!("Contact {i}");
            hallway::db::accounts::insert(
                conn,
                &hallway::db::accounts::NewAccount {
                    id: &account_id,
                    email: &email,
                    display_name: Some(&name),
                    created_at: now,
                    updated_at: now,
                },
            )?;
            let other = add_member(conn, event, &account_id, Role::Attendee, None)?;
            rows.push(NewConnection {
                id: hallway::db::new_id(),
                event_id: event.to_owned(),
                owner_id: owner.to_owned(),
                other_id: other,
                first_met_at: now,
                last_met_at: now,
                scan_count: 1,
                created_at: now,
                updated_at: now,
            });
        }
        store::insert_missing(conn, &rows)?;
        Ok(rows.into_iter().map(|r| r.id).collect())
    })
    .unwrap()
}

async fn an_address_book_of_many_pages_is_exported_whole(backend: Backend) {
    let app = spawn_app(backend).await;
    let (_, event, ada, _) = app.event_with_two().await;
    let owner = app.attendee_id(&ada, &event).await;
    let mut ids = seed_connections(&app, &event, &owner, 1_234);
    ids.sort();

    let file = app.get("/v1/me/connections.vcf", Some(&ada.access_token)).await;
    let cards = parsers::vcards(&file.raw);
    let mut uids: Vec<String> = cards
        .iter()
        .map(|c| one(c, "uid").unwrap().trim_start_matches("urn:uuid:").to_owned())
        .collect();
    uids.sort();
    assert_eq!(uids, ids, "every connection once, across pages of 500");

    let csv = app.get("/v1/me/connections.csv", Some(&ada.access_token)).await;
    let mut reader = csv::Reader::from_reader(csv.raw.as_slice());
    let mut rows: Vec<String> = reader.records().map(|r| r.unwrap()[0].to_owned()).collect();
    rows.sort();
    assert_eq!(rows, ids, "one header, then every connection once");
}

async fn address_book_exports_are_limited_per_hour(backend: Backend) {
    let app = spawn_app(backend).await;
    let ada = app.sign_in("ada").await;
    for i in 0..30 {
        let path = if i % 2 == 0 { "/v1/me/connections.vcf" } else { "/v1/me/connections.csv" };
        assert_eq!(app.get(path, Some(&ada.access_token)).await.status, StatusCode::OK, "{i}");
    }
    let refused = app.get("/v1/me/connections.vcf", Some(&ada.access_token)).await;
    assert_eq!(refused.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(refused.problem_code(), "rate_limited");
    let wait: u64 = refused.header("retry-after").unwrap().parse().unwrap();
    assert!((1..=3600).contains(&wait), "{wait}");
    let bob = app.sign_in("bob").await;
    let others = app.get("/v1/me/connections.csv", Some(&bob.access_token)).await;
    assert_eq!(others.status, StatusCode::OK, "each person has their own budget");
}
