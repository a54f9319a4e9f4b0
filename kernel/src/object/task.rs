//! Task objects: a thread of execution, its saved registers, and its place in the scheduler.
//!
//! A Task holds references to its CSpace and VSpace (set by `task_set_space`), a priority and a
//! maximum controlled priority, and the links of the run queue it sits in while runnable. When its
//! last capability goes, it stops at once ([`on_death`] takes it out of the scheduler) and is
//! destroyed by the reaper, which releases its CSpace and VSpace.

use abi::Error;
use abi::task::{State, TASK_PAGES, TIMESLICE_TICKS};

use super::{Ctx, Header, Kind, ObjRef, create};
use crate::arch::context::UserContext;

/// A task.
#[repr(C)]
pub struct TaskObj {
    hdr: Header,
    /// Saved registers.
    pub ctx: UserContext,
    /// What it is doing.
    pub state: State,
    /// Scheduling priority.
    pub priority: u8,
    /// The highest priority it may give any task.
    pub max_priority: u8,
    /// Timer ticks left in its timeslice.
    pub ticks_left: u32,
    /// Its CSpace (a reference held).
    pub cspace: Option<ObjRef>,
    /// Its VSpace (a reference held).
    pub vspace: Option<ObjRef>,
    /// Run-queue links.
    pub rq_next: Option<ObjRef>,
    /// Run-queue links.
    pub rq_prev: Option<ObjRef>,
    /// Whether it is in a run queue.
    pub queued: bool,
    /// Exit status (exited) or fault vector (faulted).
    pub detail: u64,
    /// A number for logs.
    pub id: u64,
    /// The root task ends the run when it exits or faults.
    pub is_root: bool,
    /// The Endpoint it waits in (sending or receiving), if blocked there.
    pub blocked_on: Option<ObjRef>,
    /// Endpoint-queue links.
    pub ep_next: Option<ObjRef>,
    /// Endpoint-queue links.
    pub ep_prev: Option<ObjRef>,
    /// The message it is sending (while blocked sending).
    pub msg: [u64; 5],
    /// The badge its message carries.
    pub msg_badge: u64,
    /// Its message is a `call`: it waits for a reply after delivery.
    pub msg_call: bool,
    /// Its message is a fault message: the reply must not touch its registers.
    pub msg_fault: bool,
    /// The caller this task must answer (its one-shot reply right).
    pub reply_to: Option<ObjRef>,
    /// The task holding this task's reply right, while it waits for a reply.
    pub replier: Option<ObjRef>,
    /// Where its faults go (a reference held), with the badge they carry.
    pub fault_ep: Option<ObjRef>,
    /// The fault endpoint capability's badge.
    pub fault_badge: u64,
    /// The Note bound to it (no reference: the Note unbinds when either dies).
    pub bound_note: Option<ObjRef>,
    /// Its IPC buffer page (a user address in its VSpace; 0: none).
    pub ipc_buffer: u64,
    /// Its message may carry a capability (the endpoint capability had GRANT).
    pub msg_grant: bool,
    /// The slot of the Reply capability that answers its pending call, if one was saved. The
    /// capability holds no reference to the task; the task empties the slot when it dies.
    pub saved_reply: Option<super::cdt::SlotRef>,
}

const _: () = assert!(core::mem::size_of::<TaskObj>() <= TASK_PAGES * 4096);

/// The task behind `t`.
///
/// # Safety
/// `t` must name a live Task, and the caller must not hold another reference to it.
pub unsafe fn get<'a>(t: ObjRef) -> &'a mut TaskObj {
    debug_assert_eq!(t.kind(), Kind::Task);
    // SAFETY: the caller guarantees a live Task and no aliasing reference.
    unsafe { &mut *t.cast::<TaskObj>() }
}

static NEXT_ID: core::sync::atomic::AtomicU64 = core::sync::atomic::AtomicU64::new(1);

