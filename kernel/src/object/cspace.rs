//! CSpace objects: tables of `2^radix` capability slots, and the capability operations on them.
//!
//! A CSpace is two page runs: a header (the object header, the radix, a two-level bitmap of free
//! slots for O(1) automatic slot choice) and the slots themselves, 64 bytes each. Both are charged
//! to the Memory it was made from: [`abi::object::cspace_pages`] pages in all.
//!
//! The operations here check what the capability library owns (occupied and free slots, derivation
//! depth, badges) and leave to `uapi` what belongs to the call (which capability the caller named,
//! the rights the call needs).

use core::cell::Cell;

use abi::Error;
use abi::object::{Kind, MAX_RADIX, SLOT_BYTES, cspace_pages};
use abi::syscall::SLOT_AUTO;

use super::cdt::{self, Cap, Slot, SlotRef};
use super::{Ctx, Header, ObjRef, Object, create};

const L2_OFFSET: usize = 256;
const L1_WORDS: usize = 16;

#[repr(C)]
struct CSpaceObj {
    hdr: Header,
    radix: Cell<u32>,
    used: Cell<u32>,
    slots_phys: Cell<u64>,
    slots_pages: Cell<u64>,
    slots: Cell<*mut Slot>,
    /// Teardown progress: the next bitmap word to empty.
    reap_cursor: Cell<u64>,
    /// Slots below this are never chosen automatically; slot 0 never holds a capability.
    reserved: Cell<u32>,
    /// The last slot's index, `2^radix - 1` (for the fast paths' one-comparison range check).
    last: Cell<u64>,
    /// Bit `i` set: word `i` of the second level has a free slot.
    l1: [Cell<u64>; L1_WORDS],
}

// SAFETY: `repr(C)`, starts with the header, changing fields are cells, zero is valid for each
// (a null slot pointer until `init`).
unsafe impl Object for CSpaceObj {
    const KIND: Kind = Kind::CSpace;
}

const _: () = assert!(core::mem::size_of::<CSpaceObj>() <= L2_OFFSET);
const _: () = assert!(core::mem::size_of::<Slot>() == SLOT_BYTES);

fn obj<'a>(cs: ObjRef) -> &'a CSpaceObj {
    cs.get()
}

/// Second-level bitmap words (bit set = slot free), behind the header in the header run.
fn l2<'a>(cs: ObjRef) -> &'a [Cell<u64>] {
    let words = words(obj(cs).radix.get());
    // SAFETY: the header run holds `L2_OFFSET` bytes and then the bitmap, `words(radix)` words
    // (see `header_pages`), zeroed when made and reached only as cells, like the header; the
    // pointer is the run's own (not derived from the `&CSpaceObj`, which covers only the header).
    unsafe { core::slice::from_raw_parts(cs.base_ptr().add(L2_OFFSET).cast(), words) }
}

fn words(radix: u32) -> usize {
    (1usize << radix).div_ceil(64)
}

/// Number of slots.
pub fn len(cs: ObjRef) -> u64 {
    1 << obj(cs).radix.get()
}

/// Occupied slots.
pub fn used(cs: ObjRef) -> u64 {
    u64::from(obj(cs).used.get())
}

fn header_pages(radix: u32) -> u64 {
    (cspace_pages(radix as usize) - slot_pages(radix)) as u64
}

fn slot_pages(radix: u32) -> usize {
    ((SLOT_BYTES << radix) / 4096).max(1)
}

/// The slot at `index`, which must be below `len(cs)`.
fn slot_at(cs: ObjRef, index: usize) -> SlotRef {
    debug_assert!((index as u64) < len(cs));
    // SAFETY: `index` is in range of the live CSpace's slot array (made in `init`).
    unsafe { SlotRef::from_ptr(obj(cs).slots.get().add(index)) }
}

fn set_bit(word: &Cell<u64>, bit: usize, on: bool) {
    let w = word.get();
    word.set(if on { w | 1 << bit } else { w & !(1 << bit) });
}

