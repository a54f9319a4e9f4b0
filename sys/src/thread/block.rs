//! Thread blocks: what the runtime keeps for each thread, found through the FS base.
//!
//! Every thread of the program has a [`Block`] and its FS base points at it; the block's first
//! word is its own address, so `mov rax, fs:[0]` finds it ([`current`]). The main thread's block
//! is a static, pointed at by `_start` (`task_set_fs_base` on the program's own Task); a thread's
//! lives at the top of its stack, set up by whoever prepares the thread (`task::prepare`, which
//! every way of making a thread goes through). A program started without its own Task capability
//! cannot point its FS base anywhere, and cannot make threads either (it has no Memory for them
//! in practice): there [`current`] is always the main block.
//!
//! A block holds the thread's id, the Note it parks on (see [`crate::sync`]) and the links that
//! put it in a wait queue, which other threads read and write (atomics), and its thread-local
//! values, which only the thread itself touches (cells).

use core::cell::Cell;
use core::sync::atomic::{AtomicBool, AtomicPtr, AtomicU64, AtomicUsize, Ordering};

/// Most `thread_local!` keys a program may declare.
pub const TLS_KEYS: usize = 32;

/// How a thread-local value is dropped: the pointer its key boxed.
pub(crate) type DropFn = unsafe fn(*mut u8);

/// A thread's block (see the module docs).
///
/// ```no_run
/// use sys::thread::block::{self, Block};
///
/// let me: &Block = block::current();
/// sys::println!("thread {} (block at {:#x})", me.id(), block::current_addr());
/// ```
#[repr(C, align(64))]
pub struct Block {
    /// `fs:0`: the block's own address (an atomic only so that the static main block can be
    /// given it at run time).
    self_addr: AtomicUsize,
    /// The thread's id (1 for the main thread).
    pub(crate) id: u64,
    /// The slot of the Note the thread parks on (0: none).
    pub(crate) park_note: AtomicUsize,
    /// Set by whoever unparks the thread, before it signals the Note; cleared by the thread.
    pub(crate) unparked: AtomicBool,
    /// The wait queue the thread is in: the key it waits for, and the next waiter.
    pub(crate) wait_key: AtomicUsize,
    pub(crate) wait_next: AtomicPtr<Block>,
    /// Thread-local values, by key: a pointer to a boxed value, or null.
    pub(crate) tls: [Cell<*mut u8>; TLS_KEYS],
    /// How to drop each value (set with it).
    pub(crate) tls_drop: [Cell<Option<DropFn>>; TLS_KEYS],
    /// Set when the thread panics, so that a panic while reporting it ends the program at once.
    pub(crate) panicking: Cell<bool>,
    /// The slot of the thread's own Task (0: unknown, for a task made by hand).
    pub(crate) task: AtomicUsize,
    /// The thread's IPC buffer, once it has one ([`super::ipcbuf`]).
    pub(crate) ipc_buffer: Cell<Option<crate::mmap::Mapping>>,
    /// Whether the IPC buffer is lent to a closure now.
    pub(crate) ipc_lent: Cell<bool>,
}

// SAFETY: the fields other threads reach are atomics; the cells (`tls`, `tls_drop`, `panicking`,
// `ipc_buffer`, `ipc_lent`) are touched only by the thread the block belongs to (through `current`), never
// through another thread's reference.
unsafe impl Sync for Block {}

static NEXT_ID: AtomicU64 = AtomicU64::new(2);

/// The main thread's block.
static MAIN: Block = Block::new(1);

/// Whether the main thread's FS base points at `MAIN` (set once, by `_start`).
static FS_READY: AtomicBool = AtomicBool::new(false);

impl Block {
    const fn new(id: u64) -> Block {
        Block {
            self_addr: AtomicUsize::new(0),
            id,
            park_note: AtomicUsize::new(0),
            unparked: AtomicBool::new(false),
            wait_key: AtomicUsize::new(0),
            wait_next: AtomicPtr::new(core::ptr::null_mut()),
            tls: [const { Cell::new(core::ptr::null_mut()) }; TLS_KEYS],
            tls_drop: [const { Cell::new(None) }; TLS_KEYS],
            panicking: Cell::new(false),
            task: AtomicUsize::new(0),
            ipc_buffer: Cell::new(None),
            ipc_lent: Cell::new(false),
        }
    }

