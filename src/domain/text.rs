//! The one rule for text that people type (names, profiles, notes, tags, topics, import rows):
//! no NUL, no control characters, no bidirectional overrides or isolates.
//!
//! Why: PostgreSQL refuses a NUL in text (a 500 where SQLite would store it, so the backends would
//! answer differently); control characters become lines of an email's body or break a CSV export;
//! bidi overrides make a name read differently from what it is ("Trojan Source"). Text that may span
//! lines (a note, a bio, a description) keeps line breaks and tabs; a name does not.

/// Whether line breaks are part of the text.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Lines {
    /// A name, a headline, a tag: one line.
    One,
    /// A note, a bio, a description: `\n`, `\r` and `\t` are kept.
    Many,
}

/// What is wrong with `value` under the rule, or `None` when it passes.
pub fn problem(value: &str, lines: Lines) -> Option<&'static str> {
    for c in value.chars() {
        if c == '\0' {
            return Some("must not contain NUL characters");
        }
        if is_bidi_control(c) {
            return Some("must not contain bidirectional override or isolate characters");
        }
        let allowed_break = lines == Lines::Many && matches!(c, '\n' | '\r' | '\t');
        if c.is_control() && !allowed_break {
            return Some(match lines {
                Lines::One => "must not contain control characters or line breaks",
                Lines::Many => "must not contain control characters",
            });
        }
    }
    None
}

/// The explicit embedding, override and isolate characters (U+202A–U+202E, U+2066–U+2069).
fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_text_in_any_script_passes() {
        for text in ["Ada Lovelace", "Zoë Ødegård", "山田 太郎", "عائشة", "🚀 Rust"] {
            assert_eq!(problem(text, Lines::One), None, "{text}");
        }
    }

    #[test]
    fn nul_control_and_bidi_characters_are_refused() {
        assert!(problem("a\0b", Lines::Many).unwrap().contains("NUL"));
        assert!(problem("a\u{7}b", Lines::Many).unwrap().contains("control"));
        assert!(problem("a\u{202E}b", Lines::One).unwrap().contains("bidirectional"));
        assert!(problem("a\u{2066}b", Lines::Many).unwrap().contains("bidirectional"));
        assert!(problem("\u{85}", Lines::One).is_some());
    }

    #[test]
    fn line_breaks_pass_only_where_text_spans_lines() {
        assert_eq!(problem("first line\r\nsecond\tline", Lines::Many), None);
        assert!(problem("Free prize!\r\nClaim at http://x", Lines::One).unwrap().contains("line"));
    }
}
