//! Synchronisation between the threads of a program: [`Mutex`], [`Condvar`], [`Once`],
//! [`Semaphore`] and a bounded MPSC channel ([`mpsc`]).
//!
//! Every primitive is an atomic word whose uncontended paths (a lock that was free, an unlock with
//! nobody waiting, a `Once` already done, a permit available) make no syscall. A thread that must
//! wait parks ([`park`]): it sleeps on its own park Note until the thread that releases what it
//! waits for wakes it. Nothing spins for long: a contended lock is retried a few times, then the
//! thread parks.
//!
//! Poisoning does not exist: a program aborts on panic, so no lock is ever left held by a thread
//! that went on.

pub mod mpsc;
pub mod park;

use core::cell::UnsafeCell;
use core::ops::{Deref, DerefMut};
use core::sync::atomic::{AtomicU8, AtomicU32, AtomicUsize, Ordering};

/// Unlocked.
const FREE: u32 = 0;
/// Locked, nobody parked.
const LOCKED: u32 = 1;
/// Locked, and threads may be parked waiting for it.
const CONTENDED: u32 = 2;

/// How often a contended lock is retried before the thread parks.
const SPINS: u32 = 64;

/// A mutual-exclusion lock protecting a `T`.
///
/// ```
/// let counter = sys::sync::Mutex::new(0);
/// *counter.lock() += 1;
/// assert_eq!(*counter.lock(), 1);
/// ```
pub struct Mutex<T: ?Sized> {
    state: AtomicU32,
    data: UnsafeCell<T>,
}

// SAFETY: the lock hands out the `T` to one thread at a time, so sharing the mutex shares the
// `T` only as sending it would.
unsafe impl<T: ?Sized + Send> Sync for Mutex<T> {}
// SAFETY: as for the `T` it owns.
unsafe impl<T: ?Sized + Send> Send for Mutex<T> {}

/// A held [`Mutex`]: access to its value, and the unlock when dropped.
///
/// ```
/// use sys::sync::{Mutex, MutexGuard};
///
/// let log = Mutex::new([0u8; 4]);
/// {
///     let mut guard: MutexGuard<'_, [u8; 4]> = log.lock();
///     guard[0] = 1; // the value, through the guard
/// } // unlocked here
/// assert!(log.try_lock().is_some());
/// ```
pub struct MutexGuard<'a, T: ?Sized> {
    lock: &'a Mutex<T>,
}

impl<T> Mutex<T> {
    /// An unlocked mutex holding `value`.
    ///
    /// ```
    /// use sys::sync::Mutex;
    ///
    /// // In a `static`: no heap, nothing to set up at run time.
    /// static NEXT_ID: Mutex<u64> = Mutex::new(1);
    ///
    /// let mut next = NEXT_ID.lock();
    /// let id = *next;
    /// *next += 1;
    /// assert_eq!(id, 1);
    /// ```
    pub const fn new(value: T) -> Mutex<T> {
        Mutex { state: AtomicU32::new(FREE), data: UnsafeCell::new(value) }
    }

    /// The value, the mutex consumed.
    ///
    /// ```
    /// use sys::sync::Mutex;
    ///
    /// let totals = Mutex::new([0u32; 3]);
    /// totals.lock()[1] += 5;
    /// // No other thread can hold it: take the value out.
    /// assert_eq!(totals.into_inner(), [0, 5, 0]);
    /// ```
    pub fn into_inner(self) -> T {
        self.data.into_inner()
    }
}

