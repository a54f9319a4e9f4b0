//! Tests of Notes and Timers: `note_create`, `note_signal`, `note_wait`, `note_poll`, `note_bind`,
//! `timer_create`, `timer_arm`, `timer_disarm`; what each does to the bits, to waiting and
//! receiving tasks, and every error each can return.
//!
//! The ABI: `abi::syscall` (`NoteCreate` to `TimerDisarm`, `NOTE_BADGE`, `TICK_US`),
//! `abi::task::State::BlockedNote`, and `sys::notify`.
//!
//! Tests that need a second task start a thread made by hand (`tests::threads`); it reports what
//! it saw through [`SEEN`] and its exit status. Waiting is bounded so that a broken kernel fails a test instead of hanging the
//! run: a root task waiting on a Note arms a [`WATCHDOG`] timer on it first, and waiting for a
//! thread is bounded by the TSC ([`PATIENCE_MS`]). Neither bound ever decides a passing test: no
//! test asserts how long anything took, only what happened and in what order.
//!
//! Whether a Timer fires on the tick the ABI promises, no earlier and no later, is checked by
//! counting ticks, not time ([`check_against_ticks`]): a [`TickClock`] of [`PHASES`] periodic
//! timers, each signalling its own bit once every [`PHASES`] ticks, one per tick in turn, tells
//! from the bits a look at the Note finds exactly how many ticks passed since the last look (up
//! to [`PHASES`] - 1 at once, however late the look comes), and so in which ticks each timer
//! under test signalled.
//!
//! Every test runs [`isolated`]: it must leave every slot as it found it and the root Memory's
//! `used` where it was.

use core::sync::atomic::{AtomicUsize, Ordering};

use sys::abi::Error::{
    InsufficientRights, InvalidArgument, InvalidCapability, InvalidState, QuotaExceeded, SlotOccupied, WouldBlock,
    WrongKind,
};
use sys::abi::bootcaps::{ROOT_CSPACE, ROOT_DEBUG_CONSOLE, ROOT_MEMORY, ROOT_TASK};
use sys::notify::{self as raw, MAX_TIMER_US, NOTE_BADGE, Note, TICK_US, Timer};
use sys::task::{ROOT_PRIORITY, State, Task, TaskInfo, exit_thread, root_task};
use sys::{Boot, Cap, Endpoint, Identity, Kind, Slot, rights, root};

use super::support::{SLOTS, SPARE, delete, delete_any, ensure_identity, isolated, root_usage, split_root};
use super::threads::{Thread, spawn};
use crate::clock::{Deadline, PATIENCE_MS};
use crate::harness::{Reason, Test, TestResult, ensure, ensure_eq, fail, ok};

pub const TESTS: &[Test] = &[
    Test::new("note_create_charges_and_refunds", |b| isolated(b, note_create_charges_and_refunds)),
    Test::new("note_create_errors", |b| isolated(b, note_create_errors)),
    Test::new("note_signal_then_poll_clears", |b| isolated(b, note_signal_then_poll_clears)),
    Test::new("note_signal_ors_the_badge", |b| isolated(b, note_signal_ors_the_badge)),
    Test::new("note_mint_note_badge_refused", |b| isolated(b, note_mint_note_badge_refused)),
    Test::new("note_capability_errors", |b| isolated(b, note_capability_errors)),
    Test::new("note_rights", |b| isolated(b, note_rights)),
    Test::new("note_wait_returns_at_once_when_set", |b| isolated(b, note_wait_returns_at_once_when_set)),
    Test::new("note_wait_wakes_a_thread", |b| isolated(b, note_wait_wakes_a_thread)),
    Test::new("note_delete_wakes_its_waiter", |b| isolated(b, note_delete_wakes_its_waiter)),
    Test::new("note_signal_wakes_one_waiter", |b| isolated(b, note_signal_wakes_one_waiter)),
    Test::new("note_signal_runs_a_higher_priority_waiter", |b| isolated(b, note_signal_runs_a_higher_priority_waiter)),
    Test::new("note_bound_recv_takes_set_bits", |b| isolated(b, note_bound_recv_takes_set_bits)),
    Test::new("note_bound_wakes_a_receiver", |b| isolated(b, note_bound_wakes_a_receiver)),
    Test::new("note_bind_rules", |b| isolated(b, note_bind_rules)),
    Test::new("note_bind_errors", |b| isolated(b, note_bind_errors)),
    Test::new("timer_create_charges_and_refunds", |b| isolated(b, timer_create_charges_and_refunds)),
    Test::new("timer_wakes_a_sleeping_task", |b| isolated(b, timer_wakes_a_sleeping_task)),
    Test::new("timer_preempts_for_a_higher_priority_sleeper", |b| {
        isolated(b, timer_preempts_for_a_higher_priority_sleeper)
    }),
    Test::new("timer_periodic_then_disarm", |b| isolated(b, timer_periodic_then_disarm)),
    Test::new("timer_once_fires_on_its_tick", |b| isolated(b, timer_once_fires_on_its_tick)),
    Test::new("timer_periodic_fires_on_its_ticks", |b| isolated(b, timer_periodic_fires_on_its_ticks)),
    Test::new("timer_rearm_replaces", |b| isolated(b, timer_rearm_replaces)),
    Test::new("timer_delete_while_armed", |b| isolated(b, timer_delete_while_armed)),
    Test::new("timer_arm_errors", |b| isolated(b, timer_arm_errors)),
    Test::new("timer_disarm_errors", |b| isolated(b, timer_disarm_errors)),
];

/// Bits the tests signal.
const BITS_A: usize = 0b0101;
const BITS_B: usize = 0b1000_0000;
const BITS_C: usize = 1 << 40;

/// The bit a watchdog timer signals: a wait that returns it waited in vain.
pub const WATCHDOG: usize = 1 << 63;

/// How long a watchdog timer waits, in microseconds.
pub const WATCHDOG_US: usize = 5_000_000;

/// What the Note capability `note_create` makes is.
const NEW_NOTE: Identity = Identity::new(Kind::Note, rights::ALL, 0);

/// What the Timer capability `timer_create` makes is.
const NEW_TIMER: Identity = Identity::new(Kind::Timer, rights::ALL, 0);

/// A Note made from the root Memory, in the lowest free slot.
pub fn new_note() -> Result<Note, Reason> {
    Ok(ok!(Note::create(root::memory(), Slot::Auto), "note_create"))
}

/// A Timer made from the root Memory, in the lowest free slot.
pub fn new_timer() -> Result<Timer, Reason> {
    Ok(ok!(Timer::create(root::memory(), Slot::Auto), "timer_create"))
}

/// A copy of `cap` with the rights `mask`, in the lowest free slot.
fn copy(cap: Cap, mask: usize, what: &str) -> Result<Cap, Reason> {
    Ok(ok!(cap.copy(root::cspace(), Slot::Auto, mask), "cap_copy({what}, rights {mask:#x})"))
}

/// A Timer armed to signal [`WATCHDOG`] on `note` after [`WATCHDOG_US`], so that a wait on the
/// Note ends even if what it waits for never comes.
pub fn watchdog(note: Note) -> Result<Timer, Reason> {
    let timer = new_timer()?;
    ok!(timer.arm(note, WATCHDOG, WATCHDOG_US, 0), "timer_arm(watchdog)");
    Ok(timer)
}

