//! Thread stacks: a slot of the stack area ([`STACKS_BASE`]) per thread, its top mapped, the rest
//! of the slot unmapped below it as a guard.
//!
//! Slots are handed out from a bitmap of [`STACK_SLOTS`]; a stack is one Page object of a power of
//! two of pages, mapped read-write, not executable, at the top of its slot, with the thread's
//! block ([`super::block`]) in its last bytes. Page tables for the area are charged to the
//! runtime's page-table Memory.
//!
//! A slot also records the Task of the thread running on it ([`Stack::set_task`]) until the stack
//! is freed: that is the program's list of live threads, which [`crate::process::exit`] stops
//! ([`for_each_task`]), and how a thread finds its own slot ([`slot_of`]).
//!
//! One freed stack of the default size stays mapped in its slot ([`CACHED`]), and the next
//! thread that asks for that size takes it as it is ([`Stack::map`]): a new Page would cost the
//! kernel's zeroing of every page, its mapping, and later its unmapping and deletion, most of
//! what a thread's spawn and join take. A cached stack holds what its last thread left
//! in it; that is this program's own memory (a stack is never shared with another program), and
//! the thread block at its top is written anew for each thread.

use core::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

use abi::layout::{PAGE_SIZE, STACK_SLOT, STACK_SLOTS, STACKS_BASE};

use super::SpawnError;
use super::block::BLOCK_BYTES;
use crate::cap::Slot;
use crate::vspace::{Page, access};

static USED: [AtomicU64; STACK_SLOTS / 64] = [const { AtomicU64::new(0) }; STACK_SLOTS / 64];

/// The Task slot of the thread on each stack slot (0: none yet, or freed).
static TASKS: [AtomicUsize; STACK_SLOTS] = [const { AtomicUsize::new(0) }; STACK_SLOTS];

/// Calls `f` with the Task slot of every thread whose stack is live, except the one on stack
/// slot `except`.
pub(crate) fn for_each_task(except: Option<usize>, mut f: impl FnMut(usize)) {
    for (slot, task) in TASKS.iter().enumerate() {
        let task = task.load(Ordering::SeqCst);
        if task != 0 && Some(slot) != except {
            f(task);
        }
    }
}

/// The stack slot whose thread's Task is in slot `task`, if any.
pub(crate) fn slot_of_task(task: usize) -> Option<usize> {
    TASKS.iter().position(|t| t.load(Ordering::SeqCst) == task)
}

/// Where the block of the thread on stack slot `slot` is.
fn block_addr_of(slot: usize) -> usize {
    STACKS_BASE + (slot + 1) * STACK_SLOT - BLOCK_BYTES
}

/// The stack slot `addr` lies in, if it is in the stack area.
pub(crate) fn slot_of(addr: usize) -> Option<usize> {
    let slot = addr.checked_sub(STACKS_BASE)? / STACK_SLOT;
    (slot < STACK_SLOTS).then_some(slot)
}

fn take_slot() -> Option<usize> {
    for (w, word) in USED.iter().enumerate() {
        let mut cur = word.load(Ordering::Relaxed);
        while cur != u64::MAX {
            let bit = (!cur).trailing_zeros() as usize;
            match word.compare_exchange_weak(cur, cur | 1 << bit, Ordering::Acquire, Ordering::Relaxed) {
                Ok(_) => return Some(w * 64 + bit),
                Err(now) => cur = now,
            }
        }
    }
    None
}

fn give_slot(slot: usize) {
    USED[slot / 64].fetch_and(!(1 << (slot % 64)), Ordering::Release);
}

/// The stack kept for the next thread (see the module docs): 0 for none, else its stack slot
/// plus one in the low 16 bits and the capability slot of its Page above them. One word, so that
/// keeping and taking it are each one atomic operation.
static CACHED: AtomicUsize = AtomicUsize::new(0);

// A stack slot plus one fits in the low 16 bits.
const _: () = assert!(STACK_SLOTS < 1 << 16);

/// The pages of the stack the cache keeps: the default size's.
const CACHED_PAGES: usize = super::DEFAULT_STACK_BYTES.div_ceil(PAGE_SIZE).next_power_of_two();

