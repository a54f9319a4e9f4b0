//! Tests of the capability calls: `cap_identify`, `cap_copy`, `cap_mint`, `cap_move`,
//! `cap_delete` and `cap_revoke`, each with every error it can return.
//!
//! The ABI: `abi::syscall` (the calls and their errors), `abi::object` (kinds, rights,
//! `MAX_DERIVATION_DEPTH`), `abi::bootcaps` (the root task's CSpace: the CSpace itself in slot 1,
//! the root Memory in 2, the debug console in 3, IoPortControl in 5; every slot from
//! `FIRST_FREE` on empty, and automatic slots never below it). Slot 0 of every CSpace is the null
//! slot: never holds a capability, `InvalidCapability` as a source or a destination, reported
//! empty by `cap_identify`.
//!
//! Only the root task's CSpace can be looked into (`cap_identify` names a slot of the caller's
//! CSpace), so what lands in another CSpace is seen through what the kernel refuses
//! (`SlotOccupied`, `NoFreeSlot`) and through revoke. A copy of the root CSpace capability names
//! the root CSpace itself, so copying "into" it puts the capability where `cap_identify` sees it.
//!
//! Every test runs [`isolated`]: it deletes what it makes, and the harness wrapper checks that.

use sys::abi::Error::{
    DerivationTooDeep, InsufficientRights, InvalidArgument, InvalidCapability, NoFreeSlot, SlotOccupied, WrongKind,
};
use sys::abi::bootcaps::{FIRST_FREE, ROOT_CSPACE, ROOT_DEBUG_CONSOLE, ROOT_IOPORT_CONTROL, ROOT_MEMORY};
use sys::abi::object::{MAX_DERIVATION_DEPTH, cspace_pages};
use sys::abi::syscall::SLOT_AUTO;
use sys::syscall as raw;
use sys::{Boot, CSpace, Cap, DebugConsole, Identity, Kind, Memory, Slot, rights, root};

use super::support::{
    BOOT_CAPS, LAST_FREE, SLOTS, SPARE, console_copy, cspace_copy, delete, delete_any, ensure_empty, ensure_identity,
    identify, isolated, memory_copy, new_cspace, root_usage,
};
use crate::harness::{Reason, Test, TestResult, ensure, ensure_eq, fail, ok};
use crate::marker::marker;

/// Deletes a CSpace these tests made, or a copy of the root CSpace capability, failing the test
/// if that fails.
fn delete_cspace(cs: CSpace) -> TestResult {
    // SAFETY: the CSpaces these tests make hold nothing but copies of the console and of the root
    // Memory capability, whose deaths unmap nothing; a copy of the root CSpace capability is not
    // its last reference (the root task's Task holds it), so nothing dies of it.
    unsafe { delete_any(cs.cap()) }
}

pub const TESTS: &[Test] = &[
    Test::new("cap_identify_boot_caps", |b| isolated(b, identify_boot_caps)),
    Test::new("cap_identify_empty_slots", |b| isolated(b, identify_empty_slots)),
    Test::new("cap_identify_out_of_range", |b| isolated(b, identify_out_of_range)),
    Test::new("cap_copy_auto_slot", |b| isolated(b, copy_auto_slot)),
    Test::new("cap_copy_explicit_slot", |b| isolated(b, copy_explicit_slot)),
    Test::new("cap_copy_explicit_slot_below_first_free", |b| isolated(b, copy_explicit_below_first_free)),
    Test::new("cap_null_slot_as_destination", |b| isolated(b, null_slot_as_destination)),
    Test::new("cap_copy_slot_occupied", |b| isolated(b, copy_slot_occupied)),
    Test::new("cap_copy_dst_slot_out_of_range", |b| isolated(b, copy_dst_slot_out_of_range)),
    Test::new("cap_copy_empty_source", |b| isolated(b, copy_empty_source)),
    Test::new("cap_copy_dst_not_cspace", |b| isolated(b, copy_dst_not_cspace)),
    Test::new("cap_copy_dst_cspace_without_write", |b| isolated(b, copy_dst_without_write)),
    Test::new("cap_copy_rights_mask", |b| isolated(b, copy_rights_mask)),
    Test::new("cap_copy_into_other_cspace", |b| isolated(b, copy_into_other_cspace)),
    Test::new("cap_mint_badge_not_badgeable", |b| isolated(b, mint_badge_not_badgeable)),
    Test::new("cap_mint_badge_zero", |b| isolated(b, mint_badge_zero)),
    Test::new("cap_mint_errors", |b| isolated(b, mint_errors)),
    Test::new("cap_move_moves", |b| isolated(b, move_moves)),
    Test::new("cap_move_keeps_derivation", |b| isolated(b, move_keeps_derivation)),
    Test::new("cap_move_onto_itself", |b| isolated(b, move_onto_itself)),
    Test::new("cap_move_into_other_cspace", |b| isolated(b, move_into_other_cspace)),
    Test::new("cap_move_errors", |b| isolated(b, move_errors)),
    Test::new("cap_delete_empties_slot", |b| isolated(b, delete_empties_slot)),
    Test::new("cap_delete_invalid", |b| isolated(b, delete_invalid)),
    Test::new("cap_delete_keeps_children", |b| isolated(b, delete_keeps_children)),
    Test::new("cap_revoke_flat_300", |b| isolated(b, revoke_flat)),
    Test::new("cap_revoke_nested_300", |b| isolated(b, revoke_nested)),
    Test::new("cap_revoke_steps_restart", |b| isolated(b, revoke_steps_restart)),
    Test::new("cap_revoke_no_children", |b| isolated(b, revoke_no_children)),
    Test::new("cap_revoke_only_descendants", |b| isolated(b, revoke_only_descendants)),
    Test::new("cap_revoke_invalid", |b| isolated(b, revoke_invalid)),
    Test::new("cap_derivation_depth", |b| isolated(b, derivation_depth)),
    Test::new("cap_no_free_slot_small_cspace", |b| isolated(b, no_free_slot_small_cspace)),
    Test::new("cap_no_free_slot_root_cspace", |b| isolated(b, no_free_slot_root_cspace)),
];

