//! The root task's initial capabilities: which slot of its CSpace holds what.
//!
//! The root task's CSpace has `2^ROOT_CSPACE_RADIX` slots. Slot 0 is the null slot, as in every
//! CSpace (a capability address of 0 is always invalid, which catches uninitialised handles).
//! Slots from [`FIRST_FREE`] on are empty; `SLOT_AUTO` never picks a slot below it, though an
//! empty one may be named explicitly.

/// Radix of the root task's CSpace.
pub const ROOT_CSPACE_RADIX: usize = 12;

/// The root task's own CSpace (all rights).
pub const ROOT_CSPACE: usize = 1;
/// Memory holding every page free when the root task started (all rights). Its own page is not
/// charged to it.
pub const ROOT_MEMORY: usize = 2;
/// The debug console (READ and WRITE).
pub const ROOT_DEBUG_CONSOLE: usize = 3;
/// The right to make IRQ handlers (all rights).
pub const ROOT_IRQ_CONTROL: usize = 4;
/// The right to make I/O port ranges (all rights).
pub const ROOT_IOPORT_CONTROL: usize = 5;
/// The root task itself (all rights).
pub const ROOT_TASK: usize = 6;
/// The root task's VSpace (all rights).
pub const ROOT_VSPACE: usize = 7;
/// The right to make Pages over device memory (all rights).
pub const ROOT_DEVICE_CONTROL: usize = 8;

/// The first slot the kernel leaves empty.
pub const FIRST_FREE: usize = 9;
