//! The IPC buffer: the page through which capabilities, and words beyond the five in registers,
//! travel with messages.
//!
//! Words: with each send, call or reply, the first `send_len` of the sender's `words` (at most
//! [`MAX_EXTRA_WORDS`]) are copied into the receiver's `words`, and `recv_len` says how many came
//! (0 for a message without them), when the receiver's buffer is writable; else they are dropped.
//! Fault messages carry none.
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
///
/// ```
/// use abi::ipc::{IPC_BUFFER_BYTES, IpcBuffer, MAX_EXTRA_WORDS};
/// use abi::syscall::SLOT_AUTO;
///
/// // A receiver that takes a capability anywhere, and a sender's two extra words.
/// let receiver = IpcBuffer { recv_slot: SLOT_AUTO as u64, ..IpcBuffer::EMPTY };
/// let mut sender = IpcBuffer { send_cap: 12, send_len: 2, ..IpcBuffer::EMPTY };
/// sender.words[..2].copy_from_slice(&[7, 8]);
/// assert_eq!(receiver.recv_slot, u64::MAX);
/// // The header the kernel reads before the words, and the words it may copy.
/// assert_eq!(IPC_BUFFER_BYTES, 40);
/// assert_eq!(core::mem::size_of::<IpcBuffer>(), IPC_BUFFER_BYTES + MAX_EXTRA_WORDS * 8);
/// ```
#[repr(C)]
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct IpcBuffer {
    /// Sender: the capability address to transfer with each send, call or reply (0: none).
    pub send_cap: u64,
    /// Receiver: where an incoming capability goes (0: refuse it; `SLOT_AUTO`: any free slot).
    pub recv_slot: u64,
    /// Receiver: where the last message's capability landed (0: none). Written by the kernel.
    pub received_slot: u64,
    /// Sender: how many of `words` go with each send, call or reply, beyond the five in
    /// registers (at most [`MAX_EXTRA_WORDS`]; more is taken as the maximum).
    pub send_len: u64,
    /// Receiver: how many extra words the last message brought into `words`. Written by the
    /// kernel.
    pub recv_len: u64,
    /// The extra words: read from the sender's buffer, written into the receiver's.
    pub words: [u64; MAX_EXTRA_WORDS],
}

/// Most words a message carries beyond the five in registers.
pub const MAX_EXTRA_WORDS: usize = 64;

/// Bytes of the header of [`IpcBuffer`] (everything before `words`).
pub const IPC_BUFFER_BYTES: usize = core::mem::offset_of!(IpcBuffer, words);

impl IpcBuffer {
    /// An empty buffer: nothing to send, nothing accepted.
    pub const EMPTY: IpcBuffer = IpcBuffer {
        send_cap: 0,
        recv_slot: 0,
        received_slot: 0,
        send_len: 0,
        recv_len: 0,
        words: [0; MAX_EXTRA_WORDS],
    };
}
