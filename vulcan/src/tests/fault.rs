//! Tests of fault handling: a task with a fault endpoint that faults sends its supervisor a fault
//! message (as a call, with the fault endpoint capability's badge and the words of
//! `abi::task::fault`) and waits for the reply; a task without one is stopped, Faulted with the
//! vector, and the kernel runs on.
//!
//! The ABI: `abi::syscall::Sysno::TaskSetFaultEndpoint`, `abi::task::fault`, `sys::ipc`.
//!
//! The faulting threads are written in assembly ([`global_asm!`](core::arch::global_asm)) so
//! that the address of the faulting instruction is known exactly (`vulcan_fault_store`,
//! `vulcan_fault_ud2`) and the registers the supervisor sees and changes are the ones the
//! instruction uses. The supervisor repairs a fault by mapping the missing page, by changing
//! registers (pointing the faulting store at memory that exists), or by moving `rip` to a
//! recovery function.
//!
//! Threads come from [`Threads`] (see the IPC tests); every test runs [`isolated`].

use core::sync::atomic::{AtomicU64, AtomicUsize, Ordering::SeqCst};

use sys::abi::Error::{InsufficientRights, InvalidCapability, WouldBlock, WrongKind};
use sys::abi::bootcaps::{ROOT_DEBUG_CONSOLE, ROOT_MEMORY, ROOT_VSPACE};
use sys::abi::layout::{ROOT_STACK_SIZE, ROOT_STACK_TOP};
use sys::abi::syscall::{SLOT_AUTO, Sysno};
use sys::abi::task::fault;
use sys::ipc::{self, Message, Reply};
use sys::task::{ROOT_PRIORITY, State, Task, ThreadEntry, exit_thread, root_task};
use sys::{Boot, Cap, Slot, rights, root};

use super::ipc::{HIGH, Threads, ensure_ended, ensure_state, mint, new_endpoint, wait_for_state};
use super::support::{SPARE, delete, delete_any, isolated, root_usage};
use crate::harness::{Reason, Test, TestResult, ensure_eq, ok};

pub const TESTS: &[Test] = &[
    Test::new("fault_page_fault_to_endpoint_then_rip_moved", |b| isolated(b, page_fault_then_rip_moved)),
    Test::new("fault_page_fault_retried_with_fixed_register", |b| isolated(b, page_fault_retried_with_fixed_register)),
    Test::new("fault_page_fault_fixed_by_mapping_a_page", |b| isolated(b, page_fault_fixed_by_mapping)),
    Test::new("fault_invalid_opcode_to_endpoint", |b| isolated(b, invalid_opcode_to_endpoint)),
    Test::new("fault_without_endpoint_stops_task", |b| isolated(b, without_endpoint_stops_task)),
    Test::new("fault_endpoint_removed_stops_task", |b| isolated(b, endpoint_removed_stops_task)),
    Test::new("fault_endpoint_errors", |b| isolated(b, endpoint_errors)),
    Test::new("fault_endpoint_dies_with_fault_queued", |b| isolated(b, endpoint_dies_with_fault_queued)),
    Test::new("fault_never_answered_stops_task", |b| isolated(b, never_answered_stops_task)),
    Test::new("fault_reply_sets_registers", |b| isolated(b, fault_reply_sets_registers)),
    Test::new("fault_reply_recv_steps_over_faults", |b| isolated(b, fault_reply_recv_steps_over_faults)),
    Test::new("fault_reply_errors", |b| isolated(b, fault_reply_errors)),
];

/// Where the faulting store writes: canonical, in the user half, and never mapped (as
/// `fixture-fault` uses, a page further on).
const FAULT_ADDR: usize = 0x0000_5000_0000_1000;

/// The exit status the faulting store thread ends with once its store succeeded.
const STORED: usize = 0x5704;

/// The exit status of [`recovered`].
const RECOVERED: usize = 0x4ec0;

/// Page-fault error code of a user-mode write to a page that is not present: U (4) | W (2).
const USER_WRITE_NOT_PRESENT: usize = 6;

