//! VSpace objects: a user address space as a kernel object.
//!
//! For now a VSpace is made only for the root task, around the address space the kernel built
//! for it; tasks share it by holding references. Creating VSpaces and mapping Page objects into
//! them come next.

use abi::Error;

use super::{Ctx, Header, Kind, ObjRef, create};
use crate::mem::vspace::VSpace;

#[repr(C)]
struct VSpaceObj {
    hdr: Header,
    space: Option<VSpace>,
}

fn obj(v: ObjRef) -> *mut VSpaceObj {
    debug_assert_eq!(v.kind(), Kind::VSpace);
    v.cast()
}

/// Wraps `space` into a VSpace object charged to nothing (the root task's).
pub fn create_root(ctx: &mut Ctx<'_>, space: VSpace) -> Result<ObjRef, Error> {
    let v = create::<VSpaceObj>(ctx, Kind::VSpace, None, 1, 0)?;
    // SAFETY: a fresh VSpace object; the field is written without reading (or dropping) the
    // zeroed bytes that were there.
    unsafe { (&raw mut (*obj(v)).space).write(Some(space)) };
    Ok(v)
}

/// The address space.
pub fn space<'a>(v: ObjRef) -> &'a mut VSpace {
    // SAFETY: a live VSpace object always holds its space until teardown; callers use the
    // reference within one kernel entry.
    unsafe { (*obj(v)).space.as_mut().expect("a live VSpace has its space") }
}

/// Teardown: frees the address space.
pub(super) fn teardown(v: ObjRef) {
    // SAFETY: the object is dead, only reachable from the dead list.
    drop(unsafe { (*obj(v)).space.take() });
}
