//! Finding Limine: its boot files and its `limine` tool.
//!
//! The boot files come from `$LIMINE_DIR` (Nix sets it to nixpkgs' Limine; by hand, a checkout
//! of Limine's `v8.x-binary` branch), else `/usr/share/limine` where distributions put them. The
//! tool is `$LIMINE_DIR/limine`, else `limine` on `PATH`. Limine 8.x (booted by the tests) and
//! 9.x to 12.x (by their documentation) fit: the configuration xtask writes (see [`crate::iso`])
//! carries the keys of each, and the kernel handles the base revision each loads it with
//! (`docs/nix.md` says how each version was checked).

use std::env;
use std::path::{Path, PathBuf};

use crate::workspace;

/// The files an ISO needs from Limine.
pub const BOOT_FILES: [&str; 4] = ["limine-bios.sys", "limine-bios-cd.bin", "limine-uefi-cd.bin", "BOOTX64.EFI"];

/// Where distributions install Limine's boot files.
const SYSTEM_DIR: &str = "/usr/share/limine";

/// The one line that tells a user how to get Limine.
pub const HOW_TO: &str = "set LIMINE_DIR to a directory holding limine-bios.sys, \
limine-bios-cd.bin, limine-uefi-cd.bin, BOOTX64.EFI and the `limine` tool \
(e.g. a clone of Limine's v8.x-binary branch, built with `make`)";

/// A usable Limine.
pub struct Limine {
    /// The directory holding [`BOOT_FILES`].
    pub dir: PathBuf,
    /// The `limine` host tool (`limine bios-install`).
    pub tool: PathBuf,
}

/// The outcome of looking for Limine.
pub enum Lookup {
    /// Everything is there.
    Found(Limine),
    /// No Limine anywhere: ISO steps are skipped (by `test`) or refused (by `iso`).
    Missing,
    /// A Limine was pointed at or installed but is incomplete: an error, never a skip.
    Broken(String),
}

/// Looks for Limine through `$LIMINE_DIR`, then `/usr/share/limine`.
pub fn find() -> Lookup {
    let explicit = env::var_os("LIMINE_DIR").filter(|d| !d.is_empty());
    let dir = match &explicit {
        Some(dir) => PathBuf::from(dir),
        None if Path::new(SYSTEM_DIR).is_dir() => PathBuf::from(SYSTEM_DIR),
        None => return Lookup::Missing,
    };
    let missing: Vec<&str> = BOOT_FILES.iter().copied().filter(|f| !dir.join(f).is_file()).collect();
    if !missing.is_empty() {
        let how = if explicit.is_some() { "LIMINE_DIR" } else { "the system's Limine" };
        return Lookup::Broken(format!("{how} ({}) lacks {}", dir.display(), missing.join(", ")));
    }
    let local_tool = dir.join("limine");
    let tool = if workspace::is_executable(&local_tool) {
        local_tool
    } else if let Some(tool) = workspace::find_on_path("limine") {
        tool
    } else {
        return Lookup::Broken(format!(
            "no `limine` tool in {} or on PATH (build it there with `make`)",
            dir.display()
        ));
    };
    Lookup::Found(Limine { dir, tool })
}
