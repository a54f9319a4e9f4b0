//! The Perihelion microbenchmarks: the root task of `bench.tar`, booted by `cargo xtask bench`.
//!
//! Each figure is timed with `rdtsc` between two `lfence`s ([`tsc`]) around one operation,
//! [`WARMUP`] times unrecorded and then [`ITERATIONS`] times recorded; the median and the minimum
//! of the recorded samples are reported. Nothing is subtracted: every sample includes one
//! `lfence; rdtsc; lfence` pair and the user-side wrapper code of the operation (the
//! `rdtsc_overhead` figure is that pair alone). Under QEMU's TCG with `-icount shift=0` the TSC
//! advances by one per guest instruction, so the figures are instruction counts and repeat
//! exactly; under KVM they are TSC cycles.
//!
//! Each figure that repeats back to back also has a *batch form* ([`batch`]): [`BATCH`]
//! operations timed as a whole, divided by their number. Work an operation defers (to idle time,
//! the reaper, the next kernel entry) lands inside the batch, so `cargo xtask bench` checks that
//! the batch form agrees with the median. A one-way figure (from one task to another) cannot
//! repeat without the way back, so its `_cycle` figure, both ways timed by the root task, carries
//! the batch form for it.
//!
//! What each figure measures (see `docs/performance.md` for where the instructions go):
//!
//! - `null_syscall`: `syscall` with an undefined number ([`UNKNOWN_SYSCALL`]): entry, decode,
//!   the `UnknownSyscall` answer, the reaper check, the scheduler's choice, `sysret`.
//! - `ipc_call_reply`: the root task `call`s an Endpoint; the server, a task at the same
//!   priority in another address space (a copy of this program's image, see [`clone_image`]),
//!   answers with `reply_recv`. One sample is one round trip as the caller sees it: `call` in,
//!   switch to the server, the server's `reply_recv` in, switch back.
//! - `ipc_call_reply_same_space`: the same with the server a thread in the root task's address
//!   space (no CR3 switch).
//! - `nop_syscall`: the defined syscall that does nothing (`nop`), through its `sys` wrapper.
//! - `ipc_send_recv`: one way: the root task `send`s to a receiver waiting in `recv` at a higher
//!   priority in the other address space, from the root task's TSC read (sent as word 0) to the
//!   receiver's right after `recv` returns; `ipc_send_recv_cycle` is the root task's `send`
//!   until it returns (the receiver has run and waits again).
//! - `ipc_call_reply_cap`: `ipc_call_reply` with a capability carried by each call (through the
//!   IPC buffers); the server deletes it before it answers. `ipc_call_reply_words64`: each call
//!   and each reply carries 64 words beyond the five (`MAX_EXTRA_WORDS`).
//! - `note_signal_wait_cycle`: the root task's `note_signal` until it returns, the waiter having
//!   run and waited again.
//! - `irq_to_driver`: the RTC's periodic interrupt reaching a driver task that waits on its Note,
//!   from the interrupted task's last TSC read (see [`irq_to_driver`]).
//! - `note_signal_wait`: a task of higher priority in the other address space waits on a Note;
//!   the root task reads the TSC and signals the Note with the TSC value as the bits; the waiter
//!   reads the TSC as soon as `note_wait` returns and records the difference. One sample is
//!   signal to the waiter running: the root task's `note_signal` in, the switch, the waiter's
//!   return from `note_wait`. The waiter computes the figure in its own address space and sends
//!   it back in an IPC message.
//! - `fault_round_trip`: a task in the other address space with a fault endpoint executes `ud2`;
//!   its supervisor (the root task, waiting in `recv`) gets the fault message and answers with a
//!   fault reply that moves `rip` past the 2-byte instruction (`fault_reply_recv`). One sample,
//!   timed by the faulting task around `ud2`: exception entry, fault message delivery, switch to
//!   the supervisor, its decision and `fault_reply_recv`, switch back, return by `iretq`.
//! - `fault_round_trip_regs`: the same with the fault protocol before fault replies carried
//!   registers: the supervisor reads the registers, moves `rip`, writes them back and answers
//!   with a plain `reply_recv` (`task_read_regs`, `task_write_regs`, `reply_recv`). Until issue 8
//!   this was `fault_round_trip`; its code is unchanged.
//! - `yield`: the root task and a thread of its own address space, at the same priority, yield
//!   to each other. A sample is one `task_yield` of the root task until it runs again, which is
//!   two switches; the figure is half of it (per switch).
//! - `yield_other_space`: the same with the partner in the other address space.
//! - `thread_create_join`: `task_create`, `task_set_space`, `task_write_regs`,
//!   `task_set_priority` (above the root task's) and `task_start` of a thread that exits at
//!   once (it runs before `task_start` returns), `task_info` to see it exited, and `cap_delete`.
//! - `mutex_lock_unlock`: `sys::sync::Mutex::lock` and the guard's drop, uncontended.
//! - `mutex_handoff`: one way, the lock handed to a waiter: the root task holds the lock while a
//!   thread of higher priority waits in `lock`; from the root task's TSC read before it drops the
//!   guard to the thread's right after its `lock` returns (the wake-up, the switch, the thread's
//!   return from waiting). No batch form: it cannot repeat without the way back.
//! - `malloc_free_64`: `alloc` and `dealloc` of 64 bytes (align 8) through the global allocator
//!   (`sys::heap`).
//! - `thread_spawn_join`: `sys::thread::spawn` of a closure that returns at once, and `join`: a
//!   stack, TLS, an IPC buffer and a task made, started, waited for and taken apart.
//! - `rdtsc_overhead`: two [`tsc`] calls back to back, the floor of every other figure.
//!
//! Output: one `bench: NAME median M min N [batch B]` line per figure, then one line
//! `bench: {"cpu": ..., "iterations": N, "results": {NAME: {"median": M, "min": N, "batch": B},
//! ...}}` (no `batch` where a figure has none) that `cargo xtask bench` reads; the exit status is
//! 0 when every figure was measured.
#![no_std]
#![no_main]

extern crate alloc;

use core::alloc::Layout;
use core::cell::UnsafeCell;
use core::fmt::{self, Write};
use core::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use sys::abi::ipc::MAX_EXTRA_WORDS;
use sys::abi::layout::PAGE_SIZE;
use sys::abi::syscall::ARG_REGS;
use sys::abi::task::Registers;
use sys::debug::FixedBuf;
use sys::ipc::{Endpoint, Extra, Resume};
use sys::notify::Note;
use sys::sync::{Mutex, Semaphore};
use sys::task::{ROOT_PRIORITY, State, Task, exit_thread, root_task, yield_now};
use sys::vspace::{Page, VSpace, access};
use sys::{Boot, Cap, IoPort, IpcBufferPage, IrqControl, IrqHandler, Slot, rights, root};

sys::entry!(main);

/// A count set at build time by the variable `var` (`cargo xtask bench --trace` builds with few
/// iterations), or `default`.
const fn count(var: Option<&str>, default: usize) -> usize {
    let Some(text) = var else { return default };
    let digits = text.as_bytes();
    assert!(!digits.is_empty(), "an empty PERIHELION_BENCH_* count");
    let mut n = 0;
    let mut i = 0;
    while i < digits.len() {
        assert!(digits[i].is_ascii_digit(), "a PERIHELION_BENCH_* count is not a decimal number");
        n = n * 10 + (digits[i] - b'0') as usize;
        i += 1;
    }
    assert!(n > 0, "a PERIHELION_BENCH_* count of 0");
    n
}

/// Recorded samples per figure.
const ITERATIONS: usize = count(option_env!("PERIHELION_BENCH_ITERATIONS"), 10_000);

