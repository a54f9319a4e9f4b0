//! Tests of the Task object through the calls that configure it, none of which needs the task to
//! run: `task_create` (charges, refunds, every error), `task_set_space`, `task_set_priority`
//! (the maximum controlled priority of the authority), `task_read_regs`/`task_write_regs` (the
//! checks on written registers, the caller itself, bad buffers, rights), `task_start`,
//! `task_suspend`, `task_resume` (which states each accepts) and `task_info`.
//!
//! The ABI: `abi::syscall` (0x50-0x59), `abi::task` (`Registers`, `State`, `TASK_PAGES`,
//! priorities), `abi::bootcaps` (the root task in slot 6 with priority 100 and maximum controlled
//! priority 255, its VSpace in slot 7). Tasks made here never run: they are at priority 0, below
//! the root task, which never blocks; the tests in [`sched`](super::sched) run threads.
//!
//! Every test runs [`isolated`]: it deletes what it makes, and the wrapper checks that the root
//! Memory's `used` is back where it was.

use sys::abi::Error::{
    BadAddress, InsufficientRights, InvalidArgument, InvalidCapability, InvalidState, QuotaExceeded, SlotOccupied,
    WrongKind,
};
use sys::abi::bootcaps::{FIRST_FREE, ROOT_CSPACE, ROOT_DEBUG_CONSOLE, ROOT_MEMORY, ROOT_TASK, ROOT_VSPACE};
use sys::abi::layout::{ROOT_STACK_TOP, START_INFO_ADDR};
use sys::abi::syscall::SLOT_AUTO;
use sys::task::{
    self as task, MAX_PRIORITY, REGISTERS_BYTES, ROOT_PRIORITY, Registers, State, TASK_PAGES, Task, TaskInfo,
    root_task, root_vspace,
};
use sys::{Boot, CSpace, Cap, Identity, Kind, Memory, MemoryInfo, Slot, rights, root};

use super::support::{
    SLOTS, SPARE, delete, delete_any, ensure_empty, ensure_identity, isolated, memory_copy, root_usage, split_root,
};
use crate::harness::{Reason, Test, TestResult, ensure, ensure_eq, ok};

pub const TESTS: &[Test] = &[
    Test::new("task_root_task_info", |b| isolated(b, root_task_info)),
    Test::new("task_create_charges_and_refunds", |b| isolated(b, create_charges_and_refunds)),
    Test::new("task_create_explicit_slot", |b| isolated(b, create_explicit_slot)),
    Test::new("task_create_memory_errors", |b| isolated(b, create_memory_errors)),
    Test::new("task_create_quota_exceeded", |b| isolated(b, create_quota_exceeded)),
    Test::new("task_create_slot_errors", |b| isolated(b, create_slot_errors)),
    Test::new("task_set_space_errors", |b| isolated(b, set_space_errors)),
    Test::new("task_start_needs_space", |b| isolated(b, start_needs_space)),
    Test::new("task_state_transitions", |b| isolated(b, state_transitions)),
    Test::new("task_regs_round_trip", |b| isolated(b, regs_round_trip)),
    Test::new("task_write_regs_non_canonical", |b| isolated(b, write_regs_non_canonical)),
    Test::new("task_regs_of_caller", |b| isolated(b, regs_of_caller)),
    Test::new("task_regs_bad_buffer", |b| isolated(b, regs_bad_buffer)),
    Test::new("task_calls_check_kind_and_rights", |b| isolated(b, calls_check_kind_and_rights)),
    Test::new("task_set_priority_limits", |b| isolated(b, set_priority_limits)),
    Test::new("task_set_priority_authority", |b| isolated(b, set_priority_authority)),
    Test::new("task_delete_releases_spaces", |b| isolated(b, delete_releases_spaces)),
];

/// What `task_create` puts in the slot.
const NEW_TASK: Identity = Identity::new(Kind::Task, rights::ALL, 0);

/// What `task_info` says of a task just made.
const FRESH: TaskInfo = TaskInfo { state: Ok(State::Inactive), priority: 0, max_priority: 0, detail: 0 };

/// A task made from the root Memory, in the lowest free slot.
fn new_task() -> Result<Task, Reason> {
    Ok(ok!(Task::create(root::memory(), Slot::Auto), "task_create(root Memory)"))
}

/// A task with the root task's CSpace and VSpace, never started.
fn task_with_space() -> Result<Task, Reason> {
    let t = new_task()?;
    // SAFETY: a task just made: no spaces to drop, all-zero registers.
    let r = unsafe { t.set_space(root::cspace(), root_vspace()) };
    ok!(r, "task_set_space(slot {}, root CSpace, root VSpace)", t.slot());
    Ok(t)
}