/// What a copy of the root console with all its rights is.
const CONSOLE: Identity = Identity::new(Kind::DebugConsole, rights::READ | rights::WRITE, 0);

/// Slots past the end of the root CSpace, up to the largest that is not `SLOT_AUTO`.
const OUT_OF_RANGE: [usize; 4] = [SLOTS, SLOTS + 1, 1 << 32, SLOT_AUTO - 1];

/// Copies made for the revoke tests.
const MANY: usize = 300;

/// Most deletions one `cap_revoke` call makes (docs/objects.md, `REVOKE_STEP`).
const REVOKE_STEP: usize = 64;

fn identify_boot_caps(_: &Boot) -> TestResult {
    for (slot, expected) in BOOT_CAPS {
        ensure_identity(Cap::new(slot), expected, "boot capability")?;
    }
    ensure_identity(root::cspace().cap(), BOOT_CAPS[0].1, "sys::root::cspace()")?;
    ensure_identity(root::memory().cap(), BOOT_CAPS[1].1, "sys::root::memory()")?;
    ensure_identity(root::console().cap(), CONSOLE, "sys::root::console()")?;
    let ioport_control = Identity::new(Kind::IoPortControl, rights::ALL, 0);
    ensure_identity(Cap::new(ROOT_IOPORT_CONTROL), ioport_control, "boot capability")
}

/// Slot 0, the null slot, reads as empty, and so does every slot from `FIRST_FREE` to the
/// runtime's own at the top (`LAST_FREE`).
fn identify_empty_slots(_: &Boot) -> TestResult {
    ensure_empty(Cap::new(0), "slot 0")?;
    for slot in FIRST_FREE..=LAST_FREE {
        ensure_empty(Cap::new(slot), "at or past FIRST_FREE")?;
    }
    Ok(())
}

/// Only a slot outside the CSpace is an error; the last slot is in it (and holds the runtime's
/// park Note).
fn identify_out_of_range(_: &Boot) -> TestResult {
    for slot in OUT_OF_RANGE.into_iter().chain([SLOT_AUTO]) {
        ensure_eq!(Cap::new(slot).identify(), Err(InvalidCapability.into()), "cap_identify({slot:#x})");
    }
    let last = identify(Cap::new(SLOTS - 1), "the last slot")?;
    ensure_eq!(last.kind, Ok(Kind::Note), "what the last slot holds (the runtime's park Note)");
    ensure_empty(Cap::new(LAST_FREE), "the highest slot below the runtime's")
}

/// `SLOT_AUTO` picks the lowest free slot, and reuses one freed below the others.
fn copy_auto_slot(_: &Boot) -> TestResult {
    let a = console_copy(rights::ALL)?;
    ensure_eq!(a.slot(), FIRST_FREE, "first automatic slot (slots below FIRST_FREE are the kernel's)");
    ensure_identity(a, CONSOLE, "automatic copy")?;
    let b = console_copy(rights::ALL)?;
    ensure_eq!(b.slot(), FIRST_FREE + 1, "second automatic slot");
    delete(a)?;
    let c = console_copy(rights::ALL)?;
    ensure_eq!(c.slot(), FIRST_FREE, "automatic slot after the lowest one was emptied");
    let d = ok!(root::console().copy(root::cspace(), Slot::At(FIRST_FREE + 2), rights::ALL), "explicit copy");
    let e = console_copy(rights::ALL)?;
    ensure_eq!(e.slot(), FIRST_FREE + 3, "automatic slot skips an explicitly filled one");
    for cap in [b, c, d, e] {
        delete(cap)?;
    }
    Ok(())
}

/// An explicit slot is used and returned, the highest one the runtime leaves included.
fn copy_explicit_slot(_: &Boot) -> TestResult {
    let a = ok!(root::console().copy(root::cspace(), Slot::At(SPARE), rights::ALL), "copy to slot {SPARE}");
    ensure_eq!(a.slot(), SPARE, "slot returned");
    ensure_identity(a, CONSOLE, "explicit copy")?;
    let last = LAST_FREE;
    let b = ok!(root::memory().copy(root::cspace(), Slot::At(last), rights::ALL), "copy to the last free slot");
    ensure_eq!(b.slot(), last, "slot returned");
    ensure_identity(b, Identity::new(Kind::Memory, rights::ALL, 0), "copy in the last slot")?;
    ensure_empty(Cap::new(FIRST_FREE), "FIRST_FREE, untouched by explicit copies")?;
    delete(a)?;
    delete(b)
}