/// Unrecorded runs of the operation before the recorded ones (caches, TLB, branch predictors).
const WARMUP: usize = count(option_env!("PERIHELION_BENCH_WARMUP"), 1_000);

/// The syscall number of `null_syscall`: no syscall has it (checked before measuring).
const UNKNOWN_SYSCALL: usize = 0xfff;

/// Where the image copy maps each new page in the root task's address space while filling it:
/// canonical, in the user half, and far from everything the kernel and the loader map.
const SCRATCH: usize = 0x0000_6000_0000_0000;

/// The badge of the fault endpoint capability in `fault_round_trip` (reports come unbadged).
const FAULT_BADGE: usize = 0xfa;

/// Vector of the invalid-opcode exception `ud2` raises.
const INVALID_OPCODE: usize = 6;

/// Length of the `ud2` instruction.
const UD2_LEN: u64 = 2;

/// A failed step: what was done, and the error.
struct Failure {
    what: &'static str,
    why: FixedBuf<80>,
}

type Result<T> = core::result::Result<T, Failure>;

/// Turns a `sys` error into a [`Failure`] naming the step.
trait Context<T> {
    fn ctx(self, what: &'static str) -> Result<T>;
}

impl<T, E: fmt::Debug> Context<T> for core::result::Result<T, E> {
    fn ctx(self, what: &'static str) -> Result<T> {
        self.map_err(|e| {
            let mut why = FixedBuf::new();
            let _ = write!(why, "{e:?}");
            Failure { what, why }
        })
    }
}

/// A failure that is not a syscall error.
fn failure(what: &'static str, args: fmt::Arguments<'_>) -> Failure {
    let mut why = FixedBuf::new();
    let _ = why.write_fmt(args);
    Failure { what, why }
}

/// The TSC, read between two `lfence`s so that the instructions before it have completed and
/// none after it has started.
#[inline(always)]
fn tsc() -> u64 {
    let (lo, hi): (u32, u32);
    // SAFETY: `lfence` and `rdtsc` only order instructions and read the time-stamp counter (the
    // kernel never sets CR4.TSD, so `rdtsc` does not fault in user mode); the asm writes only
    // the two output registers. It is deliberately not `nomem`, so the compiler keeps memory
    // accesses on their side of it.
    unsafe {
        core::arch::asm!("lfence", "rdtsc", "lfence", out("eax") lo, out("edx") hi, options(nostack, preserves_flags))
    };
    (u64::from(hi) << 32) | u64::from(lo)
}

/// A figure: median and minimum of the samples, in TSC ticks, and its batch form (see
/// [`batch`]) where it has one.
#[derive(Copy, Clone, Debug, Default)]
struct Figure {
    median: u64,
    min: u64,
    batch: Option<u64>,
}

impl Figure {
    /// Every number halved (a sample that covered two of the thing measured).
    fn halved(self) -> Figure {
        Figure { median: self.median / 2, min: self.min / 2, batch: self.batch.map(|b| b / 2) }
    }

    /// The figure with its batch form.
    fn with_batch(self, batch: u64) -> Figure {
        Figure { batch: Some(batch), ..self }
    }
}

/// Operations in a batch form.
const BATCH: usize = count(option_env!("PERIHELION_BENCH_BATCH"), 1_000);

/// The batch form of a figure: `op` run [`BATCH`] times back to back, timed as a whole with one
/// pair of TSC reads, per operation (rounded down). Work an operation leaves for later (for
/// idle time, the reaper, or the next kernel entry) lands inside the batch, so a batch form that
/// agrees with the median says that the samples measured all of it. `op` gets the iteration
/// number.
fn batch(mut op: impl FnMut(usize) -> Result<()>) -> Result<u64> {
    let t0 = tsc();
    for i in 0..BATCH {
        op(i)?;
    }
    Ok((tsc() - t0) / BATCH as u64)
}

/// The sample buffer. Each address space has its own copy (the image copy has its own `.bss`),
/// used by one task at a time through [`measure`].
struct Samples(UnsafeCell<[u64; ITERATIONS]>);

// SAFETY: the buffer is only reached through `measure`, which `MEASURING` keeps from running
// twice at once in one address space.
unsafe impl Sync for Samples {}

static SAMPLES: Samples = Samples(UnsafeCell::new([0; ITERATIONS]));

/// Whether [`measure`] runs in this address space.
static MEASURING: AtomicBool = AtomicBool::new(false);

/// Runs `sample` [`WARMUP`] times, then [`ITERATIONS`] times recording what it returns, and
/// gives the median and minimum of the recorded values. `sample` gets the iteration number.
fn measure(mut sample: impl FnMut(usize) -> Result<u64>) -> Result<Figure> {
    if MEASURING.swap(true, Ordering::Acquire) {
        return Err(failure("measure", format_args!("already measuring in this address space")));
    }
    // SAFETY: `MEASURING` was clear and is now set, so no other reference to the buffer exists
    // in this address space until it is cleared below; `sample` cannot reach the buffer.
    let samples = unsafe { &mut *SAMPLES.0.get() };
    let mut run = || -> Result<Figure> {
        for i in 0..WARMUP {
            sample(i)?;
        }
        for (i, slot) in samples.iter_mut().enumerate() {
            *slot = sample(WARMUP + i)?;
        }
        samples.sort_unstable();
        Ok(Figure { median: samples[ITERATIONS / 2], min: samples[0], batch: None })
    };
    let result = run();
    MEASURING.store(false, Ordering::Release);
    result
}

/// A member of a ustar archive.
fn tar_member<'a>(tar: &'a [u8], name: &str) -> Option<&'a [u8]> {
    let mut at = 0usize;
    while let Some(header) = tar.get(at..at.checked_add(512)?) {
        if header.iter().all(|&b| b == 0) {
            return None;
        }
        let raw_name = &header[..100];
        let member = &raw_name[..raw_name.iter().position(|&b| b == 0).unwrap_or(100)];
        let mut size = 0usize;
        for &digit in header[124..136].iter().take_while(|&&b| (b'0'..=b'7').contains(&b)) {
            size = size.checked_mul(8)?.checked_add(usize::from(digit - b'0'))?;
        }
        let start = at + 512;
        let data = tar.get(start..start.checked_add(size)?)?;
        if member == name.as_bytes() || member.strip_prefix(b"./") == Some(name.as_bytes()) {
            return Some(data);
        }
        at = start.checked_add(size.div_ceil(512).checked_mul(512)?)?;
    }
    None
}

/// A loadable segment of an ELF image: its pages and their access.
#[derive(Copy, Clone, Debug)]
struct Segment {
    start: usize,
    end: usize,
    write: bool,
    execute: bool,
}

/// The `PT_LOAD` segments of an ELF64 image, page-rounded.
fn load_segments(elf: &[u8], mut each: impl FnMut(Segment) -> Result<()>) -> Result<()> {
    let bad = |what| failure("reading this program's ELF headers", format_args!("{what}"));
    let word = |at: usize, len: usize| -> Option<usize> {
        let bytes = elf.get(at..at + len)?;
        Some(bytes.iter().rev().fold(0usize, |acc, &b| (acc << 8) | usize::from(b)))
    };
    if elf.get(..4) != Some(b"\x7fELF".as_slice()) {
        return Err(bad("not an ELF file"));
    }
    let (phoff, phentsize, phnum) = match (word(32, 8), word(54, 2), word(56, 2)) {
        (Some(o), Some(s), Some(n)) if s == 56 && n <= 64 => (o, s, n),
        _ => return Err(bad("bad program header table")),
    };
    for i in 0..phnum {
        let ph = phoff + i * phentsize;
        let (Some(kind), Some(flags), Some(vaddr), Some(memsz)) =
            (word(ph, 4), word(ph + 4, 4), word(ph + 16, 8), word(ph + 40, 8))
        else {
            return Err(bad("truncated program header"));
        };
        if kind != 1 || memsz == 0 {
            continue;
        }
        let start = vaddr & !(PAGE_SIZE - 1);
        let end = vaddr.checked_add(memsz).map(|e| e.next_multiple_of(PAGE_SIZE)).ok_or_else(|| bad("segment end"))?;
        each(Segment { start, end, write: flags & 2 != 0, execute: flags & 1 != 0 })?;
    }
    Ok(())
}

