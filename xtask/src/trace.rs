//! `cargo xtask bench --trace`: where the instructions of each figure go, as
//! `docs/performance.md` shows them.
//!
//! It builds the benchmark program once more with few iterations ([`COUNTS`], through the
//! `PERIHELION_BENCH_*` variables its constants read at build time; in its own target directory,
//! so the outputs of `cargo xtask build` stay as they are), boots it under TCG with icount and
//! `-singlestep -d exec,nochain` (QEMU logs every instruction it executes, each iteration of a
//! `rep` string instruction included), and cuts the log at the program's TSC reads (`lfence;
//! rdtsc`): a sample of a figure is the stretch from one `rdtsc` to the next, as long as the
//! figure (or twice as long, for the per-switch figures that halve their samples). Every
//! instruction of the stretch is put down to the function its address lies in, in `kernel.elf`
//! or the program (inlined functions count as their callers), and the functions to parts
//! ([`Part`]). For each figure the table shows the stretch that recurs most; `--trace-figure
//! NAME` prints its functions in the order they ran.
//!
//! Nothing here is a test: it is a tool for reading where a figure's instructions go. The log
//! is some gigabytes; it is read as QEMU writes it, never stored.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::io::{BufRead, BufReader, Read};
use std::path::Path;
use std::process::{Command, Stdio};

use anyhow::{Context, Result, bail};
use xmas_elf::ElfFile;
use xmas_elf::program::Type as PhType;
use xmas_elf::sections::SectionData;
use xmas_elf::symbol_table::{Entry, Type as SymType};

use crate::archive::{self, Member};
use crate::bench;
use crate::build::{self, Output};
use crate::workspace::{self, Workspace};

/// The benchmark's counts for a trace: iterations, warm-up runs, batch operations (the
/// variables `vulcan/src/bin/bench.rs` reads at build time).
pub const COUNTS: [(&str, &str); 3] =
    [("PERIHELION_BENCH_ITERATIONS", "16"), ("PERIHELION_BENCH_WARMUP", "4"), ("PERIHELION_BENCH_BATCH", "4")];

/// Where a traced instruction belongs.
#[derive(Copy, Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Part {
    /// User code: the benchmark and the `sys` wrappers.
    User,
    /// The kernel's entry stubs (syscall, traps) and `arch`'s trap dispatch.
    Entry,
    /// `uapi`: decoding, capabilities, the fast paths and the general path.
    Uapi,
    /// The scheduler, the object library and the memory managers.
    Objects,
    /// `memset`, `memcpy` and their kin.
    MemFns,
    /// The kernel's exit stubs.
    Exit,
    /// Any other kernel code.
    Other,
}

impl Part {
    const ALL: [Part; 7] = [Part::User, Part::Entry, Part::Uapi, Part::Objects, Part::MemFns, Part::Exit, Part::Other];

    fn heading(self) -> &'static str {
        match self {
            Part::User => "user",
            Part::Entry => "entry",
            Part::Uapi => "uapi",
            Part::Objects => "sched/object/mem",
            Part::MemFns => "memset/memcpy",
            Part::Exit => "exit",
            Part::Other => "other",
        }
    }

    /// The part of an instruction at `pc` in the function named `name` (demangled).
    pub fn of(pc: u64, name: &str) -> Part {
        if !is_kernel(pc) {
            return Part::User;
        }
        let starts = |prefixes: &[&str]| prefixes.iter().any(|p| name.starts_with(p));
        if starts(&["perihelion_syscall_entry", "perihelion_trap", "kernel::arch::x86_64::trap::trap_from_user"]) {
            Part::Entry
        } else if starts(&["perihelion_return_to_user", "perihelion_resume_syscall"]) {
            Part::Exit
        } else if starts(&["memset", "memcpy", "memmove", "memcmp", "bcmp"]) {
            Part::MemFns
        } else if starts(&["kernel::uapi"]) {
            Part::Uapi
        } else if starts(&["kernel::sched", "kernel::object", "kernel::mem"]) {
            Part::Objects
        } else {
            Part::Other
        }
    }
}

/// Whether `pc` is in the kernel's half of the address space.
fn is_kernel(pc: u64) -> bool {
    pc >= 0xffff_8000_0000_0000
}

