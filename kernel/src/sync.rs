//! Shared-state primitives for a kernel that runs with interrupts off on one CPU.
//!
//! - [`Global`]: kernel state shared by every path (the scheduler, the timer wheel, the IRQ
//!   table, the dead list), kept in `Cell`s and only ever reached through shared references, so
//!   that no two paths can hold `&mut` to it at once.
//! - [`RacyCell`]: state the hardware also reads, reached through raw pointers.
//! - [`KernelLock`]: a lock that is never waited for. With one CPU and interrupts off, a lock the
//!   kernel finds held is held by the very path asking for it, so waiting would hang the machine
//!   for good, silently. `lock` reports that as a kernel panic naming the lock instead, and
//!   [`KernelLock::try_lock`] serves the paths that must never stop (the NMI handler).

use core::cell::UnsafeCell;

/// A static of kernel state whose mutable parts are `Cell`s (see the module docs).
///
/// `Cell` is not `Sync`, and need not be here: the kernel runs on one CPU with interrupts off, so
/// no two kernel paths run at once. The NMI and machine-check handlers, which can interrupt a
/// kernel path, never touch a `Global`.
#[repr(transparent)]
pub struct Global<T>(T);

// SAFETY: see the type's docs: one CPU, interrupts off, and no NMI or #MC path reaches a
// `Global`, so accesses never overlap.
unsafe impl<T> Sync for Global<T> {}

impl<T> Global<T> {
    /// Wraps `value`.
    pub const fn new(value: T) -> Self {
        Self(value)
    }
}

impl<T> core::ops::Deref for Global<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.0
    }
}

/// A static the kernel mutates through raw pointers, for state the hardware also reads (the GDT,
/// TSS, IDT, per-CPU block) and so cannot sit behind a lock.
///
/// The kernel is not preemptible and only the boot CPU runs it, so no two kernel paths run at
/// once; each user of `get` still states why its access holds.
#[repr(transparent)]
pub struct RacyCell<T>(UnsafeCell<T>);

// SAFETY: the kernel runs on one CPU with interrupts off, so accesses are never concurrent; every
// access goes through `get`, whose users justify it.
unsafe impl<T> Sync for RacyCell<T> {}

impl<T> RacyCell<T> {
    /// Wraps `value`.
    pub const fn new(value: T) -> Self {
        Self(UnsafeCell::new(value))
    }

    /// A raw pointer to the value.
    pub const fn get(&self) -> *mut T {
        self.0.get()
    }
}

/// A lock for kernel state that more than one path reaches (the page allocator, the console,
/// the kernel heap, the IOAPIC table). See the module docs: taking it when it is already held is
/// a kernel bug (a re-entrant path), reported by a panic naming the lock rather than a hang.
///
/// When application processors start, `lock` will spin for another CPU's holder; re-entry on
/// one CPU stays a bug either way.
pub struct KernelLock<T> {
    name: &'static str,
    inner: spin::Mutex<T>,
}

impl<T> KernelLock<T> {
    /// A lock called `name` (for the panic message) around `value`.
    pub const fn new(name: &'static str, value: T) -> Self {
        Self { name, inner: spin::Mutex::new(value) }
    }

    /// Takes the lock.
    ///
    /// # Panics
    /// If it is already held: the caller re-entered a path that holds it.
    #[track_caller]
    pub fn lock(&self) -> spin::MutexGuard<'_, T> {
        match self.inner.try_lock() {
            Some(guard) => guard,
            None => panic!("kernel lock '{}' taken while already held (a re-entrant path)", self.name),
        }
    }

    /// Takes the lock if it is free; never waits.
    pub fn try_lock(&self) -> Option<spin::MutexGuard<'_, T>> {
        self.inner.try_lock()
    }

    /// Whether it is held now.
    pub fn is_locked(&self) -> bool {
        self.inner.is_locked()
    }

    /// Frees the lock whoever holds it: only for the panic path, which takes the console over.
    ///
    /// # Safety
    /// The holder must never run again (or never use its guard again).
    pub unsafe fn force_unlock(&self) {
        // SAFETY: forwarded contract.
        unsafe { self.inner.force_unlock() }
    }
}

#[cfg(test)]
mod tests {
    use super::KernelLock;

    #[test]
    fn a_held_lock_is_never_waited_for() {
        let l = KernelLock::new("test", 5);
        let g = l.lock();
        assert_eq!(*g, 5);
        assert!(l.is_locked());
        assert!(l.try_lock().is_none());
        let again = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| drop(l.lock())));
        let message = again.expect_err("re-entry panics").downcast::<String>().expect("a formatted message");
        assert!(message.contains("'test'"), "{message}");
        drop(g);
        assert!(l.try_lock().is_some());
    }
}