/// Copies the page at `page` of this program into `pg`, through a mapping at [`SCRATCH`] made
/// and removed here.
fn copy_page(pg: Page, page: usize) -> Result<()> {
    pg.map(VSpace::root(), SCRATCH, access::RW, root::memory()).ctx("page_map (scratch)")?;
    let src = core::ptr::with_exposed_provenance::<u8>(page);
    let dst = core::ptr::with_exposed_provenance_mut::<u8>(SCRATCH);
    // SAFETY: `page` is a page of this program's loaded image (a `PT_LOAD` segment of its own
    // ELF file), mapped readable for the program's whole life; `SCRATCH` was just mapped
    // read-write to a fresh Page that nothing else maps or refers to. The two do not overlap.
    // Statics of the image may be read while Rust code holds references to them, but nothing
    // writes them during the copy: this task is the only one running in this address space
    // (the partner threads run only while it waits, and none is alive while images are
    // copied). No reference into `SCRATCH` outlives this statement.
    unsafe { core::ptr::copy_nonoverlapping(src, dst, PAGE_SIZE) };
    // SAFETY: nothing refers to the memory at `SCRATCH` any more (see above).
    unsafe { pg.unmap() }.ctx("page_unmap (scratch)")
}

/// A new VSpace holding a copy of this program's image as it is now: for every page of every
/// loadable segment of its ELF file (`init` in the initramfs), a new Page with the same contents,
/// mapped at the same address with the segment's access. Returns the VSpace capability. Tasks
/// started in it run this program's code on private copies of its data (the statics' values at
/// the time of the copy); they share the root task's CSpace, so capability addresses mean the
/// same there.
fn clone_image(boot: &Boot) -> Result<VSpace> {
    let initramfs = boot.initramfs().ok_or_else(|| failure("clone_image", format_args!("no initramfs")))?;
    let elf = tar_member(initramfs, "init")
        .ok_or_else(|| failure("clone_image", format_args!("no `init` member in the initramfs")))?;
    let vspace = VSpace::create(root::memory(), Slot::Auto).ctx("vspace_create")?;
    load_segments(elf, |seg| {
        let mut rights = access::READ;
        if seg.write {
            rights |= access::WRITE;
        }
        if seg.execute {
            rights |= access::EXECUTE;
        }
        for page in (seg.start..seg.end).step_by(PAGE_SIZE) {
            let pg = Page::create(root::memory(), 1, Slot::Auto).ctx("page_create")?;
            copy_page(pg, page)?;
            pg.map(vspace, page, rights, root::memory()).ctx("page_map (image copy)")?;
        }
        Ok(())
    })?;
    Ok(vspace)
}

/// Bytes of the partner tasks' stack.
const STACK_BYTES: usize = 32 * 1024;

/// The stack of the partner task alive in an address space (one at a time in each: every
/// partner is stopped before the next one starts). The root task never runs on it.
#[repr(C, align(16))]
struct Stack(UnsafeCell<[u8; STACK_BYTES]>);

// SAFETY: Rust code never makes a reference into it; only a partner task runs on it.
unsafe impl Sync for Stack {}

static STACK: Stack = Stack(UnsafeCell::new([0; STACK_BYTES]));

/// A partner task's entry: called with three arguments, never returns.
type Entry = extern "C" fn(usize, usize, usize) -> !;

/// Starts a task that calls `entry(args)` on [`STACK`], in the root task's CSpace and the VSpace
/// `vspace`, at `priority`, with `fault_ep` as its fault endpoint.
fn start_task(
    vspace: VSpace,
    entry: Entry,
    args: [usize; 3],
    priority: usize,
    fault_ep: Option<Endpoint>,
) -> Result<Task> {
    let task = Task::create(root::memory(), Slot::Auto).ctx("task_create")?;
    // SAFETY: a task just made has no spaces to drop and all-zero registers (written below).
    unsafe { task.set_space(root::cspace(), vspace) }.ctx("task_set_space")?;
    // As at a function entry: 16-byte aligned less the 8 bytes of a return address.
    let rsp = (STACK.0.get().addr() + STACK_BYTES) - 8;
    let regs = Registers {
        rip: entry as usize as u64,
        rsp: rsp as u64,
        rdi: args[0] as u64,
        rsi: args[1] as u64,
        rdx: args[2] as u64,
        rflags: 0x202,
        ..Registers::default()
    };
    // SAFETY: the code contract: `entry` is a partner function of this benchmark, meant to run
    // as a task in the root CSpace and `vspace` (the root VSpace or a copy of the image), on
    // `STACK`, which only the one partner alive in that space uses. The partners make no
    // capability calls but IPC and Notes, so the shared-slot rule holds.
    unsafe { task.write_regs(&regs) }.ctx("task_write_regs")?;
    task.set_fault_endpoint(fault_ep).ctx("task_set_fault_endpoint")?;
    task.set_priority(root_task(), priority, 0).ctx("task_set_priority")?;
    task.start().ctx("task_start")?;
    Ok(task)
}

/// Stops a partner task for good (deleting its only capability stops it at once).
fn stop(task: Task) -> Result<()> {
    // SAFETY: a partner runs in the root CSpace and in a VSpace the benchmark holds a capability
    // to (the root task's own, or an image copy): its death stops it and ends nothing else.
    unsafe { task.cap().delete() }.ctx("cap_delete(task)")
}

/// A figure measured in another task, sent back as `[median, min, 0, batch, 0]` on `report`
/// (batch 0: none), then the task exits. A failure is sent as `[0, 0, 1, 0, 0]`.
fn report(report: usize, figure: Result<Figure>) -> ! {
    let words = match figure {
        Ok(f) => [f.median as usize, f.min as usize, 0, f.batch.unwrap_or(0) as usize, 0],
        Err(_) => [0, 0, 1, 0, 0],
    };
    let _ = Endpoint::at(report).send(words);
    exit_thread(0)
}

/// The figure in a report message.
fn reported(words: [usize; 5], what: &'static str) -> Result<Figure> {
    if words[2] != 0 {
        return Err(failure(what, format_args!("the measuring task failed")));
    }
    let batch = (words[3] != 0).then_some(words[3] as u64);
    Ok(Figure { median: words[0] as u64, min: words[1] as u64, batch })
}

/// `null_syscall`.
fn null_syscall() -> Result<Figure> {
    // SAFETY: an undefined syscall number touches no memory of the caller.
    let (rax, _) = unsafe { sys::syscall::syscall(UNKNOWN_SYSCALL, [0; ARG_REGS]) };
    if sys::Error::check(rax) != Err(sys::Error::Abi(sys::abi::Error::UnknownSyscall)) {
        return Err(failure("null_syscall", format_args!("syscall {UNKNOWN_SYSCALL:#x} answered {rax:#x}")));
    }
    let figure = measure(|_| {
        let t0 = tsc();
        // SAFETY: as above.
        unsafe { sys::syscall::syscall(UNKNOWN_SYSCALL, [0; ARG_REGS]) };
        Ok(tsc() - t0)
    })?;
    let b = batch(|_| {
        // SAFETY: as above.
        unsafe { sys::syscall::syscall(UNKNOWN_SYSCALL, [0; ARG_REGS]) };
        Ok(())
    })?;
    Ok(figure.with_batch(b))
}

