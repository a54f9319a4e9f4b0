//! The only door from user space: syscall decoding, traps and faults from user mode, and the
//! interrupts that arrive while a task runs.
//!
//! Each syscall decodes and checks all of its arguments before it changes anything, and answers
//! with a typed `abi::Error` when a check fails; nothing here trusts a register value. Every entry
//! ends in [`run`], which returns to the best runnable task, delivering a general protection
//! fault to any it finds that cannot be entered, and ends the run when the root task has stopped.
//!
//! This module holds no `unsafe`: it reaches tasks and objects through the object library's safe
//! accessors, and hardware through `arch`'s.
#![forbid(unsafe_code)]

use abi::Error;
use abi::ipc::Extra;
use abi::syscall::Sysno;
use abi::task::State;
use abi::testexit;

use crate::arch::apic;
use crate::arch::trap::{VECTOR_PIC_BASE, VECTOR_SPURIOUS, VECTOR_TIMER, exception_name};
use crate::object::stop::{self, RunEnd};
use crate::object::task::{TaskObj, get};
use crate::object::{self, ObjRef};
use crate::sched;

mod caps;
mod console;
pub mod fastpath;
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
fn caller() -> (ObjRef, &'static TaskObj) {
    let Some(t) = sched::current() else { no_task_left() };
    // The current task is live: a dying task stops being current.
    (t, get(t))
}

/// Handles the syscall the current task just made (its registers are saved in its context).
/// Returns when the same task goes on and nothing else needs doing first (the scheduler's
/// state is [`sched::unchanged`]): the entry stub then returns to it the short way. Otherwise
/// it leaves through [`run`].
pub extern "C" fn syscall() {
    let (me, task) = caller();
    match Sysno::from_number(task.ctx.number() as usize) {
        // Nothing to do: the skeleton alone (`nop_syscall` measures it).
        Some(Sysno::Nop) => task.ctx.set_results([0; 6]),
        // The fast paths return only if they do not apply; then nothing has changed.
        Some(Sysno::Call) => {
            if fastpath::on() {
                ipc::call_fast(me, task);
            }
            general(me, task, Sysno::Call, Extra::NONE);
        }
        Some(Sysno::ReplyRecv) => {
            if fastpath::on() {
                ipc::reply_recv_fast(me, task);
            }
            general(me, task, Sysno::ReplyRecv, Extra::NONE);
        }
        Some(Sysno::FaultReplyRecv) => {
            if fastpath::on() {
                ipc::fault_reply_recv_fast(me, task);
            }
            general(me, task, Sysno::FaultReplyRecv, Extra::NONE);
        }
        Some(Sysno::Send) => {
            if fastpath::on() {
                ipc::send_fast(me, task);
            }
            general(me, task, Sysno::Send, Extra::NONE);
        }
        Some(Sysno::NoteSignal) => {
            if fastpath::on() {
                notify::note_signal_fast(me, task);
            }
            general(me, task, Sysno::NoteSignal, Extra::NONE);
        }
        Some(Sysno::TaskYield) if fastpath::on() && object::global::nothing_to_reap() => {
            // The call cannot fail: its results first, whoever runs next.
            task.ctx.set_results([0; 6]);
            fastpath::taken(fastpath::Path::Yield);
            if let Some(u) = sched::yield_direct() {
                leave(u);
            }
            // Alone at its priority: it goes on, with a fresh timeslice.
        }
        Some(n) => general(me, task, n, Extra::NONE),
        // A number with a message's Extra in the high half of `rax`, or no number at all.
        None => with_extra(me, task),
    }
    // Objects the call let go of are destroyed a bounded step at a time, on every entry.
    object::global::reap_some();
    // The call may have logged (`debug_write`, a refusal the kernel reports): the log Note
    // hears of it before the return, which its waiter may pre-empt.
    console::signal_log();
    if sched::unchanged() {
        return;
    }
    run()
}

