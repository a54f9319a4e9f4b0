//! IOAPICs: found in the MADT, mapped uncached by `mem::kspace`; every redirection entry is
//! masked at boot. Routing a line to a vector comes with the IRQ objects.

use super::trap::IRQ_BASE;

const REG_VERSION: u32 = 0x01;
const REG_REDIRECTION: u32 = 0x10;

/// One IOAPIC, reached through its mapped registers.
#[derive(Copy, Clone, Debug)]
pub struct IoApic {
    /// Virtual address of the register window.
    pub mmio: u64,
    /// First global system interrupt it serves.
    pub gsi_base: u32,
}

impl IoApic {
    fn read(&self, reg: u32) -> u32 {
        // SAFETY: `mmio` is this IOAPIC's mapped register window: IOREGSEL at 0, IOWIN at 0x10.
        unsafe {
            (self.mmio as *mut u32).write_volatile(reg);
            ((self.mmio + 0x10) as *const u32).read_volatile()
        }
    }

    fn write(&self, reg: u32, value: u32) {
        // SAFETY: as in `read`.
        unsafe {
            (self.mmio as *mut u32).write_volatile(reg);
            ((self.mmio + 0x10) as *mut u32).write_volatile(value);
        }
    }

    /// Number of redirection entries.
    pub fn lines(&self) -> u32 {
        ((self.read(REG_VERSION) >> 16) & 0xff) + 1
    }

    /// Masks every line; each keeps a distinct vector so a stray one is recognisable.
    pub fn mask_all(&self) {
        for line in 0..self.lines() {
            let vector = u32::from(IRQ_BASE) + 1 + ((self.gsi_base + line) & 0x3f);
            self.write(REG_REDIRECTION + 2 * line, (1 << 16) | vector);
            self.write(REG_REDIRECTION + 2 * line + 1, 0);
        }
    }
}