/// `nop_syscall`: the defined system call that does nothing.
fn nop_syscall() -> Result<Figure> {
    let figure = measure(|_| {
        let t0 = tsc();
        sys::syscall::nop().ctx("nop")?;
        Ok(tsc() - t0)
    })?;
    let b = batch(|_| sys::syscall::nop().ctx("nop"))?;
    Ok(figure.with_batch(b))
}

/// `rdtsc_overhead`.
fn rdtsc_overhead() -> Result<Figure> {
    measure(|_| {
        let t0 = tsc();
        Ok(tsc() - t0)
    })
}

/// The IPC server: answers every call with the words it brought.
extern "C" fn ipc_server(ep: usize, _: usize, _: usize) -> ! {
    let ep = Endpoint::at(ep);
    let mut next = ep.recv();
    loop {
        match next {
            Ok(m) => next = ep.reply_recv(m.words),
            Err(_) => exit_thread(1),
        }
    }
}

/// `ipc_call_reply` with the server in `vspace`.
fn ipc_call_reply(vspace: VSpace) -> Result<Figure> {
    let ep = Endpoint::create(root::memory(), Slot::Auto).ctx("endpoint_create")?;
    let server = start_task(vspace, ipc_server, [ep.slot(), 0, 0], ROOT_PRIORITY, None)?;
    let figure = measure(|i| {
        let words = [i, 1, 2, 3, 4];
        let t0 = tsc();
        let answer = ep.call(words).ctx("call")?;
        let t = tsc() - t0;
        if answer != words {
            return Err(failure("call", format_args!("answered {answer:?}, sent {words:?}")));
        }
        Ok(t)
    });
    let figure = figure.and_then(|f| Ok(f.with_batch(batch(|i| ep.call([i, 1, 2, 3, 4]).ctx("call").map(drop))?)));
    stop(server)?;
    ep.delete().ctx("cap_delete(endpoint)")?;
    figure
}

/// The Note waiter: waits on `note` and records, after each wake, the TSC less the bits (the
/// signaller's TSC), then reports the figure on `report`.
extern "C" fn note_waiter(note: usize, report_ep: usize, _: usize) -> ! {
    let note = Note::at(note);
    let figure = measure(|_| {
        let bits = note.wait().ctx("note_wait")?;
        Ok(tsc().wrapping_sub(bits as u64))
    });
    report(report_ep, figure)
}

/// `note_signal_wait` with the waiter in `vspace`.
fn note_signal_wait(vspace: VSpace) -> Result<Figure> {
    let note = Note::create(root::memory(), Slot::Auto).ctx("note_create")?;
    let ep = Endpoint::create(root::memory(), Slot::Auto).ctx("endpoint_create")?;
    // Above the root task: it runs at once, and blocks in `note_wait`.
    let waiter = start_task(vspace, note_waiter, [note.slot(), ep.slot(), 0], ROOT_PRIORITY + 1, None)?;
    let mut signalled = Ok(());
    for _ in 0..WARMUP + ITERATIONS {
        // The waiter runs before `signal` returns, and waits again.
        let t0 = tsc();
        if let Err(e) = note.signal(t0 as usize).ctx("note_signal") {
            signalled = Err(e);
            break;
        }
    }
    let figure = signalled.and_then(|()| reported(ep.recv().ctx("recv (report)")?.words, "note waiter"));
    stop(waiter)?;
    ep.delete().ctx("cap_delete(endpoint)")?;
    note.delete().ctx("cap_delete(note)")?;
    figure
}

/// A waiter that waits on `note` forever: the partner of `note_signal_wait_cycle`.
extern "C" fn note_loop(note: usize, _: usize, _: usize) -> ! {
    let note = Note::at(note);
    loop {
        if note.wait().is_err() {
            exit_thread(1);
        }
    }
}

/// `note_signal_wait_cycle`: the root task's `note_signal` until it returns, the waiter (above
/// the root task, in `vspace`) having woken and waited again in between: `note_signal_wait` and
/// the way back. Its batch form stands for both (a one-way figure has none of its own).
fn note_signal_wait_cycle(vspace: VSpace) -> Result<Figure> {
    let note = Note::create(root::memory(), Slot::Auto).ctx("note_create")?;
    let waiter = start_task(vspace, note_loop, [note.slot(), 0, 0], ROOT_PRIORITY + 1, None)?;
    let figure = measure(|i| {
        let t0 = tsc();
        note.signal(i | 1).ctx("note_signal")?;
        Ok(tsc() - t0)
    });
    let figure = figure.and_then(|f| Ok(f.with_batch(batch(|i| note.signal(i | 1).ctx("note_signal"))?)));
    stop(waiter)?;
    note.delete().ctx("cap_delete(note)")?;
    figure
}

/// The receiver of `ipc_send_recv`: records, after each message, the TSC less word 0 (the
/// sender's TSC), then reports the figure on `report`.
extern "C" fn send_receiver(ep: usize, report_ep: usize, _: usize) -> ! {
    let ep = Endpoint::at(ep);
    let figure = measure(|_| {
        let m = ep.recv().ctx("recv")?;
        Ok(tsc().wrapping_sub(m.words[0] as u64))
    });
    report(report_ep, figure)
}

/// `ipc_send_recv` with the receiver in `vspace`: from the root task's TSC read before `send` to
/// the receiver's right after its `recv` returns. The receiver waits at a higher priority (101
/// against 100), so it runs before `send` returns. One syscall, one switch.
fn ipc_send_recv(vspace: VSpace) -> Result<Figure> {
    let ep = Endpoint::create(root::memory(), Slot::Auto).ctx("endpoint_create")?;
    let report_ep = Endpoint::create(root::memory(), Slot::Auto).ctx("endpoint_create")?;
    let receiver = start_task(vspace, send_receiver, [ep.slot(), report_ep.slot(), 0], ROOT_PRIORITY + 1, None)?;
    let mut sent = Ok(());
    for _ in 0..WARMUP + ITERATIONS {
        let t0 = tsc();
        if let Err(e) = ep.send([t0 as usize, 0, 0, 0, 0]).ctx("send") {
            sent = Err(e);
            break;
        }
    }
    let figure = sent.and_then(|()| reported(report_ep.recv().ctx("recv (report)")?.words, "receiver"));
    stop(receiver)?;
    report_ep.delete().ctx("cap_delete(endpoint)")?;
    ep.delete().ctx("cap_delete(endpoint)")?;
    figure
}

/// A receiver that receives on `ep` forever: the partner of `ipc_send_recv_cycle`.
extern "C" fn recv_loop(ep: usize, _: usize, _: usize) -> ! {
    let ep = Endpoint::at(ep);
    loop {
        if ep.recv().is_err() {
            exit_thread(1);
        }
    }
}

