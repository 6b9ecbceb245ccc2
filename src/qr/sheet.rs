//! A printable PDF sheet of badges: a grid of cards, each with the name, company and QR code.
//!
//! Text is set in embedded subsets of Noto fonts ([`super::fonts`]): Latin, Greek, Cyrillic,
//! Arabic, Hebrew and the common CJK characters, shaped and ordered by [`super::text`], embedded
//! with only the glyphs the sheet uses and extractable ([`super::embed`]). A character none of
//! the fonts has prints as an empty box and the rest of the name as usual.

use pdf_writer::{Content, Filter, Finish, Name, Pdf, Rect, Ref, Str};

use super::embed::{SheetFonts, resource_name};
use super::fonts::Fonts;
use super::symbol;
use super::text::{Line, fit};
use crate::error::Result;

/// One badge on the sheet.
pub struct Card {
    pub name: String,
    pub company: Option<String>,
    pub code: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Paper {
    A4,
    Letter,
}

impl Paper {
    /// Width and height in PDF points (1/72 inch).
    fn size(self) -> (f32, f32) {
        match self {
            Self::A4 => (595.28, 841.89),
            Self::Letter => (612.0, 792.0),
        }
    }
}

/// Cards per row and rows per page: 2 × 4, eight badges a page.
const COLUMNS: usize = 2;
const ROWS: usize = 4;
pub const PER_PAGE: usize = COLUMNS * ROWS;
const MARGIN: f32 = 28.0;
const QR_SIZE: f32 = 120.0;

/// Text sizes in points: as large as the line allows, down to the smallest, then cut with `…`.
const NAME_SIZE: (f32, f32) = (16.0, 9.0);
const COMPANY_SIZE: (f32, f32) = (11.0, 7.0);
const CODE_SIZE: (f32, f32) = (7.0, 5.0);
const PADDING: f32 = 14.0;

/// What a card says, shaped.
struct CardText<'a> {
    card: &'a Card,
    name: Line,
    company: Option<Line>,
    code: Line,
}

impl<'a> CardText<'a> {
    fn new(fonts: &Fonts, card: &'a Card, card_width: f32) -> Self {
        let line = card_width - 2.0 * PADDING;
        let name = fit(fonts, &card.name, NAME_SIZE.0, NAME_SIZE.1, line);
        let company =
            card.company.as_ref().map(|c| fit(fonts, c, COMPANY_SIZE.0, COMPANY_SIZE.1, line));
        // The code's line ends before the QR code.
        let code = fit(fonts, &card.code, CODE_SIZE.0, CODE_SIZE.1, line - QR_SIZE - 10.0);
        Self { card, name, company, code }
    }

    fn lines(&self) -> impl Iterator<Item = &Line> {
        [Some(&self.name), self.company.as_ref(), Some(&self.code)].into_iter().flatten()
    }
}

/// Renders `cards` as a PDF, `PER_PAGE` to a page (one empty page when there are none).
pub fn pdf(cards: &[Card], paper: Paper) -> Result<Vec<u8>> {
    let (width, height) = paper.size();
    let card_width = (width - 2.0 * MARGIN) / COLUMNS as f32;
    let card_height = (height - 2.0 * MARGIN) / ROWS as f32;

    // Every card is laid out first: the sheet embeds the glyphs its pages use, and no other.
    let fonts = Fonts::load()?;
    let texts: Vec<CardText> = cards.iter().map(|c| CardText::new(&fonts, c, card_width)).collect();
    let mut used = SheetFonts::new(&fonts);
    for glyph in texts.iter().flat_map(CardText::lines).flat_map(|l| &l.glyphs) {
        used.add(glyph);
    }

    let mut next = Ref::new(1);
    let catalog = next.bump();
    let tree = next.bump();
    let font_refs: Vec<Option<Ref>> =
        (0..fonts.count()).map(|f| used.is_used(f).then(|| next.bump())).collect();
    let pages: Vec<&[CardText]> =
        if texts.is_empty() { vec![&[]] } else { texts.chunks(PER_PAGE).collect() };
    let page_refs: Vec<(Ref, Ref)> = pages.iter().map(|_| (next.bump(), next.bump())).collect();

    let mut pdf = Pdf::new();
    pdf.catalog(catalog).pages(tree);
    pdf.pages(tree)
        .kids(page_refs.iter().map(|(page, _)| *page))
        .count(i32::try_from(pages.len()).unwrap_or(i32::MAX));

    for (&(page_ref, content_ref), page_cards) in page_refs.iter().zip(pages) {
        let mut page = pdf.page(page_ref);
        page.media_box(Rect::new(0.0, 0.0, width, height)).parent(tree).contents(content_ref);
        let mut resources = page.resources();
        let mut font_dict = resources.fonts();
        for (font, reference) in font_refs.iter().enumerate() {
            if let Some(reference) = reference {
                font_dict.pair(Name(resource_name(font).as_bytes()), *reference);
            }
        }
        font_dict.finish();
        resources.finish();
        page.finish();

        let mut content = Content::new();
        for (index, text) in page_cards.iter().enumerate() {
            let x = MARGIN + (index % COLUMNS) as f32 * card_width;
            let y = height - MARGIN - (index / COLUMNS + 1) as f32 * card_height;
            draw_card(&mut content, &used, text, x, y, card_width, card_height)?;
        }
        let compressed = miniz_oxide::deflate::compress_to_vec_zlib(&content.finish(), 6);
        pdf.stream(content_ref, &compressed).filter(Filter::FlateDecode);
    }
    used.write(&mut pdf, &fonts, &font_refs, &mut next)?;
    Ok(pdf.finish())
}

