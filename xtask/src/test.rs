//! `cargo xtask test`: everything that can be checked, counted into one closing line.
//!
//! In order: host unit tests, the same again with the MSRV toolchain (see [`crate::msrv`]), the
//! object library's host tests under Miri (see [`crate::miri`]), rustfmt, clippy, the
//! documentation checks of `sys` and the ABI crate (see [`crate::docs`]), the flake parse check,
//! the build, then boots under TCG with a time limit:
//! Vulcan by PVH with QEMU's default CPU and with `-cpu max` (each with [`FUZZ_CALLS`] fuzzer
//! calls on the fixed seed), and on the `microvm` machine (no PCI, no HPET, no ACPI PM timer, no
//! port 0x61), in CI (or with `--fuzz-seed`) Vulcan by PVH once more with the fuzzer on a seed
//! that changes per run, the fixtures by PVH, and, where Limine is found, Vulcan from its ISO
//! under SeaBIOS and under OVMF;
//! last, the reproducibility check (a second build from a copy of the sources, compared byte for
//! byte). Each passed or failed unit is counted; a part that cannot run prints one
//! `skipped: WHAT (WHY)` line. The last line on stdout is `N passed, M failed` (CI reads it) and
//! the exit status is 0 only if M is 0.

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::build::{self, Output};
use crate::docs;
use crate::flake::{self, Parse};
use crate::limine::{self, Lookup};
use crate::miri;
use crate::msrv::{self, Setup};
use crate::qemu::{self, Boot, End, Machine, vulcan_cmdline};
use crate::workspace::Workspace;
use crate::{bench, inventory, iso, repro};

/// What `cargo xtask test` runs.
pub struct Options {
    /// Time limit for each boot.
    pub timeout: Duration,
    /// Skip everything but the build and the boots.
    pub quick: bool,
    /// Skip the ISOs: their boots and their reproducibility check.
    pub no_iso: bool,
    /// Run only these parts (every part if empty).
    pub only: Vec<Part>,
    /// The seed of the extra fuzz boot (`--fuzz-seed`), else a fresh one in CI, else none.
    pub fuzz_seed: Option<u64>,
}

/// The parts of a test run, in the order they run (`--only` picks some).
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Part {
    /// The host tests (`cargo test`).
    HostTests,
    /// The host tests again, with the MSRV toolchain (rustup's).
    Msrv,
    /// The object library's host tests under Miri (nightly).
    Miri,
    /// `cargo fmt --check`.
    Rustfmt,
    /// Clippy, warnings denied.
    Clippy,
    /// `sys` and the ABI crate: `cargo doc` without warnings, and an example for every public
    /// item (nightly rustdoc).
    Docs,
    /// `nix-instantiate --parse flake.nix`.
    Flake,
    /// The build and every boot (and the ISOs, where Limine is found).
    Boots,
    /// `cargo xtask bench --check`: the path lengths against `bench/baseline.json`.
    Bench,
    /// The second build from a copy of the sources, compared with the first.
    Repro,
}

impl Part {
    const ALL: [Part; 10] = [
        Part::HostTests,
        Part::Msrv,
        Part::Miri,
        Part::Rustfmt,
        Part::Clippy,
        Part::Docs,
        Part::Flake,
        Part::Boots,
        Part::Bench,
        Part::Repro,
    ];

    /// How a `skipped:` line names the part.
    fn label(self) -> &'static str {
        match self {
            Part::HostTests => "host tests",
            Part::Msrv => "MSRV host tests",
            Part::Miri => "Miri",
            Part::Rustfmt => "rustfmt",
            Part::Clippy => "clippy",
            Part::Docs => "doc checks",
            Part::Flake => "flake parse check",
            Part::Boots => "build and boots",
            Part::Bench => "bench check",
            Part::Repro => "reproducibility check",
        }
    }

    /// The part's name on the command line.
    fn arg(self) -> String {
        clap::ValueEnum::to_possible_value(&self).map(|v| v.get_name().to_string()).unwrap_or_default()
    }
}

impl Options {
    /// Whether a part runs: `--quick` keeps only the build and the boots, `--only` the parts
    /// it names.
    fn runs(&self, part: Part) -> bool {
        (!self.quick || part == Part::Boots) && (self.only.is_empty() || self.only.contains(&part))
    }

    /// The `skipped:` line for the parts left out by the options, if any.
    fn skipped_line(&self) -> Option<String> {
        let skipped: Vec<&str> = Part::ALL.into_iter().filter(|&p| !self.runs(p)).map(Part::label).collect();
        if skipped.is_empty() {
            return None;
        }
        let mut why = Vec::new();
        if self.quick {
            why.push("--quick".to_string());
        }
        if !self.only.is_empty() {
            let names: Vec<String> = self.only.iter().map(|p| p.arg()).collect();
            why.push(format!("--only {}", names.join(",")));
        }
        Some(format!("skipped: {} ({})", skipped.join(", "), why.join(" ")))
    }
}

/// Host test runs: `cargo test` arguments, one invocation each, so that a kernel that does not
/// build leaves the other crates' results standing. Every crate is host-tested except where it
/// opts out: `no_std`-only targets (`memfns`, the user programs' bins) set `test = false`; the
/// kernel's bin is `no_std` and `no_main`, so only its library is tested. `sys` runs its unit
/// tests and its doctests (the compile-fail tests of `sys::safety` among them) in the first run:
/// `cargo test` builds it with unwinding, which leaves out its runtime (`cfg(panic = "abort")`).
const HOST_TESTS: &[&[&str]] = &[&["--workspace", "--exclude", "kernel"], &["-p", "kernel", "--lib"]];

/// Running totals.
#[derive(Default)]
struct Tally {
    passed: u64,
    failed: u64,
}

impl Tally {
    fn check(&mut self, ok: bool) {
        if ok {
            self.passed += 1;
        } else {
            self.failed += 1;
        }
    }
}

/// Clippy runs. The kernel is linted apart, in two passes: with its tests in the same
/// invocation, the dev-dependencies' features (`std` through proptest) would be unified into the
/// `no_std` library and clash with its panic handler.
const CLIPPY: &[(&str, &[&str])] = &[
    ("clippy", &["clippy", "--workspace", "--exclude", "kernel", "--all-targets", "--", "-D", "warnings"]),
    ("clippy kernel", &["clippy", "-p", "kernel", "--lib", "--bins", "--", "-D", "warnings"]),
    ("clippy kernel tests", &["clippy", "-p", "kernel", "--tests", "--", "-D", "warnings"]),
];

/// Runs everything and returns the process exit status.
pub fn run(ws: &Workspace, options: &Options) -> i32 {
    let mut tally = Tally::default();
    if let Some(line) = options.skipped_line() {
        println!("{line}");
    }
    if options.runs(Part::HostTests) {
        host_tests(&mut tally, "host tests", &|| ws.cargo());
    }
    if options.runs(Part::Msrv) {
        msrv_host_tests(ws, &mut tally);
    }
    if options.runs(Part::Miri) {
        miri_tests(ws, &mut tally);
    }
    if options.runs(Part::Rustfmt) {
        cargo_check(ws, &mut tally, "rustfmt", &["fmt", "--all", "--", "--check"]);
    }
    if options.runs(Part::Clippy) {
        for (what, args) in CLIPPY {
            cargo_check(ws, &mut tally, what, args);
        }
    }
    if options.runs(Part::Docs) {
        doc_checks(ws, &mut tally);
    }
    if options.runs(Part::Flake) {
        flake_check(ws, &mut tally);
    }
    let mut built = true;
    if options.runs(Part::Boots) {
        built = build_step(ws, &mut tally);
        if built {
            boots(ws, options, &mut tally);
        } else {
            println!("skipped: boots (the build failed)");
        }
    }
    if options.runs(Part::Bench) {
        if !options.runs(Part::Boots) {
            built = build_step(ws, &mut tally);
        }
        if built {
            bench_check(ws, options, &mut tally);
        } else {
            println!("skipped: bench check (the build failed)");
        }
    }
    if options.runs(Part::Repro) {
        if built {
            reproducibility(ws, options, &mut tally);
        } else {
            println!("skipped: reproducibility check (the build failed)");
        }
    }
    // stdout's last line is the one CI reads.
    let _ = std::io::stderr().flush();
    println!("{} passed, {} failed", tally.passed, tally.failed);
    if tally.failed == 0 { 0 } else { 1 }
}