/// `ipc_send_recv_cycle`: the root task's `send` until it returns, the receiver (above the root
/// task, in `vspace`) having taken the message and waited again in between: `ipc_send_recv` and
/// the way back. Its batch form stands for both.
fn ipc_send_recv_cycle(vspace: VSpace) -> Result<Figure> {
    let ep = Endpoint::create(root::memory(), Slot::Auto).ctx("endpoint_create")?;
    let receiver = start_task(vspace, recv_loop, [ep.slot(), 0, 0], ROOT_PRIORITY + 1, None)?;
    let figure = measure(|i| {
        let t0 = tsc();
        ep.send([i, 1, 2, 3, 4]).ctx("send")?;
        Ok(tsc() - t0)
    });
    let figure = figure.and_then(|f| Ok(f.with_batch(batch(|i| ep.send([i, 1, 2, 3, 4]).ctx("send"))?)));
    stop(receiver)?;
    ep.delete().ctx("cap_delete(endpoint)")?;
    figure
}

/// The root task's IPC buffer, while `ipc_call_reply_cap` and `ipc_call_reply_words64` run.
static ROOT_BUFFER: IpcBufferPage = IpcBufferPage::new();

/// The IPC buffer of the server of those figures (each image copy has its own).
static SERVER_BUFFER: IpcBufferPage = IpcBufferPage::new();

/// Where the capability that comes with each call lands in the (shared) root CSpace; far above
/// every slot the benchmarks take automatically.
const RECEIVED_SLOT: usize = 4000;

/// What travels through the IPC buffers besides the five words.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
enum Carried {
    /// One capability with each call ([`RECEIVED_SLOT`] in the server).
    Cap = 1,
    /// `MAX_EXTRA_WORDS` words with each call and each reply.
    Words = 2,
}

impl Carried {
    /// The Extra of each call (and, for [`Carried::Words`], of each reply).
    fn extra(self) -> Extra {
        match self {
            Carried::Cap => Extra { words: 0, cap: true },
            Carried::Words => Extra::words(MAX_EXTRA_WORDS as u8),
        }
    }
}

/// The server of `ipc_call_reply_cap` and `ipc_call_reply_words64`: sets its IPC buffer up for
/// `carried`, then answers every call with the words it brought. With [`Carried::Cap`] it deletes
/// the capability that came (so that the next lands in the same slot) and answers with word 4
/// set to whether there was one to delete; with [`Carried::Words`] its replies carry the words
/// it got (word 4 set to whether all of them came).
extern "C" fn buffer_server(ep: usize, carried: usize, _: usize) -> ! {
    let ep = Endpoint::at(ep);
    let cap = carried == Carried::Cap as usize;
    if cap {
        SERVER_BUFFER.set_recv_slot(Some(Slot::At(RECEIVED_SLOT)));
    }
    let reply = if cap { Extra::NONE } else { Carried::Words.extra() };
    let mut next = ep.recv();
    loop {
        match next {
            Ok(m) => {
                let mut words = m.words;
                words[4] = if cap {
                    // SAFETY: the slot holds a copy of a Note capability (or nothing): a Note dies
                    // without unmapping anything.
                    usize::from(m.extra.cap && unsafe { Cap::new(RECEIVED_SLOT).delete() }.is_ok())
                } else {
                    usize::from(m.extra == reply)
                };
                next = ep.reply_recv_with(words, reply);
            }
            Err(_) => exit_thread(1),
        }
    }
}

/// `ipc_call_reply_cap` (`carried` [`Carried::Cap`]): `ipc_call_reply` where each call carries a
/// capability (a Note's), which the server deletes before it answers; and
/// `ipc_call_reply_words64` ([`Carried::Words`]): each call and each reply carries
/// `MAX_EXTRA_WORDS` words beyond the five. The server runs in `vspace`, at the root task's
/// priority; both have IPC buffers (only while this runs).
fn ipc_call_reply_buffers(vspace: VSpace, carried: Carried) -> Result<Figure> {
    let ep = Endpoint::create(root::memory(), Slot::Auto).ctx("endpoint_create")?;
    let note = Note::create(root::memory(), Slot::Auto).ctx("note_create")?;
    let server = start_task(vspace, buffer_server, [ep.slot(), carried as usize, 0], ROOT_PRIORITY, None)?;
    server.set_ipc_buffer(Some(&SERVER_BUFFER)).ctx("task_set_ipc_buffer (server)")?;
    root_task().set_ipc_buffer(Some(&ROOT_BUFFER)).ctx("task_set_ipc_buffer")?;
    let extra = carried.extra();
    match carried {
        Carried::Cap => ROOT_BUFFER.set_send_cap(Some(note.cap())),
        Carried::Words => {
            let words: [u64; MAX_EXTRA_WORDS] = core::array::from_fn(|i| i as u64 * 7);
            ROOT_BUFFER.set_words(&words);
        }
    }
    // The reply brings what the call carried back (the words), or nothing (the capability).
    let reply = if carried == Carried::Cap { Extra::NONE } else { extra };
    let figure = measure(|i| {
        let words = [i, 1, 2, 3, 4];
        let t0 = tsc();
        let answer = ep.call_with(words, extra).ctx("call")?;
        let t = tsc() - t0;
        if answer.words != [i, 1, 2, 3, 1] || answer.extra != reply {
            return Err(failure("call", format_args!("answered {answer:?}, sent {words:?} with {extra:?}")));
        }
        Ok(t)
    });
    // The batch keeps each answer as a sample does (a `Message` is 56 bytes, whose copies a
    // dropped result would not make), so that the two differ only by the TSC reads.
    let figure = figure.and_then(|f| {
        Ok(f.with_batch(batch(|i| {
            ep.call_with([i, 1, 2, 3, 4], extra).ctx("call").map(core::hint::black_box).map(drop)
        })?))
    });
    let figure = figure.and_then(|f| match carried {
        Carried::Words if ROOT_BUFFER.word(MAX_EXTRA_WORDS - 1) != 441 => Err(failure(
            "call",
            format_args!("the reply's last word is {}, not 441", ROOT_BUFFER.word(MAX_EXTRA_WORDS - 1)),
        )),
        _ => Ok(f),
    });
    root_task().set_ipc_buffer(None).ctx("task_set_ipc_buffer (none)")?;
    ROOT_BUFFER.set_send_cap(None);
    stop(server)?;
    note.delete().ctx("cap_delete(note)")?;
    ep.delete().ctx("cap_delete(endpoint)")?;
    figure
}

/// The RTC's interrupt line and the CMOS ports (the RTC as Vulcan's IRQ tests use it).
const RTC_IRQ: usize = 8;
const CMOS_INDEX: usize = 0x70;
const CMOS_DATA: usize = 0x71;
/// In the CMOS index: the NMI stays disabled while a register is selected.
const NMI_OFF: u8 = 0x80;
/// RTC registers A (rate), B (PIE, bit 6) and C (flags, read to clear).
const RTC_A: u8 = 0x0a;
const RTC_B: u8 = 0x0b;
const RTC_C: u8 = 0x0c;
const RTC_PIE: u8 = 0x40;
/// Register A's rate nibble: 3 is the fastest periodic rate, 8192 Hz.
const RTC_RATE_8192_HZ: u8 = 3;

core::arch::global_asm!(
    ".pushsection .text.bench_spin, \"ax\", @progbits",
    // bench_spin(): reads the TSC forever, keeping the last value in r15, where an interrupt
    // saves it with the rest of the task's registers.
    ".global bench_spin",
    ".type bench_spin, @function",
    "bench_spin:",
    "2:",
    "    lfence",
    "    rdtsc",
    "    lfence",
    "    shl rdx, 32",
    "    or rax, rdx",
    "    mov r15, rax",
    "    jmp 2b",
    ".size bench_spin, . - bench_spin",
    ".popsection",
);

// SAFETY: the declaration matches the assembly above: it takes its three arguments as an
// `Entry` does, ignores them, touches no memory and never returns.
unsafe extern "C" {
    safe fn bench_spin(a: usize, b: usize, c: usize) -> !;
}

