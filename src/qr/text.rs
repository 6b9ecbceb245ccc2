//! One line of text on a badge: each character in the first font that has it, right-to-left runs
//! put in visual order (the Unicode bidirectional algorithm), each run shaped (rustybuzz: Arabic
//! joining forms and ligatures, marks, kerning), made smaller or cut with `…` to fit.

use std::collections::HashSet;
use std::ops::Range;

use rustybuzz::{BufferClusterLevel, Direction, UnicodeBuffer};
use unicode_bidi::BidiInfo;
use unicode_properties::{GeneralCategoryGroup, UnicodeGeneralCategory};

use super::fonts::Fonts;

/// A glyph of a line, with its metrics in em (multiply by the font size for points).
#[derive(Clone, Debug, PartialEq)]
pub struct Glyph {
    pub font: usize,
    /// The glyph's id in its font file.
    pub id: u16,
    /// How far the pen moves after it, as shaped (kerning, marks of zero width…).
    pub advance: f32,
    /// The advance the font itself gives the glyph (what a PDF reader moves by).
    pub width: f32,
    pub x_offset: f32,
    pub y_offset: f32,
    /// The characters the glyph stands for; empty when another glyph of the same characters
    /// carries them. Like the glyphs, in visual order: a ligature of a right-to-left run (لا)
    /// holds its characters reversed, as readers that put the line back in logical order by
    /// reversing its characters expect.
    pub text: String,
}

/// A shaped line: its glyphs from left to right, at `size` points.
#[derive(Debug)]
pub struct Line {
    pub glyphs: Vec<Glyph>,
    pub size: f32,
    /// The text as given (logical order), cut with `…` when it did not fit.
    pub text: String,
    /// Whether the text reads from right to left (its first letter does): it is set flush right.
    pub rtl: bool,
}

impl Line {
    pub fn width(&self) -> f32 {
        em_width(&self.glyphs) * self.size
    }
}

const ELLIPSIS: char = '…';

fn em_width(glyphs: &[Glyph]) -> f32 {
    glyphs.iter().map(|g| g.advance).sum()
}

/// `text` shaped at `size` points, or smaller down to `min_size` to fit in `max_width` points;
/// what does not fit even then is cut, at a character that is not a combining mark, and ends
/// with `…`.
pub fn fit(fonts: &Fonts, text: &str, size: f32, min_size: f32, max_width: f32) -> Line {
    let text = clean(text);
    let rtl = BidiInfo::new(&text, None).paragraphs.first().is_some_and(|p| p.level.is_rtl());
    let glyphs = shape(fonts, &text);
    let width = em_width(&glyphs);
    if width * size <= max_width {
        return Line { glyphs, size, text, rtl };
    }
    if width * min_size <= max_width {
        return Line { glyphs, size: max_width / width, text, rtl };
    }
    // The longest start of the text that fits with an ellipsis: binary search over the places
    // it may be cut (widths grow with the text, but for rare kerning).
    let cuts: Vec<usize> =
        text.char_indices().filter(|&(i, c)| i > 0 && !is_mark(c)).map(|(i, _)| i).collect();
    let cut_line = |end: usize| {
        let mut cut = text[..end].trim_end().to_owned();
        cut.push(ELLIPSIS);
        let glyphs = shape(fonts, &cut);
        (cut, glyphs)
    };
    let (mut low, mut high) = (0, cuts.len());
    while low < high {
        let middle = (low + high).div_ceil(2);
        if em_width(&cut_line(cuts[middle - 1]).1) * min_size <= max_width {
            low = middle;
        } else {
            high = middle - 1;
        }
    }
    let end = if low == 0 { 0 } else { cuts[low - 1] };
    let (text, glyphs) = cut_line(end);
    Line { glyphs, size: min_size, text, rtl }
}

/// Line and paragraph breaks and other control characters become spaces: a badge line is one line.
fn clean(text: &str) -> String {
    text.chars()
        .map(|c| if c.is_control() || matches!(c, '\u{2028}' | '\u{2029}') { ' ' } else { c })
        .collect()
}

/// Combining marks (general categories Mn, Mc, Me): a cut never separates one from its letter.
fn is_mark(c: char) -> bool {
    c.general_category_group() == GeneralCategoryGroup::Mark
}

/// The glyphs of `text` from left to right.
pub fn shape(fonts: &Fonts, text: &str) -> Vec<Glyph> {
    let bidi = BidiInfo::new(text, None);
    let mut glyphs = Vec::new();
    for paragraph in &bidi.paragraphs {
        let (levels, runs) = bidi.visual_runs(paragraph, paragraph.range.clone());
        for run in runs {
            let rtl = levels[run.start].is_rtl();
            let mut pieces = font_runs(fonts, text, run);
            // A right-to-left run reads from the right: its last piece is drawn first.
            if rtl {
                pieces.reverse();
            }
            for (font, range) in pieces {
                shape_piece(fonts, font, &text[range], rtl, &mut glyphs);
            }
        }
    }
    glyphs
}

/// `range` of `text` cut into pieces that one font draws, in logical order.
fn font_runs(fonts: &Fonts, text: &str, range: Range<usize>) -> Vec<(usize, Range<usize>)> {
    let mut pieces: Vec<(usize, Range<usize>)> = Vec::new();
    for (offset, c) in text[range.clone()].char_indices() {
        let start = range.start + offset;
        let font = fonts.choose(c, pieces.last().map(|(font, _)| *font));
        match pieces.last_mut() {
            Some((last, span)) if *last == font => span.end = start + c.len_utf8(),
            _ => pieces.push((font, start..start + c.len_utf8())),
        }
    }
    pieces
}

