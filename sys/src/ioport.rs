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
///
/// ```no_run
/// use sys::abi::bootcaps::{ROOT_IOPORT_CONTROL, ROOT_MEMORY};
/// use sys::abi::syscall::SLOT_AUTO;
///
/// # fn demo() -> sys::Result<()> {
/// // In the root task: COM2's eight ports.
/// let com2 = sys::ioport::ioport_create(ROOT_IOPORT_CONTROL, 0x2f8, 0x300, ROOT_MEMORY, SLOT_AUTO)?;
/// # Ok(())
/// # }
/// ```
pub fn ioport_create(control: usize, min: usize, max: usize, memory: usize, dst_slot: usize) -> Result<usize> {
    Ok(call(Sysno::IoPortCreate, [control, min, max, memory, dst_slot, 0])?[0])
}

/// `ioport_in(ioport, port, width) -> value`: reads `width` bytes (1, 2 or 4) at `port`. See
/// [`Sysno::IoPortIn`].
///
/// ```no_run
/// # fn demo(com2: sys::IoPort) -> sys::Result<()> {
/// // The line status register, one byte.
/// let lsr = sys::ioport::ioport_in(com2.slot(), 0x2fd, 1)?;
/// # Ok(())
/// # }
/// ```
pub fn ioport_in(ioport: usize, port: usize, width: usize) -> Result<usize> {
    Ok(call(Sysno::IoPortIn, [ioport, port, width, 0, 0, 0])?[0])
}

/// `ioport_out(ioport, port, width, value)`: writes the `width` bytes (1, 2 or 4) of `value` at
/// `port`; `value` must fit in them. See [`Sysno::IoPortOut`].
///
/// ```no_run
/// # fn demo(com2: sys::IoPort) -> sys::Result<()> {
/// sys::ioport::ioport_out(com2.slot(), 0x2f8, 1, usize::from(b'A'))?;
/// # Ok(())
/// # }
/// ```
pub fn ioport_out(ioport: usize, port: usize, width: usize, value: usize) -> Result<()> {
    call(Sysno::IoPortOut, [ioport, port, width, value, 0, 0]).map(drop)
}

handle!(
    /// An IoPortControl capability: the right to make [`IoPort`]s.
    ///
    /// ```no_run
    /// use sys::{IoPortControl, Slot, root};
    ///
    /// # fn demo() -> sys::Result<()> {
    /// // The root task's, from which it makes each driver's ports.
    /// let control: IoPortControl = root::ioport_control();
    /// let rtc = control.create(0x70, 0x72, root::memory(), Slot::Auto)?;
    /// # Ok(())
    /// # }
    /// ```
    IoPortControl,
    "an IoPortControl"
);

handle!(
    /// An IoPort capability: a range of I/O ports `[min, max)` to read (READ) and write (WRITE).
    ///
    /// ```no_run
    /// use sys::IoPort;
    ///
    /// /// Reads a CMOS register through the RTC's ports 0x70 and 0x71.
    /// fn cmos(rtc: IoPort, register: u8) -> sys::Result<u8> {
    ///     rtc.write8(0x70, register)?;
    ///     rtc.read8(0x71)
    /// }
    ///
    /// # fn demo(boot: &sys::Boot) -> sys::Result<()> {
    /// // A driver is given its ports in its start page.
    /// let rtc = IoPort::new(boot.cap("rtc").expect("the manifest grants `rtc`"));
    /// let seconds = cmos(rtc, 0x00)?;
    /// # Ok(())
    /// # }
    /// ```
    IoPort,
    "an IoPort"
);

checked_delete!(
    IoPortControl,
    Kind::IoPortControl,
    "an IoPortControl",
    "control",
    "let control = sys::root::ioport_control();"
);
checked_revoke!(
    IoPortControl,
    Kind::IoPortControl,
    "an IoPortControl",
    "control",
    "let control = sys::root::ioport_control();"
);
checked_delete!(
    IoPort,
    Kind::IoPort,
    "an IoPort",
    "com2",
    "let com2 = sys::root::ioport_control().create(0x2f8, 0x300, sys::root::memory(), sys::Slot::Auto)?;"
);
checked_revoke!(
    IoPort,
    Kind::IoPort,
    "an IoPort",
    "com2",
    "let com2 = sys::root::ioport_control().create(0x2f8, 0x300, sys::root::memory(), sys::Slot::Auto)?;"
);

impl IoPortControl {
    /// Makes an IoPort for the ports `[min, max)` in `dst` of the caller's CSpace, charged
    /// [`IOPORT_PAGES`](abi::ioport::IOPORT_PAGES) to `memory` (which needs WRITE). Needs WRITE.
    ///
    /// The range must satisfy `min < max <= `[`PORT_LIMIT`](abi::ioport::PORT_LIMIT) and share no
    /// port with [`KERNEL_PORTS`](abi::ioport::KERNEL_PORTS), else
    /// [`InvalidArgument`](abi::Error::InvalidArgument).
    ///
    /// ```no_run
    /// use sys::abi::Error::InvalidArgument;
    /// use sys::{Slot, root};
    ///
    /// # fn demo() -> sys::Result<()> {
    /// let control = root::ioport_control();
    /// // PCI configuration space: the address and the data port.
    /// let pci = control.create(0xcf8, 0xd00, root::memory(), Slot::Auto)?;
    /// // The kernel's own ports (COM1 among them) are refused.
    /// assert_eq!(control.create(0x3f8, 0x400, root::memory(), Slot::Auto), Err(InvalidArgument.into()));
    /// # Ok(())
    /// # }
    /// ```
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

