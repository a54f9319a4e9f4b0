//! Parking: how a thread waits for another to wake it, without spinning, and how the locks of
//! [`crate::sync`] block.
//!
//! A thread parks on a *key* (the address of whatever it waits for: a mutex's state, a condition
//! variable's counter) after checking, under the key's bucket lock, that it still has to wait
//! ([`park`]'s `validate`); it then sleeps on its own park Note (`note_wait`) until an unparker
//! has taken it out of the bucket's queue and set its `unparked` flag ([`unpark_one`],
//! [`unpark_all`]). Checking and queueing under the same bucket lock as the unparker's dequeue is
//! what keeps a wake-up from being lost between the check and the sleep. A Note's bits may be left
//! over from an earlier wake-up, so a parked thread sleeps again until its flag says it was really
//! unparked.
//!
//! The table has [`BUCKETS`] buckets, each a short queue of waiting threads (linked through their
//! [`Block`]s) behind a spin lock held for a few instructions only; a thread that finds it taken
//! gives its timeslice away while it waits ([`crate::task::yield_now`]). Nothing here allocates.

use core::sync::atomic::{AtomicBool, AtomicPtr, Ordering};

use crate::notify::Note;
use crate::thread::block::{Block, current};

/// Buckets in the parking table.
pub const BUCKETS: usize = 64;

struct Bucket {
    lock: AtomicBool,
    head: AtomicPtr<Block>,
}

static TABLE: [Bucket; BUCKETS] =
    [const { Bucket { lock: AtomicBool::new(false), head: AtomicPtr::new(core::ptr::null_mut()) } }; BUCKETS];

fn bucket(key: usize) -> &'static Bucket {
    // Keys are addresses of at least 4-byte aligned atomics: mix the bits above the alignment.
    let h = (key >> 2).wrapping_mul(0x9e37_79b9_7f4a_7c15) >> 58;
    &TABLE[h % BUCKETS]
}

