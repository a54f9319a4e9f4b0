//! Starting one program: its image loaded into a fresh VSpace, a fresh CSpace holding exactly
//! the capabilities its manifest lists (`docs/manifest.md`), its stack and start page, and its
//! Task, with Mercury as its fault endpoint and exit Note.
//!
//! Every object a program gets is made from one Memory split off the root Memory for it
//! ([`Spawned::memory`]), so taking the program apart is one revoke of that Memory: every
//! capability made from it, Mercury's and the program's alike, goes, and every page comes back.
//! Nothing of a program is ever mapped in Mercury's own VSpace but while Mercury fills a page
//! (its image, its start page), so that revoke unmaps nothing Mercury uses.
//!
//! A step that fails leaves nothing behind: the caller revokes the Memory ([`discard`]).
//!
//! This is the one module of Mercury with `unsafe` code: the `sys` calls that take a task's
//! address space or registers in hand, or end objects, are `unsafe` for what they could do to the
//! caller's own memory; here they are only ever made on a program's objects, never on Mercury's,
//! as each block says.
#![allow(unsafe_code, reason = "the sys calls that give a program its spaces and end it; see above")]

use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;

use loader::elf::{Image, LoadPlan};
use loader::manifest::placement::{CONSOLE_SLOT, TASK_SLOT, cspace_slot};
use loader::manifest::{DEFAULT_RADIX, Kind, Manifest};
use sys::abi::ioport::CONSOLE_PORTS;
use sys::abi::layout::{IPC_BUFFER_ADDR, PAGE_SIZE, ROOT_STACK_TOP, START_INFO_ADDR};
use sys::abi::object::Kind as ObjectKind;
use sys::abi::start::{StartError, Writer};
use sys::abi::task::Registers;
use sys::mmap::{self, Place};
use sys::notify::{Note, Timer};
use sys::vspace::{MAX_PAGE_COUNT, access};
use sys::{CSpace, Cap, Endpoint, Memory, Page, Slot, Task, VSpace, rights, root};

/// Where the main thread's IPC buffer Page goes in a program's CSpace (one of the slots the
/// manifest placement keeps for Mercury's use).
pub const IPC_BUFFER_SLOT: u32 = 3;

/// Where the standard streams go in a program's CSpace: `stdin`, `stdout`, `stderr` in slots 4,
/// 5 and 6 (slots the manifest placement keeps for Mercury's use).
pub const STREAM_SLOTS: u32 = 4;

/// The Memory a program without a manifest gets for its heap, threads and mappings (1 MiB).
pub const DEFAULT_MEMORY_PAGES: usize = 256;

/// Pages of every program's main stack (64 KiB), below [`ROOT_STACK_TOP`] with an unmapped
/// guard page under it.
pub const STACK_PAGES: usize = 16;

/// The priority programs run at: below Mercury's, so that supervision answers at once.
pub const PROGRAM_PRIORITY: usize = sys::task::ROOT_PRIORITY - 10;

/// Pages set aside beyond what a program's objects and image cost: page tables (a few per
/// region of its address space) and slack.
const OVERHEAD_PAGES: usize = 48;

/// The Note bit the kernel log signals on the console driver's first Note (`log.bits`).
pub const LOG_BIT: usize = 1 << 63;

/// Why a program could not be started.
#[derive(Debug)]
pub enum SpawnError {
    /// Its ELF file.
    Elf(&'static str),
    /// Its manifest, with every refusal (`LINE: reason`).
    Manifest(String),
    /// A kind of capability Mercury cannot give yet.
    Unsupported(&'static str),
    /// The start page would not hold it all.
    StartPage(StartError),
    /// A system call failed, doing this.
    Sys(&'static str, sys::Error),
}

impl fmt::Display for SpawnError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SpawnError::Elf(why) => write!(f, "bad ELF file: {why}"),
            SpawnError::Manifest(why) => write!(f, "bad manifest: {why}"),
            SpawnError::Unsupported(what) => write!(f, "its manifest asks for {what}, which Mercury cannot give yet"),
            SpawnError::StartPage(e) => write!(f, "its start page would not hold everything: {e:?}"),
            SpawnError::Sys(what, e) => write!(f, "{what} failed: {e:?}"),
        }
    }
}

