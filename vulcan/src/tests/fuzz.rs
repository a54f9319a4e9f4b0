//! The syscall fuzzer: a task in an address space of its own makes random syscalls from a seed,
//! checks each answer against the ABI itself, and is watched by a supervisor that fails the test
//! on anything it cannot explain: an ABI violation, a leak, a hung or livelocked child, an end
//! no call of the child's accounts for, or a syscall that never once succeeded.
//!
//! **The run** is set on the kernel command line (read with `Boot::cmdline_value`), so one build
//! serves every seed: `vulcan.fuzz_seed=S` (default [`FIXED_SEED`]), `vulcan.fuzz_calls=N`
//! (default [`DEFAULT_CALLS`], 100,000) and, to look past a known bug while hunting,
//! `vulcan.fuzz_skip=A,B,...` (up to 8 syscall numbers the sequence leaves out); numbers are
//! decimal or `0x` hex. `cargo xtask test` boots Vulcan by PVH with
//! `vulcan.fuzz_calls=1000000` on the fixed seed, with QEMU's default CPU (`pvh-default`: the
//! run that gates) and with `-cpu max` (SMAP, SMEP, XSAVE: other kernel paths). Where the
//! environment variable `CI` is `true` (and never inside a Nix build, so `nix flake check` stays
//! deterministic), it boots Vulcan once more with 10^6 calls on a seed that changes per run
//! (`pvh-fuzz-seed`), and `cargo xtask test --fuzz-seed S` runs that boot on seed `S`, which
//! replays it; a failure there is a real bug and fails the run like any other. The ISO boots,
//! `cargo xtask run --vulcan` and a boot by hand run the default 100,000 calls on the fixed seed,
//! to save time: under TCG on the 2-core build machines, 10^6 calls take 4 to 7 s, 10^5 about
//! 0.4 s. [`FIXED_SEED_SKIP`] leaves syscalls out of the fixed seed only, each naming the bug
//! that would otherwise block the gating run (none today).
//!
//! **The child** runs in a clone of Vulcan's image ([`Space`]) with a CSpace of its own that
//! holds only capabilities made for it (see [`slot`]): a small Memory to make things from, and
//! made from that an Endpoint, a Note, a Timer, a small CSpace, a Page, a VSpace with another
//! Page mapped in it, an inactive Task ready to start and one started and suspended, an IoPort
//! for the POST port 0x80 (harmless: it shows boot progress codes on debug cards), an
//! IrqHandler for ISA IRQ [`FUZZ_IRQ`] (no device QEMU emulates uses it) signalling the Note,
//! and a copy of the DebugConsole; a [`partner`] thread that answers on the Endpoint, so that
//! IPC calls meet somebody, and a [`caller`] thread that calls on a second Endpoint, so that the
//! child finds a call to receive and answer now or later (both in its CSpace at its priority, in
//! an address space of their own); a faulting thread in a space of its own ([`FAULT_CODE`]),
//! whose faults go to that second Endpoint, so that the child finds fault messages there too, to
//! answer with `reply` or `fault_reply`; its own CSpace and Task; a few copies with fewer rights
//! or a badge.
//! Tasks the child makes get priority 0 at most, below the [`IdleSignaller`]: they never run.
//! Nothing in it reaches anything of the root task's: no IRQ or port control, none of the root
//! task's objects, not even its own VSpace or the Pages mapped in it (so it cannot change its
//! own mappings). Everything of one child but the console copy is made from one Memory,
//! `m_child`, and the console copy lives only in CSpaces made from it.
//!
//! Call `i` is a pure function of the seed and `i` ([`call_at`], a xorshift generator seeded per
//! call), so the sequence can be continued anywhere and replayed: numbers weighted toward the
//! defined ones (`Sysno::ALL`; `exit` rarely, the blocking calls less often), with some
//! sending ones with an Extra in `rax`'s high half (mostly valid, some arbitrary), some
//! undefined and some arbitrary 64-bit ones; three calls in four with arguments that fit the
//! number ([`schema`]: the slot of a capability of the right kind, a free destination slot,
//! small counts, rights masks, page addresses, the port 0x80, ...; calls that succeed only after
//! others, such as `reply_to`, drawn a little more often: [`RARE`]), the rest with anything:
//! small slot addresses, small numbers, `SLOT_AUTO`, huge values, arbitrary words, and pointers
//! into the child's buffer page (aligned, unaligned, running off its end), its read-only image,
//! unmapped memory, the kernel half and non-canonical addresses. `debug_write` is capped
//! ([`cap_console_write`]): at most [`CONSOLE_CAP`] bytes, and a range the kernel would write is
//! moved into a page of dots, so the console shows dots and the supervisor ends their line before
//! it prints one of its own.
//!
//! What the child checks after every call (a failed check is recorded in its progress page and
//! executes `ud2` in `vulcan_fuzz_violation` with the kind, index, number, `rax` and details in
//! `rdi`, `rsi`, `rdx`, `rcx`, `r8`, `r9`; see [`Violation`]):
//! - `rax`'s low half is 0 or an error code `abi::Error::from_code` knows, and its high half 0
//!   but after a successful receive, where it is a valid Extra;
//! - an undefined number gets `UnknownSyscall`, a defined one never does, and a sending one with
//!   an Extra that is not one gets `InvalidArgument`;
//! - on an error, the six argument registers come back unchanged;
//! - `rbx`, `rbp` and `r12`-`r15` survive (loaded with canaries around the `syscall`);
//! - a few results are in range (`cap_identify`, `memory_info`, `task_info`, `page_info`, slots).
//!
//! Its progress ([`Progress`]: the run's parameters, the next index, the call in flight, counts
//! of results by code and of successes by number, the last successful calls) lives in data pages
//! of its space, which survive the child. The supervisor (the root task) waits on the children's
//! fault endpoint, with a Note bound to itself that a periodic Timer signals every tick, and that
//! an [`IdleSignaller`] below the child signals whenever nothing else can run (so a child that
//! blocks is seen at once, not at the next tick). At each wake-up it looks at the child:
//! - a fault message, or a child no longer runnable at its priority, ends it;
//! - a child still runnable at its priority must be getting somewhere: its next index must move.
//!   One that has not moved for [`STALL_MS`] and [`STALL_LOOKS`] looks (both, so that a host that
//!   stops QEMU for a while cannot fake a hang) is *stalled*. A child whose calls keep returning
//!   is not, however long it lives; one that makes syscalls without its sequence moving on (a
//!   kernel that returns it to the same `syscall`, say) is livelocked, and stalls too. Nothing
//!   but the child and the kernel can change its memory or its control flow (the partner and the
//!   caller run in another space, and no task may write its own registers), and the only tasks
//!   sharing its priority are those two, so a stall is the kernel's doing, with one exception,
//!   below.
//!
//! Every end must be explained by the call the child was making ([`explain`]): `exit` or
//! `task_kill` of itself (and `task_info` must report its status), `task_destroy` or
//! `task_suspend` of itself, a blocking
//! call for each blocked state, `task_set_priority` for a lowered priority, and
//! `task_set_space` for a fault (its own VSpace replaced by one without its code: the fault
//! goes to the supervisor, or to the child's own Endpoint if it moved its fault endpoint there,
//! where the partner may answer it forever: the exception, a *fault loop*). A stall in any other
//! call is a hang, and any other end is unexplained: both fail the test. Then `m_child` is
//! revoked (which destroys every object made from it, the child included) and must read
//! `used == 0`, and a new child continues from the saved progress, after the call that ended the
//! previous one. A violation, a hang, an unexplained end or a leak is printed with the seed, the
//! index and the child's successful calls (what reproduces it), and fails the test at the end;
//! the run goes on, to find more (a leak with a fresh `m_child`). Every [`HEARTBEAT_MS`] the
//! supervisor prints where the run is, so that even a kernel that stops dead leaves an index
//! behind.
//!
//! At the end every child is gone and everything the test made is deleted: the test's Memory
//! reads its start value again, and the kernel is still up (the test returns). The summary says
//! how the children ended and which syscalls never succeeded (`exit` counts when the supervisor
//! sees a child exit), each with why it is exempt ([`exemption`]): `irq_bind` and
//! `ioport_create` need a control capability, and the kernel has no scoped one to give the
//! child; left-out numbers. A syscall that never succeeded and is not exempt fails the test
//! (from [`COVERAGE_CALLS`] calls on; shorter runs only say so).

use core::fmt::Write;

use sys::abi::Error as AbiError;
use sys::abi::ioport::WIDTHS;
use sys::abi::ipc::{Extra, MAX_EXTRA_WORDS};
use sys::abi::layout::PAGE_SIZE;
use sys::abi::object::{Kind, MAX_RADIX};
use sys::abi::syscall::{DEBUG_WRITE_MAX, SLOT_AUTO, Sysno};
use sys::abi::task::{DESTROYED, MAX_PRIORITY, State, fault};
use sys::debug::FixedBuf;
use sys::ipc::Endpoint;
use sys::notify::{NOTE_BADGE, Note, Timer};
use sys::task::{Task, exit_thread, root_task, task_info};
use sys::vspace::{MAX_PAGE_COUNT, Page, VSpace, access};
use sys::{Boot, CSpace, IrqControl, Memory, Slot, rights, root};

use super::support::{delete, delete_any, isolated, split_root};
use crate::clock::{rdtsc, tsc_per_ms};
use crate::harness::{Reason, Test, TestResult, ensure, ensure_eq, fail, ok, reason};
use crate::space::{Launch, STACK_PAGES, STACK_TOP, Space, Waiter, image_segments, prime_window, start_task};

pub const TESTS: &[Test] = &[
    Test::new("fuzz_syscalls_from_a_task_of_its_own", |b| {
        prime_window()?;
        isolated(b, fuzz_syscalls)
    }),
    // What the fuzzer found, each made into a test of its own.
    Test::new("fuzz_found_reply_cap_in_its_callers_cspace_leaks", |b| isolated(b, reply_cap_in_callers_cspace)),
];

/// The seed of the sequence when the command line names none: the fixed seed.
pub const FIXED_SEED: u64 = 0x5eed_f022_2026_0001;

/// Calls in the sequence when the command line says nothing.
pub const DEFAULT_CALLS: u64 = 100_000;

/// From this many calls on, a syscall that never succeeded and is not exempt fails the test.
const COVERAGE_CALLS: u64 = 100_000;

/// The command line keys of the run.
const SEED_KEY: &str = "vulcan.fuzz_seed";
const CALLS_KEY: &str = "vulcan.fuzz_calls";
const SKIP_KEY: &str = "vulcan.fuzz_skip";

/// Syscalls the fixed seed leaves out, each because of a known kernel bug that would otherwise
/// block the gating run (name the bug beside it, and take it out once the bug is fixed). Other
/// seeds never leave them out: a random seed that finds the bug fails, as it should.
const FIXED_SEED_SKIP: &[Sysno] = &[];

/// Most numbers a run leaves out.
const MAX_SKIP: usize = 8;

/// What one run does: the seed, how many calls, and the syscall numbers it leaves out. The
/// supervisor writes it into the progress page, where every child reads it.
#[repr(C)]
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
struct Params {
    seed: u64,
    calls: u64,
    skip: [u64; MAX_SKIP],
    skips: u64,
}

