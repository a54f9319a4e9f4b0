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
//! so it sees the same memory and the same capabilities. Its stack is `'static` memory the
//! caller provides (a static array, a leaked allocation), with no guard page below it;
//! [`crate::thread`] makes threads with guarded stacks of their own, and is what programs use.
//!
//! The syscall wrappers at the top of this module take and return plain numbers, make exactly one
//! syscall each and never fault for bad arguments (the kernel checks every one). Most are safe;
//! these are `unsafe` (see [`safety`](crate::safety)):
//!
//! - [`task_read_regs`] has the kernel write to memory the caller names ([`Task::read_regs`] is
//!   its safe form, into a local);
//! - [`task_write_regs`] decides what code the task runs, and [`task_set_space`] which address
//!   space and CSpace it runs with: a task in the caller's VSpace or with its CSpace can do
//!   anything the caller can, so the caller keeps the
//!   [code contract](crate::safety#the-code-contract);
//! - [`task_destroy`] and [`task_set_space`] drop the task's references to its CSpace and VSpace
//!   (and [`task_set_space`] on the caller itself moves it to another address space), which can
//!   end objects whose death unmaps the caller's memory: the
//!   [teardown contract](crate::safety#the-teardown-contract).
//!
//! Stopping a thread (suspending, destroying it, or deleting its last capability) is sound in
//! itself: to the rest of the program it is as if the thread waited forever.

use core::ops::Deref;

use abi::bootcaps;
use abi::syscall::{ARG_REGS, Sysno};
pub use abi::task::{MAX_PRIORITY, REGISTERS_BYTES, ROOT_PRIORITY, Registers, State, TASK_PAGES};

use abi::object::Kind;

use crate::cap::{CSpace, Cap, Memory, Slot, checked_revoke};
use crate::error::{Error, Result};
use crate::syscall::syscall;
use crate::vspace::VSpace;

/// Makes a task syscall that touches no memory of the caller and returns its result registers.
fn call(number: Sysno, args: [usize; ARG_REGS]) -> Result<[usize; ARG_REGS]> {
    // SAFETY: callers pass only task syscalls that neither write the caller's memory nor change
    // its mappings, nor end any object's life (`task_create`, `task_set_priority`, `task_start`,
    // `task_suspend`, `task_resume`, `task_yield`, `task_info`), so the memory contract of
    // `syscall` holds whatever the arguments are. The unsafe task calls make their own.
    let (rax, out) = unsafe { syscall(number as usize, args) };
    Error::check(rax)?;
    Ok(out)
}

/// Makes one of the `unsafe` task syscalls (`task_set_space`, `task_write_regs`,
/// `task_destroy`), whose callers keep the contracts they name.
///
/// # Safety
///
/// The contracts of the syscall made, as its wrapper states them.
unsafe fn call_unsafe(number: Sysno, args: [usize; ARG_REGS]) -> Result<()> {
    // SAFETY: none of these calls writes the caller's memory (`task_write_regs` only reads the
    // registers, through the kernel's own mapping); what they do to mappings and to the code the
    // task runs is what the caller's contract covers.
    let (rax, _) = unsafe { syscall(number as usize, args) };
    Error::check(rax)
}

/// `task_create(memory, dst_slot) -> slot`: makes an inactive Task in `dst_slot` (or
/// [`SLOT_AUTO`](abi::syscall::SLOT_AUTO)) of the caller's CSpace, charged [`TASK_PAGES`] to
/// `memory`. See [`Sysno::TaskCreate`]; [`Task::create`] is the typed form.
///
/// ```no_run
/// use sys::abi::syscall::SLOT_AUTO;
///
/// # fn demo() -> sys::Result<()> {
/// let memory = sys::process::memory().expect("the program has a Memory");
/// let task = sys::Task::at(sys::task::task_create(memory.slot(), SLOT_AUTO)?);
/// # Ok(())
/// # }
/// ```
pub fn task_create(memory: usize, dst_slot: usize) -> Result<usize> {
    Ok(call(Sysno::TaskCreate, [memory, dst_slot, 0, 0, 0, 0])?[0])
}

/// `task_set_space(task, cspace, vspace)`: gives the task a CSpace and a VSpace. See
/// [`Sysno::TaskSetSpace`]; [`Task::set_space`] is the typed form.
///
/// # Safety
///
/// - The [teardown contract](crate::safety#the-teardown-contract), for the task's references to
///   the CSpace and VSpace it had, which this drops.
/// - If the task runs code of this program in the caller's VSpace (it is the caller itself, or a
///   thread) and `vspace` is another, that code goes on running in the other space, where every
///   address means something else: sound only if it never uses memory of the old one again (in
///   Rust code, practically never; for the caller itself, the call returns into the new space).
/// - The [code contract](crate::safety#the-code-contract), if `vspace` is the caller's VSpace or
///   `cspace` the caller's CSpace: the task's registers (as they are, and as they will be
///   written) must start it on code meant to run there.
///
/// ```no_run
/// use sys::{CSpace, Slot, Task, VSpace};
///
/// # fn demo() -> sys::Result<()> {
/// let memory = sys::process::memory().expect("the program has a Memory");
/// let (cspace, vspace) = (CSpace::create(memory, 4, Slot::Auto)?, VSpace::create(memory, Slot::Auto)?);
/// let task = Task::create(memory, Slot::Auto)?;
/// // SAFETY: the task was just made (no spaces to drop, all-zero registers), and the spaces it
/// // gets are its own: it can reach none of this program's memory or slots.
/// unsafe { sys::task::task_set_space(task.slot(), cspace.slot(), vspace.slot())? };
/// # Ok(())
/// # }
/// ```
pub unsafe fn task_set_space(task: usize, cspace: usize, vspace: usize) -> Result<()> {
    // SAFETY: the caller keeps the contracts above.
    unsafe { call_unsafe(Sysno::TaskSetSpace, [task, cspace, vspace, 0, 0, 0]) }
}

