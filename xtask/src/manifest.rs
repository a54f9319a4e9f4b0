//! Driver manifests on the host: `cargo xtask manifest check FILE...`, the checks
//! `cargo xtask build` runs on every `drivers/*/manifest.ini` and `servers/*/manifest.ini`, on
//! Mercury's boot configuration and on the `.manifest` section of every built driver and server,
//! and configparser's reading of the same text.
//!
//! Mercury's own parser (`mercury/loader`, compiled here for the host) decides what is accepted;
//! configparser (the parser the `ini` crate's macros wrap, called directly with `=` as the only
//! delimiter and case-sensitive keys, as design §6 asks) must read every manifest the build
//! accepts to the same sections, keys and values. The host tests hold the two parsers to that
//! on the shipped manifests and on generated ones.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use configparser::ini::{Ini, IniDefault};
use loader::bootconf::BootConfig;
use loader::manifest::Manifest;

/// An INI file read: section -> key -> value (`None`: a key without `=`, which configparser
/// allows).
pub type IniMap = BTreeMap<String, BTreeMap<String, Option<String>>>;

/// `cargo xtask manifest check FILE...`: Mercury's parser on each file; one `FILE:LINE: reason`
/// line per refusal, or `FILE: ok`. Returns the exit status: 1 if any file was refused.
pub fn check_command(files: &[PathBuf]) -> i32 {
    let mut refused = false;
    for file in files {
        let report = match fs::read(file) {
            Ok(bytes) => check_report(&file.display().to_string(), &bytes),
            Err(e) => Err(format!("{}: cannot read: {e}", file.display())),
        };
        match report {
            Ok(line) => println!("{line}"),
            Err(lines) => {
                refused = true;
                println!("{lines}");
            }
        }
    }
    i32::from(refused)
}

/// `Ok("NAME: ok")`, or the refusals of manifest `bytes` as `NAME:LINE: reason` lines.
pub fn check_report(name: &str, bytes: &[u8]) -> Result<String, String> {
    match Manifest::parse(bytes) {
        Ok(_) => Ok(format!("{name}: ok")),
        Err(refusals) => {
            let mut out = String::new();
            for (i, r) in refusals.iter().enumerate() {
                if i > 0 {
                    out.push('\n');
                }
                let _ = write!(out, "{name}:{}: {}", r.line, r.reason);
            }
            Err(out)
        }
    }
}

/// configparser's reading of `text`: `=` the only delimiter, case-sensitive, its default
/// comments (`;` and `#`, inline too), no multi-line values.
pub fn configparser_map(text: &str) -> Result<IniMap, String> {
    let mut defaults = IniDefault::default();
    defaults.delimiters = vec!['='];
    defaults.case_sensitive = true;
    defaults.multiline = false;
    let mut ini = Ini::new_from_defaults(defaults);
    let map = ini.read(text.to_string())?;
    Ok(map.into_iter().map(|(section, keys)| (section, keys.into_iter().collect())).collect())
}

/// Mercury's INI reader's reading of `text`, folded as configparser folds it (a repeated
/// section merges, a repeated key keeps its last value), or the first malformed line.
pub fn loader_map(text: &str) -> Result<IniMap, u32> {
    let mut map = IniMap::new();
    for line in loader::ini::lines(text) {
        let line = line.map_err(|r| r.line)?;
        match line.item {
            loader::ini::Item::Section(s) => {
                map.entry(s.to_string()).or_default();
            }
            loader::ini::Item::Entry { key, value } => {
                let section = line.section.unwrap_or_default().to_string();
                map.entry(section).or_default().insert(key.to_string(), Some(value.to_string()));
            }
        }
    }
    Ok(map)
}

/// What the build checks of one manifest source: Mercury's parser accepts it, and configparser
/// reads it the same.
pub fn validate_source(path: &Path) -> Result<()> {
    let bytes = fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    if let Err(lines) = check_report(&path.display().to_string(), &bytes) {
        bail!("manifest refused:\n{lines}");
    }
    // Accepted: UTF-8.
    let text = String::from_utf8_lossy(&bytes);
    let ours = loader_map(&text).map_err(|line| anyhow::anyhow!("{}:{line}: malformed", path.display()))?;
    let theirs = configparser_map(&text).map_err(|e| anyhow::anyhow!("{}: configparser: {e}", path.display()))?;
    if ours != theirs {
        bail!(
            "{}: Mercury's parser and configparser read it differently:\n  Mercury: {ours:?}\n  configparser: {theirs:?}",
            path.display()
        );
    }
    Ok(())
}

/// A program of `/bin`: a binary of the `programs` package.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BinProgram {
    /// Its name: the `[[bin]]` target's, the file `programs/src/bin/NAME.rs`, `/bin/NAME`.
    pub name: String,
    /// Its manifest, `programs/src/bin/NAME.ini`, if it has one.
    pub manifest: Option<PathBuf>,
}

