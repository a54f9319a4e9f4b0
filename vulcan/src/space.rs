//! Address spaces that run Vulcan's own code, for tests that need a task in a VSpace of its own.
//!
//! [`Space::clone_image`] builds a new VSpace holding a copy of Vulcan's image: for each of its
//! three segments (text RX, rodata R, data and bss RW, as `sys/user.ld` lays them out and marks
//! them with `__image_start`, `__rodata_start`, `__data_start` and `__image_end`) it makes Pages,
//! fills them from the root task's own image (each Page mapped for the copy at [`TEMP`] in the
//! root task's VSpace, then unmapped), and maps them at the same addresses with the same access in
//! the new VSpace; then a zeroed stack below [`STACK_TOP`]. A task given that VSpace (and a CSpace
//! of its own, holding only what the test gives it) can run any `extern "C" fn(usize) -> !` of
//! Vulcan ([`start_task`]). Its statics are its own copy, as they were at the clone.
//!
//! A Page is mapped in one place at a time, so the supervisor reads and writes a child's memory
//! ([`Space::with_mapped`], [`Space::read`], [`Space::write`]) by unmapping the Page from the
//! child, mapping it at [`TEMP`] in its own VSpace, and putting it back afterwards: only while the
//! child does not touch that memory (it is stopped, blocked, or finished).
//!
//! The root task's window: every mapping this module (and the VSpace tests) make in the root
//! task's VSpace lies in the 2 MiB at [`WINDOW`]. Page tables are refunded only when a VSpace dies,
//! and the root task's never does, so the window's tables are made once, charged to the root
//! Memory for good, by [`prime_window`]; a test calls it before it measures the root Memory
//! (that is, outside the isolation check), and no later map in the window charges
//! anything.

use core::sync::atomic::{AtomicBool, Ordering};

use sys::abi::layout::PAGE_SIZE;
use sys::ipc::{Endpoint, Message};
use sys::notify::{NOTE_BADGE, Note, Timer};
use sys::task::{Task, ThreadEntry, root_task, thread_registers};
use sys::vspace::{Page, VSpace, access};
use sys::{CSpace, Memory, Slot, root};

use crate::clock::{rdtsc, tsc_per_ms};
use crate::harness::{Reason, TestResult, ensure, fail, ok};

/// The root task's window for mappings of its own: 2 MiB, one page table's reach, far from
/// anything the kernel maps.
pub const WINDOW: usize = 0x0000_6000_0000_0000;

/// Bytes in [`WINDOW`].
pub const WINDOW_BYTES: usize = 2 << 20;

/// Where this module maps a Page in the root task's VSpace for a moment (copying, peeking):
/// the start of the window, [`CHUNK_PAGES`] pages.
pub const TEMP: usize = WINDOW;

/// Where root-space stacks made by [`root_stack`] go: after [`TEMP`].
pub const STACKS: usize = WINDOW + 0x8_0000;

/// The part of the window that tests use as they like: its second MiB.
pub const TEST_AREA: usize = WINDOW + 0x10_0000;

/// Bytes in [`TEST_AREA`].
pub const TEST_AREA_BYTES: usize = 0x10_0000;

const _: () = assert!(TEST_AREA + TEST_AREA_BYTES <= WINDOW + WINDOW_BYTES && STACKS < TEST_AREA);

/// Most pages in one Page this module makes (Pages are physically contiguous runs: small ones
/// are easy to find).
pub const CHUNK_PAGES: usize = 16;

/// Where a cloned space's stack ends (its first `rsp` is just below).
pub const STACK_TOP: usize = 0x0000_7fff_fe00_0000;

/// Pages of stack a cloned space gets.
pub const STACK_PAGES: usize = 16;

/// Most mapped Page runs a [`Space`] keeps track of.
pub const MAX_REGIONS: usize = 32;

unsafe extern "C" {
    // The segment bounds `sys/user.ld` defines (page-aligned). Only their addresses are used.
    safe static __image_start: u8;
    safe static __rodata_start: u8;
    safe static __data_start: u8;
    safe static __image_end: u8;
}

/// One segment of Vulcan's image: `[start, end)`, page-aligned, mapped with `access`.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct Segment {
    /// First byte.
    pub start: usize,
    /// One past the last byte (page-aligned).
    pub end: usize,
    /// How it is mapped ([`access`] bits).
    pub access: usize,
}