/// Waits on `note` (which a [`watchdog`] guards) and returns the bits; fails if only the
/// watchdog fired.
pub fn wait_guarded(note: Note, what: &str) -> Result<usize, Reason> {
    let bits = ok!(note.wait(), "note_wait ({what})");
    ensure!(bits != WATCHDOG, "waited {} ms for {what}: only the watchdog fired", WATCHDOG_US / 1000);
    Ok(bits)
}

/// Waits on `marker` for a one-shot timer of `delay_us` (with a watchdog), so that at least that
/// much time has passed afterwards. Deletes the timers again.
fn let_time_pass(marker: Note, delay_us: usize) -> TestResult {
    let timer = new_timer()?;
    let dog = watchdog(marker)?;
    ok!(timer.arm(marker, BITS_C, delay_us, 0), "timer_arm(marker, {delay_us} us)");
    let bits = wait_guarded(marker, "the marker timer")?;
    ensure_eq!(bits, BITS_C, "bits from the marker timer");
    delete(dog.cap())?;
    delete(timer.cap())
}

// --- Threads -------------------------------------------------------------------------------

/// What a thread saw, for the test to check.
static SEEN: [AtomicUsize; 4] = [const { AtomicUsize::new(0) }; 4];

/// Clears [`SEEN`] to a value no thread reports.
fn clear_seen() {
    for s in &SEEN {
        s.store(usize::MAX - 1, Ordering::SeqCst);
    }
}

/// What the thread stored in `SEEN[i]`.
fn seen(i: usize) -> usize {
    SEEN[i].load(Ordering::SeqCst)
}

/// The exit status of a thread that got `Err(e)` from a call: the error code (never 0).
fn status_of(r: sys::Result<()>) -> usize {
    match r {
        Ok(()) => 0,
        Err(e) => e.code(),
    }
}

/// Thread: waits on the Note in slot `note`; stores the bits in `SEEN[0]`; exits with 0 or the
/// error code.
extern "C" fn note_waiter(note: usize) -> ! {
    let r = Note::at(note).wait().map(|bits| SEEN[0].store(bits, Ordering::SeqCst));
    exit_thread(status_of(r))
}

/// Thread: arms the Timer in slot `arg >> 16` to signal [`BITS_B`] on the Note in slot
/// `arg & 0xffff` after [`SLEEP_US`], waits on the Note, stores the bits in `SEEN[0]`.
extern "C" fn timer_sleeper(arg: usize) -> ! {
    let (timer, note) = (Timer::at(arg >> 16), Note::at(arg & 0xffff));
    let r = timer.arm(note, BITS_B, SLEEP_US, 0).and_then(|()| note.wait()).map(|b| SEEN[0].store(b, Ordering::SeqCst));
    exit_thread(status_of(r))
}

/// How long [`timer_sleeper`] sleeps: 30 ms.
const SLEEP_US: usize = 30_000;

/// Thread: receives twice on the Endpoint in slot `endpoint`, storing the badge and first word
/// of each message in `SEEN[0..2]` and `SEEN[2..4]`.
extern "C" fn receiver(endpoint: usize) -> ! {
    let ep = Endpoint::at(endpoint);
    let r = ep.recv().and_then(|m| {
        SEEN[0].store(m.badge, Ordering::SeqCst);
        SEEN[1].store(m.words[0], Ordering::SeqCst);
        ep.recv()
    });
    let r = r.map(|m| {
        SEEN[2].store(m.badge, Ordering::SeqCst);
        SEEN[3].store(m.words[0], Ordering::SeqCst);
    });
    exit_thread(status_of(r))
}

// --- Notes ---------------------------------------------------------------------------------

/// A Note costs one page, refunded when its capability is deleted; a fresh Note has no bits.
fn note_create_charges_and_refunds(_: &Boot) -> TestResult {
    let start = root_usage()?;
    let note = new_note()?;
    ensure_identity(note.cap(), NEW_NOTE, "new Note")?;
    ensure_eq!(root_usage()?.used, start.used + 1, "root Memory used after note_create");
    ensure_eq!(ok!(note.poll(), "note_poll(fresh Note)"), 0, "bits of a fresh Note");
    let at = ok!(Note::create(root::memory(), Slot::At(SPARE)), "note_create to slot {SPARE}");
    ensure_eq!(at.slot(), SPARE, "slot of a Note made in an explicit slot");
    ensure_eq!(root_usage()?.used, start.used + 2, "root Memory used after two");
    delete(at.cap())?;
    delete(note.cap())?;
    ensure_eq!(root_usage()?, start, "root Memory after deleting both Notes");
    Ok(())
}

/// The Memory must be a Memory with WRITE and room for the page.
fn note_create_errors(_: &Boot) -> TestResult {
    for (memory, err) in [(ROOT_CSPACE, WrongKind), (ROOT_DEBUG_CONSOLE, WrongKind), (0, InvalidCapability)] {
        ensure_eq!(raw::note_create(memory, usize::MAX), Err(err.into()), "note_create(memory {memory})");
    }
    let read_only = copy(root::memory().cap(), rights::READ, "root Memory")?;
    let r = raw::note_create(read_only.slot(), usize::MAX);
    ensure_eq!(r, Err(InsufficientRights.into()), "note_create from a READ-only Memory");
    let one = split_root(1)?;
    let note = ok!(Note::create(one, Slot::Auto), "note_create from a 1-page Memory");
    ensure_eq!(Note::create(one, Slot::Auto).map(Note::cap), Err(QuotaExceeded.into()), "second Note from it");
    let r = Note::create(root::memory(), Slot::At(note.slot())).map(Note::cap);
    ensure_eq!(r, Err(SlotOccupied.into()), "note_create into an occupied slot");
    for cap in [note.cap(), one.cap(), read_only] {
        delete(cap)?;
    }
    Ok(())
}

/// Signalling ORs bits in; polling returns them all once and clears them.
fn note_signal_then_poll_clears(_: &Boot) -> TestResult {
    let note = new_note()?;
    ok!(note.signal(BITS_A), "note_signal({BITS_A:#x})");
    ensure_eq!(ok!(note.poll(), "note_poll"), BITS_A, "poll after one signal");
    ensure_eq!(ok!(note.poll(), "note_poll"), 0, "poll again: the bits were cleared");
    ok!(note.signal(BITS_A), "note_signal({BITS_A:#x})");
    ok!(note.signal(BITS_B), "note_signal({BITS_B:#x})");
    ok!(note.signal(BITS_A), "note_signal({BITS_A:#x}) again");
    ensure_eq!(ok!(note.poll(), "note_poll"), BITS_A | BITS_B, "poll after three signals");
    ensure_eq!(ok!(note.poll(), "note_poll"), 0, "poll again");
    ok!(note.signal(0), "note_signal(0)");
    ensure_eq!(ok!(note.poll(), "note_poll"), 0, "poll after signalling 0 through an unbadged capability");
    ok!(note.signal(usize::MAX), "note_signal(all bits)");
    ensure_eq!(ok!(note.poll(), "note_poll"), usize::MAX, "poll after signalling every bit");
    delete(note.cap())
}

