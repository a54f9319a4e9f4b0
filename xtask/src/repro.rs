//! The reproducibility check of `cargo xtask test`: two builds of the same sources, from two
//! checkouts at different paths with their own target directories, must give the same bytes.
//!
//! The first build is the workspace's own (`target/perihelion/`). The second is made from scratch
//! from a fresh copy of the sources in [`COPY_DIR`], with the workspace's source date, so that an
//! absolute path, a date or leftover build state that reached an output would show as a
//! difference. Every file the second build writes in its `target/perihelion/` (the kernel, every
//! initramfs, and the ISOs where Limine is found) is compared byte for byte with the workspace's,
//! and searched for the absolute paths of this machine that the builds could leak: the
//! workspace's and cargo's home's (the two builds share cargo's home, so comparing them alone
//! would not show a registry path that escaped remapping). The copy stays until the next run, to
//! look into a difference.

use std::ffi::OsStr;
use std::fs;
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use anyhow::{Context, Result};

use crate::build::{self, Output};
use crate::iso;
use crate::limine::Limine;
use crate::workspace::{self, Workspace};

/// The second checkout, relative to the workspace root (inside `target/`, so git ignores it and
/// `cargo clean` removes it).
pub const COPY_DIR: &str = "target/repro/checkout";

/// Directories of `target/perihelion/` that are not build outputs: the ISO staging trees (their
/// files are compared as parts of the ISOs) and the boot logs.
const NOT_OUTPUTS: &[&str] = &["iso-root", "logs"];

/// Paths shorter than this are not searched for in outputs: they could turn up by chance.
const MIN_PATH_LEN: usize = 8;

/// What the comparison found.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Comparison {
    /// Outputs identical in both builds and free of this machine's paths, relative to
    /// `target/perihelion/`.
    pub identical: Vec<String>,
    /// Outputs that differ, or hold a path of this machine (and so would differ if built
    /// elsewhere), with how.
    pub differing: Vec<(String, String)>,
}

impl Comparison {
    /// Whether the builds agree: something was compared and nothing differs.
    pub fn reproducible(&self) -> bool {
        !self.identical.is_empty() && self.differing.is_empty()
    }

    /// The one line `cargo xtask test` prints.
    pub fn summary(&self) -> String {
        if self.differing.is_empty() {
            format!("reproducible: {} files identical", self.identical.len())
        } else {
            let names: Vec<&str> = self.differing.iter().map(|(name, _)| name.as_str()).collect();
            format!("not reproducible: {} ({} files identical)", names.join(", "), self.identical.len())
        }
    }
}

/// Builds the outputs in the workspace and again in [`COPY_DIR`], with the ISOs when `limine` is
/// given, and compares them.
pub fn check(ws: &Workspace, limine: Option<&Limine>) -> Result<Comparison> {
    let epoch = ws.source_date_epoch()?;
    let copy = Workspace { root: ws.root.join(COPY_DIR), source_date: Some(epoch) };
    let files = source_files(&ws.root)?;
    copy_files(&ws.root, &files, &copy.root)?;

    build_outputs(ws, limine).context("building in the workspace")?;
    build_outputs(&copy, limine).with_context(|| format!("building in {}", copy.root.display()))?;
    compare(&ws.out_dir(), &copy.out_dir(), &machine_paths(ws))
}

/// The absolute paths of this machine that no output may hold: the workspace's (the copy lies
/// inside it) and cargo's home's. Left out: paths too short to search for, and paths that the
/// names they are remapped to start with (a workspace at `/perihelion` is its own remapping).
fn machine_paths(ws: &Workspace) -> Vec<Vec<u8>> {
    let remapped = [build::REMAPPED_ROOT, build::REMAPPED_CARGO_HOME];
    std::iter::once(ws.root.clone())
        .chain(workspace::cargo_home())
        .map(|path| path.into_os_string().into_vec())
        .filter(|path| path.len() >= MIN_PATH_LEN && !remapped.iter().any(|r| r.as_bytes().starts_with(path)))
        .collect()
}

fn build_outputs(ws: &Workspace, limine: Option<&Limine>) -> Result<()> {
    build::build(ws, Output::OnFailure)?;
    if let Some(limine) = limine {
        iso::build_isos(ws, limine)?;
    }
    Ok(())
}

