//! VSpace and Page syscalls: decode and check, then `object::vspace` and `object::page`.

use abi::Error;
use abi::object::{Kind, rights};

use super::{Results, caps, one};
use crate::object::task::TaskObj;
use crate::object::vspace::Access;
use crate::object::{global, page, vspace};

/// The access `access` asks for, if the capability's `have` rights allow it.
fn access(access: u64, have: u8) -> Result<Access, Error> {
    let allowed = (rights::READ | rights::WRITE | rights::EXECUTE) as u64;
    if access & !allowed != 0 {
        return Err(Error::InvalidArgument);
    }
    if access & u64::from(have) != access {
        return Err(Error::InsufficientRights);
    }
    Ok(Access { write: access & rights::WRITE as u64 != 0, execute: access & rights::EXECUTE as u64 != 0 })
}

/// `vspace_create`.
pub fn vspace_create(task: &TaskObj, memory: u64, dst_slot: u64) -> Result<Results, Error> {
    caps::make(task, memory, dst_slot, Kind::VSpace, true, vspace::create_in)
}

/// `page_create`.
pub fn page_create(task: &TaskObj, memory: u64, count: u64, dst_slot: u64) -> Result<Results, Error> {
    let ok = count != 0 && count <= page::MAX_PAGES && count.is_power_of_two();
    caps::make(task, memory, dst_slot, Kind::Page, ok, |ctx, m| page::create_in(ctx, m, count))
}

/// `page_create_device(control, phys, count, memory, dst_slot)`: the DeviceControl capability
/// (WRITE), then as every object creation, with the range checked to be device memory.
pub fn page_create_device(
    task: &TaskObj,
    control: u64,
    phys: u64,
    count: u64,
    memory: u64,
    dst: u64,
) -> Result<Results, Error> {
    caps::need(task, control, Kind::DeviceControl, rights::WRITE)?;
    let ok = count != 0
        && count <= page::MAX_PAGES
        && count.is_power_of_two()
        && crate::mem::device::allowed(phys, count * abi::layout::PAGE_SIZE as u64);
    caps::make(task, memory, dst, Kind::Page, ok, |ctx, m| page::create_device_in(ctx, m, phys, count))
}

/// `page_map`.
pub fn page_map(task: &TaskObj, pg: u64, vs: u64, vaddr: u64, acc: u64, memory: u64) -> Result<Results, Error> {
    let (p, c) = caps::need_object(task, pg, Kind::Page, rights::READ)?;
    let (v, _) = caps::need_object(task, vs, Kind::VSpace, rights::WRITE)?;
    let (m, _) = caps::need_object(task, memory, Kind::Memory, rights::WRITE)?;
    let a = access(acc, c.rights)?;
    global::with(|ctx| vspace::map(ctx, v, p, vaddr, a, m))?;
    Ok(one(0))
}

/// `page_unmap`.
pub fn page_unmap(task: &TaskObj, pg: u64) -> Result<Results, Error> {
    let (p, _) = caps::need_object(task, pg, Kind::Page, rights::READ)?;
    if page::mapping(p).is_none() {
        return Err(Error::InvalidState);
    }
    vspace::unmap(p);
    Ok(one(0))
}

/// `page_protect`.
pub fn page_protect(task: &TaskObj, pg: u64, acc: u64) -> Result<Results, Error> {
    let (p, c) = caps::need_object(task, pg, Kind::Page, rights::READ)?;
    let a = access(acc, c.rights)?;
    vspace::protect(p, a)?;
    Ok(one(0))
}

/// `page_info`.
pub fn page_info(task: &TaskObj, pg: u64) -> Result<Results, Error> {
    let (p, _) = caps::need_object(task, pg, Kind::Page, rights::READ)?;
    let (phys, count) = page::frames(p);
    let vaddr = page::mapping(p).map_or(0, |(_, a)| a);
    Ok([phys, count, vaddr, 0, 0, 0])
}
