//! Endpoints: synchronous IPC. A sender and a receiver meet; five words and a badge pass; a
//! `call` leaves the receiver holding the caller's one-shot reply right.
//!
//! Tasks waiting on an endpoint sit in one of its two FIFO queues (senders, receivers), linked
//! through the tasks; every operation is O(1). A blocked sender keeps its message in its task
//! (`msg`), so the kernel can also send on a task's behalf (fault messages). When an endpoint
//! dies, the tasks still queued on it are woken, a bounded number per reaper step, with
//! `InvalidCapability`.

use abi::Error;
use abi::task::State;

use super::task::{TaskObj, get};
use super::{Ctx, Header, Kind, ObjRef, create};
use crate::sched;

/// A FIFO of waiting tasks, linked through the tasks' `ep_next`/`ep_prev`.
#[derive(Copy, Clone, Default)]
pub struct Queue {
    head: Option<ObjRef>,
    tail: Option<ObjRef>,
}

impl Queue {
    /// Appends `t`, which now waits on `owner`.
    pub fn push(&mut self, owner: ObjRef, t: ObjRef) {
        let tk = task(t);
        tk.ep_next = None;
        tk.ep_prev = self.tail;
        match self.tail {
            Some(tail) => task(tail).ep_next = Some(t),
            None => self.head = Some(t),
        }
        self.tail = Some(t);
        tk.blocked_on = Some(owner);
    }

    /// Takes `t` (which is in this queue) out.
    pub fn unlink(&mut self, t: ObjRef) {
        let tk = task(t);
        match tk.ep_prev {
            Some(p) => task(p).ep_next = tk.ep_next,
            None => self.head = tk.ep_next,
        }
        match tk.ep_next {
            Some(n) => task(n).ep_prev = tk.ep_prev,
            None => self.tail = tk.ep_prev,
        }
        tk.ep_next = None;
        tk.ep_prev = None;
        tk.blocked_on = None;
    }

    /// Takes the first task out.
    pub fn pop(&mut self) -> Option<ObjRef> {
        let t = self.head?;
        self.unlink(t);
        Some(t)
    }
}

#[repr(C)]
struct EndpointObj {
    hdr: Header,
    senders: Queue,
    receivers: Queue,
}

fn obj(e: ObjRef) -> *mut EndpointObj {
    debug_assert_eq!(e.kind(), Kind::Endpoint);
    e.cast()
}

fn task<'a>(t: ObjRef) -> &'a mut TaskObj {
    // SAFETY: tasks in endpoint queues and reply relations are live (a dying task leaves them in
    // `cancel`); each use is short and never overlaps another reference to the same task.
    unsafe { get(t) }
}

fn queue<'a>(e: ObjRef, senders: bool) -> &'a mut Queue {
    // SAFETY: `e` is a live Endpoint; the reference is used within one operation.
    unsafe { if senders { &mut (*obj(e)).senders } else { &mut (*obj(e)).receivers } }
}

/// Makes an Endpoint charged to `memory`.
pub fn create_in(ctx: &mut Ctx<'_>, memory: ObjRef) -> Result<ObjRef, Error> {
    create::<EndpointObj>(ctx, Kind::Endpoint, Some(memory), 1, 1)
}

fn push(e: ObjRef, senders: bool, t: ObjRef) {
    queue(e, senders).push(e, t);
}

fn unlink(e: ObjRef, senders: bool, t: ObjRef) {
    queue(e, senders).unlink(t);
}

fn pop(e: ObjRef, senders: bool) -> Option<ObjRef> {
    queue(e, senders).pop()
}

/// Makes `t` runnable with `rax = 0` and results `regs` (badge or 0, then five words), at the
/// tail of its run queue.
pub fn wake_with(t: ObjRef, regs: [u64; 6]) {
    set_results(t, regs);
    sched::enqueue(t);
}

/// As [`wake_with`], for the partner of the IPC the running task is blocking in: it goes to the
/// head of its queue and so gets the CPU next unless a higher priority is runnable.
fn hand_over(t: ObjRef, regs: [u64; 6]) {
    set_results(t, regs);
    sched::enqueue_front(t);
}

fn set_results(t: ObjRef, regs: [u64; 6]) {
    let tk = task(t);
    let c = &mut tk.ctx;
    c.rax = 0;
    [c.rdi, c.rsi, c.rdx, c.r10, c.r8, c.r9] = regs;
    tk.state = State::Runnable;
}

