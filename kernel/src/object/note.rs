//! Notes: notification bits. Signalling ORs bits in; a waiter takes them all at once. A Note can
//! be bound to one task so that the task's `recv` on an endpoint also returns when the Note is
//! signalled (a server waiting for both clients and interrupts).

use core::cell::Cell;

use abi::Error;
use abi::task::State;

use super::task::get as task;
use super::waitq::{self, Queue, wake_with, wake_with_error};
use super::{Ctx, Header, Kind, ObjRef, Object, create};

#[repr(C)]
struct NoteObj {
    hdr: Header,
    bits: Cell<u64>,
    waiters: Queue,
    bound: Cell<Option<ObjRef>>,
}

// SAFETY: `repr(C)`, starts with the header, changing fields are cells, zero is valid for each.
unsafe impl Object for NoteObj {
    const KIND: Kind = Kind::Note;
}

fn obj<'a>(n: ObjRef) -> &'a NoteObj {
    n.get()
}

/// Makes a Note charged to `memory`.
pub fn create_in(ctx: &mut Ctx<'_>, memory: ObjRef) -> Result<ObjRef, Error> {
    create::<NoteObj>(ctx, Some(memory), 1, 1)
}

/// Sets `bits`; wakes a waiter, or the bound task waiting in `recv`, with every set bit.
pub fn signal(n: ObjRef, bits: u64) {
    let note = obj(n);
    note.bits.set(note.bits.get() | bits);
    if note.bits.get() == 0 {
        return;
    }
    if let Some(w) = note.waiters.pop() {
        wake_with(w, [note.bits.take(), 0, 0, 0, 0, 0]);
        return;
    }
    if let Some(t) = note.bound.get()
        && task(t).state.get() == State::BlockedRecv
    {
        // It waits in an endpoint's receive queue: out of it, with the bits instead of a message.
        waitq::leave(t);
        wake_with(t, [abi::syscall::NOTE_BADGE as u64, note.bits.take(), 0, 0, 0, 0]);
    }
}

/// The fast path of `note_signal` (`uapi` decodes it): sets `bits` and wakes the first waiter
/// with every set bit, if one waits, outranks `me` (the running task, which it will preempt)
/// and has a VSpace; checked in that order, before anything changes. Returns the waiter, now
/// runnable and in no queue, for a direct switch; `None` with nothing changed otherwise (the
/// general path, [`signal`], does the rest, as it does the same for these cases).
pub fn signal_fast(me: ObjRef, n: ObjRef, bits: u64) -> Option<crate::sched::Enterable> {
    let note = obj(n);
    let w = note.waiters.head()?;
    let wt = task(w);
    if wt.priority.get() <= task(me).priority.get() {
        return None;
    }
    let next = crate::sched::enterable(w)?;
    if note.bits.get() | bits == 0 {
        return None;
    }
    let all = note.bits.take() | bits;
    note.waiters.pop();
    wt.ctx.set_results([all, 0, 0, 0, 0, 0]);
    wt.state.set(State::Runnable);
    Some(next)
}

/// Whether any bit is set.
#[inline]
pub fn has_bits(n: ObjRef) -> bool {
    obj(n).bits.get() != 0
}

/// Takes the set bits, if any.
pub fn take_bits(n: ObjRef) -> Option<u64> {
    let b = obj(n).bits.take();
    (b != 0).then_some(b)
}

/// Waits on the Note for `me`: the bits if some are set, else `None` (it now waits).
pub fn wait(me: ObjRef, n: ObjRef) -> Option<u64> {
    if let Some(b) = take_bits(n) {
        return Some(b);
    }
    waitq::block(me, State::BlockedNote, n, &obj(n).waiters);
    None
}

/// Binds the Note to task `t` (`None` unbinds whatever `t` had).
pub fn bind(n: Option<ObjRef>, t: ObjRef) -> Result<(), Error> {
    if let Some(n) = n
        && obj(n).bound.get().is_some_and(|b| b != t)
    {
        return Err(Error::InvalidState);
    }
    if let Some(old) = task(t).bound_note.take() {
        obj(old).bound.set(None);
    }
    if let Some(n) = n {
        obj(n).bound.set(Some(t));
        task(t).bound_note.set(Some(n));
    }
    Ok(())
}

/// The bound task is going away.
pub fn unbind(n: ObjRef) {
    obj(n).bound.set(None);
}

/// The Note is dying: its bound task forgets it (O(1)); waiters are woken by `teardown`.
pub fn on_death(n: ObjRef) {
    if let Some(t) = obj(n).bound.take() {
        task(t).bound_note.set(None);
    }
}

/// Teardown: wakes waiters with `InvalidCapability`, spending `budget`. Returns whether done.
pub(super) fn teardown(n: ObjRef, budget: &mut u32) -> bool {
    while *budget > 0 {
        let Some(t) = obj(n).waiters.pop() else { return true };
        *budget -= 1;
        wake_with_error(t, Error::InvalidCapability.code() as u64);
    }
    false
}
