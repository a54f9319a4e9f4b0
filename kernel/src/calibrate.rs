//! How the kernel settles the TSC and local APIC timer frequencies: what each clock source
//! offers, which values are plausible, how a measurement is repeated until it holds still, how
//! two sources are cross-checked, and which one wins.
//!
//! Pure logic over numbers: `arch::x86_64::clock` reads CPUID and the reference counters (HPET,
//! ACPI PM timer, PIT) and hands the readings here, so that host tests cover every decision.
//!
//! The order of preference, as `docs/kernel.md` explains: values the hardware states
//! (the hypervisor's timing leaf 0x40000010, then CPUID 0x15 and 0x16), then measurements
//! against the HPET, the ACPI PM timer, and the PIT last. A value outside [`Quantity::range`] is
//! refused whatever its source. Where two sources exist they are cross-checked ([`choose`]): the
//! most preferred value that another source confirms wins; when no two agree, a measurement
//! beats a stated value (a stated value that the machine's own counters contradict is wrong on
//! this machine, as emulated CPUID leaves can be), and the most preferred measurement is used,
//! with a warning.

use core::fmt;
use core::ops::RangeInclusive;

/// Where a frequency came from.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Source {
    /// The hypervisor's timing leaf, CPUID 0x40000010 (VMware's, also offered by KVM).
    Hypervisor,
    /// CPUID 0x15: the TSC/crystal ratio and the crystal clock.
    Cpuid15,
    /// CPUID 0x16: the processor's base frequency (with 0x15's ratio where it lacks a crystal).
    Cpuid16,
    /// Measured against the HPET's main counter.
    Hpet,
    /// Measured against the ACPI PM timer.
    PmTimer,
    /// Measured against PIT channel 0.
    Pit,
    /// Measured against the TSC (whose frequency another source gave).
    Tsc,
}

impl Source {
    /// Whether the value was measured here rather than stated by the CPU or hypervisor.
    pub fn measured(self) -> bool {
        matches!(self, Source::Hpet | Source::PmTimer | Source::Pit | Source::Tsc)
    }

    /// How the log names it.
    pub fn name(self) -> &'static str {
        match self {
            Source::Hypervisor => "hypervisor leaf 0x40000010",
            Source::Cpuid15 => "CPUID 0x15",
            Source::Cpuid16 => "CPUID 0x16",
            Source::Hpet => "HPET",
            Source::PmTimer => "ACPI PM timer",
            Source::Pit => "PIT",
            Source::Tsc => "TSC",
        }
    }
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// What is being settled.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Quantity {
    /// The time-stamp counter.
    Tsc,
    /// The local APIC timer's input clock, before its divider (the crystal or bus clock).
    ApicClock,
}

impl Quantity {
    /// The values any real or virtual x86_64 machine can have. TSC: 100 MHz to 10 GHz. APIC
    /// timer clock: 10 MHz (crystals are 19.2 MHz and up) to 2 GHz (QEMU's is 1 GHz).
    pub fn range(self) -> RangeInclusive<u64> {
        match self {
            Quantity::Tsc => 100_000_000..=10_000_000_000,
            Quantity::ApicClock => 10_000_000..=2_000_000_000,
        }
    }

    /// How the log names it.
    pub fn name(self) -> &'static str {
        match self {
            Quantity::Tsc => "TSC",
            Quantity::ApicClock => "APIC timer clock",
        }
    }

    /// Whether `hz` is in [`Quantity::range`].
    pub fn plausible(self, hz: u64) -> bool {
        self.range().contains(&hz)
    }
}

/// A frequency and where it came from.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct Reading {
    /// Where.
    pub source: Source,
    /// The frequency, in Hz.
    pub hz: u64,
}

impl Reading {
    /// A reading of `hz` from `source`.
    pub const fn new(source: Source, hz: u64) -> Reading {
        Reading { source, hz }
    }
}

/// Two values agree if they differ by at most this many parts per million of the larger: 2%,
/// far above what an honest source errs by (a measurement window's error is under 0.5%) and far
/// below what a broken one does.
pub const AGREE_PPM: u64 = 20_000;

/// Whether `a` and `b` agree within [`AGREE_PPM`].
pub fn agree(a: u64, b: u64) -> bool {
    let (lo, hi) = if a < b { (a, b) } else { (b, a) };
    u128::from(hi - lo) * 1_000_000 <= u128::from(hi) * u128::from(AGREE_PPM)
}

