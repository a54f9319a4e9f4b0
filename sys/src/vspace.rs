//! Address spaces and memory: the VSpace and Page syscalls (`vspace_create`, `page_create`,
//! `page_map`, `page_unmap`, `page_protect`, `page_info`) and the typed handles [`VSpace`] and
//! [`Page`] over them.
//!
//! A [`VSpace`] is a user address space: page tables the kernel builds as Pages are mapped into
//! it. [`VSpace::create`] makes an empty one (two pages: its header and top-level table);
//! [`VSpace::root`] is the root task's own, in slot
//! [`ROOT_VSPACE`](abi::bootcaps::ROOT_VSPACE). A task runs in the VSpace given to it with
//! [`Task::set_space`](crate::task::Task::set_space).
//!
//! A [`Page`] is a run of `count` physically contiguous, zeroed pages (`count` a power of two, at
//! most [`MAX_PAGE_COUNT`]), costing `count + 1` pages (one for its header). It is mapped in at
//! most one place at a time ([`Page::map`]): to look at a page another task uses, unmap it from
//! that task's VSpace and map it into one's own. The page tables a map needs are charged to the
//! Memory given with it, one page each, and refunded only when that VSpace dies (unmapping leaves
//! them in place). Deleting the last capability to a mapped Page unmaps it.
//!
//! Access is a [`rights`](crate::rights) mask: [`READ`](access::READ) is implied,
//! [`WRITE`](access::WRITE) and [`EXECUTE`](access::EXECUTE) may be added, each only if the Page
//! capability has that right (a READ-only copy of a Page can only be mapped read-only).
//!
//! Safety (see [`safety`](crate::safety)): [`page_unmap`] and [`page_protect`] (and their typed
//! forms) remove or narrow a mapping, which may be one the caller's own Rust code reads or writes
//! through; they are `unsafe` for that reason. Making and mapping Pages is safe: a map never
//! replaces an existing mapping (`SlotOccupied`), so it only makes memory appear where there was
//! none. Deleting the last capability to a mapped Page unmaps it too, so [`Page::delete`] deletes
//! only a Page that is not mapped; a mapped one is deleted with the `unsafe` [`Cap::delete`],
//! under the [teardown contract](crate::safety#the-teardown-contract). A VSpace's death unmaps
//! only its own Pages, and the VSpace a task runs in is held by that task, so
//! [`VSpace::delete`] is safe.

use crate::cap::{checked_delete, checked_revoke, handle};
use core::ops::Deref;

use abi::bootcaps;
use abi::object::Kind;
use abi::syscall::{ARG_REGS, Sysno};

use crate::cap::{Cap, Memory, Slot};
use crate::error::{Error, Result};
use crate::syscall::syscall;

/// Most pages in one Page object (2 MiB): `page_create`'s `count` is a power of two up to this.
pub const MAX_PAGE_COUNT: usize = 512;

/// Access bits for [`Page::map`] and [`Page::protect`]: the [`rights`](crate::rights) bits that
/// mean something for a mapping.
pub mod access {
    /// Readable (implied by every mapping).
    pub const READ: usize = abi::object::rights::READ;
    /// Writable; needs WRITE on the Page capability.
    pub const WRITE: usize = abi::object::rights::WRITE;
    /// Executable; needs EXECUTE on the Page capability.
    pub const EXECUTE: usize = abi::object::rights::EXECUTE;
    /// Read-only.
    pub const R: usize = READ;
    /// Read and write.
    pub const RW: usize = READ | WRITE;
    /// Read and execute.
    pub const RX: usize = READ | EXECUTE;
}

/// Makes a VSpace or Page syscall that touches no memory of the caller and changes none of its
/// mappings, and returns its result registers.
fn call(number: Sysno, args: [usize; ARG_REGS]) -> Result<[usize; ARG_REGS]> {
    // SAFETY: callers pass only `vspace_create`, `page_create`, `page_map` and `page_info`. None
    // reads or writes the caller's memory (all arguments travel in registers), and none removes
    // or changes a mapping: `page_map` refuses an address where anything is mapped already, so it
    // can only add memory the caller's code does not yet refer to. `syscall`'s contract holds.
    let (rax, out) = unsafe { syscall(number as usize, args) };
    Error::check(rax)?;
    Ok(out)
}

