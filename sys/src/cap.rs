//! Typed capability handles over the capability, Memory and CSpace syscalls.
//!
//! A capability address is a slot index in the calling task's CSpace; [`Cap`] is one, untyped.
//! [`Memory`], [`CSpace`] and [`DebugConsole`] wrap a [`Cap`] to say what the program expects to
//! find there, and offer that kind's invocations. They are a convenience, not a proof: any slot
//! can be wrapped in any handle ([`Memory::new`], ...), and the kernel checks every capability on
//! every call (`WrongKind`, `InsufficientRights`, ...). Each typed handle dereferences to its
//! [`Cap`], so the generic operations (identify, copy, mint, move, delete, revoke) work on all of
//! them.
//!
//! Deleting and revoking end objects' lives, and the death of a Page, a CSpace or a Task, or the
//! revocation of a Memory capability, can unmap memory the caller's Rust code is using (see
//! [`safety`](crate::safety)). So the generic [`Cap::delete`], [`Cap::revoke`] and
//! [`Cap::revoke_step`] are `unsafe`, under the
//! [teardown contract](crate::safety#the-teardown-contract). The typed handles offer safe forms
//! where a check can rule that out: `delete` for every kind whose death reaches no memory
//! ([`Memory::delete`], [`DebugConsole::delete`], `Endpoint::delete`, `Note::delete`, ...; a
//! Page only while it is not mapped; [`Cap::delete_checked`] for a slot of any kind) and `revoke`
//! for every kind but Memory (the capabilities derived from any other are copies of the same
//! object, which the revoked one keeps alive).
//! Each first asks the kernel what the slot holds and refuses another kind with
//! [`WrongKind`](abi::Error::WrongKind): a handle wrapped around the wrong slot deletes nothing.
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
///
/// ```no_run
/// use sys::{Note, Slot, root};
///
/// # fn demo() -> sys::Result<()> {
/// // In the root task every slot from `root::FIRST_FREE` on starts empty: name one...
/// let doorbell = Note::create(root::memory(), Slot::At(root::FIRST_FREE))?;
/// // ... or let the kernel pick the lowest free one.
/// let alarm = Note::create(root::memory(), Slot::Auto)?;
/// assert_ne!(alarm.slot(), doorbell.slot());
/// # Ok(())
/// # }
/// ```
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
    ///
    /// ```
    /// use sys::Slot;
    /// use sys::abi::syscall::SLOT_AUTO;
    ///
    /// assert_eq!(Slot::At(12).raw(), 12);
    /// assert_eq!(Slot::Auto.raw(), SLOT_AUTO);
    ///
    /// /// The raw wrappers take the number.
    /// fn new_note(memory: sys::Memory, dst: Slot) -> sys::Result<usize> {
    ///     sys::notify::note_create(memory.slot(), dst.raw())
    /// }
    /// ```
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
///
/// ```no_run
/// use sys::{Cap, Endpoint, Kind};
///
/// # fn demo(service: Endpoint) -> sys::Result<()> {
/// // A slot number, learnt at run time: here from a message.
/// let cap = Cap::new(service.recv()?.words[0]);
/// // What it holds is the kernel's to say.
/// if cap.identify()?.kind == Ok(Kind::Note) {
///     sys::Note::new(cap).signal(1)?;
/// }
/// # Ok(())
/// # }
/// ```
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Cap(usize);

/// What [`Cap::identify`] found in a slot.
///
/// ```no_run
/// use sys::{Cap, Kind, rights};
///
/// fn describe(cap: Cap) -> sys::Result<()> {
///     let id = cap.identify()?;
///     match id.kind {
///         Ok(Kind::Null) => sys::println!("slot {}: empty", cap.slot()),
///         Ok(kind) => {
///             let writable = id.rights & rights::WRITE != 0;
///             sys::println!("slot {}: {kind:?}, badge {}, writable: {writable}", cap.slot(), id.badge);
///         }
///         Err(n) => sys::println!("slot {}: kind {n}, unknown to this library", cap.slot()),
///     }
///     Ok(())
/// }
/// ```
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
    ///
    /// ```
    /// use sys::{Cap, Identity, Kind, rights};
    ///
    /// /// Whether `cap` is the badged, send-only Endpoint a client should hold.
    /// fn is_client_endpoint(cap: Cap, badge: usize) -> sys::Result<bool> {
    ///     Ok(cap.identify()? == Identity::new(Kind::Endpoint, rights::WRITE, badge))
    /// }
    ///
    /// let id = Identity::new(Kind::Endpoint, rights::WRITE, 7);
    /// assert_eq!((id.kind, id.rights, id.badge), (Ok(Kind::Endpoint), rights::WRITE, 7));
    /// ```
    pub const fn new(kind: Kind, rights: usize, badge: usize) -> Identity {
        Identity { kind: Ok(kind), rights, badge }
    }

    /// Whether the slot is empty.
    ///
    /// ```
    /// use sys::{Cap, Identity, Kind};
    ///
    /// /// The first empty slot in `from..to` of the caller's CSpace.
    /// fn first_empty(from: usize, to: usize) -> sys::Result<Option<Cap>> {
    ///     for slot in from..to {
    ///         if Cap::new(slot).identify()?.is_null() {
    ///             return Ok(Some(Cap::new(slot)));
    ///         }
    ///     }
    ///     Ok(None)
    /// }
    ///
    /// assert!(Identity::new(Kind::Null, 0, 0).is_null());
    /// assert!(!Identity::new(Kind::Note, 0, 0).is_null());
    /// ```
    pub fn is_null(&self) -> bool {
        self.kind == Ok(Kind::Null)
    }
}

