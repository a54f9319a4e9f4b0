//! Tests of synchronous IPC through Endpoints: `endpoint_create` (charge, refund, errors), the
//! errors of every IPC call, messages between the root task and threads in both directions and
//! whoever waits first, `call` / `reply` / `reply_recv` (a thousand round trips at three server
//! priorities), badges telling clients apart, the one-shot reply right and deferred replies
//! (`reply_save`, `reply_to`), capability transfer through IPC buffers (with messages and with
//! replies), the extra words beyond the registers (up to 64 each way, none with a fault message),
//! priorities, and what deleting an Endpoint or a waiting caller does to the tasks involved.
//!
//! The ABI: `abi::syscall` (`EndpointCreate` to `ReplyTo`, `TaskSetIpcBuffer`), `abi::ipc`,
//! `abi::task::State` (the `Blocked*` states), `sys::ipc`. States are compared as the numbers
//! `task_info` returns, not through `State::from_number`.
//!
//! Threads: [`Threads`] starts threads of this program (in the root task's CSpace and VSpace, on
//! the static stacks of [`threads`](super::threads)) at chosen priorities, and deletes them when
//! dropped, whatever the test's outcome. The root task runs at priority 100. A thread above it runs as soon as it is runnable, so
//! after the syscall that woke it returns, it has run until it blocked or ended; a thread below it
//! runs only while the root task waits. The root task only ever waits where a thread is certain
//! to answer it: tests are laid out so that a kernel bug shows up as a failed check, not a hang.
//! Threads report through statics and their exit status.
//!
//! Every test runs [`isolated`]: threads, endpoints and copies are deleted, and the root Memory's
//! `used` must come back where it was.

use core::sync::atomic::{AtomicUsize, Ordering::SeqCst};

use sys::abi::Error::{
    InsufficientRights, InvalidArgument, InvalidCapability, InvalidState, NoReply, QuotaExceeded, SlotOccupied,
    UnknownSyscall, WouldBlock, WrongKind,
};
use sys::abi::bootcaps::{ROOT_CSPACE, ROOT_DEBUG_CONSOLE, ROOT_MEMORY};
use sys::abi::ipc::MAX_EXTRA_WORDS;
use sys::abi::syscall::Sysno;
use sys::ipc::{self, Endpoint, Extra, IpcBufferPage, Message, Reply, Words};
use sys::task::{self, ROOT_PRIORITY, State, Task, ThreadEntry, exit_thread, root_task};
use sys::{Boot, Cap, Identity, Kind, MemoryInfo, Slot, rights, root};

use super::support::{
    SLOTS, SPARE, delete, ensure_empty, ensure_identity, isolated, memory_copy, root_usage, split_root,
};
use super::threads::Thread;
use crate::harness::{Reason, Test, TestResult, ensure, ensure_eq, fail, ok, reason};

pub const TESTS: &[Test] = &[
    Test::new("endpoint_create_charges_and_refunds", |b| isolated(b, create_charges_and_refunds)),
    Test::new("endpoint_create_errors", |b| isolated(b, create_errors)),
    Test::new("ipc_nonblocking_without_partner", |b| isolated(b, nonblocking_without_partner)),
    Test::new("ipc_capability_errors", |b| isolated(b, capability_errors)),
    Test::new("ipc_thread_waits_in_recv", |b| isolated(b, thread_waits_in_recv)),
    Test::new("ipc_root_waits_in_recv", |b| isolated(b, root_waits_in_recv)),
    Test::new("ipc_thread_waits_in_send", |b| isolated(b, thread_waits_in_send)),
    Test::new("ipc_root_waits_in_send", |b| isolated(b, root_waits_in_send)),
    Test::new("ipc_call_reply_round_trips", |b| isolated(b, call_reply_round_trips)),
    Test::new("ipc_badges_identify_clients", |b| isolated(b, badges_identify_clients)),
    Test::new("ipc_second_call_replaces_reply_right", |b| isolated(b, second_call_replaces_reply_right)),
    Test::new("ipc_deferred_reply", |b| isolated(b, deferred_reply)),
    Test::new("ipc_deferred_reply_to_deleted_caller", |b| isolated(b, deferred_reply_to_deleted_caller)),
    Test::new("ipc_server_exit_answers_no_reply", |b| isolated(b, server_exit_answers_no_reply)),
    Test::new("ipc_server_killed_answers_no_reply", |b| isolated(b, server_killed_answers_no_reply)),
    Test::new("ipc_deleted_reply_cap_answers_no_reply", |b| isolated(b, deleted_reply_cap_answers_no_reply)),
    Test::new("ipc_grant_transfers_capability", |b| isolated(b, grant_transfers_capability)),
    Test::new("ipc_reply_recv_bad_cap_answers_nobody", |b| isolated(b, reply_recv_bad_cap_answers_nobody)),
    Test::new("ipc_higher_priority_receiver_runs_at_once", |b| isolated(b, higher_priority_receiver_runs_at_once)),
    Test::new("ipc_endpoint_delete_wakes_waiters", |b| isolated(b, endpoint_delete_wakes_waiters)),
    Test::new("ipc_delete_caller_awaiting_reply", |b| isolated(b, delete_caller_awaiting_reply)),
    Test::new("ipc_extra_words_call_and_reply", |b| isolated(b, extra_words_call_and_reply)),
    Test::new("ipc_extra_words_need_buffers", |b| isolated(b, words_need_buffers)),
    Test::new("ipc_fault_message_carries_no_words", |b| isolated(b, fault_message_carries_no_words)),
    Test::new("ipc_reply_transfers_capability", |b| isolated(b, reply_transfers_capability)),
    Test::new("ipc_plain_messages_leave_buffers_alone", |b| isolated(b, plain_messages_leave_buffers_alone)),
    Test::new("ipc_bad_extra_refused_whole", |b| isolated(b, bad_extra_refused_whole)),
    Test::new("ipc_replies_carry_words_and_capability", |b| isolated(b, replies_carry_words_and_capability)),
];

// ---------------------------------------------------------------------------------------------
// Threads and task states, shared with the fault tests.
// ---------------------------------------------------------------------------------------------

/// Threads a test may have at once (they share the stacks of [`threads`](super::threads)).
pub const MAX_THREADS: usize = super::threads::STACKS;

/// A priority above the root task's: such a thread runs as soon as it is runnable.
pub const HIGH: usize = ROOT_PRIORITY + 10;

/// A priority below the root task's: such a thread runs only while the root task waits.
pub const LOW: usize = ROOT_PRIORITY / 2;

/// The threads a test started ([`Thread`]s, named in failures); dropping it deletes them (which
/// stops each at once, whatever it was doing) and frees their stacks.
pub struct Threads {
    threads: [Option<Thread>; MAX_THREADS],
}

impl Threads {
    /// No threads yet.
    pub fn new() -> Result<Threads, Reason> {
        Ok(Threads { threads: [const { None }; MAX_THREADS] })
    }

    /// Starts a thread that runs `entry(arg)` at `priority`.
    pub fn spawn(&mut self, name: &str, entry: ThreadEntry, arg: usize, priority: usize) -> Result<Task, Reason> {
        self.start(name, entry, arg, priority, None)
    }

    /// Starts a thread that runs `entry(arg)` at `priority`, with `fault_ep` as its fault
    /// endpoint (set before it starts).
    pub fn start(
        &mut self,
        name: &str,
        entry: ThreadEntry,
        arg: usize,
        priority: usize,
        fault_ep: Option<Endpoint>,
    ) -> Result<Task, Reason> {
        let t = self.prepare(name, entry, arg)?;
        if fault_ep.is_some() {
            ok!(t.set_fault_endpoint(fault_ep), "thread {name}: task_set_fault_endpoint");
        }
        ok!(t.set_priority(root_task(), priority, 0), "thread {name}: task_set_priority({priority})");
        ok!(t.start(), "thread {name}: task_start");
        Ok(t)
    }

    /// Makes an inactive thread that will run `entry(arg)`, with priority 0: the caller sets
    /// what it needs and starts it.
    pub fn prepare(&mut self, name: &str, entry: ThreadEntry, arg: usize) -> Result<Task, Reason> {
        let Some(free) = self.threads.iter_mut().find(|t| t.is_none()) else {
            fail!("thread {name}: a test may have at most {MAX_THREADS} threads");
        };
        let t = match Thread::prepare(entry, arg) {
            Ok(t) => t,
            Err(why) => fail!("thread {name}: {}", why.as_str()),
        };
        let task = t.task();
        *free = Some(t);
        Ok(task)
    }

    /// Deletes `t`, one of these threads, now (and frees its stack).
    pub fn kill(&mut self, t: Task) -> TestResult {
        match self.threads.iter_mut().find(|e| e.as_ref().is_some_and(|e| e.task() == t)).and_then(Option::take) {
            Some(thread) => thread.kill(),
            None => fail!("slot {} is not one of this test's threads", t.slot()),
        }
    }
}

/// The name of state number `n`.
fn state_name(n: usize) -> &'static str {
    const NAMES: [&str; 8] =
        ["Inactive", "Runnable", "Suspended", "Exited", "Faulted", "BlockedSend", "BlockedRecv", "BlockedReply"];
    NAMES.get(n).copied().unwrap_or("undefined")
}

/// The task's state number and detail, as `task_info` returns them (the numbers, so that a state
/// `State::from_number` does not know still reads right).
pub fn task_state(t: Task, what: &str) -> Result<(usize, usize), Reason> {
    let (state, _, _, detail) = ok!(task::task_info(t.slot()), "task_info({what})");
    Ok((state, detail))
}

/// Fails unless the task is in `expected`.
pub fn ensure_state(t: Task, expected: State, what: &str) -> TestResult {
    let (state, detail) = task_state(t, what)?;
    ensure!(
        state == expected as usize,
        "{what}: task_info state {state} ({}, detail {detail}); expected {expected:?}",
        state_name(state)
    );
    Ok(())
}

/// Fails unless the task is in `expected` with `detail` (an exit status or a fault vector).
pub fn ensure_ended(t: Task, expected: State, detail: usize, what: &str) -> TestResult {
    let got = task_state(t, what)?;
    ensure!(
        got == (expected as usize, detail),
        "{what}: task_info (state, detail) = ({} {}, {:#x}); expected ({expected:?}, {detail:#x})",
        got.0,
        state_name(got.0),
        got.1
    );
    Ok(())
}

/// Makes kernel entries (each finishes a bounded step of pending destruction) until the task is
/// in `expected`, or fails after many tries.
pub fn wait_for_state(t: Task, expected: State, what: &str) -> TestResult {
    for _ in 0..10_000 {
        if task_state(t, what)?.0 == expected as usize {
            return Ok(());
        }
        task::yield_now();
    }
    ensure_state(t, expected, what)
}

