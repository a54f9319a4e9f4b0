//! User address spaces: a PML4 whose lower half belongs to one task and whose upper half is the
//! kernel's.
//!
//! A `VSpace` maps 4 KiB pages in the user range only (`abi::layout`). Pages it allocated itself
//! are marked *owned* in a software bit of their page-table entry and freed with it; pages it was
//! only lent (the initramfs) are left alone. User memory is read through [`VSpace::user_bytes`],
//! which walks the tables and reaches the frames through the direct map: the kernel never
//! dereferences a user address.
//!
//! A `VSpace` is a handle (the top-level table's address), freely copied. The root task's is built
//! at boot (with [`alloc_page`] for its tables and frames) and taken apart by [`VSpace::destroy`],
//! which hands every page it owned to the caller's page source: teardown runs inside an object
//! operation that already holds the page allocator, so nothing here may take that lock to free a
//! page, and there is no `Drop` that could.

use core::sync::atomic::AtomicU64;

use abi::layout::is_user_range;
use x86_64::structures::paging::PageTableFlags;
use x86_64::{PhysAddr, VirtAddr};

use crate::arch::paging::{self, MapError, PAGE_SIZE, PageSize};

use super::{alloc_page, phys_to_virt};

/// Software-available PTE bit 9: this frame belongs to the address space.
const OWNED: PageTableFlags = PageTableFlags::BIT_9;

/// A user address, checked to lie in the user range (`is_user_range`), as a [`VirtAddr`]: the
/// user range is canonical, so the conversion changes nothing.
fn user_virt(addr: u64) -> VirtAddr {
    VirtAddr::new_truncate(addr)
}

/// A frame from the page allocator, as a [`PhysAddr`].
fn frame(phys: u64) -> PhysAddr {
    PhysAddr::new(phys)
}

/// Access wanted for a page.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct Access {
    /// Writable.
    pub write: bool,
    /// Executable.
    pub execute: bool,
}

/// A user address space: a handle to its tables. Dropping it frees nothing:
/// [`destroy`](VSpace::destroy) does.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct VSpace {
    root: PhysAddr,
}

impl VSpace {
    /// A new, empty address space sharing the kernel's upper half.
    pub fn new() -> Option<Self> {
        let root = frame(alloc_page()?);
        super::kspace::share_upper_half(root);
        Some(Self { root })
    }

    /// The address space whose top-level table is at `root` (zeroed when made, with the kernel's
    /// upper half shared).
    pub fn from_root(root: PhysAddr) -> Self {
        Self { root }
    }

    /// Physical address of the PML4 (the CR3 value).
    pub fn root(&self) -> PhysAddr {
        self.root
    }

    fn flags(access: Access) -> PageTableFlags {
        let mut flags = PageTableFlags::USER_ACCESSIBLE;
        if access.write {
            flags |= PageTableFlags::WRITABLE;
        }
        if !access.execute {
            flags |= paging::nx();
        }
        flags
    }

    /// Maps the frame `phys` at `virt`; when `owned`, the frame is freed with the address space.
    pub fn map(&self, virt: u64, phys: u64, access: Access, owned: bool) -> Result<(), MapError> {
        if !virt.is_multiple_of(PAGE_SIZE) || !is_user_range(virt as usize, PAGE_SIZE as usize) {
            return Err(MapError::AlreadyMapped);
        }
        let flags = Self::flags(access) | if owned { OWNED } else { PageTableFlags::empty() };
        paging::map(self.root, user_virt(virt), frame(phys), PageSize::Size4K, flags, &mut || alloc_page().map(frame))
    }

    /// Allocates a zeroed page, maps it at `virt` (owned) and returns its physical address.
    pub fn map_new(&self, virt: u64, access: Access) -> Result<u64, MapError> {
        let phys = alloc_page().ok_or(MapError::OutOfMemory)?;
        if let Err(e) = self.map(virt, phys, access, true) {
            // SAFETY: the page was just allocated and never mapped.
            unsafe { super::FRAMES.lock().free(phys, 1) };
            return Err(e);
        }
        Ok(phys)
    }

