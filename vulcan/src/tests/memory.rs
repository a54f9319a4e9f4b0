//! Tests of Memory quotas and of what is made from them: `memory_split`, `memory_info` and
//! `cspace_create`, each with every error it can return, and the accounting that ties them
//! together: charges, refunds on destruction, revoke of a Memory destroying everything made from
//! it, and exhaustion.
//!
//! The ABI: `abi::syscall` (a split child costs its parent `pages + 1`; a CSpace costs
//! `abi::object::cspace_pages(radix)`; destruction is refunded, and `memory_info` finishes pending
//! destruction before it answers), `abi::object` (`MAX_QUOTA`, `MAX_RADIX`), docs/objects.md (an
//! object holds a reference on the Memory it is charged to).
//!
//! Every test runs [`isolated`], which also checks that the root Memory's `used` is back at its
//! value from before the test.

use sys::abi::Error::{
    DerivationTooDeep, InsufficientRights, InvalidArgument, InvalidCapability, OutOfMemory, QuotaExceeded, Restart,
    SlotOccupied, WrongKind,
};
use sys::abi::bootcaps::{FIRST_FREE, ROOT_CSPACE, ROOT_DEBUG_CONSOLE, ROOT_MEMORY};
use sys::abi::object::{MAX_DERIVATION_DEPTH, MAX_QUOTA, MAX_RADIX, MEMORY_PAGES, cspace_pages};
use sys::abi::syscall::SLOT_AUTO;
use sys::syscall as raw;
use sys::{Boot, CSpace, Cap, Identity, Kind, Memory, MemoryInfo, Slot, rights, root};

use super::support::{
    SLOTS, SPARE, delete, delete_any, ensure_empty, ensure_identity, isolated, memory_copy, new_cspace, root_usage,
    split_root,
};
use crate::harness::{Reason, Test, TestResult, ensure, ensure_eq, fail, ok};

/// Deletes a CSpace these tests made (or a copy of the root CSpace capability), failing the test
/// if that fails.
fn delete_cspace(cs: impl Into<Cap>) -> TestResult {
    // SAFETY: the CSpaces these tests make hold nothing but copies of the console and of CSpaces
    // made here, whose deaths unmap nothing; a copy of the root CSpace capability is not its last
    // reference (the root task's Task holds it), so nothing dies of it.
    unsafe { delete_any(cs.into()) }
}

pub const TESTS: &[Test] = &[
    Test::new("memory_info_root", |b| isolated(b, info_root)),
    Test::new("memory_info_through_copy", |b| isolated(b, info_through_copy)),
    Test::new("memory_info_errors", |b| isolated(b, info_errors)),
    Test::new("memory_split_charges_parent", |b| isolated(b, split_charges_parent)),
    Test::new("memory_split_explicit_slot", |b| isolated(b, split_explicit_slot)),
    Test::new("memory_split_quota_exceeded", |b| isolated(b, split_quota_exceeded)),
    Test::new("memory_split_all_free_quota", |b| isolated(b, split_all_free_quota)),
    Test::new("memory_split_invalid_pages", |b| isolated(b, split_invalid_pages)),
    Test::new("memory_split_wrong_kind", |b| isolated(b, split_wrong_kind)),
    Test::new("memory_split_without_write", |b| isolated(b, split_without_write)),
    Test::new("memory_split_slot_errors", |b| isolated(b, split_slot_errors)),
    Test::new("memory_split_from_child", |b| isolated(b, split_from_child)),
    Test::new("memory_make_derivation_too_deep", |b| isolated(b, make_derivation_too_deep)),
    Test::new("memory_delete_child_refunds", |b| isolated(b, delete_child_refunds)),
    Test::new("memory_outlives_its_objects", |b| isolated(b, outlives_its_objects)),
    Test::new("memory_info_restarts_while_destroying", |b| isolated(b, info_restarts_while_destroying)),
    Test::new("cspace_create_charges_exactly", |b| isolated(b, cspace_charges_exactly)),
    Test::new("cspace_create_identity", |b| isolated(b, cspace_identity)),
    Test::new("cspace_create_is_empty", |b| isolated(b, cspace_is_empty)),
    Test::new("cspace_create_invalid_radix", |b| isolated(b, cspace_invalid_radix)),
    Test::new("cspace_create_quota_exceeded", |b| isolated(b, cspace_quota_exceeded)),
    Test::new("cspace_create_memory_errors", |b| isolated(b, cspace_memory_errors)),
    Test::new("cspace_create_slot_errors", |b| isolated(b, cspace_slot_errors)),
    Test::new("memory_quota_exhausted_and_refunded", |b| isolated(b, quota_exhausted_and_refunded)),
    Test::new("memory_revoke_destroys_everything", |b| isolated(b, revoke_destroys_everything)),
    // Last: takes every free page, then gives them back.
    Test::new("memory_exhaustion_fails_cleanly", |b| isolated(b, exhaustion_fails_cleanly)),
];