/// `vspace_create(memory, dst_slot) -> slot`: makes an empty VSpace in `dst_slot` (or
/// [`SLOT_AUTO`](abi::syscall::SLOT_AUTO)) of the caller's CSpace, charged two pages to `memory`.
/// See [`Sysno::VSpaceCreate`]; [`VSpace::create`] is the typed form.
///
/// ```no_run
/// use sys::abi::syscall::SLOT_AUTO;
///
/// # fn demo() -> sys::Result<()> {
/// let memory = sys::process::memory().expect("the program has a Memory");
/// let vspace = sys::VSpace::at(sys::vspace::vspace_create(memory.slot(), SLOT_AUTO)?);
/// # Ok(())
/// # }
/// ```
pub fn vspace_create(memory: usize, dst_slot: usize) -> Result<usize> {
    Ok(call(Sysno::VSpaceCreate, [memory, dst_slot, 0, 0, 0, 0])?[0])
}

/// `page_create(memory, count, dst_slot) -> slot`: makes a Page of `count` zeroed, physically
/// contiguous pages, charged `count + 1` to `memory`. See [`Sysno::PageCreate`]; [`Page::create`]
/// is the typed form.
///
/// ```no_run
/// use sys::abi::syscall::SLOT_AUTO;
///
/// # fn demo() -> sys::Result<()> {
/// let memory = sys::process::memory().expect("the program has a Memory");
/// // Four contiguous pages: 16 KiB.
/// let page = sys::Page::at(sys::vspace::page_create(memory.slot(), 4, SLOT_AUTO)?);
/// # Ok(())
/// # }
/// ```
pub fn page_create(memory: usize, count: usize, dst_slot: usize) -> Result<usize> {
    Ok(call(Sysno::PageCreate, [memory, count, dst_slot, 0, 0, 0])?[0])
}

/// `page_map(page, vspace, vaddr, access, memory)`: maps the Page at `vaddr` in the VSpace with
/// `access`; the tables the map needs are charged to `memory`. See [`Sysno::PageMap`].
///
/// Safe for any arguments: the kernel never maps over anything already mapped.
///
/// ```no_run
/// use sys::vspace::access;
///
/// # fn demo(page: sys::Page, child: sys::VSpace) -> sys::Result<()> {
/// let memory = sys::process::memory().expect("the program has a Memory");
/// sys::vspace::page_map(page.slot(), child.slot(), 0x40_0000, access::RW, memory.slot())?;
/// # Ok(())
/// # }
/// ```
pub fn page_map(page: usize, vspace: usize, vaddr: usize, access: usize, memory: usize) -> Result<()> {
    call(Sysno::PageMap, [page, vspace, vaddr, access, memory, 0]).map(drop)
}

/// `page_unmap(page)`: removes the Page's mapping. See [`Sysno::PageUnmap`].
///
/// # Safety
///
/// If the Page is mapped in the caller's own VSpace, nothing may refer to the memory it maps (no
/// live reference, no pointer that will be read or written): the memory disappears, and touching
/// it faults.
///
/// ```no_run
/// # fn demo(childs_page: sys::Page) -> sys::Result<()> {
/// // SAFETY: the Page is mapped in a child program's VSpace, not this program's: no memory of
/// // this program goes.
/// unsafe { sys::vspace::page_unmap(childs_page.slot())? };
/// # Ok(())
/// # }
/// ```
pub unsafe fn page_unmap(page: usize) -> Result<()> {
    // SAFETY: the caller vouches that the mapping removed backs nothing in use; the call reads
    // and writes no memory of the caller.
    let (rax, _) = unsafe { syscall(Sysno::PageUnmap as usize, [page, 0, 0, 0, 0, 0]) };
    Error::check(rax)
}