impl Params {
    /// The run the kernel command line asks for (see the module docs).
    fn from_boot(boot: &Boot) -> Result<Params, Reason> {
        let number = |key: &str, default: u64| -> Result<u64, Reason> {
            match boot.cmdline_value(key) {
                None => Ok(default),
                Some(v) => match parse_number(v) {
                    Some(n) => Ok(n),
                    None => fail!("{key}={v:?} on the kernel command line is not a number (decimal or 0x hex)"),
                },
            }
        };
        let mut params = Params {
            seed: number(SEED_KEY, FIXED_SEED)?,
            calls: number(CALLS_KEY, DEFAULT_CALLS)?,
            skip: [0; MAX_SKIP],
            skips: 0,
        };
        ensure!(params.calls > 0, "{CALLS_KEY}=0: nothing to fuzz");
        let mut add = |n: u64, what: &str| -> TestResult {
            ensure!((params.skips as usize) < MAX_SKIP, "more than {MAX_SKIP} syscall numbers left out ({what})");
            params.skip[params.skips as usize] = n;
            params.skips += 1;
            Ok(())
        };
        if let Some(list) = boot.cmdline_value(SKIP_KEY) {
            for word in list.split(',').filter(|w| !w.is_empty()) {
                match parse_number(word) {
                    Some(n) => add(n, SKIP_KEY)?,
                    None => fail!("{SKIP_KEY}: {word:?} is not a number (decimal or 0x hex)"),
                }
            }
        }
        if params.seed == FIXED_SEED {
            for s in FIXED_SEED_SKIP {
                add(*s as u64, "FIXED_SEED_SKIP")?;
            }
        }
        Ok(params)
    }

    /// Whether the sequence leaves out syscall number `n`.
    fn skips(&self, n: usize) -> bool {
        self.skip[..self.skips as usize].contains(&(n as u64))
    }
}

/// Parses a decimal or `0x` hexadecimal number, `_` allowed between digits.
fn parse_number(s: &str) -> Option<u64> {
    let (digits, radix) = match s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
        Some(hex) => (hex, 16),
        None => (s, 10),
    };
    let mut value: u64 = 0;
    let mut any = false;
    for c in digits.chars() {
        if c == '_' && any {
            continue;
        }
        let d = c.to_digit(radix)?;
        value = value.checked_mul(u64::from(radix))?.checked_add(u64::from(d))?;
        any = true;
    }
    any.then_some(value)
}

/// Exit status of a child that made the last call.
const DONE: usize = 0xd0_4e00_f022;

/// Where the child's progress pages are, in its space.
const PROGRESS: usize = 0x0000_5000_0000_0000;

/// The child's buffer page, which pointer arguments point into; the page after it is unmapped.
const BUFFER: usize = 0x0000_5000_0001_0000;

/// A read-only page of [`CONSOLE_BYTE`]s in the child's space, what its console writes show
/// ([`cap_console_write`]); the page after it is unmapped.
const TEXT: usize = 0x0000_5000_0002_0000;

/// What [`TEXT`] is filled with.
const CONSOLE_BYTE: u8 = b'.';

/// Most bytes one `debug_write` of the child may write.
const CONSOLE_CAP: usize = 4;

/// Where the child's [`slot::MAPPED_PAGE`] is mapped in its [`slot::VSPACE`] (where the typed
/// page addresses start).
const MAPPED_AT: usize = 0x1000_0000;

/// The IoPort the child holds: the POST diagnostic port, `[POST_PORT, POST_PORT + 1)`.
const POST_PORT: usize = 0x80;

/// The interrupt line the child's IrqHandler is bound to: ISA IRQ 5, which no device of QEMU's
/// PC machine uses (firmware routes the PCI interrupt links to 10 and 11), so it never fires.
const FUZZ_IRQ: usize = 5;

/// The Note bits the child's IrqHandler signals.
const IRQ_BITS: usize = 1 << 20;

/// The child's priority: below the root task's, so the supervisor runs at every tick.
const CHILD_PRIORITY: usize = 50;

/// Quota of the Memory the child makes things from.
const CHILD_MEMORY_PAGES: usize = 56;

/// Quota of `m_child`, which everything of one child is made from.
const M_CHILD_PAGES: usize = 96;

/// The longest the whole run may take.
const TIME_LIMIT_MS: u64 = 90_000;

/// A child runnable at its priority whose next index has not moved for this long...
const STALL_MS: u64 = 2000;

/// ...and over this many looks of the supervisor (it looks at every timer tick) is stalled.
const STALL_LOOKS: u64 = 100;

/// How often the supervisor prints where the run is.
const HEARTBEAT_MS: u64 = 2000;

/// Badge of the fault endpoint capability the children's faults come through.
const FAULT_BADGE: usize = 0xf022;

/// `current` between calls.
const IDLE: u64 = u64::MAX;

/// The part of [`Progress`] the supervisor looks at while the child runs.
#[repr(C)]
#[derive(Copy, Clone, Debug)]
struct Head {
    /// The run (written by the supervisor before the first child).
    params: Params,
    /// Index of the next call to make.
    next: u64,
    /// Index of the call being made, or [`IDLE`] between calls.
    current: u64,
    /// Nonzero once the last call is made (set just before the child exits with [`DONE`]).
    finished: u64,
    /// A violation the child found: kind (0: none), index, number, `rax`, detail, detail2.
    violation: [u64; 6],
    /// Counts up before each `debug_write` that may write: the supervisor ends the line of dots
    /// before it prints when this moved.
    console_touched: u64,
    /// Bytes the children wrote to the console.
    console_bytes: u64,
}

/// What [`PROGRESS`] holds.
#[repr(C)]
#[derive(Copy, Clone)]
struct Progress {
    head: Head,
    /// Calls that returned.
    returned: u64,
    /// Children started.
    starts: u64,
    /// Returns by `rax` (codes above 31 in the last).
    by_code: [u64; 32],
    /// Successful returns by number (below 256).
    ok_by_number: [u64; 256],
    /// Successful calls so far; the last [`RECENT`] are in `recent`.
    successes: u64,
    /// The last successful calls (at `successes % RECENT`): index and first result.
    recent: [[u64; 2]; RECENT],
}

/// Successful calls the progress pages remember.
const RECENT: usize = 256;

/// Pages of [`Progress`] (a power of two).
const PROGRESS_PAGES: usize = 2;

const _: () = assert!(core::mem::size_of::<Progress>() <= PROGRESS_PAGES * PAGE_SIZE);

/// What a failed check was; the number is the `kind` the child reports.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
#[repr(usize)]
enum Violation {
    /// `rax` is not 0 nor a code the ABI defines.
    UndefinedCode = 1,
    /// An undefined number did not get `UnknownSyscall`.
    UnknownNotRefused = 2,
    /// A defined number got `UnknownSyscall`.
    DefinedRefused = 3,
    /// An error return changed argument register `detail` (its value now in `detail2`).
    ArgumentChanged = 4,
    /// A callee-saved register changed (`detail`: 0 rbx, 1 rbp, 2-5 r12-r15; `detail2` its value).
    CalleeSavedChanged = 5,
    /// A success result out of range (`detail`: which result register, `detail2` its value).
    ResultOutOfRange = 6,
    /// A sending number with an Extra that is not one did not get `InvalidArgument`.
    BadExtraNotRefused = 7,
}

impl Violation {
    fn from_number(n: u64) -> Option<Violation> {
        use Violation::*;
        [
            UndefinedCode,
            UnknownNotRefused,
            DefinedRefused,
            ArgumentChanged,
            CalleeSavedChanged,
            ResultOutOfRange,
            BadExtraNotRefused,
        ]
        .into_iter()
        .find(|v| *v as u64 == n)
    }
}

core::arch::global_asm!(
    ".pushsection .text.vulcan_fuzz_violation, \"ax\", @progbits",
    // vulcan_fuzz_violation(kind, index, number, rax, detail, detail2): stops the task with an
    // invalid opcode, its arguments in rdi, rsi, rdx, rcx, r8, r9 for the supervisor to read.
    ".global vulcan_fuzz_violation",
    ".type vulcan_fuzz_violation, @function",
    "vulcan_fuzz_violation:",
    "    ud2",
    "    jmp vulcan_fuzz_violation",
    ".size vulcan_fuzz_violation, . - vulcan_fuzz_violation",
    ".popsection",
);

// SAFETY: the declaration matches the assembly above: a function of six integer arguments that
// never returns (and touches no memory).
unsafe extern "C" {
    safe fn vulcan_fuzz_violation(
        kind: usize,
        index: usize,
        number: usize,
        rax: usize,
        detail: usize,
        detail2: usize,
    ) -> !;
}

/// A small xorshift generator.
struct Rng(u64);

/// SplitMix64's finaliser: spreads the seed and index over all bits.
const fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

impl Rng {
    /// The generator of call `index` of the sequence `seed`.
    fn new(seed: u64, index: u64) -> Rng {
        Rng(mix(seed ^ mix(index)) | 1)
    }

    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }

    /// A number below `n` (`n > 0`).
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[self.below(items.len() as u64) as usize]
    }
}

/// Small numbers worth trying anywhere: counts, radixes, page counts, bit masks.
const SMALL: [usize; 24] =
    [0, 1, 2, 3, 4, 5, 6, 7, 8, 12, 15, 16, 17, 31, 32, 63, 64, 255, 256, 511, 512, 513, 1024, 4096];

/// Blocking calls: made less often, since each one with a valid capability ends a child.
const BLOCKING: [Sysno; 6] =
    [Sysno::Send, Sysno::Recv, Sysno::Call, Sysno::ReplyRecv, Sysno::FaultReplyRecv, Sysno::NoteWait];

/// One call: its number and arguments.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
struct Call {
    number: usize,
    args: [usize; 6],
}

impl Call {
    /// The syscall it makes, if its number is defined (a sending one with an Extra in the high
    /// half included, valid or not).
    fn sysno(&self) -> Option<Sysno> {
        number_of(self.number).ok()
    }
}

/// A syscall number: see [`number_any`]; never one the run leaves out.
fn number(r: &mut Rng, params: &Params) -> usize {
    loop {
        let n = number_any(r);
        if !params.skips(n) {
            return n;
        }
    }
}

/// Calls that succeed only after others (a call to answer, a task to stop, a free place to map
/// at) or with one argument in many: drawn a little more often, so that each succeeds many times
/// even in a run of 100,000 calls.
/// (`reply_to` three times: its Reply capability is gone as soon as the child blocks or ends.)
const RARE: [Sysno; 8] = [
    Sysno::ReplySave,
    Sysno::ReplyTo,
    Sysno::ReplyTo,
    Sysno::ReplyTo,
    Sysno::FaultReply,
    Sysno::TaskSetPriority,
    Sysno::PageMap,
    Sysno::DebugWrite,
];

/// The syscalls that send a message, and take an Extra in `rax`'s high half.
const SENDING: [Sysno; 6] = [Sysno::Send, Sysno::NbSend, Sysno::Call, Sysno::Reply, Sysno::ReplyRecv, Sysno::ReplyTo];