/// Slots past the end of the root CSpace, up to the largest that is not `SLOT_AUTO`.
const OUT_OF_RANGE: [usize; 4] = [SLOTS, SLOTS + 1, 1 << 32, SLOT_AUTO - 1];

/// What a Memory capability made by `memory_split` is.
const NEW_MEMORY: Identity = Identity::new(Kind::Memory, rights::ALL, 0);

/// What a CSpace capability made by `cspace_create` is.
const NEW_CSPACE: Identity = Identity::new(Kind::CSpace, rights::ALL, 0);

/// `memory`'s quota and usage, every pending destruction finished.
fn usage(memory: Memory, what: &str) -> Result<MemoryInfo, Reason> {
    Ok(ok!(memory.info(), "memory_info({}) ({what})", memory.slot()))
}

/// Fails unless `memory` reads `(quota, used)`.
fn ensure_usage(memory: Memory, quota: usize, used: usize, what: &str) -> TestResult {
    let got = usage(memory, what)?;
    ensure_eq!(got, MemoryInfo { quota, used }, "memory_info({}) ({what})", memory.slot());
    Ok(())
}

/// Fails unless the root Memory has `extra` pages more in use than `start`.
fn ensure_root_used(start: MemoryInfo, extra: usize, what: &str) -> TestResult {
    let got = root_usage()?;
    ensure_eq!(got, MemoryInfo { quota: start.quota, used: start.used + extra }, "root Memory ({what})");
    Ok(())
}

fn info_root(boot: &Boot) -> TestResult {
    let info = root_usage()?;
    ensure!(info.quota > 0, "root Memory quota is 0");
    ensure!(info.used <= info.quota, "root Memory used {} exceeds its quota {}", info.used, info.quota);
    if let Some(ri) = boot.root_info() {
        ensure_eq!(info.quota as u64, ri.memory_quota, "root Memory quota against RootInfo::memory_quota");
    }
    ensure_eq!(root_usage()?, info, "memory_info asked twice");
    Ok(())
}

/// `memory_info` reports the object: a copy with READ reads the same as the original, and sees
/// a charge made through the original.
fn info_through_copy(_: &Boot) -> TestResult {
    let copy = memory_copy(rights::READ)?;
    let start = root_usage()?;
    ensure_eq!(usage(copy, "READ copy of the root Memory")?, start, "memory_info through a READ copy");
    let child = split_root(3)?;
    let after = usage(copy, "READ copy, after a split of the original")?;
    ensure_eq!(after, MemoryInfo { quota: start.quota, used: start.used + 4 }, "memory_info through the copy");
    delete(child.cap())?;
    delete(copy.cap())
}

fn info_errors(_: &Boot) -> TestResult {
    for (memory, err) in [
        (ROOT_CSPACE, WrongKind),
        (ROOT_DEBUG_CONSOLE, WrongKind),
        (0, InvalidCapability),
        (FIRST_FREE, InvalidCapability),
        (SLOTS, InvalidCapability),
        (SLOT_AUTO, InvalidCapability),
    ] {
        ensure_eq!(raw::memory_info(memory), Err(err.into()), "memory_info({memory:#x})");
    }
    for mask in [rights::WRITE, rights::ALL & !rights::READ, 0] {
        let copy = memory_copy(mask)?;
        let r = copy.info_step();
        ensure_eq!(r, Err(InsufficientRights.into()), "memory_info through a copy with rights {mask:#x}");
        delete(copy.cap())?;
    }
    // Kind is checked before rights: a CSpace copy without READ is still the wrong kind.
    let cs = ok!(root::cspace().copy(root::cspace(), Slot::Auto, 0), "copy of the root CSpace, no rights");
    ensure_eq!(raw::memory_info(cs.slot()), Err(WrongKind.into()), "memory_info of a CSpace copy without rights");
    delete_cspace(cs)
}