/// `page_protect(page, access)`: changes the access of the Page's mapping. See
/// [`Sysno::PageProtect`].
///
/// # Safety
///
/// If the Page is mapped in the caller's own VSpace and `access` takes WRITE (or EXECUTE) away,
/// nothing may write to (or run) that memory afterwards through a reference the caller holds: a
/// write would fault. Adding rights is always sound.
///
/// ```no_run
/// use sys::vspace::access;
///
/// # fn demo(childs_code: sys::Page) -> sys::Result<()> {
/// // SAFETY: the Page is mapped in a child program's VSpace, not this program's: nothing of
/// // this program uses it.
/// unsafe { sys::vspace::page_protect(childs_code.slot(), access::RX)? };
/// # Ok(())
/// # }
/// ```
pub unsafe fn page_protect(page: usize, access: usize) -> Result<()> {
    // SAFETY: the caller vouches for the narrowed mapping as above; the call reads and writes no
    // memory of the caller.
    let (rax, _) = unsafe { syscall(Sysno::PageProtect as usize, [page, access, 0, 0, 0, 0]) };
    Error::check(rax)
}

/// `page_info(page) -> (phys, count, vaddr)`, the numbers as the kernel returned them. See
/// [`Sysno::PageInfo`] and [`Page::info`].
///
/// ```no_run
/// # fn demo(page: sys::Page) -> sys::Result<()> {
/// let (phys, count, vaddr) = sys::vspace::page_info(page.slot())?;
/// sys::println!("{count} pages at {phys:#x}, mapped at {vaddr:#x}");
/// # Ok(())
/// # }
/// ```
pub fn page_info(page: usize) -> Result<(usize, usize, usize)> {
    let out = call(Sysno::PageInfo, [page, 0, 0, 0, 0, 0])?;
    Ok((out[0], out[1], out[2]))
}

handle!(
    /// A VSpace capability: a user address space (see the [module docs](self)).
    ///
    /// ```no_run
    /// use sys::vspace::access;
    /// use sys::{Page, Slot, VSpace};
    ///
    /// # fn demo() -> sys::Result<()> {
    /// let memory = sys::process::memory().expect("the program has a Memory");
    /// // An address space for a program this one starts, with a 16 KiB stack below 0x7fff_0000_0000.
    /// let space = VSpace::create(memory, Slot::Auto)?;
    /// let stack = Page::create(memory, 4, Slot::Auto)?;
    /// stack.map(space, 0x7fff_0000_0000 - 4 * 4096, access::RW, memory)?;
    /// # Ok(())
    /// # }
    /// ```
    VSpace,
    "a VSpace"
);

handle!(
    /// A Page capability: a run of physically contiguous pages that can be mapped in one place at
    /// a time (see the [module docs](self)).
    ///
    /// ```no_run
    /// use sys::vspace::access;
    /// use sys::{Page, Slot};
    ///
    /// # fn demo(child: sys::VSpace) -> sys::Result<()> {
    /// let memory = sys::process::memory().expect("the program has a Memory");
    /// let buffer = Page::create(memory, 16, Slot::Auto)?;
    /// buffer.map(child, 0x1000_0000, access::RW, memory)?;
    /// let info = buffer.info()?;
    /// sys::println!("{} bytes at physical {:#x}", info.bytes(), info.phys);
    /// # Ok(())
    /// # }
    /// ```
    Page,
    "a Page"
);

checked_delete!(
    VSpace,
    Kind::VSpace,
    "a VSpace",
    "vspace",
    "let memory = sys::process::memory().expect(\"the program has a Memory\");",
    "let vspace = sys::VSpace::create(memory, sys::Slot::Auto)?;"
);
checked_revoke!(
    VSpace,
    Kind::VSpace,
    "a VSpace",
    "vspace",
    "let memory = sys::process::memory().expect(\"the program has a Memory\");",
    "let vspace = sys::VSpace::create(memory, sys::Slot::Auto)?;"
);
checked_revoke!(
    Page,
    Kind::Page,
    "a Page",
    "page",
    "let memory = sys::process::memory().expect(\"the program has a Memory\");",
    "let page = sys::Page::create(memory, 1, sys::Slot::Auto)?;"
);