/// `SLOT_AUTO` never picks a slot below `FIRST_FREE`, but an empty one there can be named.
fn copy_explicit_below_first_free(_: &Boot) -> TestResult {
    let mut empty = None;
    for slot in 1..FIRST_FREE {
        if identify(Cap::new(slot), "below FIRST_FREE")?.is_null() {
            empty = Some(slot);
            break;
        }
    }
    let auto = console_copy(rights::ALL)?;
    ensure_eq!(auto.slot(), FIRST_FREE, "automatic slot, with slots below FIRST_FREE empty");
    delete(auto)?;
    let Some(slot) = empty else {
        // Every reserved slot holds a boot capability: nothing more to try.
        return Ok(());
    };
    let r = root::console().copy(root::cspace(), Slot::At(slot), rights::ALL);
    ensure_eq!(r, Ok(Cap::new(slot)), "explicit copy to the empty reserved slot {slot}");
    ensure_identity(Cap::new(slot), CONSOLE, "copy in a reserved slot")?;
    delete(Cap::new(slot))
}

/// Slot 0 is never a destination: copy, mint, move, `memory_split` and `cspace_create` to it are
/// `InvalidCapability`, in the root CSpace and in a new one, and nothing is made.
fn null_slot_as_destination(_: &Boot) -> TestResult {
    let before = root_usage()?;
    let a = console_copy(rights::ALL)?;
    let other = new_cspace(root::memory(), 2)?;
    for (dst, name) in [(root::cspace(), "root CSpace"), (other, "a new CSpace")] {
        let r = root::console().copy(dst, Slot::At(0), rights::ALL);
        ensure_eq!(r, Err(InvalidCapability.into()), "cap_copy to slot 0 of the {name}");
        let r = root::console().mint(dst, Slot::At(0), rights::ALL, 0);
        ensure_eq!(r, Err(InvalidCapability.into()), "cap_mint to slot 0 of the {name}");
        ensure_eq!(a.move_to(dst, Slot::At(0)), Err(InvalidCapability.into()), "cap_move to slot 0 of the {name}");
        ensure_identity(a, CONSOLE, "the source of the refused move")?;
    }
    let r = root::memory().split(1, Slot::At(0)).map(Memory::cap);
    ensure_eq!(r, Err(InvalidCapability.into()), "memory_split to slot 0");
    let r = CSpace::create(root::memory(), 1, Slot::At(0)).map(CSpace::cap);
    ensure_eq!(r, Err(InvalidCapability.into()), "cspace_create to slot 0");
    ensure_empty(Cap::new(0), "slot 0")?;
    ensure_eq!(root_usage()?.used, before.used + cspace_pages(2), "root Memory used: only the new CSpace charged");
    delete(a)?;
    delete_cspace(other)
}

/// An occupied destination is refused and left as it was, a boot capability's slot included.
fn copy_slot_occupied(_: &Boot) -> TestResult {
    let a = ok!(root::console().copy(root::cspace(), Slot::At(SPARE), rights::ALL), "copy to slot {SPARE}");
    let again = root::memory().copy(root::cspace(), Slot::At(SPARE), rights::ALL);
    ensure_eq!(again, Err(SlotOccupied.into()), "copy of the root Memory onto the console copy");
    ensure_identity(a, CONSOLE, "the occupied slot after the refused copy")?;
    ensure_eq!(a.copy(root::cspace(), Slot::At(SPARE), rights::ALL), Err(SlotOccupied.into()), "copy onto itself");
    let onto_boot = root::console().copy(root::cspace(), Slot::At(ROOT_MEMORY), rights::ALL);
    ensure_eq!(onto_boot, Err(SlotOccupied.into()), "copy onto the root Memory's slot");
    ensure_identity(root::memory().cap(), BOOT_CAPS[1].1, "root Memory after the refused copy")?;
    ensure_empty(Cap::new(FIRST_FREE), "FIRST_FREE after refused copies")?;
    delete(a)
}

/// A destination slot outside the destination CSpace: the root one, and a CSpace of 4 slots.
fn copy_dst_slot_out_of_range(_: &Boot) -> TestResult {
    for slot in OUT_OF_RANGE {
        let r = root::console().copy(root::cspace(), Slot::At(slot), rights::ALL);
        ensure_eq!(r, Err(InvalidCapability.into()), "copy to slot {slot:#x} of the root CSpace");
    }
    let small = new_cspace(root::memory(), 2)?;
    let r = root::console().copy(small, Slot::At(4), rights::ALL);
    ensure_eq!(r, Err(InvalidCapability.into()), "copy to slot 4 of a 4-slot CSpace");
    let r = root::console().copy(small, Slot::At(3), rights::ALL);
    ensure_eq!(r, Ok(Cap::new(3)), "copy to slot 3 of a 4-slot CSpace");
    delete_cspace(small)
}

/// An empty or out-of-range source.
fn copy_empty_source(_: &Boot) -> TestResult {
    for src in [0, FIRST_FREE, SPARE, LAST_FREE].into_iter().chain(OUT_OF_RANGE).chain([SLOT_AUTO]) {
        for dst in [SLOT_AUTO, SPARE] {
            let r = raw::cap_copy(src, ROOT_CSPACE, dst, rights::ALL);
            ensure_eq!(r, Err(InvalidCapability.into()), "cap_copy(src {src:#x}, root CSpace, slot {dst:#x})");
        }
    }
    Ok(())
}

/// The destination CSpace capability is not a CSpace, or names nothing.
fn copy_dst_not_cspace(_: &Boot) -> TestResult {
    for (dst_cspace, err) in [
        (ROOT_MEMORY, WrongKind),
        (ROOT_DEBUG_CONSOLE, WrongKind),
        (0, InvalidCapability),
        (FIRST_FREE, InvalidCapability),
        (SLOTS, InvalidCapability),
        (SLOT_AUTO, InvalidCapability),
    ] {
        let r = raw::cap_copy(ROOT_DEBUG_CONSOLE, dst_cspace, SLOT_AUTO, rights::ALL);
        ensure_eq!(r, Err(err.into()), "cap_copy(root console, dst_cspace {dst_cspace:#x}, auto)");
    }
    let memory = memory_copy(rights::ALL)?;
    let r = raw::cap_copy(ROOT_DEBUG_CONSOLE, memory.slot(), SLOT_AUTO, rights::ALL);
    ensure_eq!(r, Err(WrongKind.into()), "cap_copy into a copy of the root Memory");
    delete(memory.cap())
}