/// Turns a `sys` error into a [`SpawnError`] naming the step.
trait Step<T> {
    fn step(self, what: &'static str) -> Result<T, SpawnError>;
}

impl<T> Step<T> for sys::Result<T> {
    fn step(self, what: &'static str) -> Result<T, SpawnError> {
        self.map_err(|e| SpawnError::Sys(what, e))
    }
}

/// What Mercury needs from outside to start a program.
pub struct Context<'a> {
    /// Where faults go: Mercury's endpoint, badged for this program.
    pub fault_endpoint: Endpoint,
    /// Mercury's event Note, and this program's bit on it (its exit).
    pub events: Note,
    pub exit_bit: usize,
    /// The services its manifest may name, with the endpoint of the program providing each.
    pub services: &'a [(&'a str, Endpoint)],
    /// The badge clients' capabilities to its services carry.
    pub client_badge: usize,
    /// Whether COM1 is still the kernel's (the first driver that asks for its ports takes it).
    pub com1_free: bool,
    /// The TSC's rate, which every program is told (`tsc_hz` in its environment).
    pub tsc_hz: u64,
    /// How many times this boot program has been restarted (`restarts` in its environment; 0
    /// for its first start and for children).
    pub restarts: u32,
    /// Its standard streams (`stdin`, `stdout`, `stderr`), channels in Mercury's CSpace: copies
    /// go to the program's CSpace, slots 4 to 6.
    pub streams: [Option<Cap>; 3],
    /// The screen a `framebuffer` line gets, if the machine has one (`crate::screen`).
    pub screen: Option<crate::screen::Screen>,
    /// `KEY=VALUE` entries its environment gets after its manifest's (a child's, from `proc`).
    pub env: &'a [&'a str],
}

/// A program started.
pub struct Spawned {
    /// The Memory every object of the program was made from.
    pub memory: Memory,
    /// Its Task.
    pub task: Task,
    /// Mercury's copy of the endpoint it serves, for its clients (its first `endpoint` line).
    pub served: Option<Endpoint>,
    /// Whether it took COM1 from the kernel (it is the console driver).
    pub took_com1: bool,
    /// Its CSpace (Mercury's capability to it, gone with its Memory): where a restarted service
    /// is connected again.
    pub cspace: CSpace,
    /// The services its manifest names, each with the slot of its CSpace that holds it.
    pub services: Vec<(String, u32)>,
}

/// Connects `client` again to a service it names that `provider` serves (a restart of the
/// provider made a new Endpoint; the client's old capability went with the old one): a new
/// capability, badged `badge` as the first was, in the same slot of the client's CSpace. Returns
/// how many of its services were connected.
pub fn reconnect(client: &Spawned, provider: Endpoint, provides: &[String], badge: usize) -> sys::Result<usize> {
    let mut n = 0;
    for (name, slot) in &client.services {
        if provides.iter().any(|p| p == name) {
            provider.cap().mint(client.cspace, Slot::At(*slot as usize), rights::WRITE | rights::GRANT, badge)?;
            n += 1;
        }
    }
    Ok(n)
}

/// Ends a program that faulted (the fault's reply right is used up with it).
pub fn end(fault: sys::fault::Fault, task: Task) {
    let status = 0x100 + fault.vector;
    // SAFETY: the program runs in its own CSpace and VSpace, none of which Mercury uses: ending
    // it unmaps nothing of Mercury's (the teardown contract holds).
    let _ = unsafe { fault.kill(task, status) };
}

