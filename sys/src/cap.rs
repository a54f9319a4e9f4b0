//! Typed capability handles over the capability, Memory and CSpace syscalls.
//!
//! A capability address is a slot index in the calling task's CSpace; [`Cap`] is one, untyped.
//! [`Memory`], [`CSpace`] and [`DebugConsole`] wrap a [`Cap`] to say what the program expects to
//! find there, and offer that kind's invocations. They are a convenience, not a proof: any slot
//! can be wrapped in any handle ([`Memory::new`], ...), and the kernel checks every capability on
//! every call (`WrongKind`, `InsufficientRights`, ...). Each typed handle dereferences to its
//! [`Cap`], so the generic operations (copy, delete, revoke, identify, ...) work on all of them.
//!
//! Every call returns a [`Result`] with the kernel's error. The bounded-work calls are retried
//! here: [`Cap::revoke`] and [`Memory::info`] repeat the syscall while the kernel answers
//! [`Restart`], so their callers see only success or a real error;
//! [`Cap::revoke_step`] and [`Memory::info_step`] make exactly one call.
//!
//! Where a call puts a new capability, [`Slot`] says where: a given slot, or [`Slot::Auto`] for
//! the lowest free one. The slot used comes back as the new handle. Slot 0 of every CSpace is the
//! null slot: it never holds a capability, so a zeroed handle names nothing (the kernel answers
//! `InvalidCapability`, and `identify` reports it empty).
//!
//! The root task's initial capabilities are in [`root`](crate::root).

use core::ops::Deref;

use abi::Error::Restart;
pub use abi::object::{Kind, rights};
use abi::syscall::SLOT_AUTO;

use crate::error::Result;
use crate::syscall;

/// Where a call puts the capability it makes.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub enum Slot {
    /// Let the kernel pick the lowest free slot ([`SLOT_AUTO`]); in the root task's CSpace, never
    /// one below [`FIRST_FREE`](abi::bootcaps::FIRST_FREE).
    Auto,
    /// This slot, which must be empty. `At(SLOT_AUTO)` is the same as [`Slot::Auto`].
    At(usize),
}

impl Slot {
    /// The number passed to the kernel: the slot, or [`SLOT_AUTO`].
    pub const fn raw(self) -> usize {
        match self {
            Slot::Auto => SLOT_AUTO,
            Slot::At(slot) => slot,
        }
    }
}

impl From<usize> for Slot {
    fn from(slot: usize) -> Slot {
        Slot::At(slot)
    }
}

/// A capability address: the index of a slot in the calling task's CSpace.
///
/// Holding a `Cap` says nothing about what the slot holds; [`identify`](Cap::identify) asks.
/// `Cap::new(0)` is the null slot, which never holds a capability.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Cap(usize);

/// What [`Cap::identify`] found in a slot.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub struct Identity {
    /// The kind ([`Kind::Null`] for an empty slot), or `Err` with the number the kernel returned
    /// if this ABI version defines no kind with that number.
    pub kind: core::result::Result<Kind, usize>,
    /// The capability's rights, a [`rights`] bit set.
    pub rights: usize,
    /// The capability's badge (0 for an unbadged one).
    pub badge: usize,
}

impl Identity {
    /// An identity of a known kind.
    pub const fn new(kind: Kind, rights: usize, badge: usize) -> Identity {
        Identity { kind: Ok(kind), rights, badge }
    }

    /// Whether the slot is empty.
    pub fn is_null(&self) -> bool {
        self.kind == Ok(Kind::Null)
    }
}

impl Cap {
    /// The capability address `slot`.
    pub const fn new(slot: usize) -> Cap {
        Cap(slot)
    }

    /// The slot index.
    pub const fn slot(self) -> usize {
        self.0
    }

    /// What the slot holds: kind, rights and badge. An empty slot is [`Kind::Null`]; only a slot
    /// outside the CSpace is an error ([`InvalidCapability`](abi::Error::InvalidCapability)).
    pub fn identify(self) -> Result<Identity> {
        let (kind, rights, badge) = syscall::cap_identify(self.0)?;
        Ok(Identity { kind: Kind::from_number(kind).ok_or(kind), rights, badge })
    }

