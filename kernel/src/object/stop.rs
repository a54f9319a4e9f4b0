//! Stopping tasks: a task that exits, faults with nowhere to send the fault, is destroyed or
//! loses its last capability leaves the scheduler and every queue, binding and reply relation it
//! is part of, and its exit Note, if it has one, is signalled ([`set_state`]).
//!
//! What a stopped *root* task means for the run is not decided here: the stop is recorded
//! ([`RunEnd`]) and the layer above (`uapi`) ends the run when it next looks
//! ([`take_run_end`]), before it returns to user mode.
#![forbid(unsafe_code)]

use core::cell::Cell;

use abi::task::{DESTROYED, State};

use super::task::get as task;
use super::{Ctx, ObjRef, waitq};
use crate::sync::Global;

/// How the root task stopped, which ends the run.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum RunEnd {
    /// It exited with this status.
    Exited(u64),
    /// It stopped otherwise (faulted, was destroyed, lost its last capability): why.
    Stopped(&'static str),
}

static RUN_END: Global<Cell<Option<RunEnd>>> = Global::new(Cell::new(None));

/// How the root task stopped, if it has: the run must end. Taken once.
pub fn take_run_end() -> Option<RunEnd> {
    RUN_END.take()
}

fn root_stopped(end: RunEnd) {
    // The first reason stands: a root task that faults and then loses its last capability
    // ended the run with the fault.
    if RUN_END.get().is_none() {
        RUN_END.set(Some(end));
    }
    // The return to user mode must look at it.
    crate::sched::reschedule();
}

/// Takes `t` out of every queue and relation: the run queue, the wait queue it is in, its bound
/// Note, the reply relations it is part of, and its saved reply capability. It stays in its
/// state; the caller sets the new one.
fn leave_everything(t: ObjRef) {
    crate::sched::remove(t);
    waitq::leave(t);
    let tk = task(t);
    if let Some(n) = tk.bound_note.take() {
        super::note::unbind(n);
    }
    if let Some(r) = tk.replier.take() {
        task(r).reply_to.set(None);
    }
    if let Some(c) = tk.reply_to.take() {
        super::endpoint::abandon(c);
    }
    if let Some(slot) = tk.saved_reply.take() {
        super::cspace::drop_reply(slot);
    }
    crate::arch::context::forget_fpu_owner(&tk.ctx);
}

/// Puts `t` in the stopped `state` (Exited or Faulted): whenever that changes its state, its exit
/// Note (if any) is signalled, so a supervisor learns of every stop without polling.
fn set_state(t: ObjRef, state: State) {
    let tk = task(t);
    let changed = tk.state.replace(state) != state;
    if changed && let Some(n) = tk.exit_note.get() {
        super::note::signal(n, tk.exit_bits.get());
    }
}

/// Called when the task's last reference goes: it stops at once, leaving everything.
pub fn on_death(t: ObjRef) {
    leave_everything(t);
    let tk = task(t);
    set_state(t, State::Exited);
    if tk.is_root.get() {
        root_stopped(RunEnd::Stopped("its last capability was deleted"));
    }
}

/// Stops `t` for good (`task_destroy`): as on death, and its CSpace, VSpace and fault endpoint are
/// let go at once. The object stays until its last capability goes. O(1).
pub fn destroy(ctx: &mut Ctx<'_>, t: ObjRef) {
    end(ctx, t, DESTROYED, RunEnd::Stopped("it was destroyed"));
}

/// Ends `t` as though it had called `exit(status)` (`task_kill`): as [`destroy`], but it reports
/// `status`, and a root task ends the run with it. A task that had already exited keeps its
/// status. O(1).
pub fn kill(ctx: &mut Ctx<'_>, t: ObjRef, status: u64) {
    let detail = match task(t).state.get() {
        State::Exited => task(t).detail.get(),
        _ => status,
    };
    end(ctx, t, detail, RunEnd::Exited(detail));
}

/// Stops `t` for good with `detail`, `run_end` saying how a root task ends the run; the spaces go.
fn end(ctx: &mut Ctx<'_>, t: ObjRef, detail: u64, run_end: RunEnd) {
    let tk = task(t);
    if tk.state.get() == State::Exited && tk.cspace.get().is_none() && tk.vspace.get().is_none() {
        return;
    }
    leave_everything(t);
    tk.detail.set(detail);
    set_state(t, State::Exited);
    if tk.is_root.get() {
        root_stopped(run_end);
    }
    super::task::teardown(ctx, t);
}

/// Stops task `t` in `state` (exited or faulted, with `detail`, `why` for the log): it leaves the
/// scheduler (it is in no wait queue: it was running, or its fault message can no longer go).
/// The caller whose reply right it held, if any, will never be answered by it
/// ([`endpoint::abandon`](super::endpoint::abandon)).
pub fn stop(t: ObjRef, state: State, detail: u64, why: &'static str) {
    if let Some(c) = stop_keeping_callers(t, state, detail, why) {
        super::endpoint::abandon(c);
    }
}

/// [`stop`], but the caller whose reply right `t` held is handed back (its `reply_to` taken),
/// for `endpoint::abandon`'s loop to abandon next.
pub(super) fn stop_keeping_callers(t: ObjRef, state: State, detail: u64, why: &'static str) -> Option<ObjRef> {
    crate::sched::remove(t);
    let tk = task(t);
    tk.detail.set(detail);
    set_state(t, state);
    if tk.is_root.get() {
        root_stopped(match state {
            State::Exited => RunEnd::Exited(detail),
            _ => RunEnd::Stopped(why),
        });
    }
    tk.reply_to.take()
}