/// `task_set_priority(task, authority, priority, max_priority)`: sets the task's priority and
/// maximum controlled priority, both at most the maximum controlled priority of `authority`. See
/// [`Sysno::TaskSetPriority`].
///
/// ```no_run
/// # fn demo(worker: sys::Task) -> sys::Result<()> {
/// let me = sys::process::task().expect("the program has its Task");
/// // Priority 10, and no authority to raise anyone's.
/// sys::task::task_set_priority(worker.slot(), me.slot(), 10, 0)?;
/// # Ok(())
/// # }
/// ```
pub fn task_set_priority(task: usize, authority: usize, priority: usize, max_priority: usize) -> Result<()> {
    call(Sysno::TaskSetPriority, [task, authority, priority, max_priority, 0, 0]).map(drop)
}

/// `task_set_fs_base(task, base)`: sets the task's FS base, the caller itself included. See
/// [`Sysno::TaskSetFsBase`].
///
/// # Safety
///
/// The runtime finds the running thread's block (its id, its thread-local values, where it
/// parks) through the FS base. A task that runs this program's code must keep an FS base that
/// points at a thread block the runtime made for it, live for as long as the task runs; only the
/// runtime sets it. (A task running other code, in another address space, is its own business.)
///
/// ```no_run
/// # fn demo(child: sys::Task) -> sys::Result<()> {
/// // A program this one loaded keeps its thread-local block at 0x7000_0000 in its own space.
/// // SAFETY: `child` runs another program, in a VSpace of its own: not this program's code,
/// // whose thread blocks only the runtime points FS bases at.
/// unsafe { sys::task::task_set_fs_base(child.slot(), 0x7000_0000)? };
/// # Ok(())
/// # }
/// ```
pub unsafe fn task_set_fs_base(task: usize, base: usize) -> Result<()> {
    // SAFETY: the call reads and writes no memory of the caller's; the caller vouches for what the
    // FS base means to the task's code.
    let (rax, _) = unsafe { syscall(Sysno::TaskSetFsBase as usize, [task, base, 0, 0, 0, 0]) };
    Error::check(rax)
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
///
/// ```no_run
/// use sys::task::Registers;
///
/// # fn demo(worker: sys::Task) -> sys::Result<()> {
/// let mut regs = Registers::default();
/// // SAFETY: `regs` is a local of exactly `REGISTERS_BYTES` bytes, which no reference points
/// // into during the call; any bytes make a valid `Registers`.
/// unsafe { sys::task::task_read_regs(worker.slot(), (&raw mut regs).expose_provenance())? };
/// sys::println!("worker at {:#x}", regs.rip);
/// # Ok(())
/// # }
/// ```
pub unsafe fn task_read_regs(task: usize, buf: usize) -> Result<()> {
    // SAFETY: the caller vouches for `buf` as above; the kernel writes nothing else.
    let (rax, _) = unsafe { syscall(Sysno::TaskReadRegs as usize, [task, buf, 0, 0, 0, 0]) };
    Error::check(rax)
}

/// `task_write_regs(task, buf)`: sets the task's registers from the [`Registers`] at address
/// `buf`. See [`Sysno::TaskWriteRegs`]; [`Task::write_regs`] is the typed form.
///
/// Any `buf` is fine as far as the caller's memory goes: the kernel only reads it, through its
/// own mapping, after checking that every byte is mapped readable
/// ([`BadAddress`](abi::Error::BadAddress) otherwise).
///
/// # Safety
///
/// The [code contract](crate::safety#the-code-contract): if the task runs, or will run, in the
/// caller's VSpace or with the caller's CSpace, the registers must start (or resume) it on code
/// of this program meant to run there, on a stack nothing else uses. A call the kernel refuses
/// (a bad capability, the caller itself, `BadAddress`, a non-canonical `rip` or `fs_base`)
/// changes nothing and needs no promise.
///
/// ```no_run
/// use sys::task::Registers;
///
/// # fn demo(child: sys::Task, entry: u64, stack_top: u64) -> sys::Result<()> {
/// let regs = Registers { rip: entry, rsp: stack_top - 8, rflags: 0x202, ..Registers::default() };
/// // SAFETY: `child` runs in a VSpace and a CSpace of its own: whatever it runs cannot reach
/// // this program's memory or slots.
/// unsafe { sys::task::task_write_regs(child.slot(), core::ptr::from_ref(&regs).expose_provenance())? };
/// # Ok(())
/// # }
/// ```
pub unsafe fn task_write_regs(task: usize, buf: usize) -> Result<()> {
    // SAFETY: the caller keeps the code contract.
    unsafe { call_unsafe(Sysno::TaskWriteRegs, [task, buf, 0, 0, 0, 0]) }
}

/// `task_start(task)`: makes an inactive task with a CSpace and a VSpace runnable. See
/// [`Sysno::TaskStart`].
///
/// ```no_run
/// # fn demo(child: sys::Task) -> sys::Result<()> {
/// sys::task::task_start(child.slot())?;
/// # Ok(())
/// # }
/// ```
pub fn task_start(task: usize) -> Result<()> {
    call(Sysno::TaskStart, [task, 0, 0, 0, 0, 0]).map(drop)
}

/// `task_suspend(task)`: stops a runnable task. See [`Sysno::TaskSuspend`].
///
/// ```no_run
/// # fn demo(worker: sys::Task) -> sys::Result<()> {
/// sys::task::task_suspend(worker.slot())?;
/// // ... look at it at leisure ...
/// sys::task::task_resume(worker.slot())?;
/// # Ok(())
/// # }
/// ```
pub fn task_suspend(task: usize) -> Result<()> {
    call(Sysno::TaskSuspend, [task, 0, 0, 0, 0, 0]).map(drop)
}

/// `task_destroy(task)`: stops the task for good. See [`Sysno::TaskDestroy`];
/// [`Task::destroy`] is the typed form.
///
/// # Safety
///
/// The [teardown contract](crate::safety#the-teardown-contract), for the task's references to
/// its CSpace, VSpace and fault Endpoint, which this drops at once: if it held the last reference
/// to its CSpace, the capabilities in that CSpace are deleted. (Stopping the task is sound in
/// itself, the caller included: to the rest of the program a destroyed thread is one that waits
/// forever.)
///
/// ```no_run
/// # fn demo(child: sys::Task) -> sys::Result<()> {
/// // SAFETY: `child` runs another program, in spaces of its own that hold no Page mapped in
/// // this program's VSpace: nothing of this program's memory dies with them.
/// unsafe { sys::task::task_destroy(child.slot())? };
/// # Ok(())
/// # }
/// ```
pub unsafe fn task_destroy(task: usize) -> Result<()> {
    // SAFETY: the caller keeps the teardown contract.
    unsafe { call_unsafe(Sysno::TaskDestroy, [task, 0, 0, 0, 0, 0]) }
}

/// `task_kill(task, status)`: ends the task as though it had called `exit(status)`. See
/// [`Sysno::TaskKill`]; [`Task::kill`] is the typed form.
///
/// # Safety
///
/// As [`task_destroy`]: the [teardown contract](crate::safety#the-teardown-contract) for the
/// task's references to its CSpace, VSpace and fault Endpoint, which this drops at once.
///
/// ```no_run
/// # fn demo(child: sys::Task) -> sys::Result<()> {
/// // A child that overran its time limit ends with status 124.
/// // SAFETY: `child` runs another program, in spaces of its own that hold no Page mapped in
/// // this program's VSpace: nothing of this program's memory dies with them.
/// unsafe { sys::task::task_kill(child.slot(), 124)? };
/// # Ok(())
/// # }
/// ```
pub unsafe fn task_kill(task: usize, status: usize) -> Result<()> {
    // SAFETY: the caller keeps the teardown contract.
    unsafe { call_unsafe(Sysno::TaskKill, [task, status, 0, 0, 0, 0]) }
}

/// `task_resume(task)`: makes a suspended or faulted task runnable. See [`Sysno::TaskResume`].
///
/// ```no_run
/// # fn demo(worker: sys::Task) -> sys::Result<()> {
/// sys::task::task_suspend(worker.slot())?;
/// sys::task::task_resume(worker.slot())?;
/// # Ok(())
/// # }
/// ```
pub fn task_resume(task: usize) -> Result<()> {
    call(Sysno::TaskResume, [task, 0, 0, 0, 0, 0]).map(drop)
}

/// `task_yield()`: gives the rest of the caller's timeslice to the next task of its priority.
/// See [`Sysno::TaskYield`]; [`yield_now`] is the same without a result to check.
///
/// ```no_run
/// # fn demo() -> sys::Result<()> {
/// sys::task::task_yield()?;
/// # Ok(())
/// # }
/// ```
pub fn task_yield() -> Result<()> {
    call(Sysno::TaskYield, [0; ARG_REGS]).map(drop)
}

/// `task_info(task) -> (state, priority, max_priority, detail)`, the numbers as the kernel
/// returned them. See [`Sysno::TaskInfo`] and [`Task::info`].
///
/// ```no_run
/// use sys::task::State;
///
/// # fn demo(child: sys::Task) -> sys::Result<()> {
/// let (state, priority, _max, detail) = sys::task::task_info(child.slot())?;
/// if state == State::Exited as usize {
///     sys::println!("exited with {detail} (priority was {priority})");
/// }
/// # Ok(())
/// # }
/// ```
pub fn task_info(task: usize) -> Result<(usize, usize, usize, usize)> {
    let out = call(Sysno::TaskInfo, [task, 0, 0, 0, 0, 0])?;
    Ok((out[0], out[1], out[2], out[3]))
}

/// Gives the rest of the caller's timeslice to the next runnable task of its priority; returns at
/// once if there is none. Tasks of a higher priority run whenever they are runnable, yield or no
/// yield; tasks of a lower priority never get the time.
///
/// ```no_run
/// use core::sync::atomic::{AtomicBool, Ordering};
///
/// static READY: AtomicBool = AtomicBool::new(false);
///
/// // A short wait for another thread of the same priority, giving it the processor meanwhile.
/// while !READY.load(Ordering::Acquire) {
///     sys::task::yield_now();
/// }
/// ```
pub fn yield_now() {
    // `task_yield` takes no argument and cannot fail.
    let _ = task_yield();
}

/// Ends the calling task with `status`, which its supervisor reads with [`Task::info`]; the other
/// tasks go on. A thread made by [`spawn`] or [`prepare`] ends with this.
///
/// This is the `exit` syscall, exactly as [`exit`](crate::exit): only when the caller is the root
/// task does the run end with it.
///
/// ```no_run
/// /// A hand-made thread's entry ([`sys::task::spawn`]): it cannot return.
/// extern "C" fn worker(job: usize) -> ! {
///     let status = if job % 2 == 0 { 0 } else { 1 };
///     sys::task::exit_thread(status)
/// }
/// ```
pub fn exit_thread(status: usize) -> ! {
    crate::syscall::exit(status)
}

/// A Task capability: a thread of execution.
///
/// Like the handles in [`cap`](crate::cap), a convenience, not a proof: any slot can be wrapped,
/// and the kernel checks the kind and rights on every call. Dereferences to its [`Cap`], so the
/// generic operations work on it; [`delete`](Cap::delete) of the last capability to a task stops
/// it at once, and is `unsafe` (the task drops its CSpace and VSpace: see
/// [`task_destroy`]). [`revoke`](Task::revoke) is safe.
///
/// ```no_run
/// use sys::task::{Registers, State};
/// use sys::vspace::access;
/// use sys::{CSpace, Note, Page, Slot, Task, VSpace};
///
/// # fn demo(entry: u64) -> sys::Result<()> {
/// let memory = sys::process::memory().expect("the program has a Memory");
/// // Another program, in spaces of its own (its code mapped at `entry` by a loader, not shown).
/// let cspace = CSpace::create(memory, 4, Slot::Auto)?;
/// let vspace = VSpace::create(memory, Slot::Auto)?;
/// let stack = Page::create(memory, 4, Slot::Auto)?;
/// stack.map(vspace, 0x7fff_0000_0000 - 4 * 4096, access::RW, memory)?;
/// let task = Task::create(memory, Slot::Auto)?;
/// // SAFETY: the task was just made (no spaces to drop), and the spaces it gets are its own: it
/// // can reach none of this program's memory or slots.
/// unsafe { task.set_space(cspace, vspace)? };
/// let regs = Registers { rip: entry, rsp: 0x7fff_0000_0000 - 8, rflags: 0x202, ..Registers::default() };
/// // SAFETY: the task runs in spaces of its own, so any registers are sound.
/// unsafe { task.write_regs(&regs)? };
/// let me = sys::process::task().expect("the program has its Task");
/// task.set_priority(me, me.info()?.priority, 0)?;
/// let ended = Note::create(memory, Slot::Auto)?;
/// task.set_exit_note(Some(ended), 0b1)?;
/// task.start()?;
/// ended.wait()?;
/// let info = task.info()?;
/// sys::println!("ended: {:?} with {}", info.state, info.detail);
/// # Ok(())
/// # }
/// ```
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
///
/// ```no_run
/// use sys::task::State;
///
/// # fn demo(child: sys::Task) -> sys::Result<()> {
/// let info = child.info()?;
/// match info.state {
///     Ok(State::Exited) => sys::println!("exited with status {}", info.detail),
///     Ok(State::Faulted) => sys::println!("faulted: vector {}", info.detail),
///     Ok(state) => sys::println!("{state:?} at priority {} (max {})", info.priority, info.max_priority),
///     Err(n) => sys::println!("state {n}, unknown to this library"),
/// }
/// # Ok(())
/// # }
/// ```
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
    ///
    /// ```
    /// use sys::TaskInfo;
    /// use sys::task::State;
    ///
    /// let faulted = TaskInfo { state: Ok(State::Faulted), priority: 100, max_priority: 0, detail: 14 };
    /// assert!(faulted.is_stopped());
    /// assert!(!TaskInfo { state: Ok(State::Suspended), ..faulted }.is_stopped());
    ///
    /// /// Waits (politely) until `child` has ended.
    /// fn wait_for(child: sys::Task) -> sys::Result<TaskInfo> {
    ///     loop {
    ///         let info = child.info()?;
    ///         if info.is_stopped() {
    ///             return Ok(info);
    ///         }
    ///         sys::task::yield_now();
    ///     }
    /// }
    /// ```
    pub fn is_stopped(&self) -> bool {
        matches!(self.state, Ok(State::Exited | State::Faulted))
    }
}