/// An Endpoint made from the root Memory, in the lowest free slot.
pub fn new_endpoint() -> Result<Endpoint, Reason> {
    Ok(ok!(Endpoint::create(root::memory(), Slot::Auto), "endpoint_create"))
}

/// A copy of `ep` with `mask` and `badge`, in the lowest free slot.
pub fn mint(ep: Endpoint, mask: usize, badge: usize) -> Result<Endpoint, Reason> {
    let cap = ok!(ep.mint(root::cspace(), Slot::Auto, mask, badge), "cap_mint(endpoint, {mask:#x}, badge {badge:#x})");
    Ok(Endpoint::new(cap))
}

/// Packs a capability address and a small number into one thread argument.
const fn pack(slot: usize, n: usize) -> usize {
    slot | n << 16
}

/// The capability address and the number [`pack`] put in `arg`.
const fn unpack(arg: usize) -> (usize, usize) {
    (arg & 0xffff, arg >> 16)
}

/// What a thread stores for "nothing yet".
const NOTHING: usize = usize::MAX;

/// The code a thread stores for a result: 0 for success, else the error code.
fn code<T>(r: &sys::Result<T>) -> usize {
    match r {
        Ok(_) => 0,
        Err(e) => e.code(),
    }
}

/// The exit status of a thread whose IPC call failed with `e`.
fn failed_status(e: sys::Error) -> usize {
    0xe000 + e.code()
}

/// Stores a message in `slots` (badge, then the words).
fn store(slots: &[AtomicUsize; 6], m: &Message) {
    slots[0].store(m.badge, SeqCst);
    for (s, w) in slots[1..].iter().zip(m.words) {
        s.store(w, SeqCst);
    }
}

/// Reads back what [`store`] stored.
fn load(slots: &[AtomicUsize; 6]) -> Message {
    let w = |i: usize| slots[i].load(SeqCst);
    Message::plain(w(0), [w(1), w(2), w(3), w(4), w(5)])
}

/// Resets `slots` to [`NOTHING`].
fn clear(slots: &[AtomicUsize]) {
    for s in slots {
        s.store(NOTHING, SeqCst);
    }
}

/// A message as one thread saw it.
static SEEN: [AtomicUsize; 6] = [const { AtomicUsize::new(NOTHING) }; 6];

/// Result codes threads store (see [`code`]).
static RESULTS: [AtomicUsize; 4] = [const { AtomicUsize::new(NOTHING) }; 4];

const fn words(base: usize) -> Words {
    [base, base + 1, base + 2, base + 3, base + 4]
}

// ---------------------------------------------------------------------------------------------
// endpoint_create
// ---------------------------------------------------------------------------------------------

/// What `endpoint_create` puts in the slot.
const NEW_ENDPOINT: Identity = Identity::new(Kind::Endpoint, rights::ALL, 0);

/// An Endpoint costs one page of the Memory it is made from, refunded when it dies.
fn create_charges_and_refunds(_: &Boot) -> TestResult {
    let start = root_usage()?;
    let ep = new_endpoint()?;
    ensure_identity(ep.cap(), NEW_ENDPOINT, "new endpoint")?;
    ensure_eq!(root_usage()?, MemoryInfo { quota: start.quota, used: start.used + 1 }, "root Memory with an endpoint");

    // A copy keeps it alive; the last capability's deletion refunds the page.
    let copy = mint(ep, rights::WRITE, 5)?;
    ensure_identity(copy.cap(), Identity::new(Kind::Endpoint, rights::WRITE, 5), "badged copy")?;
    delete(ep.cap())?;
    ensure_eq!(root_usage()?.used, start.used + 1, "root Memory used with only the copy left");
    delete(copy.cap())?;
    ensure_eq!(root_usage()?, start, "root Memory after deleting the endpoint");

    // From a split Memory: charged there, and the split refunded whole.
    let m = split_root(3)?;
    let ep = ok!(Endpoint::create(m, Slot::At(SPARE)), "endpoint_create(split Memory, SPARE)");
    ensure_eq!(ep.slot(), SPARE, "slot of the endpoint made at SPARE");
    ensure_eq!(ok!(m.info(), "memory_info(split)"), MemoryInfo { quota: 3, used: 1 }, "split Memory with an endpoint");
    delete(ep.cap())?;
    ensure_eq!(ok!(m.info(), "memory_info(split)"), MemoryInfo { quota: 3, used: 0 }, "split Memory after the delete");
    delete(m.cap())
}

/// `endpoint_create`'s errors: the Memory capability, the slot, the quota; none charges anything.
fn create_errors(_: &Boot) -> TestResult {
    let start = root_usage()?;
    let expect = |memory: usize, dst: usize, err: sys::abi::Error, what: &str| -> TestResult {
        ensure_eq!(ipc::endpoint_create(memory, dst), Err(err.into()), "endpoint_create({what})");
        Ok(())
    };
    expect(ROOT_DEBUG_CONSOLE, Slot::Auto.raw(), WrongKind, "the console as Memory")?;
    expect(ROOT_CSPACE, Slot::Auto.raw(), WrongKind, "the CSpace as Memory")?;
    expect(SPARE, Slot::Auto.raw(), InvalidCapability, "an empty slot as Memory")?;
    expect(0, Slot::Auto.raw(), InvalidCapability, "the null slot as Memory")?;
    expect(SLOTS, Slot::Auto.raw(), InvalidCapability, "a slot past the CSpace as Memory")?;
    expect(ROOT_MEMORY, ROOT_CSPACE, SlotOccupied, "into an occupied slot")?;
    expect(ROOT_MEMORY, 0, InvalidCapability, "into the null slot")?;
    let read_only = memory_copy(rights::READ)?;
    expect(read_only.slot(), Slot::Auto.raw(), InsufficientRights, "a READ-only Memory")?;
    delete(read_only.cap())?;
    ensure_eq!(root_usage()?, start, "root Memory after the refused calls");

    // Quota: a one-page Memory holds one Endpoint, not two.
    let m = split_root(1)?;
    let ep = ok!(Endpoint::create(m, Slot::Auto), "endpoint_create(1-page Memory)");
    expect(m.slot(), Slot::Auto.raw(), QuotaExceeded, "a full 1-page Memory")?;
    ensure_eq!(ok!(m.info(), "memory_info(1-page)"), MemoryInfo { quota: 1, used: 1 }, "full 1-page Memory");
    delete(ep.cap())?;
    let again = ok!(Endpoint::create(m, Slot::Auto), "endpoint_create(1-page Memory, after the refund)");
    delete(again.cap())?;
    delete(m.cap())
}

// ---------------------------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------------------------

/// With no partner, `nb_recv` and `nb_send` answer `WouldBlock` (whatever rights suffice), and
/// `reply` with no call to answer `InvalidState`.
fn nonblocking_without_partner(_: &Boot) -> TestResult {
    let ep = new_endpoint()?;
    ensure_eq!(ep.nb_recv(), Err(WouldBlock.into()), "nb_recv on an empty endpoint");
    ensure_eq!(ep.nb_send(words(1)), Err(WouldBlock.into()), "nb_send with no receiver");
    ensure_eq!(ipc::reply(words(2)), Err(InvalidState.into()), "reply with no call received");
    let reader = mint(ep, rights::READ, 0)?;
    let writer = mint(ep, rights::WRITE, 9)?;
    ensure_eq!(reader.nb_recv(), Err(WouldBlock.into()), "nb_recv through a READ-only copy");
    ensure_eq!(writer.nb_send(words(3)), Err(WouldBlock.into()), "nb_send through a WRITE-only copy");
    // Still nothing queued: a failed nb_send leaves no message behind.
    ensure_eq!(ep.nb_recv(), Err(WouldBlock.into()), "nb_recv after the failed nb_sends");
    delete(writer.cap())?;
    delete(reader.cap())?;
    delete(ep.cap())
}

/// Times the rescuer got the root task out of a wait.
static RESCUES: AtomicUsize = AtomicUsize::new(0);

/// A low-priority thread that runs only if the root task waits: it gives the root task a
/// partner (receives its message, answers its call, sends to its receive) and counts it.
extern "C" fn rescuer(ep: usize) -> ! {
    let ep = Endpoint::at(ep);
    loop {
        if ep.nb_recv().is_ok() {
            RESCUES.fetch_add(1, SeqCst);
            // Answers a call; for a send there is nothing to answer (`InvalidState`).
            let _ = ipc::reply(words(0xdead));
        }
        if ep.nb_send(words(0xdead)).is_ok() {
            RESCUES.fetch_add(1, SeqCst);
        }
    }
}

