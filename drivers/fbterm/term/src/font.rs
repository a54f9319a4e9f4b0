//! The font: Noto Sans Mono, pre-rasterized by the `noto-sans-mono-bitmap` crate (regular weight,
//! 16 pixels high, 7 wide, the Basic Latin range), each pixel an intensity from 0 to 255. A
//! character outside the range is drawn as `?`.

use noto_sans_mono_bitmap::{FontWeight, RasterHeight, get_raster, get_raster_width};

/// A cell's width in pixels.
pub const WIDTH: usize = get_raster_width(FontWeight::Regular, RasterHeight::Size16);

/// A cell's height in pixels.
pub const HEIGHT: usize = RasterHeight::Size16.val();

/// The glyph of `c`: [`WIDTH`] x [`HEIGHT`] intensities, row by row. A blank cell for a space,
/// `?` for a character the font lacks.
///
/// ```
/// use fbterm_term::font;
/// assert_eq!(font::glyph('A').len(), font::WIDTH * font::HEIGHT);
/// assert!(font::glyph(' ').iter().all(|&p| p == 0));
/// assert_eq!(font::glyph('\u{2603}'), font::glyph('?'));
/// ```
pub fn glyph(c: char) -> &'static [u8] {
    match get_raster(c, FontWeight::Regular, RasterHeight::Size16) {
        Some(r) if r.width() == WIDTH && r.height() == HEIGHT => r.pixels(),
        _ => match get_raster('?', FontWeight::Regular, RasterHeight::Size16) {
            Some(r) => r.pixels(),
            None => &[0; WIDTH * HEIGHT],
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_are_seven_by_sixteen() {
        assert_eq!((WIDTH, HEIGHT), (7, 16));
    }

    #[test]
    fn printable_ascii_has_ink_and_differs() {
        for c in '!'..='~' {
            assert!(glyph(c).iter().any(|&p| p > 128), "{c:?} has no ink");
        }
        assert_ne!(glyph('l'), glyph('1'));
        assert_ne!(glyph('O'), glyph('0'));
    }
}