/// Takes the kept stack (of [`CACHED_PAGES`]), if there is one: its slot and its Page.
fn take_cached() -> Option<(usize, Page)> {
    match CACHED.swap(0, Ordering::Acquire) {
        0 => None,
        kept => Some(((kept & 0xffff) - 1, Page::new(crate::cap::Cap::new(kept >> 16)))),
    }
}

/// Keeps the stack in `slot` (its Page `page`, of [`CACHED_PAGES`]) for the next thread, unless
/// one is kept already; `false` (nothing done) then.
fn cache(slot: usize, page: Page) -> bool {
    let kept = page.cap().slot() << 16 | (slot + 1);
    CACHED.compare_exchange(0, kept, Ordering::Release, Ordering::Relaxed).is_ok()
}

/// Gives the kept stack back to the program's Memory (unmapped and deleted, its slot freed):
/// `thread::trim`, which the heap calls when the Memory has no room for it to grow. Whether
/// there was one.
pub(crate) fn release_cached() -> bool {
    let Some((slot, page)) = take_cached() else { return false };
    Stack { slot, page, pages: CACHED_PAGES }.discard();
    true
}

/// A mapped thread stack.
pub(super) struct Stack {
    slot: usize,
    page: Page,
    /// Its size in pages.
    pages: usize,
}

impl Stack {
    /// Maps a stack of at least `bytes` in a free slot.
    pub(super) fn map(bytes: usize) -> Result<Stack, SpawnError> {
        let Some(memory) = crate::process::memory() else { return Err(SpawnError::NoResources) };
        let pages = bytes.div_ceil(PAGE_SIZE).next_power_of_two();
        if pages == CACHED_PAGES
            && let Some((slot, page)) = take_cached()
        {
            return Ok(Stack { slot, page, pages });
        }
        let bytes = pages * PAGE_SIZE;
        let slot = take_slot().ok_or(SpawnError::NoStackSlot)?;
        let top = STACKS_BASE + (slot + 1) * STACK_SLOT;
        let made = Page::create(memory, pages, Slot::Auto).and_then(|page| {
            match crate::process::map_page(page, top - bytes, access::RW) {
                Ok(()) => Ok(page),
                Err(e) => {
                    let _ = page.delete();
                    Err(e)
                }
            }
        });
        match made {
            Ok(page) => Ok(Stack { slot, page, pages }),
            Err(e) => {
                give_slot(slot);
                Err(e.into())
            }
        }
    }

    /// Records the Task that runs on this stack, for [`for_each_task`] (0: none, before its slot
    /// is deleted, so that a slot number reused by a later object is never taken for it). Sequentially consistent,
    /// so that of a thread being made and a program exiting at once, one sees the other (see
    /// [`crate::process::exit`]).
    pub(super) fn set_task(&self, task: usize) {
        TASKS[self.slot].store(task, Ordering::SeqCst);
    }

    /// Where the thread's block goes: the last [`BLOCK_BYTES`] of the stack (64-byte aligned: the
    /// top is page-aligned and the block's size a multiple of 64).
    pub(super) fn block_addr(&self) -> usize {
        block_addr_of(self.slot)
    }

    /// The thread's first `rsp`: below the block, as at a function's entry (8 below a multiple
    /// of 16).
    pub(super) fn initial_rsp(&self) -> usize {
        (self.block_addr() & !15) - 8
    }

    /// Keeps the stack for the next thread ([`CACHED`]), or unmaps and deletes it and frees
    /// its slot. The thread must have stopped.
    pub(super) fn free(self) {
        self.set_task(0);
        if self.pages == CACHED_PAGES && cache(self.slot, self.page) {
            return;
        }
        self.discard();
    }

    /// Unmaps and deletes the stack and frees its slot. No thread runs on it.
    fn discard(self) {
        // SAFETY: the thread that ran on the stack has stopped (the caller's promise), and no one
        // else refers to the stack: nothing uses the memory afterwards.
        let _ = unsafe { self.page.unmap() };
        let _ = self.page.delete();
        give_slot(self.slot);
    }
}