/// The root task itself, as a Task capability in the root task's CSpace, with all rights
/// ([`ROOT_TASK`](bootcaps::ROOT_TASK)). Threads sharing the root task's CSpace see it too.
///
/// ```
/// use sys::task::root_task;
///
/// assert_eq!(root_task().slot(), sys::abi::bootcaps::ROOT_TASK);
///
/// /// In the root task: its own priority.
/// fn my_priority() -> sys::Result<usize> {
///     Ok(root_task().info()?.priority)
/// }
/// ```
pub const fn root_task() -> Task {
    Task::at(bootcaps::ROOT_TASK)
}

/// The root task's VSpace, with all rights ([`ROOT_VSPACE`](bootcaps::ROOT_VSPACE)): the address
/// space the root task and the threads it spawns run in. The same as [`VSpace::root`].
///
/// ```
/// use sys::task::root_vspace;
///
/// assert_eq!(root_vspace(), sys::VSpace::root());
/// assert_eq!(root_vspace().slot(), sys::abi::bootcaps::ROOT_VSPACE);
/// ```
pub const fn root_vspace() -> VSpace {
    VSpace::root()
}

impl Task {
    /// Treats `cap` as a Task capability. Nothing is checked: the kernel checks the kind on each
    /// call.
    ///
    /// ```
    /// use sys::{Cap, Task};
    ///
    /// // A slot learnt at run time: from the start page, a message, a configuration.
    /// let cap = Cap::new(12);
    /// let task = Task::new(cap);
    /// assert_eq!(task.cap(), cap);
    /// ```
    pub const fn new(cap: Cap) -> Task {
        Task(cap)
    }

