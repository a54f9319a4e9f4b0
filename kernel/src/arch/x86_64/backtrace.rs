//! Frame-pointer backtraces for kernel panics and exceptions.
//!
//! The kernel is built with frame pointers, so each frame starts with the caller's RBP and the
//! return address. A walk is only trusted as far as it stays inside one known kernel stack,
//! moves strictly upwards, and is 8-byte aligned; it stops after [`MAX_FRAMES`].

use core::sync::atomic::{AtomicU64, Ordering};

/// Most frames printed.
pub const MAX_FRAMES: usize = 24;

/// Known kernel stacks as [bottom, top) pairs: boot, kernel, and the IST stacks.
static STACKS: [[AtomicU64; 2]; 6] = [const { [AtomicU64::new(0), AtomicU64::new(0)] }; 6];

/// Records a kernel stack so that walks may run through it.
pub fn register_stack(bottom: u64, top: u64) {
    for slot in &STACKS {
        if slot[1].load(Ordering::Relaxed) == 0 {
            slot[0].store(bottom, Ordering::Relaxed);
            slot[1].store(top, Ordering::Relaxed);
            return;
        }
    }
}

fn stack_of(addr: u64) -> Option<(u64, u64)> {
    STACKS
        .iter()
        .map(|s| (s[0].load(Ordering::Relaxed), s[1].load(Ordering::Relaxed)))
        .find(|&(lo, hi)| addr >= lo && addr < hi)
}

/// Walks the frame chain from `rbp`, calling `frame` with each return address.
pub fn walk(mut rbp: u64, mut frame: impl FnMut(u64)) {
    let Some((lo, hi)) = stack_of(rbp) else { return };
    for _ in 0..MAX_FRAMES {
        if !rbp.is_multiple_of(8) || rbp < lo || rbp.saturating_add(16) > hi {
            return;
        }
        // SAFETY: `rbp` and `rbp + 8` lie inside a registered, mapped kernel stack.
        let (next, ret) = unsafe { ((rbp as *const u64).read(), ((rbp + 8) as *const u64).read()) };
        if ret == 0 {
            return;
        }
        frame(ret);
        if next <= rbp {
            return;
        }
        rbp = next;
    }
}

/// The current RBP.
#[inline(always)]
pub fn current_rbp() -> u64 {
    let rbp: u64;
    // SAFETY: reading RBP has no side effects.
    unsafe { core::arch::asm!("mov {}, rbp", out(reg) rbp, options(nomem, nostack, preserves_flags)) }
    rbp
}
