//! The fonts of one sheet inside its PDF: for each font used, a subset of only the glyphs used
//! (typst's `subsetter`), written as a composite font — Type0 with Identity-H encoding over a
//! CIDFontType2 (TrueType outlines) or CIDFontType0 (CFF) — with its widths, and a ToUnicode CMap
//! so that text extraction, search and copy give back the characters.

use std::collections::BTreeMap;

use anyhow::anyhow;
use pdf_writer::types::{CidFontType, FontFlags, SystemInfo, UnicodeCmap};
use pdf_writer::{Filter, Finish, Name, Pdf, Rect, Ref, Str};
use rustybuzz::ttf_parser::{RawFace, Tag};
use sha2::{Digest, Sha256};
use subsetter::GlyphRemapper;

use super::fonts::{FILES, Fonts};
use super::text::Glyph;
use crate::error::{Error, Result};

/// The glyphs a sheet uses, per font.
#[derive(Default)]
struct Subset {
    remapper: GlyphRemapper,
    /// By CID (the glyph's id in the subset): its advance in 1/1000 em and its text.
    cids: BTreeMap<u16, (f32, String)>,
}

/// The glyphs a sheet uses, gathered before its pages are written.
pub struct SheetFonts {
    subsets: Vec<Option<Subset>>,
}

const IDENTITY: SystemInfo =
    SystemInfo { registry: Str(b"Adobe"), ordering: Str(b"Identity"), supplement: 0 };

impl SheetFonts {
    pub fn new(fonts: &Fonts) -> Self {
        Self { subsets: (0..fonts.count()).map(|_| None).collect() }
    }

    /// Records a glyph as used; the first text given for a glyph is the one extraction gives, and
    /// `.notdef` (the box of characters no font has) gives U+FFFD, the replacement character.
    pub fn add(&mut self, glyph: &Glyph) {
        let Some(slot) = self.subsets.get_mut(glyph.font) else { return };
        let subset = slot.get_or_insert_with(Subset::default);
        let cid = subset.remapper.remap(glyph.id);
        let entry = subset.cids.entry(cid).or_insert_with(|| (glyph.width * 1000.0, String::new()));
        if glyph.id == 0 {
            entry.1 = char::REPLACEMENT_CHARACTER.to_string();
        } else if entry.1.is_empty() {
            entry.1.clone_from(&glyph.text);
        }
    }

    /// The CID a used glyph is shown with.
    pub fn cid(&self, glyph: &Glyph) -> u16 {
        self.subsets
            .get(glyph.font)
            .and_then(|s| s.as_ref())
            .and_then(|s| s.remapper.get(glyph.id))
            .unwrap_or(0)
    }

    pub fn is_used(&self, font: usize) -> bool {
        self.subsets.get(font).is_some_and(Option::is_some)
    }

    /// Writes each used font as `refs[font]` (a Type0 font) and the objects it needs from `next`
    /// on.
    pub fn write(
        self,
        pdf: &mut Pdf,
        fonts: &Fonts,
        refs: &[Option<Ref>],
        next: &mut Ref,
    ) -> Result<()> {
        for (font, subset) in self.subsets.into_iter().enumerate() {
            let (Some(subset), Some(Some(type0))) = (subset, refs.get(font).copied()) else {
                continue;
            };
            write_font(pdf, fonts, font, &subset, type0, next)?;
        }
        Ok(())
    }
}

/// The name by which a page's resources refer to `font`.
pub fn resource_name(font: usize) -> String {
    format!("F{font}")
}

