//! The kernel's own address space: the direct map of RAM, the kernel image mapped W^X, stacks,
//! and uncached device pages. Every user address space shares its upper half.
//!
//! Built once at boot by [`build`] and never torn down. The upper-half PML4 entries it uses are
//! all created up front, so that later kernel mappings (device pages, stacks) show up in every
//! user address space, which copies those entries when it is made.

use core::sync::atomic::{AtomicU64, Ordering};

use x86_64::structures::paging::{PageTable, PageTableFlags};
use x86_64::{PhysAddr, VirtAddr};

use crate::arch::paging::{self, MapError, PAGE_SIZE, PageSize};
use crate::boot::{BootInfo, MemKind};

use super::{alloc_page, direct_map_offset};

/// The kernel's PML4 (0 until [`build`]).
static ROOT: AtomicU64 = AtomicU64::new(0);

/// Read-write, global: the direct map's RAM and the kernel's data.
const RW: PageTableFlags = PageTableFlags::WRITABLE.union(PageTableFlags::GLOBAL);

/// Physical address of the kernel's PML4.
pub fn root() -> PhysAddr {
    PhysAddr::new_truncate(ROOT.load(Ordering::Relaxed))
}

unsafe extern "C" {
    static __text_start: u8;
    static __text_end: u8;
    static __rodata_start: u8;
    static __rodata_end: u8;
    static __data_start: u8;
    static __data_end: u8;
}

fn frame() -> Option<PhysAddr> {
    alloc_page().map(PhysAddr::new)
}

/// Physical `phys` and where the direct map shows it, as addresses; `AlreadyMapped` (as for any
/// range that cannot be mapped) if `phys` is past 52 bits or its direct-map address would not
/// be canonical: firmware can name such addresses, and they are refused, not mapped.
fn direct(phys: u64) -> Result<(VirtAddr, PhysAddr), MapError> {
    let p = PhysAddr::try_new(phys).map_err(|_| MapError::AlreadyMapped)?;
    let v = direct_map_offset().checked_add(phys).ok_or(MapError::AlreadyMapped)?;
    Ok((VirtAddr::try_new(v).map_err(|_| MapError::AlreadyMapped)?, p))
}

/// Maps physical `[phys, phys + len)` into the direct map with the largest pages alignment
/// allows, skipping pages already mapped to the same place.
fn map_range(root: PhysAddr, phys: u64, len: u64, flags: PageTableFlags, huge_1g: bool) -> Result<(), MapError> {
    let mut off = 0;
    while off < len {
        let (p, left) = (phys + off, len - off);
        let (v, p) = direct(p)?;
        let size = if huge_1g && v.is_aligned(1u64 << 30) && p.is_aligned(1u64 << 30) && left >= 1 << 30 {
            PageSize::Size1G
        } else if v.is_aligned(1u64 << 21) && p.is_aligned(1u64 << 21) && left >= 1 << 21 {
            PageSize::Size2M
        } else {
            PageSize::Size4K
        };
        match paging::translate(root, v) {
            // Already covered (two regions sharing a large page): keep it, move past the page.
            Some(t) if t.phys == p => {
                off += t.rest_of_leaf().min(left);
                continue;
            }
            _ => paging::map(root, v, p, size, flags, &mut frame)?,
        }
        off += size.bytes();
    }
    Ok(())
}

