//! Endpoints: synchronous IPC. A sender and a receiver meet; five words and a badge pass; a
//! `call` leaves the receiver holding the caller's one-shot reply right.
//!
//! Tasks waiting on an endpoint sit in one of its two wait queues (senders, receivers); every
//! operation is O(1). A blocked sender keeps its message in its task (`msg`), so the kernel can
//! also send on a task's behalf (fault messages). When an endpoint dies, the tasks still queued on
//! it are woken, a bounded number per reaper step, with `InvalidCapability`.

use abi::Error;
use abi::ipc::Extra;
use abi::task::State;

use super::task::get as task;
use super::transfer;
use super::waitq::{Queue, block, hand_over, wake_with, wake_with_error};
use super::{Ctx, Header, Kind, ObjRef, Object, create};
use crate::sched::{self, Enterable};

#[repr(C)]
struct EndpointObj {
    hdr: Header,
    senders: Queue,
    receivers: Queue,
}

// SAFETY: `repr(C)`, starts with the header; the queues are cells, empty when zero.
unsafe impl Object for EndpointObj {
    const KIND: Kind = Kind::Endpoint;
}

fn obj<'a>(e: ObjRef) -> &'a EndpointObj {
    e.get()
}

/// Makes an Endpoint charged to `memory`.
pub fn create_in(ctx: &mut Ctx<'_>, memory: ObjRef) -> Result<ObjRef, Error> {
    create::<EndpointObj>(ctx, Some(memory), 1, 1)
}

/// `caller` (whose message was just taken) now waits for `receiver`'s reply.
fn await_reply(caller: ObjRef, receiver: ObjRef) {
    if let Some(old) = task(receiver).reply_to.replace(Some(caller)) {
        // A new call replaces an unanswered one, whose caller will never be answered.
        abandon(old);
    }
    let c = task(caller);
    c.state.set(State::BlockedReply);
    c.replier.set(Some(receiver));
    sched::remove(caller);
}

/// What became of a send.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Sent {
    /// A receiver took it (and, for a call, the sender now waits for the reply).
    Delivered,
    /// The sender waits in the endpoint's queue.
    Queued,
}

/// What `extra` asks for goes from `sender` to `receiver` (`transfer`), whose `rax` is then
/// set to say what arrived; nothing is touched for a plain message. After the receiver's
/// results are written (they set `rax` to 0).
fn carry(sender: ObjRef, receiver: ObjRef, extra: Extra, grant: bool) {
    if extra.is_none() {
        return;
    }
    let arrived = transfer::transfer(sender, receiver, extra, grant);
    task(receiver).ctx.set_received(arrived.to_rax());
}

/// Sends `me`'s message (already in its `msg`, `msg_badge`, `msg_call`, `msg_fault`,
/// `msg_grant`, `msg_extra`) on `e`. With `block` false and no receiver waiting: `WouldBlock`.
pub fn send(me: ObjRef, e: ObjRef, block_: bool) -> Result<Sent, Error> {
    let m = task(me);
    if let Some(r) = obj(e).receivers.pop() {
        let w = m.msg.get();
        let regs = [m.msg_badge.get(), w[0], w[1], w[2], w[3], w[4]];
        if m.msg_call.get() {
            // The caller blocks (first, so that it is out of the way of the server, which gets
            // the CPU next).
            await_reply(me, r);
            hand_over(r, regs);
        } else {
            wake_with(r, regs);
        }
        carry(me, r, m.msg_extra.get(), m.msg_grant.get());
        return Ok(Sent::Delivered);
    }
    if !block_ {
        return Err(Error::WouldBlock);
    }
    block(me, State::BlockedSend, e, &obj(e).senders);
    Ok(Sent::Queued)
}

/// Receives on `e` for `me`: the badge and words of a waiting sender go into `me`'s registers,
/// or `me` now waits (and will be woken with them): either way the caller writes nothing. A
/// Note bound to `me` with bits set answers instead of waiting. With `block` false and nothing
/// to take: `WouldBlock`.
pub fn recv(me: ObjRef, e: ObjRef, block_: bool) -> Result<(), Error> {
    let mt = task(me);
    if let Some(s) = obj(e).senders.pop() {
        let st = task(s);
        let w = st.msg.get();
        mt.ctx.set_results([st.msg_badge.get(), w[0], w[1], w[2], w[3], w[4]]);
        carry(s, me, st.msg_extra.get(), st.msg_grant.get());
        if st.msg_call.get() {
            await_reply(s, me);
        } else {
            // The sender's `send` succeeds now, with the same results as an immediate one.
            wake_with(s, [0; 6]);
        }
        return Ok(());
    }
    if let Some(bits) = mt.bound_note.get().and_then(super::note::take_bits) {
        mt.ctx.set_results([abi::syscall::NOTE_BADGE as u64, bits, 0, 0, 0, 0]);
        return Ok(());
    }
    if !block_ {
        return Err(Error::WouldBlock);
    }
    block(me, State::BlockedRecv, e, &obj(e).receivers);
    Ok(())
}

