//! The scheduler's state and decisions: the run queues of Task objects, the running task of each
//! CPU, the timeslice, and entering the chosen task.
//!
//! **The running task is not in the run queues** (seL4's "Benno scheduling"): it is logically at
//! the head of its priority's queue, ahead of every queued task of that priority, and is put in
//! only when something must go before it or it gives up its place. So a task that blocks leaves
//! no queue, and a task handed the CPU directly (an IPC partner, a woken task of higher priority)
//! enters none: the fast paths switch without touching the queues. Where the running task's
//! place matters, it is *materialised*: put at the head of its queue (preempted, or a task is
//! put ahead of it) or at the tail (it yields, its timeslice runs out, its priority changes).
//!
//! Per CPU ([`Cpu`]), the scheduler keeps the running task and whether anything since it was
//! chosen may have changed who should run (`stale`): every operation here that could (a task
//! made runnable above it, the running task leaving or giving up its place) sets it. So the
//! return to user mode after a system call that changed none of it keeps the running task
//! without looking at the queues ([`unchanged`]), and otherwise makes the choice in full
//! ([`enter_best`]). The kernel runs on one CPU for now; the state is per CPU so that the fast
//! paths keep working when the others come up.
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
}

static SCHED: Global<Sched> = Global::new(Sched { queues: RunQueues::new() });

/// What the scheduler keeps for one CPU.
pub struct Cpu {
    /// The running task: runnable, and not in the run queues unless materialised there.
    current: Cell<Option<ObjRef>>,
    /// Something since `current` was chosen may have changed who should run (or there is no
    /// running task): the next return to user mode chooses in full.
    stale: Cell<bool>,
}

/// The CPUs the scheduler runs; only the boot CPU for now.
static CPUS: Global<[Cpu; 1]> = Global::new([Cpu { current: Cell::new(None), stale: Cell::new(true) }]);

/// The scheduler's state of the CPU this runs on. (With one CPU, the boot CPU's; when the others
/// come up, the index is the CPU's number from its per-CPU block.)
#[inline]
fn cpu() -> &'static Cpu {
    &CPUS[0]
}

/// Tasks in the run queues, and the running one, are live: a dying task leaves them first
/// (`object::stop`).
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

/// Puts a runnable task at the tail of its priority's queue (no-op if queued or running).
pub fn enqueue(t: ObjRef) {
    let c = cpu();
    let Some(cur) = c.current.get() else {
        SCHED.queues.push_back(t);
        return;
    };
    if cur == t {
        return;
    }
    SCHED.queues.push_back(t);
    if t.priority() > cur.priority() {
        c.stale.set(true);
    }
}

/// Puts a runnable task at the head of its priority's queue: the partner of a blocking IPC,
/// which then runs next unless a higher priority is runnable (the CPU goes straight to it, as
/// seL4's fastpath does, rather than behind other tasks of its priority). At the running task's
/// priority it goes ahead of the running task too, which is materialised at the head first.
pub fn enqueue_front(t: ObjRef) {
    let c = cpu();
    match c.current.get() {
        Some(cur) if cur == t => return,
        Some(cur) if t.priority() < cur.priority() => {}
        Some(cur) => {
            if t.priority() == cur.priority() {
                SCHED.queues.push_front(cur);
            }
            c.stale.set(true);
        }
        None => {}
    }
    SCHED.queues.push_front(t);
}

/// Takes a task out of its queue (no-op if not queued); it stops being the running task.
pub fn remove(t: ObjRef) {
    let c = cpu();
    if c.current.get() == Some(t) {
        c.current.set(None);
        c.stale.set(true);
    }
    SCHED.queues.remove(t);
}

/// Changes a task's priority, moving it to the tail of its new queue if it was queued or
/// running.
pub fn set_priority(t: ObjRef, priority: u8) {
    let c = cpu();
    let requeue = t.queued() || c.current.get() == Some(t);
    SCHED.queues.remove(t);
    task(t).priority.set(priority);
    if requeue {
        SCHED.queues.push_back(t);
        c.stale.set(true);
    }
}

/// The running task.
#[inline]
pub fn current() -> Option<ObjRef> {
    cpu().current.get()
}

/// Something the fast return to user mode skips must happen first (the running task's address
/// space changed; the root task stopped, which ends the run): the next return goes through
/// [`enter_best`] and its caller.
pub fn reschedule() {
    cpu().stale.set(true);
}

