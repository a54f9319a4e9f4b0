//! Drawing the grid into pixels: a [`Surface`] is a 32-bit linear framebuffer (the device's, or
//! a buffer on the host), and a [`Renderer`] draws the cells that changed since it last drew
//! (it remembers what each cell shows), moving pixels up when the terminal scrolled. The cursor
//! is its cell with foreground and background swapped; it does not blink, so a picture of the
//! screen is the same whenever it is taken.
//!
//! Every access is bounds-checked: a surface whose geometry does not fit its bytes is refused
//! by [`Surface::new`], and a cell outside it is not drawn.

use alloc::vec;
use alloc::vec::Vec;

use crate::font;
use crate::grid::{Cell, Terminal};
use crate::palette;

/// Where the red, green and blue bytes sit in a 32-bit pixel (bit shifts, 8 bits each).
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct Format {
    pub red: u8,
    pub green: u8,
    pub blue: u8,
}

impl Format {
    /// `0x00RRGGBB` in a little-endian word: blue first in memory (QEMU's VGA, most firmware).
    pub const XRGB: Format = Format { red: 16, green: 8, blue: 0 };

    /// `0xRRGGBB` as this format's pixel.
    pub const fn pixel(self, rgb: u32) -> u32 {
        (((rgb >> 16) & 0xff) << self.red) | (((rgb >> 8) & 0xff) << self.green) | ((rgb & 0xff) << self.blue)
    }

    /// A pixel of this format as `0xRRGGBB`.
    pub const fn rgb(self, pixel: u32) -> u32 {
        (((pixel >> self.red) & 0xff) << 16) | (((pixel >> self.green) & 0xff) << 8) | ((pixel >> self.blue) & 0xff)
    }

    /// A format from the shifts a loader reports, if each is a byte-aligned place in 32 bits.
    pub fn from_shifts(red: u32, green: u32, blue: u32) -> Option<Format> {
        let ok = |s: u32| s <= 24 && s.is_multiple_of(8);
        (ok(red) && ok(green) && ok(blue) && red != green && green != blue && red != blue).then_some(Format {
            red: red as u8,
            green: green as u8,
            blue: blue as u8,
        })
    }
}

/// A 32-bit linear framebuffer: `height` lines of `width` pixels, `pitch` bytes apart.
pub struct Surface<'a> {
    bytes: &'a mut [u8],
    width: usize,
    height: usize,
    pitch: usize,
    format: Format,
}