/// The fast path of `call` (`uapi` decodes it): the message (the caller's syscall arguments 1-5,
/// in its saved registers, and `badge`) goes straight to the receiver
/// waiting first on `e`, which gets the caller's reply right and the CPU, while `me` (the
/// running task) waits for the reply, if nothing but registers has to move: a receiver waits,
/// its priority is at least `me`'s (so it is the task the scheduler would choose; it must have a
/// VSpace to be entered at all), it holds no unanswered reply right (which this call would
/// abandon, waking its caller: [`abandon`]). The message carries nothing through the IPC
/// buffers: `uapi` takes this path only for a call whose Extra is `NONE`, and the receiver's
/// `rax` of 0 says so. Checked in that order, before anything changes; any that fails returns `None` with nothing
/// changed, for the general path ([`send`]), the specification, which does the same for these
/// cases. Otherwise the receiver, checked enterable, is returned for `sched::switch_to`.
pub fn call_fast(me: ObjRef, e: ObjRef, badge: u64) -> Option<Enterable> {
    handoff(me, e, badge, None)
}

/// The fast path of fault delivery (`uapi::trap`): `me`, the running task, just faulted, and its
/// fault message `w` goes to its fault endpoint `e` as [`call_fast`] sends a call, on the same
/// terms (a fault message carries nothing through the buffers either). `me` then waits for the reply to its fault; `None` with
/// nothing changed otherwise (the general path is [`send`], by `uapi::ipc::deliver_fault`).
pub fn fault_fast(me: ObjRef, e: ObjRef, badge: u64, w: [u64; 5]) -> Option<Enterable> {
    handoff(me, e, badge, Some(w))
}

/// [`call_fast`] (`w` is `None`: the words are the caller's syscall arguments 1-5) and
/// [`fault_fast`] (`w` is the fault message).
#[inline]
fn handoff(me: ObjRef, e: ObjRef, badge: u64, w: Option<[u64; 5]>) -> Option<Enterable> {
    let fault = w.is_some();
    let (mt, o) = (task(me), obj(e));
    let r = o.receivers.head()?;
    let rt = task(r);
    if rt.priority.get() < mt.priority.get() {
        return None;
    }
    let next = sched::enterable(r)?;
    if rt.reply_to.get().is_some() {
        return None;
    }
    o.receivers.pop();
    match w {
        // A call's words are its arguments 1-5, in its saved registers.
        None => rt.ctx.set_message_from(&mt.ctx, badge),
        Some(w) => rt.ctx.set_results([badge, w[0], w[1], w[2], w[3], w[4]]),
    }
    rt.state.set(State::Runnable);
    rt.reply_to.set(Some(me));
    mt.msg_fault.set(fault);
    mt.state.set(State::BlockedReply);
    mt.replier.set(Some(r));
    Some(next)
}

/// The fast path of `send` (`uapi` decodes it): the message (the sender's syscall arguments
/// 1-5, in its saved registers, and `badge`) goes straight to the receiver
/// waiting first on `e`, if it outranks `me` (the running task, which it preempts) and it has a
/// VSpace; checked in that order, before anything changes. As for [`call_fast`], the send's
/// Extra is `NONE`.
/// `me`'s send has then succeeded (the caller writes its results). Returns the receiver,
/// runnable and in no queue, for a direct switch; `None` with nothing changed otherwise (the
/// general path, [`send`], does the same for these cases).
pub fn send_fast(me: ObjRef, e: ObjRef, badge: u64) -> Option<Enterable> {
    let (mt, o) = (task(me), obj(e));
    let r = o.receivers.head()?;
    let rt = task(r);
    if rt.priority.get() <= mt.priority.get() {
        return None;
    }
    let next = sched::enterable(r)?;
    o.receivers.pop();
    rt.ctx.set_message_from(&mt.ctx, badge);
    rt.state.set(State::Runnable);
    Some(next)
}

/// The registers a fault reply sets (each `None` keeps its value). `uapi` has checked `rip`.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq)]
pub struct Resume {
    /// Where the task resumes.
    pub rip: Option<u64>,
    /// Its stack pointer.
    pub rsp: Option<u64>,
    /// `rax`.
    pub rax: Option<u64>,
    /// `rdi`.
    pub rdi: Option<u64>,
}

