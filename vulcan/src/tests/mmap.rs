//! Tests of `sys::mmap`: anonymous mappings and mapped Pages, placed by the runtime or at a chosen
//! address, their access changed and removed, all through `sys`'s own API.
//!
//! Every test runs [`isolated`], and each checks the root Memory's `used` itself: a mapping
//! charges its pages and Page headers, and gives every one back when it goes.

use alloc::vec::Vec;

use sys::Boot;
use sys::abi::layout::{HEAP_BASE, MMAP_BASE, MMAP_END, PAGE_SIZE};
use sys::mmap::{self, MapError, Place};
use sys::thread::{self, JoinError};
use sys::vspace::{Page, access};
use sys::{Slot, root};

use super::support::{isolated, root_usage};
use crate::harness::{Test, TestResult, ensure, ensure_eq, fail, ok};

pub const TESTS: &[Test] = &[
    Test::new("mmap_anonymous_round_trip", |b| isolated(b, anonymous_round_trip)),
    Test::new("mmap_protect_and_use_after_unmap_fault", |b| isolated(b, protect_and_use_after_unmap)),
    Test::new("mmap_places_and_refusals", |b| isolated(b, places_and_refusals)),
    Test::new("mmap_of_a_page_capability", |b| isolated(b, page_capability)),
];

/// The page fault vector, as `join` reports it.
const PAGE_FAULT: usize = 14;

/// What a thread that reads the `u64` at `addr` returns, or how it ended.
fn read_from_thread(addr: usize) -> Result<u64, JoinError> {
    thread::spawn(move || {
        // SAFETY: deliberately unchecked: the test expects this read to fault (the thread stops,
        // nothing else is touched) or to read a mapping the main thread keeps alive until join.
        unsafe { core::ptr::read_volatile(core::ptr::with_exposed_provenance::<u64>(addr)) }
    })
    .join()
}

/// How a thread that writes `value` at `addr` ended.
fn write_from_thread(addr: usize, value: u64) -> Result<(), JoinError> {
    thread::spawn(move || {
        // SAFETY: as in `read_from_thread`: the test expects a fault, or a write to a mapping no
        // other code reads while the thread runs.
        unsafe { core::ptr::write_volatile(core::ptr::with_exposed_provenance_mut::<u64>(addr), value) }
    })
    .join()
}

/// Five pages (two Page objects: 4 and 1) mapped where the runtime picks, zeroed, written and
/// read back across their whole length; unmapping gives back all seven pages.
fn anonymous_round_trip(_: &Boot) -> TestResult {
    let before = root_usage()?.used;
    let mut m = ok!(mmap::map_anonymous(5, access::RW, Place::Anywhere), "map_anonymous(5, RW)");
    ensure!((MMAP_BASE..MMAP_END).contains(&m.addr()), "address {:#x} outside the mapping area", m.addr());
    ensure_eq!((m.len(), m.pages(), m.access()), (5 * PAGE_SIZE, 5, access::RW), "length, pages, access");
    ensure_eq!(root_usage()?.used - before, 5 + 2, "pages charged (five, and two Page headers)");
    ensure!(m.bytes().iter().all(|&b| b == 0), "a fresh mapping is not zeroed");
    let Some(bytes) = m.bytes_mut() else { fail!("an RW mapping without a writable view") };
    for (i, b) in bytes.iter_mut().enumerate() {
        *b = (i / 7) as u8;
    }
    ensure!(m.bytes().iter().enumerate().all(|(i, &b)| b == (i / 7) as u8), "the mapping reads back what was written");
    // A second mapping goes elsewhere, with an unmapped page between.
    let other = ok!(mmap::map_anonymous(1, access::R, Place::Anywhere), "map_anonymous(1, R)");
    let (lo, hi) = if other.addr() > m.addr() { (&m, &other) } else { (&other, &m) };
    ensure!(hi.addr() >= lo.addr() + lo.len() + PAGE_SIZE, "no guard page between {lo:?} and {hi:?}");
    ensure_eq!(
        read_from_thread(lo.addr() + lo.len()),
        Err(JoinError::Faulted(PAGE_FAULT)),
        "a read of the page after the lower mapping"
    );
    ok!(other.unmap(), "unmap (the second)");
    ok!(m.unmap(), "unmap");
    ensure_eq!(root_usage()?.used, before, "root Memory used after both mappings went");
    Ok(())
}

