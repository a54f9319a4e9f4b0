//! The boot CPU's local APIC and its timer.
//!
//! The APIC is used in the mode firmware left it in: xAPIC through its MMIO page (mapped
//! uncached by `mem::kspace`), or x2APIC through MSRs when firmware already switched it on. The
//! timer is calibrated once against the PIT and then ticks periodically.

use core::sync::atomic::{AtomicU64, Ordering};

use super::pit;
use super::trap::{VECTOR_SPURIOUS, VECTOR_TIMER};
use super::{rdmsr, rdtsc, wrmsr};

const REG_ID: u32 = 0x20;
const REG_TPR: u32 = 0x80;
const REG_EOI: u32 = 0xb0;
const REG_SVR: u32 = 0xf0;
const REG_LVT_TIMER: u32 = 0x320;
const REG_LVT_LINT0: u32 = 0x350;
const REG_LVT_LINT1: u32 = 0x360;
const REG_LVT_ERROR: u32 = 0x370;
const REG_TIMER_INIT: u32 = 0x380;
const REG_TIMER_CURRENT: u32 = 0x390;
const REG_TIMER_DIV: u32 = 0x3e0;

const LVT_MASKED: u32 = 1 << 16;
const TIMER_PERIODIC: u32 = 1 << 17;

/// Timer interrupts per second.
pub const TICK_HZ: u64 = 100;

/// Virtual address of the xAPIC page, or 0 in x2APIC mode.
static MMIO: AtomicU64 = AtomicU64::new(0);
static X2APIC: AtomicU64 = AtomicU64::new(0);
static TICKS: AtomicU64 = AtomicU64::new(0);
static TSC_HZ: AtomicU64 = AtomicU64::new(0);
static TIMER_HZ: AtomicU64 = AtomicU64::new(0);

fn read(reg: u32) -> u32 {
    if X2APIC.load(Ordering::Relaxed) != 0 {
        // SAFETY: in x2APIC mode every xAPIC register `reg` is MSR 0x800 + reg / 16.
        unsafe { rdmsr(0x800 + reg / 16) as u32 }
    } else {
        // SAFETY: `MMIO` is the mapped APIC page (set by `init`) and `reg` an offset in it.
        unsafe { ((MMIO.load(Ordering::Relaxed) + u64::from(reg)) as *const u32).read_volatile() }
    }
}

fn write(reg: u32, value: u32) {
    if X2APIC.load(Ordering::Relaxed) != 0 {
        // SAFETY: as in `read`.
        unsafe { wrmsr(0x800 + reg / 16, u64::from(value)) }
    } else {
        // SAFETY: as in `read`.
        unsafe { ((MMIO.load(Ordering::Relaxed) + u64::from(reg)) as *mut u32).write_volatile(value) }
    }
}

/// Enables the APIC (at `mmio`, its mapped page, unless in x2APIC mode), masks its local
/// interrupt lines, calibrates the timer and TSC against the PIT, and starts the periodic tick.
pub fn init(mmio: u64, x2apic: bool) {
    X2APIC.store(u64::from(x2apic), Ordering::Relaxed);
    MMIO.store(mmio, Ordering::Relaxed);
    write(REG_TPR, 0);
    write(REG_SVR, 0x100 | u32::from(VECTOR_SPURIOUS));
    write(REG_LVT_LINT0, LVT_MASKED);
    write(REG_LVT_LINT1, LVT_MASKED);
    write(REG_LVT_ERROR, LVT_MASKED);
    write(REG_TIMER_DIV, 0x3); // divide by 16

    // Count APIC timer ticks and TSC cycles over 10 ms of PIT time.
    const CAL_MS: u64 = 10;
    let mut tsc0 = 0;
    let (apic_elapsed, tsc_elapsed) = pit::measure(
        CAL_MS,
        || {
            write(REG_LVT_TIMER, LVT_MASKED);
            write(REG_TIMER_INIT, u32::MAX);
            tsc0 = rdtsc();
        },
        || (u32::MAX - read(REG_TIMER_CURRENT), rdtsc()),
    );
    let tsc_hz = tsc_elapsed.saturating_sub(tsc0) * (1000 / CAL_MS);
    let timer_hz = u64::from(apic_elapsed) * (1000 / CAL_MS);
    TSC_HZ.store(tsc_hz, Ordering::Relaxed);
    TIMER_HZ.store(timer_hz, Ordering::Relaxed);

    let period = (timer_hz / TICK_HZ).clamp(1, u64::from(u32::MAX)) as u32;
    write(REG_TIMER_INIT, 0);
    write(REG_LVT_TIMER, u32::from(VECTOR_TIMER) | TIMER_PERIODIC);
    write(REG_TIMER_INIT, period);
}

/// Signals the end of the interrupt being handled.
pub fn eoi() {
    write(REG_EOI, 0);
}

/// This CPU's APIC ID.
pub fn id() -> u32 {
    let raw = read(REG_ID);
    if X2APIC.load(Ordering::Relaxed) != 0 { raw } else { raw >> 24 }
}

/// Counts one timer tick; returns the new count.
pub fn tick() -> u64 {
    TICKS.fetch_add(1, Ordering::Relaxed) + 1
}

/// Timer ticks since boot.
pub fn ticks() -> u64 {
    TICKS.load(Ordering::Relaxed)
}

/// TSC frequency measured at boot, in Hz (0 before `init`).
pub fn tsc_hz() -> u64 {
    TSC_HZ.load(Ordering::Relaxed)
}

/// APIC timer input frequency (after the divider) measured at boot, in Hz.
pub fn timer_hz() -> u64 {
    TIMER_HZ.load(Ordering::Relaxed)
}
