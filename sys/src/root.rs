//! The root task's initial capabilities, as typed handles.
//!
//! These are the slots the kernel fills in the *root task's* CSpace ([`abi::bootcaps`]). Another
//! task's CSpace holds whatever its starter put there; these handles mean nothing to it.

use abi::bootcaps;

use crate::cap::{CSpace, DebugConsole, Memory};
use crate::ioport::IoPortControl;

/// The root task's own CSpace, with all rights ([`bootcaps::ROOT_CSPACE`]).
pub const fn cspace() -> CSpace {
    CSpace::at(bootcaps::ROOT_CSPACE)
}

/// The Memory holding every page free when the root task started, with all rights
/// ([`bootcaps::ROOT_MEMORY`]).
pub const fn memory() -> Memory {
    Memory::at(bootcaps::ROOT_MEMORY)
}

/// The debug console, with READ (the kernel log) and WRITE ([`bootcaps::ROOT_DEBUG_CONSOLE`]).
pub const fn console() -> DebugConsole {
    DebugConsole::at(bootcaps::ROOT_DEBUG_CONSOLE)
}

/// The right to make I/O port ranges, with all rights ([`bootcaps::ROOT_IOPORT_CONTROL`]).
pub const fn ioport_control() -> IoPortControl {
    IoPortControl::at(bootcaps::ROOT_IOPORT_CONTROL)
}

/// The first slot the kernel leaves empty ([`bootcaps::FIRST_FREE`]); every slot from it to the
/// end of the CSpace is empty when the root task starts, and [`Slot::Auto`](crate::Slot::Auto)
/// never picks a slot below it.
pub const FIRST_FREE: usize = bootcaps::FIRST_FREE;

/// Slots in the root task's CSpace: `2^`[`ROOT_CSPACE_RADIX`](bootcaps::ROOT_CSPACE_RADIX).
pub const SLOTS: usize = 1 << bootcaps::ROOT_CSPACE_RADIX;
