//! Boot-time clock calibration: settles the TSC frequency and the local APIC timer's input clock
//! once, before the first tick, keeps them, and logs where they came from.
//!
//! The decisions are [`crate::calibrate`]'s (pure, host-tested); this module reads the hardware:
//!
//! 1. What the CPU states: the hypervisor timing leaf 0x40000010 (where the vendor leaf
//!    0x40000000 names a hypervisor known to define it), and CPUID 0x15 and 0x16 on Intel.
//! 2. Measurements against the reference counters the machine has: the HPET and the ACPI PM
//!    timer, which the ACPI tables describe, and PIT channel 0 where fewer than two of those
//!    exist (so that a measurement has another to check it wherever the machine allows). One
//!    measurement window samples the TSC, the APIC timer and every reference together, each
//!    sample bracketed by two TSC reads, until the first reference has counted
//!    [`WINDOW_MS`]; windows repeat until each reference gives the same answer twice in a row,
//!    at most [`calibrate::MAX_WINDOWS`] times.
//! 3. With no reference counter at all but a TSC frequency from step 1, the APIC timer is
//!    measured against the TSC.
//!
//! A value outside [`Quantity::range`] is refused with a log line and never used. Every loop is
//! bounded, and interrupts stay off throughout (the kernel never enables them).

use alloc::vec::Vec;
use core::fmt;
use core::sync::atomic::{AtomicU64, Ordering};

use super::hpet::{self, Hpet};
use super::pmtimer::PmTimer;
use super::{apic, cpuid, pit, rdtsc};
use crate::calibrate::{self, Check, Choice, Counter, CpuidLeaves, MAX_WINDOWS, Quantity, Reading, Settled, Source};

static TSC_HZ: AtomicU64 = AtomicU64::new(0);
static APIC_CLOCK_HZ: AtomicU64 = AtomicU64::new(0);

/// The TSC frequency settled at boot, in Hz (0 if no source gave a plausible one).
pub fn tsc_hz() -> u64 {
    TSC_HZ.load(Ordering::Relaxed)
}

/// The APIC timer's input clock settled at boot, in Hz (before its divider).
pub fn apic_clock_hz() -> u64 {
    APIC_CLOCK_HZ.load(Ordering::Relaxed)
}

/// The reference counters the ACPI tables describe, ready to read.
#[derive(Default)]
pub struct References {
    /// The HPET, its main counter running.
    pub hpet: Option<Hpet>,
    /// The ACPI PM timer.
    pub pm_timer: Option<PmTimer>,
}

/// What calibration settled.
#[derive(Copy, Clone, Debug)]
pub struct Clocks {
    /// The TSC frequency, if any source gave a plausible one.
    pub tsc: Option<Choice>,
    /// The APIC timer's input clock, if any source gave a plausible one.
    pub apic: Option<Choice>,
}

/// How long one measurement window lasts, by the first reference.
pub const WINDOW_MS: u64 = 10;

/// Polls one window takes at most: a reference still not done by then gives no answer.
const MAX_POLLS: u64 = 4_000_000;

/// A reference that reads the same this many times in a row does not count (absent, or gated).
const STILL_POLLS: u64 = 200_000;

/// Samples taken at each end of a window, of which the one with the tightest TSC bracket is used.
const EDGE_SAMPLES: usize = 4;

/// Most reference counters sampled together.
const MAX_REFS: usize = 3;

/// A reference counter.
enum Ref {
    Hpet(Hpet),
    Pm(PmTimer),
    Pit,
}

impl Ref {
    fn source(&self) -> Source {
        match self {
            Ref::Hpet(_) => Source::Hpet,
            Ref::Pm(_) => Source::PmTimer,
            Ref::Pit => Source::Pit,
        }
    }

    fn hz(&self) -> u64 {
        match self {
            Ref::Hpet(h) => h.hz(),
            Ref::Pm(_) => crate::acpi::PM_TIMER_HZ,
            Ref::Pit => pit::PIT_HZ,
        }
    }

    fn bits(&self) -> u32 {
        match self {
            Ref::Hpet(_) => hpet::BITS,
            Ref::Pm(p) => p.bits(),
            Ref::Pit => pit::BITS,
        }
    }

    fn counts_down(&self) -> bool {
        matches!(self, Ref::Pit)
    }

