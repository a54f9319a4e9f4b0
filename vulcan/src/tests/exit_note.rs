//! Tests of exit Notes (`task_set_exit_note`): a supervisor learns that a task stopped by waiting
//! on a Note, without polling `task_info`.
//!
//! The ABI (`abi::syscall::Sysno::TaskSetExitNote`, `docs/abi.md`): whenever the task's state
//! becomes Exited or Faulted (it exits; it faults with no fault endpoint; it is destroyed; its last
//! capability goes while it was not stopped) the kernel signals the bits, ORed with the Note
//! capability's badge. A fault delivered to a fault endpoint is no stop, nor is a suspend; a
//! faulted task resumed that faults again signals again. The task holds a reference to the Note.
//!
//! Threads come from [`Thread`]; every test runs [`isolated`].

use sys::abi::Error::{InsufficientRights, InvalidArgument, InvalidCapability, WrongKind};
use sys::abi::bootcaps::ROOT_MEMORY;
use sys::abi::task::DESTROYED;
use sys::notify::{Note, task_set_exit_note};
use sys::task::{State, Task, exit_thread, task_kill};
use sys::{Boot, Slot, rights, root};

use super::ipc::{HIGH, LOW, mint, new_endpoint};
use super::support::{SPARE, delete, delete_any, isolated, root_usage};
use super::threads::Thread;
use crate::harness::{Reason, Test, TestResult, ensure_eq, ok};

pub const TESTS: &[Test] = &[
    Test::new("exit_note_wakes_a_joiner", |b| isolated(b, wakes_a_joiner)),
    Test::new("exit_note_on_every_fault_stop_and_destroy", |b| isolated(b, every_fault_stop_and_destroy)),
    Test::new("exit_note_not_on_delivered_fault_or_suspend", |b| isolated(b, not_on_delivered_fault_or_suspend)),
    Test::new("exit_note_on_death_of_an_unstarted_task", |b| isolated(b, on_death_of_an_unstarted_task)),
    Test::new("exit_note_errors_and_reference", |b| isolated(b, errors_and_reference)),
    Test::new("task_kill_ends_with_the_status", |b| isolated(b, kill_ends_with_the_status)),
];

/// Exits with its argument as the status.
extern "C" fn exit_with(status: usize) -> ! {
    exit_thread(status)
}

/// Executes `ud2` (vector 6) for ever: a faulted thread resumed faults again.
extern "C" fn invalid_opcode(_: usize) -> ! {
    loop {
        // SAFETY: `ud2` raises an invalid-opcode exception and touches nothing; the kernel stops
        // the thread (or sends its fault endpoint a message) before anything else runs.
        unsafe { core::arch::asm!("ud2", options(nomem, nostack)) };
    }
}

/// Spins without a syscall, until it is suspended or killed.
extern "C" fn spin(_: usize) -> ! {
    loop {
        core::hint::spin_loop();
    }
}

/// Deletes a Task capability made here: these tasks never get a CSpace or VSpace, so their death
/// ends nothing but themselves (and drops their exit Note).
fn delete_task(t: Task) -> TestResult {
    // SAFETY: a task with no CSpace and no VSpace: its death releases only its exit Note, whose
    // end unmaps nothing (the teardown contract holds).
    unsafe { delete_any(t.cap()) }
}

fn new_note() -> Result<Note, Reason> {
    Ok(ok!(Note::create(root::memory(), Slot::Auto), "note_create"))
}

/// The bits set on `n` (taken).
fn poll(n: Note, what: &str) -> Result<usize, Reason> {
    Ok(ok!(n.poll(), "note_poll ({what})"))
}

