//! The physical page allocator.
//!
//! Serves single pages and physically contiguous runs (powers of two, for DMA), hands every page
//! out zeroed, and takes pages back. It is a binary buddy allocator whose free lists live inside
//! the free pages themselves (reached through the direct map), so no amount of allocation by user
//! tasks can exhaust the kernel heap through it. A run of `n` pages takes `n.next_power_of_two()`
//! pages, and that is what it is charged.
//!
//! Every operation is bounded, which matters because the kernel runs them with interrupts off:
//! the free lists are doubly linked, so a block leaves its list in O(1), and a bitmap with one bit
//! per page (set at the first page of each free block) says in O(1) whether a block's buddy is
//! free. The bitmap is kernel memory; the free-block headers live in free pages, which no task can
//! reach, so a task's data can never pass for a free block. Allocation and freeing each take at
//! most [`MAX_ORDER`] steps. (`buddy_system_allocator`'s `Heap`, which design.md names, scans a
//! singly linked free list to find a buddy on every free: O(free blocks), which a task could drive
//! into the millions. The kernel heap, which no task drives, still uses it.)
//!
//! Single pages freed go first to a small stack of *hot* pages ([`HOT_PAGES`] at most), which
//! the next single-page allocations take from, last in, first out, without touching the buddy
//! lists: a page freed and taken again at once (a Task made and destroyed, a page table) costs
//! the same whatever the free lists look like, so the cost of those paths no longer depends on
//! how earlier allocations split memory (it did: the order of the smallest free block, which the
//! kernel image's size decided, set how many splits and merges each Task took). The hot pages
//! count as free; when a run cannot be found, they go back to the buddy lists (merging) and the
//! search is made once more, so no run is ever refused for their sake.
//!
//! This module owns the free physical pages and their accounting; it knows nothing about page
//! tables or objects. It is pure logic over a `phys + offset` window, so host tests run it over
//! an ordinary buffer.

/// Size of a page.
pub const PAGE_SIZE: u64 = 4096;

/// Largest block: 2^18 pages, 1 GiB.
pub const MAX_ORDER: u32 = 18;

/// Most single pages kept hot (see the module docs).
pub const HOT_PAGES: usize = 16;

const NONE: u64 = u64::MAX;
const MAGIC: u64 = u64::from_le_bytes(*b"FREEBLK!");

/// Why pages could not be allocated.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum FrameError {
    /// No free run of the size asked for.
    OutOfMemory,
    /// Zero pages, or more than one run can ever hold.
    InvalidSize,
}

/// The header written at the start of every free block.
#[repr(C)]
struct Block {
    magic: u64,
    order: u64,
    prev: u64,
    next: u64,
}

/// A buddy allocator of physical pages, reached at `phys + offset`.
pub struct FrameAllocator {
    /// First free block of each order (physical address), or `NONE`.
    heads: [u64; MAX_ORDER as usize + 1],
    offset: u64,
    /// One bit per page below `covered_pages`: set at the first page of a free block.
    bitmap: *mut u64,
    covered_pages: u64,
    total_pages: u64,
    free_pages: u64,
    /// Freed single pages kept for the next single-page allocations: `hot[..hot_len]`.
    hot: [u64; HOT_PAGES],
    hot_len: usize,
}

// SAFETY: the allocator owns its bitmap and the free pages exclusively; it is only ever used
// behind a lock (or by one test thread).
unsafe impl Send for FrameAllocator {}

/// A host test's allocator frees the bitmap `for_test` made (the kernel's lives for good).
#[cfg(test)]
impl Drop for FrameAllocator {
    fn drop(&mut self) {
        if !self.bitmap.is_null() {
            let words = (self.covered_pages / 64) as usize;
            // SAFETY: in host tests every bitmap comes from `for_test`'s `Box::into_raw` of
            // `words` words, and nothing uses it once the allocator is dropped.
            drop(unsafe { std::boxed::Box::from_raw(core::ptr::slice_from_raw_parts_mut(self.bitmap, words)) });
        }
    }
}

impl FrameAllocator {
    /// An empty allocator whose pages are reached at `phys + offset`. It manages nothing until it
    /// is given a bitmap ([`set_bitmap`](Self::set_bitmap)) and regions.
    pub const fn new(offset: u64) -> Self {
        Self {
            heads: [NONE; MAX_ORDER as usize + 1],
            offset,
            bitmap: core::ptr::null_mut(),
            covered_pages: 0,
            total_pages: 0,
            free_pages: 0,
            hot: [0; HOT_PAGES],
            hot_len: 0,
        }
    }

