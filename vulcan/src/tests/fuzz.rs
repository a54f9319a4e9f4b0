//! The syscall fuzzer: a task in an address space of its own makes [`CALLS`] random syscalls
//! from a fixed seed, and checks each answer against the ABI itself.
//!
//! The child runs in a clone of Vulcan's image ([`Space`]) with a CSpace of its own that holds
//! only capabilities made for it (see [`slot`]): a small Memory to make things from, and made
//! from that an Endpoint, a Note, a Timer, a small CSpace, a Page and a VSpace to play with, and
//! a [`partner`] thread (same space and CSpace, same priority) that answers on the Endpoint, so
//! that IPC calls meet somebody; its own CSpace and Task; a few copies with fewer rights or a
//! badge. Nothing in it reaches anything of the root task's: no console, no IRQ or port control,
//! none of the root task's objects, not even its own VSpace or the Pages mapped in it (so it
//! cannot change its own mappings). Everything of one child is made from one Memory, `m_child`.
//!
//! Call `i` is a pure function of the seed and `i` ([`call_at`], a xorshift generator seeded per
//! call), so the sequence can be continued anywhere and replayed: numbers weighted toward the
//! defined ones (`Sysno::ALL`; `exit` rarely, the blocking calls less often), with some
//! undefined and some arbitrary 64-bit ones; three calls in four with arguments that fit the
//! number ([`schema`]: the slot of a capability of the right kind, a free destination slot,
//! small counts, rights masks, page addresses, ...), the rest with anything: small slot
//! addresses, small numbers, `SLOT_AUTO`, huge values, arbitrary words, and pointers into the
//! child's buffer page (aligned, unaligned, running off its end), its read-only image, unmapped
//! memory, the kernel half and non-canonical addresses.
//!
//! What the child checks after every call (a failed check executes `ud2` in
//! `vulcan_fuzz_violation` with the kind, index, number, `rax` and details in `rdi`, `rsi`,
//! `rdx`, `rcx`, `r8`, `r9`; see [`Violation`]):
//! - `rax` is 0 or an error code `abi::Error::from_code` knows;
//! - an undefined number gets `UnknownSyscall`, a defined one never does;
//! - on an error, the six argument registers come back unchanged;
//! - `rbx`, `rbp` and `r12`-`r15` survive (loaded with canaries around the `syscall`);
//! - a few results are in range (`cap_identify`, `memory_info`, `task_info`, `page_info`, slots).
//!
//! Its progress (the next index, counts of results by code and of successes by number, the last
//! successful calls) lives in data pages of its space, which survive the child. The supervisor
//! (the root task) waits on the children's fault endpoint, with a Note bound to itself that a
//! periodic Timer signals every tick, and that an [`IdleSignaller`] below the child signals
//! whenever nothing else can run (so a child that blocks is seen at once, not at the next
//! tick). At each wake-up it looks at the child: a fault message, or a child that is no longer
//! runnable at its priority (it exited, suspended itself, lowered its priority, or blocks in a
//! `recv`, `call`, `note_wait`, ... with no partner), ends that child: `m_child` is revoked
//! (which destroys every object made from it, the child included) and must then read
//! `used == 0`, and a new child continues from the saved progress, after the call that ended the
//! previous one. A violation or a leak is printed with the seed, the index and the child's
//! successful calls (what reproduces it), and fails the test at the end; the run goes on, to
//! find more (a leak with a fresh `m_child`).
//!
//! At the end every child is gone and everything the test made is deleted: the test's Memory
//! reads its start value again, and the kernel is still up (the test returns).
//!
//! Build-time knobs for hunting (environment variables of `cargo xtask build`):
//! `VULCAN_FUZZ_SEED` and `VULCAN_FUZZ_CALLS` (decimal or `0x` hex) change the sequence;
//! `VULCAN_FUZZ_SKIP` (up to 8 comma-separated syscall numbers) leaves numbers out, to look past
//! a known bug.

use core::fmt::Write;