/// A CSpace capability without WRITE cannot be copied into; one with only WRITE can.
fn copy_dst_without_write(_: &Boot) -> TestResult {
    for mask in [rights::ALL & !rights::WRITE, rights::READ, 0] {
        let cs = cspace_copy(mask)?;
        for slot in [Slot::Auto, Slot::At(SPARE)] {
            let r = root::console().copy(cs, slot, rights::ALL);
            ensure_eq!(r, Err(InsufficientRights.into()), "copy into a CSpace copy with rights {mask:#x}, {slot:?}");
        }
        delete_cspace(cs)?;
    }
    let writable = cspace_copy(rights::WRITE)?;
    let a = ok!(root::console().copy(writable, Slot::At(SPARE), rights::ALL), "copy into a WRITE-only CSpace copy");
    // The copy names the root CSpace, so the new capability is visible here.
    ensure_identity(a, CONSOLE, "copy made through a WRITE-only copy of the root CSpace")?;
    delete(a)?;
    delete_cspace(writable)
}

/// The mask keeps only rights the source has: never more, undefined bits ignored.
fn copy_rights_mask(_: &Boot) -> TestResult {
    use rights::{ALL, EXECUTE, GRANT, READ, WRITE};
    let memory = |r| Identity::new(Kind::Memory, r, 0);
    let mut made = [Cap::new(0); 8];
    let mut n = 0;
    for (mask, expected) in
        [(READ, READ), (READ | WRITE, READ | WRITE), (usize::MAX, ALL), (EXECUTE | GRANT, EXECUTE | GRANT), (0, 0)]
    {
        let m = memory_copy(mask)?;
        ensure_identity(m.cap(), memory(expected), "copy of the root Memory with a rights mask")?;
        made[n] = m.cap();
        n += 1;
    }
    let read_only = made[0];
    let wider = ok!(read_only.copy(root::cspace(), Slot::Auto, ALL), "copy of a READ copy with ALL");
    ensure_identity(wider, memory(READ), "a copy never gains rights")?;
    let none = ok!(read_only.copy(root::cspace(), Slot::Auto, WRITE), "copy of a READ copy with WRITE");
    ensure_identity(none, memory(0), "disjoint mask")?;
    let console = console_copy(EXECUTE)?;
    ensure_identity(console, Identity::new(Kind::DebugConsole, 0, 0), "console (READ, WRITE) copied with EXECUTE")?;
    for cap in [wider, none, console].into_iter().chain(made[..n].iter().copied()) {
        delete(cap)?;
    }
    Ok(())
}

/// Copies into a new CSpace land in its slots: the lowest free first (slot 1: slot 0 is the null
/// slot), and a used slot is then occupied. Deleting the CSpace deletes them with it (the
/// isolation check sees the refund).
fn copy_into_other_cspace(_: &Boot) -> TestResult {
    let other = new_cspace(root::memory(), 3)?;
    let r = root::console().copy(other, Slot::At(5), rights::ALL);
    ensure_eq!(r, Ok(Cap::new(5)), "copy to slot 5 of the new CSpace");
    ensure_eq!(root::console().copy(other, Slot::At(5), rights::ALL), Err(SlotOccupied.into()), "copy to slot 5 again");
    ensure_eq!(root::console().copy(other, Slot::Auto, rights::ALL), Ok(Cap::new(1)), "first automatic slot there");
    ensure_eq!(root::memory().copy(other, Slot::Auto, rights::ALL), Ok(Cap::new(2)), "second automatic slot there");
    // Nothing landed in the root CSpace: the new CSpace took its first free slot, the next is
    // still empty.
    ensure_eq!(other.slot(), FIRST_FREE, "slot of the new CSpace");
    ensure_empty(Cap::new(FIRST_FREE + 1), "the root CSpace's next free slot")?;
    delete_cspace(other)
}

/// Neither the console, Memory nor CSpace kind carries a badge.
fn mint_badge_not_badgeable(_: &Boot) -> TestResult {
    for src in [ROOT_DEBUG_CONSOLE, ROOT_MEMORY, ROOT_CSPACE] {
        for badge in [1, 0x5eed, usize::MAX] {
            for dst in [SLOT_AUTO, SPARE] {
                let r = raw::cap_mint(src, ROOT_CSPACE, dst, rights::ALL, badge);
                ensure_eq!(r, Err(InvalidArgument.into()), "cap_mint(slot {src}, badge {badge:#x}, slot {dst:#x})");
            }
        }
    }
    ensure_empty(Cap::new(FIRST_FREE), "FIRST_FREE after refused mints")?;
    ensure_empty(Cap::new(SPARE), "the explicit destination after refused mints")
}

