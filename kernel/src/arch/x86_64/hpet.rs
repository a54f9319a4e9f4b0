//! The HPET, used only at boot as a reference clock for calibrating the TSC and the local APIC
//! timer (`clock`): its main counter is read, its timers are never armed, and its configuration
//! is put back as it was found.

/// General capabilities and ID: bits 63:32 are the counter's period in femtoseconds.
const REG_CAPABILITIES: u64 = 0x00;
/// General configuration: bit 0 runs the main counter.
const REG_CONFIG: u64 = 0x10;
/// The main counter (its low 32 bits are read: every HPET has them).
const REG_COUNTER: u64 = 0xf0;

const CONFIG_ENABLE: u64 = 1;

/// The longest period the specification allows, 100 ns: the counter runs at 10 MHz or faster.
const MAX_PERIOD_FS: u64 = 100_000_000;
/// The shortest period taken as real, 1 ns: no HPET runs at 1 GHz (they run at 10 to 100 MHz).
const MIN_PERIOD_FS: u64 = 1_000_000;

/// The counter's width as read, in bits.
pub const BITS: u32 = 32;

/// An HPET whose main counter runs.
pub struct Hpet {
    regs: u64,
    period_fs: u64,
    config: u64,
}

impl Hpet {
    /// Checks the HPET whose register block is mapped (uncached) at `regs` and starts its main
    /// counter; `Err` with the period it states if that period is not between 1 and 100 ns (a
    /// block of all ones, where no HPET answers, states 0xffffffff fs).
    ///
    /// # Safety
    /// `regs` must be the virtual address of an HPET's 1 KiB register block, mapped uncached,
    /// that nothing else uses while this value lives.
    pub unsafe fn new(regs: u64) -> Result<Hpet, u64> {
        // SAFETY: the caller vouches for the mapping; these are 64-bit registers at 8-byte
        // aligned offsets in it.
        let (caps, config) = unsafe { (read64(regs + REG_CAPABILITIES), read64(regs + REG_CONFIG)) };
        let period_fs = caps >> 32;
        if !(MIN_PERIOD_FS..=MAX_PERIOD_FS).contains(&period_fs) {
            return Err(period_fs);
        }
        let hpet = Hpet { regs, period_fs, config };
        if config & CONFIG_ENABLE == 0 {
            // SAFETY: as above; running the main counter arms nothing (no timer is enabled).
            unsafe { write64(regs + REG_CONFIG, config | CONFIG_ENABLE) };
        }
        Ok(hpet)
    }

    /// The counter's frequency, in Hz.
    pub fn hz(&self) -> u64 {
        1_000_000_000_000_000 / self.period_fs
    }

    /// The low 32 bits of the main counter.
    pub fn read(&self) -> u32 {
        // SAFETY: `new`'s caller vouched for the mapping; a 32-bit read of the counter's low
        // half has no side effect.
        unsafe { ((self.regs + REG_COUNTER) as *const u32).read_volatile() }
    }
}

impl Drop for Hpet {
    /// Puts the configuration back: a counter that was stopped stops again.
    fn drop(&mut self) {
        // SAFETY: as in `read`; this restores the value read in `new`.
        unsafe { write64(self.regs + REG_CONFIG, self.config) }
    }
}

/// # Safety
/// `addr` is a mapped 64-bit HPET register.
unsafe fn read64(addr: u64) -> u64 {
    // SAFETY: per the caller.
    unsafe { (addr as *const u64).read_volatile() }
}

/// # Safety
/// `addr` is a mapped 64-bit HPET register and `value` valid for it.
unsafe fn write64(addr: u64, value: u64) {
    // SAFETY: per the caller.
    unsafe { (addr as *mut u64).write_volatile(value) }
}