/// A syscall number, weighted: mostly defined ones (`exit` rarely, blocking calls less often,
/// the [`RARE`] ones more often), some that send with an Extra in the high half (mostly valid
/// ones, some arbitrary), some below 0x100, some next to defined ones, some arbitrary.
fn number_any(r: &mut Rng) -> usize {
    let roll = r.below(100);
    if roll < 6 {
        return r.pick(&RARE) as usize;
    }
    if roll < 86 {
        loop {
            let s = r.pick(Sysno::ALL);
            if s == Sysno::Exit && r.below(64) != 0 {
                continue;
            }
            if BLOCKING.contains(&s) && r.below(3) != 0 {
                continue;
            }
            return s as usize;
        }
    }
    match roll {
        86..=88 => {
            let high = match r.below(8) {
                0 => r.next() >> 32,
                _ => r.below(MAX_EXTRA_WORDS as u64 + 1) | r.below(2) << 8,
            };
            r.pick(&SENDING) as usize | (high << Extra::SHIFT) as usize
        }
        89..=92 => r.below(0x100) as usize,
        93..=95 => (r.pick(Sysno::ALL) as usize).wrapping_add(r.pick(&[1usize, usize::MAX, 0x100, 1 << 32])),
        _ => r.next() as usize,
    }
}

fn pointer(r: &mut Rng) -> usize {
    let image = image_segments();
    let within = |r: &mut Rng, start: usize, end: usize| start + r.below((end - start).max(1) as u64) as usize;
    match r.below(12) {
        0 => BUFFER + (r.below(PAGE_SIZE as u64) as usize & !7),
        1 => BUFFER + r.below(PAGE_SIZE as u64) as usize,
        2 => BUFFER + PAGE_SIZE - r.below(256) as usize,
        3 => BUFFER,
        4 => within(r, image[0].start, image[0].end),
        5 => within(r, image[1].start, image[1].end),
        6 => r.below(PAGE_SIZE as u64) as usize,
        7 => 0x0000_4000_0000_0000 + r.below(1 << 30) as usize,
        8 => 0xffff_8000_0000_0000 + (r.next() % (1 << 40)) as usize,
        9 => 0xffff_ffff_ffff_f000 + r.below(PAGE_SIZE as u64) as usize,
        10 => 0x0000_7fff_ffff_f000 - r.below(64) as usize,
        _ => 0x0000_8000_0000_0000 + r.below(PAGE_SIZE as u64) as usize,
    }
}

fn argument(r: &mut Rng) -> usize {
    match r.below(100) {
        0..=29 => r.below(13) as usize,
        30..=42 => r.below(64) as usize,
        43..=52 => r.pick(&SMALL),
        53..=63 => pointer(r),
        64..=68 => SLOT_AUTO,
        69..=73 => 1usize << r.below(64),
        74..=81 => r.below(16) as usize,
        82..=87 => (r.next() & 0xffff_ffff) as usize,
        _ => r.next() as usize,
    }
}

