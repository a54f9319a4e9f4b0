//! The ACPI power-management timer, used only at boot as a reference clock for calibrating the
//! TSC and the local APIC timer (`clock`): a 24- or 32-bit counter at 3.579545 MHz in an I/O
//! port that the FADT names, read and never written.

use x86_64::instructions::port::PortReadOnly;

use crate::acpi;

/// A PM timer to read.
pub struct PmTimer {
    port: u16,
    bits: u32,
}

impl PmTimer {
    /// The timer the FADT describes.
    ///
    /// # Safety
    /// `t.port` must be the PM timer's port, as firmware reported it: reading it must have no
    /// side effect.
    pub unsafe fn new(t: acpi::PmTimer) -> PmTimer {
        PmTimer { port: t.port, bits: t.bits }
    }

    /// The port.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The bits that count.
    pub fn bits(&self) -> u32 {
        self.bits
    }

    /// The counter (only its low `bits` bits count).
    pub fn read(&self) -> u32 {
        // SAFETY: `new`'s caller vouched that the port is the PM timer, which a read does not
        // change; no task can hold this port before boot ends.
        unsafe { PortReadOnly::<u32>::new(self.port).read() }
    }
}
