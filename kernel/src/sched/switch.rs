//! The scheduler's state and decisions: the run queues of Task objects, the running task, the
//! timeslice, and the return to user mode.

use abi::task::{State, TIMESLICE_TICKS};

use super::runqueue::{Node, RunQueues};
use crate::object::ObjRef;
use crate::object::task::{TaskObj, get};
use crate::sync::RacyCell;

struct Sched {
    queues: RunQueues<ObjRef>,
    current: Option<ObjRef>,
}

static SCHED: RacyCell<Sched> = RacyCell::new(Sched { queues: RunQueues::new(), current: None });

fn sched() -> &'static mut Sched {
    // SAFETY: one CPU, interrupts off; every function here takes the reference for its own
    // duration only and none calls another while holding it.
    unsafe { &mut *SCHED.get() }
}

fn task<'a>(t: ObjRef) -> &'a mut TaskObj {
    // SAFETY: tasks in the queues are live (a dying task leaves them in `on_death`); each use
    // is short and never overlaps another reference to the same task.
    unsafe { get(t) }
}

impl Node for ObjRef {
    fn priority(self) -> u8 {
        task(self).priority
    }
    fn links(self) -> (Option<Self>, Option<Self>) {
        let t = task(self);
        (t.rq_prev, t.rq_next)
    }
    fn set_links(self, prev: Option<Self>, next: Option<Self>) {
        let t = task(self);
        (t.rq_prev, t.rq_next) = (prev, next);
    }
    fn queued(self) -> bool {
        task(self).queued
    }
    fn set_queued(self, queued: bool) {
        task(self).queued = queued;
    }
}

/// Puts a runnable task at the tail of its priority's queue (no-op if queued).
pub fn enqueue(t: ObjRef) {
    sched().queues.push_back(t);
}

/// Puts a runnable task at the head of its priority's queue: the partner of a blocking IPC,
/// which then runs next unless a higher priority is runnable (the CPU goes straight to it, as
/// seL4's fastpath does, rather than behind other tasks of its priority).
pub fn enqueue_front(t: ObjRef) {
    sched().queues.push_front(t);
}

/// Takes a task out of its queue (no-op if not queued); it stops being current.
pub fn remove(t: ObjRef) {
    let s = sched();
    if s.current == Some(t) {
        s.current = None;
    }
    s.queues.remove(t);
}

/// Changes a task's priority, moving it to the tail of its new queue if it was queued.
pub fn set_priority(t: ObjRef, priority: u8) {
    let was_queued = task(t).queued;
    let was_current = sched().current == Some(t);
    remove(t);
    task(t).priority = priority;
    if was_queued {
        enqueue(t);
    }
    if was_current {
        sched().current = Some(t);
    }
}

/// The running task.
pub fn current() -> Option<ObjRef> {
    sched().current
}

/// The highest-priority runnable task.
fn best() -> Option<ObjRef> {
    sched().queues.best()
}

/// Moves the running task to the tail of its queue, with a fresh timeslice.
pub fn yield_current() {
    if let Some(t) = current() {
        remove(t);
        task(t).ticks_left = TIMESLICE_TICKS as u32;
        enqueue(t);
    }
}

/// Counts a timer tick against the running task; at the end of its timeslice it yields.
pub fn tick() {
    if let Some(t) = current() {
        let tk = task(t);
        tk.ticks_left = tk.ticks_left.saturating_sub(1);
        if tk.ticks_left == 0 {
            yield_current();
        }
    }
}

/// Runs the best runnable task; with none, halts until an interrupt makes one runnable.
pub fn run() -> ! {
    loop {
        if let Some(t) = best() {
            sched().current = Some(t);
            enter(t);
        }
        crate::arch::wait_for_interrupt();
    }
}

/// Returns to user mode in `t`; a task whose registers cannot be entered faults instead.
fn enter(t: ObjRef) {
    let tk = task(t);
    debug_assert_eq!(tk.state, State::Runnable);
    let Some(vspace) = tk.vspace else {
        crate::uapi::unenterable(t, "it has no VSpace");
        return;
    };
    if let Err(why) = crate::arch::context::validate(&mut tk.ctx) {
        let what = match why {
            crate::arch::context::EnterError::BadRip => "its rip is not a canonical user address",
            crate::arch::context::EnterError::BadFsBase => "its FS base is not a canonical user address",
        };
        crate::uapi::unenterable(t, what);
        return;
    }
    let root = crate::object::vspace::space(vspace).root();
    // SAFETY: the context lives in the task's own page, which stays allocated while the task is
    // current (a dying task stops being current first); its VSpace shares the kernel's upper half.
    unsafe { crate::arch::context::enter_user(&raw mut tk.ctx, root) }
}
