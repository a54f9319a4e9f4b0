//! Memory: physical pages ([`frame`]), the kernel heap, the kernel's own address space and
//! stacks, user address spaces, and which physical ranges are device memory ([`device`]).
//!
//! All physical memory the kernel touches is reached through the *direct map*: physical address
//! `p` is virtual `p + direct_map_offset()`. The offset is the bootloader's (Limine's HHDM, or the
//! PVH stub's `0xffff_8000_0000_0000`) and never changes after boot.

pub mod device;
pub mod frame;
#[cfg(not(test))]
pub mod heap;
#[cfg(not(test))]
pub mod kspace;
#[cfg(not(test))]
pub mod kstack;
#[cfg(not(test))]
pub mod vspace;

use core::sync::atomic::{AtomicU64, Ordering};

pub use frame::{FrameAllocator, FrameError, PAGE_SIZE};

static DIRECT_MAP: AtomicU64 = AtomicU64::new(0);

/// Sets the direct-map offset; called once by the boot path.
pub fn set_direct_map_offset(offset: u64) {
    DIRECT_MAP.store(offset, Ordering::Relaxed);
}

/// The direct-map offset.
pub fn direct_map_offset() -> u64 {
    DIRECT_MAP.load(Ordering::Relaxed)
}

/// The virtual address of physical `phys` in the direct map.
pub fn phys_to_virt(phys: u64) -> *mut u8 {
    phys.wrapping_add(direct_map_offset()) as *mut u8
}

/// The global physical page allocator.
///
/// Object operations reach it through `object::global::with`, which holds the lock for the whole
/// operation: nothing they call may take it again (the lock panics if anything does). So only
/// boot code (the kernel's tables and stacks, the root task's address space) uses
/// [`alloc_page`]; everything that frees pages while objects die is handed the allocator.
#[cfg(not(test))]
pub static FRAMES: crate::sync::KernelLock<FrameAllocator> =
    crate::sync::KernelLock::new("page allocator", FrameAllocator::new(0));

/// Allocates one zeroed page at boot; its physical address. Never inside
/// `object::global::with` (see [`FRAMES`]).
#[cfg(not(test))]
pub fn alloc_page() -> Option<u64> {
    FRAMES.lock().alloc_page().ok()
}
