//! Tests of running tasks: threads of Vulcan that run, exit, fault, get suspended, resumed and
//! deleted, and the scheduler's promises about them.
//!
//! The ABI (`abi::syscall`, `abi::task`, docs/abi.md): strict priorities, round robin within a
//! priority with a timeslice of `TIMESLICE_TICKS` ticks of the 100 Hz timer, so a task that never
//! makes a syscall cannot starve another of its priority; a task made runnable at a higher
//! priority than the caller's runs before the call that did it returns, and a lower one never runs
//! while the caller is runnable; `task_yield` hands the CPU to the next task of the same priority.
//! A task that exits or faults stops (state and status or vector in `task_info`) and the run goes
//! on; deleting the last capability of a task stops it at once; each task has its own FS base.
//!
//! Threads run on the stacks of [`threads`](super::threads), which also bounds every wait (a test
//! fails when something promised has not happened after seconds; nothing passes or fails because
//! it was fast or slow). Every test runs [`isolated`].

use core::arch::asm;
use core::sync::atomic::{AtomicUsize, Ordering::SeqCst};

use sys::abi::Error::{InvalidCapability, InvalidState};
use sys::task::{self as task, ROOT_PRIORITY, Registers, State, TASK_PAGES, Task, exit_thread, yield_now};
use sys::{Boot, MemoryInfo, Slot, rights, root};

use super::support::{delete_any, isolated, root_usage};
use super::threads::{Thread, spawn, wait_stopped};
use crate::clock::{Deadline, PATIENCE_MS, busy_wait, wait_until};
use crate::harness::{Test, TestResult, ensure, ensure_eq, fail, ok};

pub const TESTS: &[Test] = &[
    Test::new("thread_runs_and_exits", |b| isolated(b, runs_and_exits)),
    Test::new("thread_higher_priority_runs_first", |b| isolated(b, higher_priority_runs_first)),
    Test::new("thread_lower_priority_waits", |b| isolated(b, lower_priority_waits)),
    Test::new("thread_preemption_at_equal_priority", |b| isolated(b, preemption_at_equal_priority)),
    Test::new("thread_yield_runs_equal_priority", |b| isolated(b, yield_runs_equal_priority)),
    Test::new("thread_suspend_and_resume", |b| isolated(b, suspend_and_resume)),
    Test::new("thread_destroy_stops_it_for_good", |b| isolated(b, destroy_stops_it_for_good)),
    Test::new("thread_suspends_itself", |b| isolated(b, suspends_itself)),
    Test::new("thread_delete_stops_it", |b| isolated(b, delete_stops_it)),
    Test::new("thread_faults_are_contained", |b| isolated(b, faults_are_contained)),
    Test::new("thread_resumed_after_fault", |b| isolated(b, resumed_after_fault)),
    Test::new("thread_fs_base_is_per_task", |b| isolated(b, fs_base_is_per_task)),
];

/// Counters the spinning threads advance, one per thread (the thread's argument picks it).
static COUNTERS: [AtomicUsize; 4] = [const { AtomicUsize::new(0) }; 4];

/// What a thread stored: the tests read it after the thread ran.
static STORED: AtomicUsize = AtomicUsize::new(0);
/// The address of a local of a thread.
static LOCAL_AT: AtomicUsize = AtomicUsize::new(0);

/// Exit status of a thread whose fault did not happen.
const NO_FAULT: usize = 0xfa11;

fn counter(i: usize) -> usize {
    COUNTERS[i].load(SeqCst)
}

fn reset_counters() {
    for c in &COUNTERS {
        c.store(0, SeqCst);
    }
    STORED.store(0, SeqCst);
    LOCAL_AT.store(0, SeqCst);
}

/// Stores `arg * 3` and the address of a local, then exits with `arg + 1`.
extern "C" fn store_and_exit(arg: usize) -> ! {
    let local = arg;
    LOCAL_AT.store(core::hint::black_box(core::ptr::from_ref(&local)).addr(), SeqCst);
    STORED.store(arg * 3, SeqCst);
    exit_thread(arg + 1)
}