/// A syscall whose `rax` is no number: one that sends a message, with its `Extra` in the high
/// half (`abi::ipc`), goes to the general path (the fast paths take only plain messages, so they
/// never look at an Extra); an Extra that is not one is `InvalidArgument`; anything else is
/// `UnknownSyscall`. Nothing is done on an error.
#[inline(never)]
fn with_extra(me: ObjRef, task: &TaskObj) {
    let rax = task.ctx.number();
    match Sysno::from_number(rax as u32 as usize) {
        Some(n) if n.sends() => match Extra::from_rax(rax) {
            Some(extra) => general(me, task, n, extra),
            None => task.ctx.set_error(Error::InvalidArgument.code() as u64),
        },
        _ => task.ctx.set_error(Error::UnknownSyscall.code() as u64),
    }
}

/// Runs syscall `n` of `me` by the general path ([`dispatch`]) and writes its results or its
/// error into the caller's registers (nothing if it waits, or if a receive wrote them: whoever
/// wakes it, or the receive, writes them). `extra` is what a message it sends carries through
/// the IPC buffers.
///
/// Kept out of line, so that the calls with nothing to decode (`nop`) and the fast paths in
/// [`syscall`] do not pay for its registers and stack frame.
#[inline(never)]
fn general(me: ObjRef, task: &TaskObj, n: Sysno, extra: Extra) {
    // The caller may have been stopped (suspended itself, or lost its last capability): its
    // registers are still its own to set. Its pages stay allocated until the reaper runs.
    match dispatch(me, task, n, extra) {
        Ok(Some(r)) => task.ctx.set_results(r),
        Ok(None) => {}
        Err(e) => task.ctx.set_error(e.code() as u64),
    }
}

/// Decodes and runs syscall `n` of the caller `me`: its results (`None`: it waits, and whoever
/// wakes it writes them), or its error.
#[inline]
fn dispatch(me: ObjRef, task: &TaskObj, n: Sysno, extra: Extra) -> Result<Option<Results>, Error> {
    let a = task.ctx.args();
    let w = [a[1], a[2], a[3], a[4], a[5]];
    let how = |call, block| ipc::How { call, block, extra };
    match n {
        Sysno::Send => ipc::send(me, task, a[0], w, how(false, true)),
        Sysno::NbSend => ipc::send(me, task, a[0], w, how(false, false)),
        Sysno::Call => ipc::send(me, task, a[0], w, how(true, true)),
        Sysno::Recv => ipc::recv(me, task, a[0], true),
        Sysno::NbRecv => ipc::recv(me, task, a[0], false),
        Sysno::Reply => ipc::reply(me, [a[0], a[1], a[2], a[3], a[4]], extra),
        Sysno::ReplyRecv => ipc::reply_recv(me, task, a[0], w, extra),
        Sysno::NoteWait => notify::note_wait(me, task, a[0]),
        Sysno::ReplyTo => ipc::reply_to(me, task, a[0], w, extra),
        Sysno::FaultReply => ipc::fault_reply(me, a),
        Sysno::FaultReplyRecv => ipc::fault_reply_recv(me, task, a),
        n => other(me, task, n, a).map(Some),
    }
}

/// Returns to user mode in the best runnable task; with none, idles until an interrupt makes one
/// runnable. A task that cannot be entered takes a general protection fault first. If the root
/// task has stopped, the run ends instead.
pub fn run() -> ! {
    loop {
        if let Some(end) = stop::take_run_end() {
            end_run(end);
        }
        console::signal_log();
        match sched::enter_best() {
            Err(u) => unenterable(u.task, u.why),
            Ok(()) => crate::arch::wait_for_interrupt(),
        }
    }
}

/// Returns to user mode after `task_yield`'s direct switch found the next task cannot be
/// entered (see [`sched::yield_direct`]): as [`run`] would have.
fn leave(u: sched::NoVSpace) -> ! {
    unenterable(u.0, "it has no VSpace");
    run()
}

