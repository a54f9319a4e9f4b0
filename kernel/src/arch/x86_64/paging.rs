//! Four-level x86_64 page tables, reached through the kernel's direct map.
//!
//! This module walks and edits page tables; it does not decide what is mapped where (that is
//! `mem::kspace` for the kernel and `mem::vspace` for user address spaces) and it does not own
//! physical pages: callers pass a frame source for new tables.
//!
//! Entries, their flags, the table levels and indices, and the addresses are `x86_64`'s types
//! ([`PageTableEntry`], [`PageTableFlags`], [`PageTableLevel`], [`PhysAddr`], [`VirtAddr`]).
//! The walk itself is the kernel's own: the crate's mappers (`OffsetPageTable` and the others)
//! work on `&mut PageTable`, where the kernel reads and writes entries one at a time through
//! volatile raw-pointer accesses (the CPU writes accessed and dirty bits into the same tables),
//! and they allocate tables through a frame-allocator trait, where the kernel's callers charge
//! each table to whoever asked for it (`object::vspace`).

use core::sync::atomic::{AtomicU64, Ordering};

use x86_64::instructions::tlb;
use x86_64::registers::control::{Cr3, Cr3Flags};
use x86_64::structures::paging::page_table::{PageTableEntry, PageTableLevel};
use x86_64::structures::paging::{PageTableFlags, PhysFrame};
use x86_64::{PhysAddr, VirtAddr};

use crate::mem::phys_to_virt;

/// Size of a base page.
pub const PAGE_SIZE: u64 = 4096;

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
        self.level().entry_address_space_alignment()
    }

    /// The table level whose entries are leaves of this size.
    const fn level(self) -> PageTableLevel {
        match self {
            PageSize::Size4K => PageTableLevel::One,
            PageSize::Size2M => PageTableLevel::Two,
            PageSize::Size1G => PageTableLevel::Three,
        }
    }
}

/// The four levels, from the top-level table (PML4) down.
const LEVELS: [PageTableLevel; 4] =
    [PageTableLevel::Four, PageTableLevel::Three, PageTableLevel::Two, PageTableLevel::One];

/// Why a mapping could not be made.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum MapError {
    /// No frame for a page table.
    OutOfMemory,
    /// Something else is already mapped there.
    AlreadyMapped,
}

/// `NO_EXECUTE` if the CPU has it (`EFER.NXE` is then set), else no flag.
pub fn nx() -> PageTableFlags {
    if super::cpu::features().nx { PageTableFlags::NO_EXECUTE } else { PageTableFlags::empty() }
}

fn table(phys: PhysAddr) -> *mut PageTableEntry {
    phys_to_virt(phys.as_u64()).cast()
}

fn index(virt: VirtAddr, level: PageTableLevel) -> usize {
    usize::from(virt.page_table_index(level))
}

/// Reads entry `i` of the table at `phys`.
fn read(phys: PhysAddr, i: usize) -> PageTableEntry {
    // SAFETY: `phys` is a page table reached through the direct map, `i < 512`.
    unsafe { table(phys).add(i).read_volatile() }
}

fn write(phys: PhysAddr, i: usize, entry: PageTableEntry) {
    // SAFETY: as in `read`; page tables are edited only by the kernel with interrupts off.
    unsafe { table(phys).add(i).write_volatile(entry) }
}

/// An entry pointing at `addr` (4 KiB aligned) with `flags`.
fn entry(addr: PhysAddr, flags: PageTableFlags) -> PageTableEntry {
    let mut e = PageTableEntry::new();
    e.set_addr(addr, flags);
    e
}

/// Entry `i` of the table at `phys`, for a caller that walks tables itself (tearing an address
/// space down). `phys` must be a page table and `i < 512`.
pub fn table_entry(phys: PhysAddr, i: usize) -> PageTableEntry {
    assert!(i < 512, "page table index {i}");
    read(phys, i)
}

/// Maps `virt` to `phys` as one leaf of `size` with `flags` (PRESENT is added) in the tables at
/// `root`. New tables come from `alloc` (zeroed frames). Mapping the same frame with the same
/// flags again succeeds; anything else already there is [`MapError::AlreadyMapped`].
pub fn map(
    root: PhysAddr,
    virt: VirtAddr,
    phys: PhysAddr,
    size: PageSize,
    flags: PageTableFlags,
    alloc: &mut dyn FnMut() -> Option<PhysAddr>,
) -> Result<(), MapError> {
    debug_assert!(virt.is_aligned(size.bytes()) && phys.is_aligned(size.bytes()));
    let user = flags & PageTableFlags::USER_ACCESSIBLE;
    let mut tbl = root;
    let leaf_level = size.level();
    for &level in &LEVELS[..(4 - leaf_level as usize)] {
        let i = index(virt, level);
        let entry_now = read(tbl, i);
        let f = entry_now.flags();
        if !f.contains(PageTableFlags::PRESENT) {
            let new = alloc().ok_or(MapError::OutOfMemory)?;
            write(tbl, i, entry(new, PageTableFlags::PRESENT | PageTableFlags::WRITABLE | user));
            tbl = new;
        } else if f.contains(PageTableFlags::HUGE_PAGE) {
            return Err(MapError::AlreadyMapped);
        } else {
            tbl = entry_now.addr();
        }
    }
    let i = index(virt, leaf_level);
    let huge = if size == PageSize::Size4K { PageTableFlags::empty() } else { PageTableFlags::HUGE_PAGE };
    let leaf = entry(phys, flags | PageTableFlags::PRESENT | huge);
    let old = read(tbl, i);
    if old.flags().contains(PageTableFlags::PRESENT) {
        // The CPU may have set the accessed and dirty bits since.
        let same = old.addr() == leaf.addr()
            && old.flags() - (PageTableFlags::ACCESSED | PageTableFlags::DIRTY) == leaf.flags();
        return if same { Ok(()) } else { Err(MapError::AlreadyMapped) };
    }
    write(tbl, i, leaf);
    Ok(())
}