/// A badged Note capability signals its badge along with the bits.
fn note_signal_ors_the_badge(_: &Boot) -> TestResult {
    let note = new_note()?;
    let badge = 0x1_0000;
    let badged = ok!(note.mint(root::cspace(), Slot::Auto, rights::ALL, badge), "cap_mint(Note, badge {badge:#x})");
    ensure_identity(badged, Identity::new(Kind::Note, rights::ALL, badge), "badged Note")?;
    let badged = Note::new(badged);
    ok!(badged.signal(0), "note_signal(badged, 0)");
    ensure_eq!(ok!(note.poll(), "note_poll"), badge, "bits after signalling 0 through the badged copy");
    ok!(badged.signal(BITS_A), "note_signal(badged, {BITS_A:#x})");
    ensure_eq!(ok!(badged.poll(), "note_poll(badged)"), badge | BITS_A, "bits polled through the badged copy");
    ok!(badged.signal(badge), "note_signal(badged, its own badge)");
    ok!(note.signal(BITS_B), "note_signal(unbadged, {BITS_B:#x})");
    ensure_eq!(ok!(note.poll(), "note_poll"), badge | BITS_B, "bits after both signalled");
    delete(badged.cap())?;
    delete(note.cap())
}

/// `NOTE_BADGE` is reserved for `recv`'s report of a bound Note: no capability may carry it.
fn note_mint_note_badge_refused(_: &Boot) -> TestResult {
    let note = new_note()?;
    let r = note.mint(root::cspace(), Slot::At(SPARE), rights::ALL, NOTE_BADGE);
    ensure_eq!(r, Err(InvalidArgument.into()), "cap_mint(Note, badge NOTE_BADGE)");
    super::support::ensure_empty(Cap::new(SPARE), "the destination of the refused mint")?;
    let ep = ok!(Endpoint::create(root::memory(), Slot::Auto), "endpoint_create");
    let r = ep.mint(root::cspace(), Slot::At(SPARE), rights::ALL, NOTE_BADGE);
    ensure_eq!(r, Err(InvalidArgument.into()), "cap_mint(Endpoint, badge NOTE_BADGE)");
    let almost = ok!(note.mint(root::cspace(), Slot::Auto, rights::ALL, NOTE_BADGE - 1), "cap_mint(NOTE_BADGE - 1)");
    ensure_identity(almost, Identity::new(Kind::Note, rights::ALL, NOTE_BADGE - 1), "Note badged NOTE_BADGE - 1")?;
    for cap in [almost, ep.cap(), note.cap()] {
        delete(cap)?;
    }
    Ok(())
}

/// Every Note call needs a Note: other kinds are `WrongKind`, empty slots and slots past the end
/// `InvalidCapability`.
fn note_capability_errors(_: &Boot) -> TestResult {
    let timer = new_timer()?;
    for (slot, err) in [
        (ROOT_MEMORY, WrongKind),
        (ROOT_TASK, WrongKind),
        (timer.slot(), WrongKind),
        (0, InvalidCapability),
        (SPARE, InvalidCapability),
        (SLOTS, InvalidCapability),
        (SLOTS + 1, InvalidCapability),
        (usize::MAX, InvalidCapability),
    ] {
        ensure_eq!(raw::note_signal(slot, BITS_A), Err(err.into()), "note_signal(slot {slot:#x})");
        ensure_eq!(raw::note_poll(slot), Err(err.into()), "note_poll(slot {slot:#x})");
        ensure_eq!(raw::note_wait(slot), Err(err.into()), "note_wait(slot {slot:#x})");
    }
    delete(timer.cap())
}

/// Signalling needs WRITE; waiting and polling need READ.
fn note_rights(_: &Boot) -> TestResult {
    let note = new_note()?;
    let read_only = Note::new(copy(note.cap(), rights::READ, "Note")?);
    let write_only = Note::new(copy(note.cap(), rights::WRITE, "Note")?);
    let none = Note::new(copy(note.cap(), 0, "Note")?);
    ensure_eq!(read_only.signal(BITS_A), Err(InsufficientRights.into()), "note_signal through a READ-only copy");
    ensure_eq!(none.signal(BITS_A), Err(InsufficientRights.into()), "note_signal through a copy without rights");
    ensure_eq!(ok!(note.poll(), "note_poll"), 0, "bits after the refused signals");
    ok!(write_only.signal(BITS_A), "note_signal through a WRITE-only copy");
    ensure_eq!(write_only.poll(), Err(InsufficientRights.into()), "note_poll through a WRITE-only copy");
    ensure_eq!(write_only.wait(), Err(InsufficientRights.into()), "note_wait through a WRITE-only copy");
    ensure_eq!(none.poll(), Err(InsufficientRights.into()), "note_poll through a copy without rights");
    ensure_eq!(none.wait(), Err(InsufficientRights.into()), "note_wait through a copy without rights");
    ensure_eq!(ok!(read_only.poll(), "note_poll through a READ-only copy"), BITS_A, "bits polled through it");
    ok!(note.signal(BITS_B), "note_signal");
    // The bits are set, so this returns at once.
    ensure_eq!(ok!(read_only.wait(), "note_wait through a READ-only copy"), BITS_B, "bits taken by the wait");
    for cap in [none, write_only, read_only, note] {
        delete(cap.cap())?;
    }
    Ok(())
}

/// `note_wait` with bits set returns them at once, without waiting, and clears them.
fn note_wait_returns_at_once_when_set(_: &Boot) -> TestResult {
    let note = new_note()?;
    // Should the wait block, the watchdog ends it and the test fails instead of hanging.
    let dog = watchdog(note)?;
    ok!(note.signal(BITS_A), "note_signal");
    ensure_eq!(wait_guarded(note, "bits already set")?, BITS_A, "note_wait with bits set");
    ok!(note.signal(BITS_B), "note_signal");
    ok!(note.signal(BITS_C), "note_signal");
    ensure_eq!(wait_guarded(note, "bits already set")?, BITS_B | BITS_C, "note_wait after two signals");
    ok!(dog.disarm(), "timer_disarm(watchdog)");
    ensure_eq!(ok!(note.poll(), "note_poll"), 0, "bits after the waits");
    delete(dog.cap())?;
    delete(note.cap())
}

/// A thread waiting in `note_wait` is `BlockedNote` until the root task signals; then it wakes
/// with the bits.
fn note_wait_wakes_a_thread(boot: &Boot) -> TestResult {
    clear_seen();
    let note = new_note()?;
    let t = spawn(note_waiter, note.slot())?;
    t.wait_for(boot, State::BlockedNote, "the thread to wait on the Note")?;
    // Still waiting after more turns: nothing has signalled it.
    for _ in 0..10 {
        sys::task::yield_now();
    }
    ensure_eq!(t.info()?.state, Ok(State::BlockedNote), "state of the waiting thread after yields");
    ok!(note.signal(BITS_A), "note_signal");
    let status = t.wait_exit(boot, "the woken thread to exit")?;
    ensure_eq!(status, 0, "exit status of the thread (an error code if its wait failed)");
    ensure_eq!(seen(0), BITS_A, "bits the thread's note_wait returned");
    ensure_eq!(ok!(note.poll(), "note_poll"), 0, "bits left in the Note: the waiter took them");
    drop(t);
    delete(note.cap())
}