/// Ends the run because the root task stopped: status 0 is success, any other exit a failure,
/// any other stop a panic.
fn end_run(end: RunEnd) -> ! {
    match end {
        RunEnd::Exited(status) => {
            fastpath::log_counts();
            crate::info!("root task exited with status {status}");
            crate::end::end_run(if status == 0 { testexit::SUCCESS } else { testexit::FAILURE })
        }
        RunEnd::Stopped(why) => {
            fastpath::log_counts();
            crate::error!("root task stopped ({why}); ending the run");
            crate::end::end_run(testexit::PANIC)
        }
    }
}

/// Every syscall that answers at once.
fn other(me: ObjRef, task: &TaskObj, n: Sysno, a: [u64; 6]) -> Result<Results, Error> {
    match n {
        Sysno::DebugWrite => console::debug_write(task, a[0], a[1], a[2]),
        Sysno::LogRead => console::log_read(task, a[0], a[1], a[2], a[3]),
        Sysno::LogSetNote => console::log_set_note(task, a[0], a[1], a[2]),
        Sysno::ConsoleRelease => console::console_release(task, a[0]),
        Sysno::PowerOff => console::power_off(task, a[0]),
        Sysno::Exit => exit(me, a[0]),
        Sysno::Nop => Ok([0; 6]),
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
        Sysno::PageCreateDevice => vspace::page_create_device(task, a[0], a[1], a[2], a[3], a[4]),
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
        Sysno::TaskKill => task::kill(task, a[0], a[1]),
        Sysno::TaskSetExitNote => task::set_exit_note(task, a[0], a[1], a[2]),
        Sysno::TaskSetFsBase => task::set_fs_base(task, a[0], a[1]),
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
        | Sysno::ReplyTo
        | Sysno::FaultReply
        | Sysno::FaultReplyRecv => Err(Error::UnknownSyscall),
    }
}

/// The CSpace of a task (every started task has one).
fn cspace_of(task: &TaskObj) -> Result<ObjRef, Error> {
    task.cspace.get().ok_or(Error::InvalidState)
}

/// `exit(status)`: the task ends; when it is the root task, so does the run.
fn exit(me: ObjRef, status: u64) -> ! {
    stop::stop(me, State::Exited, status, "it exited");
    object::global::reap_some();
    run()
}

/// Handles an interrupt or exception taken in user mode (the current task's full state is saved
/// in its context).
pub fn trap() -> ! {
    let (me, task) = caller();
    let t = task.ctx.trap_info();
    if t.vector >= 32 {
        interrupt(t.vector as u8);
    } else if t.vector == 2 {
        crate::arch::trap::nmi("user", t.rip);
    } else {
        fault(me, task);
    }
    run()
}

/// A user task faulted: its fault endpoint gets a fault message and the task waits for the reply;
/// without one it is stopped with one log line. The root task faulting ends the run.
fn fault(me: ObjRef, task: &TaskObj) {
    let t = task.ctx.trap_info();
    if fastpath::on() {
        // Returns only if the fast path does not apply; then nothing has changed.
        ipc::fault_fast(me, [t.vector, t.address, t.rip, t.error, 0]);
    }
    if ipc::deliver_fault(me, t.vector, t.address, t.rip, t.error) {
        return;
    }
    crate::warn!(
        "task {} faulted: {} (vector {}) at rip {:#x}, address {:#x}, error {:#x}",
        task.id.get(),
        exception_name(t.vector),
        t.vector,
        t.rip,
        t.address,
        t.error
    );
    stop::stop(me, State::Faulted, t.vector, "it faulted");
}

/// Task `t` cannot be entered (`why`): it takes a general protection fault, as the CPU would
/// have raised on the return: delivered to its fault endpoint, else it stops with one log line.
fn unenterable(t: ObjRef, why: &'static str) {
    let task = get(t);
    let rip = task.ctx.rip();
    if ipc::deliver_fault(t, 13, 0, rip, 0) {
        return;
    }
    crate::warn!("task {} faulted: general protection fault (vector 13) at rip {rip:#x}: {why}", task.id.get());
    stop::stop(t, State::Faulted, 13, why);
}

/// No task is left to run: every entry from user mode has a current task.
fn no_task_left() -> ! {
    crate::error!("no task left to run");
    crate::end::end_run(testexit::PANIC)
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
