//! `cargo xtask bench`: boots the benchmark program (`bench.tar`, whose `init` is
//! `vulcan/src/bin/bench.rs`) by PVH, reads the figures it prints, shows them as a table and
//! writes them to `target/perihelion/bench.json`; with `--check`, holds them against the committed
//! baseline ([`BASELINE`]), as `cargo xtask test` does.
//!
//! It runs under KVM (`-enable-kvm -cpu host`) when [`qemu::kvm_probe`] shows that KVM works
//! here, where the figures are TSC cycles; otherwise, or with `--tcg`, under TCG with
//! `-icount shift=0,sleep=off`, where the guest's TSC advances by one per guest instruction, so
//! the figures are instruction counts and repeat exactly from run to run. The RTC runs on the
//! guest's virtual clock (`-rtc clock=vm`), so its interrupts (`irq_to_driver`) come at the same
//! instruction counts in every run too.
//!
//! The program's last `bench: {...}` line is a JSON object with `cpu`, `iterations` and
//! `results` (figure name to `{"median": c, "min": c}`, plus `"batch": c` for a figure with a
//! batch form); xtask checks it, adds `mode` (`kvm` or `tcg-icount`) and writes `{"mode", "cpu",
//! "iterations", "results"}` in that order, the figures in the program's order. Under TCG every
//! batch form must agree with its figure's median ([`Figure::agrees`]): a batch that costs more
//! than its samples means work left the timed window.
//!
//! **The check** (`--check`, and `cargo xtask test`): always under TCG with icount and QEMU's
//! default CPU. The figures are exact for a given binary, toolchain and QEMU, so this is not a
//! timing test: it fails when a median grows by more than [`GROWTH_PERCENT`]% over
//! [`BASELINE`], when a figure is missing on either side, or when a batch form disagrees. Where
//! the `rustc` or the QEMU release (major.minor) differs from the baseline's, or the CPU model
//! the program reports does, the figures would differ for reasons of their own, so the check
//! says `skipped: bench check (...)` instead. `--write-baseline` writes the baseline from a
//! run; it is committed with the change that moves a figure, saying why in the message.

use std::fmt::Write as _;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use serde_json::{Map, Value, json};

use crate::build::{self, Output};
use crate::qemu::{self, Boot, End, Machine};
use crate::workspace::Workspace;

/// What `cargo xtask bench` was asked.
pub struct Options {
    /// Never use KVM.
    pub tcg: bool,
    /// Time limit for the boot.
    pub timeout: Duration,
    /// `-cpu` for the KVM probe and boot (default `host`) and for TCG (default QEMU's; a `host`
    /// model, which needs KVM, is not passed to TCG).
    pub cpu: Option<String>,
    /// Hold the figures against the baseline (TCG, QEMU's default CPU).
    pub check: bool,
    /// Write the baseline from this run (TCG, QEMU's default CPU).
    pub write_baseline: bool,
}

/// The QEMU options of the TCG mode: a virtual clock of one nanosecond per guest instruction
/// (which, while the guest halts, jumps straight to the next timer deadline).
pub const ICOUNT: [&str; 2] = ["-icount", "shift=0,sleep=off"];

/// The RTC on the guest's clock, so that its interrupts come at fixed instruction counts.
pub const RTC: [&str; 2] = ["-rtc", "clock=vm"];

/// The figures the issue asks for; the program may report more.
pub const REQUIRED: [&str; 5] = ["null_syscall", "ipc_call_reply", "note_signal_wait", "fault_round_trip", "yield"];

/// The committed baseline, relative to the workspace root.
pub const BASELINE: &str = "bench/baseline.json";

/// How much a median may grow over the baseline's before the check fails, in percent.
pub const GROWTH_PERCENT: u64 = 2;

/// How far a batch form may be from its median: this many instructions, or [`GROWTH_PERCENT`]%
/// of the median where that is more. The two differ by the user-side code around the operation
/// (one TSC read per sample against a loop step per batch operation, and whatever a sample
/// checks after its second read): a few tens of instructions at most. Work deferred out of a
/// sample costs more than that (a reaper step alone is longer).
pub const BATCH_SLACK: u64 = 24;