fn write_font(
    pdf: &mut Pdf,
    fonts: &Fonts,
    font: usize,
    subset: &Subset,
    type0: Ref,
    next: &mut Ref,
) -> Result<()> {
    let file = &FILES[font];
    let face = fonts.face(font);
    let (cid_ref, descriptor, program, cmap) = (next.bump(), next.bump(), next.bump(), next.bump());
    // A subset is named with a tag of six capitals that depends on the glyphs in it.
    let glyphs: Vec<u8> = subset.remapper.remapped_gids().flat_map(u16::to_be_bytes).collect();
    let digest = Sha256::digest(&glyphs);
    let tag: String = digest.iter().take(6).map(|b| char::from(b'A' + b % 26)).collect();
    let base_font = format!("{tag}+{}", file.name);
    let base_font = Name(base_font.as_bytes());

    pdf.type0_font(type0)
        .base_font(base_font)
        .encoding_predefined(Name(b"Identity-H"))
        .descendant_font(cid_ref)
        .to_unicode(cmap);

    let mut cid_font = pdf.cid_font(cid_ref);
    cid_font
        .subtype(if file.cff { CidFontType::Type0 } else { CidFontType::Type2 })
        .base_font(base_font)
        .system_info(IDENTITY)
        .font_descriptor(descriptor)
        .default_width(0.0);
    if !file.cff {
        cid_font.cid_to_gid_map_predefined(Name(b"Identity"));
    }
    let last = subset.remapper.num_gids();
    let widths: Vec<f32> =
        (0..last).map(|cid| subset.cids.get(&cid).map_or(0.0, |(width, _)| *width)).collect();
    cid_font.widths().consecutive(0, widths);
    cid_font.finish();

    let scale = 1000.0 / face.units_per_em() as f32;
    let bbox = face.global_bounding_box();
    let ascent = f32::from(face.ascender()) * scale;
    pdf.font_descriptor(descriptor)
        .name(base_font)
        .flags(FontFlags::SYMBOLIC)
        .bbox(Rect::new(
            f32::from(bbox.x_min) * scale,
            f32::from(bbox.y_min) * scale,
            f32::from(bbox.x_max) * scale,
            f32::from(bbox.y_max) * scale,
        ))
        .italic_angle(0.0)
        .ascent(ascent)
        .descent(f32::from(face.descender()) * scale)
        .cap_height(face.capital_height().map_or(ascent, |h| f32::from(h) * scale))
        .stem_v(80.0)
        .font_file_by_kind(file.cff, program);

    let data = subsetter::subset(file.data, 0, &subset.remapper)
        .map_err(|e| Error::internal(anyhow!("subsetting {}: {e}", file.name)))?;
    let data = if file.cff {
        // A CIDFontType0 embeds the bare CFF program, not the OpenType file around it.
        let raw = RawFace::parse(&data, 0).map_err(Error::internal)?;
        raw.table(Tag::from_bytes(b"CFF "))
            .ok_or_else(|| Error::internal(anyhow!("no CFF table in {}", file.name)))?
            .to_vec()
    } else {
        data
    };
    let length = i32::try_from(data.len()).unwrap_or(i32::MAX);
    let compressed = miniz_oxide::deflate::compress_to_vec_zlib(&data, 6);
    let mut stream = pdf.stream(program, &compressed);
    stream.filter(Filter::FlateDecode);
    if file.cff {
        stream.pair(Name(b"Subtype"), Name(b"CIDFontType0C"));
    } else {
        stream.pair(Name(b"Length1"), length);
    }
    stream.finish();

    let mut unicode = UnicodeCmap::new(Name(b"Custom"), IDENTITY);
    for (cid, (_, text)) in &subset.cids {
        if !text.is_empty() {
            unicode.pair_with_multiple(*cid, text.chars());
        }
    }
    let cmap_data = miniz_oxide::deflate::compress_to_vec_zlib(&unicode.finish(), 6);
    pdf.cmap(cmap, &cmap_data).filter(Filter::FlateDecode);
    Ok(())
}

trait FontFileByKind {
    fn font_file_by_kind(&mut self, cff: bool, program: Ref) -> &mut Self;
}

impl FontFileByKind for pdf_writer::writers::FontDescriptor<'_> {
    /// TrueType outlines go in `/FontFile2`, CFF ones in `/FontFile3`.
    fn font_file_by_kind(&mut self, cff: bool, program: Ref) -> &mut Self {
        if cff { self.font_file3(program) } else { self.font_file2(program) }
    }
}