    /// Calls `f` with the bytes of user range `[addr, addr + len)`, in page-sized pieces, after
    /// checking that every page of it is mapped user-accessible (and writable, if `write`).
    /// Returns `false`, without calling `f`, if any page is not.
    pub fn user_bytes(
        &self,
        addr: u64,
        len: u64,
        write: bool,
        f: impl FnOnce(&mut dyn Iterator<Item = &[u8]>),
    ) -> bool {
        if len == 0 {
            f(&mut core::iter::empty());
            return true;
        }
        if !is_user_range(addr as usize, len as usize) {
            return false;
        }
        let end = addr + len;
        // First pass: every page must be present and allowed. Nothing can change the tables
        // between the passes: the kernel runs with interrupts off.
        let mut page = addr & !(PAGE_SIZE - 1);
        while page < end {
            match paging::translate(self.root, user_virt(page)) {
                Some(t) if t.user && (t.writable || !write) => {}
                _ => return false,
            }
            page += PAGE_SIZE;
        }
        let root = self.root;
        let mut at = addr;
        let mut pieces = core::iter::from_fn(move || {
            if at >= end {
                return None;
            }
            let t = paging::translate(root, user_virt(at))?;
            let n = (PAGE_SIZE - (at % PAGE_SIZE)).min(end - at);
            // SAFETY: the frame is mapped user-accessible in this address space, so it is RAM the
            // task owns or was lent; it is reached through the direct map and read as bytes.
            let bytes = unsafe { core::slice::from_raw_parts(phys_to_virt(t.phys.as_u64()), n as usize) };
            at += n;
            Some(bytes)
        });
        f(&mut pieces);
        true
    }

    /// Translates the user page at `page` (page-aligned, mapped user-accessible) with one walk
    /// of the tables, to be kept ([`PageTranslation`]); `None` if it is not mapped so.
    #[inline]
    pub fn translate_user_page(&self, page: u64) -> Option<PageTranslation> {
        if !page.is_multiple_of(PAGE_SIZE) || !is_user_range(page as usize, PAGE_SIZE as usize) {
            return None;
        }
        let unmaps = paging::unmaps();
        let t = paging::translate(self.root, user_virt(page))?;
        t.user.then(|| PageTranslation {
            root: self.root.as_u64(),
            page,
            frame: t.phys.as_u64(),
            writable: t.writable,
            unmaps,
        })
    }

    /// Copies `data` to user range `[addr, addr + len)` after checking that every page of it is
    /// mapped user-writable; returns `false`, writing nothing, if one is not.
    pub fn copy_to_user(&self, addr: u64, data: &[u8]) -> bool {
        let len = data.len() as u64;
        if len == 0 {
            return true;
        }
        if !is_user_range(addr as usize, data.len()) {
            return false;
        }
        let mut page = addr & !(PAGE_SIZE - 1);
        while page < addr + len {
            match paging::translate(self.root, user_virt(page)) {
                Some(t) if t.user && t.writable => {}
                _ => return false,
            }
            page += PAGE_SIZE;
        }
        let mut done = 0usize;
        while done < data.len() {
            let at = addr + done as u64;
            let Some(t) = paging::translate(self.root, user_virt(at)) else { return false };
            let n = ((PAGE_SIZE - at % PAGE_SIZE) as usize).min(data.len() - done);
            // SAFETY: the frame is mapped user-writable in this address space (checked above;
            // nothing changes the tables in between) and reached through the direct map.
            unsafe { core::ptr::copy_nonoverlapping(data[done..].as_ptr(), phys_to_virt(t.phys.as_u64()), n) };
            done += n;
        }
        true
    }

    /// Copies `data` into the user range at `addr` through the direct map, whatever the page
    /// permissions (the kernel filling a new task's memory). Every page must be mapped.
    pub fn write_bytes(&self, addr: u64, data: &[u8]) -> Result<(), MapError> {
        let mut done = 0usize;
        while done < data.len() {
            let at = addr + done as u64;
            let t = paging::translate(self.root, VirtAddr::try_new(at).map_err(|_| MapError::OutOfMemory)?)
                .ok_or(MapError::OutOfMemory)?;
            let n = ((PAGE_SIZE - at % PAGE_SIZE) as usize).min(data.len() - done);
            // SAFETY: `t.phys..+n` lies in one mapped frame of this address space, reached
            // through the direct map; `data` is kernel memory and cannot overlap it.
            unsafe { core::ptr::copy_nonoverlapping(data[done..].as_ptr(), phys_to_virt(t.phys.as_u64()), n) };
            done += n;
        }
        Ok(())
    }
}

