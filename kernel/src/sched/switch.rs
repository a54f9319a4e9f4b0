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
    /// A task made runnable above the running one and not queued yet: the only one since the
    /// running task was chosen, so it is the next choice, and [`enter_best`] switches to it
    /// without queueing it and taking it out again. Any other change to the queues puts it in
    /// its queue first, where it belongs (the tail of its priority's).
    woken: Cell<Option<ObjRef>>,
}

/// The CPUs the scheduler runs; only the boot CPU for now.
static CPUS: Global<[Cpu; 1]> =
    Global::new([Cpu { current: Cell::new(None), stale: Cell::new(true), woken: Cell::new(None) }]);

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

/// Puts the task woken above the running one, if any, in its queue (see `Cpu::woken`): before
/// any other change to the queues, so that the order stays the order of events.
fn settle(c: &Cpu) {
    if let Some(w) = c.woken.take() {
        SCHED.queues.push_back(w);
    }
}

/// Puts a runnable task at the tail of its priority's queue (no-op if queued or running). The
/// first one since the running task was chosen to outrank it waits outside the queues
/// (`Cpu::woken`): it runs next.
pub fn enqueue(t: ObjRef) {
    let c = cpu();
    if t.queued() || c.woken.get() == Some(t) {
        return;
    }
    let Some(cur) = c.current.get() else {
        settle(c);
        SCHED.queues.push_back(t);
        return;
    };
    if cur == t {
        return;
    }
    if t.priority() > cur.priority() {
        c.stale.set(true);
        if c.woken.get().is_none() && !cur.queued() {
            c.woken.set(Some(t));
            return;
        }
    }
    settle(c);
    SCHED.queues.push_back(t);
}

/// Puts a runnable task at the head of its priority's queue: the partner of a blocking IPC,
/// which then runs next unless a higher priority is runnable (the CPU goes straight to it, as
/// seL4's fastpath does, rather than behind other tasks of its priority). At the running task's
/// priority it goes ahead of the running task too, which is materialised at the head first.
pub fn enqueue_front(t: ObjRef) {
    let c = cpu();
    settle(c);
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
    if c.woken.get() == Some(t) {
        c.woken.set(None);
    }
    SCHED.queues.remove(t);
}

