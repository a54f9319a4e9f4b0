//! The initramfs: a ustar archive, read in place.
//!
//! [`Archive::new`] walks every header once and refuses the archive at the first thing it does
//! not understand, with the offset of the header at fault ([`TarError`]); an archive it accepts
//! is then read without further errors ([`Archive::members`], [`Archive::find`]). [`Walk`] is the
//! same walk one member at a time, for a caller that wants the members before a fault too.
//!
//! Nothing in the archive is trusted: every number is parsed with checked arithmetic, every
//! header checksum is verified, no member's data may run past the end of the archive, and nothing
//! is allocated. The kernel reads the same archives with `tar-no-std` (it only needs `init`);
//! this reader gives Mercury typed errors to log and the ustar `prefix` field for long paths.

use core::fmt;

/// Size of a ustar block: every header, and the unit member data is padded to.
pub const BLOCK: usize = 512;

/// Why an archive was refused; `offset` is where the header at fault starts.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum TarError {
    /// The archive ends (or holds less than a block) before its end-of-archive marker.
    Truncated {
        /// Where the missing header should start.
        offset: usize,
    },
    /// A header lacks the `ustar` magic.
    NotUstar {
        /// The header.
        offset: usize,
    },
    /// A header's checksum does not match its contents.
    BadChecksum {
        /// The header.
        offset: usize,
    },
    /// A header's size or checksum field is not an octal number (base-256 numbers are not
    /// read).
    BadNumber {
        /// The header.
        offset: usize,
    },
    /// A member's data runs past the end of the archive.
    DataOutOfBounds {
        /// The header.
        offset: usize,
    },
}

impl fmt::Display for TarError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            TarError::Truncated { offset } => write!(f, "archive ends at {offset:#x} without an end-of-archive marker"),
            TarError::NotUstar { offset } => write!(f, "header at {offset:#x} lacks the ustar magic"),
            TarError::BadChecksum { offset } => write!(f, "header at {offset:#x} has a wrong checksum"),
            TarError::BadNumber { offset } => write!(f, "header at {offset:#x} has a field that is not octal"),
            TarError::DataOutOfBounds { offset } => {
                write!(f, "data of the member at {offset:#x} runs past the end of the archive")
            }
        }
    }
}

/// What a member is, from its type flag.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum MemberKind {
    /// A regular file (`0`, or NUL in old archives).
    File,
    /// A directory (`5`).
    Directory,
    /// A hard or symbolic link (`1`, `2`).
    Link,
    /// Anything else (devices, FIFOs, pax and GNU extension headers), with its flag.
    Other(u8),
}

/// One archive member.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct Member<'a> {
    /// The ustar `prefix` field (a directory to put before `name`), up to its first NUL.
    pub prefix: &'a [u8],
    /// The `name` field, up to its first NUL.
    pub name: &'a [u8],
    /// The type flag.
    pub typeflag: u8,
    /// The member's data.
    pub data: &'a [u8],
}

impl<'a> Member<'a> {
    /// What it is.
    pub fn kind(&self) -> MemberKind {
        match self.typeflag {
            b'0' | 0 => MemberKind::File,
            b'5' => MemberKind::Directory,
            b'1' | b'2' => MemberKind::Link,
            other => MemberKind::Other(other),
        }
    }

    /// Whether its path (`prefix/name`, or `name` alone) is `path`, one leading `./` on either
    /// side ignored (a prefix of `.` is such a `./`: `.` and `x` make `./x`, which is `x`).
    pub fn path_is(&self, path: &str) -> bool {
        let path = path.strip_prefix("./").unwrap_or(path).as_bytes();
        // The member's path, with its leading `./` taken off, as the parts it is joined from.
        let parts: [&[u8]; 3] = if self.prefix.is_empty() {
            [self.name.strip_prefix(b"./").unwrap_or(self.name), b"", b""]
        } else if self.prefix == b"." {
            [self.name, b"", b""]
        } else {
            [self.prefix.strip_prefix(b"./").unwrap_or(self.prefix), b"/", self.name]
        };
        joins_to(path, &parts)
    }

    /// Its path, for display: `prefix/name`, bytes that are not printable ASCII escaped.
    pub fn path(&self) -> Path<'a> {
        Path { prefix: self.prefix, name: self.name }
    }
}