fn init(cs: ObjRef, radix: u32, slots_phys: u64, slots: *mut Slot, reserved: u32) {
    // A fresh CSpace whose header run holds the bitmap and whose slot run holds `2^radix` zeroed
    // slots (a zeroed slot is an empty one: kind Null, no links).
    let o = obj(cs);
    o.radix.set(radix);
    o.last.set((1u64 << radix) - 1);
    o.slots_phys.set(slots_phys);
    o.slots_pages.set(slot_pages(radix) as u64);
    o.slots.set(slots);
    let n = 1usize << radix;
    let l2 = l2(cs);
    for (w, word) in l2.iter().enumerate() {
        let bits = (n - w * 64).min(64);
        word.set(if bits == 64 { u64::MAX } else { (1u64 << bits) - 1 });
        set_bit(&o.l1[w / 64], w % 64, true);
    }
    for i in 0..n {
        slot_at(cs, i).set_owner(cs);
    }
    let reserved = reserved.min(n as u32);
    o.reserved.set(reserved);
    for i in 0..reserved as usize {
        set_bit(&l2[i / 64], i % 64, false);
    }
    if l2[0].get() == 0 {
        set_bit(&o.l1[0], 0, false);
    }
}

fn create_with(ctx: &mut Ctx<'_>, memory: Option<ObjRef>, radix: usize, reserved: u32) -> Result<ObjRef, Error> {
    if radix == 0 || radix > MAX_RADIX {
        return Err(Error::InvalidArgument);
    }
    let radix = radix as u32;
    let charge = if memory.is_some() { cspace_pages(radix as usize) as u64 } else { 0 };
    // The slots are charged with the header; if they cannot be had, the header goes back to the
    // dead list and the whole charge is refunded when it is reaped below.
    let cs = create::<CSpaceObj>(ctx, memory, header_pages(radix), charge)?;
    let slots_phys = match ctx.pages.alloc(slot_pages(radix) as u64) {
        Ok(p) => p,
        Err(e) => {
            // The object was never published; with `slots_pages == 0` its teardown frees only the
            // header run and refunds the charge.
            cs.acquire();
            cs.release(ctx.dead);
            super::reap(ctx, 1);
            return Err(super::frame_error(e));
        }
    };
    let slots = ctx.pages.virt(slots_phys).cast::<Slot>();
    init(cs, radix, slots_phys, slots, reserved);
    Ok(cs)
}

/// Makes a CSpace of `2^radix` slots charged to `memory`. Slot 0 is the null slot.
pub fn create_in(ctx: &mut Ctx<'_>, memory: ObjRef, radix: usize) -> Result<ObjRef, Error> {
    create_with(ctx, Some(memory), radix, 1)
}

/// Makes the root task's CSpace, charged to nothing: slots below `reserved` are the kernel's to
/// fill and never chosen automatically.
pub fn create_root(ctx: &mut Ctx<'_>, radix: usize, reserved: u32) -> Result<ObjRef, Error> {
    create_with(ctx, None, radix, reserved.max(1))
}

/// The slot at `index`; `InvalidCapability` if out of range or 0 (the null slot). Slot 0 never
/// holds a capability, so a zeroed capability address is always caught.
pub fn slot(cs: ObjRef, index: u64) -> Result<SlotRef, Error> {
    if index == 0 || index >= len(cs) {
        return Err(Error::InvalidCapability);
    }
    Ok(slot_at(cs, index as usize))
}

/// The object and badge of the capability at `index`, if it is of `kind` with every right in
/// `need` (see [`SlotRef::object_with`]); `None` in every other case (slot 0, past the end,
/// empty, another kind, fewer rights), which the fast paths leave to the general path.
#[inline]
pub fn fast_object(cs: ObjRef, index: u64, kind: Kind, need: u8) -> Option<(ObjRef, u64)> {
    // Slot 0 (wrapping to the top) and slots past the end in one comparison.
    if index.wrapping_sub(1) >= obj(cs).last.get() {
        return None;
    }
    slot_at(cs, index as usize).object_with(kind, need)
}