/// The driver of `irq_to_driver`: waits on the Note the RTC's IRQ handler signals; at each
/// interrupt reads the TSC, acknowledges the line, clears the RTC's flags, and records the TSC
/// less the last value the interrupted task (`bench_spin`) read, from its saved `r15`. The
/// capability addresses come packed 16 bits each: Note, IrqHandler, IoPort, spinning Task.
extern "C" fn irq_driver(packed: usize, report_ep: usize, _: usize) -> ! {
    let note = Note::at(packed & 0xffff);
    let irq = IrqHandler::at((packed >> 16) & 0xffff);
    let port = IoPort::at((packed >> 32) & 0xffff);
    let spinner = Task::at(packed >> 48);
    let figure = measure(|_| {
        note.wait().ctx("note_wait")?;
        let t = tsc();
        irq.ack().ctx("irq_ack")?;
        port.write8(CMOS_INDEX, NMI_OFF | RTC_C).ctx("select RTC register C")?;
        port.read8(CMOS_DATA).ctx("read RTC register C")?;
        let regs = spinner.read_regs().ctx("task_read_regs")?;
        Ok(t.wrapping_sub(regs.r15))
    });
    report(report_ep, figure)
}

/// Writes RTC register `reg`.
fn rtc_write(port: IoPort, reg: u8, value: u8) -> Result<()> {
    port.write8(CMOS_INDEX, NMI_OFF | reg).ctx("select an RTC register")?;
    port.write8(CMOS_DATA, value).ctx("write an RTC register")
}

/// Reads RTC register `reg`.
fn rtc_read(port: IoPort, reg: u8) -> Result<u8> {
    port.write8(CMOS_INDEX, NMI_OFF | reg).ctx("select an RTC register")?;
    port.read8(CMOS_DATA).ctx("read an RTC register")
}

/// `irq_to_driver`: the RTC's periodic interrupt (8192 Hz) delivered to a driver waiting on its
/// Note (in `vspace`, priority 101) while a task of the root task's address space (priority 99)
/// spins reading the TSC: from the spinner's last TSC read before the interrupt to the driver's
/// right after its `note_wait` returns. Interrupt entry, the IRQ handler's signal, the switch,
/// the driver's return from `note_wait`; up to one turn of the spinning loop (7 instructions).
/// The interrupt comes when the device raises it, not back to back, so this figure has no batch
/// form.
fn irq_to_driver(vspace: VSpace) -> Result<Figure> {
    let port =
        root::ioport_control().create(CMOS_INDEX, CMOS_DATA + 1, root::memory(), Slot::Auto).ctx("ioport_create")?;
    let saved = (rtc_read(port, RTC_A)?, rtc_read(port, RTC_B)?);
    let note = Note::create(root::memory(), Slot::Auto).ctx("note_create")?;
    let report_ep = Endpoint::create(root::memory(), Slot::Auto).ctx("endpoint_create")?;
    let irq = IrqControl::root().bind(RTC_IRQ, note, 1, root::memory(), Slot::Auto).ctx("irq_bind")?;
    let spinner = start_task(VSpace::root(), bench_spin, [0; 3], ROOT_PRIORITY - 1, None)?;
    let packed = note.slot() | irq.slot() << 16 | port.slot() << 32 | spinner.slot() << 48;
    let driver = start_task(vspace, irq_driver, [packed, report_ep.slot(), 0], ROOT_PRIORITY + 1, None)?;
    rtc_write(port, RTC_A, (saved.0 & !0x0f) | RTC_RATE_8192_HZ)?;
    rtc_write(port, RTC_B, saved.1 | RTC_PIE)?;
    rtc_read(port, RTC_C)?;
    let figure = report_ep.recv().ctx("recv (report)").and_then(|m| reported(m.words, "driver"));
    rtc_write(port, RTC_B, saved.1)?;
    rtc_write(port, RTC_A, saved.0)?;
    rtc_read(port, RTC_C)?;
    stop(driver)?;
    stop(spinner)?;
    irq.delete().ctx("cap_delete(irq handler)")?;
    report_ep.delete().ctx("cap_delete(endpoint)")?;
    note.delete().ctx("cap_delete(note)")?;
    port.delete().ctx("cap_delete(ioport)")?;
    figure
}

/// Executes `ud2`, which a supervisor steps over.
#[inline(always)]
fn ud2() {
    // SAFETY: `ud2` raises an invalid-opcode exception. This task has a fault endpoint whose
    // supervisor (`fault_round_trip`) resumes it after the instruction with every register as it
    // was, so to the compiler this is an instruction that does nothing.
    unsafe { core::arch::asm!("ud2", options(nostack)) };
}

/// The faulting task: times `ud2` until the supervisor has stepped over it enough times, then
/// reports the figure on `report`.
extern "C" fn faulter(report_ep: usize, _: usize, _: usize) -> ! {
    let figure = measure(|_| {
        let t0 = tsc();
        ud2();
        Ok(tsc() - t0)
    });
    let figure = figure.and_then(|f| {
        let b = batch(|_| {
            ud2();
            Ok(())
        })?;
        Ok(f.with_batch(b))
    });
    report(report_ep, figure)
}

/// `fault_round_trip`, with the faulting task in `vspace`: the supervisor answers each fault with
/// a fault reply that moves `rip` past the `ud2` (`fault_reply_recv`): fault, supervisor
/// decision, register change and resume, without `task_read_regs`/`task_write_regs`.
fn fault_round_trip(vspace: VSpace) -> Result<Figure> {
    let ep = Endpoint::create(root::memory(), Slot::Auto).ctx("endpoint_create")?;
    let fault_cap = ep.mint(root::cspace(), Slot::Auto, rights::WRITE, FAULT_BADGE).ctx("cap_mint(endpoint)")?;
    let fault_ep = Endpoint::new(fault_cap);
    let task = start_task(vspace, faulter, [ep.slot(), 0, 0], ROOT_PRIORITY, Some(fault_ep))?;
    let supervise = || -> Result<Figure> {
        let mut m = ep.recv().ctx("recv (fault)")?;
        loop {
            if m.badge != FAULT_BADGE {
                return reported(m.words, "faulting task");
            }
            if m.words[sys::abi::task::fault::VECTOR] != INVALID_OPCODE {
                return Err(failure("fault message", format_args!("{:?}", m.words)));
            }
            let resume = Resume::at(m.words[sys::abi::task::fault::RIP] + UD2_LEN as usize);
            // SAFETY: the faulter resumes its own function just after the `ud2` it stopped at,
            // with its own registers and stack (the code contract).
            m = unsafe { ep.fault_reply_recv(resume) }.ctx("fault_reply_recv")?;
        }
    };
    let figure = supervise();
    stop(task)?;
    fault_ep.delete().ctx("cap_delete(fault endpoint)")?;
    ep.delete().ctx("cap_delete(endpoint)")?;
    figure
}