/// A thread below the root task, with `note` (bits `bits`) as its exit Note, that runs as soon as
/// the root task waits: the root task waits on the Note and wakes with the bits once the thread
/// has exited, as a `join` does.
fn wakes_a_joiner(_: &Boot) -> TestResult {
    let note = new_note()?;
    let badged = Note::new(ok!(note.mint(root::cspace(), Slot::Auto, rights::ALL, 0x100), "cap_mint(note, 0x100)"));
    let t = Thread::prepare(exit_with, 7)?;
    ok!(t.task().set_exit_note(Some(badged), 0x11), "task_set_exit_note(thread, badged note, 0x11)");
    t.set_priority(LOW)?;
    ok!(t.task().start(), "task_start");
    ensure_eq!(poll(note, "before the root task waits")?, 0, "bits before the thread ran");
    let bits = ok!(note.wait(), "note_wait (join)");
    ensure_eq!(bits, 0x111, "bits the exit signalled (0x11 and the capability's badge 0x100)");
    t.ensure_exited(7, "thread after the wait")?;
    ensure_eq!(poll(note, "after the exit")?, 0, "bits after the exit was taken (one signal per stop)");
    t.kill()?;
    ensure_eq!(
        poll(note, "after the exited thread's last capability went")?,
        0,
        "bits after the death of an exited task"
    );
    delete(badged.cap())?;
    delete(note.cap())
}

/// A thread with no fault endpoint that faults is stopped: signalled. Resumed, it faults again:
/// signalled again. Destroyed while faulted (Faulted to Exited): signalled again. Its last
/// capability deleted after that: nothing more.
fn every_fault_stop_and_destroy(_: &Boot) -> TestResult {
    let note = new_note()?;
    let t = Thread::prepare(invalid_opcode, 0)?;
    ok!(t.task().set_exit_note(Some(note), 1 << 63), "task_set_exit_note");
    t.set_priority(HIGH)?;
    ok!(t.task().start(), "task_start (faults at once)");
    t.ensure_state(State::Faulted, "after its first fault")?;
    ensure_eq!(poll(note, "after the first fault")?, 1 << 63, "bits after the first fault");
    ok!(t.task().resume(), "task_resume (faults again at once)");
    t.ensure_state(State::Faulted, "after its second fault")?;
    ensure_eq!(poll(note, "after the second fault")?, 1 << 63, "bits after the second fault");
    // SAFETY: the thread runs only `invalid_opcode` on its own stack in the root task's spaces;
    // destroying it releases its references to those spaces, which the root task keeps too, and
    // nothing of the caller's memory depends on the thread (the teardown contract holds).
    ok!(unsafe { t.task().destroy() }, "task_destroy of the faulted thread");
    ensure_eq!(t.info()?.detail, DESTROYED as usize, "detail after task_destroy");
    ensure_eq!(poll(note, "after task_destroy")?, 1 << 63, "bits after the faulted thread was destroyed");
    // SAFETY: as above; the task already let go of everything.
    ok!(unsafe { t.task().destroy() }, "task_destroy again");
    ensure_eq!(poll(note, "after task_destroy again")?, 0, "bits after a second task_destroy (no new stop)");
    t.kill()?;
    ensure_eq!(poll(note, "after the last capability went")?, 0, "bits after the destroyed task died");
    delete(note.cap())
}

/// A fault that goes to a fault endpoint is no stop (the task waits for its supervisor), nor is
/// `task_suspend`: neither signals. Killing the waiting thread then does.
fn not_on_delivered_fault_or_suspend(_: &Boot) -> TestResult {
    let note = new_note()?;
    let ep = new_endpoint()?;
    let fault_ep = mint(ep, rights::WRITE, 0)?;
    let faulter = Thread::prepare(invalid_opcode, 0)?;
    ok!(faulter.task().set_fault_endpoint(Some(fault_ep)), "task_set_fault_endpoint");
    ok!(faulter.task().set_exit_note(Some(note), 2), "task_set_exit_note(faulter)");
    faulter.set_priority(HIGH)?;
    ok!(faulter.task().start(), "task_start(faulter)");
    faulter.ensure_state(State::BlockedSend, "faulter with its fault message queued")?;
    ensure_eq!(poll(note, "after a fault sent to the fault endpoint")?, 0, "bits after a delivered fault");

    let spinner = Thread::prepare(spin, 0)?;
    ok!(spinner.task().set_exit_note(Some(note), 4), "task_set_exit_note(spinner)");
    ok!(spinner.task().start(), "task_start(spinner, priority 0)");
    ok!(spinner.task().suspend(), "task_suspend(spinner)");
    ensure_eq!(poll(note, "after task_suspend")?, 0, "bits after a suspend");

    faulter.kill()?;
    ensure_eq!(poll(note, "after the waiting faulter was killed")?, 2, "bits after the faulter died blocked");
    spinner.kill()?;
    ensure_eq!(poll(note, "after the suspended spinner was killed")?, 4, "bits after the spinner died suspended");
    delete(fault_ep.cap())?;
    delete(ep.cap())?;
    delete(note.cap())
}

