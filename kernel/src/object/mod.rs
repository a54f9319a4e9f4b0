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
pub mod task;
#[cfg(not(test))]
pub mod timer;
#[cfg(not(test))]
pub mod transfer;
#[cfg(not(test))]
pub mod vspace;

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

/// The header every object starts with.
#[repr(C)]
pub struct Header {
    kind: Kind,
    /// References: capabilities naming the object, and objects holding it.
    refs: u64,
    /// Pages charged to `memory` for this object.
    charged: u64,
    /// The Memory object charged (holds a reference to it); `None` for the root Memory.
    memory: Option<ObjRef>,
    /// Next object on the dead list.
    next_dead: Option<ObjRef>,
    /// The run holding this header.
    phys: u64,
    /// Pages in that run.
    pages: u64,
}

/// A reference to a live object.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct ObjRef(NonNull<Header>);

impl ObjRef {
    fn hdr(self) -> *mut Header {
        self.0.as_ptr()
    }

    /// The object's kind.
    pub fn kind(self) -> Kind {
        // SAFETY: module invariant: the reference points at a live object.
        unsafe { (*self.hdr()).kind }
    }

    /// References held on the object.
    pub fn refs(self) -> u64 {
        // SAFETY: module invariant.
        unsafe { (*self.hdr()).refs }
    }

    /// Takes one more reference.
    pub fn acquire(self) {
        // SAFETY: module invariant.
        unsafe { (*self.hdr()).refs += 1 }
    }

    /// Drops one reference; the last one hands the object to the dead list.
    pub fn release(self, dead: &mut DeadList) {
        // SAFETY: module invariant; `refs > 0` because the caller holds a reference.
        let refs = unsafe {
            let h = self.hdr();
            debug_assert!((*h).refs > 0);
            (*h).refs -= 1;
            (*h).refs
        };
        if refs == 0 {
            #[cfg(not(test))]
            match self.kind() {
                Kind::Task => task::on_death(self),
                Kind::Timer => timer::on_death(self),
                Kind::Note => note::on_death(self),
                Kind::IrqHandler => irq::on_death(self),
                Kind::Page => page::on_death(self),
                _ => {}
            }
            dead.push(self);
        }
    }

    /// The object as a `T`, for the module that owns that kind.
    fn cast<T>(self) -> *mut T {
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
    head: Option<ObjRef>,
}

impl DeadList {
    /// An empty list.
    pub const fn new() -> Self {
        Self { head: None }
    }

    fn push(&mut self, obj: ObjRef) {
        // SAFETY: module invariant; an object is pushed once, when its count reaches zero.
        unsafe { (*obj.hdr()).next_dead = self.head };
        self.head = Some(obj);
    }

    fn pop(&mut self) -> Option<ObjRef> {
        let obj = self.head?;
        // SAFETY: module invariant.
        self.head = unsafe { (*obj.hdr()).next_dead.take() };
        Some(obj)
    }

    /// Whether nothing is waiting.
    pub fn is_empty(&self) -> bool {
        self.head.is_none()
    }
}

/// What operations on objects need: pages, and the dead list.
pub struct Ctx<'a> {
    /// The page source.
    pub pages: &'a mut dyn Pages,
    /// Objects waiting for destruction.
    pub dead: &'a mut DeadList,
}

/// Work units [`reap`] does per kernel entry: slot deletions, 64-slot bitmap words scanned, and
/// objects freed each count one.
pub const REAP_BUDGET: u32 = 64;

/// Allocates an object of `pages` pages whose first bytes are a `T` starting with a [`Header`],
/// charging `charge` pages to `memory` (if any). The header is filled in; the rest of `T` is zero.
fn create<T>(ctx: &mut Ctx<'_>, kind: Kind, memory: Option<ObjRef>, pages: u64, charge: u64) -> Result<ObjRef, Error> {
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
    // SAFETY: a fresh, zeroed, exclusively owned run large enough for `T`.
    unsafe {
        hdr.write(Header { kind, refs: 0, charged: charge, memory, next_dead: None, phys, pages });
    }
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
        // SAFETY: the object is dead (no references) and emptied; its header is read before the
        // run holding it is freed, and nothing refers to it afterwards.
        let (phys, pages, charged, memory) = unsafe {
            let h = obj.hdr();
            ((*h).phys, (*h).pages, (*h).charged, (*h).memory)
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
