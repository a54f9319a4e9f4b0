//! Tasks: the `task_*` syscalls, the typed [`Task`] handle over them, and threads that share the
//! caller's address space ([`spawn`], [`prepare`]).
//!
//! A Task is a thread of execution. [`Task::create`] makes one from a Memory capability, inactive,
//! at priority 0 with maximum controlled priority 0, with no CSpace, no VSpace and zeroed
//! registers. Before it can start it needs a CSpace and a VSpace ([`Task::set_space`]), registers
//! to start from ([`Task::write_regs`]) and, to run at all while its creator is runnable, a
//! priority ([`Task::set_priority`]); then [`Task::start`] makes it runnable. It runs (or waits
//! in IPC, see [`ipc`](crate::ipc)) until it exits ([`exit_thread`]), faults (without a fault
//! endpoint it stops in [`State::Faulted`]; the kernel logs one line and the run goes on), is
//! suspended ([`Task::suspend`]), or loses its last capability (it stops at once).
//! [`Task::info`] tells which.
//!
//! Scheduling (see `abi::task`): strict priorities (0 to [`MAX_PRIORITY`]), round robin within a
//! priority with a timeslice of [`TIMESLICE_TICKS`](abi::task::TIMESLICE_TICKS) timer ticks, and
//! [`yield_now`] to give the rest of a timeslice away. A task made runnable at a higher priority
//! than the caller's runs before the syscall that did it returns.
//!
//! Threads: [`spawn`] and [`prepare`] make a task that runs a function of this program on a stack
//! the caller provides, in the CSpace and VSpace of the root task (slots
//! [`ROOT_CSPACE`](abi::bootcaps::ROOT_CSPACE) and [`ROOT_VSPACE`](abi::bootcaps::ROOT_VSPACE)),
//! so it sees the same memory and the same capabilities. There is no heap yet: stacks are static
//! arrays, and there is no guard page below them.
//!
//! The syscall wrappers at the top of this module take and return plain numbers, make exactly one
//! syscall each and never fault for bad arguments (the kernel checks every one); all are safe but
//! [`task_read_regs`], which has the kernel write to memory the caller names.

use core::ops::Deref;

use abi::bootcaps;
use abi::syscall::{ARG_REGS, Sysno};
pub use abi::task::{MAX_PRIORITY, REGISTERS_BYTES, ROOT_PRIORITY, Registers, State, TASK_PAGES};

use crate::cap::{CSpace, Cap, Memory, Slot};
use crate::error::{Error, Result};
use crate::syscall::syscall;
use crate::vspace::VSpace;

/// Makes a task syscall that touches no memory of the caller and returns its result registers.
fn call(number: Sysno, args: [usize; ARG_REGS]) -> Result<[usize; ARG_REGS]> {
    // SAFETY: callers pass only task syscalls that neither write the caller's memory nor change
    // its mappings (every one but `task_read_regs`; `task_write_regs` only reads), so the memory
    // contract of `syscall` holds whatever the arguments are.
    let (rax, out) = unsafe { syscall(number as usize, args) };
    Error::check(rax)?;
    Ok(out)
}

/// `task_create(memory, dst_slot) -> slot`: makes an inactive Task in `dst_slot` (or
/// [`SLOT_AUTO`](abi::syscall::SLOT_AUTO)) of the caller's CSpace, charged [`TASK_PAGES`] to
/// `memory`. See [`Sysno::TaskCreate`]; [`Task::create`] is the typed form.
pub fn task_create(memory: usize, dst_slot: usize) -> Result<usize> {
    Ok(call(Sysno::TaskCreate, [memory, dst_slot, 0, 0, 0, 0])?[0])
}

/// `task_set_space(task, cspace, vspace)`: gives the task a CSpace and a VSpace. See
/// [`Sysno::TaskSetSpace`].
pub fn task_set_space(task: usize, cspace: usize, vspace: usize) -> Result<()> {
    call(Sysno::TaskSetSpace, [task, cspace, vspace, 0, 0, 0]).map(drop)
}

/// `task_set_priority(task, authority, priority, max_priority)`: sets the task's priority and
/// maximum controlled priority, both at most the maximum controlled priority of `authority`. See
/// [`Sysno::TaskSetPriority`].
pub fn task_set_priority(task: usize, authority: usize, priority: usize, max_priority: usize) -> Result<()> {
    call(Sysno::TaskSetPriority, [task, authority, priority, max_priority, 0, 0]).map(drop)
}