impl Cap {
    /// The capability address `slot`.
    ///
    /// ```
    /// use sys::Cap;
    ///
    /// // Slot 0 is the null slot in every CSpace: a zeroed handle names nothing.
    /// let null = Cap::new(0);
    /// let cap = Cap::new(12);
    /// assert_eq!(cap.slot(), 12);
    /// assert_ne!(cap, null);
    /// ```
    pub const fn new(slot: usize) -> Cap {
        Cap(slot)
    }

    /// The slot index.
    ///
    /// ```
    /// use sys::Cap;
    ///
    /// let cap = Cap::new(12);
    /// assert_eq!(cap.slot(), 12);
    /// // Sent to another task as a plain number (a slot of this task's CSpace).
    /// let words = [cap.slot(), 0, 0, 0, 0];
    /// assert_eq!(Cap::new(words[0]), cap);
    /// ```
    pub const fn slot(self) -> usize {
        self.0
    }

    /// What the slot holds: kind, rights and badge. An empty slot is [`Kind::Null`]; only a slot
    /// outside the CSpace is an error ([`InvalidCapability`](abi::Error::InvalidCapability)).
    ///
    /// ```no_run
    /// use sys::{Cap, Kind};
    ///
    /// # fn demo(boot: &sys::Boot) -> sys::Result<()> {
    /// // A capability the start page names: check that it is what it should be.
    /// let uart = boot.cap("uart").expect("the manifest grants `uart`");
    /// let id = uart.identify()?;
    /// if id.kind != Ok(Kind::IoPort) {
    ///     sys::println!("uart: slot {} holds {:?}, not an IoPort", uart.slot(), id.kind);
    ///     sys::exit(1);
    /// }
    /// # Ok(())
    /// # }
    /// ```
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
    ///
    /// ```no_run
    /// use sys::{CSpace, Slot, rights};
    ///
    /// # fn demo() -> sys::Result<()> {
    /// let memory = sys::process::memory().expect("the program has a Memory");
    /// let console = sys::process::console().expect("the program has a console");
    /// // A CSpace for a program this one starts, with the console in its slot 1, WRITE only.
    /// let child = CSpace::create(memory, 4, Slot::Auto)?;
    /// console.copy(child, Slot::At(1), rights::WRITE)?;
    /// // A copy in the caller's own CSpace names a slot the caller can use.
    /// let own = sys::process::cspace().expect("the program has its CSpace");
    /// let spare = console.copy(own, Slot::Auto, rights::WRITE)?;
    /// assert_ne!(spare, console.cap());
    /// # Ok(())
    /// # }
    /// ```
    pub fn copy(self, dst: CSpace, slot: Slot, rights: usize) -> Result<Cap> {
        syscall::cap_copy(self.0, dst.slot(), slot.raw(), rights).map(Cap)
    }

    /// As [`copy`](Cap::copy), and sets the badge. Only Endpoint and Note capabilities carry
    /// badges; for any other kind (and an already badged capability) `badge` must be 0.
    ///
    /// ```no_run
    /// use sys::{CSpace, Endpoint, Slot, rights};
    ///
    /// # fn demo(client: CSpace) -> sys::Result<()> {
    /// let memory = sys::process::memory().expect("the program has a Memory");
    /// let service = Endpoint::create(memory, Slot::Auto)?;
    /// // Client 7 may only send, and everything it sends carries badge 7.
    /// service.mint(client, Slot::At(4), rights::WRITE, 7)?;
    /// let request = service.recv()?;
    /// if request.badge == 7 {
    ///     sys::println!("client 7 asks for {}", request.words[0]);
    /// }
    /// # Ok(())
    /// # }
    /// ```
    pub fn mint(self, dst: CSpace, slot: Slot, rights: usize, badge: usize) -> Result<Cap> {
        syscall::cap_mint(self.0, dst.slot(), slot.raw(), rights, badge).map(Cap)
    }

