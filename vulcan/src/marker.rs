//! Debug-write markers: the lines tests write through a console so that `cargo xtask test` can
//! check on the serial log the bytes the kernel really wrote, not only the length it returned.
//!
//! A *marker* is one debug write of one whole line, made by [`marker`] (or [`fill_marker`], to an
//! exact length):
//!
//! ```text
//! vulcan: debug-write TAG (LEN bytes, fnv1a HASH): BODY
//! ```
//!
//! BODY is LEN bytes of printable ASCII and HASH their 32-bit FNV-1a in 8 hex digits; TAG is
//! lowercase letters, digits and `-`, written by one call in the source. `vulcan/inventory.txt`
//! lists every tag after the test that writes it, and xtask (`xtask/src/markers.rs`) fails a boot
//! unless each appears exactly once, at the start of a line, whole (its length and hash agree with
//! its body, and the line ends where the body does), among the lines its own test printed before
//! its result line. A tag that is not listed fails the boot too.
//!
//! A *refused text* is what a write the kernel must refuse would put on the log if it were
//! wrongly accepted ([`refused`], [`fill_refused`]):
//!
//! ```text
//! vulcan: debug-write refused TAG: WHY
//! ```
//!
//! xtask fails a boot on whose log `debug-write refused` appears at all. The kernel writes each
//! `debug_write` whole under its console lock, so other output lands only between lines, never
//! inside one: a marker that is broken, cut or doubled is the kernel's doing.

/// What every marker and refused text starts with.
const PREFIX: &[u8] = b"vulcan: debug-write ";

/// What follows [`PREFIX`] in a refused text.
const REFUSED: &[u8] = b"refused ";

/// Capacity of a [`Line`].
pub const LINE_MAX: usize = 160;

/// A marker or refused text of at most [`LINE_MAX`] bytes, built at compile time (for one that
/// lives in the image's read-only data) or at run time.
#[derive(Clone, Copy)]
pub struct Line {
    bytes: [u8; LINE_MAX],
    len: usize,
}

impl Line {
    /// The line, newline included.
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes[..self.len]
    }
}

/// The marker for `tag` with text `body` (printable ASCII, no newline).
pub const fn marker(tag: &str, body: &str) -> Line {
    let body = body.as_bytes();
    check_text(body);
    let mut line = Line { bytes: [0; LINE_MAX], len: 0 };
    let head = header(&mut line.bytes, tag, body.len(), fnv1a(body));
    let end = copy(&mut line.bytes, head, body);
    line.len = copy(&mut line.bytes, end, b"\n");
    line
}

/// The refused text for `tag`, saying `why` the kernel must refuse the write.
pub const fn refused(tag: &str, why: &str) -> Line {
    check_tag(tag);
    check_text(why.as_bytes());
    let mut line = Line { bytes: [0; LINE_MAX], len: 0 };
    let mut at = copy(&mut line.bytes, 0, PREFIX);
    at = copy(&mut line.bytes, at, REFUSED);
    at = copy(&mut line.bytes, at, tag.as_bytes());
    at = copy(&mut line.bytes, at, b": ");
    at = copy(&mut line.bytes, at, why.as_bytes());
    line.len = copy(&mut line.bytes, at, b"\n");
    line
}

/// Fills all of `out` with one marker for `tag` whose body is a ruler: each 16 bytes start
/// with their offset in the body in 4 hex digits, then dots (`0000............0010......`), so
/// that a byte from the wrong place changes the hash. `out` must hold the header and a body.
pub fn fill_marker(tag: &str, out: &mut [u8]) {
    let fixed = PREFIX.len() + tag.len() + b" (".len() + b" bytes, fnv1a ".len() + 8 + b"): ".len() + 1;
    // The body's length and the digits that print it must add up to what is left.
    let Some(len) = (1..=20).find_map(|digits| {
        let len = out.len().checked_sub(fixed + digits)?;
        (decimal_digits(len) == digits).then_some(len)
    }) else {
        panic!("marker {tag}: {} bytes hold no marker", out.len())
    };
    let start = out.len() - 1 - len;
    for (i, byte) in out[start..start + len].iter_mut().enumerate() {
        let cell = i - i % 16;
        *byte = match i % 16 {
            d @ 0..4 => HEX[(cell >> (4 * (3 - d))) & 0xf],
            _ => b'.',
        };
    }
    out[out.len() - 1] = b'\n';
    let hash = fnv1a(&out[start..start + len]);
    let end = header(out, tag, len, hash);
    assert_eq!(end, start, "marker {tag}: header and body overlap");
}

