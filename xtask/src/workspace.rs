//! The workspace: where the repository is, where every output lands, and how cargo is called.
//!
//! Every path xtask writes is fixed here (`target/perihelion/...`), so the other modules, the
//! README and CI agree on them. Cargo is called through [`Workspace::cargo`], which starts from a
//! clean environment for the variables that would change what cargo builds.

use std::env;
use std::ffi::{OsStr, OsString};
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail};

/// The one target triple the kernel and the user programs are built for (design §2).
pub const TARGET: &str = "x86_64-unknown-linux-gnu";

/// The repository and its output paths.
pub struct Workspace {
    /// The workspace root: the directory holding the root `Cargo.toml`.
    pub root: PathBuf,
    /// The source date of archives and ISOs, when it is given rather than looked up (a copy of
    /// the sources outside git takes the original's); see [`Workspace::source_date_epoch`].
    pub source_date: Option<u64>,
}

impl Workspace {
    /// The workspace this xtask binary was built from.
    pub fn locate() -> Workspace {
        let manifest_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
        let root = manifest_dir.parent().unwrap_or(manifest_dir).to_path_buf();
        Workspace { root, source_date: None }
    }

    /// The timestamp recorded in archives and ISOs: [`Workspace::source_date`] if given, else
    /// [`source_date_epoch`] of the root.
    pub fn source_date_epoch(&self) -> Result<u64> {
        match self.source_date {
            Some(epoch) => Ok(epoch),
            None => source_date_epoch(&self.root),
        }
    }

    /// `target/perihelion`: every artifact xtask produces.
    pub fn out_dir(&self) -> PathBuf {
        self.root.join("target").join("perihelion")
    }

    /// The kernel image, booted by PVH and by Limine alike.
    pub fn kernel_elf(&self) -> PathBuf {
        self.out_dir().join("kernel.elf")
    }

    /// The normal system's initramfs: `init` is Mercury.
    pub fn initramfs_tar(&self) -> PathBuf {
        self.out_dir().join("initramfs.tar")
    }

    /// The test initramfs: `init` is Vulcan.
    pub fn vulcan_tar(&self) -> PathBuf {
        self.out_dir().join("vulcan.tar")
    }

    /// The benchmark initramfs: `init` is the bench program (`cargo xtask bench`).
    pub fn bench_tar(&self) -> PathBuf {
        self.out_dir().join("bench.tar")
    }

    /// Where `cargo xtask bench` writes its figures.
    pub fn bench_json(&self) -> PathBuf {
        self.out_dir().join("bench.json")
    }

    /// A fixture initramfs (`exit3`, `fault`): `init` is the fixture program.
    pub fn fixture_tar(&self, name: &str) -> PathBuf {
        self.out_dir().join("fixtures").join(format!("{name}.tar"))
    }

    /// An ISO image (`perihelion`, `vulcan`).
    pub fn iso(&self, name: &str) -> PathBuf {
        self.out_dir().join(format!("{name}.iso"))
    }

    /// Where the serial output of each test boot is kept.
    pub fn logs_dir(&self) -> PathBuf {
        self.out_dir().join("logs")
    }

    /// A cargo command run from the workspace root, with the environment cleaned of everything
    /// that would change what it builds: flags, target and target-dir overrides, profile
    /// overrides, and the variables cargo set for this xtask process itself. The cargo binary is
    /// `$CARGO` (set by `cargo xtask`) or `cargo` from `PATH`.
    pub fn cargo(&self) -> Command {
        let cargo = env::var_os("CARGO").unwrap_or_else(|| OsString::from("cargo"));
        self.command(cargo)
    }

    /// `program` run from the workspace root, with the environment cleaned as for
    /// [`Workspace::cargo`]: for programs that run cargo themselves (`rustup run`).
    pub fn command(&self, program: impl AsRef<OsStr>) -> Command {
        let mut cmd = Command::new(program);
        cmd.current_dir(&self.root);
        for (key, _) in env::vars_os() {
            if let Some(key) = key.to_str()
                && is_stripped_var(key)
            {
                cmd.env_remove(key);
            }
        }
        cmd
    }
}

