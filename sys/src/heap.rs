//! The heap: the global allocator every program has, on `buddy_system_allocator`.
//!
//! A program starts with [`INITIAL_HEAP_BYTES`] of heap inside its own image (in `.bss`), so
//! `alloc` works in every program, a driver whose manifest grants no Memory included. When that
//! is full and the program has a Memory, a CSpace and a VSpace ([`crate::process`]), the heap
//! grows by *regions*, each as large as those mapped before it together (so a growing heap needs
//! few): Page objects made from the program's Memory and mapped, read-write, in a slot of the
//! heap area ([`HEAP_BASE`], [`REGION_SPAN`] bytes of address space per slot, at most
//! [`MAX_REGIONS`] slots). Each region is a `Heap` of its own, so that a region that becomes
//! wholly free is unmapped and its Pages deleted at once, giving the pages back to the Memory
//! (the crate cannot take memory back out of one `Heap`). A region is a power of two of pages,
//! at least [`MIN_REGION_PAGES`] and at most [`MAX_REGION_PAGES`], made of Page objects of up to
//! 512 pages each. Page tables for the heap area are charged to the runtime's page-table Memory
//! ([`crate::process::map_page`]), so after everything is freed the program's Memory reads the
//! `used` it had after start-up.
//!
//! Out of memory (no region can be made: no Memory, its quota spent, no physical run free, a
//! request larger than the largest region) is a null pointer to `alloc`: `Vec::try_reserve` and
//! friends report it to the program; a plain `Box::new` panics with the allocation's size.
//! Nothing waits for memory.
//!
//! The heap's state sits behind a [`Mutex`], so threads allocate in turn,
//! parking (not spinning) while another thread is in the allocator.

use core::alloc::{GlobalAlloc, Layout};
use core::cell::UnsafeCell;
use core::ptr::NonNull;

use abi::layout::{HEAP_BASE, HEAP_END, PAGE_SIZE};
use buddy_system_allocator::Heap;

use crate::cap::Slot;
use crate::sync::Mutex;
use crate::vspace::{Page, access};

/// Bytes of heap inside every program's image.
pub const INITIAL_HEAP_BYTES: usize = 128 * 1024;

/// Address space per heap region slot.
pub const REGION_SPAN: usize = 64 << 20;

/// Most heap regions at once.
pub const MAX_REGIONS: usize = 32;

/// Smallest region, in pages (64 KiB).
pub const MIN_REGION_PAGES: usize = 16;

/// Largest region, in pages (32 MiB): the largest allocation the heap can serve.
pub const MAX_REGION_PAGES: usize = 8192;

/// Most pages in one Page object.
const PAGE_OBJECT_PAGES: usize = 512;

/// Page objects in the largest region.
const PAGES_PER_REGION: usize = MAX_REGION_PAGES / PAGE_OBJECT_PAGES;

const _: () = {
    assert!(MAX_REGIONS * REGION_SPAN <= HEAP_END - HEAP_BASE);
    assert!(MAX_REGION_PAGES * PAGE_SIZE <= REGION_SPAN);
};

/// Buddy orders: blocks up to 2^31 bytes.
const ORDER: usize = 32;

#[repr(C, align(4096))]
struct InitialHeap(UnsafeCell<[u8; INITIAL_HEAP_BYTES]>);

// SAFETY: the bytes are handed to the allocator once (`State::ready`) and reached only through
// allocations it makes, which it hands out to one owner each.
unsafe impl Sync for InitialHeap {}

static INITIAL: InitialHeap = InitialHeap(UnsafeCell::new([0; INITIAL_HEAP_BYTES]));

/// One mapped heap region.
struct Region {
    heap: Heap<ORDER>,
    base: usize,
    bytes: usize,
    /// Slots of its Page objects (0: none), mapped one after another from `base`.
    pages: [usize; PAGES_PER_REGION],
}

struct State {
    ready: bool,
    initial: Heap<ORDER>,
    regions: [Option<Region>; MAX_REGIONS],
}

