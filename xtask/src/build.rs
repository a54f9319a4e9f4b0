//! `cargo xtask build`: the kernel and the user programs, and the archives booted with them.
//!
//! Two cargo invocations, each for the explicit target `x86_64-unknown-linux-gnu` with its own
//! flags (passed through the environment, never `.cargo/config.toml`) and its own target
//! directory, so neither rebuilds the other and host builds (xtask, build scripts, proc macros,
//! tests, clippy) stay untouched. Then fixed outputs in `target/perihelion/`: `kernel.elf`,
//! `initramfs.tar`, `vulcan.tar`, `bench.tar`, `fixtures/exit3.tar`, `fixtures/fault.tar`,
//! `fixtures/drop-boot-vspace.tar`, `fixtures/threads.tar`, `fixtures/console-release.tar`.
//!
//! Manifests are checked on the way ([`crate::manifest`]): every `drivers/*/manifest.ini` and
//! `servers/*/manifest.ini` and Mercury's boot configuration (`mercury/boot.ini`) before
//! anything is compiled, and after the user programs are, the `.manifest` section of every
//! driver and server (and of `fixture-manifest`, which carries one to prove the mechanism before
//! the first driver exists).

use std::ffi::OsString;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use anyhow::{Context, Result, bail};

use crate::archive::{self, Member};
use crate::manifest;
use crate::workspace::{self, TARGET, Workspace};

/// Code generation flags for the kernel (design §2).
const KERNEL_FLAGS: &[&str] =
    &["-Crelocation-model=static", "-Ccode-model=kernel", "-Cno-redzone=yes", "-Cforce-frame-pointers=yes"];

/// Code generation flags for user programs (design §2).
const USER_FLAGS: &[&str] = &["-Crelocation-model=static", "-Cforce-frame-pointers=yes"];

/// How much of cargo's output the user sees.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Output {
    /// Cargo writes to the terminal as it goes.
    Show,
    /// Cargo's output is kept and shown only if it fails.
    OnFailure,
}

/// Builds everything and writes the outputs in `target/perihelion/`.
pub fn build(ws: &Workspace, output: Output) -> Result<()> {
    for source in manifest::program_manifests(&ws.root)? {
        manifest::validate_source(&source)?;
    }
    for source in manifest::bin_programs(&ws.root)?.into_iter().filter_map(|p| p.manifest) {
        manifest::validate_source(&source)?;
    }
    manifest::validate_boot_config(&ws.root.join(BOOT_CONFIG))?;
    manifest::validate_boot_config(&ws.root.join(SYSTEM_BOOT_CONFIG))?;
    let remaps = remap_flags(ws);

    let mut kernel = cargo_target_build(ws, "kernel", KERNEL_FLAGS, &remaps);
    kernel.args(["-p", "kernel", "--bin", "kernel"]);
    run(kernel, output).context("building the kernel")?;

    let mut user = cargo_target_build(ws, "user", USER_FLAGS, &remaps);
    user.args(["-p", "vulcan", "-p", "mercury", "-p", "programs"]);
    // Every driver and server crate (`drivers/<name>/`, `servers/<name>/`, package `<name>`) is
    // a user program too.
    for program in manifest::program_crates(&ws.root)? {
        user.args(["-p", &program.name]);
    }
    run(user, output).context("building the user programs")?;

    let kernel_dir = release_dir(ws, "kernel");
    let user_dir = release_dir(ws, "user");
    check_programs(ws, &user_dir)?;
    let out = ws.out_dir();
    fs::create_dir_all(&out).with_context(|| format!("creating {}", out.display()))?;
    let kernel_bytes = workspace::read(&kernel_dir.join("kernel"))?;
    archive::write_atomically(&ws.kernel_elf(), &kernel_bytes)?;

    let mtime = ws.source_date_epoch()?;
    // The system: Mercury as `init`, its boot configuration, and every driver and server as
    // `drivers/<name>` and `servers/<name>`.
    let mut system = vec![
        Member { name: "init".to_string(), data: workspace::read(&user_dir.join("mercury"))? },
        Member { name: "boot.ini".to_string(), data: workspace::read(&ws.root.join(BOOT_CONFIG))? },
    ];
    for program in manifest::program_crates(&ws.root)? {
        system.push(Member { name: program.member, data: workspace::read(&user_dir.join(&program.name))? });
    }
    for program in manifest::bin_programs(&ws.root)? {
        let data = workspace::read(&user_dir.join(&program.name))?;
        system.push(Member { name: format!("bin/{}", program.name), data });
    }
    // The system test: the same, with its own boot configuration and the programs it names.
    let mut test = system.clone();
    test[1].data = workspace::read(&ws.root.join(SYSTEM_BOOT_CONFIG))?;
    for program in ["system-client", "system-child", "system-com2", "system-crasher", "system-greedy", "system-flaky"] {
        test.push(Member { name: format!("bin/{program}"), data: workspace::read(&user_dir.join(program))? });
    }
    test.push(Member { name: "bin/system-broken".to_string(), data: b"not an ELF file\n".to_vec() });
    archive::write_atomically(&ws.fixture_tar("system"), &archive::ustar(test, mtime)?)?;
    archive::write_atomically(&ws.initramfs_tar(), &archive::ustar(system, mtime)?)?;

    let initramfs: [(PathBuf, &str); 7] = [
        (ws.vulcan_tar(), "vulcan"),
        (ws.bench_tar(), "bench"),
        (ws.fixture_tar("exit3"), "fixture-exit3"),
        (ws.fixture_tar("fault"), "fixture-fault"),
        (ws.fixture_tar("drop-boot-vspace"), "fixture-drop-boot-vspace"),
        (ws.fixture_tar("threads"), "fixture-threads"),
        (ws.fixture_tar("console-release"), "fixture-console-release"),
    ];
    for (tar_path, program) in initramfs {
        let init = Member { name: "init".to_string(), data: workspace::read(&user_dir.join(program))? };
        let bytes = archive::ustar(vec![init], mtime)?;
        archive::write_atomically(&tar_path, &bytes)?;
    }

    // Malformed boot images: the kernel must refuse each with one clear message (exit 0x12).
    let vulcan = workspace::read(&ws.vulcan_tar())?;
    let mut truncated = vulcan[..vulcan.len() / 2].to_vec();
    truncated.truncate(truncated.len() / 512 * 512);
    let not_elf = vec![Member { name: "init".to_string(), data: b"#!/bin/sh\necho not an ELF file\n".to_vec() }];
    let mut bad_segment = workspace::read(&user_dir.join("fixture-exit3"))?;
    corrupt_first_load_segment(&mut bad_segment)?;
    let no_init = vec![Member { name: "hello".to_string(), data: b"hello".to_vec() }];
    let bad: [(&str, Vec<u8>); 4] = [
        ("bad-tar", truncated),
        ("bad-elf", archive::ustar(not_elf, mtime)?),
        ("bad-segment", archive::ustar(vec![Member { name: "init".to_string(), data: bad_segment }], mtime)?),
        ("no-init", archive::ustar(no_init, mtime)?),
    ];
    for (name, bytes) in bad {
        archive::write_atomically(&ws.fixture_tar(name), &bytes)?;
    }
    Ok(())
}

