//! Capability, Memory and CSpace syscalls: decode the caller's capability addresses, check the
//! kinds and rights each call needs, then call the object library. Every check comes before the
//! first change, so a failed call leaves nothing half done.

use abi::Error;
use abi::object::{Kind, rights};

use super::{Results, one};
use crate::object::cdt::{self, Cap, SlotRef};
use crate::object::task::TaskObj as Task;
use crate::object::{ObjRef, cspace, global, memory};

/// The capability at `addr` in the caller's CSpace, if it is of `kind` with all of `need`.
pub fn need(task: &Task, addr: u64, kind: Kind, need: usize) -> Result<(SlotRef, Cap), Error> {
    let (slot, cap) = cspace::lookup(super::cspace_of(task)?, addr)?;
    if cap.kind != kind {
        return Err(Error::WrongKind);
    }
    if usize::from(cap.rights) & need != need {
        return Err(Error::InsufficientRights);
    }
    Ok((slot, cap))
}

/// The object the caller's capability `addr` names, if it is of `kind` with all of `need`, and
/// the capability itself (for its badge or rights).
pub(super) fn need_object(task: &Task, addr: u64, kind: Kind, need: usize) -> Result<(ObjRef, Cap), Error> {
    let (_, c) = self::need(task, addr, kind, need)?;
    Ok((object(&c)?, c))
}

/// The object and badge of the capability a fast path's call names in its first argument, if it
/// is of `kind` with all of `need` and nothing waits to be destroyed (the reaper runs at the end
/// of every syscall, as the general path would do now); `None` leaves the call to the general
/// path, which gives the errors.
#[inline(always)]
pub(super) fn fast(task: &Task, kind: Kind, need: usize) -> Option<(ObjRef, u64)> {
    let cs = task.cspace.get()?;
    let found = cspace::fast_object(cs, task.ctx.args()[0], kind, need as u8)?;
    global::nothing_to_reap().then_some(found)
}

/// A Note to signal later with `bits` (and the capability's badge), as `task_set_exit_note` and
/// `log_set_note` take it: `None` for `note` 0 (`bits` not looked at); else the caller's
/// capability must name a Note with WRITE, and `bits` must not be 0 (`InvalidArgument`). Takes
/// no reference: the caller acquires one once every other check has passed.
pub(super) fn signal_target(task: &Task, note: u64, bits: u64) -> Result<Option<(ObjRef, u64)>, Error> {
    if note == 0 {
        return Ok(None);
    }
    let (n, c) = need_object(task, note, Kind::Note, rights::WRITE)?;
    if bits == 0 {
        return Err(Error::InvalidArgument);
    }
    Ok(Some((n, bits | c.badge)))
}

/// The object a capability of a kind with objects names.
pub(super) fn object(cap: &Cap) -> Result<ObjRef, Error> {
    cap.obj.ok_or(Error::InvalidCapability)
}

/// A destination in the CSpace that the caller's capability `dst_cspace` names (WRITE needed).
fn destination(task: &Task, dst_cspace: u64, dst_slot: u64) -> Result<(SlotRef, u64), Error> {
    let (cs, _) = need_object(task, dst_cspace, Kind::CSpace, rights::WRITE)?;
    cspace::destination(cs, dst_slot)
}

/// `cap_copy` and (with a badge) `cap_mint`.
pub fn copy(
    task: &Task,
    src: u64,
    dst_cspace: u64,
    dst_slot: u64,
    mask: u64,
    badge: Option<u64>,
) -> Result<Results, Error> {
    let (src_slot, _) = cspace::lookup(super::cspace_of(task)?, src)?;
    let (dst, index) = destination(task, dst_cspace, dst_slot)?;
    cspace::derive(src_slot, dst, (mask & rights::ALL as u64) as u8, badge)?;
    Ok(one(index))
}

