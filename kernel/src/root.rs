//! The root task: built from the initramfs member `init` as `docs/abi.md` describes: its
//! address space, its start page (`abi::start`, with the root task's `RootInfo`), and the
//! capabilities `abi::bootcaps` lists.

use abi::bootcaps::{
    FIRST_FREE, ROOT_CSPACE, ROOT_CSPACE_RADIX, ROOT_DEBUG_CONSOLE, ROOT_DEVICE_CONTROL, ROOT_IOPORT_CONTROL,
    ROOT_IRQ_CONTROL, ROOT_MEMORY, ROOT_TASK, ROOT_VSPACE,
};
use abi::layout::{PAGE_SIZE, ROOT_INITRAMFS_ADDR, ROOT_STACK_SIZE, ROOT_STACK_TOP, START_INFO_ADDR};
use abi::object::Kind as K;
use abi::rootinfo::{Framebuffer, ROOT_INFO_MAGIC, ROOT_INFO_VERSION, RootInfo};
use abi::start::{self, names};
use abi::task::{MAX_PRIORITY, ROOT_PRIORITY, State};

use crate::boot::{BootInfo, Protocol};
use crate::initramfs::Initramfs;
use crate::mem::vspace::{Access, VSpace};
use crate::object::cdt::Cap;
use crate::object::{Kind, ObjRef, cspace, memory, task, vspace};

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
    /// The root task's capabilities could not be made.
    Objects(abi::Error),
    /// The start page could not be built.
    StartPage(start::StartError),
}

impl core::fmt::Display for LoadError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            LoadError::NoInitramfs => f.write_str("no initramfs was passed (use -initrd or a Limine module)"),
            LoadError::Initramfs(e) => write!(f, "initramfs: {}", e.describe()),
            LoadError::Elf(e) => write!(f, "init: {}", e.describe()),
            LoadError::OutOfMemory => f.write_str("out of memory building the root task"),
            LoadError::Objects(e) => write!(f, "cannot make the root capabilities: {e}"),
            LoadError::StartPage(e) => write!(f, "cannot build the start page: {e:?}"),
        }
    }
}

impl From<crate::arch::paging::MapError> for LoadError {
    fn from(_: crate::arch::paging::MapError) -> Self {
        LoadError::OutOfMemory
    }
}

/// Builds the root task from the initramfs member `init`; it is runnable when this returns.
pub fn load_root(boot: &BootInfo) -> Result<ObjRef, LoadError> {
    let range = boot.initramfs.ok_or(LoadError::NoInitramfs)?;
    // SAFETY: the module is RAM outside the page allocator, mapped in the direct map, and never
    // written while the kernel runs.
    let bytes = unsafe { core::slice::from_raw_parts(crate::mem::phys_to_virt(range.start), range.len as usize) };
    let fs = Initramfs::new(bytes).map_err(LoadError::Initramfs)?;
    let image = fs.find("init").map_err(LoadError::Initramfs)?;
    let plan = elfload::plan(image).map_err(LoadError::Elf)?;

    let vs = VSpace::new().ok_or(LoadError::OutOfMemory)?;
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

    // The start page.
    vs.map_new(START_INFO_ADDR as u64, Access { write: false, execute: false })?;
    let (task, quota) = root_capabilities(vs, plan.entry).map_err(LoadError::Objects)?;
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
        tsc_hz: crate::arch::clock::tsc_hz(),
        cmdline_len: boot.cmdline().len() as u64,
        cmdline: [0; abi::rootinfo::CMDLINE_MAX],
        cspace_radix: ROOT_CSPACE_RADIX as u64,
        memory_quota: quota,
        framebuffer: boot.framebuffer.and_then(framebuffer).unwrap_or(Framebuffer::NONE),
    };
    drop(frames);
    info.cmdline[..boot.cmdline().len()].copy_from_slice(boot.cmdline());
    let page = start_page(&info).map_err(LoadError::StartPage)?;
    vs.write_bytes(START_INFO_ADDR as u64, &page)?;
    task::get(task).state.set(State::Runnable);
    crate::sched::enqueue(task);
    Ok(task)
}