/// Demangles a Rust symbol in the legacy scheme (`_ZN6kernel4uapi7syscall17h0123456789abcdefE`
/// to `kernel::uapi::syscall`, the hash dropped; `$LT$` and kin as they are); any other name
/// comes back as it is.
pub fn demangle(name: &str) -> String {
    let Some(mut rest) = name.strip_prefix("_ZN") else { return name.to_string() };
    let mut parts: Vec<&str> = Vec::new();
    while let Some(digits) = rest.find(|c: char| !c.is_ascii_digit()).filter(|&n| n > 0) {
        let Ok(len) = rest[..digits].parse::<usize>() else { break };
        let Some(ident) = rest.get(digits..digits + len) else { break };
        parts.push(ident);
        rest = &rest[digits + len..];
    }
    if parts.last().is_some_and(|h| h.len() == 17 && h.starts_with('h')) {
        parts.pop();
    }
    let joined =
        parts.iter().map(|p| p.strip_prefix('_').filter(|q| q.starts_with('$')).unwrap_or(p)).collect::<Vec<_>>();
    let mut out = joined.join("::").replace("..", "::");
    for (from, to) in ESCAPES {
        out = out.replace(from, to);
    }
    out
}

/// The escapes of the legacy mangling.
const ESCAPES: [(&str, &str); 14] = [
    ("$LT$", "<"),
    ("$GT$", ">"),
    ("$RF$", "&"),
    ("$BP$", "*"),
    ("$SP$", "@"),
    ("$C$", ","),
    ("$u20$", " "),
    ("$u27$", "'"),
    ("$u5b$", "["),
    ("$u5d$", "]"),
    ("$u7b$", "{"),
    ("$u7d$", "}"),
    ("$u7e$", "~"),
    ("$u3b$", ";"),
];

/// The functions of an ELF file, by address, and its executable bytes.
pub struct Image {
    /// (start, end, demangled name), sorted by start.
    functions: Vec<(u64, u64, String)>,
    /// (virtual address, bytes) of each executable segment.
    code: Vec<(u64, Vec<u8>)>,
}

impl Image {
    /// Reads the symbol table and executable segments of the ELF file at `path`.
    pub fn read(path: &Path) -> Result<Image> {
        let bytes = workspace::read(path)?;
        let elf = ElfFile::new(&bytes).map_err(|e| anyhow::anyhow!("{}: not an ELF file: {e}", path.display()))?;
        let mut functions = Vec::new();
        for section in elf.section_iter() {
            let Ok(SectionData::SymbolTable64(entries)) = section.get_data(&elf) else { continue };
            for e in entries {
                let kind = e.get_type().ok();
                if !matches!(kind, Some(SymType::Func | SymType::NoType)) || e.value() == 0 {
                    continue;
                }
                let Ok(name) = e.get_name(&elf) else { continue };
                if name.is_empty() || name.starts_with('$') || name.starts_with(".L") {
                    continue;
                }
                functions.push((e.value(), e.value() + e.size(), demangle(name)));
            }
        }
        functions.sort_by_key(|f| f.0);
        let mut code = Vec::new();
        for ph in elf.program_iter() {
            if ph.get_type() == Ok(PhType::Load) && ph.flags().is_execute() {
                let start = usize::try_from(ph.offset())?;
                let end = start + usize::try_from(ph.file_size())?;
                let data =
                    bytes.get(start..end).with_context(|| format!("{}: a segment past the end", path.display()))?;
                code.push((ph.virtual_addr(), data.to_vec()));
            }
        }
        Ok(Image { functions, code })
    }

    /// The name of the function `pc` lies in (the nearest symbol at or below it).
    pub fn function(&self, pc: u64) -> Option<&str> {
        let i = self.functions.partition_point(|f| f.0 <= pc).checked_sub(1)?;
        Some(self.functions[i].2.as_str())
    }

    /// The bytes at `pc`, if it lies in an executable segment.
    fn bytes_at(&self, pc: u64) -> Option<&[u8]> {
        self.code.iter().find_map(|(va, data)| {
            let off = usize::try_from(pc.checked_sub(*va)?).ok()?;
            data.get(off..)
        })
    }

    /// Addresses of every `rdtsc` right after an `lfence` (the benchmark's TSC reads).
    pub fn tsc_reads(&self) -> Vec<u64> {
        const LFENCE_RDTSC: [u8; 5] = [0x0f, 0xae, 0xe8, 0x0f, 0x31];
        let mut out = Vec::new();
        for (va, data) in &self.code {
            for (i, w) in data.windows(LFENCE_RDTSC.len()).enumerate() {
                if w == LFENCE_RDTSC {
                    out.push(va + i as u64 + 3);
                }
            }
        }
        out
    }