/// Whether an inherited environment variable is dropped before calling cargo.
fn is_stripped_var(key: &str) -> bool {
    const EXACT: &[&str] = &[
        "RUSTFLAGS",
        "CARGO_ENCODED_RUSTFLAGS",
        "CARGO_BUILD_RUSTFLAGS",
        "RUSTDOCFLAGS",
        "CARGO_ENCODED_RUSTDOCFLAGS",
        "CARGO_BUILD_RUSTDOCFLAGS",
        "CARGO_BUILD_TARGET",
        "CARGO_TARGET_DIR",
        "CARGO_BUILD_TARGET_DIR",
        "CARGO_BUILD_BUILD_DIR",
        "CARGO_INCREMENTAL",
        "RUSTC_BOOTSTRAP",
        "CARGO_MANIFEST_DIR",
        "CARGO_MANIFEST_PATH",
        "CARGO_CRATE_NAME",
        "CARGO_BIN_NAME",
        "CARGO_PRIMARY_PACKAGE",
    ];
    const PREFIXES: &[&str] = &["CARGO_PKG_", "CARGO_PROFILE_"];
    EXACT.contains(&key)
        || PREFIXES.iter().any(|p| key.starts_with(p))
        || (key.starts_with("CARGO_TARGET_") && key.ends_with("_RUSTFLAGS"))
}

/// Cargo's home directory: `$CARGO_HOME`, else `~/.cargo`.
pub fn cargo_home() -> Option<PathBuf> {
    if let Some(home) = env::var_os("CARGO_HOME").filter(|h| !h.is_empty()) {
        return Some(PathBuf::from(home));
    }
    env::var_os("HOME").filter(|h| !h.is_empty()).map(|h| PathBuf::from(h).join(".cargo"))
}

/// The timestamp recorded in archives and ISOs: `$SOURCE_DATE_EPOCH`, else the time of the last
/// git commit, else 0.
pub fn source_date_epoch(root: &Path) -> Result<u64> {
    if let Some(value) = env::var_os("SOURCE_DATE_EPOCH").filter(|v| !v.is_empty()) {
        let text = value.to_string_lossy();
        return match text.trim().parse::<u64>() {
            Ok(epoch) => Ok(epoch),
            Err(_) => bail!("SOURCE_DATE_EPOCH={text:?} is not a number of seconds"),
        };
    }
    let output = Command::new("git")
        .args(["log", "-1", "--format=%ct"])
        .current_dir(root)
        .stderr(std::process::Stdio::null())
        .output();
    if let Ok(output) = output
        && output.status.success()
        && let Ok(epoch) = String::from_utf8_lossy(&output.stdout).trim().parse::<u64>()
    {
        return Ok(epoch);
    }
    Ok(0)
}

/// Finds an executable by name on `PATH`.
pub fn find_on_path(name: &str) -> Option<PathBuf> {
    let path = env::var_os("PATH")?;
    env::split_paths(&path).map(|dir| dir.join(name)).find(|candidate| is_executable(candidate))
}

/// Whether `path` is a regular file with an execute bit.
pub fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    path.metadata().map(|m| m.is_file() && m.permissions().mode() & 0o111 != 0).unwrap_or(false)
}

/// Reads a file, naming it in the error.
pub fn read(path: &Path) -> Result<Vec<u8>> {
    std::fs::read(path).with_context(|| format!("reading {}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strips_flag_and_override_vars() {
        for key in [
            "RUSTFLAGS",
            "CARGO_ENCODED_RUSTFLAGS",
            "CARGO_TARGET_X86_64_UNKNOWN_LINUX_GNU_RUSTFLAGS",
            "CARGO_PROFILE_RELEASE_OPT_LEVEL",
            "CARGO_PKG_NAME",
            "CARGO_TARGET_DIR",
        ] {
            assert!(is_stripped_var(key), "{key}");
        }
        for key in ["CARGO", "CARGO_HOME", "RUSTUP_TOOLCHAIN", "PATH", "CARGO_TARGET_X86_64_UNKNOWN_LINUX_GNU_LINKER"] {
            assert!(!is_stripped_var(key), "{key}");
        }
    }
}