/// Read-only after `protect(R)`: no writable view, and a write from another thread faults; back
/// to RW, writes work again. After `unmap` the address faults for reads.
fn protect_and_use_after_unmap(_: &Boot) -> TestResult {
    let before = root_usage()?.used;
    let mut m = ok!(mmap::map_anonymous(2, access::RW, Place::Anywhere), "map_anonymous(2, RW)");
    let addr = m.addr();
    ok!(write_from_thread(addr + PAGE_SIZE, 0x1234), "a write from a thread while RW");
    ok!(m.protect(access::R), "protect(R)");
    ensure!(m.bytes_mut().is_none(), "a writable view of a read-only mapping");
    ensure_eq!(m.access(), access::R, "access after protect(R)");
    ensure_eq!(write_from_thread(addr, 1), Err(JoinError::Faulted(PAGE_FAULT)), "a write to the read-only mapping");
    ensure_eq!(read_from_thread(addr + PAGE_SIZE), Ok(0x1234), "a read of the read-only mapping");
    ensure_eq!(m.protect(8), Err(MapError::BadAccess), "protect with an unknown bit");
    ensure_eq!(m.access(), access::R, "access after the refused protect");
    ok!(m.protect(access::RW), "protect(RW)");
    ok!(write_from_thread(addr, 5), "a write after protect(RW)");
    ensure_eq!(m.bytes()[0], 5, "the byte the thread wrote");
    ok!(m.unmap(), "unmap");
    ensure_eq!(read_from_thread(addr), Err(JoinError::Faulted(PAGE_FAULT)), "a read after unmap");
    ensure_eq!(read_from_thread(addr + PAGE_SIZE), Err(JoinError::Faulted(PAGE_FAULT)), "a read of page 2 after unmap");
    ensure_eq!(root_usage()?.used, before, "root Memory used after unmap");
    Ok(())
}

/// `Place::At` maps exactly there and refuses what overlaps; bad lengths, addresses and access
/// are refused before anything is made, and the range of a dropped mapping can be taken again.
fn places_and_refusals(_: &Boot) -> TestResult {
    let before = root_usage()?.used;
    let at = MMAP_BASE + 0x40_0000_0000;
    let m = ok!(mmap::map_anonymous(3, access::RW, Place::At(at)), "map_anonymous(3, At)");
    ensure_eq!(m.addr(), at, "address of a placed mapping");
    let refusals: [(usize, usize, Place, MapError, &str); 7] = [
        (1, access::RW, Place::At(at + 2 * PAGE_SIZE), MapError::Occupied, "over the last page of a mapping"),
        (4, access::RW, Place::At(at - PAGE_SIZE), MapError::Occupied, "over its first page"),
        (0, access::RW, Place::Anywhere, MapError::BadLength, "no pages"),
        (1, access::RW, Place::At(at + 10), MapError::BadAddress, "an unaligned address"),
        (1, access::RW, Place::At(HEAP_BASE), MapError::BadAddress, "the heap area"),
        (1, access::RW, Place::At(0), MapError::BadAddress, "page 0"),
        (1, 0x80, Place::Anywhere, MapError::BadAccess, "an unknown access bit"),
    ];
    let used = root_usage()?.used;
    for (pages, acc, place, err, what) in refusals {
        ensure_eq!(mmap::map_anonymous(pages, acc, place).map(|_| ()), Err(err), "map_anonymous ({what})");
    }
    // Outside the mapping area the kernel is the judge: the root task's stack is mapped.
    let stack = sys::abi::layout::ROOT_STACK_TOP - PAGE_SIZE;
    ensure_eq!(
        mmap::map_anonymous(1, access::RW, Place::At(stack)).map(|_| ()),
        Err(MapError::Occupied),
        "over the stack"
    );
    ensure_eq!(root_usage()?.used, used, "root Memory used after the refusals");
    drop(m);
    let again = ok!(mmap::map_anonymous(3, access::R, Place::At(at)), "map_anonymous(3, At) after the drop");
    drop(again);
    // Many at once, then freed in another order: every page comes back.
    let mut many = Vec::new();
    for pages in [1, 2, 3, 8, 16, 1] {
        many.push(ok!(mmap::map_anonymous(pages, access::RW, Place::Anywhere), "map_anonymous({pages})"));
    }
    while !many.is_empty() {
        let m = many.remove(many.len() / 2);
        ok!(m.unmap(), "unmap");
    }
    ensure_eq!(root_usage()?.used, before, "root Memory used after every mapping went");
    Ok(())
}

/// A Page the program holds, mapped with `map_page`: its contents are the Page's, and unmapping
/// leaves the Page (unmapped, contents kept) to the program.
fn page_capability(_: &Boot) -> TestResult {
    let page = ok!(Page::create(root::memory(), 2, Slot::Auto), "page_create(2)");
    let mut m = ok!(mmap::map_page(page, access::RW, Place::Anywhere), "map_page(RW)");
    ensure_eq!(m.pages(), 2, "pages of the mapped Page");
    ensure_eq!(ok!(page.info(), "page_info").vaddr, m.addr(), "where page_info says the Page is mapped");
    if let Some(b) = m.bytes_mut() {
        b[PAGE_SIZE + 3] = 0x77;
    }
    ensure!(
        matches!(mmap::map_page(page, access::R, Place::Anywhere), Err(MapError::Sys(_))),
        "a second map of the same Page"
    );
    ok!(m.unmap(), "unmap");
    ensure!(!ok!(page.info(), "page_info after unmap").is_mapped(), "the Page is still mapped after unmap");
    let m = ok!(mmap::map_page(page, access::R, Place::Anywhere), "map_page(R) again");
    ensure_eq!(m.bytes()[PAGE_SIZE + 3], 0x77, "the byte written through the first mapping");
    drop(m);
    ok!(page.delete(), "page delete");
    Ok(())
}