/// Mercury's boot configuration, checked by every build.
const BOOT_CONFIG: &str = "mercury/boot.ini";

/// The user programs every build makes, besides the drivers.
const USER_PROGRAMS: [&str; 15] = [
    "mercury",
    "vulcan",
    "bench",
    "fixture-exit3",
    "fixture-fault",
    "fixture-drop-boot-vspace",
    "fixture-threads",
    "fixture-console-release",
    "fixture-manifest",
    "system-client",
    "system-child",
    "system-com2",
    "system-crasher",
    "system-greedy",
    "system-flaky",
];

/// The programs besides the drivers, the servers and the programs of `/bin` that carry a
/// manifest, and their manifests' sources.
const MANIFEST_PROGRAMS: [(&str, &str); 6] = [
    ("fixture-manifest", "vulcan/src/bin/fixture-manifest.ini"),
    ("system-client", "vulcan/src/bin/system-client.ini"),
    ("system-com2", "vulcan/src/bin/system-com2.ini"),
    ("system-crasher", "vulcan/src/bin/system-crasher.ini"),
    ("system-greedy", "vulcan/src/bin/system-greedy.ini"),
    ("system-flaky", "vulcan/src/bin/system-flaky.ini"),
];

/// The system test's boot configuration.
const SYSTEM_BOOT_CONFIG: &str = "vulcan/system/boot.ini";

/// Checks the built user programs with Mercury's ELF front end: each one it will load
/// (`xmas-elf` reading, `elfload` checking) and, for every driver, server and the manifest
/// fixture, its `.manifest` section holding its manifest source byte for byte.
fn check_programs(ws: &Workspace, user_dir: &Path) -> Result<()> {
    let bins = manifest::bin_programs(&ws.root)?;
    for program in USER_PROGRAMS.iter().copied().chain(bins.iter().map(|p| p.name.as_str())) {
        let elf = user_dir.join(program);
        manifest::check_loadable(&elf, &workspace::read(&elf)?)?;
    }
    let mut programs: Vec<(String, PathBuf)> =
        manifest::program_crates(&ws.root)?.into_iter().map(|p| (p.name, p.manifest)).collect();
    programs.extend(bins.into_iter().filter_map(|p| Some((p.name, p.manifest?))));
    programs.extend(MANIFEST_PROGRAMS.iter().map(|(p, ini)| (p.to_string(), ws.root.join(ini))));
    for (program, source) in programs {
        let elf = user_dir.join(&program);
        let bytes = workspace::read(&elf)?;
        manifest::check_loadable(&elf, &bytes)?;
        manifest::check_embedded(&elf, &bytes, &source)?;
    }
    Ok(())
}

