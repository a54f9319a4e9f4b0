//! The 8254 PIT, used only at boot, as the reference clock of last resort for calibrating the
//! TSC and the local APIC timer (`clock`).
//!
//! Channel 0 counts down freely through all 16 bits (mode 2, reload 65536, wrapping every 55 ms)
//! and is read by latching its count: a counter-latch command to port 0x43, then the low and
//! high bytes from port 0x40. No interrupt is taken (IRQ 0 stays masked) and port 0x61, the
//! channel 2 gate that the old method polled, is not touched: QEMU's microvm, for one, has no
//! port 0x61. A PIT that is absent or gated reads the same value again and again, which the
//! caller sees as a counter that does not move. Afterwards channel 0 is left in mode 0, which
//! counts to zero once and then raises no further edges.

use x86_64::instructions::port::{Port, PortWriteOnly};

/// The PIT's input clock, in Hz.
pub const PIT_HZ: u64 = 1_193_182;

/// The counter's width in bits.
pub const BITS: u32 = 16;

/// Channel 0's data port: the reload value is written and the latched count read here.
fn channel0() -> Port<u8> {
    Port::new(0x40)
}

/// The mode/command register.
fn command() -> PortWriteOnly<u8> {
    PortWriteOnly::new(0x43)
}

/// Command: channel 0, low byte then high byte, mode 2 (rate generator), binary.
const CH0_RATE: u8 = 0x34;
/// Command: channel 0, low byte then high byte, mode 0 (interrupt on terminal count), binary.
const CH0_ONCE: u8 = 0x30;
/// Command: latch channel 0's count.
const CH0_LATCH: u8 = 0x00;

/// Starts channel 0 counting down from 65536, over and over.
pub fn start() {
    // SAFETY: the PIT belongs to the kernel (`abi::ioport::KERNEL_PORTS` keeps it from tasks)
    // and nothing else uses channel 0; a reload value of 0 means 65536.
    unsafe {
        command().write(CH0_RATE);
        channel0().write(0);
        channel0().write(0);
    }
}

/// Channel 0's current count, latched so that its two bytes belong together.
pub fn read() -> u16 {
    // SAFETY: as in `start`; a latch command only freezes the count until both bytes are read.
    let (lo, hi) = unsafe {
        command().write(CH0_LATCH);
        (channel0().read(), channel0().read())
    };
    u16::from_le_bytes([lo, hi])
}

/// Leaves channel 0 quiet: one count down from 65535 to zero, then no further edges on IRQ 0.
pub fn stop() {
    // SAFETY: as in `start`.
    unsafe {
        command().write(CH0_ONCE);
        channel0().write(0xff);
        channel0().write(0xff);
    }
}
