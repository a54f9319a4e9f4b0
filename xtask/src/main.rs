//! `cargo xtask`: builds, boots and tests Perihelion.
//!
//! The command line lives here; each command's work lives in its own module: [`build`] (cargo
//! and the initramfs archives, through [`archive`]), [`iso`] (Limine ISOs, with [`limine`]
//! finding Limine), [`qemu`] (QEMU command lines, time limits, exit statuses) and [`test`] (the
//! whole test run and its counting, with [`flake`], [`msrv`], [`miri`], [`docs`] and [`repro`]
//! for the flake parse check, the MSRV toolchain, Miri, the documentation checks and the
//! reproducibility check, and [`inventory`] and [`markers`] for
//! what every Vulcan boot must show: each test in `vulcan/inventory.txt` once, each debug-write
//! marker whole), [`bench`] (the benchmark boot and `bench.json`) and [`manifest`] (driver
//! manifests: `manifest check`, and the build's checks of manifests and boot configuration). [`workspace`] knows the
//! paths and how to call cargo.

mod archive;
mod bench;
mod build;
mod docs;
mod flake;
mod inventory;
mod iso;
mod limine;
mod manifest;
mod markers;
mod miri;
mod msrv;
mod picture;
mod qemu;
mod repro;
mod screen;
mod test;
mod trace;
mod workspace;

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Result, bail};
use clap::{Args, Parser, Subcommand};

use crate::build::Output;
use crate::limine::Lookup;
use crate::qemu::{Boot, Machine};
use crate::workspace::Workspace;

/// Build, boot and test Perihelion.
#[derive(Parser)]
#[command(name = "cargo xtask", bin_name = "cargo xtask")]
struct Cli {
    #[command(subcommand)]
    command: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Build the kernel, the user programs and their initramfs archives into target/perihelion/.
    Build,
    /// Build, then make perihelion.iso and vulcan.iso with Limine (found through LIMINE_DIR).
    Iso,
    /// Build, then boot the system in QEMU with its serial port on this terminal.
    Run(RunArgs),
    /// Run every check: host tests, rustfmt, clippy, the doc checks, the build, and the QEMU boots.
    Test(TestArgs),
    /// Build, boot the microbenchmarks (bench.tar), print their figures and write
    /// target/perihelion/bench.json: under KVM if a probe boot shows it works, else under TCG
    /// with `-icount shift=0,sleep=off`.
    Bench(BenchArgs),
    /// Driver manifests.
    Manifest {
        #[command(subcommand)]
        command: ManifestCmd,
    },
}

#[derive(Subcommand)]
enum ManifestCmd {
    /// Check manifest files with Mercury's own parser: print `FILE:LINE: reason` for each
    /// refusal, or `FILE: ok`; exit 1 if any file is refused.
    Check {
        /// The manifest files.
        #[arg(required = true, value_name = "FILE")]
        files: Vec<PathBuf>,
    },
}

#[derive(Args)]
struct RunArgs {
    /// Boot perihelion.iso through Limine and SeaBIOS instead of PVH.
    #[arg(long)]
    iso: bool,
    /// Boot the ISO under UEFI (OVMF from OVMF_FD or /usr/share/ovmf/OVMF.fd); implies --iso.
    #[arg(long)]
    uefi: bool,
    /// Use KVM with `-cpu host`, if a short probe boot shows it works here.
    #[arg(long)]
    kvm: bool,
    /// Wait for gdb on localhost:1234 (QEMU's `-s -S`).
    #[arg(long)]
    gdb: bool,
    /// Open QEMU's window: the screen, with the framebuffer terminal and the keyboard (the
    /// serial console stays on this terminal).
    #[arg(long)]
    display: bool,
    /// Boot the test suite (vulcan.tar / vulcan.iso) instead of the normal system.
    #[arg(long)]
    vulcan: bool,
    /// Boot the images in DIR, laid out as in target/perihelion/ (what `nix run` uses), instead
    /// of building them.
    #[arg(long, value_name = "DIR")]
    images: Option<PathBuf>,
    /// QEMU CPU model (`-cpu`), e.g. `max`.
    #[arg(long, value_name = "MODEL")]
    cpu: Option<String>,
    /// Number of CPUs (`-smp`).
    #[arg(long, value_name = "N")]
    smp: Option<u32>,
    /// Guest memory (`-m`).
    #[arg(short = 'm', long, value_name = "SIZE", default_value = "256M")]
    memory: String,
}