/// Whether `s` is the concatenation of `parts`.
fn joins_to(s: &[u8], parts: &[&[u8]]) -> bool {
    let mut rest = s;
    for part in parts {
        match rest.strip_prefix(*part) {
            Some(r) => rest = r,
            None => return false,
        }
    }
    rest.is_empty()
}

/// A member's path, displayed with everything but printable ASCII escaped.
#[derive(Copy, Clone, Debug)]
pub struct Path<'a> {
    prefix: &'a [u8],
    name: &'a [u8],
}

impl fmt::Display for Path<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let escaped = |bytes: &[u8], f: &mut fmt::Formatter<'_>| {
            bytes.iter().try_for_each(|&b| fmt::Display::fmt(&core::ascii::escape_default(b), f))
        };
        if !self.prefix.is_empty() {
            escaped(self.prefix, f)?;
            f.write_str("/")?;
        }
        escaped(self.name, f)
    }
}

/// A checked archive.
#[derive(Copy, Clone, Debug)]
pub struct Archive<'a> {
    bytes: &'a [u8],
    count: usize,
}

impl<'a> Archive<'a> {
    /// Walks every header of `bytes` and accepts it only if the walk reaches the end-of-archive
    /// marker (a zero block; the second that should follow it is not required).
    pub fn new(bytes: &'a [u8]) -> Result<Archive<'a>, TarError> {
        let mut walk = Walk::new(bytes);
        let mut count = 0;
        for member in walk.by_ref() {
            member?;
            count += 1;
        }
        Ok(Archive { bytes, count })
    }

    /// How many members it holds.
    pub fn len(&self) -> usize {
        self.count
    }

    /// Whether it holds none.
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// Every member, in archive order.
    pub fn members(&self) -> impl Iterator<Item = Member<'a>> + use<'a> {
        // `new` walked the same bytes without an error: none comes now.
        Walk::new(self.bytes).map_while(Result::ok)
    }

    /// The first regular file whose path is `path` (see [`Member::path_is`]).
    pub fn find(&self, path: &str) -> Option<Member<'a>> {
        self.members().find(|m| m.kind() == MemberKind::File && m.path_is(path))
    }
}

/// The members of an archive one at a time; after an `Err` the walk ends.
#[derive(Clone, Debug)]
pub struct Walk<'a> {
    archive: &'a [u8],
    offset: usize,
    done: bool,
}

impl<'a> Walk<'a> {
    /// Walks `archive` from its first header.
    pub fn new(archive: &'a [u8]) -> Walk<'a> {
        Walk { archive, offset: 0, done: false }
    }

    fn fail(&mut self, error: TarError) -> Option<Result<Member<'a>, TarError>> {
        self.done = true;
        Some(Err(error))
    }
}

impl<'a> Iterator for Walk<'a> {
    type Item = Result<Member<'a>, TarError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        let offset = self.offset;
        let Some(header) = block(self.archive, offset) else {
            return self.fail(TarError::Truncated { offset });
        };
        if header.iter().all(|&b| b == 0) {
            self.done = true;
            return None;
        }
        if &header[257..262] != b"ustar" {
            return self.fail(TarError::NotUstar { offset });
        }
        let Some(stored) = octal(&header[148..156]) else {
            return self.fail(TarError::BadNumber { offset });
        };
        if checksum(header) != stored {
            return self.fail(TarError::BadChecksum { offset });
        }
        let Some(size) = octal(&header[124..136]).and_then(|s| usize::try_from(s).ok()) else {
            return self.fail(TarError::BadNumber { offset });
        };
        let start = offset + BLOCK;
        let end = start.checked_add(size);
        let Some(data) = end.and_then(|end| self.archive.get(start..end)) else {
            return self.fail(TarError::DataOutOfBounds { offset });
        };
        // The next header follows the data, padded to a whole block; past the end of the
        // archive, the next call reports it truncated.
        self.offset = start.saturating_add(size.div_ceil(BLOCK) * BLOCK);
        Some(Ok(Member {
            prefix: until_nul(&header[345..500]),
            name: until_nul(&header[..100]),
            typeflag: header[156],
            data,
        }))
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

/// An octal field: optional leading spaces, at least one digit, then NUL, space or the field's
/// end.
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

/// The header checksum: the sum of all bytes, the checksum field counted as spaces.
fn checksum(header: &[u8]) -> u64 {
    header.iter().enumerate().map(|(i, &b)| if (148..156).contains(&i) { u64::from(b' ') } else { u64::from(b) }).sum()
}

#[cfg(test)]
mod tests {
    extern crate std;