use sys::abi::Error as AbiError;
use sys::abi::layout::PAGE_SIZE;
use sys::abi::object::{Kind, MAX_RADIX};
use sys::abi::syscall::{SLOT_AUTO, Sysno};
use sys::abi::task::{MAX_PRIORITY, Registers, State, fault};
use sys::debug::FixedBuf;
use sys::ipc::Endpoint;
use sys::notify::{NOTE_BADGE, Note, Timer};
use sys::task::{Task, exit_thread, task_info};
use sys::vspace::{MAX_PAGE_COUNT, Page, VSpace, access};
use sys::{Boot, CSpace, Memory, Slot, rights, root};

use super::support::{delete, isolated, split_root};
use crate::harness::{Reason, Test, TestResult, ensure, ensure_eq, fail, ok, reason};
use crate::space::{Launch, Space, Waiter, image_segments, prime_window, rdtsc, start_task, tsc_per_ms};

pub const TESTS: &[Test] = &[
    Test::new("fuzz_syscalls_from_a_task_of_its_own", |b| {
        prime_window()?;
        isolated(b, fuzz_syscalls)
    }),
    // What the fuzzer found, each made into a test of its own.
    Test::new("fuzz_found_reply_cap_in_its_callers_cspace_leaks", |b| isolated(b, reply_cap_in_callers_cspace)),
];

/// The seed of the sequence: `VULCAN_FUZZ_SEED` at build time (decimal or `0x` hex), else a
/// fixed one.
pub const SEED: u64 = match option_env!("VULCAN_FUZZ_SEED") {
    Some(s) => parse_u64(s),
    None => 0x5eed_f022_2026_0001,
};

/// Calls in the sequence: `VULCAN_FUZZ_CALLS` at build time, else 100,000.
pub const CALLS: u64 = match option_env!("VULCAN_FUZZ_CALLS") {
    Some(s) => parse_u64(s),
    None => 100_000,
};

/// Syscall numbers the sequence leaves out: `VULCAN_FUZZ_SKIP` at build time, a comma-separated
/// list of up to 8 numbers (to look past a known bug), else none.
const SKIP: ([u64; 8], usize) = match option_env!("VULCAN_FUZZ_SKIP") {
    Some(s) => parse_list(s),
    None => ([0; 8], 0),
};

/// Whether the sequence leaves out syscall `n`.
fn skipped(n: usize) -> bool {
    SKIP.0[..SKIP.1].contains(&(n as u64))
}

/// Parses a comma-separated list of up to 8 numbers, at compile time.
const fn parse_list(s: &str) -> ([u64; 8], usize) {
    let b = s.as_bytes();
    let mut out = ([0u64; 8], 0usize);
    let mut start = 0;
    let mut i = 0;
    while i <= b.len() {
        if i == b.len() || b[i] == b',' {
            if i > start {
                assert!(out.1 < 8, "at most 8 numbers");
                out.0[out.1] = parse_bytes(b, start, i);
                out.1 += 1;
            }
            start = i + 1;
        }
        i += 1;
    }
    out
}

/// Parses a decimal or `0x` hexadecimal number (with `_` allowed), at compile time: a bad one
/// fails the build.
const fn parse_u64(s: &str) -> u64 {
    parse_bytes(s.as_bytes(), 0, s.len())
}

/// Parses `b[start..end]` as [`parse_u64`] does.
const fn parse_bytes(b: &[u8], start: usize, end: usize) -> u64 {
    let (b, _) = b.split_at(end);
    let (_, b) = b.split_at(start);
    let (mut i, radix) = if b.len() > 2 && b[0] == b'0' && (b[1] == b'x' || b[1] == b'X') { (2, 16) } else { (0, 10) };
    assert!(i < b.len(), "empty number");
    let mut v: u64 = 0;
    while i < b.len() {
        let d = match b[i] {
            b'_' => {
                i += 1;
                continue;
            }
            c @ b'0'..=b'9' => (c - b'0') as u64,
            c @ b'a'..=b'f' => (c - b'a' + 10) as u64,
            c @ b'A'..=b'F' => (c - b'A' + 10) as u64,
            _ => panic!("not a number"),
        };
        assert!(d < radix, "digit out of range");
        v = match v.checked_mul(radix) {
            Some(x) => match x.checked_add(d) {
                Some(y) => y,
                None => panic!("number too large"),
            },
            None => panic!("number too large"),
        };
        i += 1;
    }
    v
}