    /// Copies this capability into `slot` of `dst`, keeping only the rights in the mask `rights`
    /// (use [`rights::ALL`] to keep them all). The copy is a child of this capability in the
    /// derivation tree.
    ///
    /// The returned handle names the slot used *in `dst`*: it is a capability address for the
    /// caller only when `dst` is the caller's own CSpace.
    pub fn copy(self, dst: CSpace, slot: Slot, rights: usize) -> Result<Cap> {
        syscall::cap_copy(self.0, dst.slot(), slot.raw(), rights).map(Cap)
    }

    /// As [`copy`](Cap::copy), and sets the badge. Only Endpoint and Note capabilities carry
    /// badges; for any other kind (and an already badged capability) `badge` must be 0.
    pub fn mint(self, dst: CSpace, slot: Slot, rights: usize, badge: usize) -> Result<Cap> {
        syscall::cap_mint(self.0, dst.slot(), slot.raw(), rights, badge).map(Cap)
    }

    /// Moves this capability into `slot` of `dst`, keeping its place in the derivation tree; this
    /// slot is empty afterwards. The returned handle names the slot used in `dst` (see
    /// [`copy`](Cap::copy)).
    pub fn move_to(self, dst: CSpace, slot: Slot) -> Result<Cap> {
        syscall::cap_move(self.0, dst.slot(), slot.raw()).map(Cap)
    }

    /// Empties the slot. Capabilities derived from it stay, as children of its parent; the last
    /// capability to an object destroys the object (its pages are refunded to the Memory it was
    /// made from, in bounded steps: see [`Memory::info`]).
    pub fn delete(self) -> Result<()> {
        syscall::cap_delete(self.0)
    }

    /// Deletes every capability derived from this one (not this one), repeating the bounded
    /// kernel call while it answers [`Restart`].
    ///
    /// Returns only success or a real error. Should a broken kernel answer `Restart` forever, this
    /// does not return.
    pub fn revoke(self) -> Result<()> {
        loop {
            match self.revoke_step() {
                Err(e) if e == Restart => continue,
                done => return done,
            }
        }
    }

    /// One bounded step of [`revoke`](Cap::revoke): `Err(Restart)` means part of the work is
    /// done and the call must be made again.
    pub fn revoke_step(self) -> Result<()> {
        syscall::cap_revoke(self.0)
    }
}

impl From<usize> for Cap {
    fn from(slot: usize) -> Cap {
        Cap(slot)
    }
}

impl From<Cap> for Slot {
    fn from(cap: Cap) -> Slot {
        Slot::At(cap.0)
    }
}

