//! VSpace objects: user address spaces. A VSpace owns its page tables and keeps a list of the
//! Page objects mapped in it.
//!
//! The root task's VSpace wraps the address space the kernel built for it at boot (whose tables
//! and frames the kernel accounts for itself). A VSpace made with `vspace_create` costs two pages
//! (header and top-level table); the tables a map needs are charged to the Memory passed with
//! that map and recorded here (at most [`MAX_TABLES`]), so that teardown refunds each to the
//! Memory that paid for it. Teardown runs in bounded steps: first the mapped pages forget their
//! mapping (one unit each), then the tables are freed (one unit each).

use core::cell::Cell;

use abi::Error;
use abi::layout::is_user_range;

use x86_64::structures::paging::PageTableFlags;
use x86_64::{PhysAddr, VirtAddr};

use super::page::{self, obj as page_obj};
use super::{Ctx, Header, Kind, ObjRef, Object, create, memory};
use crate::arch::paging::{self, MapError, PAGE_SIZE, PageSize};
use crate::mem::vspace::VSpace;

/// Most page tables a VSpace records (each maps up to 2 MiB, 1 GiB or 512 GiB).
pub const MAX_TABLES: usize = 240;

#[repr(C)]
struct VSpaceObj {
    hdr: Header,
    /// The top-level table (set when made; 0 once torn down).
    root: Cell<PhysAddr>,
    /// Whether the kernel built it (the root task's): its boot mappings are the kernel's.
    boot: Cell<bool>,
    /// Head of the list of mapped Page objects.
    mapped: Cell<Option<ObjRef>>,
    table_count: Cell<u64>,
    /// Page tables and the Memory each is charged to (which holds a reference).
    tables: [Cell<(u64, Option<ObjRef>)>; MAX_TABLES],
}

// SAFETY: `repr(C)`, starts with the header, changing fields are cells, zero is valid for each.
unsafe impl Object for VSpaceObj {
    const KIND: Kind = Kind::VSpace;
}

const _: () = assert!(core::mem::size_of::<VSpaceObj>() <= 4096);

fn obj<'a>(v: ObjRef) -> &'a VSpaceObj {
    v.get()
}

/// Wraps `space` into a VSpace object charged to nothing (the root task's).
pub fn create_root(ctx: &mut Ctx<'_>, space: VSpace) -> Result<ObjRef, Error> {
    let v = create::<VSpaceObj>(ctx, None, 1, 0)?;
    obj(v).root.set(space.root());
    obj(v).boot.set(true);
    Ok(v)
}

/// Makes an empty VSpace (sharing the kernel's upper half), charged two pages to `memory`.
pub fn create_in(ctx: &mut Ctx<'_>, mem: ObjRef) -> Result<ObjRef, Error> {
    memory::charge(mem, 1)?;
    let root = match ctx.pages.alloc(1) {
        Ok(r) => r,
        Err(e) => {
            memory::refund(mem, 1);
            return Err(super::frame_error(e));
        }
    };
    let v = match create::<VSpaceObj>(ctx, Some(mem), 1, 1) {
        Ok(v) => v,
        Err(e) => {
            memory::refund(mem, 1);
            // SAFETY: the page was just allocated and never used.
            unsafe { ctx.pages.free(root, 1) };
            return Err(e);
        }
    };
    crate::mem::kspace::share_upper_half(PhysAddr::new(root));
    // The top-level table: charged above, recorded like any table.
    mem.acquire();
    let o = obj(v);
    o.root.set(PhysAddr::new(root));
    o.tables[0].set((root, Some(mem)));
    o.table_count.set(1);
    Ok(v)
}

/// The address space of a live VSpace.
pub fn space(v: ObjRef) -> VSpace {
    VSpace::from_root(obj(v).root.get())
}

/// Access a mapping gives.
#[derive(Copy, Clone, Debug)]
pub struct Access {
    /// Writable.
    pub write: bool,
    /// Executable.
    pub execute: bool,
}

fn leaf_flags(a: Access, device: bool) -> PageTableFlags {
    let mut f = PageTableFlags::USER_ACCESSIBLE;
    if device {
        f |= PageTableFlags::NO_CACHE | PageTableFlags::WRITE_THROUGH;
    }
    if a.write {
        f |= PageTableFlags::WRITABLE;
    }
    if !a.execute {
        f |= paging::nx();
    }
    f
}

/// Page `i` of a Page object mapped at `vaddr`, an address checked to be in the user range
/// (canonical, so the conversion changes nothing) when the mapping was made.
fn page_addr(vaddr: u64, i: u64) -> VirtAddr {
    VirtAddr::new_truncate(vaddr + i * PAGE_SIZE)
}