fn draw_card(
    content: &mut Content,
    used: &SheetFonts,
    text: &CardText,
    x: f32,
    y: f32,
    w: f32,
    h: f32,
) -> Result<()> {
    // A thin cutting guide around the card.
    content.set_line_width(0.5).set_stroke_gray(0.75).rect(x, y, w, h).stroke();
    content.set_fill_gray(0.0);
    let line = w - 2.0 * PADDING;
    show(content, used, &text.name, x + PADDING, y + h - 30.0, line);
    if let Some(company) = &text.company {
        show(content, used, company, x + PADDING, y + h - 48.0, line);
    }
    show(content, used, &text.code, x + PADDING, y + 12.0, line);

    let qr = symbol(&text.card.code)?;
    let modules = qr.width();
    // Four modules of quiet zone on each side, as the QR standard asks.
    let module = QR_SIZE / (modules + 8) as f32;
    let left = x + w - QR_SIZE - 10.0 + 4.0 * module;
    let top = y + 10.0 + QR_SIZE - 4.0 * module;
    // One rectangle per horizontal run of dark modules keeps the sheet small.
    for (row, line) in qr.to_colors().chunks(modules).enumerate() {
        let mut col = 0;
        while col < modules {
            if line[col] != qrcode::Color::Dark {
                col += 1;
                continue;
            }
            let start = col;
            while col < modules && line[col] == qrcode::Color::Dark {
                col += 1;
            }
            let y = top - (row as f32 + 1.0) * module;
            content.rect(left + start as f32 * module, y, (col - start) as f32 * module, module);
        }
    }
    content.fill_nonzero();
    Ok(())
}

/// Shows a shaped line from (`x`, `y`), or flush right in `room` when it reads from right to left:
/// glyphs by their CIDs, in pieces of one font and height, each glyph moved where shaping put it
/// (PDF readers advance by the font's widths; the difference is written between glyphs).
///
/// Right-to-left runs are drawn in visual order, as PDF readers expect: the ToUnicode maps give
/// each glyph's characters and the reader puts them back in logical order. (An `/ActualText` with
/// the logical text was tried: poppler then reverses it.)
fn show(content: &mut Content, used: &SheetFonts, line: &Line, x: f32, y: f32, room: f32) {
    content.begin_text();
    let mut pen = if line.rtl { x + room - line.width() } else { x };
    let mut rest = &line.glyphs[..];
    while let Some(first) = rest.first() {
        let same = rest.iter().take_while(|g| g.font == first.font && g.y_offset == first.y_offset);
        let (piece, after) = rest.split_at(same.count());
        content
            .set_font(Name(resource_name(first.font).as_bytes()), line.size)
            .set_rise(first.y_offset * line.size)
            .set_text_matrix([1.0, 0.0, 0.0, 1.0, pen, y]);
        let mut shown = content.show_positioned();
        let mut items = shown.items();
        for glyph in piece {
            if glyph.x_offset != 0.0 {
                items.adjust(-glyph.x_offset * 1000.0);
            }
            items.show(Str(&used.cid(glyph).to_be_bytes()));
            let difference = glyph.advance - glyph.width - glyph.x_offset;
            if difference.abs() > 0.0001 {
                items.adjust(-difference * 1000.0);
            }
            pen += glyph.advance * line.size;
        }
        items.finish();
        shown.finish();
        rest = after;
    }
    content.end_text();
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sheet(names: &[&str]) -> Vec<u8> {
        let cards: Vec<Card> = names
            .iter()
            .enumerate()
            .map(|(i, name)| Card {
                name: (*name).to_owned(),
                company: None,
                code: format!("ABCDEFGHJK{i:010}"),
            })
            .collect();
        pdf(&cards, Paper::A4).unwrap()
    }

    fn contains(haystack: &[u8], needle: &str) -> bool {
        haystack.windows(needle.len()).any(|w| w == needle.as_bytes())
    }

    #[test]
    fn a_sheet_embeds_only_the_fonts_it_uses_cut_to_the_glyphs_it_uses() {
        let latin = sheet(&["Zoë", "Łukasz", "Ελένη", "Алексей"]);
        assert!(contains(&latin, "+NotoSans-Regular"));
        for other in ["NotoSansArabic", "NotoSansHebrew", "NotoSansCJKsc"] {
            assert!(!contains(&latin, other), "{other} is not embedded");
        }
        assert!(latin.len() < 40_000, "a subset, not the 264 KB font: {} bytes", latin.len());

        let cjk = sheet(&["李雷", "王芳", "佐藤さくら", "김민준"]);
        assert!(contains(&cjk, "+NotoSansCJKsc-Regular") && contains(&cjk, "CIDFontType0C"));
        assert!(cjk.len() < 60_000, "a subset, not the 2.8 MB font: {} bytes", cjk.len());

        let all = sheet(&["李雷", "Łukasz", "أحمد", "דוד", "Ada 𐀀"]);
        for font in ["NotoSans-", "NotoSansArabic", "NotoSansHebrew", "NotoSansCJKsc"] {
            assert!(contains(&all, font), "{font}");
        }
        assert!(contains(&all, "/ToUnicode") && contains(&all, "/Identity-H"));
    }
}