core::arch::global_asm!(
    ".pushsection .text.vulcan_fault_threads, \"ax\", @progbits",
    // vulcan_fault_store_thread(value): stores `value` at FAULT_ADDR (through rax), then exits
    // with STORED. The store faults unless a supervisor points rax at memory that exists.
    ".global vulcan_fault_store_thread",
    ".type vulcan_fault_store_thread, @function",
    "vulcan_fault_store_thread:",
    "    mov rax, {addr}",
    ".global vulcan_fault_store",
    "vulcan_fault_store:",
    "    mov qword ptr [rax], rdi",
    "    mov edi, {stored}",
    "    mov eax, {exit}",
    "    syscall",
    "    ud2",
    ".size vulcan_fault_store_thread, . - vulcan_fault_store_thread",
    // vulcan_fault_ud2_thread(_): executes ud2 at once (vector 6, invalid opcode).
    ".global vulcan_fault_ud2_thread",
    ".type vulcan_fault_ud2_thread, @function",
    "vulcan_fault_ud2_thread:",
    ".global vulcan_fault_ud2",
    "vulcan_fault_ud2:",
    "    ud2",
    ".size vulcan_fault_ud2_thread, . - vulcan_fault_ud2_thread",
    // vulcan_fault_map_thread(addr): stores MAPPED_VALUE at `addr`, then exits with STORED.
    ".global vulcan_fault_map_thread",
    ".type vulcan_fault_map_thread, @function",
    "vulcan_fault_map_thread:",
    "    mov rax, rdi",
    "    mov rdi, {mapped_value}",
    ".global vulcan_fault_map_store",
    "vulcan_fault_map_store:",
    "    mov qword ptr [rax], rdi",
    "    mov edi, {stored}",
    "    mov eax, {exit}",
    "    syscall",
    "    ud2",
    ".size vulcan_fault_map_thread, . - vulcan_fault_map_thread",
    // vulcan_fault_twice_thread(endpoint): executes `ud2` twice, then sends on `endpoint` the
    // words [TWICE_DONE, rax, rdi, rsp, 0] and exits with STORED. A supervisor steps over each
    // `ud2` (2 bytes); what it sets in rax, rdi and rsp shows in the message.
    ".global vulcan_fault_twice_thread",
    ".type vulcan_fault_twice_thread, @function",
    "vulcan_fault_twice_thread:",
    "    mov r12, rdi",
    ".global vulcan_fault_twice_1",
    "vulcan_fault_twice_1:",
    "    ud2",
    ".global vulcan_fault_twice_2",
    "vulcan_fault_twice_2:",
    "    ud2",
    "    mov rdx, rax",
    "    mov r10, rdi",
    "    mov r8, rsp",
    "    xor r9d, r9d",
    "    mov esi, {twice_done}",
    "    mov rdi, r12",
    "    mov eax, {send}",
    "    syscall",
    "    mov edi, {stored}",
    "    mov eax, {exit}",
    "    syscall",
    "    ud2",
    ".size vulcan_fault_twice_thread, . - vulcan_fault_twice_thread",
    ".popsection",
    twice_done = const TWICE_DONE,
    send = const Sysno::Send as usize,
    mapped_value = const MAPPED_VALUE,
    addr = const FAULT_ADDR,
    stored = const STORED,
    exit = const Sysno::Exit as usize,
);

// SAFETY: the declarations match the assembly above: two thread entries that take one argument
// in `rdi` and never return, and two code labels whose addresses are only compared, never used
// to read or call.
unsafe extern "C" {
    safe fn vulcan_fault_store_thread(value: usize) -> !;
    safe fn vulcan_fault_ud2_thread(arg: usize) -> !;
    safe fn vulcan_fault_map_thread(addr: usize) -> !;
    safe static vulcan_fault_store: u8;
    safe static vulcan_fault_ud2: u8;
    safe static vulcan_fault_map_store: u8;
    safe fn vulcan_fault_twice_thread(endpoint: usize) -> !;
    safe static vulcan_fault_twice_1: u8;
    safe static vulcan_fault_twice_2: u8;
}

/// The thread that executes `ud2` twice and then reports, as a thread entry.
const TWICE_THREAD: ThreadEntry = vulcan_fault_twice_thread;

/// Word 0 of the report of [`TWICE_THREAD`].
const TWICE_DONE: usize = 0x600d;

/// The length of `ud2`.
const UD2_LEN: usize = 2;

/// The address of a code label.
fn label(l: &'static u8) -> usize {
    core::ptr::from_ref(l).addr()
}

/// The faulting store thread as a thread entry.
const STORE_THREAD: ThreadEntry = vulcan_fault_store_thread;

/// The invalid-opcode thread as a thread entry.
const UD2_THREAD: ThreadEntry = vulcan_fault_ud2_thread;

/// The thread that stores [`MAPPED_VALUE`] at its argument, as a thread entry.
const MAP_THREAD: ThreadEntry = vulcan_fault_map_thread;

/// What [`MAP_THREAD`] stores.
const MAPPED_VALUE: u64 = 0x0a11_0ca7_ed00_0001;