/// `count` ticks of a clock over `ref_count` ticks of a reference running at `ref_hz`: the
/// clock's frequency, or `None` if the reference did not move or the result overflows.
pub fn rate(count: u64, ref_count: u64, ref_hz: u64) -> Option<u64> {
    if ref_count == 0 {
        return None;
    }
    u64::try_from(u128::from(count) * u128::from(ref_hz) / u128::from(ref_count)).ok()
}

/// A counter of `bits` bits (at most 64) read again and again, wrapping, counting up or down:
/// the ticks it advanced in all. A read must come before the counter has moved by a whole
/// wrap since the last one, or the wraps in between are lost.
#[derive(Copy, Clone, Debug)]
pub struct Counter {
    mask: u64,
    down: bool,
    last: u64,
    total: u64,
}

impl Counter {
    /// Starts counting from the raw value `first`.
    pub fn new(bits: u32, down: bool, first: u64) -> Counter {
        let mask = if bits >= 64 { u64::MAX } else { (1u64 << bits) - 1 };
        Counter { mask, down, last: first & mask, total: 0 }
    }

    /// Takes the raw value `now`; returns the ticks since the previous value.
    pub fn advance(&mut self, now: u64) -> u64 {
        let now = now & self.mask;
        let delta = if self.down { self.last.wrapping_sub(now) } else { now.wrapping_sub(self.last) } & self.mask;
        self.last = now;
        self.total = self.total.saturating_add(delta);
        delta
    }

    /// The ticks counted since [`Counter::new`].
    pub fn total(&self) -> u64 {
        self.total
    }
}

/// The raw CPUID values the architectural sources come from, each zero where the leaf does not
/// exist.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq)]
pub struct CpuidLeaves {
    /// Leaf 0's vendor string (ebx, edx, ecx).
    pub vendor: [u8; 12],
    /// Leaf 0's eax: the highest basic leaf.
    pub max_leaf: u32,
    /// Leaf 0x15: eax (ratio denominator), ebx (ratio numerator), ecx (crystal Hz).
    pub leaf15: [u32; 3],
    /// Leaf 0x16's eax: the base frequency in MHz.
    pub base_mhz: u32,
    /// Leaf 0x40000000's signature (ebx, ecx, edx), when CPUID.1:ECX.31 says a hypervisor runs.
    pub hypervisor: Option<[u8; 12]>,
    /// Leaf 0x40000000's eax: the highest hypervisor leaf.
    pub hypervisor_max: u32,
    /// Leaf 0x40000010: eax (TSC kHz), ebx (APIC bus kHz).
    pub timing: [u32; 2],
}

/// The hypervisors known to define leaf 0x40000010 as the timing leaf: VMware, which defined it,
/// and KVM (QEMU fills it in when it knows the TSC frequency). Elsewhere (Hyper-V) the number
/// means something else.
pub const TIMING_LEAF_HYPERVISORS: [&[u8; 12]; 2] = [b"VMwareVMware", b"KVMKVMKVM\0\0\0"];

/// The hypervisor timing leaf.
pub const TIMING_LEAF: u32 = 0x4000_0010;

/// What the CPU states: the TSC frequency and the APIC timer clock, each where known.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq)]
pub struct Stated {
    /// The TSC.
    pub tsc: Option<Reading>,
    /// The APIC timer's input clock.
    pub apic: Option<Reading>,
}

/// `v * mul / div` without overflow (`u64::MAX` if the result does not fit; `div` is not 0).
fn scale(v: u64, mul: u64, div: u64) -> u64 {
    u64::try_from(u128::from(v) * u128::from(mul) / u128::from(div)).unwrap_or(u64::MAX)
}

