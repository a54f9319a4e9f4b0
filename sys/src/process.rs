//! The program as a whole: the capabilities its start page named, what the runtime made for
//! itself at start-up, and where the runtime keeps its own capabilities.
//!
//! `_start` calls `init` before `main`, with the checked [`Boot`]. From then on the runtime's
//! parts (the heap, threads, parking) ask here for the program's Memory, CSpace, VSpace and Task
//! ([`memory`], [`cspace`], [`vspace`], [`task`]); each is `None` if the start page named none
//! (a driver whose manifest grants no Memory has no Memory, and can then make no threads, grow
//! no heap and block on no lock).
//!
//! What the runtime makes for itself at start-up, once, so that it is part of the program's
//! footprint from the first instruction of `main` (and a Memory's `used` measured afterwards
//! moves only with what the program does):
//! - the main thread's park Note, where it waits for a contended lock (see [`crate::sync`]);
//! - a page-table Memory, split from the program's Memory, that pays for the page tables the
//!   runtime's own mappings need (heap regions, thread stacks, `mmap`). A VSpace keeps its page
//!   tables until it dies, so charging them to the program's Memory would leave `used` above its
//!   start value after everything was freed; charged to this child, whose quota was charged once
//!   at start-up, they never move it. Its quota is [`TABLE_PAGES`] pages, or an eighth of the
//!   program's quota if that is less; where even that cannot be had, tables are charged to the
//!   program's Memory.
//!
//! The program ends when any of its threads calls [`exit`] (or `main` returns, or a thread
//! panics): every other thread made by [`crate::thread`], and the main thread, is ended with the
//! same status (`task_kill`), then the caller exits. Whoever watches the main thread (the kernel
//! for the root task, a supervisor with an exit Note) sees the program's status whichever thread
//! ended it. Tasks the program made by hand (`task::spawn`) are not threads of the runtime's and
//! are left alone.
//!
//! - the main thread's IPC buffer, a page mapped where the runtime places mappings
//!   ([`crate::thread::with_ipc_buffer`]; a spawned thread gets its own on first use).
//!
//! These live in the [`RESERVED_SLOTS`] highest slots of the program's CSpace ([`reserved_slot`],
//! [`is_reserved`]), which `SLOT_AUTO` reaches last, so a program's own slot numbers are not
//! disturbed. Everything else the runtime makes (heap pages, threads, stacks) it puts wherever
//! `SLOT_AUTO` says and deletes again.

#![cfg_attr(
    not(panic = "abort"),
    allow(dead_code, reason = "`init` runs only from `_start`, which host builds leave out")
)]

use core::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use crate::cap::{CSpace, Cap, DebugConsole, Memory, Slot};
use crate::notify::Note;
use crate::rt::Boot;
use crate::task::Task;
use crate::vspace::VSpace;

/// Quota of the page-table Memory made at start-up, in pages (1 MiB of page tables: some 500
/// thread stacks or 1 GiB of heap).
pub const TABLE_PAGES: usize = 256;

/// Runtime slots: counted down from the top of the CSpace.
const SLOT_PARK: usize = 0;
const SLOT_TABLES: usize = 1;
const SLOT_IPC_BUFFER: usize = 2;

/// Slots the runtime keeps at the top of the program's CSpace
/// ([`abi::start::RUNTIME_SLOTS`], which starters leave empty).
pub const RESERVED_SLOTS: usize = abi::start::RUNTIME_SLOTS;

/// 0: none. Set once, in `init`, before any other thread exists; read-only after.
static MEMORY: AtomicUsize = AtomicUsize::new(0);
static CSPACE: AtomicUsize = AtomicUsize::new(0);
static VSPACE: AtomicUsize = AtomicUsize::new(0);
static TASK: AtomicUsize = AtomicUsize::new(0);
static CONSOLE: AtomicUsize = AtomicUsize::new(0);
static TABLES: AtomicUsize = AtomicUsize::new(0);
static MAIN_PARK: AtomicUsize = AtomicUsize::new(0);
/// The standard streams' channels (`stdin`, `stdout`, `stderr` in the start page), 0: none.
static STREAMS: [AtomicUsize; 3] = [const { AtomicUsize::new(0) }; 3];
/// Slots in the program's CSpace (`2^radix`), 0 if unknown.
static SLOTS: AtomicUsize = AtomicUsize::new(0);