/// Where the supervisor maps a page on demand: the lowest page of the 2 MiB region that holds
/// the root task's stack (`abi::layout`), far below the stack and its guard page. Nothing is
/// mapped there, but the page table for the region exists (the stack is in it), so a map there
/// charges no page tables, which the root VSpace would otherwise keep until it dies.
const MAP_ADDR: usize = (ROOT_STACK_TOP - ROOT_STACK_SIZE) & !(2 * 1024 * 1024 - 1);

const _: () = assert!(MAP_ADDR + 4096 < ROOT_STACK_TOP - ROOT_STACK_SIZE - 4096);

/// A raw syscall that touches no memory of the caller, or failure naming `what`.
fn raw_call(number: Sysno, args: [usize; 6], what: &str) -> Result<[usize; 6], Reason> {
    // SAFETY: used for `page_create` and `page_map` only: neither reads nor writes the caller's
    // memory, and a map never replaces a mapping (`SlotOccupied`), so it only makes memory appear
    // where nothing was; no Rust reference can point there.
    let (rax, out) = unsafe { sys::syscall::syscall(number as usize, args) };
    ok!(sys::Error::check(rax), "{what}");
    Ok(out)
}

/// What [`recovered`] was called with.
static RECOVERED_ARG: AtomicUsize = AtomicUsize::new(0);

/// Where a repaired store lands.
static SCRATCH: AtomicU64 = AtomicU64::new(0);

/// Where the supervisor moves a faulted thread: records its argument and exits with
/// [`RECOVERED`].
extern "C" fn recovered(arg: usize) -> ! {
    RECOVERED_ARG.store(arg, SeqCst);
    exit_thread(RECOVERED)
}

/// Fails unless `m` is the fault message of the faulting store: vector 14 at
/// `vulcan_fault_store`, address [`FAULT_ADDR`], a user write to a page not present, with
/// `badge`.
fn ensure_store_fault(m: &Message, badge: usize, what: &str) -> TestResult {
    let w = m.words;
    ensure_eq!(m.badge, badge, "{what}: badge");
    ensure_eq!(w[fault::VECTOR], 14, "{what}: vector");
    ensure_eq!(w[fault::ADDRESS], FAULT_ADDR, "{what}: address");
    ensure_eq!(w[fault::RIP], label(&vulcan_fault_store), "{what}: rip (the faulting store)");
    ensure_eq!(w[fault::ERROR], USER_WRITE_NOT_PRESENT, "{what}: error code");
    ensure_eq!(w[4], 0, "{what}: word 4");
    Ok(())
}

/// A thread with a fault endpoint writes to an unmapped page. The supervisor (the root task)
/// receives the fault message through a badged fault endpoint capability: vector 14, the address
/// written, `rip` at the store, the badge. Replying without a change runs the store again,
/// which faults again the same way. Then the supervisor moves `rip` to a recovery function
/// (reading the registers, changing `rip`, `rsp` and `rdi`, writing them back) and replies: the
/// thread runs it and exits.
fn page_fault_then_rip_moved(_: &Boot) -> TestResult {
    let ep = new_endpoint()?;
    let fault_ep = mint(ep, rights::WRITE, 0xfa17)?;
    RECOVERED_ARG.store(0, SeqCst);
    let mut threads = Threads::new()?;
    let t = threads.start("faulter", STORE_THREAD, 0x1234, HIGH, Some(fault_ep))?;
    // It faulted at once; no one receives yet, so its fault message waits in the endpoint.
    ensure_state(t, State::BlockedSend, "faulter before the supervisor receives")?;

    let m = ok!(ep.nb_recv(), "nb_recv of the fault message");
    ensure_store_fault(&m, 0xfa17, "first fault message")?;
    ensure_state(t, State::BlockedReply, "faulter after its fault message was received")?;

    // The registers are as the thread left them at the faulting instruction.
    let regs = ok!(t.read_regs(), "task_read_regs(faulter)");
    ensure_eq!(regs.rip as usize, label(&vulcan_fault_store), "saved rip");
    ensure_eq!(regs.rax as usize, FAULT_ADDR, "saved rax (the address register of the store)");
    ensure_eq!(regs.rdi, 0x1234, "saved rdi (the value stored)");

    // A reply that changes nothing: the store runs again and faults again.
    ok!(ipc::reply([0; 5]), "reply to the first fault (nothing changed)");
    ensure_state(t, State::BlockedSend, "faulter after the plain reply (faulted again)")?;
    let m = ok!(ep.nb_recv(), "nb_recv of the second fault message");
    ensure_store_fault(&m, 0xfa17, "second fault message")?;

    // Repair: continue in `recovered(0x77)` on the same stack, aligned as at a function entry.
    let mut regs = ok!(t.read_regs(), "task_read_regs(faulter), second fault");
    regs.rip = recovered as ThreadEntry as usize as u64;
    regs.rsp = (regs.rsp & !15) - 8;
    regs.rdi = 0x77;
    // SAFETY: the thread resumes in `recovered`, a thread function of Vulcan, on its own stack.
    ok!(unsafe { t.write_regs(&regs) }, "task_write_regs(faulter)");
    ensure_state(t, State::BlockedReply, "faulter after its registers were written")?;
    ok!(ipc::reply([0; 5]), "reply to the second fault");
    ensure_ended(t, State::Exited, RECOVERED, "faulter after the repair")?;
    ensure_eq!(RECOVERED_ARG.load(SeqCst), 0x77, "argument recovered() got");
    ensure_eq!(ep.nb_recv(), Err(WouldBlock.into()), "nb_recv after the recovery (no further fault)");
    drop(threads);
    delete(fault_ep.cap())?;
    delete(ep.cap())
}

