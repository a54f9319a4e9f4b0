//! VSpace objects: user address spaces. A VSpace owns its page tables and keeps a list of the
//! Page objects mapped in it.
//!
//! The root task's VSpace wraps the address space the kernel built for it at boot (whose tables
//! and frames the kernel accounts for itself). A VSpace made with `vspace_create` costs two pages
//! (header and top-level table); the tables a map needs are charged to the Memory passed with
//! that map and recorded here (at most [`MAX_TABLES`]), so that teardown refunds each to the
//! Memory that paid for it. Teardown runs in bounded steps: first the mapped pages forget their
//! mapping (one unit each), then the tables are freed (one unit each).

use abi::Error;
use abi::layout::is_user_range;

use super::page::{self, obj as page_obj};
use super::{Ctx, Header, Kind, ObjRef, create, memory};
use crate::arch::paging::{self, MapError, PAGE_SIZE, PageSize, USER, WRITABLE};
use crate::mem::vspace::VSpace;

/// Most page tables a VSpace records (each maps up to 2 MiB, 1 GiB or 512 GiB).
pub const MAX_TABLES: usize = 240;

#[repr(C)]
struct VSpaceObj {
    hdr: Header,
    space: Option<VSpace>,
    /// Whether the kernel built it (the root task's): its boot mappings are the kernel's.
    boot: bool,
    /// Head of the list of mapped Page objects.
    mapped: Option<ObjRef>,
    table_count: u64,
    /// Page tables and the Memory each is charged to (which holds a reference).
    tables: [(u64, Option<ObjRef>); MAX_TABLES],
}

const _: () = assert!(core::mem::size_of::<VSpaceObj>() <= 4096);

fn obj<'a>(v: ObjRef) -> &'a mut VSpaceObj {
    debug_assert_eq!(v.kind(), Kind::VSpace);
    // SAFETY: `v` is a live VSpace; the reference is used within one operation.
    unsafe { &mut *v.cast::<VSpaceObj>() }
}

/// Wraps `space` into a VSpace object charged to nothing (the root task's).
pub fn create_root(ctx: &mut Ctx<'_>, space: VSpace) -> Result<ObjRef, Error> {
    let v = create::<VSpaceObj>(ctx, Kind::VSpace, None, 1, 0)?;
    // SAFETY: a fresh VSpace object; the field is written without reading (or dropping) the
    // zeroed bytes that were there.
    unsafe { (&raw mut (*v.cast::<VSpaceObj>()).space).write(Some(space)) };
    obj(v).boot = true;
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
    let v = match create::<VSpaceObj>(ctx, Kind::VSpace, Some(mem), 1, 1) {
        Ok(v) => v,
        Err(e) => {
            memory::refund(mem, 1);
            // SAFETY: the page was just allocated and never used.
            unsafe { ctx.pages.free(root, 1) };
            return Err(e);
        }
    };
    crate::mem::kspace::share_upper_half(root);
    // SAFETY: as in `create_root`.
    unsafe { (&raw mut (*v.cast::<VSpaceObj>()).space).write(Some(VSpace::from_root(root))) };
    // The top-level table: charged above, recorded like any table.
    mem.acquire();
    let o = obj(v);
    o.tables[0] = (root, Some(mem));
    o.table_count = 1;
    Ok(v)
}

/// The address space.
pub fn space<'a>(v: ObjRef) -> &'a mut VSpace {
    obj(v).space.as_mut().expect("a live VSpace has its space")
}

/// Access a mapping gives.
#[derive(Copy, Clone, Debug)]
pub struct Access {
    /// Writable.
    pub write: bool,
    /// Executable.
    pub execute: bool,
}