// SAFETY: the `Heap`s hold raw pointers into memory that only this allocator hands out; the state
// is reached only under its mutex.
unsafe impl Send for State {}

static STATE: Mutex<State> =
    Mutex::new(State { ready: false, initial: Heap::new(), regions: [const { None }; MAX_REGIONS] });

/// The heap as a global allocator.
///
/// ```
/// use core::alloc::{GlobalAlloc, Layout};
/// use sys::heap::Allocator;
///
/// // Every Perihelion program has it as its global allocator already (`Box`, `Vec`, ...);
/// // calling it directly is for code that manages raw blocks.
/// let layout = Layout::from_size_align(256, 64).expect("a valid layout");
/// // SAFETY: `layout` has a non-zero size.
/// let block = unsafe { Allocator.alloc(layout) };
/// assert!(!block.is_null() && block.addr() % 64 == 0);
/// // SAFETY: `block` came from this allocator with this layout, and is not used again.
/// unsafe { Allocator.dealloc(block, layout) };
/// ```
pub struct Allocator;

impl State {
    fn ready(&mut self) {
        if !self.ready {
            let start = INITIAL.0.get().addr();
            // SAFETY: the initial heap's bytes are this allocator's alone (see `InitialHeap`),
            // added once.
            unsafe { self.initial.add_to_heap(start, start + INITIAL_HEAP_BYTES) };
            self.ready = true;
        }
    }

    fn alloc(&mut self, layout: Layout) -> *mut u8 {
        self.ready();
        if let Ok(p) = self.initial.alloc(layout) {
            return p.as_ptr();
        }
        for r in self.regions.iter_mut().flatten() {
            if let Ok(p) = r.heap.alloc(layout) {
                return p.as_ptr();
            }
        }
        // A stack kept for the next thread is the first memory to give back when there is no
        // room to grow (`thread::stack`).
        let grown = match self.grow(layout) {
            Some(r) => Some(r),
            None if crate::thread::trim() => self.grow(layout),
            None => None,
        };
        match grown {
            Some(r) => r.heap.alloc(layout).map_or(core::ptr::null_mut(), NonNull::as_ptr),
            None => core::ptr::null_mut(),
        }
    }

    /// Maps a new region large enough for `layout`.
    fn grow(&mut self, layout: Layout) -> Option<&mut Region> {
        let memory = crate::process::memory()?;
        // A buddy block of the request's size and alignment, and a region at least that big.
        let block = layout.size().max(layout.align()).next_power_of_two();
        let needed = block.div_ceil(PAGE_SIZE).next_power_of_two();
        if needed > MAX_REGION_PAGES {
            return None;
        }
        // Geometric growth: a new region as large as all the regions mapped now (rounded to a
        // power of two), so that a growing heap needs few regions.
        let mapped: usize = self.regions.iter().flatten().map(|r| r.bytes / PAGE_SIZE).sum();
        let pages = needed.max(MIN_REGION_PAGES).max(mapped.next_power_of_two()).min(MAX_REGION_PAGES);
        let index = self.regions.iter().position(Option::is_none)?;
        let base = HEAP_BASE + index * REGION_SPAN;
        let mut region = Region { heap: Heap::new(), base, bytes: pages * PAGE_SIZE, pages: [0; PAGES_PER_REGION] };
        let objects = pages.div_ceil(PAGE_OBJECT_PAGES);
        let per_object = pages.min(PAGE_OBJECT_PAGES);
        for i in 0..objects {
            let made = Page::create(memory, per_object, Slot::Auto).and_then(|p| {
                match crate::process::map_page(p, base + i * per_object * PAGE_SIZE, access::RW) {
                    Ok(()) => Ok(p),
                    Err(e) => {
                        let _ = p.delete();
                        Err(e)
                    }
                }
            });
            match made {
                Ok(page) => region.pages[i] = page.slot(),
                Err(_) => {
                    release(&region);
                    return None;
                }
            }
        }
        // SAFETY: the region's pages were just mapped, read-write, for this allocator alone.
        unsafe { region.heap.add_to_heap(base, base + region.bytes) };
        self.regions[index] = Some(region);
        self.regions[index].as_mut()
    }