/// The workspace's source files, relative to `root`: what git tracks or would track (untracked
/// files that are not ignored count, so new files being written count), else, outside git,
/// every file outside `target/` and `.git/`. Never anything under `target/`.
fn source_files(root: &Path) -> Result<Vec<PathBuf>> {
    let listed = Command::new("git")
        .args(["ls-files", "-z", "--cached", "--others", "--exclude-standard"])
        .current_dir(root)
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .output();
    let files = match listed {
        Ok(output) if output.status.success() => nul_separated(&output.stdout),
        _ => walk(root, &["target", ".git"])?,
    };
    // Deleted but still tracked files are listed by git; they are not sources any more.
    Ok(files.into_iter().filter(|f| !f.starts_with("target") && root.join(f).is_file()).collect())
}

/// Paths from `git ls-files -z` output.
fn nul_separated(bytes: &[u8]) -> Vec<PathBuf> {
    bytes.split(|&b| b == 0).filter(|p| !p.is_empty()).map(|p| PathBuf::from(OsStr::from_bytes(p))).collect()
}

/// Every file under `dir` (following no symbolic link to a directory), relative to it and
/// sorted, leaving out the top-level entries named in `skip`.
fn walk(dir: &Path, skip: &[&str]) -> Result<Vec<PathBuf>> {
    fn visit(base: &Path, rel: &Path, skip: &[&str], files: &mut Vec<PathBuf>) -> Result<()> {
        let dir = base.join(rel);
        for entry in fs::read_dir(&dir).with_context(|| format!("reading {}", dir.display()))? {
            let entry = entry.with_context(|| format!("reading {}", dir.display()))?;
            let name = entry.file_name();
            if rel.as_os_str().is_empty() && skip.iter().any(|s| OsStr::new(s) == name) {
                continue;
            }
            let path = rel.join(&name);
            let kind = entry.file_type().with_context(|| format!("reading {}", entry.path().display()))?;
            if kind.is_dir() {
                visit(base, &path, skip, files)?;
            } else if kind.is_file() || entry.path().is_file() {
                files.push(path);
            }
        }
        Ok(())
    }
    let mut files = Vec::new();
    visit(dir, Path::new(""), skip, &mut files)?;
    files.sort();
    Ok(files)
}

/// Replaces `dest` with a copy of `files` of `src` (contents and modes).
fn copy_files(src: &Path, files: &[PathBuf], dest: &Path) -> Result<()> {
    if dest.exists() {
        fs::remove_dir_all(dest).with_context(|| format!("removing {}", dest.display()))?;
    }
    for rel in files {
        let (from, to) = (src.join(rel), dest.join(rel));
        if let Some(parent) = to.parent() {
            fs::create_dir_all(parent).with_context(|| format!("creating {}", parent.display()))?;
        }
        fs::copy(&from, &to).with_context(|| format!("copying {} to {}", from.display(), to.display()))?;
    }
    Ok(())
}

/// Compares every output of the second build with the same file of the first, and searches it
/// for `paths`.
fn compare(first: &Path, second: &Path, paths: &[Vec<u8>]) -> Result<Comparison> {
    let mut comparison = Comparison::default();
    for rel in walk(second, NOT_OUTPUTS)? {
        let name = rel.to_string_lossy().into_owned();
        let theirs = workspace::read(&second.join(&rel))?;
        let problem = match fs::read(first.join(&rel)) {
            Ok(ours) => difference(&ours, &theirs).or_else(|| leaked_path(&theirs, paths)),
            Err(err) => Some(format!("not made by the first build ({err})")),
        };
        match problem {
            None => comparison.identical.push(name),
            Some(how) => comparison.differing.push((name, how)),
        }
    }
    Ok(comparison)
}

/// The first of `paths` that `data` holds, said as a problem.
fn leaked_path(data: &[u8], paths: &[Vec<u8>]) -> Option<String> {
    let path = paths.iter().find(|p| !p.is_empty() && data.windows(p.len()).any(|w| w == p.as_slice()))?;
    Some(format!("holds {}, a path of this machine", String::from_utf8_lossy(path)))
}

