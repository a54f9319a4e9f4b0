//! Capability slots and the capability derivation tree (CDT).
//!
//! Each slot holds one capability and the slot's links in the tree. A node's children form a
//! doubly linked list whose ends point back at the parent: the first child's `prev` and the last
//! child's `next` are *parent* links, every other link is a *sibling* link. With that, every
//! operation the kernel needs is O(1): adding a child, removing a node while its children take
//! its place among its siblings ([`detach`]), and moving a capability to another slot
//! ([`relocate`]). Revoke, which deletes a whole subtree, works leaf by leaf from the top, so it
//! needs no parent pointers in the middle of lists and is bounded by the derivation depth.
//!
//! Depth: a capability records its depth when it is derived (its parent's plus one) and the
//! kernel refuses depths above [`MAX_DERIVATION_DEPTH`]. The record never grows afterwards, so it
//! bounds the real depth, which only shrinks when ancestors are deleted.

use core::ptr::NonNull;

use abi::object::{Kind, MAX_DERIVATION_DEPTH};

use super::ObjRef;

/// A capability: what a slot holds.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct Cap {
    /// What it names.
    pub kind: Kind,
    /// Its rights (`abi::object::rights`).
    pub rights: u8,
    /// The badge delivered with messages (0: none).
    pub badge: u64,
    /// The object, for kinds that have one.
    pub obj: Option<ObjRef>,
}

/// A link of the tree.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
enum Link {
    None,
    Sibling(SlotRef),
    Parent(SlotRef),
}

/// A [`Link`] packed into one word: slots are 64-byte aligned, so bit 0 tags a parent link.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
#[repr(transparent)]
struct PackedLink(u64);

impl From<Link> for PackedLink {
    fn from(l: Link) -> Self {
        match l {
            Link::None => PackedLink(0),
            Link::Sibling(s) => PackedLink(s.0.as_ptr() as u64),
            Link::Parent(s) => PackedLink(s.0.as_ptr() as u64 | 1),
        }
    }
}

impl From<PackedLink> for Link {
    fn from(p: PackedLink) -> Self {
        let ptr = (p.0 & !1) as *mut Slot;
        match NonNull::new(ptr) {
            None => Link::None,
            Some(nn) if p.0 & 1 == 1 => Link::Parent(SlotRef(nn)),
            Some(nn) => Link::Sibling(SlotRef(nn)),
        }
    }
}

/// One capability slot: 64 bytes, the unit CSpaces are made of.
#[repr(C, align(64))]
pub struct Slot {
    /// `Kind` as a number; 0 (Null) is an empty slot.
    kind: u8,
    rights: u8,
    depth: u8,
    badge: u64,
    obj: Option<ObjRef>,
    /// The CSpace this slot belongs to (set when the CSpace is made).
    owner: Option<ObjRef>,
    prev: PackedLink,
    next: PackedLink,
    first_child: Option<SlotRef>,
    last_child: Option<SlotRef>,
}

/// A reference to a slot of a live CSpace.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct SlotRef(NonNull<Slot>);

// Each field access below goes through the raw pointer; no two references to slots are ever
// alive at once. Invariant: a `SlotRef` held by the kernel points into a live CSpace.
macro_rules! field {
    ($s:expr, prev) => {
        Link::from(field!(@get $s, prev))
    };
    ($s:expr, next) => {
        Link::from(field!(@get $s, next))
    };
    ($s:expr, prev = $v:expr) => {
        field!(@set $s, prev = PackedLink::from($v))
    };
    ($s:expr, next = $v:expr) => {
        field!(@set $s, next = PackedLink::from($v))
    };
    ($s:expr, $f:ident) => {
        field!(@get $s, $f)
    };
    ($s:expr, $f:ident = $v:expr) => {
        field!(@set $s, $f = $v)
    };
    (@get $s:expr, $f:ident) => {
        // SAFETY: module invariant: the slot belongs to a live CSpace.
        unsafe { (*$s.0.as_ptr()).$f }
    };
    (@set $s:expr, $f:ident = $v:expr) => {
        // SAFETY: module invariant: the slot belongs to a live CSpace.
        unsafe { (*$s.0.as_ptr()).$f = $v }
    };
}

