//! The MSRV toolchain for `cargo xtask test`: the host tests built and run again by exactly the
//! Rust release the workspace's `rust-version` names.
//!
//! The MSRV is the `rustc` of the nixpkgs that `flake.lock` pins (`docs/nix.md`). Clippy's
//! `incompatible_msrv` holds library APIs to it; this step holds the compiler and the language
//! to it too, since the main build uses whatever stable is installed, which may be newer. The
//! version is read from the workspace `Cargo.toml` (`[workspace.package] rust-version`), never
//! written down twice: `1.95` means the toolchain `1.95.0`.
//!
//! The toolchain comes from rustup, installed (`--profile minimal`) if it is missing. Without
//! rustup, or where rustup cannot install it (no network, the Nix build sandbox), the step is
//! skipped and says why. It builds in its own target directory, `target/msrv`, so that
//! switching compilers never throws away the main build's cache.

use std::path::PathBuf;
use std::process::{Command, Stdio};

use crate::workspace::{self, Workspace};

/// The MSRV's target directory, under `target/`.
const TARGET_SUBDIR: &str = "msrv";

/// An installed toolchain of the MSRV.
pub struct Toolchain {
    rustup: PathBuf,
    /// The toolchain's name for rustup, `X.Y.Z`.
    pub name: String,
}

impl Toolchain {
    /// A cargo command run by this toolchain (`rustup run X.Y.Z cargo`) from the workspace root,
    /// with the environment cleaned as for [`Workspace::cargo`] and its own target directory.
    pub fn cargo(&self, ws: &Workspace) -> Command {
        let mut cmd = ws.command(&self.rustup);
        cmd.args(["run", &self.name, "cargo"]);
        // Whatever names a compiler or a toolchain for the outer cargo must not reach this one.
        for var in ["RUSTC", "RUSTDOC", "RUSTUP_TOOLCHAIN"] {
            cmd.env_remove(var);
        }
        cmd.env("CARGO_TARGET_DIR", ws.root.join("target").join(TARGET_SUBDIR));
        cmd
    }
}

/// Whether the MSRV toolchain can be used here.
pub enum Setup {
    /// Installed (now, or before).
    Ready(Toolchain),
    /// Not here and not to be had: the step is skipped, for this reason.
    Unavailable(String),
    /// The workspace does not name a usable MSRV: a failure, never a skip.
    Broken(String),
}

/// Reads the MSRV and finds (or installs) its toolchain. Installing prints one line, since it
/// can take a while.
pub fn prepare(ws: &Workspace) -> Setup {
    let manifest_path = ws.root.join("Cargo.toml");
    let manifest = match std::fs::read_to_string(&manifest_path) {
        Ok(text) => text,
        Err(err) => return Setup::Broken(format!("reading {}: {err}", manifest_path.display())),
    };
    let Some(version) = workspace_rust_version(&manifest) else {
        return Setup::Broken("Cargo.toml has no `rust-version` in [workspace.package]".to_string());
    };
    let Some(name) = toolchain_name(version) else {
        return Setup::Broken(format!("Cargo.toml: rust-version {version:?} is not X.Y or X.Y.Z"));
    };
    let Some(rustup) = find_rustup() else {
        return Setup::Unavailable("rustup not found".to_string());
    };
    let listed = match Command::new(&rustup).args(["toolchain", "list"]).stdin(Stdio::null()).output() {
        Ok(output) if output.status.success() => String::from_utf8_lossy(&output.stdout).into_owned(),
        Ok(output) => return Setup::Unavailable(format!("rustup toolchain list: {}", last_line(&output.stderr))),
        Err(err) => return Setup::Unavailable(format!("cannot run {}: {err}", rustup.display())),
    };
    if !has_toolchain(&listed, &name) {
        let args = ["toolchain", "install", &name, "--profile", "minimal", "--no-self-update"];
        println!("msrv: toolchain {name} is not installed: rustup {}", args.join(" "));
        match Command::new(&rustup).args(args).stdin(Stdio::null()).output() {
            Ok(output) if output.status.success() => {}
            Ok(output) => {
                return Setup::Unavailable(format!("rustup cannot install {name}: {}", last_line(&output.stderr)));
            }
            Err(err) => return Setup::Unavailable(format!("cannot run {}: {err}", rustup.display())),
        }
    }
    Setup::Ready(Toolchain { rustup, name })
}

