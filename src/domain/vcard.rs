//! vCard 4.0 (RFC 6350) writer: one card per contact, UTF-8, text escaped and lines folded.

use super::content_line::{escape_text, push_line};

/// What one card holds; every field but the name is left out when absent.
#[derive(Debug, Clone, Default)]
pub struct Card<'a> {
    /// A stable id: the same contact exported twice gets the same `UID`, so that a contacts app
    /// updates the card instead of adding a second one.
    pub uid: &'a str,
    pub name: &'a str,
    pub email: Option<&'a str>,
    pub phone: Option<&'a str>,
    pub company: Option<&'a str>,
    pub title: Option<&'a str>,
    pub note: Option<&'a str>,
    pub urls: Vec<&'a str>,
    pub categories: Vec<&'a str>,
    /// When the card last changed, as `YYYYMMDDTHHMMSSZ`.
    pub revised: Option<String>,
}

/// The media type of a vCard file.
pub const MEDIA_TYPE: &str = "text/vcard; charset=utf-8";

/// Appends one `BEGIN:VCARD` … `END:VCARD` to `out`.
pub fn push_card(out: &mut String, card: &Card<'_>) {
    push_line(out, "BEGIN", "VCARD");
    push_line(out, "VERSION", "4.0");
    push_line(out, "PRODID", "-//Hallway//Hallway API//EN");
    push_line(out, "KIND", "individual");
    push_line(out, "UID", &format!("urn:uuid:{}", card.uid));
    push_line(out, "FN", &escape_text(card.name));
    if let Some(email) = card.email {
        push_line(out, "EMAIL", &escape_text(email));
    }
    if let Some(phone) = card.phone {
        // As typed ("+1 (555) 010-2000"), which is rarely a `tel:` URI: a text value.
        push_line(out, "TEL;VALUE=text", &escape_text(phone));
    }
    if let Some(company) = card.company {
        push_line(out, "ORG", &escape_text(company));
    }
    if let Some(title) = card.title {
        push_line(out, "TITLE", &escape_text(title));
    }
    if let Some(note) = card.note {
        push_line(out, "NOTE", &escape_text(note));
    }
    for url in &card.urls {
        push_line(out, "URL", &uri(url));
    }
    if !card.categories.is_empty() {
        let list: Vec<String> = card.categories.iter().map(|c| escape_text(c)).collect();
        push_line(out, "CATEGORIES", &list.join(","));
    }
    if let Some(revised) = &card.revised {
        push_line(out, "REV", revised);
    }
    push_line(out, "END", "VCARD");
}

/// A URI value is not TEXT and is not escaped; but a reader splitting values at `,` or `;` (as
/// some do, for every property) would cut it there, so those and a backslash are percent-encoded
/// (which web servers commonly read as the same path). Links are checked http(s) URLs without whitespace or
/// control characters.
fn uri(url: &str) -> String {
    url.replace('\\', "%5C").replace(',', "%2C").replace(';', "%3B")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_card_escapes_its_text_and_ends_every_line_with_crlf() {
        let mut out = String::new();
        push_card(
            &mut out,
            &Card {
                uid: "0193a3c4-7b1e-7000-8000-000000000001",
                name: "Doe, Jane; \"JD\"",
                company: Some("Acme; Inc."),
                note: Some("line one\nline two, with a \\ backslash"),
                categories: vec!["rust", "hiring, maybe"],
                urls: vec!["https://example.org/a,b"],
                ..Default::default()
            },
        );
        assert!(out.starts_with("BEGIN:VCARD\r\nVERSION:4.0\r\n"));
        assert!(out.ends_with("END:VCARD\r\n"));
        assert!(!out.replace("\r\n", "").contains('\n'), "a bare LF: {out:?}");
        assert!(out.contains("FN:Doe\\, Jane\\; \"JD\"\r\n"));
        assert!(out.contains("ORG:Acme\\; Inc.\r\n"));
        assert!(out.contains("NOTE:line one\\nline two\\, with a \\\\ backslash\r\n"));
        assert!(out.contains("CATEGORIES:rust,hiring\\, maybe\r\n"));
        assert!(out.contains("URL:https://example.org/a%2Cb\r\n"));
        assert!(out.contains("UID:urn:uuid:0193a3c4-7b1e-7000-8000-000000000001\r\n"));
        assert!(!out.contains("EMAIL"), "absent fields are left out");
    }
}