/// The bucket's lock, held while the guard lives.
struct Locked(&'static Bucket);

impl Locked {
    fn new(b: &'static Bucket) -> Locked {
        let mut spins = 0u32;
        while b.lock.compare_exchange_weak(false, true, Ordering::Acquire, Ordering::Relaxed).is_err() {
            spins += 1;
            if spins.is_multiple_of(64) {
                // The holder may have been preempted: let it finish.
                crate::task::yield_now();
            }
            core::hint::spin_loop();
        }
        Locked(b)
    }
}

impl Drop for Locked {
    fn drop(&mut self) {
        self.0.lock.store(false, Ordering::Release);
    }
}

fn block_ref<'a>(p: *mut Block) -> &'a Block {
    // SAFETY: only blocks of parked threads are in a queue, and a parked thread stays parked (its
    // block alive) until it has been taken out of the queue and told so: callers hold the bucket
    // lock, or took the block out of the queue themselves.
    unsafe { &*p }
}

/// Parks the calling thread on `key` if `validate` (run under the bucket lock) says it must still
/// wait; returns whether it parked (and has been unparked since). The thread needs a park Note:
/// a program without Memory has none, and cannot have the other threads that would wake it, so
/// parking there means a thread waits for itself.
///
/// # Panics
/// If the thread has no park Note (it waits for something only itself could give: a lock it
/// already holds, in a program without threads).
///
/// ```no_run
/// use core::sync::atomic::{AtomicBool, Ordering};
/// use sys::sync::park::{park, unpark_all};
///
/// /// A one-shot event threads can wait for.
/// struct Event(AtomicBool);
///
/// impl Event {
///     fn key(&self) -> usize {
///         core::ptr::from_ref(&self.0).addr()
///     }
///
///     fn wait(&self) {
///         while !self.0.load(Ordering::Acquire) {
///             // Checked again under the bucket lock: a `set` in between is never missed.
///             park(self.key(), || !self.0.load(Ordering::Relaxed));
///         }
///     }
///
///     fn set(&self) {
///         self.0.store(true, Ordering::Release);
///         unpark_all(self.key());
///     }
/// }
/// ```
pub fn park(key: usize, validate: impl FnOnce() -> bool) -> bool {
    let me = current();
    let note = me.park_note.load(Ordering::Relaxed);
    {
        let b = Locked::new(bucket(key));
        if !validate() {
            return false;
        }
        assert!(note != 0, "a thread without a park Note would wait for ever (a lock it already holds?)");
        me.unparked.store(false, Ordering::Relaxed);
        me.wait_key.store(key, Ordering::Relaxed);
        me.wait_next.store(core::ptr::null_mut(), Ordering::Relaxed);
        // Append: FIFO order, so no waiter starves.
        let me_ptr = core::ptr::from_ref(me).cast_mut();
        let mut at = &b.0.head;
        loop {
            let next = at.load(Ordering::Relaxed);
            if next.is_null() {
                at.store(me_ptr, Ordering::Relaxed);
                break;
            }
            at = &block_ref(next).wait_next;
        }
    }
    let note = Note::at(note);
    while !me.unparked.load(Ordering::Acquire) {
        // An error (the Note gone: the program is ending) must not spin: the flag is rechecked,
        // and a dead Note leaves the thread waiting here for good, as it would on a lost lock.
        if note.wait().is_err() {
            crate::task::yield_now();
        }
    }
    true
}

/// Wakes `b`, just taken out of its queue: its Note slot is read before its flag is set (once
/// set, the thread may run, return and end), then the Note is signalled.
fn wake(b: &Block) {
    let note = b.park_note.load(Ordering::Relaxed);
    b.unparked.store(true, Ordering::Release);
    // A failed signal (the thread ended in between and its Note is gone) wakes nobody, which is
    // right: nobody waits.
    let _ = Note::at(note).signal(1);
}

/// Takes out of `b`'s queue the first waiter on `key` (if `all` is false) or every one, handing
/// each to `f` after the bucket lock is let go.
fn take(key: usize, all: bool, mut f: impl FnMut(&Block)) -> usize {
    let mut taken: *mut Block = core::ptr::null_mut();
    let mut tail: *mut Block = core::ptr::null_mut();
    let mut n = 0;
    {
        let b = Locked::new(bucket(key));
        let mut at = &b.0.head;
        loop {
            let cur = at.load(Ordering::Relaxed);
            if cur.is_null() {
                break;
            }
            let c = block_ref(cur);
            if c.wait_key.load(Ordering::Relaxed) != key {
                at = &c.wait_next;
                continue;
            }
            at.store(c.wait_next.load(Ordering::Relaxed), Ordering::Relaxed);
            c.wait_next.store(core::ptr::null_mut(), Ordering::Relaxed);
            if tail.is_null() {
                taken = cur;
            } else {
                block_ref(tail).wait_next.store(cur, Ordering::Relaxed);
            }
            tail = cur;
            n += 1;
            if !all {
                break;
            }
        }
    }
    while !taken.is_null() {
        let c = block_ref(taken);
        taken = c.wait_next.load(Ordering::Relaxed);
        f(c);
    }
    n
}

/// Wakes the first thread parked on `key`; returns whether there was one.
///
/// ```no_run
/// use core::sync::atomic::{AtomicUsize, Ordering};
/// use sys::sync::park::{park, unpark_one};
///
/// /// Tickets handed to waiting threads one at a time.
/// struct Tickets(AtomicUsize);
///
/// impl Tickets {
///     fn key(&self) -> usize {
///         core::ptr::from_ref(&self.0).addr()
///     }
///
///     fn take(&self) {
///         loop {
///             let n = self.0.load(Ordering::Acquire);
///             if n > 0 && self.0.compare_exchange(n, n - 1, Ordering::Acquire, Ordering::Relaxed).is_ok() {
///                 return;
///             }
///             park(self.key(), || self.0.load(Ordering::Relaxed) == 0);
///         }
///     }
///
///     fn give(&self) {
///         self.0.fetch_add(1, Ordering::Release);
///         // One ticket, one thread woken.
///         unpark_one(self.key());
///     }
/// }
/// ```
pub fn unpark_one(key: usize) -> bool {
    take(key, false, wake) > 0
}

/// Wakes every thread parked on `key`; returns how many.
///
/// ```no_run
/// use core::sync::atomic::{AtomicBool, Ordering};
/// use sys::sync::park::unpark_all;
///
/// static GO: AtomicBool = AtomicBool::new(false);
///
/// /// Starts every thread waiting at the gate (parked on `GO`'s address).
/// fn open_gate() {
///     GO.store(true, Ordering::Release);
///     let woken = unpark_all(core::ptr::from_ref(&GO).addr());
///     sys::println!("{woken} threads started");
/// }
/// ```
pub fn unpark_all(key: usize) -> usize {
    take(key, true, wake)
}