/// Deletes a capability to one of the tasks these tests make (or a copy of one), failing the
/// test if that fails.
///
/// None of these tasks ever runs: they have no spaces, or start at priority 0, below the root
/// task, which makes no call that waits while they exist.
fn delete_task(task: impl Into<Cap>) -> TestResult {
    // SAFETY: every task these tests make has no CSpace or VSpace, or the root task's (which the
    // root task's own Task holds), or, in `delete_releases_spaces`, a CSpace of its own that
    // holds nothing: its death ends nothing that could unmap memory. A copy (of the root task's
    // capability too) ends nothing at all.
    unsafe { delete_any(task.into()) }
}

fn info(t: Task, what: &str) -> Result<TaskInfo, Reason> {
    Ok(ok!(t.info(), "task_info(slot {}) ({what})", t.slot()))
}

fn ensure_state(t: Task, state: State, what: &str) -> TestResult {
    ensure_eq!(info(t, what)?.state, Ok(state), "state of slot {} ({what})", t.slot());
    Ok(())
}

fn ensure_root_used(start: MemoryInfo, extra: usize, what: &str) -> TestResult {
    ensure_eq!(root_usage()?, MemoryInfo { quota: start.quota, used: start.used + extra }, "root Memory ({what})");
    Ok(())
}

fn read_regs(t: Task, what: &str) -> Result<Registers, Reason> {
    Ok(ok!(t.read_regs(), "task_read_regs(slot {}) ({what})", t.slot()))
}

/// The boot capabilities the tasks calls use, and what the root task says of itself.
fn root_task_info(_: &Boot) -> TestResult {
    ensure_identity(Cap::new(ROOT_TASK), NEW_TASK, "ROOT_TASK")?;
    ensure_identity(Cap::new(ROOT_VSPACE), Identity::new(Kind::VSpace, rights::ALL, 0), "ROOT_VSPACE")?;
    let me = info(root_task(), "the root task")?;
    let expected =
        TaskInfo { state: Ok(State::Runnable), priority: ROOT_PRIORITY, max_priority: MAX_PRIORITY, detail: 0 };
    ensure_eq!(me, expected, "task_info(ROOT_TASK)");
    // Setting the running task's priority to what it is keeps it running, at that priority.
    ok!(root_task().set_priority(root_task(), ROOT_PRIORITY, MAX_PRIORITY), "task_set_priority(ROOT_TASK, unchanged)");
    ensure_eq!(info(root_task(), "after setting it unchanged")?, expected, "task_info(ROOT_TASK)");
    Ok(())
}

/// A task costs `TASK_PAGES`, refunded when its capability goes; it starts inactive at priority
/// 0 with maximum controlled priority 0, zeroed registers but for IF.
fn create_charges_and_refunds(_: &Boot) -> TestResult {
    let start = root_usage()?;
    let a = new_task()?;
    ensure_identity(a.cap(), NEW_TASK, "new task")?;
    ensure_eq!(info(a, "new task")?, FRESH, "task_info of a new task");
    ensure_root_used(start, TASK_PAGES, "after one task_create")?;
    let b = new_task()?;
    ensure!(a.slot() != b.slot(), "two tasks in one slot {}", a.slot());
    ensure_root_used(start, 2 * TASK_PAGES, "after two")?;
    let regs = read_regs(a, "new task")?;
    let zero = Registers { rflags: regs.rflags, ..Registers::default() };
    ensure_eq!(regs, zero, "registers of a new task, but rflags");
    ensure_eq!(regs.rflags & !0x202, 0, "rflags of a new task (only IF and the reserved bit 1 may be set)");
    delete_task(a)?;
    ensure_root_used(start, TASK_PAGES, "after deleting the first")?;
    delete_task(b)?;
    ensure_root_used(start, 0, "after deleting both")
}

fn create_explicit_slot(_: &Boot) -> TestResult {
    let t = ok!(Task::create(root::memory(), Slot::At(SPARE)), "task_create to slot {SPARE}");
    ensure_eq!(t.slot(), SPARE, "slot returned");
    ensure_identity(t.cap(), NEW_TASK, "task in an explicit slot")?;
    ensure_empty(Cap::new(FIRST_FREE), "FIRST_FREE")?;
    delete_task(t)
}

