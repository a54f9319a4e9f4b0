//! Tests of address spaces: `vspace_create`, `page_create`, `page_map`, `page_unmap`,
//! `page_protect` and `page_info`, each with its charges and errors; page tables charged to the
//! Memory a map names and refunded when the VSpace dies; a Page deleted while mapped; the page
//! fault a supervisor repairs by mapping a page; and tasks in address spaces of their own
//! ([`Space`](crate::space::Space), a copy of Vulcan's image) talking over IPC.
//!
//! The ABI: `abi::syscall` (0x40-0x45), `abi::task::fault`, `abi::layout` (the user range).
//!
//! Mappings in the root task's own VSpace stay in [`TEST_AREA`] of the window whose page tables
//! [`prime_window`] made for good, so that they charge nothing; every test primes the window,
//! then runs [`isolated`].

use core::sync::atomic::{AtomicUsize, Ordering::SeqCst};

use sys::abi::Error::{
    InsufficientRights, InvalidArgument, InvalidCapability, InvalidState, QuotaExceeded, SlotOccupied, WrongKind,
};
use sys::abi::bootcaps::{ROOT_CSPACE, ROOT_DEBUG_CONSOLE, ROOT_VSPACE};
use sys::abi::layout::{PAGE_SIZE, USER_END};
use sys::abi::task::{ROOT_PRIORITY, fault};
use sys::ipc::{Endpoint, reply};
use sys::task::{State, Task, exit_thread};
use sys::vspace::{MAX_PAGE_COUNT, Page, VSpace, access, page_create, page_info, page_map, vspace_create};
use sys::{Boot, CSpace, Memory, MemoryInfo, Slot, rights, root};

use super::support::{delete, delete_any, isolated, split_root};
use crate::harness::{Reason, Test, TestResult, ensure, ensure_eq, fail, ok};
use crate::space::{
    Launch, STACK_TOP, Space, TEST_AREA, TEST_AREA_BYTES, Waiter, image_segments, prime_window, root_stack, start_task,
};

pub const TESTS: &[Test] = &[
    Test::new("vspace_create_and_page_create_charge_and_refund", |b| run(b, create_charges)),
    Test::new("vspace_create_and_page_create_errors", |b| run(b, create_errors)),
    Test::new("vspace_map_in_root_space", |b| run(b, map_in_root_space)),
    Test::new("vspace_map_errors", |b| run(b, map_errors)),
    Test::new("vspace_page_tables_charged_and_refunded", |b| run(b, tables_charged)),
    Test::new("vspace_page_protect", |b| run(b, protect)),
    Test::new("vspace_page_protect_fault_in_child", |b| run(b, protect_fault_in_child)),
    Test::new("vspace_kernel_copies_respect_mappings", |b| run(b, kernel_copies_respect_mappings)),
    Test::new("vspace_delete_mapped_page_unmaps", |b| run(b, delete_mapped_page)),
    Test::new("vspace_page_fault_mapped_by_supervisor", |b| run(b, page_fault_cloned_space)),
    Test::new("vspace_page_fault_in_root_space", |b| run(b, page_fault_root_space)),
    Test::new("vspace_ipc_between_spaces", |b| run(b, ipc_between_spaces)),
    Test::new("vspace_ipc_buffer_moved_under_its_task", |b| run(b, ipc_buffer_moved_under_its_task)),
];

/// Primes the root window (outside the isolation check: its tables stay for good), then runs
/// `body` isolated.
fn run(boot: &Boot, body: fn(&Boot) -> TestResult) -> TestResult {
    prime_window()?;
    isolated(boot, body)
}

/// Page-fault error code bits: present (1), write (2), user (4).
const PF_PRESENT: usize = 1;
const PF_WRITE: usize = 2;
const PF_USER: usize = 4;

/// Priority of the tasks these tests start: above the root task, so they run as soon as they
/// can and the root task sees each step's outcome when it runs again.
const CHILD_PRIORITY: usize = ROOT_PRIORITY + 1;

/// How long a test waits for a message before it fails.
const PATIENCE_MS: u64 = 5000;

/// `memory`'s quota and usage.
fn usage(memory: Memory) -> Result<MemoryInfo, Reason> {
    Ok(ok!(memory.info(), "memory_info(slot {})", memory.slot()))
}

/// Fails unless `memory` has `used` pages charged.
fn ensure_used(memory: Memory, used: usize, what: &str) -> TestResult {
    ensure_eq!(usage(memory)?.used, used, "pages charged to slot {} ({what})", memory.slot());
    Ok(())
}

/// Fails unless `r` is the error `e`.
fn ensure_err<T: core::fmt::Debug>(r: sys::Result<T>, e: sys::abi::Error, what: &str) -> TestResult {
    match r {
        Err(got) if got == e => Ok(()),
        other => fail!("{what}: got {other:?}, expected Err({e:?})"),
    }
}

/// A copy of `page` with `rights`, in the lowest free slot.
fn page_copy(page: Page, rights: usize) -> Result<Page, Reason> {
    let c = ok!(page.copy(root::cspace(), Slot::Auto, rights), "cap_copy(page slot {}, {rights:#x})", page.slot());
    Ok(Page::new(c))
}

/// The address `offset` bytes into the test area.
fn test_addr(offset: usize) -> usize {
    debug_assert!(offset < TEST_AREA_BYTES);
    TEST_AREA + offset
}

/// Reads the word at `addr`.
///
/// # Safety
/// `addr` must be mapped readable and aligned.
unsafe fn peek(addr: usize) -> usize {
    // SAFETY: the caller's promise.
    unsafe { core::ptr::with_exposed_provenance::<usize>(addr).read_volatile() }
}

/// Writes the word at `addr`.
///
/// # Safety
/// `addr` must be mapped writable, aligned, and used by nothing else.
unsafe fn poke(addr: usize, value: usize) {
    // SAFETY: the caller's promise.
    unsafe { core::ptr::with_exposed_provenance_mut::<usize>(addr).write_volatile(value) }
}