impl<'a> Surface<'a> {
    /// The surface over `bytes`, or `None` if the geometry does not fit them (a line narrower
    /// than its pixels, or more lines than bytes).
    ///
    /// ```
    /// use fbterm_term::render::{Format, Surface};
    /// let mut buf = vec![0u8; 16 * 4 * 2];
    /// assert!(Surface::new(&mut buf, 16, 2, 64, Format::XRGB).is_some());
    /// assert!(Surface::new(&mut buf, 16, 3, 64, Format::XRGB).is_none());
    /// assert!(Surface::new(&mut buf, 17, 2, 64, Format::XRGB).is_none());
    /// ```
    pub fn new(bytes: &'a mut [u8], width: usize, height: usize, pitch: usize, format: Format) -> Option<Surface<'a>> {
        let need = pitch.checked_mul(height)?;
        (width.checked_mul(4)? <= pitch && need <= bytes.len()).then_some(Surface {
            bytes,
            width,
            height,
            pitch,
            format,
        })
    }

    pub fn width(&self) -> usize {
        self.width
    }

    pub fn height(&self) -> usize {
        self.height
    }

    /// The pixel at `x`, `y` as `0xRRGGBB`.
    pub fn rgb(&self, x: usize, y: usize) -> Option<u32> {
        if x >= self.width || y >= self.height {
            return None;
        }
        let at = y * self.pitch + x * 4;
        let b = self.bytes.get(at..at + 4)?;
        Some(self.format.rgb(u32::from_le_bytes([b[0], b[1], b[2], b[3]])))
    }

    /// Paints `w` x `h` pixels at `x`, `y` (clipped to the surface) with `rgb`.
    pub fn fill(&mut self, x: usize, y: usize, w: usize, h: usize, rgb: u32) {
        let px = self.format.pixel(rgb).to_le_bytes();
        let (x1, y1) = (x.saturating_add(w).min(self.width), y.saturating_add(h).min(self.height));
        for line in y..y1 {
            let start = line * self.pitch;
            if let Some(row) = self.bytes.get_mut(start + x * 4..start + x1 * 4) {
                row.chunks_exact_mut(4).for_each(|p| p.copy_from_slice(&px));
            }
        }
    }

    /// Moves lines `[from, height)` to `[0, height - from)`; the rest keep what they had.
    fn scroll_up(&mut self, from: usize) {
        if from < self.height {
            let len = (self.height - from) * self.pitch;
            self.bytes.copy_within(from * self.pitch..from * self.pitch + len, 0);
        }
    }

    /// Draws `glyph` at `x`, `y` in `fg` on `bg`.
    fn glyph(&mut self, x: usize, y: usize, glyph: &[u8], fg: u32, bg: u32) {
        for (dy, row) in glyph.chunks_exact(font::WIDTH).enumerate() {
            let line = y + dy;
            if line >= self.height || x + font::WIDTH > self.width {
                return;
            }
            let start = line * self.pitch + x * 4;
            let Some(out) = self.bytes.get_mut(start..start + font::WIDTH * 4) else { return };
            for (p, &alpha) in out.chunks_exact_mut(4).zip(row) {
                p.copy_from_slice(&self.format.pixel(palette::blend(fg, bg, alpha)).to_le_bytes());
            }
        }
    }
}

/// The size in cells of a terminal that fits a surface of `width` x `height` pixels.
pub fn grid_size(width: usize, height: usize) -> (usize, usize) {
    (width / font::WIDTH, height / font::HEIGHT)
}

/// What a cell shows: its character and colours as drawn.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
struct Shown {
    ch: char,
    fg: u32,
    bg: u32,
}

/// Draws a [`Terminal`] on a [`Surface`], only what changed.
///
/// ```
/// use fbterm_term::grid::Terminal;
/// use fbterm_term::render::{Format, Renderer, Surface};
/// let (w, h) = (70, 32);
/// let mut pixels = vec![0u8; w * h * 4];
/// let mut surface = Surface::new(&mut pixels, w, h, w * 4, Format::XRGB).unwrap();
/// let mut term = Terminal::new(10, 2);
/// let mut r = Renderer::new();
/// term.write(b"hi");
/// r.draw(&mut term, &mut surface);
/// // The cursor, after "hi", is a light grey block.
/// assert_eq!(surface.rgb(2 * 7, 0), Some(0xaaaaaa));
/// ```
#[derive(Default)]
pub struct Renderer {
    shown: Vec<Option<Shown>>,
    cols: usize,
}

impl Renderer {
    /// A renderer that has drawn nothing yet: its first draw paints the whole surface.
    pub fn new() -> Renderer {
        Renderer { shown: Vec::new(), cols: 0 }
    }