/// The Memory capability: kind, presence, WRITE (READ is not needed). Nothing is charged.
fn create_memory_errors(_: &Boot) -> TestResult {
    let start = root_usage()?;
    for (memory, err) in [
        (ROOT_CSPACE, WrongKind),
        (ROOT_DEBUG_CONSOLE, WrongKind),
        (ROOT_TASK, WrongKind),
        (ROOT_VSPACE, WrongKind),
        (0, InvalidCapability),
        (FIRST_FREE, InvalidCapability),
        (SLOTS, InvalidCapability),
        (SLOT_AUTO, InvalidCapability),
    ] {
        ensure_eq!(task::task_create(memory, SLOT_AUTO), Err(err.into()), "task_create(memory {memory:#x})");
    }
    for mask in [rights::READ, rights::ALL & !rights::WRITE, 0] {
        let copy = memory_copy(mask)?;
        let r = Task::create(copy, Slot::Auto).map(Task::cap);
        ensure_eq!(r, Err(InsufficientRights.into()), "task_create through a Memory copy with rights {mask:#x}");
        delete(copy.cap())?;
    }
    ensure_root_used(start, 0, "after refused task_creates")?;
    let write_only = memory_copy(rights::WRITE)?;
    let t = ok!(Task::create(write_only, Slot::Auto), "task_create through a WRITE-only Memory copy");
    ensure_root_used(start, TASK_PAGES, "after a task_create through a copy")?;
    delete_task(t)?;
    delete(write_only.cap())
}

/// A Memory with room for exactly one task makes one, then refuses; deleting it makes room again.
fn create_quota_exceeded(_: &Boot) -> TestResult {
    let m = split_root(TASK_PAGES)?;
    let t = ok!(Task::create(m, Slot::Auto), "task_create from a Memory of TASK_PAGES");
    ensure_eq!(ok!(m.info(), "memory_info"), MemoryInfo { quota: TASK_PAGES, used: TASK_PAGES }, "the small Memory");
    let r = Task::create(m, Slot::Auto).map(Task::cap);
    ensure_eq!(r, Err(QuotaExceeded.into()), "second task_create from a Memory of TASK_PAGES");
    ensure_empty(Cap::new(t.slot() + 1), "the slot after the task, after a refused create")?;
    delete_task(t)?;
    ensure_eq!(ok!(m.info(), "memory_info"), MemoryInfo { quota: TASK_PAGES, used: 0 }, "after deleting the task");
    let again = ok!(Task::create(m, Slot::Auto), "task_create after the refund");
    delete_task(again)?;
    // A Memory of one page holds one task page at most.
    let empty: Memory = split_root(1)?;
    let r = Task::create(empty, Slot::Auto).map(Task::cap);
    if TASK_PAGES > 1 {
        ensure_eq!(r, Err(QuotaExceeded.into()), "task_create from a Memory of one page");
    } else {
        let t = ok!(r, "task_create from a Memory of one page");
        let r = Task::create(empty, Slot::Auto).map(Task::cap);
        ensure_eq!(r, Err(QuotaExceeded.into()), "task_create from a full Memory of one page");
        delete_task(t)?;
    }
    delete(empty.cap())?;
    delete(m.cap())
}

fn create_slot_errors(_: &Boot) -> TestResult {
    let start = root_usage()?;
    for (dst, err) in [
        (ROOT_MEMORY, SlotOccupied),
        (ROOT_TASK, SlotOccupied),
        (0, InvalidCapability),
        (SLOTS, InvalidCapability),
        (1 << 32, InvalidCapability),
        (SLOT_AUTO - 1, InvalidCapability),
    ] {
        ensure_eq!(task::task_create(ROOT_MEMORY, dst), Err(err.into()), "task_create(root Memory, slot {dst:#x})");
    }
    ensure_root_used(start, 0, "after refused task_creates")
}