/// `vspace_create` charges two pages, `page_create` `count + 1`; deleting them refunds it all.
fn create_charges(_: &Boot) -> TestResult {
    let m = split_root(64)?;
    ensure_used(m, 0, "fresh")?;
    let v = ok!(VSpace::create(m, Slot::Auto), "vspace_create");
    ensure_used(m, 2, "after vspace_create")?;
    let id = ok!(v.identify(), "cap_identify(vspace)");
    ensure_eq!((id.kind, id.rights), (Ok(sys::Kind::VSpace), rights::ALL), "a new VSpace capability");
    let mut used = 2;
    let mut pages = [Page::at(0); 4];
    for (i, count) in [1, 2, 8, 16].into_iter().enumerate() {
        pages[i] = ok!(Page::create(m, count, Slot::Auto), "page_create({count})");
        used += count + 1;
        ensure_used(m, used, "after page_create")?;
        let info = ok!(pages[i].info(), "page_info of a new Page of {count}");
        ensure_eq!((info.count, info.vaddr), (count, 0), "page_info (count, vaddr) of a new Page");
        ensure!(info.phys.is_multiple_of(PAGE_SIZE) && info.phys != 0, "page_info phys {:#x}", info.phys);
        let id = ok!(pages[i].identify(), "cap_identify(page)");
        ensure_eq!((id.kind, id.rights), (Ok(sys::Kind::Page), rights::ALL), "a new Page capability");
    }
    // Distinct runs of physical memory.
    for i in 0..pages.len() {
        for j in i + 1..pages.len() {
            let (a, b) = (ok!(pages[i].info(), "page_info"), ok!(pages[j].info(), "page_info"));
            let disjoint = a.phys + a.bytes() <= b.phys || b.phys + b.bytes() <= a.phys;
            ensure!(disjoint, "Pages overlap in physical memory: {a:x?} and {b:x?}");
        }
    }
    for p in pages {
        delete(p.cap())?;
    }
    ensure_used(m, 2, "after deleting the Pages")?;
    delete(v.cap())?;
    ensure_used(m, 0, "after deleting the VSpace")?;
    // The largest Page.
    let big = split_root(MAX_PAGE_COUNT + 1)?;
    let p = ok!(Page::create(big, MAX_PAGE_COUNT, Slot::Auto), "page_create({MAX_PAGE_COUNT})");
    ensure_used(big, MAX_PAGE_COUNT + 1, "after page_create(512)")?;
    delete(p.cap())?;
    ensure_used(big, 0, "after deleting the Page of 512")?;
    delete(big.cap())?;
    delete(m.cap())
}

/// Every error of `vspace_create` and `page_create`, each leaving the Memory's usage alone.
fn create_errors(_: &Boot) -> TestResult {
    let m = split_root(16)?;
    for count in [0, 3, 5, 6, 7, 12, 511, 513, 1024, 1 << 20, usize::MAX] {
        ensure_err(page_create(m.slot(), count, usize::MAX), InvalidArgument, "page_create(count)")?;
    }
    ensure_used(m, 0, "after refused page_creates")?;
    // Quota: a Page of 16 costs 17.
    ensure_err(Page::create(m, 16, Slot::Auto), QuotaExceeded, "page_create(16) from a quota of 16")?;
    let p8 = ok!(Page::create(m, 8, Slot::Auto), "page_create(8)");
    ensure_err(Page::create(m, 8, Slot::Auto), QuotaExceeded, "page_create(8) with 7 pages left")?;
    let p4 = ok!(Page::create(m, 4, Slot::Auto), "page_create(4)");
    ensure_used(m, 14, "Pages of 8 and 4")?;
    let v = ok!(VSpace::create(m, Slot::Auto), "vspace_create with 2 pages left");
    ensure_used(m, 16, "full")?;
    ensure_err(VSpace::create(m, Slot::Auto), QuotaExceeded, "vspace_create from a full Memory")?;
    ensure_err(Page::create(m, 1, Slot::Auto), QuotaExceeded, "page_create(1) from a full Memory")?;
    for c in [p8.cap(), p4.cap(), v.cap()] {
        delete(c)?;
    }
    ensure_used(m, 0, "after deleting everything")?;
    // Capability errors.
    let ro = Memory::new(ok!(m.copy(root::cspace(), Slot::Auto, rights::READ), "cap_copy(memory, READ)"));
    ensure_err(Page::create(ro, 1, Slot::Auto), InsufficientRights, "page_create from a READ-only Memory")?;
    ensure_err(VSpace::create(ro, Slot::Auto), InsufficientRights, "vspace_create from a READ-only Memory")?;
    let not_memory = [ROOT_DEBUG_CONSOLE, ROOT_CSPACE, ROOT_VSPACE];
    for slot in not_memory {
        ensure_err(page_create(slot, 1, usize::MAX), WrongKind, "page_create(not a Memory)")?;
        ensure_err(vspace_create(slot, usize::MAX), WrongKind, "vspace_create(not a Memory)")?;
    }
    for slot in [0, super::support::SPARE, 1 << 20, usize::MAX - 1] {
        ensure_err(page_create(slot, 1, usize::MAX), InvalidCapability, "page_create(empty or out-of-range slot)")?;
        ensure_err(vspace_create(slot, usize::MAX), InvalidCapability, "vspace_create(empty or out-of-range slot)")?;
    }
    // Destination slot errors.
    ensure_err(page_create(m.slot(), 1, ROOT_CSPACE), SlotOccupied, "page_create into an occupied slot")?;
    ensure_err(vspace_create(m.slot(), ROOT_CSPACE), SlotOccupied, "vspace_create into an occupied slot")?;
    ensure_err(page_create(m.slot(), 1, 0), InvalidCapability, "page_create into slot 0")?;
    // An explicit slot works.
    let spare = super::support::SPARE;
    ensure_eq!(page_create(m.slot(), 1, spare), Ok(spare), "page_create into slot {spare}");
    delete(sys::Cap::new(spare))?;
    ensure_used(m, 0, "after the refused calls")?;
    delete(ro.cap())?;
    delete(m.cap())
}

/// A Page mapped in the root task's own VSpace: written and read, reported by `page_info`,
/// unmapped and mapped elsewhere (its contents go with it), with every access it may have.
fn map_in_root_space(_: &Boot) -> TestResult {
    let m = split_root(32)?;
    let p = ok!(Page::create(m, 2, Slot::Auto), "page_create(2)");
    let a = test_addr(0);
    ok!(p.map(VSpace::root(), a, access::RW, m), "page_map(RW) at {a:#x} in the root VSpace");
    ensure_used(m, 3, "a mapped Page of 2 (the window's tables exist)")?;
    let info = ok!(p.info(), "page_info of the mapped Page");
    ensure_eq!((info.count, info.vaddr), (2, a), "page_info (count, vaddr)");
    // Zeroed, then what is written is read back, on both pages.
    for off in [0, 8, PAGE_SIZE - 8, PAGE_SIZE, 2 * PAGE_SIZE - 8] {
        // SAFETY: the Page of two pages is mapped RW at `a`, and nothing else uses it.
        unsafe {
            ensure_eq!(peek(a + off), 0, "a fresh Page's word at +{off:#x}");
            poke(a + off, 0x5eed_0000 + off);
        }
    }
    for off in [0, 8, PAGE_SIZE - 8, PAGE_SIZE, 2 * PAGE_SIZE - 8] {
        // SAFETY: as above.
        ensure_eq!(unsafe { peek(a + off) }, 0x5eed_0000 + off, "word at +{off:#x} after writing it");
    }
    // Mapped twice: refused.
    ensure_err(p.map(VSpace::root(), test_addr(0x4_0000), access::RW, m), InvalidState, "page_map of a mapped Page")?;
    // Unmapped: page_info says so (reading it would fault: not done), and it maps elsewhere with
    // its contents.
    // SAFETY: no reference into the Page is live.
    ok!(unsafe { p.unmap() }, "page_unmap");
    ensure_eq!(ok!(p.info(), "page_info").vaddr, 0, "page_info vaddr after page_unmap");
    // SAFETY: not mapped any more: the call must fail and change nothing.
    ensure_err(unsafe { p.unmap() }, InvalidState, "page_unmap of an unmapped Page")?;
    let b = test_addr(0x2_0000);
    ok!(p.map(VSpace::root(), b, access::R, m), "page_map(R) of the same Page at {b:#x}");
    ensure_eq!(ok!(p.info(), "page_info").vaddr, b, "page_info vaddr after mapping it again");
    for off in [0, 8, PAGE_SIZE, 2 * PAGE_SIZE - 8] {
        // SAFETY: mapped readable at `b`.
        ensure_eq!(unsafe { peek(b + off) }, 0x5eed_0000 + off, "word at +{off:#x} mapped at the new place");
    }
    // SAFETY: no reference into the Page is live.
    ok!(unsafe { p.unmap() }, "page_unmap");
    // Access 0 means READ (implied); a READ-only capability maps read-only.
    let ro = page_copy(p, rights::READ)?;
    ok!(ro.map(VSpace::root(), a, 0, m), "page_map(access 0) through a READ-only copy");
    // SAFETY: mapped readable at `a`.
    ensure_eq!(unsafe { peek(a + 8) }, 0x5eed_0008, "word read through an access-0 mapping");
    ensure_eq!(ok!(p.info(), "page_info through the original").vaddr, a, "the original sees the copy's mapping");
    ensure_err(
        p.map(VSpace::root(), b, access::R, m),
        InvalidState,
        "page_map of the original while the copy maps it",
    )?;
    // SAFETY: no reference into the Page is live.
    ok!(unsafe { ro.unmap() }, "page_unmap through the READ-only copy");
    ok!(p.map(VSpace::root(), a, access::READ | access::WRITE | access::EXECUTE, m), "page_map(RWX)");
    // SAFETY: no reference into the Page is live.
    ok!(unsafe { p.unmap() }, "page_unmap");
    delete(ro.cap())?;
    delete(p.cap())?;
    ensure_used(m, 0, "after deleting the Page")?;
    delete(m.cap())
}