    /// Treats the capability in `slot` as a Task capability (see [`new`](Self::new)).
    ///
    /// ```
    /// // The slot its starter documented, say 12.
    /// let task = sys::Task::at(12);
    /// assert_eq!(task.slot(), 12);
    /// ```
    pub const fn at(slot: usize) -> Task {
        Task(Cap::new(slot))
    }

    /// The untyped capability address.
    ///
    /// ```
    /// let task = sys::Task::at(12);
    /// // The untyped address, for the raw wrappers and the generic calls.
    /// let cap: sys::Cap = task.cap();
    /// assert_eq!(cap.slot(), 12);
    /// ```
    pub const fn cap(self) -> Cap {
        self.0
    }

    /// Makes an inactive Task in `dst` of the caller's CSpace, charged [`TASK_PAGES`] to `memory`
    /// (which needs WRITE): priority 0, maximum controlled priority 0, no CSpace or VSpace, all
    /// registers zero.
    ///
    /// ```no_run
    /// use sys::task::State;
    /// use sys::{Slot, Task};
    ///
    /// # fn demo() -> sys::Result<()> {
    /// let memory = sys::process::memory().expect("the program has a Memory");
    /// let task = Task::create(memory, Slot::Auto)?;
    /// assert_eq!(task.info()?.state, Ok(State::Inactive));
    /// # Ok(())
    /// # }
    /// ```
    pub fn create(memory: Memory, dst: Slot) -> Result<Task> {
        task_create(memory.slot(), dst.raw()).map(Task::at)
    }