fn shape_piece(fonts: &Fonts, font: usize, piece: &str, rtl: bool, out: &mut Vec<Glyph>) {
    let face = fonts.face(font);
    let mut buffer = UnicodeBuffer::new();
    buffer.push_str(piece);
    buffer.set_direction(if rtl { Direction::RightToLeft } else { Direction::LeftToRight });
    // Marks keep clusters of their own, so each glyph maps back to the fewest characters.
    buffer.set_cluster_level(BufferClusterLevel::MonotoneCharacters);
    buffer.guess_segment_properties();
    let shaped = rustybuzz::shape(face, &[], buffer);
    let em = face.units_per_em() as f32;

    let mut starts: Vec<usize> =
        shaped.glyph_infos().iter().filter_map(|i| usize::try_from(i.cluster).ok()).collect();
    starts.sort_unstable();
    starts.dedup();
    let mut told = HashSet::new();
    for (info, position) in shaped.glyph_infos().iter().zip(shaped.glyph_positions()) {
        let start = usize::try_from(info.cluster).unwrap_or(0);
        let end = starts.iter().copied().find(|&s| s > start).unwrap_or(piece.len());
        let first = told.insert(start);
        let text = match piece.get(start..end) {
            Some(text) if first && rtl => text.chars().rev().collect(),
            Some(text) if first => text.to_owned(),
            _ => String::new(),
        };
        let id = u16::try_from(info.glyph_id).unwrap_or(0);
        out.push(Glyph {
            font,
            id,
            advance: position.x_advance as f32 / em,
            width: fonts.advance(font, id),
            x_offset: position.x_offset as f32 / em,
            y_offset: position.y_offset as f32 / em,
            text,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fonts() -> Fonts {
        Fonts::load().unwrap()
    }

    fn texts(glyphs: &[Glyph]) -> Vec<&str> {
        glyphs.iter().map(|g| g.text.as_str()).collect()
    }

    #[test]
    fn latin_greek_cyrillic_and_cjk_come_out_in_reading_order_from_their_fonts() {
        let fonts = fonts();
        let glyphs = shape(&fonts, "Łukasz Ελένη Алексей 李雷");
        let text: String = glyphs.iter().map(|g| g.text.as_str()).collect();
        assert_eq!(text, "Łukasz Ελένη Алексей 李雷");
        assert!(glyphs.iter().all(|g| g.id != 0), "no .notdef");
        assert_eq!(glyphs.last().unwrap().font, 3, "李雷 from the CJK font");
        assert_eq!(glyphs[0].font, 0);
    }

    #[test]
    fn arabic_is_joined_and_laid_out_right_to_left() {
        let fonts = fonts();
        let glyphs = shape(&fonts, "أحمد");
        // Visual order: the last letter (د) is drawn first, at the left.
        assert_eq!(texts(&glyphs), ["د", "م", "ح", "أ"]);
        // Joined: ح and م take other forms than when they stand alone.
        let alone = |c: &str| shape(&fonts, c)[0].id;
        assert_ne!(glyphs[2].id, alone("ح"), "ح in its initial form");
        assert_ne!(glyphs[1].id, alone("م"), "م in its medial form");
        assert_ne!(glyphs[0].id, alone("د"), "د in its final form");
        assert!(glyphs.iter().all(|g| g.font == 1));
    }

    #[test]
    fn hebrew_is_right_to_left_and_a_mixed_name_keeps_each_run_in_its_order() {
        let fonts = fonts();
        assert_eq!(texts(&shape(&fonts, "דוד")), ["ד", "ו", "ד"]);
        let mixed = shape(&fonts, "Ahmed أحمد");
        assert_eq!(texts(&mixed).concat(), "Ahmed دمحأ");
        let rtl_first = shape(&fonts, "أحمد Ahmed");
        // A paragraph that starts right to left: the Latin run stands at its left.
        assert_eq!(texts(&rtl_first).concat(), "Ahmed دمحأ");
    }

    #[test]
    fn a_character_no_font_has_is_a_notdef_box_and_the_rest_still_shapes() {
        let fonts = fonts();
        let glyphs = shape(&fonts, "Ada 𐀀");
        assert_eq!(texts(&glyphs).concat(), "Ada 𐀀");
        let last = glyphs.last().unwrap();
        assert_eq!((last.font, last.id), (0, 0));
        assert!(last.advance > 0.0, "the box takes room");
    }

    #[test]
    fn a_long_name_is_made_smaller_then_cut_with_an_ellipsis() {
        let fonts = fonts();
        let short = fit(&fonts, "Zoë", 16.0, 10.0, 200.0);
        assert_eq!((short.size, short.text.as_str()), (16.0, "Zoë"));
        assert!(!short.rtl);
        assert!(fit(&fonts, "أحمد", 16.0, 10.0, 200.0).rtl, "set flush right");
        let longer = fit(&fonts, "Maximiliane Wolkenstein", 16.0, 10.0, 150.0);
        assert!(longer.size < 16.0 && longer.size >= 10.0, "{}", longer.size);
        assert!((longer.width() - 150.0).abs() < 0.01);
        let long = fit(&fonts, &"李".repeat(40), 16.0, 10.0, 150.0);
        assert_eq!(long.size, 10.0);
        assert!(long.width() <= 150.0 && long.text.ends_with('…'), "{}", long.text);
        assert_eq!(long.text.chars().count(), 15, "fourteen 10 pt ideographs and the ellipsis");
        let marks = fit(&fonts, &"é".repeat(60).replace('é', "e\u{301}"), 16.0, 10.0, 100.0);
        assert!(!marks.text.ends_with("e…"), "a cut keeps each mark with its letter");
    }
}