impl<T: ?Sized> Mutex<T> {
    /// Locks, parking while another thread holds the lock.
    ///
    /// ```no_run
    /// use sys::sync::Mutex;
    ///
    /// static HITS: Mutex<u64> = Mutex::new(0);
    ///
    /// let workers: [_; 4] = core::array::from_fn(|_| {
    ///     sys::thread::spawn(|| {
    ///         for _ in 0..1000 {
    ///             *HITS.lock() += 1;
    ///         }
    ///     })
    /// });
    /// for worker in workers {
    ///     worker.join().expect("the worker ran to the end");
    /// }
    /// assert_eq!(*HITS.lock(), 4000);
    /// ```
    pub fn lock(&self) -> MutexGuard<'_, T> {
        if self.state.compare_exchange(FREE, LOCKED, Ordering::Acquire, Ordering::Relaxed).is_err() {
            self.lock_contended();
        }
        MutexGuard { lock: self }
    }

    /// Locks if the lock is free, without waiting.
    ///
    /// ```
    /// use sys::sync::Mutex;
    ///
    /// let stats = Mutex::new(0u32);
    /// let held = stats.lock();
    /// // Taken: do something else rather than wait.
    /// assert!(stats.try_lock().is_none());
    /// drop(held);
    /// if let Some(mut s) = stats.try_lock() {
    ///     *s += 1;
    /// }
    /// ```
    pub fn try_lock(&self) -> Option<MutexGuard<'_, T>> {
        self.state
            .compare_exchange(FREE, LOCKED, Ordering::Acquire, Ordering::Relaxed)
            .is_ok()
            .then_some(MutexGuard { lock: self })
    }

    fn key(&self) -> usize {
        core::ptr::from_ref(&self.state).addr()
    }

    #[cold]
    fn lock_contended(&self) {
        for _ in 0..SPINS {
            if self.state.load(Ordering::Relaxed) == FREE
                && self.state.compare_exchange(FREE, LOCKED, Ordering::Acquire, Ordering::Relaxed).is_ok()
            {
                return;
            }
            core::hint::spin_loop();
        }
        // From here on the lock is marked contended, so whoever unlocks wakes a parked thread.
        while self.state.swap(CONTENDED, Ordering::Acquire) != FREE {
            park::park(self.key(), || self.state.load(Ordering::Relaxed) == CONTENDED);
        }
    }

    fn unlock(&self) {
        if self.state.swap(FREE, Ordering::Release) == CONTENDED {
            park::unpark_one(self.key());
        }
    }

    /// The value, through the mutex held mutably (no locking needed).
    ///
    /// ```
    /// use sys::sync::Mutex;
    ///
    /// let mut config = Mutex::new(9600u32);
    /// // Borrowed mutably: no other thread can have it, so no lock is taken.
    /// *config.get_mut() = 115_200;
    /// assert_eq!(*config.lock(), 115_200);
    /// ```
    pub fn get_mut(&mut self) -> &mut T {
        self.data.get_mut()
    }
}

impl<T: Default> Default for Mutex<T> {
    fn default() -> Mutex<T> {
        Mutex::new(T::default())
    }
}

impl<T: ?Sized> Deref for MutexGuard<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        // SAFETY: the guard holds the lock: no other reference to the value exists.
        unsafe { &*self.lock.data.get() }
    }
}

impl<T: ?Sized> DerefMut for MutexGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: as in `deref`, and the guard is borrowed mutably.
        unsafe { &mut *self.lock.data.get() }
    }
}

impl<T: ?Sized> Drop for MutexGuard<'_, T> {
    fn drop(&mut self) {
        self.lock.unlock();
    }
}

/// A condition variable: threads wait on it, with a [`Mutex`] held, until another notifies.
///
/// A waiter is woken only by a notification that came after it started waiting (no wake-up is
/// lost between unlocking the mutex and sleeping), and possibly spuriously: wait in a loop on the
/// condition, as [`wait_while`](Self::wait_while) does.
///
/// ```no_run
/// use sys::sync::{Condvar, Mutex};
///
/// static QUEUE: Mutex<Option<u32>> = Mutex::new(None);
/// static FILLED: Condvar = Condvar::new();
///
/// let consumer = sys::thread::spawn(|| {
///     let mut slot = FILLED.wait_while(QUEUE.lock(), |slot| slot.is_none());
///     slot.take()
/// });
/// *QUEUE.lock() = Some(42);
/// FILLED.notify_one();
/// assert_eq!(consumer.join(), Ok(Some(42)));
/// ```
pub struct Condvar {
    seq: AtomicU32,
}

impl Condvar {
    /// A condition variable nobody waits on.
    ///
    /// ```
    /// use sys::sync::{Condvar, Mutex};
    ///
    /// // Beside the mutex whose state it signals changes of.
    /// static READY: Mutex<bool> = Mutex::new(false);
    /// static CHANGED: Condvar = Condvar::new();
    ///
    /// *READY.lock() = true;
    /// CHANGED.notify_all(); // nobody waits yet: nothing happens
    /// ```
    pub const fn new() -> Condvar {
        Condvar { seq: AtomicU32::new(0) }
    }

    fn key(&self) -> usize {
        core::ptr::from_ref(&self.seq).addr()
    }