/// Each of the three capabilities is checked for presence, kind and WRITE, in argument order.
fn set_space_errors(_: &Boot) -> TestResult {
    let t = new_task()?;
    let (ts, cs, vs) = (t.slot(), ROOT_CSPACE, ROOT_VSPACE);
    for (args, err) in [
        ((0, cs, vs), InvalidCapability),
        ((FIRST_FREE + 100, cs, vs), InvalidCapability),
        ((ROOT_MEMORY, cs, vs), WrongKind),
        ((ts, 0, vs), InvalidCapability),
        ((ts, ROOT_MEMORY, vs), WrongKind),
        ((ts, ROOT_VSPACE, vs), WrongKind),
        ((ts, cs, 0), InvalidCapability),
        ((ts, cs, ROOT_CSPACE), WrongKind),
        ((ts, cs, ROOT_TASK), WrongKind),
        // Order: the task first, then the CSpace, then the VSpace.
        ((ROOT_MEMORY, ROOT_MEMORY, 0), WrongKind),
        ((0, ROOT_MEMORY, ROOT_MEMORY), InvalidCapability),
        ((ts, 0, ROOT_MEMORY), InvalidCapability),
    ] {
        let (a, b, c) = args;
        // SAFETY: refused (the error is checked): nothing changes.
        let r = unsafe { task::task_set_space(a, b, c) };
        ensure_eq!(r, Err(err.into()), "task_set_space({a}, {b}, {c})");
    }
    // WRITE is needed on each.
    let read_only = [ts, cs, vs].map(|s| Cap::new(s).copy(root::cspace(), Slot::Auto, rights::ALL & !rights::WRITE));
    let mut copies = [0usize; 3];
    for (i, r) in read_only.into_iter().enumerate() {
        copies[i] = ok!(r, "cap_copy without WRITE").slot();
    }
    for i in 0..3 {
        let mut args = [ts, cs, vs];
        args[i] = copies[i];
        // SAFETY: refused for want of WRITE (checked): nothing changes.
        let r = unsafe { task::task_set_space(args[0], args[1], args[2]) };
        ensure_eq!(r, Err(InsufficientRights.into()), "task_set_space({args:?}) with argument {i} without WRITE");
    }
    ensure_eq!(info(t, "after refused set_space")?, FRESH, "task_info");
    ensure_eq!(t.start(), Err(InvalidState.into()), "task_start after only refused task_set_space calls");
    // Setting twice replaces the first.
    // SAFETY: the task never runs (all-zero registers, never started); what the second call
    // drops is the root task's CSpace and VSpace, which the root task holds.
    unsafe {
        ok!(t.set_space(root::cspace(), root_vspace()), "task_set_space");
        ok!(t.set_space(root::cspace(), root_vspace()), "task_set_space again");
    }
    for c in copies {
        // SAFETY: copies of the task and of the root task's CSpace and VSpace capabilities: none
        // is the last reference to its object.
        unsafe { delete_any(Cap::new(c))? };
    }
    delete_task(t)
}

/// `task_start` wants an inactive task with a CSpace and a VSpace.
fn start_needs_space(_: &Boot) -> TestResult {
    let t = new_task()?;
    ensure_eq!(t.start(), Err(InvalidState.into()), "task_start of a task without CSpace or VSpace");
    ensure_eq!(info(t, "after a refused start")?, FRESH, "task_info");
    // SAFETY: a task just made: no spaces to drop; it starts at priority 0 and never runs (see
    // below), with all-zero registers (which would fault at `rip` 0 anyway).
    ok!(unsafe { t.set_space(root::cspace(), root_vspace()) }, "task_set_space");
    ok!(t.start(), "task_start");
    // Priority 0: runnable, but it never runs while the root task is runnable.
    ensure_state(t, State::Runnable, "after task_start")?;
    ensure_eq!(t.start(), Err(InvalidState.into()), "second task_start");
    ensure_eq!(root_task().start(), Err(InvalidState.into()), "task_start of the root task");
    delete_task(t)
}

/// Which states suspend, resume and start accept: suspend only a runnable task, resume only a
/// suspended (or faulted) one, start only an inactive one.
fn state_transitions(_: &Boot) -> TestResult {
    let t = task_with_space()?;
    ensure_eq!(t.suspend(), Err(InvalidState.into()), "task_suspend of an inactive task");
    ensure_eq!(t.resume(), Err(InvalidState.into()), "task_resume of an inactive task");
    ensure_state(t, State::Inactive, "after refused suspend and resume")?;
    ok!(t.start(), "task_start");
    ensure_eq!(t.resume(), Err(InvalidState.into()), "task_resume of a runnable task");
    ok!(t.suspend(), "task_suspend of a runnable task");
    ensure_state(t, State::Suspended, "after task_suspend")?;
    ensure_eq!(t.suspend(), Err(InvalidState.into()), "task_suspend of a suspended task");
    ensure_eq!(t.start(), Err(InvalidState.into()), "task_start of a suspended task");
    ok!(t.resume(), "task_resume of a suspended task");
    ensure_state(t, State::Runnable, "after task_resume")?;
    ok!(t.suspend(), "task_suspend again");
    ok!(t.resume(), "task_resume again");
    ensure_eq!(info(t, "at the end")?.detail, 0, "detail of a task that never ran");
    delete_task(t)
}