/// The supervisor repairs a page fault by pointing the store's address register at memory that
/// exists; after the reply the thread retries the very instruction that faulted, now with that
/// register, and the store lands there.
fn page_fault_retried_with_fixed_register(_: &Boot) -> TestResult {
    let ep = new_endpoint()?;
    SCRATCH.store(0, SeqCst);
    let mut threads = Threads::new()?;
    // The fault endpoint capability is unbadged: the message's badge is 0.
    let t = threads.start("faulter", STORE_THREAD, 0x5eed_5eed, HIGH, Some(ep))?;
    let m = ok!(ep.nb_recv(), "nb_recv of the fault message");
    ensure_store_fault(&m, 0, "fault message")?;

    let mut regs = ok!(t.read_regs(), "task_read_regs(faulter)");
    regs.rax = SCRATCH.as_ptr().addr() as u64;
    // SAFETY: the thread retries its store, now into `SCRATCH`, an atomic word that nothing else
    // touches until the thread has exited; then it exits.
    ok!(unsafe { t.write_regs(&regs) }, "task_write_regs(faulter)");
    ok!(ipc::reply([0; 5]), "reply");
    ensure_ended(t, State::Exited, STORED, "faulter after the repair")?;
    ensure_eq!(SCRATCH.load(SeqCst), 0x5eed_5eed, "value the retried store wrote");
    drop(threads);
    delete(ep.cap())
}

/// The page fault of the design: the supervisor answers a fault on a missing page by mapping one
/// there (`page_create`, `page_map` into the root VSpace) and replying; the thread's store runs
/// again and lands in the new page, and the supervisor reads it back. Deleting the Page unmaps
/// it and refunds it.
fn page_fault_fixed_by_mapping(_: &Boot) -> TestResult {
    let ep = new_endpoint()?;
    let fault_ep = mint(ep, rights::WRITE, 0x3a9)?;
    let mut threads = Threads::new()?;
    let t = threads.start("faulter", MAP_THREAD, MAP_ADDR, HIGH, Some(fault_ep))?;
    let m = ok!(ep.nb_recv(), "nb_recv of the fault message");
    let expected = [14, MAP_ADDR, label(&vulcan_fault_map_store), USER_WRITE_NOT_PRESENT, 0];
    ensure_eq!(m, Message::plain(0x3a9, expected), "fault message");

    let before = root_usage()?.used;
    let page = raw_call(Sysno::PageCreate, [ROOT_MEMORY, 1, SLOT_AUTO, 0, 0, 0], "page_create(1)")?[0];
    let access = rights::READ | rights::WRITE;
    let mapped = raw_call(Sysno::PageMap, [page, ROOT_VSPACE, MAP_ADDR, access, ROOT_MEMORY, 0], "page_map");
    if let Err(why) = mapped {
        delete(Cap::new(page))?;
        return Err(why);
    }
    ensure_eq!(root_usage()?.used, before + 2, "root Memory used with the Page mapped (no page table charged)");
    ok!(ipc::reply([0; 5]), "reply");
    ensure_ended(t, State::Exited, STORED, "faulter after the page was mapped")?;
    let ptr = core::ptr::with_exposed_provenance::<u64>(MAP_ADDR);
    // SAFETY: the Page is mapped there, readable, for as long as its capability lives (until the
    // delete below), and nothing else refers to the memory; the address is page-aligned.
    let stored = unsafe { core::ptr::read_volatile(ptr) };
    ensure_eq!(stored, MAPPED_VALUE, "value the retried store left in the new page");
    // SAFETY: the word was read above, and nothing uses the page any more (its thread exited).
    unsafe { delete_any(Cap::new(page))? };
    ensure_eq!(root_usage()?.used, before, "root Memory used after the Page was deleted");
    drop(threads);
    delete(fault_ep.cap())?;
    delete(ep.cap())
}