    /// Unlocks `guard`'s mutex, waits for a notification, and locks it again.
    ///
    /// ```no_run
    /// use sys::sync::{Condvar, Mutex};
    ///
    /// static JOBS: Mutex<u32> = Mutex::new(0);
    /// static NEW_JOB: Condvar = Condvar::new();
    ///
    /// /// Takes a job, waiting for one.
    /// fn take_job() {
    ///     let mut jobs = JOBS.lock();
    ///     // Wake-ups may be spurious: check again each time.
    ///     while *jobs == 0 {
    ///         jobs = NEW_JOB.wait(jobs);
    ///     }
    ///     *jobs -= 1;
    /// }
    /// ```
    pub fn wait<'a, T: ?Sized>(&self, guard: MutexGuard<'a, T>) -> MutexGuard<'a, T> {
        let lock = guard.lock;
        let seq = self.seq.load(Ordering::Relaxed);
        drop(guard);
        park::park(self.key(), || self.seq.load(Ordering::Relaxed) == seq);
        lock.lock()
    }

    /// Waits while `condition` holds of the value, rechecking after every wake-up.
    ///
    /// ```no_run
    /// use sys::sync::{Condvar, Mutex};
    ///
    /// static PENDING: Mutex<u32> = Mutex::new(3);
    /// static DONE_ONE: Condvar = Condvar::new();
    ///
    /// /// Waits until every pending request has been answered.
    /// fn drain() {
    ///     let pending = DONE_ONE.wait_while(PENDING.lock(), |n| *n > 0);
    ///     assert_eq!(*pending, 0);
    /// }
    /// ```
    pub fn wait_while<'a, T: ?Sized>(
        &self,
        mut guard: MutexGuard<'a, T>,
        mut condition: impl FnMut(&mut T) -> bool,
    ) -> MutexGuard<'a, T> {
        while condition(&mut *guard) {
            guard = self.wait(guard);
        }
        guard
    }

    /// Wakes one waiting thread, if any.
    ///
    /// ```no_run
    /// use sys::sync::{Condvar, Mutex};
    ///
    /// static JOBS: Mutex<u32> = Mutex::new(0);
    /// static NEW_JOB: Condvar = Condvar::new();
    ///
    /// /// Adds a job and wakes one worker to take it.
    /// fn add_job() {
    ///     *JOBS.lock() += 1;
    ///     NEW_JOB.notify_one();
    /// }
    /// ```
    pub fn notify_one(&self) {
        self.seq.fetch_add(1, Ordering::Relaxed);
        park::unpark_one(self.key());
    }

    /// Wakes every waiting thread.
    ///
    /// ```no_run
    /// use sys::sync::{Condvar, Mutex};
    ///
    /// static STOPPING: Mutex<bool> = Mutex::new(false);
    /// static CHANGED: Condvar = Condvar::new();
    ///
    /// /// Tells every worker to stop.
    /// fn stop_all() {
    ///     *STOPPING.lock() = true;
    ///     CHANGED.notify_all();
    /// }
    /// ```
    pub fn notify_all(&self) {
        self.seq.fetch_add(1, Ordering::Relaxed);
        park::unpark_all(self.key());
    }
}

impl Default for Condvar {
    fn default() -> Condvar {
        Condvar::new()
    }
}

/// Not run yet.
const INCOMPLETE: u8 = 0;
/// Running; others wait.
const RUNNING: u8 = 1;
/// Done.
const COMPLETE: u8 = 2;

/// Runs something once, whichever threads ask and however often.
///
/// ```
/// use sys::sync::Once;
///
/// static INIT: Once = Once::new();
///
/// fn ensure_ready() {
///     INIT.call_once(|| {
///         // ... probe the device, once, whichever thread comes first ...
///     });
/// }
/// ensure_ready();
/// ensure_ready();
/// assert!(INIT.is_completed());
/// ```
pub struct Once {
    state: AtomicU8,
}

impl Once {
    /// Not run yet.
    ///
    /// ```
    /// use sys::sync::Once;
    ///
    /// static SETUP: Once = Once::new();
    /// assert!(!SETUP.is_completed());
    /// ```
    pub const fn new() -> Once {
        Once { state: AtomicU8::new(INCOMPLETE) }
    }

    /// Whether it has run to the end.
    ///
    /// ```
    /// use sys::sync::Once;
    ///
    /// static SETUP: Once = Once::new();
    /// assert!(!SETUP.is_completed());
    /// SETUP.call_once(|| {});
    /// assert!(SETUP.is_completed());
    /// ```
    pub fn is_completed(&self) -> bool {
        self.state.load(Ordering::Acquire) == COMPLETE
    }

    fn key(&self) -> usize {
        core::ptr::from_ref(&self.state).addr()
    }