/// How the figures were taken.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Mode {
    /// Under KVM: TSC cycles.
    Kvm,
    /// Under TCG with `-icount shift=0`: guest instructions.
    TcgIcount,
}

impl Mode {
    /// The `mode` of `bench.json`.
    pub fn name(self) -> &'static str {
        match self {
            Mode::Kvm => "kvm",
            Mode::TcgIcount => "tcg-icount",
        }
    }

    /// What one unit of a figure is.
    fn unit(self) -> &'static str {
        match self {
            Mode::Kvm => "TSC cycles",
            Mode::TcgIcount => "guest instructions (TSC under -icount shift=0)",
        }
    }
}

/// One figure: median and minimum over the program's iterations, and the batch form where the
/// figure has one.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct Figure {
    /// The median sample.
    pub median: u64,
    /// The smallest sample.
    pub min: u64,
    /// Back-to-back operations timed as a whole, per operation.
    pub batch: Option<u64>,
}

impl Figure {
    /// Whether the batch form (if any) agrees with the median: within [`BATCH_SLACK`]
    /// instructions, or [`GROWTH_PERCENT`]% of the median where that is more.
    pub fn agrees(&self) -> bool {
        let slack = BATCH_SLACK.max(self.median * GROWTH_PERCENT / 100);
        self.batch.is_none_or(|b| b.abs_diff(self.median) <= slack)
    }

    fn to_json(self) -> Value {
        match self.batch {
            Some(b) => json!({"median": self.median, "min": self.min, "batch": b}),
            None => json!({"median": self.median, "min": self.min}),
        }
    }

    fn from_json(name: &str, figure: &Value) -> Result<Figure> {
        let number = |key: &str| figure.get(key).and_then(Value::as_u64);
        let (Some(median), Some(min)) = (number("median"), number("min")) else {
            bail!("figure `{name}` has no numbers `median` and `min`: {figure}");
        };
        let batch = match figure.get("batch") {
            None => None,
            Some(b) => Some(b.as_u64().with_context(|| format!("figure `{name}`: `batch` is not a number"))?),
        };
        Ok(Figure { median, min, batch })
    }
}

/// What the program reported.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Report {
    /// The CPUID brand string.
    pub cpu: String,
    /// Recorded samples per figure.
    pub iterations: u64,
    /// Figures by name, in the program's order.
    pub results: Vec<(String, Figure)>,
}

/// The figures of a `results` object, in order.
fn results_to_json(results: &[(String, Figure)]) -> Value {
    let mut map = Map::new();
    for (name, f) in results {
        map.insert(name.clone(), f.to_json());
    }
    Value::Object(map)
}

/// The figures of a `results` object.
fn results_from_json(value: &Value) -> Result<Vec<(String, Figure)>> {
    let figures = value.as_object().context("`results` is not an object")?;
    figures.iter().map(|(name, figure)| Ok((name.clone(), Figure::from_json(name, figure)?))).collect()
}

impl Report {
    /// `bench.json`: `mode`, `cpu`, `iterations`, `results`, in that order.
    pub fn to_json(&self, mode: Mode) -> Value {
        json!({"mode": mode.name(), "cpu": self.cpu, "iterations": self.iterations,
            "results": results_to_json(&self.results)})
    }

    /// The figures as a table, one per line, with a heading.
    pub fn table(&self) -> String {
        let width = self.results.iter().map(|(n, _)| n.len()).chain(["figure".len()]).max().unwrap_or(0);
        let mut out = format!("{:<width$}  {:>10}  {:>10}  {:>10}\n", "figure", "median", "min", "batch");
        for (name, f) in &self.results {
            let batch = f.batch.map_or_else(|| "-".to_string(), |b| b.to_string());
            let _ = writeln!(out, "{name:<width$}  {:>10}  {:>10}  {batch:>10}", f.median, f.min);
        }
        out
    }