impl Segment {
    /// Pages in it.
    pub const fn pages(&self) -> usize {
        (self.end - self.start) / PAGE_SIZE
    }

    /// Whether `addr` lies in it.
    pub const fn contains(&self, addr: usize) -> bool {
        self.start <= addr && addr < self.end
    }
}

/// Vulcan's segments: text (RX), rodata (R), data and bss (RW).
pub fn image_segments() -> [Segment; 3] {
    let a = |s: &'static u8| core::ptr::from_ref(s).addr();
    [
        Segment { start: a(&__image_start), end: a(&__rodata_start), access: access::RX },
        Segment { start: a(&__rodata_start), end: a(&__data_start), access: access::R },
        Segment { start: a(&__data_start), end: a(&__image_end), access: access::RW },
    ]
}

static PRIMED: AtomicBool = AtomicBool::new(false);

/// Makes the page tables of [`WINDOW`] in the root task's VSpace exist (once), charged to the
/// root Memory for good: maps a page at the window's start and unmaps it again. Call it before
/// anything measures the root Memory.
pub fn prime_window() -> TestResult {
    if PRIMED.load(Ordering::Relaxed) {
        return Ok(());
    }
    let page = ok!(Page::create(root::memory(), 1, Slot::Auto), "page_create for the window");
    let mapped = page.map(VSpace::root(), WINDOW, access::R, root::memory());
    // SAFETY: nothing refers to the page just mapped at the window.
    let unmapped = mapped.and_then(|()| unsafe { page.unmap() });
    let deleted = page.delete();
    ok!(unmapped, "page_map and page_unmap at the window {WINDOW:#x}");
    ok!(deleted, "cap_delete of the window's page");
    PRIMED.store(true, Ordering::Relaxed);
    Ok(())
}

/// Maps `page` at [`TEMP`] in the root task's VSpace, runs `f` with its address, and unmaps it.
/// The page must be unmapped, and at most [`CHUNK_PAGES`] long.
fn with_temp<R>(page: Page, f: impl FnOnce(*mut u8) -> R) -> Result<R, Reason> {
    ok!(page.map(VSpace::root(), TEMP, access::RW, root::memory()), "page_map of slot {} at TEMP", page.slot());
    let r = f(core::ptr::with_exposed_provenance_mut(TEMP));
    // SAFETY: `f` has returned and kept no pointer into the page (it only ever gets a raw
    // pointer, used within the call).
    ok!(unsafe { page.unmap() }, "page_unmap of slot {} from TEMP", page.slot());
    Ok(r)
}

/// A run of pages mapped in a [`Space`].
#[derive(Copy, Clone, Debug)]
struct Region {
    page: Page,
    vaddr: usize,
    pages: usize,
    access: usize,
}

impl Region {
    fn contains(&self, addr: usize) -> bool {
        self.vaddr <= addr && addr < self.vaddr + self.pages * PAGE_SIZE
    }
}

/// An address space of its own (a VSpace capability in the root task's CSpace) and the Pages
/// mapped in it, all charged to one Memory. Dropping it deletes them all; [`destroy`](Self::destroy)
/// does so and reports failures.
pub struct Space {
    vspace: VSpace,
    memory: Memory,
    regions: [Option<Region>; MAX_REGIONS],
}

impl Space {
    /// An empty VSpace, charged (with every Page and table added later) to `memory`.
    pub fn new(memory: Memory) -> Result<Space, Reason> {
        let vspace = ok!(VSpace::create(memory, Slot::Auto), "vspace_create(slot {})", memory.slot());
        Ok(Space { vspace, memory, regions: [None; MAX_REGIONS] })
    }

    /// A VSpace holding a copy of Vulcan's image (every segment, as it is now in the root task)
    /// and a zeroed stack of [`STACK_PAGES`] below [`STACK_TOP`]; everything charged to `memory`.
    pub fn clone_image(memory: Memory) -> Result<Space, Reason> {
        let mut space = Space::new(memory)?;
        for seg in image_segments() {
            ensure!(
                seg.start.is_multiple_of(PAGE_SIZE) && seg.end.is_multiple_of(PAGE_SIZE) && seg.start <= seg.end,
                "image segment {seg:x?} is not page-aligned (sys/user.ld)"
            );
            space.add_copy(seg.start, seg.pages(), seg.access)?;
        }
        space.add(STACK_TOP - STACK_PAGES * PAGE_SIZE, STACK_PAGES, access::RW)?;
        Ok(space)
    }

