//! The root task's initial capabilities, as typed handles.
//!
//! These are the slots the kernel fills in the *root task's* CSpace ([`abi::bootcaps`]). Another
//! task's CSpace holds whatever its starter put there; these handles mean nothing to it.

use abi::bootcaps;

use crate::cap::{CSpace, DebugConsole, Memory};
use crate::ioport::IoPortControl;

/// The root task's own CSpace, with all rights ([`bootcaps::ROOT_CSPACE`]).
///
/// ```no_run
/// use sys::{Slot, root, rights};
///
/// # fn demo(client: sys::CSpace) -> sys::Result<()> {
/// // Copies go into the root task's own CSpace when it names itself.
/// let console = root::console().copy(root::cspace(), Slot::Auto, rights::WRITE)?;
/// # Ok(())
/// # }
/// ```
pub const fn cspace() -> CSpace {
    CSpace::at(bootcaps::ROOT_CSPACE)
}

/// The Memory holding every page free when the root task started, with all rights
/// ([`bootcaps::ROOT_MEMORY`]).
///
/// ```no_run
/// use sys::{Slot, root};
///
/// # fn demo() -> sys::Result<()> {
/// let info = root::memory().info()?;
/// sys::println!("{} pages free", info.free());
/// // Each driver gets a share of its own.
/// let for_driver = root::memory().split(1024, Slot::Auto)?;
/// # Ok(())
/// # }
/// ```
pub const fn memory() -> Memory {
    Memory::at(bootcaps::ROOT_MEMORY)
}

/// The debug console, with READ (the kernel log) and WRITE ([`bootcaps::ROOT_DEBUG_CONSOLE`]).
///
/// ```no_run
/// # fn demo() -> sys::Result<()> {
/// sys::root::console().write(b"init: up\n")?;
/// # Ok(())
/// # }
/// ```
pub const fn console() -> DebugConsole {
    DebugConsole::at(bootcaps::ROOT_DEBUG_CONSOLE)
}

/// The right to make I/O port ranges, with all rights ([`bootcaps::ROOT_IOPORT_CONTROL`]).
///
/// ```no_run
/// use sys::{Slot, root};
///
/// # fn demo() -> sys::Result<()> {
/// // The PS/2 controller's data and command ports, for the keyboard driver.
/// let data = root::ioport_control().create(0x60, 0x61, root::memory(), Slot::Auto)?;
/// let command = root::ioport_control().create(0x64, 0x65, root::memory(), Slot::Auto)?;
/// # Ok(())
/// # }
/// ```
pub const fn ioport_control() -> IoPortControl {
    IoPortControl::at(bootcaps::ROOT_IOPORT_CONTROL)
}

/// The right to make Pages over device memory, with all rights
/// ([`bootcaps::ROOT_DEVICE_CONTROL`]).
///
/// ```no_run
/// # fn demo() -> sys::Result<()> {
/// let vga = sys::root::device_control().create_page(0xa0000, 32, sys::root::memory(), sys::Slot::Auto)?;
/// # let _ = vga;
/// # Ok(())
/// # }
/// ```
pub const fn device_control() -> crate::vspace::DeviceControl {
    crate::vspace::DeviceControl::at(bootcaps::ROOT_DEVICE_CONTROL)
}

/// The first slot the kernel leaves empty ([`bootcaps::FIRST_FREE`]); every slot from it to the
/// end of the CSpace is empty when the root task starts, and [`Slot::Auto`](crate::Slot::Auto)
/// never picks a slot below it.
pub const FIRST_FREE: usize = bootcaps::FIRST_FREE;

/// Slots in the root task's CSpace: `2^`[`ROOT_CSPACE_RADIX`](bootcaps::ROOT_CSPACE_RADIX).
pub const SLOTS: usize = 1 << bootcaps::ROOT_CSPACE_RADIX;
