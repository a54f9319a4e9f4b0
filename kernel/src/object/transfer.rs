//! What travels through the IPC buffers (`abi::ipc`) when a message passes: one capability and
//! up to `MAX_EXTRA_WORDS` words beyond the registers. Called by `endpoint` at the moment a
//! message (or reply) passes; best effort by design: a capability that cannot travel (no GRANT,
//! no buffer, an empty `send_cap`, a receiver that refuses or has no room) stays behind, words a
//! receiver has no writable buffer for are dropped, and the message is delivered either way.
//! The work is bounded by `MAX_EXTRA_WORDS` words and two page-table walks per page touched.
#![forbid(unsafe_code)]

use core::sync::atomic::{AtomicU64, Ordering};

use abi::ipc::{IPC_BUFFER_BYTES, IpcBuffer, MAX_EXTRA_WORDS};
use abi::object::rights;

use super::ObjRef;
use super::cspace;
use super::task::get as task;
use super::vspace;

/// The header fields of an IPC buffer this module reads.
struct BufferHeader {
    send_cap: u64,
    recv_slot: u64,
    send_len: u64,
}

/// Reads a task's IPC buffer header, if it has a readable one.
fn read_buffer(t: ObjRef) -> Option<BufferHeader> {
    let tk = task(t);
    let buffer = tk.ipc_buffer.get();
    if buffer == 0 {
        return None;
    }
    let space = vspace::space(tk.vspace.get()?);
    let mut bytes = [0u8; IPC_BUFFER_BYTES];
    let mut at = 0;
    let ok = space.user_bytes(buffer, IPC_BUFFER_BYTES as u64, false, |pieces| {
        for p in pieces {
            bytes[at..at + p.len()].copy_from_slice(p);
            at += p.len();
        }
    });
    let word = |offset: usize| u64::from_le_bytes(bytes[offset..offset + 8].try_into().unwrap_or_default());
    ok.then(|| BufferHeader {
        send_cap: word(core::mem::offset_of!(IpcBuffer, send_cap)),
        recv_slot: word(core::mem::offset_of!(IpcBuffer, recv_slot)),
        send_len: word(core::mem::offset_of!(IpcBuffer, send_len)),
    })
}

/// Writes the receiver's `received_slot`.
fn write_received(t: ObjRef, slot: u64) {
    let tk = task(t);
    let Some(v) = tk.vspace.get() else { return };
    let buffer = tk.ipc_buffer.get();
    if buffer == 0 {
        return;
    }
    let at = buffer + core::mem::offset_of!(IpcBuffer, received_slot) as u64;
    vspace::space(v).copy_to_user(at, &slot.to_le_bytes());
}

/// Whether the receiver's `received_slot` can be written (its buffer page is user-writable).
fn write_received_ok(t: ObjRef) -> bool {
    let tk = task(t);
    let Some(v) = tk.vspace.get() else { return false };
    let buffer = tk.ipc_buffer.get();
    let at = buffer + core::mem::offset_of!(IpcBuffer, received_slot) as u64;
    buffer != 0 && vspace::space(v).copy_to_user(at, &0u64.to_le_bytes())
}

/// Moves a copy of the sender's `send_cap` into the receiver's CSpace (when `grant`), and the
/// sender's extra words into the receiver's buffer, as far as everything allows.
pub fn transfer(sender: ObjRef, receiver: ObjRef, grant: bool) {
    let landed = if grant { try_transfer(sender, receiver).unwrap_or(0) } else { 0 };
    write_received(receiver, landed);
    copy_words(sender, receiver);
}

/// A receiver got a message that brought nothing through the buffers (woken by its bound Note,
/// or by an IPC fast path, [`carries_nothing`]): its `received_slot` and `recv_len` are 0, if its
/// buffer is mapped writable, as [`transfer`] leaves them for such a message. Through the
/// receiver's kept translation of its buffer (the buffer is one page-aligned page).
///
/// Kept out of line: inlined into `note::signal` it would give every signal a stack frame for
/// its buffer writes.
#[inline(never)]
pub fn nothing(receiver: ObjRef) {
    with_buffer(receiver, true, |w| {
        w[core::mem::offset_of!(IpcBuffer, received_slot) / 8].store(0, Ordering::Relaxed);
        w[core::mem::offset_of!(IpcBuffer, recv_len) / 8].store(0, Ordering::Relaxed);
    });
}

