//! Pictures of the screen: QEMU's screendumps (binary PPM) read, the screen the framebuffer
//! terminal must show rendered on the host by its own library (`fbterm-term`), compared pixel
//! for pixel, and written as PPM (the test's artifact) and PNG (`docs/screenshot.png`).
//!
//! The PNG encoder is the format's minimum: one IHDR (8-bit RGB), one IDAT compressed by
//! `miniz_oxide` (zlib), IEND, each chunk with its CRC-32.

use anyhow::{Context, Result, bail};
use fbterm_term::grid::Terminal;
use fbterm_term::render::{Format, Renderer, Surface, grid_size};

/// An RGB picture, 3 bytes a pixel, row by row.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Picture {
    pub width: usize,
    pub height: usize,
    pub rgb: Vec<u8>,
}

impl Picture {
    /// Reads a binary PPM (`P6`, maxval 255), as QEMU's `screendump` writes.
    pub fn from_ppm(bytes: &[u8]) -> Result<Picture> {
        // The header: magic, width, height, maxval, separated by white space, then one byte.
        let mut fields = Vec::new();
        let mut at = 0;
        while fields.len() < 4 {
            while bytes.get(at).is_some_and(u8::is_ascii_whitespace) {
                at += 1;
            }
            if bytes.get(at) == Some(&b'#') {
                while bytes.get(at).is_some_and(|&b| b != b'\n') {
                    at += 1;
                }
                continue;
            }
            let start = at;
            while bytes.get(at).is_some_and(|b| !b.is_ascii_whitespace()) {
                at += 1;
            }
            if start == at {
                bail!("a PPM header cut short");
            }
            fields.push(std::str::from_utf8(&bytes[start..at]).context("a PPM header that is not text")?);
        }
        let number = |s: &str| s.parse::<usize>().with_context(|| format!("`{s}` in a PPM header"));
        if fields[0] != "P6" || number(fields[3])? != 255 {
            bail!("not a binary PPM with 8-bit channels ({} {})", fields[0], fields[3]);
        }
        let (width, height) = (number(fields[1])?, number(fields[2])?);
        let data = bytes.get(at + 1..).context("a PPM without pixels")?;
        let len = width.checked_mul(height).and_then(|n| n.checked_mul(3)).context("a PPM too large")?;
        if data.len() < len {
            bail!("a PPM of {width}x{height} with {} bytes of pixels", data.len());
        }
        Ok(Picture { width, height, rgb: data[..len].to_vec() })
    }

    /// As a binary PPM.
    pub fn to_ppm(&self) -> Vec<u8> {
        let mut out = format!("P6\n{} {}\n255\n", self.width, self.height).into_bytes();
        out.extend_from_slice(&self.rgb);
        out
    }

    /// As a PNG (8-bit RGB, no interlace).
    pub fn to_png(&self) -> Vec<u8> {
        let mut raw = Vec::with_capacity((self.width * 3 + 1) * self.height);
        for row in self.rgb.chunks_exact(self.width * 3) {
            raw.push(0); // filter: none
            raw.extend_from_slice(row);
        }
        let mut ihdr = Vec::new();
        ihdr.extend_from_slice(&(self.width as u32).to_be_bytes());
        ihdr.extend_from_slice(&(self.height as u32).to_be_bytes());
        ihdr.extend_from_slice(&[8, 2, 0, 0, 0]);
        let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
        chunk(&mut out, b"IHDR", &ihdr);
        chunk(&mut out, b"IDAT", &miniz_oxide::deflate::compress_to_vec_zlib(&raw, 9));
        chunk(&mut out, b"IEND", &[]);
        out
    }

    /// How many pixels differ from `other` (every pixel, if the sizes differ), and the first.
    pub fn diff(&self, other: &Picture) -> (usize, Option<(usize, usize)>) {
        if (self.width, self.height) != (other.width, other.height) {
            return (self.width.max(other.width) * self.height.max(other.height), Some((0, 0)));
        }
        let mut first = None;
        let mut n = 0;
        for (i, (a, b)) in self.rgb.chunks_exact(3).zip(other.rgb.chunks_exact(3)).enumerate() {
            if a != b {
                n += 1;
                first.get_or_insert((i % self.width, i / self.width));
            }
        }
        (n, first)
    }
}