/// Counts in `COUNTERS[arg]` forever, without a syscall.
extern "C" fn spin(arg: usize) -> ! {
    loop {
        COUNTERS[arg].fetch_add(1, SeqCst);
    }
}

/// Counts in `COUNTERS[arg]` forever, yielding after each step.
extern "C" fn count_and_yield(arg: usize) -> ! {
    loop {
        COUNTERS[arg].fetch_add(1, SeqCst);
        yield_now();
    }
}

/// Yields ten times, counting in `COUNTERS[0]`, then exits with `arg`.
extern "C" fn yield_ten_then_exit(arg: usize) -> ! {
    for _ in 0..10 {
        yield_now();
        COUNTERS[0].fetch_add(1, SeqCst);
    }
    exit_thread(arg)
}

/// Counts once in `COUNTERS[arg]` and exits with `arg`.
extern "C" fn count_once(arg: usize) -> ! {
    COUNTERS[arg].fetch_add(1, SeqCst);
    exit_thread(arg)
}

/// A thread runs its function on its own stack and exits with a status; `sys::task::spawn` starts
/// it at the root task's priority with maximum controlled priority 0.
fn runs_and_exits(boot: &Boot) -> TestResult {
    reset_counters();
    let start = root_usage()?;
    let t = spawn(store_and_exit, 0x1234)?;
    ensure_eq!(root_usage()?.used, start.used + TASK_PAGES, "root Memory used with a thread");
    let info = wait_stopped(boot, &t, "the thread")?;
    ensure_eq!((info.state, info.detail), (Ok(State::Exited), 0x1235), "(state, status) of the thread");
    ensure_eq!((info.priority, info.max_priority), (ROOT_PRIORITY, 0), "(priority, max priority) of the thread");
    ensure_eq!(STORED.load(SeqCst), 0x1234 * 3, "the value the thread stored");
    let local = LOCAL_AT.load(SeqCst) as u64;
    ensure!(t.stack_contains(local), "a local of the thread is at {local:#x}, outside its stack");
    let regs = ok!(t.task().read_regs(), "task_read_regs of the exited thread");
    ensure!(t.stack_contains(regs.rsp), "the exited thread's rsp {:#x} is outside its stack", regs.rsp);
    // An exited task stays exited.
    ensure_eq!(t.task().resume(), Err(InvalidState.into()), "task_resume of an exited task");
    ensure_eq!(t.task().suspend(), Err(InvalidState.into()), "task_suspend of an exited task");
    ensure_eq!(t.task().start(), Err(InvalidState.into()), "task_start of an exited task");
    t.kill()?;
    ensure_eq!(root_usage()?, start, "root Memory after deleting the thread");
    Ok(())
}

/// A thread above the root task's priority runs, yields (to no one: nothing else is at its
/// priority) and exits, all before `task_start` returns to the root task.
fn higher_priority_runs_first(_: &Boot) -> TestResult {
    reset_counters();
    let t = Thread::start(yield_ten_then_exit, 77, 200)?;
    // No yield, no wait: the thread has finished already.
    ensure_eq!(counter(0), 10, "steps the priority-200 thread made before task_start returned");
    t.ensure_exited(77, "right after task_start")?;
    let info = t.info()?;
    ensure_eq!((info.priority, info.max_priority), (200, 0), "(priority, max priority)");
    t.kill()
}