/// The parent is charged the child's quota and the child's own page; the child starts unused;
/// deleting it gives both back.
fn split_charges_parent(_: &Boot) -> TestResult {
    let start = root_usage()?;
    let child = split_root(10)?;
    ensure_identity(child.cap(), NEW_MEMORY, "split child")?;
    ensure_usage(child, 10, 0, "new child")?;
    ensure_root_used(start, 10 + MEMORY_PAGES, "after a split of 10")?;
    let second = split_root(1)?;
    ensure_usage(second, 1, 0, "second child")?;
    ensure_root_used(start, 10 + 1 + 2 * MEMORY_PAGES, "after a second split of 1")?;
    delete(child.cap())?;
    ensure_root_used(start, 1 + MEMORY_PAGES, "after deleting the first child")?;
    delete(second.cap())?;
    ensure_root_used(start, 0, "after deleting both")
}

fn split_explicit_slot(_: &Boot) -> TestResult {
    let child = ok!(root::memory().split(5, Slot::At(SPARE)), "memory_split to slot {SPARE}");
    ensure_eq!(child.slot(), SPARE, "slot returned");
    ensure_identity(child.cap(), NEW_MEMORY, "split child in an explicit slot")?;
    ensure_empty(Cap::new(FIRST_FREE), "FIRST_FREE")?;
    delete(child.cap())
}

/// A split must fit in the parent's free quota, its own page included; a refused split charges
/// nothing.
fn split_quota_exceeded(_: &Boot) -> TestResult {
    let child = split_root(10)?;
    ensure_eq!(child.split(10, Slot::Auto).map(Memory::cap), Err(QuotaExceeded.into()), "split of 10 (+1) from 10");
    ensure_usage(child, 10, 0, "after the refused split")?;
    let grandchild = ok!(child.split(9, Slot::Auto), "split of 9 (+1) from 10");
    ensure_usage(child, 10, 10, "after a split that takes all of it")?;
    ensure_eq!(child.split(1, Slot::Auto).map(Memory::cap), Err(QuotaExceeded.into()), "split from a full Memory");
    let free = root_usage()?.free();
    let r = root::memory().split(free, Slot::Auto).map(Memory::cap);
    ensure_eq!(r, Err(QuotaExceeded.into()), "split of all the root Memory's {free} free pages (+1)");
    delete(grandchild.cap())?;
    ensure_usage(child, 10, 0, "after deleting the grandchild")?;
    delete(child.cap())
}

/// A split can take every free page of the root Memory (its quota is a number: no page but the
/// child's own is allocated); then nothing more fits until it is deleted.
fn split_all_free_quota(_: &Boot) -> TestResult {
    let start = root_usage()?;
    ensure!(start.free() >= 2, "the root Memory has {} free pages; the test needs 2", start.free());
    let all = ok!(root::memory().split(start.free() - 1, Slot::Auto), "memory_split of all free pages");
    ensure_root_used(start, start.free(), "after splitting off everything")?;
    ensure_usage(all, start.free() - 1, 0, "the child holding everything")?;
    ensure_eq!(
        root::memory().split(1, Slot::Auto).map(Memory::cap),
        Err(QuotaExceeded.into()),
        "split from the full root"
    );
    let r = CSpace::create(root::memory(), 1, Slot::Auto).map(CSpace::cap);
    ensure_eq!(r, Err(QuotaExceeded.into()), "cspace_create from the full root");
    // The child can make things.
    let cs = new_cspace(all, 1)?;
    delete_cspace(cs)?;
    delete(all.cap())?;
    ensure_root_used(start, 0, "after deleting it")
}