    /// Moves this capability into `slot` of `dst`, keeping its place in the derivation tree; this
    /// slot is empty afterwards. The returned handle names the slot used in `dst` (see
    /// [`copy`](Cap::copy)).
    ///
    /// ```no_run
    /// use sys::{CSpace, Slot};
    ///
    /// # fn demo(child: CSpace) -> sys::Result<()> {
    /// let memory = sys::process::memory().expect("the program has a Memory");
    /// // Give a program this one starts a Memory of its own: moved, not copied, so this program
    /// // keeps no capability to it.
    /// let lease = memory.split(64, Slot::Auto)?;
    /// lease.move_to(child, Slot::At(2))?;
    /// assert!(lease.identify()?.is_null());
    /// # Ok(())
    /// # }
    /// ```
    pub fn move_to(self, dst: CSpace, slot: Slot) -> Result<Cap> {
        syscall::cap_move(self.0, dst.slot(), slot.raw()).map(Cap)
    }

    /// Empties the slot. Capabilities derived from it stay, as children of its parent; the last
    /// capability to an object destroys the object (its pages are refunded to the Memory it was
    /// made from, in bounded steps: see [`Memory::info`]).
    ///
    /// The typed handles' `delete` ([`Memory::delete`], `Endpoint::delete`, ...) check the kind
    /// first and are safe; this is the one for the kinds whose death can reach memory (a Page
    /// that is mapped, a CSpace, a Task) and for slots of unknown contents.
    ///
    /// # Safety
    ///
    /// The [teardown contract](crate::safety#the-teardown-contract): no Page mapped in the
    /// caller's VSpace whose memory is in use may die of this, directly (this is its last
    /// capability) or through the deaths it sets off (the last capability to a CSpace holding
    /// such a Page's last capability, or to a Task holding that CSpace, ...).
    ///
    /// ```no_run
    /// use sys::{CSpace, Slot, rights};
    ///
    /// # fn demo() -> sys::Result<()> {
    /// let memory = sys::process::memory().expect("the program has a Memory");
    /// let console = sys::process::console().expect("the program has a console");
    /// let scratch = CSpace::create(memory, 2, Slot::Auto)?;
    /// console.copy(scratch, Slot::At(1), rights::WRITE)?;
    /// // ... done with it: the CSpace goes, and the console copy in it.
    /// // SAFETY: `scratch` is the CSpace's only capability, and it holds a DebugConsole copy only:
    /// // its death unmaps nothing.
    /// unsafe { scratch.delete()? };
    /// # Ok(())
    /// # }
    /// ```
    pub unsafe fn delete(self) -> Result<()> {
        // SAFETY: the caller keeps the teardown contract, which is what `cap_delete` needs.
        unsafe { syscall::cap_delete(self.0) }
    }

    /// Deletes the capability if the kernel's report of what the slot holds shows that its death
    /// can unmap nothing: a capability of any kind but CSpace and Task, and for a Page only while
    /// it is mapped nowhere. The safe form of [`delete`](Cap::delete) for a slot of any kind (a
    /// capability received in a message, the leftovers of a sweep); the typed handles' `delete`
    /// do the same for one kind.
    ///
    /// Errors: [`InvalidCapability`](abi::Error::InvalidCapability) (an empty slot, or one
    /// outside the CSpace); [`WrongKind`](abi::Error::WrongKind) (a CSpace or a Task, whose
    /// death may end what they hold: those need [`delete`](Cap::delete));
    /// [`InvalidState`](abi::Error::InvalidState) (a mapped Page); the errors of `page_info` for a
    /// Page. The capability stays after each.
    ///
    /// ```no_run
    /// use sys::{IpcBufferPage, Slot};
    ///
    /// static BUFFER: IpcBufferPage = IpcBufferPage::new();
    ///
    /// # fn demo(service: sys::Endpoint) -> sys::Result<()> {
    /// let me = sys::process::task().expect("the program has its Task");
    /// me.set_ipc_buffer(Some(&BUFFER))?;
    /// BUFFER.set_recv_slot(Some(Slot::Auto));
    /// let m = service.recv()?;
    /// if let Some(cap) = BUFFER.received(m.extra) {
    ///     // Not wanted, whatever it is: deleted, unless its death could unmap memory.
    ///     if let Err(e) = cap.delete_checked() {
    ///         sys::println!("kept slot {}: {e}", cap.slot());
    ///     }
    /// }
    /// # Ok(())
    /// # }
    /// ```
    pub fn delete_checked(self) -> Result<()> {
        match self.identify()?.kind {
            Ok(Kind::Null) => Err(abi::Error::InvalidCapability.into()),
            Ok(Kind::Page) => crate::vspace::Page::new(self).delete(),
            Ok(kind) if HARMLESS.contains(&kind) => delete_checked(self, kind),
            _ => Err(abi::Error::WrongKind.into()),
        }
    }