/// Ends a running program with `status` (`task_kill`).
pub fn kill(task: Task, status: usize) {
    // SAFETY: as in `end`: the program's spaces are none of Mercury's.
    let _ = unsafe { task.kill(status) };
}

/// Takes a program's objects apart: revokes its Memory (every capability made from it, in its
/// CSpace and in Mercury's) and deletes the Memory capability.
pub fn discard(memory: Memory) {
    // SAFETY: nothing made from a program's Memory is mapped in Mercury's VSpace once `spawn`
    // has returned or failed (its scratch mappings are gone), and Mercury's own code uses none of
    // it: the teardown contract holds.
    let _ = unsafe { memory.cap().revoke() };
    // SAFETY: as above; the Memory's last capability goes, and with it the quota.
    let _ = unsafe { memory.cap().delete() };
}

/// Starts the program `name` from `image` with `args`. On failure the Memory it was given is
/// discarded again.
pub fn spawn(name: &str, image: &[u8], args: &[&str], ctx: &Context<'_>) -> Result<Spawned, SpawnError> {
    let image = Image::parse(image).map_err(|e| SpawnError::Elf(e.describe()))?;
    let manifest = match image.manifest().map_err(|e| SpawnError::Elf(e.describe()))? {
        Some(bytes) => Some(Manifest::parse(bytes).map_err(|refusals| {
            let mut why = String::new();
            for r in refusals.iter() {
                let _ = fmt::write(&mut why, format_args!("\n  line {}: {}", r.line, r.reason));
            }
            SpawnError::Manifest(why)
        })?),
        None => None,
    };
    // A framebuffer beyond its line's one Page costs a page for each further Page object.
    let screen_pages = match (&manifest, ctx.screen) {
        (Some(m), Some(screen)) if m.capabilities.iter().any(|c| c.kind == Kind::Framebuffer) => screen.runs().count(),
        _ => 0,
    };
    let pages = budget(image.plan(), manifest.as_ref()) + screen_pages;
    let memory = root::memory().split(pages, Slot::Auto).step("memory_split (the program's Memory)")?;
    match build(name, &image, manifest.as_ref(), args, ctx, memory) {
        Ok(s) => Ok(s),
        Err(e) => {
            discard(memory);
            Err(e)
        }
    }
}

/// Pages a program's Memory needs: its manifest's objects, its image (with a Page header per
/// run), its stack and start page, its VSpace, CSpace (without a manifest) and Task, and
/// [`OVERHEAD_PAGES`].
fn budget(plan: &LoadPlan, manifest: Option<&Manifest<'_>>) -> usize {
    // Without a manifest: the default CSpace, and the Memory its runtime gets (and that Memory's
    // own page).
    let objects = manifest.map_or(
        sys::abi::object::cspace_pages(usize::from(DEFAULT_RADIX)) as u64 + DEFAULT_MEMORY_PAGES as u64 + 1,
        Manifest::object_pages,
    );
    let image: u64 = plan.segments().map(|s| (s.pages().end - s.pages().start) / PAGE_SIZE as u64 * 2).sum();
    (objects + image) as usize + STACK_PAGES + 1 + 2 + 2 + 2 + 1 + OVERHEAD_PAGES
}

/// The objects made so far, to move into the program's CSpace once all exist.
struct Placed {
    /// (capability in Mercury's CSpace, CSpace slot in the program's, move or copy)
    caps: Vec<(Cap, u32, bool)>,
    /// The start page's entries: name, slot, kind.
    entries: Vec<(String, u32, ObjectKind)>,
    env: Vec<String>,
    /// Capabilities that take the lowest free slots once every line and service has its own
    /// (the framebuffer's further Pages), with their start-page names.
    extra: Vec<(Cap, String)>,
    /// The services connected: name, slot.
    services: Vec<(String, u32)>,
}