/// 0 pages, and more than `MAX_QUOTA`, whether or not the quota would allow it.
fn split_invalid_pages(_: &Boot) -> TestResult {
    let start = root_usage()?;
    let child = split_root(10)?;
    for pages in [0, MAX_QUOTA + 1, usize::MAX / 2, usize::MAX] {
        for memory in [root::memory(), child] {
            let r = memory.split(pages, Slot::Auto).map(Memory::cap);
            ensure_eq!(r, Err(InvalidArgument.into()), "memory_split(slot {}, {pages:#x} pages)", memory.slot());
        }
    }
    if start.quota < MAX_QUOTA {
        let r = root::memory().split(MAX_QUOTA, Slot::Auto).map(Memory::cap);
        ensure_eq!(r, Err(QuotaExceeded.into()), "memory_split(root, MAX_QUOTA) with a smaller quota");
    }
    ensure_usage(child, 10, 0, "after refused splits")?;
    ensure_root_used(start, 11, "after refused splits")?;
    delete(child.cap())
}

fn split_wrong_kind(_: &Boot) -> TestResult {
    for (memory, err) in [
        (ROOT_CSPACE, WrongKind),
        (ROOT_DEBUG_CONSOLE, WrongKind),
        (0, InvalidCapability),
        (FIRST_FREE, InvalidCapability),
        (SLOTS, InvalidCapability),
        (SLOT_AUTO, InvalidCapability),
    ] {
        ensure_eq!(raw::memory_split(memory, 1, SLOT_AUTO), Err(err.into()), "memory_split({memory:#x}, 1)");
    }
    ensure_empty(Cap::new(FIRST_FREE), "FIRST_FREE after refused splits")
}

/// Split needs WRITE (READ is not needed): the charge goes to the object the copy names.
fn split_without_write(_: &Boot) -> TestResult {
    let start = root_usage()?;
    for mask in [rights::READ, rights::ALL & !rights::WRITE, 0] {
        let copy = memory_copy(mask)?;
        let r = copy.split(1, Slot::Auto).map(Memory::cap);
        ensure_eq!(r, Err(InsufficientRights.into()), "memory_split through a copy with rights {mask:#x}");
        delete(copy.cap())?;
    }
    let write_only = memory_copy(rights::WRITE)?;
    let child = ok!(write_only.split(4, Slot::Auto), "memory_split through a WRITE-only copy");
    ensure_root_used(start, 5, "after a split through a copy")?;
    delete(child.cap())?;
    delete(write_only.cap())
}

/// An occupied or out-of-range destination; nothing is charged for a refused split.
fn split_slot_errors(_: &Boot) -> TestResult {
    let start = root_usage()?;
    for (dst, err) in [(ROOT_MEMORY, SlotOccupied), (ROOT_CSPACE, SlotOccupied)]
        .into_iter()
        .chain(OUT_OF_RANGE.map(|s| (s, InvalidCapability)))
    {
        let r = raw::memory_split(ROOT_MEMORY, 1, dst);
        ensure_eq!(r, Err(err.into()), "memory_split(root, 1, slot {dst:#x})");
    }
    ensure_root_used(start, 0, "after refused splits")
}

/// A child can be split again; each level is charged to its own parent only.
fn split_from_child(_: &Boot) -> TestResult {
    let start = root_usage()?;
    let child = split_root(20)?;
    let grandchild = ok!(child.split(5, Slot::Auto), "memory_split from a child");
    ensure_identity(grandchild.cap(), NEW_MEMORY, "grandchild")?;
    ensure_usage(grandchild, 5, 0, "grandchild")?;
    ensure_usage(child, 20, 6, "child after a split of 5")?;
    ensure_root_used(start, 21, "root after a split from its child")?;
    let cs = new_cspace(grandchild, 1)?;
    ensure_usage(grandchild, 5, cspace_pages(1), "grandchild after a CSpace made from it")?;
    ensure_usage(child, 20, 6, "child after a CSpace made from its child")?;
    delete_cspace(cs)?;
    delete(grandchild.cap())?;
    ensure_usage(child, 20, 0, "child after deleting the grandchild")?;
    delete(child.cap())
}

