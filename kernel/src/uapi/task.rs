//! Task syscalls: decode, check capabilities, kinds and rights, then act on the target task and
//! the scheduler. Lookups come first; the target is changed only after every check passed.

use abi::Error;
use abi::object::{Kind, rights};
use abi::task::{REGISTERS_BYTES, Registers, State};

use super::{Results, caps, one};
use crate::arch::context::is_user_canonical;
use crate::object::task::{TaskObj, create_task, get};
use crate::object::{ObjRef, global, stop, vspace};
use crate::sched;

/// The Task the caller's capability `cap` names, with the rights in `need`.
fn target(task: &TaskObj, cap: u64, need: usize) -> Result<ObjRef, Error> {
    caps::need_object(task, cap, Kind::Task, need).map(|(t, _)| t)
}

/// `task_create`.
pub fn create(task: &TaskObj, memory: u64, dst_slot: u64) -> Result<Results, Error> {
    caps::make(task, memory, dst_slot, Kind::Task, true, |ctx, m| create_task(ctx, Some(m)))
}

/// `task_set_space`.
pub fn set_space(task: &TaskObj, t: u64, cspace: u64, vspace: u64) -> Result<Results, Error> {
    let t = target(task, t, rights::WRITE)?;
    let (cs, _) = caps::need_object(task, cspace, Kind::CSpace, rights::WRITE)?;
    let (vs, _) = caps::need_object(task, vspace, Kind::VSpace, rights::WRITE)?;
    cs.acquire();
    vs.acquire();
    let tk = get(t);
    let (old_cs, old_vs) = (tk.cspace.replace(Some(cs)), tk.vspace.replace(Some(vs)));
    if sched::current() == Some(t) {
        // The caller moved itself: its return to user mode loads the new address space.
        sched::reschedule();
    }
    global::with(|ctx| {
        old_cs.into_iter().chain(old_vs).for_each(|o| o.release(ctx.dead));
    });
    Ok(one(0))
}

/// `task_set_priority`.
pub fn set_priority(task: &TaskObj, t: u64, authority: u64, priority: u64, max: u64) -> Result<Results, Error> {
    let t = target(task, t, rights::WRITE)?;
    let a = target(task, authority, rights::READ)?;
    let limit = u64::from(get(a).max_priority.get());
    if priority > limit || max > limit {
        return Err(Error::InvalidArgument);
    }
    sched::set_priority(t, priority as u8);
    get(t).max_priority.set(max as u8);
    Ok(one(0))
}

/// `task_read_regs`.
pub fn read_regs(me: ObjRef, task: &TaskObj, t: u64, buf: u64) -> Result<Results, Error> {
    let t = target(task, t, rights::READ)?;
    if t == me {
        return Err(Error::InvalidState);
    }
    let space = vspace::space(task.vspace.get().ok_or(Error::InvalidState)?);
    if !space.copy_to_user(buf, &get(t).ctx.registers().to_bytes()) {
        return Err(Error::BadAddress);
    }
    Ok(one(0))
}

/// `task_write_regs`.
pub fn write_regs(me: ObjRef, task: &TaskObj, t: u64, buf: u64) -> Result<Results, Error> {
    let t = target(task, t, rights::WRITE)?;
    if t == me {
        return Err(Error::InvalidState);
    }
    let space = vspace::space(task.vspace.get().ok_or(Error::InvalidState)?);
    let mut bytes = [0u8; REGISTERS_BYTES];
    let mut at = 0;
    let readable = space.user_bytes(buf, REGISTERS_BYTES as u64, false, |pieces| {
        for p in pieces {
            bytes[at..at + p.len()].copy_from_slice(p);
            at += p.len();
        }
    });
    if !readable {
        return Err(Error::BadAddress);
    }
    let r = Registers::from_bytes(&bytes);
    if !is_user_canonical(r.rip) || !is_user_canonical(r.fs_base) {
        return Err(Error::InvalidArgument);
    }
    get(t).ctx.set_registers(&r);
    Ok(one(0))
}