    /// Sets where pages are reached, before any region is added.
    pub fn set_offset(&mut self, offset: u64) {
        debug_assert_eq!(self.total_pages, 0, "offset changed after pages were added");
        if self.total_pages == 0 {
            self.offset = offset;
        }
    }

    /// Bytes of bitmap needed to manage physical pages below `end`.
    pub const fn bitmap_bytes(end: u64) -> u64 {
        end.div_ceil(PAGE_SIZE).div_ceil(64) * 8
    }

    /// Gives the allocator its bitmap: `words` zeroed words at `bitmap`, covering the pages below
    /// `words * 64 * PAGE_SIZE`. Pages above are never managed.
    ///
    /// # Safety
    /// `bitmap` must be valid for `words` words, zeroed, and used by nothing else for as long as
    /// the allocator lives; no region may have been added yet.
    pub unsafe fn set_bitmap(&mut self, bitmap: *mut u64, words: u64) {
        debug_assert_eq!(self.total_pages, 0);
        self.bitmap = bitmap;
        self.covered_pages = words * 64;
    }

    /// An allocator for host tests, with a bitmap covering the pages below `end` that it owns
    /// and frees when dropped.
    #[cfg(test)]
    pub fn for_test(offset: u64, end: u64) -> Self {
        let words = Self::bitmap_bytes(end) / 8;
        let bitmap = std::boxed::Box::into_raw(std::vec![0u64; words as usize].into_boxed_slice());
        let mut fa = Self::new(offset);
        // SAFETY: a fresh, zeroed bitmap of `words` words, used by nothing else, freed only by
        // `Drop` (below) when the allocator goes.
        unsafe { fa.set_bitmap(bitmap.cast(), words) };
        fa
    }

    /// Pages a run of `pages` really takes.
    pub fn run_pages(pages: u64) -> Result<u64, FrameError> {
        if pages == 0 || pages > 1 << MAX_ORDER {
            return Err(FrameError::InvalidSize);
        }
        Ok(pages.next_power_of_two())
    }

    fn block(&self, phys: u64) -> *mut Block {
        self.virt(phys).cast()
    }

    fn bit(&self, pfn: u64) -> bool {
        // SAFETY: callers check `pfn < covered_pages`; the bitmap covers that many bits.
        unsafe { *self.bitmap.add((pfn / 64) as usize) & (1 << (pfn % 64)) != 0 }
    }

    fn set_bit(&mut self, pfn: u64, on: bool) {
        // SAFETY: as in `bit`.
        unsafe {
            let w = self.bitmap.add((pfn / 64) as usize);
            if on {
                *w |= 1 << (pfn % 64);
            } else {
                *w &= !(1 << (pfn % 64));
            }
        }
    }

    /// Puts the free block at `phys` of `order` on its list.
    fn push(&mut self, phys: u64, order: u32) {
        let head = self.heads[order as usize];
        // SAFETY: the block is free memory this allocator owns, reached through the direct map.
        unsafe {
            self.block(phys).write(Block { magic: MAGIC, order: u64::from(order), prev: NONE, next: head });
            if head != NONE {
                (*self.block(head)).prev = phys;
            }
        }
        self.heads[order as usize] = phys;
        self.set_bit(phys / PAGE_SIZE, true);
    }

    /// Takes the free block at `phys` of `order` off its list.
    fn unlink(&mut self, phys: u64, order: u32) {
        // SAFETY: `phys` is a free block on list `order` (the bitmap says so); its neighbours are
        // free blocks too.
        unsafe {
            let b = self.block(phys);
            let (prev, next) = ((*b).prev, (*b).next);
            if prev == NONE {
                self.heads[order as usize] = next;
            } else {
                (*self.block(prev)).next = next;
            }
            if next != NONE {
                (*self.block(next)).prev = prev;
            }
            (*b).magic = 0;
        }
        self.set_bit(phys / PAGE_SIZE, false);
    }