/// Another exception reaches the fault endpoint the same way: `ud2` is vector 6, with no address
/// and no error code. Here the supervisor answers through a saved Reply capability.
fn invalid_opcode_to_endpoint(_: &Boot) -> TestResult {
    let ep = new_endpoint()?;
    let fault_ep = mint(ep, rights::WRITE, 6)?;
    RECOVERED_ARG.store(0, SeqCst);
    let mut threads = Threads::new()?;
    let t = threads.start("ud2", UD2_THREAD, 0, HIGH, Some(fault_ep))?;
    let m = ok!(ep.nb_recv(), "nb_recv of the fault message");
    ensure_eq!(m, Message::plain(6, [6, 0, label(&vulcan_fault_ud2), 0, 0]), "fault message of ud2");

    let mut regs = ok!(t.read_regs(), "task_read_regs(ud2 thread)");
    regs.rip = recovered as ThreadEntry as usize as u64;
    regs.rsp = (regs.rsp & !15) - 8;
    regs.rdi = 0x66;
    // SAFETY: as in the page fault repair: `recovered`, on the thread's own stack.
    ok!(unsafe { t.write_regs(&regs) }, "task_write_regs(ud2 thread)");
    // A fault message's reply right can be saved and used like any other.
    let r = ok!(Reply::save(Slot::Auto), "reply_save of the fault message");
    ensure_state(t, State::BlockedReply, "ud2 thread with its reply saved")?;
    ok!(r.reply([0; 5]), "reply_to");
    ensure_ended(t, State::Exited, RECOVERED, "ud2 thread after the repair")?;
    ensure_eq!(RECOVERED_ARG.load(SeqCst), 0x66, "argument recovered() got");
    drop(threads);
    delete(fault_ep.cap())?;
    delete(ep.cap())
}

/// Without a fault endpoint a faulting thread is stopped: Faulted, with the vector as its detail
/// (14 for the page fault, 6 for `ud2`). The kernel, and the root task, run on.
fn without_endpoint_stops_task(_: &Boot) -> TestResult {
    let mut threads = Threads::new()?;
    let pf = threads.spawn("page fault", STORE_THREAD, 1, HIGH)?;
    ensure_ended(pf, State::Faulted, 14, "thread that wrote to an unmapped page")?;
    let ud = threads.spawn("ud2", UD2_THREAD, 0, HIGH)?;
    ensure_ended(ud, State::Faulted, 6, "thread that executed ud2")?;
    // The stopped thread's registers are still there to read: it stopped at the store.
    let regs = ok!(pf.read_regs(), "task_read_regs(faulted thread)");
    ensure_eq!(regs.rip as usize, label(&vulcan_fault_store), "faulted thread's rip");
    Ok(())
}

/// A fault endpoint set and then removed (`None`) before the thread starts: its fault stops it,
/// and nothing reaches the endpoint it had.
fn endpoint_removed_stops_task(_: &Boot) -> TestResult {
    let ep = new_endpoint()?;
    let mut threads = Threads::new()?;
    let t = threads.prepare("faulter", STORE_THREAD, 1)?;
    ok!(t.set_fault_endpoint(Some(ep)), "task_set_fault_endpoint(faulter, endpoint)");
    ok!(t.set_fault_endpoint(None), "task_set_fault_endpoint(faulter, None)");
    ok!(t.set_priority(root_task(), HIGH, 0), "task_set_priority(faulter)");
    ok!(t.start(), "task_start(faulter)");
    ensure_ended(t, State::Faulted, 14, "faulter whose fault endpoint was removed")?;
    ensure_eq!(ep.nb_recv(), Err(WouldBlock.into()), "nb_recv on the endpoint it had (no fault message)");
    drop(threads);
    delete(ep.cap())
}

