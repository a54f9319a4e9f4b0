//! A bounded, defensive walk over the members of a ustar archive, enough for the placeholder init
//! to list the initramfs.
//!
//! It trusts nothing in the archive: every field is parsed with checked arithmetic, every header
//! checksum is verified, no member may run past the end of the archive, and the walk stops (and
//! says why) at the first thing it does not understand. It does no allocation and reads each
//! header once. The real Mercury's initramfs reader replaces it.

/// Size of a ustar block (every header, and the unit member data is padded to).
pub const BLOCK: usize = 512;

/// One archive member.
pub struct Member<'a> {
    /// The `name` field, up to its first NUL.
    pub name: &'a [u8],
    /// The ustar `prefix` field (a directory to put before `name`), up to its first NUL.
    pub prefix: &'a [u8],
    /// The type flag: `b'0'` or `0` for a regular file, `b'5'` for a directory, etc.
    pub typeflag: u8,
    /// The member's data.
    pub data: &'a [u8],
}

/// Why a walk stopped before the end-of-archive marker.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum MemberError {
    /// The archive ended (or had trailing bytes shorter than a block) without the two zero blocks
    /// that close it.
    Truncated,
    /// A header lacks the `ustar` magic.
    NotUstar,
    /// A header's checksum does not match its contents.
    BadChecksum,
    /// A size or checksum field is not octal.
    BadNumber,
    /// A member's data runs past the end of the archive.
    DataOutOfBounds,
}

impl MemberError {
    /// A short description, for log lines.
    pub fn describe(self) -> &'static str {
        match self {
            MemberError::Truncated => "archive ends without an end-of-archive marker",
            MemberError::NotUstar => "a header lacks the ustar magic",
            MemberError::BadChecksum => "a header checksum is wrong",
            MemberError::BadNumber => "a header field is not octal",
            MemberError::DataOutOfBounds => "a member's data runs past the end of the archive",
        }
    }
}

/// An iterator over the members of a ustar archive. After it returns `None`, [`error`](Self::error)
/// says whether it reached the end-of-archive marker (`None`) or stopped on a problem.
pub struct Members<'a> {
    archive: &'a [u8],
    offset: usize,
    done: bool,
    error: Option<MemberError>,
}

impl<'a> Members<'a> {
    /// Walks `archive` from its first header.
    pub fn new(archive: &'a [u8]) -> Self {
        Members { archive, offset: 0, done: false, error: None }
    }

    /// Why the walk stopped early, if it did.
    pub fn error(&self) -> Option<MemberError> {
        self.error
    }

    fn stop(&mut self, error: Option<MemberError>) -> Option<Member<'a>> {
        self.done = true;
        self.error = error;
        None
    }
}

impl<'a> Iterator for Members<'a> {
    type Item = Member<'a>;

    fn next(&mut self) -> Option<Member<'a>> {
        if self.done {
            return None;
        }
        let archive = self.archive;
        let Some(header) = block(archive, self.offset) else {
            return self.stop(Some(MemberError::Truncated));
        };
        if header.iter().all(|&b| b == 0) {
            // End of archive: two zero blocks (one is accepted, as most readers do).
            return self.stop(None);
        }
        if &header[257..262] != b"ustar" {
            return self.stop(Some(MemberError::NotUstar));
        }
        let Some(stored) = octal(&header[148..156]) else {
            return self.stop(Some(MemberError::BadNumber));
        };
        if checksum(header) != stored {
            return self.stop(Some(MemberError::BadChecksum));
        }
        let Some(size) = octal(&header[124..136]).and_then(|s| usize::try_from(s).ok()) else {
            return self.stop(Some(MemberError::BadNumber));
        };
        let start = self.offset + BLOCK;
        let Some(data) = start.checked_add(size).and_then(|end| archive.get(start..end)) else {
            return self.stop(Some(MemberError::DataOutOfBounds));
        };
        // The next header follows the data, padded to a whole block.
        let padded = size.div_ceil(BLOCK) * BLOCK;
        self.offset = start + padded;
        Some(Member {
            name: until_nul(&header[..100]),
            prefix: until_nul(&header[345..500]),
            typeflag: header[156],
            data,
        })
    }
}

/// The `BLOCK` bytes at `offset`, if they are all inside `archive`.
fn block(archive: &[u8], offset: usize) -> Option<&[u8]> {
    archive.get(offset..offset.checked_add(BLOCK)?)
}

/// `field` up to its first NUL.
fn until_nul(field: &[u8]) -> &[u8] {
    let len = field.iter().position(|&b| b == 0).unwrap_or(field.len());
    &field[..len]
}

/// Parses an octal field: optional leading spaces, digits, then NUL, space or the field's end.
fn octal(field: &[u8]) -> Option<u64> {
    let mut value: u64 = 0;
    let mut digits = 0;
    for &b in field.iter().skip_while(|&&b| b == b' ') {
        match b {
            b'0'..=b'7' => {
                value = value.checked_mul(8)?.checked_add(u64::from(b - b'0'))?;
                digits += 1;
            }
            b'\0' | b' ' => break,
            _ => return None,
        }
    }
    (digits > 0).then_some(value)
}

/// The header checksum: the sum of all bytes, with the checksum field counted as spaces.
fn checksum(header: &[u8]) -> u64 {
    header.iter().enumerate().map(|(i, &b)| if (148..156).contains(&i) { u64::from(b' ') } else { u64::from(b) }).sum()
}
