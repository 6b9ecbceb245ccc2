//! Badge sheets print every name: Latin, Greek, Cyrillic, CJK, Arabic and Hebrew in embedded
//! fonts, each card read back by poppler (`pdftotext`, text by position) beside its QR code
//! (rendered by `pdftoppm`, decoded by rqrr), as a person and a scanner would read the badge.

use std::collections::HashMap;
use std::process::Command;

use awc::http::StatusCode;

use crate::badges::{cards, render_pdf};
use crate::both_backends;
use crate::helpers::{Backend, TestApp, decode_qr_codes, spawn_app, unique_email};

both_backends!(
    a_sheet_prints_names_in_every_script_each_beside_its_own_qr_code,
    a_character_no_font_has_prints_as_a_box_and_the_sheet_still_scans,
);

const A4: (f32, f32) = (595.28, 841.89);
const MARGIN: f32 = 28.0;

/// The text of each card of a page, in the order cards are laid out (2 × 4, row by row), as
/// pdftotext reads it inside the card's rectangle; its lines without the bidi embedding marks
/// (U+202A–U+202E) poppler puts around right-to-left words.
fn card_texts(pdf: &[u8], page: usize) -> Vec<Vec<String>> {
    let dir = std::env::temp_dir().join(format!("hallway-text-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("sheet.pdf"), pdf).unwrap();
    let (card_w, card_h) = ((A4.0 - 2.0 * MARGIN) / 2.0, (A4.1 - 2.0 * MARGIN) / 4.0);
    let mut texts = Vec::new();
    for index in 0..8 {
        let (x, y) = (MARGIN + (index % 2) as f32 * card_w, MARGIN + (index / 2) as f32 * card_h);
        let page = (page + 1).to_string();
        let area = [x, y, card_w, card_h].map(|v| (v.round() as i32).to_string());
        let output = Command::new("pdftotext")
            .args(["-f", &page, "-l", &page, "-x", &area[0], "-y", &area[1], "-W", &area[2]])
            .args(["-H", &area[3], "-enc", "UTF-8", "sheet.pdf", "-"])
            .current_dir(&dir)
            .output()
            .expect("pdftotext (Debian's poppler-utils; scripts/test installs it)");
        assert!(output.status.success());
        let text = String::from_utf8(output.stdout).unwrap();
        texts.push(
            text.lines()
                .map(|l| l.chars().filter(|c| !('\u{202a}'..='\u{202e}').contains(c)).collect())
                .map(|l: String| l.trim().to_owned())
                .filter(|l| !l.is_empty())
                .collect(),
        );
    }
    std::fs::remove_dir_all(&dir).unwrap();
    texts
}

/// Imports `names` into a new event; returns the app, the organizer's token and each badge code
/// with its name (the organizer's badge too: organizers attend).
async fn event_with(
    backend: Backend,
    names: &[&str],
) -> (TestApp, String, String, HashMap<String, String>) {
    let app = spawn_app(backend).await;
    let (org, event) = app.organizer_with_event().await;
    let mut csv = String::from("email,name\n");
    for (i, name) in names.iter().enumerate() {
        csv.push_str(&format!("{},{name}\n", unique_email(&format!("n{i}"))));
    }
    let imported = app.import_csv(&org, &event, csv.as_bytes()).await;
    assert_eq!(imported.status, StatusCode::OK, "{}", imported.body);
    let token = Some(org.access_token.as_str());
    let list = app.get(&format!("/v1/events/{event}/attendees"), token).await;
    let mut by_code = HashMap::new();
    for person in list.body["items"].as_array().unwrap() {
        let id = person["attendee_id"].as_str().unwrap();
        let badge = app.get(&format!("/v1/events/{event}/attendees/{id}/badge"), token).await;
        let name = person["name"].as_str().unwrap().to_owned();
        by_code.insert(badge.body["code"].as_str().unwrap().to_owned(), name);
    }
    let token = org.access_token.clone();
    (app, token, event, by_code)
}

/// Each card of the sheet: its QR code decoded from the rendered page, and its text lines.
async fn read_sheet(app: &TestApp, token: &str, event: &str) -> Vec<(Vec<String>, Vec<String>)> {
    let sheet = app.get(&format!("/v1/events/{event}/badge-sheet?paper=a4"), Some(token)).await;
    assert_eq!(sheet.status, StatusCode::OK);
    let mut read = Vec::new();
    for (page, image) in render_pdf(&sheet.raw).iter().enumerate() {
        let codes: Vec<Vec<String>> = cards(image, A4)
            .iter()
            .map(|card| decode_qr_codes(card).into_iter().map(|(code, _, _)| code).collect())
            .collect();
        let texts = card_texts(&sheet.raw, page);
        read.extend(codes.into_iter().zip(texts).filter(|(codes, _)| !codes.is_empty()));
    }
    read
}

async fn a_sheet_prints_names_in_every_script_each_beside_its_own_qr_code(backend: Backend) {
    // Latin with marks, Greek, Cyrillic, Chinese, Japanese, Korean, Arabic (joined letters, the
    // lam-alef ligature), Hebrew, and names that mix a left-to-right and a right-to-left script.
    let names = [
        "李雷",
        "Łukasz",
        "Ελένη",
        "Алексей",
        "أحمد",
        "דוד",
        "Renée Ngọc Ánh",
        "佐藤さくら",
        "김민준",
        "علاء",
        "Ahmed أحمد",
        "Dana דנה",
    ];
    let (app, token, event, by_code) = event_with(backend, &names).await;
    let read = read_sheet(&app, &token, &event).await;
    assert_eq!(read.len(), names.len() + 1, "every card's QR code decodes");
    let mut printed = Vec::new();
    for (codes, lines) in read {
        assert_eq!(codes.len(), 1, "one QR code a card");
        let name = &by_code[&codes[0]];
        assert_eq!(lines.first(), Some(name), "the card of {} prints its name", codes[0]);
        assert_eq!(lines.last(), Some(&codes[0]), "and its code in letters");
        printed.push(name.as_str());
    }
    printed.sort_unstable();
    let mut expected: Vec<&str> = by_code.values().map(String::as_str).collect();
    expected.sort_unstable();
    assert_eq!(printed, expected, "every badge printed once");
    assert!(names.iter().all(|name| expected.contains(name)));
}

async fn a_character_no_font_has_prints_as_a_box_and_the_sheet_still_scans(backend: Backend) {
    // Linear B and an emoji are in none of the fonts: each prints as a box (the .notdef glyph)
    // which text extraction gives as U+FFFD; the rest of the name and the sheet are as usual.
    let names = ["Ada 𐀀 Lovelace", "Grace 🦀", "Zoë"];
    let (app, token, event, by_code) = event_with(backend, &names).await;
    let read = read_sheet(&app, &token, &event).await;
    assert_eq!(read.len(), names.len() + 1, "every card's QR code decodes");
    for (codes, lines) in read {
        let name = &by_code[&codes[0]];
        let expected: String =
            name.chars().map(|c| if c == '𐀀' || c == '🦀' { '\u{fffd}' } else { c }).collect();
        assert_eq!(lines.first(), Some(&expected));
        assert_eq!(lines.last(), Some(&codes[0]));
    }
}
