//! What travels through the IPC buffers (`abi::ipc`) when a message passes: one capability and
//! up to `MAX_EXTRA_WORDS` words beyond the registers. Called by `endpoint` at the moment a
//! message (or reply) passes; best effort by design: a capability that cannot travel (no GRANT,
//! no buffer, an empty `send_cap`, a receiver that refuses or has no room) stays behind, words a
//! receiver has no writable buffer for are dropped, and the message is delivered either way.
//! Every access to a buffer goes through the translation of its page the task keeps
//! (`with_buffer`): the work is bounded by `MAX_EXTRA_WORDS` words and one page-table walk per
//! buffer whose translation no longer holds.
#![forbid(unsafe_code)]

use core::sync::atomic::{AtomicU64, Ordering};

use abi::ipc::{IpcBuffer, MAX_EXTRA_WORDS};
use abi::object::rights;

use super::ObjRef;
use super::cspace;
use super::task::get as task;
use super::vspace;

/// The fields of an IPC buffer, as indices of its words (`abi::ipc::IpcBuffer`).
const SEND_CAP: usize = core::mem::offset_of!(IpcBuffer, send_cap) / 8;
const RECV_SLOT: usize = core::mem::offset_of!(IpcBuffer, recv_slot) / 8;
const RECEIVED_SLOT: usize = core::mem::offset_of!(IpcBuffer, received_slot) / 8;
const SEND_LEN: usize = core::mem::offset_of!(IpcBuffer, send_len) / 8;
const RECV_LEN: usize = core::mem::offset_of!(IpcBuffer, recv_len) / 8;
const WORDS: usize = core::mem::offset_of!(IpcBuffer, words) / 8;

// The whole buffer lies in its page, which `with_buffer` lends as 512 words.
const _: () = assert!(WORDS + MAX_EXTRA_WORDS <= 512 && core::mem::size_of::<IpcBuffer>() <= 4096);

/// Word `i` of task `t`'s IPC buffer, if it has a readable one.
fn read_word(t: ObjRef, i: usize) -> Option<u64> {
    with_buffer(t, false, |w| w[i].load(Ordering::Relaxed))
}

/// Writes the receiver's `received_slot`, if its buffer is mapped writable; whether it was.
fn write_received(t: ObjRef, slot: u64) -> bool {
    with_buffer(t, true, |w| w[RECEIVED_SLOT].store(slot, Ordering::Relaxed)).is_some()
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
        w[RECEIVED_SLOT].store(0, Ordering::Relaxed);
        w[RECV_LEN].store(0, Ordering::Relaxed);
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
    with_buffer(sender, false, |w| w[SEND_LEN].load(Ordering::Relaxed) == 0 && w[SEND_CAP].load(Ordering::Relaxed) == 0)
        .unwrap_or(true)
}

/// Copies the sender's `send_len` extra words into the receiver's buffer and sets `recv_len`
/// (none from a fault message, or from a sender without a readable buffer; nothing at all if the
/// receiver has no writable one). The words pass through a copy of the kernel's own, so that two
/// tasks sharing one buffer page never see a half-written message.
fn copy_words(sender: ObjRef, receiver: ObjRef) {
    let mut words = [0u64; MAX_EXTRA_WORDS];
    let n = if task(sender).msg_fault.get() {
        0
    } else {
        with_buffer(sender, false, |w| {
            let n = w[SEND_LEN].load(Ordering::Relaxed).min(MAX_EXTRA_WORDS as u64) as usize;
            for (dst, src) in words[..n].iter_mut().zip(&w[WORDS..]) {
                *dst = src.load(Ordering::Relaxed);
            }
            n
        })
        .unwrap_or(0)
    };
    with_buffer(receiver, true, |w| {
        for (dst, src) in w[WORDS..WORDS + n].iter().zip(&words) {
            dst.store(*src, Ordering::Relaxed);
        }
        w[RECV_LEN].store(n as u64, Ordering::Relaxed);
    });
}

fn try_transfer(sender: ObjRef, receiver: ObjRef) -> Option<u64> {
    let send_cap = read_word(sender, SEND_CAP)?;
    let recv_slot = read_word(receiver, RECV_SLOT)?;
    if send_cap == 0 || recv_slot == 0 {
        return None;
    }
    // The receiver must be able to learn where the capability lands.
    if !write_received(receiver, 0) {
        return None;
    }
    let (src, _) = cspace::lookup(task(sender).cspace.get()?, send_cap).ok()?;
    let (dst, index) = cspace::destination(task(receiver).cspace.get()?, recv_slot).ok()?;
    cspace::derive(src, dst, rights::ALL as u8, None).ok()?;
    Some(index)
}
