//! QEMU: building its command line, running it under a time limit with the serial output
//! captured, and reading its exit status.
//!
//! Every boot carries QEMU's `isa-debug-exit` device, through which the kernel ends the run: a
//! byte `v` written to port 0xf4 makes QEMU exit with `(v << 1) | 1` (see `abi::testexit`), so 33
//! means the root task exited 0.

use std::env;
use std::ffi::OsString;
use std::fs::File;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, anyhow, bail};
use wait_timeout::ChildExt;

use crate::workspace;

/// QEMU's status when the root task exited 0.
pub const STATUS_SUCCESS: i32 = abi::testexit::qemu_status(abi::testexit::SUCCESS);
/// QEMU's status when the root task exited with another status.
pub const STATUS_FAILURE: i32 = abi::testexit::qemu_status(abi::testexit::FAILURE);
/// QEMU's status on a kernel panic or a faulted root task.
pub const STATUS_PANIC: i32 = abi::testexit::qemu_status(abi::testexit::PANIC);

/// The QEMU binary's name.
const QEMU: &str = "qemu-system-x86_64";

/// Where Debian's `ovmf` package puts the firmware.
const SYSTEM_OVMF: &str = "/usr/share/ovmf/OVMF.fd";

/// How the machine boots.
pub enum Boot {
    /// QEMU's PVH loader: `-kernel` and `-initrd`.
    Pvh {
        /// The kernel ELF.
        kernel: PathBuf,
        /// The initramfs, the one module.
        initrd: PathBuf,
        /// The kernel command line (`-append`; none if empty).
        cmdline: String,
    },
    /// An ISO as a CD-ROM, through SeaBIOS or, with `firmware`, UEFI.
    Cdrom {
        /// The ISO image.
        iso: PathBuf,
        /// UEFI firmware (`-bios`), or `None` for QEMU's SeaBIOS.
        firmware: Option<PathBuf>,
    },
}

/// The kernel command line of a Vulcan boot by `protocol` (`pvh` or `limine`): it tells Vulcan
/// what xtask booted, so that the root-info tests check the real values.
pub fn vulcan_cmdline(protocol: &str) -> String {
    format!("vulcan.boot={protocol}")
}

/// Machine options beyond the boot.
#[derive(Default)]
pub struct Machine {
    /// `-M` (QEMU's default `pc` if `None`).
    pub kind: Option<String>,
    /// `-cpu`.
    pub cpu: Option<String>,
    /// `-smp`.
    pub smp: Option<u32>,
    /// `-m`.
    pub memory: Option<String>,
    /// `-enable-kvm`.
    pub kvm: bool,
    /// `-s -S`: wait for gdb on port 1234.
    pub gdb: bool,
}

/// The QEMU command for a boot, with serial on stdio, no display, no reboot and the exit device.
pub fn command(boot: &Boot, machine: &Machine) -> Command {
    let mut cmd = Command::new(qemu_program());
    match boot {
        Boot::Pvh { kernel, initrd, cmdline } => {
            cmd.arg("-kernel").arg(kernel).arg("-initrd").arg(initrd);
            if !cmdline.is_empty() {
                cmd.arg("-append").arg(cmdline);
            }
        }
        Boot::Cdrom { iso, firmware } => {
            if let Some(firmware) = firmware {
                cmd.arg("-bios").arg(firmware);
            }
            cmd.arg("-cdrom").arg(iso).args(["-boot", "d"]);
        }
    }
    if let Some(kind) = &machine.kind {
        cmd.args(["-M", kind]);
    }
    cmd.args(["-no-reboot", "-display", "none", "-serial", "stdio"]);
    cmd.args(["-device", "isa-debug-exit,iobase=0xf4,iosize=0x04"]);
    if let Some(memory) = &machine.memory {
        cmd.args(["-m", memory]);
    }
    if machine.kvm {
        cmd.arg("-enable-kvm");
    }
    if let Some(cpu) = &machine.cpu {
        cmd.args(["-cpu", cpu]);
    }
    if let Some(smp) = machine.smp {
        cmd.arg("-smp").arg(smp.to_string());
    }
    if machine.gdb {
        cmd.args(["-s", "-S"]);
    }
    cmd
}

/// The QEMU program: `$QEMU` if set, else `qemu-system-x86_64`.
fn qemu_program() -> OsString {
    env::var_os("QEMU").filter(|q| !q.is_empty()).unwrap_or_else(|| OsString::from(QEMU))
}

