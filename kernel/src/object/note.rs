//! Notes: notification bits. Signalling ORs bits in; a waiter takes them all at once. A Note can
//! be bound to one task so that the task's `recv` on an endpoint also returns when the Note is
//! signalled (a server waiting for both clients and interrupts).

use abi::Error;
use abi::task::State;

use super::endpoint::{Queue, leave_recv, wake_with};
use super::task::{TaskObj, get};
use super::{Ctx, Header, Kind, ObjRef, create};
use crate::sched;

#[repr(C)]
struct NoteObj {
    hdr: Header,
    bits: u64,
    waiters: Queue,
    bound: Option<ObjRef>,
}

fn obj<'a>(n: ObjRef) -> &'a mut NoteObj {
    debug_assert_eq!(n.kind(), Kind::Note);
    // SAFETY: `n` is a live Note; the reference is used within one operation.
    unsafe { &mut *n.cast::<NoteObj>() }
}

fn task<'a>(t: ObjRef) -> &'a mut TaskObj {
    // SAFETY: as in `endpoint`: waiting and bound tasks are live.
    unsafe { get(t) }
}

/// Makes a Note charged to `memory`.
pub fn create_in(ctx: &mut Ctx<'_>, memory: ObjRef) -> Result<ObjRef, Error> {
    create::<NoteObj>(ctx, Kind::Note, Some(memory), 1, 1)
}

/// Sets `bits`; wakes a waiter, or the bound task waiting in `recv`, with every set bit.
pub fn signal(n: ObjRef, bits: u64) {
    let note = obj(n);
    note.bits |= bits;
    if note.bits == 0 {
        return;
    }
    if let Some(w) = note.waiters.pop() {
        let b = core::mem::take(&mut note.bits);
        wake_with(w, [b, 0, 0, 0, 0, 0]);
        return;
    }
    if let Some(t) = note.bound
        && task(t).state == State::BlockedRecv
    {
        let b = core::mem::take(&mut note.bits);
        leave_recv(t);
        super::transfer::nothing(t);
        wake_with(t, [abi::syscall::NOTE_BADGE as u64, b, 0, 0, 0, 0]);
    }
}

/// Takes the set bits, if any.
pub fn take_bits(n: ObjRef) -> Option<u64> {
    let b = core::mem::take(&mut obj(n).bits);
    (b != 0).then_some(b)
}

/// Waits on the Note for `me`: the bits if some are set, else `None` (it now waits).
pub fn wait(me: ObjRef, n: ObjRef) -> Option<u64> {
    if let Some(b) = take_bits(n) {
        return Some(b);
    }
    task(me).state = State::BlockedNote;
    sched::remove(me);
    obj(n).waiters.push(n, me);
    None
}

/// Binds the Note to task `t` (`None` unbinds whatever `t` had).
pub fn bind(n: Option<ObjRef>, t: ObjRef) -> Result<(), Error> {
    if let Some(n) = n
        && obj(n).bound.is_some_and(|b| b != t)
    {
        return Err(Error::InvalidState);
    }
    if let Some(old) = task(t).bound_note.take() {
        obj(old).bound = None;
    }
    if let Some(n) = n {
        obj(n).bound = Some(t);
        task(t).bound_note = Some(n);
    }
    Ok(())
}

/// The bound task is going away.
pub fn unbind(n: ObjRef) {
    obj(n).bound = None;
}

/// A waiting task is going away.
pub fn leave(n: ObjRef, t: ObjRef) {
    obj(n).waiters.unlink(t);
}

/// The Note is dying: its bound task forgets it (O(1)); waiters are woken by `teardown`.
pub fn on_death(n: ObjRef) {
    if let Some(t) = obj(n).bound.take() {
        task(t).bound_note = None;
    }
}

/// Teardown: wakes waiters with `InvalidCapability`, spending `budget`. Returns whether done.
pub(super) fn teardown(n: ObjRef, budget: &mut u32) -> bool {
    while *budget > 0 {
        let Some(t) = obj(n).waiters.pop() else { return true };
        *budget -= 1;
        let tk = task(t);
        tk.ctx.rax = Error::InvalidCapability.code() as u64;
        tk.state = State::Runnable;
        sched::enqueue(t);
    }
    false
}