/// `page_create_device(control, phys, count, memory, dst_slot) -> slot`: makes a Page over the
/// device memory `[phys, phys + count * 4096)`. See [`Sysno::PageCreateDevice`];
/// [`DeviceControl::create_page`] is the typed form.
///
/// ```no_run
/// # fn demo() -> sys::Result<()> {
/// let control = sys::root::device_control();
/// let slot = sys::vspace::page_create_device(control.slot(), 0xfd00_0000, 16, sys::root::memory().slot(), 0)?;
/// # let _ = slot;
/// # Ok(())
/// # }
/// ```
pub fn page_create_device(control: usize, phys: usize, count: usize, memory: usize, dst_slot: usize) -> Result<usize> {
    Ok(call(Sysno::PageCreateDevice, [control, phys, count, memory, dst_slot, 0])?[0])
}

/// What [`Page::info`] reports.
///
/// ```no_run
/// # fn demo(dma_buffer: sys::Page) -> sys::Result<()> {
/// let info = dma_buffer.info()?;
/// // What a device is told: the physical address and the length.
/// sys::println!("DMA at {:#x}, {} bytes", info.phys, info.bytes());
/// if !info.is_mapped() {
///     sys::println!("not mapped yet");
/// }
/// # Ok(())
/// # }
/// ```
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub struct PageInfo {
    /// Physical address of the first page (for DMA).
    pub phys: usize,
    /// Pages in the run.
    pub count: usize,
    /// Where the Page is mapped, or 0 if it is not.
    pub vaddr: usize,
}

impl PageInfo {
    /// Whether the Page is mapped somewhere.
    ///
    /// ```
    /// use sys::PageInfo;
    ///
    /// assert!(!PageInfo { phys: 0x20_0000, count: 1, vaddr: 0 }.is_mapped());
    /// assert!(PageInfo { phys: 0x20_0000, count: 1, vaddr: 0x40_0000 }.is_mapped());
    ///
    /// /// Maps `page` at `vaddr` of `space` unless it is mapped already.
    /// fn map_once(page: sys::Page, space: sys::VSpace, vaddr: usize, memory: sys::Memory) -> sys::Result<()> {
    ///     if page.info()?.is_mapped() {
    ///         return Ok(());
    ///     }
    ///     page.map(space, vaddr, sys::vspace::access::RW, memory)
    /// }
    /// ```
    pub const fn is_mapped(&self) -> bool {
        self.vaddr != 0
    }

    /// The run's size in bytes.
    ///
    /// ```
    /// use sys::PageInfo;
    ///
    /// let info = PageInfo { phys: 0x20_0000, count: 4, vaddr: 0 };
    /// assert_eq!(info.bytes(), 4 * 4096);
    /// ```
    pub const fn bytes(&self) -> usize {
        self.count * abi::layout::PAGE_SIZE
    }
}

handle!(
    /// A DeviceControl capability: the right to make Pages over device memory
    /// ([`DeviceControl::create_page`]): memory-mapped I/O, not RAM, not the kernel's own devices.
    /// The root task has it ([`root::device_control`](crate::root::device_control)) and gives
    /// drivers the Pages their manifests name, never the control itself.
    ///
    /// ```no_run
    /// use sys::vspace::DeviceControl;
    /// # fn demo() -> sys::Result<()> {
    /// let control: DeviceControl = sys::root::device_control();
    /// let vram = control.create_page(0xfd00_0000, 512, sys::root::memory(), sys::Slot::Auto)?;
    /// # let _ = vram;
    /// # Ok(())
    /// # }
    /// ```
    DeviceControl,
    "a DeviceControl"
);

checked_delete!(
    DeviceControl,
    Kind::DeviceControl,
    "a DeviceControl",
    "control",
    "let control = sys::root::device_control();"
);

