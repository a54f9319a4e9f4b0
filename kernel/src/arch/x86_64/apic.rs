//! The boot CPU's local APIC and its timer.
//!
//! The APIC is used in the mode firmware left it in: xAPIC through its MMIO page (mapped
//! uncached by `mem::kspace`), or x2APIC through MSRs when firmware already switched it on. The
//! timer divides its input clock by [`TIMER_DIVIDER`]; `clock` lets it count down freely while
//! it measures that clock, then [`start_tick`] makes it tick periodically at [`TICK_HZ`].

use core::sync::atomic::{AtomicU64, Ordering};

use x86_64::registers::model_specific::Msr;

use super::trap::{VECTOR_SPURIOUS, VECTOR_TIMER};

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

/// What the timer divides its input clock by (divide configuration 0b011).
pub const TIMER_DIVIDER: u64 = 16;
const DIVIDE_BY_16: u32 = 0x3;

/// Virtual address of the xAPIC page, or 0 in x2APIC mode.
static MMIO: AtomicU64 = AtomicU64::new(0);
static X2APIC: AtomicU64 = AtomicU64::new(0);
static TICKS: AtomicU64 = AtomicU64::new(0);
/// The timer's count per tick (0 until [`start_tick`]).
static PERIOD: AtomicU64 = AtomicU64::new(0);

fn read(reg: u32) -> u32 {
    if X2APIC.load(Ordering::Relaxed) != 0 {
        // SAFETY: in x2APIC mode every xAPIC register `reg` is MSR 0x800 + reg / 16.
        unsafe { Msr::new(0x800 + reg / 16).read() as u32 }
    } else {
        // SAFETY: `MMIO` is the mapped APIC page (set by `init`) and `reg` an offset in it.
        unsafe { ((MMIO.load(Ordering::Relaxed) + u64::from(reg)) as *const u32).read_volatile() }
    }
}

fn write(reg: u32, value: u32) {
    if X2APIC.load(Ordering::Relaxed) != 0 {
        // SAFETY: as in `read`.
        unsafe { Msr::new(0x800 + reg / 16).write(u64::from(value)) }
    } else {
        // SAFETY: as in `read`.
        unsafe { ((MMIO.load(Ordering::Relaxed) + u64::from(reg)) as *mut u32).write_volatile(value) }
    }
}

/// Enables the APIC (at `mmio`, its mapped page, unless in x2APIC mode) and masks its local
/// interrupt lines and its timer.
pub fn init(mmio: u64, x2apic: bool) {
    X2APIC.store(u64::from(x2apic), Ordering::Relaxed);
    MMIO.store(mmio, Ordering::Relaxed);
    write(REG_TPR, 0);
    write(REG_SVR, 0x100 | u32::from(VECTOR_SPURIOUS));
    write(REG_LVT_LINT0, LVT_MASKED);
    write(REG_LVT_LINT1, LVT_MASKED);
    write(REG_LVT_ERROR, LVT_MASKED);
    write(REG_LVT_TIMER, LVT_MASKED);
    write(REG_TIMER_DIV, DIVIDE_BY_16);
}

/// Starts the timer counting down from `u32::MAX`, once, with its interrupt masked, so that its
/// input clock can be measured ([`timer_count`]).
pub fn timer_free_run() {
    write(REG_LVT_TIMER, LVT_MASKED);
    write(REG_TIMER_INIT, u32::MAX);
}

/// The timer's current count (it counts down at the input clock over [`TIMER_DIVIDER`]).
pub fn timer_count() -> u32 {
    read(REG_TIMER_CURRENT)
}

/// Makes the timer interrupt [`TICK_HZ`] times a second, given its input clock in Hz.
pub fn start_tick(clock_hz: u64) {
    let period = (clock_hz / TIMER_DIVIDER / TICK_HZ).clamp(1, u64::from(u32::MAX));
    PERIOD.store(period, Ordering::Relaxed);
    write(REG_TIMER_INIT, 0);
    write(REG_LVT_TIMER, u32::from(VECTOR_TIMER) | TIMER_PERIODIC);
    write(REG_TIMER_INIT, period as u32);
}

/// The timer's count per tick (0 before [`start_tick`]).
pub fn tick_period() -> u64 {
    PERIOD.load(Ordering::Relaxed)
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