/// `rustup` on `PATH`, else in cargo's home, where rustup installs itself.
pub(crate) fn find_rustup() -> Option<PathBuf> {
    workspace::find_on_path("rustup").or_else(|| {
        let candidate = workspace::cargo_home()?.join("bin").join("rustup");
        workspace::is_executable(&candidate).then_some(candidate)
    })
}

/// The `rust-version` of `[workspace.package]` in a workspace manifest: a small reader for the
/// one form this workspace writes (`rust-version = "X.Y"` on its own line), not a TOML parser.
fn workspace_rust_version(manifest: &str) -> Option<&str> {
    let mut in_package = false;
    for line in manifest.lines() {
        let line = line.trim();
        if line.starts_with('[') {
            in_package = line == "[workspace.package]";
            continue;
        }
        if !in_package {
            continue;
        }
        let Some((key, value)) = line.split_once('=') else { continue };
        if key.trim() == "rust-version" {
            let value = value.trim();
            return value.strip_prefix('"').and_then(|v| v.strip_suffix('"'));
        }
    }
    None
}

/// The rustup toolchain of a `rust-version`: `X.Y` is the release `X.Y.0`, `X.Y.Z` itself.
fn toolchain_name(version: &str) -> Option<String> {
    let parts: Vec<&str> = version.split('.').collect();
    let numeric = |p: &&str| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit());
    match parts.as_slice() {
        [_, _] if parts.iter().all(numeric) => Some(format!("{version}.0")),
        [_, _, _] if parts.iter().all(numeric) => Some(version.to_string()),
        _ => None,
    }
}

/// Whether `rustup toolchain list` shows `name` (as `name-<host triple>`, maybe marked
/// `(default)` or `(active)`).
pub(crate) fn has_toolchain(listed: &str, name: &str) -> bool {
    listed
        .lines()
        .filter_map(|line| line.split_whitespace().next())
        .any(|toolchain| toolchain == name || toolchain.strip_prefix(name).is_some_and(|rest| rest.starts_with('-')))
}

/// The last non-empty line of a command's output, for a one-line reason.
pub(crate) fn last_line(output: &[u8]) -> String {
    let text = String::from_utf8_lossy(output);
    text.lines().rev().map(str::trim).find(|l| !l.is_empty()).unwrap_or("no output").to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_workspace_rust_version() {
        let manifest = "[workspace]\nmembers = [\"a\"]\n\n[workspace.package]\nedition = \"2024\"\n\
                        rust-version = \"1.95\"\n\n[profile.dev]\nrust-version = \"9.9\"\n";
        assert_eq!(workspace_rust_version(manifest), Some("1.95"));
        // Only the workspace's own table counts.
        assert_eq!(workspace_rust_version("[package]\nrust-version = \"1.80\"\n"), None);
        assert_eq!(workspace_rust_version("[workspace.package]\nedition = \"2024\"\n"), None);
    }

    #[test]
    fn the_repository_names_its_msrv() {
        let manifest = std::fs::read_to_string(Workspace::locate().root.join("Cargo.toml")).unwrap();
        let version = workspace_rust_version(&manifest).expect("rust-version in [workspace.package]");
        assert!(toolchain_name(version).is_some(), "{version}");
    }

    #[test]
    fn toolchain_names() {
        assert_eq!(toolchain_name("1.95").as_deref(), Some("1.95.0"));
        assert_eq!(toolchain_name("1.95.1").as_deref(), Some("1.95.1"));
        for bad in ["1", "1.95.0.1", "1.x", "1..0", "", "stable", "1.95-beta"] {
            assert_eq!(toolchain_name(bad), None, "{bad}");
        }
    }

    #[test]
    fn finds_toolchains_in_rustups_list() {
        let listed = "stable-x86_64-unknown-linux-gnu (active, default)\n\
                      1.95.0-x86_64-unknown-linux-gnu\nnightly-x86_64-unknown-linux-gnu\n";
        assert!(has_toolchain(listed, "1.95.0"));
        assert!(!has_toolchain(listed, "1.95.1"));
        assert!(!has_toolchain(listed, "1.9"));
        assert!(has_toolchain("1.91.1 (default)\n", "1.91.1"));
        assert!(!has_toolchain("no installed toolchains\n", "1.95.0"));
    }
}