/// The first line of `qemu-system-x86_64 --version` (e.g. `QEMU emulator version 7.2.22
/// (Debian 1:7.2+dfsg-7+deb12u18+b3)`).
pub fn version() -> Result<String> {
    let output = Command::new(qemu_program()).arg("--version").stdin(Stdio::null()).output();
    let output = output.context("running qemu-system-x86_64 --version")?;
    if !output.status.success() {
        bail!("qemu-system-x86_64 --version failed: {}", output.status);
    }
    let text = String::from_utf8_lossy(&output.stdout);
    Ok(text.lines().next().unwrap_or("").trim().to_string())
}

/// Fails with an install hint unless QEMU can be found.
pub fn require_qemu() -> Result<()> {
    let program = qemu_program();
    let found = if Path::new(&program).components().count() > 1 {
        workspace::is_executable(Path::new(&program))
    } else {
        workspace::find_on_path(&program.to_string_lossy()).is_some()
    };
    if found {
        Ok(())
    } else {
        Err(anyhow!("{} not found: install QEMU (apt-get install qemu-system-x86)", program.to_string_lossy()))
    }
}

/// UEFI firmware: `$OVMF_FD`, else Debian's `/usr/share/ovmf/OVMF.fd`.
pub fn ovmf() -> Option<PathBuf> {
    match env::var_os("OVMF_FD").filter(|f| !f.is_empty()) {
        Some(path) => Some(PathBuf::from(path)),
        None => Some(PathBuf::from(SYSTEM_OVMF)).filter(|p| p.is_file()),
    }
}

/// The command line as one printable string.
pub fn display(cmd: &Command) -> String {
    let mut line = cmd.get_program().to_string_lossy().into_owned();
    for arg in cmd.get_args() {
        line.push(' ');
        line.push_str(&arg.to_string_lossy());
    }
    line
}

/// How a captured run ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum End {
    /// QEMU exited with this status.
    Exited(i32),
    /// QEMU was ended by this signal.
    Signaled(i32),
    /// The time limit passed; QEMU was killed.
    TimedOut,
}

impl std::fmt::Display for End {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            End::Exited(code) => write!(f, "QEMU status {code}"),
            End::Signaled(signal) => write!(f, "QEMU killed by signal {signal}"),
            End::TimedOut => write!(f, "timed out"),
        }
    }
}

/// A finished captured run.
pub struct Run {
    /// How it ended.
    pub end: End,
    /// Everything the guest wrote to its serial port.
    pub serial: Vec<u8>,
    /// QEMU's own messages.
    pub stderr: Vec<u8>,
    /// Wall-clock time.
    pub elapsed: Duration,
}

