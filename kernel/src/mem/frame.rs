//! The physical page allocator.
//!
//! Serves single pages and physically contiguous runs (powers of two, for DMA), hands every page
//! out zeroed, and takes pages back. It is `buddy_system_allocator`'s intrusive buddy `Heap`
//! over the direct map: the free lists live inside the free pages themselves, so no amount of
//! allocation by user tasks can exhaust the kernel heap through this allocator. A run of `n`
//! pages takes `n.next_power_of_two()` pages, and that is what it is charged.
//!
//! This module owns the free physical pages and their accounting; it knows nothing about page
//! tables or objects. It is pure logic over a `phys + offset` window, so host tests run it over
//! an ordinary buffer.

use core::alloc::Layout;
use core::ptr::NonNull;

use buddy_system_allocator::Heap;

/// Size of a page.
pub const PAGE_SIZE: u64 = 4096;

/// Largest block is 2^(ORDER-1) bytes = 1 GiB.
const ORDER: usize = 31;

/// Why pages could not be allocated.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum FrameError {
    /// No free run of the size asked for.
    OutOfMemory,
    /// Zero pages, or more than one run can ever hold.
    InvalidSize,
}

/// A buddy allocator of physical pages, reached at `phys + offset`.
pub struct FrameAllocator {
    heap: Heap<ORDER>,
    offset: u64,
    total_pages: u64,
    free_pages: u64,
}

impl FrameAllocator {
    /// An empty allocator whose pages are reached at `phys + offset`.
    pub const fn new(offset: u64) -> Self {
        Self { heap: Heap::new(), offset, total_pages: 0, free_pages: 0 }
    }

    /// Sets where pages are reached, before any region is added.
    pub fn set_offset(&mut self, offset: u64) {
        debug_assert_eq!(self.total_pages, 0, "offset changed after pages were added");
        if self.total_pages == 0 {
            self.offset = offset;
        }
    }

    /// Pages a run of `pages` really takes.
    pub fn run_pages(pages: u64) -> Result<u64, FrameError> {
        if pages == 0 || pages > (1 << (ORDER - 1)) / PAGE_SIZE {
            return Err(FrameError::InvalidSize);
        }
        Ok(pages.next_power_of_two())
    }

    fn layout(pages: u64) -> Result<Layout, FrameError> {
        let run = Self::run_pages(pages)?;
        Layout::from_size_align((run * PAGE_SIZE) as usize, PAGE_SIZE as usize).map_err(|_| FrameError::InvalidSize)
    }

    /// Adds the whole pages inside physical `[start, end)`. Returns the number of pages added.
    ///
    /// # Safety
    /// The range must be RAM that nothing else uses, now or later, reachable and writable at
    /// `phys + offset`, and disjoint from every range added before.
    pub unsafe fn add_region(&mut self, start: u64, end: u64) -> u64 {
        let start = start.next_multiple_of(PAGE_SIZE);
        let end = end & !(PAGE_SIZE - 1);
        if end <= start {
            return 0;
        }
        let pages = (end - start) / PAGE_SIZE;
        // SAFETY: the caller gives the range to this allocator alone; `start <= end`.
        unsafe { self.heap.add_to_heap((start + self.offset) as usize, (end + self.offset) as usize) };
        self.total_pages += pages;
        self.free_pages += pages;
        pages
    }

    /// Allocates a zeroed, physically contiguous run of `pages` pages (rounded up to a power of
    /// two) and returns its physical address.
    pub fn alloc(&mut self, pages: u64) -> Result<u64, FrameError> {
        let layout = Self::layout(pages)?;
        let ptr = self.heap.alloc(layout).map_err(|()| FrameError::OutOfMemory)?;
        // SAFETY: the heap just handed out `layout.size()` bytes at `ptr`, inside memory given to
        // this allocator by `add_region`.
        unsafe { core::ptr::write_bytes(ptr.as_ptr(), 0, layout.size()) };
        self.free_pages -= layout.size() as u64 / PAGE_SIZE;
        Ok(ptr.as_ptr() as u64 - self.offset)
    }

    /// Allocates one zeroed page.
    pub fn alloc_page(&mut self) -> Result<u64, FrameError> {
        self.alloc(1)
    }