/// Prints `== WHAT ... ` and leaves the line open for the result.
fn begin(what: &str) {
    print!("== {what} ... ");
    let _ = std::io::stdout().flush();
}

/// At most this many lines of a failed step's output are shown: the last ones.
const SHOWN_LINES: usize = 300;

/// Prints captured output of a failed step, indented, after the result line.
fn show_output(title: &str, text: &str) {
    println!("--- {title}");
    let lines: Vec<&str> = text.lines().collect();
    let skip = lines.len().saturating_sub(SHOWN_LINES);
    if skip > 0 {
        println!("    ({skip} earlier lines not shown)");
    }
    for line in &lines[skip..] {
        println!("    {line}");
    }
    println!("--- end of {title}");
}

/// The host test runs, each with a cargo command from `cargo`, each step named `label: ...`.
fn host_tests(tally: &mut Tally, label: &str, cargo: &dyn Fn() -> Command) {
    for args in HOST_TESTS {
        let mut cmd = cargo();
        cmd.arg("test").args(*args);
        cargo_tests(tally, &format!("{label}: cargo test {}", args.join(" ")), cmd);
    }
}

/// One `cargo test` run (`cmd`), counted test by test; the step is named `what`.
fn cargo_tests(tally: &mut Tally, what: &str, mut cmd: Command) {
    begin(what);
    let start = Instant::now();
    cmd.stdin(Stdio::null());
    let output = match cmd.output() {
        Ok(output) => output,
        Err(err) => {
            println!("FAILED (cannot run cargo: {err})");
            tally.failed += 1;
            return;
        }
    };
    let stdout = String::from_utf8_lossy(&output.stdout);
    let counts = parse_cargo_test(&stdout);
    let (passed, mut failed) = counts.unwrap_or((0, 0));
    if !output.status.success() && failed == 0 {
        // A build failure, a crashed test binary, a failed doctest build, undefined behaviour or a
        // leak found by Miri after the tests ran: one failure.
        failed = 1;
    }
    tally.passed += passed;
    tally.failed += failed;
    let secs = start.elapsed().as_secs_f64();
    if failed == 0 {
        println!("ok ({passed} passed, {secs:.1} s)");
    } else {
        println!("FAILED ({passed} passed, {failed} failed, {secs:.1} s)");
        show_output(what, &format!("{stdout}{}", String::from_utf8_lossy(&output.stderr)));
    }
}

/// The object library's host tests under Miri, or the `skipped:` line saying why not.
fn miri_tests(ws: &Workspace, tally: &mut Tally) {
    match miri::prepare() {
        Ok(m) => {
            let what = format!("Miri: cargo miri test -p kernel --lib -- {}", miri::FILTERS.join(" "));
            cargo_tests(tally, &what, m.command(ws));
        }
        Err(why) => println!("skipped: Miri ({why})"),
    }
}

/// The host test runs again with the MSRV toolchain, or the `skipped:` line saying why not.
fn msrv_host_tests(ws: &Workspace, tally: &mut Tally) {
    match msrv::prepare(ws) {
        Setup::Ready(msrv) => host_tests(tally, &format!("MSRV {} host tests", msrv.name), &|| msrv.cargo(ws)),
        Setup::Unavailable(why) => println!("skipped: MSRV host tests ({why})"),
        Setup::Broken(why) => {
            println!("== MSRV host tests ... FAILED ({why})");
            tally.check(false);
        }
    }
}

/// A cargo command that is one check: it passes if cargo exits 0.
fn cargo_check(ws: &Workspace, tally: &mut Tally, what: &str, args: &[&str]) {
    let mut cmd = ws.cargo();
    cmd.args(args);
    command_check(tally, what, cmd);
}

/// A command that is one check: it passes if it exits 0.
fn command_check(tally: &mut Tally, what: &str, mut cmd: Command) {
    begin(what);
    cmd.stdin(Stdio::null());
    match cmd.output() {
        Ok(output) if output.status.success() => {
            println!("ok");
            tally.check(true);
        }
        Ok(output) => {
            println!("FAILED");
            tally.check(false);
            show_output(
                what,
                &format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr)),
            );
        }
        Err(err) => {
            println!("FAILED (cannot run cargo: {err})");
            tally.check(false);
        }
    }
}

/// The documentation checks (see [`docs`]): `cargo doc` of `sys` and the ABI crate with warnings
/// denied, then, on nightly, the example lint for each crate, or the `skipped:` line saying why
/// not.
fn doc_checks(ws: &Workspace, tally: &mut Tally) {
    let mut cmd = ws.cargo();
    cmd.args(docs::BUILD).env("RUSTDOCFLAGS", "-D warnings");
    command_check(tally, &format!("docs: cargo {} (warnings denied)", docs::BUILD.join(" ")), cmd);
    let nightly = match docs::prepare() {
        Ok(nightly) => nightly,
        Err(why) => {
            println!("skipped: doc examples ({why})");
            return;
        }
    };
    for krate in docs::CRATES {
        let what = format!("docs: an example for every public item of {krate} (nightly rustdoc)");
        begin(&what);
        let output = match nightly.examples(ws, krate).stdin(Stdio::null()).output() {
            Ok(output) => output,
            Err(err) => {
                println!("FAILED (cannot run rustup: {err})");
                tally.check(false);
                continue;
            }
        };
        tally.check(output.status.success());
        if output.status.success() {
            println!("ok");
            continue;
        }
        let stderr = String::from_utf8_lossy(&output.stderr);
        let missing = docs::missing_examples(&stderr);
        if missing.is_empty() {
            println!("FAILED");
            show_output(&what, &format!("{}{stderr}", String::from_utf8_lossy(&output.stdout)));
        } else {
            let plural = if missing.len() == 1 { "" } else { "s" };
            println!("FAILED ({} public item{plural} without an example)", missing.len());
            show_output("the items, where their documentation starts", &missing.join("\n"));
        }
    }
}

/// Calls the syscall fuzzer makes in the PVH boots of Vulcan that `test` runs (`pvh-default`, on
/// the fixed seed, is the one that gates; `pvh-max` runs it too, and so does the boot on a seed
/// that changes per run). Every other Vulcan boot (the ISOs, `run --vulcan`, a boot by hand)
/// runs Vulcan's default, 100,000 calls on the fixed seed: 10^6 calls take 4 to 7 s under TCG.
pub const FUZZ_CALLS: u64 = 1_000_000;

/// The kernel command line of a PVH boot of Vulcan with [`FUZZ_CALLS`] fuzzer calls, on `seed`
/// (Vulcan's fixed seed if `None`).
pub fn fuzz_cmdline(seed: Option<u64>) -> String {
    let mut line = format!("{} vulcan.fuzz_calls={FUZZ_CALLS}", vulcan_cmdline("pvh"));
    if let Some(seed) = seed {
        line.push_str(&format!(" vulcan.fuzz_seed={seed:#x}"));
    }
    line
}

/// Parses a fuzz seed: decimal or `0x` hexadecimal (`_` allowed between digits), as Vulcan reads
/// `vulcan.fuzz_seed`.
pub fn parse_seed(s: &str) -> Result<u64, String> {
    let (digits, radix) = match s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
        Some(hex) => (hex, 16),
        None => (s, 10),
    };
    let bad = || format!("{s:?} is not a 64-bit number (decimal or 0x hex)");
    if digits.starts_with('_') || !digits.chars().all(|c| c == '_' || c.is_digit(radix)) {
        return Err(bad());
    }
    let digits: String = digits.chars().filter(|&c| c != '_').collect();
    u64::from_str_radix(&digits, radix).map_err(|_| bad())
}