impl SlotRef {
    /// A reference to the slot at `ptr`.
    ///
    /// # Safety
    /// `ptr` must point at a slot of a live CSpace.
    pub unsafe fn from_ptr(ptr: *mut Slot) -> Self {
        // SAFETY: the caller guarantees a valid slot pointer, which is never null.
        Self(unsafe { NonNull::new_unchecked(ptr) })
    }

    /// The raw pointer.
    pub fn as_ptr(self) -> *mut Slot {
        self.0.as_ptr()
    }

    /// The capability in the slot, or `None` if it is empty.
    pub fn cap(self) -> Option<Cap> {
        let kind = Kind::from_number(usize::from(field!(self, kind))).filter(|k| *k != Kind::Null)?;
        Some(Cap { kind, rights: field!(self, rights), badge: field!(self, badge), obj: field!(self, obj) })
    }

    /// The object and badge of the capability in the slot, if it is of `kind` (not Null) with
    /// every right in `need`: the lookup of the fast paths, which need no more and leave every
    /// other case, errors included, to the general path.
    #[inline]
    pub fn object_with(self, kind: Kind, need: u8) -> Option<(ObjRef, u64)> {
        if field!(self, kind) != kind as u8 || field!(self, rights) & need != need {
            return None;
        }
        Some((field!(self, obj)?, field!(self, badge)))
    }

    /// Whether the slot is empty.
    pub fn is_empty(self) -> bool {
        field!(self, kind) == Kind::Null as u8
    }

    /// The CSpace the slot belongs to.
    pub fn owner(self) -> Option<ObjRef> {
        field!(self, owner)
    }

    /// Sets the owning CSpace (when the CSpace is made).
    pub(super) fn set_owner(self, owner: ObjRef) {
        field!(self, owner = Some(owner));
    }

    /// The recorded derivation depth.
    pub fn depth(self) -> u8 {
        field!(self, depth)
    }

    /// The first child, if any.
    pub fn first_child(self) -> Option<SlotRef> {
        field!(self, first_child)
    }

    /// The parent, when this slot is the first or last of its siblings (else `None`).
    #[cfg(test)]
    fn parent_if_end(self) -> Option<SlotRef> {
        match (field!(self, prev), field!(self, next)) {
            (Link::Parent(p), _) | (_, Link::Parent(p)) => Some(p),
            _ => None,
        }
    }

    fn set_cap(self, cap: &Cap, depth: u8) {
        field!(self, kind = cap.kind as u8);
        field!(self, rights = cap.rights);
        field!(self, badge = cap.badge);
        field!(self, obj = cap.obj);
        field!(self, depth = depth);
    }

    fn clear(self) {
        field!(self, kind = Kind::Null as u8);
        field!(self, rights = 0);
        field!(self, badge = 0);
        field!(self, obj = None);
        field!(self, depth = 0);
        field!(self, prev = Link::None);
        field!(self, next = Link::None);
        field!(self, first_child = None);
        field!(self, last_child = None);
    }
}

/// Why a derivation is refused.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct TooDeep;

/// The depth a child of `parent` would have, if allowed.
pub fn child_depth(parent: SlotRef) -> Result<u8, TooDeep> {
    let d = usize::from(parent.depth()) + 1;
    if d > MAX_DERIVATION_DEPTH { Err(TooDeep) } else { Ok(d as u8) }
}

/// Puts `cap` in the empty slot `slot` as a root of the tree (no parent).
pub fn insert_root(slot: SlotRef, cap: &Cap) {
    debug_assert!(slot.is_empty());
    slot.set_cap(cap, 0);
    field!(slot, prev = Link::None);
    field!(slot, next = Link::None);
}

