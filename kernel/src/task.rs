//! User tasks: a thread of execution (its saved registers) in an address space, and the root
//! task's construction from the initramfs.
//!
//! For now there is exactly one task, the root task, held by [`current`]; the scheduler and the
//! Task object replace this with the kernel proper.

use alloc::boxed::Box;

use abi::layout::{PAGE_SIZE, ROOT_INFO_ADDR, ROOT_INITRAMFS_ADDR, ROOT_STACK_SIZE, ROOT_STACK_TOP};
use abi::rootinfo::{ROOT_INFO_MAGIC, ROOT_INFO_VERSION, RootInfo};

use crate::arch::context::{self, UserContext};
use crate::boot::{BootInfo, Protocol};
use crate::initramfs::Initramfs;
use crate::mem::vspace::{Access, VSpace};
use crate::sync::RacyCell;

/// A user task.
pub struct Task {
    /// Its saved registers; must stay first-class and pinned while the task is current.
    pub ctx: UserContext,
    /// Its address space.
    pub vspace: VSpace,
    /// Kernel-assigned ID.
    pub id: u64,
    /// Name for logs.
    pub name: &'static str,
}

/// Why the root task could not be built.
#[derive(Copy, Clone, Debug)]
pub enum LoadError {
    /// The loader passed no initramfs.
    NoInitramfs,
    /// The initramfs is unusable.
    Initramfs(crate::initramfs::InitramfsError),
    /// `init` is not a loadable executable.
    Elf(elfload::ElfError),
    /// Out of memory while building the address space.
    OutOfMemory,
}

impl core::fmt::Display for LoadError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            LoadError::NoInitramfs => f.write_str("no initramfs was passed (use -initrd or a Limine module)"),
            LoadError::Initramfs(e) => write!(f, "initramfs: {}", e.describe()),
            LoadError::Elf(e) => write!(f, "init: {}", e.describe()),
            LoadError::OutOfMemory => f.write_str("out of memory building the root task"),
        }
    }
}

impl From<crate::arch::paging::MapError> for LoadError {
    fn from(_: crate::arch::paging::MapError) -> Self {
        LoadError::OutOfMemory
    }
}

/// Builds the root task from the initramfs member `init`.
pub fn load_root(boot: &BootInfo) -> Result<Box<Task>, LoadError> {
    let range = boot.initramfs.ok_or(LoadError::NoInitramfs)?;
    // SAFETY: the module is RAM outside the page allocator, mapped in the direct map, and never
    // written while the kernel runs.
    let bytes = unsafe { core::slice::from_raw_parts(crate::mem::phys_to_virt(range.start), range.len as usize) };
    let fs = Initramfs::new(bytes).map_err(LoadError::Initramfs)?;
    let image = fs.find("init").map_err(LoadError::Initramfs)?;
    let plan = elfload::plan(image).map_err(LoadError::Elf)?;

    let mut vs = VSpace::new().ok_or(LoadError::OutOfMemory)?;
    let page = PAGE_SIZE as u64;
    for seg in plan.segments() {
        let access = Access { write: seg.write, execute: seg.execute };
        let mut v = seg.page_start();
        while v < seg.page_end() {
            vs.map_new(v, access)?;
            v += page;
        }
        vs.write_bytes(seg.vaddr, seg.data(image))?;
    }

    // The stack, below an unmapped guard page.
    let stack_bottom = (ROOT_STACK_TOP - ROOT_STACK_SIZE) as u64;
    let mut v = stack_bottom;
    while v < ROOT_STACK_TOP as u64 {
        vs.map_new(v, Access { write: true, execute: false })?;
        v += page;
    }

    // The initramfs, lent read-only.
    let first = range.start & !(page - 1);
    let end = (range.start + range.len).next_multiple_of(page);
    let mut p = first;
    while p < end {
        vs.map(ROOT_INITRAMFS_ADDR as u64 + (p - first), p, Access { write: false, execute: false }, false)?;
        p += page;
    }

    // The boot information page.
    vs.map_new(ROOT_INFO_ADDR as u64, Access { write: false, execute: false })?;
    let frames = crate::mem::FRAMES.lock();
    let mut info = RootInfo {
        magic: ROOT_INFO_MAGIC,
        version: ROOT_INFO_VERSION,
        boot_protocol: match boot.protocol {
            Protocol::Pvh => abi::rootinfo::protocol::PVH,
            Protocol::Limine { .. } => abi::rootinfo::protocol::LIMINE,
        },
        initramfs_addr: ROOT_INITRAMFS_ADDR as u64 + (range.start - first),
        initramfs_len: range.len,
        mem_total: frames.total_pages() * page,
        mem_free: frames.free_pages() * page,
        tsc_hz: crate::arch::apic::tsc_hz(),
        cmdline_len: boot.cmdline().len() as u64,
        cmdline: [0; abi::rootinfo::CMDLINE_MAX],
    };
    drop(frames);
    info.cmdline[..boot.cmdline().len()].copy_from_slice(boot.cmdline());
    // SAFETY: `RootInfo` is `repr(C)` plain data; viewing it as bytes reads no padding that is
    // uninitialised (every field is written above and the struct has no padding between them).
    let info_bytes =
        unsafe { core::slice::from_raw_parts((&raw const info).cast::<u8>(), core::mem::size_of::<RootInfo>()) };
    vs.write_bytes(ROOT_INFO_ADDR as u64, info_bytes)?;

    let mut ctx = UserContext::new(plan.entry, ROOT_STACK_TOP as u64);
    ctx.rdi = ROOT_INFO_ADDR as u64;
    Ok(Box::new(Task { ctx, vspace: vs, id: 1, name: "init" }))
}

static CURRENT: RacyCell<Option<Box<Task>>> = RacyCell::new(None);

/// Makes `task` the running task.
pub fn set_current(task: Box<Task>) {
    // SAFETY: one CPU, interrupts off; no reference into CURRENT is alive across this call.
    unsafe { *CURRENT.get() = Some(task) }
}

/// The running task.
pub fn current() -> Option<&'static mut Task> {
    // SAFETY: one CPU, interrupts off; callers hold the reference only within one kernel entry.
    unsafe { (*CURRENT.get()).as_deref_mut() }
}

/// Removes and returns the running task.
pub fn take_current() -> Option<Box<Task>> {
    // SAFETY: as in `current`.
    let task = unsafe { (*CURRENT.get()).take() };
    if let Some(t) = &task {
        context::forget_fpu_owner(&raw const t.ctx);
    }
    task
}

/// Returns to the running task. If its registers cannot be entered (a bad RIP or FS base), it
/// is treated as having faulted.
pub fn resume() -> ! {
    let Some(task) = current() else { crate::uapi::no_task_left() };
    match context::validate(&mut task.ctx) {
        // SAFETY: the context lives in a boxed task that stays current until the next kernel
        // entry; its address space shares the kernel's upper half.
        Ok(()) => unsafe { context::enter_user(&raw mut task.ctx, task.vspace.root()) },
        Err(why) => crate::uapi::bad_context(why),
    }
}
