//! Kernel objects and the capabilities that name them: a library that knows nothing of syscalls.
//!
//! Every object lives in pages of its own, taken from the page allocator and charged to the
//! Memory object it was made from; the kernel heap holds no per-object state. An object is named
//! by an [`ObjRef`] and counts the references to it (capabilities, and objects that hold it);
//! when the count drops to zero it is put on the [`DeadList`] and destroyed later in bounded
//! steps ([`reap`]): its contents are released, its pages freed and its charge refunded.
//!
//! Invariant: an `ObjRef` held anywhere the kernel can reach (a capability, an object field, the
//! dead list) points at a live object of the kind its header records. The module's `unsafe` rests
//! on it; every function that drops the last reference hands the object to the dead list instead of
//! freeing it on the spot, so no reference can outlive its object.
//!
//! Aliasing: an object is only ever reached through shared references ([`ObjRef::get`]), and
//! everything in it that changes after it is made is a `Cell` (a task's saved registers are an
//! `arch::context::SavedContext`, whose methods each hold the only reference for their own
//! duration). So two paths that reach the same object, even one that reaches it twice, never hold
//! two `&mut` to it: there are none to hold. The same holds for the kernel-wide state kept here
//! and in `sched` (`sync::Global`).
//!
//! Layers, from the bottom: [`cdt`] and [`memory`]; the object kinds that hold no tasks
//! ([`cspace`], [`page`], [`vspace`], [`ioport`]); [`task`] (with the wait queue that links
//! tasks); [`waitq`] (blocking and waking); [`transfer`] (what travels through IPC buffers);
//! [`note`]; [`stop`], which takes a task out of everything when it ends; then [`endpoint`],
//! [`timer`] and [`irq`]. No module calls one above it (the import graph has no circles), and
//! none calls `uapi` or ends the run: what a stopped root task means is reported upward
//! ([`stop::take_run_end`]), never decided here.
//!
//! `uapi` decodes user requests into calls on this library; this library validates what only it can
//! know (quotas, slots, rights on derived capabilities) and returns `abi::Error`s.

pub mod cdt;
pub mod cspace;
#[cfg(not(test))]
pub mod endpoint;
#[cfg(not(test))]
pub mod global;
pub mod ioport;
#[cfg(not(test))]
pub mod irq;
pub mod memory;
#[cfg(not(test))]
pub mod note;
#[cfg(not(test))]
pub mod page;
#[cfg(not(test))]
pub mod stop;
#[cfg(not(test))]
pub mod task;
#[cfg(not(test))]
pub mod timer;
#[cfg(not(test))]
pub mod transfer;
#[cfg(not(test))]
pub mod vspace;
#[cfg(not(test))]
pub mod waitq;

use core::cell::Cell;
use core::ptr::NonNull;

use abi::Error;
pub use abi::object::Kind;

use crate::mem::frame::{FrameAllocator, FrameError};

/// Where objects get their pages.
pub trait Pages {
    /// Allocates a zeroed, physically contiguous run of `pages` pages; its physical address.
    fn alloc(&mut self, pages: u64) -> Result<u64, FrameError>;
    /// Frees a run from `alloc`.
    ///
    /// # Safety
    /// `phys`/`pages` must be exactly one live run from `alloc`, unused from now on.
    unsafe fn free(&mut self, phys: u64, pages: u64);
    /// Where physical `phys` is reached.
    fn virt(&self, phys: u64) -> *mut u8;
    /// Pages free now.
    fn free_pages(&self) -> u64;
    /// Pages a run of `pages` really takes.
    fn run_pages(&self, pages: u64) -> u64 {
        FrameAllocator::run_pages(pages).unwrap_or(u64::MAX)
    }
}

impl Pages for FrameAllocator {
    fn alloc(&mut self, pages: u64) -> Result<u64, FrameError> {
        FrameAllocator::alloc(self, pages)
    }

    unsafe fn free(&mut self, phys: u64, pages: u64) {
        // SAFETY: forwarded contract.
        unsafe { FrameAllocator::free(self, phys, pages) }
    }

    fn virt(&self, phys: u64) -> *mut u8 {
        FrameAllocator::virt(self, phys)
    }