    /// Deletes every capability derived from this one (not this one), repeating the bounded
    /// kernel call while it answers [`Restart`].
    ///
    /// Returns only success or a real error. Should a broken kernel answer `Restart` forever, this
    /// does not return.
    ///
    /// The typed handles' `revoke` (every kind but Memory) check the kind first and are safe.
    ///
    /// # Safety
    ///
    /// The [teardown contract](crate::safety#the-teardown-contract), for every capability
    /// derived from this one. Only a Memory capability has derived capabilities to other objects
    /// (each object's first capability is a child of the Memory it was made from), so revoking a
    /// Memory capability deletes every capability to every object made from it, or from Memory
    /// split off it: none of them may be a Page mapped in the caller's VSpace whose memory is in
    /// use, nor lead to one.
    ///
    /// ```no_run
    /// use sys::Slot;
    ///
    /// # fn demo(child: sys::CSpace) -> sys::Result<()> {
    /// let memory = sys::process::memory().expect("the program has a Memory");
    /// let lease = memory.split(64, Slot::Auto)?;
    /// lease.copy(child, Slot::At(2), sys::rights::ALL)?;
    /// // ... the program this one started ends: take back everything it made.
    /// // SAFETY: nothing made from `lease` is mapped in this program's VSpace (this program made
    /// // nothing from it), so no memory in use here dies.
    /// unsafe { lease.revoke()? };
    /// lease.delete()?; // the quota goes back to `memory`
    /// # Ok(())
    /// # }
    /// ```
    pub unsafe fn revoke(self) -> Result<()> {
        loop {
            // SAFETY: the caller keeps the teardown contract for the whole revocation.
            match unsafe { self.revoke_step() } {
                Err(e) if e == Restart => continue,
                done => return done,
            }
        }
    }

    /// One bounded step of [`revoke`](Cap::revoke): `Err(Restart)` means part of the work is
    /// done and the call must be made again.
    ///
    /// # Safety
    ///
    /// As for [`revoke`](Cap::revoke), for the capabilities this step deletes.
    ///
    /// ```no_run
    /// use sys::abi::Error::Restart;
    ///
    /// # fn demo(lease: sys::Memory) -> sys::Result<()> {
    /// // Revoke in bounded steps, with other work in between.
    /// let revoked = loop {
    ///     // SAFETY: as for `revoke`: nothing made from `lease` is mapped in this program's VSpace.
    ///     match unsafe { lease.revoke_step() } {
    ///         Err(e) if e == Restart => sys::thread::yield_now(),
    ///         done => break done,
    ///     }
    /// };
    /// revoked?;
    /// # Ok(())
    /// # }
    /// ```
    pub unsafe fn revoke_step(self) -> Result<()> {
        // SAFETY: the caller keeps the teardown contract, which is what `cap_revoke` needs.
        unsafe { syscall::cap_revoke(self.0) }
    }
}

/// Fails unless the slot `cap` names holds a capability of `kind`: with
/// [`InvalidCapability`](abi::Error::InvalidCapability) for an empty slot or one outside the
/// CSpace (what `cap_delete` and `cap_revoke` would answer), and
/// [`WrongKind`](abi::Error::WrongKind) for a capability of another kind.
pub(crate) fn expect_kind(cap: Cap, kind: Kind) -> Result<()> {
    match cap.identify()?.kind {
        Ok(found) if found == kind => Ok(()),
        Ok(Kind::Null) => Err(abi::Error::InvalidCapability.into()),
        _ => Err(abi::Error::WrongKind.into()),
    }
}

/// The kinds whose death reaches no memory of anyone's (see
/// [`safety`](crate::safety#what-dies-and-what-that-reaches)): their capabilities can be
/// deleted once a check has shown that the slot holds one.
const HARMLESS: [Kind; 12] = [
    Kind::Memory,
    Kind::DebugConsole,
    Kind::VSpace,
    Kind::Endpoint,
    Kind::Note,
    Kind::Timer,
    Kind::IrqControl,
    Kind::IrqHandler,
    Kind::IoPortControl,
    Kind::IoPort,
    Kind::Reply,
    Kind::DeviceControl,
];