/// A thread below the root task's priority does not run while the root task is runnable, yields
/// or not; raised above it, it runs before `task_set_priority` returns; raised to the root task's
/// priority, it runs at the root task's next yield.
fn lower_priority_waits(boot: &Boot) -> TestResult {
    reset_counters();
    let a = Thread::start(count_once, 1, 50)?;
    let b = Thread::start(count_once, 2, 99)?;
    // Several timeslices of spinning and yielding.
    busy_wait(boot, 100);
    for _ in 0..20 {
        yield_now();
    }
    ensure_eq!((counter(1), counter(2)), (0, 0), "steps of the priority-50 and -99 threads while the root task ran");
    a.ensure_state(State::Runnable, "priority 50, never run")?;
    b.ensure_state(State::Runnable, "priority 99, never run")?;
    a.set_priority(150)?;
    ensure_eq!(counter(1), 1, "steps of the thread raised to 150, right after task_set_priority");
    a.ensure_exited(1, "raised to 150")?;
    b.set_priority(ROOT_PRIORITY)?;
    yield_now();
    ensure_eq!(counter(2), 1, "steps of the thread raised to 100, after one yield of the root task");
    b.ensure_exited(2, "raised to 100, after a yield")?;
    a.kill()?;
    b.kill()
}

/// Threads at the root task's priority that never make a syscall get the CPU while the root task
/// spins without one, and give it back: preemption, round robin.
fn preemption_at_equal_priority(boot: &Boot) -> TestResult {
    reset_counters();
    let a = Thread::start(spin, 0, ROOT_PRIORITY)?;
    let b = Thread::start(spin, 1, ROOT_PRIORITY)?;
    let end = Deadline::after_ms(boot, PATIENCE_MS);
    while counter(0) == 0 || counter(1) == 0 {
        if end.passed() {
            fail!(
                "spun {PATIENCE_MS} ms without a syscall and the equal-priority threads counted ({}, {})",
                counter(0),
                counter(1)
            );
        }
        core::hint::spin_loop();
    }
    // And again: each keeps getting turns.
    let (a0, b0) = (counter(0), counter(1));
    while counter(0) == a0 || counter(1) == b0 {
        if end.passed() {
            fail!("the threads stopped getting turns: ({a0}, {b0}) -> ({}, {})", counter(0), counter(1));
        }
        core::hint::spin_loop();
    }
    a.ensure_state(State::Runnable, "spinning")?;
    b.ensure_state(State::Runnable, "spinning")?;
    a.kill()?;
    b.kill()
}

/// The root task's yield runs the next thread of its priority before it returns.
fn yield_runs_equal_priority(_: &Boot) -> TestResult {
    reset_counters();
    let t = Thread::start(count_and_yield, 0, ROOT_PRIORITY)?;
    for round in 0..20 {
        let before = counter(0);
        yield_now();
        let after = counter(0);
        ensure!(after > before, "round {round}: the thread's count went {before} -> {after} across a yield");
    }
    t.kill()
}

/// A suspended thread makes no progress until resumed; suspend wants a runnable task and resume a
/// suspended one.
fn suspend_and_resume(boot: &Boot) -> TestResult {
    reset_counters();
    let t = Thread::start(spin, 0, ROOT_PRIORITY)?;
    wait_until(boot, "the thread to count", || counter(0) > 0)?;
    ensure_eq!(t.task().resume(), Err(InvalidState.into()), "task_resume of a running thread");
    ok!(t.task().suspend(), "task_suspend");
    t.ensure_state(State::Suspended, "after task_suspend")?;
    let frozen = counter(0);
    for _ in 0..10 {
        yield_now();
    }
    busy_wait(boot, 50);
    ensure_eq!(counter(0), frozen, "the suspended thread's count after yields and 50 ms");
    ensure_eq!(t.task().suspend(), Err(InvalidState.into()), "task_suspend of a suspended thread");
    t.ensure_state(State::Suspended, "after a refused suspend")?;
    ok!(t.task().resume(), "task_resume");
    t.ensure_state(State::Runnable, "after task_resume")?;
    wait_until(boot, "the resumed thread to count", || counter(0) > frozen)?;
    // Suspended again and deleted while suspended.
    ok!(t.task().suspend(), "task_suspend again");
    t.kill()
}