/// The fast path of `reply_recv`: `me` (the running task) answers the task it holds the reply
/// right for with the words of its syscall (arguments 1-5, in its saved registers: a call) or
/// with nothing (a fault: it runs on as it is), and
/// that task gets the CPU while `me` waits on `e`, if `me` will wait and the answered task is the
/// scheduler's next choice. Checked in this order, before anything changes: `me` holds a reply
/// right; for a call, the caller's priority is at least `me`'s (a reply puts it at the head of
/// its queue); for a fault, no queued task has the faulted task's priority or more (a fault's
/// reply puts it at the tail); the answered task has a VSpace; no sender waits on `e`; no bit is
/// set in a Note bound to `me` (either would end the receive at once). The reply's Extra is
/// `NONE` (`uapi` takes this path only then). `None` with nothing changed otherwise, for the
/// general path ([`reply`], then [`recv`]). Returns the answered task, now runnable and in no
/// queue, checked enterable, for a direct switch.
#[inline]
pub fn reply_recv_fast(me: ObjRef, e: ObjRef) -> Option<Enterable> {
    let mt = task(me);
    let c = mt.reply_to.get()?;
    let ct = task(c);
    let fault = ct.msg_fault.get();
    let fits = if fault { sched::first_at_tail(ct.priority.get()) } else { ct.priority.get() >= mt.priority.get() };
    if !fits {
        return None;
    }
    let next = sched::enterable(c)?;
    if !will_wait(me, e) {
        return None;
    }
    if fault {
        ct.msg_fault.set(false);
    } else {
        // The reply's words are `me`'s syscall arguments 1-5, in its saved registers.
        ct.ctx.set_message_from(&mt.ctx, 0);
    }
    answered_then_wait(me, c, e);
    Some(next)
}

/// The fast path of `fault_reply_recv`: as [`reply_recv_fast`] for a faulted task, which gets
/// the registers in `resume` (`None` with nothing changed if `me`'s reply right answers no fault,
/// or on any condition of [`reply_recv_fast`]; the general path is [`reply_fault`], then
/// [`recv`]).
#[inline]
pub fn fault_reply_recv_fast(me: ObjRef, e: ObjRef, resume: Resume) -> Option<Enterable> {
    let c = task(me).reply_to.get()?;
    let ct = task(c);
    if !ct.msg_fault.get() || !sched::first_at_tail(ct.priority.get()) {
        return None;
    }
    let next = sched::enterable(c)?;
    if !will_wait(me, e) {
        return None;
    }
    ct.msg_fault.set(false);
    ct.ctx.set_resume(resume.rip, resume.rsp, resume.rax, resume.rdi);
    answered_then_wait(me, c, e);
    Some(next)
}

/// The last condition of the `reply_recv` fast paths (after the answered task was found
/// enterable): `me` will wait on `e` (no sender waits there, no bit is set in a Note bound to
/// `me`).
#[inline(always)]
fn will_wait(me: ObjRef, e: ObjRef) -> bool {
    obj(e).senders.head().is_none() && !task(me).bound_note.get().is_some_and(super::note::has_bits)
}

/// The common end of the `reply_recv` fast paths: `c` (answered) is runnable, its reply right
/// used up, and `me` waits on `e`.
#[inline(always)]
fn answered_then_wait(me: ObjRef, c: ObjRef, e: ObjRef) {
    let (mt, ct) = (task(me), task(c));
    mt.reply_to.set(None);
    ct.replier.set(None);
    ct.state.set(State::Runnable);
    mt.state.set(State::BlockedRecv);
    obj(e).receivers.push(e, me);
}

/// Answers the fault `me` holds the reply right for, setting the registers in `resume`; the
/// faulted task runs on (at the tail of its queue, as after every fault reply).
/// `InvalidState`, with nothing changed, if `me` holds no reply right or one that answers a
/// plain call.
pub fn reply_fault(me: ObjRef, resume: Resume) -> Result<(), Error> {
    let c = task(me).reply_to.get().ok_or(Error::InvalidState)?;
    if !task(c).msg_fault.get() {
        return Err(Error::InvalidState);
    }
    task(me).reply_to.set(None);
    task(c).replier.set(None);
    task(c).ctx.set_resume(resume.rip, resume.rsp, resume.rax, resume.rdi);
    answer(me, c, [0; 5], Extra::NONE, false);
    Ok(())
}

/// Whether `me` holds a reply right that answers a plain call (not a fault).
pub fn answers_call(me: ObjRef) -> bool {
    task(me).reply_to.get().is_some_and(|c| !task(c).msg_fault.get())
}