/// What an argument of a syscall is, for arguments that fit it more often than not.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
enum Arg {
    /// A capability address, preferably of one of the slots listed (see [`slot`]).
    Cap(&'static [usize]),
    /// A destination slot.
    Dst,
    /// A count, radix, size or port.
    Num,
    /// A rights or access mask.
    Rights,
    /// A pointer to a buffer.
    Ptr,
    /// A page address to map at.
    Vaddr,
    /// A priority.
    Prio,
    /// Note bits.
    Bits,
    /// A time in microseconds.
    Micros,
    /// An I/O port.
    Port,
    /// An I/O width.
    Width,
    /// Anything (a message word, a badge, a status).
    Word,
}

/// The arguments of each syscall, as `abi::syscall` documents them (unused ones are `Word`).
fn schema(s: Sysno) -> [Arg; 6] {
    use Arg::*;
    const ANY: &[usize] = &[];
    const MEMORY: &[usize] = &[slot::MEMORY];
    const CSPACE: &[usize] = &[slot::CSPACE, slot::SMALL_CSPACE];
    const PAGE: &[usize] = &[slot::PAGE, slot::PAGE_READ_ONLY, slot::MAPPED_PAGE, slot::MAPPED_PAGE];
    const VSPACE: &[usize] = &[slot::VSPACE];
    const TASK: &[usize] = &[slot::TASK, slot::PARTNER, slot::SPARE_TASK, slot::SUSPENDED_TASK, slot::FAULTER];
    const ENDPOINT: &[usize] = &[slot::ENDPOINT, slot::ENDPOINT_BADGED];
    const RECV_ENDPOINT: &[usize] = &[slot::ENDPOINT, slot::CALL_ENDPOINT];
    const NOTE: &[usize] = &[slot::NOTE, slot::NOTE_BADGED];
    const TIMER: &[usize] = &[slot::TIMER];
    const IRQ: &[usize] = &[slot::IRQ];
    const IOPORT: &[usize] = &[slot::IOPORT];
    const REPLY: &[usize] = &[slot::REPLY];
    let w = Word;
    match s {
        Sysno::DebugWrite => [Cap(ANY), Ptr, Num, w, w, w],
        Sysno::CapCopy => [Cap(ANY), Cap(CSPACE), Dst, Rights, w, w],
        Sysno::CapMint => [Cap(ENDPOINT), Cap(CSPACE), Dst, Rights, Word, w],
        Sysno::CapMove => [Cap(ANY), Cap(CSPACE), Dst, w, w, w],
        Sysno::CapDelete | Sysno::CapRevoke | Sysno::CapIdentify => [Cap(ANY), w, w, w, w, w],
        Sysno::MemorySplit | Sysno::CSpaceCreate | Sysno::PageCreate => [Cap(MEMORY), Num, Dst, w, w, w],
        Sysno::MemoryInfo => [Cap(MEMORY), w, w, w, w, w],
        Sysno::VSpaceCreate | Sysno::TaskCreate | Sysno::EndpointCreate | Sysno::NoteCreate | Sysno::TimerCreate => {
            [Cap(MEMORY), Dst, w, w, w, w]
        }
        Sysno::PageMap => [Cap(PAGE), Cap(VSPACE), Vaddr, Rights, Cap(MEMORY), w],
        Sysno::PageUnmap | Sysno::PageInfo => [Cap(PAGE), w, w, w, w, w],
        Sysno::PageProtect => [Cap(PAGE), Rights, w, w, w, w],
        Sysno::TaskSetSpace => [Cap(TASK), Cap(CSPACE), Cap(VSPACE), w, w, w],
        Sysno::TaskSetPriority => [Cap(TASK), Cap(TASK), Prio, Prio, w, w],
        Sysno::TaskReadRegs | Sysno::TaskWriteRegs => [Cap(TASK), Ptr, w, w, w, w],
        Sysno::TaskSetFaultEndpoint => [Cap(TASK), Cap(ENDPOINT), w, w, w, w],
        Sysno::TaskSetIpcBuffer => [Cap(TASK), Vaddr, w, w, w, w],
        Sysno::TaskSetExitNote => [Cap(TASK), Cap(NOTE), Bits, w, w, w],
        Sysno::TaskSetFsBase => [Cap(TASK), Ptr, w, w, w, w],
        Sysno::TaskKill => [Cap(TASK), w, w, w, w, w],
        Sysno::LogRead => [Cap(ANY), Num, Ptr, Num, w, w],
        Sysno::PageCreateDevice => [Cap(ANY), Word, Num, Cap(MEMORY), Dst, w],
        Sysno::LogSetNote => [Cap(ANY), Cap(NOTE), Bits, w, w, w],
        Sysno::ConsoleRelease | Sysno::PowerOff => [Cap(ANY), w, w, w, w, w],
        Sysno::TaskStart | Sysno::TaskSuspend | Sysno::TaskResume | Sysno::TaskInfo => [Cap(TASK), w, w, w, w, w],
        Sysno::Send | Sysno::Call | Sysno::NbSend => [Cap(ENDPOINT), w, w, w, w, w],
        Sysno::Recv | Sysno::ReplyRecv | Sysno::NbRecv => [Cap(RECV_ENDPOINT), w, w, w, w, w],
        Sysno::ReplySave => [Cap(REPLY), w, w, w, w, w],
        Sysno::ReplyTo => [Cap(REPLY), w, w, w, w, w],
        Sysno::FaultReply => [Rights, Ptr, Ptr, Word, Word, w],
        Sysno::FaultReplyRecv => [Cap(RECV_ENDPOINT), Rights, Ptr, Ptr, Word, Word],
        Sysno::NoteSignal => [Cap(NOTE), Bits, w, w, w, w],
        Sysno::NoteWait | Sysno::NotePoll => [Cap(NOTE), w, w, w, w, w],
        Sysno::NoteBind => [Cap(NOTE), Cap(TASK), w, w, w, w],
        Sysno::TimerArm => [Cap(TIMER), Cap(NOTE), Bits, Micros, Micros, w],
        Sysno::TimerDisarm => [Cap(TIMER), w, w, w, w, w],
        Sysno::IrqBind => [Cap(ANY), Num, Cap(NOTE), Bits, Cap(MEMORY), Dst],
        Sysno::IrqAck => [Cap(IRQ), w, w, w, w, w],
        Sysno::IoPortCreate => [Cap(ANY), Port, Port, Cap(MEMORY), Dst, w],
        Sysno::IoPortIn => [Cap(IOPORT), Port, Width, w, w, w],
        Sysno::IoPortOut => [Cap(IOPORT), Port, Width, Word, w, w],
        Sysno::Exit | Sysno::Nop | Sysno::TaskYield | Sysno::Reply => [w; 6],
        // Anything newer names a capability first, it seems.
        _ => [Cap(ANY), w, w, w, w, w],
    }
}

/// Slots of the child's CSpace past the ones [`build_child`] fills: where what it makes lands.
const FIRST_MADE: usize = slot::LAST + 1;

/// An argument of kind `kind`.
fn typed_argument(r: &mut Rng, kind: Arg) -> usize {
    let n = r.below(100);
    match kind {
        Arg::Cap(preferred) if n < 45 && !preferred.is_empty() => r.pick(preferred),
        Arg::Cap(_) if n < 75 => 1 + r.below(FIRST_MADE as u64 - 1) as usize,
        Arg::Cap(_) if n < 95 => FIRST_MADE + r.below(24) as usize,
        Arg::Dst if n < 50 => SLOT_AUTO,
        Arg::Dst if n < 85 => FIRST_MADE + r.below(48) as usize,
        Arg::Dst if n < 95 => r.below(FIRST_MADE as u64) as usize,
        Arg::Num if n < 90 => r.pick(&SMALL),
        Arg::Rights if n < 95 => r.below(16) as usize,
        Arg::Ptr if n < 95 => pointer(r),
        Arg::Vaddr if n < 60 => MAPPED_AT + r.below(64) as usize * PAGE_SIZE,
        Arg::Vaddr if n < 75 => BUFFER,
        Arg::Vaddr if n < 95 => pointer(r) & !(PAGE_SIZE - 1),
        Arg::Prio if n < 80 => r.below(3) as usize,
        Arg::Prio if n < 95 => r.below(300) as usize,
        Arg::Bits if n < 70 => 1 << r.below(64),
        Arg::Bits if n < 95 => r.next() as usize,
        Arg::Micros if n < 80 => r.below(30_000) as usize,
        Arg::Micros if n < 95 => r.pick(&[0, 1, 86_400_000_000, 86_400_000_001, usize::MAX]),
        Arg::Port if n < 60 => POST_PORT,
        Arg::Port if n < 75 => r.pick(&[POST_PORT - 1, POST_PORT + 1, POST_PORT + 2, 0xffff, 0x1_0000]),
        Arg::Port if n < 95 => r.pick(&SMALL),
        Arg::Width if n < 75 => r.pick(&WIDTHS),
        Arg::Width if n < 95 => r.pick(&SMALL),
        _ => argument(r),
    }
}

/// Call `index` of the run's sequence: three in four follow the number's [`schema`], the rest
/// take any arguments; a `debug_write` is capped ([`cap_console_write`]).
fn call_at(params: &Params, index: u64) -> Call {
    let mut r = Rng::new(params.seed, index);
    let number = number(&mut r, params);
    let typed = r.below(4) != 0;
    // A sending number with an Extra takes the arguments of its number.
    let kinds = match Sysno::try_from(number as u32 as usize) {
        Ok(s) if typed => schema(s),
        _ => [Arg::Word; 6],
    };
    let mut args = [0usize; 6];
    for (a, kind) in args.iter_mut().zip(kinds) {
        *a = if kind == Arg::Word { argument(&mut r) } else { typed_argument(&mut r, kind) };
    }
    if number == Sysno::DebugWrite as usize {
        cap_console_write(&mut args);
    }
    Call { number, args }
}

/// Keeps the console readable: a `debug_write` of up to `DEBUG_WRITE_MAX` bytes (which the
/// kernel would write, given the console and readable bytes) gets at most [`CONSOLE_CAP`], and
/// a range wholly readable in the child's space moves to the same offset in [`TEXT`], so what
/// reaches the console is dots. Longer ones, which the kernel refuses before it reads a byte, and
/// ranges that touch unmapped or kernel memory (refused as well) stay as they are.
fn cap_console_write(args: &mut [usize; 6]) {
    let (ptr, len) = (args[1], args[2]);
    if len > DEBUG_WRITE_MAX {
        return;
    }
    let len = len.min(CONSOLE_CAP);
    args[2] = len;
    let Some(last) = ptr.checked_add(len.saturating_sub(1)) else { return };
    // `len` is at most a few bytes, so the range spans at most two pages: its ends say it all.
    let readable = len > 0 && child_readable(ptr) && child_readable(last);
    if readable && !(TEXT <= ptr && last < TEXT + PAGE_SIZE) {
        args[1] = TEXT + ptr % (PAGE_SIZE - CONSOLE_CAP);
    }
}

/// Whether `addr` is mapped readable in a child's space: its image, its stack, the progress
/// pages, the buffer page and [`TEXT`] ([`fuzz_syscalls`] makes that space; nothing maps
/// anything else in it, since no task holds its VSpace or a Page mapped in it but the root task).
fn child_readable(addr: usize) -> bool {
    let image = image_segments();
    let within = |start: usize, pages: usize| start <= addr && addr - start < pages * PAGE_SIZE;
    (image[0].start <= addr && addr < image[2].end)
        || within(STACK_TOP - STACK_PAGES * PAGE_SIZE, STACK_PAGES)
        || within(PROGRESS, PROGRESS_PAGES)
        || within(BUFFER, 1)
        || within(TEXT, 1)
}

/// Canaries for the callee-saved registers: rbx, rbp, r12, r13, r14, r15.
const CANARIES: [usize; 6] = [
    0xb0b0_1111_2222_3333,
    0xb9b9_4444_5555_6666,
    0x1212_7777_8888_9999,
    0x1313_aaaa_bbbb_cccc,
    0x1414_dddd_eeee_ffff,
    0x1515_0123_4567_89ab,
];

/// Makes the call with the callee-saved registers loaded with [`CANARIES`]: returns `rax`, the
/// six result registers, and the six callee-saved registers as they came back.
fn raw_call(c: &Call) -> (usize, [usize; 6], [usize; 6]) {
    let rax: usize;
    let mut out = [0usize; 6];
    let mut saved = CANARIES;
    // SAFETY: the child makes arbitrary syscalls on purpose. Memory the kernel may write for them
    // is the buffer page (which no Rust reference of this task ever points into) or nothing: the
    // pointer arguments name only the buffer page, the read-only image, and unmapped or
    // non-user addresses; and no capability this task holds can change its own mappings (it has
    // no capability to its VSpace nor to a Page mapped in it). Calls that change this task's own
    // state (its CSpace, its VSpace, its priority, its life) are the fuzzer's business: the
    // supervisor sees what follows. The assembly restores rbx and rbp (which cannot be operands)
    // and the stack pointer itself, handing their values out through rcx and r11 (which the
    // `syscall` instruction destroys anyway); r12-r15 are operands.
    unsafe {
        core::arch::asm!(
            "push rbx",
            "push rbp",
            "mov rbx, {k_rbx}",
            "mov rbp, {k_rbp}",
            "syscall",
            "mov rcx, rbx",
            "mov r11, rbp",
            "pop rbp",
            "pop rbx",
            k_rbx = const CANARIES[0],
            k_rbp = const CANARIES[1],
            lateout("rcx") saved[0],
            lateout("r11") saved[1],
            inlateout("r12") saved[2],
            inlateout("r13") saved[3],
            inlateout("r14") saved[4],
            inlateout("r15") saved[5],
            inlateout("rax") c.number => rax,
            inlateout("rdi") c.args[0] => out[0],
            inlateout("rsi") c.args[1] => out[1],
            inlateout("rdx") c.args[2] => out[2],
            inlateout("r10") c.args[3] => out[3],
            inlateout("r8") c.args[4] => out[4],
            inlateout("r9") c.args[5] => out[5],
            clobber_abi("sysv64"),
        );
    }
    (rax, out, saved)
}

/// The check of a successful result: `Some((register, value))` for one out of range.
fn result_out_of_range(number: Sysno, out: &[usize; 6]) -> Option<(usize, usize)> {
    let slot_limit = 1usize << MAX_RADIX;
    match number {
        Sysno::CapIdentify => {
            if Kind::from_number(out[0]).is_none() {
                return Some((0, out[0]));
            }
            if out[1] & !rights::ALL != 0 {
                return Some((1, out[1]));
            }
            None
        }
        Sysno::MemoryInfo => (out[1] > out[0]).then_some((1, out[1])),
        Sysno::TaskInfo => {
            if out[0] > State::BlockedNote as usize {
                return Some((0, out[0]));
            }
            if out[1] > MAX_PRIORITY {
                return Some((1, out[1]));
            }
            (out[2] > MAX_PRIORITY).then_some((2, out[2]))
        }
        Sysno::PageInfo => {
            if !out[0].is_multiple_of(PAGE_SIZE) {
                return Some((0, out[0]));
            }
            if !out[1].is_power_of_two() || out[1] > MAX_PAGE_COUNT {
                return Some((1, out[1]));
            }
            (!out[2].is_multiple_of(PAGE_SIZE)).then_some((2, out[2]))
        }
        Sysno::CapCopy
        | Sysno::CapMint
        | Sysno::CapMove
        | Sysno::MemorySplit
        | Sysno::CSpaceCreate
        | Sysno::VSpaceCreate
        | Sysno::PageCreate
        | Sysno::TaskCreate
        | Sysno::EndpointCreate
        | Sysno::NoteCreate
        | Sysno::TimerCreate
        | Sysno::ReplySave => (out[0] == 0 || out[0] >= slot_limit).then_some((0, out[0])),
        _ => None,
    }
}

/// The syscall `number` makes: its own, or for a sending one with an Extra in the high half,
/// the low half's (the Extra may still be invalid); anything else is undefined.
fn number_of(number: usize) -> Result<Sysno, AbiError> {
    match Sysno::try_from(number) {
        Ok(s) => Ok(s),
        Err(e) => match Sysno::try_from(number as u32 as usize) {
            Ok(s) if s.sends() => Ok(s),
            _ => Err(e),
        },
    }
}

/// Checks one call's outcome; `Some((violation, detail, detail2))` if it broke the ABI.
fn check(c: &Call, rax: usize, out: &[usize; 6], saved: &[usize; 6]) -> Option<(Violation, usize, usize)> {
    if let Some(i) = (0..6).find(|&i| saved[i] != CANARIES[i]) {
        return Some((Violation::CalleeSavedChanged, i, saved[i]));
    }
    // The status is the low half of `rax`; the high half is the Extra a successful receive got.
    let (status, high) = (rax & 0xffff_ffff, rax >> 32);
    let decoded = AbiError::from_code(status);
    if decoded == Err(None) {
        return Some((Violation::UndefinedCode, 0, 0));
    }
    let defined = number_of(c.number);
    let receives =
        matches!(defined, Ok(Sysno::Recv | Sysno::NbRecv | Sysno::Call | Sysno::ReplyRecv | Sysno::FaultReplyRecv));
    if high != 0 && (status != 0 || !receives || Extra::from_rax(rax as u64).is_none()) {
        return Some((Violation::UndefinedCode, 1, high));
    }
    match defined {
        Err(_) if decoded != Err(Some(AbiError::UnknownSyscall)) => {
            return Some((Violation::UnknownNotRefused, 0, 0));
        }
        Ok(_) if decoded == Err(Some(AbiError::UnknownSyscall)) => return Some((Violation::DefinedRefused, 0, 0)),
        // A sending number with an Extra that is not one.
        Ok(_) if Extra::from_rax(c.number as u64).is_none() && decoded != Err(Some(AbiError::InvalidArgument)) => {
            return Some((Violation::BadExtraNotRefused, 0, 0));
        }
        _ => {}
    }
    if status != 0 {
        if let Some(i) = (0..6).find(|&i| out[i] != c.args[i]) {
            return Some((Violation::ArgumentChanged, i, out[i]));
        }
        return None;
    }
    let (reg, value) = result_out_of_range(defined.ok()?, out)?;
    Some((Violation::ResultOutOfRange, reg, value))
}

/// The progress pages, as this task sees them (the child only).
fn progress() -> *mut Progress {
    core::ptr::with_exposed_provenance_mut(PROGRESS)
}

/// The fuzzing child: makes the calls of the run in its progress page from the index there on,
/// checks each, counts it, and exits with [`DONE`] after the last.
extern "C" fn fuzz_child(_: usize) -> ! {
    let p = progress();
    // SAFETY: (and for every access to `*p` below) the progress pages are mapped RW at PROGRESS
    // in this task's space, and nothing else of this task refers to them; the supervisor reads
    // and writes them only while this task does not run (it runs at a higher priority on the one
    // CPU, or this task is gone). Volatile, so that each count is in memory before the next call
    // (which may end the task).
    let params = unsafe { (&raw const (*p).head.params).read_volatile() };
    // SAFETY: as above.
    unsafe {
        let starts = &raw mut (*p).starts;
        starts.write_volatile(starts.read_volatile() + 1);
    }
    loop {
        // SAFETY: as above.
        let i = unsafe { (&raw const (*p).head.next).read_volatile() };
        if i >= params.calls {
            // SAFETY: as above.
            unsafe { (&raw mut (*p).head.finished).write_volatile(1) };
            exit_thread(DONE);
        }
        let c = call_at(&params, i);
        let console = c.number == Sysno::DebugWrite as usize && c.args[2] > 0;
        // SAFETY: as above. The next call starts after this one, whatever becomes of it.
        unsafe {
            (&raw mut (*p).head.next).write_volatile(i + 1);
            (&raw mut (*p).head.current).write_volatile(i);
            if console {
                let touched = &raw mut (*p).head.console_touched;
                touched.write_volatile(touched.read_volatile() + 1);
            }
        }
        let (rax, out, saved) = raw_call(&c);
        if let Some((v, detail, detail2)) = check(&c, rax, &out, &saved) {
            let record = [v as u64, i, c.number as u64, rax as u64, detail as u64, detail2 as u64];
            // SAFETY: as above.
            unsafe { (&raw mut (*p).head.violation).write_volatile(record) };
            vulcan_fuzz_violation(v as usize, i as usize, c.number, rax, detail, detail2);
        }
        // SAFETY: as above.
        unsafe {
            let returned = &raw mut (*p).returned;
            returned.write_volatile(returned.read_volatile() + 1);
            // The status, without a receive's Extra; a send with an Extra counts as its number's.
            let status = rax & 0xffff_ffff;
            let code = &raw mut (*p).by_code[status.min(31)];
            code.write_volatile(code.read_volatile() + 1);
            let number = c.number & 0xffff_ffff;
            if status == 0 && number < 256 {
                let ok = &raw mut (*p).ok_by_number[number];
                ok.write_volatile(ok.read_volatile() + 1);
            }
            if status == 0 {
                let n = (&raw const (*p).successes).read_volatile();
                (&raw mut (*p).recent[n as usize % RECENT]).write_volatile([i, out[0] as u64]);
                (&raw mut (*p).successes).write_volatile(n + 1);
                if console {
                    let bytes = &raw mut (*p).head.console_bytes;
                    bytes.write_volatile(bytes.read_volatile() + c.args[2] as u64);
                }
            }
            (&raw mut (*p).head.current).write_volatile(IDLE);
        }
    }
}

/// Badge of the fault endpoint capability the faults of the partner and caller threads come
/// through.
const PARTNER_FAULT_BADGE: usize = 0xf023;

/// The child's partner: a second thread in its CSpace, at its priority, that gives its calls on
/// the Endpoint somebody to talk to: it offers a message to a waiting receiver, then receives one
/// and answers it (if it was a call), over and over; it exits once its `recv` fails (its
/// capability gone or changed). It runs in an address space of its own (a clone of Vulcan's
/// image): whatever the child does to its registers, it cannot touch the child's memory.
extern "C" fn partner(_: usize) -> ! {
    let ep = Endpoint::at(slot::ENDPOINT);
    let mut n = 0usize;
    loop {
        n = n.wrapping_add(1);
        let _ = ep.nb_send([n, !n, n << 8, 0, PARTNER_FAULT_BADGE]);
        match ep.recv() {
            Ok(m) => {
                let _ = sys::ipc::reply(m.words);
            }
            Err(_) => exit_thread(0x9a27),
        }
    }
}

/// Where the [`caller`]'s stack ends, in the partner's space.
const CALLER_STACK_TOP: usize = 0x0000_5000_0010_0000;

/// Pages of the caller's stack.
const CALLER_STACK_PAGES: usize = 4;

/// The child's caller: a third thread in its CSpace, at its priority, in the partner's space (on
/// a stack of its own), that calls on a second Endpoint over and over, so that the child finds
/// a call waiting whenever it receives there, to answer at once (`reply`, `reply_recv`) or later
/// (`reply_save`, then `reply_to`). It exits once its `call` fails.
extern "C" fn caller(_: usize) -> ! {
    let ep = Endpoint::at(slot::CALL_ENDPOINT);
    let mut n = 0usize;
    loop {
        n = n.wrapping_add(1);
        if ep.call([n, n << 16, !n, 0, 0xca11]).is_err() {
            exit_thread(0xca11);
        }
    }
}

/// Where the faulting thread's code is, in a space of its own: one page, read-execute, of
/// `ud2`s (`0f 0b`), and nothing else mapped. The thread starts at its first `ud2`, with the
/// child's call Endpoint as its fault endpoint, so that the child receives fault messages there
/// too and can answer them (`reply`, `fault_reply`, ...). However it is resumed, it faults again
/// within 2,048 instructions: at an even offset it meets a `ud2`, at an odd one a run of `or ecx,
/// [rdi]` (`0b 0f`, no jump among them) that ends at the page's end, and everywhere else nothing
/// is mapped. So it never runs away, and it is a fault source for as long as it lives.
const FAULT_CODE: usize = 0x0000_4000_0000_0000;

/// Slots of a child's CSpace (radix 6): what [`build_child`] puts where.
mod slot {
    /// Its own CSpace.
    pub const CSPACE: usize = 1;
    /// A Memory of `CHILD_MEMORY_PAGES` to make things from.
    pub const MEMORY: usize = 2;
    /// An Endpoint.
    pub const ENDPOINT: usize = 3;
    /// A Note.
    pub const NOTE: usize = 4;
    /// A Timer.
    pub const TIMER: usize = 5;
    /// A CSpace of 4 slots.
    pub const SMALL_CSPACE: usize = 6;
    /// Its own Task.
    pub const TASK: usize = 7;
    /// A Page of one page, unmapped.
    pub const PAGE: usize = 8;
    /// An empty VSpace.
    pub const VSPACE: usize = 9;
    /// A READ-only copy of the Page.
    pub const PAGE_READ_ONLY: usize = 10;
    /// A WRITE-only copy of the Endpoint, badged.
    pub const ENDPOINT_BADGED: usize = 11;
    /// A WRITE-only copy of the Note, badged.
    pub const NOTE_BADGED: usize = 12;
    /// The partner thread's Task.
    pub const PARTNER: usize = 13;
    /// A copy of the DebugConsole (READ, for `log_read`, and WRITE).
    pub const CONSOLE: usize = 14;
    /// An IoPort for `[POST_PORT, POST_PORT + 1)`.
    pub const IOPORT: usize = 15;
    /// An IrqHandler for `FUZZ_IRQ`, signalling `IRQ_BITS` on the Note.
    pub const IRQ: usize = 16;
    /// An inactive Task with the small CSpace and the empty VSpace, ready to start (at priority
    /// 0, below the idle signaller, it never runs).
    pub const SPARE_TASK: usize = 17;
    /// A Page of one page mapped (RW) in the empty VSpace at `MAPPED_AT`.
    pub const MAPPED_PAGE: usize = 18;
    /// A Task like the spare one, started and then suspended (it never ran).
    pub const SUSPENDED_TASK: usize = 19;
    /// A second Endpoint, where the caller thread calls.
    pub const CALL_ENDPOINT: usize = 20;
    /// The caller thread's Task.
    pub const CALLER: usize = 21;
    /// The faulting thread's Task (see `FAULT_CODE`).
    pub const FAULTER: usize = 22;
    /// The last slot filled.
    pub const LAST: usize = FAULTER;
    /// Where the child's typed `reply_save` and `reply_to` put and find a Reply capability: the
    /// last slot, which `SLOT_AUTO` reaches last.
    pub const REPLY: usize = (1 << super::CHILD_RADIX) - 1;
}

/// Radix of a child's CSpace.
const CHILD_RADIX: usize = 6;

/// Makes a child from `m_child`: its CSpace and objects (see [`slot`]), its [`partner`] (in
/// `partner_space`), and the task, started at [`CHILD_PRIORITY`] in `space` with its faults
/// going to `fault_ep` (the partner's to `partner_fault_ep`). Every capability the root task
/// keeps for them is derived from `m_child`, so revoking `m_child` destroys it all (the console
/// copy, derived from the root task's, lives only in the child's CSpace, which dies with it).
fn build_child(
    m_child: Memory,
    space: &Space,
    partner_space: &Space,
    fault_space: &Space,
    fault_ep: Endpoint,
    partner_fault_ep: Endpoint,
) -> Result<Task, Reason> {
    let cs = ok!(CSpace::create(m_child, CHILD_RADIX, Slot::Auto), "cspace_create for a child");
    let put = |what: sys::Cap, at: usize, name: &str| -> TestResult {
        ok!(what.move_to(cs, Slot::At(at)), "cap_move({name}) into the child's slot {at}");
        Ok(())
    };
    ok!(cs.copy(cs, Slot::At(slot::CSPACE), rights::ALL), "cap_copy(child CSpace into itself)");
    // What the child is given is made from its own Memory, so that revoking that destroys it all
    // (the partner too); only its CSpace and Task come from `m_child`.
    let mem = ok!(m_child.split(CHILD_MEMORY_PAGES, Slot::Auto), "memory_split for a child");
    let ep = ok!(Endpoint::create(mem, Slot::Auto), "endpoint_create for a child");
    ok!(ep.mint(cs, Slot::At(slot::ENDPOINT_BADGED), rights::WRITE, 0xe9), "cap_mint(endpoint)");
    put(ep.cap(), slot::ENDPOINT, "endpoint")?;
    let note = ok!(Note::create(mem, Slot::Auto), "note_create for a child");
    ok!(note.mint(cs, Slot::At(slot::NOTE_BADGED), rights::WRITE, 0x40), "cap_mint(note)");
    let irq = IrqControl::root().bind(FUZZ_IRQ, note, IRQ_BITS, mem, Slot::Auto);
    let irq = ok!(irq, "irq_bind(IRQ {FUZZ_IRQ}) for a child (the previous child's handler should be gone)");
    put(irq.cap(), slot::IRQ, "irq handler")?;
    put(note.cap(), slot::NOTE, "note")?;
    let timer = ok!(Timer::create(mem, Slot::Auto), "timer_create for a child");
    put(timer.cap(), slot::TIMER, "timer")?;
    let small = ok!(CSpace::create(mem, 2, Slot::Auto), "cspace_create(2) for a child");
    let page = ok!(Page::create(mem, 1, Slot::Auto), "page_create for a child");
    ok!(page.copy(cs, Slot::At(slot::PAGE_READ_ONLY), rights::READ), "cap_copy(page, READ)");
    put(page.cap(), slot::PAGE, "page")?;
    let vs = ok!(VSpace::create(mem, Slot::Auto), "vspace_create for a child");
    let mapped = ok!(Page::create(mem, 1, Slot::Auto), "page_create (mapped) for a child");
    ok!(mapped.map(vs, MAPPED_AT, access::RW, mem), "page_map for a child");
    put(mapped.cap(), slot::MAPPED_PAGE, "mapped page")?;
    let spare = ok!(Task::create(mem, Slot::Auto), "task_create (spare) for a child");
    // SAFETY: a task just made has no spaces to drop and all-zero registers; these spaces are
    // the child's, not the root task's.
    ok!(unsafe { spare.set_space(small, vs) }, "task_set_space(spare task)");
    put(spare.cap(), slot::SPARE_TASK, "spare task")?;
    let suspended = ok!(Task::create(mem, Slot::Auto), "task_create (suspended) for a child");
    // SAFETY: as for the spare task.
    ok!(unsafe { suspended.set_space(small, vs) }, "task_set_space(suspended task)");
    ok!(suspended.start(), "task_start(suspended task)");
    ok!(suspended.suspend(), "task_suspend(suspended task)");
    put(suspended.cap(), slot::SUSPENDED_TASK, "suspended task")?;
    put(small.cap(), slot::SMALL_CSPACE, "small cspace")?;
    put(vs.cap(), slot::VSPACE, "vspace")?;
    let port = ok!(root::ioport_control().create(POST_PORT, POST_PORT + 1, mem, Slot::Auto), "ioport_create(0x80)");
    put(port.cap(), slot::IOPORT, "ioport")?;
    ok!(
        root::console().copy(cs, Slot::At(slot::CONSOLE), rights::READ | rights::WRITE),
        "cap_copy(console) for a child"
    );
    let launch = Launch {
        memory: mem,
        cspace: cs,
        vspace: partner_space.vspace(),
        entry: partner,
        arg: 0,
        rsp: partner_space.stack_pointer(),
        priority: CHILD_PRIORITY,
        fault_endpoint: Some(partner_fault_ep),
    };
    // SAFETY: the partner and the caller run in `partner_space`, a cloned space, with the
    // child's CSpace: neither is the root task's.
    let partner = unsafe { start_task(&launch)? };
    put(partner.cap(), slot::PARTNER, "partner task")?;
    let call_ep = ok!(Endpoint::create(mem, Slot::Auto), "endpoint_create (calls) for a child");
    let faulter = ok!(Task::create(mem, Slot::Auto), "task_create (faulter) for a child");
    // SAFETY: a task just made has no spaces to drop; the spaces are the child's CSpace and the
    // fault space, neither the root task's.
    ok!(unsafe { faulter.set_space(cs, fault_space.vspace()) }, "task_set_space(faulter)");
    let regs = sys::abi::task::Registers { rip: FAULT_CODE as u64, rflags: 0x202, ..Default::default() };
    // SAFETY: it runs the fault space's page of `ud2`s (see `FAULT_CODE`), in no space of the
    // root task's.
    ok!(unsafe { faulter.write_regs(&regs) }, "task_write_regs(faulter)");
    ok!(faulter.set_priority(root_task(), CHILD_PRIORITY, 0), "task_set_priority(faulter)");
    ok!(faulter.set_fault_endpoint(Some(call_ep)), "task_set_fault_endpoint(faulter, call endpoint)");
    ok!(faulter.start(), "task_start(faulter)");
    put(faulter.cap(), slot::FAULTER, "faulter task")?;
    put(call_ep.cap(), slot::CALL_ENDPOINT, "call endpoint")?;
    // SAFETY: as for the partner.
    let caller = unsafe { start_task(&Launch { entry: caller, rsp: CALLER_STACK_TOP - 8, ..launch })? };
    put(caller.cap(), slot::CALLER, "caller task")?;
    put(mem.cap(), slot::MEMORY, "memory")?;
    let launch = Launch {
        memory: m_child,
        vspace: space.vspace(),
        entry: fuzz_child,
        rsp: space.stack_pointer(),
        fault_endpoint: Some(fault_ep),
        ..launch
    };
    // SAFETY: the child runs in its own cloned space with its own CSpace.
    let task = unsafe { start_task(&launch)? };
    // They run only when the root task waits: the child's own capability can still be put in
    // place.
    ok!(task.copy(cs, Slot::At(slot::TASK), rights::ALL), "cap_copy(task) into the child's CSpace");
    Ok(task)
}

/// Priority of the [`IdleSignaller`]: below the child's, above the lowest (the tasks the child
/// makes get priority 0 at most, so they never run).
const IDLE_PRIORITY: usize = 1;

/// Signals the Note in slot 1 of its CSpace, over and over.
extern "C" fn idle_signal(_: usize) -> ! {
    let note = Note::at(1);
    loop {
        if note.signal(2).is_err() {
            exit_thread(0xbad);
        }
    }
}

/// A thread below the child that runs only when both the root task and the child wait, and then
/// signals the root task's bound Note: the supervisor sees a child that stopped or blocks at
/// once, not at the next timer tick. It runs in the root task's VSpace on a stack page of the
/// window, with a CSpace holding only a copy of the Note.
struct IdleSignaller {
    task: Task,
    cspace: CSpace,
    stack: Page,
}

impl IdleSignaller {
    fn start(memory: Memory, note: Note) -> Result<IdleSignaller, Reason> {
        let cspace = ok!(CSpace::create(memory, 1, Slot::Auto), "cspace_create(1) for the idle signaller");
        ok!(note.copy(cspace, Slot::At(1), rights::WRITE), "cap_copy(note) for the idle signaller");
        let (stack, rsp) = crate::space::root_stack(memory, 1)?;
        let launch = Launch {
            memory,
            cspace,
            vspace: VSpace::root(),
            entry: idle_signal,
            arg: 0,
            rsp,
            priority: IDLE_PRIORITY,
            fault_endpoint: None,
        };
        // SAFETY: a thread of Vulcan in the root VSpace: `idle_signal`, written to run so, on a
        // root stack of its own, with a CSpace of its own (no slots shared).
        let task = unsafe { start_task(&launch)? };
        Ok(IdleSignaller { task, cspace, stack })
    }