/// `task_set_fault_endpoint`'s capability errors, task first, then endpoint; WRITE is needed on
/// both.
fn endpoint_errors(_: &Boot) -> TestResult {
    let ep = new_endpoint()?;
    let t = ok!(Task::create(root::memory(), Slot::Auto), "task_create");
    let reader = mint(ep, rights::READ, 0)?;
    let task_reader = Task::new(ok!(t.copy(root::cspace(), Slot::Auto, rights::READ), "cap_copy(task, READ)"));
    let cases: [(usize, usize, sys::abi::Error, &str); 9] = [
        (SPARE, ep.slot(), InvalidCapability, "an empty task slot"),
        (0, ep.slot(), InvalidCapability, "the null task slot"),
        (ROOT_MEMORY, ep.slot(), WrongKind, "the root Memory as the task"),
        (ep.slot(), ep.slot(), WrongKind, "the endpoint as the task"),
        (task_reader.slot(), ep.slot(), InsufficientRights, "a READ-only task copy"),
        (t.slot(), SPARE, InvalidCapability, "an empty endpoint slot"),
        (t.slot(), ROOT_DEBUG_CONSOLE, WrongKind, "the console as the endpoint"),
        (t.slot(), reader.slot(), InsufficientRights, "a READ-only endpoint copy"),
        // The task is checked first.
        (SPARE, ROOT_DEBUG_CONSOLE, InvalidCapability, "both bad"),
    ];
    for (task, endpoint, err, what) in cases {
        ensure_eq!(ipc::task_set_fault_endpoint(task, endpoint), Err(err.into()), "task_set_fault_endpoint({what})");
    }
    ok!(ipc::task_set_fault_endpoint(t.slot(), 0), "task_set_fault_endpoint(task, 0)");
    // The task holds its own reference to its fault endpoint: deleting every capability to the
    // endpoint leaves the page charged until the task goes too.
    ok!(t.set_fault_endpoint(Some(ep)), "task_set_fault_endpoint(task, endpoint)");
    let before = root_usage()?.used;
    delete(reader.cap())?;
    delete(ep.cap())?;
    ensure_eq!(root_usage()?.used, before, "root Memory used with the endpoint held only by the task");
    // SAFETY: a copy of the Task, and then the Task, which never had a CSpace or VSpace: its
    // death drops nothing but its fault endpoint.
    unsafe {
        delete_any(task_reader.cap())?;
        delete_any(t.cap())?;
    }
    ensure_eq!(root_usage()?.used, before - 2, "root Memory used once the task is gone (task and endpoint refunded)");
    Ok(())
}

/// A fault message that waits in an endpoint when the endpoint dies (its capabilities deleted,
/// then the task's own reference dropped with `task_set_fault_endpoint(None)`) can never be
/// delivered: the thread ends Faulted, with the vector as its detail, as if it had had no fault
/// endpoint.
fn endpoint_dies_with_fault_queued(_: &Boot) -> TestResult {
    let ep = new_endpoint()?;
    let mut threads = Threads::new()?;
    let t = threads.start("faulter", STORE_THREAD, 1, HIGH, Some(ep))?;
    ensure_state(t, State::BlockedSend, "faulter with its fault message queued")?;
    delete(ep.cap())?;
    // The task's reference keeps the endpoint, and the queued message, alive.
    ensure_state(t, State::BlockedSend, "faulter after the endpoint capability was deleted")?;
    ok!(t.set_fault_endpoint(None), "task_set_fault_endpoint(faulter, None)");
    wait_for_state(t, State::Faulted, "faulter after its fault endpoint died")?;
    ensure_ended(t, State::Faulted, 14, "faulter after its fault endpoint died")?;
    drop(threads);
    Ok(())
}

/// A fault message whose reply right is let go unanswered stops its task, as no fault endpoint
/// would have: Faulted, the vector as its detail. Here the supervisor (the root task) first takes
/// a second fault message while holding the first's right (which replaces it), then saves the
/// second's right in a Reply capability and deletes that. Until each right goes, its task waits.
fn never_answered_stops_task(_: &Boot) -> TestResult {
    let ep = new_endpoint()?;
    let mut threads = Threads::new()?;
    let first = threads.start("first ud2", UD2_THREAD, 0, HIGH, Some(ep))?;
    let second = threads.start("second ud2", UD2_THREAD, 0, HIGH, Some(ep))?;
    let m = ok!(ep.nb_recv(), "nb_recv of the first fault message");
    ensure_eq!(m.words[fault::VECTOR], 6, "vector of the first fault message");
    ensure_state(first, State::BlockedReply, "first thread while its fault is held")?;
    ensure_state(second, State::BlockedSend, "second thread with its fault message queued")?;
    let m = ok!(ep.nb_recv(), "nb_recv of the second fault message");
    ensure_eq!(m.words[fault::VECTOR], 6, "vector of the second fault message");
    ensure_ended(first, State::Faulted, 6, "first thread after its reply right was replaced")?;
    ensure_state(second, State::BlockedReply, "second thread while its fault is held")?;
    let r = ok!(Reply::save(Slot::Auto), "reply_save of the second fault message");
    ensure_state(second, State::BlockedReply, "second thread with its reply saved")?;
    delete(r.cap())?;
    ensure_ended(second, State::Faulted, 6, "second thread after its Reply capability was deleted")?;
    drop(threads);
    delete(ep.cap())
}