impl DeviceControl {
    /// Makes a Page over the device memory `[phys, phys + count * 4096)` in `dst` of the caller's
    /// CSpace, charged one page (its header) to `memory`. `phys` must be page-aligned and `count`
    /// a power of two up to [`MAX_PAGE_COUNT`]; the range must be device memory: not RAM as the
    /// loader's memory map says, none of the kernel's own devices or firmware tables, within the
    /// CPU's physical address width (else `InvalidArgument`). The Page is mapped uncached, its
    /// contents are whatever the device shows, and its frames never become RAM. Needs WRITE.
    ///
    /// ```no_run
    /// use sys::vspace::access;
    /// # fn demo(boot: &sys::Boot) -> sys::Result<()> {
    /// // The boot framebuffer, in pieces of 2 MiB (one Page holds at most 512 pages).
    /// let fb = boot.root_info().expect("the root task").framebuffer;
    /// let page = sys::root::device_control().create_page(fb.addr as usize, 512, sys::root::memory(), sys::Slot::Auto)?;
    /// page.map(sys::VSpace::root(), 0x0000_2000_4000_0000, access::RW, sys::root::memory())?;
    /// # Ok(())
    /// # }
    /// ```
    pub fn create_page(self, phys: usize, count: usize, memory: Memory, dst: Slot) -> Result<Page> {
        page_create_device(self.slot(), phys, count, memory.slot(), dst.raw()).map(Page::at)
    }
}

impl VSpace {
    /// The root task's VSpace, with all rights ([`ROOT_VSPACE`](bootcaps::ROOT_VSPACE)). Like the
    /// handles in [`root`](crate::root), it means something only in the root task's CSpace (and
    /// in threads sharing it).
    ///
    /// ```
    /// use sys::VSpace;
    ///
    /// assert_eq!(VSpace::root().slot(), sys::abi::bootcaps::ROOT_VSPACE);
    ///
    /// /// In the root task: maps `page` in its own address space.
    /// fn map_here(page: sys::Page, vaddr: usize) -> sys::Result<()> {
    ///     page.map(VSpace::root(), vaddr, sys::vspace::access::RW, sys::root::memory())
    /// }
    /// ```
    pub const fn root() -> VSpace {
        VSpace::at(bootcaps::ROOT_VSPACE)
    }

    /// Makes an empty VSpace (sharing only the kernel's half) in `dst` of the caller's CSpace,
    /// with all rights, charged two pages to `memory` (which needs WRITE). The pages, and those
    /// of the tables later maps charge, are refunded when the VSpace dies.
    ///
    /// Errors: as [`Memory::split`] (without `InvalidArgument`).
    ///
    /// ```no_run
    /// use sys::{Slot, VSpace};
    ///
    /// # fn demo() -> sys::Result<()> {
    /// let memory = sys::process::memory().expect("the program has a Memory");
    /// let before = memory.info()?.used;
    /// let space = VSpace::create(memory, Slot::Auto)?;
    /// assert_eq!(memory.info()?.used, before + 2);
    /// # Ok(())
    /// # }
    /// ```
    pub fn create(memory: Memory, dst: Slot) -> Result<VSpace> {
        vspace_create(memory.slot(), dst.raw()).map(VSpace::at)
    }
}

impl Page {
    /// Makes a Page of `count` zeroed, physically contiguous pages in `dst` of the caller's
    /// CSpace, with all rights, charged `count + 1` to `memory` (which needs WRITE).
    ///
    /// Errors: as [`Memory::split`], with `InvalidArgument` unless `count` is a power of two up
    /// to [`MAX_PAGE_COUNT`].
    ///
    /// ```no_run
    /// use sys::abi::Error::InvalidArgument;
    /// use sys::{Page, Slot};
    ///
    /// # fn demo() -> sys::Result<()> {
    /// let memory = sys::process::memory().expect("the program has a Memory");
    /// // 2 MiB in one physically contiguous run, say for a frame buffer.
    /// let frame = Page::create(memory, sys::vspace::MAX_PAGE_COUNT, Slot::Auto)?;
    /// // Counts are powers of two.
    /// assert_eq!(Page::create(memory, 3, Slot::Auto), Err(InvalidArgument.into()));
    /// # Ok(())
    /// # }
    /// ```
    pub fn create(memory: Memory, count: usize, dst: Slot) -> Result<Page> {
        page_create(memory.slot(), count, dst.raw()).map(Page::at)
    }