    /// Whether the instruction at `pc` is a `rep` string instruction (QEMU logs one line per
    /// iteration of it).
    pub fn is_rep(&self, pc: u64) -> bool {
        self.bytes_at(pc).is_some_and(is_rep_string)
    }
}

/// Whether `code` starts with a `rep`-prefixed string instruction (`movs`, `stos`, `lods`,
/// `cmps`, `scas`; an operand-size or REX prefix may come between).
pub fn is_rep_string(code: &[u8]) -> bool {
    let Some((&prefix, rest)) = code.split_first() else { return false };
    if prefix != 0xf3 && prefix != 0xf2 {
        return false;
    }
    let rest = match rest.first() {
        Some(0x66) => &rest[1..],
        _ => rest,
    };
    let op = match rest.first() {
        Some(&b) if (0x40..=0x4f).contains(&b) => rest.get(1),
        other => other,
    };
    matches!(op, Some(0xa4..=0xa7 | 0xaa..=0xaf))
}

/// The guest address of one line of QEMU's `-d exec` log (`Trace 0: 0x... [cs_base/pc/flags/...]`),
/// or `None` for other lines.
pub fn traced_pc(line: &str) -> Option<u64> {
    let rest = line.strip_prefix("Trace ")?;
    let fields = &rest[rest.find('[')? + 1..];
    let pc = fields.split('/').nth(1)?;
    u64::from_str_radix(pc, 16).ok()
}

/// The stretches between TSC reads that may be samples: by (first `rdtsc`, next `rdtsc`,
/// length), how often each occurred and the first one's instructions.
pub struct Stretches {
    /// The longest stretch worth keeping.
    longest: u64,
    /// Count and instructions of each (start, end, length).
    seen: HashMap<(u64, u64, u64), (u64, Vec<u64>)>,
}

impl Stretches {
    /// Collects stretches of up to `longest` instructions.
    pub fn new(longest: u64) -> Stretches {
        Stretches { longest, seen: HashMap::new() }
    }

    /// A stretch from one TSC read to the next: `pcs`, the first of which is the first read;
    /// `end` is the next read's address.
    pub fn add(&mut self, pcs: &[u64], end: u64) {
        let len = pcs.len() as u64;
        if len > self.longest {
            return;
        }
        let entry = self.seen.entry((pcs[0], end, len)).or_insert_with(|| (0, pcs.to_vec()));
        entry.0 += 1;
    }

    /// The stretch of `len` instructions that occurred most (ties: the earliest address).
    pub fn best(&self, len: u64) -> Option<(u64, &[u64])> {
        self.seen
            .iter()
            .filter(|(k, _)| k.2 == len)
            .max_by_key(|(k, (n, _))| (*n, std::cmp::Reverse((k.0, k.1))))
            .map(|(_, (n, pcs))| (*n, pcs.as_slice()))
    }
}

/// Reads QEMU's exec log from `log` into `stretches`, cut at the addresses in `reads`.
pub fn cut(log: impl Read, reads: &HashSet<u64>, stretches: &mut Stretches) -> Result<u64> {
    let mut current: Vec<u64> = Vec::new();
    let mut started = false;
    let mut total = 0u64;
    for line in BufReader::with_capacity(1 << 20, log).lines() {
        let line = line.context("reading QEMU's log")?;
        let Some(pc) = traced_pc(&line) else { continue };
        total += 1;
        if reads.contains(&pc) {
            if started {
                stretches.add(&current, pc);
            }
            current.clear();
            started = true;
        }
        if started {
            current.push(pc);
        }
    }
    Ok(total)
}

/// The instructions of a stretch by part, and its `rep` iterations.
fn parts(pcs: &[u64], kernel: &Image, user: &Image) -> (BTreeMap<Part, u64>, u64) {
    let mut by_part = BTreeMap::new();
    let mut reps = 0;
    for &pc in pcs {
        let image = if is_kernel(pc) { kernel } else { user };
        *by_part.entry(Part::of(pc, image.function(pc).unwrap_or("?"))).or_insert(0) += 1;
        if image.is_rep(pc) {
            reps += 1;
        }
    }
    (by_part, reps)
}

