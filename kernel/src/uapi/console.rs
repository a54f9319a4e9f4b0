//! Console syscalls: `debug_write`, and the kernel log (`log_read`, `log_set_note`) with the
//! hand-over of COM1 (`console_release`).
//!
//! The log itself, and where its bytes go, is `crate::console`'s; this module checks the
//! capabilities and the user's buffers first, then asks it. It keeps the log Note (a reference
//! the kernel holds) and signals it on the way back to user mode when bytes were added
//! ([`signal_log`], called by `run`).

use core::cell::Cell;

use abi::Error;
use abi::object::{Kind, rights};
use abi::syscall::{DEBUG_WRITE_MAX, LOG_READ_MAX};

use super::caps::{self, need};
use super::{Results, one};
use crate::console;
use crate::object::task::TaskObj as Task;
use crate::object::{self, ObjRef, global, ioport};
use crate::sync::Global;

/// The Note `log_set_note` named, and the bits to signal on it.
static LOG_NOTE: Global<Cell<Option<(ObjRef, u64)>>> = Global::new(Cell::new(None));

/// `debug_write(console, ptr, len)`: the capability is checked, then the length, then every byte
/// is checked to be mapped user-readable before the first is written; then they go to the
/// console as one unit.
pub fn debug_write(task: &Task, cap: u64, ptr: u64, len: u64) -> Result<Results, Error> {
    need(task, cap, Kind::DebugConsole, rights::WRITE)?;
    if len > DEBUG_WRITE_MAX as u64 {
        return Err(Error::InvalidArgument);
    }
    let space = object::vspace::space(task.vspace.get().ok_or(Error::InvalidState)?);
    if !space.user_bytes(ptr, len, false, |pieces| console::write_bytes(pieces)) {
        return Err(Error::BadAddress);
    }
    Ok(one(len))
}

/// `log_read(console, seq, buf, len) -> (read, next, lost)`: the capability, the length and the
/// sequence number are checked, the bytes read under the console lock into a kernel buffer, then
/// copied out; a buffer that is not writable is `BadAddress`, and nothing was consumed (the log
/// is only ever read, so the same call can be made again).
pub fn log_read(task: &Task, cap: u64, seq: u64, buf: u64, len: u64) -> Result<Results, Error> {
    need(task, cap, Kind::DebugConsole, rights::READ)?;
    if len > LOG_READ_MAX as u64 {
        return Err(Error::InvalidArgument);
    }
    let space = object::vspace::space(task.vspace.get().ok_or(Error::InvalidState)?);
    let mut bytes = [0u8; LOG_READ_MAX];
    let read = console::read(seq, &mut bytes[..len as usize]).ok_or(Error::InvalidArgument)?;
    if !space.copy_to_user(buf, &bytes[..read.len]) {
        return Err(Error::BadAddress);
    }
    Ok([read.len as u64, read.next, read.lost, 0, 0, 0])
}

/// `log_set_note(control, note, bits)`.
pub fn log_set_note(task: &Task, control: u64, note: u64, bits: u64) -> Result<Results, Error> {
    need(task, control, Kind::IoPortControl, rights::WRITE)?;
    let new = caps::signal_target(task, note, bits)?;
    if let Some((n, _)) = new {
        n.acquire();
    }
    if let Some((old, _)) = LOG_NOTE.replace(new) {
        global::with(|ctx| old.release(ctx.dead));
    }
    Ok(one(0))
}

/// `console_release(control)`.
pub fn console_release(task: &Task, control: u64) -> Result<Results, Error> {
    need(task, control, Kind::IoPortControl, rights::WRITE)?;
    if !console::release() {
        return Err(Error::InvalidState);
    }
    ioport::release_console_ports();
    crate::info!("COM1 released: the log goes on in the ring (log_read)");
    Ok(one(0))
}

/// `power_off(control)`: powers off, or answers `InvalidState`.
pub fn power_off(task: &Task, control: u64) -> Result<Results, Error> {
    need(task, control, Kind::IoPortControl, rights::WRITE)?;
    if !crate::power::available() {
        return Err(Error::InvalidState);
    }
    crate::power::off();
    Err(Error::InvalidState)
}

/// Signals the log Note if bytes were added to the log since the last look. Called on every way
/// back to user mode.
pub fn signal_log() {
    if console::take_added()
        && let Some((n, bits)) = LOG_NOTE.get()
    {
        object::note::signal(n, bits);
    }
}
