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
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
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
    /// COM2 on a Unix socket at this path, which QEMU connects to at start (the runner listens
    /// there: [`run_scripted`]); without it the machine has no COM2.
    pub com2: Option<PathBuf>,
    /// A QMP server on a Unix socket at this path, which QEMU makes at start (the screen test
    /// types and takes screendumps through it: `crate::screen`).
    pub qmp: Option<PathBuf>,
    /// Open QEMU's window (the screen) instead of `-display none`.
    pub display: bool,
    /// COM1 as the user's console (`cargo xtask run`): stdio with `signal=off`, so that Ctrl-C
    /// reaches the guest instead of stopping QEMU, multiplexed with QEMU's monitor so that
    /// Ctrl-A X still quits (and Ctrl-A C switches to the monitor). Without it, plain
    /// `-serial stdio`, as the tests drive it.
    pub console: bool,
}

/// The QEMU command for a boot, with serial on stdio, no display (unless [`Machine::display`]), no
/// reboot and the exit device.
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
    cmd.arg("-no-reboot");
    if !machine.display {
        cmd.args(["-display", "none"]);
    }
    if machine.console {
        cmd.args(["-chardev", "stdio,id=com1,mux=on,signal=off", "-serial", "chardev:com1"]);
        cmd.args(["-mon", "chardev=com1,mode=readline"]);
    } else {
        cmd.args(["-serial", "stdio"]);
    }
    if let Some(path) = &machine.com2 {
        let mut chardev = OsString::from("socket,id=com2,path=");
        chardev.push(path);
        cmd.arg("-chardev").arg(chardev).args(["-serial", "chardev:com2"]);
    }
    if let Some(path) = &machine.qmp {
        let mut qmp = OsString::from("unix:");
        qmp.push(path);
        qmp.push(",server=on,wait=off");
        cmd.arg("-qmp").arg(qmp);
    }
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
    /// Everything the guest wrote to COM2, if the machine had one on a socket.
    pub com2: Vec<u8>,
    /// Wall-clock time.
    pub elapsed: Duration,
}

/// Runs QEMU with no input, writing its serial output to `log` as it comes, and kills it once
/// `limit` has passed.
pub fn run_captured(cmd: Command, log: &Path, limit: Duration) -> Result<Run> {
    run_scripted(cmd, log, limit, &[], None)
}

/// A serial port of the machine.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Port {
    /// COM1: QEMU's standard input and output.
    Com1,
    /// COM2: the socket of [`Machine::com2`].
    Com2,
}

/// One step of typing into a running system: once `wait_for` has appeared on COM1 (after the
/// previous step's input), `send` is typed into port `to`.
#[derive(Copy, Clone, Debug)]
pub struct Step {
    /// Text to wait for, on COM1.
    pub wait_for: &'static str,
    /// Bytes to type then.
    pub send: &'static str,
    /// Where to type them.
    pub to: Port,
}

impl Step {
    /// Types `send` into COM1 once `wait_for` has appeared.
    pub const fn com1(wait_for: &'static str, send: &'static str) -> Step {
        Step { wait_for, send, to: Port::Com1 }
    }

    /// Types `send` into COM2 once `wait_for` has appeared on COM1.
    pub const fn com2(wait_for: &'static str, send: &'static str) -> Step {
        Step { wait_for, send, to: Port::Com2 }
    }
}

/// COM2's far end: the socket QEMU connects to, what the guest wrote there, and a way in.
struct Com2 {
    /// The connection once QEMU has made it, for typing into COM2.
    stream: Arc<Mutex<Option<UnixStream>>>,
    /// Reads everything QEMU sends until it closes the connection (or never connects).
    reader: thread::JoinHandle<std::io::Result<Vec<u8>>>,
    /// Set once QEMU has ended, so that a reader still waiting for a connection gives up.
    done: Arc<AtomicBool>,
    path: PathBuf,
}