/// The functions of a stretch in the order they ran, with the instructions of each run.
fn runs(pcs: &[u64], kernel: &Image, user: &Image) -> Vec<(String, u64)> {
    let mut out: Vec<(String, u64)> = Vec::new();
    for &pc in pcs {
        let image = if is_kernel(pc) { kernel } else { user };
        let name = image.function(pc).unwrap_or("?");
        match out.last_mut() {
            Some((last, n)) if last == name => *n += 1,
            _ => out.push((name.to_string(), 1)),
        }
    }
    out
}

/// Builds, traces the benchmarks and prints where each figure's instructions go; with `detail`,
/// also the functions of that figure in order. Returns the exit status.
pub fn run(ws: &Workspace, detail: Option<&str>) -> Result<i32> {
    crate::qemu::require_qemu()?;
    build::build(ws, Output::OnFailure)?;
    let program = build::trace_bench(ws, &COUNTS)?;
    let dir = ws.out_dir().join("trace");
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    let tar = dir.join("bench.tar");
    let init = Member { name: "init".to_string(), data: workspace::read(&program)? };
    archive::write_atomically(&tar, &archive::ustar(vec![init], ws.source_date_epoch()?)?)?;

    let kernel = Image::read(&ws.kernel_elf())?;
    let user = Image::read(&program)?;
    let reads: HashSet<u64> = user.tsc_reads().into_iter().collect();
    if reads.is_empty() {
        bail!("no `lfence; rdtsc` in {}", program.display());
    }

    // The serial port to a file, the log to standard output, read as it comes.
    let serial = dir.join("serial.log");
    let cmd: Command = bench::command_with(ws, bench::Mode::TcgIcount, None, &tar);
    let args: Vec<_> = cmd.get_args().map(std::ffi::OsStr::to_os_string).collect();
    let mut traced = Command::new(cmd.get_program());
    let mut i = 0;
    while i < args.len() {
        if args[i] == "-serial" && args.get(i + 1).is_some_and(|a| a == "stdio") {
            let mut to = std::ffi::OsString::from("file:");
            to.push(&serial);
            traced.arg("-serial").arg(to);
            i += 2;
            continue;
        }
        traced.arg(&args[i]);
        i += 1;
    }
    traced.args(["-singlestep", "-d", "exec,nochain", "-D", "/dev/stdout"]);
    traced.stdout(Stdio::piped()).stderr(Stdio::null());
    eprintln!("tracing the benchmarks ({} iterations each): a few minutes", COUNTS[0].1);
    let mut child = traced.spawn().context("starting QEMU")?;
    let log = child.stdout.take().context("QEMU's standard output")?;

    // The figures come at the end of the run, so every stretch as long as any figure could be
    // is not known yet: collect the stretches of every length up to a bound, then choose.
    let mut stretches = Stretches::new(MAX_TRACED);
    let total = cut(log, &reads, &mut stretches)?;
    let status = child.wait().context("waiting for QEMU")?;
    let text = std::fs::read_to_string(&serial).with_context(|| format!("reading {}", serial.display()))?;
    let report = bench::parse_report(&crate::qemu::clean_serial(text.as_bytes()))
        .with_context(|| format!("the traced run ({status}); its serial output is {}", serial.display()))?;
    eprintln!("{total} instructions traced");

    let mut line = format!("{:<26} {:>7} {:>6}", "figure", "sample", "seen");
    for p in Part::ALL {
        line.push_str(&format!(" {:>9}", p.heading()));
    }
    println!("{line} {:>5}", "rep");
    let mut shown = None;
    for (name, figure) in &report.results {
        let found = [figure.median, 2 * figure.median]
            .into_iter()
            .find_map(|len| stretches.best(len).map(|(n, pcs)| (len, n, pcs)));
        let Some((len, n, pcs)) = found else {
            println!("{name:<26} {:>7} (no stretch of that length between two TSC reads)", figure.median);
            continue;
        };
        let (by_part, reps) = parts(pcs, &kernel, &user);
        let mut line = format!("{name:<26} {len:>7} {n:>6}");
        for p in Part::ALL {
            line.push_str(&format!(" {:>9}", by_part.get(&p).copied().unwrap_or(0)));
        }
        println!("{line} {reps:>5}");
        if detail == Some(name.as_str()) {
            shown = Some(runs(pcs, &kernel, &user));
        }
    }
    if let Some(name) = detail {
        match shown {
            Some(runs) => {
                println!("\n{name}, function by function:");
                for (f, n) in runs {
                    println!("{n:>6}  {f}");
                }
            }
            None => bail!("no figure `{name}` was traced"),
        }
    }
    Ok(0)
}