/// A new object's capability is a child of the Memory capability it was made with, so a Memory
/// capability at the deepest derivation depth can make nothing; a refused call charges nothing.
fn make_derivation_too_deep(_: &Boot) -> TestResult {
    let start = root_usage()?;
    let mut chain = [Cap::new(0); MAX_DERIVATION_DEPTH];
    let mut last = root::memory().cap();
    for (i, link) in chain.iter_mut().enumerate() {
        last = ok!(last.copy(root::cspace(), Slot::Auto, rights::ALL), "copy of the root Memory at depth {}", i + 1);
        *link = last;
    }
    let deepest = Memory::new(last);
    let r = deepest.split(1, Slot::Auto).map(Memory::cap);
    ensure_eq!(r, Err(DerivationTooDeep.into()), "memory_split through a Memory copy at depth {MAX_DERIVATION_DEPTH}");
    let r = CSpace::create(deepest, 1, Slot::Auto).map(CSpace::cap);
    ensure_eq!(r, Err(DerivationTooDeep.into()), "cspace_create through a Memory copy at depth {MAX_DERIVATION_DEPTH}");
    ensure_root_used(start, 0, "after the refused calls")?;
    let shallower = Memory::new(chain[MAX_DERIVATION_DEPTH - 2]);
    let child =
        ok!(shallower.split(1, Slot::Auto), "memory_split through a copy at depth {}", MAX_DERIVATION_DEPTH - 1);
    ensure_root_used(start, 2, "after a split one level up")?;
    delete(child.cap())?;
    // SAFETY: what derives from the first copy is the rest of the chain (copies of the root
    // Memory); the one Memory split from it is deleted above. No object dies.
    ok!(unsafe { chain[0].revoke() }, "cap_revoke of the chain");
    delete(chain[0])
}

/// Deleting the last capability to a child refunds the parent exactly.
fn delete_child_refunds(_: &Boot) -> TestResult {
    let start = root_usage()?;
    let child = split_root(7)?;
    let copy = ok!(child.copy(root::cspace(), Slot::Auto, rights::ALL), "copy of the child");
    delete(child.cap())?;
    ensure_root_used(start, 8, "a copy still names the child")?;
    ensure_usage(Memory::new(copy), 7, 0, "the child through its copy")?;
    delete(copy)?;
    ensure_root_used(start, 0, "after deleting the last capability to the child")
}

/// An object made from a Memory holds it alive: deleting the child's last capability while a
/// CSpace made from it exists keeps the charge, and deleting the CSpace then refunds everything.
fn outlives_its_objects(_: &Boot) -> TestResult {
    let start = root_usage()?;
    let child = split_root(10)?;
    let cs = new_cspace(child, 2)?;
    delete(child.cap())?;
    ensure_root_used(start, 11, "child's capability deleted, a CSpace made from it alive")?;
    ensure_identity(cs.cap(), NEW_CSPACE, "the CSpace made from the deleted child")?;
    ok!(root::console().copy(cs, Slot::Auto, rights::ALL), "copy into that CSpace");
    delete_cspace(cs)?;
    ensure_root_used(start, 0, "after deleting the CSpace")
}

/// Destroying a big CSpace takes bounded steps: `memory_info` answers `Restart` until it is done,
/// and the refund is then exact.
fn info_restarts_while_destroying(_: &Boot) -> TestResult {
    let pages = cspace_pages(MAX_RADIX);
    let memory = split_root(pages)?;
    let cs = ok!(CSpace::create(memory, MAX_RADIX, Slot::Auto), "cspace_create(radix {MAX_RADIX})");
    ensure_usage(memory, pages, pages, "after a CSpace of the largest radix")?;
    delete_cspace(cs)?;
    let mut restarts = 0usize;
    let info = loop {
        match memory.info_step() {
            Ok(info) => break info,
            Err(e) if e == Restart => restarts += 1,
            Err(e) => fail!("memory_info step {}: unexpected error {e:?}", restarts + 1),
        }
        ensure!(restarts <= 1 << 20, "memory_info still says Restart after {restarts} steps");
    };
    ensure_eq!(info, MemoryInfo { quota: pages, used: 0 }, "memory_info once it stopped restarting");
    ensure!(restarts >= 1, "destroying 2^{MAX_RADIX} slots finished without a single Restart: not bounded steps?");
    delete(memory.cap())
}

/// Every radix is charged exactly `cspace_pages(radix)`, and refunded on delete.
fn cspace_charges_exactly(_: &Boot) -> TestResult {
    let quota = cspace_pages(MAX_RADIX);
    let memory = split_root(quota)?;
    for radix in 1..=MAX_RADIX {
        let cs = ok!(CSpace::create(memory, radix, Slot::Auto), "cspace_create(radix {radix})");
        let used = usage(memory, "after cspace_create")?.used;
        ensure_eq!(used, cspace_pages(radix), "pages charged for a CSpace of radix {radix}");
        delete_cspace(cs)?;
        ensure_usage(memory, quota, 0, "after deleting the CSpace")?;
    }
    delete(memory.cap())
}