fn build(
    name: &str,
    image: &Image<'_>,
    manifest: Option<&Manifest<'_>>,
    args: &[&str],
    ctx: &Context<'_>,
    memory: Memory,
) -> Result<Spawned, SpawnError> {
    let radix = manifest.map_or(DEFAULT_RADIX, |m| m.radix);
    let cspace = CSpace::create(memory, usize::from(radix), Slot::Auto).step("cspace_create")?;
    let vspace = VSpace::create(memory, Slot::Auto).step("vspace_create")?;
    let task = Task::create(memory, Slot::Auto).step("task_create")?;
    load_image(image, vspace, memory)?;
    let stack = Page::create(memory, STACK_PAGES, Slot::Auto).step("page_create (the stack)")?;
    let stack_bytes = STACK_PAGES * PAGE_SIZE;
    stack.map(vspace, ROOT_STACK_TOP - stack_bytes, access::RW, memory).step("page_map (the stack)")?;

    // The main thread's IPC buffer: every program gets one, since one without a Memory of its own
    // could make none (the runtime takes it by name).
    let ipc = Page::create(memory, 1, Slot::Auto).step("page_create (the IPC buffer)")?;
    ipc.map(vspace, IPC_BUFFER_ADDR, access::RW, memory).step("page_map (the IPC buffer)")?;
    // SAFETY: the task runs in its own VSpace, where the page is mapped read-write for it alone;
    // nothing of Mercury's is at that address in the task's space.
    unsafe { sys::ipc::task_set_ipc_buffer(task.slot(), IPC_BUFFER_ADDR) }.step("task_set_ipc_buffer")?;

    let mut placed =
        Placed { caps: Vec::new(), entries: Vec::new(), env: Vec::new(), extra: Vec::new(), services: Vec::new() };
    placed.caps.push((task.cap(), TASK_SLOT, true));
    placed.entries.push((String::from("task"), TASK_SLOT, ObjectKind::Task));
    placed.caps.push((ipc.cap(), IPC_BUFFER_SLOT, false));
    placed.entries.push((String::from(sys::abi::start::names::IPC_BUFFER), IPC_BUFFER_SLOT, ObjectKind::Page));
    let mut took_com1 = false;
    let mut served = None;
    match manifest {
        Some(m) => {
            took_com1 = capabilities(m, ctx, memory, cspace, vspace, &mut placed, &mut served)?;
            services(m, ctx, &mut placed)?;
            place_extra(radix, &mut placed)?;
            placed.env.extend(m.environment());
        }
        None => {
            // A program without a manifest gets what the runtime needs: its CSpace and VSpace,
            // and a Memory of its own for its heap and threads.
            let mem = memory.split(DEFAULT_MEMORY_PAGES, Slot::Auto).step("memory_split (the program's heap)")?;
            for (cap, slot, kind, n) in [
                (cspace.cap(), 8, ObjectKind::CSpace, "cspace"),
                (vspace.cap(), 9, ObjectKind::VSpace, "vspace"),
                (mem.cap(), 10, ObjectKind::Memory, "memory"),
            ] {
                placed.caps.push((cap, slot, cap != mem.cap()));
                placed.entries.push((String::from(n), slot, kind));
            }
        }
    }
    // Its standard streams, copies of the channels it was given.
    for (n, (cap, name)) in ctx.streams.iter().zip(["stdin", "stdout", "stderr"]).enumerate() {
        if let Some(cap) = cap {
            let slot = STREAM_SLOTS + n as u32;
            placed.caps.push((*cap, slot, true));
            placed.entries.push((String::from(name), slot, ObjectKind::Endpoint));
        }
    }
    // The console, with READ: the console driver drains the kernel log, `dmesg` shows it.
    let console_rights = rights::READ | rights::WRITE;
    let console = root::console()
        .copy(sys::process::cspace().unwrap_or(root::cspace()), Slot::Auto, console_rights)
        .step("cap_copy (the console)")?;
    placed.caps.push((console, CONSOLE_SLOT, false));
    placed.entries.push((String::from("console"), CONSOLE_SLOT, ObjectKind::DebugConsole));

    // Everything into the program's CSpace.
    for &(cap, slot, copy) in &placed.caps {
        let r = if copy {
            cap.copy(cspace, Slot::At(slot as usize), rights::ALL).map(drop)
        } else {
            cap.move_to(cspace, Slot::At(slot as usize)).map(drop)
        };
        r.step("placing a capability in the program's CSpace")?;
    }

    // The start page.
    let mut w = Writer::new(u32::from(radix), 7, ROOT_STACK_TOP as u64, stack_bytes as u64);
    for (n, slot, kind) in &placed.entries {
        w.cap(n, *slot, *kind as u32).map_err(SpawnError::StartPage)?;
    }
    let mut argv: Vec<&str> = Vec::with_capacity(args.len() + 1);
    argv.push(name);
    argv.extend_from_slice(args);
    w.args(&argv).map_err(SpawnError::StartPage)?;
    placed.env.extend(ctx.env.iter().map(|e| String::from(*e)));
    placed.env.push(alloc::format!("tsc_hz={}", ctx.tsc_hz));
    placed.env.push(alloc::format!("restarts={}", ctx.restarts));
    let env: Vec<&str> = placed.env.iter().map(String::as_str).collect();
    w.env(&env).map_err(SpawnError::StartPage)?;
    let page = w.finish().map_err(SpawnError::StartPage)?;
    let start = Page::create(memory, 1, Slot::Auto).step("page_create (the start page)")?;
    fill(start, 0, &page)?;
    start.map(vspace, START_INFO_ADDR, access::R, memory).step("page_map (the start page)")?;

    // The Task.
    // SAFETY: the task runs in its own VSpace and CSpace, which hold nothing of Mercury's; giving
    // it spaces drops nothing (it had none), and what code it runs there is no concern of
    // Mercury's memory (the code contract is about the caller's address space).
    unsafe { task.set_space(cspace, vspace) }.step("task_set_space")?;
    let regs = Registers {
        rip: image.plan().entry,
        rsp: ROOT_STACK_TOP as u64,
        rdi: START_INFO_ADDR as u64,
        rflags: 0x202,
        ..Registers::default()
    };
    // SAFETY: as above: the registers are for a task in another address space.
    unsafe { task.write_regs(&regs) }.step("task_write_regs")?;
    task.set_priority(sys::task::root_task(), PROGRAM_PRIORITY, PROGRAM_PRIORITY).step("task_set_priority")?;
    task.set_fault_endpoint(Some(ctx.fault_endpoint)).step("task_set_fault_endpoint")?;
    task.set_exit_note(Some(ctx.events), ctx.exit_bit).step("task_set_exit_note")?;
    task.start().step("task_start")?;
    Ok(Spawned { memory, task, served, took_com1, cspace, services: placed.services })
}