/// Runs QEMU with no input, writing its serial output to `log` as it comes, and kills it once
/// `limit` has passed.
pub fn run_captured(mut cmd: Command, log: &Path, limit: Duration) -> Result<Run> {
    if let Some(dir) = log.parent() {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    let mut log_file = File::create(log).with_context(|| format!("creating {}", log.display()))?;
    let start = Instant::now();
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .with_context(|| format!("starting {}", cmd.get_program().to_string_lossy()))?;
    let mut stdout = child.stdout.take().context("QEMU's stdout")?;
    let mut stderr = child.stderr.take().context("QEMU's stderr")?;
    let serial_reader = thread::spawn(move || -> std::io::Result<Vec<u8>> {
        let mut serial = Vec::new();
        let mut buf = [0u8; 4096];
        loop {
            let n = stdout.read(&mut buf)?;
            if n == 0 {
                return Ok(serial);
            }
            log_file.write_all(&buf[..n])?;
            serial.extend_from_slice(&buf[..n]);
        }
    });
    let stderr_reader = thread::spawn(move || {
        let mut text = Vec::new();
        // A read error only loses QEMU's diagnostics; the serial log is what is judged.
        let _ = stderr.read_to_end(&mut text);
        text
    });
    let end = match child.wait_timeout(limit).context("waiting for QEMU")? {
        Some(status) => end_of(status),
        None => {
            // Kill fails only if QEMU has just exited by itself; either way it is reaped next.
            let _ = child.kill();
            child.wait().context("reaping QEMU")?;
            End::TimedOut
        }
    };
    let elapsed = start.elapsed();
    let serial = serial_reader
        .join()
        .map_err(|_| anyhow!("the serial reader panicked"))?
        .with_context(|| format!("writing {}", log.display()))?;
    let stderr = stderr_reader.join().map_err(|_| anyhow!("the stderr reader panicked"))?;
    Ok(Run { end, serial, stderr, elapsed })
}

/// How an exit status reads.
pub fn end_of(status: ExitStatus) -> End {
    use std::os::unix::process::ExitStatusExt;
    match (status.code(), status.signal()) {
        (Some(code), _) => End::Exited(code),
        (None, Some(signal)) => End::Signaled(signal),
        (None, None) => End::Exited(-1),
    }
}

/// The exit status `cargo xtask run` passes on for QEMU's: 0 for 33 (the root task exited 0),
/// 1 for 0 (QEMU ended without the exit device: a triple fault under `-no-reboot`, or the
/// window closed), QEMU's own status otherwise, and 128 + N for a signal.
pub fn run_exit_code(end: End) -> i32 {
    match end {
        End::Exited(STATUS_SUCCESS) => 0,
        End::Exited(0) => 1,
        End::Exited(code) if (1..=255).contains(&code) => code,
        End::Exited(_) => 1,
        End::Signaled(signal) => 128 + signal,
        End::TimedOut => 124,
    }
}

/// Probes whether KVM can run Perihelion here: boots `kernel` with the exit-3 fixture `exit3`
/// under KVM with a 20 s limit, its serial output in `log`, and expects QEMU status 35. Nested
/// KVM is unreliable (design §8), so nothing uses KVM without this. On failure, the reason in a
/// few words.
pub fn kvm_probe(kernel: &Path, exit3: &Path, log: &Path, cpu: Option<&str>) -> std::result::Result<(), String> {
    if !Path::new("/dev/kvm").exists() {
        return Err("no /dev/kvm".to_string());
    }
    let boot = Boot::Pvh { kernel: kernel.to_path_buf(), initrd: exit3.to_path_buf(), cmdline: String::new() };
    let machine = Machine {
        cpu: Some(cpu.unwrap_or("host").to_string()),
        memory: Some("128M".to_string()),
        kvm: true,
        ..Machine::default()
    };
    let run = run_captured(command(&boot, &machine), log, Duration::from_secs(20)).map_err(|e| e.to_string())?;
    if run.end == End::Exited(STATUS_FAILURE) {
        Ok(())
    } else {
        let stderr = String::from_utf8_lossy(&run.stderr);
        let detail = stderr.lines().find(|l| !l.trim().is_empty()).unwrap_or("");
        Err(format!("probe boot ended with {} (expected status {STATUS_FAILURE}) {detail}", run.end))
    }
}

/// Serial output as plain lines. Firmware and Limine draw their console with ANSI escapes:
/// cursor moves between rows (UEFI) instead of newlines, screen clears, modes. Escapes are
/// dropped, a move to another row becomes a line break, `\r` and other control characters go,
/// so that every line the guest wrote whole stands on a line of its own and printing the log
/// cannot upset the terminal.
pub fn clean_serial(raw: &[u8]) -> String {
    let text = String::from_utf8_lossy(raw);
    let mut out = String::with_capacity(text.len());
    let mut row: Option<u32> = None;
    let mut chars = text.chars().peekable();
    let break_line = |out: &mut String| {
        if !out.is_empty() && !out.ends_with('\n') {
            out.push('\n');
        }
    };
    while let Some(c) = chars.next() {
        match c {
            '\x1b' => {
                if chars.peek() != Some(&'[') {
                    // A two-character escape (or a stray ESC): drop both.
                    chars.next();
                    continue;
                }
                chars.next();
                let mut params = String::new();
                let mut last = None;
                for c in chars.by_ref() {
                    if ('\x40'..='\x7e').contains(&c) {
                        last = Some(c);
                        break;
                    }
                    params.push(c);
                }
                match last {
                    Some('H' | 'f') => {
                        let target = params.split(';').next().and_then(|r| r.parse::<u32>().ok()).unwrap_or(1);
                        if row != Some(target) {
                            break_line(&mut out);
                        }
                        row = Some(target);
                    }
                    Some('J') => break_line(&mut out),
                    _ => {}
                }
            }
            '\n' => {
                out.push('\n');
                row = row.map(|r| r + 1);
            }
            '\t' => out.push('\t'),
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(cmd: &Command) -> Vec<String> {
        cmd.get_args().map(|a| a.to_string_lossy().into_owned()).collect()
    }

    #[test]
    fn serial_is_cleaned_of_terminal_drawing() {
        let raw = b"\x1b[2J\x1b[01;01H\x1b[=3hBdsDxe: starting Boot0001\r\n\x1b[2J\x1b[01;01H\
l\x1b[01;02Hi\x1b[01;03H:\x1b[02;01Hx\x1b[02;02Hy\x1b[03;01Htest a ... ok\r\n\
vulcan: 1 passed, 0 failed\r\n\x07\x1bc";
        assert_eq!(
            clean_serial(raw),
            "BdsDxe: starting Boot0001\nli:\nxy\ntest a ... ok\nvulcan: 1 passed, 0 failed\n"
        );
        assert_eq!(clean_serial(b"plain\r\nlines\n"), "plain\nlines\n");
    }

    #[test]
    fn statuses_follow_the_abi() {
        assert_eq!(STATUS_SUCCESS, 33);
        assert_eq!(STATUS_FAILURE, 35);
        assert_eq!(STATUS_PANIC, 37);
    }

    #[test]
    fn run_exit_codes() {
        assert_eq!(run_exit_code(End::Exited(33)), 0);
        assert_eq!(run_exit_code(End::Exited(35)), 35);
        assert_eq!(run_exit_code(End::Exited(37)), 37);
        assert_eq!(run_exit_code(End::Exited(0)), 1);
        assert_eq!(run_exit_code(End::Exited(1)), 1);
        assert_eq!(run_exit_code(End::Signaled(9)), 137);
    }

    #[test]
    fn pvh_command() {
        let boot = Boot::Pvh { kernel: PathBuf::from("k.elf"), initrd: PathBuf::from("v.tar"), cmdline: String::new() };
        let machine = Machine { cpu: Some("max".into()), ..Machine::default() };
        assert_eq!(
            args(&command(&boot, &machine)).join(" "),
            "-kernel k.elf -initrd v.tar -no-reboot -display none -serial stdio \
             -device isa-debug-exit,iobase=0xf4,iosize=0x04 -cpu max"
        );
        let boot =
            Boot::Pvh { kernel: PathBuf::from("k.elf"), initrd: PathBuf::from("v.tar"), cmdline: "a=b c".into() };
        let machine = Machine { kind: Some("microvm".into()), ..Machine::default() };
        assert_eq!(
            args(&command(&boot, &machine)).join(" "),
            "-kernel k.elf -initrd v.tar -append a=b c -M microvm -no-reboot -display none -serial stdio \
             -device isa-debug-exit,iobase=0xf4,iosize=0x04"
        );
    }

    #[test]
    fn uefi_kvm_gdb_command() {
        let boot = Boot::Cdrom { iso: PathBuf::from("p.iso"), firmware: Some(PathBuf::from("OVMF.fd")) };
        let machine = Machine {
            kind: None,
            cpu: Some("host".into()),
            smp: Some(2),
            memory: Some("256M".into()),
            kvm: true,
            gdb: true,
        };
        assert_eq!(
            args(&command(&boot, &machine)).join(" "),
            "-bios OVMF.fd -cdrom p.iso -boot d -no-reboot -display none -serial stdio \
             -device isa-debug-exit,iobase=0xf4,iosize=0x04 -m 256M -enable-kvm -cpu host \
             -smp 2 -s -S"
        );
    }

    #[test]
    fn captured_run_times_out_and_keeps_output() {
        let dir = env::temp_dir().join(format!("xtask-qemu-test-{}", std::process::id()));
        let log = dir.join("sleep.log");
        let mut cmd = Command::new("sh");
        cmd.args(["-c", "echo hello; exec sleep 30"]);
        let run = run_captured(cmd, &log, Duration::from_millis(500)).unwrap();
        assert_eq!(run.end, End::TimedOut);
        assert_eq!(run.serial, b"hello\n");
        assert_eq!(std::fs::read(&log).unwrap(), b"hello\n");
        assert!(run.elapsed < Duration::from_secs(10));

        let mut cmd = Command::new("sh");
        cmd.args(["-c", "echo out; echo err >&2; exit 35"]);
        let run = run_captured(cmd, &log, Duration::from_secs(30)).unwrap();
        assert_eq!(run.end, End::Exited(35));
        assert_eq!(run.serial, b"out\n");
        assert_eq!(run.stderr, b"err\n");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