/// The loader's framebuffer as the root task is told of it; `None` (no framebuffer) if a
/// dimension does not fit the ABI's fields.
fn framebuffer(fb: crate::boot::Framebuffer) -> Option<Framebuffer> {
    let m = fb.masks;
    Some(Framebuffer {
        addr: fb.phys,
        width: u32::try_from(fb.width).ok()?,
        height: u32::try_from(fb.height).ok()?,
        pitch: u32::try_from(fb.pitch).ok()?,
        bpp: u32::from(fb.bpp),
        format: [m[0], m[1], m[2], m[3], m[4], m[5], 0, 0],
    })
}

/// The root task's capabilities as its start page names them (`abi::start::names` for the
/// runtime's own).
const START_CAPS: [(&str, usize, K); 8] = [
    (names::CSPACE, ROOT_CSPACE, K::CSpace),
    (names::MEMORY, ROOT_MEMORY, K::Memory),
    (names::CONSOLE, ROOT_DEBUG_CONSOLE, K::DebugConsole),
    ("irq-control", ROOT_IRQ_CONTROL, K::IrqControl),
    ("ioport-control", ROOT_IOPORT_CONTROL, K::IoPortControl),
    ("device-control", ROOT_DEVICE_CONTROL, K::DeviceControl),
    (names::TASK, ROOT_TASK, K::Task),
    (names::VSPACE, ROOT_VSPACE, K::VSpace),
];

/// The root task's start page: its capabilities, its name as `argv[0]`, no environment, and its
/// `RootInfo`.
fn start_page(info: &RootInfo) -> Result<[u8; PAGE_SIZE], start::StartError> {
    let mut w =
        start::Writer::new(ROOT_CSPACE_RADIX as u32, FIRST_FREE as u32, ROOT_STACK_TOP as u64, ROOT_STACK_SIZE as u64);
    for (name, slot, kind) in START_CAPS {
        w.cap(name, slot as u32, kind as u32)?;
    }
    w.args(&["init"])?.root(info)?.finish()
}

/// Makes the root task's objects (its Task, CSpace and VSpace) and fills its CSpace as
/// `abi::bootcaps` lays out; the task will start at `entry` with `rdi = START_INFO_ADDR`. Returns
/// the task and the root Memory's quota.
fn root_capabilities(space: VSpace, entry: u64) -> Result<(ObjRef, u64), abi::Error> {
    use abi::object::rights::{ALL, READ, WRITE};
    crate::object::global::with(|ctx| {
        let cs = cspace::create_root(ctx, ROOT_CSPACE_RADIX, FIRST_FREE as u32)?;
        let vs = vspace::create_root(ctx, space)?;
        let t = task::create_task(ctx, None)?;
        // The Memory object's own page comes out of the pages it accounts for.
        let quota = ctx.pages.free_pages().saturating_sub(1);
        let mem = memory::create_root(ctx, quota)?;
        let caps = [
            (ROOT_CSPACE, Cap { kind: Kind::CSpace, rights: ALL as u8, badge: 0, obj: Some(cs) }),
            (ROOT_MEMORY, Cap { kind: Kind::Memory, rights: ALL as u8, badge: 0, obj: Some(mem) }),
            (ROOT_DEBUG_CONSOLE, Cap { kind: Kind::DebugConsole, rights: (READ | WRITE) as u8, badge: 0, obj: None }),
            (ROOT_IOPORT_CONTROL, Cap { kind: Kind::IoPortControl, rights: ALL as u8, badge: 0, obj: None }),
            (ROOT_DEVICE_CONTROL, Cap { kind: Kind::DeviceControl, rights: ALL as u8, badge: 0, obj: None }),
            (ROOT_IRQ_CONTROL, Cap { kind: Kind::IrqControl, rights: ALL as u8, badge: 0, obj: None }),
            (ROOT_TASK, Cap { kind: Kind::Task, rights: ALL as u8, badge: 0, obj: Some(t) }),
            (ROOT_VSPACE, Cap { kind: Kind::VSpace, rights: ALL as u8, badge: 0, obj: Some(vs) }),
        ];
        for (index, cap) in caps {
            cspace::insert(None, cspace::slot(cs, index as u64)?, &cap)?;
        }
        let task = task::get(t);
        task.ctx.reset(entry, ROOT_STACK_TOP as u64, START_INFO_ADDR as u64);
        task.priority.set(ROOT_PRIORITY as u8);
        task.max_priority.set(MAX_PRIORITY as u8);
        task.is_root.set(true);
        cs.acquire();
        vs.acquire();
        task.cspace.set(Some(cs));
        task.vspace.set(Some(vs));
        Ok((t, quota))
    })
}
