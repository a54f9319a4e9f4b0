//! The only door from user space: syscall decoding, traps and faults from user mode, and the
//! interrupts that arrive while a task runs.
//!
//! Each syscall decodes and checks all of its arguments before it changes anything, and answers
//! with a typed `abi::Error` when a check fails; nothing here trusts a register value. Every entry
//! ends in `sched::run`, which returns to the best runnable task.

use abi::Error;
use abi::object::rights;
use abi::syscall::{DEBUG_WRITE_MAX, Sysno};
use abi::task::State;
use abi::testexit;

use crate::arch::context::UserContext;
use crate::arch::trap::{VECTOR_PIC_BASE, VECTOR_SPURIOUS, VECTOR_TIMER, exception_name};
use crate::arch::{apic, qemu, serial};
use crate::object::task::{TaskObj, get};
use crate::object::{self, Kind, ObjRef};
use crate::sched;

mod caps;
mod ioport;
mod ipc;
mod notify;
mod task;
mod vspace;

/// Results of a successful syscall, in the argument registers.
type Results = [u64; 6];

/// The first result only.
fn one(v: u64) -> Results {
    [v, 0, 0, 0, 0, 0]
}

/// The calling task. Every entry from user mode has one.
fn caller() -> (ObjRef, &'static mut TaskObj) {
    let Some(t) = sched::current() else { no_task_left() };
    // SAFETY: the current task is live (a dying task stops being current), and this is the
    // only reference to it that the entry makes.
    (t, unsafe { get(t) })
}

/// Handles the syscall the current task just made; `ctx` is its saved state.
pub fn syscall(ctx: &mut UserContext) -> ! {
    let (me, task) = caller();
    debug_assert!(core::ptr::eq(ctx, &task.ctx));
    let a = [ctx.rdi, ctx.rsi, ctx.rdx, ctx.r10, ctx.r8, ctx.r9];
    let w = [a[1], a[2], a[3], a[4], a[5]];
    let result: Result<Option<Results>, Error> = match Sysno::try_from(ctx.rax as usize) {
        Ok(Sysno::Send) => ipc::send(me, task, a[0], w, false, true),
        Ok(Sysno::NbSend) => ipc::send(me, task, a[0], w, false, false),
        Ok(Sysno::Call) => ipc::send(me, task, a[0], w, true, true),
        Ok(Sysno::Recv) => ipc::recv(me, task, a[0], true),
        Ok(Sysno::NbRecv) => ipc::recv(me, task, a[0], false),
        Ok(Sysno::Reply) => ipc::reply(me, [a[0], a[1], a[2], a[3], a[4]]),
        Ok(Sysno::ReplyRecv) => ipc::reply_recv(me, task, a[0], w),
        Ok(Sysno::NoteWait) => notify::note_wait(me, task, a[0]),
        Ok(Sysno::ReplyTo) => ipc::reply_to(me, task, a[0], w),
        Ok(n) => other(me, task, n, a).map(Some),
        Err(e) => Err(e),
    };
    // The caller may have been stopped (suspended itself, or lost its last capability): its
    // registers are still its own to set.
    // SAFETY: the caller's page stays allocated until the reaper runs, below.
    let ctx = &mut unsafe { get(me) }.ctx;
    match result {
        Ok(Some(r)) => {
            ctx.rax = 0;
            [ctx.rdi, ctx.rsi, ctx.rdx, ctx.r10, ctx.r8, ctx.r9] = r;
        }
        // The caller waits; whoever wakes it writes its results.
        Ok(None) => {}
        Err(e) => ctx.rax = e.code() as u64,
    }
    // Objects the call let go of are destroyed a bounded step at a time, on every entry.
    object::global::reap_some();
    sched::run()
}