/// What the CPUID leaves state, before any plausibility check: the hypervisor's timing leaf
/// first, then (on Intel, which defines them) leaf 0x15, whose crystal also drives the APIC
/// timer, with leaf 0x16's base frequency standing in for a crystal 0x15 leaves out, then 0x16
/// alone for the TSC.
pub fn stated(l: &CpuidLeaves) -> Stated {
    let mut s = Stated::default();
    if let Some(sig) = &l.hypervisor
        && TIMING_LEAF_HYPERVISORS.contains(&sig)
        && l.hypervisor_max >= TIMING_LEAF
    {
        let khz = |v: u32| (v != 0).then(|| Reading::new(Source::Hypervisor, u64::from(v) * 1000));
        s.tsc = khz(l.timing[0]);
        s.apic = khz(l.timing[1]);
    }
    if &l.vendor != b"GenuineIntel" {
        return s;
    }
    let [den, num, crystal] = if l.max_leaf >= 0x15 { l.leaf15 } else { [0; 3] };
    let base = if l.max_leaf >= 0x16 { u64::from(l.base_mhz) * 1_000_000 } else { 0 };
    let (den, num) = (u64::from(den), u64::from(num));
    if den != 0 && num != 0 {
        // The crystal, stated or derived from the base frequency as TSC = crystal * num / den.
        let crystal = match (crystal, base) {
            (0, 0) => None,
            (0, base) => Some(Reading::new(Source::Cpuid16, scale(base, den, num))),
            (hz, _) => Some(Reading::new(Source::Cpuid15, u64::from(hz))),
        };
        if let Some(c) = crystal {
            s.tsc = s.tsc.or(Some(Reading::new(c.source, scale(c.hz, num, den))));
            s.apic = s.apic.or(Some(c));
        }
    }
    if base != 0 {
        s.tsc = s.tsc.or(Some(Reading::new(Source::Cpuid16, base)));
    }
    s
}

/// What a series of measurement windows of one source came to.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Settled {
    /// Two windows in a row agreed: the later one's value.
    Steady(u64),
    /// No two windows in a row agreed: the median of them all.
    Unsteady { median: u64, min: u64, max: u64 },
}

impl Settled {
    /// The value.
    pub fn hz(self) -> u64 {
        match self {
            Settled::Steady(hz) | Settled::Unsteady { median: hz, .. } => hz,
        }
    }
}

/// Most windows one calibration runs.
pub const MAX_WINDOWS: usize = 5;

/// Settles a series of window values (at most [`MAX_WINDOWS`]; `None` where the window gave
/// nothing): `None` if no window gave a value.
pub fn settle(windows: &[Option<u64>]) -> Option<Settled> {
    let windows = &windows[..windows.len().min(MAX_WINDOWS)];
    if let Some(pair) = windows.windows(2).find(|p| matches!(p, [Some(a), Some(b)] if agree(*a, *b))) {
        return pair[1].map(Settled::Steady);
    }
    let mut values = [0u64; MAX_WINDOWS];
    let mut n = 0;
    for v in windows.iter().flatten() {
        values[n] = *v;
        n += 1;
    }
    let values = &mut values[..n];
    values.sort_unstable();
    let (&min, &max) = (values.first()?, values.last()?);
    Some(Settled::Unsteady { median: values[(n - 1) / 2], min, max })
}

/// How the chosen value was checked.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Check {
    /// The only source there was.
    Alone,
    /// Another source agreed.
    Agreed(Reading),
    /// No other source agreed; this one was the first of them that did not.
    Disagreed(Reading),
}

/// The value used, where it came from, and how it was checked.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct Choice {
    /// The value and its source.
    pub reading: Reading,
    /// The cross-check.
    pub check: Check,
}

/// Chooses among plausible readings given in order of preference (stated values first, then
/// measurements, best reference first): the first one that another confirms; with no two in
/// agreement, the first measurement (the counters of this machine over what its CPU states),
/// else the one stated value.
pub fn choose(readings: &[Reading]) -> Option<Choice> {
    for (i, r) in readings.iter().enumerate() {
        let other = readings.iter().enumerate().find(|&(j, o)| j != i && agree(o.hz, r.hz));
        if let Some((_, o)) = other {
            return Some(Choice { reading: *r, check: Check::Agreed(*o) });
        }
    }
    let pick = readings.iter().find(|r| r.source.measured()).or(readings.first())?;
    let check = match readings.iter().find(|r| *r != pick) {
        Some(o) => Check::Disagreed(*o),
        None => Check::Alone,
    };
    Some(Choice { reading: *pick, check })
}

#[cfg(test)]
mod tests {
    use super::*;

    const MHZ: u64 = 1_000_000;

    #[test]
    fn ranges_refuse_what_the_old_calibration_measured() {
        // microvm, with the PIT polled through a port 0x61 that is not there.
        assert!(!Quantity::Tsc.plausible(4_901_000));
        assert!(!Quantity::ApicClock.plausible(120_000 * 16));
        assert!(!Quantity::Tsc.plausible(0));
        assert!(!Quantity::Tsc.plausible(u64::MAX));
        assert!(Quantity::Tsc.plausible(2_400 * MHZ));
        assert!(Quantity::ApicClock.plausible(1_000 * MHZ));
        assert!(Quantity::ApicClock.plausible(19_200_000));
        assert!(Quantity::Tsc.plausible(100 * MHZ) && !Quantity::Tsc.plausible(100 * MHZ - 1));
        assert!(Quantity::Tsc.plausible(10_000 * MHZ) && !Quantity::Tsc.plausible(10_000 * MHZ + 1));
    }