    /// The thread's id.
    ///
    /// ```no_run
    /// let me = sys::thread::block::current();
    /// assert_eq!(me.id(), sys::thread::id());
    /// ```
    pub fn id(&self) -> u64 {
        self.id
    }
}

/// Room a block takes at the top of a thread's stack.
pub const BLOCK_BYTES: usize = core::mem::size_of::<Block>();

/// Makes a block for a new thread at `at` (the top of its stack, `BLOCK_BYTES` long, aligned to
/// 64) and returns its address, the thread's FS base.
///
/// # Safety
/// `[at, at + BLOCK_BYTES)` must be writable memory, 64-byte aligned, that nothing else uses for
/// as long as the thread may run.
pub(crate) unsafe fn make(at: usize, park_note: usize, task: usize) -> usize {
    let block = Block::new(NEXT_ID.fetch_add(1, Ordering::Relaxed));
    block.park_note.store(park_note, Ordering::Relaxed);
    block.task.store(task, Ordering::Relaxed);
    let ptr = core::ptr::with_exposed_provenance_mut::<Block>(at);
    block.self_addr.store(at, Ordering::Relaxed);
    // SAFETY: the caller vouches for the memory; the block is moved in whole.
    unsafe { ptr.write(block) };
    at
}

/// Points the main thread's FS base at its block. Called once by `_start` (through `process`),
/// before `main`; without the program's own Task it leaves [`current`] answering the main block.
#[cfg_attr(not(panic = "abort"), allow(dead_code, reason = "called only from `_start`"))]
pub(crate) fn init_main(task: Option<crate::task::Task>, park_note: usize) {
    MAIN.park_note.store(park_note, Ordering::Relaxed);
    MAIN.task.store(task.map_or(0, |t| t.slot()), Ordering::Relaxed);
    let addr = core::ptr::from_ref(&MAIN).expose_provenance();
    MAIN.self_addr.store(addr, Ordering::Relaxed);
    let Some(task) = task else { return };
    // SAFETY: the base becomes the main thread's own block, which lives for good: exactly what the
    // runtime needs the FS base to be.
    if unsafe { crate::task::task_set_fs_base(task.slot(), addr) }.is_ok() {
        FS_READY.store(true, Ordering::Release);
    }
}

/// The address of the calling thread's block (its FS base).
///
/// ```no_run
/// use sys::thread::block::{BLOCK_BYTES, current_addr};
///
/// // A thread's block sits at the top of its stack, 64-byte aligned.
/// let addr = current_addr();
/// assert_eq!(addr % 64, 0);
/// sys::println!("block: {addr:#x}..{:#x}", addr + BLOCK_BYTES);
/// ```
pub fn current_addr() -> usize {
    if !FS_READY.load(Ordering::Acquire) {
        return core::ptr::from_ref(&MAIN).expose_provenance();
    }
    let addr: usize;
    // SAFETY: once `FS_READY` is set, every thread of the program has its FS base at its block
    // (`init_main`, `make`; `task_set_fs_base` is unsafe for everyone else), whose first word is
    // its address: the read touches only that word.
    unsafe { core::arch::asm!("mov {}, qword ptr fs:[0]", out(reg) addr, options(nostack, readonly, preserves_flags)) };
    addr
}

/// The calling thread's block.
///
/// ```no_run
/// let worker = sys::thread::spawn(|| sys::thread::block::current().id());
/// let id = worker.id();
/// assert_eq!(worker.join(), Ok(id));
/// ```
pub fn current() -> &'static Block {
    let ptr = core::ptr::with_exposed_provenance::<Block>(current_addr());
    // SAFETY: a thread's block lives as long as the thread (the main block is static; a thread's
    // sits at the top of its stack, which is freed only after the thread has stopped), and it is
    // only ever shared (`Block` is `Sync`: atomics, and cells only its own thread touches).
    unsafe { &*ptr }
}

/// The block at `addr` (a thread's FS base), for whoever holds the thread.
///
/// # Safety
/// `addr` must be a live thread's block.
pub(crate) unsafe fn at<'a>(addr: usize) -> &'a Block {
    // SAFETY: forwarded contract.
    unsafe { &*core::ptr::with_exposed_provenance::<Block>(addr) }
}