/// Answers the call `me` holds the reply right for with `words` and what `extra` asks for;
/// `InvalidState` if none. With `direct` (the replier is about to wait: `reply_recv`), the
/// caller gets the CPU next.
pub fn reply(me: ObjRef, words: [u64; 5], extra: Extra, direct: bool) -> Result<(), Error> {
    let c = task(me).reply_to.take().ok_or(Error::InvalidState)?;
    task(c).replier.set(None);
    answer(me, c, words, extra, direct);
    Ok(())
}

/// Wakes caller `c` with the reply of `me`. A reply carries what a message does (the reply right
/// stands for GRANT); a fault message's reply carries nothing and leaves the registers alone: the
/// task runs on from where it faulted.
fn answer(me: ObjRef, c: ObjRef, words: [u64; 5], extra: Extra, direct: bool) {
    let ct = task(c);
    if ct.msg_fault.get() {
        ct.msg_fault.set(false);
        ct.state.set(State::Runnable);
        sched::enqueue(c);
        return;
    }
    let regs = [0, words[0], words[1], words[2], words[3], words[4]];
    if direct {
        hand_over(c, regs)
    } else {
        wake_with(c, regs)
    }
    carry(me, c, extra, true);
}

/// Takes the reply right `me` holds out of its thread state (for `reply_save`): the caller keeps
/// waiting, answerable through the Reply capability that now names it.
pub fn take_reply_right(me: ObjRef) -> Result<ObjRef, Error> {
    let c = task(me).reply_to.take().ok_or(Error::InvalidState)?;
    task(c).replier.set(None);
    Ok(c)
}

/// Caller `c` will never get the reply it waits for: whoever held its reply right let it go
/// (stopped, took another call, or deleted the Reply capability it was saved in). A call ends
/// with `NoReply`. A task whose fault message was taken is in no syscall to return an error
/// from: it stops as Faulted, as it would have with no fault endpoint, and if it held a reply
/// right itself, that caller is abandoned in turn (a loop, not recursion: such chains are as long
/// as there are tasks). A `c` that no longer waits for a reply is left alone.
pub fn abandon(c: ObjRef) {
    let mut next = Some(c);
    while let Some(c) = next.take() {
        let ct = task(c);
        ct.replier.set(None);
        if ct.state.get() != State::BlockedReply {
            continue;
        }
        if !ct.msg_fault.get() {
            wake_with_error(c, Error::NoReply.code() as u64);
            continue;
        }
        ct.msg_fault.set(false);
        let vector = ct.msg.get()[0];
        crate::warn!("task {} faulted (vector {vector}) and its fault was never answered; stopped", ct.id.get());
        next = super::stop::stop_keeping_callers(c, State::Faulted, vector, "its fault was never answered");
    }
}

/// A saved reply right for caller `c` was deleted: if nothing else can answer `c` now (it still
/// waits, and no task holds its reply right), it is [`abandon`]ed. Answering through the Reply
/// capability deletes it too, after `c` was woken: then nothing happens.
pub fn saved_reply_gone(c: ObjRef) {
    let ct = task(c);
    if ct.state.get() == State::BlockedReply && ct.replier.get().is_none() {
        abandon(c);
    }
}

/// Answers caller `c` through a saved reply right; `InvalidState` if it no longer waits for it.
pub fn reply_saved(me: ObjRef, c: ObjRef, words: [u64; 5], extra: Extra) -> Result<(), Error> {
    let ct = task(c);
    if ct.state.get() != State::BlockedReply || ct.replier.get().is_some() {
        return Err(Error::InvalidState);
    }
    answer(me, c, words, extra, false);
    Ok(())
}

/// Teardown of a dead endpoint: wakes queued tasks with `InvalidCapability`, spending `budget`.
/// Returns whether none are left.
pub(super) fn teardown(e: ObjRef, budget: &mut u32) -> bool {
    let o = obj(e);
    while *budget > 0 {
        let Some((t, sender)) = o.senders.pop().map(|t| (t, true)).or_else(|| o.receivers.pop().map(|t| (t, false)))
        else {
            return true;
        };
        *budget -= 1;
        let tk = task(t);
        if sender && tk.msg_fault.get() {
            // A fault message that can no longer be delivered: the task stays faulted, as if it
            // had had no fault endpoint.
            tk.msg_fault.set(false);
            let vector = tk.msg.get()[0];
            crate::warn!("task {} faulted (vector {vector}) and its fault endpoint is gone; stopped", tk.id.get());
            super::stop::stop(t, State::Faulted, vector, "its fault could not be delivered");
            continue;
        }
        wake_with_error(t, Error::InvalidCapability.code() as u64);
    }
    false
}