/// `fault_round_trip_regs` with the faulting task in `vspace`: the supervisor reads the
/// registers, moves `rip` past the `ud2`, writes them back and answers with a plain
/// `reply_recv` (the fault protocol before fault replies carried registers; this was
/// `fault_round_trip` until they did).
fn fault_round_trip_regs(vspace: VSpace) -> Result<Figure> {
    let ep = Endpoint::create(root::memory(), Slot::Auto).ctx("endpoint_create")?;
    let fault_cap = ep.mint(root::cspace(), Slot::Auto, rights::WRITE, FAULT_BADGE).ctx("cap_mint(endpoint)")?;
    let fault_ep = Endpoint::new(fault_cap);
    let task = start_task(vspace, faulter, [ep.slot(), 0, 0], ROOT_PRIORITY, Some(fault_ep))?;
    let supervise = || -> Result<Figure> {
        let mut m = ep.recv().ctx("recv (fault)")?;
        loop {
            if m.badge != FAULT_BADGE {
                return reported(m.words, "faulting task");
            }
            if m.words[sys::abi::task::fault::VECTOR] != INVALID_OPCODE {
                return Err(failure("fault message", format_args!("{:?}", m.words)));
            }
            let mut regs = task.read_regs().ctx("task_read_regs")?;
            regs.rip += UD2_LEN;
            // SAFETY: the faulter resumes its own function just after the `ud2` it stopped at,
            // with its own registers and stack (the code contract).
            unsafe { task.write_regs(&regs) }.ctx("task_write_regs")?;
            m = ep.reply_recv([0; 5]).ctx("reply_recv (fault)")?;
        }
    };
    let figure = supervise();
    stop(task)?;
    fault_ep.delete().ctx("cap_delete(fault endpoint)")?;
    ep.delete().ctx("cap_delete(endpoint)")?;
    figure
}

/// The yield partner: yields forever.
extern "C" fn yielder(_: usize, _: usize, _: usize) -> ! {
    loop {
        yield_now();
    }
}

/// `yield` with the partner in `vspace`: per switch.
fn yield_figure(vspace: VSpace) -> Result<Figure> {
    let partner = start_task(vspace, yielder, [0; 3], ROOT_PRIORITY, None)?;
    let figure = measure(|_| {
        let t0 = tsc();
        yield_now();
        Ok(tsc() - t0)
    });
    let figure = figure.and_then(|f| {
        let b = batch(|_| {
            yield_now();
            Ok(())
        })?;
        Ok(f.with_batch(b))
    });
    stop(partner)?;
    Ok(figure?.halved())
}

/// The thread of `thread_create_join`: exits at once.
extern "C" fn exiter(_: usize, _: usize, _: usize) -> ! {
    exit_thread(0)
}

/// `thread_create_join`.
fn thread_create_join() -> Result<Figure> {
    let rsp = (STACK.0.get().addr() + STACK_BYTES) - 8;
    let regs =
        Registers { rip: exiter as Entry as usize as u64, rsp: rsp as u64, rflags: 0x202, ..Registers::default() };
    let figure = thread_create_join_samples(&regs)?;
    let b = batch(|_| {
        let task = Task::create(root::memory(), Slot::Auto).ctx("task_create")?;
        // SAFETY: as in the samples.
        unsafe { task.set_space(root::cspace(), VSpace::root()) }.ctx("task_set_space")?;
        // SAFETY: as in the samples.
        unsafe { task.write_regs(&regs) }.ctx("task_write_regs")?;
        task.set_priority(root_task(), ROOT_PRIORITY + 1, 0).ctx("task_set_priority")?;
        task.start().ctx("task_start")?;
        let info = task.info().ctx("task_info")?;
        // SAFETY: as in the samples.
        unsafe { task.cap().delete() }.ctx("cap_delete(task)")?;
        if info.state != Ok(State::Exited) {
            return Err(failure("thread_create_join", format_args!("the thread is {:?}, not exited", info.state)));
        }
        Ok(())
    })?;
    Ok(figure.with_batch(b))
}

/// The samples of `thread_create_join`, the thread starting with `regs`.
fn thread_create_join_samples(regs: &Registers) -> Result<Figure> {
    let regs = *regs;
    measure(|_| {
        let t0 = tsc();
        let task = Task::create(root::memory(), Slot::Auto).ctx("task_create")?;
        // SAFETY: a task just made has no spaces to drop and all-zero registers.
        unsafe { task.set_space(root::cspace(), VSpace::root()) }.ctx("task_set_space")?;
        // SAFETY: `exiter`, a thread function of this benchmark, on `STACK`, which no partner
        // uses now; it exits at once.
        unsafe { task.write_regs(&regs) }.ctx("task_write_regs")?;
        task.set_priority(root_task(), ROOT_PRIORITY + 1, 0).ctx("task_set_priority")?;
        task.start().ctx("task_start")?;
        let info = task.info().ctx("task_info")?;
        // SAFETY: the thread runs in the root task's spaces: its death ends nothing else.
        unsafe { task.cap().delete() }.ctx("cap_delete(task)")?;
        let t = tsc() - t0;
        if info.state != Ok(State::Exited) {
            return Err(failure("thread_create_join", format_args!("the thread is {:?}, not exited", info.state)));
        }
        Ok(t)
    })
}

/// The lock of the mutex figures.
static LOCK: Mutex<u64> = Mutex::new(0);

/// `mutex_lock_unlock`.
fn mutex_lock_unlock() -> Result<Figure> {
    let figure = measure(|_| {
        let t0 = tsc();
        *LOCK.lock() += 1;
        Ok(tsc() - t0)
    })?;
    let b = batch(|_| {
        *LOCK.lock() += 1;
        Ok(())
    })?;
    Ok(figure.with_batch(b))
}

/// The root task's TSC value just before it hands the lock over.
static HANDOFF_T0: AtomicU64 = AtomicU64::new(0);
/// The last hand-off the waiter measured.
static HANDOFF_SAMPLE: AtomicU64 = AtomicU64::new(0);
/// Lets the waiter wait in `lock` again, once the root task holds the lock once more.
static HANDOFF_GO: Semaphore = Semaphore::new(0);
/// Tells the waiter to end instead.
static HANDOFF_STOP: AtomicBool = AtomicBool::new(false);

/// `mutex_handoff`: see the module docs. Each sample: the root task holds [`LOCK`], the waiter
/// (priority above the root task's) waits in `lock`; the root task reads the TSC and drops the
/// guard, the waiter runs at once, reads the TSC, records the difference, drops the guard and
/// waits on [`HANDOFF_GO`]; the root task locks again (uncontended) and releases `GO`, and the
/// waiter, running at once, waits in `lock` again.
fn mutex_handoff() -> Result<Figure> {
    HANDOFF_STOP.store(false, Ordering::SeqCst);
    let mut guard = Some(LOCK.lock());
    let waiter = sys::thread::Builder::new()
        .priority(ROOT_PRIORITY + 1)
        .spawn(|| {
            loop {
                let g = LOCK.lock();
                let t = tsc();
                HANDOFF_SAMPLE.store(t.wrapping_sub(HANDOFF_T0.load(Ordering::SeqCst)), Ordering::SeqCst);
                drop(g);
                HANDOFF_GO.acquire();
                if HANDOFF_STOP.load(Ordering::SeqCst) {
                    return;
                }
            }
        })
        .map_err(|e| failure("mutex_handoff", format_args!("spawn of the waiter: {e:?}")))?;
    let figure = measure(|_| {
        HANDOFF_SAMPLE.store(u64::MAX, Ordering::SeqCst);
        HANDOFF_T0.store(tsc(), Ordering::SeqCst);
        drop(guard.take());
        guard = Some(LOCK.lock());
        HANDOFF_GO.release();
        match HANDOFF_SAMPLE.load(Ordering::SeqCst) {
            u64::MAX => Err(failure("mutex_handoff", format_args!("the waiter did not run when the lock was dropped"))),
            t => Ok(t),
        }
    });
    HANDOFF_STOP.store(true, Ordering::SeqCst);
    drop(guard);
    HANDOFF_GO.release();
    waiter.join().map_err(|e| failure("mutex_handoff", format_args!("join of the waiter: {e:?}")))?;
    figure
}