/// The capability at `index`; `InvalidCapability` if out of range or empty.
pub fn lookup(cs: ObjRef, index: u64) -> Result<(SlotRef, Cap), Error> {
    let s = slot(cs, index)?;
    s.cap().map(|c| (s, c)).ok_or(Error::InvalidCapability)
}

fn index_of(s: SlotRef, cs: ObjRef) -> usize {
    // `s` is a slot of `cs` (its owner): its offset in the slot array.
    let base = obj(cs).slots.get() as usize;
    (s.as_ptr() as usize - base) / SLOT_BYTES
}

fn mark(s: SlotRef, free: bool) {
    let Some(cs) = s.owner() else { return };
    let i = index_of(s, cs);
    let o = obj(cs);
    let used = o.used.get();
    o.used.set(if free { used - 1 } else { used + 1 });
    if i < o.reserved.get() as usize {
        // Reserved slots stay out of the bitmap: count only.
        return;
    }
    let (w, b) = (i / 64, i % 64);
    let word = &l2(cs)[w];
    set_bit(word, b, free);
    if free || word.get() == 0 {
        set_bit(&o.l1[w / 64], w % 64, free);
    }
}

/// The lowest free slot of `cs`, in O(1) (at most 16 + 1 word scans).
pub fn lowest_free(cs: ObjRef) -> Option<u64> {
    let o = obj(cs);
    let i = o.l1.iter().position(|w| w.get() != 0)?;
    let w = i * 64 + o.l1[i].get().trailing_zeros() as usize;
    let bit = l2(cs)[w].get().trailing_zeros() as usize;
    Some((w * 64 + bit) as u64)
}

/// The slot to put a new capability in: `want`, which must be empty, or with [`SLOT_AUTO`] the
/// lowest free slot. Returns the slot and its index.
pub fn destination(cs: ObjRef, want: u64) -> Result<(SlotRef, u64), Error> {
    let index = if want == SLOT_AUTO as u64 { lowest_free(cs).ok_or(Error::NoFreeSlot)? } else { want };
    let s = slot(cs, index)?;
    if !s.is_empty() {
        return Err(Error::SlotOccupied);
    }
    Ok((s, index))
}

/// Puts the first capability to a new object (or an objectless right) in `dst`, as a child of
/// `parent` (the Memory capability it was made with) or as a root.
pub fn insert(parent: Option<SlotRef>, dst: SlotRef, cap: &Cap) -> Result<(), Error> {
    match parent {
        Some(p) => {
            let depth = cdt::child_depth(p).map_err(|_| Error::DerivationTooDeep)?;
            cdt::insert_child(p, dst, cap, depth);
        }
        None => cdt::insert_root(dst, cap),
    }
    mark(dst, false);
    match cap.obj {
        // A Reply capability does not keep its caller alive (that would let a caller and the
        // CSpace holding its reply right keep each other alive for good); the caller tracks the
        // slot instead and empties it when it dies.
        Some(o) if cap.kind == Kind::Reply => reply_hook::placed(o, dst),
        Some(o) => o.acquire(),
        None => {}
    }
    Ok(())
}

/// Derives a copy of `src` into the empty slot `dst`, with `rights` masked and, if `badge` is
/// given, that badge (only on badgeable kinds, and only from an unbadged capability).
pub fn derive(src: SlotRef, dst: SlotRef, rights: u8, badge: Option<u64>) -> Result<(), Error> {
    let mut cap = src.cap().ok_or(Error::InvalidCapability)?;
    // A reply right is one-shot: it can move, never multiply.
    if cap.kind == Kind::Reply {
        return Err(Error::InvalidArgument);
    }
    if let Some(b) = badge
        && b != 0
    {
        if !cap.kind.badgeable() || cap.badge != 0 || b == abi::syscall::NOTE_BADGE as u64 {
            return Err(Error::InvalidArgument);
        }
        cap.badge = b;
    }
    cap.rights &= rights;
    insert(Some(src), dst, &cap)
}