/// Deletes the capability in `cap` if it is of `kind`, one of [`HARMLESS`]; the safe `delete`
/// of the typed handles (and of [`Cap::delete_checked`]).
pub(crate) fn delete_checked(cap: Cap, kind: Kind) -> Result<()> {
    if !HARMLESS.contains(&kind) {
        return Err(abi::Error::WrongKind.into());
    }
    expect_kind(cap, kind)?;
    // SAFETY: the slot held a capability of `kind` at the check just now; whatever else could
    // have been put in it since is nothing this program relies on (`crate::safety`, "Shared
    // slots": the shared-slot rule, and what lies outside the model). `kind` is one of
    // `HARMLESS`, whose death unmaps no Page and ends no object that could (the caller's own
    // VSpace is held by the caller's Task, so a VSpace that dies is another's; every object holds
    // its Memory, so a Memory dies only when nothing made from it is left). So the teardown
    // contract holds.
    unsafe { cap.delete() }
}

/// Revokes the capability in `cap` if it is of `kind`, any kind but Memory; `step` makes one
/// bounded call only. The safe `revoke` and `revoke_step` of the typed handles.
pub(crate) fn revoke_checked(cap: Cap, kind: Kind, step: bool) -> Result<()> {
    if kind == Kind::Memory {
        return Err(abi::Error::WrongKind.into());
    }
    expect_kind(cap, kind)?;
    // SAFETY: the slot holds a capability of `kind`, not Memory (checked just now; anything put
    // there since is nothing this program relies on, as in `delete_checked`). Every capability
    // derived from one that is not a Memory capability names the same object (copies, mints and
    // transfers keep the object; new objects' capabilities are children of a Memory capability),
    // and the revoked capability stays and keeps that object alive: nothing dies, so the teardown
    // contract holds.
    unsafe { if step { cap.revoke_step() } else { cap.revoke() } }
}

/// Gives a typed handle whose kind dies without reaching memory a safe, checked `delete`.
///
/// `$var` and the `$make` lines are for the example: code that gets such a capability into `$var`
/// (in a function returning `sys::Result<()>`).
macro_rules! checked_delete {
    ($name:ident, $kind:expr, $what:literal, $var:literal, $($make:literal),+ $(,)?) => {
        impl $name {
            #[doc = concat!("Deletes this capability, after checking that the slot holds ", $what, " capability: safe, since the death of ", $what, " unmaps nothing (see [`safety`](crate::safety#what-dies-and-what-that-reaches)). As [`Cap::delete`](crate::Cap::delete) otherwise.")]
            ///
            /// Errors: [`InvalidCapability`](abi::Error::InvalidCapability) (an empty slot, or
            /// one outside the CSpace); [`WrongKind`](abi::Error::WrongKind) (a capability of
            /// another kind, which stays).
            ///
            /// ```no_run
            /// # fn demo() -> sys::Result<()> {
            #[doc = concat!($($make, "\n"),+)]
            /// // ... done with it: the slot is empty again.
            #[doc = concat!("if let Err(e) = ", $var, ".delete() {")]
            #[doc = concat!("    sys::println!(\"slot {}: {e}\", ", $var, ".slot());")]
            /// }
            /// # Ok(())
            /// # }
            /// ```
            pub fn delete(self) -> $crate::error::Result<()> {
                $crate::cap::delete_checked(self.cap(), $kind)
            }
        }
    };
}

/// Gives a typed handle of a kind other than Memory a safe, checked `revoke` and `revoke_step`.
///
/// `$var` and the `$make` lines are for the examples, as for [`checked_delete`].
macro_rules! checked_revoke {
    ($name:ident, $kind:expr, $what:literal, $var:literal, $($make:literal),+ $(,)?) => {
        impl $name {
            #[doc = concat!("Deletes every capability derived from this one, after checking that the slot holds ", $what, " capability: safe, since those are all capabilities to the same object, which this one keeps alive. As [`Cap::revoke`](crate::Cap::revoke) otherwise (repeated while the kernel answers `Restart`).")]
            ///
            /// Errors: [`InvalidCapability`](abi::Error::InvalidCapability) (an empty slot, or
            /// one outside the CSpace); [`WrongKind`](abi::Error::WrongKind) (another kind:
            /// nothing is revoked).
            ///
            /// ```no_run
            /// use sys::{Slot, rights};
            ///
            /// # fn demo(other: sys::CSpace) -> sys::Result<()> {
            #[doc = concat!($($make, "\n"),+)]
            /// // Lend a copy to another program (through a capability to its CSpace)...
            #[doc = concat!($var, ".copy(other, Slot::At(9), rights::READ)?;")]
            /// // ... and later take back every copy made from this one, which stays.
            #[doc = concat!($var, ".revoke()?;")]
            /// # Ok(())
            /// # }
            /// ```
            pub fn revoke(self) -> $crate::error::Result<()> {
                $crate::cap::revoke_checked(self.cap(), $kind, false)
            }

            /// One bounded step of [`revoke`](Self::revoke), checked the same way:
            /// `Err(Restart)` means part of the work is done and the call must be made again.
            ///
            /// ```no_run
            /// use sys::abi::Error::Restart;
            ///
            /// # fn demo() -> sys::Result<()> {
            #[doc = concat!($($make, "\n"),+)]
            /// // Revoke in bounded steps, with other work in between.
            /// let revoked = loop {
            #[doc = concat!("    match ", $var, ".revoke_step() {")]
            ///         Err(e) if e == Restart => sys::thread::yield_now(),
            ///         done => break done,
            ///     }
            /// };
            /// revoked?;
            /// # Ok(())
            /// # }
            /// ```
            pub fn revoke_step(self) -> $crate::error::Result<()> {
                $crate::cap::revoke_checked(self.cap(), $kind, true)
            }
        }
    };
}