    fn read(&self) -> u64 {
        match self {
            Ref::Hpet(h) => u64::from(h.read()),
            Ref::Pm(p) => u64::from(p.read()),
            Ref::Pit => u64::from(pit::read()),
        }
    }
}

impl fmt::Display for Ref {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Ref::Pm(p) => write!(f, "{} ({}, port {:#x}, {} bits)", self.source(), Mhz(self.hz()), p.port(), p.bits()),
            _ => write!(f, "{} ({})", self.source(), Mhz(self.hz())),
        }
    }
}

/// References listed for the log.
struct RefList<'a>(&'a [Ref]);

impl fmt::Display for RefList<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, r) in self.0.iter().enumerate() {
            write!(f, "{}{r}", if i == 0 { "" } else { ", " })?;
        }
        Ok(())
    }
}

/// A frequency shown in MHz with three decimals.
struct Mhz(u64);

impl fmt::Display for Mhz {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{:03} MHz", self.0 / 1_000_000, self.0 % 1_000_000 / 1000)
    }
}

/// One reading of every clock, between two TSC reads.
struct Sample {
    /// The TSC halfway between the two reads.
    tsc: u64,
    /// The TSC cycles between the two reads: how far `tsc` may be off.
    gap: u64,
    apic: u32,
    refs: [u64; MAX_REFS],
}

fn sample(refs: &[Ref]) -> Sample {
    let t0 = rdtsc();
    let apic = apic::timer_count();
    let mut values = [0; MAX_REFS];
    for (v, r) in values.iter_mut().zip(refs) {
        *v = r.read();
    }
    let t1 = rdtsc();
    let gap = t1.wrapping_sub(t0);
    Sample { tsc: t0.wrapping_add(gap / 2), gap, apic, refs: values }
}

/// What one window counted.
#[derive(Copy, Clone)]
struct Window {
    /// TSC cycles.
    tsc: u64,
    /// APIC timer input clock cycles (its counts times the divider).
    apic: u64,
    /// Each reference's ticks.
    refs: [u64; MAX_REFS],
}

/// Runs one window: samples until `done` says the counts are enough, then takes the sample with
/// the tightest bracket of a few. `None` if the first reference stopped counting (or never
/// finished within [`MAX_POLLS`]).
fn window(refs: &[Ref], done: &dyn Fn(&Window) -> bool) -> Option<Window> {
    apic::timer_free_run();
    let mut start = sample(refs);
    for _ in 1..EDGE_SAMPLES {
        let s = sample(refs);
        if s.gap < start.gap {
            start = s;
        }
    }
    let mut apic = Counter::new(32, true, u64::from(start.apic));
    let mut counters: [Counter; MAX_REFS] = core::array::from_fn(|i| match refs.get(i) {
        Some(r) => Counter::new(r.bits(), r.counts_down(), start.refs[i]),
        None => Counter::new(64, false, 0),
    });
    let mut still = 0;
    let mut best: Option<(u64, Window)> = None;
    let mut ends = 0;
    for _ in 0..MAX_POLLS {
        let s = sample(refs);
        apic.advance(u64::from(s.apic));
        let mut first_moved = true;
        for (i, c) in counters.iter_mut().enumerate().take(refs.len()) {
            let moved = c.advance(s.refs[i]) != 0;
            if i == 0 {
                first_moved = moved;
            }
        }
        still = if first_moved { 0 } else { still + 1 };
        if still >= STILL_POLLS {
            return None;
        }
        let w = Window {
            tsc: s.tsc.wrapping_sub(start.tsc),
            apic: apic.total().saturating_mul(apic::TIMER_DIVIDER),
            refs: core::array::from_fn(|i| counters[i].total()),
        };
        if done(&w) {
            if best.as_ref().is_none_or(|(gap, _)| s.gap < *gap) {
                best = Some((s.gap, w));
            }
            ends += 1;
            if ends >= EDGE_SAMPLES {
                break;
            }
        }
    }
    best.map(|(_, w)| w)
}

/// The values one reference gave, window by window: TSC and APIC timer clock.
#[derive(Default)]
struct Series {
    tsc: [Option<u64>; MAX_WINDOWS],
    apic: [Option<u64>; MAX_WINDOWS],
}

/// Whether the last two of `n` windows agree.
fn steady(values: &[Option<u64>; MAX_WINDOWS], n: usize) -> bool {
    n >= 2 && matches!((values[n - 2], values[n - 1]), (Some(a), Some(b)) if calibrate::agree(a, b))
}