    /// Maps the Page at `vaddr` (page-aligned; the whole run inside the user range) in `vspace`
    /// with `access` (see [`access`]); page tables the map needs are charged to `table_memory`
    /// and refunded when `vspace` dies. Needs READ on the Page (and the rights `access` adds),
    /// WRITE on `vspace` and `table_memory`.
    ///
    /// Errors: capability errors for the Page, `vspace`, `table_memory`; `InsufficientRights`
    /// (access beyond the Page capability's rights); `InvalidArgument` (unknown access bits, or
    /// `vaddr` unaligned or outside the user range); `InvalidState` (the Page is mapped already);
    /// `SlotOccupied` (something is mapped in the range); `QuotaExceeded`, `OutOfMemory` (tables).
    ///
    /// ```no_run
    /// use sys::abi::Error::SlotOccupied;
    /// use sys::vspace::access;
    /// use sys::{Page, Slot, VSpace};
    ///
    /// # fn demo() -> sys::Result<()> {
    /// let memory = sys::process::memory().expect("the program has a Memory");
    /// let child = VSpace::create(memory, Slot::Auto)?;
    /// let code = Page::create(memory, 1, Slot::Auto)?;
    /// code.map(child, 0x40_0000, access::RX, memory)?;
    /// // Nothing is ever mapped over.
    /// let other = Page::create(memory, 1, Slot::Auto)?;
    /// assert_eq!(other.map(child, 0x40_0000, access::RW, memory), Err(SlotOccupied.into()));
    /// # Ok(())
    /// # }
    /// ```
    pub fn map(self, vspace: VSpace, vaddr: usize, access: usize, table_memory: Memory) -> Result<()> {
        page_map(self.slot(), vspace.slot(), vaddr, access, table_memory.slot())
    }

    /// Removes the Page's mapping (its contents stay; it can be mapped again). Needs READ.
    ///
    /// Errors: capability errors; `InvalidState` (not mapped).
    ///
    /// # Safety
    ///
    /// As for [`page_unmap`]: if the Page is mapped in the caller's own VSpace, nothing may use
    /// the memory afterwards.
    ///
    /// ```no_run
    /// use sys::mmap::{self, Place};
    /// use sys::vspace::access;
    ///
    /// # fn demo(shared: sys::Page) -> sys::Result<()> {
    /// // `shared` is mapped in a child program's VSpace: take it, and look at what it wrote.
    /// // SAFETY: the Page is mapped in the child's VSpace, not this program's: no memory of this
    /// // program goes.
    /// unsafe { shared.unmap()? };
    /// let view = mmap::map_page(shared, access::R, Place::Anywhere).expect("mapped here");
    /// sys::println!("the child wrote {:?}", &view.bytes()[..16]);
    /// # Ok(())
    /// # }
    /// ```
    pub unsafe fn unmap(self) -> Result<()> {
        // SAFETY: the caller's promise is the one `page_unmap` needs.
        unsafe { page_unmap(self.slot()) }
    }