/// Exit status of a child that made the last call.
const DONE: usize = 0xd0_4e00_f022;

/// Where the child's progress page is, in its space.
const PROGRESS: usize = 0x0000_5000_0000_0000;

/// The child's buffer page, which pointer arguments point into; the page after it is unmapped.
const BUFFER: usize = 0x0000_5000_0001_0000;

/// The child's priority: below the root task's, so the supervisor runs at every tick.
const CHILD_PRIORITY: usize = 50;

/// Quota of the Memory the child makes things from.
const CHILD_MEMORY_PAGES: usize = 40;

/// Quota of `m_child`, which everything of one child is made from.
const M_CHILD_PAGES: usize = 96;

/// The longest the whole run may take.
const TIME_LIMIT_MS: u64 = 90_000;

/// Badge of the fault endpoint capability the children's faults come through.
const FAULT_BADGE: usize = 0xf022;

/// What [`PROGRESS`] holds.
#[repr(C)]
#[derive(Copy, Clone)]
struct Progress {
    /// Index of the next call to make.
    next: u64,
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
}

impl Violation {
    fn from_number(n: usize) -> Option<Violation> {
        use Violation::*;
        [UndefinedCode, UnknownNotRefused, DefinedRefused, ArgumentChanged, CalleeSavedChanged, ResultOutOfRange]
            .into_iter()
            .find(|v| *v as usize == n)
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
const BLOCKING: [Sysno; 5] = [Sysno::Send, Sysno::Recv, Sysno::Call, Sysno::ReplyRecv, Sysno::NoteWait];

/// One call: its number and arguments.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
struct Call {
    number: usize,
    args: [usize; 6],
}

/// A syscall number: see [`number_any`]; never one of [`SKIP`].
fn number(r: &mut Rng) -> usize {
    loop {
        let n = number_any(r);
        if !skipped(n) {
            return n;
        }
    }
}

/// A syscall number, weighted: mostly defined ones (`exit` rarely, blocking calls less often),
/// some below 0x100, some next to defined ones, some arbitrary.
fn number_any(r: &mut Rng) -> usize {
    let roll = r.below(100);
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
        86..=92 => r.below(0x100) as usize,
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
    /// Anything (a message word, a badge, a status).
    Word,
}

/// The arguments of each syscall, as `abi::syscall` documents them (unused ones are `Word`).
fn schema(s: Sysno) -> [Arg; 6] {
    use Arg::*;
    const ANY: &[usize] = &[];
    const MEMORY: &[usize] = &[slot::MEMORY];
    const CSPACE: &[usize] = &[slot::CSPACE, slot::SMALL_CSPACE];
    const PAGE: &[usize] = &[slot::PAGE, slot::PAGE_READ_ONLY];
    const VSPACE: &[usize] = &[slot::VSPACE];
    const TASK: &[usize] = &[slot::TASK, slot::PARTNER, slot::PARTNER];
    const ENDPOINT: &[usize] = &[slot::ENDPOINT, slot::ENDPOINT_BADGED];
    const NOTE: &[usize] = &[slot::NOTE, slot::NOTE_BADGED];
    const TIMER: &[usize] = &[slot::TIMER];
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
        Sysno::TaskStart | Sysno::TaskSuspend | Sysno::TaskResume | Sysno::TaskInfo => [Cap(TASK), w, w, w, w, w],
        Sysno::Send | Sysno::Recv | Sysno::Call | Sysno::ReplyRecv | Sysno::NbSend | Sysno::NbRecv => {
            [Cap(ENDPOINT), w, w, w, w, w]
        }
        Sysno::ReplySave => [Dst, w, w, w, w, w],
        Sysno::NoteSignal => [Cap(NOTE), Bits, w, w, w, w],
        Sysno::NoteWait | Sysno::NotePoll => [Cap(NOTE), w, w, w, w, w],
        Sysno::NoteBind => [Cap(NOTE), Cap(TASK), w, w, w, w],
        Sysno::TimerArm => [Cap(TIMER), Cap(NOTE), Bits, Micros, Micros, w],
        Sysno::TimerDisarm => [Cap(TIMER), w, w, w, w, w],
        Sysno::IrqBind => [Cap(ANY), Num, Cap(NOTE), Bits, Cap(MEMORY), Dst],
        Sysno::IoPortCreate => [Cap(ANY), Num, Num, Cap(MEMORY), Dst, w],
        Sysno::IoPortIn => [Cap(ANY), Num, Num, w, w, w],
        Sysno::IoPortOut => [Cap(ANY), Num, Num, Word, w, w],
        Sysno::Exit | Sysno::TaskYield | Sysno::Reply => [w; 6],
        // Anything newer names a capability first, it seems.
        _ => [Cap(ANY), w, w, w, w, w],
    }
}

/// Slots of the child's CSpace past the ones [`build_child`] fills: where what it makes lands.
const FIRST_MADE: usize = 14;

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
        Arg::Vaddr if n < 60 => 0x1000_0000 + r.below(64) as usize * PAGE_SIZE,
        Arg::Vaddr if n < 75 => BUFFER,
        Arg::Vaddr if n < 95 => pointer(r) & !(PAGE_SIZE - 1),
        Arg::Prio if n < 80 => r.below(3) as usize,
        Arg::Prio if n < 95 => r.below(300) as usize,
        Arg::Bits if n < 70 => 1 << r.below(64),
        Arg::Bits if n < 95 => r.next() as usize,
        Arg::Micros if n < 80 => r.below(30_000) as usize,
        Arg::Micros if n < 95 => r.pick(&[0, 1, 86_400_000_000, 86_400_000_001, usize::MAX]),
        _ => argument(r),
    }
}