/// `malloc_free_64`.
fn malloc_free_64() -> Result<Figure> {
    let layout = Layout::from_size_align(64, 8).map_err(|_| failure("malloc_free_64", format_args!("layout")))?;
    let once = || -> Result<()> {
        // SAFETY: a layout of non-zero size; the block is given back at once, with it.
        let p = unsafe { alloc::alloc::alloc(layout) };
        if p.is_null() {
            return Err(failure("malloc_free_64", format_args!("alloc(64) gave null")));
        }
        // SAFETY: `p` came from `alloc` with this layout and is not used again.
        unsafe { alloc::alloc::dealloc(core::hint::black_box(p), layout) };
        Ok(())
    };
    let figure = measure(|_| {
        let t0 = tsc();
        once()?;
        Ok(tsc() - t0)
    })?;
    let b = batch(|_| once())?;
    Ok(figure.with_batch(b))
}

/// `thread_spawn_join`.
fn thread_spawn_join() -> Result<Figure> {
    let once = || -> Result<()> {
        let t = sys::thread::Builder::new()
            .spawn(|| 7usize)
            .map_err(|e| failure("thread_spawn_join", format_args!("spawn: {e:?}")))?;
        match t.join() {
            Ok(7) => Ok(()),
            other => Err(failure("thread_spawn_join", format_args!("join gave {other:?}"))),
        }
    };
    let figure = measure(|_| {
        let t0 = tsc();
        once()?;
        Ok(tsc() - t0)
    })?;
    let b = batch(|_| once())?;
    Ok(figure.with_batch(b))
}

/// The CPU's brand string (CPUID leaves 0x80000002-4), trimmed; empty if it has none.
fn cpu_brand(buf: &mut [u8; 48]) -> &str {
    let cpuid = |leaf: u32| -> [u32; 4] {
        let (a, b, c, d): (u32, u32, u32, u32);
        // SAFETY: `cpuid` only writes eax, ebx, ecx and edx; rbx is reserved by the compiler, so
        // it is saved in a scratch register and restored.
        unsafe {
            core::arch::asm!(
                "mov {tmp:r}, rbx",
                "cpuid",
                "xchg {tmp:r}, rbx",
                tmp = out(reg) b,
                inout("eax") leaf => a,
                inout("ecx") 0u32 => c,
                out("edx") d,
                options(nostack, nomem, preserves_flags),
            )
        };
        [a, b, c, d]
    };
    if cpuid(0x8000_0000)[0] < 0x8000_0004 {
        return "";
    }
    for (i, leaf) in (0x8000_0002u32..=0x8000_0004).enumerate() {
        for (j, reg) in cpuid(leaf).into_iter().enumerate() {
            buf[i * 16 + j * 4..i * 16 + j * 4 + 4].copy_from_slice(&reg.to_le_bytes());
        }
    }
    let len = buf.iter().position(|&b| b == 0).unwrap_or(buf.len());
    core::str::from_utf8(&buf[..len]).unwrap_or("").trim()
}

/// `s` as a JSON string literal.
fn json_string(out: &mut impl Write, s: &str) -> fmt::Result {
    out.write_char('"')?;
    for c in s.chars() {
        match c {
            '"' => out.write_str("\\\"")?,
            '\\' => out.write_str("\\\\")?,
            c if (c as u32) < 0x20 => write!(out, "\\u{:04x}", c as u32)?,
            c => out.write_char(c)?,
        }
    }
    out.write_char('"')
}

/// The figures, in the order they are measured and reported.
const FIGURES: usize = 21;

fn main(boot: Boot) -> usize {
    let mut brand = [0u8; 48];
    let cpu = cpu_brand(&mut brand);
    sys::println!("bench: cpu {cpu:?}, {ITERATIONS} iterations after {WARMUP} of warm-up");

    let mut results: [(&str, Option<Figure>); FIGURES] = [
        ("null_syscall", None),
        ("nop_syscall", None),
        ("ipc_call_reply", None),
        ("ipc_call_reply_same_space", None),
        ("ipc_send_recv", None),
        ("ipc_send_recv_cycle", None),
        ("ipc_call_reply_cap", None),
        ("ipc_call_reply_words64", None),
        ("note_signal_wait", None),
        ("note_signal_wait_cycle", None),
        ("fault_round_trip", None),
        ("fault_round_trip_regs", None),
        ("yield", None),
        ("yield_other_space", None),
        ("thread_create_join", None),
        ("irq_to_driver", None),
        ("mutex_lock_unlock", None),
        ("mutex_handoff", None),
        ("malloc_free_64", None),
        ("thread_spawn_join", None),
        ("rdtsc_overhead", None),
    ];
    let other = match clone_image(&boot) {
        Ok(space) => space,
        Err(f) => {
            sys::println!("bench: FAILED: {}: {}", f.what, f.why.as_str());
            return 1;
        }
    };
    let mut failed = false;
    for (name, slot) in results.iter_mut() {
        let figure = match *name {
            "null_syscall" => null_syscall(),
            "nop_syscall" => nop_syscall(),
            "ipc_call_reply" => ipc_call_reply(other),
            "ipc_call_reply_same_space" => ipc_call_reply(VSpace::root()),
            "ipc_send_recv" => ipc_send_recv(other),
            "ipc_send_recv_cycle" => ipc_send_recv_cycle(other),
            "ipc_call_reply_cap" => ipc_call_reply_buffers(other, Carried::Cap),
            "ipc_call_reply_words64" => ipc_call_reply_buffers(other, Carried::Words),
            "note_signal_wait" => note_signal_wait(other),
            "note_signal_wait_cycle" => note_signal_wait_cycle(other),
            "fault_round_trip" => fault_round_trip(other),
            "fault_round_trip_regs" => fault_round_trip_regs(other),
            "yield" => yield_figure(VSpace::root()),
            "yield_other_space" => yield_figure(other),
            "thread_create_join" => thread_create_join(),
            "irq_to_driver" => irq_to_driver(other),
            "mutex_lock_unlock" => mutex_lock_unlock(),
            "mutex_handoff" => mutex_handoff(),
            "malloc_free_64" => malloc_free_64(),
            "thread_spawn_join" => thread_spawn_join(),
            _ => rdtsc_overhead(),
        };
        match figure {
            Ok(f) => {
                match f.batch {
                    Some(b) => sys::println!("bench: {name} median {} min {} batch {b}", f.median, f.min),
                    None => sys::println!("bench: {name} median {} min {}", f.median, f.min),
                }
                *slot = Some(f);
            }
            Err(f) => {
                sys::println!("bench: {name} FAILED: {}: {}", f.what, f.why.as_str());
                failed = true;
            }
        }
    }

    let mut json = FixedBuf::<4096>::new();
    let written = (|| -> fmt::Result {
        json.write_str("{\"cpu\": ")?;
        json_string(&mut json, cpu)?;
        write!(json, ", \"iterations\": {ITERATIONS}, \"results\": {{")?;
        let mut first = true;
        for (name, figure) in results.iter() {
            let Some(f) = figure else { continue };
            if !first {
                json.write_str(", ")?;
            }
            first = false;
            write!(json, "\"{name}\": {{\"median\": {}, \"min\": {}", f.median, f.min)?;
            if let Some(b) = f.batch {
                write!(json, ", \"batch\": {b}")?;
            }
            json.write_char('}')?;
        }
        json.write_str("}}")
    })();
    if written.is_err() || json.is_truncated() {
        sys::println!("bench: FAILED: the JSON line does not fit");
        return 1;
    }
    sys::println!("bench: {}", json.as_str());
    usize::from(failed)
}
