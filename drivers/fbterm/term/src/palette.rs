//! The 16 colours of the terminal (the VGA text palette, which SGR 30-37, 90-97 and their
//! backgrounds index) as `0xRRGGBB`, and how a glyph's intensity blends two of them.

/// The default foreground: light grey.
pub const DEFAULT_FG: u8 = 7;

/// The default background: black.
pub const DEFAULT_BG: u8 = 0;

/// The palette: black, red, green, brown, blue, magenta, cyan, light grey, then their bright
/// forms.
pub const COLOURS: [u32; 16] = [
    0x000000, 0xaa0000, 0x00aa00, 0xaa5500, 0x0000aa, 0xaa00aa, 0x00aaaa, 0xaaaaaa, 0x555555, 0xff5555, 0x55ff55,
    0xffff55, 0x5555ff, 0xff55ff, 0x55ffff, 0xffffff,
];

/// The colour `index` names (taken modulo 16).
pub const fn rgb(index: u8) -> u32 {
    COLOURS[(index & 15) as usize]
}

/// `bg` blended towards `fg` by `alpha` (0: all background, 255: all foreground), per channel,
/// in integers so that every machine draws the same pixels.
///
/// ```
/// use fbterm_term::palette::blend;
/// assert_eq!(blend(0xffffff, 0x000000, 255), 0xffffff);
/// assert_eq!(blend(0xffffff, 0x000000, 0), 0x000000);
/// assert_eq!(blend(0xff0000, 0x0000ff, 128), 0x80007f);
/// ```
pub const fn blend(fg: u32, bg: u32, alpha: u8) -> u32 {
    let a = alpha as u32;
    let mut out = 0;
    let mut shift = 0;
    while shift < 24 {
        let f = (fg >> shift) & 0xff;
        let b = (bg >> shift) & 0xff;
        let c = (f * a + b * (255 - a) + 127) / 255;
        out |= c << shift;
        shift += 8;
    }
    out
}
