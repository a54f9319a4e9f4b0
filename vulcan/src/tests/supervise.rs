//! Tests of `sys::fault`: threads whose faults go to a supervisor in the same program, which maps
//! the page they touched and resumes them, resumes them elsewhere, or ends them, all through
//! `sys`'s own API (`Supervisor`, `Fault`, `thread::Builder::supervised`, `mmap`).
//!
//! Every test runs [`isolated`]: the supervisor's Endpoint, the threads and the pages mapped on
//! their behalf are all given back, and the root Memory's `used` is where it was.

use alloc::vec::Vec;

use sys::Boot;
use sys::abi::layout::{MMAP_BASE, PAGE_SIZE};
use sys::fault::{Access, FaultKind, Supervisor};
use sys::mmap::{self, Mapping, Place};
use sys::sync::mpsc;
use sys::thread::{self, Builder, JoinError};
use sys::vspace::access;

use super::support::{isolated, root_usage};
use crate::harness::{Test, TestResult, ensure, ensure_eq, fail, ok};

pub const TESTS: &[Test] = &[
    Test::new("supervisor_thread_maps_pages_on_demand", |b| isolated(b, maps_pages_on_demand)),
    Test::new("supervisor_resumes_past_an_instruction", |b| isolated(b, resumes_past_an_instruction)),
    Test::new("supervisor_kills_a_bad_access", |b| isolated(b, kills_a_bad_access)),
];

/// The lazily mapped region of these tests: far from what the runtime places itself.
const LAZY: usize = MMAP_BASE + 0x80_0000_0000;
/// Its pages.
const LAZY_PAGES: usize = 4;

/// The worker's badge.
const BADGE: usize = 0x5a;

/// What the supervisor saw of one fault.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
struct Seen {
    badge: usize,
    page: usize,
    access: Access,
    present: bool,
}

/// The design's page-fault scenario, with a supervisor *thread*: a worker touches four pages of a
/// region nothing maps (writing each, then reading all back); each first touch is a page fault
/// that goes to the supervisor thread, which maps a fresh page there and resumes the worker,
/// which retries the instruction and goes on. Exactly one fault per page, each a write to a page
/// that was not present, with the worker's badge; the worker's values all survive.
fn maps_pages_on_demand(_: &Boot) -> TestResult {
    let before = root_usage()?.used;
    let supervisor = ok!(Supervisor::new(), "Supervisor::new");
    let endpoint = supervisor.endpoint();
    let (tx, rx) = mpsc::channel::<Seen>(LAZY_PAGES);
    let server = thread::spawn(move || -> Result<Vec<Mapping>, sys::Error> {
        let mut pages = Vec::new();
        for _ in 0..LAZY_PAGES {
            let fault = sys::fault::recv_fault(endpoint)?;
            let FaultKind::Page(pf) = fault.kind() else {
                // Not what this test makes: leave the worker waiting; the main thread reports it.
                return Ok(pages);
            };
            let page = pf.address & !(PAGE_SIZE - 1);
            let _ = tx.send(Seen { badge: fault.badge, page, access: pf.access, present: pf.present });
            match mmap::map_anonymous(1, access::RW, Place::At(page)) {
                Ok(m) => pages.push(m),
                Err(_) => return Ok(pages),
            }
            fault.resume()?;
        }
        Ok(pages)
    });
    let worker = ok!(
        Builder::new().supervised(&supervisor, BADGE).spawn(|| {
            let word = |i: usize| core::ptr::with_exposed_provenance_mut::<u64>(LAZY + i * PAGE_SIZE + 8 * i);
            for i in 0..LAZY_PAGES {
                // SAFETY: the supervisor maps each page of the lazy region, for this thread alone,
                // when the first touch faults; the retried write then lands in it.
                unsafe { core::ptr::write_volatile(word(i), 0x1000 + i as u64) };
            }
            // SAFETY: as above; all four pages are mapped by now.
            (0..LAZY_PAGES).map(|i| unsafe { core::ptr::read_volatile(word(i)) }).sum::<u64>()
        }),
        "spawn the supervised worker"
    );
    let sum = worker.join();
    let pages = match server.join() {
        Ok(Ok(pages)) => pages,
        other => fail!("the supervisor thread: {other:?}"),
    };
    ensure_eq!(sum, Ok((0..LAZY_PAGES as u64).map(|i| 0x1000 + i).sum::<u64>()), "the worker's sum");
    for i in 0..LAZY_PAGES {
        let page = LAZY + i * PAGE_SIZE;
        ensure_eq!(
            rx.try_recv(),
            Some(Seen { badge: BADGE, page, access: Access::Write, present: false }),
            "fault {i} as the supervisor saw it"
        );
    }
    ensure_eq!(rx.try_recv(), None, "faults beyond one per page");
    ensure_eq!(pages.len(), LAZY_PAGES, "pages the supervisor mapped");
    for (i, m) in pages.iter().enumerate() {
        // The worker's value, at its place in the page the supervisor mapped for it.
        let at = 8 * i;
        let value = u64::from_le_bytes(m.bytes()[at..at + 8].try_into().unwrap_or_default());
        ensure_eq!(value, 0x1000 + i as u64, "the value in page {i}, read through the supervisor's mapping");
    }
    drop(pages);
    drop(supervisor);
    ensure_eq!(root_usage()?.used, before, "root Memory used after the pages, threads and endpoint went");
    Ok(())
}

