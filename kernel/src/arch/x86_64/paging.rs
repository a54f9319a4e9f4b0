//! Four-level x86_64 page tables, reached through the kernel's direct map.
//!
//! This module walks and edits page tables; it does not decide what is mapped where (that is
//! `mem::kspace` for the kernel and `mem::vspace` for user address spaces) and it does not own
//! physical pages: callers pass a frame source for new tables.

use crate::mem::phys_to_virt;

/// Size of a base page.
pub const PAGE_SIZE: u64 = 4096;

/// Present.
pub const PRESENT: u64 = 1 << 0;
/// Writable.
pub const WRITABLE: u64 = 1 << 1;
/// Reachable from user mode.
pub const USER: u64 = 1 << 2;
/// Write-through.
pub const PWT: u64 = 1 << 3;
/// Cache disable.
pub const PCD: u64 = 1 << 4;
/// A 2 MiB or 1 GiB leaf (in a PD or PDPT entry).
pub const HUGE: u64 = 1 << 7;
/// Global: kept in the TLB across CR3 loads (kernel mappings only).
pub const GLOBAL: u64 = 1 << 8;
/// No-execute (only honoured, and only legal, when `EFER.NXE` is set).
pub const NX: u64 = 1 << 63;

const ADDR_MASK: u64 = 0x000f_ffff_ffff_f000;

/// The sizes a leaf can have.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum PageSize {
    /// 4 KiB.
    Size4K,
    /// 2 MiB.
    Size2M,
    /// 1 GiB.
    Size1G,
}

impl PageSize {
    /// Size in bytes.
    pub const fn bytes(self) -> u64 {
        match self {
            PageSize::Size4K => 1 << 12,
            PageSize::Size2M => 1 << 21,
            PageSize::Size1G => 1 << 30,
        }
    }

    /// The table level whose entries are leaves of this size (1 = PT, 2 = PD, 3 = PDPT).
    const fn level(self) -> usize {
        match self {
            PageSize::Size4K => 1,
            PageSize::Size2M => 2,
            PageSize::Size1G => 3,
        }
    }
}

/// Why a mapping could not be made.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum MapError {
    /// No frame for a page table.
    OutOfMemory,
    /// Something else is already mapped there.
    AlreadyMapped,
}

/// The NX bit if the CPU has it, else 0.
pub fn nx() -> u64 {
    if super::cpu::features().nx { NX } else { 0 }
}

fn table(phys: u64) -> *mut u64 {
    phys_to_virt(phys) as *mut u64
}

fn index(virt: u64, level: usize) -> usize {
    ((virt >> (12 + 9 * (level - 1))) & 0x1ff) as usize
}

/// Reads entry `i` of the table at `phys`.
fn read(phys: u64, i: usize) -> u64 {
    // SAFETY: `phys` is a page table reached through the direct map, `i < 512`.
    unsafe { table(phys).add(i).read_volatile() }
}

fn write(phys: u64, i: usize, value: u64) {
    // SAFETY: as in `read`; page tables are edited only by the kernel with interrupts off.
    unsafe { table(phys).add(i).write_volatile(value) }
}

/// Maps `virt` to `phys` as one leaf of `size` with `flags` (PRESENT is added) in the tables at
/// `root`. New tables come from `alloc` (zeroed frames). Mapping the same frame with the same
/// flags again succeeds; anything else already there is [`MapError::AlreadyMapped`].
pub fn map(
    root: u64,
    virt: u64,
    phys: u64,
    size: PageSize,
    flags: u64,
    alloc: &mut dyn FnMut() -> Option<u64>,
) -> Result<(), MapError> {
    debug_assert!(virt.is_multiple_of(size.bytes()) && phys.is_multiple_of(size.bytes()));
    let user = flags & USER;
    let mut tbl = root;
    for level in (size.level() + 1..=4).rev() {
        let i = index(virt, level);
        let entry = read(tbl, i);
        if entry & PRESENT == 0 {
            let new = alloc().ok_or(MapError::OutOfMemory)?;
            write(tbl, i, new | PRESENT | WRITABLE | user);
            tbl = new;
        } else if entry & HUGE != 0 {
            return Err(MapError::AlreadyMapped);
        } else {
            tbl = entry & ADDR_MASK;
        }
    }
    let i = index(virt, size.level());
    let leaf = phys | flags | PRESENT | if size == PageSize::Size4K { 0 } else { HUGE };
    let old = read(tbl, i);
    if old & PRESENT != 0 {
        return if old == leaf || (old & !(1 << 5 | 1 << 6)) == leaf { Ok(()) } else { Err(MapError::AlreadyMapped) };
    }
    write(tbl, i, leaf);
    Ok(())
}

/// Removes the 4 KiB leaf at `virt`, returning the frame it mapped. Tables are left in place.
pub fn unmap(root: u64, virt: u64) -> Option<u64> {
    let mut tbl = root;
    for level in (2..=4).rev() {
        let entry = read(tbl, index(virt, level));
        if entry & PRESENT == 0 || entry & HUGE != 0 {
            return None;
        }
        tbl = entry & ADDR_MASK;
    }
    let i = index(virt, 1);
    let old = read(tbl, i);
    if old & PRESENT == 0 {
        return None;
    }
    write(tbl, i, 0);
    flush(virt);
    Some(old & ADDR_MASK)
}

/// What a virtual address maps to.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct Translation {
    /// The physical address.
    pub phys: u64,
    /// Writable at every level.
    pub writable: bool,
    /// User-accessible at every level.
    pub user: bool,
    /// Physical end of the leaf containing the address.
    pub leaf_end: u64,
}

/// Walks the tables at `root` for `virt`.
pub fn translate(root: u64, virt: u64) -> Option<Translation> {
    let mut tbl = root;
    let mut writable = true;
    let mut user = true;
    for level in (1..=4).rev() {
        let entry = read(tbl, index(virt, level));
        if entry & PRESENT == 0 {
            return None;
        }
        writable &= entry & WRITABLE != 0;
        user &= entry & USER != 0;
        let leaf_size = 1u64 << (12 + 9 * (level - 1));
        if level == 1 || (entry & HUGE != 0 && level <= 3) {
            let base = entry & ADDR_MASK & !(leaf_size - 1);
            let phys = base + (virt & (leaf_size - 1));
            return Some(Translation { phys, writable, user, leaf_end: base + leaf_size });
        }
        tbl = entry & ADDR_MASK;
    }
    None
}

/// Drops the TLB entry for `virt` on this CPU.
pub fn flush(virt: u64) {
    // SAFETY: `invlpg` only drops a cached translation.
    unsafe { core::arch::asm!("invlpg [{}]", in(reg) virt, options(nostack, preserves_flags)) }
}

/// Loads `root` into CR3.
///
/// # Safety
/// `root` must map the running code, its stack and every address the kernel will touch.
pub unsafe fn activate(root: u64) {
    // SAFETY: the caller guarantees the new tables map everything in use.
    unsafe { core::arch::asm!("mov cr3, {}", in(reg) root, options(nostack, preserves_flags)) }
}
