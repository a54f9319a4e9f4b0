//! Miri for `cargo xtask test`: the object library's host tests (capabilities and the derivation
//! tree, CSpaces, Memory accounting, I/O port objects, the run queues, the page allocator, the
//! kernel lock) run again under Miri, which checks every pointer access of the library's
//! `unsafe` against Rust's aliasing and provenance rules, and reports leaks.
//!
//! Miri needs the nightly toolchain with its `miri` and `rust-src` components: rustup installs
//! them (`--profile minimal`) if they are missing. Without rustup, or where rustup cannot install
//! them, the step is skipped and says why. It builds in its own target directory, `target/miri`.
//! Miri interprets every instruction, so the property tests run 4 cases each here
//! (`PROPTEST_CASES`) and the page allocator's property test runs shorter sequences under
//! `cfg(miri)`: the whole step takes about two and a half minutes on two cores, plus Miri's
//! one-time sysroot build.

use std::process::{Command, Stdio};

use crate::msrv::{find_rustup, has_toolchain, last_line};
use crate::workspace::Workspace;

/// Miri's target directory, under `target/`.
const TARGET_SUBDIR: &str = "miri";

/// The toolchain Miri runs on.
const TOOLCHAIN: &str = "nightly";

/// The tests that run under Miri: `cargo test` filters over the kernel library's test names.
pub const FILTERS: &[&str] = &["object::", "sched::", "sync::", "mem::frame::"];

/// Cases per property test under Miri.
const PROPTEST_CASES: &str = "4";

/// Miri's flags: the tests read the environment (proptest's settings), and the page allocator
/// reaches its pages through integer addresses, as the kernel's direct map does.
const MIRIFLAGS: &str = "-Zmiri-disable-isolation -Zmiri-permissive-provenance";

/// Where Miri can run.
pub struct Miri {
    rustup: std::path::PathBuf,
}

impl Miri {
    /// `cargo miri test -p kernel --lib -- FILTERS`, from the workspace root, in its own target
    /// directory.
    pub fn command(&self, ws: &Workspace) -> Command {
        let mut cmd = ws.command(&self.rustup);
        cmd.args(["run", TOOLCHAIN, "cargo", "miri", "test", "-p", "kernel", "--lib", "--"]).args(FILTERS);
        for var in ["RUSTC", "RUSTDOC", "RUSTUP_TOOLCHAIN", "RUSTFLAGS"] {
            cmd.env_remove(var);
        }
        cmd.env("CARGO_TARGET_DIR", ws.root.join("target").join(TARGET_SUBDIR));
        cmd.env("PROPTEST_CASES", PROPTEST_CASES);
        cmd.env("MIRIFLAGS", MIRIFLAGS);
        cmd
    }
}

/// Finds nightly with Miri, installing what is missing (one line says so): `Ok` to run, or
/// `Err` with why the step is skipped.
pub fn prepare() -> Result<Miri, String> {
    let rustup = find_rustup().ok_or("rustup not found")?;
    let listed = match Command::new(&rustup).args(["toolchain", "list"]).stdin(Stdio::null()).output() {
        Ok(output) if output.status.success() => String::from_utf8_lossy(&output.stdout).into_owned(),
        Ok(output) => return Err(format!("rustup toolchain list: {}", last_line(&output.stderr))),
        Err(err) => return Err(format!("cannot run {}: {err}", rustup.display())),
    };
    let has_miri = has_toolchain(&listed, TOOLCHAIN)
        && Command::new(&rustup)
            .args(["run", TOOLCHAIN, "cargo", "miri", "--version"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
    if !has_miri {
        let args = [
            "toolchain",
            "install",
            TOOLCHAIN,
            "--profile",
            "minimal",
            "--component",
            "miri,rust-src",
            "--no-self-update",
        ];
        println!("miri: not installed: rustup {}", args.join(" "));
        match Command::new(&rustup).args(args).stdin(Stdio::null()).output() {
            Ok(output) if output.status.success() => {}
            Ok(output) => return Err(format!("rustup cannot install Miri: {}", last_line(&output.stderr))),
            Err(err) => return Err(format!("cannot run {}: {err}", rustup.display())),
        }
    }
    Ok(Miri { rustup })
}