    /// One line per figure whose batch form disagrees with its median.
    pub fn disagreements(&self) -> Vec<String> {
        self.results
            .iter()
            .filter(|(_, f)| !f.agrees())
            .map(|(name, f)| {
                format!(
                    "{name}: batch form {} against median {}: work left the timed window?",
                    f.batch.unwrap_or(0),
                    f.median
                )
            })
            .collect()
    }
}

/// Reads the program's serial output: the last `bench: {...}` line, checked to hold every
/// figure of [`REQUIRED`].
pub fn parse_report(serial: &str) -> Result<Report> {
    let line = serial
        .lines()
        .rev()
        .find_map(|l| l.trim().strip_prefix("bench: ").filter(|rest| rest.starts_with('{')))
        .context("no `bench: {...}` line in the serial output")?;
    let value: Value = serde_json::from_str(line).context("the `bench:` line is not valid JSON")?;
    let cpu = value.get("cpu").and_then(Value::as_str).context("no string `cpu` in the `bench:` line")?;
    let iterations =
        value.get("iterations").and_then(Value::as_u64).context("no number `iterations` in the `bench:` line")?;
    let results = results_from_json(value.get("results").context("no object `results` in the `bench:` line")?)?;
    let missing: Vec<&str> = REQUIRED.into_iter().filter(|r| !results.iter().any(|(n, _)| n == r)).collect();
    if !missing.is_empty() {
        bail!("the `bench:` line lacks {}", missing.join(", "));
    }
    Ok(Report { cpu: cpu.to_string(), iterations, results })
}

/// The tools whose versions decide the figures, besides the sources: the compiler and QEMU.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Toolchain {
    /// `rustc --version`, as cargo runs it in the workspace.
    pub rustc: String,
    /// The first line of `qemu-system-x86_64 --version`.
    pub qemu: String,
}

impl Toolchain {
    /// The tools here.
    pub fn here(ws: &Workspace) -> Result<Toolchain> {
        let rustc = std::env::var_os("RUSTC").unwrap_or_else(|| "rustc".into());
        let output = ws.command(rustc).arg("--version").output().context("running rustc --version")?;
        if !output.status.success() {
            bail!("rustc --version failed: {}", output.status);
        }
        let rustc = String::from_utf8_lossy(&output.stdout).trim().to_string();
        Ok(Toolchain { rustc, qemu: qemu::version()? })
    }

    /// Why figures taken with `self` cannot be held against figures taken with `baseline`, if
    /// they cannot: another `rustc` (its whole version line: another build may use another
    /// LLVM), or another QEMU release. QEMU's patch releases do not change how TCG counts
    /// instructions (design §8 found the same figures even on 10.0.2), so only major.minor
    /// counts: a distribution's security update does not turn the check off.
    pub fn differs_from(&self, baseline: &Toolchain) -> Option<String> {
        if self.rustc != baseline.rustc {
            return Some(format!("{}; the baseline was taken with {}", self.rustc, baseline.rustc));
        }
        if qemu_release(&self.qemu) != qemu_release(&baseline.qemu) {
            return Some(format!("{}; the baseline was taken with {}", self.qemu, baseline.qemu));
        }
        None
    }
}

/// The major.minor release in a `QEMU emulator version X.Y.Z ...` line.
pub fn qemu_release(line: &str) -> Option<String> {
    let version = line.split_whitespace().find(|w| w.chars().next().is_some_and(|c| c.is_ascii_digit()))?;
    let mut parts = version.split('.');
    Some(format!("{}.{}", parts.next()?, parts.next()?))
}

/// The committed baseline: the figures and what they were taken with.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Baseline {
    /// The compiler and QEMU.
    pub toolchain: Toolchain,
    /// The CPU model the program reported.
    pub cpu: String,
    /// Recorded samples per figure.
    pub iterations: u64,
    /// The figures, in the program's order.
    pub results: Vec<(String, Figure)>,
}

impl Baseline {
    /// The baseline of a run (under TCG with icount) with `toolchain`.
    pub fn of(report: &Report, toolchain: Toolchain) -> Baseline {
        Baseline { toolchain, cpu: report.cpu.clone(), iterations: report.iterations, results: report.results.clone() }
    }

