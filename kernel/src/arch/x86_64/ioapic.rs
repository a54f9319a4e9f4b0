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

    /// Whether this IOAPIC serves `gsi`.
    pub fn serves(&self, gsi: u32) -> bool {
        gsi >= self.gsi_base && gsi < self.gsi_base + self.lines()
    }

    /// Routes `gsi` (which this IOAPIC serves) to its vector on the boot CPU, with the ISA
    /// override `flags` (MPS INTI: polarity bits 0-1, trigger bits 2-3), masked.
    pub fn route(&self, gsi: u32, flags: u16) {
        let line = gsi - self.gsi_base;
        let active_low = flags & 0b11 == 0b11;
        let level = (flags >> 2) & 0b11 == 0b11;
        let low = u32::from(vector_of(gsi)) | (u32::from(active_low) << 13) | (u32::from(level) << 15) | (1 << 16);
        self.write(REG_REDIRECTION + 2 * line + 1, u32::from(super::apic::id() as u8) << 24);
        self.write(REG_REDIRECTION + 2 * line, low);
    }

    /// Masks or unmasks `gsi`'s line.
    pub fn set_masked(&self, gsi: u32, masked: bool) {
        let reg = REG_REDIRECTION + 2 * (gsi - self.gsi_base);
        let low = self.read(reg);
        self.write(reg, if masked { low | (1 << 16) } else { low & !(1 << 16) });
    }

    /// Masks every line; each keeps a distinct vector so a stray one is recognisable.
    pub fn mask_all(&self) {
        for line in 0..self.lines() {
            let vector = u32::from(vector_of(self.gsi_base + line));
            self.write(REG_REDIRECTION + 2 * line, (1 << 16) | vector);
            self.write(REG_REDIRECTION + 2 * line + 1, 0);
        }
    }
}

/// Interrupt lines the kernel routes: GSIs `0..MAX_GSI`.
pub const MAX_GSI: u32 = 64;

/// The vector of `gsi`: 33 + (gsi mod 64).
pub fn vector_of(gsi: u32) -> u8 {
    IRQ_BASE + 1 + (gsi % MAX_GSI) as u8
}

/// The GSI behind an IOAPIC vector, if `vector` is one.
pub fn gsi_of(vector: u8) -> Option<u32> {
    let v = vector.checked_sub(IRQ_BASE + 1)?;
    (u32::from(v) < MAX_GSI).then_some(u32::from(v))
}

static IOAPICS: crate::sync::KernelLock<[Option<IoApic>; 8]> = crate::sync::KernelLock::new("IOAPIC table", [None; 8]);

/// Records an IOAPIC found at boot.
pub fn register(io: IoApic) {
    if let Some(slot) = IOAPICS.lock().iter_mut().find(|s| s.is_none()) {
        *slot = Some(io);
    }
}

/// The IOAPIC serving `gsi`.
pub fn for_gsi(gsi: u32) -> Option<IoApic> {
    IOAPICS.lock().iter().flatten().find(|io| io.serves(gsi)).copied()
}