/// Moves the capability in `src` to the empty slot `dst`.
pub fn move_cap(src: SlotRef, dst: SlotRef) -> Result<(), Error> {
    if src.is_empty() {
        return Err(Error::InvalidCapability);
    }
    if src == dst {
        return Err(Error::SlotOccupied);
    }
    cdt::relocate(src, dst);
    mark(dst, false);
    mark(src, true);
    if let Some(Cap { kind: Kind::Reply, obj: Some(o), .. }) = dst.cap() {
        reply_hook::placed(o, dst);
    }
    Ok(())
}

/// Empties `slot`; its derived capabilities stay, under its parent. The object it named loses a
/// reference (and goes to the dead list with its last).
pub fn delete(ctx: &mut Ctx<'_>, slot: SlotRef) -> Result<(), Error> {
    let cap = cdt::detach(slot).ok_or(Error::InvalidCapability)?;
    mark(slot, true);
    match cap.obj {
        Some(o) if cap.kind == Kind::Reply => reply_hook::gone(o),
        Some(o) => o.release(ctx.dead),
        None => {}
    }
    Ok(())
}

/// Empties a slot holding a Reply capability whose caller is dying. O(1).
pub fn drop_reply(slot: SlotRef) {
    if cdt::detach(slot).is_some() {
        mark(slot, true);
    }
}

/// Where the caller of a saved reply right learns where its Reply capability is.
mod reply_hook {
    use super::{ObjRef, SlotRef};

    #[cfg(not(test))]
    pub fn placed(caller: ObjRef, slot: SlotRef) {
        crate::object::task::reply_cap_at(caller, Some(slot));
    }

    #[cfg(not(test))]
    pub fn gone(caller: ObjRef) {
        crate::object::task::reply_cap_at(caller, None);
        crate::object::endpoint::saved_reply_gone(caller);
    }

    #[cfg(test)]
    pub fn placed(_: ObjRef, _: SlotRef) {}

    #[cfg(test)]
    pub fn gone(_: ObjRef) {}
}

/// Deletions one revoke call makes at most before it answers `Restart`.
pub const REVOKE_STEP: u32 = 64;

/// Deletes every capability derived from `slot`, at most [`REVOKE_STEP`] per call; `Restart` if
/// some remain. Each deletion walks at most the derivation depth to find a leaf.
pub fn revoke(ctx: &mut Ctx<'_>, slot: SlotRef) -> Result<(), Error> {
    if slot.is_empty() {
        return Err(Error::InvalidCapability);
    }
    for _ in 0..REVOKE_STEP {
        let Some(leaf) = cdt::first_leaf_below(slot) else { return Ok(()) };
        delete(ctx, leaf)?;
    }
    if slot.first_child().is_some() { Err(Error::Restart) } else { Ok(()) }
}

