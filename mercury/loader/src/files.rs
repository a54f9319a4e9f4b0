//! Which initramfs members Mercury copies into the file server at boot, and where: every program
//! under `bin/` to `/bin/NAME`, the boot configuration to `/etc/boot.ini`; and the directories
//! made even when nothing lands in them (`/tmp`, for the shell's files).

use alloc::format;
use alloc::string::String;

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

#[cfg(test)]
mod tests {
    use super::*;

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
