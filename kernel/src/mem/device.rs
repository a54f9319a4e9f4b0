//! Device memory: which physical ranges a driver may be given as Pages (`page_create_device`).
//!
//! None of RAM, as the loader's memory map describes it (usable RAM, the loader's and the
//! kernel's own memory, ACPI tables and storage, bad RAM: everything but the ranges it calls
//! reserved or framebuffer); none of the kernel's own devices and firmware tables (every range it
//! maps for itself with `kspace::map_mmio` or `map_firmware`: the local APIC, the IOAPICs, the
//! HPET, the ACPI tables); and nothing at or beyond the CPU's physical address width. What is
//! left is memory-mapped I/O (PCI BARs, the framebuffer, the legacy VGA window) and addresses
//! nothing answers.
//!
//! This module only answers the question ([`allowed`]); `uapi` asks it before it makes a device
//! Page. It fails closed: if more kernel ranges are recorded than it can hold, nothing is
//! allowed.
#![forbid(unsafe_code)]

use core::cell::RefCell;

use crate::boot::{MAX_REGIONS, MemKind, MemRegion};
use crate::sync::Global;

/// Most ranges the kernel maps for its own devices and firmware that are recorded.
pub const MAX_KERNEL_RANGES: usize = 32;

/// The ranges that are not device memory (see the module docs). Pure data, host-tested.
pub struct DeviceMap {
    ram: [(u64, u64); MAX_REGIONS],
    ram_count: usize,
    kernel: [(u64, u64); MAX_KERNEL_RANGES],
    kernel_count: usize,
    /// One past the highest physical address the CPU can reach.
    limit: u64,
    /// More kernel ranges than fit were recorded: nothing is allowed.
    overflowed: bool,
}

impl Default for DeviceMap {
    fn default() -> DeviceMap {
        DeviceMap::new()
    }
}

impl DeviceMap {
    /// Nothing recorded, and no physical address reachable (so nothing allowed) until
    /// [`set_limit`](Self::set_limit).
    pub const fn new() -> DeviceMap {
        DeviceMap {
            ram: [(0, 0); MAX_REGIONS],
            ram_count: 0,
            kernel: [(0, 0); MAX_KERNEL_RANGES],
            kernel_count: 0,
            limit: 0,
            overflowed: false,
        }
    }

    /// Records the memory map's RAM: every region but reserved and framebuffer ones.
    pub fn add_memory_map(&mut self, regions: &[MemRegion]) {
        for r in regions.iter().filter(|r| !matches!(r.kind, MemKind::Reserved | MemKind::Framebuffer)) {
            if self.ram_count == MAX_REGIONS {
                self.overflowed = true;
                return;
            }
            self.ram[self.ram_count] = (r.start, r.start.saturating_add(r.len));
            self.ram_count += 1;
        }
    }

    /// Records a range `[start, end)` the kernel uses itself.
    pub fn add_kernel(&mut self, start: u64, end: u64) {
        if self.kernel[..self.kernel_count].iter().any(|&(s, e)| s <= start && end <= e) {
            return;
        }
        if self.kernel_count == MAX_KERNEL_RANGES {
            self.overflowed = true;
            return;
        }
        self.kernel[self.kernel_count] = (start, end);
        self.kernel_count += 1;
    }

    /// Sets the CPU's physical address width, in bits.
    pub fn set_phys_bits(&mut self, bits: u32) {
        self.limit = if bits >= 64 { u64::MAX } else { 1u64 << bits };
    }

    /// Whether `[start, start + len)` is device memory a driver may have: page-aligned, not
    /// empty, within the physical address width, and clear of RAM and the kernel's ranges.
    pub fn allowed(&self, start: u64, len: u64) -> bool {
        let Some(end) = start.checked_add(len) else { return false };
        let clear = |ranges: &[(u64, u64)]| ranges.iter().all(|&(s, e)| end <= s || start >= e);
        !self.overflowed
            && len > 0
            && start.is_multiple_of(4096)
            && len.is_multiple_of(4096)
            && end <= self.limit
            && clear(&self.ram[..self.ram_count])
            && clear(&self.kernel[..self.kernel_count])
    }
}