/// Distinct values in every register.
fn pattern_registers() -> Registers {
    Registers {
        rax: 0x1111_0000_0000_00a0,
        rbx: 0x1111_0000_0000_00b0,
        rcx: 0x1111_0000_0000_00c0,
        rdx: 0x1111_0000_0000_00d0,
        rsi: 0x1111_0000_0000_0051,
        rdi: 0x1111_0000_0000_00d1,
        rbp: 0x1111_0000_0000_00b9,
        r8: 0x8888_0000_0000_0008,
        r9: 0x8888_0000_0000_0009,
        r10: 0x8888_0000_0000_0010,
        r11: 0x8888_0000_0000_0011,
        r12: 0x8888_0000_0000_0012,
        r13: 0x8888_0000_0000_0013,
        r14: 0x8888_0000_0000_0014,
        r15: 0x8888_0000_0000_0015,
        rip: 0x0000_0000_0040_1234,
        rsp: 0x0000_7fff_0000_1238,
        rflags: 0x202,
        fs_base: 0x0000_7000_dead_b000,
    }
}

/// RFLAGS bits a task may have (abi::task::Registers): CF, PF, AF, ZF, SF, TF, DF, OF, AC, ID.
const USER_FLAGS: u64 =
    (1 << 0) | (1 << 2) | (1 << 4) | (1 << 6) | (1 << 7) | (1 << 8) | (1 << 10) | (1 << 11) | (1 << 18) | (1 << 21);
/// RFLAGS.IF, always set, and bit 1, which always reads 1.
const IF_AND_RESERVED: u64 = (1 << 9) | (1 << 1);

/// What is written is read back, RFLAGS masked: IOPL, NT, RF, VM and the rest dropped, IF set.
fn regs_round_trip(_: &Boot) -> TestResult {
    let t = new_task()?;
    let regs = pattern_registers();
    // SAFETY: the task never runs (here and in every register write below): it has no spaces
    // until it is given the root task's; then it is started at priority 0, below the root task,
    // and suspended before the root task makes any call that waits.
    ok!(unsafe { t.write_regs(&regs) }, "task_write_regs");
    ensure_eq!(read_regs(t, "after a write")?, regs, "registers read back");
    for rflags in [u64::MAX, 0, 0x3000 | 0x4000, 0x20_0000 | 0x4_0000 | 0x1, 1 << 17, 1 << 16, 1 << 19 | 1 << 20] {
        // SAFETY: as above: the task never runs.
        ok!(unsafe { t.write_regs(&Registers { rflags, ..regs }) }, "task_write_regs with rflags {rflags:#x}");
        let got = read_regs(t, "after a write")?;
        let expected = (rflags & USER_FLAGS) | IF_AND_RESERVED;
        ensure_eq!(got, Registers { rflags: expected, ..regs }, "registers read back after rflags {rflags:#x}");
        ensure_eq!(got.rflags & 0x7000, 0, "IOPL and NT after rflags {rflags:#x}");
    }
    // The canonical user addresses at the edges are accepted.
    for addr in [0, 0x0000_7fff_ffff_ffff] {
        // SAFETY: as above: the task never runs.
        let r = unsafe { t.write_regs(&Registers { rip: addr, fs_base: addr, ..regs }) };
        ok!(r, "task_write_regs(rip = fs_base = {addr:#x})");
        let got = read_regs(t, "after an edge write")?;
        ensure_eq!((got.rip, got.fs_base), (addr, addr), "rip and fs base read back");
    }
    // Writing is allowed whatever the state, and read back the same.
    // SAFETY: the task had no spaces to drop; given the root task's, it still never runs: it is
    // started at priority 0 and suspended at once, and the root task does not wait meanwhile.
    ok!(unsafe { t.set_space(root::cspace(), root_vspace()) }, "task_set_space");
    ok!(t.start(), "task_start");
    ok!(t.suspend(), "task_suspend");
    // SAFETY: as above: suspended, and deleted before it could run.
    ok!(unsafe { t.write_regs(&regs) }, "task_write_regs of a suspended task");
    ensure_eq!(read_regs(t, "suspended")?, regs, "registers of a suspended task");
    delete_task(t)
}

