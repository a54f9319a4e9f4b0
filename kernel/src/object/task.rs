//! Task objects: a thread of execution, its saved registers, and the links that put it in the
//! scheduler's queues, an object's wait queue and IPC relations.
//!
//! This module owns what a task *is*: its fields (all cells, shared through [`get`]), making one,
//! and the [`WaitQueue`] that links tasks through them. It knows nothing of the objects a task
//! waits on: waiting and waking ([`super::waitq`]), IPC ([`super::endpoint`], [`super::note`]) and
//! stopping a task for good ([`super::stop`]) sit above it and use these fields.

use core::cell::Cell;
use core::ptr::NonNull;

use abi::Error;
use abi::task::{State, TASK_PAGES, TIMESLICE_TICKS};

use super::{Ctx, Header, Kind, ObjRef, Object, create};
use crate::arch::context::SavedContext;

/// A task.
#[repr(C)]
pub struct TaskObj {
    hdr: Header,
    /// Saved registers.
    pub ctx: SavedContext,
    /// What it is doing.
    pub state: Cell<State>,
    /// Scheduling priority.
    pub priority: Cell<u8>,
    /// The highest priority it may give any task.
    pub max_priority: Cell<u8>,
    /// Timer ticks left in its timeslice.
    pub ticks_left: Cell<u32>,
    /// Its CSpace (a reference held).
    pub cspace: Cell<Option<ObjRef>>,
    /// Its VSpace (a reference held).
    pub vspace: Cell<Option<ObjRef>>,
    /// Run-queue links.
    pub rq_next: Cell<Option<ObjRef>>,
    /// Run-queue links.
    pub rq_prev: Cell<Option<ObjRef>>,
    /// Whether it is in a run queue.
    pub queued: Cell<bool>,
    /// Exit status (exited) or fault vector (faulted).
    pub detail: Cell<u64>,
    /// A number for logs.
    pub id: Cell<u64>,
    /// The root task ends the run when it exits or faults.
    pub is_root: Cell<bool>,
    /// The object (Endpoint or Note) it waits on, if blocked in a wait queue.
    pub blocked_on: Cell<Option<ObjRef>>,
    /// The wait queue it is in (inside `blocked_on`), see `waitq`.
    pub wait_queue: Cell<Option<NonNull<WaitQueue>>>,
    /// Wait-queue links.
    pub wq_next: Cell<Option<ObjRef>>,
    /// Wait-queue links.
    pub wq_prev: Cell<Option<ObjRef>>,
    /// The message it is sending (while blocked sending).
    pub msg: Cell<[u64; 5]>,
    /// The badge its message carries.
    pub msg_badge: Cell<u64>,
    /// Its message is a `call`: it waits for a reply after delivery.
    pub msg_call: Cell<bool>,
    /// Its message is a fault message: the reply must not touch its registers.
    pub msg_fault: Cell<bool>,
    /// The caller this task must answer (its one-shot reply right).
    pub reply_to: Cell<Option<ObjRef>>,
    /// The task holding this task's reply right, while it waits for a reply.
    pub replier: Cell<Option<ObjRef>>,
    /// Where its faults go (a reference held), with the badge they carry.
    pub fault_ep: Cell<Option<ObjRef>>,
    /// The fault endpoint capability's badge.
    pub fault_badge: Cell<u64>,
    /// The Note signalled whenever it stops (a reference held), see `stop`.
    pub exit_note: Cell<Option<ObjRef>>,
    /// The bits (with the Note capability's badge) it is signalled with.
    pub exit_bits: Cell<u64>,
    /// The Note bound to it (no reference: the Note unbinds when either dies).
    pub bound_note: Cell<Option<ObjRef>>,
    /// Its IPC buffer page (a user address in its VSpace; 0: none).
    pub ipc_buffer: Cell<u64>,
    /// The last translation of its IPC buffer page (`object::transfer`), checked before each use
    /// against its VSpace, the page and every unmap since (all zeros: none).
    pub buffer_translation: Cell<crate::mem::vspace::PageTranslation>,
    /// Its message may carry a capability (the endpoint capability had GRANT).
    pub msg_grant: Cell<bool>,
    /// What its message carries through the IPC buffers (the high half of its syscall's `rax`).
    pub msg_extra: Cell<abi::ipc::Extra>,
    /// The slot of the Reply capability that answers its pending call, if one was saved. The
    /// capability holds no reference to the task; the task empties the slot when it dies.
    pub saved_reply: Cell<Option<super::cdt::SlotRef>>,
}