pub(crate) use {checked_delete, checked_revoke};

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
            ///
            /// ```
            #[doc = concat!("use sys::{Cap, ", stringify!($name), "};")]
            ///
            /// // A slot learnt at run time: from the start page, a message, a configuration.
            /// let cap = Cap::new(12);
            #[doc = concat!("let handle = ", stringify!($name), "::new(cap);")]
            /// assert_eq!(handle.cap(), cap);
            /// ```
            pub const fn new(cap: Cap) -> $name {
                $name(cap)
            }

            #[doc = concat!("Treats the capability in `slot` as ", $kind, " capability (see [`new`](Self::new)).")]
            ///
            /// ```
            /// // The slot its starter documented, say 12.
            #[doc = concat!("let handle = sys::", stringify!($name), "::at(12);")]
            /// assert_eq!(handle.slot(), 12);
            /// ```
            pub const fn at(slot: usize) -> $name {
                $name(Cap::new(slot))
            }

            /// The untyped capability address.
            ///
            /// ```
            #[doc = concat!("let handle = sys::", stringify!($name), "::at(12);")]
            /// // The untyped address, for the raw wrappers and the generic calls.
            /// let cap: sys::Cap = handle.cap();
            /// assert_eq!(cap.slot(), 12);
            /// ```
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
    ///
    /// ```no_run
    /// use sys::{Memory, Slot};
    ///
    /// # fn demo(boot: &sys::Boot) -> sys::Result<()> {
    /// // A program's Memory comes with its start page (the root task's is `sys::root::memory()`).
    /// let memory: Memory = boot.memory().expect("the program has a Memory");
    /// let info = memory.info()?;
    /// sys::println!("{} of {} pages used", info.used, info.quota);
    /// // Objects are made from it, and part of its quota can be handed on.
    /// let note = sys::Note::create(memory, Slot::Auto)?;
    /// let for_a_driver = memory.split(64, Slot::Auto)?;
    /// # Ok(())
    /// # }
    /// ```
    Memory,
    "a Memory"
);

handle!(
    /// A CSpace capability: a table of capability slots.
    ///
    /// ```no_run
    /// use sys::{CSpace, Slot, rights};
    ///
    /// # fn demo() -> sys::Result<()> {
    /// let memory = sys::process::memory().expect("the program has a Memory");
    /// // A CSpace of 16 slots for a program this one starts...
    /// let child: CSpace = CSpace::create(memory, 4, Slot::Auto)?;
    /// // ... holding the console, in the slot its start page will name.
    /// let console = sys::process::console().expect("the program has a console");
    /// console.copy(child, Slot::At(1), rights::WRITE)?;
    /// # Ok(())
    /// # }
    /// ```
    CSpace,
    "a CSpace"
);

handle!(
    /// A DebugConsole capability: the right to write to the kernel's debug console.
    ///
    /// ```no_run
    /// # fn demo(boot: &sys::Boot) -> sys::Result<()> {
    /// if let Some(console) = boot.console() {
    ///     console.write(b"driver: started\n")?;
    /// }
    /// # Ok(())
    /// # }
    /// ```
    DebugConsole,
    "a DebugConsole"
);

checked_delete!(
    Memory,
    Kind::Memory,
    "a Memory",
    "lease",
    "let memory = sys::process::memory().expect(\"the program has a Memory\");",
    "let lease = memory.split(16, sys::Slot::Auto)?;"
);
checked_delete!(
    DebugConsole,
    Kind::DebugConsole,
    "a DebugConsole",
    "console",
    "let console = sys::process::console().expect(\"the program has a console\");"
);
checked_revoke!(
    CSpace,
    Kind::CSpace,
    "a CSpace",
    "cspace",
    "let memory = sys::process::memory().expect(\"the program has a Memory\");",
    "let cspace = sys::CSpace::create(memory, 4, sys::Slot::Auto)?;"
);
checked_revoke!(
    DebugConsole,
    Kind::DebugConsole,
    "a DebugConsole",
    "console",
    "let console = sys::process::console().expect(\"the program has a console\");"
);