/// The fault reply (`fault_reply`): the supervisor answers a fault with new values for the
/// registers it names, and no `task_read_regs`/`task_write_regs`. First the store thread's
/// address register (`rax`) is pointed at memory that exists: the store runs again and lands
/// there. Then a thread is moved to a recovery function with an argument (`rip` and `rdi`), its
/// stack (`rsp`) left as it was. The threads run at the root task's priority, so the fault
/// message reaches the root task waiting in `recv` (the fast path of fault delivery, when on).
fn fault_reply_sets_registers(_: &Boot) -> TestResult {
    let ep = new_endpoint()?;
    let fault_ep = mint(ep, rights::WRITE, 0xfe)?;
    SCRATCH.store(0, SeqCst);
    RECOVERED_ARG.store(0, SeqCst);
    let mut threads = Threads::new()?;
    let t = threads.start("faulter", STORE_THREAD, 0xabc0_0123, ROOT_PRIORITY, Some(fault_ep))?;
    let m = ok!(ep.recv(), "recv of the fault message");
    ensure_store_fault(&m, 0xfe, "fault message")?;
    ensure_state(t, State::BlockedReply, "faulter after its fault message was received")?;
    let resume = ipc::Resume { rax: Some(SCRATCH.as_ptr().addr()), ..ipc::Resume::default() };
    // SAFETY: the thread retries its store, now into `SCRATCH`, an atomic word that nothing else
    // touches until the thread has exited; then it exits.
    ok!(unsafe { ipc::fault_reply(resume) }, "fault_reply(rax)");
    wait_for_state(t, State::Exited, "faulter after the fault reply")?;
    ensure_ended(t, State::Exited, STORED, "faulter after the fault reply")?;
    ensure_eq!(SCRATCH.load(SeqCst), 0xabc0_0123, "value the retried store wrote");

    let u = threads.start("ud2", UD2_THREAD, 0, ROOT_PRIORITY, Some(fault_ep))?;
    let m = ok!(ep.recv(), "recv of the ud2 fault message");
    ensure_eq!(m, Message::plain(0xfe, [6, 0, label(&vulcan_fault_ud2), 0, 0]), "fault message of ud2");
    // The thread started at a function entry and pushed nothing, so its stack is aligned as at
    // one: `recovered` can run on it as it is.
    let resume =
        ipc::Resume { rip: Some(recovered as ThreadEntry as usize), rdi: Some(0x99), ..ipc::Resume::default() };
    // SAFETY: the thread resumes in `recovered`, a thread function of Vulcan, on its own stack.
    ok!(unsafe { ipc::fault_reply(resume) }, "fault_reply(rip, rdi)");
    wait_for_state(u, State::Exited, "ud2 thread after the fault reply")?;
    ensure_ended(u, State::Exited, RECOVERED, "ud2 thread after the fault reply")?;
    ensure_eq!(RECOVERED_ARG.load(SeqCst), 0x99, "argument recovered() got");
    drop(threads);
    delete(fault_ep.cap())?;
    delete(ep.cap())
}

/// A supervisor's loop in one call per fault: `fault_reply_recv` answers the fault message with
/// the registers it names and waits for the next message on the endpoint. The thread faults
/// twice (`ud2`, stepped over each time); the second answer also sets `rax`, `rdi` and `rsp`,
/// which the thread reports in the message it sends at the end.
fn fault_reply_recv_steps_over_faults(_: &Boot) -> TestResult {
    let ep = new_endpoint()?;
    let fault_ep = mint(ep, rights::WRITE, 0xf2)?;
    let mut threads = Threads::new()?;
    let t = threads.start("twice", TWICE_THREAD, ep.slot(), ROOT_PRIORITY, Some(fault_ep))?;
    let m = ok!(ep.recv(), "recv of the first fault");
    ensure_eq!(m, Message::plain(0xf2, [6, 0, label(&vulcan_fault_twice_1), 0, 0]), "first fault message");
    let rsp = ok!(t.read_regs(), "task_read_regs(twice)").rsp as usize;
    // SAFETY: the thread steps over its `ud2`, in its own code, with its own registers.
    let m = ok!(unsafe { ep.fault_reply_recv(ipc::Resume::at(m.words[fault::RIP] + UD2_LEN)) }, "fault_reply_recv 1");
    ensure_eq!(m, Message::plain(0xf2, [6, 0, label(&vulcan_fault_twice_2), 0, 0]), "second fault message");
    let resume =
        ipc::Resume { rip: Some(m.words[fault::RIP] + UD2_LEN), rsp: Some(rsp - 64), rax: Some(0xa1), rdi: Some(0xd1) };
    // SAFETY: the thread steps over its second `ud2`; the stack pointer moves 64 bytes down its
    // own stack, which the rest of its code (registers and a syscall) does not use.
    let m = ok!(unsafe { ep.fault_reply_recv(resume) }, "fault_reply_recv 2");
    ensure_eq!(m, Message::plain(0, [TWICE_DONE, 0xa1, 0xd1, rsp - 64, 0]), "the thread's report");
    wait_for_state(t, State::Exited, "twice thread after its report")?;
    ensure_ended(t, State::Exited, STORED, "twice thread after its report")?;
    drop(threads);
    delete(fault_ep.cap())?;
    delete(ep.cap())
}