impl Com2 {
    /// Listens at `path` (replacing a stale socket) before QEMU starts.
    fn listen(path: &Path) -> Result<Com2> {
        let _ = std::fs::remove_file(path);
        let listener = UnixListener::bind(path).with_context(|| format!("listening at {}", path.display()))?;
        listener.set_nonblocking(true).context("a non-blocking COM2 socket")?;
        let stream = Arc::new(Mutex::new(None));
        let done = Arc::new(AtomicBool::new(false));
        let (slot, stop) = (Arc::clone(&stream), Arc::clone(&done));
        let reader = thread::spawn(move || -> std::io::Result<Vec<u8>> {
            let mut conn = loop {
                match listener.accept() {
                    Ok((conn, _)) => break conn,
                    Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                        if stop.load(Ordering::Acquire) {
                            return Ok(Vec::new());
                        }
                        thread::sleep(Duration::from_millis(10));
                    }
                    Err(e) => return Err(e),
                }
            };
            conn.set_nonblocking(false)?;
            *slot.lock().unwrap_or_else(std::sync::PoisonError::into_inner) = Some(conn.try_clone()?);
            let mut out = Vec::new();
            conn.read_to_end(&mut out)?;
            Ok(out)
        });
        Ok(Com2 { stream, reader, done, path: path.to_path_buf() })
    }

    /// Types `bytes` into COM2, waiting up to a second for QEMU's connection. A failure shows
    /// in the verdict (the guest never sees the input), not here.
    fn type_in(stream: &Mutex<Option<UnixStream>>, bytes: &[u8]) {
        for _ in 0..100 {
            if let Some(s) = stream.lock().unwrap_or_else(std::sync::PoisonError::into_inner).as_mut() {
                let _ = s.write_all(bytes).and_then(|()| s.flush());
                return;
            }
            thread::sleep(Duration::from_millis(10));
        }
    }

    /// What the guest wrote to COM2, once QEMU has ended.
    fn finish(self) -> Result<Vec<u8>> {
        self.done.store(true, Ordering::Release);
        let out = self.reader.join().map_err(|_| anyhow!("the COM2 reader panicked"))?;
        let _ = std::fs::remove_file(&self.path);
        out.context("reading COM2")
    }
}

/// Finds where in `serial` each step may type: the first appearance of its `wait_for` at or
/// after `from` (where the previous step typed). Returns the end of the match.
pub fn step_ready(serial: &[u8], from: usize, step: &Step) -> Option<usize> {
    let hay = serial.get(from..)?;
    let needle = step.wait_for.as_bytes();
    hay.windows(needle.len().max(1)).position(|w| w == needle).map(|i| from + i + needle.len())
}