    fn free_pages(&self) -> u64 {
        FrameAllocator::free_pages(self)
    }
}

/// Maps a page-allocator failure to the error user space sees.
pub fn frame_error(e: FrameError) -> Error {
    match e {
        FrameError::OutOfMemory => Error::OutOfMemory,
        FrameError::InvalidSize => Error::InvalidArgument,
    }
}

/// The header every object starts with. Only `refs` and `next_dead` change after `create`.
#[repr(C)]
pub struct Header {
    kind: Kind,
    /// References: capabilities naming the object, and objects holding it.
    refs: Cell<u64>,
    /// Pages charged to `memory` for this object.
    charged: u64,
    /// The Memory object charged (holds a reference to it); `None` for the root Memory.
    memory: Option<ObjRef>,
    /// Next object on the dead list.
    next_dead: Cell<Option<ObjRef>>,
    /// The run holding this header.
    phys: u64,
    /// Pages in that run.
    pages: u64,
}

/// A kind of kernel object: the struct a module lays over the pages of an object of that kind.
///
/// # Safety
/// The implementor is `repr(C)` and starts with a [`Header`]; every field that changes after
/// `create` is a `Cell` (or otherwise lives in an `UnsafeCell`), so shared references to it may
/// coexist with changes; and all-zero bytes are a valid value of every field but the header
/// (`create` hands out zeroed pages with only the header written).
pub unsafe trait Object {
    /// The kind recorded in the header of every object of this type.
    const KIND: Kind;
}

/// A reference to a live object.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct ObjRef(NonNull<Header>);

impl ObjRef {
    fn hdr<'a>(self) -> &'a Header {
        // SAFETY: module invariant: the reference points at a live object, whose header is only
        // ever shared (its changing fields are `Cell`s).
        unsafe { self.0.as_ref() }
    }

    /// The object's kind.
    pub fn kind(self) -> Kind {
        self.hdr().kind
    }

    /// References held on the object.
    pub fn refs(self) -> u64 {
        self.hdr().refs.get()
    }

    /// Takes one more reference.
    pub fn acquire(self) {
        let h = self.hdr();
        h.refs.set(h.refs.get() + 1);
    }

    /// Drops one reference; the last one hands the object to the dead list.
    pub fn release(self, dead: &DeadList) {
        let h = self.hdr();
        debug_assert!(h.refs.get() > 0, "the caller holds a reference");
        let refs = h.refs.get() - 1;
        h.refs.set(refs);
        if refs == 0 {
            #[cfg(not(test))]
            match self.kind() {
                Kind::Task => stop::on_death(self),
                Kind::Timer => timer::on_death(self),
                Kind::Note => note::on_death(self),
                Kind::IrqHandler => irq::on_death(self),
                // A dying Page leaves its VSpace at once.
                Kind::Page => vspace::unmap(self),
                _ => {}
            }
            dead.push(self);
        }
    }

    /// The object as the `T` of its kind, for the module that owns that kind. Objects are only
    /// ever shared (see the module docs); the reference lasts while the object lives, which is
    /// until the reaper frees it, and no kernel path keeps one across a reap.
    fn get<'a, T: Object>(self) -> &'a T {
        debug_assert_eq!(self.kind(), T::KIND);
        // SAFETY: module invariant (a live object of its header's kind, which is `T`'s); `T` is
        // an `Object`, laid over the object's pages with its changing state in cells, and no
        // `&mut` to any object is ever made.
        unsafe { self.0.cast::<T>().as_ref() }
    }

    /// The object's first byte, with the whole run it lives in as provenance: for the few
    /// objects (a CSpace's bitmap) that keep state past their `T`, reached as cells.
    fn base_ptr(self) -> *mut u8 {
        self.0.as_ptr().cast()
    }

    /// A stable number for the object (its header's address), for logs and identity checks.
    pub fn id(self) -> u64 {
        self.0.as_ptr() as u64
    }
}

/// Objects whose last reference is gone, waiting to be destroyed.
#[derive(Default)]
pub struct DeadList {
    head: Cell<Option<ObjRef>>,
}

impl DeadList {
    /// An empty list.
    pub const fn new() -> Self {
        Self { head: Cell::new(None) }
    }

