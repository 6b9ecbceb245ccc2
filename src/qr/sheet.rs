//! A printable PDF sheet of badges: a grid of cards, each with the name, company and QR code.
//!
//! Text uses the PDF base font Helvetica (WinAnsi encoding), so no font is embedded; characters
//! outside that encoding print as `?`. The per-badge PNG and SVG carry any script.

use pdf_writer::{Content, Filter, Finish, Name, Pdf, Rect, Ref, Str};

use super::symbol;
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

/// Renders `cards` as a PDF, `PER_PAGE` to a page (one empty page when there are none).
pub fn pdf(cards: &[Card], paper: Paper) -> Result<Vec<u8>> {
    let (width, height) = paper.size();
    let catalog = Ref::new(1);
    let tree = Ref::new(2);
    let font = Ref::new(3);
    let font_bold = Ref::new(4);
    let pages: Vec<&[Card]> =
        if cards.is_empty() { vec![&[]] } else { cards.chunks(PER_PAGE).collect() };
    let page_refs: Vec<Ref> =
        (0..pages.len()).map(|i| Ref::new(5 + 2 * i32::try_from(i).unwrap_or(0))).collect();

    let mut pdf = Pdf::new();
    pdf.catalog(catalog).pages(tree);
    pdf.pages(tree)
        .kids(page_refs.iter().copied())
        .count(i32::try_from(pages.len()).unwrap_or(i32::MAX));
    pdf.type1_font(font)
        .base_font(Name(b"Helvetica"))
        .encoding_predefined(Name(b"WinAnsiEncoding"));
    pdf.type1_font(font_bold)
        .base_font(Name(b"Helvetica-Bold"))
        .encoding_predefined(Name(b"WinAnsiEncoding"));

    let card_width = (width - 2.0 * MARGIN) / COLUMNS as f32;
    let card_height = (height - 2.0 * MARGIN) / ROWS as f32;
    for (page_ref, page_cards) in page_refs.iter().zip(pages) {
        let content_ref = Ref::new(page_ref.get() + 1);
        let mut page = pdf.page(*page_ref);
        page.media_box(Rect::new(0.0, 0.0, width, height)).parent(tree).contents(content_ref);
        let mut resources = page.resources();
        let mut fonts = resources.fonts();
        fonts.pair(Name(b"F1"), font).pair(Name(b"F2"), font_bold);
        fonts.finish();
        resources.finish();
        page.finish();

        let mut content = Content::new();
        for (index, card) in page_cards.iter().enumerate() {
            let x = MARGIN + (index % COLUMNS) as f32 * card_width;
            let y = height - MARGIN - (index / COLUMNS + 1) as f32 * card_height;
            draw_card(&mut content, card, x, y, card_width, card_height)?;
        }
        let compressed = miniz_oxide::deflate::compress_to_vec_zlib(&content.finish(), 6);
        pdf.stream(content_ref, &compressed).filter(Filter::FlateDecode);
    }
    Ok(pdf.finish())
}

fn draw_card(content: &mut Content, card: &Card, x: f32, y: f32, w: f32, h: f32) -> Result<()> {
    // A thin cutting guide around the card.
    content.set_line_width(0.5).set_stroke_gray(0.75).rect(x, y, w, h).stroke();
    content.set_fill_gray(0.0);
    text(content, b"F2", 16.0, x + 14.0, y + h - 30.0, &card.name, 28);
    if let Some(company) = &card.company {
        text(content, b"F1", 11.0, x + 14.0, y + h - 48.0, company, 40);
    }
    text(content, b"F1", 7.0, x + 14.0, y + 12.0, &card.code, 40);

    let qr = symbol(&card.code)?;
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

fn text(
    content: &mut Content,
    font: &[u8],
    size: f32,
    x: f32,
    y: f32,
    value: &str,
    max_chars: usize,
) {
    let encoded = win_ansi(value, max_chars);
    content.begin_text().set_font(Name(font), size).next_line(x, y).show(Str(&encoded)).end_text();
}

/// Latin-1 text as WinAnsi bytes (they agree on printable Latin-1), cut to `max_chars` with `…`.
fn win_ansi(value: &str, max_chars: usize) -> Vec<u8> {
    let mut bytes: Vec<u8> = value
        .chars()
        .take(max_chars)
        .map(|c| match u32::from(c) {
            0x20..=0x7e | 0xa0..=0xff => u8::try_from(u32::from(c)).unwrap_or(b'?'),
            _ => b'?',
        })
        .collect();
    if value.chars().count() > max_chars {
        bytes.pop();
        bytes.push(0x85); // WinAnsi ellipsis
    }
    bytes
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn latin_1_text_is_kept_and_other_scripts_become_question_marks() {
        assert_eq!(win_ansi("Zoë", 10), b"Zo\xeb".to_vec());
        assert_eq!(win_ansi("李", 10), b"?".to_vec());
        assert_eq!(win_ansi("abcdef", 4), b"abc\x85".to_vec());
    }
}