/// `task_read_regs(task, buf)`: has the kernel write the task's [`Registers`]
/// ([`REGISTERS_BYTES`] bytes) at address `buf`. See [`Sysno::TaskReadRegs`];
/// [`Task::read_regs`] is the safe form.
///
/// # Safety
///
/// The kernel writes `[buf, buf + REGISTERS_BYTES)` when the call succeeds, so that range must be
/// memory the caller may write through for the whole call (no live reference into it), or not
/// be mapped writable in the caller's address space at all (the kernel then writes nothing and
/// answers [`BadAddress`](abi::Error::BadAddress)).
pub unsafe fn task_read_regs(task: usize, buf: usize) -> Result<()> {
    // SAFETY: the caller vouches for `buf` as above; the kernel writes nothing else.
    let (rax, _) = unsafe { syscall(Sysno::TaskReadRegs as usize, [task, buf, 0, 0, 0, 0]) };
    Error::check(rax)
}

/// `task_write_regs(task, buf)`: sets the task's registers from the [`Registers`] at address
/// `buf`. See [`Sysno::TaskWriteRegs`]; [`Task::write_regs`] is the typed form.
///
/// Safe for any `buf`: the kernel only reads it, through its own mapping, after checking that
/// every byte is mapped readable ([`BadAddress`](abi::Error::BadAddress) otherwise).
pub fn task_write_regs(task: usize, buf: usize) -> Result<()> {
    call(Sysno::TaskWriteRegs, [task, buf, 0, 0, 0, 0]).map(drop)
}

/// `task_start(task)`: makes an inactive task with a CSpace and a VSpace runnable. See
/// [`Sysno::TaskStart`].
pub fn task_start(task: usize) -> Result<()> {
    call(Sysno::TaskStart, [task, 0, 0, 0, 0, 0]).map(drop)
}

/// `task_suspend(task)`: stops a runnable task. See [`Sysno::TaskSuspend`].
pub fn task_suspend(task: usize) -> Result<()> {
    call(Sysno::TaskSuspend, [task, 0, 0, 0, 0, 0]).map(drop)
}

/// `task_destroy(task)`: stops the task for good. See [`Sysno::TaskDestroy`].
pub fn task_destroy(task: usize) -> Result<()> {
    call(Sysno::TaskDestroy, [task, 0, 0, 0, 0, 0]).map(drop)
}

/// `task_resume(task)`: makes a suspended or faulted task runnable. See [`Sysno::TaskResume`].
pub fn task_resume(task: usize) -> Result<()> {
    call(Sysno::TaskResume, [task, 0, 0, 0, 0, 0]).map(drop)
}

/// `task_yield()`: gives the rest of the caller's timeslice to the next task of its priority.
/// See [`Sysno::TaskYield`]; [`yield_now`] is the same without a result to check.
pub fn task_yield() -> Result<()> {
    call(Sysno::TaskYield, [0; ARG_REGS]).map(drop)
}

/// `task_info(task) -> (state, priority, max_priority, detail)`, the numbers as the kernel
/// returned them. See [`Sysno::TaskInfo`] and [`Task::info`].
pub fn task_info(task: usize) -> Result<(usize, usize, usize, usize)> {
    let out = call(Sysno::TaskInfo, [task, 0, 0, 0, 0, 0])?;
    Ok((out[0], out[1], out[2], out[3]))
}

/// Gives the rest of the caller's timeslice to the next runnable task of its priority; returns at
/// once if there is none. Tasks of a higher priority run whenever they are runnable, yield or no
/// yield; tasks of a lower priority never get the time.
pub fn yield_now() {
    // `task_yield` takes no argument and cannot fail.
    let _ = task_yield();
}

/// Ends the calling task with `status`, which its supervisor reads with [`Task::info`]; the other
/// tasks go on. A thread made by [`spawn`] or [`prepare`] ends with this.
///
/// This is the `exit` syscall, exactly as [`exit`](crate::exit): only when the caller is the root
/// task does the run end with it.
pub fn exit_thread(status: usize) -> ! {
    crate::syscall::exit(status)
}