/// As [`run_captured`], typing `script` into the serial ports (COM1 is QEMU's standard input) as
/// the output it waits for appears on COM1. With `com2` (the machine's [`Machine::com2`]), it
/// listens there for QEMU's COM2 connection and keeps what the guest writes to it.
pub fn run_scripted(
    mut cmd: Command,
    log: &Path,
    limit: Duration,
    script: &'static [Step],
    com2: Option<&Path>,
) -> Result<Run> {
    if let Some(dir) = log.parent() {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    let mut log_file = File::create(log).with_context(|| format!("creating {}", log.display()))?;
    let com2 = com2.map(Com2::listen).transpose()?;
    let com2_in = com2.as_ref().map(|c| Arc::clone(&c.stream));
    let types_com1 = script.iter().any(|s| s.to == Port::Com1);
    let start = Instant::now();
    let mut child = cmd
        .stdin(if types_com1 { Stdio::piped() } else { Stdio::null() })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .with_context(|| format!("starting {}", cmd.get_program().to_string_lossy()))?;
    let mut stdout = child.stdout.take().context("QEMU's stdout")?;
    let mut stderr = child.stderr.take().context("QEMU's stderr")?;
    let mut stdin = child.stdin.take();
    let serial_reader = thread::spawn(move || -> std::io::Result<Vec<u8>> {
        let mut serial = Vec::new();
        let mut buf = [0u8; 4096];
        let (mut next, mut from) = (0, 0);
        loop {
            let n = stdout.read(&mut buf)?;
            if n == 0 {
                return Ok(serial);
            }
            log_file.write_all(&buf[..n])?;
            serial.extend_from_slice(&buf[..n]);
            while let Some(step) = script.get(next)
                && let Some(at) = step_ready(&serial, from, step)
            {
                match (step.to, stdin.as_mut(), com2_in.as_deref()) {
                    (Port::Com1, Some(input), _) => {
                        // A closed input (QEMU gone) shows in the verdict, not here.
                        let _ = input.write_all(step.send.as_bytes()).and_then(|()| input.flush());
                    }
                    (Port::Com2, _, Some(stream)) => Com2::type_in(stream, step.send.as_bytes()),
                    // A step for a port the machine lacks types nothing: the verdict shows it.
                    _ => {}
                }
                next += 1;
                from = at;
            }
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
    let com2 = com2.map(Com2::finish).transpose()?.unwrap_or_default();
    Ok(Run { end, serial, stderr, com2, elapsed })
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
    fn screen_commands() {
        let boot = Boot::Pvh { kernel: "k.elf".into(), initrd: "i.tar".into(), cmdline: String::new() };
        let test = Machine { qmp: Some(PathBuf::from("/tmp/q.sock")), ..Machine::default() };
        assert_eq!(
            args(&command(&boot, &test)).join(" "),
            "-kernel k.elf -initrd i.tar -no-reboot -display none -serial stdio \
             -qmp unix:/tmp/q.sock,server=on,wait=off -device isa-debug-exit,iobase=0xf4,iosize=0x04"
        );
        let window = Machine { display: true, ..Machine::default() };
        assert_eq!(
            args(&command(&boot, &window)).join(" "),
            "-kernel k.elf -initrd i.tar -no-reboot -serial stdio -device isa-debug-exit,iobase=0xf4,iosize=0x04"
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
            com2: Some(PathBuf::from("/tmp/c2.sock")),
            qmp: None,
            display: false,
            console: false,
        };
        assert_eq!(
            args(&command(&boot, &machine)).join(" "),
            "-bios OVMF.fd -cdrom p.iso -boot d -no-reboot -display none -serial stdio \
             -chardev socket,id=com2,path=/tmp/c2.sock -serial chardev:com2 \
             -device isa-debug-exit,iobase=0xf4,iosize=0x04 -m 256M -enable-kvm -cpu host \
             -smp 2 -s -S"
        );
    }

    #[test]
    fn console_command() {
        let boot = Boot::Pvh { kernel: PathBuf::from("k.elf"), initrd: PathBuf::from("i.tar"), cmdline: String::new() };
        let machine = Machine { console: true, ..Machine::default() };
        assert_eq!(
            args(&command(&boot, &machine)).join(" "),
            "-kernel k.elf -initrd i.tar -no-reboot -display none \
             -chardev stdio,id=com1,mux=on,signal=off -serial chardev:com1 -mon chardev=com1,mode=readline \
             -device isa-debug-exit,iobase=0xf4,iosize=0x04"
        );
    }

    /// A machine that never connects to COM2's socket leaves COM2 empty, a step for it types
    /// nothing, and the run still ends (the reader gives up waiting for the connection).
    #[test]
    fn com2_socket_without_a_connection_is_empty() {
        let dir = env::temp_dir().join(format!("xtask-qemu-com2-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let (log, sock) = (dir.join("c.log"), dir.join("c.sock"));
        let mut cmd = Command::new("sh");
        cmd.args(["-c", "echo ready; exit 33"]);
        static SCRIPT: [Step; 1] = [Step::com2("ready", "x")];
        let run = run_scripted(cmd, &log, Duration::from_secs(30), &SCRIPT, Some(&sock)).unwrap();
        assert_eq!(run.end, End::Exited(33));
        assert!(run.com2.is_empty());
        assert!(!sock.exists(), "the socket is removed after the run");
        let _ = std::fs::remove_dir_all(&dir);
    }

    /// A peer that connects to COM2's socket is read until it closes, and what a step types
    /// reaches it.
    #[test]
    fn com2_socket_reads_and_types() {
        let dir = env::temp_dir().join(format!("xtask-qemu-com2b-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let (log, sock) = (dir.join("c.log"), dir.join("c.sock"));
        // The "machine": prints its marker once the peer (a thread standing in for QEMU's
        // COM2) has connected, and stays until the peer is done.
        let peer_sock = sock.clone();
        let peer = thread::spawn(move || {
            let mut conn = loop {
                match UnixStream::connect(&peer_sock) {
                    Ok(c) => break c,
                    Err(_) => thread::sleep(Duration::from_millis(10)),
                }
            };
            conn.write_all(b"hello from com2\n").unwrap();
            let mut got = [0u8; 4];
            conn.read_exact(&mut got).unwrap();
            got
        });
        let mut cmd = Command::new("sh");
        cmd.args(["-c", "sleep 0.3; echo ready; sleep 1; exit 33"]);
        static SCRIPT: [Step; 1] = [Step::com2("ready", "ping")];
        let run = run_scripted(cmd, &log, Duration::from_secs(30), &SCRIPT, Some(&sock)).unwrap();
        assert_eq!(&peer.join().unwrap(), b"ping");
        assert_eq!(run.end, End::Exited(33));
        assert_eq!(run.com2, b"hello from com2\n");
        let _ = std::fs::remove_dir_all(&dir);
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