fn get(cell: &AtomicUsize) -> Option<Cap> {
    match cell.load(Ordering::Relaxed) {
        0 => None,
        slot => Some(Cap::new(slot)),
    }
}

/// The Memory the runtime makes things from.
///
/// ```no_run
/// # fn demo() -> sys::Result<()> {
/// // Any thread of the program, any time after start-up (`Boot::memory` is the same, in `main`).
/// let Some(memory) = sys::process::memory() else {
///     sys::println!("no Memory: nothing can be made");
///     return Ok(());
/// };
/// let note = sys::Note::create(memory, sys::Slot::Auto)?;
/// # Ok(())
/// # }
/// ```
pub fn memory() -> Option<Memory> {
    get(&MEMORY).map(Memory::new)
}

/// The program's own CSpace.
///
/// ```no_run
/// use sys::{Slot, rights};
///
/// # fn demo(service: sys::Endpoint) -> sys::Result<()> {
/// let own = sys::process::cspace().expect("the program has its CSpace");
/// // A badged copy in the program's own CSpace, for a thread to send with.
/// let for_thread = service.mint(own, Slot::Auto, rights::WRITE, 5)?;
/// # Ok(())
/// # }
/// ```
pub fn cspace() -> Option<CSpace> {
    get(&CSPACE).map(CSpace::new)
}

/// The program's own VSpace.
///
/// ```no_run
/// use sys::vspace::access;
///
/// # fn demo(page: sys::Page) -> sys::Result<()> {
/// let here = sys::process::vspace().expect("the program has its VSpace");
/// let tables = sys::process::table_memory().expect("the program has a Memory");
/// // An address outside the runtime's heap, stack and mapping areas.
/// page.map(here, 0x0000_4000_0000_0000, access::RW, tables)?;
/// # Ok(())
/// # }
/// ```
pub fn vspace() -> Option<VSpace> {
    get(&VSPACE).map(VSpace::new)
}

/// The program's main Task.
///
/// ```no_run
/// # fn demo() -> sys::Result<()> {
/// let main = sys::process::task().expect("the program has its Task");
/// sys::println!("main thread at priority {}", main.info()?.priority);
/// # Ok(())
/// # }
/// ```
pub fn task() -> Option<Task> {
    get(&TASK).map(Task::new)
}

/// The debug console, for panics and `print!`.
///
/// ```no_run
/// # fn demo() -> sys::Result<()> {
/// if let Some(console) = sys::process::console() {
///     console.write(b"driver: ready\n")?;
/// }
/// # Ok(())
/// # }
/// ```
pub fn console() -> Option<DebugConsole> {
    get(&CONSOLE).map(DebugConsole::new)
}

/// The standard stream `n` (0 in, 1 out, 2 err): the channel the program's starter gave it, if
/// any ([`crate::io::stdin`] and friends are the typed forms).
///
/// ```no_run
/// if let Some(out) = sys::process::stream(1) {
///     sys::println!("stdout is the channel in slot {}", out.slot());
/// }
/// ```
pub fn stream(n: usize) -> Option<Cap> {
    STREAMS.get(n).and_then(get)
}

/// The Memory page tables of the runtime's mappings are charged to (see the module docs).
///
/// ```no_run
/// # fn demo(frame: sys::Page) -> sys::Result<()> {
/// let tables = sys::process::table_memory().expect("the program has a Memory");
/// let here = sys::process::vspace().expect("the program has its VSpace");
/// // Page tables charged here leave the program's `used` where it was at start-up.
/// frame.map(here, 0x0000_4000_0000_0000, sys::vspace::access::RW, tables)?;
/// # Ok(())
/// # }
/// ```
pub fn table_memory() -> Option<Memory> {
    get(&TABLES).map(Memory::new).or_else(memory)
}