/// Every error of `page_map` (and `page_unmap`, `page_info`), each changing nothing.
fn map_errors(_: &Boot) -> TestResult {
    let m = split_root(32)?;
    let p = ok!(Page::create(m, 1, Slot::Auto), "page_create(1)");
    let p2 = ok!(Page::create(m, 2, Slot::Auto), "page_create(2)");
    let root_vs = VSpace::root();
    let a = test_addr(0x1_0000);
    // Addresses: unaligned, null, kernel half, non-canonical, past the user range, straddling
    // its end.
    let bad = [
        (a + 8, "unaligned"),
        (a + 0x800, "unaligned"),
        (0, "null page"),
        (0xffff_8000_0000_0000, "kernel half"),
        (0xffff_ffff_ffff_f000, "top page"),
        (0x0000_8000_0000_0000, "non-canonical"),
        (0x1234_5678_9abc_d000, "non-canonical"),
        (USER_END, "USER_END"),
    ];
    for (addr, what) in bad {
        ensure_err(p.map(root_vs, addr, access::RW, m), InvalidArgument, what)?;
    }
    ensure_err(p2.map(root_vs, USER_END - PAGE_SIZE, access::RW, m), InvalidArgument, "a run crossing USER_END")?;
    // Access bits: unknown ones, then rights the capability lacks.
    for acc in [rights::GRANT, access::RW | rights::GRANT, 0x10, 1 << 40, usize::MAX] {
        ensure_err(p.map(root_vs, a, acc, m), InvalidArgument, "page_map with unknown access bits")?;
    }
    let ro = page_copy(p, rights::READ)?;
    ensure_err(ro.map(root_vs, a, access::RW, m), InsufficientRights, "page_map(RW) of a READ-only Page copy")?;
    ensure_err(ro.map(root_vs, a, access::RX, m), InsufficientRights, "page_map(RX) of a READ-only Page copy")?;
    let rw = page_copy(p, rights::READ | rights::WRITE)?;
    ensure_err(rw.map(root_vs, a, access::RX, m), InsufficientRights, "page_map(RX) of a Page copy without EXECUTE")?;
    let wo = page_copy(p, rights::WRITE)?;
    ensure_err(wo.map(root_vs, a, access::RW, m), InsufficientRights, "page_map of a Page copy without READ")?;
    ensure_err(wo.info(), InsufficientRights, "page_info of a Page copy without READ")?;
    // SAFETY: the call must fail (no READ); nothing is mapped.
    ensure_err(unsafe { wo.unmap() }, InsufficientRights, "page_unmap of a Page copy without READ")?;
    // The VSpace and Memory capabilities: kinds and rights.
    let vs_ro = VSpace::new(ok!(root_vs.copy(root::cspace(), Slot::Auto, rights::READ), "cap_copy(root VSpace, READ)"));
    ensure_err(p.map(vs_ro, a, access::RW, m), InsufficientRights, "page_map into a READ-only VSpace copy")?;
    let m_ro = Memory::new(ok!(m.copy(root::cspace(), Slot::Auto, rights::READ), "cap_copy(memory, READ)"));
    ensure_err(p.map(root_vs, a, access::RW, m_ro), InsufficientRights, "page_map with a READ-only Memory")?;
    let (pg, vs, mem) = (p.slot(), root_vs.slot(), m.slot());
    for (args, what) in [
        ((vs, vs, mem), "a VSpace as the Page"),
        ((mem, vs, mem), "a Memory as the Page"),
        ((pg, pg, mem), "a Page as the VSpace"),
        ((pg, mem, mem), "a Memory as the VSpace"),
        ((pg, vs, pg), "a Page as the Memory"),
        ((pg, vs, vs), "a VSpace as the Memory"),
        ((ROOT_DEBUG_CONSOLE, vs, mem), "the console as the Page"),
    ] {
        ensure_err(page_map(args.0, args.1, a, access::RW, args.2), WrongKind, what)?;
    }
    for (args, what) in [
        ((0, vs, mem), "slot 0 as the Page"),
        ((pg, 0, mem), "slot 0 as the VSpace"),
        ((pg, vs, 0), "slot 0 as the Memory"),
        ((super::support::SPARE, vs, mem), "an empty slot as the Page"),
        ((pg, 1 << 30, mem), "an out-of-range VSpace"),
    ] {
        ensure_err(page_map(args.0, args.1, a, access::RW, args.2), InvalidCapability, what)?;
    }
    ensure_err(page_info(ROOT_CSPACE), WrongKind, "page_info of a CSpace")?;
    ensure_err(page_info(0), InvalidCapability, "page_info of slot 0")?;
    // Occupied: the image, the root task's stack, another Page.
    let image = image_segments()[0].start;
    ensure_err(p.map(root_vs, image, access::R, m), SlotOccupied, "page_map over the root task's image")?;
    let rodata = image_segments()[1].start;
    ensure_err(p2.map(root_vs, rodata - PAGE_SIZE, access::R, m), SlotOccupied, "page_map of 2 partly over the image")?;
    let stack = sys::abi::layout::ROOT_STACK_TOP - PAGE_SIZE;
    ensure_err(p.map(root_vs, stack, access::R, m), SlotOccupied, "page_map over the root stack")?;
    ok!(p.map(root_vs, a, access::RW, m), "page_map at {a:#x}");
    ensure_err(p2.map(root_vs, a, access::RW, m), SlotOccupied, "page_map over a mapped Page")?;
    ensure_err(p2.map(root_vs, a - PAGE_SIZE, access::RW, m), SlotOccupied, "page_map of 2 ending on a mapped Page")?;
    ensure_eq!(ok!(p2.info(), "page_info").vaddr, 0, "a Page refused stays unmapped");
    ok!(p2.map(root_vs, a - 2 * PAGE_SIZE, access::RW, m), "page_map of 2 just below a mapped Page");
    // SAFETY: nothing refers to either Page.
    unsafe {
        ok!(p.unmap(), "page_unmap");
        ok!(p2.unmap(), "page_unmap");
    }
    // SAFETY: a copy of `p` without READ (so `delete` cannot check it): `p` keeps the Page,
    // which is not mapped anyway.
    unsafe { delete_any(wo.cap())? };
    for c in [vs_ro.cap(), m_ro.cap(), ro.cap(), rw.cap(), p.cap(), p2.cap()] {
        delete(c)?;
    }
    ensure_used(m, 0, "after deleting everything")?;
    delete(m.cap())
}