/// How two files differ, or `None` if they are the same.
fn difference(a: &[u8], b: &[u8]) -> Option<String> {
    if a == b {
        return None;
    }
    let at = a.iter().zip(b).position(|(x, y)| x != y).unwrap_or(a.len().min(b.len()));
    Some(format!("first difference at byte {at} (sizes {} and {})", a.len(), b.len()))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A fresh directory for one test.
    fn scratch(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("xtask-repro-{name}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        dir
    }

    fn put(root: &Path, rel: &str, data: &str) {
        let path = root.join(rel);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(path, data).unwrap();
    }

    #[test]
    fn git_listing_is_split_at_nuls() {
        assert_eq!(
            nul_separated(b"Cargo.toml\0kernel/src/a b.rs\0"),
            [PathBuf::from("Cargo.toml"), PathBuf::from("kernel/src/a b.rs")]
        );
        assert!(nul_separated(b"").is_empty());
    }

    #[test]
    fn walk_skips_top_level_entries_only() {
        let dir = scratch("walk");
        for rel in ["b.rs", "a/target/x", "target/y", ".git/HEAD", "a/c.rs"] {
            put(&dir, rel, rel);
        }
        let files = walk(&dir, &["target", ".git"]).unwrap();
        let files: Vec<_> = files.iter().map(|p| p.to_str().unwrap()).collect();
        assert_eq!(files, ["a/c.rs", "a/target/x", "b.rs"]);
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn copies_replace_what_was_there() {
        let dir = scratch("copy");
        let (src, dest) = (dir.join("src"), dir.join("dest"));
        put(&src, "Cargo.toml", "[workspace]");
        put(&src, "kernel/src/lib.rs", "// one");
        put(&src, "untracked.txt", "not listed");
        put(&dest, "target/kernel/stale", "an earlier build");
        let files = [PathBuf::from("Cargo.toml"), PathBuf::from("kernel/src/lib.rs")];
        copy_files(&src, &files, &dest).unwrap();
        let copied: Vec<_> = walk(&dest, &[]).unwrap();
        assert_eq!(copied, files);
        assert_eq!(fs::read_to_string(dest.join("kernel/src/lib.rs")).unwrap(), "// one");
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn comparison_names_every_difference() {
        let dir = scratch("compare");
        let (first, second) = (dir.join("first"), dir.join("second"));
        put(&first, "kernel.elf", "same");
        put(&second, "kernel.elf", "same");
        put(&first, "fixtures/exit3.tar", "abcd");
        put(&second, "fixtures/exit3.tar", "abXd");
        put(&second, "vulcan.iso", "only in the second");
        put(&second, "logs/pvh-default.log", "not an output");
        put(&second, "iso-root/vulcan/boot/kernel.elf", "not an output");
        put(&first, "initramfs.tar", "..init../home/me/.cargo/registry/src/x.rs");
        put(&second, "initramfs.tar", "..init../home/me/.cargo/registry/src/x.rs");
        let comparison = compare(&first, &second, &[b"/home/me/.cargo".to_vec()]).unwrap();
        assert_eq!(comparison.identical, ["kernel.elf"]);
        let names: Vec<&str> = comparison.differing.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names, ["fixtures/exit3.tar", "initramfs.tar", "vulcan.iso"]);
        assert_eq!(comparison.differing[0].1, "first difference at byte 2 (sizes 4 and 4)");
        assert_eq!(comparison.differing[1].1, "holds /home/me/.cargo, a path of this machine");
        assert!(!comparison.reproducible());
        assert_eq!(
            comparison.summary(),
            "not reproducible: fixtures/exit3.tar, initramfs.tar, vulcan.iso (1 files identical)"
        );
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn searched_paths() {
        let paths = |root: &str| -> Vec<String> {
            let ws = Workspace { root: PathBuf::from(root), source_date: None };
            machine_paths(&ws).into_iter().map(|p| String::from_utf8(p).unwrap()).collect()
        };
        assert!(paths("/work/perihelion").contains(&"/work/perihelion".to_string()));
        // Too short to search for, or the remapped name itself.
        for root in ["/src", "/perihelion"] {
            assert!(!paths(root).contains(&root.to_string()), "{root}");
        }
        let needle = [b"/work/xy".to_vec()];
        assert_eq!(leaked_path(b"abc/work/xyz", &needle).unwrap(), "holds /work/xy, a path of this machine");
        assert_eq!(leaked_path(b"abc/work/xz", &needle), None);
    }

    #[test]
    fn differences_and_summaries() {
        assert_eq!(difference(b"abc", b"abc"), None);
        assert_eq!(difference(b"abc", b"abcd").unwrap(), "first difference at byte 3 (sizes 3 and 4)");
        let same = Comparison { identical: vec!["kernel.elf".into(), "vulcan.tar".into()], differing: vec![] };
        assert!(same.reproducible());
        assert_eq!(same.summary(), "reproducible: 2 files identical");
        assert!(!Comparison::default().reproducible(), "comparing nothing proves nothing");
    }
}