/// Every syscall that answers at once.
fn other(me: ObjRef, task: &mut TaskObj, n: Sysno, a: [u64; 6]) -> Result<Results, Error> {
    match n {
        Sysno::DebugWrite => debug_write(task, a[0], a[1], a[2]),
        Sysno::Exit => exit(me, a[0]),
        Sysno::CapCopy => caps::copy(task, a[0], a[1], a[2], a[3], None),
        Sysno::CapMint => caps::copy(task, a[0], a[1], a[2], a[3], Some(a[4])),
        Sysno::CapMove => caps::move_cap(task, a[0], a[1], a[2]),
        Sysno::CapDelete => caps::delete(task, a[0]),
        Sysno::CapRevoke => caps::revoke(task, a[0]),
        Sysno::CapIdentify => caps::identify(task, a[0]),
        Sysno::MemorySplit => caps::memory_split(task, a[0], a[1], a[2]),
        Sysno::MemoryInfo => caps::memory_info(task, a[0]),
        Sysno::CSpaceCreate => caps::cspace_create(task, a[0], a[1], a[2]),
        Sysno::VSpaceCreate => vspace::vspace_create(task, a[0], a[1]),
        Sysno::PageCreate => vspace::page_create(task, a[0], a[1], a[2]),
        Sysno::PageMap => vspace::page_map(task, a[0], a[1], a[2], a[3], a[4]),
        Sysno::PageUnmap => vspace::page_unmap(task, a[0]),
        Sysno::PageProtect => vspace::page_protect(task, a[0], a[1]),
        Sysno::PageInfo => vspace::page_info(task, a[0]),
        Sysno::TaskCreate => task::create(task, a[0], a[1]),
        Sysno::TaskSetSpace => task::set_space(task, a[0], a[1], a[2]),
        Sysno::TaskSetPriority => task::set_priority(task, a[0], a[1], a[2], a[3]),
        Sysno::TaskReadRegs => task::read_regs(me, task, a[0], a[1]),
        Sysno::TaskWriteRegs => task::write_regs(me, task, a[0], a[1]),
        Sysno::TaskStart => task::start(task, a[0]),
        Sysno::TaskSuspend => task::suspend(task, a[0]),
        Sysno::TaskResume => task::resume(task, a[0]),
        Sysno::TaskYield => {
            sched::yield_current();
            Ok(one(0))
        }
        Sysno::TaskInfo => task::info(task, a[0]),
        Sysno::TaskSetFaultEndpoint => task::set_fault_endpoint(task, a[0], a[1]),
        Sysno::EndpointCreate => ipc::create(task, a[0], a[1]),
        Sysno::ReplySave => ipc::reply_save(me, task, a[0]),
        Sysno::TaskSetIpcBuffer => task::set_ipc_buffer(task, a[0], a[1]),
        Sysno::TaskDestroy => task::destroy(task, a[0]),
        Sysno::IoPortCreate => ioport::create(task, a[0], a[1], a[2], a[3], a[4]),
        Sysno::IoPortIn => ioport::port_in(task, a[0], a[1], a[2]),
        Sysno::IoPortOut => ioport::port_out(task, a[0], a[1], a[2], a[3]),
        Sysno::NoteCreate => notify::note_create(task, a[0], a[1]),
        Sysno::NoteSignal => notify::note_signal(task, a[0], a[1]),
        Sysno::NotePoll => notify::note_poll(task, a[0]),
        Sysno::NoteBind => notify::note_bind(task, a[0], a[1]),
        Sysno::TimerCreate => notify::timer_create(task, a[0], a[1]),
        Sysno::TimerArm => notify::timer_arm(task, a[0], a[1], a[2], a[3], a[4]),
        Sysno::TimerDisarm => notify::timer_disarm(task, a[0]),
        Sysno::IrqBind => notify::irq_bind(task, a[0], a[1], a[2], a[3], a[4], a[5]),
        Sysno::IrqAck => notify::irq_ack(task, a[0]),
        Sysno::Send
        | Sysno::NbSend
        | Sysno::Call
        | Sysno::Recv
        | Sysno::NbRecv
        | Sysno::Reply
        | Sysno::ReplyRecv
        | Sysno::NoteWait
        | Sysno::ReplyTo => Err(Error::UnknownSyscall),
    }
}