/// The programs of `/bin`: every `[[bin]]` target of `programs/Cargo.toml`, in its order, each
/// with `programs/src/bin/NAME.ini` as its manifest if that file exists. A source file in
/// `programs/src/bin/` that no target names is an error saying how to add one (so a new program
/// is never left out silently), as is a target whose source is missing.
pub fn bin_programs(root: &Path) -> Result<Vec<BinProgram>> {
    let dir = root.join("programs");
    let toml_path = dir.join("Cargo.toml");
    let toml = fs::read_to_string(&toml_path).with_context(|| format!("reading {}", toml_path.display()))?;
    let names = bin_target_names(&toml);
    let bin_dir = dir.join("src/bin");
    let mut programs = Vec::new();
    for name in &names {
        if !bin_dir.join(format!("{name}.rs")).is_file() {
            bail!("{}: the [[bin]] `{name}` has no programs/src/bin/{name}.rs", toml_path.display());
        }
        let ini = bin_dir.join(format!("{name}.ini"));
        programs.push(BinProgram { name: name.clone(), manifest: ini.is_file().then_some(ini) });
    }
    for entry in fs::read_dir(&bin_dir).with_context(|| format!("reading {}", bin_dir.display()))? {
        let path = entry?.path();
        if path.extension().is_some_and(|e| e == "rs")
            && let Some(stem) = path.file_stem().map(|s| s.to_string_lossy().into_owned())
            && !names.contains(&stem)
        {
            bail!(
                "{}: not a program yet: add to {}\n\n[[bin]]\nname = \"{stem}\"\npath = \"src/bin/{stem}.rs\"\ntest = false\nbench = false",
                path.display(),
                toml_path.display()
            );
        }
    }
    Ok(programs)
}

/// The `name`s of the `[[bin]]` tables of a Cargo manifest, in order (the first `name = "..."`
/// line of each; the `programs` package writes them so).
fn bin_target_names(toml: &str) -> Vec<String> {
    let mut names = Vec::new();
    let mut in_bin = false;
    for line in toml.lines().map(str::trim) {
        if line.starts_with('[') {
            in_bin = line == "[[bin]]";
            continue;
        }
        if in_bin
            && let Some((key, value)) = line.split_once('=')
            && key.trim() == "name"
        {
            names.push(value.trim().trim_matches('"').to_string());
            in_bin = false;
        }
    }
    names
}

/// The directories whose crates are programs with a manifest: one crate per directory below
/// each, and each built program goes in the initramfs as `DIR/<name>`.
pub const PROGRAM_DIRS: [&str; 2] = ["drivers", "servers"];

/// The manifest sources of the drivers and servers: `drivers/*/manifest.ini` and
/// `servers/*/manifest.ini`, sorted.
pub fn program_manifests(root: &Path) -> Result<Vec<PathBuf>> {
    let mut found = Vec::new();
    for dir in PROGRAM_DIRS {
        let dir = root.join(dir);
        if !dir.is_dir() {
            continue;
        }
        for entry in fs::read_dir(&dir).with_context(|| format!("reading {}", dir.display()))? {
            let manifest = entry?.path().join("manifest.ini");
            if manifest.is_file() {
                found.push(manifest);
            }
        }
    }
    found.sort();
    Ok(found)
}

/// A driver or server with a crate (`drivers/<name>/Cargo.toml`, `servers/<name>/Cargo.toml`,
/// package `<name>`) and a manifest: a program whose built ELF must carry it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProgramCrate {
    /// Its package, and the name of its binary.
    pub name: String,
    /// Its initramfs member: `drivers/<name>` or `servers/<name>`.
    pub member: String,
    /// Its manifest's source.
    pub manifest: PathBuf,
}

/// The drivers and servers with a crate, sorted by member name.
pub fn program_crates(root: &Path) -> Result<Vec<ProgramCrate>> {
    let mut crates = Vec::new();
    for manifest in program_manifests(root)? {
        let dir = manifest.parent().context("a manifest has a directory")?;
        if dir.join("Cargo.toml").is_file() {
            let name = dir.file_name().context("a program directory has a name")?.to_string_lossy().into_owned();
            let family = dir.parent().and_then(Path::file_name).context("a program directory has a parent")?;
            let member = format!("{}/{name}", family.to_string_lossy());
            crates.push(ProgramCrate { name, member, manifest });
        }
    }
    Ok(crates)
}

/// Checks the boot configuration at `path` with Mercury's parser.
pub fn validate_boot_config(path: &Path) -> Result<()> {
    let bytes = fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    if let Err(refusals) = BootConfig::parse(&bytes) {
        let lines: Vec<String> =
            refusals.iter().map(|r| format!("{}:{}: {}", path.display(), r.line, r.reason)).collect();
        bail!("boot configuration refused:\n{}", lines.join("\n"));
    }
    Ok(())
}

/// Checks that the built program `elf` carries `source` (its manifest's text) as its `.manifest`
/// section, found through its section headers by Mercury's ELF front end.
pub fn check_embedded(elf_path: &Path, elf: &[u8], source: &Path) -> Result<()> {
    let expected = fs::read(source).with_context(|| format!("reading {}", source.display()))?;
    // The ELF reader reads headers in place, 8-byte aligned (as an initramfs member always is).
    let (buf, at) = aligned_copy(elf);
    let image = &buf[at..at + elf.len()];
    let found = loader::elf::manifest_section(image)
        .map_err(|e| anyhow::anyhow!("{}: {e}", elf_path.display()))?
        .with_context(|| format!("{} has no .manifest section", elf_path.display()))?;
    if found != expected.as_slice() {
        bail!("{}: its .manifest section is not {}", elf_path.display(), source.display());
    }
    Ok(())
}

/// Checks that Mercury's ELF front end would load the built program `elf`.
pub fn check_loadable(elf_path: &Path, elf: &[u8]) -> Result<()> {
    let (buf, at) = aligned_copy(elf);
    loader::elf::Image::parse(&buf[at..at + elf.len()]).map_err(|e| anyhow::anyhow!("{}: {e}", elf_path.display()))?;
    Ok(())
}

/// `bytes` copied to an 8-byte aligned offset of a fresh buffer: (buffer, offset).
fn aligned_copy(bytes: &[u8]) -> (Vec<u8>, usize) {
    let mut buf = vec![0u8; bytes.len() + 8];
    let at = buf.as_ptr().align_offset(8);
    buf[at..at + bytes.len()].copy_from_slice(bytes);
    (buf, at)
}

#[cfg(test)]
mod tests;
