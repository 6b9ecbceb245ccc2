//! Badges: QR codes a real decoder reads back, rotation, and the printable sheet.

use std::process::Command;

use awc::http::StatusCode;
use diesel::prelude::*;
use futures_util::StreamExt;
use futures_util::stream::FuturesUnordered;
use hallway::db::schema::badges;
use hallway::domain::events::Role;
use serde_json::json;

use crate::both_backends;
use crate::helpers::{Backend, TestApp, TestResponse, decode_qr_codes, spawn_app, unique_email};
use crate::seed;

both_backends!(
    my_badge_png_decodes_to_my_code_at_level_q_version_4_or_lower,
    rotating_a_badge_revokes_the_old_code_at_once,
    the_badge_sheet_prints_every_badge_readable_by_a_qr_decoder,
    badges_of_others_are_for_organizers_only,
    a_large_selection_prints_in_pages_whose_qr_codes_all_decode,
    an_organizer_makes_one_sheet_at_a_time_and_six_a_minute,
    while_sheets_render_other_requests_are_answered_and_a_full_renderer_answers_503,
);

/// rqrr reports the error-correction level as the two format bits: L = 1, M = 0, Q = 3, H = 2.
const LEVEL_Q: u16 = 3;
const LETTER: (f32, f32) = (612.0, 792.0);
const A4: (f32, f32) = (595.28, 841.89);

async fn my_badge_png_decodes_to_my_code_at_level_q_version_4_or_lower(backend: Backend) {
    let app = spawn_app(backend).await;
    let (org, event) = app.organizer_with_event().await;
    let ada = app.sign_in("ada").await;
    app.join(&org, &ada, &event).await;
    let token = Some(ada.access_token.as_str());

    let badge = app.get(&format!("/v1/events/{event}/me/badge"), token).await;
    assert_eq!(badge.status, StatusCode::OK, "{}", badge.body);
    let code = badge.body["code"].as_str().unwrap();
    assert!(
        code.len() == 20 && code.chars().all(|c| c.is_ascii_digit() || c.is_ascii_uppercase()),
        "{code}"
    );
    let png = app.get(badge.body["png_url"].as_str().unwrap(), token).await;
    assert_eq!(png.header("content-type"), Some("image/png"));
    let decoded = decode_qr_codes(&png.raw);
    assert_eq!(decoded.len(), 1);
    let (content, version, level) = &decoded[0];
    assert_eq!(content, code);
    assert_eq!(*version, 2, "QR version 2 as the README says (the API promises 4 or lower)");
    assert_eq!(*level, LEVEL_Q);

    let svg = app.get(badge.body["svg_url"].as_str().unwrap(), token).await;
    assert_eq!(svg.header("content-type"), Some("image/svg+xml"));
    assert!(String::from_utf8_lossy(&svg.raw).contains("<svg"));
}

async fn rotating_a_badge_revokes_the_old_code_at_once(backend: Backend) {
    let app = spawn_app(backend).await;
    let (org, event) = app.organizer_with_event().await;
    let ada = app.sign_in("ada").await;
    let attendee_id =
        app.join(&org, &ada, &event).await["attendee_id"].as_str().unwrap().to_owned();
    let old = app.get(&format!("/v1/events/{event}/me/badge"), Some(&ada.access_token)).await.body
        ["code"]
        .clone();

    let rotated = app
        .post(
            &format!("/v1/events/{event}/attendees/{attendee_id}/badge/rotate"),
            Some(&org.access_token),
            &json!({}),
        )
        .await;
    assert_eq!(rotated.status, StatusCode::OK, "{}", rotated.body);
    assert_ne!(rotated.body["code"], old);
    let mine = app.get(&format!("/v1/events/{event}/me/badge"), Some(&ada.access_token)).await;
    assert_eq!(mine.body["code"], rotated.body["code"]);
    let old_code = old.as_str().unwrap().to_owned();
    let revoked: Option<chrono::NaiveDateTime> = app.query(|conn| {
        badges::table.filter(badges::code.eq(&old_code)).select(badges::revoked_at).first(conn)
    });
    assert!(revoked.is_some(), "the old code is revoked");
    let stats = app.get(&format!("/v1/events/{event}/stats"), Some(&org.access_token)).await;
    assert_eq!(stats.body["badges_rotated"], 1);
}

/// Renders each page of a PDF to PNG with poppler's pdftoppm (scripts/test installs it).
pub fn render_pdf(pdf: &[u8]) -> Vec<Vec<u8>> {
    let dir = std::env::temp_dir().join(format!("hallway-sheet-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("sheet.pdf"), pdf).unwrap();
    let status = Command::new("pdftoppm")
        .args(["-r", "150", "-gray", "-png", "sheet.pdf", "page"])
        .current_dir(&dir)
        .status()
        .expect("pdftoppm (Debian's poppler-utils; scripts/test installs it)");
    assert!(status.success());
    let mut pages: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "png"))
        .collect();
    pages.sort();
    let images = pages.iter().map(|p| std::fs::read(p).unwrap()).collect();
    std::fs::remove_dir_all(&dir).unwrap();
    images
}