    /// Gives the task the CSpace its capability addresses index and the VSpace it runs in (each a
    /// capability of the caller; the task holds its own reference to both objects). Needs WRITE
    /// on all three. `vspace` is a [`VSpace`] handle, or any capability naming a VSpace.
    ///
    /// # Safety
    ///
    /// As for [`task_set_space`]: the teardown contract for the spaces the task had; never move
    /// a task that runs this program's code out of the caller's VSpace while it may use its
    /// memory; and the code contract if the task gets the caller's VSpace or CSpace. A task just
    /// made has no spaces and all-zero registers (it would fault at `rip` 0 if started), so
    /// giving it spaces is sound; what it then runs is [`write_regs`](Task::write_regs)'s
    /// business.
    ///
    /// ```no_run
    /// use sys::{CSpace, Slot, Task, VSpace};
    ///
    /// # fn demo() -> sys::Result<()> {
    /// let memory = sys::process::memory().expect("the program has a Memory");
    /// let cspace = CSpace::create(memory, 4, Slot::Auto)?;
    /// let vspace = VSpace::create(memory, Slot::Auto)?;
    /// let task = Task::create(memory, Slot::Auto)?;
    /// // SAFETY: the task was just made (no spaces to drop, all-zero registers), and the spaces it
    /// // gets are its own: it can reach none of this program's memory or slots.
    /// unsafe { task.set_space(cspace, vspace)? };
    /// # Ok(())
    /// # }
    /// ```
    pub unsafe fn set_space(self, cspace: CSpace, vspace: impl Into<Cap>) -> Result<()> {
        // SAFETY: the caller keeps `task_set_space`'s contracts.
        unsafe { task_set_space(self.slot(), cspace.slot(), vspace.into().slot()) }
    }

