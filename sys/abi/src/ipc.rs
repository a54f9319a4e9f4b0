//! The IPC buffer: the page through which capabilities travel with messages.
//!
//! A task may name one page of its address space as its IPC buffer (`task_set_ipc_buffer`). When
//! it sends (or calls) through an endpoint capability with the GRANT right and its buffer's
//! `send_cap` is not 0, a copy of that capability (a child of it in the derivation tree, same
//! rights and badge) travels with the message. The receiver says in its own buffer where an
//! incoming capability may go (`recv_slot`: 0 refuses, `SLOT_AUTO` takes the lowest free slot);
//! the kernel writes where it landed in `received_slot` (0 if none came or it could not be
//! placed; the message is delivered either way). The kernel reads and writes the buffer through
//! the page tables at each transfer: the sender's must be readable and the receiver's writable,
//! or nothing is transferred.

/// The start of a task's IPC buffer page.
#[repr(C)]
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq)]
pub struct IpcBuffer {
    /// Sender: the capability address to transfer with the next send or call (0: none).
    pub send_cap: u64,
    /// Receiver: where an incoming capability goes (0: refuse it; `SLOT_AUTO`: any free slot).
    pub recv_slot: u64,
    /// Receiver: where the last message's capability landed (0: none). Written by the kernel.
    pub received_slot: u64,
}

/// Bytes of [`IpcBuffer`] the kernel reads and writes.
pub const IPC_BUFFER_BYTES: usize = core::mem::size_of::<IpcBuffer>();