/// `task_destroy` stops a running thread for good; the object stays until its capability goes.
fn destroy_stops_it_for_good(boot: &Boot) -> TestResult {
    reset_counters();
    let t = Thread::start(spin, 0, ROOT_PRIORITY)?;
    wait_until(boot, "the thread to count", || counter(0) > 0)?;
    // SAFETY: a thread in the root task's spaces, which the root task holds: its destruction
    // stops it and ends nothing else (and again below, for the second call).
    ok!(unsafe { t.task().destroy() }, "task_destroy");
    let info = t.info()?;
    ensure_eq!(
        (info.state, info.detail),
        (Ok(State::Exited), sys::abi::task::DESTROYED as usize),
        "(state, detail) after task_destroy"
    );
    let frozen = counter(0);
    for _ in 0..10 {
        yield_now();
    }
    busy_wait(boot, 50);
    ensure_eq!(counter(0), frozen, "the destroyed thread's count after yields and 50 ms");
    // SAFETY: as above; it holds nothing any more.
    ok!(unsafe { t.task().destroy() }, "task_destroy of a destroyed task");
    ensure_eq!(t.task().resume(), Err(InvalidState.into()), "task_resume of a destroyed task");
    ensure_eq!(t.task().start(), Err(InvalidState.into()), "task_start of a destroyed task");
    // SAFETY: not a Task: the kernel refuses, and nothing changes.
    let r = unsafe { sys::task::task_destroy(root::memory().slot()) };
    ensure_eq!(r, Err(sys::abi::Error::WrongKind.into()), "task_destroy of a Memory capability");
    t.kill()
}

/// The slot of the capability a thread suspends itself through.
static SELF_SLOT: AtomicUsize = AtomicUsize::new(0);

/// Counts 1, suspends itself, counts 2, exits with what the suspend returned (0 or the error code).
extern "C" fn suspend_self(_: usize) -> ! {
    COUNTERS[0].store(1, SeqCst);
    let r = Task::at(SELF_SLOT.load(SeqCst)).suspend();
    COUNTERS[0].store(2, SeqCst);
    exit_thread(match r {
        Ok(()) => 0,
        Err(e) => e.code(),
    })
}

/// A task suspending itself stops at once; resumed, its `task_suspend` returns success.
fn suspends_itself(_: &Boot) -> TestResult {
    reset_counters();
    let t = Thread::prepare(suspend_self, 0)?;
    SELF_SLOT.store(t.task().slot(), SeqCst);
    t.set_priority(200)?;
    ok!(t.task().start(), "task_start");
    ensure_eq!(counter(0), 1, "progress of the thread when task_start returned");
    t.ensure_state(State::Suspended, "after suspending itself")?;
    ok!(t.task().resume(), "task_resume");
    ensure_eq!(counter(0), 2, "progress of the thread when task_resume returned");
    t.ensure_exited(0, "after the resume (status: the result of its task_suspend)")?;
    t.kill()
}

/// Deleting a copy of a running thread's capability leaves it running; deleting the last one
/// stops it at once and refunds it.
fn delete_stops_it(boot: &Boot) -> TestResult {
    reset_counters();
    let start = root_usage()?;
    let t = Thread::start(spin, 0, ROOT_PRIORITY)?;
    wait_until(boot, "the thread to count", || counter(0) > 0)?;
    let copy = ok!(t.task().copy(root::cspace(), Slot::Auto, rights::ALL), "copy of the thread's capability");
    // SAFETY: a copy: the thread's own capability keeps it alive, so nothing dies.
    unsafe { delete_any(copy)? };
    let c = counter(0);
    wait_until(boot, "the thread to count after a copy was deleted", || counter(0) > c)?;
    let slot = t.task().slot();
    t.kill()?;
    let stopped = counter(0);
    for _ in 0..10 {
        yield_now();
    }
    busy_wait(boot, 50);
    ensure_eq!(counter(0), stopped, "the count of the thread after its capability was deleted");
    ensure_eq!(task::task_info(slot).map(drop), Err(InvalidCapability.into()), "task_info of the deleted slot");
    ensure_eq!(root_usage()?, MemoryInfo { quota: start.quota, used: start.used }, "root Memory after the delete");
    Ok(())
}