/// What [`Memory::info`] reports, in pages.
///
/// ```no_run
/// # fn demo() -> sys::Result<()> {
/// let memory = sys::process::memory().expect("the program has a Memory");
/// let before = memory.info()?;
/// let page = sys::Page::create(memory, 4, sys::Slot::Auto)?;
/// assert_eq!(memory.info()?.used, before.used + 5); // four pages and the Page's header
/// page.delete()?;
/// assert_eq!(memory.info()?, before);
/// # Ok(())
/// # }
/// ```
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
    ///
    /// ```
    /// use sys::MemoryInfo;
    ///
    /// assert_eq!(MemoryInfo { quota: 100, used: 40 }.free(), 60);
    /// // Never below 0, should `used` ever exceed `quota`.
    /// assert_eq!(MemoryInfo { quota: 1, used: 4 }.free(), 0);
    ///
    /// /// Whether `memory` can pay for a Page of `pages` pages (and its header).
    /// fn can_afford(memory: sys::Memory, pages: usize) -> sys::Result<bool> {
    ///     Ok(memory.info()?.free() > pages)
    /// }
    /// ```
    pub const fn free(&self) -> usize {
        self.quota.saturating_sub(self.used)
    }
}

impl Memory {
    /// Makes a child Memory with a quota of `pages` (`1..=`[`MAX_QUOTA`](abi::object::MAX_QUOTA))
    /// in `dst` of the caller's CSpace. This Memory is charged `pages + 1` (the child's quota and
    /// its own page), refunded when the child is destroyed. Needs WRITE.
    ///
    /// ```no_run
    /// use sys::Slot;
    /// use sys::abi::Error::QuotaExceeded;
    ///
    /// # fn demo() -> sys::Result<()> {
    /// let memory = sys::process::memory().expect("the program has a Memory");
    /// // A driver gets 256 pages of its own; `memory` is charged 257.
    /// let for_driver = match memory.split(256, Slot::Auto) {
    ///     Ok(m) => m,
    ///     Err(e) if e == QuotaExceeded => {
    ///         sys::println!("not enough memory left for the driver");
    ///         return Err(e);
    ///     }
    ///     Err(e) => return Err(e),
    /// };
    /// assert_eq!(for_driver.info()?.quota, 256);
    /// # Ok(())
    /// # }
    /// ```
    pub fn split(self, pages: usize, dst: Slot) -> Result<Memory> {
        syscall::memory_split(self.slot(), pages, dst.raw()).map(Memory::at)
    }

    /// The quota and the pages charged to it. Destruction still pending from earlier deletions is
    /// finished first: the call is repeated while the kernel answers
    /// [`Restart`], so the result counts every refund due. Needs READ.
    ///
    /// ```no_run
    /// # fn demo() -> sys::Result<()> {
    /// let memory = sys::process::memory().expect("the program has a Memory");
    /// let info = memory.info()?;
    /// sys::println!("memory: {} of {} pages free", info.free(), info.quota);
    /// # Ok(())
    /// # }
    /// ```
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
    ///
    /// ```no_run
    /// use sys::abi::Error::Restart;
    ///
    /// # fn demo() -> sys::Result<()> {
    /// let memory = sys::process::memory().expect("the program has a Memory");
    /// // Look without waiting for pending destruction to finish.
    /// match memory.info_step() {
    ///     Ok(info) => sys::println!("{} pages used", info.used),
    ///     Err(e) if e == Restart => sys::println!("still freeing; ask again later"),
    ///     Err(e) => return Err(e),
    /// }
    /// # Ok(())
    /// # }
    /// ```
    pub fn info_step(self) -> Result<MemoryInfo> {
        let (quota, used) = syscall::memory_info(self.slot())?;
        Ok(MemoryInfo { quota, used })
    }
}

impl CSpace {
    /// Makes a CSpace of `2^radix` empty slots (`1..=`[`MAX_RADIX`](abi::object::MAX_RADIX)) in
    /// `dst` of the caller's CSpace, charged [`cspace_pages(radix)`](abi::object::cspace_pages)
    /// to `memory` (which needs WRITE).
    ///
    /// ```no_run
    /// use sys::{CSpace, Slot};
    /// use sys::abi::object::cspace_pages;
    ///
    /// # fn demo() -> sys::Result<()> {
    /// let memory = sys::process::memory().expect("the program has a Memory");
    /// let before = memory.info()?.used;
    /// // 2^6 = 64 slots.
    /// let cspace = CSpace::create(memory, 6, Slot::Auto)?;
    /// assert_eq!(memory.info()?.used, before + cspace_pages(6));
    /// # Ok(())
    /// # }
    /// ```
    pub fn create(memory: Memory, radix: usize, dst: Slot) -> Result<CSpace> {
        syscall::cspace_create(memory.slot(), radix, dst.raw()).map(CSpace::at)
    }
}