/// `cap_move`.
pub fn move_cap(task: &Task, src: u64, dst_cspace: u64, dst_slot: u64) -> Result<Results, Error> {
    let (src_slot, _) = cspace::lookup(super::cspace_of(task)?, src)?;
    let (dst, index) = destination(task, dst_cspace, dst_slot)?;
    cspace::move_cap(src_slot, dst)?;
    Ok(one(index))
}

/// `cap_delete`.
pub fn delete(task: &Task, slot: u64) -> Result<Results, Error> {
    let (s, _) = cspace::lookup(super::cspace_of(task)?, slot)?;
    global::with(|ctx| cspace::delete(ctx, s))?;
    Ok(one(0))
}

/// `cap_revoke`.
pub fn revoke(task: &Task, slot: u64) -> Result<Results, Error> {
    let (s, _) = cspace::lookup(super::cspace_of(task)?, slot)?;
    global::with(|ctx| cspace::revoke(ctx, s))?;
    Ok(one(0))
}

/// `cap_identify`.
pub fn identify(task: &Task, slot: u64) -> Result<Results, Error> {
    let cs = super::cspace_of(task)?;
    // Slot 0, the null slot, is always empty.
    if slot == 0 {
        return Ok([Kind::Null as u64, 0, 0, 0, 0, 0]);
    }
    let s = cspace::slot(cs, slot)?;
    Ok(match s.cap() {
        Some(c) => [c.kind as u64, u64::from(c.rights), c.badge, 0, 0, 0],
        None => [Kind::Null as u64, 0, 0, 0, 0, 0],
    })
}

/// Makes an object with `make` from the Memory capability `mem` and puts its capability, a
/// child of `mem`, in `dst_slot` of the caller's CSpace. Every check comes before the object is
/// made, in this order: the Memory capability, `args_ok` (the call's own arguments), the slot,
/// the derivation depth; then the quota and physical memory.
pub(super) fn make(
    task: &Task,
    mem: u64,
    dst_slot: u64,
    kind: Kind,
    args_ok: bool,
    make: impl FnOnce(&mut crate::object::Ctx<'_>, ObjRef) -> Result<ObjRef, Error>,
) -> Result<Results, Error> {
    let (mem_slot, mem_cap) = need(task, mem, Kind::Memory, rights::WRITE)?;
    let memory = object(&mem_cap)?;
    if !args_ok {
        return Err(Error::InvalidArgument);
    }
    let (dst, index) = cspace::destination(super::cspace_of(task)?, dst_slot)?;
    cdt::child_depth(mem_slot).map_err(|_| Error::DerivationTooDeep)?;
    let obj = global::with(|ctx| make(ctx, memory))?;
    let cap = Cap { kind, rights: rights::ALL as u8, badge: 0, obj: Some(obj) };
    // Cannot fail: the slot is empty and the depth was checked above.
    cspace::insert(Some(mem_slot), dst, &cap)?;
    Ok(one(index))
}

/// `memory_split`.
pub fn memory_split(task: &Task, mem: u64, pages: u64, dst_slot: u64) -> Result<Results, Error> {
    let ok = pages != 0 && pages <= abi::object::MAX_QUOTA as u64;
    make(task, mem, dst_slot, Kind::Memory, ok, |ctx, m| memory::split(ctx, m, pages))
}

/// `memory_info`: finishes pending destruction first, a bounded step per call.
pub fn memory_info(task: &Task, mem: u64) -> Result<Results, Error> {
    let (m, _) = need_object(task, mem, Kind::Memory, rights::READ)?;
    if !global::reap_some() {
        return Err(Error::Restart);
    }
    let (quota, used) = memory::info(m);
    Ok([quota, used, 0, 0, 0, 0])
}

/// `cspace_create`.
pub fn cspace_create(task: &Task, mem: u64, radix: u64, dst_slot: u64) -> Result<Results, Error> {
    let ok = radix != 0 && radix <= abi::object::MAX_RADIX as u64;
    make(task, mem, dst_slot, Kind::CSpace, ok, |ctx, m| cspace::create_in(ctx, m, radix as usize))
}
