//! The only door from user space: syscall decoding, traps and faults from user mode, and the
//! interrupts that arrive while a task runs.
//!
//! Each syscall decodes and checks all of its arguments before it does anything, and answers
//! with a typed `abi::Error` when a check fails; nothing here trusts a register value.

use abi::Error;
use abi::syscall::{DEBUG_WRITE_MAX, Sysno};
use abi::testexit;

use crate::arch::context::{EnterError, UserContext};
use crate::arch::trap::{VECTOR_PIC_BASE, VECTOR_SPURIOUS, VECTOR_TIMER, exception_name};
use crate::arch::{apic, qemu, serial};
use crate::task::{self, Task};

/// Results of a successful syscall, in the argument registers.
type Results = [u64; 6];

/// Handles the syscall the current task just made; `ctx` is its saved state.
pub fn syscall(ctx: &mut UserContext) -> ! {
    let Some(task) = task::current() else { no_task_left() };
    debug_assert!(core::ptr::eq(ctx, &task.ctx));
    let args = [ctx.rdi, ctx.rsi, ctx.rdx, ctx.r10, ctx.r8, ctx.r9];
    let result = match Sysno::try_from(ctx.rax as usize) {
        Ok(Sysno::DebugWrite) => debug_write(task, args[0], args[1]),
        Ok(Sysno::Exit) => exit(args[0]),
        Err(e) => Err(e),
    };
    let ctx = &mut task.ctx;
    match result {
        Ok(r) => {
            ctx.rax = 0;
            [ctx.rdi, ctx.rsi, ctx.rdx, ctx.r10, ctx.r8, ctx.r9] = r;
        }
        Err(e) => ctx.rax = e.code() as u64,
    }
    task::resume()
}

/// `debug_write(ptr, len)`: the bytes are checked to be mapped user-readable, all of them, before
/// the first is written; then they go to the console as one unit.
fn debug_write(task: &Task, ptr: u64, len: u64) -> Result<Results, Error> {
    if len > DEBUG_WRITE_MAX as u64 {
        return Err(Error::InvalidArgument);
    }
    if !task.vspace.user_bytes(ptr, len, false, |pieces| serial::write_bytes(pieces)) {
        return Err(Error::BadAddress);
    }
    Ok([len, 0, 0, 0, 0, 0])
}

/// `exit(status)`: the task ends; when it is the root task, so does the run.
fn exit(status: u64) -> ! {
    let task = task::take_current();
    crate::info!("root task exited with status {status}");
    drop(task);
    qemu::exit(if status == 0 { testexit::SUCCESS } else { testexit::FAILURE })
}

/// Handles an interrupt or exception taken in user mode; `ctx` holds the full state.
pub fn trap(ctx: &mut UserContext) -> ! {
    let vector = ctx.vector;
    if vector >= 32 {
        interrupt(vector as u8);
        task::resume();
    }
    if vector == 2 {
        crate::warn!("NMI while in user mode at rip {:#x}", ctx.rip);
        task::resume();
    }
    fault(ctx)
}

/// A user task faulted: it is stopped with one log line. The root task faulting ends the run.
fn fault(ctx: &UserContext) -> ! {
    let (id, name) = task::current().map_or((0, "?"), |t| (t.id, t.name));
    crate::warn!(
        "task {id} ({name}) faulted: {} (vector {}) at rip {:#x}, address {:#x}, error {:#x}",
        exception_name(ctx.vector),
        ctx.vector,
        ctx.rip,
        ctx.fault_addr,
        ctx.error
    );
    let task = task::take_current();
    drop(task);
    crate::error!("root task faulted; ending the run");
    qemu::exit(testexit::PANIC)
}

/// A task's saved registers could not be entered.
pub fn bad_context(why: EnterError) -> ! {
    crate::warn!("task has an invalid context ({why:?}); stopped");
    drop(task::take_current());
    crate::error!("root task stopped; ending the run");
    qemu::exit(testexit::PANIC)
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
        }
        VECTOR_SPURIOUS => {}
        v if (VECTOR_PIC_BASE..VECTOR_PIC_BASE + 16).contains(&v) => {}
        v => {
            crate::warn!("unexpected interrupt vector {v}");
            apic::eoi();
        }
    }
}