    #[test]
    fn agreement_is_relative_and_symmetric() {
        assert!(agree(1000 * MHZ, 1000 * MHZ));
        assert!(agree(1000 * MHZ, 980 * MHZ) && agree(980 * MHZ, 1000 * MHZ));
        assert!(!agree(1000 * MHZ, 979 * MHZ) && !agree(979 * MHZ, 1000 * MHZ));
        assert!(agree(0, 0) && !agree(0, 1));
        assert!(agree(u64::MAX, u64::MAX - 1) && !agree(u64::MAX, 0));
    }

    #[test]
    fn rates() {
        // 10 ms of the HPET at 100 MHz against 25,000,000 TSC cycles: 2.5 GHz.
        assert_eq!(rate(25_000_000, 1_000_000, 100 * MHZ), Some(2_500 * MHZ));
        assert_eq!(rate(25_000_000, 0, 100 * MHZ), None);
        assert_eq!(rate(u64::MAX, 1, u64::MAX), None);
        assert_eq!(rate(0, 5, 7), Some(0));
    }

    #[test]
    fn counters_wrap_both_ways() {
        // The PIT counts down through 16 bits.
        let mut pit = Counter::new(16, true, 10);
        assert_eq!(pit.advance(5), 5);
        assert_eq!(pit.advance(0xfffe), 7);
        assert_eq!(pit.advance(0xfffe), 0);
        assert_eq!(pit.total(), 12);
        // The PM timer counts up through 24 bits; the upper byte of its port reads garbage.
        let mut pm = Counter::new(24, false, 0xff_fff0);
        assert_eq!(pm.advance(0xab00_0010), 0x20);
        assert_eq!(pm.total(), 0x20);
        let mut wide = Counter::new(64, false, u64::MAX);
        assert_eq!(wide.advance(1), 2);
    }

    fn intel(max_leaf: u32, leaf15: [u32; 3], base_mhz: u32) -> CpuidLeaves {
        CpuidLeaves { vendor: *b"GenuineIntel", max_leaf, leaf15, base_mhz, ..Default::default() }
    }

    #[test]
    fn stated_by_cpuid() {
        let r = Reading::new;
        // Skylake server: crystal 25 MHz stated, TSC = 25 MHz * 168 / 2.
        let s = stated(&intel(0x16, [2, 168, 25_000_000], 2100));
        assert_eq!(s.tsc, Some(r(Source::Cpuid15, 2_100 * MHZ)));
        assert_eq!(s.apic, Some(r(Source::Cpuid15, 25 * MHZ)));
        // Skylake client: no crystal in 0x15, derived from the base frequency.
        let s = stated(&intel(0x16, [2, 200, 0], 2400));
        assert_eq!(s.tsc, Some(r(Source::Cpuid16, 2_400 * MHZ)));
        assert_eq!(s.apic, Some(r(Source::Cpuid16, 24 * MHZ)));
        // Only 0x16: the TSC runs at the base frequency; nothing about the APIC timer.
        assert_eq!(
            stated(&intel(0x16, [0, 0, 0], 3000)),
            Stated { tsc: Some(r(Source::Cpuid16, 3_000 * MHZ)), apic: None }
        );
        // QEMU's qemu64 under TCG: highest leaf 0xd, so whatever 0x15/0x16 hold is not looked at.
        assert_eq!(stated(&intel(0xd, [2, 200, 24_000_000], 2400)), Stated::default());
        // Garbage in the leaves is no panic; the ranges refuse what comes out.
        let s = stated(&intel(0x16, [1, u32::MAX, u32::MAX], u32::MAX));
        assert!(!Quantity::Tsc.plausible(s.tsc.unwrap().hz));
        let s = stated(&intel(0x16, [u32::MAX, 1, 0], u32::MAX));
        assert_eq!(s.apic.map(|r| r.hz), Some(u64::MAX));
        assert!(!Quantity::ApicClock.plausible(u64::MAX));
        // Another vendor's leaves 0x15 and 0x16 mean nothing here.
        let amd = CpuidLeaves { vendor: *b"AuthenticAMD", ..intel(0x16, [2, 168, 25_000_000], 2100) };
        assert_eq!(stated(&amd), Stated::default());
    }

