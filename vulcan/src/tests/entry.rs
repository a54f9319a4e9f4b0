//! Tests of entry hygiene: CPU state a user task controls must never steer the kernel, nor reach
//! another task.
//!
//! - The direction and alignment-check flags (DF, AC). `syscall` clears them through FMASK, but an
//!   interrupt or exception keeps the user's RFLAGS, and the kernel's `rep movsb`/`rep stosb` run
//!   backwards with DF set. A thread faults with DF and AC set while its supervisor waits in
//!   `recv` with an IPC buffer (the fault message is written into it), and a thread spins with
//!   DF set while the timer preempts it and a Note wakes a receiver with an IPC buffer. Each
//!   checks the message and every field of the buffer the kernel wrote, and that the user's own
//!   flags were kept for the user.
//! - Segment selectors and the FS base. A task can change its FS base without a syscall, by
//!   loading a selector (`mov fs, ax` with a user data selector sets the base to the
//!   descriptor's, 0). A thread does that (and loads DS, ES and GS too) and yields; a second
//!   thread with the same FS base then reads its thread-local word through `fs:` and reports the
//!   selectors it sees, which must be null: nothing carries over.
//!
//! The threads are assembly, so that nothing runs between the flag or selector change and the
//! entry under test. The root task always waits where an answer is certain (a fault message, or a
//! message the thread sends), and a Timer bounds each wait, so a kernel bug shows up as a failed
//! check rather than a hang (the timer only ever bounds a failure).

use core::sync::atomic::{AtomicU64, AtomicUsize, Ordering::SeqCst};

use sys::abi::Error::InvalidArgument;
use sys::abi::syscall::Sysno;
use sys::abi::task::fault;
use sys::ipc::{Endpoint, Extra, IpcBufferPage, Message};
use sys::notify::{NOTE_BADGE, Note, Timer};
use sys::task::{ThreadEntry, exit_thread, root_task, task_set_fs_base};
use sys::{Boot, Slot, rights, root};

use super::ipc::{HIGH, LOW, mint, new_endpoint};
use super::support::{delete, isolated};
use super::threads::Thread;
use crate::harness::{Reason, Test, TestResult, ensure, ensure_eq, fail, ok};

pub const TESTS: &[Test] = &[
    Test::new("entry_fault_with_df_or_ac_set_is_delivered", |b| isolated(b, fault_with_flags_set)),
    Test::new("entry_timer_preempts_task_with_df_set", |b| isolated(b, preempted_with_df_set)),
    Test::new("entry_fs_base_survives_a_selector_load_by_another_task", |b| isolated(b, fs_base_and_selectors)),
    Test::new("entry_task_set_fs_base_on_the_caller", |b| isolated(b, set_fs_base_on_the_caller)),
];

/// RFLAGS.DF.
const DF: u64 = 1 << 10;
/// RFLAGS.AC.
const AC: u64 = 1 << 18;

/// Exit status of the assembly threads that finish normally.
const DONE: usize = 0xd0e;

/// A user data selector (GDT index 3, RPL 3): what a task can load into a segment register.
const USER_DATA_SELECTOR: u64 = 0x1b;

