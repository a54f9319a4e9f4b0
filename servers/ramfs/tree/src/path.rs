//! Paths: `/`-separated names from the root. Empty components (a leading `/`, `//`, a trailing
//! `/`) are skipped, so `/bin/echo`, `bin/echo` and `bin//echo/` name the same node. There is no
//! `.` or `..`: a client resolves those itself, and a component spelled so is refused.

use crate::error::{Error, Result};

/// The longest name, in bytes.
pub const NAME_MAX: usize = 255;

/// Whether `name` can be one component of a path.
pub fn valid_name(name: &str) -> bool {
    !name.is_empty() && name.len() <= NAME_MAX && name != "." && name != ".." && !name.contains(['/', '\0'])
}

/// The components of `path`, each checked, or [`Error::BadPath`] for the first bad one.
pub fn components(path: &str) -> impl Iterator<Item = Result<&str>> + Clone {
    path.split('/').filter(|c| !c.is_empty()).map(|c| if valid_name(c) { Ok(c) } else { Err(Error::BadPath) })
}

/// Checks every component of `path`; returns how many there are.
pub fn check(path: &str) -> Result<usize> {
    components(path).try_fold(0, |n, c| c.map(|_| n + 1))
}

/// `path` split into the components before its last and the last (`None` for the root).
pub fn split_last(path: &str) -> Result<(impl Iterator<Item = Result<&str>> + Clone, Option<&str>)> {
    let n = check(path)?;
    let last = components(path).last().transpose()?;
    Ok((components(path).take(n.saturating_sub(1)), last))
}

/// Whether path `inner` lies strictly inside path `outer` (both checked).
pub fn is_strictly_inside(inner: &str, outer: &str) -> bool {
    let mut i = components(inner);
    for o in components(outer) {
        if i.next() != Some(o) {
            return false;
        }
    }
    i.next().is_some()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_components_are_skipped() {
        let v: Vec<_> = components("//bin///echo/").collect();
        assert_eq!(v, [Ok("bin"), Ok("echo")]);
        assert_eq!(check("/"), Ok(0));
        assert_eq!(check(""), Ok(0));
    }

    #[test]
    fn dots_nul_and_long_names_are_refused() {
        for bad in ["/a/./b", "..", "/a/..", "x\0y", &"n".repeat(NAME_MAX + 1)] {
            assert_eq!(check(bad), Err(Error::BadPath), "{bad:?}");
        }
        assert_eq!(check(&"n".repeat(NAME_MAX)), Ok(1));
        assert_eq!(check("...").map(|_| ()), Ok(()), "three dots is a name");
    }

    #[test]
    fn split_last_and_inside() {
        let (dirs, last) = split_last("/a/b/c").unwrap();
        assert_eq!(dirs.collect::<Vec<_>>(), [Ok("a"), Ok("b")]);
        assert_eq!(last, Some("c"));
        assert_eq!(split_last("/").unwrap().1, None);
        assert!(is_strictly_inside("/a/b", "a"));
        assert!(!is_strictly_inside("/a", "/a/"));
        assert!(!is_strictly_inside("/ab", "/a"));
        assert!(is_strictly_inside("/a", "/"), "everything is inside the root");
    }
}
