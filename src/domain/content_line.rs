//! Content lines as vCard (RFC 6350) and iCalendar (RFC 5545) share them: `NAME;PARAMS:value`,
//! text values escaped, lines folded at 75 octets, each ended by CRLF.

/// The longest a content line may be, in octets, not counting its CRLF (both RFCs).
pub const MAX_LINE_OCTETS: usize = 75;

/// A TEXT value escaped: `\` as `\\`, `;` as `\;`, `,` as `\,`, and each line break (CRLF, LF
/// or a lone CR) as `\n`. Safe in single values, lists (`CATEGORIES`) and compound values (`ORG`).
pub fn escape_text(value: &str) -> String {
    let mut out = String::with_capacity(value.len() + 8);
    let mut chars = value.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => out.push_str("\\\\"),
            ';' => out.push_str("\\;"),
            ',' => out.push_str("\\,"),
            '\r' => {
                if chars.peek() == Some(&'\n') {
                    chars.next();
                }
                out.push_str("\\n");
            }
            '\n' => out.push_str("\\n"),
            // Other control characters cannot be written in a content line (tab aside); the text
            // rule keeps them out of what people type, and this keeps them out of the file.
            c if c.is_control() && c != '\t' => {}
            c => out.push(c),
        }
    }
    out
}

/// Appends `line` to `out` folded (RFC 5545 §3.1, RFC 6350 §3.2): no physical line longer than
/// 75 octets; each continuation starts with one space; a UTF-8 character is never split across
/// lines. Every physical line ends with CRLF.
pub fn push_folded(out: &mut String, line: &str) {
    let mut rest = line;
    let mut room = MAX_LINE_OCTETS;
    loop {
        if rest.len() <= room {
            out.push_str(rest);
            out.push_str("\r\n");
            return;
        }
        let mut cut = room;
        while !rest.is_char_boundary(cut) {
            cut -= 1;
        }
        out.push_str(&rest[..cut]);
        out.push_str("\r\n ");
        rest = &rest[cut..];
        // The leading space of a continuation counts in its 75 octets.
        room = MAX_LINE_OCTETS - 1;
    }
}

/// Appends the content line `name` (with parameters, if any) `:` `value`, folded. The value is
/// written as given: escape TEXT values with [`escape_text`] first.
pub fn push_line(out: &mut String, name: &str, value: &str) {
    let mut line = String::with_capacity(name.len() + 1 + value.len());
    line.push_str(name);
    line.push(':');
    line.push_str(value);
    push_folded(out, &line);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_values_escape_backslashes_separators_and_every_kind_of_line_break() {
        assert_eq!(escape_text(r"a\b;c,d"), r"a\\b\;c\,d");
        assert_eq!(escape_text("one\r\ntwo\nthree\rfour"), r"one\ntwo\nthree\nfour");
        assert_eq!(escape_text("tab\there\u{7}"), "tab\there");
        assert_eq!(escape_text("Zoë 李雷 أحمد"), "Zoë 李雷 أحمد");
    }

    #[test]
    fn short_lines_are_not_folded() {
        let mut out = String::new();
        push_line(&mut out, "FN", "Ada");
        assert_eq!(out, "FN:Ada\r\n");
        let mut exact = String::new();
        push_folded(&mut exact, &"x".repeat(75));
        assert_eq!(exact, format!("{}\r\n", "x".repeat(75)));
    }

    #[test]
    fn long_lines_fold_at_75_octets_and_unfold_to_the_original() {
        let line = format!("DESCRIPTION:{}", "abcdefghij".repeat(20));
        let mut out = String::new();
        push_folded(&mut out, &line);
        for physical in out.split("\r\n").filter(|l| !l.is_empty()) {
            assert!(physical.len() <= MAX_LINE_OCTETS, "{} octets: {physical}", physical.len());
        }
        assert_eq!(out.lines().next().map(str::len), Some(75));
        assert_eq!(out.replace("\r\n ", "").trim_end(), line);
    }

    #[test]
    fn folding_never_splits_a_utf8_character() {
        // Two-, three- and four-octet characters, shifted so that a boundary falls inside each.
        for prefix in ["", "a", "ab", "abc"] {
            let line = format!("SUMMARY:{prefix}{}", "Zoë 李雷 أحمد 😀 Łukasz ".repeat(10));
            let mut out = String::new();
            push_folded(&mut out, &line);
            for physical in out.split("\r\n").filter(|l| !l.is_empty()) {
                assert!(physical.len() <= MAX_LINE_OCTETS);
            }
            assert_eq!(out.replace("\r\n ", "").trim_end_matches("\r\n"), line);
        }
    }
}