/// Read-only data that a faulting thread writes to.
static READ_ONLY_WORD: u64 = 0x5eed;

extern "C" fn read_unmapped(_: usize) -> ! {
    // SAFETY: not sound, and not meant to be: the load from 0x10 (unmapped, the null page) must
    // fault, which stops this thread; only the kernel's failure to stop it returns here.
    unsafe { asm!("mov {0}, qword ptr [{0}]", inout(reg) 0x10usize => _, options(nostack, readonly)) };
    exit_thread(NO_FAULT)
}

extern "C" fn write_read_only(_: usize) -> ! {
    let at = core::ptr::from_ref(&READ_ONLY_WORD).addr();
    // SAFETY: not sound, and not meant to be: the store to read-only data must fault.
    unsafe { asm!("mov qword ptr [{0}], 1", in(reg) at, options(nostack)) };
    exit_thread(NO_FAULT)
}

extern "C" fn invalid_opcode(_: usize) -> ! {
    // SAFETY: `ud2` raises #UD, which stops this thread.
    unsafe { asm!("ud2", options(nostack, nomem)) };
    exit_thread(NO_FAULT)
}

extern "C" fn breakpoint(_: usize) -> ! {
    // SAFETY: `int3` raises #BP, which stops this thread.
    unsafe { asm!("int3", options(nostack, nomem)) };
    exit_thread(NO_FAULT)
}

extern "C" fn privileged(_: usize) -> ! {
    // SAFETY: `hlt` in user mode raises #GP, which stops this thread.
    unsafe { asm!("hlt", options(nostack, nomem)) };
    exit_thread(NO_FAULT)
}

extern "C" fn fake_timer_interrupt(_: usize) -> ! {
    // SAFETY: the timer's gate is not open to user mode: `int 0x20` raises #GP, which stops this
    // thread (and must not be taken for a timer tick).
    unsafe { asm!("int 0x20", options(nostack, nomem)) };
    exit_thread(NO_FAULT)
}

extern "C" fn divide_by_zero(_: usize) -> ! {
    // SAFETY: dividing by zero raises #DE, which stops this thread.
    unsafe {
        asm!("xor edx, edx", "div {0}", in(reg) 0usize, inout("rax") 1usize => _, out("rdx") _, options(nostack, nomem))
    };
    exit_thread(NO_FAULT)
}

extern "C" fn jump_non_canonical(_: usize) -> ! {
    // SAFETY: not sound, and not meant to be: a jump to a non-canonical address raises #GP,
    // which stops this thread.
    unsafe { asm!("jmp {0}", in(reg) 0x8000_0000_0000_0000usize, options(nostack, nomem)) };
    exit_thread(NO_FAULT)
}

