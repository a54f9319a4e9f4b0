//! `cargo xtask bench`: boots the benchmark program (`bench.tar`, whose `init` is
//! `vulcan/src/bin/bench.rs`) by PVH, reads the figures it prints, shows them as a table and
//! writes them to `target/perihelion/bench.json`.
//!
//! It runs under KVM (`-enable-kvm -cpu host`) when [`qemu::kvm_probe`] shows that KVM works
//! here, where the figures are TSC cycles; otherwise, or with `--tcg`, under TCG with
//! `-icount shift=0,sleep=off`, where the guest's TSC advances by one per guest instruction, so
//! the figures are instruction counts and repeat exactly from run to run.
//!
//! The program's last `bench: {...}` line is a JSON object with `cpu`, `iterations` and
//! `results` (figure name to `{"median": c, "min": c}`); xtask checks it, adds `mode` (`kvm` or
//! `tcg-icount`) and writes `{"mode", "cpu", "iterations", "results"}` in that order, the figures
//! in the program's order. Timing decides nothing here: `cargo xtask test` never runs this.

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
}

/// The QEMU options of the TCG mode: a virtual clock of one nanosecond per guest instruction
/// (which, while the guest halts, jumps straight to the next timer deadline).
pub const ICOUNT: [&str; 2] = ["-icount", "shift=0,sleep=off"];

/// The figures the issue asks for; the program may report more.
pub const REQUIRED: [&str; 5] = ["null_syscall", "ipc_call_reply", "note_signal_wait", "fault_round_trip", "yield"];

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

/// One figure: median and minimum over the program's iterations.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct Figure {
    /// The median sample.
    pub median: u64,
    /// The smallest sample.
    pub min: u64,
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

impl Report {
    /// `bench.json`: `mode`, `cpu`, `iterations`, `results`, in that order.
    pub fn to_json(&self, mode: Mode) -> Value {
        let mut results = Map::new();
        for (name, f) in &self.results {
            results.insert(name.clone(), json!({"median": f.median, "min": f.min}));
        }
        json!({"mode": mode.name(), "cpu": self.cpu, "iterations": self.iterations, "results": results})
    }