impl DebugConsole {
    /// Writes `buf` to the debug console as one unit; returns `buf.len()`. At most
    /// [`DEBUG_WRITE_MAX`](abi::syscall::DEBUG_WRITE_MAX) bytes (else `InvalidArgument`, nothing
    /// written). Needs WRITE.
    ///
    /// ```no_run
    /// use core::fmt::Write;
    /// use sys::debug::FixedBuf;
    ///
    /// # fn demo(boot: &sys::Boot) -> sys::Result<()> {
    /// let console = boot.console().expect("the program has a console");
    /// // Format without a heap, then write the line as one unit.
    /// let mut line = FixedBuf::<128>::new();
    /// let _ = writeln!(line, "uart: {} bytes received", 42); // a `FixedBuf` never fails
    /// console.write(line.as_bytes())?;
    /// # Ok(())
    /// # }
    /// ```
    pub fn write(self, buf: &[u8]) -> Result<usize> {
        self.write_raw(buf.as_ptr().expose_provenance(), buf.len())
    }

    /// [`write`](DebugConsole::write) with an arbitrary address and length: safe for any, as
    /// [`debug_write_raw`](crate::debug_write_raw) explains.
    ///
    /// ```no_run
    /// use sys::abi::Error::BadAddress;
    ///
    /// # fn demo() -> sys::Result<()> {
    /// let console = sys::process::console().expect("the program has a console");
    /// // Page 0 is never mapped: the kernel refuses the write, and reads nothing.
    /// assert_eq!(console.write_raw(0, 16), Err(BadAddress.into()));
    /// let text = b"ok\n";
    /// assert_eq!(console.write_raw(text.as_ptr().addr(), text.len()), Ok(3));
    /// # Ok(())
    /// # }
    /// ```
    pub fn write_raw(self, ptr: usize, len: usize) -> Result<usize> {
        syscall::debug_write_console_raw(self.slot(), ptr, len)
    }

    /// Reads the kernel log from byte `seq` on into `buf` (at most
    /// [`LOG_READ_MAX`](abi::syscall::LOG_READ_MAX) bytes, else `InvalidArgument`). The log
    /// numbers every byte since boot, kernel lines and debug writes alike, and keeps the last
    /// [`LOG_RING_BYTES`](abi::syscall::LOG_RING_BYTES); [`LogRead::lost`] says how many bytes
    /// from `seq` on were gone. Needs READ. `seq` beyond the log's end is `InvalidArgument`.
    ///
    /// ```no_run
    /// # fn demo() -> sys::Result<()> {
    /// // Print the whole kernel log kept so far (a `dmesg`).
    /// let console = sys::root::console();
    /// let (mut seq, mut buf) = (0, [0u8; 512]);
    /// loop {
    ///     let got = console.read_log(seq, &mut buf)?;
    ///     if got.len == 0 {
    ///         break;
    ///     }
    ///     sys::print!("{}", core::str::from_utf8(&buf[..got.len]).unwrap_or("?"));
    ///     seq = got.next;
    /// }
    /// # Ok(())
    /// # }
    /// ```
    pub fn read_log(self, seq: u64, buf: &mut [u8]) -> Result<LogRead> {
        let len = buf.len();
        // SAFETY: `buf` is a `&mut [u8]`: memory the caller may overwrite, borrowed for the call.
        let (len, next, lost) =
            unsafe { syscall::log_read(self.slot(), seq, buf.as_mut_ptr().expose_provenance(), len) }?;
        Ok(LogRead { len, next, lost })
    }
}

/// What [`DebugConsole::read_log`] read.
///
/// ```no_run
/// # fn demo() -> sys::Result<()> {
/// let got = sys::root::console().read_log(0, &mut [0u8; 256])?;
/// if got.lost > 0 {
///     sys::println!("{} bytes of the log were overwritten before they were read", got.lost);
/// }
/// # Ok(())
/// # }
/// ```
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct LogRead {
    /// Bytes copied into the buffer.
    pub len: usize,
    /// The sequence number after them: where to read next.
    pub next: u64,
    /// Bytes from the sequence number asked for on that the log no longer held (reading resumed
    /// at the oldest it keeps).
    pub lost: u64,
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