/// `caller` (whose message was just taken) now waits for `receiver`'s reply.
fn await_reply(caller: ObjRef, receiver: ObjRef) {
    if let Some(old) = task(receiver).reply_to.replace(caller) {
        // A new call replaces an unanswered one; that caller waits on, unanswerable.
        task(old).replier = None;
    }
    let c = task(caller);
    c.state = State::BlockedReply;
    c.replier = Some(receiver);
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

/// Sends `me`'s message (already in its `msg`, `msg_badge`, `msg_call`, `msg_fault`) on `e`.
/// With `block` false and no receiver waiting: `WouldBlock`.
pub fn send(me: ObjRef, e: ObjRef, block: bool) -> Result<Sent, Error> {
    let (words, badge, call) = {
        let m = task(me);
        (m.msg, m.msg_badge, m.msg_call)
    };
    if let Some(r) = pop(e, false) {
        super::transfer::transfer(me, r, task(me).msg_grant);
        let regs = [badge, words[0], words[1], words[2], words[3], words[4]];
        if call {
            // The caller blocks: the CPU goes straight to the server.
            hand_over(r, regs);
            await_reply(me, r);
        } else {
            wake_with(r, regs);
        }
        return Ok(Sent::Delivered);
    }
    if !block {
        return Err(Error::WouldBlock);
    }
    task(me).state = State::BlockedSend;
    sched::remove(me);
    push(e, true, me);
    Ok(Sent::Queued)
}

/// Receives on `e` for `me`: the badge and words of a waiting sender, or `None` when `me` now
/// waits (and will be woken with them). With `block` false and no sender: `WouldBlock`.
pub fn recv(me: ObjRef, e: ObjRef, block: bool) -> Result<Option<[u64; 6]>, Error> {
    if let Some(s) = pop(e, true) {
        super::transfer::transfer(s, me, task(s).msg_grant);
        let st = task(s);
        let regs = [st.msg_badge, st.msg[0], st.msg[1], st.msg[2], st.msg[3], st.msg[4]];
        if st.msg_call {
            await_reply(s, me);
        } else {
            // The sender's `send` succeeds now, with the same results as an immediate one.
            wake_with(s, [0; 6]);
        }
        return Ok(Some(regs));
    }
    if let Some(bits) = task(me).bound_note.and_then(super::note::take_bits) {
        super::transfer::nothing(me);
        return Ok(Some([abi::syscall::NOTE_BADGE as u64, bits, 0, 0, 0, 0]));
    }
    if !block {
        return Err(Error::WouldBlock);
    }
    task(me).state = State::BlockedRecv;
    sched::remove(me);
    push(e, false, me);
    Ok(None)
}

/// Answers the call `me` holds the reply right for; `InvalidState` if none. With `direct` (the
/// replier is about to wait: `reply_recv`), the caller gets the CPU next.
pub fn reply(me: ObjRef, words: [u64; 5], direct: bool) -> Result<(), Error> {
    let c = task(me).reply_to.take().ok_or(Error::InvalidState)?;
    task(c).replier = None;
    answer(me, c, words, direct);
    Ok(())
}

/// Wakes caller `c` with the reply of `me`. A reply carries what a message does (the reply right
/// stands for GRANT); a fault message's reply carries nothing and leaves the registers alone: the
/// task runs on from where it faulted.
fn answer(me: ObjRef, c: ObjRef, words: [u64; 5], direct: bool) {
    if task(c).msg_fault {
        let ct = task(c);
        ct.msg_fault = false;
        ct.state = State::Runnable;
        sched::enqueue(c);
        return;
    }
    super::transfer::transfer(me, c, true);
    let regs = [0, words[0], words[1], words[2], words[3], words[4]];
    if direct { hand_over(c, regs) } else { wake_with(c, regs) }
}

/// Takes a task waiting in `recv` on an endpoint out of its queue (its bound Note woke it).
pub fn leave_recv(t: ObjRef) {
    if let Some(e) = task(t).blocked_on {
        unlink(e, false, t);
    }
}

/// Takes the reply right `me` holds out of its thread state (for `reply_save`): the caller keeps
/// waiting, answerable through the Reply capability that now names it.
pub fn take_reply_right(me: ObjRef) -> Result<ObjRef, Error> {
    let c = task(me).reply_to.take().ok_or(Error::InvalidState)?;
    task(c).replier = None;
    Ok(c)
}

/// Answers caller `c` through a saved reply right; `InvalidState` if it no longer waits for it.
pub fn reply_saved(me: ObjRef, c: ObjRef, words: [u64; 5]) -> Result<(), Error> {
    let ct = task(c);
    if ct.state != State::BlockedReply || ct.replier.is_some() {
        return Err(Error::InvalidState);
    }
    answer(me, c, words, false);
    Ok(())
}

/// Takes a dying task out of every queue and reply relation.
pub fn cancel(t: ObjRef) {
    let tk = task(t);
    if let Some(o) = tk.blocked_on {
        match o.kind() {
            Kind::Note => super::note::leave(o, t),
            _ => unlink(o, tk.state == State::BlockedSend, t),
        }
    }
    if let Some(n) = tk.bound_note.take() {
        super::note::unbind(n);
    }
    if let Some(r) = tk.replier.take() {
        task(r).reply_to = None;
    }
    if let Some(c) = tk.reply_to.take() {
        task(c).replier = None;
    }
}

/// Teardown of a dead endpoint: wakes queued tasks with `InvalidCapability`, spending `budget`.
/// Returns whether none are left.
pub(super) fn teardown(e: ObjRef, budget: &mut u32) -> bool {
    while *budget > 0 {
        let Some((t, senders)) = pop(e, true).map(|t| (t, true)).or_else(|| pop(e, false).map(|t| (t, false))) else {
            return true;
        };
        *budget -= 1;
        let tk = task(t);
        if senders && tk.msg_fault {
            // A fault message that can no longer be delivered: the task stays faulted, as if it
            // had had no fault endpoint.
            tk.msg_fault = false;
            tk.state = State::Faulted;
            tk.detail = tk.msg[0];
            crate::warn!("task {} faulted (vector {}) and its fault endpoint is gone; stopped", tk.id, tk.msg[0]);
            if tk.is_root {
                super::task::stop(t, State::Faulted, tk.msg[0], "its fault could not be delivered");
            }
            continue;
        }
        tk.ctx.rax = Error::InvalidCapability.code() as u64;
        tk.state = State::Runnable;
        sched::enqueue(t);
    }
    false
}