    use super::*;
    use std::format;
    use std::string::ToString;
    use std::vec::Vec;

    fn header(prefix: &str, name: &str, size: usize, typeflag: u8) -> [u8; 512] {
        let mut h = [0u8; 512];
        h[..name.len()].copy_from_slice(name.as_bytes());
        h[100..107].copy_from_slice(b"0000755");
        h[108..115].copy_from_slice(b"0000000");
        h[116..123].copy_from_slice(b"0000000");
        h[124..135].copy_from_slice(format!("{size:011o}").as_bytes());
        h[136..147].copy_from_slice(b"00000000000");
        h[156] = typeflag;
        h[257..263].copy_from_slice(b"ustar\0");
        h[263..265].copy_from_slice(b"00");
        h[345..345 + prefix.len()].copy_from_slice(prefix.as_bytes());
        h[148..156].copy_from_slice(b"        ");
        let sum: u32 = h.iter().map(|&b| u32::from(b)).sum();
        h[148..156].copy_from_slice(format!("{sum:06o}\0 ").as_bytes());
        h
    }

    fn archive(files: &[(&str, &str, &[u8], u8)]) -> Vec<u8> {
        let mut out = Vec::new();
        for (prefix, name, data, flag) in files {
            out.extend_from_slice(&header(prefix, name, data.len(), *flag));
            out.extend_from_slice(data);
            out.resize(out.len().next_multiple_of(512), 0);
        }
        out.extend_from_slice(&[0u8; 1024]);
        out
    }

    fn sample() -> Vec<u8> {
        archive(&[
            ("", "init", b"\x7fELF....", b'0'),
            ("", "drivers/", b"", b'5'),
            ("", "./drivers/pcserial", &[7u8; 700], b'0'),
            ("very/long/directory", "boot.ini", b"[x]\n", 0),
        ])
    }

    #[test]
    fn finds_members_by_path() {
        let bytes = sample();
        let a = Archive::new(&bytes).unwrap();
        assert_eq!(a.len(), 4);
        assert_eq!(a.find("init").unwrap().data, b"\x7fELF....");
        assert_eq!(a.find("./init").unwrap().data, b"\x7fELF....");
        assert_eq!(a.find("drivers/pcserial").unwrap().data.len(), 700);
        assert_eq!(a.find("very/long/directory/boot.ini").unwrap().data, b"[x]\n");
        assert!(a.find("drivers/").is_none(), "directories are not files");
        assert!(a.find("boot.ini").is_none());
        assert!(a.find("nope").is_none());
        let paths: Vec<_> = a.members().map(|m| (m.path().to_string(), m.kind())).collect();
        assert_eq!(
            paths,
            [
                ("init".to_string(), MemberKind::File),
                ("drivers/".to_string(), MemberKind::Directory),
                ("./drivers/pcserial".to_string(), MemberKind::File),
                ("very/long/directory/boot.ini".to_string(), MemberKind::File),
            ]
        );
        assert!(Archive::new(&[0u8; 512]).unwrap().is_empty());
    }

    #[test]
    fn refuses_truncated_archives() {
        let a = sample();
        for cut in [0, 1, 511, 512, 1024, 1536, a.len() - 1024] {
            assert!(Archive::new(&a[..cut]).is_err(), "cut at {cut} accepted");
        }
        assert_eq!(Archive::new(&a[..512]).unwrap_err(), TarError::DataOutOfBounds { offset: 0 });
        assert_eq!(Archive::new(&a[..1024]).unwrap_err(), TarError::Truncated { offset: 1024 });
        assert_eq!(Archive::new(&[]).unwrap_err(), TarError::Truncated { offset: 0 });
    }