    /// Draws every cell of `term` whose look changed since the last draw.
    pub fn draw(&mut self, term: &mut Terminal, surface: &mut Surface<'_>) {
        let scrolled = term.take_scrolled();
        let cells = term.cols() * term.rows();
        if self.shown.len() != cells || self.cols != term.cols() {
            // First draw (or a new geometry): the margins too.
            surface.fill(0, 0, surface.width(), surface.height(), palette::rgb(palette::DEFAULT_BG));
            self.shown = vec![None; cells];
            self.cols = term.cols();
        } else if scrolled > 0 {
            let lines = scrolled.min(term.rows());
            surface.scroll_up(lines * font::HEIGHT);
            self.shown.rotate_left(lines * self.cols);
            let tail = self.shown.len() - lines * self.cols;
            self.shown[tail..].fill(None);
        }
        let (ccol, crow) = term.cursor();
        for row in 0..term.rows() {
            for col in 0..term.cols() {
                let Cell { ch, fg, bg } = term.cell(col, row);
                let (mut fg, mut bg) = (palette::rgb(fg), palette::rgb(bg));
                if term.cursor_visible() && (col, row) == (ccol, crow) {
                    core::mem::swap(&mut fg, &mut bg);
                }
                let look = Shown { ch, fg, bg };
                let at = row * self.cols + col;
                if self.shown[at] != Some(look) {
                    surface.glyph(col * font::WIDTH, row * font::HEIGHT, font::glyph(ch), fg, bg);
                    self.shown[at] = Some(look);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn picture(term: &mut Terminal, r: &mut Renderer, buf: &mut [u8], w: usize, h: usize) -> Vec<u32> {
        let mut s = Surface::new(buf, w, h, w * 4, Format::XRGB).unwrap();
        r.draw(term, &mut s);
        (0..h).flat_map(|y| (0..w).map(move |x| (x, y))).map(|(x, y)| s.rgb(x, y).unwrap()).collect()
    }

    #[test]
    fn incremental_drawing_matches_a_fresh_one() {
        let (w, h) = (7 * 12 + 3, 16 * 4 + 5);
        let mut term = Terminal::new(12, 4);
        let mut r = Renderer::new();
        let mut buf = vec![0u8; w * h * 4];
        for chunk in [&b"hello\n"[..], b"\x1b[31mred\x1b[0m and more text that wraps\n", b"x\ny\nz\x1b[2;3H\x1b[K"] {
            term.write(chunk);
            let now = picture(&mut term, &mut r, &mut buf, w, h);
            let mut fresh_buf = vec![0xffu8; w * h * 4];
            let fresh = picture(&mut term.clone(), &mut Renderer::new(), &mut fresh_buf, w, h);
            assert_eq!(now, fresh, "after {chunk:?}");
        }
    }

    #[test]
    fn text_has_ink_in_its_colour_and_margins_stay_background() {
        let (w, h) = (7 * 3 + 4, 16 + 3);
        let mut term = Terminal::new(3, 1);
        term.write(b"\x1b[?25l\x1b[91mW");
        let mut buf = vec![0x55u8; w * h * 4];
        let px = picture(&mut term, &mut Renderer::new(), &mut buf, w, h);
        let cell: Vec<u32> = (0..16).flat_map(|y| px[y * w..y * w + 7].to_vec()).collect();
        assert!(cell.contains(&0xff5555));
        assert!(cell.contains(&0));
        assert!(px[w * 17..].iter().all(|&p| p == 0), "the bottom margin is cleared");
        assert!(px[7..w].iter().all(|&p| p == 0), "nothing drawn past the W");
    }

    #[test]
    fn formats_place_the_channels() {
        let bgr = Format::from_shifts(0, 8, 16).unwrap();
        assert_eq!(bgr.pixel(0x112233), 0x332211);
        assert_eq!(bgr.rgb(0x332211), 0x112233);
        assert_eq!(Format::XRGB.pixel(0x112233), 0x112233);
        assert!(Format::from_shifts(16, 16, 0).is_none());
        assert!(Format::from_shifts(3, 8, 16).is_none());
    }

    #[test]
    fn a_surface_smaller_than_the_grid_clips() {
        let (w, h) = (10, 10);
        let mut term = Terminal::new(5, 5);
        term.write(b"abcdefghijklmnopqrstuvwxyz");
        let mut buf = vec![0u8; w * h * 4];
        let mut s = Surface::new(&mut buf, w, h, w * 4, Format::XRGB).unwrap();
        Renderer::new().draw(&mut term, &mut s);
    }
}