fn leaf_flags(a: Access) -> u64 {
    let mut f = USER;
    if a.write {
        f |= WRITABLE;
    }
    if !a.execute {
        f |= paging::nx();
    }
    f
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
    let root = space(v).root();
    if (0..count).any(|i| paging::translate(root, vaddr + i * PAGE_SIZE).is_some()) {
        return Err(Error::SlotOccupied);
    }
    let mut failure = None;
    for i in 0..count {
        let mut alloc = || -> Option<u64> {
            if obj(v).table_count as usize == MAX_TABLES {
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
                    let o = obj(v);
                    o.tables[o.table_count as usize] = (t, Some(table_mem));
                    o.table_count += 1;
                    Some(t)
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
            vaddr + i * PAGE_SIZE,
            phys + i * PAGE_SIZE,
            PageSize::Size4K,
            leaf_flags(access),
            &mut alloc,
        );
        if let Err(e) = r {
            // Undo this call's leaves; tables made stay (recorded and charged).
            for j in 0..i {
                paging::unmap(root, vaddr + j * PAGE_SIZE);
            }
            return Err(failure.unwrap_or(match e {
                MapError::OutOfMemory => Error::OutOfMemory,
                MapError::AlreadyMapped => Error::SlotOccupied,
            }));
        }
    }
    let head = obj(v).mapped;
    let po = page_obj(p);
    (po.vspace, po.vaddr, po.map_prev, po.map_next) = (Some(v), vaddr, None, head);
    if let Some(h) = head {
        page_obj(h).map_prev = Some(p);
    }
    obj(v).mapped = Some(p);
    Ok(())
}

/// Changes the access of a mapped Page.
pub fn protect(p: ObjRef, access: Access) -> Result<(), Error> {
    let (v, vaddr) = page::mapping(p).ok_or(Error::InvalidState)?;
    let (phys, count) = page::frames(p);
    let root = space(v).root();
    for i in 0..count {
        let va = vaddr + i * PAGE_SIZE;
        paging::unmap(root, va);
        // Cannot need a table: the leaf's table exists.
        let _ = paging::map(root, va, phys + i * PAGE_SIZE, PageSize::Size4K, leaf_flags(access), &mut || None);
    }
    Ok(())
}

fn unlink(v: ObjRef, p: ObjRef) {
    let po = page_obj(p);
    let (prev, next) = (po.map_prev.take(), po.map_next.take());
    match prev {
        Some(q) => page_obj(q).map_next = next,
        None => obj(v).mapped = next,
    }
    if let Some(n) = next {
        page_obj(n).map_prev = prev;
    }
    po.vspace = None;
}

/// Unmaps Page `p` wherever it is mapped (no-op if it is not). O(pages in it).
pub fn unmap(p: ObjRef) {
    let Some((v, vaddr)) = page::mapping(p) else { return };
    let (_, count) = page::frames(p);
    let root = space(v).root();
    for i in 0..count {
        paging::unmap(root, vaddr + i * PAGE_SIZE);
    }
    unlink(v, p);
}

/// Teardown step: mapped pages forget the mapping, then tables are freed and refunded, spending
/// `budget`. Returns whether it is done (the root task's boot space is then dropped whole).
pub(super) fn teardown(ctx: &mut Ctx<'_>, v: ObjRef, budget: &mut u32) -> bool {
    // Its tables may be the loaded ones (its last task just died): never free those.
    if let Some(space) = obj(v).space.as_ref() {
        crate::arch::context::leave_address_space(space.root(), crate::mem::kspace::root());
    }
    while *budget > 0 {
        if let Some(p) = obj(v).mapped {
            unlink(v, p);
            *budget -= 1;
            continue;
        }
        let o = obj(v);
        if o.table_count > 0 {
            o.table_count -= 1;
            let (t, mem) = o.tables[o.table_count as usize];
            if !o.boot {
                // SAFETY: a table of this dead VSpace, allocated in `map` or `create_in`. (A boot
                // space's tables are all freed when it is dropped below.)
                unsafe { ctx.pages.free(t, 1) };
            }
            if let Some(m) = mem {
                memory::refund(m, 1);
                m.release(ctx.dead);
            }
            *budget -= 1;
            continue;
        }
        if let Some(space) = o.space.take()
            && o.boot
        {
            // The root task's boot space: its own tables and frames (the kernel's accounting),
            // freed through this operation's page source, whose lock the caller holds.
            space.destroy(&mut |phys| {
                // SAFETY: every page `destroy` hands over was allocated for this space alone
                // (tables, owned frames) and nothing refers to it any more.
                unsafe { ctx.pages.free(phys, 1) }
            });
        }
        // A space made by `create_in` had its tables, the top-level one included, freed above.
        return true;
    }
    false
}