/// Defines a typed handle: a [`Cap`] newtype that dereferences to it.
macro_rules! handle {
    ($(#[$doc:meta])* $name:ident, $kind:literal) => {
        $(#[$doc])*
        #[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
        pub struct $name(Cap);

        impl $name {
            #[doc = concat!("Treats `cap` as ", $kind, " capability. Nothing is checked: the kernel checks the kind on each call.")]
            pub const fn new(cap: Cap) -> $name {
                $name(cap)
            }

            #[doc = concat!("Treats the capability in `slot` as ", $kind, " capability (see [`new`](Self::new)).")]
            pub const fn at(slot: usize) -> $name {
                $name(Cap::new(slot))
            }

            /// The untyped capability address.
            pub const fn cap(self) -> Cap {
                self.0
            }
        }

        impl Deref for $name {
            type Target = Cap;

            fn deref(&self) -> &Cap {
                &self.0
            }
        }

        impl From<$name> for Cap {
            fn from(handle: $name) -> Cap {
                handle.0
            }
        }
    };
}

pub(crate) use handle;

handle!(
    /// A Memory capability: a quota of pages that objects are made from.
    Memory,
    "a Memory"
);

handle!(
    /// A CSpace capability: a table of capability slots.
    CSpace,
    "a CSpace"
);

handle!(
    /// A DebugConsole capability: the right to write to the kernel's debug console.
    DebugConsole,
    "a DebugConsole"
);

/// What [`Memory::info`] reports, in pages.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub struct MemoryInfo {
    /// The Memory's quota.
    pub quota: usize,
    /// Pages charged to it: objects made from it and the quotas (plus one page each) of the
    /// Memory capabilities split from it.
    pub used: usize,
}

impl MemoryInfo {
    /// Pages still available: `quota - used` (0 should `used` ever exceed `quota`).
    pub const fn free(&self) -> usize {
        self.quota.saturating_sub(self.used)
    }
}

impl Memory {
    /// Makes a child Memory with a quota of `pages` (`1..=`[`MAX_QUOTA`](abi::object::MAX_QUOTA))
    /// in `dst` of the caller's CSpace. This Memory is charged `pages + 1` (the child's quota and
    /// its own page), refunded when the child is destroyed. Needs WRITE.
    pub fn split(self, pages: usize, dst: Slot) -> Result<Memory> {
        syscall::memory_split(self.slot(), pages, dst.raw()).map(Memory::at)
    }

    /// The quota and the pages charged to it. Destruction still pending from earlier deletions is
    /// finished first: the call is repeated while the kernel answers
    /// [`Restart`], so the result counts every refund due. Needs READ.
    pub fn info(self) -> Result<MemoryInfo> {
        loop {
            match self.info_step() {
                Err(e) if e == Restart => continue,
                done => return done,
            }
        }
    }

    /// One bounded step of [`info`](Memory::info): `Err(Restart)` means destruction is still
    /// pending and the call must be made again.
    pub fn info_step(self) -> Result<MemoryInfo> {
        let (quota, used) = syscall::memory_info(self.slot())?;
        Ok(MemoryInfo { quota, used })
    }
}

impl CSpace {
    /// Makes a CSpace of `2^radix` empty slots (`1..=`[`MAX_RADIX`](abi::object::MAX_RADIX)) in
    /// `dst` of the caller's CSpace, charged [`cspace_pages(radix)`](abi::object::cspace_pages)
    /// to `memory` (which needs WRITE).
    pub fn create(memory: Memory, radix: usize, dst: Slot) -> Result<CSpace> {
        syscall::cspace_create(memory.slot(), radix, dst.raw()).map(CSpace::at)
    }
}

impl DebugConsole {
    /// Writes `buf` to the debug console as one unit; returns `buf.len()`. At most
    /// [`DEBUG_WRITE_MAX`](abi::syscall::DEBUG_WRITE_MAX) bytes (else `InvalidArgument`, nothing
    /// written). Needs WRITE.
    pub fn write(self, buf: &[u8]) -> Result<usize> {
        self.write_raw(buf.as_ptr().expose_provenance(), buf.len())
    }

    /// [`write`](DebugConsole::write) with an arbitrary address and length: safe for any, as
    /// [`debug_write_raw`](crate::debug_write_raw) explains.
    pub fn write_raw(self, ptr: usize, len: usize) -> Result<usize> {
        syscall::debug_write_console_raw(self.slot(), ptr, len)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slots() {
        assert_eq!(Slot::Auto.raw(), SLOT_AUTO);
        assert_eq!(Slot::At(9).raw(), 9);
        assert_eq!(Slot::from(Cap::new(12)), Slot::At(12));
        assert_eq!(Slot::from(5), Slot::At(5));
    }

    #[test]
    fn handles() {
        let m = Memory::at(2);
        assert_eq!(m.cap(), Cap::new(2));
        assert_eq!(m.slot(), 2);
        assert_eq!(Cap::from(CSpace::new(Cap::new(1))), Cap::new(1));
        assert!(Identity::new(Kind::Null, 0, 0).is_null());
        assert!(!Identity::new(Kind::Memory, rights::ALL, 0).is_null());
        assert_eq!(MemoryInfo { quota: 10, used: 4 }.free(), 6);
        assert_eq!(MemoryInfo { quota: 1, used: 4 }.free(), 0);
    }
}