/// Moves the running task to the tail of its queue, with a fresh timeslice.
pub fn yield_current() {
    let c = cpu();
    if let Some(t) = c.current.get() {
        SCHED.queues.remove(t);
        task(t).ticks_left.set(TIMESLICE_TICKS as u32);
        SCHED.queues.push_back(t);
        c.stale.set(true);
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

/// Whether the running task keeps the CPU and nothing about it changed since it was entered:
/// it is still running, no task of a higher priority (or put ahead of it) became runnable, it
/// gave up no place, and its address space is the one loaded. The return to user mode after a
/// system call then goes straight back to it.
#[inline]
pub fn unchanged() -> bool {
    !cpu().stale.get()
}

/// Hands the CPU from the running task, which the caller has just made wait, to `next`, which
/// the caller made runnable and put in no queue, and enters it: the direct switch of the fast
/// paths, which looks at no queue. The running task is in no queue (on entry from user mode it
/// never is: see [`enter_best`]), so nothing is left behind. The caller has checked that `next`
/// is what [`enter_best`] would choose: its priority is at least the waiting task's, which was at
/// least that of every queued task. Returns only if `next` cannot be entered (it is the running
/// task then, as after [`enter_best`]).
pub fn switch_to(next: ObjRef) -> Unenterable {
    let c = cpu();
    debug_assert!(c.current.get().is_some_and(|cur| !cur.queued()));
    debug_assert!(!next.queued());
    c.current.set(Some(next));
    c.stale.set(false);
    let tk = task(next);
    let Some(vspace) = tk.vspace.get() else {
        return Unenterable { task: next, why: "it has no VSpace" };
    };
    // No `validate` here: every writer of a context keeps its RIP and FS base canonical user
    // addresses and its RFLAGS masked (see `SavedContext`); `enter_best` checks it all again, as a
    // second line, where the CPU is handed over by the general path.
    debug_assert_eq!(tk.ctx.validate(), Ok(()));
    let root = crate::object::vspace::space(vspace).root();
    // SAFETY: as in `enter`: the context lives in the task's own pages, which stay allocated
    // while it is current; it is valid (above); its VSpace shares the kernel's upper half.
    unsafe { crate::arch::context::enter_user(&tk.ctx, root) }
}

/// A task that cannot be entered, and why.
#[derive(Copy, Clone, Debug)]
pub struct Unenterable {
    /// The task (the running task now, out of the queues: the caller stops it or makes it
    /// wait).
    pub task: ObjRef,
    /// What is wrong with it, for the log.
    pub why: &'static str,
}

/// Returns to user mode in the best runnable task: the running one if no queued task outranks
/// it (it is ahead of its own priority's queue), else the head of the highest queue (the running
/// task, if it was preempted, going back to the head of its own). Returns only if there is none
/// (`Ok`: the caller idles until an interrupt) or the best one cannot be entered (`Err`).
pub fn enter_best() -> Result<(), Unenterable> {
    let c = cpu();
    c.stale.set(false);
    let t = match c.current.get() {
        Some(cur) if !cur.queued() && SCHED.queues.highest().is_none_or(|h| h <= cur.priority()) => cur,
        cur => {
            if let Some(cur) = cur
                && !cur.queued()
            {
                SCHED.queues.push_front(cur);
            }
            let next = SCHED.queues.pop_best();
            c.current.set(next);
            let Some(next) = next else {
                c.stale.set(true);
                return Ok(());
            };
            next
        }
    };
    Err(enter(t))
}

/// Enters `t`, the running task; returns only if it cannot be entered, saying why.
fn enter(t: ObjRef) -> Unenterable {
    let tk = task(t);
    debug_assert_eq!(tk.state.get(), State::Runnable);
    let Some(vspace) = tk.vspace.get() else {
        return Unenterable { task: t, why: "it has no VSpace" };
    };
    if let Err(why) = tk.ctx.validate() {
        let why = match why {
            EnterError::BadRip => "its rip is not a canonical user address",
            EnterError::BadFsBase => "its FS base is not a canonical user address",
        };
        return Unenterable { task: t, why };
    }
    let root = crate::object::vspace::space(vspace).root();
    // SAFETY: the context lives in the task's own pages, which stay allocated while the task is
    // current (a dying task stops being current first); it passed `validate` just now; its
    // VSpace shares the kernel's upper half.
    unsafe { crate::arch::context::enter_user(&tk.ctx, root) }
}