    /// The file's contents.
    pub fn to_json(&self) -> Value {
        json!({"rustc": self.toolchain.rustc, "qemu": self.toolchain.qemu, "cpu": self.cpu,
            "mode": Mode::TcgIcount.name(), "iterations": self.iterations,
            "results": results_to_json(&self.results)})
    }

    /// Reads the file's contents.
    pub fn parse(text: &str) -> Result<Baseline> {
        let value: Value = serde_json::from_str(text).context("not valid JSON")?;
        let string = |key: &str| -> Result<String> {
            Ok(value.get(key).and_then(Value::as_str).with_context(|| format!("no string `{key}`"))?.to_string())
        };
        let mode = string("mode")?;
        if mode != Mode::TcgIcount.name() {
            bail!("`mode` is {mode:?}: a baseline is taken under TCG with icount");
        }
        Ok(Baseline {
            toolchain: Toolchain { rustc: string("rustc")?, qemu: string("qemu")? },
            cpu: string("cpu")?,
            iterations: value.get("iterations").and_then(Value::as_u64).context("no number `iterations`")?,
            results: results_from_json(value.get("results").context("no object `results`")?)?,
        })
    }
}

/// What the check found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// The figures cannot be compared here: why.
    Skipped(String),
    /// Every figure within bounds; the summary, and notes (figures well below the baseline).
    Passed(String, Vec<String>),
    /// What is wrong, one line each.
    Failed(Vec<String>),
}

/// Holds a run's figures (taken with `toolchain`) against `baseline`.
pub fn compare(baseline: &Baseline, toolchain: &Toolchain, report: &Report) -> Verdict {
    if let Some(why) = toolchain.differs_from(&baseline.toolchain) {
        return Verdict::Skipped(why);
    }
    if report.cpu != baseline.cpu {
        return Verdict::Skipped(format!("CPU model {:?}; the baseline was taken on {:?}", report.cpu, baseline.cpu));
    }
    let mut failures = report.disagreements();
    let mut notes = Vec::new();
    if report.iterations != baseline.iterations {
        failures.push(format!("{} iterations per figure; the baseline has {}", report.iterations, baseline.iterations));
    }
    for (name, base) in &baseline.results {
        let Some((_, now)) = report.results.iter().find(|(n, _)| n == name) else {
            failures.push(format!("{name}: in {BASELINE} but not measured"));
            continue;
        };
        let limit = base.median + base.median * GROWTH_PERCENT / 100;
        if now.median > limit {
            failures.push(format!(
                "{name}: median {} against {} in {BASELINE} (+{:.1}%, more than {GROWTH_PERCENT}%)",
                now.median,
                base.median,
                (now.median as f64 / base.median.max(1) as f64 - 1.0) * 100.0
            ));
        } else if now.median + base.median * GROWTH_PERCENT / 100 < base.median {
            notes.push(format!(
                "{name}: median {} against {} in {BASELINE}: update the baseline",
                now.median, base.median
            ));
        }
    }
    for (name, _) in &report.results {
        if !baseline.results.iter().any(|(n, _)| n == name) {
            failures.push(format!("{name}: measured but not in {BASELINE} (add it: --write-baseline)"));
        }
    }
    if failures.is_empty() {
        let summary = format!(
            "{} figures, none more than {GROWTH_PERCENT}% above {BASELINE}, every batch form agreeing",
            report.results.len()
        );
        Verdict::Passed(summary, notes)
    } else {
        Verdict::Failed(failures)
    }
}

/// Decides the mode: KVM if not refused and the probe boot works, else TCG with icount. Says
/// why KVM is not used.
fn choose_mode(ws: &Workspace, options: &Options) -> Mode {
    if options.tcg {
        eprintln!("kvm: not used (--tcg)");
        return Mode::TcgIcount;
    }
    let log = ws.logs_dir().join("kvm-probe.log");
    match qemu::kvm_probe(&ws.kernel_elf(), &ws.fixture_tar("exit3"), &log, options.cpu.as_deref()) {
        Ok(()) => Mode::Kvm,
        Err(why) => {
            eprintln!("kvm: not used, running under TCG with -icount ({why})");
            Mode::TcgIcount
        }
    }
}

