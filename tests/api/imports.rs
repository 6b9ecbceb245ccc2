//! Attendee import from CSV and JSON: per-row results, idempotent by email, one invitation each.

use std::cell::Cell;
use std::time::Duration;

use awc::http::{Method, StatusCode};
use diesel::prelude::*;
use hallway::db::schema::{accounts, memberships, outbox};
use hallway::domain::import::CHUNK_ROWS;
use serde_json::{Value, json};

use crate::both_backends;
use crate::helpers::{Backend, Session, TestApp, spawn_app, unique_email};

both_backends!(
    a_csv_import_creates_attendees_with_badges_and_invites_each_once,
    bad_rows_are_rejected_with_line_and_reason_and_never_block_good_ones,
    a_bad_file_is_refused_whole_and_imports_nothing,
    a_json_import_reports_each_item,
    an_import_that_fails_part_way_keeps_only_whole_chunks_and_completes_when_sent_again,
    a_scan_during_a_large_import_is_answered_before_the_import_ends,
    attendees_and_other_events_organizers_cannot_import,
);

fn statuses(report: &Value) -> Vec<(u64, String)> {
    report["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["line"].as_u64().unwrap(), r["status"].as_str().unwrap().to_owned()))
        .collect()
}

fn reasons(report: &Value) -> Vec<String> {
    report["rows"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|r| r["reason"].as_str().map(str::to_owned))
        .collect()
}

fn counts(app: &TestApp, event: &str) -> (i64, i64, i64) {
    let event = event.to_owned();
    (
        app.query(|conn| {
            memberships::table.filter(memberships::event_id.eq(&event)).count().get_result(conn)
        }),
        app.query(|conn| accounts::table.count().get_result(conn)),
        app.query(|conn| {
            outbox::table.filter(outbox::kind.eq("attendee_invitation")).count().get_result(conn)
        }),
    )
}

async fn attendees(app: &TestApp, org: &Session, event: &str) -> Vec<Value> {
    let list =
        app.get(&format!("/v1/events/{event}/attendees?limit=100"), Some(&org.access_token)).await;
    assert_eq!(list.status, StatusCode::OK, "{}", list.body);
    list.body["items"].as_array().unwrap().clone()
}

async fn a_csv_import_creates_attendees_with_badges_and_invites_each_once(backend: Backend) {
    let app = spawn_app(backend).await;
    let (org, event) = app.organizer_with_event().await;
    app.seed_topics(
        &org,
        &event,
        json!([{ "slug": "rust", "name": "Rust" }, { "slug": "go", "name": "Go" }]),
    )
    .await;
    let (ada, bob) = (unique_email("ada"), unique_email("bob"));
    // A BOM, mixed line endings and a quoted comma, as spreadsheets write them.
    let csv = format!(
        "\u{feff}Email,Name,Company,Topics,Want to learn\r\n{ada},\"Lovelace, Ada\",Analytical Engines,rust;go,\n{bob},Bob,,,rust\r\n"
    );

    let report = app.import_csv(&org, &event, csv.as_bytes()).await;
    assert_eq!(report.status, StatusCode::OK, "{}", report.body);
    assert_eq!(statuses(&report.body), [(2, "created".to_owned()), (3, "created".to_owned())]);
    for email in [&ada, &bob] {
        let invitation = app.nth_mail(email, 1).await;
        assert!(invitation.subject().unwrap().starts_with("You're invited to RustConf 2026"));
    }
    let people = attendees(&app, &org, &event).await;
    let ada_profile = people.iter().find(|p| p["email"] == ada.as_str()).unwrap();
    assert_eq!(ada_profile["name"], "Lovelace, Ada");
    assert_eq!(ada_profile["can_talk_about"], json!(["rust", "go"]));
    let ada_id = ada_profile["attendee_id"].as_str().unwrap();
    assert_eq!(ada_id, report.body["rows"][0]["attendee_id"]);
    let badge = app
        .get(&format!("/v1/events/{event}/attendees/{ada_id}/badge"), Some(&org.access_token))
        .await;
    assert_eq!(badge.status, StatusCode::OK);
    assert_eq!(badge.body["code"].as_str().unwrap().len(), 20);

    let again = app.import_csv(&org, &event, csv.as_bytes()).await;
    assert_eq!(statuses(&again.body), [(2, "unchanged".to_owned()), (3, "unchanged".to_owned())]);
    let changed =
        app.import_csv(&org, &event, format!("email,company\n{bob},Bobco\n").as_bytes()).await;
    assert_eq!(statuses(&changed.body), [(2, "updated".to_owned())]);
    assert_eq!(counts(&app, &event), (3, 3, 2), "no duplicate people, no second invitation");
    let people = attendees(&app, &org, &event).await;
    let bob_profile = people.iter().find(|p| p["email"] == bob.as_str()).unwrap();
    assert_eq!(
        (bob_profile["name"].as_str(), bob_profile["company"].as_str()),
        (Some("Bob"), Some("Bobco")),
        "empty cells left fields alone"
    );
}

async fn bad_rows_are_rejected_with_line_and_reason_and_never_block_good_ones(backend: Backend) {
    let app = spawn_app(backend).await;
    let (org, event) = app.organizer_with_event().await;
    let (other_org, other_event) = app.organizer_with_event().await;
    app.seed_topics(&org, &event, json!([{ "slug": "rust", "name": "Rust" }])).await;
    app.seed_topics(&other_org, &other_event, json!([{ "slug": "elixir", "name": "Elixir" }]))
        .await;
    let good = unique_email("good");
    let mut csv = b"email,name,topics\n".to_vec();
    csv.extend_from_slice(format!("{good},Good,rust\nnot-an-email,X,\n").as_bytes());
    csv.extend_from_slice(b"renee@example.org,Ren\xe9e,\n");
    csv.extend_from_slice(
        format!("{},Y,elixir\n{good},Again,\nz@example.org,Z\n", unique_email("topic")).as_bytes(),
    );

    let report = app.import_csv(&org, &event, &csv).await;
    assert_eq!(report.status, StatusCode::OK, "{}", report.body);
    let lines: Vec<_> = statuses(&report.body);
    assert_eq!(
        lines,
        [
            (2, "created"),
            (3, "rejected"),
            (4, "rejected"),
            (5, "rejected"),
            (6, "rejected"),
            (7, "rejected")
        ]
        .map(|(l, s)| (l, s.to_owned()))
    );
    let reasons = reasons(&report.body);
    assert!(reasons[0].contains("email"), "{reasons:?}");
    assert!(reasons[1].contains("UTF-8"), "{reasons:?}");
    assert!(
        reasons[2].contains("`elixir` is not a topic of this event"),
        "another event's topic is unknown here: {reasons:?}"
    );
    assert!(reasons[3].contains("duplicate of line 2"), "{reasons:?}");
    assert!(reasons[4].contains("2 fields"), "{reasons:?}");
    assert_eq!(
        (report.body["created"].as_u64(), report.body["rejected"].as_u64()),
        (Some(1), Some(5))
    );
    assert_eq!(counts(&app, &event).0, 2);
}

async fn a_bad_file_is_refused_whole_and_imports_nothing(backend: Backend) {
    let app = spawn_app(backend).await;
    let (org, event) = app.organizer_with_event().await;
    let before = counts(&app, &event);
    let mut too_many = String::from("email\n");
    for i in 0..10_001 {
        too_many.push_str(&format!("person{i}@example.org\n"));
    }
    for (body, code) in [
        (b"emial,name\nx@example.org,X\n".to_vec(), "invalid_csv_header"),
        (b"email,name,shoe_size\nx@example.org,X,44\n".to_vec(), "invalid_csv_header"),
        (Vec::new(), "empty_import"),
        (b"email,name\n".to_vec(), "empty_import"),
        (too_many.into_bytes(), "too_many_rows"),
    ] {
        let response = app.import_csv(&org, &event, &body).await;
        assert_eq!(response.status, StatusCode::UNPROCESSABLE_ENTITY, "{code}");
        assert_eq!(response.problem_code(), code);
    }
    let path = format!("/v1/events/{event}/attendee-imports");
    let wrong_shape = app
        .send(
            Method::POST,
            &path,
            Some(&org.access_token),
            Some(("application/json", br#"[{"email":"x@example.org"}]"#.to_vec())),
        )
        .await;
    assert_eq!(wrong_shape.status, StatusCode::BAD_REQUEST);
    assert_eq!(wrong_shape.problem_code(), "invalid_body");
    let not_json = app
        .send(
            Method::POST,
            &path,
            Some(&org.access_token),
            Some(("application/json", b"{\"attendees\": [".to_vec())),
        )
        .await;
    assert_eq!(not_json.problem_code(), "malformed_json");
    let excel = app
        .send(
            Method::POST,
            &path,
            Some(&org.access_token),
            Some(("application/vnd.ms-excel", b"email\n".to_vec())),
        )
        .await;
    assert_eq!(excel.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    let huge = app
        .send(
            Method::POST,
            &path,
            Some(&org.access_token),
            Some(("text/csv", vec![b'a'; 11 * 1024 * 1024])),
        )
        .await;
    assert_eq!(huge.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(counts(&app, &event), before);
}

async fn a_json_import_reports_each_item(backend: Backend) {
    let app = spawn_app(backend).await;
    let (org, event) = app.organizer_with_event().await;
    app.seed_topics(&org, &event, json!([{ "slug": "rust", "name": "Rust" }])).await;
    let ada = unique_email("ada");
    let body = json!({ "attendees": [
        { "email": ada, "name": "Ada", "topics": ["rust"], "want_to_learn": [] },
        { "email": "x@example.org", "topics": "rust" },
        { "name": "No Email" }
    ]});
    let path = format!("/v1/events/{event}/attendee-imports");
    let report = app.post(&path, Some(&org.access_token), &body).await;
    assert_eq!(report.status, StatusCode::OK, "{}", report.body);
    assert_eq!(
        statuses(&report.body),
        [(1, "created"), (2, "rejected"), (3, "rejected")].map(|(l, s)| (l, s.to_owned()))
    );
    assert_eq!(reasons(&report.body), ["`topics` must be an array of topic slugs", "has no email"]);
}

/// Makes inserting the account of `email` fail, as a full disk or a bug would part-way.
fn refuse_account(app: &TestApp, backend: Backend, email: &str) {
    let statements = match backend {
        Backend::Sqlite => vec![format!(
            "CREATE TRIGGER refuse_account BEFORE INSERT ON accounts WHEN NEW.email = '{email}' \
             BEGIN SELECT RAISE(ABORT, 'refused by the test'); END"
        )],
        Backend::Postgres => vec![
            format!(
                "CREATE FUNCTION refuse_account() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN \
                 IF NEW.email = '{email}' THEN RAISE EXCEPTION 'refused by the test'; END IF; \
                 RETURN NEW; END $$"
            ),
            "CREATE TRIGGER refuse_account BEFORE INSERT ON accounts FOR EACH ROW \
             EXECUTE FUNCTION refuse_account()"
                .to_owned(),
        ],
    };
    for statement in statements {
        app.query(|conn| diesel::sql_query(&statement).execute(conn));
    }
}

async fn an_import_that_fails_part_way_keeps_only_whole_chunks_and_completes_when_sent_again(
    backend: Backend,
) {
    let app = spawn_app(backend).await;
    let (org, event) = app.organizer_with_event().await;
    let (members, accounts, invitations) = counts(&app, &event);
    let emails: Vec<String> = (0..2 * CHUNK_ROWS + 10).map(|_| unique_email("p")).collect();
    let csv = format!("email\n{}\n", emails.join("\n"));
    // The second chunk fails at one of its rows.
    refuse_account(&app, backend, &emails[CHUNK_ROWS + 5]);

    let failed = app.import_csv(&org, &event, csv.as_bytes()).await;
    assert_eq!(failed.status, StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(failed.problem_code(), "internal");
    assert!(!failed.body["detail"].as_str().unwrap().contains("refused"), "no SQL in error bodies");
    // SQLite writes chunks: the first one stays, whole, and nothing of the failed chunk or after
    // it. PostgreSQL writes the file in one transaction: nothing stays.
    let saved = match backend {
        Backend::Sqlite => CHUNK_ROWS,
        Backend::Postgres => 0,
    };
    let n = i64::try_from(saved).unwrap();
    assert_eq!(counts(&app, &event), (members + n, accounts + n, invitations + n));

    let drop_trigger = match backend {
        Backend::Sqlite => "DROP TRIGGER refuse_account",
        Backend::Postgres => "DROP TRIGGER refuse_account ON accounts",
    };
    app.query(|conn| diesel::sql_query(drop_trigger).execute(conn));
    let again = app.import_csv(&org, &event, csv.as_bytes()).await;
    assert_eq!(again.status, StatusCode::OK, "{}", again.body);
    assert_eq!(again.body["created"].as_u64(), Some((emails.len() - saved) as u64));
    assert_eq!(again.body["unchanged"].as_u64(), Some(saved as u64));
    let total = i64::try_from(emails.len()).unwrap();
    assert_eq!(
        counts(&app, &event),
        (members + total, accounts + total, invitations + total),
        "everyone imported and invited once"
    );
}

async fn a_scan_during_a_large_import_is_answered_before_the_import_ends(backend: Backend) {
    const ROWS: usize = 5_000;
    let app = spawn_app(backend).await;
    let (org, event, ada, bob) = app.event_with_two().await;
    let bob_code = app.badge_code(&bob, &event).await;
    let members_before = counts(&app, &event).0;
    let mut csv = String::from("email,name\n");
    for n in 0..ROWS {
        csv.push_str(&format!("{},Person {n}\n", unique_email("crowd")));
    }

    let import_done = Cell::new(false);
    let import = async {
        let report = app.import_csv(&org, &event, csv.as_bytes()).await;
        import_done.set(true);
        report
    };
    // The import is being written: on SQLite its first chunk is saved; on PostgreSQL (one
    // transaction, nothing visible before its commit) another session holds a write lock on
    // the members' table.
    let writing = || match backend {
        Backend::Sqlite => counts(&app, &event).0 > members_before,
        Backend::Postgres => {
            let locks: i64 = app.query(|conn| {
                diesel::select(diesel::dsl::sql::<diesel::sql_types::BigInt>(
                    "(SELECT count(*) FROM pg_locks l JOIN pg_class c ON l.relation = c.oid \
                     WHERE c.relname = 'memberships' AND l.mode = 'RowExclusiveLock' \
                     AND l.pid <> pg_backend_pid() AND l.database = \
                     (SELECT oid FROM pg_database WHERE datname = current_database()))",
                ))
                .get_result(conn)
            });
            locks > 0
        }
    };
    let scan = async {
        while !writing() {
            assert!(!import_done.get(), "the import ended before any of its rows was seen");
            actix_web::rt::time::sleep(Duration::from_millis(2)).await;
        }
        let scan = app.scan(&ada, &event, &bob_code).await;
        (scan, import_done.get())
    };
    let (report, (scan, import_had_ended)) = futures_util::future::join(import, scan).await;

    assert_eq!(scan.status, StatusCode::CREATED, "{}", scan.body);
    assert!(!import_had_ended, "the scan waited for the whole import");
    assert_eq!(report.status, StatusCode::OK, "{}", report.body);
    assert_eq!(report.body["created"].as_u64(), Some(ROWS as u64));
}

async fn attendees_and_other_events_organizers_cannot_import(backend: Backend) {
    let app = spawn_app(backend).await;
    let (org, event) = app.organizer_with_event().await;
    let attendee = app.sign_in("attendee").await;
    app.join(&org, &attendee, &event).await;
    let (other_org, _) = app.organizer_with_event().await;
    let csv = format!("email\n{}\n", unique_email("x"));

    let by_attendee = app.import_csv(&attendee, &event, csv.as_bytes()).await;
    assert_eq!(by_attendee.status, StatusCode::FORBIDDEN);
    assert_eq!(by_attendee.problem_code(), "organizer_only");
    let by_other = app.import_csv(&other_org, &event, csv.as_bytes()).await;
    assert_eq!(by_other.status, StatusCode::NOT_FOUND);
    let list =
        app.get(&format!("/v1/events/{event}/attendees"), Some(&attendee.access_token)).await;
    assert_eq!(list.status, StatusCode::FORBIDDEN);
    assert_eq!(counts(&app, &event).0, 2);
}