/// The longest stretch kept: above every figure the benchmark measures but the per-thread ones.
const MAX_TRACED: u64 = 16_384;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn demangles_legacy_names() {
        assert_eq!(demangle("_ZN6kernel4uapi7syscall17h0123456789abcdefE"), "kernel::uapi::syscall");
        assert_eq!(demangle("_ZN3sys3ipc8Endpoint4call17hfedcba9876543210E"), "sys::ipc::Endpoint::call");
        assert_eq!(
            demangle("_ZN5bench14ipc_call_reply28_$u7b$$u7b$closure$u7d$$u7d$17h0123456789abcdefE"),
            "bench::ipc_call_reply::{{closure}}"
        );
        assert_eq!(
            demangle(
                "_ZN68_$LT$kernel..mem..frame..FrameAllocator$u20$as$u20$kernel..Pages$GT$5alloc17h0123456789abcdefE"
            ),
            "<kernel::mem::frame::FrameAllocator as kernel::Pages>::alloc"
        );
        assert_eq!(demangle("memset"), "memset");
        assert_eq!(demangle("perihelion_syscall_entry"), "perihelion_syscall_entry");
    }

    #[test]
    fn parts_by_name_and_address() {
        assert_eq!(Part::of(0x40_1000, "kernel::uapi::syscall"), Part::User);
        let k = 0xffff_ffff_8020_0000;
        assert_eq!(Part::of(k, "perihelion_syscall_entry"), Part::Entry);
        assert_eq!(Part::of(k, "perihelion_return_to_user"), Part::Exit);
        assert_eq!(Part::of(k, "kernel::uapi::ipc::send"), Part::Uapi);
        assert_eq!(Part::of(k, "kernel::sched::switch::preempt_to"), Part::Objects);
        assert_eq!(Part::of(k, "memset"), Part::MemFns);
        assert_eq!(Part::of(k, "kernel::log::write"), Part::Other);
    }

    #[test]
    fn rep_string_instructions() {
        assert!(is_rep_string(&[0xf3, 0x48, 0xab])); // rep stosq
        assert!(is_rep_string(&[0xf3, 0xa4])); // rep movsb
        assert!(is_rep_string(&[0xf3, 0x66, 0xa5])); // rep movsw
        assert!(!is_rep_string(&[0xf3, 0x0f, 0xb8])); // popcnt
        assert!(!is_rep_string(&[0x48, 0xab])); // stosq once
        assert!(!is_rep_string(&[]));
    }

    #[test]
    fn log_lines() {
        let line = "Trace 0: 0x7fee60000100 [0000000000000000/ffffffff80214e60/00000040/ff020201] ";
        assert_eq!(traced_pc(line), Some(0xffff_ffff_8021_4e60));
        assert_eq!(traced_pc("Stopped execution of TB chain before 0x7fee6001c140 [00000000fffebaba]"), None);
        assert_eq!(traced_pc("Trace 0: garbage"), None);
    }

    #[test]
    fn stretches_between_reads() {
        // Reads at 0x10 and 0x20; two samples of 3 instructions, one of 2, some before the first.
        let log = [0x1, 0x10, 0x11, 0x12, 0x20, 0x21, 0x22, 0x10, 0x11, 0x12, 0x20, 0x5, 0x10, 0x13, 0x20]
            .iter()
            .map(|pc| format!("Trace 0: 0x0 [0/{pc:x}/0/0]\n"))
            .collect::<String>();
        let reads: HashSet<u64> = [0x10, 0x20].into_iter().collect();
        let mut s = Stretches::new(3);
        assert_eq!(cut(log.as_bytes(), &reads, &mut s).unwrap(), 15);
        let (n, pcs) = s.best(3).unwrap();
        assert_eq!((n, pcs), (2, &[0x10, 0x11, 0x12][..]));
        assert_eq!(s.best(2).map(|(n, p)| (n, p.to_vec())), Some((1, vec![0x10, 0x13])));
        assert!(s.best(4).is_none());
    }
}
