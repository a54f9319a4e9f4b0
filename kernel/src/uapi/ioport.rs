//! I/O port syscalls: make an IoPort from the IoPortControl capability, and move bytes through
//! one. Every check comes before the port is touched, so a refused access does no I/O.

use abi::Error;
use abi::object::{Kind, rights};

use super::caps::{self, make, need};
use super::{Results, one};
use crate::object::ioport;
use crate::object::task::TaskObj as Task;

/// `ioport_create(control, min, max, memory, dst_slot)`: the IoPortControl capability (WRITE)
/// first, then as every object creation (the Memory capability, the range, the slot, the depth,
/// the quota).
pub fn create(task: &Task, control: u64, min: u64, max: u64, mem: u64, dst_slot: u64) -> Result<Results, Error> {
    need(task, control, Kind::IoPortControl, rights::WRITE)?;
    let ok = ioport::range_allowed(min, max);
    make(task, mem, dst_slot, Kind::IoPort, ok, |ctx, m| ioport::create_in(ctx, m, min, max))
}

/// `ioport_in(ioport, port, width) -> value`.
pub fn port_in(task: &Task, cap: u64, port: u64, width: u64) -> Result<Results, Error> {
    let (_, c) = need(task, cap, Kind::IoPort, rights::READ)?;
    Ok(one(ioport::read(caps::object(&c)?, port, width)?))
}

/// `ioport_out(ioport, port, width, value)`.
pub fn port_out(task: &Task, cap: u64, port: u64, width: u64, value: u64) -> Result<Results, Error> {
    let (_, c) = need(task, cap, Kind::IoPort, rights::WRITE)?;
    ioport::write(caps::object(&c)?, port, width, value)?;
    Ok(one(0))
}