/// Changes a task's priority, moving it to the tail of its new queue if it was queued or
/// running.
pub fn set_priority(t: ObjRef, priority: u8) {
    let c = cpu();
    settle(c);
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
    settle(c);
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

/// Whether a task of priority `p` put at the tail of its queue now would be the next choice
/// once the running task stops running: no queued task has priority `p` or more. (The running
/// task is in no queue.)
#[inline]
pub fn first_at_tail(p: u8) -> bool {
    debug_assert!(cpu().woken.get().is_none());
    SCHED.queues.highest().is_none_or(|h| h < p)
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
/// least that of every queued task; and that it can be entered ([`Enterable`]).
pub fn switch_to(next: Enterable) -> ! {
    let c = cpu();
    debug_assert!(c.current.get().is_some_and(|cur| !cur.queued()));
    run_now(c, next)
}

/// A task a fast path has checked it can enter: it has a VSpace, whose root is kept here for the
/// switch. Made only by [`enterable`], at the check, and used by the direct switch of the same
/// call ([`switch_to`], [`preempt_to`]): nothing in between changes a task's VSpace, so the
/// switch need not look again.
#[derive(Copy, Clone, Debug)]
pub struct Enterable {
    task: ObjRef,
    root: x86_64::PhysAddr,
}

/// `t`, if it can be entered (it has a VSpace).
#[inline]
pub fn enterable(t: ObjRef) -> Option<Enterable> {
    let vspace = task(t).vspace.get()?;
    Some(Enterable { task: t, root: crate::object::vspace::space(vspace).root() })
}

/// The running task `me`, preempted, goes back to the head of its queue, and `next`, which the
/// caller made runnable, put in no queue and checked to outrank it, runs now: the direct switch
/// of a fast path that wakes a task of a higher priority (which would be the head of the
/// highest queue: every queued task is at most the running task's priority).
pub fn preempt_to(me: ObjRef, next: Enterable) -> ! {
    let c = cpu();
    debug_assert!(c.current.get() == Some(me) && !me.queued() && me.priority() < next.task.priority());
    SCHED.queues.push_front(me);
    run_now(c, next)
}

/// The fast path of `task_yield`: the running task goes to the tail of its priority's queue
/// with a fresh timeslice, and the head of that queue runs (the running task outranked every
/// queue, so the head of its own is the next choice). Returns `None`, having only refreshed its
/// timeslice, when it is alone at its priority: it goes on. Otherwise it returns only if the
/// next task cannot be entered.
pub fn yield_direct() -> Option<NoVSpace> {
    let c = cpu();
    let cur = c.current.get()?;
    debug_assert!(!cur.queued() && c.woken.get().is_none());
    task(cur).ticks_left.set(TIMESLICE_TICKS as u32);
    let next = SCHED.queues.rotate(cur.priority(), cur)?;
    match enterable(next) {
        Some(e) => run_now(c, e),
        None => {
            c.current.set(Some(next));
            Some(NoVSpace(next))
        }
    }
}

/// Makes `next` the running task and enters it (see [`switch_to`]).
fn run_now(c: &Cpu, next: Enterable) -> ! {
    // A fast path starts where the running task was entered with nothing stale (or the short
    // return would not have been taken) and changes nothing that sets it.
    debug_assert!(c.woken.get().is_none() && !c.stale.get());
    debug_assert!(!next.task.queued());
    c.current.set(Some(next.task));
    let tk = task(next.task);
    // No `validate` here: every writer of a context keeps its RIP and FS base canonical user
    // addresses and its RFLAGS masked (see `SavedContext`); `enter_best` checks it all again, as a
    // second line, where the CPU is handed over by the general path.
    debug_assert_eq!(tk.ctx.validate(), Ok(()));
    debug_assert!(tk.vspace.get().is_some_and(|v| crate::object::vspace::space(v).root() == next.root));
    // SAFETY: as in `enter`: the context lives in the task's own pages, which stay allocated
    // while it is current; it is valid (above); its VSpace, whose root `enterable` read in this
    // same call, shares the kernel's upper half.
    unsafe { crate::arch::context::enter_user(&tk.ctx, next.root) }
}

/// The task `yield_direct` chose has no VSpace, so it cannot be entered (it is the running task
/// now; the caller makes it take the fault the CPU would have raised). Small, so that it comes
/// back in a register.
#[derive(Copy, Clone, Debug)]
pub struct NoVSpace(pub ObjRef);

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
    if let Some(w) = c.woken.take() {
        // The one task woken above the running one since it was chosen: nothing queued
        // outranks it (it would be the head of its queue), so it runs now, and the running task,
        // preempted, goes back to the head of its own.
        let cur = c.current.get().filter(|cur| !cur.queued());
        if SCHED.queues.highest().is_none_or(|h| h < w.priority())
            && cur.is_none_or(|cur| cur.priority() < w.priority())
        {
            if let Some(cur) = cur {
                SCHED.queues.push_front(cur);
            }
            c.current.set(Some(w));
            return Err(enter(w));
        }
        SCHED.queues.push_back(w);
    }
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
    let Some(e) = enterable(t) else {
        return Unenterable { task: t, why: "it has no VSpace" };
    };
    if let Err(why) = tk.ctx.validate() {
        let why = match why {
            EnterError::BadRip => "its rip is not a canonical user address",
            EnterError::BadFsBase => "its FS base is not a canonical user address",
        };
        return Unenterable { task: t, why };
    }
    // SAFETY: the context lives in the task's own pages, which stay allocated while the task is
    // current (a dying task stops being current first); it passed `validate` just now; its
    // VSpace, whose root `enterable` read just now, shares the kernel's upper half.
    unsafe { crate::arch::context::enter_user(&tk.ctx, e.root) }
}
