//! Kernel stacks with guard pages.
//!
//! Stacks live in their own region of the kernel's address space, each below an unmapped guard
//! page, so an overflow faults (on the double-fault IST stack) instead of corrupting memory.
//! Stacks are made at boot and never freed: one per CPU for kernel work, one per IST entry.
#![forbid(unsafe_code)]

use core::sync::atomic::{AtomicU64, Ordering};

use x86_64::structures::paging::PageTableFlags;
use x86_64::{PhysAddr, VirtAddr};

use crate::arch::paging::{self, MapError, PAGE_SIZE, PageSize};

use super::alloc_page;

/// Pages of the kernel stack every entry from user mode runs on (64 KiB).
pub const KERNEL_STACK_PAGES: u64 = 16;

/// Pages of each IST stack (NMI, double fault, machine check): 16 KiB.
pub const IST_STACK_PAGES: u64 = 4;

/// Where stacks are placed (PML4 entry 511, below the kernel image).
pub const KSTACK_REGION: u64 = 0xffff_ffff_0000_0000;
/// End of the stack region.
pub const KSTACK_REGION_END: u64 = 0xffff_ffff_4000_0000;

static NEXT: AtomicU64 = AtomicU64::new(KSTACK_REGION);

/// A mapped kernel stack.
#[derive(Copy, Clone, Debug)]
pub struct KernelStack {
    /// Lowest mapped address.
    pub bottom: u64,
    /// One past the highest mapped address (the initial RSP, 16-byte aligned).
    pub top: u64,
}

/// Makes a stack of `pages` pages below an unmapped guard page.
pub fn new(pages: u64) -> Result<KernelStack, MapError> {
    let span = (pages + 1) * PAGE_SIZE;
    let guard = NEXT.fetch_add(span, Ordering::Relaxed);
    if guard + span > KSTACK_REGION_END {
        return Err(MapError::OutOfMemory);
    }
    let bottom = guard + PAGE_SIZE;
    for i in 0..pages {
        let frame = PhysAddr::new(alloc_page().ok_or(MapError::OutOfMemory)?);
        let v = VirtAddr::new(bottom + i * PAGE_SIZE);
        let flags = PageTableFlags::WRITABLE | PageTableFlags::GLOBAL | paging::nx();
        paging::map(super::kspace::root(), v, frame, PageSize::Size4K, flags, &mut || alloc_page().map(PhysAddr::new))?;
    }
    let stack = KernelStack { bottom, top: bottom + pages * PAGE_SIZE };
    crate::arch::backtrace::register_stack(stack.bottom, stack.top);
    Ok(stack)
}