/// A worker executes `ud2`; the supervisor (the main thread here) reads the fault (invalid opcode
/// at its `rip`, no address, no error code) and resumes it two bytes on, past the instruction:
/// the worker returns normally.
fn resumes_past_an_instruction(_: &Boot) -> TestResult {
    let supervisor = ok!(Supervisor::new(), "Supervisor::new");
    let worker = ok!(
        Builder::new().supervised(&supervisor, 3).spawn(|| {
            // SAFETY: `ud2` raises an invalid-opcode exception and touches nothing; the supervisor
            // resumes the thread just past it, with every register as it was.
            unsafe { core::arch::asm!("ud2", options(nomem, nostack)) };
            77u32
        }),
        "spawn"
    );
    let fault = ok!(supervisor.recv(), "recv of the fault");
    ensure_eq!(
        (fault.badge, fault.kind(), fault.address, fault.error_code),
        (3, FaultKind::InvalidOpcode, 0, 0),
        "the fault"
    );
    let Some(task) = worker.task() else { fail!("the worker has no Task") };
    // `ud2` is two bytes long; `rip + 2` is the next instruction of the worker's own code, and it
    // runs with its registers and stack as they were.
    let next = fault.rip + 2;
    // SAFETY: as above.
    ok!(unsafe { fault.resume_at(task, next) }, "resume_at(rip + 2)");
    ensure_eq!(worker.join(), Ok(77), "the worker's value after it was resumed past ud2");
    Ok(())
}

/// A worker reads an address the supervisor will not map: the supervisor kills it with a status,
/// and `join` reports that status (the closure never returned). Its stack and objects come back.
fn kills_a_bad_access(_: &Boot) -> TestResult {
    let before = root_usage()?.used;
    let supervisor = ok!(Supervisor::new(), "Supervisor::new");
    let bad = LAZY + 0x1234_5000;
    let worker = ok!(
        Builder::new().supervised(&supervisor, 9).spawn(move || {
            // SAFETY: deliberately unchecked: this read faults and the thread is ended there.
            unsafe { core::ptr::read_volatile(core::ptr::with_exposed_provenance::<u64>(bad)) }
        }),
        "spawn"
    );
    let fault = ok!(supervisor.recv(), "recv of the fault");
    let FaultKind::Page(pf) = fault.kind() else { fail!("not a page fault: {fault:?}") };
    ensure_eq!((fault.badge, pf.address, pf.access, pf.present), (9, bad, Access::Read, false), "the fault");
    let Some(task) = worker.task() else { fail!("the worker has no Task") };
    // SAFETY: the worker is a thread of this program; its spaces are the root task's, which the
    // root task's own Task holds too, so its end unmaps nothing.
    ok!(unsafe { fault.kill(task, 0xdead) }, "kill");
    ensure_eq!(worker.join(), Err(JoinError::Killed(0xdead)), "join of the killed worker");
    drop(supervisor);
    ensure_eq!(root_usage()?.used, before, "root Memory used after the worker and the endpoint went");
    ensure!(thread::detached() == 0, "detached threads left");
    Ok(())
}