    /// Changes the access of the Page's mapping, as for [`map`](Page::map). Needs READ (and the
    /// rights `access` adds).
    ///
    /// Errors: capability errors; `InsufficientRights`; `InvalidArgument`; `InvalidState` (not
    /// mapped).
    ///
    /// # Safety
    ///
    /// As for [`page_protect`]: if rights are taken away from a mapping in the caller's own
    /// VSpace, nothing may use the memory in the ways no longer allowed.
    ///
    /// ```no_run
    /// use sys::vspace::access;
    ///
    /// # fn demo(childs_code: sys::Page) -> sys::Result<()> {
    /// // A loader mapped the child's code writable to relocate it; now read and execute only.
    /// // SAFETY: the Page is mapped in the child's VSpace, not this program's: nothing of this
    /// // program uses it.
    /// unsafe { childs_code.protect(access::RX)? };
    /// # Ok(())
    /// # }
    /// ```
    pub unsafe fn protect(self, access: usize) -> Result<()> {
        // SAFETY: the caller's promise is the one `page_protect` needs.
        unsafe { page_protect(self.slot(), access) }
    }

    /// The physical address, page count and mapping address (0 if unmapped). Needs READ.
    ///
    /// ```no_run
    /// # fn demo(page: sys::Page) -> sys::Result<()> {
    /// let info = page.info()?;
    /// sys::println!("{} pages at {:#x}, mapped: {}", info.count, info.phys, info.is_mapped());
    /// # Ok(())
    /// # }
    /// ```
    pub fn info(self) -> Result<PageInfo> {
        let (phys, count, vaddr) = page_info(self.slot())?;
        Ok(PageInfo { phys, count, vaddr })
    }

    /// Deletes this capability, after checking that the slot holds a Page capability and that
    /// the Page is not mapped anywhere: safe, since the death of an unmapped Page unmaps nothing.
    /// A mapped Page is deleted with [`Cap::delete`] (`unsafe`: its death, if this is its last
    /// capability, unmaps it), after [`unmap`](Page::unmap) or when it is mapped in another
    /// task's VSpace.
    ///
    /// Errors: [`InvalidCapability`](abi::Error::InvalidCapability) (an empty slot, or one
    /// outside the CSpace); [`WrongKind`](abi::Error::WrongKind) (not a Page);
    /// [`InsufficientRights`](abi::Error::InsufficientRights) (no READ, which the check needs);
    /// [`InvalidState`](abi::Error::InvalidState) (the Page is mapped). The capability stays
    /// after each.
    ///
    /// ```no_run
    /// use sys::abi::Error::InvalidState;
    /// use sys::{Page, Slot};
    ///
    /// # fn demo(child: sys::VSpace) -> sys::Result<()> {
    /// let memory = sys::process::memory().expect("the program has a Memory");
    /// let page = Page::create(memory, 1, Slot::Auto)?;
    /// page.map(child, 0x40_0000, sys::vspace::access::RW, memory)?;
    /// // Mapped: refused, the capability stays.
    /// assert_eq!(page.delete(), Err(InvalidState.into()));
    /// // SAFETY: the Page is mapped in the child's VSpace, not this program's.
    /// unsafe { page.unmap()? };
    /// page.delete()?;
    /// # Ok(())
    /// # }
    /// ```
    pub fn delete(self) -> Result<()> {
        crate::cap::expect_kind(self.cap(), Kind::Page)?;
        if self.info()?.is_mapped() {
            return Err(abi::Error::InvalidState.into());
        }
        // SAFETY: the slot holds a Page capability whose Page was mapped nowhere at the check
        // just now; whatever could have changed since (another capability put in the slot, the
        // Page mapped through another capability) is nothing this program relies on
        // (`crate::safety`, "Shared slots"). An unmapped Page's death unmaps nothing and ends no
        // other object, so the teardown contract holds.
        unsafe { self.cap().delete() }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn handles() {
        assert_eq!(VSpace::root().slot(), bootcaps::ROOT_VSPACE);
        assert_eq!(Page::at(9).cap(), Cap::new(9));
        assert_eq!(Cap::from(VSpace::new(Cap::new(4))), Cap::new(4));
    }

    #[test]
    fn access_bits() {
        assert_eq!(access::RW, crate::rights::READ | crate::rights::WRITE);
        assert_eq!(access::RX & access::WRITE, 0);
        let info = PageInfo { phys: 0x1000, count: 4, vaddr: 0 };
        assert!(!info.is_mapped());
        assert_eq!(info.bytes(), 16384);
    }
}