/// The QEMU command of a benchmark boot in `mode`.
pub fn command(ws: &Workspace, mode: Mode, cpu: Option<&str>) -> std::process::Command {
    command_with(ws, mode, cpu, &ws.bench_tar())
}

/// The QEMU command of a benchmark boot in `mode` of the archive `initrd`.
pub fn command_with(ws: &Workspace, mode: Mode, cpu: Option<&str>, initrd: &std::path::Path) -> std::process::Command {
    let boot = Boot::Pvh { kernel: ws.kernel_elf(), initrd: initrd.to_path_buf(), cmdline: String::new() };
    let machine = match mode {
        Mode::Kvm => Machine {
            cpu: Some(cpu.unwrap_or("host").to_string()),
            memory: Some("256M".to_string()),
            kvm: true,
            ..Machine::default()
        },
        // `host` models need KVM: a TCG run after a failed probe takes QEMU's default.
        Mode::TcgIcount => Machine {
            cpu: cpu.filter(|c| !c.starts_with("host")).map(str::to_string),
            memory: Some("256M".to_string()),
            ..Machine::default()
        },
    };
    let mut cmd = qemu::command(&boot, &machine);
    if mode == Mode::TcgIcount {
        cmd.args(ICOUNT);
    }
    cmd.args(RTC);
    cmd
}

/// At most this many lines of the serial output are shown when the run fails: the last ones.
const SHOWN_LINES: usize = 60;

/// Boots the benchmarks (already built) in `mode` and reads their report.
fn boot(ws: &Workspace, mode: Mode, cpu: Option<&str>, timeout: Duration, verbose: bool) -> Result<Report> {
    let cmd = command(ws, mode, cpu);
    if verbose {
        eprintln!("{}", qemu::display(&cmd));
    }
    let log = ws.logs_dir().join("bench.log");
    let run = qemu::run_captured(cmd, &log, timeout)?;
    let serial = qemu::clean_serial(&run.serial);
    match (run.end, parse_report(&serial)) {
        (End::Exited(qemu::STATUS_SUCCESS), Ok(report)) => Ok(report),
        (end, parsed) => {
            let lines: Vec<&str> = serial.lines().collect();
            for line in &lines[lines.len().saturating_sub(SHOWN_LINES)..] {
                eprintln!("    {line}");
            }
            let stderr = String::from_utf8_lossy(&run.stderr);
            if !stderr.trim().is_empty() {
                eprintln!("QEMU's stderr:\n{}", stderr.trim_end());
            }
            let why = match parsed {
                Ok(_) => format!("{end}, expected status {}", qemu::STATUS_SUCCESS),
                Err(e) => format!("{e:#} ({end})"),
            };
            bail!("the benchmark run failed: {why}; serial output in {}", log.display());
        }
    }
}

/// Writes `bench.json` for a run in `mode`.
fn write_bench_json(ws: &Workspace, report: &Report, mode: Mode) -> Result<()> {
    let json = serde_json::to_string_pretty(&report.to_json(mode)).context("formatting bench.json")?;
    let path = ws.bench_json();
    std::fs::write(&path, format!("{json}\n")).with_context(|| format!("writing {}", path.display()))
}

/// The check of `cargo xtask test`: the benchmarks (already built) under TCG with icount, held
/// against the baseline. Writes `bench.json` too.
pub fn check(ws: &Workspace, timeout: Duration) -> Result<(Verdict, Report)> {
    let path = ws.root.join(BASELINE);
    let text = std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
    let baseline = Baseline::parse(&text).with_context(|| format!("reading {}", path.display()))?;
    let toolchain = Toolchain::here(ws)?;
    let report = boot(ws, Mode::TcgIcount, None, timeout, false)?;
    write_bench_json(ws, &report, Mode::TcgIcount)?;
    Ok((compare(&baseline, &toolchain, &report), report))
}