    /// Whether the block at `phys` of `order` is free (as a whole, at that order).
    fn is_free(&self, phys: u64, order: u32) -> bool {
        let pfn = phys / PAGE_SIZE;
        if pfn + (1 << order) > self.covered_pages || !self.bit(pfn) {
            return false;
        }
        // SAFETY: the bitmap says a free block starts here; its header is the allocator's.
        let b = unsafe { &*self.block(phys) };
        debug_assert_eq!(b.magic, MAGIC);
        b.order == u64::from(order)
    }

    /// Frees the block at `phys` of `order`, merging it with free buddies. At most `MAX_ORDER`
    /// steps.
    fn release(&mut self, mut phys: u64, mut order: u32) {
        while order < MAX_ORDER {
            let buddy = phys ^ (PAGE_SIZE << order);
            if !self.is_free(buddy, order) {
                break;
            }
            self.unlink(buddy, order);
            phys = phys.min(buddy);
            order += 1;
        }
        self.push(phys, order);
    }

    /// Adds the whole pages inside physical `[start, end)` (those the bitmap covers). Returns the
    /// number of pages added.
    ///
    /// # Safety
    /// The range must be RAM that nothing else uses, now or later, reachable and writable at
    /// `phys + offset`, and disjoint from every range added before.
    pub unsafe fn add_region(&mut self, start: u64, end: u64) -> u64 {
        let mut pfn = start.div_ceil(PAGE_SIZE);
        let end_pfn = (end / PAGE_SIZE).min(self.covered_pages);
        let mut added = 0;
        while pfn < end_pfn {
            let align = if pfn == 0 { MAX_ORDER } else { pfn.trailing_zeros().min(MAX_ORDER) };
            let fit = 63 - (end_pfn - pfn).leading_zeros();
            let order = align.min(fit);
            self.release(pfn * PAGE_SIZE, order);
            pfn += 1 << order;
            added += 1u64 << order;
        }
        self.total_pages += added;
        self.free_pages += added;
        added
    }

    /// Allocates a zeroed, physically contiguous run of `pages` pages (rounded up to a power of
    /// two) and returns its physical address. A single page comes from the hot pages if there is
    /// one; otherwise at most `MAX_ORDER` steps, plus, when no run is free, the hot pages put back
    /// (at most `HOT_PAGES` frees) and the search made again; plus the zeroing.
    pub fn alloc(&mut self, pages: u64) -> Result<u64, FrameError> {
        let run = Self::run_pages(pages)?;
        if run == 1 && self.hot_len > 0 {
            self.hot_len -= 1;
            let phys = self.hot[self.hot_len];
            // SAFETY: a hot page is free and now this caller's, in managed RAM reached through
            // the direct map.
            unsafe { core::ptr::write_bytes(self.virt(phys), 0, PAGE_SIZE as usize) };
            self.free_pages -= 1;
            return Ok(phys);
        }
        let order = run.trailing_zeros();
        let find = |fa: &Self| (order..=MAX_ORDER).find(|&k| fa.heads[k as usize] != NONE);
        let mut k = match find(self) {
            Some(k) => k,
            None if self.hot_len > 0 => {
                self.cool();
                find(self).ok_or(FrameError::OutOfMemory)?
            }
            None => return Err(FrameError::OutOfMemory),
        };
        let phys = self.heads[k as usize];
        self.unlink(phys, k);
        while k > order {
            k -= 1;
            self.push(phys + (PAGE_SIZE << k), k);
        }
        // SAFETY: the run was free and is now this caller's; it lies in managed RAM reached
        // through the direct map.
        unsafe { core::ptr::write_bytes(self.virt(phys), 0, (run * PAGE_SIZE) as usize) };
        self.free_pages -= run;
        Ok(phys)
    }

    /// Allocates one zeroed page.
    pub fn alloc_page(&mut self) -> Result<u64, FrameError> {
        self.alloc(1)
    }

    /// Returns a run that [`alloc`](Self::alloc) handed out. At most `MAX_ORDER` steps.
    ///
    /// # Safety
    /// `phys` and `pages` must be exactly those of one live allocation from this allocator, and
    /// nothing may use the run afterwards.
    pub unsafe fn free(&mut self, phys: u64, pages: u64) {
        let Ok(run) = Self::run_pages(pages) else { return };
        if run == 1 && self.hot_len < HOT_PAGES {
            self.hot[self.hot_len] = phys;
            self.hot_len += 1;
        } else {
            self.release(phys, run.trailing_zeros());
        }
        self.free_pages += run;
    }