/// One user page's translation (its frame, and whether it is writable), kept by whoever made it
/// (a task keeps its IPC buffer's: `object::transfer`), so that the IPC fast paths do not walk the
/// tables each time. It is good only for the address space and page it was made for, and only
/// while no mapping anywhere has gone away since ([`paging::unmaps`]: `map` never changes a
/// present leaf, so removing one is the only way a translation stops being true);
/// [`current`](Self::current) checks all three. All zeros (the [`Default`]) is good for
/// nothing: no address space has root 0.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq)]
pub struct PageTranslation {
    root: u64,
    page: u64,
    frame: u64,
    writable: bool,
    unmaps: u64,
}

impl PageTranslation {
    /// This translation, if it still translates `page` of `space` (see the type's docs).
    #[inline]
    pub fn current(self, space: &VSpace, page: u64) -> Option<CurrentPage> {
        (self.unmaps == paging::unmaps() && self.root == space.root.as_u64() && self.page == page)
            .then_some(CurrentPage(self))
    }
}

/// A [`PageTranslation`] checked to be true now ([`PageTranslation::current`]); used at once,
/// before anything can unmap (it is not `Copy`, and lives no longer than its caller's step).
pub struct CurrentPage(PageTranslation);

impl CurrentPage {
    /// Calls `f` with the page as 512 atomic words, unless `write` and the page is read-only
    /// (`None`, without calling `f`). The words are atomics because the task's own threads may
    /// touch them at the same time (the user side's `IpcBufferPage` is atomics too).
    #[inline]
    pub fn with_words<R>(self, write: bool, f: impl FnOnce(&[AtomicU64; 512]) -> R) -> Option<R> {
        if write && !self.0.writable {
            return None;
        }
        // SAFETY: `frame` is what the page maps to in its address space, user-accessible
        // (writable too, when `write`), and no mapping has gone away since that was read
        // (`current` checked, and the kernel runs with interrupts off, so nothing unmaps until
        // `f` returns): memory the task owns or was lent, 4 KiB from a 4 KiB-aligned physical
        // address, reached through the direct map. It is only touched as atomic words, which is
        // sound however user code touches it meanwhile, and the reference does not outlive `f`.
        let words = unsafe { &*phys_to_virt(self.0.frame).cast::<[AtomicU64; 512]>() };
        Some(f(words))
    }
}

/// Hands every table below `phys` (a table of level `level`), every owned leaf frame, and the
/// table itself to `free`.
fn free_table(phys: PhysAddr, level: usize, free: &mut dyn FnMut(u64)) {
    for i in 0..512 {
        // `phys` is a page table of this address space.
        let entry = paging::table_entry(phys, i);
        let flags = entry.flags();
        if !flags.contains(PageTableFlags::PRESENT) {
            continue;
        }
        if level > 1 {
            free_table(entry.addr(), level - 1, free);
        } else if flags.contains(OWNED) {
            // An owned leaf frame was allocated by `map_new` for this space alone.
            free(entry.addr().as_u64());
        }
    }
    // The table was allocated for this address space and nothing refers to it any more.
    free(phys.as_u64());
}

impl VSpace {
    /// Takes the space apart: every page table of its lower half, every frame it owns and its
    /// top-level table go to `free` (one page each), which must return them to the allocator they
    /// came from.
    ///
    /// # Safety
    /// Nothing may use the space (or any copy of this handle) afterwards, nor destroy it again;
    /// the CPU must no longer run on it (see `arch::context::leave_address_space`).
    pub unsafe fn destroy(self, free: &mut dyn FnMut(u64)) {
        paging::mappings_removed();
        // The lower half of the PML4 belongs to this address space.
        for i in 0..256 {
            let entry = paging::table_entry(self.root, i);
            if entry.flags().contains(PageTableFlags::PRESENT) {
                free_table(entry.addr(), 3, free);
            }
        }
        free(self.root.as_u64());
    }
}
