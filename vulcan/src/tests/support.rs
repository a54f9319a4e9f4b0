//! What the capability tests share: the root task's boot capabilities as the ABI lays them out,
//! and [`isolated`], which runs a test and then checks (and restores) the state every test must
//! leave behind.
//!
//! Tests that make capabilities run isolated: afterwards every slot but the three boot
//! capabilities must be empty, the boot capabilities unchanged, and the root Memory's `used` back
//! at its value before the test. Whatever the test left is deleted, so the next test starts clean
//! even after a failure; a leak fails the test that leaked.
//!
//! Deleting: [`delete`] takes a capability of any kind whose death cannot unmap memory
//! ([`Cap::delete_checked`]: not a CSpace, a Task or a mapped Page, which it refuses); the tests
//! delete those three with the `unsafe` [`Cap::delete`], each saying why nothing the root task
//! uses goes with it.

use sys::abi::bootcaps::{FIRST_FREE, ROOT_CSPACE, ROOT_CSPACE_RADIX, ROOT_DEBUG_CONSOLE, ROOT_MEMORY};
use sys::{Boot, CSpace, Cap, Identity, Kind, Memory, MemoryInfo, Slot, rights, root};

use crate::harness::{Reason, TestResult, ensure, ensure_eq, fail, ok};

/// Slots in the root task's CSpace.
pub const SLOTS: usize = 1 << ROOT_CSPACE_RADIX;

/// The root task's initial capabilities and what `abi::bootcaps` says they are.
pub const BOOT_CAPS: [(usize, Identity); 3] = [
    (ROOT_CSPACE, Identity::new(Kind::CSpace, rights::ALL, 0)),
    (ROOT_MEMORY, Identity::new(Kind::Memory, rights::ALL, 0)),
    (ROOT_DEBUG_CONSOLE, Identity::new(Kind::DebugConsole, rights::READ | rights::WRITE, 0)),
];

/// The root Memory's quota and usage, every pending destruction finished, and without the stack
/// the runtime keeps for the next thread (`sys::thread::trim` gives it back first: it is the
/// runtime's cache, not what a test made).
pub fn root_usage() -> Result<MemoryInfo, Reason> {
    sys::thread::trim();
    Ok(ok!(root::memory().info(), "memory_info(root Memory)"))
}

/// What `cap` holds, or a failure naming `what`.
pub fn identify(cap: Cap, what: &str) -> Result<Identity, Reason> {
    Ok(ok!(cap.identify(), "cap_identify({}) ({what})", cap.slot()))
}

/// Fails unless `cap` is an empty slot.
pub fn ensure_empty(cap: Cap, what: &str) -> TestResult {
    let id = identify(cap, what)?;
    ensure!(id.is_null(), "slot {} ({what}) holds {id:?}; expected it empty", cap.slot());
    Ok(())
}

/// Fails unless `cap` holds exactly `expected`.
pub fn ensure_identity(cap: Cap, expected: Identity, what: &str) -> TestResult {
    let id = identify(cap, what)?;
    ensure_eq!(id, expected, "cap_identify({}) ({what})", cap.slot());
    Ok(())
}

/// A copy of the root console with `rights`, in the lowest free slot.
pub fn console_copy(rights: usize) -> Result<Cap, Reason> {
    Ok(ok!(root::console().copy(root::cspace(), Slot::Auto, rights), "cap_copy(root console, rights {rights:#x})"))
}

/// A copy of the root Memory with `rights`, in the lowest free slot.
pub fn memory_copy(rights: usize) -> Result<Memory, Reason> {
    let cap = ok!(root::memory().copy(root::cspace(), Slot::Auto, rights), "cap_copy(root Memory, rights {rights:#x})");
    Ok(Memory::new(cap))
}

/// A copy of the root CSpace with `rights`, in the lowest free slot.
pub fn cspace_copy(rights: usize) -> Result<CSpace, Reason> {
    let cap = ok!(root::cspace().copy(root::cspace(), Slot::Auto, rights), "cap_copy(root CSpace, rights {rights:#x})");
    Ok(CSpace::new(cap))
}

/// A Memory of `pages` split from the root Memory, in the lowest free slot.
pub fn split_root(pages: usize) -> Result<Memory, Reason> {
    Ok(ok!(root::memory().split(pages, Slot::Auto), "memory_split(root Memory, {pages})"))
}

/// A CSpace of `2^radix` slots made from `memory`, in the lowest free slot.
pub fn new_cspace(memory: Memory, radix: usize) -> Result<CSpace, Reason> {
    Ok(ok!(CSpace::create(memory, radix, Slot::Auto), "cspace_create(slot {}, radix {radix})", memory.slot()))
}

/// Deletes `cap`, failing the test if that fails, or if it is a CSpace, a Task or a mapped Page
/// (see the module docs).
pub fn delete(cap: Cap) -> TestResult {
    ok!(cap.delete_checked(), "cap_delete({})", cap.slot());
    Ok(())
}