/// A task that never ran (Inactive) stops when its last capability goes: signalled.
fn on_death_of_an_unstarted_task(_: &Boot) -> TestResult {
    let note = new_note()?;
    let t = ok!(Task::create(root::memory(), Slot::Auto), "task_create");
    ok!(t.set_exit_note(Some(note), 8), "task_set_exit_note");
    ensure_eq!(poll(note, "before the delete")?, 0, "bits while the task lives, inactive");
    delete_task(t)?;
    ensure_eq!(poll(note, "after the delete")?, 8, "bits after the unstarted task's last capability went");
    delete(note.cap())
}

/// Errors in order (the task first, then the Note, then the bits); `None` removes the Note; the
/// task holds its own reference to its exit Note, given back when the task dies.
fn errors_and_reference(_: &Boot) -> TestResult {
    let note = new_note()?;
    let reader = Note::new(ok!(note.copy(root::cspace(), Slot::Auto, rights::READ), "cap_copy(note, READ)"));
    let t = ok!(Task::create(root::memory(), Slot::Auto), "task_create");
    let cases: [(usize, usize, usize, sys::abi::Error, &str); 7] = [
        (SPARE, note.slot(), 1, InvalidCapability, "an empty task slot"),
        (ROOT_MEMORY, note.slot(), 1, WrongKind, "the root Memory as the task"),
        (t.slot(), SPARE, 1, InvalidCapability, "an empty note slot"),
        (t.slot(), ROOT_MEMORY, 1, WrongKind, "the root Memory as the note"),
        (t.slot(), reader.slot(), 1, InsufficientRights, "a READ-only note"),
        (t.slot(), note.slot(), 0, InvalidArgument, "no bits"),
        (SPARE, ROOT_MEMORY, 0, InvalidCapability, "everything bad: the task first"),
    ];
    for (task, n, bits, err, what) in cases {
        ensure_eq!(task_set_exit_note(task, n, bits), Err(err.into()), "task_set_exit_note({what})");
    }
    // Removed: the death signals nothing.
    ok!(t.set_exit_note(Some(note), 1), "task_set_exit_note");
    ok!(t.set_exit_note(None, 0), "task_set_exit_note(None)");
    delete_task(t)?;
    ensure_eq!(poll(note, "after a task whose Note was removed died")?, 0, "bits");

    // Held: with every capability to the Note gone, the task keeps it (and its page) alive and
    // still signals it; the page comes back when the task dies.
    let t = ok!(Task::create(root::memory(), Slot::Auto), "task_create (second)");
    ok!(t.set_exit_note(Some(note), 1), "task_set_exit_note (second)");
    let before = root_usage()?.used;
    delete(reader.cap())?;
    delete(note.cap())?;
    ensure_eq!(root_usage()?.used, before, "root Memory used with the Note held only by the task");
    delete_task(t)?;
    ensure_eq!(root_usage()?.used, before - 2, "root Memory used once the task is gone (task and Note refunded)");
    Ok(())
}

/// `task_kill` of a test thread.
fn kill(t: &Thread, status: usize) -> sys::Result<()> {
    // SAFETY: these threads run only their entry function on their own stacks in the root task's
    // spaces, which the root task keeps too: their end unmaps nothing of ours.
    unsafe { t.task().kill(status) }
}