/// Cuts a rendered page of `paper` size (points) into its eight cards (2 × 4 inside a 28 pt margin), as PNGs: one QR
/// code per image, as a scanner would see one badge at a time.
pub fn cards(page: &[u8], (paper_w, paper_h): (f32, f32)) -> Vec<Vec<u8>> {
    let image = image::load_from_memory(page).unwrap().to_luma8();
    let (width, height) = (image.width() as f32, image.height() as f32);
    let (margin_x, margin_y) = (28.0 / paper_w * width, 28.0 / paper_h * height);
    let (card_w, card_h) = ((width - 2.0 * margin_x) / 2.0, (height - 2.0 * margin_y) / 4.0);
    let mut cards = Vec::new();
    for row in 0..4 {
        for col in 0..2 {
            let (x, y) = (margin_x + col as f32 * card_w, margin_y + row as f32 * card_h);
            let card =
                image::imageops::crop_imm(&image, x as u32, y as u32, card_w as u32, card_h as u32)
                    .to_image();
            let mut png = std::io::Cursor::new(Vec::new());
            card.write_to(&mut png, image::ImageFormat::Png).unwrap();
            cards.push(png.into_inner());
        }
    }
    cards
}

async fn the_badge_sheet_prints_every_badge_readable_by_a_qr_decoder(backend: Backend) {
    let app = spawn_app(backend).await;
    let (org, event) = app.organizer_with_event().await;
    app.seed_topics(&org, &event, json!([{ "slug": "rust", "name": "Rust" }])).await;
    let mut csv = String::from("email,name,company,topics\n");
    for i in 0..9 {
        let topics = if i < 2 { "rust" } else { "" };
        csv.push_str(&format!(
            "{},Person {i},Company {i},{topics}\n",
            unique_email(&format!("p{i}"))
        ));
    }
    assert_eq!(app.import_csv(&org, &event, csv.as_bytes()).await.status, StatusCode::OK);
    let list = app.get(&format!("/v1/events/{event}/attendees"), Some(&org.access_token)).await;
    let mut expected = Vec::new();
    for person in list.body["items"].as_array().unwrap() {
        let id = person["attendee_id"].as_str().unwrap();
        let badge = app
            .get(&format!("/v1/events/{event}/attendees/{id}/badge"), Some(&org.access_token))
            .await;
        expected.push(badge.body["code"].as_str().unwrap().to_owned());
    }
    expected.sort();

    let sheet = app
        .get(&format!("/v1/events/{event}/badge-sheet?paper=letter"), Some(&org.access_token))
        .await;
    assert_eq!(sheet.status, StatusCode::OK);
    assert_eq!(sheet.header("content-type"), Some("application/pdf"));
    let pages = render_pdf(&sheet.raw);
    assert_eq!(pages.len(), 2, "10 badges at 8 a page");
    let mut printed: Vec<String> = pages
        .iter()
        .flat_map(|p| cards(p, LETTER))
        .flat_map(|card| decode_qr_codes(&card))
        .map(|(code, _, _)| code)
        .collect();
    printed.sort();
    assert_eq!(printed, expected, "every badge on the sheet scans to its code");

    let rust_only = app
        .get(&format!("/v1/events/{event}/badge-sheet?topic=rust"), Some(&org.access_token))
        .await;
    let pages = render_pdf(&rust_only.raw);
    let printed: Vec<_> =
        pages.iter().flat_map(|p| cards(p, A4)).flat_map(|card| decode_qr_codes(&card)).collect();
    assert_eq!(
        printed.len(),
        2,
        "A4 is the default paper, and the filter keeps the two Rust people"
    );
    let bad_paper =
        app.get(&format!("/v1/events/{event}/badge-sheet?paper=a3"), Some(&org.access_token)).await;
    assert_eq!(bad_paper.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(bad_paper.body["errors"][0]["field"], "paper");

    let two: Vec<&str> = list.body["items"].as_array().unwrap()[..2]
        .iter()
        .map(|p| p["attendee_id"].as_str().unwrap())
        .collect();
    let chosen = app
        .get(
            // Ids are read in any case.
            &format!(
                "/v1/events/{event}/badge-sheet?attendee_ids={},{}",
                two[0].to_uppercase(),
                two[1]
            ),
            Some(&org.access_token),
        )
        .await;
    assert_eq!(chosen.status, StatusCode::OK);
    let printed = render_pdf(&chosen.raw)
        .iter()
        .flat_map(|p| cards(p, A4))
        .flat_map(|card| decode_qr_codes(&card))
        .count();
    assert_eq!(printed, 2, "only the chosen attendees");
    let stranger = uuid::Uuid::new_v4().to_string();
    for (ids, reason) in [
        ("not-a-uuid".to_owned(), "`not-a-uuid` is not an attendee id"),
        (format!("{},{stranger}", two[0]), "not attendees of this event: "),
        (format!("{stranger}&topic=rust"), "not attendees of this event: "),
    ] {
        let refused = app
            .get(
                &format!("/v1/events/{event}/badge-sheet?attendee_ids={ids}"),
                Some(&org.access_token),
            )
            .await;
        assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY, "{ids}");
        assert_eq!(refused.body["errors"][0]["field"], "attendee_ids");
        let message = refused.body["errors"][0]["message"].as_str().unwrap();
        assert!(message.starts_with(reason), "{message}");
    }
}

