//! What the task tests share: stacks for threads made by hand (`sys::task::prepare`, for tests
//! of the Task object itself; tests of the runtime use `sys::thread`), a [`Thread`] guard that
//! deletes its task and frees its stack however the test ends, and bounded waits for a thread's
//! state ([`Thread::wait_for`], [`wait_stopped`]) on [`crate::clock`].
//!
//! Threads run functions of Vulcan in the root task's CSpace and VSpace (see
//! [`sys::task::prepare`]). There is no heap, so their stacks are the [`STACKS`] static arrays of
//! [`STACK_BYTES`] each, handed out one thread at a time: a stack is taken when a [`Thread`] is
//! made and given back when the `Thread` is dropped or [`killed`](Thread::kill), which deletes the
//! task's capability first. The `Thread` must hold the task's only capability, so that deleting
//! it stops the task for good before its stack is used again.

use core::cell::UnsafeCell;
use core::sync::atomic::{AtomicBool, Ordering};

use sys::task::{State, Task, TaskInfo, ThreadEntry, root_task};
use sys::{Boot, Slot, root};

use crate::clock::{Deadline, PATIENCE_MS};
use crate::harness::{Reason, TestResult, ensure_eq, fail, ok};

/// Bytes in each thread stack: room for `println!`'s 4 KiB buffer and then some.
pub const STACK_BYTES: usize = 16 * 1024;

/// How many threads can exist at once.
pub const STACKS: usize = 4;

/// A thread stack.
#[repr(C, align(16))]
struct StackMem(UnsafeCell<[u8; STACK_BYTES]>);

// SAFETY: a stack is reached only through the `&'static mut` that `take_stack` hands out, at most
// one at a time per stack (guarded by `STACK_TAKEN`).
unsafe impl Sync for StackMem {}

static STACK_MEM: [StackMem; STACKS] = [const { StackMem(UnsafeCell::new([0; STACK_BYTES])) }; STACKS];
static STACK_TAKEN: [AtomicBool; STACKS] = [const { AtomicBool::new(false) }; STACKS];

/// Takes a free stack: its index and the memory.
fn take_stack() -> Result<(usize, &'static mut [u8]), Reason> {
    for (i, taken) in STACK_TAKEN.iter().enumerate() {
        if !taken.swap(true, Ordering::Acquire) {
            // SAFETY: the flag was clear, so no reference to this stack is live: the thread given
            // it last was stopped for good (its only capability deleted) before the flag was
            // cleared, and nothing else ever touches the memory.
            let mem = unsafe { &mut *STACK_MEM[i].0.get() };
            return Ok((i, mem));
        }
    }
    fail!("all {STACKS} thread stacks are in use");
}

/// Gives stack `i` back.
///
/// # Safety
/// No task may run on the stack any more: the one given it must be stopped for good.
unsafe fn give_back_stack(i: usize) {
    STACK_TAKEN[i].store(false, Ordering::Release);
}

/// Whether `addr` lies in stack `i`.
fn in_stack(i: usize, addr: u64) -> bool {
    let base = STACK_MEM[i].0.get().addr() as u64;
    (base..base + STACK_BYTES as u64).contains(&addr)
}

/// A thread of Vulcan: a task (whose only capability this holds) and its stack. Dropping it
/// deletes the capability, which stops the task, and frees the stack.
pub struct Thread {
    task: Task,
    stack: usize,
}

impl Thread {
    /// An inactive thread that will call `entry(arg)`, at priority 0 (see [`sys::task::prepare`]).
    pub fn prepare(entry: ThreadEntry, arg: usize) -> Result<Thread, Reason> {
        let (stack, mem) = take_stack()?;
        // SAFETY: `STACK_BYTES` is four times what the thread entries in these tests need (their
        // deepest use is `println!`'s 4 KiB buffer, and few use even that). The shared-slot rule
        // holds: Vulcan's thread entries delete, move, revoke and map nothing; they only send,
        // receive, signal, wait, and fault on purpose.
        match unsafe { sys::task::prepare(root::memory(), Slot::Auto, entry, arg, mem) } {
            Ok(task) => Ok(Thread { task, stack }),
            Err(e) => {
                // SAFETY: no task was left with the stack: `prepare` deletes it on failure.
                unsafe { give_back_stack(stack) };
                fail!("sys::task::prepare: unexpected error {e:?}");
            }
        }
    }

    /// A thread calling `entry(arg)` started at `priority` (maximum controlled priority 0). A
    /// priority above the root task's runs before this returns.
    pub fn start(entry: ThreadEntry, arg: usize, priority: usize) -> Result<Thread, Reason> {
        let t = Thread::prepare(entry, arg)?;
        t.set_priority(priority)?;
        ok!(t.task.start(), "task_start(slot {})", t.task.slot());
        Ok(t)
    }

    /// Wraps a task that `sys::task::spawn` made on stack `stack` of `take`.
    fn adopt(task: Task, stack: usize) -> Thread {
        Thread { task, stack }
    }

    /// The task.
    pub fn task(&self) -> Task {
        self.task
    }

