//! The processor's time-stamp counter, for measuring intervals in user mode.
//!
//! The TSC counts at the rate `RootInfo::tsc_hz` reports (the kernel settles it at boot); it is
//! readable in user mode because the kernel never sets CR4.TSD. For waiting, use Timers
//! ([`thread::sleep_us`](crate::thread::sleep_us)): the TSC only says how much time passed.

/// The time-stamp counter now.
///
/// ```no_run
/// let start = sys::clock::tsc();
/// // ... work ...
/// let ticks = sys::clock::tsc() - start;
/// # let _ = ticks;
/// ```
pub fn tsc() -> u64 {
    let (lo, hi): (u32, u32);
    // SAFETY: `rdtsc` only reads the counter into two registers (the kernel leaves CR4.TSD clear,
    // so it does not fault in user mode); it touches no memory.
    unsafe { core::arch::asm!("rdtsc", out("eax") lo, out("edx") hi, options(nomem, nostack, preserves_flags)) };
    (u64::from(hi) << 32) | u64::from(lo)
}