/// Puts `cap` in the empty slot `child` as the last child of `parent`, at `depth` (from
/// [`child_depth`]).
pub fn insert_child(parent: SlotRef, child: SlotRef, cap: &Cap, depth: u8) {
    debug_assert!(child.is_empty() && parent != child);
    child.set_cap(cap, depth);
    match field!(parent, last_child) {
        Some(last) => {
            field!(last, next = Link::Sibling(child));
            field!(child, prev = Link::Sibling(last));
        }
        None => {
            field!(parent, first_child = Some(child));
            field!(child, prev = Link::Parent(parent));
        }
    }
    field!(child, next = Link::Parent(parent));
    field!(parent, last_child = Some(child));
}

/// Makes whatever pointed forward at a node with `prev` point at `to` instead.
fn repoint_forward(prev: Link, to: Option<SlotRef>) {
    match prev {
        Link::Sibling(a) => field!(a, next = to.map_or(Link::None, Link::Sibling)),
        Link::Parent(p) => field!(p, first_child = to),
        Link::None => {}
    }
}

/// Makes whatever pointed back at a node with `next` point at `to` instead.
fn repoint_backward(next: Link, to: Option<SlotRef>) {
    match next {
        Link::Sibling(b) => field!(b, prev = to.map_or(Link::None, Link::Sibling)),
        Link::Parent(p) => field!(p, last_child = to),
        Link::None => {}
    }
}

/// Takes `slot` out of the tree and empties it, returning its capability. Its children take its
/// place among its siblings, so they stay descendants of its parent. O(1).
pub fn detach(slot: SlotRef) -> Option<Cap> {
    let cap = slot.cap()?;
    let (prev, next) = (field!(slot, prev), field!(slot, next));
    match (field!(slot, first_child), field!(slot, last_child)) {
        (Some(first), Some(last)) => {
            field!(first, prev = prev);
            field!(last, next = next);
            repoint_forward(prev, Some(first));
            repoint_backward(next, Some(last));
        }
        _ => {
            // A leaf: its neighbours close the gap. Ends that pointed at a parent keep doing so.
            match (prev, next) {
                (Link::Sibling(a), next) => field!(a, next = next),
                (Link::Parent(p), Link::Sibling(b)) => field!(p, first_child = Some(b)),
                (Link::Parent(p), _) => field!(p, first_child = None),
                (Link::None, _) => {}
            }
            match (next, prev) {
                (Link::Sibling(b), prev) => field!(b, prev = prev),
                (Link::Parent(p), Link::Sibling(a)) => field!(p, last_child = Some(a)),
                (Link::Parent(p), _) => field!(p, last_child = None),
                (Link::None, _) => {}
            }
        }
    }
    slot.clear();
    Some(cap)
}

/// Moves the capability in `from` to the empty slot `to`, keeping its place in the tree. O(1).
pub fn relocate(from: SlotRef, to: SlotRef) {
    debug_assert!(to.is_empty() && from != to);
    let Some(cap) = from.cap() else { return };
    let (prev, next) = (field!(from, prev), field!(from, next));
    let (first, last) = (field!(from, first_child), field!(from, last_child));
    to.set_cap(&cap, from.depth());
    field!(to, prev = prev);
    field!(to, next = next);
    field!(to, first_child = first);
    field!(to, last_child = last);
    repoint_forward(prev, Some(to));
    repoint_backward(next, Some(to));
    if let Some(f) = first {
        field!(f, prev = Link::Parent(to));
    }
    if let Some(l) = last {
        field!(l, next = Link::Parent(to));
    }
    from.clear();
}