// SAFETY: `repr(C)`, starts with the header; every field after it is a cell or a
// `SavedContext` (an `UnsafeCell`), and zero is valid for each: `None`, `false`, 0,
// `State::Inactive`, `Extra::NONE` and an all-zero register set.
unsafe impl Object for TaskObj {
    const KIND: Kind = Kind::Task;
}

const _: () = assert!(core::mem::size_of::<TaskObj>() <= TASK_PAGES * 4096);
const _: () = assert!(State::Inactive as u32 == 0);

/// The task behind `t`, which must name a live Task.
pub fn get<'a>(t: ObjRef) -> &'a TaskObj {
    t.get()
}

static NEXT_ID: core::sync::atomic::AtomicU64 = core::sync::atomic::AtomicU64::new(1);

/// Makes an inactive task charged to `memory` (none for the root task).
pub fn create_task(ctx: &mut Ctx<'_>, memory: Option<ObjRef>) -> Result<ObjRef, Error> {
    let charge = if memory.is_some() { TASK_PAGES as u64 } else { 0 };
    let t = create::<TaskObj>(ctx, memory, TASK_PAGES as u64, charge)?;
    // Every field but these is already valid as zero.
    let task = get(t);
    task.ctx.reset(0, 0, 0);
    task.ticks_left.set(TIMESLICE_TICKS as u32);
    task.id.set(NEXT_ID.fetch_add(1, core::sync::atomic::Ordering::Relaxed));
    Ok(t)
}

/// A FIFO of waiting tasks (see `waitq`), linked through the tasks' `wq_next`/`wq_prev`. `tail`
/// means something only while `head` is `Some` (taking the last task out leaves it as it was).
#[derive(Default)]
pub struct WaitQueue {
    head: Cell<Option<ObjRef>>,
    tail: Cell<Option<ObjRef>>,
}

impl WaitQueue {
    /// Appends `t`, which now waits on `owner` (the object this queue is part of).
    pub(super) fn push(&self, owner: ObjRef, t: ObjRef) {
        let tk = get(t);
        tk.wq_next.set(None);
        match self.head.get() {
            Some(_) => {
                let tail = self.tail.get();
                tk.wq_prev.set(tail);
                if let Some(tail) = tail {
                    get(tail).wq_next.set(Some(t));
                }
            }
            None => {
                tk.wq_prev.set(None);
                self.head.set(Some(t));
            }
        }
        self.tail.set(Some(t));
        tk.blocked_on.set(Some(owner));
        tk.wait_queue.set(Some(NonNull::from(self)));
    }

    /// Takes `t` (which is in this queue) out.
    pub(super) fn unlink(&self, t: ObjRef) {
        let tk = get(t);
        let (prev, next) = (tk.wq_prev.take(), tk.wq_next.take());
        match prev {
            Some(p) => get(p).wq_next.set(next),
            None => self.head.set(next),
        }
        match next {
            Some(n) => get(n).wq_prev.set(prev),
            None => self.tail.set(prev),
        }
        tk.blocked_on.set(None);
        tk.wait_queue.set(None);
    }

    /// The first task, left in.
    #[inline]
    pub(super) fn head(&self) -> Option<ObjRef> {
        self.head.get()
    }

    /// Takes the first task out.
    pub(super) fn pop(&self) -> Option<ObjRef> {
        let t = self.head.get()?;
        let tk = get(t);
        let next = tk.wq_next.take();
        self.head.set(next);
        if let Some(n) = next {
            get(n).wq_prev.set(None);
        }
        tk.blocked_on.set(None);
        tk.wait_queue.set(None);
        Some(t)
    }
}

/// Records where the Reply capability answering `t` is (or that it is gone).
pub fn reply_cap_at(t: ObjRef, slot: Option<super::cdt::SlotRef>) {
    // A Reply capability names a live task (a dying task empties its slot first).
    get(t).saved_reply.set(slot);
}

/// Teardown of a dead task: releases its CSpace, VSpace, fault endpoint and exit Note. O(1).
pub(super) fn teardown(ctx: &mut Ctx<'_>, t: ObjRef) {
    // The task is dead and only reachable from the dead list.
    let task = get(t);
    let held = [task.cspace.take(), task.vspace.take(), task.fault_ep.take(), task.exit_note.take()];
    for held in held.into_iter().flatten() {
        held.release(ctx.dead);
    }
}