/// A thread that calls `endpoint` once and exits with the first word of the answer.
extern "C" fn call_once(endpoint: usize) -> ! {
    match sys::Endpoint::at(endpoint).call([1, 2, 3, 4, 5]) {
        Ok(w) => exit_thread(w[0]),
        Err(_) => exit_thread(1),
    }
}

/// `fault_reply` and `fault_reply_recv` refuse, changing nothing: with no reply right, or one
/// that answers a plain call (`InvalidState`; `fault_reply_recv` then does not receive either);
/// `set` bits beyond the four registers and a `rip` that is not a canonical user address
/// (`InvalidArgument`); a bad endpoint capability, checked first. After each refusal the call or
/// fault is still there to answer.
fn fault_reply_errors(_: &Boot) -> TestResult {
    use sys::abi::Error::{InvalidArgument, InvalidState};
    use sys::abi::task::fault::reply;
    let raw = |number: Sysno, args: [usize; 6]| -> Result<(), sys::Error> {
        // SAFETY: every call here is refused before it changes anything (that is what the test
        // checks), and a fault reply that went through would only resume a thread of this test
        // where it faulted (rip unchanged).
        let (rax, _) = unsafe { sys::syscall::syscall(number as usize, args) };
        sys::Error::check(rax)
    };
    ensure_eq!(raw(Sysno::FaultReply, [0; 6]), Err(InvalidState.into()), "fault_reply with no reply right");

    let ep = new_endpoint()?;
    let mut threads = Threads::new()?;
    let c = threads.start("caller", call_once, ep.slot(), ROOT_PRIORITY, None)?;
    let m = ok!(ep.recv(), "recv of the call");
    ensure_eq!(m.words, [1, 2, 3, 4, 5], "the call's words");
    ensure_eq!(raw(Sysno::FaultReply, [0; 6]), Err(InvalidState.into()), "fault_reply to a plain call");
    ensure_eq!(
        raw(Sysno::FaultReplyRecv, [ep.slot(), 0, 0, 0, 0, 0]),
        Err(InvalidState.into()),
        "fault_reply_recv holding a plain call (nothing received either)"
    );
    ensure_state(c, State::BlockedReply, "caller after the refused fault replies")?;
    ok!(ipc::reply([0x3c, 0, 0, 0, 0]), "reply to the call, still answerable");
    wait_for_state(c, State::Exited, "caller after the reply")?;
    ensure_ended(c, State::Exited, 0x3c, "caller after the reply")?;

    let t = threads.start("faulter", UD2_THREAD, 0, ROOT_PRIORITY, Some(ep))?;
    let m = ok!(ep.recv(), "recv of the fault");
    ensure_eq!(m.words[fault::VECTOR], 6, "fault vector");
    let cases: [(Sysno, [usize; 6], sys::abi::Error, &str); 5] = [
        (Sysno::FaultReply, [1 << 4, 0, 0, 0, 0, 0], InvalidArgument, "fault_reply, set bit 4"),
        (Sysno::FaultReply, [reply::RIP, 0x0000_8000_0000_0000, 0, 0, 0, 0], InvalidArgument, "non-canonical rip"),
        (Sysno::FaultReply, [reply::RIP, usize::MAX, 0, 0, 0, 0], InvalidArgument, "kernel-half rip"),
        (Sysno::FaultReplyRecv, [SPARE, reply::RIP, 0, 0, 0, 0], InvalidCapability, "fault_reply_recv, empty slot"),
        (Sysno::FaultReplyRecv, [ep.slot(), 1 << 9, 0, 0, 0, 0], InvalidArgument, "fault_reply_recv, set bit 9"),
    ];
    for (number, args, err, what) in cases {
        ensure_eq!(raw(number, args), Err(err.into()), "{what}");
        ensure_state(t, State::BlockedReply, what)?;
    }
    // Answered at last: it resumes at its `ud2` and faults again, and the second fault waits
    // in the endpoint (nobody receives).
    ok!(raw(Sysno::FaultReply, [0; 6]), "fault_reply with nothing to set");
    wait_for_state(t, State::BlockedSend, "faulter after the fault reply (faulted again)")?;
    drop(threads);
    delete(ep.cap())
}