/// The first leaf below `slot` (following first children), if `slot` has children. At most
/// [`MAX_DERIVATION_DEPTH`] steps.
pub fn first_leaf_below(slot: SlotRef) -> Option<SlotRef> {
    let mut leaf = slot.first_child()?;
    while let Some(c) = leaf.first_child() {
        leaf = c;
    }
    Some(leaf)
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;
    use std::boxed::Box;
    use std::vec::Vec;

    /// A bare array of slots with no CSpace around them, reached only through raw pointers (as a
    /// CSpace's slots are): the base keeps the whole allocation's provenance.
    pub struct Arena(*mut [Slot]);

    impl Drop for Arena {
        fn drop(&mut self) {
            // SAFETY: made by `Box::into_raw` in `new`; no slot pointer is used after the test.
            drop(unsafe { Box::from_raw(self.0) });
        }
    }

    impl Arena {
        pub fn new(n: usize) -> Self {
            let slots: Vec<Slot> = (0..n)
                .map(|_| Slot {
                    kind: 0,
                    rights: 0,
                    depth: 0,
                    badge: 0,
                    obj: None,
                    owner: None,
                    prev: PackedLink(0),
                    next: PackedLink(0),
                    first_child: None,
                    last_child: None,
                })
                .collect();
            Self(Box::into_raw(slots.into_boxed_slice()))
        }

        pub fn at(&mut self, i: usize) -> SlotRef {
            assert!(i < self.0.len());
            // SAFETY: `i` is in range of the arena, which outlives every use in a test.
            unsafe { SlotRef::from_ptr(self.0.cast::<Slot>().add(i)) }
        }
    }

    pub fn cap(badge: u64) -> Cap {
        Cap { kind: Kind::DebugConsole, rights: 2, badge, obj: None }
    }

    /// The children of `s`, checking both directions of the list and the parent links at its
    /// ends.
    pub fn children(s: SlotRef) -> Vec<SlotRef> {
        let mut out = Vec::new();
        let mut at = s.first_child();
        let mut prev = Link::Parent(s);
        while let Some(c) = at {
            assert_eq!(field!(c, prev), prev, "broken prev link");
            out.push(c);
            prev = Link::Sibling(c);
            at = match field!(c, next) {
                Link::Sibling(n) => Some(n),
                Link::Parent(p) => {
                    assert_eq!(p, s, "last child points at another parent");
                    assert_eq!(field!(s, last_child), Some(c));
                    None
                }
                Link::None => panic!("child without an end link"),
            };
        }
        if out.is_empty() {
            assert_eq!(field!(s, last_child), None);
        }
        out
    }

    #[test]
    fn detach_splices_children_into_place() {
        let mut a = Arena::new(8);
        let (r, x, y, z, c1, c2) = (a.at(0), a.at(1), a.at(2), a.at(3), a.at(4), a.at(5));
        insert_root(r, &cap(0));
        insert_child(r, x, &cap(1), 1);
        insert_child(r, y, &cap(2), 1);
        insert_child(r, z, &cap(3), 1);
        insert_child(y, c1, &cap(4), 2);
        insert_child(y, c2, &cap(5), 2);
        assert_eq!(children(r), [x, y, z]);
        assert_eq!(detach(y), Some(cap(2)));
        assert!(y.is_empty());
        assert_eq!(children(r), [x, c1, c2, z]);
        assert_eq!(detach(x), Some(cap(1)));
        assert_eq!(detach(z), Some(cap(3)));
        assert_eq!(children(r), [c1, c2]);
        assert_eq!(c1.parent_if_end(), Some(r));
        assert_eq!(detach(c1), Some(cap(4)));
        assert_eq!(detach(c2), Some(cap(5)));
        assert_eq!(children(r), []);
        assert_eq!(detach(c2), None);
    }

    #[test]
    fn relocate_keeps_place_and_children() {
        let mut a = Arena::new(8);
        let (r, x, y, c, m) = (a.at(0), a.at(1), a.at(2), a.at(3), a.at(6));
        insert_root(r, &cap(0));
        insert_child(r, x, &cap(1), 1);
        insert_child(r, y, &cap(2), 1);
        insert_child(x, c, &cap(3), 2);
        relocate(x, m);
        assert!(x.is_empty());
        assert_eq!(children(r), [m, y]);
        assert_eq!(children(m), [c]);
        assert_eq!(m.cap(), Some(cap(1)));
        relocate(r, x);
        assert_eq!(children(x), [m, y]);
    }

    #[test]
    fn depth_is_bounded() {
        let mut a = Arena::new(2);
        let s = a.at(0);
        insert_root(s, &cap(0));
        assert_eq!(child_depth(s), Ok(1));
        field!(s, depth = MAX_DERIVATION_DEPTH as u8);
        assert_eq!(child_depth(s), Err(TooDeep));
    }
}
