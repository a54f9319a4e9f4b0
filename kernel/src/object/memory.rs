//! Memory objects: quotas of pages that every other object is charged to.
//!
//! A Memory object names no particular pages: objects take their pages from the page allocator and
//! charge them here. A child Memory (from [`split`]) is charged its whole quota and its own page
//! up front, and refunds both when it dies. An object holds a reference on the Memory it is
//! charged to, so a Memory outlives everything made from it.

use abi::Error;
use abi::object::{Kind, MAX_QUOTA, MEMORY_PAGES};

use super::{Ctx, Header, ObjRef, create};

#[repr(C)]
struct MemoryObj {
    hdr: Header,
    quota: u64,
    used: u64,
}

fn obj(m: ObjRef) -> *mut MemoryObj {
    debug_assert_eq!(m.kind(), Kind::Memory);
    m.cast()
}

/// Charges `pages` to `m`.
pub fn charge(m: ObjRef, pages: u64) -> Result<(), Error> {
    let p = obj(m);
    // SAFETY: `m` is a live Memory object (module invariant).
    unsafe {
        match (*p).used.checked_add(pages) {
            Some(used) if used <= (*p).quota => {
                (*p).used = used;
                Ok(())
            }
            _ => Err(Error::QuotaExceeded),
        }
    }
}

/// Gives back `pages` charged before.
pub fn refund(m: ObjRef, pages: u64) {
    let p = obj(m);
    // SAFETY: as in `charge`.
    unsafe {
        debug_assert!((*p).used >= pages);
        (*p).used = (*p).used.saturating_sub(pages);
    }
}

/// `(quota, used)` in pages.
pub fn info(m: ObjRef) -> (u64, u64) {
    let p = obj(m);
    // SAFETY: as in `charge`.
    unsafe { ((*p).quota, (*p).used) }
}

/// Makes the root Memory object, charged to nothing, with `quota` pages.
pub fn create_root(ctx: &mut Ctx<'_>, quota: u64) -> Result<ObjRef, Error> {
    let m = create::<MemoryObj>(ctx, Kind::Memory, None, MEMORY_PAGES as u64, 0)?;
    // SAFETY: a fresh Memory object.
    unsafe { (*obj(m)).quota = quota };
    Ok(m)
}

/// Makes a child of `parent` with `quota` pages, charging the parent `quota + 1`.
pub fn split(ctx: &mut Ctx<'_>, parent: ObjRef, quota: u64) -> Result<ObjRef, Error> {
    if quota == 0 || quota > MAX_QUOTA as u64 {
        return Err(Error::InvalidArgument);
    }
    let m = create::<MemoryObj>(ctx, Kind::Memory, Some(parent), MEMORY_PAGES as u64, quota + MEMORY_PAGES as u64)?;
    // SAFETY: a fresh Memory object.
    unsafe { (*obj(m)).quota = quota };
    Ok(m)
}