/// Maps Page `p` at `vaddr` in `v` with `access`; tables it needs are charged to `table_mem`.
/// Checks first (alignment, user range, the page unmapped, the range free), then maps.
pub fn map(
    ctx: &mut Ctx<'_>,
    v: ObjRef,
    p: ObjRef,
    vaddr: u64,
    access: Access,
    table_mem: ObjRef,
) -> Result<(), Error> {
    let (phys, count) = page::frames(p);
    let len = count * PAGE_SIZE;
    if !vaddr.is_multiple_of(PAGE_SIZE) || !is_user_range(vaddr as usize, len as usize) {
        return Err(Error::InvalidArgument);
    }
    if page::mapping(p).is_some() {
        return Err(Error::InvalidState);
    }
    let o = obj(v);
    let root = o.root.get();
    if (0..count).any(|i| paging::translate(root, page_addr(vaddr, i)).is_some()) {
        return Err(Error::SlotOccupied);
    }
    let mut failure = None;
    for i in 0..count {
        let mut alloc = || -> Option<PhysAddr> {
            let n = o.table_count.get() as usize;
            if n == MAX_TABLES {
                failure = Some(Error::OutOfMemory);
                return None;
            }
            if let Err(e) = memory::charge(table_mem, 1) {
                failure = Some(e);
                return None;
            }
            match ctx.pages.alloc(1) {
                Ok(t) => {
                    table_mem.acquire();
                    o.tables[n].set((t, Some(table_mem)));
                    o.table_count.set(n as u64 + 1);
                    Some(PhysAddr::new(t))
                }
                Err(e) => {
                    memory::refund(table_mem, 1);
                    failure = Some(super::frame_error(e));
                    None
                }
            }
        };
        let r = paging::map(
            root,
            page_addr(vaddr, i),
            PhysAddr::new(phys + i * PAGE_SIZE),
            PageSize::Size4K,
            leaf_flags(access, page::is_device(p)),
            &mut alloc,
        );
        if let Err(e) = r {
            // Undo this call's leaves; tables made stay (recorded and charged).
            for j in 0..i {
                paging::unmap(root, page_addr(vaddr, j));
            }
            return Err(failure.unwrap_or(match e {
                MapError::OutOfMemory => Error::OutOfMemory,
                MapError::AlreadyMapped => Error::SlotOccupied,
            }));
        }
    }
    let head = o.mapped.get();
    let po = page_obj(p);
    po.vspace.set(Some(v));
    po.vaddr.set(vaddr);
    po.map_prev.set(None);
    po.map_next.set(head);
    if let Some(h) = head {
        page_obj(h).map_prev.set(Some(p));
    }
    o.mapped.set(Some(p));
    Ok(())
}

/// Changes the access of a mapped Page.
pub fn protect(p: ObjRef, access: Access) -> Result<(), Error> {
    let (v, vaddr) = page::mapping(p).ok_or(Error::InvalidState)?;
    let (phys, count) = page::frames(p);
    let root = obj(v).root.get();
    for i in 0..count {
        let va = page_addr(vaddr, i);
        paging::unmap(root, va);
        // Cannot need a table: the leaf's table exists.
        let frame = PhysAddr::new(phys + i * PAGE_SIZE);
        let _ = paging::map(root, va, frame, PageSize::Size4K, leaf_flags(access, page::is_device(p)), &mut || None);
    }
    Ok(())
}

fn unlink(v: ObjRef, p: ObjRef) {
    let po = page_obj(p);
    let (prev, next) = (po.map_prev.take(), po.map_next.take());
    match prev {
        Some(q) => page_obj(q).map_next.set(next),
        None => obj(v).mapped.set(next),
    }
    if let Some(n) = next {
        page_obj(n).map_prev.set(prev);
    }
    po.vspace.set(None);
}

/// Unmaps Page `p` wherever it is mapped (no-op if it is not). O(pages in it).
pub fn unmap(p: ObjRef) {
    let Some((v, vaddr)) = page::mapping(p) else { return };
    let (_, count) = page::frames(p);
    let root = obj(v).root.get();
    for i in 0..count {
        paging::unmap(root, page_addr(vaddr, i));
    }
    unlink(v, p);
}

/// Teardown step: mapped pages forget the mapping, then tables are freed and refunded, spending
/// `budget`. Returns whether it is done (the root task's boot space is then freed whole).
pub(super) fn teardown(ctx: &mut Ctx<'_>, v: ObjRef, budget: &mut u32) -> bool {
    let o = obj(v);
    // Its tables may be the loaded ones (its last task just died): never free those.
    crate::arch::context::leave_address_space(o.root.get(), crate::mem::kspace::root());
    while *budget > 0 {
        if let Some(p) = o.mapped.get() {
            unlink(v, p);
            *budget -= 1;
            continue;
        }
        let n = o.table_count.get();
        if n > 0 {
            o.table_count.set(n - 1);
            let (t, mem) = o.tables[n as usize - 1].get();
            if !o.boot.get() {
                // SAFETY: a table of this dead VSpace, allocated in `map` or `create_in`. (A boot
                // space's tables are all freed with it below.)
                unsafe { ctx.pages.free(t, 1) };
            }
            if let Some(m) = mem {
                memory::refund(m, 1);
                m.release(ctx.dead);
            }
            *budget -= 1;
            continue;
        }
        let root = o.root.replace(PhysAddr::zero());
        if o.boot.get() && !root.is_null() {
            // The root task's boot space: its own tables and frames (the kernel's accounting),
            // freed through this operation's page source, whose lock the caller holds.
            let free = &mut |phys| {
                // SAFETY: every page `destroy` hands over was allocated for this space alone
                // (tables, owned frames) and nothing refers to it any more.
                unsafe { ctx.pages.free(phys, 1) }
            };
            // SAFETY: the object is dead and its root now 0, so nothing uses the space again, and
            // the CPU left it above.
            unsafe { VSpace::from_root(root).destroy(free) };
        }
        // A space made by `create_in` had its tables, the top-level one included, freed above.
        return true;
    }
    false
}