/// The page tables a map needs are charged to the Memory the map names, one page each, and
/// refunded when the VSpace dies (with the mapped Pages then unmapped); a Memory too small for
/// them is `QuotaExceeded`, and the tables made before it ran out stay charged until then.
fn tables_charged(_: &Boot) -> TestResult {
    let m = split_root(64)?;
    let v = ok!(VSpace::create(m, Slot::Auto), "vspace_create");
    let tables = split_root(5)?;
    let pages: [Page; 5] = [
        ok!(Page::create(m, 1, Slot::Auto), "page_create"),
        ok!(Page::create(m, 1, Slot::Auto), "page_create"),
        ok!(Page::create(m, 1, Slot::Auto), "page_create"),
        ok!(Page::create(m, 1, Slot::Auto), "page_create"),
        ok!(Page::create(m, 1, Slot::Auto), "page_create"),
    ];
    let used_m = usage(m)?.used;
    // A first map in an empty VSpace: a PDPT, a PD and a PT.
    ok!(pages[0].map(v, 0x1000_0000, access::RW, tables), "page_map at 0x1000_0000");
    ensure_used(tables, 3, "after the first map")?;
    // The same PT: nothing more.
    ok!(pages[1].map(v, 0x1000_1000, access::RW, tables), "page_map at 0x1000_1000");
    ensure_used(tables, 3, "after a map under the same table")?;
    // Another GiB: a PD and a PT.
    ok!(pages[2].map(v, 0x4000_0000, access::RW, tables), "page_map at 0x4000_0000");
    ensure_used(tables, 5, "after a map in another GiB")?;
    // Another GiB again: the quota is used up.
    ensure_err(pages[3].map(v, 0x8000_0000, access::RW, tables), QuotaExceeded, "page_map needing 2 tables, 0 left")?;
    ensure_eq!(ok!(pages[3].info(), "page_info").vaddr, 0, "a Page whose map failed");
    // A fresh Memory of one page: the PDPT of a new 512 GiB fits, the PD does not.
    let one = split_root(1)?;
    ensure_err(pages[3].map(v, 0x80_0000_0000, access::RW, one), QuotaExceeded, "page_map needing 3 tables, 1 left")?;
    ensure_used(one, 1, "the table made before the quota ran out stays charged")?;
    // The Memory of the VSpace itself pays if named.
    ok!(pages[4].map(v, 0x1000_2000, access::RW, m), "page_map at 0x1000_2000 (no table needed)");
    ensure_used(m, used_m, "no table was needed")?;
    // The VSpace dies: every table refunded, and its Pages are unmapped.
    delete(v.cap())?;
    ensure_used(tables, 0, "after the VSpace died")?;
    ensure_used(one, 0, "after the VSpace died")?;
    ensure_used(m, used_m - 2, "the VSpace's own two pages refunded")?;
    for p in pages {
        ensure_eq!(ok!(p.info(), "page_info after the VSpace died").vaddr, 0, "vaddr of a Page whose VSpace died");
    }
    // Unmapped for good: they map again elsewhere.
    ok!(pages[0].map(VSpace::root(), test_addr(0), access::R, m), "page_map of a Page whose VSpace died");
    // SAFETY: nothing refers to it.
    ok!(unsafe { pages[0].unmap() }, "page_unmap");
    for p in pages {
        delete(p.cap())?;
    }
    ensure_used(m, 0, "after deleting the Pages")?;
    for c in [one.cap(), tables.cap(), m.cap()] {
        delete(c)?;
    }
    Ok(())
}

/// `page_protect` in the root task's own VSpace: RW, written, then R (read still works; a write
/// would fault, which the next test shows in a task of its own), then RW again; and its errors.
fn protect(_: &Boot) -> TestResult {
    let m = split_root(8)?;
    let p = ok!(Page::create(m, 1, Slot::Auto), "page_create");
    let a = test_addr(0x3_0000);
    // SAFETY: not mapped: must fail.
    ensure_err(unsafe { p.protect(access::R) }, InvalidState, "page_protect of an unmapped Page")?;
    ok!(p.map(VSpace::root(), a, access::RW, m), "page_map(RW)");
    // SAFETY: mapped RW at `a`, used by nothing else.
    unsafe { poke(a, 0x0b5e_55ed) };
    // SAFETY: nothing writes the page while it is read-only.
    ok!(unsafe { p.protect(access::R) }, "page_protect(R)");
    // SAFETY: mapped readable.
    ensure_eq!(unsafe { peek(a) }, 0x0b5e_55ed, "read after page_protect(R)");
    ensure_eq!(ok!(p.info(), "page_info").vaddr, a, "still mapped after page_protect");
    let ro = page_copy(p, rights::READ)?;
    let wo = page_copy(p, rights::WRITE)?;
    // SAFETY: these must fail and change nothing.
    unsafe {
        ensure_err(ro.protect(access::RW), InsufficientRights, "page_protect(RW) through a READ-only copy")?;
        ensure_err(p.protect(rights::GRANT), InvalidArgument, "page_protect with an unknown bit")?;
        ensure_err(p.protect(0x100), InvalidArgument, "page_protect with an unknown bit")?;
        ensure_err(wo.protect(access::RW), InsufficientRights, "page_protect without READ")?;
    }
    // Through the READ-only copy, to R: allowed.
    // SAFETY: stays read-only.
    ok!(unsafe { ro.protect(access::R) }, "page_protect(R) through a READ-only copy");
    // SAFETY: adding rights is always sound.
    ok!(unsafe { p.protect(access::RW) }, "page_protect(RW)");
    // SAFETY: mapped RW again.
    unsafe { poke(a, 0x00c0_ffee) };
    // SAFETY: mapped readable.
    ensure_eq!(unsafe { peek(a) }, 0x00c0_ffee, "read after writing again");
    // SAFETY: nothing refers to the page any more.
    ok!(unsafe { p.unmap() }, "page_unmap");
    // SAFETY: a copy without READ (which `delete` needs to check it): `p` keeps the Page, which
    // is not mapped anyway.
    unsafe { delete_any(wo.cap())? };
    delete(ro.cap())?;
    delete(p.cap())?;
    ensure_used(m, 0, "after deleting the Page")?;
    delete(m.cap())
}