    /// Returns a run that [`alloc`](Self::alloc) handed out.
    ///
    /// # Safety
    /// `phys` and `pages` must be exactly those of one live allocation from this allocator, and
    /// nothing may use the run afterwards.
    pub unsafe fn free(&mut self, phys: u64, pages: u64) {
        let Ok(layout) = Self::layout(pages) else { return };
        let Some(ptr) = NonNull::new((phys + self.offset) as *mut u8) else { return };
        // SAFETY: the caller guarantees this matches a live allocation.
        unsafe { self.heap.dealloc(ptr, layout) };
        self.free_pages += layout.size() as u64 / PAGE_SIZE;
    }

    /// Where physical `phys` is reached.
    pub fn virt(&self, phys: u64) -> *mut u8 {
        phys.wrapping_add(self.offset) as *mut u8
    }

    /// Pages ever added.
    pub fn total_pages(&self) -> u64 {
        self.total_pages
    }

    /// Pages free now.
    pub fn free_pages(&self) -> u64 {
        self.free_pages
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::alloc::{alloc, dealloc};

    const ARENA: usize = 1 << 20;
    const FAKE_PHYS: u64 = 0x4000_0000;

    /// A 1 MiB host buffer standing in for physical memory at `FAKE_PHYS`.
    struct Arena {
        ptr: *mut u8,
        layout: std::alloc::Layout,
    }

    impl Arena {
        fn new() -> Self {
            let layout = std::alloc::Layout::from_size_align(ARENA, ARENA).unwrap();
            // SAFETY: non-zero size.
            let ptr = unsafe { alloc(layout) };
            assert!(!ptr.is_null());
            // Fill with garbage so that zeroing is observable.
            // SAFETY: `ptr` is valid for `ARENA` bytes.
            unsafe { core::ptr::write_bytes(ptr, 0xa5, ARENA) };
            Self { ptr, layout }
        }

        fn allocator(&self) -> FrameAllocator {
            let mut fa = FrameAllocator::new((self.ptr as u64).wrapping_sub(FAKE_PHYS));
            // SAFETY: the arena is ours and unused.
            unsafe { fa.add_region(FAKE_PHYS, FAKE_PHYS + ARENA as u64) };
            fa
        }

        fn bytes(&self, phys: u64, len: usize) -> &[u8] {
            let off = (phys - FAKE_PHYS) as usize;
            assert!(off + len <= ARENA);
            // SAFETY: inside the arena.
            unsafe { std::slice::from_raw_parts(self.ptr.add(off), len) }
        }

        fn fill(&self, phys: u64, len: usize) {
            let off = (phys - FAKE_PHYS) as usize;
            // SAFETY: inside the arena.
            unsafe { core::ptr::write_bytes(self.ptr.add(off), 0x5a, len) };
        }
    }

    impl Drop for Arena {
        fn drop(&mut self) {
            // SAFETY: allocated in `new` with this layout.
            unsafe { dealloc(self.ptr, self.layout) };
        }
    }

    #[test]
    fn single_pages_are_zeroed_distinct_and_aligned() {
        let arena = Arena::new();
        let mut fa = arena.allocator();
        assert_eq!(fa.total_pages(), 256);
        let a = fa.alloc_page().unwrap();
        let b = fa.alloc_page().unwrap();
        assert_ne!(a, b);
        assert_eq!(a % PAGE_SIZE, 0);
        assert!(arena.bytes(a, 4096).iter().all(|&x| x == 0));
        assert_eq!(fa.free_pages(), 254);
        arena.fill(a, 4096);
        // SAFETY: `a` is a live one-page allocation.
        unsafe { fa.free(a, 1) };
        let c = fa.alloc_page().unwrap();
        assert!(arena.bytes(c, 4096).iter().all(|&x| x == 0), "reused page not zeroed");
    }

    #[test]
    fn contiguous_runs_round_up_and_align() {
        let arena = Arena::new();
        let mut fa = arena.allocator();
        let run = fa.alloc(3).unwrap();
        assert_eq!(fa.free_pages(), 256 - 4);
        assert_eq!(run % (4 * PAGE_SIZE), 0);
        assert!(arena.bytes(run, 4 * 4096).iter().all(|&x| x == 0));
        // SAFETY: live allocation of 3 (4) pages.
        unsafe { fa.free(run, 3) };
        assert_eq!(fa.free_pages(), 256);
    }

    #[test]
    fn exhaustion_is_an_error_and_recovers() {
        let arena = Arena::new();
        let mut fa = arena.allocator();
        let mut pages = Vec::new();
        while let Ok(p) = fa.alloc_page() {
            pages.push(p);
        }
        assert_eq!(pages.len(), 256);
        assert_eq!(fa.alloc_page(), Err(FrameError::OutOfMemory));
        assert_eq!(fa.alloc(2), Err(FrameError::OutOfMemory));
        for p in pages {
            // SAFETY: each is a live one-page allocation.
            unsafe { fa.free(p, 1) };
        }
        // Buddies merged back: the whole arena is one run again.
        let all = fa.alloc(256).unwrap();
        assert_eq!(all, FAKE_PHYS);
    }

    #[test]
    fn invalid_sizes() {
        let arena = Arena::new();
        let mut fa = arena.allocator();
        assert_eq!(fa.alloc(0), Err(FrameError::InvalidSize));
        assert_eq!(fa.alloc(u64::MAX), Err(FrameError::InvalidSize));
        assert_eq!(fa.alloc(512), Err(FrameError::OutOfMemory));
    }

    #[test]
    fn unaligned_region_is_trimmed_to_whole_pages() {
        let arena = Arena::new();
        let mut fa = FrameAllocator::new((arena.ptr as u64).wrapping_sub(FAKE_PHYS));
        // SAFETY: inside the arena.
        let added = unsafe { fa.add_region(FAKE_PHYS + 100, FAKE_PHYS + 3 * 4096 + 5) };
        assert_eq!(added, 2);
        // SAFETY: empty range.
        assert_eq!(unsafe { fa.add_region(FAKE_PHYS + 8192, FAKE_PHYS + 8192) }, 0);
    }

    proptest! {
        /// Any sequence of allocations and frees keeps runs disjoint, inside the arena, zeroed,
        /// and the free count exact; freeing everything restores the whole arena.
        #[test]
        fn alloc_free_sequences(ops in prop::collection::vec((1u64..20, any::<bool>()), 1..200)) {
            let arena = Arena::new();
            let mut fa = arena.allocator();
            let mut live: Vec<(u64, u64)> = Vec::new();
            for (pages, free_one) in ops {
                if free_one && !live.is_empty() {
                    let (p, n) = live.remove(0);
                    arena.fill(p, (FrameAllocator::run_pages(n).unwrap() * PAGE_SIZE) as usize);
                    // SAFETY: live allocation.
                    unsafe { fa.free(p, n) };
                    continue;
                }
                let before = fa.free_pages();
                match fa.alloc(pages) {
                    Ok(p) => {
                        let run = FrameAllocator::run_pages(pages).unwrap();
                        prop_assert_eq!(fa.free_pages(), before - run);
                        prop_assert!(p >= FAKE_PHYS && p + run * PAGE_SIZE <= FAKE_PHYS + ARENA as u64);
                        prop_assert!(arena.bytes(p, (run * PAGE_SIZE) as usize).iter().all(|&x| x == 0));
                        for &(q, m) in &live {
                            let qr = FrameAllocator::run_pages(m).unwrap();
                            prop_assert!(p + run * PAGE_SIZE <= q || q + qr * PAGE_SIZE <= p, "overlap");
                        }
                        arena.fill(p, (run * PAGE_SIZE) as usize);
                        live.push((p, pages));
                    }
                    Err(e) => {
                        prop_assert_eq!(e, FrameError::OutOfMemory);
                        prop_assert_eq!(fa.free_pages(), before);
                    }
                }
            }
            for (p, n) in live.drain(..) {
                // SAFETY: live allocation.
                unsafe { fa.free(p, n) };
            }
            prop_assert_eq!(fa.free_pages(), 256);
            prop_assert_eq!(fa.alloc(256), Ok(FAKE_PHYS));
        }
    }
}
