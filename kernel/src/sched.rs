//! The scheduler: fixed priorities, round robin within a priority, preemption by the timer.
//!
//! Runnable tasks sit in one FIFO queue per priority (256), linked through the tasks themselves;
//! a 256-bit bitmap of non-empty queues makes choosing the next task O(1) (at most four word
//! scans). The running task stays at the head of its queue; when its timeslice
//! (`abi::task::TIMESLICE_TICKS` timer ticks) runs out, or it yields, it moves to the tail. A task
//! that becomes runnable at a higher priority than the running one takes the CPU at the next
//! return to user mode. With nothing runnable the CPU halts until an interrupt.
//!
//! This module owns the queues and the choice; what a task is lives in `object::task`.

use abi::task::{State, TIMESLICE_TICKS};

use crate::object::ObjRef;
use crate::object::task::{TaskObj, get};
use crate::sync::RacyCell;

#[derive(Copy, Clone)]
struct Queue {
    head: Option<ObjRef>,
    tail: Option<ObjRef>,
}

struct Sched {
    queues: [Queue; 256],
    bitmap: [u64; 4],
    current: Option<ObjRef>,
}

static SCHED: RacyCell<Sched> =
    RacyCell::new(Sched { queues: [Queue { head: None, tail: None }; 256], bitmap: [0; 4], current: None });

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

/// Puts a runnable task at the tail of its priority's queue (no-op if queued).
pub fn enqueue(t: ObjRef) {
    let tk = task(t);
    if tk.queued {
        return;
    }
    let p = usize::from(tk.priority);
    let s = sched();
    tk.rq_next = None;
    tk.rq_prev = s.queues[p].tail;
    match s.queues[p].tail {
        Some(tail) => task(tail).rq_next = Some(t),
        None => s.queues[p].head = Some(t),
    }
    s.queues[p].tail = Some(t);
    tk.queued = true;
    s.bitmap[p / 64] |= 1 << (p % 64);
}

/// Puts a runnable task at the head of its priority's queue: the partner of a blocking IPC,
/// which then runs next unless a higher priority is runnable (the CPU goes straight to it, as
/// seL4's fastpath does, rather than behind other tasks of its priority).
pub fn enqueue_front(t: ObjRef) {
    let tk = task(t);
    if tk.queued {
        return;
    }
    let p = usize::from(tk.priority);
    let s = sched();
    // The running task keeps its turn at the head only while it runs; it is blocking here.
    tk.rq_prev = None;
    tk.rq_next = s.queues[p].head;
    match s.queues[p].head {
        Some(head) => task(head).rq_prev = Some(t),
        None => s.queues[p].tail = Some(t),
    }
    s.queues[p].head = Some(t);
    tk.queued = true;
    s.bitmap[p / 64] |= 1 << (p % 64);
}

/// Takes a task out of its queue (no-op if not queued); it stops being current.
pub fn remove(t: ObjRef) {
    let s = sched();
    if s.current == Some(t) {
        s.current = None;
    }
    let tk = task(t);
    if !tk.queued {
        return;
    }
    let p = usize::from(tk.priority);
    match tk.rq_prev {
        Some(prev) => task(prev).rq_next = tk.rq_next,
        None => s.queues[p].head = tk.rq_next,
    }
    match tk.rq_next {
        Some(next) => task(next).rq_prev = tk.rq_prev,
        None => s.queues[p].tail = tk.rq_prev,
    }
    tk.rq_next = None;
    tk.rq_prev = None;
    tk.queued = false;
    if s.queues[p].head.is_none() {
        s.bitmap[p / 64] &= !(1 << (p % 64));
    }
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
    let s = sched();
    let w = (0..4).rev().find(|&w| s.bitmap[w] != 0)?;
    let p = w * 64 + 63 - s.bitmap[w].leading_zeros() as usize;
    s.queues[p].head
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