/// A non-canonical or kernel-half `rip` or FS base is refused, and changes nothing.
fn write_regs_non_canonical(_: &Boot) -> TestResult {
    let t = new_task()?;
    let regs = pattern_registers();
    // SAFETY: the task has no spaces and never starts (also for the writes below).
    ok!(unsafe { t.write_regs(&regs) }, "task_write_regs");
    for bad in [
        0x0000_8000_0000_0000u64,
        0x0000_8000_0000_1000,
        0x0001_0000_0000_0000,
        0x7fff_ffff_ffff_f000,
        0x8000_0000_0000_0000,
        0xffff_8000_0000_0000,
        0xffff_ffff_8000_0000,
        u64::MAX,
    ] {
        // SAFETY: as above: a task that never runs.
        let r = unsafe { t.write_regs(&Registers { rip: bad, ..regs }) };
        ensure_eq!(r, Err(InvalidArgument.into()), "task_write_regs with rip {bad:#x}");
        // SAFETY: as above.
        let r = unsafe { t.write_regs(&Registers { fs_base: bad, ..regs }) };
        ensure_eq!(r, Err(InvalidArgument.into()), "task_write_regs with fs_base {bad:#x}");
        // SAFETY: as above.
        let r = unsafe { t.write_regs(&Registers { rip: bad, fs_base: bad, rax: 0, ..regs }) };
        ensure_eq!(r, Err(InvalidArgument.into()), "task_write_regs with both {bad:#x}");
    }
    ensure_eq!(read_regs(t, "after refused writes")?, regs, "registers after refused writes");
    delete_task(t)
}

/// The caller's own registers are live in the CPU: neither read nor written.
fn regs_of_caller(_: &Boot) -> TestResult {
    ensure_eq!(root_task().read_regs(), Err(InvalidState.into()), "task_read_regs(ROOT_TASK)");
    let regs = pattern_registers();
    // SAFETY: the caller itself: the kernel refuses (checked), and nothing changes.
    let r = unsafe { root_task().write_regs(&regs) };
    ensure_eq!(r, Err(InvalidState.into()), "task_write_regs(ROOT_TASK)");
    // A copy names the same task.
    let me = Task::new(ok!(root_task().copy(root::cspace(), Slot::Auto, rights::ALL), "copy of ROOT_TASK"));
    ensure_eq!(me.read_regs(), Err(InvalidState.into()), "task_read_regs(copy of ROOT_TASK)");
    // SAFETY: as above, through a copy.
    let r = unsafe { me.write_regs(&regs) };
    ensure_eq!(r, Err(InvalidState.into()), "task_write_regs(copy of ROOT_TASK)");
    delete_task(me)
}

/// Registers that `task_read_regs` must not write: read-only data.
static READ_ONLY: [u64; REGISTERS_BYTES / 8] = [0x5eed; REGISTERS_BYTES / 8];

/// Buffers the kernel cannot use: unmapped, kernel half, wrapping, partly mapped, read-only.
fn regs_bad_buffer(boot: &Boot) -> TestResult {
    let t = new_task()?;
    let regs = pattern_registers();
    // SAFETY: the task has no spaces and never starts (also for the writes below).
    ok!(unsafe { t.write_regs(&regs) }, "task_write_regs");
    let unusable = [
        0usize,
        0x10,
        0x0000_5000_0000_0000,
        0x0000_8000_0000_0000,
        0xffff_8000_0000_0000,
        0xffff_ffff_8000_0000,
        usize::MAX - 8,
        // The last bytes of the root stack, then the unmapped page above it.
        ROOT_STACK_TOP - 16,
    ];
    for buf in unusable {
        // SAFETY: as above: a task that never runs.
        let r = unsafe { task::task_write_regs(t.slot(), buf) };
        ensure_eq!(r, Err(BadAddress.into()), "task_write_regs(buf {buf:#x})");
    }
    ensure_eq!(read_regs(t, "after refused writes")?, regs, "registers after refused writes");
    let mut read_only = [READ_ONLY.as_ptr().expose_provenance(), START_INFO_ADDR, 0x10, 0xffff_8000_0000_0000, 0, 0];
    let mut n = 4;
    if let Some(fs) = boot.initramfs() {
        read_only[n] = fs.as_ptr().expose_provenance();
        n += 1;
    }
    read_only[n] = usize::MAX - 8;
    for &buf in &read_only[..=n] {
        // SAFETY: none of these ranges is mapped writable in this task (read-only data, the root
        // info page, the initramfs, unmapped or kernel addresses), so the kernel may write
        // nothing there and must answer BadAddress; were it to write anyway, the test could only
        // fail (the write faults in the kernel or is seen below), never corrupt a live value.
        let r = unsafe { task::task_read_regs(t.slot(), buf) };
        ensure_eq!(r, Err(BadAddress.into()), "task_read_regs(buf {buf:#x})");
    }
    ensure!(READ_ONLY.iter().all(|&w| w == 0x5eed), "task_read_regs wrote to read-only data");
    // The check comes after the capability's: a bad buffer with a bad capability is about the
    // capability.
    // SAFETY: refused (checked): no capability, and the caller itself.
    let (none, me) = unsafe { (task::task_write_regs(0, 0x10), task::task_write_regs(ROOT_TASK, 0x10)) };
    ensure_eq!(none, Err(InvalidCapability.into()), "task_write_regs(0, 0x10)");
    ensure_eq!(me, Err(InvalidState.into()), "task_write_regs(ROOT_TASK, 0x10)");
    delete_task(t)
}