/// Maps `page` at `vaddr` in the program's VSpace with `access`, charging page tables to the
/// page-table Memory, or to the program's Memory once that one's quota is spent.
///
/// ```no_run
/// use sys::vspace::access;
///
/// # fn demo() -> sys::Result<()> {
/// let memory = sys::process::memory().expect("the program has a Memory");
/// let page = sys::Page::create(memory, 4, sys::Slot::Auto)?;
/// // An address outside the runtime's heap, stack and mapping areas.
/// sys::process::map_page(page, 0x0000_4000_0000_0000, access::RW)?;
/// # Ok(())
/// # }
/// ```
pub fn map_page(page: crate::vspace::Page, vaddr: usize, access: usize) -> crate::error::Result<()> {
    let vspace = vspace().ok_or(crate::error::Error::Abi(abi::Error::InvalidCapability))?;
    let memory = memory().ok_or(crate::error::Error::Abi(abi::Error::InvalidCapability))?;
    match get(&TABLES).map(Memory::new) {
        Some(tables) => match page.map(vspace, vaddr, access, tables) {
            Err(crate::error::Error::Abi(abi::Error::QuotaExceeded)) => page.map(vspace, vaddr, access, memory),
            other => other,
        },
        None => page.map(vspace, vaddr, access, memory),
    }
}

/// The main thread's park Note.
pub(crate) fn main_park_note() -> Option<Note> {
    get(&MAIN_PARK).map(Note::new)
}

/// The `n`-th slot the runtime keeps for itself, counted down from the top of the CSpace (`None`
/// if the CSpace's size is unknown or it is too small).
///
/// ```no_run
/// use sys::process::{RESERVED_SLOTS, reserved_slot};
///
/// # fn demo() {
/// // The runtime's slots, at the top of the program's CSpace.
/// for n in 0..RESERVED_SLOTS {
///     if let Some(slot) = reserved_slot(n) {
///         sys::println!("slot {slot} is the runtime's");
///     }
/// }
/// # }
/// ```
pub fn reserved_slot(n: usize) -> Option<usize> {
    let slots = SLOTS.load(Ordering::Relaxed);
    slots.checked_sub(1 + n).filter(|&s| s >= 2)
}

/// Whether `slot` is one the runtime keeps for itself (see the module docs): a program leaves it
/// alone.
///
/// ```no_run
/// use sys::Cap;
///
/// /// Deletes what this program holds in `slots`, leaving the runtime's own alone.
/// fn sweep(slots: core::ops::Range<usize>) {
///     for slot in slots.filter(|&s| !sys::process::is_reserved(s)) {
///         let cap = Cap::new(slot);
///         if cap.identify().is_ok_and(|id| !id.is_null()) {
///             let _ = cap.delete_checked(); // CSpaces, Tasks and mapped Pages stay
///         }
///     }
/// }
/// ```
pub fn is_reserved(slot: usize) -> bool {
    (0..RESERVED_SLOTS).any(|n| reserved_slot(n) == Some(slot))
}