/// How many times a mapping may have gone away, anywhere ([`unmap`], and whoever frees page
/// tables: [`mappings_removed`]). A translation cached by its user is stale once this moved on
/// (`mem::vspace::PageTranslation`): [`map`] never changes a present leaf, so removing one is the
/// only way a translation stops being true.
static UNMAPS: AtomicU64 = AtomicU64::new(0);

/// The count of [`UNMAPS`]: a cached translation made when it read this stays true while it does.
#[inline]
pub fn unmaps() -> u64 {
    UNMAPS.load(Ordering::Relaxed)
}

/// Says that mappings went away other than by [`unmap`] (an address space taken apart): every
/// cached translation is stale.
pub fn mappings_removed() {
    UNMAPS.fetch_add(1, Ordering::Relaxed);
}

/// Removes the 4 KiB leaf at `virt`, returning the frame it mapped. Tables are left in place.
/// Every cached translation is stale afterwards ([`unmaps`]), whether or not a leaf was there.
pub fn unmap(root: PhysAddr, virt: VirtAddr) -> Option<PhysAddr> {
    mappings_removed();
    let mut tbl = root;
    for &level in &LEVELS[..3] {
        let entry = read(tbl, index(virt, level));
        let f = entry.flags();
        if !f.contains(PageTableFlags::PRESENT) || f.contains(PageTableFlags::HUGE_PAGE) {
            return None;
        }
        tbl = entry.addr();
    }
    let i = index(virt, PageTableLevel::One);
    let old = read(tbl, i);
    if !old.flags().contains(PageTableFlags::PRESENT) {
        return None;
    }
    write(tbl, i, PageTableEntry::new());
    flush(virt);
    Some(old.addr())
}

/// What a virtual address maps to.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct Translation {
    /// The physical address.
    pub phys: PhysAddr,
    /// Writable at every level.
    pub writable: bool,
    /// User-accessible at every level.
    pub user: bool,
    /// Size of the leaf containing the address (4 KiB, 2 MiB or 1 GiB).
    pub leaf_size: u64,
}

impl Translation {
    /// Bytes from the address to the end of its leaf.
    pub fn rest_of_leaf(&self) -> u64 {
        self.leaf_size - (self.phys.as_u64() & (self.leaf_size - 1))
    }
}

/// Walks the tables at `root` for `virt`.
#[inline]
pub fn translate(root: PhysAddr, virt: VirtAddr) -> Option<Translation> {
    let mut tbl = root;
    let mut writable = true;
    let mut user = true;
    for level in LEVELS {
        let entry = read(tbl, index(virt, level));
        let f = entry.flags();
        if !f.contains(PageTableFlags::PRESENT) {
            return None;
        }
        writable &= f.contains(PageTableFlags::WRITABLE);
        user &= f.contains(PageTableFlags::USER_ACCESSIBLE);
        let leaf = match level {
            PageTableLevel::One => true,
            PageTableLevel::Two | PageTableLevel::Three => f.contains(PageTableFlags::HUGE_PAGE),
            PageTableLevel::Four => false,
        };
        if leaf {
            let leaf_size = level.entry_address_space_alignment();
            // The leaf's base is aligned to its size, so OR adds the offset (and the compiler
            // sees that the result is a valid physical address).
            let base = entry.addr().as_u64() & !(leaf_size - 1);
            let phys = PhysAddr::new(base | (virt.as_u64() & (leaf_size - 1)));
            return Some(Translation { phys, writable, user, leaf_size });
        }
        tbl = entry.addr();
    }
    None
}

/// Drops the TLB entry for `virt` on this CPU.
pub fn flush(virt: VirtAddr) {
    tlb::flush(virt);
}

/// Loads `root` into CR3.
///
/// # Safety
/// `root` must be a page-aligned top-level table that maps the running code, its stack and
/// every address the kernel will touch.
pub unsafe fn activate(root: PhysAddr) {
    // SAFETY: the caller guarantees the new tables map everything in use.
    unsafe { Cr3::write(PhysFrame::containing_address(root), Cr3Flags::empty()) }
}