/// Teardown step of a dead CSpace: deletes the capabilities in it, spending `budget`. Returns
/// whether it is empty (and its slot run freed).
pub(super) fn teardown(ctx: &mut Ctx<'_>, cs: ObjRef, budget: &mut u32) -> bool {
    // `cs` is a dead CSpace, only reachable from the dead list.
    let o = obj(cs);
    let (radix, slots_pages) = (o.radix.get(), o.slots_pages.get());
    if slots_pages == 0 {
        return true; // never got its slots (see `create_with`)
    }
    let n = words(radix);
    // Reserved slots are outside the bitmap: empty them first (at most `FIRST_FREE` of them).
    let reserved = o.reserved.get() as usize;
    for i in 0..reserved {
        if *budget == 0 {
            return false;
        }
        let s = slot_at(cs, i);
        if !s.is_empty() {
            *budget -= 1;
            let _ = delete(ctx, s);
        }
    }
    while *budget > 0 {
        let w = o.reap_cursor.get() as usize;
        if w >= n {
            // SAFETY: every slot is empty: the slot run, allocated in `create_with`, is unused
            // from now on; the header goes in `reap`.
            unsafe { ctx.pages.free(o.slots_phys.get(), slots_pages) };
            o.slots_pages.set(0);
            return true;
        }
        let valid = ((1usize << radix) - w * 64).min(64);
        let mut mask = if valid == 64 { u64::MAX } else { (1u64 << valid) - 1 };
        // Reserved slots are never marked free in the bitmap; they were emptied above.
        for i in (w * 64..(w * 64 + 64).min(reserved)).map(|i| i - w * 64) {
            mask &= !(1 << i);
        }
        let occupied = !l2(cs)[w].get() & mask;
        *budget -= 1;
        if occupied == 0 {
            o.reap_cursor.set(o.reap_cursor.get() + 1);
            continue;
        }
        let i = w * 64 + occupied.trailing_zeros() as usize;
        let _ = delete(ctx, slot_at(cs, i));
    }
    false
}

#[cfg(test)]
mod tests {
    use super::super::cdt::tests::children;
    use super::super::{DeadList, memory, reap};
    use super::*;
    use crate::mem::frame::FrameAllocator;
    use abi::object::rights;
    use proptest::prelude::*;
    use std::alloc::{Layout, alloc, dealloc};

    const ARENA: usize = 4 << 20;
    const PHYS: u64 = 0x1000_0000;

    struct Machine {
        ptr: *mut u8,
        frames: FrameAllocator,
        dead: DeadList,
    }

    impl Machine {
        fn new() -> Self {
            let layout = Layout::from_size_align(ARENA, ARENA).unwrap();
            // SAFETY: non-zero size.
            let ptr = unsafe { alloc(layout) };
            let mut frames = FrameAllocator::for_test((ptr as u64).wrapping_sub(PHYS), PHYS + ARENA as u64);
            // SAFETY: the arena is ours.
            unsafe { frames.add_region(PHYS, PHYS + ARENA as u64) };
            Self { ptr, frames, dead: DeadList::new() }
        }

        fn ctx(&mut self) -> Ctx<'_> {
            Ctx { pages: &mut self.frames, dead: &self.dead }
        }