static MAP: Global<RefCell<DeviceMap>> = Global::new(RefCell::new(DeviceMap::new()));

/// Records the memory map and the physical address width: once, at boot. A memory map the boot
/// path could not keep whole (`dropped` regions) allows nothing: RAM could hide in what is gone.
pub fn init(regions: &[MemRegion], dropped: usize, phys_bits: u32) {
    let mut m = MAP.borrow_mut();
    m.add_memory_map(regions);
    m.set_phys_bits(phys_bits);
    if dropped > 0 {
        m.overflowed = true;
    }
}

/// Records a range the kernel maps for its own use (device registers, firmware tables).
pub fn reserve_for_kernel(start: u64, end: u64) {
    MAP.borrow_mut().add_kernel(start, end);
}

/// Whether `[start, start + len)` may be given to a driver (see [`DeviceMap::allowed`]).
pub fn allowed(start: u64, len: u64) -> bool {
    MAP.borrow().allowed(start, len)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map() -> DeviceMap {
        let mut m = DeviceMap::new();
        let region = |start: u64, len: u64, kind| MemRegion { start, len, kind };
        m.add_memory_map(&[
            region(0, 0x9f000, MemKind::Usable),
            region(0xf0000, 0x10000, MemKind::Reserved),
            region(0x10_0000, 0x7ee_0000, MemKind::Usable),
            region(0x7fe_0000, 0x2_0000, MemKind::AcpiReclaimable),
            region(0xfd00_0000, 0x40_0000, MemKind::Framebuffer),
            region(0xfeff_c000, 0x4000, MemKind::Reserved),
            region(0x1_0000_0000, 0x1000_0000, MemKind::Usable),
        ]);
        m.add_kernel(0xfee0_0000, 0xfee0_1000);
        m.add_kernel(0xfec0_0000, 0xfec0_1000);
        m.set_phys_bits(40);
        m
    }

    #[test]
    fn device_memory_is_allowed() {
        let m = map();
        assert!(m.allowed(0xfd00_0000, 0x40_0000), "the framebuffer");
        assert!(m.allowed(0xa0000, 0x20000), "the legacy VGA window (in no region)");
        assert!(m.allowed(0xfeff_c000, 0x1000), "a reserved region");
        assert!(m.allowed(0xfebf_f000, 0x1000), "right below an IOAPIC");
        assert!(m.allowed(0xff_ffff_f000, 0x1000), "the last page the CPU can address");
    }

    #[test]
    fn ram_kernel_devices_and_the_impossible_are_refused() {
        let m = map();
        for (start, len, what) in [
            (0x1000, 0x1000, "usable RAM"),
            (0x9e000, 0x2000, "straddling the end of low RAM"),
            (0x7fe_0000, 0x1000, "ACPI tables"),
            (0x1_0000_0000, 0x1000, "RAM above 4 GiB"),
            (0xfee0_0000, 0x1000, "the local APIC"),
            (0xfebf_f000, 0x2000, "running into an IOAPIC"),
            (0xfd00_0800, 0x1000, "unaligned"),
            (0xfd00_0000, 0x800, "a partial page"),
            (0xfd00_0000, 0, "empty"),
            (0x100_0000_0000, 0x1000, "beyond 40 address bits"),
            (u64::MAX - 0xfff, 0x1000, "wrapping"),
        ] {
            assert!(!m.allowed(start, len), "{what}");
        }
        assert!(!DeviceMap::new().allowed(0xfd00_0000, 0x1000), "nothing before the width is known");
    }

    #[test]
    fn too_many_kernel_ranges_fail_closed() {
        let mut m = map();
        for i in 0..=MAX_KERNEL_RANGES as u64 {
            m.add_kernel(0xe000_0000 + i * 0x2000, 0xe000_1000 + i * 0x2000);
        }
        assert!(!m.allowed(0xfd00_0000, 0x1000));
    }
}