/// The kernel copies to and from user memory (`task_read_regs` writes, `task_write_regs`
/// reads) through the caller's mappings as they are: a buffer running from a writable page into
/// a read-only one is refused whole (`BadAddress`, not a byte written), a read-only buffer is
/// readable, a page made read-only by `page_protect` is no longer written, an unmapped page is
/// neither.
fn kernel_copies_respect_mappings(_: &Boot) -> TestResult {
    use sys::abi::Error::BadAddress;
    use sys::task::{REGISTERS_BYTES, Registers, task_read_regs, task_write_regs};
    let m = split_root(16)?;
    let rw = ok!(Page::create(m, 1, Slot::Auto), "page_create");
    let ro = ok!(Page::create(m, 1, Slot::Auto), "page_create");
    let x = test_addr(0x7_0000);
    ok!(rw.map(VSpace::root(), x, access::RW, m), "page_map(RW)");
    ok!(ro.map(VSpace::root(), x + PAGE_SIZE, access::R, m), "page_map(R) just after");
    let t = ok!(Task::create(m, Slot::Auto), "task_create");
    let regs = Registers { rbx: 0x1111, r15: 0xf1f1, rip: 0x40_1000, rsp: 0x7000, ..Registers::default() };
    // SAFETY: the task has no CSpace or VSpace and never starts: its registers run nothing.
    ok!(unsafe { t.write_regs(&regs) }, "task_write_regs from a local");
    let straddling = x + PAGE_SIZE - 16;
    let zeroes = |from: usize, to: usize| {
        (from..to).step_by(8).all(|a| {
            // SAFETY: both pages are mapped readable; nothing writes them meanwhile.
            unsafe { peek(a) == 0 }
        })
    };
    for (buf, what) in [
        (straddling, "a buffer running into a read-only page"),
        (x + PAGE_SIZE, "a buffer in a read-only page"),
        (x + 2 * PAGE_SIZE - 8, "a buffer running from a read-only page into nothing"),
    ] {
        // SAFETY: the kernel must refuse (checked); had it written, it wrote only these pages,
        // which nothing in this program refers to.
        ensure_err(unsafe { task_read_regs(t.slot(), buf) }, BadAddress, what)?;
    }
    ensure!(zeroes(x, x + 2 * PAGE_SIZE), "task_read_regs refused, yet wrote to the pages");
    // SAFETY: the writable page, which nothing else refers to.
    ok!(unsafe { task_read_regs(t.slot(), straddling - REGISTERS_BYTES) }, "task_read_regs into the writable page");
    // SAFETY: the registers were just written there, inside the writable page.
    let back =
        unsafe { core::ptr::with_exposed_provenance::<Registers>(straddling - REGISTERS_BYTES).read_unaligned() };
    ensure_eq!((back.rbx, back.r15, back.rip, back.rsp), (0x1111, 0xf1f1, 0x40_1000, 0x7000), "registers read back");
    // Reading may cross into the read-only page.
    // SAFETY: as above: a task that never runs.
    let r = unsafe { task_write_regs(t.slot(), straddling) };
    ok!(r, "task_write_regs from a buffer running into a read-only page");
    // Made read-only, the first page is written no more.
    // SAFETY: nothing writes the page while it is read-only (the kernel must not either).
    ok!(unsafe { rw.protect(access::R) }, "page_protect(R)");
    // SAFETY: must be refused; see above.
    ensure_err(unsafe { task_read_regs(t.slot(), x) }, BadAddress, "task_read_regs into a page made read-only")?;
    ensure!(zeroes(x, x + 8), "task_read_regs refused, yet wrote to the page made read-only");
    // Unmapped, the second page is neither read nor written.
    // SAFETY: nothing refers to the page.
    ok!(unsafe { ro.unmap() }, "page_unmap");
    // SAFETY: as above: a task that never runs.
    let r = unsafe { task_write_regs(t.slot(), straddling) };
    ensure_err(r, BadAddress, "task_write_regs from a buffer running into nothing")?;
    // SAFETY: nothing refers to either page any more.
    ok!(unsafe { rw.unmap() }, "page_unmap");
    // SAFETY: a task without spaces: its death drops nothing.
    unsafe { delete_any(t.cap())? };
    for c in [rw.cap(), ro.cap()] {
        delete(c)?;
    }
    ensure_used(m, 0, "after deleting everything")?;
    delete(m.cap())
}

/// A task of its own (a cloned space) and the endpoint and fault endpoint it is watched
/// through: what most tests below set up.
struct Child {
    space: Space,
    cspace: CSpace,
    ep: Endpoint,
    fault_ep: Endpoint,
    waiter: Waiter,
    task: Option<Task>,
}

/// Badge of the fault endpoint capability a child's faults come through.
const FAULT_BADGE: usize = 0xfa17;

/// Badge of the endpoint capability the root task calls a child through.
const CALLER_BADGE: usize = 0x5e;

impl Child {
    /// A clone of Vulcan's image in a VSpace charged to `m`; a CSpace of 16 slots holding, in
    /// slot 1, a copy of an Endpoint the root task also holds; a fault endpoint; a waiter.
    fn new(boot: &Boot, m: Memory) -> Result<Child, Reason> {
        let space = Space::clone_image(m)?;
        let cspace = ok!(CSpace::create(m, 4, Slot::Auto), "cspace_create(4) for a child");
        let ep = ok!(Endpoint::create(m, Slot::Auto), "endpoint_create");
        ok!(ep.copy(cspace, Slot::At(1), rights::ALL), "cap_copy(endpoint) into the child's CSpace");
        let fault_ep = ok!(Endpoint::create(m, Slot::Auto), "endpoint_create (fault)");
        let waiter = Waiter::new(boot, m)?;
        Ok(Child { space, cspace, ep, fault_ep, waiter, task: None })
    }

    /// Starts `entry(arg)` in the child's space, with the fault endpoint (badged).
    fn start(&mut self, entry: sys::task::ThreadEntry, arg: usize) -> TestResult {
        let badged =
            ok!(self.fault_ep.mint(root::cspace(), Slot::Auto, rights::WRITE, FAULT_BADGE), "cap_mint(fault endpoint)");
        let launch = Launch {
            memory: self.space.memory(),
            cspace: self.cspace,
            vspace: self.space.vspace(),
            entry,
            arg,
            rsp: self.space.stack_pointer(),
            priority: CHILD_PRIORITY,
            fault_endpoint: Some(Endpoint::new(badged)),
        };
        // SAFETY: the child runs in a cloned space with a CSpace of its own.
        let task = unsafe { start_task(&launch) };
        // The task holds the fault endpoint itself: the badged capability can go.
        delete(badged)?;
        self.task = Some(task?);
        Ok(())
    }