fn cspace_identity(_: &Boot) -> TestResult {
    let cs = new_cspace(root::memory(), 4)?;
    ensure_identity(cs.cap(), NEW_CSPACE, "new CSpace")?;
    let explicit = ok!(CSpace::create(root::memory(), 1, Slot::At(SPARE)), "cspace_create to slot {SPARE}");
    ensure_eq!(explicit.slot(), SPARE, "slot returned");
    ensure_identity(explicit.cap(), NEW_CSPACE, "new CSpace in an explicit slot")?;
    delete_cspace(cs)?;
    delete_cspace(explicit)
}

/// Every slot of a new CSpace is empty: an explicit copy into each succeeds (but slot 0, the
/// null slot). Its slots cannot be identified from here.
fn cspace_is_empty(_: &Boot) -> TestResult {
    for radix in [1, 3, 6] {
        let cs = new_cspace(root::memory(), radix)?;
        let r = root::console().copy(cs, Slot::At(0), rights::ALL);
        ensure_eq!(r, Err(InvalidCapability.into()), "copy into slot 0 of a new CSpace of radix {radix}");
        for slot in 1..1usize << radix {
            let r = root::console().copy(cs, Slot::At(slot), rights::ALL);
            ensure_eq!(r, Ok(Cap::new(slot)), "copy into slot {slot} of a new CSpace of radix {radix}");
        }
        let r = root::console().copy(cs, Slot::At(1 << radix), rights::ALL);
        ensure_eq!(r, Err(InvalidCapability.into()), "copy into slot {} of a CSpace of radix {radix}", 1 << radix);
        delete_cspace(cs)?;
    }
    Ok(())
}

fn cspace_invalid_radix(_: &Boot) -> TestResult {
    let start = root_usage()?;
    for radix in [0, MAX_RADIX + 1, 64, usize::MAX] {
        let r = CSpace::create(root::memory(), radix, Slot::Auto).map(CSpace::cap);
        ensure_eq!(r, Err(InvalidArgument.into()), "cspace_create(radix {radix:#x})");
    }
    ensure_empty(Cap::new(FIRST_FREE), "FIRST_FREE after refused creates")?;
    ensure_root_used(start, 0, "after refused creates")
}

/// A CSpace must fit in the Memory's free quota; a refused one charges nothing.
fn cspace_quota_exceeded(_: &Boot) -> TestResult {
    let quota = cspace_pages(8) - 1;
    let memory = split_root(quota)?;
    let r = CSpace::create(memory, 8, Slot::Auto).map(CSpace::cap);
    ensure_eq!(r, Err(QuotaExceeded.into()), "cspace_create(radix 8, {} pages) from {quota}", cspace_pages(8));
    ensure_usage(memory, quota, 0, "after the refused create")?;
    let seven = ok!(CSpace::create(memory, 7, Slot::Auto), "cspace_create(radix 7) from {quota}");
    ensure_usage(memory, quota, cspace_pages(7), "after a CSpace of radix 7")?;
    let r = CSpace::create(memory, 1, Slot::Auto).map(CSpace::cap);
    ensure_eq!(r, Err(QuotaExceeded.into()), "cspace_create(radix 1) from what is left");
    ensure_usage(memory, quota, cspace_pages(7), "after the second refused create")?;
    delete_cspace(seven)?;
    delete(memory.cap())
}

/// The Memory argument: kind, emptiness, range, and WRITE (READ not needed).
fn cspace_memory_errors(_: &Boot) -> TestResult {
    let start = root_usage()?;
    for (memory, err) in [
        (ROOT_CSPACE, WrongKind),
        (ROOT_DEBUG_CONSOLE, WrongKind),
        (0, InvalidCapability),
        (FIRST_FREE, InvalidCapability),
        (SLOTS, InvalidCapability),
        (SLOT_AUTO, InvalidCapability),
    ] {
        ensure_eq!(raw::cspace_create(memory, 1, SLOT_AUTO), Err(err.into()), "cspace_create(memory {memory:#x})");
    }
    for mask in [rights::READ, rights::ALL & !rights::WRITE, 0] {
        let copy = memory_copy(mask)?;
        let r = CSpace::create(copy, 1, Slot::Auto).map(CSpace::cap);
        ensure_eq!(r, Err(InsufficientRights.into()), "cspace_create through a Memory copy with rights {mask:#x}");
        delete(copy.cap())?;
    }
    let write_only = memory_copy(rights::WRITE)?;
    let cs = ok!(CSpace::create(write_only, 1, Slot::Auto), "cspace_create through a WRITE-only Memory copy");
    ensure_root_used(start, cspace_pages(1), "after a CSpace made through a copy")?;
    delete_cspace(cs)?;
    delete(write_only.cap())
}

