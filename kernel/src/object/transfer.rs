//! What travels through the IPC buffers (`abi::ipc`) when a message passes: one capability and
//! up to `MAX_EXTRA_WORDS` words beyond the registers, as much as the message's `Extra` asks
//! for. Called by `endpoint` at the moment a message (or reply) passes, and only for a message
//! whose Extra is not `NONE`: a plain message touches no buffer. Best effort by design: a
//! capability that cannot travel (no GRANT, no buffer, an empty `send_cap`, a receiver that
//! refuses or has no room) stays behind, words a receiver has no writable buffer for are
//! dropped, and the message is delivered either way; the Extra returned says what arrived.
//! Every access to a buffer goes through the translation of its page the task keeps
//! (`with_buffer`): the work is bounded by `MAX_EXTRA_WORDS` words and one page-table walk per
//! buffer whose translation no longer holds.
#![forbid(unsafe_code)]

use core::sync::atomic::{AtomicU64, Ordering};

use abi::ipc::{Extra, IpcBuffer, MAX_EXTRA_WORDS};
use abi::object::rights;

use super::ObjRef;
use super::cspace;
use super::task::get as task;
use super::vspace;

/// The fields of an IPC buffer, as indices of its words (`abi::ipc::IpcBuffer`).
const SEND_CAP: usize = core::mem::offset_of!(IpcBuffer, send_cap) / 8;
const RECV_SLOT: usize = core::mem::offset_of!(IpcBuffer, recv_slot) / 8;
const RECEIVED_SLOT: usize = core::mem::offset_of!(IpcBuffer, received_slot) / 8;
const WORDS: usize = core::mem::offset_of!(IpcBuffer, words) / 8;

// The whole buffer lies in its page, which `with_buffer` lends as 512 words.
const _: () = assert!(WORDS + MAX_EXTRA_WORDS <= 512 && core::mem::size_of::<IpcBuffer>() <= 4096);

/// Moves what `extra` asks for from `sender` to `receiver`: a copy of the sender's `send_cap`
/// into the receiver's CSpace (when `grant`), and the sender's first `extra.words` words into
/// the receiver's buffer, as far as everything allows. Returns the receiver's Extra: what
/// arrived. Kept out of line: the general IPC path calls it only for a message with an Extra.
#[inline(never)]
pub fn transfer(sender: ObjRef, receiver: ObjRef, extra: Extra, grant: bool) -> Extra {
    let cap = extra.cap && grant && try_transfer(sender, receiver).is_some();
    let words = if extra.words == 0 { 0 } else { copy_words(sender, receiver, extra.words as usize) };
    Extra { words, cap }
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

/// Copies the sender's first `n` (at most `MAX_EXTRA_WORDS`) extra words into the receiver's
/// buffer; returns how many arrived (0 if the sender has no readable buffer or the receiver no
/// writable one). Word by word from page to page: both buffers start at the start of their page,
/// so two tasks that share one buffer page copy each word onto itself, and no word is read after
/// it was written.
fn copy_words(sender: ObjRef, receiver: ObjRef, n: usize) -> u8 {
    let n = n.min(MAX_EXTRA_WORDS);
    with_buffer(sender, false, |from| {
        with_buffer(receiver, true, |to| {
            for (dst, src) in to[WORDS..WORDS + n].iter().zip(&from[WORDS..WORDS + n]) {
                dst.store(src.load(Ordering::Relaxed), Ordering::Relaxed);
            }
            n as u8
        })
    })
    .flatten()
    .unwrap_or(0)
}

/// The capability transfer: the sender's `send_cap` to the receiver's `recv_slot`, which then
/// learns where it landed in `received_slot`. `None`, with nothing changed, if anything is
/// missing. The receiver's buffer is reached once, for its `recv_slot` and its `received_slot`,
/// and held across the derivation (which maps and unmaps nothing).
fn try_transfer(sender: ObjRef, receiver: ObjRef) -> Option<u64> {
    let send_cap = with_buffer(sender, false, |w| w[SEND_CAP].load(Ordering::Relaxed)).filter(|&c| c != 0)?;
    with_buffer(receiver, true, |w| {
        let recv_slot = w[RECV_SLOT].load(Ordering::Relaxed);
        if recv_slot == 0 {
            return None;
        }
        let (src, _) = cspace::lookup(task(sender).cspace.get()?, send_cap).ok()?;
        let (dst, index) = cspace::destination(task(receiver).cspace.get()?, recv_slot).ok()?;
        cspace::derive(src, dst, rights::ALL as u8, None).ok()?;
        w[RECEIVED_SLOT].store(index, Ordering::Relaxed);
        Some(index)
    })
    .flatten()
}