/// Every call checks the task capability's kind, then its rights: READ for reading registers and
/// info, WRITE for everything that changes the task.
fn calls_check_kind_and_rights(_: &Boot) -> TestResult {
    let t = task_with_space()?;
    let regs = pattern_registers();
    let buf = core::ptr::from_ref(&regs).expose_provenance();
    let mut out = Registers::default();
    let out_buf = (&raw mut out).expose_provenance();
    // (name, call, rights it needs) for the calls on a task.
    type Call = fn(usize, usize, usize) -> sys::Result<()>;
    // The table's calls are made only on capabilities the kernel refuses (checked below), so the
    // unsafe ones change nothing.
    let calls: [(&str, Call, usize); 7] = [
        // SAFETY: refused, see above.
        ("task_set_space", |t, _, _| unsafe { task::task_set_space(t, ROOT_CSPACE, ROOT_VSPACE) }, rights::WRITE),
        ("task_set_priority", |t, _, _| task::task_set_priority(t, ROOT_TASK, 0, 0), rights::WRITE),
        // SAFETY: refused, see above.
        ("task_write_regs", |t, buf, _| unsafe { task::task_write_regs(t, buf) }, rights::WRITE),
        // SAFETY: `out_buf` points to `out`, a local `Registers` nothing else refers to now.
        ("task_read_regs", |t, _, out| unsafe { task::task_read_regs(t, out) }, rights::READ),
        ("task_info", |t, _, _| task::task_info(t).map(drop), rights::READ),
        ("task_suspend", |t, _, _| task::task_suspend(t), rights::WRITE),
        ("task_resume", |t, _, _| task::task_resume(t), rights::WRITE),
    ];
    for (name, call, need) in calls {
        for (cap, err) in [
            (0, InvalidCapability),
            (SLOTS, InvalidCapability),
            (ROOT_MEMORY, WrongKind),
            (ROOT_CSPACE, WrongKind),
            (ROOT_VSPACE, WrongKind),
        ] {
            ensure_eq!(call(cap, buf, out_buf), Err(err.into()), "{name}(slot {cap:#x})");
        }
        let without = ok!(t.copy(root::cspace(), Slot::Auto, rights::ALL & !need), "copy of the task");
        ensure_eq!(call(without.slot(), buf, out_buf), Err(InsufficientRights.into()), "{name} without {need:#x}");
        delete_task(without)?;
    }
    for (cap, err) in [(0, InvalidCapability), (ROOT_MEMORY, WrongKind)] {
        ensure_eq!(task::task_start(cap), Err(err.into()), "task_start(slot {cap})");
    }
    let read_only = ok!(t.copy(root::cspace(), Slot::Auto, rights::READ), "READ copy of the task");
    ensure_eq!(task::task_start(read_only.slot()), Err(InsufficientRights.into()), "task_start without WRITE");
    // Through a copy with just the rights needed, each works on the same task.
    let write_only = Task::new(ok!(t.copy(root::cspace(), Slot::Auto, rights::WRITE), "WRITE copy of the task"));
    // SAFETY: the task has the root task's spaces, but never runs: it starts at priority 0,
    // below the root task, which deletes it without waiting in between.
    ok!(unsafe { write_only.write_regs(&regs) }, "task_write_regs through a WRITE copy");
    ok!(write_only.start(), "task_start through a WRITE copy");
    let seen = ok!(Task::new(read_only).info(), "task_info through a READ copy");
    ensure_eq!(seen.state, Ok(State::Runnable), "state through the READ copy");
    ensure_eq!(ok!(Task::new(read_only).read_regs(), "task_read_regs through a READ copy"), regs, "registers");
    delete_task(write_only)?;
    delete_task(read_only)?;
    ensure_eq!(out, Registers::default(), "the buffer of refused task_read_regs calls");
    delete_task(t)
}

/// Priorities go up to the authority's maximum controlled priority (the root task's is 255), for
/// both numbers; a refused call changes nothing.
fn set_priority_limits(_: &Boot) -> TestResult {
    let t = new_task()?;
    for (p, m) in [(MAX_PRIORITY + 1, 0), (0, MAX_PRIORITY + 1), (1 << 32, 0), (0, 1 << 32), (usize::MAX, usize::MAX)] {
        let r = t.set_priority(root_task(), p, m);
        ensure_eq!(r, Err(InvalidArgument.into()), "task_set_priority({p:#x}, {m:#x}) under the root task");
    }
    ensure_eq!(info(t, "after refused calls")?, FRESH, "task_info");
    for (p, m) in [(MAX_PRIORITY, MAX_PRIORITY), (7, 200), (200, 7), (0, 0), (ROOT_PRIORITY, 1)] {
        ok!(t.set_priority(root_task(), p, m), "task_set_priority({p}, {m})");
        let got = info(t, "after task_set_priority")?;
        ensure_eq!((got.priority, got.max_priority), (p, m), "(priority, max priority)");
        ensure_eq!(got.state, Ok(State::Inactive), "state after task_set_priority");
    }
    delete_task(t)
}