/// Badge 0 (none) works on any kind, and the rights mask applies as for a copy.
fn mint_badge_zero(_: &Boot) -> TestResult {
    let m = ok!(root::memory().mint(root::cspace(), Slot::Auto, rights::READ, 0), "cap_mint(root Memory, READ, 0)");
    ensure_identity(m, Identity::new(Kind::Memory, rights::READ, 0), "minted Memory")?;
    let wider = ok!(m.mint(root::cspace(), Slot::At(SPARE), rights::ALL, 0), "cap_mint of the minted copy, ALL");
    ensure_eq!(wider, Cap::new(SPARE), "explicit slot returned");
    ensure_identity(wider, Identity::new(Kind::Memory, rights::READ, 0), "a mint never gains rights")?;
    let c = ok!(root::console().mint(root::cspace(), Slot::Auto, rights::ALL, 0), "cap_mint(root console, ALL, 0)");
    ensure_identity(c, CONSOLE, "minted console")?;
    let line = marker("minted-console", "through a minted copy of the root console");
    let line = line.as_bytes();
    ensure_eq!(DebugConsole::new(c).write(line), Ok(line.len()), "debug_write through a minted console");
    for cap in [m, wider, c] {
        delete(cap)?;
    }
    Ok(())
}

/// `cap_mint` fails as `cap_copy` does.
fn mint_errors(_: &Boot) -> TestResult {
    let mint = |src, dst_cspace, dst| raw::cap_mint(src, dst_cspace, dst, rights::ALL, 0);
    for src in [0, FIRST_FREE, SLOTS, SLOT_AUTO] {
        ensure_eq!(mint(src, ROOT_CSPACE, SLOT_AUTO), Err(InvalidCapability.into()), "cap_mint from slot {src:#x}");
    }
    for (dst_cspace, err) in [
        (ROOT_MEMORY, WrongKind),
        (ROOT_DEBUG_CONSOLE, WrongKind),
        (FIRST_FREE, InvalidCapability),
        (SLOTS, InvalidCapability),
    ] {
        let r = mint(ROOT_DEBUG_CONSOLE, dst_cspace, SLOT_AUTO);
        ensure_eq!(r, Err(err.into()), "cap_mint into dst_cspace {dst_cspace:#x}");
    }
    let read_only = cspace_copy(rights::READ)?;
    let r = mint(ROOT_DEBUG_CONSOLE, read_only.slot(), SLOT_AUTO);
    ensure_eq!(r, Err(InsufficientRights.into()), "cap_mint into a CSpace copy without WRITE");
    ensure_eq!(
        mint(ROOT_DEBUG_CONSOLE, ROOT_CSPACE, ROOT_MEMORY),
        Err(SlotOccupied.into()),
        "cap_mint onto the root Memory"
    );
    for dst in OUT_OF_RANGE {
        ensure_eq!(
            mint(ROOT_DEBUG_CONSOLE, ROOT_CSPACE, dst),
            Err(InvalidCapability.into()),
            "cap_mint to slot {dst:#x}"
        );
    }
    ensure_identity(root::memory().cap(), BOOT_CAPS[1].1, "root Memory after the refused mint")?;
    delete_cspace(read_only)
}

/// The capability arrives in the destination and the source is empty; moving it back with
/// `SLOT_AUTO` takes the lowest free slot, which is where it came from.
fn move_moves(_: &Boot) -> TestResult {
    let a = console_copy(rights::ALL)?;
    let b = ok!(a.move_to(root::cspace(), Slot::At(SPARE)), "cap_move to slot {SPARE}");
    ensure_eq!(b, Cap::new(SPARE), "slot returned");
    ensure_identity(b, CONSOLE, "moved capability")?;
    ensure_empty(a, "the source after the move")?;
    let back = ok!(b.move_to(root::cspace(), Slot::Auto), "cap_move to an automatic slot");
    ensure_eq!(back, a, "automatic slot of the move back");
    ensure_empty(b, "the first destination after the move back")?;
    let line = marker("moved-console", "through a copy of the root console moved there and back");
    let line = line.as_bytes();
    ensure_eq!(DebugConsole::new(back).write(line), Ok(line.len()), "debug_write through a moved console");
    delete(back)
}

/// A moved capability keeps its children, and a moved child stays its parent's: revoke finds
/// both after the moves.
fn move_keeps_derivation(_: &Boot) -> TestResult {
    let parent = console_copy(rights::ALL)?;
    let child = ok!(parent.copy(root::cspace(), Slot::Auto, rights::ALL), "copy of the parent");
    let parent = ok!(parent.move_to(root::cspace(), Slot::At(SPARE)), "cap_move of the parent");
    let second = ok!(parent.copy(root::cspace(), Slot::Auto, rights::ALL), "second child");
    let second = ok!(second.move_to(root::cspace(), Slot::At(SPARE + 1)), "cap_move of the second child");
    ok!(DebugConsole::new(parent).revoke(), "cap_revoke of the moved parent");
    ensure_empty(child, "child made before its parent moved, after revoke")?;
    ensure_empty(second, "moved child, after revoke of its parent")?;
    ensure_identity(parent, CONSOLE, "the revoked parent itself")?;
    delete(parent)
}

/// Moving a slot onto itself is `SlotOccupied`, also through another capability to the same
/// CSpace, and leaves the capability where it was.
fn move_onto_itself(_: &Boot) -> TestResult {
    let a = console_copy(rights::ALL)?;
    ensure_eq!(a.move_to(root::cspace(), Slot::At(a.slot())), Err(SlotOccupied.into()), "cap_move onto itself");
    let alias = cspace_copy(rights::WRITE)?;
    ensure_eq!(a.move_to(alias, Slot::At(a.slot())), Err(SlotOccupied.into()), "cap_move onto itself via a copy");
    ensure_identity(a, CONSOLE, "the capability after the refused moves")?;
    delete(a)?;
    delete_cspace(alias)
}