    fn stop(self) -> TestResult {
        let info = ok!(self.task.info(), "task_info(idle signaller)");
        ensure_eq!(info.state, Ok(State::Runnable), "state of the idle signaller");
        for c in [self.task.cap(), self.stack.cap(), self.cspace.cap()] {
            // SAFETY: in this order: the Task's death stops the thread and drops its CSpace and
            // the root VSpace (which the root task holds); its stack Page, mapped in the window,
            // is then used by nothing; the CSpace holds a copy of a Note.
            unsafe { delete_any(c)? };
        }
        Ok(())
    }
}

/// How a child ended, as the supervisor saw it.
#[derive(Copy, Clone, Debug)]
enum End {
    /// A fault message: its words.
    Fault([usize; 5]),
    /// No longer runnable: its state number and detail.
    Stopped(usize, usize),
    /// Runnable, at the priority it lowered itself to.
    Lowered,
    /// Runnable at its priority, its next index unmoved for this many milliseconds and looks;
    /// `rip` where it was.
    Stalled { ms: u64, looks: u64, rip: u64 },
}

/// What explains a child's end ([`explain`]).
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
enum Ended {
    /// It made the last call.
    Finished,
    /// `exit`.
    Exited,
    /// `task_destroy` of itself.
    Destroyed,
    /// `task_suspend` of itself.
    Suspended,
    /// A blocking call with nobody to meet.
    Blocked,
    /// `task_set_priority` of itself, to a priority it never runs at.
    Lowered,
    /// Faulted after `task_set_space` replaced its VSpace.
    Faulted,
    /// Faulted after `task_set_space` as well, its faults going to its own Endpoint, where its
    /// partner resumes it to fault again.
    FaultLoop,
}

/// The state's name, for messages.
fn state_name(n: usize) -> &'static str {
    match n {
        0 => "inactive",
        1 => "runnable",
        2 => "suspended",
        3 => "exited",
        4 => "faulted",
        5 => "blocked in send",
        6 => "blocked in recv",
        7 => "blocked for a reply",
        8 => "blocked in note_wait",
        _ => "an undefined state",
    }
}