/// Measures the TSC and the APIC timer against every reference; drops a first reference that
/// does not count. Returns the readings each reference settled on (possibly none), in the
/// order of `refs`, which are plausible.
fn measure(refs: &mut Vec<Ref>) -> (Vec<Reading>, Vec<Reading>) {
    let mut series: Vec<Series> = refs.iter().map(|_| Series::default()).collect();
    let mut n = 0;
    while n < MAX_WINDOWS && !refs.is_empty() {
        let target = refs[0].hz() * WINDOW_MS / 1000;
        let Some(w) = window(refs, &|w: &Window| w.refs[0] >= target) else {
            crate::warn!("clock: {} does not count; not used", refs[0].source());
            refs.remove(0);
            series.remove(0);
            continue;
        };
        for (i, r) in refs.iter().enumerate() {
            series[i].tsc[n] = calibrate::rate(w.tsc, w.refs[i], r.hz());
            series[i].apic[n] = calibrate::rate(w.apic, w.refs[i], r.hz());
        }
        n += 1;
        if series.iter().all(|s| steady(&s.tsc, n) && steady(&s.apic, n)) {
            break;
        }
    }
    if n > 0 {
        crate::info!("clock: measured in {n} windows of {WINDOW_MS} ms against {}", RefList(refs));
    }
    let (mut tsc, mut apic) = (Vec::new(), Vec::new());
    for (r, s) in refs.iter().zip(&series) {
        for (quantity, values, out) in [(Quantity::Tsc, &s.tsc, &mut tsc), (Quantity::ApicClock, &s.apic, &mut apic)] {
            match calibrate::settle(&values[..n]) {
                None => crate::warn!("clock: {} measured no {}", r.source(), quantity.name()),
                Some(settled) => {
                    if let Settled::Unsteady { min, max, .. } = settled {
                        crate::warn!(
                            "clock: {} windows disagree on the {} ({} to {}); taking the median",
                            r.source(),
                            quantity.name(),
                            Mhz(min),
                            Mhz(max)
                        );
                    }
                    if let Some(reading) = plausible(quantity, Reading::new(r.source(), settled.hz())) {
                        out.push(reading);
                    }
                }
            }
        }
    }
    (tsc, apic)
}

/// Measures the APIC timer against the TSC running at `tsc_hz`.
fn measure_against_tsc(tsc_hz: u64) -> Option<Reading> {
    let target = tsc_hz / 1000 * WINDOW_MS;
    let mut values = [None; MAX_WINDOWS];
    let mut n = 0;
    while n < MAX_WINDOWS {
        values[n] = window(&[], &|w: &Window| w.tsc >= target).and_then(|w| calibrate::rate(w.apic, w.tsc, tsc_hz));
        n += 1;
        if steady(&values, n) {
            break;
        }
    }
    let settled = calibrate::settle(&values[..n])?;
    plausible(Quantity::ApicClock, Reading::new(Source::Tsc, settled.hz()))
}

/// `r`, if plausible; else `None` and a log line.
fn plausible(quantity: Quantity, r: Reading) -> Option<Reading> {
    if quantity.plausible(r.hz) {
        return Some(r);
    }
    let range = quantity.range();
    crate::warn!(
        "clock: refused {} {} from {}: outside {} to {}",
        quantity.name(),
        Mhz(r.hz),
        r.source,
        Mhz(*range.start()),
        Mhz(*range.end())
    );
    None
}

/// The CPUID leaves the stated values come from.
fn leaves() -> CpuidLeaves {
    let l0 = cpuid(0, 0);
    let mut l = CpuidLeaves { max_leaf: l0.eax, ..CpuidLeaves::default() };
    for (i, reg) in [l0.ebx, l0.edx, l0.ecx].into_iter().enumerate() {
        l.vendor[i * 4..i * 4 + 4].copy_from_slice(&reg.to_le_bytes());
    }
    if l.max_leaf >= 0x15 {
        let r = cpuid(0x15, 0);
        l.leaf15 = [r.eax, r.ebx, r.ecx];
    }
    if l.max_leaf >= 0x16 {
        l.base_mhz = cpuid(0x16, 0).eax & 0xffff;
    }
    if l.max_leaf >= 1 && cpuid(1, 0).ecx & (1 << 31) != 0 {
        let h = cpuid(0x4000_0000, 0);
        let mut sig = [0u8; 12];
        for (i, reg) in [h.ebx, h.ecx, h.edx].into_iter().enumerate() {
            sig[i * 4..i * 4 + 4].copy_from_slice(&reg.to_le_bytes());
        }
        l.hypervisor = Some(sig);
        l.hypervisor_max = h.eax;
        if (calibrate::TIMING_LEAF..0x4000_0100).contains(&h.eax) {
            let t = cpuid(calibrate::TIMING_LEAF, 0);
            l.timing = [t.eax, t.ebx];
        }
    }
    l
}

