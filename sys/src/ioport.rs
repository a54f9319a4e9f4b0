//! I/O ports: the `ioport_create`, `ioport_in` and `ioport_out` syscalls, and the typed handles
//! [`IoPortControl`] and [`IoPort`] over them.
//!
//! The IoPortControl capability (the root task's is [`root::ioport_control`](crate::root::ioport_control))
//! makes IoPorts: each names a range of ports `[min, max)`, fixed when it is made, that its
//! holder reads (READ) and writes (WRITE) 1, 2 or 4 bytes at a time. The kernel refuses ranges
//! that touch the ports it drives itself ([`KERNEL_PORTS`](abi::ioport::KERNEL_PORTS)) and any
//! access that does not lie wholly inside the range; see [`abi::ioport`].
//!
//! These calls are safe: the kernel checks every argument, and touches no memory of the caller;
//! an IoPort or IoPortControl dies without unmapping anything, so the handles' `delete` and
//! `revoke` (which check the kind first) are safe too. What a port access does to a device, and
//! what the device may then do, such as DMA into any memory, is outside what `sys` can check:
//! the trust is placed when an IoPort on such a device is made and handed to a program (see
//! [`safety`](crate::safety#outside-the-model)).

use crate::cap::{checked_delete, checked_revoke, handle};
use core::ops::Deref;

use abi::object::Kind;

use abi::syscall::{ARG_REGS, Sysno};

use crate::cap::{Cap, Memory, Slot};
use crate::error::{Error, Result};
use crate::syscall::syscall;

/// Makes an I/O port syscall and returns its result registers.
fn call(number: Sysno, args: [usize; ARG_REGS]) -> Result<[usize; ARG_REGS]> {
    // SAFETY: the I/O port syscalls neither read nor write the caller's memory nor change its
    // mappings, whatever their arguments, so `syscall`'s memory contract holds.
    let (rax, out) = unsafe { syscall(number as usize, args) };
    Error::check(rax)?;
    Ok(out)
}

/// `ioport_create(control, min, max, memory, dst_slot) -> slot`: makes an IoPort for the ports
/// `[min, max)` in `dst_slot` (or [`SLOT_AUTO`](abi::syscall::SLOT_AUTO)) of the caller's
/// CSpace, charged [`IOPORT_PAGES`](abi::ioport::IOPORT_PAGES) to `memory`. See
/// [`Sysno::IoPortCreate`] for the errors, and [`IoPortControl::create`] for the typed form.
pub fn ioport_create(control: usize, min: usize, max: usize, memory: usize, dst_slot: usize) -> Result<usize> {
    Ok(call(Sysno::IoPortCreate, [control, min, max, memory, dst_slot, 0])?[0])
}

/// `ioport_in(ioport, port, width) -> value`: reads `width` bytes (1, 2 or 4) at `port`. See
/// [`Sysno::IoPortIn`].
pub fn ioport_in(ioport: usize, port: usize, width: usize) -> Result<usize> {
    Ok(call(Sysno::IoPortIn, [ioport, port, width, 0, 0, 0])?[0])
}

/// `ioport_out(ioport, port, width, value)`: writes the `width` bytes (1, 2 or 4) of `value` at
/// `port`; `value` must fit in them. See [`Sysno::IoPortOut`].
pub fn ioport_out(ioport: usize, port: usize, width: usize, value: usize) -> Result<()> {
    call(Sysno::IoPortOut, [ioport, port, width, value, 0, 0]).map(drop)
}

handle!(
    /// An IoPortControl capability: the right to make [`IoPort`]s.
    IoPortControl,
    "an IoPortControl"
);

handle!(
    /// An IoPort capability: a range of I/O ports `[min, max)` to read (READ) and write (WRITE).
    IoPort,
    "an IoPort"
);

checked_delete!(IoPortControl, Kind::IoPortControl, "an IoPortControl");
checked_revoke!(IoPortControl, Kind::IoPortControl, "an IoPortControl");
checked_delete!(IoPort, Kind::IoPort, "an IoPort");
checked_revoke!(IoPort, Kind::IoPort, "an IoPort");