/// Why the child ended as `end`, given the call it was making (`None`: it was between calls),
/// or why nothing explains it: a hung child (stalled in any call but `task_set_space`) or an
/// end no call accounts for. `finished` says the child made the last call.
fn explain(end: End, call: Option<Call>, finished: bool) -> Result<Ended, Reason> {
    let s = call.and_then(|c| c.sysno());
    let in_call = |n: Sysno| s == Some(n);
    let blocked_in = |calls: &[Sysno]| s.is_some_and(|s| calls.contains(&s)) || in_call(Sysno::TaskSetSpace);
    match end {
        End::Stopped(state, detail) if state == State::Exited as usize => {
            if finished && detail == DONE {
                return Ok(Ended::Finished);
            }
            match call {
                Some(c) if in_call(Sysno::Exit) => {
                    ensure_eq!(detail, c.args[0], "exit status task_info reports after exit({:#x})", c.args[0]);
                    Ok(Ended::Exited)
                }
                Some(_) if in_call(Sysno::TaskDestroy) && detail as u64 == DESTROYED => Ok(Ended::Destroyed),
                Some(c) if in_call(Sysno::TaskKill) => {
                    ensure_eq!(
                        detail,
                        c.args[1],
                        "exit status task_info reports after task_kill(self, {:#x})",
                        c.args[1]
                    );
                    Ok(Ended::Exited)
                }
                _ => fail!("exited with status {detail:#x}, though the call it was making ends no task"),
            }
        }
        End::Stopped(state, _) if state == State::Suspended as usize && in_call(Sysno::TaskSuspend) => {
            Ok(Ended::Suspended)
        }
        // A fault sends a message as a call would: BlockedSend, then BlockedReply.
        End::Stopped(state, _) if state == State::BlockedSend as usize && blocked_in(&[Sysno::Send, Sysno::Call]) => {
            Ok(Ended::Blocked)
        }
        End::Stopped(state, _)
            if state == State::BlockedRecv as usize
                && blocked_in(&[Sysno::Recv, Sysno::ReplyRecv, Sysno::FaultReplyRecv]) =>
        {
            Ok(Ended::Blocked)
        }
        End::Stopped(state, _) if state == State::BlockedReply as usize && blocked_in(&[Sysno::Call]) => {
            Ok(Ended::Blocked)
        }
        End::Stopped(state, _) if state == State::BlockedNote as usize && in_call(Sysno::NoteWait) => {
            Ok(Ended::Blocked)
        }
        End::Stopped(state, _) if state == State::Faulted as usize && in_call(Sysno::TaskSetSpace) => {
            Ok(Ended::Faulted)
        }
        End::Fault(_) if in_call(Sysno::TaskSetSpace) => Ok(Ended::Faulted),
        End::Lowered if in_call(Sysno::TaskSetPriority) => Ok(Ended::Lowered),
        End::Stalled { .. } if in_call(Sysno::TaskSetSpace) => Ok(Ended::FaultLoop),
        End::Stalled { ms, looks, rip } => fail!(
            "HUNG: runnable at priority {CHILD_PRIORITY}, its next index unmoved for {ms} ms over {looks} looks of the \
             supervisor, at rip {rip:#x}"
        ),
        End::Fault(w) => fail!(
            "faulted (vector {} at rip {:#x}, address {:#x}, error {:#x}), though the call it was making cannot fault it",
            w[fault::VECTOR],
            w[fault::RIP],
            w[fault::ADDRESS],
            w[fault::ERROR]
        ),
        End::Stopped(state, detail) => {
            fail!("{} (detail {detail:#x}), which the call it was making does not explain", state_name(state))
        }
        End::Lowered => fail!("its priority changed, though the call it was making cannot change it"),
    }
}

/// Tallies of how children ended, for the summary.
#[derive(Default)]
struct Tally {
    exited: u64,
    destroyed: u64,
    suspended: u64,
    blocked: u64,
    faulted: u64,
    lowered: u64,
    fault_loops: u64,
    partner_faults: u64,
}

/// What fails the test: counts, and the first of each.
#[derive(Default)]
struct Findings {
    violations: u64,
    unexplained: u64,
    leaks: u64,
    first_violation: Option<Reason>,
    first_unexplained: Option<Reason>,
    first_leak: Option<Reason>,
}

/// The supervisor's state during a run.
struct Run<'a> {
    params: Params,
    space: &'a mut Space,
    per_ms: u64,
    start: u64,
    tally: Tally,
    findings: Findings,
    /// `console_touched` when the supervisor last ended the line of dots.
    console_seen: u64,
    /// When the last heartbeat was printed.
    last_beat: u64,
}

