//! Boot: the two entries (Limine and PVH) and the one [`BootInfo`] they both produce.
//!
//! Each entry reads its loader's structures, copies what the kernel needs into the static
//! `BootInfo` (no heap exists yet), and calls `init::kernel_main`. Nothing after that knows
//! which loader ran, except for the log line that says so.

#[cfg(not(test))]
pub mod limine;
#[cfg(not(test))]
pub mod pvh;

/// Most memory-map entries kept; more are dropped with a warning.
pub const MAX_REGIONS: usize = 128;
/// Longest command line kept.
pub const CMDLINE_MAX: usize = abi::rootinfo::CMDLINE_MAX;

/// What a range of physical memory is.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum MemKind {
    /// Free RAM.
    Usable,
    /// Not to be touched.
    Reserved,
    /// ACPI tables; RAM once they are parsed.
    AcpiReclaimable,
    /// ACPI non-volatile storage.
    AcpiNvs,
    /// Broken RAM.
    Bad,
    /// The bootloader's own data (page tables, memory map); free once the kernel is done with it.
    BootloaderReclaimable,
    /// The kernel image and the modules.
    KernelAndModules,
    /// The framebuffer.
    Framebuffer,
}

/// One memory-map entry.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct MemRegion {
    /// Physical start.
    pub start: u64,
    /// Length in bytes.
    pub len: u64,
    /// Its kind.
    pub kind: MemKind,
}

/// A physical byte range.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct PhysRange {
    /// Physical start.
    pub start: u64,
    /// Length in bytes.
    pub len: u64,
}

/// The boot protocol that started the kernel.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Protocol {
    /// Xen PVH (`qemu -kernel`).
    Pvh,
    /// Limine, with the base revision it honoured.
    Limine {
        /// 3 when the loader supports it; 2 for Limine 8.x, which records nothing else.
        revision: u64,
    },
}

/// A linear framebuffer left by the loader.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct Framebuffer {
    /// Physical address.
    pub phys: u64,
    /// Width in pixels.
    pub width: u64,
    /// Height in pixels.
    pub height: u64,
    /// Bytes per line.
    pub pitch: u64,
    /// Bits per pixel.
    pub bpp: u16,
    /// Red, green and blue mask sizes and shifts, in bits: `[r_size, r_shift, g_size, g_shift,
    /// b_size, b_shift]`.
    pub masks: [u8; 6],
}

/// Everything the kernel learns from its loader.
#[derive(Clone, Debug)]
pub struct BootInfo {
    /// Which entry ran.
    pub protocol: Protocol,
    /// Offset of the loader's direct map (kept as the kernel's).
    pub direct_map: u64,
    /// Physical address of the first byte of the kernel image.
    pub kernel_phys: u64,
    /// Virtual address of the first byte of the kernel image.
    pub kernel_virt: u64,
    regions: [MemRegion; MAX_REGIONS],
    region_count: usize,
    /// The initramfs module.
    pub initramfs: Option<PhysRange>,
    /// Physical address of the ACPI RSDP.
    pub rsdp: Option<u64>,
    /// The framebuffer.
    pub framebuffer: Option<Framebuffer>,
    cmdline: [u8; CMDLINE_MAX],
    cmdline_len: usize,
    /// TSC when the kernel's first Rust code ran.
    pub entry_tsc: u64,
    /// Memory-map entries dropped because `MAX_REGIONS` was reached.
    pub regions_dropped: usize,
}

impl BootInfo {
    /// An empty record for `protocol`.
    pub const fn new(protocol: Protocol) -> Self {
        Self {
            protocol,
            direct_map: 0,
            kernel_phys: 0,
            kernel_virt: 0,
            regions: [MemRegion { start: 0, len: 0, kind: MemKind::Reserved }; MAX_REGIONS],
            region_count: 0,
            initramfs: None,
            rsdp: None,
            framebuffer: None,
            cmdline: [0; CMDLINE_MAX],
            cmdline_len: 0,
            entry_tsc: 0,
            regions_dropped: 0,
        }
    }

    /// Adds a memory-map entry (empty ones are ignored).
    pub fn push_region(&mut self, start: u64, len: u64, kind: MemKind) {
        if len == 0 {
            return;
        }
        if self.region_count == MAX_REGIONS {
            self.regions_dropped += 1;
            return;
        }
        // Clamp an entry that would wrap the address space.
        let len = len.min(u64::MAX - start);
        self.regions[self.region_count] = MemRegion { start, len, kind };
        self.region_count += 1;
    }

    /// The memory map.
    pub fn regions(&self) -> &[MemRegion] {
        &self.regions[..self.region_count]
    }

    /// Sets the command line (truncated to [`CMDLINE_MAX`] bytes).
    pub fn set_cmdline(&mut self, bytes: &[u8]) {
        let n = bytes.len().min(CMDLINE_MAX);
        self.cmdline[..n].copy_from_slice(&bytes[..n]);
        self.cmdline_len = n;
    }

    /// The command line.
    pub fn cmdline(&self) -> &[u8] {
        &self.cmdline[..self.cmdline_len]
    }

    /// Total bytes of usable RAM in the map.
    pub fn usable_bytes(&self) -> u64 {
        self.regions().iter().filter(|r| r.kind == MemKind::Usable).map(|r| r.len).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn regions_are_bounded() {
        let mut b = BootInfo::new(Protocol::Pvh);
        for i in 0..(MAX_REGIONS as u64 + 5) {
            b.push_region(i * 0x1000, 0x1000, MemKind::Usable);
        }
        b.push_region(0, 0, MemKind::Usable);
        assert_eq!(b.regions().len(), MAX_REGIONS);
        assert_eq!(b.regions_dropped, 5);
        b.push_region(u64::MAX - 10, 100, MemKind::Reserved);
        assert_eq!(b.usable_bytes(), MAX_REGIONS as u64 * 0x1000);
    }

    #[test]
    fn cmdline_truncates() {
        let mut b = BootInfo::new(Protocol::Pvh);
        b.set_cmdline(&[b'x'; 1000]);
        assert_eq!(b.cmdline().len(), CMDLINE_MAX);
    }
}