    /// Sets the task's priority and maximum controlled priority. Both must be at most the maximum
    /// controlled priority of the task `authority` names
    /// ([`InvalidArgument`](abi::Error::InvalidArgument)). Needs WRITE on this task, READ on
    /// `authority`. A runnable task moves to the back of its new priority's queue.
    ///
    /// ```no_run
    /// use sys::abi::Error::InvalidArgument;
    ///
    /// # fn demo(worker: sys::Task) -> sys::Result<()> {
    /// let me = sys::process::task().expect("the program has its Task");
    /// let mine = me.info()?;
    /// // Below this program, so that it never delays it; no authority over priorities.
    /// worker.set_priority(me, mine.priority.saturating_sub(1), 0)?;
    /// // Above what `me` may give: refused.
    /// assert_eq!(worker.set_priority(me, mine.max_priority + 1, 0), Err(InvalidArgument.into()));
    /// # Ok(())
    /// # }
    /// ```
    pub fn set_priority(self, authority: Task, priority: usize, max_priority: usize) -> Result<()> {
        task_set_priority(self.slot(), authority.slot(), priority, max_priority)
    }

    /// The task's registers. Needs READ. Not for the caller itself
    /// ([`InvalidState`](abi::Error::InvalidState)).
    ///
    /// ```no_run
    /// # fn demo(supervisor: &sys::fault::Supervisor, worker: sys::Task) -> sys::Result<()> {
    /// let fault = supervisor.recv()?;
    /// let regs = worker.read_regs()?;
    /// sys::println!("faulted at {:#x} with rsp {:#x}", regs.rip, regs.rsp);
    /// # let _ = fault.resume();
    /// # Ok(())
    /// # }
    /// ```
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
    /// # Safety
    ///
    /// The [code contract](crate::safety#the-code-contract), as for [`task_write_regs`]: a task
    /// that runs (or will run) in the caller's VSpace or with its CSpace can corrupt the
    /// caller's memory, so these registers must start or resume it on code of this program meant
    /// to run there (a [`ThreadEntry`] on a stack of its own, see [`thread_registers`]). A task
    /// in a VSpace and CSpace of its own may be given any registers.
    ///
    /// ```no_run
    /// use sys::task::Registers;
    ///
    /// # fn demo(child: sys::Task, entry: u64, stack_top: u64) -> sys::Result<()> {
    /// let regs = Registers { rip: entry, rsp: stack_top - 8, rflags: 0x202, ..Registers::default() };
    /// // SAFETY: `child` runs in a VSpace and a CSpace of its own: whatever it runs cannot reach
    /// // this program's memory or slots.
    /// unsafe { child.write_regs(&regs)? };
    /// child.start()?;
    /// # Ok(())
    /// # }
    /// ```
    pub unsafe fn write_regs(self, regs: &Registers) -> Result<()> {
        // SAFETY: the caller keeps the code contract; `regs` is a valid `Registers` for the whole
        // call, which the kernel only reads.
        unsafe { task_write_regs(self.slot(), core::ptr::from_ref(regs).expose_provenance()) }
    }

    /// Makes the inactive task runnable. Needs WRITE; it must have a CSpace and a VSpace
    /// ([`InvalidState`](abi::Error::InvalidState) otherwise, and for a task started before).
    ///
    /// ```no_run
    /// use sys::abi::Error::InvalidState;
    ///
    /// # fn demo(child: sys::Task) -> sys::Result<()> {
    /// child.start()?;
    /// // Once only.
    /// assert_eq!(child.start(), Err(InvalidState.into()));
    /// # Ok(())
    /// # }
    /// ```
    pub fn start(self) -> Result<()> {
        task_start(self.slot())
    }

    /// Stops the runnable task until [`resume`](Self::resume). Needs WRITE. Suspending the caller
    /// itself switches to another task at once.
    ///
    /// ```no_run
    /// use sys::task::State;
    ///
    /// # fn demo(worker: sys::Task) -> sys::Result<()> {
    /// worker.suspend()?;
    /// assert_eq!(worker.info()?.state, Ok(State::Suspended));
    /// let regs = worker.read_regs()?; // a still picture
    /// worker.resume()?;
    /// # Ok(())
    /// # }
    /// ```
    pub fn suspend(self) -> Result<()> {
        task_suspend(self.slot())
    }

    /// Stops the task for good: it leaves every queue and lets go of its CSpace, VSpace and
    /// fault endpoint; `info` then reports Exited with detail `abi::task::DESTROYED`. The object
    /// lives until its last capability is deleted. Needs WRITE.
    ///
    /// # Safety
    ///
    /// The [teardown contract](crate::safety#the-teardown-contract) for the references the task
    /// drops, as for [`task_destroy`]. A thread of this program (its CSpace and VSpace are the
    /// caller's, which the caller's own Task holds) drops nothing that dies.
    ///
    /// ```no_run
    /// use sys::task::State;
    ///
    /// # fn demo(child: sys::Task) -> sys::Result<()> {
    /// // SAFETY: `child` runs another program, in spaces of its own that hold no Page mapped in
    /// // this program's VSpace: nothing of this program's memory dies with them.
    /// unsafe { child.destroy()? };
    /// let info = child.info()?;
    /// assert_eq!((info.state, info.detail as u64), (Ok(State::Exited), sys::abi::task::DESTROYED));
    /// # Ok(())
    /// # }
    /// ```
    pub unsafe fn destroy(self) -> Result<()> {
        // SAFETY: the caller keeps the teardown contract.
        unsafe { task_destroy(self.slot()) }
    }