/// Reads the start page's capabilities and makes the runtime's own objects. Called once by
/// `_start`, before `main` and before any other thread exists.
pub(crate) fn init(boot: &Boot) {
    let set = |cell: &AtomicUsize, cap: Option<Cap>| cell.store(cap.map_or(0, Cap::slot), Ordering::Relaxed);
    set(&MEMORY, boot.memory().map(Memory::cap));
    set(&CSPACE, boot.cspace().map(CSpace::cap));
    set(&VSPACE, boot.vspace().map(VSpace::cap));
    set(&TASK, boot.task().map(Task::cap));
    set(&CONSOLE, boot.console().map(DebugConsole::cap));
    for (cell, name) in STREAMS.iter().zip(["stdin", "stdout", "stderr"]) {
        let endpoint = boot.cap_entry(name).filter(|c| c.kind == abi::object::Kind::Endpoint as u32);
        cell.store(endpoint.map_or(0, |c| c.slot as usize), Ordering::Relaxed);
    }
    if let Some(start) = boot.start() {
        let radix = start.header().cspace_radix;
        if radix < usize::BITS {
            SLOTS.store(1 << radix, Ordering::Relaxed);
        }
    }
    // A starter may give the main thread its IPC buffer (a program without a Memory can make
    // none); else the runtime makes one below.
    let given_ipc_buffer =
        boot.cap_entry(abi::start::names::IPC_BUFFER).filter(|c| c.kind == abi::object::Kind::Page as u32);
    if let Some(page) = given_ipc_buffer {
        crate::thread::adopt_main_ipc_buffer(crate::vspace::Page::at(page.slot as usize));
    }
    let (Some(memory), Some(_)) = (memory(), cspace()) else { return };
    if let Some(slot) = reserved_slot(SLOT_PARK)
        && let Ok(note) = Note::create(memory, Slot::At(slot))
    {
        MAIN_PARK.store(note.slot(), Ordering::Relaxed);
    }
    let pages = memory.info().map_or(0, |i| (i.quota / 8).min(TABLE_PAGES));
    if pages > 0
        && let Some(slot) = reserved_slot(SLOT_TABLES)
        && let Ok(tables) = memory.split(pages, Slot::At(slot))
    {
        TABLES.store(tables.slot(), Ordering::Relaxed);
    }
    if given_ipc_buffer.is_none()
        && let (Some(slot), Some(task)) = (reserved_slot(SLOT_IPC_BUFFER), task())
    {
        crate::thread::init_main_ipc_buffer(task, Slot::At(slot));
    }
}

/// Set once a thread has begun ending the program: no new thread starts after that.
static EXITING: AtomicBool = AtomicBool::new(false);

/// Whether the program is ending. Sequentially consistent: a thread being made records its Task
/// first and then looks here, and [`exit`] sets this first and then looks at the Tasks, so one of
/// the two sees the other and no thread outlives the program.
pub(crate) fn exiting() -> bool {
    EXITING.load(Ordering::SeqCst)
}

/// Ends the whole program with `status`, from any thread: every other thread of the runtime's is
/// ended with `status`, then the main thread (if the caller is another thread), then the caller.
/// `main` returning does this with its result, and a panic with
/// [`PANIC_STATUS`](crate::rt::PANIC_STATUS).
///
/// Thread-local values are not dropped, and nothing is freed: the program's objects go when its
/// supervisor deletes its capabilities (for the root task, the run ends).
///
/// ```no_run
/// fn check(config_ok: bool) {
///     if !config_ok {
///         sys::println!("bad configuration");
///         sys::exit(2);
///     }
/// }
/// # check(true);
/// ```
pub fn exit(status: usize) -> ! {
    EXITING.store(true, Ordering::SeqCst);
    let me = crate::thread::block::current();
    let my_stack = crate::thread::own_stack_slot();
    crate::thread::for_each_task(my_stack, |task| {
        // SAFETY: every Task here runs a thread of this program in its own CSpace and VSpace,
        // which the caller's Task holds too: ending it drops nothing that dies, so nothing of
        // the caller's memory goes (the teardown contract holds). Stopping a thread is sound in
        // itself: to the rest of the program it is a thread that never runs again.
        let _ = unsafe { Task::new(Cap::new(task)).kill(status) };
    });
    if me.id() != 1
        && let Some(main) = task()
    {
        // SAFETY: as above, for the main thread. (For the root task the run ends here.)
        let _ = unsafe { main.kill(status) };
    }
    crate::syscall::exit(status)
}