/// A Task capability: a thread of execution.
///
/// Like the handles in [`cap`](crate::cap), a convenience, not a proof: any slot can be wrapped,
/// and the kernel checks the kind and rights on every call. Dereferences to its [`Cap`], so the
/// generic operations work on it; [`delete`](Cap::delete) of the last capability to a task stops
/// it at once.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub struct Task(Cap);

impl Deref for Task {
    type Target = Cap;

    fn deref(&self) -> &Cap {
        &self.0
    }
}

impl From<Task> for Cap {
    fn from(task: Task) -> Cap {
        task.0
    }
}

/// What [`Task::info`] reports.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct TaskInfo {
    /// What the task is doing, or `Err` with the number the kernel returned if this ABI version
    /// defines no state with that number.
    pub state: core::result::Result<State, usize>,
    /// Its scheduling priority.
    pub priority: usize,
    /// Its maximum controlled priority: the highest it may give any task.
    pub max_priority: usize,
    /// The exit status of an exited task, the exception vector of a faulted one, else 0.
    pub detail: usize,
}

impl TaskInfo {
    /// Whether the task has ended or stopped for good on its own: exited or faulted.
    pub fn is_stopped(&self) -> bool {
        matches!(self.state, Ok(State::Exited | State::Faulted))
    }
}

/// The root task itself, as a Task capability in the root task's CSpace, with all rights
/// ([`ROOT_TASK`](bootcaps::ROOT_TASK)). Threads sharing the root task's CSpace see it too.
pub const fn root_task() -> Task {
    Task::at(bootcaps::ROOT_TASK)
}

/// The root task's VSpace, with all rights ([`ROOT_VSPACE`](bootcaps::ROOT_VSPACE)): the address
/// space the root task and the threads it spawns run in. The same as [`VSpace::root`].
pub const fn root_vspace() -> VSpace {
    VSpace::root()
}

impl Task {
    /// Treats `cap` as a Task capability. Nothing is checked: the kernel checks the kind on each
    /// call.
    pub const fn new(cap: Cap) -> Task {
        Task(cap)
    }

    /// Treats the capability in `slot` as a Task capability (see [`new`](Self::new)).
    pub const fn at(slot: usize) -> Task {
        Task(Cap::new(slot))
    }

    /// The untyped capability address.
    pub const fn cap(self) -> Cap {
        self.0
    }

    /// Makes an inactive Task in `dst` of the caller's CSpace, charged [`TASK_PAGES`] to `memory`
    /// (which needs WRITE): priority 0, maximum controlled priority 0, no CSpace or VSpace, all
    /// registers zero.
    pub fn create(memory: Memory, dst: Slot) -> Result<Task> {
        task_create(memory.slot(), dst.raw()).map(Task::at)
    }

    /// Gives the task the CSpace its capability addresses index and the VSpace it runs in (each a
    /// capability of the caller; the task holds its own reference to both objects). Needs WRITE
    /// on all three. `vspace` is a [`VSpace`] handle, or any capability naming a VSpace.
    pub fn set_space(self, cspace: CSpace, vspace: impl Into<Cap>) -> Result<()> {
        task_set_space(self.slot(), cspace.slot(), vspace.into().slot())
    }

    /// Sets the task's priority and maximum controlled priority. Both must be at most the maximum
    /// controlled priority of the task `authority` names
    /// ([`InvalidArgument`](abi::Error::InvalidArgument)). Needs WRITE on this task, READ on
    /// `authority`. A runnable task moves to the back of its new priority's queue.
    pub fn set_priority(self, authority: Task, priority: usize, max_priority: usize) -> Result<()> {
        task_set_priority(self.slot(), authority.slot(), priority, max_priority)
    }

    /// The task's registers. Needs READ. Not for the caller itself
    /// ([`InvalidState`](abi::Error::InvalidState)).
    pub fn read_regs(self) -> Result<Registers> {
        let mut regs = Registers::default();
        // SAFETY: `regs` is a local of exactly `REGISTERS_BYTES` bytes that nothing else refers to
        // during the call; the kernel writes those bytes and nothing else, and every bit pattern
        // is a valid `Registers` (plain `u64`s).
        unsafe { task_read_regs(self.slot(), (&raw mut regs).expose_provenance())? };
        Ok(regs)
    }