/// Builds, boots the benchmarks, prints the table and writes `bench.json`; with `--check` holds
/// the figures against the baseline, with `--write-baseline` writes it. Returns the exit status.
pub fn run(ws: &Workspace, options: &Options) -> Result<i32> {
    qemu::require_qemu()?;
    if (options.check || options.write_baseline) && options.cpu.is_some() {
        bail!("--check and --write-baseline run QEMU's default CPU model: leave out --cpu");
    }
    build::build(ws, Output::Show)?;
    if options.check {
        let (verdict, report) = check(ws, options.timeout)?;
        print!("{}", report.table());
        return Ok(match verdict {
            Verdict::Skipped(why) => {
                println!("skipped: bench check ({why})");
                0
            }
            Verdict::Passed(summary, notes) => {
                for note in notes {
                    println!("note: {note}");
                }
                println!("bench check: ok ({summary})");
                0
            }
            Verdict::Failed(lines) => {
                for line in lines {
                    println!("bench check: {line}");
                }
                println!("bench check: FAILED");
                1
            }
        });
    }
    let mode = if options.write_baseline { Mode::TcgIcount } else { choose_mode(ws, options) };
    let report = boot(ws, mode, options.cpu.as_deref(), options.timeout, true)?;
    write_bench_json(ws, &report, mode)?;
    println!("mode {}: {} on {:?}, {} iterations", mode.name(), mode.unit(), report.cpu, report.iterations);
    print!("{}", report.table());
    println!("wrote {}", ws.bench_json().display());
    let disagreements = if mode == Mode::TcgIcount { report.disagreements() } else { Vec::new() };
    for line in &disagreements {
        println!("batch form disagrees: {line}");
    }
    if options.write_baseline {
        if !disagreements.is_empty() {
            bail!("not writing {BASELINE}: batch forms disagree");
        }
        let baseline = Baseline::of(&report, Toolchain::here(ws)?);
        let json = serde_json::to_string_pretty(&baseline.to_json()).context("formatting the baseline")?;
        let path = ws.root.join(BASELINE);
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        }
        std::fs::write(&path, format!("{json}\n")).with_context(|| format!("writing {}", path.display()))?;
        println!("wrote {}", path.display());
    }
    Ok(if disagreements.is_empty() { 0 } else { 1 })
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use super::*;

    const SERIAL: &str = "\
[ info] starting root task 'init'
bench: cpu \"Some CPU\", 10000 iterations after 1000 of warm-up
bench: null_syscall median 352 min 350
bench: {\"cpu\": \"Some \\\"CPU\\\"\", \"iterations\": 10000, \"results\": {\"null_syscall\": {\"median\": 352, \
\"min\": 350, \"batch\": 349}, \"ipc_call_reply\": {\"median\": 1158, \"min\": 1100}, \"note_signal_wait\": \
{\"median\": 509, \"min\": 500}, \"fault_round_trip\": {\"median\": 3133, \"min\": 3000}, \"yield\": {\"median\": \
376, \"min\": 370}, \"extra\": {\"median\": 5, \"min\": 4}}}
[ info] root task exited with status 0
";

    fn figure(median: u64, batch: Option<u64>) -> Figure {
        Figure { median, min: median, batch }
    }

    #[test]
    fn report_is_read_in_order() {
        let report = parse_report(SERIAL).unwrap();
        assert_eq!(report.cpu, "Some \"CPU\"");
        assert_eq!(report.iterations, 10000);
        let names: Vec<&str> = report.results.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names, ["null_syscall", "ipc_call_reply", "note_signal_wait", "fault_round_trip", "yield", "extra"]);
        assert_eq!(report.results[0].1, Figure { median: 352, min: 350, batch: Some(349) });
        assert_eq!(report.results[1].1.batch, None);
    }

    #[test]
    fn json_has_the_issue_format() {
        let report = Report {
            cpu: "X".to_string(),
            iterations: 3,
            results: vec![
                ("yield".to_string(), Figure { median: 2, min: 1, batch: None }),
                ("null_syscall".to_string(), Figure { median: 4, min: 3, batch: Some(5) }),
            ],
        };
        assert_eq!(
            report.to_json(Mode::TcgIcount).to_string(),
            r#"{"mode":"tcg-icount","cpu":"X","iterations":3,"results":{"yield":{"median":2,"min":1},"null_syscall":{"median":4,"min":3,"batch":5}}}"#
        );
        assert_eq!(Mode::Kvm.name(), "kvm");
        let table = report.table();
        let heading: Vec<&str> = table.lines().next().unwrap().split_whitespace().collect();
        assert_eq!(heading, ["figure", "median", "min", "batch"]);
        assert!(table.contains("null_syscall           4           3           5"), "{table}");
        assert!(table.contains("yield                  2           1           -"), "{table}");
    }

    #[test]
    fn incomplete_reports_are_refused() {
        assert!(parse_report("bench: null_syscall median 1 min 1\n").is_err());
        assert!(parse_report("bench: {not json}\n").is_err());
        let missing =
            "bench: {\"cpu\": \"\", \"iterations\": 1, \"results\": {\"null_syscall\": {\"median\": 1, \"min\": 1}}}";
        let err = parse_report(missing).unwrap_err().to_string();
        assert!(err.contains("ipc_call_reply") && err.contains("yield"), "{err}");
        let no_min = SERIAL.replace("\"min\": 370", "\"low\": 370");
        assert!(parse_report(&no_min).unwrap_err().to_string().contains("`yield`"));
        let bad_batch = SERIAL.replace("\"batch\": 349", "\"batch\": \"x\"");
        assert!(parse_report(&bad_batch).is_err());
    }

    #[test]
    fn batch_forms_must_agree() {
        assert!(figure(100, None).agrees());
        assert!(figure(100, Some(100 + BATCH_SLACK)).agrees());
        assert!(figure(100, Some(100 - BATCH_SLACK)).agrees());
        assert!(!figure(100, Some(101 + BATCH_SLACK)).agrees());
        // Large figures: 2% of the median.
        assert!(figure(10_000, Some(10_200)).agrees());
        assert!(!figure(10_000, Some(10_201)).agrees());
        let report = Report {
            cpu: String::new(),
            iterations: 1,
            results: vec![("a".into(), figure(100, Some(100))), ("b".into(), figure(100, Some(200)))],
        };
        let lines = report.disagreements();
        assert_eq!(lines.len(), 1);
        assert!(lines[0].starts_with("b: batch form 200 against median 100"), "{lines:?}");
    }

    fn toolchain() -> Toolchain {
        Toolchain {
            rustc: "rustc 1.95.0 (59807616e 2026-04-14)".into(),
            qemu: "QEMU emulator version 7.2.22 (Debian 1:7.2+dfsg-7+deb12u18+b3)".into(),
        }
    }

    fn baseline() -> Baseline {
        Baseline {
            toolchain: toolchain(),
            cpu: "QEMU Virtual CPU version 2.5+".into(),
            iterations: 10,
            results: vec![("a".into(), figure(1000, Some(990))), ("b".into(), figure(500, None))],
        }
    }

    fn report(a: u64, b: u64) -> Report {
        Report {
            cpu: "QEMU Virtual CPU version 2.5+".into(),
            iterations: 10,
            results: vec![("a".into(), figure(a, Some(a))), ("b".into(), figure(b, None))],
        }
    }

    #[test]
    fn baselines_round_trip() {
        let b = baseline();
        let text = serde_json::to_string_pretty(&b.to_json()).unwrap();
        assert_eq!(Baseline::parse(&text).unwrap(), b);
        assert!(text.contains("\"mode\": \"tcg-icount\""));
        assert!(Baseline::parse(&text.replace("tcg-icount", "kvm")).is_err());
        assert!(Baseline::parse("{}").is_err());
    }

    #[test]
    fn growth_beyond_two_percent_fails() {
        let b = baseline();
        assert!(matches!(compare(&b, &toolchain(), &report(1000, 500)), Verdict::Passed(_, ref n) if n.is_empty()));
        assert!(matches!(compare(&b, &toolchain(), &report(1020, 510)), Verdict::Passed(..)));
        let Verdict::Failed(lines) = compare(&b, &toolchain(), &report(1021, 500)) else { panic!("passed") };
        assert_eq!(lines.len(), 1);
        assert!(lines[0].starts_with("a: median 1021 against 1000"), "{lines:?}");
        // Smaller is fine, with a note to update the baseline.
        let Verdict::Passed(_, notes) = compare(&b, &toolchain(), &report(900, 500)) else { panic!("failed") };
        assert_eq!(notes.len(), 1);
        // A figure missing on either side fails.
        let mut fewer = report(1000, 500);
        fewer.results.pop();
        assert!(matches!(compare(&b, &toolchain(), &fewer), Verdict::Failed(_)));
        let mut more = report(1000, 500);
        more.results.push(("c".into(), figure(1, None)));
        assert!(matches!(compare(&b, &toolchain(), &more), Verdict::Failed(_)));
        // So does a batch form that disagrees.
        let mut deferred = report(1000, 500);
        deferred.results[0].1.batch = Some(1500);
        assert!(matches!(compare(&b, &toolchain(), &deferred), Verdict::Failed(_)));
    }

    #[test]
    fn other_tools_or_cpus_skip() {
        let b = baseline();
        let newer = Toolchain { rustc: "rustc 1.96.0 (0000000 2026-06-01)".into(), ..toolchain() };
        let Verdict::Skipped(why) = compare(&b, &newer, &report(5000, 500)) else { panic!("not skipped") };
        assert!(why.contains("1.96.0") && why.contains("1.95.0"), "{why}");
        let qemu10 =
            Toolchain { qemu: "QEMU emulator version 10.0.2 (Debian 1:10.0.2+ds-1~bpo12+1)".into(), ..toolchain() };
        assert!(matches!(compare(&b, &qemu10, &report(1000, 500)), Verdict::Skipped(_)));
        // Another patch release of the same QEMU still checks.
        let patched =
            Toolchain { qemu: "QEMU emulator version 7.2.23 (Debian 1:7.2+dfsg-7+deb12u19)".into(), ..toolchain() };
        assert!(matches!(compare(&b, &patched, &report(1000, 500)), Verdict::Passed(..)));
        let mut max = report(1000, 500);
        max.cpu = "QEMU TCG CPU version 2.5+".into();
        assert!(matches!(compare(&b, &toolchain(), &max), Verdict::Skipped(_)));
        assert_eq!(qemu_release("QEMU emulator version 7.2.22 (Debian)").as_deref(), Some("7.2"));
        assert_eq!(qemu_release("nothing"), None);
    }

    #[test]
    fn tcg_runs_with_icount() {
        let ws = Workspace { root: PathBuf::from("/src/perihelion"), source_date: None };
        let line = qemu::display(&command(&ws, Mode::TcgIcount, None));
        assert!(line.contains("-initrd /src/perihelion/target/perihelion/bench.tar"), "{line}");
        assert!(line.ends_with("-m 256M -icount shift=0,sleep=off -rtc clock=vm"), "{line}");
        let line = qemu::display(&command(&ws, Mode::Kvm, None));
        assert!(line.ends_with("-m 256M -enable-kvm -cpu host -rtc clock=vm"), "{line}");
        assert!(!line.contains("icount"));
        let line = qemu::display(&command(&ws, Mode::Kvm, Some("host,-arch-capabilities")));
        assert!(line.contains("-enable-kvm -cpu host,-arch-capabilities"), "{line}");
        let line = qemu::display(&command(&ws, Mode::TcgIcount, Some("host,-arch-capabilities")));
        assert!(!line.contains("-cpu"), "{line}");
        let line = qemu::display(&command(&ws, Mode::TcgIcount, Some("max")));
        assert!(line.contains("-cpu max"), "{line}");
    }
}