/// Deleting a Note wakes the task waiting on it with `InvalidCapability`.
fn note_delete_wakes_its_waiter(boot: &Boot) -> TestResult {
    clear_seen();
    let note = new_note()?;
    let t = spawn(note_waiter, note.slot())?;
    t.wait_for(boot, State::BlockedNote, "the thread to wait on the Note")?;
    delete(note.cap())?;
    let status = t.wait_exit(boot, "the thread to exit after its Note died")?;
    ensure_eq!(status, InvalidCapability.code(), "exit status of the thread (its note_wait's error code)");
    ensure_eq!(seen(0), usize::MAX - 1, "SEEN[0]: the wait returned no bits");
    Ok(())
}

/// One signal wakes one waiter: with a thread and the root task waiting on a Note, two timers
/// firing one after the other wake one each, with their own bits. (The waiters form a queue, so
/// the thread, first in line, should get the first; the ABI does not promise the order, and the
/// test does not insist on it.)
fn note_signal_wakes_one_waiter(boot: &Boot) -> TestResult {
    clear_seen();
    let note = new_note()?;
    let t = spawn(note_waiter, note.slot())?;
    t.wait_for(boot, State::BlockedNote, "the thread to wait on the Note")?;
    let (first, second) = (new_timer()?, new_timer()?);
    let dog = watchdog(note)?;
    ok!(first.arm(note, BITS_A, TICK_US, 0), "timer_arm(first)");
    ok!(second.arm(note, BITS_B, 4 * TICK_US, 0), "timer_arm(second)");
    let mine = wait_guarded(note, "a timer, with the thread also waiting")?;
    let status = t.wait_exit(boot, "the thread to be woken and exit")?;
    ensure_eq!(status, 0, "exit status of the thread (an error code if its wait failed)");
    let theirs = seen(0);
    ensure!(
        (theirs, mine) == (BITS_A, BITS_B) || (theirs, mine) == (BITS_B, BITS_A),
        "bits the thread's wait returned: {theirs:#x}; the root task's: {mine:#x}; expected {BITS_A:#x} and \
         {BITS_B:#x}, one each"
    );
    ok!(dog.disarm(), "timer_disarm(watchdog)");
    ensure_eq!(ok!(note.poll(), "note_poll"), 0, "bits left in the Note");
    drop(t);
    for cap in [dog.cap(), second.cap(), first.cap(), note.cap()] {
        delete(cap)?;
    }
    Ok(())
}

/// A thread of a higher priority than the signaller, waiting on a Note, runs as soon as the Note
/// is signalled: before `note_signal` returns.
fn note_signal_runs_a_higher_priority_waiter(_: &Boot) -> TestResult {
    clear_seen();
    let note = new_note()?;
    let t = Thread::start(note_waiter, note.slot(), ROOT_PRIORITY + 1)?;
    // It ran before task_start returned, up to its wait.
    ensure_eq!(t.info()?.state, Ok(State::BlockedNote), "state of the higher-priority thread after task_start");
    ok!(note.signal(BITS_A), "note_signal");
    let TaskInfo { state, detail: status, .. } = t.info()?;
    ensure_eq!(
        (state, status, seen(0)),
        (Ok(State::Exited), 0, BITS_A),
        "(state, exit status, bits seen) of the thread right after note_signal returned"
    );
    drop(t);
    delete(note.cap())
}

/// A task whose bound Note has bits set gets them from `recv` at once, with badge `NOTE_BADGE`;
/// unbound, `recv` ignores the Note.
fn note_bound_recv_takes_set_bits(_: &Boot) -> TestResult {
    let note = new_note()?;
    let ep = ok!(Endpoint::create(root::memory(), Slot::Auto), "endpoint_create");
    ensure_eq!(ep.nb_recv(), Err(WouldBlock.into()), "nb_recv before the bind");
    ok!(note.bind(root_task()), "note_bind(Note, root task)");
    ensure_eq!(ep.nb_recv(), Err(WouldBlock.into()), "nb_recv with the bound Note clear");
    ok!(note.signal(BITS_A), "note_signal");
    let m = ok!(ep.nb_recv(), "nb_recv with bits set in the bound Note");
    ensure_eq!((m.badge, m.words), (NOTE_BADGE, [BITS_A, 0, 0, 0, 0]), "(badge, words) of nb_recv");
    ensure_eq!(ep.nb_recv(), Err(WouldBlock.into()), "nb_recv again: the bits were taken");
    ensure_eq!(ok!(note.poll(), "note_poll"), 0, "bits left in the Note");

    // A blocking recv returns at once too (should it block, the watchdog's bit wakes it).
    let dog = watchdog(note)?;
    ok!(note.signal(BITS_B), "note_signal");
    let m = ok!(ep.recv(), "recv with bits set in the bound Note");
    ensure_eq!((m.badge, m.words[0]), (NOTE_BADGE, BITS_B), "(badge, word 0) of recv");
    ok!(dog.disarm(), "timer_disarm(watchdog)");

    ok!(Note::unbind(root_task()), "note_bind(0, root task)");
    ok!(note.signal(BITS_C), "note_signal");
    ensure_eq!(ep.nb_recv(), Err(WouldBlock.into()), "nb_recv after the unbind");
    ensure_eq!(ok!(note.poll(), "note_poll"), BITS_C, "bits the unbound Note kept");
    ok!(Note::unbind(root_task()), "note_bind(0, root task) with nothing bound");
    for cap in [dog.cap(), ep.cap(), note.cap()] {
        delete(cap)?;
    }
    Ok(())
}

/// A thread waiting in `recv` wakes when its bound Note is signalled, with badge `NOTE_BADGE` and
/// the bits in word 0; it leaves the Endpoint's queue, so a later message goes to its next
/// `recv`. Unbound again, signals leave it waiting.
fn note_bound_wakes_a_receiver(boot: &Boot) -> TestResult {
    clear_seen();
    let note = new_note()?;
    let ep = ok!(Endpoint::create(root::memory(), Slot::Auto), "endpoint_create");
    let t = spawn(receiver, ep.slot())?;
    t.wait_for(boot, State::BlockedRecv, "the thread to wait in recv")?;
    ok!(note.bind(t.task()), "note_bind(Note, thread)");
    ok!(note.signal(BITS_A), "note_signal");
    t.wait_for(boot, State::BlockedRecv, "the thread's second recv")?;
    ensure_eq!((seen(0), seen(1)), (NOTE_BADGE, BITS_A), "(badge, word 0) of the first recv");
    ensure_eq!(ok!(note.poll(), "note_poll"), 0, "bits left in the Note: recv took them");

    ok!(Note::unbind(t.task()), "note_bind(0, thread)");
    ok!(note.signal(BITS_B), "note_signal after the unbind");
    ensure_eq!(t.info()?.state, Ok(State::BlockedRecv), "state of the thread after a signal while unbound");
    ensure_eq!(ok!(note.poll(), "note_poll"), BITS_B, "bits the unbound Note kept");

    // The thread is in the Endpoint's queue once: a message reaches its second recv.
    let end = Deadline::patience(boot);
    loop {
        match ep.nb_send([0x5eed, 0, 0, 0, 0]) {
            Ok(()) => break,
            Err(e) if e == WouldBlock && !end.passed() => sys::task::yield_now(),
            Err(e) => fail!("nb_send to the thread's second recv: {e:?}"),
        }
    }
    let status = t.wait_exit(boot, "the thread to exit")?;
    ensure_eq!(status, 0, "exit status of the thread (an error code if a recv failed)");
    ensure_eq!((seen(2), seen(3)), (0, 0x5eed), "(badge, word 0) of the second recv");
    ensure_eq!(ep.nb_send([0; 5]), Err(WouldBlock.into()), "nb_send with no receiver left");
    drop(t);
    delete(ep.cap())?;
    delete(note.cap())
}