/// An occupied or out-of-range destination; nothing is charged for a refused create.
fn cspace_slot_errors(_: &Boot) -> TestResult {
    let start = root_usage()?;
    for (dst, err) in [(ROOT_MEMORY, SlotOccupied), (ROOT_DEBUG_CONSOLE, SlotOccupied)]
        .into_iter()
        .chain(OUT_OF_RANGE.map(|s| (s, InvalidCapability)))
    {
        let r = raw::cspace_create(ROOT_MEMORY, 1, dst);
        ensure_eq!(r, Err(err.into()), "cspace_create(root, radix 1, slot {dst:#x})");
    }
    ensure_root_used(start, 0, "after refused creates")
}

/// Makes CSpaces of radix 1 from `memory` until the quota runs out; returns how many (in
/// `made[..n]`).
fn fill_with_cspaces(memory: Memory, made: &mut [Cap]) -> Result<usize, Reason> {
    for (n, slot) in made.iter_mut().enumerate() {
        match CSpace::create(memory, 1, Slot::Auto) {
            Ok(cs) => *slot = cs.cap(),
            Err(e) if e == QuotaExceeded => return Ok(n),
            Err(e) => fail!("cspace_create {}: unexpected error {e:?}", n + 1),
        }
    }
    fail!("{} CSpaces made and still no QuotaExceeded", made.len())
}

/// A small Memory runs out with `QuotaExceeded` after exactly as many CSpaces as its quota
/// pays for; deleting some frees room for as many again; revoking it refunds everything.
fn quota_exhausted_and_refunded(_: &Boot) -> TestResult {
    const COUNT: usize = 10;
    let start = root_usage()?;
    let each = cspace_pages(1);
    let quota = COUNT * each;
    let memory = split_root(quota)?;
    let mut made = [Cap::new(0); COUNT + 1];
    let n = fill_with_cspaces(memory, &mut made)?;
    ensure_eq!(n, COUNT, "CSpaces of {each} pages made from a quota of {quota}");
    ensure_usage(memory, quota, quota, "when exhausted")?;
    for &cs in &made[..3] {
        delete_cspace(cs)?;
    }
    ensure_usage(memory, quota, quota - 3 * each, "after deleting three")?;
    let again = fill_with_cspaces(memory, &mut made[..4])?;
    ensure_eq!(again, 3, "CSpaces made again after deleting three");
    // SAFETY: all that was made from the Memory is empty CSpaces.
    ok!(unsafe { memory.revoke() }, "cap_revoke of the Memory");
    for &cs in &made[..COUNT] {
        ensure_empty(cs, "a CSpace after revoke of its Memory")?;
    }
    ensure_usage(memory, quota, 0, "after revoke")?;
    let again = fill_with_cspaces(memory, &mut made)?;
    ensure_eq!(again, COUNT, "CSpaces made after revoke");
    // SAFETY: as above: empty CSpaces.
    ok!(unsafe { memory.revoke() }, "second cap_revoke of the Memory");
    delete(memory.cap())?;
    ensure_root_used(start, 0, "after deleting the Memory")
}