/// Call `index` of the sequence `seed`: three in four follow the number's [`schema`], the rest
/// take any arguments.
fn call_at(seed: u64, index: u64) -> Call {
    let mut r = Rng::new(seed, index);
    let number = number(&mut r);
    let typed = r.below(4) != 0;
    let kinds = match Sysno::try_from(number) {
        Ok(s) if typed => schema(s),
        _ => [Arg::Word; 6],
    };
    let mut args = [0usize; 6];
    for (a, kind) in args.iter_mut().zip(kinds) {
        *a = if kind == Arg::Word { argument(&mut r) } else { typed_argument(&mut r, kind) };
    }
    Call { number, args }
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

/// Checks one call's outcome; `Some((violation, detail, detail2))` if it broke the ABI.
fn check(c: &Call, rax: usize, out: &[usize; 6], saved: &[usize; 6]) -> Option<(Violation, usize, usize)> {
    if let Some(i) = (0..6).find(|&i| saved[i] != CANARIES[i]) {
        return Some((Violation::CalleeSavedChanged, i, saved[i]));
    }
    let decoded = AbiError::from_code(rax);
    if decoded == Err(None) {
        return Some((Violation::UndefinedCode, 0, 0));
    }
    let defined = Sysno::try_from(c.number);
    match defined {
        Err(_) if decoded != Err(Some(AbiError::UnknownSyscall)) => {
            return Some((Violation::UnknownNotRefused, 0, 0));
        }
        Ok(_) if decoded == Err(Some(AbiError::UnknownSyscall)) => return Some((Violation::DefinedRefused, 0, 0)),
        _ => {}
    }
    if rax != 0 {
        if let Some(i) = (0..6).find(|&i| out[i] != c.args[i]) {
            return Some((Violation::ArgumentChanged, i, out[i]));
        }
        return None;
    }
    let (reg, value) = result_out_of_range(defined.ok()?, out)?;
    Some((Violation::ResultOutOfRange, reg, value))
}

/// The progress page, as this task sees it (the child only).
fn progress() -> *mut Progress {
    core::ptr::with_exposed_provenance_mut(PROGRESS)
}

/// The fuzzing child: makes the calls of sequence `seed` from the index in its progress page on,
/// checks each, counts it, and exits with [`DONE`] after the last.
extern "C" fn fuzz_child(seed: usize) -> ! {
    let p = progress();
    // SAFETY: (and for every access to `*p` below) the progress pages are mapped RW at PROGRESS
    // in this task's space, and nothing else of this task refers to them (its partner never
    // does); the supervisor touches them only once this task is gone. Volatile, so that each
    // count is in memory before the next call (which may end the task).
    unsafe {
        let starts = &raw mut (*p).starts;
        starts.write_volatile(starts.read_volatile() + 1);
    }
    loop {
        // SAFETY: as above.
        let i = unsafe { (&raw const (*p).next).read_volatile() };
        if i >= CALLS {
            exit_thread(DONE);
        }
        // SAFETY: as above. The next call starts after this one, whatever becomes of it.
        unsafe { (&raw mut (*p).next).write_volatile(i + 1) };
        let c = call_at(seed as u64, i);
        let (rax, out, saved) = raw_call(&c);
        if let Some((v, detail, detail2)) = check(&c, rax, &out, &saved) {
            vulcan_fuzz_violation(v as usize, i as usize, c.number, rax, detail, detail2);
        }
        // SAFETY: as above.
        unsafe {
            let returned = &raw mut (*p).returned;
            returned.write_volatile(returned.read_volatile() + 1);
            let code = &raw mut (*p).by_code[rax.min(31)];
            code.write_volatile(code.read_volatile() + 1);
            if rax == 0 && c.number < 256 {
                let ok = &raw mut (*p).ok_by_number[c.number];
                ok.write_volatile(ok.read_volatile() + 1);
            }
            if rax == 0 {
                let n = (&raw const (*p).successes).read_volatile();
                (&raw mut (*p).recent[n as usize % RECENT]).write_volatile([i, out[0] as u64]);
                (&raw mut (*p).successes).write_volatile(n + 1);
            }
        }
    }
}

/// Where the partner thread's stack ends, in the child's space.
const PARTNER_STACK_TOP: usize = 0x0000_5000_0010_0000;

/// Pages of the partner thread's stack.
const PARTNER_STACK_PAGES: usize = 4;

/// Badge of the fault endpoint capability the partner threads' faults come through.
const PARTNER_FAULT_BADGE: usize = 0xf023;

/// The child's partner: a second thread in its space and CSpace, at its priority, that gives
/// its calls on the Endpoint somebody to talk to: it offers a message to a waiting receiver,
/// then receives one and answers it (if it was a call), over and over; it exits once its
/// `recv` fails (its capability gone or changed).
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
}

