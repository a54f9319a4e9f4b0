//! The 8254 PIT, used once at boot as a reference clock to calibrate the local APIC timer and the
//! TSC. Channel 2 is used because its output can be read back through port 0x61 without
//! interrupts.

use super::{inb, outb};

/// The PIT's input clock, in Hz.
pub const PIT_HZ: u64 = 1_193_182;

/// Runs `during` while the PIT counts `ms` milliseconds (at most 50), then returns what `after`
/// returns. `during` starts the measured clocks; `after` reads them the moment the PIT expires.
pub fn measure<T>(ms: u64, during: impl FnOnce(), after: impl FnOnce() -> T) -> T {
    let count = (PIT_HZ * ms.min(50) / 1000) as u16;
    // SAFETY: the PIT and port 0x61 belong to the kernel; channel 2 is gated through port 0x61
    // (bit 0 gate, bit 1 speaker, bit 5 output), and mode 0 raises the output at terminal count.
    unsafe {
        let ctl = inb(0x61);
        outb(0x61, (ctl & !0x02) | 0x01);
        outb(0x43, 0xb0); // channel 2, lobyte/hibyte, mode 0, binary
        outb(0x42, count as u8);
        outb(0x42, (count >> 8) as u8);
        // Restart the count by toggling the gate.
        let ctl = inb(0x61);
        outb(0x61, ctl & !0x01);
        outb(0x61, ctl | 0x01);
    }
    during();
    // Bounded: a PIT that never fires must not hang boot (about 1 s at worst under emulation).
    for _ in 0..50_000_000u64 {
        // SAFETY: reading port 0x61 has no side effects.
        if unsafe { inb(0x61) } & 0x20 != 0 {
            break;
        }
        core::hint::spin_loop();
    }
    after()
}