/// Runs `f` on the bytes of `page`, through a mapping in Mercury's own VSpace that is gone when
/// this returns.
fn fill_with(page: Page, f: impl FnOnce(&mut [u8])) -> Result<(), SpawnError> {
    let mut m = mmap::map_page(page, access::RW, Place::Anywhere).map_err(|e| match e {
        mmap::MapError::Sys(e) => SpawnError::Sys("mapping a page to fill it", e),
        _ => SpawnError::Sys("mapping a page to fill it", sys::Error::Abi(sys::abi::Error::OutOfMemory)),
    })?;
    if let Some(bytes) = m.bytes_mut() {
        f(bytes);
    }
    m.unmap().map_err(|_| SpawnError::Sys("unmapping a filled page", sys::Error::Abi(sys::abi::Error::InvalidState)))
}

/// Copies `data` into `page` at `offset`.
fn fill(page: Page, offset: usize, data: &[u8]) -> Result<(), SpawnError> {
    fill_with(page, |bytes| bytes[offset..offset + data.len()].copy_from_slice(data))
}

/// Loads every segment: runs of pages (powers of two, largest first), filled with the file's
/// bytes (and zeros) and mapped with the segment's rights.
fn load_image(image: &Image<'_>, vspace: VSpace, memory: Memory) -> Result<(), SpawnError> {
    let bytes = image.bytes();
    for seg in image.plan().segments() {
        let fills: Vec<_> = seg.page_fills().collect();
        let mut at = 0;
        while at < fills.len() {
            let left = fills.len() - at;
            let count = (1usize << left.ilog2()).min(MAX_PAGE_COUNT);
            let page = Page::create(memory, count, Slot::Auto).step("page_create (the image)")?;
            let run = &fills[at..at + count];
            if run.iter().any(|f| !f.file.is_empty()) {
                fill_with(page, |dst| {
                    for (i, f) in run.iter().enumerate().filter(|(_, f)| !f.file.is_empty()) {
                        let to = i * PAGE_SIZE + f.offset;
                        dst[to..to + f.file.len()].copy_from_slice(&bytes[f.file.clone()]);
                    }
                })?;
            }
            page.map(vspace, fills[at].vaddr as usize, seg.rights, memory).step("page_map (the image)")?;
            at += count;
        }
    }
    Ok(())
}