    /// Powers the machine off (ACPI sleep state S5: QEMU exits). Returns only if it could not:
    /// `InvalidState` when the ACPI tables give no way, or the machine stayed on. Needs WRITE.
    ///
    /// ```no_run
    /// # fn demo() -> sys::Result<()> {
    /// sys::println!("bye");
    /// sys::root::ioport_control().power_off()?;
    /// # Ok(())
    /// # }
    /// ```
    pub fn power_off(self) -> Result<()> {
        call(Sysno::PowerOff, [self.slot(), 0, 0, 0, 0, 0]).map(drop)
    }

    /// From now on, signals `bits` (and the Note capability's badge) on `note` whenever bytes are
    /// added to the kernel log (`log_set_note`); `None` stops it. The kernel holds its own
    /// reference to the Note. Needs WRITE here and on the Note; `bits` must not be 0
    /// (`InvalidArgument`).
    ///
    /// ```no_run
    /// # fn demo() -> sys::Result<()> {
    /// let note = sys::Note::create(sys::root::memory(), sys::Slot::Auto)?;
    /// sys::root::ioport_control().set_log_note(Some(note), 1)?;
    /// note.wait()?; // the kernel log has grown
    /// # Ok(())
    /// # }
    /// ```
    pub fn set_log_note(self, note: Option<crate::notify::Note>, bits: usize) -> Result<()> {
        call(Sysno::LogSetNote, [self.slot(), note.map_or(0, |n| n.slot()), bits, 0, 0, 0]).map(drop)
    }
}

impl IoPort {
    /// Reads the byte at `port`. Needs READ; `port` must be in the range
    /// ([`InvalidArgument`](abi::Error::InvalidArgument)).
    ///
    /// ```no_run
    /// # fn demo(com2: sys::IoPort) -> sys::Result<()> {
    /// // Line status bit 0: a byte is waiting.
    /// if com2.read8(0x2fd)? & 1 != 0 {
    ///     let byte = com2.read8(0x2f8)?;
    ///     sys::println!("received {byte:#04x}");
    /// }
    /// # Ok(())
    /// # }
    /// ```
    pub fn read8(self, port: usize) -> Result<u8> {
        ioport_in(self.slot(), port, 1).map(|v| v as u8)
    }

    /// Reads the 16-bit word at `port` (`port` and `port + 1` in the range). Needs READ.
    ///
    /// ```no_run
    /// # fn demo(pci: sys::IoPort) -> sys::Result<()> {
    /// // The vendor id of bus 0, device 0, function 0.
    /// pci.write32(0xcf8, 0x8000_0000)?;
    /// let vendor = pci.read16(0xcfc)?;
    /// if vendor != 0xffff {
    ///     sys::println!("vendor {vendor:#06x}");
    /// }
    /// # Ok(())
    /// # }
    /// ```
    pub fn read16(self, port: usize) -> Result<u16> {
        ioport_in(self.slot(), port, 2).map(|v| v as u16)
    }

    /// Reads the 32-bit doubleword at `port` (`port` to `port + 3` in the range). Needs READ.
    ///
    /// ```no_run
    /// # fn demo(pci: sys::IoPort) -> sys::Result<()> {
    /// pci.write32(0xcf8, 0x8000_0000)?;
    /// let id = pci.read32(0xcfc)?;
    /// let (vendor, device) = (id & 0xffff, id >> 16);
    /// # Ok(())
    /// # }
    /// ```
    pub fn read32(self, port: usize) -> Result<u32> {
        ioport_in(self.slot(), port, 4).map(|v| v as u32)
    }

    /// Writes the byte `value` at `port`. Needs WRITE; `port` must be in the range
    /// ([`InvalidArgument`](abi::Error::InvalidArgument)).
    ///
    /// ```no_run
    /// # fn demo(com2: sys::IoPort) -> sys::Result<()> {
    /// for &byte in b"hello\r\n" {
    ///     // Wait for the transmit holding register to empty (line status bit 5).
    ///     while com2.read8(0x2fd)? & 0x20 == 0 {}
    ///     com2.write8(0x2f8, byte)?;
    /// }
    /// # Ok(())
    /// # }
    /// ```
    pub fn write8(self, port: usize, value: u8) -> Result<()> {
        ioport_out(self.slot(), port, 1, value.into())
    }

    /// Writes the 16-bit word `value` at `port` (`port` and `port + 1` in the range). Needs WRITE.
    ///
    /// ```no_run
    /// # fn demo(pci: sys::IoPort) -> sys::Result<()> {
    /// // The command register (offset 4) of bus 0, device 3: enable I/O and memory decoding.
    /// pci.write32(0xcf8, 0x8000_0000 | 3 << 11 | 0x04)?;
    /// pci.write16(0xcfc, 0b11)?;
    /// # Ok(())
    /// # }
    /// ```
    pub fn write16(self, port: usize, value: u16) -> Result<()> {
        ioport_out(self.slot(), port, 2, value.into())
    }

    /// Writes the 32-bit doubleword `value` at `port` (`port` to `port + 3` in the range). Needs
    /// WRITE.
    ///
    /// ```no_run
    /// # fn demo(pci: sys::IoPort) -> sys::Result<()> {
    /// /// The configuration address of a register of a PCI function.
    /// fn address(bus: u32, device: u32, function: u32, offset: u32) -> u32 {
    ///     0x8000_0000 | bus << 16 | device << 11 | function << 8 | (offset & 0xfc)
    /// }
    /// pci.write32(0xcf8, address(0, 3, 0, 0x10))?;
    /// let bar0 = pci.read32(0xcfc)?;
    /// # Ok(())
    /// # }
    /// ```
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