/// Fills all of `out` with copies of the refused text for `tag`, whole ones ending at the end of
/// `out` (newlines before them, where a whole one does not fit), so that any stretch of `out`
/// twice a line long holds a whole one, and so does any stretch that runs to its end and is a
/// line long.
pub fn fill_refused(tag: &str, why: &str, out: &mut [u8]) {
    let line = refused(tag, why);
    let line = line.as_bytes();
    let pad = out.len() % line.len();
    out[..pad].fill(b'\n');
    for chunk in out[pad..].chunks_exact_mut(line.len()) {
        chunk.copy_from_slice(line);
    }
}

const HEX: &[u8; 16] = b"0123456789abcdef";

/// 32-bit FNV-1a of `bytes` (offset basis 0x811c9dc5, prime 0x01000193), as xtask computes it.
pub const fn fnv1a(bytes: &[u8]) -> u32 {
    let mut hash = 0x811c_9dc5u32;
    let mut i = 0;
    while i < bytes.len() {
        hash ^= bytes[i] as u32;
        hash = hash.wrapping_mul(0x0100_0193);
        i += 1;
    }
    hash
}

/// Writes `vulcan: debug-write TAG (LEN bytes, fnv1a HASH): ` at the start of `out`; returns
/// where the body goes.
const fn header(out: &mut [u8], tag: &str, len: usize, hash: u32) -> usize {
    check_tag(tag);
    let mut at = copy(out, 0, PREFIX);
    at = copy(out, at, tag.as_bytes());
    at = copy(out, at, b" (");
    let digits = decimal_digits(len);
    let mut i = 0;
    while i < digits {
        let mut n = len;
        let mut k = digits - 1 - i;
        while k > 0 {
            n /= 10;
            k -= 1;
        }
        out[at + i] = b'0' + (n % 10) as u8;
        i += 1;
    }
    at = copy(out, at + digits, b" bytes, fnv1a ");
    let mut i = 0;
    while i < 8 {
        out[at + i] = HEX[((hash >> (4 * (7 - i))) & 0xf) as usize];
        i += 1;
    }
    copy(out, at + 8, b"): ")
}

/// Copies `bytes` to `out` at `at`; returns the end.
const fn copy(out: &mut [u8], at: usize, bytes: &[u8]) -> usize {
    let mut i = 0;
    while i < bytes.len() {
        out[at + i] = bytes[i];
        i += 1;
    }
    at + bytes.len()
}

/// Printable ASCII: no newline or other control character, so that a text stays on its line.
const fn check_text(bytes: &[u8]) {
    let mut i = 0;
    while i < bytes.len() {
        assert!(matches!(bytes[i], b' '..=b'~'), "marker text: not printable ASCII");
        i += 1;
    }
}

/// A tag: lowercase letters, digits and `-`, and never `refused`.
const fn check_tag(tag: &str) {
    let tag = tag.as_bytes();
    assert!(!tag.is_empty(), "marker tag: empty");
    let mut i = 0;
    while i < tag.len() {
        let b = tag[i];
        assert!(b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-', "marker tag: not [a-z0-9-]");
        i += 1;
    }
    let refused = b"refused";
    let mut same = tag.len() == refused.len();
    let mut i = 0;
    while same && i < tag.len() {
        same = tag[i] == refused[i];
        i += 1;
    }
    assert!(!same, "marker tag: `refused` starts a refused text");
}

/// Decimal digits of `n` (1 for 0).
const fn decimal_digits(mut n: usize) -> usize {
    let mut digits = 1;
    while n >= 10 {
        n /= 10;
        digits += 1;
    }
    digits
}