/// A 12-byte CPUID signature as text.
struct Signature<'a>(&'a [u8; 12]);

impl fmt::Display for Signature<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for &b in self.0.iter().filter(|&&b| b != 0) {
            let c = if b.is_ascii_graphic() || b == b' ' { char::from(b) } else { '?' };
            fmt::Write::write_char(f, c)?;
        }
        Ok(())
    }
}

/// Logs a choice: the value, its source, and how it was cross-checked.
fn log_choice(quantity: Quantity, c: &Choice) {
    let (name, hz, source) = (quantity.name(), Mhz(c.reading.hz), c.reading.source);
    match c.check {
        Check::Alone => crate::info!("clock: {name} {hz} from {source}, the only source"),
        Check::Agreed(o) => crate::info!("clock: {name} {hz} from {source}; {} agrees ({})", o.source, Mhz(o.hz)),
        Check::Disagreed(o) => {
            crate::warn!("clock: {name} {hz} from {source}; {} disagrees ({}), no source agrees", o.source, Mhz(o.hz))
        }
    }
}

/// Settles the TSC frequency and the APIC timer's input clock, keeps them ([`tsc_hz`],
/// [`apic_clock_hz`]) and returns them. Needs [`apic::init`] first; leaves the APIC timer
/// masked (until [`apic::start_tick`]), the PIT quiet and the HPET as it was.
pub fn calibrate(found: References) -> Clocks {
    let l = leaves();
    match &l.hypervisor {
        Some(sig) => crate::info!(
            "clock: CPU {}, highest leaf {:#x}; hypervisor {}, highest leaf {:#x}",
            Signature(&l.vendor),
            l.max_leaf,
            Signature(sig),
            l.hypervisor_max
        ),
        None => crate::info!("clock: CPU {}, highest leaf {:#x}; no hypervisor", Signature(&l.vendor), l.max_leaf),
    }
    let stated = calibrate::stated(&l);
    for (quantity, r) in [(Quantity::Tsc, stated.tsc), (Quantity::ApicClock, stated.apic)] {
        if let Some(r) = r {
            crate::info!("clock: {} states {} {}", r.source, quantity.name(), Mhz(r.hz));
        }
    }
    let stated_tsc = stated.tsc.and_then(|r| plausible(Quantity::Tsc, r));
    let stated_apic = stated.apic.and_then(|r| plausible(Quantity::ApicClock, r));

    let mut refs = Vec::new();
    refs.extend(found.hpet.map(Ref::Hpet));
    refs.extend(found.pm_timer.map(Ref::Pm));
    let with_pit = refs.len() < 2;
    if with_pit {
        pit::start();
        refs.push(Ref::Pit);
    }

    let (measured_tsc, measured_apic) = measure(&mut refs);
    if with_pit {
        pit::stop();
    }
    drop(refs);

    let tsc_readings: Vec<Reading> = stated_tsc.into_iter().chain(measured_tsc).collect();
    let tsc = calibrate::choose(&tsc_readings);
    let mut apic_readings: Vec<Reading> = stated_apic.into_iter().chain(measured_apic).collect();
    if apic_readings.iter().all(|r| !r.source.measured())
        && let Some(t) = tsc
    {
        apic_readings.extend(measure_against_tsc(t.reading.hz));
    }
    let apic = calibrate::choose(&apic_readings);

    match &tsc {
        Some(c) => log_choice(Quantity::Tsc, c),
        None => crate::warn!("clock: no source gave a plausible TSC frequency; it stays unknown (0)"),
    }
    if let Some(c) = &apic {
        log_choice(Quantity::ApicClock, c);
    }
    TSC_HZ.store(tsc.map_or(0, |c| c.reading.hz), Ordering::Relaxed);
    APIC_CLOCK_HZ.store(apic.map_or(0, |c| c.reading.hz), Ordering::Relaxed);
    Clocks { tsc, apic }
}
