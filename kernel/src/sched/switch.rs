//! The scheduler's state and decisions: the run queues of Task objects, the running task, the
//! timeslice, and entering the chosen task.
//!
//! A task whose saved state cannot be entered (no VSpace, a non-canonical RIP or FS base) is not
//! entered: [`enter_best`] hands it back, and the caller decides what that means (`uapi` delivers
//! the general protection fault the CPU would have raised). The scheduler decides nothing about
//! faults or the run.

use core::cell::Cell;

use abi::task::{State, TIMESLICE_TICKS};

use super::runqueue::{Node, RunQueues};
use crate::arch::context::EnterError;
use crate::object::ObjRef;
use crate::object::task::{TaskObj, get};
use crate::sync::Global;

struct Sched {
    queues: RunQueues<ObjRef>,
    current: Cell<Option<ObjRef>>,
}

static SCHED: Global<Sched> = Global::new(Sched { queues: RunQueues::new(), current: Cell::new(None) });

/// Tasks in the run queues are live: a dying task leaves them first (`object::stop`).
fn task<'a>(t: ObjRef) -> &'a TaskObj {
    get(t)
}

impl Node for ObjRef {
    fn priority(self) -> u8 {
        task(self).priority.get()
    }
    fn links(self) -> (Option<Self>, Option<Self>) {
        let t = task(self);
        (t.rq_prev.get(), t.rq_next.get())
    }
    fn set_links(self, prev: Option<Self>, next: Option<Self>) {
        let t = task(self);
        t.rq_prev.set(prev);
        t.rq_next.set(next);
    }
    fn queued(self) -> bool {
        task(self).queued.get()
    }
    fn set_queued(self, queued: bool) {
        task(self).queued.set(queued);
    }
}

/// Puts a runnable task at the tail of its priority's queue (no-op if queued).
pub fn enqueue(t: ObjRef) {
    SCHED.queues.push_back(t);
}

/// Puts a runnable task at the head of its priority's queue: the partner of a blocking IPC,
/// which then runs next unless a higher priority is runnable (the CPU goes straight to it, as
/// seL4's fastpath does, rather than behind other tasks of its priority).
pub fn enqueue_front(t: ObjRef) {
    SCHED.queues.push_front(t);
}

/// Takes a task out of its queue (no-op if not queued); it stops being current.
pub fn remove(t: ObjRef) {
    if SCHED.current.get() == Some(t) {
        SCHED.current.set(None);
    }
    SCHED.queues.remove(t);
}

/// Changes a task's priority, moving it to the tail of its new queue if it was queued.
pub fn set_priority(t: ObjRef, priority: u8) {
    let was_queued = task(t).queued.get();
    let was_current = SCHED.current.get() == Some(t);
    remove(t);
    task(t).priority.set(priority);
    if was_queued {
        enqueue(t);
    }
    if was_current {
        SCHED.current.set(Some(t));
    }
}

/// The running task.
pub fn current() -> Option<ObjRef> {
    SCHED.current.get()
}

/// Moves the running task to the tail of its queue, with a fresh timeslice.
pub fn yield_current() {
    if let Some(t) = current() {
        remove(t);
        task(t).ticks_left.set(TIMESLICE_TICKS as u32);
        enqueue(t);
    }
}

/// Counts a timer tick against the running task; at the end of its timeslice it yields.
pub fn tick() {
    if let Some(t) = current() {
        let tk = task(t);
        let left = tk.ticks_left.get().saturating_sub(1);
        tk.ticks_left.set(left);
        if left == 0 {
            yield_current();
        }
    }
}

/// A task that cannot be entered, and why.
#[derive(Copy, Clone, Debug)]
pub struct Unenterable {
    /// The task (still runnable and queued).
    pub task: ObjRef,
    /// What is wrong with it, for the log.
    pub why: &'static str,
}

/// Returns to user mode in the best runnable task. Returns only if there is none (`Ok`: the
/// caller idles until an interrupt) or the best one cannot be entered (`Err`: the caller must
/// take it out of the queues, or the same task is chosen again).
pub fn enter_best() -> Result<(), Unenterable> {
    let Some(t) = SCHED.queues.best() else { return Ok(()) };
    SCHED.current.set(Some(t));
    let tk = task(t);
    debug_assert_eq!(tk.state.get(), State::Runnable);
    let Some(vspace) = tk.vspace.get() else {
        return Err(Unenterable { task: t, why: "it has no VSpace" });
    };
    if let Err(why) = tk.ctx.validate() {
        let why = match why {
            EnterError::BadRip => "its rip is not a canonical user address",
            EnterError::BadFsBase => "its FS base is not a canonical user address",
        };
        return Err(Unenterable { task: t, why });
    }
    let root = crate::object::vspace::space(vspace).root();
    // SAFETY: the context lives in the task's own pages, which stay allocated while the task is
    // current (a dying task stops being current first); it passed `validate` just now; its
    // VSpace shares the kernel's upper half.
    unsafe { crate::arch::context::enter_user(&tk.ctx, root) }
}
