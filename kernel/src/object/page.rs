//! Page objects: one page, or a physically contiguous run of 2^n pages (for DMA), zeroed, that
//! can be mapped once into one VSpace; or, made over device memory, a run of device frames that
//! is mapped uncached and never freed.
//!
//! A Page costs its pages plus one for its header. Its mapping (VSpace, address, access) is
//! recorded here and in the VSpace's list of mapped pages, so either side can undo it in O(1)
//! when it dies.

use core::cell::Cell;

use abi::Error;

use super::{Ctx, Header, Kind, ObjRef, Object, create};

/// Most pages in one Page object (2 MiB).
pub const MAX_PAGES: u64 = 512;

#[repr(C)]
pub(super) struct PageObj {
    hdr: Header,
    /// The data run.
    pub(super) phys: Cell<u64>,
    /// Pages in it.
    pub(super) count: Cell<u64>,
    /// The VSpace it is mapped in, and where.
    pub(super) vspace: Cell<Option<ObjRef>>,
    pub(super) vaddr: Cell<u64>,
    /// Links in that VSpace's list of mapped pages.
    pub(super) map_next: Cell<Option<ObjRef>>,
    pub(super) map_prev: Cell<Option<ObjRef>>,
    /// Device memory (`create_device_in`): mapped uncached, never freed to the page allocator.
    pub(super) device: Cell<bool>,
}

// SAFETY: `repr(C)`, starts with the header, changing fields are cells, zero is valid for each.
unsafe impl Object for PageObj {
    const KIND: Kind = Kind::Page;
}

pub(super) fn obj<'a>(p: ObjRef) -> &'a PageObj {
    p.get()
}

/// Makes a Page of `count` pages (a power of two, at most [`MAX_PAGES`]), charged `count + 1`.
pub fn create_in(ctx: &mut Ctx<'_>, memory: ObjRef, count: u64) -> Result<ObjRef, Error> {
    if count == 0 || count > MAX_PAGES || !count.is_power_of_two() {
        return Err(Error::InvalidArgument);
    }
    let p = create::<PageObj>(ctx, Some(memory), 1, count + 1)?;
    match ctx.pages.alloc(count) {
        Ok(phys) => {
            let o = obj(p);
            o.phys.set(phys);
            o.count.set(count);
            Ok(p)
        }
        Err(e) => {
            // Never published: with `count == 0` its teardown frees only the header.
            p.acquire();
            p.release(ctx.dead);
            super::reap(ctx, 1);
            Err(super::frame_error(e))
        }
    }
}

/// Makes a Page over the device memory `[phys, phys + count * 4096)` (`count` a power of two, at
/// most [`MAX_PAGES`]), charged one page, its header. The caller has checked that the range is
/// device memory (`mem::device`); its frames are not zeroed and never freed.
pub fn create_device_in(ctx: &mut Ctx<'_>, memory: ObjRef, phys: u64, count: u64) -> Result<ObjRef, Error> {
    if count == 0 || count > MAX_PAGES || !count.is_power_of_two() || !phys.is_multiple_of(4096) {
        return Err(Error::InvalidArgument);
    }
    let p = create::<PageObj>(ctx, Some(memory), 1, 1)?;
    let o = obj(p);
    o.phys.set(phys);
    o.count.set(count);
    o.device.set(true);
    Ok(p)
}

/// Whether it is device memory.
pub fn is_device(p: ObjRef) -> bool {
    obj(p).device.get()
}

/// Physical address and page count.
pub fn frames(p: ObjRef) -> (u64, u64) {
    let o = obj(p);
    (o.phys.get(), o.count.get())
}

/// Where it is mapped, if it is.
pub fn mapping(p: ObjRef) -> Option<(ObjRef, u64)> {
    let o = obj(p);
    o.vspace.get().map(|v| (v, o.vaddr.get()))
}

/// Teardown: frees the data run, unless it is device memory. (A dying Page left its VSpace when
/// its last reference went.)
pub(super) fn teardown(ctx: &mut Ctx<'_>, p: ObjRef) {
    let o = obj(p);
    let (phys, count) = (o.phys.get(), o.count.take());
    if count > 0 && !o.device.take() {
        // SAFETY: the run was allocated in `create_in`; the page is unmapped and dead.
        unsafe { ctx.pages.free(phys, count) };
    }
}
