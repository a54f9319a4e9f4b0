//! Task syscalls: decode, check capabilities, kinds and rights, then act on the target task and
//! the scheduler. Lookups come first; the target is changed only after every check passed.

use abi::Error;
use abi::object::{Kind, rights};
use abi::task::{REGISTERS_BYTES, Registers, State};

use super::{Results, caps, one};
use crate::arch::context::{self, is_user_canonical, sanitize_rflags};
use crate::object::task::{TaskObj, create_task, get};
use crate::object::{ObjRef, global, vspace};
use crate::sched;

/// The Task the caller's capability `cap` names, with the rights in `need`.
fn target(task: &TaskObj, cap: u64, need: usize) -> Result<ObjRef, Error> {
    caps::need_object(task, cap, Kind::Task, need).map(|(t, _)| t)
}

fn task_mut<'a>(t: ObjRef) -> &'a mut TaskObj {
    // SAFETY: `t` came from a capability lookup, so it is live; the handlers below make this
    // reference only after they are done with the caller's.
    unsafe { get(t) }
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
    let tk = task_mut(t);
    let (old_cs, old_vs) = (tk.cspace.replace(cs), tk.vspace.replace(vs));
    global::with(|ctx| {
        old_cs.into_iter().chain(old_vs).for_each(|o| o.release(ctx.dead));
    });
    Ok(one(0))
}

/// `task_set_priority`.
pub fn set_priority(task: &TaskObj, t: u64, authority: u64, priority: u64, max: u64) -> Result<Results, Error> {
    let t = target(task, t, rights::WRITE)?;
    let a = target(task, authority, rights::READ)?;
    let limit = u64::from(task_mut(a).max_priority);
    if priority > limit || max > limit {
        return Err(Error::InvalidArgument);
    }
    sched::set_priority(t, priority as u8);
    task_mut(t).max_priority = max as u8;
    Ok(one(0))
}

fn registers(tk: &TaskObj) -> Registers {
    let c = &tk.ctx;
    Registers {
        rax: c.rax,
        rbx: c.rbx,
        rcx: c.rcx,
        rdx: c.rdx,
        rsi: c.rsi,
        rdi: c.rdi,
        rbp: c.rbp,
        r8: c.r8,
        r9: c.r9,
        r10: c.r10,
        r11: c.r11,
        r12: c.r12,
        r13: c.r13,
        r14: c.r14,
        r15: c.r15,
        rip: c.rip,
        rsp: c.rsp,
        rflags: c.rflags,
        fs_base: c.fs_base,
    }
}

/// `task_read_regs`.
pub fn read_regs(me: ObjRef, task: &TaskObj, t: u64, buf: u64) -> Result<Results, Error> {
    let t = target(task, t, rights::READ)?;
    if t == me {
        return Err(Error::InvalidState);
    }
    let space = vspace::space(task.vspace.ok_or(Error::InvalidState)?);
    let regs = registers(task_mut(t));
    // SAFETY: `Registers` is `repr(C)` plain data of `u64`s, with no padding.
    let bytes = unsafe { core::slice::from_raw_parts((&raw const regs).cast::<u8>(), REGISTERS_BYTES) };
    if !space.copy_to_user(buf, bytes) {
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
    let space = vspace::space(task.vspace.ok_or(Error::InvalidState)?);
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
    // SAFETY: `Registers` is `repr(C)` plain data: every bit pattern is valid.
    let r: Registers = unsafe { core::ptr::read_unaligned(bytes.as_ptr().cast()) };
    if !is_user_canonical(r.rip) || !is_user_canonical(r.fs_base) {
        return Err(Error::InvalidArgument);
    }
    let c = &mut task_mut(t).ctx;
    context::make_full(c);
    (c.rax, c.rbx, c.rcx, c.rdx, c.rsi, c.rdi, c.rbp) = (r.rax, r.rbx, r.rcx, r.rdx, r.rsi, r.rdi, r.rbp);
    (c.r8, c.r9, c.r10, c.r11, c.r12, c.r13, c.r14, c.r15) = (r.r8, r.r9, r.r10, r.r11, r.r12, r.r13, r.r14, r.r15);
    (c.rip, c.rsp, c.rflags, c.fs_base) = (r.rip, r.rsp, sanitize_rflags(r.rflags), r.fs_base);
    Ok(one(0))
}

/// `task_start`.
pub fn start(task: &TaskObj, t: u64) -> Result<Results, Error> {
    let t = target(task, t, rights::WRITE)?;
    let tk = task_mut(t);
    if tk.state != State::Inactive || tk.cspace.is_none() || tk.vspace.is_none() {
        return Err(Error::InvalidState);
    }
    tk.state = State::Runnable;
    sched::enqueue(t);
    Ok(one(0))
}

/// `task_suspend`.
pub fn suspend(task: &TaskObj, t: u64) -> Result<Results, Error> {
    let t = target(task, t, rights::WRITE)?;
    let tk = task_mut(t);
    if tk.state != State::Runnable {
        return Err(Error::InvalidState);
    }
    tk.state = State::Suspended;
    sched::remove(t);
    Ok(one(0))
}

/// `task_resume`.
pub fn resume(task: &TaskObj, t: u64) -> Result<Results, Error> {
    let t = target(task, t, rights::WRITE)?;
    let tk = task_mut(t);
    if !matches!(tk.state, State::Suspended | State::Faulted) {
        return Err(Error::InvalidState);
    }
    tk.state = State::Runnable;
    sched::enqueue(t);
    Ok(one(0))
}

/// `task_info`.
pub fn info(task: &TaskObj, t: u64) -> Result<Results, Error> {
    let t = target(task, t, rights::READ)?;
    let tk = task_mut(t);
    Ok([tk.state as u64, u64::from(tk.priority), u64::from(tk.max_priority), tk.detail, 0, 0])
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
    let tk = task_mut(t);
    let old = core::mem::replace(&mut tk.fault_ep, new.map(|(e, _)| e));
    tk.fault_badge = new.map_or(0, |(_, b)| b);
    if let Some(o) = old {
        global::with(|ctx| o.release(ctx.dead));
    }
    Ok(one(0))
}

/// `task_destroy`.
pub fn destroy(task: &TaskObj, t: u64) -> Result<Results, Error> {
    let t = target(task, t, rights::WRITE)?;
    global::with(|ctx| crate::object::task::destroy(ctx, t));
    Ok(one(0))
}

/// `task_set_ipc_buffer`.
pub fn set_ipc_buffer(task: &TaskObj, t: u64, vaddr: u64) -> Result<Results, Error> {
    let t = target(task, t, rights::WRITE)?;
    if vaddr != 0 && (!vaddr.is_multiple_of(4096) || !abi::layout::is_user_range(vaddr as usize, 4096)) {
        return Err(Error::InvalidArgument);
    }
    task_mut(t).ipc_buffer = vaddr;
    Ok(one(0))
}
