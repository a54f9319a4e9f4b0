//! Vulcan's one clock: the TSC, read in user mode, and the bounded waits built on it.
//!
//! Time only ever bounds a failure here: a test waits for something the ABI promises and fails
//! if it has not happened after [`PATIENCE_MS`]. No test passes or fails because something was
//! fast or slow (`cargo xtask bench` measures that); where a test must judge time, it counts the
//! kernel's ticks with Timers instead.

use sys::Boot;

use crate::harness::{TestResult, fail};

/// How long a test waits for something the ABI promises before it fails.
pub const PATIENCE_MS: u64 = 5000;

/// The time-stamp counter.
pub fn rdtsc() -> u64 {
    let (lo, hi): (u32, u32);
    // SAFETY: `rdtsc` only reads the counter (the kernel never sets CR4.TSD, so it does not
    // fault in user mode) and writes the two output registers.
    unsafe { core::arch::asm!("rdtsc", out("eax") lo, out("edx") hi, options(nomem, nostack, preserves_flags)) };
    (u64::from(hi) << 32) | u64::from(lo)
}

/// TSC ticks per millisecond, from the root info page (a generous 4 GHz if it says nothing).
pub fn tsc_per_ms(boot: &Boot) -> u64 {
    match boot.root_info().map(|i| i.tsc_hz) {
        Some(hz) if hz >= 1000 => hz / 1000,
        _ => 4_000_000,
    }
}

/// A point in time, by the TSC.
#[derive(Copy, Clone, Debug)]
pub struct Deadline(u64);

impl Deadline {
    /// `ms` milliseconds from now.
    pub fn after_ms(boot: &Boot, ms: u64) -> Deadline {
        Deadline(rdtsc().saturating_add(ms.saturating_mul(tsc_per_ms(boot))))
    }

    /// [`PATIENCE_MS`] from now.
    pub fn patience(boot: &Boot) -> Deadline {
        Deadline::after_ms(boot, PATIENCE_MS)
    }

    /// The TSC value.
    pub fn tsc(self) -> u64 {
        self.0
    }

    /// Whether it has passed.
    pub fn passed(self) -> bool {
        rdtsc() >= self.0
    }
}

/// Spins without a syscall for `ms` milliseconds.
pub fn busy_wait(boot: &Boot, ms: u64) {
    let end = Deadline::after_ms(boot, ms);
    while !end.passed() {
        core::hint::spin_loop();
    }
}

/// Yields until `done()` holds; fails naming `what` if it does not within [`PATIENCE_MS`].
pub fn wait_until(boot: &Boot, what: &str, mut done: impl FnMut() -> bool) -> TestResult {
    let end = Deadline::patience(boot);
    while !done() {
        if end.passed() {
            fail!("waited {PATIENCE_MS} ms for {what}");
        }
        sys::task::yield_now();
    }
    Ok(())
}