/// A capability moved into another CSpace leaves this one, occupies its new slot there, and is
/// still deleted by revoking its parent (which frees that slot again).
fn move_into_other_cspace(_: &Boot) -> TestResult {
    let other = new_cspace(root::memory(), 2)?;
    let parent = console_copy(rights::ALL)?;
    let child = ok!(parent.copy(root::cspace(), Slot::Auto, rights::ALL), "copy of the parent");
    let r = child.move_to(other, Slot::At(3));
    ensure_eq!(r, Ok(Cap::new(3)), "cap_move into slot 3 of the other CSpace");
    ensure_empty(child, "the source after the move")?;
    let r = root::console().copy(other, Slot::At(3), rights::ALL);
    ensure_eq!(r, Err(SlotOccupied.into()), "copy onto the moved capability's new slot");
    ok!(DebugConsole::new(parent).revoke(), "cap_revoke of the parent");
    let r = root::console().copy(other, Slot::At(3), rights::ALL);
    ensure_eq!(r, Ok(Cap::new(3)), "copy into the slot the revoke emptied");
    delete(parent)?;
    delete_cspace(other)
}

/// `cap_move`'s errors; the source stays where it is after each. (The source is put in an
/// explicit slot, so that the empty sources tried stay empty whichever slots are automatic.)
fn move_errors(_: &Boot) -> TestResult {
    let a = ok!(root::console().copy(root::cspace(), Slot::At(SPARE + 1), rights::ALL), "copy of the console");
    for src in [0, SPARE, SLOTS, SLOT_AUTO] {
        let r = raw::cap_move(src, ROOT_CSPACE, SLOT_AUTO);
        ensure_eq!(r, Err(InvalidCapability.into()), "cap_move from slot {src:#x}");
    }
    let read_only = cspace_copy(rights::ALL & !rights::WRITE)?;
    for (dst_cspace, dst, err) in [
        (ROOT_MEMORY, SLOT_AUTO, WrongKind),
        (ROOT_DEBUG_CONSOLE, SPARE, WrongKind),
        (SPARE, SLOT_AUTO, InvalidCapability),
        (SLOTS, SLOT_AUTO, InvalidCapability),
        (read_only.slot(), SPARE, InsufficientRights),
        (ROOT_CSPACE, SLOTS, InvalidCapability),
        (ROOT_CSPACE, SLOT_AUTO - 1, InvalidCapability),
        (ROOT_CSPACE, ROOT_MEMORY, SlotOccupied),
    ] {
        let r = raw::cap_move(a.slot(), dst_cspace, dst);
        ensure_eq!(r, Err(err.into()), "cap_move(slot {}, dst_cspace {dst_cspace:#x}, slot {dst:#x})", a.slot());
        ensure_identity(a, CONSOLE, "the source after a refused move")?;
    }
    ensure_identity(root::memory().cap(), BOOT_CAPS[1].1, "root Memory after a refused move onto it")?;
    delete(a)?;
    delete_cspace(read_only)
}

fn delete_empties_slot(_: &Boot) -> TestResult {
    let a = console_copy(rights::ALL)?;
    ok!(DebugConsole::new(a).delete(), "cap_delete of a copy");
    ensure_empty(a, "the deleted slot")?;
    // SAFETY: the slot is empty (checked just above): the kernel refuses, and nothing dies.
    let again = unsafe { a.delete() };
    ensure_eq!(again, Err(InvalidCapability.into()), "cap_delete of the emptied slot");
    ensure_identity(root::console().cap(), CONSOLE, "the original after its copy was deleted")
}

/// Empty and out-of-range slots.
fn delete_invalid(_: &Boot) -> TestResult {
    for slot in [0, FIRST_FREE, LAST_FREE].into_iter().chain(OUT_OF_RANGE).chain([SLOT_AUTO]) {
        // SAFETY: the null slot, slots isolated tests leave empty, and slots outside the CSpace:
        // the kernel refuses each, and nothing dies.
        let r = unsafe { Cap::new(slot).delete() };
        ensure_eq!(r, Err(InvalidCapability.into()), "cap_delete({slot:#x})");
    }
    Ok(())
}

/// Deleting a capability leaves what was derived from it, now under its parent: revoking the
/// parent removes it.
fn delete_keeps_children(_: &Boot) -> TestResult {
    let parent = console_copy(rights::ALL)?;
    let middle = ok!(parent.copy(root::cspace(), Slot::Auto, rights::ALL), "copy of the parent");
    let leaf = ok!(middle.copy(root::cspace(), Slot::Auto, rights::ALL), "copy of the copy");
    delete(middle)?;
    ensure_identity(leaf, CONSOLE, "the child of a deleted capability")?;
    ok!(DebugConsole::new(parent).revoke(), "cap_revoke of the grandparent");
    ensure_empty(leaf, "the grandchild after revoke of its grandparent")?;
    ensure_identity(parent, CONSOLE, "the revoked capability")?;
    delete(parent)
}

/// `MANY` copies of `parent` in automatic slots.
fn flat_copies(parent: Cap) -> Result<[Cap; MANY], Reason> {
    let mut caps = [Cap::new(0); MANY];
    for (i, cap) in caps.iter_mut().enumerate() {
        *cap = ok!(parent.copy(root::cspace(), Slot::Auto, rights::ALL), "copy {i} of {MANY}");
    }
    Ok(caps)
}

fn ensure_all_empty(caps: &[Cap], what: &str) -> TestResult {
    for &cap in caps {
        ensure_empty(cap, what)?;
    }
    Ok(())
}