    /// The VSpace.
    pub fn vspace(&self) -> VSpace {
        self.vspace
    }

    /// The Memory everything is charged to.
    pub fn memory(&self) -> Memory {
        self.memory
    }

    /// The stack pointer a task starting on this space's stack gets: 16-byte aligned less 8 (a
    /// return address slot, zero), as at a function's entry.
    pub fn stack_pointer(&self) -> usize {
        STACK_TOP - 8
    }

    fn record(&mut self, region: Region) -> TestResult {
        match self.regions.iter_mut().find(|r| r.is_none()) {
            Some(free) => {
                *free = Some(region);
                Ok(())
            }
            None => fail!("a Space keeps track of at most {MAX_REGIONS} Page runs"),
        }
    }

    /// Maps fresh zeroed pages at `[vaddr, vaddr + pages * PAGE_SIZE)` with `access`, in runs of
    /// at most [`CHUNK_PAGES`]; returns the Page of the first run.
    pub fn add(&mut self, vaddr: usize, pages: usize, access: usize) -> Result<Page, Reason> {
        self.add_runs(vaddr, pages, access, false)
    }

    /// As [`add`](Self::add), and fills the pages with the bytes at the same addresses in the
    /// root task's VSpace (which must be readable there).
    pub fn add_copy(&mut self, vaddr: usize, pages: usize, access: usize) -> Result<Page, Reason> {
        self.add_runs(vaddr, pages, access, true)
    }

    fn add_runs(&mut self, vaddr: usize, pages: usize, access: usize, copy: bool) -> Result<Page, Reason> {
        ensure!(pages > 0, "no pages to add at {vaddr:#x}");
        let (mut at, mut left, mut first) = (vaddr, pages, None);
        while left > 0 {
            // The largest power of two that fits, up to a chunk.
            let n = 1usize << (usize::BITS - 1 - left.min(CHUNK_PAGES).leading_zeros());
            let page = ok!(Page::create(self.memory, n, Slot::Auto), "page_create({n} pages) for {at:#x}");
            if copy {
                with_temp(page, |dst| {
                    let src: *const u8 = core::ptr::with_exposed_provenance(at);
                    // SAFETY: `src` is this program's own image, readable for `n` pages (the
                    // caller's promise) and only read; `dst` is the Page just mapped at TEMP,
                    // `n` pages, which nothing else refers to. They do not overlap (TEMP is in
                    // the window, outside the image).
                    unsafe { core::ptr::copy_nonoverlapping(src, dst, n * PAGE_SIZE) }
                })?;
            }
            ok!(
                page.map(self.vspace, at, access, self.memory),
                "page_map(slot {}, {n} pages) at {at:#x} in the new space",
                page.slot()
            );
            self.record(Region { page, vaddr: at, pages: n, access })?;
            first.get_or_insert(page);
            at += n * PAGE_SIZE;
            left -= n;
        }
        Ok(first.expect("at least one run"))
    }

    /// Runs `f` with a pointer to `addr` of this space, through the root task's VSpace: the Page
    /// run holding `addr` is unmapped here, mapped at [`TEMP`], and put back afterwards. `f` may
    /// read and write up to the end of that run. Only while no task touches the run.
    pub fn with_mapped<R>(&mut self, addr: usize, f: impl FnOnce(*mut u8) -> R) -> Result<R, Reason> {
        let Some(region) = self.regions.iter().flatten().copied().find(|r| r.contains(addr)) else {
            fail!("{addr:#x} is in no Page this space mapped");
        };
        // SAFETY: the run is mapped in the other space, not the caller's: nothing here refers to
        // it.
        ok!(unsafe { region.page.unmap() }, "page_unmap(slot {}) from the space", region.page.slot());
        let r = with_temp(region.page, |base| f(base.wrapping_add(addr - region.vaddr)));
        let back = region.page.map(self.vspace, region.vaddr, region.access, self.memory);
        let r = r?;
        ok!(back, "page_map(slot {}) back at {:#x}", region.page.slot(), region.vaddr);
        Ok(r)
    }

