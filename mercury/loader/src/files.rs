//! Which initramfs members Mercury copies into the file server at boot, and where: every program
//! under `bin/` to `/bin/NAME`, the boot configuration to `/etc/boot.ini`; and the directories
//! made even when nothing lands in them (`/tmp`, for the shell's files). Also the check of the
//! environment entries a `proc` client gives a child ([`environment`]).

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

use crate::bootconf::BOOT_CONFIG_PATH;

/// Directories made at boot, in order, before any file is copied.
pub const DIRECTORIES: [&str; 3] = ["/bin", "/etc", "/tmp"];

/// Where the member at `path` (`prefix/name`, as the archive holds it) goes in the file server,
/// or `None` if it is not copied. A program is one name under `bin/` (nothing deeper, no `.` or
/// `..`, 1 to 255 bytes), so what lands in `/bin` is always a name the file server accepts.
///
/// ```
/// use loader::files::destination;
/// assert_eq!(destination("bin/echo").as_deref(), Some("/bin/echo"));
/// assert_eq!(destination("boot.ini").as_deref(), Some("/etc/boot.ini"));
/// assert_eq!(destination("drivers/pcserial"), None);
/// ```
pub fn destination(path: &str) -> Option<String> {
    if path == BOOT_CONFIG_PATH {
        return Some(format!("/etc/{BOOT_CONFIG_PATH}"));
    }
    let name = path.strip_prefix("bin/")?;
    let ok = !name.is_empty() && name.len() <= 255 && !name.contains(['/', '\0']) && name != "." && name != "..";
    ok.then(|| format!("/bin/{name}"))
}

/// The `KEY=VALUE` entries of a `proc` `env` request's data: each ends in a NUL, is UTF-8 and
/// has a key before its `=`; `None` if any is not (nothing is taken then).
///
/// ```
/// use loader::files::environment;
/// assert_eq!(environment(b"PWD=/tmp\0A=\0"), Some(vec!["PWD=/tmp".into(), "A=".into()]));
/// assert_eq!(environment(b"PWD=/tmp"), None);
/// ```
pub fn environment(data: &[u8]) -> Option<Vec<String>> {
    let body = data.strip_suffix(&[0u8])?;
    let mut entries = Vec::new();
    for part in body.split(|&b| b == 0) {
        let entry = core::str::from_utf8(part).ok()?;
        let (key, _) = entry.split_once('=')?;
        if key.is_empty() {
            return None;
        }
        entries.push(String::from(entry));
    }
    Some(entries)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn environment_entries_are_checked_whole() {
        assert_eq!(environment(b"PWD=/\0"), Some(alloc::vec![String::from("PWD=/")]));
        assert_eq!(environment(b"A=b=c\0"), Some(alloc::vec![String::from("A=b=c")]));
        for bad in [&b""[..], b"\0", b"=x\0", b"novalue\0", b"A=1\0\0", b"A=\xff\0", b"A=1\0B=2"] {
            assert_eq!(environment(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn programs_and_the_configuration() {
        assert_eq!(destination("bin/sh").as_deref(), Some("/bin/sh"));
        assert_eq!(destination("boot.ini").as_deref(), Some("/etc/boot.ini"));
    }

    #[test]
    fn everything_else_stays_out() {
        for path in [
            "init",
            "servers/ramfs",
            "drivers/pcserial",
            "bin/",
            "bin/a/b",
            "bin/.",
            "bin/..",
            "xbin/a",
            "etc/boot.ini",
        ] {
            assert_eq!(destination(path), None, "{path}");
        }
        let long = format!("bin/{}", "x".repeat(256));
        assert_eq!(destination(&long), None);
        let longest = format!("bin/{}", "x".repeat(255));
        assert!(destination(&longest).is_some());
    }

    #[test]
    fn directories_are_absolute() {
        assert!(DIRECTORIES.iter().all(|d| d.starts_with('/') && d.len() > 1));
    }
}
