//! The flake check of `cargo xtask test`: `nix-instantiate --parse flake.nix`, where Nix is
//! installed (Debian's `nix-bin` has it). Nix cannot fetch nixpkgs on every machine, so this is
//! what can be checked everywhere: that the flake is well-formed Nix, with no unbound variable.
//! `nix flake check` does the rest where Nix has the network.

use std::path::Path;
use std::process::{Command, Stdio};

use crate::workspace::{self, Workspace};

/// The outcome of the parse check.
pub enum Parse {
    /// `nix-instantiate` is not on `PATH`.
    Unavailable,
    /// The flake parsed.
    Parsed,
    /// It did not, or could not be read; Nix's message.
    Failed(String),
}

/// Parses `flake.nix` with `nix-instantiate --parse`. Parsing needs no store, and without
/// `--store dummy://` Nix would open one: for a user who may not, that fails before the parse.
pub fn parse(ws: &Workspace) -> Parse {
    let Some(nix) = workspace::find_on_path("nix-instantiate") else {
        return Parse::Unavailable;
    };
    parse_with(&nix, &ws.root.join("flake.nix"))
}

fn parse_with(nix: &Path, flake: &Path) -> Parse {
    if !flake.is_file() {
        return Parse::Failed(format!("{} does not exist", flake.display()));
    }
    let output = Command::new(nix).args(["--store", "dummy://", "--parse"]).arg(flake).stdin(Stdio::null()).output();
    match output {
        Ok(output) if output.status.success() => Parse::Parsed,
        Ok(output) => Parse::Failed(String::from_utf8_lossy(&output.stderr).trim().to_string()),
        Err(err) => Parse::Failed(format!("cannot run {}: {err}", nix.display())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_flake_fails() {
        let outcome = parse_with(Path::new("nix-instantiate"), Path::new("/nonexistent/flake.nix"));
        assert!(matches!(outcome, Parse::Failed(why) if why.contains("does not exist")));
    }

    #[test]
    fn nix_instantiate_status_decides() {
        // Stand-ins for nix-instantiate (from PATH: the Nix build sandbox has no /bin/true);
        // the flake path only has to exist.
        let flake = Path::new(env!("CARGO_MANIFEST_DIR")).join("Cargo.toml");
        let (yes, no) = (workspace::find_on_path("true").unwrap(), workspace::find_on_path("false").unwrap());
        assert!(matches!(parse_with(&yes, &flake), Parse::Parsed));
        assert!(matches!(parse_with(&no, &flake), Parse::Failed(_)));
    }

    #[test]
    fn real_nix_finds_unbound_variables() {
        // Only where Nix is installed (not in CI, nor in the Nix build sandbox).
        let Some(nix) = workspace::find_on_path("nix-instantiate") else { return };
        let dir = std::env::temp_dir().join(format!("xtask-flake-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let (good, bad) = (dir.join("good.nix"), dir.join("bad.nix"));
        std::fs::write(&good, "{ outputs = { self }: { x = self; }; }").unwrap();
        std::fs::write(&bad, "{ outputs = { self }: { x = nixpkgs; }; }").unwrap();
        assert!(matches!(parse_with(&nix, &good), Parse::Parsed));
        assert!(matches!(parse_with(&nix, &bad), Parse::Failed(why) if why.contains("nixpkgs")));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