/// Each fault stops only the thread that took it, with the vector in `task_info`; the root task
/// goes on. The threads run at priority 200, so each has faulted before `task_start` returns, and
/// again before `task_resume` returns: resumed as it is, a thread retries the faulting
/// instruction, or, after a trap (`int3`), goes on past it.
fn faults_are_contained(_: &Boot) -> TestResult {
    // (what, thread, vector, whether the exception is a trap, reported after the instruction)
    let cases: [(&str, task::ThreadEntry, usize, bool); 8] = [
        ("load from 0x10", read_unmapped, 14, false),
        ("store to read-only data", write_read_only, 14, false),
        ("ud2", invalid_opcode, 6, false),
        ("int3", breakpoint, 3, true),
        ("hlt", privileged, 13, false),
        ("int 0x20", fake_timer_interrupt, 13, false),
        ("div by zero", divide_by_zero, 0, false),
        ("jmp to a non-canonical address", jump_non_canonical, 13, false),
    ];
    for (what, entry, vector, trap) in cases {
        let t = Thread::start(entry, 0, 200)?;
        let info = t.info()?;
        ensure_eq!((info.state, info.detail), (Ok(State::Faulted), vector), "(state, detail) after {what}");
        let regs = ok!(t.task().read_regs(), "task_read_regs after {what}");
        ensure!(t.stack_contains(regs.rsp), "{what}: the faulted thread's rsp {:#x} is off its stack", regs.rsp);
        ensure_eq!(t.task().suspend(), Err(InvalidState.into()), "task_suspend of a faulted thread ({what})");
        ensure_eq!(t.task().start(), Err(InvalidState.into()), "task_start of a faulted thread ({what})");
        ok!(t.task().resume(), "task_resume after {what}");
        let info = t.info()?;
        let expected = if trap { (Ok(State::Exited), NO_FAULT) } else { (Ok(State::Faulted), vector) };
        ensure_eq!((info.state, info.detail), expected, "(state, detail) after {what}, resumed unchanged");
        t.kill()?;
    }
    ensure_eq!(READ_ONLY_WORD, 0x5eed, "the read-only word");
    // A thread whose first instruction is unmapped faults there.
    let t = Thread::prepare(count_once, 0)?;
    let regs = ok!(t.task().read_regs(), "task_read_regs");
    // SAFETY: nothing is mapped at 0x10: the thread faults at its first instruction and runs
    // nothing.
    ok!(unsafe { t.task().write_regs(&Registers { rip: 0x10, ..regs }) }, "task_write_regs(rip 0x10)");
    t.set_priority(200)?;
    ok!(t.task().start(), "task_start");
    let info = t.info()?;
    ensure_eq!((info.state, info.detail), (Ok(State::Faulted), 14), "(state, detail) of a thread started at 0x10");
    let regs = ok!(t.task().read_regs(), "task_read_regs after the fault");
    ensure_eq!(regs.rip, 0x10, "rip of the thread that faulted at 0x10");
    t.kill()
}

/// Exits with its argument.
extern "C" fn exit_with(arg: usize) -> ! {
    exit_thread(arg)
}

/// A faulted thread resumed as it is faults again at the same instruction; resumed with new
/// registers, it runs them.
fn resumed_after_fault(_: &Boot) -> TestResult {
    let t = Thread::start(read_unmapped, 0, 200)?;
    let info = t.info()?;
    ensure_eq!((info.state, info.detail), (Ok(State::Faulted), 14), "(state, detail) after the fault");
    let at = ok!(t.task().read_regs(), "task_read_regs after the fault");
    ok!(t.task().resume(), "task_resume of the faulted thread");
    let info = t.info()?;
    ensure_eq!((info.state, info.detail), (Ok(State::Faulted), 14), "(state, detail) after resuming it unchanged");
    let again = ok!(t.task().read_regs(), "task_read_regs after the second fault");
    ensure_eq!(again.rip, at.rip, "rip of the second fault");
    let fresh = task::thread_registers(exit_with, 42, t.fresh_stack_pointer() as usize);
    // SAFETY: `exit_with`, a thread function of Vulcan, at the top of the thread's own stack.
    ok!(unsafe { t.task().write_regs(&fresh) }, "task_write_regs of the faulted thread");
    ok!(t.task().resume(), "task_resume with new registers");
    t.ensure_exited(42, "resumed at exit_with(42)")?;
    ensure_eq!(t.task().resume(), Err(InvalidState.into()), "task_resume of the exited thread");
    t.kill()
}

/// What threads read through FS: `[marker, marker]`.
static FS_TARGET: [u64; 2] = [0xf5f5_0000_0000_0001, 0xf5f5_0000_0000_0002];
/// What the root task reads through FS (base 0): this word, at its own address.
static FS_ROOT_PROBE: u64 = 0x7007_0000_0000_0f5f;
/// Reads through FS that did not find `FS_TARGET[1]`.
static FS_MISMATCHES: AtomicUsize = AtomicUsize::new(0);