/// Makes every capability line's object (in Mercury's CSpace, to be placed afterwards); returns
/// whether the program took COM1.
fn capabilities(
    m: &Manifest<'_>,
    ctx: &Context<'_>,
    memory: Memory,
    cspace: CSpace,
    vspace: VSpace,
    placed: &mut Placed,
    served: &mut Option<Endpoint>,
) -> Result<bool, SpawnError> {
    let mut notes: Vec<(u32, Note)> = Vec::new();
    let mut took_com1 = false;
    let mut log_from = 0;
    // Notes first: IRQ lines name them.
    for c in m.capabilities.iter().filter(|c| c.kind == Kind::Note) {
        let n = Note::create(memory, Slot::Auto).step("note_create")?;
        notes.push((c.slot, n));
    }
    for c in &m.capabilities {
        let slot = cspace_slot(c.slot);
        let (cap, copy): (Cap, bool) = match c.kind {
            Kind::Endpoint => {
                let e = Endpoint::create(memory, Slot::Auto).step("endpoint_create")?;
                if served.is_none() {
                    *served = Some(e);
                }
                (e.cap(), true)
            }
            Kind::IoPort { min, max } => {
                let (min, max) = (min as usize, max as usize);
                if min < CONSOLE_PORTS.1 && CONSOLE_PORTS.0 < max && ctx.com1_free {
                    // The driver drains the log from here: the release's own line on.
                    log_from = crate::console::log_end();
                    root::ioport_control().release_console().step("console_release (COM1 for the console driver)")?;
                    took_com1 = true;
                }
                let p = root::ioport_control().create(min, max, memory, Slot::Auto).step("ioport_create")?;
                (p.cap(), false)
            }
            Kind::Note => {
                let Some(&(_, n)) = notes.iter().find(|(s, _)| *s == c.slot) else { continue };
                (n.cap(), false)
            }
            Kind::Irq { irq, note, bits } => {
                let Some(&(_, n)) = notes.iter().find(|(s, _)| *s == note) else {
                    return Err(SpawnError::Unsupported("an IRQ on no Note"));
                };
                let h = sys::notify::IrqControl::root()
                    .bind(usize::from(irq), n, bits as usize, memory, Slot::Auto)
                    .step("irq_bind")?;
                (h.cap(), false)
            }
            Kind::Memory { pages } => {
                let mem = memory.split(pages as usize, Slot::Auto).step("memory_split (a memory line)")?;
                (mem.cap(), false)
            }
            Kind::Timer => (Timer::create(memory, Slot::Auto).step("timer_create")?.cap(), false),
            Kind::CSpace => (cspace.cap(), true),
            Kind::VSpace => (vspace.cap(), true),
            Kind::Dma { pages } => {
                (Page::create(memory, pages as usize, Slot::Auto).step("page_create (dma)")?.cap(), false)
            }
            Kind::Mmio { phys, pages } => {
                if !pages.is_power_of_two() || pages as usize > MAX_PAGE_COUNT {
                    return Err(SpawnError::Unsupported("an mmio line of other than a power of two pages up to 512"));
                }
                let p = root::device_control()
                    .create_page(phys as usize, pages as usize, memory, Slot::Auto)
                    .step("page_create_device (mmio)")?;
                (p.cap(), false)
            }
            Kind::Framebuffer => {
                // Without a screen the line gives nothing: the driver finds no `framebuffer` in
                // its start page and goes on without one.
                let Some(screen) = ctx.screen else { continue };
                let mut first = None;
                let mut at = screen.phys as usize;
                for (i, count) in screen.runs().enumerate() {
                    let p = root::device_control()
                        .create_page(at, count, memory, Slot::Auto)
                        .step("page_create_device (the framebuffer)")?;
                    match i {
                        0 => first = Some(p.cap()),
                        _ => placed.extra.push((p.cap(), alloc::format!("framebuffer.{i}"))),
                    }
                    at += count * PAGE_SIZE;
                }
                placed.env.extend(screen.environment());
                let Some(first) = first else { continue };
                (first, false)
            }
        };
        placed.caps.push((cap, slot, copy));
        placed.entries.push((c.start_name(), slot, c.kind.object_kind()));
    }
    if took_com1 {
        // The console driver drains the kernel log: its first Note is signalled when the log grows.
        let Some(&(_, note)) = notes.first() else {
            return Err(SpawnError::Unsupported("COM1 without a Note to signal the kernel log on"));
        };
        root::ioport_control().set_log_note(Some(note), LOG_BIT).step("log_set_note")?;
        placed.env.push(alloc::format!("log.bits={LOG_BIT:#x}"));
        placed.env.push(alloc::format!("log.from={log_from}"));
    }
    Ok(took_com1)
}