/// The CSpace of a task (every started task has one).
fn cspace_of(task: &TaskObj) -> Result<ObjRef, Error> {
    task.cspace.ok_or(Error::InvalidState)
}

/// `debug_write(console, ptr, len)`: the capability is checked, then the length, then every byte
/// is checked to be mapped user-readable before the first is written; then they go to the
/// console as one unit.
fn debug_write(task: &TaskObj, console: u64, ptr: u64, len: u64) -> Result<Results, Error> {
    caps::need(task, console, Kind::DebugConsole, rights::WRITE)?;
    if len > DEBUG_WRITE_MAX as u64 {
        return Err(Error::InvalidArgument);
    }
    let space = object::vspace::space(task.vspace.ok_or(Error::InvalidState)?);
    if !space.user_bytes(ptr, len, false, |pieces| serial::write_bytes(pieces)) {
        return Err(Error::BadAddress);
    }
    Ok(one(len))
}

/// `exit(status)`: the task ends; when it is the root task, so does the run.
fn exit(me: ObjRef, status: u64) -> ! {
    stop_task(me, State::Exited, status, "");
    object::global::reap_some();
    sched::run()
}

/// Stops task `t` in `state` (exited or faulted, with `detail`); see `object::task::stop`.
pub fn stop_task(t: ObjRef, state: State, detail: u64, why: &str) {
    crate::object::task::stop(t, state, detail, why);
}

/// Handles an interrupt or exception taken in user mode; `ctx` holds the full state.
pub fn trap(ctx: &mut UserContext) -> ! {
    let vector = ctx.vector;
    if vector >= 32 {
        interrupt(vector as u8);
    } else if vector == 2 {
        crate::arch::trap::nmi("user", ctx.rip);
    } else {
        fault(ctx);
    }
    sched::run()
}

/// A user task faulted: its fault endpoint gets a fault message and the task waits for the reply;
/// without one it is stopped with one log line. The root task faulting ends the run.
fn fault(ctx: &UserContext) {
    let (me, task) = caller();
    if ipc::deliver_fault(me, ctx.vector, ctx.fault_addr, ctx.rip, ctx.error) {
        return;
    }
    crate::warn!(
        "task {} faulted: {} (vector {}) at rip {:#x}, address {:#x}, error {:#x}",
        task.id,
        exception_name(ctx.vector),
        ctx.vector,
        ctx.rip,
        ctx.fault_addr,
        ctx.error
    );
    stop_task(me, State::Faulted, ctx.vector, "it faulted");
}

/// Task `t` cannot be entered (`why`): it takes a general protection fault, as the CPU would
/// have raised on the return: delivered to its fault endpoint, else it stops with one log line.
pub fn unenterable(t: ObjRef, why: &str) {
    // SAFETY: a live task; this is the only reference made to it here.
    let task = unsafe { get(t) };
    let rip = task.ctx.rip;
    if ipc::deliver_fault(t, 13, 0, rip, 0) {
        return;
    }
    crate::warn!("task {} faulted: general protection fault (vector 13) at rip {rip:#x}: {why}", task.id);
    stop_task(t, State::Faulted, 13, why);
}

/// No task is left to run.
pub fn no_task_left() -> ! {
    crate::error!("no task left to run");
    qemu::exit(testexit::PANIC)
}

/// Handles hardware interrupt `vector`, from user mode or the idle loop.
pub fn interrupt(vector: u8) {
    match vector {
        VECTOR_TIMER => {
            apic::tick();
            apic::eoi();
            object::timer::tick(|note| object::global::with(|ctx| note.release(ctx.dead)));
            sched::tick();
            object::global::reap_some();
        }
        VECTOR_SPURIOUS => {}
        v if (VECTOR_PIC_BASE..VECTOR_PIC_BASE + 16).contains(&v) => {}
        v if object::irq::fire(v) => apic::eoi(),
        v => {
            crate::warn!("unexpected interrupt vector {v}");
            apic::eoi();
        }
    }
}