/// Radix of a child's CSpace.
const CHILD_RADIX: usize = 6;

/// Makes a child from `m_child`: its CSpace and objects (see [`slot`]), its [`partner`], and the
/// task, started at [`CHILD_PRIORITY`] in `space` with its faults going to `fault_ep` (the
/// partner's to `partner_fault_ep`). Every capability the root task keeps for them is derived
/// from `m_child`, so revoking `m_child` destroys it all.
fn build_child(m_child: Memory, space: &Space, fault_ep: Endpoint, partner_fault_ep: Endpoint) -> Result<Task, Reason> {
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
    put(note.cap(), slot::NOTE, "note")?;
    let timer = ok!(Timer::create(mem, Slot::Auto), "timer_create for a child");
    put(timer.cap(), slot::TIMER, "timer")?;
    let small = ok!(CSpace::create(mem, 2, Slot::Auto), "cspace_create(2) for a child");
    put(small.cap(), slot::SMALL_CSPACE, "small cspace")?;
    let page = ok!(Page::create(mem, 1, Slot::Auto), "page_create for a child");
    ok!(page.copy(cs, Slot::At(slot::PAGE_READ_ONLY), rights::READ), "cap_copy(page, READ)");
    put(page.cap(), slot::PAGE, "page")?;
    let vs = ok!(VSpace::create(mem, Slot::Auto), "vspace_create for a child");
    put(vs.cap(), slot::VSPACE, "vspace")?;
    let launch = Launch {
        memory: mem,
        cspace: cs,
        vspace: space.vspace(),
        entry: partner,
        arg: 0,
        rsp: PARTNER_STACK_TOP - 8,
        priority: CHILD_PRIORITY,
        fault_endpoint: Some(partner_fault_ep),
    };
    let partner = start_task(&launch)?;
    put(partner.cap(), slot::PARTNER, "partner task")?;
    put(mem.cap(), slot::MEMORY, "memory")?;
    let task = start_task(&Launch {
        memory: m_child,
        entry: fuzz_child,
        arg: SEED as usize,
        rsp: space.stack_pointer(),
        fault_endpoint: Some(fault_ep),
        ..launch
    })?;
    // They run only when the root task waits: the child's own capability can still be put in
    // place.
    ok!(task.copy(cs, Slot::At(slot::TASK), rights::ALL), "cap_copy(task) into the child's CSpace");
    Ok(task)
}