/// Where the extra fuzz boot's seed comes from: `--fuzz-seed`, else (only where the environment
/// variable `CI` is `true`, and never inside a Nix build, so that `nix flake check` stays
/// deterministic) a fresh one; `Err` says why there is no such boot.
fn fuzz_seed(options: &Options) -> Result<(u64, &'static str), &'static str> {
    if let Some(seed) = options.fuzz_seed {
        return Ok((seed, "from --fuzz-seed"));
    }
    let ci = std::env::var("CI").is_ok_and(|v| v == "true");
    if !ci {
        return Err("CI only: the environment variable CI is not `true`; --fuzz-seed S runs it on seed S");
    }
    if std::env::var_os("NIX_BUILD_TOP").is_some() {
        return Err("never inside a Nix build, which must be deterministic");
    }
    Ok((fresh_seed(), "new for this run"))
}

/// A seed that changes per run: the time and the process id, through the standard library's
/// randomly keyed hasher.
fn fresh_seed() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos());
    h.write_u128(now);
    h.write_u32(std::process::id());
    h.finish()
}

/// What a boot must show to pass.
enum Expect {
    /// A Vulcan run: exit 33 and a consistent, clean summary, in which only the tests named may
    /// have been skipped (they need a device this machine lacks); the kernel's fast paths on or
    /// off as said (see [`judge_fastpath`]), and with them off, the same results as the boot
    /// with them on (`pvh-default`).
    Vulcan { may_skip: &'static [&'static str], fastpath: Fastpath },
    /// A fixture: this QEMU status and exactly one serial line containing this text.
    Fixture { status: i32, line: &'static str },
    /// The system (Mercury and its programs): `script` is typed in (COM2 is a socket), and the
    /// run must end with this QEMU status, with exactly one COM1 line containing each of `lines`
    /// and one COM2 line containing each of `com2`.
    System { status: i32, lines: &'static [&'static str], script: &'static [qemu::Step], com2: &'static [&'static str] },
    /// The system used the way a person would: `script` is typed into the serial port, and the
    /// run must end with `status` and show exactly one line equal to each of `lines` (trailing
    /// white space aside).
    Dialogue { script: &'static [qemu::Step], status: i32, lines: &'static [&'static str] },
}

/// Whether a boot runs the kernel's fast paths (IPC, notification, yield, fault delivery and
/// reply): they are on unless the kernel command line says [`FASTPATH_OFF`].
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Fastpath {
    /// On: every fast path must have been taken at least once (the kernel's closing
    /// `fastpath: ...` line counts them), so that the tests, the fuzzer's among them, go
    /// through them.
    On,
    /// Off: none may have been taken.
    Off,
}

/// The kernel command-line word that turns the fast paths off (`uapi::fastpath`).
pub const FASTPATH_OFF: &str = "perihelion.fastpath=off";

/// The kernel's closing count of the fast paths, `fastpath: NAME N, NAME N, ...`: each name
/// and count, in order; `None` without such a line (the last one counts).
pub fn parse_fastpath_counts(serial: &str) -> Option<Vec<(String, u64)>> {
    let line = serial.lines().rev().find_map(|l| {
        let rest = l.split_once("fastpath: ")?.1.trim();
        (rest != "on" && !rest.starts_with("off")).then_some(rest)
    })?;
    line.split(", ")
        .map(|part| {
            let (name, n) = part.rsplit_once(' ')?;
            Some((name.to_string(), n.parse().ok()?))
        })
        .collect()
}

/// A Vulcan boot ran the fast paths as it should: on, every one was taken; off, the kernel
/// said so and none was.
pub fn judge_fastpath(serial: &str, fastpath: Fastpath) -> Result<(), String> {
    let said_off = serial.lines().any(|l| l.contains("fastpath: off"));
    let Some(counts) = parse_fastpath_counts(serial) else {
        return Err("no `fastpath: ...` counts from the kernel at the end of the run".to_string());
    };
    match fastpath {
        Fastpath::On => {
            if said_off {
                return Err("the kernel says its fast paths are off".to_string());
            }
            let never: Vec<&str> = counts.iter().filter(|(_, n)| *n == 0).map(|(p, _)| p.as_str()).collect();
            if !never.is_empty() {
                return Err(format!("fast paths never taken: {}", never.join(", ")));
            }
        }
        Fastpath::Off => {
            if !said_off {
                return Err(format!("the kernel does not say `fastpath: off` ({FASTPATH_OFF} given)"));
            }
            let taken: Vec<String> = counts.iter().filter(|(_, n)| *n != 0).map(|(p, n)| format!("{p} {n}")).collect();
            if !taken.is_empty() {
                return Err(format!("fast paths taken while off: {}", taken.join(", ")));
            }
        }
    }
    Ok(())
}

/// Each test of a Vulcan boot and how it ended (`ok`, `skipped` or `FAILED`), in order.
pub fn verdicts(report: &VulcanReport) -> Vec<(String, &'static str)> {
    report
        .results
        .iter()
        .map(|(_, name)| {
            let verdict = if report.failed.iter().any(|(n, _)| n == name) {
                "FAILED"
            } else if report.skipped.contains(name) {
                "skipped"
            } else {
                "ok"
            };
            (name.clone(), verdict)
        })
        .collect()
}

/// The boot with the fast paths off ended every test as the boot with them on did.
pub fn judge_same_results(off: &VulcanReport, on: Option<&VulcanReport>) -> Result<(), String> {
    let Some(on) = on else {
        return Err("no results of pvh-default to compare with".to_string());
    };
    let (a, b) = (verdicts(on), verdicts(off));
    if a == b {
        return Ok(());
    }
    let differ: Vec<String> = a
        .iter()
        .zip(&b)
        .filter(|(x, y)| x != y)
        .map(|((n, v), (m, w))| if n == m { format!("{n}: {v} on, {w} off") } else { format!("{n} / {m}") })
        .take(8)
        .collect();
    Err(format!("results differ from pvh-default's ({} against {} tests): {}", b.len(), a.len(), differ.join("; ")))
}

/// What is typed into the shell boot, each line once the prompt is back: the session a person
/// would try first (docs/shell.md), every feature of the shell once.
const SHELL_SCRIPT: &[qemu::Step] = &[
    qemu::Step::com1("$ ", "echo hello from the shell\r"),
    qemu::Step::com1("$ ", "echo first line > /tmp/notes\r"),
    qemu::Step::com1("$ ", "echo 'second  line' \"$?\" >> /tmp/notes\r"),
    qemu::Step::com1("$ ", "cat /tmp/notes\r"),
    qemu::Step::com1("$ ", "echo through a pipe | cat\r"),
    qemu::Step::com1("$ ", "ls /bin\r"),
    qemu::Step::com1("$ ", "cd /tmp\r"),
    qemu::Step::com1("$ ", "pwd\r"),
    qemu::Step::com1("$ ", "cat < notes | cat > copy\r"),
    qemu::Step::com1("$ ", "ls\r"),
    qemu::Step::com1("$ ", "cd /nowhere\r"),
    qemu::Step::com1("$ ", "ps\r"),
    qemu::Step::com1("$ ", "fault\r"),
    qemu::Step::com1("$ ", "echo $?\r"),
    qemu::Step::com1("$ ", "nosuch\r"),
    qemu::Step::com1("$ ", "echo still here\r"),
    qemu::Step::com1("$ ", "cat\r"),
    qemu::Step::com1("cat", "\x03"),
    qemu::Step::com1("$ ", "echo interrupted: $?\r"),
    qemu::Step::com1("$ ", "kill 1\r"),
    qemu::Step::com1("$ ", "poweroff\r"),
];

/// What the shell boot must show, each exactly once (as whole lines).
const SHELL_LINES: &[&str] = &[
    "mercury: files: copied 16 files ...",
    "hello from the shell",
    // `>` made the file, `>>` added to it (quotes kept the two blanks, `$?` was 0), `cat` read it.
    "first line",
    "second  line 0",
    "through a pipe",
    // `ls /bin`: every program, with its size.
    "... echo",
    "... mkdir",
    "... kill",
    "/tmp",
    // `<`, a pipe and `>` relative to the working directory: a copy of the same size.
    "      26 copy",
    "      26 notes",
    "sh: cd: /nowhere: not found",
    // Mercury forgot every program the shell started and released: ps is the eleventh entry
    // (after mercury, pcserial, ramfs, pipe, ps2kbd, fbterm, the two gettys and their shells).
    "  3 pipe             running   ...",
    "  5 fbterm           running   ...",
    "  8 sh               running   ...",
    "  9 sh               running   ...",
    " 10 ps               running   ...",
    "sh: fault: faulted: page fault at 0x500000000000 (rip ...",
    "142",
    "sh: nosuch: not found",
    // The next command runs as before.
    "still here",
    // Ctrl-C reached the shell and killed `cat`, which was waiting for input.
    "^C",
    "interrupted: 130",
    "kill: 1: not a program a shell started",
    "poweroff: powering off",
];

/// What is typed into the system test's COM2, once its client waits for it.
const SYSTEM_SCRIPT: &[qemu::Step] = &[qemu::Step::com2("system-com2: listening on COM2", "ping from the host\r")];

/// What the system test's client must write to COM2, exactly once.
const SYSTEM_COM2_LINES: &[&str] = &["system-com2: pong"];

/// What the system test's boot must show, each exactly once.
const SYSTEM_LINES: &[&str] = &[
    "mercury: started pcserial: it has COM1 and drains the kernel log",
    "pcserial: COM1 found",
    "mercury: started ramfs",
    "ramfs: serving,",
    "system-client: ramfs round trip ok",
    "mercury: system-greedy: not started:",
    "mercury: system-broken: not started: bad ELF file",
    // Its odd restarts write to memory they were not given, a page further each time.
    "mercury: system-crasher faulted: page fault (Write at 0x600000001000)",
    "mercury: system-crasher faulted: page fault (Write at 0x600000003000)",
    "mercury: system-crasher faulted: page fault (Write at 0x600000005000)",
    "mercury: restarting system-crasher in 1600 ms",
    "mercury: system-crasher crashed 6 times; giving up on it",
    "system-client: hello through pcserial",
    "system-com2: COM2 said: ping from the host",
    "system-child: hello from a spawned program (arguments: one two)",
    "mercury: system-child faulted: page fault (Write at 0x500000000000)",
    "system-client: the children ended as they should",
    "mercury: system-flaky faulted: page fault (Write at 0x610000000000)",
    "mercury: restarting system-flaky in 100 ms",
    "mercury: started system-flaky (restart 1)",
    "mercury: reconnected 1 client to system-flaky",
    "system-client: flaky: no reply, it crashed",
    "system-client: flaky: a call while it is down fails",
    "system-client: flaky: answered after its restart (restart 1)",
    "system-client: done",
];

/// The Vulcan tests that skip on QEMU's `microvm`: it has no PCI. (It has an RTC.)
const MICROVM_SKIPS: &[&str] = &["ioport_pci_dword_round_trip", "ioport_pci_config_widths"];

/// One boot.
struct BootSpec {
    name: &'static str,
    boot: Boot,
    machine: Machine,
    expect: Expect,
}

/// `nix-instantiate --parse flake.nix`, one check, where Nix is installed.
fn flake_check(ws: &Workspace, tally: &mut Tally) {
    let what = "flake: nix-instantiate --parse flake.nix";
    match flake::parse(ws) {
        Parse::Unavailable => println!("skipped: flake parse check (nix-instantiate not installed)"),
        Parse::Parsed => {
            println!("== {what} ... ok");
            tally.check(true);
        }
        Parse::Failed(why) => {
            println!("== {what} ... FAILED");
            tally.check(false);
            show_output(what, &why);
        }
    }
}

/// The build, one check; whether it succeeded.
fn build_step(ws: &Workspace, tally: &mut Tally) -> bool {
    begin("build");
    if let Err(err) = build::build(ws, Output::OnFailure) {
        println!("FAILED");
        tally.check(false);
        show_output("build", &format!("{err:#}"));
        return false;
    }
    println!("ok");
    tally.check(true);
    true
}

/// `cargo xtask bench --check`, one check: the benchmarks under TCG with icount, every figure
/// held against `bench/baseline.json`, or the `skipped:` line saying why they cannot be here.
fn bench_check(ws: &Workspace, options: &Options, tally: &mut Tally) {
    let what = "bench check";
    let start = Instant::now();
    if let Err(err) = qemu::require_qemu() {
        println!("== {what} ... FAILED ({err})");
        tally.check(false);
        return;
    }
    let secs = || start.elapsed().as_secs_f64();
    match bench::check(ws, options.timeout) {
        Ok((bench::Verdict::Skipped(why), _)) => println!("skipped: {what} ({why})"),
        Ok((bench::Verdict::Passed(summary, notes), _)) => {
            println!("== {what} ... ok ({summary}, {:.1} s)", secs());
            for note in notes {
                println!("    note: {note}");
            }
            tally.check(true);
        }
        Ok((bench::Verdict::Failed(lines), report)) => {
            println!("== {what} ... FAILED ({:.1} s)", secs());
            for line in lines {
                println!("    {line}");
            }
            show_output("the figures (target/perihelion/bench.json)", &report.table());
            tally.check(false);
        }
        Err(err) => {
            println!("== {what} ... FAILED ({:.1} s)", secs());
            show_output(what, &format!("{err:#}"));
            tally.check(false);
        }
    }
}

/// The reproducibility check, one check: everything built again from a copy of the sources and
/// compared, the ISOs too where Limine is found.
fn reproducibility(ws: &Workspace, options: &Options, tally: &mut Tally) {
    let limine = if options.no_iso {
        println!("skipped: ISO reproducibility (--no-iso)");
        None
    } else {
        match limine::find() {
            Lookup::Found(limine) => Some(limine),
            Lookup::Missing => {
                println!("skipped: ISO reproducibility (no Limine: set LIMINE_DIR)");
                None
            }
            Lookup::Broken(why) => {
                println!("skipped: ISO reproducibility ({why})");
                None
            }
        }
    };
    begin(&format!("reproducibility: build again in {}", repro::COPY_DIR));
    let start = Instant::now();
    match repro::check(ws, limine.as_ref()) {
        Ok(comparison) => {
            let ok = comparison.reproducible();
            println!("{} ({:.1} s)", if ok { "ok" } else { "FAILED" }, start.elapsed().as_secs_f64());
            println!("{}", comparison.summary());
            for (name, how) in &comparison.differing {
                println!("    {name}: {how}");
            }
            tally.check(ok);
        }
        Err(err) => {
            println!("FAILED ({:.1} s)", start.elapsed().as_secs_f64());
            tally.check(false);
            show_output("reproducibility", &format!("{err:#}"));
        }
    }
}

fn boots(ws: &Workspace, options: &Options, tally: &mut Tally) {
    if let Err(err) = qemu::require_qemu() {
        println!("== boots ... FAILED ({err})");
        tally.check(false);
        return;
    }

    let pvh = |initrd: PathBuf| Boot::Pvh { kernel: ws.kernel_elf(), initrd, cmdline: vulcan_cmdline("pvh") };
    let threads = |mode: &str| Boot::Pvh {
        kernel: ws.kernel_elf(),
        initrd: ws.fixture_tar("threads"),
        cmdline: format!("{} fixture.mode={mode}", vulcan_cmdline("pvh")),
    };
    let fuzz =
        |seed: Option<u64>| Boot::Pvh { kernel: ws.kernel_elf(), initrd: ws.vulcan_tar(), cmdline: fuzz_cmdline(seed) };
    let vulcan = [
        BootSpec {
            name: "pvh-default",
            boot: fuzz(None),
            machine: Machine::default(),
            expect: Expect::Vulcan { may_skip: &[], fastpath: Fastpath::On },
        },
        BootSpec {
            name: "pvh-max",
            boot: fuzz(None),
            machine: Machine { cpu: Some("max".to_string()), ..Machine::default() },
            expect: Expect::Vulcan { may_skip: &[], fastpath: Fastpath::On },
        },
        BootSpec {
            name: "pvh-microvm",
            boot: pvh(ws.vulcan_tar()),
            machine: Machine { kind: Some("microvm".into()), ..Machine::default() },
            expect: Expect::Vulcan { may_skip: MICROVM_SKIPS, fastpath: Fastpath::On },
        },
        // Every test again with the kernel's fast paths off: the general paths are their
        // specification, so the results must be pvh-default's.
        BootSpec {
            name: "pvh-slowpath",
            boot: Boot::Pvh {
                kernel: ws.kernel_elf(),
                initrd: ws.vulcan_tar(),
                cmdline: format!("{} {FASTPATH_OFF}", vulcan_cmdline("pvh")),
            },
            machine: Machine::default(),
            expect: Expect::Vulcan { may_skip: &[], fastpath: Fastpath::Off },
        },
    ];
    let mut fixtures = vec![
        BootSpec {
            name: "fixture-exit3",
            boot: pvh(ws.fixture_tar("exit3")),
            machine: Machine::default(),
            expect: Expect::Fixture { status: qemu::STATUS_FAILURE, line: "root task exited with status 3" },
        },
        BootSpec {
            name: "fixture-fault",
            boot: pvh(ws.fixture_tar("fault")),
            machine: Machine::default(),
            expect: Expect::Fixture { status: qemu::STATUS_PANIC, line: "faulted: page fault" },
        },
        // The root task drops its boot VSpace and moves into an empty one: the kernel tears the
        // boot space down and the root task faults, an ordinary end (no hang, no kernel panic).
        BootSpec {
            name: "fixture-drop-boot-vspace",
            boot: pvh(ws.fixture_tar("drop-boot-vspace")),
            machine: Machine::default(),
            expect: Expect::Fixture { status: qemu::STATUS_PANIC, line: "root task stopped (it faulted)" },
        },
        // The normal system, used as a person would over the serial console: getty's shell runs
        // commands, reports a missing one and a faulting one, and `poweroff` ends QEMU (status 0).
        BootSpec {
            name: "shell",
            boot: pvh(ws.initramfs_tar()),
            machine: Machine::default(),
            expect: Expect::Dialogue { script: SHELL_SCRIPT, status: 0, lines: SHELL_LINES },
        },
        // The system: Mercury starts pcserial (which takes COM1 and drains the kernel log to
        // it), restarts a driver that touches a port it was not given until it gives up on it,
        // refuses a driver that asks for too much memory and one that is not an ELF file, and
        // starts a client that writes to COM1 through pcserial and ends the run.
        BootSpec {
            name: "system",
            boot: pvh(ws.fixture_tar("system")),
            machine: Machine {
                com2: Some(std::env::temp_dir().join(format!("perihelion-com2-{}.sock", std::process::id()))),
                ..Machine::default()
            },
            expect: Expect::System {
                status: qemu::STATUS_SUCCESS,
                lines: SYSTEM_LINES,
                script: SYSTEM_SCRIPT,
                com2: SYSTEM_COM2_LINES,
            },
        },
        // A thread that panics, or calls `sys::exit(7)`, ends the whole program with its status,
        // the main thread (waiting to join it) included.
        BootSpec {
            name: "fixture-thread-panic",
            boot: threads("panic"),
            machine: Machine::default(),
            expect: Expect::Fixture { status: qemu::STATUS_FAILURE, line: "root task exited with status 101" },
        },
        // The root task takes COM1 from the kernel (`console_release`) and drains the kernel log
        // to it through its own IoPort: the line it prints after the release reaches COM1 once,
        // through the ring and its driver, never straight from the kernel.
        BootSpec {
            name: "fixture-console-release",
            boot: pvh(ws.fixture_tar("console-release")),
            machine: Machine::default(),
            expect: Expect::Fixture {
                status: qemu::STATUS_SUCCESS,
                line: "fixture-console-release: after the release, through the log ring and this program's own UART driver",
            },
        },
        BootSpec {
            name: "fixture-thread-exit",
            boot: threads("exit"),
            machine: Machine::default(),
            expect: Expect::Fixture { status: qemu::STATUS_FAILURE, line: "root task exited with status 7" },
        },
    ];
    // Malformed boot images: one clear message, the panic exit code, never a triple fault.
    for (file, name, line) in [
        ("bad-tar", "fixture-bad-tar", "cannot start the root task: initramfs: not a valid ustar archive"),
        ("bad-elf", "fixture-bad-elf", "cannot start the root task: init: not an ELF file"),
        (
            "bad-segment",
            "fixture-bad-segment",
            "cannot start the root task: init: segment outside the user address space",
        ),
        ("no-init", "fixture-no-init", "cannot start the root task: initramfs: no such member"),
    ] {
        fixtures.push(BootSpec {
            name,
            boot: pvh(ws.fixture_tar(file)),
            machine: Machine::default(),
            expect: Expect::Fixture { status: qemu::STATUS_PANIC, line },
        });
    }
    let mut with_fastpath: Option<VulcanReport> = None;
    for spec in vulcan {
        let name = spec.name;
        let report = boot(ws, options, tally, spec, with_fastpath.as_ref());
        if name == "pvh-default" {
            with_fastpath = report;
        }
    }
    // The fuzzer on a seed that changes per run, after the fixed-seed boots: a failure is a real
    // bug, and fails the run like any other; the seed is printed first, to replay it.
    match fuzz_seed(options) {
        Ok((seed, why)) => {
            println!("fuzz seed {seed:#x} ({why}); replay: cargo xtask test --fuzz-seed {seed:#x}");
            let spec = BootSpec {
                name: "pvh-fuzz-seed",
                boot: fuzz(Some(seed)),
                machine: Machine::default(),
                expect: Expect::Vulcan { may_skip: &[], fastpath: Fastpath::On },
            };
            boot(ws, options, tally, spec, None);
        }
        Err(why) => println!("skipped: boot pvh-fuzz-seed (the fuzzer on a seed that changes per run; {why})"),
    }
    for spec in fixtures {
        boot(ws, options, tally, spec, None);
    }
    screen_boot(ws, options, tally);

    if options.no_iso {
        println!("skipped: ISO boots (--no-iso)");
        return;
    }
    let limine = match limine::find() {
        Lookup::Found(limine) => limine,
        Lookup::Missing => {
            println!("skipped: ISO boots (no Limine: set LIMINE_DIR)");
            return;
        }
        Lookup::Broken(why) => {
            println!("== iso ... FAILED ({why})");
            tally.check(false);
            return;
        }
    };
    begin("iso");
    if let Err(err) = iso::build_isos(ws, &limine) {
        println!("FAILED");
        tally.check(false);
        show_output("iso", &format!("{err:#}"));
        println!("skipped: ISO boots (the ISO build failed)");
        return;
    }
    println!("ok");
    tally.check(true);
    boot(
        ws,
        options,
        tally,
        BootSpec {
            name: "iso-bios",
            boot: Boot::Cdrom { iso: ws.iso("vulcan"), firmware: None },
            machine: Machine::default(),
            expect: Expect::Vulcan { may_skip: &[], fastpath: Fastpath::On },
        },
        None,
    );
    match qemu::ovmf() {
        Some(firmware) => {
            boot(
                ws,
                options,
                tally,
                BootSpec {
                    name: "iso-uefi",
                    boot: Boot::Cdrom { iso: ws.iso("vulcan"), firmware: Some(firmware) },
                    machine: Machine::default(),
                    expect: Expect::Vulcan { may_skip: &[], fastpath: Fastpath::On },
                },
                None,
            );
        }
        None => println!("skipped: ISO boot under UEFI (no OVMF: set OVMF_FD)"),
    }
}

/// The screen test (`crate::screen`): the normal system with QEMU's standard VGA and a QMP
/// socket; a command typed with `send-key`, the screen compared pixel for pixel.
fn screen_boot(ws: &Workspace, options: &Options, tally: &mut Tally) {
    begin("boot screen");
    let log = ws.logs_dir().join("screen.log");
    let dir = crate::screen::artifacts(&ws.out_dir());
    let socket = std::env::temp_dir().join(format!("perihelion-qmp-{}.sock", std::process::id()));
    let _ = std::fs::remove_file(&socket);
    if let Err(e) = std::fs::create_dir_all(&dir) {
        println!("FAILED (creating {}: {e})", dir.display());
        tally.check(false);
        return;
    }
    let boot = Boot::Pvh { kernel: ws.kernel_elf(), initrd: ws.initramfs_tar(), cmdline: String::new() };
    let machine = Machine { qmp: Some(socket.clone()), ..Machine::default() };
    let cmd = qemu::command(&boot, &machine);
    let line = qemu::display(&cmd);
    let driver = {
        let (socket, dir) = (socket.clone(), dir.clone());
        std::thread::spawn(move || crate::screen::drive(&socket, &dir))
    };
    let run = qemu::run_captured(cmd, &log, options.timeout);
    let (driven, last) = driver.join().unwrap_or_else(|_| (Err(anyhow::anyhow!("the QMP driver panicked")), None));
    let _ = std::fs::remove_file(&socket);
    let kept = crate::screen::keep(&dir, last.as_ref(), driven.is_ok());
    let verdict = match (run, driven, kept) {
        (Err(e), ..) => Err(format!("{e:#}")),
        (Ok(run), _, _) if run.end == End::TimedOut => Err("QEMU did not end".to_string()),
        (_, Err(e), _) => Err(format!("{e:#}")),
        (_, _, Err(e)) => Err(format!("{e:#}")),
        (Ok(_), Ok((ready, done)), Ok(png)) => Ok(format!(
            "the prompt after {:.1} s, the command's output {:.1} s after typing; {}",
            ready.as_secs_f64(),
            done.as_secs_f64(),
            png.map_or_else(String::new, |p| p.strip_prefix(&ws.root).unwrap_or(&p).display().to_string())
        )),
    };
    match verdict {
        Ok(what) => {
            println!("ok ({what})");
            tally.check(true);
        }
        Err(why) => {
            println!("FAILED ({why}; pictures in {})", dir.display());
            tally.check(false);
            println!("    command: {line}");
            let serial = std::fs::read(&log).map(|b| qemu::clean_serial(&b)).unwrap_or_default();
            show_output(&format!("serial output ({})", log.display()), &serial);
        }
    }
}

/// Runs one boot and counts it; a Vulcan boot's results are returned (`with_fastpath`: those of
/// the boot with the fast paths on, for a boot with them off to be held against).
fn boot(
    ws: &Workspace,
    options: &Options,
    tally: &mut Tally,
    spec: BootSpec,
    with_fastpath: Option<&VulcanReport>,
) -> Option<VulcanReport> {
    begin(&format!("boot {}", spec.name));
    let log = ws.logs_dir().join(format!("{}.log", spec.name));
    let cmd = qemu::command(&spec.boot, &spec.machine);
    let line = qemu::display(&cmd);
    let script = match spec.expect {
        Expect::Dialogue { script, .. } | Expect::System { script, .. } => script,
        _ => &[],
    };
    let run = match qemu::run_scripted(cmd, &log, options.timeout, script, spec.machine.com2.as_deref()) {
        Ok(run) => run,
        Err(err) => {
            println!("FAILED ({err:#})");
            tally.check(false);
            return None;
        }
    };
    let secs = run.elapsed.as_secs_f64();
    let serial = qemu::clean_serial(&run.serial);
    let mut vulcan_report = None;
    let verdict = match spec.expect {
        Expect::Vulcan { may_skip, fastpath } => {
            let report = parse_vulcan(&serial);
            tally.passed += report.ok as u64;
            tally.failed += report.failed.len() as u64;
            let verdict = judge_vulcan(&report, run.end)
                .and_then(|()| judge_skips(&report, may_skip))
                .and_then(|()| judge_fastpath(&serial, fastpath))
                .and_then(|()| match fastpath {
                    Fastpath::On => Ok(()),
                    Fastpath::Off => judge_same_results(&report, with_fastpath),
                })
                .and_then(|()| inventory::judge_boot(&ws.root, &report, &serial))
                .map(|listed| {
                    let ran = report.results.len();
                    let off = if fastpath == Fastpath::Off { ", fast paths off, results as with them on" } else { "" };
                    match report.skipped.len() {
                        0 => format!("{ran} of {listed} tests{off}"),
                        n => format!("{ran} of {listed} tests{off}, {n} skipped: {}", report.skipped.join(", ")),
                    }
                });
            vulcan_report = Some(report);
            verdict
        }
        Expect::Fixture { status, line } => judge_fixture(&serial, run.end, status, line),
        Expect::System { status, lines, com2, .. } => {
            let com2_text = qemu::clean_serial(&run.com2);
            lines
                .iter()
                .try_for_each(|line| judge_fixture(&serial, run.end, status, line).map(drop))
                .and_then(|()| {
                    com2.iter().try_for_each(|line| match com2_text.lines().filter(|l| l.contains(line)).count() {
                        1 => Ok(()),
                        n => Err(format!("COM2 has {n} lines with \"{line}\", not one (COM2: {com2_text:?})")),
                    })
                })
                .map(|()| format!("status {status}, {} lines, {} on COM2", lines.len(), com2.len()))
        }
        Expect::Dialogue { script, status, lines } => judge_dialogue(&serial, run.end, status, lines)
            .map(|()| format!("status {status}, {} steps typed, {} lines", script.len(), lines.len())),
    };
    match verdict {
        Ok(what) => {
            println!("ok ({what}, {secs:.1} s)");
            tally.check(true);
        }
        Err(why) => {
            println!("FAILED ({why}, {secs:.1} s)");
            tally.check(false);
            println!("    command: {line}");
            let title = format!("serial output ({})", log.display());
            if serial.trim().is_empty() {
                println!("--- {title}: nothing");
            } else {
                show_output(&title, &serial);
            }
            let stderr = qemu::clean_serial(&run.stderr);
            if !stderr.trim().is_empty() {
                show_output("QEMU's stderr", &stderr);
            }
        }
    }
    vulcan_report
}

/// The sum of `N passed; M failed` over every `test result:` line of `cargo test`'s stdout, or
/// `None` if there is no such line.
pub fn parse_cargo_test(stdout: &str) -> Option<(u64, u64)> {
    let mut total: Option<(u64, u64)> = None;
    for line in stdout.lines() {
        let Some(rest) = line.trim().strip_prefix("test result: ") else {
            continue;
        };
        // "ok. 3 passed; 0 failed; 0 ignored; ..." or "FAILED. 1 passed; 2 failed; ..."
        let Some((_, counts)) = rest.split_once(". ") else {
            continue;
        };
        let mut passed = None;
        let mut failed = None;
        for part in counts.split(';') {
            let mut words = part.split_whitespace();
            let (Some(n), Some(what)) = (words.next(), words.next()) else {
                continue;
            };
            let Ok(n) = n.parse::<u64>() else { continue };
            match what {
                "passed" => passed = Some(n),
                "failed" => failed = Some(n),
                _ => {}
            }
        }
        if let (Some(p), Some(f)) = (passed, failed) {
            let t = total.get_or_insert((0, 0));
            t.0 += p;
            t.1 += f;
        }
    }
    total
}

/// What a Vulcan boot printed.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct VulcanReport {
    /// `test NAME ... ok` lines.
    pub ok: usize,
    /// `test NAME ... FAILED: reason` lines: (name, reason).
    pub failed: Vec<(String, String)>,
    /// `test NAME ... skipped: reason` lines: the names.
    pub skipped: Vec<String>,
    /// The `vulcan: N passed, M failed, K skipped` line, if any (the last one).
    pub summary: Option<(u64, u64, u64)>,
    /// Every result line, in order: its index among the serial's lines and the test's name
    /// (judged against Vulcan's inventory, [`inventory`]).
    pub results: Vec<(usize, String)>,
}

/// Reads Vulcan's serial output. Lines may end in `\r\n`; anything else on the port (kernel and
/// bootloader messages) is ignored.
pub fn parse_vulcan(serial: &str) -> VulcanReport {
    let mut report = VulcanReport::default();
    for (index, line) in serial.lines().enumerate() {
        let line = line.trim_end_matches('\r').trim();
        if let Some(rest) = line.strip_prefix("test ") {
            let Some((name, result)) = rest.split_once(" ... ") else {
                continue;
            };
            let name = name.trim().to_string();
            if result == "ok" {
                report.ok += 1;
            } else if let Some(reason) = result.strip_prefix("FAILED") {
                let reason = reason.trim_start_matches(':').trim().to_string();
                report.failed.push((name.clone(), reason));
            } else if result.starts_with("skipped:") {
                report.skipped.push(name.clone());
            } else {
                continue;
            }
            report.results.push((index, name));
        } else if let Some(rest) = line.strip_prefix("vulcan: ")
            && let Some(summary) = parse_summary(rest)
        {
            report.summary = Some(summary);
        }
    }
    report
}

/// `N passed, M failed, K skipped`.
fn parse_summary(text: &str) -> Option<(u64, u64, u64)> {
    let mut parts = text.split(", ");
    let mut count = |what: &str| -> Option<u64> { parts.next()?.strip_suffix(what)?.trim().parse().ok() };
    let counts = (count(" passed")?, count(" failed")?, count(" skipped")?);
    parts.next().is_none().then_some(counts)
}

/// A Vulcan boot passes if QEMU exited 33 and the summary agrees with the lines: N equal to the
/// `ok` lines, M to the `FAILED` lines and K to the `skipped` lines, and M is 0.
pub fn judge_vulcan(report: &VulcanReport, end: End) -> Result<(), String> {
    let Some((passed, failed, skipped)) = report.summary else {
        return Err(match end {
            End::TimedOut => "timed out before the `vulcan:` summary line".to_string(),
            end => format!("no `vulcan: N passed, M failed, K skipped` line; {end}"),
        });
    };
    if !report.failed.is_empty() {
        let names: Vec<&str> = report.failed.iter().map(|(n, _)| n.as_str()).collect();
        return Err(format!("failed: {}", names.join(", ")));
    }
    if failed != 0 {
        return Err(format!("summary says {failed} failed"));
    }
    if passed != report.ok as u64 {
        return Err(format!("summary says {passed} passed but {} tests printed ok", report.ok));
    }
    if skipped != report.skipped.len() as u64 {
        return Err(format!("summary says {skipped} skipped but {} tests printed skipped", report.skipped.len()));
    }
    if end != End::Exited(qemu::STATUS_SUCCESS) {
        return Err(format!("{end}, expected status {}", qemu::STATUS_SUCCESS));
    }
    Ok(())
}

/// A boot passes only if every test it skipped is one that may skip on its machine: elsewhere a
/// skip would hide a failure (a device probe that misreads a machine that has the device).
pub fn judge_skips(report: &VulcanReport, may_skip: &[&str]) -> Result<(), String> {
    let unexpected: Vec<&str> =
        report.skipped.iter().map(String::as_str).filter(|name| !may_skip.contains(name)).collect();
    if unexpected.is_empty() {
        Ok(())
    } else {
        Err(format!("skipped on a machine that has what they need: {}", unexpected.join(", ")))
    }
}

/// A fixture boot passes with the expected status and serial line.
/// A dialogue boot: `status`, and exactly one line equal to each of `lines` (trailing white
/// space, such as the `\r` a terminal line ends in, aside; an expected line ending in `...` is
/// a prefix of the line, and one starting with `... ` the end of a line, after a blank).
pub fn judge_dialogue(serial: &str, end: End, status: i32, lines: &[&str]) -> Result<(), String> {
    if end != End::Exited(status) {
        return Err(format!("{end}, expected status {status}"));
    }
    for line in lines {
        let matches = |l: &str| match (line.strip_suffix("..."), line.strip_prefix("... ")) {
            (Some(prefix), _) => l.starts_with(prefix),
            (None, Some(suffix)) => l.trim_end().strip_suffix(suffix).is_some_and(|rest| rest.ends_with(' ')),
            (None, None) => l.trim_end() == *line,
        };
        match serial.lines().filter(|l| matches(l)).count() {
            1 => {}
            0 => return Err(format!("no serial line {line:?}")),
            n => return Err(format!("{n} serial lines {line:?}, expected one")),
        }
    }
    Ok(())
}

pub fn judge_fixture(serial: &str, end: End, status: i32, line: &str) -> Result<String, String> {
    if end != End::Exited(status) {
        return Err(format!("{end}, expected status {status}"));
    }
    match serial.lines().filter(|l| l.contains(line)).count() {
        1 => Ok(format!("status {status}")),
        0 => Err(format!("no serial line containing {line:?}")),
        n => Err(format!("{n} serial lines containing {line:?}, expected one")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cargo_test_lines_are_summed() {
        let out = "\
running 3 tests
test a ... ok
test result: ok. 3 passed; 0 failed; 0 ignored; 0 measured; 0 filtered out; finished in 0.00s

running 0 tests
test result: ok. 0 passed; 0 failed; 0 ignored; 0 measured; 0 filtered out; finished in 0.00s

test result: FAILED. 4 passed; 2 failed; 1 ignored; 0 measured; 0 filtered out; finished in 0.01s
";
        assert_eq!(parse_cargo_test(out), Some((7, 2)));
        assert_eq!(parse_cargo_test("error[E0432]: unresolved import\n"), None);
    }

    #[test]
    fn vulcan_output_is_counted() {
        let serial = "\
Perihelion 0.1.0 booting\r
test cap_copy ... ok\r
test ipc_call ... FAILED: reply was 3, expected 4\r
test yield ... ok
test pci ... skipped: no PCI bus
vulcan: 2 passed, 1 failed, 1 skipped
";
        let report = parse_vulcan(serial);
        assert_eq!(report.ok, 2);
        assert_eq!(report.failed, [("ipc_call".to_string(), "reply was 3, expected 4".to_string())]);
        assert_eq!(report.skipped, ["pci"]);
        assert_eq!(report.summary, Some((2, 1, 1)));
        let results: Vec<(usize, &str)> = report.results.iter().map(|(i, n)| (*i, n.as_str())).collect();
        assert_eq!(results, [(1, "cap_copy"), (2, "ipc_call"), (3, "yield"), (4, "pci")]);
        assert!(judge_vulcan(&report, End::Exited(35)).is_err());
    }

    #[test]
    fn clean_vulcan_run_passes() {
        let serial = "test a ... ok\ntest b ... ok\nvulcan: 2 passed, 0 failed, 0 skipped\n";
        let report = parse_vulcan(serial);
        assert_eq!(judge_vulcan(&report, End::Exited(33)), Ok(()));
        let serial = "test a ... ok\ntest b ... skipped: no RTC\nvulcan: 1 passed, 0 failed, 1 skipped\n";
        assert_eq!(judge_vulcan(&parse_vulcan(serial), End::Exited(33)), Ok(()));
        // The old two-count summary is not a summary any more.
        assert_eq!(parse_vulcan("test a ... ok\nvulcan: 1 passed, 0 failed\n").summary, None);
        // The status must be 33.
        assert!(judge_vulcan(&report, End::Exited(35)).is_err());
        assert!(judge_vulcan(&report, End::TimedOut).is_err());
    }

    #[test]
    fn skips_only_where_allowed() {
        let serial = "test a ... ok\ntest pci ... skipped: no PCI\nvulcan: 1 passed, 0 failed, 1 skipped\n";
        let report = parse_vulcan(serial);
        assert_eq!(judge_skips(&report, &["pci", "rtc"]), Ok(()));
        assert_eq!(judge_skips(&report, &[]), Err("skipped on a machine that has what they need: pci".to_string()));
        assert_eq!(judge_skips(&parse_vulcan("test a ... ok\n"), &[]), Ok(()));
        assert!(MICROVM_SKIPS.iter().all(|name| name.starts_with("ioport_pci_")));
    }

    #[test]
    fn inconsistent_or_missing_summary_fails() {
        let missing = parse_vulcan("test a ... ok\n");
        assert!(judge_vulcan(&missing, End::Exited(33)).is_err());
        let miscounted = parse_vulcan("test a ... ok\nvulcan: 2 passed, 0 failed, 0 skipped\n");
        assert!(judge_vulcan(&miscounted, End::Exited(33)).is_err());
        let hidden_failure = parse_vulcan("test a ... ok\nvulcan: 1 passed, 1 failed, 0 skipped\n");
        assert!(judge_vulcan(&hidden_failure, End::Exited(33)).is_err());
        let hidden_skip = parse_vulcan("test a ... ok\nvulcan: 1 passed, 0 failed, 1 skipped\n");
        assert!(judge_vulcan(&hidden_skip, End::Exited(33)).is_err());
    }

    #[test]
    fn unfinished_test_lines_are_not_counted() {
        let report = parse_vulcan("test a ... \ntest b\nvulcan: 0 passed, 0 failed, 0 skipped\n");
        assert_eq!(report.ok, 0);
        assert!(report.failed.is_empty());
        assert_eq!(report.summary, Some((0, 0, 0)));
    }

    fn options(quick: bool, only: &[Part]) -> Options {
        Options { timeout: Duration::from_secs(1), quick, no_iso: false, only: only.to_vec(), fuzz_seed: None }
    }

    #[test]
    fn parts_follow_quick_and_only() {
        let all = options(false, &[]);
        assert!(Part::ALL.into_iter().all(|p| all.runs(p)));
        assert_eq!(all.skipped_line(), None);

        let quick = options(true, &[]);
        assert_eq!(Part::ALL.into_iter().filter(|&p| quick.runs(p)).collect::<Vec<_>>(), [Part::Boots]);
        assert_eq!(
            quick.skipped_line().unwrap(),
            "skipped: host tests, MSRV host tests, Miri, rustfmt, clippy, doc checks, flake parse check, bench check, \
             reproducibility check (--quick)"
        );

        let only = options(false, &[Part::HostTests, Part::Repro]);
        assert!(only.runs(Part::HostTests) && only.runs(Part::Repro) && !only.runs(Part::Boots));
        assert_eq!(
            only.skipped_line().unwrap(),
            "skipped: MSRV host tests, Miri, rustfmt, clippy, doc checks, flake parse check, build and boots, \
             bench check (--only host-tests,repro)"
        );
        assert_eq!(options(true, &[Part::Clippy]).skipped_line().unwrap().matches(", ").count(), 9);
    }

    #[test]
    fn fuzz_seeds_parse_as_vulcan_reads_them() {
        assert_eq!(parse_seed("12345"), Ok(12345));
        assert_eq!(parse_seed("0x5eed_f022_2026_0001"), Ok(0x5eed_f022_2026_0001));
        assert_eq!(parse_seed("0XFF"), Ok(255));
        assert_eq!(parse_seed("18446744073709551615"), Ok(u64::MAX));
        for bad in ["", "0x", "x1", "12a", "-1", "0x1_0000_0000_0000_0000", "_1", "0x_1", "1 2"] {
            assert!(parse_seed(bad).is_err(), "{bad:?}");
        }
        assert_eq!(fuzz_cmdline(None), "vulcan.boot=pvh vulcan.fuzz_calls=1000000");
        assert_eq!(fuzz_cmdline(Some(0xab)), "vulcan.boot=pvh vulcan.fuzz_calls=1000000 vulcan.fuzz_seed=0xab");
    }

    #[test]
    fn an_explicit_fuzz_seed_always_runs() {
        let options = Options { fuzz_seed: Some(7), ..options(false, &[]) };
        assert_eq!(fuzz_seed(&options), Ok((7, "from --fuzz-seed")));
    }

    #[test]
    fn fast_paths_are_judged_on_and_off() {
        let on = "[ info] fastpath: on\ntest a ... ok\n[ info] fastpath: call 3, reply_recv 1\n";
        assert_eq!(parse_fastpath_counts(on), Some(vec![("call".to_string(), 3), ("reply_recv".to_string(), 1)]));
        assert_eq!(judge_fastpath(on, Fastpath::On), Ok(()));
        assert!(judge_fastpath(on, Fastpath::Off).is_err());
        let never = "[ info] fastpath: on\n[ info] fastpath: call 3, reply_recv 0\n";
        assert_eq!(judge_fastpath(never, Fastpath::On), Err("fast paths never taken: reply_recv".to_string()));
        let off = "[ info] fastpath: off (perihelion.fastpath=off)\n[ info] fastpath: call 0, reply_recv 0\n";
        assert_eq!(judge_fastpath(off, Fastpath::Off), Ok(()));
        assert!(judge_fastpath(off, Fastpath::On).is_err());
        let leaked = "[ info] fastpath: off (perihelion.fastpath=off)\n[ info] fastpath: call 1, reply_recv 0\n";
        assert_eq!(judge_fastpath(leaked, Fastpath::Off), Err("fast paths taken while off: call 1".to_string()));
        assert!(judge_fastpath("[ info] fastpath: on\n", Fastpath::On).is_err());
    }

    #[test]
    fn results_with_the_fast_paths_off_must_match() {
        let on = parse_vulcan("test a ... ok\ntest b ... skipped: no x\nvulcan: 1 passed, 0 failed, 1 skipped\n");
        let same = parse_vulcan("test a ... ok\ntest b ... skipped: no x\nvulcan: 1 passed, 0 failed, 1 skipped\n");
        assert_eq!(judge_same_results(&same, Some(&on)), Ok(()));
        let other = parse_vulcan("test a ... FAILED: no\ntest b ... skipped: no x\n");
        let err = judge_same_results(&other, Some(&on)).unwrap_err();
        assert!(err.contains("a: ok on, FAILED off"), "{err}");
        assert!(judge_same_results(&same, None).is_err());
    }

    #[test]
    fn fixtures_need_status_and_line() {
        let serial = "kernel: root task exited with status 3\n";
        let line = "root task exited with status 3";
        assert!(judge_fixture(serial, End::Exited(35), 35, line).is_ok());
        assert!(judge_fixture(serial, End::Exited(33), 35, line).is_err());
        assert!(judge_fixture("", End::Exited(35), 35, line).is_err());
        let twice = format!("{serial}{serial}");
        assert!(judge_fixture(&twice, End::Exited(35), 35, line).is_err(), "a line written twice");
    }

    #[test]
    fn dialogues_need_whole_lines_once() {
        let serial = "$ echo hi\r\nhi\r\n$ fault\r\nsh: fault: faulted (rip 0x40)\r\n";
        assert!(judge_dialogue(serial, End::Exited(0), 0, &["hi", "sh: fault: faulted (rip ..."]).is_ok());
        assert!(judge_dialogue(serial, End::Exited(33), 0, &["hi"]).is_err(), "the status");
        assert!(judge_dialogue(serial, End::Exited(0), 0, &["h"]).is_err(), "a part of a line is not the line");
        assert!(judge_dialogue(&format!("{serial}hi\n"), End::Exited(0), 0, &["hi"]).is_err(), "twice");
        let listing = "$ ls /bin\r\n    4096 cat\r\n     512 ls\r\n$ echo dog\r\ncat\r\n";
        assert!(judge_dialogue(listing, End::Exited(0), 0, &["... ls", "... cat"]).is_ok());
        assert!(judge_dialogue(listing, End::Exited(0), 0, &["... s"]).is_err(), "a part of a word is not the end");
        assert!(judge_dialogue(listing, End::Exited(0), 0, &["... mkdir"]).is_err(), "missing");
        let steps = [qemu::Step::com1("$ ", "x")];
        assert_eq!(qemu::step_ready(serial.as_bytes(), 0, &steps[0]), Some(2));
        assert_eq!(qemu::step_ready(serial.as_bytes(), 2, &steps[0]), Some(17));
        assert_eq!(qemu::step_ready(serial.as_bytes(), 17, &steps[0]), None);
    }
}
