//! What the build script of every package of user programs does: link its binaries static, with
//! no C runtime, laid out by `sys/user.ld` (design brief §2). `cargo:rustc-link-arg-bins` reaches
//! only the binaries of the package whose build script prints it, so each such package (Mercury,
//! Vulcan, the programs, every driver and server) has a `build.rs` that calls [`user_programs`],
//! with this crate as its build dependency. The flags themselves are the build's business
//! (xtask sets them); this is only the link.
//!
//! A driver's `build.rs` is then, besides its doc comment, `fn main() { user_link::user_programs(); }`:
//!
//! ```no_run
//! user_link::user_programs();
//! ```

use std::path::{Path, PathBuf};

/// The linker arguments every user program gets besides its script.
pub const LINK_ARGS: [&str; 5] = ["-nostartfiles", "-nostdlib", "-static", "-Wl,--gc-sections", "-Wl,--build-id=none"];

/// The linker script of user programs, `sys/user.ld`.
pub fn script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().map_or_else(|| PathBuf::from("user.ld"), |sys| sys.join("user.ld"))
}

/// Prints the `cargo:` lines that link the calling package's binaries as user programs, and
/// rebuild them when the script changes.
pub fn user_programs() {
    let script = script();
    println!("cargo:rerun-if-changed={}", script.display());
    println!("cargo:rerun-if-changed=build.rs");
    for arg in LINK_ARGS {
        println!("cargo:rustc-link-arg-bins={arg}");
    }
    println!("cargo:rustc-link-arg-bins=-Wl,-T,{}", script.display());
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_script_is_sys_user_ld() {
        let script = super::script();
        assert!(script.ends_with("sys/user.ld"), "{}", script.display());
        assert!(script.is_file(), "{} exists", script.display());
    }
}