    /// Ends the task as though it had called `exit(status)`: as [`destroy`](Self::destroy), but
    /// `info` reports Exited with `status` (a task that had already exited keeps its own), and
    /// ending the root task this way ends the run as its `exit(status)` would. Needs WRITE.
    ///
    /// # Safety
    ///
    /// As [`destroy`](Self::destroy).
    ///
    /// ```no_run
    /// # fn demo(child: sys::Task) -> sys::Result<()> {
    /// // Out of time: status 124, as its own `exit(124)` would have left.
    /// // SAFETY: `child` runs another program, in spaces of its own that hold no Page mapped in
    /// // this program's VSpace: nothing of this program's memory dies with them.
    /// unsafe { child.kill(124)? };
    /// assert_eq!(child.info()?.detail, 124);
    /// # Ok(())
    /// # }
    /// ```
    pub unsafe fn kill(self, status: usize) -> Result<()> {
        // SAFETY: the caller keeps the teardown contract.
        unsafe { task_kill(self.slot(), status) }
    }

    /// Makes a suspended or faulted task runnable again, with the registers it has (a faulted
    /// task retries the faulting instruction unless they were changed). Needs WRITE.
    ///
    /// ```no_run
    /// use sys::task::State;
    ///
    /// # fn demo(worker: sys::Task) -> sys::Result<()> {
    /// worker.suspend()?;
    /// // ... look at it ...
    /// worker.resume()?;
    /// assert_ne!(worker.info()?.state, Ok(State::Suspended));
    /// # Ok(())
    /// # }
    /// ```
    pub fn resume(self) -> Result<()> {
        task_resume(self.slot())
    }

    /// The task's state, priority, maximum controlled priority and exit status or fault vector.
    /// Needs READ.
    ///
    /// ```no_run
    /// # fn demo(child: sys::Task) -> sys::Result<()> {
    /// let info = child.info()?;
    /// if info.is_stopped() {
    ///     sys::println!("child stopped: {:?}, detail {}", info.state, info.detail);
    /// }
    /// # Ok(())
    /// # }
    /// ```
    pub fn info(self) -> Result<TaskInfo> {
        let (state, priority, max_priority, detail) = task_info(self.slot())?;
        Ok(TaskInfo { state: State::from_number(state).ok_or(state), priority, max_priority, detail })
    }
}

checked_revoke!(
    Task,
    Kind::Task,
    "a Task",
    "task",
    "let memory = sys::process::memory().expect(\"the program has a Memory\");",
    "let task = sys::Task::create(memory, sys::Slot::Auto)?;"
);

/// The function a thread runs: it is called with the thread's argument and must end with
/// [`exit_thread`] (returning is impossible: there is nothing to return to).
pub type ThreadEntry = extern "C" fn(usize) -> !;

/// The stack pointer a thread starting on `stack` gets: the top of the stack, 16-byte aligned,
/// less the 8 bytes of a return address, as the System V ABI has it at a function's entry. The
/// return address slot is zeroed (a return would jump to address 0 and fault).
///
/// Returns `None` if the stack is shorter than 64 bytes after alignment.
///
/// ```
/// use sys::task::stack_pointer;
///
/// let mut stack = [0xffu8; 256];
/// let rsp = stack_pointer(&mut stack).expect("room enough");
/// // As at a function's entry: 8 below a multiple of 16, the return address slot zeroed.
/// assert_eq!(rsp % 16, 8);
/// let base = stack.as_ptr().addr();
/// assert!(stack[rsp - base..rsp - base + 8].iter().all(|&b| b == 0));
/// assert_eq!(stack_pointer(&mut [0u8; 32]), None, "too short");
/// ```
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

/// Lays out a thread's stack: its block ([`crate::thread::block`]) in the last bytes (64-byte
/// aligned), and below it the first stack pointer, as at a function's entry (8 below a multiple
/// of 16), with its return-address slot zeroed. `None` if `stack` has too little room (less than
/// the block and 64 bytes).
///
/// ```
/// use sys::task::thread_stack;
///
/// let mut stack = [0u8; 16 * 1024];
/// let top = stack.as_ptr().addr() + stack.len();
/// let (rsp, block) = thread_stack(&mut stack).expect("room enough");
/// assert_eq!(block % 64, 0);
/// assert!(rsp < block && block < top);
/// assert_eq!(rsp % 16, 8);
/// ```
pub fn thread_stack(stack: &mut [u8]) -> Option<(usize, usize)> {
    let base = stack.as_mut_ptr().expose_provenance();
    let top = base.checked_add(stack.len())? & !63;
    let block = top.checked_sub(crate::thread::block::BLOCK_BYTES)?;
    let rsp = (block & !15).checked_sub(8)?;
    if rsp < base || rsp - base < 56 {
        return None;
    }
    stack[rsp - base..rsp - base + 8].fill(0);
    Some((rsp, block))
}