/// The quadword at `fs:[offset]`.
fn read_fs(offset: usize) -> u64 {
    let v: u64;
    // SAFETY: a load through FS: for the threads of this test the base is `FS_TARGET` and the
    // offset 8 (inside it); for the root task the base is its thread block and the offset that of
    // `FS_ROOT_PROBE`. A wrong base is what the test looks for: the load then faults or reads
    // some other mapped word, and only the value is used.
    unsafe { asm!("mov {0}, qword ptr fs:[{1}]", out(reg) v, in(reg) offset, options(nostack, readonly)) };
    v
}

/// Reads `fs:[8]` forever, counting in `COUNTERS[arg]` and mismatches in `FS_MISMATCHES`.
extern "C" fn fs_reader(arg: usize) -> ! {
    loop {
        if read_fs(8) != FS_TARGET[1] {
            FS_MISMATCHES.fetch_add(1, SeqCst);
        }
        COUNTERS[arg].fetch_add(1, SeqCst);
    }
}

/// Reads `fs:[8]` once, stores it and exits.
extern "C" fn fs_read_once(_: usize) -> ! {
    STORED.store(read_fs(8) as usize, SeqCst);
    exit_thread(0)
}

/// `fs_base` set by `task_write_regs` is the thread's own: it reads through it, across
/// preemption, while the root task's FS base stays 0.
fn fs_base_is_per_task(boot: &Boot) -> TestResult {
    reset_counters();
    FS_MISMATCHES.store(0, SeqCst);
    let base = FS_TARGET.as_ptr().addr() as u64;
    // The root task's FS base is its thread block (the runtime's): read the probe relative to it.
    let probe = core::ptr::from_ref(&FS_ROOT_PROBE).addr().wrapping_sub(sys::thread::block::current_addr());
    ensure_eq!(read_fs(probe), FS_ROOT_PROBE, "the root task's read through FS (base: its thread block)");
    let once = Thread::prepare(fs_read_once, 0)?;
    let regs = ok!(once.task().read_regs(), "task_read_regs");
    // SAFETY: the thread's own registers, with an FS base at `FS_TARGET`, which it only reads.
    ok!(unsafe { once.task().write_regs(&Registers { fs_base: base, ..regs }) }, "task_write_regs(fs_base)");
    once.set_priority(200)?;
    ok!(once.task().start(), "task_start");
    once.ensure_exited(0, "the priority-200 FS reader")?;
    ensure_eq!(STORED.load(SeqCst) as u64, FS_TARGET[1], "what the thread read at fs:[8]");
    ensure_eq!(read_fs(probe), FS_ROOT_PROBE, "the root task's read through FS after the thread ran");
    once.kill()?;

    let spinner = Thread::prepare(fs_reader, 0)?;
    let regs = ok!(spinner.task().read_regs(), "task_read_regs");
    // SAFETY: as for the first thread.
    ok!(unsafe { spinner.task().write_regs(&Registers { fs_base: base, ..regs }) }, "task_write_regs(fs_base)");
    spinner.set_priority(ROOT_PRIORITY)?;
    ok!(spinner.task().start(), "task_start");
    // Preempt each other a few times, with no syscall on the root task's side.
    for round in 0..3 {
        let c = counter(0);
        let end = Deadline::after_ms(boot, PATIENCE_MS);
        while counter(0) == c {
            if end.passed() {
                fail!("round {round}: the FS reader made no progress in {PATIENCE_MS} ms");
            }
            core::hint::spin_loop();
        }
        ensure_eq!(read_fs(probe), FS_ROOT_PROBE, "round {round}: the root task's read through FS");
    }
    ensure_eq!(FS_MISMATCHES.load(SeqCst), 0, "reads of fs:[8] by the thread that missed FS_TARGET[1]");
    spinner.ensure_state(State::Runnable, "the FS reader")?;
    spinner.kill()
}