    #[test]
    fn refuses_corrupt_headers() {
        let mut a = sample();
        a[1] ^= 0xff;
        assert_eq!(Archive::new(&a).unwrap_err(), TarError::BadChecksum { offset: 0 });
        let mut a = sample();
        a[1024 + 257] = b'x';
        assert_eq!(Archive::new(&a).unwrap_err(), TarError::NotUstar { offset: 1024 });
        let mut a = sample();
        a[148..156].copy_from_slice(b"zzzzzzzz");
        assert_eq!(Archive::new(&a).unwrap_err(), TarError::BadNumber { offset: 0 });
        let mut a = sample();
        a[..512].copy_from_slice(&header("", "init", 1 << 30, b'0'));
        assert_eq!(Archive::new(&a).unwrap_err(), TarError::DataOutOfBounds { offset: 0 });
        let mut h = header("", "init", 0, b'0');
        h[124] = 0x80; // base-256 size
        h[148..156].copy_from_slice(b"        ");
        let sum: u32 = h.iter().map(|&b| u32::from(b)).sum();
        h[148..156].copy_from_slice(format!("{sum:06o}\0 ").as_bytes());
        assert_eq!(Walk::new(&h).next(), Some(Err(TarError::BadNumber { offset: 0 })));
        assert!(TarError::BadChecksum { offset: 0x400 }.to_string().contains("0x400"));
    }

    #[test]
    fn walk_gives_the_members_before_a_fault() {
        let mut a = sample();
        a[1024 + 1] ^= 1;
        let got: Vec<_> = Walk::new(&a).collect();
        assert_eq!(got.len(), 2);
        assert_eq!(got[0].map(|m| m.data), Ok(&b"\x7fELF...."[..]));
        assert_eq!(got[1], Err(TarError::BadChecksum { offset: 1024 }));
    }

    #[test]
    fn path_is_with_a_dot_prefix() {
        // Found by the property below on a random seed: prefix `.` and name `/` make `.//`,
        // which is `/` once its `./` is taken off.
        let cases: [(&str, &str, &str, bool); 6] = [
            (".", "/", "/", true),
            (".", "x", "x", true),
            (".", "x", "./x", true),
            ("./", "x", "/x", true),
            ("./", "x", "x", false),
            ("./a", "x", "a/x", true),
        ];
        for (prefix, name, query, expected) in cases {
            let bytes = archive(&[(prefix, name, b"", b'0')]);
            let a = Archive::new(&bytes).unwrap();
            let m = a.members().next().unwrap();
            assert_eq!(m.path_is(query), expected, "prefix {prefix:?}, name {name:?}, query {query:?}");
        }
    }

    proptest::proptest! {
        #[test]
        fn arbitrary_bytes_never_panic(data in proptest::collection::vec(proptest::num::u8::ANY, 0..4096)) {
            if let Ok(a) = Archive::new(&data) {
                proptest::prop_assert_eq!(a.members().count(), a.len());
                let _ = a.find("init");
            }
        }

        #[test]
        fn mutated_archives_never_panic(flips in proptest::collection::vec((0usize..4096, proptest::num::u8::ANY), 1..8)) {
            let mut a = sample();
            for (at, v) in flips {
                let n = a.len();
                a[at % n] = v;
            }
            if let Ok(archive) = Archive::new(&a) {
                proptest::prop_assert_eq!(archive.members().count(), archive.len());
                for m in archive.members() {
                    let _ = m.path().to_string();
                    let _ = m.path_is("drivers/pcserial");
                }
            }
            let _ = Walk::new(&a).count();
        }

        #[test]
        fn path_is_agrees_with_the_displayed_path(prefix in "[a-z./]{0,6}", name in "[a-z./]{1,6}", query in "[a-z./]{0,12}") {
            let bytes = archive(&[(&prefix, &name, b"", b'0')]);
            let a = Archive::new(&bytes).unwrap();
            let m = a.members().next().unwrap();
            let shown = m.path().to_string();
            // The path is prefix/name (or name), one leading `./` on either side ignored.
            let norm = |p: &str| std::string::String::from(p.strip_prefix("./").unwrap_or(p));
            let full = if prefix.is_empty() { name.clone() } else { format!("{prefix}/{name}") };
            proptest::prop_assert_eq!(m.path_is(&query), norm(&full) == norm(&query), "{} vs {}", shown, query);
        }

        #[test]
        fn path_is_matches_itself(prefix in "[a-z./]{0,6}", name in "[a-z./]{1,6}") {
            // Every member is found by its own path, written with or without the leading `./`.
            let bytes = archive(&[(&prefix, &name, b"", b'0')]);
            let a = Archive::new(&bytes).unwrap();
            let m = a.members().next().unwrap();
            let full = if prefix.is_empty() { name.clone() } else { format!("{prefix}/{name}") };
            proptest::prop_assert!(m.path_is(&full), "{} not found by {}", m.path(), full);
        }
    }
}