    fn task(&self) -> Result<Task, Reason> {
        match self.task {
            Some(t) => Ok(t),
            None => fail!("the child was not started"),
        }
    }

    /// Fails unless the child has exited with `status`.
    fn ensure_exited(&self, status: usize) -> TestResult {
        let info = ok!(self.task()?.info(), "task_info of the child");
        ensure_eq!((info.state, info.detail), (Ok(State::Exited), status), "(state, detail) of the child");
        Ok(())
    }

    /// Receives the child's next fault message and checks its badge.
    fn next_fault(&self, what: &str) -> Result<[usize; 5], Reason> {
        let m = self.waiter.recv(self.fault_ep, PATIENCE_MS, what)?;
        ensure_eq!(m.badge, FAULT_BADGE, "badge of {what}");
        Ok(m.words)
    }

    /// Deletes everything.
    fn destroy(self) -> TestResult {
        let Child { space, cspace, ep, fault_ep, waiter, task } = self;
        if let Some(t) = task {
            // SAFETY: the child runs in its own space, with its own CSpace, both of which this
            // holds capabilities to: its death ends nothing else.
            unsafe { delete_any(t.cap())? };
        }
        waiter.destroy()?;
        // SAFETY: the child's CSpace holds a copy of `ep` (slot 1) and nothing else.
        unsafe { delete_any(cspace.cap())? };
        for c in [ep.cap(), fault_ep.cap()] {
            delete(c)?;
        }
        space.destroy()
    }
}

/// Whether `rip` lies in the first bytes of function `f` (the functions checked are short).
fn in_function(rip: usize, f: sys::task::ThreadEntry) -> bool {
    let start = f as usize;
    (start..start + 0x100).contains(&rip)
}

/// The word a child that writes at `addr` writes there.
const fn pattern(addr: usize) -> usize {
    addr ^ 0x5a5a_0000_1234_5678
}

/// Exit status of [`fault_writer`] and [`protect_writer`].
const WRITER_DONE: usize = 0xd0e;

/// Writes [`pattern`]`(addr)` at `addr` (which faults until someone maps a page there), then
/// exits with [`WRITER_DONE`].
extern "C" fn fault_writer(addr: usize) -> ! {
    // SAFETY: this task's memory at `addr` is its own business: the supervisor maps a page there
    // on the fault; nothing else in this task refers to it.
    unsafe { core::ptr::with_exposed_provenance_mut::<usize>(addr).write_volatile(pattern(addr)) };
    exit_thread(WRITER_DONE)
}

/// Writes 1 at `addr`, calls the endpoint in slot 1 (the supervisor makes the page read-only
/// meanwhile), writes 2 there (which faults until the supervisor makes it writable again), exits.
extern "C" fn protect_writer(addr: usize) -> ! {
    let word = core::ptr::with_exposed_provenance_mut::<usize>(addr);
    // SAFETY: `addr` is a page of this task's space mapped RW for it, used by nothing else.
    unsafe { word.write_volatile(1) };
    if Endpoint::at(1).call([1, 0, 0, 0, 0]).is_err() {
        exit_thread(0xbad);
    }
    // SAFETY: as above (read-only for a moment: the write faults, and is retried once the
    // supervisor has made it writable).
    unsafe { word.write_volatile(2) };
    exit_thread(WRITER_DONE)
}

/// In a task of its own: a page written, made read-only by the supervisor while the task waits,
/// written again: a page fault (vector 14, present | write | user) at the write; the supervisor
/// makes it writable and replies; the write completes.
fn protect_fault_in_child(boot: &Boot) -> TestResult {
    let m = split_root(512)?;
    let mut child = Child::new(boot, m)?;
    let a = 0x0000_5000_0000_0000;
    child.space.add(a, 1, access::RW)?;
    let Some(page) = child.space.page_at(a) else { fail!("no Page at {a:#x} after adding one") };
    child.start(protect_writer, a)?;
    let msg = child.waiter.recv(child.ep, PATIENCE_MS, "the child's call")?;
    ensure_eq!(msg.words[0], 1, "the child's call");
    ensure_eq!(child.space.read::<usize>(a)?, 1, "the child's first write, read through the root VSpace");
    // SAFETY: the page is mapped in the child's VSpace, not the caller's.
    ok!(unsafe { page.protect(access::R) }, "page_protect(R) in the child's VSpace");
    ok!(reply([0; 5]), "reply to the child");
    let w = child.next_fault("the write to the read-only page")?;
    ensure_eq!(w[fault::VECTOR], 14, "fault vector");
    ensure_eq!(w[fault::ADDRESS], a, "fault address");
    ensure_eq!(w[fault::ERROR], PF_PRESENT | PF_WRITE | PF_USER, "fault error code");
    ensure!(in_function(w[fault::RIP], protect_writer), "fault rip {:#x} not in protect_writer", w[fault::RIP]);
    ensure_eq!(child.space.read::<usize>(a)?, 1, "the page after the refused write");
    // SAFETY: as above.
    ok!(unsafe { page.protect(access::RW) }, "page_protect(RW) in the child's VSpace");
    ok!(reply([0; 5]), "reply to the fault");
    child.ensure_exited(WRITER_DONE)?;
    ensure_eq!(child.space.read::<usize>(a)?, 2, "the child's second write");
    child.destroy()?;
    ensure_used(m, 0, "after destroying the child")?;
    delete(m.cap())
}

/// Deleting a capability of a mapped Page leaves it mapped while another remains; deleting the
/// last unmaps it (the address is free again, so another Page maps there).
fn delete_mapped_page(_: &Boot) -> TestResult {
    let m = split_root(16)?;
    let p = ok!(Page::create(m, 1, Slot::Auto), "page_create");
    let q = ok!(Page::create(m, 1, Slot::Auto), "page_create");
    let a = test_addr(0x5_0000);
    ok!(p.map(VSpace::root(), a, access::RW, m), "page_map");
    // SAFETY: mapped RW at `a`, used by nothing else.
    unsafe { poke(a, 77) };
    let copy = page_copy(p, rights::ALL)?;
    // SAFETY: not the last capability: the copy keeps the Page mapped.
    unsafe { delete_any(p.cap())? };
    ensure_eq!(ok!(copy.info(), "page_info through the copy").vaddr, a, "mapping with a copy left");
    ensure_err(q.map(VSpace::root(), a, access::RW, m), SlotOccupied, "page_map where the copy's Page is mapped")?;
    // SAFETY: still mapped: the copy keeps it.
    ensure_eq!(unsafe { peek(a) }, 77, "the word with a copy left");
    // The last capability goes: nothing may use the memory after this.
    // SAFETY: the word at `a` was read above through a raw pointer, used no more.
    unsafe { delete_any(copy.cap())? };
    ensure_used(m, 2, "only the second Page is left")?;
    ok!(q.map(VSpace::root(), a, access::RW, m), "page_map where the deleted Page was");
    // SAFETY: `q` is mapped RW at `a` now.
    ensure_eq!(unsafe { peek(a) }, 0, "the new Page at the address (zeroed, not the old one)");
    // Deleting the last capability of a mapped Page unmaps it, once more.
    // SAFETY: as for `copy`: the word was read, and nothing uses the memory any more.
    unsafe { delete_any(q.cap())? };
    ensure_used(m, 0, "after deleting both")?;
    let r = ok!(Page::create(m, 1, Slot::Auto), "page_create");
    ok!(r.map(VSpace::root(), a, access::R, m), "page_map where the second deleted Page was");
    // SAFETY: nothing refers to it.
    ok!(unsafe { r.unmap() }, "page_unmap");
    delete(r.cap())?;
    delete(m.cap())
}