impl Run<'_> {
    /// Milliseconds since the run started.
    fn elapsed_ms(&self) -> u64 {
        rdtsc().wrapping_sub(self.start) / self.per_ms
    }

    fn head(&mut self) -> Result<Head, Reason> {
        self.space.read(PROGRESS)
    }

    /// Ends the line of dots the children may have left on the console, so that what the
    /// supervisor prints next starts a line.
    fn break_line(&mut self) -> TestResult {
        let touched = self.head()?.console_touched;
        if touched != self.console_seen {
            sys::print!("\n");
            self.console_seen = touched;
        }
        Ok(())
    }

    /// Prints one line of the supervisor's.
    fn say(&mut self, args: core::fmt::Arguments<'_>) -> TestResult {
        self.break_line()?;
        sys::println!("fuzz: {args}");
        Ok(())
    }

    /// Prints the successful calls of the child that started at index `from` (as many as the
    /// progress pages remember) and the call it ended in: what reproduces its end.
    fn print_trace(&mut self, from: u64) -> TestResult {
        let p: Progress = self.space.read(PROGRESS)?;
        let seed = self.params.seed;
        self.say(format_args!("the successful calls of the child that started at index {from} (seed {seed:#x}):"))?;
        let first = p.successes.saturating_sub(RECENT as u64);
        for n in first..p.successes {
            let [index, result] = p.recent[n as usize % RECENT];
            if index >= from {
                let c = call_at(&self.params, index);
                self.say(format_args!("  #{index}: {} {:x?} -> {result:#x}", sysno_name(c.number).as_str(), c.args))?;
            }
        }
        let last = p.head.next.saturating_sub(1);
        let c = call_at(&self.params, last);
        let how = if p.head.current == last { "in flight" } else { "returned" };
        self.say(format_args!("  and its last call ({how}), #{last}: {} {:x?}", sysno_name(c.number).as_str(), c.args))
    }

    /// Prints a heartbeat every [`HEARTBEAT_MS`]: where the run is, should the kernel stop.
    fn heartbeat(&mut self, from: u64, next: u64) -> TestResult {
        let now = rdtsc();
        if now.wrapping_sub(self.last_beat) / self.per_ms >= HEARTBEAT_MS {
            self.last_beat = now;
            let (ms, calls) = (self.elapsed_ms(), self.params.calls);
            self.say(format_args!("{ms} ms: at call #{next} of {calls}, in the child that started at #{from}"))?;
        }
        Ok(())
    }

    /// Judges a child that started at `from` and ended as `end`: counts it, or records and
    /// prints what fails the test. Returns whether the run is finished.
    fn judge(&mut self, end: End, from: u64) -> Result<bool, Reason> {
        let head = self.head()?;
        let seed = self.params.seed;
        let upto = head.next;
        if head.violation[0] != 0 {
            self.findings.violations += 1;
            let why = describe_violation(&self.params, &head.violation, from);
            self.say(format_args!("VIOLATION {}", why.as_str()))?;
            self.print_trace(from)?;
            self.findings.first_violation.get_or_insert(why);
            return Ok(false);
        }
        let call = (head.current != IDLE).then(|| call_at(&self.params, head.current));
        match explain(end, call, head.finished != 0) {
            Ok(Ended::Finished) => return Ok(true),
            Ok(Ended::Exited) => self.tally.exited += 1,
            Ok(Ended::Destroyed) => self.tally.destroyed += 1,
            Ok(Ended::Suspended) => self.tally.suspended += 1,
            Ok(Ended::Blocked) => self.tally.blocked += 1,
            Ok(Ended::Lowered) => self.tally.lowered += 1,
            Ok(Ended::FaultLoop) => self.tally.fault_loops += 1,
            Ok(Ended::Faulted) => {
                self.tally.faulted += 1;
                if let (End::Fault(w), 1..=3) = (end, self.tally.faulted) {
                    self.say(format_args!(
                        "child ({from}..{upto}) faulted after task_set_space (as expected): vector {} at rip {:#x}, \
                         address {:#x}, error {:#x}",
                        w[fault::VECTOR],
                        w[fault::RIP],
                        w[fault::ADDRESS],
                        w[fault::ERROR]
                    ))?;
                }
            }
            Err(why) => {
                self.findings.unexplained += 1;
                let what = match call {
                    Some(c) => reason(format_args!(
                        "in call #{} {} {:x?}",
                        head.current,
                        sysno_name(c.number).as_str(),
                        c.args
                    )),
                    None => reason(format_args!("between calls (next #{upto})")),
                };
                let why = reason(format_args!(
                    "seed {seed:#x}: the child that started at index {from} ended {}: {}",
                    what.as_str(),
                    why.as_str()
                ));
                self.say(format_args!("UNEXPLAINED {}", why.as_str()))?;
                self.print_trace(from)?;
                self.findings.first_unexplained.get_or_insert(why);
            }
        }
        Ok(false)
    }
}

fn fuzz_syscalls(boot: &Boot) -> TestResult {
    let params = Params::from_boot(boot)?;
    sys::println!(
        "fuzz: seed {:#x}, {} calls{}; replay: cargo xtask test --fuzz-seed {:#x}; the children's console writes \
         show as dots",
        params.seed,
        params.calls,
        if params.skips > 0 { ", some numbers left out" } else { "" },
        params.seed
    );
    let t = split_root(2048)?;
    let start_used = ok!(t.info(), "memory_info(test memory)").used;
    let mut space = Space::clone_image(t)?;
    space.add(PROGRESS, PROGRESS_PAGES, access::RW)?;
    space.add(BUFFER, 1, access::RW)?;
    space.add(TEXT, 1, access::R)?;
    // SAFETY: `with_mapped` hands out the start of the TEXT page, mapped for the call alone at
    // TEMP (writable), a whole page that nothing else refers to.
    space.with_mapped(TEXT, |p| unsafe { core::ptr::write_bytes(p, CONSOLE_BYTE, PAGE_SIZE) })?;
    let fresh =
        Head { params, next: 0, current: IDLE, finished: 0, violation: [0; 6], console_touched: 0, console_bytes: 0 };
    space.write(PROGRESS, fresh)?;
    let mut partner_space = Space::clone_image(t)?;
    partner_space.add(CALLER_STACK_TOP - CALLER_STACK_PAGES * PAGE_SIZE, CALLER_STACK_PAGES, access::RW)?;
    let mut fault_space = Space::new(t)?;
    fault_space.add(FAULT_CODE, 1, access::READ | access::EXECUTE)?;
    // SAFETY: `with_mapped` hands out the start of the code page, mapped for the call alone at
    // TEMP (writable), a whole page that nothing else refers to (no task runs there yet).
    fault_space.with_mapped(FAULT_CODE, |p| unsafe {
        for i in (0..PAGE_SIZE).step_by(2) {
            p.add(i).write(0x0f);
            p.add(i + 1).write(0x0b);
        }
    })?;
    let fault_ep = ok!(Endpoint::create(t, Slot::Auto), "endpoint_create (fault)");
    let badged =
        Endpoint::new(ok!(fault_ep.mint(root::cspace(), Slot::Auto, rights::WRITE, FAULT_BADGE), "cap_mint(fault)"));
    let partner_badged = Endpoint::new(ok!(
        fault_ep.mint(root::cspace(), Slot::Auto, rights::WRITE, PARTNER_FAULT_BADGE),
        "cap_mint(fault)"
    ));
    let waiter = Waiter::new(boot, t)?;
    ok!(waiter.timer().arm(waiter.note(), 1, 0, sys::notify::TICK_US), "timer_arm(every tick)");
    let mut m_child = ok!(t.split(M_CHILD_PAGES, Slot::Auto), "memory_split(m_child)");
    let idle = IdleSignaller::start(t, waiter.note())?;

    let mut run = Run {
        params,
        space: &mut space,
        per_ms: tsc_per_ms(boot),
        start: rdtsc(),
        tally: Tally::default(),
        findings: Findings::default(),
        console_seen: 0,
        last_beat: rdtsc(),
    };
    let result = supervise(&mut run, &partner_space, &fault_space, t, &mut m_child, fault_ep, [badged, partner_badged]);
    let elapsed_ms = run.elapsed_ms();

    // Whatever happened: every child gone, everything deleted, the test's Memory as it started.
    // SAFETY: what is made from `m_child` (the children, their CSpaces, VSpaces, Pages and
    // whatever they made) lives in the children's own CSpaces and VSpaces: the children hold no
    // capability to the root task's VSpace, so none of it is mapped there.
    let revoked = unsafe { m_child.revoke() };
    let stopped = idle.stop();
    let _ = waiter.timer().disarm();
    waiter.destroy()?;
    let broken = run.break_line();
    result?;
    broken?;
    stopped?;
    ok!(revoked, "cap_revoke(m_child)");
    let progress: Progress = run.space.read(PROGRESS)?;
    let (tally, findings) = (run.tally, run.findings);
    for c in [m_child.cap(), badged.cap(), partner_badged.cap(), fault_ep.cap()] {
        delete(c)?;
    }
    space.destroy()?;
    partner_space.destroy()?;
    fault_space.destroy()?;
    if let Some(first) = &findings.first_leak {
        fail!("{} children leaked pages; the first: {}", findings.leaks, first.as_str());
    }
    ensure_eq!(ok!(t.info(), "memory_info(test memory)").used, start_used, "test Memory used after the run");
    delete(t.cap())?;

    // `exit` never returns: it counts when the supervisor saw a child exit.
    let succeeded = |s: Sysno| match s {
        Sysno::Exit => tally.exited,
        _ => progress.ok_by_number[s as usize],
    };
    let distinct = Sysno::ALL.iter().filter(|&&s| succeeded(s) > 0).count();
    let children = progress.starts;
    sys::println!(
        "fuzz: seed {:#x}: {} calls ({} returned: {} ok, {} errors) in {elapsed_ms} ms; {children} children: {} exited, \
         {} destroyed themselves, {} suspended themselves, {} blocked, {} lowered their priority, {} faulted after \
         task_set_space ({} in a fault loop), {} hung or ended unexplained; partner and caller threads faulted {} times; {} console bytes",
        params.seed,
        progress.head.next,
        progress.returned,
        progress.by_code[0],
        progress.returned - progress.by_code[0],
        tally.exited,
        tally.destroyed,
        tally.suspended,
        tally.blocked,
        tally.lowered,
        tally.faulted + tally.fault_loops,
        tally.fault_loops,
        findings.unexplained,
        tally.partner_faults,
        progress.head.console_bytes,
    );
    let mut exempt = Reason::new();
    let mut missing = Reason::new();
    for &s in Sysno::ALL.iter().filter(|&&s| succeeded(s) == 0) {
        match exemption(s, &params) {
            Some(why) => {
                let sep = if exempt.as_str().is_empty() { "" } else { ";" };
                let _ = write!(exempt, "{sep} {s:?} ({why})");
            }
            None => {
                let _ = write!(missing, " {s:?}");
            }
        }
    }
    sys::println!(
        "fuzz: {distinct} of {} syscalls succeeded at least once; never, exempt:{}{}",
        Sysno::ALL.len(),
        if exempt.as_str().is_empty() { " none" } else { exempt.as_str() },
        if missing.as_str().is_empty() { "" } else { "; never, NOT exempt (below)" },
    );
    if !missing.as_str().is_empty() {
        sys::println!("fuzz: never succeeded, NOT exempt:{}", missing.as_str());
    }
    ensure!(progress.head.next >= params.calls, "the run ended after {} of {} calls", progress.head.next, params.calls);
    if let Some(first) = findings.first_violation.as_ref().or(findings.first_unexplained.as_ref()) {
        fail!(
            "{} ABI violations, {} children hung or ended unexplained (each printed above with its calls); the first \
             {}: {}",
            findings.violations,
            findings.unexplained,
            if findings.violations > 0 { "violation" } else { "hang or unexplained end" },
            first.as_str()
        );
    }
    ensure!(
        // Each call that did not return ended a child (the last child may end on the last call).
        progress.returned + progress.starts >= params.calls,
        "returned {} + started {} children: fewer than the {} calls",
        progress.returned,
        progress.starts,
        params.calls
    );
    if params.calls >= COVERAGE_CALLS {
        ensure!(
            missing.as_str().is_empty(),
            "syscalls that never succeeded in {} calls of seed {:#x}, with no exemption:{}",
            params.calls,
            params.seed,
            missing.as_str()
        );
    } else if !missing.as_str().is_empty() {
        sys::println!("fuzz: (not checked: {} calls are fewer than {COVERAGE_CALLS})", params.calls);
    }
    Ok(())
}