/// Calls `f` with task `t`'s IPC buffer page as words, if it has one mapped user-accessible (and
/// writable, for `write`): through the translation the task keeps (`buffer_translation`), which
/// is made again, with one walk of the tables, whenever it no longer holds.
#[inline]
fn with_buffer<R>(t: ObjRef, write: bool, f: impl FnOnce(&[AtomicU64; 512]) -> R) -> Option<R> {
    let tk = task(t);
    let buffer = tk.ipc_buffer.get();
    if buffer == 0 {
        return None;
    }
    let space = vspace::space(tk.vspace.get()?);
    let page = match tk.buffer_translation.get().current(&space, buffer) {
        Some(page) => page,
        None => {
            let tr = space.translate_user_page(buffer)?;
            tk.buffer_translation.set(tr);
            tr.current(&space, buffer)?
        }
    };
    page.with_words(write, f)
}

/// Whether a message (or reply) from `sender` would bring nothing through the buffers whatever
/// the receiver's buffer says: the sender has no IPC buffer, or none mapped readable, or its
/// `send_len` is 0 and its `send_cap` 0. (A `send_cap` could travel only with GRANT, but the fast
/// paths do not look at rights: they leave such messages to [`transfer`].) The IPC fast paths
/// take only such messages, and then only have to call [`nothing`] for the receiver. Through the
/// sender's kept translation of its buffer (one walk of the tables if it no longer holds), and
/// nothing changes but that.
#[inline]
pub fn carries_nothing(sender: ObjRef) -> bool {
    with_buffer(sender, false, |w| {
        w[core::mem::offset_of!(IpcBuffer, send_len) / 8].load(Ordering::Relaxed) == 0
            && w[core::mem::offset_of!(IpcBuffer, send_cap) / 8].load(Ordering::Relaxed) == 0
    })
    .unwrap_or(true)
}

/// Copies the sender's `send_len` extra words into the receiver's buffer and sets `recv_len`.
fn copy_words(sender: ObjRef, receiver: ObjRef) {
    let rt = task(receiver);
    let (Some(rv), rbuf) = (rt.vspace.get(), rt.ipc_buffer.get()) else { return };
    if rbuf == 0 {
        return;
    }
    let len_at = rbuf + core::mem::offset_of!(IpcBuffer, recv_len) as u64;
    let words_at = core::mem::offset_of!(IpcBuffer, words) as u64;
    let n = if task(sender).msg_fault.get() {
        0
    } else {
        read_buffer(sender).map_or(0, |b| b.send_len.min(MAX_EXTRA_WORDS as u64))
    };
    let mut words = [0u8; MAX_EXTRA_WORDS * 8];
    let bytes = &mut words[..(n * 8) as usize];
    let st = task(sender);
    let read = n == 0
        || st.vspace.get().is_some_and(|sv| {
            let mut at = 0;
            vspace::space(sv).user_bytes(st.ipc_buffer.get() + words_at, n * 8, false, |pieces| {
                for p in pieces {
                    bytes[at..at + p.len()].copy_from_slice(p);
                    at += p.len();
                }
            })
        });
    let n = if read { n } else { 0 };
    let space = vspace::space(rv);
    if space.copy_to_user(rbuf + words_at, &words[..(n * 8) as usize]) {
        space.copy_to_user(len_at, &n.to_le_bytes());
    }
}

fn try_transfer(sender: ObjRef, receiver: ObjRef) -> Option<u64> {
    let send_cap = read_buffer(sender)?.send_cap;
    let recv_slot = read_buffer(receiver)?.recv_slot;
    if send_cap == 0 || recv_slot == 0 {
        return None;
    }
    // The receiver must be able to learn where the capability lands.
    if !write_received_ok(receiver) {
        return None;
    }
    let (src, _) = cspace::lookup(task(sender).cspace.get()?, send_cap).ok()?;
    let (dst, index) = cspace::destination(task(receiver).cspace.get()?, recv_slot).ok()?;
    cspace::derive(src, dst, rights::ALL as u8, None).ok()?;
    Some(index)
}