    fn push(&self, obj: ObjRef) {
        // An object is pushed once, when its count reaches zero.
        obj.hdr().next_dead.set(self.head.get());
        self.head.set(Some(obj));
    }

    fn pop(&self) -> Option<ObjRef> {
        let obj = self.head.get()?;
        self.head.set(obj.hdr().next_dead.take());
        Some(obj)
    }

    /// Whether nothing is waiting.
    pub fn is_empty(&self) -> bool {
        self.head.get().is_none()
    }
}

/// What operations on objects need: pages, and the dead list.
pub struct Ctx<'a> {
    /// The page source.
    pub pages: &'a mut dyn Pages,
    /// Objects waiting for destruction.
    pub dead: &'a DeadList,
}

/// Work units [`reap`] does per kernel entry: slot deletions, 64-slot bitmap words scanned, and
/// objects freed each count one.
pub const REAP_BUDGET: u32 = 64;

/// Allocates an object of `pages` pages whose first bytes are a `T` starting with a [`Header`],
/// charging `charge` pages to `memory` (if any). The header is filled in; the rest of `T` is zero.
fn create<T: Object>(ctx: &mut Ctx<'_>, memory: Option<ObjRef>, pages: u64, charge: u64) -> Result<ObjRef, Error> {
    let kind = T::KIND;
    debug_assert!(core::mem::size_of::<T>() as u64 <= pages * 4096);
    if let Some(m) = memory {
        memory::charge(m, charge)?;
    }
    let phys = match ctx.pages.alloc(pages) {
        Ok(p) => p,
        Err(e) => {
            if let Some(m) = memory {
                memory::refund(m, charge);
            }
            return Err(frame_error(e));
        }
    };
    let hdr = ctx.pages.virt(phys).cast::<Header>();
    let header = Header { kind, refs: Cell::new(0), charged: charge, memory, next_dead: Cell::new(None), phys, pages };
    // SAFETY: a fresh, zeroed, exclusively owned run large enough for `T` (no reference to it
    // exists yet); the rest of `T` is valid as zeroes (`Object`'s contract).
    unsafe { hdr.write(header) };
    if let Some(m) = memory {
        m.acquire();
    }
    // SAFETY: `hdr` is non-null (the direct map never maps address 0).
    Ok(ObjRef(unsafe { NonNull::new_unchecked(hdr) }))
}

/// Destroys dead objects, at most `budget` work units. Returns whether the dead list is empty.
pub fn reap(ctx: &mut Ctx<'_>, mut budget: u32) -> bool {
    while budget > 0 {
        let Some(obj) = ctx.dead.pop() else { return true };
        let finished = match obj.kind() {
            Kind::CSpace => cspace::teardown(ctx, obj, &mut budget),
            #[cfg(not(test))]
            Kind::Task => {
                task::teardown(ctx, obj);
                true
            }
            #[cfg(not(test))]
            Kind::Endpoint => endpoint::teardown(obj, &mut budget),
            #[cfg(not(test))]
            Kind::Note => note::teardown(obj, &mut budget),
            #[cfg(not(test))]
            Kind::Timer => {
                timer::teardown(ctx, obj);
                true
            }
            #[cfg(not(test))]
            Kind::IrqHandler => {
                irq::teardown(ctx, obj);
                true
            }
            #[cfg(not(test))]
            Kind::VSpace => vspace::teardown(ctx, obj, &mut budget),
            #[cfg(not(test))]
            Kind::Page => {
                page::teardown(ctx, obj);
                true
            }
            _ => true,
        };
        if !finished {
            ctx.dead.push(obj);
            continue;
        }
        budget = budget.saturating_sub(1);
        // The object is dead (no references) and emptied; its header is read before the run
        // holding it is freed, and nothing refers to it afterwards.
        let (phys, pages, charged, memory) = {
            let h = obj.hdr();
            (h.phys, h.pages, h.charged, h.memory)
        };
        // SAFETY: the header run was allocated in `create` and is unused from now on.
        unsafe { ctx.pages.free(phys, pages) };
        if let Some(m) = memory {
            memory::refund(m, charged);
            m.release(ctx.dead);
        }
    }
    ctx.dead.is_empty()
}