/// Every IPC call refuses a slot that is empty, out of range or of another kind, and checks the
/// right it needs: WRITE to send (`send`, `nb_send`, `call`), READ to receive (`recv`,
/// `nb_recv`, `reply_recv`). A low-priority rescuer thread ends any wait a missing check would
/// start, and such a wait fails the test.
fn capability_errors(_: &Boot) -> TestResult {
    let ep = new_endpoint()?;
    RESCUES.store(0, SeqCst);
    let mut threads = Threads::new()?;
    threads.spawn("rescuer", rescuer, ep.slot(), 1)?;

    type Op = (&'static str, fn(usize) -> sys::Result<()>);
    let sends: [Op; 3] = [
        ("send", |c| ipc::send(c, words(1))),
        ("nb_send", |c| ipc::nb_send(c, words(1))),
        ("call", |c| ipc::call(c, words(1)).map(drop)),
    ];
    let recvs: [Op; 3] = [
        ("recv", |c| ipc::recv(c).map(drop)),
        ("nb_recv", |c| ipc::nb_recv(c).map(drop)),
        ("reply_recv", |c| ipc::reply_recv(c, words(1)).map(drop)),
    ];
    let reader = mint(ep, rights::READ, 0)?;
    let writer = mint(ep, rights::WRITE, 0)?;
    let neither = mint(ep, rights::EXECUTE | rights::GRANT, 0)?;
    for (name, op) in sends.iter().chain(recvs.iter()) {
        for (slot, err, what) in [
            (0, InvalidCapability, "the null slot"),
            (SPARE, InvalidCapability, "an empty slot"),
            (SLOTS, InvalidCapability, "a slot past the CSpace"),
            (usize::MAX, InvalidCapability, "slot usize::MAX"),
            (ROOT_DEBUG_CONSOLE, WrongKind, "the console"),
            (ROOT_MEMORY, WrongKind, "the root Memory"),
            (neither.slot(), InsufficientRights, "a copy without READ or WRITE"),
        ] {
            ensure_eq!(op(slot), Err(err.into()), "{name} on {what}");
        }
    }
    for (name, op) in sends {
        ensure_eq!(op(reader.slot()), Err(InsufficientRights.into()), "{name} through a READ-only copy");
    }
    for (name, op) in recvs {
        ensure_eq!(op(writer.slot()), Err(InsufficientRights.into()), "{name} through a WRITE-only copy");
    }
    ensure_eq!(RESCUES.load(SeqCst), 0, "times the root task waited and had to be rescued");
    drop(threads);
    for c in [neither, writer, reader, ep] {
        delete(c.cap())?;
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// send and recv, whoever comes first
// ---------------------------------------------------------------------------------------------

/// Exit status of a thread that did what it was meant to.
const DONE: usize = 0x600d;

/// Receives one message on `ep`, stores it in [`SEEN`] and exits with [`DONE`].
extern "C" fn receive_once(ep: usize) -> ! {
    match Endpoint::at(ep).recv() {
        Ok(m) => {
            store(&SEEN, &m);
            exit_thread(DONE)
        }
        Err(e) => exit_thread(failed_status(e)),
    }
}

/// A thread blocks in `recv` first (state BlockedRecv); the root task's `send` then gives it the
/// message with the badge of the capability sent through, and (the thread being of higher
/// priority) it has run to its end by the time `send` returns.
fn thread_waits_in_recv(_: &Boot) -> TestResult {
    let ep = new_endpoint()?;
    let badged = mint(ep, rights::WRITE, 0xb0b)?;
    clear(&SEEN);
    let mut threads = Threads::new()?;
    let t = threads.spawn("receiver", receive_once, ep.slot(), HIGH)?;
    ensure_state(t, State::BlockedRecv, "receiver before the send")?;
    ensure_eq!(load(&SEEN).badge, NOTHING, "receiver's message before the send");

    ok!(badged.send(words(100)), "send(badged endpoint)");
    ensure_ended(t, State::Exited, DONE, "receiver after the send")?;
    ensure_eq!(load(&SEEN), Message::plain(0xb0b, words(100)), "message the receiver got");
    // Nothing is left queued.
    ensure_eq!(ep.nb_recv(), Err(WouldBlock.into()), "nb_recv after the exchange");
    drop(threads);
    delete(badged.cap())?;
    delete(ep.cap())
}

/// Sends `words(200)` then `words(300)` on `ep` (through the badged capability `arg` packs),
/// storing the first send's result in `RESULTS[0]`; exits with [`DONE`].
extern "C" fn send_twice(arg: usize) -> ! {
    let (ep, _) = unpack(arg);
    let ep = Endpoint::at(ep);
    let first = ep.send(words(200));
    RESULTS[0].store(code(&first), SeqCst);
    let second = ep.send(words(300));
    RESULTS[1].store(code(&second), SeqCst);
    exit_thread(DONE)
}

/// The root task blocks in `recv` first; a lower-priority thread, which runs only then, sends.
/// The root task takes the CPU back as soon as the message is delivered.
fn root_waits_in_recv(_: &Boot) -> TestResult {
    let ep = new_endpoint()?;
    let badged = mint(ep, rights::WRITE, 0x5e4d)?;
    clear(&RESULTS);
    let mut threads = Threads::new()?;
    let t = threads.spawn("sender", send_twice, pack(badged.slot(), 0), LOW)?;
    // A lower-priority thread has not run yet.
    ensure_state(t, State::Runnable, "sender before the root task waits")?;

    let m = ok!(ep.recv(), "recv (the root task waits for the sender)");
    ensure_eq!(m, Message::plain(0x5e4d, words(200)), "first message");
    // The sender was preempted on its way out of `send`: runnable, its result not yet stored.
    ensure_state(t, State::Runnable, "sender after the first delivery")?;
    ensure_eq!(RESULTS[0].load(SeqCst), NOTHING, "sender's first result, before it ran again");

    let m = ok!(ep.recv(), "recv (the root task waits again)");
    ensure_eq!(m, Message::plain(0x5e4d, words(300)), "second message");
    ensure_eq!(RESULTS[0].load(SeqCst), 0, "sender's first send result (0: success)");
    drop(threads);
    delete(badged.cap())?;
    delete(ep.cap())
}

/// Sends `words(400)` on `ep`, stores the result in `RESULTS[0]`, exits with [`DONE`].
extern "C" fn send_once(ep: usize) -> ! {
    let r = Endpoint::at(ep).send(words(400));
    RESULTS[0].store(code(&r), SeqCst);
    exit_thread(DONE)
}

/// A thread blocks in `send` first (state BlockedSend); the root task's `nb_recv` takes the
/// message, and the sender's `send` succeeds.
fn thread_waits_in_send(_: &Boot) -> TestResult {
    let ep = new_endpoint()?;
    clear(&RESULTS);
    let mut threads = Threads::new()?;
    let t = threads.spawn("sender", send_once, ep.slot(), HIGH)?;
    ensure_state(t, State::BlockedSend, "sender before the receive")?;
    ensure_eq!(RESULTS[0].load(SeqCst), NOTHING, "sender's result while it waits");

    let m = ok!(ep.nb_recv(), "nb_recv with a sender waiting");
    ensure_eq!(m, Message::plain(0, words(400)), "message received");
    ensure_ended(t, State::Exited, DONE, "sender after the receive")?;
    ensure_eq!(RESULTS[0].load(SeqCst), 0, "sender's send result (0: success)");
    ensure_eq!(ep.nb_recv(), Err(WouldBlock.into()), "nb_recv once the sender is gone");
    drop(threads);
    delete(ep.cap())
}

/// Receives one message on `ep` and sends back its words in reverse order; exits with [`DONE`].
extern "C" fn echo_reversed(ep: usize) -> ! {
    let ep = Endpoint::at(ep);
    let m = match ep.recv() {
        Ok(m) => m,
        Err(e) => exit_thread(failed_status(e)),
    };
    let mut w = m.words;
    w.reverse();
    match ep.send(w) {
        Ok(()) => exit_thread(DONE),
        Err(e) => exit_thread(failed_status(e)),
    }
}

/// The root task blocks in `send` first; a lower-priority thread receives the message (which
/// wakes the root task), and sends it back reversed to the root task's `recv`.
fn root_waits_in_send(_: &Boot) -> TestResult {
    let ep = new_endpoint()?;
    let mut threads = Threads::new()?;
    let t = threads.spawn("echo", echo_reversed, ep.slot(), LOW)?;
    ensure_state(t, State::Runnable, "echo thread before the root task sends")?;

    ok!(ep.send(words(500)), "send (the root task waits for the echo thread)");
    ensure_state(t, State::Runnable, "echo thread after it received")?;
    let m = ok!(ep.recv(), "recv (the root task waits for the echo)");
    ensure_eq!(m, Message::plain(0, [504, 503, 502, 501, 500]), "echoed message");
    drop(threads);
    delete(ep.cap())
}

// ---------------------------------------------------------------------------------------------
// call and reply
// ---------------------------------------------------------------------------------------------

/// The word that stops a server.
const STOP: usize = 0x5709;

/// Round trips per server priority.
const ROUND_TRIPS: usize = 1000;

/// A server: answers each call on the endpoint `arg` packs with its words plus one, until a call
/// whose first word is [`STOP`], which it answers with its words unchanged before it exits with
/// the number of calls served. A call with another badge than the one `arg` packs makes it exit
/// at once with a status above `0xb000`.
extern "C" fn increment_server(arg: usize) -> ! {
    let (ep, badge) = unpack(arg);
    let ep = Endpoint::at(ep);
    let mut served = 0;
    let mut m = match ep.recv() {
        Ok(m) => m,
        Err(e) => exit_thread(failed_status(e)),
    };
    loop {
        if m.badge != badge {
            exit_thread(0xb000 + served);
        }
        if m.words[0] == STOP {
            let _ = ipc::reply(m.words);
            exit_thread(served);
        }
        served += 1;
        m = match ep.reply_recv(m.words.map(|w| w.wrapping_add(1))) {
            Ok(m) => m,
            Err(e) => exit_thread(failed_status(e)),
        };
    }
}

/// `call` / `reply_recv` round trips to a server above, at and below the root task's priority:
/// every reply carries the words of its own call plus one, and the server counts every call.
fn call_reply_round_trips(_: &Boot) -> TestResult {
    let ep = new_endpoint()?;
    let client = mint(ep, rights::WRITE, 0xc1)?;
    for priority in [HIGH, ROOT_PRIORITY, LOW] {
        let mut threads = Threads::new()?;
        let server = threads.spawn("server", increment_server, pack(ep.slot(), 0xc1), priority)?;
        for i in 0..ROUND_TRIPS {
            let w = [i, i.wrapping_mul(3), !i, usize::MAX - 1, i << 20];
            let r = ok!(client.call(w), "call {i} (server priority {priority})");
            ensure_eq!(r, w.map(|x| x.wrapping_add(1)), "reply {i} (server priority {priority})");
        }
        let r = ok!(client.call([STOP, 1, 2, 3, 4]), "call STOP (server priority {priority})");
        ensure_eq!(r, [STOP, 1, 2, 3, 4], "reply to STOP (server priority {priority})");
        if priority == LOW {
            // Below the root task, the server has not yet run on to its exit.
            ensure_state(server, State::Runnable, "low-priority server after its last reply")?;
        } else {
            // At the root task's priority the server runs only when the root task yields.
            if priority == ROOT_PRIORITY {
                task::yield_now();
            }
            ensure_ended(server, State::Exited, ROUND_TRIPS, "server (calls served)")?;
        }
    }
    delete(client.cap())?;
    delete(ep.cap())
}

/// Calls per client in the badge test.
const CLIENT_CALLS: usize = 10;

/// A client: calls the endpoint `arg` packs [`CLIENT_CALLS`] times with `[id, i, 0, 0, 0]`
/// (`id`, also packed, is the badge it was given); expects `[id * 100 + i, ...]` back; exits with
/// the number of wrong replies.
extern "C" fn badge_client(arg: usize) -> ! {
    let (ep, id) = unpack(arg);
    let ep = Endpoint::at(ep);
    let mut wrong = 0;
    for i in 0..CLIENT_CALLS {
        match ep.call([id, i, 0, 0, 0]) {
            Ok(r) if r == [id * 100 + i, id, i, 0, 0] => {}
            Ok(_) => wrong += 1,
            Err(e) => exit_thread(failed_status(e)),
        }
    }
    exit_thread(wrong)
}

/// Two clients call through copies of one endpoint minted with badges 1 and 2; the server (the
/// root task) tells them apart by the badge alone, and answers each with a reply only it
/// expects.
fn badges_identify_clients(_: &Boot) -> TestResult {
    let ep = new_endpoint()?;
    let one = mint(ep, rights::WRITE, 1)?;
    let two = mint(ep, rights::WRITE, 2)?;
    ensure_identity(one.cap(), Identity::new(Kind::Endpoint, rights::WRITE, 1), "copy minted with badge 1")?;
    ensure_identity(two.cap(), Identity::new(Kind::Endpoint, rights::WRITE, 2), "copy minted with badge 2")?;
    let mut threads = Threads::new()?;
    // The clients are of higher priority: each runs until it waits in `call`.
    let c1 = threads.spawn("client 1", badge_client, pack(one.slot(), 1), HIGH)?;
    let c2 = threads.spawn("client 2", badge_client, pack(two.slot(), 2), HIGH)?;
    ensure_state(c1, State::BlockedSend, "client 1 before the server receives")?;
    ensure_state(c2, State::BlockedSend, "client 2 before the server receives")?;

    let mut next = [0usize; 3];
    for n in 0..2 * CLIENT_CALLS {
        // Both clients wait whenever the root task receives: it never waits itself.
        let m = ok!(ep.nb_recv(), "nb_recv {n} (a client must be waiting)");
        ensure!(m.badge == 1 || m.badge == 2, "message {n}: badge {:#x}, expected 1 or 2", m.badge);
        ensure_eq!(m.words[0], m.badge, "message {n}: the client's own id against its badge");
        ensure_eq!(m.words[1], next[m.badge], "message {n}: call number of client {}", m.badge);
        // Calls alternate: the client just answered queues behind the other one.
        ensure_eq!(m.badge, 1 + n % 2, "message {n}: which client (FIFO order)");
        next[m.badge] += 1;
        ok!(ipc::reply([m.badge * 100 + m.words[1], m.badge, m.words[1], 0, 0]), "reply {n}");
    }
    ensure_eq!(next, [0, CLIENT_CALLS, CLIENT_CALLS], "calls received from clients 1 and 2");
    ensure_ended(c1, State::Exited, 0, "client 1 (wrong replies)")?;
    ensure_ended(c2, State::Exited, 0, "client 2 (wrong replies)")?;
    drop(threads);
    for c in [two, one, ep] {
        delete(c.cap())?;
    }
    Ok(())
}

/// Calls the endpoint `arg` packs once with `[id, ...]` (`id` packed too), stores the reply's
/// first word in `RESULTS[id]`, exits with [`DONE`].
extern "C" fn call_once(arg: usize) -> ! {
    let (ep, id) = unpack(arg);
    match Endpoint::at(ep).call([id, 0, 0, 0, 0]) {
        Ok(r) => {
            if let Some(s) = RESULTS.get(id) {
                s.store(r[0], SeqCst);
            }
            exit_thread(DONE)
        }
        Err(e) => exit_thread(failed_status(e)),
    }
}

/// The reply right a task holds is one-shot and single: receiving call B while call A is
/// unanswered replaces A's right with B's, and A, which nothing can answer now, is woken with
/// `NoReply`. `reply` answers B, and a second `reply` finds nothing to answer. (A server that
/// means to answer A later saves the right first: see [`deferred_reply`].)
fn second_call_replaces_reply_right(_: &Boot) -> TestResult {
    let ep = new_endpoint()?;
    clear(&RESULTS);
    let mut threads = Threads::new()?;
    let a = threads.spawn("caller A", call_once, pack(ep.slot(), 1), HIGH)?;
    let b = threads.spawn("caller B", call_once, pack(ep.slot(), 2), HIGH)?;

    let m = ok!(ep.nb_recv(), "nb_recv of call A");
    ensure_eq!(m.words[0], 1, "first call received (A)");
    ensure_state(a, State::BlockedReply, "A after its call was received")?;
    ensure_state(b, State::BlockedSend, "B while A's call is held")?;
    let m = ok!(ep.nb_recv(), "nb_recv of call B");
    ensure_eq!(m.words[0], 2, "second call received (B)");
    // A outranks the root task: woken, it ran to its end before `nb_recv` returned.
    ensure_ended(a, State::Exited, failed_status(NoReply.into()), "A after B's call replaced its reply right")?;
    ensure_eq!(RESULTS[1].load(SeqCst), NOTHING, "reply A got");
    ensure_state(b, State::BlockedReply, "B after its call was received")?;

    ok!(ipc::reply([0xbb, 0, 0, 0, 0]), "reply (answers B)");
    ensure_ended(b, State::Exited, DONE, "B after the reply")?;
    ensure_eq!(RESULTS[2].load(SeqCst), 0xbb, "reply B got");
    ensure_eq!(ipc::reply([0xaa, 0, 0, 0, 0]), Err(InvalidState.into()), "second reply (A's right is gone)");
    ensure_eq!(RESULTS[1].load(SeqCst), NOTHING, "reply A got, after the refused reply");
    drop(threads);
    delete(ep.cap())
}

/// `reply_save` moves a reply right into a Reply capability, so a server can take call B before
/// it answers call A, and answer them in any order: each Reply capability answers its own caller
/// once, and is used up. Reply capabilities move but never copy.
fn deferred_reply(_: &Boot) -> TestResult {
    let ep = new_endpoint()?;
    clear(&RESULTS);
    ensure_eq!(Reply::save(Slot::Auto), Err(InvalidState.into()), "reply_save with no call received");
    let mut threads = Threads::new()?;
    let a = threads.spawn("caller A", call_once, pack(ep.slot(), 1), HIGH)?;
    let b = threads.spawn("caller B", call_once, pack(ep.slot(), 2), HIGH)?;

    let m = ok!(ep.nb_recv(), "nb_recv of call A");
    ensure_eq!(m.words[0], 1, "first call received (A)");
    let ra = ok!(Reply::save(Slot::Auto), "reply_save (A)");
    ensure_identity(ra.cap(), Identity::new(Kind::Reply, rights::ALL, 0), "saved reply right of A")?;
    ensure_state(a, State::BlockedReply, "A after its reply right was saved")?;
    // The right left the root task: a plain reply has nothing to answer.
    ensure_eq!(ipc::reply(words(0)), Err(InvalidState.into()), "reply after reply_save");
    ensure_eq!(Reply::save(Slot::Auto), Err(InvalidState.into()), "second reply_save of the same call");
    // One-shot: no copies, no mints.
    let copy = ra.copy(root::cspace(), Slot::Auto, rights::ALL);
    ensure_eq!(copy, Err(InvalidArgument.into()), "cap_copy of a Reply capability");
    let minted = ra.mint(root::cspace(), Slot::Auto, rights::ALL, 0);
    ensure_eq!(minted, Err(InvalidArgument.into()), "cap_mint of a Reply capability");

    let m = ok!(ep.nb_recv(), "nb_recv of call B (while A's reply is saved)");
    ensure_eq!(m.words[0], 2, "second call received (B)");
    let rb = ok!(Reply::save(Slot::Auto), "reply_save (B)");
    ensure_state(a, State::BlockedReply, "A after B's call was received")?;

    // B first, then A: out of order.
    ok!(rb.reply([0xb2, 0, 0, 0, 0]), "reply_to(B)");
    ensure_ended(b, State::Exited, DONE, "B after reply_to")?;
    ensure_eq!(RESULTS[2].load(SeqCst), 0xb2, "reply B got");
    ensure_empty(rb.cap(), "B's Reply capability after use")?;
    ensure_eq!(rb.reply(words(0)), Err(InvalidCapability.into()), "reply_to through the used-up slot");
    ensure_state(a, State::BlockedReply, "A after B was answered")?;

    // A Reply capability can move; it answers from its new slot.
    let moved = Reply::new(ok!(ra.move_to(root::cspace(), Slot::At(SPARE)), "cap_move(A's Reply, SPARE)"));
    ensure_eq!(ipc::reply_to(ep.slot(), words(0)), Err(WrongKind.into()), "reply_to through an Endpoint");
    ok!(moved.reply([0xa1, 0, 0, 0, 0]), "reply_to(A) from the moved capability");
    ensure_ended(a, State::Exited, DONE, "A after reply_to")?;
    ensure_eq!(RESULTS[1].load(SeqCst), 0xa1, "reply A got");
    ensure_empty(moved.cap(), "A's Reply capability after use")?;
    drop(threads);
    delete(ep.cap())
}

/// A caller deleted while its reply right is saved never runs again, even when the Reply
/// capability answers it afterwards; everything is refunded once the Reply capability is gone.
fn deferred_reply_to_deleted_caller(_: &Boot) -> TestResult {
    let ep = new_endpoint()?;
    clear(&RESULTS);
    let mut threads = Threads::new()?;
    let c = threads.spawn("caller", call_once, pack(ep.slot(), 1), HIGH)?;
    ok!(ep.nb_recv(), "nb_recv of the call");
    let r = ok!(Reply::save(Slot::Auto), "reply_save");
    threads.kill(c)?;
    // The Reply capability goes with its caller: the slot is empty now, and nothing may run.
    let answered = r.reply([0xc1, 0, 0, 0, 0]);
    ensure!(
        matches!(answered, Err(sys::Error::Abi(InvalidCapability))),
        "reply_to a deleted caller: {answered:?}, expected InvalidCapability (the Reply capability is gone)"
    );
    ensure_eq!(RESULTS[1].load(SeqCst), NOTHING, "reply the deleted caller stored (it must not have run)");
    if r.identify().is_ok_and(|id| !id.is_null()) {
        delete(r.cap())?;
    }
    drop(threads);
    delete(ep.cap())
}

/// A server that takes a call and exits without answering: the caller's `call` fails with
/// `NoReply` (it does not wait for ever), and the server did get the message.
fn server_exit_answers_no_reply(_: &Boot) -> TestResult {
    let ep = new_endpoint()?;
    clear(&SEEN);
    let mut threads = Threads::new()?;
    // Below the root task: it runs only once the root task waits in `call`.
    let s = threads.spawn("server that exits", receive_once, ep.slot(), LOW)?;
    ensure_eq!(ep.call([0x51, 1, 2, 3, 4]), Err(NoReply.into()), "call to a server that exits unanswering");
    ensure_ended(s, State::Exited, DONE, "server after it exited")?;
    ensure_eq!(load(&SEEN), Message::plain(0, [0x51, 1, 2, 3, 4]), "message the server got");
    drop(threads);
    delete(ep.cap())
}

/// Receives one message on `ep` and then waits on it again, holding the reply right for good.
extern "C" fn receive_and_hold(ep: usize) -> ! {
    let ep = Endpoint::at(ep);
    match ep.recv().and_then(|_| ep.recv()) {
        Ok(_) => exit_thread(DONE),
        Err(e) => exit_thread(failed_status(e)),
    }
}

/// A server deleted while it holds a caller's reply right: the caller waits until then (not a
/// moment less), and is then woken with `NoReply`.
fn server_killed_answers_no_reply(_: &Boot) -> TestResult {
    let ep = new_endpoint()?;
    clear(&RESULTS);
    let mut threads = Threads::new()?;
    let s = threads.spawn("server that holds the right", receive_and_hold, ep.slot(), HIGH)?;
    ensure_state(s, State::BlockedRecv, "server before the call")?;
    let c = threads.spawn("caller", call_once, pack(ep.slot(), 1), HIGH)?;
    ensure_state(s, State::BlockedRecv, "server waiting again, the reply right held")?;
    ensure_state(c, State::BlockedReply, "caller while the server lives")?;
    ok!(task::task_yield(), "task_yield");
    ensure_state(c, State::BlockedReply, "caller while the server lives, after a yield")?;
    threads.kill(s)?;
    ensure_ended(c, State::Exited, failed_status(NoReply.into()), "caller after its server was deleted")?;
    ensure_eq!(RESULTS[1].load(SeqCst), NOTHING, "reply the caller got");
    drop(threads);
    delete(ep.cap())
}

/// A saved reply right moves with its Reply capability and keeps its caller waiting; deleted
/// unused, it wakes the caller with `NoReply`.
fn deleted_reply_cap_answers_no_reply(_: &Boot) -> TestResult {
    let ep = new_endpoint()?;
    clear(&RESULTS);
    let mut threads = Threads::new()?;
    let c = threads.spawn("caller", call_once, pack(ep.slot(), 2), HIGH)?;
    ok!(ep.nb_recv(), "nb_recv of the call");
    let r = ok!(Reply::save(Slot::Auto), "reply_save");
    let moved = ok!(r.cap().move_to(root::cspace(), Slot::At(SPARE)), "cap_move of the Reply capability");
    ensure_state(c, State::BlockedReply, "caller after its Reply capability moved")?;
    delete(moved)?;
    ensure_ended(c, State::Exited, failed_status(NoReply.into()), "caller after its Reply capability was deleted")?;
    ensure_eq!(RESULTS[2].load(SeqCst), NOTHING, "reply the caller got");
    drop(threads);
    delete(ep.cap())
}

/// `reply_recv` checks the endpoint capability before it answers: with an empty slot or a
/// WRITE-only copy it fails and the caller still waits for its reply; `reply` then answers it,
/// and a second `reply` finds nothing to answer.
fn reply_recv_bad_cap_answers_nobody(_: &Boot) -> TestResult {
    let ep = new_endpoint()?;
    let writer = mint(ep, rights::WRITE, 0)?;
    clear(&RESULTS);
    let mut threads = Threads::new()?;
    let c = threads.spawn("caller", call_once, pack(ep.slot(), 3), HIGH)?;
    let m = ok!(ep.nb_recv(), "nb_recv of the call");
    ensure_eq!(m, Message::plain(0, [3, 0, 0, 0, 0]), "call received");

    ensure_eq!(ipc::reply_recv(SPARE, words(1)), Err(InvalidCapability.into()), "reply_recv(empty slot)");
    ensure_state(c, State::BlockedReply, "caller after reply_recv on an empty slot")?;
    ensure_eq!(writer.reply_recv(words(1)), Err(InsufficientRights.into()), "reply_recv(WRITE-only copy)");
    ensure_state(c, State::BlockedReply, "caller after reply_recv on a WRITE-only copy")?;
    ensure_eq!(RESULTS[3].load(SeqCst), NOTHING, "caller's reply before the real one");

    ok!(ipc::reply([0x33, 0, 0, 0, 0]), "reply");
    ensure_ended(c, State::Exited, DONE, "caller after the reply")?;
    ensure_eq!(RESULTS[3].load(SeqCst), 0x33, "reply the caller got");
    ensure_eq!(ipc::reply(words(0)), Err(InvalidState.into()), "second reply");
    drop(threads);
    delete(writer.cap())?;
    delete(ep.cap())
}

// ---------------------------------------------------------------------------------------------
// Capability transfer
// ---------------------------------------------------------------------------------------------

/// The root task's IPC buffer in the transfer test.
static ROOT_BUFFER: IpcBufferPage = IpcBufferPage::new();

/// The receiving thread's IPC buffer in the transfer test.
static THREAD_BUFFER: IpcBufferPage = IpcBufferPage::new();

/// Messages the transfer test sends.
const TRANSFERS: usize = 4;

/// The Extra that asks for the capability the sender's buffer names.
const WITH_CAP: Extra = Extra { words: 0, cap: true };

/// Receives [`TRANSFERS`] messages on `ep`; after each stores where the capability that came with
/// it landed (0: none) in `RESULTS[i]`; exits with [`DONE`].
extern "C" fn receive_caps(ep: usize) -> ! {
    let ep = Endpoint::at(ep);
    for slot in RESULTS.iter().take(TRANSFERS) {
        match ep.recv() {
            Ok(m) => slot.store(THREAD_BUFFER.received(m.extra).map_or(0, |c| c.slot()), SeqCst),
            Err(e) => exit_thread(failed_status(e)),
        }
    }
    exit_thread(DONE)
}

/// A send through an Endpoint capability with GRANT whose Extra asks for it carries a copy of
/// the capability the sender's IPC buffer names (same rights and badge, a child in the derivation
/// tree) to where the receiver's buffer says; without GRANT, when the receiver refuses, or when
/// the Extra does not ask (a plain send, the capability still named), the message passes alone.
fn grant_transfers_capability(_: &Boot) -> TestResult {
    let ep = new_endpoint()?;
    let other = new_endpoint()?;
    let gift = mint(other, rights::READ | rights::WRITE, 0x99)?;
    let granting = mint(ep, rights::WRITE | rights::GRANT, 0)?;
    let plain = mint(ep, rights::WRITE, 0)?;
    clear(&RESULTS);
    ROOT_BUFFER.set_send_cap(Some(gift.cap()));
    THREAD_BUFFER.set_recv_slot(Some(Slot::Auto));
    ok!(root_task().set_ipc_buffer(Some(&ROOT_BUFFER)), "task_set_ipc_buffer(root task)");
    let result = (|| {
        let mut threads = Threads::new()?;
        let t = threads.prepare("receiver", receive_caps, ep.slot())?;
        ok!(t.set_ipc_buffer(Some(&THREAD_BUFFER)), "task_set_ipc_buffer(receiver)");
        ok!(t.set_priority(root_task(), HIGH, 0), "task_set_priority(receiver)");
        ok!(t.start(), "task_start(receiver)");

        ok!(granting.send_with(words(1), WITH_CAP), "send with GRANT");
        let landed = RESULTS[0].load(SeqCst);
        ensure!(landed != 0 && landed != NOTHING, "slot the granted capability landed in: {landed:#x}");
        ensure_identity(
            Cap::new(landed),
            Identity::new(Kind::Endpoint, rights::READ | rights::WRITE, 0x99),
            "capability received",
        )?;

        ok!(plain.send_with(words(2), WITH_CAP), "send without GRANT");
        ensure_eq!(RESULTS[1].load(SeqCst), 0, "capability received through a send without GRANT");

        ok!(granting.send(words(3)), "plain send with GRANT");
        ensure_eq!(RESULTS[2].load(SeqCst), 0, "capability received through a plain send");

        THREAD_BUFFER.set_recv_slot(None);
        ok!(granting.send_with(words(4), WITH_CAP), "send with GRANT to a receiver that refuses capabilities");
        ensure_eq!(RESULTS[3].load(SeqCst), 0, "capability received by a receiver that refuses them");
        ensure_ended(t, State::Exited, DONE, "receiver")?;

        // The received capability is a child of the one sent: revoking that deletes it.
        ok!(gift.revoke(), "cap_revoke(gift)");
        ensure_empty(Cap::new(landed), "received capability after the gift was revoked")?;
        Ok(())
    })();
    let reset = root_task().set_ipc_buffer(None);
    ROOT_BUFFER.set_send_cap(None);
    result?;
    ok!(reset, "task_set_ipc_buffer(root task, None)");
    for c in [plain, granting, gift, other, ep] {
        delete(c.cap())?;
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Priorities
// ---------------------------------------------------------------------------------------------

/// Receives forever on the endpoint `arg` packs, storing each message's first word in
/// `RESULTS[0]`; with a nonzero packed `ack` slot, then sends the word back on it.
extern "C" fn record_forever(arg: usize) -> ! {
    let (ep, ack) = unpack(arg);
    let ep = Endpoint::at(ep);
    loop {
        match ep.recv() {
            Ok(m) => {
                RESULTS[0].store(m.words[0], SeqCst);
                if ack != 0 && Endpoint::at(ack).send(m.words).is_err() {
                    exit_thread(0xe0);
                }
            }
            Err(e) => exit_thread(failed_status(e)),
        }
    }
}

/// A receiver of higher priority than the sender runs the moment a `send` reaches it: its effect
/// is visible when `send` returns, and it already waits again. One of lower priority does not:
/// it runs only once the root task waits.
fn higher_priority_receiver_runs_at_once(_: &Boot) -> TestResult {
    let ep = new_endpoint()?;
    clear(&RESULTS);
    {
        let mut threads = Threads::new()?;
        let t = threads.spawn("high receiver", record_forever, pack(ep.slot(), 0), ROOT_PRIORITY + 50)?;
        for k in 1..=5 {
            ensure_state(t, State::BlockedRecv, "high receiver before a send")?;
            ok!(ep.send(words(k)), "send {k}");
            ensure_eq!(RESULTS[0].load(SeqCst), k, "word the high receiver stored, right after send {k}");
        }
    }
    let ack = new_endpoint()?;
    clear(&RESULTS);
    {
        let mut threads = Threads::new()?;
        let t = threads.spawn("low receiver", record_forever, pack(ep.slot(), ack.slot()), LOW)?;
        // It has not even reached its first `recv`: the root task waits in `send` for it.
        ok!(ep.send(words(1)), "first send to the low receiver");
        ensure_eq!(RESULTS[0].load(SeqCst), NOTHING, "word the low receiver stored, right after send 1");
        let m = ok!(ack.recv(), "recv of the first ack");
        ensure_eq!(m.words[0], 1, "first ack");
        for k in 2..=5 {
            // The receiver was preempted on its way back to `recv`: the root task's `send` waits
            // until it gets there, and returns as soon as it has taken the message.
            ok!(ep.send(words(k)), "send {k}");
            ensure_state(t, State::Runnable, "low receiver right after send")?;
            ensure_eq!(RESULTS[0].load(SeqCst), k - 1, "word the low receiver stored, right after send {k}");
            let m = ok!(ack.recv(), "recv of ack {k} (the root task waits for the low receiver)");
            ensure_eq!(m.words[0], k, "ack {k}");
            ensure_eq!(RESULTS[0].load(SeqCst), k, "word the low receiver stored, after its ack");
        }
    }
    delete(ack.cap())?;
    delete(ep.cap())
}

// ---------------------------------------------------------------------------------------------
// Deleting what IPC waits on
// ---------------------------------------------------------------------------------------------

/// Waits on the endpoint `arg` packs in the operation it also packs (0 `recv`, 1 `send`, 2
/// `call`) and exits with the result's error code (0 for success).
extern "C" fn wait_and_report(arg: usize) -> ! {
    let (ep, op) = unpack(arg);
    let ep = Endpoint::at(ep);
    let r = match op {
        0 => ep.recv().map(drop),
        1 => ep.send(words(1)),
        _ => ep.call(words(2)).map(drop),
    };
    exit_thread(code(&r))
}

/// Deleting the last capability to an Endpoint wakes every task waiting in it (receivers,
/// senders, callers) with `InvalidCapability`.
fn endpoint_delete_wakes_waiters(_: &Boot) -> TestResult {
    let receive = new_endpoint()?;
    let send = new_endpoint()?;
    let mut threads = Threads::new()?;
    let r = threads.spawn("receiver", wait_and_report, pack(receive.slot(), 0), HIGH)?;
    let s = threads.spawn("sender", wait_and_report, pack(send.slot(), 1), HIGH)?;
    let c = threads.spawn("caller", wait_and_report, pack(send.slot(), 2), HIGH)?;
    ensure_state(r, State::BlockedRecv, "receiver before the delete")?;
    ensure_state(s, State::BlockedSend, "sender before the delete")?;
    ensure_state(c, State::BlockedSend, "caller before the delete")?;

    // A copy going leaves the Endpoint, and its waiters, alone.
    let copy = mint(receive, rights::ALL, 0)?;
    delete(copy.cap())?;
    ensure_state(r, State::BlockedRecv, "receiver after a copy was deleted")?;

    delete(receive.cap())?;
    delete(send.cap())?;
    let code = InvalidCapability.code();
    for (t, what) in [(r, "receiver"), (s, "sender"), (c, "caller")] {
        wait_for_state(t, State::Exited, what)?;
        ensure_ended(t, State::Exited, code, what)?;
    }
    Ok(())
}

/// Deleting a caller while the root task holds its reply right takes the right away: `reply`
/// then answers `InvalidState`.
fn delete_caller_awaiting_reply(_: &Boot) -> TestResult {
    let ep = new_endpoint()?;
    let mut threads = Threads::new()?;
    let c = threads.spawn("caller", call_once, pack(ep.slot(), 0), HIGH)?;
    ok!(ep.nb_recv(), "nb_recv of the call");
    ensure_state(c, State::BlockedReply, "caller after its call was received")?;
    threads.kill(c)?;
    ensure_eq!(ipc::reply(words(7)), Err(InvalidState.into()), "reply to a deleted caller");
    drop(threads);
    delete(ep.cap())
}

// ---------------------------------------------------------------------------------------------
// Extra words, and what replies carry
// ---------------------------------------------------------------------------------------------

/// The words server's IPC buffer.
static SERVER_BUFFER: IpcBufferPage = IpcBufferPage::new();

/// The IPC buffer of the calling, or faulting, thread in the tests below.
static CLIENT_BUFFER: IpcBufferPage = IpcBufferPage::new();

/// Names no capability to send, refuses capabilities.
fn reset_buffer(b: &IpcBufferPage) {
    b.set_send_cap(None);
    b.set_recv_slot(None);
}

/// Runs `body` with [`ROOT_BUFFER`] as the root task's IPC buffer (reset first: sending nothing,
/// refusing capabilities), then takes the buffer away and resets it, whatever the outcome.
fn with_root_buffer(body: impl FnOnce() -> TestResult) -> TestResult {
    reset_buffer(&ROOT_BUFFER);
    ok!(root_task().set_ipc_buffer(Some(&ROOT_BUFFER)), "task_set_ipc_buffer(root task)");
    let result = body();
    let reset = root_task().set_ipc_buffer(None);
    reset_buffer(&ROOT_BUFFER);
    result?;
    ok!(reset, "task_set_ipc_buffer(root task, None)");
    Ok(())
}

/// Starts a thread that runs `entry(arg)` at `priority`, with `buffer` as its IPC buffer and
/// `fault_ep` as its fault endpoint (both set before it starts).
fn spawn_with_buffer(
    threads: &mut Threads,
    name: &str,
    (entry, arg): (ThreadEntry, usize),
    priority: usize,
    buffer: &'static IpcBufferPage,
    fault_ep: Option<Endpoint>,
) -> Result<Task, Reason> {
    let t = threads.prepare(name, entry, arg)?;
    ok!(t.set_ipc_buffer(Some(buffer)), "thread {name}: task_set_ipc_buffer");
    if fault_ep.is_some() {
        ok!(t.set_fault_endpoint(fault_ep), "thread {name}: task_set_fault_endpoint");
    }
    ok!(t.set_priority(root_task(), priority, 0), "thread {name}: task_set_priority({priority})");
    ok!(t.start(), "thread {name}: task_start");
    Ok(t)
}

/// Extra word `i` of the pattern named `seed`: different in every word and for every seed, so
/// that a word lost, shifted or taken from another message shows.
const fn pattern(seed: u64, i: usize) -> u64 {
    seed.rotate_left(i as u32) ^ (i as u64 + 1).wrapping_mul(0x9e37_79b9_7f4a_7c15)
}

/// All [`MAX_EXTRA_WORDS`] words of the pattern `seed`.
fn patterned(seed: u64) -> [u64; MAX_EXTRA_WORDS] {
    core::array::from_fn(|i| pattern(seed, i))
}

/// What the words server (and the faulting thread) answer for word `w` received at index `i`.
const fn transform(w: u64, i: usize) -> u64 {
    !w.rotate_left(13) ^ i as u64
}

/// `got[..len]` must be `expected[..len]`, word by word.
fn ensure_words(
    got: &[u64; MAX_EXTRA_WORDS],
    expected: &[u64; MAX_EXTRA_WORDS],
    len: usize,
    side: &str,
    what: &str,
) -> TestResult {
    for i in 0..len {
        ensure!(got[i] == expected[i], "{side} ({what}): extra word {i} is {:#x}, expected {:#x}", got[i], expected[i]);
    }
    Ok(())
}

/// Status the words server answers when its Extra did not bring the expected number of words.
const BAD_LEN: usize = 0x2000;

/// Status the words server answers when extra word `i` was wrong: `BAD_WORD + i`.
const BAD_WORD: usize = 0x1000;

/// An Extra that says a capability came: what reads `received_slot` as it is.
const CAP_CAME: Extra = Extra { words: 0, cap: true };

/// The Extra as a number (`rax`'s high half), for threads to report in an atomic.
fn extra_code(e: Extra) -> usize {
    (e.to_rax() >> Extra::SHIFT) as usize
}

/// A server with [`SERVER_BUFFER`] as its IPC buffer, answering calls on `ep` with `reply_recv`.
/// A call's words are `[seed, expected_len, reply_len, send_cap, plain]`: the server checks that its
/// Extra brought `expected_len` extra words, those of the pattern `seed`; it answers
/// `[status, words received, 0, 0, 0]` (status 0, or [`BAD_LEN`], or [`BAD_WORD`] + the first
/// wrong word), with all [`MAX_EXTRA_WORDS`] received words (0 past those received)
/// [`transform`]ed in its buffer, the first `reply_len` of them sent, and `send_cap` (0: none);
/// with `plain` not 0 it names `send_cap` but sends nothing beyond the registers.
extern "C" fn words_server(ep: usize) -> ! {
    let ep = Endpoint::at(ep);
    let mut m = match ep.recv() {
        Ok(m) => m,
        Err(e) => exit_thread(failed_status(e)),
    };
    loop {
        let [seed, expected, reply_len, cap, plain] = m.words;
        let (got, n) = SERVER_BUFFER.received_words(m.extra);
        let status = if n != expected {
            BAD_LEN
        } else {
            (0..n).find(|&i| got[i] != pattern(seed as u64, i)).map_or(0, |i| BAD_WORD + i)
        };
        let answer: [u64; MAX_EXTRA_WORDS] = core::array::from_fn(|i| transform(got[i], i));
        SERVER_BUFFER.set_words(&answer);
        SERVER_BUFFER.set_send_cap((cap != 0).then(|| Cap::new(cap)));
        let extra =
            if plain != 0 { Extra::NONE } else { Extra { words: reply_len.min(MAX_EXTRA_WORDS) as u8, cap: cap != 0 } };
        m = match ep.reply_recv_with([status, n, 0, 0, 0], extra) {
            Ok(m) => m,
            Err(e) => exit_thread(failed_status(e)),
        };
    }
}

/// Calls the words server through `ep` with the root task's buffer holding the pattern `seed`,
/// the first `send_len` of them sent, asking for `reply_len` words back and a copy of `cap` (0:
/// none); returns the reply. A call with `send_len` 0 is a plain one (no Extra).
fn call_words_server(
    ep: Endpoint,
    seed: u64,
    send_len: u8,
    reply_len: usize,
    cap: usize,
    what: &str,
) -> Result<Message, Reason> {
    ROOT_BUFFER.set_words(&patterned(seed));
    let words = [seed as usize, usize::from(send_len), reply_len, cap, 0];
    Ok(ok!(ep.call_with(words, Extra::words(send_len)), "call ({what})"))
}

/// A round trip to the words server ([`call_words_server`]), checked on both sides: the server
/// got `send_len` words of the pattern `seed`, and the root task `reply_len` words, each the
/// transform of the word the server received at that index (0 past those sent).
fn words_round_trip(ep: Endpoint, seed: u64, send_len: u8, reply_len: u8, what: &str) -> TestResult {
    let r = call_words_server(ep, seed, send_len, reply_len.into(), 0, what)?;
    let sent = usize::from(send_len);
    ensure_eq!((r.words[0], r.words[1]), (0, sent), "server's check (status, words received) ({what})");
    ensure_eq!(r.extra, Extra::words(reply_len), "the reply's Extra ({what})");
    let (got, n) = ROOT_BUFFER.received_words(r.extra);
    let expected: [u64; MAX_EXTRA_WORDS] =
        core::array::from_fn(|i| transform(if i < sent { pattern(seed, i) } else { 0 }, i));
    ensure_words(&got, &expected, n, "words the reply brought", what)
}

/// A call carries the first `extra.words` words of the caller's buffer into the server's, and the
/// reply the first of the server's into the caller's: all 64, none (a plain message both ways),
/// a few. With the server above the root task (it waits in `recv` first) and below it (the call
/// waits for it).
fn extra_words_call_and_reply(_: &Boot) -> TestResult {
    let ep = new_endpoint()?;
    reset_buffer(&SERVER_BUFFER);
    with_root_buffer(|| {
        for priority in [HIGH, LOW] {
            let mut threads = Threads::new()?;
            spawn_with_buffer(&mut threads, "server", (words_server, ep.slot()), priority, &SERVER_BUFFER, None)?;
            let mut seed = 0x5eed_0000 + priority as u64;
            for (send_len, reply_len) in [(64, 64), (0, 0), (64, 64), (1, 64), (5, 7), (0, 64), (64, 0)] {
                seed += 1;
                let what = reason(format_args!("priority {priority}, {send_len} words, reply {reply_len}"));
                words_round_trip(ep, seed, send_len, reply_len, what.as_str())?;
            }
        }
        Ok(())
    })?;
    delete(ep.cap())
}

/// An Extra that is not one (more than [`MAX_EXTRA_WORDS`] words, or undefined bits) is
/// `InvalidArgument` before anything is done: a receiver waiting on the endpoint gets nothing,
/// a reply right stays unused; the high half of `rax` on a syscall that sends no message is
/// `UnknownSyscall`, and an Extra with no buffer at all is sent as far as it can be (nothing).
fn bad_extra_refused_whole(_: &Boot) -> TestResult {
    let ep = new_endpoint()?;
    clear(&SEEN);
    let mut threads = Threads::new()?;
    // A receiver above the root task: it waits in `recv` at once.
    let t = threads.spawn("receiver", receive_once, ep.slot(), HIGH)?;
    let raw = |number: Sysno, high: u64, args: [usize; 6]| {
        // SAFETY: the IPC syscalls read and write no memory of the caller but its IPC buffer,
        // and the root task has none here; `nop` does nothing.
        let (rax, out) = unsafe { sys::syscall::syscall(number as usize | (high << 32) as usize, args) };
        (sys::Error::check(rax & 0xffff_ffff), (rax >> 32) as u64, out)
    };
    let args = [ep.slot(), 1, 2, 3, 4, 5];
    for (high, what) in [(65, "65 words"), (0xff, "255 words"), (1 << 9, "bit 41"), (1 << 31, "bit 63")] {
        for n in [Sysno::Send, Sysno::NbSend, Sysno::Call] {
            let (r, back, out) = raw(n, high, args);
            ensure_eq!(r, Err(InvalidArgument.into()), "{n:?} with an Extra of {what}");
            ensure_eq!((back, out), (0, args), "{n:?} with an Extra of {what}: rax's high half, arguments");
        }
        ensure_eq!(raw(Sysno::Reply, high, args).0, Err(InvalidArgument.into()), "reply with an Extra of {what}");
    }
    for n in [Sysno::Nop, Sysno::Recv, Sysno::NbRecv, Sysno::FaultReply, Sysno::NoteSignal, Sysno::CapIdentify] {
        ensure_eq!(raw(n, 1, args).0, Err(UnknownSyscall.into()), "{n:?} with its high half set");
    }
    ensure_state(t, State::BlockedRecv, "receiver after the refused sends")?;
    // A valid Extra without an IPC buffer on either side: the message goes, nothing with it.
    let (r, back, _) = raw(Sysno::Send, 64 | 1 << 8, args);
    ensure_eq!((r, back), (Ok(()), 0), "send with an Extra of 64 words and a capability, no buffers");
    ensure_ended(t, State::Exited, DONE, "receiver")?;
    ensure_eq!(load(&SEEN), Message::plain(0, [1, 2, 3, 4, 5]), "message the receiver got");
    drop(threads);
    delete(ep.cap())
}

/// Words travel only between IPC buffers. A receiver without one still gets the message in
/// registers, and its Extra says no words came; a page that was a task's buffer but no longer is
/// is left alone; and a reply from a task without a buffer brings none.
fn words_need_buffers(_: &Boot) -> TestResult {
    let ep = new_endpoint()?;
    reset_buffer(&SERVER_BUFFER);
    clear(&SEEN);
    clear(&RESULTS);
    with_root_buffer(|| {
        let mut threads = Threads::new()?;
        // A receiver without a buffer: the five words and the badge, as ever, and nothing else.
        let t = threads.spawn("receiver without a buffer", receive_extra, ep.slot(), HIGH)?;
        let extra = ROOT_BUFFER.set_words(&patterned(0x0b0f));
        ok!(ep.send_with(words(700), extra), "send with 64 extra words to a receiver without a buffer");
        ensure_ended(t, State::Exited, DONE, "receiver without a buffer")?;
        ensure_eq!(load(&SEEN), Message::plain(0, words(700)), "message the receiver without a buffer got");
        ensure_eq!(RESULTS[0].load(SeqCst), 0, "the Extra the receiver without a buffer got");

        // A server whose buffer is taken away between two calls.
        let server = spawn_with_buffer(&mut threads, "server", (words_server, ep.slot()), HIGH, &SERVER_BUFFER, None)?;
        words_round_trip(ep, 0x0b10, 64, 64, "server with its buffer")?;
        // The server's page: the words it answered with in place of those received.
        let (left, _) = SERVER_BUFFER.received_words(Extra::words(64));
        ok!(server.set_ipc_buffer(None), "task_set_ipc_buffer(server, None)");
        // 64 words to a server without a buffer: none reach it, nor its former page.
        let r = call_words_server(ep, 0x0b11, 64, 64, 0, "server without a buffer")?;
        ensure_eq!((r.words[0], r.words[1]), (BAD_LEN, 0), "server's check (status, words received) without a buffer");
        let (now, _) = SERVER_BUFFER.received_words(Extra::words(64));
        // The server answered with the transform of no words (zeros), written by itself; the
        // root task's pattern never landed there.
        let expected: [u64; MAX_EXTRA_WORDS] = core::array::from_fn(|i| transform(0, i));
        ensure_words(&now, &expected, 64, "former buffer page", "after the second call")?;
        ensure!(left != now, "the former buffer page did not change at all");
        // The reply of a task without a buffer brings no words, though it asked for 64.
        ensure_eq!(r.extra, Extra::NONE, "the Extra of the reply from a server without a buffer");
        Ok(())
    })?;
    delete(ep.cap())
}

/// Receives once on `ep`, stores the message in [`SEEN`] and its Extra in `RESULTS[0]`; exits
/// with [`DONE`].
extern "C" fn receive_extra(ep: usize) -> ! {
    match Endpoint::at(ep).recv() {
        Ok(m) => {
            store(&SEEN, &m);
            RESULTS[0].store(extra_code(m.extra), SeqCst);
            exit_thread(DONE)
        }
        Err(e) => exit_thread(failed_status(e)),
    }
}

/// With [`CLIENT_BUFFER`] as its IPC buffer: receives one message on `ep` (its Extra goes to
/// `RESULTS[0]`), sends back the [`transform`] of the extra words it brought (as many), then
/// executes `ud2` (vector 6) for good: a reply to the fault resumes it at the same `ud2`.
extern "C" fn words_then_fault(ep: usize) -> ! {
    let ep = Endpoint::at(ep);
    let m = match ep.recv() {
        Ok(m) => m,
        Err(e) => exit_thread(failed_status(e)),
    };
    RESULTS[0].store(extra_code(m.extra), SeqCst);
    let (got, n) = CLIENT_BUFFER.received_words(m.extra);
    let answer: [u64; MAX_EXTRA_WORDS] = core::array::from_fn(|i| transform(got[i], i));
    let extra = CLIENT_BUFFER.set_words(&answer[..n]);
    if let Err(e) = ep.send_with(words(0xfa), extra) {
        exit_thread(failed_status(e));
    }
    // SAFETY: `ud2` raises an invalid-opcode exception and does nothing else: it touches no
    // memory, stack or register, and the thread never runs past it.
    unsafe { core::arch::asm!("ud2", options(noreturn, nomem, nostack)) }
}

/// Fault messages carry no extra words: the supervisor's Extra is `NONE`, though the faulting
/// thread's last message had 64 words. Nor does the reply to a fault carry anything back,
/// though the supervisor's reply asks for words and a capability: the faulted thread's buffer
/// stays as its last message left it.
fn fault_message_carries_no_words(_: &Boot) -> TestResult {
    let ep = new_endpoint()?;
    let faults = new_endpoint()?;
    let fault_ep = mint(faults, rights::WRITE, 0xf6)?;
    let gift = mint(ep, rights::READ, 0x61f7)?;
    reset_buffer(&CLIENT_BUFFER);
    clear(&RESULTS);
    CLIENT_BUFFER.set_recv_slot(Some(Slot::Auto));
    with_root_buffer(|| {
        let mut threads = Threads::new()?;
        let entry = (words_then_fault as ThreadEntry, ep.slot());
        let t = spawn_with_buffer(&mut threads, "faulting thread", entry, HIGH, &CLIENT_BUFFER, Some(fault_ep))?;
        // The thread takes 64 words and sends their transform back, waiting for the root task.
        let extra = ROOT_BUFFER.set_words(&patterned(0xfa01));
        ok!(ep.send_with(words(1), extra), "send with 64 extra words to the thread");
        ensure_state(t, State::BlockedSend, "thread sending back")?;
        ensure_eq!(RESULTS[0].load(SeqCst), 64, "the Extra the thread got");
        let m = ok!(ep.nb_recv(), "nb_recv of the thread's message");
        ensure_eq!(m, Message { extra: Extra::words(64), ..Message::plain(0, words(0xfa)) }, "the thread's message");
        let (got, n) = ROOT_BUFFER.received_words(m.extra);
        let back: [u64; MAX_EXTRA_WORDS] = core::array::from_fn(|i| transform(pattern(0xfa01, i), i));
        ensure_words(&got, &back, n, "words the thread's message brought", "before its fault")?;

        // It has run on to its `ud2`: the fault message waits on `faults`.
        let m = ok!(faults.nb_recv(), "nb_recv of the fault message");
        ensure_eq!((m.badge, m.words[0]), (0xf6, 6), "fault message (badge, vector)");
        ensure_eq!(m.extra, Extra::NONE, "the Extra of the fault message");

        // The reply resumes the thread at its `ud2`, which faults again.
        let received_before = CLIENT_BUFFER.received(CAP_CAME);
        ROOT_BUFFER.set_words(&patterned(0xfa02));
        ROOT_BUFFER.set_send_cap(Some(gift.cap()));
        ok!(ipc::reply_with(words(0), Extra { words: 64, cap: true }), "reply to the fault message");
        let m = ok!(faults.nb_recv(), "nb_recv of the second fault message");
        ensure_eq!(
            (m.badge, m.words[0], m.extra),
            (0xf6, 6, Extra::NONE),
            "second fault message (badge, vector, Extra)"
        );
        let (got, n) = CLIENT_BUFFER.received_words(Extra::words(64));
        ensure_words(&got, &back, n, "the faulted thread's words", "after the reply to its fault")?;
        ensure_eq!(CLIENT_BUFFER.received(CAP_CAME), received_before, "received_slot after the reply to the fault");
        Ok(())
    })?;
    for c in [gift, fault_ep, faults, ep] {
        delete(c.cap())?;
    }
    Ok(())
}

/// A message that asks for nothing through the buffers (Extra `NONE`: the kind the kernel's fast
/// paths take, with both tasks' buffers in place, a capability named and a slot offered on both
/// sides) brings nothing and leaves both buffers alone, in both directions, whichever task
/// outranks the other (a higher server takes the `call` fast path, a lower one the `reply_recv`
/// one). Each plain round trip follows one that brought words and a capability, so a path that
/// carried them anyway, or wrote the buffers, fails.
fn plain_messages_leave_buffers_alone(_: &Boot) -> TestResult {
    let ep = new_endpoint()?;
    let other = new_endpoint()?;
    let gift = mint(other, rights::READ, 0x91a)?;
    for priority in [HIGH, LOW] {
        reset_buffer(&SERVER_BUFFER);
        with_root_buffer(|| {
            let mut threads = Threads::new()?;
            spawn_with_buffer(&mut threads, "server", (words_server, ep.slot()), priority, &SERVER_BUFFER, None)?;
            ROOT_BUFFER.set_recv_slot(Some(Slot::Auto));
            ROOT_BUFFER.set_send_cap(Some(gift.cap()));
            for round in 0..3u64 {
                let what = reason(format_args!("priority {priority}, round {round}"));
                let what = what.as_str();
                // Words both ways and a capability with the reply.
                let r = call_words_server(ep, 0x91a0 + round, 4, 3, gift.slot(), what)?;
                ensure_eq!((r.words[0], r.words[1]), (0, 4), "server's check (status, words) ({what}, with words)");
                ensure_eq!(r.extra, Extra { words: 3, cap: true }, "the Extra of the reply with words ({what})");
                let Some(landed) = ROOT_BUFFER.received(r.extra) else {
                    fail!("no capability came with the reply ({what})");
                };
                delete(landed)?;
                let before: [u64; MAX_EXTRA_WORDS] = core::array::from_fn(|i| ROOT_BUFFER.word(i));
                // Then nothing beyond the registers, though the server names the gift again.
                let words = [0x91b0 + round as usize, 0, 3, gift.slot(), 1];
                let r = ok!(ep.call(words), "plain call ({what})");
                ensure_eq!((r[0], r[1]), (0, 0), "server's check (status, words) ({what}, plain)");
                let after: [u64; MAX_EXTRA_WORDS] = core::array::from_fn(|i| ROOT_BUFFER.word(i));
                ensure!(before == after, "a plain reply changed the caller's buffer words ({what})");
                ensure_eq!(
                    ROOT_BUFFER.received(CAP_CAME),
                    Some(landed),
                    "received_slot after the plain reply ({what})"
                );
                ensure_empty(landed, "the slot the first capability landed in, after the plain reply")?;
            }
            ROOT_BUFFER.set_recv_slot(None);
            Ok(())
        })?;
    }
    delete(gift.cap())?;
    delete(other.cap())?;
    delete(ep.cap())
}

/// A reply carries a copy of the replier's `send_cap` to the caller's `recv_slot` when its Extra
/// asks, though the call went through a capability without GRANT (the reply right stands for
/// it): a child of the replier's capability, with its rights and badge, gone when that is
/// revoked. It lands in the slot asked for; a caller that refuses capabilities gets none (its
/// Extra says so), and so does one answered by a reply without one.
fn reply_transfers_capability(_: &Boot) -> TestResult {
    let ep = new_endpoint()?;
    let other = new_endpoint()?;
    let gift = mint(other, rights::READ | rights::WRITE, 0x7e1)?;
    let client = mint(ep, rights::WRITE, 0)?;
    let gift_id = Identity::new(Kind::Endpoint, rights::READ | rights::WRITE, 0x7e1);
    reset_buffer(&SERVER_BUFFER);
    with_root_buffer(|| {
        let mut threads = Threads::new()?;
        spawn_with_buffer(&mut threads, "server", (words_server, ep.slot()), HIGH, &SERVER_BUFFER, None)?;

        ROOT_BUFFER.set_recv_slot(Some(Slot::Auto));
        let r = call_words_server(client, 0x7e10, 3, 2, gift.slot(), "reply with a capability")?;
        ensure_eq!((r.words[0], r.words[1]), (0, 3), "server's check (status, words) of the call");
        ensure_eq!(r.extra, Extra { words: 2, cap: true }, "the Extra of the reply with a capability");
        let Some(landed) = ROOT_BUFFER.received(r.extra) else {
            fail!("no capability came with the reply");
        };
        ensure!(landed != gift.cap(), "the capability received is the replier's own (slot {})", landed.slot());
        ensure_identity(landed, gift_id, "capability received with the reply")?;
        ok!(gift.revoke(), "cap_revoke(gift)");
        ensure_empty(landed, "capability received with the reply, after the gift was revoked")?;
        ensure_identity(gift.cap(), gift_id, "gift after its revoke")?;

        ROOT_BUFFER.set_recv_slot(Some(Slot::At(SPARE)));
        let r = call_words_server(client, 0x7e11, 0, 0, gift.slot(), "reply with a capability to SPARE")?;
        ensure_eq!(ROOT_BUFFER.received(r.extra), Some(Cap::new(SPARE)), "where the reply's capability landed");
        ensure_identity(Cap::new(SPARE), gift_id, "capability received in SPARE")?;
        delete(Cap::new(SPARE))?;

        ROOT_BUFFER.set_recv_slot(None);
        let r = call_words_server(client, 0x7e12, 0, 0, gift.slot(), "reply with a capability to a refusing caller")?;
        ensure_eq!(r.extra, Extra::NONE, "the Extra of a caller that refuses capabilities");
        ensure_empty(landed, "lowest free slot after a refused capability")?;

        ROOT_BUFFER.set_recv_slot(Some(Slot::Auto));
        let r = call_words_server(client, 0x7e13, 0, 0, gift.slot(), "reply with a capability, again")?;
        ensure_eq!(ROOT_BUFFER.received(r.extra), Some(landed), "where the reply's capability landed, again");
        delete(landed)?;
        let r = call_words_server(client, 0x7e14, 0, 0, 0, "reply without a capability")?;
        ensure_eq!(r.extra, Extra::NONE, "the Extra of a reply without a capability");
        ensure_empty(landed, "lowest free slot after a reply without a capability")?;
        Ok(())
    })?;
    for c in [client, gift, other, ep] {
        delete(c.cap())?;
    }
    Ok(())
}

/// Calls `ep` twice (with [`CLIENT_BUFFER`] as its IPC buffer, each call with its 64 words),
/// with `words(0x900)` then `words(0x901)`, storing the replies' first words in `RESULTS[0]` and
/// `RESULTS[1]` and their Extras in `RESULTS[2]` and `RESULTS[3]`; exits with [`DONE`].
extern "C" fn call_twice(ep: usize) -> ! {
    let ep = Endpoint::at(ep);
    for k in 0..2 {
        match ep.call_with(words(0x900 + k), Extra::words(MAX_EXTRA_WORDS as u8)) {
            Ok(r) => {
                RESULTS[k].store(r.words[0], SeqCst);
                RESULTS[k + 2].store(extra_code(r.extra), SeqCst);
            }
            Err(e) => exit_thread(failed_status(e)),
        }
    }
    exit_thread(DONE)
}

/// `reply` and, deferred, `reply_to` carry extra words and a capability as a message does, when
/// their Extra asks. The words array serves both ways: the caller's second call sends the words
/// the first reply left, then those it had put there.
fn replies_carry_words_and_capability(_: &Boot) -> TestResult {
    let ep = new_endpoint()?;
    let other = new_endpoint()?;
    let gift = mint(other, rights::WRITE, 0x9f7)?;
    let gift_id = Identity::new(Kind::Endpoint, rights::WRITE, 0x9f7);
    clear(&RESULTS);
    reset_buffer(&CLIENT_BUFFER);
    CLIENT_BUFFER.set_words(&patterned(0xc0));
    CLIENT_BUFFER.set_recv_slot(Some(Slot::Auto));
    with_root_buffer(|| {
        let mut threads = Threads::new()?;
        let c = spawn_with_buffer(&mut threads, "caller", (call_twice, ep.slot()), HIGH, &CLIENT_BUFFER, None)?;
        let m = ok!(ep.nb_recv(), "nb_recv of the first call");
        ensure_eq!((m.words, m.extra), (words(0x900), Extra::words(64)), "first call (words, Extra)");
        let (got, n) = ROOT_BUFFER.received_words(m.extra);
        ensure_words(&got, &patterned(0xc0), n, "words the first call brought", "64")?;

        // `reply`: 40 words and the gift.
        let first = patterned(0xd0);
        let extra = Extra { cap: true, ..ROOT_BUFFER.set_words(&first[..40]) };
        ROOT_BUFFER.set_send_cap(Some(gift.cap()));
        ok!(ipc::reply_with([0xa0, 0, 0, 0, 0], extra), "reply");
        ensure_eq!(RESULTS[0].load(SeqCst), 0xa0, "first reply's word the caller got");
        ensure_eq!(RESULTS[2].load(SeqCst), extra_code(extra), "first reply's Extra the caller got");
        ensure_state(c, State::BlockedSend, "caller in its second call")?;
        let (got, n) = CLIENT_BUFFER.received_words(extra);
        ensure_words(&got, &first, n, "words the reply brought", "reply")?;
        let Some(landed) = CLIENT_BUFFER.received(extra) else {
            fail!("no capability came with the reply (received_slot 0)");
        };
        ensure_identity(landed, gift_id, "capability the reply brought")?;

        let m = ok!(ep.nb_recv(), "nb_recv of the second call");
        ensure_eq!((m.words, m.extra), (words(0x901), Extra::words(64)), "second call (words, Extra)");
        let (got, n) = ROOT_BUFFER.received_words(m.extra);
        let mixed: [u64; MAX_EXTRA_WORDS] = core::array::from_fn(|i| if i < 40 { first[i] } else { pattern(0xc0, i) });
        ensure_words(&got, &mixed, n, "words the second call brought", "40 from the reply, then the caller's")?;

        // `reply_to`, deferred: all 64 words and the gift again, to the next free slot.
        let saved = ok!(Reply::save(Slot::Auto), "reply_save");
        let second = patterned(0xe0);
        let extra = Extra { cap: true, ..ROOT_BUFFER.set_words(&second) };
        ok!(saved.reply_with([0xa1, 0, 0, 0, 0], extra), "reply_to");
        ensure_ended(c, State::Exited, DONE, "caller after reply_to")?;
        ensure_eq!(RESULTS[1].load(SeqCst), 0xa1, "second reply's word the caller got");
        ensure_eq!(RESULTS[3].load(SeqCst), extra_code(extra), "second reply's Extra the caller got");
        ensure_empty(saved.cap(), "Reply capability after use")?;
        let (got, n) = CLIENT_BUFFER.received_words(extra);
        ensure_words(&got, &second, n, "words the reply_to brought", "reply_to")?;
        let Some(again) = CLIENT_BUFFER.received(extra) else {
            fail!("no capability came with the reply_to (received_slot 0)");
        };
        ensure!(again != landed, "the reply_to's capability landed on the reply's (slot {})", again.slot());
        ensure_identity(again, gift_id, "capability the reply_to brought")?;

        // Both are children of the gift.
        ok!(gift.revoke(), "cap_revoke(gift)");
        ensure_empty(landed, "capability the reply brought, after the gift was revoked")?;
        ensure_empty(again, "capability the reply_to brought, after the gift was revoked")?;
        Ok(())
    })?;
    for c in [gift, other, ep] {
        delete(c.cap())?;
    }
    Ok(())
}