    /// Runs `f` if nobody has yet; a thread that finds it running waits until it is done.
    ///
    /// ```
    /// use core::sync::atomic::{AtomicU32, Ordering};
    /// use sys::sync::Once;
    ///
    /// static SETUP: Once = Once::new();
    /// static RUNS: AtomicU32 = AtomicU32::new(0);
    ///
    /// for _ in 0..3 {
    ///     SETUP.call_once(|| {
    ///         RUNS.fetch_add(1, Ordering::Relaxed);
    ///     });
    /// }
    /// assert_eq!(RUNS.load(Ordering::Relaxed), 1);
    /// ```
    pub fn call_once(&self, f: impl FnOnce()) {
        if self.is_completed() {
            return;
        }
        loop {
            match self.state.compare_exchange(INCOMPLETE, RUNNING, Ordering::Acquire, Ordering::Acquire) {
                Ok(_) => {
                    f();
                    self.state.store(COMPLETE, Ordering::Release);
                    park::unpark_all(self.key());
                    return;
                }
                Err(COMPLETE) => return,
                Err(_) => {
                    park::park(self.key(), || self.state.load(Ordering::Relaxed) == RUNNING);
                }
            }
        }
    }
}

impl Default for Once {
    fn default() -> Once {
        Once::new()
    }
}

/// A counting semaphore: [`acquire`](Self::acquire) takes a permit, waiting for one if none is
/// left; [`release`](Self::release) gives one back.
///
/// ```no_run
/// use sys::sync::Semaphore;
///
/// // At most two requests in flight to a slow device, however many threads ask.
/// static SLOTS: Semaphore = Semaphore::new(2);
///
/// let workers: [_; 8] = core::array::from_fn(|i| {
///     sys::thread::spawn(move || {
///         SLOTS.acquire();
///         sys::println!("request {i}");
///         SLOTS.release();
///     })
/// });
/// for worker in workers {
///     worker.join().expect("the worker ran to the end");
/// }
/// ```
pub struct Semaphore {
    permits: AtomicUsize,
}

impl Semaphore {
    /// A semaphore with `permits` permits.
    ///
    /// ```
    /// use sys::sync::Semaphore;
    ///
    /// static BUFFERS: Semaphore = Semaphore::new(4);
    /// assert_eq!(BUFFERS.available(), 4);
    /// ```
    pub const fn new(permits: usize) -> Semaphore {
        Semaphore { permits: AtomicUsize::new(permits) }
    }

    fn key(&self) -> usize {
        core::ptr::from_ref(&self.permits).addr()
    }

    /// Takes a permit if one is left, without waiting.
    ///
    /// ```
    /// use sys::sync::Semaphore;
    ///
    /// let buffers = Semaphore::new(1);
    /// assert!(buffers.try_acquire());
    /// // None left: drop the packet rather than wait.
    /// assert!(!buffers.try_acquire());
    /// buffers.release();
    /// ```
    pub fn try_acquire(&self) -> bool {
        let mut p = self.permits.load(Ordering::Relaxed);
        while p > 0 {
            match self.permits.compare_exchange_weak(p, p - 1, Ordering::Acquire, Ordering::Relaxed) {
                Ok(_) => return true,
                Err(now) => p = now,
            }
        }
        false
    }

    /// Takes a permit, waiting while there is none.
    ///
    /// ```
    /// use sys::sync::Semaphore;
    ///
    /// let buffers = Semaphore::new(2);
    /// buffers.acquire(); // a permit was left: no waiting
    /// assert_eq!(buffers.available(), 1);
    /// buffers.release();
    /// ```
    pub fn acquire(&self) {
        while !self.try_acquire() {
            park::park(self.key(), || self.permits.load(Ordering::Relaxed) == 0);
        }
    }

    /// Gives a permit back, waking a waiter.
    ///
    /// ```
    /// use sys::sync::Semaphore;
    ///
    /// // Counts items rather than limits them: it starts empty, and each item gives a permit.
    /// let items = Semaphore::new(0);
    /// items.release();
    /// items.release();
    /// assert_eq!(items.available(), 2);
    /// assert!(items.try_acquire());
    /// ```
    pub fn release(&self) {
        self.permits.fetch_add(1, Ordering::Release);
        park::unpark_one(self.key());
    }

    /// Permits left now.
    ///
    /// ```
    /// use sys::sync::Semaphore;
    ///
    /// let slots = Semaphore::new(3);
    /// slots.acquire();
    /// sys::println!("{} of 3 slots free", slots.available());
    /// assert_eq!(slots.available(), 2);
    /// ```
    pub fn available(&self) -> usize {
        self.permits.load(Ordering::Relaxed)
    }
}