core::arch::global_asm!(
    ".pushsection .text.vulcan_entry_threads, \"ax\", @progbits",
    // vulcan_entry_df_ud2(_): sets DF, then executes ud2.
    ".global vulcan_entry_df_ud2",
    "vulcan_entry_df_ud2:",
    "    std",
    ".global vulcan_entry_df_ud2_at",
    "vulcan_entry_df_ud2_at:",
    "    ud2",
    // vulcan_entry_ac_ud2(_): sets AC, then executes ud2.
    ".global vulcan_entry_ac_ud2",
    "vulcan_entry_ac_ud2:",
    "    pushfq",
    "    or qword ptr [rsp], {ac}",
    "    popfq",
    ".global vulcan_entry_ac_ud2_at",
    "vulcan_entry_ac_ud2_at:",
    "    ud2",
    // vulcan_entry_df_ac_ud2(_): sets DF and AC, then executes ud2.
    ".global vulcan_entry_df_ac_ud2",
    "vulcan_entry_df_ac_ud2:",
    "    pushfq",
    "    or qword ptr [rsp], {ac}",
    "    popfq",
    "    std",
    ".global vulcan_entry_df_ac_ud2_at",
    "vulcan_entry_df_ac_ud2_at:",
    "    ud2",
    // vulcan_entry_df_spin(flag): sets DF and spins, touching no memory but the flag, until the
    // word at `flag` is nonzero; then clears DF and exits with DONE.
    ".global vulcan_entry_df_spin",
    "vulcan_entry_df_spin:",
    "    std",
    "2:",
    "    cmp qword ptr [rdi], 0",
    "    je 2b",
    "    cld",
    "    mov edi, {done}",
    "    mov eax, {exit}",
    "    syscall",
    "    ud2",
    // vulcan_entry_selector_loader(_): loads the user data selector into DS, ES, FS and GS (which
    // sets the FS and GS bases to 0), yields, then exits with DONE.
    ".global vulcan_entry_selector_loader",
    "vulcan_entry_selector_loader:",
    "    mov eax, {user_data}",
    "    mov ds, eax",
    "    mov es, eax",
    "    mov fs, eax",
    "    mov gs, eax",
    "    mov eax, {yield_}",
    "    syscall",
    "    mov edi, {done}",
    "    mov eax, {exit}",
    "    syscall",
    "    ud2",
    // vulcan_entry_tls_reader(endpoint): sends on `endpoint` the word at fs:0 and the DS, ES, FS
    // and GS selectors it finds, then exits with DONE.
    ".global vulcan_entry_tls_reader",
    "vulcan_entry_tls_reader:",
    "    mov rsi, qword ptr fs:[0]",
    "    xor edx, edx",
    "    mov dx, ds",
    "    xor r10d, r10d",
    "    mov r10w, es",
    "    xor r8d, r8d",
    "    mov r8w, fs",
    "    xor r9d, r9d",
    "    mov r9w, gs",
    "    mov eax, {send}",
    "    syscall",
    "    mov edi, {done}",
    "    mov eax, {exit}",
    "    syscall",
    "    ud2",
    ".popsection",
    ac = const AC,
    done = const DONE,
    user_data = const USER_DATA_SELECTOR,
    exit = const Sysno::Exit as usize,
    yield_ = const Sysno::TaskYield as usize,
    send = const Sysno::Send as usize,
);

// SAFETY: the declarations match the assembly above: thread entries that take one argument in
// `rdi` and never return, and code labels whose addresses are only compared, never used.
unsafe extern "C" {
    safe fn vulcan_entry_df_ud2(arg: usize) -> !;
    safe fn vulcan_entry_ac_ud2(arg: usize) -> !;
    safe fn vulcan_entry_df_ac_ud2(arg: usize) -> !;
    safe fn vulcan_entry_df_spin(flag: usize) -> !;
    safe fn vulcan_entry_selector_loader(arg: usize) -> !;
    safe fn vulcan_entry_tls_reader(endpoint: usize) -> !;
    safe static vulcan_entry_df_ud2_at: u8;
    safe static vulcan_entry_ac_ud2_at: u8;
    safe static vulcan_entry_df_ac_ud2_at: u8;
}

/// The address of a code label.
fn label(l: &'static u8) -> usize {
    core::ptr::from_ref(l).addr()
}

/// What the waiting side's IPC buffer words hold throughout: a message that brings nothing
/// through the buffer leaves it alone (a kernel that wrote the buffer, forwards or backwards with
/// DF set, changes it).
const WORD_SENTINEL: u64 = 0x5a5a_5a5a_5a5a_5a5a;

/// An Extra that says a capability came: what reads `received_slot` as it is.
const CAP_CAME: Extra = Extra { words: 0, cap: true };

/// The root task's IPC buffer in these tests.
static ROOT_BUFFER: IpcBufferPage = IpcBufferPage::new();

/// The woken receiver's IPC buffer.
static RECEIVER_BUFFER: IpcBufferPage = IpcBufferPage::new();

/// Sets up `b` as these tests want it: nothing to send, no capability accepted, and
/// [`WORD_SENTINEL`] in the words.
fn prime(b: &IpcBufferPage) {
    b.set_send_cap(None);
    b.set_recv_slot(None);
    b.set_words(&[WORD_SENTINEL; 8]);
}

/// Fails unless a message received with `extra` brought nothing through `b` and left it as
/// [`prime`] did (no `received_slot` written, the words untouched).
fn ensure_buffer_after_plain_message(b: &IpcBufferPage, extra: Extra, what: &str) -> TestResult {
    ensure_eq!(extra, Extra::NONE, "{what}: the Extra received");
    ensure_eq!(b.received(CAP_CAME).map(|c| c.slot()), None, "{what}: received_slot");
    ensure_eq!(b.word(0), WORD_SENTINEL, "{what}: words[0] (the kernel must not write it)");
    ensure_eq!(b.word(7), WORD_SENTINEL, "{what}: words[7] (the kernel must not write it)");
    Ok(())
}