/// Priority of the [`IdleSignaller`]: below the child's, above the lowest.
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
        let task = start_task(&Launch {
            memory,
            cspace,
            vspace: VSpace::root(),
            entry: idle_signal,
            arg: 0,
            rsp,
            priority: IDLE_PRIORITY,
            fault_endpoint: None,
        })?;
        Ok(IdleSignaller { task, cspace, stack })
    }

    fn stop(self) -> TestResult {
        let info = ok!(self.task.info(), "task_info(idle signaller)");
        ensure_eq!(info.state, Ok(State::Runnable), "state of the idle signaller");
        for c in [self.task.cap(), self.stack.cap(), self.cspace.cap()] {
            delete(c)?;
        }
        Ok(())
    }
}

/// How a child ended.
#[derive(Copy, Clone, Debug)]
enum End {
    /// A fault message: its words.
    Fault([usize; 5]),
    /// No longer runnable: its state number and detail.
    Stopped(usize, usize),
    /// Runnable, at the priority it lowered itself to.
    Lowered,
    /// Still runnable after [`CHILD_TIME_LIMIT_MS`].
    Hung,
}

/// How long one child may live before it counts as hung (a child and its partner can keep each
/// other busy without progress: the child faulting to its own Endpoint, the partner answering).
const CHILD_TIME_LIMIT_MS: u64 = 3000;