impl IoPortControl {
    /// Makes an IoPort for the ports `[min, max)` in `dst` of the caller's CSpace, charged
    /// [`IOPORT_PAGES`](abi::ioport::IOPORT_PAGES) to `memory` (which needs WRITE). Needs WRITE.
    ///
    /// The range must satisfy `min < max <= `[`PORT_LIMIT`](abi::ioport::PORT_LIMIT) and share no
    /// port with [`KERNEL_PORTS`](abi::ioport::KERNEL_PORTS), else
    /// [`InvalidArgument`](abi::Error::InvalidArgument).
    pub fn create(self, min: usize, max: usize, memory: Memory, dst: Slot) -> Result<IoPort> {
        ioport_create(self.slot(), min, max, memory.slot(), dst.raw()).map(IoPort::at)
    }

    /// Hands COM1 over (`console_release`): the kernel stops writing its log and the debug writes
    /// to COM1, which from now on go only into the log ring
    /// ([`DebugConsole::read_log`](crate::cap::DebugConsole::read_log)), and IoPorts may be made
    /// on COM1's ports ([`CONSOLE_PORTS`](abi::ioport::CONSOLE_PORTS)). Whoever calls it drains
    /// the log to COM1 from then on. Once only (`InvalidState` after). Needs WRITE.
    ///
    /// ```no_run
    /// use sys::abi::ioport::CONSOLE_PORTS;
    /// # fn demo() -> sys::Result<()> {
    /// let control = sys::root::ioport_control();
    /// let note = sys::Note::create(sys::root::memory(), sys::Slot::Auto)?;
    /// control.set_log_note(Some(note), 1)?; // woken when the log grows
    /// control.release_console()?;
    /// let com1 = control.create(CONSOLE_PORTS.0, CONSOLE_PORTS.1, sys::root::memory(), sys::Slot::Auto)?;
    /// // ... wait on `note`, `read_log` what is new and write it out through `com1` ...
    /// # let _ = com1;
    /// # Ok(())
    /// # }
    /// ```
    pub fn release_console(self) -> Result<()> {
        call(Sysno::ConsoleRelease, [self.slot(), 0, 0, 0, 0, 0]).map(drop)
    }

    /// From now on, signals `bits` (and the Note capability's badge) on `note` whenever bytes are
    /// added to the kernel log (`log_set_note`); `None` stops it. The kernel holds its own
    /// reference to the Note. Needs WRITE here and on the Note; `bits` must not be 0
    /// (`InvalidArgument`).
    pub fn set_log_note(self, note: Option<crate::notify::Note>, bits: usize) -> Result<()> {
        call(Sysno::LogSetNote, [self.slot(), note.map_or(0, |n| n.slot()), bits, 0, 0, 0]).map(drop)
    }
}

impl IoPort {
    /// Reads the byte at `port`. Needs READ; `port` must be in the range
    /// ([`InvalidArgument`](abi::Error::InvalidArgument)).
    pub fn read8(self, port: usize) -> Result<u8> {
        ioport_in(self.slot(), port, 1).map(|v| v as u8)
    }

    /// Reads the 16-bit word at `port` (`port` and `port + 1` in the range). Needs READ.
    pub fn read16(self, port: usize) -> Result<u16> {
        ioport_in(self.slot(), port, 2).map(|v| v as u16)
    }

    /// Reads the 32-bit doubleword at `port` (`port` to `port + 3` in the range). Needs READ.
    pub fn read32(self, port: usize) -> Result<u32> {
        ioport_in(self.slot(), port, 4).map(|v| v as u32)
    }

    /// Writes the byte `value` at `port`. Needs WRITE; `port` must be in the range
    /// ([`InvalidArgument`](abi::Error::InvalidArgument)).
    pub fn write8(self, port: usize, value: u8) -> Result<()> {
        ioport_out(self.slot(), port, 1, value.into())
    }

    /// Writes the 16-bit word `value` at `port` (`port` and `port + 1` in the range). Needs WRITE.
    pub fn write16(self, port: usize, value: u16) -> Result<()> {
        ioport_out(self.slot(), port, 2, value.into())
    }

    /// Writes the 32-bit doubleword `value` at `port` (`port` to `port + 3` in the range). Needs
    /// WRITE.
    pub fn write32(self, port: usize, value: u32) -> Result<()> {
        ioport_out(self.slot(), port, 4, value as usize)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn handles() {
        let c = IoPortControl::at(abi::bootcaps::ROOT_IOPORT_CONTROL);
        assert_eq!(c.slot(), abi::bootcaps::ROOT_IOPORT_CONTROL);
        let p = IoPort::new(Cap::new(9));
        assert_eq!(p.cap(), Cap::new(9));
        assert_eq!(Cap::from(p), Cap::new(9));
        assert_eq!(*IoPort::at(4), Cap::new(4));
    }
}