    /// Sets the thread's priority (maximum controlled priority 0), with the root task as the
    /// authority.
    pub fn set_priority(&self, priority: usize) -> TestResult {
        ok!(
            self.task.set_priority(root_task(), priority, 0),
            "task_set_priority(slot {}, {priority})",
            self.task.slot()
        );
        Ok(())
    }

    /// What `task_info` says.
    pub fn info(&self) -> Result<TaskInfo, Reason> {
        Ok(ok!(self.task.info(), "task_info(slot {})", self.task.slot()))
    }

    /// Fails unless the thread is in `state`.
    pub fn ensure_state(&self, state: State, what: &str) -> TestResult {
        ensure_eq!(self.info()?.state, Ok(state), "state of the thread ({what})");
        Ok(())
    }

    /// Fails unless the thread has exited with `status`.
    pub fn ensure_exited(&self, status: usize, what: &str) -> TestResult {
        let info = self.info()?;
        ensure_eq!((info.state, info.detail), (Ok(State::Exited), status), "(state, status) of the thread ({what})");
        Ok(())
    }

    /// Yields until the thread is in `state`; fails if it stops first, or after
    /// [`PATIENCE_MS`].
    pub fn wait_for(&self, boot: &Boot, state: State, what: &str) -> TestResult {
        let end = Deadline::patience(boot);
        loop {
            let info = self.info()?;
            if info.state == Ok(state) {
                return Ok(());
            }
            if info.is_stopped() {
                fail!("waiting for {what} ({state:?}), the thread stopped: {info:?}");
            }
            if end.passed() {
                fail!("waited {PATIENCE_MS} ms for {what} ({state:?}); the thread is {info:?}");
            }
            sys::task::yield_now();
        }
    }

    /// Yields until the thread has exited and returns its status; fails if it faults, or if it
    /// has not exited after [`PATIENCE_MS`].
    pub fn wait_exit(&self, boot: &Boot, what: &str) -> Result<usize, Reason> {
        let info = wait_stopped(boot, self, what)?;
        if info.state != Ok(State::Exited) {
            fail!("waiting for {what}, the thread stopped otherwise: {info:?}");
        }
        Ok(info.detail)
    }

    /// Whether `addr` lies in the thread's stack.
    pub fn stack_contains(&self, addr: u64) -> bool {
        in_stack(self.stack, addr)
    }

    /// A fresh stack pointer at the top of the thread's stack, for registers written while it is
    /// stopped (it is not using its stack then).
    pub fn fresh_stack_pointer(&self) -> u64 {
        let base = STACK_MEM[self.stack].0.get().addr();
        // Below the thread block `task::prepare` put at the top (`task::thread_stack`).
        let block = ((base + STACK_BYTES) & !63) - sys::thread::block::BLOCK_BYTES;
        ((block & !15) - 8) as u64
    }

    /// Deletes the task's capability (which stops it) and frees the stack, failing the test if
    /// the delete fails.
    pub fn kill(self) -> TestResult {
        // SAFETY: the thread runs in the root task's CSpace and VSpace, which the root task's own
        // Task holds too: its death stops it and ends nothing else.
        let r = unsafe { self.task.cap().delete() };
        // The stack is given back by `drop`, whose delete then finds the slot empty (or, had this
        // one failed, tries again).
        let slot = self.task.slot();
        drop(self);
        ok!(r, "cap_delete(slot {slot}) of a thread");
        Ok(())
    }
}

impl Drop for Thread {
    fn drop(&mut self) {
        // Stops the task if this is still its capability; an empty slot (after `kill`) answers
        // `InvalidCapability`, which is fine.
        if self.task.identify().is_ok_and(|id| id.kind == Ok(sys::Kind::Task)) {
            // SAFETY: as in `kill`: the Task of a thread in the root task's spaces.
            let _ = unsafe { self.task.cap().delete() };
        }
        // SAFETY: the task's only capability is gone, so the task is stopped for good and will
        // never run on the stack again.
        unsafe { give_back_stack(self.stack) };
    }
}

/// Starts a thread with [`sys::task::spawn`] itself (at the root task's priority), on a free stack.
pub fn spawn(entry: ThreadEntry, arg: usize) -> Result<Thread, Reason> {
    let (stack, mem) = take_stack()?;
    // SAFETY: as in `Thread::prepare`: the stack is far larger than the entries need, and the
    // entries keep the shared-slot rule.
    match unsafe { sys::task::spawn(root::memory(), Slot::Auto, entry, arg, mem) } {
        Ok(task) => Ok(Thread::adopt(task, stack)),
        Err(e) => {
            // SAFETY: `spawn` deleted the task it made on failure.
            unsafe { give_back_stack(stack) };
            fail!("sys::task::spawn: unexpected error {e:?}");
        }
    }
}

/// Yields until the thread has exited or faulted; fails if it has not within [`PATIENCE_MS`].
pub fn wait_stopped(boot: &Boot, t: &Thread, what: &str) -> Result<TaskInfo, Reason> {
    let end = Deadline::patience(boot);
    loop {
        let info = t.info()?;
        if info.is_stopped() {
            return Ok(info);
        }
        if end.passed() {
            fail!("waited {PATIENCE_MS} ms for {what} to end; it is {info:?}");
        }
        sys::task::yield_now();
    }
}
