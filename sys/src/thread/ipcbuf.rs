//! Each thread's IPC buffer: the page through which capabilities and words beyond the five in
//! registers travel with its messages ([`IpcBufferPage`]).
//!
//! A thread gets one the first time it asks ([`with_ipc_buffer`]): a page mapped from the
//! program's Memory ([`crate::mmap`]) and made its Task's IPC buffer. A spawned thread's is
//! unmapped when the thread ends ([`release`]); the main thread's lives as long as the program.
//! The page is only ever lent to a closure, so no reference to it outlives the thread.

use core::sync::atomic::{AtomicBool, Ordering};

use abi::layout::STACK_SLOTS;

use crate::error::{Error, Result};
use crate::ipc::IpcBufferPage;
use crate::mmap::{self, MapError, Place};
use crate::vspace::access;

use super::block;

/// Runs `f` with the calling thread's IPC buffer, mapping one and making it the thread's on the
/// first call.
///
/// # Errors
/// The thread's Task is unknown (a task made by hand with `task::prepare`), or `f` itself asks
/// for the buffer (it is lent already): `InvalidState`. No
/// Memory or VSpace: `InvalidCapability`. As `task_set_ipc_buffer`, or the mapping's system
/// calls (`QuotaExceeded`, `OutOfMemory`).
///
/// ```no_run
/// # fn demo() -> sys::Result<()> {
/// // Send one extra word with the next message.
/// sys::thread::with_ipc_buffer(|buffer| buffer.set_words(&[42]))?;
/// # Ok(())
/// # }
/// ```
pub fn with_ipc_buffer<R>(f: impl FnOnce(&IpcBufferPage) -> R) -> Result<R> {
    let me = block::current();
    if me.ipc_lent.get() {
        return Err(Error::Abi(abi::Error::InvalidState));
    }
    let mapped = me.ipc_buffer.take();
    let mapping = match mapped {
        Some(m) if stale_flag(me).is_some_and(|f| f.swap(false, Ordering::SeqCst)) => {
            let task = me.task.load(Ordering::Relaxed);
            // SAFETY: as below, when it was first made the task's buffer: the page is still the
            // thread's alone, and still mapped.
            if let Err(e) = unsafe { crate::ipc::set_ipc_buffer_raw(task, m.addr()) } {
                if let Some(f) = stale_flag(me) {
                    f.store(true, Ordering::SeqCst);
                }
                me.ipc_buffer.set(Some(m));
                return Err(e);
            }
            m
        }
        Some(m) => m,
        None => {
            let task = me.task.load(Ordering::Relaxed);
            if task == 0 {
                return Err(Error::Abi(abi::Error::InvalidState));
            }
            let m = mmap::map_anonymous(1, access::RW, Place::Anywhere).map_err(|e| match e {
                MapError::Sys(e) => e,
                MapError::NoResources => Error::Abi(abi::Error::InvalidCapability),
                _ => Error::Abi(abi::Error::OutOfMemory),
            })?;
            // SAFETY: the page is this thread's alone, mapped read-write for as long as it is the
            // thread's buffer (`release` unsets it before unmapping it), and Rust reaches it only
            // as an `IpcBufferPage`, whose fields are atomics the kernel may read and write at
            // any time.
            unsafe { crate::ipc::set_ipc_buffer_raw(task, m.addr()) }?;
            m
        }
    };
    let ptr = core::ptr::with_exposed_provenance::<IpcBufferPage>(mapping.addr());
    me.ipc_lent.set(true);
    // SAFETY: the mapping is one page, page-aligned, read-write, zeroed when made (every field of
    // an `IpcBufferPage` is an atomic integer, valid at 0); it stays mapped until `release`,
    // which only this thread calls, never while the buffer is lent: the borrow cannot outlive it.
    let result = f(unsafe { &*ptr });
    me.ipc_lent.set(false);
    me.ipc_buffer.set(Some(mapping));
    Ok(result)
}

/// Notes that `task` was given another IPC buffer (`task_set_ipc_buffer`): if it is a thread of
/// the runtime's with a buffer of its own, that buffer is made the task's again before its next
/// use.
pub(crate) fn replaced(task: usize) {
    if task != 0 && crate::process::task().is_some_and(|t| t.slot() == task) {
        MAIN_STALE.store(true, Ordering::SeqCst);
    } else if let Some(slot) = super::stack::slot_of_task(task) {
        STALE[slot].store(true, Ordering::SeqCst);
    }
}

/// Set when a thread's Task was given another IPC buffer behind the runtime's back: the main
/// thread's, and each spawned thread's by stack slot. (Kept apart from the blocks, so that
/// marking one never touches a stack that may be going away; a flag left for a slot's next
/// thread only makes it register its buffer once more.)
static MAIN_STALE: AtomicBool = AtomicBool::new(false);
static STALE: [AtomicBool; STACK_SLOTS] = [const { AtomicBool::new(false) }; STACK_SLOTS];

/// The calling thread's flag, if it is the main thread or one `spawn` made.
fn stale_flag(me: &block::Block) -> Option<&'static AtomicBool> {
    if me.id() == 1 {
        return Some(&MAIN_STALE);
    }
    super::own_stack_slot().map(|s| &STALE[s])
}

/// Makes the main thread's IPC buffer, a page in `slot`: the first thing `_start` does once the
/// main thread's block is ready. Without one (no Memory, the quota spent) the main thread makes
/// one on first use, as other threads do.
pub(crate) fn init_main(task: crate::task::Task, slot: crate::cap::Slot) {
    let me = block::current();
    let Ok(m) = mmap::map_anonymous_in(1, access::RW, Place::Anywhere, slot) else { return };
    // SAFETY: as in `with_ipc_buffer`: the page is the main thread's alone, for good.
    if unsafe { crate::ipc::set_ipc_buffer_raw(task.slot(), m.addr()) }.is_ok() {
        me.ipc_buffer.set(Some(m));
    }
}

/// Takes the main thread's IPC buffer from its starter: `page`, mapped where the start page's
/// entry says and already the thread's buffer. It stays the starter's (never unmapped here).
pub(crate) fn adopt_main(page: crate::vspace::Page) {
    if let Some(m) = mmap::adopt(page) {
        block::current().ipc_buffer.set(Some(m));
    }
}

/// Unsets and unmaps the calling thread's IPC buffer, if it has one. Called at the end of a
/// spawned thread.
pub(crate) fn release() {
    let me = block::current();
    if let Some(m) = me.ipc_buffer.take() {
        let task = me.task.load(Ordering::Relaxed);
        // SAFETY: setting no buffer makes the kernel touch none: always sound.
        if unsafe { crate::ipc::set_ipc_buffer_raw(task, 0) }.is_err() {
            // The kernel may still use the page: keep it mapped rather than free it under it.
            core::mem::forget(m);
        }
    }
}
