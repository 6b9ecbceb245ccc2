//! Badge rendering: QR codes as PNG and SVG, and printable PDF sheets of badges.
//!
//! Badge codes are upper-case Crockford base32, which QR encodes in its compact alphanumeric
//! mode; at error-correction level Q a 20-character code fits in QR version 2.

pub mod embed;
pub mod fonts;
pub mod renderer;
pub mod sheet;
pub mod text;

use image::{ImageEncoder, Luma};
use qrcode::{EcLevel, QrCode, Version, render::svg};

use crate::error::{Error, Result};

/// Side length, in pixels, of the PNG and SVG renderings (quiet zone included).
pub const IMAGE_SIZE: u32 = 400;

/// The QR symbol of a badge code, at error-correction level Q.
pub fn symbol(code: &str) -> Result<QrCode> {
    QrCode::with_error_correction_level(code.as_bytes(), EcLevel::Q).map_err(Error::internal)
}

/// The QR version number (1 to 40) of a symbol.
pub fn version_number(symbol: &QrCode) -> i16 {
    match symbol.version() {
        Version::Normal(n) | Version::Micro(n) => n,
    }
}

pub fn png(code: &str) -> Result<Vec<u8>> {
    let image = symbol(code)?
        .render::<Luma<u8>>()
        .quiet_zone(true)
        .min_dimensions(IMAGE_SIZE, IMAGE_SIZE)
        .build();
    let mut bytes = Vec::new();
    image::codecs::png::PngEncoder::new(&mut bytes)
        .write_image(image.as_raw(), image.width(), image.height(), image::ExtendedColorType::L8)
        .map_err(Error::internal)?;
    Ok(bytes)
}

pub fn svg(code: &str) -> Result<String> {
    Ok(symbol(code)?
        .render::<svg::Color<'_>>()
        .quiet_zone(true)
        .min_dimensions(IMAGE_SIZE, IMAGE_SIZE)
        .build())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::badges::new_code;

    #[test]
    fn badge_codes_are_qr_version_2_at_level_q_within_the_promised_4() {
        for _ in 0..200 {
            let qr = symbol(&new_code()).unwrap();
            assert_eq!(qr.error_correction_level(), EcLevel::Q);
            assert_eq!(version_number(&qr), 2, "the README says version 2");
        }
    }
}