/// Appends one PNG chunk: length, type, data, CRC-32 of type and data.
fn chunk(out: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) {
    out.extend_from_slice(&(data.len() as u32).to_be_bytes());
    out.extend_from_slice(kind);
    out.extend_from_slice(data);
    let crc = crc32(kind.iter().chain(data));
    out.extend_from_slice(&crc.to_be_bytes());
}

/// CRC-32 (IEEE 802.3, reflected, as PNG and zlib's `crc32` compute it).
fn crc32<'a>(bytes: impl IntoIterator<Item = &'a u8>) -> u32 {
    let mut crc = !0u32;
    for &b in bytes {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 != 0 { (crc >> 1) ^ 0xedb8_8320 } else { crc >> 1 };
        }
    }
    !crc
}

/// The screen the framebuffer terminal shows at `width` x `height` pixels after `written` was
/// written to it, drawn by the same library the driver draws with.
pub fn render(width: usize, height: usize, written: &[u8]) -> Picture {
    let (cols, rows) = grid_size(width, height);
    let mut term = Terminal::new(cols, rows);
    term.write(written);
    let mut pixels = vec![0u8; width * height * 4];
    let mut surface =
        Surface::new(&mut pixels, width, height, width * 4, Format::XRGB).expect("the buffer fits its geometry");
    Renderer::new().draw(&mut term, &mut surface);
    let mut rgb = Vec::with_capacity(width * height * 3);
    for y in 0..height {
        for x in 0..width {
            let p = surface.rgb(x, y).unwrap_or(0);
            rgb.extend_from_slice(&[(p >> 16) as u8, (p >> 8) as u8, p as u8]);
        }
    }
    Picture { width, height, rgb }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc32_of_known_strings() {
        assert_eq!(crc32(b"123456789"), 0xcbf4_3926);
        assert_eq!(crc32(b"IEND"), 0xae42_6082);
    }

    #[test]
    fn ppm_round_trip_and_refusals() {
        let p = Picture { width: 2, height: 1, rgb: vec![1, 2, 3, 4, 5, 6] };
        assert_eq!(Picture::from_ppm(&p.to_ppm()).unwrap(), p);
        assert_eq!(Picture::from_ppm(b"P6 # a comment\n2 1\n255\n\x01\x02\x03\x04\x05\x06").unwrap(), p);
        assert!(Picture::from_ppm(b"P6\n2 1\n255\n\x01\x02").is_err(), "too few pixels");
        assert!(Picture::from_ppm(b"P3\n2 1\n255\n").is_err());
        assert!(Picture::from_ppm(b"P6\n2").is_err());
        assert!(Picture::from_ppm(b"P6\n99999999999 99999999999\n255\n").is_err());
    }

    #[test]
    fn png_has_its_chunks_and_inflates_back() {
        let p = render(70, 32, b"hi");
        let png = p.to_png();
        assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
        assert_eq!(&png[12..16], b"IHDR");
        assert_eq!(&png[png.len() - 8..png.len() - 4], b"IEND");
        let idat_len = u32::from_be_bytes(png[33..37].try_into().unwrap()) as usize;
        assert_eq!(&png[37..41], b"IDAT");
        let raw = miniz_oxide::inflate::decompress_to_vec_zlib(&png[41..41 + idat_len]).unwrap();
        assert_eq!(raw.len(), (70 * 3 + 1) * 32);
        assert_eq!(&raw[1..70 * 3 + 1], &p.rgb[..70 * 3]);
    }

    #[test]
    fn rendered_screens_differ_where_the_text_does() {
        let a = render(140, 48, b"hello\n$ ");
        assert_eq!(a.diff(&a.clone()), (0, None));
        let b = render(140, 48, b"hellO\n$ ");
        let (n, first) = b.diff(&a);
        assert!(n > 0);
        let (x, y) = first.unwrap();
        assert!((28..35).contains(&x) && y < 16, "the first difference is in the fifth cell: {x},{y}");
        assert_eq!(render(70, 16, b"").diff(&render(71, 16, b"")).0, 71 * 16);
    }
}