/// A Note binds one task at a time (`InvalidState` for another), a task one Note (a new bind
/// replaces the old); `note` 0 unbinds; a task's death unbinds its Note.
fn note_bind_rules(_: &Boot) -> TestResult {
    let a = ok!(Task::create(root::memory(), Slot::Auto), "task_create(a)");
    let b = ok!(Task::create(root::memory(), Slot::Auto), "task_create(b)");
    let (n1, n2) = (new_note()?, new_note()?);
    ok!(n1.bind(a), "bind n1 to a");
    ok!(n1.bind(a), "bind n1 to a again");
    ensure_eq!(n1.bind(b), Err(InvalidState.into()), "bind n1, bound to a, to b");
    ensure_eq!(n1.bind(root_task()), Err(InvalidState.into()), "bind n1, bound to a, to the root task");
    ok!(Note::unbind(a), "unbind a");
    ok!(n1.bind(b), "bind n1 to b after a was unbound");
    // b takes n2 instead: n1 is free again.
    ok!(n2.bind(b), "bind n2 to b, replacing n1");
    ok!(n1.bind(a), "bind n1 to a after b replaced it");
    ensure_eq!(n2.bind(a), Err(InvalidState.into()), "bind n2, bound to b, to a");
    // A task that dies unbinds its Note.
    // SAFETY: `b` never had a CSpace or VSpace: its death drops nothing.
    unsafe { delete_any(b.cap())? };
    ok!(n2.bind(a), "bind n2 to a after b was deleted");
    ok!(n1.bind(root_task()), "bind n1 to the root task after a replaced it with n2");
    ok!(Note::unbind(root_task()), "unbind the root task");
    // A Note that dies unbinds its task.
    delete(n2.cap())?;
    ok!(n1.bind(a), "bind n1 to a after its Note n2 was deleted");
    ok!(Note::unbind(a), "unbind a");
    // SAFETY: as for `b`.
    unsafe { delete_any(a.cap())? };
    delete(n1.cap())
}

/// `note_bind` needs a Task with WRITE, then a Note with READ (or 0), in that order.
fn note_bind_errors(_: &Boot) -> TestResult {
    let task = ok!(Task::create(root::memory(), Slot::Auto), "task_create");
    let note = new_note()?;
    let (t, n) = (task.slot(), note.slot());
    let task_ro = copy(task.cap(), rights::READ, "Task")?.slot();
    let note_wo = copy(note.cap(), rights::WRITE, "Note")?.slot();
    let note_ro = copy(note.cap(), rights::READ, "Note")?.slot();
    for (note_slot, task_slot, err, what) in [
        (n, n, WrongKind, "task slot holds a Note"),
        (n, ROOT_MEMORY, WrongKind, "task slot holds a Memory"),
        (n, 0, InvalidCapability, "task slot 0"),
        (n, SPARE, InvalidCapability, "task slot empty"),
        (n, SLOTS, InvalidCapability, "task slot past the end"),
        (n, task_ro, InsufficientRights, "READ-only Task"),
        (t, t, WrongKind, "note slot holds a Task"),
        (ROOT_MEMORY, t, WrongKind, "note slot holds a Memory"),
        (SPARE, t, InvalidCapability, "note slot empty"),
        (usize::MAX, t, InvalidCapability, "note slot past the end"),
        (note_wo, t, InsufficientRights, "WRITE-only Note"),
        (ROOT_MEMORY, task_ro, InsufficientRights, "both bad: the task is checked first"),
        (0, task_ro, InsufficientRights, "unbind through a READ-only Task"),
    ] {
        ensure_eq!(
            raw::note_bind(note_slot, task_slot),
            Err(err.into()),
            "note_bind({note_slot:#x}, {task_slot:#x}): {what}"
        );
    }
    ok!(raw::note_bind(note_ro, t), "note_bind through a READ-only Note");
    ok!(raw::note_bind(0, t), "note_bind(0, task)");
    for slot in [note_ro, note_wo, n] {
        delete(Cap::new(slot))?;
    }
    // SAFETY: a copy of the task, then the task, which never had a CSpace or VSpace: nothing
    // dies but the task.
    unsafe {
        delete_any(Cap::new(task_ro))?;
        delete_any(Cap::new(t))
    }
}

// --- Timers --------------------------------------------------------------------------------

/// A Timer costs one page, refunded when its capability is deleted, armed or not.
fn timer_create_charges_and_refunds(_: &Boot) -> TestResult {
    let start = root_usage()?;
    let timer = new_timer()?;
    ensure_identity(timer.cap(), NEW_TIMER, "new Timer")?;
    ensure_eq!(root_usage()?.used, start.used + 1, "root Memory used after timer_create");
    ok!(timer.disarm(), "timer_disarm of a fresh Timer");
    for (memory, err) in [(ROOT_CSPACE, WrongKind), (timer.slot(), WrongKind), (SPARE, InvalidCapability)] {
        ensure_eq!(raw::timer_create(memory, usize::MAX), Err(err.into()), "timer_create(memory {memory})");
    }
    let one = split_root(1)?;
    let t1 = ok!(Timer::create(one, Slot::Auto), "timer_create from a 1-page Memory");
    ensure_eq!(Timer::create(one, Slot::Auto).map(Timer::cap), Err(QuotaExceeded.into()), "second Timer from it");
    for cap in [t1.cap(), one.cap(), timer.cap()] {
        delete(cap)?;
    }
    ensure_eq!(root_usage()?, start, "root Memory after deleting them");
    Ok(())
}

/// A thread arms a Timer and waits on its Note; the Timer wakes it with its bits.
fn timer_wakes_a_sleeping_task(boot: &Boot) -> TestResult {
    clear_seen();
    let (note, timer) = (new_note()?, new_timer()?);
    ensure!(note.slot() < 1 << 16 && timer.slot() < 1 << 16, "slots too large to pass in one word");
    let t = spawn(timer_sleeper, timer.slot() << 16 | note.slot())?;
    let status = t.wait_exit(boot, "the thread to sleep on its Timer and exit")?;
    ensure_eq!(status, 0, "exit status of the thread (an error code if timer_arm or note_wait failed)");
    ensure_eq!(seen(0), BITS_B, "bits the thread's note_wait returned");
    ensure_eq!(ok!(note.poll(), "note_poll"), 0, "bits left in the Note");
    drop(t);
    delete(timer.cap())?;
    delete(note.cap())
}