/// Moves the first `PT_LOAD` segment of an ELF image into the kernel half of the address space.
fn corrupt_first_load_segment(elf: &mut [u8]) -> Result<()> {
    let read = |b: &[u8], at: usize, n: usize| -> Result<u64> {
        let bytes = b.get(at..at + n).context("ELF image too short")?;
        Ok(bytes.iter().rev().fold(0u64, |acc, &x| (acc << 8) | u64::from(x)))
    };
    let phoff = read(elf, 32, 8)? as usize;
    let phnum = read(elf, 56, 2)? as usize;
    for i in 0..phnum {
        let ph = phoff + i * 56;
        if read(elf, ph, 4)? == 1 {
            elf[ph + 16..ph + 24].copy_from_slice(&0xffff_ffff_8000_0000u64.to_le_bytes());
            return Ok(());
        }
    }
    anyhow::bail!("no PT_LOAD segment to corrupt")
}

/// `target/<family>/x86_64-unknown-linux-gnu/release`.
/// Builds the benchmark program alone with the build-time variables `counts` (`cargo xtask bench
/// --trace`), in its own target directory (`target/trace`), and returns the program's path. The
/// outputs of [`build`] stay as they are.
pub fn trace_bench(ws: &Workspace, counts: &[(&str, &str)]) -> Result<PathBuf> {
    let mut cmd = cargo_target_build(ws, "trace", USER_FLAGS, &remap_flags(ws));
    cmd.args(["-p", "vulcan", "--bin", "bench"]);
    for (var, value) in counts {
        cmd.env(var, value);
    }
    run(cmd, Output::OnFailure).context("building the benchmarks for a trace")?;
    Ok(release_dir(ws, "trace").join("bench"))
}

fn release_dir(ws: &Workspace, family: &str) -> PathBuf {
    ws.root.join("target").join(family).join(TARGET).join("release")
}

/// `cargo build --release --target x86_64-unknown-linux-gnu --target-dir target/<family>`, with
/// `flags` and the path remappings as the target's rustflags.
fn cargo_target_build(ws: &Workspace, family: &str, flags: &[&str], remaps: &[String]) -> Command {
    let mut cmd = ws.cargo();
    cmd.args(["build", "--release", "--target", TARGET, "--target-dir"]);
    cmd.arg(Path::new("target").join(family));
    // CARGO_ENCODED_RUSTFLAGS is RUSTFLAGS with 0x1f between flags, so a path holding a space
    // stays one flag. With an explicit --target, neither reaches build scripts or proc macros.
    let mut encoded = OsString::new();
    for (i, flag) in flags.iter().copied().chain(remaps.iter().map(String::as_str)).enumerate() {
        if i > 0 {
            encoded.push("\x1f");
        }
        encoded.push(flag);
    }
    cmd.env("CARGO_ENCODED_RUSTFLAGS", encoded);
    cmd
}

/// What the workspace's path becomes in binaries.
pub const REMAPPED_ROOT: &str = "/perihelion";

/// What cargo's home's path becomes in binaries.
pub const REMAPPED_CARGO_HOME: &str = "/cargo";

/// `--remap-path-prefix` flags so that no absolute path of this machine reaches a binary: the
/// workspace becomes [`REMAPPED_ROOT`], cargo's home (registry sources) [`REMAPPED_CARGO_HOME`].
/// Rustc applies the last matching rule first, so the more specific cargo home comes second.
fn remap_flags(ws: &Workspace) -> Vec<String> {
    let mut flags = vec![format!("--remap-path-prefix={}={REMAPPED_ROOT}", ws.root.display())];
    if let Some(home) = workspace::cargo_home() {
        flags.push(format!("--remap-path-prefix={}={REMAPPED_CARGO_HOME}", home.display()));
    }
    flags
}

/// Runs a command to completion; with [`Output::OnFailure`] its output is captured and becomes
/// part of the error.
pub fn run(mut cmd: Command, output: Output) -> Result<()> {
    let program = cmd.get_program().to_string_lossy().into_owned();
    match output {
        Output::Show => {
            let status = cmd.status().with_context(|| format!("starting {program}"))?;
            if !status.success() {
                bail!("{program} failed ({status})");
            }
        }
        Output::OnFailure => {
            let result = cmd.stdin(Stdio::null()).output().with_context(|| format!("starting {program}"))?;
            if !result.status.success() {
                bail!(
                    "{program} failed ({}):\n{}{}",
                    result.status,
                    String::from_utf8_lossy(&result.stdout),
                    String::from_utf8_lossy(&result.stderr)
                );
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kernel_command_line() {
        let ws = Workspace { root: PathBuf::from("/src/peri helion"), source_date: None };
        let cmd = cargo_target_build(&ws, "kernel", KERNEL_FLAGS, &remap_flags(&ws));
        let args: Vec<_> = cmd.get_args().map(|a| a.to_string_lossy()).collect();
        assert_eq!(args, ["build", "--release", "--target", TARGET, "--target-dir", "target/kernel"]);
        let flags = cmd
            .get_envs()
            .find(|(k, _)| *k == "CARGO_ENCODED_RUSTFLAGS")
            .and_then(|(_, v)| v)
            .unwrap()
            .to_string_lossy()
            .into_owned();
        let flags: Vec<&str> = flags.split('\x1f').collect();
        assert_eq!(&flags[..4], KERNEL_FLAGS);
        assert_eq!(flags[4], "--remap-path-prefix=/src/peri helion=/perihelion");
    }
}