/// Tallies of how children ended, for the summary.
#[derive(Default)]
struct Tally {
    exited: u64,
    suspended: u64,
    blocked: u64,
    faulted: u64,
    lowered: u64,
    hung: u64,
    other: u64,
    violations: u64,
    leaks: u64,
    partner_faults: u64,
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

fn fuzz_syscalls(boot: &Boot) -> TestResult {
    let t = split_root(2048)?;
    let start_used = ok!(t.info(), "memory_info(test memory)").used;
    let mut space = Space::clone_image(t)?;
    space.add(PROGRESS, PROGRESS_PAGES, access::RW)?;
    space.add(BUFFER, 1, access::RW)?;
    space.add(PARTNER_STACK_TOP - PARTNER_STACK_PAGES * PAGE_SIZE, PARTNER_STACK_PAGES, access::RW)?;
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

    let result = supervise(boot, &mut space, t, &mut m_child, fault_ep, [badged, partner_badged]);

    // Whatever happened: every child gone, everything deleted, the test's Memory as it started.
    let revoked = m_child.revoke();
    let stopped = idle.stop();
    let _ = waiter.timer().disarm();
    waiter.destroy()?;
    let summary = result?;
    stopped?;
    ok!(revoked, "cap_revoke(m_child)");
    let progress: Progress = space.read(PROGRESS)?;
    for c in [m_child.cap(), badged.cap(), partner_badged.cap(), fault_ep.cap()] {
        delete(c)?;
    }
    space.destroy()?;
    if let Some(first) = &summary.first_leak {
        fail!("{} children leaked pages; the first: {}", summary.tally.leaks, first.as_str());
    }
    ensure_eq!(ok!(t.info(), "memory_info(test memory)").used, start_used, "test Memory used after the run");
    delete(t.cap())?;

    let distinct = progress.ok_by_number.iter().filter(|&&n| n > 0).count();
    sys::println!(
        "fuzz: seed {SEED:#x}: {} calls ({} returned: {} ok, {} errors); {} children ({} exited, {} suspended, \
         {} blocked, {} faulted, {} lowered their priority, {} hung, {} other; partners faulted {} times); \
         {distinct} syscalls succeeded at least once; {} ms",
        progress.next,
        progress.returned,
        progress.by_code[0],
        progress.returned - progress.by_code[0],
        progress.starts,
        summary.tally.exited,
        summary.tally.suspended,
        summary.tally.blocked,
        summary.tally.faulted,
        summary.tally.lowered,
        summary.tally.hung,
        summary.tally.other,
        summary.tally.partner_faults,
        summary.elapsed_ms,
    );
    let mut never = Reason::new();
    for s in Sysno::ALL.iter().filter(|s| progress.ok_by_number[**s as usize] == 0) {
        let _ = write!(never, " {s:?}");
    }
    sys::println!("fuzz: never succeeded:{}", never.as_str());
    ensure!(progress.next >= CALLS, "the run ended after {} of {CALLS} calls", progress.next);
    if let Some(first) = summary.first_violation {
        fail!("{} ABI violations; the first: {}", summary.tally.violations, first.as_str());
    }
    ensure!(
        progress.returned + progress.starts > CALLS,
        "returned {} + started {} children: fewer than the {CALLS} calls",
        progress.returned,
        progress.starts
    );
    Ok(())
}

/// What [`supervise`] found.
struct Summary {
    tally: Tally,
    first_violation: Option<Reason>,
    first_leak: Option<Reason>,
    elapsed_ms: u64,
}

/// Runs children until the sequence is done: each one is watched until it ends, then destroyed
/// (revoking `m_child`, which must then have nothing charged) and replaced.
fn supervise(
    boot: &Boot,
    space: &mut Space,
    t: Memory,
    m_child: &mut Memory,
    fault_ep: Endpoint,
    badged: [Endpoint; 2],
) -> Result<Summary, Reason> {
    let per_ms = tsc_per_ms(boot);
    let start = rdtsc();
    let mut tally = Tally::default();
    let mut first_violation = None;
    let mut first_leak = None;
    loop {
        let from: u64 = space.read(PROGRESS)?;
        if from >= CALLS {
            break;
        }
        let task = build_child(*m_child, space, badged[0], badged[1])?;
        let born = rdtsc();
        let end = loop {
            let msg = ok!(fault_ep.recv(), "recv(fault endpoint)");
            if msg.badge == PARTNER_FAULT_BADGE {
                // The partner stays stopped (unanswered) until the child goes.
                tally.partner_faults += 1;
                continue;
            }
            if msg.badge != NOTE_BADGE {
                ensure_eq!(msg.badge, FAULT_BADGE, "badge of a message on the fault endpoint");
                break End::Fault(msg.words);
            }
            let now = rdtsc();
            if now.wrapping_sub(start) / per_ms > TIME_LIMIT_MS {
                fail!("the run took more than {TIME_LIMIT_MS} ms; stopped in the child started at index {from}");
            }
            if now.wrapping_sub(born) / per_ms > CHILD_TIME_LIMIT_MS {
                break End::Hung;
            }
            let (state, priority, _, detail) = ok!(task_info(task.slot()), "task_info(child)");
            if state != State::Runnable as usize {
                break End::Stopped(state, detail);
            }
            if priority != CHILD_PRIORITY {
                // It lowered its own priority: it would run only in the gaps. Not worth waiting.
                break End::Lowered;
            }
        };
        // Registers of a violation, read before the child goes.
        let regs = match end {
            End::Fault(w) if w[fault::VECTOR] == 6 && w[fault::RIP] == vulcan_fuzz_violation as *const () as usize => {
                Some(ok!(task.read_regs(), "task_read_regs(child)"))
            }
            _ => None,
        };
        ok!(m_child.revoke(), "cap_revoke(m_child)");
        let left = ok!(m_child.info(), "memory_info(m_child)");
        let upto: u64 = space.read(PROGRESS)?;
        if left.used != 0 {
            // Those pages are lost (nothing names what holds them): report, and go on with a fresh
            // Memory to find more.
            let why = reason(format_args!(
                "after the child that made calls {from}..{upto} of seed {SEED:#x} was destroyed, {} pages are still \
                 charged to its Memory (ended: {end:?})",
                left.used
            ));
            sys::println!("fuzz: LEAK {}", why.as_str());
            print_trace(&space.read(PROGRESS)?, from);
            tally.leaks += 1;
            first_leak.get_or_insert(why);
            delete(m_child.cap())?;
            *m_child = ok!(t.split(M_CHILD_PAGES, Slot::Auto), "memory_split(m_child)");
        }
        match end {
            End::Fault(_) if regs.is_some() => {
                tally.violations += 1;
                let why = describe_violation(&regs.unwrap_or_default(), from);
                sys::println!("fuzz: VIOLATION {}", why.as_str());
                print_trace(&space.read(PROGRESS)?, from);
                first_violation.get_or_insert(why);
            }
            End::Fault(w) => {
                tally.faulted += 1;
                if tally.faulted <= 3 {
                    sys::println!(
                        "fuzz: child ({from}..{upto}) faulted: vector {} at rip {:#x}, address {:#x}, error {:#x}",
                        w[fault::VECTOR],
                        w[fault::RIP],
                        w[fault::ADDRESS],
                        w[fault::ERROR]
                    );
                }
            }
            End::Stopped(s, detail) if s == State::Exited as usize => {
                if detail == DONE {
                    break;
                }
                tally.exited += 1;
            }
            End::Stopped(s, _) if s == State::Suspended as usize => tally.suspended += 1,
            End::Stopped(s, _) if (State::BlockedSend as usize..=State::BlockedNote as usize).contains(&s) => {
                tally.blocked += 1
            }
            End::Lowered => tally.lowered += 1,
            End::Hung => {
                tally.hung += 1;
                sys::println!("fuzz: child ({from}..{upto}) still runnable after {CHILD_TIME_LIMIT_MS} ms; replaced");
            }
            End::Stopped(s, detail) => {
                tally.other += 1;
                sys::println!("fuzz: child ({from}..{upto}) stopped {} (detail {detail:#x})", state_name(s));
            }
        }
    }
    Ok(Summary { tally, first_violation, first_leak, elapsed_ms: rdtsc().wrapping_sub(start) / per_ms })
}

/// Prints the successful calls of the child that started at index `from` (as many as the
/// progress page remembers) and the call it ended in: what reproduces its end.
fn print_trace(p: &Progress, from: u64) {
    sys::println!("fuzz: the successful calls of the child that started at index {from} (seed {SEED:#x}):");
    let first = p.successes.saturating_sub(RECENT as u64);
    for n in first..p.successes {
        let [index, result] = p.recent[n as usize % RECENT];
        if index >= from {
            let c = call_at(SEED, index);
            sys::println!("fuzz:   #{index}: {} {:x?} -> {result:#x}", sysno_name(c.number).as_str(), c.args);
        }
    }
    let last = p.next.saturating_sub(1);
    let c = call_at(SEED, last);
    sys::println!("fuzz:   and its last call, #{last}: {} {:x?}", sysno_name(c.number).as_str(), c.args);
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

/// A violation the child reported in `regs`, with the call regenerated from the index.
fn describe_violation(regs: &Registers, from: u64) -> Reason {
    let (kind, index) = (regs.rdi as usize, regs.rsi);
    let c = call_at(SEED, index);
    let name = Sysno::try_from(c.number).map_or("undefined", |_| "defined");
    reason(format_args!(
        "{:?} (detail {:#x}, {:#x}): seed {SEED:#x} index {index} (child started at {from}): syscall {:#x} ({name}) \
         args {:#x?} -> rax {:#x}",
        Violation::from_number(kind).ok_or(kind),
        regs.r8,
        regs.r9,
        c.number,
        c.args,
        regs.rcx,
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
        let p = start_task(&Launch {
            memory: m,
            cspace: c,
            vspace: VSpace::root(),
            entry: fault_at_once,
            arg: 0,
            rsp: 0,
            priority: sys::task::ROOT_PRIORITY + 1,
            fault_endpoint: Some(e),
        })?;
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
            delete(cap)?;
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