    #[test]
    fn stated_by_the_hypervisor() {
        let kvm = CpuidLeaves {
            vendor: *b"AuthenticAMD",
            max_leaf: 0x10,
            hypervisor: Some(*b"KVMKVMKVM\0\0\0"),
            hypervisor_max: 0x4000_0010,
            timing: [2_494_140, 1_000_000],
            ..Default::default()
        };
        let s = stated(&kvm);
        assert_eq!(s.tsc, Some(Reading::new(Source::Hypervisor, 2_494_140_000)));
        assert_eq!(s.apic, Some(Reading::new(Source::Hypervisor, 1_000 * MHZ)));
        // Only where the hypervisor has the leaf and is known to mean it.
        assert_eq!(stated(&CpuidLeaves { hypervisor_max: 0x4000_0001, ..kvm }), Stated::default());
        assert_eq!(stated(&CpuidLeaves { hypervisor: Some(*b"Microsoft Hv"), ..kvm }), Stated::default());
        assert_eq!(stated(&CpuidLeaves { hypervisor: None, ..kvm }), Stated::default());
        // It wins over CPUID 0x15 on Intel; an empty field leaves the other source.
        let both = CpuidLeaves { timing: [2_494_140, 0], ..intel(0x16, [2, 168, 25_000_000], 2100) };
        let both = CpuidLeaves { hypervisor: kvm.hypervisor, hypervisor_max: kvm.hypervisor_max, ..both };
        let s = stated(&both);
        assert_eq!(s.tsc.map(|r| r.source), Some(Source::Hypervisor));
        assert_eq!(s.apic, Some(Reading::new(Source::Cpuid15, 25 * MHZ)));
    }

    #[test]
    fn settling_windows() {
        let g = 2_500 * MHZ;
        assert_eq!(settle(&[Some(g), Some(g + 1000)]), Some(Settled::Steady(g + 1000)));
        // A window that lost a wrap of the PIT stands alone; the next two agree.
        assert_eq!(settle(&[Some(3 * g), Some(g), Some(g)]), Some(Settled::Steady(g)));
        assert_eq!(settle(&[Some(g), None, Some(g)]), Some(Settled::Unsteady { median: g, min: g, max: g }));
        assert_eq!(
            settle(&[Some(g), Some(2 * g), Some(3 * g), Some(4 * g), Some(5 * g)]),
            Some(Settled::Unsteady { median: 3 * g, min: g, max: 5 * g })
        );
        assert_eq!(settle(&[None, None]), None);
        assert_eq!(settle(&[]), None);
        // More windows than MAX_WINDOWS are ignored, not a panic.
        assert_eq!(settle(&[Some(1), Some(3), Some(5), Some(7), Some(9), Some(9)]).map(Settled::hz), Some(5));
    }

    #[test]
    fn choosing() {
        let r = Reading::new;
        let hpet = r(Source::Hpet, 2_494 * MHZ);
        let pm = r(Source::PmTimer, 2_493 * MHZ);
        let cpuid = r(Source::Cpuid15, 2_500 * MHZ);
        let bogus = r(Source::Cpuid16, 3_000 * MHZ);
        // A stated value that a measurement confirms wins.
        assert_eq!(choose(&[cpuid, hpet, pm]), Some(Choice { reading: cpuid, check: Check::Agreed(hpet) }));
        // A stated value the counters contradict loses to the measurements that agree.
        assert_eq!(choose(&[bogus, hpet, pm]), Some(Choice { reading: hpet, check: Check::Agreed(pm) }));
        // Nothing agrees: the first measurement, and what disagreed.
        let pit = r(Source::Pit, 2_000 * MHZ);
        assert_eq!(choose(&[bogus, pit]), Some(Choice { reading: pit, check: Check::Disagreed(bogus) }));
        assert_eq!(choose(&[hpet, pit]), Some(Choice { reading: hpet, check: Check::Disagreed(pit) }));
        // One source: used alone, stated or measured.
        assert_eq!(choose(&[bogus]), Some(Choice { reading: bogus, check: Check::Alone }));
        assert_eq!(choose(&[pit]), Some(Choice { reading: pit, check: Check::Alone }));
        assert_eq!(choose(&[]), None);
        // Two stated values that disagree, nothing measured: the first.
        assert_eq!(choose(&[cpuid, bogus]), Some(Choice { reading: cpuid, check: Check::Disagreed(bogus) }));
    }
}