    /// Reads the `T` at `addr` of this space (see [`with_mapped`](Self::with_mapped)).
    pub fn read<T: Copy>(&mut self, addr: usize) -> Result<T, Reason> {
        self.check_fits::<T>(addr)?;
        // SAFETY: the `T` lies inside the run mapped at the pointer (checked above); every `T`
        // used here is plain data, valid for any bits; `read_unaligned` allows any alignment.
        self.with_mapped(addr, |p| unsafe { p.cast::<T>().read_unaligned() })
    }

    /// Writes `value` at `addr` of this space (see [`with_mapped`](Self::with_mapped)).
    pub fn write<T: Copy>(&mut self, addr: usize, value: T) -> TestResult {
        self.check_fits::<T>(addr)?;
        // SAFETY: as in `read`.
        self.with_mapped(addr, |p| unsafe { p.cast::<T>().write_unaligned(value) })
    }

    fn check_fits<T>(&self, addr: usize) -> TestResult {
        let last = addr + core::mem::size_of::<T>().max(1) - 1;
        let fits = self.regions.iter().flatten().any(|r| r.contains(addr) && r.contains(last));
        ensure!(fits, "[{addr:#x}, {last:#x}] is not inside one Page run of the space");
        Ok(())
    }

    /// The Page run holding `addr`, if this space mapped one there.
    pub fn page_at(&self, addr: usize) -> Option<Page> {
        self.regions.iter().flatten().find(|r| r.contains(addr)).map(|r| r.page)
    }

    /// Deletes every Page and the VSpace, failing on the first error (the rest are still deleted
    /// when `self` drops).
    pub fn destroy(mut self) -> TestResult {
        for r in self.regions.iter_mut() {
            if let Some(region) = r.take() {
                // SAFETY: the Page is mapped in this space's own VSpace (or, mid-`with_mapped`,
                // nowhere), never in the root task's: its death unmaps nothing the root task or
                // its threads use.
                let deleted = unsafe { region.page.cap().delete() };
                ok!(deleted, "cap_delete(slot {}) of a space's Page", region.page.slot());
            }
        }
        ok!(self.vspace.delete(), "cap_delete(slot {}) of the space's VSpace", self.vspace.slot());
        self.vspace = VSpace::at(0);
        Ok(())
    }
}

impl Drop for Space {
    fn drop(&mut self) {
        for region in self.regions.iter_mut().filter_map(Option::take) {
            // SAFETY: as in `destroy`: mapped in this space's VSpace, not the root task's.
            let _ = unsafe { region.page.cap().delete() };
        }
        if self.vspace.slot() != 0 {
            let _ = self.vspace.delete();
        }
    }
}

/// How [`start_task`] sets a task up.
#[derive(Copy, Clone, Debug)]
pub struct Launch {
    /// What the task is charged to.
    pub memory: Memory,
    /// Its CSpace.
    pub cspace: CSpace,
    /// Its VSpace.
    pub vspace: VSpace,
    /// What it runs.
    pub entry: ThreadEntry,
    /// `entry`'s argument.
    pub arg: usize,
    /// Its first stack pointer.
    pub rsp: usize,
    /// Its priority (its maximum controlled priority is 0), given with the root task's authority.
    pub priority: usize,
    /// Where its faults go, if anywhere.
    pub fault_endpoint: Option<Endpoint>,
}

/// Makes a task as `launch` says, in the lowest free slot of the root CSpace, and starts it. If a
/// step fails, the task is deleted again.
///
/// # Safety
///
/// The code contract (`sys::safety`) for the task: if `launch.vspace` is the root task's VSpace
/// or `launch.cspace` the root CSpace, `launch.rsp` is the top of a stack that nothing else uses
/// (a [`root_stack`], say) and `launch.entry` is meant to run there, keeping the shared-slot rule
/// in a shared CSpace. In a cloned [`Space`] with a CSpace of its own, anything goes.
pub unsafe fn start_task(launch: &Launch) -> Result<Task, Reason> {
    let task = ok!(Task::create(launch.memory, Slot::Auto), "task_create(slot {})", launch.memory.slot());
    let regs = thread_registers(launch.entry, launch.arg, launch.rsp);
    // SAFETY: a task just made: no spaces to drop, all-zero registers until the next step.
    let set_up = unsafe { task.set_space(launch.cspace, launch.vspace) };
    // SAFETY: the caller keeps the code contract for these registers.
    let set_up = set_up.and_then(|()| unsafe { task.write_regs(&regs) });
    let set_up = set_up
        .and_then(|()| task.set_priority(root_task(), launch.priority, 0))
        .and_then(|()| task.set_fault_endpoint(launch.fault_endpoint))
        .and_then(|()| task.start());
    if let Err(e) = set_up {
        // SAFETY: the task holds at most `launch.cspace` and `launch.vspace`, to which the caller
        // holds capabilities of its own: its death ends nothing else.
        let _ = unsafe { task.cap().delete() };
        fail!("setting up task (slot {}) to run {:#x}: {e:?}", task.slot(), launch.entry as usize);
    }
    Ok(task)
}