    /// Puts every hot page back in the buddy lists, merging. At most `HOT_PAGES` frees.
    pub fn cool(&mut self) {
        while self.hot_len > 0 {
            self.hot_len -= 1;
            self.release(self.hot[self.hot_len], 0);
        }
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

    /// Most operations and most pages per run in the property test: Miri interprets every byte
    /// zeroed and checked, so it runs shorter sequences of smaller runs.
    const MAX_OPS: usize = if cfg!(miri) { 24 } else { 200 };
    const MAX_RUN: u64 = if cfg!(miri) { 5 } else { 20 };

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
            let mut fa = FrameAllocator::for_test((self.ptr as u64).wrapping_sub(FAKE_PHYS), FAKE_PHYS + ARENA as u64);
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
    fn a_used_page_never_passes_for_a_free_block() {
        let arena = Arena::new();
        let mut fa = arena.allocator();
        let a = fa.alloc_page().unwrap();
        let b = fa.alloc_page().unwrap();
        assert_eq!(a ^ b, PAGE_SIZE, "first two pages are buddies");
        // The holder of `a` forges a free-block header of order 0 in it.
        let forged = [MAGIC, 0, NONE, NONE];
        let off = (a - FAKE_PHYS) as usize;
        // SAFETY: inside the arena; `a` is this test's page.
        unsafe { core::ptr::copy_nonoverlapping(forged.as_ptr().cast::<u8>(), arena.ptr.add(off), 32) };
        // SAFETY: `b` is a live one-page allocation.
        unsafe { fa.free(b, 1) };
        // It went hot; back to the lists, where it would merge with a free buddy.
        fa.cool();
        // Had `b` merged with the forged `a`, an order-1 block would start at min(a, b).
        let run = fa.alloc(2).unwrap();
        assert_ne!(run, a.min(b), "a used page was merged into a free block");
        assert_eq!(fa.alloc_page().unwrap(), b, "the freed page is still a block of its own");
    }

    #[test]
    fn hot_pages_come_back_first_and_never_block_a_run() {
        let arena = Arena::new();
        let mut fa = arena.allocator();
        let a = fa.alloc_page().unwrap();
        let b = fa.alloc_page().unwrap();
        arena.fill(a, PAGE_SIZE as usize);
        // SAFETY: live one-page allocations.
        unsafe {
            fa.free(a, 1);
            fa.free(b, 1);
        }
        assert_eq!(fa.free_pages(), 256);
        // Last in, first out, zeroed.
        assert_eq!(fa.alloc_page(), Ok(b));
        assert_eq!(fa.alloc_page(), Ok(a));
        assert!(arena.bytes(a, PAGE_SIZE as usize).iter().all(|&x| x == 0));
        // More frees than hot places: the rest go to the lists.
        let pages: Vec<u64> = (0..HOT_PAGES + 4).map(|_| fa.alloc_page().unwrap()).collect();
        for p in pages.iter().chain([&a, &b]) {
            // SAFETY: each is a live one-page allocation.
            unsafe { fa.free(*p, 1) };
        }
        assert_eq!(fa.free_pages(), 256);
        // The whole arena as one run: the hot pages go back and merge first.
        assert_eq!(fa.alloc(256), Ok(FAKE_PHYS));
        assert_eq!(fa.free_pages(), 0);
    }

    #[test]
    fn invalid_sizes() {
        let arena = Arena::new();
        let mut fa = arena.allocator();
        assert_eq!(fa.alloc(0), Err(FrameError::InvalidSize));
        assert_eq!(fa.alloc(u64::MAX), Err(FrameError::InvalidSize));
        assert_eq!(fa.alloc((1 << MAX_ORDER) + 1), Err(FrameError::InvalidSize));
        assert_eq!(fa.alloc(512), Err(FrameError::OutOfMemory));
    }

    #[test]
    fn unaligned_region_is_trimmed_to_whole_pages() {
        let arena = Arena::new();
        let mut fa = FrameAllocator::for_test((arena.ptr as u64).wrapping_sub(FAKE_PHYS), FAKE_PHYS + ARENA as u64);
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
        fn alloc_free_sequences(ops in prop::collection::vec((1u64..MAX_RUN, any::<bool>()), 1..MAX_OPS)) {
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