/// A thread of a higher priority sleeping on a Timer runs when the Timer fires, though the root
/// task never gives up the processor: it spins without a syscall until the thread has run.
fn timer_preempts_for_a_higher_priority_sleeper(boot: &Boot) -> TestResult {
    clear_seen();
    let (note, timer) = (new_note()?, new_timer()?);
    ensure!(note.slot() < 1 << 16 && timer.slot() < 1 << 16, "slots too large to pass in one word");
    let t = Thread::start(timer_sleeper, timer.slot() << 16 | note.slot(), ROOT_PRIORITY + 1)?;
    ensure_eq!(t.info()?.state, Ok(State::BlockedNote), "state of the thread after task_start (asleep)");
    let end = Deadline::patience(boot);
    while seen(0) == usize::MAX - 1 && !end.passed() {
        core::hint::spin_loop();
    }
    ensure_eq!(seen(0), BITS_B, "bits the thread saw, while the root task spun for up to {PATIENCE_MS} ms");
    let TaskInfo { state, detail: status, .. } = t.info()?;
    ensure_eq!((state, status), (Ok(State::Exited), 0), "(state, exit status) of the thread");
    drop(t);
    delete(timer.cap())?;
    delete(note.cap())
}

/// A periodic Timer signals again and again; disarmed, it signals no more.
fn timer_periodic_then_disarm(_: &Boot) -> TestResult {
    let (note, timer) = (new_note()?, new_timer()?);
    let dog = watchdog(note)?;
    ok!(timer.arm(note, BITS_A, TICK_US, TICK_US), "timer_arm(periodic, {TICK_US} us)");
    for i in 0..3 {
        let bits = wait_guarded(note, "the periodic timer")?;
        ensure_eq!(bits, BITS_A, "bits of wait {i} on the periodic timer's Note");
    }
    ok!(timer.disarm(), "timer_disarm");
    ok!(dog.disarm(), "timer_disarm(watchdog)");
    // A signal may have come between the last wait and the disarm.
    let pending = ok!(note.poll(), "note_poll right after the disarm");
    ensure!(pending == 0 || pending == BITS_A, "bits right after the disarm: {pending:#x}");
    // Five periods later, nothing more has come.
    let marker = new_note()?;
    let_time_pass(marker, 5 * TICK_US)?;
    ensure_eq!(ok!(note.poll(), "note_poll"), 0, "bits five periods after the disarm");
    ok!(timer.disarm(), "timer_disarm of a disarmed Timer");
    for cap in [marker.cap(), dog.cap(), timer.cap(), note.cap()] {
        delete(cap)?;
    }
    Ok(())
}

// --- Timers against a clock of ticks ---------------------------------------------------------

/// The phase timers of the tick clock: phase `i` is periodic with a period of `PHASES` ticks and
/// first fires on tick `i + 1` after the clock starts, so each tick signals one phase bit, in
/// turn.
const PHASES: usize = 16;

/// The bit of the clock's every-tick timer (delay and period one tick), the witness that a look
/// covers at least one tick.
const EVERY_TICK: usize = 1 << PHASES;

/// The bit of the first timer under test.
const TESTED_BIT: usize = PHASES + 1;

/// Most timers under test at once.
const MAX_TESTED: usize = 8;

/// Ticks after the timers under test are armed that a tick-counted test watches.
const HORIZON: u64 = 16;

/// Times a tick-counted test tries to arm a set of timers within one tick.
const SETUP_TRIES: usize = 20;

/// A timer under test: what it is armed with, in microseconds.
#[derive(Copy, Clone, Debug)]
struct Setting {
    delay_us: usize,
    period_us: usize,
}

/// The ticks that `us` microseconds of delay or period are, by the ABI: `ceil(us / TICK_US)`, at
/// least 1.
fn ticks_of(us: usize) -> u64 {
    us.div_ceil(TICK_US).max(1) as u64
}

impl Setting {
    const fn once(delay_us: usize) -> Setting {
        Setting { delay_us, period_us: 0 }
    }

    const fn every(delay_us: usize, period_us: usize) -> Setting {
        Setting { delay_us, period_us }
    }

    /// Whether the ABI has it fire on some tick in `(after, upto]`, ticks counted from the arm.
    fn fires_in(self, after: u64, upto: u64) -> bool {
        let first = ticks_of(self.delay_us);
        let next = if first > after || self.period_us == 0 {
            first
        } else {
            let period = ticks_of(self.period_us);
            first + ((after - first) / period + 1) * period
        };
        next > after && next <= upto
    }
}

/// The phase bits of ticks `now + 1` to `now + ticks` (counted from the clock's start).
fn phase_run(now: u64, ticks: u64) -> usize {
    (0..ticks.min(PHASES as u64)).fold(0, |bits, j| bits | 1 << ((now + j) % PHASES as u64))
}

/// A clock that counts ticks on a Note: [`PHASES`] phase timers and an every-tick timer. A look
/// (a wait, then a poll for what else the same or later ticks signalled) finds one phase bit per
/// tick since the last look, a run in turn, so it tells how many ticks passed, up to
/// `PHASES - 1` at once however late the look comes; the every-tick bit must come with them.
/// Nothing here measures time.
struct TickClock {
    note: Note,
    /// Ticks since the clock started, as far as the looks have seen.
    now: u64,
    /// The bits that timers on the Note may signal.
    known: usize,
}

impl TickClock {
    /// Takes the bits of one look: checks the clock's bits and advances it. Returns the ticks the
    /// look covered, `(before, after]`.
    fn take(&mut self, bits: usize) -> Result<(u64, u64), Reason> {
        let now = self.now;
        if bits & WATCHDOG != 0 {
            ensure!(bits != WATCHDOG, "waited {} ms after tick {now}: only the watchdog fired", WATCHDOG_US / 1000);
            fail!(
                "the watchdog (armed for {} ms) signalled by tick {now}, with bits {bits:#x}: early",
                WATCHDOG_US / 1000
            );
        }
        ensure!(
            bits & !self.known == 0,
            "a look after tick {now} found bits {bits:#x}, beyond those of the timers armed"
        );
        let phases = bits & (EVERY_TICK - 1);
        let ticks = u64::from(phases.count_ones());
        let every = bits & EVERY_TICK != 0;
        ensure!(
            ticks > 0 || every,
            "a look after tick {now} found bits {bits:#x}, with no phase bit nor the every-tick timer's: a signal \
             outside any tick"
        );
        ensure!(
            ticks > 0 && every,
            "a look after tick {now} found bits {bits:#x}: {}",
            if every {
                "a tick with no phase bit (the phases do not fire one per tick)"
            } else {
                "phase bits without a tick"
            }
        );
        ensure!(
            ticks < PHASES as u64,
            "a look after tick {now} found every phase bit: the phase timers fired together (early), or this task \
             did not run for {PHASES} ticks"
        );
        ensure_eq!(phases, phase_run(now, ticks), "phase bits of the look after tick {now} (one per tick, in turn)");
        self.now += ticks;
        Ok((now, self.now))
    }

    /// Waits for the next tick and takes what the look finds: returns all its bits and the ticks
    /// it covered.
    fn look(&mut self) -> Result<(usize, u64, u64), Reason> {
        let mut bits = ok!(self.note.wait(), "note_wait after tick {}", self.now);
        bits |= ok!(self.note.poll(), "note_poll after tick {}", self.now);
        let (before, after) = self.take(bits)?;
        Ok((bits, before, after))
    }
}

