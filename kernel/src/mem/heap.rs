//! The kernel heap: a buddy allocator over runs of physical pages, grown on demand.
//!
//! The heap holds kernel bookkeeping only (task structures and the like). It starts with
//! [`INITIAL_PAGES`] and, when an allocation does not fit, takes another contiguous run from the
//! page allocator. It never serves pages to user space; it can fail (returning null to `alloc`,
//! which the kernel treats as out of memory where it can).

use core::alloc::{GlobalAlloc, Layout};
use core::ptr::NonNull;

use buddy_system_allocator::Heap;

use super::{FRAMES, PAGE_SIZE, phys_to_virt};

/// Pages the heap starts with.
pub const INITIAL_PAGES: u64 = 64;

struct KernelHeap(crate::sync::KernelLock<Heap<32>>);

#[global_allocator]
static HEAP: KernelHeap = KernelHeap(crate::sync::KernelLock::new("kernel heap", Heap::new()));

fn grow(heap: &mut Heap<32>, min_bytes: usize) -> bool {
    let pages = (min_bytes as u64).div_ceil(PAGE_SIZE).max(INITIAL_PAGES);
    let Ok(phys) = FRAMES.lock().alloc(pages) else { return false };
    let run = pages.next_power_of_two();
    let start = phys_to_virt(phys) as usize;
    // SAFETY: the run was just allocated for the heap alone and is mapped in the direct map.
    unsafe { heap.add_to_heap(start, start + (run * PAGE_SIZE) as usize) };
    true
}

/// Gives the heap its first pages. Called once, after the page allocator is ready.
pub fn init() -> bool {
    grow(&mut HEAP.0.lock(), 0)
}

// SAFETY: `Heap` hands out disjoint blocks of at least the requested size and alignment; the
// lock serialises every access.
unsafe impl GlobalAlloc for KernelHeap {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let mut heap = self.0.lock();
        if let Ok(p) = heap.alloc(layout) {
            return p.as_ptr();
        }
        if grow(&mut heap, layout.size().max(layout.align()).next_power_of_two())
            && let Ok(p) = heap.alloc(layout)
        {
            return p.as_ptr();
        }
        core::ptr::null_mut()
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        if let Some(p) = NonNull::new(ptr) {
            // SAFETY: the caller guarantees `ptr`/`layout` come from `alloc` above.
            unsafe { self.0.lock().dealloc(p, layout) }
        }
    }
}
