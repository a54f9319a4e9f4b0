//! The documentation checks of `cargo xtask test`, for the user library `sys` and the ABI crate
//! (issue 10: every public item documented, each with an example of its use that is compiled,
//! and `cargo doc` without warnings).
//!
//! - [`BUILD`]: `cargo doc` of both crates with `RUSTDOCFLAGS="-D warnings"` (broken or redundant
//!   intra-doc links, bad HTML, unclosed code blocks), on the toolchain of the main build.
//! - [`Nightly::examples`]: for each crate in [`CRATES`], rustdoc's lint
//!   `missing_doc_code_examples`, denied: it fails on any public item (function, method, type,
//!   trait, macro) whose documentation has no code example. The lint is unstable, so this runs on
//!   the nightly toolchain, from rustup, installed (`--profile minimal`) if it is missing, in its
//!   own target directory, `target/nightly`; without rustup, or where rustup cannot install it,
//!   the step is skipped and says why.
//!
//! The examples themselves are doctests: the host tests compile every one (`no_run` for those
//! that make a system call) and run the others, with the MSRV toolchain too.

use std::path::PathBuf;
use std::process::{Command, Stdio};

use crate::msrv::{find_rustup, has_toolchain, last_line};
use crate::workspace::Workspace;

/// The crates whose documentation is checked, as cargo's `-p` names them.
pub const CRATES: &[&str] = &["sys", "perihelion-abi"];

/// `cargo doc` of [`CRATES`], without their dependencies; run with `RUSTDOCFLAGS="-D warnings"`.
pub const BUILD: &[&str] = &["doc", "-p", "sys", "-p", "perihelion-abi", "--no-deps"];

/// The toolchain the example lint runs on.
const TOOLCHAIN: &str = "nightly";

/// Its target directory, under `target/`.
const TARGET_SUBDIR: &str = "nightly";

/// The rustdoc arguments that deny the lint: `-Z crate-attr` turns on its feature gate in the
/// documented crate, so the crates' sources need no nightly-only attribute.
const LINT_ARGS: &[&str] = &[
    "-Z",
    "unstable-options",
    "-Zcrate-attr=feature(rustdoc_missing_doc_code_examples)",
    "-D",
    "rustdoc::missing-doc-code-examples",
];

/// What the lint says of each item without an example.
const MISSING: &str = "missing code example in this documentation";

/// Where the nightly toolchain can run.
pub struct Nightly {
    rustup: PathBuf,
}

impl Nightly {
    /// `cargo rustdoc -p CRATE --lib -- LINT_ARGS` on nightly, from the workspace root, in its
    /// own target directory.
    pub fn examples(&self, ws: &Workspace, krate: &str) -> Command {
        let mut cmd = ws.command(&self.rustup);
        cmd.args(["run", TOOLCHAIN, "cargo", "rustdoc", "-p", krate, "--lib", "--"]).args(LINT_ARGS);
        for var in ["RUSTC", "RUSTDOC", "RUSTUP_TOOLCHAIN"] {
            cmd.env_remove(var);
        }
        cmd.env("CARGO_TARGET_DIR", ws.root.join("target").join(TARGET_SUBDIR));
        cmd
    }
}

/// Finds nightly, installing it if it is missing (one line says so): `Ok` to run, or `Err` with
/// why the example lint is skipped.
pub fn prepare() -> Result<Nightly, String> {
    let rustup = find_rustup().ok_or("rustup not found")?;
    let listed = match Command::new(&rustup).args(["toolchain", "list"]).stdin(Stdio::null()).output() {
        Ok(output) if output.status.success() => String::from_utf8_lossy(&output.stdout).into_owned(),
        Ok(output) => return Err(format!("rustup toolchain list: {}", last_line(&output.stderr))),
        Err(err) => return Err(format!("cannot run {}: {err}", rustup.display())),
    };
    if !has_toolchain(&listed, TOOLCHAIN) {
        let args = ["toolchain", "install", TOOLCHAIN, "--profile", "minimal", "--no-self-update"];
        println!("docs: {TOOLCHAIN} is not installed: rustup {}", args.join(" "));
        match Command::new(&rustup).args(args).stdin(Stdio::null()).output() {
            Ok(output) if output.status.success() => {}
            Ok(output) => return Err(format!("rustup cannot install {TOOLCHAIN}: {}", last_line(&output.stderr))),
            Err(err) => return Err(format!("cannot run {}: {err}", rustup.display())),
        }
    }
    Ok(Nightly { rustup })
}

/// The items the lint reported in rustdoc's output, each as `FILE:LINE:COLUMN` (where its
/// documentation starts), in the order reported.
pub fn missing_examples(output: &str) -> Vec<String> {
    let mut found = Vec::new();
    let mut lines = output.lines();
    while let Some(line) = lines.next() {
        if !line.contains(MISSING) {
            continue;
        }
        // The location follows within a few lines: `  --> sys/src/cap.rs:45:1`.
        if let Some(at) = lines.by_ref().take(3).find_map(|l| l.trim_start().strip_prefix("--> ")) {
            found.push(at.trim().to_string());
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reported_items_are_found() {
        let output = "\
 Documenting sys v0.1.0 (/work/sys)
error: missing code example in this documentation
  --> sys/src/cap.rs:45:1
   |
45 | /// Where a call puts the capability it makes.
   | ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^
   |
   = note: requested on the command line with `-D rustdoc::missing-doc-code-examples`

error: missing code example in this documentation
   --> sys/src/task.rs:312:5
    |
312 |     /// Makes an inactive Task.
    |     ^^^^^^^^^^^^^^^^^^^^^^^^^^^

error: could not document `sys`
";
        assert_eq!(missing_examples(output), ["sys/src/cap.rs:45:1", "sys/src/task.rs:312:5"]);
        assert!(missing_examples("error: unresolved link to `Foo`\n  --> sys/src/lib.rs:3:5\n").is_empty());
        assert!(missing_examples("").is_empty());
    }

    #[test]
    fn the_crates_are_the_workspaces() {
        let root = Workspace::locate().root;
        for (manifest, name) in [("sys/Cargo.toml", "sys"), ("sys/abi/Cargo.toml", "perihelion-abi")] {
            let text = std::fs::read_to_string(root.join(manifest)).unwrap();
            assert!(text.lines().any(|l| l == format!("name = \"{name}\"")), "{manifest}");
            assert!(CRATES.contains(&name));
        }
    }

    #[test]
    fn the_lint_is_denied_for_both_crates() {
        assert!(LINT_ARGS.windows(2).any(|w| w == ["-D", "rustdoc::missing-doc-code-examples"]));
        assert_eq!(CRATES, ["sys", "perihelion-abi"]);
        assert!(CRATES.iter().all(|c| BUILD.windows(2).any(|w| w == ["-p", c])));
    }
}