/// A Timer that signals bit 1 of a Note bound to the root task after `ms`, so that a `recv` of
/// the root task ends at the latest then (with [`NOTE_BADGE`]): a bound on a failure, never a
/// pass.
struct Bound {
    note: Note,
    timer: Timer,
}

impl Bound {
    fn arm(ms: usize) -> Result<Bound, Reason> {
        let note = ok!(Note::create(root::memory(), Slot::Auto), "note_create (bound)");
        let timer = ok!(Timer::create(root::memory(), Slot::Auto), "timer_create (bound)");
        ok!(note.bind(root_task()), "note_bind(root task)");
        ok!(timer.arm(note, 1, ms * 1000, 0), "timer_arm({ms} ms)");
        Ok(Bound { note, timer })
    }

    /// Disarms the timer, unbinds the note and deletes both.
    fn end(self) -> TestResult {
        ok!(self.timer.disarm(), "timer_disarm (bound)");
        ok!(Note::unbind(root_task()), "note_bind(0, root task)");
        delete(self.timer.cap())?;
        delete(self.note.cap())
    }
}

/// Receives on `ep` with an end: fails if the bounding Timer fires first.
fn recv_bounded(ep: Endpoint, what: &str) -> Result<Message, Reason> {
    let m = ok!(ep.recv(), "recv ({what})");
    ensure!(m.badge != NOTE_BADGE, "{what}: nothing arrived within the time limit");
    Ok(m)
}

