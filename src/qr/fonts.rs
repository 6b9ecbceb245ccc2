//! The fonts badge sheets are written in: subsets of the Noto family compiled into the binary.
//!
//! The files in `fonts/` (SIL Open Font License, `fonts/OFL.txt`) are made by `scripts/fonts`
//! from Debian's Noto packages, cut to the characters names are written in: Latin, Greek and
//! Cyrillic; Arabic; Hebrew; and the common Han characters, Kana and Hangul (about 3.2 MB in
//! all, of which 2.8 MB CJK). Each sheet embeds only the glyphs it uses ([`super::embed`]).

use anyhow::anyhow;
use rustybuzz::Face;
use rustybuzz::ttf_parser::GlyphId;

use crate::error::{Error, Result};

/// A font file compiled into the binary.
pub struct FontFile {
    /// The PostScript name, as the PDF names the font.
    pub name: &'static str,
    pub data: &'static [u8],
    /// CFF outlines (an OpenType `.otf`) rather than TrueType ones.
    pub cff: bool,
}

/// The fonts in the order they are tried for a character: the first that has it draws it.
pub const FILES: [FontFile; 4] = [
    FontFile {
        name: "NotoSans-Regular",
        data: include_bytes!("../../fonts/NotoSans-Badge.ttf"),
        cff: false,
    },
    FontFile {
        name: "NotoSansArabic-Regular",
        data: include_bytes!("../../fonts/NotoSansArabic-Badge.ttf"),
        cff: false,
    },
    FontFile {
        name: "NotoSansHebrew-Regular",
        data: include_bytes!("../../fonts/NotoSansHebrew-Badge.ttf"),
        cff: false,
    },
    FontFile {
        name: "NotoSansCJKsc-Regular",
        data: include_bytes!("../../fonts/NotoSansCJKsc-Badge.otf"),
        cff: true,
    },
];

/// The font whose `.notdef` glyph (an empty box) stands for a character no font has.
pub const FALLBACK: usize = 0;

/// The fonts, parsed (cheap: only their table directories are read).
pub struct Fonts {
    faces: Vec<Face<'static>>,
}

impl Fonts {
    pub fn load() -> Result<Self> {
        let faces = FILES
            .iter()
            .map(|file| {
                Face::from_slice(file.data, 0).ok_or_else(|| {
                    Error::internal(anyhow!("the font {} does not parse", file.name))
                })
            })
            .collect::<Result<_>>()?;
        Ok(Self { faces })
    }

    pub fn face(&self, font: usize) -> &Face<'static> {
        &self.faces[font]
    }

    pub fn count(&self) -> usize {
        self.faces.len()
    }

    fn covers(&self, font: usize, c: char) -> bool {
        self.faces[font].glyph_index(c).is_some()
    }

    /// The font that draws `c` after a character drawn by `previous`: spaces, digits, punctuation
    /// and combining marks stay in the font of what precedes them when it has them (so a run of
    /// one script is shaped whole); anything else goes to the first font that has it, and a
    /// character none has to [`FALLBACK`].
    pub fn choose(&self, c: char, previous: Option<usize>) -> usize {
        if let Some(previous) = previous.filter(|&p| !c.is_alphabetic() && self.covers(p, c)) {
            return previous;
        }
        (0..self.faces.len()).find(|&font| self.covers(font, c)).unwrap_or(FALLBACK)
    }

    /// The advance of a glyph as the font's own metrics give it, in em.
    pub fn advance(&self, font: usize, glyph: u16) -> f32 {
        let face = &self.faces[font];
        f32::from(face.glyph_hor_advance(GlyphId(glyph)).unwrap_or(0)) / face.units_per_em() as f32
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_font_parses_and_draws_its_script() {
        let fonts = Fonts::load().unwrap();
        for (c, font) in [('Ł', 0), ('Ε', 0), ('Ж', 0), ('ح', 1), ('ד', 2), ('李', 3), ('한', 3)]
        {
            assert_eq!(fonts.choose(c, None), font, "{c}");
        }
        assert_eq!(fonts.choose('𐀀', None), FALLBACK, "Linear B is in none of them");
        assert_eq!(fonts.choose(' ', Some(1)), 1, "a space stays in the run it is in");
        assert_eq!(fonts.choose(' ', Some(3)), 0, "the CJK subset has no space: the first font");
    }
}