/// Arms `timers` on `note` with their settings and bits, all within one tick: `Ok(true)`, the
/// Note empty before and after; `Ok(false)` if bits appeared meanwhile (a tick came, or a timer
/// fired at once), with the timers disarmed again and those bits returned in `early`.
fn arm_all(note: Note, timers: &[(Timer, usize, Setting)], early: &mut usize) -> Result<bool, Reason> {
    for &(t, bits, s) in timers {
        ok!(t.arm(note, bits, s.delay_us, s.period_us), "timer_arm(bit {}, {s:?})", bits.trailing_zeros());
    }
    *early = ok!(note.poll(), "note_poll after arming");
    if *early == 0 {
        return Ok(true);
    }
    for &(t, _, _) in timers {
        ok!(t.disarm(), "timer_disarm");
    }
    Ok(false)
}

/// Starts the clock's timers within one tick, then, after its first tick, arms a timer for
/// each of `settings` within one tick of the clock, and watches [`HORIZON`] ticks: after every
/// look, each timer under test must have signalled if and only if one of its ticks (by the ABI,
/// counted from the tick it was armed in) is among those the look covers. A timer that fires
/// early, late, or with the wrong period fails; so does a clock that does not advance one phase
/// bit per tick. Because the timers under test are armed while the clock runs, an error the
/// clock's own first firings share (all late by a tick, say) still shows.
fn check_against_ticks(settings: &[Setting]) -> TestResult {
    ensure!(settings.len() <= MAX_TESTED, "at most {MAX_TESTED} timers under test at once");
    let note = new_note()?;
    let dog = watchdog(note)?;
    let mut timers = [(Timer::at(0), 0, Setting::once(0)); PHASES + 1 + MAX_TESTED];
    let timers = &mut timers[..PHASES + 1 + settings.len()];
    for (i, (t, bits, s)) in timers.iter_mut().enumerate() {
        *t = new_timer()?;
        (*bits, *s) = match i {
            i if i < PHASES => (1 << i, Setting::every((i + 1) * TICK_US, PHASES * TICK_US)),
            PHASES => (EVERY_TICK, Setting::every(TICK_US, TICK_US)),
            i => (1 << (TESTED_BIT + i - PHASES - 1), settings[i - PHASES - 1]),
        };
    }
    let result = run_against_ticks(note, timers, settings);
    for &(t, _, _) in timers.iter() {
        ok!(t.disarm(), "timer_disarm");
    }
    ok!(dog.disarm(), "timer_disarm(watchdog)");
    result?;
    for &(t, _, _) in timers.iter() {
        delete(t.cap())?;
    }
    delete(dog.cap())?;
    delete(note.cap())
}

/// The body of [`check_against_ticks`]: `timers` are the phases, the every-tick timer, then one
/// per setting.
fn run_against_ticks(note: Note, timers: &[(Timer, usize, Setting)], settings: &[Setting]) -> TestResult {
    let (clock_timers, tested) = timers.split_at(PHASES + 1);
    let mut early = 0;
    let mut started = false;
    for _ in 0..SETUP_TRIES {
        let _ = ok!(note.poll(), "note_poll before arming");
        if arm_all(note, clock_timers, &mut early)? {
            started = true;
            break;
        }
    }
    ensure!(
        started,
        "in {SETUP_TRIES} tries, some clock timer signalled before they were all armed (the last time, bits \
         {early:#x}): either timers fire in the tick they are armed, or every try took longer than a tick"
    );
    let tested_mask = tested.iter().fold(0, |m, &(_, bits, _)| m | bits);
    let mut clock = TickClock { note, now: 0, known: (EVERY_TICK << 1) - 1 };
    clock.look()?;
    // Arm the timers under test right after a look, while the clock runs: a tick coming in the
    // middle shows as clock bits in the poll after, which the clock takes, and then they are
    // armed again after the next look.
    let mut armed_at = None;
    for _ in 0..SETUP_TRIES {
        if arm_all(note, tested, &mut early)? {
            armed_at = Some(clock.now);
            break;
        }
        let clock_bits = early & !tested_mask;
        ensure!(clock_bits != 0, "timers under test signalled ({early:#x}) in the tick they were armed in");
        clock.take(clock_bits)?;
        clock.look()?;
    }
    let Some(armed_at) = armed_at else {
        fail!(
            "in {SETUP_TRIES} tries, a tick always came while the timers under test were armed (last bits {early:#x})"
        )
    };
    clock.known |= tested_mask;
    while clock.now < armed_at + HORIZON {
        let (bits, before, after) = clock.look()?;
        let (from, to) = (before - armed_at, after - armed_at);
        for (k, s) in settings.iter().enumerate() {
            let signalled = bits & 1 << (TESTED_BIT + k) != 0;
            let due = s.fires_in(from, to);
            ensure!(
                signalled == due,
                "timer {k} ({s:?}: on tick {}, then every {}) {} in the look at ticks {}..={} after its arm, \
                 which {} its ticks: {}",
                ticks_of(s.delay_us),
                if s.period_us == 0 { 0 } else { ticks_of(s.period_us) },
                if signalled { "signalled" } else { "did not signal" },
                from + 1,
                to,
                if due { "holds one of" } else { "holds none of" },
                if signalled { "early" } else { "late" }
            );
        }
    }
    Ok(())
}

/// One-shot timers fire on the tick the ABI names (`max(1, ceil(delay / TICK_US))` ticks after
/// the arm), counted in ticks: not a tick before, not a tick after, and never again.
fn timer_once_fires_on_its_tick(_: &Boot) -> TestResult {
    check_against_ticks(&[
        Setting::once(0),
        Setting::once(1),
        Setting::once(TICK_US),
        Setting::once(TICK_US + 1),
        Setting::once(3 * TICK_US),
        Setting::once(7 * TICK_US - 1),
        Setting::once(12 * TICK_US),
    ])
}

/// Periodic timers fire first on the tick of their delay, then every period (rounded up to whole
/// ticks, at least one) from the previous firing: never sooner, never later.
fn timer_periodic_fires_on_its_ticks(_: &Boot) -> TestResult {
    check_against_ticks(&[
        Setting::every(TICK_US, TICK_US),
        Setting::every(2 * TICK_US, 3 * TICK_US),
        Setting::every(0, 2 * TICK_US + 1),
        Setting::every(5 * TICK_US, 4 * TICK_US - 1),
        Setting::every(TICK_US / 2, 5 * TICK_US),
        Setting::every(1, 1),
    ])
}

/// Arming an armed Timer replaces its setting: Note, bits, delay and period.
fn timer_rearm_replaces(_: &Boot) -> TestResult {
    let (old, new, timer) = (new_note()?, new_note()?, new_timer()?);
    let dog = watchdog(new)?;
    ok!(timer.arm(old, BITS_A, 2 * TICK_US, 2 * TICK_US), "timer_arm(old Note, periodic)");
    ok!(timer.arm(new, BITS_B, 0, 0), "timer_arm(new Note, once, at the next tick)");
    ensure_eq!(wait_guarded(new, "the re-armed timer")?, BITS_B, "bits the re-armed timer signalled");
    // The old setting could have fired before the re-arm: clear, then see that it fires no more.
    let _ = ok!(old.poll(), "note_poll(old Note)");
    let marker = new_note()?;
    let_time_pass(marker, 6 * TICK_US)?;
    ensure_eq!(ok!(old.poll(), "note_poll(old Note)"), 0, "bits of the old Note after the re-arm");
    ensure_eq!(ok!(new.poll(), "note_poll(new Note)"), 0, "bits of the new Note: the one-shot fired once");
    for cap in [marker.cap(), dog.cap(), timer.cap(), new.cap(), old.cap()] {
        delete(cap)?;
    }
    Ok(())
}

