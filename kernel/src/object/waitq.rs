//! Waiting and waking: putting a task to sleep in an object's wait queue (an Endpoint's senders
//! and receivers, a Note's waiters; [`Queue`], linked through the tasks), taking it out, and waking
//! it with its results.
//!
//! A queue lives inside the object it belongs to. A task in one records the queue and the object
//! (`wait_queue`, `blocked_on`), so whoever needs it out (a bound Note waking a receiver, a task
//! that dies) can unlink it without knowing the object's kind: [`leave`]. Every operation is
//! O(1). An object's queues outlive their members: a dying object empties them (its teardown
//! wakes every task still queued) before its pages are freed.

use abi::task::State;

use super::ObjRef;
pub use super::task::WaitQueue as Queue;
use super::task::get as task;
use crate::sched;

/// Takes `t` out of the wait queue it is in, if any.
pub fn leave(t: ObjRef) {
    if let Some(q) = task(t).wait_queue.get() {
        // SAFETY: a task records the queue it is in, inside the object it waits on, which stays
        // alive (and the queue in place) while it has members; the queue is only ever shared.
        unsafe { q.as_ref() }.unlink(t);
    }
}

/// Makes `t` runnable with `rax = 0` and results `regs` (badge or 0, then five words), at the
/// tail of its run queue.
pub fn wake_with(t: ObjRef, regs: [u64; 6]) {
    set_results(t, regs);
    sched::enqueue(t);
}

/// As [`wake_with`], for the partner of the IPC the running task is blocking in: it goes to the
/// head of its queue and so gets the CPU next unless a higher priority is runnable (the CPU goes
/// straight to it, as seL4's fastpath does, rather than behind other tasks of its priority).
pub fn hand_over(t: ObjRef, regs: [u64; 6]) {
    set_results(t, regs);
    sched::enqueue_front(t);
}

/// Makes `t` runnable with the error `code` in `rax` (its wait ended without a result), at the
/// tail of its run queue.
pub fn wake_with_error(t: ObjRef, code: u64) {
    let tk = task(t);
    tk.ctx.set_error(code);
    tk.state.set(State::Runnable);
    sched::enqueue(t);
}

fn set_results(t: ObjRef, regs: [u64; 6]) {
    let tk = task(t);
    tk.ctx.set_results(regs);
    tk.state.set(State::Runnable);
}

/// Puts `me` to sleep in `state`: out of the run queues, waiting in `q` of `owner`.
pub fn block(me: ObjRef, state: State, owner: ObjRef, q: &Queue) {
    task(me).state.set(state);
    sched::remove(me);
    q.push(owner, me);
}