/// Gives each of `placed.extra` the lowest CSpace slot from the manifest's base up that nothing
/// holds, below the runtime's own slots at the top.
fn place_extra(radix: u8, placed: &mut Placed) -> Result<(), SpawnError> {
    let top = (1u32 << radix).saturating_sub(sys::abi::start::RUNTIME_SLOTS as u32);
    let mut next = cspace_slot(0);
    for (cap, name) in core::mem::take(&mut placed.extra) {
        while placed.caps.iter().any(|&(_, s, _)| s == next) {
            next += 1;
        }
        if next >= top {
            return Err(SpawnError::Unsupported("more framebuffer Pages than its CSpace has free slots"));
        }
        placed.caps.push((cap, next, false));
        placed.entries.push((name, next, ObjectKind::Page));
    }
    Ok(())
}

/// Connects every service the manifest names to the program that provides it: a copy of that
/// program's endpoint, badged for this client, in the service's slot.
fn services(m: &Manifest<'_>, ctx: &Context<'_>, placed: &mut Placed) -> Result<(), SpawnError> {
    for s in &m.services {
        let Some(&(_, endpoint)) = ctx.services.iter().find(|(n, _)| *n == s.name) else {
            return Err(SpawnError::Unsupported("a service no program started before it provides"));
        };
        let mercury = sys::process::cspace().unwrap_or(root::cspace());
        let cap = endpoint
            .mint(mercury, Slot::Auto, rights::WRITE | rights::GRANT, ctx.client_badge)
            .step("cap_mint (a service)")?;
        let slot = cspace_slot(s.slot);
        placed.caps.push((cap, slot, false));
        placed.entries.push((String::from(s.name), slot, ObjectKind::Endpoint));
        placed.services.push((String::from(s.name), slot));
    }
    Ok(())
}
