//! The checks every text file gets before its first line is parsed: its size and its encoding.

use crate::refusal::{Reason, Refusal};

/// `bytes` as text, if it is at most `limit` bytes of UTF-8; otherwise the refusal, naming the
/// line where the limit is crossed or the first byte that is not UTF-8 sits.
pub fn checked(bytes: &[u8], limit: usize) -> Result<&str, Refusal<'static>> {
    if bytes.len() > limit {
        return Err(Refusal { line: line_of(bytes, limit), reason: Reason::TooLarge { limit } });
    }
    core::str::from_utf8(bytes).map_err(|e| Refusal { line: line_of(bytes, e.valid_up_to()), reason: Reason::NotUtf8 })
}

/// The 1-based number of the line holding byte `at` of `bytes`.
fn line_of(bytes: &[u8], at: usize) -> u32 {
    let before = bytes.get(..at).unwrap_or(bytes);
    let newlines = before.iter().filter(|&&b| b == b'\n').count();
    u32::try_from(newlines).unwrap_or(u32::MAX - 1).saturating_add(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn size_and_encoding() {
        assert_eq!(checked(b"a\nb", 16), Ok("a\nb"));
        assert_eq!(checked(b"", 16), Ok(""));
        let big = [b'\n'; 20];
        assert_eq!(checked(&big, 16), Err(Refusal { line: 17, reason: Reason::TooLarge { limit: 16 } }));
        assert_eq!(checked(b"ok\nok\n\xffno", 16), Err(Refusal { line: 3, reason: Reason::NotUtf8 }));
        assert_eq!(checked(b"\xc3", 16), Err(Refusal { line: 1, reason: Reason::NotUtf8 }));
    }
}