        fn reap_all(&mut self) {
            let mut ctx = self.ctx();
            for _ in 0..100_000 {
                if reap(&mut ctx, 64) {
                    return;
                }
            }
            panic!("reaping never finished");
        }
    }

    impl Drop for Machine {
        fn drop(&mut self) {
            // SAFETY: allocated in `new` with this layout.
            unsafe { dealloc(self.ptr, Layout::from_size_align(ARENA, ARENA).unwrap()) };
        }
    }

    /// A root CSpace holding a root Memory of `quota` in slot 1.
    fn boot(m: &mut Machine, quota: u64) -> (ObjRef, ObjRef) {
        let mut ctx = m.ctx();
        let root = create_root(&mut ctx, 6, 1).unwrap();
        let mem = memory::create_root(&mut ctx, quota).unwrap();
        let cap = Cap { kind: Kind::Memory, rights: rights::ALL as u8, badge: 0, obj: Some(mem) };
        insert(None, slot(root, 1).unwrap(), &cap).unwrap();
        (root, mem)
    }

    #[test]
    fn automatic_slots_are_lowest_first() {
        let mut m = Machine::new();
        let (root, _) = boot(&mut m, 100);
        // Slot 0 is the null slot, slot 1 holds the Memory.
        assert_eq!(lowest_free(root), Some(2));
        assert_eq!(slot(root, 0).err(), Some(Error::InvalidCapability));
        assert_eq!(destination(root, 0).err(), Some(Error::InvalidCapability));
        let src = slot(root, 1).unwrap();
        let (d, i) = destination(root, SLOT_AUTO as u64).unwrap();
        assert_eq!(i, 2);
        derive(src, d, rights::READ as u8, None).unwrap();
        assert_eq!(destination(root, SLOT_AUTO as u64).unwrap().1, 3);
        assert_eq!(destination(root, 1).err(), Some(Error::SlotOccupied));
        assert_eq!(destination(root, 64).err(), Some(Error::InvalidCapability));
        assert_eq!(lookup(root, 2).unwrap().1.rights, rights::READ as u8);
        for _ in 3..64 {
            let (d, _) = destination(root, SLOT_AUTO as u64).unwrap();
            derive(src, d, 0xff, None).unwrap();
        }
        assert_eq!(destination(root, SLOT_AUTO as u64).err(), Some(Error::NoFreeSlot));
        assert_eq!(used(root), 63);
    }

    #[test]
    fn quota_is_charged_and_refunded() {
        let mut m = Machine::new();
        let (root, mem) = boot(&mut m, 100);
        let free0 = m.frames.free_pages();
        let mut ctx = m.ctx();
        let cs = create_in(&mut ctx, mem, 4).unwrap();
        assert_eq!(memory::info(mem), (100, cspace_pages(4) as u64));
        let (d, _) = destination(root, SLOT_AUTO as u64).unwrap();
        insert(Some(slot(root, 1).unwrap()), d, &Cap { kind: Kind::CSpace, rights: 0xf, badge: 0, obj: Some(cs) })
            .unwrap();
        assert_eq!(create_in(&mut ctx, mem, 13).err(), Some(Error::QuotaExceeded));
        assert_eq!(create_in(&mut ctx, mem, 0).err(), Some(Error::InvalidArgument));
        assert_eq!(create_in(&mut ctx, mem, 17).err(), Some(Error::InvalidArgument));
        let child = memory::split(&mut ctx, mem, 10).unwrap();
        assert_eq!(memory::info(child), (10, 0));
        assert_eq!(memory::info(mem).1, cspace_pages(4) as u64 + 11);
        assert_eq!(memory::split(&mut ctx, mem, 1000).err(), Some(Error::QuotaExceeded));
        assert_eq!(memory::split(&mut ctx, mem, 0).err(), Some(Error::InvalidArgument));
        // The child was never given a capability: hand it to the dead list the normal way.
        child.acquire();
        child.release(ctx.dead);
        delete(&mut ctx, d).unwrap();
        m.reap_all();
        assert_eq!(memory::info(mem), (100, 0));
        assert_eq!(m.frames.free_pages(), free0);
    }

    #[test]
    fn revoke_is_bounded_and_complete() {
        let mut m = Machine::new();
        let (root, mem) = boot(&mut m, 4000);
        let mut ctx = m.ctx();
        let mem_slot = slot(root, 1).unwrap();
        // A CSpace of 256 slots made from the Memory, filled with copies of copies.
        let cs = create_in(&mut ctx, mem, 8).unwrap();
        let (cs_slot, _) = destination(root, SLOT_AUTO as u64).unwrap();
        insert(Some(mem_slot), cs_slot, &Cap { kind: Kind::CSpace, rights: 0xf, badge: 0, obj: Some(cs) }).unwrap();
        let mut parent = cs_slot;
        for i in 0..200u64 {
            let dst = slot(cs, i + 1).unwrap();
            derive(if i % 3 == 0 { cs_slot } else { parent }, dst, 0xf, None).unwrap();
            parent = dst;
        }
        let mut steps = 0;
        loop {
            steps += 1;
            match revoke(&mut ctx, mem_slot) {
                Ok(()) => break,
                Err(Error::Restart) => continue,
                Err(e) => panic!("{e:?}"),
            }
        }
        assert!(steps > 1, "201 deletions must take more than one step");
        assert!(cs_slot.is_empty());
        assert_eq!(children(mem_slot), []);
        m.reap_all();
        assert_eq!(memory::info(mem), (4000, 0));
    }

    #[derive(Debug, Clone)]
    enum Op {
        Copy(u8, u8),
        Move(u8, u8),
        Delete(u8),
        Revoke(u8),
        MakeCSpace(u8),
        Split(u8, u8),
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            (0u8..32, 0u8..32).prop_map(|(a, b)| Op::Copy(a, b)),
            (0u8..32, 0u8..32).prop_map(|(a, b)| Op::Move(a, b)),
            (0u8..32).prop_map(Op::Delete),
            (0u8..32).prop_map(Op::Revoke),
            (0u8..32).prop_map(Op::MakeCSpace),
            (0u8..32, 1u8..20).prop_map(|(a, q)| Op::Split(a, q)),
        ]
    }

    /// Checks the tree below every occupied slot is well formed.
    fn check_tree(root: ObjRef) {
        for i in 1..len(root) {
            let s = slot(root, i).unwrap();
            if !s.is_empty() {
                let _ = children(s);
            }
        }
    }

    proptest! {
        /// Any sequence of capability operations keeps the tree well formed and the accounting
        /// exact: once everything is revoked and reaped, every page is back.
        #[test]
        fn operations_keep_tree_and_quota(ops in prop::collection::vec(op(), 1..120)) {
            let mut m = Machine::new();
            let free0 = m.frames.free_pages();
            let (root, mem) = boot(&mut m, 600);
            let mut ctx = m.ctx();
            let mem_slot = slot(root, 1).unwrap();
            // Copies of the Memory capability to work from (slot 1 itself is never touched).
            for i in 2..6 {
                derive(mem_slot, slot(root, i).unwrap(), 0xf, None).unwrap();
            }
            for op in ops {
                let s = |i: u8| slot(root, u64::from(i) + 2).unwrap();
                match op {
                    Op::Copy(a, b) => { if s(b).is_empty() { let _ = derive(s(a), s(b), 0xf, None); } }
                    Op::Move(a, b) => { if s(b).is_empty() { let _ = move_cap(s(a), s(b)); } }
                    Op::Delete(a) => { let _ = delete(&mut ctx, s(a)); }
                    Op::Revoke(a) => { while revoke(&mut ctx, s(a)) == Err(Error::Restart) {} }
                    Op::MakeCSpace(b) => {
                        let from = s(b.wrapping_add(7) % 32);
                        if let (Some(Cap { kind: Kind::Memory, obj: Some(mo), .. }), true) = (from.cap(), s(b).is_empty())
                            && let Ok(cs) = create_in(&mut ctx, mo, 3)
                        {
                            let cap = Cap { kind: Kind::CSpace, rights: 0xf, badge: 0, obj: Some(cs) };
                            // Too deep a chain: the new object dies at once, as uapi never lets it happen.
                            if insert(Some(from), s(b), &cap).is_err() {
                                cs.acquire();
                                cs.release(ctx.dead);
                            }
                        }
                    }
                    Op::Split(b, q) => {
                        if s(b).is_empty() && let Ok(child) = memory::split(&mut ctx, mem, u64::from(q)) {
                            insert(Some(mem_slot), s(b), &Cap { kind: Kind::Memory, rights: 0xf, badge: 0, obj: Some(child) }).unwrap();
                        }
                    }
                }
                check_tree(root);
                let _ = reap(&mut ctx, 64);
            }
            while revoke(&mut ctx, mem_slot) == Err(Error::Restart) {}
            for i in 2..34 { let _ = delete(&mut ctx, slot(root, i).unwrap()); }
            m.reap_all();
            prop_assert_eq!(memory::info(mem), (600, 0));
            // Everything but the root CSpace and root Memory is back in the allocator.
            let boot_pages = header_pages(6) + slot_pages(6) as u64 + 1;
            prop_assert_eq!(m.frames.free_pages(), free0 - boot_pages);
        }
    }
}