#[derive(Args)]
struct TestArgs {
    /// Time limit for each QEMU boot, in seconds.
    #[arg(long, value_name = "SECS", default_value_t = 120)]
    timeout: u64,
    /// Build and boot only: skip host tests, rustfmt, clippy, the doc checks, the flake parse check
    /// and the reproducibility check.
    #[arg(long)]
    quick: bool,
    /// Skip the ISOs: their boots and their reproducibility check.
    #[arg(long)]
    no_iso: bool,
    /// Run only these parts (comma-separated; `nix flake check` runs them apart).
    #[arg(long, value_name = "PARTS", value_delimiter = ',')]
    only: Vec<test::Part>,
    /// Also boot Vulcan with the syscall fuzzer on seed S (decimal or 0x hex), as CI does with a
    /// new seed each run: replays a seed a CI run printed.
    #[arg(long, value_name = "S", value_parser = test::parse_seed)]
    fuzz_seed: Option<u64>,
}

#[derive(Args)]
struct BenchArgs {
    /// Run under TCG with `-icount shift=0,sleep=off` even where KVM works.
    #[arg(long)]
    tcg: bool,
    /// Time limit for the benchmark boot, in seconds.
    #[arg(long, value_name = "SECS", default_value_t = 600)]
    timeout: u64,
    /// QEMU CPU model (`-cpu`): under KVM (probe and run) the default is `host`; under TCG,
    /// QEMU's default, and a `host` model is left out.
    #[arg(long, value_name = "MODEL")]
    cpu: Option<String>,
    /// Hold the figures against bench/baseline.json (always TCG with icount, QEMU's default CPU):
    /// fails when one grows by more than 2% or a batch form disagrees; says `skipped:` where the
    /// rustc, the QEMU release or the CPU model differ from the baseline's.
    #[arg(long, conflicts_with = "write_baseline")]
    check: bool,
    /// Write bench/baseline.json from this run (TCG with icount, QEMU's default CPU), with the
    /// rustc and QEMU versions and the CPU model.
    #[arg(long)]
    write_baseline: bool,
    /// Trace the benchmarks instruction by instruction (TCG, 16 iterations each) and print where
    /// each figure's instructions go: user code, entry, uapi, scheduler and objects, memset and
    /// memcpy, exit (`docs/performance.md`). Takes a few minutes.
    #[arg(long, conflicts_with_all = ["check", "write_baseline"])]
    trace: bool,
    /// With --trace: also list the functions of figure NAME in the order they ran.
    #[arg(long, value_name = "NAME", requires = "trace")]
    trace_figure: Option<String>,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let ws = Workspace::locate();
    let result = match cli.command {
        Cmd::Build => build::build(&ws, Output::Show).map(|()| {
            eprintln!("built {}", ws.out_dir().display());
            0
        }),
        Cmd::Iso => iso_command(&ws).map(|()| 0),
        Cmd::Run(args) => run_command(&ws, &args),
        Cmd::Test(args) => Ok(test::run(
            &ws,
            &test::Options {
                timeout: Duration::from_secs(args.timeout),
                quick: args.quick,
                no_iso: args.no_iso,
                only: args.only,
                fuzz_seed: args.fuzz_seed,
            },
        )),
        Cmd::Bench(args) if args.trace => trace::run(&ws, args.trace_figure.as_deref()),
        Cmd::Bench(args) => bench::run(
            &ws,
            &bench::Options {
                tcg: args.tcg,
                timeout: Duration::from_secs(args.timeout),
                cpu: args.cpu,
                check: args.check,
                write_baseline: args.write_baseline,
            },
        ),
        Cmd::Manifest { command: ManifestCmd::Check { files } } => Ok(manifest::check_command(&files)),
    };
    match result {
        Ok(code) => ExitCode::from(u8::try_from(code).unwrap_or(1)),
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::FAILURE
        }
    }
}

/// The Limine to build ISOs with, or the one-line error saying how to get it.
fn require_limine() -> Result<limine::Limine> {
    match limine::find() {
        Lookup::Found(limine) => Ok(limine),
        Lookup::Missing => bail!("Limine not found: {}", limine::HOW_TO),
        Lookup::Broken(why) => bail!("{why}; {}", limine::HOW_TO),
    }
}

