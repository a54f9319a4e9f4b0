//! Thread-local values on stable Rust: [`thread_local!`](crate::thread_local) declares a
//! [`LocalKey`], and each thread that touches it gets its own value, made on first use and
//! dropped when the thread ends.
//!
//! A key is an index into the thread block's table ([`TLS_KEYS`] of them per program, handed
//! out the first time each key is used); the value lives on the heap, its pointer in the calling
//! thread's block, reached through the FS base. The main thread's values are dropped at
//! program exit only if it returns from `main` (they are not: `exit` ends the program).

use alloc::boxed::Box;
use core::sync::atomic::{AtomicUsize, Ordering};

use super::block::{TLS_KEYS, current};

/// Keys handed out so far.
static NEXT: AtomicUsize = AtomicUsize::new(0);

/// A thread-local value's key: see [`thread_local!`](crate::thread_local).
///
/// ```
/// use core::cell::RefCell;
///
/// sys::thread_local! {
///     /// Each thread's scratch line.
///     static SCRATCH: RefCell<[u8; 64]> = RefCell::new([0; 64]);
/// }
///
/// let key: &'static sys::thread::LocalKey<RefCell<[u8; 64]>> = &SCRATCH;
/// key.with(|s| s.borrow_mut()[0] = b'x');
/// assert_eq!(key.with(|s| s.borrow()[0]), b'x');
/// ```
pub struct LocalKey<T: 'static> {
    /// The index plus one (0: not handed out yet).
    index: AtomicUsize,
    init: fn() -> T,
}

impl<T: 'static> LocalKey<T> {
    /// A key whose value starts as `init()` in each thread. Use [`thread_local!`] instead.
    ///
    /// [`thread_local!`]: crate::thread_local
    ///
    /// ```
    /// use core::cell::Cell;
    /// use sys::thread::LocalKey;
    ///
    /// // What `thread_local!` writes for `static DEPTH: Cell<u32> = Cell::new(0);`.
    /// static DEPTH: LocalKey<Cell<u32>> = LocalKey::new(|| Cell::new(0));
    /// assert_eq!(DEPTH.with(Cell::get), 0);
    /// ```
    pub const fn new(init: fn() -> T) -> LocalKey<T> {
        LocalKey { index: AtomicUsize::new(0), init }
    }

    fn index(&self) -> usize {
        let i = self.index.load(Ordering::Acquire);
        if i != 0 {
            return i - 1;
        }
        let fresh = NEXT.fetch_add(1, Ordering::Relaxed) + 1;
        assert!(fresh <= TLS_KEYS, "more than {TLS_KEYS} thread_local! keys");
        match self.index.compare_exchange(0, fresh, Ordering::AcqRel, Ordering::Acquire) {
            Ok(_) => fresh - 1,
            // Another thread handed it out first (the fresh index stays unused).
            Err(other) => other - 1,
        }
    }

    /// Calls `f` with the calling thread's value, making it first if this thread never did.
    ///
    /// # Panics
    /// If the program declares more than [`TLS_KEYS`] keys, or the value cannot be allocated.
    ///
    /// ```
    /// use core::cell::Cell;
    ///
    /// sys::thread_local! {
    ///     static CALLS: Cell<u64> = Cell::new(0);
    /// }
    ///
    /// /// Counts this thread's calls (each thread counts its own).
    /// fn count() -> u64 {
    ///     CALLS.with(|c| {
    ///         c.set(c.get() + 1);
    ///         c.get()
    ///     })
    /// }
    /// assert_eq!((count(), count()), (1, 2));
    /// ```
    pub fn with<R>(&'static self, f: impl FnOnce(&T) -> R) -> R {
        let i = self.index();
        let block = current();
        let mut p = block.tls[i].get().cast::<T>();
        if p.is_null() {
            p = Box::into_raw(Box::new((self.init)()));
            block.tls[i].set(p.cast());
            block.tls_drop[i].set(Some(drop_box::<T>));
        }
        // SAFETY: `p` is this thread's value for this key, boxed above or before, and dropped
        // only when the thread ends (`destroy_all`); only this thread reaches it, and only shared.
        f(unsafe { &*p })
    }
}

/// Drops a value `LocalKey::with` boxed.
///
/// # Safety
/// `p` must come from `Box::<T>::into_raw` and not be used again.
unsafe fn drop_box<T>(p: *mut u8) {
    // SAFETY: forwarded contract.
    drop(unsafe { Box::from_raw(p.cast::<T>()) });
}

/// Drops every thread-local value of the calling thread (as it ends).
pub(crate) fn destroy_all() {
    let block = current();
    for i in 0..TLS_KEYS {
        let p = block.tls[i].replace(core::ptr::null_mut());
        if let (false, Some(drop)) = (p.is_null(), block.tls_drop[i].take()) {
            // SAFETY: `p` and `drop` were set together by `LocalKey::with`, for a boxed value
            // that nothing reaches once it is out of the table.
            unsafe { drop(p) };
        }
    }
}

/// Declares thread-local statics: each thread has its own value of each, made by the
/// initialiser the first time the thread uses it.
///
/// ```
/// use core::cell::Cell;
///
/// sys::thread_local! {
///     static COUNT: Cell<u32> = Cell::new(0);
/// }
///
/// COUNT.with(|c| c.set(c.get() + 1));
/// assert_eq!(COUNT.with(Cell::get), 1);
///
/// // Another thread starts from its own `Cell::new(0)`.
/// # fn demo() {
/// let other = sys::thread::spawn(|| COUNT.with(Cell::get));
/// assert_eq!(other.join(), Ok(0));
/// # }
/// ```
#[macro_export]
macro_rules! thread_local {
    ($($(#[$attr:meta])* $vis:vis static $name:ident: $ty:ty = $init:expr;)*) => {
        $(
            $(#[$attr])*
            $vis static $name: $crate::thread::LocalKey<$ty> = $crate::thread::LocalKey::new(|| $init);
        )*
    };
}