async fn badges_of_others_are_for_organizers_only(backend: Backend) {
    let app = spawn_app(backend).await;
    let (org, event) = app.organizer_with_event().await;
    let ada = app.sign_in("ada").await;
    let bob = app.sign_in("bob").await;
    let ada_id = app.join(&org, &ada, &event).await["attendee_id"].as_str().unwrap().to_owned();
    app.join(&org, &bob, &event).await;
    let (other_org, other_event) = app.organizer_with_event().await;

    for path in [
        format!("/v1/events/{event}/attendees/{ada_id}/badge"),
        format!("/v1/events/{event}/attendees/{ada_id}/badge.png"),
        format!("/v1/events/{event}/badge-sheet"),
        format!("/v1/events/{event}/stats"),
    ] {
        let by_bob = app.get(&path, Some(&bob.access_token)).await;
        assert_eq!(by_bob.status, StatusCode::FORBIDDEN, "{path}");
        assert_eq!(by_bob.problem_code(), "organizer_only");
        let by_other = app.get(&path, Some(&other_org.access_token)).await;
        assert_eq!(by_other.status, StatusCode::NOT_FOUND, "{path}");
    }
    let rotate = app
        .post(
            &format!("/v1/events/{event}/attendees/{ada_id}/badge/rotate"),
            Some(&bob.access_token),
            &json!({}),
        )
        .await;
    assert_eq!(rotate.status, StatusCode::FORBIDDEN);
    let cross = app
        .get(
            &format!("/v1/events/{other_event}/attendees/{ada_id}/badge"),
            Some(&other_org.access_token),
        )
        .await;
    assert_eq!(
        cross.status,
        StatusCode::NOT_FOUND,
        "an attendee of event A is not found through event B"
    );
    assert_eq!(cross.problem_code(), "attendee_not_found");
}

/// The codes of the event's working badges, sorted.
fn working_codes(app: &TestApp, event: &str) -> Vec<String> {
    let event = event.to_owned();
    let mut codes: Vec<String> = app.query(move |conn| {
        badges::table
            .filter(badges::event_id.eq(&event))
            .filter(badges::revoked_at.is_null())
            .select(badges::code)
            .load(conn)
    });
    codes.sort();
    codes
}

fn header_number(response: &TestResponse, name: &str) -> u64 {
    response.header(name).unwrap().parse().unwrap()
}

/// Ten badges printed four a sheet: three sheets, whose QR codes together decode to every badge
/// once. A page past the last, and more than 1,000 badges a sheet, are refused.
async fn a_large_selection_prints_in_pages_whose_qr_codes_all_decode(backend: Backend) {
    let app = spawn_app(backend).await;
    let (org, event) = app.organizer_with_event().await;
    seed::people(&app, &event, Role::Attendee, 9);
    let token = Some(org.access_token.as_str());
    let sheet = format!("/v1/events/{event}/badge-sheet");

    let mut printed = Vec::new();
    for (page, badges) in [(1, 4), (2, 4), (3, 2)] {
        let response = app.get(&format!("{sheet}?per_page=4&page={page}"), token).await;
        assert_eq!(response.status, StatusCode::OK, "{}", response.body);
        assert_eq!(header_number(&response, "x-total-count"), 10);
        assert_eq!(header_number(&response, "x-page-count"), 3);
        let codes: Vec<String> = render_pdf(&response.raw)
            .iter()
            .flat_map(|p| cards(p, A4))
            .flat_map(|card| decode_qr_codes(&card))
            .map(|(code, _, _)| code)
            .collect();
        assert_eq!(codes.len(), badges, "page {page}");
        printed.extend(codes);
    }
    printed.sort();
    assert_eq!(printed, working_codes(&app, &event), "every badge once, over the pages");

    for (query, field) in [
        ("per_page=4&page=4", "page"),
        ("page=0", "page"),
        ("per_page=1001", "per_page"),
        ("per_page=0", "per_page"),
    ] {
        let refused = app.get(&format!("{sheet}?{query}"), token).await;
        assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY, "{query}");
        assert_eq!(refused.body["errors"][0]["field"], field, "{query}");
    }
    let whole = app.get(&sheet, token).await;
    assert_eq!(header_number(&whole, "x-page-count"), 1, "up to 1,000 badges make one sheet");
}