fn revoke_flat(_: &Boot) -> TestResult {
    let parent = console_copy(rights::ALL)?;
    let caps = flat_copies(parent)?;
    ok!(DebugConsole::new(parent).revoke(), "cap_revoke of a capability with {MANY} children");
    ensure_all_empty(&caps, "a child after revoke")?;
    ensure_identity(parent, CONSOLE, "the revoked capability itself")?;
    ensure_identity(root::console().cap(), CONSOLE, "the root console")?;
    delete(parent)
}

/// A chain 50 deep below the parent, each link with 5 more children: `MANY` descendants.
fn revoke_nested(_: &Boot) -> TestResult {
    const CHAIN: usize = 50;
    const FAN: usize = MANY / CHAIN - 1;
    let parent = console_copy(rights::ALL)?;
    let mut caps = [Cap::new(0); MANY];
    let mut n = 0;
    let mut link = parent;
    for depth in 0..CHAIN {
        link = ok!(link.copy(root::cspace(), Slot::Auto, rights::ALL), "chain link {depth}");
        caps[n] = link;
        n += 1;
        for i in 0..FAN {
            caps[n] = ok!(link.copy(root::cspace(), Slot::Auto, rights::ALL), "leaf {i} of link {depth}");
            n += 1;
        }
    }
    ensure_eq!(n, MANY, "descendants made");
    ok!(DebugConsole::new(parent).revoke(), "cap_revoke of a tree of {MANY}");
    ensure_all_empty(&caps, "a descendant after revoke")?;
    ensure_identity(parent, CONSOLE, "the revoked capability itself")?;
    delete(parent)
}

/// One step deletes at most `REVOKE_STEP` capabilities and says `Restart` while any is left.
fn revoke_steps_restart(_: &Boot) -> TestResult {
    let parent = console_copy(rights::ALL)?;
    let caps = flat_copies(parent)?;
    let first = DebugConsole::new(parent).revoke_step();
    ensure_eq!(first, Err(sys::abi::Error::Restart.into()), "first cap_revoke step with {MANY} children");
    let gone = caps.iter().filter(|c| c.identify().is_ok_and(|id| id.is_null())).count();
    ensure!(
        (1..=REVOKE_STEP).contains(&gone),
        "one step deleted {gone} of {MANY} children; expected 1 to {REVOKE_STEP}"
    );
    ensure_identity(parent, CONSOLE, "the capability being revoked, mid-revoke")?;
    let mut restarts = 1;
    loop {
        match DebugConsole::new(parent).revoke_step() {
            Ok(()) => break,
            Err(e) if e == sys::abi::Error::Restart => restarts += 1,
            Err(e) => fail!("cap_revoke step {} failed: {e:?}", restarts + 1),
        }
        ensure!(restarts <= MANY, "cap_revoke still says Restart after {restarts} steps");
    }
    let least = MANY.div_ceil(REVOKE_STEP) - 1;
    ensure!(restarts >= least, "{restarts} Restarts for {MANY} deletions; at most {REVOKE_STEP} a step needs {least}");
    ensure_all_empty(&caps, "a child after the last step")?;
    ensure_identity(parent, CONSOLE, "the revoked capability itself")?;
    delete(parent)
}

/// Nothing to delete: done on the first call, nothing changed.
fn revoke_no_children(_: &Boot) -> TestResult {
    let a = console_copy(rights::ALL)?;
    ensure_eq!(DebugConsole::new(a).revoke_step(), Ok(()), "cap_revoke step of a capability with no children");
    ensure_identity(a, CONSOLE, "the capability after revoke")?;
    ensure_identity(root::console().cap(), CONSOLE, "its parent after revoke")?;
    delete(a)
}

/// Revoke deletes descendants only: not the capability's siblings or parent.
fn revoke_only_descendants(_: &Boot) -> TestResult {
    let parent = console_copy(rights::ALL)?;
    let a = ok!(parent.copy(root::cspace(), Slot::Auto, rights::ALL), "first child");
    let b = ok!(parent.copy(root::cspace(), Slot::Auto, rights::ALL), "second child");
    let under_a = ok!(a.copy(root::cspace(), Slot::Auto, rights::ALL), "grandchild");
    ok!(DebugConsole::new(a).revoke(), "cap_revoke of the first child");
    ensure_empty(under_a, "the first child's child")?;
    ensure_identity(a, CONSOLE, "the first child")?;
    ensure_identity(b, CONSOLE, "its sibling")?;
    ensure_identity(parent, CONSOLE, "its parent")?;
    for cap in [a, b, parent] {
        delete(cap)?;
    }
    Ok(())
}

fn revoke_invalid(_: &Boot) -> TestResult {
    for slot in [0, FIRST_FREE, LAST_FREE].into_iter().chain(OUT_OF_RANGE).chain([SLOT_AUTO]) {
        // SAFETY: as in `delete_invalid`: empty or outside the CSpace, so the kernel refuses.
        let r = unsafe { Cap::new(slot).revoke_step() };
        ensure_eq!(r, Err(InvalidCapability.into()), "cap_revoke({slot:#x})");
    }
    Ok(())
}