fn iso_command(ws: &Workspace) -> Result<()> {
    let limine = require_limine()?;
    build::build(ws, Output::Show)?;
    iso::build_isos(ws, &limine)?;
    eprintln!("built {} and {}", ws.iso("perihelion").display(), ws.iso("vulcan").display());
    Ok(())
}

/// Where `run` finds an output: with `--images DIR`, at the same place in `DIR` as in
/// `target/perihelion/`.
fn from_images(ws: &Workspace, images: Option<&Path>, output: PathBuf) -> PathBuf {
    match images {
        Some(dir) => dir.join(output.strip_prefix(ws.out_dir()).unwrap_or(&output)),
        None => output,
    }
}

fn run_command(ws: &Workspace, args: &RunArgs) -> Result<i32> {
    let use_iso = args.iso || args.uefi;
    let output = |path: PathBuf| from_images(ws, args.images.as_deref(), path);
    let limine = if use_iso && args.images.is_none() { Some(require_limine()?) } else { None };
    let firmware = if args.uefi {
        match qemu::ovmf() {
            Some(firmware) => Some(firmware),
            None => bail!("OVMF not found: set OVMF_FD or apt-get install ovmf"),
        }
    } else {
        None
    };
    qemu::require_qemu()?;
    if args.images.is_none() {
        build::build(ws, Output::Show)?;
    }
    if let Some(limine) = &limine {
        iso::build_isos(ws, limine)?;
    }

    let boot = if use_iso {
        Boot::Cdrom { iso: output(ws.iso(if args.vulcan { "vulcan" } else { "perihelion" })), firmware }
    } else {
        let initrd = if args.vulcan { ws.vulcan_tar() } else { ws.initramfs_tar() };
        let cmdline = if args.vulcan { crate::qemu::vulcan_cmdline("pvh") } else { String::new() };
        Boot::Pvh { kernel: output(ws.kernel_elf()), initrd: output(initrd), cmdline }
    };
    let mut machine = Machine {
        kind: None,
        cpu: args.cpu.clone(),
        smp: args.smp,
        memory: Some(args.memory.clone()),
        kvm: false,
        gdb: args.gdb,
        com2: None,
        qmp: None,
        display: args.display,
        // The serial port is the user's terminal: Ctrl-C goes to the guest, Ctrl-A X quits.
        console: true,
    };
    if args.kvm {
        // The images of a Nix store path are read-only: the probe's log goes to a temporary file.
        let log = match &args.images {
            Some(_) => std::env::temp_dir().join(format!("perihelion-kvm-probe-{}.log", std::process::id())),
            None => ws.logs_dir().join("kvm-probe.log"),
        };
        let probe =
            qemu::kvm_probe(&output(ws.kernel_elf()), &output(ws.fixture_tar("exit3")), &log, args.cpu.as_deref());
        if args.images.is_some() {
            let _ = std::fs::remove_file(&log);
        }
        match probe {
            Ok(()) => {
                machine.kvm = true;
                machine.cpu.get_or_insert_with(|| "host".to_string());
            }
            Err(why) => eprintln!("kvm: not used, falling back to TCG ({why})"),
        }
    }
    let mut cmd = qemu::command(&boot, &machine);
    eprintln!("{}", qemu::display(&cmd));
    if args.gdb {
        eprintln!("waiting for gdb: target remote localhost:1234");
    }
    let status = cmd.status().map_err(|e| anyhow::anyhow!("starting QEMU: {e}"))?;
    Ok(qemu::run_exit_code(qemu::end_of(status)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn images_replace_the_output_directory() {
        let ws = Workspace { root: PathBuf::from("/src/perihelion"), source_date: None };
        let nix = Some(Path::new("/nix/store/abc-perihelion-images"));
        assert_eq!(from_images(&ws, nix, ws.iso("vulcan")), Path::new("/nix/store/abc-perihelion-images/vulcan.iso"));
        assert_eq!(
            from_images(&ws, nix, ws.fixture_tar("exit3")),
            Path::new("/nix/store/abc-perihelion-images/fixtures/exit3.tar")
        );
        assert_eq!(from_images(&ws, None, ws.kernel_elf()), ws.kernel_elf());
    }
}