/// Deletes `cap` with the `unsafe` [`Cap::delete`], failing the test if that fails: for the
/// CSpaces, Tasks and mapped Pages that [`delete`] refuses.
///
/// # Safety
///
/// The teardown contract (`sys::safety`): no Page mapped in the root task's VSpace that it or
/// one of its threads still uses may die of it.
pub unsafe fn delete_any(cap: Cap) -> TestResult {
    // SAFETY: the caller keeps the teardown contract.
    ok!(unsafe { cap.delete() }, "cap_delete({})", cap.slot());
    Ok(())
}

/// Runs `body`, then checks that it left the root task's capabilities as it found them (see the
/// module docs), deleting whatever it left. The test's own failure is reported first.
///
/// The slots below `FIRST_FREE` are compared with what they held before the test (the kernel
/// fills more of them as the ABI grows); every other slot must be empty afterwards.
pub fn isolated(boot: &Boot, body: fn(&Boot) -> TestResult) -> TestResult {
    let before = root_usage()?;
    let mut low = [Identity::new(Kind::Null, 0, 0); FIRST_FREE];
    for (slot, id) in low.iter_mut().enumerate() {
        *id = identify(Cap::new(slot), "before the test")?;
    }
    let mut kept = [Identity::new(Kind::Null, 0, 0); sys::process::RESERVED_SLOTS];
    for (n, id) in kept.iter_mut().enumerate() {
        if let Some(slot) = sys::process::reserved_slot(n) {
            *id = identify(Cap::new(slot), "before the test (a runtime slot)")?;
        }
    }
    // What a slot held before the test: the boot capabilities and the runtime's own slots are
    // compared with that; every other slot must be empty.
    let was = |slot: usize| {
        low.get(slot)
            .copied()
            .or_else(|| (0..kept.len()).find(|&n| sys::process::reserved_slot(n) == Some(slot)).map(|n| kept[n]))
            .unwrap_or(Identity::new(Kind::Null, 0, 0))
    };

    let result = body(boot);
    // A stack the runtime keeps for the next thread is not the test's leak.
    sys::thread::trim();

    let mut leaked = 0usize;
    let mut first: Option<(usize, Identity)> = None;
    let mut changed: Option<(usize, Identity, Identity)> = None;
    let mut sweep_error = None;
    for slot in 0..SLOTS {
        let was = was(slot);
        match Cap::new(slot).identify() {
            Ok(id) if id == was => {}
            Ok(id) if was.is_null() => {
                leaked += 1;
                first.get_or_insert((slot, id));
            }
            Ok(id) => {
                changed.get_or_insert((slot, was, id));
            }
            Err(e) => {
                sweep_error.get_or_insert((slot, e));
            }
        }
    }
    if leaked > 0 {
        sweep(&low, &mut sweep_error);
    }
    let after = root_usage();

    result?;
    if let Some((slot, was, now)) = changed {
        fail!("slot {slot} held {was:?} before the test and {now:?} after it");
    }
    if let Some((slot, e)) = sweep_error {
        fail!("cleanup: slot {slot} could not be identified or deleted: {e:?}");
    }
    if let Some((slot, id)) = first {
        fail!("left {leaked} capabilities behind (the first in slot {slot}: {id:?}); deleted them");
    }
    let after = after?;
    ensure_eq!(after, before, "root Memory (quota, used) after the test, against before it");
    Ok(())
}

/// Deletes what a test left in the root CSpace: every slot that was empty before it (`low` holds
/// what the slots below `FIRST_FREE` held), Tasks first, then CSpaces, then everything else;
/// records the first error in `error`.
fn sweep(low: &[Identity], error: &mut Option<(usize, sys::Error)>) {
    let left = |slot: usize, kind: Option<Kind>| {
        let was = low.get(slot).copied().unwrap_or(Identity::new(Kind::Null, 0, 0));
        was.is_null()
            && !sys::process::is_reserved(slot)
            && Cap::new(slot).identify().is_ok_and(|id| match kind {
                Some(kind) => id.kind == Ok(kind),
                None => !id.is_null(),
            })
    };
    for kind in [Some(Kind::Task), Some(Kind::CSpace), None] {
        for slot in (0..SLOTS).filter(|&slot| left(slot, kind)) {
            // SAFETY: the test has returned, and the root task keeps no reference or pointer
            // into memory a test mapped (tests reach it only through raw pointers, within their
            // own scope), so nothing the root task uses can be unmapped. The order keeps the
            // test's threads off memory that goes: their stacks are static or Pages whose
            // capabilities stay in the root CSpace (`space::root_stack`), and their Tasks are
            // deleted first, which stops them; then the CSpaces, whose teardown (finished by
            // `memory_info` below) stops any task only they held; then the Pages and the rest.
            if let Err(e) = unsafe { Cap::new(slot).delete() } {
                error.get_or_insert((slot, e));
            }
        }
        if let Err(e) = root::memory().info() {
            error.get_or_insert((ROOT_MEMORY, e));
        }
    }
}

/// An empty slot of the root CSpace for tests that name slots explicitly, far from where
/// automatic slots go.
pub const SPARE: usize = SLOTS / 2;

/// The highest slot the program has to itself: above it are the runtime's own
/// (`sys::process::RESERVED_SLOTS`, its park Note and page-table Memory).
pub const LAST_FREE: usize = SLOTS - 1 - sys::process::RESERVED_SLOTS;
