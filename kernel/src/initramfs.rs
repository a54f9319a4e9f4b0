//! The initramfs: a ustar archive holding the root task (`init`) and every other program.
//!
//! A thin, checked layer over `tar-no-std`, which validates the whole archive (block layout,
//! header checksums, type flags, payload sizes, terminator) before any entry is read, so a
//! truncated or corrupt archive is an error here and never a panic later.
#![forbid(unsafe_code)]

use tar_no_std::TarArchiveRef;

/// Why the initramfs cannot be used.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum InitramfsError {
    /// The archive is not a valid ustar archive.
    Corrupt,
    /// The archive has no member of that name.
    NotFound,
}

impl InitramfsError {
    /// A short description for the boot log.
    pub const fn describe(self) -> &'static str {
        match self {
            InitramfsError::Corrupt => "not a valid ustar archive (truncated or corrupt)",
            InitramfsError::NotFound => "no such member",
        }
    }
}

/// A validated initramfs.
pub struct Initramfs<'a> {
    archive: TarArchiveRef<'a>,
}

impl<'a> Initramfs<'a> {
    /// Validates `data` as a ustar archive.
    pub fn new(data: &'a [u8]) -> Result<Self, InitramfsError> {
        TarArchiveRef::new(data).map(|archive| Self { archive }).map_err(|_| InitramfsError::Corrupt)
    }

    /// Calls `f` with the name and contents of each regular file; names that are not UTF-8 are
    /// skipped.
    pub fn for_each_file(&self, mut f: impl FnMut(&str, &'a [u8])) {
        for e in self.archive.entries() {
            if let Ok(name) = e.filename().as_str() {
                f(name, e.data());
            }
        }
    }

    /// The contents of the member called `name` (a leading `./` in the archive is ignored).
    pub fn find(&self, name: &str) -> Result<&'a [u8], InitramfsError> {
        self.archive
            .entries()
            .find(|e| e.filename().as_str().is_ok_and(|n| n.strip_prefix("./").unwrap_or(n) == name))
            .map(|e| e.data())
            .ok_or(InitramfsError::NotFound)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(name: &str, size: usize) -> [u8; 512] {
        let mut h = [0u8; 512];
        h[..name.len()].copy_from_slice(name.as_bytes());
        h[100..107].copy_from_slice(b"0000755");
        h[108..115].copy_from_slice(b"0000000");
        h[116..123].copy_from_slice(b"0000000");
        let sz = format!("{size:011o}");
        h[124..135].copy_from_slice(sz.as_bytes());
        h[136..147].copy_from_slice(b"00000000000");
        h[156] = b'0';
        h[257..263].copy_from_slice(b"ustar\0");
        h[263..265].copy_from_slice(b"00");
        h[148..156].copy_from_slice(b"        ");
        let sum: u32 = h.iter().map(|&b| u32::from(b)).sum();
        let cs = format!("{sum:06o}\0 ");
        h[148..156].copy_from_slice(cs.as_bytes());
        h
    }

    fn archive(files: &[(&str, &[u8])]) -> Vec<u8> {
        let mut out = Vec::new();
        for (name, data) in files {
            out.extend_from_slice(&header(name, data.len()));
            out.extend_from_slice(data);
            out.resize(out.len().next_multiple_of(512), 0);
        }
        out.extend_from_slice(&[0u8; 1024]);
        out
    }

    #[test]
    fn finds_members() {
        let a = archive(&[("init", b"\x7fELF...."), ("./drivers/serial", b"x")]);
        let fs = Initramfs::new(&a).unwrap();
        assert_eq!(fs.find("init").unwrap(), b"\x7fELF....");
        assert_eq!(fs.find("drivers/serial").unwrap(), b"x");
        assert_eq!(fs.find("nope").unwrap_err(), InitramfsError::NotFound);
        let mut names = Vec::new();
        fs.for_each_file(|n, _| names.push(n.to_string()));
        assert_eq!(names, ["init", "./drivers/serial"]);
    }

    #[test]
    fn truncated_archives_are_errors() {
        let a = archive(&[("init", &[1u8; 1000])]);
        for cut in [0, 1, 511, 512, 1024, a.len() - 512, a.len() - 1] {
            assert!(Initramfs::new(&a[..cut]).is_err(), "cut at {cut} accepted");
        }
    }

    #[test]
    fn corrupt_header_is_an_error() {
        let mut a = archive(&[("init", b"abc")]);
        a[10] ^= 0xff; // breaks the checksum
        assert_eq!(Initramfs::new(&a).err(), Some(InitramfsError::Corrupt));
        let mut a = archive(&[("init", b"abc")]);
        // A size that runs past the end, with a fixed-up checksum.
        let h = header("init", 1 << 30);
        a[..512].copy_from_slice(&h);
        assert_eq!(Initramfs::new(&a).err(), Some(InitramfsError::Corrupt));
    }

    proptest::proptest! {
        #[test]
        fn arbitrary_bytes_never_panic(data in proptest::collection::vec(proptest::num::u8::ANY, 0..4096)) {
            if let Ok(fs) = Initramfs::new(&data) {
                fs.for_each_file(|_, _| {});
                let _ = fs.find("init");
            }
        }

        #[test]
        fn mutated_archives_never_panic(flips in proptest::collection::vec((0usize..3072, proptest::num::u8::ANY), 1..8)) {
            let mut a = archive(&[("init", &[7u8; 700]), ("b", b"hello")]);
            for (at, v) in flips {
                let n = a.len();
                a[at % n] = v;
            }
            if let Ok(fs) = Initramfs::new(&a) {
                fs.for_each_file(|_, _| {});
                let _ = fs.find("init");
            }
        }
    }
}