/// Why a syscall may never succeed in a run, if it may.
fn exemption(s: Sysno, params: &Params) -> Option<&'static str> {
    match s {
        _ if params.skips(s as usize) => Some("left out of this run"),
        Sysno::IrqBind => {
            Some("needs an IrqControl; the kernel has no scoped one, and the root task's reaches every line")
        }
        Sysno::IoPortCreate => {
            Some("needs an IoPortControl; the kernel has no scoped one, and the root task's reaches every port")
        }
        Sysno::PageCreateDevice => {
            Some("needs a DeviceControl; the kernel has no scoped one, and the root task's reaches every device")
        }
        Sysno::PowerOff => Some("needs an IoPortControl; powering off would end the run"),
        Sysno::LogSetNote | Sysno::ConsoleRelease => {
            Some("needs an IoPortControl, the authority over COM1; releasing it would take the run's output away")
        }
        _ => None,
    }
}

/// Runs children until the sequence is done: each one is watched until it ends, then destroyed
/// (revoking `m_child`, which must then have nothing charged), judged, and replaced.
fn supervise(
    run: &mut Run<'_>,
    partner_space: &Space,
    fault_space: &Space,
    t: Memory,
    m_child: &mut Memory,
    fault_ep: Endpoint,
    badged: [Endpoint; 2],
) -> TestResult {
    let seed = run.params.seed;
    loop {
        let head = run.head()?;
        let from = head.next;
        if from >= run.params.calls {
            return Ok(());
        }
        // A fresh record for the new child: no call in flight, no violation.
        run.space.write(PROGRESS, Head { current: IDLE, violation: [0; 6], ..head })?;
        let task = build_child(*m_child, run.space, partner_space, fault_space, badged[0], badged[1])?;
        // Where the child was at the last look, and since when (TSC) and how many looks.
        let (mut seen, mut since, mut looks) = (from, rdtsc(), 0u64);
        let end = loop {
            let msg = ok!(fault_ep.recv(), "recv(fault endpoint)");
            if msg.badge == PARTNER_FAULT_BADGE {
                // The partner stays stopped (unanswered) until the child goes.
                run.tally.partner_faults += 1;
                continue;
            }
            if msg.badge != NOTE_BADGE {
                ensure_eq!(msg.badge, FAULT_BADGE, "badge of a message on the fault endpoint");
                break End::Fault(msg.words);
            }
            if run.elapsed_ms() > TIME_LIMIT_MS {
                let head = run.head()?;
                run.say(format_args!(
                    "TIME LIMIT: the run took more than {TIME_LIMIT_MS} ms; seed {seed:#x}, at call #{} in the child \
                     that started at #{from}",
                    head.next
                ))?;
                run.print_trace(from)?;
                fail!(
                    "the run took more than {TIME_LIMIT_MS} ms; seed {seed:#x}, stopped at call #{} in the child \
                     started at index {from}",
                    head.next
                );
            }
            let (state, priority, _, detail) = ok!(task_info(task.slot()), "task_info(child)");
            if state != State::Runnable as usize {
                break End::Stopped(state, detail);
            }
            if priority != CHILD_PRIORITY {
                // It lowered its own priority: it would run only in the gaps. Not worth waiting.
                break End::Lowered;
            }
            // Runnable at its priority: it must be getting somewhere.
            let next = run.head()?.next;
            run.heartbeat(from, next)?;
            let now = rdtsc();
            if next != seen {
                (seen, since, looks) = (next, now, 0);
                continue;
            }
            looks += 1;
            let ms = now.wrapping_sub(since) / run.per_ms;
            if looks >= STALL_LOOKS && ms >= STALL_MS {
                let rip = ok!(task.read_regs(), "task_read_regs(stalled child)").rip;
                break End::Stalled { ms, looks, rip };
            }
        };
        // SAFETY: as at the end of the run: nothing made from `m_child` is mapped in the root
        // task's VSpace.
        ok!(unsafe { m_child.revoke() }, "cap_revoke(m_child)");
        let left = ok!(m_child.info(), "memory_info(m_child)");
        if left.used != 0 {
            // Those pages are lost (nothing names what holds them): report, and go on with a fresh
            // Memory to find more.
            let upto = run.head()?.next;
            let why = reason(format_args!(
                "after the child that made calls {from}..{upto} of seed {seed:#x} was destroyed, {} pages are still \
                 charged to its Memory (ended: {end:?})",
                left.used
            ));
            run.say(format_args!("LEAK {}", why.as_str()))?;
            run.print_trace(from)?;
            run.findings.leaks += 1;
            run.findings.first_leak.get_or_insert(why);
            delete(m_child.cap())?;
            *m_child = ok!(t.split(M_CHILD_PAGES, Slot::Auto), "memory_split(m_child)");
        }
        if run.judge(end, from)? {
            return Ok(());
        }
    }
}

/// A syscall number's name, for messages.
fn sysno_name(n: usize) -> FixedBuf<24> {
    let mut b = FixedBuf::new();
    let _ = match Sysno::try_from(n) {
        Ok(s) => write!(b, "{s:?}"),
        Err(_) => write!(b, "{n:#x}"),
    };
    b
}

/// A violation kind's name, or its number if it has none.
struct ViolationName(u64);

impl core::fmt::Display for ViolationName {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match Violation::from_number(self.0) {
            Some(v) => write!(f, "{v:?}"),
            None => write!(f, "violation {}", self.0),
        }
    }
}

/// A violation the child recorded (`[kind, index, number, rax, detail, detail2]`), with the
/// call regenerated from the index.
fn describe_violation(params: &Params, v: &[u64; 6], from: u64) -> Reason {
    let [kind, index, _, rax, detail, detail2] = *v;
    let c = call_at(params, index);
    let name = number_of(c.number).map_or("undefined", |_| "defined");
    reason(format_args!(
        "{} (detail {detail:#x}, {detail2:#x}): seed {:#x} index {index} (child started at {from}): syscall {:#x} \
         ({name}) args {:x?} -> rax {rax:#x}",
        ViolationName(kind),
        params.seed,
        c.number,
        c.args,
    ))
}

/// Found by the fuzzer (seed 0x1 with 1,000,000 calls: the child that made calls 52782..53785
/// left 4 pages charged to `m_child` after it was revoked). A Reply capability is made as a root
/// of the derivation tree, so revoking the Memory its caller was made from does not reach it;
/// and it keeps its caller alive. Moved into the CSpace of the caller itself, it keeps that
/// CSpace alive too: once every other capability is gone, caller, CSpace and the Reply
/// capability in it keep each other alive, unreachable, their pages charged for good.
///
/// Here: a task P (CSpace C, fault endpoint E) faults at once; the root task receives the fault
/// message on E, saves the reply right (`reply_save`) and moves the Reply capability into C.
/// Deleting every capability to P, C and E must destroy them all and refund every page.
/// First the same without the move, where the Reply capability is simply deleted.
fn reply_cap_in_callers_cspace(boot: &Boot) -> TestResult {
    for move_into_c in [false, true] {
        let m = split_root(32)?;
        let waiter = Waiter::new(boot, m)?;
        let c = ok!(CSpace::create(m, 2, Slot::Auto), "cspace_create(2)");
        let e = ok!(Endpoint::create(m, Slot::Auto), "endpoint_create");
        let launch = Launch {
            memory: m,
            cspace: c,
            vspace: VSpace::root(),
            entry: fault_at_once,
            arg: 0,
            rsp: 0,
            priority: sys::task::ROOT_PRIORITY + 1,
            fault_endpoint: Some(e),
        };
        // SAFETY: `fault_at_once` faults at its first instruction (`ud2`), before it touches
        // memory or a capability, and is never resumed: it runs nothing in the root VSpace.
        let p = unsafe { start_task(&launch)? };
        let msg = waiter.recv(e, 5000, "the fault message of P")?;
        ensure_eq!(msg.words[fault::VECTOR], 6, "vector of P's fault");
        let reply = ok!(sys::ipc::reply_save(SLOT_AUTO), "reply_save");
        if move_into_c {
            ok!(sys::Cap::new(reply).move_to(c, Slot::At(1)), "cap_move(Reply capability into P's CSpace)");
        } else {
            delete(sys::Cap::new(reply))?;
        }
        waiter.destroy()?;
        for cap in [p.cap(), c.cap(), e.cap()] {
            // SAFETY: P runs in the root VSpace (which the root task holds) on no stack (it
            // faulted at once) with the CSpace `c`, which holds at most the Reply capability; `e`
            // is an Endpoint. Nothing mapped dies.
            unsafe { delete_any(cap)? };
        }
        let used = ok!(m.info(), "memory_info").used;
        if used != 0 {
            fail!(
                "with the Reply capability {}: after deleting every capability to P, its CSpace and its fault \
                 endpoint, {used} pages are still charged (a Reply capability is a derivation root: it keeps its \
                 caller alive, which keeps the CSpace holding it alive)",
                if move_into_c { "moved into P's CSpace" } else { "deleted" }
            );
        }
        delete(m.cap())?;
    }
    Ok(())
}

core::arch::global_asm!(
    ".pushsection .text.vulcan_fuzz_fault_at_once, \"ax\", @progbits",
    ".global vulcan_fuzz_fault_at_once",
    ".type vulcan_fuzz_fault_at_once, @function",
    "vulcan_fuzz_fault_at_once:",
    "    ud2",
    "    jmp vulcan_fuzz_fault_at_once",
    ".size vulcan_fuzz_fault_at_once, . - vulcan_fuzz_fault_at_once",
    ".popsection",
);

// SAFETY: the declaration matches the assembly above: it faults at once, never returns, and
// touches no memory (not even its stack).
unsafe extern "C" {
    #[link_name = "vulcan_fuzz_fault_at_once"]
    safe fn fault_at_once(arg: usize) -> !;
}