/// Builds the kernel's page tables from `boot` and switches to them.
pub fn build(boot: &BootInfo) -> Result<(), MapError> {
    let nx = paging::nx();
    let features = crate::arch::cpu::features();
    let root = frame().ok_or(MapError::OutOfMemory)?;
    let dm = direct_map_offset();

    // Create every upper-half PML4 entry the kernel uses, so user spaces can share them: the
    // direct map up to the highest RAM address (at least 4 GiB, for device pages) and the top
    // entry (kernel image and stacks).
    let top = boot.regions().iter().map(|r| r.start + r.len).max().unwrap_or(0).max(1 << 32);
    let first = usize::from(VirtAddr::new_truncate(dm).p4_index());
    let last = usize::from(VirtAddr::new_truncate(dm + top - 1).p4_index());
    for i in (first..=last).chain(core::iter::once(511)) {
        let pdpt = frame().ok_or(MapError::OutOfMemory)?;
        // SAFETY: `root` is a fresh zeroed table reached through the direct map, which nothing
        // else refers to yet (the CPU does not use it before `activate` below).
        let pml4 = unsafe { &mut *super::phys_to_virt(root.as_u64()).cast::<PageTable>() };
        pml4[i].set_addr(pdpt, PageTableFlags::PRESENT | PageTableFlags::WRITABLE);
    }

    // The direct map: all RAM, read-write, never executable.
    for r in boot.regions() {
        let ram = matches!(
            r.kind,
            MemKind::Usable
                | MemKind::BootloaderReclaimable
                | MemKind::KernelAndModules
                | MemKind::AcpiReclaimable
                | MemKind::AcpiNvs
        );
        if !ram || r.len == 0 {
            continue;
        }
        let start = r.start & !(PAGE_SIZE - 1);
        let end = (r.start + r.len).next_multiple_of(PAGE_SIZE);
        map_range(root, start, end - start, RW | nx, features.huge_1g)?;
    }

    // The kernel image, W^X: text read-execute, rodata read-only, data and bss read-write.
    let to_phys = |v: u64| v - boot.kernel_virt + boot.kernel_phys;
    let sections = [
        (&raw const __text_start as u64, &raw const __text_end as u64, PageTableFlags::GLOBAL),
        (&raw const __rodata_start as u64, &raw const __rodata_end as u64, PageTableFlags::GLOBAL | nx),
        (&raw const __data_start as u64, &raw const __data_end as u64, RW | nx),
    ];
    for (start, end, flags) in sections {
        let mut v = start;
        while v < end {
            paging::map(root, VirtAddr::new(v), PhysAddr::new(to_phys(v)), PageSize::Size4K, flags, &mut frame)?;
            v += PAGE_SIZE;
        }
    }

    // SAFETY: the new tables map the kernel image (code, the boot stack in bss, statics) and
    // the direct map the allocator and boot information live in.
    unsafe { paging::activate(root) };
    ROOT.store(root.as_u64(), Ordering::Relaxed);
    Ok(())
}

/// Maps `[phys, phys + len)` uncached into the direct-map window (device registers) and returns
/// the virtual address of `phys`.
pub fn map_mmio(phys: u64, len: u64) -> Result<u64, MapError> {
    let start = phys & !(PAGE_SIZE - 1);
    let end = (phys + len).next_multiple_of(PAGE_SIZE);
    super::device::reserve_for_kernel(start, end);
    let mut p = start;
    let uncached = RW | PageTableFlags::NO_CACHE | PageTableFlags::WRITE_THROUGH | paging::nx();
    while p < end {
        let (v, pa) = direct(p)?;
        if paging::translate(root(), v).is_none() {
            paging::map(root(), v, pa, PageSize::Size4K, uncached, &mut frame)?;
        }
        p += PAGE_SIZE;
    }
    Ok(direct_map_offset() + phys)
}

/// Makes sure `[phys, phys + len)` (firmware tables outside RAM) is readable through the direct
/// map, mapping it read-only where it is not yet.
pub fn map_firmware(phys: u64, len: u64) -> Result<(), MapError> {
    let start = phys & !(PAGE_SIZE - 1);
    let end = phys.checked_add(len).ok_or(MapError::AlreadyMapped)?.next_multiple_of(PAGE_SIZE);
    super::device::reserve_for_kernel(start, end);
    let mut p = start;
    while p < end {
        let (v, pa) = direct(p)?;
        if paging::translate(root(), v).is_none() {
            let read_only = PageTableFlags::GLOBAL | paging::nx();
            paging::map(root(), v, pa, PageSize::Size4K, read_only, &mut frame)?;
        }
        p += PAGE_SIZE;
    }
    Ok(())
}

/// Copies the kernel's upper-half PML4 entries into the user PML4 at `user_root`, a fresh
/// zeroed table that nothing else refers to yet.
pub fn share_upper_half(user_root: PhysAddr) {
    // SAFETY: `user_root` is a fresh table reached through the direct map, which nothing else
    // refers to (the CPU does not use it until a task of the space is entered).
    let dst = unsafe { &mut *super::phys_to_virt(user_root.as_u64()).cast::<PageTable>() };
    for i in 256..512 {
        dst[i] = paging::table_entry(root(), i);
    }
}