/// A supervised thread faults (`ud2`) with DF set, with AC set, and with both, while its
/// supervisor (the root task) waits in `recv` with an IPC buffer. Each time the fault message is
/// exact (vector 6 at the `ud2`, badge), the kernel writes the buffer's fields as it should
/// (forwards), the flags the thread set are still in its saved RFLAGS, and the kernel runs on.
fn fault_with_flags_set(_: &Boot) -> TestResult {
    let cases: [(ThreadEntry, &'static u8, u64, &str); 3] = [
        (vulcan_entry_df_ud2, &vulcan_entry_df_ud2_at, DF, "DF"),
        (vulcan_entry_ac_ud2, &vulcan_entry_ac_ud2_at, AC, "AC"),
        (vulcan_entry_df_ac_ud2, &vulcan_entry_df_ac_ud2_at, DF | AC, "DF and AC"),
    ];
    let ep = new_endpoint()?;
    let fault_ep = mint(ep, rights::WRITE, 0xdf)?;
    prime(&ROOT_BUFFER);
    ok!(root_task().set_ipc_buffer(Some(&ROOT_BUFFER)), "task_set_ipc_buffer(root task)");
    let bound = Bound::arm(2000)?;
    let result = (|| {
        for (entry, at, flags, what) in cases {
            // Below the root task: it runs once the root task waits in `recv`.
            let t = Thread::prepare(entry, 0)?;
            ok!(t.task().set_fault_endpoint(Some(fault_ep)), "task_set_fault_endpoint ({what})");
            t.set_priority(LOW)?;
            ok!(t.task().start(), "task_start ({what})");
            let m = recv_bounded(ep, what)?;
            ensure_eq!(m.badge, 0xdf, "{what}: badge of the fault message");
            ensure_eq!(m.words, [6, 0, label(at), 0, 0], "{what}: fault message (vector, address, rip, error)");
            ensure_eq!(m.words[fault::VECTOR], 6, "{what}: vector");
            ensure_buffer_after_plain_message(&ROOT_BUFFER, m.extra, what)?;
            let regs = ok!(t.task().read_regs(), "task_read_regs ({what})");
            ensure_eq!(regs.rflags & (DF | AC), flags, "{what}: the thread's saved DF and AC");
            t.kill()?;
        }
        Ok(())
    })();
    let reset = root_task().set_ipc_buffer(None);
    let ended = bound.end();
    result?;
    ok!(reset, "task_set_ipc_buffer(root task, None)");
    ended?;
    delete(fault_ep.cap())?;
    delete(ep.cap())
}

/// What the woken receiver saw: the badge and first word of what its `recv` returned, its Extra
/// (as `rax`'s high half), then its buffer's `received_slot` and first and last word.
/// `u64::MAX`: nothing yet.
static WOKEN: [AtomicU64; 6] = [const { AtomicU64::new(u64::MAX) }; 6];

/// Where the spinning thread stops: nonzero tells it to.
static STOP_SPINNING: AtomicUsize = AtomicUsize::new(0);

/// Receives on `arg`'s endpoint (its bound Note wakes it), records what it saw in [`WOKEN`],
/// sends the root task an empty message on the endpoint packed in `arg`'s upper half, and exits.
extern "C" fn woken_receiver(arg: usize) -> ! {
    let (wait_on, report_to) = (Endpoint::at(arg & 0xffff), Endpoint::at(arg >> 16));
    let (badge, bits, extra) = match wait_on.recv() {
        Ok(m) => (m.badge as u64, m.words[0] as u64, m.extra.to_rax() >> Extra::SHIFT),
        Err(e) => (u64::MAX - 1, e.code() as u64, u64::MAX),
    };
    let b = &RECEIVER_BUFFER;
    let seen = [badge, bits, extra, b.received(CAP_CAME).map_or(0, |c| c.slot() as u64), b.word(0), b.word(7)];
    for (slot, v) in WOKEN.iter().zip(seen) {
        slot.store(v, SeqCst);
    }
    let _ = report_to.send([0; 5]);
    exit_thread(DONE)
}

/// A thread spins with DF set while the timer preempts it, over and over; meanwhile a Timer
/// signals a Note bound to a receiver waiting in `recv` with an IPC buffer, so the kernel wakes
/// it (writing its buffer) from the interrupt that stopped the spinning thread. The receiver sees
/// the Note's bits and a buffer written forwards; the kernel runs on, and the spinner, told to
/// stop, exits normally.
fn preempted_with_df_set(_: &Boot) -> TestResult {
    let wait_on = new_endpoint()?;
    let report = new_endpoint()?;
    let note = ok!(Note::create(root::memory(), Slot::Auto), "note_create");
    let timer = ok!(Timer::create(root::memory(), Slot::Auto), "timer_create");
    for w in &WOKEN {
        w.store(u64::MAX, SeqCst);
    }
    STOP_SPINNING.store(0, SeqCst);
    prime(&RECEIVER_BUFFER);
    let bound = Bound::arm(3000)?;
    let result = (|| {
        // The receiver, above the root task, waits at once.
        let receiver = Thread::prepare(woken_receiver, wait_on.slot() | report.slot() << 16)?;
        ok!(receiver.task().set_ipc_buffer(Some(&RECEIVER_BUFFER)), "task_set_ipc_buffer(receiver)");
        ok!(note.bind(receiver.task()), "note_bind(receiver)");
        receiver.set_priority(HIGH)?;
        ok!(receiver.task().start(), "task_start(receiver)");
        // The spinner, below the root task, runs while the root task waits.
        let spinner = Thread::start(vulcan_entry_df_spin, STOP_SPINNING.as_ptr().addr(), LOW)?;
        // Several ticks of spinning with DF set before the Note is signalled.
        ok!(timer.arm(note, 0x40, 50_000, 0), "timer_arm(50 ms)");
        recv_bounded(report, "the woken receiver's report")?;
        let seen: [u64; 6] = core::array::from_fn(|i| WOKEN[i].load(SeqCst));
        ensure_eq!(seen[0], NOTE_BADGE as u64, "badge the receiver's recv returned");
        ensure_eq!(seen[1], 0x40, "bits the receiver's recv returned");
        ensure_eq!(seen[2], 0, "the Extra the receiver's recv returned");
        ensure_eq!(seen[3], 0, "receiver's received_slot");
        ensure_eq!(seen[4], WORD_SENTINEL, "receiver's words[0] (the kernel must not write it)");
        ensure_eq!(seen[5], WORD_SENTINEL, "receiver's words[7] (the kernel must not write it)");
        receiver.ensure_exited(DONE, "receiver")?;
        // The spinner was preempted many times with DF set; told to stop and raised above the
        // root task, it runs at once and exits normally.
        STOP_SPINNING.store(1, SeqCst);
        spinner.set_priority(HIGH)?;
        spinner.ensure_exited(DONE, "spinner")?;
        Ok(())
    })();
    let ended = bound.end();
    result?;
    ended?;
    ok!(timer.disarm(), "timer_disarm");
    for c in [timer.cap(), note.cap(), report.cap(), wait_on.cap()] {
        delete(c)?;
    }
    Ok(())
}

/// The thread-local word both threads' FS base points at.
#[repr(C, align(64))]
struct TlsBlock(AtomicU64);

static TLS: TlsBlock = TlsBlock(AtomicU64::new(0));

/// What the TLS word holds in the test.
const TLS_VALUE: u64 = 0x7150_b45e_0000_0001;

/// Thread A loads the user data selector into DS, ES, FS and GS (so its FS base becomes 0) and
/// yields; thread B, with the same FS base as A was given, runs next and reads its thread-local
/// word through `fs:` and reports its selectors. It must read the word (the kernel restored its
/// FS base whatever A did) and see null selectors (nothing of A's carried over).
fn fs_base_and_selectors(_: &Boot) -> TestResult {
    let ep = new_endpoint()?;
    let fault_ep = mint(ep, rights::WRITE, 0xf5)?;
    let sender = mint(ep, rights::WRITE, 0x5e)?;
    TLS.0.store(TLS_VALUE, SeqCst);
    let tls = core::ptr::from_ref(&TLS).addr() as u64;
    let bound = Bound::arm(2000)?;
    let result = (|| {
        let a = Thread::prepare(vulcan_entry_selector_loader, 0)?;
        let b = Thread::prepare(vulcan_entry_tls_reader, sender.slot())?;
        for (t, what) in [(&a, "A"), (&b, "B")] {
            let mut regs = ok!(t.task().read_regs(), "task_read_regs({what})");
            regs.fs_base = tls;
            // SAFETY: the thread's own registers, with an FS base at `TLS`, an atomic static it
            // only reads.
            ok!(unsafe { t.task().write_regs(&regs) }, "task_write_regs({what}, fs_base)");
            ok!(t.task().set_fault_endpoint(Some(fault_ep)), "task_set_fault_endpoint({what})");
            t.set_priority(LOW)?;
        }
        // Both below the root task, A first in the queue: they run, A then B, once it waits.
        ok!(a.task().start(), "task_start(A)");
        ok!(b.task().start(), "task_start(B)");
        let m = recv_bounded(ep, "B's report")?;
        if m.badge == 0xf5 {
            fail!(
                "a thread faulted: vector {} at rip {:#x}, address {:#x} (B reading fs:0 with a wrong FS base?)",
                m.words[fault::VECTOR],
                m.words[fault::RIP],
                m.words[fault::ADDRESS]
            );
        }
        ensure_eq!(m.badge, 0x5e, "badge of B's report");
        ensure_eq!(m.words[0] as u64, TLS_VALUE, "the word B read at fs:0");
        ensure_eq!([m.words[1], m.words[2], m.words[3], m.words[4]], [0; 4], "B's DS, ES, FS and GS selectors");
        // B, whose send woke the root task, and A, which yielded to B, run on once raised above
        // the root task, and exit.
        for (t, what) in [(&b, "B"), (&a, "A")] {
            t.set_priority(HIGH)?;
            t.ensure_exited(DONE, what)?;
        }
        Ok(())
    })();
    let ended = bound.end();
    result?;
    ended?;
    for c in [sender.cap(), fault_ep.cap(), ep.cap()] {
        delete(c)?;
    }
    Ok(())
}

/// Reads the word at `fs:0`.
fn read_fs0() -> u64 {
    let v: u64;
    // SAFETY: only called while the FS base points at `TLS`, a static word: the read touches
    // nothing else.
    unsafe { core::arch::asm!("mov {}, qword ptr fs:[0]", out(reg) v, options(nostack, readonly, preserves_flags)) };
    v
}

/// `task_set_fs_base` works on the caller itself (which `task_write_regs` refuses): the root task
/// points its FS base at a word and reads it through `fs:`, across a syscall and a yield; a
/// non-canonical or kernel-half base is refused; the base goes back to 0 after.
fn set_fs_base_on_the_caller(_: &Boot) -> TestResult {
    TLS.0.store(TLS_VALUE, SeqCst);
    let tls = core::ptr::from_ref(&TLS).addr();
    for bad in [0x0000_8000_0000_0000usize, 0xffff_8000_0000_0000, usize::MAX] {
        // SAFETY: refused (the test checks it), so nothing changes.
        let r = unsafe { task_set_fs_base(root_task().slot(), bad) };
        ensure_eq!(r, Err(InvalidArgument.into()), "task_set_fs_base({bad:#x})");
    }
    let old = sys::thread::block::current_addr();
    // SAFETY: the runtime reaches the thread block only through `fs:` in calls this test does not
    // make until the base is back (the two reads of `TLS` and a yield in between).
    ok!(unsafe { task_set_fs_base(root_task().slot(), tls) }, "task_set_fs_base(root task, TLS)");
    let first = read_fs0();
    sys::task::yield_now();
    let after_yield = read_fs0();
    // SAFETY: back to the runtime's own thread block.
    ok!(unsafe { task_set_fs_base(root_task().slot(), old) }, "task_set_fs_base(root task, back)");
    ensure_eq!(first, TLS_VALUE, "fs:0 right after task_set_fs_base");
    ensure_eq!(after_yield, TLS_VALUE, "fs:0 after a yield");
    Ok(())
}