async fn an_organizer_makes_one_sheet_at_a_time_and_six_a_minute(backend: Backend) {
    let app = spawn_app(backend).await;
    let (org, event) = app.organizer_with_event().await;
    seed::people(&app, &event, Role::Attendee, 60);
    let sheet = format!("/v1/events/{event}/badge-sheet");
    for _ in 0..6 {
        let small = app.get(&format!("{sheet}?per_page=1"), Some(&org.access_token)).await;
        assert_eq!(small.status, StatusCode::OK, "{}", small.body);
    }
    let seventh = app.get(&format!("{sheet}?per_page=1"), Some(&org.access_token)).await;
    assert_eq!(seventh.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(seventh.problem_code(), "rate_limited");
    assert!(header_number(&seventh, "retry-after") >= 1);

    // Another organizer of the event has a budget of their own, and one sheet at a time: two
    // sheets of 61 badges asked at once.
    let co = &seed::people(&app, &event, Role::Organizer, 1)[0];
    let (a, b) = tokio::join!(
        app.get(&sheet, Some(&co.access_token)),
        app.get(&sheet, Some(&co.access_token))
    );
    let mut statuses = [a.status, b.status];
    statuses.sort();
    assert_eq!(statuses, [StatusCode::OK, StatusCode::TOO_MANY_REQUESTS]);
    let limited = if a.status == StatusCode::OK { b } else { a };
    assert_eq!(limited.problem_code(), "rate_limited");
    assert!(header_number(&limited, "retry-after") >= 1);
    let after = app.get(&format!("{sheet}?per_page=1"), Some(&co.access_token)).await;
    assert_eq!(after.status, StatusCode::OK, "once it is done, the next one");
}

/// Seven organizers ask for a sheet of 67 badges at once. The renderer takes one and queues
/// four; it turns the others away (503) rather than letting them wait on threads that database
/// work needs. While the queued sheets are still to be rendered, `GET /v1/me` is answered.
async fn while_sheets_render_other_requests_are_answered_and_a_full_renderer_answers_503(
    backend: Backend,
) {
    let app = spawn_app(backend).await;
    let (org, event) = app.organizer_with_event().await;
    let attendees = seed::people(&app, &event, Role::Attendee, 60);
    let organizers = seed::people(&app, &event, Role::Organizer, 6);
    let sheet = format!("/v1/events/{event}/badge-sheet");
    let mut tokens = vec![org.access_token.as_str()];
    tokens.extend(organizers.iter().map(|o| o.access_token.as_str()));
    let mut sheets: FuturesUnordered<_> =
        tokens.iter().map(|token| app.get(&sheet, Some(token))).collect();

    let mut answers = Vec::new();
    // Until one is turned away, which shows the renderer full: one sheet rendering, four waiting.
    loop {
        let answer = sheets.next().await.expect("a sheet turned away while the renderer is full");
        let busy = answer.status == StatusCode::SERVICE_UNAVAILABLE;
        answers.push(answer);
        if busy {
            break;
        }
    }
    let me = app.get("/v1/me", Some(&attendees[0].access_token));
    tokio::pin!(me);
    let me = loop {
        tokio::select! {
            biased;
            me = &mut me => break me,
            Some(answer) = sheets.next() => answers.push(answer),
        }
    };
    assert_eq!(me.status, StatusCode::OK, "{}", me.body);
    let rendered_after_me = sheets.collect::<Vec<_>>().await;
    assert!(
        rendered_after_me.iter().any(|a| a.status == StatusCode::OK),
        "GET /v1/me was answered while sheets were still to be rendered"
    );
    answers.extend(rendered_after_me);
    let busy: Vec<_> =
        answers.iter().filter(|a| a.status == StatusCode::SERVICE_UNAVAILABLE).collect();
    assert!(!busy.is_empty());
    for answer in &busy {
        assert_eq!(answer.problem_code(), "renderer_busy");
        assert!(header_number(answer, "retry-after") >= 1);
    }
    let rendered = answers.iter().filter(|a| a.status == StatusCode::OK).count();
    assert_eq!(rendered + busy.len(), 7, "each sheet rendered or turned away");
    assert!(rendered >= 4, "one rendering and four waiting: {rendered}");
}