/// Makes an inactive task charged to `memory` (none for the root task).
pub fn create_task(ctx: &mut Ctx<'_>, memory: Option<ObjRef>) -> Result<ObjRef, Error> {
    let t = create::<TaskObj>(
        ctx,
        Kind::Task,
        memory,
        TASK_PAGES as u64,
        if memory.is_some() { TASK_PAGES as u64 } else { 0 },
    )?;
    // SAFETY: a fresh Task; its run is zeroed, so every field but these is already valid
    // (zero is `None`, `false`, `State::Inactive` and an all-zero context).
    let task = unsafe { get(t) };
    task.ctx = UserContext::new(0, 0);
    task.state = State::Inactive;
    task.ticks_left = TIMESLICE_TICKS as u32;
    task.id = NEXT_ID.fetch_add(1, core::sync::atomic::Ordering::Relaxed);
    Ok(t)
}

/// Called when the task's last reference goes: it stops at once, leaving every queue and reply
/// relation it is part of.
pub fn on_death(t: ObjRef) {
    // SAFETY: the task is dead; nothing else refers to it now.
    if unsafe { get(t) }.is_root {
        crate::error!("the root task's last capability was deleted; ending the run");
        crate::arch::qemu::exit(abi::testexit::PANIC);
    }
    crate::sched::remove(t);
    super::endpoint::cancel(t);
    // SAFETY: the task is dead; nothing else refers to it now.
    if let Some(slot) = unsafe { get(t) }.saved_reply.take() {
        super::cspace::drop_reply(slot);
    }
    // SAFETY: the task is dead; nothing else refers to it now.
    let task = unsafe { get(t) };
    task.state = State::Exited;
    crate::arch::context::forget_fpu_owner(&raw const task.ctx);
}

/// Stops `t` for good (`task_destroy`): as on death, and its CSpace, VSpace and fault endpoint are
/// let go at once. The object stays until its last capability goes. O(1).
pub fn destroy(ctx: &mut Ctx<'_>, t: ObjRef) {
    // SAFETY: `t` is a live task named by the caller's capability; no other reference is held.
    let task = unsafe { get(t) };
    if task.state == State::Exited && task.cspace.is_none() && task.vspace.is_none() {
        return;
    }
    if task.is_root {
        crate::error!("the root task was destroyed; ending the run");
        crate::arch::qemu::exit(abi::testexit::PANIC);
    }
    crate::sched::remove(t);
    super::endpoint::cancel(t);
    // SAFETY: as above.
    let task = unsafe { get(t) };
    if let Some(slot) = task.saved_reply.take() {
        super::cspace::drop_reply(slot);
    }
    task.state = State::Exited;
    task.detail = abi::task::DESTROYED;
    crate::arch::context::forget_fpu_owner(&raw const task.ctx);
    teardown(ctx, t);
}

/// Stops task `t` in `state` (exited or faulted, with `detail`): it leaves the scheduler. The
/// root task stopping ends the run (status 0 exit: success; any other end: failure or panic).
pub fn stop(t: ObjRef, state: State, detail: u64, why: &str) {
    crate::sched::remove(t);
    // SAFETY: a live task; this is the only reference made to it here.
    let task = unsafe { get(t) };
    task.state = state;
    task.detail = detail;
    if task.is_root {
        use abi::testexit;
        match state {
            State::Exited => {
                crate::info!("root task exited with status {detail}");
                crate::arch::qemu::exit(if detail == 0 { testexit::SUCCESS } else { testexit::FAILURE })
            }
            _ => {
                crate::error!("root task stopped ({why}); ending the run");
                crate::arch::qemu::exit(testexit::PANIC)
            }
        }
    }
}

/// Records where the Reply capability answering `t` is (or that it is gone).
pub fn reply_cap_at(t: ObjRef, slot: Option<super::cdt::SlotRef>) {
    // SAFETY: a Reply capability names a live task (a dying task empties its slot first).
    unsafe { get(t) }.saved_reply = slot;
}

/// Teardown of a dead task: releases its CSpace and VSpace. O(1).
pub(super) fn teardown(ctx: &mut Ctx<'_>, t: ObjRef) {
    // SAFETY: the task is dead and only reachable from the dead list.
    let task = unsafe { get(t) };
    if let Some(c) = task.cspace.take() {
        c.release(ctx.dead);
    }
    if let Some(v) = task.vspace.take() {
        v.release(ctx.dead);
    }
    if let Some(e) = task.fault_ep.take() {
        e.release(ctx.dead);
    }
}