/// The page fault test: a task in a space of its own writes to an unmapped address; the
/// supervisor gets the fault message (vector 14, the address, `rip` in the task's function, a
/// user write to a page not present), maps a fresh page there in the task's VSpace and replies;
/// the write completes and the task exits; the supervisor reads the value through its own VSpace.
fn page_fault_cloned_space(boot: &Boot) -> TestResult {
    let m = split_root(512)?;
    let mut child = Child::new(boot, m)?;
    let a = 0x0000_5000_0000_1238;
    child.start(fault_writer, a)?;
    let w = child.next_fault("the write to an unmapped page")?;
    ensure_eq!(w[fault::VECTOR], 14, "fault vector");
    ensure_eq!(w[fault::ADDRESS], a, "fault address");
    ensure_eq!(w[fault::ERROR], PF_WRITE | PF_USER, "fault error code");
    ensure!(in_function(w[fault::RIP], fault_writer), "fault rip {:#x} not in fault_writer", w[fault::RIP]);
    let state = ok!(sys::task::task_info(child.task()?.slot()), "task_info").0;
    ensure_eq!(state, State::BlockedReply as usize, "state of the child waiting for the reply to its fault");
    child.space.add(a & !(PAGE_SIZE - 1), 1, access::RW)?;
    ok!(reply([0; 5]), "reply to the fault");
    child.ensure_exited(WRITER_DONE)?;
    ensure_eq!(child.space.read::<usize>(a)?, pattern(a), "the word the child wrote");
    child.destroy()?;
    ensure_used(m, 0, "after destroying the child")?;
    delete(m.cap())
}

/// The page fault test in the root task's own VSpace: a thread (root CSpace and VSpace, its
/// stack a Page in the window) writes to an unmapped address of the window; the supervisor maps
/// a Page there and replies; the thread's write is then read directly.
fn page_fault_root_space(boot: &Boot) -> TestResult {
    let m = split_root(64)?;
    let fault_ep = ok!(Endpoint::create(m, Slot::Auto), "endpoint_create");
    let badged = ok!(fault_ep.mint(root::cspace(), Slot::Auto, rights::WRITE, FAULT_BADGE), "cap_mint");
    let waiter = Waiter::new(boot, m)?;
    let (stack, rsp) = root_stack(m, 4)?;
    let a = test_addr(0x6_0ff8);
    let launch = Launch {
        memory: m,
        cspace: CSpace::at(ROOT_CSPACE),
        vspace: VSpace::root(),
        entry: fault_writer,
        arg: a,
        rsp,
        priority: CHILD_PRIORITY,
        fault_endpoint: Some(Endpoint::new(badged)),
    };
    // SAFETY: a thread of Vulcan: `fault_writer` on a root stack of its own; it writes only at
    // `a`, where nothing was mapped, and makes no capability call but its exit (shared slots).
    let task = unsafe { start_task(&launch)? };
    let msg = waiter.recv(fault_ep, PATIENCE_MS, "the thread's fault")?;
    let w = msg.words;
    ensure_eq!((msg.badge, w[fault::VECTOR], w[fault::ADDRESS]), (FAULT_BADGE, 14, a), "(badge, vector, address)");
    ensure_eq!(w[fault::ERROR], PF_WRITE | PF_USER, "fault error code");
    ensure!(in_function(w[fault::RIP], fault_writer), "fault rip {:#x} not in fault_writer", w[fault::RIP]);
    let page = ok!(Page::create(m, 1, Slot::Auto), "page_create");
    ok!(page.map(VSpace::root(), a & !(PAGE_SIZE - 1), access::RW, m), "page_map at the fault address");
    ok!(reply([0; 5]), "reply to the fault");
    let info = ok!(task.info(), "task_info");
    ensure_eq!((info.state, info.detail), (Ok(State::Exited), WRITER_DONE), "(state, detail) of the thread");
    // SAFETY: the Page is mapped RW at the address; the thread is gone.
    ensure_eq!(unsafe { peek(a) }, pattern(a), "the word the thread wrote");
    // SAFETY: the exited thread's spaces are the root task's: its death ends nothing else.
    unsafe { delete_any(task.cap())? };
    waiter.destroy()?;
    // SAFETY: the Page was read above, through a raw pointer used no more; the stack's thread
    // has exited and its Task is gone. Both are mapped in the window and used by nothing.
    unsafe {
        delete_any(page.cap())?;
        delete_any(stack.cap())?;
    }
    for c in [badged, fault_ep.cap()] {
        delete(c)?;
    }
    ensure_used(m, 0, "after deleting everything")?;
    delete(m.cap())
}

/// Calls the server answers in [`ipc_between_spaces`].
const ROUND_TRIPS: usize = 100;

/// The word that tells [`echo_server`] to stop.
const STOP: usize = 0x5709;

/// How many calls [`echo_server`] answered: a static of the server's own copy of the image.
static SERVED: AtomicUsize = AtomicUsize::new(0);

/// What the root task sets the server's [`SERVED`] to before it starts.
const FIRST_SERVED: usize = 1000;

/// What the server answers to `words` from a sender with `badge`, after `served` earlier calls.
fn transform(words: [usize; 5], badge: usize, served: usize) -> [usize; 5] {
    [
        words[0].wrapping_mul(3).wrapping_add(1),
        words[1] ^ badge,
        words[2].rotate_left(7),
        words[3].wrapping_sub(words[4]),
        served,
    ]
}

/// Serves the endpoint in slot 1: answers each call with [`transform`] of its words, counting
/// them in [`SERVED`]; exits with the count when a message starting with [`STOP`] comes.
extern "C" fn echo_server(_: usize) -> ! {
    let ep = Endpoint::at(1);
    let mut msg = ep.recv();
    loop {
        match msg {
            Ok(m) if m.words[0] == STOP => exit_thread(SERVED.load(SeqCst)),
            Ok(m) => {
                let served = SERVED.fetch_add(1, SeqCst);
                msg = ep.reply_recv(transform(m.words, m.badge, served));
            }
            Err(_) => exit_thread(0xbad),
        }
    }
}

