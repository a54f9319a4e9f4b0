//! Memory objects: quotas of pages that every other object is charged to.
//!
//! A Memory object names no particular pages: objects take their pages from the page allocator and
//! charge them here. A child Memory (from [`split`]) is charged its whole quota and its own page
//! up front, and refunds both when it dies. An object holds a reference on the Memory it is
//! charged to, so a Memory outlives everything made from it.

use core::cell::Cell;

use abi::Error;
use abi::object::{Kind, MAX_QUOTA, MEMORY_PAGES};

use super::{Ctx, Header, ObjRef, Object, create};

#[repr(C)]
struct MemoryObj {
    hdr: Header,
    quota: Cell<u64>,
    used: Cell<u64>,
}

// SAFETY: `repr(C)`, starts with the header, changing fields are cells, zero is valid for each.
unsafe impl Object for MemoryObj {
    const KIND: Kind = Kind::Memory;
}

fn obj<'a>(m: ObjRef) -> &'a MemoryObj {
    m.get()
}

/// Charges `pages` to `m`.
pub fn charge(m: ObjRef, pages: u64) -> Result<(), Error> {
    let o = obj(m);
    match o.used.get().checked_add(pages) {
        Some(used) if used <= o.quota.get() => {
            o.used.set(used);
            Ok(())
        }
        _ => Err(Error::QuotaExceeded),
    }
}

/// Gives back `pages` charged before.
pub fn refund(m: ObjRef, pages: u64) {
    let o = obj(m);
    debug_assert!(o.used.get() >= pages);
    o.used.set(o.used.get().saturating_sub(pages));
}

/// `(quota, used)` in pages.
pub fn info(m: ObjRef) -> (u64, u64) {
    let o = obj(m);
    (o.quota.get(), o.used.get())
}

/// Makes the root Memory object, charged to nothing, with `quota` pages.
pub fn create_root(ctx: &mut Ctx<'_>, quota: u64) -> Result<ObjRef, Error> {
    let m = create::<MemoryObj>(ctx, None, MEMORY_PAGES as u64, 0)?;
    obj(m).quota.set(quota);
    Ok(m)
}

/// Makes a child of `parent` with `quota` pages, charging the parent `quota + 1`.
pub fn split(ctx: &mut Ctx<'_>, parent: ObjRef, quota: u64) -> Result<ObjRef, Error> {
    if quota == 0 || quota > MAX_QUOTA as u64 {
        return Err(Error::InvalidArgument);
    }
    let m = create::<MemoryObj>(ctx, Some(parent), MEMORY_PAGES as u64, quota + MEMORY_PAGES as u64)?;
    obj(m).quota.set(quota);
    Ok(m)
}
