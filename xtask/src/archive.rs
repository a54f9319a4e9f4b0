//! Deterministic ustar archives: the initramfs format (design §3).
//!
//! The same members and timestamp always give the same bytes: entries sorted by name, regular
//! files with mode 0755, uid and gid 0, empty user and group names, and one fixed mtime.

use std::fs;
use std::path::Path;

use anyhow::{Context, Result, bail};

/// One file in an archive.
#[derive(Clone)]
pub struct Member {
    /// The member's name inside the archive (`init`).
    pub name: String,
    /// The file's contents.
    pub data: Vec<u8>,
}

/// The bytes of a ustar archive holding `members` (in name order), each stamped with `mtime`.
pub fn ustar(mut members: Vec<Member>, mtime: u64) -> Result<Vec<u8>> {
    members.sort_by(|a, b| a.name.as_bytes().cmp(b.name.as_bytes()));
    if let Some(pair) = members.windows(2).find(|w| w[0].name == w[1].name) {
        bail!("two archive members are named {:?}", pair[0].name);
    }
    let mut builder = tar::Builder::new(Vec::new());
    for member in &members {
        let mut header = tar::Header::new_ustar();
        header.set_path(&member.name).with_context(|| format!("archive member name {:?}", member.name))?;
        header.set_entry_type(tar::EntryType::Regular);
        header.set_size(member.data.len() as u64);
        header.set_mode(0o755);
        header.set_uid(0);
        header.set_gid(0);
        header.set_mtime(mtime);
        header.set_cksum();
        builder.append(&header, member.data.as_slice()).context("writing archive member")?;
    }
    builder.into_inner().context("finishing archive")
}

/// Writes `bytes` to `path` through a temporary file and a rename, so a reader never sees half a
/// file and an interrupted build leaves the old one.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> Result<()> {
    if let Some(parent) = path.parent() {
        fs::create_dir_all(parent).with_context(|| format!("creating {}", parent.display()))?;
    }
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".tmp");
    fs::write(&tmp, bytes).with_context(|| format!("writing {}", Path::new(&tmp).display()))?;
    fs::rename(&tmp, path).with_context(|| format!("renaming to {}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn member(name: &str, data: &[u8]) -> Member {
        Member { name: name.to_string(), data: data.to_vec() }
    }

    #[test]
    fn same_input_same_bytes_whatever_the_order() {
        let a = ustar(vec![member("init", b"one"), member("b", b"two")], 42).unwrap();
        let b = ustar(vec![member("b", b"two"), member("init", b"one")], 42).unwrap();
        assert_eq!(a, b);
        let c = ustar(vec![member("b", b"two"), member("init", b"one")], 43).unwrap();
        assert_ne!(a, c, "the mtime is recorded");
    }

    #[test]
    fn headers_are_fixed() {
        let bytes = ustar(vec![member("init", b"\x7fELF..."), member("a", b"")], 1_700_000_000).unwrap();
        // Two headers, one data block, two zero end blocks at least.
        assert_eq!(bytes.len() % 512, 0);
        let mut archive = tar::Archive::new(bytes.as_slice());
        let mut names = Vec::new();
        for entry in archive.entries().unwrap() {
            let entry = entry.unwrap();
            let header = entry.header();
            assert!(header.as_ustar().is_some(), "ustar format");
            assert_eq!(header.entry_type(), tar::EntryType::Regular);
            assert_eq!(header.mode().unwrap(), 0o755);
            assert_eq!(header.uid().unwrap(), 0);
            assert_eq!(header.gid().unwrap(), 0);
            assert_eq!(header.username_bytes(), Some(&b""[..]));
            assert_eq!(header.groupname_bytes(), Some(&b""[..]));
            assert_eq!(header.mtime().unwrap(), 1_700_000_000);
            names.push(entry.path().unwrap().to_string_lossy().into_owned());
        }
        assert_eq!(names, ["a", "init"]);
    }

    #[test]
    fn member_contents_round_trip() {
        use std::io::Read;
        let data: Vec<u8> = (0..1500u32).map(|i| (i % 251) as u8).collect();
        let bytes = ustar(vec![member("init", &data)], 0).unwrap();
        let mut archive = tar::Archive::new(bytes.as_slice());
        let mut entry = archive.entries().unwrap().next().unwrap().unwrap();
        let mut read = Vec::new();
        entry.read_to_end(&mut read).unwrap();
        assert_eq!(read, data);
        // The member starts right after its 512-byte header.
        assert_eq!(&bytes[0..4], b"init");
        assert_eq!(&bytes[257..263], b"ustar\0");
        assert_eq!(&bytes[512..512 + data.len()], data.as_slice());
    }

    #[test]
    fn duplicate_names_are_refused() {
        assert!(ustar(vec![member("init", b"a"), member("init", b"b")], 0).is_err());
    }
}