/// The authority's maximum controlled priority bounds both numbers, whatever the authority's own
/// priority: a task with maximum controlled priority 0 cannot raise anyone, and a task may be an
/// authority for itself.
fn set_priority_authority(_: &Boot) -> TestResult {
    let a = new_task()?;
    let b = new_task()?;
    for (p, m) in [(1, 0), (0, 1), (MAX_PRIORITY, 0)] {
        ensure_eq!(b.set_priority(a, p, m), Err(InvalidArgument.into()), "task_set_priority({p}, {m}) under mcp 0");
    }
    ok!(b.set_priority(a, 0, 0), "task_set_priority(0, 0) under mcp 0");
    ensure_eq!(a.set_priority(a, 1, 0), Err(InvalidArgument.into()), "a task with mcp 0 raising itself");
    // The root task cannot be raised by a task with a lower maximum controlled priority either.
    ensure_eq!(root_task().set_priority(a, ROOT_PRIORITY, 0), Err(InvalidArgument.into()), "the root task under mcp 0");
    ok!(a.set_priority(root_task(), 3, 50), "task_set_priority(a, 3, 50)");
    ok!(b.set_priority(a, 50, 50), "task_set_priority(b, 50, 50) under mcp 50");
    for (p, m) in [(51, 0), (0, 51), (51, 51)] {
        ensure_eq!(b.set_priority(a, p, m), Err(InvalidArgument.into()), "task_set_priority({p}, {m}) under mcp 50");
    }
    let got = info(b, "after refused calls")?;
    ensure_eq!((got.priority, got.max_priority), (50, 50), "(priority, max priority) of b");
    // The authority is read (READ), the task written (WRITE).
    let a_write_only = ok!(a.copy(root::cspace(), Slot::Auto, rights::WRITE), "WRITE copy of a");
    let r = b.set_priority(Task::new(a_write_only), 1, 1);
    ensure_eq!(r, Err(InsufficientRights.into()), "task_set_priority under an authority without READ");
    let a_read_only = ok!(a.copy(root::cspace(), Slot::Auto, rights::READ), "READ copy of a");
    ok!(b.set_priority(Task::new(a_read_only), 1, 1), "task_set_priority under a READ-only authority");
    ensure_eq!(
        task::task_set_priority(b.slot(), ROOT_MEMORY, 0, 0),
        Err(WrongKind.into()),
        "task_set_priority with a Memory as the authority"
    );
    ensure_eq!(
        task::task_set_priority(ROOT_MEMORY, 0, 0, 0),
        Err(WrongKind.into()),
        "task_set_priority of a Memory (checked before the authority)"
    );
    delete_task(a_write_only)?;
    delete_task(a_read_only)?;
    delete_task(b)?;
    delete_task(a)
}

/// A task holds references to its CSpace and VSpace; deleting the task lets them go. A CSpace
/// made for a task outlives the task's creator's capability to it while the task holds it, and
/// is refunded with the task.
fn delete_releases_spaces(_: &Boot) -> TestResult {
    let start = root_usage()?;
    let m = split_root(64)?;
    let cs = ok!(CSpace::create(m, 2, Slot::Auto), "cspace_create(radix 2)");
    let t = ok!(Task::create(m, Slot::Auto), "task_create");
    // SAFETY: a task just made: no spaces to drop; it is never started.
    ok!(unsafe { t.set_space(cs, root_vspace()) }, "task_set_space(own CSpace, root VSpace)");
    let used = ok!(m.info(), "memory_info").used;
    // SAFETY: the task holds the CSpace too, so it does not die (and it holds nothing).
    unsafe { delete_any(cs.cap())? };
    // The task still holds the CSpace: nothing refunded yet.
    ensure_eq!(ok!(m.info(), "memory_info").used, used, "pages used after deleting the CSpace capability only");
    delete_task(t)?;
    ensure_eq!(ok!(m.info(), "memory_info").used, 0, "pages used after deleting the task too");
    delete(m.cap())?;
    ensure_root_used(start, 0, "at the end")
}
