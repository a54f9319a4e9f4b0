//! `cargo xtask`: builds, boots and tests Perihelion.
//!
//! The command line lives here; each command's work lives in its own module: [`build`] (cargo
//! and the initramfs archives, through [`archive`]), [`iso`] (Limine ISOs, with [`limine`]
//! finding Limine), [`qemu`] (QEMU command lines, time limits, exit statuses) and [`test`] (the
//! whole test run and its counting). [`workspace`] knows the paths and how to call cargo.

mod archive;
mod build;
mod iso;
mod limine;
mod qemu;
mod test;
mod workspace;

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
    /// Run every check: host tests, rustfmt, clippy, the build, and the QEMU boots.
    Test(TestArgs),
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
    /// Boot the test suite (vulcan.tar / vulcan.iso) instead of the normal system.
    #[arg(long)]
    vulcan: bool,
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
    /// Skip host tests, rustfmt and clippy: build and boot only.
    #[arg(long)]
    quick: bool,
    /// Skip the ISO boots.
    #[arg(long)]
    no_iso: bool,
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
            &test::Options { timeout: Duration::from_secs(args.timeout), quick: args.quick, no_iso: args.no_iso },
        )),
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

fn run_command(ws: &Workspace, args: &RunArgs) -> Result<i32> {
    let use_iso = args.iso || args.uefi;
    let limine = if use_iso { Some(require_limine()?) } else { None };
    let firmware = if args.uefi {
        match qemu::ovmf() {
            Some(firmware) => Some(firmware),
            None => bail!("OVMF not found: set OVMF_FD or apt-get install ovmf"),
        }
    } else {
        None
    };
    qemu::require_qemu()?;
    build::build(ws, Output::Show)?;
    if let Some(limine) = &limine {
        iso::build_isos(ws, limine)?;
    }

    let boot = if use_iso {
        Boot::Cdrom { iso: ws.iso(if args.vulcan { "vulcan" } else { "perihelion" }), firmware }
    } else {
        Boot::Pvh { kernel: ws.kernel_elf(), initrd: if args.vulcan { ws.vulcan_tar() } else { ws.initramfs_tar() } }
    };
    let mut machine =
        Machine { cpu: args.cpu.clone(), smp: args.smp, memory: Some(args.memory.clone()), kvm: false, gdb: args.gdb };
    if args.kvm {
        match qemu::kvm_probe(ws, args.cpu.as_deref()) {
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
