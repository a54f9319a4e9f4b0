//! Shared-state primitives for a kernel that runs with interrupts off on one CPU.

use core::cell::UnsafeCell;

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