    /// Sets the task's registers, as [`Registers`] describes: `rip` and `fs_base` must be
    /// canonical user addresses ([`InvalidArgument`](abi::Error::InvalidArgument)), and `rflags`
    /// is masked. The task's vector and x87 registers are reset. Needs WRITE. Not for the caller
    /// itself ([`InvalidState`](abi::Error::InvalidState)).
    ///
    /// What the task then runs is the caller's responsibility: a task that shares the caller's
    /// address space and is pointed at anything but code meant for it can corrupt the caller's
    /// memory.
    pub fn write_regs(self, regs: &Registers) -> Result<()> {
        task_write_regs(self.slot(), core::ptr::from_ref(regs).expose_provenance())
    }

    /// Makes the inactive task runnable. Needs WRITE; it must have a CSpace and a VSpace
    /// ([`InvalidState`](abi::Error::InvalidState) otherwise, and for a task started before).
    pub fn start(self) -> Result<()> {
        task_start(self.slot())
    }

    /// Stops the runnable task until [`resume`](Self::resume). Needs WRITE. Suspending the caller
    /// itself switches to another task at once.
    pub fn suspend(self) -> Result<()> {
        task_suspend(self.slot())
    }

    /// Stops the task for good: it leaves every queue and lets go of its CSpace, VSpace and
    /// fault endpoint; `info` then reports Exited with detail `abi::task::DESTROYED`. The object
    /// lives until its last capability is deleted. Needs WRITE.
    pub fn destroy(self) -> Result<()> {
        task_destroy(self.slot())
    }

    /// Makes a suspended or faulted task runnable again, with the registers it has (a faulted
    /// task retries the faulting instruction unless they were changed). Needs WRITE.
    pub fn resume(self) -> Result<()> {
        task_resume(self.slot())
    }

    /// The task's state, priority, maximum controlled priority and exit status or fault vector.
    /// Needs READ.
    pub fn info(self) -> Result<TaskInfo> {
        let (state, priority, max_priority, detail) = task_info(self.slot())?;
        Ok(TaskInfo { state: State::from_number(state).ok_or(state), priority, max_priority, detail })
    }
}

/// The function a thread runs: it is called with the thread's argument and must end with
/// [`exit_thread`] (returning is impossible: there is nothing to return to).
pub type ThreadEntry = extern "C" fn(usize) -> !;

/// The stack pointer a thread starting on `stack` gets: the top of the stack, 16-byte aligned,
/// less the 8 bytes of a return address, as the System V ABI has it at a function's entry. The
/// return address slot is zeroed (a return would jump to address 0 and fault).
///
/// Returns `None` if the stack is shorter than 64 bytes after alignment.
pub fn stack_pointer(stack: &mut [u8]) -> Option<usize> {
    let base = stack.as_mut_ptr().expose_provenance();
    let top = base.checked_add(stack.len())? & !15;
    let rsp = top.checked_sub(8)?;
    if rsp < base || rsp - base < 56 {
        return None;
    }
    stack[rsp - base..top - base].fill(0);
    Some(rsp)
}

/// The registers of a thread about to call `entry(arg)` with stack pointer `rsp` (see
/// [`stack_pointer`]): `rip`, `rsp` and `rdi` set, `rflags` with only IF, everything else zero.
pub fn thread_registers(entry: ThreadEntry, arg: usize, rsp: usize) -> Registers {
    Registers { rip: entry as usize as u64, rsp: rsp as u64, rdi: arg as u64, rflags: 0x202, ..Registers::default() }
}