/// A server in a space of its own answers 100 calls from the root task, each with the words
/// transformed; its count lives in its own copy of a static, which the root task sets before it
/// starts and reads afterwards through its own VSpace (its own copy still says 0).
fn ipc_between_spaces(boot: &Boot) -> TestResult {
    let m = split_root(512)?;
    SERVED.store(0, SeqCst);
    let mut child = Child::new(boot, m)?;
    // The server's copy of SERVED is its own: it starts where the root task puts it.
    let served_addr = core::ptr::from_ref(&SERVED).addr();
    child.space.write::<usize>(served_addr, FIRST_SERVED)?;
    child.start(echo_server, 0)?;
    let caller = Endpoint::new(ok!(
        child.ep.mint(root::cspace(), Slot::Auto, rights::WRITE, CALLER_BADGE),
        "cap_mint(endpoint)"
    ));
    let mut x: usize = 0x1234_5678_9abc_def1;
    for i in 0..ROUND_TRIPS {
        let mut words = [0usize; 5];
        for w in &mut words {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            *w = x;
        }
        if words[0] == STOP {
            words[0] += 1;
        }
        let got = ok!(caller.call(words), "call {i}");
        ensure_eq!(got, transform(words, CALLER_BADGE, FIRST_SERVED + i), "answer to call {i}");
    }
    ok!(caller.send([STOP, 0, 0, 0, 0]), "send(STOP)");
    child.ensure_exited(FIRST_SERVED + ROUND_TRIPS)?;
    ensure_eq!(SERVED.load(SeqCst), 0, "the root task's own SERVED");
    ensure_eq!(
        child.space.read::<usize>(served_addr)?,
        FIRST_SERVED + ROUND_TRIPS,
        "the server's SERVED, read from its space"
    );
    ensure!(
        image_segments()[2].contains(served_addr) && served_addr < STACK_TOP,
        "SERVED at {served_addr:#x} is in the data segment"
    );
    delete(caller.cap())?;
    child.destroy()?;
    ensure_used(m, 0, "after destroying the server")?;
    delete(m.cap())
}

/// The IPC buffer of [`word_server`]: the first page of the test area.
const SERVER_BUFFER_AT: usize = TEST_AREA;

/// Where the first extra word is in an IPC buffer.
const WORD0: usize = core::mem::offset_of!(sys::abi::ipc::IpcBuffer, words);

/// Answers every call on Endpoint `ep` with the first extra word its IPC buffer holds at that
/// moment (its buffer is at [`SERVER_BUFFER_AT`]) and how many words its Extra said came.
extern "C" fn word_server(ep: usize) -> ! {
    let ep = Endpoint::at(ep);
    let mut next = ep.recv();
    loop {
        match next {
            // SAFETY: the test keeps a page mapped readable at the buffer's address while it
            // calls; the kernel and the test write it, this thread only reads it.
            Ok(m) => next = ep.reply_recv([unsafe { peek(SERVER_BUFFER_AT + WORD0) }, m.extra.words.into(), 0, 0, 0]),
            Err(e) => exit_thread(0xe000 + e.code()),
        }
    }
}

/// Calls `ep` with `word` as the one extra word, through the root task's IPC buffer.
fn call_with_word(ep: Endpoint, round: usize, word: u64) -> Result<[usize; 5], Reason> {
    let r = sys::thread::with_ipc_buffer(|b| ep.call_with([round, 0, 0, 0, 0], b.set_words(&[word])));
    match r {
        Ok(Ok(m)) => Ok(m.words),
        Ok(Err(e)) | Err(e) => fail!("call {round} with one word: {e:?}"),
    }
}

/// The kernel writes a receiver's IPC buffer through the page mapped at the buffer's address at
/// the moment the message passes, never through a page that was there before: a server's buffer
/// page is replaced by another at the same address (the old one mapped elsewhere), and then by a
/// read-only mapping. Each call carries one extra word; the kernel keeps the translation of each
/// task's buffer page between messages: a translation kept past the unmap would write the word
/// into the old page and leave the new one alone.
fn ipc_buffer_moved_under_its_task(_: &Boot) -> TestResult {
    use super::ipc::{HIGH, Threads, new_endpoint};
    let m = split_root(16)?;
    let first = ok!(Page::create(m, 1, Slot::Auto), "page_create (first buffer page)");
    let second = ok!(Page::create(m, 1, Slot::Auto), "page_create (second buffer page)");
    let (v, w) = (SERVER_BUFFER_AT, test_addr(0x2_0000));
    ok!(first.map(VSpace::root(), v, access::RW, m), "page_map of the first page at {v:#x}");
    let ep = new_endpoint()?;
    let mut threads = Threads::new()?;
    let server = threads.prepare("word server", word_server, ep.slot())?;
    // SAFETY: the page at `v` is this test's and the server's alone, and stays mapped (or is
    // replaced) while the server may be sent to; the kernel writes it as an IPC buffer.
    ok!(unsafe { sys::ipc::task_set_ipc_buffer(server.slot(), v) }, "task_set_ipc_buffer(server, {v:#x})");
    ok!(server.set_priority(sys::task::root_task(), HIGH, 0), "task_set_priority(server)");
    ok!(server.start(), "task_start(server)");

    for round in 0..2 {
        // SAFETY: the first page is mapped RW at `v`.
        unsafe { poke(v + WORD0, 0x5555) };
        let r = call_with_word(ep, round, 0x1000 + round as u64)?;
        ensure_eq!((r[0], r[1]), (0x1000 + round, 1), "word the server read, words it got (first page, call {round})");
    }
    // SAFETY: no reference into the page is live.
    ok!(unsafe { first.unmap() }, "page_unmap of the first page");
    ok!(second.map(VSpace::root(), v, access::RW, m), "page_map of the second page at {v:#x}");
    ok!(first.map(VSpace::root(), w, access::RW, m), "page_map of the first page at {w:#x}");
    // SAFETY: both pages are mapped RW, the second at `v`, the first at `w`.
    unsafe {
        poke(v + WORD0, 0x7777);
        poke(w + WORD0, 0x6666);
    }
    let r = call_with_word(ep, 2, 0xabc)?;
    ensure_eq!((r[0], r[1]), (0xabc, 1), "word the server read in the page now at its buffer's address");
    // SAFETY: mapped RW at `w`.
    ensure_eq!(unsafe { peek(w + WORD0) }, 0x6666, "word 0 of the page that was the buffer before");

    // Read-only: the kernel must leave it as it is.
    // SAFETY: the second page is mapped RW at `v`.
    unsafe { poke(v + WORD0, 0x8888) };
    // SAFETY: no reference into the page is live.
    ok!(unsafe { second.unmap() }, "page_unmap of the second page");
    ok!(second.map(VSpace::root(), v, access::R, m), "page_map(R) of the second page at {v:#x}");
    let r = call_with_word(ep, 3, 0xdef)?;
    ensure_eq!((r[0], r[1]), (0x8888, 0), "word 0 of a read-only buffer (not written), words the server got");

    drop(threads);
    delete(ep.cap())?;
    for p in [first, second] {
        // SAFETY: nothing reads the pages any more.
        ok!(unsafe { p.unmap() }, "page_unmap");
        delete(p.cap())?;
    }
    delete(m.cap())
}