/// `task_kill(task, status)` ends a task in any state as its `exit(status)` would: Exited with
/// the status, the exit Note signalled once, the spaces let go (it can be neither resumed nor
/// started). A task that had exited keeps its own status; errors come before any change.
fn kill_ends_with_the_status(_: &Boot) -> TestResult {
    let note = new_note()?;
    let reader = ok!(root::memory().copy(root::cspace(), Slot::Auto, rights::READ), "cap_copy(memory, READ)");
    let spinner = Thread::prepare(spin, 0)?;
    ok!(spinner.task().set_exit_note(Some(note), 1), "task_set_exit_note(spinner)");
    ok!(spinner.task().start(), "task_start(spinner, priority 0)");
    let faulter = Thread::prepare(invalid_opcode, 0)?;
    ok!(faulter.task().set_exit_note(Some(note), 2), "task_set_exit_note(faulter)");
    faulter.set_priority(HIGH)?;
    ok!(faulter.task().start(), "task_start(faulter)");
    faulter.ensure_state(State::Faulted, "faulter")?;
    ensure_eq!(poll(note, "after the fault")?, 2, "bits after the fault");
    let exiter = Thread::prepare(exit_with, 7)?;
    ok!(exiter.task().set_exit_note(Some(note), 4), "task_set_exit_note(exiter)");
    exiter.set_priority(HIGH)?;
    ok!(exiter.task().start(), "task_start(exiter)");
    exiter.ensure_exited(7, "exiter")?;
    ensure_eq!(poll(note, "after the exit")?, 4, "bits after the exit");

    // Refused: nothing changes.
    let cases: [(usize, sys::abi::Error, &str); 3] = [
        (SPARE, InvalidCapability, "an empty slot"),
        (ROOT_MEMORY, WrongKind, "the root Memory"),
        (reader.slot(), WrongKind, "a READ-only Memory"),
    ];
    for (task, err, what) in cases {
        // SAFETY: refused before anything happens (no task is named).
        ensure_eq!(unsafe { task_kill(task, 5) }, Err(err.into()), "task_kill({what})");
    }
    let read_only =
        Task::new(ok!(spinner.task().copy(root::cspace(), Slot::Auto, rights::READ), "cap_copy(task, READ)"));
    ensure_eq!(
        // SAFETY: refused for want of WRITE: the spinner is not touched.
        unsafe { read_only.kill(5) },
        Err(InsufficientRights.into()),
        "task_kill through a READ-only capability"
    );
    spinner.ensure_state(State::Runnable, "spinner after the refused kills")?;
    ensure_eq!(poll(note, "after the refused kills")?, 0, "bits after the refused kills");

    ok!(kill(&spinner, 0x5eed), "task_kill(spinner, 0x5eed)");
    ensure_eq!(spinner.info()?.state, Ok(State::Exited), "spinner's state after task_kill");
    ensure_eq!(spinner.info()?.detail, 0x5eed, "spinner's status after task_kill");
    ensure_eq!(poll(note, "after the spinner was killed")?, 1, "bits after the running spinner was killed");
    ok!(kill(&faulter, 0), "task_kill(faulter, 0)");
    ensure_eq!(faulter.info()?.detail, 0, "faulter's status after task_kill");
    ensure_eq!(faulter.info()?.state, Ok(State::Exited), "faulter's state after task_kill");
    ensure_eq!(poll(note, "after the faulter was killed")?, 2, "bits after the faulted thread was killed");
    ok!(kill(&exiter, 9), "task_kill(exiter, 9)");
    exiter.ensure_exited(7, "exiter after task_kill (its own status stands)")?;
    ensure_eq!(poll(note, "after the exited thread was killed")?, 0, "bits after killing an exited thread");
    // Killed for good: neither resumed nor started, and killing again changes nothing.
    ensure_eq!(spinner.task().resume(), Err(sys::abi::Error::InvalidState.into()), "task_resume of a killed task");
    ensure_eq!(spinner.task().start(), Err(sys::abi::Error::InvalidState.into()), "task_start of a killed task");
    ok!(kill(&spinner, 1), "task_kill(spinner) again");
    ensure_eq!(spinner.info()?.detail, 0x5eed, "spinner's status after a second task_kill");
    ensure_eq!(poll(note, "after the second kill")?, 0, "bits after a second task_kill");
    // SAFETY: a copy of the spinner's capability, which `spinner` still holds: nothing dies.
    unsafe { delete_any(read_only.cap()) }?;
    delete(reader)?;
    spinner.kill()?;
    faulter.kill()?;
    exiter.kill()?;
    delete(note.cap())
}