/// From the root console (a boot capability, underived), a chain of `MAX_DERIVATION_DEPTH`
/// copies works and one more is refused, by copy and mint alike. A move keeps the depth; a
/// sibling at the last allowed depth is fine.
fn derivation_depth(_: &Boot) -> TestResult {
    let mut chain = [Cap::new(0); MAX_DERIVATION_DEPTH];
    let mut last = root::console().cap();
    for (i, link) in chain.iter_mut().enumerate() {
        last = ok!(last.copy(root::cspace(), Slot::Auto, rights::ALL), "copy at derivation depth {}", i + 1);
        *link = last;
    }
    let r = last.copy(root::cspace(), Slot::Auto, rights::ALL);
    ensure_eq!(r, Err(DerivationTooDeep.into()), "copy at depth {}", MAX_DERIVATION_DEPTH + 1);
    let r = last.mint(root::cspace(), Slot::Auto, rights::ALL, 0);
    ensure_eq!(r, Err(DerivationTooDeep.into()), "mint at depth {}", MAX_DERIVATION_DEPTH + 1);
    let moved = ok!(last.move_to(root::cspace(), Slot::At(SPARE)), "cap_move of the deepest copy");
    let r = moved.copy(root::cspace(), Slot::Auto, rights::ALL);
    ensure_eq!(r, Err(DerivationTooDeep.into()), "copy of the moved deepest copy");
    let sibling = chain[MAX_DERIVATION_DEPTH - 2].copy(root::cspace(), Slot::Auto, rights::ALL);
    let sibling = ok!(sibling, "another copy at depth {MAX_DERIVATION_DEPTH}");
    ok!(DebugConsole::new(chain[0]).revoke(), "cap_revoke of the chain");
    ensure_empty(moved, "the deepest copy after revoke")?;
    ensure_empty(sibling, "the sibling after revoke")?;
    delete(chain[0])
}

/// A CSpace of 4 slots takes 3 automatic copies (slots 1 to 3, lowest first: slot 0 is the null
/// slot), then every way to put a capability in an automatic slot there is `NoFreeSlot`, and an
/// explicit one `SlotOccupied`.
fn no_free_slot_small_cspace(_: &Boot) -> TestResult {
    let small = new_cspace(root::memory(), 2)?;
    for expected in 1..4 {
        let r = root::console().copy(small, Slot::Auto, rights::ALL);
        ensure_eq!(r, Ok(Cap::new(expected)), "automatic copy {expected} into a 4-slot CSpace");
    }
    ensure_eq!(root::console().copy(small, Slot::Auto, rights::ALL), Err(NoFreeSlot.into()), "fourth copy");
    ensure_eq!(root::console().mint(small, Slot::Auto, rights::ALL, 0), Err(NoFreeSlot.into()), "mint");
    let a = console_copy(rights::ALL)?;
    ensure_eq!(a.move_to(small, Slot::Auto), Err(NoFreeSlot.into()), "move");
    ensure_identity(a, CONSOLE, "the source of the refused move")?;
    for slot in 1..4 {
        let r = root::console().copy(small, Slot::At(slot), rights::ALL);
        ensure_eq!(r, Err(SlotOccupied.into()), "explicit copy to slot {slot} of the full CSpace");
    }
    let r = root::console().copy(small, Slot::At(0), rights::ALL);
    ensure_eq!(r, Err(InvalidCapability.into()), "explicit copy to slot 0 of the full CSpace");
    delete(a)?;
    delete_cspace(small)
}

/// Fills every free slot of the root CSpace; then copy, mint, move, `memory_split` and
/// `cspace_create` to an automatic slot are all `NoFreeSlot`, and charge nothing. The slots below
/// `FIRST_FREE` are never picked, even when empty.
fn no_free_slot_root_cspace(_: &Boot) -> TestResult {
    let before = root_usage()?;
    let mut low = [Identity::new(Kind::Null, 0, 0); FIRST_FREE];
    for (slot, id) in low.iter_mut().enumerate() {
        *id = identify(Cap::new(slot), "below FIRST_FREE, before")?;
    }
    let parent = console_copy(rights::ALL)?;
    let mut filled = 1usize;
    loop {
        match parent.copy(root::cspace(), Slot::Auto, rights::ALL) {
            Ok(_) => filled += 1,
            Err(e) if e == NoFreeSlot => break,
            Err(e) => fail!("copy {filled} into the root CSpace: unexpected error {e:?}"),
        }
        ensure!(filled < SLOTS, "{filled} automatic copies and still no NoFreeSlot");
    }
    for slot in FIRST_FREE..SLOTS {
        let id = identify(Cap::new(slot), "after NoFreeSlot")?;
        ensure!(!id.is_null(), "slot {slot} is empty, yet an automatic copy was refused with NoFreeSlot");
    }
    ensure_eq!(filled, LAST_FREE + 1 - FIRST_FREE, "automatic copies that fitted (up to the runtime's slots)");
    for (slot, was) in low.into_iter().enumerate() {
        ensure_identity(Cap::new(slot), was, "below FIRST_FREE, with the CSpace full")?;
    }
    ensure_eq!(parent.mint(root::cspace(), Slot::Auto, rights::ALL, 0), Err(NoFreeSlot.into()), "mint");
    ensure_eq!(parent.move_to(root::cspace(), Slot::Auto), Err(NoFreeSlot.into()), "move");
    ensure_eq!(root::memory().split(1, Slot::Auto).map(Memory::cap), Err(NoFreeSlot.into()), "memory_split");
    let r = CSpace::create(root::memory(), 1, Slot::Auto).map(CSpace::cap);
    ensure_eq!(r, Err(NoFreeSlot.into()), "cspace_create");
    ensure_eq!(root_usage()?, before, "root Memory after the refused memory_split and cspace_create");
    ok!(DebugConsole::new(parent).revoke(), "cap_revoke of {filled} copies");
    delete(parent)
}
