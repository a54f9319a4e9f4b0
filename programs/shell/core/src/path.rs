//! Paths as the shell hands them to file servers: absolute, with `.` and `..` resolved
//! (ramfs refuses both), and no empty components.

use alloc::string::String;
use alloc::vec::Vec;

/// `path` made absolute against the working directory `cwd` (itself absolute), `.` and `..`
/// resolved (`..` of the root is the root), repeated and trailing `/` dropped.
///
/// ```
/// use shell_core::path::resolve;
/// assert_eq!(resolve("/home/user", "../etc//motd"), "/home/etc/motd");
/// assert_eq!(resolve("/bin", "/"), "/");
/// assert_eq!(resolve("/", "../../x/."), "/x");
/// ```
pub fn resolve(cwd: &str, path: &str) -> String {
    let mut parts: Vec<&str> = Vec::new();
    let start = if path.starts_with('/') { "" } else { cwd };
    for c in start.split('/').chain(path.split('/')) {
        match c {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            name => parts.push(name),
        }
    }
    let mut out = String::new();
    for p in &parts {
        out.push('/');
        out.push_str(p);
    }
    if out.is_empty() {
        out.push('/');
    }
    out
}