/// `task_start`.
pub fn start(task: &TaskObj, t: u64) -> Result<Results, Error> {
    let t = target(task, t, rights::WRITE)?;
    let tk = get(t);
    if tk.state.get() != State::Inactive || tk.cspace.get().is_none() || tk.vspace.get().is_none() {
        return Err(Error::InvalidState);
    }
    tk.state.set(State::Runnable);
    sched::enqueue(t);
    Ok(one(0))
}

/// `task_suspend`.
pub fn suspend(task: &TaskObj, t: u64) -> Result<Results, Error> {
    let t = target(task, t, rights::WRITE)?;
    let tk = get(t);
    if tk.state.get() != State::Runnable {
        return Err(Error::InvalidState);
    }
    tk.state.set(State::Suspended);
    sched::remove(t);
    Ok(one(0))
}

/// `task_resume`.
pub fn resume(task: &TaskObj, t: u64) -> Result<Results, Error> {
    let t = target(task, t, rights::WRITE)?;
    let tk = get(t);
    if !matches!(tk.state.get(), State::Suspended | State::Faulted) {
        return Err(Error::InvalidState);
    }
    tk.state.set(State::Runnable);
    sched::enqueue(t);
    Ok(one(0))
}

/// `task_info`.
pub fn info(task: &TaskObj, t: u64) -> Result<Results, Error> {
    let t = target(task, t, rights::READ)?;
    let tk = get(t);
    Ok([tk.state.get() as u64, u64::from(tk.priority.get()), u64::from(tk.max_priority.get()), tk.detail.get(), 0, 0])
}

/// `task_set_fault_endpoint`.
pub fn set_fault_endpoint(task: &TaskObj, t: u64, ep: u64) -> Result<Results, Error> {
    let t = target(task, t, rights::WRITE)?;
    let new = if ep == 0 {
        None
    } else {
        let (e, c) = caps::need_object(task, ep, Kind::Endpoint, rights::WRITE)?;
        Some((e, c.badge))
    };
    if let Some((e, _)) = new {
        e.acquire();
    }
    let tk = get(t);
    let old = tk.fault_ep.replace(new.map(|(e, _)| e));
    tk.fault_badge.set(new.map_or(0, |(_, b)| b));
    if let Some(o) = old {
        global::with(|ctx| o.release(ctx.dead));
    }
    Ok(one(0))
}

/// `task_set_exit_note`.
pub fn set_exit_note(task: &TaskObj, t: u64, note: u64, bits: u64) -> Result<Results, Error> {
    let t = target(task, t, rights::WRITE)?;
    let new = caps::signal_target(task, note, bits)?;
    if let Some((n, _)) = new {
        n.acquire();
    }
    let tk = get(t);
    let old = tk.exit_note.replace(new.map(|(n, _)| n));
    tk.exit_bits.set(new.map_or(0, |(_, b)| b));
    if let Some(o) = old {
        global::with(|ctx| o.release(ctx.dead));
    }
    Ok(one(0))
}

/// `task_set_fs_base`: also for the caller itself (its context is written now; the exit path
/// loads the FS base from it).
pub fn set_fs_base(task: &TaskObj, t: u64, base: u64) -> Result<Results, Error> {
    let t = target(task, t, rights::WRITE)?;
    if !is_user_canonical(base) {
        return Err(Error::InvalidArgument);
    }
    get(t).ctx.set_fs_base(base);
    Ok(one(0))
}

/// `task_destroy`.
pub fn destroy(task: &TaskObj, t: u64) -> Result<Results, Error> {
    let t = target(task, t, rights::WRITE)?;
    global::with(|ctx| stop::destroy(ctx, t));
    Ok(one(0))
}

/// `task_kill`.
pub fn kill(task: &TaskObj, t: u64, status: u64) -> Result<Results, Error> {
    let t = target(task, t, rights::WRITE)?;
    global::with(|ctx| stop::kill(ctx, t, status));
    Ok(one(0))
}

/// `task_set_ipc_buffer`.
pub fn set_ipc_buffer(task: &TaskObj, t: u64, vaddr: u64) -> Result<Results, Error> {
    let t = target(task, t, rights::WRITE)?;
    if vaddr != 0 && (!vaddr.is_multiple_of(4096) || !abi::layout::is_user_range(vaddr as usize, 4096)) {
        return Err(Error::InvalidArgument);
    }
    get(t).ipc_buffer.set(vaddr);
    Ok(one(0))
}