/// Maps a fresh zeroed stack of `pages` pages in the root task's VSpace at [`STACKS`] (for a
/// thread sharing the root task's space), charged to `memory`; returns the Page and the first
/// stack pointer. One such stack at a time: delete the Page (after the thread is gone) to free
/// the place.
pub fn root_stack(memory: Memory, pages: usize) -> Result<(Page, usize), Reason> {
    ensure!(pages.is_power_of_two() && pages * PAGE_SIZE <= TEST_AREA - STACKS, "root stack of {pages} pages");
    let page = ok!(Page::create(memory, pages, Slot::Auto), "page_create({pages}) for a root stack");
    if let Err(e) = page.map(VSpace::root(), STACKS, access::RW, root::memory()) {
        let _ = page.delete();
        fail!("page_map of a root stack at {STACKS:#x}: {e:?}");
    }
    Ok((page, STACKS + pages * PAGE_SIZE - 8))
}

/// Bounded waiting for a message: a Note bound to the root task and a Timer that signals it, so
/// that a `recv` of the root task ends after a time limit even if no message comes.
pub struct Waiter {
    note: Note,
    timer: Timer,
    per_ms: u64,
}

impl Waiter {
    /// A Note and a Timer made from `memory` (two pages), the Note bound to the root task.
    pub fn new(boot: &sys::Boot, memory: Memory) -> Result<Waiter, Reason> {
        let note = ok!(Note::create(memory, Slot::Auto), "note_create for a waiter");
        let timer = match Timer::create(memory, Slot::Auto) {
            Ok(t) => t,
            Err(e) => {
                let _ = note.delete();
                fail!("timer_create for a waiter: {e:?}");
            }
        };
        let w = Waiter { note, timer, per_ms: tsc_per_ms(boot) };
        ok!(note.bind(root_task()), "note_bind(slot {}, root task)", note.slot());
        Ok(w)
    }

    /// The Note (bound to the root task; the Timer signals bit 1 on it).
    pub fn note(&self) -> Note {
        self.note
    }

    /// The Timer.
    pub fn timer(&self) -> Timer {
        self.timer
    }

    /// Receives a message on `ep`, failing (naming `what`) if none comes within `ms`
    /// milliseconds.
    pub fn recv(&self, ep: Endpoint, ms: u64, what: &str) -> Result<Message, Reason> {
        ok!(self.timer.disarm(), "timer_disarm");
        ok!(self.note.poll(), "note_poll");
        ok!(self.timer.arm(self.note, 1, (ms * 1000) as usize, 0), "timer_arm({ms} ms)");
        let start = rdtsc();
        loop {
            let m = ok!(ep.recv(), "recv(slot {}) waiting for {what}", ep.slot());
            if m.badge != NOTE_BADGE {
                ok!(self.timer.disarm(), "timer_disarm");
                return Ok(m);
            }
            // The Timer fired (or, should the clock be early, a stale bit): give up only once the
            // time has passed by the TSC too.
            if rdtsc().wrapping_sub(start) >= ms * self.per_ms {
                fail!("waited {ms} ms for {what}; nothing came");
            }
            ok!(self.timer.arm(self.note, 1, 10_000, 0), "timer_arm(10 ms)");
        }
    }

    /// Unbinds and deletes the Note and the Timer.
    pub fn destroy(self) -> TestResult {
        let (note, timer) = (self.note, self.timer);
        core::mem::forget(self);
        ok!(Note::unbind(root_task()), "note_bind(0, root task)");
        ok!(timer.delete(), "cap_delete of the waiter's Timer");
        ok!(note.delete(), "cap_delete of the waiter's Note");
        Ok(())
    }
}

impl Drop for Waiter {
    fn drop(&mut self) {
        let _ = Note::unbind(root_task());
        let _ = self.timer.delete();
        let _ = self.note.delete();
    }
}