    fn dealloc(&mut self, ptr: *mut u8, layout: Layout) {
        let Some(p) = NonNull::new(ptr) else { return };
        let addr = ptr.addr();
        let initial = INITIAL.0.get().addr();
        if (initial..initial + INITIAL_HEAP_BYTES).contains(&addr) {
            // SAFETY: `GlobalAlloc::dealloc`'s contract: `ptr` and `layout` come from `alloc`, and
            // this address range is the initial heap's.
            unsafe { self.initial.dealloc(p, layout) };
            return;
        }
        let Some(slot) = self.regions.iter_mut().find(|r| r.as_ref().is_some_and(|r| r.contains(addr))) else {
            return;
        };
        let Some(r) = slot.as_mut() else { return };
        // SAFETY: as above, for the region that holds the address.
        unsafe { r.heap.dealloc(p, layout) };
        if r.heap.stats_alloc_actual() == 0 {
            // Wholly free: its pages go back to the Memory.
            release(r);
            *slot = None;
        }
    }
}

impl Region {
    fn contains(&self, addr: usize) -> bool {
        (self.base..self.base + self.bytes).contains(&addr)
    }
}

/// Unmaps and deletes a region's Page objects.
fn release(r: &Region) {
    for &slot in r.pages.iter().filter(|&&s| s != 0) {
        let page = Page::at(slot);
        // SAFETY: the region is wholly free (or was never handed out): no allocation, so no
        // reference, lies in it.
        let _ = unsafe { page.unmap() };
        let _ = page.delete();
    }
}

// SAFETY: every block comes from one of the `Heap`s, which hand out disjoint blocks of at least
// the size and alignment asked for, over memory only this allocator uses; the mutex serialises
// every access to them.
unsafe impl GlobalAlloc for Allocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        STATE.lock().alloc(layout)
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        STATE.lock().dealloc(ptr, layout);
    }
}

/// What the heap holds now: bytes handed out (as the buddy allocator rounds them), and regions
/// mapped beyond the initial heap.
///
/// ```no_run
/// # extern crate alloc;
/// use alloc::vec::Vec;
///
/// let before = sys::heap::stats();
/// let table: Vec<u64> = (0..100_000).collect(); // 800 KB: past the initial heap
/// let during = sys::heap::stats();
/// assert!(during.allocated >= before.allocated + 800_000);
/// sys::println!("{} regions, {} bytes mapped", during.regions, during.region_bytes);
/// drop(table);
/// // Every region that became wholly free was given back.
/// assert_eq!(sys::heap::stats(), before);
/// ```
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct Stats {
    /// Bytes allocated, rounded up to their buddy blocks.
    pub allocated: usize,
    /// Regions mapped.
    pub regions: usize,
    /// Bytes in those regions.
    pub region_bytes: usize,
}

/// What the heap holds now.
///
/// ```no_run
/// # extern crate alloc;
/// use alloc::boxed::Box;
///
/// let before = sys::heap::stats().allocated;
/// let b = Box::new([0u8; 1000]);
/// assert!(sys::heap::stats().allocated >= before + 1000);
/// drop(b);
/// assert_eq!(sys::heap::stats().allocated, before, "nothing leaked");
/// ```
pub fn stats() -> Stats {
    let mut s = STATE.lock();
    s.ready();
    let mapped = s.regions.iter().flatten();
    Stats {
        allocated: s.initial.stats_alloc_actual()
            + s.regions.iter().flatten().map(|r| r.heap.stats_alloc_actual()).sum::<usize>(),
        regions: mapped.clone().count(),
        region_bytes: mapped.map(|r| r.bytes).sum(),
    }
}

#[cfg(panic = "abort")]
#[global_allocator]
static GLOBAL: Allocator = Allocator;
