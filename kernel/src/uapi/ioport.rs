//! I/O port syscalls: make an IoPort from the IoPortControl capability, and move bytes through
//! one. Every check comes before the port is touched, so a refused access does no I/O.

use abi::Error;
use abi::object::{Kind, rights};

use super::caps::{self, make, need};
use super::{Results, one};
use crate::arch::{inb, inl, inw, outb, outl, outw};
use crate::object::ioport::{self, Width};
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
    let (port, width) = ioport::access(caps::object(&c)?, port, width)?;
    // SAFETY: the caller holds an IoPort capability with READ for every port the access touches
    // (`access` checked `[port, port + width)` against its range), and no IoPort range includes a
    // port the kernel drives (checked when it was made). What the device does is the holder's
    // business; an `in` touches no memory.
    let value = unsafe {
        match width {
            Width::Byte => u64::from(inb(port)),
            Width::Word => u64::from(inw(port)),
            Width::Dword => u64::from(inl(port)),
        }
    };
    Ok(one(value))
}

/// `ioport_out(ioport, port, width, value)`.
pub fn port_out(task: &Task, cap: u64, port: u64, width: u64, value: u64) -> Result<Results, Error> {
    let (_, c) = need(task, cap, Kind::IoPort, rights::WRITE)?;
    let (port, width) = ioport::access(caps::object(&c)?, port, width)?;
    if !width.fits(value) {
        return Err(Error::InvalidArgument);
    }
    // SAFETY: as in `port_in`, with WRITE: every port written is in the caller's IoPort range,
    // which holds no port the kernel drives. The casts cannot cut: `value` fits in `width`.
    unsafe {
        match width {
            Width::Byte => outb(port, value as u8),
            Width::Word => outw(port, value as u16),
            Width::Dword => outl(port, value as u32),
        }
    }
    Ok(one(0))
}