/// The registers of a thread about to call `entry(arg)` with stack pointer `rsp` (see
/// [`stack_pointer`]): `rip`, `rsp` and `rdi` set, `rflags` with only IF, everything else zero.
///
/// ```
/// use sys::task::{stack_pointer, thread_registers};
///
/// extern "C" fn worker(job: usize) -> ! {
///     sys::task::exit_thread(job)
/// }
///
/// let mut stack = [0u8; 4096];
/// let rsp = stack_pointer(&mut stack).expect("room enough");
/// let regs = thread_registers(worker, 7, rsp);
/// assert_eq!((regs.rdi, regs.rsp, regs.rflags), (7, rsp as u64, 0x202));
/// ```
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
/// - `stack` must be large enough for everything `entry` does, with room to spare: there is no
///   guard page, so a thread that runs off the bottom of its stack overwrites whatever memory
///   lies below it. (The rest of the [code contract](crate::safety#the-code-contract) holds:
///   `entry` is safe code of this program, and the stack is the thread's for good.)
/// - The thread shares the caller's CSpace: the program keeps the
///   [shared-slot rule](crate::safety#shared-slots) while it and the caller (and any other task
///   with that CSpace) run.
///
/// ```no_run
/// # extern crate alloc;
/// use alloc::boxed::Box;
/// use alloc::vec;
/// use sys::{Slot, root, task};
///
/// extern "C" fn worker(job: usize) -> ! {
///     sys::println!("job {job}");
///     task::exit_thread(0)
/// }
///
/// # fn demo() -> sys::Result<()> {
/// // In the root task (or a thread sharing its CSpace).
/// let stack: &'static mut [u8] = Box::leak(vec![0u8; 64 * 1024].into_boxed_slice());
/// // SAFETY: 64 KiB is far more than `worker` needs (it formats one line); the thread and
/// // this one never empty or map a slot the other's checked calls use.
/// let thread = unsafe { task::prepare(root::memory(), Slot::Auto, worker, 1, stack)? };
/// thread.set_priority(task::root_task(), task::ROOT_PRIORITY, 0)?;
/// thread.start()?;
/// # Ok(())
/// # }
/// ```
pub unsafe fn prepare(
    memory: Memory,
    dst: Slot,
    entry: ThreadEntry,
    arg: usize,
    stack: &'static mut [u8],
) -> Result<Task> {
    let (rsp, block) = thread_stack(stack).ok_or(Error::Abi(abi::Error::InvalidArgument))?;
    let task = Task::create(memory, dst)?;
    // SAFETY: the block's bytes are the top of `stack`, which is the thread's alone for good.
    let fs_base = unsafe { crate::thread::block::make(block, 0, 0) };
    let mut regs = thread_registers(entry, arg, rsp);
    regs.fs_base = fs_base as u64;
    // SAFETY: the task was just made: it has no CSpace or VSpace to drop, it has not started,
    // and its registers are all zero until they are written below.
    let set_up = unsafe { task.set_space(CSpace::at(bootcaps::ROOT_CSPACE), root_vspace()) };
    // SAFETY: the code contract: `entry` is safe code of this program, written to run as a
    // thread (a `ThreadEntry`), on `stack`, which is the thread's alone for good and, the caller
    // promises, large enough; the shared-slot rule is the caller's promise too.
    let set_up = set_up.and_then(|()| unsafe { task.write_regs(&regs) });
    match set_up {
        Ok(()) => Ok(task),
        Err(e) => {
            // SAFETY: the task never started, and holds at most references to the CSpace and
            // VSpace in slots `ROOT_CSPACE` and `ROOT_VSPACE`, which those capabilities hold too:
            // deleting its only capability ends the Task and nothing else.
            let _ = unsafe { task.cap().delete() };
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
/// As for [`prepare`]: `stack` must be large enough for `entry`, as there is no guard page, and
/// the program keeps the [shared-slot rule](crate::safety#shared-slots).
///
/// ```no_run
/// # extern crate alloc;
/// use alloc::boxed::Box;
/// use alloc::vec;
/// use sys::task::{self, State};
/// use sys::{Slot, root};
///
/// extern "C" fn worker(job: usize) -> ! {
///     task::exit_thread(job * 2)
/// }
///
/// # fn demo() -> sys::Result<()> {
/// // In the root task (or a thread sharing its CSpace).
/// let stack: &'static mut [u8] = Box::leak(vec![0u8; 16 * 1024].into_boxed_slice());
/// // SAFETY: 16 KiB is far more than `worker` needs (no calls, no locals); the thread touches
/// // no slot at all.
/// let thread = unsafe { task::spawn(root::memory(), Slot::Auto, worker, 21, stack)? };
/// while !thread.info()?.is_stopped() {
///     task::yield_now();
/// }
/// let info = thread.info()?;
/// assert_eq!((info.state, info.detail), (Ok(State::Exited), 42));
/// # Ok(())
/// # }
/// ```
pub unsafe fn spawn(
    memory: Memory,
    dst: Slot,
    entry: ThreadEntry,
    arg: usize,
    stack: &'static mut [u8],
) -> Result<Task> {
    // SAFETY: the caller vouches for the stack's size and the shared-slot rule.
    let task = unsafe { prepare(memory, dst, entry, arg, stack)? };
    let started = root_task()
        .info()
        .and_then(|root| task.set_priority(root_task(), root.priority, 0))
        .and_then(|()| task.start());
    match started {
        Ok(()) => Ok(task),
        Err(e) => {
            // SAFETY: deleting the only capability stops the thread, started or not; it drops
            // its references to the CSpace and VSpace in slots `ROOT_CSPACE` and `ROOT_VSPACE`,
            // which those capabilities hold too, so nothing else dies.
            let _ = unsafe { task.cap().delete() };
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