/// Makes an inactive thread of this program: a Task in `dst` of the caller's CSpace, charged
/// [`TASK_PAGES`] to `memory`, in the root task's CSpace and VSpace, that will call `entry(arg)`
/// on `stack`. Its priority and maximum controlled priority are 0: give it a priority with
/// [`Task::set_priority`] and [`start`](Task::start) it.
///
/// The CSpace and VSpace are the capabilities in [`ROOT_CSPACE`](bootcaps::ROOT_CSPACE) and
/// [`ROOT_VSPACE`](bootcaps::ROOT_VSPACE) of the caller's CSpace: the root task, and every thread
/// sharing its CSpace, can call this. If any step fails the task is deleted again and the error
/// returned; `InvalidArgument` means a stack shorter than 64 bytes.
///
/// # Safety
///
/// `stack` must be large enough for everything `entry` does, with room to spare: there is no
/// guard page, so a thread that runs off the bottom of its stack overwrites whatever memory lies
/// below it. (Everything else is checked: `entry` is safe code, and the stack is the thread's for
/// good.)
pub unsafe fn prepare(
    memory: Memory,
    dst: Slot,
    entry: ThreadEntry,
    arg: usize,
    stack: &'static mut [u8],
) -> Result<Task> {
    let rsp = stack_pointer(stack).ok_or(Error::Abi(abi::Error::InvalidArgument))?;
    let task = Task::create(memory, dst)?;
    let set_up = task
        .set_space(CSpace::at(bootcaps::ROOT_CSPACE), root_vspace())
        .and_then(|()| task.write_regs(&thread_registers(entry, arg, rsp)));
    match set_up {
        Ok(()) => Ok(task),
        Err(e) => {
            // The task was never started: deleting it frees it; nothing else refers to it.
            let _ = task.delete();
            Err(e)
        }
    }
}

/// Starts a thread of this program that calls `entry(arg)` on `stack`, at the root task's
/// priority (read with [`Task::info`] of [`root_task`]) and with maximum controlled priority 0;
/// returns its Task capability, in `dst` of the caller's CSpace. As [`prepare`], then
/// [`Task::set_priority`] (with the root task as the authority) and [`Task::start`]; if any step
/// fails, the task is deleted and the error returned.
///
/// The new thread runs when the caller yields, blocks or uses up its timeslice (round robin at
/// equal priority). Its end is seen with [`Task::info`]: [`State::Exited`] with the status it
/// passed to [`exit_thread`], or [`State::Faulted`].
///
/// # Safety
///
/// As for [`prepare`]: `stack` must be large enough for `entry`, as there is no guard page.
pub unsafe fn spawn(
    memory: Memory,
    dst: Slot,
    entry: ThreadEntry,
    arg: usize,
    stack: &'static mut [u8],
) -> Result<Task> {
    // SAFETY: the caller vouches for the stack's size.
    let task = unsafe { prepare(memory, dst, entry, arg, stack)? };
    let started = root_task()
        .info()
        .and_then(|root| task.set_priority(root_task(), root.priority, 0))
        .and_then(|()| task.start());
    match started {
        Ok(()) => Ok(task),
        Err(e) => {
            // Deleting the only capability stops the task, started or not.
            let _ = task.delete();
            Err(e)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    extern "C" fn never(_: usize) -> ! {
        loop {
            core::hint::spin_loop();
        }
    }

    #[test]
    fn handles() {
        let t = Task::at(9);
        assert_eq!(t.cap(), Cap::new(9));
        assert_eq!(Cap::from(t), Cap::new(9));
        assert_eq!(root_task().slot(), bootcaps::ROOT_TASK);
        assert_eq!(root_vspace().slot(), bootcaps::ROOT_VSPACE);
    }

    #[test]
    fn stack_pointers() {
        let mut stack = [0xffu8; 256];
        let base = stack.as_ptr() as usize;
        let rsp = stack_pointer(&mut stack).unwrap();
        assert_eq!(rsp % 16, 8);
        assert!(rsp + 8 <= base + 256 && rsp + 24 > base + 256);
        assert!(stack[rsp - base..rsp - base + 8].iter().all(|&b| b == 0));
        assert_eq!(stack_pointer(&mut [0u8; 16]), None);
        assert_eq!(stack_pointer(&mut []), None);
    }

    #[test]
    fn registers() {
        let entry: ThreadEntry = never;
        let r = thread_registers(entry, 7, 0x1238);
        assert_eq!((r.rip, r.rsp, r.rdi, r.rflags), (entry as usize as u64, 0x1238, 7, 0x202));
        assert_eq!(r.rax | r.rbx | r.rcx | r.rdx | r.rsi | r.rbp | r.fs_base, 0);
        let info = TaskInfo { state: Ok(State::Faulted), priority: 0, max_priority: 0, detail: 14 };
        assert!(info.is_stopped());
        assert!(!TaskInfo { state: Err(9), ..info }.is_stopped());
    }
}