/// Revoking a Memory destroys every object made from it or from its children, wherever their
/// capabilities are (also in a CSpace not made from it); the Memory itself stays, unused.
fn revoke_destroys_everything(_: &Boot) -> TestResult {
    let start = root_usage()?;
    let memory = split_root(300)?;
    let outside = new_cspace(root::memory(), 2)?;
    let a = new_cspace(memory, 2)?;
    let a_copy = ok!(a.copy(root::cspace(), Slot::Auto, rights::READ), "copy of a CSpace made from the Memory");
    ok!(a.copy(outside, Slot::At(1), rights::ALL), "copy into a CSpace not made from the Memory");
    let child = ok!(memory.split(50, Slot::Auto), "split from the Memory");
    let b = new_cspace(child, 3)?;
    let grandchild = ok!(child.split(10, Slot::Auto), "split from the child");
    let c = new_cspace(grandchild, 1)?;
    ok!(root::console().copy(b, Slot::Auto, rights::ALL), "copy into a CSpace made from the child");
    let outside_pages = cspace_pages(2);
    ensure_root_used(start, 301 + outside_pages, "with everything made")?;
    // SAFETY: what was made from the Memory and its children is Memory and CSpaces holding
    // nothing but a copy of the console.
    ok!(unsafe { memory.revoke() }, "cap_revoke of the Memory");
    for (cap, what) in [
        (a.cap(), "CSpace made from the Memory"),
        (a_copy, "copy of that CSpace"),
        (child.cap(), "child Memory"),
        (b.cap(), "CSpace made from the child"),
        (grandchild.cap(), "grandchild Memory"),
        (c.cap(), "CSpace made from the grandchild"),
    ] {
        ensure_empty(cap, what)?;
    }
    ensure_usage(memory, 300, 0, "the revoked Memory")?;
    ensure_identity(memory.cap(), NEW_MEMORY, "the revoked Memory itself")?;
    let r = root::console().copy(outside, Slot::At(1), rights::ALL);
    ensure_eq!(r, Ok(Cap::new(1)), "copy into the slot the revoke emptied in the other CSpace");
    ensure_root_used(start, 301 + outside_pages, "after the revoke")?;
    delete_cspace(outside)?;
    delete(memory.cap())?;
    ensure_root_used(start, 0, "after deleting the Memory")
}

/// How a round of making objects until failure ended.
fn exhausted(e: sys::Error, what: &str) -> TestResult {
    ensure!(e == QuotaExceeded || e == OutOfMemory, "{what}: unexpected error {e:?}");
    Ok(())
}

/// Takes every free page: a child Memory with all the root Memory's free quota makes CSpaces
/// (largest first, then smaller) and child Memories until each kind fails. Every failure must be
/// `QuotaExceeded` or `OutOfMemory` (the quota may exceed the pages really free), nothing is
/// charged for it, and revoking the child gives every page back: the root Memory reads as before
/// and a big CSpace can be made again.
fn exhaustion_fails_cleanly(_: &Boot) -> TestResult {
    let start = root_usage()?;
    ensure!(start.free() >= 2, "the root Memory has {} free pages", start.free());
    let all = ok!(root::memory().split(start.free() - 1, Slot::Auto), "memory_split of all free pages");
    let mut made = 0usize;
    for radix in [MAX_RADIX, 12, 6, 1] {
        loop {
            let before = usage(all, "before a create")?;
            match CSpace::create(all, radix, Slot::Auto) {
                Ok(_) => made += 1,
                Err(e) => {
                    exhausted(e, "cspace_create")?;
                    ensure_eq!(usage(all, "after a refused create")?, before, "usage after a refused create");
                    break;
                }
            }
            ensure!(made < SLOTS - FIRST_FREE - 2, "{made} CSpaces made and memory not yet exhausted");
        }
    }
    loop {
        let before = usage(all, "before a split")?;
        match all.split(1, Slot::Auto) {
            Ok(_) => made += 1,
            Err(e) => {
                exhausted(e, "memory_split")?;
                ensure_eq!(usage(all, "after a refused split")?, before, "usage after a refused split");
                break;
            }
        }
        ensure!(made < SLOTS - FIRST_FREE - 2, "{made} objects made and memory not yet exhausted");
    }
    // SAFETY: all that was made from it is empty CSpaces and Memory.
    ok!(unsafe { all.revoke() }, "cap_revoke of the Memory holding {made} objects");
    ensure_usage(all, start.free() - 1, 0, "after revoke")?;
    delete(all.cap())?;
    ensure_root_used(start, 0, "after deleting the exhausted Memory")?;
    let big = ok!(CSpace::create(root::memory(), MAX_RADIX, Slot::Auto), "cspace_create(radix {MAX_RADIX}) afterwards");
    delete_cspace(big)
}