    /// The figures as a table, one per line, with a heading.
    pub fn table(&self) -> String {
        let width = self.results.iter().map(|(n, _)| n.len()).chain(["figure".len()]).max().unwrap_or(0);
        let mut out = format!("{:<width$}  {:>10}  {:>10}\n", "figure", "median", "min");
        for (name, f) in &self.results {
            let _ = writeln!(out, "{name:<width$}  {:>10}  {:>10}", f.median, f.min);
        }
        out
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
    let figures =
        value.get("results").and_then(Value::as_object).context("no object `results` in the `bench:` line")?;
    let mut results = Vec::new();
    for (name, figure) in figures {
        let number = |key: &str| figure.get(key).and_then(Value::as_u64);
        let (Some(median), Some(min)) = (number("median"), number("min")) else {
            bail!("figure `{name}` has no numbers `median` and `min`: {figure}");
        };
        results.push((name.clone(), Figure { median, min }));
    }
    let missing: Vec<&str> = REQUIRED.into_iter().filter(|r| !results.iter().any(|(n, _)| n == r)).collect();
    if !missing.is_empty() {
        bail!("the `bench:` line lacks {}", missing.join(", "));
    }
    Ok(Report { cpu: cpu.to_string(), iterations, results })
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
    let boot = Boot::Pvh { kernel: ws.kernel_elf(), initrd: ws.bench_tar(), cmdline: String::new() };
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
    cmd
}

/// At most this many lines of the serial output are shown when the run fails: the last ones.
const SHOWN_LINES: usize = 60;

/// Builds, boots the benchmarks, prints the table and writes `bench.json`. Returns the exit
/// status.
pub fn run(ws: &Workspace, options: &Options) -> Result<i32> {
    qemu::require_qemu()?;
    build::build(ws, Output::Show)?;
    let mode = choose_mode(ws, options);
    let cmd = command(ws, mode, options.cpu.as_deref());
    eprintln!("{}", qemu::display(&cmd));
    let log = ws.logs_dir().join("bench.log");
    let run = qemu::run_captured(cmd, &log, options.timeout)?;
    let serial = qemu::clean_serial(&run.serial);
    let report = match (run.end, parse_report(&serial)) {
        (End::Exited(qemu::STATUS_SUCCESS), Ok(report)) => report,
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
    };
    let json = serde_json::to_string_pretty(&report.to_json(mode)).context("formatting bench.json")?;
    let path = ws.bench_json();
    std::fs::write(&path, format!("{json}\n")).with_context(|| format!("writing {}", path.display()))?;
    println!("mode {}: {} on {:?}, {} iterations", mode.name(), mode.unit(), report.cpu, report.iterations);
    print!("{}", report.table());
    println!("wrote {} ({:.1} s)", path.display(), run.elapsed.as_secs_f64());
    Ok(0)
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
\"min\": 350}, \"ipc_call_reply\": {\"median\": 1158, \"min\": 1100}, \"note_signal_wait\": {\"median\": 509, \
\"min\": 500}, \"fault_round_trip\": {\"median\": 3133, \"min\": 3000}, \"yield\": {\"median\": 376, \"min\": 370}, \
\"extra\": {\"median\": 5, \"min\": 4}}}
[ info] root task exited with status 0
";

    #[test]
    fn report_is_read_in_order() {
        let report = parse_report(SERIAL).unwrap();
        assert_eq!(report.cpu, "Some \"CPU\"");
        assert_eq!(report.iterations, 10000);
        let names: Vec<&str> = report.results.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names, ["null_syscall", "ipc_call_reply", "note_signal_wait", "fault_round_trip", "yield", "extra"]);
        assert_eq!(report.results[0].1, Figure { median: 352, min: 350 });
    }

    #[test]
    fn json_has_the_issue_format() {
        let report = Report {
            cpu: "X".to_string(),
            iterations: 3,
            results: vec![
                ("yield".to_string(), Figure { median: 2, min: 1 }),
                ("null_syscall".to_string(), Figure { median: 4, min: 3 }),
            ],
        };
        assert_eq!(
            report.to_json(Mode::TcgIcount).to_string(),
            r#"{"mode":"tcg-icount","cpu":"X","iterations":3,"results":{"yield":{"median":2,"min":1},"null_syscall":{"median":4,"min":3}}}"#
        );
        assert_eq!(Mode::Kvm.name(), "kvm");
        let table = report.table();
        assert_eq!(table.lines().next().unwrap().split_whitespace().collect::<Vec<_>>(), ["figure", "median", "min"]);
        assert!(table.contains("null_syscall           4           3"), "{table}");
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
    }

    #[test]
    fn tcg_runs_with_icount() {
        let ws = Workspace { root: PathBuf::from("/src/perihelion"), source_date: None };
        let line = qemu::display(&command(&ws, Mode::TcgIcount, None));
        assert!(line.contains("-initrd /src/perihelion/target/perihelion/bench.tar"), "{line}");
        assert!(line.ends_with("-m 256M -icount shift=0,sleep=off"), "{line}");
        let line = qemu::display(&command(&ws, Mode::Kvm, None));
        assert!(line.ends_with("-m 256M -enable-kvm -cpu host"), "{line}");
        assert!(!line.contains("icount"));
        let line = qemu::display(&command(&ws, Mode::Kvm, Some("host,-arch-capabilities")));
        assert!(line.ends_with("-enable-kvm -cpu host,-arch-capabilities"), "{line}");
        let line = qemu::display(&command(&ws, Mode::TcgIcount, Some("host,-arch-capabilities")));
        assert!(!line.contains("-cpu"), "{line}");
        let line = qemu::display(&command(&ws, Mode::TcgIcount, Some("max")));
        assert!(line.contains("-cpu max"), "{line}");
    }
}