/// Deleting an armed Timer stops it; deleting the Note of an armed Timer is fine, and both are
/// refunded once both are gone.
fn timer_delete_while_armed(_: &Boot) -> TestResult {
    let start = root_usage()?;
    let (note, timer) = (new_note()?, new_timer()?);
    ok!(timer.arm(note, BITS_A, TICK_US, TICK_US), "timer_arm(periodic)");
    delete(timer.cap())?;
    let _ = ok!(note.poll(), "note_poll right after deleting the Timer");
    let marker = new_note()?;
    let_time_pass(marker, 5 * TICK_US)?;
    ensure_eq!(ok!(note.poll(), "note_poll"), 0, "bits five periods after the armed Timer was deleted");

    // Now the other way round: the Note goes first, while the Timer still signals it.
    let timer = new_timer()?;
    ok!(timer.arm(note, BITS_A, TICK_US, TICK_US), "timer_arm(periodic)");
    delete(note.cap())?;
    let_time_pass(marker, 3 * TICK_US)?;
    ok!(timer.disarm(), "timer_disarm after its Note's capability was deleted");
    delete(timer.cap())?;
    delete(marker.cap())?;
    ensure_eq!(root_usage()?, start, "root Memory after deleting everything");
    Ok(())
}

/// `timer_arm` checks the Timer (WRITE), then the Note (WRITE), then the bits and times; a
/// refused call leaves the Timer's setting as it was.
fn timer_arm_errors(_: &Boot) -> TestResult {
    let (note, timer) = (new_note()?, new_timer()?);
    let (n, t) = (note.slot(), timer.slot());
    let timer_ro = copy(timer.cap(), rights::READ, "Timer")?.slot();
    let note_ro = copy(note.cap(), rights::READ, "Note")?.slot();
    let note_wo = copy(note.cap(), rights::WRITE, "Note")?.slot();
    let day = MAX_TIMER_US;
    for (timer_slot, note_slot, bits, delay, period, err, what) in [
        (t, n, 0, 0, 0, InvalidArgument, "bits 0"),
        (t, n, 0, TICK_US, TICK_US, InvalidArgument, "bits 0, periodic"),
        (t, n, BITS_A, day + 1, 0, InvalidArgument, "delay over one day"),
        (t, n, BITS_A, usize::MAX, 0, InvalidArgument, "delay usize::MAX"),
        (t, n, BITS_A, 0, day + 1, InvalidArgument, "period over one day"),
        (t, n, BITS_A, TICK_US, usize::MAX, InvalidArgument, "period usize::MAX"),
        (n, n, BITS_A, 0, 0, WrongKind, "timer slot holds a Note"),
        (ROOT_MEMORY, n, BITS_A, 0, 0, WrongKind, "timer slot holds a Memory"),
        (0, n, BITS_A, 0, 0, InvalidCapability, "timer slot 0"),
        (SPARE, n, BITS_A, 0, 0, InvalidCapability, "timer slot empty"),
        (SLOTS, n, BITS_A, 0, 0, InvalidCapability, "timer slot past the end"),
        (timer_ro, n, BITS_A, 0, 0, InsufficientRights, "READ-only Timer"),
        (t, t, BITS_A, 0, 0, WrongKind, "note slot holds a Timer"),
        (t, ROOT_TASK, BITS_A, 0, 0, WrongKind, "note slot holds a Task"),
        (t, 0, BITS_A, 0, 0, InvalidCapability, "note slot 0"),
        (t, SPARE, BITS_A, 0, 0, InvalidCapability, "note slot empty"),
        (t, note_ro, BITS_A, 0, 0, InsufficientRights, "READ-only Note"),
        (timer_ro, t, 0, usize::MAX, 0, InsufficientRights, "all bad: the Timer is checked first"),
        (t, note_ro, 0, usize::MAX, 0, InsufficientRights, "Note and times bad: the Note is checked first"),
    ] {
        let r = raw::timer_arm(timer_slot, note_slot, bits, delay, period);
        ensure_eq!(
            r,
            Err(err.into()),
            "timer_arm({timer_slot:#x}, {note_slot:#x}, {bits:#x}, {delay}, {period}): {what}"
        );
    }
    // The edges that are allowed: exactly one day, and a WRITE-only Note.
    ok!(raw::timer_arm(t, n, BITS_A, day, day), "timer_arm with a delay and period of one day");
    ok!(raw::timer_arm(t, note_wo, BITS_A, day, 0), "timer_arm through a WRITE-only Note");
    ok!(timer.disarm(), "timer_disarm");

    // A refused re-arm leaves the armed setting alone: it still fires.
    let dog = watchdog(note)?;
    ok!(timer.arm(note, BITS_B, 2 * TICK_US, 0), "timer_arm(once)");
    ensure_eq!(timer.arm(note, 0, 0, 0), Err(InvalidArgument.into()), "timer_arm(bits 0) of an armed Timer");
    ensure_eq!(raw::timer_arm(t, note_ro, BITS_C, 0, 0), Err(InsufficientRights.into()), "re-arm, READ-only Note");
    ensure_eq!(wait_guarded(note, "the timer armed before the refused re-arms")?, BITS_B, "bits it signalled");
    ok!(dog.disarm(), "timer_disarm(watchdog)");
    for slot in [dog.slot(), note_wo, note_ro, timer_ro, t, n] {
        delete(Cap::new(slot))?;
    }
    Ok(())
}

/// `timer_disarm` needs a Timer with WRITE; disarming a disarmed Timer does nothing.
fn timer_disarm_errors(_: &Boot) -> TestResult {
    let (note, timer) = (new_note()?, new_timer()?);
    let timer_ro = copy(timer.cap(), rights::READ, "Timer")?.slot();
    for (slot, err) in [
        (note.slot(), WrongKind),
        (ROOT_MEMORY, WrongKind),
        (0, InvalidCapability),
        (SPARE, InvalidCapability),
        (usize::MAX, InvalidCapability),
        (timer_ro, InsufficientRights),
    ] {
        ensure_eq!(raw::timer_disarm(slot), Err(err.into()), "timer_disarm({slot:#x})");
    }
    ok!(timer.disarm(), "timer_disarm of a disarmed Timer");
    ok!(timer.arm(note, BITS_A, MAX_TIMER_US, 0), "timer_arm(one day)");
    ensure_eq!(
        raw::timer_disarm(timer_ro),
        Err(InsufficientRights.into()),
        "timer_disarm(READ-only) of an armed Timer"
    );
    ok!(timer.disarm(), "timer_disarm of an armed Timer");
    ok!(timer.disarm(), "timer_disarm again");
    for slot in [timer_ro, timer.slot(), note.slot()] {
        delete(Cap::new(slot))?;
    }
    Ok(())
}
